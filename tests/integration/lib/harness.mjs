/*
 * Harness of the integration tests: real daemons on loopback ports, real
 * git, real SQLite, real HTTP, driven only through the command lines and
 * the HTTP API that a user sees.
 *
 * A test is written with lmsTest() instead of node:test's test(). It gets
 * a scope: a temporary directory of its own (removed afterwards unless
 * LMS_KEEP_TMP=1), and a list of the daemons it started. When the test
 * has passed, every daemon still running gets SIGTERM and must exit 0,
 * so each test checks a clean shutdown too. When it has failed, they are
 * killed and the tail of each daemon's log (its stdout and stderr, kept
 * in the temporary directory) is appended to the error, so the report
 * shows what the daemons said.
 * The helpers below find the current scope by themselves, so they can be
 * called from anywhere inside the test's function:
 *
 *   import { lmsTest, setupMother, addWorkspace, catalog, waitFor }
 *       from './lib/harness.mjs';
 *
 *   lmsTest('a course reaches a workspace', async () => {
 *           const mother = await setupMother({ courses: ['hygiene-basics'] });
 *           const ws = await addWorkspace(mother, 'acme', 'all');
 *           await waitFor(async () => (await catalog(ws)).length === 1);
 *   });
 *
 * What is here:
 *   paths       ROOT, BIN, MOTHER_BIN, WORKSPACE_BIN, SAMPLE_DIR
 *   scope       lmsTest(), scope(), tmpPath()
 *   processes   run(), runOk(), describeResult(), mother(),
 *               workspace(), git(), Daemon, startDaemon()
 *   waiting     waitFor() (and Fatal to give up at once), sleep(),
 *               freePort(), freePorts()
 *   HTTP        getJson(), healthz(), catalog() (requests to a
 *               workspace's API, people and sessions: lib/api.mjs)
 *   the system  setupMother() -> Mother (publish, create, courseList,
 *               revision, tenantList, tenant, addTenant, license, start,
 *               stop, kill), addWorkspace() -> Workspace (catalog,
 *               courseList, publish, waitRevision, start, stop, kill)
 *   courses     SAMPLE_COURSES, copySampleCourse(), writeCourse(),
 *               courseTitle(), randomBytes(), readJson(), writeJson(),
 *               editCourseJson(), INVALID_COURSES (the data-driven table
 *               of bad courses) and findCourseError()
 *   git         gitInit(), cloneRepo(), gitCommitAll(), replaceTree(),
 *               GIT_ENV
 *
 * Environment: LMS_BIN (directory of lms-mother and lms-workspace,
 * default build/bin of the checkout), LMS_SAMPLE_DIR (the sample
 * courses, default deploy/courses), LMS_KEEP_TMP=1 (keep temporary
 * directories and print where they are).
 *
 * Only Node's built-in modules are used (Node 18.19 or later).
 */
import { test } from 'node:test';
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/* ------------------------------------------------------------------ */
/* Paths */

export const ROOT = path.resolve(
	fileURLToPath(new URL('../../..', import.meta.url)));
export const BIN = path.resolve(process.env.LMS_BIN ||
				path.join(ROOT, 'build', 'bin'));
export const MOTHER_BIN = path.join(BIN, 'lms-mother');
export const WORKSPACE_BIN = path.join(BIN, 'lms-workspace');
export const SAMPLE_DIR = path.resolve(process.env.LMS_SAMPLE_DIR ||
				       path.join(ROOT, 'deploy', 'courses'));
export const SAMPLE_COURSES = [
	'hygiene-basics', 'data-protection-basics', 'ai-literacy',
];
export const KEEP_TMP = process.env.LMS_KEEP_TMP === '1';
export const HEX40 = /^[0-9a-f]{40}$/;
export const HEX64 = /^[0-9a-f]{64}$/;

