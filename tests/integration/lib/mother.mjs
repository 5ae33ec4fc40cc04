/*
 * The mother's admin port as operators use it: operators added and
 * tokens made on its command line, sessions opened through POST
 * /api/v1/session. Requests go through request() of lib/api.mjs, which
 * takes any object with an http base URL, a Mother too.
 *
 *   await addOperator(mother, 'op@example.org');
 *   const op = await operatorBearer(mother, 'op@example.org');
 *   const res = await request(mother, 'GET', '/api/v1/tenants',
 *                             { headers: op });
 */
import assert from 'node:assert/strict';

import { runOk, MOTHER_BIN } from './harness.mjs';
import { request, PASSWORD } from './api.mjs';

/* `lms-mother operator add DATA EMAIL --password-stdin`. */
export async function addOperator(mother, email, password = PASSWORD) {
	await runOk(MOTHER_BIN, ['operator', 'add', mother.data, email,
				 '--password-stdin'],
		    { input: `${password}\n` });
}

/* A new bearer token of the operator, as request headers. */
export async function operatorBearer(mother, email) {
	const r = await runOk(MOTHER_BIN, ['operator', 'token', mother.data,
					   email, '--name', 'tests']);
	return { Authorization: `Bearer ${r.stdout.trim()}` };
}

/* Signs in on the admin port; resolves to the Cookie and X-CSRF-Token
 * headers of the session. */
export async function operatorSignIn(mother, email, password = PASSWORD) {
	const res = await request(mother, 'POST', '/api/v1/session',
				  { json: { email, password } });
	assert.equal(res.status, 200, res.text);
	const m = /(lms_mother_session=[^;]*)/.exec(
		res.headers.get('set-cookie'));
	assert.ok(m, 'no session cookie');
	return { Cookie: m[1], 'X-CSRF-Token': res.json.csrf_token };
}

/* GET path with headers; the JSON of a 200, else an assertion fails. */
export async function motherGet(mother, path, headers) {
	const res = await request(mother, 'GET', path, { headers });
	assert.equal(res.status, 200, `${path}: ${res.text}`);
	return res.json ?? res.text;
}
