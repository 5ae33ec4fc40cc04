/*
 * The command lines of lms-mother and lms-workspace as an operator and an
 * author use them: help, usage errors, init, course create and publish,
 * the JSON shapes the contract fixes, and the refusal of invalid courses
 * with the file and the reason. No daemon runs here: everything is done
 * on the data directory.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	lmsTest, run, runOk, describeResult, tmpPath, setupMother,
	MOTHER_BIN, WORKSPACE_BIN, HEX40, HEX64, SAMPLE_COURSES,
	copySampleCourse, writeCourse, courseTitle, INVALID_COURSES,
	findCourseError, git,
} from './lib/harness.mjs';

/* Each subcommand and words its --help must mention. */
const HELP = [
	[MOTHER_BIN, ['init'], ['DATA']],
	[MOTHER_BIN, ['key'], ['DATA']],
	[MOTHER_BIN, ['serve'], ['DATA', '--listen', '--sync-listen']],
	[MOTHER_BIN, ['course', 'create'], ['DATA', 'ID']],
	[MOTHER_BIN, ['course', 'publish'], ['DATA', 'DIR', '-m']],
	[MOTHER_BIN, ['course', 'list'], ['DATA', '--json']],
	[MOTHER_BIN, ['tenant', 'add'],
	 ['DATA', 'ID', '--name', '--domain', '--courses', '--json']],
	[MOTHER_BIN, ['tenant', 'list'], ['DATA', '--json']],
	[MOTHER_BIN, ['tenant', 'license'], ['DATA', 'ID', '--courses']],
	[WORKSPACE_BIN, ['init'],
	 ['DATA', '--mother', '--token', '--mother-key', '--listen']],
	[WORKSPACE_BIN, ['serve'], ['DATA', '--listen', '--mother']],
	[WORKSPACE_BIN, ['course', 'list'], ['DATA', '--json']],
	[WORKSPACE_BIN, ['course', 'publish'], ['DATA', 'DIR', '-m']],
];

for (const [bin, sub, words] of HELP) {
	const name = `${path.basename(bin)} ${sub.join(' ')} --help`;

	lmsTest(`${name} exits 0 and names its arguments`, async () => {
		const r = await run(bin, [...sub, '--help']);

		assert.equal(r.code, 0, describeResult(r));
		for (const w of words)
			assert.ok(r.stdout.includes(w),
				  `help does not mention ${w}\n` +
				  describeResult(r));
	});
}

for (const bin of [MOTHER_BIN, WORKSPACE_BIN]) {
	const name = path.basename(bin);

	lmsTest(`${name} --help lists the subcommands`, async () => {
		const r = await run(bin, ['--help']);

		assert.equal(r.code, 0, describeResult(r));
		for (const w of ['init', 'serve', 'course'])
			assert.match(r.stdout, new RegExp(`\\b${w}\\b`),
				     describeResult(r));
	});

	lmsTest(`${name}: unknown subcommands exit 2`, async () => {
		for (const args of [['frobnicate'], ['course', 'frobnicate'],
				    ['tenant', 'frobnicate']]) {
			const r = await run(bin, args);

			assert.equal(r.code, 2, describeResult(r));
			assert.notEqual(r.stderr.trim(), '',
					describeResult(r));
		}
	});
}

lmsTest('lms-mother init twice is refused and keeps the key', async () => {
	const data = tmpPath('mother');
	const first = await runOk(MOTHER_BIN, ['init', data]);
	const fp = /mother key: ([0-9a-f]{64})/.exec(first.stdout);

	assert.ok(fp, describeResult(first));
	for (const f of ['mother.db', 'mother.key', 'courses'])
		assert.ok(fs.existsSync(path.join(data, f)), `no ${f}`);
	const pem = fs.readFileSync(path.join(data, 'mother.key'), 'utf8');
	assert.match(pem, /-----BEGIN PRIVATE KEY-----/);

	const again = await run(MOTHER_BIN, ['init', data]);
	assert.notEqual(again.code, 0, describeResult(again));
	assert.notEqual(again.stderr.trim(), '', describeResult(again));
	assert.equal(fs.readFileSync(path.join(data, 'mother.key'), 'utf8'),
		     pem);

	const key = await runOk(MOTHER_BIN, ['key', data]);
	assert.match(key.stdout.trim(), HEX64);
	assert.equal(key.stdout.trim(), fp[1]);
});

lmsTest('course create prints the path of a bare repository', async () => {
	const m = await setupMother({ serve: false });
	const r = await runOk(MOTHER_BIN,
			      ['course', 'create', m.data, 'first-aid']);
	const repo = r.stdout.trim();

	assert.ok(path.isAbsolute(repo), `not absolute: ${repo}`);
	assert.equal(fs.realpathSync(repo),
		     fs.realpathSync(path.join(m.data, 'courses',
					       'first-aid.git')));
	const bare = await runOk('git', ['--git-dir', repo, 'rev-parse',
					 '--is-bare-repository']);
	assert.equal(bare.stdout.trim(), 'true');
});

