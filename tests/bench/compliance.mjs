#!/usr/bin/env node
/*
 * Benchmark of the compliance runner (workspace/compliance.c) for tens
 * of thousands of (learner, assigned course) pairs:
 *
 *   first     `lms-workspace compliance run DATA` on a fresh copy of the
 *             data: opens the recurring rounds that are due and queues a
 *             reminder for everyone the schedule reaches; wall time, CPU
 *             time and peak RSS (/usr/bin/time -v), rounds and reminders
 *             it printed
 *   second    the same right after on the same copy: nothing to do, the
 *             cost serve pays every 60 s; peer: the sqlite3 CLI running
 *             one SELECT over the same tables that lists every pair's
 *             facts (its due date, latest round, latest certificate,
 *             retraining, whether a lesson was done in the round): a
 *             floor of what one read pass costs
 *   list      GET /api/v1/compliance as admin on a running serve (the
 *             copy after both runs): time, bytes, rows, the server's CPU
 *             time, and how long a GET /healthz sent meanwhile waited
 *   user      GET /api/v1/compliance?user=ID (one learner, with the
 *             history of their reminders); the median of 10 per run
 *   write     a POST …/lessons/haende/complete sent as soon as serve
 *             answers, while its first compliance run (nothing to do)
 *             holds the write lock (BEGIN IMMEDIATE), against the same
 *             POST when idle; its HTTP status too (the loop's connection
 *             waits up to its busy timeout, 10 s), and how long a GET
 *             /healthz sent 200 ms later waited
 *
 * Setup: a mother with the sample course hygiene-basics and 4 copies of
 * it under other ids, a workspace holding the 5; LEARNERS learners by a
 * CSV import (`lms-workspace user import`), a group whose rule holds all
 * of them, 5 assignments of the 5 courses to the group with
 * "recur_months": 12, due 60 and 10 days ago, and in 7, 90 and 200 days.
 * The first learner does every course through the API (4 lessons and
 * the quiz each; a certificate is issued). The other completions are
 * seeded with the sqlite3 CLI into the data while serve is stopped: for
 * half the pairs (a fixed pseudo-random choice) the rows the first
 * learner's completion wrote (lesson_completions, quiz_attempts,
 * certificates) are copied to the learner with the time shifted to an
 * issue date spread evenly over the last 13 months, the certificate
 * getting its own id, number (as cert_number() makes it), verify code
 * and expiry (as cert_add_months() computes it). So about 1 in 13 of
 * them is due for a new round and 1 in 13 for the expiry reminder.
 * Whatever the setup's serve queued by itself is deleted before the
 * seeding (reminders, outbox), so that the first run is a first run.
 *
 * Usage: node tests/bench/compliance.mjs [--runs 3] [--learners 10000]
 *            [--core 0]
 * Binaries from LMS_BIN (default build/bin). The runs and the peer are
 * pinned to one core (taskset -c CORE); serve is not (its runner and its
 * loop are threads of their own). Prints one line per run, a markdown
 * table of the medians and a JSON summary. This is a benchmark, not a
 * test: it reports figures and asserts nothing beyond a working setup.
 * Needs sqlite3, taskset and /usr/bin/time (package time, in
 * deploy/packages.txt).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
	DAY, MOTHER, WORKSPACE, addMonths, api, arg, certNumber, completeAll,
	cpuSeconds, daemon, db, email, freePort, importLearners, int, isoDay,
	median, mib, ms, query, random, sec, setupMother, sh, sleep, sqlText,
	stop, stopAll, vmHwmKiB, waitFor
} from './lib.mjs';

const TIME = '/usr/bin/time';
const COURSE_IDS = ['hygiene-basics', 'bench-02', 'bench-03', 'bench-04',
		    'bench-05'];
const DUE_DAYS = [-60, -10, 7, 90, 200]; /* from today, per course */
const RECUR_MONTHS = 12;
const TEXT_LESSON = 'haende';
const USER_REQUESTS = 10; /* ?user= requests per run */

const RUNS = Number(arg('runs', '3'));
const LEARNERS = Number(arg('learners', '10000'));
const CORE = arg('core', '0');

/* ---- setup ---- */

