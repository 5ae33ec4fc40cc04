/*
 * People and access in workspace.db: users with a role and attributes,
 * API tokens for scripts and login sessions for browsers.
 *
 * An email is the user's name for logging in: stored lower-case, unique,
 * printable ASCII with one '@' and a dotted domain. Roles are admin,
 * manager and learner. Attributes are key/value pairs (department,
 * location ...) that later place users into groups.
 *
 * Secrets never reach the database in the clear: an API token and a
 * session id are 32 random bytes shown once as 64 hex digits; only their
 * SHA-256 is stored. A session lasts PEOPLE_SESSION_SECONDS and carries a
 * CSRF token the browser must echo on writes.
 *
 * Functions take a connection from store_open() and return 0 or a
 * negative STORE_E* code (workspace/store.h), or PEOPLE_EEXISTS.
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

#define PEOPLE_EEXISTS (-20) /* the email is taken */

#define PEOPLE_EMAIL_MAX 254
#define PEOPLE_NAME_MAX 200	  /* bytes */
#define PEOPLE_ATTR_KEY_MAX 64	  /* a-z, 0-9, '_' and '-' */
#define PEOPLE_ATTR_VALUE_MAX 200 /* bytes, no control characters */
#define PEOPLE_SECRET_LEN 64	  /* hex digits of a token or session id */
#define PEOPLE_SESSION_SECONDS (12 * 3600)

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
 * *id receives the new user's id. */
int people_user_add(sqlite3 *db, const struct people_new_user *u,
		    int64_t *id);

struct people_user {
	int64_t id;
	char email[PEOPLE_EMAIL_MAX + 1];
	char name[PEOPLE_NAME_MAX + 1];
	enum people_role role;
	int64_t created_at;
};

/* The user with this email (any case) into out; STORE_ENOTFOUND when
 * there is none. hash (hcap bytes, may be NULL) receives the password
 * hash, "" when the user has none. */
int people_user_by_email(sqlite3 *db, const char *email,
			 struct people_user *out, char *hash, size_t hcap);
int people_user_by_id(sqlite3 *db, int64_t id, struct people_user *out);

/* {"id", "email", "name", "role"} of u; NULL when out of memory. */
cJSON *people_user_json(const struct people_user *u);

/* Every user by id as [{"id", "email", "name", "role", "attributes":
 * {k: v}, "created_at": ISO 8601}]. */
int people_users_json(sqlite3 *db, cJSON **out);

/* The same as a table: ID, EMAIL, ROLE, NAME. */
int people_users_print_table(sqlite3 *db, FILE *f);

/* ---- API tokens ---- */

/* Creates a token for the user; token receives PEOPLE_SECRET_LEN hex
 * digits and a NUL, shown once. */
int people_token_create(sqlite3 *db, int64_t user_id, int64_t now,
			char token[PEOPLE_SECRET_LEN + 1]);

/* The user a token belongs to; STORE_ENOTFOUND for an unknown token. */
int people_token_user(sqlite3 *db, const char *token, int64_t *user_id);

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

/* Answers req when its path is one of this module's subtree of the API;
 * see api_route_fn in workspace/api.h. */
int people_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req);

#endif
