/*
 * Unit tests of the reports (workspace/report.h) and of the set-based
 * pass over every pair they stand on (compliance_each() in
 * workspace/compliance.c).
 *
 * The cross-check generates academies at random (a fixed seed each):
 * learners in a tree of groups, assignments to groups and to people
 * with their due dates and recurrences, rounds of recurrence and
 * retraining (ties of opening time included), certificates on held,
 * retrained and unknown revisions (ties of issue time, some revoked,
 * some without expiry) and completions; then, at several moments, it
 * compares every pair compliance_each() gives with the row the per-pair
 * statement of compliance_list_json() gives (status, due date, round,
 * certificate), both ways, also narrowed to a course and to a manager's
 * scope. The report tests check the completion figures against the
 * list's rows, the groups' members against group_members, and the CSV
 * form: byte order mark, CRLF, quoting of a comma and a quote, umlauts,
 * the semicolon delimiter; an empty period says so; the writer quotes
 * CR, LF and the delimiter in use and escapes JSON strings.
 *
 * The modules come from the workspace library (nothing compiled in).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/db.h"
#include "workspace/compliance.h"
#include "workspace/report.h"
#include "workspace/store.h"

#include "ws_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400
#define T0 1798761600 /* 2027-01-01 */
#define LEARNERS 80
#define COURSES 4
#define GROUPS 7

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static void execf(sqlite3 *db, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	exec(db, sql);
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

static unsigned rnd(unsigned *seed, unsigned n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) % n;
}

static void rev(int course, int seq, char out[41])
{
	memset(out, 'a' + course, 40);
	out[39] = (char)('0' + seq);
	out[40] = 0;
}

static void day(int64_t t, char out[11])
{
	compliance_date(t, 0, out);
}

/* Courses c0..c3 with 1 to 3 versions; c1 and c3 retrained at seq 2. */
static void gen_courses(sqlite3 *db)
{
	char r[41];

	for (int c = 0; c < COURSES; c++) {
		rev(c, 1, r);
		execf(db, "INSERT INTO courses (id, origin, revision, title, "
			  "published_at, updated_at) VALUES ('c%d', 'local', "
			  "'%s', 'Kurs %d \"Grün\", Teil', 0, 0)", c, r, c);
		for (int s = 1; s <= 1 + c % 3; s++) {
			rev(c, s, r);
			execf(db, "INSERT INTO course_versions (course_id, "
				  "seq, revision, retrain, committed_at, "
				  "message) VALUES ('c%d', %d, '%s', %d, 0, "
				  "'m')", c, s, r, s == 2 && c % 2);
		}
	}
}

/* Users 1.. (2 of them managers), groups 1..7 in a tree, memberships
 * and assignments. */
static void gen_people(sqlite3 *db, unsigned *seed)
{
	char due[11];

	for (int g = 1; g <= GROUPS; g++)
		execf(db, "INSERT INTO groups (id, name, parent_id, "
			  "created_at) VALUES (%d, 'G%d', %s, 0)", g, g,
		      g == 1 ? "NULL" : g <= 3 ? "1" : g <= 5 ? "2" : "3");
	for (int u = 1; u <= LEARNERS; u++) {
		execf(db, "INSERT INTO users (id, email, name, role, "
			  "created_at) VALUES (%d, 'u%d@example.org', "
			  "'Müller, \"%d\"', '%s', 0)", u, u, u,
		      u <= 2 ? "manager" : "learner");
		for (int k = 0; k < 2; k++)
			if (rnd(seed, 3))
				execf(db, "INSERT OR IGNORE INTO "
					  "group_members (group_id, user_id, "
					  "from_rule) VALUES (%u, %d, 0)",
				      1 + rnd(seed, GROUPS), u);
	}
	for (int a = 0; a < 10; a++) {
		day(T0 + (int64_t)rnd(seed, 400) * DAY, due);
		execf(db, "INSERT INTO assignments (course_id, group_id, due, "
			  "created_at, recur_months, recur_on_expiry) VALUES "
			  "('c%u', %u, '%s', 0, %s, %u)", rnd(seed, COURSES),
		      1 + rnd(seed, GROUPS), due,
		      rnd(seed, 2) ? "NULL" : "12", rnd(seed, 2));
	}
	for (int a = 0; a < 25; a++) {
		day(T0 + (int64_t)rnd(seed, 400) * DAY, due);
		execf(db, "INSERT INTO assignments (course_id, user_id, due, "
			  "created_at, recur_months) VALUES ('c%u', %u, '%s', "
			  "0, %s)", rnd(seed, COURSES), 1 + rnd(seed, LEARNERS),
		      due, rnd(seed, 2) ? "NULL" : "6");
	}
	/* an assignment of a course the workspace does not hold */
	exec(db, "INSERT INTO assignments (course_id, group_id, due, "
		 "created_at) VALUES ('gone', 1, '2027-03-01', 0)");
}