/* serve on W; pinned to CORE when pin, else free to use every core. */
async function startServe(dir, W, name, pin = true) {
	const port = await freePort();
	const args = [WORKSPACE, 'serve', W, '--listen', `127.0.0.1:${port}`];
	const proc = pin ? daemon('taskset', ['-c', CORE, ...args],
				  path.join(dir, `${name}.log`)) :
		daemon(args[0], args.slice(1), path.join(dir, `${name}.log`));
	await waitFor(() => api(port, 'GET', '/healthz'), 60000, 5);
	return { port, proc };
}

/* The workspace W with learners, the group, the assignments and the
 * first learner's completions; serve stopped again. */
async function setupWorkspace(dir, mother, now) {
	const W = path.join(dir, 'ws');
	const add = JSON.parse(sh(MOTHER, ['tenant', 'add', mother.M, 'bench',
					   '--name', 'Bench', '--courses',
					   'all', '--json']));
	sh(WORKSPACE, ['init', W, '--mother', mother.msync, '--token',
		       add.token, '--mother-key', sh(MOTHER, ['key',
							      mother.M])]);
	sh(WORKSPACE, ['user', 'add', W, 'admin@example.org', '--name',
		       'Admin', '--role', 'admin']);
	importLearners(dir, W, LEARNERS, (i) => `Learner ${i}`);
	const admin = { Authorization: 'Bearer ' + sh(WORKSPACE, [
		'token', 'create', W, 'admin@example.org']),
			'Content-Type': 'application/json' };
	const first = sh(WORKSPACE, ['token', 'create', W, email(1)]);

	const ws = await startServe(dir, W, 'setup');
	await waitFor(async () => JSON.parse(await api(
		ws.port, 'GET', '/api/v1/catalog')).length ===
		COURSE_IDS.length);
	const group = JSON.parse(await api(ws.port, 'POST', '/api/v1/groups',
		admin, JSON.stringify({ name: 'Alle', parent: null,
					rule: { staff: 'yes' } })));
	if (group.member_count !== LEARNERS)
		throw new Error(`the group has ${group.member_count} members`);
	const dues = [];
	for (const [i, course] of COURSE_IDS.entries()) {
		dues.push(isoDay(now + DUE_DAYS[i] * DAY));
		await api(ws.port, 'POST', '/api/v1/assignments', admin,
			  JSON.stringify({ course, group: group.id,
					   due: dues[i],
					   recur_months: RECUR_MONTHS }));
	}
	await completeAll(ws.port, first, COURSE_IDS);
	await stop(ws.proc);
	return { W, dues, admin };
}

/* ---- seeding ---- */


/* The pairs that get a certificate: the first learner's 5 and, for the
 * others, half the pairs, each with its issue time and certificate. */
function seedRows(W, now) {
	const ids = new Map(query(W, 'SELECT email, id FROM users').split('\n')
		.map((l) => l.split('|')).map(([e, id]) => [e, Number(id)]));
	let next = Number(query(W, 'SELECT max(id) FROM certificates')) + 1;
	const rand = random(20261204);
	const rows = [];
	for (let i = 2; i <= LEARNERS; i++)
		for (const course of COURSE_IDS) {
			if (rand() >= 0.5)
				continue;
			const issued = Math.floor(now - DAY - rand() *
						  (395 - 1) * DAY);
			rows.push({ user: ids.get(email(i)), course, issued });
		}
	/* ids in the order of issue, as the workspace gives them */
	rows.sort((a, b) => a.issued - b.issued);
	for (const r of rows) {
		r.id = next++;
		r.number = certNumber(r.course, r.issued, r.id);
		r.code = crypto.randomBytes(16).toString('hex');
		r.expires = addMonths(r.issued, 12);
	}
	return rows;
}

/* Copies the first learner's rows of a completed course to every seeded
 * pair, shifted in time to the pair's issue. */
