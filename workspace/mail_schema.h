/*
 * The tables of workspace/mail.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 *
 * mail_outbox holds every mail the workspace means to send, from the
 * transaction that decided to send it until the mail server accepted
 * it (sent_at set) and after, as the record of what was sent. dedup_key
 * is unique, so the same reminder or link mail is never queued twice.
 */
#ifndef LMS_WORKSPACE_MAIL_SCHEMA_H
#define LMS_WORKSPACE_MAIL_SCHEMA_H

#define MAIL_SCHEMA                                                       \
	"CREATE TABLE mail_outbox ("                                      \
	"  id INTEGER PRIMARY KEY,"                                       \
	"  recipient TEXT NOT NULL,"                                      \
	"  subject TEXT NOT NULL,"                                        \
	"  body TEXT NOT NULL,"                                           \
	"  kind TEXT NOT NULL,"                                           \
	"  dedup_key TEXT NOT NULL UNIQUE,"                               \
	"  created_at INTEGER NOT NULL,"                                  \
	"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"    \
	"  next_attempt_at INTEGER NOT NULL,"                             \
	"  sent_at INTEGER,"                                              \
	"  last_error TEXT"                                               \
	");"                                                              \
	"CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)"   \
	"  WHERE sent_at IS NULL;"

#endif
