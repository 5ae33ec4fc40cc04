/*
 * Unit tests of the changes to groups in workspace/groups.c: a new rule
 * or a new parent recomputes the members of the group and of every group
 * below it at once; a parent that would make a cycle is refused and
 * changes nothing; deleting a group moves its subgroups up (their rules
 * no longer include its rule) and takes its assignments along; members
 * added by hand stay whatever the rules say, and only they can be
 * removed by hand. The sources are compiled in directly; the HTTP checks
 * of auth.c and scope.c are stubbed (the integration tests cover them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/groups.c"
#include "../../workspace/people.c"
#include "../../workspace/store.c"

#include "common/fs.h"

#define WS_FIXTURE_STUBS
#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000

struct fixture {
	struct ws_fixture ws;
	/* users: ann (Pflege, Köln, ward 3), bob (IT, Köln),
	 * cy (Pflege, Bonn, ward 3) */
	int64_t ann, bob, cy;
};

static int64_t user(sqlite3 *db, const char *email, const char *dept,
		    const char *loc, const char *ward)
{
	struct people_attr attrs[3] = { { "department", dept },
					{ "location", loc },
					{ "ward", ward } };
	struct people_new_user u = { .email = email, .name = email,
				     .role = PEOPLE_ROLE_LEARNER,
				     .attrs = attrs, .nattrs = ward ? 3 : 2,
				     .created_at = NOW };
	int64_t id = 0;

	assert_int_equal(people_user_add(db, &u, &id), 0);
	return id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ws_fixture_open(&f->ws);
	f->ann = user(f->ws.db, "ann@example.org", "Pflege", "Köln", "3");
	f->bob = user(f->ws.db, "bob@example.org", "IT", "Köln", NULL);
	f->cy = user(f->ws.db, "cy@example.org", "Pflege", "Bonn", "3");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ws_fixture_close(&f->ws);
	free(f);
	return 0;
}

static int64_t group(sqlite3 *db, const char *json)
{
	cJSON *in = cJSON_Parse(json);
	const char *why = NULL;
	int64_t id = 0;

	assert_non_null(in);
	assert_int_equal(groups_add_json(db, in, NOW, &id, &why), 0);
	cJSON_Delete(in);
	return id;
}

/* groups_update_json with JSON text; returns its code. */
static int update(sqlite3 *db, int64_t id, const char *json,
		  const char **why)
{
	cJSON *in = cJSON_Parse(json);
	const char *ignored;
	int rc;

	assert_non_null(in);
	rc = groups_update_json(db, id, in, why ? why : &ignored);
	cJSON_Delete(in);
	return rc;
}

/* The members of a group as "id" or "id*" (by hand), comma-separated. */
static const char *members(sqlite3 *db, int64_t id, char *out, size_t cap)
{
	cJSON *list, *m;
	size_t len = 0;

	assert_int_equal(groups_members_json(db, id, &list), 0);
	out[0] = '\0';
	cJSON_ArrayForEach(m, list) {
		const cJSON *from_rule = cJSON_GetObjectItem(m, "from_rule");

		assert_true(cJSON_IsBool(from_rule));
		len += (size_t)snprintf(out + len, cap - len, "%s%d%s",
					len ? "," : "",
					cJSON_GetObjectItem(m, "id")->valueint,
					cJSON_IsTrue(from_rule) ? "" : "*");
		assert_true(len < cap);
	}
	cJSON_Delete(list);
	return out;
}

#define assert_members(db, id, expected)                                 \
	do {                                                             \
		char got_[128];                                          \
		assert_string_equal(members(db, id, got_, sizeof(got_)), \
				    expected);                           \
	} while (0)

static int64_t parent_of(sqlite3 *db, int64_t id)
{
	cJSON *g;
	int64_t parent;

	assert_int_equal(groups_get_json(db, id, &g), 0);
	parent = cJSON_IsNull(cJSON_GetObjectItem(g, "parent")) ? 0 :
		 (int64_t)cJSON_GetObjectItem(g, "parent")->valuedouble;
	cJSON_Delete(g);
	return parent;
}

