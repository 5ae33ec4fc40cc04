/*
 * Groups in workspace.db: a tree (organisation, location, department
 * ...) where each group may carry a rule, an object of attribute values
 * that must all match, e.g. {"department": "Pflege", "location": "Köln"}.
 * A child's rule adds to the rules of its ancestors.
 *
 * Membership is always what the rules say. The schema's triggers
 * (migration 3 of workspace/store.c) recompute a user's groups when the
 * user is added or an attribute changes, inside the same transaction;
 * groups_add recomputes the new group's members in its own, and so do
 * a change of a rule or of a parent and the deletion of a group for every
 * group below. A member may also be added by hand (from_rule = 0): such a
 * membership stays whatever the rules say, until it is removed by hand;
 * a member by the rule cannot be removed by hand. A group without a rule
 * has members only by hand.
 *
 * The HTTP paths (groups_route, admins write; managers read the groups in
 * their scope, workspace/scope.h):
 *   GET    /api/v1/groups/{id}   the group with "members"
 *   PATCH  /api/v1/groups/{id}   {"name"?, "parent"?, "rule"?} -> 200
 *   DELETE /api/v1/groups/{id}   204; subgroups move to its parent
 *   GET    /api/v1/groups/{id}/members   [{"id", "email", "name",
 *                                          "from_rule"}]
 *   POST   /api/v1/groups/{id}/members   {"user": id or email} -> 201
 *   DELETE /api/v1/groups/{id}/members/{user}   204; 409 for a member
 *                                               by the rule
 *
 * Functions return 0 or a negative STORE_E* code (workspace/store.h), or
 * GROUPS_ERULE.
 */
#ifndef LMS_WORKSPACE_GROUPS_H
#define LMS_WORKSPACE_GROUPS_H

#include "common/http.h"
#include "workspace/api.h"
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>

#define GROUPS_ERULE (-30) /* the member came by the rule */

/* Creates a group from {"name", "parent": id or null, "rule": {k: v} or
 * null} and fills its members, in one transaction. *id receives the new
 * id. STORE_EINVAL for a bad name or rule and STORE_ENOTFOUND for an
 * unknown parent, with a message for the client in *why (static).
 * Joins the caller's transaction when one is open (audit_begin(),
 * workspace/audit.h), as do the changes below. */
int groups_add_json(sqlite3 *db, const cJSON *in, int64_t now, int64_t *id,
		    const char **why);

/* Makes the rule-based members of one group what its rule says; call it
 * inside the transaction that changed the group's rule. */
int groups_recompute(sqlite3 *db, int64_t group_id);

/* The group as {"id", "name", "parent", "rule", "member_count"};
 * STORE_ENOTFOUND when there is none. */
int groups_get_json(sqlite3 *db, int64_t id, cJSON **out);

/* Every group by id, each as groups_get_json gives it. */
int groups_list_json(sqlite3 *db, cJSON **out);

/* The members of a group by user id as [{"id", "email", "name",
 * "from_rule": bool}]; STORE_ENOTFOUND when the group does not exist. */
int groups_members_json(sqlite3 *db, int64_t id, cJSON **out);

/* Changes a group from {"name"?, "parent"?: id or null, "rule"?: {k: v},
 * {} or null} in one transaction; a new rule or parent recomputes the
 * terms and rule-based members of the group and of every group below.
 * STORE_ENOTFOUND for an unknown group; STORE_EINVAL for bad input, an
 * unknown parent or a parent that would make a cycle, with a message
 * for the client in *why (static). */
int groups_update_json(sqlite3 *db, int64_t id, const cJSON *in,
		       const char **why);

/* Deletes a group in one transaction: its subgroups move to its parent
 * (their rules no longer include its rule), its memberships and its
 * assignments go. STORE_ENOTFOUND when there is none. */
int groups_delete(sqlite3 *db, int64_t id);

/* Adds the user of {"user": id or email} to the group by hand, in one
 * transaction: 0 when added (or turned from a member by the rule into
 * one by hand), 1 when it was a member by hand already. *user_id
 * receives the user's id. STORE_ENOTFOUND for an unknown group,
 * STORE_EINVAL for a bad or unknown user, with *why (static). */
int groups_member_add(sqlite3 *db, int64_t group_id, const cJSON *in,
		      int64_t *user_id, const char **why);

/* Removes a member added by hand, in one transaction; one whom the rule
 * matches too stays as a member by the rule. GROUPS_ERULE for a member
 * by the rule, STORE_ENOTFOUND for one who is not a member. */
int groups_member_remove(sqlite3 *db, int64_t group_id, int64_t user_id);

/* The ids of the groups user_id is in, ascending, as a JSON array. */
int groups_of_user_json(sqlite3 *db, int64_t user_id, cJSON **out);

/* Answers req when its path is one of this module's subtree of the API;
 * see api_route_fn in workspace/api.h. */
int groups_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req);

#endif
