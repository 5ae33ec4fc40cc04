/*
 * The tables of workspace/people.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 *
 * - users.language: the language a person chose for the pages, or NULL
 *   for the tenant's default.
 * - user_links: links that let a person set a password (an invitation
 *   or a password reset), by the SHA-256 of the token in the link; a
 *   link is deleted when it is used, so it works once.
 * - reset_requests: emails for which someone asked for a reset link
 *   (POST /api/v1/password-reset), waiting for the mail sender; no
 *   token is made before a mail can carry it.
 * - login_failures: failed (and running) logins per account (the
 *   SHA-256 of the email typed) and per client address, in windows of
 *   PEOPLE_THROTTLE_WINDOW seconds, for the login throttle.
 */
#ifndef LMS_WORKSPACE_PEOPLE_SCHEMA_H
#define LMS_WORKSPACE_PEOPLE_SCHEMA_H

#define PEOPLE_SCHEMA                                                      \
	"ALTER TABLE users ADD COLUMN language TEXT"                       \
	"  CHECK (language IN ('de', 'en'));"                              \
	"CREATE TABLE user_links ("                                        \
	"  token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),"   \
	"  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE," \
	"  kind TEXT NOT NULL CHECK (kind IN ('invite', 'reset')),"        \
	"  created_at INTEGER NOT NULL,"                                   \
	"  expires_at INTEGER NOT NULL"                                    \
	") WITHOUT ROWID;"                                                 \
	"CREATE INDEX user_links_user ON user_links (user_id, kind);"      \
	"CREATE INDEX user_links_expiry ON user_links (expires_at);"       \
	"CREATE TABLE reset_requests ("                                    \
	"  email TEXT PRIMARY KEY,"                                        \
	"  requested_at INTEGER NOT NULL"                                  \
	") WITHOUT ROWID;"                                                 \
	"CREATE INDEX reset_requests_time ON reset_requests (requested_at);" \
	"CREATE TABLE login_failures ("                                    \
	"  kind TEXT NOT NULL CHECK (kind IN ('account', 'address')),"     \
	"  key TEXT NOT NULL,"                                             \
	"  window_start INTEGER NOT NULL,"                                 \
	"  failures INTEGER NOT NULL CHECK (failures >= 0),"               \
	"  PRIMARY KEY (kind, key)"                                        \
	") WITHOUT ROWID;"                                                 \
	"CREATE INDEX login_failures_time ON login_failures"               \
	"  (kind, window_start);"

#endif
