/*
 * Consolidated analytics, usage and audit heads at the mother, on
 * running daemons.
 *
 * A workspace whose learners are assigned two courses, two of whom
 * complete one, reports signed aggregate figures over its sync
 * connection; the mother's API shows per course the counts the
 * workspace's own GET /api/v1/compliance gives, the active learners of
 * the month and the completions, and the usage of the month as JSON, as
 * CSV and by `lms-mother usage --csv`, all the same. Nothing of a
 * learner (email, name) is anywhere in mother.db. The admin port asks
 * for an operator (401 without, 200 with a token or a session), shows a
 * course's revision history from git and how far each tenant lags, and
 * serves Prometheus metrics.
 *
 * Audit heads: the workspace's head arrives at connect and equals the
 * last entry of its own `audit export`; a head for an earlier entry,
 * signed with the tenant's own key (someone who controls its server
 * rewrote history), is kept and flagged as a conflict; one signed with
 * another key, or replayed with a counter already seen, is refused with
 * an ERROR and changes nothing.
 */
import assert from 'node:assert/strict';
import path from 'node:path';

import {
	lmsTest, setupMother, addWorkspace, waitFor, runOk, run,
	MOTHER_BIN, WORKSPACE_BIN, copySampleCourse,
} from './lib/harness.mjs';
import {
	request, assertError, addUser, bearer, signIn, completeCourse,
} from './lib/api.mjs';
import {
	addOperator, operatorBearer, operatorSignIn, motherGet,
} from './lib/mother.mjs';
import { reportSession, loadKey, newKey } from './lib/report.mjs';

const HYGIENE = 'hygiene-basics';
const PRIVACY = 'data-protection-basics';
const OPERATOR = 'op@provider.example';

/* Learners with names and emails that must never reach the mother. */
const LEARNERS = [
	{ email: 'zacharias.quellenberg@acme.example',
	  name: 'Zacharias Quellenberg' },
	{ email: 'ottilie.fernwald@acme.example', name: 'Ottilie Fernwald' },
	{ email: 'bartholomae.sunkel@acme.example',
	  name: 'Bartholomä Sunkel' },
];

function thisMonth() {
	return new Date().toISOString().slice(0, 7);
}

/* Per course and status, the rows of the workspace's compliance list. */
function tally(rows) {
	const out = {};

	for (const r of rows) {
		const c = out[r.course] ??= { assigned: 0, not_started: 0,
					      in_progress: 0, completed: 0,
					      overdue: 0, expired: 0 };
		c.assigned++;
		const s = r.status === 'expiring_soon' ? 'completed' : r.status;
		c[s]++;
	}
	return out;
}

/* A mother with both courses, an operator, and a workspace that holds
 * them, reporting every second. */
async function academy() {
	const mother = await setupMother({ courses: [HYGIENE, PRIVACY] });
	await addOperator(mother, OPERATOR);
	const op = await operatorBearer(mother, OPERATOR);
	const ws = await addWorkspace(mother, 'acme', 'all', {
		name: 'Acme Pflege', env: { LMS_ANALYTICS_SECONDS: '1' } });
	await waitFor(async () => (await ws.catalog()).length === 2,
		      undefined, { what: 'both courses at the workspace' });
	return { mother, op, ws };
}

/* Three learners assigned hygiene, one of them privacy too; the first
 * two complete hygiene. Resolves to the admin's headers. */
async function learnersAtWork(ws) {
	await addUser(ws, 'admin@acme.example', 'admin', {},
		      { name: 'Adelheid Verwaltung' });
	const admin = await bearer(ws, 'admin@acme.example');
	const ids = [];

	for (const l of LEARNERS)
		ids.push(await addUser(ws, l.email, 'learner', {},
				       { name: l.name }));
	for (const id of ids) {
		const r = await request(ws, 'POST', '/api/v1/assignments', {
			headers: admin,
			json: { course: HYGIENE, user: id, due: '2027-09-30' } });
		assert.equal(r.status, 201, r.text);
	}
	const r = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin,
		json: { course: PRIVACY, user: ids[2], due: '2027-09-30' } });
	assert.equal(r.status, 201, r.text);
	for (const l of LEARNERS.slice(0, 2))
		await completeCourse(ws, await signIn(ws, l.email), HYGIENE);
	return admin;
}

