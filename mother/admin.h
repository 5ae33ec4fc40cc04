/*
 * The mother's admin HTTP API (default 127.0.0.1:8600):
 *   GET /healthz          {"status": "ok"}
 *   GET /api/v1/tenants   as `lms-mother tenant list --json`
 *   GET /api/v1/courses   as `lms-mother course list --json`
 */
#ifndef LMS_MOTHER_ADMIN_H
#define LMS_MOTHER_ADMIN_H

#include "common/http.h"
#include "mother/mother.h"
#include "mother/sync.h"

struct admin {
	struct mother *m;
	struct sync_server *sync; /* for the connection state */
};

/* The http_handler for the admin port; ctx is a struct admin. */
void admin_handle(void *ctx, struct http_exchange *x,
		  const struct http_request *req);

#endif