static int count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* {"user": id} or {"user": "email"} for groups_member_add. */
static int add_member(sqlite3 *db, int64_t g, const char *json)
{
	cJSON *in = cJSON_Parse(json);
	const char *why = NULL;
	int64_t uid = 0;
	int rc;

	assert_non_null(in);
	rc = groups_member_add(db, g, in, &uid, &why);
	cJSON_Delete(in);
	if (rc < 0)
		assert_non_null(why);
	return rc;
}

/* ---- rules ---- */

static void test_rule_change(void **state)
{
	struct fixture *f = *state;
	int64_t g = group(f->ws.db, "{\"name\": \"Pflege\", \"rule\": "
				    "{\"department\": \"Pflege\"}}");
	int64_t child = group(f->ws.db, "{\"name\": \"Station 3\", \"rule\": "
					"{\"ward\": \"3\"}}");
	char want[64];

	/* the child's own rule and, once under g, g's rule too */
	assert_int_equal(update(f->ws.db, child, "{\"parent\": 1}", NULL), 0);
	assert_members(f->ws.db, g, "1,3");
	assert_members(f->ws.db, child, "1,3");

	/* a new rule: at once, for the group and the groups below */
	assert_int_equal(update(f->ws.db, g, "{\"rule\": {\"location\": "
					     "\"Köln\"}}", NULL), 0);
	snprintf(want, sizeof(want), "%lld,%lld", (long long)f->ann,
		 (long long)f->bob);
	assert_members(f->ws.db, g, want);
	assert_members(f->ws.db, child, "1");

	/* no rule: no members by rule; the child keeps its own rule */
	assert_int_equal(update(f->ws.db, g, "{\"rule\": {}}", NULL), 0);
	assert_members(f->ws.db, g, "");
	assert_members(f->ws.db, child, "1,3");
	assert_int_equal(update(f->ws.db, g, "{\"rule\": null}", NULL), 0);
	assert_members(f->ws.db, g, "");

	/* a user whose attributes change later still follows the new rule */
	assert_int_equal(update(f->ws.db, g, "{\"rule\": {\"department\": "
					     "\"IT\"}}", NULL), 0);
	assert_members(f->ws.db, g, "2");
	assert_members(f->ws.db, child, "");
	assert_int_equal(sqlite3_exec(f->ws.db, "UPDATE user_attributes "
						"SET value = 'IT' "
						"WHERE user_id = 3 "
						"AND key = 'department'",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_members(f->ws.db, g, "2,3");
	assert_members(f->ws.db, child, "3");
}

static void test_name_and_bad_input(void **state)
{
	struct fixture *f = *state;
	int64_t g = group(f->ws.db, "{\"name\": \"Pflege\", \"rule\": "
				    "{\"department\": \"Pflege\"}}");
	const char *why = NULL;
	cJSON *got;

	assert_int_equal(update(f->ws.db, g, "{\"name\": \"Pflege Köln\"}",
				NULL), 0);
	assert_int_equal(groups_get_json(f->ws.db, g, &got), 0);
	assert_string_equal(cJSON_GetObjectItem(got, "name")->valuestring,
			    "Pflege Köln");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(got,
			    "rule"), "department")->valuestring, "Pflege");
	cJSON_Delete(got);

	for (const char *const *bad = (const char *const[]){
		     "{\"name\": \"\"}", "{\"name\": 5}",
		     "{\"rule\": \"department=IT\"}",
		     "{\"rule\": {\"Department\": \"IT\"}}",
		     "{\"rule\": {\"department\": 5}}",
		     "{\"parent\": -1}", "{\"parent\": \"1\"}", "[]", NULL };
	     *bad; bad++) {
		why = NULL;
		assert_int_equal(update(f->ws.db, g, *bad, &why), STORE_EINVAL);
		assert_non_null(why);
	}
	assert_int_equal(update(f->ws.db, 99, "{\"name\": \"X\"}", NULL),
			 STORE_ENOTFOUND);
	/* nothing of it stuck */
	assert_int_equal(groups_get_json(f->ws.db, g, &got), 0);
	assert_string_equal(cJSON_GetObjectItem(got, "name")->valuestring,
			    "Pflege Köln");
	assert_int_equal(cJSON_GetObjectItem(got, "member_count")->valueint,
			 2);
	cJSON_Delete(got);
}

