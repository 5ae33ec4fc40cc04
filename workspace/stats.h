/*
 * GET /metrics of the workspace, in the Prometheus text format
 * (common/metrics.h): the sync client's state and counters, the mail
 * outbox and the HTTP answers by status.
 *
 *   lms_sync_connected              gauge, 1 while a session is up
 *   lms_sync_applied_seq            gauge, the last event applied
 *   lms_sync_head_seq               gauge, the last the mother has
 *   lms_sync_lag_events             gauge, head minus applied
 *   lms_sync_events_applied_total   counter, since the start
 *   lms_sync_events_refused_total   counter, since the start
 *   lms_mail_queue{state}           gauge, "queued" and "retrying"
 *   lms_mail_sent_total             counter, mails the server accepted
 *   lms_http_requests_total{code}   counter, answers by status
 *
 * Who may read it: a client on the loopback address that came without
 * X-Forwarded-For (a scraper on the host, not a visitor through the
 * reverse proxy), or an admin (bearer token or session).
 */
#ifndef LMS_WORKSPACE_STATS_H
#define LMS_WORKSPACE_STATS_H

#include "common/buf.h"
#include "workspace/api.h"

/* The text of the metrics into b: 0, or a negative code (logged). */
int stats_text(struct api_ctx *api, struct buf *b);

/* Answers req when its path is /metrics; see api_route_fn. */
int stats_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req);

#endif
