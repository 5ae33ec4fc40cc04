/*
 * A tenant admin runs the academy from the browser: on a desktop screen
 * the admin edits a user's attributes (changes one, adds one, removes
 * one) so that the user matches a rule group, and sees that group among
 * the user's groups and the user among the group's members; changes the
 * group's rule and sees its members change; adds a member by hand and
 * removes them again (members by the rule have no Remove button); moves
 * an assignment's due date, which a learner on a phone then sees on My
 * trainings, and deletes it, after which the learner no longer has the
 * course; deletes the group with the keyboard alone. The same admin
 * pages in German on a phone, with their forms open, fit the screen.
 */
import assert from 'node:assert/strict';

import {
	startSystem, addUser, apiLogin, apiGet, apiWaitFor, PASSWORD, COURSE,
} from './lib/system.mjs';
import {
	browserTest, signIn, open, setField, expectText, trainingItem, until,
	textOf, clip, scrollWidth,
} from './lib/web.mjs';

const GROUP = 'Care';
const DUE = '2027-03-01';
const NEW_DUE = '2027-04-15';

/* The accessible description of a button: the text of the elements its
 * aria-describedby names. */
function description(button) {
	return button.evaluate((el) => (el.getAttribute('aria-describedby') ??
		'').split(/\s+/).filter(Boolean).map((id) =>
		document.getElementById(id)?.textContent ?? '').join(' '));
}

/* The table row (or tree item) holding text. */
function rowWith(scope, text, tag = 'tr') {
	return scope.locator(tag).filter({ hasText: text }).last();
}

async function userByEmail(api, email) {
	return (await apiGet(api, '/api/v1/users')).find(
		(u) => u.email === email);
}

async function memberEmails(api, group) {
	return (await apiGet(api, `/api/v1/groups/${group}`)).members
		.map((m) => `${m.email}${m.from_rule ? '' : ' (by hand)'}`)
		.sort();
}

/* Users page: Ian's attributes change so that the rule of Care matches. */
async function editUser(b, page, ws, api) {
	await open(page, ws, '/admin/users');
	const row = rowWith(page, 'ian@example.org');
	const edit = row.getByRole('button', { name: 'Edit', exact: true });

	await edit.waitFor();
	assert.equal(await description(edit), 'ian@example.org');
	await edit.click();
	const form = page.getByRole('form', { name: 'Edit user' });
	await form.waitFor();
	await until(async () => await page.evaluate(() =>
		document.activeElement?.textContent) === 'Edit user' ||
		'focus elsewhere', 'focus on the form heading');

	const keys = form.getByLabel('Attribute', { exact: true });
	const values = form.getByLabel('Value', { exact: true });
	assert.deepEqual(await keys.evaluateAll((els) => els.map(
		(e) => e.value)), ['department', 'team']);
	await setField(values.nth(0), 'Pflege');
	await form.getByRole('button', { name: 'Remove attribute' }).nth(1)
		.click();
	await form.getByRole('button', { name: 'Add attribute' }).click();
	await setField(keys.nth(1), 'location');
	await setField(values.nth(1), 'Köln');
	await setField(form.getByLabel('Name', { exact: true }),
		       'Ian Care');
	await b.shot(page, 'admin-edit-user');
	await form.getByRole('button', { name: 'Save user' }).click();

	await expectText(form.locator('.user-groups'), new RegExp(GROUP),
			 'the user\'s groups after saving');
	await expectText(form.getByRole('status'), /saved/,
			 'the saved message');
	await expectText(rowWith(page, 'ian@example.org'),
			 /department=Pflege, location=Köln/,
			 'the new attributes in the list');
	const ian = await userByEmail(api, 'ian@example.org');
	assert.deepEqual(ian.attributes, { department: 'Pflege',
					   location: 'Köln' });
	assert.equal(ian.name, 'Ian Care');
	await b.shot(page, 'admin-user-saved');
}

