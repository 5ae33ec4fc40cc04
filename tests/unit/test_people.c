/*
 * Unit tests of workspace/people.c: emails checked and lower-cased, one
 * user per email, attributes kept, tokens and sessions found only by the
 * secret handed out (never stored in the clear), sessions that expire
 * and end; a user changed all or nothing, never losing the last admin;
 * password links that work once, expire, replace each other and end the
 * other sessions; reset requests kept bounded; and the bookkeeping of
 * the login throttle (per account, per address, windows, a bounded
 * table). The store and people sources are compiled in directly, as the
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
#include "common/password.h"

#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000

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
	struct ws_fixture *f = *state;
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
	struct ws_fixture *f = *state;
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
	struct ws_fixture *f = *state;
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
	struct ws_fixture *f = *state;
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
	struct ws_fixture *f = *state;
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

/* Runs SQL that must succeed. */
static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_user_update(void **state)
{
	struct ws_fixture *f = *state;
	int64_t ann = add(f->db, "ann@example.com", PEOPLE_ROLE_ADMIN);
	int64_t bob = add(f->db, "bob@example.com", PEOPLE_ROLE_LEARNER);
	struct people_attr set[] = { { "department", "Care" },
				     { "location", "Bonn" } };
	struct people_attr unset[] = { { "location", NULL },
				       { "ward", "3" } };
	struct people_attr bad[] = { { "department", "IT" },
				     { "Bad Key", "x" } };
	struct people_user_patch p = { .name = "Bob B.", .set_role = 1,
				       .role = PEOPLE_ROLE_MANAGER,
				       .attrs = set, .nattrs = 2,
				       .set_language = 1, .language = "de" };
	struct people_user got;
	char hash[PASSWORD_HASH_MAX];
	cJSON *o, *a;

	assert_int_equal(people_user_update(f->db, bob, &p), 0);
	assert_int_equal(people_user_by_id(f->db, bob, &got), 0);
	assert_string_equal(got.name, "Bob B.");
	assert_int_equal(got.role, PEOPLE_ROLE_MANAGER);
	assert_string_equal(got.language, "de");

	/* null removes a key, others are set; the rest stays */
	p = (struct people_user_patch){ .attrs = unset, .nattrs = 2,
					.set_language = 1,
					.password_hash = "$argon2id$y" };
	assert_int_equal(people_user_update(f->db, bob, &p), 0);
	assert_int_equal(people_user_get_json(f->db, bob, &o), 0);
	a = cJSON_GetObjectItem(o, "attributes");
	assert_int_equal(cJSON_GetArraySize(a), 2);
	assert_string_equal(cJSON_GetObjectItem(a, "department")->valuestring,
			    "Care");
	assert_string_equal(cJSON_GetObjectItem(a, "ward")->valuestring, "3");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "language")));
	assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring,
			    "Bob B.");
	cJSON_Delete(o);
	assert_int_equal(people_password_hash_get(f->db, bob, hash,
						  sizeof(hash)), 0);
	assert_string_equal(hash, "$argon2id$y");

	/* a bad value changes nothing at all */
	p = (struct people_user_patch){ .name = "Robert", .attrs = bad,
					.nattrs = 2 };
	assert_int_equal(people_user_update(f->db, bob, &p), STORE_EINVAL);
	p = (struct people_user_patch){ .name = "Robert", .set_language = 1,
					.language = "fr" };
	assert_int_equal(people_user_update(f->db, bob, &p), STORE_EINVAL);
	assert_int_equal(people_user_by_id(f->db, bob, &got), 0);
	assert_string_equal(got.name, "Bob B.");
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "user_attributes WHERE value = ?1", "IT"),
			 0);

	/* the last admin keeps the role; with a second one it may go */
	p = (struct people_user_patch){ .name = "Ann A.", .set_role = 1,
					.role = PEOPLE_ROLE_LEARNER };
	assert_int_equal(people_user_update(f->db, ann, &p),
			 PEOPLE_ELASTADMIN);
	assert_int_equal(people_user_by_id(f->db, ann, &got), 0);
	assert_int_equal(got.role, PEOPLE_ROLE_ADMIN);
	assert_string_equal(got.name, "Ann Example");
	add(f->db, "cy@example.com", PEOPLE_ROLE_ADMIN);
	assert_int_equal(people_user_update(f->db, ann, &p), 0);
	assert_int_equal(people_user_update(f->db, ann + 99, &p),
			 STORE_ENOTFOUND);
}

