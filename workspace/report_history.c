/*
 * The reports over time (workspace/report.h): a learner's transcript
 * (every completion, quiz attempt and certificate with the revision it
 * was made on, and their compliance rows) and the timeline of the last
 * months for charts.
 *
 * The timeline counts, for the pairs of learner and course in scope as
 * they are now (today's assignments and memberships):
 *   completions          certificates not revoked issued that month
 *   certificates_issued  every certificate issued that month
 *   due                  rounds due that month (the first round's due
 *                        date and every later round's)
 *   overdue_end          pairs overdue at the month's end (for this
 *                        month: now): the round open then is past its
 *                        due date and no certificate (not revoked) was
 *                        issued in it by then. An approximation: it
 *                        does not know when a certificate was revoked
 *                        (a revoked one counts as never issued) nor
 *                        when an assignment or membership began.
 */
#include "workspace/report.h"

#include "common/clock.h"
#include "common/db.h"
#include "common/log.h"
#include "workspace/cert.h"
#include "workspace/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int history_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"report query failed\" what=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

static int history_add_time(cJSON *o, const char *name, int64_t t)
{
	char iso[32];

	if (!t)
		return cJSON_AddNullToObject(o, name) != NULL;
	clock_format_iso(t, iso, sizeof(iso));
	return cJSON_AddStringToObject(o, name, iso) != NULL;
}

/* ---- the transcript ---- */

static const char history_sql_completions[] =
	"SELECT l.course_id, coalesce(c.title, ''), l.lesson_id, "
	"l.revision, l.completed_at FROM lesson_completions l LEFT JOIN "
	"courses c ON c.id = l.course_id WHERE l.user_id = ?1 ORDER BY "
	"l.completed_at, l.course_id, l.lesson_id";
static const char history_sql_attempts[] =
	"SELECT course_id, lesson_id, revision, score, passed, created_at "
	"FROM quiz_attempts WHERE user_id = ?1 ORDER BY created_at, id";
static const char history_sql_certificates[] =
	"SELECT id, number, course_id, revision, issued_at, "
	"coalesce(expires_at, 0), coalesce(revoked_at, 0) FROM certificates "
	"WHERE user_id = ?1 ORDER BY issued_at, id";

/* One row of a transcript, whatever its kind. */
struct history_row {
	const char *kind, *course, *title, *lesson, *revision, *number;
	const char *status;
	int64_t at, expires, id;
	int score, passed; /* -1: not an attempt */
};

static cJSON *history_row_json(const struct history_row *r)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;

	if (ok && r->id)
		ok = cJSON_AddNumberToObject(o, "id", (double)r->id) &&
		     cJSON_AddStringToObject(o, "number", r->number);
	ok = ok && cJSON_AddStringToObject(o, "course", r->course);
	if (ok && r->title)
		ok = cJSON_AddStringToObject(o, "title", r->title) != NULL;
	if (ok && r->lesson)
		ok = cJSON_AddStringToObject(o, "lesson", r->lesson) != NULL;
	ok = ok && cJSON_AddStringToObject(o, "revision", r->revision);
	if (ok && r->score >= 0)
		ok = cJSON_AddNumberToObject(o, "score", r->score) &&
		     cJSON_AddBoolToObject(o, "passed", r->passed);
	if (ok && !strcmp(r->kind, "certificate"))
		ok = history_add_time(o, "issued", r->at) &&
		     history_add_time(o, "expires", r->expires) &&
		     cJSON_AddStringToObject(o, "status", r->status);
	else if (ok)
		ok = history_add_time(o, !strcmp(r->kind, "completion") ?
						 "completed_at" :
						 "at",
				      r->at);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void history_row_csv(struct report_out *o, const struct history_row *r)
{
	char at[32] = "", expires[32] = "";

	if (r->at)
		clock_format_iso(r->at, at, sizeof(at));
	if (r->expires)
		clock_format_iso(r->expires, expires, sizeof(expires));
	report_out_field(o, r->kind);
	report_out_field(o, r->course);
	report_out_field(o, r->title);
	report_out_field(o, r->lesson);
	report_out_field(o, r->revision);
	if (r->score >= 0) {
		report_out_field_int(o, r->score);
		report_out_field(o, r->passed ? "yes" : "no");
	} else {
		report_out_field(o, "");
		report_out_field(o, "");
	}
	report_out_field(o, at);
	report_out_field(o, r->number);
	report_out_field(o, expires);
	report_out_field(o, r->status);
	report_out_eol(o);
}

