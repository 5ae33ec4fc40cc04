/*
 * Certificates on running daemons: a learner who completes a course gets
 * one certificate (numbered, with the revision and an expiry twelve
 * months on, from a month's end); its PDF, read back with pdftotext,
 * carries the learner's name, the course and the dates, and pdftoppm
 * turns it into a PNG that is kept for a reader to look at (its path is
 * printed). The public page /verify/{code} says valid, then revoked
 * after an admin revoked it, and expired for another learner's once the
 * clock (LMS_FAKE_NOW) is past the expiry; an unknown code gets a plain
 * "not found". Others' PDFs stay hidden and learners cannot revoke.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import {
	lmsTest, setupMother, addWorkspace, waitFor, tmpPath,
	HEX40, runOk, WORKSPACE_BIN,
} from './lib/harness.mjs';
import {
	request, assertErrorCode, addUser, bearer, completeCourse,
} from './lib/api.mjs';

const COURSE = 'hygiene-basics';
const START = '2027-01-31T08:00:00Z';	/* a month's end */

/* A PNG of w x h pixels in rgb with a white stripe (a logo). */
function png(w, h, rgb) {
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		const crc = Buffer.alloc(4);
		const td = Buffer.concat([Buffer.from(type), data]);
		len.writeUInt32BE(data.length);
		crc.writeUInt32BE(zlib.crc32(td));
		return Buffer.concat([len, td, crc]);
	};
	const head = Buffer.alloc(13);
	head.writeUInt32BE(w, 0);
	head.writeUInt32BE(h, 4);
	head.set([8, 2, 0, 0, 0], 8);	/* 8 bits, RGB */
	const rows = [];
	for (let y = 0; y < h; y++) {
		const row = [0];
		for (let x = 0; x < w; x++)
			row.push(...(y % 10 < 3 ? [255, 255, 255] : rgb));
		rows.push(Buffer.from(row));
	}
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', head),
		chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
		chunk('IEND', Buffer.alloc(0)),
	]);
}

/* GET /api/v1/certificates as a reverse proxy forwards it (fetch()
 * cannot set Host): resolves to the body. */
function viaProxy(ws, headers) {
	return new Promise((resolve, reject) => {
		const req = http.get({
			host: '127.0.0.1', port: ws.port,
			path: '/api/v1/certificates',
			headers: { ...headers, Host: 'academy.example',
				   'X-Forwarded-Proto': 'https' },
		}, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve(body));
		});
		req.on('error', reject);
	});
}

async function certificates(ws, headers, query = '') {
	const r = await request(ws, 'GET', `/api/v1/certificates${query}`,
				{ headers });
	assert.equal(r.status, 200, r.text);
	return r.json;
}

/* The code at the end of a verify_url. */
function codeOf(cert) {
	return /\/verify\/([0-9a-f]{32})$/.exec(cert.verify_url)[1];
}

async function verify(ws, code) {
	return request(ws, 'GET', `/verify/${code}`);
}

function have(cmd) {
	return spawnSync(cmd, ['-v']).error === undefined;
}

