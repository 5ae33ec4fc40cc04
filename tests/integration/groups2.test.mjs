/*
 * Changing groups against a running workspace: GET /api/v1/groups/{id}
 * with its members, PATCH of the name, the rule and the parent (members
 * move at once, also in the groups below; a cycle is 400 and changes
 * nothing), DELETE (subgroups move up), and members added and removed by
 * hand (a member by the rule cannot be removed: 409). Admins write;
 * managers read the groups in their scope; learners get 403 and
 * requests without credentials 401.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, setupMother, addWorkspace,
} from './lib/harness.mjs';
import {
	request, assertError, addUser, bearer, signIn,
} from './lib/api.mjs';

/* The group as GET answers it; its members as "email" or "email*" (by
 * hand). */
async function getGroup(ws, auth, id) {
	const res = await request(ws, 'GET', `/api/v1/groups/${id}`,
				  { headers: auth });
	assert.equal(res.status, 200, res.text);
	return res.json;
}

async function members(ws, auth, id) {
	const g = await getGroup(ws, auth, id);

	assert.equal(g.member_count, g.members.length);
	return g.members.map((m) => m.email.split('@')[0] +
			     (m.from_rule ? '' : '*'));
}

async function createGroup(ws, auth, body) {
	const res = await request(ws, 'POST', '/api/v1/groups',
				  { headers: auth, json: body });
	assert.equal(res.status, 201, res.text);
	return res.json.id;
}

async function patch(ws, auth, id, body) {
	return request(ws, 'PATCH', `/api/v1/groups/${id}`,
		       { headers: auth, json: body });
}

lmsTest('groups: rules and parents change, members move at once',
	async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	await addUser(ws, 'ada@example.org', 'admin');
	const pia = await addUser(ws, 'pia@example.org', 'learner',
				  { department: 'Pflege', location: 'Köln',
				    ward: '3' }, { password: null });
	await addUser(ws, 'bob@example.org', 'learner',
		      { department: 'IT', location: 'Köln' },
		      { password: null });
	await addUser(ws, 'cy@example.org', 'learner',
		      { department: 'Pflege', location: 'Bonn', ward: '3' },
		      { password: null });
	const admin = await signIn(ws, 'ada@example.org');

	const koeln = await createGroup(ws, admin, {
		name: 'Köln', rule: { location: 'Köln' } });
	const pflege = await createGroup(ws, admin, {
		name: 'Pflege', rule: { department: 'Pflege' } });
	const ward = await createGroup(ws, admin, {
		name: 'Station 3', parent: pflege, rule: { ward: '3' } });

	/* the whole group with its members */
	const g = await getGroup(ws, admin, pflege);
	assert.deepEqual(Object.keys(g).sort(), ['id', 'member_count',
		'members', 'name', 'parent', 'rule']);
	assert.deepEqual([g.id, g.name, g.parent, g.rule, g.member_count],
			 [pflege, 'Pflege', null, { department: 'Pflege' }, 2]);
	assert.deepEqual(g.members[0], { id: pia, email: 'pia@example.org',
					 name: 'pia@example.org',
					 from_rule: true });
	assert.deepEqual(await members(ws, admin, ward), ['pia', 'cy']);

	/* a new rule: the group and the one below follow at once */
	let res = await patch(ws, admin, pflege,
			      { name: 'Köln-Süd', rule: { department: 'IT' } });
	assert.equal(res.status, 200, res.text);
	assert.equal(res.json.name, 'Köln-Süd');
	assert.deepEqual(res.json.rule, { department: 'IT' });
	assert.deepEqual(res.json.members.map((m) => m.email),
			 ['bob@example.org']);
	assert.deepEqual(await members(ws, admin, ward), []);
	res = await patch(ws, admin, pflege, { rule: { department: 'Pflege' },
					       name: 'Pflege' });
	assert.equal(res.status, 200, res.text);

	/* a new parent: Pflege under Köln keeps only the people of Köln,
	 * and so does the ward below it; the list shows the tree */
	res = await patch(ws, admin, pflege, { parent: koeln });
	assert.equal(res.status, 200, res.text);
	assert.equal(res.json.parent, koeln);
	assert.deepEqual(await members(ws, admin, pflege), ['pia']);
	assert.deepEqual(await members(ws, admin, ward), ['pia']);
	const list = await request(ws, 'GET', '/api/v1/groups',
				   { headers: admin });
	assert.deepEqual(list.json.map((x) => [x.id, x.parent,
					       x.member_count]),
			 [[koeln, null, 2], [pflege, koeln, 1],
			  [ward, pflege, 1]]);

	/* a cycle is refused and changes nothing */
	for (const parent of [koeln, ward]) {
		res = await patch(ws, admin, koeln, { parent, name: 'X' });
		assertError(res, 400, 'bad_request');
		assert.match(res.json.error.message, /cycle/);
	}
	assertError(await patch(ws, admin, koeln, { parent: 999 }),
		    400, 'bad_request');
	assertError(await patch(ws, admin, koeln, { rule: ['x'] }),
		    400, 'bad_request');
	assertError(await patch(ws, admin, koeln, '{"name":'), 400,
		    'bad_request');
	assert.equal((await getGroup(ws, admin, koeln)).name, 'Köln');
	assert.equal((await getGroup(ws, admin, koeln)).parent, null);

	/* to the top again */
	res = await patch(ws, admin, pflege, { parent: null });
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(await members(ws, admin, ward), ['pia', 'cy']);

	/* deleting: the subgroups move up and lose the deleted rule */
	res = await request(ws, 'DELETE', `/api/v1/groups/${pflege}`,
			    { headers: admin });
	assert.equal(res.status, 204, res.text);
	assertError(await request(ws, 'GET', `/api/v1/groups/${pflege}`,
				  { headers: admin }), 404, 'not_found');
	assertError(await request(ws, 'DELETE', `/api/v1/groups/${pflege}`,
				  { headers: admin }), 404, 'not_found');
	assert.equal((await getGroup(ws, admin, ward)).parent, null);
	assert.deepEqual(await members(ws, admin, ward), ['pia', 'cy']);
	await addUser(ws, 'dee@example.org', 'learner', { ward: '3' },
		      { password: null });
	assert.deepEqual(await members(ws, admin, ward),
			 ['pia', 'cy', 'dee']);

	/* other methods */
	res = await request(ws, 'PUT', `/api/v1/groups/${koeln}`,
			    { headers: admin, json: {} });
	assertError(res, 405, 'method_not_allowed');
	assert.equal(res.headers.get('allow'), 'GET, PATCH, DELETE');
});

