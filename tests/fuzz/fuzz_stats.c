/*
 * libFuzzer target for the STATS report body a workspace sends the
 * mother (mother/stats.c): any bytes are checked and either refused as a
 * whole or stored as ids, months and numbers; the analytics and usage
 * views then read what was stored. Runs against an in-memory mother.db
 * that holds two courses and one tenant.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../mother/store.c"
#include "../../mother/stats.c"

static sqlite3 *fuzz_db(void)
{
	static sqlite3 *db;

	if (db)
		return db;
	log_init("fuzz_stats", LOG_ERROR);
	if (store_open(":memory:", &db) ||
	    db_exec(db, "INSERT INTO courses (id, title, created_at) VALUES"
			" ('c1', 'One', 0), ('c2', 'Two', 0);"
			"INSERT INTO tenants (id, name, created_at)"
			" VALUES ('t1', 'T', 0);"))
		abort();
	return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sqlite3 *db = fuzz_db();
	const char *why = NULL;
	cJSON *a;
	int rc;

	rc = stats_store(db, "t1", 1796385600, data, size, &why);
	if (rc < 0 || (rc == 1) != (why != NULL))
		abort(); /* refused with a reason, or stored */
	a = stats_analytics_json(db, NULL, "2026-01", "2026-12");
	if (!a)
		abort();
	cJSON_Delete(a);
	return 0;
}
