/*
 * Groups and rules as an admin uses them against a running workspace:
 * a group created by POST (with the session cookie and its CSRF token,
 * or with a bearer token) holds exactly the users whose attributes match
 * its rule, including users added from the command line afterwards;
 * bad input is refused with 400 and creates nothing; learners get 403
 * and requests without credentials 401.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, runOk, setupMother, addWorkspace, WORKSPACE_BIN,
} from './lib/harness.mjs';

const PASSWORD = 'correct horse battery staple';

async function request(ws, method, path, options = {}) {
	const headers = { ...options.headers };
	let body;

	if (options.json !== undefined) {
		headers['Content-Type'] = 'application/json';
		body = typeof options.json === 'string' ?
			options.json : JSON.stringify(options.json);
	}
	const res = await fetch(`${ws.http}${path}`, {
		method, headers, body, signal: AbortSignal.timeout(10000),
	});
	const text = await res.text();
	let json = null;

	try {
		json = JSON.parse(text);
	} catch {
		/* left null: the assertions say what was expected */
	}
	return { status: res.status, headers: res.headers, text, json };
}

function assertError(res, status, code) {
	assert.equal(res.status, status, res.text);
	assert.equal(res.json?.error?.code, code, res.text);
	assert.equal(typeof res.json.error.message, 'string');
}

/* Adds a user from the command line; returns its id. */
async function addUser(ws, email, role, attrs, password) {
	const args = ['user', 'add', ws.data, email, '--name', email,
		      '--role', role];

	for (const [k, v] of Object.entries(attrs))
		args.push('--attr', `${k}=${v}`);
	if (password)
		args.push('--password-stdin');
	const r = await runOk(WORKSPACE_BIN, args,
			      { input: password ? `${password}\n` : '' });
	return Number(r.stdout);
}

async function loginCookie(ws, email, password) {
	const res = await request(ws, 'POST', '/api/v1/session',
				  { json: { email, password } });
	assert.equal(res.status, 200, res.text);
	const m = /(lms_session=[^;]*)/.exec(res.headers.get('set-cookie'));

	assert.ok(m, res.headers.get('set-cookie'));
	return { cookie: m[1], csrf: res.json.csrf_token };
}

async function memberEmails(ws, auth, id) {
	const res = await request(ws, 'GET', `/api/v1/groups/${id}/members`,
				  { headers: auth });
	assert.equal(res.status, 200, res.text);
	for (const m of res.json)
		assert.deepEqual(Object.keys(m).sort(),
				 ['email', 'from_rule', 'id', 'name']);
	return res.json.map((m) => m.email);
}

