/*
 * The fixture of the unit tests that work on a workspace's store: a
 * temporary directory /tmp/<test program>.XXXXXX holding workspace.db,
 * opened by store_open() and so with the whole schema, and removed with
 * everything in it afterwards. Also stubs of auth_require() (auth.c)
 * and scope_group() (scope.c), for tests that compile in a module whose
 * routes call them but leave those routes to the integration tests.
 *
 * Include it after the workspace sources the test compiles in (it needs
 * store_open(), STORE_FILE and, for the stubs, the types of api.h). The
 * functions are static (and inline, so a program may leave some unused),
 * so each test program that includes it gets its own copy; the stubs,
 * which must be the very functions the modules call, are compiled only
 * where WS_FIXTURE_STUBS is defined before the include.
 *
 *   ws_setup(), ws_teardown()    cmocka setup and teardown; *state is a
 *                                struct ws_fixture
 *   ws_fixture_open(), ws_fixture_close()
 *                                the same for a fixture of a test's own
 *                                that embeds a struct ws_fixture
 *   auth_require(), scope_group()
 *                                stubs (with WS_FIXTURE_STUBS): never
 *                                authorized, every group in scope
 */
#ifndef LMS_TESTS_WS_FIXTURE_H
#define LMS_TESTS_WS_FIXTURE_H

#include "common/fs.h"

#include <errno.h>	/* program_invocation_short_name */
#include <stdio.h>
#include <stdlib.h>

struct ws_fixture {
	char dir[64];
	char *path;	/* of workspace.db */
	sqlite3 *db;
};

/* Makes the temporary directory and opens the store in it. */
static inline void ws_fixture_open(struct ws_fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/%.40s.XXXXXX",
		 program_invocation_short_name);
	assert_non_null(mkdtemp(f->dir));
	f->path = fs_join(f->dir, STORE_FILE);
	assert_int_equal(store_open(f->path, &f->db), 0);
}

/* Closes the store and removes the directory. */
static inline void ws_fixture_close(struct ws_fixture *f)
{
	sqlite3_close_v2(f->db);
	fs_remove_tree(f->dir);
	free(f->path);
}

static inline int ws_setup(void **state)
{
	struct ws_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ws_fixture_open(f);
	*state = f;
	return 0;
}

static inline int ws_teardown(void **state)
{
	struct ws_fixture *f = *state;

	ws_fixture_close(f);
	free(f);
	return 0;
}

#ifdef WS_FIXTURE_STUBS
/* The HTTP checks of auth.c and scope.c: not reached by the tests, which
 * call the modules' functions rather than their routes. */
int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api, (void)x, (void)req, (void)roles, (void)out;
	return -1;
}

int scope_group(sqlite3 *db, const struct people_user *me, int64_t id)
{
	(void)db, (void)me, (void)id;
	return 0;
}

int scope_user(sqlite3 *db, const struct people_user *me, int64_t user_id)
{
	(void)db, (void)me, (void)user_id;
	return 0;
}
#endif

#endif
