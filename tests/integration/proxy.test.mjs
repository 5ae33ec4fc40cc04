/*
 * A workspace behind a reverse proxy: with `serve --trusted-proxy IP`,
 * the login throttle counts per client address as the proxy names it
 * in X-Forwarded-For, so one client's failures do not lock out the
 * others who come through the same proxy. Without the option the header
 * is ignored (anyone could send it), and a bad option is refused.
 */
import assert from 'node:assert/strict';

import {
	lmsTest, run, describeResult, setupMother, addWorkspace,
	WORKSPACE_BIN,
} from './lib/harness.mjs';
import { request, addUser, PASSWORD } from './lib/api.mjs';

/* POST /api/v1/session as the client forwarded is; the status. */
async function login(ws, email, password, forwarded) {
	const res = await request(ws, 'POST', '/api/v1/session', {
		headers: { 'X-Forwarded-For': forwarded },
		json: { email, password } });
	return res.status;
}

/* Twenty failed logins from one client address, each for another
 * account so that no account reaches its own limit. */
async function failTwenty(ws, forwarded) {
	for (let i = 0; i < 20; i++)
		assert.equal(await login(ws, `nobody${i}@example.org`, 'wrong',
					 forwarded), 401);
}

lmsTest('proxy: the throttle counts the forwarded client', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', undefined,
				      { serve: false });

	await addUser(ws, 'ann@example.org');
	await ws.start({ extraArgs: ['--trusted-proxy', '127.0.0.1'] });
	await failTwenty(ws, '198.51.100.7, 203.0.113.1');
	/* that client is stopped, even with the right password ... */
	assert.equal(await login(ws, 'ann@example.org', PASSWORD,
				 '203.0.113.1'), 429);
	/* ... the others behind the same proxy are not */
	assert.equal(await login(ws, 'ann@example.org', PASSWORD,
				 '203.0.113.2'), 200);
	assert.equal(await login(ws, 'ann@example.org', PASSWORD,
				 '2001:db8::2'), 200);
	/* a header that does not end in an address counts as the proxy */
	await failTwenty(ws, 'not-an-address');
	assert.equal(await login(ws, 'ann@example.org', PASSWORD, 'junk'),
		     429);
});

lmsTest('proxy: without the option the header is ignored', async () => {
	const mother = await setupMother();
	const ws = await addWorkspace(mother, 'acme', undefined,
				      { serve: false });

	await addUser(ws, 'ann@example.org');
	await ws.start();
	await failTwenty(ws, '203.0.113.1');
	assert.equal(await login(ws, 'ann@example.org', PASSWORD,
				 '203.0.113.2'), 429);

	const bad = await run(WORKSPACE_BIN, ['serve', ws.data,
					      '--trusted-proxy', 'localhost']);
	assert.equal(bad.code, 2, describeResult(bad));
	assert.match(bad.stderr, /--trusted-proxy needs an IP address/);
});