lmsTest('the mother shows what workspaces report, and no person',
	async () => {
	const { mother, op, ws } = await academy();
	const admin = await learnersAtWork(ws);
	const month = thisMonth();

	/* the workspace's own view, counted per course */
	const rows = await request(ws, 'GET', '/api/v1/compliance',
				   { headers: admin });
	assert.equal(rows.status, 200, rows.text);
	const expected = tally(rows.json);
	assert.equal(expected[HYGIENE].completed, 2);
	assert.equal(expected[HYGIENE].assigned, 3);
	assert.equal(expected[PRIVACY].assigned, 1);

	/* the mother's consolidated figures match, within seconds */
	const analytics = await waitFor(async () => {
		const a = await motherGet(mother, '/api/v1/analytics', op);
		const h = a.courses.find((c) => c.id === HYGIENE);
		return h && h.completed === 2 && a;
	}, 30000, { what: 'hygiene completed twice at the mother' });
	for (const course of [HYGIENE, PRIVACY]) {
		const got = analytics.courses.find((c) => c.id === course);
		assert.ok(got, course);
		for (const [k, v] of Object.entries(expected[course]))
			assert.equal(got[k], v, `${course} ${k}`);
		assert.equal(got.tenants, 1);
	}
	const hyg = analytics.courses.find((c) => c.id === HYGIENE);
	assert.equal(hyg.certificates_valid, 2);
	assert.equal(analytics.to, month);
	const m = analytics.months.find((x) => x.month === month);
	/* the two who signed in and learned; the admin used a token */
	assert.equal(m.active_learners, 2);
	assert.equal(m.completions, 2);
	assert.equal(analytics.months.length, 12);

	const one = await motherGet(mother,
		`/api/v1/analytics?course=${PRIVACY}&from=${month}&to=${month}`,
		op);
	assert.deepEqual(one.courses.map((c) => c.id), [PRIVACY]);
	assert.equal(one.months.length, 1);
	assert.equal(one.months[0].completions, 0);
	assertError(await request(mother, 'GET',
				  '/api/v1/analytics?from=2026-13', {
				  headers: op }), 400, 'bad_request');

	/* usage of the month: API JSON, API CSV and the command agree */
	const usage = await motherGet(mother, `/api/v1/usage?month=${month}`,
				      op);
	assert.deepEqual(usage, [{
		tenant: 'acme', name: 'Acme Pflege', month,
		active_learners: 2, courses_licensed: 2, completions: 2,
	}]);
	const csv = await request(mother, 'GET',
				  `/api/v1/usage?month=${month}&format=csv`,
				  { headers: op });
	assert.equal(csv.status, 200);
	assert.match(csv.headers.get('content-type'), /^text\/csv/);
	assert.match(csv.headers.get('content-disposition'),
		     new RegExp(`usage-${month}\\.csv`));
	assert.equal(csv.text,
		     'tenant,name,month,active_learners,courses_licensed,' +
		     `completions\r\nacme,Acme Pflege,${month},2,2,2\r\n`);
	const cli = await runOk(MOTHER_BIN, ['usage', mother.data, '--month',
					     month, '--csv']);
	assert.equal(cli.stdout, csv.text);
	const bad = await run(MOTHER_BIN, ['usage', mother.data, '--month',
					   '2026-1', '--csv']);
	assert.equal(bad.code, 2);
	assertError(await request(mother, 'GET', '/api/v1/usage',
				  { headers: op }), 400, 'bad_request');

	/* no learner's email or name anywhere in mother.db */
	await ws.stop();
	const dump = await runOk('sqlite3', [
		path.join(mother.data, 'mother.db'), '.dump']);
	assert.match(dump.stdout, /stats_courses/); /* it is the real dump */
	assert.match(dump.stdout, new RegExp(HYGIENE));
	for (const l of [...LEARNERS, { email: 'admin@acme.example',
					name: 'Adelheid Verwaltung' }]) {
		for (const s of [l.email, l.name, l.email.split('@')[0],
				 l.name.split(' ')[1]])
			assert.ok(!dump.stdout.includes(s),
				  `mother.db holds "${s}"`);
	}
});

