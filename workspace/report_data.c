/*
 * The reports' figures (workspace/report.h): every report is one pass
 * of compliance_each() over the pairs of learner and course in scope,
 * folded as they come, plus a few statements of its own (a learner's
 * history, the certificates of a period, the groups). The small
 * reports (completion, groups, transcript, timeline) are built as cJSON
 * or CSV at the end; the people list and the compliance list are
 * written row by row as the pairs come and never held.
 */
#include "workspace/report.h"

#include "common/clock.h"
#include "common/db.h"
#include "common/log.h"
#include "workspace/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_NSTATUS COMPLIANCE_STATUS_COUNT

static int report_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"report query failed\" what=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

static void report_scope_of(const struct report_params *p,
			    struct compliance_scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->course = p->course[0] ? p->course : NULL;
	sc->groups = p->groups;
	sc->ngroups = p->ngroups;
	sc->also_user = p->also_user;
}

/* The ISO time of t, or "" for 0. */
static void report_iso(int64_t t, char out[32])
{
	out[0] = 0;
	if (t)
		clock_format_iso(t, out, 32);
}

/* ---- counts of statuses ---- */

struct report_counts {
	int64_t assigned;
	int64_t status[REPORT_NSTATUS];
	int64_t in_period;
};

static double report_rate(const struct report_counts *c)
{
	int64_t done = c->status[COMPLIANCE_COMPLETED] +
		       c->status[COMPLIANCE_EXPIRING_SOON];
	double r = c->assigned ? (double)done / (double)c->assigned : 0;

	return (double)(int64_t)(r * 1000 + 0.5) / 1000;
}

static void report_count(struct report_counts *c, enum compliance_status s,
			 int in_period)
{
	c->assigned++;
	c->status[s]++;
	c->in_period += in_period;
}

static int report_counts_json(cJSON *o, const struct report_counts *c,
			      int period)
{
	int ok = cJSON_AddNumberToObject(o, "assigned", (double)c->assigned) !=
		 NULL;

	for (int s = 0; ok && s < REPORT_NSTATUS; s++)
		ok = cJSON_AddNumberToObject(o, compliance_status_name(s),
					     (double)c->status[s]) != NULL;
	if (ok && period)
		ok = cJSON_AddNumberToObject(o, "completed_in_period",
					     (double)c->in_period) != NULL;
	return ok && cJSON_AddNumberToObject(o, "completion_rate",
					     report_rate(c));
}

static void report_counts_header(struct report_out *o, int period)
{
	report_out_field(o, "assigned");
	for (int s = 0; s < REPORT_NSTATUS; s++)
		report_out_field(o, compliance_status_name(s));
	if (period)
		report_out_field(o, "completed_in_period");
	report_out_field(o, "completion_rate");
	report_out_eol(o);
}

static void report_counts_csv(struct report_out *o,
			      const struct report_counts *c, int period)
{
	char rate[16];

	report_out_field_int(o, c->assigned);
	for (int s = 0; s < REPORT_NSTATUS; s++)
		report_out_field_int(o, c->status[s]);
	if (period)
		report_out_field_int(o, c->in_period);
	snprintf(rate, sizeof(rate), "%.3f", report_rate(c));
	report_out_field(o, rate);
	report_out_eol(o);
}

/* ---- the certificates of the period ---- */

/* A cursor over the pairs with a certificate (not revoked) issued in
 * the period, in the order of the pairs. */
struct report_period {
	sqlite3_stmt *st;
	int row;
};

static int report_period_open(sqlite3 *db, const struct report_params *p,
			      struct report_period *c)
{
	c->row = SQLITE_DONE;
	if (!p->from[0] && !p->to[0])
		return 0;
	c->st = db_prepare(db, "SELECT user_id, course_id FROM certificates "
			       "WHERE revoked_at IS NULL AND issued_at >= ?1 "
			       "AND issued_at < ?2 GROUP BY user_id, "
			       "course_id ORDER BY user_id, course_id");
	if (!c->st)
		return STORE_EDB;
	sqlite3_bind_int64(c->st, 1, p->from_t);
	sqlite3_bind_int64(c->st, 2, p->to_t);
	c->row = sqlite3_step(c->st);
	return c->row == SQLITE_ROW || c->row == SQLITE_DONE ? 0
							     : STORE_EDB;
}

