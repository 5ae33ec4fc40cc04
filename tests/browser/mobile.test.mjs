/*
 * A phone 375 px wide: no page of the learner's way (login, My trainings,
 * the course, a text lesson with a long link and a wide code line, the
 * quiz) nor the admin's list of users (with long names and addresses)
 * is wider than the screen, so nothing scrolls sideways.
 */
import assert from 'node:assert/strict';

import {
	startSystem, addUser, apiLogin, assignToDepartment, PASSWORD, COURSE,
} from './lib/system.mjs';
import {
	browserTest, signIn, open, trainingItem, lessonLink, scrollWidth,
} from './lib/web.mjs';

const WIDTH = 375;
const LONG_EMAIL = 'maria.mustermann-schmidt@pflegeheim-sonnenhof.example.org';

/* Screenshot, then the page must not be wider than the screen. */
async function checkFits(b, page, step) {
	await b.shot(page, step);
	const width = await scrollWidth(page);
	assert.ok(width <= WIDTH, `${step}: the page is ${width} px wide ` +
		  `on a ${WIDTH} px screen (${page.url()})`);
}

browserTest('mobile: no page scrolls sideways at 375 px', async (t, b) => {
	const { ws } = await startSystem();

	await addUser(ws, 'ada@example.org', { name: 'Ada Admin',
					       role: 'admin' });
	await addUser(ws, 'pia@example.org', { name: 'Pia Pflege',
		attrs: { department: 'Pflege', location: 'Köln' } });
	await addUser(ws, LONG_EMAIL, {
		name: 'Maria Mustermann-Schmidt-Oberhausen',
		attrs: { department: 'Pflege',
			 location: 'Mülheim an der Ruhr' },
	});
	await assignToDepartment(await apiLogin(ws, 'ada@example.org'),
				 'Pflege', '2027-03-01');

	const page = await b.page('mobile');
	await open(page, ws, '/login');
	await page.getByRole('button', { name: 'Sign in' }).waitFor();
	await checkFits(b, page, 'login');

	await signIn(page, ws, 'pia@example.org', PASSWORD);
	await trainingItem(page, COURSE.title);
	await checkFits(b, page, 'trainings');

	await open(page, ws, `/course/${COURSE.id}`);
	await lessonLink(page, COURSE.lessons[0]).first().waitFor();
	await checkFits(b, page, 'course');

	await lessonLink(page, COURSE.lessons[0]).first().click();
	await page.locator('article').filter({ hasText: 'a-very-long-path' })
		.waitFor();
	await checkFits(b, page, 'lesson-with-long-link');

	await open(page, ws, `/course/${COURSE.id}/lesson/check`);
	await page.locator('fieldset').first().waitFor();
	await checkFits(b, page, 'quiz');

	const admin = await b.page('mobile');
	await signIn(admin, ws, 'ada@example.org', PASSWORD);
	await open(admin, ws, '/admin/users');
	await admin.getByText(LONG_EMAIL).first()
		.waitFor({ state: 'attached' });
	await checkFits(b, admin, 'admin-users');
});