lmsTest('the admin port needs an operator; history, lag and metrics',
	async () => {
	const { mother, op, ws } = await academy();

	/* without credentials: 401 on every operator path; /healthz open */
	for (const p of ['/api/v1/tenants', '/api/v1/courses',
			 `/api/v1/courses/${HYGIENE}/revisions`,
			 '/api/v1/analytics', '/api/v1/usage?month=2026-12',
			 '/metrics', '/api/v1/session'])
		assertError(await request(mother, 'GET', p), 401,
			    'unauthorized');
	assertError(await request(mother, 'GET', '/api/v1/tenants', {
		headers: { Authorization: 'Bearer ' + 'ab'.repeat(32) } }),
		401, 'unauthorized');
	assert.equal((await request(mother, 'GET', '/healthz')).status, 200);

	/* a wrong password, then the right one: a session by cookie */
	const wrong = await request(mother, 'POST', '/api/v1/session', {
		json: { email: OPERATOR, password: 'not the password' } });
	assertError(wrong, 401, 'unauthorized');
	const session = await operatorSignIn(mother, OPERATOR);
	const who = await motherGet(mother, '/api/v1/session', session);
	assert.equal(who.operator.email, OPERATOR);
	assert.equal(who.csrf_token, session['X-CSRF-Token']);
	/* a write by cookie needs the session's CSRF token, whole */
	for (const csrf of [undefined, 'ab'.repeat(32),
			    session['X-CSRF-Token'].slice(1)])
		assertError(await request(mother, 'DELETE', '/api/v1/session', {
			headers: { Cookie: session.Cookie,
				   ...(csrf && { 'X-CSRF-Token': csrf }) } }),
			    403, 'forbidden');
	const courses = await motherGet(mother, '/api/v1/courses', session);
	assert.deepEqual(courses.map((c) => c.id).sort(), [PRIVACY, HYGIENE]);

	/* a new revision: the history from git, the lag gone once applied */
	const first = mother.revisions[HYGIENE];
	const dir = copySampleCourse(HYGIENE);
	const edit = (text) => runOk('sh', ['-c', `echo '${text}' >> ` +
		`"${dir}/lessons/$(ls "${dir}/lessons" | head -1)"`]);
	await edit('More.');
	const second = await mother.publish(dir, 'Second edition');
	const history = await motherGet(
		mother, `/api/v1/courses/${HYGIENE}/revisions`, op);
	assert.deepEqual(history.map((h) => h.revision), [second, first]);
	assert.equal(history[0].message.trim(), 'Second edition');
	assert.match(history[0].time, /^\d{4}-\d\d-\d\dT/);
	assert.equal(typeof history[0].author, 'string');
	assertError(await request(mother, 'GET',
				  '/api/v1/courses/no-such/revisions',
				  { headers: op }), 404, 'not_found');
	await ws.waitRevision(HYGIENE, second);
	const tenant = await waitFor(async () => {
		const t = (await motherGet(mother, '/api/v1/tenants', op))
			.find((x) => x.id === 'acme');
		return t.courses[HYGIENE] === second && t;
	}, undefined, { what: 'the second revision acknowledged' });
	assert.equal(tenant.connected, true);
	assert.deepEqual(tenant.lag[HYGIENE], { events: 0, revisions: 0 });
	assert.deepEqual(tenant.lag[PRIVACY], { events: 0, revisions: 0 });
	assert.match(tenant.last_contact, /^\d{4}-\d\d-\d\dT/);

	/* while the workspace is down, it lags one revision */
	await ws.stop();
	await edit('Even more.');
	const third = await mother.publish(dir, 'Third edition');
	assert.notEqual(third, second);
	const behind = (await motherGet(mother, '/api/v1/tenants', op))
		.find((x) => x.id === 'acme');
	assert.deepEqual(behind.lag[HYGIENE], { events: 1, revisions: 1 });
	assert.equal(behind.connected, false);
	await ws.start();
	await ws.waitRevision(HYGIENE, third);

	/* metrics for Prometheus, with a token */
	const metrics = await waitFor(async () => {
		const r = await request(mother, 'GET', '/metrics',
					{ headers: op });
		return r.status === 200 &&
			/lms_sync_connected\{tenant="acme"\} 1/.test(r.text) &&
			/lms_sync_lag_events\{tenant="acme"\} 0/.test(r.text) &&
			r;
	}, undefined, { what: 'acme connected, lag 0 in /metrics' });
	assert.match(metrics.headers.get('content-type'), /^text\/plain/);
	assert.match(metrics.text,
		     /lms_sync_events_sent_total\{tenant="acme"\} [1-9]/);
	assert.match(metrics.text, /lms_http_requests_total\{code="401"\}/);

	/* the session ends; its cookie no longer works */
	const out = await request(mother, 'DELETE', '/api/v1/session',
				  { headers: { Cookie: session.Cookie } });
	assertError(out, 403, 'forbidden'); /* no CSRF token */
	const ok = await request(mother, 'DELETE', '/api/v1/session',
				 { headers: session });
	assert.equal(ok.status, 200, ok.text);
	assertError(await request(mother, 'GET', '/api/v1/tenants',
				  { headers: session }), 401, 'unauthorized');
});

/* The last entry of the workspace's audit log: { seq, hash }. */
async function lastAuditEntry(ws) {
	const r = await runOk(WORKSPACE_BIN, ['audit', 'export', ws.data,
					      '--format', 'jsonl']);
	const lines = r.stdout.trim().split('\n').filter(Boolean);
	const last = JSON.parse(lines[lines.length - 1]);
	return { seq: last.seq, hash: last.hash };
}

