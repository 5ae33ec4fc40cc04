/*
 * The tenant's own texts on running daemons. Mail templates: an admin
 * words the invitation (German on the command line, the body read from
 * stdin; English and a reminder through PUT /api/v1/settings), GET
 * /api/v1/mail-templates lists them with the defaults, and the
 * invitations that arrive at a real SMTP server (aiosmtpd) carry the
 * tenant's text in the person's language with every placeholder filled
 * in. A template with an unknown placeholder or an unclosed {{ is
 * refused by the API (400 naming the key and the placeholder) and the
 * command line (exit 1), and the stored text stays. Certificate
 * templates: the admin's wording and a signature image go on the PDF of
 * a learner who completes the course (read back with pdftotext and
 * pdfimages, and turned into a PNG by pdftoppm that is kept for a
 * reader); a template asking for a signature that is not stored, and a
 * file that is not a PNG, are refused with the reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import {
	lmsTest, run, runOk, describeResult, setupMother, addWorkspace,
	WORKSPACE_BIN, waitFor, tmpPath,
} from './lib/harness.mjs';
import {
	request, assertError, addUser, bearer, completeCourse,
} from './lib/api.mjs';
import { smtpServer, header, decodedHeader } from './lib/smtp.mjs';

const COURSE = 'hygiene-basics';
const START = '2027-01-31T08:00:00Z';

function settings(ws, ...args) {
	return run(WORKSPACE_BIN, ['settings', args[0], ws.data,
				   ...args.slice(1)]);
}

/* The quoted-printable body of a message as UTF-8 text, "\n" lines. */
function bodyOf(msg) {
	const head = /\r?\n\r?\n/.exec(msg);
	const qp = msg.slice(head.index + head[0].length)
		.replace(/=\r?\n/g, '');
	const bytes = [];

	for (let i = 0; i < qp.length; i++) {
		const hex = qp.slice(i + 1, i + 3);

		if (qp[i] === '=' && /^[0-9A-F]{2}$/.test(hex)) {
			bytes.push(parseInt(hex, 16));
			i += 2;
		} else {
			bytes.push(...Buffer.from(qp[i], 'utf8'));
		}
	}
	return Buffer.from(bytes).toString('utf8').replace(/\r\n/g, '\n');
}

/* The one message to address, waited for. */
async function mailTo(smtp, address) {
	let found;

	await waitFor(() => (found = smtp.messages().find(
		(m) => header(m, 'To') === `<${address}>`)) !== undefined,
		undefined, { what: `a mail to ${address}` });
	return found;
}

/* A PNG of w x h pixels: a dark stroke on white, like a signature. */
function png(w, h) {
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
		for (let x = 0; x < w; x++) {
			const ink = Math.abs(y - h / 2 -
				(h / 3) * Math.sin(x / 12)) < 2;
			row.push(...(ink ? [20, 30, 110] : [255, 255, 255]));
		}
		rows.push(Buffer.from(row));
	}
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', head),
		chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
		chunk('IEND', Buffer.alloc(0)),
	]);
}

async function mailTemplates(ws, headers) {
	const r = await request(ws, 'GET', '/api/v1/mail-templates',
				{ headers });
	assert.equal(r.status, 200, r.text);
	return r.json.templates;
}

function entry(list, kind, language) {
	return list.find((t) => t.kind === kind && t.language === language);
}

