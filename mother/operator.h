/*
 * Operators: the people (training provider staff, course authors) who
 * may use the mother's admin HTTP port. They are added on the command
 * line (`lms-mother operator add`) with an Argon2id password
 * (common/password.h); browsers sign in for a session kept by cookie,
 * scripts (and Prometheus) use bearer tokens from `lms-mother operator
 * token`.
 *
 * Session ids and tokens are OPERATOR_SECRET_LEN hex digits of random;
 * mother.db keeps only their SHA-256, so a copy of the database signs
 * nobody in. A session lasts OPERATOR_SESSION_SECONDS and carries a
 * CSRF token that writes must echo. Functions return 0, 1 for "not
 * found" (or "taken" when adding), -1 on a database error.
 */
#ifndef LMS_MOTHER_OPERATOR_H
#define LMS_MOTHER_OPERATOR_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>

#include "common/password.h"

#define OPERATOR_SECRET_LEN 64
#define OPERATOR_SESSION_SECONDS (12 * 3600)
#define OPERATOR_EMAIL_MAX 254

/* 1 when email looks like an address ("x@y", no spaces or controls,
 * at most OPERATOR_EMAIL_MAX bytes). */
int operator_email_valid(const char *email);

/* Adds an operator with an encoded Argon2id hash; the email is stored
 * lower-case. *id receives the new id. */
int operator_add(sqlite3 *db, const char *email, const char *hash,
		 int64_t now, int64_t *id);

/* The operator with email (any case): id and hash (cap bytes). */
int operator_by_email(sqlite3 *db, const char *email, int64_t *id,
		      char *hash, size_t cap);

/* The email of operator id into out (cap bytes). */
int operator_email(sqlite3 *db, int64_t id, char *out, size_t cap);

/* Starts a session; id and csrf receive OPERATOR_SECRET_LEN hex digits.
 * Expired sessions are removed on the way. */
int operator_session_create(sqlite3 *db, int64_t op, int64_t now,
			    char id[OPERATOR_SECRET_LEN + 1],
			    char csrf[OPERATOR_SECRET_LEN + 1]);

/* The operator and CSRF token of a live session. */
int operator_session_get(sqlite3 *db, const char *id, int64_t now,
			 int64_t *op, char csrf[OPERATOR_SECRET_LEN + 1]);

int operator_session_delete(sqlite3 *db, const char *id);

/* Creates a bearer token named name for the operator with email; token
 * receives OPERATOR_SECRET_LEN hex digits, shown once. */
int operator_token_create(sqlite3 *db, const char *email, const char *name,
			  int64_t now, char token[OPERATOR_SECRET_LEN + 1]);

/* The operator a bearer token belongs to. */
int operator_token_get(sqlite3 *db, const char *token, int64_t *op);

/* [{"id", "email", "created_at"}]; NULL on error. */
cJSON *operator_list_json(sqlite3 *db);

#endif
