/*
 * Unit tests of workspace/compliance.c: the status rules (each status,
 * and which wins when several apply), when the next round of a
 * recurring assignment opens and is due, and runs over a real
 * workspace.db: a round opened once after a completion, the learner's
 * progress starting again in it, reminders of the schedule decided once
 * each (also when the run is repeated or several entries have passed),
 * an overdue one copied to the manager of a group above the learner,
 * the reminder before expiry, a retraining that asks for renewal, and
 * the list with its filters.
 *
 * The sources are compiled in directly, as the unit build links only the
 * shared libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/cert.c"
#include "../../workspace/certpdf.c"
#include "../../workspace/certtpl.c"
#include "../../workspace/image.c"
#include "../../workspace/compliance.c"
#include "../../workspace/apply.c"
#include "../../workspace/assign.c"
#include "../../workspace/batch.c"
#include "../../workspace/brand.c"
#include "../../workspace/coursecache.c"
#include "../../workspace/groups.c"
#include "../../workspace/learn.c"
#include "../../workspace/mail.c"
#include "../../workspace/mailtpl.c"
#include "../../workspace/people.c"
#include "../../workspace/settings.c"
#include "../../workspace/store.c"
#include "../../workspace/template.c"
#include "../../workspace/web.c"

#define WS_FIXTURE_STUBS
#include "ws_fixture.h"

#define DAY 86400
#define REV1 "1111111111111111111111111111111111111111"
#define REV2 "2222222222222222222222222222222222222222"

static int64_t at(const char *iso)
{
	int64_t t;

	assert_int_equal(clock_parse_iso(iso, &t), 0);
	return t;
}

/* ---- rules ---- */

