/*
 * Unit tests of the mother's analytics (mother/stats.c) and audit heads
 * (mother/audithead.c) over a real mother.db: reports checked before
 * anything is stored, only ids, months and numbers kept, snapshots per
 * day, sums across tenants, usage as JSON and CSV, and the conflicts of
 * audit heads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../mother/store.c"
#include "../../mother/stats.c"
#include "../../mother/audithead.c"

#include "common/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY1 1796385600 /* 2026-12-04 12:00 UTC */
#define DAY2 (DAY1 + 86400)

struct fixture {
	char dir[64];
	sqlite3 *db;
};

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static int count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Courses c1 and c2, tenants t1 (both licensed) and t2 (c1). */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *path;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_mother_stats.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	path = fs_join(f->dir, "mother.db");
	assert_int_equal(store_open(path, &f->db), 0);
	free(path);
	exec(f->db,
	     "INSERT INTO courses (id, title, created_at) VALUES"
	     " ('c1', 'Course one', 0), ('c2', 'Course two', 0);"
	     "INSERT INTO tenants (id, name, created_at) VALUES"
	     " ('t1', 'Tenant, \"one\"', 0), ('t2', '=cmd', 0);"
	     "INSERT INTO licences (tenant, course) VALUES"
	     " ('t1', 'c1'), ('t1', 'c2'), ('t2', 'c1');");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sqlite3_close(f->db);
	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

static const char report_t1[] =
	"{\"at\": 1796385000, \"courses\": ["
	"{\"id\": \"c1\", \"assigned\": 10, \"not_started\": 2,"
	" \"in_progress\": 3, \"completed\": 4, \"overdue\": 1,"
	" \"expired\": 0, \"certificates_valid\": 4,"
	" \"certificates_expiring\": 1, \"name\": \"Pia\"},"
	"{\"id\": \"c2\", \"assigned\": 1, \"not_started\": 1,"
	" \"in_progress\": 0, \"completed\": 0, \"overdue\": 0,"
	" \"expired\": 0, \"certificates_valid\": 0,"
	" \"certificates_expiring\": 0},"
	"{\"id\": \"local-course\", \"assigned\": 5, \"not_started\": 5,"
	" \"in_progress\": 0, \"completed\": 0, \"overdue\": 0,"
	" \"expired\": 0, \"certificates_valid\": 0,"
	" \"certificates_expiring\": 0}],"
	" \"active_learners\": [{\"month\": \"2026-11\", \"count\": 3},"
	" {\"month\": \"2026-12\", \"count\": 7}],"
	" \"completions\": [{\"month\": \"2026-12\", \"course\": \"c1\","
	" \"count\": 4}],"
	" \"email\": \"pia@example.org\"}";

static const char report_t2[] =
	"{\"at\": 1, \"courses\": [{\"id\": \"c1\", \"assigned\": 5,"
	" \"not_started\": 0, \"in_progress\": 0, \"completed\": 5,"
	" \"overdue\": 0, \"expired\": 0, \"certificates_valid\": 5,"
	" \"certificates_expiring\": 0}],"
	" \"active_learners\": [{\"month\": \"2026-12\", \"count\": 5}],"
	" \"completions\": [{\"month\": \"2026-12\", \"course\": \"c1\","
	" \"count\": 2}]}";

static int store(sqlite3 *db, const char *tenant, int64_t now,
		 const char *body, const char **why)
{
	return stats_store(db, tenant, now, body, strlen(body), why);
}

static void test_months(void **state)
{
	char m[8];

	(void)state;
	assert_true(stats_month_valid("2026-01"));
	assert_true(stats_month_valid("2026-12"));
	assert_false(stats_month_valid("2026-13"));
	assert_false(stats_month_valid("2026-00"));
	assert_false(stats_month_valid("2026-1"));
	assert_false(stats_month_valid("2026/01"));
	assert_false(stats_month_valid("20a6-01"));
	assert_false(stats_month_valid(NULL));
	stats_month_of(DAY1, 0, m);
	assert_string_equal(m, "2026-12");
	stats_month_of(DAY1, 1, m);
	assert_string_equal(m, "2027-01");
	stats_month_add("2026-03", -11, m);
	assert_string_equal(m, "2025-04");
	stats_month_add("2026-12", 1, m);
	assert_string_equal(m, "2027-01");
}

