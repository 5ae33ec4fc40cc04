/*
 * A workspace's side of the sync protocol, reduced to what the tests of
 * the signed reports need: dial the mother, answer CHALLENGE with a
 * HELLO signed by a key of the test's choice, then send STATS and
 * AUDIT_HEAD frames (proto/proto.h) signed over the session's nonce, as
 * a forger who holds the tenant's key, or another key, would.
 *
 *   const c = await reportSession(mother.sync, 'acme', key);
 *   c.sendAuditHead({ seq: 3n, hash, key });
 *   const err = await c.error(1000);   // the mother's ERROR, or null
 *   c.close();
 *
 * Only Node's built-in modules are used.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';

import { FRAME, encodeFrame } from './proxy.mjs';

export const REPORT = Object.freeze({ STATS: 11, AUDIT_HEAD: 12 });
const VERSION = 1;

function u8(v) {
	return Buffer.from([v & 0xff]);
}

function u16(v) {
	const b = Buffer.alloc(2);
	b.writeUInt16BE(v);
	return b;
}

function u32(v) {
	const b = Buffer.alloc(4);
	b.writeUInt32BE(v);
	return b;
}

function u64(v) {
	const b = Buffer.alloc(8);
	b.writeBigUInt64BE(BigInt(v));
	return b;
}

function i64(v) {
	const b = Buffer.alloc(8);
	b.writeBigInt64BE(BigInt(v));
	return b;
}

function str(s) {
	const b = Buffer.from(s, 'utf8');
	return Buffer.concat([u16(b.length), b]);
}

/* A private key from a PEM file (DATA/workspace.key), or a new one. */
export function loadKey(path) {
	return crypto.createPrivateKey(fs.readFileSync(path));
}

export function newKey() {
	return crypto.generateKeyPairSync('ed25519').privateKey;
}

/* The AUDIT_HEAD payload; signed as proto.h says. */
export function auditHeadPayload({ tenant, counter, seq, hash, time, nonce,
				   key }) {
	const fields = Buffer.concat([str(tenant), u64(counter), u64(seq),
				      str(hash), i64(time)]);
	const signed = Buffer.concat([Buffer.from('lms-audit-head'),
				      u8(VERSION), nonce, fields]);
	return Buffer.concat([u8(VERSION), fields,
			      crypto.sign(null, signed, key)]);
}

export function statsPayload({ tenant, counter, time, body, nonce, key }) {
	const b = Buffer.from(body, 'utf8');
	const fields = Buffer.concat([str(tenant), u64(counter), i64(time),
				      u32(b.length), b]);
	const signed = Buffer.concat([Buffer.from('lms-stats'), u8(VERSION),
				      nonce, fields]);
	return Buffer.concat([u8(VERSION), fields,
			      crypto.sign(null, signed, key)]);
}

/*
 * A session with the mother at addr ("127.0.0.1:PORT") as tenant, the
 * HELLO signed with helloKey. Resolves once WELCOME came (or rejects
 * with the mother's ERROR message).
 */
export function reportSession(addr, tenant, helloKey) {
	const [host, port] = addr.split(':');
	const sock = net.connect(Number(port), host);
	const s = { sock, frames: [], waiters: [], closed: false,
		    counter: 0n, nonce: null, tenant };
	let pending = Buffer.alloc(0);

	sock.on('data', (chunk) => {
		pending = Buffer.concat([pending, chunk]);
		while (pending.length >= 5) {
			const len = pending.readUInt32BE(0);
			if (pending.length < 5 + len)
				break;
			s.frames.push({ type: pending[4],
					payload: pending.subarray(5, 5 + len) });
			pending = pending.subarray(5 + len);
		}
		for (const w of s.waiters.splice(0))
			w();
	});
	sock.on('close', () => {
		s.closed = true;
		for (const w of s.waiters.splice(0))
			w();
	});
	sock.on('error', () => {});

	/* The next frame of one of types (others are skipped), or null
	 * when the connection closes or ms pass. */
	s.next = (types, ms = 5000) => new Promise((resolve) => {
		const timer = setTimeout(() => resolve(null), ms);
		const look = () => {
			while (s.frames.length) {
				const f = s.frames.shift();
				if (types.includes(f.type)) {
					clearTimeout(timer);
					return resolve(f);
				}
			}
			if (s.closed) {
				clearTimeout(timer);
				return resolve(null);
			}
			s.waiters.push(look);
		};
		look();
	});
	/* The message of the mother's ERROR frame, or null. */
	s.error = async (ms = 3000) => {
		const f = await s.next([FRAME.ERROR], ms);
		return f ? f.payload.subarray(6).toString('utf8') : null;
	};
	s.sendAuditHead = ({ seq, hash, key, time = 1790000000n,
			     counter }) => {
		s.counter = counter ?? s.counter + 1n;
		sock.write(encodeFrame(REPORT.AUDIT_HEAD, auditHeadPayload({
			tenant: s.tenant, counter: s.counter, seq, hash, time,
			nonce: s.nonce, key })));
	};
	s.sendStats = ({ body, key, time = 1790000000n, counter }) => {
		s.counter = counter ?? s.counter + 1n;
		sock.write(encodeFrame(REPORT.STATS, statsPayload({
			tenant: s.tenant, counter: s.counter, time, body,
			nonce: s.nonce, key })));
	};
	s.close = () => sock.destroy();

	return (async () => {
		const ch = await s.next([FRAME.CHALLENGE]);
		if (!ch)
			throw new Error('no CHALLENGE from the mother');
		s.nonce = Buffer.from(ch.payload.subarray(1, 33));
		const fields = Buffer.concat([str(tenant), u64(0)]);
		const signed = Buffer.concat([Buffer.from('lms-hello'),
					      u8(VERSION), s.nonce, fields]);
		sock.write(encodeFrame(FRAME.HELLO, Buffer.concat([
			u8(VERSION), fields,
			crypto.sign(null, signed, helloKey)])));
		const w = await s.next([FRAME.WELCOME, FRAME.ERROR]);
		if (!w || w.type !== FRAME.WELCOME)
			throw new Error('no WELCOME: ' + (w ? w.payload
					.subarray(6).toString() : 'closed'));
		return s;
	})();
}
