/*
 * Course assignments in workspace.db (schema: migration 4 of
 * workspace/store.c). An assignment row names a course and exactly one
 * of a group or a user; the courses of a user are read through
 * group_members each time, never copied. An admin (or a manager within
 * their scope) may change an assignment's due date or delete it, through
 * /api/v1/assignments/{id}, answered here.
 */
#include "workspace/assign.h"

#include "common/course.h"
#include "common/db.h"
#include "common/gitstore.h"
#include "common/log.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/people.h"
#include "workspace/scope.h"
#include "workspace/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int assign_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"database query failed\" query=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

/* ---- validation ---- */

static int assign_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int assign_date_valid(const char *s)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31 };
	int y, m, d, max;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	}
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1000 || m < 1 || m > 12)
		return 0;
	max = days[m - 1] + (m == 2 && assign_leap(y));
	return d >= 1 && d <= max;
}

/* 1 when v is a JSON integer from 1 to 2^53 - 1. */
static int assign_is_id(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	       v->valuedouble <= 9007199254740991.0 &&
	       (double)(int64_t)v->valuedouble == v->valuedouble;
}

/* The recurrence of an assignment body. */
struct assign_recur {
	int months_set; /* "recur_months" was given (a number or null) */
	int months;	/* 0 for null */
	int expiry_set; /* "recur_on_expiry" was given */
	int on_expiry;
};

/* Reads "recur_months" (null or 1 to ASSIGN_RECUR_MAX) and
 * "recur_on_expiry" (a boolean) of in: 0, or STORE_EINVAL with *why. */
static int assign_recur_parse(const cJSON *in, struct assign_recur *r,
			      const char **why)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, "recur_months");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(in,
							  "recur_on_expiry");

	memset(r, 0, sizeof(*r));
	if (m && !cJSON_IsNull(m) &&
	    (!assign_is_id(m) || m->valuedouble > ASSIGN_RECUR_MAX)) {
		*why = "recur_months must be null or a number of months "
		       "from 1 to 120";
		return STORE_EINVAL;
	}
	if (e && !cJSON_IsBool(e)) {
		*why = "recur_on_expiry must be true or false";
		return STORE_EINVAL;
	}
	r->months_set = m != NULL;
	r->months = m && !cJSON_IsNull(m) ? (int)m->valuedouble : 0;
	r->expiry_set = e != NULL;
	r->on_expiry = cJSON_IsTrue(e);
	return 0;
}

/* 0 when a row of sql (one parameter, text or integer) exists,
 * STORE_ENOTFOUND when not. */
static int assign_exists(sqlite3 *db, const char *sql, const char *text,
			 int64_t n)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int step;

	if (!st)
		return STORE_EDB;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, n);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return 0;
	return step == SQLITE_DONE ? STORE_ENOTFOUND :
				     assign_fail(db, "assign_exists");
}

/* The user named by an id or an email into *uid. */
static int assign_user(sqlite3 *db, const cJSON *v, int64_t *uid,
		       const char **why)
{
	struct people_user u;
	int rc;

	*why = "user must be a user id or email";
	if (assign_is_id(v))
		rc = people_user_by_id(db, (int64_t)v->valuedouble, &u);
	else if (cJSON_IsString(v) && v->valuestring[0])
		rc = people_user_by_email(db, v->valuestring, &u, NULL, 0);
	else
		return STORE_EINVAL;
	if (rc == STORE_ENOTFOUND || rc == STORE_EINVAL) {
		*why = "user is not a user of this workspace";
		return STORE_EINVAL;
	}
	if (!rc)
		*uid = u.id;
	return rc;
}

/* Fills *gid or *uid (the other stays 0) from the body. */
static int assign_target(sqlite3 *db, const cJSON *in, int64_t *gid,
			 int64_t *uid, const char **why)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(in, "group");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(in, "user");
	int rc;

	*gid = *uid = 0;
	if (cJSON_IsNull(g))
		g = NULL;
	if (cJSON_IsNull(u))
		u = NULL;
	if (!g == !u) {
		*why = "give exactly one of group and user";
		return STORE_EINVAL;
	}
	if (u)
		return assign_user(db, u, uid, why);
	if (!assign_is_id(g)) {
		*why = "group must be a group id";
		return STORE_EINVAL;
	}
	rc = assign_exists(db, "SELECT 1 FROM groups WHERE id = ?1", NULL,
			   (int64_t)g->valuedouble);
	if (rc == STORE_ENOTFOUND) {
		*why = "group is not a group of this workspace";
		return STORE_EINVAL;
	}
	if (!rc)
		*gid = (int64_t)g->valuedouble;
	return rc;
}

