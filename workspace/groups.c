/*
 * Groups, their rules and members in workspace.db (schema: migration 3
 * of workspace/store.c). A rule is kept twice: as the JSON the admin gave
 * (groups.rule, for display) and as terms in group_terms, together with
 * the terms of every ancestor, which is what the view group_matches
 * compares with user_attributes.
 */
#include "workspace/groups.h"

#include "common/db.h"
#include "common/log.h"
#include "workspace/people.h"
#include "workspace/store.h"

#include <stdlib.h>
#include <string.h>

static int groups_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"database query failed\" query=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

/* Steps a statement without results once. */
static int groups_run(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = 0;

	if (!st)
		return STORE_EDB;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = groups_fail(db, what);
	sqlite3_finalize(st);
	return rc;
}

/* ---- validation ---- */

/* 0 when rule is absent, null or an object of distinct valid attribute
 * keys with string values; *n receives the number of terms. */
static int groups_rule_check(const cJSON *rule, size_t *n, const char **why)
{
	const cJSON *a, *b;
	struct people_attr attr;

	*n = 0;
	if (!rule || cJSON_IsNull(rule))
		return 0;
	*why = "rule must be an object of strings";
	if (!cJSON_IsObject(rule))
		return STORE_EINVAL;
	cJSON_ArrayForEach(a, rule) {
		if (!cJSON_IsString(a) || !a->string)
			return STORE_EINVAL;
		attr.key = a->string;
		attr.value = a->valuestring;
		if (!people_attr_valid(&attr)) {
			*why = "rule keys are a-z, 0-9, '_' and '-', values "
			       "1 to 200 bytes without control characters";
			return STORE_EINVAL;
		}
		for (b = rule->child; b != a; b = b->next) {
			if (!strcmp(a->string, b->string)) {
				*why = "rule names a key twice";
				return STORE_EINVAL;
			}
		}
		(*n)++;
	}
	return 0;
}

/* 0 and *parent (0 for none) when parent is absent, null or a positive
 * integer. */
static int groups_parent_check(const cJSON *p, int64_t *parent,
			       const char **why)
{
	*parent = 0;
	if (!p || cJSON_IsNull(p))
		return 0;
	if (!cJSON_IsNumber(p) || p->valuedouble < 1 ||
	    p->valuedouble > 9007199254740991.0 ||
	    (double)(int64_t)p->valuedouble != p->valuedouble) {
		*why = "parent must be a group id or null";
		return STORE_EINVAL;
	}
	*parent = (int64_t)p->valuedouble;
	return 0;
}

/* ---- creating ---- */

/* 0 when the group exists, STORE_ENOTFOUND when not. */
static int groups_exists(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM groups "
					  "WHERE id = ?1");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return 0;
	return step == SQLITE_DONE ? STORE_ENOTFOUND :
				     groups_fail(db, "group_exists");
}

static int groups_insert(sqlite3 *db, const char *name, int64_t parent,
			 const char *rule, int by_rule, int64_t now,
			 int64_t *id)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO groups (name, parent_id, rule, "
			    "by_rule, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (parent)
		sqlite3_bind_int64(st, 2, parent);
	sqlite3_bind_text(st, 3, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, by_rule);
	sqlite3_bind_int64(st, 5, now);
	if (sqlite3_step(st) == SQLITE_DONE)
		*id = sqlite3_last_insert_rowid(db);
	else
		rc = groups_fail(db, "group_insert");
	sqlite3_finalize(st);
	return rc;
}