/* Deadlines: generous, since CI machines are slow and sanitizers slower */
export const DEADLINE = 15000;	/* ms, default of waitFor() */
const COMMAND_TIMEOUT = 60000;	/* ms, one CLI command */
const STOP_TIMEOUT = 15000;	/* ms, a daemon's exit after SIGTERM */
const LOG_TAIL_LINES = 60;

/* ------------------------------------------------------------------ */
/* Scope of one test: temporary directory and daemons */

const current = new AsyncLocalStorage();
const liveChildren = new Set();

/* Whatever happens to this process, no daemon outlives it. */
process.on('exit', () => {
	for (const child of liveChildren) {
		try {
			child.kill('SIGKILL');
		} catch {
			/* already gone */
		}
	}
});

class Scope {
	constructor(t, dir) {
		this.t = t;
		this.dir = dir;
		this.daemons = [];
	}

	/*
	 * Ends the daemons still running, the last started first (so
	 * workspaces go before their mother). After a passing test each
	 * gets SIGTERM and must exit 0, so every test also checks a clean
	 * shutdown; after a failure they are killed.
	 */
	async stopDaemons(passed) {
		let first = null;

		for (const d of [...this.daemons].reverse()) {
			if (!d.running)
				continue;
			if (!passed) {
				await d.kill();
				continue;
			}
			try {
				await d.stop();
			} catch (e) {
				first ??= e;
			}
		}
		if (first)
			throw first;
	}

	async removeDir() {
		if (KEEP_TMP) {
			this.t.diagnostic(`kept ${this.dir}`);
			return;
		}
		await fsp.rm(this.dir, { recursive: true, force: true });
	}

	/* The tail of every daemon's log, for a failure report. */
	logs() {
		let out = '';

		for (const d of this.daemons) {
			if (d.child === null)
				continue;	/* never started */
			const lines = d.log().trimEnd().split('\n');
			const tail = lines.slice(-LOG_TAIL_LINES).join('\n');

			const where = KEEP_TMP ? d.logPath :
				'removed; LMS_KEEP_TMP=1 keeps it';
			out += `\n--- ${d.name} log (${where}), last ` +
			       `${LOG_TAIL_LINES} lines:\n${tail}\n`;
		}
		return out;
	}
}

/*
 * Declares a test with a scope (see the top of this file). Same arguments
 * as node:test's test(name, [options], fn); fn receives (t, scope).
 * Default timeout: 180 s.
 */
export function lmsTest(name, options, fn) {
	if (typeof options === 'function') {
		fn = options;
		options = {};
	}
	return test(name, { timeout: 180000, ...options }, async (t) => {
		const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lms-it-'));
		const s = new Scope(t, dir);
		let failure = null;

		try {
			await current.run(s, () => fn(t, s));
		} catch (err) {
			failure = err;
		}
		try {
			await s.stopDaemons(failure === null);
		} catch (err) {
			failure ??= err;
		}
		const logs = failure ? s.logs() : '';
		await s.removeDir();
		if (failure)
			throw withLogs(failure, logs);
	});
}

function withLogs(err, logs) {
	if (!logs)
		return err;
	if (!(err instanceof Error))
		err = new Error(String(err));
	try {
		err.stack = `${err.stack}\n${logs}`;
	} catch {
		/* a frozen error: report it as it is */
	}
	return err;
}

/* The scope of the test that is running; throws outside lmsTest(). */
export function scope() {
	const s = current.getStore();

	if (!s)
		throw new Error('harness: call this inside lmsTest()');
	return s;
}

/* A path inside the test's temporary directory. */
export function tmpPath(...parts) {
	return path.join(scope().dir, ...parts);
}

/* ------------------------------------------------------------------ */
/* Commands */

/* Identity and isolation for every git command the tests run. */
export const GIT_ENV = {
	GIT_AUTHOR_NAME: 'LMS Test',
	GIT_AUTHOR_EMAIL: 'test@example.org',
	GIT_COMMITTER_NAME: 'LMS Test',
	GIT_COMMITTER_EMAIL: 'test@example.org',
	GIT_CONFIG_NOSYSTEM: '1',
	GIT_CONFIG_GLOBAL: '/dev/null',
	GIT_TERMINAL_PROMPT: '0',
};

