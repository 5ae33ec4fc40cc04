/*
 * Unit tests of workspace/assign.c: an assignment names a held course and
 * exactly one of a group or a user (by id or email) with a real calendar
 * date; bad input stores nothing; a user's courses are those assigned to
 * them or to a group they are in at the time of reading, so a user who
 * comes to match a group's rule later has its courses, with the earliest
 * due date of all their assignments; a course read for a user has the
 * lessons of its held revision in content.git; a user enrolls only in a
 * course open for self-enrollment, and then has it without a due date,
 * once however often they enroll. A due date changes only to a real
 * date and only from a body naming nothing else; deleting an assignment
 * takes its course from those it reached, unless another assignment
 * still gives it to them; an unknown id is "not found" for both, and a
 * refused change changes nothing. The sources are compiled in
 * directly, as the unit build links only the shared libraries.
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
#include "../../workspace/coursecache.c"
#include "../../workspace/groups.c"
#include "../../workspace/people.c"
#include "../../workspace/scope.c"
#include "../../workspace/store.c"

#include "common/fs.h"
#include "common/gitstore.h"

#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000
#define REV_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static int setup(void **state)
{
	struct ws_fixture *f;

	ws_setup(state);
	f = *state;
	exec(f->db, "INSERT INTO courses (id, origin, revision, title, "
		    "published_at, updated_at) VALUES "
		    "('hygiene', 'mother', '" REV_A "', 'Hygiene', 1, 1), "
		    "('privacy', 'local', '" REV_A "', 'Privacy', 1, 1)");
	return 0;
}

static int64_t user(sqlite3 *db, const char *email, const char *dept)
{
	struct people_attr attr = { "department", dept };
	struct people_new_user u = { .email = email, .name = "Ann Example",
				     .role = PEOPLE_ROLE_LEARNER,
				     .attrs = &attr, .nattrs = dept != NULL,
				     .created_at = NOW };
	int64_t id = 0;

	assert_int_equal(people_user_add(db, &u, &id), 0);
	return id;
}

static int64_t group(sqlite3 *db, const char *json)
{
	cJSON *in = cJSON_Parse(json);
	const char *why = NULL;
	int64_t id = 0;

	assert_non_null(in);
	assert_int_equal(groups_add_json(db, in, NOW, &id, &why), 0);
	cJSON_Delete(in);
	return id;
}

/* assign_add_json on JSON text; returns the code, *id the new id. */
static int assign(sqlite3 *db, const char *json, int64_t *id,
		  const char **why)
{
	cJSON *in = cJSON_Parse(json);
	int rc;

	assert_non_null(in);
	*why = NULL;
	rc = assign_add_json(db, in, NOW, id, why);
	cJSON_Delete(in);
	return rc;
}

static int64_t assign_ok(sqlite3 *db, const char *json)
{
	const char *why;
	int64_t id = 0;

	assert_int_equal(assign(db, json, &id, &why), 0);
	assert_true(id > 0);
	return id;
}

/* The user's courses as "id@due,id@due" (due "-" when null, a "+"
 * after an enrolled one). */
static const char *courses(sqlite3 *db, int64_t uid, char *out, size_t cap)
{
	cJSON *list, *c, *p;
	size_t len = 0;

	assert_int_equal(assign_courses_json(db, uid, &list), 0);
	out[0] = '\0';
	cJSON_ArrayForEach(c, list) {
		assert_string_equal(
			cJSON_GetObjectItem(c, "revision")->valuestring, REV_A);
		assert_true(cJSON_IsString(cJSON_GetObjectItem(c, "title")));
		p = cJSON_GetObjectItem(c, "progress");
		assert_int_equal(cJSON_GetObjectItem(p, "percent")->valueint,
				 0);
		assert_true(cJSON_IsFalse(cJSON_GetObjectItem(p,
							      "completed")));
		len += (size_t)snprintf(
			out + len, cap - len, "%s%s@%s%s", len ? "," : "",
			cJSON_GetObjectItem(c, "id")->valuestring,
			cJSON_IsNull(cJSON_GetObjectItem(c, "due")) ?
				"-" :
				cJSON_GetObjectItem(c, "due")->valuestring,
			cJSON_IsTrue(cJSON_GetObjectItem(c, "enrolled")) ?
				"+" : "");
		assert_true(len < cap);
	}
	cJSON_Delete(list);
	return out;
}

