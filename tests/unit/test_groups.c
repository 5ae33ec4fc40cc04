/*
 * Unit tests of workspace/groups.c and the membership triggers of
 * workspace/store.c: a group's members are exactly the users whose
 * attributes match its rule and the rules of its ancestors, whether the
 * group or the user came first and whenever an attribute changes (in the
 * same transaction); bad input creates nothing. The sources are compiled
 * in directly, as the unit build links only the shared libraries.
 * Changing rules and parents, deleting and members by hand are in
 * test_groups_tree.c.
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

/* The HTTP checks (workspace/auth.c, scope.c) are not under test here;
 * tests/integration/groups*.test.mjs cover them. */
#define WS_FIXTURE_STUBS
#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000

/* Adds a user with up to two attributes (a NULL key ends the list). */
static int64_t user(sqlite3 *db, const char *email, const char *k1,
		    const char *v1, const char *k2, const char *v2)
{
	struct people_attr attrs[2] = { { k1, v1 }, { k2, v2 } };
	struct people_new_user u = { .email = email, .name = "Ann Example",
				     .role = PEOPLE_ROLE_LEARNER,
				     .attrs = attrs, .created_at = NOW };
	int64_t id = 0;

	u.nattrs = !k1 ? 0 : !k2 ? 1 : 2;
	assert_int_equal(people_user_add(db, &u, &id), 0);
	return id;
}

/* Creates a group from JSON text; returns its id. */
static int64_t group(sqlite3 *db, const char *json)
{
	cJSON *in = cJSON_Parse(json);
	const char *why = NULL;
	int64_t id = 0;

	assert_non_null(in);
	assert_int_equal(groups_add_json(db, in, NOW, &id, &why), 0);
	cJSON_Delete(in);
	assert_true(id > 0);
	return id;
}

/* The member ids of a group as "1,3,4" into out. */
static const char *members(sqlite3 *db, int64_t id, char *out, size_t cap)
{
	cJSON *list, *m;
	size_t len = 0;

	assert_int_equal(groups_members_json(db, id, &list), 0);
	out[0] = '\0';
	cJSON_ArrayForEach(m, list) {
		const cJSON *uid = cJSON_GetObjectItem(m, "id");

		assert_true(cJSON_IsNumber(uid));
		assert_true(cJSON_IsString(cJSON_GetObjectItem(m, "email")));
		assert_true(cJSON_IsString(cJSON_GetObjectItem(m, "name")));
		len += (size_t)snprintf(out + len, cap - len, "%s%d",
					len ? "," : "", uid->valueint);
		assert_true(len < cap);
	}
	cJSON_Delete(list);
	return out;
}

#define assert_members(db, id, expected)                                   \
	do {                                                               \
		char got_[128];                                            \
		assert_string_equal(members(db, id, got_, sizeof(got_)),   \
				    expected);                             \
	} while (0)

/* The count a query with one text parameter returns. */
static int count_where(sqlite3 *db, const char *sql, const char *text)
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_rule_matches_all_values(void **state)
{
	struct ws_fixture *f = *state;
	int64_t g;

	/* 1: both values and more, 2: one value only, 3: nothing */
	user(f->db, "a@example.org", "department", "Pflege", "location",
	     "Köln");
	user(f->db, "b@example.org", "department", "Pflege", NULL, NULL);
	user(f->db, "c@example.org", NULL, NULL, NULL, NULL);
	g = group(f->db, "{\"name\": \"Pflege Köln\", \"rule\": "
			 "{\"department\": \"Pflege\", "
			 "\"location\": \"Köln\"}}");
	assert_members(f->db, g, "1");

	/* a group without a rule has no members by rule */
	assert_members(f->db, group(f->db, "{\"name\": \"Hand\"}"), "");
	assert_members(f->db, group(f->db, "{\"name\": \"Hand\", "
					   "\"rule\": {}}"), "");
}

