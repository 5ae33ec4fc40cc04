/*
 * People and access, second part, against running workspaces: an admin
 * creates a user through the API and invites them; the person sets a
 * password through the link and is signed in; a link works once and
 * expires (a daemon restarted with LMS_FAKE_NOW past the expiry); a
 * reset link ends the other sessions; anyone may ask for a reset and
 * gets the same 202 for a known and an unknown email. Logins are
 * throttled per account and per client address (429 with Retry-After,
 * even for the right password) until the window passes. An admin's
 * change of attributes moves a user between rule groups. A manager sees
 * and assigns only within the groups they are a member of (and the
 * groups below); a learner gets 403 on every admin path. Cookie writes
 * without the CSRF token get 403, malformed JSON 400, and neither
 * changes anything.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, run, runOk, describeResult, setupMother, addWorkspace,
	waitFor, WORKSPACE_BIN, HEX64,
} from './lib/harness.mjs';
import {
	request, assertError, addUser, login, PASSWORD,
	sessionHeaders as sessionOf, signIn as signInAs,
} from './lib/api.mjs';

const COURSE = 'hygiene-basics';
const LINK = /^\/#\/password\?token=([0-9a-f]{64})$/;

/* Sessions here also check that the CSRF token is 64 hex. */
function csrfChecked(headers) {
	assert.match(headers['X-CSRF-Token'], HEX64);
	return headers;
}

/* Cookie and CSRF headers of a signed-in answer (login or link). */
function sessionHeaders(res) {
	return csrfChecked(sessionOf(res));
}

async function signIn(ws, email, password) {
	return csrfChecked(await signInAs(ws, email, password));
}

/* An ISO time (without milliseconds) seconds from now. */
function isoIn(seconds) {
	return new Date(Date.now() + seconds * 1000).toISOString()
		.replace(/\.\d{3}Z$/, 'Z');
}

/* The token of a link path printed by `user invite` or `user reset`. */
async function cliLink(ws, sub, email) {
	const r = await runOk(WORKSPACE_BIN, ['user', sub, ws.data, email]);
	const m = LINK.exec(r.stdout.trim());

	assert.ok(m, describeResult(r));
	return m[1];
}

function setPassword(ws, token, password) {
	return request(ws, 'POST', '/api/v1/password',
		       { json: { token, password } });
}

