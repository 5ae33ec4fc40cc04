/*
 * The routes of the reports (workspace/report.h): the query checked on
 * the loop (400 for a bad parameter), who may ask (401, 403), then one
 * job on a thread of its own that opens workspace.db read-only, writes
 * the report into a streamed answer (common/http.h), ends it and frees
 * itself. The job holds no exchange: only the stream, which the loop
 * owns and which tells the job when the client has left.
 *
 * Why not libuv's thread pool: serve runs it with one thread (events
 * are applied one at a time), which the compliance runner holds for
 * tens of seconds each minute in a large academy; a report queued
 * behind it would wait that long, and a client reading an export
 * slowly would hold back applying events and password checks. A report
 * thread waits only for its own client.
 */
#include "workspace/report.h"

#include "common/db.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/query.h"
#include "workspace/auth.h"
#include "workspace/people.h"
#include "workspace/scope.h"
#include "workspace/store.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_PATH "/api/v1/reports/"
#define REPORT_VALUE_MAX 64
#define REPORT_BUSY_MS 10000
#define REPORT_MMAP "268435456" /* bytes of workspace.db mapped */

struct report_job {
	struct report_params p;
	char *db_path;
	const char *tenant;
	struct http_stream *stream;
	uint64_t req_id;
	int rc;
};

/* ---- the job ---- */

static int report_stream_sink(void *arg, const void *data, size_t len)
{
	return http_stream_write(arg, data, len);
}

static void report_job_free(struct report_job *j)
{
	free(j->p.groups);
	free(j->db_path);
	free(j);
}

/* The report thread: the report, the end of the answer, the job freed. */
static void *report_thread(void *arg)
{
	struct report_job *j = arg;
	sqlite3 *db = NULL;
	/* read-only, and used by this thread alone: no mutex per call */
	int rc = sqlite3_open_v2(j->db_path, &db,
				 SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, REPORT_BUSY_MS);
		/* pages read in place rather than copied: a report reads
		 * most of the tables once */
		sqlite3_exec(db, "PRAGMA mmap_size = " REPORT_MMAP, NULL,
			     NULL, NULL);
		j->rc = report_write(db, &j->p, report_stream_sink,
				     j->stream);
	} else {
		j->rc = STORE_EDB;
	}
	sqlite3_close_v2(db);
	/* logged before the end: once the answer is ended, serve may stop
	 * and free what j borrows (the tenant) */
	if (j->rc == -ECANCELED)
		log_info("msg=\"report cancelled\" tenant=%s req=%llu "
			 "reason=\"client gone\"", j->tenant,
			 (unsigned long long)j->req_id);
	else if (j->rc)
		log_error("msg=\"report failed\" tenant=%s req=%llu "
			  "error=\"%s\"", j->tenant,
			  (unsigned long long)j->req_id, store_strerror(j->rc));
	http_stream_end(j->stream, j->rc != 0);
	report_job_free(j);
	return NULL;
}

/* Starts the report thread, detached: 0 or an errno. */
static int report_spawn(struct report_job *j)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc = pthread_attr_init(&attr);

	if (rc)
		return rc;
	rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!rc)
		rc = pthread_create(&t, &attr, report_thread, j);
	pthread_attr_destroy(&attr);
	return rc;
}

static const char *report_type(const struct report_params *p)
{
	return p->csv ? "text/csv; charset=utf-8" : "application/json";
}

/* Content-Disposition of a CSV file: "completion-2026-12-04.csv". */
static void report_attachment(struct http_exchange *x,
			      const struct report_params *p)
{
	static const char *const names[] = {
		[REPORT_COMPLETION] = "completion",
		[REPORT_GROUPS] = "completion-groups",
		[REPORT_PEOPLE] = "people",
		[REPORT_TRANSCRIPT] = "transcript",
		[REPORT_TIMELINE] = "timeline",
		[REPORT_COMPLIANCE] = "compliance",
	};
	char day[COMPLIANCE_DATE_LEN + 1], value[96];

	if (!p->csv)
		return;
	compliance_date(p->now, 0, day);
	snprintf(value, sizeof(value), "attachment; filename=\"%s-%s.csv\"",
		 names[p->kind], day);
	http_add_header(x, "Content-Disposition", value);
}

