/*
 * A real SMTP server for the tests: aiosmtpd (Debian python3-aiosmtpd)
 * on a free loopback port, writing every message that arrives to a
 * Maildir, and what a test reads of the messages.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { freePort, tmpPath, waitFor } from './harness.mjs';

const PYTHON = '/usr/bin/python3';

/* A running aiosmtpd on port, writing into the Maildir dir. */
export class SmtpServer {
	constructor(port, dir) {
		this.port = port;
		this.dir = dir;
		this.child = null;
	}

	async start() {
		this.child = spawn(PYTHON, ['-m', 'aiosmtpd', '-n', '-l',
			`127.0.0.1:${this.port}`, '-c',
			'aiosmtpd.handlers.Mailbox', this.dir],
			{ stdio: 'ignore' });
		await waitFor(() => new Promise((resolve) => {
			const s = net.connect(this.port, '127.0.0.1');
			s.on('connect', () => { s.destroy(); resolve(true); });
			s.on('error', () => resolve(false));
		}));
	}

	async stop() {
		if (!this.child)
			return;
		const exited = new Promise((r) => this.child.on('exit', r));
		this.child.kill('SIGTERM');
		await exited;
		this.child = null;
	}

	/* The messages that arrived, as texts. */
	messages() {
		const dir = path.join(this.dir, 'new');

		if (!fs.existsSync(dir))
			return [];
		return fs.readdirSync(dir).sort().map(
			(f) => fs.readFileSync(path.join(dir, f), 'utf8'));
	}
}

/* A started SmtpServer with a Maildir in the test's temp dir. */
export async function smtpServer() {
	const server = new SmtpServer(await freePort(), tmpPath('maildir'));

	await server.start();
	return server;
}

/* The value of header name in a raw message. */
export function header(msg, name) {
	const m = new RegExp(`^${name}: (.*(?:\\r?\\n .*)*)`, 'mi').exec(msg);

	return m ? m[1] : null;
}