lmsTest('a user created by the API is invited, sets a password and ' +
	'is signed in; links work once', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	await addUser(ws, 'ada@example.org', 'admin');
	const admin = await signIn(ws, 'ada@example.org');

	/* the session as the web app reads it at start */
	const me = await request(ws, 'GET', '/api/v1/session',
				 { headers: { Cookie: admin.Cookie } });
	assert.equal(me.status, 200, me.text);
	assert.equal(me.json.user.email, 'ada@example.org');
	assert.equal(me.json.user.role, 'admin');
	assert.deepEqual(me.json.user.attributes, {});
	assert.equal(me.json.user.language, null);
	assert.equal(me.json.csrf_token, admin['X-CSRF-Token']);
	assertError(await request(ws, 'GET', '/api/v1/session'),
		    401, 'unauthorized');

	/* writes by cookie need the CSRF token; bad bodies change nothing */
	const ben = { email: 'Ben@Example.org', name: 'Ben Bauer',
		      attributes: { department: 'Care' } };
	assertError(await request(ws, 'POST', '/api/v1/users', {
		headers: { Cookie: admin.Cookie }, json: ben }),
		    403, 'forbidden');
	for (const body of ['{"email": "ben@example.org",', [ben],
			    { ...ben, role: 'boss' },
			    { ...ben, email: 'not-an-email' },
			    { ...ben, name: '' },
			    { ...ben, attributes: { Department: 'Care' } },
			    { ...ben, attributes: { department: 5 } },
			    { ...ben, password: 'short' },
			    { ...ben, phone: '123' },
			    { name: 'Ben' }]) {
		assertError(await request(ws, 'POST', '/api/v1/users', {
			headers: admin, json: body }), 400, 'bad_request');
	}
	const listed = await request(ws, 'GET', '/api/v1/users',
				     { headers: admin });
	assert.deepEqual(listed.json.map((u) => u.email),
			 ['ada@example.org']);

	const made = await request(ws, 'POST', '/api/v1/users',
				   { headers: admin, json: ben });
	assert.equal(made.status, 201, made.text);
	assert.equal(made.json.email, 'ben@example.org');
	assert.equal(made.json.name, 'Ben Bauer');
	assert.equal(made.json.role, 'learner');
	assert.deepEqual(made.json.attributes, { department: 'Care' });
	assert.deepEqual(made.json.groups, []);
	assert.equal(JSON.stringify(made.json).includes('password'), false);
	const id = made.json.id;
	assertError(await request(ws, 'POST', '/api/v1/users', {
		headers: admin,
		json: { email: 'BEN@example.org', name: 'B' } }),
		    409, 'conflict');
	const got = await request(ws, 'GET', `/api/v1/users/${id}`,
				  { headers: admin });
	assert.equal(got.status, 200, got.text);
	assert.deepEqual(got.json, made.json);
	assertError(await request(ws, 'GET', '/api/v1/users/9999',
				  { headers: admin }), 404, 'not_found');

	/* an invitation: the person has no password until the link */
	const inv = await request(ws, 'POST', `/api/v1/users/${id}/invitation`,
				  { headers: admin });
	assert.equal(inv.status, 201, inv.text);
	const token = LINK.exec(inv.json.url)?.[1];
	assert.ok(token, inv.json.url);
	const days = (Date.parse(inv.json.expires) - Date.now()) / 86400000;
	assert.ok(days > 6.9 && days <= 7, inv.json.expires);
	assertError(await login(ws, 'ben@example.org', 'anything-at-all'),
		    401, 'unauthorized');

	/* too short a password is refused and leaves the link alive */
	assertError(await setPassword(ws, token, 'short'), 400, 'bad_request');
	assertError(await setPassword(ws, '0'.repeat(64), 'ben-password-1'),
		    410, 'gone');
	const set = await setPassword(ws, token, 'ben-password-1');
	assert.equal(set.status, 200, set.text);
	assert.equal(set.json.user.id, id);
	assert.equal(set.json.user.email, 'ben@example.org');
	const byLink = sessionHeaders(set);
	const mine = await request(ws, 'GET', '/api/v1/session',
				   { headers: byLink });
	assert.equal(mine.json.user.email, 'ben@example.org');
	assert.deepEqual(mine.json.user.attributes, { department: 'Care' });

	/* once only */
	assertError(await setPassword(ws, token, 'ben-password-2'),
		    410, 'gone');
	assertError(await login(ws, 'ben@example.org', 'ben-password-2'),
		    401, 'unauthorized');
	const byLogin = await signIn(ws, 'ben@example.org', 'ben-password-1');

	/* one's own profile: name and language; a password needs the
	 * current one and ends the other sessions */
	assertError(await request(ws, 'PATCH', '/api/v1/session/user', {
		headers: { Cookie: byLogin.Cookie }, json: { name: 'B' } }),
		    403, 'forbidden');
	assertError(await request(ws, 'PATCH', '/api/v1/session/user', {
		headers: byLogin, json: { language: 'fr' } }),
		    400, 'bad_request');
	assertError(await request(ws, 'PATCH', '/api/v1/session/user', {
		headers: byLogin, json: '{"name": "B"' }), 400, 'bad_request');
	const prof = await request(ws, 'PATCH', '/api/v1/session/user', {
		headers: byLogin, json: { name: 'Ben B.', language: 'de' } });
	assert.equal(prof.status, 200, prof.text);
	assert.equal(prof.json.name, 'Ben B.');
	assert.equal(prof.json.language, 'de');
	assertError(await request(ws, 'PATCH', '/api/v1/session/user', {
		headers: byLogin, json: { password: 'ben-password-3' } }),
		    400, 'bad_request');
	assertError(await request(ws, 'PATCH', '/api/v1/session/user', {
		headers: byLogin, json: { password: 'ben-password-3',
					  current_password: 'wrong-one' } }),
		    403, 'forbidden');
	const changed = await request(ws, 'PATCH', '/api/v1/session/user', {
		headers: byLogin,
		json: { password: 'ben-password-3',
			current_password: 'ben-password-1' } });
	assert.equal(changed.status, 200, changed.text);
	assertError(await request(ws, 'GET', '/api/v1/session',
				  { headers: byLink }), 401, 'unauthorized');
	assert.equal((await request(ws, 'GET', '/api/v1/session',
				    { headers: byLogin })).status, 200);
	await signIn(ws, 'ben@example.org', 'ben-password-3');

	/* a reset link by an admin: an hour, ends every session */
	const reset = await request(ws, 'POST',
				    `/api/v1/users/${id}/password-reset`,
				    { headers: admin });
	assert.equal(reset.status, 201, reset.text);
	const mins = (Date.parse(reset.json.expires) - Date.now()) / 60000;
	assert.ok(mins > 58 && mins <= 60, reset.json.expires);
	const again = await setPassword(ws, LINK.exec(reset.json.url)[1],
					'ben-password-4');
	assert.equal(again.status, 200, again.text);
	assertError(await request(ws, 'GET', '/api/v1/session',
				  { headers: byLogin }), 401, 'unauthorized');
	await signIn(ws, 'ben@example.org', 'ben-password-4');
	assertError(await login(ws, 'ben@example.org', 'ben-password-3'),
		    401, 'unauthorized');

	/* a newer link of a kind replaces the older one */
	const first = await cliLink(ws, 'invite', 'ben@example.org');
	const second = await cliLink(ws, 'invite', 'ben@example.org');
	assertError(await setPassword(ws, first, 'ben-password-5'),
		    410, 'gone');
	assert.equal((await setPassword(ws, second, 'ben-password-5')).status,
		     200);

	/* the paths know their methods; the link paths are admin-only */
	const del = await request(ws, 'DELETE', `/api/v1/users/${id}`,
				  { headers: admin });
	assert.equal(del.status, 405, del.text);
	assert.match(del.headers.get('allow') ?? '', /PATCH/);
	assertError(await request(ws, 'POST', `/api/v1/users/${id}/invitation`,
				  { headers: byLink }), 401, 'unauthorized');
	assertError(await request(ws, 'POST', '/api/v1/users/9999/invitation',
				  { headers: admin }), 404, 'not_found');
});