/* Starts the answer and the job; p's groups pass to the job. */
static void report_start(struct api_ctx *api, struct http_exchange *x,
			 uint64_t req_id, struct report_params *p)
{
	struct report_job *j = calloc(1, sizeof(*j));

	if (!j || !(j->db_path = fs_join(api->data_dir, STORE_FILE))) {
		free(j);
		free(p->groups);
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	j->p = *p;
	j->tenant = api->tenant;
	j->req_id = req_id;
	report_attachment(x, p);
	http_add_header(x, "Cache-Control", "no-store");
	if (http_stream_start(x, 200, report_type(p), &j->stream)) {
		report_job_free(j);
		return;
	}
	if (report_spawn(j)) {
		log_error("msg=\"cannot start a report thread\" tenant=%s",
			  api->tenant);
		http_stream_end(j->stream, 1);
		report_job_free(j);
	}
}

/* ---- the query ---- */

static int report_bad(struct http_exchange *x, const char *message)
{
	http_respond_error(x, 400, "bad_request", message);
	return -1;
}

/* The value of name into out: 1, 0 when absent, -1 when it is not made
 * of letters, digits, '-', '_' and ','. */
static int report_query(const char *query, const char *name, char *out)
{
	int rc = query_get(query, name, out, REPORT_VALUE_MAX + 1);

	for (const char *p = out; rc > 0 && *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_,", *p))
			return -1;
	return rc;
}

/* A day "YYYY-MM-DD" that exists: its midnight (UTC), or -1. */
static int64_t report_day(const char *s)
{
	struct tm tm = { 0 };
	char back[COMPLIANCE_DATE_LEN + 1];
	int64_t t;

	if (strlen(s) != COMPLIANCE_DATE_LEN ||
	    sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (int64_t)timegm(&tm);
	compliance_date(t, 0, back);
	return strcmp(back, s) ? -1 : t;
}

/* format= and delimiter=. */
static int report_parse_format(struct http_exchange *x, const char *q,
			       struct report_params *p)
{
	char v[REPORT_VALUE_MAX + 1];
	int rc = report_query(q, "format", v);

	if (rc < 0 || (rc > 0 && strcmp(v, "json") && strcmp(v, "csv")))
		return report_bad(x, "format must be json or csv");
	p->csv = rc > 0 && !strcmp(v, "csv");
	p->delimiter = ',';
	rc = report_query(q, "delimiter", v);
	if (rc < 0 || (rc > 0 && strcmp(v, "comma") && strcmp(v, "semicolon")))
		return report_bad(x, "delimiter must be comma or semicolon");
	if (rc > 0 && !strcmp(v, "semicolon"))
		p->delimiter = ';';
	return 0;
}

/* from= and to=: whole days, from <= to; the period ends after to. */
static int report_parse_period(struct http_exchange *x, const char *q,
			       struct report_params *p)
{
	int f = query_get(q, "from", p->from, sizeof(p->from));
	int t = query_get(q, "to", p->to, sizeof(p->to));

	if (f < 0 || t < 0 ||
	    (f > 0 && (p->from_t = report_day(p->from)) < 0) ||
	    (t > 0 && (p->to_t = report_day(p->to)) < 0))
		return report_bad(x, "from and to must be days YYYY-MM-DD");
	if (f <= 0)
		p->from[0] = 0;
	if (t <= 0)
		p->to[0] = 0;
	p->to_t = t > 0 ? p->to_t + 86400 : INT64_MAX;
	if (f <= 0)
		p->from_t = INT64_MIN;
	if (p->from_t >= p->to_t)
		return report_bad(x, "from must not be after to");
	return 0;
}

/* The statuses of one status=... value into p: 0, or -1 after 400. */
static int report_status_value(struct http_exchange *x, char *v,
			       struct report_params *p)
{
	char *tok, *save;
	int s;

	for (tok = strtok_r(v, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((s = compliance_status_parse(tok)) < 0)
			return report_bad(x, "status must be one of "
					     "not_started, in_progress, "
					     "completed, expiring_soon, "
					     "expired, overdue");
		p->statuses |= 1u << s;
	}
	return 0;
}

/* status=, several times or comma-separated; none: every status. */
static int report_parse_status(struct http_exchange *x, const char *q,
			       struct report_params *p)
{
	char piece[2 * REPORT_VALUE_MAX + 16], v[REPORT_VALUE_MAX + 1];
	size_t n;
	int rc;

	p->statuses = 0;
	for (const char *at = q; *at; at += n + (at[n] == '&')) {
		n = strcspn(at, "&");
		if (n < 7 || strncmp(at, "status=", 7))
			continue;
		if (n >= sizeof(piece))
			return report_bad(x, "status must be status names");
		memcpy(piece, at, n);
		piece[n] = 0;
		rc = report_query(piece, "status", v);
		if (rc <= 0)
			return report_bad(x, "status must be status names");
		if (report_status_value(x, v, p))
			return -1;
	}
	if (!p->statuses)
		p->statuses = REPORT_STATUS_ALL;
	return 0;
}

static int report_parse(struct http_exchange *x, const char *q,
			struct report_params *p)
{
	char v[REPORT_VALUE_MAX + 1];
	int rc;

	if (report_parse_format(x, q, p) || report_parse_period(x, q, p) ||
	    report_parse_status(x, q, p))
		return -1;
	rc = report_query(q, "course", p->course);
	if (rc < 0 || strchr(p->course, ','))
		return report_bad(x, "course must be a course id");
	if (rc == 0)
		p->course[0] = 0;
	if (query_id(q, "group", &p->group_id) < 0)
		return report_bad(x, "group must be a group id");
	if (query_id(q, "user", &p->user_id) < 0)
		return report_bad(x, "user must be a user id");
	p->months = 12;
	rc = report_query(q, "months", v);
	if (rc > 0)
		p->months = atoi(v);
	if (rc < 0 || (rc > 0 && (strspn(v, "0123456789") != strlen(v) ||
				  p->months < 1 ||
				  p->months > REPORT_MONTHS_MAX)))
		return report_bad(x, "months must be 1 to 36");
	rc = report_query(q, "by", v);
	if (rc < 0 || (rc > 0 && strcmp(v, "group") && strcmp(v, "course")))
		return report_bad(x, "by must be course or group");
	if (rc > 0 && !strcmp(v, "group"))
		p->kind = REPORT_GROUPS;
	return 0;
}

/* ---- who sees whom ---- */

/* The group and all below it, ascending, into p->groups: 0, or -1 when
 * there is no such group (answered 404). */
static int report_subtree(struct api_ctx *api, struct http_exchange *x,
			  struct report_params *p)
{
	sqlite3_stmt *st = db_prepare(
		api->db, "WITH RECURSIVE sub (id) AS (SELECT id FROM groups "
			 "WHERE id = ?1 UNION SELECT g.id FROM groups g JOIN "
			 "sub ON g.parent_id = sub.id) SELECT id FROM sub "
			 "ORDER BY id");
	size_t cap = 0;
	int64_t *more;
	int ok = st != NULL;

	if (st)
		sqlite3_bind_int64(st, 1, p->group_id);
	while (ok && sqlite3_step(st) == SQLITE_ROW) {
		if (p->ngroups == cap) {
			cap = cap ? cap * 2 : 16;
			more = realloc(p->groups, cap * sizeof(*more));
			if (!(ok = more != NULL))
				break;
			p->groups = more;
		}
		p->groups[p->ngroups++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (!ok) {
		http_respond_error(x, 500, "internal", "cannot read groups");
		return -1;
	}
	if (!p->ngroups) {
		http_respond_error(x, 404, "not_found", "no such group");
		return -1;
	}
	return 0;
}

/* Narrows p to what me may see: 0, or -1 after answering. */
static int report_scope(struct api_ctx *api, struct http_exchange *x,
			const struct people_user *me, struct report_params *p)
{
	int rc = 1;

	if (p->user_id && me->role != PEOPLE_ROLE_ADMIN)
		rc = scope_user(api->db, me, p->user_id);
	if (rc > 0 && p->group_id && me->role != PEOPLE_ROLE_ADMIN)
		rc = scope_group(api->db, me, p->group_id);
	if (rc <= 0) {
		http_respond_error(x, rc < 0 ? 500 : 403,
				   rc < 0 ? "internal" : "forbidden",
				   rc < 0 ? "the scope cannot be read"
					  : "not in your groups");
		return -1;
	}
	if (p->group_id)
		return report_subtree(api, x, p);
	if (me->role == PEOPLE_ROLE_ADMIN)
		return 0;
	p->also_user = me->id;
	if (compliance_reach(api->db, me->id, &p->groups, &p->ngroups)) {
		http_respond_error(x, 500, "internal",
				   "the scope cannot be read");
		return -1;
	}
	if (!p->groups && !(p->groups = malloc(sizeof(int64_t)))) {
		http_respond_error(x, 500, "internal", "out of memory");
		return -1;
	}
	return 0;
}

/* Whether user id exists: 1, or 0 after answering 404 (or 500). */
static int report_user_exists(struct api_ctx *api, struct http_exchange *x,
			      int64_t id)
{
	sqlite3_stmt *st = db_prepare(api->db, "SELECT 1 FROM users WHERE "
					       "id = ?1");
	int step = SQLITE_ERROR;

	if (st) {
		sqlite3_bind_int64(st, 1, id);
		step = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return 1;
	if (step == SQLITE_DONE)
		http_respond_error(x, 404, "not_found", "no such user");
	else
		http_respond_error(x, 500, "internal", "cannot read users");
	return 0;
}

static int report_kind(const char *name, enum report_kind *kind)
{
	static const struct {
		const char *name;
		enum report_kind kind;
	} kinds[] = { { "completion", REPORT_COMPLETION },
		      { "people", REPORT_PEOPLE },
		      { "transcript", REPORT_TRANSCRIPT },
		      { "timeline", REPORT_TIMELINE } };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (!strcmp(name, kinds[i].name)) {
			*kind = kinds[i].kind;
			return 1;
		}
	return 0;
}

static void report_get(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req, enum report_kind kind)
{
	struct report_params p = { .kind = kind };
	struct people_user me;

	if (auth_require(api, x, req,
			 AUTH_ROLE(PEOPLE_ROLE_ADMIN) |
				 AUTH_ROLE(PEOPLE_ROLE_MANAGER),
			 &me) ||
	    report_parse(x, req->query, &p))
		return;
	if (p.kind == REPORT_GROUPS && kind != REPORT_COMPLETION) {
		report_bad(x, "by is a parameter of the completion report");
		return;
	}
	if (kind == REPORT_TRANSCRIPT && !p.user_id) {
		report_bad(x, "user is required");
		return;
	}
	if (kind == REPORT_TRANSCRIPT && !report_user_exists(api, x, p.user_id))
		return;
	p.now = clock_now(api->clock);
	if (report_scope(api, x, &me, &p)) {
		free(p.groups);
		return;
	}
	report_start(api, x, req->id, &p);
}

int report_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req)
{
	enum report_kind kind;

	if (strncmp(req->path, REPORT_PATH, strlen(REPORT_PATH)) ||
	    !report_kind(req->path + strlen(REPORT_PATH), &kind))
		return 0;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_add_header(x, "Allow", "GET");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	report_get(api, x, req, kind);
	return 1;
}

void report_compliance_list(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req,
			    const struct compliance_filter *f)
{
	struct report_params p = { .kind = REPORT_COMPLIANCE,
				   .statuses = REPORT_STATUS_ALL };

	p.now = clock_now(api->clock);
	if (f->course)
		snprintf(p.course, sizeof(p.course), "%s", f->course);
	if (f->status >= 0)
		p.statuses = 1u << f->status;
	if (f->manager_id) {
		p.also_user = f->manager_id;
		if (compliance_reach(api->db, f->manager_id, &p.groups,
				     &p.ngroups) ||
		    (!p.groups && !(p.groups = malloc(sizeof(int64_t))))) {
			http_respond_error(x, 500, "internal",
					   "the scope cannot be read");
			return;
		}
	}
	report_start(api, x, req->id, &p);
}