/* Only ids of the mother's courses, months and numbers are kept. */
static void test_store_keeps_figures_only(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;

	assert_int_equal(store(f->db, "t1", DAY1, report_t1, &why), 0);
	assert_null(why);
	assert_int_equal(count(f->db, "SELECT count(*) FROM stats_courses"),
			 2);
	assert_int_equal(count(f->db, "SELECT count(*) FROM stats_courses"
				      " WHERE course = 'local-course'"), 0);
	assert_int_equal(count(f->db, "SELECT assigned FROM stats_courses"
				      " WHERE course = 'c1'"), 10);
	assert_int_equal(count(f->db, "SELECT count(*) FROM stats_months"),
			 2);
	assert_int_equal(count(f->db, "SELECT reports FROM stats_reports"),
			 1);
	assert_int_equal(count(f->db,
		"SELECT count(*) FROM stats_courses WHERE day = '2026-12-04'"),
		2);
}

static void test_store_refuses(void **state)
{
	static const char *const bad[] = {
		"not json",
		"[]",
		"{\"courses\": []}",
		"{\"at\": 1, \"courses\": {}}",
		"{\"at\": 1, \"courses\": [{\"id\": \"Bad Id\"}]}",
		"{\"at\": 1, \"courses\": [{\"id\": \"c1\", \"assigned\": -1,"
		" \"not_started\": 0, \"in_progress\": 0, \"completed\": 0,"
		" \"overdue\": 0, \"expired\": 0, \"certificates_valid\": 0,"
		" \"certificates_expiring\": 0}]}",
		"{\"at\": 1, \"courses\": [{\"id\": \"c1\", \"assigned\": 1.5,"
		" \"not_started\": 0, \"in_progress\": 0, \"completed\": 0,"
		" \"overdue\": 0, \"expired\": 0, \"certificates_valid\": 0,"
		" \"certificates_expiring\": 0}]}",
		"{\"at\": 1, \"courses\": [{\"id\": \"c1\"}]}",
		"{\"at\": 1, \"courses\": [], \"active_learners\":"
		" [{\"month\": \"2026-13\", \"count\": 1}]}",
		"{\"at\": 1, \"courses\": [], \"active_learners\":"
		" [{\"month\": \"2026-12\", \"count\": \"many\"}]}",
		"{\"at\": 1, \"courses\": [], \"completions\":"
		" [{\"month\": \"2026-12\", \"count\": 1}]}",
		"{\"at\": 1, \"courses\": [], \"active_learners\": 3}",
		"{\"at\": 1, \"courses\": [{\"id\": \"c1\", \"assigned\":"
		" 1e12, \"not_started\": 0, \"in_progress\": 0,"
		" \"completed\": 0, \"overdue\": 0, \"expired\": 0,"
		" \"certificates_valid\": 0, \"certificates_expiring\": 0}]}",
	};
	struct fixture *f = *state;
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(store(f->db, "t1", DAY1, bad[i], &why), 1);
		assert_non_null(why);
	}
	assert_int_equal(count(f->db,
			       "SELECT count(*) FROM stats_reports"), 0);
	assert_int_equal(count(f->db,
			       "SELECT count(*) FROM stats_courses"), 0);
}

/* A later report the same day replaces the day's snapshot. */
static void test_snapshot_per_day(void **state)
{
	struct fixture *f = *state;
	const char *why;

	assert_int_equal(store(f->db, "t1", DAY1, report_t1, &why), 0);
	assert_int_equal(store(f->db, "t1", DAY1 + 60, report_t2, &why), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM stats_courses"),
			 1);
	assert_int_equal(store(f->db, "t1", DAY2, report_t1, &why), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM stats_courses"),
			 3);
	assert_int_equal(count(f->db, "SELECT reports FROM stats_reports"),
			 3);
}

static double num(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static cJSON *course_of(cJSON *a, const char *id)
{
	cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(a, "courses"))
		if (!strcmp(cJSON_GetObjectItem(c, "id")->valuestring, id))
			return c;
	fail_msg("no course %s", id);
	return NULL;
}

