/*
 * The audit log: an append-only, hash-chained record in workspace.db of
 * every change that matters (logins, people, groups, assignments,
 * progress, certificates, revisions, settings, branding, templates).
 *
 * An entry is appended inside the transaction of the change it records,
 * so it exists exactly when the change does. Triggers refuse UPDATE and
 * DELETE on the table; whoever edits the file directly (sqlite3 and DROP
 * TRIGGER) breaks the chain, and audit_verify() names the first entry
 * that was changed, removed or inserted.
 *
 * The hash of an entry is the lower-case hex SHA-256 of its fields in
 * this order, each written as a netstring (decimal length of the bytes,
 * ':', the bytes, ','):
 *
 *   seq, at, actor_id, actor, action, object, detail, prev_hash
 *
 * seq, at and actor_id as decimal text ("-12" for a negative at), a NULL
 * actor_id as the empty string. Entry 1 has prev_hash "000...0" (64
 * zeros); every other entry has the hash of the one before. So entry
 * {1, 1700000000, 7, "a@x.org", "login", "user:7", "{}", 64 zeros}
 * hashes "1:1,10:1700000000,1:7,7:a@x.org,5:login,6:user:7,2:{},64:0...0,".
 *
 * Functions return 0 or a negative STORE_E* code (workspace/store.h),
 * logged once.
 */
#ifndef LMS_WORKSPACE_AUDIT_H
#define LMS_WORKSPACE_AUDIT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_HASH_HEX 64 /* characters, without the NUL */

struct cJSON;

/* Who acted: a user (id > 0 and their email) or, with id 0, "system"
 * (serve on its own) or "cli" (a command). name is borrowed. */
struct audit_actor {
	int64_t id;
	const char *name;
};

/* ---- appending ---- */

/* The two statements of an append, for a caller that keeps them
 * prepared (the group commit): pass them to audit_append_st(). */
extern const char audit_sql_head[];
extern const char audit_sql_insert[];

/* Appends one entry inside the caller's transaction (the caller has
 * begun it; this never begins or commits). object and detail_json may
 * be NULL ("" and "{}"); detail_json must be compact JSON and never
 * holds a password, token or mail body. Reads the last entry (one
 * lookup by primary key), so two appends in one transaction chain. */
int audit_append(sqlite3 *db, int64_t now, const struct audit_actor *who,
		 const char *action, const char *object,
		 const char *detail_json);

/* audit_append() with detail as a cJSON object (consumed; NULL for {}),
 * printed compact. When no transaction is open it runs in one of its
 * own: for events that change nothing else (a failed login). */
int audit_append_json(sqlite3 *db, int64_t now,
		      const struct audit_actor *who, const char *action,
		      const char *object, struct cJSON *detail);

/* "kind:id" into out (cap bytes): the object of an entry. */
const char *audit_object(char *out, size_t cap, const char *kind,
			 int64_t id);

/* A change and its entry in one transaction. A store function that
 * writes calls audit_begin(), which begins a transaction when none is
 * open (1) or joins the caller's (0; -1 on error), and audit_end(),
 * which commits (rc >= 0) or rolls back (rc < 0) only what
 * audit_begin() began and returns rc, or STORE_EDB when the commit
 * failed. A handler then
 * wraps the store call and audit_append() in its own transaction. */
int audit_begin(sqlite3 *db);
int audit_end(sqlite3 *db, int own, int rc);

/* audit_append() over statements prepared from audit_sql_head and
 * audit_sql_insert (borrowed; reset before returning). */
int audit_append_st(sqlite3 *db, sqlite3_stmt *head, sqlite3_stmt *insert,
		    int64_t now, const struct audit_actor *who,
		    const char *action, const char *object,
		    const char *detail_json);

/* The last entry: its seq (0 for an empty log) and hash (64 zeros for
 * an empty log) with a NUL. For sending the head out of the workspace,
 * where a later rewrite of the whole chain would show. */
int audit_head(sqlite3 *db, int64_t *seq, char hash[AUDIT_HASH_HEX + 1]);

/* ---- one entry and its hash ---- */

struct audit_entry {
	int64_t seq;
	int64_t at;
	int64_t actor_id; /* 0 for NULL */
	const char *actor;
	const char *action;
	const char *object;
	const char *detail;
	const char *prev_hash;
	const char *hash; /* as stored; not read by audit_hash() */
};

/* The hash of e's fields (not of e->hash) into out (65 bytes). -1 when
 * out of memory. */
int audit_hash(const struct audit_entry *e, char out[AUDIT_HASH_HEX + 1]);

/* ---- verifying ---- */

enum audit_problem {
	AUDIT_INTACT,
	AUDIT_CHANGED,  /* the entry's fields no longer give its hash */
	AUDIT_REMOVED,  /* the entry is missing */
	AUDIT_INSERTED, /* the entry was not appended by the workspace */
};

struct audit_report {
	int64_t entries;
	int64_t head_seq;
	char head_hash[AUDIT_HASH_HEX + 1];
	enum audit_problem problem;
	int64_t problem_seq;
	char message[96]; /* "entry 12 was changed", "" when intact */
};

/* An outside head to check against (--head SEQ:HASH): catches entries
 * removed from the end and a chain rewritten up to that point. */
struct audit_expect {
	int64_t seq;
	char hash[AUDIT_HASH_HEX + 1];
};

/* Walks the log in seq order and fills out; 0 when the walk ran (look
 * at out->problem), an error when the database could not be read.
 * expect may be NULL. */
int audit_verify(sqlite3 *db, const struct audit_expect *expect,
		 struct audit_report *out);

/* "changed", "removed", "inserted" or "intact". */
const char *audit_problem_name(enum audit_problem p);

/* Parses "SEQ:HASH"; -1 when it is not that. */
int audit_expect_parse(const char *s, struct audit_expect *out);

/* ---- reading ---- */

/* Calls row for each entry with seq >= from, in seq order (descending
 * and starting at the newest when from is 0), at most limit of them (0:
 * all); stops early when row returns non-zero and returns that. */
typedef int (*audit_row_fn)(const struct audit_entry *e, void *arg);
int audit_each(sqlite3 *db, int64_t from, int64_t limit, audit_row_fn row,
	       void *arg);

/* One entry as a JSON object {"seq", "at", "actor_id" (or null),
 * "actor", "action", "object", "detail", "prev_hash", "hash"}, where
 * detail is a string holding the stored JSON text, exactly the hashed
 * bytes. The caller frees it (cJSON_Delete); NULL when out of memory. */
struct cJSON *audit_entry_json(const struct audit_entry *e);

/* ---- the command line and the API ---- */

/* `lms-workspace audit ...` (workspace/audit_cli.c): argv[0] is
 * "audit". */
int audit_cli(int argc, char **argv);

struct api_ctx;
struct http_exchange;
struct http_request;

/* GET /api/v1/audit and /api/v1/audit/verify (admins); an
 * api_route_fn (workspace/api.h). */
int audit_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req);

#endif