function seed(dir, W, now) {
	const tpl = Number(query(W, 'SELECT id FROM users WHERE email = ' +
				 sqlText(email(1))));
	const check = query(W, 'SELECT count(*) FROM certificates WHERE ' +
			    `user_id = ${tpl}`);
	if (Number(check) !== COURSE_IDS.length)
		throw new Error(`the first learner holds ${check} ` +
				'certificates');
	/* what the setup's serve decided by itself */
	const queued = query(W, 'SELECT (SELECT count(*) FROM reminders), ' +
			     '(SELECT count(*) FROM mail_outbox), (SELECT ' +
			     'count(*) FROM training_rounds)');
	const rows = seedRows(W, now);
	const sql = ['PRAGMA foreign_keys=ON;', 'BEGIN;',
		     'DELETE FROM reminders;', 'DELETE FROM mail_outbox;',
		     'DELETE FROM training_rounds;',
		     'CREATE TEMP TABLE seed (user_id INTEGER, course_id ' +
		     'TEXT, id INTEGER, number TEXT, code TEXT, issued_at ' +
		     'INTEGER, expires_at INTEGER);'];
	for (let i = 0; i < rows.length; i += 500)
		sql.push('INSERT INTO seed VALUES ' + rows.slice(i, i + 500)
			.map((r) => `(${r.user},${sqlText(r.course)},${r.id},` +
			     `${sqlText(r.number)},${sqlText(r.code)},` +
			     `${r.issued},${r.expires})`).join(',') + ';');
	const from = 'FROM seed s JOIN certificates c ON c.user_id = ' +
		`${tpl} AND c.course_id = s.course_id`;
	sql.push('INSERT INTO lesson_completions (user_id, course_id, ' +
		 'lesson_id, blob_id, revision, completed_at) SELECT ' +
		 's.user_id, l.course_id, l.lesson_id, l.blob_id, ' +
		 'l.revision, s.issued_at - (c.issued_at - l.completed_at) ' +
		 `${from} JOIN lesson_completions l ON l.user_id = ${tpl} ` +
		 'AND l.course_id = s.course_id;',
		 'INSERT INTO quiz_attempts (user_id, course_id, lesson_id, ' +
		 'blob_id, revision, score, passed, created_at) SELECT ' +
		 's.user_id, q.course_id, q.lesson_id, q.blob_id, ' +
		 'q.revision, q.score, q.passed, s.issued_at - ' +
		 `(c.issued_at - q.created_at) ${from} JOIN quiz_attempts q ` +
		 `ON q.user_id = ${tpl} AND q.course_id = s.course_id;`,
		 'INSERT INTO certificates (id, number, user_id, course_id, ' +
		 'course_title, revision, issued_at, expires_at, ' +
		 'verify_code) SELECT s.id, s.number, s.user_id, ' +
		 's.course_id, c.course_title, c.revision, s.issued_at, ' +
		 `s.expires_at, s.code ${from} ORDER BY s.id;`,
		 'COMMIT;', 'PRAGMA wal_checkpoint(TRUNCATE);');
	const file = path.join(dir, 'seed.sql');
	fs.writeFileSync(file, sql.join('\n') + '\n');
	const t0 = process.hrtime.bigint();
	sh('bash', ['-c', 'sqlite3 -bail "$1" < "$2" > /dev/null', 'seed',
		    db(W), file]);
	const counts = query(W, 'SELECT (SELECT count(*) FROM ' +
			     'lesson_completions), (SELECT count(*) FROM ' +
			     'quiz_attempts), (SELECT count(*) FROM ' +
			     'certificates)').split('|');
	console.log(`seeded ${rows.length} completed pairs in ` +
		    `${sec(ms(process.hrtime.bigint() - t0) / 1000)} s: ` +
		    `${counts[0]} lesson_completions, ${counts[1]} ` +
		    `quiz_attempts, ${counts[2]} certificates; removed what ` +
		    `the setup's serve had queued (reminders|outbox|rounds: ` +
		    `${queued})`);
	return rows;
}

/* The workspace agrees with the seeding: a seeded pair shows its
 * certificate, a pair without one none. */
function checkSeed(W, rows, now) {
	const r = rows.find((x) => x.issued < now - 30 * DAY &&
			    x.issued > now - 300 * DAY);
	const e = query(W, `SELECT email FROM users WHERE id = ${r.user}`);
	const list = JSON.parse(sh(WORKSPACE, ['compliance', 'status', W,
					       '--user', e, '--json']));
	const row = list.find((x) => x.course === r.course);
	if (list.length !== COURSE_IDS.length || row?.status !== 'completed' ||
	    row.certificate?.number !== r.number)
		throw new Error(`seeded pair not seen as completed: ` +
				JSON.stringify(row));
}

/* ---- the runs ---- */