static void test_analytics_sums(void **state)
{
	struct fixture *f = *state;
	cJSON *a, *c1, *months, *dec;
	const char *why;

	assert_int_equal(store(f->db, "t1", DAY1, report_t1, &why), 0);
	assert_int_equal(store(f->db, "t2", DAY1, report_t2, &why), 0);
	a = stats_analytics_json(f->db, NULL, "2026-11", "2026-12");
	assert_non_null(a);
	c1 = course_of(a, "c1");
	assert_int_equal(num(c1, "tenants"), 2);
	assert_int_equal(num(c1, "assigned"), 15);
	assert_int_equal(num(c1, "completed"), 9);
	assert_int_equal(num(c1, "certificates_valid"), 9);
	assert_string_equal(cJSON_GetObjectItem(c1, "title")->valuestring,
			    "Course one");
	assert_int_equal(num(course_of(a, "c2"), "assigned"), 1);
	months = cJSON_GetObjectItem(a, "months");
	assert_int_equal(cJSON_GetArraySize(months), 2);
	assert_int_equal(num(cJSON_GetArrayItem(months, 0),
			     "active_learners"), 3);
	dec = cJSON_GetArrayItem(months, 1);
	assert_string_equal(cJSON_GetObjectItem(dec, "month")->valuestring,
			    "2026-12");
	assert_int_equal(num(dec, "active_learners"), 12);
	assert_int_equal(num(dec, "completions"), 6);
	assert_int_equal(num(dec, "assigned"), 16);
	assert_int_equal(num(dec, "completed"), 9);
	cJSON_Delete(a);

	/* one course; a range before any report */
	a = stats_analytics_json(f->db, "c2", "2026-12", "2026-12");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a,
							     "courses")), 1);
	dec = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "months"), 0);
	assert_int_equal(num(dec, "completions"), 0);
	assert_int_equal(num(dec, "assigned"), 1);
	cJSON_Delete(a);
	a = stats_analytics_json(f->db, NULL, "2025-01", "2025-02");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a,
							     "courses")), 0);
	cJSON_Delete(a);
}

static void test_usage(void **state)
{
	struct fixture *f = *state;
	struct buf csv = { 0 };
	const char *why;
	cJSON *u, *t1;

	assert_int_equal(store(f->db, "t1", DAY1, report_t1, &why), 0);
	u = stats_usage_json(f->db, "2026-12");
	assert_int_equal(cJSON_GetArraySize(u), 2);
	t1 = cJSON_GetArrayItem(u, 0);
	assert_int_equal(num(t1, "active_learners"), 7);
	assert_int_equal(num(t1, "courses_licensed"), 2);
	assert_int_equal(num(t1, "completions"), 4);
	assert_int_equal(num(cJSON_GetArrayItem(u, 1), "active_learners"), 0);
	cJSON_Delete(u);

	/* quotes doubled, a field with a comma quoted, a formula defused */
	assert_int_equal(stats_usage_csv(f->db, "2026-12", &csv), 0);
	assert_string_equal(buf_cstr(&csv),
		"tenant,name,month,active_learners,courses_licensed,"
		"completions\r\n"
		"t1,\"Tenant, \"\"one\"\"\",2026-12,7,2,4\r\n"
		"t2,'=cmd,2026-12,0,1,0\r\n");
	buf_release(&csv);
}

static void head(struct proto_audit_head *h, uint64_t seq, char hex)
{
	memset(h, 0, sizeof(*h));
	h->version = PROTO_VERSION;
	strcpy(h->tenant, "t1");
	h->counter = 1;
	h->seq = seq;
	memset(h->hash, hex, PROTO_HASH_HEX);
	h->hash[PROTO_HASH_HEX] = 0;
	h->time = DAY1;
}

static void test_audit_heads(void **state)
{
	static const uint8_t nonce[PROTO_NONCE_LEN];
	struct fixture *f = *state;
	struct proto_audit_head h;
	cJSON *j;

	j = audithead_json(f->db, "t1");
	assert_true(cJSON_IsNull(j));
	cJSON_Delete(j);

	head(&h, 5, 'a');
	assert_int_equal(audithead_store(f->db, &h, nonce, DAY1), 0);
	assert_int_equal(audithead_store(f->db, &h, nonce, DAY1 + 1), 0);
	head(&h, 9, 'b');
	assert_int_equal(audithead_store(f->db, &h, nonce, DAY1 + 2), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit_heads"), 2);

	/* lower seq, or the same seq with another hash: conflicts */
	head(&h, 7, 'c');
	assert_int_equal(audithead_store(f->db, &h, nonce, DAY1 + 3), 1);
	assert_int_equal(audithead_store(f->db, &h, nonce, DAY1 + 4), 1);
	head(&h, 9, 'd');
	assert_int_equal(audithead_store(f->db, &h, nonce, DAY1 + 5), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit_heads"), 4);

	j = audithead_json(f->db, "t1");
	assert_int_equal(num(j, "seq"), 9);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "conflict")));
	assert_int_equal(num(j, "conflicts"), 2);
	assert_int_equal(cJSON_GetObjectItem(j, "hash")->valuestring[0], 'b');
	cJSON_Delete(j);
	/* the signature and what it covers are kept */
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit_heads"
				      " WHERE length(signature) = 64"
				      " AND length(nonce) = 32"), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_months),
		cmocka_unit_test_setup_teardown(test_store_keeps_figures_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_per_day, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_analytics_sums, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_heads, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
