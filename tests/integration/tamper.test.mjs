/*
 * A workspace refuses bad sync data, keeps serving its last good state,
 * and recovers once good data comes.
 *
 * Each case runs a real lms-mother and a real lms-workspace with the
 * man-in-the-middle proxy of lib/proxy.mjs between them. The mother holds
 * a course at revision R1, which reaches the workspace through the proxy;
 * then a new revision is published and the proxy tampers with its event:
 * a flipped signature bit, a flipped field byte, a corrupt pack, another
 * tenant, a replayed or reordered event, a rollback, an expired event,
 * another course, an oversized frame. For each refusal the test checks
 * that the workspace logs it, acknowledges nothing new, still serves the
 * last good revision and answers /healthz, and that once the proxy lets
 * the mother's events through unchanged the workspace reaches the
 * mother's revision (it reconnects with backoff, and the mother resends
 * what was not acknowledged).
 *
 * Run: LMS_BIN=/work/main/build/bin node --test tests/integration/
 * LMS_KEEP_TMP=1 keeps the data directories of failed cases.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	addWorkspace, catalog, healthz, lmsTest, setupMother, waitFor,
	writeCourse,
} from './lib/harness.mjs';
import {
	FRAME, SyncProxy, encodeHeader, loadMotherKey, resignEvent,
	unixNow,
} from './lib/proxy.mjs';

const COURSE = 'tamper-course';
const OTHER_COURSE = 'tamper-other';
const TENANT = 'acme';
const OTHER_TENANT = 'globex';
const FAR_FUTURE = '2099-01-01T00:00:00Z';

/* Deadlines: generous, since the workspace backs off between reconnects. */
const SHORT = 30_000;
const LONG = 120_000;
const CASE_TIMEOUT = 600_000;

const REFUSED = /level=warn\b.*msg="event refused"/;
const FRAME_WARNING = /level=warn\b.*(frame|too ?big|too large|limit)/i;

/* ---- one case's mother, proxy and workspace ---- */

/*
 * A mother with the course(s) at R1, a tenant, the proxy and a workspace
 * serving through it, once the workspace's catalog shows R1. Fills the
 * case context c: mother, ws, proxy, motherKey and, per course, its
 * source directory and last good revision.
 */
async function setupCase(c, opts)
{
	c.courses = {};
	c.revisionCount = 0;
	c.mother = await setupMother();
	c.motherKey = loadMotherKey(path.join(c.mother.data, 'mother.key'));
	const ids = opts.otherCourse ? [COURSE, OTHER_COURSE] : [COURSE];

	for (const id of ids) {
		const dir = writeCourse({ id });

		c.courses[id] = { dir, rev: await c.mother.publish(dir, 'R1') };
		assert.match(c.courses[id].rev, /^[0-9a-f]{40}$/);
	}
	if (opts.otherTenant)
		await c.mother.addTenant(OTHER_TENANT, { courses: 'all' });

	c.proxy = new SyncProxy({ host: '127.0.0.1',
				  port: Number(c.mother.sync.split(':')[1]) });
	await c.proxy.listen();
	c.ws = await addWorkspace(c.mother, TENANT, 'all', { serve: false });
	await startWorkspace(c);
	for (const id of Object.keys(c.courses))
		await waitForRevision(c, id, c.courses[id].rev, SHORT);
}

/* (Re)starts the workspace's serve, dialing the mother through the
 * proxy; waits for its /healthz. */
function startWorkspace(c, env = {})
{
	return c.ws.start({ extraArgs: ['--mother', c.proxy.address], env });
}

/* Publishes a new revision of a course (one more line in a lesson). */
async function publish(c, id = COURSE)
{
	const course = c.courses[id];
	const n = ++c.revisionCount;

	fs.appendFileSync(path.join(course.dir, 'lessons/lesson-1.md'),
			  `\nChange number ${n}.\n`);
	const rev = await c.mother.publish(course.dir, `change ${n}`);

	assert.match(rev, /^[0-9a-f]{40}$/, 'course publish prints a revision');
	return rev;
}

async function catalogRevision(c, id)
{
	const list = await catalog(c.ws);

	assert.ok(Array.isArray(list), 'the catalog is an array');
	return list.find((e) => e.id === id)?.revision ?? null;
}

