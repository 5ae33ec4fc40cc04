/*
 * An academy's own look. The admin sets the academy name, the primary
 * colour and a PNG logo on the branding page; after signing out the login
 * page shows the name in its heading and the logo (its alt text the
 * name), and the primary colour is in use: on the "Sign in" button or as
 * a CSS custom property of the page. A visitor who never signed in sees
 * the same.
 */
import assert from 'node:assert/strict';

import { startSystem, addUser, apiRequest, PASSWORD } from './lib/system.mjs';
import {
	browserTest, signIn, open, setField, expectRoute, until,
} from './lib/web.mjs';
import { makePng } from './lib/png.mjs';

const NAME = 'Akademie Sonnenhof';
const PRIMARY = '#7b2d8e';
const PRIMARY_RGB = 'rgb(123, 45, 142)';

/*
 * Where the primary colour shows on the page: the Sign in button's
 * background, border or text colour, or any custom property (--name)
 * declared in the page's style sheets whose computed value on the root
 * element is the colour. Resolves to a list of what was found.
 */
function primaryColourUses(page) {
	return page.evaluate(({ hex, rgb }) => {
		const found = [];
		const button = [...document.querySelectorAll('button')].find(
			(el) => el.textContent.trim() === 'Sign in');
		const root = getComputedStyle(document.documentElement);
		const names = new Set();

		if (button) {
			const s = getComputedStyle(button);
			for (const p of ['background-color', 'border-top-color',
					 'color'])
				if (s.getPropertyValue(p) === rgb)
					found.push(`button ${p}`);
		}
		const collect = (rules) => {
			for (const r of rules) {
				if (r.cssRules)
					collect(r.cssRules);
				for (const p of r.style ?? [])
					if (p.startsWith('--'))
						names.add(p);
			}
		};
		for (const sheet of document.styleSheets) {
			try {
				collect(sheet.cssRules);
			} catch {
				/* a sheet of another origin: not readable */
			}
		}
		for (const p of document.documentElement.style)
			if (p.startsWith('--'))
				names.add(p);
		for (const n of names) {
			const v = root.getPropertyValue(n).trim().toLowerCase();
			if (v === hex || v.replace(/\s/g, '') ===
			    rgb.replace(/\s/g, ''))
				found.push(`custom property ${n}`);
		}
		return found;
	}, { hex: PRIMARY, rgb: PRIMARY_RGB });
}

/* The login page carries the academy's name, logo and colour. */
async function checkBrandedLogin(page) {
	await page.getByRole('heading', { name: NAME }).first().waitFor();
	const logo = page.getByRole('img', { name: NAME, exact: true });
	await logo.first().waitFor();
	await until(async () => await logo.first().evaluate((img) =>
		img.complete && img.naturalWidth === 64) || 'not loaded',
		'the logo to load (64 px wide)');
	const uses = await until(async () => {
		const u = await primaryColourUses(page);
		return u.length > 0 ? u : 'nowhere';
	}, `the primary colour ${PRIMARY} in use`);
	return uses;
}

browserTest('branding: name, colour and logo on the login page',
	    async (t, b) => {
	const { ws } = await startSystem();

	await addUser(ws, 'ada@example.org', { role: 'admin' });
	const before = await apiRequest(ws, 'GET', '/api/v1/branding');
	assert.equal(before.status, 200, before.text);
	assert.notEqual(before.json.primary_color, PRIMARY);

	const page = await b.page('desktop');
	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await open(page, ws, '/admin/branding');
	await setField(page.getByLabel('Academy name'), NAME);
	await setField(page.getByLabel('Primary colour'), PRIMARY);
	await page.getByLabel('Logo', { exact: true }).setInputFiles({
		name: 'logo.png', mimeType: 'image/png',
		buffer: makePng(64, PRIMARY) });
	await b.shot(page, 'branding-form');
	await page.getByRole('button', { name: 'Save branding' }).click();

	const saved = await until(async () => {
		const r = await apiRequest(ws, 'GET', '/api/v1/branding');
		const j = r.json ?? {};
		return (j.name === NAME && j.primary_color === PRIMARY &&
			j.logo_url) ? j : r.text;
	}, 'GET /api/v1/branding to hold the name, colour and logo');
	const logo = await fetch(new URL(saved.logo_url, ws.http));
	assert.equal(logo.status, 200);
	assert.deepEqual(Buffer.from(await logo.arrayBuffer()),
			 makePng(64, PRIMARY));
	await b.shot(page, 'branding-saved');

	await page.getByRole('button', { name: 'Sign out' }).click();
	await expectRoute(page, /^#\/login/);
	const uses = await checkBrandedLogin(page);
	t.diagnostic(`primary colour used by: ${uses.join(', ')}`);
	await b.shot(page, 'login-branded');

	const visitor = await b.page('desktop');
	await open(visitor, ws, '/login');
	await checkBrandedLogin(visitor);
	await b.shot(visitor, 'login-branded-new-visitor');
});
