/*
 * Users, API tokens, sessions, password links and the login throttle in
 * workspace.db (schema: migration 2 of workspace/store.c and
 * workspace/people_schema.h). Adding or changing a user with its
 * attributes is one transaction; secrets are looked up by the hex
 * SHA-256 of what the client holds, so the database never learns a
 * usable credential.
 */
#include "workspace/people.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/log.h"
#include "workspace/audit.h"
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

int people_language_valid(const char *s)
{
	return s && (!strcmp(s, "de") || !strcmp(s, "en"));
}

int people_name_valid(const char *name)
{
	if (!people_text_valid(name, PEOPLE_NAME_MAX))
		return 0;
	return strspn(name, " ") != strlen(name);
}

int people_attr_key_valid(const char *key)
{
	size_t len = strlen(key);

	if (len == 0 || len > PEOPLE_ATTR_KEY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];

		if (!islower((unsigned char)c) && !isdigit((unsigned char)c) &&
		    c != '_' && c != '-')
			return 0;
	}
	return 1;
}

int people_attr_valid(const struct people_attr *a)
{
	return people_attr_key_valid(a->key) &&
	       people_text_valid(a->value, PEOPLE_ATTR_VALUE_MAX);
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
	int rc, own;

	if (people_email_normalize(u->email, email, sizeof(email)) ||
	    !people_new_user_valid(u))
		return STORE_EINVAL;
	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = people_insert_user(db, u, email, id);
	if (!rc)
		rc = people_insert_attrs(db, *id, u);
	return audit_end(db, own, rc);
}

/* What the audit log keeps of a new user: never the password. */
static cJSON *people_new_detail(const struct people_new_user *u,
				const char *email)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddStringToObject(o, "email", email) ||
		  !cJSON_AddStringToObject(o, "name", u->name) ||
		  !cJSON_AddStringToObject(o, "role",
					   people_role_name(u->role)) ||
		  !cJSON_AddBoolToObject(o, "password",
					 u->password_hash != NULL))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

int people_user_add_audited(sqlite3 *db, const struct audit_actor *who,
			    const struct people_new_user *u, int64_t *id)
{
	char email[PEOPLE_EMAIL_MAX + 1] = "", object[32];
	int own = audit_begin(db), rc;

	if (own < 0)
		return STORE_EDB;
	people_email_normalize(u->email, email, sizeof(email));
	rc = people_user_add(db, u, id);
	if (!rc)
		rc = audit_append_json(db, u->created_at, who, "user.create",
				       audit_object(object, sizeof(object),
						    "user", *id),
				       people_new_detail(u, email));
	return audit_end(db, own, rc);
}

#define PEOPLE_USER_COLUMNS "id, email, name, role, created_at, language"

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
	if (people_language_valid(db_text(st, 5)))
		strcpy(u->language, db_text(st, 5));
	return 0;
}

/* Steps a statement selecting one user (and maybe its hash, column 6). */
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
		const char *h = db_text(st, 6);

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

const char people_sql_user_by_id[] =
	"SELECT " PEOPLE_USER_COLUMNS " FROM users WHERE id = ?1";

int people_user_by_id_st(sqlite3 *db, sqlite3_stmt *st, int64_t id,
			 struct people_user *out)
{
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = people_user_step(db, st, out, NULL, 0);
	sqlite3_reset(st);
	return rc;
}

int people_user_by_id(sqlite3 *db, int64_t id, struct people_user *out)
{
	sqlite3_stmt *st = db_prepare(db, people_sql_user_by_id);
	int rc;

	if (!st)
		return STORE_EDB;
	rc = people_user_by_id_st(db, st, id, out);
	sqlite3_finalize(st);
	return rc;
}

/* ---- changing a user ---- */

static int people_patch_valid(const struct people_user_patch *p)
{
	const struct people_attr *a;

	if ((p->name && !people_name_valid(p->name)) ||
	    (p->set_role && (unsigned)p->role > PEOPLE_ROLE_LEARNER) ||
	    (p->set_language && p->language &&
	     !people_language_valid(p->language)))
		return 0;
	for (size_t i = 0; i < p->nattrs; i++) {
		a = &p->attrs[i];
		if (!people_attr_key_valid(a->key) ||
		    (a->value && !people_attr_valid(a)))
			return 0;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(a->key, p->attrs[j].key))
				return 0;
	}
	return 1;
}

