/*
 * Unit tests of workspace/scope.c on a tree of groups: a manager reaches
 * the groups they are a member of and every group below them, at any
 * depth, and the members of those groups, themselves included; not the
 * groups above or beside, nor their members. An admin reaches everyone,
 * a learner only themselves. A membership that changes counts at once,
 * and even a cycle in the tree (which the groups API refuses) ends the
 * query. Groups and memberships are written with SQL, so only the scope
 * and store sources are compiled in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/people.c"
#include "../../workspace/scope.c"
#include "../../workspace/store.c"

#include "common/fs.h"

#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000

/*
 *   org (1)                 other (5)
 *    |- care (2)              members: olga
 *    |   |- ward3 (3)
 *    |   |   members: wim
 *    |   |- ward4 (4)
 *    |   members: mia (manager), lea
 *    members: otto
 */
enum { ORG = 1, CARE, WARD3, WARD4, OTHER };

struct fixture {
	struct ws_fixture ws;
	struct people_user admin, mia, max, lea, wim, otto, olga;
};

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void user(sqlite3 *db, const char *email, enum people_role role,
		 struct people_user *out)
{
	struct people_new_user u = { .email = email, .name = email,
				     .role = role, .created_at = NOW };
	int64_t id;

	assert_int_equal(people_user_add(db, &u, &id), 0);
	assert_int_equal(people_user_by_id(db, id, out), 0);
}

static void member(sqlite3 *db, int group, const struct people_user *u)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "INSERT INTO group_members (group_id, "
		 "user_id, from_rule) VALUES (%d, %lld, 0)", group,
		 (long long)u->id);
	exec(db, sql);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ws_fixture_open(&f->ws);
	exec(f->ws.db, "INSERT INTO groups (id, name, parent_id, created_at) "
		       "VALUES (1, 'org', NULL, 0), (2, 'care', 1, 0),"
		       " (3, 'ward3', 2, 0), (4, 'ward4', 2, 0),"
		       " (5, 'other', NULL, 0)");
	user(f->ws.db, "admin@example.com", PEOPLE_ROLE_ADMIN, &f->admin);
	user(f->ws.db, "mia@example.com", PEOPLE_ROLE_MANAGER, &f->mia);
	user(f->ws.db, "max@example.com", PEOPLE_ROLE_MANAGER, &f->max);
	user(f->ws.db, "lea@example.com", PEOPLE_ROLE_LEARNER, &f->lea);
	user(f->ws.db, "wim@example.com", PEOPLE_ROLE_LEARNER, &f->wim);
	user(f->ws.db, "otto@example.com", PEOPLE_ROLE_LEARNER, &f->otto);
	user(f->ws.db, "olga@example.com", PEOPLE_ROLE_LEARNER, &f->olga);
	member(f->ws.db, CARE, &f->mia);
	member(f->ws.db, CARE, &f->lea);
	member(f->ws.db, WARD3, &f->wim);
	member(f->ws.db, ORG, &f->otto);
	member(f->ws.db, OTHER, &f->olga);
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

static void test_manager_groups(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(scope_group(f->ws.db, &f->mia, CARE), 1);
	assert_int_equal(scope_group(f->ws.db, &f->mia, WARD3), 1);
	assert_int_equal(scope_group(f->ws.db, &f->mia, WARD4), 1);
	assert_int_equal(scope_group(f->ws.db, &f->mia, ORG), 0);
	assert_int_equal(scope_group(f->ws.db, &f->mia, OTHER), 0);
	assert_int_equal(scope_group(f->ws.db, &f->mia, 99), 0);
}

static void test_manager_users(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(scope_user(f->ws.db, &f->mia, f->mia.id), 1);
	assert_int_equal(scope_user(f->ws.db, &f->mia, f->lea.id), 1);
	assert_int_equal(scope_user(f->ws.db, &f->mia, f->wim.id), 1);
	assert_int_equal(scope_user(f->ws.db, &f->mia, f->otto.id), 0);
	assert_int_equal(scope_user(f->ws.db, &f->mia, f->olga.id), 0);
	assert_int_equal(scope_user(f->ws.db, &f->mia, f->admin.id), 0);
	assert_int_equal(scope_user(f->ws.db, &f->mia, 999), 0);
}

static void test_manager_without_groups(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(scope_user(f->ws.db, &f->max, f->max.id), 1);
	assert_int_equal(scope_user(f->ws.db, &f->max, f->lea.id), 0);
	assert_int_equal(scope_group(f->ws.db, &f->max, CARE), 0);

	/* a membership counts at once: now max reaches the whole org */
	member(f->ws.db, ORG, &f->max);
	assert_int_equal(scope_group(f->ws.db, &f->max, WARD4), 1);
	assert_int_equal(scope_user(f->ws.db, &f->max, f->wim.id), 1);
	assert_int_equal(scope_user(f->ws.db, &f->max, f->otto.id), 1);
	assert_int_equal(scope_user(f->ws.db, &f->max, f->olga.id), 0);
}

static void test_admin_and_learner(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(scope_user(f->ws.db, &f->admin, f->olga.id), 1);
	assert_int_equal(scope_group(f->ws.db, &f->admin, OTHER), 1);
	/* lea is a member of care, but a learner manages nobody */
	assert_int_equal(scope_user(f->ws.db, &f->lea, f->wim.id), 0);
	assert_int_equal(scope_user(f->ws.db, &f->lea, f->mia.id), 0);
	assert_int_equal(scope_group(f->ws.db, &f->lea, CARE), 0);
	assert_int_equal(scope_user(f->ws.db, &f->lea, f->lea.id), 1);
}

static void test_cycle_ends(void **state)
{
	struct fixture *f = *state;

	exec(f->ws.db, "UPDATE groups SET parent_id = 3 WHERE id = 2");
	assert_int_equal(scope_group(f->ws.db, &f->mia, WARD3), 1);
	assert_int_equal(scope_group(f->ws.db, &f->mia, ORG), 0);
	assert_int_equal(scope_user(f->ws.db, &f->mia, f->otto.id), 0);
}

static void test_database_failure(void **state)
{
	struct fixture *f = *state;

	exec(f->ws.db, "DROP TABLE group_members");
	assert_int_equal(scope_user(f->ws.db, &f->mia, f->lea.id), STORE_EDB);
	assert_int_equal(scope_group(f->ws.db, &f->mia, CARE), STORE_EDB);
	/* an admin needs no query */
	assert_int_equal(scope_user(f->ws.db, &f->admin, f->lea.id), 1);
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DB_TEST(test_manager_groups),
		DB_TEST(test_manager_users),
		DB_TEST(test_manager_without_groups),
		DB_TEST(test_admin_and_learner),
		DB_TEST(test_cycle_ends),
		DB_TEST(test_database_failure),
	};

	log_init("test_scope", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
