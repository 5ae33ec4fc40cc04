/*
 * Changing and deleting assignments on a running workspace
 * (PATCH and DELETE /api/v1/assignments/{id}): a new due date shows at
 * once in the learner's GET /api/v1/courses; a bad date or body is 400
 * and changes nothing; deleting the group's assignment leaves a learner
 * the course of a direct assignment (with its date), deleting that too
 * removes the course from their list. Learners get 403; a manager may
 * change an assignment of a group within their groups, but gets 403
 * for one outside them (and for an unknown id, which an admin gets as
 * 404); other methods get 405 with Allow; a cookie write without the
 * CSRF token is 403 and no credentials 401.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, setupMother, addWorkspace, waitFor,
} from './lib/harness.mjs';
import { request, assertError, addUser, signIn } from './lib/api.mjs';

const COURSE = 'hygiene-basics';

/* The learner's courses as [[id, due]]. */
async function dues(ws, headers) {
	const res = await request(ws, 'GET', '/api/v1/courses', { headers });
	assert.equal(res.status, 200, res.text);
	return res.json.map((c) => [c.id, c.due]);
}

async function assignments(ws, headers) {
	const res = await request(ws, 'GET', '/api/v1/assignments',
				  { headers });
	assert.equal(res.status, 200, res.text);
	return res.json;
}

async function post(ws, headers, path, json, status = 201) {
	const res = await request(ws, 'POST', path, { headers, json });
	assert.equal(res.status, status, res.text);
	return res.json;
}

lmsTest('assign2: change the due date, delete, scope', async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'max@example.org', 'manager', { department: 'IT' });
	await addUser(ws, 'pia@example.org', 'learner',
		      { department: 'Pflege' });
	await addUser(ws, 'ian@example.org', 'learner', { department: 'IT' });
	const admin = await signIn(ws, 'ada@example.org');
	const max = await signIn(ws, 'max@example.org');
	const pia = await signIn(ws, 'pia@example.org');
	const ian = await signIn(ws, 'ian@example.org');

	const care = await post(ws, admin, '/api/v1/groups',
				{ name: 'Pflege',
				  rule: { department: 'Pflege' } });
	const it = await post(ws, admin, '/api/v1/groups',
			      { name: 'IT', rule: { department: 'IT' } });
	const toCare = await post(ws, admin, '/api/v1/assignments',
				  { course: COURSE, group: care.id,
				    due: '2027-03-01' });
	const toPia = await post(ws, admin, '/api/v1/assignments',
				 { course: COURSE, user: 'pia@example.org',
				   due: '2027-09-30' });
	const toIt = await post(ws, admin, '/api/v1/assignments',
				{ course: COURSE, group: it.id,
				  due: '2027-05-01' });
	assert.deepEqual(await dues(ws, pia), [[COURSE, '2027-03-01']]);
	assert.deepEqual(await dues(ws, ian), [[COURSE, '2027-05-01']]);
	const path = (a) => `/api/v1/assignments/${a.id}`;

	/* the admin moves the group's date: the learner sees it at once */
	let res = await request(ws, 'PATCH', path(toCare), {
		headers: admin, json: { due: '2027-02-15' } });
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(res.json, { ...toCare, due: '2027-02-15' });
	assert.deepEqual(await dues(ws, pia), [[COURSE, '2027-02-15']]);

	/* bad dates and bodies: 400, nothing changed */
	const before = await assignments(ws, admin);
	for (const json of [{ due: '2027-02-30' }, { due: '15.02.2027' },
			    { due: null }, {}, { due: '2027-04-01',
						 course: COURSE },
			    { due: '2027-04-01', group: it.id }, [],
			    '{"due": ']) {
		assertError(await request(ws, 'PATCH', path(toCare), {
			headers: admin, json }), 400, 'bad_request');
	}
	assert.deepEqual(await assignments(ws, admin), before);
	assert.deepEqual(await dues(ws, pia), [[COURSE, '2027-02-15']]);

	/* learners may not; no CSRF token, no credentials */
	assertError(await request(ws, 'PATCH', path(toCare), {
		headers: pia, json: { due: '2027-01-01' } }), 403, 'forbidden');
	assertError(await request(ws, 'DELETE', path(toPia),
				  { headers: pia }), 403, 'forbidden');
	assertError(await request(ws, 'PATCH', path(toCare), {
		headers: { Cookie: admin.Cookie },
		json: { due: '2027-01-01' } }), 403, 'forbidden');
	assertError(await request(ws, 'DELETE', path(toCare)),
		    401, 'unauthorized');

	/* a manager: their own group's assignment yes, another group's no,
	 * an unknown id looks like one out of scope */
	res = await request(ws, 'PATCH', path(toIt), {
		headers: max, json: { due: '2027-06-01' } });
	assert.equal(res.status, 200, res.text);
	assert.equal(res.json.due, '2027-06-01');
	assert.deepEqual(await dues(ws, ian), [[COURSE, '2027-06-01']]);
	assertError(await request(ws, 'PATCH', path(toCare), {
		headers: max, json: { due: '2027-01-01' } }), 403, 'forbidden');
	assertError(await request(ws, 'DELETE', path(toPia),
				  { headers: max }), 403, 'forbidden');
	assertError(await request(ws, 'PATCH', '/api/v1/assignments/9999', {
		headers: max, json: { due: '2027-01-01' } }), 403, 'forbidden');
	assert.deepEqual(await dues(ws, pia), [[COURSE, '2027-02-15']]);
	assert.equal((await assignments(ws, admin)).length, 3);

	/* unknown ids and methods */
	assertError(await request(ws, 'PATCH', '/api/v1/assignments/9999', {
		headers: admin, json: { due: '2027-01-01' } }),
		    404, 'not_found');
	assertError(await request(ws, 'DELETE', '/api/v1/assignments/9999',
				  { headers: admin }), 404, 'not_found');
	res = await request(ws, 'GET', path(toCare), { headers: admin });
	assertError(res, 405, 'method_not_allowed');
	assert.equal(res.headers.get('allow'), 'PATCH, DELETE');
	assertError(await request(ws, 'DELETE', '/api/v1/assignments/01',
				  { headers: admin }), 404, 'not_found');

	/* deleting the group's assignment: Pia keeps her direct one */
	res = await request(ws, 'DELETE', path(toCare), { headers: admin });
	assert.equal(res.status, 204, res.text);
	assert.equal(res.text, '');
	assert.deepEqual(await dues(ws, pia), [[COURSE, '2027-09-30']]);
	assertError(await request(ws, 'DELETE', path(toCare),
				  { headers: admin }), 404, 'not_found');

	/* and the last one: the course is gone from her list */
	res = await request(ws, 'DELETE', path(toPia), { headers: admin });
	assert.equal(res.status, 204, res.text);
	assert.deepEqual(await dues(ws, pia), []);
	const one = await request(ws, 'GET', `/api/v1/courses/${COURSE}`,
				  { headers: pia });
	assertError(one, 404, 'not_found');

	/* the manager deletes the assignment of their own group */
	res = await request(ws, 'DELETE', path(toIt), { headers: max });
	assert.equal(res.status, 204, res.text);
	assert.deepEqual(await dues(ws, ian), []);
	assert.deepEqual(await assignments(ws, admin), []);
});
