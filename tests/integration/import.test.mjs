/*
 * The CSV import of people against a running workspace, through the API
 * (POST /api/v1/users/import) and the command line (`lms-workspace user
 * import`): new people are created and land in the groups their
 * attributes match; a file with bad lines is refused with 422 listing
 * every bad line and changes nothing; a dry run counts and changes
 * nothing; importing again updates, and people move between groups as
 * their attributes change. Only admins may import.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';

import {
	lmsTest, run, runOk, setupMother, addWorkspace, tmpPath,
	WORKSPACE_BIN,
} from './lib/harness.mjs';
import {
	request, assertErrorCode, addUser, bearer, signIn,
} from './lib/api.mjs';

async function importCsv(ws, auth, csv, dryRun) {
	return request(ws, 'POST',
		       `/api/v1/users/import${dryRun ? '?dry_run=1' : ''}`,
		       { headers: auth, csv, timeout: 20000 });
}

/* The users by email: {email: {name, role, attributes, groups}}. */
async function users(ws, auth) {
	const res = await request(ws, 'GET', '/api/v1/users',
				  { headers: auth });
	assert.equal(res.status, 200, res.text);
	return Object.fromEntries(res.json.map((u) => [u.email, u]));
}

async function memberEmails(ws, auth, id) {
	const res = await request(ws, 'GET', `/api/v1/groups/${id}`,
				  { headers: auth });
	assert.equal(res.status, 200, res.text);
	return res.json.members.map((m) => m.email.split('@')[0]);
}

function assertCounts(res, dryRun, created, updated, unchanged) {
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(res.json, { dry_run: dryRun, created, updated,
				     unchanged, errors: [] });
}

lmsTest('import: API creates, updates, refuses bad files whole',
	async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	await addUser(ws, 'ada@example.org', 'admin');
	const admin = await signIn(ws, 'ada@example.org');
	const byToken = await bearer(ws, 'ada@example.org');
	const group = async (name, rule) => (await request(ws, 'POST',
		'/api/v1/groups', { headers: admin,
				    json: { name, rule } })).json.id;
	const pflege = await group('Pflege', { department: 'Pflege' });
	const koeln = await group('Köln', { location: 'Köln' });

	/* a spreadsheet's export: BOM, semicolons, CRLF, quotes */
	const file = '\ufeffE-Mail;Name;Role;Department;Location\r\n';
	let res = await importCsv(ws, admin, file +
		'pia@example.org;"Pia Müller";;Pflege;Köln\r\n', false);
	assert.equal(res.status, 422, res.text);
	assert.equal(res.json.errors[0].line, 1);
	assert.match(res.json.errors[0].message, /e-mail|email/);

	const good = 'email;name;role;department;location\r\n' +
		'pia@example.org;"Müller; Pia";;Pflege;Köln\r\n' +
		'Bob@Example.org;Bob Becker;manager;IT;Köln\r\n' +
		'cy@example.org;Cy Celik;learner;Pflege;Bonn\r\n';
	res = await importCsv(ws, admin, '\ufeff' + good, false);
	assertCounts(res, false, 3, 0, 0);
	let all = await users(ws, admin);
	assert.equal(Object.keys(all).length, 4);
	assert.equal(all['pia@example.org'].name, 'Müller; Pia');
	assert.equal(all['pia@example.org'].role, 'learner');
	assert.equal(all['bob@example.org'].role, 'manager');
	assert.deepEqual(all['cy@example.org'].attributes,
			 { department: 'Pflege', location: 'Bonn' });
	assert.deepEqual(await memberEmails(ws, admin, pflege), ['pia', 'cy']);
	assert.deepEqual(await memberEmails(ws, admin, koeln), ['pia', 'bob']);

	/* two bad lines: 422 with both, nothing changed */
	res = await importCsv(ws, byToken,
		'email,name,department\n' +
		'dee@example.org,Dee,IT\n' +
		'not-an-email,Eve,IT\n' +
		'pia@example.org,Pia,IT\n' +
		'fay@example.org,,IT\n', false);
	assert.equal(res.status, 422, res.text);
	assert.equal(res.json.dry_run, false);
	assert.equal(res.json.created, 0);
	assert.equal(res.json.updated, 0);
	assert.deepEqual(res.json.errors.map((e) => e.line), [3, 5]);
	assert.match(res.json.errors[0].message, /not-an-email/);
	assert.match(res.json.errors[1].message, /name/);
	all = await users(ws, admin);
	assert.equal(Object.keys(all).length, 4);
	assert.equal(all['pia@example.org'].attributes.department, 'Pflege');

	/* a dry run counts and changes nothing */
	const next = 'email,name,department,location\n' +
		'pia@example.org,Müller; Pia,IT,Köln\n' +
		'bob@example.org,Bob Becker,IT,Köln\n' +
		'cy@example.org,Cy Celik,Pflege,\n' +
		'dee@example.org,Dee Dietz,Pflege,Köln\n';
	res = await importCsv(ws, admin, next, true);
	assertCounts(res, true, 1, 2, 1);
	all = await users(ws, admin);
	assert.equal(Object.keys(all).length, 4);
	assert.equal(all['pia@example.org'].attributes.department, 'Pflege');
	assert.deepEqual(await memberEmails(ws, admin, pflege), ['pia', 'cy']);

	/* the real one: updates, and people move between groups */
	res = await importCsv(ws, admin, next, false);
	assertCounts(res, false, 1, 2, 1);
	all = await users(ws, admin);
	assert.equal(Object.keys(all).length, 5);
	assert.deepEqual(all['cy@example.org'].attributes,
			 { department: 'Pflege' });
	assert.equal(all['bob@example.org'].role, 'manager');
	assert.deepEqual(await memberEmails(ws, admin, pflege), ['cy', 'dee']);
	assert.deepEqual(await memberEmails(ws, admin, koeln),
			 ['pia', 'bob', 'dee']);
	/* the same file again changes nothing */
	assertCounts(await importCsv(ws, admin, next, false),
		     false, 0, 0, 4);

	/* a rule changed afterwards moves imported people too */
	res = await request(ws, 'PATCH', `/api/v1/groups/${pflege}`, {
		headers: admin, json: { rule: { department: 'IT' } } });
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(await memberEmails(ws, admin, pflege), ['pia', 'bob']);

	/* the last admin keeps the role: 422 at that line, as PATCH 409 */
	res = await importCsv(ws, admin, 'email,name,role\n' +
		'ada@example.org,Ada,manager\n', false);
	assert.equal(res.status, 422, res.text);
	assert.equal(res.json.errors[0].line, 2);
	assert.match(res.json.errors[0].message, /admin/);
	assert.equal((await users(ws, admin))['ada@example.org'].role,
		     'admin');

	/* who may import, and how */
	await addUser(ws, 'lea@example.org', 'learner', {},
		      { password: 'learner-secret' });
	const learner = await signIn(ws, 'lea@example.org', 'learner-secret');
	assertErrorCode(await importCsv(ws, learner, good, false), 403,
			'forbidden');
	assertErrorCode(await importCsv(ws, {}, good, false), 401,
			'unauthorized');
	assertErrorCode(await importCsv(ws, { Cookie: admin.Cookie }, good,
					false), 403, 'forbidden');
	res = await request(ws, 'GET', '/api/v1/users/import',
			    { headers: admin });
	assertErrorCode(res, 405, 'method_not_allowed');
	assert.equal(res.headers.get('allow'), 'POST');
	res = await importCsv(ws, admin, '', false);
	assert.equal(res.status, 422, res.text);
	assert.equal(res.json.errors[0].line, 1);
	assert.equal(Object.keys(await users(ws, admin)).length, 6);
});

