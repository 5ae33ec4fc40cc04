/*
 * The reports dashboard in the browser, against real daemons and the
 * sample course hygiene-basics. Two learners of the house's group have
 * the course: Pia (due later; she completes it through the API) and
 * Lou (due long ago: overdue). The admin opens Reports from the admin
 * area and finds a completion rate of 50 % for the course, as text and
 * as a half-long bar of the chart, with the same 50 % for the group;
 * Lou (and only Lou) on the overdue list; Pia's completion in this
 * month's bar of the timeline; downloads that answer CSV with the
 * UTF-8 byte order mark (comma and semicolon) and JSON with the same
 * figures; a period without completions showing the server's reason
 * instead of a chart; the German page. From Pia's compliance page the
 * admin opens her transcript: every lesson of the course with the
 * revision it was completed on, her quiz attempt and certificate, and
 * a CSV download of it. On a phone the page fits 375 px, in German.
 * Mia, manager of the group, reaches the reports from her header.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	setupMother, addWorkspace, waitFor, SAMPLE_DIR,
} from '../integration/lib/harness.mjs';
import {
	signIn as apiSignIn, completeCourse,
} from '../integration/lib/api.mjs';
import {
	addUser, apiLogin, apiGet, PASSWORD, WAIT,
} from './lib/system.mjs';
import {
	browserTest, signIn, open, setField, expectText, expectRoute, until,
	textOf, clip, scrollWidth, percentRe,
} from './lib/web.mjs';

const COURSE = 'hygiene-basics';
const PIA_DUE = '2099-06-30';
const LOU_DUE = '2020-01-15';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/* The lesson ids of the sample course, in order. */
function lessonIds() {
	const spec = JSON.parse(fs.readFileSync(
		path.join(SAMPLE_DIR, COURSE, 'course.json'), 'utf8'));
	return spec.lessons.map((l) => l.id);
}

/* A mother with the sample course, a workspace holding it, the admin
 * Ada, the group Haus Köln (rule site=koeln) with its manager Mia and
 * the learners Pia and Lou, the course assigned to each learner. */
async function academy() {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);

	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), WAIT, { what: 'the course' });
	await addUser(ws, 'ada@example.org', { role: 'admin',
					      name: 'Ada Admin' });
	const admin = await apiLogin(ws, 'ada@example.org');
	const koeln = { attrs: { site: 'koeln' } };
	const ids = {
		mia: await addUser(ws, 'mia@example.org', { ...koeln,
			role: 'manager', name: 'Mia Meister' }),
		pia: await addUser(ws, 'pia@example.org', { ...koeln,
			name: 'Pia Prüfling' }),
		lou: await addUser(ws, 'lou@example.org', { ...koeln,
			name: 'Lou Later' }),
	};
	const g = await admin.post('/api/v1/groups', {
		name: 'Haus Köln', rule: { site: 'koeln' } });
	assert.equal(g.status, 201, g.text);
	ids.group = g.json.id;
	for (const [user, due] of [[ids.pia, PIA_DUE], [ids.lou, LOU_DUE]]) {
		const a = await admin.post('/api/v1/assignments', {
			course: COURSE, user, due });
		assert.equal(a.status, 201, a.text);
	}
	return { ws, admin, ids };
}

function region(page, name) {
	return page.getByRole('region', { name, exact: true });
}

/* The row of a table holding text. */
function rowWith(scope, text) {
	return scope.locator('tr').filter({ hasText: text }).last();
}

/* Fetches a link's address with the page's session. */
async function follow(page, ws, link) {
	const href = await link.getAttribute('href');

	assert.ok(href, 'the link has an address');
	return page.request.get(new URL(href, ws.http).href);
}

