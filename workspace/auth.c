/*
 * Login, logout, the check of every protected request, and the paths
 * where people set their own passwords.
 *
 * A login counts as an attempt for the throttle and reads the user on
 * the loop (small queries), verifies the password on the thread pool,
 * and writes the session on the loop when the work comes back. Every
 * failure of email or password answers the same 401 after the same
 * work. Setting a password works the same way: checks on the loop, the
 * Argon2id hash on the pool, the write on the loop. Secrets taken from
 * requests are copied into fixed buffers and wiped after use.
 */
#include "workspace/auth.h"

#include "common/httpauth.h"
#include "common/log.h"
#include "workspace/audit.h"
#include "workspace/coursecache.h"
#include "workspace/mail.h"
#include "workspace/store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_COOKIE_ATTRS "; HttpOnly; SameSite=Lax; Path=/"
#define AUTH_PEER_MAX 64

/* A login in flight: the typed password is verified against the user's
 * hash (or the dummy hash) by the password work. */
struct auth_login_work {
	struct auth_password_work pw; /* first: done gets its address */
	struct people_user user;      /* id 0: no such user */
	char email[PEOPLE_EMAIL_MAX + 2];
	char peer[AUTH_PEER_MAX];
};

/* How the request proved who it is. */
struct auth_identity {
	int64_t user_id;
	int by_cookie;
	char session[PEOPLE_SECRET_LEN + 1];
	char csrf[PEOPLE_SECRET_LEN + 1];
};

static void auth_unauthorized(struct http_exchange *x, const char *message)
{
	http_add_header(x, "WWW-Authenticate", "Bearer");
	http_respond_error(x, 401, "unauthorized", message);
}

static void auth_internal(struct http_exchange *x, uint64_t req_id,
			  const char *what)
{
	log_error("msg=\"authentication failed on the server\" step=%s "
		  "req=%llu", what, (unsigned long long)req_id);
	http_respond_error(x, 500, "internal", "cannot check credentials");
}

/* 429 with Retry-After, for the login throttle. */
static void auth_throttled(struct http_exchange *x, int64_t retry_after)
{
	char secs[24], msg[128];

	snprintf(secs, sizeof(secs), "%" PRId64, retry_after);
	snprintf(msg, sizeof(msg), "too many failed sign-ins; try again in "
		 "%" PRId64 " minutes", (retry_after + 59) / 60);
	http_add_header(x, "Retry-After", secs);
	http_respond_error(x, 429, "too_many_requests", msg);
}

/* The request body as a JSON object, or NULL. The caller deletes it. */
/* The paths that need no credentials (login, password links, reset
 * requests) take only a JSON body: a form on another site cannot send
 * Content-Type application/json without the browser asking first, so
 * such a form cannot sign a visitor in as someone else. 415 otherwise;
 * returns -1 then. */
static int auth_json_only(struct http_exchange *x)
{
	const char *type = http_header(x, "Content-Type");
	size_t n = strlen("application/json");

	if (type && !strncasecmp(type, "application/json", n) &&
	    (type[n] == 0 || type[n] == ';' || type[n] == ' '))
		return 0;
	http_respond_error(x, 415, "unsupported_media_type",
			   "the body must be JSON (Content-Type: "
			   "application/json)");
	return -1;
}

static cJSON *auth_body(const struct http_request *req)
{
	cJSON *body = cJSON_ParseWithLength((const char *)req->body,
					    req->body_len);

	if (cJSON_IsObject(body))
		return body;
	cJSON_Delete(body);
	return NULL;
}

/* ---- password work on the thread pool ---- */

static void auth_password_run(uv_work_t *work)
{
	struct auth_password_work *w = work->data;

	if (w->verify)
		w->verified = password_verify(w->stored, w->current,
					      w->current_len) == 0;
	if (w->len)
		w->hash_rc = password_hash(w->password, w->len, w->hash,
					   sizeof(w->hash));
	explicit_bzero(w->current, sizeof(w->current));
	explicit_bzero(w->password, sizeof(w->password));
}