/* Runs a statement with ?1 = id (a statement may leave ?1 unused),
 * ?2 = text (NULL binds NULL) and ?3 = more (when not NULL); what names
 * it in the log. */
static int people_run(sqlite3 *db, const char *sql, int64_t id,
		      const char *text, const char *more, const char *what)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc = 0;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	if (text)
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	if (more)
		sqlite3_bind_text(st, 3, more, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = people_fail(db, what);
	sqlite3_finalize(st);
	return rc;
}

/* The number a query (with ?1 = id if it has a parameter) gives, or a
 * negative STORE_E* code. */
static int64_t people_count(sqlite3 *db, const char *sql, int64_t id)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n;

	if (!st)
		return STORE_EDB;
	if (sqlite3_bind_parameter_count(st))
		sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		n = people_fail(db, "count");
	sqlite3_finalize(st);
	return n;
}

/* The role change, inside the update's transaction. */
static int people_update_role(sqlite3 *db, int64_t id, enum people_role r)
{
	int64_t admins;
	int rc;

	rc = people_run(db, "UPDATE users SET role = ?2 WHERE id = ?1", id,
			people_role_name(r), NULL, "user_role");
	if (rc)
		return rc;
	admins = people_count(db, "SELECT count(*) FROM users "
			      "WHERE role = 'admin'", 0);
	if (admins < 0)
		return (int)admins;
	return admins ? 0 : PEOPLE_ELASTADMIN;
}

/* Sets one attribute by UPDATE or INSERT. Not by an upsert: its
 * conflict clause would override the OR IGNORE of the regrouping
 * triggers, which then fail on memberships that already exist. */
static int people_set_attr(sqlite3 *db, int64_t id,
			   const struct people_attr *a)
{
	int rc = people_run(db, "UPDATE user_attributes SET value = ?3 "
			    "WHERE user_id = ?1 AND key = ?2 AND value <> ?3",
			    id, a->key, a->value, "user_attribute_update");

	if (!rc)
		rc = people_run(db, "INSERT INTO user_attributes (user_id, "
				"key, value) SELECT ?1, ?2, ?3 WHERE NOT "
				"EXISTS (SELECT 1 FROM user_attributes WHERE "
				"user_id = ?1 AND key = ?2)", id, a->key,
				a->value, "user_attribute_insert");
	return rc;
}

static int people_update_attrs(sqlite3 *db, int64_t id,
			       const struct people_user_patch *p)
{
	const struct people_attr *a;
	int rc = 0;

	for (size_t i = 0; i < p->nattrs && !rc; i++) {
		a = &p->attrs[i];
		if (!a->value)
			rc = people_run(db, "DELETE FROM user_attributes "
					"WHERE user_id = ?1 AND key = ?2", id,
					a->key, NULL, "user_attribute_delete");
		else
			rc = people_set_attr(db, id, a);
	}
	return rc;
}

/* The steps of people_user_update, inside its transaction. */
static int people_update_steps(sqlite3 *db, int64_t id,
			       const struct people_user_patch *p)
{
	int64_t n = people_count(db, "SELECT count(*) FROM users "
				 "WHERE id = ?1", id);
	int rc = 0;

	if (n <= 0)
		return n < 0 ? (int)n : STORE_ENOTFOUND;
	if (p->name)
		rc = people_run(db, "UPDATE users SET name = ?2 WHERE id = ?1",
				id, p->name, NULL, "user_name");
	if (!rc && p->set_role)
		rc = people_update_role(db, id, p->role);
	if (!rc && p->set_language)
		rc = people_run(db, "UPDATE users SET language = ?2 "
				"WHERE id = ?1", id, p->language, NULL,
				"user_language");
	if (!rc && p->password_hash)
		rc = people_run(db, "UPDATE users SET password_hash = ?2 "
				"WHERE id = ?1", id, p->password_hash, NULL,
				"user_password");
	if (!rc && p->password_hash)
		rc = people_sessions_end(db, id, p->keep_session);
	if (!rc)
		rc = people_update_attrs(db, id, p);
	return rc;
}

