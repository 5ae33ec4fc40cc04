#!/usr/bin/env node
/*
 * Benchmark of the reports (workspace/report.h) on a tenant of LEARNERS
 * learners, COURSES courses each assigned to all of them (500,000 pairs
 * by default) and PROGRESS progress rows (lesson completions and quiz
 * attempts, 200,000 by default):
 *
 *   completion  GET /api/v1/reports/completion (JSON) as admin: the
 *               completion report over every pair (target < 200 ms)
 *   export      GET /api/v1/reports/people?format=csv as admin: every
 *               pair as one CSV row, streamed (target < 1 s), its bytes
 *               and rows, how long a GET /healthz sent meanwhile waited,
 *               and serve's peak memory (VmHWM) before and after
 *   list        GET /api/v1/compliance as admin (the whole list, now
 *               streamed): time, bytes, /healthz meanwhile, VmHWM
 *
 * Setup, as tests/bench/compliance.mjs does it: a mother with the
 * sample course hygiene-basics and COURSES - 1 copies under other ids;
 * a workspace holding them all; the learners by one CSV import; a group
 * whose rule holds all of them; one assignment of each course to the
 * group, the due dates spread from 30 days ago to 300 days ahead. The
 * first learner does every course through the API; the rows that wrote
 * (lesson_completions, quiz_attempts, certificates) are copied with the
 * sqlite3 CLI, serve stopped, to as many other pairs (a fixed
 * pseudo-random choice) as make PROGRESS progress rows, each shifted to
 * an issue date spread over the last 13 months, with its own id, number,
 * verify code and expiry as the workspace makes them. Then `compliance
 * run` once, so that serve's runner finds nothing new to do.
 *
 * Each figure is measured while serve is idle: before each request the
 * script waits until serve used under 5 % of a core for a second (its
 * compliance runner passes over every pair once a minute). Medians of
 * RUNS requests each.
 *
 * Requests are sent by curl, the time is the time to the last byte as
 * curl measures it.
 *
 * Usage: node tests/bench/report.mjs [--runs 3] [--learners 10000]
 *            [--courses 50] [--progress 200000]
 * Binaries from LMS_BIN (default build/bin). Prints one line per run, a
 * markdown table of the medians and a JSON summary. This is a
 * benchmark, not a test: it reports figures and asserts nothing beyond
 * a working setup. Needs sqlite3 and curl.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
	DAY, MOTHER, WORKSPACE, addMonths, api, arg, certNumber, completeAll,
	cpuSeconds, daemon, db, email, freePort, importLearners, int, isoDay,
	median, mib, ms, query, random, sec, setupMother, sh, sleep, sqlText,
	stop, stopAll, vmHwmKiB, vmRssKiB, waitFor
} from './lib.mjs';


const RUNS = Number(arg('runs', '3'));
const LEARNERS = Number(arg('learners', '10000'));
const COURSES = Number(arg('courses', '50'));
const PROGRESS = Number(arg('progress', '200000'));
const COURSE_IDS = ['hygiene-basics', ...Array.from(
	{ length: COURSES - 1 },
	(_, i) => `bench-${String(i + 2).padStart(2, '0')}`)];

/* ---- setup ---- */

async function startServe(dir, W, name) {
	const port = await freePort();
	const proc = daemon(WORKSPACE, ['serve', W, '--listen',
					`127.0.0.1:${port}`],
			    path.join(dir, `${name}.log`));
	await waitFor(() => api(port, 'GET', '/healthz'), 60000, 5);
	return { port, proc };
}

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
	importLearners(dir, W, LEARNERS, (i) => `"Müller, Jörg ${i}"`);
	const admin = { Authorization: 'Bearer ' + sh(WORKSPACE, [
		'token', 'create', W, 'admin@example.org']) };
	const first = sh(WORKSPACE, ['token', 'create', W, email(1)]);
	const json = { ...admin, 'Content-Type': 'application/json' };

	const ws = await startServe(dir, W, 'setup');
	await waitFor(async () => JSON.parse(await api(
		ws.port, 'GET', '/api/v1/catalog')).length ===
		COURSE_IDS.length, 300000, 200);
	const group = JSON.parse(await api(ws.port, 'POST', '/api/v1/groups',
		json, JSON.stringify({ name: 'Alle', parent: null,
				       rule: { staff: 'yes' } })));
	if (group.member_count !== LEARNERS)
		throw new Error(`the group has ${group.member_count} members`);
	for (const [i, course] of COURSE_IDS.entries()) {
		const days = -30 + Math.floor(330 * i / COURSE_IDS.length);
		await api(ws.port, 'POST', '/api/v1/assignments', json,
			  JSON.stringify({ course, group: group.id,
					   due: isoDay(now + days * DAY) }));
	}
	await completeAll(ws.port, first, COURSE_IDS);
	await stop(ws.proc);
	return { W, admin };
}