#define assert_courses(db, uid, expected)                                \
	do {                                                             \
		char got_[256];                                          \
		assert_string_equal(courses(db, uid, got_, sizeof(got_)), \
				    expected);                           \
	} while (0)

static int count(sqlite3 *db)
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
					    "assignments", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_dates(void **state)
{
	(void)state;
	assert_true(assign_date_valid("2027-01-31"));
	assert_true(assign_date_valid("2028-02-29"));
	assert_true(assign_date_valid("2000-02-29"));
	assert_false(assign_date_valid("1900-02-29"));
	assert_false(assign_date_valid("2027-02-29"));
	assert_false(assign_date_valid("2027-04-31"));
	assert_false(assign_date_valid("2027-13-01"));
	assert_false(assign_date_valid("2027-00-10"));
	assert_false(assign_date_valid("2027-1-10"));
	assert_false(assign_date_valid("2027-01-10T00:00"));
	assert_false(assign_date_valid("2027/01/10"));
	assert_false(assign_date_valid("+027-01-10"));
	assert_false(assign_date_valid(""));
}

static void test_group_members_at_read_time(void **state)
{
	struct ws_fixture *f = *state;
	int64_t g, early, late, other;
	cJSON *a;

	early = user(f->db, "early@example.org", "Pflege");
	other = user(f->db, "other@example.org", "IT");
	g = group(f->db, "{\"name\": \"Pflege\", \"rule\": "
			 "{\"department\": \"Pflege\"}}");
	assign_ok(f->db, "{\"course\": \"hygiene\", \"group\": 1, "
			 "\"due\": \"2027-03-01\"}");
	assert_int_equal(g, 1);
	late = user(f->db, "late@example.org", "Pflege");
	assert_courses(f->db, early, "hygiene@2027-03-01");
	assert_courses(f->db, late, "hygiene@2027-03-01");
	assert_courses(f->db, other, "");
	assert_int_equal(assign_user_has(f->db, late, "hygiene"), 0);
	assert_int_equal(assign_user_has(f->db, other, "hygiene"),
			 STORE_ENOTFOUND);
	assert_int_equal(assign_user_has(f->db, late, "nope"),
			 STORE_ENOTFOUND);

	/* leaving the group by an attribute change takes the course away */
	exec(f->db, "UPDATE user_attributes SET value = 'IT' "
		    "WHERE key = 'department' AND value = 'Pflege' "
		    "AND user_id = 3");
	assert_courses(f->db, late, "");

	assert_int_equal(assign_get_json(f->db, 1, &a), 0);
	assert_int_equal(cJSON_GetObjectItem(a, "group")->valueint, 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "user")));
	assert_string_equal(cJSON_GetObjectItem(a, "course")->valuestring,
			    "hygiene");
	cJSON_Delete(a);
}

static void test_direct_and_earliest_due(void **state)
{
	struct ws_fixture *f = *state;
	int64_t u, id;
	cJSON *a;

	u = user(f->db, "ann@example.org", "Pflege");
	group(f->db, "{\"name\": \"Pflege\", \"rule\": "
		     "{\"department\": \"Pflege\"}}");
	assign_ok(f->db, "{\"course\": \"hygiene\", \"group\": 1, "
			 "\"due\": \"2027-03-01\"}");
	id = assign_ok(f->db, "{\"course\": \"hygiene\", "
			      "\"user\": \"Ann@Example.org\", "
			      "\"due\": \"2027-02-01\"}");
	assign_ok(f->db, "{\"course\": \"privacy\", \"user\": 1, "
			 "\"due\": \"2027-05-01\"}");
	assert_courses(f->db, u, "hygiene@2027-02-01,privacy@2027-05-01");

	assert_int_equal(assign_get_json(f->db, id, &a), 0);
	assert_int_equal(cJSON_GetObjectItem(a, "user")->valueint, u);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "group")));
	assert_string_equal(cJSON_GetObjectItem(a, "due")->valuestring,
			    "2027-02-01");
	cJSON_Delete(a);
	assert_int_equal(assign_list_json(f->db, &a), 0);
	assert_int_equal(cJSON_GetArraySize(a), 3);
	cJSON_Delete(a);
}