lmsTest('course create refuses an id that is not an id', async () => {
	const m = await setupMother({ serve: false });

	for (const id of ['Bad_Id', '../escape', '', 'a'.repeat(65)]) {
		const r = await run(MOTHER_BIN,
				    ['course', 'create', m.data, id]);
		assert.notEqual(r.code, 0, describeResult(r));
	}
	assert.deepEqual(fs.readdirSync(path.join(m.data, 'courses')), []);
});

lmsTest('publish prints the revision that course list shows', async () => {
	const m = await setupMother({ serve: false });
	const revisions = {};

	for (const id of SAMPLE_COURSES) {
		const dir = copySampleCourse(id);
		const r = await runOk(MOTHER_BIN,
				      ['course', 'publish', m.data, dir,
				       '-m', `Publish ${id}`]);
		const rev = r.stdout.trim();

		assert.match(rev, HEX40, describeResult(r));
		revisions[id] = { rev, title: courseTitle(dir) };
	}

	const list = await m.courseList();
	assert.equal(list.length, SAMPLE_COURSES.length);
	for (const c of list) {
		assert.ok(revisions[c.id], `unexpected course ${c.id}`);
		assert.equal(c.revision, revisions[c.id].rev);
		assert.equal(c.title, revisions[c.id].title);
	}

	/* the revision is the head of main in the course's repository */
	const repo = path.join(m.data, 'courses', 'hygiene-basics.git');
	const head = await runOk('git', ['--git-dir', repo, 'rev-parse',
					 'refs/heads/main']);
	assert.equal(head.stdout.trim(), revisions['hygiene-basics'].rev);
	const msg = await runOk('git', ['--git-dir', repo, 'log', '-1',
					'--format=%s', 'main']);
	assert.equal(msg.stdout.trim(), 'Publish hygiene-basics');
});

lmsTest('a second publish descends from the first', async () => {
	const m = await setupMother({ serve: false });
	const dir = writeCourse({ id: 'fire-safety' });
	const first = await m.publish(dir);

	fs.appendFileSync(path.join(dir, 'lessons/lesson-1.md'), 'More.\n');
	const second = await m.publish(dir);
	assert.match(second, HEX40);
	assert.notEqual(second, first);
	assert.equal(await m.revision('fire-safety'), second);

	const repo = path.join(m.data, 'courses', 'fire-safety.git');
	const parent = await runOk('git', ['--git-dir', repo, 'rev-parse',
					   `${second}^`]);
	assert.equal(parent.stdout.trim(), first);
});

lmsTest('course list --json has exactly id, title, revision', async () => {
	const m = await setupMother({ serve: false });

	assert.deepEqual(await m.courseList(), []);
	await m.publish(writeCourse({ id: 'fire-safety',
				      title: 'Fire safety' }));
	const list = await m.courseList();

	assert.equal(list.length, 1);
	assert.deepEqual(Object.keys(list[0]).sort(),
			 ['id', 'revision', 'title']);
	assert.equal(list[0].id, 'fire-safety');
	assert.equal(list[0].title, 'Fire safety');
	assert.match(list[0].revision, HEX40);
});

lmsTest('tenant add --json has exactly id, token, mother_key', async () => {
	const m = await setupMother({ serve: false });
	const r = await runOk(MOTHER_BIN,
			      ['tenant', 'add', m.data, 'sonnenhof',
			       '--name', 'Pflegeheim Sonnenhof', '--json']);
	const t = JSON.parse(r.stdout);

	assert.deepEqual(Object.keys(t).sort(), ['id', 'mother_key', 'token']);
	assert.equal(t.id, 'sonnenhof');
	assert.equal(typeof t.token, 'string');
	assert.ok(t.token.length >= 16, `short token ${t.token}`);
	assert.equal(t.mother_key, m.fingerprint);

	/* two tenants never share a token, and an id is taken once */
	const other = await m.addTenant('am-park');
	assert.notEqual(other.token, t.token);
	const dup = await run(MOTHER_BIN, ['tenant', 'add', m.data,
					   'sonnenhof', '--name', 'Again']);
	assert.notEqual(dup.code, 0, describeResult(dup));
});