lmsTest('cert: issued on completion, PDF, verify, revoke, expiry',
	async (t) => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });
	/* the clock moves once the course is there (the mother's events
	 * are refused as expired by a clock ahead of them) */
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: START },
			 extraArgs: ['--trusted-proxy', '127.0.0.1'] });

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'pia@example.org', 'learner', {},
		      { name: 'Pia Prüfling' });
	await addUser(ws, 'lea@example.org', 'learner', {},
		      { name: 'Lea Lernt' });
	const ianId = await addUser(ws, 'ian@example.org', 'learner');
	const admin = await bearer(ws, 'ada@example.org');
	const pia = await bearer(ws, 'pia@example.org');
	const lea = await bearer(ws, 'lea@example.org');
	const ian = await bearer(ws, 'ian@example.org');
	for (const user of ['pia@example.org', 'lea@example.org']) {
		const made = await request(ws, 'POST', '/api/v1/assignments', {
			headers: admin,
			json: { course: COURSE, user, due: '2027-03-01' } });
		assert.equal(made.status, 201, made.text);
	}

	/* the academy's own name, colour and logo go on the PDF */
	let r = await request(ws, 'PUT', '/api/v1/branding', {
		headers: admin,
		json: { name: 'Klinik Süd', primary_color: '#7b1fa2' } });
	assert.equal(r.status, 200, r.text);
	r = await request(ws, 'PUT', '/api/v1/branding/logo', {
		headers: { ...admin, 'Content-Type': 'image/png' },
		body: png(120, 40, [123, 31, 162]) });
	assert.equal(r.status, 200, r.text);

	/* nothing before the course is completed */
	assertErrorCode(await request(ws, 'GET', '/api/v1/certificates'),
			401, 'unauthorized');
	assert.deepEqual(await certificates(ws, pia), []);

	const course = await completeCourse(ws, pia, COURSE);
	const mine = await certificates(ws, pia);
	assert.equal(mine.length, 1, JSON.stringify(mine));
	const cert = mine[0];
	assert.match(cert.number, /^HYG-2027-\d{6}$/);
	assert.equal(cert.course, COURSE);
	assert.equal(cert.revision, course.revision);
	assert.match(cert.revision, HEX40);
	assert.match(cert.issued, /^2027-01-31T08:0\d:\d\dZ$/);
	assert.match(cert.expires, /^2028-01-31T08:0\d:\d\dZ$/);
	assert.equal(cert.status, 'valid');
	assert.equal(cert.verify_url,
		     `${ws.http}/verify/${codeOf(cert)}`);
	/* asking again issues nothing new */
	assert.deepEqual(await certificates(ws, pia), mine);
	/* the URL as the learner reached the academy: through the proxy */
	const proxied = JSON.parse(await viaProxy(ws, pia));
	assert.equal(proxied[0].verify_url,
		     `https://academy.example/verify/${codeOf(cert)}`);
	/* the academy's address set by its admin wins over both */
	const setUrl = (v) => runOk(WORKSPACE_BIN,
				    ['settings', 'set', ws.data, 'web.url', v]);
	await setUrl('https://akademie.example.org/');
	assert.equal((await certificates(ws, pia))[0].verify_url,
		     `https://akademie.example.org/verify/${codeOf(cert)}`);
	await setUrl('');

	/* the PDF */
	const pdf = await request(ws, 'GET',
				  `/api/v1/certificates/${cert.id}/pdf`,
				  { headers: pia });
	assert.equal(pdf.status, 200, pdf.text);
	assert.equal(pdf.headers.get('content-type'), 'application/pdf');
	assert.equal(pdf.bytes.subarray(0, 5).toString(), '%PDF-');
	assert.ok(pdf.bytes.includes('/Subtype /Image'), 'the logo');
	const file = tmpPath('cert.pdf');
	fs.writeFileSync(file, pdf.bytes);
	/* poppler-utils is a package tests/run installs: required here */
	assert.ok(have('pdftotext') && have('pdftoppm'),
		  'pdftotext and pdftoppm (poppler-utils) are needed');
	const text = spawnSync('pdftotext', [file, '-'],
			       { encoding: 'utf8' }).stdout
		.replace(/\s+/g, ' ');
	for (const want of ['Pia Prüfling', 'Hygiene-Grundlagen',
			    '31.01.2027', '31.01.2028', cert.number,
			    cert.revision.slice(0, 12), 'Klinik Süd',
			    'Zertifikat'])
		assert.ok(text.includes(want), `${want} in ${text}`);
	assert.ok(!text.includes('WIDERRUFEN'), text);
	const out = path.join(os.tmpdir(),
			      `lms-cert-${process.pid}-${Date.now()}`);
	const ppm = spawnSync('pdftoppm', ['-png', '-r', '50', '-singlefile',
					 file, out]);
	assert.equal(ppm.status, 0, String(ppm.stderr));
	const picture = fs.readFileSync(`${out}.png`);
	assert.equal(picture.subarray(1, 4).toString(), 'PNG');
	t.diagnostic(`certificate picture at ${out}.png`);

	/* an admin may download it, another learner may not */
	const other = await request(ws, 'GET',
				    `/api/v1/certificates/${cert.id}/pdf`,
				    { headers: ian });
	assertErrorCode(other, 404, 'not_found');
	assertErrorCode(await request(ws, 'GET',
				      '/api/v1/certificates/99999/pdf',
				      { headers: ian }), 404, 'not_found');
	const byAdmin = await request(ws, 'GET',
				      `/api/v1/certificates/${cert.id}/pdf`,
				      { headers: admin });
	assert.equal(byAdmin.status, 200);
	assert.deepEqual(await certificates(ws, ian), []);
	assertErrorCode(await request(ws, 'GET',
				      `/api/v1/certificates?user=${cert.user}`,
				      { headers: ian }), 403, 'forbidden');
	assert.deepEqual(await certificates(ws, admin, `?user=${ianId}`), []);
	assert.equal((await certificates(ws, admin)).length, 1);

	/* the public page: valid, and no more than name, course, dates */
	let page = await verify(ws, codeOf(cert));
	assert.equal(page.status, 200, page.text);
	assert.match(page.headers.get('content-type'), /^text\/html/);
	assert.match(page.text, /data-status="valid"/);
	assert.match(page.text, /Pia Prüfling/);
	assert.match(page.text, /Hygiene-Grundlagen/);
	assert.match(page.text, /31\.01\.2027/);
	assert.match(page.text, /31\.01\.2028/);
	assert.doesNotMatch(page.text, /pia@example|HYG-|revision/i);

	/* unknown codes: a plain not found, whatever their shape */
	const unknown = await verify(ws, crypto.randomBytes(16)
				     .toString('hex'));
	assert.equal(unknown.status, 404);
	assert.equal(unknown.text.trim(), 'not found');
	const odd = await verify(ws, 'nope');
	assert.equal(odd.status, 404);
	assert.equal(odd.text, unknown.text);

	/* revoking: admins only, with a reason, once */
	const revoke = `/api/v1/certificates/${cert.id}/revoke`;
	assertErrorCode(await request(ws, 'POST', revoke, {
		headers: pia, json: { reason: 'mine' } }), 403, 'forbidden');
	assertErrorCode(await request(ws, 'POST', revoke, {
		headers: admin, json: {} }), 400, 'bad_request');
	const revoked = await request(ws, 'POST', revoke, {
		headers: admin, json: { reason: 'issued in error' } });
	assert.equal(revoked.status, 200, revoked.text);
	assert.equal(revoked.json.status, 'revoked');
	assertErrorCode(await request(ws, 'POST', revoke, {
		headers: admin, json: { reason: 'again' } }), 409, 'conflict');
	assertErrorCode(await request(ws, 'POST',
				      '/api/v1/certificates/99999/revoke',
				      { headers: admin,
					json: { reason: 'x' } }),
			404, 'not_found');
	page = await verify(ws, codeOf(cert));
	assert.match(page.text, /data-status="revoked"/);
	assert.match(page.text, /widerrufen/);
	/* its PDF says so across the page, with the day */
	const stamped = await request(ws, 'GET',
				      `/api/v1/certificates/${cert.id}/pdf`,
				      { headers: pia });
	assert.equal(stamped.status, 200, stamped.text);
	fs.writeFileSync(file, stamped.bytes);
	/* -raw: in the order drawn, the band last */
	const stampedText = spawnSync('pdftotext', ['-raw', file, '-'],
				      { encoding: 'utf8' }).stdout
		.replace(/\s+/g, ' ');
	assert.ok(stampedText.includes('WIDERRUFEN am 31.01.2027'),
		  stampedText);
	assert.ok(stampedText.includes(cert.number), stampedText);
	/* a revoked certificate is not replaced without a new completion */
	const after = await certificates(ws, pia);
	assert.deepEqual(after.map((c) => [c.id, c.status]),
			 [[cert.id, 'revoked']]);

	/* another learner's, past its expiry */
	await completeCourse(ws, lea, COURSE);
	const leas = await certificates(ws, lea);
	assert.equal(leas.length, 1);
	assert.notEqual(leas[0].number, cert.number);
	assert.notEqual(codeOf(leas[0]), codeOf(cert));
	assert.match((await verify(ws, codeOf(leas[0]))).text,
		     /data-status="valid"/);
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: '2028-02-01T08:00:00Z' } });
	page = await verify(ws, codeOf(leas[0]));
	assert.equal(page.status, 200);
	assert.match(page.text, /data-status="expired"/);
	assert.match(page.text, /abgelaufen/);
	assert.match((await verify(ws, codeOf(cert))).text,
		     /data-status="revoked"/);
	const later = await certificates(ws, lea);
	assert.deepEqual(later.map((c) => [c.id, c.status]),
			 [[leas[0].id, 'expired']]);
});

