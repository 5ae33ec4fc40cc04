/*
 * Login, logout and the check of every protected request.
 *
 * A login reads the user on the loop (one small query), verifies the
 * password on the thread pool, and writes the session on the loop when
 * the work comes back. Every failure of email or password answers the
 * same 401 after the same work. Secrets taken from requests are copied
 * into fixed buffers and wiped after use.
 */
#include "workspace/auth.h"

#include "common/crypto.h"
#include "common/log.h"
#include "common/password.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_COOKIE_ATTRS "; HttpOnly; SameSite=Lax; Path=/"

struct auth_login_work {
	uv_work_t work;
	struct api_ctx *api;
	struct http_exchange *x;
	uint64_t req_id;
	struct people_user user; /* id 0: no such user */
	char hash[PASSWORD_HASH_MAX];
	char password[PASSWORD_MAX + 1];
	size_t len;
	int ok;
};

/* How the request proved who it is. */
struct auth_identity {
	int64_t user_id;
	int by_cookie;
	char session[PEOPLE_SECRET_LEN + 1];
	char csrf[PEOPLE_SECRET_LEN + 1];
};

static void auth_send_json(struct http_exchange *x, int status, cJSON *v)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;

	cJSON_Delete(v);
	if (!text) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	http_respond(x, status, "application/json", text, strlen(text));
	cJSON_free(text);
}

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

/* ---- login ---- */

/* {"email": string, "password": string} into w; -1 when malformed. */
static int auth_parse_login(const struct http_request *req,
			    struct auth_login_work *w, char *email,
			    size_t ecap)
{
	cJSON *body, *e, *p;
	int rc = -1;

	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	e = cJSON_GetObjectItemCaseSensitive(body, "email");
	p = cJSON_GetObjectItemCaseSensitive(body, "password");
	if (cJSON_IsObject(body) && cJSON_IsString(e) && cJSON_IsString(p)) {
		snprintf(email, ecap, "%s", e->valuestring);
		w->len = strlen(p->valuestring);
		/* too long never matches; the verify still runs */
		if (w->len > PASSWORD_MAX)
			w->len = PASSWORD_MAX + 1;
		else
			memcpy(w->password, p->valuestring, w->len);
		explicit_bzero(p->valuestring, strlen(p->valuestring));
		rc = 0;
	}
	cJSON_Delete(body);
	return rc;
}

static void auth_login_verify(uv_work_t *work)
{
	struct auth_login_work *w = work->data;

	w->ok = password_verify(w->hash, w->password, w->len) == 0 &&
		w->user.id > 0;
	explicit_bzero(w->password, sizeof(w->password));
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

static void auth_login_finish(struct auth_login_work *w)
{
	char id[PEOPLE_SECRET_LEN + 1], csrf[PEOPLE_SECRET_LEN + 1];
	char cookie[128];
	struct api_ctx *api = w->api;

	if (!w->ok) {
		log_info("msg=\"login refused\" req=%llu",
			 (unsigned long long)w->req_id);
		auth_unauthorized(w->x, "wrong email or password");
		return;
	}
	if (people_session_create(api->db, w->user.id, clock_now(api->clock),
				  id, csrf)) {
		auth_internal(w->x, w->req_id, "session_create");
		return;
	}
	snprintf(cookie, sizeof(cookie), AUTH_COOKIE "=%s; Max-Age=%d"
		 AUTH_COOKIE_ATTRS, id, PEOPLE_SESSION_SECONDS);
	http_add_header(w->x, "Set-Cookie", cookie);
	http_add_header(w->x, "Cache-Control", "no-store");
	log_info("msg=\"login\" user=%lld req=%llu", (long long)w->user.id,
		 (unsigned long long)w->req_id);
	auth_send_json(w->x, 200, auth_login_body(&w->user, csrf));
	explicit_bzero(id, sizeof(id));
}

static void auth_login_done(uv_work_t *work, int status)
{
	struct auth_login_work *w = work->data;

	if (status)
		http_respond_error(w->x, 503, "unavailable",
				   "the server is stopping");
	else
		auth_login_finish(w);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

/* Which hash the verify runs against: the user's, or the dummy one for
 * an unknown email or a user without a password. -1 on a database
 * failure. */
static int auth_login_lookup(struct api_ctx *api, const char *email,
			     struct auth_login_work *w)
{
	int rc = people_user_by_email(api->db, email, &w->user, w->hash,
				      sizeof(w->hash));

	if (rc && rc != STORE_ENOTFOUND)
		return -1;
	if (rc || !w->hash[0]) {
		memset(&w->user, 0, sizeof(w->user));
		snprintf(w->hash, sizeof(w->hash), "%s",
			 password_dummy_hash());
	}
	return 0;
}

void auth_login(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req)
{
	struct auth_login_work *w = calloc(1, sizeof(*w));
	char email[PEOPLE_EMAIL_MAX + 2];

	if (!w) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	w->api = api;
	w->x = x;
	w->req_id = req->id;
	w->work.data = w;
	if (auth_parse_login(req, w, email, sizeof(email))) {
		http_respond_error(x, 400, "bad_request",
				   "the body must be {\"email\": string, "
				   "\"password\": string}");
	} else if (auth_login_lookup(api, email, w)) {
		auth_internal(x, req->id, "user_lookup");
	} else if (uv_queue_work(api->loop, &w->work, auth_login_verify,
				 auth_login_done)) {
		http_respond_error(x, 503, "unavailable",
				   "cannot check the password now");
	} else {
		return; /* answered by auth_login_done */
	}
	explicit_bzero(w, sizeof(*w));
	free(w);
}

/* ---- every request ---- */

/* The value of cookie name in a Cookie header into out; -1 when absent
 * or too long. */
static int auth_cookie(const char *header, const char *name, char *out,
		       size_t cap)
{
	size_t nlen = strlen(name), vlen;
	const char *p = header, *end;

	while (p && *p) {
		p += strspn(p, " \t;");
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if (!strncmp(p, name, nlen) && p[nlen] == '=') {
			vlen = (size_t)(end - p) - nlen - 1;
			while (vlen && (p[nlen + vlen] == ' ' ||
					p[nlen + vlen] == '\t'))
				vlen--;
			if (vlen >= cap)
				return -1;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = 0;
			return 0;
		}
		p = end;
	}
	return -1;
}

/* 0 and the token after "Bearer " of an Authorization header. */
static int auth_bearer(const char *header, char *out, size_t cap)
{
	const char *t;

	if (strncasecmp(header, "Bearer ", 7))
		return -1;
	t = header + 7 + strspn(header + 7, " ");
	if (strlen(t) >= cap)
		return -1;
	strcpy(out, t);
	return 0;
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
		if (auth_bearer(authz, token, sizeof(token)))
			return 401;
		rc = people_token_user(api->db, token, &id->user_id);
		explicit_bzero(token, sizeof(token));
	} else if (cookie && !auth_cookie(cookie, AUTH_COOKIE, id->session,
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
	const char *sent = http_header(x, "X-CSRF-Token");

	if (!id->by_cookie || !strcmp(req->method, "GET") ||
	    !strcmp(req->method, "HEAD"))
		return 1;
	return sent && strlen(sent) == PEOPLE_SECRET_LEN &&
	       crypto_memcmp(sent, id->csrf, PEOPLE_SECRET_LEN) == 0;
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
	rc = people_user_by_id(api->db, id->user_id, user);
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
	auth_send_json(x, 200, cJSON_CreateObject());
out:
	explicit_bzero(&id, sizeof(id));
}
