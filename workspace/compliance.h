/*
 * Compliance: mandatory training that renews itself. For each learner
 * and each course an assignment gives them, this module knows the
 * current round (when it is due), whether it is done (a certificate
 * issued in it), the status an auditor asks for, and it does by itself
 * what a person would otherwise have to remember:
 *
 *   - a recurring assignment opens the next round in time: with
 *     "recur_months": N it opens N months after each completion; with
 *     "recur_on_expiry" COMPLIANCE_LEAD_DAYS before the certificate runs
 *     out. The round is due when the certificate expires (or
 *     COMPLIANCE_ROUND_DAYS after it opens when none expires), and the
 *     learner's progress starts again from zero;
 *   - a revision that requires retraining (DESIGN.md section 5) makes
 *     the certificates issued before it need renewal and opens a round
 *     due COMPLIANCE_ROUND_DAYS later; the retrained lessons alone are
 *     done again (workspace/learn.h);
 *   - reminders follow the tenant's schedule (settings.h,
 *     "reminders.schedule"): before and on the due date to the learner,
 *     after it to the learner and in copy to their managers (the
 *     managers of a group the learner is in, or of a group above it),
 *     and before a certificate expires. Each reminder is decided once
 *     (a row of the reminders table) and queued in the outbox in the
 *     same transaction (workspace/mail.h); a manager's copies are
 *     mailed together at the end of the run, one mail per manager
 *     (workspace/digest.h); when several entries of the
 *     schedule have passed (the workspace was stopped, an assignment
 *     came late), only the latest is sent.
 *
 * The status of a learner's course is one of not_started, in_progress,
 * completed (a valid certificate of this round), expiring_soon (it
 * expires within COMPLIANCE_EXPIRING_DAYS), expired and overdue (past
 * the due date of a round not done).
 *
 *   GET /api/v1/compliance[?user=ID][&course=ID][&status=S]
 *       admins: everyone's; managers: the people in their scope;
 *       learners: their own. [{"user", "name", "email", "course",
 *       "title", "status", "due", "round": {"reason": "assigned",
 *       "recur" or "retrain", "opened", "due"}, "certificate": {"id",
 *       "number", "issued", "expires", "renewal_required"} or null,
 *       "reminders": [{"entry", "role", "to", "queued", "sent"}]}] by
 *       user and course; "reminders" only with ?user=.
 *
 * Schema: workspace/compliance_schema.h (migration 11). Functions
 * return 0 or a negative STORE_E* code (workspace/store.h).
 */
#ifndef LMS_WORKSPACE_COMPLIANCE_H
#define LMS_WORKSPACE_COMPLIANCE_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>
#include <uv.h>

#include "common/clock.h"
#include "common/http.h"
#include "workspace/api.h"
#include "workspace/cert.h"

#define COMPLIANCE_EXPIRING_DAYS 30 /* "expiring_soon" from then on */
#define COMPLIANCE_LEAD_DAYS 30	    /* a round on expiry opens so early */
#define COMPLIANCE_ROUND_DAYS 30    /* a round's time when nothing expires */
#define COMPLIANCE_TICK 60	    /* seconds between runs of serve */
#define COMPLIANCE_POKE_MS 1000	    /* a poke runs it this much later */
#define COMPLIANCE_CHUNK 200	    /* users to a transaction of a run */
#define COMPLIANCE_DATE_LEN 10	    /* "YYYY-MM-DD" */

enum compliance_status {
	COMPLIANCE_NOT_STARTED,
	COMPLIANCE_IN_PROGRESS,
	COMPLIANCE_COMPLETED,
	COMPLIANCE_EXPIRING_SOON,
	COMPLIANCE_EXPIRED,
	COMPLIANCE_OVERDUE,
	COMPLIANCE_STATUS_COUNT
};

/* "not_started", "in_progress", "completed", "expiring_soon", "expired"
 * or "overdue". */
const char *compliance_status_name(enum compliance_status s);

/* The status named s, or -1. */
int compliance_status_parse(const char *s);

/* What the status of one learner's course is made of. */
struct compliance_facts {
	char due[COMPLIANCE_DATE_LEN + 1]; /* the current round's; "" none */
	int has_cert;	  /* the latest certificate not revoked */
	int current;	  /* ... was issued in this round, after the last
			   * retraining */
	int64_t expires;  /* ... its expiry, 0 for never */
	int started;	  /* a lesson done in this round */
};

/* The status at now. */
enum compliance_status compliance_status_of(const struct compliance_facts *f,
					    int64_t now);

/* When the round after a certificate issued at issued (expiring at
 * expires, 0 for never) opens for an assignment recurring every
 * recur_months (0: not) or on expiry: 1 with *open_at and due
 * ("YYYY-MM-DD") set, 0 when it does not recur. */
int compliance_next_round(int recur_months, int on_expiry, int64_t issued,
			  int64_t expires, int64_t *open_at,
			  char due[COMPLIANCE_DATE_LEN + 1]);

/* The calendar day (UTC) of t plus days, as "YYYY-MM-DD". */
void compliance_date(int64_t t, int days, char out[COMPLIANCE_DATE_LEN + 1]);

/* Midnight (UTC) of a day "YYYY-MM-DD"; 0 when it is not one. */
int64_t compliance_day_start(const char *day);

/* What one run did. */
struct compliance_tally {
	int rounds;    /* rounds opened */
	int reminders; /* reminders decided (a manager's copy is one) */
	int digests;   /* mails to managers with their copies */
};