/* Reads the row of st (statement kind) into r. */
static void history_row_read(sqlite3_stmt *st, int kind, int64_t now,
			     struct history_row *r)
{
	memset(r, 0, sizeof(*r));
	r->score = -1;
	if (kind == 0) {
		*r = (struct history_row){
			.kind = "completion", .course = db_text(st, 0),
			.title = db_text(st, 1), .lesson = db_text(st, 2),
			.revision = db_text(st, 3),
			.at = sqlite3_column_int64(st, 4), .score = -1 };
	} else if (kind == 1) {
		*r = (struct history_row){
			.kind = "attempt", .course = db_text(st, 0),
			.lesson = db_text(st, 1), .revision = db_text(st, 2),
			.score = sqlite3_column_int(st, 3),
			.passed = sqlite3_column_int(st, 4),
			.at = sqlite3_column_int64(st, 5) };
	} else {
		*r = (struct history_row){
			.kind = "certificate",
			.id = sqlite3_column_int64(st, 0),
			.number = db_text(st, 1), .course = db_text(st, 2),
			.revision = db_text(st, 3),
			.at = sqlite3_column_int64(st, 4),
			.expires = sqlite3_column_int64(st, 5), .score = -1 };
		r->status = cert_status_name(cert_status_at(
			now, r->expires, sqlite3_column_int64(st, 6)));
	}
}

/* The rows of one kind, into list (JSON) or o (CSV). */
static int history_rows(sqlite3 *db, const struct report_params *p,
			int kind, cJSON *list, struct report_out *o)
{
	static const char *const sql[] = { history_sql_completions,
					   history_sql_attempts,
					   history_sql_certificates };
	sqlite3_stmt *st = db_prepare(db, sql[kind]);
	struct history_row r;
	cJSON *item;
	int step = SQLITE_DONE, rc = st ? 0 : STORE_EDB;

	if (st)
		sqlite3_bind_int64(st, 1, p->user_id);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		history_row_read(st, kind, p->now, &r);
		if (!list) {
			history_row_csv(o, &r);
			continue;
		}
		item = history_row_json(&r);
		if (!item || !cJSON_AddItemToArray(list, item)) {
			cJSON_Delete(item);
			rc = STORE_ENOMEM;
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = history_fail(db, "transcript");
	sqlite3_finalize(st);
	return rc;
}

static int history_course(void *arg, const struct compliance_item *it)
{
	cJSON *row = compliance_item_json(it);

	if (!row || !cJSON_AddItemToArray(arg, row)) {
		cJSON_Delete(row);
		return STORE_ENOMEM;
	}
	return 0;
}

/* {"id", "name", "email"} of the user, or NULL (STORE_ENOTFOUND). */
static cJSON *history_user(sqlite3 *db, int64_t id, int *rc)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT name, email FROM users "
					  "WHERE id = ?1");
	cJSON *o = NULL;

	*rc = st ? STORE_ENOTFOUND : STORE_EDB;
	if (st)
		sqlite3_bind_int64(st, 1, id);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		o = cJSON_CreateObject();
		*rc = o && cJSON_AddNumberToObject(o, "id", (double)id) &&
			      cJSON_AddStringToObject(o, "name",
						      db_text(st, 0)) &&
			      cJSON_AddStringToObject(o, "email",
						      db_text(st, 1)) ?
			      0 :
			      STORE_ENOMEM;
	}
	sqlite3_finalize(st);
	if (*rc) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int report__transcript(sqlite3 *db, const struct report_params *p,
		       struct report_out *o)
{
	static const char *const kinds[] = { "completions", "attempts",
					     "certificates" };
	static const char *const columns[] = {
		"kind", "course", "title", "lesson", "revision", "score",
		"passed", "at", "number", "expires", "status",
	};
	struct compliance_scope sc = { .user_from = p->user_id - 1,
				       .user_to = p->user_id };
	cJSON *root = NULL, *user, *list;
	int rc = 0;

