#!/usr/bin/env node
/*
 * Benchmarks of the workspace's HTTP API, each against a peer in the same
 * run, in requests per second of one core:
 *
 *   read      authenticated GET /api/v1/courses (bearer token, keep-alive)
 *             of a learner with 10 assigned courses (copies of the sample
 *             course hygiene-basics); peer: nginx (1 worker, access log
 *             off, keep-alive) serving the same JSON body as a static file
 *   attempt   POST /api/v1/courses/{id}/lessons/wissenstest/attempts with
 *             the right answers: graded, one new row in quiz_attempts and
 *             an INSERT OR IGNORE of the completion, in one transaction;
 *             peer: the sqlite3 CLI running the same statements, each
 *             request's in its own transaction, piped to one process, on a
 *             copy of the workspace's database (WAL, synchronous=FULL, as
 *             the workspace opens it)
 *   complete  POST /api/v1/courses/{id}/lessons/haende/complete: one
 *             INSERT OR IGNORE (the row exists after the first); peer: the
 *             same statement by sqlite3, each in its own transaction
 *
 * Load comes from wrk (a lua script for the POSTs). The server under test
 * and its peer run pinned to one core (taskset -c SERVER_CORE), wrk to
 * another (CLIENT_CORE); runs of ours and of the peer alternate. Besides
 * the wall-clock rate, the CPU time the server used is read from /proc,
 * giving requests per CPU-second: on a shared machine that figure is the
 * steadier one. When wrk kept its own core busy (over 90 %), the row says
 * "client-bound": the server could have done more.
 *
 * Usage: node tests/bench/api.mjs [--duration 10] [--runs 3]
 *            [--connections 32] [--write-connections 64]
 *            [--server-core 0] [--client-core 1] [--only read|write]
 * Binaries from LMS_BIN (default build/bin). Prints one line per run, a
 * markdown table and a JSON summary. This is a benchmark, not a test: it
 * reports figures and asserts nothing beyond a working setup.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = path.resolve(process.env.LMS_BIN || path.join(ROOT, 'build/bin'));
const MOTHER = path.join(BIN, 'lms-mother');
const WORKSPACE = path.join(BIN, 'lms-workspace');
const SAMPLE = path.join(ROOT, 'deploy/courses/hygiene-basics');
const NGINX = '/usr/sbin/nginx';
const WRK = '/usr/bin/wrk';
const COURSES = 10;
const QUIZ = 'wissenstest';
const TEXT_LESSON = 'haende';

function arg(name, dflt) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
}

const DURATION = Number(arg('duration', '10'));
const RUNS = Number(arg('runs', '3'));
const CONNS = Number(arg('connections', '32'));
const WRITE_CONNS = Number(arg('write-connections', '64'));
const SERVER_CORE = arg('server-core', '0');
const CLIENT_CORE = arg('client-core', '1');
const ONLY = arg('only', '');
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'],
			       { encoding: 'utf8' }).stdout.trim()) || 100;
const children = [];

process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

/* ---- helpers ---- */

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sh(cmd, args, opts = {}) {
	const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
	if (r.status !== 0)
		throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
	return r.stdout.trim();
}

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer().listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

function daemon(cmd, args, log) {
	const fd = fs.openSync(log, 'a');
	const c = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
	fs.closeSync(fd);
	children.push(c);
	return c;
}

async function waitFor(fn, ms = 60000, every = 50) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn().catch(() => null);
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('timed out');
		await sleep(every);
	}
}

async function api(port, method, p, headers = {}, body) {
	const r = await fetch(`http://127.0.0.1:${port}${p}`, {
		method, headers, body });
	const text = await r.text();
	if (!r.ok)
		throw new Error(`${method} ${p}: ${r.status} ${text}`);
	return text;
}

function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toString() : '-');

/* CPU seconds (user and system, all threads) used so far by the
 * processes pids. */
function cpuSeconds(pids) {
	let ticks = 0;
	for (const pid of pids) {
		try {
			const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
			const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
			ticks += Number(f[11]) + Number(f[12]);
		} catch {
			/* gone */
		}
	}
	return ticks / TICKS;
}

/* The children of pid (nginx's worker). */
function childPids(pid) {
	try {
		return fs.readFileSync(`/proc/${pid}/task/${pid}/children`,
				       'utf8').trim().split(/\s+/)
			.filter(Boolean).map(Number);
	} catch {
		return [];
	}
}

/* ---- the workspace ---- */

