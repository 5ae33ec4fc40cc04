/*
 * SQLite helpers: one place that decides how databases are opened and how
 * their schema moves forward.
 */
#include "common/db.h"

#include "common/log.h"

#include <stdio.h>

int db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	log_error("msg=\"sql failed\" error=\"%s\"", err ? err : "?");
	sqlite3_free(err);
	return -1;
}

int db_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(sqlite3 *db)
{
	return db_exec(db, "COMMIT");
}

void db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("msg=\"sql prepare failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

const char *db_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static int db_user_version(sqlite3 *db)
{
	sqlite3_stmt *st = db_prepare(db, "PRAGMA user_version");
	int v = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int db_migrate(sqlite3 *db, const struct db_migration *m, size_t n)
{
	int current = db_user_version(db);
	char pragma[64];

	if (current < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (m[i].version <= current)
			continue;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d",
			 m[i].version);
		if (db_begin(db))
			return -1;
		if (db_exec(db, m[i].sql) || db_exec(db, pragma) ||
		    db_commit(db)) {
			db_rollback(db);
			return -1;
		}
	}
	return 0;
}

void db_library_init(void)
{
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		log_warn("msg=\"SQLite settings not applied: the library was "
			 "already in use\"");
}

int db_open(const char *path, const struct db_migration *migrations,
	    size_t count, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		log_error("msg=\"cannot open database\" path=\"%s\" "
			  "error=\"%s\"", path, db ? sqlite3_errmsg(db) : "?");
		sqlite3_close_v2(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			"PRAGMA foreign_keys=ON;") ||
	    db_migrate(db, migrations, count)) {
		sqlite3_close_v2(db);
		return -1;
	}
	*out = db;
	return 0;
}