/* Whether the pair of it has a certificate in the period; pairs must
 * come in order. */
static int report_period_has(struct report_period *c,
			     const struct compliance_pair *pr)
{
	int64_t u;
	int cmp;

	while (c->row == SQLITE_ROW) {
		u = sqlite3_column_int64(c->st, 0);
		cmp = u < pr->user_id ? -1 :
		      u > pr->user_id ? 1 :
					strcmp(db_text(c->st, 1), pr->course);
		if (cmp > 0)
			return 0;
		if (cmp == 0)
			return 1;
		c->row = sqlite3_step(c->st);
	}
	return 0;
}

/* ---- completion by course ---- */

struct report_course {
	char *id;
	char *title;
	struct report_counts counts;
};

#define REPORT_CACHE 64 /* course ids remembered by address */

struct report_completion {
	const struct report_params *p;
	struct report_course *courses; /* by id */
	size_t n, cap;
	/* the row of a course id, by the address compliance_each() gives
	 * it at (the same for the whole pass): saves the search */
	const char *cache_id[REPORT_CACHE];
	size_t cache_at[REPORT_CACHE];
	struct report_counts total;
	struct report_period period;
};

static struct report_course *report_course_get(struct report_completion *r,
					       const char *id,
					       const char *title)
{
	size_t lo = 0, hi = r->n, mid;
	struct report_course *more;
	int cmp;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		cmp = strcmp(id, r->courses[mid].id);
		if (!cmp)
			return &r->courses[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		more = realloc(r->courses, r->cap * sizeof(*more));
		if (!more)
			return NULL;
		r->courses = more;
	}
	memmove(&r->courses[lo + 1], &r->courses[lo],
		(r->n - lo) * sizeof(*more));
	r->n++;
	more = &r->courses[lo];
	memset(more, 0, sizeof(*more));
	more->id = strdup(id);
	more->title = strdup(title);
	return more->id && more->title ? more : NULL;
}

static int report_completion_pair(void *arg, const struct compliance_item *it)
{
	struct report_completion *r = arg;
	size_t k = ((uintptr_t)it->pair.course >> 4) % REPORT_CACHE;
	struct report_course *c;
	int in = report_period_has(&r->period, &it->pair);

	if (r->cache_id[k] == it->pair.course) {
		c = &r->courses[r->cache_at[k]];
	} else {
		size_t n = r->n;

		if (!(c = report_course_get(r, it->pair.course, it->title)))
			return STORE_ENOMEM;
		/* an insertion moves the rows after it: forget them all */
		if (r->n != n)
			memset(r->cache_id, 0, sizeof(r->cache_id));
		r->cache_id[k] = it->pair.course;
		r->cache_at[k] = (size_t)(c - r->courses);
	}
	report_count(&c->counts, it->status, in);
	report_count(&r->total, it->status, in);
	return 0;
}

/* Whether any of the groups has a member. */
static int report_groups_have_members(sqlite3 *db,
				      const struct report_params *p)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT EXISTS (SELECT 1 FROM "
					  "group_members WHERE group_id = ?1)");
	int any = 0;

	for (size_t i = 0; st && !any && i < p->ngroups; i++) {
		sqlite3_bind_int64(st, 1, p->groups[i]);
		any = sqlite3_step(st) == SQLITE_ROW &&
		      sqlite3_column_int(st, 0);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return any;
}

/* Why there is nothing to show, or NULL. */
static const char *report_empty_reason(sqlite3 *db,
				       const struct report_params *p,
				       const struct report_counts *total)
{
	int period = p->from[0] || p->to[0];

	if (p->group_id && !report_groups_have_members(db, p))
		return "the group has no members";
	if (!total->assigned)
		return p->course[0] ? "nobody here is assigned this course"
				    : "nobody here is assigned a course";
	if (period && !total->in_period)
		return "no data in this period";
	return NULL;
}

