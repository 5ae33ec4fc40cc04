/*
 * The reports (GET /api/v1/reports/...) on a running workspace: a small
 * academy built through the API and the command line, with the clock
 * set by LMS_FAKE_NOW. In December 2025 Ben (Berlin) completes hygiene,
 * assigned to him alone: his certificate has expired by March 2027. In
 * March 2027 hygiene is assigned to the house in Köln (Pflege and Küche
 * below it; Mia, its manager, is a member too), data protection to
 * Berlin (due in February: overdue). Pia completes hygiene; Jo ("Müller,
 * \"Jo\"", a comma and quotes in his name) completes it too and an
 * admin revokes his certificate; Kai does one lesson.
 *
 * Every figure of the completion report (by course, for a group with
 * its subgroups, by group, for a period) is checked against the
 * per-person rows of GET /api/v1/compliance and against workspace.db
 * read with the sqlite3 CLI; the people list (the overdue and the
 * expiring lists), the transcript and the timeline too. The CSV forms
 * are parsed back (byte order mark, CRLF, quoting, umlauts, the
 * semicolon). An empty group and an empty period say so; managers see
 * their scope only (403 outside), learners get 403, bad parameters 400.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import {
	lmsTest, setupMother, addWorkspace, waitFor,
} from './lib/harness.mjs';
import {
	request, assertError, addUser, bearer, signIn, completeCourse,
} from './lib/api.mjs';

const HYG = 'hygiene-basics';
const DP = 'data-protection-basics';

/* The rows of a CSV answer (RFC 4180), after checking its byte order
 * mark (which the decoded text no longer holds) and its CRLFs. */
function parseCsv(res, sep = ',') {
	let text = res.text;

	assert.deepEqual([...res.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf],
			 'no byte order mark');
	assert.ok(text.endsWith('\r\n'));
	const rows = [];
	let row = [], field = '', quoted = false;

	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (quoted) {
			if (c === '"' && text[i + 1] === '"') {
				field += '"';
				i++;
			} else if (c === '"') {
				quoted = false;
			} else {
				field += c;
			}
		} else if (c === '"') {
			quoted = true;
		} else if (c === sep) {
			row.push(field);
			field = '';
		} else if (c === '\r' && text[i + 1] === '\n') {
			row.push(field);
			rows.push(row);
			row = [];
			field = '';
			i++;
		} else {
			assert.notEqual(c, '\n', 'a bare LF');
			field += c;
		}
	}
	const [head, ...body] = rows;
	return body.map((r) => Object.fromEntries(
		head.map((h, i) => [h, r[i]])));
}

function sql(ws, query) {
	return execFileSync('sqlite3', ['-readonly',
		path.join(ws.data, 'workspace.db'), query],
		{ encoding: 'utf8' }).trim();
}

async function get(ws, headers, p, status = 200) {
	const r = await request(ws, 'GET', p, { headers });
	assert.equal(r.status, status, `${p}: ${r.text}`);
	return r;
}

async function group(ws, admin, name, rule, parent = null) {
	const r = await request(ws, 'POST', '/api/v1/groups', {
		headers: admin, json: { name, rule, parent } });
	assert.equal(r.status, 201, r.text);
	return r.json.id;
}

async function assign(ws, admin, what) {
	const r = await request(ws, 'POST', '/api/v1/assignments', {
		headers: admin, json: what });
	assert.equal(r.status, 201, r.text);
}

