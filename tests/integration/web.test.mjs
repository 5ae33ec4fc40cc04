/*
 * The academy's web pages and branding over HTTP, as a browser and an
 * admin's script meet them: the page and its modules served with the
 * right types, validators and security headers; no way out of the web
 * root; the web root taken from LMS_WEB_DIR; branding readable by
 * anyone and changed only by admins, with its colours, name, custom CSS
 * and logo checked before anything is stored. (What the pages do in a
 * browser is tested in tests/browser.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

import {
	lmsTest, setupMother, addWorkspace, tmpPath,
} from './lib/harness.mjs';
import { request, addUser, bearer, signIn } from './lib/api.mjs';

const ADMIN = 'admin@example.org';
const LEARNER = 'lea@example.org';
const COLOR = /^#[0-9a-fA-F]{6}$/;

/* A request whose path goes to the server exactly as written (fetch
 * would resolve "..") ; resolves to { status, headers, text }. */
function rawGet(ws, rawPath) {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port: ws.port,
					   method: 'GET', path: rawPath },
					 (res) => {
			const parts = [];
			res.on('data', (b) => parts.push(b));
			res.on('end', () => resolve({
				status: res.statusCode, headers: res.headers,
				text: Buffer.concat(parts).toString() }));
		});
		req.on('error', reject);
		req.setTimeout(10000, () => req.destroy(new Error('timeout')));
		req.end();
	});
}

/* A workspace with an admin and a learner, each with a password and a
 * bearer token. */
async function setup(options = {}) {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', [],
				      { serve: false, ...options });

	for (const [email, role] of [[ADMIN, 'admin'], [LEARNER, 'learner']])
		await addUser(ws, email, role, {}, { name: role });
	const auth = { admin: await bearer(ws, ADMIN),
		       learner: await bearer(ws, LEARNER) };

	await ws.start();
	return { ws, auth };
}

/* A small valid PNG (w x h pixels, red). */
function png(w = 4, h = 4) {
	const table = Array.from({ length: 256 }, (_, n) => {
		let c = n;
		for (let k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		return c >>> 0;
	});
	const crc = (buf) => {
		let c = 0xffffffff;
		for (const b of buf)
			c = table[(c ^ b) & 255] ^ (c >>> 8);
		return (c ^ 0xffffffff) >>> 0;
	};
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		const sum = Buffer.alloc(4);
		const td = Buffer.concat([Buffer.from(type), data]);

		len.writeUInt32BE(data.length);
		sum.writeUInt32BE(crc(td));
		return Buffer.concat([len, td, sum]);
	};
	const ihdr = Buffer.alloc(13);
	const raw = Buffer.alloc(h * (1 + 3 * w));

	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr[8] = 8;
	ihdr[9] = 2;
	for (let y = 0; y < h; y++)
		for (let x = 0; x < w; x++)
			raw[y * (1 + 3 * w) + 1 + 3 * x] = 255;
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)),
		chunk('IEND', Buffer.alloc(0))]);
}

/* The relative module paths a JavaScript module imports. */
function imports(source) {
	const from = /^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm;
	const bare = /^import\s+'([^']+)'/gm;

	return [...source.matchAll(from), ...source.matchAll(bare)]
		.map((m) => m[1]);
}

lmsTest('the web app is served with types, validators and security ' +
	'headers', async () => {
	const { ws } = await setup();
	const index = await request(ws, 'GET', '/');

	assert.equal(index.status, 200);
	assert.match(index.headers.get('content-type'), /^text\/html/);
	const csp = index.headers.get('content-security-policy') ?? '';
	for (const part of ["default-src 'self'", "script-src 'self'",
			    "frame-ancestors 'none'"])
		assert.ok(csp.includes(part), `CSP "${csp}" lacks ${part}`);
	assert.doesNotMatch(csp, /script-src[^;]*unsafe/);
	assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
	assert.equal(index.headers.get('referrer-policy'), 'same-origin');
	assert.equal(index.headers.get('cache-control'), 'no-cache');
	assert.match(index.text,
		     /<script type="module" src="\/app\/main\.js">/);

	/* the browser revalidates and gets 304 while nothing changed */
	const etag = index.headers.get('etag');
	assert.match(etag ?? '', /^"[^"]+"$/);
	const again = await request(ws, 'GET', '/',
				    { headers: { 'If-None-Match': etag } });
	assert.equal(again.status, 304);
	assert.equal(again.bytes.length, 0);
	const head = await request(ws, 'HEAD', '/');
	assert.equal(head.status, 200);
	assert.equal(head.headers.get('content-length'),
		     String(index.bytes.length));

	/* every module main.js needs, transitively, is served as JavaScript
	 * (a browser refuses a module of another type) */
	const seen = new Set();
	const queue = ['/app/main.js'];
	while (queue.length) {
		const url = queue.shift();
		if (seen.has(url))
			continue;
		seen.add(url);
		const js = await request(ws, 'GET', url);
		assert.equal(js.status, 200, url);
		assert.match(js.headers.get('content-type'),
			     /^text\/javascript/, url);
		assert.ok(js.headers.get('etag'), url);
		for (const rel of imports(js.text))
			queue.push(new URL(rel, `http://x${url}`).pathname);
	}
	assert.ok(seen.has('/app/i18n/de.js') && seen.has('/app/i18n/en.js'),
		  [...seen].join(' '));
	const css = await request(ws, 'GET', '/app/style.css');
	assert.equal(css.status, 200);
	assert.match(css.headers.get('content-type'), /^text\/css/);

	const post = await request(ws, 'POST', '/app/main.js');
	assert.equal(post.status, 405);
	assert.match(post.headers.get('allow'), /GET/);
});

