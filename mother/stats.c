/*
 * Consolidated analytics: checking and storing the workspaces' STATS
 * reports, and the analytics and usage views built from them.
 *
 * A report is checked as a whole before anything is written, then
 * stored in one transaction: the tenant's snapshot of the day is
 * replaced (a course no longer reported is gone from it), months are
 * upserted. Queries sum over tenants in SQL; "latest snapshot" of a
 * tenant up to a day is the row of each course with the greatest day
 * not after it.
 */
#include "mother/stats.h"

#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATS_FIELDS 8

/* The figures of one course, in the order of the table's columns. */
static const char *const stats_fields[STATS_FIELDS] = {
	"assigned",	"not_started", "in_progress",
	"completed",	"overdue",     "expired",
	"certificates_valid", "certificates_expiring",
};

struct stats_course {
	const char *id;
	long long v[STATS_FIELDS];
};

struct stats_month {
	const char *month;
	const char *course; /* completions only */
	long long count;
};

struct stats_report {
	struct stats_course *courses;
	size_t ncourses;
	struct stats_month *active;
	size_t nactive;
	struct stats_month *done;
	size_t ndone;
	int64_t taken_at;
};

int stats_month_valid(const char *s)
{
	if (!s || strlen(s) != STATS_MONTH_LEN || s[4] != '-')
		return 0;
	for (int i = 0; i < STATS_MONTH_LEN; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return (s[5] == '0' && s[6] >= '1') ||
	       (s[5] == '1' && s[6] <= '2');
}

/* "YYYY-MM" of year y and month mo (1 to 12); years kept to 4 digits. */
static void stats_month_print(char out[STATS_MONTH_LEN + 1], int y, int mo)
{
	unsigned yy = (unsigned)y % 10000, mm = (unsigned)mo % 100;

	out[0] = (char)('0' + yy / 1000);
	out[1] = (char)('0' + yy / 100 % 10);
	out[2] = (char)('0' + yy / 10 % 10);
	out[3] = (char)('0' + yy % 10);
	out[4] = '-';
	out[5] = (char)('0' + mm / 10);
	out[6] = (char)('0' + mm % 10);
	out[7] = 0;
}

void stats_month_of(int64_t t, int delta, char out[STATS_MONTH_LEN + 1])
{
	time_t tt = (time_t)t;
	struct tm tm;
	int months;

	gmtime_r(&tt, &tm);
	months = (tm.tm_year + 1900) * 12 + tm.tm_mon + delta;
	stats_month_print(out, months / 12, months % 12 + 1);
}

/* ---- checking a report ---- */

/* A whole number from 0 to STATS_MAX_COUNT, or -1. */
static long long stats_count(const cJSON *v)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (d < 0 || d > STATS_MAX_COUNT || d != (double)(long long)d)
		return -1;
	return (long long)d;
}

static const char *stats_check_course(const cJSON *o, struct stats_course *c)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");

	if (!cJSON_IsString(id) || !ids_valid(id->valuestring))
		return "a course without a valid id";
	c->id = id->valuestring;
	for (int i = 0; i < STATS_FIELDS; i++) {
		c->v[i] = stats_count(
			cJSON_GetObjectItemCaseSensitive(o, stats_fields[i]));
		if (c->v[i] < 0)
			return "a course figure is not a whole number in range";
	}
	return NULL;
}

/* A list of {"month", "count"} (with "course" when with_course). */
static const char *stats_check_months(const cJSON *arr, int with_course,
				      struct stats_month **out, size_t *n)
{
	const cJSON *o;
	size_t i = 0;

	*n = 0;
	if (!arr)
		return NULL;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > STATS_MAX_MONTHS)
		return "a month list is not an array of at most 120";
	*out = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**out));
	if (!*out)
		return "out of memory";
	cJSON_ArrayForEach(o, arr) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "month");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "course");

		if (!cJSON_IsString(m) || !stats_month_valid(m->valuestring))
			return "a month is not YYYY-MM";
		if (with_course && (!cJSON_IsString(c) ||
				    !ids_valid(c->valuestring)))
			return "a completion without a valid course id";
		(*out)[i].month = m->valuestring;
		(*out)[i].course = with_course ? c->valuestring : NULL;
		(*out)[i].count = stats_count(
			cJSON_GetObjectItemCaseSensitive(o, "count"));
		if ((*out)[i].count < 0)
			return "a count is not a whole number in range";
		*n = ++i;
	}
	return NULL;
}

