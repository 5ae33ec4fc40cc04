/*
 * Certificates (workspace/cert.h): issuing on completion, the list, the
 * PDF (drawn on the thread pool by workspace/certpdf.c), revoking, and
 * the public verification page. Reads and the small writes of issuing
 * and revoking run on the loop's connection.
 */
#include "workspace/cert.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/course.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/query.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/brand.h"
#include "workspace/certpdf.h"
#include "workspace/certtpl.h"
#include "workspace/coursecache.h"
#include "workspace/learn.h"
#include "workspace/people.h"
#include "workspace/scope.h"
#include "workspace/settings.h"
#include "workspace/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CERT_PREFIX "/api/v1/certificates"
#define CERT_VERIFY "/verify/"
#define CERT_MONTHS_MAX 1200 /* valid_months accepted from course.json */
#define CERT_URL_MAX 512

/* ---- numbers, codes, time ---- */

static int cert_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int cert_month_days(int y, int m) /* m 0..11 */
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31 };

	return m == 1 && cert_leap(y) ? 29 : days[m];
}

int64_t cert_add_months(int64_t t, int months)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int64_t m;
	int y, d;

	gmtime_r(&tt, &tm);
	m = (int64_t)tm.tm_year * 12 + tm.tm_mon + months;
	y = (int)(m / 12);
	tm.tm_year = y;
	tm.tm_mon = (int)(m % 12);
	d = cert_month_days(y + 1900, tm.tm_mon);
	if (tm.tm_mday > d)
		tm.tm_mday = d;
	return (int64_t)timegm(&tm);
}

enum cert_status cert_status_at(int64_t now, int64_t expires,
				int64_t revoked)
{
	if (revoked)
		return CERT_REVOKED;
	if (expires && now >= expires)
		return CERT_EXPIRED;
	return CERT_VALID;
}

const char *cert_status_name(enum cert_status s)
{
	return s == CERT_REVOKED ? "revoked" :
	       s == CERT_EXPIRED ? "expired" : "valid";
}

void cert_number(const char *course, int64_t issued, int64_t id, char *out,
		 size_t cap)
{
	char prefix[4] = "";
	time_t tt = (time_t)issued;
	struct tm tm;
	size_t n = 0;

	for (const char *p = course; *p && n < 3; p++)
		if (isalnum((unsigned char)*p))
			prefix[n++] = (char)toupper((unsigned char)*p);
	prefix[n] = '\0';
	gmtime_r(&tt, &tm);
	snprintf(out, cap, "%s-%04d-%06lld", n ? prefix : "CRT",
		 tm.tm_year + 1900, (long long)id);
}

int cert_code(char out[CERT_CODE_LEN + 1])
{
	uint8_t raw[CERT_CODE_LEN / 2];

	if (crypto_random(raw, sizeof(raw)))
		return -1;
	crypto_hex(raw, sizeof(raw), out);
	out[CERT_CODE_LEN] = '\0';
	return 0;
}

/* ---- issuing ---- */

static int cert_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"certificate query failed\" what=%s error=\"%s\"",
		  what, sqlite3_errmsg(db));
	return STORE_EDB;
}

/* What a certificate takes from course.json at revision. */
struct cert_course {
	int valid_months; /* 0: does not expire */
	char *title;	  /* JSON text of "title"; malloc'd */
};

static int cert_course_parse(const struct buf *b, struct cert_course *out)
{
	cJSON *root = cJSON_ParseWithLength((const char *)b->data, b->len);
	const cJSON *c, *m, *t;

	if (!root)
		return STORE_EINVAL;
	c = cJSON_GetObjectItemCaseSensitive(root, "certificate");
	m = cJSON_GetObjectItemCaseSensitive(c, "valid_months");
	if (cJSON_IsNumber(m) && m->valuedouble >= 1 &&
	    m->valuedouble <= CERT_MONTHS_MAX)
		out->valid_months = (int)m->valuedouble;
	t = cJSON_GetObjectItemCaseSensitive(root, "title");
	out->title = t ? cJSON_PrintUnformatted(t) : NULL;
	cJSON_Delete(root);
	return out->title ? 0 : STORE_EINVAL;
}

/* Reads course.json of course at revision (through the cache). */
static int cert_course_read(struct coursecache *cache, sqlite3 *db,
			    const char *course, const char *revision,
			    struct cert_course *out)
{
	struct coursecache_course *c;
	struct buf b;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = coursecache_get(cache, db, course, revision, &c)))
		return rc;
	buf_init(&b);
	rc = c->reader.read(c->reader.ctx, "course.json", COURSE_MAX_JSON,
			    &b) ? STORE_EREVISION : 0;
	coursecache_put(cache, c);
	if (!rc)
		rc = cert_course_parse(&b, out);
	buf_release(&b);
	if (rc)
		log_error("msg=\"course.json unreadable for certificate\" "
			  "course=%s revision=%s", course, revision);
	return rc;
}