lmsTest('links from the command line expire; anyone may ask for a reset',
	async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'ivo@example.org');
	await addUser(ws, 'jan@example.org');
	await addUser(ws, 'kim@example.org');

	for (const sub of ['invite', 'reset']) {
		const help = await run(WORKSPACE_BIN, ['user', sub, '--help']);

		assert.equal(help.code, 0, describeResult(help));
		assert.ok(help.stdout.includes('DATA EMAIL'),
			  describeResult(help));
		const none = await run(WORKSPACE_BIN, ['user', sub, ws.data,
						       'nobody@example.org']);
		assert.equal(none.code, 1, describeResult(none));
		assert.match(none.stderr, /^lms-workspace: .*nobody/);
		const usage = await run(WORKSPACE_BIN, ['user', sub, ws.data]);
		assert.equal(usage.code, 2, describeResult(usage));
	}
	const ivo = await cliLink(ws, 'invite', 'ivo@example.org');
	const jan = await cliLink(ws, 'invite', 'jan@example.org');
	const kim = await cliLink(ws, 'reset', 'KIM@example.org');

	const janSession = await signIn(ws, 'jan@example.org');

	/* two hours on: the reset link is dead, invitations live on, and
	 * so does a session (12 hours) */
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: isoIn(2 * 3600) } });
	const live = await request(ws, 'GET', '/api/v1/session',
				   { headers: janSession });
	assert.equal(live.status, 200, live.text);
	assertError(await setPassword(ws, kim, 'kim-password-1'), 410, 'gone');
	const ok = await setPassword(ws, ivo, 'ivo-password-1');
	assert.equal(ok.status, 200, ok.text);

	/* eight days on: the invitation is dead too */
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: isoIn(8 * 86400) } });
	assertError(await request(ws, 'GET', '/api/v1/session',
				  { headers: janSession }), 401, 'unauthorized');
	assertError(await setPassword(ws, jan, 'jan-password-1'), 410, 'gone');
	assertError(await login(ws, 'jan@example.org', 'jan-password-1'),
		    401, 'unauthorized');
	await signIn(ws, 'ivo@example.org', 'ivo-password-1');

	/* asking for a reset: the same answer whether the email exists */
	const known = await request(ws, 'POST', '/api/v1/password-reset',
				    { json: { email: 'jan@example.org' } });
	const unknown = await request(ws, 'POST', '/api/v1/password-reset',
		{ json: { email: 'nobody@example.org' } });
	const invalid = await request(ws, 'POST', '/api/v1/password-reset',
				      { json: { email: 'no email' } });
	for (const res of [known, unknown, invalid]) {
		assert.equal(res.status, 202, res.text);
		assert.equal(res.text, known.text);
		assert.equal(res.headers.get('set-cookie'), null);
	}
	assertError(await request(ws, 'POST', '/api/v1/password-reset',
				  { json: '{"email": ' }), 400, 'bad_request');
	assertError(await request(ws, 'POST', '/api/v1/password-reset',
				  { json: { mail: 'jan@example.org' } }),
		    400, 'bad_request');
	/* asking changed nothing: Jan's password is still the old one */
	await signIn(ws, 'jan@example.org', PASSWORD);
});