lmsTest('tenant list --json: shape, domains and licensed courses',
	async () => {
	const m = await setupMother({ serve: false });

	await m.publishSample('hygiene-basics');
	await m.publishSample('data-protection-basics');
	await m.publishSample('ai-literacy');
	await m.addTenant('sonnenhof', {
		name: 'Pflegeheim Sonnenhof', courses: 'all',
		domains: ['academy.sonnenhof.example', 'sonnenhof.example'],
	});
	await m.addTenant('am-park', {
		name: 'Pflegedienst Am Park',
		courses: ['hygiene-basics', 'data-protection-basics'],
	});

	const list = await m.tenantList();
	assert.equal(list.length, 2);
	for (const t of list) {
		/* the contract's keys; more may be added around them */
		for (const key of ['connected', 'courses', 'domains', 'id',
				   'name'])
			assert.ok(key in t, `tenant list lacks "${key}"`);
		assert.equal(t.connected, false);
		assert.ok(Array.isArray(t.domains));
		assert.equal(typeof t.courses, 'object');
		assert.ok(!Array.isArray(t.courses) && t.courses !== null);
		for (const v of Object.values(t.courses))
			assert.equal(v, null, 'nothing was acknowledged yet');
	}
	const s = list.find((t) => t.id === 'sonnenhof');
	const p = list.find((t) => t.id === 'am-park');
	assert.equal(s.name, 'Pflegeheim Sonnenhof');
	assert.deepEqual([...s.domains].sort(),
			 ['academy.sonnenhof.example', 'sonnenhof.example']);
	assert.deepEqual(Object.keys(s.courses).sort(),
			 [...SAMPLE_COURSES].sort());
	assert.equal(p.name, 'Pflegedienst Am Park');
	assert.deepEqual(p.domains, []);
	assert.deepEqual(Object.keys(p.courses).sort(),
			 ['data-protection-basics', 'hygiene-basics']);

	/* tenant license adds a course */
	await m.license('am-park', ['ai-literacy']);
	const after = await m.tenant('am-park');
	assert.deepEqual(Object.keys(after.courses).sort(),
			 [...SAMPLE_COURSES].sort());
});

lmsTest('tenant license refuses an unknown tenant or course', async () => {
	const m = await setupMother({ serve: false });

	await m.publishSample('hygiene-basics');
	await m.addTenant('am-park', { courses: ['hygiene-basics'] });
	const noTenant = await run(MOTHER_BIN, ['tenant', 'license', m.data,
						'nobody', '--courses', 'all']);
	assert.notEqual(noTenant.code, 0, describeResult(noTenant));
	const noCourse = await run(MOTHER_BIN, ['tenant', 'license', m.data,
						'am-park', '--courses',
						'no-such-course']);
	assert.notEqual(noCourse.code, 0, describeResult(noCourse));
	assert.deepEqual(Object.keys((await m.tenant('am-park')).courses),
			 ['hygiene-basics']);
});

for (const row of INVALID_COURSES) {
	lmsTest(`course publish refuses: ${row.name}`, async () => {
		const m = await setupMother({ serve: false });
		const dir = copySampleCourse('hygiene-basics');
		const rev = await m.publish(dir);
		const repo = path.join(m.data, 'courses',
				       'hygiene-basics.git');
		const before = await git(['--git-dir', repo, 'rev-list',
					  '--all', '--count']);

		row.mutate(dir);
		const r = await run(MOTHER_BIN, ['course', 'publish', m.data,
						 dir]);

		assert.equal(r.code, 1, describeResult(r));
		assert.equal(r.stdout.trim(), '', describeResult(r));
		assert.ok(findCourseError(r.stderr, row),
			  `stderr lacks "lms-mother: ${row.files[0]}: ` +
			  `<${row.reason}>"\n${describeResult(r)}`);
		assert.equal(await m.revision('hygiene-basics'), rev);
		const after = await git(['--git-dir', repo, 'rev-list',
					 '--all', '--count']);
		assert.equal(after.stdout, before.stdout,
			     'the refused publish left commits behind');
	});
}

lmsTest('course publish of a new invalid course creates nothing',
	async () => {
	const m = await setupMother({ serve: false });
	const dir = writeCourse({ id: 'fire-safety' });

	INVALID_COURSES.find((x) => x.name === 'duplicate lesson id')
		.mutate(dir);
	const r = await run(MOTHER_BIN, ['course', 'publish', m.data, dir]);

	assert.equal(r.code, 1, describeResult(r));
	assert.deepEqual(await m.courseList(), []);
});

lmsTest('publishing an unchanged course makes no new revision', async () => {
	const m = await setupMother({ serve: false });
	const dir = copySampleCourse('hygiene-basics');
	const first = await m.publish(dir);
	const again = await runOk(MOTHER_BIN, ['course', 'publish', m.data,
					       dir]);

	assert.equal(again.stdout.trim(), first);
	assert.match(again.stderr, /unchanged/);
	assert.equal(await m.revision('hygiene-basics'), first);
});
