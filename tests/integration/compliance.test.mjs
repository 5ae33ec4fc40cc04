/*
 * Mandatory training that renews itself, on running daemons with a real
 * SMTP server (aiosmtpd) and the clock moved by LMS_FAKE_NOW between
 * restarts: an assignment to a group recurring every 11 months; the
 * learner is reminded 14 days before the due date, then (the due date
 * and the day after it having passed while the workspace was stopped)
 * once for being overdue, with a copy to the manager of the group
 * above; a second run and a restart decide nothing twice. The learner
 * completes the course and gets a certificate valid 12 months; 11
 * months on the next round opens by itself, due when the certificate
 * runs out, with the learner's progress back at zero and a reminder
 * that the certificate expires; left undone, the certificate expires
 * and the round is overdue, reminded once more to both while the mail
 * server is stopped, and delivered when it is back. Done again, a new
 * certificate. The admin reads the whole history from GET
 * /api/v1/compliance and `compliance status`; the manager sees the
 * people of their groups, a learner only their own.
 *
 * A second test: a local course revision that requires retraining
 * marks the certificate as needing renewal and gives the course a new
 * round with a due date; the retrained lesson done again issues a new
 * certificate. A third: the same from the mother, at once. A fourth:
 * three learners overdue at once give their manager one mail that
 * names them all.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	lmsTest, setupMother, addWorkspace, waitFor, runOk, run,
	describeResult, WORKSPACE_BIN, copySampleCourse, editCourseJson,
} from './lib/harness.mjs';
import {
	request, assertError, addUser, bearer, signIn, completeCourse,
} from './lib/api.mjs';
import { smtpServer, header, decodedHeader } from './lib/smtp.mjs';

const COURSE = 'hygiene-basics';

/* The text of a message: its body, quoted-printable decoded. */
function bodyOf(msg) {
	const body = msg.split(/\r?\n\r?\n/).slice(1).join('\n\n');
	const bytes = body.replace(/=\r?\n/g, '').replace(
		/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(
			parseInt(h, 16)));

	return Buffer.from(bytes, 'latin1').toString('utf8');
}

/* The messages that arrived for address, oldest first (by Date). */
function mailTo(smtp, address) {
	return smtp.messages().filter(
		(m) => header(m, 'To')?.includes(address)).sort(
		(a, b) => Date.parse(header(a, 'Date')) -
			  Date.parse(header(b, 'Date')));
}

/* Restarts the workspace with its clock at iso. */
async function restartAt(ws, iso) {
	await ws.stop();
	await ws.start({ env: { LMS_FAKE_NOW: iso } });
}

async function compliance(ws, headers, query = '') {
	const r = await request(ws, 'GET', `/api/v1/compliance${query}`,
				{ headers });
	assert.equal(r.status, 200, r.text);
	return r.json;
}

/* `lms-workspace compliance ARGS...` at the time iso. */
function cli(ws, iso, ...args) {
	return runOk(WORKSPACE_BIN, ['compliance', ...args.map(
		(a) => a === ws ? ws.data : a)], { env: { LMS_FAKE_NOW: iso } });
}

/* A mother with the course and a workspace that holds it, stopped, with
 * its SMTP settings pointing at a real server. */
async function academy(smtp) {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);

	await waitFor(async () => (await ws.catalog()).find(
		(c) => c.id === COURSE), undefined, { what: 'the course' });
	await ws.stop();
	for (const [key, value] of [
		['smtp.url', `smtp://127.0.0.1:${smtp.port}`],
		['mail.from', 'Akademie <akademie@example.com>'],
		['web.url', 'https://academy.example'],
	])
		await runOk(WORKSPACE_BIN, ['settings', 'set', ws.data, key,
					    value]);
	return ws;
}

/* The house (site koeln, managed by Mia) and its care group below it
 * (dept pflege too), where Pia works. */
