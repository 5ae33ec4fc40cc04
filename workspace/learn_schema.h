/*
 * The tables of revisions and self-enrollment (workspace/apply.c,
 * learn.c, assign.c, catalog.c): one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 *
 * course_versions holds every revision of a course the workspace has
 * held, numbered from 1 in the order it took them; lesson_versions one
 * row per lesson and version in which the lesson's file got a new blob
 * (the first version lists every lesson), with retrain = 1 when that
 * version required learners to do the lesson again. catalog_open lists
 * the courses open for self-enrollment, enrollments who enrolled.
 *
 * Generations let workspace/learn.c keep a learner's course list until
 * something it is made of changes: triggers count every change of the
 * tables it reads in learn_generation (one row), and of a user's
 * completions in learn_user_generation.
 */
#ifndef LMS_WORKSPACE_LEARN_SCHEMA_H
#define LMS_WORKSPACE_LEARN_SCHEMA_H

/* Counts each change of table t in learn_generation. */
#define LEARN_GENERATION_TRIGGER(t, name, event)                          \
	"CREATE TRIGGER " t "_" name "_generation AFTER " event " ON " t   \
	" BEGIN UPDATE learn_generation SET n = n + 1 WHERE id = 1; END;"
#define LEARN_GENERATION_TRIGGERS(t)                                      \
	LEARN_GENERATION_TRIGGER(t, "insert", "INSERT")                    \
	LEARN_GENERATION_TRIGGER(t, "update", "UPDATE")                    \
	LEARN_GENERATION_TRIGGER(t, "delete", "DELETE")

/* Counts a change of the user of row in learn_user_generation. The row
 * is made when missing by a plain INSERT ... WHERE NOT EXISTS, not by
 * INSERT OR IGNORE: an upsert that fires the trigger would override the
 * OR IGNORE with its own conflict handling and fail. */
#define LEARN_USER_COUNT(row)                                             \
	"INSERT INTO learn_user_generation (user_id, n) SELECT " row       \
	".user_id, 0 WHERE NOT EXISTS (SELECT 1 FROM "                     \
	"learn_user_generation WHERE user_id = " row ".user_id);"          \
	"UPDATE learn_user_generation SET n = n + 1 WHERE user_id = "      \
	row ".user_id;"

/* Counts each change of a user's completions. */
#define LEARN_USER_TRIGGER(name, event, row)                              \
	"CREATE TRIGGER lesson_completions_" name "_generation AFTER "     \
	event " ON lesson_completions BEGIN " LEARN_USER_COUNT(row) " END;"

#define LEARN_SCHEMA                                                      \
	"CREATE TABLE course_versions ("                                   \
	"  course_id TEXT NOT NULL,"                                       \
	"  seq INTEGER NOT NULL CHECK (seq >= 1),"                         \
	"  revision TEXT NOT NULL CHECK (length(revision) = 40),"          \
	"  retrain INTEGER NOT NULL CHECK (retrain IN (0, 1)),"            \
	"  committed_at INTEGER NOT NULL,"                                 \
	"  message TEXT NOT NULL,"                                         \
	"  summary TEXT,"                                                  \
	"  PRIMARY KEY (course_id, seq),"                                  \
	"  UNIQUE (course_id, revision)"                                   \
	") WITHOUT ROWID;"                                                 \
	"CREATE TABLE lesson_versions ("                                   \
	"  course_id TEXT NOT NULL,"                                       \
	"  lesson_id TEXT NOT NULL,"                                       \
	"  seq INTEGER NOT NULL,"                                          \
	"  blob_id TEXT NOT NULL,"                                         \
	"  retrain INTEGER NOT NULL CHECK (retrain IN (0, 1)),"            \
	"  PRIMARY KEY (course_id, lesson_id, seq)"                        \
	") WITHOUT ROWID;"                                                 \
	"CREATE TABLE catalog_open ("                                      \
	"  course_id TEXT PRIMARY KEY,"                                    \
	"  opened_at INTEGER NOT NULL"                                     \
	") WITHOUT ROWID;"                                                 \
	"CREATE TABLE enrollments ("                                       \
	"  user_id INTEGER NOT NULL REFERENCES users (id)"                 \
	"    ON DELETE CASCADE,"                                           \
	"  course_id TEXT NOT NULL,"                                       \
	"  created_at INTEGER NOT NULL,"                                   \
	"  PRIMARY KEY (user_id, course_id)"                               \
	") WITHOUT ROWID;"                                                 \
	"CREATE TABLE learn_generation ("                                  \
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"                         \
	"  n INTEGER NOT NULL"                                             \
	");"                                                               \
	"INSERT INTO learn_generation (id, n) VALUES (1, 0);"              \
	"CREATE TABLE learn_user_generation ("                             \
	"  user_id INTEGER PRIMARY KEY,"                                   \
	"  n INTEGER NOT NULL"                                             \
	");"                                                               \
	LEARN_GENERATION_TRIGGERS("courses")                               \
	LEARN_GENERATION_TRIGGERS("assignments")                           \
	LEARN_GENERATION_TRIGGERS("group_members")                         \
	LEARN_GENERATION_TRIGGERS("enrollments")                           \
	LEARN_GENERATION_TRIGGERS("course_versions")                       \
	LEARN_GENERATION_TRIGGERS("lesson_versions")                       \
	LEARN_USER_TRIGGER("insert", "INSERT", "NEW")                      \
	LEARN_USER_TRIGGER("update", "UPDATE", "NEW")                      \
	LEARN_USER_TRIGGER("delete", "DELETE", "OLD")

#endif