/* A mother with 10 copies of the sample course, a workspace holding them
 * (serve pinned to the server core), an admin and a learner with every
 * course assigned; tokens for both. */
async function setupWorkspace(dir) {
	const M = path.join(dir, 'mother');
	const W = path.join(dir, 'ws');
	const [mhttp, msync, wport] = [await freePort(), await freePort(),
				       await freePort()];

	sh(MOTHER, ['init', M]);
	for (let i = 1; i <= COURSES; i++) {
		const id = `bench-${String(i).padStart(2, '0')}`;
		const src = path.join(dir, 'src', id);
		fs.cpSync(SAMPLE, src, { recursive: true });
		const cj = JSON.parse(fs.readFileSync(
			path.join(src, 'course.json')));
		cj.id = id;
		cj.title = { de: `Kurs ${i}`, en: `Course ${i}` };
		fs.writeFileSync(path.join(src, 'course.json'),
				 JSON.stringify(cj, null, 2));
		sh(MOTHER, ['course', 'publish', M, src, '-m', 'first']);
	}
	daemon('taskset', ['-c', CLIENT_CORE, MOTHER, 'serve', M, '--listen',
			   `127.0.0.1:${mhttp}`, '--sync-listen',
			   `127.0.0.1:${msync}`], path.join(dir, 'mother.log'));
	await waitFor(() => api(mhttp, 'GET', '/healthz'));
	const fp = sh(MOTHER, ['key', M]);
	const add = JSON.parse(sh(MOTHER, ['tenant', 'add', M, 'bench',
					   '--name', 'Bench', '--courses',
					   'all', '--json']));
	sh(WORKSPACE, ['init', W, '--mother', `127.0.0.1:${msync}`,
		       '--token', add.token, '--mother-key', fp]);
	const proc = daemon('taskset', ['-c', SERVER_CORE, WORKSPACE, 'serve',
					W, '--listen', `127.0.0.1:${wport}`],
			    path.join(dir, 'ws.log'));
	await waitFor(async () => JSON.parse(await api(
		wport, 'GET', '/api/v1/catalog')).length === COURSES);

	for (const [email, role] of [['admin@example.org', 'admin'],
				     ['learner@example.org', 'learner']])
		sh(WORKSPACE, ['user', 'add', W, email, '--name', email,
			       '--role', role]);
	const token = (email) => sh(WORKSPACE, ['token', 'create', W, email]);
	const admin = { Authorization: `Bearer ${token('admin@example.org')}`,
			'Content-Type': 'application/json' };
	for (let i = 1; i <= COURSES; i++)
		await api(wport, 'POST', '/api/v1/assignments', admin,
			  JSON.stringify({
				course: `bench-${String(i).padStart(2, '0')}`,
				user: 'learner@example.org',
				due: '2027-03-01' }));
	return { W, port: wport, proc,
		 token: token('learner@example.org') };
}

/* ---- load ---- */

/* A wrk lua script for a request with method, body and headers. */
function wrkScript(dir, name, method, headers, body) {
	const file = path.join(dir, `${name}.lua`);
	const q = (s) => JSON.stringify(s); /* a valid lua string too */
	let lua = `wrk.method = ${q(method)}\n`;
	if (body !== undefined)
		lua += `wrk.body = ${q(body)}\n`;
	for (const [k, v] of Object.entries(headers))
		lua += `wrk.headers[${q(k)}] = ${q(v)}\n`;
	fs.writeFileSync(file, lua);
	return file;
}

/* One wrk run against url with script, while pids' CPU time is read. */
async function wrk(url, script, conns, pids) {
	const cpu0 = cpuSeconds(pids);
	const t0 = process.hrtime.bigint();
	const out = await new Promise((resolve, reject) => {
		const c = spawn('bash', ['-c', 'taskset -c "$1" "$2" -t1 ' +
			'-c "$3" -d "$4s" -s "$5" "$6" || exit 1; times', 'wrk',
			CLIENT_CORE, WRK, String(conns), String(DURATION),
			script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
		let text = '', err = '';
		c.stdout.on('data', (b) => { text += b; });
		c.stderr.on('data', (b) => { err += b; });
		c.on('exit', (code) => code === 0 ? resolve(text) :
			reject(new Error(`wrk: ${err}${text}`)));
	});
	const wall = Number(process.hrtime.bigint() - t0) / 1e9;
	const cpu = cpuSeconds(pids) - cpu0;
	const reqs = Number(/(\d+) requests in/.exec(out)[1]);
	const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
	const bad = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1]
			   ?? 0);
	const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
	const times = out.trim().split('\n').pop().split(/\s+/);
	const clientCpu = [times[0], times[1]].map((t) => {
		const m = /(\d+)m([\d.]+)s/.exec(t);
		return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
	}).reduce((a, b) => a + b, 0);
	if (bad || errors)
		console.log(`  ! ${bad} non-2xx answers ${errors}`);
	return { rps, reqs, cpu, perCpu: cpu > 0 ? reqs / cpu : NaN,
		 clientBusy: clientCpu / wall, bad };
}

