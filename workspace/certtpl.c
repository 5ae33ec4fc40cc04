/*
 * The certificate template of workspace/certtpl.h: the checks of its
 * texts and of the signature image, the JSON of a change, the
 * transaction that applies one, the loading of what a PDF is drawn with
 * (cert.c) and the routes under /api/v1/certificate-template.
 */
#include "workspace/certtpl.h"

#include "common/clock.h"
#include "common/db.h"
#include "common/log.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTTPL_API "/api/v1/certificate-template"
#define CERTTPL_API_SIGNATURE "/api/v1/certificate-template/signature"

static const char *const certtpl_fields[CERTTPL_NTEXTS] = {
	"title", "body", "signer",
};
static const char *const certtpl_languages[2] = { "de", "en" };
static const char *const certtpl_placeholders[] = CERTPDF_PLACEHOLDERS;

const char *certtpl_strerror(int code)
{
	switch (code) {
	case CERTTPL_OK: return "ok";
	case CERTTPL_EINVAL: return "template refused";
	case CERTTPL_EDB: return "database error";
	case CERTTPL_ENOMEM: return "out of memory";
	default: return "unknown error";
	}
}

static int certtpl_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"certificate template query failed\" step=%s "
		  "error=\"%s\"", what, sqlite3_errmsg(db));
	return CERTTPL_EDB;
}

/* ---- checks ---- */

/* The most bytes and lines of each field. */
static const size_t certtpl_max[CERTTPL_NTEXTS] = {
	CERTTPL_TITLE_MAX, CERTTPL_BODY_MAX, CERTTPL_SIGNER_MAX,
};
static const int certtpl_lines_max[CERTTPL_NTEXTS] = {
	1, CERTTPL_BODY_LINES, 2,
};

/* The count of lines of text, or -1 when it holds a control character
 * other than "\n". */
static int certtpl_lines(const char *text)
{
	int lines = 1;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n')
			lines++;
		else if (*p < 0x20 || *p == 0x7f)
			return -1;
	}
	return lines;
}

int certtpl_text_check(enum certpdf_text field, const char *text,
		       char *why, size_t cap)
{
	const char *name = certtpl_fields[field];
	char reason[TEMPLATE_WHY_MAX];
	int lines;

	if (strlen(text) > certtpl_max[field]) {
		snprintf(why, cap, "%s is longer than %zu bytes", name,
			 certtpl_max[field]);
		return CERTTPL_EINVAL;
	}
	if (template_check(text, certtpl_placeholders, CERTPDF_NPLACEHOLDERS,
			   reason, sizeof(reason))) {
		snprintf(why, cap, "%s: %s", name, reason);
		return CERTTPL_EINVAL;
	}
	lines = certtpl_lines(text);
	if (lines < 0 || lines > certtpl_lines_max[field]) {
		snprintf(why, cap, "%s must be at most %d line%s without "
			 "control characters", name, certtpl_lines_max[field],
			 certtpl_lines_max[field] == 1 ? "" : "s");
		return CERTTPL_EINVAL;
	}
	if (field == CERTPDF_TITLE && !*text) {
		snprintf(why, cap, "title must not be empty (null returns it "
			 "to the default)");
		return CERTTPL_EINVAL;
	}
	if (field == CERTPDF_BODY && (!template_uses(text, "learner") ||
				      !template_uses(text, "course"))) {
		snprintf(why, cap, "body must name {{learner}} and {{course}}");
		return CERTTPL_EINVAL;
	}
	return 0;
}

int certtpl_signature_check(const uint8_t *p, size_t n, char *why,
			    size_t cap)
{
	char reason[CERTTPL_WHY_MAX - 16];

	if (n > CERTTPL_SIGNATURE_MAX) {
		snprintf(why, cap, "the signature image is larger than %d KiB",
			 CERTTPL_SIGNATURE_MAX / 1024);
		return CERTTPL_EINVAL;
	}
	if (certpdf_png_check(p, n, reason, sizeof(reason))) {
		snprintf(why, cap, "signature: %s", reason);
		return CERTTPL_EINVAL;
	}
	return 0;
}

/* ---- loading ---- */

void certtpl_release(struct certtpl *t)
{
	for (int i = 0; i < CERTTPL_NTEXTS; i++)
		free(t->text[i]);
	free(t->signature);
	memset(t, 0, sizeof(*t));
}

static int certtpl_field_index(const char *name)
{
	for (int i = 0; i < CERTTPL_NTEXTS; i++)
		if (!strcmp(name, certtpl_fields[i]))
			return i;
	return -1;
}

