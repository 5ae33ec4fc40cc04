/*
 * Who is asking: login sessions for browsers and bearer tokens for
 * scripts, on the workspace's HTTP API; and the paths where people set
 * their own passwords.
 *
 *   POST   /api/v1/session  {"email", "password"} -> 200 {"user": {"id",
 *                           "email", "name", "role"}, "csrf_token"} and
 *                           the cookie lms_session; 401 when wrong; 429
 *                           with Retry-After after too many attempts
 *   GET    /api/v1/session  -> {"user": the user with "attributes" and
 *                           "language", "csrf_token" (null for a bearer
 *                           token)}
 *   DELETE /api/v1/session  ends the session of the cookie
 *   PATCH  /api/v1/session/user  {"name"?, "language"?, "password"?,
 *                           "current_password"} -> 200 the user
 *   POST   /api/v1/password {"token", "password"} -> 200 {"user",
 *                           "csrf_token"} and the cookie: a password link
 *                           redeemed signs in; 410 for a dead link
 *   POST   /api/v1/password-reset {"email"} -> 202, whoever asks
 *
 * A request authenticates with "Authorization: Bearer TOKEN" (a token
 * from `lms-workspace token create`) or with the session cookie. Cookie
 * requests other than GET and HEAD must carry the session's CSRF token
 * in X-CSRF-Token. Missing or unknown credentials get 401, a wrong or
 * missing CSRF token and a role that is not allowed 403.
 *
 * Logins are throttled per account and per client address
 * (people_throttle_attempt in workspace/people.h). Passwords are
 * verified and hashed with Argon2id on the loop's thread pool, never on
 * the loop; an unknown email costs a verify against a dummy hash, so
 * answers take the same time either way.
 */
#ifndef LMS_WORKSPACE_AUTH_H
#define LMS_WORKSPACE_AUTH_H

#include "common/http.h"
#include "common/password.h"
#include "workspace/api.h"
#include "workspace/people.h"

#define AUTH_COOKIE "lms_session"

/* The handlers of the paths above. */
void auth_login(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req);
void auth_logout(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req);
void auth_session(struct api_ctx *api, struct http_exchange *x,
		  const struct http_request *req);
void auth_profile(struct api_ctx *api, struct http_exchange *x,
		  const struct http_request *req);
void auth_password_set(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req);
void auth_reset_request(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req);

/* Authenticates req and checks that the user has one of the roles in
 * the mask (1 << PEOPLE_ROLE_*): 0 with the user in *out, or -1 after
 * answering 401 or 403 (or 500) itself. */
int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out);

#define AUTH_ROLE(r) (1u << (r))
#define AUTH_ANY_ROLE                                               \
	(AUTH_ROLE(PEOPLE_ROLE_ADMIN) | AUTH_ROLE(PEOPLE_ROLE_MANAGER) | \
	 AUTH_ROLE(PEOPLE_ROLE_LEARNER))

/* Password work for a request, on the thread pool. The caller embeds
 * the struct in its own (allocated) state, fills it and queues it with
 * auth_password_queue(); the worker verifies `current` against `stored`
 * when verify is set, then hashes `password` when len > 0. done runs on
 * the loop afterwards with status 0, or UV_ECANCELED when the loop is
 * stopping; it owns the state from then on and frees it after
 * auth_password_wipe(). */
struct auth_password_work {
	uv_work_t work;
	struct api_ctx *api;
	struct http_exchange *x;
	uint64_t req_id;
	char password[PASSWORD_MAX + 1]; /* the new one */
	size_t len;
	int verify;
	char current[PASSWORD_MAX + 1];
	size_t current_len;
	char stored[PASSWORD_HASH_MAX];
	/* results */
	int verified; /* current matched stored */
	int hash_rc;  /* of password_hash() */
	char hash[PASSWORD_HASH_MAX];
	void (*done)(struct auth_password_work *w, int status);
};

/* 0 when queued (done will run), or -1 after answering 503 itself; the
 * caller still owns (and frees) its state then. */
int auth_password_queue(struct api_ctx *api, struct auth_password_work *w);

/* Wipes the secrets of w. */
void auth_password_wipe(struct auth_password_work *w);

/* Copies a new password from a JSON string into w->password: 0, or -1
 * when it is not a string of PEOPLE_PASSWORD_MIN to PASSWORD_MAX bytes.
 * The JSON text is wiped either way. */
int auth_password_take(cJSON *v, struct auth_password_work *w);

/* The message of the 400 for a password auth_password_take refused. */
#define AUTH_PASSWORD_RULE "the password must be a string of 8 to 1024 bytes"

#endif