/* ---- peers ---- */

async function startNginx(dir, body) {
	const root = path.join(dir, 'nginx-root');
	const port = await freePort();
	fs.mkdirSync(path.join(root, 'api/v1'), { recursive: true });
	fs.writeFileSync(path.join(root, 'api/v1/courses'), body);
	/* nginx's worker runs as another user: it may pass through the
	 * temporary directory and read the root, nothing else */
	fs.chmodSync(dir, 0o711);
	for (const d of ['', 'api', 'api/v1'])
		fs.chmodSync(path.join(root, d), 0o755);
	fs.chmodSync(path.join(root, 'api/v1/courses'), 0o644);
	for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
		fs.mkdirSync(path.join(dir, 'nginx-tmp', t),
			     { recursive: true });
	const conf = path.join(dir, 'nginx.conf');
	const tmp = path.join(dir, 'nginx-tmp');
	fs.writeFileSync(conf, `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	keepalive_timeout 65;
	keepalive_requests 100000000;
	client_body_temp_path ${tmp}/body;
	proxy_temp_path ${tmp}/proxy;
	fastcgi_temp_path ${tmp}/fastcgi;
	uwsgi_temp_path ${tmp}/uwsgi;
	scgi_temp_path ${tmp}/scgi;
	server {
		listen 127.0.0.1:${port};
		root ${root};
		default_type application/json;
	}
}
`);
	const proc = daemon('taskset', [
		'-c', SERVER_CORE, NGINX, '-c', conf,
		'-e', path.join(dir, 'nginx-error.log'),
	], path.join(dir, 'nginx.log'));
	const got = await waitFor(() => api(port, 'GET', '/api/v1/courses'));
	if (got !== body)
		throw new Error('nginx does not serve the same body');
	await sleep(200);
	return { port, proc, pids: [proc.pid, ...childPids(proc.pid)] };
}

/* sqlite3 running the statements of n requests (sql(i) gives one
 * request's), each request in its own transaction, on a copy of db;
 * pinned like the server. */
function sqliteRun(dir, db, n, sql) {
	const copy = path.join(dir, 'peer.db');
	for (const f of [copy, `${copy}-wal`, `${copy}-shm`])
		fs.rmSync(f, { force: true });
	sh('sqlite3', [db, `.backup ${copy}`]);
	const lines = ['PRAGMA journal_mode=WAL;', 'PRAGMA synchronous=FULL;',
		       'PRAGMA foreign_keys=ON;'];
	for (let i = 0; i < n; i++)
		lines.push(sql(i));
	const input = path.join(dir, 'peer.sql');
	fs.writeFileSync(input, lines.join('\n') + '\n');
	const t0 = process.hrtime.bigint();
	const out = sh('bash', [
		'-c', 'taskset -c "$1" sqlite3 -bail "$2" < "$3" > /dev/null ' +
		'|| exit 1; times', 'sqlite', SERVER_CORE, copy, input]);
	const wall = Number(process.hrtime.bigint() - t0) / 1e9;
	const times = out.trim().split('\n').pop().split(/\s+/);
	const cpu = [times[0], times[1]].map((t) => {
		const m = /(\d+)m([\d.]+)s/.exec(t);
		return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
	}).reduce((a, b) => a + b, 0);
	return { rps: n / wall, reqs: n, cpu, perCpu: cpu > 0 ? n / cpu : NaN,
		 clientBusy: 0, bad: 0 };
}

/* As many requests as take about DURATION seconds, found by a short
 * run first. */
function sqlitePeer(dir, db, sql) {
	const probe = sqliteRun(dir, db, 200, sql);
	const n = Math.max(200, Math.min(2e6, Math.round(probe.rps *
							    DURATION)));
	return sqliteRun(dir, db, n, sql);
}

/* ---- scenarios ---- */

