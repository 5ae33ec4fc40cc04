/*
 * Unit tests of workspace/audit.c: the hash of an entry is the SHA-256
 * of the documented encoding (computed here by hand), entries chain,
 * the triggers refuse UPDATE and DELETE, and every way of tampering
 * with the table directly (after DROP TRIGGER) is named as the entry
 * changed, removed or inserted that it is. The store and audit sources
 * are compiled in directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/audit.c"
#include "../../workspace/store.c"

#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000
#define ZEROS AUDIT_ZEROS

static const struct audit_actor ann = { 7, "ann@example.org" };

/* The hash of text, as hex. */
static void sha_hex(const char *text, char out[65])
{
	uint8_t d[CRYPTO_SHA256_LEN];

	crypto_sha256(text, strlen(text), d);
	crypto_hex(d, sizeof(d), out);
}

static void test_hash_known(void **state)
{
	struct audit_entry e = { 1, NOW, 7, "a@x.org", "login", "user:7",
				 "{}", ZEROS, NULL };
	char want[65], got[65], text[256];

	(void)state;
	snprintf(text, sizeof(text), "1:1,10:1700000000,1:7,7:a@x.org,"
		 "5:login,6:user:7,2:{},64:%s,", ZEROS);
	sha_hex(text, want);
	assert_int_equal(audit_hash(&e, got), 0);
	assert_string_equal(got, want);

	/* no actor id: an empty field; a negative time keeps its sign */
	e.actor_id = 0;
	e.at = -5;
	snprintf(text, sizeof(text), "1:1,2:-5,0:,7:a@x.org,5:login,"
		 "6:user:7,2:{},64:%s,", ZEROS);
	sha_hex(text, want);
	assert_int_equal(audit_hash(&e, got), 0);
	assert_string_equal(got, want);

	/* a byte moved between fields changes the hash */
	e.actor = "a@x.orgl";
	e.action = "ogin";
	assert_int_equal(audit_hash(&e, got), 0);
	assert_string_not_equal(got, want);
}

/* Appends n entries "step.N" in one transaction. */
static void fill(sqlite3 *db, int n)
{
	char action[16], detail[32];

	assert_int_equal(db_begin(db), 0);
	for (int i = 1; i <= n; i++) {
		snprintf(action, sizeof(action), "step.%d", i);
		snprintf(detail, sizeof(detail), "{\"n\":%d}", i);
		assert_int_equal(audit_append(db, NOW + i, &ann, action,
					      "user:7", detail), 0);
	}
	assert_int_equal(db_commit(db), 0);
}

/* The stored hash of entry seq. */
static void hash_of(sqlite3 *db, int64_t seq, char out[65])
{
	sqlite3_stmt *st = db_prepare(db, "SELECT hash FROM audit_log "
					  "WHERE seq = ?1");

	assert_non_null(st);
	sqlite3_bind_int64(st, 1, seq);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, 65, "%s", db_text(st, 0));
	sqlite3_finalize(st);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void untrigger(sqlite3 *db)
{
	exec_ok(db, "DROP TRIGGER audit_log_no_update;"
		    "DROP TRIGGER audit_log_no_delete");
}

static void expect_problem(sqlite3 *db, const struct audit_expect *x,
			   enum audit_problem p, int64_t seq)
{
	struct audit_report r;
	char msg[64];

	assert_int_equal(audit_verify(db, x, &r), 0);
	snprintf(msg, sizeof(msg), "entry %lld was %s", (long long)seq,
		 audit_problem_name(p));
	if (p == AUDIT_INTACT)
		msg[0] = 0;
	assert_string_equal(r.message, msg);
	assert_int_equal(r.problem, p);
	assert_int_equal(r.problem_seq, p == AUDIT_INTACT ? 0 : seq);
}

static void test_chain(void **state)
{
	struct ws_fixture *f = *state;
	char h1[65], h2[65], head_hash[65];
	struct audit_report r;
	sqlite3_stmt *st;
	int64_t seq;

	assert_int_equal(audit_head(f->db, &seq, head_hash), 0);
	assert_int_equal(seq, 0);
	assert_string_equal(head_hash, ZEROS);
	expect_problem(f->db, NULL, AUDIT_INTACT, 0);

	fill(f->db, 3);
	st = db_prepare(f->db, "SELECT seq, prev_hash, hash, actor_id, actor "
			       "FROM audit_log ORDER BY seq");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 1);
	assert_string_equal(db_text(st, 1), ZEROS);
	assert_int_equal(sqlite3_column_int64(st, 3), 7);
	assert_string_equal(db_text(st, 4), "ann@example.org");
	snprintf(h1, sizeof(h1), "%s", db_text(st, 2));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 1), h1);
	snprintf(h2, sizeof(h2), "%s", db_text(st, 2));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 3);
	assert_string_equal(db_text(st, 1), h2);
	sqlite3_finalize(st);

	assert_int_equal(audit_head(f->db, &seq, head_hash), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(audit_verify(f->db, NULL, &r), 0);
	assert_int_equal(r.problem, AUDIT_INTACT);
	assert_int_equal(r.entries, 3);
	assert_int_equal(r.head_seq, 3);
	assert_string_equal(r.head_hash, head_hash);

	/* outside of a transaction the JSON form runs in one of its own */
	assert_int_equal(audit_append_json(f->db, NOW, &ann, "login.failed",
					   NULL, NULL), 0);
	assert_true(sqlite3_get_autocommit(f->db));
	expect_problem(f->db, NULL, AUDIT_INTACT, 0);
}

