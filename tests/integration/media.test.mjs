/*
 * The media files of a course on a running workspace: a learner with the
 * assignment gets each file of media/ with the type of its extension and
 * exactly the bytes the author wrote; the ETag is the file's git blob id
 * and answers If-None-Match with 304; ?v=<blob id> makes the answer
 * immutable; one byte range gives 206 with Content-Range, a range past
 * the end 416, several ranges the whole file; HEAD gives the headers
 * alone; an SVG comes with a sandboxing Content-Security-Policy. Paths
 * that try to leave media/ (plain, percent-encoded or absolute) get 404
 * and never a byte of another file; a learner without the course gets
 * the same 404 as for an unknown course, no credentials 401. The media
 * links in a lesson's HTML resolve, and a new revision serves the new
 * bytes under a new ETag.
 *
 * Requests go through node:http with the path sent as written, since
 * fetch() would resolve "..", also in its percent-encoded form, before
 * sending.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import {
	lmsTest, runOk, setupMother, addWorkspace, waitFor, writeCourse,
	randomBytes, HEX40,
} from './lib/harness.mjs';
import { assertErrorCode, addUser, bearer, signIn } from './lib/api.mjs';

const COURSE = 'media-course';
const MEDIA = `/api/v1/courses/${COURSE}/media`;

/* A PNG signature and IHDR in front of random bytes: enough to be taken
 * for an image by anyone who sniffs. */
const PNG = Buffer.concat([
	Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
	randomBytes(3000),
]);
/* An ISO media file's "ftyp" box in front of 200 KiB of random bytes. */
const MP4 = Buffer.concat([
	Buffer.from('0000001866747970697336d00000000069736f6d', 'hex'),
	randomBytes(200 * 1024),
]);
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" ' +
	'height="10"><script>alert(1)</script>' +
	'<rect width="10" height="10" fill="red"/></svg>\n';

const LESSON_TEXT = [
	'',
	'![A picture](../media/pic.png)',
	'',
	'[The clip](../media/clip.mp4) and [notes](media/sub/notes.txt).',
	'',
	'![A drawing](../media/drawing.svg)',
	'',
	'![With a space](<../media/my picture.png>)',
	'',
].join('\n');

function mediaFiles() {
	return {
		'media/pic.png': PNG,
		'media/my picture.png': PNG.subarray(0, 100),
		'media/clip.mp4': MP4,
		'media/drawing.svg': SVG,
		'media/sub/notes.txt': 'Notes in UTF-8: Händehygiene\n',
		'media/data.bin': randomBytes(64),
	};
}

/* One request with the path as written; resolves to {status, headers,
 * body (Buffer), json (or null)}. */