/* The token of a link path. */
static const char *link_token(const char *url)
{
	assert_int_equal(strncmp(url, PEOPLE_LINK_PATH,
				 strlen(PEOPLE_LINK_PATH)), 0);
	assert_int_equal(strlen(url + strlen(PEOPLE_LINK_PATH)),
			 PEOPLE_SECRET_LEN);
	return url + strlen(PEOPLE_LINK_PATH);
}

static void test_links(void **state)
{
	struct ws_fixture *f = *state;
	int64_t ann = add(f->db, "ann@example.com", PEOPLE_ROLE_LEARNER), who;
	char url[PEOPLE_LINK_URL_MAX], reset[PEOPLE_LINK_URL_MAX];
	char old[PEOPLE_SECRET_LEN + 1], csrf[PEOPLE_SECRET_LEN + 1];
	char id[PEOPLE_SECRET_LEN + 1], hash[PASSWORD_HASH_MAX];
	enum people_link_kind kind;
	int64_t expires;

	assert_int_equal(people_link_create(f->db, ann, PEOPLE_LINK_INVITE,
					    NOW, url, &expires), 0);
	assert_int_equal(expires, NOW + 7 * 24 * 3600);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM user_links"
				     " WHERE token_hash = ?1",
				     link_token(url)), 0);
	assert_int_equal(people_link_check(f->db, link_token(url),
					   expires - 1, &who, &kind), 0);
	assert_int_equal(who, ann);
	assert_int_equal(kind, PEOPLE_LINK_INVITE);
	assert_int_equal(people_link_check(f->db, link_token(url), expires,
					   &who, &kind), STORE_ENOTFOUND);

	/* a reset link lasts an hour and lives beside the invitation */
	assert_int_equal(people_link_create_by_email(f->db, "ANN@example.com",
						     PEOPLE_LINK_RESET, NOW,
						     reset, &expires), 0);
	assert_int_equal(expires, NOW + 3600);
	assert_int_equal(people_link_check(f->db, link_token(reset),
					   NOW + 3600, &who, &kind),
			 STORE_ENOTFOUND);
	assert_int_equal(people_link_check(f->db, link_token(url), NOW + 60,
					   &who, &kind), 0);

	/* redeemed: the password is set, other sessions end, a session
	 * starts, and the link is gone */
	assert_int_equal(people_session_create(f->db, ann, NOW, old, csrf), 0);
	assert_int_equal(people_link_redeem(f->db, link_token(url),
					    "$argon2id$new", NOW + 60, &who,
					    id, csrf), 0);
	assert_int_equal(who, ann);
	assert_int_equal(people_password_hash_get(f->db, ann, hash,
						  sizeof(hash)), 0);
	assert_string_equal(hash, "$argon2id$new");
	assert_int_equal(people_session_get(f->db, old, NOW + 61, &who, csrf),
			 STORE_ENOTFOUND);
	assert_int_equal(people_session_get(f->db, id, NOW + 61, &who, csrf),
			 0);
	assert_int_equal(people_link_redeem(f->db, link_token(url),
					    "$argon2id$again", NOW + 62, &who,
					    id, csrf), STORE_ENOTFOUND);
	assert_int_equal(people_password_hash_get(f->db, ann, hash,
						  sizeof(hash)), 0);
	assert_string_equal(hash, "$argon2id$new");
	/* the reset link is of the other kind: it still works */
	assert_int_equal(people_link_check(f->db, link_token(reset), NOW + 63,
					   &who, &kind), 0);
	assert_int_equal(kind, PEOPLE_LINK_RESET);

	/* a newer link replaces the older one of its kind */
	strcpy(old, link_token(reset));
	assert_int_equal(people_link_create(f->db, ann, PEOPLE_LINK_RESET,
					    NOW + 100, reset, &expires), 0);
	assert_int_equal(people_link_check(f->db, old, NOW + 101, &who, &kind),
			 STORE_ENOTFOUND);
	assert_int_equal(people_link_redeem(f->db, old, "$argon2id$x",
					    NOW + 101, &who, id, csrf),
			 STORE_ENOTFOUND);

	/* unknown users and tokens that cannot be ours */
	assert_int_equal(people_link_create(f->db, ann + 9, PEOPLE_LINK_INVITE,
					    NOW, url, &expires),
			 STORE_ENOTFOUND);
	assert_int_equal(people_link_create_by_email(f->db, "x@example.com",
						     PEOPLE_LINK_INVITE, NOW,
						     url, &expires),
			 STORE_ENOTFOUND);
	assert_int_equal(people_link_check(f->db, "", NOW, &who, &kind),
			 STORE_ENOTFOUND);
	assert_int_equal(people_link_check(f->db, "ZZ", NOW, &who, &kind),
			 STORE_ENOTFOUND);

	/* expired links are swept when the next one is made */
	assert_int_equal(people_link_create(f->db, add(f->db, "bo@example.com",
						       PEOPLE_ROLE_LEARNER),
					    PEOPLE_LINK_INVITE, NOW + 3700,
					    url, &expires), 0);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM user_links "
				     "WHERE kind = ?1", "reset"), 0);
}