lmsTest('mail templates: set by CLI and API, used by invitations',
	async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', [], { serve: false });
	const smtp = await smtpServer();

	try {
		for (const [key, value] of [
			['smtp.url', `smtp://127.0.0.1:${smtp.port}`],
			['mail.from', 'Academy <academy@example.com>'],
			['web.url', 'https://academy.example.com'],
			['mail.template.invite.de.subject',
			 'Willkommen bei {{academy}}, {{learner}}!'],
		])
			await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data,
						    key, value]);
		/* a body of several lines from stdin */
		const deBody = 'Hallo {{learner}},\n\n' +
			'Ihr Zugang zur Akademie {{academy}}:\n{{url}}\n\n' +
			'Bis bald!\n';
		await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data,
			'mail.template.invite.de.body', '-'],
			{ input: deBody });
		const shown = await runOk(WORKSPACE_BIN, ['settings', 'get',
			ws.data, 'mail.template.invite.de.body']);
		assert.equal(shown.stdout,
			     `mail.template.invite.de.body=${deBody}`);
		const all = await runOk(WORKSPACE_BIN, ['settings', 'get',
							ws.data]);
		assert.ok(all.stdout.includes(
			'\nmail.template.invite.de.body=(set, 6 lines)\n' +
			'mail.template.invite.de.subject=Willkommen bei ' +
			'{{academy}}, {{learner}}!\n'), all.stdout);
		const help = await runOk(WORKSPACE_BIN, ['settings', '--help']);
		assert.match(help.stdout, /mail\.template\.KIND\.LANG\.body/);
		assert.match(help.stdout, /VALUE - reads/);

		await ws.start();
		await addUser(ws, 'admin@example.org', 'admin');
		const anna = await addUser(ws, 'anna@example.org', 'learner',
					   {}, { name: 'Anna Schmidt',
						 password: null });
		const bob = await addUser(ws, 'bob@example.org', 'learner',
					  {}, { name: 'Bob Baumann' });
		const admin = await bearer(ws, 'admin@example.org');
		const bobAuth = await bearer(ws, 'bob@example.org');
		let res = await request(ws, 'PUT', '/api/v1/branding', {
			headers: admin, json: { name: 'Klinik Süd',
						default_language: 'en' } });
		assert.equal(res.status, 200, res.text);

		/* English and a reminder through the API; GET /api/v1/settings
		 * keeps its shape */
		res = await request(ws, 'PUT', '/api/v1/settings', {
			headers: admin,
			json: {
				'mail.template.invite.en.subject':
					'Welcome to {{academy}}',
				'mail.template.invite.en.body':
					'Hi {{learner}},\n' +
					'your link: {{url}}\n' +
					'-- {{academy}}\n',
				'mail.template.reminder.de.subject':
					'Erinnerung: {{course}} bis {{due}}',
				'mail.template.reminder.de.body':
					'Hallo {{learner}}, noch {{days}} ' +
					'Tage für {{course}}: {{url}}\n',
			} });
		assert.equal(res.status, 200, res.text);
		assert.deepEqual(Object.keys(res.json), [
			'smtp.url', 'smtp.user', 'smtp.password_set',
			'mail.from', 'web.url', 'reminders.schedule']);

		const list = await mailTemplates(ws, admin);
		assert.equal(list.length, 14); /* 7 kinds, de and en */
		assert.deepEqual(entry(list, 'invite', 'de'), {
			kind: 'invite', language: 'de',
			subject: 'Willkommen bei {{academy}}, {{learner}}!',
			body: deBody, custom: true,
			placeholders: ['learner', 'url', 'academy'] });
		assert.equal(entry(list, 'reminder', 'de').subject,
			     'Erinnerung: {{course}} bis {{due}}');
		assert.equal(entry(list, 'reminder', 'en').custom, false);
		const reset = entry(list, 'reset', 'de');
		assert.equal(reset.custom, false);
		assert.equal(reset.subject,
			     'Neues Passwort für die Lernplattform');
		assert.match(reset.body, /\{\{url\}\}/);
		assert.deepEqual(entry(list, 'overdue_manager', 'en')
				 .placeholders, ['manager', 'learner',
				 'course', 'due', 'days', 'url', 'academy']);
		assert.deepEqual(entry(list, 'overdue_digest', 'de')
				 .placeholders, ['manager', 'count', 'list',
				 'url', 'academy']);
		assertError(await request(ws, 'GET', '/api/v1/mail-templates',
					  { headers: bobAuth }), 403,
			    'forbidden');

		/* Anna's language is not set: the academy's default,
		 * English here */
		res = await request(ws, 'POST',
				    `/api/v1/users/${anna}/invitation`,
				    { headers: admin, json: {} });
		assert.equal(res.status, 201, res.text);
		const en = await mailTo(smtp, 'anna@example.org');
		assert.equal(decodedHeader(en, 'Subject'),
			     'Welcome to Klinik Süd');
		assert.equal(bodyOf(en), 'Hi Anna Schmidt,\nyour link: ' +
			     `https://academy.example.com${res.json.url}\n` +
			     '-- Klinik Süd\n');

		/* Bob chose German: the text set on the command line */
		res = await request(ws, 'PATCH', '/api/v1/session/user', {
			headers: bobAuth, json: { language: 'de' } });
		assert.equal(res.status, 200, res.text);
		res = await request(ws, 'POST',
				    `/api/v1/users/${bob}/invitation`,
				    { headers: admin, json: {} });
		assert.equal(res.status, 201, res.text);
		const de = await mailTo(smtp, 'bob@example.org');
		assert.equal(decodedHeader(de, 'Subject'),
			     'Willkommen bei Klinik Süd, Bob Baumann!');
		assert.equal(bodyOf(de), 'Hallo Bob Baumann,\n\n' +
			     'Ihr Zugang zur Akademie Klinik Süd:\n' +
			     `https://academy.example.com${res.json.url}\n\n` +
			     'Bis bald!\n');

		/* unset, the built-in text is back */
		res = await request(ws, 'PUT', '/api/v1/settings', {
			headers: admin,
			json: { 'mail.template.invite.en.subject': null,
				'mail.template.invite.en.body': '' } });
		assert.equal(res.status, 200, res.text);
		const back = entry(await mailTemplates(ws, admin), 'invite',
				   'en');
		assert.equal(back.custom, false);
		assert.equal(back.subject,
			     'Invitation to the learning platform');
	} finally {
		await smtp.stop();
	}
});

