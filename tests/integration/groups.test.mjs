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
	lmsTest, setupMother, addWorkspace,
} from './lib/harness.mjs';
import {
	request, assertError, addUser, bearer, signIn,
} from './lib/api.mjs';

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
				  { location: 'Bonn' });
	const pia = await addUser(ws, 'pia@example.org', 'learner',
				  { department: 'Pflege', location: 'Köln' },
				  { password: 'lea-secret' });
	await addUser(ws, 'bob@example.org', 'learner',
		      { department: 'Pflege', location: 'Bonn' },
		      { password: null });
	const admin = await signIn(ws, 'ada@example.org');

	/* by cookie: a CSRF token is needed to write */
	const rule = { department: 'Pflege', location: 'Köln' };
	assertError(await request(ws, 'POST', '/api/v1/groups', {
		headers: { Cookie: admin.Cookie },
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
	const byToken = await bearer(ws, 'ada@example.org');
	const child = await request(ws, 'POST', '/api/v1/groups', {
		headers: byToken, json: { name: 'Station 3', parent: koeln,
					 rule: { ward: '3' } } });
	assert.equal(child.status, 201, child.text);
	assert.equal(child.json.parent, koeln);
	assert.equal(child.json.member_count, 0);

	/* users added later who match appear, others do not */
	const max = await addUser(ws, 'max@example.org', 'learner',
				  { department: 'Pflege', location: 'Köln',
				    ward: '3' }, { password: null });
	await addUser(ws, 'eva@example.org', 'learner',
		      { department: 'IT', location: 'Köln', ward: '3' },
		      { password: null });
	assert.deepEqual(await memberEmails(ws, byToken, koeln),
			 ['pia@example.org', 'max@example.org']);
	assert.deepEqual(await memberEmails(ws, byToken, child.json.id),
			 ['max@example.org']);

	const list = await request(ws, 'GET', '/api/v1/groups',
				   { headers: admin });
	assert.equal(list.status, 200, list.text);
	assert.deepEqual(list.json.map((g) => [g.id, g.name, g.parent,
					       g.member_count]),
			 [[koeln, 'Pflege Köln', null, 2],
			  [child.json.id, 'Station 3', koeln, 1]]);
	const users = await request(ws, 'GET', '/api/v1/users',
				    { headers: byToken });
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
	const learner = await signIn(ws, 'pia@example.org', 'lea-secret');
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