/* The academy of the header; resolves to its ids and headers. */
async function academy() {
	const mother = await setupMother({ courses: [HYG, DP] });
	const ws = await addWorkspace(mother, 'acme', [HYG, DP]);

	await waitFor(async () => (await ws.catalog()).length === 2,
		      undefined, { what: 'the courses' });
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: '2025-12-01T10:00:00Z' } });
	const a = { ws };
	a.ada = await addUser(ws, 'ada@example.org', 'admin');
	a.admin = await bearer(ws, 'ada@example.org');
	a.mia = await addUser(ws, 'mia@example.org', 'manager',
			      { site: 'koeln' }, { name: 'Mia Meister' });
	a.pia = await addUser(ws, 'pia@example.org', 'learner',
			      { site: 'koeln', dept: 'pflege' },
			      { name: 'Pia Prüfling' });
	a.jo = await addUser(ws, 'jo@example.org', 'learner',
			     { site: 'koeln', dept: 'pflege' },
			     { name: 'Müller, "Jo"' });
	a.kai = await addUser(ws, 'kai@example.org', 'learner',
			      { site: 'koeln', dept: 'kueche' },
			      { name: 'Kai Koch' });
	a.ben = await addUser(ws, 'ben@example.org', 'learner',
			      { site: 'berlin' }, { name: 'Ben Böhm' });
	a.house = await group(ws, a.admin, 'Haus Köln', { site: 'koeln' });
	a.care = await group(ws, a.admin, 'Pflege', { dept: 'pflege' },
			     a.house);
	a.kitchen = await group(ws, a.admin, 'Küche', { dept: 'kueche' },
				a.house);
	a.berlin = await group(ws, a.admin, 'Berlin', { site: 'berlin' });
	a.empty = await group(ws, a.admin, 'Leer', {});

	await assign(ws, a.admin, { course: HYG, user: a.ben,
				    due: '2025-12-31' });
	await completeCourse(ws, await signIn(ws, 'ben@example.org'), HYG);

	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: '2027-03-01T10:00:00Z' } });
	await assign(ws, a.admin, { course: HYG, group: a.house,
				    due: '2027-04-15' });
	await assign(ws, a.admin, { course: DP, group: a.berlin,
				    due: '2027-02-01' });
	await completeCourse(ws, await signIn(ws, 'pia@example.org'), HYG);
	await completeCourse(ws, await signIn(ws, 'jo@example.org'), HYG);
	const kai = await signIn(ws, 'kai@example.org');
	const done = await request(ws, 'POST',
		`/api/v1/courses/${HYG}/lessons/haende/complete`,
		{ headers: kai });
	assert.equal(done.status, 200, done.text);
	const certs = await get(ws, a.admin,
				`/api/v1/certificates?user=${a.jo}`);
	a.joCert = certs.json[0].id;
	const revoked = await request(ws, 'POST',
		`/api/v1/certificates/${a.joCert}/revoke`,
		{ headers: a.admin, json: { reason: 'Test' } });
	assert.equal(revoked.status, 200, revoked.text);
	a.manager = await signIn(ws, 'mia@example.org');
	a.learner = await signIn(ws, 'pia@example.org');
	return a;
}

const STATUSES = ['not_started', 'in_progress', 'completed',
		  'expiring_soon', 'expired', 'overdue'];

/* The counts of rows (compliance list rows) by course. */
function countRows(rows) {
	const by = {};

	for (const r of rows) {
		by[r.course] ??= Object.fromEntries(
			[['assigned', 0], ...STATUSES.map((s) => [s, 0])]);
		by[r.course].assigned++;
		by[r.course][r.status]++;
	}
	return by;
}

function assertCounts(row, want) {
	for (const k of ['assigned', ...STATUSES])
		assert.equal(Number(row[k]), want[k], `${k} of ${row.course}`);
	const rate = (want.completed + want.expiring_soon) / want.assigned;
	assert.equal(Number(row.completion_rate),
		     Math.round(rate * 1000) / 1000);
}

