/*
 * People and access in workspace.db: users with a role and attributes,
 * API tokens for scripts and login sessions for browsers.
 *
 * An email is the user's name for logging in: stored lower-case, unique,
 * printable ASCII with one '@' and a dotted domain. Roles are admin,
 * manager and learner. Attributes are key/value pairs (department,
 * location ...) that later place users into groups.
 *
 * Secrets never reach the database in the clear: an API token, a session
 * id and the token of a password link are 32 random bytes shown once as
 * 64 hex digits; only their SHA-256 is stored. A session lasts
 * PEOPLE_SESSION_SECONDS and carries a CSRF token the browser must echo
 * on writes. A password link (an invitation or a reset) works once and
 * expires; the login throttle counts attempts per account and per client
 * address (schema: workspace/people_schema.h).
 *
 * Functions take a connection from store_open() and return 0 or a
 * negative STORE_E* code (workspace/store.h), or a PEOPLE_E* code.
 * The HTTP paths of people and access are in workspace/people_api.c
 * and workspace/auth.c.
 */
#ifndef LMS_WORKSPACE_PEOPLE_H
#define LMS_WORKSPACE_PEOPLE_H

#include "common/http.h"
#include "workspace/api.h"
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PEOPLE_EEXISTS (-20)	 /* the email is taken */
#define PEOPLE_ELASTADMIN (-21)	 /* the change would leave no admin */
#define PEOPLE_ETHROTTLED (-22) /* too many login attempts; wait */

#define PEOPLE_EMAIL_MAX 254
#define PEOPLE_NAME_MAX 200	  /* bytes */
#define PEOPLE_ATTR_KEY_MAX 64	  /* a-z, 0-9, '_' and '-' */
#define PEOPLE_ATTR_VALUE_MAX 200 /* bytes, no control characters */
#define PEOPLE_SECRET_LEN 64	  /* hex digits of a token or session id */
#define PEOPLE_SESSION_SECONDS (12 * 3600)
#define PEOPLE_PASSWORD_MIN 8 /* bytes of a password set by a person */
#define PEOPLE_LANGUAGE_MAX 2 /* "de" or "en" */

enum people_role {
	PEOPLE_ROLE_ADMIN,
	PEOPLE_ROLE_MANAGER,
	PEOPLE_ROLE_LEARNER,
};

/* "admin", "manager" or "learner". */
const char *people_role_name(enum people_role role);

/* 0 and *out for a role name, STORE_EINVAL for anything else. */
int people_role_parse(const char *s, enum people_role *out);

/* Checks an email and writes it lower-cased into out (cap bytes, at
 * least PEOPLE_EMAIL_MAX + 1); STORE_EINVAL when it is not one. */
int people_email_normalize(const char *in, char *out, size_t cap);

/* 1 when name is 1 to PEOPLE_NAME_MAX bytes without control characters
 * and not only spaces. */
int people_name_valid(const char *name);

struct people_attr {
	const char *key;
	const char *value;
};

/* 1 when key and value are within the rules above. */
int people_attr_valid(const struct people_attr *a);

/* 1 when key alone is. */
int people_attr_key_valid(const char *key);

struct people_new_user {
	const char *email; /* as typed; normalized here */
	const char *name;
	enum people_role role;
	const struct people_attr *attrs; /* distinct keys */
	size_t nattrs;
	const char *password_hash; /* NULL: cannot log in with a password */
	int64_t created_at;
};

/* Adds a user in one transaction: STORE_EINVAL for a bad email, name or
 * attribute (or a key given twice), PEOPLE_EEXISTS for a taken email.
 * *id receives the new user's id. Joins the caller's transaction when
 * one is open (audit_begin(), workspace/audit.h), as do
 * people_user_update(), people_session_create() and
 * people_throttle_success(). */
int people_user_add(sqlite3 *db, const struct people_new_user *u,
		    int64_t *id);

/* people_user_add() and its audit entry ("user.create" by who: email,
 * name, role and whether a password was set) in one transaction. */
struct audit_actor;
int people_user_add_audited(sqlite3 *db, const struct audit_actor *who,
			    const struct people_new_user *u, int64_t *id);

struct people_user {
	int64_t id;
	char email[PEOPLE_EMAIL_MAX + 1];
	char name[PEOPLE_NAME_MAX + 1];
	enum people_role role;
	int64_t created_at;
	char language[PEOPLE_LANGUAGE_MAX + 1]; /* "" for the default */
};

