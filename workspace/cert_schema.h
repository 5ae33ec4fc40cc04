/*
 * The tables of workspace/cert.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 *
 * certificates: one row per certificate issued. number is the
 * human-readable one printed on it ("HYG-2026-000001"), verify_code the
 * unguessable one of its public page /verify/{code}. course_title keeps
 * the course's title as course.json wrote it at issue (a JSON string or
 * an object by language). expires_at is NULL for a course without
 * "certificate": {"valid_months"}; revoked_at and revoke_reason are set
 * once, by an admin.
 */
#ifndef LMS_WORKSPACE_CERT_SCHEMA_H
#define LMS_WORKSPACE_CERT_SCHEMA_H

#define CERT_SCHEMA                                                        \
	"CREATE TABLE certificates ("                                      \
	"  id INTEGER PRIMARY KEY,"                                        \
	"  number TEXT NOT NULL UNIQUE,"                                   \
	"  user_id INTEGER NOT NULL"                                       \
	"    REFERENCES users (id) ON DELETE CASCADE,"                     \
	"  course_id TEXT NOT NULL,"                                       \
	"  course_title TEXT NOT NULL,"                                    \
	"  revision TEXT NOT NULL,"                                        \
	"  issued_at INTEGER NOT NULL,"                                    \
	"  expires_at INTEGER,"                                            \
	"  verify_code TEXT NOT NULL UNIQUE"                               \
	"    CHECK (length(verify_code) = 32),"                            \
	"  revoked_at INTEGER,"                                            \
	"  revoke_reason TEXT"                                             \
	");"                                                               \
	"CREATE INDEX certificates_user ON certificates (user_id, course_id);"

#endif
