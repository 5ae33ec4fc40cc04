/*
 * The academy's web pages: the static files of the web root (index.html
 * and the JavaScript modules, styles and pictures under app/), served by
 * the workspace beside its API.
 *
 *   GET|HEAD /              index.html
 *   GET|HEAD /app/PATH      the file app/PATH of the web root
 *
 * The web root is api->web_dir (serve sets it from --web DIR, else the
 * environment variable LMS_WEB_DIR, else the one compiled in,
 * WEB_DEFAULT_DIR). Files are read
 * per request (they are small), so an edited page shows at once. Every
 * answer carries an ETag (size and modification time) and Cache-Control:
 * no-cache, so browsers revalidate and get 304 while nothing changed;
 * HTML also carries the Content-Security-Policy of the pages (scripts,
 * styles and pictures only from the workspace itself, no framing).
 * Paths whose parts are empty, start with a dot or hold other characters
 * than letters, digits, '.', '_' and '-' are answered 404, so nothing
 * outside the web root, and no hidden file, is ever served.
 */
#ifndef LMS_WORKSPACE_WEB_H
#define LMS_WORKSPACE_WEB_H

#include "common/http.h"
#include "workspace/api.h"

#include <stddef.h>

#ifndef LMS_WEB_DIR
#define LMS_WEB_DIR "web"
#endif
#define WEB_DEFAULT_DIR LMS_WEB_DIR
#define WEB_MAX_FILE (4u * 1024 * 1024) /* bytes of one served file */

/* The Content-Security-Policy of every HTML page. */
#define WEB_CSP                                                        \
	"default-src 'self'; img-src 'self' data:; style-src 'self'; "   \
	"script-src 'self'; object-src 'none'; base-uri 'none'; "         \
	"form-action 'self'; frame-ancestors 'none'"

/* 1 when rel (a path below the web root, without a leading slash) is
 * safe to serve by the rules above, else 0. */
int web_path_safe(const char *rel);

/* The Content-Type for a file name by its extension, or NULL for an
 * extension that is not served. */
const char *web_content_type(const char *name);

/* 1 when the If-None-Match header value (may be NULL) names etag or is
 * "*", else 0. */
int web_etag_matches(const char *if_none_match, const char *etag);

/* Answers req when its path is one of this module's; see api_route_fn. */
int web_route(struct api_ctx *api, struct http_exchange *x,
	      const struct http_request *req);

#endif