/* Groups page: members by rule, a changed rule, a member by hand. */
async function editGroup(b, page, ws, api, group) {
	await open(page, ws, '/admin/groups');
	const item = rowWith(page, GROUP, 'li');
	const edit = item.getByRole('button', { name: 'Edit', exact: true });

	await edit.waitFor();
	assert.equal(await description(edit), GROUP);
	await edit.click();
	const form = page.getByRole('form', { name: 'Edit group' });
	const members = page.getByRole('region', { name: 'Members' });
	await form.waitFor();

	/* Ian is a member by the rule now, with Pia; neither removable */
	for (const email of ['ian@example.org', 'pia@example.org']) {
		const row = rowWith(members, email);
		await expectText(row, /by rule/, `${email} as a rule member`);
		assert.equal(await row.getByRole('button').count(), 0);
	}
	await b.shot(page, 'admin-edit-group');

	/* the rule gets a second condition: Pia no longer matches */
	await form.getByRole('button', { name: 'Add condition' }).click();
	await setField(form.getByLabel('Attribute', { exact: true }).nth(1),
		       'location');
	await setField(form.getByLabel('Value', { exact: true }).nth(1),
		       'Köln');
	await form.getByRole('button', { name: 'Save group' }).click();
	await until(async () => await rowWith(members, 'pia@example.org')
		.count() === 0 || clip(await textOf(members)),
		'Pia to leave the members');
	await rowWith(members, 'ian@example.org').waitFor();
	assert.deepEqual(await memberEmails(api, group),
			 ['ian@example.org']);
	assert.deepEqual((await apiGet(api, `/api/v1/groups/${group}`)).rule,
			 { department: 'Pflege', location: 'Köln' });
	await expectText(rowWith(page, GROUP, 'li'), /\(1 member\)/,
			 'the member count in the tree');
	await b.shot(page, 'admin-group-rule-changed');

	/* Pia by hand, then removed again */
	await setField(members.getByLabel('Member email'),
		       'pia@example.org');
	await members.getByRole('button', { name: 'Add member' }).click();
	const pia = rowWith(members, 'pia@example.org');
	const remove = pia.getByRole('button', { name: 'Remove',
						  exact: true });
	await remove.waitFor();
	assert.equal(await description(remove), 'pia@example.org');
	assert.deepEqual(await memberEmails(api, group),
			 ['ian@example.org', 'pia@example.org (by hand)']);
	await b.shot(page, 'admin-member-added');
	await remove.click();
	await until(async () => await pia.count() === 0 ||
		clip(await textOf(members)), 'Pia to be removed');
	await expectText(members.getByRole('status'), /removed/,
			 'the removed message');
	assert.deepEqual(await memberEmails(api, group),
			 ['ian@example.org']);
	await b.shot(page, 'admin-member-removed');
}

/* The learner's My trainings, reloaded; resolves to the item's text or
 * null when the course is not there. */
async function learnerSees(page, due) {
	await page.reload();
	if (due === null) {
		await page.getByText(/No trainings yet/).waitFor();
		assert.equal(await page.getByText(COURSE.title).count(), 0);
		return;
	}
	const item = await trainingItem(page, COURSE.title);
	await until(async () => await item.locator(
		`time[datetime="${due}"]`).count() > 0 ||
		clip(await textOf(item)), `the course due ${due}`);
}

/* Assignments page: a new due date, then the assignment deleted. */
async function changeAssignment(b, page, ws, api, learner, id) {
	await open(page, ws, '/admin/assignments');
	const row = page.locator(`tr#assign-row-${id}`);
	const change = row.getByRole('button', { name: 'Change due date' });

	await change.waitFor();
	assert.match(await description(change), new RegExp(GROUP));
	await change.click();
	const date = row.getByLabel('New due date');
	assert.equal(await date.inputValue(), DUE);
	await date.fill(NEW_DUE);
	await b.shot(page, 'admin-change-due');
	await row.getByRole('button', { name: 'Save due date' }).click();
	await row.locator(`time[datetime="${NEW_DUE}"]`).waitFor();
	await expectText(page.getByRole('status').filter(
		{ hasText: /now due/ }), /2027-04-15/, 'the saved message');
	await apiWaitFor(async () => (await apiGet(api,
		'/api/v1/assignments')).find((a) => a.id === id)?.due ===
		NEW_DUE, 'the new due date stored');
	await b.shot(page, 'admin-due-changed');

	await learnerSees(learner, NEW_DUE);
	await b.shot(learner, 'learner-new-due-date');

	await row.getByRole('button', { name: 'Delete', exact: true })
		.click();
	await b.shot(page, 'admin-confirm-delete');
	await row.getByRole('button', { name: 'Confirm delete' }).click();
	await until(async () => await row.count() === 0 ||
		'still listed', 'the row to go');
	await page.getByText('No assignments yet.').waitFor();
	assert.deepEqual(await apiGet(api, '/api/v1/assignments'), []);
	await b.shot(page, 'admin-assignment-deleted');

	await learnerSees(learner, null);
	await b.shot(learner, 'learner-course-gone');
}

