/*
 * Progress across course revisions on a running workspace (DESIGN.md
 * section 5): the mother publishes revisions of a course a learner is
 * working through. A revision that changes a lesson keeps the learner's
 * progress and marks the lesson "changed"; one whose commit message has
 * the trailer "Retrain: yes" makes the learner redo the lessons it
 * changed, and only those; a quiz passed on the first revision stays
 * passed while its file is unchanged. The course lists what changed,
 * newest first. A local course with "retrain_on": "any" retrains on
 * every change. Completions and attempts keep the revision they were
 * made on.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	lmsTest, runOk, setupMother, addWorkspace, SAMPLE_DIR, HEX40,
	copySampleCourse, editCourseJson,
} from './lib/harness.mjs';
import { request, addUser, signIn } from './lib/api.mjs';

const COURSE = 'hygiene-basics';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/* A workspace with ada (admin) and pia (learner), course assigned to
 * pia; resolves to the headers of both. */
async function people(ws, course) {
	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'pia@example.org', 'learner');
	const ada = await signIn(ws, 'ada@example.org');
	const made = await request(ws, 'POST', '/api/v1/assignments', {
		headers: ada,
		json: { course, user: 'pia@example.org', due: '2027-03-01' } });
	assert.equal(made.status, 201, made.text);
	return { ada, pia: await signIn(ws, 'pia@example.org') };
}

/* The course for the learner, checked to agree with the list. */
async function course(ws, headers, id = COURSE) {
	const one = await request(ws, 'GET', `/api/v1/courses/${id}`,
				  { headers });
	assert.equal(one.status, 200, one.text);
	const list = await request(ws, 'GET', '/api/v1/courses', { headers });
	assert.equal(list.status, 200, list.text);
	assert.deepEqual(list.json.find((c) => c.id === id).progress,
			 one.json.progress);
	return one.json;
}

/* {lesson id: "done" | "done, changed" | "open"} of a course. */
function states(c) {
	return Object.fromEntries(c.lessons.map((l) => [l.id,
		!l.completed ? 'open' : l.changed ? 'done, changed' : 'done']));
}

async function complete(ws, headers, lesson, id = COURSE) {
	const r = await request(ws, 'POST', `/api/v1/courses/${id}/lessons/` +
				`${lesson}/complete`, { headers });
	assert.equal(r.status, 200, r.text);
}

function sql(ws, query) {
	return runOk('sqlite3', [path.join(ws.data, 'workspace.db'), query])
		.then((r) => r.stdout.trim().split('\n'));
}

