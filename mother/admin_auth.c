/*
 * Sign-in on the mother's admin port: login with the password verified
 * on the thread pool (an unknown email is verified against a dummy hash,
 * so both cost the same), sessions by cookie with a CSRF token, bearer
 * tokens, and the check of every protected request.
 */
#include "mother/admin.h"

#include "common/httpauth.h"
#include "common/log.h"
#include "common/password.h"
#include "mother/operator.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ADMIN_COOKIE_ATTRS "; HttpOnly; SameSite=Strict; Path=/"

struct admin_login_work {
	uv_work_t work;
	struct admin *a;
	struct http_exchange *x;
	uint64_t req_id;
	int64_t op; /* 0: no such operator */
	char email[OPERATOR_EMAIL_MAX + 1];
	char password[PASSWORD_MAX + 2];
	size_t len;
	char hash[PASSWORD_HASH_MAX];
	int verified;
};

static void admin_unauthorized(struct http_exchange *x, const char *why)
{
	http_add_header(x, "WWW-Authenticate", "Bearer");
	http_respond_error(x, 401, "unauthorized", why);
}

static void admin_internal(struct http_exchange *x, const char *step)
{
	log_error("msg=\"authentication failed on the server\" step=%s",
		  step);
	http_respond_error(x, 500, "internal", "cannot check credentials");
}

/* {"operator": {"id", "email"}, "csrf_token"}; NULL on error. */
static cJSON *admin_session_body(struct admin *a, int64_t op,
				 const char *csrf)
{
	char email[OPERATOR_EMAIL_MAX + 1];
	cJSON *o = cJSON_CreateObject(), *who;

	if (!o || operator_email(a->m->db, op, email, sizeof(email))) {
		cJSON_Delete(o);
		return NULL;
	}
	who = cJSON_AddObjectToObject(o, "operator");
	cJSON_AddNumberToObject(who, "id", (double)op);
	cJSON_AddStringToObject(who, "email", email);
	if (csrf)
		cJSON_AddStringToObject(o, "csrf_token", csrf);
	else
		cJSON_AddNullToObject(o, "csrf_token");
	return o;
}

/* ---- the failure limit ---- */

/* 1 when sign-ins are refused for now (Retry-After set in *retry). */
static int admin_throttled(struct admin *a, int64_t *retry)
{
	int64_t now = clock_now(&a->m->clock);

	if (now / 60 != a->fails_minute) {
		a->fails_minute = now / 60;
		a->fails = 0;
	}
	*retry = 60 - now % 60;
	return a->fails >= ADMIN_LOGIN_FAILS;
}

/* ---- login ---- */

static void admin_login_run(uv_work_t *w)
{
	struct admin_login_work *l = w->data;

	l->verified = l->len <= PASSWORD_MAX &&
		      password_verify(l->hash, l->password, l->len) == 0;
	explicit_bzero(l->password, sizeof(l->password));
}

static void admin_login_answer(struct admin_login_work *l)
{
	char id[OPERATOR_SECRET_LEN + 1], csrf[OPERATOR_SECRET_LEN + 1];
	char cookie[160];
	struct admin *a = l->a;

	if (!l->verified || l->op <= 0) {
		a->fails++;
		log_info("msg=\"operator login refused\" req=%llu",
			 (unsigned long long)l->req_id);
		admin_unauthorized(l->x, "wrong email or password");
		return;
	}
	if (operator_session_create(a->m->db, l->op,
				    clock_now(&a->m->clock), id, csrf)) {
		admin_internal(l->x, "session_create");
		return;
	}
	snprintf(cookie, sizeof(cookie), ADMIN_COOKIE "=%s; Max-Age=%d"
		 ADMIN_COOKIE_ATTRS, id, OPERATOR_SESSION_SECONDS);
	http_add_header(l->x, "Set-Cookie", cookie);
	http_add_header(l->x, "Cache-Control", "no-store");
	log_info("msg=\"operator login\" operator=%lld req=%llu",
		 (long long)l->op, (unsigned long long)l->req_id);
	http_respond_json(l->x, 200, admin_session_body(a, l->op, csrf));
	explicit_bzero(id, sizeof(id));
	explicit_bzero(cookie, sizeof(cookie));
}

static void admin_login_after(uv_work_t *w, int status)
{
	struct admin_login_work *l = w->data;

	if (status)
		http_respond_error(l->x, 503, "unavailable",
				   "the server is stopping");
	else
		admin_login_answer(l);
	explicit_bzero(l, sizeof(*l));
	free(l);
}

/* {"email": string, "password": string} into l; -1 when malformed. */
static int admin_login_parse(const struct http_request *req,
			     struct admin_login_work *l)
{
	cJSON *body = cJSON_ParseWithLength((const char *)req->body,
					    req->body_len);
	cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "email");
	cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "password");
	int rc = -1;

	if (cJSON_IsString(e) && cJSON_IsString(p) &&
	    strlen(e->valuestring) <= OPERATOR_EMAIL_MAX) {
		size_t n = strlen(p->valuestring);

		/* one too long never matches but costs a verify */
		l->len = n > PASSWORD_MAX ? PASSWORD_MAX + 1 : n;
		memcpy(l->password, p->valuestring, l->len);
		explicit_bzero(p->valuestring, n);
		snprintf(l->email, sizeof(l->email), "%s", e->valuestring);
		rc = 0;
	}
	cJSON_Delete(body);
	return rc;
}

/* A sign-in takes only JSON: a form on another site cannot send it
 * without the browser asking first. */