/* Opens the rounds that are due and queues the reminders that are due
 * at now, for every learner an assignment reaches, in transactions of
 * its own on db of COMPLIANCE_CHUNK learners each (a round or a
 * learner's reminder is stored with its mail, or not at all), then
 * mails the managers' copies, one mail per manager (digest_send()).
 * Running it again at the same now, or at the same time, does nothing
 * twice. On an error the chunks before it stay done and t counts
 * them. */
int compliance_run(sqlite3 *db, int64_t now, struct compliance_tally *t);

/* Which rows compliance_list_json() gives. */
struct compliance_filter {
	int64_t user_id;    /* 0: everyone */
	int64_t manager_id; /* 0: no limit; else only people this manager
			     * reaches (workspace/scope.h) */
	const char *course; /* NULL: every course */
	int status;	    /* -1: any; else an enum compliance_status */
	int reminders;	    /* 1: with each row's "reminders" */
};

/* The rows described above, at now. */
int compliance_list_json(sqlite3 *db, const struct compliance_filter *f,
			 int64_t now, cJSON **out);

/* ---- every pair at once ----
 *
 * compliance_each() gives the same pairs, facts and status as
 * compliance_list_json() (one statement per pair, about 30 us each),
 * but reads each table once, in a few statements ordered by user, and
 * joins them in C: a pass over 500,000 pairs takes a fraction of a
 * second. The reports (workspace/report.h) and the streamed list use
 * it. */

/* A learner's course with what its status is made of. */
struct compliance_pair {
	int64_t user_id;
	const char *course;
	const char *assigned_due; /* the earliest due date of assignments */
	int recur_months;
	int on_expiry;

	/* the facts */
	struct compliance_facts facts;
	int64_t round_id;     /* 0: the first round, the assignment's */
	char reason[8];	      /* "recur", "retrain", or "" */
	int64_t opened_at;
	int64_t progress_from;
	char retrain_rev[41]; /* the last revision that retrained, or "" */
	int64_t cert_id;
	char number[CERT_NUMBER_MAX + 1];
	int64_t issued;
	int fresh; /* the certificate was issued after the last retraining */
};

/* One pair as compliance_each() hands it over; borrowed for the call. */
struct compliance_item {
	struct compliance_pair pair;
	enum compliance_status status;
	const char *name;	/* the learner's */
	const char *email;
	const char *title;	/* the course's */
	const int64_t *groups;	/* the learner's, ascending */
	int ngroups;
};

/* Which pairs compliance_each() gives. */
struct compliance_scope {
	int64_t user_from, user_to; /* users from < id <= to; both 0: all */
	const char *course;	    /* NULL: every course */
	const int64_t *groups;	    /* NULL: everyone; else members of one
				     * of these ngroups groups (ascending) */
	size_t ngroups;
	int64_t also_user; /* with groups: this user too (a manager) */
};

/* Calls fn(arg, item) for each pair of scope at now, by user id and
 * course id, inside one read transaction of db (begun and ended here
 * unless one is open); stops at the first non-zero return of fn and
 * returns it. 0, or a negative STORE_E* code. */
int compliance_each(sqlite3 *db, const struct compliance_scope *scope,
		    int64_t now,
		    int (*fn)(void *arg, const struct compliance_item *it),
		    void *arg);

/* The groups manager_id reaches (their own and all below), ascending,
 * in a new array *out (free() it) of *n: 0 or a negative STORE_E*. */
int compliance_reach(sqlite3 *db, int64_t manager_id, int64_t **out,
		     size_t *n);

/* Compares two int64_t (for qsort and bsearch of ids). */
int compliance_id_cmp(const void *a, const void *b);

/* The status at now, with today the day of now ("YYYY-MM-DD"): as
 * compliance_status_of() without working out the day each time. */
enum compliance_status compliance_status_on(const struct compliance_facts *f,
					    int64_t now, const char *today);

/* The row of compliance_list_json() for it, without "reminders"; a new
 * object, or NULL when out of memory. */
cJSON *compliance_item_json(const struct compliance_item *it);

/* Answers req when its path is one of this module's; see api_route_fn. */
int compliance_route(struct api_ctx *api, struct http_exchange *x,
		     const struct http_request *req);

/* `lms-workspace compliance ...` (workspace/compliance_cli.c): argv[0]
 * is "compliance"; returns the exit code. */
int compliance_cli(int argc, char **argv);

/* ---- the runner of serve ---- */

struct compliance_runner;
struct mail_sender;

/* Runs compliance_run() at once and every COMPLIANCE_TICK seconds on a
 * thread of its own, over a connection of its own to data_dir's
 * workspace.db; pokes mail (may be NULL) when reminders were queued.
 * clock, tenant and mail are borrowed until stopped. */
int compliance_runner_start(uv_loop_t *loop, const char *data_dir,
			    const struct lms_clock *clock, const char *tenant,
			    struct mail_sender *mail,
			    struct compliance_runner **out);

/* Runs again COMPLIANCE_POKE_MS from now (after a revision was applied,
 * say); pokes in a row make one run. */
void compliance_runner_poke(struct compliance_runner *r);

/* Stops it: a run in flight finishes first; then done(arg) runs on the
 * loop and the runner is freed. */
void compliance_runner_stop(struct compliance_runner *r,
			    void (*done)(void *arg), void *arg);

#endif
