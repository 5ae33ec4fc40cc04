/*
 * GET /metrics of a running workspace, in the Prometheus text format:
 * the sync client's state and counters follow a revision applied and
 * one refused (a workspace whose clock is far ahead refuses the
 * mother's events as expired), the outbox's queue follows a mail that
 * cannot be sent, and HTTP answers are counted by status. Readable from
 * the host itself; through a proxy (X-Forwarded-For) only by an admin.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	lmsTest, setupMother, addWorkspace, waitFor, copySampleCourse,
} from './lib/harness.mjs';
import { request, assertError, addUser, bearer } from './lib/api.mjs';

const COURSE = 'hygiene-basics';

/* The samples of a metrics text: { 'name{labels}': value }. */
function samples(text) {
	const out = {};

	for (const line of text.split('\n')) {
		if (!line || line.startsWith('#'))
			continue;
		const m = /^(\S+) (\S+)$/.exec(line);
		assert.ok(m, `a sample line: ${line}`);
		out[m[1]] = Number(m[2]);
	}
	return out;
}

async function metrics(ws, headers) {
	const r = await request(ws, 'GET', '/metrics', { headers });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.headers.get('content-type'),
		     'text/plain; version=0.0.4; charset=utf-8');
	assert.match(r.text, /^# HELP lms_sync_connected /m);
	assert.match(r.text, /^# TYPE lms_sync_events_applied_total counter$/m);
	return samples(r.text);
}

lmsTest('metrics: sync, outbox and HTTP answers', async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await ws.waitRevision(COURSE, mother.revisions[COURSE]);
	await addUser(ws, 'ada@example.org', 'admin');
	const lea = await addUser(ws, 'lea@example.org', 'learner', {},
				  { password: null });
	const admin = await bearer(ws, 'ada@example.org');

	let m = await waitFor(async () => {
		const s = await metrics(ws);
		return s.lms_sync_connected === 1 ? s : null;
	}, undefined, { what: 'a connected sync client' });
	assert.equal(m.lms_sync_applied_seq, 1);
	assert.equal(m.lms_sync_head_seq, 1);
	assert.equal(m.lms_sync_lag_events, 0);
	assert.equal(m.lms_sync_events_refused_total, 0);
	assert.equal(m['lms_mail_queue{state="queued"}'], 0);

	/* answers by status: one 404 more */
	const before404 = m['lms_http_requests_total{code="404"}'] ?? 0;
	assertError(await request(ws, 'GET', '/api/v1/nothing-here',
				  { headers: admin }), 404, 'not_found');
	m = await metrics(ws);
	assert.equal(m['lms_http_requests_total{code="404"}'], before404 + 1);
	assert.ok(m['lms_http_requests_total{code="200"}'] >= 1);

	/* a mail that cannot go out (no mail server set) waits */
	const inv = await request(ws, 'POST', `/api/v1/users/${lea}/invitation`,
				  { headers: admin, json: {} });
	assert.equal(inv.status, 201, inv.text);
	m = await metrics(ws);
	assert.equal(m['lms_mail_queue{state="queued"}'] +
		     m['lms_mail_queue{state="retrying"}'], 1);
	assert.equal(m.lms_mail_sent_total, 0);

	/* a revision applied */
	const dir = copySampleCourse(COURSE);
	fs.appendFileSync(path.join(dir, 'lessons', 'haende.md'), '\nNeu.\n');
	const rev2 = await mother.publish(dir, 'Hands');
	await ws.waitRevision(COURSE, rev2);
	m = await metrics(ws);
	assert.equal(m.lms_sync_applied_seq, 2);
	assert.equal(m.lms_sync_events_applied_total >= 1, true);

	/* a workspace far ahead in time refuses the next one: counted, and
	 * the lag shows the event it lacks */
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: '2099-01-01T00:00:00Z' } });
	fs.appendFileSync(path.join(dir, 'lessons', 'haende.md'), '\nMehr.\n');
	await mother.publish(dir, 'Hands again');
	m = await waitFor(async () => {
		const s = await metrics(ws);
		return s.lms_sync_events_refused_total >= 1 ? s : null;
	}, undefined, { what: 'a refused event' });
	assert.equal(m.lms_sync_applied_seq, 2);
	assert.equal(m.lms_sync_head_seq, 3);
	assert.equal(m.lms_sync_lag_events, 1);

	/* through a proxy only an admin reads it */
	const proxied = { 'X-Forwarded-For': '203.0.113.9' };
	assertError(await request(ws, 'GET', '/metrics', { headers: proxied }),
		    401, 'unauthorized');
	await metrics(ws, { ...proxied, ...admin });
	assertError(await request(ws, 'POST', '/metrics', { headers: admin }),
		    405, 'method_not_allowed');
});
