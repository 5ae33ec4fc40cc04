/*
 * Group commit of small writes on the loop's database connection.
 *
 * A handler that must answer only after its write is durable submits the
 * write here instead of running its own transaction. Every write
 * submitted while the loop reads one round of requests is run in one
 * transaction after that round (in the loop's check phase), each inside
 * its own savepoint so a failing write undoes only itself; then one
 * COMMIT, one fsync, and each submitter's done callback with its result.
 * Many learners saving progress at once so cost one disk flush, not one
 * each.
 */
#ifndef LMS_WORKSPACE_BATCH_H
#define LMS_WORKSPACE_BATCH_H

#include <sqlite3.h>
#include <uv.h>

struct batch;

/* Runs inside the shared transaction; returns 0 or a negative STORE_*
 * code (the write's savepoint is then rolled back). */
typedef int (*batch_write_fn)(sqlite3 *db, void *arg);

/* Runs on the loop once the transaction is committed (rc 0 when the
 * write succeeded and is durable), or failed (rc of the write, or
 * STORE_EDB when the commit failed). */
typedef void (*batch_done_fn)(void *arg, int rc);

/* A batcher writing through db (borrowed, the loop's connection). */
int batch_create(uv_loop_t *loop, sqlite3 *db, struct batch **out);

/* Queues a write; done is called exactly once, never from inside this
 * call. Returns STORE_ENOMEM (and calls nothing) when out of memory. */
int batch_submit(struct batch *b, batch_write_fn write, batch_done_fn done,
		 void *arg);

/* Runs the queued writes now (as the check phase would) and closes the
 * batcher; the memory is freed once libuv has closed its handle. */
void batch_close(struct batch *b);

#endif
