/*
 * The admin's settings: one table of keys with their checks, the
 * transaction that stores a change, the printing of `settings get` and
 * the routes GET and PUT /api/v1/settings. A value is checked by its
 * key's function before anything is written; the SMTP password is
 * stored (workspace.db is the tenant's secret store, as for its key)
 * but never shown.
 */
#include "workspace/settings.h"

#include "common/db.h"
#include "common/log.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/mail.h"
#include "workspace/store.h"
#include "workspace/template.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTINGS_API "/api/v1/settings"
#define SETTINGS_TEXT_MAX (STORE_SETTING_MAX - 1)

typedef int (*settings_check_fn)(const char *value, char *why);

struct settings_key {
	const char *name;
	settings_check_fn check;
	int secret;
};

/* ---- checks ---- */

static int settings_why(char *why, const char *text)
{
	snprintf(why, SETTINGS_WHY_MAX, "%s", text);
	return SETTINGS_EVALUE;
}

/* 1 when s is printable ASCII without space, quotes or brackets. */
static int settings_url_chars(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr("\"'<>\\`{}|^", *s))
			return 0;
	return 1;
}

/* What a URL setting may hold beyond a scheme of schemes (a NULL-ended
 * list) and a host. */
struct settings_url_rule {
	const char *const *schemes;
	int port_needed;
	int path_is_host; /* smtp's optional "/EHLO-NAME": one segment */
};

/* 1 when libcurl's URL parser has part p of u. */
static int settings_url_has(CURLU *u, CURLUPart p)
{
	char *v = NULL;
	int has = curl_url_get(u, p, &v, 0) == CURLUE_OK;

	curl_free(v);
	return has;
}

/* 1 when u has no port, or one from 1 to 65535. */
static int settings_url_port_ok(CURLU *u)
{
	char *port = NULL;
	long n = 1;

	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		n = strtol(port, NULL, 10);
	curl_free(port);
	return n >= 1 && n <= 65535;
}

enum { SETTINGS_URL_OK, SETTINGS_URL_BAD, SETTINGS_URL_NO_PORT };

/* Whether v is a URL the rule allows: parsed by libcurl, with one of the
 * schemes, a host, a port (1 to 65535) where one is needed, and no user,
 * password, query or fragment. */
