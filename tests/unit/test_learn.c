/*
 * Unit tests of workspace/learn.c: a lesson is read only by a user the
 * course is assigned to, a text lesson as HTML and a quiz without its
 * answers; completing a text lesson is idempotent and a quiz cannot be
 * completed directly; a quiz is graded by sets (order does not matter, a
 * missing, extra or repeated choice makes the question wrong), every
 * attempt is recorded with the revision, and a passed one completes the
 * quiz; progress counts a completion only while the lesson's file keeps
 * the blob it was completed on, so a changed lesson must be done again.
 * The sources are compiled in directly, as the unit build links only the
 * shared libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/assign.c"
#include "../../workspace/auth.c"
#include "../../workspace/groups.c"
#include "../../workspace/learn.c"
#include "../../workspace/people.c"
#include "../../workspace/store.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000
#define COURSE "hygiene-basics"

struct fixture {
	char dir[64];
	char *path;
	char *work; /* a copy of the sample course, changed by tests */
	sqlite3 *db;
	git_repository *repo;
	int64_t ann, bob;
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

/* Commits f->work and makes it the held revision; returns it in rev. */
static void publish(struct fixture *f, char *rev)
{
	char sql[256];
	int rc = gitstore_commit_dir(f->repo, "refs/heads/main", f->work,
				     "R", "LMS Test", rev);

	assert_true(rc == 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO courses (id, origin, revision, title, "
		 "published_at, updated_at) VALUES ('" COURSE "', 'mother', "
		 "'%s', 'Hygiene', 1, 1) ON CONFLICT (id) DO UPDATE SET "
		 "revision = excluded.revision", rev);
	exec(f->db, sql);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *end = strstr(__FILE__, "/tests/unit/");
	char *cmd = NULL, *repo_path, rev[41];
	cJSON *in;
	const char *why;
	int64_t id;

	assert_non_null(f);
	assert_non_null(end);
	strcpy(f->dir, "/tmp/test_learn.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = fs_join(f->dir, STORE_FILE);
	f->work = fs_join(f->dir, "course");
	assert_true(asprintf(&cmd, "cp -r '%.*s/deploy/courses/" COURSE
				   "' '%s'",
			     (int)(end - __FILE__), __FILE__, f->work) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(store_open(f->path, &f->db), 0);
	gitstore_global_init();
	repo_path = fs_join(f->dir, "content.git");
	assert_int_equal(gitstore_open(repo_path, 1, &f->repo), 0);
	free(repo_path);
	publish(f, rev);
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

/* The percent of f->ann's progress, with each lesson's state as a
 * string of 0 and 1 in done (6 bytes). */
static int percent(struct fixture *f, char *done)
{
	cJSON *c, *l, *p;
	int pc, i = 0;

	assert_int_equal(assign_course_json(f->db, f->repo, f->ann, COURSE,
					    &c), 0);
	assert_int_equal(learn_progress(f->db, f->repo, f->ann, c), 0);
	cJSON_ArrayForEach(l, cJSON_GetObjectItem(c, "lessons"))
		done[i++] = cJSON_IsTrue(cJSON_GetObjectItem(l, "completed")) ?
				    '1' : '0';
	done[i] = '\0';
	p = cJSON_GetObjectItem(c, "progress");
	pc = cJSON_GetObjectItem(p, "percent")->valueint;
	assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(p, "completed")),
			 pc == 100);
	cJSON_Delete(c);
	return pc;
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	cJSON *o, *q;
	const char *html;

	assert_int_equal(learn_lesson_json(f->db, f->repo, f->ann, COURSE,
					   "haende", &o), 0);
	assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring,
			    "text");
	html = cJSON_GetObjectItem(o, "html")->valuestring;
	assert_non_null(strstr(html, "<h"));
	assert_null(strstr(html, "<script"));
	cJSON_Delete(o);

	assert_int_equal(learn_lesson_json(f->db, f->repo, f->ann, COURSE,
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
	assert_int_equal(learn_lesson_json(f->db, f->repo, f->bob, COURSE,
					   "haende", &o), STORE_ENOTFOUND);
	assert_null(o);
	assert_int_equal(learn_lesson_json(f->db, f->repo, f->ann, COURSE,
					   "nope", &o), STORE_ENOTFOUND);
	assert_int_equal(learn_lesson_json(f->db, f->repo, f->ann, "nope",
					   "haende", &o), STORE_ENOTFOUND);
}

/* learn_attempt on JSON text: the score, or -1 when refused. */
static int attempt(struct fixture *f, const char *lesson, const char *json,
		   int *passed)
{
	cJSON *in = cJSON_Parse(json), *out = NULL;
	const char *why = NULL;
	int rc, score = -1;

	assert_non_null(in);
	rc = learn_attempt(f->db, f->repo, f->ann, COURSE, lesson, in,
			   NOW, &out, &why);
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

static void test_complete_and_attempt(void **state)
{
	struct fixture *f = *state;
	char done[8];
	sqlite3_stmt *st;
	int passed = -1;

	assert_int_equal(percent(f, done), 0);
	assert_int_equal(learn_complete(f->db, f->repo, f->ann, COURSE,
					"haende", NOW), 0);
	assert_int_equal(learn_complete(f->db, f->repo, f->ann, COURSE,
					"haende", NOW + 1), 0);
	assert_int_equal(percent(f, done), 20);
	assert_string_equal(done, "10000");
	assert_int_equal(learn_complete(f->db, f->repo, f->ann, COURSE,
					"wissenstest", NOW), STORE_EINVAL);
	assert_int_equal(learn_complete(f->db, f->repo, f->bob, COURSE,
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
	assert_int_equal(percent(f, done), 40);
	assert_string_equal(done, "10001");
	assert_int_equal(attempt(f, "wissenstest", "{\"answers\": {"
				 "\"einwirkzeit\": [1], "
				 "\"fuenf-momente\": [2, 0, 1], "
				 RIGHT_REST "}}", &passed), 100);

	/* every attempt is recorded with the revision */
	assert_int_equal(sqlite3_prepare_v2(f->db,
			 "SELECT count(*), sum(passed), count(DISTINCT "
			 "revision), min(length(revision)) FROM "
			 "quiz_attempts", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	assert_int_equal(sqlite3_column_int(st, 1), 2);
	assert_int_equal(sqlite3_column_int(st, 2), 1);
	assert_int_equal(sqlite3_column_int(st, 3), 40);
	sqlite3_finalize(st);
}

static void test_changed_lesson_counts_again(void **state)
{
	struct fixture *f = *state;
	char done[8], rev[41], *file;
	static const char more[] = "\n\nEin neuer Absatz.\n";
	FILE *fp;

	assert_int_equal(learn_complete(f->db, f->repo, f->ann, COURSE,
					"haende", NOW), 0);
	assert_int_equal(learn_complete(f->db, f->repo, f->ann, COURSE,
					"flaechen", NOW), 0);
	assert_int_equal(percent(f, done), 40);

	/* a new revision that changes haende only */
	file = fs_join(f->work, "lessons/haende.md");
	assert_non_null(fp = fopen(file, "a"));
	assert_int_equal(fwrite(more, 1, sizeof(more) - 1, fp),
			 sizeof(more) - 1);
	fclose(fp);
	free(file);
	publish(f, rev);
	assert_int_equal(percent(f, done), 20);
	assert_string_equal(done, "00100");
	assert_int_equal(learn_complete(f->db, f->repo, f->ann, COURSE,
					"haende", NOW), 0);
	assert_int_equal(percent(f, done), 40);
	assert_string_equal(done, "10100");
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DB_TEST(test_read),
		DB_TEST(test_complete_and_attempt),
		DB_TEST(test_changed_lesson_counts_again),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
