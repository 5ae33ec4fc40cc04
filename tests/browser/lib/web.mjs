/*
 * The browser side of the browser tests: Debian's headless Chromium
 * driven through playwright-core, a full-page screenshot of every page a
 * test visits, and waits that give up after a bounded time with a message
 * saying what was awaited and what the page showed instead.
 *
 *   browserTest('a learner signs in', async (t, b) => {
 *           const page = await b.page('desktop');
 *           await page.goto(...);
 *           await b.shot(page, 'login');
 *   });
 *
 * browserTest() is the harness's lmsTest() (own temporary directory, own
 * daemons) plus one browser for the test, closed at its end. Pages come
 * in two kinds: 'desktop' (1280x800) for the admin's work and 'mobile'
 * (375x800, a touch phone) for the learner's; every context speaks
 * en-US unless a locale is given.
 *
 * Screenshots go to LMS_SCREENSHOT_DIR (tests/run sets one folder per
 * run), else to tests/browser/screenshots/<UTC time of this process>;
 * each test has a folder of its own there, <file>.<test>/NN-step.png,
 * and a failing test adds NN-failed-page-N.png of each page still open.
 *
 * Environment: LMS_CHROMIUM (default /usr/bin/chromium),
 * LMS_SCREENSHOT_DIR, LMS_BROWSER_HEADED=1 (show the window, for
 * debugging with a display).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { lmsTest } from '../../integration/lib/harness.mjs';
import { WAIT } from './system.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.LMS_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(process.env.LMS_SCREENSHOT_DIR ||
	path.join(HERE, '..', 'screenshots', runStamp()));

export const VIEWPORTS = {
	desktop: { viewport: { width: 1280, height: 800 } },
	mobile: { viewport: { width: 375, height: 800 }, isMobile: true,
		  hasTouch: true },
};

function runStamp() {
	return new Date().toISOString().replace(/[-:]/g, '')
		.replace(/\..*/, '').replace('T', '-');
}

function slug(s) {
	return s.toLowerCase().replace(/[^a-z0-9]+/g, '-')
		.replace(/^-|-$/g, '').slice(0, 60);
}

/*
 * One test's browser and screenshots. page(kind, options) opens a page
 * in a fresh context (own cookies and storage); options: locale.
 * shot(page, step) saves the full page as the next numbered file.
 */
class BrowserScope {
	constructor(browser, dir) {
		this.browser = browser;
		this.dir = dir;
		this.count = 0;
		this.pages = [];
	}

	async page(kind = 'desktop', options = {}) {
		const context = await this.browser.newContext({
			...VIEWPORTS[kind],
			locale: options.locale ?? 'en-US',
		});
		context.setDefaultTimeout(WAIT);
		context.setDefaultNavigationTimeout(WAIT);
		const page = await context.newPage();

		page.lmsKind = kind;
		page.lmsErrors = [];
		page.on('pageerror', (e) => page.lmsErrors.push(e.message));
		this.pages.push(page);
		return page;
	}

	async shot(page, step) {
		this.count++;
		const name = `${String(this.count).padStart(2, '0')}-` +
			`${slug(step)}.png`;

		fs.mkdirSync(this.dir, { recursive: true });
		await page.screenshot({ path: path.join(this.dir, name),
					fullPage: true, timeout: WAIT });
		return name;
	}

	/* After a failure: a picture of each page still open. */
	async shotFailure() {
		for (const [i, page] of this.pages.entries()) {
			if (page.isClosed())
				continue;
			try {
				await this.shot(page, `failed-page-${i + 1}`);
			} catch {
				/* the page is gone: nothing to show */
			}
		}
	}
}

export function launch() {
	return chromium.launch({
		executablePath: CHROMIUM,
		headless: process.env.LMS_BROWSER_HEADED !== '1',
		args: ['--no-sandbox'],
		timeout: WAIT,
	});
}

/*
 * Declares a test (lmsTest's arguments); fn receives (t, b) with b a
 * BrowserScope. The browser is closed whatever happens; a failure adds
 * the URL of each page and any script errors seen to the error.
 */
export function browserTest(name, options, fn) {
	if (typeof options === 'function') {
		fn = options;
		options = {};
	}
	const file = path.basename(process.argv[1] ?? 'test', '.test.mjs');

	return lmsTest(name, { timeout: 240000, ...options }, async (t) => {
		const dir = path.join(SCREENSHOT_DIR, `${file}.${slug(name)}`);
		/* this test's pictures only, not an earlier run's */
		fs.rmSync(dir, { recursive: true, force: true });
		const browser = await launch();
		const b = new BrowserScope(browser, dir);

		t.diagnostic(`screenshots: ${dir}`);
		try {
			await fn(t, b);
		} catch (err) {
			await b.shotFailure();
			throw addPageState(err, b.pages);
		} finally {
			await browser.close();
		}
	});
}