static void test_enroll(void **state)
{
	struct ws_fixture *f = *state;
	int64_t ann, bob;
	int created = -1;

	ann = user(f->db, "ann@example.org", "Pflege");
	bob = user(f->db, "bob@example.org", "Pflege");
	assign_ok(f->db, "{\"course\": \"hygiene\", \"user\": 1, "
			 "\"due\": \"2027-03-01\"}");

	/* not open, not held: refused, nothing stored */
	assert_int_equal(assign_enroll(f->db, bob, "privacy", NOW, &created),
			 STORE_EINVAL);
	assert_int_equal(assign_enroll(f->db, bob, "nope", NOW, &created),
			 STORE_ENOTFOUND);
	assert_courses(f->db, bob, "");
	assert_int_equal(assign_user_has(f->db, bob, "privacy"),
			 STORE_ENOTFOUND);

	/* open: enrolled once, without a due date */
	exec(f->db, "INSERT INTO catalog_open VALUES ('privacy', 1), "
		    "('hygiene', 1)");
	assert_int_equal(assign_enroll(f->db, bob, "privacy", NOW, &created),
			 0);
	assert_int_equal(created, 1);
	assert_int_equal(assign_enroll(f->db, bob, "privacy", NOW, &created),
			 0);
	assert_int_equal(created, 0);
	assert_courses(f->db, bob, "privacy@-+");
	assert_int_equal(assign_user_has(f->db, bob, "privacy"), 0);

	/* assigned and enrolled: the assignment's due date */
	assert_int_equal(assign_enroll(f->db, ann, "hygiene", NOW, &created),
			 0);
	assert_courses(f->db, ann, "hygiene@2027-03-01+");

	/* closed again: who enrolled keeps it, nobody else gets in */
	exec(f->db, "DELETE FROM catalog_open");
	assert_int_equal(assign_enroll(f->db, bob, "privacy", NOW, &created),
			 0);
	assert_int_equal(created, 0);
	assert_int_equal(assign_enroll(f->db, ann, "privacy", NOW, &created),
			 STORE_EINVAL);
	assert_courses(f->db, bob, "privacy@-+");
}

static void test_bad_input_stores_nothing(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"group\": 1, \"due\": \"2027-01-01\"}",
		"{\"course\": \"nope\", \"group\": 1, \"due\": \"2027-01-01\"}",
		"{\"course\": \"hygiene\", \"group\": 9, "
		"\"due\": \"2027-01-01\"}",
		"{\"course\": \"hygiene\", \"group\": \"1\", "
		"\"due\": \"2027-01-01\"}",
		"{\"course\": \"hygiene\", \"user\": 9,"
		" \"due\": \"2027-01-01\"}",
		"{\"course\": \"hygiene\", \"user\": \"x@example.org\", "
		"\"due\": \"2027-01-01\"}",
		"{\"course\": \"hygiene\", \"user\": 1.5, "
		"\"due\": \"2027-01-01\"}",
		"{\"course\": \"hygiene\", \"group\": 1, \"user\": 1, "
		"\"due\": \"2027-01-01\"}",
		"{\"course\": \"hygiene\", \"due\": \"2027-01-01\"}",
		"{\"course\": \"hygiene\", \"group\": 1,"
		" \"due\": \"2027-02-30\"}",
		"{\"course\": \"hygiene\", \"group\": 1}",
		"{\"course\": \"hygiene\", \"group\": 1, \"due\": 20270101}",
	};
	struct ws_fixture *f = *state;
	const char *why;
	int64_t id;

	user(f->db, "ann@example.org", "Pflege");
	group(f->db, "{\"name\": \"Pflege\", \"rule\": "
		     "{\"department\": \"Pflege\"}}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id = 0;
		assert_int_equal(assign(f->db, bad[i], &id, &why),
				 STORE_EINVAL);
		assert_non_null(why);
		assert_int_equal(id, 0);
	}
	assert_int_equal(count(f->db), 0);
	assert_int_equal(assign(f->db, "{\"course\": \"nope\", \"group\": 1, "
				       "\"due\": \"2027-01-01\"}", &id, &why),
			 STORE_EINVAL);
	assert_non_null(strstr(why, "course"));
	assert_int_equal(assign(f->db, "{\"course\": \"hygiene\", "
				       "\"group\": 1, \"user\": 1, "
				       "\"due\": \"2027-01-01\"}", &id, &why),
			 STORE_EINVAL);
	assert_non_null(strstr(why, "exactly one"));
}

