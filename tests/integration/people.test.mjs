/*
 * People and access, first part, as an operator and a browser use them:
 * users added from the command line, login with a password (a session
 * cookie and a CSRF token), the admin-only user list by cookie or by a
 * bearer token from `token create`, and logout that needs the CSRF
 * token and ends the session for good.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, run, runOk, describeResult, setupMother, addWorkspace,
	WORKSPACE_BIN, HEX64,
} from './lib/harness.mjs';
import {
	request, assertError, addUser, login, sessionHeaders, PASSWORD,
} from './lib/api.mjs';

const ADMIN = 'Ada@Example.org';
const LEARNER = 'lea@example.org';

lmsTest('user add, token create and user list on the command line',
	async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', [], { serve: false });
	const admin = await runOk(WORKSPACE_BIN,
		['user', 'add', ws.data, ADMIN, '--name', 'Ada Admin',
		 '--role', 'admin', '--attr', 'department=IT',
		 '--attr', 'location=Bonn', '--password-stdin'],
		{ input: `${PASSWORD}\n` });
	assert.match(admin.stdout, /^\d+\n$/);

	for (const [args, code, words] of [
		[[ws.data, ADMIN.toUpperCase(), '--name', 'Again'], 1,
		 'exists'],
		[[ws.data, 'not-an-email', '--name', 'X'], 1, 'email'],
		[[ws.data, 'x@example.org', '--name', 'X', '--role', 'boss'],
		 2, '--role'],
		[[ws.data, 'x@example.org'], 2, '--name'],
	]) {
		const r = await run(WORKSPACE_BIN, ['user', 'add', ...args]);

		assert.equal(r.code, code, describeResult(r));
		assert.match(r.stderr, /^lms-workspace: /, describeResult(r));
		assert.ok(r.stderr.includes(words), describeResult(r));
	}
	await runOk(WORKSPACE_BIN, ['user', 'add', ws.data, LEARNER,
				    '--name', 'Lea Learner']);

	const list = JSON.parse((await runOk(WORKSPACE_BIN,
		['user', 'list', ws.data, '--json'])).stdout);
	assert.deepEqual(list.map((u) => [u.email, u.role, u.name]), [
		['ada@example.org', 'admin', 'Ada Admin'],
		['lea@example.org', 'learner', 'Lea Learner'],
	]);
	assert.deepEqual(list[0].attributes,
			 { department: 'IT', location: 'Bonn' });
	assert.equal(list[0].id, Number(admin.stdout));
	assert.equal(JSON.stringify(list).includes('argon2'), false);

	const token = await runOk(WORKSPACE_BIN,
				  ['token', 'create', ws.data, ADMIN]);
	assert.match(token.stdout.trim(), HEX64);
	const unknown = await run(WORKSPACE_BIN, ['token', 'create', ws.data,
						  'nobody@example.org']);
	assert.equal(unknown.code, 1, describeResult(unknown));

	for (const sub of [['user', 'add'], ['user', 'list'],
			   ['token', 'create']]) {
		const r = await run(WORKSPACE_BIN, [...sub, '--help']);

		assert.equal(r.code, 0, describeResult(r));
		assert.ok(r.stdout.includes('DATA'), describeResult(r));
	}
});

lmsTest('login, the admin-only user list, tokens and logout', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	await addUser(ws, ADMIN, 'admin', {}, { name: 'Ada Admin' });
	await addUser(ws, LEARNER, 'learner', {},
		      { name: 'Lea', password: 'lea-secret' });

	/* wrong password and unknown email look the same */
	const wrong = await login(ws, ADMIN, 'not it');
	assertError(wrong, 401, 'unauthorized');
	const nobody = await login(ws, 'nobody@example.org', PASSWORD);
	assertError(nobody, 401, 'unauthorized');
	assert.equal(wrong.json.error.message, 'wrong email or password');
	assert.equal(nobody.json.error.message, wrong.json.error.message);
	assert.equal(wrong.headers.get('set-cookie'), null);
	assertError(await request(ws, 'POST', '/api/v1/session',
				  { json: '{"email": "a@b.de",' }),
		    400, 'bad_request');
	assertError(await request(ws, 'POST', '/api/v1/session',
				  { json: { email: ADMIN } }),
		    400, 'bad_request');
	/* a form on another site posts text/plain: not a login, so it
	 * cannot sign a visitor in as someone else */
	const form = JSON.stringify({ email: ADMIN, password: PASSWORD });
	for (const p of ['/api/v1/session', '/api/v1/password',
			 '/api/v1/password-reset']) {
		const res = await request(ws, 'POST', p, { body: form });

		assertError(res, 415, 'unsupported_media_type');
		assert.equal(res.headers.get('set-cookie'), null);
	}

	/* the admin logs in with any case of the email */
	const ok = await login(ws, ADMIN.toUpperCase(), PASSWORD);
	assert.equal(ok.status, 200, ok.text);
	assert.deepEqual(Object.keys(ok.json.user).sort(),
			 ['email', 'id', 'name', 'role']);
	assert.equal(ok.json.user.email, 'ada@example.org');
	assert.equal(ok.json.user.role, 'admin');
	assert.match(ok.json.csrf_token, HEX64);
	const set = ok.headers.get('set-cookie');
	assert.match(set, /HttpOnly/i);
	assert.match(set, /SameSite=Lax/i);
	assert.match(set, /Path=\//);
	const cookie = sessionHeaders(ok).Cookie;
	const csrf = ok.json.csrf_token;

	const users = await request(ws, 'GET', '/api/v1/users',
				    { headers: { Cookie: cookie } });
	assert.equal(users.status, 200, users.text);
	assert.deepEqual(users.json.map((u) => u.email),
			 ['ada@example.org', 'lea@example.org']);

	/* a learner is known but not allowed */
	const lea = await login(ws, LEARNER, 'lea-secret');
	assert.equal(lea.status, 200, lea.text);
	assert.equal(lea.json.user.role, 'learner');
	const leaCookie = sessionHeaders(lea).Cookie;
	assertError(await request(ws, 'GET', '/api/v1/users',
				  { headers: { Cookie: leaCookie } }),
		    403, 'forbidden');

	/* no or unknown credentials */
	assertError(await request(ws, 'GET', '/api/v1/users'),
		    401, 'unauthorized');
	assertError(await request(ws, 'GET', '/api/v1/users', {
		headers: { Cookie: `lms_session=${'0'.repeat(64)}` } }),
		    401, 'unauthorized');
	assertError(await request(ws, 'GET', '/api/v1/users', {
		headers: { Authorization: `Bearer ${'0'.repeat(64)}` } }),
		    401, 'unauthorized');

	/* a script with a bearer token */
	const token = (await runOk(WORKSPACE_BIN,
		['token', 'create', ws.data, ADMIN])).stdout.trim();
	const byToken = await request(ws, 'GET', '/api/v1/users', {
		headers: { Authorization: `Bearer ${token}` } });
	assert.equal(byToken.status, 200, byToken.text);
	assert.equal(byToken.json.length, 2);
	const learnerToken = (await runOk(WORKSPACE_BIN,
		['token', 'create', ws.data, LEARNER])).stdout.trim();
	assertError(await request(ws, 'GET', '/api/v1/users', {
		headers: { Authorization: `Bearer ${learnerToken}` } }),
		    403, 'forbidden');

	/* logout needs the CSRF token */
	assertError(await request(ws, 'DELETE', '/api/v1/session',
				  { headers: { Cookie: cookie } }),
		    403, 'forbidden');
	assertError(await request(ws, 'DELETE', '/api/v1/session', {
		headers: { Cookie: cookie, 'X-CSRF-Token': '0'.repeat(64) } }),
		    403, 'forbidden');
	const still = await request(ws, 'GET', '/api/v1/users',
				    { headers: { Cookie: cookie } });
	assert.equal(still.status, 200, still.text);
	const out = await request(ws, 'DELETE', '/api/v1/session', {
		headers: { Cookie: cookie, 'X-CSRF-Token': csrf } });
	assert.equal(out.status, 200, out.text);
	assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
	assertError(await request(ws, 'GET', '/api/v1/users',
				  { headers: { Cookie: cookie } }),
		    401, 'unauthorized');

	/* the path knows its methods */
	const put = await request(ws, 'PUT', '/api/v1/session');
	assert.equal(put.status, 405, put.text);
	assert.match(put.headers.get('allow') ?? '', /POST/);
	assert.match(put.headers.get('allow') ?? '', /DELETE/);
});
