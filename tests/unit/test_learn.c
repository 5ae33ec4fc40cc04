/*
 * Unit tests of workspace/learn.c and the versions of workspace/apply.c:
 * a lesson is read only by a user the course is assigned to, a text
 * lesson as HTML and a quiz without its answers; completing a text
 * lesson is idempotent and a quiz cannot be completed directly; a quiz
 * is graded by sets (order does not matter, a missing, extra or repeated
 * choice makes the question wrong), every attempt is recorded with the
 * revision, and a passed one completes the quiz.
 *
 * Across revisions: a changed lesson keeps its progress and is marked
 * "changed", unless the revision's message has the trailer "Retrain:
 * yes" (in the last paragraph, key in any case) or course.json says
 * "retrain_on": "any"; then only the changed lessons must be done again.
 * "changes" lists the versions after the first, newest first. Versions
 * missing after a crash are recorded at the next read, and completions
 * from before versions existed count while their file is unchanged. The
 * course cache (workspace/coursecache.c) parses a course once per
 * revision and keeps at most 32; a learner's list text is kept until
 * something it is made of changes.
 *
 * The sources are compiled in directly, as the unit build links only the
 * shared libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/apply.c"
#include "../../workspace/assign.c"
#include "../../workspace/auth.c"
#include "../../workspace/mail.c"
#include "../../workspace/settings.c"
#include "../../workspace/mailtpl.c"
#include "../../workspace/template.c"
#include "../../workspace/batch.c"
#include "../../workspace/brand.c"
#include "../../workspace/cert.c"
#include "../../workspace/certpdf.c"
#include "../../workspace/certtpl.c"
#include "../../workspace/image.c"
#include "../../workspace/coursecache.c"
#include "../../workspace/groups.c"
#include "../../workspace/learn.c"
#include "../../workspace/people.c"
#include "../../workspace/scope.c"
#include "../../workspace/store.c"
#include "../../workspace/web.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000
#define COURSE "hygiene-basics"
#define OLD_REV "0123456789012345678901234567890123456789"

struct fixture {
	char dir[64];
	char *path;
	char *work; /* a copy of the sample course, changed by tests */
	sqlite3 *db;
	git_repository *repo;
	struct coursecache *cache;
	int64_t ann, bob;
	char rev[41]; /* the held revision */
};

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static int64_t user(sqlite3 *db, const char *email)
{
	struct people_new_user u = { .email = email, .name = "Ann Example",
				     .role = PEOPLE_ROLE_LEARNER,
				     .created_at = NOW };
	int64_t id = 0;

	assert_int_equal(people_user_add(db, &u, &id), 0);
	return id;
}

/* Commits dir on the course's own branch and makes it the held
 * revision of course id, without recording versions. */