static void test_status_rules(void **state)
{
	struct {
		const char *due;
		int has_cert, current, started;
		const char *expires, *now;
		enum compliance_status want;
	} cases[] = {
		{ "2027-01-20", 0, 0, 0, NULL, "2027-01-04T08:00:00Z",
		  COMPLIANCE_NOT_STARTED },
		{ "2027-01-20", 0, 0, 1, NULL, "2027-01-20T23:00:00Z",
		  COMPLIANCE_IN_PROGRESS },
		{ "2027-01-20", 0, 0, 1, NULL, "2027-01-21T00:00:00Z",
		  COMPLIANCE_OVERDUE },
		{ "2027-01-20", 1, 1, 1, "2028-01-20T08:00:00Z",
		  "2027-06-01T00:00:00Z", COMPLIANCE_COMPLETED },
		{ "2027-01-20", 1, 1, 1, "2028-01-20T08:00:00Z",
		  "2027-12-22T00:00:00Z", COMPLIANCE_EXPIRING_SOON },
		{ "2027-01-20", 1, 1, 1, "2028-01-20T08:00:00Z",
		  "2028-01-20T08:00:00Z", COMPLIANCE_EXPIRED },
		{ "2027-01-20", 1, 1, 1, NULL, "2099-01-01T00:00:00Z",
		  COMPLIANCE_COMPLETED },
		/* a new round, not done, while the last one still counts */
		{ "2028-01-20", 1, 0, 0, "2028-01-20T08:00:00Z",
		  "2027-12-22T00:00:00Z", COMPLIANCE_EXPIRING_SOON },
		{ "2028-01-20", 1, 0, 1, "2028-06-20T08:00:00Z",
		  "2027-12-22T00:00:00Z", COMPLIANCE_IN_PROGRESS },
		/* overdue wins over expired */
		{ "2028-01-20", 1, 0, 0, "2028-01-20T08:00:00Z",
		  "2028-01-25T00:00:00Z", COMPLIANCE_OVERDUE },
		{ "", 0, 0, 0, NULL, "2099-01-01T00:00:00Z",
		  COMPLIANCE_NOT_STARTED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct compliance_facts f = {
			.has_cert = cases[i].has_cert,
			.current = cases[i].current,
			.started = cases[i].started,
			.expires = cases[i].expires ? at(cases[i].expires) : 0,
		};

		snprintf(f.due, sizeof(f.due), "%s", cases[i].due);
		assert_string_equal(
			compliance_status_name(
				compliance_status_of(&f, at(cases[i].now))),
			compliance_status_name(cases[i].want));
	}
	assert_int_equal(compliance_status_parse("expiring_soon"),
			 COMPLIANCE_EXPIRING_SOON);
	assert_int_equal(compliance_status_parse("soon"), -1);
}

static void test_next_round(void **state)
{
	char due[COMPLIANCE_DATE_LEN + 1];
	int64_t issued = at("2027-01-31T08:00:00Z");
	int64_t expires = at("2028-01-31T08:00:00Z"), open;

	(void)state;
	assert_int_equal(compliance_next_round(0, 0, issued, expires, &open,
					       due), 0);
	/* every 11 months: opens at the end of February's... December */
	assert_int_equal(compliance_next_round(11, 0, issued, expires, &open,
					       due), 1);
	assert_int_equal(open, at("2027-12-31T08:00:00Z"));
	assert_string_equal(due, "2028-01-31");
	/* on expiry: 30 days before it, due when it runs out */
	assert_int_equal(compliance_next_round(0, 1, issued, expires, &open,
					       due), 1);
	assert_int_equal(open, expires - 30 * DAY);
	assert_string_equal(due, "2028-01-31");
	/* every 24 months with a certificate of 12: due 30 days after it
	 * opens, the certificate being gone by then */
	assert_int_equal(compliance_next_round(24, 0, issued, expires, &open,
					       due), 1);
	assert_int_equal(open, at("2029-01-31T08:00:00Z"));
	assert_string_equal(due, "2029-03-02");
	/* a certificate that does not expire, on expiry: no round */
	assert_int_equal(compliance_next_round(0, 1, issued, 0, &open, due),
			 0);
}

/* ---- runs over a database ---- */

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n;

	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Learner 2 (Pia) in group 2 below group 1, whose member 3 (Mia) is a
 * manager; the course assigned to group 2, due 2027-01-20, recurring on
 * expiry; the default schedule -14,0,+7,expiry-30. */
static void seed(sqlite3 *db)
{
	exec(db, "INSERT INTO users (id, email, name, role, created_at, "
		 "language) VALUES (1, 'ada@example.org', 'Ada', 'admin', 0, "
		 "NULL), (2, 'pia@example.org', 'Pia', 'learner', 0, 'de'), "
		 "(3, 'mia@example.org', 'Mia', 'manager', 0, 'en');"
		 "INSERT INTO groups (id, name, parent_id, created_at) VALUES "
		 "(1, 'Haus', NULL, 0), (2, 'Pflege', 1, 0);"
		 "INSERT INTO group_members (group_id, user_id, from_rule) "
		 "VALUES (2, 2, 0), (1, 3, 0);"
		 "INSERT INTO courses (id, origin, revision, title, "
		 "published_at, updated_at) VALUES ('hyg', 'local', '" REV1
		 "', 'Hygiene', 0, 0);"
		 "INSERT INTO course_versions (course_id, seq, revision, "
		 "retrain, committed_at, message) VALUES ('hyg', 1, '" REV1
		 "', 0, 0, 'first');"
		 "INSERT INTO assignments (course_id, group_id, due, "
		 "created_at, recur_on_expiry) VALUES ('hyg', 2, "
		 "'2027-01-20', 0, 1);");
}

static struct compliance_tally run_at(sqlite3 *db, const char *iso)
{
	struct compliance_tally t;

	assert_int_equal(compliance_run(db, at(iso), &t), 0);
	return t;
}

/* The status of Pia's course at iso, from the list. */
static const char *status_at(sqlite3 *db, const char *iso)
{
	static char out[32];
	struct compliance_filter f = { .user_id = 2, .status = -1 };
	const cJSON *s;
	cJSON *list;

	assert_int_equal(compliance_list_json(db, &f, at(iso), &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 1);
	s = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "status");
	snprintf(out, sizeof(out), "%s", s->valuestring);
	cJSON_Delete(list);
	return out;
}

static void test_reminders_once(void **state)
{
	struct ws_fixture *f = *state;
	struct compliance_tally t;

	seed(f->db);
	t = run_at(f->db, "2027-01-04T08:00:00Z");
	assert_int_equal(t.reminders, 0);
	assert_string_equal(status_at(f->db, "2027-01-04T08:00:00Z"),
			    "not_started");
	/* -14 has passed: once, however often it runs */
	assert_int_equal(run_at(f->db, "2027-01-07T08:00:00Z").reminders, 1);
	assert_int_equal(run_at(f->db, "2027-01-07T09:00:00Z").reminders, 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM mail_outbox "
				      "WHERE recipient = 'pia@example.org'"),
			 1);
	/* the due date and +7 have both passed: only +7, to the learner
	 * and to the manager of the group above */
	t = run_at(f->db, "2027-01-28T08:00:00Z");
	assert_int_equal(t.reminders, 2);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reminders WHERE "
				      "entry = '+7' AND role = 'manager' AND "
				      "recipient_id = 3"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reminders WHERE "
				      "entry = '0'"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM mail_outbox m "
				      "JOIN reminders r ON r.mail_id = m.id "
				      "WHERE m.recipient = 'mia@example.org' "
				      "AND m.body LIKE '%Pia%'"), 1);
	assert_int_equal(run_at(f->db, "2027-01-29T08:00:00Z").reminders, 0);
	assert_string_equal(status_at(f->db, "2027-01-28T08:00:00Z"),
			    "overdue");
}

