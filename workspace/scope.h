/*
 * What a signed-in user may see and manage. An admin reaches everyone and
 * every group. A manager reaches the groups they are a member of, with
 * all the subgroups below them, and the users who are members of any of
 * those groups (themselves included). A learner reaches nobody else.
 */
#ifndef LMS_WORKSPACE_SCOPE_H
#define LMS_WORKSPACE_SCOPE_H

#include <sqlite3.h>
#include <stdint.h>

#include "workspace/people.h"

/* 1 when me may see and manage user_id, 0 when not, or a negative
 * STORE_* code when the database cannot be read. */
int scope_user(sqlite3 *db, const struct people_user *me, int64_t user_id);

/* 1 when me may see and manage group_id (and assign courses to it), 0
 * when not, or a negative STORE_* code. */
int scope_group(sqlite3 *db, const struct people_user *me,
		int64_t group_id);

#endif