/* ---- the tree ---- */

static void test_reparent(void **state)
{
	struct fixture *f = *state;
	int64_t koeln = group(f->ws.db, "{\"name\": \"Köln\", \"rule\": "
					"{\"location\": \"Köln\"}}");
	int64_t pflege = group(f->ws.db, "{\"name\": \"Pflege\", \"rule\": "
					 "{\"department\": \"Pflege\"}}");
	int64_t ward = group(f->ws.db, "{\"name\": \"Station 3\", "
				       "\"parent\": 2, "
				       "\"rule\": {\"ward\": \"3\"}}");

	assert_members(f->ws.db, pflege, "1,3");
	assert_members(f->ws.db, ward, "1,3");

	/* under Köln: Pflege and the ward below it lose cy of Bonn */
	assert_int_equal(update(f->ws.db, pflege, "{\"parent\": 1}", NULL), 0);
	assert_int_equal(parent_of(f->ws.db, pflege), koeln);
	assert_members(f->ws.db, pflege, "1");
	assert_members(f->ws.db, ward, "1");
	assert_int_equal(count(f->ws.db, "SELECT count(*) FROM group_terms "
					 "WHERE group_id = 3"), 3);

	/* back to the top */
	assert_int_equal(update(f->ws.db, pflege, "{\"parent\": null}",
				NULL), 0);
	assert_int_equal(parent_of(f->ws.db, pflege), 0);
	assert_members(f->ws.db, pflege, "1,3");
	assert_members(f->ws.db, ward, "1,3");
	assert_members(f->ws.db, koeln, "1,2");
}

static void test_cycle_refused(void **state)
{
	struct fixture *f = *state;
	int64_t a = group(f->ws.db, "{\"name\": \"A\", \"rule\": "
				    "{\"location\": \"Köln\"}}");
	int64_t b = group(f->ws.db, "{\"name\": \"B\", \"parent\": 1}");
	int64_t c = group(f->ws.db, "{\"name\": \"C\", \"parent\": 2, "
				    "\"rule\": {\"ward\": \"3\"}}");
	const char *why = NULL;

	assert_int_equal(update(f->ws.db, a, "{\"parent\": 1}", &why),
			 STORE_EINVAL);
	assert_non_null(strstr(why, "cycle"));
	assert_int_equal(update(f->ws.db, a, "{\"parent\": 3, \"name\": \"X\"}",
				&why), STORE_EINVAL);
	assert_non_null(strstr(why, "cycle"));
	assert_int_equal(update(f->ws.db, b, "{\"parent\": 3}", &why),
			 STORE_EINVAL);
	assert_int_equal(update(f->ws.db, b, "{\"parent\": 99}", &why),
			 STORE_EINVAL);
	assert_non_null(strstr(why, "parent"));
	/* the tree and the names are as before */
	assert_int_equal(parent_of(f->ws.db, a), 0);
	assert_int_equal(parent_of(f->ws.db, b), a);
	assert_int_equal(parent_of(f->ws.db, c), b);
	assert_int_equal(count(f->ws.db, "SELECT count(*) FROM groups "
					 "WHERE name = 'X'"), 0);
	assert_members(f->ws.db, c, "1");
	/* a sibling's subtree is fine */
	assert_int_equal(update(f->ws.db, c, "{\"parent\": 1}", NULL), 0);
	assert_int_equal(update(f->ws.db, b, "{\"parent\": 3}", NULL), 0);
	assert_int_equal(parent_of(f->ws.db, b), c);
}

