/*
 * Unit tests of workspace/catalog.c: the catalog lists every course held
 * with its duration, its summary (from the version of its held revision,
 * null before one is recorded) and whether it is open for
 * self-enrollment; opening is idempotent, closing undoes it, and an
 * unknown course cannot be opened. The sources are compiled in directly,
 * as the unit build links only the shared libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/apply.c"
#include "../../workspace/auth.c"
#include "../../workspace/mail.c"
#include "../../workspace/settings.c"
#include "../../workspace/mailtpl.c"
#include "../../workspace/template.c"
#include "../../workspace/catalog.c"
#include "../../workspace/coursecache.c"
#include "../../workspace/people.c"
#include "../../workspace/store.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COURSE "hygiene-basics"

struct fixture {
	char dir[64];
	sqlite3 *db;
	git_repository *repo;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *end = strstr(__FILE__, "/tests/unit/");
	char *path, rev[41], sql[256], src[512];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_catalog.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	path = fs_join(f->dir, STORE_FILE);
	assert_int_equal(store_open(path, &f->db), 0);
	free(path);
	gitstore_global_init();
	path = fs_join(f->dir, "content.git");
	assert_int_equal(gitstore_open(path, 1, &f->repo), 0);
	free(path);
	snprintf(src, sizeof(src), "%.*s/deploy/courses/" COURSE,
		 (int)(end - __FILE__), __FILE__);
	assert_int_equal(gitstore_commit_dir(f->repo, "refs/heads/main", src,
					     "First\n", "LMS Test", rev), 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO courses VALUES ('" COURSE "', 'mother', '%s', "
		 "'Hygiene', 45, 1, 1)", rev);
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL),
			 SQLITE_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	git_repository_free(f->repo);
	sqlite3_close_v2(f->db);
	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

/* The catalog's only entry; the caller deletes it. */
static cJSON *entry(struct fixture *f)
{
	cJSON *list, *e;
	char *text;

	assert_int_equal(catalog_json(f->db, &text), 0);
	list = cJSON_Parse(text);
	cJSON_free(text);
	assert_int_equal(cJSON_GetArraySize(list), 1);
	e = cJSON_DetachItemFromArray(list, 0);
	cJSON_Delete(list);
	return e;
}

static void test_entry_and_opening(void **state)
{
	struct fixture *f = *state;
	cJSON *e;

	e = entry(f);
	assert_string_equal(cJSON_GetObjectItem(e, "id")->valuestring,
			    COURSE);
	assert_int_equal(cJSON_GetObjectItem(e, "duration_minutes")->valueint,
			 45);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "summary")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(e, "open")));
	cJSON_Delete(e);

	/* the summary comes with the version, in the default language */
	assert_int_equal(apply_record_versions(f->db, f->repo, COURSE), 0);
	e = entry(f);
	assert_non_null(strstr(cJSON_GetObjectItem(e, "summary")->valuestring,
			       "Hygieneunterweisung"));
	cJSON_Delete(e);

	assert_int_equal(catalog_set_open(f->db, COURSE, 1, 5), 0);
	assert_int_equal(catalog_set_open(f->db, COURSE, 1, 6), 0);
	e = entry(f);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(e, "open")));
	cJSON_Delete(e);
	assert_int_equal(catalog_set_open(f->db, COURSE, 0, 7), 0);
	e = entry(f);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(e, "open")));
	cJSON_Delete(e);

	assert_int_equal(catalog_set_open(f->db, "nope", 1, 5),
			 STORE_ENOTFOUND);
}

static void test_open_path(void **state)
{
	char id[IDS_MAX + 1];

	(void)state;
	assert_true(catalog_open_path("/api/v1/catalog/abc-1/open", id));
	assert_string_equal(id, "abc-1");
	assert_false(catalog_open_path("/api/v1/catalog/abc/open/", id));
	assert_false(catalog_open_path("/api/v1/catalog//open", id));
	assert_false(catalog_open_path("/api/v1/catalog/ABC/open", id));
	assert_false(catalog_open_path("/api/v1/catalog/abc", id));
	assert_false(catalog_open_path("/api/v1/catalogs/abc/open", id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_entry_and_opening, setup,
						teardown),
		cmocka_unit_test(test_open_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
