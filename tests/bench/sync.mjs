#!/usr/bin/env node
/*
 * Benchmarks of the sync engine, each against its peer in the same run:
 *
 *   latency   time from a `git push` to every tenant workspace serving the
 *             new revision, for N tenant processes; peers: `git fetch` by
 *             each tenant's clone and `rsync` to each tenant's directory
 *   bytes     bytes on the wire per tenant for a one-line edit in a 1 MB
 *             and in a 10 KB lesson; peers: `git fetch` over git://
 *             (thin pack) and `rsync --no-whole-file` of the course
 *   provision `tenant add` + `init` + first course synced, and the idle
 *             proportional memory (PSS) of a workspace
 *
 * Usage: tests/bench/sync.mjs [--tenants 10,100] [--rounds 20]
 *                             [--only latency|bytes|provision]
 * Binaries from LMS_BIN (default build/bin). Prints one line per figure
 * and a JSON summary at the end. This is a benchmark, not a test: it
 * reports figures and asserts nothing.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
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

function arg(name, dflt) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
}

const TENANTS = arg('tenants', '10,100').split(',').map(Number);
const ROUNDS = Number(arg('rounds', '20'));
const ONLY = arg('only', '');
const children = [];
const results = {};

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

/* The same without blocking the event loop, for commands whose traffic
 * passes through a relay in this process. */
function shAsync(cmd, args, opts = {}) {
	return new Promise((resolve, reject) => {
		const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'],
					     ...opts });
		let out = '', err = '';
		c.stdout.on('data', (b) => { out += b; });
		c.stderr.on('data', (b) => { err += b; });
		c.on('exit', (code) => code === 0 ? resolve(out.trim()) :
			reject(new Error(`${cmd} ${args.join(' ')}: ${err}`)));
	});
}

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer().listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

function daemon(bin, args, log, env = {}) {
	const fd = fs.openSync(log, 'a');
	const c = spawn(bin, args, { stdio: ['ignore', 'ignore', fd],
				     env: { ...process.env, ...env } });
	fs.closeSync(fd);
	children.push(c);
	return c;
}

async function waitFor(fn, ms = 60000, every = 20) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('timed out');
		await sleep(every);
	}
}

async function getJson(url) {
	try {
		const r = await fetch(url);
		return r.ok ? await r.json() : null;
	} catch {
		return null;
	}
}

function quantile(xs, q) {
	const s = [...xs].sort((a, b) => a - b);
	if (!s.length)
		return NaN;
	return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

const median = (xs) => quantile(xs, 0.5);
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));

function tmpdir(name) {
	return fs.mkdtempSync(path.join(os.tmpdir(), `lms-bench-${name}-`));
}

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'Bench',
	GIT_AUTHOR_EMAIL: 'bench@example.org', GIT_COMMITTER_NAME: 'Bench',
	GIT_COMMITTER_EMAIL: 'bench@example.org' };

function git(cwd, ...args) {
	return sh('git', args, { cwd, env: GIT_ENV });
}

/* A mother serving one course, plus n enrolled workspaces. */
async function cluster(dir, n, course = SAMPLE) {
	const M = path.join(dir, 'mother');
	const [http, sync] = [await freePort(), await freePort()];
	const msync = `127.0.0.1:${sync}`;

	sh(MOTHER, ['init', M]);
	const repo = sh(MOTHER, ['course', 'create', M, 'bench']);
	const clone = path.join(dir, 'clone');
	git(dir, 'clone', '-q', repo, clone);
	fs.cpSync(course, clone, { recursive: true });
	const cj = JSON.parse(fs.readFileSync(`${clone}/course.json`));
	cj.id = 'bench';
	fs.writeFileSync(`${clone}/course.json`, JSON.stringify(cj));
	git(clone, 'add', '-A');
	git(clone, 'commit', '-qm', 'first');
	git(clone, 'push', '-q', 'origin', 'HEAD:main');
	daemon(MOTHER, ['serve', M, '--listen', `127.0.0.1:${http}`,
			'--sync-listen', msync], path.join(dir, 'mother.log'));
	await waitFor(() => getJson(`http://127.0.0.1:${http}/healthz`));

	const fp = sh(MOTHER, ['key', M]);
	const ws = [];
	for (let i = 0; i < n; i++)
		ws.push(await addTenant(dir, M, msync, fp, `t${i}`));
	return { M, http, msync, fp, repo, clone, ws };
}

