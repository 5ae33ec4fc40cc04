/*
 * Static files of the web root, answered from the disk on each request:
 * the path is checked part by part before it meets the file system, the
 * file is read whole (it is small) and sent with its validator and the
 * security headers of its kind.
 */
#include "workspace/web.h"

#include "common/buf.h"
#include "common/fs.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WEB_APP_PREFIX "/app/"

struct web_type {
	const char *ext;
	const char *content_type;
};

static const struct web_type web_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

#define WEB_NTYPES (sizeof(web_types) / sizeof(web_types[0]))

static int web_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int web_path_safe(const char *rel)
{
	const char *p = rel;

	if (!*p || strlen(p) > 255)
		return 0;
	for (;;) {
		/* p is at the start of a part */
		if (*p == '/' || *p == '.' || !*p)
			return 0;
		while (*p && *p != '/') {
			if (!web_name_char(*p))
				return 0;
			p++;
		}
		if (!*p)
			return 1;
		p++;
	}
}

const char *web_content_type(const char *name)
{
	size_t n = strlen(name), e;

	for (size_t i = 0; i < WEB_NTYPES; i++) {
		e = strlen(web_types[i].ext);
		if (n > e && !strcmp(name + n - e, web_types[i].ext))
			return web_types[i].content_type;
	}
	return NULL;
}

int web_etag_matches(const char *if_none_match, const char *etag)
{
	const char *p = if_none_match;
	size_t n = strlen(etag), len;

	while (p && *p) {
		p += strspn(p, " \t,");
		if (!strncmp(p, "W/", 2))
			p += 2; /* weak comparison, as for a GET */
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((len == 1 && *p == '*') ||
		    (len == n && !memcmp(p, etag, n)))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

static void web_not_found(struct http_exchange *x)
{
	http_respond_error(x, 404, "not_found", "no such resource");
}

/* The web root's file for rel, malloc'd; NULL when out of memory. */
static char *web_file_path(const struct api_ctx *api, const char *rel)
{
	const char *root = api->web_dir;

	if (!root || !*root)
		root = WEB_DEFAULT_DIR;
	return fs_join(root, rel);
}

static void web_add_headers(struct http_exchange *x, const char *type,
			    const char *etag)
{
	http_add_header(x, "ETag", etag);
	http_add_header(x, "Cache-Control", "no-cache");
	if (strncmp(type, "text/html", 9))
		return;
	http_add_header(x, "Content-Security-Policy", WEB_CSP);
	http_add_header(x, "Referrer-Policy", "same-origin");
	http_add_header(x, "X-Frame-Options", "DENY");
}

/* The web root's regular file for rel into *path (malloc'd) with its
 * validator; -1 when there is none. */
static int web_find(const struct api_ctx *api, const char *rel, char **path,
		    char etag[64])
{
	struct stat st;

	*path = web_file_path(api, rel);
	if (!*path || stat(*path, &st) || !S_ISREG(st.st_mode)) {
		free(*path);
		*path = NULL;
		return -1;
	}
	snprintf(etag, 64, "\"%llx-%llx.%lx\"",
		 (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec,
		 (unsigned long)st.st_mtim.tv_nsec);
	return 0;
}

/* Sends the file rel of the web root (already checked by
 * web_path_safe()), or 304 when the client holds it. */
static void web_send_file(const struct api_ctx *api, struct http_exchange *x,
			  const struct http_request *req, const char *rel)
{
	const char *type = web_content_type(rel);
	struct buf body = { 0 };
	char etag[64], *path;
	int rc;

	if (!type || web_find(api, rel, &path, etag)) {
		web_not_found(x);
		return;
	}
	if (web_etag_matches(http_header(x, "If-None-Match"), etag)) {
		free(path);
		web_add_headers(x, type, etag);
		http_respond(x, 304, NULL, NULL, 0);
		return;
	}
	rc = fs_read_file(path, WEB_MAX_FILE, &body);
	free(path);
	if (rc) {
		log_error("msg=\"web file cannot be read\" file=%s req=%llu "
			  "error=\"%s\"", rel, (unsigned long long)req->id,
			  strerror(-rc));
		http_respond_error(x, 500, "internal",
				   "the file cannot be read");
	} else {
		web_add_headers(x, type, etag);
		http_respond(x, 200, type, body.data, body.len);
	}
	buf_release(&body);
}

int web_route(struct api_ctx *api, struct http_exchange *x,
	      const struct http_request *req)
{
	const char *rel;

	if (!strcmp(req->path, "/") || !strcmp(req->path, "/index.html"))
		rel = "index.html";
	else if (!strncmp(req->path, WEB_APP_PREFIX, strlen(WEB_APP_PREFIX)))
		rel = req->path + 1; /* app/... */
	else
		return 0;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_add_header(x, "Allow", "GET, HEAD");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	if (!web_path_safe(rel))
		web_not_found(x);
	else
		web_send_file(api, x, req, rel);
	return 1;
}