lmsTest('groups: rules place users, admins only', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	const ada = await addUser(ws, 'ada@example.org', 'admin',
				  { location: 'Bonn' }, PASSWORD);
	const pia = await addUser(ws, 'pia@example.org', 'learner',
				  { department: 'Pflege', location: 'Köln' },
				  'lea-secret');
	await addUser(ws, 'bob@example.org', 'learner',
		      { department: 'Pflege', location: 'Bonn' });
	const { cookie, csrf } = await loginCookie(ws, 'ada@example.org',
						   PASSWORD);
	const admin = { Cookie: cookie, 'X-CSRF-Token': csrf };

	/* by cookie: a CSRF token is needed to write */
	const rule = { department: 'Pflege', location: 'Köln' };
	assertError(await request(ws, 'POST', '/api/v1/groups', {
		headers: { Cookie: cookie },
		json: { name: 'Pflege Köln', rule } }), 403, 'forbidden');
	const made = await request(ws, 'POST', '/api/v1/groups', {
		headers: admin, json: { name: 'Pflege Köln', rule } });
	assert.equal(made.status, 201, made.text);
	assert.ok(Number.isInteger(made.json.id) && made.json.id > 0);
	assert.equal(made.json.name, 'Pflege Köln');
	assert.equal(made.json.parent, null);
	assert.deepEqual(made.json.rule, rule);
	assert.equal(made.json.member_count, 1);
	const koeln = made.json.id;
	assert.deepEqual(await memberEmails(ws, admin, koeln),
			 ['pia@example.org']);

	/* by bearer token: a child group under it */
	const token = (await runOk(WORKSPACE_BIN,
		['token', 'create', ws.data, 'ada@example.org'])).stdout.trim();
	const bearer = { Authorization: `Bearer ${token}` };
	const child = await request(ws, 'POST', '/api/v1/groups', {
		headers: bearer, json: { name: 'Station 3', parent: koeln,
					 rule: { ward: '3' } } });
	assert.equal(child.status, 201, child.text);
	assert.equal(child.json.parent, koeln);
	assert.equal(child.json.member_count, 0);

	/* users added later who match appear, others do not */
	const max = await addUser(ws, 'max@example.org', 'learner',
				  { department: 'Pflege', location: 'Köln',
				    ward: '3' });
	await addUser(ws, 'eva@example.org', 'learner',
		      { department: 'IT', location: 'Köln', ward: '3' });
	assert.deepEqual(await memberEmails(ws, bearer, koeln),
			 ['pia@example.org', 'max@example.org']);
	assert.deepEqual(await memberEmails(ws, bearer, child.json.id),
			 ['max@example.org']);

	const list = await request(ws, 'GET', '/api/v1/groups',
				   { headers: admin });
	assert.equal(list.status, 200, list.text);
	assert.deepEqual(list.json.map((g) => [g.id, g.name, g.parent,
					       g.member_count]),
			 [[koeln, 'Pflege Köln', null, 2],
			  [child.json.id, 'Station 3', koeln, 1]]);
	const users = await request(ws, 'GET', '/api/v1/users',
				    { headers: bearer });
	assert.equal(users.status, 200, users.text);
	const groupsOf = Object.fromEntries(users.json.map((u) =>
		[u.id, u.groups]));
	assert.deepEqual(groupsOf[max], [koeln, child.json.id]);
	assert.deepEqual(groupsOf[pia], [koeln]);
	assert.deepEqual(groupsOf[ada], []);

	/* bad input: 400 with a message, nothing created */
	for (const body of [
		{ rule },
		{ name: '' },
		{ name: 'X', parent: 999 },
		{ name: 'X', rule: 'department=IT' },
		{ name: 'X', rule: { department: 5 } },
		{ name: 'X', rule: ['IT'] },
		'{"name": "X",',
	]) {
		const res = await request(ws, 'POST', '/api/v1/groups',
					  { headers: admin, json: body });
		assertError(res, 400, 'bad_request');
	}
	const missing = await request(ws, 'POST', '/api/v1/groups',
				      { headers: admin, json: { rule } });
	assert.match(missing.json.error.message, /name/);
	const parent = await request(ws, 'POST', '/api/v1/groups', {
		headers: admin, json: { name: 'X', parent: 999 } });
	assert.match(parent.json.error.message, /parent/);
	const after = await request(ws, 'GET', '/api/v1/groups',
				    { headers: admin });
	assert.equal(after.json.length, 2);

	/* a learner is not allowed, no credentials are unauthorized */
	const lea = await loginCookie(ws, 'pia@example.org', 'lea-secret');
	const learner = { Cookie: lea.cookie, 'X-CSRF-Token': lea.csrf };
	assertError(await request(ws, 'GET', '/api/v1/groups',
				  { headers: learner }), 403, 'forbidden');
	assertError(await request(ws, 'POST', '/api/v1/groups', {
		headers: learner, json: { name: 'Mine' } }), 403, 'forbidden');
	assertError(await request(ws, 'GET',
				  `/api/v1/groups/${koeln}/members`,
				  { headers: learner }), 403, 'forbidden');
	assertError(await request(ws, 'GET', '/api/v1/groups'),
		    401, 'unauthorized');
	assertError(await request(ws, 'POST', '/api/v1/groups',
				  { json: { name: 'Anon' } }),
		    401, 'unauthorized');
	assertError(await request(ws, 'GET',
				  `/api/v1/groups/${koeln}/members`),
		    401, 'unauthorized');
	assert.equal((await request(ws, 'GET', '/api/v1/groups',
				    { headers: admin })).json.length, 2);

	/* unknown groups and other paths */
	assertError(await request(ws, 'GET', '/api/v1/groups/999/members',
				  { headers: admin }), 404, 'not_found');
	assertError(await request(ws, 'GET', '/api/v1/groups/x/members',
				  { headers: admin }), 404, 'not_found');
	const del = await request(ws, 'DELETE', '/api/v1/groups',
				  { headers: admin });
	assert.equal(del.status, 405, del.text);
});