/* 0 to 2 rounds of user u's course c, opening times often tied. */
static void gen_rounds(sqlite3 *db, unsigned *seed, int u, int c)
{
	char due[11];
	int64_t t;

	for (unsigned k = rnd(seed, 3); k > 0; k--) {
		t = T0 + (int64_t)rnd(seed, 8) * 30 * DAY;
		day(t + 30 * DAY, due);
		execf(db, "INSERT OR IGNORE INTO training_rounds (user_id, "
			  "course_id, key, reason, opened_at, due, "
			  "progress_from) VALUES (%d, 'c%d', 'k%u', '%s', "
			  "%lld, '%s', %lld)", u, c, rnd(seed, 1000000),
		      rnd(seed, 2) ? "recur" : "retrain", (long long)t, due,
		      rnd(seed, 3) ? (long long)t : 0LL);
	}
}

/* 0 to 3 certificates: on a held, retrained or unknown revision, with
 * or without expiry, some revoked, issue times often tied. */
static void gen_certs(sqlite3 *db, unsigned *seed, int u, int c)
{
	static int cert = 1;
	char r[41];
	int64_t t;

	for (unsigned k = rnd(seed, 4); k > 0; k--, cert++) {
		t = T0 + (int64_t)rnd(seed, 16) * 15 * DAY;
		rev(c, 1 + (int)rnd(seed, 4), r);
		execf(db, "INSERT INTO certificates (number, user_id, "
			  "course_id, course_title, revision, issued_at, "
			  "expires_at, verify_code, revoked_at) VALUES "
			  "('N-%d', %d, 'c%d', 't', '%s', %lld, %s, '%032d', "
			  "%s)", cert, u, c, r, (long long)t,
		      rnd(seed, 3) ? "1" : "NULL", cert,
		      rnd(seed, 6) ? "NULL" : "1");
		exec(db, "UPDATE certificates SET expires_at = issued_at + "
			 "31536000 WHERE id = last_insert_rowid() AND "
			 "expires_at = 1");
	}
}

/* 0 to 3 lessons done. */
static void gen_done(sqlite3 *db, unsigned *seed, int u, int c)
{
	char r[41];

	rev(c, 1, r);
	for (unsigned k = rnd(seed, 4); k > 0; k--)
		execf(db, "INSERT OR IGNORE INTO lesson_completions (user_id, "
			  "course_id, lesson_id, blob_id, revision, "
			  "completed_at) VALUES (%d, 'c%d', 'l%u', 'b', '%s', "
			  "%lld)", u, c, rnd(seed, 5), r,
		      (long long)(T0 + (int64_t)rnd(seed, 300) * DAY));
}

/* Rounds, certificates and completions for every user and course. */
static void gen_history(sqlite3 *db, unsigned *seed)
{
	for (int u = 1; u <= LEARNERS; u++)
		for (int c = 0; c < COURSES; c++) {
			gen_rounds(db, seed, u, c);
			gen_certs(db, seed, u, c);
			gen_done(db, seed, u, c);
		}
}

/* ---- the cross-check ---- */

struct seen {
	cJSON *list; /* compliance_list_json()'s rows */
	int next;    /* the row the next item must match */
	int mismatches;
};