static const char cert_sql_due[] =
	"SELECT (SELECT max(t) FROM (SELECT max(completed_at) t FROM "
	"lesson_completions WHERE user_id = ?1 AND course_id = ?2 UNION ALL "
	"SELECT max(created_at) FROM quiz_attempts WHERE user_id = ?1 AND "
	"course_id = ?2 AND passed)), (SELECT max(max(issued_at, "
	"coalesce(revoked_at, 0))) FROM certificates WHERE user_id = ?1 AND "
	"course_id = ?2)";

/* Valid, issued in the learner's current round (compliance.h) and on a
 * revision no later version retrained. */
static const char cert_sql_valid[] =
	"SELECT count(*) FROM certificates c WHERE user_id = ?1 AND "
	"course_id = ?2 AND revoked_at IS NULL AND (expires_at IS NULL OR "
	"expires_at > ?3) AND issued_at >= coalesce((SELECT "
	"max(progress_from) FROM training_rounds WHERE user_id = ?1 AND "
	"course_id = ?2), 0) AND coalesce((SELECT v.seq FROM "
	"course_versions v WHERE v.course_id = ?2 AND v.revision = "
	"c.revision), 0) >= coalesce((SELECT max(seq) FROM course_versions "
	"WHERE course_id = ?2 AND retrain = 1 AND seq > 1), 0)";

/* 1 when the learner holds a valid certificate of the course (one
 * indexed lookup), 0 when not, or a negative STORE_E* code. */
static int cert_valid_held(struct coursecache *cache, sqlite3 *db,
			   int64_t user_id, const char *course, int64_t now)
{
	sqlite3_stmt *st = cache ?
		coursecache_stmt(cache, db, cert_sql_valid) : NULL;
	int rc;

	if (!st && !(st = db_prepare(db, cert_sql_valid)))
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, course, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st) == SQLITE_ROW ?
		     sqlite3_column_int64(st, 0) > 0 :
		     cert_fail(db, "cert_valid");
	if (cache)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	return rc;
}

/* 1 when a certificate is due for a learner who holds no valid one:
 * their latest completion or passed attempt in the course came after
 * the last certificate was issued or revoked (a revoked or expired one
 * is replaced only after the course is done again). */
static int cert_due(struct coursecache *cache, sqlite3 *db,
		    int64_t user_id, const char *course)
{
	sqlite3_stmt *st = cache ? coursecache_stmt(cache, db, cert_sql_due)
				 : NULL;
	int rc;

	if (!st && !(st = db_prepare(db, cert_sql_due)))
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, course, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = cert_fail(db, "cert_due");
	else if (sqlite3_column_type(st, 1) == SQLITE_NULL)
		rc = 1;
	else
		rc = sqlite3_column_int64(st, 0) >
		     sqlite3_column_int64(st, 1);
	if (cache)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	return rc;
}

/* The next id of a certificate (inside the caller's transaction). */
static int cert_next_id(sqlite3 *db, int64_t *id)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT coalesce(max(id), 0) + 1 "
					  "FROM certificates");
	int rc = 0;

	if (!st)
		return STORE_EDB;
	if (sqlite3_step(st) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else
		rc = cert_fail(db, "cert_next_id");
	sqlite3_finalize(st);
	return rc;
}

/* The audit entry of certificate id, issued by the workspace on the
 * completion that made it due. */
static int cert_issue_audit(sqlite3 *db, int64_t id, const char *number,
			    int64_t user_id, const char *course,
			    const char *revision, int64_t now)
{
	struct audit_actor system = { 0, "system" };
	cJSON *d = cJSON_CreateObject();
	char object[40];

	if (d && (!cJSON_AddStringToObject(d, "number", number) ||
		  !cJSON_AddNumberToObject(d, "user", (double)user_id) ||
		  !cJSON_AddStringToObject(d, "course", course) ||
		  !cJSON_AddStringToObject(d, "revision", revision))) {
		cJSON_Delete(d);
		d = NULL;
	}
	return audit_append_json(db, now, &system, "certificate.issue",
				 audit_object(object, sizeof(object),
					      "certificate", id),
				 d);
}