/* "generated", "filters", "empty" and "message" of a report. */
static cJSON *report_head_json(const struct report_params *p,
			       const char *empty)
{
	cJSON *o = cJSON_CreateObject(), *f;
	char iso[32];

	report_iso(p->now, iso);
	f = cJSON_AddObjectToObject(o, "filters");
	if (!f || !cJSON_AddStringToObject(o, "generated", iso) ||
	    !(p->course[0] ? cJSON_AddStringToObject(f, "course", p->course)
			   : cJSON_AddNullToObject(f, "course")) ||
	    !(p->group_id ? cJSON_AddNumberToObject(f, "group",
						    (double)p->group_id)
			  : cJSON_AddNullToObject(f, "group")) ||
	    !(p->from[0] ? cJSON_AddStringToObject(f, "from", p->from)
			 : cJSON_AddNullToObject(f, "from")) ||
	    !(p->to[0] ? cJSON_AddStringToObject(f, "to", p->to)
		       : cJSON_AddNullToObject(f, "to")) ||
	    !cJSON_AddBoolToObject(o, "empty", empty != NULL) ||
	    !(empty ? cJSON_AddStringToObject(o, "message", empty)
		    : cJSON_AddNullToObject(o, "message"))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Prints v (consumed) to o. */
static void report_out_cjson(struct report_out *o, cJSON *v)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;

	cJSON_Delete(v);
	if (!text) {
		o->rc = o->rc ? o->rc : STORE_ENOMEM;
		return;
	}
	report_out_raw(o, text);
	cJSON_free(text);
}

static void report_completion_json(struct report_out *o,
				   const struct report_completion *r,
				   const char *empty)
{
	int period = r->p->from[0] || r->p->to[0];
	cJSON *root = report_head_json(r->p, empty), *rows, *row, *t;
	int ok = root && (rows = cJSON_AddArrayToObject(root, "rows"));

	for (size_t i = 0; ok && i < r->n; i++)
		ok = (row = cJSON_CreateObject()) &&
		     cJSON_AddItemToArray(rows, row) &&
		     cJSON_AddStringToObject(row, "course", r->courses[i].id) &&
		     cJSON_AddStringToObject(row, "title",
					     r->courses[i].title) &&
		     report_counts_json(row, &r->courses[i].counts, period);
	ok = ok && (t = cJSON_AddObjectToObject(root, "total")) &&
	     report_counts_json(t, &r->total, period);
	report_out_cjson(o, ok ? root : (cJSON_Delete(root), NULL));
}

static void report_completion_csv(struct report_out *o,
				  const struct report_completion *r)
{
	int period = r->p->from[0] || r->p->to[0];

	report_out_bom(o);
	report_out_field(o, "course");
	report_out_field(o, "title");
	report_counts_header(o, period);
	for (size_t i = 0; i < r->n; i++) {
		report_out_field(o, r->courses[i].id);
		report_out_field(o, r->courses[i].title);
		report_counts_csv(o, &r->courses[i].counts, period);
	}
	report_out_field(o, "");
	report_out_field(o, "Total");
	report_counts_csv(o, &r->total, period);
}

static int report_completion(sqlite3 *db, const struct report_params *p,
			     struct report_out *o)
{
	struct report_completion r = { .p = p };
	struct compliance_scope sc;
	int rc = report_period_open(db, p, &r.period);

	report_scope_of(p, &sc);
	if (!rc)
		rc = compliance_each(db, &sc, p->now, report_completion_pair,
				     &r);
	if (!rc && p->csv)
		report_completion_csv(o, &r);
	else if (!rc)
		report_completion_json(o, &r, report_empty_reason(db, p,
								  &r.total));
	sqlite3_finalize(r.period.st);
	for (size_t i = 0; i < r.n; i++) {
		free(r.courses[i].id);
		free(r.courses[i].title);
	}
	free(r.courses);
	return rc;
}

/* ---- completion by group ---- */

struct report_group {
	int64_t id;
	int64_t parent; /* 0: none */
	char *name;
	int parent_at;	/* index of the parent, -1 */
	int64_t stamp;	/* the last user counted in it */
	int64_t members;
	struct report_counts counts;
};

struct report_groups {
	const struct report_params *p;
	struct report_group *g; /* by id */
	size_t n;
	int64_t *path; /* the groups of the current user with those above */
	size_t npath;
	int64_t user; /* whose path it is */
	struct report_counts total;
	struct report_period period;
};

static int report_group_cmp(const void *key, const void *elem)
{
	int64_t a = *(const int64_t *)key;
	int64_t b = ((const struct report_group *)elem)->id;

	return a < b ? -1 : a > b;
}

static int report_group_at(const struct report_groups *r, int64_t id)
{
	const struct report_group *g = !r->n ? NULL :
		bsearch(&id, r->g, r->n, sizeof(*g), report_group_cmp);

	return g ? (int)(g - r->g) : -1;
}

static int report_groups_load(sqlite3 *db, struct report_groups *r)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT id, coalesce(parent_id, 0), "
					  "name FROM groups ORDER BY id");
	size_t cap = 0;
	struct report_group *more;
	int step = SQLITE_DONE, rc = st ? 0 : STORE_EDB;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(more = realloc(r->g, cap * sizeof(*more)))) {
				rc = STORE_ENOMEM;
				break;
			}
			r->g = more;
		}
		more = &r->g[r->n++];
		memset(more, 0, sizeof(*more));
		more->id = sqlite3_column_int64(st, 0);
		more->parent = sqlite3_column_int64(st, 1);
		if (!(more->name = strdup(db_text(st, 2))))
			rc = STORE_ENOMEM;
	}
	if (!rc && step != SQLITE_DONE)
		rc = report_fail(db, "groups");
	sqlite3_finalize(st);
	for (size_t i = 0; !rc && i < r->n; i++)
		r->g[i].parent_at = report_group_at(r, r->g[i].parent);
	if (!rc && !(r->path = malloc((r->n + 1) * sizeof(int64_t))))
		rc = STORE_ENOMEM;
	return rc;
}

