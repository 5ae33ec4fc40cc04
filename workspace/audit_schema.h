/*
 * The table of workspace/audit.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 *
 * audit_log: the append-only log of changes that matter. seq runs 1, 2,
 * 3 ... without gaps; at is unix seconds; actor_id is the user who acted
 * (NULL for the system or the command line), actor their email, "system"
 * or "cli"; action a short dotted name ("user.create"); object what was
 * acted on ("user:7"); detail compact JSON of what changed. prev_hash is
 * the hash of entry seq - 1 (64 zeros for entry 1) and hash the SHA-256
 * of the entry (workspace/audit.h says how). The triggers refuse every
 * UPDATE and DELETE, so the application can only append.
 */
#ifndef LMS_WORKSPACE_AUDIT_SCHEMA_H
#define LMS_WORKSPACE_AUDIT_SCHEMA_H

#define AUDIT_SCHEMA                                                       \
	"CREATE TABLE audit_log ("                                         \
	"  seq INTEGER PRIMARY KEY CHECK (seq > 0),"                       \
	"  at INTEGER NOT NULL,"                                           \
	"  actor_id INTEGER,"                                              \
	"  actor TEXT NOT NULL,"                                           \
	"  action TEXT NOT NULL,"                                          \
	"  object TEXT NOT NULL DEFAULT '',"                               \
	"  detail TEXT NOT NULL DEFAULT '{}',"                             \
	"  prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),"        \
	"  hash TEXT NOT NULL CHECK (length(hash) = 64)"                   \
	");"                                                               \
	"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "   \
	"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"      \
	"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "   \
	"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"

#endif
