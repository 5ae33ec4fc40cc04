/*
 * The tenant's mail, as an operator and an admin use it, against a real
 * SMTP server on loopback (aiosmtpd, writing what arrives to a Maildir):
 * the SMTP settings set and read on the command line and through GET and
 * PUT /api/v1/settings (the password never shown, a bad value refused
 * with its key named and nothing changed); a test mail that arrives with
 * the right headers and body; and with the server stopped, a mail that
 * stays queued with its attempt and error counted, then is delivered
 * exactly once when the server is back.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, run, runOk, describeResult, setupMother, addWorkspace,
	WORKSPACE_BIN, waitFor, sleep,
} from './lib/harness.mjs';
import { request, assertError, addUser, signIn } from './lib/api.mjs';
import { smtpServer, header } from './lib/smtp.mjs';

function settings(ws, ...args) {
	return run(WORKSPACE_BIN, ['settings', ...args.map(
		(a) => a === ws ? ws.data : a)]);
}

lmsTest('settings on the command line and the API', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	for (const [key, value] of [
		['smtp.url', 'smtp://127.0.0.1:2525'],
		['smtp.user', 'academy'],
		['smtp.password', 'pw-never-shown'],
		['mail.from', 'Akademie Müller <akademie@example.com>'],
		['reminders.schedule', '-14,0,+7,expiry-30'],
	])
		await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data, key,
					    value]);
	for (const [args, code, words] of [
		[['set', ws, 'smtp.host', 'x'], 2,
		 "unknown setting 'smtp.host'"],
		[['set', ws, 'smtp.url', 'http://mail:25'], 1, 'smtp.url'],
		[['set', ws, 'smtp.url', 'smtp://mail.example.com'], 1,
		 'port'],
		[['set', ws, 'mail.from', 'a@b.c\r\nBcc: x@y.z'], 1,
		 'mail.from'],
		[['set', ws, 'reminders.schedule', '-14,soon'], 1, "'soon'"],
		[['set', ws, 'smtp.url'], 2, 'VALUE'],
		[['get', ws, 'nope'], 2, "unknown setting 'nope'"],
	]) {
		const r = await settings(ws, ...args);

		assert.equal(r.code, code, describeResult(r));
		assert.ok(r.stderr.startsWith('lms-workspace: ') &&
			  r.stderr.includes(words), describeResult(r));
	}
	const all = await runOk(WORKSPACE_BIN, ['settings', 'get', ws.data]);
	assert.equal(all.stdout,
		     'smtp.url=smtp://127.0.0.1:2525\n' +
		     'smtp.user=academy\n' +
		     'smtp.password=(set)\n' +
		     'mail.from=Akademie Müller <akademie@example.com>\n' +
		     'web.url=(not set)\n' +
		     'reminders.schedule=-14,0,+7,expiry-30\n');
	const one = await runOk(WORKSPACE_BIN,
				['settings', 'get', ws.data, 'smtp.url']);
	assert.equal(one.stdout, 'smtp.url=smtp://127.0.0.1:2525\n');
	const help = await runOk(WORKSPACE_BIN, ['settings', '--help']);
	assert.match(help.stdout, /reminders\.schedule/);

	await addUser(ws, 'admin@example.org', 'admin');
	await addUser(ws, 'lea@example.org', 'learner');
	const admin = await signIn(ws, 'admin@example.org');
	const lea = await signIn(ws, 'lea@example.org');
	const expected = {
		'smtp.url': 'smtp://127.0.0.1:2525',
		'smtp.user': 'academy',
		'smtp.password_set': true,
		'mail.from': 'Akademie Müller <akademie@example.com>',
		'web.url': null,
		'reminders.schedule': '-14,0,+7,expiry-30',
	};
	let res = await request(ws, 'GET', '/api/v1/settings',
				{ headers: admin });
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(res.json, expected);
	assert.equal(res.text.includes('pw-never-shown'), false);
	assertError(await request(ws, 'GET', '/api/v1/settings',
				  { headers: lea }), 403, 'forbidden');
	assertError(await request(ws, 'PUT', '/api/v1/settings',
				  { headers: lea,
				    json: { 'smtp.user': 'x' } }), 403,
		    'forbidden');

	/* one bad key: 400 naming it, and the good one is not stored */
	for (const [body, key] of [
		[{ 'smtp.user': 'changed', 'smtp.url': 'ftp://x:1' },
		 'smtp.url'],
		[{ 'smtp.user': 'changed', 'smtp.port': '25' }, 'smtp.port'],
		[{ 'smtp.user': 'changed', 'mail.from': 42 }, 'mail.from'],
	]) {
		res = await request(ws, 'PUT', '/api/v1/settings',
				    { headers: admin, json: body });
		assertError(res, 400, 'bad_request');
		assert.ok(res.json.error.message.includes(key), res.text);
	}
	res = await request(ws, 'GET', '/api/v1/settings',
			    { headers: admin });
	assert.deepEqual(res.json, expected);

	res = await request(ws, 'PUT', '/api/v1/settings', {
		headers: admin,
		json: { 'smtp.password': null, 'web.url':
			'https://academy.example.com',
			'smtp.url': 'smtps://mail.example.com:465' },
	});
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(res.json, {
		...expected, 'smtp.password_set': false,
		'web.url': 'https://academy.example.com',
		'smtp.url': 'smtps://mail.example.com:465',
	});
	const after = await runOk(WORKSPACE_BIN,
				  ['settings', 'get', ws.data]);
	assert.match(after.stdout, /^smtp\.password=\(not set\)$/m);
	assert.match(after.stdout,
		     /^smtp\.url=smtps:\/\/mail\.example\.com:465$/m);
});

