/*
 * What a signed-in user may see and manage, answered by the database
 * each time (a membership that changes with an attribute counts at
 * once). The groups a manager reaches are found with a recursive query:
 * the groups the manager is a member of, then every group whose parent
 * is one already found. UNION (not UNION ALL) keeps a group from being
 * visited twice, so even a cycle in the tree would end.
 */
#include "workspace/scope.h"

#include "common/db.h"
#include "common/log.h"
#include "workspace/store.h"

/* The groups me reaches, as the common table "reach (id)". */
#define SCOPE_REACH                                                   \
	"WITH RECURSIVE reach (id) AS ("                               \
	"  SELECT group_id FROM group_members WHERE user_id = ?1"      \
	"  UNION"                                                      \
	"  SELECT g.id FROM groups g JOIN reach r ON g.parent_id = r.id" \
	") "

/* 1 when the query (with ?1 = me, ?2 = the other id) finds a row, 0 when
 * not, STORE_EDB when it fails. */
static int scope_exists(sqlite3 *db, const char *sql, int64_t me,
			int64_t other, const char *what)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, me);
	sqlite3_bind_int64(st, 2, other);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return 1;
	if (step == SQLITE_DONE)
		return 0;
	log_error("msg=\"database query failed\" query=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

int scope_user(sqlite3 *db, const struct people_user *me, int64_t user_id)
{
	if (me->role == PEOPLE_ROLE_ADMIN || me->id == user_id)
		return 1;
	if (me->role != PEOPLE_ROLE_MANAGER)
		return 0;
	return scope_exists(db, SCOPE_REACH
			    "SELECT 1 FROM group_members m JOIN reach r"
			    " ON m.group_id = r.id WHERE m.user_id = ?2"
			    " LIMIT 1", me->id, user_id, "scope_user");
}

int scope_group(sqlite3 *db, const struct people_user *me,
		int64_t group_id)
{
	if (me->role == PEOPLE_ROLE_ADMIN)
		return 1;
	if (me->role != PEOPLE_ROLE_MANAGER)
		return 0;
	return scope_exists(db, SCOPE_REACH
			    "SELECT 1 FROM reach WHERE id = ?2", me->id,
			    group_id, "scope_group");
}
