/*
 * Unit tests of the workspace store (workspace/store.c): the schema, the
 * settings, course rows, and applying mother events exactly once. The
 * store is compiled into this test directly, as the unit build links
 * only the shared libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/store.c"

#include "common/fs.h"

#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REV_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define REV_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define REV_C "cccccccccccccccccccccccccccccccccccccccc"

static struct store_event event(uint64_t seq, const char *course,
				const char *prev, const char *next,
				const char *title)
{
	struct store_event e = {
		.seq = seq,
		.course = course,
		.prev_rev = prev,
		.new_rev = next,
		.title = title,
		.duration_minutes = 45,
		.event_time = 1800000000,
		.applied_at = 1800000100,
	};
	return e;
}

static uint64_t applied(sqlite3 *db)
{
	uint64_t seq = 999;

	assert_int_equal(store_applied_seq(db, &seq), 0);
	return seq;
}

static int64_t count_rows(sqlite3 *db, const char *table)
{
	char sql[128];
	sqlite3_stmt *st;
	int64_t n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Checks the course row's origin, revision and title. */
static void assert_course(sqlite3 *db, const char *id,
			  enum store_origin origin, const char *rev,
			  const char *title)
{
	struct store_course c;

	assert_int_equal(store_course_get(db, id, &c), 0);
	assert_string_equal(c.id, id);
	assert_int_equal(c.origin, origin);
	assert_string_equal(c.revision, rev);
	assert_string_equal(c.title, title);
	store_course_release(&c);
}

static void test_new_database_is_empty(void **state)
{
	struct ws_fixture *f = *state;
	struct store_course *list;
	struct store_course c;
	size_t n;

	assert_int_equal(applied(f->db), 0);
	assert_int_equal(store_course_list(f->db, &list, &n), 0);
	assert_int_equal(n, 0);
	assert_null(list);
	assert_int_equal(store_course_get(f->db, "nope", &c),
			 STORE_ENOTFOUND);
}

static void test_reopen_keeps_data_and_schema(void **state)
{
	struct ws_fixture *f = *state;
	struct store_event e = event(1, "hygiene", "", REV_A, "Hygiene");
	sqlite3_stmt *st;

	assert_int_equal(store_apply_event(f->db, &e), 0);
	sqlite3_close_v2(f->db);
	assert_int_equal(store_open(f->path, &f->db), 0);

	assert_int_equal(applied(f->db), 1);
	assert_course(f->db, "hygiene", STORE_ORIGIN_MOTHER, REV_A,
		      "Hygiene");
	assert_int_equal(sqlite3_prepare_v2(f->db, "PRAGMA user_version", -1,
					    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0),
			 sizeof(store_migrations) /
				 sizeof(store_migrations[0]));
	sqlite3_finalize(st);
}