static void hold(struct fixture *f, const char *id, const char *dir,
		 const char *message)
{
	char sql[320], ref[96];

	snprintf(ref, sizeof(ref), "refs/heads/%s", id);
	assert_true(gitstore_commit_dir(f->repo, ref, dir, message,
					"LMS Test", f->rev) == 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO courses (id, origin, revision, title, "
		 "published_at, updated_at) VALUES ('%s', 'mother', '%s', "
		 "'Hygiene', 1, 1) ON CONFLICT (id) DO UPDATE SET "
		 "revision = excluded.revision", id, f->rev);
	exec(f->db, sql);
}

/* A new revision of the course from f->work, recorded as applying an
 * event does. */
static void publish(struct fixture *f, const char *message)
{
	hold(f, COURSE, f->work, message);
	assert_int_equal(apply_record_versions(f->db, f->repo, COURSE), 0);
}

static void append(struct fixture *f, const char *file, const char *text)
{
	char *path = fs_join(f->work, file);
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	fclose(fp);
	free(path);
}

static void shell(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *end = strstr(__FILE__, "/tests/unit/");
	char *repo_path;
	cJSON *in;
	const char *why;
	int64_t id;

	assert_non_null(f);
	assert_non_null(end);
	strcpy(f->dir, "/tmp/test_learn.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = fs_join(f->dir, STORE_FILE);
	f->work = fs_join(f->dir, "course");
	shell("cp -r '%.*s/deploy/courses/" COURSE "' '%s'",
	      (int)(end - __FILE__), __FILE__, f->work);
	assert_int_equal(store_open(f->path, &f->db), 0);
	gitstore_global_init();
	repo_path = fs_join(f->dir, "content.git");
	assert_int_equal(gitstore_open(repo_path, 1, &f->repo), 0);
	free(repo_path);
	assert_int_equal(coursecache_new(f->dir, &f->cache), 0);
	publish(f, "First\n");
	f->ann = user(f->db, "ann@example.org");
	f->bob = user(f->db, "bob@example.org");
	in = cJSON_Parse("{\"course\": \"" COURSE "\", \"user\": 1, "
			 "\"due\": \"2027-03-01\"}");
	assert_int_equal(assign_add_json(f->db, in, NOW, &id, &why), 0);
	cJSON_Delete(in);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	coursecache_free(f->cache);
	git_repository_free(f->repo);
	sqlite3_close_v2(f->db);
	fs_remove_tree(f->dir);
	free(f->path);
	free(f->work);
	free(f);
	return 0;
}

static int has_key(const cJSON *v, const char *key)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, v)
		if ((e->string && !strcmp(e->string, key)) || has_key(e, key))
			return 1;
	return 0;
}

static int json_true(const cJSON *o, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItem(o, name));
}

/* The percent of f->ann's progress, with each lesson's state as a
 * string of 0 and 1 in done and of its "changed" in changed (6 bytes
 * each, changed may be NULL). The list, the course and the course read
 * without the cache (learn_progress) must agree. */
static int progress(struct fixture *f, char *done, char *changed)
{
	cJSON *c, *l, *p, *list, *legacy, *e;
	int pc, i = 0;

	assert_int_equal(learn_course_json(f->cache, f->db, f->ann, COURSE,
					   &c), 0);
	cJSON_ArrayForEach(l, cJSON_GetObjectItem(c, "lessons")) {
		done[i] = json_true(l, "completed") ? '1' : '0';
		if (changed)
			changed[i] = json_true(l, "changed") ? '1' : '0';
		assert_false(json_true(l, "changed") &&
			     !json_true(l, "completed"));
		i++;
	}
	done[i] = '\0';
	if (changed)
		changed[i] = '\0';
	p = cJSON_GetObjectItem(c, "progress");
	pc = cJSON_GetObjectItem(p, "percent")->valueint;
	assert_int_equal(json_true(p, "completed"), pc == 100);

	assert_int_equal(learn_courses_json(f->cache, f->db, f->ann, &list),
			 0);
	cJSON_ArrayForEach(e, list)
		if (!strcmp(cJSON_GetObjectItem(e, "id")->valuestring, COURSE))
			break;
	assert_non_null(e);
	assert_true(cJSON_Compare(cJSON_GetObjectItem(e, "progress"), p, 1));
	cJSON_Delete(list);

	assert_int_equal(assign_course_json(f->db, f->repo, f->ann, COURSE,
					    &legacy), 0);
	assert_int_equal(learn_progress(f->db, f->repo, f->ann, legacy), 0);
	assert_true(cJSON_Compare(cJSON_GetObjectItem(legacy, "lessons"),
				  cJSON_GetObjectItem(c, "lessons"), 1));
	assert_true(cJSON_Compare(cJSON_GetObjectItem(legacy, "changes"),
				  cJSON_GetObjectItem(c, "changes"), 1));
	cJSON_Delete(legacy);
	cJSON_Delete(c);
	return pc;
}

