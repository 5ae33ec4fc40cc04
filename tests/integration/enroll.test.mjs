/*
 * Self-enrollment on a running workspace: the catalog tells whether each
 * course is open, with its summary and duration; only an admin opens or
 * closes a course; a learner enrolls in an open course (201, then 200 for
 * a repeat) and has it among their courses without a due date, can read
 * its lessons and make progress; a closed course refuses enrollment
 * (403) but keeps those who enrolled.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, setupMother, addWorkspace, waitFor,
} from './lib/harness.mjs';
import { request, assertErrorCode, addUser, signIn } from './lib/api.mjs';

const COURSE = 'hygiene-basics';
const OTHER = 'data-protection-basics';

async function entry(ws, id) {
	const r = await request(ws, 'GET', '/api/v1/catalog');
	assert.equal(r.status, 200, r.text);
	return r.json.find((c) => c.id === id);
}

const OPEN = (id) => `/api/v1/catalog/${id}/open`;
const ENROLL = (id) => `/api/v1/courses/${id}/enroll`;

lmsTest('enroll: open courses, self-enrollment, closing', async () => {
	const m = await setupMother({ courses: [COURSE, OTHER] });
	const ws = await addWorkspace(m, 'acme', 'all');
	await waitFor(async () => (await ws.catalog()).length === 2,
		      undefined, { what: 'both courses' });
	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'pia@example.org', 'learner');
	await addUser(ws, 'ian@example.org', 'learner');
	const ada = await signIn(ws, 'ada@example.org');
	const pia = await signIn(ws, 'pia@example.org');
	const ian = await signIn(ws, 'ian@example.org');

	/* the catalog: closed at first, with summary and duration */
	let e = await entry(ws, COURSE);
	assert.equal(e.open, false);
	assert.equal(e.duration_minutes, 45);
	assert.match(e.summary, /Hygieneunterweisung/);
	assert.deepEqual(Object.keys(e).sort(), ['duration_minutes', 'id',
		'open', 'origin', 'revision', 'summary', 'title']);

	/* not open: 403, and nothing listed */
	assertErrorCode(await request(ws, 'POST', ENROLL(COURSE),
				      { headers: pia }), 403, 'forbidden');
	assert.deepEqual((await request(ws, 'GET', '/api/v1/courses',
					{ headers: pia })).json, []);
	assertErrorCode(await request(ws, 'POST', ENROLL(COURSE)), 401,
			'unauthorized');
	assertErrorCode(await request(ws, 'POST', ENROLL('no-such'),
				      { headers: pia }), 404, 'not_found');

	/* only an admin opens a course */
	assertErrorCode(await request(ws, 'PUT', OPEN(COURSE),
				      { headers: pia, json: { open: true } }),
			403, 'forbidden');
	assertErrorCode(await request(ws, 'PUT', OPEN(COURSE),
				      { headers: ada, json: { open: 'yes' } }),
			400, 'bad_request');
	assertErrorCode(await request(ws, 'PUT', OPEN('no-such'),
				      { headers: ada, json: { open: true } }),
			404, 'not_found');
	assertErrorCode(await request(ws, 'GET', OPEN(COURSE),
				      { headers: ada }),
			405, 'method_not_allowed');
	const opened = await request(ws, 'PUT', OPEN(COURSE),
				     { headers: ada, json: { open: true } });
	assert.equal(opened.status, 200, opened.text);
	assert.deepEqual(opened.json, { ...e, open: true });
	assert.equal((await entry(ws, COURSE)).open, true);
	assert.equal((await entry(ws, OTHER)).open, false);

	/* enroll: 201, then 200; listed without a due date */
	const made = await request(ws, 'POST', ENROLL(COURSE),
				   { headers: pia });
	assert.equal(made.status, 201, made.text);
	assert.equal(made.json.id, COURSE);
	assert.equal(made.json.enrolled, true);
	const again = await request(ws, 'POST', ENROLL(COURSE),
				    { headers: pia });
	assert.equal(again.status, 200, again.text);
	let mine = await request(ws, 'GET', '/api/v1/courses',
				 { headers: pia });
	assert.deepEqual(mine.json.map((c) => [c.id, c.due, c.enrolled]),
			 [[COURSE, null, true]]);
	assertErrorCode(await request(ws, 'POST', ENROLL(OTHER),
				      { headers: pia }), 403, 'forbidden');

	/* the enrolled course can be taken */
	const lesson = await request(ws, 'GET', `/api/v1/courses/${COURSE}/` +
				     'lessons/haende', { headers: pia });
	assert.equal(lesson.status, 200, lesson.text);
	const done = await request(ws, 'POST', `/api/v1/courses/${COURSE}/` +
				   'lessons/haende/complete',
				   { headers: pia });
	assert.equal(done.status, 200, done.text);
	const one = await request(ws, 'GET', `/api/v1/courses/${COURSE}`,
				  { headers: pia });
	assert.equal(one.status, 200, one.text);
	assert.equal(one.json.due, null);
	assert.equal(one.json.progress.percent, 20);

	/* closed: pia keeps it, ian cannot enroll any more */
	const closed = await request(ws, 'PUT', OPEN(COURSE),
				     { headers: ada, json: { open: false } });
	assert.equal(closed.status, 200, closed.text);
	assert.equal(closed.json.open, false);
	assertErrorCode(await request(ws, 'POST', ENROLL(COURSE),
				      { headers: ian }), 403, 'forbidden');
	assert.equal((await request(ws, 'POST', ENROLL(COURSE),
				    { headers: pia })).status, 200);
	mine = await request(ws, 'GET', '/api/v1/courses', { headers: pia });
	assert.deepEqual(mine.json.map((c) => [c.id, c.due, c.enrolled]),
			 [[COURSE, null, true]]);
	assert.deepEqual((await request(ws, 'GET', '/api/v1/courses',
					{ headers: ian })).json, []);
});