int people_user_update(sqlite3 *db, int64_t id,
		       const struct people_user_patch *p)
{
	int rc, own;

	if (!people_patch_valid(p))
		return STORE_EINVAL;
	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = people_update_steps(db, id, p);
	return audit_end(db, own, rc);
}

int people_password_hash_get(sqlite3 *db, int64_t id, char *hash,
			     size_t hcap)
{
	sqlite3_stmt *st;
	int rc, step;

	st = db_prepare(db, "SELECT password_hash FROM users WHERE id = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = strlen(db_text(st, 0)) < hcap ? 0 : STORE_EINVAL;
	else
		rc = step == SQLITE_DONE ? STORE_ENOTFOUND :
					   people_fail(db, "password_get");
	if (!rc)
		strcpy(hash, db_text(st, 0));
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

/* Adds "attributes", "created_at" and "language" to a user's object. */
static int people_user_extra(sqlite3 *db, sqlite3_stmt *attrs, cJSON *o,
			     const struct people_user *u)
{
	cJSON *a = cJSON_AddObjectToObject(o, "attributes");
	cJSON *lang = u->language[0] ? cJSON_CreateString(u->language) :
				       cJSON_CreateNull();
	char when[32];
	int step;

	if (!lang || !cJSON_AddItemToObject(o, "language", lang)) {
		cJSON_Delete(lang);
		return STORE_ENOMEM;
	}
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

/* The users a statement selects (with ?1 bound to id when id > 0), each
 * with its attributes, as a new array in *out. */
static int people_users_select(sqlite3 *db, const char *sql, int64_t id,
			       cJSON **out)
{
	sqlite3_stmt *st, *attrs;
	cJSON *list;
	int rc = STORE_EDB;

	*out = NULL;
	st = db_prepare(db, sql);
	attrs = db_prepare(db, "SELECT key, value FROM user_attributes "
			       "WHERE user_id = ?1 ORDER BY key");
	if (st && id > 0)
		sqlite3_bind_int64(st, 1, id);
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

int people_users_json(sqlite3 *db, cJSON **out)
{
	return people_users_select(db, "SELECT " PEOPLE_USER_COLUMNS
				   " FROM users ORDER BY id", 0, out);
}

int people_user_get_json(sqlite3 *db, int64_t id, cJSON **out)
{
	cJSON *list;
	int rc;

	*out = NULL;
	if (id <= 0)
		return STORE_ENOTFOUND;
	rc = people_users_select(db, "SELECT " PEOPLE_USER_COLUMNS
				 " FROM users WHERE id = ?1", id, &list);
	if (rc)
		return rc;
	if (cJSON_GetArraySize(list) == 1)
		*out = cJSON_DetachItemFromArray(list, 0);
	cJSON_Delete(list);
	return *out ? 0 : STORE_ENOTFOUND;
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

const char people_sql_token_user[] =
	"SELECT user_id FROM api_tokens WHERE token_hash = ?1";

int people_token_user_st(sqlite3 *db, sqlite3_stmt *st, const char *token,
			 int64_t *user_id)
{
	char hash[PEOPLE_SECRET_LEN + 1];
	int rc, step;

	if (people_secret_hash(token, hash))
		return STORE_ENOTFOUND;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*user_id = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = step == SQLITE_DONE ? STORE_ENOTFOUND :
					   people_fail(db, "token_user");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int people_token_user(sqlite3 *db, const char *token, int64_t *user_id)
{
	sqlite3_stmt *st = db_prepare(db, people_sql_token_user);
	int rc;

	if (!st)
		return STORE_EDB;
	rc = people_token_user_st(db, st, token, user_id);
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

/* Removes expired sessions and starts one, in the caller's
 * transaction. */
static int people_session_start(sqlite3 *db, int64_t user_id, int64_t now,
				char id[PEOPLE_SECRET_LEN + 1],
				char csrf[PEOPLE_SECRET_LEN + 1])
{
	char hash[PEOPLE_SECRET_LEN + 1];
	sqlite3_stmt *st;
	int rc;

	if (people_new_secret(id, hash) || people_new_secret(csrf, NULL))
		return STORE_EINVAL;
	st = db_prepare(db, "DELETE FROM sessions WHERE expires_at <= ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st) == SQLITE_DONE ?
		     0 : people_fail(db, "session_expire");
	sqlite3_finalize(st);
	if (!rc)
		rc = people_session_insert(db, hash, user_id, csrf, now);
	return rc;
}

int people_session_create(sqlite3 *db, int64_t user_id, int64_t now,
			  char id[PEOPLE_SECRET_LEN + 1],
			  char csrf[PEOPLE_SECRET_LEN + 1])
{
	int rc, own;

	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = people_session_start(db, user_id, now, id, csrf);
	return audit_end(db, own, rc);
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

int people_sessions_end(sqlite3 *db, int64_t user_id, const char *keep)
{
	char hash[PEOPLE_SECRET_LEN + 1] = "";

	if (keep && people_secret_hash(keep, hash))
		hash[0] = 0;
	return people_run(db, "DELETE FROM sessions WHERE user_id = ?1 "
			  "AND id_hash IS NOT ?2", user_id,
			  hash[0] ? hash : NULL, NULL, "sessions_end");
}

/* ---- password links ---- */

const char *people_link_kind_name(enum people_link_kind kind)
{
	return kind == PEOPLE_LINK_INVITE ? "invite" : "reset";
}

static int64_t people_link_seconds(enum people_link_kind kind)
{
	return kind == PEOPLE_LINK_INVITE ? PEOPLE_INVITE_SECONDS :
					    PEOPLE_RESET_SECONDS;
}

static int people_link_insert(sqlite3 *db, const char *hash,
			      int64_t user_id, enum people_link_kind kind,
			      int64_t now)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO user_links (token_hash, user_id, "
			    "kind, created_at, expires_at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, people_link_kind_name(kind), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + people_link_seconds(kind));
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sqlite3_extended_errcode(db) ==
				     SQLITE_CONSTRAINT_FOREIGNKEY ?
			     STORE_ENOTFOUND :
			     people_fail(db, "link_insert");
	sqlite3_finalize(st);
	return rc;
}

/* The steps of people_link_create, inside its transaction. */
static int people_link_steps(sqlite3 *db, int64_t user_id,
			     enum people_link_kind kind, int64_t now,
			     const char *hash)
{
	int rc;

	rc = people_run(db, "DELETE FROM user_links WHERE expires_at <= ?1",
			now, NULL, NULL, "link_expire");
	if (!rc)
		rc = people_run(db, "DELETE FROM user_links WHERE user_id = ?1"
				" AND kind = ?2", user_id,
				people_link_kind_name(kind), NULL,
				"link_replace");
	if (!rc)
		rc = people_link_insert(db, hash, user_id, kind, now);
	return rc;
}

int people_link_create(sqlite3 *db, int64_t user_id,
		       enum people_link_kind kind, int64_t now,
		       char url[PEOPLE_LINK_URL_MAX], int64_t *expires)
{
	char token[PEOPLE_SECRET_LEN + 1], hash[PEOPLE_SECRET_LEN + 1];
	int rc;

	if (people_new_secret(token, hash))
		return STORE_EINVAL;
	if (db_begin(db))
		return STORE_EDB;
	rc = people_link_steps(db, user_id, kind, now, hash);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc) {
		db_rollback(db);
	} else {
		snprintf(url, PEOPLE_LINK_URL_MAX, PEOPLE_LINK_PATH "%s",
			 token);
		*expires = now + people_link_seconds(kind);
	}
	explicit_bzero(token, sizeof(token));
	return rc;
}

int people_link_create_by_email(sqlite3 *db, const char *email,
				enum people_link_kind kind, int64_t now,
				char url[PEOPLE_LINK_URL_MAX],
				int64_t *expires)
{
	struct people_user u;
	int rc = people_user_by_email(db, email, &u, NULL, 0);

	if (rc)
		return rc;
	return people_link_create(db, u.id, kind, now, url, expires);
}

int people_link_check(sqlite3 *db, const char *token, int64_t now,
		      int64_t *user_id, enum people_link_kind *kind)
{
	char hash[PEOPLE_SECRET_LEN + 1];
	sqlite3_stmt *st;
	int rc = STORE_ENOTFOUND, step;

	if (people_secret_hash(token, hash))
		return STORE_ENOTFOUND;
	st = db_prepare(db, "SELECT user_id, kind FROM user_links "
			    "WHERE token_hash = ?1 AND expires_at > ?2");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*user_id = sqlite3_column_int64(st, 0);
		*kind = strcmp(db_text(st, 1), "invite") ? PEOPLE_LINK_RESET :
							   PEOPLE_LINK_INVITE;
		rc = 0;
	} else if (step != SQLITE_DONE) {
		rc = people_fail(db, "link_check");
	}
	sqlite3_finalize(st);
	return rc;
}

/* The steps of people_link_redeem, inside its transaction. */
static int people_redeem_steps(sqlite3 *db, const char *token,
			       const char *password_hash, int64_t now,
			       int64_t *user_id, char *id, char *csrf)
{
	enum people_link_kind kind;
	int rc;

	rc = people_link_check(db, token, now, user_id, &kind);
	if (!rc)
		rc = people_run(db, "UPDATE users SET password_hash = ?2 "
				"WHERE id = ?1", *user_id, password_hash,
				NULL, "link_password");
	if (!rc)
		rc = people_run(db, "DELETE FROM user_links WHERE user_id = ?1"
				" AND kind = ?2", *user_id,
				people_link_kind_name(kind), NULL,
				"link_use");
	if (!rc)
		rc = people_sessions_end(db, *user_id, NULL);
	if (!rc)
		rc = people_session_start(db, *user_id, now, id, csrf);
	return rc;
}

int people_link_redeem(sqlite3 *db, const char *token,
		       const char *password_hash, int64_t now,
		       int64_t *user_id, char id[PEOPLE_SECRET_LEN + 1],
		       char csrf[PEOPLE_SECRET_LEN + 1])
{
	int rc;

	if (!password_hash || !*password_hash)
		return STORE_EINVAL;
	if (db_begin(db))
		return STORE_EDB;
	rc = people_redeem_steps(db, token, password_hash, now, user_id, id,
				 csrf);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}

static int people_request_steps(sqlite3 *db, const char *email,
				int64_t now)
{
	int rc;

	rc = people_run(db, "DELETE FROM reset_requests "
			"WHERE requested_at <= ?1", now - PEOPLE_RESET_SECONDS,
			NULL, NULL, "request_expire");
	if (!rc)
		rc = people_run(db, "INSERT INTO reset_requests (email, "
				"requested_at) VALUES (?2, ?1) ON CONFLICT "
				"(email) DO UPDATE SET requested_at = ?1", now,
				email, NULL, "request_insert");
	if (!rc)
		rc = people_run(db, "DELETE FROM reset_requests WHERE email "
				"IN (SELECT email FROM reset_requests ORDER BY "
				"requested_at DESC LIMIT -1 OFFSET ?1)",
				PEOPLE_REQUESTS_MAX, NULL, NULL, "request_cap");
	return rc;
}

int people_reset_request(sqlite3 *db, const char *email, int64_t now)
{
	char norm[PEOPLE_EMAIL_MAX + 1];
	int rc;

	if (people_email_normalize(email, norm, sizeof(norm)))
		return 0;
	if (db_begin(db))
		return STORE_EDB;
	rc = people_request_steps(db, norm, now);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}

/* ---- login throttle ---- */

struct people_throttle_key {
	const char *kind; /* "account" or "address" */
	char key[PEOPLE_SECRET_LEN + 1];
	int64_t limit;
};

/* The rows an attempt counts on: the account by the SHA-256 of the
 * email typed (lower-cased; garbage too, so the throttle does not tell
 * which emails exist), and the client address when there is one. */
static size_t people_throttle_keys(const char *email, const char *addr,
				   struct people_throttle_key keys[2])
{
	char lower[PEOPLE_EMAIL_MAX + 1];
	uint8_t digest[CRYPTO_SHA256_LEN];
	size_t len = strnlen(email, PEOPLE_EMAIL_MAX), n = 0;

	for (size_t i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)email[i]);
	crypto_sha256(lower, len, digest);
	keys[n].kind = "account";
	crypto_hex(digest, sizeof(digest), keys[n].key);
	keys[n++].limit = PEOPLE_THROTTLE_ACCOUNT;
	if (addr && *addr && strlen(addr) <= PEOPLE_SECRET_LEN) {
		keys[n].kind = "address";
		strcpy(keys[n].key, addr);
		keys[n++].limit = PEOPLE_THROTTLE_ADDRESS;
	}
	return n;
}

/* Seconds until the window of a full row passes, 0 when not full. */
static int64_t people_throttle_wait(sqlite3 *db,
				    const struct people_throttle_key *k,
				    int64_t now)
{
	sqlite3_stmt *st;
	int64_t wait = 0;
	int step;

	st = db_prepare(db, "SELECT window_start FROM login_failures "
			    "WHERE kind = ?1 AND key = ?2 AND failures >= ?3"
			    " AND window_start > ?4");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, k->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, k->limit);
	sqlite3_bind_int64(st, 4, now - PEOPLE_THROTTLE_WINDOW);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		wait = sqlite3_column_int64(st, 0) + PEOPLE_THROTTLE_WINDOW -
		       now;
	else if (step != SQLITE_DONE)
		wait = people_fail(db, "throttle_get");
	sqlite3_finalize(st);
	return wait;
}

/* Counts one attempt on a row: a new window when the last one passed. */
static int people_throttle_count(sqlite3 *db,
				 const struct people_throttle_key *k,
				 int64_t now)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO login_failures (kind, key, "
			    "window_start, failures) VALUES (?1, ?2, ?3, 1) "
			    "ON CONFLICT (kind, key) DO UPDATE SET "
			    "failures = CASE WHEN window_start <= ?4 THEN 1 "
			    "ELSE failures + 1 END, "
			    "window_start = CASE WHEN window_start <= ?4 "
			    "THEN ?3 ELSE window_start END");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, k->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now - PEOPLE_THROTTLE_WINDOW);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = people_fail(db, "throttle_count");
	sqlite3_finalize(st);
	return rc;
}

/* Drops rows of past windows, then the oldest beyond the cap. */
static int people_throttle_prune(sqlite3 *db, const char *kind,
				 int64_t now)
{
	int rc;

	rc = people_run(db, "DELETE FROM login_failures WHERE kind = ?2 "
			"AND window_start <= ?1", now - PEOPLE_THROTTLE_WINDOW,
			kind, NULL, "throttle_expire");
	if (!rc)
		rc = people_run(db, "DELETE FROM login_failures WHERE kind = ?2"
				" AND key IN (SELECT key FROM login_failures "
				"WHERE kind = ?2 ORDER BY window_start DESC "
				"LIMIT -1 OFFSET ?1)", PEOPLE_THROTTLE_ROWS,
				kind, NULL, "throttle_cap");
	return rc;
}

/* The steps of people_throttle_attempt, inside its transaction. */
static int people_attempt_steps(sqlite3 *db,
				const struct people_throttle_key *keys,
				size_t n, int64_t now, int64_t *retry_after)
{
	int64_t wait;
	int rc = 0;

	*retry_after = 0;
	for (size_t i = 0; i < n; i++) {
		wait = people_throttle_wait(db, &keys[i], now);
		if (wait < 0)
			return (int)wait;
		if (wait > *retry_after)
			*retry_after = wait;
	}
	if (*retry_after)
		return PEOPLE_ETHROTTLED;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = people_throttle_count(db, &keys[i], now);
		if (!rc)
			rc = people_throttle_prune(db, keys[i].kind, now);
	}
	return rc;
}

int people_throttle_attempt(sqlite3 *db, const char *email,
			    const char *addr, int64_t now,
			    int64_t *retry_after)
{
	struct people_throttle_key keys[2];
	size_t n = people_throttle_keys(email, addr, keys);
	int rc;

	if (db_begin(db))
		return STORE_EDB;
	rc = people_attempt_steps(db, keys, n, now, retry_after);
	if (rc == PEOPLE_ETHROTTLED) {
		db_rollback(db);
		return rc;
	}
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}

int people_throttle_success(sqlite3 *db, const char *email,
			    const char *addr)
{
	struct people_throttle_key keys[2];
	size_t n = people_throttle_keys(email, addr, keys);
	int rc, own;

	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = people_run(db, "DELETE FROM login_failures WHERE "
			"kind = 'account' AND key = ?2", 0, keys[0].key, NULL,
			"throttle_reset");
	if (!rc && n == 2)
		rc = people_run(db, "UPDATE login_failures SET failures = "
				"failures - 1 WHERE kind = 'address' AND "
				"key = ?2 AND failures > 0", 0, keys[1].key,
				NULL, "throttle_undo");
	return audit_end(db, own, rc);
}