/* The course's "changes" for f->ann; the caller deletes it. */
static cJSON *changes(struct fixture *f)
{
	cJSON *c, *ch;

	assert_int_equal(learn_course_json(f->cache, f->db, f->ann, COURSE,
					   &c), 0);
	ch = cJSON_DetachItemFromObject(c, "changes");
	assert_true(cJSON_IsArray(ch));
	cJSON_Delete(c);
	return ch;
}

static void complete(struct fixture *f, const char *lesson)
{
	assert_int_equal(learn_complete(f->cache, f->db, f->ann, COURSE,
					lesson, NOW), 0);
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	cJSON *o, *q;
	const char *html;

	assert_int_equal(learn_lesson_json(f->cache, f->db, f->ann, COURSE,
					   "haende", &o), 0);
	assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring,
			    "text");
	html = cJSON_GetObjectItem(o, "html")->valuestring;
	assert_non_null(strstr(html, "<h"));
	assert_null(strstr(html, "<script"));
	cJSON_Delete(o);

	assert_int_equal(learn_lesson_json(f->cache, f->db, f->ann, COURSE,
					   "wissenstest", &o), 0);
	assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring,
			    "quiz");
	assert_int_equal(cJSON_GetObjectItem(o, "pass_percent")->valueint,
			 80);
	q = cJSON_GetObjectItem(o, "questions");
	assert_int_equal(cJSON_GetArraySize(q), 5);
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(q->child, "choices")),
		4);
	assert_false(has_key(o, "answer"));
	cJSON_Delete(o);

	/* not assigned, unknown lesson, unknown course */
	assert_int_equal(learn_lesson_json(f->cache, f->db, f->bob, COURSE,
					   "haende", &o), STORE_ENOTFOUND);
	assert_null(o);
	assert_int_equal(learn_lesson_json(f->cache, f->db, f->ann, COURSE,
					   "nope", &o), STORE_ENOTFOUND);
	assert_int_equal(learn_lesson_json(f->cache, f->db, f->ann, "nope",
					   "haende", &o), STORE_ENOTFOUND);
	assert_int_equal(learn_course_json(f->cache, f->db, f->bob, COURSE,
					   &o), STORE_ENOTFOUND);
}

/* learn_attempt on JSON text: the score, or -1 when refused. */
static int attempt(struct fixture *f, const char *lesson, const char *json,
		   int *passed)
{
	cJSON *in = cJSON_Parse(json), *out = NULL;
	const char *why = NULL;
	int rc, score = -1;

	assert_non_null(in);
	rc = learn_attempt(f->cache, f->db, f->ann, COURSE, lesson, in, NOW,
			   &out, &why);
	cJSON_Delete(in);
	if (rc) {
		assert_int_equal(rc, STORE_EINVAL);
		assert_non_null(why);
		assert_null(out);
		return -1;
	}
	score = cJSON_GetObjectItem(out, "score")->valueint;
	*passed = cJSON_IsTrue(cJSON_GetObjectItem(out, "passed"));
	cJSON_Delete(out);
	return score;
}

#define RIGHT_REST                                                     \
	"\"handschuhe\": [1], \"flaechen\": [0], \"kanuelen\": [1]"
#define RIGHT                                                          \
	"{\"answers\": {\"einwirkzeit\": [1], \"fuenf-momente\": [0, 1, 2], " \
	RIGHT_REST "}}"