	if (p->csv) {
		report_out_bom(o);
		for (size_t i = 0; i < sizeof(columns) / sizeof(*columns); i++)
			report_out_field(o, columns[i]);
		report_out_eol(o);
		for (int k = 0; !rc && k < 3; k++)
			rc = history_rows(db, p, k, NULL, o);
		return rc;
	}
	if (!(user = history_user(db, p->user_id, &rc)))
		return rc == STORE_ENOTFOUND ? 0 : rc;
	root = cJSON_CreateObject();
	if (!root || !cJSON_AddItemToObject(root, "user", user)) {
		cJSON_Delete(user);
		rc = STORE_ENOMEM;
	}
	for (int k = 0; !rc && k < 3; k++)
		rc = (list = cJSON_AddArrayToObject(root, kinds[k])) ?
			     history_rows(db, p, k, list, NULL) :
			     STORE_ENOMEM;
	if (!rc && !(list = cJSON_AddArrayToObject(root, "courses")))
		rc = STORE_ENOMEM;
	if (!rc)
		rc = compliance_each(db, &sc, p->now, history_course, list);
	if (!rc) {
		char *text = cJSON_PrintUnformatted(root);

		if (text)
			report_out_raw(o, text);
		else
			rc = STORE_ENOMEM;
		cJSON_free(text);
	}
	cJSON_Delete(root);
	return rc;
}

/* ---- the timeline ---- */

#define HISTORY_EVENTS_MAX 64 /* rounds or certificates of one pair */

struct history_month {
	char label[8]; /* "YYYY-MM" */
	int64_t start, end; /* [start, end) */
	int64_t completions, issued, due, overdue;
};

/* A cursor over rows (user, course, time, ...) in pair order. */
struct history_cursor {
	sqlite3_stmt *st;
	int row;
};

struct history_timeline {
	const struct report_params *p;
	struct history_month m[REPORT_MONTHS_MAX];
	int n;
	struct history_cursor rounds, certs;
};

/* The month of t, or -1 outside the months. */
static int history_month_of(const struct history_timeline *t, int64_t at)
{
	for (int i = 0; i < t->n; i++)
		if (at >= t->m[i].start && at < t->m[i].end)
			return i;
	return -1;
}

static int history_month_of_day(const struct history_timeline *t,
				const char *day)
{
	for (int i = 0; day[0] && i < t->n; i++)
		if (!strncmp(day, t->m[i].label, 7))
			return i;
	return -1;
}

/* The last `months` calendar months (UTC), this one last. */
static void history_months(struct history_timeline *t)
{
	time_t now = (time_t)t->p->now;
	struct tm tm, first;

	gmtime_r(&now, &tm);
	t->n = t->p->months;
	for (int i = 0; i < t->n; i++) {
		first = (struct tm){ .tm_year = tm.tm_year,
				     .tm_mon = tm.tm_mon - (t->n - 1 - i),
				     .tm_mday = 1 };
		t->m[i].start = (int64_t)timegm(&first);
		strftime(t->m[i].label, sizeof(t->m[i].label), "%Y-%m",
			 &first);
		first.tm_mon++;
		first.tm_mday = 1;
		t->m[i].end = (int64_t)timegm(&first);
	}
}

/* Steps c to the rows of the pair and returns their count (at most
 * HISTORY_EVENTS_MAX kept) with columns 2.. copied. */
static int history_collect(struct history_cursor *c,
			   const struct compliance_pair *pr,
			   int64_t ev[][3])
{
	int n = 0, cmp;
	int64_t u;

	while (c->row == SQLITE_ROW) {
		u = sqlite3_column_int64(c->st, 0);
		cmp = u < pr->user_id ? -1 :
		      u > pr->user_id ? 1 :
					strcmp(db_text(c->st, 1), pr->course);
		if (cmp > 0)
			break;
		if (cmp == 0 && n < HISTORY_EVENTS_MAX) {
			for (int k = 0; k < 3; k++)
				ev[n][k] = sqlite3_column_int64(c->st, 2 + k);
			n++;
		}
		c->row = sqlite3_step(c->st);
	}
	return n;
}

/* Whether the pair was overdue at the end of month i: rounds are
 * (opened_at, midnight of the due day) by opening, certificates (issued,
 * revoked) by issue. */
static int history_overdue(const struct history_timeline *t, int i,
			   int64_t rounds[][3], int nr, const char *due0,
			   int64_t certs[][3], int nc)
{
	int64_t end = t->m[i].end < t->p->now ? t->m[i].end - 1 : t->p->now;
	int64_t start = INT64_MIN;
	char today[COMPLIANCE_DATE_LEN + 1], due[COMPLIANCE_DATE_LEN + 1];

	snprintf(due, sizeof(due), "%s", due0);
	for (int r = 0; r < nr && rounds[r][0] <= end; r++) {
		start = rounds[r][0];
		compliance_date(rounds[r][1], 0, due);
	}
	compliance_date(end, 0, today);
	if (!due[0] || strcmp(today, due) <= 0)
		return 0;
	for (int c = 0; c < nc; c++)
		if (!certs[c][1] && certs[c][0] >= start && certs[c][0] <= end)
			return 0;
	return 1;
}