async function waitForRevision(c, id, rev, timeout = LONG)
{
	await waitFor(async () => (await catalogRevision(c, id)) === rev,
		      timeout, { what: `${id} at ${rev} in the catalog`,
				 interval: 200 });
}

function refusals(c)
{
	return c.ws.daemon.log().split('\n').filter((l) => REFUSED.test(l));
}

async function waitForRefusal(c, before, what)
{
	await waitFor(() => refusals(c).length > before, LONG,
		      { what: `a line with msg="event refused" (${what})` });
	return refusals(c)[before];
}

/* The last seq the mother sent, once the workspace acknowledged it:
 * call when every published revision has been applied. */
async function settled(c)
{
	const seq = c.proxy.events.reduce((m, r) =>
		(r.event.seq > m ? r.event.seq : m), 0n);

	await waitFor(() => c.proxy.maxAck() >= seq, SHORT,
		      { what: `the acknowledgement of seq ${seq}` });
	return seq;
}

function acksAbove(c, seq)
{
	return c.proxy.acks.filter((a) => a.seq > seq);
}

function proxyDiagnostics(p)
{
	const seqs = (list) => list.map((a) => String(a.seq)).join(',');

	return `\n--- proxy: to workspace ` +
		`${JSON.stringify(p.stats.toWorkspace)}, to mother ` +
		`${JSON.stringify(p.stats.toMother)}, acks ${seqs(p.acks)}` +
		`, resumes ${seqs(p.resumes)}` +
		`, closes ${p.closes.map((x) => `${x.conn}:${x.by}`)}` +
		`, errors ${p.errors.map((e) => e.message).join('; ')}\n`;
}

/* A case with its own daemons and proxy; the harness adds the daemons'
 * logs to a failure, this adds what the proxy saw. */
function tamperCase(name, opts, body)
{
	lmsTest(name, { timeout: CASE_TIMEOUT }, async (t) => {
		const c = {};

		try {
			await setupCase(c, opts);
			await body(c, t);
			assert.deepEqual(c.proxy.errors, [], 'proxy errors');
		} catch (err) {
			if (c.proxy && err instanceof Error)
				err.stack = `${err.stack}` +
					proxyDiagnostics(c.proxy);
			throw err;
		} finally {
			if (c.proxy)
				await c.proxy.close();
		}
	});
}

/* ---- the refusal and recovery checks ---- */

/*
 * The workspace still serves the last good state: it runs, /healthz
 * answers 200 ok with the applied seq at goodSeq, the catalog shows good,
 * and nothing after goodSeq was acknowledged.
 */
async function assertLastGoodState(c, good, goodSeq, id = COURSE)
{
	assert.ok(c.ws.daemon.running, 'the workspace keeps running');
	const h = await healthz(c.ws);

	assert.equal(h.status, 'ok', `/healthz: ${JSON.stringify(h)}`);
	assert.equal(BigInt(h.applied_seq), goodSeq,
		     'applied_seq stays at the last good event');
	assert.equal(await catalogRevision(c, id), good,
		     'the catalog still shows the last good revision');
	assert.deepEqual(acksAbove(c, goodSeq), [],
			 'nothing after the last good event is acknowledged');
}

/* Lets the mother's events through and waits until the workspace shows
 * rev and the mother records it as acknowledged. */
async function assertRecovers(c, rev, id = COURSE)
{
	c.proxy.passThrough();
	await waitForRevision(c, id, rev, LONG);
	await waitFor(async () =>
		(await c.mother.tenant(TENANT))?.courses?.[id] === rev, LONG,
		{ what: `the mother to record ${id} at ${rev} as acknowledged`,
		  interval: 250 });
	assert.equal((await healthz(c.ws)).status, 'ok');
	c.courses[id].rev = rev;
}

/*
 * The common shape of a case: the proxy rewrites every event after the
 * last good one with tamper(rec) until it is told to pass them; a new
 * revision is published; the workspace must log a refusal and keep its
 * state, and once the proxy passes the mother's events unchanged, reach
 * the new revision.
 */
async function refusedThenRecovers(c, t, tamper, id = COURSE)
{
	const good = c.courses[id].rev;
	const goodSeq = await settled(c);
	const before = refusals(c).length;
	let tampered = 0;

	c.proxy.setHook((rec) => {
		if (rec.event.seq <= goodSeq)
			return 'pass';
		tampered++;
		return tamper(rec);
	});
	const next = await publish(c, id);

	t.diagnostic(await waitForRefusal(c, before, 'tampered event'));
	assert.ok(tampered > 0, 'the proxy tampered with the new event');
	await assertLastGoodState(c, good, goodSeq, id);
	await assertRecovers(c, next, id);
	return next;
}

