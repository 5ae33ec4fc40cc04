/*
 * The system under the browser tests: a real mother and workspace started
 * with the integration harness, a small course of our own, people added
 * from the workspace's command line, and a few JSON API calls that set a
 * scene quickly or confirm what a page did. Everything a test shows in
 * the browser goes through the web app; this file only prepares and
 * checks.
 *
 *   const sys = await startSystem();         // mother, workspace, course
 *   await addUser(sys.ws, 'pia@example.org', { attrs: {...} });
 *   const api = await apiLogin(sys.ws, 'ada@example.org');
 *   const res = await api.get('/api/v1/groups');
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	setupMother, addWorkspace, waitFor, writeCourse,
} from '../../integration/lib/harness.mjs';
import {
	request as apiRequest, addUser as addPerson, signIn, PASSWORD,
} from '../../integration/lib/api.mjs';

/* The test password, and apiRequest(): request() of the integration
 * tests' lib/api.mjs. */
export { apiRequest, PASSWORD };
export const WAIT = 30000;	/* ms, the longest any single wait lasts */

/* The course every test uses: two text lessons and a one-question quiz
 * (pass mark 50 %, right answer "yes"). */
export const COURSE = {
	id: 'safe-lifting',
	title: 'Safe lifting',
	lessons: ['Lesson 1', 'Lesson 2'],
	quiz: 'Check',
	question: 'Is this a test?',
	right: 'yes',
	wrong: 'no',
};

/*
 * A long unbroken link and a wide code line in the first lesson, as real
 * lessons have them: a narrow screen must still not scroll sideways.
 */
const WIDE_TEXT = '\nSee https://example.org/' + 'a-very-long-path/'.repeat(8) +
	'end for the details.\n\n' +
	'```\n' + 'lift --knees --back-straight --load=20kg '.repeat(4) +
	'\n```\n';

/*
 * Starts a mother serving the test course and a workspace licensed for
 * it, and waits until the workspace holds it. Resolves to { mother, ws,
 * dir (the course's source directory, to edit and publish again),
 * revision }.
 */
export async function startSystem(options = {}) {
	const mother = await setupMother();
	const dir = writeCourse({ id: COURSE.id, title: COURSE.title,
				  lessons: COURSE.lessons.length,
				  text: WIDE_TEXT });
	const revision = await mother.publish(dir, 'First version');
	const ws = await addWorkspace(mother, options.tenant ?? 'acme',
				      [COURSE.id], options.workspace);

	await ws.waitRevision(COURSE.id, revision, WAIT);
	return { mother, ws, dir, revision };
}

/*
 * Changes the text of lesson n (1-based) of the course in dir, publishes
 * it through the mother with message and waits until the workspace holds
 * the new revision; resolves to it.
 */
export async function publishLessonChange(sys, n, message) {
	const file = path.join(sys.dir, 'lessons', `lesson-${n}.md`);
	const subject = message.split('\n')[0];

	fs.appendFileSync(file, `\nA new paragraph: ${subject}.\n`);
	const rev = await sys.mother.publish(sys.dir, message);
	await sys.ws.waitRevision(COURSE.id, rev, WAIT);
	return rev;
}

/*
 * Adds a person from the command line with the test password. options:
 * name (default the email), role (default learner), attrs ({k: v}).
 * Resolves to the new user's id.
 */
export function addUser(ws, email, options = {}) {
	return addPerson(ws, email, options.role, options.attrs,
			 { name: options.name });
}

/*
 * A JSON API client signed in as email: get(path), post(path, json),
 * put(path, json), send(method, path, options); each resolves to
 * { status, text, json } (and the rest of what apiRequest() gives).
 */
export async function apiLogin(ws, email) {
	const headers = await signIn(ws, email);
	const send = (method, p, options = {}) => apiRequest(ws, method, p, {
		...options, headers: { ...headers, ...options.headers } });

	return {
		send,
		get: (p) => send('GET', p),
		post: (p, json) => send('POST', p, { json }),
		put: (p, json) => send('PUT', p, { json }),
	};
}

/* GET that must answer 200; resolves to the JSON. */
export async function apiGet(api, p) {
	const res = await api.get(p);

	assert.equal(res.status, 200, `GET ${p}: ${res.text}`);
	return res.json;
}

/*
 * Sets a scene through the API: a group of everyone with department d
 * and the course assigned to it, due on due. Resolves to the group id.
 */
export async function assignToDepartment(api, department, due) {
	const g = await api.post('/api/v1/groups', {
		name: department, rule: { department } });
	assert.equal(g.status, 201, g.text);
	const a = await api.post('/api/v1/assignments', {
		course: COURSE.id, group: g.json.id, due });
	assert.equal(a.status, 201, a.text);
	return g.json.id;
}

/* The learner's progress in the course through the API: {percent,
 * completed} and the lessons. */
export async function courseState(api) {
	return apiGet(api, `/api/v1/courses/${COURSE.id}`);
}

/* Waits until fn(api) is truthy, for checks of what a page stored. */
export function apiWaitFor(fn, what) {
	return waitFor(fn, WAIT, { what, interval: 250 });
}