/* A CSV download: 200, text/csv, an attachment, the byte order mark. */
async function expectCsv(page, ws, link, what) {
	const res = await follow(page, ws, link);
	const body = await res.body();

	assert.equal(res.status(), 200, `${what}: ${res.status()}`);
	assert.match(res.headers()['content-type'], /^text\/csv/, what);
	assert.match(res.headers()['content-disposition'] ?? '',
		     /^attachment; filename="[a-z-]+-\d{4}-\d{2}-\d{2}\.csv"$/,
		     what);
	assert.deepEqual(body.subarray(0, 3), BOM, `${what}: the BOM`);
	return body.subarray(3).toString('utf8');
}

/* The width of an SVG element as drawn, in px. */
function drawnWidth(locator) {
	return locator.evaluate((el) => el.getBoundingClientRect().width);
}

async function fitsPhone(b, page, step) {
	await b.shot(page, step);
	const width = await scrollWidth(page);
	assert.ok(width <= 375, `${step}: ${width} px wide`);
}

/* The figures of the course: 50 % as text, in the chart and per
 * group. */
async function completionFigures(b, page, title) {
	const totals = region(page, 'Totals');
	await expectText(totals.locator('li[data-key="completion_rate"]'),
			 /^50 %\s+Completion rate$/, 'the rate tile');
	assert.match(await textOf(totals.locator(
		'li[data-key="assigned"]')), /^2\s/);
	assert.match(await textOf(totals.locator(
		'li[data-key="overdue"]')), /^1\s/);

	const courses = region(page, 'Completion per course');
	await expectText(rowWith(courses, title), percentRe(50),
			 'the course\'s row');
	const chart = courses.getByRole('img', {
		name: /^Completion rate per course/ });
	await chart.waitFor();
	assert.match(await chart.locator('desc').textContent(),
		     new RegExp(`${title}: 50 %`));
	const bar = chart.locator(`rect.chart-bar[data-id="${COURSE}"]`);
	assert.equal(await bar.getAttribute('width'), '50%');
	const track = chart.locator('rect.track').first();
	const ratio = await drawnWidth(bar) / await drawnWidth(track);
	assert.ok(Math.abs(ratio - 0.5) < 0.01, `the bar is ${ratio} long`);

	const groups = region(page, 'Completion per group');
	await expectText(rowWith(groups, 'Haus Köln'), percentRe(50),
			 'the group\'s row');
	await b.shot(page, 'admin-reports');
}

/* Lou alone is overdue; nobody's certificate expires soon. */
async function lists(page) {
	const overdue = region(page, 'Overdue');
	const lou = rowWith(overdue, 'Lou Later');

	await expectText(lou, /Overdue/, 'Lou on the overdue list');
	assert.match(await textOf(lou), /15\s*Jan|2020-01-15/);
	assert.equal(await rowWith(overdue, 'Pia Prüfling').count(), 0);
	await region(page, 'Certificates expiring or expired')
		.getByText('Nobody is on this list.').waitFor();
}

/* This month's completion is a bar of the timeline. */
async function timelineBar(page, admin) {
	const tl = await apiGet(admin, '/api/v1/reports/timeline?months=12');
	const month = tl.months.findLast((m) => m.completions > 0);

	assert.ok(month, `a month with completions: ${JSON.stringify(tl)}`);
	const chart = region(page, 'Due work over time').getByRole('img', {
		name: /^Completions and due courses per month/ });
	const bar = (series) => chart.locator(
		`rect[data-slot="${month.month}"][data-series="${series}"]`);
	const height = Number(await bar('completions').getAttribute('height'));
	assert.ok(height > 0, 'the completions bar has a height');
	const drawn = await bar('completions').evaluate(
		(el) => el.getBoundingClientRect().height);
	assert.ok(Math.abs(drawn - height) < 1, `drawn ${drawn} px high`);
	if (month.due === 0)
		assert.ok(await bar('due').evaluate((el) =>
			el.getBoundingClientRect().height) < 1,
			  'no due bar for nothing due');
}

