/*
 * Groups, their rules and members in workspace.db (schema: migration 3
 * of workspace/store.c). A rule is kept twice: as the JSON the admin gave
 * (groups.rule, for display) and as terms in group_terms, together with
 * the terms of every ancestor, which is what the view group_matches
 * compares with user_attributes. So a new rule or a new parent rebuilds
 * the terms of the group's whole subtree, parents first, and then
 * recomputes the members by rule of each; members by hand are never
 * touched by that. The HTTP paths of one group are answered here too.
 */
#include "workspace/groups.h"

#include "common/db.h"
#include "common/log.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/people.h"
#include "workspace/scope.h"
#include "workspace/store.h"

#include <errno.h>
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

/* Runs a statement without results whose ?1 is id. */
static int groups_run_id(sqlite3 *db, const char *sql, int64_t id,
			 const char *what)
{
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st)
		sqlite3_bind_int64(st, 1, id);
	return groups_run(db, st, what);
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
	int rc, own;

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
	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = groups_create(db, name->valuestring, parent, rule, nterms, now,
			   id, why);
	return audit_end(db, own, rc);
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
		    !cJSON_AddStringToObject(o, "name", db_text(st, 2)) ||
		    !cJSON_AddBoolToObject(o, "from_rule",
					   sqlite3_column_int(st, 3)))
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
	st = db_prepare(db, "SELECT u.id, u.email, u.name, m.from_rule "
			    "FROM group_members "
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


/* ---- changing: rules, parents, deleting ---- */

/* The ids of the subtree under root, root first and every parent before
 * its children, into a malloc'd array. The depth bound only guards the
 * query; the tree has no cycles. */
static int groups_subtree(sqlite3 *db, int64_t root, int64_t **ids,
			  size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int64_t *grown;
	int step, rc = 0;

	*ids = NULL;
	*n = 0;
	st = db_prepare(db, "WITH RECURSIVE sub (id, depth) AS (SELECT ?1, "
			    "0 UNION ALL SELECT g.id, s.depth + 1 FROM groups "
			    "g JOIN sub s ON g.parent_id = s.id WHERE "
			    "s.depth < 10000) SELECT id FROM sub ORDER BY "
			    "depth, id");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, root);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(*ids, cap * sizeof(**ids));
			if (!grown) {
				rc = STORE_ENOMEM;
				break;
			}
			*ids = grown;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	if (!rc && step != SQLITE_DONE)
		rc = groups_fail(db, "group_subtree");
	sqlite3_finalize(st);
	if (rc) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

/* The terms of one group anew: its parent's (already rebuilt) and its
 * own rule, read from the JSON kept in groups.rule. */
static int groups_terms_rebuild(sqlite3 *db, int64_t id)
{
	int rc;

	rc = groups_run_id(db, "DELETE FROM group_terms WHERE group_id = ?1",
			   id, "group_terms_clear");
	if (rc)
		return rc;
	return groups_run_id(db, "INSERT OR IGNORE INTO group_terms "
			     "(group_id, key, value) SELECT ?1, t.key, "
			     "t.value FROM groups g JOIN group_terms t ON "
			     "t.group_id = g.parent_id WHERE g.id = ?1 UNION "
			     "SELECT ?1, j.key, j.value FROM groups g, "
			     "json_each(g.rule) j WHERE g.id = ?1 AND "
			     "j.type = 'text'", id, "group_terms_rebuild");
}

/* After a group's rule or place in the tree changed: the terms of it
 * and of every group below it, then their rule-based members. */
static int groups_refresh(sqlite3 *db, int64_t root)
{
	int64_t *ids;
	size_t n, i;
	int rc;

	if ((rc = groups_subtree(db, root, &ids, &n)))
		return rc;
	for (i = 0; !rc && i < n; i++)
		rc = groups_terms_rebuild(db, ids[i]);
	for (i = 0; !rc && i < n; i++)
		rc = groups_recompute(db, ids[i]);
	free(ids);
	return rc;
}

/* 1 when other is group id or lies below it, 0 when not. */
static int groups_below(sqlite3 *db, int64_t id, int64_t other)
{
	int64_t *ids;
	size_t n;
	int rc, found = 0;

	if ((rc = groups_subtree(db, id, &ids, &n)))
		return rc;
	for (size_t i = 0; i < n && !found; i++)
		found = ids[i] == other;
	free(ids);
	return found;
}

/* A change asked for by PATCH; a member is used when its has_ flag is
 * set. */
struct groups_patch {
	const char *name;
	int has_parent;
	int64_t parent; /* 0: the group moves to the top */
	int has_rule;
	const char *rule; /* JSON text: rule_text, or "{}" for none */
	char *rule_text;  /* cJSON_free */
	int by_rule;
};

static int groups_patch_parse(const cJSON *in, struct groups_patch *p,
			      const char **why)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
	const cJSON *parent = cJSON_GetObjectItemCaseSensitive(in, "parent");
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(in, "rule");
	size_t nterms;
	int rc;

	memset(p, 0, sizeof(*p));
	*why = "the body must be a JSON object";
	if (!cJSON_IsObject(in))
		return STORE_EINVAL;
	if (name && (!cJSON_IsString(name) ||
		     !people_name_valid(name->valuestring))) {
		*why = "name must be 1 to 200 bytes of text";
		return STORE_EINVAL;
	}
	p->name = name ? name->valuestring : NULL;
	if (parent && (rc = groups_parent_check(parent, &p->parent, why)))
		return rc;
	p->has_parent = parent != NULL;
	if (rule && (rc = groups_rule_check(rule, &nterms, why)))
		return rc;
	if (!rule)
		return 0;
	p->has_rule = 1;
	p->by_rule = nterms > 0;
	p->rule = "{}";
	if (!nterms)
		return 0;
	p->rule = p->rule_text = cJSON_PrintUnformatted(rule);
	return p->rule ? 0 : STORE_ENOMEM;
}

