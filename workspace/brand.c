/*
 * Branding of the academy: checks of what an admin sends, the settings
 * and files in workspace.db, and the routes that read and change them.
 * Reads are one or two small queries on the loop's connection; a change
 * is one transaction.
 */
#include "workspace/brand.h"

#include "common/crypto.h"
#include "common/db.h"
#include "common/log.h"
#include "common/utf8.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/store.h"
#include "workspace/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BRAND_VERSION_LEN 16 /* hex digits of ?v= */
#define BRAND_API "/api/v1/branding"
#define BRAND_API_LOGO "/api/v1/branding/logo"
#define BRAND_LOGO "/branding/logo"
#define BRAND_CSS "/branding/custom.css"
#define BRAND_CSS_TYPE "text/css; charset=utf-8"

/* ---- checks ---- */

static int brand_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

int brand_color_valid(const char *s)
{
	if (!s || s[0] != '#' || strlen(s) != 7)
		return 0;
	for (int i = 1; i < 7; i++)
		if (!brand_hex(s[i]))
			return 0;
	return 1;
}

/* 1 when s (n bytes) is UTF-8 without NUL and, when text_line is set,
 * without any control character. */
static int brand_utf8_valid(const char *s, size_t n, int text_line)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		if (!p[i] || p[i] == 0x7f ||
		    (text_line && p[i] < 0x20))
			return 0;
		if (!(len = utf8_seq_len(p + i, n - i)))
			return 0;
		i += len;
	}
	return 1;
}

int brand_name_valid(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (!n || n > BRAND_NAME_MAX || strspn(s, " ") == n)
		return 0;
	return brand_utf8_valid(s, n, 1);
}

/* 1 when the text from p to end starts with word, in any case. */
static int brand_starts(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - p) >= n && !strncasecmp(p, word, n);
}

/* The first byte from p on (before end) that is not a blank. */
static const char *brand_blanks(const char *p, const char *end)
{
	while (p < end && *p && strchr(" \t\r\n", *p))
		p++;
	return p;
}

/* 1 when the @import at p (past the keyword, before end) names a path
 * of this workspace: url("/..."), "/..." and the like, never "//host". */
static int brand_import_local(const char *p, const char *end)
{
	p = brand_blanks(p, end);
	if (brand_starts(p, end, "url("))
		p = brand_blanks(p + 4, end);
	if (p < end && (*p == '"' || *p == '\''))
		p++;
	if (p == end || *p != '/')
		return 0;
	return p + 1 == end || (p[1] != '/' && p[1] != '\\');
}

const char *brand_css_check(const char *css, size_t len)
{
	const char *p, *end = css + len;

	if (len > BRAND_CSS_MAX)
		return "the custom CSS is larger than 64 KiB";
	if (!brand_utf8_valid(css, len, 0))
		return "the custom CSS is not UTF-8 text";
	for (p = css; (p = memchr(p, '<', (size_t)(end - p))); p++)
		if (brand_starts(p, end, "</style"))
			return "the custom CSS must not contain \"</style\"";
	for (p = css; (p = memchr(p, '@', (size_t)(end - p))); p++) {
		if (p + 1 < end && p[1] == '\\')
			return "the custom CSS must not escape an at-rule";
		if (brand_starts(p + 1, end, "import") &&
		    !brand_import_local(p + 7, end))
			return "the custom CSS may import only paths of this "
			       "academy";
	}
	return NULL;
}

const char *brand_logo_type(const uint8_t *d, size_t n)
{
	if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return "image/jpeg";
	if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
		return "image/webp";
	return NULL;
}

/* ---- storage ---- */

static int brand_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"database query failed\" query=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

/* Sets key to value, or removes it for "" (the default); NULL: no-op. */
static int brand_setting_put(sqlite3 *db, const char *key,
			     const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (!value)
		return 0;
	st = db_prepare(db, *value ?
			"INSERT INTO branding (key, value) VALUES (?1, ?2) "
			"ON CONFLICT (key) DO UPDATE SET value = ?2" :
			"DELETE FROM branding WHERE key = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (*value)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : brand_fail(db, key);
	sqlite3_finalize(st);
	return rc;
}

/* Stores the asset name, or removes it when data is NULL. */
static int brand_asset_put(sqlite3 *db, const char *name, const char *type,
			   const void *data, size_t len, int64_t now)
{
	uint8_t sum[CRYPTO_SHA256_LEN];
	char etag[2 * CRYPTO_SHA256_LEN + 1];
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db, data ?
			"INSERT OR REPLACE INTO branding_assets (name, "
			"content_type, data, etag, updated_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5)" :
			"DELETE FROM branding_assets WHERE name = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (data) {
		crypto_sha256(data, len, sum);
		crypto_hex(sum, sizeof(sum), etag);
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 3, len ? data : "", len,
				    SQLITE_STATIC);
		sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
	}
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : brand_fail(db, name);
	sqlite3_finalize(st);
	return rc;
}