/* The downloads of the completion report answer what the page shows. */
async function downloads(page, ws) {
	const courses = region(page, 'Completion per course');
	const comma = await expectCsv(page, ws, courses.getByRole('link', {
		name: 'CSV', exact: true }), 'CSV');
	const header = comma.split('\r\n')[0];
	assert.match(header, /^course,title,assigned,/);
	assert.match(comma, new RegExp(`\r\n${COURSE},[^\r\n]*,2,` +
				       '[^\r\n]*0\\.500\r\n'));

	const semi = await expectCsv(page, ws, courses.getByRole('link', {
		name: 'CSV (semicolon, Excel)' }), 'CSV with semicolons');
	assert.match(semi.split('\r\n')[0], /^course;title;assigned;/);

	const json = await follow(page, ws, courses.getByRole('link', {
		name: 'JSON' }));
	assert.equal(json.status(), 200);
	assert.match(json.headers()['content-type'], /^application\/json/);
	const report = await json.json();
	assert.equal(report.total.completion_rate, 0.5);
	assert.equal(report.rows.find((r) => r.course === COURSE).assigned,
		     2);

	const overdue = await expectCsv(page, ws, region(page, 'Overdue')
		.getByRole('link', { name: 'CSV', exact: true }),
		'the overdue list as CSV');
	assert.match(overdue, /lou@example\.org/);
	assert.doesNotMatch(overdue, /pia@example\.org/);
}

/* The filters: the group keeps 50 %, a period of long ago is empty
 * and says why instead of drawing a chart. */
async function filters(b, page, ids) {
	const form = page.getByRole('search');

	await setField(form.getByLabel('Group'), 'Haus Köln');
	await form.getByRole('button', { name: 'Show' }).click();
	await expectRoute(page, new RegExp(
		`^#/admin/reports\\?group=${ids.group}$`));
	await expectText(region(page, 'Totals').locator(
		'li[data-key="completion_rate"]'), /^50 %/,
		'the group\'s rate');

	await setField(form.getByLabel('From'), '2000-01-01');
	await setField(form.getByLabel('To'), '2000-12-31');
	await form.getByRole('button', { name: 'Show' }).click();
	await expectRoute(page, /from=2000-01-01&to=2000-12-31$/);
	const courses = region(page, 'Completion per course');
	await courses.getByText('Nothing was completed in this period.')
		.waitFor();
	assert.equal(await courses.getByRole('img').count(), 0);
	await b.shot(page, 'admin-reports-empty-period');
}

/* Pia's transcript from her compliance page: every lesson with the
 * revision, her attempt and certificate, the CSV. */
async function transcript(b, page, ws, ids, revision) {
	await open(page, ws, `/admin/compliance/user/${ids.pia}`);
	await page.getByRole('heading', { level: 1,
					  name: 'Pia Prüfling' }).waitFor();
	await page.getByRole('link', { name: 'Transcript' }).click();
	await expectRoute(page, new RegExp(
		`^#/admin/reports/transcript/${ids.pia}$`));
	await page.getByRole('heading', { level: 1,
		name: 'Transcript: Pia Prüfling' }).waitFor();

	const done = region(page, 'Lessons completed');
	for (const lesson of lessonIds()) {
		const row = rowWith(done, lesson);
		await expectText(row, new RegExp(revision.slice(0, 12)),
				 `lesson ${lesson} with its revision`);
		assert.equal(await row.locator('code.revision')
			.getAttribute('data-revision'), revision);
	}
	const attempt = rowWith(region(page, 'Quiz attempts'), 'wissenstest');
	await expectText(attempt, /Passed/, 'the passed attempt');
	assert.match(await textOf(attempt), new RegExp(revision.slice(0, 12)));
	const certs = region(page, 'All certificates');
	await expectText(certs.locator('tbody tr'), /Valid/, 'the certificate');
	assert.match(await textOf(certs), new RegExp(revision.slice(0, 12)));
	await b.shot(page, 'admin-transcript');

	const csv = await expectCsv(page, ws, page.getByRole('link', {
		name: 'CSV', exact: true }), 'the transcript as CSV');
	for (const lesson of lessonIds())
		assert.match(csv, new RegExp(`\r\ncompletion,${COURSE},` +
			`[^\r\n]*,${lesson},${revision},`), lesson);
}

