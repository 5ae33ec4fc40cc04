/*
 * A real SMTP server for the tests: aiosmtpd (Debian python3-aiosmtpd)
 * on a free loopback port, writing every message that arrives to a
 * Maildir, and what a test reads of the messages.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { freePort, scope, tmpPath, waitFor } from './harness.mjs';

const PYTHON = '/usr/bin/python3';

/* A running aiosmtpd on port, writing into the Maildir dir. It takes
 * part in the test's scope as a daemon (running, stop(), kill(), log()),
 * so a test that fails before it stops the server does not leave it
 * holding the test file open. */
export class SmtpServer {
	constructor(port, dir) {
		this.name = 'smtp';
		this.port = port;
		this.dir = dir;
		this.logPath = dir;
		this.child = null;
	}

	get running() {
		return this.child !== null;
	}

	kill() {
		return this.stop();
	}

	/* aiosmtpd's output is not kept. */
	log() {
		return '';
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

	scope().daemons.push(server);
	await server.start();
	return server;
}

/* The value of header name in a raw message. */
export function header(msg, name) {
	const m = new RegExp(`^${name}: (.*(?:\\r?\\n .*)*)`, 'mi').exec(msg);

	return m ? m[1] : null;
}

/* The value of header name with its encoded words (RFC 2047, UTF-8 in
 * base64, as the workspace writes them) decoded and its folds joined. */
export function decodedHeader(msg, name) {
	return header(msg, name).replace(/\r?\n /g, ' ')
		.replace(/=\?UTF-8\?B\?([^?]*)\?=\s*/g,
			 (_, b) => Buffer.from(b, 'base64').toString('utf8'))
		.trim();
}