/* The group's terms: its parent's (which include theirs) and its own. */
static int groups_insert_terms(sqlite3 *db, int64_t id, int64_t parent,
			       const cJSON *rule)
{
	sqlite3_stmt *st;
	const cJSON *a;
	int rc = 0;

	if (parent) {
		st = db_prepare(db, "INSERT INTO group_terms (group_id, key, "
				    "value) SELECT ?1, key, value "
				    "FROM group_terms WHERE group_id = ?2");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int64(st, 2, parent);
		}
		rc = groups_run(db, st, "group_terms_inherit");
	}
	if (rc || !cJSON_IsObject(rule))
		return rc;
	st = db_prepare(db, "INSERT OR IGNORE INTO group_terms (group_id, "
			    "key, value) VALUES (?1, ?2, ?3)");
	if (!st)
		return STORE_EDB;
	cJSON_ArrayForEach(a, rule) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, a->string, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, a->valuestring, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = groups_fail(db, "group_term_insert");
			break;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int groups_recompute(sqlite3 *db, int64_t group_id)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db, "DELETE FROM group_members WHERE group_id = ?1 "
			    "AND from_rule = 1 AND user_id NOT IN (SELECT "
			    "user_id FROM group_matches WHERE group_id = ?1)");
	if (st)
		sqlite3_bind_int64(st, 1, group_id);
	rc = groups_run(db, st, "group_members_drop");
	if (rc)
		return rc;
	st = db_prepare(db, "INSERT OR IGNORE INTO group_members (group_id, "
			    "user_id, from_rule) SELECT group_id, user_id, 1 "
			    "FROM group_matches WHERE group_id = ?1");
	if (st)
		sqlite3_bind_int64(st, 1, group_id);
	return groups_run(db, st, "group_members_add");
}

/* Inside the transaction: parent check, rows, terms and members. */
static int groups_create(sqlite3 *db, const char *name, int64_t parent,
			 const cJSON *rule, size_t nterms, int64_t now,
			 int64_t *id, const char **why)
{
	char *text = NULL;
	int rc;

	if (parent && (rc = groups_exists(db, parent))) {
		if (rc == STORE_ENOTFOUND)
			*why = "parent is not a group";
		return rc;
	}
	if (nterms && !(text = cJSON_PrintUnformatted(rule)))
		return STORE_ENOMEM;
	rc = groups_insert(db, name, parent, text ? text : "{}", nterms > 0,
			   now, id);
	cJSON_free(text);
	if (!rc)
		rc = groups_insert_terms(db, *id, parent, rule);
	if (!rc && nterms)
		rc = groups_recompute(db, *id);
	return rc;
}

int groups_add_json(sqlite3 *db, const cJSON *in, int64_t now, int64_t *id,
		    const char **why)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(in, "rule");
	int64_t parent;
	size_t nterms;
	int rc;

	*why = "the group cannot be stored";
	if (!cJSON_IsObject(in)) {
		*why = "the body must be a JSON object";
		return STORE_EINVAL;
	}
	if (!cJSON_IsString(name) || !people_name_valid(name->valuestring)) {
		*why = "name is missing or not 1 to 200 bytes of text";
		return STORE_EINVAL;
	}
	if ((rc = groups_parent_check(
		     cJSON_GetObjectItemCaseSensitive(in, "parent"), &parent,
		     why)) ||
	    (rc = groups_rule_check(rule, &nterms, why)))
		return rc;
	if (db_begin(db))
		return STORE_EDB;
	rc = groups_create(db, name->valuestring, parent, rule, nterms, now,
			   id, why);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}

/* ---- reading ---- */

#define GROUPS_COLUMNS                                              \
	"SELECT g.id, g.name, g.parent_id, g.rule, (SELECT count(*) " \
	"FROM group_members m WHERE m.group_id = g.id) FROM groups g "

static cJSON *groups_row_json(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *rule = cJSON_Parse(db_text(st, 3));

	if (!rule)
		rule = cJSON_CreateObject();
	if (!o || !rule ||
	    !cJSON_AddNumberToObject(o, "id",
				     (double)sqlite3_column_int64(st, 0)) ||
	    !cJSON_AddStringToObject(o, "name", db_text(st, 1)))
		goto fail;
	if (sqlite3_column_type(st, 2) == SQLITE_NULL ?
		    !cJSON_AddNullToObject(o, "parent") :
		    !cJSON_AddNumberToObject(
			    o, "parent", (double)sqlite3_column_int64(st, 2)))
		goto fail;
	if (!cJSON_AddItemToObject(o, "rule", rule))
		goto fail;
	rule = NULL;
	if (!cJSON_AddNumberToObject(o, "member_count",
				     (double)sqlite3_column_int64(st, 4)))
		goto fail;
	return o;
fail:
	cJSON_Delete(rule);
	cJSON_Delete(o);
	return NULL;
}