/* The page in German, once. */
async function german(b, page) {
	await page.getByRole('button', { name: 'Deutsch' }).click();
	await page.getByRole('heading', { level: 1, name: 'Berichte' })
		.waitFor();
	await expectText(region(page, 'Gesamt').locator(
		'li[data-key="completion_rate"]'), /^50 %\s+Abschlussquote$/,
		'the German tile');
	await expectText(rowWith(region(page, 'Überfällig'), 'Lou Later'),
			 /Überfällig/, 'the German status');
	await page.getByRole('img', { name: /^Abschlussquote je Schulung/ })
		.waitFor();
	await b.shot(page, 'admin-reports-de');
	await page.getByRole('button', { name: 'English' }).click();
}

/* The reports and Pia's transcript on a phone, in German. */
async function phone(b, ws, ids) {
	const page = await b.page('mobile');

	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await page.getByRole('button', { name: 'Deutsch' }).click();
	await open(page, ws, '/admin/reports');
	await page.getByRole('heading', { level: 1, name: 'Berichte' })
		.waitFor();
	await expectText(region(page, 'Gesamt').locator(
		'li[data-key="completion_rate"]'), /^50 %/, 'the rate');
	await fitsPhone(b, page, 'de-phone-reports');
	await open(page, ws, `/admin/reports/transcript/${ids.pia}`);
	await page.getByRole('heading', { level: 1,
		name: 'Schulungsnachweis: Pia Prüfling' }).waitFor();
	await region(page, 'Abgeschlossene Lektionen')
		.locator('code.revision').first().waitFor();
	await fitsPhone(b, page, 'de-phone-transcript');
	await page.close();
}

/* Mia reaches the reports of her group from the header. */
async function manager(b, ws) {
	const page = await b.page('desktop');

	await signIn(page, ws, 'mia@example.org', PASSWORD);
	const nav = page.getByRole('navigation', { name: 'Main' });
	await nav.getByRole('link', { name: 'Reports' }).click();
	await expectRoute(page, /^#\/admin\/reports$/);
	await expectText(region(page, 'Totals').locator(
		'li[data-key="completion_rate"]'), /^50 %/, 'Mia\'s rate');
	await rowWith(region(page, 'Overdue'), 'Lou Later').waitFor();
	assert.equal(await page.getByRole('navigation', {
		name: 'Administration' }).count(), 0);
	await b.shot(page, 'manager-reports');
	await page.close();
}

browserTest('the reports dashboard and a transcript', async (t, b) => {
	const { ws, admin, ids } = await academy();
	const pia = await apiSignIn(ws, 'pia@example.org');

	await completeCourse(ws, pia, COURSE);
	const course = (await ws.catalog()).find((c) => c.id === COURSE);
	t.diagnostic(`revision ${course.revision}, "${course.title}"`);

	const page = await b.page('desktop');
	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await page.getByRole('link', { name: 'Admin', exact: true }).click();
	await page.getByRole('navigation', { name: 'Administration' })
		.getByRole('link', { name: 'Reports' }).click();
	await expectRoute(page, /^#\/admin\/reports$/);
	await page.getByRole('heading', { level: 1, name: 'Reports' })
		.waitFor();
	await until(async () => await page.locator('main[aria-busy]')
		.count() === 0 || clip(await textOf(page.locator('main'))),
		'the page drawn');

	await completionFigures(b, page, course.title);
	await lists(page);
	await timelineBar(page, admin);
	await downloads(page, ws);
	await german(b, page);
	await filters(b, page, ids);
	await transcript(b, page, ws, ids, course.revision);
	await phone(b, ws, ids);
	await manager(b, ws);
});
