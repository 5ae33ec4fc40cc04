/*
 * Publishing by git, as an author does it: clone the path that course
 * create prints, commit, `git push origin HEAD:main`. The mother's hook
 * accepts a valid course and refuses, with the file and the reason, an
 * invalid one, a rewrite of history and a deletion of main; a refused
 * push leaves the published revision as it was.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
	lmsTest, git, runOk, describeResult, setupMother, copySampleCourse,
	cloneRepo, gitCommitAll, replaceTree, INVALID_COURSES,
	findCourseError, HEX40,
} from './lib/harness.mjs';

const COURSE = 'hygiene-basics';

/* A mother (not serving) and a clone of COURSE holding one pushed,
 * valid revision. */
async function pushedCourse() {
	const m = await setupMother({ serve: false });
	const url = await m.create(COURSE);
	const clone = await cloneRepo(url);

	replaceTree(copySampleCourse(COURSE), clone);
	const rev = await gitCommitAll(clone, 'First revision');
	const r = await git(['push', 'origin', 'HEAD:main'], { cwd: clone });
	assert.equal(r.code, 0, describeResult(r));
	return { m, url, clone, rev };
}

/* main of the bare repository, as the remote announces it */
async function remoteMain(clone) {
	const r = await runOk('git', ['ls-remote', 'origin', 'refs/heads/main'],
			      { cwd: clone });
	return r.stdout.split(/\s/)[0] || null;
}

lmsTest('a pushed course is published', async () => {
	const { m, clone, rev } = await pushedCourse();

	assert.match(rev, HEX40);
	assert.equal(await m.revision(COURSE), rev);
	assert.equal(await remoteMain(clone), rev);

	/* and a second push moves the revision on */
	fs.appendFileSync(path.join(clone, 'course.json'), '\n');
	const next = await gitCommitAll(clone, 'Second revision');
	const r = await git(['push', 'origin', 'HEAD:main'], { cwd: clone });
	assert.equal(r.code, 0, describeResult(r));
	assert.equal(await m.revision(COURSE), next);
});

lmsTest('course publish and git push share one history', async () => {
	const { m, clone, rev } = await pushedCourse();
	const dir = copySampleCourse(COURSE);

	fs.appendFileSync(path.join(dir, 'course.json'), '\n');
	const published = await m.publish(dir, 'By command');
	assert.notEqual(published, rev);

	/* the clone is behind now: its push is refused until it pulls */
	fs.writeFileSync(path.join(clone, 'NOTES.txt'), 'notes\n');
	await gitCommitAll(clone, 'Stale');
	const stale = await git(['push', 'origin', 'HEAD:main'],
				{ cwd: clone });
	assert.notEqual(stale.code, 0, describeResult(stale));
	assert.equal(await m.revision(COURSE), published);

	await runOk('git', ['pull', '-q', '--rebase', 'origin', 'main'],
		    { cwd: clone });
	const ok = await git(['push', 'origin', 'HEAD:main'], { cwd: clone });
	assert.equal(ok.code, 0, describeResult(ok));
	const head = await runOk('git', ['rev-parse', 'HEAD'], { cwd: clone });
	assert.equal(await m.revision(COURSE), head.stdout.trim());
});

for (const row of INVALID_COURSES) {
	lmsTest(`git push refuses: ${row.name}`, async () => {
		const { m, clone, rev } = await pushedCourse();

		row.mutate(clone);
		await gitCommitAll(clone, `Invalid: ${row.name}`);
		const r = await git(['push', 'origin', 'HEAD:main'],
				    { cwd: clone });

		assert.notEqual(r.code, 0, describeResult(r));
		assert.ok(findCourseError(r.stderr, row,
					  'remote: lms-mother: '),
			  `stderr lacks "remote: lms-mother: ` +
			  `${row.files[0]}: <${row.reason}>"\n` +
			  describeResult(r));
		assert.equal(await m.revision(COURSE), rev);
		assert.equal(await remoteMain(clone), rev);
	});
}

lmsTest('git push refuses a first revision that is invalid', async () => {
	const m = await setupMother({ serve: false });
	const url = await m.create(COURSE);
	const clone = await cloneRepo(url);
	const row = INVALID_COURSES.find((x) => x.name ===
					 'quiz without answers');

	replaceTree(copySampleCourse(COURSE), clone);
	row.mutate(clone);
	await gitCommitAll(clone, 'Invalid from the start');
	const r = await git(['push', 'origin', 'HEAD:main'], { cwd: clone });

	assert.notEqual(r.code, 0, describeResult(r));
	assert.ok(findCourseError(r.stderr, row, 'remote: lms-mother: '),
		  describeResult(r));
	assert.equal(await remoteMain(clone), null);
	const listed = (await m.courseList()).find((c) => c.id === COURSE);
	assert.ok(!listed || listed.revision === null,
		  `refused push published ${JSON.stringify(listed)}`);
});

lmsTest('git push refuses a course.json whose id is another', async () => {
	const { m, clone, rev } = await pushedCourse();
	const file = path.join(clone, 'course.json');
	const course = JSON.parse(fs.readFileSync(file, 'utf8'));

	course.id = 'another-course';
	fs.writeFileSync(file, JSON.stringify(course, null, 2));
	await gitCommitAll(clone, 'Wrong id');
	const r = await git(['push', 'origin', 'HEAD:main'], { cwd: clone });

	assert.notEqual(r.code, 0, describeResult(r));
	assert.match(r.stderr, /remote: lms-mother: course\.json: /,
		     describeResult(r));
	assert.equal(await m.revision(COURSE), rev);
});

lmsTest('a force push that rewrites history is refused', async () => {
	const { m, clone, rev: first } = await pushedCourse();

	fs.appendFileSync(path.join(clone, 'course.json'), '\n');
	const second = await gitCommitAll(clone, 'Second');
	const ok = await git(['push', 'origin', 'HEAD:main'], { cwd: clone });
	assert.equal(ok.code, 0, describeResult(ok));
	assert.equal(await m.revision(COURSE), second);

	/* a valid tree, but not a descendant of what is published */
	await runOk('git', ['reset', '-q', '--hard', first], { cwd: clone });
	fs.writeFileSync(path.join(clone, 'NOTES.txt'), 'rewritten\n');
	await gitCommitAll(clone, 'Rewritten');
	const r = await git(['push', '--force', 'origin', 'HEAD:main'],
			    { cwd: clone });

	assert.notEqual(r.code, 0, describeResult(r));
	assert.equal(await m.revision(COURSE), second);
	assert.equal(await remoteMain(clone), second);
});

lmsTest('a deletion of main is refused', async () => {
	const { m, clone, rev } = await pushedCourse();
	const r = await git(['push', 'origin', ':main'], { cwd: clone });

	assert.notEqual(r.code, 0, describeResult(r));
	assert.equal(await m.revision(COURSE), rev);
	assert.equal(await remoteMain(clone), rev);
	const d = await git(['push', 'origin', '--delete', 'main'],
			    { cwd: clone });
	assert.notEqual(d.code, 0, describeResult(d));
	assert.equal(await remoteMain(clone), rev);
});
