/*
 * Unit tests for common/db: migrations applied in order and only once,
 * PRAGMA user_version kept in step, a failing migration rolled back whole,
 * and the settings every database is opened with (WAL, foreign keys,
 * synchronous=FULL, a busy timeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/db.h"
#include "common/fs.h"

/* Each migration records itself in the table applied, so the order and
 * the number of runs can be read back. */
static const struct db_migration schema[] = {
	{ 1, "CREATE TABLE applied(version INTEGER NOT NULL);"
	     "INSERT INTO applied VALUES (1);"
	     "CREATE TABLE tenant(id TEXT PRIMARY KEY);" },
	{ 2, "INSERT INTO applied VALUES (2);"
	     "CREATE TABLE course(id TEXT PRIMARY KEY,"
	     " tenant TEXT NOT NULL REFERENCES tenant(id));" },
	{ 3, "INSERT INTO applied VALUES (3);"
	     "ALTER TABLE course ADD COLUMN title TEXT;" },
};

struct db_test {
	char *dir;
	char *path;
};

static int setup_db(void **state)
{
	char tmpl[] = "/tmp/lms-test-db-XXXXXX";
	struct db_test *t = calloc(1, sizeof(*t));

	if (!t || !mkdtemp(tmpl))
		return -1;
	t->dir = strdup(tmpl);
	t->path = fs_join(tmpl, "test.db");
	*state = t;
	return t->dir && t->path ? 0 : -1;
}

static int teardown_db(void **state)
{
	struct db_test *t = *state;
	int rc = fs_remove_tree(t->dir);

	free(t->path);
	free(t->dir);
	free(t);
	return rc;
}

/* The integer result of a one-row query. */
static int query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int v;

	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The applied versions in insertion order, as "1,2,3". */
static void applied_list(sqlite3 *db, char *out, size_t cap)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT version FROM applied "
					  "ORDER BY rowid");
	size_t n = 0;

	assert_non_null(st);
	out[0] = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		n += (size_t)snprintf(out + n, cap - n, "%s%d", n ? "," : "",
				      sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM sqlite_master"
					  " WHERE type='table' AND name=?");
	int n;

	assert_non_null(st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_migrations_in_order(void **state)
{
	struct db_test *t = *state;
	sqlite3 *db = NULL;
	char list[64];

	assert_int_equal(db_open(t->path, schema, 3, &db), 0);
	assert_non_null(db);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 3);
	applied_list(db, list, sizeof(list));
	assert_string_equal(list, "1,2,3");
	assert_int_equal(db_exec(db, "INSERT INTO tenant VALUES ('acme');"
				     "INSERT INTO course VALUES "
				     "('intro', 'acme', 'Intro');"), 0);
	sqlite3_close_v2(db);
}

static void test_reopen_applies_only_new(void **state)
{
	struct db_test *t = *state;
	sqlite3 *db = NULL;
	char list[64];

	assert_int_equal(db_open(t->path, schema, 1, &db), 0);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(db_exec(db, "INSERT INTO tenant VALUES ('acme')"), 0);
	sqlite3_close_v2(db);

	/* Migration 1 would fail if run again (its table exists). */
	assert_int_equal(db_open(t->path, schema, 3, &db), 0);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 3);
	applied_list(db, list, sizeof(list));
	assert_string_equal(list, "1,2,3");
	assert_int_equal(query_int(db, "SELECT count(*) FROM tenant"), 1);
	sqlite3_close_v2(db);

	/* Nothing new: nothing runs. */
	assert_int_equal(db_open(t->path, schema, 3, &db), 0);
	applied_list(db, list, sizeof(list));
	assert_string_equal(list, "1,2,3");
	sqlite3_close_v2(db);

	/* An older program with fewer migrations leaves the schema alone. */
	assert_int_equal(db_open(t->path, schema, 2, &db), 0);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 3);
	sqlite3_close_v2(db);
}