/* A wrong login: 401 the same as for an unknown email. */
async function refused(ws, email) {
	assertError(await login(ws, email, 'not the password'),
		    401, 'unauthorized');
}

function assertThrottled(res) {
	assertError(res, 429, 'too_many_requests');
	const after = Number(res.headers.get('retry-after'));

	assert.ok(Number.isInteger(after) && after > 0 && after <= 900,
		  `Retry-After: ${res.headers.get('retry-after')}`);
	assert.equal(res.headers.get('set-cookie'), null);
	return after;
}

lmsTest('logins are throttled per account and per address', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', []);

	for (const who of ['amy', 'bea', 'cem'])
		await addUser(ws, `${who}@example.org`);

	/* a success starts the account afresh (address count: 8) */
	for (let round = 0; round < 2; round++) {
		for (let i = 0; i < 4; i++)
			await refused(ws, 'cem@example.org');
		await signIn(ws, 'cem@example.org');
	}

	/* five failures for one account, then 429 even for the right
	 * password, for any case of the email (address count: 13) */
	for (let i = 0; i < 5; i++)
		await refused(ws, 'amy@example.org');
	assertThrottled(await login(ws, 'amy@example.org', 'wrong again'));
	const after = assertThrottled(await login(ws, 'AMY@example.org',
						  PASSWORD));
	assert.ok(after > 890, `${after}`);
	assert.match((await login(ws, 'amy@example.org', PASSWORD))
		     .json.error.message, /minutes/);

	/* twenty from one address, whatever the accounts */
	for (let i = 0; i < 7; i++)
		await refused(ws, `nobody${i}@example.org`);
	assertThrottled(await login(ws, 'bea@example.org', PASSWORD));

	/* the counts live in workspace.db: a restart keeps them, and once
	 * the window has passed, logins work again */
	await ws.stop();
	await ws.start();
	assertThrottled(await login(ws, 'bea@example.org', PASSWORD));
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: isoIn(16 * 60) } });
	await signIn(ws, 'amy@example.org');
	await signIn(ws, 'bea@example.org');
});

/* The emails of a group's members. */
async function memberEmails(ws, auth, id) {
	const res = await request(ws, 'GET', `/api/v1/groups/${id}/members`,
				  { headers: auth });

	assert.equal(res.status, 200, res.text);
	return res.json.map((m) => m.email).sort();
}

async function createUser(ws, admin, body) {
	const res = await request(ws, 'POST', '/api/v1/users',
				  { headers: admin, json: body });

	assert.equal(res.status, 201, res.text);
	return res.json.id;
}

