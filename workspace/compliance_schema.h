/*
 * The tables of workspace/compliance.c: one migration step of
 * workspace.db (store.c applies the steps in order, each once).
 *
 * assignments gain their recurrence: recur_months (the next round is
 * due that many months after each completion) and recur_on_expiry (the
 * next round opens before the certificate runs out).
 *
 * training_rounds holds every round of a course after a learner's first
 * one (which the assignment's due date alone describes): a recurrence
 * ("recur", keyed by the certificate it follows) or a retraining that a
 * revision required ("retrain", keyed by that revision). Completions
 * made before a round's progress_from do not count for the learner's
 * progress any more (recurrence); a retraining keeps them and lets the
 * retrained lessons alone be done again (workspace/learn.h). A new
 * round makes the learner's course list again (learn generations).
 *
 * reminders records each reminder decided, once per learner, course,
 * round, schedule entry and recipient (the learner, or a manager for an
 * overdue one), with the mail queued for it: the history an auditor
 * reads, and what keeps a reminder from being sent twice.
 *
 * The counting triggers of lesson_completions (learn_schema.h) are made
 * again in their form that an upsert does not break: a completion done
 * again in a new round updates its row.
 */
#ifndef LMS_WORKSPACE_COMPLIANCE_SCHEMA_H
#define LMS_WORKSPACE_COMPLIANCE_SCHEMA_H

#include "workspace/learn_schema.h"

/* Counts a change of a user's rounds as a change of their progress. */
#define COMPLIANCE_ROUND_TRIGGER(name, event, row)                        \
	"CREATE TRIGGER training_rounds_" name "_generation AFTER " event \
	" ON training_rounds BEGIN " LEARN_USER_COUNT(row) " END;"

#define COMPLIANCE_SCHEMA                                                 \
	"ALTER TABLE assignments ADD COLUMN recur_months INTEGER"          \
	"  CHECK (recur_months IS NULL OR recur_months BETWEEN 1 AND 120);" \
	"ALTER TABLE assignments ADD COLUMN recur_on_expiry INTEGER"       \
	"  NOT NULL DEFAULT 0 CHECK (recur_on_expiry IN (0, 1));"           \
	"CREATE TABLE training_rounds ("                                   \
	"  id INTEGER PRIMARY KEY,"                                        \
	"  user_id INTEGER NOT NULL REFERENCES users (id)"                 \
	"    ON DELETE CASCADE,"                                           \
	"  course_id TEXT NOT NULL,"                                       \
	"  key TEXT NOT NULL,"                                             \
	"  reason TEXT NOT NULL CHECK (reason IN ('recur', 'retrain')),"   \
	"  opened_at INTEGER NOT NULL,"                                    \
	"  due TEXT NOT NULL CHECK (length(due) = 10),"                    \
	"  progress_from INTEGER NOT NULL,"                                \
	"  UNIQUE (user_id, course_id, key)"                               \
	");"                                                               \
	"CREATE INDEX training_rounds_user ON training_rounds"             \
	"  (user_id, course_id, opened_at);"                               \
	"CREATE TABLE reminders ("                                         \
	"  id INTEGER PRIMARY KEY,"                                        \
	"  user_id INTEGER NOT NULL REFERENCES users (id)"                 \
	"    ON DELETE CASCADE,"                                           \
	"  course_id TEXT NOT NULL,"                                       \
	"  round TEXT NOT NULL,"                                           \
	"  entry TEXT NOT NULL,"                                           \
	"  recipient_id INTEGER NOT NULL REFERENCES users (id)"            \
	"    ON DELETE CASCADE,"                                           \
	"  role TEXT NOT NULL CHECK (role IN ('learner', 'manager')),"     \
	"  mail_id INTEGER,"                                               \
	"  created_at INTEGER NOT NULL,"                                   \
	"  UNIQUE (user_id, course_id, round, entry, recipient_id)"        \
	");"                                                               \
	"CREATE INDEX reminders_recipient ON reminders (recipient_id);"    \
	"DROP TRIGGER lesson_completions_insert_generation;"               \
	"DROP TRIGGER lesson_completions_update_generation;"               \
	"DROP TRIGGER lesson_completions_delete_generation;"               \
	LEARN_USER_TRIGGER("insert", "INSERT", "NEW")                      \
	LEARN_USER_TRIGGER("update", "UPDATE", "NEW")                      \
	LEARN_USER_TRIGGER("delete", "DELETE", "OLD")                      \
	COMPLIANCE_ROUND_TRIGGER("insert", "INSERT", "NEW")                \
	COMPLIANCE_ROUND_TRIGGER("update", "UPDATE", "NEW")                \
	COMPLIANCE_ROUND_TRIGGER("delete", "DELETE", "OLD")

/* A later step: the managers of a learner are looked up at each
 * overdue reminder, starting from the few users who are managers. */
#define COMPLIANCE_INDEX_SCHEMA                                           \
	"CREATE INDEX users_role ON users (role);"

/* A later step: compliance_each() reads each pair's latest completion
 * from the index alone, never from the table. */
#define COMPLIANCE_DONE_INDEX_SCHEMA                                      \
	"CREATE INDEX lesson_completions_done ON lesson_completions"       \
	"  (user_id, course_id, completed_at);"

/* A later step: compliance_each() reads the certificates not revoked
 * from this index alone (a third of the time of looking each row up in
 * the table). */
#define COMPLIANCE_CERT_INDEX_SCHEMA                                      \
	"CREATE INDEX certificates_live ON certificates"                   \
	"  (user_id, course_id, issued_at, id, number, expires_at,"        \
	"  revision) WHERE revoked_at IS NULL;"

/* A later step: a manager's overdue copies are mailed together
 * (workspace/digest.h). A reminder row names the due date it is about;
 * the copies not mailed yet are found by the partial index. Rows of
 * before, without a date, are mailed without one. */
#define COMPLIANCE_DIGEST_SCHEMA                                          \
	"ALTER TABLE reminders ADD COLUMN due TEXT;"                       \
	"CREATE INDEX reminders_unmailed ON reminders (recipient_id)"      \
	"  WHERE mail_id IS NULL AND role = 'manager';"

#endif
