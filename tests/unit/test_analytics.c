/*
 * Unit tests of workspace/analytics.c: the report the workspace sends
 * the mother counts per course what the compliance list says, holds the
 * learners with valid and expiring certificates, the active learners
 * and completions per month, lists only the mother's courses, and
 * carries nothing that names a person.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "workspace/analytics.h"
#include "workspace/compliance.h"
#include "workspace/store.h"
#include "ws_fixture.h"

#include <cjson/cJSON.h>
#include <string.h>

#define NOW 1796385600LL /* 2026-12-04 12:00 UTC */
#define REV "0123456789abcdef0123456789abcdef01234567"

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s", err);
}

/* Course c1 from the mother and own (local); three learners and an
 * admin; c1 assigned to all learners, own to one; one certificate that
 * expires in ten days, lesson work in November and December. */
static void scene(sqlite3 *db)
{
	exec(db,
	     "INSERT INTO courses (id, origin, revision, title,"
	     " published_at, updated_at) VALUES"
	     " ('c1', 'mother', '" REV "', 'Hygiene', 0, 0),"
	     " ('own', 'local', '" REV "', 'Ours', 0, 0);"
	     "INSERT INTO users (id, email, name, role, created_at) VALUES"
	     " (11, 'zora.quill@acme.example', 'Zora Quill', 'learner', 0),"
	     " (12, 'milo.fenn@acme.example', 'Milo Fenn', 'learner', 0),"
	     " (13, 'ida.brook@acme.example', 'Ida Brook', 'learner', 0),"
	     " (14, 'boss@acme.example', 'Boss Person', 'admin', 0);"
	     "INSERT INTO assignments (course_id, user_id, due, created_at)"
	     " VALUES ('c1', 11, '2027-06-30', 0), ('c1', 12, '2027-06-30', 0),"
	     " ('c1', 13, '2027-06-30', 0), ('own', 13, '2027-06-30', 0);"
	     "INSERT INTO certificates (number, user_id, course_id,"
	     " course_title, revision, issued_at, expires_at, verify_code)"
	     " VALUES ('C-1', 11, 'c1', '\"Hygiene\"', '" REV "',"
	     " 1796300000, 1796385600 + 10 * 86400,"
	     " '0123456789abcdef0123456789abcdef'),"
	     " ('C-2', 13, 'own', '\"Ours\"', '" REV "', 1796300000, NULL,"
	     " 'fedcba9876543210fedcba9876543210');"
	     "INSERT INTO lesson_completions VALUES"
	     " (11, 'c1', 'l1', 'b1', '" REV "', 1796300000),"
	     " (12, 'c1', 'l1', 'b1', '" REV "', 1793000000);"
	     "INSERT INTO quiz_attempts (user_id, course_id, lesson_id,"
	     " blob_id, revision, score, passed, created_at) VALUES"
	     " (13, 'c1', 'q', 'b2', '" REV "', 50, 0, 1796300000);");
}

static cJSON *report(sqlite3 *db)
{
	struct buf b = { 0 };
	cJSON *r;

	assert_int_equal(analytics_report(db, NOW, &b), 0);
	r = cJSON_Parse(buf_cstr(&b));
	assert_non_null(r);
	/* nothing that names a person, in any form */
	for (const char *s = buf_cstr(&b); *s; s++)
		assert_false(*s == '@');
	assert_null(strstr(buf_cstr(&b), "Quill"));
	assert_null(strstr(buf_cstr(&b), "Fenn"));
	assert_null(strstr(buf_cstr(&b), "\"user"));
	assert_null(strstr(buf_cstr(&b), "\"name\""));
	assert_null(strstr(buf_cstr(&b), "\"email\""));
	buf_release(&b);
	return r;
}

static int num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(v));
	return v->valueint;
}

static void test_report_counts(void **state)
{
	struct ws_fixture *f = *state;
	struct compliance_filter all = { .status = -1, .course = "c1" };
	cJSON *r, *courses, *c1, *rows = NULL, *row;
	int completed = 0, not_started = 0, in_progress = 0;

	scene(f->db);
	r = report(f->db);
	assert_int_equal(num(r, "at"), NOW);
	courses = cJSON_GetObjectItem(r, "courses");
	assert_int_equal(cJSON_GetArraySize(courses), 1); /* no local one */
	c1 = cJSON_GetArrayItem(courses, 0);
	assert_string_equal(cJSON_GetObjectItem(c1, "id")->valuestring, "c1");
	assert_int_equal(num(c1, "assigned"), 3);
	assert_int_equal(num(c1, "certificates_valid"), 1);
	assert_int_equal(num(c1, "certificates_expiring"), 1);

	/* the same tally as the workspace's own compliance list */
	assert_int_equal(compliance_list_json(f->db, &all, NOW, &rows), 0);
	cJSON_ArrayForEach(row, rows) {
		const char *s = cJSON_GetObjectItem(row, "status")->valuestring;

		completed += !strcmp(s, "completed") ||
			     !strcmp(s, "expiring_soon");
		not_started += !strcmp(s, "not_started");
		in_progress += !strcmp(s, "in_progress");
	}
	cJSON_Delete(rows);
	assert_int_equal(num(c1, "completed"), completed);
	assert_int_equal(num(c1, "not_started"), not_started);
	assert_int_equal(num(c1, "in_progress"), in_progress);
	assert_int_equal(completed, 1);
	cJSON_Delete(r);
}

static void test_report_months(void **state)
{
	struct ws_fixture *f = *state;
	cJSON *r, *active, *done, *m;

	scene(f->db);
	r = report(f->db);
	active = cJSON_GetObjectItem(r, "active_learners");
	assert_int_equal(cJSON_GetArraySize(active), 2);
	m = cJSON_GetArrayItem(active, 0);
	assert_string_equal(cJSON_GetObjectItem(m, "month")->valuestring,
			    "2026-10");
	assert_int_equal(num(m, "count"), 1);
	m = cJSON_GetArrayItem(active, 1);
	assert_string_equal(cJSON_GetObjectItem(m, "month")->valuestring,
			    "2026-12");
	assert_int_equal(num(m, "count"), 2);
	/* completions of the mother's course only */
	done = cJSON_GetObjectItem(r, "completions");
	assert_int_equal(cJSON_GetArraySize(done), 1);
	m = cJSON_GetArrayItem(done, 0);
	assert_string_equal(cJSON_GetObjectItem(m, "course")->valuestring,
			    "c1");
	assert_int_equal(num(m, "count"), 1);
	cJSON_Delete(r);
}

/* A workspace with nothing yet reports empty lists. */
static void test_report_empty(void **state)
{
	struct ws_fixture *f = *state;
	cJSON *r = report(f->db);

	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r,
							     "courses")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r,
						"active_learners")), 0);
	cJSON_Delete(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report_counts, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_report_months, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_report_empty, ws_setup,
						ws_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