lmsTest('no path leaves the web root or shows a hidden file', async () => {
	const webDir = tmpPath('web');
	fs.mkdirSync(path.join(webDir, 'app', '.git'), { recursive: true });
	fs.writeFileSync(path.join(webDir, 'index.html'), '<p>own root</p>');
	fs.writeFileSync(path.join(webDir, 'app', 'x.js'), 'export {};\n');
	fs.writeFileSync(path.join(webDir, 'app', '.secret.js'), 'secret');
	fs.writeFileSync(path.join(webDir, 'app', '.git', 'config.json'),
			 '{"secret": 1}');
	fs.writeFileSync(path.join(webDir, 'app', 'notes.sh'), 'secret');
	fs.writeFileSync(tmpPath('outside.html'), 'secret');
	const { ws } = await setup({ env: { LMS_WEB_DIR: webDir } });

	/* LMS_WEB_DIR names the web root */
	const index = await request(ws, 'GET', '/');
	assert.equal(index.text, '<p>own root</p>');
	assert.equal((await request(ws, 'GET', '/app/x.js')).status, 200);

	for (const p of ['/app/../index.html', '/app/../../outside.html',
			 '/app/%2e%2e/%2e%2e/outside.html',
			 '/app/..%2f..%2foutside.html', '/app/.secret.js',
			 '/app/.git/config.json', '/app/%2egit/config.json',
			 '/app//x.js', '/app/', '/app/notes.sh',
			 '/app/missing.js', '/../outside.html']) {
		const res = await rawGet(ws, p);
		assert.equal(res.status, 404, `${p}: ${res.text}`);
		assert.doesNotMatch(res.text, /secret|own root/, p);
	}
	/* a NUL never reaches a file name: the server refuses the target */
	const nul = await rawGet(ws, '/app/x.js%00.png');
	assert.ok([400, 404].includes(nul.status), nul.text);
});

lmsTest('branding: anyone reads it, only admins change it', async () => {
	const { ws, auth } = await setup();
	const def = await request(ws, 'GET', '/api/v1/branding');

	assert.equal(def.status, 200, def.text);
	assert.equal(def.json.name, 'acme');
	assert.match(def.json.primary_color, COLOR);
	assert.match(def.json.accent_color, COLOR);
	assert.equal(def.json.logo_url, null);
	assert.equal(def.json.css_url, null);
	assert.ok(['de', 'en'].includes(def.json.default_language));

	/* an admin in a browser: cookie and CSRF token */
	const s = await signIn(ws, ADMIN);
	const change = { name: 'Akademie Sonnenhof', primary_color: '#2E7D32',
			 accent_color: '#aa3300', default_language: 'en' };
	const noCsrf = await request(ws, 'PUT', '/api/v1/branding',
				     { json: change,
				       headers: { Cookie: s.Cookie } });
	assert.equal(noCsrf.status, 403, noCsrf.text);
	const put = await request(ws, 'PUT', '/api/v1/branding', {
		json: change,
		headers: s });
	assert.equal(put.status, 200, put.text);
	assert.deepEqual(put.json, { ...def.json, ...change });
	const got = await request(ws, 'GET', '/api/v1/branding');
	assert.deepEqual(got.json, put.json);

	/* a learner and a stranger change nothing */
	const learner = await request(ws, 'PUT', '/api/v1/branding', {
		json: { name: 'Mine' }, headers: auth.learner });
	assert.equal(learner.status, 403, learner.text);
	assert.equal(learner.json.error.code, 'forbidden');
	const stranger = await request(ws, 'PUT', '/api/v1/branding',
				       { json: { name: 'Mine' } });
	assert.equal(stranger.status, 401, stranger.text);

	/* bad values are refused with a reason, and nothing changes */
	for (const bad of [
		{ primary_color: 'green' }, { accent_color: '#12345' },
		{ primary_color: '#12345g' }, { name: '' },
		{ name: 'x'.repeat(101) }, { name: 7 },
		{ default_language: 'fr' },
		{ css: 'h1{}</style><script>alert(1)</script>' },
		{ css: '@import url(https://evil.example/x.css);' },
		{ css: 'a{}'.repeat(30000) },
		{ name: 'Fine', primary_color: 'nope' },
	]) {
		const res = await request(ws, 'PUT', '/api/v1/branding', {
			json: bad, headers: auth.admin });
		assert.equal(res.status, 400, JSON.stringify(bad));
		assert.equal(res.json.error.code, 'bad_request');
		assert.ok(res.json.error.message.length > 0);
	}
	const notJson = await request(ws, 'PUT', '/api/v1/branding', {
		body: 'name=x', headers: auth.admin });
	assert.equal(notJson.status, 400);
	const after = await request(ws, 'GET', '/api/v1/branding');
	assert.deepEqual(after.json, put.json);

	/* null returns a field to its default */
	const reset = await request(ws, 'PUT', '/api/v1/branding', {
		json: { name: null }, headers: auth.admin });
	assert.equal(reset.status, 200);
	assert.equal(reset.json.name, 'acme');
	assert.equal(reset.json.primary_color, '#2E7D32');
});