function raw(ws, method, p, headers = {}, body) {
	return new Promise((resolve, reject) => {
		const req = http.request({
			host: '127.0.0.1', port: ws.port, method, path: p,
			headers, timeout: 10000, agent: false,
		}, (res) => {
			const parts = [];

			res.on('data', (b) => parts.push(b));
			res.on('end', () => {
				const buf = Buffer.concat(parts);
				let json = null;

				try {
					json = JSON.parse(buf.toString());
				} catch {
					/* not JSON: the assertions say */
				}
				resolve({ status: res.statusCode,
					  headers: res.headers, body: buf,
					  text: buf.toString(), json });
			});
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
		req.end(body);
	});
}

/* The git blob id of a file, as git computes it. */
async function blobId(file) {
	return (await runOk('git', ['hash-object', file])).stdout.trim();
}

/* Asserts a 200 with the whole file. */
function assertFile(res, bytes, type) {
	assert.equal(res.status, 200, res.text);
	assert.equal(res.headers['content-type'], type);
	assert.equal(res.headers['content-length'], String(bytes.length));
	assert.equal(res.headers['accept-ranges'], 'bytes');
	assert.equal(res.headers['x-content-type-options'], 'nosniff');
	assert.ok(res.body.equals(Buffer.from(bytes)),
		  `the bytes of the file (got ${res.body.length})`);
}

/* A mother with the course, a workspace holding it, an admin, a learner
 * with the course and one without it. */
async function setup() {
	const mother = await setupMother();
	const src = writeCourse({ id: COURSE, media: mediaFiles(),
				  text: LESSON_TEXT });
	const rev = await mother.publish(src);
	const ws = await addWorkspace(mother, 'acme', 'all');
	await ws.waitRevision(COURSE, rev);

	await addUser(ws, 'ada@example.org', 'admin');
	await addUser(ws, 'pia@example.org', 'learner');
	await addUser(ws, 'ian@example.org', 'learner');
	const admin = await signIn(ws, 'ada@example.org');
	const made = await raw(ws, 'POST', '/api/v1/assignments', {
		...admin, 'Content-Type': 'application/json',
	}, JSON.stringify({ course: COURSE, user: 'pia@example.org',
			    due: '2027-03-01' }));
	assert.equal(made.status, 201, made.text);
	return { mother, ws, src, admin,
		 pia: await bearer(ws, 'pia@example.org'),
		 piaCookie: await signIn(ws, 'pia@example.org'),
		 ian: await bearer(ws, 'ian@example.org') };
}

lmsTest('media: files, types, validators, ranges and HEAD', async () => {
	const { ws, src, pia, piaCookie } = await setup();
	const file = (name) => path.join(src, 'media', name);

	/* the bytes, the type by extension, the blob id as ETag */
	let res = await raw(ws, 'GET', `${MEDIA}/pic.png`, pia);
	assertFile(res, PNG, 'image/png');
	const pngId = await blobId(file('pic.png'));
	assert.match(pngId, HEX40);
	assert.equal(res.headers.etag, `"${pngId}"`);
	assert.equal(res.headers['cache-control'], 'private, no-cache');

	/* the session cookie works as well as the token (a GET needs no
	 * CSRF token) */
	res = await raw(ws, 'GET', `${MEDIA}/pic.png`,
			{ Cookie: piaCookie.Cookie });
	assertFile(res, PNG, 'image/png');

	const types = [
		['clip.mp4', MP4, 'video/mp4'],
		['sub/notes.txt', fs.readFileSync(file('sub/notes.txt')),
		 'text/plain; charset=utf-8'],
		['data.bin', fs.readFileSync(file('data.bin')),
		 'application/octet-stream'],
		['my%20picture.png', PNG.subarray(0, 100), 'image/png'],
	];
	for (const [name, bytes, type] of types) {
		res = await raw(ws, 'GET', `${MEDIA}/${name}`, pia);
		assertFile(res, bytes, type);
		assert.equal(res.headers.etag, `"${await blobId(
			file(decodeURIComponent(name)))}"`);
	}

	/* an SVG may not run its scripts when opened on its own */
	res = await raw(ws, 'GET', `${MEDIA}/drawing.svg`, pia);
	assertFile(res, Buffer.from(SVG), 'image/svg+xml');
	const csp = res.headers['content-security-policy'] ?? '';
	assert.match(csp, /(^|;)\s*sandbox\s*(;|$)/, csp);
	assert.match(csp, /default-src 'none'/, csp);
	assert.doesNotMatch(csp, /allow-scripts/, csp);
	res = await raw(ws, 'GET', `${MEDIA}/pic.png`, pia);
	assert.equal(res.headers['content-security-policy'], undefined);

	/* ?v=<blob id> pins the content: cache for good; another v not */
	res = await raw(ws, 'GET', `${MEDIA}/pic.png?v=${pngId}`, pia);
	assertFile(res, PNG, 'image/png');
	assert.equal(res.headers['cache-control'],
		     'private, max-age=31536000, immutable');
	res = await raw(ws, 'GET', `${MEDIA}/pic.png?v=${'0'.repeat(40)}`,
			pia);
	assert.equal(res.headers['cache-control'], 'private, no-cache');

	/* If-None-Match */
	for (const tag of [`"${pngId}"`, `W/"${pngId}"`,
			   `"${'1'.repeat(40)}", "${pngId}"`, '*']) {
		res = await raw(ws, 'GET', `${MEDIA}/pic.png`,
				{ ...pia, 'If-None-Match': tag });
		assert.equal(res.status, 304, `${tag}: ${res.text}`);
		assert.equal(res.body.length, 0);
		assert.equal(res.headers.etag, `"${pngId}"`);
		assert.equal(res.headers['cache-control'],
			     'private, no-cache');
	}
	res = await raw(ws, 'GET', `${MEDIA}/pic.png`,
			{ ...pia, 'If-None-Match': `"${'1'.repeat(40)}"` });
	assertFile(res, PNG, 'image/png');

	/* one range */
	const len = MP4.length;
	const ranges = [
		['bytes=0-0', 0, 0],
		['bytes=100-199', 100, 199],
		['bytes=1000-', 1000, len - 1],
		['bytes=-10', len - 10, len - 1],
		[`bytes=${len - 5}-${len + 1000}`, len - 5, len - 1],
		['bytes=-999999999', 0, len - 1],
	];
	for (const [range, first, last] of ranges) {
		res = await raw(ws, 'GET', `${MEDIA}/clip.mp4`,
				{ ...pia, Range: range });
		assert.equal(res.status, 206, `${range}: ${res.text}`);
		assert.equal(res.headers['content-range'],
			     `bytes ${first}-${last}/${len}`);
		assert.equal(res.headers['content-length'],
			     String(last - first + 1));
		assert.equal(res.headers['content-type'], 'video/mp4');
		assert.equal(res.headers['accept-ranges'], 'bytes');
		assert.ok(res.body.equals(MP4.subarray(first, last + 1)),
			  range);
	}

	/* past the end: 416 naming the length */
	for (const range of [`bytes=${len}-`, `bytes=${len + 10}-${len + 20}`,
			     'bytes=-0']) {
		res = await raw(ws, 'GET', `${MEDIA}/clip.mp4`,
				{ ...pia, Range: range });
		assert.equal(res.status, 416, `${range}: ${res.text}`);
		assert.equal(res.headers['content-range'], `bytes */${len}`);
	}

	/* several ranges, a malformed one, another unit, an If-Range of
	 * another version: the whole file */
	const mp4Id = await blobId(file('clip.mp4'));
	for (const h of [{ Range: 'bytes=0-1,10-20' }, { Range: 'bytes=5-1' },
			 { Range: 'items=0-1' },
			 { Range: 'bytes=0-1', 'If-Range': `"${pngId}"` }]) {
		res = await raw(ws, 'GET', `${MEDIA}/clip.mp4`,
				{ ...pia, ...h });
		assertFile(res, MP4, 'video/mp4');
		assert.equal(res.headers['content-range'], undefined);
	}
	res = await raw(ws, 'GET', `${MEDIA}/clip.mp4`, {
		...pia, Range: 'bytes=0-1', 'If-Range': `"${mp4Id}"` });
	assert.equal(res.status, 206, res.text);
	assert.ok(res.body.equals(MP4.subarray(0, 2)));

	/* HEAD: the headers of GET without the body */
	res = await raw(ws, 'HEAD', `${MEDIA}/clip.mp4`, pia);
	assert.equal(res.status, 200);
	assert.equal(res.body.length, 0);
	assert.equal(res.headers['content-length'], String(len));
	assert.equal(res.headers['content-type'], 'video/mp4');
	assert.equal(res.headers.etag, `"${mp4Id}"`);
	assert.equal(res.headers['accept-ranges'], 'bytes');
	res = await raw(ws, 'HEAD', `${MEDIA}/clip.mp4`,
			{ ...pia, 'If-None-Match': `"${mp4Id}"` });
	assert.equal(res.status, 304);
	res = await raw(ws, 'HEAD', `${MEDIA}/nope.png`, pia);
	assert.equal(res.status, 404);

	/* the connection stays usable after a HEAD: a GET right after it
	 * on the same socket gets its full body */
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	const viaAgent = (method) => new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port: ws.port,
					   method, path: `${MEDIA}/pic.png`,
					   headers: pia, agent }, (r) => {
			const parts = [];
			r.on('data', (b) => parts.push(b));
			r.on('end', () => resolve({ status: r.statusCode,
				body: Buffer.concat(parts) }));
		});
		req.on('error', reject);
		req.end();
	});
	assert.equal((await viaAgent('HEAD')).status, 200);
	const after = await viaAgent('GET');
	agent.destroy();
	assert.equal(after.status, 200);
	assert.ok(after.body.equals(PNG));

	/* only GET and HEAD */
	res = await raw(ws, 'POST', `${MEDIA}/pic.png`, pia, 'x');
	assert.equal(res.status, 405, res.text);
	assert.equal(res.headers.allow, 'GET, HEAD');
	res = await raw(ws, 'DELETE', `${MEDIA}/pic.png`, pia);
	assert.equal(res.status, 405, res.text);
});