static void test_sessions_end(void **state)
{
	struct ws_fixture *f = *state;
	int64_t ann = add(f->db, "ann@example.com", PEOPLE_ROLE_LEARNER), who;
	int64_t bob = add(f->db, "bob@example.com", PEOPLE_ROLE_LEARNER);
	char a1[PEOPLE_SECRET_LEN + 1], a2[PEOPLE_SECRET_LEN + 1];
	char b1[PEOPLE_SECRET_LEN + 1], csrf[PEOPLE_SECRET_LEN + 1];

	assert_int_equal(people_session_create(f->db, ann, NOW, a1, csrf), 0);
	assert_int_equal(people_session_create(f->db, ann, NOW, a2, csrf), 0);
	assert_int_equal(people_session_create(f->db, bob, NOW, b1, csrf), 0);
	assert_int_equal(people_sessions_end(f->db, ann, a2), 0);
	assert_int_equal(people_session_get(f->db, a1, NOW, &who, csrf),
			 STORE_ENOTFOUND);
	assert_int_equal(people_session_get(f->db, a2, NOW, &who, csrf), 0);
	assert_int_equal(people_sessions_end(f->db, ann, NULL), 0);
	assert_int_equal(people_session_get(f->db, a2, NOW, &who, csrf),
			 STORE_ENOTFOUND);
	assert_int_equal(people_session_get(f->db, b1, NOW, &who, csrf), 0);
}

static void test_reset_requests(void **state)
{
	struct ws_fixture *f = *state;
	char sql[160];

	assert_int_equal(people_reset_request(f->db, "Ann@Example.com", NOW),
			 0);
	assert_int_equal(people_reset_request(f->db, "ann@example.com",
					      NOW + 5), 0);
	assert_int_equal(people_reset_request(f->db, "no email", NOW + 5), 0);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "reset_requests WHERE email = ?1",
				     "ann@example.com"), 1);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "reset_requests WHERE ?1 IS NOT NULL",
				     "x"), 1);
	/* an hour later the old request is gone */
	assert_int_equal(people_reset_request(f->db, "bob@example.com",
					      NOW + 5 + 3600), 0);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "reset_requests WHERE email = ?1",
				     "ann@example.com"), 0);

	/* a flood of emails keeps at most PEOPLE_REQUESTS_MAX, the newest */
	snprintf(sql, sizeof(sql), "WITH RECURSIVE n (i) AS (SELECT 1 UNION "
		 "ALL SELECT i + 1 FROM n WHERE i < %d) INSERT INTO "
		 "reset_requests SELECT i || '@x.de', %d FROM n",
		 PEOPLE_REQUESTS_MAX + 10, NOW + 3700);
	exec(f->db, sql);
	assert_int_equal(people_reset_request(f->db, "cy@example.com",
					      NOW + 3800), 0);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "reset_requests WHERE ?1 IS NOT NULL",
				     "x"), PEOPLE_REQUESTS_MAX);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "reset_requests WHERE email = ?1",
				     "cy@example.com"), 1);
}