/*
 * Runs a command to its end and resolves to
 *   { cmd, code, signal, stdout, stderr, timedOut }.
 * Never rejects because of the exit code; see runOk() for that.
 * options: cwd, env (added to process.env), input (written to stdin),
 * timeout (ms, default 60 s; then SIGKILL and timedOut true).
 */
export function run(cmd, args = [], options = {}) {
	const cmdline = [cmd, ...args].map(quote).join(' ');

	return new Promise((resolve) => {
		const child = spawn(cmd, args, {
			cwd: options.cwd,
			env: { ...process.env, ...GIT_ENV, ...options.env },
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		const out = [], err = [];
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			child.kill('SIGKILL');
		}, options.timeout ?? COMMAND_TIMEOUT);

		child.stdout.on('data', (b) => out.push(b));
		child.stderr.on('data', (b) => err.push(b));
		child.stdin.on('error', () => {});
		child.stdin.end(options.input ?? '');
		child.on('error', (e) => {
			clearTimeout(timer);
			resolve({ cmd: cmdline, code: 127, signal: null,
				  stdout: '', stderr: `${cmd}: ${e.message}\n`,
				  timedOut });
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ cmd: cmdline, code, signal,
				  stdout: Buffer.concat(out).toString(),
				  stderr: Buffer.concat(err).toString(),
				  timedOut });
		});
	});
}

