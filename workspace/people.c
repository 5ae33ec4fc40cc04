/*
 * Users, API tokens and sessions in workspace.db (schema: migration 2 of
 * workspace/store.c). Adding a user with its attributes is one
 * transaction; secrets are looked up by the hex SHA-256 of what the
 * client holds, so the database never learns a usable credential.
 */
#include "workspace/people.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/log.h"
#include "workspace/store.h"

#include <ctype.h>
#include <string.h>

static const char *const people_roles[] = {
	[PEOPLE_ROLE_ADMIN] = "admin",
	[PEOPLE_ROLE_MANAGER] = "manager",
	[PEOPLE_ROLE_LEARNER] = "learner",
};

const char *people_role_name(enum people_role role)
{
	if ((unsigned)role > PEOPLE_ROLE_LEARNER)
		return "learner";
	return people_roles[role];
}

int people_role_parse(const char *s, enum people_role *out)
{
	for (int i = PEOPLE_ROLE_ADMIN; i <= PEOPLE_ROLE_LEARNER; i++) {
		if (!strcmp(s, people_roles[i])) {
			*out = (enum people_role)i;
			return 0;
		}
	}
	return STORE_EINVAL;
}

static int people_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"database query failed\" query=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

/* ---- validation ---- */

/* A domain: labels of a-z, 0-9 and '-', separated by single dots, at
 * least two labels, no label starting or ending with '-'. */
static int people_domain_valid(const char *d)
{
	size_t label = 0, labels = 0;
	char prev = '.';

	for (const char *p = d; *p; prev = *p++) {
		if (*p == '.') {
			if (label == 0 || prev == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
		if (*p == '-' && label == 0)
			return 0;
		if (label++ == 0)
			labels++;
		if (label > 63)
			return 0;
	}
	return label > 0 && prev != '-' && labels >= 2;
}

/* The part before '@': printable ASCII without spaces, quotes, '@',
 * brackets and the like, no leading, trailing or double dot. */
static int people_local_valid(const char *s, size_t len)
{
	static const char special[] = "!#$%&'*+/=?^_`{|}~-.";

	if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr(special, s[i]))
			return 0;
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
	}
	return 1;
}

int people_email_normalize(const char *in, char *out, size_t cap)
{
	size_t len = strlen(in);
	const char *at = strchr(in, '@');

	if (len > PEOPLE_EMAIL_MAX || len >= cap || !at ||
	    strchr(at + 1, '@'))
		return STORE_EINVAL;
	if (!people_local_valid(in, (size_t)(at - in)) ||
	    !people_domain_valid(at + 1))
		return STORE_EINVAL;
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	return 0;
}

/* No control characters; UTF-8 bytes above 0x7f pass. */
static int people_text_valid(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int people_name_valid(const char *name)
{
	if (!people_text_valid(name, PEOPLE_NAME_MAX))
		return 0;
	return strspn(name, " ") != strlen(name);
}

int people_attr_valid(const struct people_attr *a)
{
	size_t len = strlen(a->key);

	if (len == 0 || len > PEOPLE_ATTR_KEY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = a->key[i];

		if (!islower((unsigned char)c) && !isdigit((unsigned char)c) &&
		    c != '_' && c != '-')
			return 0;
	}
	return people_text_valid(a->value, PEOPLE_ATTR_VALUE_MAX);
}

static int people_new_user_valid(const struct people_new_user *u)
{
	if (!people_name_valid(u->name) ||
	    (unsigned)u->role > PEOPLE_ROLE_LEARNER)
		return 0;
	for (size_t i = 0; i < u->nattrs; i++) {
		if (!people_attr_valid(&u->attrs[i]))
			return 0;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(u->attrs[i].key, u->attrs[j].key))
				return 0;
	}
	return 1;
}

/* ---- users ---- */