int brand_update(sqlite3 *db, const struct brand_change *c, int64_t now)
{
	int rc, own;

	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = brand_setting_put(db, "name", c->name);
	if (!rc)
		rc = brand_setting_put(db, "primary_color", c->primary_color);
	if (!rc)
		rc = brand_setting_put(db, "accent_color", c->accent_color);
	if (!rc)
		rc = brand_setting_put(db, "default_language",
				       c->default_language);
	if (!rc && c->css)
		rc = brand_asset_put(db, "css", BRAND_CSS_TYPE,
				     *c->css ? c->css : NULL, strlen(c->css),
				     now);
	return audit_end(db, own, rc);
}

int brand_logo_set(sqlite3 *db, const char *type, const uint8_t *data,
		   size_t len, int64_t now)
{
	return brand_asset_put(db, "logo", type, data, len, now);
}

/* Adds key: the stored value of key, or dflt. */
static int brand_add_setting(sqlite3 *db, cJSON *o, const char *key,
			     const char *dflt)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT value FROM branding "
					  "WHERE key = ?1");
	int rc, ok;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return brand_fail(db, key);
	}
	ok = cJSON_AddStringToObject(o, key, rc == SQLITE_ROW ?
				     db_text(st, 0) : dflt) != NULL;
	sqlite3_finalize(st);
	return ok ? 0 : STORE_ENOMEM;
}

/* Adds field: "path?v=VERSION" of the asset name, or null. */
static int brand_add_asset_url(sqlite3 *db, cJSON *o, const char *field,
			       const char *name, const char *path)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT etag FROM branding_assets "
					  "WHERE name = ?1");
	char url[64];
	int rc, ok;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return brand_fail(db, name);
	}
	if (rc == SQLITE_ROW) {
		snprintf(url, sizeof(url), "%s?v=%.*s", path,
			 BRAND_VERSION_LEN, db_text(st, 0));
		ok = cJSON_AddStringToObject(o, field, url) != NULL;
	} else {
		ok = cJSON_AddNullToObject(o, field) != NULL;
	}
	sqlite3_finalize(st);
	return ok ? 0 : STORE_ENOMEM;
}

int brand_json(sqlite3 *db, const char *tenant, cJSON **out)
{
	cJSON *o = cJSON_CreateObject();
	int rc = o ? 0 : STORE_ENOMEM;

	if (!rc)
		rc = brand_add_setting(db, o, "name", tenant);
	if (!rc)
		rc = brand_add_setting(db, o, "primary_color",
				       BRAND_DEFAULT_PRIMARY);
	if (!rc)
		rc = brand_add_setting(db, o, "accent_color",
				       BRAND_DEFAULT_ACCENT);
	if (!rc)
		rc = brand_add_asset_url(db, o, "logo_url", "logo",
					 BRAND_LOGO);
	if (!rc)
		rc = brand_add_asset_url(db, o, "css_url", "css", BRAND_CSS);
	if (!rc)
		rc = brand_add_setting(db, o, "default_language",
				       BRAND_DEFAULT_LANGUAGE);
	if (rc) {
		cJSON_Delete(o);
		o = NULL;
	}
	*out = o;
	return rc;
}

/* ---- routes ---- */

static void brand_internal(struct api_ctx *api, struct http_exchange *x,
			   const struct http_request *req, const char *what,
			   int rc)
{
	log_error("msg=\"branding request failed\" step=%s tenant=%s "
		  "req=%llu error=\"%s\"", what, api->tenant,
		  (unsigned long long)req->id, store_strerror(rc));
	http_respond_error(x, 500, "internal", "the branding cannot be "
			   "read or stored");
}

/* Answers 200 with the branding as it is now. */
static void brand_send_current(struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req)
{
	cJSON *o;
	int rc = brand_json(api->db, api->tenant, &o);

	if (rc) {
		brand_internal(api, x, req, "read", rc);
		return;
	}
	http_respond_json(x, 200, o);
}

/* Checks a text field: 1 when s may be stored. */
typedef int (*brand_check_fn)(const char *s);

static int brand_language_valid(const char *s)
{
	return !strcmp(s, "de") || !strcmp(s, "en");
}