lmsTest('branding: custom CSS and logo are served with validators',
	async () => {
	const { ws, auth } = await setup();
	const admin = auth.admin;
	const style = 'h1 { letter-spacing: .05em; }\n/* Köln */\n';

	/* custom CSS, served as a style sheet of its own */
	const put = await request(ws, 'PUT', '/api/v1/branding',
				  { json: { css: style }, headers: admin });
	assert.equal(put.status, 200, put.text);
	assert.match(put.json.css_url, /^\/branding\/custom\.css\?v=\w+$/);
	const css = await request(ws, 'GET', put.json.css_url);
	assert.equal(css.status, 200);
	assert.match(css.headers.get('content-type'), /^text\/css/);
	assert.equal(css.headers.get('x-content-type-options'), 'nosniff');
	assert.equal(css.text, style);
	const etag = css.headers.get('etag');
	assert.ok(etag);
	const cached = await request(ws, 'GET', '/branding/custom.css',
				     { headers: { 'If-None-Match': etag } });
	assert.equal(cached.status, 304);

	/* a PNG logo */
	const image = png(8, 8);
	const logo = await request(ws, 'PUT', '/api/v1/branding/logo', {
		body: image,
		headers: { ...admin, 'Content-Type': 'image/png' } });
	assert.equal(logo.status, 200, logo.text);
	assert.match(logo.json.logo_url, /^\/branding\/logo\?v=\w+$/);
	const img = await request(ws, 'GET', logo.json.logo_url);
	assert.equal(img.status, 200);
	assert.equal(img.headers.get('content-type'), 'image/png');
	assert.ok(img.bytes.equals(image));
	assert.match(img.headers.get('cache-control'), /immutable/);
	const imgEtag = img.headers.get('etag');
	const again = await request(ws, 'GET', '/branding/logo',
				    { headers: { 'If-None-Match': imgEtag } });
	assert.equal(again.status, 304);

	/* not an image, too large, not an admin: refused, logo kept */
	const text = await request(ws, 'PUT', '/api/v1/branding/logo', {
		body: '<svg onload="alert(1)"/>',
		headers: { ...admin, 'Content-Type': 'image/png' } });
	assert.equal(text.status, 415, text.text);
	const big = Buffer.concat([image, Buffer.alloc(512 * 1024)]);
	const tooBig = await request(ws, 'PUT', '/api/v1/branding/logo', {
		body: big,
		headers: { ...admin, 'Content-Type': 'image/png' } });
	assert.equal(tooBig.status, 413, tooBig.text);
	const learner = await request(ws, 'PUT', '/api/v1/branding/logo', {
		body: image, headers: auth.learner });
	assert.equal(learner.status, 403);
	const still = await request(ws, 'GET', '/api/v1/branding');
	assert.equal(still.json.logo_url, logo.json.logo_url);

	/* removed */
	const del = await request(ws, 'DELETE', '/api/v1/branding/logo',
				  { headers: admin });
	assert.equal(del.status, 200, del.text);
	assert.equal(del.json.logo_url, null);
	assert.equal((await request(ws, 'GET', '/branding/logo')).status, 404);

	/* removing the CSS */
	const none = await request(ws, 'PUT', '/api/v1/branding',
				   { json: { css: '' }, headers: admin });
	assert.equal(none.json.css_url, null);
	assert.equal((await request(ws, 'GET', '/branding/custom.css')).status,
		     404);
});