/* ---- seeding ---- */


/* The pairs that get a completion: enough for PROGRESS progress rows. */
function seedRows(W, now, perPair) {
	const ids = new Map(query(W, 'SELECT email, id FROM users').split('\n')
		.map((l) => l.split('|')).map(([e, id]) => [e, Number(id)]));
	let next = Number(query(W, 'SELECT max(id) FROM certificates')) + 1;
	const want = Math.floor(PROGRESS / perPair) - COURSE_IDS.length;
	const share = want / ((LEARNERS - 1) * COURSE_IDS.length);
	const rand = random(20261204);
	const rows = [];
	for (let i = 2; i <= LEARNERS && rows.length < want; i++)
		for (const course of COURSE_IDS) {
			if (rand() >= share || rows.length >= want)
				continue;
			const issued = Math.floor(now - DAY - rand() *
						  (395 - 1) * DAY);
			rows.push({ user: ids.get(email(i)), course, issued });
		}
	rows.sort((a, b) => a.issued - b.issued);
	for (const r of rows) {
		r.id = next++;
		r.number = certNumber(r.course, r.issued, r.id);
		r.code = crypto.randomBytes(16).toString('hex');
		r.expires = addMonths(r.issued, 12);
	}
	return rows;
}

function seed(dir, W, now) {
	const tpl = Number(query(W, 'SELECT id FROM users WHERE email = ' +
				 sqlText(email(1))));
	const perPair = Number(query(W, 'SELECT (SELECT count(*) FROM ' +
		`lesson_completions WHERE user_id = ${tpl}) + (SELECT ` +
		`count(*) FROM quiz_attempts WHERE user_id = ${tpl})`)) /
		COURSE_IDS.length;
	const rows = seedRows(W, now, perPair);
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
	sh('bash', ['-c', 'sqlite3 -bail "$1" < "$2" > /dev/null', 'seed',
		    db(W), file]);
	const counts = query(W, 'SELECT (SELECT count(*) FROM ' +
			     'lesson_completions), (SELECT count(*) FROM ' +
			     'quiz_attempts), (SELECT count(*) FROM ' +
			     'certificates)').split('|').map(Number);
	console.log(`seeded ${rows.length} completed pairs: ${counts[0]} ` +
		    `lesson_completions, ${counts[1]} quiz_attempts ` +
		    `(${counts[0] + counts[1]} progress rows), ${counts[2]} ` +
		    'certificates');
	return counts;
}

/* ---- the measurements ---- */

/* Waits until serve used under 5 % of a core for a second. */
async function idle(ws) {
	for (let k = 0; k < 120; k++) {
		const c0 = cpuSeconds(ws.proc.pid);
		await sleep(1000);
		if (cpuSeconds(ws.proc.pid) - c0 < 0.05)
			return;
	}
	throw new Error('serve never idle');
}

/* GET p by curl (a client of its own, as a browser or a script would
 * download an export), the body into a file: the time to the last
 * byte as curl measured it, the body and its Transfer-Encoding. */
function curl(port, admin, p) {
	const file = path.join(os.tmpdir(), `lms-bench-report-${process.pid}`);
	const args = ['-s', '-D', `${file}.head`, '-o', file, '-w',
		      '%{http_code} %{time_total}', '-H',
		      `Authorization: ${admin.Authorization}`,
		      `http://127.0.0.1:${port}${p}`];
	return new Promise((resolve, reject) => {
		const c = spawn('curl', args);
		let out = '';
		c.stdout.on('data', (d) => { out += d; });
		c.on('exit', () => {
			const [code, secs] = out.split(' ');
			const body = fs.readFileSync(file);
			const head = fs.readFileSync(`${file}.head`, 'utf8');
			fs.rmSync(file);
			fs.rmSync(`${file}.head`);
			if (code !== '200')
				reject(new Error(`GET ${p}: ${code} ${body}`));
			resolve({ body, wall: Number(secs) * 1000,
				  chunked: /^transfer-encoding: *(\S+)/im
					  .exec(head)?.[1] ?? null });
		});
	});
}

