/*
 * Serving the operators' pages from the web directory.
 */
#include "mother/pages.h"

#include "common/buf.h"
#include "common/fs.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Content-Type of a safe file name, or NULL when it is not one. */
static const char *pages_type(const char *name)
{
	const char *dot = strchr(name, '.');

	if (!dot || dot == name || strlen(name) > 64)
		return NULL;
	for (const char *p = name; p < dot; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-'))
			return NULL;
	if (!strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	return NULL;
}

static void pages_send(const char *dir, struct http_exchange *x,
		       const char *name, const char *type)
{
	struct buf body = { 0 };
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fs_read_file(path, PAGES_MAX_FILE, &body)) {
		buf_release(&body);
		http_respond_error(x, 404, "not_found", "no such page");
		return;
	}
	http_add_header(x, "Cache-Control", "no-cache");
	http_add_header(x, "X-Content-Type-Options", "nosniff");
	if (!strncmp(type, "text/html", 9)) {
		http_add_header(x, "Content-Security-Policy", PAGES_CSP);
		http_add_header(x, "Referrer-Policy", "no-referrer");
	}
	http_respond(x, 200, type, body.data, body.len);
	buf_release(&body);
}

int pages_route(const char *web_dir, struct http_exchange *x,
		const struct http_request *req)
{
	const char *dir = web_dir ? web_dir : LMS_MOTHER_WEB_DIR;
	const char *name, *type;

	if (!strcmp(req->path, "/"))
		name = "index.html";
	else if (!strncmp(req->path, "/app/", 5))
		name = req->path + 5;
	else
		return 0;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_add_header(x, "Allow", "GET, HEAD");
		http_respond_error(x, 405, "method_not_allowed",
				   "only GET is allowed here");
		return 1;
	}
	type = pages_type(name);
	if (!type) {
		http_respond_error(x, 404, "not_found", "no such page");
		return 1;
	}
	pages_send(dir, x, name, type);
	return 1;
}