/* ---- creating ---- */

/* What a new assignment is. */
struct assign_new {
	const char *course;
	const char *due;
	struct assign_recur recur;
};

static int assign_insert(sqlite3 *db, const struct assign_new *a,
			 int64_t gid, int64_t uid, int64_t now, int64_t *id)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO assignments (course_id, group_id, "
			    "user_id, due, created_at, recur_months, "
			    "recur_on_expiry) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, a->course, -1, SQLITE_STATIC);
	if (gid)
		sqlite3_bind_int64(st, 2, gid);
	if (uid)
		sqlite3_bind_int64(st, 3, uid);
	sqlite3_bind_text(st, 4, a->due, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if (a->recur.months)
		sqlite3_bind_int(st, 6, a->recur.months);
	sqlite3_bind_int(st, 7, a->recur.on_expiry);
	if (sqlite3_step(st) == SQLITE_DONE)
		*id = sqlite3_last_insert_rowid(db);
	else
		rc = assign_fail(db, "assign_insert");
	sqlite3_finalize(st);
	return rc;
}

/* Inside the transaction: the course, the target and the row. */
static int assign_create(sqlite3 *db, const cJSON *in,
			 const struct assign_new *a, int64_t now, int64_t *id,
			 const char **why)
{
	int64_t gid, uid;
	int rc;

	rc = assign_exists(db, "SELECT 1 FROM courses WHERE id = ?1",
			   a->course, 0);
	if (rc == STORE_ENOTFOUND) {
		*why = "course is not a course of this workspace";
		return STORE_EINVAL;
	}
	if (!rc)
		rc = assign_target(db, in, &gid, &uid, why);
	if (!rc)
		rc = assign_insert(db, a, gid, uid, now, id);
	return rc;
}

int assign_add_json(sqlite3 *db, const cJSON *in, int64_t now, int64_t *id,
		    const char **why)
{
	const cJSON *course = cJSON_GetObjectItemCaseSensitive(in, "course");
	const cJSON *due = cJSON_GetObjectItemCaseSensitive(in, "due");
	struct assign_new a;
	int rc, own;

	*why = "the assignment cannot be stored";
	if (!cJSON_IsObject(in)) {
		*why = "the body must be a JSON object";
		return STORE_EINVAL;
	}
	if (!cJSON_IsString(course) || !course->valuestring[0]) {
		*why = "course must be a course id";
		return STORE_EINVAL;
	}
	if (!cJSON_IsString(due) || !assign_date_valid(due->valuestring)) {
		*why = "due must be a date YYYY-MM-DD";
		return STORE_EINVAL;
	}
	if (assign_recur_parse(in, &a.recur, why))
		return STORE_EINVAL;
	a.course = course->valuestring;
	a.due = due->valuestring;
	if ((own = audit_begin(db)) < 0)
		return STORE_EDB;
	rc = assign_create(db, in, &a, now, id, why);
	return audit_end(db, own, rc);
}

/* ---- changing and deleting ---- */

/* Runs sql (?1 the id, ?2 text or NULL) that changes at most one row:
 * STORE_ENOTFOUND when it changed none. */
static int assign_change_row(sqlite3 *db, const char *sql, int64_t id,
			     const char *text, const char *what)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	if (text)
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return assign_fail(db, what);
	return sqlite3_changes(db) ? 0 : STORE_ENOTFOUND;
}

/* 1 when every member of in is one PATCH may change. */
static int assign_patch_members(const cJSON *in)
{
	static const char *const names[] = { "due", "recur_months",
					     "recur_on_expiry" };
	const cJSON *v;
	size_t i;

	cJSON_ArrayForEach(v, in) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(v->string, names[i]))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return 0;
	}
	return 1;
}

