/*
 * A man-in-the-middle TCP proxy for the mother <-> workspace sync
 * protocol, for tests that tamper with what a workspace receives.
 *
 * The workspace dials the proxy (`serve DATA --mother 127.0.0.1:<port>`);
 * for each connection the proxy dials the mother and parses frames in both
 * directions: a u32 big-endian payload length (the type byte is not
 * counted, see proto/frame.c), a u8 type, the payload. Frames are
 * forwarded whole, so bytes a test writes never land inside another frame.
 *
 * Every EVENT frame from the mother goes through the test's hook, which
 * returns what to do with it:
 *
 *   undefined | 'pass'    forward it unchanged
 *   'drop'                forward nothing
 *   Buffer                write these bytes instead (a frame or any bytes)
 *   [Buffer, ...]         write each in turn (duplicate: [raw, raw];
 *                         inject: [extra, raw])
 *
 * The hook may be async; frames of one connection are handled one after
 * the other. Helpers below decode an event with all its fields, encode it
 * again canonically (the bytes the signature covers) and sign it with the
 * mother's private key, so a test can craft events that are validly
 * signed but wrong in meaning.
 *
 * The proxy counts what it forwarded per direction and frame type, and
 * keeps the sequence numbers of ACK and RESUME frames the workspace sent:
 * they tell what the workspace applied or asked for.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';

export const FRAME = Object.freeze({
	CHALLENGE: 1,
	HELLO: 2,
	WELCOME: 3,
	EVENT: 4,
	ACK: 5,
	RESUME: 6,
	ENROLL: 7,
	ENROLLED: 8,
	ERROR: 9,
	PING: 10,
});

const TYPE_NAMES = Object.fromEntries(
	Object.entries(FRAME).map(([k, v]) => [v, k]));

export const HEADER_LEN = 5;
export const SIG_LEN = 64;
export const SHA256_LEN = 32;
const CHALLENGE_LEN = 1 + 32 + 32;

export function frameTypeName(type)
{
	return TYPE_NAMES[type] ?? `type${type}`;
}

/* ---- frames ---- */

/* A whole frame: header (payload length, type) and payload. */
export function encodeFrame(type, payload = Buffer.alloc(0))
{
	const h = Buffer.alloc(HEADER_LEN);

	h.writeUInt32BE(payload.length, 0);
	h.writeUInt8(type, 4);
	return Buffer.concat([h, payload]);
}

/* A bare header announcing len payload bytes, for oversized frames. */
export function encodeHeader(type, len)
{
	const h = Buffer.alloc(HEADER_LEN);

	h.writeUInt32BE(len, 0);
	h.writeUInt8(type, 4);
	return h;
}

export function encodeSeqFrame(type, seq)
{
	const p = Buffer.alloc(8);

	p.writeBigUInt64BE(BigInt(seq));
	return encodeFrame(type, p);
}

/* Splits a byte stream into frames; keeps the incomplete rest. */
class FrameSplitter {
	constructor()
	{
		this.pending = Buffer.alloc(0);
	}

	push(chunk)
	{
		const frames = [];
		let buf = this.pending.length ?
			Buffer.concat([this.pending, chunk]) : chunk;
		let off = 0;

		while (buf.length - off >= HEADER_LEN) {
			const len = buf.readUInt32BE(off);
			const end = off + HEADER_LEN + len;

			if (end > buf.length)
				break;
			frames.push({
				type: buf[off + 4],
				payload: buf.subarray(off + HEADER_LEN, end),
				raw: buf.subarray(off, end),
			});
			off = end;
		}
		this.pending = Buffer.from(buf.subarray(off));
		return frames;
	}
}

/* ---- events ---- */

class Reader {
	constructor(buf)
	{
		this.buf = buf;
		this.off = 0;
	}

	need(n)
	{
		if (this.off + n > this.buf.length)
			throw new Error(`event truncated at byte ${this.off}`);
	}

	u8()
	{
		this.need(1);
		return this.buf.readUInt8(this.off++);
	}

