/*
 * (being written) What a signed-in user may see and manage.
 */
#include "workspace/scope.h"

int scope_user(sqlite3 *db, const struct people_user *me, int64_t user_id)
{
	(void)db;
	(void)user_id;
	return me->role == PEOPLE_ROLE_ADMIN;
}

int scope_group(sqlite3 *db, const struct people_user *me,
		int64_t group_id)
{
	(void)db;
	(void)group_id;
	return me->role == PEOPLE_ROLE_ADMIN;
}