/* One `compliance run` on W under /usr/bin/time -v, pinned. */
function complianceRun(dir, W) {
	const tf = path.join(dir, 'time.txt');
	const t0 = process.hrtime.bigint();
	const out = sh('taskset', ['-c', CORE, TIME, '-v', '-o', tf,
				   WORKSPACE, 'compliance', 'run', W]);
	const wall = ms(process.hrtime.bigint() - t0) / 1000;
	const t = fs.readFileSync(tf, 'utf8');
	const num = (re) => Number(re.exec(t)[1]);
	return {
		wall,
		cpu: num(/User time \(seconds\): ([\d.]+)/) +
		     num(/System time \(seconds\): ([\d.]+)/),
		rss_kib: num(/Maximum resident set size \(kbytes\): (\d+)/),
		rounds: Number(/rounds opened: (\d+)/.exec(out)[1]),
		reminders: Number(/reminders queued: (\d+)/.exec(out)[1]),
	};
}

/* One SELECT over the tables compliance_sql_pairs and
 * compliance_sql_facts read, every pair's facts in one pass. */
const PEER_SQL = `
WITH pairs AS (
  SELECT x.user_id, x.course_id, min(x.due) AS due,
         coalesce(min(x.recur_months), 0) AS recur,
         max(x.recur_on_expiry) AS on_expiry, u.name, u.email,
         coalesce(u.language, '') AS language, c.title
  FROM (SELECT a.user_id, a.course_id, a.due, a.recur_months,
               a.recur_on_expiry FROM assignments a
        WHERE a.user_id IS NOT NULL
        UNION ALL
        SELECT m.user_id, a.course_id, a.due, a.recur_months,
               a.recur_on_expiry FROM assignments a
        JOIN group_members m ON m.group_id = a.group_id) x
  JOIN users u ON u.id = x.user_id JOIN courses c ON c.id = x.course_id
  GROUP BY x.user_id, x.course_id),
r AS (SELECT user_id, course_id, id, reason, opened_at, due,
             max(progress_from) OVER w AS progress_from,
             row_number() OVER (w ORDER BY opened_at DESC, id DESC) AS n
      FROM training_rounds
      WINDOW w AS (PARTITION BY user_id, course_id)),
k AS (SELECT course_id, max(seq) AS seq FROM course_versions
      WHERE retrain = 1 AND seq > 1 GROUP BY course_id),
cert AS (SELECT id, number, user_id, course_id, revision, issued_at,
                expires_at,
                row_number() OVER (PARTITION BY user_id, course_id
                                   ORDER BY issued_at DESC, id DESC) AS n
         FROM certificates WHERE revoked_at IS NULL),
done AS (SELECT user_id, course_id, max(completed_at) AS last
         FROM lesson_completions GROUP BY user_id, course_id)
SELECT p.user_id, p.course_id, p.due, p.recur, p.on_expiry, p.name,
       p.email, p.language, p.title, r.id, r.reason, r.opened_at, r.due,
       coalesce(r.progress_from, 0), k.seq, cert.id, cert.number,
       cert.issued_at, cert.expires_at,
       coalesce(v.seq, 0) >= coalesce(k.seq, 0),
       coalesce(done.last, -1) >= coalesce(r.progress_from, 0)
FROM pairs p
LEFT JOIN r ON r.user_id = p.user_id AND r.course_id = p.course_id
           AND r.n = 1
LEFT JOIN k ON k.course_id = p.course_id
LEFT JOIN cert ON cert.user_id = p.user_id
              AND cert.course_id = p.course_id AND cert.n = 1
LEFT JOIN course_versions v ON v.course_id = cert.course_id
                           AND v.revision = cert.revision
LEFT JOIN done ON done.user_id = p.user_id
              AND done.course_id = p.course_id
ORDER BY p.user_id, p.course_id;`;

function peerRun(dir, W) {
	const t0 = process.hrtime.bigint();
	const out = sh('bash', ['-c', 'set -o pipefail; taskset -c "$1" ' +
		'sqlite3 -bail "$2" "$3" | wc -l || exit 1; times', 'peer',
		CORE, db(W), PEER_SQL]);
	const wall = ms(process.hrtime.bigint() - t0) / 1000;
	const lines = out.split('\n');
	const times = lines.at(-1).split(/\s+/);
	const cpu = [times[0], times[1]].map((t) => {
		const m = /(\d+)m([\d.]+)s/.exec(t);
		return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
	}).reduce((a, b) => a + b, 0);
	return { wall, cpu, rows: Number(lines[0]) };
}