/* Stores a new certificate and its audit entry. */
static int cert_insert(sqlite3 *db, int64_t user_id, const char *course,
		       const char *revision, const struct cert_course *cc,
		       int64_t now)
{
	char number[CERT_NUMBER_MAX + 1], code[CERT_CODE_LEN + 1];
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if ((rc = cert_next_id(db, &id)))
		return rc;
	if (cert_code(code))
		return STORE_ENOMEM;
	cert_number(course, now, id, number, sizeof(number));
	st = db_prepare(db, "INSERT INTO certificates (id, number, user_id, "
			    "course_id, course_title, revision, issued_at, "
			    "expires_at, verify_code) VALUES (?1, ?2, ?3, "
			    "?4, ?5, ?6, ?7, ?8, ?9)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, number, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_text(st, 4, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, cc->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, revision, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	if (cc->valid_months)
		sqlite3_bind_int64(st, 8,
				   cert_add_months(now, cc->valid_months));
	sqlite3_bind_text(st, 9, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 :
					      cert_fail(db, "cert_insert");
	sqlite3_finalize(st);
	if (!rc)
		rc = cert_issue_audit(db, id, number, user_id, course,
				      revision, now);
	if (!rc)
		log_info("msg=\"certificate issued\" number=%s user=%lld "
			 "course=%s revision=%s", number, (long long)user_id,
			 course, revision);
	return rc;
}

/* The revision of the user's course when it is completed: 1, 0 when it
 * is not (or not theirs), or an error. */
static int cert_completed(struct coursecache *cache, sqlite3 *db,
			  int64_t user_id, const char *course, char *revision)
{
	const cJSON *p, *done, *rev;
	cJSON *co;
	int rc = learn_course_json(cache, db, user_id, course, &co);

	if (rc == STORE_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	p = cJSON_GetObjectItemCaseSensitive(co, "progress");
	done = cJSON_GetObjectItemCaseSensitive(p, "completed");
	rev = cJSON_GetObjectItemCaseSensitive(co, "revision");
	rc = cJSON_IsTrue(done) && cJSON_IsString(rev) &&
	     strlen(rev->valuestring) == IDS_REVISION_LEN;
	if (rc)
		strcpy(revision, rev->valuestring);
	cJSON_Delete(co);
	return rc;
}

/* The check and the write, inside a transaction. */
static int cert_issue_txn(struct coursecache *cache, sqlite3 *db,
			  int64_t user_id, const char *course,
			  const char *revision, int64_t now)
{
	struct cert_course cc;
	int rc = cert_due(cache, db, user_id, course);

	if (rc <= 0)
		return rc;
	if ((rc = cert_course_read(cache, db, course, revision, &cc)))
		return rc;
	rc = cert_insert(db, user_id, course, revision, &cc, now);
	cJSON_free(cc.title);
	return rc ? rc : 1;
}

int cert_issue_if_complete(sqlite3 *db, struct coursecache *cache,
			   int64_t user_id, const char *course, int64_t now)
{
	char revision[IDS_REVISION_LEN + 1];
	int own = sqlite3_get_autocommit(db), rc;

	/* cheapest first: a valid certificate (a quiz passed again) ends
	 * it at once, an incomplete course next */
	rc = cert_valid_held(cache, db, user_id, course, now);
	if (rc == 0)
		rc = cert_completed(cache, db, user_id, course, revision);
	else if (rc > 0)
		rc = 0;
	if (rc <= 0)
		return rc;
	if (own && db_begin(db))
		return STORE_EDB;
	rc = cert_issue_txn(cache, db, user_id, course, revision, now);
	if (own && rc >= 0 && db_commit(db))
		rc = STORE_EDB;
	if (own && rc < 0)
		db_rollback(db);
	return rc;
}

int cert_issue_due(sqlite3 *db, struct coursecache *cache, int64_t user_id,
		   int64_t now)
{
	const cJSON *co, *id, *p;
	cJSON *list;
	int rc = learn_courses_json(cache, db, user_id, &list), one;

	if (rc)
		return rc;
	cJSON_ArrayForEach(co, list) {
		p = cJSON_GetObjectItemCaseSensitive(co, "progress");
		id = cJSON_GetObjectItemCaseSensitive(co, "id");
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			    p, "completed")) || !cJSON_IsString(id))
			continue;
		one = cert_issue_if_complete(db, cache, user_id,
					     id->valuestring, now);
		if (one < 0 && !rc)
			rc = one;
	}
	cJSON_Delete(list);
	return rc;
}

/* ---- reading ---- */

#define CERT_COLUMNS                                                   \
	"c.id, c.number, c.user_id, c.course_id, c.revision, "         \
	"c.issued_at, c.expires_at, c.revoked_at, c.verify_code, "     \
	"c.course_title, u.name, u.language "
#define CERT_FROM                                                      \
	"FROM certificates c JOIN users u ON u.id = c.user_id "

enum {
	CERT_C_ID, CERT_C_NUMBER, CERT_C_USER, CERT_C_COURSE, CERT_C_REV,
	CERT_C_ISSUED, CERT_C_EXPIRES, CERT_C_REVOKED, CERT_C_CODE,
	CERT_C_TITLE, CERT_C_NAME, CERT_C_LANGUAGE,
};

static int cert_add_time(cJSON *o, const char *name, int64_t t)
{
	char iso[32];

	if (!t)
		return cJSON_AddNullToObject(o, name) != NULL;
	clock_format_iso(t, iso, sizeof(iso));
	return cJSON_AddStringToObject(o, name, iso) != NULL;
}