function logRun(what, r) {
	console.log(`  ${what}: ${fmt(r.rps)} req/s, ${r.reqs} requests, ` +
		    `${r.cpu.toFixed(2)} CPU-s (${fmt(r.perCpu)} req per ` +
		    `CPU-s)${r.clientBusy > 0.9 ? ', client-bound' : ''}`);
}

function summary(name, ours, peerName, peer) {
	const pick = (rs, k) => median(rs.map((r) => r[k]));
	return {
		name, peer: peerName,
		ours_rps: pick(ours, 'rps'), peer_rps: pick(peer, 'rps'),
		ours_per_cpu: pick(ours, 'perCpu'),
		peer_per_cpu: pick(peer, 'perCpu'),
		ours_client_bound: ours.some((r) => r.clientBusy > 0.9),
		peer_client_bound: peer.some((r) => r.clientBusy > 0.9),
		errors: [...ours, ...peer].reduce((a, r) => a + r.bad, 0),
	};
}

async function readBench(dir, ws) {
	const auth = { Authorization: `Bearer ${ws.token}` };
	const body = await api(ws.port, 'GET', '/api/v1/courses', auth);
	const list = JSON.parse(body);
	if (list.length !== COURSES)
		throw new Error(`the learner has ${list.length} courses`);
	console.log(`read: GET /api/v1/courses, ${body.length} bytes of ` +
		    `JSON, ${COURSES} courses`);
	const nginx = await startNginx(dir, body);
	const oursScript = wrkScript(dir, 'read', 'GET', auth);
	const peerScript = wrkScript(dir, 'read-nginx', 'GET', {});
	const ours = [], peer = [];

	await wrk(`http://127.0.0.1:${ws.port}/api/v1/courses`, oursScript,
		  CONNS, [ws.proc.pid]); /* warm-up, not counted */
	for (let i = 0; i < RUNS; i++) {
		ours.push(await wrk(`http://127.0.0.1:${ws.port}` +
				    '/api/v1/courses', oursScript, CONNS,
				    [ws.proc.pid]));
		logRun(`run ${i + 1} workspace`, ours.at(-1));
		peer.push(await wrk(`http://127.0.0.1:${nginx.port}` +
				    '/api/v1/courses', peerScript, CONNS,
				    nginx.pids));
		logRun(`run ${i + 1} nginx`, peer.at(-1));
	}
	nginx.proc.kill('SIGTERM');
	return summary('GET /api/v1/courses (10 courses)', ours, 'nginx, ' +
		       'static file', peer);
}

/* The answers that pass the sample quiz. */
function rightAnswers() {
	const q = JSON.parse(fs.readFileSync(
		path.join(SAMPLE, 'quizzes', `${QUIZ}.json`)));
	return Object.fromEntries(q.questions.map((x) => [x.id, x.answer]));
}

const sqlText = (s) => `'${String(s).replace(/'/g, "''")}'`;