lmsTest('mail templates: unknown placeholders and an unclosed {{ are ' +
	'refused', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);
	const key = 'mail.template.reminder.de.subject';
	const good = 'Erinnerung: {{course}}';

	await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data, key, good]);
	for (const [value, words] of [
		['Erinnerung: {{kurs}}', 'unknown placeholder {{kurs}}'],
		['Erinnerung: {{course}', 'unclosed {{ at byte 13'],
		['Erinnerung: {{Course}}', 'bad placeholder {{Course'],
		['Erinnerung\nzweite Zeile', 'one line'],
	]) {
		const r = await settings(ws, 'set', key, value);
		assert.equal(r.code, 1, describeResult(r));
		assert.ok(r.stderr.startsWith(`lms-workspace: ${key}: `) &&
			  r.stderr.includes(words), describeResult(r));
	}
	let r = await run(WORKSPACE_BIN, ['settings', 'set', ws.data,
		'mail.template.overdue_manager.en.body', '-'],
		{ input: 'Dear {{manager}},\n{{learner}} {{boss}}\n' });
	assert.equal(r.code, 1, describeResult(r));
	assert.match(r.stderr, /unknown placeholder \{\{boss\}\}/);
	r = await settings(ws, 'set', 'mail.template.invite.fr.body', 'x');
	assert.equal(r.code, 2, describeResult(r));
	r = await runOk(WORKSPACE_BIN, ['settings', 'get', ws.data, key]);
	assert.equal(r.stdout, `${key}=${good}\n`);

	await addUser(ws, 'admin@example.org', 'admin');
	const admin = await bearer(ws, 'admin@example.org');
	const before = await mailTemplates(ws, admin);
	for (const [body, bad, words] of [
		[{ [key]: 'Erinnerung: {{kurs}}' }, key,
		 'unknown placeholder {{kurs}}'],
		[{ 'mail.template.invite.de.subject': 'Neu',
		   'mail.template.invite.de.body': 'Hallo {{learner' },
		 'mail.template.invite.de.body', 'unclosed {{ at byte 7'],
		[{ 'mail.template.expiry.en.body': '{{learner}} {{due}}' },
		 'mail.template.expiry.en.body', 'unknown placeholder {{due}}'],
		[{ 'mail.template.invite.de.subject': 42 },
		 'mail.template.invite.de.subject', 'string or null'],
	]) {
		const res = await request(ws, 'PUT', '/api/v1/settings',
					  { headers: admin, json: body });
		assertError(res, 400, 'bad_request');
		assert.ok(res.json.error.message.includes(bad) &&
			  res.json.error.message.includes(words), res.text);
	}
	assert.deepEqual(await mailTemplates(ws, admin), before);
	assert.equal(entry(before, 'reminder', 'de').subject, good);
	assert.equal(entry(before, 'invite', 'de').custom, false);
});

function have(cmd) {
	return spawnSync(cmd, ['-v']).error === undefined;
}

/* The template as GET /api/v1/certificate-template shows it. */
async function certTemplate(ws, headers) {
	const r = await request(ws, 'GET', '/api/v1/certificate-template',
				{ headers });
	assert.equal(r.status, 200, r.text);
	return r.json;
}

