/*
 * From an admin's assignment to a learner's finished course, all in the
 * web app. On a desktop screen the admin signs in, creates a group whose
 * rule is department = Pflege and location = Köln, and assigns the course
 * to it with a due date. On a phone screen a learner who matches the rule
 * (created before the group) finds the course on My trainings with the
 * due date at 0 %, reads the text lessons and marks them completed, fails
 * the quiz, passes it, and sees 100 %; a learner who matches and was
 * created afterwards finds it too; one whose location differs does not.
 */
import assert from 'node:assert/strict';

import {
	startSystem, addUser, apiLogin, apiGet, apiWaitFor, PASSWORD, COURSE,
} from './lib/system.mjs';
import {
	browserTest, signIn, open, setField, expectText, expectRoute,
	trainingItem, lessonRow, lessonLink, percentRe, textOf, clip,
} from './lib/web.mjs';

const DUE = '2027-03-01';
const GROUP = 'Pflege Köln';
const RULE = { department: 'Pflege', location: 'Köln' };
const COMPLETED = /(?<!Not )Completed/;

/* The admin's part: the group with its rule, then the assignment. */
async function adminAssigns(b, ws, api) {
	const page = await b.page('desktop');

	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await b.shot(page, 'admin-signed-in');

	await open(page, ws, '/admin/groups');
	await setField(page.getByLabel('Name', { exact: true }), GROUP);
	const attrs = page.getByLabel('Attribute', { exact: true });
	const values = page.getByLabel('Value', { exact: true });
	const entries = Object.entries(RULE);
	for (let tries = 0; await attrs.count() < entries.length; tries++) {
		assert.ok(tries < entries.length, 'Add condition adds no row');
		await page.getByRole('button', { name: 'Add condition' })
			.click();
	}
	for (const [i, [k, v]] of entries.entries()) {
		await setField(attrs.nth(i), k);
		await setField(values.nth(i), v);
	}
	await b.shot(page, 'admin-group-form');
	await page.getByRole('button', { name: 'Create group' }).click();

	const group = await apiWaitFor(async () => (await apiGet(
		api, '/api/v1/groups')).find((g) => g.name === GROUP),
		'the group made in the form');
	const stored = await apiGet(api, `/api/v1/groups/${group.id}`);
	assert.deepEqual(stored.rule, RULE);
	assert.deepEqual(stored.members.map((m) => m.email),
			 ['pia@example.org']);
	await expectText(page.locator('li, tr').filter({ hasText: GROUP })
			 .last(), /(^|\D)1(\D|$)/,
			 'the new group in the list with 1 member');
	await b.shot(page, 'admin-group-created');

	await open(page, ws, '/admin/assignments');
	await setField(page.getByRole('combobox', { name: 'Course' }),
		       COURSE.title);
	const byGroup = page.getByRole('radio', { name: 'Group' });
	if (await byGroup.count() > 0)
		await byGroup.check();
	await setField(page.getByRole('combobox', { name: 'Group' }), GROUP);
	await setField(page.getByLabel('Due date'), DUE);
	await b.shot(page, 'admin-assignment-form');
	await page.getByRole('button', { name: 'Assign' }).click();

	const made = await apiWaitFor(async () => (await apiGet(
		api, '/api/v1/assignments')).find(
		(a) => a.group === group.id), 'the assignment');
	assert.equal(made.course, COURSE.id);
	assert.equal(made.due, DUE);
	await b.shot(page, 'admin-assigned');
}

/* Waits until My trainings shows the course due on DUE at percent. */
async function expectTraining(page, percent) {
	const item = await trainingItem(page, COURSE.title);

	await expectText(item, percentRe(percent),
			 `${percent} % on the course`);
	const text = await textOf(item);
	const times = item.locator(`time[datetime="${DUE}"]`);
	assert.ok(/\bDue\b/.test(text) &&
		  (text.includes(DUE) || await times.count() > 0),
		  `no "Due ${DUE}" in "${clip(text)}"`);
	return item;
}

