/*
 * Analytics for the mother: the aggregate figures of this workspace,
 * sent signed over the sync connection (STATS, proto/proto.h) so the
 * training provider sees its courses across tenants, and the head of
 * the audit chain (AUDIT_HEAD), so the mother can tell a rewritten
 * history later.
 *
 * The report holds counts only; no user id, name or email is in it:
 *
 *   {"at": unix seconds,
 *    "courses": [{"id", "assigned", "not_started", "in_progress",
 *                 "completed", "overdue", "expired",
 *                 "certificates_valid", "certificates_expiring"}],
 *    "active_learners": [{"month": "YYYY-MM", "count"}],
 *    "completions": [{"month": "YYYY-MM", "course", "count"}]}
 *
 * "courses" lists every course from the mother (never the tenant's own)
 * with the compliance status of each learner an assignment gives it
 * (workspace/compliance.h: completed counts "completed" and
 * "expiring_soon"), and the learners holding a valid certificate of it
 * (expiring: within COMPLIANCE_EXPIRING_DAYS). A learner is active in a
 * month when they completed a lesson, made a quiz attempt or signed in
 * in it; completions are certificates issued. Months go back
 * ANALYTICS_MONTHS.
 *
 * The runner of serve computes the report on a thread of its own over
 * a connection of its own every ANALYTICS_TICK seconds (environment
 * LMS_ANALYTICS_SECONDS overrides it, for tests) and hands it to the
 * sync client when it differs from the last one handed over (SHA-256 of
 * its figures) or a day has passed; the sync client sends it now or
 * after the next connect. The audit head is handed over at start, once
 * a day and on analytics_runner_push().
 */
#ifndef LMS_WORKSPACE_ANALYTICS_H
#define LMS_WORKSPACE_ANALYTICS_H

#include <sqlite3.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "common/clock.h"

#define ANALYTICS_TICK 60	 /* seconds between reports computed */
#define ANALYTICS_RESEND 86400	 /* an unchanged report, and the audit
				  * head, go out this often */
#define ANALYTICS_MONTHS 12	 /* months of activity reported */

/* The report at now as compact JSON, appended to out. 0 or a negative
 * STORE_E* code. */
int analytics_report(sqlite3 *db, int64_t now, struct buf *out);

struct analytics_runner;
struct sync_client;

/* Starts the runner: a report at once and then every tick, over a
 * connection of its own to data_dir's workspace.db; what changed goes to
 * sync (borrowed, may be NULL to compute only). clock and tenant are
 * borrowed until stopped. */
int analytics_runner_start(uv_loop_t *loop, const char *data_dir,
			   const struct lms_clock *clock, const char *tenant,
			   struct sync_client *sync,
			   struct analytics_runner **out);

/* Runs soon (after a revision was applied, say). */
void analytics_runner_poke(struct analytics_runner *r);

/* Runs soon and hands the audit head over even when unchanged: the
 * "on demand" of an operator (serve does it on SIGUSR1). */
void analytics_runner_push(struct analytics_runner *r);

/* Stops it; a run in flight finishes first; then done(arg) runs on the
 * loop and the runner is freed. */
void analytics_runner_stop(struct analytics_runner *r,
			   void (*done)(void *arg), void *arg);

#endif