/* A result as text, for assertion messages. */
export function describeResult(r) {
	return `$ ${r.cmd}\nexit ${r.code}` +
	       (r.signal ? ` signal ${r.signal}` : '') +
	       (r.timedOut ? ' (timed out)' : '') +
	       `\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/* Like run(), but rejects unless the command exits 0. */
export async function runOk(cmd, args = [], options = {}) {
	const r = await run(cmd, args, options);

	if (r.code !== 0)
		throw new Error(`command failed\n${describeResult(r)}`);
	return r;
}

export function mother(...args) {
	return run(MOTHER_BIN, args);
}

export function workspace(...args) {
	return run(WORKSPACE_BIN, args);
}

export function git(args, options = {}) {
	return run('git', args, options);
}

function quote(s) {
	return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/* ------------------------------------------------------------------ */
/* Daemons */

/*
 * A daemon run as a child process. Its stdout and stderr go to
 * <tmp>/<name>.log (appended across restarts, so the whole history is
 * there). Created and registered with the current scope by
 * startDaemon(); start() may be called again after stop() or kill().
 */
export class Daemon {
	constructor(name, bin, args, options = {}) {
		this.name = name;
		this.bin = bin;
		this.args = args;
		this.env = options.env ?? {};
		this.healthUrl = options.healthUrl ?? null;
		this.logPath = tmpPath(`${name}.log`);
		this.child = null;
		this.exit = null;	/* { code, signal } of the last run */
		this.exited = null;	/* promise of exit */
	}

	get running() {
		return this.child !== null && this.exit === null;
	}

	get pid() {
		return this.child?.pid;
	}

	/* Starts the process; with a healthUrl, waits until it answers. */
	async start(options = {}) {
		if (this.running)
			throw new Error(`${this.name} is already running`);
		const args = [...this.args, ...(options.extraArgs ?? [])];
		const fd = fs.openSync(this.logPath, 'a');

		fs.writeSync(fd, `=== harness: start ${this.bin} ` +
			     `${args.join(' ')}\n`);
		await new Promise((resolve, reject) => {
			this.exit = null;
			this.child = spawn(this.bin, args, {
				env: { ...process.env, ...this.env,
				       ...options.env },
				stdio: ['ignore', fd, fd],
			});
			this.child.once('spawn', resolve);
			this.child.once('error', (e) => {
				this.exit = { code: null, signal: null };
				reject(new Error(`cannot start ${this.bin}: ` +
						 `${e.message}`));
			});
		}).finally(() => fs.closeSync(fd));

		const child = this.child;
		liveChildren.add(child);
		this.exited = new Promise((resolve) => {
			child.once('exit', (code, signal) => {
				liveChildren.delete(child);
				this.exit = { code, signal };
				resolve(this.exit);
			});
		});
		if (this.healthUrl)
			await this.waitHealthy();
	}

	/* Polls healthUrl until it answers 200 {"status":"ok"}; fails
	 * early, with the log, if the process exits meanwhile. */
	async waitHealthy(timeout = DEADLINE) {
		await waitFor(async () => {
			if (!this.running)
				throw new Fatal(`${this.name} exited ` +
						`${JSON.stringify(this.exit)} ` +
						'before it was healthy');
			const h = await getJson(this.healthUrl);
			return h.status === 'ok';
		}, timeout, { what: `${this.name} at ${this.healthUrl}` });
	}

	/* SIGTERM, then asserts that it exits 0 within 15 s. */
	async stop() {
		if (!this.running)
			throw new Error(`${this.name} is not running ` +
					`(exit ${JSON.stringify(this.exit)})`);
		this.child.kill('SIGTERM');
		const ex = await within(this.exited, STOP_TIMEOUT);
		if (!ex) {
			this.child.kill('SIGKILL');
			await this.exited;
			throw new Error(`${this.name} did not exit within ` +
					`${STOP_TIMEOUT} ms of SIGTERM`);
		}
		if (ex.code !== 0)
			throw new Error(`${this.name} exited ` +
					`${JSON.stringify(ex)} after SIGTERM, ` +
					'expected code 0');
		return ex;
	}

	/* SIGKILL, waits for the exit. */
	async kill() {
		if (!this.running)
			return this.exit;
		this.child.kill('SIGKILL');
		return this.exited;
	}

	async restart(options) {
		await this.stop();
		await this.start(options);
	}

	/* The whole log so far ("" if none yet). */
	log() {
		try {
			return fs.readFileSync(this.logPath, 'utf8');
		} catch {
			return '';
		}
	}
}

/* Creates a Daemon in the current scope and starts it. */
export async function startDaemon(name, bin, args, options = {}) {
	const d = new Daemon(name, bin, args, options);

	scope().daemons.push(d);
	await d.start();
	return d;
}

async function within(promise, ms) {
	let timer;
	const timeout = new Promise((resolve) => {
		timer = setTimeout(() => resolve(null), ms);
	});

	try {
		return await Promise.race([promise, timeout]);
	} finally {
		clearTimeout(timer);
	}
}

/* ------------------------------------------------------------------ */
/* Waiting */

export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/* An error that makes waitFor() give up at once. */
export class Fatal extends Error {}

/*
 * Calls fn (may be async) until it returns a truthy value, which is
 * returned. Errors thrown by fn count as "not yet", except Fatal. After
 * timeout ms it throws, naming options.what and the last value or error
 * seen. options: interval (ms, default 100), what (text).
 */
export async function waitFor(fn, timeout = DEADLINE, options = {}) {
	const deadline = Date.now() + timeout;
	const interval = options.interval ?? 100;
	let last = 'nothing yet';

	for (;;) {
		try {
			const v = await fn();
			if (v)
				return v;
			last = `returned ${JSON.stringify(v)}`;
		} catch (e) {
			if (e instanceof Fatal)
				throw e;
			last = `threw ${e.message}`;
		}
		if (Date.now() >= deadline)
			break;
		await sleep(interval);
	}
	throw new Error(`timed out after ${timeout} ms waiting for ` +
			`${options.what ?? fn.toString().slice(0, 200)}; ` +
			`last attempt ${last}`);
}

/* A loopback TCP port that was free a moment ago. */
export function freePort(host = '127.0.0.1') {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();

		srv.on('error', reject);
		srv.listen(0, host, () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/* n distinct free ports (all held open until all are known). */
export async function freePorts(n, host = '127.0.0.1') {
	const servers = [];

	try {
		for (let i = 0; i < n; i++) {
			const srv = net.createServer();
			await new Promise((resolve, reject) => {
				srv.on('error', reject);
				srv.listen(0, host, resolve);
			});
			servers.push(srv);
		}
		return servers.map((s) => s.address().port);
	} finally {
		await Promise.all(servers.map(
			(s) => new Promise((r) => s.close(r))));
	}
}

/* ------------------------------------------------------------------ */
/* HTTP */

/* GET url, expect 200 and JSON; rejects otherwise (with the body). */
export async function getJson(url, options = {}) {
	const res = await fetch(url, {
		headers: options.headers,
		signal: AbortSignal.timeout(options.timeout ?? 5000),
	});
	const body = await res.text();

	if (res.status !== 200)
		throw new Error(`GET ${url}: ${res.status} ${body}`);
	try {
		return JSON.parse(body);
	} catch {
		throw new Error(`GET ${url}: not JSON: ${body.slice(0, 200)}`);
	}
}

/* GET /healthz of a Mother or a Workspace. */
export function healthz(daemon) {
	return getJson(`${daemon.http}/healthz`);
}

/* GET /api/v1/catalog of a Workspace: [{id,title,origin,revision}]. */
export function catalog(ws) {
	return getJson(`${ws.http}/api/v1/catalog`);
}

/* ------------------------------------------------------------------ */
/* The system: a mother and its workspaces */

/*
 * A mother: data directory, admin HTTP and sync addresses, fingerprint,
 * its daemon, and the command line bound to its data directory.
 *   data         DATA directory
 *   http         "http://127.0.0.1:PORT" (admin HTTP base URL)
 *   httpAddr     "127.0.0.1:PORT"
 *   sync         "127.0.0.1:PORT", what workspaces take as --mother
 *   fingerprint  64 hex, from init
 *   daemon       the Daemon of `serve`
 */
export class Mother {
	constructor(fields) {
		Object.assign(this, fields);
	}

	run(...args) {
		return run(MOTHER_BIN, args);
	}

	start(options) {
		return this.daemon.start(options);
	}

	stop() {
		return this.daemon.stop();
	}

	kill() {
		return this.daemon.kill();
	}

	/* course publish; resolves to the new revision (rejects on
	 * failure). */
	async publish(dir, message) {
		const args = ['course', 'publish', this.data, dir];
		if (message)
			args.push('-m', message);
		const r = await runOk(MOTHER_BIN, args);
		return r.stdout.trim();
	}

	/* Copies a sample course to the temp dir and publishes it. */
	async publishSample(id) {
		return this.publish(copySampleCourse(id));
	}

	/* course create; resolves to the printed repository path. */
	async create(id) {
		const r = await runOk(MOTHER_BIN,
				      ['course', 'create', this.data, id]);
		return r.stdout.trim();
	}

	async courseList() {
		const r = await runOk(MOTHER_BIN,
				      ['course', 'list', this.data, '--json']);
		return JSON.parse(r.stdout);
	}

	/* The published revision of a course, or null if not listed. */
	async revision(id) {
		const c = (await this.courseList()).find((x) => x.id === id);
		return c ? c.revision : null;
	}

	async tenantList() {
		const r = await runOk(MOTHER_BIN,
				      ['tenant', 'list', this.data, '--json']);
		return JSON.parse(r.stdout);
	}

	async tenant(id) {
		return (await this.tenantList()).find((x) => x.id === id);
	}

	/* tenant add --json; resolves to {id, token, mother_key}. */
	async addTenant(id, options = {}) {
		const args = ['tenant', 'add', this.data, id,
			      '--name', options.name ?? `Tenant ${id}`];
		for (const d of options.domains ?? [])
			args.push('--domain', d);
		if (options.courses !== undefined)
			args.push('--courses', coursesArg(options.courses));
		args.push('--json');
		return JSON.parse((await runOk(MOTHER_BIN, args)).stdout);
	}

	async license(tenantId, courses) {
		return runOk(MOTHER_BIN, ['tenant', 'license', this.data,
					  tenantId, '--courses',
					  coursesArg(courses)]);
	}
}

function coursesArg(courses) {
	return Array.isArray(courses) ? courses.join(',') : courses;
}

/*
 * Creates a mother in the test's temp dir: init, serve on free loopback
 * ports (waits for /healthz), then publishes the given sample courses.
 * options: courses (sample ids), name (default "mother"), env (of serve),
 * serve (default true; false leaves the daemon unstarted).
 * Resolves to a Mother; mother.revisions maps each published id to its
 * revision.
 */
export async function setupMother(options = {}) {
	const name = options.name ?? 'mother';
	const data = tmpPath(name);
	const init = await runOk(MOTHER_BIN, ['init', data]);
	const m = /mother key: ([0-9a-f]{64})/.exec(init.stdout);

	if (!m)
		throw new Error(`no "mother key: <64 hex>" in init's output:\n` +
				describeResult(init));
	const [httpPort, syncPort] = await freePorts(2);
	const httpAddr = `127.0.0.1:${httpPort}`;
	const sync = `127.0.0.1:${syncPort}`;
	const http = `http://${httpAddr}`;
	const daemon = new Daemon(name, MOTHER_BIN,
				  ['serve', data, '--listen', httpAddr,
				   '--sync-listen', sync],
				  { env: options.env,
				    healthUrl: `${http}/healthz` });
	scope().daemons.push(daemon);

	const mother = new Mother({ name, data, http, httpAddr, sync,
				    fingerprint: m[1], daemon,
				    revisions: {} });
	if (options.serve ?? true)
		await daemon.start();
	for (const id of options.courses ?? [])
		mother.revisions[id] = await mother.publishSample(id);
	return mother;
}

