/*
 * The HTTP API of a running workspace and the people it serves, as the
 * integration and browser tests drive them: one request() that any test
 * can inspect, the check of an error answer, people added and tokens
 * made on the workspace's command line, and sessions opened through
 * POST /api/v1/session.
 *
 *   import { request, addUser, signIn, PASSWORD } from './lib/api.mjs';
 *
 *   await addUser(ws, 'ada@example.org', 'admin');
 *   const ada = await signIn(ws, 'ada@example.org');
 *   const res = await request(ws, 'GET', '/api/v1/users',
 *                             { headers: ada });
 *
 * What is here:
 *   PASSWORD          the password people get unless a test says
 *   request()         one request -> { status, headers, bytes, text, json }
 *   assertError(), assertErrorCode()
 *                     an error answer { error: { code, message } }
 *   addUser()         `lms-workspace user add`; resolves to the id
 *   bearer()          `lms-workspace token create` -> Authorization header
 *   login()           POST /api/v1/session, the answer as it is
 *   sessionHeaders()  Cookie and X-CSRF-Token of a signed-in answer
 *   signIn()          login() that must succeed -> sessionHeaders()
 *   completeCourse()  every lesson of a sample course done, quizzes
 *                     passed -> the course as GET shows it
 *
 * Only Node's built-in modules are used (Node 18.19 or later).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { runOk, WORKSPACE_BIN, SAMPLE_DIR } from './harness.mjs';

export const PASSWORD = 'correct horse battery staple';

/*
 * One request to the workspace ws (its http base URL) at path, which is
 * sent as fetch() resolves it. Resolves to { status, headers (a
 * Headers), bytes (a Buffer), text, json (null unless the body is JSON)
 * }. options: headers; json (sent as application/json: a string as it
 * is, so a test can send malformed JSON, anything else stringified);
 * csv (text sent as text/csv); body (sent as it is); timeout (ms,
 * default 10 s).
 */
export async function request(ws, method, path, options = {}) {
	const headers = { ...options.headers };
	let body = options.body;

	if (options.json !== undefined) {
		headers['Content-Type'] = 'application/json';
		body = typeof options.json === 'string' ?
			options.json : JSON.stringify(options.json);
	}
	if (options.csv !== undefined) {
		headers['Content-Type'] = 'text/csv; charset=utf-8';
		body = options.csv;
	}
	const res = await fetch(`${ws.http}${path}`, {
		method, headers, body,
		signal: AbortSignal.timeout(options.timeout ?? 10000),
	});
	const bytes = Buffer.from(await res.arrayBuffer());
	const text = new TextDecoder().decode(bytes);
	let json = null;

	try {
		json = JSON.parse(text);
	} catch {
		/* left null: the assertions say what was expected */
	}
	return { status: res.status, headers: res.headers, bytes, text, json };
}

/* Asserts an error answer: the status and error.code. */
export function assertErrorCode(res, status, code) {
	assert.equal(res.status, status, res.text);
	assert.equal(res.json?.error?.code, code, res.text);
}

/* Asserts an error answer: the status, error.code and a message. */
export function assertError(res, status, code) {
	assertErrorCode(res, status, code);
	assert.equal(typeof res.json.error.message, 'string');
}

/*
 * Adds a person on the workspace's command line (which works whether
 * the daemon runs or not), with attributes attrs ({ key: value });
 * resolves to the new user's id. options: name (default the email),
 * password (default PASSWORD; null adds the person without one).
 */
export async function addUser(ws, email, role = 'learner', attrs = {},
			      options = {}) {
	const password = options.password === undefined ?
		PASSWORD : options.password;
	const args = ['user', 'add', ws.data, email,
		      '--name', options.name ?? email, '--role', role];

	for (const [k, v] of Object.entries(attrs))
		args.push('--attr', `${k}=${v}`);
	if (password !== null)
		args.push('--password-stdin');
	const input = password === null ? '' : `${password}\n`;
	const r = await runOk(WORKSPACE_BIN, args, { input });
	return Number(r.stdout);
}

/* A new API token of email, as the headers of a bearer request. */
export async function bearer(ws, email) {
	const r = await runOk(WORKSPACE_BIN,
			      ['token', 'create', ws.data, email]);
	return { Authorization: `Bearer ${r.stdout.trim()}` };
}

/* POST /api/v1/session; resolves to the answer, whatever it is. */
export function login(ws, email, password = PASSWORD) {
	return request(ws, 'POST', '/api/v1/session',
		       { json: { email, password } });
}

/* The Cookie and X-CSRF-Token headers of a signed-in answer (of a login
 * or a password link); asserts that it sets the session cookie. */
export function sessionHeaders(res) {
	const set = res.headers.get('set-cookie');
	const m = /(lms_session=[^;]*)/.exec(set);

	assert.ok(m, `no session cookie: ${set}`);
	return { Cookie: m[1], 'X-CSRF-Token': res.json.csrf_token };
}

/* Signs in, which must succeed; resolves to sessionHeaders(). */
export async function signIn(ws, email, password = PASSWORD) {
	const res = await login(ws, email, password);

	assert.equal(res.status, 200, res.text);
	return sessionHeaders(res);
}

/* Completes every lesson of course for the learner of headers: text
 * lessons marked done, quizzes passed with the answers of the course's
 * files in dir (default the sample course of that id). Resolves to the
 * course as GET /api/v1/courses/{id} shows it, which must be completed.
 */
export async function completeCourse(ws, headers, course,
				     dir = path.join(SAMPLE_DIR, course)) {
	const base = `/api/v1/courses/${course}`;
	const spec = JSON.parse(fs.readFileSync(path.join(dir, 'course.json'),
						'utf8'));

	for (const l of spec.lessons) {
		let r;
		if (l.quiz) {
			const q = JSON.parse(fs.readFileSync(
				path.join(dir, l.quiz), 'utf8'));
			const answers = Object.fromEntries(q.questions.map(
				(x) => [x.id, x.answer]));
			r = await request(ws, 'POST',
					  `${base}/lessons/${l.id}/attempts`,
					  { headers, json: { answers } });
			assert.equal(r.json?.passed, true, r.text);
		} else {
			r = await request(ws, 'POST',
					  `${base}/lessons/${l.id}/complete`,
					  { headers });
		}
		assert.equal(r.status, 200, r.text);
	}
	const c = await request(ws, 'GET', base, { headers });
	assert.equal(c.json.progress.completed, true, c.text);
	return c.json;
}
