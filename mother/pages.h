/*
 * The operators' web pages on the mother's admin port: static HTML, CSS
 * and JavaScript modules from mother/web/ (no build step, nothing from
 * elsewhere), which sign in and talk only to the admin API.
 *
 *   GET|HEAD /           index.html
 *   GET|HEAD /app/NAME   the file NAME of the web directory
 *
 * NAME is lower-case letters, digits and '-' with the extension .html,
 * .css or .js; anything else is 404, so nothing outside the directory
 * is served. The directory is web_dir when set (serve takes it from the
 * environment variable LMS_MOTHER_WEB_DIR), else the one compiled in.
 * Files are read per request (they are small) and sent with
 * Cache-Control: no-cache; HTML with a Content-Security-Policy that
 * allows scripts, styles and pictures from the mother only.
 */
#ifndef LMS_MOTHER_PAGES_H
#define LMS_MOTHER_PAGES_H

#include "common/http.h"

#ifndef LMS_MOTHER_WEB_DIR
#define LMS_MOTHER_WEB_DIR "web"
#endif
#define PAGES_MAX_FILE (1u << 20)

#define PAGES_CSP                                                        \
	"default-src 'self'; img-src 'self' data:; style-src 'self'; "   \
	"script-src 'self'; object-src 'none'; base-uri 'none'; "         \
	"form-action 'self'; frame-ancestors 'none'"

/* Answers req when it asks for a page (1), else 0. */
int pages_route(const char *web_dir, struct http_exchange *x,
		const struct http_request *req);

#endif