lmsTest('media: who may read, and no way out of media/', async () => {
	const { ws, admin, pia, ian } = await setup();
	const courseJson = /"format"|"lessons"/;

	/* credentials */
	assertErrorCode(await raw(ws, 'GET', `${MEDIA}/pic.png`), 401,
			'unauthorized');
	assertErrorCode(await raw(ws, 'GET', `${MEDIA}/pic.png`, {
		Authorization: `Bearer ${'0'.repeat(64)}` }), 401,
		'unauthorized');

	/* a learner without the course: the 404 of an unknown course */
	const hidden = await raw(ws, 'GET', `${MEDIA}/pic.png`, ian);
	assertErrorCode(hidden, 404, 'not_found');
	const unknown = await raw(ws, 'GET',
				  '/api/v1/courses/no-such/media/pic.png',
				  pia);
	assertErrorCode(unknown, 404, 'not_found');
	assert.equal(hidden.text, unknown.text);
	assert.equal((await raw(ws, 'HEAD', `${MEDIA}/pic.png`, ian)).status,
		     404);

	/* an admin reads any held course */
	assertFile(await raw(ws, 'GET', `${MEDIA}/pic.png`, admin), PNG,
		   'image/png');

	/* paths that leave media/, directories, nothing at all */
	const attempts = [
		`${MEDIA}/../course.json`,
		`${MEDIA}/../lessons/lesson-1.md`,
		`${MEDIA}/%2e%2e/course.json`,
		`${MEDIA}/%2E%2E/course.json`,
		`${MEDIA}/..%2fcourse.json`,
		`${MEDIA}/%2e%2e%2fcourse.json`,
		`${MEDIA}/sub/../../course.json`,
		`${MEDIA}/sub/%2e%2e/%2e%2e/course.json`,
		`${MEDIA}/./pic.png`,
		`${MEDIA}/sub/./notes.txt`,
		`${MEDIA}//etc/passwd`,
		`${MEDIA}/%2fetc%2fpasswd`,
		`${MEDIA}/%2Fcourse.json`,
		`${MEDIA}/..%5ccourse.json`,
		`${MEDIA}/sub`,
		`${MEDIA}/sub/`,
		`${MEDIA}/`,
		`${MEDIA}/pic.png/`,
		`${MEDIA}/nope.png`,
		`${MEDIA}/course.json`,
		`/api/v1/courses/${COURSE}/media/../../${COURSE}/course.json`,
		`/api/v1/courses/..%2f${COURSE}/media/pic.png`,
	];
	for (const p of attempts) {
		for (const who of [pia, admin]) {
			const res = await raw(ws, 'GET', p, who);
			assert.ok(res.status === 404 || res.status === 400,
				  `${p}: ${res.status} ${res.text}`);
			assert.doesNotMatch(res.text, courseJson, p);
			assert.doesNotMatch(res.text, /Lesson 1 of/, p);
		}
	}
	/* a NUL, even encoded, never reaches a lookup */
	const nul = await raw(ws, 'GET', `${MEDIA}/pic.png%00.txt`, pia);
	assert.ok(nul.status === 404 || nul.status === 400, nul.text);
});