/*
 * A workspace: data directory, HTTP address, its tenant's token.
 *   id, data, http ("http://127.0.0.1:PORT"), addr ("127.0.0.1:PORT"),
 *   token, mother (the Mother), daemon (the Daemon of serve)
 */
export class Workspace {
	constructor(fields) {
		Object.assign(this, fields);
	}

	run(...args) {
		return run(WORKSPACE_BIN, args);
	}

	start(options) {
		return this.daemon.start(options);
	}

	stop() {
		return this.daemon.stop();
	}

	kill() {
		return this.daemon.kill();
	}

	catalog() {
		return catalog(this);
	}

	async courseList() {
		const r = await runOk(WORKSPACE_BIN,
				      ['course', 'list', this.data, '--json']);
		return JSON.parse(r.stdout);
	}

	/* lms-workspace course publish (a local course); resolves to the
	 * printed revision. */
	async publish(dir, message) {
		const args = ['course', 'publish', this.data, dir];
		if (message)
			args.push('-m', message);
		return (await runOk(WORKSPACE_BIN, args)).stdout.trim();
	}

	/* Waits until the catalog shows course id at revision rev. */
	async waitRevision(id, rev, timeout = DEADLINE) {
		return waitFor(async () => {
			const c = (await this.catalog()).find(
				(x) => x.id === id);
			return c && c.revision === rev;
		}, timeout, { what: `${this.id}: ${id} at ${rev}` });
	}
}

