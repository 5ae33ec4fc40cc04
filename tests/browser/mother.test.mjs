/*
 * The mother's pages for operators, in headless Chromium: an operator
 * signs in, sees the tenant connected with the revision it holds and
 * its audit head, a course's revision history, the analytics charts
 * (completion per course, active learners per month) with the figures
 * the workspace reported, and the usage of the month with its CSV; the
 * pages in German; and the same on a phone, without sideways scrolling.
 * Screenshots of every step are kept.
 */
import assert from 'node:assert/strict';

import {
	startSystem, publishLessonChange, addUser, COURSE, PASSWORD,
	WAIT,
} from './lib/system.mjs';
import {
	browserTest, expectText, expectRoute, until, textOf, clip,
	scrollWidth,
} from './lib/web.mjs';
import { waitFor } from '../integration/lib/harness.mjs';
import {
	request, bearer, signIn as apiSignIn, completeCourse,
} from '../integration/lib/api.mjs';
import {
	addOperator, operatorBearer, motherGet,
} from '../integration/lib/mother.mjs';

const OPERATOR = 'op@provider.example';

/* A tenant whose one learner completed the course, reported to the
 * mother, and a second revision published. */
async function scene() {
	const sys = await startSystem({
		workspace: { env: { LMS_ANALYTICS_SECONDS: '1' } } });
	const { mother, ws } = sys;

	await addOperator(mother, OPERATOR);
	await addUser(ws, 'ada@example.org', { role: 'admin' });
	const pia = await addUser(ws, 'pia@example.org',
				  { name: 'Pia Learner' });
	await addUser(ws, 'ian@example.org', { name: 'Ian Learner' });
	const admin = await bearer(ws, 'ada@example.org');
	for (const user of [pia, 'ian@example.org']) {
		const r = await request(ws, 'POST', '/api/v1/assignments', {
			headers: admin,
			json: { course: COURSE.id, user, due: '2027-09-30' } });
		assert.equal(r.status, 201, r.text);
	}
	await completeCourse(ws, await apiSignIn(ws, 'pia@example.org'),
			     COURSE.id, sys.dir);
	sys.second = await publishLessonChange(sys, 1, 'Second version');
	const op = await operatorBearer(mother, OPERATOR);
	await waitFor(async () => {
		const a = await motherGet(mother, '/api/v1/analytics', op);
		return a.courses[0]?.completed === 1;
	}, WAIT, { what: 'the completion reported to the mother' });
	return sys;
}

async function signInMother(page, mother) {
	await page.goto(`${mother.http}/`);
	await expectRoute(page, /^#\/login/);
	await page.getByLabel('Email', { exact: true }).fill(OPERATOR);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectRoute(page, /^#\/tenants/);
}

browserTest('mother: an operator sees tenants, history, analytics, usage',
	    async (t, b) => {
	const { mother, revision, second } = await scene();
	const page = await b.page('desktop');
	const month = new Date().toISOString().slice(0, 7);

	/* a wrong password first */
	await page.goto(`${mother.http}/`);
	await page.getByLabel('Email', { exact: true }).fill(OPERATOR);
	await page.getByLabel('Password', { exact: true }).fill('wrong');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectText(page.getByRole('alert'), /Wrong email or password/);
	await b.shot(page, 'login-refused');
	await signInMother(page, mother);

	const row = page.locator('tr').filter({ hasText: 'acme' });
	await expectText(row, /connected/, 'the tenant row');
	await expectText(row, new RegExp(second.slice(0, 8)),
			 'the revision held');
	await expectText(row, /current/);
	await expectText(row, /#\d+ [0-9a-f]{12} consistent/,
			 'the audit head');
	await b.shot(page, 'tenants');

	await page.getByRole('link', { name: 'Courses' }).click();
	await page.getByRole('link', { name: COURSE.id }).click();
	await expectRoute(page, new RegExp(`^#/courses/${COURSE.id}$`));
	const history = page.locator('tbody tr');
	await until(async () => await history.count() === 2 ||
		    clip(await textOf(page.locator('main'))),
		    'two revisions in the history');
	assert.match(await history.nth(0).innerText(), /Second version/);
	assert.match(await history.nth(0).innerText(),
		     new RegExp(second.slice(0, 12)));
	assert.match(await history.nth(1).innerText(), /First version/);
	assert.match(await history.nth(1).innerText(),
		     new RegExp(revision.slice(0, 12)));
	await b.shot(page, 'course-history');

	await page.getByRole('link', { name: 'Analytics' }).click();
	const completion = page.locator('#chart-completion');
	await expectText(completion, /1\/2 \(50 %\)/, 'the completion chart');
	assert.equal(await completion.locator('svg rect').count(), 2);
	const active = page.locator('#chart-active');
	await active.locator('svg').waitFor();
	/* twelve months of bars, this month's with its one learner */
	assert.equal(await active.locator('svg rect').count(), 12);
	assert.match(await active.locator('svg').textContent(), /1/);
	await b.shot(page, 'analytics');

	await page.getByRole('link', { name: 'Usage' }).click();
	const usage = page.locator('tbody tr').filter({ hasText: 'acme' });
	await expectText(usage, /acme\s+Tenant acme\s+1\s+1\s+1/,
			 'the usage row');
	const csv = page.getByRole('link', { name: 'Download CSV' });
	assert.equal(await csv.getAttribute('href'),
		     `/api/v1/usage?month=${month}&format=csv`);
	const text = await page.evaluate(async (href) =>
		(await fetch(href)).text(), await csv.getAttribute('href'));
	assert.equal(text, 'tenant,name,month,active_learners,' +
		     `courses_licensed,completions\r\nacme,Tenant acme,` +
		     `${month},1,1,1\r\n`);
	await b.shot(page, 'usage');

	await page.getByRole('button', { name: 'Deutsch' }).click();
	await page.getByRole('heading', {
		name: 'Nutzung für die Abrechnung' }).waitFor();
	await page.getByRole('link', { name: 'Mandanten' }).click();
	await expectText(page.locator('tr').filter({ hasText: 'acme' }),
			 /verbunden/);
	await b.shot(page, 'tenants-german');
	await page.getByRole('button', { name: 'English' }).click();

	await page.getByRole('button', { name: 'Sign out' }).click();
	await expectRoute(page, /^#\/login/);
	await page.goto(`${mother.http}/#/tenants`);
	await expectRoute(page, /^#\/login/);
	assert.deepEqual(page.lmsErrors, []);
});

browserTest('mother: the pages on a phone', async (t, b) => {
	const { mother } = await scene();
	const page = await b.page('mobile');

	await signInMother(page, mother);
	await expectText(page.locator('tr').filter({ hasText: 'acme' }),
			 /connected/);
	await b.shot(page, 'phone-tenants');
	await page.getByRole('link', { name: 'Analytics' }).click();
	await expectText(page.locator('#chart-completion'), /1\/2/);
	assert.ok(await scrollWidth(page) <= 375,
		  `the page is ${await scrollWidth(page)} px wide`);
	await b.shot(page, 'phone-analytics');
	await page.getByRole('link', { name: 'Usage' }).click();
	await expectText(page.locator('tbody'), /acme/);
	assert.ok(await scrollWidth(page) <= 375);
	await b.shot(page, 'phone-usage');
	assert.deepEqual(page.lmsErrors, []);
});