int assign_update_json(sqlite3 *db, int64_t id, const cJSON *in,
		       const char **why)
{
	const cJSON *due = cJSON_GetObjectItemCaseSensitive(in, "due");
	struct assign_recur r;
	sqlite3_stmt *st;
	int step;

	*why = "the body must be a JSON object";
	if (!cJSON_IsObject(in))
		return STORE_EINVAL;
	*why = "only due, recur_months and recur_on_expiry can be changed";
	if (!in->child || !assign_patch_members(in))
		return STORE_EINVAL;
	*why = "due must be a date YYYY-MM-DD";
	if (due && (!cJSON_IsString(due) ||
		    !assign_date_valid(due->valuestring)))
		return STORE_EINVAL;
	if (assign_recur_parse(in, &r, why))
		return STORE_EINVAL;
	st = db_prepare(db, "UPDATE assignments SET due = coalesce(?2, due), "
			    "recur_months = CASE WHEN ?3 THEN ?4 ELSE "
			    "recur_months END, recur_on_expiry = CASE WHEN ?5 "
			    "THEN ?6 ELSE recur_on_expiry END WHERE id = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	if (due)
		sqlite3_bind_text(st, 2, due->valuestring, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, r.months_set);
	if (r.months)
		sqlite3_bind_int(st, 4, r.months);
	sqlite3_bind_int(st, 5, r.expiry_set);
	sqlite3_bind_int(st, 6, r.on_expiry);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	*why = "no such assignment";
	if (step != SQLITE_DONE)
		return assign_fail(db, "assign_update");
	return sqlite3_changes(db) ? 0 : STORE_ENOTFOUND;
}

int assign_delete(sqlite3 *db, int64_t id)
{
	return assign_change_row(db, "DELETE FROM assignments WHERE id = ?1",
				 id, NULL, "assign_delete");
}

/* ---- reading ---- */

#define ASSIGN_COLUMNS                                            \
	"SELECT id, course_id, group_id, user_id, due, recur_months, " \
	"recur_on_expiry FROM assignments "

/* A column that may be NULL as a number or null. */
static int assign_add_ref(cJSON *o, const char *name, sqlite3_stmt *st,
			  int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return cJSON_AddNullToObject(o, name) != NULL;
	return cJSON_AddNumberToObject(
		       o, name, (double)sqlite3_column_int64(st, col)) != NULL;
}

static cJSON *assign_row_json(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	if (!o ||
	    !cJSON_AddNumberToObject(o, "id",
				     (double)sqlite3_column_int64(st, 0)) ||
	    !cJSON_AddStringToObject(o, "course", db_text(st, 1)) ||
	    !assign_add_ref(o, "group", st, 2) ||
	    !assign_add_ref(o, "user", st, 3) ||
	    !cJSON_AddStringToObject(o, "due", db_text(st, 4)) ||
	    !assign_add_ref(o, "recur_months", st, 5) ||
	    !cJSON_AddBoolToObject(o, "recur_on_expiry",
				   sqlite3_column_int(st, 6))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int assign_get_json(sqlite3 *db, int64_t id, cJSON **out)
{
	sqlite3_stmt *st = db_prepare(db, ASSIGN_COLUMNS "WHERE id = ?1");
	int step, rc;

	*out = NULL;
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = (*out = assign_row_json(st)) ? 0 : STORE_ENOMEM;
	else
		rc = step == SQLITE_DONE ? STORE_ENOTFOUND :
					   assign_fail(db, "assign_get");
	sqlite3_finalize(st);
	return rc;
}

/* Runs st (parameters bound) and collects row(st) of every row. */
static int assign_collect(sqlite3 *db, sqlite3_stmt *st,
			  cJSON *(*row)(sqlite3_stmt *), const char *what,
			  cJSON **out)
{
	cJSON *list = cJSON_CreateArray(), *o;
	int step = SQLITE_DONE, rc = 0;

	*out = NULL;
	if (!list)
		rc = STORE_ENOMEM;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		o = row(st);
		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			rc = STORE_ENOMEM;
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = assign_fail(db, what);
	sqlite3_finalize(st);
	if (rc)
		cJSON_Delete(list);
	else
		*out = list;
	return rc;
}

int assign_list_json(sqlite3 *db, cJSON **out)
{
	sqlite3_stmt *st = db_prepare(db, ASSIGN_COLUMNS "ORDER BY id");

	*out = NULL;
	if (!st)
		return STORE_EDB;
	return assign_collect(db, st, assign_row_json, "assign_list", out);
}

static cJSON *assign_course_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject(), *p;
	int ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "id", db_text(st, 0)) &&
	     cJSON_AddStringToObject(o, "title", db_text(st, 1)) &&
	     cJSON_AddStringToObject(o, "revision", db_text(st, 2));
	if (ok && sqlite3_column_type(st, 3) == SQLITE_NULL)
		ok = cJSON_AddNullToObject(o, "due") != NULL;
	else if (ok)
		ok = cJSON_AddStringToObject(o, "due", db_text(st, 3)) != NULL;
	ok = ok && cJSON_AddBoolToObject(o, "enrolled",
					 sqlite3_column_int(st, 4)) &&
	     (p = cJSON_AddObjectToObject(o, "progress")) &&
	     cJSON_AddNumberToObject(p, "percent", 0) &&
	     cJSON_AddFalseToObject(p, "completed");
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int assign_courses_from(sqlite3 *db, sqlite3_stmt *st, cJSON **out)
{
	cJSON *list = cJSON_CreateArray(), *o;
	int step = SQLITE_DONE, rc = 0;

	*out = NULL;
	if (!list)
		rc = STORE_ENOMEM;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		o = assign_course_row(st);
		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			rc = STORE_ENOMEM;
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = assign_fail(db, "assign_courses");
	sqlite3_reset(st);
	if (rc)
		cJSON_Delete(list);
	else
		*out = list;
	return rc;
}

/* The courses of user_id, or only course_id when not NULL. */
static int assign_select(sqlite3 *db, int64_t user_id, const char *course_id,
			 cJSON **out)
{
	sqlite3_stmt *st = db_prepare(db, ASSIGN_COURSES_SQL);
	int rc;

	*out = NULL;
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	if (course_id)
		sqlite3_bind_text(st, 2, course_id, -1, SQLITE_STATIC);
	rc = assign_courses_from(db, st, out);
	sqlite3_finalize(st);
	return rc;
}

int assign_courses_json(sqlite3 *db, int64_t user_id, cJSON **out)
{
	return assign_select(db, user_id, NULL, out);
}

/* ---- one course with its lessons ---- */

static cJSON *assign_lesson_json(const struct course_lesson *l)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "id", l->id) ||
	    !cJSON_AddStringToObject(o, "title", l->title ? l->title : "") ||
	    !cJSON_AddStringToObject(o, "kind", l->quiz ? "quiz" : "text") ||
	    !cJSON_AddFalseToObject(o, "completed")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The lessons of course id at revision rev, validated, into o. */
static int assign_add_lessons(git_repository *repo, const char *id,
			      const char *rev, cJSON *o)
{
	struct course_reader reader;
	struct course_error err;
	struct course_info info;
	git_tree *tree = NULL;
	cJSON *list, *l;
	int rc = 0;

	if (gitstore_tree(repo, rev, &tree)) {
		log_error("msg=\"held revision has no readable tree\" "
			  "course=%s revision=%s", id, rev);
		return STORE_EREVISION;
	}
	memset(&err, 0, sizeof(err));
	memset(&info, 0, sizeof(info));
	course_reader_tree(&reader, repo, tree);
	if (course_validate(&reader, id, &info, &err)) {
		log_error("msg=\"held revision is not a valid course\" "
			  "course=%s revision=%s file=\"%s\" reason=\"%s\"",
			  id, rev, err.file, err.reason);
		git_tree_free(tree);
		return STORE_EREVISION;
	}
	git_tree_free(tree);
	if (!(list = cJSON_AddArrayToObject(o, "lessons")))
		rc = STORE_ENOMEM;
	for (size_t i = 0; !rc && i < info.lesson_count; i++) {
		l = assign_lesson_json(&info.lessons[i]);
		if (!l || !cJSON_AddItemToArray(list, l)) {
			cJSON_Delete(l);
			rc = STORE_ENOMEM;
		}
	}
	course_info_release(&info);
	return rc;
}

int assign_course_json(sqlite3 *db, git_repository *repo, int64_t user_id,
		       const char *course_id, cJSON **out)
{
	cJSON *list, *o;
	const cJSON *rev;
	int rc;

	*out = NULL;
	if ((rc = assign_select(db, user_id, course_id, &list)))
		return rc;
	o = cJSON_DetachItemFromArray(list, 0);
	cJSON_Delete(list);
	if (!o)
		return STORE_ENOTFOUND;
	rev = cJSON_GetObjectItemCaseSensitive(o, "revision");
	rc = assign_add_lessons(repo, course_id, rev->valuestring, o);
	if (rc)
		cJSON_Delete(o);
	else
		*out = o;
	return rc;
}

const char assign_sql_user_has[] =
	"SELECT 1 FROM courses c WHERE c.id = ?2 AND c.id IN (SELECT "
	"course_id " ASSIGN_OF_USER ") LIMIT 1";

int assign_user_has_st(sqlite3 *db, sqlite3_stmt *st, int64_t user_id,
		       const char *course_id)
{
	int step;

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, course_id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (step == SQLITE_ROW)
		return 0;
	return step == SQLITE_DONE ? STORE_ENOTFOUND :
				     assign_fail(db, "assign_user_has");
}

int assign_user_has(sqlite3 *db, int64_t user_id, const char *course_id)
{
	sqlite3_stmt *st = db_prepare(db, assign_sql_user_has);
	int rc;

	if (!st)
		return STORE_EDB;
	rc = assign_user_has_st(db, st, user_id, course_id);
	sqlite3_finalize(st);
	return rc;
}

/* ---- self-enrollment ---- */

/* 1 when a row of sql (parameters user ?1, course ?2) exists. */
static int assign_row_exists(sqlite3 *db, const char *sql, int64_t user_id,
			     const char *course_id)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, course_id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return assign_fail(db, "assign_row_exists");
	return step == SQLITE_ROW;
}

