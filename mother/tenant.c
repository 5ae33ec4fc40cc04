/*
 * Tenants, licences and enrollment tokens; JSON listings of tenants and
 * courses.
 */
#include "mother/tenant.h"

#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"
#include "mother/audithead.h"
#include "mother/publish.h"
#include "mother/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tenant_make_token(struct mother *m, const char *id,
			     char token[65])
{
	uint8_t raw[32];
	int64_t expires = clock_now(&m->clock) + TENANT_TOKEN_DAYS * 86400;

	if (crypto_random(raw, sizeof(raw)))
		return -1;
	crypto_hex(raw, sizeof(raw), token);
	return store_set_token(m->db, id, token, expires);
}

static int tenant_exec(sqlite3 *db, const char *sql, const char *a,
		       const char *b, sqlite3_int64 n)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, n);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* 1 when the query (one ? for the id) finds a row. */
static int tenant_row_exists(sqlite3 *db, const char *sql, const char *id)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int found;

	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int tenant_course_exists(sqlite3 *db, const char *course)
{
	return tenant_row_exists(db, "SELECT 1 FROM courses WHERE id = ?",
				 course);
}

static int tenant_exists(sqlite3 *db, const char *id)
{
	return tenant_row_exists(db, "SELECT 1 FROM tenants WHERE id = ?", id);
}

/* Adds licences inside the caller's transaction. */
static int tenant_add_licences(struct mother *m, const char *id,
			       const char *courses)
{
	char *list, *save = NULL;
	int rc = 0;

	if (!courses || !*courses)
		return 0;
	if (!strcmp(courses, "all"))
		return tenant_exec(m->db,
				   "UPDATE tenants SET all_courses = 1"
				   " WHERE id = ?1",
				   id, NULL, 0) ||
		       tenant_exec(m->db,
				   "INSERT OR IGNORE INTO licences (tenant,"
				   " course) SELECT ?1, id FROM courses",
				   id, NULL, 0);
	list = strdup(courses);
	for (char *c = strtok_r(list, ",", &save); c && !rc;
	     c = strtok_r(NULL, ",", &save)) {
		if (!tenant_course_exists(m->db, c)) {
			fprintf(stderr, "lms-mother: no such course: %s\n", c);
			rc = -1;
			break;
		}
		rc = tenant_exec(m->db,
				 "INSERT OR IGNORE INTO licences (tenant,"
				 " course) VALUES (?1, ?2)", id, c, 0);
	}
	free(list);
	return rc;
}

static int tenant_insert(struct mother *m, const struct tenant_new *t)
{
	if (tenant_exec(m->db,
			"INSERT INTO tenants (id, name, created_at)"
			" VALUES (?1, ?2, ?3)",
			t->id, t->name, clock_now(&m->clock)))
		return -1;
	for (size_t i = 0; i < t->domain_count; i++)
		if (tenant_exec(m->db,
				"INSERT OR IGNORE INTO domains (tenant, domain)"
				" VALUES (?1, lower(?2))",
				t->id, t->domains[i], 0))
			return -1;
	return 0;
}

static int tenant_domain_valid(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 253)
		return 0;
	for (; *d; d++)
		if (!((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') ||
		      (*d >= '0' && *d <= '9') || *d == '-' || *d == '.'))
			return 0;
	return 1;
}

static int tenant_check_new(struct mother *m, const struct tenant_new *t)
{
	if (!ids_valid(t->id)) {
		fprintf(stderr, "lms-mother: invalid tenant id \"%s\" (1 to 64 "
				"of a-z, 0-9 and -)\n", t->id);
		return -1;
	}
	if (!t->name || !*t->name) {
		fprintf(stderr, "lms-mother: a tenant needs --name\n");
		return -1;
	}
	for (size_t i = 0; i < t->domain_count; i++)
		if (!tenant_domain_valid(t->domains[i])) {
			fprintf(stderr, "lms-mother: invalid domain \"%s\"\n",
				t->domains[i]);
			return -1;
		}
	if (tenant_exists(m->db, t->id)) {
		fprintf(stderr, "lms-mother: tenant %s already exists\n",
			t->id);
		return -1;
	}
	return 0;
}

int tenant_add(struct mother *m, const struct tenant_new *t, char token[65])
{
	if (tenant_check_new(m, t) || db_begin(m->db))
		return -1;
	if (tenant_insert(m, t) || tenant_add_licences(m, t->id, t->courses) ||
	    tenant_make_token(m, t->id, token) || db_commit(m->db)) {
		db_rollback(m->db);
		return -1;
	}
	log_info("msg=\"tenant added\" tenant=%s", t->id);
	return publish_catch_up(m, NULL) < 0 ? -1 : 0;
}

int tenant_license(struct mother *m, const char *id, const char *courses)
{
	if (!tenant_exists(m->db, id)) {
		fprintf(stderr, "lms-mother: no such tenant: %s\n", id);
		return -1;
	}
	if (db_begin(m->db))
		return -1;
	if (tenant_add_licences(m, id, courses) || db_commit(m->db)) {
		db_rollback(m->db);
		return -1;
	}
	return publish_catch_up(m, NULL) < 0 ? -1 : 0;
}