async function addTenant(dir, M, msync, fp, id, env = {}) {
	const add = JSON.parse(sh(MOTHER, ['tenant', 'add', M, id, '--name',
					   id, '--courses', 'all', '--json']));
	const W = path.join(dir, id);
	const port = await freePort();
	sh(WORKSPACE, ['init', W, '--mother', msync, '--token', add.token,
		       '--mother-key', fp]);
	const log = path.join(dir, `${id}.log`);
	const proc = daemon(WORKSPACE, ['serve', W, '--listen',
					`127.0.0.1:${port}`], log, env);
	return { id, W, port, log, proc };
}

function catalogRevision(ws) {
	return getJson(`http://127.0.0.1:${ws.port}/api/v1/catalog`)
		.then((c) => c && c.find((x) => x.id === 'bench')?.revision);
}

/* The time a workspace logged applying rev, in ms since 1970. */
function appliedAt(ws, rev) {
	const text = fs.readFileSync(ws.log, 'utf8');
	const line = text.split('\n').find((l) =>
		l.includes('msg="event applied"') && l.includes(rev));
	if (!line)
		return null;
	return Date.parse(line.match(/^ts=(\S+)/)[1]);
}

function editLine(clone, file, round) {
	const p = path.join(clone, file);
	const lines = fs.readFileSync(p, 'utf8').split('\n');
	lines[Math.floor(lines.length / 2)] += ` (Stand ${round})`;
	fs.writeFileSync(p, lines.join('\n'));
	git(clone, 'commit', '-qam', `edit ${round}`);
}

/* ---- latency ---- */

async function peerFetch(dir, repo, clones, round) {
	const t0 = Date.now();
	const times = [];
	let next = 0;
	async function worker() {
		while (next < clones.length) {
			const c = clones[next++];
			await new Promise((res) => spawn('git', ['-C', c, 'fetch',
				'-q', 'origin'], { stdio: 'ignore' })
				.on('exit', res));
			times.push(Date.now() - t0);
		}
	}
	await Promise.all(Array.from({ length: 4 }, worker));
	return times;
}

async function peerRsync(src, dests) {
	const t0 = Date.now();
	const times = [];
	let next = 0;
	async function worker() {
		while (next < dests.length) {
			const d = dests[next++];
			await new Promise((res) => spawn('rsync', ['-a',
				'--delete', '--exclude', '.git', `${src}/`, d],
				{ stdio: 'ignore' }).on('exit', res));
			times.push(Date.now() - t0);
		}
	}
	await Promise.all(Array.from({ length: 4 }, worker));
	return times;
}

async function latency(n) {
	const dir = tmpdir(`latency-${n}`);
	const c = await cluster(dir, n);
	const first = git(c.clone, 'rev-parse', 'HEAD');
	await waitFor(async () => {
		const revs = await Promise.all(c.ws.map(catalogRevision));
		return revs.every((r) => r === first);
	}, 120000, 200);

	const clones = [], dests = [];
	for (let i = 0; i < n; i++) {
		clones.push(path.join(dir, `peer-clone-${i}`));
		git(dir, 'clone', '-q', c.repo, clones[i]);
		dests.push(path.join(dir, `peer-rsync-${i}`));
		sh('rsync', ['-a', '--exclude', '.git', `${c.clone}/`,
			     dests[i]]);
	}

	const ours = [], oursEnd = [], fetchT = [], rsyncT = [];
	const lesson = JSON.parse(fs.readFileSync(
		`${c.clone}/course.json`)).lessons.find((l) => l.file).file;
	for (let r = 0; r < ROUNDS; r++) {
		editLine(c.clone, lesson, r);
		const rev = git(c.clone, 'rev-parse', 'HEAD');
		const start = Date.now();
		git(c.clone, 'push', '-q', 'origin', 'HEAD:main');
		const end = Date.now();
		const at = await waitFor(() => {
			const t = c.ws.map((w) => appliedAt(w, rev));
			return t.every((x) => x !== null) && t;
		}, 60000, 10);
		at.forEach((t) => { ours.push(t - start); oursEnd.push(t - end); });
		fetchT.push(...await peerFetch(dir, c.repo, clones, r));
		rsyncT.push(...await peerRsync(c.clone, dests));
		await sleep(200);
	}
	await sleep(2000);
	const pss = c.ws.map((w) => pssKiB(w.proc.pid));
	const res = {
		tenants: n, rounds: ROUNDS, idle_pss_kib_median: median(pss),
		push_start_p50: median(ours), push_start_p99: quantile(ours, 0.99),
		push_end_p50: median(oursEnd), push_end_p99: quantile(oursEnd, 0.99),
		git_fetch_p50: median(fetchT), git_fetch_p99: quantile(fetchT, 0.99),
		rsync_p50: median(rsyncT), rsync_p99: quantile(rsyncT, 0.99),
	};
	console.log(`latency n=${n}: ours p50 ${fmt(res.push_start_p50)} ms, `
		+ `p99 ${fmt(res.push_start_p99)} ms from push start `
		+ `(p99 ${fmt(res.push_end_p99)} ms from push end); `
		+ `git fetch p99 ${fmt(res.git_fetch_p99)} ms; `
		+ `rsync p99 ${fmt(res.rsync_p99)} ms; idle workspace PSS `
		+ `median ${res.idle_pss_kib_median} KiB with ${n} running`);
	results[`latency_${n}`] = res;
	for (const w of c.ws)
		w.proc.kill('SIGTERM');
	fs.rmSync(dir, { recursive: true, force: true });
}