	u16()
	{
		this.need(2);
		const v = this.buf.readUInt16BE(this.off);
		this.off += 2;
		return v;
	}

	u32()
	{
		this.need(4);
		const v = this.buf.readUInt32BE(this.off);
		this.off += 4;
		return v;
	}

	u64()
	{
		this.need(8);
		const v = this.buf.readBigUInt64BE(this.off);
		this.off += 8;
		return v;
	}

	i64()
	{
		this.need(8);
		const v = this.buf.readBigInt64BE(this.off);
		this.off += 8;
		return v;
	}

	bytes(n)
	{
		this.need(n);
		const v = Buffer.from(this.buf.subarray(this.off,
							this.off + n));
		this.off += n;
		return v;
	}

	str()
	{
		return this.bytes(this.u16()).toString('latin1');
	}

	end()
	{
		if (this.off !== this.buf.length)
			throw new Error(`${this.buf.length - this.off} ` +
					'trailing bytes');
	}
}

function u8(v)
{
	return Buffer.from([v & 0xff]);
}

function u16(v)
{
	const b = Buffer.alloc(2);

	b.writeUInt16BE(v);
	return b;
}

function u32(v)
{
	const b = Buffer.alloc(4);

	b.writeUInt32BE(v);
	return b;
}

function u64(v)
{
	const b = Buffer.alloc(8);

	b.writeBigUInt64BE(BigInt(v));
	return b;
}

function i64(v)
{
	const b = Buffer.alloc(8);

	b.writeBigInt64BE(BigInt(v));
	return b;
}

function str(s)
{
	const b = Buffer.from(s, 'latin1');

	return Buffer.concat([u16(b.length), b]);
}

/*
 * The event fields as a plain object. seq and pack_len are BigInt, time
 * and expiry BigInt (unix seconds), pack_sha256 a 32-byte Buffer.
 */
export function decodeEvent(buf)
{
	const r = new Reader(buf);
	const ev = {
		version: r.u8(),
		tenant: r.str(),
		seq: r.u64(),
		course: r.str(),
		prev_rev: r.str(),
		new_rev: r.str(),
		kind: r.u8(),
		time: r.i64(),
		expiry: r.i64(),
		pack_sha256: r.bytes(SHA256_LEN),
		pack_len: r.u64(),
	};

	r.end();
	return ev;
}

/* The canonical encoding: the bytes after "lms-event" that are signed. */
export function encodeEvent(ev)
{
	if (ev.pack_sha256.length !== SHA256_LEN)
		throw new Error('pack_sha256 must be 32 bytes');
	return Buffer.concat([
		u8(ev.version), str(ev.tenant), u64(ev.seq), str(ev.course),
		str(ev.prev_rev), str(ev.new_rev), u8(ev.kind), i64(ev.time),
		i64(ev.expiry), ev.pack_sha256, u64(ev.pack_len),
	]);
}

/*
 * An EVENT frame's payload: { event (decoded), eventBytes (as received),
 * sig, pack }.
 */
export function decodeEventPayload(payload)
{
	const r = new Reader(payload);
	const eventBytes = r.bytes(r.u32());
	const sig = r.bytes(SIG_LEN);
	const pack = Buffer.from(payload.subarray(r.off));

	return { event: decodeEvent(eventBytes), eventBytes, sig, pack };
}

/* A whole EVENT frame. eventBytes defaults to the canonical encoding of
 * event; pass it to send bytes that differ from what event says. */
export function encodeEventFrame({ event, eventBytes, sig, pack })
{
	const evb = eventBytes ?? encodeEvent(event);

	return encodeFrame(FRAME.EVENT, Buffer.concat([
		u32(evb.length), evb, sig, pack ?? Buffer.alloc(0),
	]));
}

export function loadMotherKey(path)
{
	return crypto.createPrivateKey(fs.readFileSync(path));
}

export function signEvent(event, key)
{
	const data = Buffer.concat([Buffer.from('lms-event'),
				    encodeEvent(event)]);

	return crypto.sign(null, data, key);
}

