/*
 * workspace.db: the schema of the workspace's own data and the queries
 * around courses and the sync stream. Every write that must be atomic
 * with a check (the applied seq, a course's origin and revision) runs
 * under BEGIN IMMEDIATE, so two processes on the same database (serve
 * applying an event, `course publish` from a shell) serialise cleanly.
 */
#include "workspace/store.h"

#include "common/db.h"
#include "common/log.h"
#include "workspace/audit.h"
#include "workspace/audit_schema.h"
#include "workspace/brand_schema.h"
#include "workspace/cert_schema.h"
#include "workspace/certtpl_schema.h"
#include "workspace/compliance_schema.h"
#include "workspace/learn_schema.h"
#include "workspace/mail_schema.h"
#include "workspace/people_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes the rule-based memberships of one user (an SQL expression) what
 * the rules say; the body of the triggers of migration 3. */
#define STORE_REGROUP(who)                                                 \
	"DELETE FROM group_members WHERE user_id = " who " AND from_rule = 1" \
	"  AND group_id NOT IN (SELECT group_id FROM group_matches"          \
	"  WHERE user_id = " who ");"                                        \
	"INSERT OR IGNORE INTO group_members (group_id, user_id, from_rule)" \
	"  SELECT group_id, user_id, 1 FROM group_matches"                   \
	"  WHERE user_id = " who ";"

