/*
 * Operators, their sessions and bearer tokens in mother.db. Secrets are
 * made here and stored as the hex of their SHA-256 only.
 */
#include "mother/operator.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int operator_email_valid(const char *email)
{
	const char *at = strchr(email, '@');
	size_t n = strlen(email);

	if (n == 0 || n > OPERATOR_EMAIL_MAX || !at || at == email ||
	    !at[1] || strchr(at + 1, '@'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)email[i] <= ' ' || email[i] == 0x7f)
			return 0;
	return 1;
}

static void operator_lower(const char *in, char out[OPERATOR_EMAIL_MAX + 1])
{
	size_t i;

	for (i = 0; in[i] && i < OPERATOR_EMAIL_MAX; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = 0;
}

/* The stored form of a secret: hex of its SHA-256. */
static void operator_digest(const char *secret, char out[65])
{
	uint8_t d[CRYPTO_SHA256_LEN];

	crypto_sha256(secret, strlen(secret), d);
	crypto_hex(d, sizeof(d), out);
}

static int operator_secret(char out[OPERATOR_SECRET_LEN + 1])
{
	uint8_t raw[OPERATOR_SECRET_LEN / 2];

	if (crypto_random(raw, sizeof(raw)))
		return -1;
	crypto_hex(raw, sizeof(raw), out);
	return 0;
}

/* Steps a write statement: 0, 1 for a constraint (taken), -1. */
static int operator_write(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return 1;
	log_error("msg=\"sql failed\" error=\"%s\"", sqlite3_errmsg(db));
	return -1;
}

int operator_add(sqlite3 *db, const char *email, const char *hash,
		 int64_t now, int64_t *id)
{
	char lower[OPERATOR_EMAIL_MAX + 1];
	sqlite3_stmt *st = db_prepare(db,
		"INSERT INTO operators (email, password_hash, created_at)"
		" VALUES (?, ?, ?)");
	int rc;

	if (!st)
		return -1;
	operator_lower(email, lower);
	sqlite3_bind_text(st, 1, lower, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = operator_write(db, st);
	if (!rc)
		*id = sqlite3_last_insert_rowid(db);
	return rc;
}

int operator_by_email(sqlite3 *db, const char *email, int64_t *id,
		      char *hash, size_t cap)
{
	char lower[OPERATOR_EMAIL_MAX + 1];
	sqlite3_stmt *st = db_prepare(db,
		"SELECT id, password_hash FROM operators WHERE email = ?");
	int rc;

	if (!st)
		return -1;
	operator_lower(email, lower);
	sqlite3_bind_text(st, 1, lower, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		snprintf(hash, cap, "%s", db_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int operator_email(sqlite3 *db, int64_t id, char *out, size_t cap)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT email FROM operators WHERE id = ?");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, cap, "%s", db_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int operator_session_create(sqlite3 *db, int64_t op, int64_t now,
			    char id[OPERATOR_SECRET_LEN + 1],
			    char csrf[OPERATOR_SECRET_LEN + 1])
{
	sqlite3_stmt *del, *st;
	char digest[65];

	if (operator_secret(id) || operator_secret(csrf))
		return -1;
	del = db_prepare(db, "DELETE FROM operator_sessions"
			     " WHERE expires_at <= ?");
	if (!del)
		return -1;
	sqlite3_bind_int64(del, 1, now);
	if (operator_write(db, del))
		return -1;
	st = db_prepare(db, "INSERT INTO operator_sessions (id_hash,"
			    " operator, csrf_token, created_at, expires_at)"
			    " VALUES (?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	operator_digest(id, digest);
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, op);
	sqlite3_bind_text(st, 3, csrf, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + OPERATOR_SESSION_SECONDS);
	return operator_write(db, st) ? -1 : 0;
}

int operator_session_get(sqlite3 *db, const char *id, int64_t now,
			 int64_t *op, char csrf[OPERATOR_SECRET_LEN + 1])
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT operator, csrf_token FROM operator_sessions"
		" WHERE id_hash = ? AND expires_at > ?");
	char digest[65];
	int rc;

	if (!st)
		return -1;
	operator_digest(id, digest);
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*op = sqlite3_column_int64(st, 0);
		snprintf(csrf, OPERATOR_SECRET_LEN + 1, "%s", db_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int operator_session_delete(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = db_prepare(db,
		"DELETE FROM operator_sessions WHERE id_hash = ?");
	char digest[65];

	if (!st)
		return -1;
	operator_digest(id, digest);
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
	return operator_write(db, st) ? -1 : 0;
}

int operator_token_create(sqlite3 *db, const char *email, const char *name,
			  int64_t now, char token[OPERATOR_SECRET_LEN + 1])
{
	char hash[PASSWORD_HASH_MAX], digest[65];
	sqlite3_stmt *st;
	int64_t op;
	int rc = operator_by_email(db, email, &op, hash, sizeof(hash));

	if (rc)
		return rc;
	if (operator_secret(token))
		return -1;
	st = db_prepare(db, "INSERT INTO operator_tokens (token_hash,"
			    " operator, name, created_at) VALUES (?, ?, ?, ?)");
	if (!st)
		return -1;
	operator_digest(token, digest);
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, op);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	return operator_write(db, st) ? -1 : 0;
}

int operator_token_get(sqlite3 *db, const char *token, int64_t *op)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT operator FROM operator_tokens WHERE token_hash = ?");
	char digest[65];
	int rc;

	if (!st)
		return -1;
	operator_digest(token, digest);
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*op = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

cJSON *operator_list_json(sqlite3 *db)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT id, email, created_at FROM operators ORDER BY email");
	cJSON *arr;
	char when[32];

	if (!st)
		return NULL;
	arr = cJSON_CreateArray();
	while (arr && sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id",
					(double)sqlite3_column_int64(st, 0));
		cJSON_AddStringToObject(o, "email", db_text(st, 1));
		clock_format_iso(sqlite3_column_int64(st, 2), when,
				 sizeof(when));
		cJSON_AddStringToObject(o, "created_at", when);
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}