/*
 * Adds tenant id at the mother (tenant add --json, licensed for courses:
 * "all", an array of ids, or undefined for the mother's default),
 * enrolls a workspace for it (init, which needs the mother serving) and
 * starts serve on a free port, waiting for /healthz.
 * options: name (tenant name), domains, serve (default true), env.
 */
export async function addWorkspace(mother, id, courses, options = {}) {
	const added = await mother.addTenant(id, { ...options, courses });
	const data = tmpPath(`ws-${id}`);
	const port = await freePort();
	const addr = `127.0.0.1:${port}`;
	const http = `http://${addr}`;

	await runOk(WORKSPACE_BIN, ['init', data, '--mother', mother.sync,
				    '--token', added.token, '--mother-key',
				    mother.fingerprint, '--listen', addr]);
	const daemon = new Daemon(`ws-${id}`, WORKSPACE_BIN,
				  ['serve', data, '--listen', addr],
				  { env: options.env,
				    healthUrl: `${http}/healthz` });
	scope().daemons.push(daemon);

	const ws = new Workspace({ id, data, http, addr, port,
				   token: added.token, mother, daemon });
	if (options.serve ?? true)
		await daemon.start();
	return ws;
}

/* ------------------------------------------------------------------ */
/* Courses */

export function readJson(file) {
	return JSON.parse(fs.readFileSync(file, 'utf8'));
}