async function latency(port, p) {
	const t0 = process.hrtime.bigint();
	const r = await fetch(`http://127.0.0.1:${port}${p}`);
	await r.arrayBuffer();
	return ms(process.hrtime.bigint() - t0);
}

/* GET p as admin: time to the last byte, bytes, a /healthz sent 20 ms
 * after it, serve's VmHWM before and after, and its RssAnon before and
 * at most while the answer came (read every 5 ms). */
async function measure(ws, admin, p) {
	await idle(ws);
	const hwm0 = vmHwmKiB(ws.proc.pid);
	const rss0 = vmRssKiB(ws.proc.pid);
	let rssMax = rss0;
	const sampler = setInterval(() => {
		rssMax = Math.max(rssMax, vmRssKiB(ws.proc.pid));
	}, 5);
	const cpu0 = cpuSeconds(ws.proc.pid);
	const getting = curl(ws.port, admin, p);
	await sleep(20);
	const health = await latency(ws.port, '/healthz');
	const got = await getting;
	clearInterval(sampler);
	rssMax = Math.max(rssMax, vmRssKiB(ws.proc.pid));
	return { ms: got.wall, bytes: got.body.length, body: got.body,
		 rss_before_kib: rss0, rss_max_kib: rssMax,
		 chunked: got.chunked, healthz_ms: health,
		 cpu: cpuSeconds(ws.proc.pid) - cpu0,
		 hwm_before_kib: hwm0, hwm_after_kib: vmHwmKiB(ws.proc.pid) };
}

function logRun(i, completion, total, exp, list) {
	const grew = (m) => mib(m.rss_max_kib - m.rss_before_kib);

	console.log(`run ${i}: completion ${int(completion.ms)} ms ` +
		    `(${total.assigned} assigned, rate ` +
		    `${total.completion_rate}); CSV export ${int(exp.ms)} ms ` +
		    `(${exp.rows} rows, ${exp.bytes} bytes, /healthz ` +
		    `${int(exp.healthz_ms)} ms, RssAnon +${grew(exp)} MiB); ` +
		    `list ${int(list.ms)} ms (${list.rows} rows, /healthz ` +
		    `${int(list.healthz_ms)} ms, RssAnon +${grew(list)} MiB)`);
}

function table(s) {
	const row = (name, m, target, notes) => `| ${name} | ` +
		`${int(m.ms)} ms | ${m.all} | ${target} | ${notes} |`;
	const verdict = (v, t) => (v < t ? `met (< ${t} ms)` :
				   `**missed** (< ${t} ms)`);
	return [
		`| figure (${LEARNERS} learners, ${COURSE_IDS.length} ` +
		'courses, ' +
		`${s.pairs} pairs, ${s.progress} progress rows) | median of ` +
		`${RUNS} | all runs | target | notes |`,
		'| --- | ---: | --- | --- | --- |',
		row('completion report, JSON', s.completion,
		    verdict(s.completion.ms, 200),
		    `${s.completion.bytes} bytes; RssAnon grew by at most ` +
		    `${mib(s.completion.rss_growth_kib)} MiB; server ` +
		    `${sec(s.completion.cpu)} CPU-s; /healthz meanwhile ` +
		    `${int(s.completion.healthz_ms)} ms`),
		row('people export, CSV (every pair)', s.export,
		    verdict(s.export.ms, 1000),
		    `${s.export.rows} rows, ${s.export.bytes} bytes, ` +
		    `${s.export.chunked}; server ${sec(s.export.cpu)} CPU-s; ` +
		    `/healthz meanwhile ${int(s.export.healthz_ms)} ms; ` +
		    `serve's RssAnon (heap) grew by at most ` +
		    `${mib(s.export.rss_growth_kib)} MiB while exporting; ` +
		    `VmHWM ${mib(s.export.hwm_before_kib)} → ` +
		    `${mib(s.export.hwm_after_kib)} MiB`),
		row('`GET /api/v1/compliance` (whole list)', s.list, '-',
		    `${s.list.rows} rows, ${s.list.bytes} bytes; server ` +
		    `${sec(s.list.cpu)} CPU-s; /healthz meanwhile ` +
		    `${int(s.list.healthz_ms)} ms; RssAnon grew by at most ` +
		    `${mib(s.list.rss_growth_kib)} MiB; VmHWM ` +
		    `${mib(s.list.hwm_before_kib)} → ` +
		    `${mib(s.list.hwm_after_kib)} MiB`),
	].join('\n');
}