/* One field of a PUT body into *out: left NULL when absent, "" for null
 * (back to the default), else the string, which check must accept;
 * -1 otherwise. */
static int brand_field(const cJSON *body, const char *key,
		       brand_check_fn check, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);

	*out = NULL;
	if (!v)
		return 0;
	if (cJSON_IsNull(v)) {
		*out = "";
		return 0;
	}
	if (!cJSON_IsString(v) || !check(v->valuestring))
		return -1;
	*out = v->valuestring;
	return 0;
}

/* The change a PUT body asks for into c; NULL, or why it is refused. */
static const char *brand_parse_change(const cJSON *body,
				      struct brand_change *c)
{
	const cJSON *css;

	if (!cJSON_IsObject(body))
		return "the body is not a JSON object";
	if (brand_field(body, "name", brand_name_valid, &c->name))
		return "the name must be 1 to 100 bytes of text";
	if (brand_field(body, "primary_color", brand_color_valid,
			&c->primary_color) ||
	    brand_field(body, "accent_color", brand_color_valid,
			&c->accent_color))
		return "a colour must be written #RRGGBB";
	if (brand_field(body, "default_language", brand_language_valid,
			&c->default_language))
		return "the default language must be \"de\" or \"en\"";
	css = cJSON_GetObjectItemCaseSensitive(body, "css");
	if (!css || cJSON_IsNull(css)) {
		c->css = css ? "" : NULL;
		return NULL;
	}
	if (!cJSON_IsString(css))
		return "the custom CSS must be a string or null";
	c->css = css->valuestring;
	return brand_css_check(c->css, strlen(c->css));
}

/* What the audit log keeps of a change: the body, the custom CSS as
 * "(changed)" rather than its text. */
static cJSON *brand_change_detail(const cJSON *body)
{
	cJSON *d = cJSON_Duplicate(body, 1);
	cJSON *css = cJSON_GetObjectItemCaseSensitive(d, "css");

	if (cJSON_IsString(css) &&
	    !cJSON_ReplaceItemInObjectCaseSensitive(
		    d, "css", cJSON_CreateString("(changed)"))) {
		cJSON_Delete(d);
		d = NULL;
	}
	return d;
}

/* {"logo": type or null, "bytes": len} */
static cJSON *brand_logo_detail(const char *type, size_t len)
{
	cJSON *d = cJSON_CreateObject();

	if (d && (!(type ? cJSON_AddStringToObject(d, "logo", type) :
			   cJSON_AddNullToObject(d, "logo")) ||
		  !cJSON_AddNumberToObject(d, "bytes", (double)len))) {
		cJSON_Delete(d);
		d = NULL;
	}
	return d;
}

/* The branding (c) or the logo (type, data, len: c NULL) changed by me,
 * with its audit entry "branding.change" (detail consumed), in one
 * transaction. */
static int brand_change_audited(struct api_ctx *api,
				const struct people_user *me,
				const struct brand_change *c,
				const char *type, const uint8_t *data,
				size_t len, cJSON *detail)
{
	struct audit_actor who = { me->id, me->email };
	int64_t now = clock_now(api->clock);
	int own = audit_begin(api->db), rc;

	if (own < 0) {
		cJSON_Delete(detail);
		return STORE_EDB;
	}
	rc = c ? brand_update(api->db, c, now) :
		 brand_logo_set(api->db, type, data, len, type ? now : 0);
	if (!rc)
		rc = audit_append_json(api->db, now, &who, "branding.change",
				       "branding", detail);
	else
		cJSON_Delete(detail);
	return audit_end(api->db, own, rc);
}

static void brand_put(struct api_ctx *api, struct http_exchange *x,
		      const struct http_request *req)
{
	struct brand_change c = { 0 };
	struct people_user me;
	const char *why;
	cJSON *body;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	why = body ? brand_parse_change(body, &c) : "the body is not JSON";
	if (why) {
		cJSON_Delete(body);
		http_respond_error(x, 400, "bad_request", why);
		return;
	}
	rc = brand_change_audited(api, &me, &c, NULL, NULL, 0,
				  brand_change_detail(body));
	cJSON_Delete(body);
	if (rc) {
		brand_internal(api, x, req, "update", rc);
		return;
	}
	log_info("msg=\"branding changed\" tenant=%s req=%llu by=%lld",
		 api->tenant, (unsigned long long)req->id, (long long)me.id);
	brand_send_current(api, x, req);
}

