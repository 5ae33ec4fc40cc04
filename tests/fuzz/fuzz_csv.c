/*
 * libFuzzer target for the CSV import of people (workspace/import.c):
 * the input is the uploaded file.
 *
 * Each input is first only read and checked (import_check, without the
 * database), then imported as a dry run into a workspace database that
 * holds two people, a group with a rule and a member by hand. What must
 * hold, besides the sanitizers' checks and no leak:
 *   - every error names a line of the file (1 to the number of lines);
 *   - a file without errors has at most IMPORT_MAX_LINES rows, each with
 *     a valid email (no two alike), a valid name and valid attributes;
 *   - the dry run answers 0 or IMPORT_EFILE, never a database error, its
 *     counts add up to the rows of the file, and afterwards the database
 *     holds exactly what it held before.
 * The sources are compiled in, as in the unit tests; the HTTP check of
 * auth.c is not reached and is stubbed. The seeds in
 * tests/fuzz/corpus/fuzz_csv are files as spreadsheets write them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../workspace/import.c"
#include "../../workspace/people.c"
#include "../../workspace/store.c"

#define FUZZ_NOW 1800000000

int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api, (void)x, (void)req, (void)roles, (void)out;
	return -1;
}

static sqlite3 *fuzz_db;

static void fuzz_exec(const char *sql)
{
	if (sqlite3_exec(fuzz_db, sql, NULL, NULL, NULL) != SQLITE_OK)
		abort();
}

/* The database once per run, in a directory removed at exit. */
static char fuzz_dir[] = "/tmp/fuzz_csv.XXXXXX";

static void fuzz_cleanup(void)
{
	char path[64];

	sqlite3_close_v2(fuzz_db);
	for (const char *const *f = (const char *const[]){
		     "workspace.db", "workspace.db-wal", "workspace.db-shm",
		     NULL };
	     *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, *f);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64];

	(void)argc, (void)argv;
	log_init("fuzz_csv", LOG_ERROR);
	if (!mkdtemp(fuzz_dir))
		abort();
	snprintf(path, sizeof(path), "%s/workspace.db", fuzz_dir);
	if (store_open(path, &fuzz_db))
		abort();
	atexit(fuzz_cleanup);
	fuzz_exec("INSERT INTO users (email, name, role, created_at) VALUES "
		  "('ann@example.org', 'Ann', 'manager', 1), "
		  "('bob@example.org', 'Bob', 'learner', 1);"
		  "INSERT INTO user_attributes VALUES (1, 'department', "
		  "'Pflege'), (1, 'location', 'Köln'), (2, 'department', "
		  "'IT');"
		  "INSERT INTO groups (name, rule, by_rule, created_at) VALUES "
		  "('Pflege', '{\"department\":\"Pflege\"}', 1, 1);"
		  "INSERT INTO group_terms VALUES (1, 'department', 'Pflege');"
		  "INSERT INTO group_members VALUES (1, 1, 1), (1, 2, 0);");
	return 0;
}

/* Everything the import may touch, as one string (malloc'd). */
static char *fuzz_state(void)
{
	sqlite3_stmt *st = db_prepare(fuzz_db,
		"SELECT (SELECT group_concat(id || email || name || role, '|')"
		" FROM users) || '/' || (SELECT group_concat(user_id || key "
		"|| value, '|') FROM user_attributes) || '/' || (SELECT "
		"group_concat(group_id || user_id || from_rule, '|') FROM "
		"group_members)");
	char *s;

	if (!st || sqlite3_step(st) != SQLITE_ROW)
		abort();
	s = strdup(db_text(st, 0));
	sqlite3_finalize(st);
	if (!s)
		abort();
	return s;
}

static unsigned fuzz_lines(const uint8_t *data, size_t size)
{
	unsigned n = 1;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n' ||
		    (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
			n++;
	return n;
}

/* The rows of a file without errors are what the import writes. */
static void fuzz_check_rows(const struct import_file *f)
{
	struct people_attr a;
	char email[PEOPLE_EMAIL_MAX + 1];

	if (f->nrows > IMPORT_MAX_LINES || f->ncols > IMPORT_MAX_COLUMNS)
		abort();
	for (size_t i = 0; i < f->nrows; i++) {
		const struct import_row *r = &f->rows[i];

		if (people_email_normalize(r->email, email, sizeof(email)) ||
		    strcmp(email, r->email) || !people_name_valid(r->name))
			abort();
		for (size_t j = 0; j < i; j++)
			if (!strcmp(f->rows[j].email, r->email))
				abort();
		for (size_t k = 0; k < f->nattrs; k++) {
			a = (struct people_attr){ f->keys[k], r->values[k] };
			if (a.value && !people_attr_valid(&a))
				abort();
		}
	}
}

static size_t fuzz_check(const uint8_t *data, size_t size)
{
	unsigned lines = fuzz_lines(data, size);
	struct import_file f;
	size_t rows;

	if (import_check(&f, (const char *)data, size))
		abort();
	for (size_t i = 0; i < f.nerrors; i++)
		if (f.errors[i].line < 1 || f.errors[i].line > lines)
			abort();
	if (!f.nerrors)
		fuzz_check_rows(&f);
	rows = f.nerrors ? 0 : f.nrows;
	import_file_release(&f);
	return rows;
}

static int fuzz_count(const cJSON *report, const char *what)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(report, what);

	if (!cJSON_IsNumber(n))
		abort();
	return n->valueint;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t rows = fuzz_check(data, size);
	char *before = fuzz_state(), *after, *text;
	cJSON *report = NULL;
	int rc;

	rc = import_csv(fuzz_db, (const char *)data, size, 1, FUZZ_NOW,
			&report);
	if ((rc && rc != IMPORT_EFILE) || !report)
		abort();
	if (!rc && (size_t)(fuzz_count(report, "created") +
			    fuzz_count(report, "updated") +
			    fuzz_count(report, "unchanged")) != rows)
		abort();
	if (rc && cJSON_GetArraySize(cJSON_GetObjectItem(report,
							 "errors")) < 1)
		abort();
	text = cJSON_PrintUnformatted(report);
	if (!text)
		abort();
	after = fuzz_state();
	if (strcmp(before, after))
		abort();
	cJSON_free(text);
	cJSON_Delete(report);
	free(before);
	free(after);
	return 0;
}
