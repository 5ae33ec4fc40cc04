/*
 * Group commit of small writes (see batch.h).
 *
 * Submitted writes wait in a FIFO list. Submitting starts a check handle
 * (run after the loop's I/O phase) and an idle handle (which keeps the
 * next poll from sleeping), so the list is flushed once per loop round:
 * BEGIN IMMEDIATE, each write in a savepoint, COMMIT, then the callbacks
 * in submission order. The loop waits for the flush; with synchronous=
 * FULL that is one fsync for the whole round.
 */
#include "workspace/batch.h"

#include "common/db.h"
#include "common/log.h"
#include "workspace/store.h"

#include <stdlib.h>

struct batch_item {
	struct batch_item *next;
	batch_write_fn write;
	batch_done_fn done;
	void *arg;
	int rc;
};

/* The statements of a flush, prepared once. */
enum batch_stmt {
	BATCH_BEGIN,
	BATCH_SAVEPOINT,
	BATCH_ROLLBACK_TO,
	BATCH_RELEASE,
	BATCH_COMMIT,
	BATCH_NSTMT,
};

static const char *const batch_sql[BATCH_NSTMT] = {
	[BATCH_BEGIN] = "BEGIN IMMEDIATE",
	[BATCH_SAVEPOINT] = "SAVEPOINT batch_write",
	[BATCH_ROLLBACK_TO] = "ROLLBACK TO batch_write",
	[BATCH_RELEASE] = "RELEASE batch_write",
	[BATCH_COMMIT] = "COMMIT",
};

struct batch {
	uv_check_t check;
	uv_idle_t idle;
	sqlite3 *db;
	sqlite3_stmt *st[BATCH_NSTMT];
	struct batch_item *head, *tail;
	int handles_open; /* 2 until both are closed */
};

/* Runs statement i; SQLITE_OK or SQLite's error (logged). */
static int batch_exec(struct batch *b, enum batch_stmt i)
{
	int rc;

	if (!b->st[i] &&
	    sqlite3_prepare_v3(b->db, batch_sql[i], -1,
			       SQLITE_PREPARE_PERSISTENT, &b->st[i], NULL)
		    != SQLITE_OK) {
		log_error("msg=\"cannot prepare\" sql=\"%s\" error=\"%s\"",
			  batch_sql[i], sqlite3_errmsg(b->db));
		return SQLITE_ERROR;
	}
	rc = sqlite3_step(b->st[i]);
	sqlite3_reset(b->st[i]);
	if (rc == SQLITE_DONE)
		return SQLITE_OK;
	log_error("msg=\"group commit step failed\" sql=\"%s\" "
		  "error=\"%s\"", batch_sql[i], sqlite3_errmsg(b->db));
	return rc;
}

/* Runs one write inside its own savepoint. */
static int batch_run_one(struct batch *b, struct batch_item *it)
{
	int rc;

	if (batch_exec(b, BATCH_SAVEPOINT))
		return STORE_EDB;
	rc = it->write(b->db, it->arg);
	if (rc)
		batch_exec(b, BATCH_ROLLBACK_TO);
	batch_exec(b, BATCH_RELEASE);
	return rc;
}

/* Runs the writes of list in one transaction; sets each item's rc. */
static void batch_run(struct batch *b, struct batch_item *list)
{
	struct batch_item *it;
	int failed = batch_exec(b, BATCH_BEGIN) != SQLITE_OK;

	for (it = list; it; it = it->next)
		it->rc = failed ? STORE_EDB : batch_run_one(b, it);
	if (failed)
		return;
	if (batch_exec(b, BATCH_COMMIT) != SQLITE_OK) {
		db_rollback(b->db);
		for (it = list; it; it = it->next)
			it->rc = STORE_EDB;
	}
}

/* Takes the whole queue, writes it, and calls back in order. */
static void batch_flush(struct batch *b)
{
	struct batch_item *list = b->head, *next;

	b->head = b->tail = NULL;
	if (!list)
		return;
	batch_run(b, list);
	for (; list; list = next) {
		next = list->next;
		list->done(list->arg, list->rc);
		free(list);
	}
}

static void batch_on_check(uv_check_t *h)
{
	struct batch *b = h->data;

	batch_flush(b);
	if (!b->head) {
		uv_check_stop(&b->check);
		uv_idle_stop(&b->idle);
	}
}

static void batch_on_idle(uv_idle_t *h)
{
	(void)h; /* only keeps the poll phase from blocking */
}

int batch_create(uv_loop_t *loop, sqlite3 *db, struct batch **out)
{
	struct batch *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b)
		return STORE_ENOMEM;
	b->db = db;
	uv_check_init(loop, &b->check);
	uv_idle_init(loop, &b->idle);
	b->check.data = b;
	b->idle.data = b;
	b->handles_open = 2;
	*out = b;
	return 0;
}

int batch_submit(struct batch *b, batch_write_fn write, batch_done_fn done,
		 void *arg)
{
	struct batch_item *it = calloc(1, sizeof(*it));

	if (!it)
		return STORE_ENOMEM;
	it->write = write;
	it->done = done;
	it->arg = arg;
	if (b->tail)
		b->tail->next = it;
	else
		b->head = it;
	b->tail = it;
	uv_check_start(&b->check, batch_on_check);
	uv_idle_start(&b->idle, batch_on_idle);
	return 0;
}

static void batch_on_close(uv_handle_t *h)
{
	struct batch *b = h->data;

	if (--b->handles_open > 0)
		return;
	for (int i = 0; i < BATCH_NSTMT; i++)
		sqlite3_finalize(b->st[i]);
	free(b);
}

void batch_close(struct batch *b)
{
	if (!b)
		return;
	batch_flush(b);
	uv_close((uv_handle_t *)&b->check, batch_on_close);
	uv_close((uv_handle_t *)&b->idle, batch_on_close);
}