/* A certificate for Pia issued at iso, valid 12 months, on rev. */
static void certify(sqlite3 *db, const char *iso, const char *rev)
{
	char sql[512];
	int64_t t = at(iso);

	snprintf(sql, sizeof(sql),
		 "INSERT INTO certificates (number, user_id, course_id, "
		 "course_title, revision, issued_at, expires_at, verify_code) "
		 "VALUES ('HYG-%lld', 2, 'hyg', '\"Hygiene\"', '%s', %lld, "
		 "%lld, printf('%%032d', %lld))", (long long)t, rev,
		 (long long)t, (long long)cert_add_months(t, 12),
		 (long long)t);
	exec(db, sql);
	snprintf(sql, sizeof(sql),
		 "INSERT OR REPLACE INTO lesson_completions (user_id, "
		 "course_id, lesson_id, blob_id, revision, completed_at) "
		 "VALUES (2, 'hyg', 'intro', 'b1', '%s', %lld)", rev,
		 (long long)t);
	exec(db, sql);
}

static void test_recurrence(void **state)
{
	struct ws_fixture *f = *state;
	struct compliance_tally t;

	seed(f->db);
	certify(f->db, "2027-01-10T08:00:00Z", REV1);
	assert_string_equal(status_at(f->db, "2027-06-01T00:00:00Z"),
			    "completed");
	t = run_at(f->db, "2027-06-01T00:00:00Z");
	assert_int_equal(t.rounds, 0);
	assert_int_equal(t.reminders, 0);
	/* 30 days before expiry the next round opens, due on expiry; the
	 * reminder before expiry goes out */
	t = run_at(f->db, "2027-12-12T00:00:00Z");
	assert_int_equal(t.rounds, 1);
	assert_int_equal(t.reminders, 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM training_rounds "
				      "WHERE reason = 'recur' AND due = "
				      "'2028-01-10'"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reminders WHERE "
				      "entry = 'expiry-30'"), 1);
	/* progress starts again: the old completion no longer counts */
	assert_string_equal(status_at(f->db, "2027-12-12T00:00:00Z"),
			    "expiring_soon");
	assert_int_equal(count(f->db, "SELECT count(*) FROM "
				      "lesson_completions l WHERE "
				      "completed_at >= "
				      LEARN_ROUND_FROM("2", "'hyg'")), 0);
	assert_int_equal(run_at(f->db, "2027-12-13T00:00:00Z").rounds, 0);
	/* not done by then: overdue, and the old certificate expired */
	assert_string_equal(status_at(f->db, "2028-01-11T00:00:00Z"),
			    "overdue");
	/* done again: completed, and the round after it follows that one */
	certify(f->db, "2028-01-12T08:00:00Z", REV1);
	assert_string_equal(status_at(f->db, "2028-01-12T09:00:00Z"),
			    "completed");
	assert_int_equal(run_at(f->db, "2028-12-14T00:00:00Z").rounds, 1);
}

