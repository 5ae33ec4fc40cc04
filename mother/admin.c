/*
 * Routes of the mother's admin HTTP port: the open paths (health, the
 * pages), sign-in, and the operators' API, each behind admin_require().
 */
#include "mother/admin.h"

#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/query.h"
#include "mother/history.h"
#include "mother/pages.h"
#include "mother/stats.h"
#include "mother/tenant.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_REVISIONS "/api/v1/courses/"
#define ADMIN_REVISIONS_TAIL "/revisions"

static void admin_send_json(struct http_exchange *x, cJSON *json)
{
	if (!json)
		http_respond_error(x, 500, "internal", "internal error");
	else
		http_respond_json(x, 200, json);
}

static void admin_bad(struct http_exchange *x, const char *why)
{
	http_respond_error(x, 400, "bad_request", why);
}

static void admin_tenants(struct admin *a, struct http_exchange *x)
{
	struct buf connected;

	buf_init(&connected);
	if (a->sync)
		sync_server_connected(a->sync, &connected);
	admin_send_json(x, tenant_list_json(a->m, buf_cstr(&connected)));
	buf_release(&connected);
}

/* GET /api/v1/courses/ID/revisions[?limit=N] */
static void admin_revisions(struct admin *a, struct http_exchange *x,
			    const struct http_request *req)
{
	const char *id = req->path + strlen(ADMIN_REVISIONS);
	size_t n = strlen(id) - strlen(ADMIN_REVISIONS_TAIL);
	char course[IDS_MAX + 1], lim[8];
	cJSON *list = NULL;
	int limit = 100, rc;

	if (n == 0 || n >= sizeof(course)) {
		http_respond_error(x, 404, "not_found", "no such course");
		return;
	}
	memcpy(course, id, n);
	course[n] = 0;
	rc = query_get(req->query, "limit", lim, sizeof(lim));
	if (rc == 1)
		limit = atoi(lim);
	if (rc < 0 || limit < 1 || limit > HISTORY_MAX) {
		admin_bad(x, "limit must be a number from 1 to 500");
		return;
	}
	rc = history_json(a->m, course, limit, &list);
	if (rc > 0)
		http_respond_error(x, 404, "not_found", "no such course");
	else
		admin_send_json(x, rc ? NULL : list);
}

/* A month parameter: 1 with out set, 0 when absent, -1 after a 400. */
static int admin_month(struct http_exchange *x, const char *query,
		       const char *name, char out[STATS_MONTH_LEN + 1])
{
	char v[16];
	int rc = query_get(query, name, v, sizeof(v));

	if (rc == 0)
		return 0;
	if (rc < 0 || !stats_month_valid(v)) {
		char why[64];

		snprintf(why, sizeof(why), "%s must be a month YYYY-MM", name);
		admin_bad(x, why);
		return -1;
	}
	memcpy(out, v, STATS_MONTH_LEN + 1);
	return 1;
}

/* GET /api/v1/analytics[?course=ID][&from=YYYY-MM][&to=YYYY-MM] */
static void admin_analytics(struct admin *a, struct http_exchange *x,
			    const struct http_request *req)
{
	char from[STATS_MONTH_LEN + 1], to[STATS_MONTH_LEN + 1];
	char course[IDS_MAX + 1];
	int64_t now = clock_now(&a->m->clock);
	int rc_from, rc_to, rc;

	rc = query_get(req->query, "course", course, sizeof(course));
	if (rc < 0 || (rc == 1 && !ids_valid(course))) {
		admin_bad(x, "course must be a course id");
		return;
	}
	rc_to = admin_month(x, req->query, "to", to);
	if (rc_to < 0)
		return;
	rc_from = admin_month(x, req->query, "from", from);
	if (rc_from < 0)
		return;
	if (!rc_to)
		stats_month_of(now, 0, to);
	if (!rc_from)
		stats_month_add(to, -11, from);
	if (strcmp(from, to) > 0) {
		admin_bad(x, "from must not be after to");
		return;
	}
	admin_send_json(x, stats_analytics_json(a->m->db,
						rc == 1 ? course : NULL,
						from, to));
}