lmsTest('a test mail arrives; a stopped server delays it, none is lost',
	async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', [], { serve: false });
	const smtp = await smtpServer();

	try {
		await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data,
			'smtp.url', `smtp://127.0.0.1:${smtp.port}`]);
		await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data,
			'mail.from',
			'Akademie Müller <akademie@example.com>']);

		const bad = await run(WORKSPACE_BIN, ['mail', 'send-test',
			ws.data, 'x@example.org\r\nBcc: y@example.org']);
		assert.equal(bad.code, 1, describeResult(bad));

		const sent = await runOk(WORKSPACE_BIN, ['mail', 'send-test',
						 ws.data, 'lea@example.org']);
		assert.equal(sent.stdout, 'sent 1, failed 0\n');
		const [msg, ...more] = smtp.messages();
		assert.equal(more.length, 0);
		assert.equal(header(msg, 'To'), '<lea@example.org>');
		assert.equal(header(msg, 'X-RcptTo'), 'lea@example.org');
		assert.equal(header(msg, 'X-MailFrom'),
			     'akademie@example.com');
		assert.equal(header(msg, 'From'),
			     '=?UTF-8?B?QWthZGVtaWUgTcO8bGxlcg==?= ' +
			     '<akademie@example.com>');
		assert.equal(header(msg, 'Subject'),
			     'Test mail of the learning platform');
		assert.match(header(msg, 'Date'),
			     /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
		assert.match(header(msg, 'Message-ID'),
			     /^<[0-9a-f]{32}@example\.com>$/);
		assert.equal(header(msg, 'MIME-Version'), '1.0');
		assert.equal(header(msg, 'Content-Type'),
			     'text/plain; charset=UTF-8');
		assert.match(msg, new RegExp('\n\nThis mail checks the SMTP ' +
			'settings of the workspace\\.\r?\n$'));

		/* the server is down: the mail stays queued */
		await smtp.stop();
		const down = await run(WORKSPACE_BIN, ['mail', 'send-test',
						      ws.data,
						      'max@example.org']);
		assert.equal(down.code, 1, describeResult(down));
		assert.equal(down.stdout, 'sent 0, failed 1\n');
		assert.match(down.stderr, new RegExp('level=warn .*msg="mail ' +
			'not sent" .*attempt=1 retry_in=30 error="[^"]+"'));
		assert.match(down.stderr, /1 mail not sent/);

		/* not due again before its backoff */
		await smtp.start();
		const early = await runOk(WORKSPACE_BIN,
					  ['mail', 'flush', ws.data]);
		assert.equal(early.stdout, 'sent 0, failed 0\n');
		assert.equal(smtp.messages().length, 1);

		/* 31 s on, the next flush delivers it, exactly once */
		const later = new Date(Date.now() + 31000).toISOString()
			.replace(/\.\d+Z$/, 'Z');
		const env = { ...process.env, LMS_FAKE_NOW: later };
		const flushed = await runOk(WORKSPACE_BIN,
			['mail', 'flush', ws.data], { env });
		assert.equal(flushed.stdout, 'sent 1, failed 0\n');
		const again = await runOk(WORKSPACE_BIN,
			['mail', 'flush', ws.data], { env });
		assert.equal(again.stdout, 'sent 0, failed 0\n');
		const all = smtp.messages();
		assert.equal(all.length, 2);
		assert.equal(all.filter((m) => header(m, 'To') ===
					'<max@example.org>').length, 1);
	} finally {
		await smtp.stop();
	}
});