/* Inside the transaction: checks the new parent against the tree. */
static int groups_parent_allowed(sqlite3 *db, int64_t id, int64_t parent,
				 const char **why)
{
	int rc;

	if (!parent)
		return 0;
	if ((rc = groups_exists(db, parent))) {
		if (rc == STORE_ENOTFOUND) {
			*why = "parent is not a group";
			return STORE_EINVAL;
		}
		return rc;
	}
	rc = groups_below(db, id, parent);
	if (rc == 1) {
		*why = "the parent would make a cycle: it is the group "
		       "itself or one of its subgroups";
		return STORE_EINVAL;
	}
	return rc;
}

static int groups_patch_store(sqlite3 *db, int64_t id,
			      const struct groups_patch *p)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "UPDATE groups SET name = coalesce(?2, name), "
			    "parent_id = CASE WHEN ?3 THEN ?4 ELSE parent_id "
			    "END, rule = coalesce(?5, rule), by_rule = CASE "
			    "WHEN ?5 IS NULL THEN by_rule ELSE ?6 END "
			    "WHERE id = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	if (p->name)
		sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, p->has_parent);
	if (p->parent)
		sqlite3_bind_int64(st, 4, p->parent);
	if (p->has_rule)
		sqlite3_bind_text(st, 5, p->rule, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, p->by_rule);
	return groups_run(db, st, "group_update");
}

static int groups_patch_apply(sqlite3 *db, int64_t id,
			      const struct groups_patch *p, const char **why)
{
	int rc;

	if ((rc = groups_exists(db, id)))
		return rc;
	if (p->has_parent && (rc = groups_parent_allowed(db, id, p->parent,
							 why)))
		return rc;
	if ((rc = groups_patch_store(db, id, p)))
		return rc;
	if (p->has_parent || p->has_rule)
		rc = groups_refresh(db, id);
	return rc;
}

int groups_update_json(sqlite3 *db, int64_t id, const cJSON *in,
		       const char **why)
{
	struct groups_patch p;
	int rc, own;

	if ((rc = groups_patch_parse(in, &p, why)))
		goto done;
	*why = "the group cannot be stored";
	if ((own = audit_begin(db)) < 0) {
		rc = STORE_EDB;
		goto done;
	}
	rc = audit_end(db, own, groups_patch_apply(db, id, &p, why));
done:
	cJSON_free(p.rule_text);
	return rc;
}

/* Inside the transaction: the subgroups move to the group's parent, and
 * their terms lose the group's rule; the group's members and
 * assignments go with it (ON DELETE CASCADE). */