/* Opens a text lesson from the course page and marks it completed. */
async function completeTextLesson(b, page, ws, title, n) {
	await open(page, ws, `/course/${COURSE.id}`);
	await lessonLink(page, title).first().click();
	await expectRoute(page, /^#\/course\/[^/]+\/lesson\//);
	await page.locator('article').filter({ hasText: 'Some text.' })
		.waitFor();
	await b.shot(page, `learner-lesson-${n}`);
	const done = page.waitForResponse((r) =>
		r.request().method() === 'POST' &&
		r.url().endsWith(`/lessons/lesson-${n}/complete`));
	await page.getByRole('button', { name: 'Mark as completed' }).click();
	assert.equal((await done).status(), 200);

	await open(page, ws, `/course/${COURSE.id}`);
	await expectText(lessonRow(page, title), COMPLETED,
			 `${title} marked completed`);
	await b.shot(page, `learner-course-after-lesson-${n}`);
}

/* Answers the one question of the quiz and submits. */
async function answerQuiz(page, ws, choice) {
	await open(page, ws, `/course/${COURSE.id}`);
	await lessonLink(page, COURSE.quiz).first().click();
	const question = page.locator('fieldset').filter({
		has: page.locator('legend', { hasText: COURSE.question }) });
	await question.waitFor();
	for (const c of [COURSE.right, COURSE.wrong]) {
		const box = question.getByRole('checkbox',
					       { name: c, exact: true });
		await box.setChecked(c === choice);
	}
	await page.getByRole('button', { name: 'Submit answers' }).click();
}

async function learnerCompletes(b, ws) {
	const page = await b.page('mobile');

	await signIn(page, ws, 'pia@example.org', PASSWORD);
	await expectTraining(page, 0);
	await b.shot(page, 'learner-trainings-0');

	const item = await trainingItem(page, COURSE.title);
	const openLink = item.getByRole('link', { name: 'Open' });
	await (await openLink.count() > 0 ? openLink :
		item.getByRole('link', { name: COURSE.title })).first().click();
	await expectRoute(page, new RegExp(`^#/course/${COURSE.id}$`));
	for (const title of [...COURSE.lessons, COURSE.quiz]) {
		await lessonLink(page, title).first().waitFor();
		const row = await textOf(lessonRow(page, title));
		assert.doesNotMatch(row, COMPLETED,
				    `${title} completed at the start`);
	}
	await b.shot(page, 'learner-course');

	for (const [i, title] of COURSE.lessons.entries())
		await completeTextLesson(b, page, ws, title, i + 1);

	await answerQuiz(page, ws, COURSE.wrong);
	await page.getByText(/Not passed/).first().waitFor();
	await expectText(page.locator('body'), /Score:\s*0\s*%/, 'score 0 %');
	await b.shot(page, 'learner-quiz-not-passed');

	await answerQuiz(page, ws, COURSE.right);
	await page.getByText(/(?<!not )passed/i).first().waitFor();
	await expectText(page.locator('body'), /Score:\s*100\s*%/,
			 'score 100 %');
	await b.shot(page, 'learner-quiz-passed');

	await open(page, ws, `/course/${COURSE.id}`);
	await expectText(lessonRow(page, COURSE.quiz), COMPLETED,
			 'the quiz marked completed');
	await open(page, ws, '/trainings');
	await expectTraining(page, 100);
	await b.shot(page, 'learner-trainings-100');
}

/*
 * Signs in on a phone as email and checks My trainings: with the course
 * due on DUE at 0 % when expected, else without it once the list of
 * courses has arrived and had a moment to be drawn.
 */
async function checkSeesCourse(b, ws, email, expected) {
	const page = await b.page('mobile');
	const courses = page.waitForResponse((r) =>
		new URL(r.url()).pathname === '/api/v1/courses' &&
		r.request().method() === 'GET');

	await signIn(page, ws, email, PASSWORD);
	if (expected) {
		await expectTraining(page, 0);
	} else {
		const list = await (await courses).json();
		assert.deepEqual(list, [],
				 `the API lists courses for ${email}`);
		await page.waitForTimeout(1000);
		assert.equal(await page.getByText(COURSE.title).count(), 0,
			     `${email} sees ${COURSE.title}`);
	}
	await b.shot(page, `trainings-of-${email.split('@')[0]}`);
}

browserTest('assign: a group by rule, an assignment, a learner finishes',
	    async (t, b) => {
	const { ws } = await startSystem();

	await addUser(ws, 'ada@example.org', { name: 'Ada Admin',
					       role: 'admin' });
	await addUser(ws, 'pia@example.org', { name: 'Pia Pflege',
					       attrs: RULE });
	await addUser(ws, 'ian@example.org', { name: 'Ian Bonn',
		attrs: { department: 'Pflege', location: 'Bonn' } });
	const api = await apiLogin(ws, 'ada@example.org');

	await adminAssigns(b, ws, api);
	await learnerCompletes(b, ws);

	await addUser(ws, 'lea@example.org', { name: 'Lea Later',
					       attrs: RULE });
	/* matching the rule, added later; another location */
	await checkSeesCourse(b, ws, 'lea@example.org', true);
	await checkSeesCourse(b, ws, 'ian@example.org', false);
});