async function people(ws, admin) {
	const mia = await addUser(ws, 'mia@example.org', 'manager',
				  { site: 'koeln' }, { name: 'Mia Meister' });
	const pia = await addUser(ws, 'pia@example.org', 'learner',
				  { site: 'koeln', dept: 'pflege' },
				  { name: 'Pia Prüfling' });
	const house = await request(ws, 'POST', '/api/v1/groups', {
		headers: admin, json: { name: 'Haus Köln',
					rule: { site: 'koeln' } } });
	assert.equal(house.status, 201, house.text);
	const care = await request(ws, 'POST', '/api/v1/groups', {
		headers: admin, json: { name: 'Pflege', parent: house.json.id,
					rule: { dept: 'pflege' } } });
	assert.equal(care.status, 201, care.text);
	assert.equal(care.json.member_count, 1);
	return { mia, pia, care: care.json.id };
}

/* The academy served from 2027-01-04 with its admin Ada (her bearer
 * headers) and the people above. */
async function started(smtp) {
	const ws = await academy(smtp);

	await ws.start({ env: { LMS_FAKE_NOW: '2027-01-04T08:00:00Z' } });
	await addUser(ws, 'ada@example.org', 'admin');
	const ada = await bearer(ws, 'ada@example.org');
	return { ws, ada, ...await people(ws, ada) };
}