lmsTest('revisions: progress kept, retraining by trailer, what changed',
	async () => {
	const m = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(m, 'acme', [COURSE]);
	const rev1 = m.revisions[COURSE];
	await ws.waitRevision(COURSE, rev1);
	const { pia } = await people(ws, COURSE);

	/* revision 1: three lessons done and the quiz passed */
	for (const l of ['haende', 'schutzausruestung', 'flaechen'])
		await complete(ws, pia, l);
	const truth = JSON.parse(fs.readFileSync(path.join(
		SAMPLE_DIR, COURSE, 'quizzes', 'wissenstest.json'), 'utf8'));
	const answers = Object.fromEntries(truth.questions.map(
		(q) => [q.id, q.answer]));
	const passed = await request(ws, 'POST', `/api/v1/courses/${COURSE}/` +
				     'lessons/wissenstest/attempts',
				     { headers: pia, json: { answers } });
	assert.deepEqual(passed.json, { score: 100, passed: true });
	let c = await course(ws, pia);
	assert.deepEqual(c.progress, { percent: 80, completed: false });
	assert.deepEqual(c.changes, []);

	/* revision 2 changes haende, no retraining: everything kept */
	const dir = copySampleCourse(COURSE);
	fs.appendFileSync(path.join(dir, 'lessons', 'haende.md'),
			  '\n\nEin neuer Absatz über Handschmuck.\n');
	const rev2 = await m.publish(dir, 'Clearer hand hygiene\n\n' +
				     'Jewellery is named now.');
	await ws.waitRevision(COURSE, rev2);
	c = await course(ws, pia);
	assert.deepEqual(c.progress, { percent: 80, completed: false });
	assert.deepEqual(states(c), {
		haende: 'done, changed', schutzausruestung: 'done',
		flaechen: 'done', 'waesche-abfall': 'open',
		wissenstest: 'done' });
	assert.equal(c.changes.length, 1);
	const [first] = c.changes;
	assert.match(first.date, ISO);
	assert.deepEqual({ ...first, date: undefined }, {
		revision: rev2, date: undefined,
		message: 'Clearer hand hygiene', retrain: false,
		lessons: ['haende'] });

	/* revision 3 changes schutzausruestung with "Retrain: yes": only
	 * that lesson must be done again, the percent drops */
	fs.appendFileSync(path.join(dir, 'lessons', 'schutzausruestung.md'),
			  '\n\nNeue Masken der Klasse FFP3.\n');
	const rev3 = await m.publish(dir, 'New masks\n\nRetrain: yes\n');
	await ws.waitRevision(COURSE, rev3);
	c = await course(ws, pia);
	assert.deepEqual(c.progress, { percent: 60, completed: false });
	assert.deepEqual(states(c), {
		haende: 'done, changed', schutzausruestung: 'open',
		flaechen: 'done', 'waesche-abfall': 'open',
		wissenstest: 'done' });
	assert.deepEqual(c.changes.map((x) => [x.revision, x.retrain,
					      x.lessons, x.message]), [
		[rev3, true, ['schutzausruestung'], 'New masks'],
		[rev2, false, ['haende'], 'Clearer hand hygiene'],
	]);

	/* done again on revision 3; haende read again */
	await complete(ws, pia, 'schutzausruestung');
	await complete(ws, pia, 'haende');
	c = await course(ws, pia);
	assert.deepEqual(c.progress, { percent: 80, completed: false });
	assert.ok(c.lessons.every((l) => !l.changed), JSON.stringify(c));

	/* completions and attempts keep the revision they were made on */
	const made = await sql(ws, 'SELECT lesson_id || \' \' || revision ' +
			       'FROM lesson_completions');
	assert.deepEqual(made.sort(), [
		`flaechen ${rev1}`, `haende ${rev1}`, `haende ${rev3}`,
		`schutzausruestung ${rev1}`, `schutzausruestung ${rev3}`,
		`wissenstest ${rev1}`].sort());
	assert.deepEqual(await sql(ws, 'SELECT revision || \' \' || passed ' +
				   'FROM quiz_attempts'), [`${rev1} 1`]);
});

lmsTest('revisions: a local course with "retrain_on": "any"', async () => {
	const m = await setupMother();
	const ws = await addWorkspace(m, 'acme', 'all');
	const dir = copySampleCourse(COURSE);
	const id = 'house-hygiene';

	editCourseJson(dir, (j) => {
		j.id = id;
		j.retrain_on = 'any';
	});
	const rev1 = await ws.publish(dir, 'Our own hygiene course');
	assert.match(rev1, HEX40);
	const { pia } = await people(ws, id);
	await complete(ws, pia, 'haende', id);
	await complete(ws, pia, 'flaechen', id);
	let c = await course(ws, pia, id);
	assert.equal(c.progress.percent, 40);

	fs.appendFileSync(path.join(dir, 'lessons', 'haende.md'), '\nNeu.\n');
	const rev2 = await ws.publish(dir, 'Hands, updated');
	await ws.waitRevision(id, rev2);
	c = await course(ws, pia, id);
	assert.equal(c.progress.percent, 20);
	assert.equal(states(c).haende, 'open');
	assert.equal(states(c).flaechen, 'done');
	assert.deepEqual(c.changes.map((x) => [x.revision, x.retrain,
					      x.lessons]),
			 [[rev2, true, ['haende']]]);
});