/* 1 when s is a language the pages offer: "de" or "en". */
int people_language_valid(const char *s);

/* The user with this email (any case) into out; STORE_ENOTFOUND when
 * there is none. hash (hcap bytes, may be NULL) receives the password
 * hash, "" when the user has none. */
int people_user_by_email(sqlite3 *db, const char *email,
			 struct people_user *out, char *hash, size_t hcap);
int people_user_by_id(sqlite3 *db, int64_t id, struct people_user *out);

/* The same over st, a statement of people_sql_user_by_id that the caller
 * keeps prepared (reset after use): the lookup of every request. */
extern const char people_sql_user_by_id[];
int people_user_by_id_st(sqlite3 *db, sqlite3_stmt *st, int64_t id,
			 struct people_user *out);

/* {"id", "email", "name", "role"} of u; NULL when out of memory. */
cJSON *people_user_json(const struct people_user *u);

/* Every user by id as [{"id", "email", "name", "role", "attributes":
 * {k: v}, "created_at": ISO 8601, "language": "de", "en" or null}]. */
int people_users_json(sqlite3 *db, cJSON **out);

/* One user as people_users_json lists it; STORE_ENOTFOUND when there is
 * none. The caller deletes *out. */
int people_user_get_json(sqlite3 *db, int64_t id, cJSON **out);

/* What a change of a user sets; NULL or 0 fields stay as they are. */
struct people_user_patch {
	const char *name;
	int set_role;
	enum people_role role;
	const struct people_attr *attrs; /* value NULL: remove the key */
	size_t nattrs;			 /* distinct keys */
	int set_language;
	const char *language; /* with set_language; NULL: the default */
	const char *password_hash; /* a new password */
	const char *keep_session;  /* with password_hash: the session id
				    * that stays, or NULL */
};

/* Changes a user in one transaction; the triggers of migration 3 move
 * the user between rule groups when attributes change. A new password
 * ends every session of the user but keep_session in the same
 * transaction, so the change and the sign-out happen together or not at
 * all. STORE_EINVAL for a bad value (nothing changes), STORE_ENOTFOUND
 * for no such user, PEOPLE_ELASTADMIN when it would take the role from
 * the last admin. */
int people_user_update(sqlite3 *db, int64_t id,
		       const struct people_user_patch *p);

/* The password hash of a user into hash (hcap bytes), "" when the user
 * has none; STORE_ENOTFOUND when there is no such user. */
int people_password_hash_get(sqlite3 *db, int64_t id, char *hash,
			     size_t hcap);

/* The same as a table: ID, EMAIL, ROLE, NAME. */
int people_users_print_table(sqlite3 *db, FILE *f);

/* ---- API tokens ---- */

/* Creates a token for the user; token receives PEOPLE_SECRET_LEN hex
 * digits and a NUL, shown once. */
int people_token_create(sqlite3 *db, int64_t user_id, int64_t now,
			char token[PEOPLE_SECRET_LEN + 1]);

/* The user a token belongs to; STORE_ENOTFOUND for an unknown token. */
int people_token_user(sqlite3 *db, const char *token, int64_t *user_id);

/* The same over a kept statement of people_sql_token_user. */
extern const char people_sql_token_user[];
int people_token_user_st(sqlite3 *db, sqlite3_stmt *st, const char *token,
			 int64_t *user_id);

/* ---- sessions ---- */

/* Starts a session until now + PEOPLE_SESSION_SECONDS; id and csrf
 * receive PEOPLE_SECRET_LEN hex digits each. Expired sessions of every
 * user are removed on the way. */
int people_session_create(sqlite3 *db, int64_t user_id, int64_t now,
			  char id[PEOPLE_SECRET_LEN + 1],
			  char csrf[PEOPLE_SECRET_LEN + 1]);

/* The user and CSRF token of a live session; STORE_ENOTFOUND when the id
 * is unknown or the session expired. */
int people_session_get(sqlite3 *db, const char *id, int64_t now,
		       int64_t *user_id, char csrf[PEOPLE_SECRET_LEN + 1]);

/* Ends a session; ending an unknown one is not an error. */
int people_session_delete(sqlite3 *db, const char *id);

/* Ends every session of the user except keep (a session id, or NULL to
 * end them all), e.g. after a password change. */