/* The row of st as listed. */
static cJSON *cert_row_json(sqlite3_stmt *st, int64_t now, const char *base)
{
	cJSON *o = cJSON_CreateObject();
	char url[CERT_URL_MAX];
	int64_t exp = sqlite3_column_int64(st, CERT_C_EXPIRES);
	enum cert_status s = cert_status_at(
		now, exp, sqlite3_column_int64(st, CERT_C_REVOKED));

	snprintf(url, sizeof(url), "%s" CERT_VERIFY "%s", base,
		 db_text(st, CERT_C_CODE));
	if (!o ||
	    !cJSON_AddNumberToObject(o, "id",
				     (double)sqlite3_column_int64(st, 0)) ||
	    !cJSON_AddStringToObject(o, "number",
				     db_text(st, CERT_C_NUMBER)) ||
	    !cJSON_AddNumberToObject(
		    o, "user", (double)sqlite3_column_int64(st, CERT_C_USER)) ||
	    !cJSON_AddStringToObject(o, "course",
				     db_text(st, CERT_C_COURSE)) ||
	    !cJSON_AddStringToObject(o, "revision", db_text(st, CERT_C_REV)) ||
	    !cert_add_time(o, "issued",
			   sqlite3_column_int64(st, CERT_C_ISSUED)) ||
	    !cert_add_time(o, "expires", exp) ||
	    !cJSON_AddStringToObject(o, "status", cert_status_name(s)) ||
	    !cJSON_AddStringToObject(o, "verify_url", url)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Certificates by user (0: all) or by id (0: all), as listed. */
static int cert_select_json(sqlite3 *db, int64_t user_id, int64_t id,
			    int64_t now, const char *base, cJSON **out)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " CERT_COLUMNS CERT_FROM
					  "WHERE (?1 = 0 OR c.user_id = ?1) "
					  "AND (?2 = 0 OR c.id = ?2) "
					  "ORDER BY c.id");
	cJSON *list = cJSON_CreateArray(), *o;
	int step, rc = 0;

	if (!st || !list) {
		sqlite3_finalize(st);
		cJSON_Delete(list);
		return st ? STORE_ENOMEM : STORE_EDB;
	}
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && !rc)
		if (!(o = cert_row_json(st, now, base)) ||
		    !cJSON_AddItemToArray(list, o))
			rc = STORE_ENOMEM;
	if (!rc && step != SQLITE_DONE)
		rc = cert_fail(db, "cert_select_json");
	sqlite3_finalize(st);
	if (rc)
		cJSON_Delete(list);
	*out = rc ? NULL : list;
	return rc;
}

int cert_list_json(sqlite3 *db, int64_t user_id, int64_t now,
		   const char *base, cJSON **out)
{
	return cert_select_json(db, user_id, 0, now, base, out);
}

int cert_revoke(sqlite3 *db, int64_t id, const char *reason, int64_t now)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE certificates SET "
					  "revoked_at = ?2, revoke_reason = "
					  "?3 WHERE id = ?1 AND revoked_at "
					  "IS NULL");
	int rc;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : cert_fail(db, "revoke");
	sqlite3_finalize(st);
	if (rc || sqlite3_changes(db))
		return rc;
	st = db_prepare(db, "SELECT 1 FROM certificates WHERE id = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st) == SQLITE_ROW ? STORE_EINVAL : STORE_ENOTFOUND;
	sqlite3_finalize(st);
	return rc;
}

/* The title in language from the JSON text of course.json's "title"
 * (a string, or an object by language: language, else "de", "en", else
 * the first); malloc'd, or NULL. */
static char *cert_title(const char *json, const char *language)
{
	cJSON *t = cJSON_Parse(json), *v = NULL;
	char *out = NULL;

	if (cJSON_IsString(t))
		v = t;
	else if (cJSON_IsObject(t)) {
		v = cJSON_GetObjectItemCaseSensitive(t, language);
		if (!cJSON_IsString(v))
			v = cJSON_GetObjectItemCaseSensitive(t, "de");
		if (!cJSON_IsString(v))
			v = cJSON_GetObjectItemCaseSensitive(t, "en");
		if (!cJSON_IsString(v))
			v = t->child;
	}
	if (cJSON_IsString(v))
		out = strdup(v->valuestring);
	cJSON_Delete(t);
	return out;
}

/* ---- HTTP ---- */

static void cert_internal(struct api_ctx *api, struct http_exchange *x,
			  const struct http_request *req, int rc)
{
	log_error("msg=\"certificate request failed\" tenant=%s req=%llu "
		  "path=\"%s\" error=\"%s\"", api->tenant,
		  (unsigned long long)req->id, req->path, store_strerror(rc));
	http_respond_error(x, 500, "internal",
			   "the certificates cannot be read");
}

/* The academy's public address: the setting web.url when it is set (so
 * every PDF carries the same address); else "http://HOST" from the
 * request's Host header (letters, digits, '.', '-', ':', '[', ']'), or
 * "" when it has none fit, with "https://" when the trusted reverse
 * proxy says so in X-Forwarded-Proto. */
static void cert_base(struct api_ctx *api, struct http_exchange *x,
		      const struct http_request *req, char *out, size_t cap)
{
	const char *host = http_header(x, "Host");
	const char *proto = http_header(x, "X-Forwarded-Proto");
	int https = api->trusted_proxy && req->peer &&
		    !strcmp(req->peer, api->trusted_proxy) && proto &&
		    !strcasecmp(proto, "https");
	size_t n;

	if (!settings_get(api->db, "web.url", out, cap) && out[0]) {
		n = strlen(out);
		if (out[n - 1] == '/')
			out[n - 1] = '\0';
		return;
	}
	out[0] = '\0';
	if (!host || !*host || strlen(host) > 255)
		return;
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p))
			return;
	if (snprintf(out, cap, "%s://%s", https ? "https" : "http", host) >=
	    (int)cap)
		out[0] = '\0';
}