static const struct db_migration store_migrations[] = {
	{ 1,
	  "CREATE TABLE settings ("
	  "  key TEXT PRIMARY KEY,"
	  "  value TEXT NOT NULL"
	  ") WITHOUT ROWID;"
	  "CREATE TABLE courses ("
	  "  id TEXT PRIMARY KEY,"
	  "  origin TEXT NOT NULL CHECK (origin IN ('mother', 'local')),"
	  "  revision TEXT NOT NULL CHECK (length(revision) = 40),"
	  "  title TEXT NOT NULL,"
	  "  duration_minutes INTEGER NOT NULL DEFAULT 0,"
	  "  published_at INTEGER NOT NULL,"
	  "  updated_at INTEGER NOT NULL"
	  ") WITHOUT ROWID;"
	  "CREATE TABLE sync_state ("
	  "  id INTEGER PRIMARY KEY CHECK (id = 1),"
	  "  applied_seq INTEGER NOT NULL CHECK (applied_seq >= 0)"
	  ");"
	  "INSERT INTO sync_state (id, applied_seq) VALUES (1, 0);"
	  "CREATE TABLE sync_log ("
	  "  seq INTEGER PRIMARY KEY,"
	  "  course TEXT NOT NULL,"
	  "  prev_rev TEXT NOT NULL,"
	  "  new_rev TEXT NOT NULL,"
	  "  event_time INTEGER NOT NULL,"
	  "  applied_at INTEGER NOT NULL"
	  ");" },
	/* people and access (workspace/people.c) */
	{ 2,
	  "CREATE TABLE users ("
	  "  id INTEGER PRIMARY KEY,"
	  "  email TEXT NOT NULL UNIQUE CHECK (email = lower(email)),"
	  "  name TEXT NOT NULL,"
	  "  role TEXT NOT NULL DEFAULT 'learner'"
	  "    CHECK (role IN ('admin', 'manager', 'learner')),"
	  "  password_hash TEXT,"
	  "  created_at INTEGER NOT NULL"
	  ");"
	  "CREATE TABLE user_attributes ("
	  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	  "  key TEXT NOT NULL,"
	  "  value TEXT NOT NULL,"
	  "  PRIMARY KEY (user_id, key)"
	  ") WITHOUT ROWID;"
	  "CREATE TABLE api_tokens ("
	  "  token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),"
	  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	  "  created_at INTEGER NOT NULL"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX api_tokens_user ON api_tokens (user_id);"
	  "CREATE TABLE sessions ("
	  "  id_hash TEXT PRIMARY KEY CHECK (length(id_hash) = 64),"
	  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	  "  csrf_token TEXT NOT NULL,"
	  "  created_at INTEGER NOT NULL,"
	  "  expires_at INTEGER NOT NULL"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX sessions_user ON sessions (user_id);" },
	/* groups and their rules (workspace/groups.c). group_terms holds a
	 * group's own rule and those of its ancestors: a group with a rule
	 * (by_rule = 1) has as members exactly the users whose attributes
	 * match every term. The triggers keep that true when a user is
	 * added or their attributes change, in the same transaction. */
	{ 3,
	  "CREATE TABLE groups ("
	  "  id INTEGER PRIMARY KEY,"
	  "  name TEXT NOT NULL,"
	  "  parent_id INTEGER REFERENCES groups (id),"
	  "  rule TEXT NOT NULL DEFAULT '{}',"
	  "  by_rule INTEGER NOT NULL DEFAULT 0 CHECK (by_rule IN (0, 1)),"
	  "  created_at INTEGER NOT NULL"
	  ");"
	  "CREATE INDEX groups_parent ON groups (parent_id);"
	  "CREATE TABLE group_terms ("
	  "  group_id INTEGER NOT NULL REFERENCES groups (id)"
	  "    ON DELETE CASCADE,"
	  "  key TEXT NOT NULL,"
	  "  value TEXT NOT NULL,"
	  "  PRIMARY KEY (group_id, key, value)"
	  ") WITHOUT ROWID;"
	  "CREATE TABLE group_members ("
	  "  group_id INTEGER NOT NULL REFERENCES groups (id)"
	  "    ON DELETE CASCADE,"
	  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	  "  from_rule INTEGER NOT NULL DEFAULT 1 CHECK (from_rule IN (0, 1)),"
	  "  PRIMARY KEY (group_id, user_id)"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX group_members_user ON group_members (user_id);"
	  "CREATE VIEW group_matches AS"
	  "  SELECT g.id AS group_id, u.id AS user_id FROM groups g, users u"
	  "  WHERE g.by_rule = 1 AND NOT EXISTS (SELECT 1 FROM group_terms t"
	  "    WHERE t.group_id = g.id AND NOT EXISTS (SELECT 1"
	  "      FROM user_attributes a WHERE a.user_id = u.id"
	  "      AND a.key = t.key AND a.value = t.value));"
	  "CREATE TRIGGER users_regroup AFTER INSERT ON users BEGIN "
	  STORE_REGROUP("NEW.id") " END;"
	  "CREATE TRIGGER user_attributes_insert_regroup AFTER INSERT"
	  "  ON user_attributes BEGIN " STORE_REGROUP("NEW.user_id") " END;"
	  "CREATE TRIGGER user_attributes_update_regroup AFTER UPDATE"
	  "  ON user_attributes BEGIN " STORE_REGROUP("OLD.user_id")
	  STORE_REGROUP("NEW.user_id") " END;"
	  "CREATE TRIGGER user_attributes_delete_regroup AFTER DELETE"
	  "  ON user_attributes BEGIN " STORE_REGROUP("OLD.user_id") " END;" },
	/* course assignments (workspace/assign.c): a course given to one
	 * group or one user, with a due date "YYYY-MM-DD". The members of a
	 * group are joined in when read, never copied. */
	{ 4,
	  "CREATE TABLE assignments ("
	  "  id INTEGER PRIMARY KEY,"
	  "  course_id TEXT NOT NULL,"
	  "  group_id INTEGER REFERENCES groups (id) ON DELETE CASCADE,"
	  "  user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,"
	  "  due TEXT NOT NULL CHECK (length(due) = 10),"
	  "  created_at INTEGER NOT NULL,"
	  "  CHECK ((group_id IS NULL) <> (user_id IS NULL))"
	  ");"
	  "CREATE INDEX assignments_group ON assignments (group_id);"
	  "CREATE INDEX assignments_user ON assignments (user_id);"
	  "CREATE INDEX assignments_course ON assignments (course_id);" },
	/* learner progress (workspace/learn.c): completions tied to the
	 * lesson id and the blob id of its file, and every quiz attempt,
	 * each with the course revision it was made on. */
	{ 5,
	  "CREATE TABLE lesson_completions ("
	  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	  "  course_id TEXT NOT NULL,"
	  "  lesson_id TEXT NOT NULL,"
	  "  blob_id TEXT NOT NULL,"
	  "  revision TEXT NOT NULL,"
	  "  completed_at INTEGER NOT NULL,"
	  "  PRIMARY KEY (user_id, course_id, lesson_id, blob_id)"
	  ");"
	  "CREATE TABLE quiz_attempts ("
	  "  id INTEGER PRIMARY KEY,"
	  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	  "  course_id TEXT NOT NULL,"
	  "  lesson_id TEXT NOT NULL,"
	  "  blob_id TEXT NOT NULL,"
	  "  revision TEXT NOT NULL,"
	  "  score INTEGER NOT NULL,"
	  "  passed INTEGER NOT NULL,"
	  "  created_at INTEGER NOT NULL"
	  ");"
	  "CREATE INDEX quiz_attempts_user ON quiz_attempts"
	  "  (user_id, course_id, lesson_id);" },
	/* revisions and self-enrollment (workspace/learn.c, catalog.c) */
	{ 6, LEARN_SCHEMA },
	/* invitations, password links and login throttling (people.c) */
	{ 7, PEOPLE_SCHEMA },
	/* branding assets (workspace/brand.c) */
	{ 8, BRAND_SCHEMA },
	/* settings and the mail outbox (workspace/mail.c) */
	{ 9, MAIL_SCHEMA },
	/* certificates (workspace/cert.c) */
	{ 10, CERT_SCHEMA },
	/* recurrence, rounds and reminders (workspace/compliance.c) */
	{ 11, COMPLIANCE_SCHEMA },
	/* certificate templates (workspace/certtpl.c) */
	{ 12, CERTTPL_SCHEMA },
	/* managers found by their role (workspace/compliance.c) */
	{ 13, COMPLIANCE_INDEX_SCHEMA },
	/* the append-only audit log (workspace/audit.c) */
	{ 14, AUDIT_SCHEMA },
	/* every pair's latest completion from an index (compliance.c) */
	{ 15, COMPLIANCE_DONE_INDEX_SCHEMA },
	/* the certificates not revoked from an index (compliance.c) */
	{ 16, COMPLIANCE_CERT_INDEX_SCHEMA },
	/* a manager's overdue copies in one mail (digest.c) */
	{ 17, COMPLIANCE_DIGEST_SCHEMA },
#undef STORE_REGROUP
};

const char *store_strerror(int code)
{
	switch (code) {
	case STORE_OK:
		return "ok";
	case STORE_EDB:
		return "database error";
	case STORE_ENOTFOUND:
		return "not found";
	case STORE_ESEQ:
		return "applied sequence number moved";
	case STORE_EORIGIN:
		return "id held with another origin";
	case STORE_EREVISION:
		return "course is not at the expected revision";
	case STORE_ENOMEM:
		return "out of memory";
	case STORE_EINVAL:
		return "invalid value";
	}
	return "unknown error";
}

const char *store_origin_name(enum store_origin origin)
{
	return origin == STORE_ORIGIN_LOCAL ? "local" : "mother";
}

void store_course_release(struct store_course *c)
{
	free(c->title);
	c->title = NULL;
}

int store_open(const char *path, sqlite3 **out)
{
	size_t n = sizeof(store_migrations) / sizeof(store_migrations[0]);

	return db_open(path, store_migrations, n, out) ? STORE_EDB : 0;
}

/* Logs a failed step once, naming what the statement was for. */
static int store_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"database query failed\" query=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

/* Copies a column into a fixed buffer; STORE_EINVAL when it is longer. */
static int store_copy_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const char *t = db_text(st, col);
	size_t len = strlen(t);

	if (len >= cap)
		return STORE_EINVAL;
	memcpy(out, t, len + 1);
	return 0;
}