/* ---- bytes on the wire ---- */

/* A TCP relay that counts the bytes flowing from upstream to clients. */
function countingRelay(upstreamPort) {
	const counter = { down: 0, up: 0 };
	const server = net.createServer((client) => {
		const up = net.connect(upstreamPort, '127.0.0.1');
		up.on('data', (b) => { counter.down += b.length; client.write(b); });
		client.on('data', (b) => { counter.up += b.length; up.write(b); });
		up.on('error', () => client.destroy());
		client.on('error', () => up.destroy());
		up.on('close', () => client.destroy());
		client.on('close', () => up.destroy());
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
		resolve({ server, port: server.address().port, counter })));
}

/* A course whose lesson intro.md has the given size. */
function sizedCourse(dir, bytes) {
	const c = path.join(dir, `course-${bytes}`);
	fs.cpSync(SAMPLE, c, { recursive: true });
	const cj = JSON.parse(fs.readFileSync(`${c}/course.json`));
	const file = cj.lessons.find((l) => l.file).file;
	const words = ['Hände', 'desinfizieren', 'Handschuhe', 'Schutz',
		       'Flächen', 'Wäsche', 'Pflege', 'Hygieneplan'];
	const lines = [];
	let size = 0, i = 0;
	while (size < bytes) {
		const line = `Zeile ${i}: ` + Array.from({ length: 10 }, (_, k) =>
			words[(i * 7 + k * 3) % words.length]).join(' ');
		lines.push(line);
		size += Buffer.byteLength(line) + 1;
		i++;
	}
	fs.writeFileSync(path.join(c, file), lines.join('\n') + '\n');
	return { dir: c, file };
}

async function gitDaemon(base) {
	const port = await freePort();
	/* in a process group of its own: `git daemon` forks its server */
	const d = spawn('git', ['daemon', '--export-all', '--reuseaddr',
		`--base-path=${base}`, `--listen=127.0.0.1`, `--port=${port}`,
		base], { stdio: 'ignore', detached: true });
	children.push({ kill: (sig) => {
		try {
			process.kill(-d.pid, sig);
		} catch {
			/* already gone */
		}
	} });
	await waitFor(() => new Promise((res) => {
		const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
		s.on('error', () => res(false));
	}), 10000, 50);
	return { d, port };
}

