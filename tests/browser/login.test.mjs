/*
 * The login page for everyone: it speaks the browser's language (English
 * for en-US, German for de-DE), the "Deutsch" / "English" switch turns it
 * to German and back and is remembered across a reload; and a person
 * using only the keyboard can fill in the form with Tab and send it with
 * Enter, seeing where the focus is.
 */
import assert from 'node:assert/strict';

import { startSystem, addUser, PASSWORD } from './lib/system.mjs';
import { browserTest, open, expectRoute } from './lib/web.mjs';

const SIGN_IN = { name: 'Sign in', exact: true };
const ANMELDEN = { name: 'Anmelden', exact: true };

browserTest('login: the language follows the browser and the switch',
	    async (t, b) => {
	const { ws } = await startSystem();
	const page = await b.page('desktop');

	await open(page, ws, '/login');
	await page.getByRole('button', SIGN_IN).waitFor();
	await b.shot(page, 'login-english');

	await page.getByRole('button', { name: 'Deutsch' }).click();
	await page.getByRole('button', ANMELDEN).waitFor();
	assert.equal(await page.getByRole('button', SIGN_IN).count(), 0);
	assert.equal(await page.evaluate(() =>
		localStorage.getItem('lms.lang')), 'de');
	await b.shot(page, 'login-german');

	await page.reload();
	await page.getByRole('button', ANMELDEN).waitFor();
	await b.shot(page, 'login-german-after-reload');

	await page.getByRole('button', { name: 'English' }).click();
	await page.getByRole('button', SIGN_IN).waitFor();
	assert.equal(await page.getByRole('button', ANMELDEN).count(), 0);
	await b.shot(page, 'login-english-again');

	const german = await b.page('desktop', { locale: 'de-DE' });
	await open(german, ws, '/login');
	await german.getByRole('button', ANMELDEN).waitFor();
	await b.shot(german, 'login-browser-in-german');
});

/* The element that has the focus, described for messages. */
function focused(page) {
	return page.evaluate(() => {
		const el = document.activeElement;
		return el ? `${el.tagName.toLowerCase()} "${
			el.labels?.[0]?.textContent.trim() ??
			el.textContent.trim()}"` : 'nothing';
	});
}

/* Presses Tab until the locator's element has the focus (at most n). */
async function tabTo(page, locator, n, what) {
	for (let i = 0; i < n; i++) {
		await page.keyboard.press('Tab');
		if (await locator.evaluate(
			(el) => el === document.activeElement))
			return;
	}
	assert.fail(`${what} not reached with ${n} Tab presses; the focus ` +
		    `is on ${await focused(page)}`);
}

/* Whether the focused element shows a focus indicator. */
function showsFocus(locator) {
	return locator.evaluate((el) => {
		const s = getComputedStyle(el);
		return (s.outlineStyle !== 'none' &&
			parseFloat(s.outlineWidth) > 0) ||
			s.boxShadow !== 'none';
	});
}

browserTest('login: Tab and Enter alone sign a person in', async (t, b) => {
	const { ws } = await startSystem();
	const page = await b.page('desktop');

	await addUser(ws, 'pia@example.org');
	await open(page, ws, '/login');
	const email = page.getByLabel('Email', { exact: true });
	const password = page.getByLabel('Password', { exact: true });
	const button = page.getByRole('button', SIGN_IN);
	await button.waitFor();

	await tabTo(page, email, 15, 'the Email field');
	assert.ok(await showsFocus(email), 'no focus indicator on Email');
	await page.keyboard.type('pia@example.org');
	await page.keyboard.press('Tab');
	assert.ok(await password.evaluate(
		(el) => el === document.activeElement),
		`Tab after Email went to ${await focused(page)}`);
	await page.keyboard.type(PASSWORD);
	await tabTo(page, button, 5, 'the Sign in button');
	assert.ok(await showsFocus(button), 'no focus indicator on Sign in');
	await b.shot(page, 'login-by-keyboard');
	await page.keyboard.press('Enter');

	await expectRoute(page, /^#\/trainings/);
	await page.getByRole('button', { name: 'Sign out' }).waitFor();
	await b.shot(page, 'signed-in-by-keyboard');
});