static void test_triggers_refuse(void **state)
{
	struct ws_fixture *f = *state;
	char *err = NULL;

	fill(f->db, 2);
	assert_int_not_equal(sqlite3_exec(f->db, "UPDATE audit_log SET "
					  "detail = '{}' WHERE seq = 1", NULL,
					  NULL, &err), SQLITE_OK);
	assert_non_null(strstr(err, "append-only"));
	sqlite3_free(err);
	err = NULL;
	assert_int_not_equal(sqlite3_exec(f->db, "DELETE FROM audit_log "
					  "WHERE seq = 2", NULL, NULL, &err),
			     SQLITE_OK);
	assert_non_null(strstr(err, "append-only"));
	sqlite3_free(err);
	expect_problem(f->db, NULL, AUDIT_INTACT, 0);
}

static void test_changed(void **state)
{
	struct ws_fixture *f = *state;

	fill(f->db, 5);
	untrigger(f->db);
	exec_ok(f->db, "UPDATE audit_log SET detail = '{\"n\":9}' "
		       "WHERE seq = 3");
	expect_problem(f->db, NULL, AUDIT_CHANGED, 3);
}

static void test_changed_hash_column(void **state)
{
	struct ws_fixture *f = *state;

	fill(f->db, 5);
	untrigger(f->db);
	exec_ok(f->db, "UPDATE audit_log SET hash = prev_hash WHERE seq = 4");
	expect_problem(f->db, NULL, AUDIT_CHANGED, 4);
}

/* Recomputes the stored hash of entry seq from its fields. */
static void rehash(sqlite3 *db, int64_t seq)
{
	sqlite3_stmt *st = db_prepare(db, AUDIT_SELECT "WHERE seq = ?1");
	struct audit_entry e;
	char hash[65], sql[160];

	sqlite3_bind_int64(st, 1, seq);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	audit_entry_from(st, &e);
	assert_int_equal(audit_hash(&e, hash), 0);
	sqlite3_finalize(st);
	snprintf(sql, sizeof(sql), "UPDATE audit_log SET hash = '%s' "
		 "WHERE seq = %lld", hash, (long long)seq);
	exec_ok(db, sql);
}

static void test_changed_and_rehashed(void **state)
{
	struct ws_fixture *f = *state;

	fill(f->db, 5);
	untrigger(f->db);
	exec_ok(f->db, "UPDATE audit_log SET actor = 'bob@example.org' "
		       "WHERE seq = 2");
	rehash(f->db, 2);
	expect_problem(f->db, NULL, AUDIT_CHANGED, 2);
}

static void test_removed(void **state)
{
	struct ws_fixture *f = *state;

	fill(f->db, 5);
	untrigger(f->db);
	exec_ok(f->db, "DELETE FROM audit_log WHERE seq = 3");
	expect_problem(f->db, NULL, AUDIT_REMOVED, 3);
}

static void test_removed_first(void **state)
{
	struct ws_fixture *f = *state;

	fill(f->db, 5);
	untrigger(f->db);
	exec_ok(f->db, "DELETE FROM audit_log WHERE seq = 1");
	expect_problem(f->db, NULL, AUDIT_REMOVED, 1);
}

static void test_removed_and_renumbered(void **state)
{
	struct ws_fixture *f = *state;

	fill(f->db, 5);
	untrigger(f->db);
	exec_ok(f->db, "DELETE FROM audit_log WHERE seq = 2;"
		       "UPDATE audit_log SET seq = seq - 1 WHERE seq > 2");
	expect_problem(f->db, NULL, AUDIT_REMOVED, 2);
}

static void test_removed_at_end(void **state)
{
	struct ws_fixture *f = *state;
	struct audit_expect x = { .seq = 5 };

	fill(f->db, 5);
	hash_of(f->db, 5, x.hash);
	expect_problem(f->db, &x, AUDIT_INTACT, 0);
	untrigger(f->db);
	exec_ok(f->db, "DELETE FROM audit_log WHERE seq = 5");
	/* the chain alone cannot tell; the head kept elsewhere can */
	expect_problem(f->db, NULL, AUDIT_INTACT, 0);
	expect_problem(f->db, &x, AUDIT_REMOVED, 5);
}

/* Inserts a forged entry at seq, chained to prev_hash and hashing
 * right. */
