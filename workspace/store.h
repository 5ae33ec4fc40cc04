/*
 * The workspace database (workspace.db): schema, migrations and the
 * queries of the sync client, the catalog and the commands.
 *
 * The database is the truth about what the workspace holds. A course row
 * names the revision learners see; content.git may hold more objects
 * (a pack indexed before a crash), but its refs are moved to what the
 * database says, never the other way round. Applying a mother event is
 * one transaction that checks and advances the applied sequence number,
 * so an event is applied at most once whatever happens around it.
 *
 * Functions take a connection opened with store_open() and return 0 or a
 * negative STORE_E* code; SQLite failures are logged once where they
 * happen. A connection belongs to one thread at a time.
 */
#ifndef LMS_WORKSPACE_STORE_H
#define LMS_WORKSPACE_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ids.h"

#define STORE_FILE "workspace.db"

enum store_error {
	STORE_OK = 0,
	STORE_EDB = -1,	      /* SQLite failed; logged */
	STORE_ENOTFOUND = -2, /* no such setting or course */
	STORE_ESEQ = -3,      /* the applied seq is not the one expected */
	STORE_EORIGIN = -4,   /* the id is held with the other origin */
	STORE_EREVISION = -5, /* the course is not at the expected revision */
	STORE_ENOMEM = -6,
	STORE_EINVAL = -7, /* a value that cannot be stored */
};

/* A short text for a STORE_E* code; never NULL. */
const char *store_strerror(int code);

/* Where a course comes from: streamed by the mother, or published by the
 * tenant itself. An id belongs to one origin for good. */
enum store_origin {
	STORE_ORIGIN_MOTHER,
	STORE_ORIGIN_LOCAL,
};

/* "mother" or "local". */
const char *store_origin_name(enum store_origin origin);

struct store_course {
	char id[IDS_MAX + 1];
	enum store_origin origin;
	char revision[IDS_REVISION_LEN + 1];
	char *title; /* default-language title; malloc'd, owned */
	int duration_minutes;
	int64_t published_at; /* when the revision was made, unix seconds */
	int64_t updated_at;   /* when this workspace took it */
};

/* Frees the title; the struct itself is the caller's. */
void store_course_release(struct store_course *c);

/* Opens (creating when missing) the database at path and migrates its
 * schema. The caller closes *out with sqlite3_close_v2(). */
int store_open(const char *path, sqlite3 **out);

/* ---- settings: small named texts (tenant, addresses, keys) ---- */

#define STORE_SETTING_MAX 256 /* bytes, with the NUL */

/* Copies the value of key into out (cap bytes); STORE_ENOTFOUND when
 * unset, STORE_EINVAL when it does not fit. */
int store_setting_get(sqlite3 *db, const char *key, char *out, size_t cap);
int store_setting_set(sqlite3 *db, const char *key, const char *value);

/* The settings every workspace has since enrollment. */
struct store_settings {
	char tenant[IDS_MAX + 1];
	char mother[STORE_SETTING_MAX];	    /* sync address, host:port */
	char mother_key[STORE_SETTING_MAX]; /* 64 hex digits */
	char listen[STORE_SETTING_MAX];	    /* HTTP address, host:port */
};

/* Reads all four; STORE_ENOTFOUND when one is missing. */
int store_settings_load(sqlite3 *db, struct store_settings *s);

/* Writes all four in one transaction. */
int store_settings_save(sqlite3 *db, const struct store_settings *s);

/* ---- courses ---- */

/* The course with this id into out (release it after);
 * STORE_ENOTFOUND when the workspace does not hold it. */
int store_course_get(sqlite3 *db, const char *id, struct store_course *out);

/* Every course held, sorted by id. *out is malloc'd; free it with
 * store_course_list_free(). An empty list is *out NULL, *count 0. */
int store_course_list(sqlite3 *db, struct store_course **out,
		      size_t *count);
void store_course_list_free(struct store_course *list, size_t count);

/* Records a revision of the tenant's own course, in one transaction:
 * STORE_EORIGIN when a mother course uses the id, STORE_EREVISION when
 * the course is no longer at expect_prev ("" for a new course; guards
 * against two publishes at once). origin in c is ignored. The audit
 * entry "course.publish" (by "cli", workspace/audit.h) is in the same
 * transaction. */
int store_publish_local(sqlite3 *db, const struct store_course *c,
			const char *expect_prev);

/* ---- the sync stream ---- */

/* The sequence number of the last mother event applied, 0 for none. */
int store_applied_seq(sqlite3 *db, uint64_t *out);

/* One verified mother event, ready to be recorded. */
struct store_event {
	uint64_t seq;
	const char *course;
	const char *prev_rev; /* "" when the workspace held no revision */
	const char *new_rev;
	const char *title;
	int duration_minutes;
	int64_t event_time; /* when the mother published it */
	int64_t applied_at; /* now */
};

/* Applies an event in one transaction: the applied seq must still be
 * seq - 1 (STORE_ESEQ), the course must not be local (STORE_EORIGIN) and
 * must still be at prev_rev (STORE_EREVISION); then the course is
 * upserted, the applied seq set to seq, a sync log row and the audit
 * entry "revision.apply" (workspace/audit.h) added. On any error nothing
 * changes. */
int store_apply_event(sqlite3 *db, const struct store_event *e);

#endif