static void test_complete_and_attempt(void **state)
{
	struct fixture *f = *state;
	char done[8];
	sqlite3_stmt *st;
	int passed = -1;

	assert_int_equal(progress(f, done, NULL), 0);
	complete(f, "haende");
	assert_int_equal(learn_complete(f->cache, f->db, f->ann, COURSE,
					"haende", NOW + 1), 0);
	assert_int_equal(progress(f, done, NULL), 20);
	assert_string_equal(done, "10000");
	assert_int_equal(learn_complete(f->cache, f->db, f->ann, COURSE,
					"wissenstest", NOW), STORE_EINVAL);
	assert_int_equal(learn_complete(f->cache, f->db, f->bob, COURSE,
					"haende", NOW), STORE_ENOTFOUND);

	/* bad bodies and a text lesson are refused */
	assert_int_equal(attempt(f, "wissenstest", "{}", &passed), -1);
	assert_int_equal(attempt(f, "wissenstest", "{\"answers\": [1]}",
				 &passed), -1);
	assert_int_equal(attempt(f, "haende", "{\"answers\": {}}", &passed),
			 -1);

	/* set grading: superset, subset, repeats are wrong */
	assert_int_equal(attempt(f, "wissenstest", "{\"answers\": {"
				 "\"einwirkzeit\": [1, 2], "
				 "\"fuenf-momente\": [0, 1], " RIGHT_REST "}}",
				 &passed), 60);
	assert_false(passed);
	assert_int_equal(attempt(f, "wissenstest", "{\"answers\": {"
				 "\"einwirkzeit\": [1], "
				 "\"fuenf-momente\": [0, 1, 1], "
				 RIGHT_REST "}}", &passed), 80);
	assert_true(passed);
	assert_int_equal(progress(f, done, NULL), 40);
	assert_string_equal(done, "10001");
	assert_int_equal(attempt(f, "wissenstest", "{\"answers\": {"
				 "\"einwirkzeit\": [1], "
				 "\"fuenf-momente\": [2, 0, 1], "
				 RIGHT_REST "}}", &passed), 100);

	/* every attempt is recorded with the revision */
	assert_int_equal(sqlite3_prepare_v2(f->db,
			 "SELECT count(*), sum(passed), count(DISTINCT "
			 "revision), min(revision) FROM quiz_attempts", -1,
			 &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	assert_int_equal(sqlite3_column_int(st, 1), 2);
	assert_int_equal(sqlite3_column_int(st, 2), 1);
	assert_string_equal((const char *)sqlite3_column_text(st, 3),
			    f->rev);
	sqlite3_finalize(st);
}

static void test_changed_lesson_keeps_progress(void **state)
{
	struct fixture *f = *state;
	char done[8], changed[8];
	cJSON *ch, *e;

	complete(f, "haende");
	complete(f, "flaechen");
	assert_int_equal(progress(f, done, changed), 40);
	assert_string_equal(changed, "00000");
	ch = changes(f);
	assert_int_equal(cJSON_GetArraySize(ch), 0);
	cJSON_Delete(ch);

	/* a revision that changes haende only, without retraining */
	append(f, "lessons/haende.md", "\n\nEin neuer Absatz.\n");
	publish(f, "Clearer hand hygiene\n\nThe steps in order.\n"
		   "Retrain: no\n");
	assert_int_equal(progress(f, done, changed), 40);
	assert_string_equal(done, "10100");
	assert_string_equal(changed, "10000");

	ch = changes(f);
	assert_int_equal(cJSON_GetArraySize(ch), 1);
	e = ch->child;
	assert_string_equal(cJSON_GetObjectItem(e, "revision")->valuestring,
			    f->rev);
	assert_string_equal(cJSON_GetObjectItem(e, "message")->valuestring,
			    "Clearer hand hygiene");
	assert_int_equal(strlen(cJSON_GetObjectItem(e, "date")->valuestring),
			 20);
	assert_false(json_true(e, "retrain"));
	e = cJSON_GetObjectItem(e, "lessons");
	assert_int_equal(cJSON_GetArraySize(e), 1);
	assert_string_equal(e->child->valuestring, "haende");
	cJSON_Delete(ch);

	/* done again on the new file: no longer changed */
	complete(f, "haende");
	assert_int_equal(progress(f, done, changed), 40);
	assert_string_equal(changed, "00000");
}

static void test_retrain_trailer(void **state)
{
	struct fixture *f = *state;
	char done[8], changed[8];
	cJSON *ch, *lessons;
	int passed = 0;

	complete(f, "haende");
	complete(f, "flaechen");
	assert_int_equal(attempt(f, "wissenstest", RIGHT, &passed), 100);
	assert_int_equal(progress(f, done, NULL), 60);

	/* an ordinary change first, then a retraining one of flaechen */
	append(f, "lessons/haende.md", "\n\nNoch ein Absatz.\n");
	publish(f, "Small fix\n");
	append(f, "lessons/flaechen.md", "\n\nNeues Mittel.\n");
	publish(f, "New disinfectant\n\nSigned-off-by: A <a@example.org>\n"
		   "RETRAIN: Yes\n");
	assert_int_equal(progress(f, done, changed), 40);
	assert_string_equal(done, "10001");
	assert_string_equal(changed, "10000");

	ch = changes(f);
	assert_int_equal(cJSON_GetArraySize(ch), 2);
	assert_true(json_true(ch->child, "retrain"));
	lessons = cJSON_GetObjectItem(ch->child, "lessons");
	assert_int_equal(cJSON_GetArraySize(lessons), 1);
	assert_string_equal(lessons->child->valuestring, "flaechen");
	assert_false(json_true(ch->child->next, "retrain"));
	cJSON_Delete(ch);

	/* a later revision without retraining does not bring it back */
	append(f, "lessons/schutzausruestung.md", "\n\nMasken.\n");
	publish(f, "Masks\n");
	assert_int_equal(progress(f, done, NULL), 40);
	assert_string_equal(done, "10001");

	/* done again, it counts */
	complete(f, "flaechen");
	assert_int_equal(progress(f, done, changed), 60);
	assert_string_equal(done, "10101");
	assert_string_equal(changed, "10000");
}

static void test_retrain_on_any(void **state)
{
	struct fixture *f = *state;
	char done[8];

	complete(f, "haende");
	complete(f, "flaechen");
	shell("sed -i 's/\"format\": 1,/\"format\": 1, \"retrain_on\": "
	      "\"any\",/' '%s/course.json'", f->work);
	append(f, "lessons/haende.md", "\n\nNeu.\n");
	publish(f, "Any change retrains\n");
	assert_int_equal(progress(f, done, NULL), 20);
	assert_string_equal(done, "00100");
}

static void test_quiz_unchanged_stays_passed(void **state)
{
	struct fixture *f = *state;
	char done[8];
	int passed = 0;

	assert_int_equal(attempt(f, "wissenstest", RIGHT, &passed), 100);
	append(f, "lessons/haende.md", "\n\nNeu.\n");
	publish(f, "Hands\n\nRetrain: yes\n");
	assert_int_equal(progress(f, done, NULL), 20);
	assert_string_equal(done, "00001");
}

static void test_trailers(void **state)
{
	(void)state;
	assert_true(apply_message_retrain("S\n\nRetrain: yes\n"));
	assert_true(apply_message_retrain("S\n\nbody\n\nretrain: YES"));
	assert_true(apply_message_retrain("S\n\nSee: x\nRetrain: yes\n"));
	assert_false(apply_message_retrain("Retrain: yes\n"));
	assert_false(apply_message_retrain("S\n\nRetrain: no\n"));
	assert_false(apply_message_retrain("S\n\nRetrain: yes\n\nMore.\n"));
	assert_false(apply_message_retrain("S\n\nRetraining: yes\n"));
}

static void test_versions_missing_are_recorded_at_read(void **state)
{
	struct fixture *f = *state;
	char done[8], changed[8];
	cJSON *ch;

	complete(f, "haende");
	append(f, "lessons/haende.md", "\n\nNeu.\n");
	hold(f, COURSE, f->work, "Crash before versions\n\nRetrain: yes\n");
	assert_int_equal(progress(f, done, changed), 0);
	ch = changes(f);
	assert_int_equal(cJSON_GetArraySize(ch), 1);
	assert_true(json_true(ch->child, "retrain"));
	cJSON_Delete(ch);
}

static void test_completions_from_before_versions(void **state)
{
	struct fixture *f = *state;
	char sql[512], done[8], changed[8];

	/* rows written before versions existed: made on a revision the
	 * workspace no longer knows; haende on the current file, flaechen
	 * on another */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO lesson_completions VALUES "
		 "(%lld, '" COURSE "', 'haende', (SELECT blob_id FROM "
		 "lesson_versions WHERE lesson_id = 'haende'), '" OLD_REV
		 "', 1), (%lld, '" COURSE "', 'flaechen', "
		 "'1111111111111111111111111111111111111111', '" OLD_REV
		 "', 1)", (long long)f->ann, (long long)f->ann);
	exec(f->db, sql);
	assert_int_equal(progress(f, done, changed), 20);
	assert_string_equal(done, "10000");

	/* a change without retraining keeps it, with retraining not */
	append(f, "lessons/haende.md", "\n\nNeu.\n");
	publish(f, "Hands\n");
	assert_int_equal(progress(f, done, changed), 20);
	assert_string_equal(changed, "10000");
	append(f, "lessons/haende.md", "\n\nNeuer.\n");
	publish(f, "Hands again\n\nRetrain: yes\n");
	assert_int_equal(progress(f, done, NULL), 0);
}

static void test_local_history_and_catalog_summary(void **state)
{
	struct fixture *f = *state;
	sqlite3_stmt *st;
	char first[41];

	/* a local course published twice while versions were not
	 * recorded: both publishes are found in its history */
	append(f, "lessons/flaechen.md", "\n\nNeu.\n");
	hold(f, COURSE, f->work, "First local\n");
	memcpy(first, f->rev, sizeof(first));
	exec(f->db, "DELETE FROM course_versions; DELETE FROM "
		    "lesson_versions; UPDATE courses SET origin = 'local'");
	append(f, "lessons/haende.md", "\n\nNeu.\n");
	hold(f, COURSE, f->work, "Second local\n");
	exec(f->db, "UPDATE courses SET origin = 'local'");
	assert_int_equal(apply_record_versions(f->db, f->repo, COURSE), 0);
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT revision, "
					    "summary FROM course_versions "
					    "ORDER BY seq", -1, &st, NULL),
			 SQLITE_OK);
	/* the first commit of setup, then the two publishes */
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), first);
	assert_non_null(strstr((const char *)sqlite3_column_text(st, 1),
			       "Hygieneunterweisung"));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), f->rev);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Makes n more courses with ids c0, c1, ... assigned to ann. */
