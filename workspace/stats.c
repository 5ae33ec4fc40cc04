/*
 * The workspace's metrics (workspace/stats.h): read from the sync
 * client, the outbox and the HTTP server at each request, nothing kept.
 */
#include "workspace/stats.h"

#include "common/log.h"
#include "common/metrics.h"
#include "workspace/auth.h"
#include "workspace/mail.h"
#include "workspace/people.h"
#include "workspace/sync.h"

#include <errno.h>
#include <string.h>

#define STATS_PATH "/metrics"

/* A family of one sample without labels. */
static int stats_one(struct buf *b, const char *name, const char *type,
		     const char *help, double v)
{
	return metrics_family(b, name, type, help) ||
	       metrics_sample(b, name, NULL, NULL, v) ? -ENOMEM : 0;
}

static int stats_sync(struct api_ctx *api, struct buf *b)
{
	struct sync_stats s = { 0 };

	if (api->sync)
		sync_stats(api->sync, &s);
	if (stats_one(b, "lms_sync_connected", "gauge",
		      "1 while a session with the mother is up",
		      s.connected) ||
	    stats_one(b, "lms_sync_applied_seq", "gauge",
		      "the last event of the stream applied",
		      (double)s.applied_seq) ||
	    stats_one(b, "lms_sync_head_seq", "gauge",
		      "the last event the mother has, as last heard",
		      (double)s.head_seq) ||
	    stats_one(b, "lms_sync_lag_events", "gauge",
		      "events the mother has that are not applied yet",
		      (double)(s.head_seq - s.applied_seq)) ||
	    stats_one(b, "lms_sync_events_applied_total", "counter",
		      "events applied since the start",
		      (double)s.applied_total) ||
	    stats_one(b, "lms_sync_events_refused_total", "counter",
		      "events refused since the start",
		      (double)s.refused_total))
		return -ENOMEM;
	return 0;
}

static int stats_mail(struct api_ctx *api, struct buf *b)
{
	int64_t queued, retrying, sent;
	int rc = mail_outbox_counts(api->db, &queued, &retrying, &sent);

	if (rc)
		return rc;
	if (metrics_family(b, "lms_mail_queue", "gauge",
			   "mails not sent yet: queued, or retried after a "
			   "failed attempt") ||
	    metrics_sample(b, "lms_mail_queue", "state", "queued",
			   (double)queued) ||
	    metrics_sample(b, "lms_mail_queue", "state", "retrying",
			   (double)retrying) ||
	    stats_one(b, "lms_mail_sent_total", "counter",
		      "mails the mail server accepted", (double)sent))
		return -ENOMEM;
	return 0;
}

int stats_text(struct api_ctx *api, struct buf *b)
{
	int rc = stats_sync(api, b);

	if (!rc)
		rc = stats_mail(api, b);
	if (!rc && metrics_http(b, api->http))
		rc = -ENOMEM;
	return rc;
}

/* A scraper on this host: loopback and not forwarded by a proxy. */
static int stats_local(struct http_exchange *x, const struct http_request *req)
{
	return (!strcmp(req->peer, "127.0.0.1") || !strcmp(req->peer, "::1")) &&
	       !http_header(x, "X-Forwarded-For");
}

static void stats_answer(struct api_ctx *api, struct http_exchange *x,
			 const struct http_request *req)
{
	struct people_user me;
	struct buf b;

	if (!stats_local(x, req) &&
	    auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	buf_init(&b);
	if (stats_text(api, &b)) {
		log_error("msg=\"metrics not made\" tenant=%s req=%llu",
			  api->tenant, (unsigned long long)req->id);
		http_respond_error(x, 500, "internal",
				   "the metrics cannot be read");
	} else {
		http_add_header(x, "Cache-Control", "no-store");
		http_respond(x, 200, METRICS_CONTENT_TYPE, b.data, b.len);
	}
	buf_release(&b);
}

int stats_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req)
{
	if (strcmp(req->path, STATS_PATH))
		return 0;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_add_header(x, "Allow", "GET, HEAD");
		http_respond_error(x, 405, "method_not_allowed", "use GET");
		return 1;
	}
	stats_answer(api, x, req);
	return 1;
}
