/*
 * mother.db schema and the queries the sync server needs on its hot path.
 * Migration 1 holds courses, tenants and streams; migration 2 what
 * workspaces report and the operators of the admin port.
 * Publishing and tenant administration keep their own SQL next to their
 * logic (publish.c, tenant.c); this file owns the schema.
 */
#include "mother/store.h"

#include "common/db.h"
#include "common/log.h"

#include <string.h>

static const struct db_migration store_migrations[] = {
	{ 1,
	  "CREATE TABLE courses ("
	  " id TEXT PRIMARY KEY,"
	  " title TEXT NOT NULL DEFAULT '',"
	  " revision TEXT,"
	  " created_at INTEGER NOT NULL,"
	  " published_at INTEGER);"
	  "CREATE TABLE revisions ("
	  " course TEXT NOT NULL REFERENCES courses(id),"
	  " revision TEXT NOT NULL,"
	  " prev_rev TEXT NOT NULL DEFAULT '',"
	  " published_at INTEGER NOT NULL,"
	  " PRIMARY KEY (course, revision));"
	  "CREATE TABLE tenants ("
	  " id TEXT PRIMARY KEY,"
	  " name TEXT NOT NULL,"
	  " all_courses INTEGER NOT NULL DEFAULT 0,"
	  " public_key BLOB,"
	  " token_hash BLOB UNIQUE,"
	  " token_expires INTEGER,"
	  " token_used INTEGER NOT NULL DEFAULT 0,"
	  " created_at INTEGER NOT NULL,"
	  " last_seq INTEGER NOT NULL DEFAULT 0,"
	  " acked_seq INTEGER NOT NULL DEFAULT 0,"
	  " last_contact INTEGER);"
	  "CREATE TABLE domains ("
	  " tenant TEXT NOT NULL REFERENCES tenants(id),"
	  " domain TEXT NOT NULL,"
	  " PRIMARY KEY (tenant, domain));"
	  "CREATE TABLE licences ("
	  " tenant TEXT NOT NULL REFERENCES tenants(id),"
	  " course TEXT NOT NULL REFERENCES courses(id),"
	  " stream_rev TEXT NOT NULL DEFAULT '',"
	  " acked_rev TEXT,"
	  " PRIMARY KEY (tenant, course));"
	  "CREATE TABLE packs ("
	  " id INTEGER PRIMARY KEY,"
	  " course TEXT NOT NULL,"
	  " from_rev TEXT NOT NULL,"
	  " to_rev TEXT NOT NULL,"
	  " sha256 BLOB NOT NULL,"
	  " data BLOB NOT NULL,"
	  " UNIQUE (course, from_rev, to_rev));"
	  "CREATE TABLE events ("
	  " tenant TEXT NOT NULL REFERENCES tenants(id),"
	  " seq INTEGER NOT NULL,"
	  " course TEXT NOT NULL,"
	  " prev_rev TEXT NOT NULL,"
	  " new_rev TEXT NOT NULL,"
	  " kind INTEGER NOT NULL,"
	  " time INTEGER NOT NULL,"
	  " pack INTEGER NOT NULL REFERENCES packs(id),"
	  " PRIMARY KEY (tenant, seq)) WITHOUT ROWID;" },
	/* What workspaces report (mother/stats.c, mother/audithead.c) and
	 * who may sign in to the admin port (mother/operator.c). Figures
	 * are kept one row per tenant, course and UTC day (the day's last
	 * report wins), per tenant and month, and per tenant, course and
	 * month; nothing in them names a person. */
	{ 2,
	  "CREATE TABLE stats_courses ("
	  " tenant TEXT NOT NULL REFERENCES tenants(id),"
	  " course TEXT NOT NULL,"
	  " day TEXT NOT NULL CHECK (length(day) = 10),"
	  " assigned INTEGER NOT NULL,"
	  " not_started INTEGER NOT NULL,"
	  " in_progress INTEGER NOT NULL,"
	  " completed INTEGER NOT NULL,"
	  " overdue INTEGER NOT NULL,"
	  " expired INTEGER NOT NULL,"
	  " certificates_valid INTEGER NOT NULL,"
	  " certificates_expiring INTEGER NOT NULL,"
	  " PRIMARY KEY (tenant, course, day)) WITHOUT ROWID;"
	  "CREATE TABLE stats_months ("
	  " tenant TEXT NOT NULL REFERENCES tenants(id),"
	  " month TEXT NOT NULL CHECK (length(month) = 7),"
	  " active_learners INTEGER NOT NULL,"
	  " PRIMARY KEY (tenant, month)) WITHOUT ROWID;"
	  "CREATE TABLE stats_completions ("
	  " tenant TEXT NOT NULL REFERENCES tenants(id),"
	  " course TEXT NOT NULL,"
	  " month TEXT NOT NULL CHECK (length(month) = 7),"
	  " completions INTEGER NOT NULL,"
	  " PRIMARY KEY (tenant, course, month)) WITHOUT ROWID;"
	  "CREATE TABLE stats_reports ("
	  " tenant TEXT PRIMARY KEY REFERENCES tenants(id),"
	  " taken_at INTEGER NOT NULL,"
	  " received_at INTEGER NOT NULL,"
	  " reports INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	  "CREATE TABLE audit_heads ("
	  " id INTEGER PRIMARY KEY,"
	  " tenant TEXT NOT NULL REFERENCES tenants(id),"
	  " seq INTEGER NOT NULL,"
	  " hash TEXT NOT NULL CHECK (length(hash) = 64),"
	  " taken_at INTEGER NOT NULL,"
	  " nonce BLOB NOT NULL,"
	  " counter INTEGER NOT NULL,"
	  " signature BLOB NOT NULL,"
	  " received_at INTEGER NOT NULL,"
	  " conflict INTEGER NOT NULL DEFAULT 0 CHECK (conflict IN (0, 1)));"
	  "CREATE INDEX audit_heads_tenant ON audit_heads (tenant, seq);"
	  "CREATE TABLE operators ("
	  " id INTEGER PRIMARY KEY,"
	  " email TEXT NOT NULL UNIQUE CHECK (email = lower(email)),"
	  " password_hash TEXT NOT NULL,"
	  " created_at INTEGER NOT NULL);"
	  "CREATE TABLE operator_sessions ("
	  " id_hash TEXT PRIMARY KEY CHECK (length(id_hash) = 64),"
	  " operator INTEGER NOT NULL REFERENCES operators(id)"
	  "  ON DELETE CASCADE,"
	  " csrf_token TEXT NOT NULL,"
	  " created_at INTEGER NOT NULL,"
	  " expires_at INTEGER NOT NULL) WITHOUT ROWID;"
	  "CREATE TABLE operator_tokens ("
	  " token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),"
	  " operator INTEGER NOT NULL REFERENCES operators(id)"
	  "  ON DELETE CASCADE,"
	  " name TEXT NOT NULL DEFAULT '',"
	  " created_at INTEGER NOT NULL) WITHOUT ROWID;" },
};

int store_open(const char *path, sqlite3 **out)
{
	return db_open(path, store_migrations,
		       sizeof(store_migrations) / sizeof(store_migrations[0]),
		       out);
}

static void store_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static int store_fill_event(sqlite3_stmt *st, struct store_event *ev)
{
	const void *sha = sqlite3_column_blob(st, 5);
	const void *data = sqlite3_column_blob(st, 6);
	int len = sqlite3_column_bytes(st, 6);

	store_copy(ev->course, sizeof(ev->course), db_text(st, 0));
	store_copy(ev->prev_rev, sizeof(ev->prev_rev), db_text(st, 1));
	store_copy(ev->new_rev, sizeof(ev->new_rev), db_text(st, 2));
	ev->kind = sqlite3_column_int(st, 3);
	ev->time = sqlite3_column_int64(st, 4);
	if (!sha || sqlite3_column_bytes(st, 5) != CRYPTO_SHA256_LEN)
		return -1;
	memcpy(ev->pack_sha256, sha, CRYPTO_SHA256_LEN);
	buf_init(&ev->pack);
	return buf_append(&ev->pack, data, (size_t)len) ? -1 : 0;
}

int store_load_event(sqlite3 *db, const char *tenant, uint64_t seq,
		     struct store_event *ev)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT e.course, e.prev_rev, e.new_rev, e.kind, e.time,"
		" p.sha256, p.data FROM events e JOIN packs p ON p.id = e.pack"
		" WHERE e.tenant = ? AND e.seq = ?");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ev->seq = seq;
		rc = store_fill_event(st, ev);
	} else {
		rc = rc == SQLITE_DONE ? 1 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

int store_stream_head(sqlite3 *db, const char *tenant, uint64_t *out)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT last_seq FROM tenants WHERE id = ?");
	int rc = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int store_run(sqlite3 *db, const char *sql, const char *tenant,
		     uint64_t seq, int64_t now)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc)
		log_error("msg=\"sql failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

int store_ack(sqlite3 *db, const char *tenant, uint64_t seq, int64_t now)
{
	if (db_begin(db))
		return -1;
	if (store_run(db,
		      "UPDATE tenants SET acked_seq = max(acked_seq, ?2),"
		      " last_contact = ?3 WHERE id = ?1",
		      tenant, seq, now) ||
	    store_run(db,
		      "UPDATE licences SET acked_rev = (SELECT e.new_rev"
		      " FROM events e WHERE e.tenant = ?1"
		      " AND e.course = licences.course AND e.seq <= ?2"
		      " ORDER BY e.seq DESC LIMIT 1)"
		      " WHERE tenant = ?1 AND EXISTS (SELECT 1 FROM events e"
		      " WHERE e.tenant = ?1 AND e.course = licences.course"
		      " AND e.seq <= ?2)"
		      /* a late, lower acknowledgement never moves it back */
		      " AND ?2 >= (SELECT acked_seq FROM tenants"
		      " WHERE id = ?1)",
		      tenant, seq, now) ||
	    db_commit(db)) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

int store_touch(sqlite3 *db, const char *tenant, int64_t now)
{
	return store_run(db, "UPDATE tenants SET last_contact = ?3"
			     " WHERE id = ?1",
			 tenant, 0, now);
}

int store_tenant_key(sqlite3 *db, const char *tenant,
		     uint8_t pub[CRYPTO_PUBKEY_LEN])
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT public_key FROM tenants WHERE id = ?");
	int rc = 1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == CRYPTO_PUBKEY_LEN) {
		memcpy(pub, sqlite3_column_blob(st, 0), CRYPTO_PUBKEY_LEN);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int store_token_row(sqlite3 *db, const uint8_t hash[32],
			   char tenant[65], int64_t *expires, int *used)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT id, token_expires, token_used FROM tenants"
		" WHERE token_hash = ?");
	int rc = 1;

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, hash, CRYPTO_SHA256_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		store_copy(tenant, 65, db_text(st, 0));
		*expires = sqlite3_column_int64(st, 1);
		*used = sqlite3_column_int(st, 2);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int store_redeem_token(sqlite3 *db, const char *token, int64_t now,
		       const uint8_t pub[CRYPTO_PUBKEY_LEN], char tenant[65],
		       const char **reason)
{
	uint8_t hash[CRYPTO_SHA256_LEN];
	sqlite3_stmt *st;
	int64_t expires = 0;
	int used = 0, rc;

	crypto_sha256(token, strlen(token), hash);
	rc = store_token_row(db, hash, tenant, &expires, &used);
	if (rc) {
		*reason = "unknown enrollment token";
		return rc;
	}
	if (used) {
		*reason = "enrollment token already used";
		return 1;
	}
	if (expires < now) {
		*reason = "enrollment token expired";
		return 1;
	}

	st = db_prepare(db, "UPDATE tenants SET public_key = ?,"
			    " token_used = 1 WHERE id = ? AND token_used = 0");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, pub, CRYPTO_PUBKEY_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tenant, -1, SQLITE_STATIC);
	/* the workspace keeps its key once told: this commit must last */
	db_exec(db, "PRAGMA synchronous=FULL");
	rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1 ?
		     0 : -1;
	sqlite3_finalize(st);
	db_exec(db, "PRAGMA synchronous=NORMAL");
	return rc;
}

int store_set_token(sqlite3 *db, const char *tenant, const char *token,
		    int64_t expires)
{
	uint8_t hash[CRYPTO_SHA256_LEN];
	sqlite3_stmt *st = db_prepare(db,
		"UPDATE tenants SET token_hash = ?, token_expires = ?,"
		" token_used = 0 WHERE id = ?");
	int rc;

	if (!st)
		return -1;
	crypto_sha256(token, strlen(token), hash);
	sqlite3_bind_blob(st, 1, hash, CRYPTO_SHA256_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, expires);
	sqlite3_bind_text(st, 3, tenant, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}