lmsTest('certificate template: the wording and a signature on the PDF',
	async (t) => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });
	/* the clock moves once the course is there */
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: START } });

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'pia@example.org', 'learner', {},
		      { name: 'Pia Prüfling' });
	const admin = await bearer(ws, 'ada@example.org');
	const pia = await bearer(ws, 'pia@example.org');
	let r = await request(ws, 'PUT', '/api/v1/branding', {
		headers: admin, json: { name: 'Klinik Süd' } });
	assert.equal(r.status, 200, r.text);

	const builtIn = await certTemplate(ws, admin);
	assert.deepEqual(builtIn.title, { de: 'Zertifikat',
					  en: 'Certificate' });
	assert.equal(builtIn.custom, false);
	assert.equal(builtIn.signature, false);
	assertError(await request(ws, 'GET', '/api/v1/certificate-template',
				  { headers: pia }), 403, 'forbidden');

	/* the signature through the API, the German wording too */
	r = await request(ws, 'PUT', '/api/v1/certificate-template/signature',
			  { headers: { ...admin, 'Content-Type': 'image/png' },
			    body: png(240, 60) });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.signature, true);
	r = await request(ws, 'PUT', '/api/v1/certificate-template', {
		headers: admin,
		json: {
			title: { de: 'Teilnahmebescheinigung' },
			body: { de: '{{learner}} hat die Schulung ' +
				'„{{course}}“ am {{issued}} erfolgreich ' +
				'abgeschlossen.\nGültig bis {{expires}}.' },
			signature: true,
		} });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.custom, true);
	assert.equal(r.json.title.de, 'Teilnahmebescheinigung');
	assert.equal(r.json.title.en, 'Certificate');

	/* the English title and the signer on the command line */
	const file = tmpPath('template.json');
	fs.writeFileSync(file, JSON.stringify({
		title: { en: 'Certificate of attendance' },
		signer: 'Dr. Anna Beispiel\nLeitung der {{academy}}',
	}));
	await runOk(WORKSPACE_BIN, ['certificate', 'template', ws.data,
				    file]);
	const show = await runOk(WORKSPACE_BIN, ['certificate', 'template',
						 ws.data, '--show']);
	const shown = JSON.parse(show.stdout);
	assert.deepEqual(shown, await certTemplate(ws, admin));
	assert.equal(shown.title.en, 'Certificate of attendance');
	assert.equal(shown.signer.de, 'Dr. Anna Beispiel\n' +
		     'Leitung der {{academy}}');
	assert.equal(shown.signature, true);
	const help = await runOk(WORKSPACE_BIN, ['certificate', '--help']);
	assert.match(help.stdout, /--signature PNG/);

	/* Pia completes the course; her certificate is German */
	const made = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin,
		json: { course: COURSE, user: 'pia@example.org',
			due: '2027-03-01' } });
	assert.equal(made.status, 201, made.text);
	await completeCourse(ws, pia, COURSE);
	r = await request(ws, 'GET', '/api/v1/certificates',
			  { headers: pia });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.length, 1, r.text);
	const cert = r.json[0];
	const pdf = await request(ws, 'GET',
				  `/api/v1/certificates/${cert.id}/pdf`,
				  { headers: pia });
	assert.equal(pdf.status, 200, pdf.text);
	assert.equal(pdf.bytes.subarray(0, 5).toString(), '%PDF-');
	const pdfFile = tmpPath('cert.pdf');
	fs.writeFileSync(pdfFile, pdf.bytes);
	assert.ok(have('pdftotext') && have('pdftoppm') && have('pdfimages'),
		  'pdftotext, pdftoppm and pdfimages (poppler-utils) are ' +
		  'needed');
	const text = spawnSync('pdftotext', [pdfFile, '-'],
			       { encoding: 'utf8' }).stdout
		.replace(/\s+/g, ' ');
	for (const want of [
		'Teilnahmebescheinigung',
		'Pia Prüfling hat die Schulung „Hygiene-Grundlagen“ am ' +
		'31.01.2027 erfolgreich abgeschlossen.',
		'Gültig bis 31.01.2028.',
		'Dr. Anna Beispiel', 'Leitung der Klinik Süd',
		cert.number, cert.revision.slice(0, 12), 'Klinik Süd',
	])
		assert.ok(text.includes(want), `${want} in ${text}`);
	for (const unwanted of ['Hiermit wird bestätigt', '{{', '}}'])
		assert.ok(!text.includes(unwanted), `${unwanted} in ${text}`);
	/* the signature is the one image (no logo was uploaded) */
	const images = spawnSync('pdfimages', ['-list', pdfFile],
				 { encoding: 'utf8' }).stdout.split('\n')
		.filter((l) => /^\s*\d+\s+\d+\s+image\s/.test(l));
	assert.equal(images.length, 1, images.join('\n'));
	assert.match(images[0], /\s240\s+60\s/);

	const dir = process.env.LMS_SCREENSHOT_DIR || os.tmpdir();
	fs.mkdirSync(dir, { recursive: true });
	const out = path.join(dir, `lms-template-cert-${process.pid}-` +
			      `${Date.now()}`);
	const ppm = spawnSync('pdftoppm', ['-png', '-r', '50', '-singlefile',
					 pdfFile, out]);
	assert.equal(ppm.status, 0, String(ppm.stderr));
	assert.equal(fs.readFileSync(`${out}.png`).subarray(1, 4).toString(),
		     'PNG');
	t.diagnostic(`certificate picture at ${out}.png`);
});

