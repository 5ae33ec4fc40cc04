/*
 * Unit tests of workspace/import.c: a CSV file of people is read with
 * its BOM, separator, quotes and line breaks as a spreadsheet writes it;
 * every bad line is reported by its line number and then nothing
 * changes; good files create, update or leave people as they are, all in
 * one transaction, and a dry run counts without changing anything. Group
 * memberships follow the imported attributes. The sources are compiled
 * in directly, as the unit build links only the shared libraries; the
 * HTTP checks of auth.c and scope.c are not part of what is tested here
 * (tests/integration/import.test.mjs does that), so they are stubbed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/groups.c"
#include "../../workspace/import.c"
#include "../../workspace/people.c"
#include "../../workspace/store.c"

#include "common/buf.h"
#include "common/fs.h"

#define WS_FIXTURE_STUBS
#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000

/* Imports text; returns import_csv's code, the report in *report. */
static int import_text(sqlite3 *db, const char *text, int dry_run,
		       cJSON **report)
{
	return import_csv(db, text, strlen(text), dry_run, NOW, report);
}

static int count_of(const cJSON *report, const char *what)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(report, what);

	assert_true(cJSON_IsNumber(n));
	return n->valueint;
}

/* Imports a good file and checks the counts. */
static void import_ok(sqlite3 *db, const char *text, int dry_run,
		      int created, int updated, int unchanged)
{
	cJSON *report = NULL;

	assert_int_equal(import_text(db, text, dry_run, &report), 0);
	assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(report,
							  "dry_run")),
			 dry_run);
	assert_int_equal(count_of(report, "created"), created);
	assert_int_equal(count_of(report, "updated"), updated);
	assert_int_equal(count_of(report, "unchanged"), unchanged);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(report,
								"errors")),
			 0);
	cJSON_Delete(report);
}

/* Imports a bad file: the lines of its errors, in order, must be lines
 * (ending with 0), and each message must hold the word in words (NULL to
 * skip). Nothing may have been counted. */
static void import_bad(sqlite3 *db, const char *text, const unsigned *lines,
		       const char *const *words)
{
	cJSON *report = NULL;
	const cJSON *errors, *e;
	size_t i = 0;

	assert_int_equal(import_text(db, text, 0, &report), IMPORT_EFILE);
	assert_int_equal(count_of(report, "created"), 0);
	assert_int_equal(count_of(report, "updated"), 0);
	errors = cJSON_GetObjectItem(report, "errors");
	cJSON_ArrayForEach(e, errors) {
		const char *msg =
			cJSON_GetObjectItem(e, "message")->valuestring;

		assert_int_not_equal(lines[i], 0);
		if (cJSON_GetObjectItem(e, "line")->valueint != (int)lines[i])
			fail_msg("error %zu at line %d, expected %u: %s", i,
				 cJSON_GetObjectItem(e, "line")->valueint,
				 lines[i], msg);
		if (words && words[i] && !strstr(msg, words[i]))
			fail_msg("'%s' does not mention '%s'", msg, words[i]);
		i++;
	}
	assert_int_equal(lines[i], 0);
	cJSON_Delete(report);
}

static int64_t count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t n;

	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int64_t users(sqlite3 *db)
{
	return count_rows(db, "SELECT count(*) FROM users");
}

/* A text column of the user with email, "" when NULL; into out. */
static void user_field(sqlite3 *db, const char *email, const char *col,
		       char *out, size_t cap)
{
	char sql[160];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), "SELECT %s FROM users WHERE email = ?1",
		 col);
	st = db_prepare(db, sql);
	assert_non_null(st);
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, cap, "%s", db_text(st, 0));
	sqlite3_finalize(st);
}

/* The attribute key of the user with email, or "-" when it has none. */
static void attr_of(sqlite3 *db, const char *email, const char *key,
		    char *out, size_t cap)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT a.value FROM "
				      "user_attributes a JOIN users u ON "
				      "u.id = a.user_id WHERE u.email = ?1 "
				      "AND a.key = ?2");

	assert_non_null(st);
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	snprintf(out, cap, "%s", sqlite3_step(st) == SQLITE_ROW ?
		 db_text(st, 0) : "-");
	sqlite3_finalize(st);
}

static void assert_field(sqlite3 *db, const char *email, const char *col,
			 const char *want)
{
	char got[256];

	user_field(db, email, col, got, sizeof(got));
	assert_string_equal(got, want);
}

static void assert_attr(sqlite3 *db, const char *email, const char *key,
			const char *want)
{
	char got[256];

	attr_of(db, email, key, got, sizeof(got));
	assert_string_equal(got, want);
}