async function auditOf(mother, op) {
	return (await motherGet(mother, '/api/v1/tenants', op))
		.find((x) => x.id === 'acme').audit;
}

lmsTest('audit heads: kept, a rewritten one flagged, a forged one refused',
	async () => {
	const { mother, op, ws } = await academy();

	await addUser(ws, 'admin@acme.example', 'admin');
	await addUser(ws, LEARNERS[0].email, 'learner', {},
		      { name: LEARNERS[0].name });
	/* on demand: SIGUSR1 sends the head now */
	let want = await lastAuditEntry(ws);
	assert.ok(want.seq >= 2, JSON.stringify(want));
	ws.daemon.child.kill('SIGUSR1');
	const kept = await waitFor(async () => {
		const a = await auditOf(mother, op);
		return a && a.seq === want.seq && a;
	}, undefined, { what: 'the audit head at the mother' });
	assert.equal(kept.hash, want.hash);
	assert.equal(kept.conflict, false);

	/* on demand by an admin over the API, after more entries */
	await addUser(ws, LEARNERS[1].email, 'learner', {},
		      { name: LEARNERS[1].name });
	const admin = await bearer(ws, 'admin@acme.example');
	const next = await lastAuditEntry(ws);	/* the token's entry too */
	assert.ok(next.seq > want.seq);
	const pushed = await request(ws, 'POST', '/api/v1/audit/push',
				     { headers: admin });
	assert.equal(pushed.status, 202, pushed.text);
	assert.deepEqual(pushed.json.head, next);
	assert.equal(pushed.json.mother_connected, true);
	await waitFor(async () => (await auditOf(mother, op)).seq === next.seq,
		      undefined, { what: 'the pushed head at the mother' });
	want = next;	/* the head the mother keeps from here on */
	assertError(await request(ws, 'GET', '/api/v1/audit/push',
				  { headers: admin }), 405,
		    'method_not_allowed');
	assertError(await request(ws, 'POST', '/api/v1/audit/push', {
		headers: await bearer(ws, LEARNERS[1].email) }), 403,
		    'forbidden');
	await ws.stop();

	/* someone with the tenant's key sends an older head: flagged */
	const key = loadKey(path.join(ws.data, 'workspace.key'));
	let s = await reportSession(mother.sync, 'acme', key);
	s.sendAuditHead({ seq: BigInt(want.seq - 1), hash: 'a'.repeat(64),
			  key });
	const flagged = await waitFor(async () => {
		const a = await auditOf(mother, op);
		return a.conflict && a;
	}, undefined, { what: 'the conflict at the mother' });
	assert.equal(flagged.seq, want.seq); /* the kept head stays */
	assert.equal(flagged.hash, want.hash);
	assert.equal(flagged.conflicts, 1);

	/* the same seq with another hash is a conflict too */
	s.sendAuditHead({ seq: BigInt(want.seq), hash: 'b'.repeat(64), key });
	await waitFor(async () => (await auditOf(mother, op)).conflicts === 2,
		      undefined, { what: 'the second conflict' });

	/* a counter already seen in the session: refused */
	s.sendAuditHead({ seq: BigInt(want.seq + 5), hash: 'c'.repeat(64),
			  key, counter: 1n });
	assert.equal(await s.error(), 'report replayed');
	s.close();

	/* a head signed with another key: refused, nothing kept */
	s = await reportSession(mother.sync, 'acme', key);
	s.sendAuditHead({ seq: BigInt(want.seq + 7), hash: 'd'.repeat(64),
			  key: newKey() });
	assert.equal(await s.error(), 'audit head signature does not verify');
	s.close();
	/* stats signed with another key likewise */
	s = await reportSession(mother.sync, 'acme', key);
	s.sendStats({ body: '{"at":1,"courses":[]}', key: newKey() });
	assert.equal(await s.error(), 'stats signature does not verify');
	s.close();
	const after = await auditOf(mother, op);
	assert.equal(after.seq, want.seq);
	assert.equal(after.hash, want.hash);
	assert.equal(after.conflicts, 2);

	/* the real workspace, back, sends its true head again: no new
	 * conflict, and the kept head is the same */
	await ws.start();
	await waitFor(async () => (await motherGet(mother, '/api/v1/tenants',
						   op)).find(
		(x) => x.id === 'acme').connected, undefined,
		{ what: 'acme connected again' });
	const back = await auditOf(mother, op);
	assert.equal(back.conflicts, 2);
	assert.ok(back.seq >= want.seq);
});