lmsTest('compliance: recurrence, reminders once each, escalation, expiry',
	async () => {
	const smtp = await smtpServer();
	const { ws, ada, mia, pia, care } = await started(smtp);

	/* bad recurrences are refused, then the assignment is made */
	for (const recur of [0, 121, 1.5, '11'])
		assertError(await request(ws, 'POST', '/api/v1/assignments', {
			headers: ada, json: { course: COURSE, group: care,
					      due: '2027-01-20',
					      recur_months: recur } }),
			    400, 'bad_request');
	const made = await request(ws, 'POST', '/api/v1/assignments', {
		headers: ada, json: { course: COURSE, group: care,
				      due: '2027-01-20', recur_months: 11 } });
	assert.equal(made.status, 201, made.text);
	assert.equal(made.json.recur_months, 11);
	assert.equal(made.json.recur_on_expiry, false);

	let rows = await compliance(ws, ada);
	assert.deepEqual(rows.map((r) => [r.email, r.course, r.status, r.due]),
			 [['pia@example.org', COURSE, 'not_started',
			   '2027-01-20']]);
	assert.equal(rows[0].certificate, null);
	assert.equal(rows[0].round.reason, 'assigned');

	/* who sees what */
	const miaS = await signIn(ws, 'mia@example.org');
	const piaS = await signIn(ws, 'pia@example.org');
	rows = await compliance(ws, miaS);
	assert.deepEqual(rows.map((r) => r.user), [pia]);
	rows = await compliance(ws, piaS);
	assert.deepEqual(rows.map((r) => r.user), [pia]);
	assertError(await request(ws, 'GET', `/api/v1/compliance?user=${mia}`,
				  { headers: piaS }), 403, 'forbidden');
	assertError(await request(ws, 'GET', '/api/v1/compliance?status=late',
				  { headers: ada }), 400, 'bad_request');

	/* 14 days before the due date: one reminder to Pia */
	await restartAt(ws, '2027-01-07T08:00:00Z');
	await waitFor(() => mailTo(smtp, 'pia@example.org').length === 1,
		      undefined, { what: 'the first reminder' });
	let text = bodyOf(mailTo(smtp, 'pia@example.org')[0]);
	assert.match(text, /Pia Prüfling/);
	assert.match(text, /Hygiene/);
	assert.match(text, /20\.01\.2027/);

	/* stopped over the due date and the day after: only the overdue
	 * reminder, to Pia and in copy to Mia, who manages the house */
	await restartAt(ws, '2027-01-28T08:00:00Z');
	await waitFor(() => mailTo(smtp, 'mia@example.org').length === 1 &&
		      mailTo(smtp, 'pia@example.org').length === 2,
		      undefined, { what: 'the overdue reminders' });
	text = bodyOf(mailTo(smtp, 'mia@example.org')[0]);
	assert.match(text, /Pia Prüfling/);
	assert.match(text, /Hygiene/);
	let again = await cli(ws, '2027-01-28T09:00:00Z', 'run', ws);
	assert.equal(again.stdout, 'rounds opened: 0\nreminders queued: 0\n');
	rows = await compliance(ws, ada, `?user=${pia}`);
	assert.equal(rows[0].status, 'overdue');
	assert.deepEqual(rows[0].reminders.map((r) => [r.entry, r.role, r.to]),
			 [['-14', 'learner', 'pia@example.org'],
			  ['+7', 'learner', 'pia@example.org'],
			  ['+7', 'manager', 'mia@example.org']]);
	assert.ok(rows[0].reminders.every((r) => r.sent), JSON.stringify(rows));

	/* Pia does the course: a certificate valid twelve months */
	const piaS2 = await signIn(ws, 'pia@example.org');
	await completeCourse(ws, piaS2, COURSE);
	rows = await compliance(ws, ada, `?user=${pia}`);
	assert.equal(rows[0].status, 'completed');
	assert.match(rows[0].certificate.expires, /^2028-01-28T/);
	const firstCert = rows[0].certificate.id;

	/* eleven months on, the next round has opened by itself: due when
	 * the certificate expires, progress from zero, and the reminder
	 * that the certificate runs out */
	await restartAt(ws, '2027-12-29T12:00:00Z');
	await waitFor(() => mailTo(smtp, 'pia@example.org').length === 3,
		      undefined, { what: 'the expiry reminder' });
	text = bodyOf(mailTo(smtp, 'pia@example.org')[2]);
	assert.match(text, /28\.01\.2028/);
	rows = await compliance(ws, ada, `?user=${pia}`);
	assert.equal(rows[0].status, 'expiring_soon');
	assert.equal(rows[0].round.reason, 'recur');
	assert.equal(rows[0].due, '2028-01-28');
	const piaS3 = await signIn(ws, 'pia@example.org');
	const mine = await request(ws, 'GET', '/api/v1/courses',
				   { headers: piaS3 });
	const listed = mine.json.find((c) => c.id === COURSE);
	assert.equal(listed.due, '2028-01-28');
	assert.equal(listed.progress.percent, 0);

	/* left undone, with the mail server down: the certificate has
	 * expired, the round is overdue; the reminders wait in the outbox */
	await smtp.stop();
	await restartAt(ws, '2028-02-05T08:00:00Z');
	await waitFor(async () => (await compliance(ws, ada, `?user=${pia}`))[0]
		.reminders.length === 6, undefined,
		      { what: 'the second overdue reminders' });
	rows = await compliance(ws, ada, `?user=${pia}`);
	assert.equal(rows[0].status, 'overdue');
	assert.deepEqual(rows[0].reminders.slice(3).map(
		(r) => [r.entry, r.role, r.sent !== null]),
			 [['expiry-30', 'learner', true],
			  ['+7', 'learner', false], ['+7', 'manager', false]]);
	const certs = await request(ws, 'GET', `/api/v1/certificates?user=${pia}`,
				    { headers: ada });
	assert.deepEqual(certs.json.map((c) => c.status), ['expired']);

	/* the server back: delivered, once each */
	await smtp.start();
	await restartAt(ws, '2028-02-05T08:10:00Z');
	await waitFor(() => mailTo(smtp, 'pia@example.org').length === 4 &&
		      mailTo(smtp, 'mia@example.org').length === 2,
		      undefined, { what: 'the delayed reminders' });
	const status = await cli(ws, '2028-02-05T08:20:00Z', 'status', ws,
				 '--user', 'pia@example.org');
	assert.match(status.stdout, /pia@example\.org\s+hygiene-basics\s+overdue/);
	assert.equal(status.stdout.match(/reminder /g).length, 6);

	/* done again: a new certificate, completed */
	const piaS4 = await signIn(ws, 'pia@example.org');
	await completeCourse(ws, piaS4, COURSE);
	rows = await compliance(ws, ada, `?user=${pia}`);
	assert.equal(rows[0].status, 'completed');
	assert.notEqual(rows[0].certificate.id, firstCert);
	assert.equal(mailTo(smtp, 'pia@example.org').length, 4);
	assert.equal(mailTo(smtp, 'mia@example.org').length, 2);
	await smtp.stop();
});