static const char *stats_check(const cJSON *root, struct stats_report *r)
{
	const cJSON *courses, *o, *at;
	const char *why;
	size_t i = 0;

	if (!cJSON_IsObject(root))
		return "the report is not a JSON object";
	at = cJSON_GetObjectItemCaseSensitive(root, "at");
	if (!cJSON_IsNumber(at))
		return "the report has no time \"at\"";
	r->taken_at = (int64_t)at->valuedouble;
	courses = cJSON_GetObjectItemCaseSensitive(root, "courses");
	if (!cJSON_IsArray(courses) ||
	    cJSON_GetArraySize(courses) > STATS_MAX_COURSES)
		return "\"courses\" is not an array of at most 2000";
	r->courses = calloc((size_t)cJSON_GetArraySize(courses) + 1,
			    sizeof(*r->courses));
	if (!r->courses)
		return "out of memory";
	cJSON_ArrayForEach(o, courses) {
		if ((why = stats_check_course(o, &r->courses[i])))
			return why;
		r->ncourses = ++i;
	}
	why = stats_check_months(
		cJSON_GetObjectItemCaseSensitive(root, "active_learners"), 0,
		&r->active, &r->nactive);
	if (!why)
		why = stats_check_months(
			cJSON_GetObjectItemCaseSensitive(root, "completions"),
			1, &r->done, &r->ndone);
	return why;
}

static void stats_report_free(struct stats_report *r)
{
	free(r->courses);
	free(r->active);
	free(r->done);
}

/* ---- storing ---- */