/* GET path as admin, timed, with the server's CPU time. */
async function timedGet(ws, admin, p) {
	const cpu0 = cpuSeconds(ws.proc.pid);
	const t0 = process.hrtime.bigint();
	const r = await fetch(`http://127.0.0.1:${ws.port}${p}`,
			      { headers: admin });
	const body = Buffer.from(await r.arrayBuffer());
	const wall = ms(process.hrtime.bigint() - t0);
	if (!r.ok)
		throw new Error(`GET ${p}: ${r.status} ${body}`);
	return { ms: wall, bytes: body.length, body,
		 cpu: cpuSeconds(ws.proc.pid) - cpu0 };
}

/* A request's latency in ms and its status. */
async function latency(port, method, p, headers) {
	const t0 = process.hrtime.bigint();
	const r = await fetch(`http://127.0.0.1:${port}${p}`,
			      { method, headers });
	await r.arrayBuffer();
	return { ms: ms(process.hrtime.bigint() - t0), status: r.status };
}

/* serve on the copy W (after both runs), on every core: a write sent
 * while its first compliance run (nothing to do) holds the write lock,
 * then, once that run is over, the lists. The runner's next tick (60 s
 * after the start) may fall into the lists: then serve used more than
 * one core-second per second ("overlap"). */
async function serveRun(dir, W, admin, learner, i) {
	const token = sh(WORKSPACE, ['token', 'create', W, email(1)]);
	const auth = { Authorization: `Bearer ${token}` };
	const post = `/api/v1/courses/${COURSE_IDS[0]}/lessons/` +
		`${TEXT_LESSON}/complete`;
	const t0 = Date.now();
	const ws = await startServe(dir, W, `serve-${i}`, false);
	const writing = latency(ws.port, 'POST', post, auth);
	await sleep(200);
	const frozen = await latency(ws.port, 'GET', '/healthz', {});
	const busy = await writing;
	/* the first run is over once a write goes through at once */
	await waitFor(async () => {
		const r = await latency(ws.port, 'POST', post, auth);
		return r.status === 200 && r.ms < 50;
	}, 300000, 100);
	const runEnd = (Date.now() - t0) / 1000;
	const idle = [];
	for (let k = 0; k < 3; k++)
		idle.push((await latency(ws.port, 'POST', post, auth)).ms);

	const hwm0 = vmHwmKiB(ws.proc.pid);
	const listing = timedGet(ws, admin, '/api/v1/compliance');
	await sleep(20);
	const health = await latency(ws.port, 'GET', '/healthz', {});
	const list = await listing;
	const rows = JSON.parse(list.body).length;
	const hwm1 = vmHwmKiB(ws.proc.pid);

	const users = [];
	for (let k = 0; k < USER_REQUESTS; k++)
		users.push(await timedGet(ws, admin, '/api/v1/compliance' +
					  `?user=${learner}`));
	const one = JSON.parse(users[0].body);
	await stop(ws.proc);
	return {
		write_busy_ms: busy.ms, write_busy_status: busy.status,
		healthz_during_write_ms: frozen.ms,
		first_serve_run_s: runEnd, write_idle_ms: median(idle),
		list_ms: list.ms, list_bytes: list.bytes, list_rows: rows,
		list_cpu: list.cpu,
		list_overlap: list.cpu > 1.2 * list.ms / 1000,
		healthz_during_list_ms: health.ms,
		serve_hwm_before_kib: hwm0, serve_hwm_after_kib: hwm1,
		user_ms: median(users.map((u) => u.ms)),
		user_cpu: median(users.map((u) => u.cpu)),
		user_bytes: users[0].bytes, user_rows: one.length,
		user_reminders: one.reduce((a, x) => a + x.reminders.length,
					   0),
	};
}

function logRun(i, first, second, peer) {
	console.log(`run ${i}: first ${sec(first.wall)} s (${first.rounds} ` +
		    `rounds, ${first.reminders} reminders, ` +
		    `${sec(first.cpu)} CPU-s, peak RSS ${mib(first.rss_kib)} ` +
		    `MiB); second ${sec(second.wall)} s (${second.rounds}/` +
		    `${second.reminders}, ${sec(second.cpu)} CPU-s, ` +
		    `${mib(second.rss_kib)} MiB); sqlite3 peer ` +
		    `${sec(peer.wall)} s (${peer.rows} rows, ` +
		    `${sec(peer.cpu)} CPU-s)`);
}

