/*
 * SQLite databases: opening with the project's settings and migrating the
 * schema.
 *
 * db_open() sets WAL mode, synchronous=FULL (a commit survives power
 * loss), foreign keys and a busy timeout, then applies every migration
 * whose version is above PRAGMA user_version, each in its own
 * transaction. The caller owns the returned handle (sqlite3_close_v2).
 */
#ifndef LMS_DB_H
#define LMS_DB_H

#include <sqlite3.h>
#include <stddef.h>

struct db_migration {
	int version; /* 1, 2, 3 ... in order */
	const char *sql;
};

int db_open(const char *path, const struct db_migration *migrations,
	    size_t count, sqlite3 **out);

/* Settles SQLite's process-wide settings; call once at the start of a
 * program, before any database is opened. Turns off SQLite's memory
 * statistics, whose global mutex every allocation would take. */
void db_library_init(void);

/* Runs SQL without results; logs and returns -1 on error. */
int db_exec(sqlite3 *db, const char *sql);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK, logged on error. */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);

/* Prepares a statement, logging the error; NULL on failure. The caller
 * finalizes it. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);

/* Column text as a C string, "" for NULL; borrowed until the next step. */
const char *db_text(sqlite3_stmt *st, int col);

#endif