/* The text of the focused element. */
function focused(page) {
	return page.evaluate(() => document.activeElement?.textContent ?? '');
}

/* Groups page, by keyboard: the group is deleted after confirming. */
async function deleteGroup(b, page, ws, api) {
	await open(page, ws, '/admin/groups');
	await rowWith(page, GROUP, 'li')
		.getByRole('button', { name: 'Edit', exact: true }).focus();
	await page.keyboard.press('Enter');
	await until(async () => await focused(page) === 'Edit group' ||
		    await focused(page), 'focus on "Edit group"');
	await page.getByRole('button', { name: 'Delete group' }).focus();
	await page.keyboard.press('Enter');
	await until(async () => await focused(page) === 'Confirm delete' ||
		    await focused(page), 'focus on "Confirm delete"');
	await expectText(page.getByRole('status').filter(
		{ hasText: /Delete the group/ }), new RegExp(GROUP),
			 'the question');
	await b.shot(page, 'admin-confirm-delete-group');
	await page.keyboard.press('Enter');
	await page.getByText('No groups yet.').waitFor();
	await expectText(page.getByRole('status').first(), /deleted/,
			 'the deleted message');
	assert.deepEqual(await apiGet(api, '/api/v1/groups'), []);
	await b.shot(page, 'admin-group-deleted');
}

/* The admin pages in German (the header's language switch) on a phone,
 * forms open: no sideways scrolling. */
async function germanPhone(b, ws) {
	const page = await b.page('mobile');
	const fits = async (step) => {
		await b.shot(page, step);
		const width = await scrollWidth(page);
		assert.ok(width <= 375, `${step}: ${width} px wide`);
	};

	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await page.getByRole('button', { name: 'Deutsch' }).click();
	await page.getByRole('button', { name: 'English' }).waitFor();
	await open(page, ws, '/admin/users');
	await rowWith(page, 'ian@example.org')
		.getByRole('button', { name: 'Bearbeiten' }).click();
	await page.getByRole('form', { name: 'Benutzer bearbeiten' })
		.getByLabel('Merkmal', { exact: true }).first().waitFor();
	await fits('de-phone-edit-user');

	await open(page, ws, '/admin/groups');
	await rowWith(page, GROUP, 'li')
		.getByRole('button', { name: 'Bearbeiten' }).click();
	await page.getByLabel('E-Mail des Mitglieds').waitFor();
	await fits('de-phone-edit-group');

	await open(page, ws, '/admin/assignments');
	await page.getByRole('button', { name: 'Fälligkeit ändern' }).first()
		.click();
	await page.getByLabel('Neues Fälligkeitsdatum').waitFor();
	await fits('de-phone-change-due');
	await page.getByRole('button', { name: 'Abbrechen' }).click();
	await page.getByRole('button', { name: 'Löschen', exact: true })
		.first().click();
	await page.getByRole('button', { name: 'Löschen bestätigen' })
		.waitFor();
	await fits('de-phone-confirm-delete');
	await page.close();
}

browserTest('admin: edit users, groups and assignments in the browser',
	    async (t, b) => {
	const { ws } = await startSystem();

	await addUser(ws, 'ada@example.org', { name: 'Ada Admin',
					       role: 'admin' });
	await addUser(ws, 'pia@example.org', { name: 'Pia Pflege',
		attrs: { department: 'Pflege' } });
	await addUser(ws, 'ian@example.org', { name: 'Ian Bonn',
		attrs: { department: 'IT', team: 'nights' } });
	const api = await apiLogin(ws, 'ada@example.org');
	const group = await api.post('/api/v1/groups', {
		name: GROUP, rule: { department: 'Pflege' } });
	assert.equal(group.status, 201, group.text);

	const page = await b.page('desktop');
	await signIn(page, ws, 'ada@example.org', PASSWORD);
	await editUser(b, page, ws, api);
	await editGroup(b, page, ws, api, group.json.id);

	const made = await api.post('/api/v1/assignments', {
		course: COURSE.id, group: group.json.id, due: DUE });
	assert.equal(made.status, 201, made.text);
	const learner = await b.page('mobile');
	await signIn(learner, ws, 'ian@example.org', PASSWORD);
	await learnerSees(learner, DUE);
	await b.shot(learner, 'learner-assigned');

	await germanPhone(b, ws);
	await changeAssignment(b, page, ws, api, learner, made.json.id);
	await deleteGroup(b, page, ws, api);
});
