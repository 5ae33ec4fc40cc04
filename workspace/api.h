/*
 * The workspace's HTTP API, served by common/http.h on the loop.
 *
 *   GET /healthz          {"status": "ok", "tenant", "applied_seq",
 *                          "mother_connected"}
 *   GET /api/v1/catalog   [{"id", "title", "origin", "revision"}], by id
 *   GET /api/v1/users     (admin) [{"id", "email", "name", "role",
 *                         "attributes", "created_at", "groups": [ids]}],
 *                         by id
 *   GET /api/v1/groups    (admin) [{"id", "name", "parent", "rule",
 *                         "member_count"}], by id
 *   POST /api/v1/groups   (admin) {"name", "parent", "rule"} -> 201 the
 *                         group as listed; 400 for bad input
 *   GET /api/v1/groups/{id}/members   (admin) [{"id", "email", "name"}]
 *   POST, DELETE /api/v1/session   login and logout (workspace/auth.h)
 *
 * Unknown paths get 404, a known path with another method 405 (with an
 * Allow header); errors are {"error": {"code", "message"}}. Handlers read
 * workspace.db per request, so courses published from the command line
 * show up at once.
 */
#ifndef LMS_WORKSPACE_API_H
#define LMS_WORKSPACE_API_H

#include <sqlite3.h>

#include "common/clock.h"
#include "common/http.h"
#include "workspace/batch.h"
#include "workspace/sync.h"

#include <uv.h>

/* What the handlers use; everything borrowed, owned by serve. */
struct api_ctx {
	uv_loop_t *loop; /* for work on the thread pool (password checks) */
	const struct lms_clock *clock;
	sqlite3 *db; /* the loop's connection: reads, and small writes of
		      * sessions */
	const char *tenant;
	const char *data_dir; /* holds content.git */
	const struct sync_client *sync;
	struct batch *batch; /* group commit of writes on db (batch.h) */
};

/* A module's handler of its own subtree of paths: answers x and returns
 * 1 when req->path is one of its paths, else returns 0 and leaves x. */
typedef int (*api_route_fn)(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req);

/* The http_handler of the server; ctx is a struct api_ctx. */
void api_handle(void *ctx, struct http_exchange *x,
		const struct http_request *req);

#endif
