/*
 * Unit tests of workspace/people.c: emails checked and lower-cased, one
 * user per email, attributes kept, tokens and sessions found only by the
 * secret handed out (never stored in the clear), sessions that expire
 * and end. The store and people sources are compiled in directly, as the
 * unit build links only the shared libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/people.c"
#include "../../workspace/store.c"

#include "common/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000

struct fixture {
	char dir[64];
	char *path;
	sqlite3 *db;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_people.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = fs_join(f->dir, STORE_FILE);
	assert_int_equal(store_open(f->path, &f->db), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sqlite3_close_v2(f->db);
	fs_remove_tree(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static int64_t add(sqlite3 *db, const char *email, enum people_role role)
{
	struct people_new_user u = { .email = email, .name = "Ann Example",
				     .role = role, .created_at = NOW };
	int64_t id = 0;

	assert_int_equal(people_user_add(db, &u, &id), 0);
	assert_true(id > 0);
	return id;
}

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

static void test_email_rules(void **state)
{
	static const char *bad[] = {
		"", "ann", "@example.com", "ann@", "ann@example",
		"ann@@example.com", "a@b@example.com", "ann @example.com",
		"ann@exa mple.com", ".ann@example.com", "ann.@example.com",
		"a..nn@example.com", "ann@example..com", "ann@.example.com",
		"ann@example.com.", "ann@-example.com", "ann@example-.com",
		"ann\n@example.com", "\"ann\"@example.com",
	};
	char out[PEOPLE_EMAIL_MAX + 1], big[300];

	(void)state;
	assert_int_equal(people_email_normalize("Ann.O'Neil+x@Example.COM",
						out, sizeof(out)), 0);
	assert_string_equal(out, "ann.o'neil+x@example.com");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(people_email_normalize(bad[i], out,
							sizeof(out)),
				 STORE_EINVAL);
	memset(big, 'a', sizeof(big));
	strcpy(big + 250, "@x.de");
	assert_int_equal(people_email_normalize(big, out, sizeof(out)),
			 STORE_EINVAL);
}

static void test_roles(void **state)
{
	enum people_role r;

	(void)state;
	assert_int_equal(people_role_parse("admin", &r), 0);
	assert_int_equal(r, PEOPLE_ROLE_ADMIN);
	assert_int_equal(people_role_parse("manager", &r), 0);
	assert_int_equal(r, PEOPLE_ROLE_MANAGER);
	assert_int_equal(people_role_parse("learner", &r), 0);
	assert_int_equal(r, PEOPLE_ROLE_LEARNER);
	assert_int_equal(people_role_parse("Admin", &r), STORE_EINVAL);
	assert_int_equal(people_role_parse("root", &r), STORE_EINVAL);
	assert_string_equal(people_role_name(PEOPLE_ROLE_MANAGER), "manager");
}

static void test_user_add_and_find(void **state)
{
	struct fixture *f = *state;
	struct people_attr attrs[] = { { "department", "Care" },
				       { "location", "Köln" } };
	struct people_new_user u = { .email = "Ann@Example.com",
				     .name = "Ann", .role = PEOPLE_ROLE_ADMIN,
				     .attrs = attrs, .nattrs = 2,
				     .password_hash = "$argon2id$x",
				     .created_at = NOW };
	struct people_user got;
	char hash[64];
	int64_t id, again;

	assert_int_equal(people_user_add(f->db, &u, &id), 0);
	u.email = "ANN@example.COM";
	assert_int_equal(people_user_add(f->db, &u, &again), PEOPLE_EEXISTS);
	assert_int_equal(people_user_by_email(f->db, "aNN@example.com", &got,
					      hash, sizeof(hash)), 0);
	assert_int_equal(got.id, id);
	assert_string_equal(got.email, "ann@example.com");
	assert_string_equal(got.name, "Ann");
	assert_int_equal(got.role, PEOPLE_ROLE_ADMIN);
	assert_int_equal(got.created_at, NOW);
	assert_string_equal(hash, "$argon2id$x");
	assert_int_equal(people_user_by_email(f->db, "bob@example.com", &got,
					      NULL, 0), STORE_ENOTFOUND);
	assert_int_equal(people_user_by_id(f->db, id, &got), 0);
	assert_string_equal(got.email, "ann@example.com");
	assert_int_equal(people_user_by_id(f->db, id + 1, &got),
			 STORE_ENOTFOUND);
}

static void test_user_add_refuses_bad_values(void **state)
{
	struct fixture *f = *state;
	struct people_attr twice[] = { { "department", "A" },
				       { "department", "B" } };
	struct people_attr bad_key[] = { { "Department", "A" } };
	struct people_attr empty[] = { { "department", "" } };
	struct people_new_user u = { .email = "bob@example.com",
				     .name = "Bob", .created_at = NOW };
	int64_t id;

	u.email = "bob";
	assert_int_equal(people_user_add(f->db, &u, &id), STORE_EINVAL);
	u.email = "bob@example.com";
	u.name = "  ";
	assert_int_equal(people_user_add(f->db, &u, &id), STORE_EINVAL);
	u.name = "Bob\tB";
	assert_int_equal(people_user_add(f->db, &u, &id), STORE_EINVAL);
	u.name = "Bob";
	u.role = (enum people_role)7;
	assert_int_equal(people_user_add(f->db, &u, &id), STORE_EINVAL);
	u.role = PEOPLE_ROLE_LEARNER;
	u.attrs = twice;
	u.nattrs = 2;
	assert_int_equal(people_user_add(f->db, &u, &id), STORE_EINVAL);
	u.attrs = bad_key;
	u.nattrs = 1;
	assert_int_equal(people_user_add(f->db, &u, &id), STORE_EINVAL);
	u.attrs = empty;
	assert_int_equal(people_user_add(f->db, &u, &id), STORE_EINVAL);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM users "
				     "WHERE ?1 IS NOT NULL", "x"), 0);
	u.nattrs = 0;
	assert_int_equal(people_user_add(f->db, &u, &id), 0);
}

static void test_users_json(void **state)
{
	struct fixture *f = *state;
	struct people_attr attrs[] = { { "location", "Bonn" },
				       { "department", "Care" } };
	struct people_new_user u = { .email = "cy@example.com", .name = "Cy",
				     .role = PEOPLE_ROLE_MANAGER,
				     .attrs = attrs, .nattrs = 2,
				     .created_at = NOW };
	cJSON *list, *o, *a;
	int64_t first, id;

	first = add(f->db, "ann@example.com", PEOPLE_ROLE_LEARNER);
	assert_int_equal(people_user_add(f->db, &u, &id), 0);
	assert_int_equal(people_users_json(f->db, &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 2);
	o = cJSON_GetArrayItem(list, 0);
	assert_int_equal(cJSON_GetObjectItem(o, "id")->valuedouble, first);
	assert_string_equal(cJSON_GetObjectItem(o, "role")->valuestring,
			    "learner");
	o = cJSON_GetArrayItem(list, 1);
	assert_string_equal(cJSON_GetObjectItem(o, "email")->valuestring,
			    "cy@example.com");
	assert_string_equal(cJSON_GetObjectItem(o, "role")->valuestring,
			    "manager");
	assert_string_equal(cJSON_GetObjectItem(o, "created_at")->valuestring,
			    "2027-01-15T08:00:00Z");
	a = cJSON_GetObjectItem(o, "attributes");
	assert_string_equal(cJSON_GetObjectItem(a, "location")->valuestring,
			    "Bonn");
	assert_string_equal(cJSON_GetObjectItem(a, "department")->valuestring,
			    "Care");
	assert_null(cJSON_GetObjectItem(o, "password_hash"));
	cJSON_Delete(list);
}

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	char token[PEOPLE_SECRET_LEN + 1], other[PEOPLE_SECRET_LEN + 1];
	int64_t ann = add(f->db, "ann@example.com", PEOPLE_ROLE_ADMIN), who;

	assert_int_equal(people_token_create(f->db, ann, NOW, token), 0);
	assert_int_equal(strlen(token), PEOPLE_SECRET_LEN);
	assert_int_equal(people_token_create(f->db, ann, NOW, other), 0);
	assert_string_not_equal(token, other);
	assert_int_equal(people_token_user(f->db, token, &who), 0);
	assert_int_equal(who, ann);
	/* only the hash is stored */
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM api_tokens"
				     " WHERE token_hash = ?1", token), 0);
	token[0] = token[0] == 'a' ? 'b' : 'a';
	assert_int_equal(people_token_user(f->db, token, &who),
			 STORE_ENOTFOUND);
	assert_int_equal(people_token_user(f->db, "", &who), STORE_ENOTFOUND);
	assert_int_equal(people_token_user(f->db, "zz", &who),
			 STORE_ENOTFOUND);
	assert_int_equal(people_token_create(f->db, ann + 5, NOW, other),
			 STORE_ENOTFOUND);
}