static void test_settings_round_trip(void **state)
{
	struct ws_fixture *f = *state;
	struct store_settings in = { 0 }, out;
	char small[4];

	assert_int_equal(store_settings_load(f->db, &out), STORE_ENOTFOUND);
	strcpy(in.tenant, "sonnenhof");
	strcpy(in.mother, "127.0.0.1:8601");
	memset(in.mother_key, 'a', 64);
	strcpy(in.listen, "127.0.0.1:8610");
	assert_int_equal(store_settings_save(f->db, &in), 0);
	assert_int_equal(store_settings_load(f->db, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	assert_int_equal(store_setting_set(f->db, "listen", "0.0.0.0:1"), 0);
	assert_int_equal(store_settings_load(f->db, &out), 0);
	assert_string_equal(out.listen, "0.0.0.0:1");
	assert_int_equal(store_setting_get(f->db, "tenant", small,
					   sizeof(small)), STORE_EINVAL);
}

static void test_apply_first_event(void **state)
{
	struct ws_fixture *f = *state;
	struct store_event e = event(1, "hygiene", "", REV_A, "Hygiene");
	struct store_course c;

	assert_int_equal(store_apply_event(f->db, &e), 0);
	assert_int_equal(applied(f->db), 1);
	assert_int_equal(store_course_get(f->db, "hygiene", &c), 0);
	assert_int_equal(c.origin, STORE_ORIGIN_MOTHER);
	assert_string_equal(c.revision, REV_A);
	assert_string_equal(c.title, "Hygiene");
	assert_int_equal(c.duration_minutes, 45);
	assert_int_equal(c.published_at, 1800000000);
	assert_int_equal(c.updated_at, 1800000100);
	store_course_release(&c);
	assert_int_equal(count_rows(f->db, "sync_log"), 1);
}

static void test_repeated_event_changes_nothing(void **state)
{
	struct ws_fixture *f = *state;
	struct store_event e1 = event(1, "hygiene", "", REV_A, "Hygiene");
	struct store_event e2 = event(2, "hygiene", REV_A, REV_B, "Hyg 2");

	assert_int_equal(store_apply_event(f->db, &e1), 0);
	assert_int_equal(store_apply_event(f->db, &e2), 0);
	assert_int_equal(store_apply_event(f->db, &e2), STORE_ESEQ);
	assert_int_equal(store_apply_event(f->db, &e1), STORE_ESEQ);

	assert_int_equal(applied(f->db), 2);
	assert_course(f->db, "hygiene", STORE_ORIGIN_MOTHER, REV_B, "Hyg 2");
	assert_int_equal(count_rows(f->db, "sync_log"), 2);
}

static void test_gap_is_refused(void **state)
{
	struct ws_fixture *f = *state;
	struct store_event e = event(2, "hygiene", "", REV_A, "Hygiene");
	struct store_course c;

	assert_int_equal(store_apply_event(f->db, &e), STORE_ESEQ);
	assert_int_equal(applied(f->db), 0);
	assert_int_equal(store_course_get(f->db, "hygiene", &c),
			 STORE_ENOTFOUND);
	assert_int_equal(count_rows(f->db, "sync_log"), 0);
}

static void test_wrong_start_revision_is_refused(void **state)
{
	struct ws_fixture *f = *state;
	struct store_event e1 = event(1, "hygiene", "", REV_A, "Hygiene");
	struct store_event stale = event(2, "hygiene", REV_C, REV_B, "X");
	struct store_event fresh = event(2, "hygiene", "", REV_B, "X");
	struct store_event other = event(2, "fire", REV_A, REV_B, "X");

	assert_int_equal(store_apply_event(f->db, &e1), 0);
	assert_int_equal(store_apply_event(f->db, &stale), STORE_EREVISION);
	assert_int_equal(store_apply_event(f->db, &fresh), STORE_EREVISION);
	assert_int_equal(store_apply_event(f->db, &other), STORE_EREVISION);

	/* the failed attempts rolled back the seq they had advanced */
	assert_int_equal(applied(f->db), 1);
	assert_course(f->db, "hygiene", STORE_ORIGIN_MOTHER, REV_A,
		      "Hygiene");
	assert_int_equal(count_rows(f->db, "sync_log"), 1);
}

static void test_invalid_event_values(void **state)
{
	struct ws_fixture *f = *state;
	struct store_event bad_rev = event(1, "hygiene", "", "abc", "X");
	struct store_event bad_id = event(1, "Hygiene!", "", REV_A, "X");
	struct store_event zero = event(0, "hygiene", "", REV_A, "X");

	assert_int_equal(store_apply_event(f->db, &bad_rev), STORE_EINVAL);
	assert_int_equal(store_apply_event(f->db, &bad_id), STORE_EINVAL);
	assert_int_equal(store_apply_event(f->db, &zero), STORE_EINVAL);
	assert_int_equal(applied(f->db), 0);
}

static struct store_course local_course(const char *id, const char *rev,
					const char *title)
{
	struct store_course c = { 0 };

	strcpy(c.id, id);
	strcpy(c.revision, rev);
	c.title = (char *)title;
	c.origin = STORE_ORIGIN_MOTHER; /* ignored: always local */
	c.published_at = 1;
	c.updated_at = 2;
	return c;
}

static void test_local_publish_and_origins(void **state)
{
	struct ws_fixture *f = *state;
	struct store_course l1 = local_course("onboarding", REV_A, "On");
	struct store_course l2 = local_course("onboarding", REV_B, "On 2");
	struct store_course clash = local_course("hygiene", REV_C, "Mine");
	struct store_event e = event(1, "hygiene", "", REV_A, "Hygiene");
	struct store_event steal = event(2, "onboarding", REV_B, REV_C, "X");

	assert_int_equal(store_publish_local(f->db, &l1, ""), 0);
	assert_course(f->db, "onboarding", STORE_ORIGIN_LOCAL, REV_A, "On");
	assert_int_equal(store_publish_local(f->db, &l2, ""),
			 STORE_EREVISION);
	assert_int_equal(store_publish_local(f->db, &l2, REV_A), 0);
	assert_course(f->db, "onboarding", STORE_ORIGIN_LOCAL, REV_B, "On 2");

	/* one id, one origin: neither side may take the other's */
	assert_int_equal(store_apply_event(f->db, &e), 0);
	assert_int_equal(store_publish_local(f->db, &clash, REV_A),
			 STORE_EORIGIN);
	assert_int_equal(store_apply_event(f->db, &steal), STORE_EORIGIN);
	assert_int_equal(applied(f->db), 1);
	assert_course(f->db, "onboarding", STORE_ORIGIN_LOCAL, REV_B, "On 2");
	assert_course(f->db, "hygiene", STORE_ORIGIN_MOTHER, REV_A,
		      "Hygiene");
}

static void test_list_is_sorted_by_id(void **state)
{
	struct ws_fixture *f = *state;
	struct store_course z = local_course("zebra", REV_A, "Z");
	struct store_course a = local_course("alpha", REV_B, "A");
	struct store_event e = event(1, "middle", "", REV_C, "M");
	struct store_course *list;
	size_t n;

	assert_int_equal(store_publish_local(f->db, &z, ""), 0);
	assert_int_equal(store_apply_event(f->db, &e), 0);
	assert_int_equal(store_publish_local(f->db, &a, ""), 0);
	assert_int_equal(store_course_list(f->db, &list, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].id, "alpha");
	assert_string_equal(list[1].id, "middle");
	assert_int_equal(list[1].origin, STORE_ORIGIN_MOTHER);
	assert_string_equal(list[2].id, "zebra");
	assert_int_equal(list[2].origin, STORE_ORIGIN_LOCAL);
	assert_string_equal(list[2].title, "Z");
	store_course_list_free(list, n);
}

static void test_second_connection_sees_commits(void **state)
{
	struct ws_fixture *f = *state;
	struct store_event e = event(1, "hygiene", "", REV_A, "Hygiene");
	sqlite3 *other;

	assert_int_equal(store_open(f->path, &other), 0);
	assert_int_equal(store_apply_event(other, &e), 0);
	assert_int_equal(applied(f->db), 1);
	assert_course(f->db, "hygiene", STORE_ORIGIN_MOTHER, REV_A,
		      "Hygiene");
	/* the reader's stale view cannot apply the same seq again */
	assert_int_equal(store_apply_event(f->db, &e), STORE_ESEQ);
	sqlite3_close_v2(other);
}

static void test_strerror_names_every_code(void **state)
{
	(void)state;
	for (int code = STORE_OK; code >= STORE_EINVAL; code--)
		assert_string_not_equal(store_strerror(code),
					"unknown error");
	assert_string_equal(store_strerror(-100), "unknown error");
	assert_string_equal(store_origin_name(STORE_ORIGIN_LOCAL), "local");
	assert_string_equal(store_origin_name(STORE_ORIGIN_MOTHER), "mother");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_database_is_empty,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(
			test_reopen_keeps_data_and_schema, ws_setup,
			ws_teardown),
		cmocka_unit_test_setup_teardown(test_settings_round_trip,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_apply_first_event,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(
			test_repeated_event_changes_nothing, ws_setup,
			ws_teardown),
		cmocka_unit_test_setup_teardown(test_gap_is_refused, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(
			test_wrong_start_revision_is_refused, ws_setup,
			ws_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_event_values,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_local_publish_and_origins,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_list_is_sorted_by_id,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(
			test_second_connection_sees_commits, ws_setup,
			ws_teardown),
		cmocka_unit_test_setup_teardown(test_strerror_names_every_code,
						ws_setup, ws_teardown),
	};

	log_init("test_workspace_store", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