function logServe(v) {
	console.log(`  serve: a write at start ${int(v.write_busy_ms)} ms ` +
		    `(HTTP ${v.write_busy_status}; /healthz meanwhile ` +
		    `${int(v.healthz_during_write_ms)} ms), idle ` +
		    `${sec(v.write_idle_ms)} ms; first run over after ` +
		    `${sec(v.first_serve_run_s)} s; GET /api/v1/compliance ` +
		    `${int(v.list_ms)} ms, ${v.list_bytes} bytes, ` +
		    `${v.list_rows} rows, ${sec(v.list_cpu)} CPU-s` +
		    `${v.list_overlap ? ' (overlap)' : ''}, /healthz ` +
		    `meanwhile ${int(v.healthz_during_list_ms)} ms; ?user= ` +
		    `${sec(v.user_ms)} ms (${v.user_bytes} bytes)`);
}

/* ---- main ---- */

function table(s) {
	const n = `${RUNS} runs`;
	return [
		`| figure (${LEARNERS} learners, ${s.pairs} pairs) | median ` +
		`of ${n} | all runs | notes |`,
		'| --- | ---: | --- | --- |',
		`| (a) first \`compliance run\` (fresh copy) | ` +
		`${sec(s.first_s)} s | ${s.first_all} | ${s.rounds} rounds ` +
		`opened, ${s.reminders} reminders queued; ` +
		`${sec(s.first_cpu)} CPU-s; peak RSS ` +
		`${mib(s.first_rss_kib)} MiB |`,
		`| (b) second run right after (nothing to do) | ` +
		`${sec(s.second_s)} s | ${s.second_all} | ${s.second_rounds} ` +
		`rounds, ${s.second_reminders} reminders; ` +
		`${sec(s.second_cpu)} CPU-s; peak RSS ` +
		`${mib(s.second_rss_kib)} MiB |`,
		`| peer of (b): sqlite3 CLI, one SELECT of every pair's ` +
		`facts | ${sec(s.peer_s)} s | ${s.peer_all} | ${s.peer_rows} ` +
		`rows; (b) / peer = ${(s.second_s / s.peer_s).toFixed(1)} |`,
		`| (c) \`GET /api/v1/compliance\` as admin | ` +
		`${int(s.list_ms)} ms | ${s.list_all} | ${s.list_rows} rows, ` +
		`${s.list_bytes} bytes; server ${sec(s.list_cpu)} CPU-s; a ` +
		`GET /healthz sent meanwhile waited ${int(s.healthz_ms)} ms; ` +
		`serve's peak RSS ${mib(s.hwm_before_kib)} → ` +
		`${mib(s.hwm_after_kib)} MiB; runs overlapped by the ` +
		`runner's tick: ${s.list_overlaps} |`,
		`| (d) \`GET /api/v1/compliance?user=ID\` | ` +
		`${sec(s.user_ms)} ms | ${s.user_all} | ${s.user_rows} rows ` +
		`with ${s.user_reminders} reminders, ${s.user_bytes} bytes ` +
		`(median of ${USER_REQUESTS} per run); server ` +
		`${sec(s.user_cpu)} CPU-s |`,
		`| a write (POST …/complete) while serve's first run holds ` +
		`the lock | ${int(s.write_busy_ms)} ms | ${s.write_busy_all} ` +
		`| HTTP ${s.write_busy_status}; a GET /healthz sent 200 ms ` +
		`later waited ${int(s.healthz_write_ms)} ms; the same POST ` +
		`when idle: ` +
		`${sec(s.write_idle_ms)} ms; serve's first run over after ` +
		`${sec(s.serve_first_run_s)} s |`,
	].join('\n');
}