static int stats_step(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;

	if (rc)
		log_error("msg=\"sql failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
	sqlite3_reset(st);
	return rc;
}

static int stats_put_courses(sqlite3 *db, const char *tenant,
			     const char *day, const struct stats_report *r)
{
	sqlite3_stmt *del = db_prepare(db,
		"DELETE FROM stats_courses WHERE tenant = ? AND day = ?");
	sqlite3_stmt *ins = db_prepare(db,
		"INSERT OR REPLACE INTO stats_courses (tenant, course, day,"
		" assigned, not_started, in_progress, completed, overdue,"
		" expired, certificates_valid, certificates_expiring)"
		" SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11"
		" WHERE EXISTS (SELECT 1 FROM courses WHERE id = ?2)");
	int rc = del && ins ? 0 : -1;

	if (!rc) {
		sqlite3_bind_text(del, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(del, 2, day, -1, SQLITE_STATIC);
		rc = stats_step(db, del);
	}
	for (size_t i = 0; !rc && i < r->ncourses; i++) {
		sqlite3_bind_text(ins, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, r->courses[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, day, -1, SQLITE_STATIC);
		for (int f = 0; f < STATS_FIELDS; f++)
			sqlite3_bind_int64(ins, 4 + f, r->courses[i].v[f]);
		rc = stats_step(db, ins);
	}
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return rc;
}

static int stats_put_months(sqlite3 *db, const char *tenant,
			    const struct stats_report *r)
{
	sqlite3_stmt *act = db_prepare(db,
		"INSERT INTO stats_months (tenant, month, active_learners)"
		" VALUES (?, ?, ?) ON CONFLICT (tenant, month)"
		" DO UPDATE SET active_learners = excluded.active_learners");
	sqlite3_stmt *done = db_prepare(db,
		"INSERT INTO stats_completions (tenant, course, month,"
		" completions) SELECT ?1, ?2, ?3, ?4"
		" WHERE EXISTS (SELECT 1 FROM courses WHERE id = ?2)"
		" ON CONFLICT (tenant, course, month)"
		" DO UPDATE SET completions = excluded.completions");
	int rc = act && done ? 0 : -1;

	for (size_t i = 0; !rc && i < r->nactive; i++) {
		sqlite3_bind_text(act, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(act, 2, r->active[i].month, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(act, 3, r->active[i].count);
		rc = stats_step(db, act);
	}
	for (size_t i = 0; !rc && i < r->ndone; i++) {
		sqlite3_bind_text(done, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(done, 2, r->done[i].course, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(done, 3, r->done[i].month, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(done, 4, r->done[i].count);
		rc = stats_step(db, done);
	}
	sqlite3_finalize(act);
	sqlite3_finalize(done);
	return rc;
}

static int stats_put_receipt(sqlite3 *db, const char *tenant, int64_t now,
			     const struct stats_report *r)
{
	sqlite3_stmt *st = db_prepare(db,
		"INSERT INTO stats_reports (tenant, taken_at, received_at,"
		" reports) VALUES (?, ?, ?, 1) ON CONFLICT (tenant) DO UPDATE"
		" SET taken_at = excluded.taken_at,"
		" received_at = excluded.received_at, reports = reports + 1");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->taken_at);
	sqlite3_bind_int64(st, 3, now);
	rc = stats_step(db, st);
	sqlite3_finalize(st);
	return rc;
}

static void stats_day_of(int64_t t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int stats_store(sqlite3 *db, const char *tenant, int64_t now,
		const void *body, size_t len, const char **why)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	struct stats_report r = { 0 };
	char day[11];
	int rc = 1;

	*why = root ? stats_check(root, &r) : "the report is not JSON";
	if (*why)
		goto out;
	stats_day_of(now, day);
	rc = db_begin(db);
	if (!rc && (stats_put_courses(db, tenant, day, &r) ||
		    stats_put_months(db, tenant, &r) ||
		    stats_put_receipt(db, tenant, now, &r) || db_commit(db))) {
		db_rollback(db);
		rc = -1;
	}
out:
	stats_report_free(&r);
	cJSON_Delete(root);
	return rc;
}

/* ---- analytics ---- */

/* The latest snapshot of every tenant up to day ?1 ("YYYY-MM-DD",
 * inclusive): the rows of the tenant's last day not after it. */
#define STATS_LATEST_SQL                                                  \
	"WITH latest AS (SELECT s.* FROM stats_courses s"                  \
	" WHERE s.day = (SELECT max(day) FROM stats_courses d"             \
	"  WHERE d.tenant = s.tenant AND d.day <= ?1))"

static cJSON *stats_course_sums(sqlite3 *db, const char *course,
				const char *to)
{
	sqlite3_stmt *st = db_prepare(db,
		STATS_LATEST_SQL
		" SELECT l.course, coalesce(c.title, ''), count(*),"
		" sum(assigned), sum(not_started), sum(in_progress),"
		" sum(completed), sum(overdue), sum(expired),"
		" sum(certificates_valid), sum(certificates_expiring)"
		" FROM latest l LEFT JOIN courses c ON c.id = l.course"
		" WHERE ?2 IS NULL OR l.course = ?2"
		" GROUP BY l.course ORDER BY l.course");
	char day[11];
	cJSON *arr;

	if (!st)
		return NULL;
	snprintf(day, sizeof(day), "%s-31", to);
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	if (course)
		sqlite3_bind_text(st, 2, course, -1, SQLITE_STATIC);
	arr = cJSON_CreateArray();
	while (arr && sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", db_text(st, 0));
		cJSON_AddStringToObject(o, "title", db_text(st, 1));
		cJSON_AddNumberToObject(o, "tenants",
					sqlite3_column_int(st, 2));
		for (int f = 0; f < STATS_FIELDS; f++)
			cJSON_AddNumberToObject(o, stats_fields[f],
				(double)sqlite3_column_int64(st, 3 + f));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

/* One month's row: active learners and completions reported for it,
 * and the sums of each tenant's last snapshot in it. */
static int stats_month_row(sqlite3 *db, const char *course,
			   const char *month, cJSON *o)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT (SELECT coalesce(sum(active_learners), 0)"
		"  FROM stats_months WHERE month = ?1),"
		" (SELECT coalesce(sum(completions), 0) FROM stats_completions"
		"  WHERE month = ?1 AND (?2 IS NULL OR course = ?2)),"
		" coalesce(sum(s.assigned), 0), coalesce(sum(s.completed), 0)"
		" FROM stats_courses s WHERE (?2 IS NULL OR s.course = ?2)"
		" AND s.day = (SELECT max(day) FROM stats_courses d"
		"  WHERE d.tenant = s.tenant AND substr(d.day, 1, 7) = ?1)");
	int rc = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, month, -1, SQLITE_STATIC);
	if (course)
		sqlite3_bind_text(st, 2, course, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		cJSON_AddStringToObject(o, "month", month);
		cJSON_AddNumberToObject(o, "active_learners",
					(double)sqlite3_column_int64(st, 0));
		cJSON_AddNumberToObject(o, "completions",
					(double)sqlite3_column_int64(st, 1));
		cJSON_AddNumberToObject(o, "assigned",
					(double)sqlite3_column_int64(st, 2));
		cJSON_AddNumberToObject(o, "completed",
					(double)sqlite3_column_int64(st, 3));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

void stats_month_add(const char *m, int delta, char out[STATS_MONTH_LEN + 1])
{
	int months = atoi(m) * 12 + atoi(m + 5) - 1 + delta;

	if (months < 0)
		months = 0;
	stats_month_print(out, months / 12, months % 12 + 1);
}

static cJSON *stats_months(sqlite3 *db, const char *course,
			   const char *from, const char *to)
{
	char month[STATS_MONTH_LEN + 1];
	cJSON *arr = cJSON_CreateArray(), *o;

	snprintf(month, sizeof(month), "%s", from);
	for (int n = 0; arr && strcmp(month, to) <= 0 && n < STATS_MAX_MONTHS;
	     n++) {
		o = cJSON_CreateObject();
		if (!o || stats_month_row(db, course, month, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, o);
		stats_month_add(month, 1, month);
	}
	return arr;
}

cJSON *stats_analytics_json(sqlite3 *db, const char *course,
			    const char *from, const char *to)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *courses = stats_course_sums(db, course, to);
	cJSON *months = stats_months(db, course, from, to);

	if (!o || !courses || !months) {
		cJSON_Delete(o);
		cJSON_Delete(courses);
		cJSON_Delete(months);
		return NULL;
	}
	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	if (course)
		cJSON_AddStringToObject(o, "course", course);
	else
		cJSON_AddNullToObject(o, "course");
	cJSON_AddItemToObject(o, "courses", courses);
	cJSON_AddItemToObject(o, "months", months);
	return o;
}

/* ---- usage ---- */

static sqlite3_stmt *stats_usage_query(sqlite3 *db, const char *month)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT t.id, t.name,"
		" coalesce((SELECT active_learners FROM stats_months m"
		"  WHERE m.tenant = t.id AND m.month = ?1), 0),"
		" (SELECT count(*) FROM licences l WHERE l.tenant = t.id),"
		" coalesce((SELECT sum(completions) FROM stats_completions c"
		"  WHERE c.tenant = t.id AND c.month = ?1), 0)"
		" FROM tenants t ORDER BY t.id");

	if (st)
		sqlite3_bind_text(st, 1, month, -1, SQLITE_TRANSIENT);
	return st;
}

cJSON *stats_usage_json(sqlite3 *db, const char *month)
{
	sqlite3_stmt *st = stats_usage_query(db, month);
	cJSON *arr;

	if (!st)
		return NULL;
	arr = cJSON_CreateArray();
	while (arr && sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "tenant", db_text(st, 0));
		cJSON_AddStringToObject(o, "name", db_text(st, 1));
		cJSON_AddStringToObject(o, "month", month);
		cJSON_AddNumberToObject(o, "active_learners",
					(double)sqlite3_column_int64(st, 2));
		cJSON_AddNumberToObject(o, "courses_licensed",
					(double)sqlite3_column_int64(st, 3));
		cJSON_AddNumberToObject(o, "completions",
					(double)sqlite3_column_int64(st, 4));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

/* A CSV field: quoted when it holds a comma, quote or line end; a
 * leading =, +, - or @ (a formula to a spreadsheet) gets a ' first. */
static int stats_csv_field(struct buf *out, const char *s)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	int rc = 0;

	if (quote)
		rc |= buf_append_str(out, "\"");
	if (s[0] && strchr("=+-@", s[0]))
		rc |= buf_append_str(out, "'");
	for (; *s; s++)
		rc |= *s == '"' ? buf_append_str(out, "\"\"") :
				  buf_append(out, s, 1);
	if (quote)
		rc |= buf_append_str(out, "\"");
	return rc ? -1 : 0;
}

int stats_usage_csv(sqlite3 *db, const char *month, struct buf *out)
{
	sqlite3_stmt *st = stats_usage_query(db, month);
	int rc;

	if (!st)
		return -1;
	rc = buf_append_str(out, "tenant,name,month,active_learners,"
				 "courses_licensed,completions\r\n");
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		rc |= stats_csv_field(out, db_text(st, 0));
		rc |= buf_append_str(out, ",");
		rc |= stats_csv_field(out, db_text(st, 1));
		rc |= buf_printf(out, ",%s,%lld,%lld,%lld\r\n", month,
				 (long long)sqlite3_column_int64(st, 2),
				 (long long)sqlite3_column_int64(st, 3),
				 (long long)sqlite3_column_int64(st, 4));
	}
	sqlite3_finalize(st);
	return rc ? -1 : 0;
}