static const char *text_or_empty(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int compare_item(void *arg, const struct compliance_item *it)
{
	struct seen *s = arg;
	const cJSON *row = cJSON_GetArrayItem(s->list, s->next++);
	const cJSON *cert, *round;
	int64_t cert_id = 0;

	if (!row) {
		s->mismatches++;
		return 0;
	}
	cert = cJSON_GetObjectItemCaseSensitive(row, "certificate");
	round = cJSON_GetObjectItemCaseSensitive(row, "round");
	if (cJSON_IsObject(cert))
		cert_id = (int64_t)cJSON_GetObjectItemCaseSensitive(cert, "id")
				  ->valuedouble;
	if ((int64_t)cJSON_GetObjectItemCaseSensitive(row, "user")
		    ->valuedouble != it->pair.user_id ||
	    strcmp(text_or_empty(row, "course"), it->pair.course) ||
	    strcmp(text_or_empty(row, "status"),
		   compliance_status_name(it->status)) ||
	    strcmp(text_or_empty(row, "due"), it->pair.facts.due) ||
	    strcmp(text_or_empty(round, "reason"),
		   it->pair.round_id ? it->pair.reason : "assigned") ||
	    cert_id != it->pair.cert_id) {
		print_message("mismatch: user %lld course %s: list %s, "
			      "each %s\n", (long long)it->pair.user_id,
			      it->pair.course, text_or_empty(row, "status"),
			      compliance_status_name(it->status));
		s->mismatches++;
	}
	return 0;
}

/* Compares both ways at now, for filter f and the matching scope. */
static void cross_check(sqlite3 *db, int64_t now,
			const struct compliance_filter *f,
			const struct compliance_scope *sc)
{
	struct seen s = { 0 };

	assert_int_equal(compliance_list_json(db, f, now, &s.list), 0);
	assert_int_equal(compliance_each(db, sc, now, compare_item, &s), 0);
	assert_int_equal(s.mismatches, 0);
	assert_int_equal(s.next, cJSON_GetArraySize(s.list));
	cJSON_Delete(s.list);
}

static void test_each_matches_list(void **state)
{
	struct ws_fixture *fx = *state;
	const struct compliance_filter all = { .status = -1 };
	const struct compliance_filter c1 = { .status = -1, .course = "c1" };
	struct compliance_filter mgr = { .status = -1, .manager_id = 2 };
	struct compliance_scope sc = { 0 }, sc1 = { .course = "c1" };
	struct compliance_scope scm = { .also_user = 2 };
	unsigned seed = 20261204;
	int64_t *reach;
	size_t n;

	gen_courses(fx->db);
	gen_people(fx->db, &seed);
	gen_history(fx->db, &seed);
	assert_true(count(fx->db, "SELECT count(*) FROM certificates") > 200);

	assert_int_equal(compliance_reach(fx->db, 2, &reach, &n), 0);
	scm.groups = reach;
	scm.ngroups = n;
	for (int64_t d = -30; d <= 600; d += 45) {
		cross_check(fx->db, T0 + d * DAY + 3600, &all, &sc);
		cross_check(fx->db, T0 + d * DAY, &c1, &sc1);
		cross_check(fx->db, T0 + d * DAY, &mgr, &scm);
	}
	free(reach);
}

/* Each status appears in the generated data at some moment, so that
 * the cross-check compares all of them. */
static int tally_status(void *arg, const struct compliance_item *it)
{
	((int *)arg)[it->status]++;
	return 0;
}

static void test_each_covers_statuses(void **state)
{
	struct ws_fixture *fx = *state;
	const struct compliance_scope sc = { 0 };
	unsigned seed = 7;
	int seen[COMPLIANCE_STATUS_COUNT] = { 0 };

	gen_courses(fx->db);
	gen_people(fx->db, &seed);
	gen_history(fx->db, &seed);
	for (int64_t d = 0; d <= 600; d += 30)
		assert_int_equal(compliance_each(fx->db, &sc, T0 + d * DAY,
						 tally_status, seen), 0);
	for (int s = 0; s < COMPLIANCE_STATUS_COUNT; s++)
		assert_true(seen[s] > 0);
}

/* ---- the reports ---- */

static int to_buf(void *arg, const void *data, size_t len)
{
	return buf_append(arg, data, len);
}

static char *report(sqlite3 *db, struct report_params *p)
{
	struct buf b = { 0 };
	size_t len;

	assert_int_equal(report_write(db, p, to_buf, &b), 0);
	buf_append(&b, "", 1);
	return (char *)buf_detach(&b, &len);
}

static void test_completion_matches_rows(void **state)
{
	struct ws_fixture *fx = *state;
	const struct compliance_filter all = { .status = -1 };
	struct report_params p = { .kind = REPORT_COMPLETION,
				   .now = T0 + 200 * DAY,
				   .from_t = INT64_MIN, .to_t = INT64_MAX };
	int64_t want[COURSES][COMPLIANCE_STATUS_COUNT] = { { 0 } };
	unsigned seed = 99;
	cJSON *list, *root, *row;
	char *text;
	int c;

	gen_courses(fx->db);
	gen_people(fx->db, &seed);
	gen_history(fx->db, &seed);
	assert_int_equal(compliance_list_json(fx->db, &all, p.now, &list), 0);
	cJSON_ArrayForEach(row, list) {
		c = text_or_empty(row, "course")[1] - '0';
		want[c][compliance_status_parse(
			text_or_empty(row, "status"))]++;
	}
	text = report(fx->db, &p);
	root = cJSON_Parse(text);
	assert_non_null(root);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(root, "empty")));
	cJSON_ArrayForEach(row, cJSON_GetObjectItem(root, "rows")) {
		int64_t assigned = 0, done;

		c = text_or_empty(row, "course")[1] - '0';
		for (int s = 0; s < COMPLIANCE_STATUS_COUNT; s++) {
			assert_int_equal(
				(int64_t)cJSON_GetObjectItem(
					row, compliance_status_name(s))
					->valuedouble,
				want[c][s]);
			assigned += want[c][s];
		}
		assert_int_equal(
			cJSON_GetObjectItem(row, "assigned")->valuedouble,
			assigned);
		done = want[c][COMPLIANCE_COMPLETED] +
		       want[c][COMPLIANCE_EXPIRING_SOON];
		assert_true(fabs(cJSON_GetObjectItem(row, "completion_rate")
					 ->valuedouble -
				 (double)done / (double)assigned) < 0.0006);
	}
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "total"),
					     "assigned")
				 ->valuedouble,
			 cJSON_GetArraySize(list));
	cJSON_Delete(root);
	cJSON_Delete(list);
	free(text);
}