async function writeBench(dir, ws) {
	const course = 'bench-01';
	const base = `http://127.0.0.1:${ws.port}/api/v1/courses/${course}`;
	const headers = { Authorization: `Bearer ${ws.token}`,
			  'Content-Type': 'application/json' };
	const body = JSON.stringify({ answers: rightAnswers() });
	const first = JSON.parse(await api(ws.port, 'POST',
		`/api/v1/courses/${course}/lessons/${QUIZ}/attempts`,
		headers, body));
	if (!first.passed)
		throw new Error('the quiz was not passed');
	await api(ws.port, 'POST',
		  `/api/v1/courses/${course}/lessons/${TEXT_LESSON}/complete`,
		  headers);

	/* what the workspace wrote, for the peer's statements */
	const db = path.join(ws.W, 'workspace.db');
	const row = (sql) => sh('sqlite3', ['-separator', '|', db, sql])
		.split('|');
	const [uid, qblob, rev] = row('SELECT user_id, blob_id, revision ' +
				      'FROM quiz_attempts LIMIT 1');
	const [tblob] = row('SELECT blob_id FROM lesson_completions WHERE ' +
			    `lesson_id = '${TEXT_LESSON}' LIMIT 1`);
	const now = Math.floor(Date.now() / 1000);
	const attemptSql = () => 'BEGIN IMMEDIATE; INSERT INTO quiz_attempts ' +
		'(user_id, course_id, lesson_id, blob_id, revision, score, ' +
		`passed, created_at) VALUES (${uid}, ${sqlText(course)}, ` +
		`${sqlText(QUIZ)}, ${sqlText(qblob)}, ${sqlText(rev)}, 100, ` +
		`1, ${now}); INSERT OR IGNORE INTO lesson_completions ` +
		'(user_id, course_id, lesson_id, blob_id, revision, ' +
		`completed_at) VALUES (${uid}, ${sqlText(course)}, ` +
		`${sqlText(QUIZ)}, ${sqlText(qblob)}, ${sqlText(rev)}, ` +
		`${now}); COMMIT;`;
	const completeSql = () => 'INSERT OR IGNORE INTO lesson_completions ' +
		'(user_id, course_id, lesson_id, blob_id, revision, ' +
		`completed_at) VALUES (${uid}, ${sqlText(course)}, ` +
		`${sqlText(TEXT_LESSON)}, ${sqlText(tblob)}, ` +
		`${sqlText(rev)}, ${now});`;

	const cases = [
		{ name: `POST …/lessons/${QUIZ}/attempts`, url:
		  `${base}/lessons/${QUIZ}/attempts`, body, sql: attemptSql },
		{ name: `POST …/lessons/${TEXT_LESSON}/complete`, url:
		  `${base}/lessons/${TEXT_LESSON}/complete`, body: undefined,
		  sql: completeSql },
	];
	const out = [];
	for (const c of cases) {
		console.log(`write: ${c.name}`);
		const script = wrkScript(dir, 'write', 'POST', headers, c.body);
		const ours = [], peer = [];
		for (let i = 0; i < RUNS; i++) {
			ours.push(await wrk(c.url, script, WRITE_CONNS,
					    [ws.proc.pid]));
			logRun(`run ${i + 1} workspace`, ours.at(-1));
			peer.push(sqlitePeer(dir, db, c.sql));
			logRun(`run ${i + 1} sqlite3`, peer.at(-1));
		}
		out.push(summary(c.name, ours, 'sqlite3 CLI, same SQL', peer));
	}
	return out;
}

/* ---- main ---- */

/* A ratio with two significant digits. */
const ratio = (a, b) => (a / b).toPrecision(2);

function table(rows) {
	const lines = [
		'| request | workspace req/s | peer | peer req/s | ' +
		'workspace / peer | workspace req per CPU-s | ' +
		'peer req per CPU-s | per CPU-s, workspace / peer |',
		'| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
	];
	const bound = (b) => (b ? ' (client-bound)' : '');

	for (const r of rows)
		lines.push(`| ${r.name} | ${fmt(r.ours_rps)}` +
			   `${bound(r.ours_client_bound)} | ` +
			   `${r.peer} | ${fmt(r.peer_rps)}` +
			   `${bound(r.peer_client_bound)} | ` +
			   `${ratio(r.ours_rps, r.peer_rps)} | ` +
			   `${fmt(r.ours_per_cpu)} | ` +
			   `${fmt(r.peer_per_cpu)} | ` +
			   `${ratio(r.ours_per_cpu, r.peer_per_cpu)} |`);
	return lines.join('\n');
}

async function main() {
	for (const b of [MOTHER, WORKSPACE, NGINX, WRK])
		if (!fs.existsSync(b))
			throw new Error(`${b} missing`);
	console.log(`# ${new Date().toISOString()} ${os.cpus().length} ` +
		    `cores, load ${os.loadavg()[0].toFixed(2)}; server on ` +
		    `core ${SERVER_CORE}, wrk on core ${CLIENT_CORE}; ` +
		    `${RUNS} runs of ${DURATION} s; ${CONNS} connections ` +
		    `for reads, ${WRITE_CONNS} for writes`);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lms-bench-api-'));
	const rows = [];
	try {
		const ws = await setupWorkspace(dir);
		if (!ONLY || ONLY === 'read')
			rows.push(await readBench(dir, ws));
		if (!ONLY || ONLY === 'write')
			rows.push(...await writeBench(dir, ws));
	} finally {
		children.forEach((c) => c.kill('SIGTERM'));
		await sleep(300);
		if (process.env.LMS_KEEP_TMP === '1')
			console.log(`kept ${dir}`);
		else
			fs.rmSync(dir, { recursive: true, force: true });
	}
	console.log(`\nMedians of ${RUNS} runs; load at the end ` +
		    `${os.loadavg()[0].toFixed(2)}\n`);
	console.log(table(rows));
	console.log(JSON.stringify(rows, null, 1));
	process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