/* ---- good files ---- */

static void test_good_file(void **state)
{
	struct ws_fixture *f = *state;

	import_ok(f->db,
		  "email,name,role,department,location\n"
		  "Ann@Example.org,Ann Example,manager,Pflege,Bonn\n"
		  "bob@example.org,Bob Example,,IT,Köln\n"
		  "cy@example.org,Cy Example,learner,,Bonn\n",
		  0, 3, 0, 0);
	assert_int_equal(users(f->db), 3);
	assert_field(f->db, "ann@example.org", "name", "Ann Example");
	assert_field(f->db, "ann@example.org", "role", "manager");
	assert_field(f->db, "bob@example.org", "role", "learner");
	assert_field(f->db, "ann@example.org",
		     "coalesce(password_hash, 'none')", "none");
	assert_attr(f->db, "ann@example.org", "department", "Pflege");
	assert_attr(f->db, "bob@example.org", "location", "Köln");
	assert_attr(f->db, "cy@example.org", "department", "-");
	assert_int_equal(count_rows(f->db, "SELECT created_at FROM users "
					   "WHERE email = 'cy@example.org'"),
			 NOW);
}

static void test_bom_semicolons_crlf(void **state)
{
	struct ws_fixture *f = *state;

	/* Excel's "CSV UTF-8" in a German locale: BOM, ';' and CRLF; the
	 * commas inside a field are no separator then */
	import_ok(f->db,
		  "\xef\xbb\xbf" "Email;Name;Abteilung\r\n"
		  "ann@example.org;Example, Ann;Pflege\r\n"
		  "\r\n"
		  ";;\r\n"
		  "bob@example.org;Bob;IT\r\n",
		  0, 2, 0, 0);
	assert_field(f->db, "ann@example.org", "name", "Example, Ann");
	assert_attr(f->db, "bob@example.org", "abteilung", "IT");
	/* old Mac line ends count as lines too */
	import_bad(f->db, "email,name\rcy@example.org,Cy\rbad,B\r",
		   (const unsigned[]){ 3, 0 },
		   (const char *const[]){ "bad" });
}

static void test_quoted_fields(void **state)
{
	struct ws_fixture *f = *state;

	import_ok(f->db,
		  "email,name,location,note\n"
		  "ann@example.org,\"Müller, Jörg\",\"Köln, Süd\","
		  "\"sagt \"\"Hallo\"\"\"\n"
		  "  bob@example.org  ,  Bob Example  ,Bonn,\"\"\n",
		  0, 2, 0, 0);
	assert_field(f->db, "ann@example.org", "name", "Müller, Jörg");
	assert_attr(f->db, "ann@example.org", "location", "Köln, Süd");
	assert_attr(f->db, "ann@example.org", "note", "sagt \"Hallo\"");
	assert_field(f->db, "bob@example.org", "name", "Bob Example");
	assert_attr(f->db, "bob@example.org", "note", "-");
}

/* A quoted line break keeps the record whole; it is reported at the
 * line where the record starts, and the lines after it keep the numbers
 * an editor shows. */
static void test_quoted_line_breaks(void **state)
{
	struct ws_fixture *f = *state;

	import_bad(f->db,
		   "email,name,location\n"
		   "ann@example.org,Ann,Bonn\n"
		   "bob@example.org,\"Bob\nExample\",Bonn\n"
		   "cy@example.org,Cy,\"Haus A\r\nStation 3\"\n"
		   "not-an-email,Dee,Bonn\n",
		   (const unsigned[]){ 3, 5, 7, 0 },
		   (const char *const[]){ "name", "location", "not-an-email" });
	assert_int_equal(users(f->db), 0);
}

/* ---- bad files ---- */

static void test_bad_values_by_line(void **state)
{
	struct ws_fixture *f = *state;

	import_bad(f->db,
		   "email,name,role,department\n"
		   "ann@example.org,Ann,learner,Pflege\n"
		   "ann.example.org,Ann,learner,Pflege\n"
		   "bob@example.org,Bob,boss,IT\n"
		   "cy@example.org,   ,learner,IT\n"
		   ",Dee,,IT\n"
		   "eve@example.org,Eve,admin,\"a\tb\"\n",
		   (const unsigned[]){ 3, 4, 5, 6, 7, 0 },
		   (const char *const[]){ "ann.example.org", "boss", "name",
					  "email", "department" });
	import_bad(f->db, "email,name,Abteilung ü\nann@example.org,Ann,X\n",
		   (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "abteilung ü" });
	import_bad(f->db, "email,role\nann@example.org,learner\n",
		   (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "name" });
	import_bad(f->db, "email,name,email\n",
		   (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "twice" });
	import_bad(f->db, "email,name,dept,Dept\n",
		   (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "'dept' appears twice" });
	import_bad(f->db, "email,name,\n", (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "column 3" });
	import_bad(f->db, "email,name\nann@example.org,\"Ann\n",
		   (const unsigned[]){ 2, 0 },
		   (const char *const[]){ "not closed" });
	import_bad(f->db, "email,name\nann@example.org,Ann \"A\" B\n",
		   (const unsigned[]){ 2, 0 },
		   (const char *const[]){ "quote" });
	assert_int_equal(users(f->db), 0);
}

