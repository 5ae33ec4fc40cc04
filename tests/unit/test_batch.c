/*
 * Unit tests of workspace/batch.c: writes submitted in one loop round
 * land in one transaction, a failing write undoes only itself, every
 * callback runs once and in order, and writes submitted from a callback
 * go into the next round.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/batch.c"

#include "common/db.h"
#include "common/fs.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	sqlite3 *db;
	uv_loop_t loop;
	struct batch *b;
};

struct job {
	struct fixture *f;
	int value;     /* inserted into t; negative: the write fails */
	int rc;	       /* from done */
	int done;      /* times done ran */
	int order;     /* position among the callbacks */
	struct job *then; /* submitted from done, if not NULL */
};

static int callbacks;

static int setup(void **state)
{
	static const struct db_migration schema[] = {
		{ 1, "CREATE TABLE t (v INTEGER NOT NULL);" },
	};
	struct fixture *f = calloc(1, sizeof(*f));
	char *path;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_batch.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	path = fs_join(f->dir, "t.db");
	assert_int_equal(db_open(path, schema, 1, &f->db), 0);
	free(path);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(batch_create(&f->loop, f->db, &f->b), 0);
	callbacks = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	batch_close(f->b);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	sqlite3_close_v2(f->db);
	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

/* Inserts the job's value, or inserts and then fails for a negative
 * one. */
static int job_write(sqlite3 *db, void *arg)
{
	struct job *j = arg;
	sqlite3_stmt *st;
	int rc;

	assert_int_equal(sqlite3_get_autocommit(db), 0); /* in a txn */
	if (j->value < 0) {
		/* insert first, then fail: the savepoint must undo it */
		sqlite3_exec(db, "INSERT INTO t VALUES (-1)", NULL, NULL,
			     NULL);
		return STORE_EINVAL;
	}
	st = db_prepare(db, "INSERT INTO t VALUES (?1)");
	assert_non_null(st);
	sqlite3_bind_int(st, 1, j->value);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : STORE_EDB;
}

static void job_done(void *arg, int rc)
{
	struct job *j = arg;

	j->rc = rc;
	j->done++;
	j->order = ++callbacks;
	if (j->then)
		assert_int_equal(batch_submit(j->f->b, job_write, job_done,
					      j->then), 0);
}

static int count_rows(sqlite3 *db, const char *where)
{
	char sql[128];
	sqlite3_stmt *st;
	int n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM t WHERE %s", where);
	st = db_prepare(db, sql);
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_failing_write_undoes_only_itself(void **state)
{
	struct fixture *f = *state;
	struct job a = { f, 1, 0, 0, 0, NULL };
	struct job bad = { f, -1, 0, 0, 0, NULL };
	struct job c = { f, 3, 0, 0, 0, NULL };

	assert_int_equal(batch_submit(f->b, job_write, job_done, &a), 0);
	assert_int_equal(batch_submit(f->b, job_write, job_done, &bad), 0);
	assert_int_equal(batch_submit(f->b, job_write, job_done, &c), 0);
	assert_int_equal(a.done, 0); /* never from inside submit */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(a.done, 1);
	assert_int_equal(bad.done, 1);
	assert_int_equal(c.done, 1);
	assert_int_equal(a.rc, 0);
	assert_int_equal(bad.rc, STORE_EINVAL);
	assert_int_equal(c.rc, 0);
	assert_int_equal(a.order, 1);
	assert_int_equal(bad.order, 2);
	assert_int_equal(c.order, 3);
	assert_int_equal(count_rows(f->db, "v = 1"), 1);
	assert_int_equal(count_rows(f->db, "v = 3"), 1);
	assert_int_equal(count_rows(f->db, "v = -1"), 0);
	assert_int_equal(sqlite3_get_autocommit(f->db), 1); /* committed */
}

static void test_one_round_is_one_transaction(void **state)
{
	struct fixture *f = *state;
	struct job jobs[50];
	int before, after;
	sqlite3 *other;
	sqlite3_stmt *st;

	/* PRAGMA data_version of another connection moves once for every
	 * commit made elsewhere */
	assert_int_equal(sqlite3_open(sqlite3_db_filename(f->db, "main"),
				      &other), SQLITE_OK);
	st = db_prepare(other, "PRAGMA data_version");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	before = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	for (int i = 0; i < 50; i++) {
		jobs[i] = (struct job){ f, 100 + i, 0, 0, 0, NULL };
		assert_int_equal(batch_submit(f->b, job_write, job_done,
					      &jobs[i]), 0);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	after = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close_v2(other);
	assert_int_equal(count_rows(f->db, "v >= 100"), 50);
	assert_int_equal(after - before, 1);
}

static void test_submit_from_callback_runs_next_round(void **state)
{
	struct fixture *f = *state;
	struct job second = { f, 2, 0, 0, 0, NULL };
	struct job first = { f, 1, 0, 0, 0, &second };

	assert_int_equal(batch_submit(f->b, job_write, job_done, &first), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(first.done, 1);
	assert_int_equal(second.done, 1);
	assert_int_equal(second.rc, 0);
	assert_int_equal(count_rows(f->db, "v IN (1, 2)"), 2);
}

static void test_close_flushes_the_queue(void **state)
{
	struct fixture *f = *state;
	struct job a = { f, 7, 0, 0, 0, NULL };

	assert_int_equal(batch_submit(f->b, job_write, job_done, &a), 0);
	batch_close(f->b);
	f->b = NULL;
	assert_int_equal(a.done, 1);
	assert_int_equal(a.rc, 0);
	assert_int_equal(count_rows(f->db, "v = 7"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_failing_write_undoes_only_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_one_round_is_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_submit_from_callback_runs_next_round, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_close_flushes_the_queue,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