static void auth_password_after(uv_work_t *work, int status)
{
	struct auth_password_work *w = work->data;

	w->done(w, status);
}

int auth_password_queue(struct api_ctx *api, struct auth_password_work *w)
{
	w->api = api;
	w->work.data = w;
	if (uv_queue_work(api->loop, &w->work, auth_password_run,
			  auth_password_after) == 0)
		return 0;
	http_respond_error(w->x, 503, "unavailable",
			   "cannot check the password now");
	return -1;
}

void auth_password_wipe(struct auth_password_work *w)
{
	explicit_bzero(w->password, sizeof(w->password));
	explicit_bzero(w->current, sizeof(w->current));
	explicit_bzero(w->stored, sizeof(w->stored));
	explicit_bzero(w->hash, sizeof(w->hash));
}

int auth_password_take(cJSON *v, struct auth_password_work *w)
{
	size_t len;

	if (!cJSON_IsString(v))
		return -1;
	len = strlen(v->valuestring);
	if (len >= PEOPLE_PASSWORD_MIN && len <= PASSWORD_MAX) {
		memcpy(w->password, v->valuestring, len);
		w->len = len;
	}
	explicit_bzero(v->valuestring, len);
	return w->len ? 0 : -1;
}

/* A password typed to prove who one is: any length; one too long is
 * kept too long, so that it never matches but still costs a verify. */
static int auth_password_typed(cJSON *v, struct auth_password_work *w)
{
	size_t len;

	if (!cJSON_IsString(v))
		return -1;
	len = strlen(v->valuestring);
	if (len > PASSWORD_MAX) {
		w->current_len = PASSWORD_MAX + 1;
	} else {
		memcpy(w->current, v->valuestring, len);
		w->current_len = len;
	}
	explicit_bzero(v->valuestring, len);
	return 0;
}

/* ---- sessions handed out ---- */

/* The full user and the CSRF token (NULL: none) as a body. */
static cJSON *auth_user_body(struct api_ctx *api, int64_t user_id,
			     const char *csrf)
{
	cJSON *o = cJSON_CreateObject(), *user = NULL, *token;

	if (o && !people_user_get_json(api->db, user_id, &user) &&
	    cJSON_AddItemToObject(o, "user", user)) {
		token = csrf ? cJSON_CreateString(csrf) : cJSON_CreateNull();
		if (token && cJSON_AddItemToObject(o, "csrf_token", token))
			return o;
		cJSON_Delete(token);
		user = NULL;
	}
	cJSON_Delete(user);
	cJSON_Delete(o);
	return NULL;
}

/* Sets the session cookie and the headers of an answer with secrets. */
static void auth_set_cookie(struct http_exchange *x, const char *id)
{
	char cookie[128];

	snprintf(cookie, sizeof(cookie), AUTH_COOKIE "=%s; Max-Age=%d"
		 AUTH_COOKIE_ATTRS, id, PEOPLE_SESSION_SECONDS);
	http_add_header(x, "Set-Cookie", cookie);
	http_add_header(x, "Cache-Control", "no-store");
	explicit_bzero(cookie, sizeof(cookie));
}

/* ---- login ---- */

/* {"email": string, "password": string} into w; -1 when malformed. */
static int auth_parse_login(const struct http_request *req,
			    struct auth_login_work *w)
{
	cJSON *body = auth_body(req), *e, *p;
	int rc = -1;

	e = cJSON_GetObjectItemCaseSensitive(body, "email");
	p = cJSON_GetObjectItemCaseSensitive(body, "password");
	if (cJSON_IsString(e) && cJSON_IsString(p)) {
		snprintf(w->email, sizeof(w->email), "%s", e->valuestring);
		rc = auth_password_typed(p, &w->pw);
	}
	cJSON_Delete(body);
	return rc;
}