static void test_duplicate_email(void **state)
{
	struct ws_fixture *f = *state;

	import_bad(f->db,
		   "email,name\n"
		   "ann@example.org,Ann\n"
		   "bob@example.org,Bob\n"
		   "ANN@example.org,Ann Again\n"
		   "bob@example.org,Bob Again\n",
		   (const unsigned[]){ 4, 5, 0 },
		   (const char *const[]){ "line 2", "line 3" });
	assert_int_equal(users(f->db), 0);
}

static void test_invalid_utf8(void **state)
{
	struct ws_fixture *f = *state;

	/* Latin-1 "ü", a stray continuation byte, an overlong '/', a
	 * surrogate and the replacement character a lossy reader leaves
	 * for "ü", each on its own line */
	import_bad(f->db,
		   "email,name\n"
		   "ann@example.org,M\xfcller\n"
		   "bob@example.org,Bob\n"
		   "cy@example.org,C\x80y\n"
		   "dee@example.org,D\xc0\xaf" "e\n"
		   "eve@example.org,E\xed\xa0\x80ve\n"
		   "fay@example.org,M\xef\xbf\xbdller\n",
		   (const unsigned[]){ 2, 4, 5, 6, 7, 0 },
		   (const char *const[]){ "UTF-8", "UTF-8", "UTF-8", "UTF-8",
					  "U+FFFD" });
	/* a NUL byte */
	{
		static const char text[] = "email,name\nfay@example.org,F\0a\n";
		cJSON *report = NULL;

		assert_int_equal(import_csv(f->db, text, sizeof(text) - 1, 0,
					    NOW, &report), IMPORT_EFILE);
		assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(
			cJSON_GetObjectItem(report, "errors"), 0), "line")
					 ->valueint, 2);
		cJSON_Delete(report);
	}
	/* a UTF-16 file is not read as anything */
	import_bad(f->db, "\xff\xfe" "e\0m\0a\0i\0l\0",
		   (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "UTF-8" });
	assert_int_equal(users(f->db), 0);
}

static void test_columns_and_lines_limits(void **state)
{
	struct ws_fixture *f = *state;
	struct buf text = { 0 };
	cJSON *report = NULL;

	/* 65 columns in the header */
	assert_int_equal(buf_append_str(&text, "email,name"), 0);
	for (int i = 3; i <= IMPORT_MAX_COLUMNS + 1; i++)
		assert_int_equal(buf_printf(&text, ",k%d", i), 0);
	assert_int_equal(buf_append_str(&text, "\n"), 0);
	import_bad(f->db, buf_cstr(&text), (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "columns" });

	/* a line with more or fewer fields than the header */
	import_bad(f->db, "email,name\nann@example.org,Ann,X\nbob@x.org\n",
		   (const unsigned[]){ 2, 3, 0 },
		   (const char *const[]){ "3 fields", "1 fields" });

	/* one person more than allowed: the line after the limit */
	buf_reset(&text);
	assert_int_equal(buf_append_str(&text, "email,name\n"), 0);
	for (int i = 0; i <= IMPORT_MAX_LINES; i++)
		assert_int_equal(buf_printf(&text, "p%d@example.org,P %d\n",
					    i, i), 0);
	import_bad(f->db, buf_cstr(&text),
		   (const unsigned[]){ IMPORT_MAX_LINES + 2, 0 },
		   (const char *const[]){ "split" });
	assert_int_equal(users(f->db), 0);

	/* exactly the limit is fine */
	buf_reset(&text);
	assert_int_equal(buf_append_str(&text, "email,name\n"), 0);
	for (int i = 0; i < IMPORT_MAX_LINES; i++)
		assert_int_equal(buf_printf(&text, "p%d@example.org,P %d\n",
					    i, i), 0);
	assert_int_equal(import_csv(f->db, (const char *)text.data, text.len,
				    0, NOW, &report), 0);
	assert_int_equal(count_of(report, "created"), IMPORT_MAX_LINES);
	cJSON_Delete(report);
	assert_int_equal(users(f->db), IMPORT_MAX_LINES);
	buf_release(&text);
}