lmsTest('compliance: a retraining revision asks for renewal', async () => {
	const smtp = await smtpServer();
	const ws = await academy(smtp);
	const dir = copySampleCourse(COURSE);
	const id = 'house-hygiene';

	editCourseJson(dir, (j) => {
		j.id = id;
		j.retrain_on = 'any';
	});
	await ws.start({ env: { LMS_FAKE_NOW: '2027-03-01T08:00:00Z' } });
	await ws.publish(dir, 'Our own hygiene course');
	await addUser(ws, 'ada@example.org', 'admin');
	const ada = await bearer(ws, 'ada@example.org');
	const { pia } = await people(ws, ada);
	const made = await request(ws, 'POST', '/api/v1/assignments', {
		headers: ada, json: { course: id, user: pia,
				      due: '2027-04-01' } });
	assert.equal(made.status, 201, made.text);
	const piaS = await signIn(ws, 'pia@example.org');
	await completeCourse(ws, piaS, id, dir);
	let rows = await compliance(ws, ada, `?user=${pia}&course=${id}`);
	assert.equal(rows[0].status, 'completed');
	assert.equal(rows[0].certificate.renewal_required, false);

	fs.appendFileSync(path.join(dir, 'lessons', 'haende.md'), '\nNeu.\n');
	await ws.publish(dir, 'Hands, updated');
	const r = await cli(ws, '2027-03-02T08:00:00Z', 'run', ws);
	assert.equal(r.stdout, 'rounds opened: 1\nreminders queued: 0\n',
		     describeResult(r));
	rows = await compliance(ws, ada, `?user=${pia}&course=${id}`);
	assert.equal(rows[0].certificate.renewal_required, true);
	assert.equal(rows[0].round.reason, 'retrain');
	assert.match(rows[0].due, /^2027-0[34]-\d\d$/);
	assert.equal(rows[0].status, 'in_progress');

	/* the retrained lesson done again the next day: a new certificate */
	await restartAt(ws, '2027-03-02T09:00:00Z');
	const piaS2 = await signIn(ws, 'pia@example.org');
	const done = await request(ws, 'POST',
				   `/api/v1/courses/${id}/lessons/haende/complete`,
				   { headers: piaS2 });
	assert.equal(done.status, 200, done.text);
	rows = await compliance(ws, ada, `?user=${pia}&course=${id}`);
	assert.equal(rows[0].status, 'completed');
	assert.equal(rows[0].certificate.renewal_required, false);
	const certs = await request(ws, 'GET', `/api/v1/certificates?user=${pia}`,
				    { headers: ada });
	assert.equal(certs.json.length, 2);

	/* bad input on the command line changes nothing */
	const bad = await run(WORKSPACE_BIN, ['compliance', 'status', ws.data,
					      '--status', 'late']);
	assert.equal(bad.code, 2, describeResult(bad));
	const none = await run(WORKSPACE_BIN, ['compliance', 'run',
					       path.join(ws.data, 'nope')]);
	assert.equal(none.code, 1, describeResult(none));
	await smtp.stop();
});