int tenant_new_token(struct mother *m, const char *id, char token[65])
{
	if (!tenant_exists(m->db, id)) {
		fprintf(stderr, "lms-mother: no such tenant: %s\n", id);
		return -1;
	}
	return tenant_make_token(m, id, token);
}

/* ---- listings ---- */

static int tenant_in_list(const char *list, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = list; p && (p = strstr(p, id)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
	return 0;
}

static void tenant_add_domains(sqlite3 *db, cJSON *obj, const char *id)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "domains");
	sqlite3_stmt *st = db_prepare(db,
		"SELECT domain FROM domains WHERE tenant = ? ORDER BY domain");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, cJSON_CreateString(db_text(st, 0)));
	sqlite3_finalize(st);
}

static void tenant_add_courses(sqlite3 *db, cJSON *obj, const char *id)
{
	cJSON *courses = cJSON_AddObjectToObject(obj, "courses");
	sqlite3_stmt *st = db_prepare(db,
		"SELECT course, acked_rev FROM licences WHERE tenant = ?"
		" ORDER BY course");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			cJSON_AddNullToObject(courses, db_text(st, 0));
		else
			cJSON_AddStringToObject(courses, db_text(st, 0),
						db_text(st, 1));
	}
	sqlite3_finalize(st);
}

/* Per licensed course, how far the tenant is behind: events of the
 * course in its stream not yet acknowledged, and revisions published
 * after the one it acknowledged. */
static void tenant_add_lag(sqlite3 *db, cJSON *obj, const char *id)
{
	cJSON *lag = cJSON_AddObjectToObject(obj, "lag");
	sqlite3_stmt *st = db_prepare(db,
		"SELECT l.course,"
		" (SELECT count(*) FROM events e, tenants t WHERE t.id = ?1"
		"  AND e.tenant = ?1 AND e.course = l.course"
		"  AND e.seq > t.acked_seq),"
		" (SELECT count(*) FROM revisions r WHERE r.course = l.course"
		"  AND r.rowid > coalesce((SELECT a.rowid FROM revisions a"
		"   WHERE a.course = l.course AND a.revision = l.acked_rev),"
		"   0))"
		" FROM licences l WHERE l.tenant = ?1 ORDER BY l.course");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *c = cJSON_AddObjectToObject(lag, db_text(st, 0));

		cJSON_AddNumberToObject(c, "events",
					sqlite3_column_int(st, 1));
		cJSON_AddNumberToObject(c, "revisions",
					sqlite3_column_int(st, 2));
	}
	sqlite3_finalize(st);
}

static cJSON *tenant_row_json(sqlite3 *db, sqlite3_stmt *st,
			      const char *connected)
{
	const char *id = db_text(st, 0);
	cJSON *o = cJSON_CreateObject();
	char when[32];

	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "name", db_text(st, 1));
	tenant_add_domains(db, o, id);
	cJSON_AddBoolToObject(o, "connected", tenant_in_list(connected, id));
	tenant_add_courses(db, o, id);
	cJSON_AddBoolToObject(o, "enrolled",
			      sqlite3_column_type(st, 2) != SQLITE_NULL);
	cJSON_AddNumberToObject(o, "stream_head",
				(double)sqlite3_column_int64(st, 3));
	cJSON_AddNumberToObject(o, "acked_seq",
				(double)sqlite3_column_int64(st, 4));
	if (sqlite3_column_type(st, 5) == SQLITE_NULL) {
		cJSON_AddNullToObject(o, "last_contact");
	} else {
		clock_format_iso(sqlite3_column_int64(st, 5), when,
				 sizeof(when));
		cJSON_AddStringToObject(o, "last_contact", when);
	}
	tenant_add_lag(db, o, id);
	cJSON_AddItemToObject(o, "audit", audithead_json(db, id));
	return o;
}

cJSON *tenant_list_json(struct mother *m, const char *connected)
{
	sqlite3_stmt *st = db_prepare(m->db,
		"SELECT id, name, public_key, last_seq, acked_seq, last_contact"
		" FROM tenants ORDER BY id");
	cJSON *arr;

	if (!st)
		return NULL;
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, tenant_row_json(m->db, st,
							  connected));
	sqlite3_finalize(st);
	return arr;
}

cJSON *tenant_course_list_json(struct mother *m)
{
	sqlite3_stmt *st = db_prepare(m->db,
		"SELECT id, title, revision FROM courses ORDER BY id");
	cJSON *arr;

	if (!st)
		return NULL;
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", db_text(st, 0));
		cJSON_AddStringToObject(o, "title", db_text(st, 1));
		if (sqlite3_column_type(st, 2) == SQLITE_NULL)
			cJSON_AddNullToObject(o, "revision");
		else
			cJSON_AddStringToObject(o, "revision", db_text(st, 2));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}