/* The tenant's texts of language into t->text, NULL where it set none. */
static int certtpl_load_texts(sqlite3 *db, const char *language,
			      struct certtpl *t)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT field, text FROM "
					  "certificate_texts WHERE "
					  "language = ?1");
	int step, i, rc = 0;

	if (!st)
		return CERTTPL_EDB;
	sqlite3_bind_text(st, 1, language, -1, SQLITE_STATIC);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		i = certtpl_field_index(db_text(st, 0));
		if (i < 0 || t->text[i])
			continue;
		if (!(t->text[i] = strdup(db_text(st, 1))))
			rc = CERTTPL_ENOMEM;
	}
	if (!rc && step != SQLITE_DONE)
		rc = certtpl_fail(db, "load_texts");
	sqlite3_finalize(st);
	return rc;
}

/* The stored signature into *data (malloc'd) and *len, or NULL. */
static int certtpl_load_signature(sqlite3 *db, uint8_t **data, size_t *len)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT data FROM "
					  "certificate_signature");
	int step, n, rc = 0;

	*data = NULL;
	*len = 0;
	if (!st)
		return CERTTPL_EDB;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && (n = sqlite3_column_bytes(st, 0)) > 0) {
		if (!(*data = malloc((size_t)n)))
			rc = CERTTPL_ENOMEM;
		else
			memcpy(*data, sqlite3_column_blob(st, 0), (size_t)n);
		*len = *data ? (size_t)n : 0;
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = certtpl_fail(db, "load_signature");
	}
	sqlite3_finalize(st);
	return rc;
}

/* The texts of language into t, the built-in ones where the tenant set
 * none. */
static int certtpl_load_all_texts(sqlite3 *db, const char *lang,
				  struct certtpl *t)
{
	int rc = certtpl_load_texts(db, lang, t);

	for (int i = 0; !rc && i < CERTTPL_NTEXTS; i++)
		if (!t->text[i] &&
		    !(t->text[i] = strdup(certpdf_default_text(i, lang))))
			rc = CERTTPL_ENOMEM;
	return rc;
}

int certtpl_load(sqlite3 *db, const char *language, struct certtpl *out)
{
	const char *lang = language && !strcmp(language, "en") ? "en" : "de";
	int rc;

	memset(out, 0, sizeof(*out));
	rc = certtpl_load_all_texts(db, lang, out);
	if (!rc)
		rc = certtpl_load_signature(db, &out->signature,
					    &out->signature_len);
	return rc;
}

/* ---- a change ---- */

/* One language's value v of field into c: a string (checked) or null. */
static int certtpl_parse_one(const cJSON *v, int field, int lang,
			     struct certtpl_change *c, char *why, size_t cap)
{
	char reason[CERTTPL_WHY_MAX];

	if (cJSON_IsNull(v)) {
		c->reset[field][lang] = 1;
		return 0;
	}
	if (!cJSON_IsString(v)) {
		snprintf(why, cap, "%s.%s must be a string or null",
			 certtpl_fields[field], certtpl_languages[lang]);
		return CERTTPL_EINVAL;
	}
	if (certtpl_text_check(field, v->valuestring, reason,
			       sizeof(reason))) {
		/* "body: ..." becomes "body.de: ..." */
		snprintf(why, cap, "%s.%s%s", certtpl_fields[field],
			 certtpl_languages[lang],
			 reason + strlen(certtpl_fields[field]));
		return CERTTPL_EINVAL;
	}
	c->text[field][lang] = v->valuestring;
	return 0;
}

/* The member of field, a text for both languages or {"de", "en"}. */
static int certtpl_parse_field(const cJSON *v, int field,
			       struct certtpl_change *c, char *why, size_t cap)
{
	const cJSON *item;
	int rc = 0;

	if (!cJSON_IsObject(v)) {
		for (int lang = 0; lang < 2 && !rc; lang++)
			rc = certtpl_parse_one(v, field, lang, c, why, cap);
		return rc;
	}
	cJSON_ArrayForEach(item, v) {
		if (strcmp(item->string, "de") && strcmp(item->string, "en")) {
			snprintf(why, cap, "%s: the languages are \"de\" and "
				 "\"en\", not \"%.20s\"", certtpl_fields[field],
				 item->string);
			return CERTTPL_EINVAL;
		}
		rc = certtpl_parse_one(item, field, item->string[0] == 'e', c,
				       why, cap);
		if (rc)
			return rc;
	}
	return 0;
}