/* The indexes of user's groups and of every group above them, each
 * once, into r->path. */
static void report_groups_path(struct report_groups *r, int64_t user,
			       const int64_t *groups, int ngroups)
{
	int at;

	r->npath = 0;
	r->user = user;
	for (int i = 0; i < ngroups; i++)
		for (at = report_group_at(r, groups[i]);
		     at >= 0 && r->g[at].stamp != user;
		     at = r->g[at].parent_at) {
			r->g[at].stamp = user;
			r->path[r->npath++] = at;
		}
}

static int report_groups_pair(void *arg, const struct compliance_item *it)
{
	struct report_groups *r = arg;
	int in = report_period_has(&r->period, &it->pair);

	if (r->user != it->pair.user_id)
		report_groups_path(r, it->pair.user_id, it->groups,
				   it->ngroups);
	for (size_t i = 0; i < r->npath; i++)
		report_count(&r->g[r->path[i]].counts, it->status, in);
	report_count(&r->total, it->status, in);
	return 0;
}

/* The members of each group with those of the groups below it. */
static int report_groups_members(sqlite3 *db, struct report_groups *r)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT user_id, group_id FROM "
					  "group_members ORDER BY user_id");
	int64_t user = 0, g;
	int step = SQLITE_DONE;

	if (!st)
		return STORE_EDB;
	for (size_t i = 0; i < r->n; i++)
		r->g[i].stamp = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		user = sqlite3_column_int64(st, 0);
		g = sqlite3_column_int64(st, 1);
		report_groups_path(r, user, &g, 1);
		for (size_t i = 0; i < r->npath; i++)
			r->g[r->path[i]].members++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < r->n; i++)
		r->g[i].stamp = 0;
	r->user = 0;
	return step == SQLITE_DONE ? 0 : report_fail(db, "members");
}

/* Whether group i is a row of the report: every group for an admin,
 * else those of the scope (or of the group asked for). */
static int report_groups_shown(const struct report_groups *r, size_t i)
{
	const struct report_params *p = r->p;

	return !p->groups ||
	       (p->ngroups && bsearch(&r->g[i].id, p->groups, p->ngroups,
				      sizeof(int64_t), compliance_id_cmp));
}

