/*
 * The audit log on running daemons: a revision applied, people added
 * from the command line and the API, API tokens made, a login and a failed one, a role
 * changed, a group, an assignment, a course completed with its quiz
 * attempt and certificate, the certificate revoked, the SMTP settings
 * changed and a CSV import (not its dry run) each leave one entry, in
 * that order, naming who did it; `audit export` lists them with their hashes (each hash checked
 * here against the encoding docs/api.md gives) and no password or SMTP
 * password; `audit verify` says intact, and so does the API, which only
 * admins may read. Then copies of workspace.db are tampered with through
 * the sqlite3 command line (DROP TRIGGER first): a detail changed, an
 * entry deleted, an entry inserted with the later ones renumbered; each
 * time `audit verify` exits 1 naming that entry.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
	lmsTest, setupMother, addWorkspace, waitFor, tmpPath, run, runOk,
	WORKSPACE_BIN, HEX64,
} from './lib/harness.mjs';
import {
	request, assertErrorCode, addUser, bearer, login, completeCourse,
	PASSWORD,
} from './lib/api.mjs';

const COURSE = 'hygiene-basics';
const SMTP_SECRET = 'smtp-secret-never-logged';
const ZEROS = '0'.repeat(64);

/* The hash of an exported entry by the documented encoding: each of
 * seq, at, actor_id ("" for null), actor, action, object, detail,
 * prev_hash as a netstring (byte length, ':', bytes, ','). */
function entryHash(e) {
	const fields = [e.seq, e.at, e.actor_id ?? '', e.actor, e.action,
			e.object, e.detail, e.prev_hash];
	const text = fields.map((f) => {
		const b = Buffer.from(String(f), 'utf8');
		return `${b.length}:${b.toString('utf8')},`;
	}).join('');
	return crypto.createHash('sha256').update(text, 'utf8')
		.digest('hex');
}

function exportLog(data) {
	return runOk(WORKSPACE_BIN, ['audit', 'export', data]).then(
		(r) => r.stdout.trim().split('\n').map((l) => JSON.parse(l)));
}

function sqlite(db, sql) {
	const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
	assert.equal(r.status, 0, r.stderr);
	return r.stdout.trim();
}

/* A copy of the data directory's database to tamper with. */
function copyData(data, name) {
	const dir = tmpPath(name);
	fs.mkdirSync(dir);
	fs.copyFileSync(path.join(data, 'workspace.db'),
			path.join(dir, 'workspace.db'));
	sqlite(path.join(dir, 'workspace.db'),
	       'DROP TRIGGER audit_log_no_update; ' +
	       'DROP TRIGGER audit_log_no_delete;');
	return dir;
}

async function expectBroken(dir, message) {
	const r = await run(WORKSPACE_BIN, ['audit', 'verify', dir]);
	assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
	assert.equal(r.stdout.trim(), `audit log broken: ${message}`);
}