static int attempt(sqlite3 *db, const char *email, const char *addr,
		   int64_t now, int64_t *retry)
{
	*retry = -1;
	return people_throttle_attempt(db, email, addr, now, retry);
}

static void test_throttle_account(void **state)
{
	struct ws_fixture *f = *state;
	int64_t retry;

	for (int i = 0; i < PEOPLE_THROTTLE_ACCOUNT; i++)
		assert_int_equal(attempt(f->db, "ann@example.com", "10.0.0.1",
					 NOW + i, &retry), 0);
	/* the sixth is refused, from any address, in any case; refused
	 * attempts do not prolong the window */
	assert_int_equal(attempt(f->db, "ANN@example.com", "10.0.0.2",
				 NOW + 100, &retry), PEOPLE_ETHROTTLED);
	assert_int_equal(retry, PEOPLE_THROTTLE_WINDOW - 100);
	assert_int_equal(attempt(f->db, "ann@example.com", "10.0.0.1",
				 NOW + PEOPLE_THROTTLE_WINDOW - 1, &retry),
			 PEOPLE_ETHROTTLED);
	assert_int_equal(retry, 1);
	/* another account from the same address goes on */
	assert_int_equal(attempt(f->db, "bob@example.com", "10.0.0.1",
				 NOW + 100, &retry), 0);
	/* the window passes */
	assert_int_equal(attempt(f->db, "ann@example.com", "10.0.0.1",
				 NOW + PEOPLE_THROTTLE_WINDOW, &retry), 0);

	/* a success starts the account afresh */
	for (int i = 1; i < PEOPLE_THROTTLE_ACCOUNT; i++)
		assert_int_equal(attempt(f->db, "ann@example.com", "10.0.0.1",
					 NOW + PEOPLE_THROTTLE_WINDOW + i,
					 &retry), 0);
	assert_int_equal(people_throttle_success(f->db, "ann@example.com",
						 "10.0.0.1"), 0);
	for (int i = 0; i < PEOPLE_THROTTLE_ACCOUNT; i++)
		assert_int_equal(attempt(f->db, "ann@example.com", "10.0.0.1",
					 NOW + PEOPLE_THROTTLE_WINDOW + 10,
					 &retry), 0);
	assert_int_equal(attempt(f->db, "ann@example.com", "",
				 NOW + PEOPLE_THROTTLE_WINDOW + 10, &retry),
			 PEOPLE_ETHROTTLED);
	/* only the hash of the email is kept */
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "login_failures WHERE key LIKE ?1",
				     "%example%"), 0);
}

static void test_throttle_address(void **state)
{
	struct ws_fixture *f = *state;
	char email[32];
	int64_t retry;

	for (int i = 0; i < PEOPLE_THROTTLE_ADDRESS; i++) {
		snprintf(email, sizeof(email), "u%d@example.com", i);
		assert_int_equal(attempt(f->db, email, "::1", NOW + i, &retry),
				 0);
	}
	assert_int_equal(attempt(f->db, "new@example.com", "::1", NOW + 30,
				 &retry), PEOPLE_ETHROTTLED);
	assert_int_equal(retry, PEOPLE_THROTTLE_WINDOW - 30);
	assert_int_equal(attempt(f->db, "new@example.com", "::2", NOW + 30,
				 &retry), 0);
	/* a success gives its attempt back to the address */
	assert_int_equal(people_throttle_success(f->db, "u0@example.com",
						 "::1"), 0);
	assert_int_equal(attempt(f->db, "new@example.com", "::1", NOW + 31,
				 &retry), 0);
	assert_int_equal(attempt(f->db, "new@example.com", "::1", NOW + 32,
				 &retry), PEOPLE_ETHROTTLED);
}