function summary(runs, key, extra = () => ({})) {
	const xs = runs.map((r) => r[key]);
	const pick = (f) => median(xs.map(f));
	return { ms: pick((x) => x.ms),
		 all: xs.map((x) => x.ms.toFixed(0)).join(', '),
		 bytes: pick((x) => x.bytes), cpu: pick((x) => x.cpu),
		 healthz_ms: pick((x) => x.healthz_ms),
		 hwm_before_kib: pick((x) => x.hwm_before_kib),
		 rss_growth_kib: Math.max(...xs.map((x) => x.rss_max_kib -
						    x.rss_before_kib)),
		 hwm_after_kib: Math.max(...xs.map((x) => x.hwm_after_kib)),
		 chunked: xs[0].chunked, ...extra(xs) };
}

async function main() {
	for (const b of [MOTHER, WORKSPACE])
		if (!fs.existsSync(b))
			throw new Error(`${b} missing`);
	console.log(`# ${new Date().toISOString()} ${os.cpus().length} ` +
		    `cores, load ${os.loadavg()[0].toFixed(2)}; ${LEARNERS} ` +
		    `learners x ${COURSE_IDS.length} courses; ${RUNS} runs`);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(),
					     'lms-bench-report-'));
	const runs = [];
	let s;
	try {
		const now = Math.floor(Date.now() / 1000);
		const t0 = Date.now();
		const mother = await setupMother(dir, COURSE_IDS, (i) => ({
			de: `Kurs ${i + 1}: Hygiene, "Grün"`, en: `Course ${i + 1}` }));
		const ws0 = await setupWorkspace(dir, mother, now);
		const counts = seed(dir, ws0.W, now);
		const t1 = Date.now();
		console.log(`compliance run: ${sh(WORKSPACE, ['compliance',
			'run', ws0.W]).replace(/\n/g, '; ')} in ` +
			`${((Date.now() - t1) / 1000).toFixed(0)} s`);
		const pairs = COURSE_IDS.length * Number(query(ws0.W,
			'SELECT count(*) FROM group_members'));
		console.log(`setup: ${((Date.now() - t0) / 1000).toFixed(0)} ` +
			    `s; workspace.db ${(fs.statSync(db(ws0.W)).size /
					     1048576).toFixed(1)} MiB`);
		const ws = await startServe(dir, ws0.W, 'serve');
		for (let i = 0; i < RUNS; i++) {
			const completion = await measure(ws, ws0.admin,
				'/api/v1/reports/completion');
			const total = JSON.parse(completion.body).total;
			const exp = await measure(ws, ws0.admin,
				'/api/v1/reports/people?format=csv');
			exp.rows = exp.body.toString().split('\r\n').length - 2;
			const list = await measure(ws, ws0.admin,
						   '/api/v1/compliance');
			list.rows = JSON.parse(list.body).length;
			for (const m of [completion, exp, list])
				delete m.body;
			runs.push({ completion, export: exp, list });
			logRun(i + 1, completion, total, exp, list);
		}
		await stop(ws.proc);
		s = { learners: LEARNERS, courses: COURSE_IDS.length, pairs,
		      progress: counts[0] + counts[1], certificates: counts[2],
		      completion: summary(runs, 'completion'),
		      export: summary(runs, 'export',
				      (xs) => ({ rows: xs[0].rows })),
		      list: summary(runs, 'list',
				    (xs) => ({ rows: xs[0].rows })) };
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