lmsTest('audit: changes logged, exported, verified, tampering named',
	async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });

	const adaId = await addUser(ws, 'ada@example.org', 'admin');
	const admin = await bearer(ws, 'ada@example.org');

	/* a login and a failed one (the email as typed, lowercased) */
	assert.equal((await login(ws, 'ada@example.org')).status, 200);
	assert.equal((await login(ws, 'Ada@Example.org',
				  'wrong password')).status, 401);

	/* a user by the API, then a role change */
	let r = await request(ws, 'POST', '/api/v1/users', {
		headers: admin,
		json: { email: 'pia@example.org', name: 'Pia',
			password: PASSWORD } });
	assert.equal(r.status, 201, r.text);
	const piaId = r.json.id;
	r = await request(ws, 'PATCH', `/api/v1/users/${piaId}`, {
		headers: admin, json: { role: 'manager' } });
	assert.equal(r.status, 200, r.text);
	r = await request(ws, 'PATCH', `/api/v1/users/${piaId}`, {
		headers: admin, json: { role: 'learner' } });
	assert.equal(r.status, 200, r.text);

	/* a group and an assignment */
	r = await request(ws, 'POST', '/api/v1/groups', {
		headers: admin, json: { name: 'Pflege' } });
	assert.equal(r.status, 201, r.text);
	const groupId = r.json.id;
	r = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin,
		json: { course: COURSE, user: 'pia@example.org',
			due: '2030-03-01' } });
	assert.equal(r.status, 201, r.text);
	const assignmentId = r.json.id;

	/* the course completed: lessons, the quiz, a certificate */
	const pia = await bearer(ws, 'pia@example.org');
	await completeCourse(ws, pia, COURSE);
	r = await request(ws, 'GET', '/api/v1/certificates',
			  { headers: pia });
	assert.equal(r.status, 200, r.text);
	const cert = r.json[0];
	r = await request(ws, 'POST',
			  `/api/v1/certificates/${cert.id}/revoke`,
			  { headers: admin, json: { reason: 'in error' } });
	assert.equal(r.status, 200, r.text);

	/* settings with a secret */
	r = await request(ws, 'PUT', '/api/v1/settings', {
		headers: admin,
		json: { 'smtp.url': 'smtp://127.0.0.1:2525',
			'smtp.password': SMTP_SECRET } });
	assert.equal(r.status, 200, r.text);

	/* an import that adds someone, and a dry run that leaves no trace */
	for (const q of ['?dry_run=1', '']) {
		r = await request(ws, 'POST', `/api/v1/users/import${q}`, {
			headers: admin,
			csv: 'email,name\nlea@example.org,Lea\n' });
		assert.equal(r.status, 200, r.text);
	}

	/* the export: in order, who did what, chained and hashed */
	const log = await exportLog(ws.data);
	const raw = (await runOk(WORKSPACE_BIN,
				 ['audit', 'export', ws.data])).stdout;
	assert.ok(!raw.includes(PASSWORD), 'a password in the audit log');
	assert.ok(!raw.includes(SMTP_SECRET), 'the SMTP password in it');
	log.forEach((e, i) => {
		assert.equal(e.seq, i + 1);
		assert.equal(e.prev_hash, i ? log[i - 1].hash : ZEROS);
		assert.match(e.hash, HEX64);
		assert.equal(e.hash, entryHash(e), `hash of entry ${e.seq}`);
	});
	const brief = log.map((e) => [e.action, e.actor, e.object]);
	const want = [
		['revision.apply', 'system', `course:${COURSE}`],
		['user.create', 'cli', `user:${adaId}`],
		['token.create', 'cli', `user:${adaId}`],
		['login', 'ada@example.org', `user:${adaId}`],
		['login.failed', 'ada@example.org', `user:${adaId}`],
		['user.create', 'ada@example.org', `user:${piaId}`],
		['user.role', 'ada@example.org', `user:${piaId}`],
		['user.role', 'ada@example.org', `user:${piaId}`],
		['group.create', 'ada@example.org', `group:${groupId}`],
		['assignment.create', 'ada@example.org',
		 `assignment:${assignmentId}`],
		['token.create', 'cli', `user:${piaId}`],
	];
	assert.deepEqual(brief.slice(0, want.length), want);
	const progress = brief.slice(want.length, -3);
	assert.ok(progress.length >= 2, JSON.stringify(brief));
	for (const [action, actor, object] of progress.slice(0, -1)) {
		assert.ok(['lesson.complete', 'quiz.attempt'].includes(action),
			  action);
		assert.equal(actor, 'pia@example.org');
		assert.equal(object, `course:${COURSE}`);
	}
	assert.ok(progress.some(([a]) => a === 'quiz.attempt'));
	assert.deepEqual(progress.at(-1), ['certificate.issue', 'system',
					   `certificate:${cert.id}`]);
	assert.deepEqual(brief.slice(-3), [
		['certificate.revoke', 'ada@example.org',
		 `certificate:${cert.id}`],
		['settings.change', 'ada@example.org', 'settings'],
		['user.import', 'ada@example.org', ''],
	]);
	assert.deepEqual(JSON.parse(log.at(-1).detail),
			 { created: 1, updated: 0, unchanged: 0 });

	/* what the details say */
	const byAction = (a) => log.filter((e) => e.action === a);
	assert.equal(byAction('login')[0].actor_id, adaId);
	const failed = byAction('login.failed')[0];
	assert.equal(failed.actor_id, null);
	assert.deepEqual(JSON.parse(failed.detail),
			 { email: 'ada@example.org', address: '127.0.0.1' });
	assert.deepEqual(JSON.parse(byAction('user.role')[0].detail),
			 { role: 'manager', from_role: 'learner' });
	assert.equal(JSON.parse(byAction('user.create')[1].detail).password,
		     true);
	const attempt = JSON.parse(byAction('quiz.attempt')[0].detail);
	assert.equal(attempt.passed, true);
	assert.deepEqual(JSON.parse(byAction('certificate.revoke')[0].detail),
			 { reason: 'in error' });
	assert.deepEqual(JSON.parse(byAction('settings.change')[0].detail),
			 { 'smtp.url': 'smtp://127.0.0.1:2525',
			   'smtp.password': '(secret)' });

	/* verify: intact, also against its own head */
	const head = log.at(-1);
	r = await runOk(WORKSPACE_BIN, ['audit', 'verify', ws.data]);
	assert.equal(r.stdout.trim(), `audit log intact: ${log.length} ` +
		     `entries, head ${head.seq} ${head.hash}`);
	await runOk(WORKSPACE_BIN, ['audit', 'verify', ws.data, '--head',
				    `${head.seq}:${head.hash}`]);
	const usage = await run(WORKSPACE_BIN, ['audit', 'verify', ws.data,
						'--head', 'nonsense']);
	assert.equal(usage.code, 2);

	/* CSV: a header and one row per entry */
	r = await runOk(WORKSPACE_BIN, ['audit', 'export', ws.data,
					'--format', 'csv', '--from', '2']);
	const lines = r.stdout.trimEnd().split('\r\n');
	assert.equal(lines[0], 'seq,at,actor_id,actor,action,object,detail,' +
		     'prev_hash,hash');
	assert.equal(lines.length, log.length);
	assert.ok(lines[1].startsWith('"2",'), lines[1]);

	/* the API: admins only */
	r = await request(ws, 'GET', '/api/v1/audit', { headers: admin });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.entries[0].seq, head.seq);
	assert.equal(r.json.entries[0].hash, head.hash);
	r = await request(ws, 'GET', '/api/v1/audit?from=2&limit=3',
			  { headers: admin });
	assert.deepEqual(r.json.entries.map((e) => e.seq), [2, 3, 4]);
	assertErrorCode(await request(ws, 'GET', '/api/v1/audit?limit=500',
				      { headers: admin }), 400,
			'bad_request');
	r = await request(ws, 'GET', '/api/v1/audit/verify',
			  { headers: admin });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.intact, true);
	assert.equal(r.json.problem, null);
	assert.ok(r.json.entries >= log.length);
	assertErrorCode(await request(ws, 'GET', '/api/v1/audit',
				      { headers: pia }), 403, 'forbidden');
	assertErrorCode(await request(ws, 'GET', '/api/v1/audit/verify',
				      { headers: pia }), 403, 'forbidden');
	assertErrorCode(await request(ws, 'GET', '/api/v1/audit'), 401,
			'unauthorized');

	/* the table refuses changes while its triggers are there */
	await ws.stop();
	const db = path.join(ws.data, 'workspace.db');
	const refused = spawnSync('sqlite3', [db,
		'DELETE FROM audit_log WHERE seq = 3'], { encoding: 'utf8' });
	assert.notEqual(refused.status, 0);
	assert.match(refused.stderr, /append-only/);

	/* tampering, each on a copy */
	let dir = copyData(ws.data, 'changed');
	sqlite(path.join(dir, 'workspace.db'), 'UPDATE audit_log SET ' +
	       `detail = '{"role":"admin"}' WHERE seq = 6`);
	await expectBroken(dir, 'entry 6 was changed');

	dir = copyData(ws.data, 'removed');
	sqlite(path.join(dir, 'workspace.db'),
	       'DELETE FROM audit_log WHERE seq = 4');
	await expectBroken(dir, 'entry 4 was removed');

	/* a forged entry at 5 that hashes right and links to entry 4 */
	dir = copyData(ws.data, 'inserted');
	const forged = { seq: 5, at: log[4].at, actor_id: adaId,
			 actor: 'ada@example.org', action: 'user.role',
			 object: `user:${piaId}`,
			 detail: '{"role":"admin"}',
			 prev_hash: log[3].hash };
	forged.hash = entryHash(forged);
	sqlite(path.join(dir, 'workspace.db'),
	       'UPDATE audit_log SET seq = seq + 100000 WHERE seq >= 5; ' +
	       'UPDATE audit_log SET seq = seq - 99999 WHERE seq > 100000; ' +
	       'INSERT INTO audit_log (seq, at, actor_id, actor, action, ' +
	       `object, detail, prev_hash, hash) VALUES (5, ${forged.at}, ` +
	       `${adaId}, '${forged.actor}', '${forged.action}', ` +
	       `'${forged.object}', '${forged.detail}', ` +
	       `'${forged.prev_hash}', '${forged.hash}')`);
	await expectBroken(dir, 'entry 5 was inserted');

	/* the last entry removed: only a head kept elsewhere shows it */
	dir = copyData(ws.data, 'truncated');
	sqlite(path.join(dir, 'workspace.db'),
	       `DELETE FROM audit_log WHERE seq = ${head.seq}`);
	await runOk(WORKSPACE_BIN, ['audit', 'verify', dir]);
	r = await run(WORKSPACE_BIN, ['audit', 'verify', dir, '--head',
				      `${head.seq}:${head.hash}`]);
	assert.equal(r.code, 1);
	assert.equal(r.stdout.trim(),
		     `audit log broken: entry ${head.seq} was removed`);

	/* the untouched original is still intact */
	await runOk(WORKSPACE_BIN, ['audit', 'verify', ws.data]);
});