/* A file of errors lists the first IMPORT_MAX_ERRORS and says so. */
static void test_error_cap(void **state)
{
	struct ws_fixture *f = *state;
	struct buf text = { 0 };
	cJSON *report = NULL, *errors, *last;

	assert_int_equal(buf_append_str(&text, "email,name\n"), 0);
	for (int i = 0; i < IMPORT_MAX_ERRORS + 100; i++)
		assert_int_equal(buf_printf(&text, "p%d,P\n", i), 0);
	assert_int_equal(import_text(f->db, buf_cstr(&text), 0, &report),
			 IMPORT_EFILE);
	errors = cJSON_GetObjectItem(report, "errors");
	assert_int_equal(cJSON_GetArraySize(errors), IMPORT_MAX_ERRORS + 1);
	last = cJSON_GetArrayItem(errors, IMPORT_MAX_ERRORS);
	assert_int_equal(cJSON_GetObjectItem(last, "line")->valueint,
			 IMPORT_MAX_ERRORS + 1);
	assert_non_null(strstr(cJSON_GetObjectItem(last, "message")
				       ->valuestring, "more errors"));
	cJSON_Delete(report);
	buf_release(&text);
}

static void test_empty_and_header_only(void **state)
{
	struct ws_fixture *f = *state;

	import_bad(f->db, "", (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "empty" });
	import_bad(f->db, "\xef\xbb\xbf", (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "empty" });
	import_bad(f->db, "\n\r\n  \n", (const unsigned[]){ 1, 0 },
		   (const char *const[]){ "empty" });
	import_ok(f->db, "email,name,role", 0, 0, 0, 0);
	import_ok(f->db, "email;name;department\n\n", 0, 0, 0, 0);
	assert_int_equal(users(f->db), 0);
}

/* ---- updates ---- */

static void test_create_update_unchanged(void **state)
{
	struct ws_fixture *f = *state;
	struct people_attr attrs[] = { { "department", "Pflege" },
				       { "location", "Bonn" },
				       { "badge", "7" } };
	struct people_new_user ann = { .email = "ann@example.org",
				       .name = "Ann", .role =
				       PEOPLE_ROLE_MANAGER, .attrs = attrs,
				       .nattrs = 3, .password_hash = "x",
				       .created_at = 1 };
	int64_t id;

	assert_int_equal(people_user_add(f->db, &ann, &id), 0);
	/* the same values: unchanged; an attribute not in the header and
	 * the password stay */
	import_ok(f->db, "email,name,department,location\n"
			 "ann@example.org,Ann,Pflege,Bonn\n",
		  0, 0, 0, 1);
	/* an empty role keeps the role; an empty cell removes the
	 * attribute; the new user is a learner */
	import_ok(f->db, "email,name,role,department,location\n"
			 "ANN@example.org,Ann Example,,IT,\n"
			 "bob@example.org,Bob,,IT,Bonn\n",
		  0, 1, 1, 0);
	assert_field(f->db, "ann@example.org", "name", "Ann Example");
	assert_field(f->db, "ann@example.org", "role", "manager");
	assert_field(f->db, "ann@example.org", "password_hash", "x");
	assert_field(f->db, "ann@example.org", "created_at", "1");
	assert_attr(f->db, "ann@example.org", "department", "IT");
	assert_attr(f->db, "ann@example.org", "location", "-");
	assert_attr(f->db, "ann@example.org", "badge", "7");
	/* a role given changes it */
	import_ok(f->db, "email,name,role\nann@example.org,Ann Example,"
			 "Learner\nbob@example.org,Bob,learner\n",
		  0, 0, 1, 1);
	assert_field(f->db, "ann@example.org", "role", "learner");
	assert_int_equal(users(f->db), 2);
}

static void test_dry_run_changes_nothing(void **state)
{
	struct ws_fixture *f = *state;
	cJSON *report = NULL;

	import_ok(f->db, "email,name,department\nann@example.org,Ann,IT\n",
		  0, 1, 0, 0);
	import_ok(f->db, "email,name,department\n"
			 "ann@example.org,Ann B,IT\n"
			 "bob@example.org,Bob,IT\n"
			 "cy@example.org,Cy,IT\n",
		  1, 2, 1, 0);
	assert_int_equal(users(f->db), 1);
	assert_field(f->db, "ann@example.org", "name", "Ann");
	/* a bad dry run reports like a real one */
	assert_int_equal(import_text(f->db, "email,name\nx,Y\n", 1, &report),
			 IMPORT_EFILE);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(report, "dry_run")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(report,
								"errors")),
			 1);
	cJSON_Delete(report);
	/* and the database is free for the next writer */
	import_ok(f->db, "email,name\nbob@example.org,Bob\n", 0, 1, 0, 0);
	assert_int_equal(users(f->db), 2);
}