static int settings_url_check(const char *v,
			      const struct settings_url_rule *r)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *path = NULL;
	int ok = 0, rc = SETTINGS_URL_BAD;

	if (!u || !settings_url_chars(v) ||
	    curl_url_set(u, CURLUPART_URL, v, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	for (size_t i = 0; r->schemes[i] && !ok; i++)
		ok = !strcmp(scheme, r->schemes[i]);
	ok = ok && settings_url_has(u, CURLUPART_HOST) &&
	     !settings_url_has(u, CURLUPART_USER) &&
	     !settings_url_has(u, CURLUPART_PASSWORD) &&
	     !settings_url_has(u, CURLUPART_QUERY) &&
	     !settings_url_has(u, CURLUPART_FRAGMENT) &&
	     settings_url_port_ok(u) &&
	     (!r->path_is_host || !strchr(path + (path[0] == '/'), '/'));
	if (ok)
		rc = !r->port_needed || settings_url_has(u, CURLUPART_PORT) ?
			     SETTINGS_URL_OK : SETTINGS_URL_NO_PORT;
out:
	curl_free(scheme);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

static int settings_check_smtp_url(const char *v, char *why)
{
	static const char *const schemes[] = { "smtp", "smtps", NULL };
	static const struct settings_url_rule rule = { schemes, 1, 1 };
	int rc = settings_url_check(v, &rule);

	if (rc == SETTINGS_URL_NO_PORT)
		return settings_why(why, "smtp.url needs a port, e.g. "
				    "smtp://mail.example.com:587");
	if (rc)
		return settings_why(why, "smtp.url must be smtp://HOST:PORT "
				    "or smtps://HOST:PORT");
	return 0;
}

static int settings_check_web_url(const char *v, char *why)
{
	static const char *const schemes[] = { "http", "https", NULL };
	static const struct settings_url_rule rule = { schemes, 0, 0 };

	if (settings_url_check(v, &rule))
		return settings_why(why, "web.url must be "
				    "http://HOST[:PORT][/PATH] or https://...");
	return 0;
}

/* A user name or password: bytes without control characters. */
static int settings_check_text(const char *v, char *why)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return settings_why(why, "the value must not hold "
					    "control characters");
	return 0;
}

static int settings_check_from(const char *v, char *why)
{
	char name[MAIL_ADDRESS_MAX + 1], addr[MAIL_ADDRESS_MAX + 1];

	if (strlen(v) > MAIL_ADDRESS_MAX || mail_from_parse(v, name, addr))
		return settings_why(why, "mail.from must be an address, "
				    "user@example.com, or Name "
				    "<user@example.com>");
	return 0;
}

static int settings_check_reminders(const char *v, char *why)
{
	struct settings_reminder r[SETTINGS_REMINDERS_MAX];
	int n = settings_reminders_parse(v, r, why);

	return n < 0 ? n : 0;
}

static const struct settings_key settings_keys[] = {
	{ SETTINGS_SMTP_URL, settings_check_smtp_url, 0 },
	{ SETTINGS_SMTP_USER, settings_check_text, 0 },
	{ SETTINGS_SMTP_PASSWORD, settings_check_text, 1 },
	{ SETTINGS_MAIL_FROM, settings_check_from, 0 },
	{ SETTINGS_WEB_URL, settings_check_web_url, 0 },
	{ SETTINGS_REMINDERS, settings_check_reminders, 0 },
};

#define SETTINGS_NKEYS (sizeof(settings_keys) / sizeof(settings_keys[0]))

static const struct settings_key *settings_find(const char *key)
{
	for (size_t i = 0; i < SETTINGS_NKEYS; i++)
		if (!strcmp(settings_keys[i].name, key))
			return &settings_keys[i];
	return NULL;
}

/* 1 when key is a mail template's (workspace/template.h checks it). */
static int settings_is_template(const char *key)
{
	int rc;

	return template_mail_key(key, "", &rc, NULL, 0);
}

int settings_known(const char *key)
{
	return settings_find(key) != NULL || settings_is_template(key);
}

int settings_check(const char *key, const char *value, char *why)
{
	const struct settings_key *k = settings_find(key);
	char reason[TEMPLATE_WHY_MAX];
	int rc;

	if (template_mail_key(key, value, &rc, reason, sizeof(reason))) {
		if (rc)
			snprintf(why, SETTINGS_WHY_MAX, "%.60s: %s", key,
				 reason);
		return rc ? SETTINGS_EVALUE : 0;
	}
	if (!k) {
		snprintf(why, SETTINGS_WHY_MAX, "unknown setting '%.60s'", key);
		return SETTINGS_EKEY;
	}
	if (!*value)
		return 0;
	if (strlen(value) > SETTINGS_TEXT_MAX) {
		snprintf(why, SETTINGS_WHY_MAX, "%s is longer than %d bytes",
			 k->name, SETTINGS_TEXT_MAX);
		return SETTINGS_EVALUE;
	}
	return k->check(value, why);
}

/* ---- the reminder schedule ---- */

/* N from 1 to 365, written without a leading zero. */
static int settings_days(const char *s, int *out)
{
	size_t n = strspn(s, "0123456789");

	if (n < 1 || n > 3 || s[n] || s[0] == '0')
		return -1;
	*out = atoi(s);
	return *out <= 365 ? 0 : -1;
}

/* Parses one entry of len bytes at s into r. */
static int settings_reminder_entry(const char *s, size_t len,
				   struct settings_reminder *r)
{
	char text[16];
	int days;

	if (!len || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = 0;
	r->expiry = !strncmp(text, "expiry-", 7);
	if (r->expiry)
		return settings_days(text + 7, &r->days);
	if (!strcmp(text, "0")) {
		r->days = 0;
		return 0;
	}
	if ((text[0] != '-' && text[0] != '+') ||
	    settings_days(text + 1, &days))
		return -1;
	r->days = text[0] == '-' ? -days : days;
	return 0;
}

int settings_reminders_parse(const char *s,
			     struct settings_reminder *out, char *why)
{
	const char *p = s, *comma;
	size_t len;
	int n = 0;

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (n == SETTINGS_REMINDERS_MAX)
			return settings_why(why, "reminders.schedule has more "
					    "than 16 entries");
		if (settings_reminder_entry(p, len, &out[n])) {
			snprintf(why, SETTINGS_WHY_MAX, "reminders.schedule: "
				 "'%.*s' is not -N, 0, +N or expiry-N (N 1 to "
				 "365)", (int)(len > 20 ? 20 : len), p);
			return SETTINGS_EVALUE;
		}
		for (int i = 0; i < n; i++)
			if (out[i].expiry == out[n].expiry &&
			    out[i].days == out[n].days)
				return settings_why(why, "reminders.schedule "
						    "names an entry twice");
		n++;
		if (!comma)
			return n;
		p = comma + 1;
	}
}

int settings_reminders(sqlite3 *db, struct settings_reminder *out)
{
	char value[STORE_SETTING_MAX], why[SETTINGS_WHY_MAX];
	int rc = settings_get(db, SETTINGS_REMINDERS, value, sizeof(value));

	if (rc == SETTINGS_ENOTSET)
		strcpy(value, SETTINGS_REMINDERS_DEFAULT);
	else if (rc)
		return rc;
	rc = settings_reminders_parse(value, out, why);
	if (rc < 0)
		log_error("msg=\"stored reminder schedule is invalid\" "
			  "why=\"%s\"", why);
	return rc;
}

/* ---- reading and storing ---- */

int settings_get(sqlite3 *db, const char *key, char *out, size_t cap)
{
	int rc;

	if (!settings_known(key))
		return SETTINGS_EKEY;
	rc = store_setting_get(db, key, out, cap);
	if (rc == STORE_ENOTFOUND || (!rc && !*out))
		return SETTINGS_ENOTSET;
	return rc ? SETTINGS_EDB : 0;
}

static int settings_store_one(sqlite3 *db, const char *key,
			      const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (value && *value)
		return store_setting_set(db, key, value) ? SETTINGS_EDB : 0;
	st = db_prepare(db, "DELETE FROM settings WHERE key = ?1");
	if (!st)
		return SETTINGS_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : SETTINGS_EDB;
	if (rc)
		log_error("msg=\"settings delete failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

int settings_put(sqlite3 *db, const char *const *keys,
		 const char *const *values, size_t n, size_t *bad,
		 char *why)
{
	int rc = 0, own;

	for (size_t i = 0; i < n; i++) {
		rc = settings_check(keys[i], values[i] ? values[i] : "", why);
		if (rc) {
			*bad = i;
			return rc;
		}
	}
	if ((own = audit_begin(db)) < 0)
		return SETTINGS_EDB;
	for (size_t i = 0; i < n && !rc; i++)
		rc = settings_store_one(db, keys[i], values[i]);
	return audit_end(db, own, rc) ? SETTINGS_EDB : 0;
}

/* What the audit log keeps of a change: each key with its new value,
 * null when unset; the SMTP password as "(secret)" and a mail template
 * as "(template)", never their text. */
static cJSON *settings_audit_detail(const char *const *keys,
				    const char *const *values, size_t n,
				    int *templates_only)
{
	const struct settings_key *k;
	cJSON *o = cJSON_CreateObject(), *v;

	*templates_only = 1;
	for (size_t i = 0; o && i < n; i++) {
		k = settings_find(keys[i]);
		*templates_only &= !k;
		if (!values[i] || !*values[i])
			v = cJSON_CreateNull();
		else if (!k)
			v = cJSON_CreateString("(template)");
		else
			v = cJSON_CreateString(k->secret ? "(secret)" :
							   values[i]);
		if (!v || !cJSON_AddItemToObject(o, keys[i], v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			o = NULL;
		}
	}
	return o;
}

int settings_put_audited(sqlite3 *db, const struct audit_actor *who,
			 int64_t now, const char *const *keys,
			 const char *const *values, size_t n, size_t *bad,
			 char *why)
{
	int own = audit_begin(db), templates, rc;
	cJSON *d;

	if (own < 0)
		return SETTINGS_EDB;
	rc = settings_put(db, keys, values, n, bad, why);
	if (!rc) {
		d = settings_audit_detail(keys, values, n, &templates);
		if (audit_append_json(db, now, who,
				      templates ? "template.change" :
						  "settings.change",
				      "settings", d))
			rc = SETTINGS_EDB;
	}
	if (audit_end(db, own, rc) < 0 && !rc)
		rc = SETTINGS_EDB;
	return rc;
}

static int settings_print_one(sqlite3 *db, const struct settings_key *k,
			      FILE *out)
{
	char value[STORE_SETTING_MAX];
	int rc = settings_get(db, k->name, value, sizeof(value));

	if (rc == SETTINGS_ENOTSET)
		fprintf(out, "%s=(not set)\n", k->name);
	else if (!rc)
		fprintf(out, "%s=%s\n", k->name, k->secret ? "(set)" : value);
	explicit_bzero(value, sizeof(value));
	return rc;
}

/* Prints a mail template's key=text, or key=(not set). */
static int settings_print_template(sqlite3 *db, const char *key, FILE *out)
{
	char *value = malloc(TEMPLATE_TEXT_MAX + 1);
	int rc;

	if (!value)
		return SETTINGS_EDB;
	rc = settings_get(db, key, value, TEMPLATE_TEXT_MAX + 1);
	if (rc == SETTINGS_ENOTSET)
		fprintf(out, "%s=(not set)\n", key);
	else if (!rc)
		fprintf(out, "%s=%s%s", key, value,
			*value && value[strlen(value) - 1] == '\n' ? "" : "\n");
	free(value);
	return rc;
}

/* Prints the mail templates the tenant set, a body as its count of
 * lines only (settings get DATA KEY shows it whole). */
static int settings_print_templates(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT key, value FROM settings "
					  "WHERE key LIKE 'mail.template.%' "
					  "ORDER BY key");
	const char *key, *value;
	int step, lines;

	if (!st)
		return SETTINGS_EDB;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		key = db_text(st, 0);
		value = db_text(st, 1);
		if (!settings_is_template(key))
			continue;
		if (strcmp(key + strlen(key) - 5, ".body")) {
			fprintf(out, "%s=%s\n", key, value);
			continue;
		}
		lines = *value && value[strlen(value) - 1] != '\n';
		for (const char *p = value; (p = strchr(p, '\n')); p++)
			lines++;
		fprintf(out, "%s=(set, %d line%s)\n", key, lines,
			lines == 1 ? "" : "s");
	}
	sqlite3_finalize(st);
	if (step == SQLITE_DONE)
		return 0;
	log_error("msg=\"settings cannot be listed\" error=\"%s\"",
		  sqlite3_errmsg(db));
	return SETTINGS_EDB;
}

int settings_print(sqlite3 *db, const char *key, FILE *out)
{
	const struct settings_key *k;
	int rc;

	if (key && settings_is_template(key))
		return settings_print_template(db, key, out);
	if (key) {
		if (!(k = settings_find(key)))
			return SETTINGS_EKEY;
		return settings_print_one(db, k, out);
	}
	for (size_t i = 0; i < SETTINGS_NKEYS; i++) {
		rc = settings_print_one(db, &settings_keys[i], out);
		if (rc && rc != SETTINGS_ENOTSET)
			return rc;
	}
	return settings_print_templates(db, out);
}

/* ---- the routes ---- */

/* The settings as the API shows them; NULL when out of memory or on a
 * database error (*rc says which). */
static cJSON *settings_json(sqlite3 *db, int *rc)
{
	char value[STORE_SETTING_MAX];
	cJSON *o = cJSON_CreateObject(), *v;
	const struct settings_key *k;

	*rc = o ? 0 : SETTINGS_EDB;
	for (size_t i = 0; o && i < SETTINGS_NKEYS; i++) {
		k = &settings_keys[i];
		*rc = settings_get(db, k->name, value, sizeof(value));
		if (*rc && *rc != SETTINGS_ENOTSET)
			break;
		if (k->secret)
			v = cJSON_AddBoolToObject(o, "smtp.password_set", !*rc);
		else if (*rc)
			v = cJSON_AddNullToObject(o, k->name);
		else
			v = cJSON_AddStringToObject(o, k->name, value);
		*rc = v ? 0 : SETTINGS_EDB;
		if (*rc)
			break;
	}
	explicit_bzero(value, sizeof(value));
	if (*rc) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void settings_send(struct api_ctx *api, struct http_exchange *x,
			  const struct http_request *req, int status)
{
	cJSON *o;
	int rc;

	o = settings_json(api->db, &rc);
	if (!o) {
		log_error("msg=\"settings cannot be read\" tenant=%s req=%llu",
			  api->tenant, (unsigned long long)req->id);
		http_respond_error(x, 500, "internal", "the settings cannot be "
				   "read");
		return;
	}
	http_add_header(x, "Cache-Control", "no-store");
	http_respond_json(x, status, o);
}

static void settings_get_route(struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req)
{
	struct people_user me;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	settings_send(api, x, req, 200);
}

/* The most keys of one PUT: each key once, the mail templates' too. */
#define SETTINGS_PUT_MAX (SETTINGS_NKEYS + TEMPLATE_MAIL_KEYS)

/* The keys and values of a PUT body into keys and values (at most
 * SETTINGS_PUT_MAX each): the count, or -1 with the reason in why. */
static int settings_parse_body(const cJSON *body, const char **keys,
			       const char **values, char *why)
{
	const cJSON *item;
	int n = 0;

	if (!cJSON_IsObject(body))
		return settings_why(why, "the body must be a JSON object of "
				    "settings"), -1;
	cJSON_ArrayForEach(item, body) {
		if (!settings_known(item->string)) {
			snprintf(why, SETTINGS_WHY_MAX, "%.60s: unknown "
				 "setting", item->string);
			return -1;
		}
		if (!cJSON_IsString(item) && !cJSON_IsNull(item)) {
			snprintf(why, SETTINGS_WHY_MAX, "%s: the value must be"
				 " a string or null", item->string);
			return -1;
		}
		for (int i = 0; i < n; i++)
			if (!strcmp(keys[i], item->string)) {
				snprintf(why, SETTINGS_WHY_MAX, "%s: given "
					 "twice", item->string);
				return -1;
			}
		keys[n] = item->string;
		values[n++] = cJSON_IsString(item) ? item->valuestring : NULL;
	}
	if (!n)
		return settings_why(why, "the body names no setting"), -1;
	return n;
}

static void settings_put_route(struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req)
{
	const char *keys[SETTINGS_PUT_MAX], *values[SETTINGS_PUT_MAX];
	char why[SETTINGS_WHY_MAX], text[SETTINGS_WHY_MAX + 64];
	struct people_user me;
	struct audit_actor who = { 0, NULL };
	size_t bad = 0;
	cJSON *body;
	int n, rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	who.id = me.id;
	who.name = me.email;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	n = body ? settings_parse_body(body, keys, values, why) : -1;
	if (!body)
		settings_why(why, "the body is not JSON");
	rc = n < 0 ? SETTINGS_EVALUE :
		     settings_put_audited(api->db, &who, clock_now(api->clock),
					  keys, values, (size_t)n, &bad, why);
	if (rc == SETTINGS_EVALUE || rc == SETTINGS_EKEY) {
		if (n >= 0 && !strstr(why, keys[bad]))
			snprintf(text, sizeof(text), "%s: %s", keys[bad], why);
		else
			snprintf(text, sizeof(text), "%s", why);
		cJSON_Delete(body);
		http_respond_error(x, 400, "bad_request", text);
		return;
	}
	cJSON_Delete(body);
	if (rc) {
		http_respond_error(x, 500, "internal", "the settings cannot be "
				   "stored");
		return;
	}
	log_info("msg=\"settings changed\" tenant=%s req=%llu by=%lld "
		 "keys=%d", api->tenant, (unsigned long long)req->id,
		 (long long)me.id, n);
	settings_send(api, x, req, 200);
}

int settings_route(struct api_ctx *api, struct http_exchange *x,
		   const struct http_request *req)
{
	if (strcmp(req->path, SETTINGS_API))
		return 0;
	if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) {
		settings_get_route(api, x, req);
	} else if (!strcmp(req->method, "PUT")) {
		settings_put_route(api, x, req);
	} else {
		http_add_header(x, "Allow", "GET, HEAD, PUT");
		http_respond_error(x, 405, "method_not_allowed",
				   "use GET or PUT");
	}
	return 1;
}