lmsTest('media: the links of a lesson resolve; a new revision serves ' +
	'new bytes', async () => {
	const { mother, ws, src, pia } = await setup();

	const lesson = await raw(ws, 'GET',
				 `/api/v1/courses/${COURSE}/lessons/lesson-1`,
				 pia);
	assert.equal(lesson.status, 200, lesson.text);
	const links = [...lesson.json.html.matchAll(
		/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
	const media = links.filter((l) => l.startsWith(`${MEDIA}/`));
	/* each link names its file and, with ?v=, the file's blob id */
	const named = media.map((l) => {
		const [file, query] = l.slice(MEDIA.length + 1).split('?');
		return { link: l, name: decodeURIComponent(file), query };
	});
	assert.deepEqual(named.map((n) => n.name).sort(),
		['clip.mp4', 'drawing.svg', 'my picture.png', 'pic.png',
		 'sub/notes.txt'], lesson.json.html);
	for (const { link, name, query } of named) {
		const file = path.join(src, 'media', name);
		const res = await raw(ws, 'GET', link.replaceAll('&amp;', '&'),
				      pia);

		assert.equal(query, `v=${await blobId(file)}`, link);
		assert.equal(res.status, 200, `${link}: ${res.text}`);
		assert.ok(res.body.equals(fs.readFileSync(file)), link);
		/* a URL that names the bytes may be kept for good */
		assert.match(res.headers['cache-control'], /immutable/, link);
	}

	/* a new revision with another picture */
	const before = await raw(ws, 'GET', `${MEDIA}/pic.png`, pia);
	const png2 = Buffer.concat([PNG.subarray(0, 16), randomBytes(500)]);
	fs.writeFileSync(path.join(src, 'media', 'pic.png'), png2);
	const rev = await mother.publish(src, 'another picture');
	await ws.waitRevision(COURSE, rev);
	await waitFor(async () => (await raw(ws, 'GET', `${MEDIA}/pic.png`,
					     pia)).body.equals(png2),
		      undefined, { what: 'the new picture' });
	const now = await raw(ws, 'GET', `${MEDIA}/pic.png`, {
		...pia, 'If-None-Match': before.headers.etag });
	assertFile(now, png2, 'image/png');
	assert.notEqual(now.headers.etag, before.headers.etag);
	assert.equal(now.headers.etag,
		     `"${await blobId(path.join(src, 'media', 'pic.png'))}"`);
});