export function writeJson(file, value) {
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/* Rewrites DIR/course.json with fn(json) (fn may edit in place). */
export function editCourseJson(dir, fn) {
	const file = path.join(dir, 'course.json');
	const json = readJson(file);

	writeJson(file, fn(json) ?? json);
}

/*
 * Copies deploy/courses/<id> to a fresh directory of the temp dir
 * (dest, default <tmp>/src-<id>-<n>) and returns its path, so a test
 * can edit it freely.
 */
export function copySampleCourse(id, dest) {
	const src = path.join(SAMPLE_DIR, id);

	if (!fs.existsSync(path.join(src, 'course.json')))
		throw new Error(`no sample course ${src}`);
	dest ??= uniquePath(`src-${id}`);
	fs.cpSync(src, dest, { recursive: true });
	return dest;
}

function uniquePath(prefix) {
	for (let n = 1; ; n++) {
		const p = tmpPath(`${prefix}-${n}`);
		if (!fs.existsSync(p))
			return p;
	}
}

/*
 * Writes a small valid course of our own (format 1) into dir (default a
 * fresh directory of the temp dir) and returns its path. spec: id,
 * title (default "Course <id>"), lessons (number of text lessons,
 * default 2), quiz (default true), media ({ "media/x.bin": Buffer|string
 * }), text (extra text appended to the first lesson).
 */
export function writeCourse(spec, dir) {
	const id = spec.id;
	const lessons = [];

	dir ??= uniquePath(`src-${id}`);
	fs.mkdirSync(path.join(dir, 'lessons'), { recursive: true });
	for (let i = 1; i <= (spec.lessons ?? 2); i++) {
		const file = `lessons/lesson-${i}.md`;
		fs.writeFileSync(path.join(dir, file),
				 `# Lesson ${i} of ${id}\n\nSome text.\n` +
				 (i === 1 ? spec.text ?? '' : ''));
		lessons.push({ id: `lesson-${i}`,
			       title: { en: `Lesson ${i}` }, file });
	}
	if (spec.quiz ?? true) {
		writeJson(path.join(dir, 'quizzes/check.json'), {
			pass_percent: 50,
			questions: [{
				id: 'q1', text: 'Is this a test?',
				choices: ['yes', 'no'], answer: [0],
			}],
		});
		lessons.push({ id: 'check', title: { en: 'Check' },
			       quiz: 'quizzes/check.json' });
	}
	for (const [file, content] of Object.entries(spec.media ?? {})) {
		fs.mkdirSync(path.join(dir, path.dirname(file)),
			     { recursive: true });
		fs.writeFileSync(path.join(dir, file), content);
	}
	writeJson(path.join(dir, 'course.json'), {
		format: 1,
		id,
		title: { en: spec.title ?? `Course ${id}` },
		summary: { en: 'A course of the integration tests.' },
		language: 'en',
		duration_minutes: 5,
		lessons,
	});
	return dir;
}

/* Random bytes, e.g. a media file that does not compress. */
export function randomBytes(n) {
	return crypto.randomBytes(n);
}

/* The title of a course directory in its default language. */
export function courseTitle(dir) {
	const c = readJson(path.join(dir, 'course.json'));

	return typeof c.title === 'string' ? c.title : c.title[c.language];
}

/*
 * Invalid courses, one row per reason validation must give. Each mutate
 * (dir) turns a valid course directory into an invalid one; the error
 * must name one of files and match reason. Used by course publish and by
 * git push alike.
 */
export const INVALID_COURSES = [
	{
		name: 'bad JSON in course.json',
		mutate(dir) {
			const f = path.join(dir, 'course.json');
			const text = fs.readFileSync(f, 'utf8');
			fs.writeFileSync(f, text.slice(0, text.length / 2));
		},
		files: ['course.json'],
		reason: /json|parse|syntax|invalid|unexpected|malformed/i,
	},
	{
		name: 'unknown lesson file',
		mutate(dir) {
			editCourseJson(dir, (c) => {
				c.lessons.push({ id: 'ghost',
						 title: 'Ghost',
						 file: 'lessons/ghost.md' });
			});
		},
		files: ['lessons/ghost.md'],
		reason: /not found|missing|no such|does not exist/i,
	},
	{
		name: 'duplicate lesson id',
		mutate(dir) {
			editCourseJson(dir, (c) => {
				const twin = { ...c.lessons[0] };
				c.lessons.push(twin);
			});
		},
		files: ['course.json'],
		reason: /duplicate/i,
	},
	{
		name: 'path outside the course',
		mutate(dir) {
			/* the file exists, so only the path is wrong */
			fs.writeFileSync(path.join(dir, '..', 'x.md'),
					 '# Outside\n');
			editCourseJson(dir, (c) => {
				c.lessons.push({ id: 'escape',
						 title: 'Escape',
						 file: '../x.md' });
			});
		},
		files: ['../x.md', 'course.json'],
		reason: /outside|leave|escape|unsafe|not allowed|invalid path/i,
	},
	{
		name: 'quiz without answers',
		mutate(dir) {
			writeJson(path.join(dir, 'quizzes/no-answers.json'), {
				pass_percent: 80,
				questions: [{ id: 'q1', text: 'Which?',
					      choices: ['a', 'b'] }],
			});
			editCourseJson(dir, (c) => {
				c.lessons.push({
					id: 'no-answers', title: 'Quiz',
					quiz: 'quizzes/no-answers.json' });
			});
		},
		files: ['quizzes/no-answers.json'],
		reason: /answer/i,
	},
];

/*
 * Checks an error output against a row of INVALID_COURSES: some line
 * must read "<prefix>FILE: REASON" with one of row.files and a reason
 * matching row.reason. Returns the matching line or null.
 */
export function findCourseError(stderr, row, prefix = 'lms-mother: ') {
	for (const line of stderr.split('\n')) {
		for (const file of row.files) {
			const at = line.indexOf(`${prefix}${file}: `);
			if (at < 0)
				continue;
			const reason = line.slice(
				at + prefix.length + file.length + 2);
			if (row.reason.test(reason))
				return line;
		}
	}
	return null;
}

/* ------------------------------------------------------------------ */
/* git */

/* git init of a work tree at dir with branch main. */
export async function gitInit(dir) {
	await runOk('git', ['init', '-q', '-b', 'main', dir]);
	return dir;
}

/* git clone of url into dest (default a fresh temp path). */
export async function cloneRepo(url, dest) {
	dest ??= uniquePath('clone');
	await runOk('git', ['clone', '-q', url, dest]);
	return dest;
}

/* git add -A and commit; resolves to the new commit id. */
export async function gitCommitAll(dir, message = 'change') {
	await runOk('git', ['add', '-A'], { cwd: dir });
	await runOk('git', ['commit', '-q', '--allow-empty', '-m', message],
		    { cwd: dir });
	return (await runOk('git', ['rev-parse', 'HEAD'],
			    { cwd: dir })).stdout.trim();
}

/* Copies the files of course directory src into a work tree (replacing
 * what the tree held, .git aside). */
export function replaceTree(src, dir) {
	for (const name of fs.readdirSync(dir))
		if (name !== '.git')
			fs.rmSync(path.join(dir, name),
				  { recursive: true, force: true });
	fs.cpSync(src, dir, { recursive: true });
}