static int certtpl_parse_signature(const cJSON *v, struct certtpl_change *c,
				   char *why, size_t cap)
{
	if (cJSON_IsTrue(v))
		c->signature = CERTTPL_SIGNATURE_NEEDED;
	else if (cJSON_IsFalse(v) || cJSON_IsNull(v))
		c->signature = CERTTPL_SIGNATURE_REMOVE;
	else {
		snprintf(why, cap, "signature must be true, false or null");
		return CERTTPL_EINVAL;
	}
	return 0;
}

int certtpl_parse(const cJSON *body, struct certtpl_change *c, char *why,
		  size_t cap)
{
	const cJSON *item;
	int field, rc = 0;

	memset(c, 0, sizeof(*c));
	if (!cJSON_IsObject(body)) {
		snprintf(why, cap, "the template must be a JSON object");
		return CERTTPL_EINVAL;
	}
	cJSON_ArrayForEach(item, body) {
		field = certtpl_field_index(item->string);
		if (field >= 0)
			rc = certtpl_parse_field(item, field, c, why, cap);
		else if (!strcmp(item->string, "signature"))
			rc = certtpl_parse_signature(item, c, why, cap);
		else if (strcmp(item->string, "custom") &&
			 strcmp(item->string, "placeholders")) {
			snprintf(why, cap, "unknown member \"%.40s\" (title, "
				 "body, signer, signature)", item->string);
			rc = CERTTPL_EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Stores or removes (text NULL) one text. */
static int certtpl_store_text(sqlite3 *db, int field, int lang,
			      const char *text)
{
	sqlite3_stmt *st = db_prepare(db, text ?
		"INSERT INTO certificate_texts (field, language, text) VALUES"
		" (?1, ?2, ?3) ON CONFLICT (field, language) DO UPDATE SET "
		"text = ?3" :
		"DELETE FROM certificate_texts WHERE field = ?1 AND "
		"language = ?2");
	int rc = 0;

	if (!st)
		return CERTTPL_EDB;
	sqlite3_bind_text(st, 1, certtpl_fields[field], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, certtpl_languages[lang], -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = certtpl_fail(db, "store_text");
	sqlite3_finalize(st);
	return rc;
}

/* Stores the image (or removes it when data is NULL). */
static int certtpl_store_signature(sqlite3 *db, const uint8_t *data,
				   size_t len, int64_t now)
{
	sqlite3_stmt *st = db_prepare(db, data ?
		"INSERT INTO certificate_signature (id, data, updated_at) "
		"VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET "
		"data = ?1, updated_at = ?2" :
		"DELETE FROM certificate_signature");
	int rc = 0;

	if (!st)
		return CERTTPL_EDB;
	if (data) {
		sqlite3_bind_blob(st, 1, data, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = certtpl_fail(db, "store_signature");
	sqlite3_finalize(st);
	return rc;
}

/* 1 when the table (a name of this module's) has a row, 0 when not, or
 * CERTTPL_EDB. */
static int certtpl_any(sqlite3 *db, const char *table)
{
	char sql[64];
	sqlite3_stmt *st;
	int step;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s", table);
	if (!(st = db_prepare(db, sql)))
		return CERTTPL_EDB;
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return certtpl_fail(db, table);
	return step == SQLITE_ROW;
}

/* 1 when a signature is stored, 0 when not, or CERTTPL_EDB. */
static int certtpl_has_signature(sqlite3 *db)
{
	return certtpl_any(db, "certificate_signature");
}

/* The writes of c, inside the caller's transaction. */
static int certtpl_write(sqlite3 *db, const struct certtpl_change *c,
			 int64_t now, char *why, size_t cap)
{
	int rc = 0;

	for (int f = 0; f < CERTTPL_NTEXTS && !rc; f++)
		for (int lang = 0; lang < 2 && !rc; lang++)
			if (c->text[f][lang] || c->reset[f][lang])
				rc = certtpl_store_text(db, f, lang,
							c->text[f][lang]);
	if (!rc && c->image)
		rc = certtpl_store_signature(db, c->image, c->image_len, now);
	else if (!rc && c->signature == CERTTPL_SIGNATURE_REMOVE)
		rc = certtpl_store_signature(db, NULL, 0, now);
	if (rc || c->signature != CERTTPL_SIGNATURE_NEEDED)
		return rc;
	rc = certtpl_has_signature(db);
	if (rc == 0) {
		snprintf(why, cap, "the template asks for the signature "
			 "(\"signature\": true) but no signature image is "
			 "stored; upload one first");
		return CERTTPL_EINVAL;
	}
	return rc < 0 ? rc : 0;
}

int certtpl_apply(sqlite3 *db, const struct certtpl_change *c, int64_t now,
		  char *why, size_t cap)
{
	int rc, own;

	if (c->image && (rc = certtpl_signature_check(c->image, c->image_len,
						      why, cap)))
		return rc;
	if (c->image && c->signature == CERTTPL_SIGNATURE_REMOVE) {
		snprintf(why, cap, "a signature image was given but the "
			 "template says \"signature\": false");
		return CERTTPL_EINVAL;
	}
	if ((own = audit_begin(db)) < 0)
		return CERTTPL_EDB;
	rc = certtpl_write(db, c, now, why, cap);
	return audit_end(db, own, rc) < 0 ? (rc ? rc : CERTTPL_EDB) : 0;
}

int certtpl_apply_audited(sqlite3 *db, const struct audit_actor *who,
			  const struct certtpl_change *c, int64_t now,
			  const char *what, char *why, size_t cap)
{
	cJSON *d = cJSON_CreateObject();
	int own = audit_begin(db), rc;

	if (d && !cJSON_AddStringToObject(d, "what", what)) {
		cJSON_Delete(d);
		d = NULL;
	}
	if (own < 0) {
		cJSON_Delete(d);
		return CERTTPL_EDB;
	}
	rc = certtpl_apply(db, c, now, why, cap);
	if (!rc && audit_append_json(db, now, who, "template.change",
				     "certificate_template", d))
		rc = CERTTPL_EDB;
	else if (rc)
		cJSON_Delete(d);
	return audit_end(db, own, rc) < 0 ? (rc ? rc : CERTTPL_EDB) : 0;
}

/* ---- the JSON of GET ---- */

/* {"de", "en"} of field, the tenant's texts or the built-in ones. */
static int certtpl_json_field(const struct certtpl t[2], int field,
			      cJSON *o)
{
	cJSON *f = cJSON_AddObjectToObject(o, certtpl_fields[field]);

	for (int lang = 0; f && lang < 2; lang++)
		if (!cJSON_AddStringToObject(f, certtpl_languages[lang],
					     t[lang].text[field]))
			return CERTTPL_ENOMEM;
	return f ? 0 : CERTTPL_ENOMEM;
}

/* 1 when the tenant set a text, 0 when not, or CERTTPL_EDB. */
static int certtpl_custom(sqlite3 *db)
{
	return certtpl_any(db, "certificate_texts");
}

static int certtpl_json_fill(sqlite3 *db, const struct certtpl t[2],
			     cJSON *o)
{
	int custom = certtpl_custom(db), rc = custom < 0 ? custom : 0;
	int signature = rc ? 0 : certtpl_has_signature(db);
	cJSON *names;

	if (!rc && signature < 0)
		rc = signature;
	for (int f = 0; f < CERTTPL_NTEXTS && !rc; f++)
		rc = certtpl_json_field(t, f, o);
	if (rc)
		return rc;
	names = cJSON_CreateStringArray(certtpl_placeholders,
					CERTPDF_NPLACEHOLDERS);
	if (!cJSON_AddBoolToObject(o, "signature", signature) ||
	    !cJSON_AddBoolToObject(o, "custom", custom) ||
	    !cJSON_AddItemToObject(o, "placeholders", names))
		return CERTTPL_ENOMEM;
	return 0;
}

int certtpl_json(sqlite3 *db, cJSON **out)
{
	struct certtpl t[2];
	cJSON *o = cJSON_CreateObject();
	int rc = o ? 0 : CERTTPL_ENOMEM;

	memset(t, 0, sizeof(t));
	for (int lang = 0; lang < 2 && !rc; lang++)
		rc = certtpl_load_all_texts(db, certtpl_languages[lang],
					    &t[lang]);
	if (!rc)
		rc = certtpl_json_fill(db, t, o);
	certtpl_release(&t[0]);
	certtpl_release(&t[1]);
	if (rc) {
		cJSON_Delete(o);
		o = NULL;
	}
	*out = o;
	return rc;
}

/* ---- routes ---- */

static void certtpl_internal(struct api_ctx *api, struct http_exchange *x,
			     const struct http_request *req, int rc)
{
	log_error("msg=\"certificate template request failed\" tenant=%s "
		  "req=%llu error=\"%s\"", api->tenant,
		  (unsigned long long)req->id, certtpl_strerror(rc));
	http_respond_error(x, 500, "internal", "the certificate template "
			   "cannot be read or stored");
}

static void certtpl_send(struct api_ctx *api, struct http_exchange *x,
			 const struct http_request *req)
{
	cJSON *o;
	int rc = certtpl_json(api->db, &o);

	if (rc) {
		certtpl_internal(api, x, req, rc);
		return;
	}
	http_add_header(x, "Cache-Control", "no-store");
	http_respond_json(x, 200, o);
}

static void certtpl_get(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req)
{
	struct people_user me;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	certtpl_send(api, x, req);
}

/* Applies c for the admin me and answers: 200, 400 or 500. */
static void certtpl_change(struct api_ctx *api, struct http_exchange *x,
			   const struct http_request *req,
			   const struct certtpl_change *c,
			   const struct people_user *me, const char *what)
{
	struct audit_actor who = { me->id, me->email };
	char why[CERTTPL_WHY_MAX];
	int rc = certtpl_apply_audited(api->db, &who, c, clock_now(api->clock),
				       what, why, sizeof(why));

	if (rc == CERTTPL_EINVAL) {
		http_respond_error(x, 400, "bad_request", why);
		return;
	}
	if (rc) {
		certtpl_internal(api, x, req, rc);
		return;
	}
	log_info("msg=\"certificate template changed\" what=%s tenant=%s "
		 "req=%llu by=%lld", what, api->tenant,
		 (unsigned long long)req->id, (long long)me->id);
	certtpl_send(api, x, req);
}

static void certtpl_put(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req)
{
	struct certtpl_change c;
	char why[CERTTPL_WHY_MAX];
	struct people_user me;
	cJSON *body;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	if (!body || certtpl_parse(body, &c, why, sizeof(why))) {
		http_respond_error(x, 400, "bad_request",
				   body ? why : "the body is not JSON");
		cJSON_Delete(body);
		return;
	}
	certtpl_change(api, x, req, &c, &me, "texts");
	cJSON_Delete(body);
}

static void certtpl_put_signature(struct api_ctx *api,
				  struct http_exchange *x,
				  const struct http_request *req)
{
	struct certtpl_change c = { .image = req->body,
				    .image_len = req->body_len };
	struct people_user me;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	if (req->body_len > CERTTPL_SIGNATURE_MAX) {
		http_respond_error(x, 413, "too_large", "the signature image "
				   "is larger than 512 KiB");
		return;
	}
	if (req->body_len < 8 || memcmp(req->body, "\x89PNG\r\n\x1a\n", 8)) {
		http_respond_error(x, 415, "unsupported_media_type",
				   "the signature must be a PNG image");
		return;
	}
	certtpl_change(api, x, req, &c, &me, "signature");
}

static void certtpl_delete_signature(struct api_ctx *api,
				     struct http_exchange *x,
				     const struct http_request *req)
{
	struct certtpl_change c = { .signature = CERTTPL_SIGNATURE_REMOVE };
	struct people_user me;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	certtpl_change(api, x, req, &c, &me, "signature_removed");
}

static void certtpl_get_signature(struct api_ctx *api,
				  struct http_exchange *x,
				  const struct http_request *req)
{
	struct people_user me;
	uint8_t *data;
	size_t len;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	rc = certtpl_load_signature(api->db, &data, &len);
	if (rc) {
		certtpl_internal(api, x, req, rc);
		return;
	}
	if (!data) {
		http_respond_error(x, 404, "not_found", "no signature image "
				   "is stored");
		return;
	}
	http_add_header(x, "Cache-Control", "private, no-store");
	http_add_header(x, "X-Content-Type-Options", "nosniff");
	http_respond(x, 200, "image/png", data, len);
	free(data);
}

static int certtpl_is(const struct http_request *req, const char *method)
{
	if (!strcmp(method, "GET") && !strcmp(req->method, "HEAD"))
		return 1;
	return !strcmp(req->method, method);
}

static void certtpl_not_allowed(struct http_exchange *x, const char *allow)
{
	http_add_header(x, "Allow", allow);
	http_respond_error(x, 405, "method_not_allowed",
			   "method not allowed on this path");
}

int certtpl_route(struct api_ctx *api, struct http_exchange *x,
		  const struct http_request *req)
{
	if (!strcmp(req->path, CERTTPL_API)) {
		if (certtpl_is(req, "GET"))
			certtpl_get(api, x, req);
		else if (certtpl_is(req, "PUT"))
			certtpl_put(api, x, req);
		else
			certtpl_not_allowed(x, "GET, HEAD, PUT");
	} else if (!strcmp(req->path, CERTTPL_API_SIGNATURE)) {
		if (certtpl_is(req, "GET"))
			certtpl_get_signature(api, x, req);
		else if (certtpl_is(req, "PUT"))
			certtpl_put_signature(api, x, req);
		else if (certtpl_is(req, "DELETE"))
			certtpl_delete_signature(api, x, req);
		else
			certtpl_not_allowed(x, "GET, HEAD, PUT, DELETE");
	} else {
		return 0;
	}
	return 1;
}