static int groups_remove(sqlite3 *db, int64_t id)
{
	int64_t *ids;
	size_t n;
	int rc;

	if ((rc = groups_exists(db, id)))
		return rc;
	if ((rc = groups_subtree(db, id, &ids, &n)))
		return rc;
	rc = groups_run_id(db, "UPDATE groups SET parent_id = (SELECT "
			   "parent_id FROM groups WHERE id = ?1) "
			   "WHERE parent_id = ?1", id, "group_children_up");
	if (!rc)
		rc = groups_run_id(db, "DELETE FROM groups WHERE id = ?1", id,
				   "group_delete");
	/* the former descendants anew, parents first; ids[0] was the
	 * group itself */
	for (size_t i = 1; !rc && i < n; i++)
		rc = groups_terms_rebuild(db, ids[i]);
	for (size_t i = 1; !rc && i < n; i++)
		rc = groups_recompute(db, ids[i]);
	free(ids);
	return rc;
}

int groups_delete(sqlite3 *db, int64_t id)
{
	int rc, own;

	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = groups_remove(db, id);
	return audit_end(db, own, rc);
}

/* ---- members by hand ---- */

/* The user named by {"user": id or email}; STORE_ENOTFOUND when there
 * is none, STORE_EINVAL when the value is neither. */
static int groups_member_user(sqlite3 *db, const cJSON *in,
			      int64_t *user_id, const char **why)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(in, "user");
	struct people_user found;
	int rc;

	*why = "user must be a user id or an email";
	if (cJSON_IsNumber(u) && u->valuedouble >= 1 &&
	    u->valuedouble <= 9007199254740991.0 &&
	    (double)(int64_t)u->valuedouble == u->valuedouble)
		rc = people_user_by_id(db, (int64_t)u->valuedouble, &found);
	else if (cJSON_IsString(u))
		rc = people_user_by_email(db, u->valuestring, &found, NULL,
					  0);
	else
		return STORE_EINVAL;
	if (rc == STORE_ENOTFOUND)
		*why = "no such user";
	if (!rc)
		*user_id = found.id;
	return rc;
}

/* Inside the transaction: the membership becomes one by hand, which
 * stays whatever the rules say. 1 when it was one already. */
static int groups_member_put(sqlite3 *db, int64_t group_id, int64_t user_id)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db, "INSERT INTO group_members (group_id, user_id, "
			    "from_rule) VALUES (?1, ?2, 0) ON CONFLICT DO "
			    "UPDATE SET from_rule = 0 WHERE from_rule = 1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_int64(st, 2, user_id);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = sqlite3_changes(db) ? 0 : 1;
	else
		rc = groups_fail(db, "group_member_put");
	sqlite3_finalize(st);
	return rc;
}

int groups_member_add(sqlite3 *db, int64_t group_id, const cJSON *in,
		      int64_t *user_id, const char **why)
{
	int rc, own;

	*why = "the body must be a JSON object";
	if (!cJSON_IsObject(in))
		return STORE_EINVAL;
	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = groups_exists(db, group_id);
	if (rc == STORE_ENOTFOUND)
		*why = "no such group";
	if (!rc && (rc = groups_member_user(db, in, user_id, why)) ==
			   STORE_ENOTFOUND)
		rc = STORE_EINVAL;
	if (!rc)
		rc = groups_member_put(db, group_id, *user_id);
	return audit_end(db, own, rc);
}

