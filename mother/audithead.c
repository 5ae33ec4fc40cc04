/*
 * Audit chain heads at the mother: storing them and telling a conflict.
 * The kept head of a tenant is its row with the highest seq among those
 * without conflict; a new head is compared with it only.
 */
#include "mother/audithead.h"

#include "common/clock.h"
#include "common/db.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>

struct audithead_kept {
	int64_t id; /* 0: none */
	uint64_t seq;
	char hash[PROTO_HASH_HEX + 1];
};

static int audithead_load(sqlite3 *db, const char *tenant,
			  struct audithead_kept *k)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT id, seq, hash FROM audit_heads WHERE tenant = ?"
		" AND conflict = 0 ORDER BY seq DESC, id DESC LIMIT 1");
	int rc;

	memset(k, 0, sizeof(*k));
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		k->id = sqlite3_column_int64(st, 0);
		k->seq = (uint64_t)sqlite3_column_int64(st, 1);
		snprintf(k->hash, sizeof(k->hash), "%s", db_text(st, 2));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int audithead_touch(sqlite3 *db, int64_t id, int64_t now)
{
	sqlite3_stmt *st = db_prepare(db,
		"UPDATE audit_heads SET received_at = ? WHERE id = ?");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

static int audithead_insert(sqlite3 *db, const struct proto_audit_head *h,
			    const uint8_t nonce[PROTO_NONCE_LEN], int64_t now,
			    int conflict)
{
	sqlite3_stmt *st = db_prepare(db,
		"INSERT INTO audit_heads (tenant, seq, hash, taken_at, nonce,"
		" counter, signature, received_at, conflict)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, h->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)h->seq);
	sqlite3_bind_text(st, 3, h->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, h->time);
	sqlite3_bind_blob(st, 5, nonce, PROTO_NONCE_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)h->counter);
	sqlite3_bind_blob(st, 7, h->sig, CRYPTO_SIG_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_int(st, 9, conflict);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc)
		log_error("msg=\"sql failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* The id of a conflict already kept for the same seq and hash, or 0. */
static int64_t audithead_known_conflict(sqlite3 *db,
					const struct proto_audit_head *h)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT id FROM audit_heads WHERE tenant = ? AND seq = ?"
		" AND hash = ? AND conflict = 1 LIMIT 1");
	int64_t id = 0;

	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, h->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)h->seq);
	sqlite3_bind_text(st, 3, h->hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

int audithead_store(sqlite3 *db, const struct proto_audit_head *h,
		    const uint8_t nonce[PROTO_NONCE_LEN], int64_t now)
{
	struct audithead_kept k;
	int64_t known;
	int conflict;

	if (audithead_load(db, h->tenant, &k))
		return -1;
	if (k.id && k.seq == h->seq && !strcmp(k.hash, h->hash))
		return audithead_touch(db, k.id, now);
	conflict = k.id && (h->seq < k.seq ||
			    (h->seq == k.seq && strcmp(k.hash, h->hash)));
	/* a workspace reconnecting sends the same forged head again */
	if (conflict && (known = audithead_known_conflict(db, h)))
		return audithead_touch(db, known, now) ? -1 : 1;
	if (audithead_insert(db, h, nonce, now, conflict))
		return -1;
	if (conflict)
		log_warn("msg=\"audit chain head conflicts with the kept one\" "
			 "tenant=%s seq=%llu hash=%s kept_seq=%llu "
			 "kept_hash=%s", h->tenant,
			 (unsigned long long)h->seq, h->hash,
			 (unsigned long long)k.seq, k.hash);
	else
		log_info("msg=\"audit chain head\" tenant=%s seq=%llu",
			 h->tenant, (unsigned long long)h->seq);
	return conflict;
}

static void audithead_time(cJSON *o, const char *key, int64_t t)
{
	char when[32];

	clock_format_iso(t, when, sizeof(when));
	cJSON_AddStringToObject(o, key, when);
}

cJSON *audithead_json(sqlite3 *db, const char *tenant)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT seq, hash, taken_at, received_at,"
		" (SELECT count(*) FROM audit_heads c WHERE c.tenant = ?1"
		"  AND c.conflict = 1)"
		" FROM audit_heads WHERE tenant = ?1 AND conflict = 0"
		" ORDER BY seq DESC, id DESC LIMIT 1");
	cJSON *o = NULL;
	int rc;

	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		o = cJSON_CreateNull();
	} else if (rc == SQLITE_ROW && (o = cJSON_CreateObject())) {
		int conflicts = sqlite3_column_int(st, 4);

		cJSON_AddNumberToObject(o, "seq",
					(double)sqlite3_column_int64(st, 0));
		cJSON_AddStringToObject(o, "hash", db_text(st, 1));
		audithead_time(o, "at", sqlite3_column_int64(st, 2));
		audithead_time(o, "received_at", sqlite3_column_int64(st, 3));
		cJSON_AddBoolToObject(o, "conflict", conflicts > 0);
		cJSON_AddNumberToObject(o, "conflicts", conflicts);
	}
	sqlite3_finalize(st);
	return o;
}