/* ---- settings ---- */

int store_setting_get(sqlite3 *db, const char *key, char *out, size_t cap)
{
	sqlite3_stmt *st;
	int rc, step;

	st = db_prepare(db, "SELECT value FROM settings WHERE key = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = store_copy_text(st, 0, out, cap);
	else if (step == SQLITE_DONE)
		rc = STORE_ENOTFOUND;
	else
		rc = store_fail(db, "setting_get");
	sqlite3_finalize(st);
	return rc;
}

int store_setting_set(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO settings (key, value) VALUES (?1, ?2)"
			    " ON CONFLICT (key) DO UPDATE SET value = ?2");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_fail(db, "setting_set");
	sqlite3_finalize(st);
	return rc;
}

int store_settings_load(sqlite3 *db, struct store_settings *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = store_setting_get(db, "tenant", s->tenant, sizeof(s->tenant));
	if (!rc)
		rc = store_setting_get(db, "mother", s->mother,
				       sizeof(s->mother));
	if (!rc)
		rc = store_setting_get(db, "mother_key", s->mother_key,
				       sizeof(s->mother_key));
	if (!rc)
		rc = store_setting_get(db, "listen", s->listen,
				       sizeof(s->listen));
	return rc;
}

int store_settings_save(sqlite3 *db, const struct store_settings *s)
{
	if (db_begin(db))
		return STORE_EDB;
	if (store_setting_set(db, "tenant", s->tenant) ||
	    store_setting_set(db, "mother", s->mother) ||
	    store_setting_set(db, "mother_key", s->mother_key) ||
	    store_setting_set(db, "listen", s->listen) || db_commit(db)) {
		db_rollback(db);
		return STORE_EDB;
	}
	return 0;
}