int assign_enroll(sqlite3 *db, int64_t user_id, const char *course_id,
		  int64_t now, int *created)
{
	sqlite3_stmt *st;
	int rc, step;

	*created = 0;
	rc = assign_row_exists(db, "SELECT 1 FROM enrollments WHERE "
				   "user_id = ?1 AND course_id = ?2",
			       user_id, course_id);
	if (rc)
		return rc < 0 ? rc : 0;
	rc = assign_row_exists(db, "SELECT ?1 FROM courses c WHERE c.id = ?2",
			       user_id, course_id);
	if (rc <= 0)
		return rc < 0 ? rc : STORE_ENOTFOUND;
	rc = assign_row_exists(db, "SELECT ?1 FROM catalog_open WHERE "
				   "course_id = ?2", user_id, course_id);
	if (rc <= 0)
		return rc < 0 ? rc : STORE_EINVAL;
	st = db_prepare(db, "INSERT OR IGNORE INTO enrollments (user_id, "
			    "course_id, created_at) VALUES (?1, ?2, ?3)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, course_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	step = sqlite3_step(st);
	*created = step == SQLITE_DONE && sqlite3_changes(db) == 1;
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : assign_fail(db, "assign_enroll");
}

/* ---- HTTP: /api/v1/assignments/{id} ---- */

#define ASSIGN_PREFIX "/api/v1/assignments/"
#define ASSIGN_ID_MAX 9007199254740991LL /* exact in a JSON number */

/* The id of /api/v1/assignments/{id} (a positive decimal without
 * leading zeros), or 0 when path is not one. */
static int64_t assign_path_id(const char *path)
{
	const char *p = path + strlen(ASSIGN_PREFIX);
	long long id;
	char *end;

	if (strncmp(path, ASSIGN_PREFIX, strlen(ASSIGN_PREFIX)) ||
	    *p < '1' || *p > '9')
		return 0;
	errno = 0;
	id = strtoll(p, &end, 10);
	if (errno || *end || id > ASSIGN_ID_MAX)
		return 0;
	return id;
}

/* Answers a failed store call: 400 with why, 404, or 500 (logged). */
static void assign_send_error(struct api_ctx *api, struct http_exchange *x,
			      const struct http_request *req, int rc,
			      const char *why)
{
	if (rc == STORE_EINVAL) {
		http_respond_error(x, 400, "bad_request", why);
		return;
	}
	if (rc == STORE_ENOTFOUND) {
		http_respond_error(x, 404, "not_found", "no such assignment");
		return;
	}
	log_error("msg=\"assignment request failed\" tenant=%s req=%llu "
		  "error=\"%s\"", api->tenant, (unsigned long long)req->id,
		  store_strerror(rc));
	http_respond_error(x, 500, "internal",
			   "the assignment cannot be read or stored");
}

/* 1 when me may change the assignment a (its group or user is in me's
 * scope), 0 when not, or a negative code. */
static int assign_in_scope(sqlite3 *db, const struct people_user *me,
			   const cJSON *a)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(a, "group");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(a, "user");

	if (cJSON_IsNumber(g))
		return scope_group(db, me, (int64_t)g->valuedouble);
	if (cJSON_IsNumber(u))
		return scope_user(db, me, (int64_t)u->valuedouble);
	return 0;
}