static cJSON *auth_login_body(const struct people_user *u, const char *csrf)
{
	cJSON *o = cJSON_CreateObject(), *user = people_user_json(u);

	if (!o || !user || !cJSON_AddItemToObject(o, "user", user)) {
		cJSON_Delete(user);
		cJSON_Delete(o);
		return NULL;
	}
	if (!cJSON_AddStringToObject(o, "csrf_token", csrf)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The audit entry of a login or a failed one: the email as typed
 * (lowercased) and the client's address, never the password. */
static int auth_login_audit(struct api_ctx *api,
			    const struct auth_login_work *w, int ok)
{
	char email[sizeof(w->email)], object[32] = "";
	struct audit_actor who = { w->user.id, email };
	cJSON *d = cJSON_CreateObject();
	size_t i;

	for (i = 0; w->email[i]; i++)
		email[i] = (char)tolower((unsigned char)w->email[i]);
	email[i] = 0;
	if (w->user.id > 0)
		audit_object(object, sizeof(object), "user", w->user.id);
	if (!ok)
		who.id = 0; /* not proven */
	if (d && (!cJSON_AddStringToObject(d, "email", email) ||
		  !cJSON_AddStringToObject(d, "address", w->peer))) {
		cJSON_Delete(d);
		d = NULL;
	}
	return audit_append_json(api->db, clock_now(api->clock), &who,
				 ok ? "login" : "login.failed", object, d);
}

/* The session of a login, the throttle's reset and the audit entry in
 * one transaction. */
static int auth_login_store(struct api_ctx *api, struct auth_login_work *w,
			    char *id, char *csrf)
{
	int own = audit_begin(api->db), rc;

	if (own < 0)
		return STORE_EDB;
	rc = people_throttle_success(api->db, w->email, w->peer);
	if (!rc)
		rc = people_session_create(api->db, w->user.id,
					   clock_now(api->clock), id, csrf);
	if (!rc)
		rc = auth_login_audit(api, w, 1);
	return audit_end(api->db, own, rc);
}

static void auth_login_finish(struct auth_login_work *w)
{
	char id[PEOPLE_SECRET_LEN + 1], csrf[PEOPLE_SECRET_LEN + 1];
	struct api_ctx *api = w->pw.api;
	struct http_exchange *x = w->pw.x;
	uint64_t req_id = w->pw.req_id;

	if (!w->pw.verified || w->user.id <= 0) {
		log_info("msg=\"login refused\" req=%llu",
			 (unsigned long long)req_id);
		(void)auth_login_audit(api, w, 0); /* logged on failure */
		auth_unauthorized(x, "wrong email or password");
		return;
	}
	if (auth_login_store(api, w, id, csrf)) {
		auth_internal(x, req_id, "session_create");
		goto out;
	}
	auth_set_cookie(x, id);
	log_info("msg=\"login\" user=%lld req=%llu", (long long)w->user.id,
		 (unsigned long long)req_id);
	http_respond_json(x, 200, auth_login_body(&w->user, csrf));
out:
	explicit_bzero(id, sizeof(id));
	explicit_bzero(csrf, sizeof(csrf));
}

static void auth_login_done(struct auth_password_work *pw, int status)
{
	struct auth_login_work *w = (struct auth_login_work *)pw;

	if (status)
		http_respond_error(pw->x, 503, "unavailable",
				   "the server is stopping");
	else
		auth_login_finish(w);
	auth_password_wipe(pw);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

/* Which hash the verify runs against: the user's, or the dummy one for
 * an unknown email or a user without a password. -1 on a database
 * failure. */
static int auth_login_lookup(struct api_ctx *api, struct auth_login_work *w)
{
	int rc = people_user_by_email(api->db, w->email, &w->user,
				      w->pw.stored, sizeof(w->pw.stored));

	if (rc && rc != STORE_ENOTFOUND)
		return -1;
	if (rc || !w->pw.stored[0]) {
		memset(&w->user, 0, sizeof(w->user));
		snprintf(w->pw.stored, sizeof(w->pw.stored), "%s",
			 password_dummy_hash());
	}
	w->pw.verify = 1;
	return 0;
}

/* The client's address into out: the connection's peer, or, when the
 * peer is the trusted reverse proxy (serve --trusted-proxy), the last
 * address of its X-Forwarded-For header (the one the proxy added). A
 * header that does not end in an IP address leaves the peer's. */
static void auth_client_addr(const struct api_ctx *api,
			     const struct http_exchange *x,
			     const struct http_request *req, char *out,
			     size_t cap)
{
	const char *peer = req->peer ? req->peer : "";
	const char *fwd, *last;
	unsigned char bin[sizeof(struct in6_addr)];
	char addr[INET6_ADDRSTRLEN];
	size_t n;

	snprintf(out, cap, "%s", peer);
	if (!api->trusted_proxy || strcmp(peer, api->trusted_proxy) ||
	    !(fwd = http_header(x, "X-Forwarded-For")))
		return;
	last = strrchr(fwd, ',');
	last = last ? last + 1 : fwd;
	last += strspn(last, " \t");
	n = strcspn(last, " \t");
	if (n == 0 || n >= sizeof(addr) || last[n + strspn(last + n, " \t")])
		return;
	memcpy(addr, last, n);
	addr[n] = 0;
	if (inet_pton(AF_INET, addr, bin) == 1 ||
	    inet_pton(AF_INET6, addr, bin) == 1)
		snprintf(out, cap, "%s", addr);
}

/* Counts the attempt; answers 429 or 500 itself and returns -1 when the
 * login may not go on. */
static int auth_login_throttle(struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req,
			       const char *email, const char *addr)
{
	int64_t retry = 0;
	int rc = people_throttle_attempt(api->db, email, addr,
					 clock_now(api->clock), &retry);

	if (rc == PEOPLE_ETHROTTLED) {
		log_info("msg=\"login throttled\" req=%llu retry_after=%lld",
			 (unsigned long long)req->id, (long long)retry);
		auth_throttled(x, retry);
		return -1;
	}
	if (rc) {
		auth_internal(x, req->id, "throttle");
		return -1;
	}
	return 0;
}

void auth_login(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req)
{
	struct auth_login_work *w;

	if (auth_json_only(x))
		return;
	if (!(w = calloc(1, sizeof(*w)))) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	w->pw.x = x;
	w->pw.req_id = req->id;
	w->pw.done = auth_login_done;
	auth_client_addr(api, x, req, w->peer, sizeof(w->peer));
	if (auth_parse_login(req, w)) {
		http_respond_error(x, 400, "bad_request",
				   "the body must be {\"email\": string, "
				   "\"password\": string}");
	} else if (!auth_login_throttle(api, x, req, w->email, w->peer)) {
		if (auth_login_lookup(api, w))
			auth_internal(x, req->id, "user_lookup");
		else if (auth_password_queue(api, &w->pw) == 0)
			return; /* answered by auth_login_done */
	}
	auth_password_wipe(&w->pw);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

/* ---- every request ---- */

/* The lookups of every request, over statements the course cache keeps
 * prepared for the loop's connection (or prepared anew without one). */
static int auth_token_user(struct api_ctx *api, const char *token,
			   int64_t *user_id)
{
	sqlite3_stmt *st = api->courses ?
		coursecache_stmt(api->courses, api->db,
				 people_sql_token_user) : NULL;

	if (!st)
		return people_token_user(api->db, token, user_id);
	return people_token_user_st(api->db, st, token, user_id);
}

static int auth_user_by_id(struct api_ctx *api, int64_t user_id,
			   struct people_user *out)
{
	sqlite3_stmt *st = api->courses ?
		coursecache_stmt(api->courses, api->db,
				 people_sql_user_by_id) : NULL;

	if (!st)
		return people_user_by_id(api->db, user_id, out);
	return people_user_by_id_st(api->db, st, user_id, out);
}

/* Finds who sent the request: 0, 401 or 500 (an HTTP status). */
static int auth_identify(struct api_ctx *api, struct http_exchange *x,
			 struct auth_identity *id)
{
	const char *authz = http_header(x, "Authorization");
	const char *cookie = http_header(x, "Cookie");
	char token[PEOPLE_SECRET_LEN + 1];
	int rc;

	memset(id, 0, sizeof(*id));
	if (authz) {
		if (httpauth_bearer(authz, token, sizeof(token)))
			return 401;
		rc = auth_token_user(api, token, &id->user_id);
		explicit_bzero(token, sizeof(token));
	} else if (cookie && !httpauth_cookie(cookie, AUTH_COOKIE, id->session,
					  sizeof(id->session))) {
		id->by_cookie = 1;
		rc = people_session_get(api->db, id->session,
					clock_now(api->clock), &id->user_id,
					id->csrf);
	} else {
		return 401;
	}
	if (rc == STORE_ENOTFOUND)
		return 401;
	return rc ? 500 : 0;
}

/* A cookie request that writes must echo the session's CSRF token. */
static int auth_csrf_ok(struct http_exchange *x,
			const struct http_request *req,
			const struct auth_identity *id)
{
	return !id->by_cookie ||
	       httpauth_csrf_ok(req->method, http_header(x, "X-CSRF-Token"),
				id->csrf, PEOPLE_SECRET_LEN);
}

/* Authenticates and checks CSRF; answers itself and returns -1 when the
 * request may not go on. */
static int auth_check(struct api_ctx *api, struct http_exchange *x,
		      const struct http_request *req,
		      struct auth_identity *id, struct people_user *user)
{
	int status = auth_identify(api, x, id), rc;

	if (status == 500) {
		auth_internal(x, req->id, "identify");
		return -1;
	}
	if (status) {
		auth_unauthorized(x, "missing or unknown credentials");
		return -1;
	}
	if (!auth_csrf_ok(x, req, id)) {
		http_respond_error(x, 403, "forbidden",
				   "missing or wrong X-CSRF-Token");
		return -1;
	}
	rc = auth_user_by_id(api, id->user_id, user);
	if (rc == STORE_ENOTFOUND) {
		auth_unauthorized(x, "missing or unknown credentials");
		return -1;
	}
	if (rc) {
		auth_internal(x, req->id, "user_get");
		return -1;
	}
	return 0;
}

int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	struct auth_identity id;
	int rc = auth_check(api, x, req, &id, out);

	explicit_bzero(&id, sizeof(id));
	if (rc)
		return -1;
	if (!(roles & AUTH_ROLE(out->role))) {
		http_respond_error(x, 403, "forbidden",
				   "your role does not allow this");
		return -1;
	}
	return 0;
}

/* ---- logout ---- */

void auth_logout(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req)
{
	struct auth_identity id;
	struct people_user user;

	if (auth_check(api, x, req, &id, &user))
		goto out;
	if (!id.by_cookie) {
		http_respond_error(x, 400, "bad_request",
				   "no session to end: a bearer token stays "
				   "valid");
		goto out;
	}
	if (people_session_delete(api->db, id.session)) {
		auth_internal(x, req->id, "session_delete");
		goto out;
	}
	http_add_header(x, "Set-Cookie",
			AUTH_COOKIE "=; Max-Age=0" AUTH_COOKIE_ATTRS);
	log_info("msg=\"logout\" user=%lld req=%llu", (long long)user.id,
		 (unsigned long long)req->id);
	http_respond_json(x, 200, cJSON_CreateObject());
out:
	explicit_bzero(&id, sizeof(id));
}

/* ---- the signed-in user ---- */

void auth_session(struct api_ctx *api, struct http_exchange *x,
		  const struct http_request *req)
{
	struct auth_identity id;
	struct people_user user;
	cJSON *body;

	if (auth_check(api, x, req, &id, &user))
		goto out;
	body = auth_user_body(api, user.id, id.by_cookie ? id.csrf : NULL);
	if (!body) {
		auth_internal(x, req->id, "session_user");
		goto out;
	}
	http_add_header(x, "Cache-Control", "no-store");
	http_respond_json(x, 200, body);
out:
	explicit_bzero(&id, sizeof(id));
}

/* A change of one's own profile; with a new password, after the work
 * on the pool has checked the current one and hashed the new one. */
struct auth_profile_work {
	struct auth_password_work pw; /* first: done gets its address */
	struct people_user user;
	char keep[PEOPLE_SECRET_LEN + 1]; /* the session to keep, or "" */
	char peer[AUTH_PEER_MAX];
	char name[PEOPLE_NAME_MAX + 1];
	int set_language;
	char language[PEOPLE_LANGUAGE_MAX + 1]; /* "" for the default */
	int has_current;
};

/* One field of the body into w; NULL, or why it is refused. */
static const char *auth_profile_field(cJSON *v, struct auth_profile_work *w)
{
	const char *k = v->string;

	if (!strcmp(k, "name")) {
		if (!cJSON_IsString(v) || !people_name_valid(v->valuestring))
			return "name must be 1 to 200 bytes of text";
		strcpy(w->name, v->valuestring);
	} else if (!strcmp(k, "language")) {
		if (!cJSON_IsNull(v) && (!cJSON_IsString(v) ||
		    !people_language_valid(v->valuestring)))
			return "language must be \"de\", \"en\" or null";
		w->set_language = 1;
		if (cJSON_IsString(v))
			strcpy(w->language, v->valuestring);
	} else if (!strcmp(k, "password")) {
		if (auth_password_take(v, &w->pw))
			return AUTH_PASSWORD_RULE;
	} else if (!strcmp(k, "current_password")) {
		if (auth_password_typed(v, &w->pw))
			return "current_password must be a string";
		w->has_current = 1;
	} else {
		return "unknown field: the profile has name, language, "
		       "password and current_password";
	}
	return NULL;
}

static const char *auth_profile_parse(const struct http_request *req,
				      struct auth_profile_work *w)
{
	cJSON *body = auth_body(req), *v;
	const char *why = body ? NULL : "the body is not a JSON object";

	cJSON_ArrayForEach(v, body) {
		if ((why = auth_profile_field(v, w)))
			break;
	}
	if (!why && w->pw.len && !w->has_current)
		why = "a new password needs current_password";
	cJSON_Delete(body);
	return why;
}

/* Writes the change and answers with the user. */
static void auth_profile_apply(struct auth_profile_work *w)
{
	struct people_user_patch p = { 0 };
	struct api_ctx *api = w->pw.api;
	cJSON *user = NULL;
	int rc;

	p.name = w->name[0] ? w->name : NULL;
	p.set_language = w->set_language;
	p.language = w->language[0] ? w->language : NULL;
	p.password_hash = w->pw.hash[0] ? w->pw.hash : NULL;
	p.keep_session = w->keep[0] ? w->keep : NULL;
	rc = people_user_update(api->db, w->user.id, &p);
	if (!rc)
		rc = people_user_get_json(api->db, w->user.id, &user);
	if (rc) {
		auth_internal(w->pw.x, w->pw.req_id, "profile_update");
		return;
	}
	log_info("msg=\"profile changed\" user=%lld password=%s req=%llu",
		 (long long)w->user.id, p.password_hash ? "new" : "kept",
		 (unsigned long long)w->pw.req_id);
	http_respond_json(w->pw.x, 200, user);
}

static void auth_profile_free(struct auth_profile_work *w)
{
	auth_password_wipe(&w->pw);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

static void auth_profile_done(struct auth_password_work *pw, int status)
{
	struct auth_profile_work *w = (struct auth_profile_work *)pw;

	if (status) {
		http_respond_error(pw->x, 503, "unavailable",
				   "the server is stopping");
	} else if (!pw->verified) {
		log_info("msg=\"password change refused\" user=%lld req=%llu",
			 (long long)w->user.id,
			 (unsigned long long)pw->req_id);
		http_respond_error(pw->x, 403, "forbidden",
				   "the current password is wrong");
	} else if (pw->hash_rc ||
		   people_throttle_success(pw->api->db, w->user.email,
					   w->peer)) {
		auth_internal(pw->x, pw->req_id, "password_hash");
	} else {
		auth_profile_apply(w);
	}
	auth_profile_free(w);
}

/* Counts the check of the current password like a login, and queues
 * it with the hash of the new one. 0 when queued. */
static int auth_profile_queue(struct api_ctx *api, struct http_exchange *x,
			      const struct http_request *req,
			      struct auth_profile_work *w)
{
	int rc;

	if (auth_login_throttle(api, x, req, w->user.email,
				w->peer))
		return -1;
	rc = people_password_hash_get(api->db, w->user.id, w->pw.stored,
				      sizeof(w->pw.stored));
	if (rc) {
		auth_internal(x, req->id, "password_get");
		return -1;
	}
	if (!w->pw.stored[0]) /* no password yet: nothing can match */
		snprintf(w->pw.stored, sizeof(w->pw.stored), "%s",
			 password_dummy_hash());
	w->pw.verify = 1;
	return auth_password_queue(api, &w->pw);
}

void auth_profile(struct api_ctx *api, struct http_exchange *x,
		  const struct http_request *req)
{
	struct auth_profile_work *w = calloc(1, sizeof(*w));
	struct auth_identity id;
	const char *why;

	if (!w) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	if (auth_check(api, x, req, &id, &w->user))
		goto out;
	w->pw.x = x;
	w->pw.req_id = req->id;
	w->pw.done = auth_profile_done;
	w->pw.api = api;
	if (id.by_cookie)
		strcpy(w->keep, id.session);
	auth_client_addr(api, x, req, w->peer, sizeof(w->peer));
	if ((why = auth_profile_parse(req, w))) {
		http_respond_error(x, 400, "bad_request", why);
	} else if (!w->pw.len) {
		auth_profile_apply(w);
	} else if (auth_profile_queue(api, x, req, w) == 0) {
		explicit_bzero(&id, sizeof(id));
		return; /* answered by auth_profile_done */
	}
out:
	explicit_bzero(&id, sizeof(id));
	auth_profile_free(w);
}

/* ---- password links redeemed ---- */

struct auth_link_work {
	struct auth_password_work pw; /* first: done gets its address */
	char token[PEOPLE_SECRET_LEN + 1];
};

static void auth_link_gone(struct http_exchange *x)
{
	http_respond_error(x, 410, "gone", "this link was used already, has "
			   "expired or is unknown; ask for a new one");
}

/* Sets the password, signs in and answers. */
static void auth_link_finish(struct auth_link_work *w)
{
	char id[PEOPLE_SECRET_LEN + 1], csrf[PEOPLE_SECRET_LEN + 1];
	struct api_ctx *api = w->pw.api;
	struct http_exchange *x = w->pw.x;
	struct people_user user;
	int64_t user_id = 0;
	int rc;

	rc = people_link_redeem(api->db, w->token, w->pw.hash,
				clock_now(api->clock), &user_id, id, csrf);
	if (rc == STORE_ENOTFOUND) {
		auth_link_gone(x);
		goto out;
	}
	/* the account may sign in at once, whatever failed before */
	if (rc || people_user_by_id(api->db, user_id, &user) ||
	    people_throttle_success(api->db, user.email, NULL)) {
		auth_internal(x, w->pw.req_id, "link_redeem");
		goto out;
	}
	auth_set_cookie(x, id);
	log_info("msg=\"password set by link\" user=%lld req=%llu",
		 (long long)user_id, (unsigned long long)w->pw.req_id);
	http_respond_json(x, 200, auth_user_body(api, user_id, csrf));
out:
	explicit_bzero(id, sizeof(id));
	explicit_bzero(csrf, sizeof(csrf));
}

static void auth_link_free(struct auth_link_work *w)
{
	auth_password_wipe(&w->pw);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

static void auth_link_done(struct auth_password_work *pw, int status)
{
	struct auth_link_work *w = (struct auth_link_work *)pw;

	if (status)
		http_respond_error(pw->x, 503, "unavailable",
				   "the server is stopping");
	else if (pw->hash_rc)
		auth_internal(pw->x, pw->req_id, "password_hash");
	else
		auth_link_finish(w);
	auth_link_free(w);
}

/* {"token": string, "password": string} into w; why it is refused. */
static const char *auth_link_parse(const struct http_request *req,
				   struct auth_link_work *w)
{
	cJSON *body = auth_body(req), *t, *p;
	const char *why = NULL;

	t = cJSON_GetObjectItemCaseSensitive(body, "token");
	p = cJSON_GetObjectItemCaseSensitive(body, "password");
	if (!cJSON_IsString(t) || !cJSON_IsString(p))
		why = "the body must be {\"token\": string, \"password\": "
		      "string}";
	else if (auth_password_take(p, &w->pw))
		why = AUTH_PASSWORD_RULE;
	else if (strlen(t->valuestring) == PEOPLE_SECRET_LEN)
		strcpy(w->token, t->valuestring);
	cJSON_Delete(body);
	return why;
}

void auth_password_set(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req)
{
	struct auth_link_work *w;
	enum people_link_kind kind;
	const char *why;
	int64_t user_id;
	int rc;

	if (auth_json_only(x))
		return;
	if (!(w = calloc(1, sizeof(*w)))) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	w->pw.x = x;
	w->pw.req_id = req->id;
	w->pw.done = auth_link_done;
	if ((why = auth_link_parse(req, w))) {
		http_respond_error(x, 400, "bad_request", why);
		goto out;
	}
	/* a dead link is told at once, before the cost of a hash */
	rc = people_link_check(api->db, w->token, clock_now(api->clock),
			       &user_id, &kind);
	if (rc == STORE_ENOTFOUND)
		auth_link_gone(x);
	else if (rc)
		auth_internal(x, req->id, "link_check");
	else if (auth_password_queue(api, &w->pw) == 0)
		return; /* answered by auth_link_done */
out:
	auth_link_free(w);
}

/* ---- reset links asked for ---- */

/* Mails a reset link when email is a user's and no reset mail went to
 * them in the last MAIL_RESET_INTERVAL seconds (so asking cannot flood
 * an inbox). Failures are logged; the asker's answer is the same. */
static void auth_reset_mail(struct api_ctx *api, const char *email,
			    uint64_t req_id)
{
	char url[PEOPLE_LINK_URL_MAX];
	int64_t now = clock_now(api->clock), expires;
	struct people_user u;
	int rc;

	if (people_user_by_email(api->db, email, &u, NULL, 0))
		return;
	if (mail_recent(api->db, u.email, "reset",
			now - MAIL_RESET_INTERVAL))
		return;
	rc = people_link_create(api->db, u.id, PEOPLE_LINK_RESET, now, url,
				&expires);
	if (!rc)
		rc = mail_queue_link(api->db, u.email, u.name, u.language,
				     MAIL_LINK_RESET, url, now);
	explicit_bzero(url, sizeof(url));
	if (rc) {
		log_error("msg=\"reset mail not queued\" req=%llu user=%lld",
			  (unsigned long long)req_id, (long long)u.id);
		return;
	}
	mail_sender_poke(api->mail);
}

void auth_reset_request(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req)
{
	cJSON *body, *e;
	int rc;

	if (auth_json_only(x))
		return;
	body = auth_body(req);
	e = cJSON_GetObjectItemCaseSensitive(body, "email");
	if (!cJSON_IsString(e)) {
		cJSON_Delete(body);
		http_respond_error(x, 400, "bad_request",
				   "the body must be {\"email\": string}");
		return;
	}
	rc = people_reset_request(api->db, e->valuestring,
				  clock_now(api->clock));
	if (!rc)
		auth_reset_mail(api, e->valuestring, req->id);
	cJSON_Delete(body);
	if (rc) {
		auth_internal(x, req->id, "reset_request");
		return;
	}
	/* the same answer whether the email is known or not */
	log_info("msg=\"password reset asked for\" req=%llu",
		 (unsigned long long)req->id);
	http_respond_json(x, 202, cJSON_CreateObject());
}
