/*
 * The audit log (see audit.h): hashing an entry, appending one inside
 * the caller's transaction, and walking the chain to verify or export
 * it.
 *
 * Verifying keeps the hashes of the last two entries and decides at the
 * first entry that does not fit, by what that entry is like:
 *
 *   its seq skips a number           the first missing seq was removed
 *   it links to the entry two back   the one between was inserted
 *   it links right, fields changed   it was changed
 *   it links wrong, its hash fits    undecided until the next entry: if
 *                                    that links to this one, the entry
 *                                    before was changed and its hash
 *                                    recomputed; else (or at the end)
 *                                    this one was inserted
 *   it links wrong, its hash fits    the log was renumbered after this
 *     its fields with seq + 1        seq was removed
 *   it links wrong, hash wrong       it was changed
 *
 * Deleting the last entries, or rewriting every hash from an entry on,
 * leaves a chain that fits; only a head kept elsewhere shows that.
 */
#include "workspace/audit.h"

#include "common/buf.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/log.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the prev_hash of entry 1 */
#define AUDIT_ZEROS                                                      \
	"00000000000000000000000000000000"                               \
	"00000000000000000000000000000000"

const char audit_sql_head[] =
	"SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
const char audit_sql_insert[] =
	"INSERT INTO audit_log (seq, at, actor_id, actor, action, object, "
	"detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

#define AUDIT_SELECT                                                      \
	"SELECT seq, at, actor_id, actor, action, object, detail, "       \
	"prev_hash, hash FROM audit_log "

static int audit_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"audit query failed\" what=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

/* ---- hashing ---- */

static int audit_netstring(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	return buf_printf(b, "%zu:", n) || buf_append(b, s, n) ||
	       buf_append(b, ",", 1);
}

static int audit_netnumber(struct buf *b, int64_t v, int empty)
{
	char num[24] = "";

	if (!empty)
		snprintf(num, sizeof(num), "%" PRId64, v);
	return audit_netstring(b, num);
}

int audit_hash(const struct audit_entry *e, char out[AUDIT_HASH_HEX + 1])
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	struct buf b;
	int rc;

	buf_init(&b);
	rc = audit_netnumber(&b, e->seq, 0) || audit_netnumber(&b, e->at, 0) ||
	     audit_netnumber(&b, e->actor_id, e->actor_id == 0) ||
	     audit_netstring(&b, e->actor) || audit_netstring(&b, e->action) ||
	     audit_netstring(&b, e->object) ||
	     audit_netstring(&b, e->detail) ||
	     audit_netstring(&b, e->prev_hash);
	if (!rc) {
		crypto_sha256(b.data, b.len, digest);
		crypto_hex(digest, sizeof(digest), out);
	}
	buf_release(&b);
	return rc ? -1 : 0;
}

/* ---- appending ---- */

/* The last entry's seq and hash through st (audit_sql_head). */
static int audit_head_st(sqlite3 *db, sqlite3_stmt *st, int64_t *seq,
			 char hash[AUDIT_HASH_HEX + 1])
{
	int step = sqlite3_step(st), rc = 0;

	*seq = 0;
	strcpy(hash, AUDIT_ZEROS);
	if (step == SQLITE_ROW) {
		/* a hash that is no hash (the file was edited) leaves zeros:
		 * appending goes on, and verifying names that entry */
		*seq = sqlite3_column_int64(st, 0);
		if (strlen(db_text(st, 1)) == AUDIT_HASH_HEX)
			strcpy(hash, db_text(st, 1));
	} else if (step != SQLITE_DONE) {
		rc = audit_fail(db, "head");
	}
	sqlite3_reset(st);
	return rc;
}

int audit_head(sqlite3 *db, int64_t *seq, char hash[AUDIT_HASH_HEX + 1])
{
	sqlite3_stmt *st = db_prepare(db, audit_sql_head);
	int rc;

	if (!st)
		return STORE_EDB;
	rc = audit_head_st(db, st, seq, hash);
	sqlite3_finalize(st);
	return rc;
}

static void audit_bind(sqlite3_stmt *st, const struct audit_entry *e,
		       const char *hash)
{
	sqlite3_bind_int64(st, 1, e->seq);
	sqlite3_bind_int64(st, 2, e->at);
	if (e->actor_id)
		sqlite3_bind_int64(st, 3, e->actor_id);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, e->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, e->prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, hash, -1, SQLITE_STATIC);
}