static void test_user_added_later(void **state)
{
	struct ws_fixture *f = *state;
	int64_t g = group(f->db, "{\"name\": \"IT\", \"rule\": "
				 "{\"department\": \"IT\"}}");
	int64_t yes, no;

	yes = user(f->db, "yes@example.org", "department", "IT", NULL, NULL);
	no = user(f->db, "no@example.org", "department", "it", NULL, NULL);
	assert_members(f->db, g, "1");
	assert_int_equal(yes, 1);
	assert_int_equal(no, 2);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "group_members WHERE from_rule = ?1",
				     "1"), 1);
}

static void test_attribute_change(void **state)
{
	struct ws_fixture *f = *state;
	int64_t g = group(f->db, "{\"name\": \"Bonn\", \"rule\": "
				 "{\"location\": \"Bonn\"}}");

	user(f->db, "a@example.org", "location", "Bonn", NULL, NULL);
	user(f->db, "b@example.org", NULL, NULL, NULL, NULL);
	assert_members(f->db, g, "1");

	exec(f->db, "UPDATE user_attributes SET value = 'Köln' "
		    "WHERE user_id = 1");
	assert_members(f->db, g, "");
	exec(f->db, "INSERT INTO user_attributes VALUES (2, 'location', "
		    "'Bonn')");
	assert_members(f->db, g, "2");
	exec(f->db, "UPDATE user_attributes SET value = 'Bonn' "
		    "WHERE user_id = 1");
	assert_members(f->db, g, "1,2");
	exec(f->db, "DELETE FROM user_attributes WHERE user_id = 2");
	assert_members(f->db, g, "1");

	/* the membership belongs to the change's transaction */
	exec(f->db, "BEGIN; DELETE FROM user_attributes WHERE user_id = 1");
	assert_members(f->db, g, "");
	exec(f->db, "ROLLBACK");
	assert_members(f->db, g, "1");
}

static void test_nested_groups(void **state)
{
	struct ws_fixture *f = *state;
	int64_t koeln, pflege, hand, it;
	char json[160];

	koeln = group(f->db, "{\"name\": \"Köln\", \"parent\": null, "
			     "\"rule\": {\"location\": \"Köln\"}}");
	snprintf(json, sizeof(json), "{\"name\": \"Pflege\", \"parent\": "
		 "%lld, \"rule\": {\"department\": \"Pflege\"}}",
		 (long long)koeln);
	pflege = group(f->db, json);
	/* a rule-less level between passes its parent's rule on */
	snprintf(json, sizeof(json), "{\"name\": \"Haus 2\", \"parent\": "
		 "%lld}", (long long)koeln);
	hand = group(f->db, json);
	snprintf(json, sizeof(json), "{\"name\": \"IT\", \"parent\": %lld, "
		 "\"rule\": {\"department\": \"IT\"}}", (long long)hand);
	it = group(f->db, json);

	user(f->db, "a@example.org", "location", "Köln", "department",
	     "Pflege");
	user(f->db, "b@example.org", "location", "Bonn", "department",
	     "Pflege");
	user(f->db, "c@example.org", "location", "Köln", "department", "IT");
	assert_members(f->db, koeln, "1,3");
	assert_members(f->db, pflege, "1");
	assert_members(f->db, hand, "");
	assert_members(f->db, it, "3");
	/* moving to Köln puts b into the parent and the child at once */
	exec(f->db, "UPDATE user_attributes SET value = 'Köln' "
		    "WHERE user_id = 2 AND key = 'location'");
	assert_members(f->db, koeln, "1,2,3");
	assert_members(f->db, pflege, "1,2");
}

static void test_umlauts(void **state)
{
	struct ws_fixture *f = *state;
	int64_t g;

	user(f->db, "a@example.org", "location", "Köln", NULL, NULL);
	user(f->db, "b@example.org", "location", "Koln", NULL, NULL);
	user(f->db, "c@example.org", "location", "KÖLN", NULL, NULL);
	user(f->db, "d@example.org", "location", "K\\u00f6ln", NULL, NULL);
	g = group(f->db, "{\"name\": \"Köln\", \"rule\": "
			 "{\"location\": \"K\\u00f6ln\"}}");
	assert_members(f->db, g, "1");
	g = group(f->db, "{\"name\": \"Straße\", \"rule\": "
			 "{\"street\": \"Hauptstraße\"}}");
	user(f->db, "e@example.org", "street", "Hauptstraße", NULL, NULL);
	user(f->db, "f@example.org", "street", "Hauptstrasse", NULL, NULL);
	assert_members(f->db, g, "5");
}