lmsTest('import: the command line, also while serve runs', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	await addUser(ws, 'ada@example.org', 'admin');
	const admin = await signIn(ws, 'ada@example.org');
	const pflege = (await request(ws, 'POST', '/api/v1/groups', {
		headers: admin,
		json: { name: 'Pflege', rule: { department: 'Pflege' } },
	})).json.id;
	const file = tmpPath('people.csv');

	fs.writeFileSync(file, 'email,name,department\n' +
			 'pia@example.org,"Müller, Pia",Pflege\n' +
			 'bob@example.org,Bob,IT\n');
	let r = await runOk(WORKSPACE_BIN, ['user', 'import', ws.data, file,
					    '--dry-run']);
	assert.match(r.stdout, /dry run.*2 created, 0 updated, 0 unchanged/);
	assert.equal(Object.keys(await users(ws, admin)).length, 1);

	r = await runOk(WORKSPACE_BIN, ['user', 'import', ws.data, file]);
	assert.equal(r.stdout, '2 created, 0 updated, 0 unchanged\n');
	assert.deepEqual(await memberEmails(ws, admin, pflege), ['pia']);

	/* a bad file: every bad line on stderr, exit 1, nothing changed */
	fs.writeFileSync(file, 'email,name,department\n' +
			 'pia@example.org,Pia,IT\n' +
			 'bob@example.org,Bob,Pflege,extra\n' +
			 'pia@example.org,Pia again,IT\n');
	r = await run(WORKSPACE_BIN, ['user', 'import', ws.data, file]);
	assert.equal(r.code, 1, r.stderr);
	assert.match(r.stderr, new RegExp(`${file}:3: .*fields`));
	assert.match(r.stderr, new RegExp(`${file}:4: .*line 2`));
	assert.deepEqual(await memberEmails(ws, admin, pflege), ['pia']);

	/* a good one updates; the group follows */
	fs.writeFileSync(file, 'email,name,department\n' +
			 'pia@example.org,"Müller, Pia",IT\n' +
			 'bob@example.org,Bob,Pflege\n');
	r = await runOk(WORKSPACE_BIN, ['user', 'import', ws.data, file]);
	assert.equal(r.stdout, '0 created, 2 updated, 0 unchanged\n');
	assert.deepEqual(await memberEmails(ws, admin, pflege), ['bob']);

	/* usage */
	r = await run(WORKSPACE_BIN, ['user', 'import', ws.data]);
	assert.equal(r.code, 2);
	r = await run(WORKSPACE_BIN, ['user', 'import', ws.data,
				      tmpPath('missing.csv')]);
	assert.equal(r.code, 1);
	r = await runOk(WORKSPACE_BIN, ['user', 'import', '--help']);
	assert.match(r.stdout, /--dry-run/);
});
