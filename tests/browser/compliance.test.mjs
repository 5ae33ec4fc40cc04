/*
 * Certificates and compliance in the browser, against real daemons and
 * the sample course hygiene-basics. An admin assigns the course to two
 * learners of the house's group, Pia (due later; she completes it
 * through the API) and Lou (due long ago: overdue, reminded once with a
 * copy to the group's manager, the mail waiting because the mail server
 * is down). On a phone Pia finds her certificate under "My
 * certificates", with a PDF that downloads and the verification link,
 * and the course marked completed on My trainings; Lou sees the empty
 * state and the overdue badge; both languages render. On a desktop the
 * admin sees the counts, filters by status, opens Pia's page with the
 * certificate number and Lou's with the history of reminders, and
 * revokes Pia's certificate with a reason. Mia, manager of the group,
 * reaches the compliance pages and downloads Pia's PDF, but cannot
 * revoke and does not reach the users page.
 *
 * A second test: the admin's outbox page lists an invitation mailed
 * from the command line while the mail server cannot be reached, with
 * its counts, the state filter, the reason of the failed attempt and
 * paging to older mails.
 *
 * A third: the admin's settings page stores the mail settings (the
 * SMTP password only says whether one is set), shows the server's
 * reason for a refused value, changes a mail text and the certificate
 * template, and uploads and removes a signature image.
 */
import assert from 'node:assert/strict';

import {
	setupMother, addWorkspace, waitFor, runOk, WORKSPACE_BIN, freePort,
} from '../integration/lib/harness.mjs';
import {
	signIn as apiSignIn, completeCourse,
} from '../integration/lib/api.mjs';
import {
	addUser, apiLogin, apiGet, PASSWORD, WAIT,
} from './lib/system.mjs';
import {
	browserTest, signIn, open, setField, expectText, expectRoute, until,
	textOf, clip, scrollWidth, escapeRe,
} from './lib/web.mjs';
import { makePng } from './lib/png.mjs';

const COURSE = 'hygiene-basics';
const PIA_DUE = '2099-06-30';
const LOU_DUE = '2020-01-15';

/* A mother with the sample course, a workspace holding it, and mail
 * settings whose server does not answer (a closed loopback port). */
async function academy() {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	const closed = await freePort();

	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), WAIT, { what: 'the course' });
	await addUser(ws, 'ada@example.org', { role: 'admin',
					      name: 'Ada Admin' });
	const admin = await apiLogin(ws, 'ada@example.org');
	const put = await admin.put('/api/v1/settings', {
		'smtp.url': `smtp://127.0.0.1:${closed}`,
		'mail.from': 'Akademie <akademie@example.com>',
	});
	assert.equal(put.status, 200, put.text);
	return { mother, ws, admin };
}

/* The house's group (by the rule site=koeln) with its manager Mia and
 * the learners Pia and Lou; the course assigned to each learner. */
async function people(ws, admin) {
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
	for (const [user, due] of [[ids.pia, PIA_DUE], [ids.lou, LOU_DUE]]) {
		const a = await admin.post('/api/v1/assignments', {
			course: COURSE, user, due });
		assert.equal(a.status, 201, a.text);
	}
	return ids;
}

/* The row of a table (or card) holding text. */
function rowWith(scope, text) {
	return scope.locator('tr').filter({ hasText: text }).last();
}

/* The badge of a status inside scope. */
function badge(scope, status) {
	return scope.locator(`.badge[data-status="${status}"]`);
}

/* The facts of the certificate on a person's page. */
function certificateFacts(page) {
	return page.locator('section.panel dl').filter({ hasText: 'Number' });
}

/* The number shown with a status at the top of a page. */
function countOf(page, status) {
	return textOf(page.locator(`.counts li[data-status="${status}"] ` +
				   '.count'));
}

async function fitsPhone(b, page, step) {
	await b.shot(page, step);
	const width = await scrollWidth(page);
	assert.ok(width <= 375, `${step}: ${width} px wide`);
}

/* Pia on her phone: the completed course, the certificate with PDF and
 * verification link; then the same in German. */