static int people_insert_user(sqlite3 *db, const struct people_new_user *u,
			      const char *email, int64_t *id)
{
	sqlite3_stmt *st;
	int rc = 0, step;

	st = db_prepare(db, "INSERT INTO users (email, name, role, "
			    "password_hash, created_at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, people_role_name(u->role), -1,
			  SQLITE_STATIC);
	if (u->password_hash)
		sqlite3_bind_text(st, 4, u->password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, u->created_at);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE)
		*id = sqlite3_last_insert_rowid(db);
	else if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE)
		rc = PEOPLE_EEXISTS;
	else
		rc = people_fail(db, "user_insert");
	sqlite3_finalize(st);
	return rc;
}

static int people_insert_attrs(sqlite3 *db, int64_t id,
			       const struct people_new_user *u)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO user_attributes (user_id, key, "
			    "value) VALUES (?1, ?2, ?3)");
	if (!st)
		return STORE_EDB;
	for (size_t i = 0; i < u->nattrs && !rc; i++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, u->attrs[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, u->attrs[i].value, -1,
				  SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = people_fail(db, "user_attribute_insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int people_user_add(sqlite3 *db, const struct people_new_user *u,
		    int64_t *id)
{
	char email[PEOPLE_EMAIL_MAX + 1];
	int rc;

	if (people_email_normalize(u->email, email, sizeof(email)) ||
	    !people_new_user_valid(u))
		return STORE_EINVAL;
	if (db_begin(db))
		return STORE_EDB;
	rc = people_insert_user(db, u, email, id);
	if (!rc)
		rc = people_insert_attrs(db, *id, u);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}

#define PEOPLE_USER_COLUMNS "id, email, name, role, created_at"

static int people_user_from_row(sqlite3_stmt *st, struct people_user *u)
{
	const char *email = db_text(st, 1), *name = db_text(st, 2);

	memset(u, 0, sizeof(*u));
	if (strlen(email) >= sizeof(u->email) ||
	    strlen(name) >= sizeof(u->name))
		return STORE_EINVAL;
	u->id = sqlite3_column_int64(st, 0);
	strcpy(u->email, email);
	strcpy(u->name, name);
	if (people_role_parse(db_text(st, 3), &u->role))
		u->role = PEOPLE_ROLE_LEARNER;
	u->created_at = sqlite3_column_int64(st, 4);
	return 0;
}

/* Steps a statement selecting one user (and maybe its hash, column 5). */
static int people_user_step(sqlite3 *db, sqlite3_stmt *st,
			    struct people_user *out, char *hash, size_t hcap)
{
	int step = sqlite3_step(st), rc;

	if (step == SQLITE_DONE)
		return STORE_ENOTFOUND;
	if (step != SQLITE_ROW)
		return people_fail(db, "user_get");
	rc = people_user_from_row(st, out);
	if (!rc && hash) {
		const char *h = db_text(st, 5);

		if (strlen(h) >= hcap)
			return STORE_EINVAL;
		strcpy(hash, h);
	}
	return rc;
}

int people_user_by_email(sqlite3 *db, const char *email,
			 struct people_user *out, char *hash, size_t hcap)
{
	char norm[PEOPLE_EMAIL_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	if (people_email_normalize(email, norm, sizeof(norm)))
		return STORE_ENOTFOUND;
	st = db_prepare(db, "SELECT " PEOPLE_USER_COLUMNS ", password_hash "
			    "FROM users WHERE email = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
	rc = people_user_step(db, st, out, hash, hcap);
	sqlite3_finalize(st);
	return rc;
}

int people_user_by_id(sqlite3 *db, int64_t id, struct people_user *out)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db, "SELECT " PEOPLE_USER_COLUMNS " FROM users "
			    "WHERE id = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = people_user_step(db, st, out, NULL, 0);
	sqlite3_finalize(st);
	return rc;
}

cJSON *people_user_json(const struct people_user *u)
{
	cJSON *o = cJSON_CreateObject();

	if (o && cJSON_AddNumberToObject(o, "id", (double)u->id) &&
	    cJSON_AddStringToObject(o, "email", u->email) &&
	    cJSON_AddStringToObject(o, "name", u->name) &&
	    cJSON_AddStringToObject(o, "role", people_role_name(u->role)))
		return o;
	cJSON_Delete(o);
	return NULL;
}

/* Adds "attributes" and "created_at" to a user's object. */
static int people_user_extra(sqlite3 *db, sqlite3_stmt *attrs, cJSON *o,
			     const struct people_user *u)
{
	cJSON *a = cJSON_AddObjectToObject(o, "attributes");
	char when[32];
	int step;

	if (!a)
		return STORE_ENOMEM;
	sqlite3_bind_int64(attrs, 1, u->id);
	while ((step = sqlite3_step(attrs)) == SQLITE_ROW)
		if (!cJSON_AddStringToObject(a, db_text(attrs, 0),
					     db_text(attrs, 1)))
			break;
	sqlite3_reset(attrs);
	if (step != SQLITE_DONE)
		return step == SQLITE_ROW ? STORE_ENOMEM :
					    people_fail(db, "user_attributes");
	clock_format_iso(u->created_at, when, sizeof(when));
	if (!cJSON_AddStringToObject(o, "created_at", when))
		return STORE_ENOMEM;
	return 0;
}

static int people_users_fill(sqlite3 *db, sqlite3_stmt *st,
			     sqlite3_stmt *attrs, cJSON *list)
{
	struct people_user u;
	cJSON *o;
	int step, rc = 0;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = people_user_from_row(st, &u);
		if (rc)
			break;
		o = people_user_json(&u);
		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			return STORE_ENOMEM;
		}
		rc = people_user_extra(db, attrs, o, &u);
	}
	if (!rc && step != SQLITE_DONE)
		rc = people_fail(db, "user_list");
	return rc;
}

int people_users_json(sqlite3 *db, cJSON **out)
{
	sqlite3_stmt *st, *attrs;
	cJSON *list;
	int rc = STORE_EDB;

	*out = NULL;
	st = db_prepare(db, "SELECT " PEOPLE_USER_COLUMNS " FROM users "
			    "ORDER BY id");
	attrs = db_prepare(db, "SELECT key, value FROM user_attributes "
			       "WHERE user_id = ?1 ORDER BY key");
	list = cJSON_CreateArray();
	if (!list)
		rc = STORE_ENOMEM;
	else if (st && attrs)
		rc = people_users_fill(db, st, attrs, list);
	sqlite3_finalize(st);
	sqlite3_finalize(attrs);
	if (rc)
		cJSON_Delete(list);
	else
		*out = list;
	return rc;
}

int people_users_print_table(sqlite3 *db, FILE *f)
{
	sqlite3_stmt *st;
	struct people_user u;
	int step, rc = 0;

	st = db_prepare(db, "SELECT " PEOPLE_USER_COLUMNS " FROM users "
			    "ORDER BY id");
	if (!st)
		return STORE_EDB;
	fprintf(f, "%-6s %-32s %-8s %s\n", "ID", "EMAIL", "ROLE", "NAME");
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = people_user_from_row(st, &u);
		if (!rc)
			fprintf(f, "%-6lld %-32s %-8s %s\n", (long long)u.id,
				u.email, people_role_name(u.role), u.name);
	}
	if (!rc && step != SQLITE_DONE)
		rc = people_fail(db, "user_list");
	sqlite3_finalize(st);
	return rc;
}

