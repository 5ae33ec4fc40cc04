/*
 * Consolidated analytics: the aggregate figures workspaces report in
 * STATS frames, kept over time in mother.db, and the views built from
 * them for operators (the admin API and `lms-mother usage`).
 *
 * A report's body is JSON (workspace/analytics.h makes it):
 *
 *   {"at": unix seconds,
 *    "courses": [{"id", "assigned", "not_started", "in_progress",
 *                 "completed", "overdue", "expired",
 *                 "certificates_valid", "certificates_expiring"}],
 *    "active_learners": [{"month": "YYYY-MM", "count"}],
 *    "completions": [{"month": "YYYY-MM", "course", "count"}]}
 *
 * Only what is checked is kept: course ids that are courses of this
 * mother, whole numbers from 0 to STATS_MAX_COUNT, months as YYYY-MM.
 * Other keys are ignored and never stored, so nothing but ids, months
 * and numbers from a workspace reaches mother.db. Figures per course
 * are a snapshot per UTC day of receipt (a later report the same day
 * replaces the day's), months are replaced by the latest report.
 */
#ifndef LMS_MOTHER_STATS_H
#define LMS_MOTHER_STATS_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define STATS_MAX_COUNT 100000000 /* larger numbers are refused */
#define STATS_MAX_COURSES 2000
#define STATS_MAX_MONTHS 120	  /* entries of one list */
#define STATS_MONTH_LEN 7	  /* "YYYY-MM" */

/* Checks a report body and stores its figures for tenant, received at
 * now. 0; 1 with *why set when the body is refused (nothing stored);
 * -1 on a database error. */
int stats_store(sqlite3 *db, const char *tenant, int64_t now,
		const void *body, size_t len, const char **why);

/* 1 when s is a month "YYYY-MM" (01 to 12), else 0. */
int stats_month_valid(const char *s);

/* The month of t (UTC), plus delta months, as "YYYY-MM". */
void stats_month_of(int64_t t, int delta, char out[STATS_MONTH_LEN + 1]);

/* Month m ("YYYY-MM") plus delta months into out (may be m). */
void stats_month_add(const char *m, int delta, char out[STATS_MONTH_LEN + 1]);

/* Across tenants, for months from to to (inclusive, "YYYY-MM"), only
 * course when it is not NULL:
 *   {"from", "to", "course",
 *    "courses": [{"id", "title", "tenants", "assigned", "not_started",
 *                 "in_progress", "completed", "overdue", "expired",
 *                 "certificates_valid", "certificates_expiring"}],
 *    "months": [{"month", "active_learners", "completions", "assigned",
 *                "completed"}]}
 * "courses" sums each tenant's latest snapshot up to the end of to;
 * a month's "assigned" and "completed" sum each tenant's last snapshot
 * in that month. NULL on error; the caller deletes the result. */
cJSON *stats_analytics_json(sqlite3 *db, const char *course,
			    const char *from, const char *to);

/* Usage of month per tenant, for invoicing:
 *   [{"tenant", "name", "month", "active_learners",
 *     "courses_licensed", "completions"}]
 * NULL on error. */
cJSON *stats_usage_json(sqlite3 *db, const char *month);

/* The same as CSV (UTF-8, CRLF line ends, a header line); appended to
 * out. 0 or -1. */
int stats_usage_csv(sqlite3 *db, const char *month, struct buf *out);

#endif