lmsTest('certificate template: a missing or broken signature is refused',
	async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);
	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'lea@example.org', 'learner');
	const admin = await bearer(ws, 'ada@example.org');
	const lea = await bearer(ws, 'lea@example.org');
	const before = await certTemplate(ws, admin);
	const sigPath = '/api/v1/certificate-template/signature';
	const put = (body) => request(ws, 'PUT', sigPath, {
		headers: { ...admin, 'Content-Type': 'image/png' }, body });

	/* the API */
	let r = await request(ws, 'PUT', '/api/v1/certificate-template', {
		headers: admin,
		json: { title: 'Urkunde', signature: true } });
	assertError(r, 400, 'bad_request');
	assert.match(r.json.error.message, /no signature image is stored/);
	r = await request(ws, 'PUT', '/api/v1/certificate-template', {
		headers: admin,
		json: { body: {
			en: '{{learner}} did {{course}} {{grade}}' } } });
	assertError(r, 400, 'bad_request');
	assert.match(r.json.error.message,
		     /body\.en: unknown placeholder \{\{grade\}\}/);
	r = await request(ws, 'PUT', '/api/v1/certificate-template', {
		headers: admin, json: { title: { de: 'Urkunde {{learner' } } });
	assertError(r, 400, 'bad_request');
	assert.match(r.json.error.message, /title\.de: unclosed \{\{/);
	r = await put(Buffer.from('GIF89a not a png at all'));
	assertError(r, 415, 'unsupported_media_type');
	assert.match(r.json.error.message, /PNG/);
	r = await put(png(100, 30).subarray(0, 45));
	assertError(r, 400, 'bad_request');
	assert.match(r.json.error.message, /cannot be decoded/);
	r = await put(Buffer.concat([png(100, 30),
				     Buffer.alloc(512 * 1024)]));
	assertError(r, 413, 'too_large');
	assertError(await request(ws, 'PUT', '/api/v1/certificate-template',
				  { headers: lea, json: { title: 'x' } }),
		    403, 'forbidden');
	assertError(await request(ws, 'GET', sigPath, { headers: admin }),
		    404, 'not_found');
	assert.deepEqual(await certTemplate(ws, admin), before);

	/* the command line */
	const file = tmpPath('template.json');
	fs.writeFileSync(file, JSON.stringify({
		title: 'Urkunde', signature: true }));
	const notPng = tmpPath('signature.txt');
	fs.writeFileSync(notPng, 'just text\n');
	const cut = tmpPath('cut.png');
	fs.writeFileSync(cut, png(100, 30).subarray(0, 45));
	const unknown = tmpPath('unknown.json');
	fs.writeFileSync(unknown, JSON.stringify({
		body: '{{learner}}: {{course}} ({{score}})' }));
	for (const [args, words] of [
		[[file], 'no signature image is stored'],
		[[file, '--signature', notPng], 'not a PNG image'],
		[[file, '--signature', cut], 'cannot be decoded'],
		[[file, '--signature', tmpPath('missing.png')],
		 'cannot read the signature image'],
		[[tmpPath('missing.json')], 'cannot read the template'],
		[[unknown], 'unknown placeholder {{score}}'],
	]) {
		const res = await run(WORKSPACE_BIN, ['certificate',
			'template', ws.data, ...args]);
		assert.equal(res.code, 1, describeResult(res));
		assert.ok(res.stderr.startsWith('lms-workspace: ') &&
			  res.stderr.includes(words), describeResult(res));
	}
	assert.deepEqual(await certTemplate(ws, admin), before);

	/* with the image it is taken; DELETE removes the image */
	const good = tmpPath('good.png');
	fs.writeFileSync(good, png(100, 30));
	await runOk(WORKSPACE_BIN, ['certificate', 'template', ws.data, file,
				    '--signature', good]);
	const after = await certTemplate(ws, admin);
	assert.equal(after.signature, true);
	assert.equal(after.title.de, 'Urkunde');
	r = await request(ws, 'GET', sigPath, { headers: admin });
	assert.equal(r.status, 200);
	assert.deepEqual(r.bytes, fs.readFileSync(good));
	r = await request(ws, 'DELETE', sigPath, { headers: admin });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.signature, false);
	r = await request(ws, 'PUT', '/api/v1/certificate-template', {
		headers: admin, json: { title: null } });
	assert.equal(r.status, 200, r.text);
	assert.deepEqual(r.json, before);
});
