/*
 * The sync port over TLS, as an operator with workspaces on other hosts
 * runs it: `lms-mother serve --sync-tls` and workspaces enrolled with
 * `--mother tls://HOST:PORT`. Courses and new revisions arrive as over
 * plain TCP; a mother whose key is not the pinned one is refused before
 * anything is said; a workspace dialling the TLS port in plain TCP (or
 * TLS against a plain port) gets nothing and breaks nothing; and what
 * crosses the network is not readable, seen through a TCP relay that
 * records the bytes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
	lmsTest, run, runOk, describeResult, setupMother, catalog, healthz,
	waitFor, sleep, tmpPath, freePort, scope, copySampleCourse,
	editCourseJson, Daemon, Workspace, WORKSPACE_BIN,
} from './lib/harness.mjs';

const PIN_MISMATCH = 'mother TLS key does not match the pinned key';

/* A mother whose sync port speaks only TLS (restarts keep the flag). */
async function setupTlsMother(options = {}) {
	const m = await setupMother({ ...options, serve: false });

	m.daemon.args.push('--sync-tls');
	if (options.serve ?? true)
		await m.start();
	for (const id of options.courses ?? [])
		m.revisions[id] = await m.publishSample(id);
	return m;
}

/*
 * Like the harness's addWorkspace(), but the workspace dials `dial`
 * (default tls://<mother's sync address>) and may pin another key.
 * options: fingerprint, serve (default true).
 */
async function addTlsWorkspace(mother, id, courses, options = {}) {
	const added = await mother.addTenant(id, { courses });
	const data = tmpPath(`ws-${id}`);
	const port = await freePort();
	const addr = `127.0.0.1:${port}`;
	const http = `http://${addr}`;
	const dial = options.dial ?? `tls://${mother.sync}`;

	await runOk(WORKSPACE_BIN, ['init', data, '--mother', dial,
				    '--token', added.token, '--mother-key',
				    options.fingerprint ?? mother.fingerprint,
				    '--listen', addr]);
	const daemon = new Daemon(`ws-${id}`, WORKSPACE_BIN,
				  ['serve', data, '--listen', addr],
				  { healthUrl: `${http}/healthz` });
	scope().daemons.push(daemon);
	const ws = new Workspace({ id, data, http, addr, port,
				   token: added.token, mother, daemon });
	if (options.serve ?? true)
		await daemon.start();
	return ws;
}

/* Publishes a new revision of a sample course with another title. */
async function publishRetitled(mother, id, title) {
	const dir = copySampleCourse(id);

	editCourseJson(dir, (c) => {
		c.title = { [c.language]: title };
	});
	return mother.publish(dir);
}

/*
 * A TCP relay to target ("host:port") that keeps what went each way:
 * relay.up (workspace to mother) and relay.down (mother to workspace),
 * each a list of Buffers over all connections.
 */
