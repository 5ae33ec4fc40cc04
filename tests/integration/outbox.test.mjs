/*
 * The outbox as an admin sees it (GET /api/v1/mail/outbox), on a
 * running workspace with a real SMTP server (aiosmtpd) that is stopped:
 * an invitation waits as "retrying" with the reason, nothing of its body
 * (the link) is shown, and once the server is back the mail is "sent".
 * Pages of 50, the state filter, and who may read it.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, setupMother, addWorkspace, waitFor, runOk, run,
	WORKSPACE_BIN,
} from './lib/harness.mjs';
import { request, assertError, addUser, bearer } from './lib/api.mjs';
import { smtpServer } from './lib/smtp.mjs';

const OUTBOX = '/api/v1/mail/outbox';

/* The ISO time sec seconds from now, as LMS_FAKE_NOW takes it. */
function isoIn(sec) {
	return new Date(Date.now() + sec * 1000).toISOString()
		.replace(/\.\d+Z$/, 'Z');
}

lmsTest('outbox: what waits, why, and what was sent', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', [], { serve: false });
	const smtp = await smtpServer();

	try {
		await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data,
			'smtp.url', `smtp://127.0.0.1:${smtp.port}`]);
		await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data,
			'mail.from', 'Academy <academy@example.com>']);
		await ws.start();
		await addUser(ws, 'ada@example.org', 'admin');
		const anna = await addUser(ws, 'anna@example.org', 'learner',
					   {}, { password: null });
		const admin = await bearer(ws, 'ada@example.org');
		const anne = await bearer(ws, 'anna@example.org');

		let r = await request(ws, 'GET', OUTBOX, { headers: admin });
		assert.equal(r.status, 200, r.text);
		assert.equal(r.headers.get('cache-control'), 'no-store');
		assert.deepEqual(r.json, { mails: [], next_before: null,
			counts: { queued: 0, retrying: 0, sent: 0 } });

		/* the server is down: the invitation waits, with the reason */
		await smtp.stop();
		r = await request(ws, 'POST',
				  `/api/v1/users/${anna}/invitation`,
				  { headers: admin, json: {} });
		assert.equal(r.status, 201, r.text);
		const token = /token=([0-9a-f]+)/.exec(r.json.url)[1];
		const waiting = await waitFor(async () => {
			const o = await request(ws, 'GET', OUTBOX,
						{ headers: admin });
			return o.json.counts.retrying === 1 ? o : null;
		}, undefined, { what: 'a failed attempt' });
		assert.ok(!waiting.text.includes(token), 'no link shown');
		const [mail] = waiting.json.mails;
		assert.equal(mail.to, 'anna@example.org');
		assert.equal(mail.kind, 'invite');
		assert.equal(mail.state, 'retrying');
		assert.equal(mail.attempts, 1);
		assert.equal(mail.sent, null);
		assert.ok(mail.last_error.length > 0, waiting.text);
		assert.ok(Date.parse(mail.next_attempt) >
			  Date.parse(mail.created), waiting.text);
		assert.ok(!('body' in mail));

		r = await request(ws, 'GET', `${OUTBOX}?state=sent`,
				  { headers: admin });
		assert.deepEqual(r.json.mails, []);
		r = await request(ws, 'GET', `${OUTBOX}?state=retrying`,
				  { headers: admin });
		assert.deepEqual(r.json.mails.map((m) => m.id), [mail.id]);

		/* back up and past the backoff: sent, once */
		await smtp.start();
		const env = { ...process.env, LMS_FAKE_NOW: isoIn(31) };
		const flushed = await runOk(WORKSPACE_BIN,
			['mail', 'flush', ws.data], { env });
		assert.equal(flushed.stdout, 'sent 1, failed 0\n');
		r = await request(ws, 'GET', OUTBOX, { headers: admin });
		assert.deepEqual(r.json.counts,
				 { queued: 0, retrying: 0, sent: 1 });
		assert.equal(r.json.mails[0].state, 'sent');
		assert.equal(r.json.mails[0].next_attempt, null);
		assert.match(r.json.mails[0].sent, /^\d{4}-\d\d-\d\dT.*Z$/);
		assert.equal(smtp.messages().length, 1);

		/* pages of 50, newest first; queued while the server is down */
		await smtp.stop();
		for (let i = 0; i < 52; i++) {
			const q = await run(WORKSPACE_BIN, ['mail', 'send-test',
				ws.data, `t${i}@example.org`]);
			assert.equal(q.code, 1, q.stderr);
		}
		r = await request(ws, 'GET', OUTBOX, { headers: admin });
		assert.equal(r.json.mails.length, 50);
		assert.equal(r.json.mails[0].to, 't51@example.org');
		assert.equal(r.json.counts.sent, 1);
		assert.equal(r.json.counts.queued + r.json.counts.retrying,
			     52);
		const next = await request(ws, 'GET',
			`${OUTBOX}?before=${r.json.next_before}`,
			{ headers: admin });
		assert.deepEqual(next.json.mails.map((m) => m.to),
				 ['t1@example.org', 't0@example.org',
				  'anna@example.org']);
		assert.equal(next.json.next_before, null);

		/* who may ask, and how */
		assertError(await request(ws, 'GET', OUTBOX,
					  { headers: anne }), 403, 'forbidden');
		assertError(await request(ws, 'GET', OUTBOX), 401,
			    'unauthorized');
		assertError(await request(ws, 'POST', OUTBOX,
					  { headers: admin, json: {} }),
			    405, 'method_not_allowed');
		for (const q of ['state=lost', 'state=', 'before=x',
				 'before=0'])
			assertError(await request(ws, 'GET', `${OUTBOX}?${q}`,
						  { headers: admin }),
				    400, 'bad_request');
	} finally {
		await smtp.stop();
	}
});
