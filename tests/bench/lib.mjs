/*
 * What the benchmarks of the compliance runner and the reports
 * (compliance.mjs, report.mjs) share: where the binaries are, running
 * and stopping daemons (killed when the script exits), the HTTP API,
 * the figures' formats, /proc readings of a process, and the setup of a
 * mother with the sample course and copies of it under other ids, the
 * learners imported as one CSV file, and the first learner's
 * completions through the API, which the scripts then copy to others.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(fileURLToPath(new URL('../..',
							  import.meta.url)));
export const BIN = path.resolve(process.env.LMS_BIN ||
				path.join(ROOT, 'build/bin'));
export const MOTHER = path.join(BIN, 'lms-mother');
export const WORKSPACE = path.join(BIN, 'lms-workspace');
export const SAMPLE = path.join(ROOT, 'deploy/courses/hygiene-basics');
export const QUIZ = 'wissenstest';
export const DAY = 86400;
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'],
			       { encoding: 'utf8' }).stdout.trim()) || 100;
const children = [];

process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

/* The value of --name on the command line, or dflt. */
export function arg(name, dflt) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function sh(cmd, args, opts = {}) {
	const r = spawnSync(cmd, args, { encoding: 'utf8',
					 maxBuffer: 1 << 30, ...opts });
	if (r.status !== 0)
		throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
	return r.stdout.trim();
}

export function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer().listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

export function daemon(cmd, args, log) {
	const fd = fs.openSync(log, 'a');
	const c = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
	fs.closeSync(fd);
	children.push(c);
	return c;
}

/* Stops a daemon and waits until it has exited. */
export async function stop(c) {
	if (c.exitCode !== null || c.signalCode !== null)
		return;
	const gone = new Promise((r) => c.on('exit', r));
	c.kill('SIGTERM');
	await gone;
	children.splice(children.indexOf(c), 1);
}

/* Ends every daemon still running (SIGTERM) and gives them a moment. */
export async function stopAll() {
	children.forEach((c) => c.kill('SIGTERM'));
	await sleep(300);
}

export async function waitFor(fn, ms = 60000, every = 50) {
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

export async function api(port, method, p, headers = {}, body) {
	const r = await fetch(`http://127.0.0.1:${port}${p}`, {
		method, headers, body });
	const text = await r.text();
	if (!r.ok)
		throw new Error(`${method} ${p}: ${r.status} ${text}`);
	return text;
}

export function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

export const ms = (ns) => Number(ns) / 1e6;
export const sec = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
export const int = (x) => (Number.isFinite(x) ? Math.round(x).toString() :
			   '-');
export const mib = (kib) => (kib / 1024).toFixed(1);

/* CPU seconds (user and system, all threads) used so far by pid. */
export function cpuSeconds(pid) {
	try {
		const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
		return (Number(f[11]) + Number(f[12])) / TICKS;
	} catch {
		return NaN;
	}
}

/* The anonymous part of pid's resident memory (heap and stacks, not
 * the pages of workspace.db that a report maps). */
export function vmRssKiB(pid) {
	const t = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/^RssAnon:\s+(\d+) kB/m.exec(t)[1]);
}

export function vmHwmKiB(pid) {
	const t = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/^VmHWM:\s+(\d+) kB/m.exec(t)[1]);
}

/* A repeatable pseudo-random sequence in [0, 1) (mulberry32). */
export function random(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/* t plus months, the day clamped to the month's last, as
 * cert_add_months() (workspace/cert.c) computes it. */
export function addMonths(t, months) {
	const d = new Date(t * 1000);
	const m = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
	const y = Math.floor(m / 12), mon = m % 12;
	const last = new Date(Date.UTC(y, mon + 1, 0)).getUTCDate();
	return Date.UTC(y, mon, Math.min(d.getUTCDate(), last),
			d.getUTCHours(), d.getUTCMinutes(),
			d.getUTCSeconds()) / 1000;
}

/* A certificate's number as cert_number() (workspace/cert.c) makes it. */
export function certNumber(course, issued, id) {
	const prefix = course.replace(/[^A-Za-z0-9]/g, '').slice(0, 3)
		.toUpperCase() || 'CRT';
	const year = new Date(issued * 1000).getUTCFullYear();
	return `${prefix}-${year}-${String(id).padStart(6, '0')}`;
}

export const isoDay = (t) => new Date(t * 1000).toISOString()
	.slice(0, 10);
export const sqlText = (s) => `'${String(s).replace(/'/g, "''")}'`;
export const email = (i) =>
	`learner${String(i).padStart(5, '0')}@example.org`;

/* ---- setup ---- */

/* A mother with the sample course and copies of it under the other
 * ids, titled titleOf(index), serving. */
export async function setupMother(dir, ids, titleOf) {
	const M = path.join(dir, 'mother');
	const [mhttp, msync] = [await freePort(), await freePort()];

	sh(MOTHER, ['init', M]);
	ids.forEach((id, i) => {
		let src = SAMPLE;
		if (id !== 'hygiene-basics') {
			src = path.join(dir, 'src', id);
			fs.cpSync(SAMPLE, src, { recursive: true });
			const cj = JSON.parse(fs.readFileSync(
				path.join(src, 'course.json')));
			cj.id = id;
			cj.title = titleOf(i);
			fs.writeFileSync(path.join(src, 'course.json'),
					 JSON.stringify(cj, null, 2));
		}
		sh(MOTHER, ['course', 'publish', M, src, '-m', 'first']);
	});
	daemon(MOTHER, ['serve', M, '--listen', `127.0.0.1:${mhttp}`,
			'--sync-listen', `127.0.0.1:${msync}`],
	       path.join(dir, 'mother.log'));
	await waitFor(() => api(mhttp, 'GET', '/healthz'));
	return { M, msync: `127.0.0.1:${msync}` };
}

/* Learners 1 to n, named nameOf(i) (a CSV field, quoted when it must
 * be), imported as one CSV file by the command line. */
export function importLearners(dir, W, n, nameOf) {
	const lines = ['email,name,staff'];
	for (let i = 1; i <= n; i++)
		lines.push(`${email(i)},${nameOf(i)},yes`);
	const file = path.join(dir, 'learners.csv');
	fs.writeFileSync(file, lines.join('\n') + '\n');
	console.log(`import: ${sh(WORKSPACE, ['user', 'import', W, file])}`);
}

/* The answers that pass the sample quiz. */
function rightAnswers() {
	const q = JSON.parse(fs.readFileSync(
		path.join(SAMPLE, 'quizzes', `${QUIZ}.json`)));
	return Object.fromEntries(q.questions.map((x) => [x.id, x.answer]));
}

/* Every lesson of the courses ids done by the learner of token,
 * through the API: the rows the seeding copies. */
export async function completeAll(port, token, ids) {
	const cj = JSON.parse(fs.readFileSync(path.join(SAMPLE,
							'course.json')));
	const headers = { Authorization: `Bearer ${token}`,
			  'Content-Type': 'application/json' };
	const body = JSON.stringify({ answers: rightAnswers() });
	for (const course of ids)
		for (const l of cj.lessons) {
			const base = `/api/v1/courses/${course}/lessons/` +
				l.id;
			if (l.quiz)
				await api(port, 'POST', `${base}/attempts`,
					  headers, body);
			else
				await api(port, 'POST', `${base}/complete`,
					  headers);
		}
}

/* workspace.db of W, and a statement run on it by the sqlite3 CLI. */
export const db = (W) => path.join(W, 'workspace.db');
export const query = (W, sql) => sh('sqlite3', ['-bail', db(W), sql]);