/* The decimal id at the start of s up to end (exclusive): > 0, or 0. */
static int64_t cert_id(const char *s, size_t n)
{
	int64_t v = 0;

	if (!n || n > 15)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Whether me may see the certificates of user: 1 (their own, an admin,
 * a manager of one of their groups), 0, or a negative STORE_E* code. */
static int cert_may_see(sqlite3 *db, const struct people_user *me,
			int64_t user)
{
	if (me->role == PEOPLE_ROLE_ADMIN || user == me->id)
		return 1;
	if (me->role != PEOPLE_ROLE_MANAGER)
		return 0;
	return scope_user(db, me, user);
}

static void cert_list(struct api_ctx *api, struct http_exchange *x,
		      const struct http_request *req)
{
	char base[CERT_URL_MAX / 2];
	struct people_user me, who;
	int64_t target = 0, now = clock_now(api->clock);
	cJSON *list;
	int q, rc;

	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me))
		return;
	q = query_id(req->query, "user", &target);
	if (q < 0) {
		http_respond_error(x, 400, "bad_request",
				   "user must be a user id");
		return;
	}
	if (me.role != PEOPLE_ROLE_ADMIN && !q)
		target = me.id;
	if (q && (rc = cert_may_see(api->db, &me, target)) <= 0) {
		if (rc < 0)
			cert_internal(api, x, req, rc);
		else
			http_respond_error(x, 403, "forbidden",
					   "not one of your people");
		return;
	}
	/* issue what completions made due (see cert.h); for everybody at
	 * once only through learn.c */
	if (target && people_user_by_id(api->db, target, &who) == 0 &&
	    (rc = cert_issue_due(api->db, api->courses, target, now)))
		log_error("msg=\"certificates not issued\" tenant=%s user=%lld "
			  "error=\"%s\"", api->tenant, (long long)target,
			  store_strerror(rc));
	cert_base(api, x, req, base, sizeof(base));
	if ((rc = cert_list_json(api->db, target, now, base, &list))) {
		cert_internal(api, x, req, rc);
		return;
	}
	http_respond_json(x, 200, list);
}

static int cert_reason(const struct http_request *req, char *out)
{
	cJSON *body = cJSON_ParseWithLength((const char *)req->body,
					    req->body_len);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(body, "reason");
	size_t n;
	int ok = cJSON_IsObject(body) && cJSON_IsString(r) &&
		 (n = strlen(r->valuestring)) > 0 && n <= CERT_REASON_MAX;

	if (ok)
		memcpy(out, r->valuestring, n + 1);
	cJSON_Delete(body);
	return ok ? 0 : -1;
}

/* Revokes certificate id with its audit entry, in one transaction. */
static int cert_revoke_audited(struct api_ctx *api,
			       const struct people_user *me, int64_t id,
			       const char *reason, int64_t now)
{
	struct audit_actor who = { me->id, me->email };
	cJSON *d = cJSON_CreateObject();
	char object[40];
	int own = audit_begin(api->db), rc;

	if (d && !cJSON_AddStringToObject(d, "reason", reason)) {
		cJSON_Delete(d);
		d = NULL;
	}
	if (own < 0) {
		cJSON_Delete(d);
		return STORE_EDB;
	}
	rc = cert_revoke(api->db, id, reason, now);
	if (!rc)
		rc = audit_append_json(api->db, now, &who,
				       "certificate.revoke",
				       audit_object(object, sizeof(object),
						    "certificate", id),
				       d);
	else
		cJSON_Delete(d);
	return audit_end(api->db, own, rc);
}

static void cert_revoke_answer(struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req, int64_t id)
{
	char reason[CERT_REASON_MAX + 1], base[CERT_URL_MAX / 2];
	int64_t now = clock_now(api->clock);
	struct people_user me;
	cJSON *list;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	if (cert_reason(req, reason)) {
		http_respond_error(x, 400, "bad_request",
				   "the body must be {\"reason\": a text of "
				   "1 to 500 bytes}");
		return;
	}
	rc = cert_revoke_audited(api, &me, id, reason, now);
	if (rc == STORE_ENOTFOUND) {
		http_respond_error(x, 404, "not_found",
				   "no such certificate");
		return;
	}
	if (rc == STORE_EINVAL) {
		http_respond_error(x, 409, "conflict",
				   "the certificate is revoked already");
		return;
	}
	if (!rc)
		log_info("msg=\"certificate revoked\" tenant=%s req=%llu "
			 "id=%lld by=%lld", api->tenant,
			 (unsigned long long)req->id, (long long)id,
			 (long long)me.id);
	cert_base(api, x, req, base, sizeof(base));
	if (rc || (rc = cert_select_json(api->db, 0, id, now, base, &list))) {
		cert_internal(api, x, req, rc);
		return;
	}
	http_respond_json(x, 200, cJSON_DetachItemFromArray(list, 0));
	cJSON_Delete(list);
}