static void test_throttle_bounded(void **state)
{
	struct ws_fixture *f = *state;
	char sql[200];
	int64_t retry;

	/* rows of past windows go with the next attempt */
	assert_int_equal(attempt(f->db, "a@example.com", "10.0.0.1", NOW,
				 &retry), 0);
	assert_int_equal(attempt(f->db, "b@example.com", "10.0.0.2",
				 NOW + PEOPLE_THROTTLE_WINDOW, &retry), 0);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "login_failures WHERE key = ?1",
				     "10.0.0.1"), 0);

	/* an address flood keeps at most PEOPLE_THROTTLE_ROWS per kind */
	snprintf(sql, sizeof(sql), "WITH RECURSIVE n (i) AS (SELECT 1 UNION "
		 "ALL SELECT i + 1 FROM n WHERE i < %d) INSERT INTO "
		 "login_failures SELECT 'address', 'f' || i, %d, 1 FROM n",
		 PEOPLE_THROTTLE_ROWS + 50, NOW + PEOPLE_THROTTLE_WINDOW + 1);
	exec(f->db, sql);
	assert_int_equal(attempt(f->db, "c@example.com", "10.0.0.3",
				 NOW + PEOPLE_THROTTLE_WINDOW + 2, &retry), 0);
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "login_failures WHERE kind = ?1",
				     "address"), PEOPLE_THROTTLE_ROWS);
	/* the newest, the one just counted, is kept */
	assert_int_equal(count_where(f->db, "SELECT count(*) FROM "
				     "login_failures WHERE key = ?1",
				     "10.0.0.3"), 1);
}

/* A new password ends the user's other sessions in the same transaction:
 * when the sign-out cannot be written, the password stays the old one
 * (a client told "failed" must not find its password changed while the
 * sessions it meant to end live on). */
static void test_password_change_ends_sessions(void **state)
{
	struct ws_fixture *f = *state;
	int64_t ann = add(f->db, "ann@example.com", PEOPLE_ROLE_LEARNER), who;
	char keep[PEOPLE_SECRET_LEN + 1], other[PEOPLE_SECRET_LEN + 1];
	char csrf[PEOPLE_SECRET_LEN + 1], hash[PASSWORD_HASH_MAX];
	struct people_user_patch p = { .password_hash = "$argon2id$one" };

	assert_int_equal(people_session_create(f->db, ann, NOW, keep, csrf),
			 0);
	assert_int_equal(people_session_create(f->db, ann, NOW, other, csrf),
			 0);
	p.keep_session = keep;
	assert_int_equal(people_user_update(f->db, ann, &p), 0);
	assert_int_equal(people_session_get(f->db, keep, NOW, &who, csrf), 0);
	assert_int_equal(people_session_get(f->db, other, NOW, &who, csrf),
			 STORE_ENOTFOUND);

	/* the sign-out fails: nothing changes */
	assert_int_equal(sqlite3_exec(f->db, "CREATE TEMP TRIGGER no_end "
				      "BEFORE DELETE ON main.sessions BEGIN "
				      "SELECT RAISE(ABORT, 'busy'); END",
				      NULL, NULL, NULL), SQLITE_OK);
	p = (struct people_user_patch){ .password_hash = "$argon2id$two" };
	assert_int_equal(people_user_update(f->db, ann, &p), STORE_EDB);
	assert_int_equal(people_password_hash_get(f->db, ann, hash,
						  sizeof(hash)), 0);
	assert_string_equal(hash, "$argon2id$one");
	assert_int_equal(people_session_get(f->db, keep, NOW, &who, csrf), 0);
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, ws_setup, ws_teardown)

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
		DB_TEST(test_user_update),
		DB_TEST(test_links),
		DB_TEST(test_sessions_end),
		DB_TEST(test_password_change_ends_sessions),
		DB_TEST(test_reset_requests),
		DB_TEST(test_throttle_account),
		DB_TEST(test_throttle_address),
		DB_TEST(test_throttle_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