int groups_get_json(sqlite3 *db, int64_t id, cJSON **out)
{
	sqlite3_stmt *st = db_prepare(db, GROUPS_COLUMNS "WHERE g.id = ?1");
	int step, rc = 0;

	*out = NULL;
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = (*out = groups_row_json(st)) ? 0 : STORE_ENOMEM;
	else
		rc = step == SQLITE_DONE ? STORE_ENOTFOUND :
					   groups_fail(db, "group_get");
	sqlite3_finalize(st);
	return rc;
}

int groups_list_json(sqlite3 *db, cJSON **out)
{
	sqlite3_stmt *st = db_prepare(db, GROUPS_COLUMNS "ORDER BY g.id");
	cJSON *list = cJSON_CreateArray(), *o;
	int step = SQLITE_DONE, rc = 0;

	*out = NULL;
	if (!st || !list) {
		rc = st ? STORE_ENOMEM : STORE_EDB;
		goto done;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		o = groups_row_json(st);
		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			rc = STORE_ENOMEM;
			goto done;
		}
	}
	if (step != SQLITE_DONE)
		rc = groups_fail(db, "group_list");
done:
	sqlite3_finalize(st);
	if (rc)
		cJSON_Delete(list);
	else
		*out = list;
	return rc;
}

static int groups_members_fill(sqlite3 *db, sqlite3_stmt *st, cJSON *list)
{
	cJSON *o;
	int step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			return STORE_ENOMEM;
		}
		if (!cJSON_AddNumberToObject(
			    o, "id", (double)sqlite3_column_int64(st, 0)) ||
		    !cJSON_AddStringToObject(o, "email", db_text(st, 1)) ||
		    !cJSON_AddStringToObject(o, "name", db_text(st, 2)))
			return STORE_ENOMEM;
	}
	return step == SQLITE_DONE ? 0 : groups_fail(db, "group_members");
}

int groups_members_json(sqlite3 *db, int64_t id, cJSON **out)
{
	sqlite3_stmt *st;
	cJSON *list;
	int rc;

	*out = NULL;
	if ((rc = groups_exists(db, id)))
		return rc;
	st = db_prepare(db, "SELECT u.id, u.email, u.name FROM group_members "
			    "m JOIN users u ON u.id = m.user_id "
			    "WHERE m.group_id = ?1 ORDER BY u.id");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	list = cJSON_CreateArray();
	rc = list ? groups_members_fill(db, st, list) : STORE_ENOMEM;
	sqlite3_finalize(st);
	if (rc)
		cJSON_Delete(list);
	else
		*out = list;
	return rc;
}

int groups_of_user_json(sqlite3 *db, int64_t user_id, cJSON **out)
{
	sqlite3_stmt *st;
	cJSON *list = cJSON_CreateArray(), *n;
	int step, rc = 0;

	*out = NULL;
	st = db_prepare(db, "SELECT group_id FROM group_members "
			    "WHERE user_id = ?1 ORDER BY group_id");
	if (!st || !list) {
		sqlite3_finalize(st);
		cJSON_Delete(list);
		return st ? STORE_ENOMEM : STORE_EDB;
	}
	sqlite3_bind_int64(st, 1, user_id);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		n = cJSON_CreateNumber((double)sqlite3_column_int64(st, 0));
		if (!n || !cJSON_AddItemToArray(list, n)) {
			cJSON_Delete(n);
			rc = STORE_ENOMEM;
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = groups_fail(db, "user_groups");
	sqlite3_finalize(st);
	if (rc)
		cJSON_Delete(list);
	else
		*out = list;
	return rc;
}

int groups_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	(void)api;
	(void)x;
	(void)req;
	return 0;
}