static void more_courses(struct fixture *f, int n)
{
	char id[16], *dir;

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		dir = fs_join(f->dir, id);
		shell("cp -r '%s' '%s' && sed -i 's/\"id\": \"" COURSE
		      "\"/\"id\": \"%s\"/' '%s/course.json'", f->work, dir,
		      id, dir);
		hold(f, id, dir, "Course\n");
		free(dir);
	}
	exec(f->db, "INSERT INTO assignments (course_id, user_id, due, "
		    "created_at) SELECT id, 1, '2027-01-01', 1 FROM courses");
}

static void test_cache(void **state)
{
	struct fixture *f = *state;
	struct coursecache_course *a, *b;
	char done[8];
	const char *id;
	cJSON *list, *c, *p;

	assert_int_equal(coursecache_get(f->cache, f->db, COURSE, f->rev, &a),
			 0);
	assert_int_equal(coursecache_get(f->cache, f->db, COURSE, f->rev, &b),
			 0);
	assert_ptr_equal(a, b);
	assert_int_equal(coursecache_count(f->cache), 1);

	/* a new revision replaces the course's entry */
	append(f, "lessons/haende.md", "\n\nNeu.\n");
	publish(f, "Hands\n");
	assert_int_equal(progress(f, done, NULL), 0);
	assert_int_equal(coursecache_count(f->cache), 1);
	assert_int_equal(coursecache_get(f->cache, f->db, COURSE, f->rev, &a),
			 0);
	assert_string_equal(a->revision, f->rev);

	/* at most 32 courses, the least recently used go */
	more_courses(f, 40);
	assert_int_equal(learn_complete(f->cache, f->db, f->ann, "c0",
					"haende", NOW), 0);
	assert_int_equal(learn_complete(f->cache, f->db, f->ann, "c39",
					"flaechen", NOW), 0);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(learn_courses_json(f->cache, f->db, f->ann,
						    &list), 0);
		assert_int_equal(cJSON_GetArraySize(list), 41);
		cJSON_ArrayForEach(c, list) {
			id = cJSON_GetObjectItem(c, "id")->valuestring;
			p = cJSON_GetObjectItem(c, "progress");
			assert_int_equal(
				cJSON_GetObjectItem(p, "percent")->valueint,
				!strcmp(id, "c0") || !strcmp(id, "c39") ? 20 :
									  0);
		}
		cJSON_Delete(list);
	}
	assert_int_equal(coursecache_count(f->cache), 32);
	assert_int_equal(progress(f, done, NULL), 0);
}

