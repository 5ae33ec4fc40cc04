/*
 * The mother guards itself against peers that are not (yet) workspaces
 * and against course repositories moved behind the hook's back:
 *   - an unauthenticated peer announcing a huge frame is dropped at once,
 *     without the mother buffering it;
 *   - a peer that neither enrolls nor says HELLO is dropped after the
 *     handshake deadline, even if it keeps pinging;
 *   - a main branch moved back (update-ref, a restored backup) is not
 *     published, so tenants' streams never carry a rollback, and the
 *     next good push goes out as usual.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
	lmsTest, setupMother, addWorkspace, healthz, waitFor,
	copySampleCourse, cloneRepo, gitCommitAll, runOk,
} from './lib/harness.mjs';

function rssKiB(pid) {
	const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/^VmRSS:\s+(\d+)/m.exec(s)[1]);
}

/* Connects to the sync port; resolves to the socket once CHALLENGE came. */
function rawPeer(addr) {
	const [host, port] = addr.split(':');
	return new Promise((resolve, reject) => {
		const s = net.connect(Number(port), host);
		s.once('data', () => resolve(s));
		s.once('error', reject);
	});
}

function closed(socket) {
	return new Promise((resolve) => {
		if (socket.destroyed)
			resolve();
		socket.once('close', resolve);
	});
}

lmsTest('an unauthenticated peer cannot make the mother buffer a big frame',
	async () => {
	const m = await setupMother();
	const before = rssKiB(m.daemon.child.pid);
	const peer = await rawPeer(m.sync);
	const gone = closed(peer);

	peer.on('error', () => {});
	/* an EVENT header announcing ~256 MiB, then 8 MiB of it */
	peer.write(Buffer.from([0x0f, 0xff, 0xff, 0xf0, 0x04]));
	peer.write(Buffer.alloc(8 << 20, 0x41));
	await waitFor(() => gone.then(() => true), 5000);

	const after = rssKiB(m.daemon.child.pid);
	assert.ok(after - before < 4096,
		  `mother grew by ${after - before} KiB`);
	assert.equal((await healthz(m)).status, 'ok');
});

lmsTest('a peer that never says HELLO is dropped after the deadline',
	async () => {
	const m = await setupMother();
	const peer = await rawPeer(m.sync);
	const gone = closed(peer);
	const start = Date.now();
	const ping = Buffer.from([0, 0, 0, 0, 10]);
	const timer = setInterval(() => peer.write(ping), 500);

	peer.on('error', () => {});
	try {
		await waitFor(() => gone.then(() => true), 20000);
	} finally {
		clearInterval(timer);
	}
	const waited = Date.now() - start;
	assert.ok(waited >= 9000 && waited < 20000, `dropped after ${waited} ms`);
	assert.match(m.daemon.log(), /handshake timed out/);
});

lmsTest('a main branch moved back is not published', async () => {
	const m = await setupMother();
	const ws = await addWorkspace(m, 'acme', 'all');
	const repo = await m.create('hygiene-basics');
	const clone = await cloneRepo(repo);
	const push = () => runOk('git', ['push', '-q', 'origin', 'HEAD:main'],
				 { cwd: clone });

	fs.cpSync(copySampleCourse('hygiene-basics'), clone,
		  { recursive: true });
	const r1 = await gitCommitAll(clone, 'R1');
	await push();
	fs.appendFileSync(path.join(clone, 'course.json'), '\n');
	const r2 = await gitCommitAll(clone, 'R2');
	await push();
	await ws.waitRevision('hygiene-basics', r2);

	/* behind the hook's back; the daemon records again at start */
	await runOk('git', ['--git-dir', repo, 'update-ref', 'refs/heads/main',
			    r1]);
	await m.stop();
	await m.start();
	assert.equal(await m.revision('hygiene-basics'), r2);
	assert.match(m.daemon.log(), /main does not descend/);
	assert.equal((await ws.catalog())[0].revision, r2);

	/* the next good push (a descendant of R2) goes out */
	fs.appendFileSync(path.join(clone, 'course.json'), '\n');
	const r3 = await gitCommitAll(clone, 'R3');
	await push();
	await ws.waitRevision('hygiene-basics', r3);
	assert.equal(await m.revision('hygiene-basics'), r3);
});