/* ---- secrets ---- */

/* 32 random bytes as hex into secret, their SHA-256 as hex into hash. */
static int people_new_secret(char secret[PEOPLE_SECRET_LEN + 1],
			     char hash[PEOPLE_SECRET_LEN + 1])
{
	uint8_t raw[PEOPLE_SECRET_LEN / 2], digest[CRYPTO_SHA256_LEN];

	if (crypto_random(raw, sizeof(raw)))
		return STORE_EINVAL;
	crypto_hex(raw, sizeof(raw), secret);
	if (hash) {
		crypto_sha256(secret, PEOPLE_SECRET_LEN, digest);
		crypto_hex(digest, sizeof(digest), hash);
	}
	return 0;
}

/* The stored form of a secret a client presents; STORE_ENOTFOUND when it
 * cannot be one of ours. */
static int people_secret_hash(const char *secret,
			      char hash[PEOPLE_SECRET_LEN + 1])
{
	uint8_t digest[CRYPTO_SHA256_LEN];

	if (!secret || strlen(secret) != PEOPLE_SECRET_LEN ||
	    strspn(secret, "0123456789abcdef") != PEOPLE_SECRET_LEN)
		return STORE_ENOTFOUND;
	crypto_sha256(secret, PEOPLE_SECRET_LEN, digest);
	crypto_hex(digest, sizeof(digest), hash);
	return 0;
}