int people_sessions_end(sqlite3 *db, int64_t user_id, const char *keep);

/* ---- password links: invitations and resets ---- */

enum people_link_kind {
	PEOPLE_LINK_INVITE, /* valid PEOPLE_INVITE_SECONDS */
	PEOPLE_LINK_RESET,  /* valid PEOPLE_RESET_SECONDS */
};

#define PEOPLE_INVITE_SECONDS (7 * 24 * 3600)
#define PEOPLE_RESET_SECONDS 3600
#define PEOPLE_LINK_PATH "/#/password?token="
#define PEOPLE_LINK_URL_MAX (sizeof(PEOPLE_LINK_PATH) + PEOPLE_SECRET_LEN)

/* "invite" or "reset". */
const char *people_link_kind_name(enum people_link_kind kind);

/* Makes a link for user_id: url receives PEOPLE_LINK_PATH with the token
 * (shown once), *expires when it stops working. An older link of the
 * same kind for the user stops working; expired links of everyone are
 * removed on the way. STORE_ENOTFOUND when there is no such user. */
int people_link_create(sqlite3 *db, int64_t user_id,
		       enum people_link_kind kind, int64_t now,
		       char url[PEOPLE_LINK_URL_MAX], int64_t *expires);

/* The same for the user with this email (any case). */
int people_link_create_by_email(sqlite3 *db, const char *email,
				enum people_link_kind kind, int64_t now,
				char url[PEOPLE_LINK_URL_MAX],
				int64_t *expires);

/* The user and kind of a live link by its token; STORE_ENOTFOUND when
 * the token is unknown, used or expired. Changes nothing. */
int people_link_check(sqlite3 *db, const char *token, int64_t now,
		      int64_t *user_id, enum people_link_kind *kind);

/* Redeems a link in one transaction: the user's password becomes
 * password_hash, every session of the user ends, every link of the same
 * kind for the user is deleted (this one too), and a new session starts
 * (id and csrf as people_session_create gives them). STORE_ENOTFOUND
 * when the token is unknown, used or expired; then nothing changes. */
int people_link_redeem(sqlite3 *db, const char *token,
		       const char *password_hash, int64_t now,
		       int64_t *user_id, char id[PEOPLE_SECRET_LEN + 1],
		       char csrf[PEOPLE_SECRET_LEN + 1]);

/* Notes that someone asked for a reset link for email, for the mail
 * sender (not written yet) to pick up; whether such a user exists or
 * not, the same work is done. Requests older than PEOPLE_RESET_SECONDS
 * are dropped, and at most PEOPLE_REQUESTS_MAX are kept (the oldest go
 * first). An invalid email is not recorded and not an error. */
#define PEOPLE_REQUESTS_MAX 10000
int people_reset_request(sqlite3 *db, const char *email, int64_t now);

/* ---- login throttle ---- */

#define PEOPLE_THROTTLE_WINDOW (15 * 60) /* seconds */
#define PEOPLE_THROTTLE_ACCOUNT 5	 /* attempts per account */
#define PEOPLE_THROTTLE_ADDRESS 20	 /* attempts per client address */
#define PEOPLE_THROTTLE_ROWS 10000	 /* rows kept per kind */

/* Counts a login attempt for the email typed and the client address
 * (may be "") before the password is checked, so that attempts running
 * at once count too. PEOPLE_ETHROTTLED with *retry_after (seconds, at
 * least 1) when the account or the address has had its attempts in the
 * window; the refused attempt is not counted. A window starts with the
 * first attempt and lasts PEOPLE_THROTTLE_WINDOW; rows of past windows
 * are removed, and beyond PEOPLE_THROTTLE_ROWS per kind the oldest go. */
int people_throttle_attempt(sqlite3 *db, const char *email,
			    const char *addr, int64_t now,
			    int64_t *retry_after);

/* After a successful login: the account starts afresh and the attempt
 * is taken back from the address. */
int people_throttle_success(sqlite3 *db, const char *email,
			    const char *addr);

/* Answers req when its path is one of this module's subtree of the API
 * (/api/v1/users/{id}..., /api/v1/password...); see api_route_fn in
 * workspace/api.h. In workspace/people_api.c. */
int people_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req);

/* The handler of POST /api/v1/users (admin), in people_api.c. */
void people_api_create(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req);

#endif
