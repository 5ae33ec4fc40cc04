/*
 * The academy's logo on the certificate's PDF when it is a JPEG or a
 * WebP, not only a PNG. The logos are fixtures (fixtures/logo-red.jpg:
 * 120 x 40 pure red; fixtures/logo-red.webp: the same, lossless, its
 * top and bottom six rows transparent), made once with libturbojpeg and
 * libwebp because Node has no encoder for either. The PDF is turned
 * into a PNG by pdftoppm (poppler-utils, which tests/run installs) at
 * 50 dpi and the logo's box read back: red where the logo is, and white
 * where the WebP is transparent; before any logo is uploaded the box
 * holds no red.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';

import {
	lmsTest, setupMother, addWorkspace, waitFor, tmpPath,
} from './lib/harness.mjs';
import {
	request, addUser, bearer, completeCourse,
} from './lib/api.mjs';

const COURSE = 'hygiene-basics';
const FIXTURES = new URL('./fixtures/', import.meta.url);
const DPI = 50;

/* Points of the PDF (1/72 inch) as pixels of the picture. */
const px = (pt) => Math.round(pt * DPI / 72);

/*
 * The logo's box is 160 x 60 pt at 56, 48 (workspace/certpdf.c); a
 * 120 x 40 logo fills its width, 160 x 53.3 pt from y = 51.3 pt. Where
 * the logo is red (also in the WebP, whose rows 6 to 33 are opaque),
 * with a margin for the smoothing of the scaled image:
 */
const RED_AREA = { x0: px(62), x1: px(210), y0: px(62), y1: px(90) };
/* the WebP's transparent top rows: 51.3 to 59.3 pt */
const CLEAR_AREA = { x0: px(62), x1: px(210), y0: px(54), y1: px(56) };

/*
 * The pixels of a PNG as pdftoppm writes it: 8 bits a sample, grey,
 * RGB or RGBA, not interlaced. Resolves to { width, height, rgb(x, y) }.
 */
function readPng(buf) {
	assert.equal(buf.subarray(1, 4).toString(), 'PNG');
	let pos = 8, width = 0, height = 0, channels = 0;
	const idat = [];

	while (pos < buf.length) {
		const len = buf.readUInt32BE(pos);
		const type = buf.subarray(pos + 4, pos + 8).toString();
		const data = buf.subarray(pos + 8, pos + 8 + len);

		if (type === 'IHDR') {
			width = data.readUInt32BE(0);
			height = data.readUInt32BE(4);
			assert.equal(data[8], 8, 'bit depth');
			assert.equal(data[12], 0, 'interlace');
			channels = { 0: 1, 2: 3, 6: 4 }[data[9]];
			assert.ok(channels, `colour type ${data[9]}`);
		} else if (type === 'IDAT') {
			idat.push(data);
		}
		pos += 12 + len;
	}
	const raw = zlib.inflateSync(Buffer.concat(idat));
	const stride = width * channels;
	const pixels = Buffer.alloc(stride * height);

	for (let y = 0; y < height; y++) {
		const filter = raw[y * (stride + 1)];
		const line = raw.subarray(y * (stride + 1) + 1,
					  (y + 1) * (stride + 1));
		const out = pixels.subarray(y * stride, (y + 1) * stride);
		const prev = y ? pixels.subarray((y - 1) * stride, y * stride) :
			Buffer.alloc(stride);

		for (let i = 0; i < stride; i++) {
			const a = i >= channels ? out[i - channels] : 0;
			const b = prev[i];
			const c = i >= channels ? prev[i - channels] : 0;
			const p = a + b - c;
			const pa = Math.abs(p - a), pb = Math.abs(p - b);
			const pc = Math.abs(p - c);
			const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
			const add = [0, a, b, (a + b) >> 1, paeth][filter];

			assert.notEqual(add, undefined, `filter ${filter}`);
			out[i] = (line[i] + add) & 0xff;
		}
	}
	return {
		width, height,
		rgb(x, y) {
			const o = y * stride + x * channels;
			return channels === 1 ? [pixels[o], pixels[o], pixels[o]] :
				[pixels[o], pixels[o + 1], pixels[o + 2]];
		},
	};
}

