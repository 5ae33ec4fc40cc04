/*
 * GET /api/v1/compliance (workspace/compliance.h): who sees whose rows
 * and the query that narrows them. A learner sees their own rows, a
 * manager the people of their groups (workspace/scope.h), an admin
 * everyone's; ?user= asks for one person and adds the history of their
 * reminders. The whole list (no ?user=) can be 500,000 rows: it is made
 * on a thread of its own and streamed (workspace/report.h).
 */
#include "workspace/compliance.h"

#include "common/log.h"
#include "common/query.h"
#include "workspace/auth.h"
#include "workspace/people.h"
#include "workspace/report.h"
#include "workspace/scope.h"
#include "workspace/store.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define COMPLIANCE_PATH "/api/v1/compliance"
#define COMPLIANCE_VALUE_MAX 64

/* The value of name in the query into out: 1 when there, 0 when not,
 * -1 when it is empty, too long or holds anything but letters, digits,
 * '-' and '_' (ids and status names). */
static int compliance_query(const char *query, const char *name, char *out)
{
	int rc = query_get(query, name, out, COMPLIANCE_VALUE_MAX + 1);

	for (const char *p = out; rc > 0 && *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return -1;
	return rc;
}

/* Fills f from the query: 0, or -1 after answering 400. */
static int compliance_filter_parse(struct http_exchange *x,
				   const char *query,
				   struct compliance_filter *f, char *course)
{
	char user[COMPLIANCE_VALUE_MAX + 1], status[COMPLIANCE_VALUE_MAX + 1];
	int u = compliance_query(query, "user", user);
	int c = compliance_query(query, "course", course);
	int s = compliance_query(query, "status", status);
	char *end;

	memset(f, 0, sizeof(*f));
	f->status = -1;
	if (u > 0) {
		f->user_id = strtoll(user, &end, 10);
		if (*end || f->user_id <= 0)
			u = -1;
	}
	if (s > 0 && (f->status = compliance_status_parse(status)) < 0)
		s = -1;
	if (u < 0 || c < 0 || s < 0) {
		http_respond_error(x, 400, "bad_request",
				   u < 0 ? "user must be a user id" :
				   c < 0 ? "course must be a course id" :
					   "status must be one of not_started, "
					   "in_progress, completed, "
					   "expiring_soon, expired, overdue");
		return -1;
	}
	f->course = c > 0 ? course : NULL;
	f->reminders = u > 0;
	return 0;
}

/* Narrows f to what me may see: 0, or -1 after answering 403. */
static int compliance_filter_scope(struct api_ctx *api,
				   struct http_exchange *x,
				   const struct people_user *me,
				   struct compliance_filter *f)
{
	int rc;

	if (me->role == PEOPLE_ROLE_ADMIN)
		return 0;
	if (me->role == PEOPLE_ROLE_LEARNER) {
		if (f->user_id && f->user_id != me->id) {
			http_respond_error(x, 403, "forbidden",
					   "learners see only their own");
			return -1;
		}
		f->user_id = me->id;
		f->reminders = 1;
		return 0;
	}
	if (f->user_id) {
		rc = scope_user(api->db, me, f->user_id);
		if (rc <= 0) {
			http_respond_error(x, rc < 0 ? 500 : 403,
					   rc < 0 ? "internal" : "forbidden",
					   rc < 0 ? "the scope cannot be read"
						  : "not in your groups");
			return -1;
		}
		return 0;
	}
	f->manager_id = me->id;
	return 0;
}

static void compliance_list(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req)
{
	char course[COMPLIANCE_VALUE_MAX + 1];
	struct compliance_filter f;
	struct people_user me;
	cJSON *list;
	int rc;

	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me) ||
	    compliance_filter_parse(x, req->query, &f, course) ||
	    compliance_filter_scope(api, x, &me, &f))
		return;
	if (!f.user_id) { /* the whole list: streamed */
		report_compliance_list(api, x, req, &f);
		return;
	}
	rc = compliance_list_json(api->db, &f, clock_now(api->clock), &list);
	if (rc) {
		log_error("msg=\"compliance list failed\" tenant=%s req=%llu "
			  "error=\"%s\"", api->tenant,
			  (unsigned long long)req->id, store_strerror(rc));
		http_respond_error(x, 500, "internal",
				   "the compliance status cannot be read");
		return;
	}
	http_respond_json(x, 200, list);
}

int compliance_route(struct api_ctx *api, struct http_exchange *x,
		     const struct http_request *req)
{
	if (strcmp(req->path, COMPLIANCE_PATH) &&
	    strcmp(req->path, COMPLIANCE_PATH "/"))
		return 0;
	if (strcmp(req->method, "GET")) {
		http_add_header(x, "Allow", "GET");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	compliance_list(api, x, req);
	return 1;
}