lmsTest('compliance: a retraining revision of the mother opens a round at ' +
	'once', async () => {
	const mother = await setupMother({ courses: [COURSE] });
	const ws = await addWorkspace(mother, 'acme', [COURSE]);
	await ws.waitRevision(COURSE, mother.revisions[COURSE]);
	await addUser(ws, 'ada@example.org', 'admin');
	const ada = await bearer(ws, 'ada@example.org');
	const pia = await addUser(ws, 'pia@example.org', 'learner');
	const made = await request(ws, 'POST', '/api/v1/assignments', {
		headers: ada, json: { course: COURSE, user: pia,
				      due: '2099-01-01' } });
	assert.equal(made.status, 201, made.text);
	await completeCourse(ws, await signIn(ws, 'pia@example.org'), COURSE);
	let [row] = await compliance(ws, ada, `?user=${pia}`);
	assert.equal(row.status, 'completed');
	assert.equal(row.round.reason, 'assigned');

	/* no command and no minute's wait: the applied event runs it */
	const dir = copySampleCourse(COURSE);
	fs.appendFileSync(path.join(dir, 'lessons', 'haende.md'),
			  '\n\nNeu: Handschmuck.\n');
	const rev = await mother.publish(dir, 'Jewellery\n\nRetrain: yes\n');
	await ws.waitRevision(COURSE, rev);
	row = await waitFor(async () => {
		const [r] = await compliance(ws, ada, `?user=${pia}`);
		return r.round.reason === 'retrain' ? r : null;
	}, 10000, { what: 'the retraining round' });
	assert.equal(row.certificate.renewal_required, true);
	assert.equal(row.status, 'in_progress');
});

lmsTest('compliance: a manager gets the overdue copies of a run in one mail',
	async () => {
	const smtp = await smtpServer();
	const { ws, ada, care } = await started(smtp);
	const more = [];
	for (const name of ['Paul Pfleger', 'Petra Pflegerin'])
		more.push(await addUser(ws, `${name.split(' ')[1]
			.toLowerCase()}@example.org`, 'learner',
			{ site: 'koeln', dept: 'pflege' }, { name }));
	const made = await request(ws, 'POST', '/api/v1/assignments', {
		headers: ada, json: { course: COURSE, group: care,
				      due: '2027-01-20' } });
	assert.equal(made.status, 201, made.text);

	/* eight days overdue: each learner is reminded, and Mia, who
	 * manages the house, gets one mail that names all three */
	await restartAt(ws, '2027-01-28T08:00:00Z');
	await waitFor(() => ['pia', 'pfleger', 'pflegerin'].every(
		(n) => mailTo(smtp, `${n}@example.org`).length === 1) &&
		mailTo(smtp, 'mia@example.org').length === 1,
		      undefined, { what: 'the overdue reminders' });
	const [digest] = mailTo(smtp, 'mia@example.org');
	const text = bodyOf(digest);
	for (const name of ['Pia Prüfling', 'Paul Pfleger',
			    'Petra Pflegerin'])
		assert.match(text, new RegExp(`- ${name}: .*Hygiene.* ` +
					      '\\(20\\.01\\.2027\\)'));
	assert.match(text, /https:\/\/academy\.example\/#\/admin\/compliance/);
	assert.equal(decodedHeader(digest, 'Subject'),
		     'Überfällige Schulungen in Ihrem Bereich: 3');

	/* the copies are all noted as sent, and nothing is sent twice */
	for (const id of more) {
		const [row] = await compliance(ws, ada, `?user=${id}`);
		assert.deepEqual(row.reminders.map(
			(r) => [r.entry, r.role, r.to, r.sent !== null]),
				 [['+7', 'learner', row.email, true],
				  ['+7', 'manager', 'mia@example.org', true]]);
	}
	const again = await cli(ws, '2027-01-28T09:00:00Z', 'run', ws);
	assert.equal(again.stdout, 'rounds opened: 0\nreminders queued: 0\n');
	const outbox = await request(ws, 'GET', '/api/v1/mail/outbox',
				     { headers: ada });
	assert.equal(outbox.status, 200, outbox.text);
	assert.deepEqual(outbox.json.mails.filter(
		(m) => m.to === 'mia@example.org').map((m) => m.kind),
			 ['reminder'], outbox.text);
});