/* One bad line among good ones: nothing of the good ones is kept. */
static void test_all_or_nothing(void **state)
{
	struct ws_fixture *f = *state;

	import_ok(f->db, "email,name\nann@example.org,Ann\n", 0, 1, 0, 0);
	import_bad(f->db, "email,name,department\n"
			  "ann@example.org,Ann New,IT\n"
			  "bob@example.org,Bob,IT\n"
			  "cy@example.org,Cy,\x01\n",
		   (const unsigned[]){ 4, 0 }, NULL);
	assert_int_equal(users(f->db), 1);
	assert_field(f->db, "ann@example.org", "name", "Ann");
	assert_attr(f->db, "ann@example.org", "department", "-");
}

/* A file may not take the admin role from the last admin (PATCH
 * /api/v1/users/{id} refuses the same): it is refused at that line and
 * nothing changes; with another admin named in the file it goes. */
static void test_last_admin_kept(void **state)
{
	struct ws_fixture *f = *state;
	struct people_new_user ann = { .email = "ann@example.org",
				       .name = "Ann", .role =
				       PEOPLE_ROLE_ADMIN, .created_at = 1 };
	cJSON *report = NULL;
	int64_t id;

	assert_int_equal(people_user_add(f->db, &ann, &id), 0);
	import_bad(f->db, "email,name,role\n"
			  "bob@example.org,Bob,learner\n"
			  "ann@example.org,Ann,manager\n",
		   (const unsigned[]){ 3, 0 },
		   (const char *const[]){ "admin" });
	assert_field(f->db, "ann@example.org", "role", "admin");
	assert_int_equal(users(f->db), 1);
	/* a dry run tells the same */
	assert_int_equal(import_text(f->db, "email,name,role\n"
				     "ann@example.org,Ann,learner\n", 1,
				     &report),
			 IMPORT_EFILE);
	cJSON_Delete(report);
	import_ok(f->db, "email,name,role\n"
			 "ann@example.org,Ann,manager\n"
			 "bob@example.org,Bob,admin\n",
		  0, 1, 1, 0);
	assert_field(f->db, "ann@example.org", "role", "manager");
	assert_field(f->db, "bob@example.org", "role", "admin");
}

/* The membership triggers run as the import sets attributes. */
static void test_groups_follow(void **state)
{
	struct ws_fixture *f = *state;
	cJSON *in = cJSON_Parse("{\"name\": \"Pflege\", \"rule\": "
				"{\"department\": \"Pflege\"}}");
	const char *why;
	int64_t g;

	assert_int_equal(groups_add_json(f->db, in, NOW, &g, &why), 0);
	cJSON_Delete(in);
	import_ok(f->db, "email,name,department\n"
			 "ann@example.org,Ann,Pflege\n"
			 "bob@example.org,Bob,IT\n",
		  0, 2, 0, 0);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM "
					   "group_members m JOIN users u ON "
					   "u.id = m.user_id WHERE u.email = "
					   "'ann@example.org'"), 1);
	import_ok(f->db, "email,name,department\n"
			 "ann@example.org,Ann,\n"
			 "bob@example.org,Bob,Pflege\n",
		  0, 0, 2, 0);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM "
					   "group_members m JOIN users u ON "
					   "u.id = m.user_id WHERE u.email = "
					   "'bob@example.org' AND m.from_rule"),
			 1);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM "
					   "group_members"), 1);
}

static void test_query_dry_run(void **state)
{
	(void)state;
	assert_int_equal(import_query_dry_run("dry_run=1"), 1);
	assert_int_equal(import_query_dry_run("a=b&dry_run=true"), 1);
	assert_int_equal(import_query_dry_run("dry_run=0"), 0);
	assert_int_equal(import_query_dry_run("xdry_run=1"), 0);
	assert_int_equal(import_query_dry_run(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_bom_semicolons_crlf,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_quoted_fields, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_quoted_line_breaks,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_bad_values_by_line,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_email, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_columns_and_lines_limits,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_error_cap, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_header_only,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_create_update_unchanged,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_last_admin_kept, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_groups_follow, ws_setup,
						ws_teardown),
		cmocka_unit_test(test_query_dry_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
