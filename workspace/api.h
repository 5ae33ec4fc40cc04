/*
 * The workspace's HTTP API, served by common/http.h on the loop: the
 * JSON API under /api/v1/ (documented in docs/api.md), /healthz, the
 * branding files and the web pages.
 *
 * api.c answers the paths of its exact-route table (health, catalog,
 * session, the users, groups and assignments collections, my courses)
 * and hands every other path to the modules' own routers in turn
 * (api_route_fn): import, people, groups, assign, catalog, media, learn,
 * brand, settings, certificates, compliance, mail and certificate
 * templates, and web. Unknown paths get 404, a known
 * path with another method 405 (with an Allow header); errors are
 * {"error": {"code", "message"}}.
 * Handlers read workspace.db per request (through caches that notice
 * changes), so courses published from the command line show up at once.
 */
#ifndef LMS_WORKSPACE_API_H
#define LMS_WORKSPACE_API_H

#include <sqlite3.h>

#include "common/clock.h"
#include "common/http.h"
#include "workspace/batch.h"
#include "workspace/sync.h"

#include <uv.h>

struct coursecache;
struct mail_sender;
struct analytics_runner;

/* What the handlers use; everything borrowed, owned by serve. */
struct api_ctx {
	uv_loop_t *loop; /* for work on the thread pool (password checks) */
	const struct lms_clock *clock;
	sqlite3 *db; /* the loop's connection: reads, and small writes of
		      * sessions */
	const char *tenant;
	const char *data_dir; /* holds content.git */
	const char *web_dir;  /* the web pages' root (workspace/web.h) */
	const char *trusted_proxy; /* whose X-Forwarded-For names clients */
	const struct sync_client *sync;
	struct coursecache *courses; /* parsed courses, on db */
	struct batch *batch; /* group commit of writes on db (batch.h) */
	struct mail_sender *mail; /* the outbox's sender (mail.h); poke it
				   * after a commit that queued mail */
	const struct http_server *http; /* the server answering, for
					 * /metrics (workspace/stats.h) */
	struct analytics_runner *analytics; /* reports to the mother
					     * (analytics.h); NULL once
					     * stopped */
};

/* A module's handler of its own subtree of paths: answers x and returns
 * 1 when req->path is one of its paths, else returns 0 and leaves x. */
typedef int (*api_route_fn)(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req);

/* The http_handler of the server; ctx is a struct api_ctx. */
void api_handle(void *ctx, struct http_exchange *x,
		const struct http_request *req);

#endif
