/*
 * Groups in workspace.db: a tree (organisation, location, department
 * ...) where each group may carry a rule, an object of attribute values
 * that must all match, e.g. {"department": "Pflege", "location": "Köln"}.
 * A child's rule adds to the rules of its ancestors.
 *
 * Membership is always what the rules say. The schema's triggers
 * (migration 3 of workspace/store.c) recompute a user's groups when the
 * user is added or an attribute changes, inside the same transaction;
 * groups_add recomputes the new group's members in its own. A group
 * without a rule has members only by hand (not yet offered); every
 * membership records whether it came from the rule.
 *
 * Functions return 0 or a negative STORE_E* code (workspace/store.h).
 */
#ifndef LMS_WORKSPACE_GROUPS_H
#define LMS_WORKSPACE_GROUPS_H

#include "common/http.h"
#include "workspace/api.h"
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>

/* Creates a group from {"name", "parent": id or null, "rule": {k: v} or
 * null} and fills its members, in one transaction. *id receives the new
 * id. STORE_EINVAL for a bad name or rule and STORE_ENOTFOUND for an
 * unknown parent, with a message for the client in *why (static). */
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

/* The members of a group by id as [{"id", "email", "name"}];
 * STORE_ENOTFOUND when the group does not exist. */
int groups_members_json(sqlite3 *db, int64_t id, cJSON **out);

/* The ids of the groups user_id is in, ascending, as a JSON array. */
int groups_of_user_json(sqlite3 *db, int64_t user_id, cJSON **out);

/* Answers req when its path is one of this module's subtree of the API;
 * see api_route_fn in workspace/api.h. */
int groups_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req);

#endif