static void test_groups_members(void **state)
{
	struct ws_fixture *fx = *state;
	struct report_params p = { .kind = REPORT_GROUPS,
				   .now = T0 + 100 * DAY,
				   .from_t = INT64_MIN, .to_t = INT64_MAX };
	unsigned seed = 5;
	cJSON *root, *row;
	char *text, sql[512];

	gen_courses(fx->db);
	gen_people(fx->db, &seed);
	text = report(fx->db, &p);
	root = cJSON_Parse(text);
	assert_non_null(root);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "rows")),
			 GROUPS);
	cJSON_ArrayForEach(row, cJSON_GetObjectItem(root, "rows")) {
		snprintf(sql, sizeof(sql),
			 "WITH RECURSIVE sub (id) AS (SELECT %d UNION SELECT "
			 "g.id FROM groups g JOIN sub ON g.parent_id = sub.id) "
			 "SELECT count(DISTINCT user_id) FROM group_members "
			 "WHERE group_id IN sub",
			 (int)cJSON_GetObjectItem(row, "group")->valuedouble);
		assert_int_equal(
			cJSON_GetObjectItem(row, "members")->valuedouble,
			count(fx->db, sql));
	}
	cJSON_Delete(root);
	free(text);
}

static void test_people_csv(void **state)
{
	struct ws_fixture *fx = *state;
	struct report_params p = { .kind = REPORT_PEOPLE, .csv = 1,
				   .delimiter = ',', .now = T0,
				   .statuses = REPORT_STATUS_ALL,
				   .from_t = INT64_MIN, .to_t = INT64_MAX };
	char *text, *line;
	int lines = 0;

	gen_courses(fx->db);
	exec(fx->db, "INSERT INTO users (id, email, name, role, created_at) "
		     "VALUES (1, 'a@example.org', 'Müller, \"Jo\"', "
		     "'learner', 0);"
		     "INSERT INTO assignments (course_id, user_id, due, "
		     "created_at) VALUES ('c0', 1, '2027-02-01', 0)");
	text = report(fx->db, &p);
	assert_memory_equal(text, "\xEF\xBB\xBF", 3);
	assert_non_null(strstr(text, "user,name,email,course,title,status,"
				     "due,certificate,expires\r\n"));
	assert_non_null(strstr(text, "1,\"Müller, \"\"Jo\"\"\",a@example.org,"
				     "c0,\"Kurs 0 \"\"Grün\"\", Teil\","
				     "not_started,2027-02-01,,\r\n"));
	for (line = text; (line = strstr(line, "\r\n")); line += 2)
		lines++;
	assert_int_equal(lines, 2);
	free(text);

	p.delimiter = ';';
	text = report(fx->db, &p);
	assert_non_null(strstr(text, "1;\"Müller, \"\"Jo\"\"\";"
				     "a@example.org;c0;\"Kurs 0 \"\"Grün\"\", "
				     "Teil\";not_started;2027-02-01;;\r\n"));
	free(text);
}

