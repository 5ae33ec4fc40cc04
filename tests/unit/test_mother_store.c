/*
 * Unit tests of the mother's store (mother/store.c): enrollment tokens,
 * loading events with their packs, stream heads and acknowledgements
 * that never move back. The store is compiled into this test directly,
 * as the unit build links only the shared libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../mother/store.c"

#include "common/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REV_1 "1111111111111111111111111111111111111111"
#define REV_2 "2222222222222222222222222222222222222222"

struct fixture {
	char dir[64];
	sqlite3 *db;
};

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* A tenant t1 licensed for course c1, whose stream holds two events. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *path;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_mother_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	path = fs_join(f->dir, "mother.db");
	assert_int_equal(store_open(path, &f->db), 0);
	free(path);
	exec(f->db,
	     "INSERT INTO courses (id, title, revision, created_at)"
	     " VALUES ('c1', 'Course', '" REV_2 "', 0);"
	     "INSERT INTO tenants (id, name, created_at, last_seq)"
	     " VALUES ('t1', 'Tenant', 0, 2);"
	     "INSERT INTO licences (tenant, course, stream_rev)"
	     " VALUES ('t1', 'c1', '" REV_2 "');"
	     "INSERT INTO packs (id, course, from_rev, to_rev, sha256, data)"
	     " VALUES (1, 'c1', '', '" REV_1 "', zeroblob(32), x'5041434b'),"
	     " (2, 'c1', '" REV_1 "', '" REV_2 "', zeroblob(32), x'00');"
	     "INSERT INTO events VALUES ('t1', 1, 'c1', '', '" REV_1
	     "', 1, 100, 1), ('t1', 2, 'c1', '" REV_1 "', '" REV_2
	     "', 1, 200, 2);");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sqlite3_close_v2(f->db);
	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

static void acked(sqlite3 *db, int64_t *seq, char rev[41])
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT t.acked_seq, coalesce(l.acked_rev, '') FROM tenants t"
		" JOIN licences l ON l.tenant = t.id WHERE t.id = 't1'");

	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*seq = sqlite3_column_int64(st, 0);
	snprintf(rev, 41, "%s", db_text(st, 1));
	sqlite3_finalize(st);
}

static void test_load_event(void **state)
{
	struct fixture *f = *state;
	struct store_event e;
	uint64_t head = 0;

	assert_int_equal(store_load_event(f->db, "t1", 1, &e), 0);
	assert_int_equal(e.seq, 1);
	assert_string_equal(e.course, "c1");
	assert_string_equal(e.prev_rev, "");
	assert_string_equal(e.new_rev, REV_1);
	assert_int_equal(e.time, 100);
	assert_int_equal(e.pack.len, 4);
	assert_memory_equal(e.pack.data, "PACK", 4);
	buf_release(&e.pack);

	assert_int_equal(store_load_event(f->db, "t1", 3, &e), 1);
	assert_int_equal(store_load_event(f->db, "t2", 1, &e), 1);
	assert_int_equal(store_stream_head(f->db, "t1", &head), 0);
	assert_int_equal(head, 2);
	assert_int_equal(store_stream_head(f->db, "nobody", &head), -1);
}

static void test_ack_moves_forward_only(void **state)
{
	struct fixture *f = *state;
	char rev[41];
	int64_t seq;

	assert_int_equal(store_ack(f->db, "t1", 1, 10), 0);
	acked(f->db, &seq, rev);
	assert_int_equal(seq, 1);
	assert_string_equal(rev, REV_1);

	assert_int_equal(store_ack(f->db, "t1", 2, 20), 0);
	acked(f->db, &seq, rev);
	assert_int_equal(seq, 2);
	assert_string_equal(rev, REV_2);

	/* a late acknowledgement of an older session */
	assert_int_equal(store_ack(f->db, "t1", 1, 30), 0);
	acked(f->db, &seq, rev);
	assert_int_equal(seq, 2);
	assert_string_equal(rev, REV_2);
}

static void test_token_once(void **state)
{
	struct fixture *f = *state;
	uint8_t pub[CRYPTO_PUBKEY_LEN], stored[CRYPTO_PUBKEY_LEN];
	const char *reason = NULL;
	char tenant[65];

	memset(pub, 7, sizeof(pub));
	assert_int_equal(store_set_token(f->db, "t1", "secret", 1000), 0);
	assert_int_equal(store_tenant_key(f->db, "t1", stored), 1);

	assert_int_equal(store_redeem_token(f->db, "wrong", 10, pub, tenant,
					    &reason), 1);
	assert_string_equal(reason, "unknown enrollment token");

	assert_int_equal(store_redeem_token(f->db, "secret", 10, pub, tenant,
					    &reason), 0);
	assert_string_equal(tenant, "t1");
	assert_int_equal(store_tenant_key(f->db, "t1", stored), 0);
	assert_memory_equal(stored, pub, sizeof(pub));

	assert_int_equal(store_redeem_token(f->db, "secret", 10, pub, tenant,
					    &reason), 1);
	assert_string_equal(reason, "enrollment token already used");
}

static void test_token_expires(void **state)
{
	struct fixture *f = *state;
	uint8_t pub[CRYPTO_PUBKEY_LEN] = { 0 };
	const char *reason = NULL;
	char tenant[65];

	assert_int_equal(store_set_token(f->db, "t1", "late", 1000), 0);
	assert_int_equal(store_redeem_token(f->db, "late", 1001, pub, tenant,
					    &reason), 1);
	assert_string_equal(reason, "enrollment token expired");
	assert_int_equal(store_tenant_key(f->db, "t1", pub), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_event, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ack_moves_forward_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token_expires, setup,
						teardown),
	};

	log_init("test_mother_store", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