int people_token_create(sqlite3 *db, int64_t user_id, int64_t now,
			char token[PEOPLE_SECRET_LEN + 1])
{
	char hash[PEOPLE_SECRET_LEN + 1];
	sqlite3_stmt *st;
	int rc = 0;

	if (people_new_secret(token, hash))
		return STORE_EINVAL;
	st = db_prepare(db, "INSERT INTO api_tokens (token_hash, user_id, "
			    "created_at) VALUES (?1, ?2, ?3)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sqlite3_extended_errcode(db) ==
				     SQLITE_CONSTRAINT_FOREIGNKEY ?
			     STORE_ENOTFOUND :
			     people_fail(db, "token_create");
	sqlite3_finalize(st);
	return rc;
}

int people_token_user(sqlite3 *db, const char *token, int64_t *user_id)
{
	char hash[PEOPLE_SECRET_LEN + 1];
	sqlite3_stmt *st;
	int rc, step;

	if (people_secret_hash(token, hash))
		return STORE_ENOTFOUND;
	st = db_prepare(db, "SELECT user_id FROM api_tokens "
			    "WHERE token_hash = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*user_id = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = step == SQLITE_DONE ? STORE_ENOTFOUND :
					   people_fail(db, "token_user");
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- sessions ---- */

static int people_session_insert(sqlite3 *db, const char *hash,
				 int64_t user_id, const char *csrf,
				 int64_t now)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO sessions (id_hash, user_id, "
			    "csrf_token, created_at, expires_at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, csrf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + PEOPLE_SESSION_SECONDS);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = people_fail(db, "session_create");
	sqlite3_finalize(st);
	return rc;
}

int people_session_create(sqlite3 *db, int64_t user_id, int64_t now,
			  char id[PEOPLE_SECRET_LEN + 1],
			  char csrf[PEOPLE_SECRET_LEN + 1])
{
	char hash[PEOPLE_SECRET_LEN + 1];
	sqlite3_stmt *st;
	int rc;

	if (people_new_secret(id, hash) || people_new_secret(csrf, NULL))
		return STORE_EINVAL;
	if (db_begin(db))
		return STORE_EDB;
	st = db_prepare(db, "DELETE FROM sessions WHERE expires_at <= ?1");
	rc = st ? 0 : STORE_EDB;
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = people_fail(db, "session_expire");
		sqlite3_finalize(st);
	}
	if (!rc)
		rc = people_session_insert(db, hash, user_id, csrf, now);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}

int people_session_get(sqlite3 *db, const char *id, int64_t now,
		       int64_t *user_id, char csrf[PEOPLE_SECRET_LEN + 1])
{
	char hash[PEOPLE_SECRET_LEN + 1];
	sqlite3_stmt *st;
	int rc = STORE_ENOTFOUND, step;

	if (people_secret_hash(id, hash))
		return STORE_ENOTFOUND;
	st = db_prepare(db, "SELECT user_id, csrf_token FROM sessions "
			    "WHERE id_hash = ?1 AND expires_at > ?2");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW &&
	    strlen(db_text(st, 1)) == PEOPLE_SECRET_LEN) {
		*user_id = sqlite3_column_int64(st, 0);
		strcpy(csrf, db_text(st, 1));
		rc = 0;
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = people_fail(db, "session_get");
	}
	sqlite3_finalize(st);
	return rc;
}

int people_session_delete(sqlite3 *db, const char *id)
{
	char hash[PEOPLE_SECRET_LEN + 1];
	sqlite3_stmt *st;
	int rc = 0;

	if (people_secret_hash(id, hash))
		return 0;
	st = db_prepare(db, "DELETE FROM sessions WHERE id_hash = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = people_fail(db, "session_delete");
	sqlite3_finalize(st);
	return rc;
}

int people_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	(void)api;
	(void)x;
	(void)req;
	return 0;
}