/* The academy's name, colour and default language (brand.h). */
struct cert_brand {
	char name[BRAND_NAME_MAX + 1];
	char color[8];
	char language[3];
};

static void cert_copy_member(const cJSON *o, const char *name, char *out,
			     size_t cap, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	snprintf(out, cap, "%s", cJSON_IsString(v) ? v->valuestring :
						     fallback);
}

static int cert_brand_get(struct api_ctx *api, struct cert_brand *b)
{
	cJSON *o;
	int rc = brand_json(api->db, api->tenant, &o);

	if (rc)
		return rc;
	cert_copy_member(o, "name", b->name, sizeof(b->name), api->tenant);
	cert_copy_member(o, "primary_color", b->color, sizeof(b->color),
			 BRAND_DEFAULT_PRIMARY);
	cert_copy_member(o, "default_language", b->language,
			 sizeof(b->language), BRAND_DEFAULT_LANGUAGE);
	cJSON_Delete(o);
	return 0;
}

/* A certificate's PDF, drawn on the thread pool. */
struct cert_job {
	uv_work_t work;
	struct api_ctx *api;
	struct http_exchange *x;
	uint64_t req_id;
	struct certpdf_input in;
	struct cert_brand brand;
	char learner[PEOPLE_NAME_MAX + 1];
	char language[3];
	char *course;
	char number[CERT_NUMBER_MAX + 1];
	char revision[IDS_REVISION_LEN + 1];
	char url[CERT_URL_MAX];
	uint8_t *logo;
	struct certtpl tpl; /* the tenant's wording and signature */
	struct buf pdf;
	int rc;
};

static void cert_job_free(struct cert_job *j)
{
	free(j->course);
	free(j->logo);
	certtpl_release(&j->tpl);
	buf_release(&j->pdf);
	free(j);
}

static void cert_job_run(uv_work_t *w)
{
	struct cert_job *j = w->data;

	j->rc = certpdf_render(&j->in, &j->pdf);
}

static void cert_job_done(uv_work_t *w, int status)
{
	struct cert_job *j = w->data;
	char disp[CERT_NUMBER_MAX + 40];

	if (status) {
		http_respond_error(j->x, 503, "unavailable",
				   "the server is stopping");
	} else if (j->rc) {
		log_error("msg=\"certificate PDF failed\" tenant=%s req=%llu "
			  "number=%s", j->api->tenant,
			  (unsigned long long)j->req_id, j->number);
		http_respond_error(j->x, 500, "internal",
				   "the certificate cannot be drawn");
	} else {
		snprintf(disp, sizeof(disp), "inline; filename=\"%s.pdf\"",
			 j->number);
		http_add_header(j->x, "Content-Disposition", disp);
		http_add_header(j->x, "Cache-Control", "private, no-store");
		http_add_header(j->x, "X-Content-Type-Options", "nosniff");
		http_respond(j->x, 200, "application/pdf", j->pdf.data,
			     j->pdf.len);
	}
	cert_job_free(j);
}

/* The academy's logo (certpdf draws a PNG, JPEG or WebP). */
static int cert_logo(sqlite3 *db, struct cert_job *j)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT data FROM branding_assets "
					  "WHERE name = 'logo'");
	int step, rc = 0, n;

	if (!st)
		return STORE_EDB;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && (n = sqlite3_column_bytes(st, 0)) > 0) {
		if (!(j->logo = malloc((size_t)n)))
			rc = STORE_ENOMEM;
		else
			memcpy(j->logo, sqlite3_column_blob(st, 0),
			       (size_t)n);
		j->in.logo = j->logo;
		j->in.logo_len = j->logo ? (size_t)n : 0;
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = cert_fail(db, "cert_logo");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Fills the job from the row of st (a certificate). */
static int cert_job_fill(struct api_ctx *api, struct cert_job *j,
			 sqlite3_stmt *st, const char *base)
{
	const char *lang = db_text(st, CERT_C_LANGUAGE);
	int rc;

	if ((rc = cert_brand_get(api, &j->brand)))
		return rc;
	snprintf(j->language, sizeof(j->language), "%s",
		 people_language_valid(lang) ? lang : j->brand.language);
	snprintf(j->learner, sizeof(j->learner), "%s",
		 db_text(st, CERT_C_NAME));
	snprintf(j->number, sizeof(j->number), "%s",
		 db_text(st, CERT_C_NUMBER));
	snprintf(j->revision, sizeof(j->revision), "%s",
		 db_text(st, CERT_C_REV));
	snprintf(j->url, sizeof(j->url), "%s" CERT_VERIFY "%s", base,
		 db_text(st, CERT_C_CODE));
	j->course = cert_title(db_text(st, CERT_C_TITLE), j->language);
	if (!j->course && !(j->course = strdup(db_text(st, CERT_C_COURSE))))
		return STORE_ENOMEM;
	j->in = (struct certpdf_input){
		.academy = j->brand.name, .color = j->brand.color,
		.learner = j->learner, .course = j->course,
		.number = j->number, .revision = j->revision,
		.issued = sqlite3_column_int64(st, CERT_C_ISSUED),
		.expires = sqlite3_column_int64(st, CERT_C_EXPIRES),
		.verify_url = j->url, .language = j->language,
		.revoked = sqlite3_column_int64(st, CERT_C_REVOKED),
	};
	if ((rc = certtpl_load(api->db, j->language, &j->tpl)))
		return rc == CERTTPL_ENOMEM ? STORE_ENOMEM : STORE_EDB;
	j->in.title = j->tpl.text[CERTPDF_TITLE];
	j->in.body = j->tpl.text[CERTPDF_BODY];
	j->in.signer = j->tpl.text[CERTPDF_SIGNER];
	j->in.signature = j->tpl.signature;
	j->in.signature_len = j->tpl.signature_len;
	return cert_logo(api->db, j);
}

/* The row of certificate id (or of the code) on st, stepped: SQLITE_ROW
 * when found. */
static sqlite3_stmt *cert_find(sqlite3 *db, int64_t id, const char *code,
			       int *step)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " CERT_COLUMNS CERT_FROM
					  "WHERE c.id = ?1 OR "
					  "c.verify_code = ?2");

	*step = SQLITE_ERROR;
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, code ? code : "", -1, SQLITE_STATIC);
	*step = sqlite3_step(st);
	if (*step != SQLITE_ROW && *step != SQLITE_DONE)
		cert_fail(db, "cert_find");
	return st;
}