/* Inside the transaction: 0 with *from_rule, or STORE_ENOTFOUND. */
static int groups_member_kind(sqlite3 *db, int64_t group_id,
			      int64_t user_id, int *from_rule)
{
	sqlite3_stmt *st;
	int step;

	st = db_prepare(db, "SELECT from_rule FROM group_members "
			    "WHERE group_id = ?1 AND user_id = ?2");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_int64(st, 2, user_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*from_rule = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return 0;
	return step == SQLITE_DONE ? STORE_ENOTFOUND :
				     groups_fail(db, "group_member_kind");
}

static int groups_member_drop(sqlite3 *db, int64_t group_id,
			      int64_t user_id)
{
	sqlite3_stmt *st;
	int from_rule = 0, rc;

	if ((rc = groups_member_kind(db, group_id, user_id, &from_rule)))
		return rc;
	if (from_rule)
		return GROUPS_ERULE;
	st = db_prepare(db, "DELETE FROM group_members WHERE group_id = ?1 "
			    "AND user_id = ?2");
	if (st) {
		sqlite3_bind_int64(st, 1, group_id);
		sqlite3_bind_int64(st, 2, user_id);
	}
	if ((rc = groups_run(db, st, "group_member_delete")))
		return rc;
	/* a user the rule matches as well stays, now by the rule */
	return groups_recompute(db, group_id);
}

int groups_member_remove(sqlite3 *db, int64_t group_id, int64_t user_id)
{
	int rc, own;

	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = groups_member_drop(db, group_id, user_id);
	return audit_end(db, own, rc);
}

/* ---- HTTP: /api/v1/groups/{id}[/members[/{user}]] ---- */

#define GROUPS_PREFIX "/api/v1/groups/"
#define GROUPS_READERS \
	(AUTH_ROLE(PEOPLE_ROLE_ADMIN) | AUTH_ROLE(PEOPLE_ROLE_MANAGER))

enum groups_path_kind {
	GROUPS_PATH_GROUP,   /* /api/v1/groups/{id} */
	GROUPS_PATH_MEMBERS, /* .../members */
	GROUPS_PATH_MEMBER,  /* .../members/{user id} */
};

struct groups_path {
	enum groups_path_kind kind;
	int64_t id;
	int64_t user;
};

/* A positive decimal id without leading zeros at *p; *p moves past it.
 * 0 when there is none. */
static int64_t groups_path_id(const char **p)
{
	long long id;
	char *end;

	if (**p < '1' || **p > '9')
		return 0;
	errno = 0;
	id = strtoll(*p, &end, 10);
	if (errno || id <= 0 || id > 9007199254740991LL)
		return 0;
	*p = end;
	return id;
}

/* 1 and *out when path is one of this module's, else 0. */
static int groups_path_parse(const char *path, struct groups_path *out)
{
	const char *p = path + strlen(GROUPS_PREFIX);

	memset(out, 0, sizeof(*out));
	if (strncmp(path, GROUPS_PREFIX, strlen(GROUPS_PREFIX)) ||
	    !(out->id = groups_path_id(&p)))
		return 0;
	if (!*p)
		return 1;
	if (strncmp(p, "/members", 8))
		return 0;
	p += 8;
	out->kind = GROUPS_PATH_MEMBERS;
	if (!*p)
		return 1;
	p++;
	out->kind = GROUPS_PATH_MEMBER;
	return p[-1] == '/' && (out->user = groups_path_id(&p)) && !*p;
}

/* Answers a failed call: 400 with why, 404, 409, or 500 (logged). */
static void groups_send_error(struct api_ctx *api, struct http_exchange *x,
			      const struct http_request *req, int rc,
			      const char *why)
{
	switch (rc) {
	case STORE_EINVAL:
		http_respond_error(x, 400, "bad_request", why);
		return;
	case STORE_ENOTFOUND:
		http_respond_error(x, 404, "not_found", why);
		return;
	case GROUPS_ERULE:
		http_respond_error(x, 409, "conflict", why);
		return;
	}
	log_error("msg=\"group request failed\" tenant=%s req=%llu "
		  "error=\"%s\"", api->tenant, (unsigned long long)req->id,
		  store_strerror(rc));
	http_respond_error(x, 500, "internal", "the group cannot be read or "
			   "stored");
}

/* Authenticates a reader and checks that the group is in their scope;
 * -1 after answering. */
static int groups_may_read(struct api_ctx *api, struct http_exchange *x,
			   const struct http_request *req, int64_t id)
{
	struct people_user me;
	int rc;

	if (auth_require(api, x, req, GROUPS_READERS, &me))
		return -1;
	rc = scope_group(api->db, &me, id);
	if (rc == 1)
		return 0;
	if (rc == 0)
		http_respond_error(x, 403, "forbidden",
				   "the group is not among yours");
	else
		groups_send_error(api, x, req, rc, NULL);
	return -1;
}

/* The group with its members, as GET answers it. */
static int groups_full_json(sqlite3 *db, int64_t id, cJSON **out)
{
	cJSON *members;
	int rc;

	if ((rc = groups_get_json(db, id, out)))
		return rc;
	if ((rc = groups_members_json(db, id, &members)) ||
	    !cJSON_AddItemToObject(*out, "members", members)) {
		if (!rc)
			cJSON_Delete(members);
		cJSON_Delete(*out);
		*out = NULL;
		return rc ? rc : STORE_ENOMEM;
	}
	return 0;
}

static void groups_get(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req, int64_t id)
{
	cJSON *g;
	int rc;

	if (groups_may_read(api, x, req, id))
		return;
	if ((rc = groups_full_json(api->db, id, &g)))
		groups_send_error(api, x, req, rc, "no such group");
	else
		http_respond_json(x, 200, g);
}

/* The audit entry of a change to group id by me; detail is consumed
 * (NULL for none). Runs inside the transaction of the change. */
static int groups_audit(struct api_ctx *api, const struct people_user *me,
			const char *action, int64_t id, cJSON *detail)
{
	struct audit_actor who = { me->id, me->email };
	char object[32];

	return audit_append_json(api->db, clock_now(api->clock), &who, action,
				 audit_object(object, sizeof(object), "group",
					      id),
				 detail);
}

/* {"user": id} */
static cJSON *groups_user_detail(int64_t user_id)
{
	cJSON *o = cJSON_CreateObject();

	if (o && !cJSON_AddNumberToObject(o, "user", (double)user_id)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

static int groups_patch_audited(struct api_ctx *api,
				const struct people_user *me, int64_t id,
				const cJSON *body, const char **why)
{
	int own = audit_begin(api->db), rc;

	if (own < 0)
		return STORE_EDB;
	rc = groups_update_json(api->db, id, body, why);
	if (!rc)
		rc = groups_audit(api, me, "group.update", id,
				  cJSON_Duplicate(body, 1));
	return audit_end(api->db, own, rc);
}

static int groups_delete_audited(struct api_ctx *api,
				 const struct people_user *me, int64_t id)
{
	int own = audit_begin(api->db), rc;

	if (own < 0)
		return STORE_EDB;
	rc = groups_delete(api->db, id);
	if (!rc)
		rc = groups_audit(api, me, "group.delete", id, NULL);
	return audit_end(api->db, own, rc);
}

/* rc 1 when the user was a member already (nothing is logged) */
static int groups_member_add_audited(struct api_ctx *api,
				     const struct people_user *me, int64_t id,
				     const cJSON *body, int64_t *user,
				     const char **why)
{
	int own = audit_begin(api->db), rc;

	if (own < 0)
		return STORE_EDB;
	rc = groups_member_add(api->db, id, body, user, why);
	if (!rc)
		rc = groups_audit(api, me, "group.member.add", id,
				  groups_user_detail(*user));
	return audit_end(api->db, own, rc);
}

static int groups_member_remove_audited(struct api_ctx *api,
					const struct people_user *me,
					int64_t id, int64_t user)
{
	int own = audit_begin(api->db), rc;

	if (own < 0)
		return STORE_EDB;
	rc = groups_member_remove(api->db, id, user);
	if (!rc)
		rc = groups_audit(api, me, "group.member.remove", id,
				  groups_user_detail(user));
	return audit_end(api->db, own, rc);
}

static void groups_patch(struct api_ctx *api, struct http_exchange *x,
			 const struct http_request *req, int64_t id)
{
	const char *why = "the body is not JSON";
	struct people_user me;
	cJSON *body, *g = NULL;
	int rc = STORE_EINVAL;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	if (body)
		rc = groups_patch_audited(api, &me, id, body, &why);
	cJSON_Delete(body);
	if (rc == STORE_ENOTFOUND)
		why = "no such group";
	if (!rc)
		rc = groups_full_json(api->db, id, &g);
	if (rc) {
		groups_send_error(api, x, req, rc, why);
		return;
	}
	log_info("msg=\"group changed\" tenant=%s req=%llu id=%lld by=%lld",
		 api->tenant, (unsigned long long)req->id, (long long)id,
		 (long long)me.id);
	http_respond_json(x, 200, g);
}

static void groups_del(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req, int64_t id)
{
	struct people_user me;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	if ((rc = groups_delete_audited(api, &me, id))) {
		groups_send_error(api, x, req, rc, "no such group");
		return;
	}
	log_info("msg=\"group deleted\" tenant=%s req=%llu id=%lld by=%lld",
		 api->tenant, (unsigned long long)req->id, (long long)id,
		 (long long)me.id);
	http_respond(x, 204, NULL, NULL, 0);
}

static void groups_members_get(struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req, int64_t id)
{
	cJSON *list;
	int rc;

	if (groups_may_read(api, x, req, id))
		return;
	if ((rc = groups_members_json(api->db, id, &list)))
		groups_send_error(api, x, req, rc, "no such group");
	else
		http_respond_json(x, 200, list);
}

/* {"id", "email", "name", "from_rule": false} of a hand-added member. */
static int groups_member_json(sqlite3 *db, int64_t user_id, cJSON **out)
{
	struct people_user u;
	int rc;

	*out = NULL;
	if ((rc = people_user_by_id(db, user_id, &u)))
		return rc;
	*out = cJSON_CreateObject();
	if (!*out || !cJSON_AddNumberToObject(*out, "id", (double)u.id) ||
	    !cJSON_AddStringToObject(*out, "email", u.email) ||
	    !cJSON_AddStringToObject(*out, "name", u.name) ||
	    !cJSON_AddFalseToObject(*out, "from_rule")) {
		cJSON_Delete(*out);
		*out = NULL;
		return STORE_ENOMEM;
	}
	return 0;
}

static void groups_members_post(struct api_ctx *api,
				struct http_exchange *x,
				const struct http_request *req, int64_t id)
{
	const char *why = "the body is not JSON";
	struct people_user me;
	int64_t user = 0;
	cJSON *body, *m = NULL;
	int rc = STORE_EINVAL;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	if (body)
		rc = groups_member_add_audited(api, &me, id, body, &user,
					       &why);
	cJSON_Delete(body);
	if (rc >= 0) {
		log_info("msg=\"group member added\" tenant=%s req=%llu "
			 "group=%lld user=%lld by=%lld", api->tenant,
			 (unsigned long long)req->id, (long long)id,
			 (long long)user, (long long)me.id);
		if (groups_member_json(api->db, user, &m) == 0) {
			http_respond_json(x, rc == 1 ? 200 : 201, m);
			return;
		}
		rc = STORE_EDB;
	}
	groups_send_error(api, x, req, rc, why);
}

static void groups_member_delete(struct api_ctx *api,
				 struct http_exchange *x,
				 const struct http_request *req,
				 const struct groups_path *p)
{
	struct people_user me;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	if ((rc = groups_exists(api->db, p->id))) {
		groups_send_error(api, x, req, rc, "no such group");
		return;
	}
	rc = groups_member_remove_audited(api, &me, p->id, p->user);
	if (rc) {
		groups_send_error(api, x, req, rc, rc == GROUPS_ERULE ?
			"the user is a member by the group's rule; change "
			"the rule or the user's attributes instead" :
			"the user is not a member of the group");
		return;
	}
	log_info("msg=\"group member removed\" tenant=%s req=%llu "
		 "group=%lld user=%lld by=%lld", api->tenant,
		 (unsigned long long)req->id, (long long)p->id,
		 (long long)p->user, (long long)me.id);
	http_respond(x, 204, NULL, NULL, 0);
}

static void groups_not_allowed(struct http_exchange *x, const char *allow)
{
	http_add_header(x, "Allow", allow);
	http_respond_error(x, 405, "method_not_allowed",
			   "method not allowed on this path");
}

int groups_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req)
{
	const char *m = req->method;
	struct groups_path p;

	if (!groups_path_parse(req->path, &p))
		return 0;
	if (p.kind == GROUPS_PATH_GROUP && !strcmp(m, "GET"))
		groups_get(api, x, req, p.id);
	else if (p.kind == GROUPS_PATH_GROUP && !strcmp(m, "PATCH"))
		groups_patch(api, x, req, p.id);
	else if (p.kind == GROUPS_PATH_GROUP && !strcmp(m, "DELETE"))
		groups_del(api, x, req, p.id);
	else if (p.kind == GROUPS_PATH_GROUP)
		groups_not_allowed(x, "GET, PATCH, DELETE");
	else if (p.kind == GROUPS_PATH_MEMBERS && !strcmp(m, "GET"))
		groups_members_get(api, x, req, p.id);
	else if (p.kind == GROUPS_PATH_MEMBERS && !strcmp(m, "POST"))
		groups_members_post(api, x, req, p.id);
	else if (p.kind == GROUPS_PATH_MEMBERS)
		groups_not_allowed(x, "GET, POST");
	else if (!strcmp(m, "DELETE"))
		groups_member_delete(api, x, req, &p);
	else
		groups_not_allowed(x, "DELETE");
	return 1;
}