/* The share of the pixels in area that match(r, g, b). */
function share(picture, area, match) {
	let hits = 0, all = 0;

	for (let y = area.y0; y <= area.y1; y++)
		for (let x = area.x0; x <= area.x1; x++, all++)
			hits += match(...picture.rgb(x, y)) ? 1 : 0;
	return hits / all;
}

const red = (r, g, b) => r >= 200 && g <= 60 && b <= 60;
const white = (r, g, b) => r >= 230 && g >= 230 && b >= 230;

/* The certificate's PDF as a picture (pdftoppm -png -r 50). */
async function picture(ws, headers, id, name) {
	const pdf = await request(ws, 'GET', `/api/v1/certificates/${id}/pdf`,
				  { headers });
	assert.equal(pdf.status, 200, pdf.text);
	assert.equal(pdf.bytes.subarray(0, 5).toString(), '%PDF-');
	const file = tmpPath(`${name}.pdf`);
	fs.writeFileSync(file, pdf.bytes);
	const out = tmpPath(name);
	const ppm = spawnSync('pdftoppm', ['-png', '-r', String(DPI),
					 '-singlefile', file, out]);
	assert.equal(ppm.error, undefined,
		     'pdftoppm (poppler-utils) is needed');
	assert.equal(ppm.status, 0, String(ppm.stderr));
	return readPng(fs.readFileSync(`${out}.png`));
}

async function putLogo(ws, admin, file, type) {
	const body = fs.readFileSync(new URL(file, FIXTURES));
	const r = await request(ws, 'PUT', '/api/v1/branding/logo', {
		headers: { ...admin, 'Content-Type': type }, body });
	assert.equal(r.status, 200, r.text);
}

lmsTest('certlogo: a JPEG or WebP logo is drawn on the PDF', async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'pia@example.org', 'learner', {},
		      { name: 'Pia Prüfling' });
	const admin = await bearer(ws, 'ada@example.org');
	const pia = await bearer(ws, 'pia@example.org');
	const due = new Date(Date.now() + 90 * 86400e3).toISOString()
		.slice(0, 10);
	const made = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin,
		json: { course: COURSE, user: 'pia@example.org', due } });
	assert.equal(made.status, 201, made.text);
	/* a blue academy, so that nothing on the page is red but a logo */
	const r = await request(ws, 'PUT', '/api/v1/branding', {
		headers: admin, json: { primary_color: '#1565c0' } });
	assert.equal(r.status, 200, r.text);
	await completeCourse(ws, pia, COURSE);
	const list = await request(ws, 'GET', '/api/v1/certificates',
				   { headers: pia });
	assert.equal(list.status, 200, list.text);
	assert.equal(list.json.length, 1, list.text);
	const id = list.json[0].id;

	const bare = await picture(ws, pia, id, 'bare');
	assert.equal(share(bare, RED_AREA, red), 0, 'no logo yet');

	await putLogo(ws, admin, 'logo-red.jpg', 'image/jpeg');
	const jpeg = await picture(ws, pia, id, 'jpeg');
	assert.ok(share(jpeg, RED_AREA, red) > 0.95,
		  `JPEG logo: ${share(jpeg, RED_AREA, red)} red`);

	await putLogo(ws, admin, 'logo-red.webp', 'image/webp');
	const webp = await picture(ws, pia, id, 'webp');
	assert.ok(share(webp, RED_AREA, red) > 0.95,
		  `WebP logo: ${share(webp, RED_AREA, red)} red`);
	/* its transparent rows show the page, neither red nor black */
	assert.ok(share(webp, CLEAR_AREA, white) > 0.95,
		  `WebP alpha: ${share(webp, CLEAR_AREA, white)} white`);
});