static void report_groups_json(struct report_out *o,
			       const struct report_groups *r,
			       const char *empty)
{
	int period = r->p->from[0] || r->p->to[0];
	cJSON *root = report_head_json(r->p, empty), *rows, *row, *t;
	int ok = root && (rows = cJSON_AddArrayToObject(root, "rows"));
	const struct report_group *g;

	for (size_t i = 0; ok && i < r->n; i++) {
		if (!report_groups_shown(r, i))
			continue;
		g = &r->g[i];
		ok = (row = cJSON_CreateObject()) &&
		     cJSON_AddItemToArray(rows, row) &&
		     cJSON_AddNumberToObject(row, "group", (double)g->id) &&
		     cJSON_AddStringToObject(row, "name", g->name) &&
		     (g->parent ? cJSON_AddNumberToObject(row, "parent",
							  (double)g->parent)
				: cJSON_AddNullToObject(row, "parent")) &&
		     cJSON_AddNumberToObject(row, "members",
					     (double)g->members) &&
		     report_counts_json(row, &g->counts, period);
	}
	ok = ok && (t = cJSON_AddObjectToObject(root, "total")) &&
	     report_counts_json(t, &r->total, period);
	report_out_cjson(o, ok ? root : (cJSON_Delete(root), NULL));
}

static void report_groups_csv(struct report_out *o,
			      const struct report_groups *r)
{
	int period = r->p->from[0] || r->p->to[0];
	const struct report_group *g;

	report_out_bom(o);
	report_out_field(o, "group");
	report_out_field(o, "name");
	report_out_field(o, "parent");
	report_out_field(o, "members");
	report_counts_header(o, period);
	for (size_t i = 0; i < r->n; i++) {
		if (!report_groups_shown(r, i))
			continue;
		g = &r->g[i];
		report_out_field_int(o, g->id);
		report_out_field(o, g->name);
		if (g->parent)
			report_out_field_int(o, g->parent);
		else
			report_out_field(o, "");
		report_out_field_int(o, g->members);
		report_counts_csv(o, &g->counts, period);
	}
}

static int report_groups(sqlite3 *db, const struct report_params *p,
			 struct report_out *o)
{
	struct report_groups r = { .p = p };
	struct compliance_scope sc;
	int rc = report_groups_load(db, &r);

	report_scope_of(p, &sc);
	if (!rc)
		rc = report_groups_members(db, &r);
	if (!rc)
		rc = report_period_open(db, p, &r.period);
	if (!rc)
		rc = compliance_each(db, &sc, p->now, report_groups_pair, &r);
	if (!rc && p->csv)
		report_groups_csv(o, &r);
	else if (!rc)
		report_groups_json(o, &r,
				   !r.n ? "there are no groups" :
					  report_empty_reason(db, p, &r.total));
	sqlite3_finalize(r.period.st);
	for (size_t i = 0; i < r.n; i++)
		free(r.g[i].name);
	free(r.g);
	free(r.path);
	return rc;
}

/* ---- people ---- */

struct report_people {
	const struct report_params *p;
	struct report_out *o;
	int64_t rows;
};

static void report_person_csv(struct report_out *o,
			      const struct compliance_item *it)
{
	const struct compliance_pair *pr = &it->pair;
	char expires[COMPLIANCE_DATE_LEN + 1] = "";

	if (pr->facts.has_cert && pr->facts.expires)
		compliance_date(pr->facts.expires, 0, expires);
	report_out_field_int(o, pr->user_id);
	report_out_field(o, it->name);
	report_out_field(o, it->email);
	report_out_field(o, pr->course);
	report_out_field(o, it->title);
	report_out_field(o, compliance_status_name(it->status));
	report_out_field(o, pr->facts.due);
	report_out_field(o, pr->facts.has_cert ? pr->number : "");
	report_out_field(o, expires);
	report_out_eol(o);
}

static void report_person_json(struct report_out *o,
			       const struct compliance_item *it, int first)
{
	const struct compliance_pair *pr = &it->pair;
	char expires[COMPLIANCE_DATE_LEN + 1] = "";

	if (pr->facts.has_cert && pr->facts.expires)
		compliance_date(pr->facts.expires, 0, expires);
	report_out_printf(o, "%s{\"user\":%lld,\"name\":", first ? "" : ",",
			  (long long)pr->user_id);
	report_out_json_str(o, it->name);
	report_out_raw(o, ",\"email\":");
	report_out_json_str(o, it->email);
	report_out_raw(o, ",\"course\":");
	report_out_json_str(o, pr->course);
	report_out_raw(o, ",\"title\":");
	report_out_json_str(o, it->title);
	report_out_printf(o, ",\"status\":\"%s\",\"due\":",
			  compliance_status_name(it->status));
	report_out_json_str(o, pr->facts.due[0] ? pr->facts.due : NULL);
	report_out_raw(o, ",\"certificate\":");
	report_out_json_str(o, pr->facts.has_cert ? pr->number : NULL);
	report_out_raw(o, ",\"expires\":");
	report_out_json_str(o, expires[0] ? expires : NULL);
	report_out_raw(o, "}");
}