async function createGroup(ws, admin, body) {
	const res = await request(ws, 'POST', '/api/v1/groups',
				  { headers: admin, json: body });

	assert.equal(res.status, 201, res.text);
	return res.json.id;
}

lmsTest('attributes move users between groups; managers act within ' +
	'their groups; learners are refused', async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);

	await waitFor(async () => (await ws.catalog()).some(
		(c) => c.id === COURSE), undefined, { what: 'the course' });
	const adaId = await addUser(ws, 'ada@example.org', 'admin');
	const admin = await signIn(ws, 'ada@example.org');

	const care = await createGroup(ws, admin,
		{ name: 'Pflege', rule: { department: 'Care' } });
	const koeln = await createGroup(ws, admin,
		{ name: 'Köln', parent: care, rule: { location: 'Köln' } });
	const it = await createGroup(ws, admin,
		{ name: 'IT', rule: { department: 'IT' } });
	await createUser(ws, admin, {
		email: 'mia@example.org', name: 'Mia', role: 'manager',
		attributes: { department: 'Care' }, password: PASSWORD });
	const lea = await createUser(ws, admin, {
		email: 'lea@example.org', name: 'Lea', password: PASSWORD,
		attributes: { department: 'Care', location: 'Köln' } });
	const otto = await createUser(ws, admin, {
		email: 'otto@example.org', name: 'Otto',
		attributes: { department: 'IT' } });
	const nina = await createUser(ws, admin, {
		email: 'nina@example.org', name: 'Nina' });

	/* an admin's change of attributes moves the user */
	const moved = await request(ws, 'PATCH', `/api/v1/users/${nina}`, {
		headers: admin,
		json: { attributes: { department: 'Care',
				      location: 'Köln' } } });
	assert.equal(moved.status, 200, moved.text);
	assert.deepEqual(moved.json.attributes,
			 { department: 'Care', location: 'Köln' });
	assert.deepEqual(moved.json.groups, [care, koeln]);
	assert.deepEqual(await memberEmails(ws, admin, koeln),
			 ['lea@example.org', 'nina@example.org']);
	const back = await request(ws, 'PATCH', `/api/v1/users/${nina}`, {
		headers: admin,
		json: { name: 'Nina N.', attributes: { location: null } } });
	assert.equal(back.status, 200, back.text);
	assert.equal(back.json.name, 'Nina N.');
	assert.deepEqual(back.json.attributes, { department: 'Care' });
	assert.deepEqual(back.json.groups, [care]);
	assert.deepEqual(await memberEmails(ws, admin, koeln),
			 ['lea@example.org']);

	/* attributes of a user who already is in rule groups can be added
	 * and changed: the memberships stay */
	for (const job of ['Nurse', 'Pflegefachkraft']) {
		const res = await request(ws, 'PATCH', `/api/v1/users/${lea}`,
			{ headers: admin, json: { attributes: { job } } });
		assert.equal(res.status, 200, res.text);
		assert.equal(res.json.attributes.job, job);
		assert.deepEqual(res.json.groups, [care, koeln]);
	}

	/* refused changes change nothing */
	for (const [body, status, code] of [
		['{"attributes": {"location": "Köln"}', 400, 'bad_request'],
		[{ attributes: { location: 5 } }, 400, 'bad_request'],
		[{ role: 'boss' }, 400, 'bad_request'],
		[{ email: 'nina2@example.org' }, 400, 'bad_request'],
		[{ name: '', attributes: { location: 'Köln' } }, 400,
		 'bad_request'],
	]) {
		assertError(await request(ws, 'PATCH', `/api/v1/users/${nina}`,
					  { headers: admin, json: body }),
			    status, code);
	}
	assertError(await request(ws, 'PATCH', `/api/v1/users/${nina}`, {
		headers: { Cookie: admin.Cookie },
		json: { attributes: { location: 'Köln' } } }),
		    403, 'forbidden');
	const same = await request(ws, 'GET', `/api/v1/users/${nina}`,
				   { headers: admin });
	assert.deepEqual(same.json, back.json);
	assertError(await request(ws, 'PATCH', '/api/v1/users/9999', {
		headers: admin, json: { name: 'X' } }), 404, 'not_found');
	assertError(await request(ws, 'PATCH', `/api/v1/users/${adaId}`, {
		headers: admin, json: { role: 'learner' } }),
		    409, 'conflict');

	/* a manager sees their groups, the groups below, their members */
	const mia = await signIn(ws, 'mia@example.org');
	const users = await request(ws, 'GET', '/api/v1/users',
				    { headers: mia });
	assert.equal(users.status, 200, users.text);
	assert.deepEqual(users.json.map((u) => u.email).sort(),
			 ['lea@example.org', 'mia@example.org',
			  'nina@example.org']);
	const groups = await request(ws, 'GET', '/api/v1/groups',
				     { headers: mia });
	assert.deepEqual(groups.json.map((g) => g.id), [care, koeln]);
	assert.equal((await request(ws, 'GET', `/api/v1/users/${lea}`,
				    { headers: mia })).status, 200);
	assertError(await request(ws, 'GET', `/api/v1/users/${otto}`,
				  { headers: mia }), 403, 'forbidden');
	assertError(await request(ws, 'GET', `/api/v1/users/${adaId}`,
				  { headers: mia }), 403, 'forbidden');

	/* and assigns only there */
	const due = '2027-06-30';
	for (const target of [{ group: koeln }, { user: 'lea@example.org' },
			      { user: nina }]) {
		const res = await request(ws, 'POST', '/api/v1/assignments', {
			headers: mia,
			json: { course: COURSE, due, ...target } });
		assert.equal(res.status, 201, res.text);
	}
	for (const target of [{ group: it }, { user: otto },
			      { user: 'otto@example.org' },
			      { user: 'nobody@example.org' },
			      { group: 9999 }]) {
		assertError(await request(ws, 'POST', '/api/v1/assignments', {
			headers: mia,
			json: { course: COURSE, due, ...target } }),
			    403, 'forbidden');
	}
	const byAdmin = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin, json: { course: COURSE, due, group: it } });
	assert.equal(byAdmin.status, 201, byAdmin.text);
	const seen = await request(ws, 'GET', '/api/v1/assignments',
				   { headers: mia });
	assert.equal(seen.status, 200, seen.text);
	assert.deepEqual(seen.json.map((a) => [a.group, a.user]),
			 [[koeln, null], [null, lea], [null, nina]]);
	assert.equal((await request(ws, 'GET', '/api/v1/assignments',
				    { headers: admin })).json.length, 4);

	/* what stays with admins */
	for (const [method, path, json] of [
		['POST', '/api/v1/users', { email: 'x@example.org',
					    name: 'X' }],
		['PATCH', `/api/v1/users/${lea}`, { name: 'Lea L.' }],
		['POST', '/api/v1/groups', { name: 'Mine' }],
		['POST', `/api/v1/users/${lea}/password-reset`, undefined],
	]) {
		assertError(await request(ws, method, path,
					  { headers: mia, json }),
			    403, 'forbidden');
	}

	/* a learner gets none of it */
	const learner = await signIn(ws, 'lea@example.org');
	for (const [method, path, json] of [
		['GET', '/api/v1/users'],
		['GET', '/api/v1/groups'],
		['GET', '/api/v1/assignments'],
		['GET', `/api/v1/users/${lea}`],
		['GET', `/api/v1/users/${nina}`],
		['POST', '/api/v1/users', { email: 'y@example.org',
					    name: 'Y' }],
		['PATCH', `/api/v1/users/${lea}`, { role: 'admin' }],
		['POST', `/api/v1/users/${nina}/invitation`],
		['POST', '/api/v1/assignments', { course: COURSE, due,
						  user: lea }],
	]) {
		assertError(await request(ws, method, path,
					  { headers: learner, json }),
			    403, 'forbidden');
	}
	const still = await request(ws, 'GET', `/api/v1/users/${lea}`,
				    { headers: admin });
	assert.equal(still.json.role, 'learner');
	assert.equal(still.json.name, 'Lea');
	assert.equal((await request(ws, 'GET', '/api/v1/users',
				    { headers: admin })).json.length, 5);
});
