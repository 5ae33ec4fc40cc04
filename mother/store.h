/*
 * mother.db: the schema and the queries of the mother.
 *
 * Tables: courses (published revision per course), revisions (history),
 * tenants (identity, enrollment token, stream head and acknowledged
 * sequence), domains, licences (which tenant gets which course, the
 * revision its stream has reached and the one it acknowledged), packs
 * (built once per course, from and to revision) and events (one ordered
 * stream per tenant, written before anything is sent: the outbox);
 * stats_courses, stats_months and stats_reports (aggregate figures the
 * workspaces report, mother/stats.h), audit_heads (the heads of their
 * audit chains, mother/audithead.h), operators, operator_sessions and
 * operator_tokens (who may use the admin port, mother/operator.h).
 */
#ifndef LMS_MOTHER_STORE_H
#define LMS_MOTHER_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/crypto.h"

int store_open(const char *path, sqlite3 **out);

/* One event of a tenant's stream with its pack, as sent on the wire. */
struct store_event {
	uint64_t seq;
	char course[65];
	char prev_rev[41];
	char new_rev[41];
	int kind;
	int64_t time;
	uint8_t pack_sha256[CRYPTO_SHA256_LEN];
	struct buf pack; /* owned; buf_release() it */
};

/* Loads event seq of tenant: 0, 1 when there is none, -1 on error. */
int store_load_event(sqlite3 *db, const char *tenant, uint64_t seq,
		     struct store_event *ev);

/* The last sequence number of a tenant's stream (0 when empty). */
int store_stream_head(sqlite3 *db, const char *tenant, uint64_t *out);

/* Records that tenant applied every event up to seq: moves acked_seq and
 * each licence's acknowledged revision. */
int store_ack(sqlite3 *db, const char *tenant, uint64_t seq, int64_t now);

/* Records that tenant's workspace was heard from at now. */
int store_touch(sqlite3 *db, const char *tenant, int64_t now);

/* The tenant's enrolled public key: 0, 1 when unknown or not enrolled. */
int store_tenant_key(sqlite3 *db, const char *tenant,
		     uint8_t pub[CRYPTO_PUBKEY_LEN]);

/* Redeems an enrollment token: on success fills tenant and stores the
 * key. Returns 0, or 1 with reason set (unknown, used, expired). */
int store_redeem_token(sqlite3 *db, const char *token, int64_t now,
		       const uint8_t pub[CRYPTO_PUBKEY_LEN], char tenant[65],
		       const char **reason);

/* Stores the SHA-256 of a new enrollment token for tenant. */
int store_set_token(sqlite3 *db, const char *tenant, const char *token,
		    int64_t expires);

#endif
