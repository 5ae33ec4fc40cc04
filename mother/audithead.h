/*
 * The heads of the tenants' audit chains, as their workspaces report
 * them (AUDIT_HEAD frames, signed by the workspace key), kept in
 * mother.db so that a tenant's history cannot be rewritten unnoticed,
 * even by someone who controls the tenant's server.
 *
 * Every head received is kept with its signature and the session nonce
 * and counter it was signed over, so that it can be verified again
 * later. A head is a conflict when the mother already holds a head of a
 * later entry (a lower seq than the kept one) or another hash for the
 * same entry: the chain was rewritten, or the workspace restored from
 * an old backup. Conflicts are kept too, logged at warn and shown.
 */
#ifndef LMS_MOTHER_AUDITHEAD_H
#define LMS_MOTHER_AUDITHEAD_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>

#include "proto/proto.h"

/* Stores a verified head of tenant received at now in the session of
 * nonce. 0 when it agrees with what is kept, 1 when it is a conflict
 * (stored and logged), -1 on a database error. The same head again only
 * moves its time of receipt. */
int audithead_store(sqlite3 *db, const struct proto_audit_head *h,
		    const uint8_t nonce[PROTO_NONCE_LEN], int64_t now);

/* {"seq", "hash", "at", "received_at", "conflict": bool, "conflicts":
 * n} of the tenant's kept head (the highest seq without conflict), or
 * a JSON null when none came yet. NULL on error. */
cJSON *audithead_json(sqlite3 *db, const char *tenant);

#endif
