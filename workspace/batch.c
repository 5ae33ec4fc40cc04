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

struct batch {
	uv_check_t check;
	uv_idle_t idle;
	sqlite3 *db;
	struct batch_item *head, *tail;
	int handles_open; /* 2 until both are closed */
};

/* Runs one write inside its own savepoint. */
static int batch_run_one(sqlite3 *db, struct batch_item *it)
{
	int rc;

	if (sqlite3_exec(db, "SAVEPOINT batch_write", NULL, NULL, NULL)
	    != SQLITE_OK) {
		log_error("msg=\"savepoint failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
		return STORE_EDB;
	}
	rc = it->write(db, it->arg);
	if (rc)
		sqlite3_exec(db, "ROLLBACK TO batch_write", NULL, NULL, NULL);
	sqlite3_exec(db, "RELEASE batch_write", NULL, NULL, NULL);
	return rc;
}

/* Runs the writes of list in one transaction; sets each item's rc. */
static void batch_run(sqlite3 *db, struct batch_item *list)
{
	struct batch_item *it;
	int failed = db_begin(db);

	for (it = list; it; it = it->next)
		it->rc = failed ? STORE_EDB : batch_run_one(db, it);
	if (failed)
		return;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_error("msg=\"group commit failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
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
	batch_run(b->db, list);
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

	if (--b->handles_open == 0)
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
