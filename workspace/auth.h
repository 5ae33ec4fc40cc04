/*
 * Who is asking: login sessions for browsers and bearer tokens for
 * scripts, on the workspace's HTTP API.
 *
 *   POST   /api/v1/session  {"email", "password"} -> 200 {"user": {"id",
 *                           "email", "name", "role"}, "csrf_token"} and
 *                           the cookie lms_session; 401 when wrong
 *   DELETE /api/v1/session  ends the session of the cookie
 *
 * A request authenticates with "Authorization: Bearer TOKEN" (a token
 * from `lms-workspace token create`) or with the session cookie. Cookie
 * requests other than GET and HEAD must carry the session's CSRF token
 * in X-CSRF-Token. Missing or unknown credentials get 401, a wrong or
 * missing CSRF token and a role that is not allowed 403.
 *
 * Passwords are verified with Argon2id on the loop's thread pool, never
 * on the loop; an unknown email costs a verify against a dummy hash, so
 * answers take the same time either way.
 */
#ifndef LMS_WORKSPACE_AUTH_H
#define LMS_WORKSPACE_AUTH_H

#include "common/http.h"
#include "workspace/api.h"
#include "workspace/people.h"

#define AUTH_COOKIE "lms_session"

/* The handlers of POST and DELETE /api/v1/session. */
void auth_login(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req);
void auth_logout(struct api_ctx *api, struct http_exchange *x,
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

#endif