static int report_people_pair(void *arg, const struct compliance_item *it)
{
	struct report_people *r = arg;

	if (!(r->p->statuses & (1u << it->status)))
		return 0;
	if (r->p->csv)
		report_person_csv(r->o, it);
	else
		report_person_json(r->o, it, !r->rows);
	r->rows++;
	return r->o->rc;
}

static const char *const report_people_columns[] = {
	"user", "name", "email", "course", "title", "status", "due",
	"certificate", "expires",
};

static int report_people(sqlite3 *db, const struct report_params *p,
			 struct report_out *o)
{
	struct report_people r = { .p = p, .o = o };
	struct compliance_scope sc;
	cJSON *head;
	char *text;
	size_t n;
	int rc;

	report_scope_of(p, &sc);
	if (p->csv) {
		report_out_bom(o);
		for (size_t i = 0; i < sizeof(report_people_columns) /
					       sizeof(*report_people_columns);
		     i++)
			report_out_field(o, report_people_columns[i]);
		report_out_eol(o);
		return compliance_each(db, &sc, p->now, report_people_pair,
				       &r);
	}
	/* the head of the object without its closing brace, the rows, then
	 * their count and whether there were any */
	head = report_head_json(p, NULL);
	cJSON_DeleteItemFromObject(head, "empty");
	cJSON_DeleteItemFromObject(head, "message");
	text = head ? cJSON_PrintUnformatted(head) : NULL;
	cJSON_Delete(head);
	if (!text)
		return STORE_ENOMEM;
	n = strlen(text);
	text[n - 1] = 0;
	report_out_raw(o, text);
	cJSON_free(text);
	report_out_raw(o, ",\"rows\":[");
	rc = compliance_each(db, &sc, p->now, report_people_pair, &r);
	report_out_printf(o, "],\"count\":%lld,\"empty\":%s,\"message\":",
			  (long long)r.rows, r.rows ? "false" : "true");
	report_out_json_str(o, r.rows ? NULL : "no learner matches");
	report_out_raw(o, "}");
	return rc;
}

/* ---- the compliance list ---- */

static int report_compliance_pair(void *arg,
				  const struct compliance_item *it)
{
	struct report_people *r = arg;
	cJSON *row;

	if (!(r->p->statuses & (1u << it->status)))
		return 0;
	row = compliance_item_json(it);
	if (r->rows++)
		report_out_raw(r->o, ",");
	report_out_cjson(r->o, row);
	return r->o->rc;
}

static int report_compliance(sqlite3 *db, const struct report_params *p,
			     struct report_out *o)
{
	struct report_people r = { .p = p, .o = o };
	struct compliance_scope sc;
	int rc;

	report_scope_of(p, &sc);
	report_out_raw(o, "[");
	rc = compliance_each(db, &sc, p->now, report_compliance_pair, &r);
	report_out_raw(o, "]");
	return rc;
}

/* ---- the entry ---- */

int report_write(sqlite3 *db, const struct report_params *p,
		 report_sink sink, void *arg)
{
	struct report_out o;
	int rc, end;

	report_out_init(&o, sink, arg, p->delimiter);
	if (db_exec(db, "BEGIN")) /* one snapshot for every statement */
		return STORE_EDB;
	switch (p->kind) {
	case REPORT_COMPLETION:
		rc = report_completion(db, p, &o);
		break;
	case REPORT_GROUPS:
		rc = report_groups(db, p, &o);
		break;
	case REPORT_PEOPLE:
		rc = report_people(db, p, &o);
		break;
	case REPORT_TRANSCRIPT:
		rc = report__transcript(db, p, &o);
		break;
	case REPORT_TIMELINE:
		rc = report__timeline(db, p, &o);
		break;
	default:
		rc = report_compliance(db, p, &o);
		break;
	}
	end = report_out_end(&o);
	db_exec(db, "COMMIT");
	return rc ? rc : end;
}