int audit_append_st(sqlite3 *db, sqlite3_stmt *head, sqlite3_stmt *insert,
		    int64_t now, const struct audit_actor *who,
		    const char *action, const char *object,
		    const char *detail_json)
{
	char prev[AUDIT_HASH_HEX + 1], hash[AUDIT_HASH_HEX + 1];
	struct audit_entry e = {
		.at = now,
		.actor_id = who->id > 0 ? who->id : 0,
		.actor = who->name ? who->name : "system",
		.action = action,
		.object = object ? object : "",
		.detail = detail_json ? detail_json : "{}",
		.prev_hash = prev,
	};
	int rc, step;

	if (!head || !insert)
		return STORE_EDB; /* the preparing was logged */
	if ((rc = audit_head_st(db, head, &e.seq, prev)))
		return rc;
	e.seq++;
	if (audit_hash(&e, hash))
		return STORE_ENOMEM;
	audit_bind(insert, &e, hash);
	step = sqlite3_step(insert);
	sqlite3_reset(insert);
	sqlite3_clear_bindings(insert);
	return step == SQLITE_DONE ? 0 : audit_fail(db, "append");
}

int audit_append(sqlite3 *db, int64_t now, const struct audit_actor *who,
		 const char *action, const char *object,
		 const char *detail_json)
{
	sqlite3_stmt *head = db_prepare(db, audit_sql_head);
	sqlite3_stmt *insert = head ? db_prepare(db, audit_sql_insert) : NULL;
	int rc = STORE_EDB;

	if (insert)
		rc = audit_append_st(db, head, insert, now, who, action,
				     object, detail_json);
	sqlite3_finalize(insert);
	sqlite3_finalize(head);
	if (rc)
		log_error("msg=\"audit entry not written\" action=%s",
			  action);
	return rc;
}

int audit_append_json(sqlite3 *db, int64_t now,
		      const struct audit_actor *who, const char *action,
		      const char *object, cJSON *detail)
{
	char *text = detail ? cJSON_PrintUnformatted(detail) : NULL;
	int own, rc = STORE_ENOMEM;

	cJSON_Delete(detail);
	if (detail && !text)
		return rc;
	if ((own = audit_begin(db)) < 0)
		rc = STORE_EDB;
	else
		rc = audit_end(db, own,
			       audit_append(db, now, who, action, object,
					    text));
	cJSON_free(text);
	return rc;
}

const char *audit_object(char *out, size_t cap, const char *kind,
			 int64_t id)
{
	snprintf(out, cap, "%s:%" PRId64, kind, id);
	return out;
}

int audit_begin(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		return 0;
	return db_begin(db) ? -1 : 1;
}

int audit_end(sqlite3 *db, int own, int rc)
{
	if (own <= 0)
		return rc;
	if (rc >= 0 && db_commit(db))
		rc = STORE_EDB;
	if (rc < 0)
		db_rollback(db);
	return rc;
}

/* ---- reading ---- */

static void audit_entry_from(sqlite3_stmt *st, struct audit_entry *e)
{
	e->seq = sqlite3_column_int64(st, 0);
	e->at = sqlite3_column_int64(st, 1);
	e->actor_id = sqlite3_column_int64(st, 2);
	e->actor = db_text(st, 3);
	e->action = db_text(st, 4);
	e->object = db_text(st, 5);
	e->detail = db_text(st, 6);
	e->prev_hash = db_text(st, 7);
	e->hash = db_text(st, 8);
}

int audit_each(sqlite3 *db, int64_t from, int64_t limit, audit_row_fn row,
	       void *arg)
{
	sqlite3_stmt *st = db_prepare(
		db, from > 0 ? AUDIT_SELECT "WHERE seq >= ?1 ORDER BY seq "
					    "LIMIT ?2" :
			       AUDIT_SELECT "ORDER BY seq DESC LIMIT ?2");
	struct audit_entry e;
	int step, rc = 0;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		audit_entry_from(st, &e);
		rc = row(&e, arg);
	}
	if (!rc && step != SQLITE_DONE)
		rc = audit_fail(db, "each");
	sqlite3_finalize(st);
	return rc;
}

cJSON *audit_entry_json(const struct audit_entry *e)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddNumberToObject(o, "seq", (double)e->seq) ||
	    !cJSON_AddNumberToObject(o, "at", (double)e->at) ||
	    !(e->actor_id ? cJSON_AddNumberToObject(o, "actor_id",
						    (double)e->actor_id) :
			    cJSON_AddNullToObject(o, "actor_id")) ||
	    !cJSON_AddStringToObject(o, "actor", e->actor) ||
	    !cJSON_AddStringToObject(o, "action", e->action) ||
	    !cJSON_AddStringToObject(o, "object", e->object) ||
	    !cJSON_AddStringToObject(o, "detail", e->detail) ||
	    !cJSON_AddStringToObject(o, "prev_hash", e->prev_hash) ||
	    !cJSON_AddStringToObject(o, "hash", e->hash)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- verifying ---- */

struct audit_walk {
	struct audit_report *out;
	int64_t expect;			/* the seq the next entry should have */
	char prev[AUDIT_HASH_HEX + 1];	/* hash of the entry before */
	char prev2[AUDIT_HASH_HEX + 1]; /* and of the one before that */
	int64_t pending;		/* an entry that links wrong, or 0 */
};

