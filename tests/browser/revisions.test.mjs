/*
 * New revisions of a course as a learner sees them on a phone. A learner
 * who finished the course keeps 100 % when the author publishes a change
 * to one lesson through the mother: the course page says what changed
 * and names that lesson, which stays completed. When a later revision
 * changes a lesson with the commit trailer "Retrain: yes", that lesson is
 * no longer completed and My trainings shows the lower percentage.
 */
import assert from 'node:assert/strict';

import {
	startSystem, addUser, apiLogin, assignToDepartment,
	courseState, publishLessonChange, PASSWORD, COURSE,
} from './lib/system.mjs';
import {
	browserTest, signIn, open, expectText, trainingItem, lessonRow,
	lessonLink, percentRe, textOf, clip, until,
} from './lib/web.mjs';

const COMPLETED = /(?<!Not )Completed/;

/* The learner finishes the course through the API. */
async function finishCourse(api) {
	const base = `/api/v1/courses/${COURSE.id}/lessons`;

	for (const [i] of COURSE.lessons.entries()) {
		const r = await api.post(`${base}/lesson-${i + 1}/complete`);
		assert.equal(r.status, 200, r.text);
	}
	const r = await api.post(`${base}/check/attempts`,
				 { answers: { q1: [0] } });
	assert.equal(r.status, 200, r.text);
	assert.equal((await courseState(api)).progress.percent, 100);
}

/* The text of the page from the "What changed" heading on, or "". */
async function whatChanged(page) {
	const body = await textOf(page.locator('body'));
	const at = body.indexOf('What changed');

	return at < 0 ? '' : body.slice(at);
}

/* Loads the course page afresh and waits until its lessons are shown. */
async function openCourse(page, ws) {
	await open(page, ws, `/course/${COURSE.id}`);
	await page.reload();
	for (const title of [...COURSE.lessons, COURSE.quiz])
		await lessonLink(page, title).first().waitFor();
}

browserTest('revisions: a change keeps progress, "Retrain: yes" does not',
	    async (t, b) => {
	const sys = await startSystem();
	const { ws } = sys;

	await addUser(ws, 'ada@example.org', { role: 'admin' });
	await addUser(ws, 'pia@example.org', {
		attrs: { department: 'Pflege' } });
	await assignToDepartment(await apiLogin(ws, 'ada@example.org'),
				 'Pflege', '2027-03-01');
	const pia = await apiLogin(ws, 'pia@example.org');
	await finishCourse(pia);

	const page = await b.page('mobile');
	await signIn(page, ws, 'pia@example.org', PASSWORD);
	await expectText(await trainingItem(page, COURSE.title),
			 percentRe(100), '100 % before any change');
	await openCourse(page, ws);
	assert.deepEqual((await courseState(pia)).changes ?? [], []);
	assert.equal(await whatChanged(page), '',
		     'What changed shown before any change');
	await b.shot(page, 'course-finished');

	/* a change without retraining */
	await publishLessonChange(sys, 2, 'Reword lesson 2');
	let state = await courseState(pia);
	assert.equal(state.progress.percent, 100, JSON.stringify(state));
	await openCourse(page, ws);
	await until(async () => {
		const text = await whatChanged(page);
		return (text.includes('Reword lesson 2') &&
			text.includes(COURSE.lessons[1])) ||
			`"${clip(text)}"`;
	}, 'What changed with the message and the lesson');
	await expectText(lessonRow(page, COURSE.lessons[1]), COMPLETED,
			 'the changed lesson still completed');
	await b.shot(page, 'course-lesson-2-changed');
	await open(page, ws, '/trainings');
	await expectText(await trainingItem(page, COURSE.title),
			 percentRe(100), '100 % after a change');
	await b.shot(page, 'trainings-still-100');

	/* a change that asks for retraining */
	await publishLessonChange(sys, 1,
				  'Rewrite lesson 1\n\nRetrain: yes');
	state = await courseState(pia);
	const lesson1 = state.lessons.find((l) => l.id === 'lesson-1');
	assert.equal(lesson1.completed, false, JSON.stringify(state));
	assert.ok(state.progress.percent < 100, JSON.stringify(state));

	await openCourse(page, ws);
	await until(async () => (await whatChanged(page)).includes(
		'Rewrite lesson 1'), 'the retraining revision in What changed');
	const row1 = lessonRow(page, COURSE.lessons[0]);
	await until(async () => {
		const text = await textOf(row1);
		return (text !== '' && !COMPLETED.test(text)) ||
			`"${clip(text)}"`;
	}, 'lesson 1 no longer completed');
	await expectText(lessonRow(page, COURSE.lessons[1]), COMPLETED,
			 'lesson 2 still completed');
	await b.shot(page, 'course-lesson-1-retrain');

	await open(page, ws, '/trainings');
	const item = await trainingItem(page, COURSE.title);
	await expectText(item, percentRe(state.progress.percent),
			 `${state.progress.percent} % after retraining`);
	assert.doesNotMatch(await textOf(item), percentRe(100));
	await b.shot(page, 'trainings-dropped');
});