lmsTest('cert: managers see and download those of their people only',
	async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'mia@example.org', 'manager', { site: 'koeln' });
	const piaId = await addUser(ws, 'pia@example.org', 'learner',
				    { site: 'koeln' });
	const leaId = await addUser(ws, 'lea@example.org', 'learner',
				    { site: 'bonn' });
	const admin = await bearer(ws, 'ada@example.org');
	const mia = await bearer(ws, 'mia@example.org');
	const pia = await bearer(ws, 'pia@example.org');
	const lea = await bearer(ws, 'lea@example.org');
	const house = await request(ws, 'POST', '/api/v1/groups', {
		headers: admin, json: { name: 'Haus Köln',
					rule: { site: 'koeln' } } });
	assert.equal(house.status, 201, house.text);
	for (const user of ['pia@example.org', 'lea@example.org']) {
		const made = await request(ws, 'POST', '/api/v1/assignments', {
			headers: admin,
			json: { course: COURSE, user, due: '2027-03-01' } });
		assert.equal(made.status, 201, made.text);
	}
	await completeCourse(ws, pia, COURSE);
	await completeCourse(ws, lea, COURSE);
	const [piaCert] = await certificates(ws, pia);
	const [leaCert] = await certificates(ws, lea);

	/* the manager's own list is their own (none) */
	assert.deepEqual(await certificates(ws, mia), []);
	/* one of the house: listed and downloadable */
	assert.deepEqual((await certificates(ws, mia, `?user=${piaId}`))
		.map((c) => c.number), [piaCert.number]);
	const pdf = await request(ws, 'GET',
		`/api/v1/certificates/${piaCert.id}/pdf`, { headers: mia });
	assert.equal(pdf.status, 200);
	assert.equal(pdf.headers.get('content-type'), 'application/pdf');
	/* not of the house: refused, and the PDF is not found */
	assertErrorCode(await request(ws, 'GET',
		`/api/v1/certificates?user=${leaId}`, { headers: mia }),
		403, 'forbidden');
	assertErrorCode(await request(ws, 'GET',
		`/api/v1/certificates/${leaCert.id}/pdf`, { headers: mia }),
		404, 'not_found');
	/* managers do not revoke; learners see no one else's */
	assertErrorCode(await request(ws, 'POST',
		`/api/v1/certificates/${piaCert.id}/revoke`,
		{ headers: mia, json: { reason: 'x' } }), 403, 'forbidden');
	assertErrorCode(await request(ws, 'GET',
		`/api/v1/certificates?user=${leaId}`, { headers: pia }),
		403, 'forbidden');
	assertErrorCode(await request(ws, 'GET',
		`/api/v1/certificates/${leaCert.id}/pdf`, { headers: pia }),
		404, 'not_found');
});