static void audit_found(struct audit_walk *w, enum audit_problem p,
			int64_t seq)
{
	w->out->problem = p;
	w->out->problem_seq = seq;
	snprintf(w->out->message, sizeof(w->out->message),
		 "entry %" PRId64 " was %s", seq, audit_problem_name(p));
}

/* Decides an entry that linked wrong by how the next one links. */
static void audit_decide_pending(struct audit_walk *w,
				 const struct audit_entry *next)
{
	if (next && !strcmp(next->prev_hash, w->prev))
		audit_found(w, AUDIT_CHANGED, w->pending - 1);
	else
		audit_found(w, AUDIT_INSERTED, w->pending);
}

/* 1 when e's stored hash is that of its fields with seq + 1: the entry
 * was moved down after the one at its seq was removed. */
static int audit_moved_down(const struct audit_entry *e)
{
	struct audit_entry up = *e;
	char hash[AUDIT_HASH_HEX + 1];

	up.seq++;
	return !audit_hash(&up, hash) && !strcmp(hash, e->hash);
}

/* Checks one entry; 1 when a problem was found, -1 out of memory. */
static int audit_check(struct audit_walk *w, const struct audit_entry *e)
{
	char hash[AUDIT_HASH_HEX + 1];
	int own;

	if (w->pending) {
		audit_decide_pending(w, e);
		return 1;
	}
	if (e->seq != w->expect) {
		audit_found(w, AUDIT_REMOVED, w->expect);
		return 1;
	}
	if (audit_hash(e, hash))
		return -1;
	own = !strcmp(hash, e->hash);
	if (!strcmp(e->prev_hash, w->prev)) {
		if (!own)
			audit_found(w, AUDIT_CHANGED, e->seq);
		return !own;
	}
	if (!strcmp(e->prev_hash, w->prev2))
		audit_found(w, AUDIT_INSERTED, e->seq - 1);
	else if (!own && audit_moved_down(e))
		audit_found(w, AUDIT_REMOVED, e->seq);
	else if (!own)
		audit_found(w, AUDIT_CHANGED, e->seq);
	else
		w->pending = e->seq;
	return !w->pending;
}

static int audit_walk_row(const struct audit_entry *e, void *arg)
{
	struct audit_walk *w = arg;
	int rc = audit_check(w, e);

	if (rc)
		return rc < 0 ? STORE_ENOMEM : 1;
	w->out->entries++;
	w->out->head_seq = e->seq;
	snprintf(w->out->head_hash, sizeof(w->out->head_hash), "%s",
		 e->hash);
	w->expect = e->seq + 1;
	strcpy(w->prev2, w->prev);
	snprintf(w->prev, sizeof(w->prev), "%s", e->hash);
	return 0;
}

/* Holds the log against an outside head: the entry at its seq must be
 * there with its hash (later entries were appended since). */
static int audit_check_expect(sqlite3 *db, struct audit_walk *w,
			      const struct audit_expect *x)
{
	sqlite3_stmt *st;
	int step;

	if (x->seq == 0 || w->out->problem)
		return 0;
	if (x->seq > w->out->head_seq) {
		audit_found(w, AUDIT_REMOVED, w->out->head_seq + 1);
		return 0;
	}
	st = db_prepare(db, "SELECT hash FROM audit_log WHERE seq = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, x->seq);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && strcmp(db_text(st, 0), x->hash))
		audit_found(w, AUDIT_CHANGED, x->seq);
	sqlite3_finalize(st);
	return step == SQLITE_ROW ? 0 : audit_fail(db, "expect");
}

int audit_verify(sqlite3 *db, const struct audit_expect *expect,
		 struct audit_report *out)
{
	struct audit_walk w = { .out = out, .expect = 1 };
	int rc;

	memset(out, 0, sizeof(*out));
	strcpy(out->head_hash, AUDIT_ZEROS);
	strcpy(w.prev, AUDIT_ZEROS);
	rc = audit_each(db, 1, 0, audit_walk_row, &w);
	if (rc < 0)
		return rc;
	if (!out->problem && w.pending)
		audit_decide_pending(&w, NULL);
	if (!out->problem && expect)
		return audit_check_expect(db, &w, expect);
	return 0;
}

const char *audit_problem_name(enum audit_problem p)
{
	switch (p) {
	case AUDIT_CHANGED:
		return "changed";
	case AUDIT_REMOVED:
		return "removed";
	case AUDIT_INSERTED:
		return "inserted";
	default:
		return "intact";
	}
}

int audit_expect_parse(const char *s, struct audit_expect *out)
{
	uint8_t raw[CRYPTO_SHA256_LEN];
	char *end;
	long long seq;

	if (!s || *s < '0' || *s > '9')
		return -1;
	seq = strtoll(s, &end, 10);
	if (*end != ':' || seq < 0 || strlen(end + 1) != AUDIT_HASH_HEX ||
	    crypto_unhex(end + 1, raw, sizeof(raw)))
		return -1;
	out->seq = seq;
	crypto_hex(raw, sizeof(raw), out->hash);
	return 0;
}