/* Offsets of fields inside an EVENT frame, header included. */
function eventOffsets(rec)
{
	const ev = rec.event;
	const start = 5 + 4;
	const newRev = start + 1 + 2 + ev.tenant.length + 8 +
		2 + ev.course.length + 2 + ev.prev_rev.length + 2;
	const sig = start + rec.eventBytes.length;

	return { newRev, sig, pack: sig + 64 };
}

/* The same pack with one byte inside the objects changed: after the
 * 12-byte header, before the 20-byte trailer. */
function corruptPack(pack)
{
	const p = Buffer.from(pack);

	assert.ok(p.length > 40, `a pack of ${p.length} bytes`);
	p[12 + Math.floor((p.length - 32) / 2)] ^= 0xff;
	return p;
}

/* ---- the cases ---- */

tamperCase('1. one bit flipped in the signature is refused', {},
	   async (c, t) => {
	await refusedThenRecovers(c, t, (rec) => {
		const raw = Buffer.from(rec.raw);

		raw[eventOffsets(rec).sig + 17] ^= 0x04;
		return raw;
	});
});

tamperCase('2. one byte flipped in the event fields (new_rev) is refused',
	   {}, async (c, t) => {
	await refusedThenRecovers(c, t, (rec) => {
		const raw = Buffer.from(rec.raw);
		const at = eventOffsets(rec).newRev + 7;

		/* Another hex digit: still a well-formed revision. */
		raw[at] = raw[at] === 0x30 ? 0x31 : 0x30;
		return raw;
	});
});

tamperCase('3. a corrupt pack is refused, also when the hash is re-signed',
	   {}, async (c, t) => {
	/* The pack's bytes no longer match the signed sha256. */
	await refusedThenRecovers(c, t, (rec) => {
		const raw = Buffer.from(rec.raw);

		corruptPack(rec.pack).copy(raw, eventOffsets(rec).pack);
		return raw;
	});

	/* The event states the corrupt pack's hash and is signed: only the
	 * pack check of git catches it. */
	await refusedThenRecovers(c, t, (rec) =>
		resignEvent(rec, c.motherKey, { pack: corruptPack(rec.pack) }));
});

tamperCase('4. an event for another tenant is refused',
	   { otherTenant: true }, async (c, t) => {
	await refusedThenRecovers(c, t, (rec) =>
		resignEvent(rec, c.motherKey, { tenant: OTHER_TENANT }));
});

/*
 * Publishes a revision whose event the proxy holds back, sending the
 * frames of replay in its place; waits until done(index of the first new
 * ack) holds, checks the last good state, then delivers the held event.
 */
async function replayInstead(c, replay, done, what)
{
	const good = c.courses[COURSE].rev;
	const goodSeq = await settled(c);
	const acksBefore = c.proxy.acks.length;
	const held = [];

	c.proxy.setHook((rec) => {
		if (rec.event.seq <= goodSeq)
			return 'pass';
		held.push(rec);
		return held.length === 1 ? replay : 'drop';
	});
	const next = await publish(c);

	await waitFor(() => done(acksBefore), LONG, { what });
	await assertLastGoodState(c, good, goodSeq);

	/* Now the held event comes, and it alone moves the course. If the
	 * connection is gone, the mother resends it after the reconnect. */
	c.proxy.passThrough();
	c.proxy.sendToWorkspace(held[0].raw);
	await assertRecovers(c, next);
	assert.equal(BigInt((await healthz(c.ws)).applied_seq), goodSeq + 1n,
		     'applied_seq moves by one');
}