/* RFC 4180 quoting by the delimiter in use, and JSON escapes. */
static void test_out_quoting(void **state)
{
	const char *fields[] = { "plain", "a,b", "a;b", "say \"hi\"",
				 "two\r\nlines", "", "Grüße",
				 "=HYPERLINK(\"x\")", "-1", "@a,b" };
	struct report_out o;
	struct buf b = { 0 };

	(void)state;
	report_out_init(&o, to_buf, &b, ',');
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
		report_out_field(&o, fields[i]);
	report_out_field_int(&o, -1);
	report_out_eol(&o);
	assert_int_equal(report_out_end(&o), 0);
	buf_append(&b, "", 1);
	/* formulas defused with a leading ', numbers left alone */
	assert_string_equal((char *)b.data,
			    "plain,\"a,b\",a;b,\"say \"\"hi\"\"\",\"two\r\n"
			    "lines\",,Grüße,\"'=HYPERLINK(\"\"x\"\")\",'-1,"
			    "\"'@a,b\",-1\r\n");
	buf_release(&b);

	report_out_init(&o, to_buf, &b, ';');
	for (size_t i = 0; i < 3; i++)
		report_out_field(&o, fields[i]);
	report_out_eol(&o);
	report_out_json_str(&o, "q\"b\\\n\x01ü");
	report_out_json_str(&o, NULL);
	assert_int_equal(report_out_end(&o), 0);
	buf_append(&b, "", 1);
	assert_string_equal((char *)b.data,
			    "plain;a,b;\"a;b\"\r\n"
			    "\"q\\\"b\\\\\\n\\u0001ü\"null");
	buf_release(&b);
}

static void test_empty_period(void **state)
{
	struct ws_fixture *fx = *state;
	struct report_params p = { .kind = REPORT_COMPLETION,
				   .now = T0 + 10 * DAY,
				   .from = "2020-01-01", .to = "2020-01-31",
				   .from_t = 1577836800,
				   .to_t = 1577836800 + 31 * DAY };
	unsigned seed = 11;
	cJSON *root;
	char *text;

	gen_courses(fx->db);
	gen_people(fx->db, &seed);
	gen_history(fx->db, &seed);
	text = report(fx->db, &p);
	root = cJSON_Parse(text);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(root, "empty")));
	assert_string_equal(text_or_empty(root, "message"),
			    "no data in this period");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "total"),
					     "completed_in_period")
				 ->valuedouble,
			 0);
	cJSON_Delete(root);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_matches_list,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_each_covers_statuses,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_completion_matches_rows,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_groups_members, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_people_csv, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_empty_period, ws_setup,
						ws_teardown),
		cmocka_unit_test(test_out_quoting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
