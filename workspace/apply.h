/*
 * Applying one verified mother event to the workspace: index its pack
 * into content.git, check the revision it brings, record it in
 * workspace.db, then move the course's ref.
 *
 * The sync client has already checked, on the loop, everything the event
 * carries by itself (signature, tenant, sequence number, expiry, pack
 * hash). What needs the repository or the database runs here, on the
 * libuv thread pool:
 *
 *   1. the course is not a local one and is held at ev.prev_rev
 *      ("" when not held): no rollback, no fork;
 *   2. the pack indexes into content.git and new_rev is a commit there;
 *   3. new_rev strictly descends from prev_rev;
 *   4. the tree of new_rev is a valid course whose id is ev.course;
 *   5. one transaction: applied seq still seq - 1, course upserted,
 *      applied seq = seq, a sync log row (the commit point);
 *   6. refs/courses/<id> moves to new_rev.
 *
 * A crash before 5 leaves unreferenced objects, which are harmless; a
 * crash between 5 and 6 is repaired by apply_reconcile() at the next
 * start. The loop never touches the apply context while a job runs, and
 * at most one job runs at a time.
 */
#ifndef LMS_WORKSPACE_APPLY_H
#define LMS_WORKSPACE_APPLY_H

#include <git2.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto/proto.h"
#include "workspace/store.h"

#define APPLY_REPO_DIR "content.git"

/* The repository and the database connection that applying uses; owned
 * by whoever runs the jobs, used by one job at a time. */
struct apply_ctx {
	sqlite3 *db;
	git_repository *repo;
};

/* Opens workspace.db (a connection of its own) and content.git in the
 * data directory. Release with apply_close(). */
int apply_open(struct apply_ctx *a, const char *data_dir);
void apply_close(struct apply_ctx *a);

/* The ref a course lives on: refs/courses/<id> for a mother course,
 * refs/local/<id> for a local one. -1 when out is too small. */
int apply_ref_name(enum store_origin origin, const char *id, char *out,
		   size_t cap);

/* Points every course's ref at the revision the database holds, so the
 * repository follows the database after a crash, and removes the
 * temporary files of packs whose indexing a crash interrupted. Call
 * before the first job, with no other process applying events. Returns
 * 0, or -1 if some ref could not be set (logged). */
int apply_reconcile(struct apply_ctx *a);

enum apply_result {
	APPLY_DONE,    /* recorded; ack it */
	APPLY_REFUSED, /* the event is not acceptable; reason says why */
	APPLY_FAILED,  /* a local error (disk, database); try again later */
};

struct apply_job {
	/* input, filled by apply_job_new */
	struct apply_ctx *ctx;
	struct proto_event ev;
	uint8_t *pack; /* a copy, owned by the job */
	size_t pack_len;
	int64_t now;

	/* output, valid in the done callback */
	enum apply_result result;
	char reason[256];

	/* the caller's */
	void (*done)(struct apply_job *job);
	void *data;
	uv_work_t work;
};

/* A job for ev, copying pack. now is the time to record. Free it with
 * apply_job_free(). NULL when out of memory. */
struct apply_job *apply_job_new(struct apply_ctx *ctx,
				const struct proto_event *ev,
				const uint8_t *pack, size_t pack_len,
				int64_t now);
void apply_job_free(struct apply_job *job);

/* Runs the job on the loop's thread pool; done runs on the loop
 * afterwards (always, also when the loop is closing). 0 or a negative
 * libuv code, then done never runs. */
int apply_start(uv_loop_t *loop, struct apply_job *job,
		void (*done)(struct apply_job *job));

/* The same steps, synchronously on the calling thread. */
void apply_run(struct apply_job *job);

/*
 * Versions: every revision of a course the workspace has held, numbered
 * from 1 in the order it took them (course_versions), and for each the
 * lessons whose file got a new blob (lesson_versions), with retrain set
 * when the revision requires learners to do those lessons again: a
 * commit since the previous version has the trailer "Retrain: yes" (key
 * in any case), or course.json says "retrain_on": "any". The first
 * version lists every lesson and retrains nothing.
 *
 * Records the versions of course up to the revision its row holds, in
 * one transaction: for a mother course the revisions of its events in
 * sync_log, for a local one the publishes in its first-parent history
 * (at most the last 100 either way), or only the held revision when
 * neither leads to it. Idempotent and safe against another connection
 * doing the same. Called after an event is applied, after a local
 * publish, at start for every course, and when a course is read with its
 * versions missing (after a crash). 0 or a STORE_E* code (logged).
 */
int apply_record_versions(sqlite3 *db, git_repository *repo,
			  const char *course);

#endif