static void forge(sqlite3 *db, int64_t seq, const char *prev_hash)
{
	struct audit_entry e = { seq, NOW, 0, "cli", "user.role", "user:7",
				 "{\"role\":\"admin\"}", prev_hash, NULL };
	char hash[65], sql[512];

	assert_int_equal(audit_hash(&e, hash), 0);
	snprintf(sql, sizeof(sql), "INSERT INTO audit_log (seq, at, actor, "
		 "action, object, detail, prev_hash, hash) VALUES (%lld, %d, "
		 "'cli', 'user.role', 'user:7', '{\"role\":\"admin\"}', '%s', "
		 "'%s')", (long long)seq, NOW, prev_hash, hash);
	exec_ok(db, sql);
}

static void test_inserted_in_middle(void **state)
{
	struct ws_fixture *f = *state;
	char h2[65];

	fill(f->db, 5);
	untrigger(f->db);
	hash_of(f->db, 2, h2);
	/* make room at 3 (from the top, so seq stays unique) */
	for (int seq = 5; seq >= 3; seq--) {
		char sql[96];

		snprintf(sql, sizeof(sql), "UPDATE audit_log SET seq = %d "
			 "WHERE seq = %d", seq + 1, seq);
		exec_ok(f->db, sql);
	}
	forge(f->db, 3, h2);
	expect_problem(f->db, NULL, AUDIT_INSERTED, 3);
}

static void test_inserted_badly_linked(void **state)
{
	struct ws_fixture *f = *state;

	fill(f->db, 5);
	untrigger(f->db);
	exec_ok(f->db, "UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3;"
		       "UPDATE audit_log SET seq = seq - 9 WHERE seq >= 13");
	forge(f->db, 3, ZEROS);
	expect_problem(f->db, NULL, AUDIT_INSERTED, 3);
}

static void test_inserted_at_end(void **state)
{
	struct ws_fixture *f = *state;
	struct audit_expect x = { .seq = 5 };
	char h5[65];

	fill(f->db, 5);
	hash_of(f->db, 5, h5);
	memcpy(x.hash, h5, sizeof(h5));
	/* linked wrong: the chain shows it */
	forge(f->db, 6, ZEROS);
	expect_problem(f->db, NULL, AUDIT_INSERTED, 6);
	/* linked right: only a head held elsewhere could say; entries
	 * after that head are new ones */
	untrigger(f->db);
	exec_ok(f->db, "DELETE FROM audit_log WHERE seq = 6");
	forge(f->db, 6, h5);
	expect_problem(f->db, &x, AUDIT_INTACT, 0);
}

static void test_rewritten_chain(void **state)
{
	struct ws_fixture *f = *state;
	struct audit_expect x = { .seq = 4 };

	fill(f->db, 5);
	hash_of(f->db, 4, x.hash);
	untrigger(f->db);
	/* change entry 2 and rewrite every hash after it */
	exec_ok(f->db, "UPDATE audit_log SET detail = '{}' WHERE seq = 2");
	for (int seq = 2; seq <= 5; seq++) {
		char sql[128];

		rehash(f->db, seq);
		snprintf(sql, sizeof(sql), "UPDATE audit_log SET prev_hash = "
			 "(SELECT hash FROM audit_log WHERE seq = %d) WHERE "
			 "seq = %d", seq, seq + 1);
		exec_ok(f->db, sql);
	}
	expect_problem(f->db, NULL, AUDIT_INTACT, 0);
	expect_problem(f->db, &x, AUDIT_CHANGED, 4);
}

static void test_expect_parse(void **state)
{
	struct audit_expect x;
	char text[80];

	(void)state;
	snprintf(text, sizeof(text), "12:%s", ZEROS);
	assert_int_equal(audit_expect_parse(text, &x), 0);
	assert_int_equal(x.seq, 12);
	assert_string_equal(x.hash, ZEROS);
	assert_int_equal(audit_expect_parse("12", &x), -1);
	assert_int_equal(audit_expect_parse("12:abc", &x), -1);
	assert_int_equal(audit_expect_parse("-1:" ZEROS, &x), -1);
	text[5] = 'g';
	assert_int_equal(audit_expect_parse(text, &x), -1);
}

#define DB_TEST(t) cmocka_unit_test_setup_teardown(t, ws_setup, ws_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_known),
		cmocka_unit_test(test_expect_parse),
		DB_TEST(test_chain),
		DB_TEST(test_triggers_refuse),
		DB_TEST(test_changed),
		DB_TEST(test_changed_hash_column),
		DB_TEST(test_changed_and_rehashed),
		DB_TEST(test_removed),
		DB_TEST(test_removed_first),
		DB_TEST(test_removed_and_renumbered),
		DB_TEST(test_removed_at_end),
		DB_TEST(test_inserted_in_middle),
		DB_TEST(test_inserted_badly_linked),
		DB_TEST(test_inserted_at_end),
		DB_TEST(test_rewritten_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