export function sha256(buf)
{
	return crypto.createHash('sha256').update(buf).digest();
}

/*
 * A copy of a decoded EVENT message with fields changed, signed anew with
 * key. changes may set any event field and `pack` (whose sha256 and
 * length the event then states, unless changes set them too).
 */
export function resignEvent(msg, key, changes = {})
{
	const { pack: newPack, ...fields } = changes;
	const pack = newPack ?? msg.pack;
	const event = { ...msg.event };

	if (newPack) {
		event.pack_sha256 = sha256(pack);
		event.pack_len = BigInt(pack.length);
	}
	Object.assign(event, fields);
	return encodeEventFrame({ event, sig: signEvent(event, key), pack });
}

/* Unix seconds now, as the BigInt the event fields use. */
export function unixNow()
{
	return BigInt(Math.floor(Date.now() / 1000));
}

/* ---- the proxy ---- */

function newStats()
{
	return { frames: 0, bytes: 0, byType: {} };
}

function countFrame(stats, type, bytes)
{
	const name = frameTypeName(type);

	stats.frames++;
	stats.bytes += bytes;
	stats.byType[name] = (stats.byType[name] ?? 0) + 1;
}

/*
 * One proxied session: the workspace's socket, the mother's socket and a
 * splitter per direction. Writes go to the current sockets; frames from
 * either side are handled in arrival order.
 */
class ProxyConnection {
	constructor(proxy, id, client)
	{
		this.proxy = proxy;
		this.id = id;
		this.client = client;
		this.closed = false;
		this.closedBy = null;
		this.fromMother = new FrameSplitter();
		this.fromWorkspace = new FrameSplitter();
		this.queue = Promise.resolve();
		this.sawChallenge = false;

		this.upstream = net.connect(proxy.target.port,
					    proxy.target.host);
		client.pause();
		this.upstream.on('connect', () => client.resume());
		this.upstream.on('data', (d) => this.onMotherData(d));
		client.on('data', (d) => this.onWorkspaceData(d));
		this.upstream.on('close', () => this.onClose('mother'));
		client.on('close', () => this.onClose('workspace'));
		this.upstream.on('error', () => {});
		client.on('error', () => {});
	}

	/* Raw bytes to either side, bypassing the hook. */
	toWorkspace(buf)
	{
		if (!this.closed)
			this.client.write(buf);
	}

	toMother(buf)
	{
		if (!this.closed)
			this.upstream.write(buf);
	}

	destroy()
	{
		this.client.destroy();
		this.upstream.destroy();
	}

	onClose(side)
	{
		if (this.closed)
			return;
		this.closed = true;
		this.closedBy = side;
		this.proxy.closes.push({ conn: this.id, by: side,
					 at: Date.now() });
		this.client.destroy();
		this.upstream.destroy();
	}

	onMotherData(chunk)
	{
		for (const f of this.fromMother.push(chunk))
			this.queue = this.queue
				.then(() => this.fromMotherFrame(f))
				.catch((err) => this.proxy.fail(err));
	}

	onWorkspaceData(chunk)
	{
		for (const f of this.fromWorkspace.push(chunk))
			this.fromWorkspaceFrame(f);
	}

	checkChallenge(f)
	{
		if (this.sawChallenge)
			return;
		this.sawChallenge = true;
		if (f.type === FRAME.CHALLENGE &&
		    f.payload.length === CHALLENGE_LEN)
			return;
		this.proxy.fail(new Error('proxy: the first frame from the ' +
			`mother is ${frameTypeName(f.type)} of ` +
			`${f.payload.length} bytes, not a ${CHALLENGE_LEN}-` +
			'byte CHALLENGE: the frame layout is not what ' +
			'proxy.mjs parses'));
	}