static void test_retraining(void **state)
{
	struct ws_fixture *f = *state;
	cJSON *list;
	const cJSON *row, *cert;
	struct compliance_filter fl = { .user_id = 2, .status = -1 };

	seed(f->db);
	certify(f->db, "2027-01-10T08:00:00Z", REV1);
	exec(f->db, "UPDATE courses SET revision = '" REV2 "';"
		    "INSERT INTO course_versions (course_id, seq, revision, "
		    "retrain, committed_at, message) VALUES ('hyg', 2, '" REV2
		    "', 1, 0, 'Retrain: yes');");
	assert_int_equal(run_at(f->db, "2027-03-01T08:00:00Z").rounds, 1);
	assert_int_equal(run_at(f->db, "2027-03-02T08:00:00Z").rounds, 0);
	assert_int_equal(compliance_list_json(f->db, &fl,
					      at("2027-03-01T09:00:00Z"),
					      &list), 0);
	row = cJSON_GetArrayItem(list, 0);
	cert = cJSON_GetObjectItem(row, "certificate");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cert,
						     "renewal_required")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(
				row, "round"), "reason")->valuestring,
			    "retrain");
	assert_string_equal(cJSON_GetObjectItem(row, "due")->valuestring,
			    "2027-03-31");
	assert_string_equal(cJSON_GetObjectItem(row, "status")->valuestring,
			    "in_progress");
	cJSON_Delete(list);
	/* the retrained course done again on the new revision */
	certify(f->db, "2027-03-05T08:00:00Z", REV2);
	assert_string_equal(status_at(f->db, "2027-03-05T09:00:00Z"),
			    "completed");
}

static void test_list_filters(void **state)
{
	struct ws_fixture *f = *state;
	struct compliance_filter fl = { .status = -1 };
	int64_t t0 = at("2027-01-04T08:00:00Z");
	cJSON *list;

	seed(f->db);
	exec(f->db, "INSERT INTO users (id, email, name, role, created_at) "
		    "VALUES (4, 'max@example.org', 'Max', 'learner', 0);"
		    "INSERT INTO assignments (course_id, user_id, due, "
		    "created_at) VALUES ('hyg', 4, '2027-02-01', 0);");
	assert_int_equal(compliance_list_json(f->db, &fl, t0, &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 2);
	cJSON_Delete(list);
	/* Mia manages group 1 and so Pia in group 2 below it, not Max */
	fl.manager_id = 3;
	assert_int_equal(compliance_list_json(f->db, &fl, t0, &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0),
						"email")->valuestring,
			    "pia@example.org");
	cJSON_Delete(list);
	fl.manager_id = 0;
	fl.status = COMPLIANCE_OVERDUE;
	assert_int_equal(compliance_list_json(f->db, &fl,
					      at("2027-01-25T00:00:00Z"),
					      &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 1);
	cJSON_Delete(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_rules),
		cmocka_unit_test(test_next_round),
		cmocka_unit_test_setup_teardown(test_reminders_once, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_recurrence, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_retraining, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, ws_setup,
						ws_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