static void brand_put_logo(struct api_ctx *api, struct http_exchange *x,
			   const struct http_request *req)
{
	struct people_user me;
	const char *type;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	if (req->body_len > BRAND_LOGO_MAX) {
		http_respond_error(x, 413, "too_large",
				   "the logo is larger than 512 KiB");
		return;
	}
	type = brand_logo_type(req->body, req->body_len);
	if (!type) {
		http_respond_error(x, 415, "unsupported_media_type",
				   "the logo must be a PNG, JPEG or WebP "
				   "image");
		return;
	}
	rc = brand_change_audited(api, &me, NULL, type, req->body,
				  req->body_len,
				  brand_logo_detail(type, req->body_len));
	if (rc) {
		brand_internal(api, x, req, "logo", rc);
		return;
	}
	log_info("msg=\"logo changed\" tenant=%s req=%llu by=%lld type=%s "
		 "bytes=%zu", api->tenant, (unsigned long long)req->id,
		 (long long)me.id, type, req->body_len);
	brand_send_current(api, x, req);
}

static void brand_delete_logo(struct api_ctx *api, struct http_exchange *x,
			      const struct http_request *req)
{
	struct people_user me;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	rc = brand_change_audited(api, &me, NULL, NULL, NULL, 0,
				  brand_logo_detail(NULL, 0));
	if (rc) {
		brand_internal(api, x, req, "logo", rc);
		return;
	}
	log_info("msg=\"logo removed\" tenant=%s req=%llu by=%lld",
		 api->tenant, (unsigned long long)req->id, (long long)me.id);
	brand_send_current(api, x, req);
}

/* 1 when the query holds v=VERSION, the start of etag. */
static int brand_query_version(const char *query, const char *etag)
{
	const char *p = query;

	while (p && *p) {
		if (!strncmp(p, "v=", 2) &&
		    strcspn(p + 2, "&") == BRAND_VERSION_LEN &&
		    !strncmp(p + 2, etag, BRAND_VERSION_LEN))
			return 1;
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return 0;
}

/* Sends the asset name with its validator, 304 when the client holds
 * it, 404 when there is none. */
static void brand_send_asset(struct api_ctx *api, struct http_exchange *x,
			     const struct http_request *req,
			     const char *name)
{
	sqlite3_stmt *st = db_prepare(api->db, "SELECT content_type, data, "
					       "etag FROM branding_assets "
					       "WHERE name = ?1");
	char etag[80];
	int rc;

	if (!st) {
		brand_internal(api, x, req, name, STORE_EDB);
		return;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			http_respond_error(x, 404, "not_found",
					   "no such file");
		else
			brand_internal(api, x, req, name,
				       brand_fail(api->db, name));
		return;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", db_text(st, 2));
	http_add_header(x, "ETag", etag);
	http_add_header(x, "Cache-Control",
			brand_query_version(req->query, etag + 1) ?
			"public, max-age=31536000, immutable" : "no-cache");
	http_add_header(x, "Content-Security-Policy", "default-src 'none'");
	if (web_etag_matches(http_header(x, "If-None-Match"), etag))
		http_respond(x, 304, NULL, NULL, 0);
	else
		http_respond(x, 200, db_text(st, 0), sqlite3_column_blob(st, 1),
			     (size_t)sqlite3_column_bytes(st, 1));
	sqlite3_finalize(st);
}

static void brand_not_allowed(struct http_exchange *x, const char *allow)
{
	http_add_header(x, "Allow", allow);
	http_respond_error(x, 405, "method_not_allowed",
			   "method not allowed on this path");
}

static int brand_is_get(const struct http_request *req)
{
	return !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
}

int brand_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req)
{
	const char *m = req->method;

	if (!strcmp(req->path, BRAND_API)) {
		if (brand_is_get(req))
			brand_send_current(api, x, req);
		else if (!strcmp(m, "PUT"))
			brand_put(api, x, req);
		else
			brand_not_allowed(x, "GET, HEAD, PUT");
	} else if (!strcmp(req->path, BRAND_API_LOGO)) {
		if (!strcmp(m, "PUT"))
			brand_put_logo(api, x, req);
		else if (!strcmp(m, "DELETE"))
			brand_delete_logo(api, x, req);
		else
			brand_not_allowed(x, "PUT, DELETE");
	} else if (!strcmp(req->path, BRAND_LOGO) ||
		   !strcmp(req->path, BRAND_CSS)) {
		if (brand_is_get(req))
			brand_send_asset(api, x, req,
					 req->path[10] == 'l' ? "logo" : "css");
		else
			brand_not_allowed(x, "GET, HEAD");
	} else {
		return 0;
	}
	return 1;
}