lmsTest('reports: completion, people, transcript, timeline, CSV, scope',
	async () => {
	const a = await academy();
	const { ws, admin } = a;

	/* the raw rows: the compliance list (streamed now) */
	const list = await get(ws, admin, '/api/v1/compliance');
	assert.equal(list.headers.get('transfer-encoding'), 'chunked');
	const rows = list.json;
	assert.deepEqual(rows.map((r) => [r.email, r.course, r.status]), [
		['mia@example.org', HYG, 'not_started'],
		['pia@example.org', HYG, 'completed'],
		['jo@example.org', HYG, 'in_progress'],
		['kai@example.org', HYG, 'in_progress'],
		['ben@example.org', DP, 'overdue'],
		['ben@example.org', HYG, 'expired'],
	]);
	assert.equal(rows[1].round.reason, 'assigned');
	assert.match(rows[1].certificate.number, /./);
	const want = countRows(rows);

	/* completion by course, JSON and CSV */
	let r = await get(ws, admin, '/api/v1/reports/completion');
	assert.equal(r.json.empty, false);
	assert.equal(r.json.message, null);
	assert.deepEqual(r.json.filters,
			 { course: null, group: null, from: null, to: null });
	assert.match(r.json.generated, /^2027-03-01T10:/);
	assert.deepEqual(r.json.rows.map((x) => x.course), [DP, HYG]);
	for (const row of r.json.rows)
		assertCounts(row, want[row.course]);
	assert.equal(r.json.total.assigned, rows.length);
	assert.equal(r.json.rows.find((x) => x.course === HYG).title,
		     sql(ws, `SELECT title FROM courses WHERE id = '${HYG}'`));
	r = await get(ws, admin, '/api/v1/reports/completion?format=csv');
	assert.match(r.headers.get('content-type'), /^text\/csv/);
	assert.equal(r.headers.get('content-disposition'),
		     'attachment; filename="completion-2027-03-01.csv"');
	let csv = parseCsv(r);
	for (const row of csv.filter((x) => x.course))
		assertCounts(row, want[row.course]);
	assert.equal(csv.at(-1).title, 'Total');
	assert.equal(Number(csv.at(-1).assigned), rows.length);

	/* a group with its subgroups; the empty group says so */
	r = await get(ws, admin, '/api/v1/reports/completion?' +
		      `group=${a.house}&course=${HYG}`);
	assertCounts(r.json.rows[0], countRows(rows.filter(
		(x) => x.email !== 'ben@example.org'))[HYG]);
	r = await get(ws, admin, `/api/v1/reports/completion?group=${a.care}`);
	assert.equal(r.json.total.assigned, 2);
	assert.equal(r.json.total.completed, 1);
	r = await get(ws, admin, `/api/v1/reports/completion?group=${a.empty}`);
	assert.equal(r.json.empty, true);
	assert.equal(r.json.message, 'the group has no members');
	assert.deepEqual(r.json.rows, []);

	/* a period: completions (certificates not revoked) in it */
	const day = (d) => Date.parse(`${d}T00:00:00Z`) / 1000;
	r = await get(ws, admin, '/api/v1/reports/completion?' +
		      'from=2027-03-01&to=2027-03-01');
	const inPeriod = Number(sql(ws, 'SELECT count(DISTINCT user_id) FROM ' +
		`certificates WHERE course_id = '${HYG}' AND revoked_at IS ` +
		`NULL AND issued_at >= ${day('2027-03-01')} AND issued_at < ` +
		`${day('2027-03-02')}`));
	assert.equal(inPeriod, 1);
	assert.equal(r.json.rows.find((x) => x.course === HYG)
		     .completed_in_period, inPeriod);
	assert.equal(r.json.empty, false);
	r = await get(ws, admin, '/api/v1/reports/completion?' +
		      'from=2020-01-01&to=2020-01-31');
	assert.equal(r.json.empty, true);
	assert.equal(r.json.message, 'no data in this period');
	assert.equal(r.json.total.completed_in_period, 0);

	/* by group: members with the subgroups', checked against the db */
	r = await get(ws, admin, '/api/v1/reports/completion?by=group');
	const groups = Object.fromEntries(r.json.rows.map((g) => [g.group, g]));
	assert.equal(groups[a.house].members, 4);
	assert.equal(groups[a.care].members, 2);
	assert.equal(groups[a.care].parent, a.house);
	assert.equal(groups[a.kitchen].members, 1);
	assert.equal(groups[a.empty].members, 0);
	assert.equal(groups[a.empty].assigned, 0);
	assert.equal(groups[a.house].assigned, 4);
	assert.equal(groups[a.berlin].assigned, 2);
	assert.equal(groups[a.berlin].expired, 1);
	assert.equal(groups[a.berlin].overdue, 1);
	assert.equal(groups[a.kitchen].name, 'Küche');
	assert.equal(Number(sql(ws, 'SELECT count(*) FROM group_members ' +
				`WHERE group_id = ${a.care}`)),
		     groups[a.care].members);
	csv = parseCsv((await get(ws, admin, '/api/v1/reports/completion?' +
		'by=group&format=csv&delimiter=semicolon')), ';');
	assert.equal(csv.find((g) => g.name === 'Küche').members, '1');

	/* the people list, the overdue and expiring lists */
	r = await get(ws, admin, '/api/v1/reports/people');
	assert.equal(r.json.count, rows.length);
	assert.deepEqual(r.json.rows.map((x) => [x.user, x.course, x.status]),
			 rows.map((x) => [x.user, x.course, x.status]));
	const pia = r.json.rows.find((x) => x.user === a.pia);
	assert.equal(pia.certificate, rows[1].certificate.number);
	assert.equal(pia.expires, rows[1].certificate.expires.slice(0, 10));
	assert.equal(pia.due, '2027-04-15');
	r = await get(ws, admin, '/api/v1/reports/people?status=overdue');
	assert.deepEqual(r.json.rows.map((x) => [x.email, x.course]),
			 [['ben@example.org', DP]]);
	r = await get(ws, admin, '/api/v1/reports/people?' +
		      'status=expiring_soon,expired&status=overdue');
	assert.equal(r.json.count, 2);
	r = await get(ws, admin, '/api/v1/reports/people?status=expiring_soon');
	assert.equal(r.json.empty, true);
	assert.deepEqual(r.json.rows, []);
	r = await get(ws, admin, '/api/v1/reports/people?format=csv');
	assert.equal(r.headers.get('transfer-encoding'), 'chunked');
	csv = parseCsv(r);
	assert.deepEqual(Object.keys(csv[0]), ['user', 'name', 'email',
		'course', 'title', 'status', 'due', 'certificate', 'expires']);
	assert.deepEqual(csv.map((x) => [x.name, x.status]),
			 rows.map((x) => [x.name, x.status]));
	assert.ok(csv.some((x) => x.name === 'Müller, "Jo"'));
	assert.ok(csv.some((x) => x.name === 'Pia Prüfling'));
	assert.ok(r.text.includes('"Müller, ""Jo"""'));

	/* the transcript of Jo: every completion, attempt and certificate */
	r = await get(ws, admin, `/api/v1/reports/transcript?user=${a.jo}`);
	assert.deepEqual(r.json.user, { id: a.jo, name: 'Müller, "Jo"',
					email: 'jo@example.org' });
	assert.equal(r.json.completions.length, Number(sql(ws,
		'SELECT count(*) FROM lesson_completions WHERE user_id = ' +
		a.jo)));
	assert.equal(r.json.attempts.length, Number(sql(ws,
		`SELECT count(*) FROM quiz_attempts WHERE user_id = ${a.jo}`)));
	assert.equal(r.json.completions[0].revision, sql(ws,
		`SELECT revision FROM courses WHERE id = '${HYG}'`));
	assert.deepEqual(r.json.certificates.map((c) => [c.id, c.status]),
			 [[a.joCert, 'revoked']]);
	assert.deepEqual(r.json.courses.map((c) => [c.course, c.status]),
			 [[HYG, 'in_progress']]);
	csv = parseCsv((await get(ws, admin, '/api/v1/reports/transcript?' +
		`user=${a.jo}&format=csv`)));
	assert.equal(csv.filter((x) => x.kind === 'completion').length,
		     r.json.completions.length);
	assert.equal(csv.filter((x) => x.kind === 'attempt').length,
		     r.json.attempts.length);
	assert.equal(csv.find((x) => x.kind === 'certificate').status,
		     'revoked');

	/* the timeline of three months */
	r = await get(ws, admin, '/api/v1/reports/timeline?months=3');
	assert.deepEqual(r.json.months, [
		{ month: '2027-01', completions: 0, certificates_issued: 0,
		  due: 0, overdue_end: 0 },
		{ month: '2027-02', completions: 0, certificates_issued: 0,
		  due: 1, overdue_end: 1 },
		{ month: '2027-03', completions: 1, certificates_issued: 2,
		  due: 0, overdue_end: 1 },
	]);

	/* HEAD: the head alone */
	const head = await request(ws, 'HEAD', '/api/v1/reports/completion',
				   { headers: admin });
	assert.equal(head.status, 200);
	assert.equal(head.bytes.length, 0);

	/* managers: their scope; learners: nothing */
	r = await get(ws, a.manager, '/api/v1/reports/completion');
	assert.deepEqual(r.json.rows.map((x) => [x.course, x.assigned]),
			 [[HYG, 4]]);
	r = await get(ws, a.manager, '/api/v1/reports/people');
	assert.ok(r.json.rows.every((x) => x.email !== 'ben@example.org'));
	r = await get(ws, a.manager, '/api/v1/reports/completion?by=group');
	assert.deepEqual(r.json.rows.map((g) => g.name).sort(),
			 ['Haus Köln', 'Küche', 'Pflege']);
	for (const p of [`/api/v1/reports/completion?group=${a.berlin}`,
			 `/api/v1/reports/transcript?user=${a.ben}`])
		assertError(await request(ws, 'GET', p, { headers: a.manager }),
			    403, 'forbidden');
	for (const p of ['completion', 'people', `transcript?user=${a.pia}`,
			 'timeline'])
		assertError(await request(ws, 'GET', `/api/v1/reports/${p}`,
					  { headers: a.learner }),
			    403, 'forbidden');
	assert.equal((await request(ws, 'GET', '/api/v1/reports/people'))
		     .status, 401);

	/* bad parameters */
	for (const p of ['completion?format=xml', 'completion?from=2027-02-30',
			 'completion?from=2027-03-02&to=2027-03-01',
			 'completion?to=03.03.2027', 'people?status=late',
			 'timeline?months=0', 'timeline?months=37',
			 'completion?group=abc', 'completion?delimiter=tab',
			 'completion?by=user', 'transcript',
			 'transcript?user=x', 'people?by=group'])
		assertError(await request(ws, 'GET', `/api/v1/reports/${p}`,
					  { headers: admin }),
			    400, 'bad_request');
	assertError(await request(ws, 'GET', '/api/v1/reports/completion?' +
				  'group=9999', { headers: admin }),
		    404, 'not_found');
	assertError(await request(ws, 'POST', '/api/v1/reports/completion',
				  { headers: admin }),
		    405, 'method_not_allowed');
});