	async fromMotherFrame(f)
	{
		const proxy = this.proxy;
		let out = [f.raw];

		this.checkChallenge(f);
		if (f.type === FRAME.EVENT) {
			const msg = decodeEventPayload(f.payload);
			const rec = { ...msg, raw: Buffer.from(f.raw),
				      conn: this.id };

			proxy.events.push(rec);
			out = normalizeAction(await proxy.hook(rec, this),
					      f.raw);
		}
		if (this.closed)
			return;
		for (const buf of out) {
			this.client.write(buf);
			countOut(proxy.stats.toWorkspace, buf);
		}
	}

	fromWorkspaceFrame(f)
	{
		const proxy = this.proxy;

		if (f.type === FRAME.ACK || f.type === FRAME.RESUME) {
			const seq = f.payload.length === 8 ?
				f.payload.readBigUInt64BE(0) : null;
			const list = f.type === FRAME.ACK ?
				proxy.acks : proxy.resumes;

			list.push({ seq, conn: this.id, at: Date.now() });
		}
		this.upstream.write(f.raw);
		countFrame(proxy.stats.toMother, f.type, f.raw.length);
	}
}

/* Counts written bytes as frames when they parse as whole frames. */
function countOut(stats, buf)
{
	const s = new FrameSplitter();
	const frames = s.push(buf);

	for (const f of frames)
		countFrame(stats, f.type, f.raw.length);
	if (s.pending.length)
		stats.bytes += s.pending.length;
}

function normalizeAction(action, raw)
{
	if (action === undefined || action === 'pass')
		return [raw];
	if (action === 'drop' || action === null)
		return [];
	if (Buffer.isBuffer(action))
		return [action];
	if (Array.isArray(action) && action.every((b) => Buffer.isBuffer(b)))
		return action;
	throw new Error(`proxy hook returned ${String(action)}`);
}

export class SyncProxy {
	/* target: { host, port } of the mother's sync listener. */
	constructor(target)
	{
		this.target = target;
		this.hook = () => 'pass';
		this.events = [];  /* every EVENT frame from the mother */
		this.acks = [];	   /* { seq, conn, at } from the workspace */
		this.resumes = [];
		this.closes = [];  /* { conn, by: 'workspace'|'mother', at } */
		this.errors = [];
		this.stats = { toWorkspace: newStats(), toMother: newStats() };
		this.connections = [];
		this.server = net.createServer((c) => this.accept(c));
	}

	/* Starts listening on 127.0.0.1 (port 0: any free port); returns it. */
	async listen(port = 0)
	{
		await new Promise((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(port, '127.0.0.1', resolve);
		});
		this.port = this.server.address().port;
		return this.port;
	}

	get address()
	{
		return `127.0.0.1:${this.port}`;
	}

	accept(client)
	{
		const id = this.connections.length + 1;

		this.connections.push(new ProxyConnection(this, id, client));
	}

	/* The hook for EVENT frames from the mother: (rec, conn) -> action,
	 * rec = { event, eventBytes, sig, pack, raw, conn }. */
	setHook(fn)
	{
		this.hook = fn;
	}

	passThrough()
	{
		this.hook = () => 'pass';
	}

	/* The newest connection that is still open, or null. */
	current()
	{
		const open = this.connections.filter((c) => !c.closed);

		return open.length ? open[open.length - 1] : null;
	}

	/* Writes bytes to the workspace on the current connection; false when
	 * there is none. */
	sendToWorkspace(buf)
	{
		const conn = this.current();

		if (!conn)
			return false;
		conn.toWorkspace(buf);
		countOut(this.stats.toWorkspace, buf);
		return true;
	}

	/* Cuts every open connection, as a network failure would. */
	dropConnections()
	{
		for (const c of this.connections)
			if (!c.closed)
				c.destroy();
	}

	fail(err)
	{
		this.errors.push(err);
	}

	/* The highest seq the workspace acknowledged, 0n for none. */
	maxAck()
	{
		return this.acks.reduce((m, a) => (a.seq > m ? a.seq : m), 0n);
	}

	async close()
	{
		this.dropConnections();
		await new Promise((resolve) =>
			this.server.close(() => resolve()));
	}
}
