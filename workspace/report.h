/*
 * Reports: completion by course and by group, the people list (with
 * the overdue and expiring lists as its filters), a learner's
 * transcript and a timeline for charts, as JSON or CSV, for admins and
 * managers (the people in their scope, workspace/scope.h). docs/api.md
 * "Reports" is the contract.
 *
 *   GET /api/v1/reports/completion[?by=group][&course][&group][&from]
 *                                 [&to][&format][&delimiter]
 *   GET /api/v1/reports/people[?course][&group][&status...][&format]
 *   GET /api/v1/reports/transcript?user=ID[&format]
 *   GET /api/v1/reports/timeline[?course][&group][&months]
 *
 * Every report is made on a thread of its own over a read-only
 * connection of its own to workspace.db, inside one read transaction (a
 * consistent snapshot), and streamed to the client (common/http.h): the
 * loop is never blocked, a large export is never held in memory, and
 * the thread pool (one thread in serve) is never held by a report. The
 * statuses come from compliance_each() (workspace/compliance.h), which
 * gives the same status as the compliance list for every pair. The
 * whole compliance list (GET /api/v1/compliance without ?user=) is
 * streamed by the same machinery (report_compliance_list()).
 *
 * CSV is UTF-8 with a byte order mark (Excel keeps umlauts), CRLF line
 * ends, RFC 4180 quoting, English column names in a header row; the
 * delimiter is ',' or, with delimiter=semicolon, ';'.
 */
#ifndef LMS_WORKSPACE_REPORT_H
#define LMS_WORKSPACE_REPORT_H

#include <sqlite3.h>
#include <stdint.h>

#include "common/http.h"
#include "workspace/api.h"
#include "workspace/compliance.h"
#include "workspace/report_out.h"

#define REPORT_MONTHS_MAX 36 /* of the timeline */
#define REPORT_STATUS_ALL ((1u << COMPLIANCE_STATUS_COUNT) - 1)

enum report_kind {
	REPORT_COMPLETION,
	REPORT_GROUPS, /* completion ?by=group */
	REPORT_PEOPLE,
	REPORT_TRANSCRIPT,
	REPORT_TIMELINE,
	REPORT_COMPLIANCE, /* the compliance list, streamed */
};

/* What one report is asked for, checked and narrowed to the asker's
 * scope. */
struct report_params {
	enum report_kind kind;
	int csv;	/* else JSON */
	char delimiter; /* ',' or ';' */
	char course[65]; /* "" for every course */
	int64_t group_id; /* 0: every group */
	int64_t user_id;  /* the transcript's */
	char from[11], to[11]; /* "" when not given */
	int64_t from_t, to_t;  /* the period [from_t, to_t) */
	unsigned statuses;     /* 1 << enum compliance_status */
	int months;
	int64_t now;
	/* the learners: every one (groups NULL), or the members of these
	 * groups (ascending; owned), and also_user */
	int64_t *groups;
	size_t ngroups;
	int64_t also_user;
};

/* Writes the report p asks for from db as JSON or CSV to sink(arg, ...)
 * (report_out.h; a streamed answer in serve): 0, a negative STORE_E*
 * code (the answer is then cut off), or the sink's error (-ECANCELED
 * when the client left). workspace/report_data.c. */
int report_write(sqlite3 *db, const struct report_params *p,
		 report_sink sink, void *arg);

/* Internal, shared by report_data.c and report_history.c: the
 * transcript and the timeline written to o (report_out.h). */
struct report_out;
int report__transcript(sqlite3 *db, const struct report_params *p,
		       struct report_out *o);
int report__timeline(sqlite3 *db, const struct report_params *p,
		     struct report_out *o);

/* Answers req when its path is one of this module's; see api_route_fn. */
int report_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req);

/* Streams the compliance list of f (compliance_api.c) from a report
 * thread: answers x in every case. */
void report_compliance_list(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req,
			    const struct compliance_filter *f);

#endif