/* assign_update_json on JSON text; *why the message. */
static int update(sqlite3 *db, int64_t id, const char *json,
		  const char **why)
{
	cJSON *in = cJSON_Parse(json);
	int rc;

	assert_non_null(in);
	*why = NULL;
	rc = assign_update_json(db, id, in, why);
	cJSON_Delete(in);
	return rc;
}

/* The due date of assignment id as stored. */
static const char *due_of(sqlite3 *db, int64_t id, char *out, size_t cap)
{
	cJSON *a;

	assert_int_equal(assign_get_json(db, id, &a), 0);
	snprintf(out, cap, "%s",
		 cJSON_GetObjectItem(a, "due")->valuestring);
	cJSON_Delete(a);
	return out;
}

static void test_change_due(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"due\": \"2027-02-30\"}",
		"{\"due\": \"1.4.2027\"}",
		"{\"due\": 20270401}",
		"{\"due\": null}",
		"{\"due\": \"2027-04-01\", \"course\": \"privacy\"}",
		"{\"due\": \"2027-04-01\", \"group\": 1}",
	};
	struct ws_fixture *f = *state;
	int64_t ann, id;
	const char *why;
	char due[16];

	ann = user(f->db, "ann@example.org", "Pflege");
	group(f->db, "{\"name\": \"Pflege\", \"rule\": "
		     "{\"department\": \"Pflege\"}}");
	id = assign_ok(f->db, "{\"course\": \"hygiene\", \"group\": 1, "
			      "\"due\": \"2027-03-01\"}");

	assert_int_equal(update(f->db, id, "{\"due\": \"2027-04-01\"}",
				&why), 0);
	assert_string_equal(due_of(f->db, id, due, sizeof(due)),
			    "2027-04-01");
	assert_courses(f->db, ann, "hygiene@2027-04-01");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(update(f->db, id, bad[i], &why),
				 STORE_EINVAL);
		assert_non_null(why);
	}
	assert_string_equal(due_of(f->db, id, due, sizeof(due)),
			    "2027-04-01");
	assert_int_equal(update(f->db, id, "{\"due\": \"2027-02-30\"}",
				&why), STORE_EINVAL);
	assert_non_null(strstr(why, "YYYY-MM-DD"));
	assert_int_equal(update(f->db, id, "{\"user\": 1}", &why),
			 STORE_EINVAL);
	assert_non_null(strstr(why, "only due"));

	/* an unknown id is not found, and no other row changes */
	assert_int_equal(update(f->db, id + 1, "{\"due\": \"2028-01-01\"}",
				&why), STORE_ENOTFOUND);
	assert_courses(f->db, ann, "hygiene@2027-04-01");
	assert_int_equal(count(f->db), 1);
}

static void test_delete(void **state)
{
	struct ws_fixture *f = *state;
	int64_t ann, bob, to_group, to_ann;
	cJSON *a;

	ann = user(f->db, "ann@example.org", "Pflege");
	bob = user(f->db, "bob@example.org", "Pflege");
	group(f->db, "{\"name\": \"Pflege\", \"rule\": "
		     "{\"department\": \"Pflege\"}}");
	to_group = assign_ok(f->db, "{\"course\": \"hygiene\", "
				    "\"group\": 1, \"due\": \"2027-03-01\"}");
	to_ann = assign_ok(f->db, "{\"course\": \"hygiene\", "
				  "\"user\": 1, \"due\": \"2027-06-01\"}");
	assert_courses(f->db, ann, "hygiene@2027-03-01");
	assert_courses(f->db, bob, "hygiene@2027-03-01");

	/* the group's assignment goes: Ann keeps her own, Bob has none */
	assert_int_equal(assign_delete(f->db, to_group), 0);
	assert_courses(f->db, ann, "hygiene@2027-06-01");
	assert_courses(f->db, bob, "");
	assert_int_equal(assign_get_json(f->db, to_group, &a),
			 STORE_ENOTFOUND);
	assert_null(a);

	/* a second delete of the same id, and an unknown one */
	assert_int_equal(assign_delete(f->db, to_group), STORE_ENOTFOUND);
	assert_int_equal(assign_delete(f->db, 999), STORE_ENOTFOUND);
	assert_int_equal(count(f->db), 1);

	assert_int_equal(assign_delete(f->db, to_ann), 0);
	assert_courses(f->db, ann, "");
	assert_int_equal(count(f->db), 0);
}