/* GET /api/v1/usage?month=YYYY-MM[&format=csv] */
static void admin_usage(struct admin *a, struct http_exchange *x,
			const struct http_request *req)
{
	char month[STATS_MONTH_LEN + 1], format[8], disp[80];
	struct buf csv = { 0 };
	int rc = admin_month(x, req->query, "month", month);

	if (rc < 0)
		return;
	if (rc == 0) {
		admin_bad(x, "month is required (YYYY-MM)");
		return;
	}
	rc = query_get(req->query, "format", format, sizeof(format));
	if (rc < 0 || (rc == 1 && strcmp(format, "csv") &&
		       strcmp(format, "json"))) {
		admin_bad(x, "format must be csv or json");
		return;
	}
	if (rc == 0 || !strcmp(format, "json")) {
		admin_send_json(x, stats_usage_json(a->m->db, month));
		return;
	}
	if (stats_usage_csv(a->m->db, month, &csv)) {
		buf_release(&csv);
		http_respond_error(x, 500, "internal", "internal error");
		return;
	}
	snprintf(disp, sizeof(disp), "attachment; filename=\"usage-%s.csv\"",
		 month);
	http_add_header(x, "Content-Disposition", disp);
	http_respond(x, 200, "text/csv; charset=utf-8", csv.data, csv.len);
	buf_release(&csv);
}

static void admin_metrics(struct admin *a, struct http_exchange *x)
{
	struct buf b = { 0 };
	int rc = a->sync ? sync_server_metrics(a->sync, &b) : 0;

	if (!rc && a->http)
		rc = metrics_http(&b, a->http);
	if (rc) {
		buf_release(&b);
		http_respond_error(x, 500, "internal", "internal error");
		return;
	}
	http_respond(x, 200, METRICS_CONTENT_TYPE, b.data, b.len);
	buf_release(&b);
}

static int admin_is_revisions(const char *path)
{
	size_t n = strlen(path), head = strlen(ADMIN_REVISIONS),
	       tail = strlen(ADMIN_REVISIONS_TAIL);

	return n > head + tail && !strncmp(path, ADMIN_REVISIONS, head) &&
	       !strcmp(path + n - tail, ADMIN_REVISIONS_TAIL);
}

/* The operators' GET paths; 0 when path is none of them. */
static int admin_api(struct admin *a, struct http_exchange *x,
		     const struct http_request *req)
{
	const char *p = req->path;
	int64_t op;

	if (strcmp(p, "/api/v1/tenants") && strcmp(p, "/api/v1/courses") &&
	    strcmp(p, "/api/v1/analytics") && strcmp(p, "/api/v1/usage") &&
	    strcmp(p, "/metrics") && !admin_is_revisions(p))
		return 0;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_add_header(x, "Allow", "GET, HEAD");
		http_respond_error(x, 405, "method_not_allowed",
				   "only GET is allowed here");
		return 1;
	}
	if (admin_require(a, x, req, &op))
		return 1;
	if (!strcmp(p, "/api/v1/tenants"))
		admin_tenants(a, x);
	else if (!strcmp(p, "/api/v1/courses"))
		admin_send_json(x, tenant_course_list_json(a->m));
	else if (!strcmp(p, "/api/v1/analytics"))
		admin_analytics(a, x, req);
	else if (!strcmp(p, "/api/v1/usage"))
		admin_usage(a, x, req);
	else if (!strcmp(p, "/metrics"))
		admin_metrics(a, x);
	else
		admin_revisions(a, x, req);
	return 1;
}

static void admin_session_route(struct admin *a, struct http_exchange *x,
				const struct http_request *req)
{
	if (!strcmp(req->method, "POST")) {
		admin_login(a, x, req);
	} else if (!strcmp(req->method, "GET")) {
		admin_session(a, x, req);
	} else if (!strcmp(req->method, "DELETE")) {
		admin_logout(a, x, req);
	} else {
		http_add_header(x, "Allow", "GET, POST, DELETE");
		http_respond_error(x, 405, "method_not_allowed",
				   "GET, POST or DELETE");
	}
}

void admin_handle(void *ctx, struct http_exchange *x,
		  const struct http_request *req)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	struct admin *a = ctx;

	if (!strcmp(req->path, "/healthz"))
		http_respond(x, 200, "application/json", ok, sizeof(ok) - 1);
	else if (!strcmp(req->path, "/api/v1/session"))
		admin_session_route(a, x, req);
	else if (admin_api(a, x, req))
		return;
	else if (pages_route(a->web_dir, x, req))
		return;
	else
		http_respond_error(x, 404, "not_found", "no such resource");
}