static int history_timeline_pair(void *arg, const struct compliance_item *it)
{
	struct history_timeline *t = arg;
	const struct compliance_pair *pr = &it->pair;
	int64_t rounds[HISTORY_EVENTS_MAX][3], certs[HISTORY_EVENTS_MAX][3];
	int nr = history_collect(&t->rounds, pr, rounds);
	int nc = history_collect(&t->certs, pr, certs), m;

	if ((m = history_month_of_day(t, pr->assigned_due)) >= 0)
		t->m[m].due++;
	for (int r = 0; r < nr; r++) {
		char day[COMPLIANCE_DATE_LEN + 1];

		compliance_date(rounds[r][1], 0, day);
		if ((m = history_month_of_day(t, day)) >= 0)
			t->m[m].due++;
	}
	for (int c = 0; c < nc; c++) {
		if ((m = history_month_of(t, certs[c][0])) < 0)
			continue;
		t->m[m].issued++;
		t->m[m].completions += !certs[c][1];
	}
	for (int i = 0; i < t->n; i++)
		t->m[i].overdue += history_overdue(t, i, rounds, nr,
						   pr->assigned_due, certs, nc);
	return 0;
}

static int history_cursor_open(sqlite3 *db, struct history_cursor *c,
			       const char *sql)
{
	if (!(c->st = db_prepare(db, sql)))
		return STORE_EDB;
	c->row = sqlite3_step(c->st);
	return c->row == SQLITE_ROW || c->row == SQLITE_DONE ?
		       0 : history_fail(db, "timeline");
}

static void history_timeline_out(struct report_out *o,
				 const struct history_timeline *t)
{
	if (t->p->csv) {
		report_out_bom(o);
		report_out_field(o, "month");
		report_out_field(o, "completions");
		report_out_field(o, "certificates_issued");
		report_out_field(o, "due");
		report_out_field(o, "overdue_end");
		report_out_eol(o);
		for (int i = 0; i < t->n; i++) {
			report_out_field(o, t->m[i].label);
			report_out_field_int(o, t->m[i].completions);
			report_out_field_int(o, t->m[i].issued);
			report_out_field_int(o, t->m[i].due);
			report_out_field_int(o, t->m[i].overdue);
			report_out_eol(o);
		}
		return;
	}
	report_out_raw(o, "{\"months\":[");
	for (int i = 0; i < t->n; i++)
		report_out_printf(o,
				  "%s{\"month\":\"%s\",\"completions\":%lld,"
				  "\"certificates_issued\":%lld,\"due\":%lld,"
				  "\"overdue_end\":%lld}",
				  i ? "," : "", t->m[i].label,
				  (long long)t->m[i].completions,
				  (long long)t->m[i].issued,
				  (long long)t->m[i].due,
				  (long long)t->m[i].overdue);
	report_out_raw(o, "]}");
}

int report__timeline(sqlite3 *db, const struct report_params *p,
		     struct report_out *o)
{
	struct history_timeline t = { .p = p };
	struct compliance_scope sc = { .course = p->course[0] ? p->course
							      : NULL,
				       .groups = p->groups,
				       .ngroups = p->ngroups,
				       .also_user = p->also_user };
	int rc;

	history_months(&t);
	rc = history_cursor_open(
		db, &t.rounds,
		"SELECT user_id, course_id, opened_at, strftime('%s', due), 0 "
		"FROM training_rounds ORDER BY user_id, course_id, "
		"opened_at, id");
	if (!rc)
		rc = history_cursor_open(
			db, &t.certs,
			"SELECT user_id, course_id, issued_at, "
			"coalesce(revoked_at, 0), id FROM certificates ORDER "
			"BY user_id, course_id, issued_at, id");
	if (!rc)
		rc = compliance_each(db, &sc, p->now, history_timeline_pair,
				     &t);
	if (!rc)
		history_timeline_out(o, &t);
	sqlite3_finalize(t.rounds.st);
	sqlite3_finalize(t.certs.st);
	return rc;
}
