/*
 * The academy's branding: its name, two colours, the default language of
 * its pages, a logo and a style sheet of its own, kept in workspace.db
 * (migration 8) and set by admins.
 *
 *   GET  /api/v1/branding       (anyone) {"name", "primary_color",
 *                               "accent_color", "logo_url", "css_url",
 *                               "default_language"}
 *   PUT  /api/v1/branding       (admin) {"name"?, "primary_color"?,
 *                               "accent_color"?, "css"?,
 *                               "default_language"?} -> 200 branding;
 *                               null (or "" for css) returns a field to
 *                               its default
 *   PUT  /api/v1/branding/logo  (admin) the image as the body -> 200
 *   DELETE /api/v1/branding/logo (admin) -> 200 branding
 *   GET  /branding/logo, /branding/custom.css   the files, with ETag
 *
 * Until an admin sets them the name is the tenant id, the colours are
 * BRAND_DEFAULT_PRIMARY and BRAND_DEFAULT_ACCENT and the language "de".
 * logo_url and css_url carry ?v= and the start of the file's SHA-256, so
 * a new file has a new URL; such URLs are cached for good, the others
 * revalidated.
 *
 * Functions that touch the database take a connection from store_open()
 * and return 0 or a negative STORE_E* code (workspace/store.h).
 */
#ifndef LMS_WORKSPACE_BRAND_H
#define LMS_WORKSPACE_BRAND_H

#include "common/http.h"
#include "workspace/api.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define BRAND_NAME_MAX 100	      /* bytes */
#define BRAND_CSS_MAX (64 * 1024)     /* bytes */
#define BRAND_LOGO_MAX (512 * 1024)   /* bytes */
#define BRAND_DEFAULT_PRIMARY "#1d4e89"
#define BRAND_DEFAULT_ACCENT "#c2410c"
#define BRAND_DEFAULT_LANGUAGE "de"

/* 1 when s is a colour "#RRGGBB" (hex digits of either case). */
int brand_color_valid(const char *s);

/* 1 when s is a name of 1 to BRAND_NAME_MAX bytes of UTF-8 without
 * control characters and not only spaces. */
int brand_name_valid(const char *s);

/* NULL when css (len bytes) may be served as the academy's style sheet,
 * else why not: too long, not UTF-8, holding "</style", an escaped
 * at-rule or an @import of anything but a path of this workspace. */
const char *brand_css_check(const char *css, size_t len);

/* "image/png", "image/jpeg" or "image/webp" by the magic bytes of data,
 * or NULL for anything else. */
const char *brand_logo_type(const uint8_t *data, size_t len);

/* A change of the settings; NULL leaves a field as it is, "" returns it
 * to its default (removes the CSS). Fields must have been checked. */
struct brand_change {
	const char *name;
	const char *primary_color;
	const char *accent_color;
	const char *default_language;
	const char *css;
};

/* Applies a change in one transaction (the caller's when one is open:
 * audit_begin(), workspace/audit.h). */
int brand_update(sqlite3 *db, const struct brand_change *c, int64_t now);

/* Stores the logo (type from brand_logo_type()), replacing any; NULL
 * data removes it. */
int brand_logo_set(sqlite3 *db, const char *type, const uint8_t *data,
		   size_t len, int64_t now);

/* The branding as GET /api/v1/branding shows it; the caller frees *out
 * with cJSON_Delete(). */
int brand_json(sqlite3 *db, const char *tenant, cJSON **out);

/* Answers req when its path is one of this module's; see api_route_fn. */
int brand_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req);

#endif
