/*
 * Unit tests of workspace/digest.c over a real workspace.db: a
 * manager's overdue copies become one mail listing every learner and
 * course (at most DIGEST_LIST_MAX lines, the rest counted), a single
 * copy the mail of one in the manager's language, each copy is mailed
 * once, an address the outbox refuses is not tried again, and the
 * learners' own reminders are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/digest.c"
#include "workspace/store.h"

#include "ws_fixture.h"

#define NOW 1801123200 /* 2027-01-28T08:00:00Z */

static const struct digest_params params = {
	.web_url = "https://academy.example", .language = "de",
};

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The text of column col of the only outbox row to email. */
static char *outbox(sqlite3 *db, const char *email, const char *col)
{
	char sql[160];
	sqlite3_stmt *st;
	char *s;

	snprintf(sql, sizeof(sql), "SELECT %s FROM mail_outbox WHERE "
		 "recipient = ?1", col);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	s = strdup((const char *)sqlite3_column_text(st, 0));
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return s;
}

/* A course, the manager (id 1) and learners 2 .. n + 1, each with a
 * copy of an overdue reminder to the manager not mailed yet. */
static void academy(sqlite3 *db, const char *manager_email,
		    const char *language, int n)
{
	char sql[512];

	exec(db, "INSERT INTO courses (id, origin, revision, title, "
		 "published_at, updated_at) VALUES ('hygiene', 'mother', "
		 "'1111111111111111111111111111111111111111', 'Hygiene', 0, "
		 "0)");
	snprintf(sql, sizeof(sql), "INSERT INTO users (id, email, name, role, "
		 "created_at, language) VALUES (1, '%s', 'Mia Meister', "
		 "'manager', 0, %s)", manager_email, language);
	exec(db, sql);
	for (int i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO users (id, email, name, created_at) "
			 "VALUES (%d, 'l%03d@example.org', 'Lerner %03d', 0);"
			 "INSERT INTO reminders (user_id, course_id, round, "
			 "entry, recipient_id, role, created_at, due) VALUES "
			 "(%d, 'hygiene', 'due:0:2027-01-20', '+7', 1, "
			 "'manager', 0, '2027-01-20');"
			 "INSERT INTO reminders (user_id, course_id, round, "
			 "entry, recipient_id, role, created_at, due) VALUES "
			 "(%d, 'hygiene', 'due:0:2027-01-20', '+7', %d, "
			 "'learner', 0, '2027-01-20')",
			 i + 2, i, i, i + 2, i + 2, i + 2);
		exec(db, sql);
	}
}

/* Lines of text that start with prefix. */
static int lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		n += !strncmp(p, prefix, strlen(prefix));
	}
	return n;
}

static void test_digest_many(void **state)
{
	struct ws_fixture *f = *state;
	char *body, *subject, *key;
	int mails = -1;

	academy(f->db, "mia@example.org", "NULL", 120);
	assert_int_equal(digest_send(f->db, NOW, &params, &mails), 0);
	assert_int_equal(mails, 1);
	body = outbox(f->db, "mia@example.org", "body");
	subject = outbox(f->db, "mia@example.org", "subject");
	key = outbox(f->db, "mia@example.org", "dedup_key");
	assert_non_null(strstr(subject, "120"));
	assert_non_null(strstr(body, "Hallo Mia Meister"));
	assert_non_null(strstr(body, "- Lerner 000: Hygiene (20.01.2027)\n"));
	assert_non_null(strstr(body, "- Lerner 099: Hygiene (20.01.2027)\n"));
	assert_null(strstr(body, "Lerner 100"));
	assert_int_equal(lines(body, "- Lerner "), DIGEST_LIST_MAX);
	assert_non_null(strstr(body, "- ... und 20 weitere\n"));
	assert_non_null(strstr(body, "https://academy.example/#/admin/"
				     "compliance?status=overdue"));
	assert_string_equal(key, "digest:1");
	/* every copy notes the mail; the learners' rows are left alone */
	assert_int_equal(count(f->db, "SELECT count(*) FROM reminders r JOIN "
				      "mail_outbox m ON m.id = r.mail_id "
				      "WHERE r.role = 'manager'"), 120);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reminders WHERE "
				      "role = 'learner' AND mail_id IS "
				      "NULL"), 120);
	/* once */
	assert_int_equal(digest_send(f->db, NOW + 60, &params, &mails), 0);
	assert_int_equal(mails, 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM mail_outbox"), 1);
	free(body);
	free(subject);
	free(key);
}

static void test_digest_one(void **state)
{
	struct ws_fixture *f = *state;
	char *body, *subject, *key;
	int mails = -1;

	academy(f->db, "mia@example.org", "'en'", 1);
	assert_int_equal(digest_send(f->db, NOW, &params, &mails), 0);
	assert_int_equal(mails, 1);
	body = outbox(f->db, "mia@example.org", "body");
	subject = outbox(f->db, "mia@example.org", "subject");
	key = outbox(f->db, "mia@example.org", "dedup_key");
	assert_string_equal(subject, "Overdue: Hygiene of Lerner 000");
	assert_non_null(strstr(body, "Hello Mia Meister"));
	assert_non_null(strstr(body, "it was due on 2027-01-20"));
	assert_non_null(strstr(body, "https://academy.example/#/course/"
				     "hygiene"));
	assert_string_equal(key, "reminder:1");
	free(body);
	free(subject);
	free(key);
}

static void test_digest_refused(void **state)
{
	struct ws_fixture *f = *state;
	int mails = -1;

	academy(f->db, "mia;x@example.org", "NULL", 3);
	assert_int_equal(digest_send(f->db, NOW, &params, &mails), 0);
	assert_int_equal(mails, 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM mail_outbox"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reminders WHERE "
				      "role = 'manager' AND mail_id = 0"),
			 3);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reminders WHERE "
				      "role = 'manager' AND mail_id IS "
				      "NULL"), 0);
}

static void test_digest_nothing(void **state)
{
	struct ws_fixture *f = *state;
	int mails = -1;

	assert_int_equal(digest_send(f->db, NOW, &params, &mails), 0);
	assert_int_equal(mails, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_digest_many, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_digest_one, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_digest_refused, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_digest_nothing, ws_setup,
						ws_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