async function bytesFor(size) {
	const dir = tmpdir(`bytes-${size}`);
	const course = sizedCourse(dir, size);
	const c = await cluster(dir, 0, course.dir);
	const M = c.M;
	const relay = await countingRelay(Number(c.msync.split(':')[1]));
	const add = JSON.parse(sh(MOTHER, ['tenant', 'add', M, 'solo', '--name',
					   'solo', '--courses', 'all', '--json']));
	const W = path.join(dir, 'solo');
	const port = await freePort();
	sh(WORKSPACE, ['init', W, '--mother', c.msync, '--token', add.token,
		       '--mother-key', c.fp]);
	const ws = { port, log: path.join(dir, 'solo.log') };
	ws.proc = daemon(WORKSPACE, ['serve', W, '--listen', `127.0.0.1:${port}`,
		'--mother', `127.0.0.1:${relay.port}`], ws.log);
	const first = git(c.clone, 'rev-parse', 'HEAD');
	await waitFor(async () => (await catalogRevision(ws)) === first);

	/* peers: a git clone fetching over git:// and an rsync copy */
	const gd = await gitDaemon(path.join(M, 'courses'));
	const grelay = await countingRelay(gd.port);
	const peerClone = path.join(dir, 'peer-clone');
	await shAsync('git', ['clone', '-q',
		`git://127.0.0.1:${grelay.port}/bench.git`, peerClone],
		{ env: GIT_ENV });
	const peerCopy = path.join(dir, 'peer-rsync');
	sh('rsync', ['-a', '--exclude', '.git', `${c.clone}/`, peerCopy]);
	await sleep(300);

	const ours = [], fetchB = [], rsyncB = [];
	for (let r = 0; r < 5; r++) {
		editLine(c.clone, course.file, r);
		const rev = git(c.clone, 'rev-parse', 'HEAD');
		const before = relay.counter.down;
		git(c.clone, 'push', '-q', 'origin', 'HEAD:main');
		await waitFor(async () => (await catalogRevision(ws)) === rev);
		await sleep(100);
		ours.push(relay.counter.down - before);

		const g0 = grelay.counter.down + grelay.counter.up;
		await shAsync('git', ['-C', peerClone, 'fetch', '-q', 'origin']);
		fetchB.push(grelay.counter.down + grelay.counter.up - g0);

		const out = sh('rsync', ['-a', '--no-whole-file', '--stats',
			'--exclude', '.git', `${c.clone}/`, peerCopy]);
		const sent = Number(out.match(/Total bytes sent: ([\d,.]+)/)[1]
			.replace(/[,.]/g, ''));
		const recv = Number(out.match(/Total bytes received: ([\d,.]+)/)[1]
			.replace(/[,.]/g, ''));
		rsyncB.push(sent + recv);
	}
	const res = { lesson_bytes: size, ours: median(ours),
		      git_fetch: median(fetchB), rsync: median(rsyncB) };
	console.log(`bytes for a one-line edit in a ${size}-byte lesson: `
		+ `ours ${res.ours} B, git fetch ${res.git_fetch} B, `
		+ `rsync ${res.rsync} B (medians of 5)`);
	results[`bytes_${size}`] = res;
	ws.proc.kill('SIGTERM');
	relay.server.close();
	grelay.server.close();
	fs.rmSync(dir, { recursive: true, force: true });
}

/* ---- provisioning and idle memory ---- */

function pssKiB(pid) {
	const t = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
	return Number(t.match(/^Pss:\s+(\d+) kB/m)[1]);
}

/* Provisions 10 tenants one after another, keeping each running; PSS is
 * read for the first while it runs alone and for all ten once they share
 * the host (shared libraries are then split between them). */
async function provision() {
	const dir = tmpdir('provision');
	const c = await cluster(dir, 0);
	const first = git(c.clone, 'rev-parse', 'HEAD');
	const times = [], running = [];
	let alone = 0;
	for (let i = 0; i < 10; i++) {
		const t0 = Date.now();
		const ws = await addTenant(dir, c.M, c.msync, c.fp, `p${i}`);
		await waitFor(async () => (await catalogRevision(ws)) === first,
			      30000, 2);
		times.push(Date.now() - t0);
		running.push(ws);
		if (i === 0) {
			await sleep(2000);
			alone = pssKiB(ws.proc.pid);
		}
	}
	await sleep(2000);
	const pss = running.map((w) => pssKiB(w.proc.pid));
	const res = { provision_ms_median: median(times),
		      provision_ms_max: Math.max(...times),
		      idle_pss_kib_alone: alone,
		      idle_pss_kib_median_of_10: median(pss) };
	console.log(`provisioning (tenant add + init + serve + first course `
		+ `served): median ${res.provision_ms_median} ms, max `
		+ `${res.provision_ms_max} ms; idle workspace PSS ${alone} KiB `
		+ `alone, median ${res.idle_pss_kib_median_of_10} KiB with 10 `
		+ `running`);
	results.provision = res;
	running.forEach((w) => w.proc.kill('SIGTERM'));
	fs.rmSync(dir, { recursive: true, force: true });
}

/* ---- main ---- */

async function main() {
	for (const b of [MOTHER, WORKSPACE])
		if (!fs.existsSync(b))
			throw new Error(`${b} missing: build first (cmake)`);
	console.log(`# ${new Date().toISOString()} ${os.cpus().length} cores, `
		+ `load ${os.loadavg()[0].toFixed(2)}`);
	if (!ONLY || ONLY === 'bytes') {
		await bytesFor(10 * 1024);
		await bytesFor(1024 * 1024);
	}
	if (!ONLY || ONLY === 'provision')
		await provision();
	if (!ONLY || ONLY === 'latency')
		for (const n of TENANTS)
			await latency(n);
	console.log(JSON.stringify(results, null, 1));
	process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