function addPageState(err, pages) {
	let state = '';

	for (const [i, page] of pages.entries()) {
		state += `\npage ${i + 1} (${page.lmsKind}): ` +
			`${page.isClosed() ? 'closed' : page.url()}`;
		for (const e of page.lmsErrors)
			state += `\n  script error: ${e}`;
	}
	if (!(err instanceof Error))
		err = new Error(String(err));
	try {
		err.message += state;
		err.stack = `${err.stack}${state}`;
	} catch {
		/* a frozen error: report it as it is */
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* Waiting for what a person would see */

/*
 * Polls fn (may be async) until it returns a truthy value; after WAIT ms
 * fails with what and the last value seen (fn may return a string as
 * its "not yet" state, which ends up in the message).
 */
export async function until(fn, what, timeout = WAIT) {
	const deadline = Date.now() + timeout;
	let last;

	for (;;) {
		try {
			last = await fn();
			if (last === true || (last && typeof last !== 'string'))
				return last;
		} catch (e) {
			last = `threw ${e.message.split('\n')[0]}`;
		}
		if (Date.now() >= deadline)
			break;
		await new Promise((r) => setTimeout(r, 200));
	}
	assert.fail(`timed out after ${timeout} ms waiting for ${what}; ` +
		    `last seen: ${typeof last === 'string' ? last :
				 JSON.stringify(last)}`);
}

/* The visible text of a locator's first element, or "" when absent. */
export async function textOf(locator) {
	if (await locator.count() === 0)
		return '';
	return locator.first().innerText({ timeout: 2000 });
}

/* Waits until the locator's text matches re; resolves to the text. */
export async function expectText(locator, re, what) {
	let text = '';

	await until(async () => {
		text = await textOf(locator);
		return re.test(text) || `"${clip(text)}"`;
	}, `${what ?? 'text'} to match ${re}`);
	return text;
}

/* Waits until the hash route of the page matches re. */
export async function expectRoute(page, re) {
	await until(() => re.test(new URL(page.url()).hash) ||
		    page.url(), `the route to match ${re}`);
}

export function clip(s, n = 300) {
	s = String(s).replace(/\s+/g, ' ').trim();
	return s.length > n ? `${s.slice(0, n)}…` : s;
}

/* A regular expression for "N %" that does not match inside "100 %". */
export function percentRe(n) {
	return new RegExp(`(^|[^\\d])${n}\\s*%`);
}

/* ------------------------------------------------------------------ */
/* Forms */

/*
 * Sets a form control found by its label: a <select> gets the option
 * whose label contains text (or whose value is text), waiting for the
 * options to arrive; anything else is filled.
 */
export async function setField(locator, text) {
	await locator.waitFor({ state: 'visible' });
	const tag = await locator.evaluate((el) => el.tagName);

	if (tag !== 'SELECT') {
		await locator.fill(text);
		return;
	}
	const index = await until(async () => {
		const i = await locator.evaluate((el, want) =>
			[...el.options].findIndex((o) =>
				o.value === want || o.label.includes(want)),
			text);
		return i >= 0 ? { i } : 'no such option yet: ' +
			(await locator.innerText()).replace(/\n/g, ' | ');
	}, `an option "${text}"`);
	await locator.selectOption({ index: index.i });
}

/* ------------------------------------------------------------------ */
/* The web app's common steps */

/* Opens #/login and signs in; resolves when My trainings is shown. */
export async function signIn(page, ws, email, password) {
	await page.goto(`${ws.http}/#/login`);
	await page.getByLabel('Email', { exact: true }).fill(email);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectRoute(page, /^#\/trainings/);
}

/* Goes to a hash route of the app (a fresh load, as a bookmark would). */
export async function open(page, ws, route) {
	await page.goto(`${ws.http}/#${route}`);
}

/*
 * The element of a course on My trainings: an article holding the title
 * (or, failing that, a list item). Waits until it appears.
 */
export async function trainingItem(page, title) {
	const articles = page.getByRole('article').filter({ hasText: title });
	const items = page.locator('li').filter({ hasText: title });

	await until(async () => await articles.count() > 0 ||
		    await items.count() > 0 ||
		    `no article or list item with "${title}" in: ` +
		    clip(await textOf(page.locator('body'))),
		    `"${title}" on My trainings`);
	return await articles.count() > 0 ? articles.first() : items.last();
}

/*
 * The row (list item or table row) of a lesson on the course page: the
 * innermost one holding a link whose name starts with the title.
 */
export function lessonRow(page, title) {
	return page.locator('li, tr').filter({
		has: lessonLink(page, title),
	}).last();
}

export function lessonLink(page, title) {
	return page.getByRole('link', {
		name: new RegExp(`^\\s*${escapeRe(title)}(?![\\w])`),
	});
}

export function escapeRe(s) {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/* The width of the page's content: what a person can scroll across. */
export function scrollWidth(page) {
	return page.evaluate(() => document.documentElement.scrollWidth);
}
