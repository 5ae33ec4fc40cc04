/*
 * The mother's admin HTTP port (default 127.0.0.1:8600), for operators
 * and authors. Open: GET /healthz and the pages (GET /, /app/FILE, see
 * mother/pages.h), which sign in through the API. Everything else needs
 * an operator (mother/operator.h): a session cookie (with X-CSRF-Token
 * on writes) or "Authorization: Bearer TOKEN".
 *
 *   POST   /api/v1/session   {"email", "password"} -> {"operator":
 *                            {"id", "email"}, "csrf_token"} and the
 *                            cookie lms_mother_session; 401 when wrong;
 *                            429 with Retry-After after too many
 *   GET    /api/v1/session   the same without a new cookie ("csrf_token"
 *                            null for a bearer token)
 *   DELETE /api/v1/session   ends the cookie's session
 *   GET /api/v1/tenants      as `lms-mother tenant list --json`, each
 *                            with "last_contact", "lag": {course:
 *                            {"events", "revisions"}} and "audit"
 *                            (mother/audithead.h)
 *   GET /api/v1/courses      as `lms-mother course list --json`
 *   GET /api/v1/courses/ID/revisions[?limit=N]  mother/history.h
 *   GET /api/v1/analytics[?course=ID][&from=YYYY-MM][&to=YYYY-MM]
 *                            mother/stats.h; from defaults to 11 months
 *                            before to, to to this month
 *   GET /api/v1/usage?month=YYYY-MM[&format=csv]  per tenant, as JSON
 *                            or as a CSV download
 *   GET /metrics             Prometheus text: lms_sync_* by tenant and
 *                            lms_http_requests_total by status code
 *
 * Passwords are verified on the thread pool. Failed sign-ins are
 * limited to ADMIN_LOGIN_FAILS a minute for the whole port (the
 * operators are few; the limit slows guessing without a table).
 */
#ifndef LMS_MOTHER_ADMIN_H
#define LMS_MOTHER_ADMIN_H

#include "common/http.h"
#include "mother/mother.h"
#include "mother/sync.h"

#include <uv.h>

#define ADMIN_COOKIE "lms_mother_session"
#define ADMIN_LOGIN_FAILS 20 /* a minute, then 429 */

struct admin {
	uv_loop_t *loop;
	struct mother *m;
	struct sync_server *sync; /* for the connection state */
	struct http_server *http; /* for its answer counts */
	const char *web_dir;	  /* the pages, see mother/pages.h */
	int64_t fails_minute;	  /* the minute fails counts in */
	int fails;
};

/* The http_handler for the admin port; ctx is a struct admin. */
void admin_handle(void *ctx, struct http_exchange *x,
		  const struct http_request *req);

/* ---- admin_auth.c ---- */

/* Who a request is: 0 with the operator's id, or -1 after answering
 * 401, 403 or 500 itself. Cookie requests other than GET and HEAD must
 * carry the session's CSRF token. */
int admin_require(struct admin *a, struct http_exchange *x,
		  const struct http_request *req, int64_t *op);

/* The handlers of /api/v1/session by method. */
void admin_login(struct admin *a, struct http_exchange *x,
		 const struct http_request *req);
void admin_session(struct admin *a, struct http_exchange *x,
		   const struct http_request *req);
void admin_logout(struct admin *a, struct http_exchange *x,
		  const struct http_request *req);

#endif