/* The link in a mail's quoted-printable body. */
function linkOf(msg) {
	const body = msg.split(/\r?\n\r?\n/).slice(1).join('\n')
		.replace(/=\r?\n/g, '')
		.replace(/=([0-9A-F]{2})/g,
			 (_, h) => String.fromCharCode(parseInt(h, 16)));
	const m = /(https?:\/\/\S+token=([0-9a-f]+))/.exec(body);

	assert.ok(m, body);
	return { url: m[1], token: m[2], body };
}

lmsTest('invitations and resets are mailed by serve and by the command ' +
	'line', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', [], { serve: false });
	const smtp = await smtpServer();

	try {
		for (const [key, value] of [
			['smtp.url', `smtp://127.0.0.1:${smtp.port}`],
			['mail.from', 'Academy <academy@example.com>'],
			['web.url', 'https://academy.example.com'],
		])
			await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data,
						    key, value]);
		await addUser(ws, 'admin@example.org', 'admin');
		const anna = await addUser(ws, 'anna@example.org', 'learner',
					   {}, { name: 'Anna Schmidt',
						 password: null });
		await addUser(ws, 'bob@example.org', 'learner', {},
			      { name: 'Bob' });

		/* the command line queues, mail flush sends; Bob chose no
		 * language: the academy's default, German */
		const printed = await runOk(WORKSPACE_BIN, ['user', 'invite',
			ws.data, 'bob@example.org', '--mail']);
		await runOk(WORKSPACE_BIN, ['mail', 'flush', ws.data]);
		let msgs = smtp.messages();
		assert.equal(msgs.length, 1);
		assert.equal(header(msgs[0], 'To'), '<bob@example.org>');
		assert.equal(header(msgs[0], 'Subject'),
			     'Einladung zur Lernplattform');
		assert.equal(linkOf(msgs[0]).url,
			     'https://academy.example.com' +
			     printed.stdout.trim());

		/* serve's sender: an admin's invitation arrives by itself */
		await ws.start();
		const admin = await signIn(ws, 'admin@example.org');
		/* from now on the academy speaks English by default */
		const english = await request(ws, 'PUT', '/api/v1/branding', {
			headers: admin, json: { default_language: 'en' } });
		assert.equal(english.status, 200, english.text);
		let res = await request(ws, 'POST',
				    `/api/v1/users/${anna}/invitation`,
				    { headers: admin, json: {} });
		assert.equal(res.status, 201, res.text);
		await waitFor(() => smtp.messages().length === 2);
		msgs = smtp.messages();
		const invite = msgs.find((m) => header(m, 'To') ===
					 '<anna@example.org>');
		const { body, token } = linkOf(invite);
		assert.ok(body.includes('Hello Anna Schmidt,'), body);
		assert.equal(res.json.url, `/#/password?token=${token}`);

		/* the person asks for a reset: one mail, whose link works */
		for (let i = 0; i < 2; i++) {
			res = await request(ws, 'POST',
					    '/api/v1/password-reset',
					    { json: { email:
						      'bob@example.org' } });
			assert.equal(res.status, 202, res.text);
		}
		res = await request(ws, 'POST', '/api/v1/password-reset',
				    { json: { email: 'nobody@example.org' } });
		assert.equal(res.status, 202, res.text);
		await waitFor(() => smtp.messages().length === 3);
		await sleep(500);
		msgs = smtp.messages();
		assert.equal(msgs.length, 3);
		const reset = msgs.find((m) => header(m, 'Subject') ===
					'Set a new password');
		assert.equal(header(reset, 'To'), '<bob@example.org>');
		res = await request(ws, 'POST', '/api/v1/password', {
			json: { token: linkOf(reset).token,
				password: 'a brand new password' },
		});
		assert.equal(res.status, 200, res.text);
	} finally {
		await smtp.stop();
	}
});