static int admin_json_body(struct http_exchange *x)
{
	const char *type = http_header(x, "Content-Type");

	if (type && !strncasecmp(type, "application/json", 16))
		return 0;
	http_respond_error(x, 415, "unsupported_media_type",
			   "the body must be JSON (Content-Type: "
			   "application/json)");
	return -1;
}

static int admin_login_queue(struct admin *a, struct admin_login_work *l)
{
	int rc = operator_by_email(a->m->db, l->email, &l->op, l->hash,
				   sizeof(l->hash));

	if (rc < 0)
		return -1;
	if (rc > 0) {
		l->op = 0;
		snprintf(l->hash, sizeof(l->hash), "%s",
			 password_dummy_hash());
	}
	l->work.data = l;
	return uv_queue_work(a->loop, &l->work, admin_login_run,
			     admin_login_after) ? -1 : 0;
}

void admin_login(struct admin *a, struct http_exchange *x,
		 const struct http_request *req)
{
	struct admin_login_work *l;
	char secs[24];
	int64_t retry;

	if (admin_json_body(x))
		return;
	if (admin_throttled(a, &retry)) {
		snprintf(secs, sizeof(secs), "%" PRId64, retry);
		http_add_header(x, "Retry-After", secs);
		http_respond_error(x, 429, "too_many_requests",
				   "too many failed sign-ins; try again in a "
				   "minute");
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	l->a = a;
	l->x = x;
	l->req_id = req->id;
	if (admin_login_parse(req, l)) {
		http_respond_error(x, 400, "bad_request",
				   "the body must be {\"email\": string, "
				   "\"password\": string}");
	} else if (admin_login_queue(a, l) == 0) {
		return; /* answered by admin_login_after */
	} else {
		admin_internal(x, "login_queue");
	}
	explicit_bzero(l, sizeof(*l));
	free(l);
}

/* ---- every request ---- */

struct admin_identity {
	int64_t op;
	int by_cookie;
	char session[OPERATOR_SECRET_LEN + 1];
	char csrf[OPERATOR_SECRET_LEN + 1];
};

/* 0, 401 or 500. */
static int admin_identify(struct admin *a, struct http_exchange *x,
			  struct admin_identity *id)
{
	const char *authz = http_header(x, "Authorization");
	const char *cookie = http_header(x, "Cookie");
	char token[OPERATOR_SECRET_LEN + 1];
	int rc;

	memset(id, 0, sizeof(*id));
	if (authz) {
		if (httpauth_bearer(authz, token, sizeof(token)))
			return 401;
		rc = operator_token_get(a->m->db, token, &id->op);
		explicit_bzero(token, sizeof(token));
	} else if (cookie && !httpauth_cookie(cookie, ADMIN_COOKIE,
					      id->session,
					      sizeof(id->session))) {
		id->by_cookie = 1;
		rc = operator_session_get(a->m->db, id->session,
					  clock_now(&a->m->clock), &id->op,
					  id->csrf);
	} else {
		return 401;
	}
	return rc > 0 ? 401 : rc < 0 ? 500 : 0;
}

static int admin_csrf_ok(struct http_exchange *x,
			 const struct http_request *req,
			 const struct admin_identity *id)
{
	return !id->by_cookie ||
	       httpauth_csrf_ok(req->method, http_header(x, "X-CSRF-Token"),
				id->csrf, OPERATOR_SECRET_LEN);
}

static int admin_check(struct admin *a, struct http_exchange *x,
		       const struct http_request *req,
		       struct admin_identity *id)
{
	int status = admin_identify(a, x, id);

	if (status == 500) {
		admin_internal(x, "identify");
		return -1;
	}
	if (status) {
		admin_unauthorized(x, "missing or unknown credentials");
		return -1;
	}
	if (!admin_csrf_ok(x, req, id)) {
		http_respond_error(x, 403, "forbidden",
				   "missing or wrong X-CSRF-Token");
		return -1;
	}
	return 0;
}

int admin_require(struct admin *a, struct http_exchange *x,
		  const struct http_request *req, int64_t *op)
{
	struct admin_identity id;
	int rc = admin_check(a, x, req, &id);

	*op = id.op;
	explicit_bzero(&id, sizeof(id));
	return rc;
}

void admin_session(struct admin *a, struct http_exchange *x,
		   const struct http_request *req)
{
	struct admin_identity id;
	cJSON *body;

	if (admin_check(a, x, req, &id))
		goto out;
	body = admin_session_body(a, id.op, id.by_cookie ? id.csrf : NULL);
	if (!body) {
		admin_internal(x, "session");
		goto out;
	}
	http_add_header(x, "Cache-Control", "no-store");
	http_respond_json(x, 200, body);
out:
	explicit_bzero(&id, sizeof(id));
}

void admin_logout(struct admin *a, struct http_exchange *x,
		  const struct http_request *req)
{
	struct admin_identity id;

	if (admin_check(a, x, req, &id))
		goto out;
	if (!id.by_cookie) {
		http_respond_error(x, 400, "bad_request",
				   "no session to end: a bearer token stays "
				   "valid");
		goto out;
	}
	if (operator_session_delete(a->m->db, id.session)) {
		admin_internal(x, "session_delete");
		goto out;
	}
	http_add_header(x, "Set-Cookie",
			ADMIN_COOKIE "=; Max-Age=0" ADMIN_COOKIE_ATTRS);
	http_respond_json(x, 200, cJSON_CreateObject());
out:
	explicit_bzero(&id, sizeof(id));
}