static void cert_pdf(struct api_ctx *api, struct http_exchange *x,
		     const struct http_request *req, int64_t id)
{
	char base[CERT_URL_MAX / 2];
	struct people_user me;
	struct cert_job *j = NULL;
	sqlite3_stmt *st;
	int step, may, rc;

	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me))
		return;
	st = cert_find(api->db, id, NULL, &step);
	may = step != SQLITE_ROW ? 0 :
	      cert_may_see(api->db, &me,
			   sqlite3_column_int64(st, CERT_C_USER));
	if (step == SQLITE_DONE || (step == SQLITE_ROW && !may)) {
		sqlite3_finalize(st);
		http_respond_error(x, 404, "not_found", "no such certificate");
		return;
	}
	if (may < 0)
		step = SQLITE_ERROR;
	cert_base(api, x, req, base, sizeof(base));
	rc = step != SQLITE_ROW ? STORE_EDB :
	     !(j = calloc(1, sizeof(*j))) ? STORE_ENOMEM :
					    cert_job_fill(api, j, st, base);
	sqlite3_finalize(st);
	if (rc) {
		if (j)
			cert_job_free(j);
		cert_internal(api, x, req, rc);
		return;
	}
	j->api = api;
	j->x = x;
	j->req_id = req->id;
	j->work.data = j;
	if (uv_queue_work(api->loop, &j->work, cert_job_run, cert_job_done)) {
		cert_job_free(j);
		http_respond_error(x, 503, "unavailable",
				   "cannot draw the certificate now");
	}
}

/* ---- the public page ---- */

static void cert_html_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_append_str(b, "&lt;"); break;
		case '>': buf_append_str(b, "&gt;"); break;
		case '&': buf_append_str(b, "&amp;"); break;
		case '"': buf_append_str(b, "&quot;"); break;
		case '\'': buf_append_str(b, "&#39;"); break;
		default: buf_append(b, s, 1);
		}
	}
}

/* The words of the page in one language. */
struct cert_page_words {
	const char *title, *status[3], *name, *course, *issued, *expires,
		*never;
};

static const struct cert_page_words cert_page_de = {
	"Zertifikat prüfen",
	{ "Dieses Zertifikat ist gültig.", "Dieses Zertifikat ist abgelaufen.",
	  "Dieses Zertifikat wurde widerrufen." },
	"Name", "Kurs", "Ausgestellt am", "Gültig bis", "unbefristet",
};

static const struct cert_page_words cert_page_en = {
	"Certificate check",
	{ "This certificate is valid.", "This certificate has expired.",
	  "This certificate has been revoked." },
	"Name", "Course", "Issued on", "Valid until", "does not expire",
};

static void cert_page_row(struct buf *b, const char *dt, const char *dd)
{
	buf_append_str(b, "<dt>");
	cert_html_text(b, dt);
	buf_append_str(b, "</dt><dd>");
	cert_html_text(b, dd);
	buf_append_str(b, "</dd>\n");
}