static void test_delete(void **state)
{
	struct fixture *f = *state;
	int64_t koeln = group(f->ws.db, "{\"name\": \"Köln\", \"rule\": "
					"{\"location\": \"Köln\"}}");
	int64_t pflege = group(f->ws.db, "{\"name\": \"Pflege\", \"parent\": "
					 "1, \"rule\": {\"department\": "
					 "\"Pflege\"}}");
	int64_t ward = group(f->ws.db, "{\"name\": \"Station 3\", "
				       "\"parent\": 2, "
				       "\"rule\": {\"ward\": \"3\"}}");
	int64_t other = group(f->ws.db, "{\"name\": \"Other\", \"parent\": 2}");
	char sql[200];

	assert_int_equal(count(f->ws.db, "PRAGMA foreign_keys"), 1);
	snprintf(sql, sizeof(sql), "INSERT INTO assignments (course_id, "
		 "group_id, due, created_at) VALUES ('c', %lld, "
		 "'2027-01-01', 1), ('c', %lld, '2027-01-01', 1)",
		 (long long)pflege, (long long)koeln);
	assert_int_equal(sqlite3_exec(f->ws.db, sql, NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(add_member(f->ws.db, pflege, "{\"user\": 2}"), 0);
	assert_members(f->ws.db, ward, "1");

	assert_int_equal(groups_delete(f->ws.db, pflege), 0);
	assert_int_equal(groups_get_json(f->ws.db, pflege, &(cJSON *){ NULL }),
			 STORE_ENOTFOUND);
	/* its subgroups moved up and lost its rule: bob is in Köln, but
	 * has no ward */
	assert_int_equal(parent_of(f->ws.db, ward), koeln);
	assert_int_equal(parent_of(f->ws.db, other), koeln);
	assert_members(f->ws.db, ward, "1");
	assert_int_equal(count(f->ws.db, "SELECT count(*) FROM group_terms "
					 "WHERE group_id = 3 AND key = "
					 "'department'"), 0);
	user(f->ws.db, "dee@example.org", "IT", "Köln", "3");
	assert_members(f->ws.db, ward, "1,4");
	/* its members, terms and assignments went with it */
	assert_int_equal(count(f->ws.db, "SELECT count(*) FROM group_members "
					 "WHERE group_id = 2"), 0);
	assert_int_equal(count(f->ws.db, "SELECT count(*) FROM group_terms "
					 "WHERE group_id = 2"), 0);
	assert_int_equal(count(f->ws.db,
			       "SELECT count(*) FROM assignments"), 1);
	assert_int_equal(groups_delete(f->ws.db, pflege), STORE_ENOTFOUND);

	/* a top group: its children become top groups */
	assert_int_equal(groups_delete(f->ws.db, koeln), 0);
	assert_int_equal(parent_of(f->ws.db, ward), 0);
	assert_members(f->ws.db, ward, "1,3,4");
	assert_int_equal(count(f->ws.db,
			       "SELECT count(*) FROM assignments"), 0);
}

/* ---- members by hand ---- */

static void test_hand_members(void **state)
{
	struct fixture *f = *state;
	int64_t team = group(f->ws.db, "{\"name\": \"Team\"}");
	int64_t it = group(f->ws.db, "{\"name\": \"IT\", \"rule\": "
				     "{\"department\": \"IT\"}}");

	/* a group without a rule: by id, by email in any case */
	assert_int_equal(add_member(f->ws.db, team, "{\"user\": 1}"), 0);
	assert_int_equal(add_member(f->ws.db, team, "{\"user\": 1}"), 1);
	assert_int_equal(add_member(f->ws.db, team,
				    "{\"user\": \"CY@example.org\"}"), 0);
	assert_members(f->ws.db, team, "1*,3*");
	assert_int_equal(groups_member_remove(f->ws.db, team, 1), 0);
	assert_int_equal(groups_member_remove(f->ws.db, team, 1),
			 STORE_ENOTFOUND);
	assert_members(f->ws.db, team, "3*");

	/* bad or unknown users and groups */
	assert_int_equal(add_member(f->ws.db, team, "{\"user\": 99}"),
			 STORE_EINVAL);
	assert_int_equal(add_member(f->ws.db, team, "{\"user\": \"x@y.org\"}"),
			 STORE_EINVAL);
	assert_int_equal(add_member(f->ws.db, team, "{\"user\": 1.5}"),
			 STORE_EINVAL);
	assert_int_equal(add_member(f->ws.db, team, "{}"), STORE_EINVAL);
	assert_int_equal(add_member(f->ws.db, team, "[1]"), STORE_EINVAL);
	assert_int_equal(add_member(f->ws.db, 99, "{\"user\": 1}"),
			 STORE_ENOTFOUND);

	/* a member by the rule cannot be removed by hand */
	assert_members(f->ws.db, it, "2");
	assert_int_equal(groups_member_remove(f->ws.db, it, 2), GROUPS_ERULE);
	assert_members(f->ws.db, it, "2");

	/* a hand member stays when the rule changes or no longer
	 * matches; rule members follow the rule */
	assert_int_equal(add_member(f->ws.db, it, "{\"user\": 1}"), 0);
	assert_members(f->ws.db, it, "1*,2");
	assert_int_equal(update(f->ws.db, it, "{\"rule\": {\"department\": "
					      "\"HR\"}}", NULL), 0);
	assert_members(f->ws.db, it, "1*");
	assert_int_equal(update(f->ws.db, it, "{\"rule\": {\"location\": "
					      "\"Köln\"}}", NULL), 0);
	assert_members(f->ws.db, it, "1*,2");
	assert_int_equal(sqlite3_exec(f->ws.db, "DELETE FROM user_attributes "
						"WHERE user_id = 1",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_members(f->ws.db, it, "1*,2");

	/* a rule member added by hand becomes one by hand; removed by
	 * hand it is a member by the rule again */
	assert_int_equal(add_member(f->ws.db, it, "{\"user\": 2}"), 0);
	assert_members(f->ws.db, it, "1*,2*");
	assert_int_equal(groups_member_remove(f->ws.db, it, 2), 0);
	assert_members(f->ws.db, it, "1*,2");
	assert_int_equal(groups_member_remove(f->ws.db, it, 1), 0);
	assert_members(f->ws.db, it, "2");
}

static void test_paths(void **state)
{
	struct groups_path p;

	(void)state;
	assert_int_equal(groups_path_parse("/api/v1/groups/12", &p), 1);
	assert_int_equal(p.kind, GROUPS_PATH_GROUP);
	assert_int_equal(p.id, 12);
	assert_int_equal(groups_path_parse("/api/v1/groups/3/members", &p),
			 1);
	assert_int_equal(p.kind, GROUPS_PATH_MEMBERS);
	assert_int_equal(groups_path_parse("/api/v1/groups/3/members/45", &p),
			 1);
	assert_int_equal(p.kind, GROUPS_PATH_MEMBER);
	assert_int_equal(p.id, 3);
	assert_int_equal(p.user, 45);
	for (const char *const *bad = (const char *const[]){
		     "/api/v1/groups", "/api/v1/groups/", "/api/v1/groups/0",
		     "/api/v1/groups/012", "/api/v1/groups/x",
		     "/api/v1/groups/1x", "/api/v1/groups/1/",
		     "/api/v1/groups/1/member", "/api/v1/groups/1/membersx",
		     "/api/v1/groups/1/members/", "/api/v1/groups/1/members/0",
		     "/api/v1/groups/1/members/2/x",
		     "/api/v1/groups/99999999999999999999",
		     "/api/v1/groups/1/members/a", NULL };
	     *bad; bad++)
		if (groups_path_parse(*bad, &p))
			fail_msg("%s taken as a group path", *bad);
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DB_TEST(test_rule_change),   DB_TEST(test_name_and_bad_input),
		DB_TEST(test_reparent),	     DB_TEST(test_cycle_refused),
		DB_TEST(test_delete),	     DB_TEST(test_hand_members),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