tamperCase('5. a replayed event is acknowledged and ignored, never a rollback',
	   {}, async (c, t) => {
	const seq1 = await settled(c);
	const r1Event = c.proxy.events.find((r) => r.event.seq === seq1);

	/* Instead of R2, the genuine event of R1 again. */
	await replayInstead(c, [r1Event.raw], (since) =>
		c.proxy.acks.slice(since).some((a) => a.seq <= seq1),
		'the workspace to acknowledge the replayed event');

	/* At R2, R1's event again (now an older seq) must not roll the
	 * course back, whether the workspace acknowledges or refuses it. */
	const seq2 = await settled(c);
	const before = refusals(c).length;

	await replayInstead(c, [r1Event.raw], (since) =>
		c.proxy.acks.slice(since).some((a) => a.seq <= seq2) ||
		refusals(c).length > before,
		'the workspace to acknowledge or refuse the old event');
	t.diagnostic(`the older event at R2: ${refusals(c).length - before} ` +
		     'refusal line(s)');

	/* The same event twice in a row takes effect once. */
	const seq3 = await settled(c);
	let copies = 0;

	c.proxy.setHook((rec) => {
		if (rec.event.seq <= seq3)
			return 'pass';
		copies += 2;
		return [rec.raw, rec.raw];
	});
	const r4 = await publish(c);

	await waitForRevision(c, COURSE, r4);
	await waitFor(() => c.proxy.acks.filter((a) => a.seq === seq3 + 1n)
		      .length >= copies, SHORT,
		      { what: 'an ACK for each copy of the doubled event' });
	assert.equal(BigInt((await healthz(c.ws)).applied_seq), seq3 + 1n,
		     'applied once');
});

tamperCase('6. events out of order: a gap is never applied, RESUME asked',
	   {}, async (c) => {
	const r1 = c.courses[COURSE].rev;
	const seq1 = await settled(c);
	const held = new Map();

	/* Hold R2 and R3, every copy the mother sends. */
	c.proxy.setHook((rec) => {
		if (rec.event.seq <= seq1)
			return 'pass';
		if (!held.has(rec.event.seq))
			held.set(rec.event.seq, rec);
		return 'drop';
	});
	const r2 = await publish(c);
	const r3 = await publish(c);

	await waitFor(() => held.has(seq1 + 1n) && held.has(seq1 + 2n), LONG,
		      { what: 'the proxy to hold the events of R2 and R3' });
	assert.equal(held.get(seq1 + 1n).event.new_rev, r2);
	assert.equal(held.get(seq1 + 2n).event.new_rev, r3);

	/* R3 before R2: a gap. */
	const resumesBefore = c.proxy.resumes.length;

	assert.ok(c.proxy.sendToWorkspace(held.get(seq1 + 2n).raw),
		  'an open connection to send R3 on');
	const resume = await waitFor(() => c.proxy.resumes[resumesBefore],
				     SHORT, { what: 'a RESUME' });

	assert.ok(resume.seq === seq1 || resume.seq === seq1 + 1n,
		  `RESUME names the gap (seq ${resume.seq}, applied ${seq1})`);
	await assertLastGoodState(c, r1, seq1);

	/* Both in order: the workspace ends at R3, having applied R2 first.
	 * If the connection is gone, the mother resends both. */
	c.proxy.passThrough();
	if (c.proxy.sendToWorkspace(held.get(seq1 + 1n).raw))
		c.proxy.sendToWorkspace(held.get(seq1 + 2n).raw);
	await assertRecovers(c, r3);
	assert.equal(acksAbove(c, seq1)[0].seq, seq1 + 1n,
		     'R2 is acknowledged before R3');
});

tamperCase('7. a rollback to an older revision with a higher seq is refused',
	   {}, async (c, t) => {
	const r1 = c.courses[COURSE].rev;
	const r1Event = c.proxy.events.find((r) => r.event.new_rev === r1);

	/* R2 arrives as it should. */
	const r2 = await publish(c);

	await assertRecovers(c, r2);
	const seq2 = await settled(c);
	const before = refusals(c).length;

	/* Next in sequence, R2 -> R1 with the pack that brought R1, signed
	 * with the mother's key, sent on the open connection. */
	await waitFor(() => c.proxy.current(), SHORT,
		      { what: 'an open sync connection' });
	const now = unixNow();
	const frame = resignEvent(r1Event, c.motherKey, {
		seq: seq2 + 1n, prev_rev: r2, new_rev: r1, time: now,
		expiry: now + 3600n,
	});

	assert.ok(c.proxy.sendToWorkspace(frame), 'sent the rollback event');
	t.diagnostic(await waitForRefusal(c, before, 'rollback'));
	await assertLastGoodState(c, r2, seq2);

	/* The same in place of the mother's next event; then that event
	 * itself applies. */
	await refusedThenRecovers(c, t, (rec) =>
		resignEvent(rec, c.motherKey, { prev_rev: r2, new_rev: r1,
						pack: r1Event.pack }));
});