static void test_sessions(void **state)
{
	struct fixture *f = *state;
	char id[PEOPLE_SECRET_LEN + 1], csrf[PEOPLE_SECRET_LEN + 1];
	char got[PEOPLE_SECRET_LEN + 1], id2[PEOPLE_SECRET_LEN + 1];
	int64_t ann = add(f->db, "ann@example.com", PEOPLE_ROLE_ADMIN), who;

	assert_int_equal(people_session_create(f->db, ann, NOW, id, csrf), 0);
	assert_string_not_equal(id, csrf);
	assert_int_equal(people_session_get(f->db, id, NOW + 60, &who, got),
			 0);
	assert_int_equal(who, ann);
	assert_string_equal(got, csrf);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM sessions"
				     " WHERE id_hash = ?1", id), 0);
	/* 12 hours, not a second more */
	assert_int_equal(people_session_get(f->db, id,
					    NOW + PEOPLE_SESSION_SECONDS - 1,
					    &who, got), 0);
	assert_int_equal(people_session_get(f->db, id,
					    NOW + PEOPLE_SESSION_SECONDS,
					    &who, got), STORE_ENOTFOUND);
	/* a later login sweeps the expired session away */
	assert_int_equal(people_session_create(f->db, ann,
					       NOW + PEOPLE_SESSION_SECONDS,
					       id2, csrf), 0);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM sessions"
				     " WHERE ?1 IS NOT NULL", "x"), 1);
	assert_int_equal(people_session_delete(f->db, id2), 0);
	assert_int_equal(people_session_get(f->db, id2,
					    NOW + PEOPLE_SESSION_SECONDS + 1,
					    &who, got), STORE_ENOTFOUND);
	assert_int_equal(people_session_delete(f->db, "nonsense"), 0);
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email_rules),
		cmocka_unit_test(test_roles),
		DB_TEST(test_user_add_and_find),
		DB_TEST(test_user_add_refuses_bad_values),
		DB_TEST(test_users_json),
		DB_TEST(test_tokens),
		DB_TEST(test_sessions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