/* The list text of ann, checked to be what learn_courses_json gives. */
static const char *list_text(struct fixture *f)
{
	const char *text;
	char *fresh;
	size_t len;
	cJSON *list;

	assert_int_equal(learn_courses_text(f->cache, f->db, f->ann, &text,
					    &len), 0);
	assert_int_equal(strlen(text), len);
	assert_int_equal(learn_courses_json(f->cache, f->db, f->ann, &list),
			 0);
	fresh = cJSON_PrintUnformatted(list);
	assert_string_equal(text, fresh);
	cJSON_free(fresh);
	cJSON_Delete(list);
	return text;
}

static void test_list_text_follows_changes(void **state)
{
	struct fixture *f = *state;
	const char *a, *b;
	sqlite3 *other;

	/* unchanged: the same text, not made again */
	a = list_text(f);
	assert_ptr_equal(list_text(f), a);
	assert_non_null(strstr(a, "\"percent\":0"));

	/* a completion, another connection's assignment, an enrollment,
	 * a new revision: each shows at once */
	complete(f, "haende");
	assert_non_null(strstr(list_text(f), "\"percent\":20"));
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	exec(other, "INSERT INTO assignments (course_id, user_id, due, "
		    "created_at) VALUES ('" COURSE "', 1, '2026-01-01', 1)");
	sqlite3_close(other);
	assert_non_null(strstr(list_text(f), "2026-01-01"));
	exec(f->db, "INSERT INTO enrollments VALUES (1, '" COURSE "', 1)");
	assert_non_null(strstr(list_text(f), "\"enrolled\":true"));
	append(f, "lessons/haende.md", "\n\nNeu.\n");
	publish(f, "Hands\n\nRetrain: yes\n");
	b = list_text(f);
	assert_non_null(strstr(b, f->rev));
	assert_non_null(strstr(b, "\"percent\":0"));

	/* another learner's completion leaves ann's list as it is */
	exec(f->db, "INSERT INTO assignments (course_id, user_id, due, "
		    "created_at) VALUES ('" COURSE "', 2, '2026-01-01', 1)");
	b = list_text(f);
	assert_int_equal(learn_complete(f->cache, f->db, f->bob, COURSE,
					"haende", NOW), 0);
	assert_ptr_equal(list_text(f), b);
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DB_TEST(test_read),
		DB_TEST(test_complete_and_attempt),
		DB_TEST(test_changed_lesson_keeps_progress),
		DB_TEST(test_retrain_trailer),
		DB_TEST(test_retrain_on_any),
		DB_TEST(test_quiz_unchanged_stays_passed),
		cmocka_unit_test(test_trailers),
		DB_TEST(test_versions_missing_are_recorded_at_read),
		DB_TEST(test_completions_from_before_versions),
		DB_TEST(test_local_history_and_catalog_summary),
		DB_TEST(test_cache),
		DB_TEST(test_list_text_follows_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