/* ---- courses ---- */

#define STORE_COURSE_COLUMNS                                           \
	"id, origin, revision, title, duration_minutes, published_at, " \
	"updated_at"

/* Reads a row selected with STORE_COURSE_COLUMNS. */
static int store_course_from_row(sqlite3_stmt *st, struct store_course *c)
{
	memset(c, 0, sizeof(*c));
	if (store_copy_text(st, 0, c->id, sizeof(c->id)) ||
	    store_copy_text(st, 2, c->revision, sizeof(c->revision)))
		return STORE_EINVAL;
	c->origin = strcmp(db_text(st, 1), "local") ? STORE_ORIGIN_MOTHER :
						      STORE_ORIGIN_LOCAL;
	c->title = strdup(db_text(st, 3));
	if (!c->title)
		return STORE_ENOMEM;
	c->duration_minutes = sqlite3_column_int(st, 4);
	c->published_at = sqlite3_column_int64(st, 5);
	c->updated_at = sqlite3_column_int64(st, 6);
	return 0;
}

int store_course_get(sqlite3 *db, const char *id, struct store_course *out)
{
	sqlite3_stmt *st;
	int rc, step;

	memset(out, 0, sizeof(*out));
	st = db_prepare(db, "SELECT " STORE_COURSE_COLUMNS
			    " FROM courses WHERE id = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = store_course_from_row(st, out);
	else if (step == SQLITE_DONE)
		rc = STORE_ENOTFOUND;
	else
		rc = store_fail(db, "course_get");
	sqlite3_finalize(st);
	if (rc)
		store_course_release(out);
	return rc;
}

void store_course_list_free(struct store_course *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		store_course_release(&list[i]);
	free(list);
}

/* Appends one row to a growing array. */
static int store_list_push(sqlite3_stmt *st, struct store_course **list,
			   size_t *count, size_t *cap)
{
	struct store_course *grown;
	int rc;

	if (*count == *cap) {
		size_t want = *cap ? *cap * 2 : 16;

		grown = realloc(*list, want * sizeof(**list));
		if (!grown)
			return STORE_ENOMEM;
		*list = grown;
		*cap = want;
	}
	rc = store_course_from_row(st, &(*list)[*count]);
	if (rc) {
		store_course_release(&(*list)[*count]);
		return rc;
	}
	(*count)++;
	return 0;
}

int store_course_list(sqlite3 *db, struct store_course **out,
		      size_t *count)
{
	struct store_course *list = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc = 0, step;

	*out = NULL;
	*count = 0;
	st = db_prepare(db, "SELECT " STORE_COURSE_COLUMNS
			    " FROM courses ORDER BY id");
	if (!st)
		return STORE_EDB;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = store_list_push(st, &list, &n, &cap);
	if (!rc && step != SQLITE_DONE)
		rc = store_fail(db, "course_list");
	sqlite3_finalize(st);
	if (rc) {
		store_course_list_free(list, n);
		return rc;
	}
	*out = list;
	*count = n;
	return 0;
}

/* Inserts or replaces the course row; runs inside the caller's
 * transaction. */
static int store_course_upsert(sqlite3 *db, const struct store_course *c)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO courses (" STORE_COURSE_COLUMNS ")"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
			    " ON CONFLICT (id) DO UPDATE SET"
			    " origin = ?2, revision = ?3, title = ?4,"
			    " duration_minutes = ?5, published_at = ?6,"
			    " updated_at = ?7");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, store_origin_name(c->origin), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->revision, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->title ? c->title : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, c->duration_minutes);
	sqlite3_bind_int64(st, 6, c->published_at);
	sqlite3_bind_int64(st, 7, c->updated_at);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_fail(db, "course_upsert");
	sqlite3_finalize(st);
	return rc;
}

/* Checks, inside a transaction, that the id is free or held with origin
 * and at revision expect ("" meaning not held at all). */
static int store_course_expect(sqlite3 *db, const char *id,
			       enum store_origin origin, const char *expect)
{
	struct store_course cur;
	int rc = store_course_get(db, id, &cur);

	if (rc == STORE_ENOTFOUND)
		return *expect ? STORE_EREVISION : 0;
	if (rc)
		return rc;
	if (cur.origin != origin)
		rc = STORE_EORIGIN;
	else if (strcmp(cur.revision, expect))
		rc = STORE_EREVISION;
	store_course_release(&cur);
	return rc;
}