static void expect_refused(sqlite3 *db, const char *json, int code)
{
	cJSON *in = cJSON_Parse(json);
	const char *why = NULL;
	int64_t id = 0;

	assert_non_null(in);
	assert_int_equal(groups_add_json(db, in, NOW, &id, &why), code);
	assert_non_null(why);
	assert_true(strlen(why) > 0);
	cJSON_Delete(in);
}

static void test_bad_input_creates_nothing(void **state)
{
	struct ws_fixture *f = *state;
	cJSON *list;

	expect_refused(f->db, "{}", STORE_EINVAL);
	expect_refused(f->db, "[]", STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"\"}", STORE_EINVAL);
	expect_refused(f->db, "{\"name\": 5}", STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"parent\": 7}",
		       STORE_ENOTFOUND);
	expect_refused(f->db, "{\"name\": \"X\", \"parent\": \"1\"}",
		       STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"parent\": 1.5}",
		       STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"rule\": \"a=b\"}",
		       STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"rule\": [\"a\"]}",
		       STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"rule\": {\"a\": 1}}",
		       STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"rule\": {\"a\": null}}",
		       STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"rule\": {\"a\": \"\"}}",
		       STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"rule\": "
			      "{\"A B\": \"x\"}}", STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"rule\": "
			      "{\"a\": \"x\", \"a\": \"y\"}}", STORE_EINVAL);
	expect_refused(f->db, "{\"name\": \"X\", \"rule\": "
			      "{\"straße\": \"x\"}}", STORE_EINVAL);
	assert_int_equal(groups_list_json(f->db, &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "group_terms WHERE ?1", "1"), 0);
	assert_int_equal(groups_members_json(f->db, 1, &list),
			 STORE_ENOTFOUND);
}

static void test_list_json(void **state)
{
	struct ws_fixture *f = *state;
	cJSON *list, *g, *groups;
	char *text;
	int64_t parent;

	user(f->db, "a@example.org", "location", "Köln", NULL, NULL);
	user(f->db, "b@example.org", "location", "Köln", NULL, NULL);
	parent = group(f->db, "{\"name\": \"Acme\"}");
	group(f->db, "{\"name\": \"Köln\", \"parent\": 1, \"rule\": "
		     "{\"location\": \"Köln\"}}");
	assert_int_equal(parent, 1);
	assert_int_equal(groups_list_json(f->db, &list), 0);
	text = cJSON_PrintUnformatted(list);
	assert_string_equal(text,
			    "[{\"id\":1,\"name\":\"Acme\",\"parent\":null,"
			    "\"rule\":{},\"member_count\":0},"
			    "{\"id\":2,\"name\":\"Köln\",\"parent\":1,"
			    "\"rule\":{\"location\":\"Köln\"},"
			    "\"member_count\":2}]");
	cJSON_free(text);
	cJSON_Delete(list);
	assert_int_equal(groups_get_json(f->db, 2, &g), 0);
	assert_string_equal(cJSON_GetObjectItem(g, "name")->valuestring,
			    "Köln");
	cJSON_Delete(g);
	assert_int_equal(groups_get_json(f->db, 3, &g), STORE_ENOTFOUND);
	assert_int_equal(groups_of_user_json(f->db, 2, &groups), 0);
	text = cJSON_PrintUnformatted(groups);
	assert_string_equal(text, "[2]");
	cJSON_free(text);
	cJSON_Delete(groups);
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, ws_setup, ws_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DB_TEST(test_rule_matches_all_values),
		DB_TEST(test_user_added_later),
		DB_TEST(test_attribute_change),
		DB_TEST(test_nested_groups),
		DB_TEST(test_umlauts),
		DB_TEST(test_bad_input_creates_nothing),
		DB_TEST(test_list_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