/*
 * Authenticates an admin or a manager and checks that assignment id is
 * theirs to change: 0 with the user in *me, or -1 after answering 401,
 * 403, 404 or 500. A manager gets 403 for an unknown id as for one out
 * of scope, so that ids outside their reach stay unknown to them.
 */
static int assign_may_change(struct api_ctx *api, struct http_exchange *x,
			     const struct http_request *req, int64_t id,
			     struct people_user *me)
{
	cJSON *a;
	int rc;

	if (auth_require(api, x, req,
			 AUTH_ROLE(PEOPLE_ROLE_ADMIN) |
				 AUTH_ROLE(PEOPLE_ROLE_MANAGER),
			 me))
		return -1;
	rc = assign_get_json(api->db, id, &a);
	if (rc == STORE_ENOTFOUND && me->role != PEOPLE_ROLE_ADMIN)
		rc = 0; /* answered as out of scope below */
	else if (rc == 0)
		rc = assign_in_scope(api->db, me, a);
	cJSON_Delete(a);
	if (rc == 1)
		return 0;
	if (rc == 0)
		http_respond_error(x, 403, "forbidden", "only assignments "
				   "to users and groups within your groups");
	else
		assign_send_error(api, x, req, rc, NULL);
	return -1;
}

/* Changes (body) or deletes (body NULL) assignment id with its audit
 * entry, in one transaction. */
