/*
 * Course assignments as an admin makes them and learners see them on a
 * running workspace: a course assigned to a rule-based group reaches its
 * members with the due date, including a learner added from the command
 * line afterwards, and nobody else; a course assigned to one user by
 * email reaches that user; a learner reads an assigned course with its
 * lessons and their kinds, and gets the same 404 for a course not
 * assigned to them as for one that does not exist; bad input is refused
 * with 400 and stores nothing; learners may not assign (403) and
 * requests without credentials get 401.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, setupMother, addWorkspace, waitFor, HEX40,
} from './lib/harness.mjs';
import { request, assertError, addUser, signIn } from './lib/api.mjs';

const COURSE = 'hygiene-basics';

async function myCourses(ws, email) {
	const res = await request(ws, 'GET', '/api/v1/courses',
				  { headers: await signIn(ws, email) });
	assert.equal(res.status, 200, res.text);
	return res.json;
}

lmsTest('assign: groups and users get courses with due dates',
	async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	const held = await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'pia@example.org', 'learner',
		      { department: 'Pflege' });
	await addUser(ws, 'ian@example.org', 'learner', { department: 'IT' });
	const admin = await signIn(ws, 'ada@example.org');

	const group = await request(ws, 'POST', '/api/v1/groups', {
		headers: admin,
		json: { name: 'Pflege', rule: { department: 'Pflege' } } });
	assert.equal(group.status, 201, group.text);

	/* bad input: 400, and nothing is stored */
	const bad = [
		{ course: 'no-such-course', group: group.json.id,
		  due: '2027-03-01' },
		{ course: COURSE, group: 9999, due: '2027-03-01' },
		{ course: COURSE, user: 'nobody@example.org',
		  due: '2027-03-01' },
		{ course: COURSE, group: group.json.id,
		  user: 'pia@example.org', due: '2027-03-01' },
		{ course: COURSE, due: '2027-03-01' },
		{ course: COURSE, group: group.json.id, due: '2027-02-30' },
		{ course: COURSE, group: group.json.id, due: '1.3.2027' },
		'{"course": ',
	];
	for (const json of bad) {
		assertError(await request(ws, 'POST', '/api/v1/assignments',
					  { headers: admin, json }),
			    400, 'bad_request');
	}
	let list = await request(ws, 'GET', '/api/v1/assignments',
				 { headers: admin });
	assert.equal(list.status, 200, list.text);
	assert.deepEqual(list.json, []);

	/* a learner may not assign; no credentials at all is 401 */
	const pia = await signIn(ws, 'pia@example.org');
	const toGroup = { course: COURSE, group: group.json.id,
			  due: '2027-03-01' };
	assertError(await request(ws, 'POST', '/api/v1/assignments',
				  { headers: pia, json: toGroup }),
		    403, 'forbidden');
	assertError(await request(ws, 'GET', '/api/v1/assignments',
				  { headers: pia }), 403, 'forbidden');
	assertError(await request(ws, 'POST', '/api/v1/assignments',
				  { json: toGroup }), 401, 'unauthorized');
	assertError(await request(ws, 'GET', '/api/v1/courses'),
		    401, 'unauthorized');
	assert.deepEqual(await myCourses(ws, 'pia@example.org'), []);

	/* to the group */
	const made = await request(ws, 'POST', '/api/v1/assignments',
				   { headers: admin, json: toGroup });
	assert.equal(made.status, 201, made.text);
	assert.ok(Number.isInteger(made.json.id) && made.json.id > 0);
	assert.deepEqual(made.json, { id: made.json.id, course: COURSE,
				      group: group.json.id, user: null,
				      due: '2027-03-01', recur_months: null,
				      recur_on_expiry: false });

	const expected = (due) => [{
		id: COURSE, title: held.title, revision: held.revision, due,
		enrolled: false, progress: { percent: 0, completed: false },
	}];
	assert.match(held.revision, HEX40);
	assert.deepEqual(await myCourses(ws, 'pia@example.org'),
			 expected('2027-03-01'));
	assert.deepEqual(await myCourses(ws, 'ian@example.org'), []);
	assert.deepEqual(await myCourses(ws, 'ada@example.org'), []);

	/* a learner who matches the rule later has the course too */
	await addUser(ws, 'lea@example.org', 'learner',
		      { department: 'Pflege', location: 'Köln' });
	assert.deepEqual(await myCourses(ws, 'lea@example.org'),
			 expected('2027-03-01'));

	/* one course with its lessons, for those it is assigned to only */
	const one = await request(ws, 'GET', `/api/v1/courses/${COURSE}`,
				  { headers: pia });
	assert.equal(one.status, 200, one.text);
	const { lessons, changes, ...rest } = one.json;
	assert.deepEqual(rest, expected('2027-03-01')[0]);
	assert.deepEqual(changes, []);
	assert.deepEqual(lessons, [
		['haende', 'text'], ['schutzausruestung', 'text'],
		['flaechen', 'text'], ['waesche-abfall', 'text'],
		['wissenstest', 'quiz'],
	].map(([id, kind]) => ({ id, title: lessons.find(
		(l) => l.id === id)?.title, kind, completed: false,
		changed: false })));
	assert.equal(lessons[0].title, 'Händehygiene');
		const ian = await signIn(ws, 'ian@example.org');
	const hidden = await request(ws, 'GET', `/api/v1/courses/${COURSE}`,
				     { headers: ian });
	const missing = await request(ws, 'GET', '/api/v1/courses/no-such',
				      { headers: ian });
	assertError(hidden, 404, 'not_found');
	assertError(missing, 404, 'not_found');
	assert.equal(hidden.text, missing.text);
	assertError(await request(ws, 'GET', `/api/v1/courses/${COURSE}`),
		    401, 'unauthorized');

	/* directly to a user by email; the earliest due date counts */
	const direct = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin,
		json: { course: COURSE, user: 'IAN@example.org',
			due: '2027-06-30' } });
	assert.equal(direct.status, 201, direct.text);
	assert.equal(direct.json.group, null);
	assert.ok(Number.isInteger(direct.json.user));
	assert.deepEqual(await myCourses(ws, 'ian@example.org'),
			 expected('2027-06-30'));
	const earlier = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin,
		json: { course: COURSE, user: direct.json.user,
			due: '2027-01-15' } });
	assert.equal(earlier.status, 201, earlier.text);
	assert.deepEqual(await myCourses(ws, 'ian@example.org'),
			 expected('2027-01-15'));
	assert.deepEqual(await myCourses(ws, 'pia@example.org'),
			 expected('2027-03-01'));

	list = await request(ws, 'GET', '/api/v1/assignments',
			     { headers: admin });
	assert.equal(list.status, 200, list.text);
	assert.deepEqual(list.json.map((a) => a.id),
			 [made.json.id, direct.json.id, earlier.json.id]);
	assert.deepEqual(list.json[1], direct.json);
});