async function main() {
	for (const b of [MOTHER, WORKSPACE, TIME])
		if (!fs.existsSync(b))
			throw new Error(`${b} missing`);
	console.log(`# ${new Date().toISOString()} ${os.cpus().length} ` +
		    `cores, load ${os.loadavg()[0].toFixed(2)}; ${LEARNERS} ` +
		    `learners x ${COURSE_IDS.length} courses; runs pinned ` +
		    `to core ${CORE}; ${RUNS} runs`);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(),
					     'lms-bench-compliance-'));
	const runs = [];
	let s;
	try {
		const now = Math.floor(Date.now() / 1000);
		const t0 = Date.now();
		const mother = await setupMother(dir, COURSE_IDS, (i) => ({
			de: `Kurs ${i + 1}`, en: `Course ${i + 1}` }));
		const ws = await setupWorkspace(dir, mother, now);
		const rows = seed(dir, ws.W, now);
		checkSeed(ws.W, rows, now);
		const pairs = COURSE_IDS.length * Number(query(ws.W,
			'SELECT count(*) FROM group_members'));
		/* a learner in the middle, whose first course is overdue */
		const learner = Number(query(ws.W, 'SELECT id FROM users ' +
			`WHERE email = ${sqlText(email(LEARNERS >> 1))}`));
		console.log(`setup: ${((Date.now() - t0) / 1000).toFixed(0)} ` +
			    `s; due dates ${ws.dues.join(', ')}; ` +
			    `workspace.db ${(fs.statSync(db(ws.W)).size /
					     1048576).toFixed(1)} MiB`);
		for (let i = 0; i < RUNS; i++) {
			const copy = path.join(dir, `run-${i + 1}`);
			fs.rmSync(copy, { recursive: true, force: true });
			fs.cpSync(ws.W, copy, { recursive: true });
			const first = complianceRun(dir, copy);
			const second = complianceRun(dir, copy);
			const peer = peerRun(dir, copy);
			logRun(i + 1, first, second, peer);
			const srv = await serveRun(dir, copy, ws.admin,
						   learner, i + 1);
			runs.push({ first, second, peer, serve: srv });
			logServe(srv);
			fs.rmSync(copy, { recursive: true, force: true });
		}
		const pick = (f) => median(runs.map(f));
		const all = (f, d = 2) => runs.map((r) => f(r).toFixed(d))
			.join(', ');
		s = {
			learners: LEARNERS, pairs, runs: RUNS,
			completed_pairs: rows.length + COURSE_IDS.length,
			first_s: pick((r) => r.first.wall),
			first_all: all((r) => r.first.wall),
			first_cpu: pick((r) => r.first.cpu),
			first_rss_kib: pick((r) => r.first.rss_kib),
			rounds: pick((r) => r.first.rounds),
			reminders: pick((r) => r.first.reminders),
			second_s: pick((r) => r.second.wall),
			second_all: all((r) => r.second.wall),
			second_cpu: pick((r) => r.second.cpu),
			second_rss_kib: pick((r) => r.second.rss_kib),
			second_rounds: pick((r) => r.second.rounds),
			second_reminders: pick((r) => r.second.reminders),
			peer_s: pick((r) => r.peer.wall),
			peer_all: all((r) => r.peer.wall),
			peer_rows: pick((r) => r.peer.rows),
			list_ms: pick((r) => r.serve.list_ms),
			list_all: all((r) => r.serve.list_ms, 0),
			list_bytes: pick((r) => r.serve.list_bytes),
			list_rows: pick((r) => r.serve.list_rows),
			list_cpu: pick((r) => r.serve.list_cpu),
			healthz_ms: pick((r) => r.serve.healthz_during_list_ms),
			hwm_before_kib: pick((r) =>
				r.serve.serve_hwm_before_kib),
			hwm_after_kib: pick((r) => r.serve.serve_hwm_after_kib),
			user_ms: pick((r) => r.serve.user_ms),
			user_all: all((r) => r.serve.user_ms),
			user_bytes: pick((r) => r.serve.user_bytes),
			user_rows: pick((r) => r.serve.user_rows),
			user_reminders: pick((r) => r.serve.user_reminders),
			write_busy_ms: pick((r) => r.serve.write_busy_ms),
			write_busy_all: all((r) => r.serve.write_busy_ms, 0),
			write_busy_status: runs.map((r) =>
				r.serve.write_busy_status).join(', '),
			write_idle_ms: pick((r) => r.serve.write_idle_ms),
			healthz_write_ms: pick((r) =>
				r.serve.healthz_during_write_ms),
			serve_first_run_s: pick((r) =>
				r.serve.first_serve_run_s),
			list_overlaps: runs.filter((r) =>
				r.serve.list_overlap).length,
			user_cpu: pick((r) => r.serve.user_cpu),
		};
	} finally {
		await stopAll();
		if (process.env.LMS_KEEP_TMP === '1')
			console.log(`kept ${dir}`);
		else
			fs.rmSync(dir, { recursive: true, force: true });
	}
	console.log(`\nMedians of ${RUNS} runs; load at the end ` +
		    `${os.loadavg()[0].toFixed(2)}\n`);
	console.log(table(s));
	console.log(JSON.stringify({ summary: s, runs }, null, 1));
	process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