static int assign_change_audited(struct api_ctx *api,
				 const struct people_user *me, int64_t id,
				 const cJSON *body, const char **why)
{
	struct audit_actor who = { me->id, me->email };
	char object[32];
	int own = audit_begin(api->db), rc;

	if (own < 0)
		return STORE_EDB;
	rc = body ? assign_update_json(api->db, id, body, why) :
		    assign_delete(api->db, id);
	if (!rc)
		rc = audit_append_json(
			api->db, clock_now(api->clock), &who,
			body ? "assignment.update" : "assignment.delete",
			audit_object(object, sizeof(object), "assignment", id),
			body ? cJSON_Duplicate(body, 1) : NULL);
	return audit_end(api->db, own, rc);
}

static void assign_patch(struct api_ctx *api, struct http_exchange *x,
			 const struct http_request *req, int64_t id)
{
	const char *why = "the body is not JSON";
	struct people_user me;
	cJSON *body, *a = NULL;
	int rc = STORE_EINVAL;

	if (assign_may_change(api, x, req, id, &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	if (body)
		rc = assign_change_audited(api, &me, id, body, &why);
	cJSON_Delete(body);
	if (!rc)
		rc = assign_get_json(api->db, id, &a);
	if (rc) {
		assign_send_error(api, x, req, rc, why);
		return;
	}
	log_info("msg=\"assignment changed\" tenant=%s req=%llu id=%lld "
		 "by=%lld", api->tenant, (unsigned long long)req->id,
		 (long long)id, (long long)me.id);
	http_respond_json(x, 200, a);
}

static void assign_del(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req, int64_t id)
{
	struct people_user me;
	int rc;

	if (assign_may_change(api, x, req, id, &me))
		return;
	if ((rc = assign_change_audited(api, &me, id, NULL, NULL))) {
		assign_send_error(api, x, req, rc, NULL);
		return;
	}
	log_info("msg=\"assignment deleted\" tenant=%s req=%llu id=%lld "
		 "by=%lld", api->tenant, (unsigned long long)req->id,
		 (long long)id, (long long)me.id);
	http_respond(x, 204, NULL, NULL, 0);
}

int assign_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req)
{
	int64_t id = assign_path_id(req->path);

	if (!id)
		return 0;
	if (!strcmp(req->method, "PATCH")) {
		assign_patch(api, x, req, id);
	} else if (!strcmp(req->method, "DELETE")) {
		assign_del(api, x, req, id);
	} else {
		http_add_header(x, "Allow", "PATCH, DELETE");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
	}
	return 1;
}