lmsTest('groups: members by hand, who may do what', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	await addUser(ws, 'ada@example.org', 'admin');
	const mia = await addUser(ws, 'mia@example.org', 'manager',
				  { location: 'Köln' },
				  { password: 'manager-secret' });
	const pia = await addUser(ws, 'pia@example.org', 'learner',
				  { department: 'Pflege', location: 'Köln' },
				  { password: 'learner-secret' });
	const bob = await addUser(ws, 'bob@example.org', 'learner',
				  { department: 'IT', location: 'Bonn' },
				  { password: null });
	const admin = await signIn(ws, 'ada@example.org');
	const byToken = await bearer(ws, 'ada@example.org');

	const koeln = await createGroup(ws, admin, {
		name: 'Köln', rule: { location: 'Köln' } });
	const pflege = await createGroup(ws, admin, {
		name: 'Pflege', parent: koeln,
		rule: { department: 'Pflege' } });
	const team = await createGroup(ws, admin, { name: 'Projekt' });

	/* by hand, by id or by email; a second time is 200 */
	let res = await request(ws, 'POST', `/api/v1/groups/${team}/members`,
				{ headers: admin, json: { user: bob } });
	assert.equal(res.status, 201, res.text);
	assert.deepEqual(res.json, { id: bob, email: 'bob@example.org',
				     name: 'bob@example.org',
				     from_rule: false });
	res = await request(ws, 'POST', `/api/v1/groups/${team}/members`,
			    { headers: byToken,
			      json: { user: 'BOB@example.org' } });
	assert.equal(res.status, 200, res.text);
	res = await request(ws, 'POST', `/api/v1/groups/${koeln}/members`,
			    { headers: admin, json: { user: bob } });
	assert.equal(res.status, 201, res.text);
	assert.deepEqual(await members(ws, admin, koeln),
			 ['mia', 'pia', 'bob*']);

	/* the members list (the older path) shows the kind too */
	res = await request(ws, 'GET', `/api/v1/groups/${koeln}/members`,
			    { headers: admin });
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(res.json.map((m) => [m.id, m.from_rule]),
			 [[mia, true], [pia, true], [bob, false]]);

	/* a hand member stays when the rule changes */
	res = await patch(ws, admin, koeln, { rule: { location: 'Bonn' } });
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(await members(ws, admin, koeln), ['bob*']);
	res = await patch(ws, admin, koeln, { rule: { location: 'Köln' } });
	assert.equal(res.status, 200, res.text);

	/* a member by the rule cannot be removed by hand */
	res = await request(ws, 'DELETE',
			    `/api/v1/groups/${koeln}/members/${pia}`,
			    { headers: admin });
	assertError(res, 409, 'conflict');
	assert.match(res.json.error.message, /rule/);
	res = await request(ws, 'DELETE',
			    `/api/v1/groups/${koeln}/members/${bob}`,
			    { headers: admin });
	assert.equal(res.status, 204, res.text);
	assert.deepEqual(await members(ws, admin, koeln), ['mia', 'pia']);
	assertError(await request(ws, 'DELETE',
				  `/api/v1/groups/${koeln}/members/${bob}`,
				  { headers: admin }), 404, 'not_found');

	/* bad requests */
	for (const json of [{ user: 999 }, { user: 'nobody@example.org' },
			    { user: true }, {}, '[1']) {
		res = await request(ws, 'POST',
				    `/api/v1/groups/${team}/members`,
				    { headers: admin, json });
		assertError(res, 400, 'bad_request');
	}
	assertError(await request(ws, 'POST', '/api/v1/groups/999/members',
				  { headers: admin, json: { user: bob } }),
		    404, 'not_found');
	assertError(await request(ws, 'DELETE',
				  `/api/v1/groups/999/members/${bob}`,
				  { headers: admin }), 404, 'not_found');
	res = await request(ws, 'PATCH', `/api/v1/groups/${team}/members`,
			    { headers: admin, json: {} });
	assertError(res, 405, 'method_not_allowed');
	assert.equal(res.headers.get('allow'), 'GET, POST');

	/* a manager reads the groups in reach (Köln and Pflege below it),
	 * not the others, and changes nothing */
	const manager = await signIn(ws, 'mia@example.org', 'manager-secret');
	assert.deepEqual(await members(ws, manager, pflege), ['pia']);
	assert.equal((await getGroup(ws, manager, koeln)).name, 'Köln');
	res = await request(ws, 'GET', `/api/v1/groups/${koeln}/members`,
			    { headers: manager });
	assert.equal(res.status, 200, res.text);
	assertError(await request(ws, 'GET', `/api/v1/groups/${team}`,
				  { headers: manager }), 403, 'forbidden');
	assertError(await request(ws, 'GET',
				  `/api/v1/groups/${team}/members`,
				  { headers: manager }), 403, 'forbidden');
	assertError(await patch(ws, manager, koeln, { name: 'Mine' }),
		    403, 'forbidden');
	assertError(await request(ws, 'POST',
				  `/api/v1/groups/${koeln}/members`,
				  { headers: manager, json: { user: bob } }),
		    403, 'forbidden');
	assertError(await request(ws, 'DELETE', `/api/v1/groups/${team}`,
				  { headers: manager }), 403, 'forbidden');

	/* learners and strangers */
	const learner = await signIn(ws, 'pia@example.org', 'learner-secret');
	assertError(await request(ws, 'GET', `/api/v1/groups/${koeln}`,
				  { headers: learner }), 403, 'forbidden');
	assertError(await request(ws, 'GET', `/api/v1/groups/${koeln}`),
		    401, 'unauthorized');
	assertError(await request(ws, 'DELETE', `/api/v1/groups/${team}`),
		    401, 'unauthorized');
	/* a cookie without the CSRF token does not write */
	assertError(await request(ws, 'DELETE', `/api/v1/groups/${team}`,
				  { headers: { Cookie: admin.Cookie } }),
		    403, 'forbidden');
	assert.equal((await getGroup(ws, admin, team)).name, 'Projekt');
	assert.equal((await getGroup(ws, admin, koeln)).name, 'Köln');
});