/* deploy/courses/ID of the checkout, from this file's path. */
static char *sample_dir(const char *id)
{
	const char *end = strstr(__FILE__, "/tests/unit/");
	char *dir = NULL;

	assert_non_null(end);
	assert_true(asprintf(&dir, "%.*s/deploy/courses/%s",
			     (int)(end - __FILE__), __FILE__, id) > 0);
	return dir;
}

static void test_course_lessons(void **state)
{
	static const char *const want[][2] = {
		{ "haende", "text" },	       { "schutzausruestung", "text" },
		{ "flaechen", "text" },	       { "waesche-abfall", "text" },
		{ "wissenstest", "quiz" },
	};
	struct ws_fixture *f = *state;
	char *src = sample_dir("hygiene-basics"), *repo_path, rev[41];
	char sql[256];
	git_repository *repo;
	cJSON *c, *l;
	int64_t ann, bob;
	int i = 0;

	gitstore_global_init();
	repo_path = fs_join(f->dir, "content.git");
	assert_int_equal(gitstore_open(repo_path, 1, &repo), 0);
	assert_int_equal(gitstore_commit_dir(repo, "refs/heads/main", src,
					     "R1", "LMS Test",
					     rev),
			 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO courses (id, origin, revision, title, "
		 "published_at, updated_at) VALUES ('hygiene-basics', "
		 "'mother', '%s', 'Hygiene-Grundlagen', 1, 1)", rev);
	exec(f->db, sql);
	ann = user(f->db, "ann@example.org", NULL);
	bob = user(f->db, "bob@example.org", NULL);
	assign_ok(f->db, "{\"course\": \"hygiene-basics\", \"user\": 1, "
			 "\"due\": \"2027-03-01\"}");
	assign_ok(f->db, "{\"course\": \"hygiene\", \"user\": 1, "
			 "\"due\": \"2027-03-01\"}");

	assert_int_equal(assign_course_json(f->db, repo, ann,
					    "hygiene-basics", &c), 0);
	assert_string_equal(cJSON_GetObjectItem(c, "revision")->valuestring,
			    rev);
	assert_string_equal(cJSON_GetObjectItem(c, "due")->valuestring,
			    "2027-03-01");
	cJSON_ArrayForEach(l, cJSON_GetObjectItem(c, "lessons")) {
		assert_true(i < 5);
		assert_string_equal(cJSON_GetObjectItem(l, "id")->valuestring,
				    want[i][0]);
		assert_string_equal(
			cJSON_GetObjectItem(l, "kind")->valuestring,
			want[i][1]);
		assert_true(cJSON_IsString(cJSON_GetObjectItem(l, "title")));
		assert_true(cJSON_IsFalse(cJSON_GetObjectItem(l,
							      "completed")));
		i++;
	}
	assert_int_equal(i, 5);
	cJSON_Delete(c);

	/* not assigned and not existing look the same */
	assert_int_equal(assign_course_json(f->db, repo, bob,
					    "hygiene-basics", &c),
			 STORE_ENOTFOUND);
	assert_null(c);
	assert_int_equal(assign_course_json(f->db, repo, ann, "nope", &c),
			 STORE_ENOTFOUND);
	/* a held revision content.git lacks is an error, not a course */
	assert_int_equal(assign_course_json(f->db, repo, ann, "hygiene", &c),
			 STORE_EREVISION);
	assert_null(c);

	git_repository_free(repo);
	free(repo_path);
	free(src);
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, setup, ws_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		DB_TEST(test_group_members_at_read_time),
		DB_TEST(test_direct_and_earliest_due),
		DB_TEST(test_enroll),
		DB_TEST(test_bad_input_stores_nothing),
		DB_TEST(test_change_due),
		DB_TEST(test_delete),
		DB_TEST(test_course_lessons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