/* The audit entry of a revision taken: "revision.apply" (an event of
 * the mother, by the system) or "course.publish" (a local course, by
 * the command line), inside the transaction that takes it. */
static int store_audit_revision(sqlite3 *db, int64_t now, int local,
				const char *course, const char *from,
				const char *to, uint64_t seq)
{
	struct audit_actor who = { 0, local ? "cli" : "system" };
	char object[IDS_MAX + 8], detail[IDS_MAX + 2 * 41 + 80];

	/* ids and revisions are plain [a-z0-9-]: nothing to escape */
	snprintf(object, sizeof(object), "course:%s", course);
	if (local)
		snprintf(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":"
			 "\"%s\"}", from ? from : "", to);
	else
		snprintf(detail, sizeof(detail), "{\"seq\":%llu,\"from\":\"%s"
			 "\",\"to\":\"%s\"}", (unsigned long long)seq, from,
			 to);
	return audit_append(db, now, &who,
			    local ? "course.publish" : "revision.apply",
			    object, detail);
}

int store_publish_local(sqlite3 *db, const struct store_course *c,
			const char *expect_prev)
{
	struct store_course row = *c;
	int rc;

	if (!ids_valid(c->id) || !ids_is_revision(c->revision))
		return STORE_EINVAL;
	row.origin = STORE_ORIGIN_LOCAL;
	if (db_begin(db))
		return STORE_EDB;
	rc = store_course_expect(db, c->id, STORE_ORIGIN_LOCAL, expect_prev);
	if (!rc)
		rc = store_course_upsert(db, &row);
	if (!rc)
		rc = store_audit_revision(db, c->published_at, 1, c->id,
					  expect_prev, c->revision, 0);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}

/* ---- the sync stream ---- */

int store_applied_seq(sqlite3 *db, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "SELECT applied_seq FROM sync_state WHERE id = 1");
	if (!st)
		return STORE_EDB;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = store_fail(db, "applied_seq");
	sqlite3_finalize(st);
	return rc;
}

/* Moves the applied seq from seq - 1 to seq, in the caller's
 * transaction; STORE_ESEQ when it is elsewhere. */
static int store_advance_seq(sqlite3 *db, uint64_t seq)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "UPDATE sync_state SET applied_seq = ?1"
			    " WHERE id = 1 AND applied_seq = ?1 - 1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_fail(db, "advance_seq");
	else if (sqlite3_changes(db) != 1)
		rc = STORE_ESEQ;
	sqlite3_finalize(st);
	return rc;
}

static int store_log_event(sqlite3 *db, const struct store_event *e)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = db_prepare(db, "INSERT INTO sync_log (seq, course, prev_rev,"
			    " new_rev, event_time, applied_at)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)e->seq);
	sqlite3_bind_text(st, 2, e->course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->prev_rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->new_rev, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, e->event_time);
	sqlite3_bind_int64(st, 6, e->applied_at);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_fail(db, "log_event");
	sqlite3_finalize(st);
	return rc;
}

/* The steps of store_apply_event, inside its transaction. */
static int store_apply_steps(sqlite3 *db, const struct store_event *e)
{
	struct store_course c;
	int rc;

	rc = store_advance_seq(db, e->seq);
	if (!rc)
		rc = store_course_expect(db, e->course, STORE_ORIGIN_MOTHER,
					 e->prev_rev);
	if (rc)
		return rc;

	memset(&c, 0, sizeof(c));
	memcpy(c.id, e->course, strlen(e->course) + 1);
	memcpy(c.revision, e->new_rev, IDS_REVISION_LEN + 1);
	c.origin = STORE_ORIGIN_MOTHER;
	c.title = (char *)e->title;
	c.duration_minutes = e->duration_minutes;
	c.published_at = e->event_time;
	c.updated_at = e->applied_at;
	rc = store_course_upsert(db, &c);
	if (!rc)
		rc = store_log_event(db, e);
	return rc;
}

int store_apply_event(sqlite3 *db, const struct store_event *e)
{
	int rc;

	if (e->seq == 0 || e->seq > INT64_MAX || !ids_valid(e->course) ||
	    !ids_is_revision(e->new_rev) ||
	    (*e->prev_rev && !ids_is_revision(e->prev_rev)))
		return STORE_EINVAL;
	if (db_begin(db))
		return STORE_EDB;
	rc = store_apply_steps(db, e);
	if (!rc)
		rc = store_audit_revision(db, e->applied_at, 0, e->course,
					  e->prev_rev, e->new_rev, e->seq);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}