tamperCase('8. expired events are refused', {}, async (c, t) => {
	/* An expiry in the past, signed. */
	await refusedThenRecovers(c, t, (rec) =>
		resignEvent(rec, c.motherKey, { expiry: unixNow() - 60n }));

	/* A workspace whose clock is far ahead refuses genuine events. */
	const good = c.courses[COURSE].rev;
	const goodSeq = await settled(c);

	await c.ws.stop();
	await startWorkspace(c, { LMS_FAKE_NOW: FAR_FUTURE });
	const before = refusals(c).length;
	const next = await publish(c);

	t.diagnostic(await waitForRefusal(c, before, 'workspace in 2099'));
	await assertLastGoodState(c, good, goodSeq);

	/* With the right time again, the same event applies. */
	await c.ws.stop();
	await startWorkspace(c);
	await assertRecovers(c, next);
});

tamperCase('9. an event for another course than its pack is refused',
	   { otherCourse: true }, async (c, t) => {
	const other = c.courses[OTHER_COURSE].rev;
	const assertOtherKept = async () => {
		assert.equal(await catalogRevision(c, OTHER_COURSE), other,
			     `${OTHER_COURSE} is untouched`);
		assert.deepEqual((await catalog(c.ws)).map((e) => e.id).sort(),
				 [COURSE, OTHER_COURSE].sort(),
				 'no course appears from nowhere');
	};

	/* Only the course id changed. */
	await refusedThenRecovers(c, t, (rec) =>
		resignEvent(rec, c.motherKey, { course: OTHER_COURSE }));
	await assertOtherKept();

	/* Also the revision the workspace holds for that course as the
	 * previous one: only the history and the tree of the pack tell. */
	await refusedThenRecovers(c, t, (rec) =>
		resignEvent(rec, c.motherKey, { course: OTHER_COURSE,
						prev_rev: other }));
	await assertOtherKept();

	/* A course the workspace does not hold yet: only the course id in
	 * the tree of the pack tells. */
	await refusedThenRecovers(c, t, (rec) =>
		resignEvent(rec, c.motherKey, { course: 'no-such-course',
						prev_rev: '' }));
	await assertOtherKept();
});

tamperCase('10. a frame announcing 2 GiB is dropped without allocating',
	   {}, async (c, t) => {
	const good = c.courses[COURSE].rev;
	const goodSeq = await settled(c);
	const logStart = c.ws.daemon.log().length;
	const peakBefore = vmPeakKiB(c.ws.daemon.pid);
	const poisoned = [];

	/* The header of an EVENT frame of 2 GiB, then the real payload. */
	c.proxy.setHook((rec, conn) => {
		if (rec.event.seq <= goodSeq)
			return 'pass';
		poisoned.push(conn.id);
		return [encodeHeader(FRAME.EVENT, 0x80000000),
			rec.raw.subarray(5)];
	});
	const next = await publish(c);

	await waitFor(() => poisoned.length, LONG,
		      { what: 'the oversized frame to be sent' });
	await waitFor(() => c.proxy.closes.some((x) =>
		x.conn === poisoned[0] && x.by === 'workspace'), SHORT,
		{ what: 'the workspace to close the connection' });
	t.diagnostic(await waitFor(() => c.ws.daemon.log().slice(logStart)
		.split('\n').find((l) => FRAME_WARNING.test(l)), SHORT,
		{ what: 'a warn line about the frame' }));
	await assertLastGoodState(c, good, goodSeq);
	const peakAfter = vmPeakKiB(c.ws.daemon.pid);

	t.diagnostic(`VmPeak ${peakBefore} -> ${peakAfter} KiB`);
	assert.ok(peakAfter - peakBefore < 512 * 1024,
		  `no 2 GiB allocation: VmPeak ${peakBefore} -> ` +
		  `${peakAfter} KiB`);
	await assertRecovers(c, next);
});

function vmPeakKiB(pid)
{
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const m = /^VmPeak:\s+(\d+) kB/m.exec(status);

	assert.ok(m, 'VmPeak in /proc/PID/status');
	return Number(m[1]);
}