/* The page for the certificate of st in the academy's language. */
static int cert_page(struct buf *b, sqlite3_stmt *st,
		     const struct cert_brand *br, int64_t now)
{
	const struct cert_page_words *w =
		strcmp(br->language, "en") ? &cert_page_de : &cert_page_en;
	int64_t exp = sqlite3_column_int64(st, CERT_C_EXPIRES);
	enum cert_status s = cert_status_at(
		now, exp, sqlite3_column_int64(st, CERT_C_REVOKED));
	char *title = cert_title(db_text(st, CERT_C_TITLE), br->language);
	char issued[32], expires[32];

	certpdf_date(sqlite3_column_int64(st, CERT_C_ISSUED), br->language,
		     issued, sizeof(issued));
	if (exp)
		certpdf_date(exp, br->language, expires, sizeof(expires));
	buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>"
		      "<meta charset=\"utf-8\"><meta name=\"viewport\" "
		      "content=\"width=device-width, initial-scale=1\">"
		      "<meta name=\"robots\" content=\"noindex\"><title>",
		   br->language);
	cert_html_text(b, w->title);
	buf_append_str(b, " – ");
	cert_html_text(b, br->name);
	buf_printf(b, "</title></head>\n<body>\n<main data-status=\"%s\">\n"
		      "<h1>", cert_status_name(s));
	cert_html_text(b, br->name);
	buf_append_str(b, "</h1>\n<p class=\"status\">");
	cert_html_text(b, w->status[s]);
	buf_append_str(b, "</p>\n<dl>\n");
	cert_page_row(b, w->name, db_text(st, CERT_C_NAME));
	cert_page_row(b, w->course,
		      title ? title : db_text(st, CERT_C_COURSE));
	cert_page_row(b, w->issued, issued);
	cert_page_row(b, w->expires, exp ? expires : w->never);
	free(title);
	return buf_append_str(b, "</dl>\n</main>\n</body>\n</html>\n") ?
		       STORE_ENOMEM : 0;
}

static int cert_code_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isdigit((unsigned char)s[n]) &&
		    (s[n] < 'a' || s[n] > 'f'))
			return 0;
	return n == CERT_CODE_LEN;
}

static void cert_not_found(struct http_exchange *x)
{
	http_add_header(x, "X-Content-Type-Options", "nosniff");
	http_respond(x, 404, "text/plain; charset=utf-8", "not found\n", 10);
}

static void cert_verify(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req, const char *code)
{
	struct cert_brand br;
	sqlite3_stmt *st;
	struct buf b;
	int step, rc;

	if (!cert_code_valid(code)) {
		cert_not_found(x);
		return;
	}
	st = cert_find(api->db, 0, code, &step);
	if (step == SQLITE_DONE) {
		sqlite3_finalize(st);
		cert_not_found(x);
		return;
	}
	buf_init(&b);
	rc = step != SQLITE_ROW ? STORE_EDB : cert_brand_get(api, &br);
	if (!rc)
		rc = cert_page(&b, st, &br, clock_now(api->clock));
	sqlite3_finalize(st);
	if (rc) {
		buf_release(&b);
		cert_internal(api, x, req, rc);
		return;
	}
	http_add_header(x, "Content-Security-Policy",
			"default-src 'none'; base-uri 'none'; "
			"form-action 'none'; frame-ancestors 'none'");
	http_add_header(x, "Referrer-Policy", "no-referrer");
	http_add_header(x, "X-Frame-Options", "DENY");
	http_add_header(x, "X-Content-Type-Options", "nosniff");
	http_add_header(x, "Cache-Control", "no-store");
	http_respond(x, 200, "text/html; charset=utf-8", b.data, b.len);
	buf_release(&b);
}

/* ---- routing ---- */

static int cert_method(struct http_exchange *x,
		       const struct http_request *req, const char *want)
{
	if (!strcmp(req->method, want))
		return 1;
	http_add_header(x, "Allow", want);
	http_respond_error(x, 405, "method_not_allowed",
			   "method not allowed on this path");
	return 0;
}

/* /api/v1/certificates/{id}/{pdf,revoke} */
static void cert_item(struct api_ctx *api, struct http_exchange *x,
		      const struct http_request *req, const char *rest)
{
	size_t n = strcspn(rest, "/");
	int64_t id = cert_id(rest, n);
	const char *what = rest[n] ? rest + n + 1 : "";

	if (id && !strcmp(what, "pdf")) {
		if (cert_method(x, req, "GET"))
			cert_pdf(api, x, req, id);
	} else if (id && !strcmp(what, "revoke")) {
		if (cert_method(x, req, "POST"))
			cert_revoke_answer(api, x, req, id);
	} else {
		http_respond_error(x, 404, "not_found", "no such path");
	}
}

int cert_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	const char *p = req->path;
	size_t n = strlen(CERT_PREFIX);

	if (!strncmp(p, CERT_VERIFY, strlen(CERT_VERIFY))) {
		if (cert_method(x, req, "GET"))
			cert_verify(api, x, req, p + strlen(CERT_VERIFY));
		return 1;
	}
	if (strncmp(p, CERT_PREFIX, n) || (p[n] && p[n] != '/'))
		return 0;
	if (!p[n] || !p[n + 1]) {
		if (cert_method(x, req, "GET"))
			cert_list(api, x, req);
		return 1;
	}
	cert_item(api, x, req, p + n + 1);
	return 1;
}
