/*
 * Delivery of courses from the mother to the workspaces, as the operator
 * and the tenants see it: each workspace holds exactly its licensed
 * courses at the mother's revisions, whatever was running or crashed
 * when they were published, keeps its own courses to itself, and is
 * enrolled only with a valid, unused token. Checked through the command
 * lines, git and HTTP; the workspace's files are only read to check that
 * a crash left them intact.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	lmsTest, run, runOk, describeResult, setupMother, addWorkspace,
	catalog, healthz, waitFor, sleep, tmpPath, freePort, writeCourse,
	copySampleCourse, cloneRepo, gitCommitAll, git, randomBytes,
	SAMPLE_COURSES, WORKSPACE_BIN, HEX40,
} from './lib/harness.mjs';

const SLOW = 60000;	/* ms, deadline for a 20 MB course */

/* The catalog entries a workspace should show for the given mother
 * courses, sorted by id. */
async function expectedFromMother(mother, ids) {
	const list = await mother.courseList();

	return list.filter((c) => ids.includes(c.id))
		.map((c) => ({ id: c.id, title: c.title, origin: 'mother',
			       revision: c.revision }))
		.sort(byId);
}

function byId(a, b) {
	return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function project(list) {
	return list.map(({ id, title, origin, revision }) =>
		({ id, title, origin, revision })).sort(byId);
}

/* Waits until the workspace's catalog is exactly `expected`. */
async function waitCatalog(ws, expected, timeout) {
	let last;

	try {
		await waitFor(async () => {
			last = project(await catalog(ws));
			return JSON.stringify(last) ===
			       JSON.stringify(expected);
		}, timeout, { what: `catalog of ${ws.id}` });
	} catch (e) {
		assert.deepEqual(last, expected, e.message);
	}
}

/* Waits until tenant id is acknowledged at the given revisions (and
 * holds no other course). */
async function waitAcked(mother, id, revisions, timeout) {
	let last;

	try {
		await waitFor(async () => {
			last = (await mother.tenant(id)).courses;
			return JSON.stringify(sortKeys(last)) ===
			       JSON.stringify(sortKeys(revisions));
		}, timeout, { what: `acknowledged revisions of ${id}` });
	} catch (e) {
		assert.deepEqual(last, revisions, e.message);
	}
}

function sortKeys(o) {
	return Object.fromEntries(Object.entries(o).sort());
}

/* A clone of a mother course, ready for an author's edit. */
async function authorClone(mother, id) {
	const url = path.join(mother.data, 'courses', `${id}.git`);

	return cloneRepo(url);
}

lmsTest('each workspace holds exactly its licensed courses', async () => {
	const m = await setupMother({ courses: SAMPLE_COURSES });
	const a = await addWorkspace(m, 'tenant-a', 'all');
	const b = await addWorkspace(m, 'tenant-b', ['data-protection-basics']);
	const wantA = await expectedFromMother(m, SAMPLE_COURSES);
	const wantB = await expectedFromMother(m,
					       ['data-protection-basics']);

	assert.equal(wantA.length, 3);
	await waitCatalog(a, wantA);
	await waitCatalog(b, wantB);

	/* the command line shows the same array as the API */
	assert.deepEqual((await a.courseList()).sort(byId),
			 (await catalog(a)).sort(byId));

	/* the mother knows both are connected and what they hold */
	await waitAcked(m, 'tenant-a', Object.fromEntries(
		wantA.map((c) => [c.id, c.revision])));
	await waitAcked(m, 'tenant-b', Object.fromEntries(
		wantB.map((c) => [c.id, c.revision])));
	for (const t of await m.tenantList())
		assert.equal(t.connected, true, `${t.id} not connected`);

	const h = await healthz(b);
	assert.equal(h.status, 'ok');
	assert.equal(h.tenant, 'tenant-b');
	assert.equal(h.mother_connected, true);
	assert.equal(typeof h.applied_seq, 'number');
	assert.ok(h.applied_seq >= 1, `applied_seq ${h.applied_seq}`);
});

lmsTest('a course licensed later reaches the workspace', async () => {
	const m = await setupMother({ courses: SAMPLE_COURSES });
	const b = await addWorkspace(m, 'tenant-b', ['hygiene-basics']);

	await waitCatalog(b, await expectedFromMother(m, ['hygiene-basics']));
	await m.license('tenant-b', ['ai-literacy']);
	const want = await expectedFromMother(m, ['hygiene-basics',
						  'ai-literacy']);
	await waitCatalog(b, want);
	await waitAcked(m, 'tenant-b', Object.fromEntries(
		want.map((c) => [c.id, c.revision])));
});

lmsTest('a git push reaches every licensed workspace in seconds',
	async (t) => {
	const m = await setupMother({ courses: SAMPLE_COURSES });
	const a = await addWorkspace(m, 'tenant-a', 'all');
	const b = await addWorkspace(m, 'tenant-b', ['hygiene-basics']);
	const c = await addWorkspace(m, 'tenant-c', ['ai-literacy']);

	await waitCatalog(b, await expectedFromMother(m, ['hygiene-basics']));
	await waitCatalog(c, await expectedFromMother(m, ['ai-literacy']));
	const clone = await authorClone(m, 'hygiene-basics');
	const lesson = fs.readdirSync(path.join(clone, 'lessons'))[0];
	fs.appendFileSync(path.join(clone, 'lessons', lesson),
			  '\nOne more line.\n');
	const rev = await gitCommitAll(clone, 'One more line');
	const pushed = Date.now();
	const r = await git(['push', 'origin', 'HEAD:main'], { cwd: clone });
	assert.equal(r.code, 0, describeResult(r));

	await Promise.all([a.waitRevision('hygiene-basics', rev, 10000),
			   b.waitRevision('hygiene-basics', rev, 10000)]);
	t.diagnostic(`push to both catalogs: ${Date.now() - pushed} ms`);

	/* c is not licensed for it and holds what it held */
	await waitCatalog(c, await expectedFromMother(m, ['ai-literacy']));
});

lmsTest('a local course stays in its workspace', async () => {
	const m = await setupMother({ courses: ['hygiene-basics'] });
	const a = await addWorkspace(m, 'tenant-a', 'all');
	const b = await addWorkspace(m, 'tenant-b', 'all');
	const local = writeCourse({ id: 'house-rules',
				   title: 'House rules' });

	await waitCatalog(a, await expectedFromMother(m, ['hygiene-basics']));
	const r = await runOk(WORKSPACE_BIN, ['course', 'publish', a.data,
					      local, '-m', 'Our rules']);
	const rev = r.stdout.trim();
	assert.match(rev, HEX40, describeResult(r));

	const want = [
		...await expectedFromMother(m, ['hygiene-basics']),
		{ id: 'house-rules', title: 'House rules', origin: 'local',
		  revision: rev },
	].sort(byId);
	await waitCatalog(a, want);
	assert.deepEqual(project(await a.courseList()), want);

	/* a later mother revision is a round trip through the sync: after
	 * it, the local course has still not reached the mother or b */
	const dir = copySampleCourse('hygiene-basics');
	fs.appendFileSync(path.join(dir, 'course.json'), '\n');
	const next = await m.publish(dir);
	await a.waitRevision('hygiene-basics', next);
	await b.waitRevision('hygiene-basics', next);
	assert.deepEqual((await m.courseList()).map((c) => c.id),
			 ['hygiene-basics']);
	for (const t of await m.tenantList())
		assert.deepEqual(Object.keys(t.courses), ['hygiene-basics']);
	assert.deepEqual((await catalog(b)).map((c) => c.id),
			 ['hygiene-basics']);
	assert.ok(!fs.existsSync(path.join(m.data, 'courses',
					   'house-rules.git')));
});

lmsTest('a stopped workspace catches up on start', async () => {
	const m = await setupMother({ courses: ['hygiene-basics'] });
	const a = await addWorkspace(m, 'tenant-a', 'all');
	const dir = copySampleCourse('hygiene-basics');
	let rev = m.revisions['hygiene-basics'];

	await a.waitRevision('hygiene-basics', rev);
	await a.stop();
	for (let i = 1; i <= 3; i++) {
		fs.appendFileSync(path.join(dir, 'course.json'), '\n');
		rev = await m.publish(dir, `While away ${i}`);
	}
	await a.start();
	await a.waitRevision('hygiene-basics', rev);
	await waitAcked(m, 'tenant-a', { 'hygiene-basics': rev });
});

lmsTest('what is published while the mother is down goes out when it ' +
	'starts', async () => {
	const m = await setupMother({ courses: ['hygiene-basics'] });
	const a = await addWorkspace(m, 'tenant-a', 'all');
	const dir = copySampleCourse('hygiene-basics');

	await a.waitRevision('hygiene-basics', m.revisions['hygiene-basics']);
	await m.stop();
	await waitFor(async () => (await healthz(a)).mother_connected ===
		      false, undefined, { what: 'mother_connected false' });

	fs.appendFileSync(path.join(dir, 'course.json'), '\n');
	const rev = await m.publish(dir, 'While the mother is down');
	await m.start();
	await a.waitRevision('hygiene-basics', rev);
	assert.equal((await healthz(a)).mother_connected, true);
});

lmsTest('a publish survives a mother killed right after it', async () => {
	const m = await setupMother({ courses: ['hygiene-basics'] });
	const a = await addWorkspace(m, 'tenant-a', 'all');
	const dir = copySampleCourse('hygiene-basics');
	let rev = m.revisions['hygiene-basics'];

	await a.waitRevision('hygiene-basics', rev);
	for (let round = 1; round <= 3; round++) {
		fs.appendFileSync(path.join(dir, 'course.json'), '\n');
		rev = await m.publish(dir, `Round ${round}`);
		await m.kill();
		await m.start();
		await a.waitRevision('hygiene-basics', rev);
	}
	await waitAcked(m, 'tenant-a', { 'hygiene-basics': rev });
});

lmsTest('a workspace killed while applying ends intact at the mother\'s ' +
	'revision', { timeout: 600000 }, async (t) => {
	const m = await setupMother();
	const a = await addWorkspace(m, 'tenant-a', 'all');
	const film = 'media/film.bin';
	const dir = writeCourse({ id: 'big-media',
				  media: { [film]: randomBytes(20 << 20) } });

	/* the first delivery measures how long one takes */
	let rev = await m.publish(dir, 'With a film');
	const published = Date.now();
	await a.waitRevision('big-media', rev, SLOW);
	const delivery = Date.now() - published;
	const delays = [0, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95].map(
		(f) => Math.round(f * delivery));
	t.diagnostic(`first delivery ${delivery} ms, kills after ${delays} ms`);

	for (const delay of delays) {
		fs.writeFileSync(path.join(dir, film), randomBytes(20 << 20));
		rev = await m.publish(dir, `New film, kill after ${delay} ms`);
		await sleep(delay);
		await a.kill();
		await a.start();
		await a.waitRevision('big-media', rev, SLOW);
	}
	await a.stop();

	const db = path.join(a.data, 'workspace.db');
	const check = await runOk('sqlite3', [db, 'PRAGMA integrity_check']);
	assert.equal(check.stdout.trim(), 'ok', describeResult(check));
	const content = path.join(a.data, 'content.git');
	const fsck = await git(['--git-dir', content, 'fsck']);
	assert.equal(fsck.code, 0, describeResult(fsck));
	const size = await runOk('git', ['--git-dir', content, 'cat-file',
					 '-s', `${rev}:${film}`]);
	assert.equal(Number(size.stdout), 20 << 20);
});

lmsTest('enrollment refuses a wrong token', async () => {
	const m = await setupMother();
	const data = tmpPath('ws');
	const r = await run(WORKSPACE_BIN, [
		'init', data, '--mother', m.sync, '--token',
		'this-is-not-a-token-0123456789', '--mother-key',
		m.fingerprint]);

	assert.equal(r.code, 1, describeResult(r));
	assert.match(r.stderr, /token/i, describeResult(r));
});

lmsTest('enrollment refuses a reused token', async () => {
	const m = await setupMother({ courses: ['hygiene-basics'] });
	const a = await addWorkspace(m, 'tenant-a', 'all');
	const r = await run(WORKSPACE_BIN, [
		'init', tmpPath('ws-again'), '--mother', m.sync, '--token',
		a.token, '--mother-key', m.fingerprint]);

	assert.equal(r.code, 1, describeResult(r));
	assert.match(r.stderr, /token/i, describeResult(r));

	/* the enrolled workspace goes on unharmed */
	await a.waitRevision('hygiene-basics', m.revisions['hygiene-basics']);
	assert.equal((await m.tenant('tenant-a')).connected, true);
});

lmsTest('a token enrolls one workspace even when two race', async () => {
	const m = await setupMother();
	const t = await m.addTenant('tenant-a', { courses: 'all' });
	const init = (name) => run(WORKSPACE_BIN, [
		'init', tmpPath(name), '--mother', m.sync, '--token', t.token,
		'--mother-key', m.fingerprint]);
	const results = await Promise.all([init('ws-1'), init('ws-2'),
					   init('ws-3')]);
	const codes = results.map((r) => r.code).sort();

	assert.deepEqual(codes, [0, 1, 1],
			 results.map(describeResult).join('\n'));
});

lmsTest('enrollment refuses an expired token', async () => {
	/* the token is issued now; the mother serves seven days and more
	 * later */
	const m = await setupMother({
		env: { LMS_FAKE_NOW: '2030-01-01T00:00:00Z' },
	});
	const t = await m.addTenant('tenant-a', { courses: 'all' });
	const r = await run(WORKSPACE_BIN, [
		'init', tmpPath('ws'), '--mother', m.sync, '--token', t.token,
		'--mother-key', m.fingerprint]);

	assert.equal(r.code, 1, describeResult(r));
	assert.match(r.stderr, /token|expire/i, describeResult(r));
});

lmsTest('enrollment with the wrong mother key fails and spends no token',
	async () => {
	const m = await setupMother({ courses: ['hygiene-basics'] });
	const other = await setupMother({ name: 'other-mother',
					  serve: false });
	const t = await m.addTenant('tenant-a', { courses: 'all' });
	const data = tmpPath('ws');
	const args = (key) => ['init', data, '--mother', m.sync, '--token',
			       t.token, '--mother-key', key];

	const wrong = await run(WORKSPACE_BIN, args(other.fingerprint));
	assert.notEqual(wrong.code, 0, describeResult(wrong));

	/* the token was never shown to a mother with another key: the
	 * right key still enrolls with it */
	fs.rmSync(data, { recursive: true, force: true });
	const ok = await run(WORKSPACE_BIN, args(m.fingerprint));
	assert.equal(ok.code, 0, describeResult(ok));
});

lmsTest('lms-workspace init twice is refused', async () => {
	const m = await setupMother();
	const a = await addWorkspace(m, 'tenant-a', 'all', { serve: false });
	const t = await m.addTenant('tenant-b', { courses: 'all' });
	const r = await run(WORKSPACE_BIN, [
		'init', a.data, '--mother', m.sync, '--token', t.token,
		'--mother-key', m.fingerprint]);

	assert.notEqual(r.code, 0, describeResult(r));
	/* the data directory still belongs to tenant-a */
	await a.start();
	assert.equal((await healthz(a)).tenant, 'tenant-a');
});

lmsTest('tenant list shows a stopped workspace as not connected',
	async () => {
	const m = await setupMother({ courses: ['hygiene-basics'] });
	const a = await addWorkspace(m, 'tenant-a', 'all');

	await waitFor(async () => (await m.tenant('tenant-a')).connected,
		      undefined, { what: 'tenant-a connected' });
	await a.stop();
	await waitFor(async () => (await m.tenant('tenant-a')).connected ===
		      false, undefined, { what: 'tenant-a not connected' });

	/* killed, too: the mother notices the silence or the closed
	 * connection */
	await a.start();
	await waitFor(async () => (await m.tenant('tenant-a')).connected,
		      undefined, { what: 'tenant-a connected again' });
	await a.kill();
	await waitFor(async () => (await m.tenant('tenant-a')).connected ===
		      false, 30000, { what: 'killed tenant-a not connected' });
});

lmsTest('serve --mother overrides the stored mother address', async () => {
	const m = await setupMother({ courses: ['hygiene-basics'] });
	const a = await addWorkspace(m, 'tenant-a', 'all');

	await a.waitRevision('hygiene-basics', m.revisions['hygiene-basics']);
	await a.stop();
	await m.stop();

	/* the mother moves to another sync port */
	const port = await freePort();
	m.daemon.args = ['serve', m.data, '--listen', m.httpAddr,
			 '--sync-listen', `127.0.0.1:${port}`];
	await m.start();
	const dir = copySampleCourse('hygiene-basics');
	fs.appendFileSync(path.join(dir, 'course.json'), '\n');
	const rev = await m.publish(dir);

	await a.start({ extraArgs: ['--mother', `127.0.0.1:${port}`] });
	await a.waitRevision('hygiene-basics', rev);
});