async function startRelay(target) {
	const [host, port] = target.split(':');
	const relay = { up: [], down: [], sockets: new Set() };
	const server = net.createServer((client) => {
		const upstream = net.connect(Number(port), host);

		for (const s of [client, upstream]) {
			relay.sockets.add(s);
			s.on('error', () => {});
			s.on('close', () => relay.sockets.delete(s));
		}
		client.on('data', (b) => {
			relay.up.push(b);
			upstream.write(b);
		});
		upstream.on('data', (b) => {
			relay.down.push(b);
			client.write(b);
		});
		client.on('close', () => upstream.destroy());
		upstream.on('close', () => client.destroy());
	});

	await new Promise((resolve, reject) => {
		server.on('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	relay.addr = `127.0.0.1:${server.address().port}`;
	relay.close = () => {
		for (const s of relay.sockets)
			s.destroy();
		return new Promise((resolve) => server.close(resolve));
	};
	return relay;
}

function includes(chunks, text) {
	return Buffer.concat(chunks).includes(Buffer.from(text));
}

function logLines(daemon, re) {
	return daemon.log().split('\n').filter((l) => re.test(l));
}

lmsTest('a workspace enrolled over TLS receives courses and new revisions',
	async () => {
	const m = await setupTlsMother({ courses: ['hygiene-basics'] });

	assert.equal(logLines(m.daemon, /msg="serving".* tls=on /).length, 1,
		     m.daemon.log());
	assert.ok(fs.existsSync(path.join(m.data, 'sync-tls.crt')));

	const ws = await addTlsWorkspace(m, 'acme', 'all');
	await ws.waitRevision('hygiene-basics', m.revisions['hygiene-basics']);
	await waitFor(async () => (await m.tenant('acme')).connected,
		      undefined, { what: 'acme connected' });
	assert.equal(logLines(ws.daemon, /msg="connected to mother".* tls=on /)
		     .length, 1, ws.daemon.log());
	assert.ok((await healthz(ws)).mother_connected);

	const rev = await publishRetitled(m, 'hygiene-basics', 'Over TLS');
	await ws.waitRevision('hygiene-basics', rev);
	const c = (await catalog(ws)).find((x) => x.id === 'hygiene-basics');
	assert.equal(c.title, 'Over TLS');

	/* a restarted mother keeps its certificate and its workspaces */
	const cert = fs.readFileSync(path.join(m.data, 'sync-tls.crt'));
	await m.daemon.restart();
	assert.deepEqual(fs.readFileSync(path.join(m.data, 'sync-tls.crt')),
			 cert);
	const rev2 = await publishRetitled(m, 'hygiene-basics', 'Again');
	await ws.waitRevision('hygiene-basics', rev2);
});

lmsTest('a workspace refuses a TLS mother whose key it did not pin',
	async () => {
	const m = await setupTlsMother({ courses: ['hygiene-basics'] });
	const other = await setupTlsMother({ name: 'other' });
	const added = await m.addTenant('acme', { courses: 'all' });
	const data = tmpPath('ws-acme');

	/* init pinning the other mother's key: refused in the handshake,
	 * nothing left behind, and the token was never sent */
	const r = await run(WORKSPACE_BIN, [
		'init', data, '--mother', `tls://${m.sync}`, '--token',
		added.token, '--mother-key', other.fingerprint]);
	assert.equal(r.code, 1, describeResult(r));
	assert.match(r.stderr, new RegExp(PIN_MISMATCH), describeResult(r));
	assert.ok(!fs.existsSync(data), 'init left DATA behind');
	assert.equal((await m.tenant('acme')).enrolled, false);

	/* the same token still enrolls with the right key */
	const ws = await addTlsWorkspace(m, 'beta', 'all');
	await ws.waitRevision('hygiene-basics', m.revisions['hygiene-basics']);
	await runOk(WORKSPACE_BIN, [
		'init', data, '--mother', `tls://${m.sync}`, '--token',
		added.token, '--mother-key', m.fingerprint]);

	/* serve pointed at the other mother: refused, said why, not synced */
	await ws.stop();
	await ws.start({ extraArgs: ['--mother', `tls://${other.sync}`] });
	await waitFor(() => logLines(ws.daemon, /cannot sync with mother/)
		      .some((l) => l.includes(PIN_MISMATCH)), undefined,
		      { what: 'the workspace saying why it refused' });
	assert.equal((await healthz(ws)).mother_connected, false);
	assert.equal(logLines(other.daemon, /tenant connected/).length, 0);
});

lmsTest('plain TCP against the TLS port, and TLS against a plain port, ' +
	'do not sync and break nothing', async () => {
	const m = await setupTlsMother({ courses: ['hygiene-basics'] });
	const good = await addTlsWorkspace(m, 'good', 'all');
	await good.waitRevision('hygiene-basics',
				m.revisions['hygiene-basics']);

	/* a workspace enrolled over TLS, then run in plain TCP */
	const plain = await addTlsWorkspace(m, 'plain', 'all',
					    { serve: false });
	await plain.start({ extraArgs: ['--mother', m.sync] });
	await sleep(2000);
	assert.equal((await healthz(plain)).mother_connected, false);
	assert.deepEqual(await catalog(plain), []);
	assert.equal((await m.tenant('plain')).connected, false);

	/* init in plain TCP: no answer, a clear failure */
	const added = await m.addTenant('late', { courses: 'all' });
	const r = await run(WORKSPACE_BIN, [
		'init', tmpPath('ws-late'), '--mother', m.sync, '--token',
		added.token, '--mother-key', m.fingerprint]);
	assert.equal(r.code, 1, describeResult(r));
	assert.match(r.stderr, /no answer from the mother|closed/,
		     describeResult(r));

	/* the mother keeps serving the TLS workspace */
	const rev = await publishRetitled(m, 'hygiene-basics', 'Still here');
	await good.waitRevision('hygiene-basics', rev);
	assert.equal((await healthz(plain)).mother_connected, false);

	/* the other way round: TLS against a plain mother fails at once */
	const p = await setupMother({ name: 'plain-mother' });
	const t = await p.addTenant('x', { courses: 'all' });
	const started = Date.now();
	const r2 = await run(WORKSPACE_BIN, [
		'init', tmpPath('ws-x'), '--mother', `tls://${p.sync}`,
		'--token', t.token, '--mother-key', p.fingerprint]);
	assert.equal(r2.code, 1, describeResult(r2));
	assert.match(r2.stderr, /mother TLS handshake failed/,
		     describeResult(r2));
	assert.ok(Date.now() - started < 5000, 'TLS init did not fail fast');
	assert.equal((await p.tenant('x')).enrolled, false);
});

lmsTest('the sync traffic is not readable on the wire', async () => {
	/* What a plain session shows in clear: the EVENT header's tenant,
	 * course and revision ids (packs are zlib-compressed either way).
	 * The same relay first checks that it would see them. */
	const plainMother = await setupMother({ name: 'plain-mother',
						courses: ['hygiene-basics'] });
	const plainRelay = await startRelay(plainMother.sync);
	const p = await addTlsWorkspace(plainMother, 'tenant-clear', 'all',
					{ dial: plainRelay.addr });
	const plainRev = plainMother.revisions['hygiene-basics'];
	await p.waitRevision('hygiene-basics', plainRev);
	assert.ok(includes(plainRelay.down, plainRev),
		  'the plain relay does not see the revision in clear');
	assert.ok(includes(plainRelay.down, 'tenant-clear'));
	await p.stop();
	await plainRelay.close();

	const m = await setupTlsMother({ courses: ['hygiene-basics'] });
	const relay = await startRelay(m.sync);
	const ws = await addTlsWorkspace(m, 'tenant-secret', 'all',
					 { dial: `tls://${relay.addr}` });
	const rev = await publishRetitled(m, 'hygiene-basics',
					  'Confidential title');
	await ws.waitRevision('hygiene-basics', rev);

	const down = Buffer.concat(relay.down);
	const up = Buffer.concat(relay.up);
	assert.ok(down.length > 1000, `only ${down.length} bytes seen`);
	assert.equal(up[0], 0x16, 'the workspace did not start with a TLS ' +
		     'handshake record');
	for (const text of [rev, m.revisions['hygiene-basics'],
			    'tenant-secret', 'hygiene-basics',
			    'Confidential title'])
		assert.ok(!down.includes(Buffer.from(text)),
			  `"${text}" in clear from the mother`);
	for (const text of ['tenant-secret', ws.token])
		assert.ok(!up.includes(Buffer.from(text)),
			  `"${text}" in clear from the workspace`);
	await ws.stop();
	await relay.close();
});