static void test_failing_migration_rolls_back(void **state)
{
	static const struct db_migration broken[] = {
		{ 1, "CREATE TABLE applied(version INTEGER NOT NULL);"
		     "INSERT INTO applied VALUES (1);" },
		{ 2, "INSERT INTO applied VALUES (2);"
		     "CREATE TABLE half(x);"
		     "INSERT INTO half VALUES (1);"
		     "INSERT INTO no_such_table VALUES (1);" },
		{ 3, "INSERT INTO applied VALUES (3);" },
	};
	static const struct db_migration fixed[] = {
		{ 1, "CREATE TABLE applied(version INTEGER NOT NULL);" },
		{ 2, "INSERT INTO applied VALUES (2);"
		     "CREATE TABLE half(x);" },
		{ 3, "INSERT INTO applied VALUES (3);" },
	};
	struct db_test *t = *state;
	sqlite3 *db = NULL;
	char list[64];

	db = (sqlite3 *)1;
	assert_int_equal(db_open(t->path, broken, 3, &db), -1);
	assert_null(db);

	/* Open without migrations to look: version 1 and nothing of 2 or 3. */
	assert_int_equal(db_open(t->path, NULL, 0, &db), 0);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 1);
	applied_list(db, list, sizeof(list));
	assert_string_equal(list, "1");
	assert_int_equal(table_exists(db, "applied"), 1);
	assert_int_equal(table_exists(db, "half"), 0);
	sqlite3_close_v2(db);

	/* Fixed, migrations 2 and 3 go through on the next start. */
	assert_int_equal(db_open(t->path, fixed, 3, &db), 0);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 3);
	applied_list(db, list, sizeof(list));
	assert_string_equal(list, "1,2,3");
	assert_int_equal(query_int(db, "SELECT count(*) FROM half"), 0);
	sqlite3_close_v2(db);
}

static void test_failing_first_migration(void **state)
{
	static const struct db_migration broken[] = {
		{ 1, "CREATE TABLE a(x); SELECT * FROM missing;" },
	};
	struct db_test *t = *state;
	sqlite3 *db = NULL;

	assert_int_equal(db_open(t->path, broken, 1, &db), -1);
	assert_int_equal(db_open(t->path, NULL, 0, &db), 0);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 0);
	assert_int_equal(table_exists(db, "a"), 0);
	sqlite3_close_v2(db);
}

static void test_settings(void **state)
{
	struct db_test *t = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *st;

	assert_int_equal(db_open(t->path, schema, 3, &db), 0);
	st = db_prepare(db, "PRAGMA journal_mode");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "wal");
	sqlite3_finalize(st);

	assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(db, "PRAGMA synchronous"), 2); /* FULL */
	assert_true(query_int(db, "PRAGMA busy_timeout") > 0);

	/* Foreign keys are enforced, not only switched on. */
	assert_int_equal(db_exec(db, "INSERT INTO course VALUES "
				     "('intro', 'nobody', NULL)"), -1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM course"), 0);
	sqlite3_close_v2(db);
}

static void test_open_bad_path(void **state)
{
	struct db_test *t = *state;
	char *path = fs_join(t->dir, "no/such/dir/x.db");
	sqlite3 *db = (sqlite3 *)1;

	assert_int_equal(db_open(path, schema, 3, &db), -1);
	assert_null(db);
	free(path);
}

static void test_helpers(void **state)
{
	struct db_test *t = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *st;

	assert_int_equal(db_open(t->path, schema, 3, &db), 0);
	assert_int_equal(db_exec(db, "INSERT INTO tenant VALUES ('acme')"), 0);
	assert_int_equal(db_exec(db, "this is not sql"), -1);
	assert_null(db_prepare(db, "SELECT FROM WHERE"));

	/* db_text gives "" for NULL and the text otherwise. */
	assert_int_equal(db_exec(db, "INSERT INTO course VALUES "
				     "('intro', 'acme', NULL),"
				     "('safety', 'acme', 'Safety')"), 0);
	st = db_prepare(db, "SELECT id, title FROM course ORDER BY id");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "intro");
	assert_string_equal(db_text(st, 1), "");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 1), "Safety");
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);

	/* A rolled-back transaction leaves nothing; a committed one stays. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_exec(db, "INSERT INTO tenant VALUES ('gone')"), 0);
	db_rollback(db);
	assert_int_equal(query_int(db, "SELECT count(*) FROM tenant"), 1);
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_exec(db, "INSERT INTO tenant VALUES ('kept')"), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM tenant"), 2);

	/* Rolling back outside a transaction is harmless; committing is an
	 * error. */
	db_rollback(db);
	assert_int_equal(db_commit(db), -1);
	sqlite3_close_v2(db);

	/* The committed row is on disk for the next opener. */
	assert_int_equal(db_open(t->path, schema, 3, &db), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM tenant "
				       "WHERE id='kept'"), 1);
	sqlite3_close_v2(db);
}

#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, setup_db, teardown_db)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DB_TEST(test_migrations_in_order),
		DB_TEST(test_reopen_applies_only_new),
		DB_TEST(test_failing_migration_rolls_back),
		DB_TEST(test_failing_first_migration),
		DB_TEST(test_settings),
		DB_TEST(test_open_bad_path),
		DB_TEST(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
