/*
 * A learner working through an assigned course on a running workspace:
 * a text lesson arrives as safe HTML, completing it raises the course's
 * progress (idempotently), the quiz arrives without its answers and is
 * graded on the server (a wrong attempt fails, a right one passes and
 * completes it), and with every lesson done the course is completed at
 * 100 percent. A learner without the assignment gets 404, cookie writes
 * without the CSRF token 403, and a quiz cannot be completed directly.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	lmsTest, setupMother, addWorkspace, waitFor, SAMPLE_DIR,
} from './lib/harness.mjs';
import { request, assertErrorCode, addUser, signIn } from './lib/api.mjs';

const COURSE = 'hygiene-basics';
const BASE = `/api/v1/courses/${COURSE}`;

/* True when key appears anywhere in v. */
function hasKey(v, key) {
	if (Array.isArray(v))
		return v.some((e) => hasKey(e, key));
	if (v && typeof v === 'object')
		return Object.entries(v).some(([k, e]) => k === key ||
					      hasKey(e, key));
	return false;
}

async function progress(ws, headers) {
	const list = await request(ws, 'GET', '/api/v1/courses', { headers });
	assert.equal(list.status, 200, list.text);
	const one = await request(ws, 'GET', BASE, { headers });
	assert.equal(one.status, 200, one.text);
	assert.deepEqual(list.json[0].progress, one.json.progress);
	return one.json;
}

lmsTest('learn: lessons, completions and quiz attempts', async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'pia@example.org', 'learner');
	await addUser(ws, 'ian@example.org', 'learner');
	const admin = await signIn(ws, 'ada@example.org');
	const made = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin,
		json: { course: COURSE, user: 'pia@example.org',
			due: '2027-03-01' } });
	assert.equal(made.status, 201, made.text);
	const pia = await signIn(ws, 'pia@example.org');
	const ian = await signIn(ws, 'ian@example.org');

	let course = await progress(ws, pia);
	assert.deepEqual(course.progress, { percent: 0, completed: false });
	const ids = course.lessons.map((l) => l.id);

	/* a text lesson as safe HTML */
	const text = await request(ws, 'GET', `${BASE}/lessons/haende`,
				   { headers: pia });
	assert.equal(text.status, 200, text.text);
	assert.equal(text.json.id, 'haende');
	assert.equal(text.json.kind, 'text');
	assert.equal(text.json.title, 'Händehygiene');
	assert.match(text.json.html, /<h[1-6]>/);
	assert.doesNotMatch(text.json.html, /<script/i);

	/* not assigned, unknown lesson, unknown course: the same 404 */
	const hidden = await request(ws, 'GET', `${BASE}/lessons/haende`,
				     { headers: ian });
	assertErrorCode(hidden, 404, 'not_found');
	assertErrorCode(await request(ws, 'POST',
				      `${BASE}/lessons/haende/complete`,
				      { headers: ian }), 404, 'not_found');
	const unknown = await request(ws, 'GET', `${BASE}/lessons/nope`,
				      { headers: pia });
	assertErrorCode(unknown, 404, 'not_found');
	assert.equal(hidden.text, unknown.text);
	assertErrorCode(await request(ws, 'GET',
				      '/api/v1/courses/no-such/lessons/haende',
				      { headers: pia }), 404, 'not_found');
	assertErrorCode(await request(ws, 'GET', `${BASE}/lessons/haende`),
			401, 'unauthorized');

	/* cookie writes need the CSRF token */
	assertErrorCode(await request(ws, 'POST',
				      `${BASE}/lessons/haende/complete`,
				      { headers: { Cookie: pia.Cookie } }),
			403, 'forbidden');
	course = await progress(ws, pia);
	assert.equal(course.progress.percent, 0);

	/* completing raises the progress, twice counts once */
	for (let i = 0; i < 2; i++) {
		const done = await request(ws, 'POST',
					   `${BASE}/lessons/haende/complete`,
					   { headers: pia });
		assert.equal(done.status, 200, done.text);
	}
	course = await progress(ws, pia);
	assert.deepEqual(course.progress, { percent: 20, completed: false });
	assert.deepEqual(course.lessons.filter((l) => l.completed)
			 .map((l) => l.id), ['haende']);

	/* the quiz, without answers; completed only by passing */
	const quiz = await request(ws, 'GET', `${BASE}/lessons/wissenstest`,
				   { headers: pia });
	assert.equal(quiz.status, 200, quiz.text);
	assert.equal(quiz.json.kind, 'quiz');
	assert.equal(quiz.json.pass_percent, 80);
	assert.equal(quiz.json.questions.length, 5);
	assert.ok(!hasKey(quiz.json, 'answer'), quiz.text);
	assert.doesNotMatch(quiz.text, /answer/);
	for (const q of quiz.json.questions)
		assert.deepEqual(Object.keys(q).sort(),
				 ['choices', 'id', 'text']);
	assertErrorCode(await request(ws, 'POST',
				      `${BASE}/lessons/wissenstest/complete`,
				      { headers: pia }), 409, 'conflict');

	/* bad attempts: 400 */
	const attempts = `${BASE}/lessons/wissenstest/attempts`;
	assertErrorCode(await request(ws, 'POST', attempts,
				      { headers: pia, json: '{"answers": ' }),
			400, 'bad_request');
	assertErrorCode(await request(ws, 'POST', attempts,
				      { headers: pia, json: { answers: [] } }),
			400, 'bad_request');
	assertErrorCode(await request(ws, 'POST',
				      `${BASE}/lessons/haende/attempts`,
				      { headers: pia, json: { answers: {} } }),
			400, 'bad_request');

	const file = path.join(SAMPLE_DIR, COURSE, 'quizzes',
			       'wissenstest.json');
	const truth = JSON.parse(fs.readFileSync(file, 'utf8'));
	const right = Object.fromEntries(truth.questions.map(
		(q) => [q.id, q.answer]));

	/* two of five right: 40, failed; the quiz is not done */
	const wrong = { ...right };
	for (const q of truth.questions.slice(0, 3))
		wrong[q.id] = q.answer.length > 1 ? [q.answer[0]] :
			[(q.answer[0] + 1) % q.choices.length];
	let r = await request(ws, 'POST', attempts,
			      { headers: pia, json: { answers: wrong } });
	assert.equal(r.status, 200, r.text);
	assert.deepEqual(r.json, { score: 40, passed: false });
	course = await progress(ws, pia);
	assert.equal(course.progress.percent, 20);

	/* the answers in another order still count as right */
	const shuffled = Object.fromEntries(Object.entries(right).map(
		([k, v]) => [k, [...v].reverse()]));
	r = await request(ws, 'POST', attempts,
			  { headers: pia, json: { answers: shuffled } });
	assert.equal(r.status, 200, r.text);
	assert.deepEqual(r.json, { score: 100, passed: true });
	course = await progress(ws, pia);
	assert.deepEqual(course.progress, { percent: 40, completed: false });

	for (const id of ids.filter((l) => l !== 'wissenstest')) {
		r = await request(ws, 'POST', `${BASE}/lessons/${id}/complete`,
				  { headers: pia });
		assert.equal(r.status, 200, r.text);
	}
	course = await progress(ws, pia);
	assert.deepEqual(course.progress, { percent: 100, completed: true });
	assert.ok(course.lessons.every((l) => l.completed));

	/* the other learner's progress is untouched */
	const other = await request(ws, 'GET', '/api/v1/courses',
				    { headers: ian });
	assert.deepEqual(other.json, []);
});
