/*
 * A small PNG made on the spot, for the logo an admin uploads: a square
 * of one colour with a lighter band across, so a screenshot shows it.
 * Written from the PNG specification (signature, IHDR, one zlib IDAT,
 * IEND; each chunk with its CRC-32).
 */
import zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;

	for (let k = 0; k < 8; k++)
		c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(buf) {
	let c = 0xffffffff;

	for (const byte of buf)
		c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
	const head = Buffer.alloc(8);
	const crc = Buffer.alloc(4);
	const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);

	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'ascii');
	crc.writeUInt32BE(crc32(typed), 0);
	return Buffer.concat([head, data, crc]);
}

/* A size x size RGB PNG of colour "#rrggbb". */
export function makePng(size, colour) {
	const rgb = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
	const light = rgb.map((v) => Math.min(255, v + 96));
	const ihdr = Buffer.alloc(13);
	const rows = [];

	ihdr.writeUInt32BE(size, 0);
	ihdr.writeUInt32BE(size, 4);
	ihdr.writeUInt8(8, 8);		/* bit depth */
	ihdr.writeUInt8(2, 9);		/* colour type: RGB */
	for (let y = 0; y < size; y++) {
		const band = y > size / 3 && y < (2 * size) / 3;
		const px = band ? light : rgb;
		const row = Buffer.alloc(1 + 3 * size);	/* filter 0 */

		for (let x = 0; x < size; x++)
			row.set(px, 1 + 3 * x);
		rows.push(row);
	}
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr),
		chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
		chunk('IEND', Buffer.alloc(0)),
	]);
}