async function learnerCertificate(b, ws, cert, title) {
	const page = await b.page('mobile');

	await signIn(page, ws, 'pia@example.org', PASSWORD);
	const card = page.getByRole('article').filter({ hasText: title });
	await expectText(badge(card, 'completed'), /^Completed$/,
			 'the completed badge on My trainings');
	await b.shot(page, 'learner-trainings-completed');

	await page.getByRole('link', { name: 'My certificates' }).click();
	await expectRoute(page, /^#\/certificates$/);
	await page.getByRole('heading', { level: 1,
					  name: 'My certificates' }).waitFor();
	const item = page.getByRole('article').filter({ hasText: cert.number });
	await expectText(item.getByRole('heading'), new RegExp(title),
			 'the course of the certificate');
	await expectText(badge(item, 'valid'), /^Valid$/, 'the status');
	assert.match(await textOf(item), /Issued/);
	assert.match(await textOf(item), /Expires/);

	const pdf = item.getByRole('link', { name: 'Download PDF' });
	const href = await pdf.getAttribute('href');
	assert.equal(href, `/api/v1/certificates/${cert.id}/pdf`);
	const res = await page.request.get(new URL(href, ws.http).href);
	assert.equal(res.status(), 200);
	assert.equal(res.headers()['content-type'], 'application/pdf');
	assert.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
	const verify = item.getByRole('link', { name: 'Verification page' });
	assert.equal(await verify.getAttribute('href'), cert.verify_url);
	await fitsPhone(b, page, 'learner-certificates-phone');

	await page.getByRole('button', { name: 'Deutsch' }).click();
	await page.getByRole('heading', {
		level: 1, name: 'Meine Zertifikate' }).waitFor();
	await expectText(badge(item, 'valid'), /^Gültig$/, 'German status');
	await item.getByRole('link', { name: 'PDF herunterladen' }).waitFor();
	await page.getByRole('link', { name: 'Prüfseite' }).waitFor();
	await fitsPhone(b, page, 'learner-certificates-phone-de');
	await page.getByRole('link', { name: 'Meine Schulungen' }).click();
	await expectText(badge(card, 'completed'), /^Erledigt$/,
			 'the German badge on My trainings');
	await page.getByRole('button', { name: 'English' }).click();
	await page.close();
}

/* Lou: nothing to show yet, the course overdue. */
async function learnerWithout(b, ws, title) {
	const page = await b.page('mobile');

	await signIn(page, ws, 'lou@example.org', PASSWORD);
	const card = page.getByRole('article').filter({ hasText: title });
	await expectText(badge(card, 'overdue'), /^Overdue$/,
			 'the overdue badge');
	await open(page, ws, '/certificates');
	await page.getByText('You have no certificate yet.').waitFor();
	await fitsPhone(b, page, 'learner-no-certificate');
	await page.close();
}

/* The admin's overview: counts, rows, the status filter. */
async function adminOverview(b, page, ws, cert, title) {
	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await page.getByRole('link', { name: 'Admin', exact: true }).click();
	await page.getByRole('navigation', { name: 'Administration' })
		.getByRole('link', { name: 'Compliance' }).click();
	await expectRoute(page, /^#\/admin\/compliance$/);
	const pia = rowWith(page, 'Pia Prüfling');
	await expectText(badge(pia, 'completed'), /^Completed$/,
			 'Pia\'s status');
	assert.match(await textOf(pia), new RegExp(title));
	assert.match(await textOf(pia), new RegExp(cert.number));
	await expectText(badge(rowWith(page, 'Lou Later'), 'overdue'),
			 /^Overdue$/, 'Lou\'s status');
	assert.equal(await countOf(page, 'completed'), '1');
	assert.equal(await countOf(page, 'overdue'), '1');
	assert.equal(await countOf(page, 'not_started'), '0');
	await b.shot(page, 'admin-compliance');

	await setField(page.getByLabel('Status', { exact: true }),
		       'Overdue');
	await page.getByRole('button', { name: 'Show' }).click();
	await expectRoute(page, /^#\/admin\/compliance\?status=overdue$/);
	await rowWith(page, 'Lou Later').waitFor();
	await until(async () => await rowWith(page, 'Pia Prüfling')
		.count() === 0 || 'Pia still listed', 'only Lou');
	/* the counts stay those of every status */
	assert.equal(await countOf(page, 'completed'), '1');
	await b.shot(page, 'admin-compliance-overdue');

	await setField(page.getByLabel('Status', { exact: true }),
		       'Expired');
	await page.getByRole('button', { name: 'Show' }).click();
	await page.getByText('Nothing matches this filter.').waitFor();
}

/* Lou's page: the overdue reminder to her and to Mia, still waiting. */
async function adminReminders(b, page, ws, ids) {
	await open(page, ws, `/admin/compliance/user/${ids.lou}`);
	await page.getByRole('heading', { level: 1,
					  name: 'Lou Later' }).waitFor();
	const reminders = page.locator('section').filter({
		hasText: 'Reminders' });
	const toLou = rowWith(reminders, 'lou@example.org');
	const toMia = rowWith(reminders, 'mia@example.org');
	await expectText(toLou, /\+7.*7 days overdue.*Learner/s,
			 'the reminder to Lou');
	await expectText(toMia, /\+7.*Manager/s, 'the copy to Mia');
	assert.match(await textOf(toLou), /waiting in the outbox/);
	assert.match(await textOf(page.locator('main')), /Round/);
	assert.match(await textOf(page.locator('main')),
		     /No certificate in force/);
	await b.shot(page, 'admin-person-reminders');
}

/* Pia's page: the certificate, its PDF, then revoked with a reason. */
async function adminRevoke(b, page, ws, admin, ids, cert) {
	await open(page, ws, '/admin/compliance');
	await rowWith(page, 'Pia Prüfling')
		.getByRole('link', { name: 'Pia Prüfling' }).click();
	await expectRoute(page, new RegExp(
		`^#/admin/compliance/user/${ids.pia}$`));
	await page.getByRole('heading', { level: 1,
					  name: 'Pia Prüfling' }).waitFor();
	await expectText(certificateFacts(page), new RegExp(cert.number),
			 'the certificate number');
	const pdf = page.locator('section.panel')
		.getByRole('link', { name: 'Download PDF' });
	assert.equal(await pdf.getAttribute('href'),
		     `/api/v1/certificates/${cert.id}/pdf`);
	await b.shot(page, 'admin-person-certificate');

	await page.getByRole('button', { name: 'Revoke certificate' }).click();
	await page.getByLabel('Reason for revoking').fill(
		'Issued by mistake');
	await b.shot(page, 'admin-revoke-reason');
	await page.getByRole('button', { name: 'Confirm revoke' }).click();
	await page.getByText(`Certificate ${cert.number} revoked.`).waitFor();
	const all = page.getByRole('region', { name: 'All certificates' });
	await expectText(badge(rowWith(all, cert.number), 'revoked'),
			 /^Revoked$/, 'the revoked certificate');
	const after = await apiGet(admin, `/api/v1/certificates?user=${
		ids.pia}`);
	assert.equal(after.find((c) => c.id === cert.id).status, 'revoked');
	await b.shot(page, 'admin-revoked');
}

/* The admin's compliance page on a phone, in German. */
async function adminPhone(b, ws) {
	const page = await b.page('mobile');

	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await page.getByRole('button', { name: 'Deutsch' }).click();
	await open(page, ws, '/admin/compliance');
	await page.getByRole('heading', { level: 1,
					  name: 'Nachweise' }).waitFor();
	await expectText(badge(rowWith(page, 'Lou Later'), 'overdue'),
			 /^Überfällig$/, 'the German status');
	await fitsPhone(b, page, 'de-phone-admin-compliance');
	await page.close();
}

/* Mia: the compliance pages of her group, nothing else of the admin's. */
async function manager(b, ws, ids, cert) {
	const page = await b.page('desktop');

	await signIn(page, ws, 'mia@example.org', PASSWORD);
	const nav = page.getByRole('navigation', { name: 'Main' });
	assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(),
		     0);
	await nav.getByRole('link', { name: 'Compliance' }).click();
	await expectRoute(page, /^#\/admin\/compliance$/);
	await expectText(badge(rowWith(page, 'Pia Prüfling'), 'completed'),
			 /^Completed$/, 'Pia for her manager');
	await rowWith(page, 'Lou Later').waitFor();
	assert.equal(await page.getByRole('link', { name: 'Users' }).count(),
		     0);
	await b.shot(page, 'manager-compliance');

	await rowWith(page, 'Pia Prüfling')
		.getByRole('link', { name: 'Pia Prüfling' }).click();
	await expectText(certificateFacts(page), new RegExp(cert.number),
			 'the number for Mia');
	assert.equal(await page.getByRole('button', {
		name: 'Revoke certificate' }).count(), 0);
	/* the PDF of one of her people downloads with her session */
	const pdf = page.locator('section.panel')
		.getByRole('link', { name: 'Download PDF' });
	const href = await pdf.getAttribute('href');
	assert.equal(href, `/api/v1/certificates/${cert.id}/pdf`);
	const res = await page.request.get(new URL(href, ws.http).href);
	assert.equal(res.status(), 200);
	assert.equal(res.headers()['content-type'], 'application/pdf');
	await b.shot(page, 'manager-person');

	await open(page, ws, '/admin/users');
	await expectRoute(page, /^#\/trainings$/);
	await open(page, ws, '/admin/mail');
	await expectRoute(page, /^#\/trainings$/);
	await page.close();
}

browserTest('certificates and compliance for learner, admin and manager',
	    async (t, b) => {
	const { ws, admin } = await academy();
	const ids = await people(ws, admin);
	const pia = await apiSignIn(ws, 'pia@example.org');

	await completeCourse(ws, pia, COURSE);
	/* one run decides the reminders of the overdue course now rather
	 * than at the daemon's next minute */
	await runOk(WORKSPACE_BIN, ['compliance', 'run', ws.data]);
	const piaApi = await apiLogin(ws, 'pia@example.org');
	const [cert] = await apiGet(piaApi, '/api/v1/certificates');
	const title = (await apiGet(piaApi, `/api/v1/courses/${COURSE}`))
		.title;
	assert.ok(cert, 'Pia has a certificate');
	t.diagnostic(`certificate ${cert.number}, course "${title}"`);

	await learnerCertificate(b, ws, cert, title);
	await learnerWithout(b, ws, title);
	await manager(b, ws, ids, cert);
	await adminPhone(b, ws);
	const page = await b.page('desktop');
	await adminOverview(b, page, ws, cert, title);
	await adminReminders(b, page, ws, ids);
	await adminRevoke(b, page, ws, admin, ids, cert);
});

browserTest('the outbox page lists a mail that waits for the server',
	    async (t, b) => {
	const { ws } = await academy();

	await addUser(ws, 'ian@example.org', { name: 'Ian Neu' });
	await runOk(WORKSPACE_BIN, ['user', 'invite', ws.data,
				    'ian@example.org', '--mail']);
	const page = await b.page('desktop');

	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await open(page, ws, '/admin/users');
	await page.getByRole('navigation', { name: 'Administration' })
		.getByRole('link', { name: 'Outbox' }).click();
	await expectRoute(page, /^#\/admin\/mail$/);
	const row = rowWith(page, 'ian@example.org');
	await expectText(row, /Invitation/, 'the invitation');
	assert.match(await textOf(row.locator('.badge')),
		     /^(Queued|Retrying)$/);
	const pending = Number(await countOf(page, 'queued')) +
		Number(await countOf(page, 'retrying'));
	assert.equal(pending, 1);
	assert.equal(await countOf(page, 'sent'), '0');
	await b.shot(page, 'admin-outbox');

	/* the mail server is down: the attempt fails and says why */
	await open(page, ws, '/admin/mail?state=retrying');
	await until(async () => {
		await page.reload();
		await page.getByRole('heading', { level: 1 }).waitFor();
		await page.locator('main:not([aria-busy])').waitFor();
		return await rowWith(page, 'ian@example.org').count() > 0 ||
			clip(await textOf(page.locator('main')));
	}, 'the invitation among the retried mails', 2 * WAIT);
	await expectText(rowWith(page, 'ian@example.org'), /Last error: \S/,
			 'the reason of the failed attempt');
	await b.shot(page, 'admin-outbox-retrying');

	await open(page, ws, '/admin/mail?state=sent');
	await page.getByText('No mail in this state.').waitFor();

	await olderMails(b, page, ws);
});

/* 51 overdue learners get a reminder each: with the invitation that is
 * 52 mails, 50 on the first page, the invitation (the oldest) on the
 * next. */
async function olderMails(b, page, ws) {
	const admin = await apiLogin(ws, 'ada@example.org');
	const g = await admin.post('/api/v1/groups', {
		name: 'Late', rule: { team: 'late' } });

	assert.equal(g.status, 201, g.text);
	for (let i = 1; i <= 51; i++) {
		const u = await admin.post('/api/v1/users', {
			email: `late${i}@example.org`, name: `Late ${i}`,
			attributes: { team: 'late' } });
		assert.equal(u.status, 201, u.text);
	}
	const a = await admin.post('/api/v1/assignments', {
		course: COURSE, group: g.json.id, due: LOU_DUE });
	assert.equal(a.status, 201, a.text);
	await runOk(WORKSPACE_BIN, ['compliance', 'run', ws.data]);

	await open(page, ws, '/admin/mail');
	await page.reload();
	const rows = page.locator('tbody tr');
	await until(async () => await rows.count() === 50 ||
		    `${await rows.count()} rows`, '50 mails on the first page');
	assert.equal(await rowWith(page, 'ian@example.org').count(), 0);
	await page.getByRole('button', { name: 'Show older mails' }).click();
	await until(async () => await rows.count() === 52 ||
		    `${await rows.count()} rows`, '52 mails after paging');
	await expectText(rowWith(page, 'ian@example.org'), /Invitation/,
			 'the invitation on the older page');
	assert.equal(await page.getByRole('button', {
		name: 'Show older mails' }).count(), 0);
	assert.equal(await page.evaluate(() =>
		document.activeElement?.tagName), 'TR');
	await expectText(page.getByRole('status').filter({
		hasText: 'older mails shown' }), /^2 older mails shown\.$/,
		'the announcement');
	await b.shot(page, 'admin-outbox-older');
}

/* The settings form: a refused schedule, then a good one and a
 * password. */
async function mailSettings(b, page, admin) {
	const form = page.getByRole('form', { name: 'Mail and reminders' });
	const schedule = form.getByLabel('Reminder schedule');
	const password = form.getByLabel('SMTP password');

	await schedule.waitFor();
	assert.match(await form.getByLabel('Mail server (SMTP URL)')
		.inputValue(), /^smtp:\/\/127\.0\.0\.1:\d+$/);
	await expectText(form, /No password is stored\./, 'no password');
	await schedule.fill('-14,0,soon');
	await form.getByRole('button', { name: 'Save settings' }).click();
	await expectText(form.getByRole('alert'), /^reminders\.schedule/,
			 'the server\'s reason');
	await b.shot(page, 'admin-settings-refused');
	assert.equal((await apiGet(admin, '/api/v1/settings'))
		['reminders.schedule'], null);

	await schedule.fill('-7,0,+3');
	await password.fill('s3cret-pass');
	await form.getByRole('button', { name: 'Save settings' }).click();
	await page.getByText('Settings saved.').waitFor();
	const s = await apiGet(admin, '/api/v1/settings');
	assert.equal(s['reminders.schedule'], '-7,0,+3');
	assert.equal(s['smtp.password_set'], true);
	await expectText(page.getByRole('form', { name: 'Mail and reminders' }),
			 /A password is stored\./, 'the stored password');
	assert.equal(await page.getByLabel('SMTP password').inputValue(), '');
}

/* The German invitation: an unknown placeholder refused, then saved,
 * then back to the built-in text. */
async function mailText(b, page, admin) {
	const section = page.getByRole('region', { name: 'Mail texts' });
	const invite = async () => (await apiGet(admin,
		'/api/v1/mail-templates')).templates.find((x) =>
		x.kind === 'invite' && x.language === 'de');

	await setField(section.getByLabel('Mail', { exact: true }),
		       'Invitation – Deutsch');
	await expectText(section, new RegExp('Placeholders: ' +
		escapeRe('{{learner}}, {{url}}, {{academy}}')),
		'the placeholders of the invitation');
	await section.getByLabel('Subject').fill('Willkommen bei {{academy}}');
	await section.getByLabel('Text', { exact: true }).fill(
		'Hallo {{learner}}, {{foo}}');
	await section.getByRole('button', { name: 'Save mail text' }).click();
	await expectText(section.getByRole('alert'),
			 /unknown placeholder \{\{foo\}\}/, 'the refusal');
	assert.equal((await invite()).custom, false);
	await b.shot(page, 'admin-mail-text-refused');

	await section.getByLabel('Text', { exact: true }).fill(
		'Hallo {{learner}},\nhier ist Ihr Link: {{url}}');
	await section.getByRole('button', { name: 'Save mail text' }).click();
	await expectText(section.getByRole('status'), /saved/, 'saved');
	await expectText(section, /Your own text is in use\./, 'custom');
	const saved = await invite();
	assert.equal(saved.custom, true);
	assert.equal(saved.subject, 'Willkommen bei {{academy}}');
	await section.getByRole('button', {
		name: 'Back to the built-in text' }).click();
	await expectText(section.getByRole('status'), /built-in text/,
			 'reset');
	assert.equal((await invite()).custom, false);
}

/* The certificate's English title, and a signature up and gone. */
async function certificateTemplate(b, page, admin) {
	const section = () => page.getByRole('region', {
		name: 'Certificate template' });
	const tpl = () => apiGet(admin, '/api/v1/certificate-template');

	await section().getByLabel('Title').nth(1).fill(
		'Certificate of training');
	await section().getByRole('button', {
		name: 'Save certificate texts' }).click();
	await page.getByText('Certificate template saved.').waitFor();
	assert.equal((await tpl()).title.en, 'Certificate of training');
	assert.equal((await tpl()).title.de, 'Zertifikat');

	await section().getByLabel('Signature image').setInputFiles({
		name: 'signature.png', mimeType: 'image/png',
		buffer: makePng(64, '#203040') });
	await section().getByRole('button', { name: 'Upload signature' })
		.click();
	await page.getByText('Signature stored.').waitFor();
	const img = section().getByRole('img', { name: 'Current signature' });
	await until(() => img.evaluate((el) => el.complete &&
		el.naturalWidth === 64), 'the signature image to load');
	assert.equal((await tpl()).signature, true);
	await b.shot(page, 'admin-certificate-template');

	await section().getByRole('button', { name: 'Remove signature' })
		.click();
	await page.getByText('Signature removed.').waitFor();
	assert.equal((await tpl()).signature, false);
}

browserTest('the settings page: mail, mail texts, certificate template',
	    async (t, b) => {
	const { ws, admin } = await academy();
	const page = await b.page('desktop');

	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await open(page, ws, '/admin/compliance');
	await page.getByRole('navigation', { name: 'Administration' })
		.getByRole('link', { name: 'Settings' }).click();
	await expectRoute(page, /^#\/admin\/settings$/);
	await mailSettings(b, page, admin);
	await mailText(b, page, admin);
	await certificateTemplate(b, page, admin);

	const phone = await b.page('mobile');
	await signIn(phone, ws, 'ada@example.org', PASSWORD);
	await phone.getByRole('button', { name: 'Deutsch' }).click();
	await open(phone, ws, '/admin/settings');
	await phone.getByRole('heading', { level: 1,
					   name: 'Einstellungen' }).waitFor();
	await phone.getByLabel('Erinnerungsplan').waitFor();
	await fitsPhone(b, phone, 'de-phone-settings');
});
