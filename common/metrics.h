/*
 * Metrics in the Prometheus text exposition format (version 0.0.4), as
 * both daemons answer GET /metrics: a family is announced once with its
 * HELP and TYPE lines, then its samples follow, each "name{labels}
 * value". Label values are escaped here (backslash, double quote, line
 * end), so any text may be passed.
 *
 *   struct buf b = { 0 };
 *   metrics_family(&b, "lms_mail_queue", "gauge", "mails not sent yet");
 *   metrics_sample(&b, "lms_mail_queue", NULL, NULL, 3);
 *   metrics_family(&b, "lms_sync_events_sent_total", "counter", "...");
 *   metrics_sample(&b, "lms_sync_events_sent_total", "tenant", "acme",
 *                  42);
 *
 * Functions append to the buffer and return 0 or -ENOMEM.
 */
#ifndef LMS_METRICS_H
#define LMS_METRICS_H

#include "common/buf.h"

#include <stdint.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct http_server;

/* The HELP and TYPE lines of a family; type is "counter" or "gauge". */
int metrics_family(struct buf *b, const char *name, const char *type,
		   const char *help);

/* One sample; label (may be NULL for none) with its value. */
int metrics_sample(struct buf *b, const char *name, const char *label,
		   const char *value, double v);

/* The family lms_http_requests_total{code="..."}: the answers s sent
 * since it started, by status code (codes never sent are left out). */
int metrics_http(struct buf *b, const struct http_server *s);

#endif
