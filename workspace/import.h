/*
 * Importing people from a CSV file: the core that the API and the
 * command line share, and the API path.
 *
 *   POST /api/v1/users/import[?dry_run=1]   (admin) body: the CSV text
 *        -> 200 {"dry_run", "created", "updated", "unchanged",
 *           "errors": []}, or 422 with "errors": [{"line", "message"}]
 *           and nothing changed
 *
 * The file: UTF-8 (a byte-order mark is skipped), fields separated by
 * ',' or ';' (whichever the header line holds more of), quoted with '"'
 * as spreadsheets write them (libcsv reads it). The first line names the
 * columns: email and name are required, role is optional, every other
 * column is an attribute key (a-z, 0-9, '_', '-'; header names are taken
 * lower-case). Each further line is one person: an existing user (by
 * email) gets the name, the role (unless the cell is empty) and the
 * attributes of the file, an empty attribute cell removing that
 * attribute; a new user is created without a password (an invitation
 * follows). Group memberships follow the attributes in the same
 * transaction (the triggers of workspace.db). A file whose role cells
 * would leave the workspace without an admin is refused like one with a
 * bad line, at the line that demotes the last one.
 *
 * Line numbers are those of the file as a text editor shows them, the
 * header being line 1; a record with a quoted line break is reported at
 * the line where it starts. Lines with no field filled (such as the ";;;"
 * a spreadsheet writes for an empty row) are skipped.
 */
#ifndef LMS_WORKSPACE_IMPORT_H
#define LMS_WORKSPACE_IMPORT_H

#include "common/http.h"
#include "workspace/api.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define IMPORT_MAX_LINES 10000 /* people per file, the header not counted */
#define IMPORT_MAX_COLUMNS 64
#define IMPORT_MAX_ERRORS 1000 /* listed; reading stops there */

#define IMPORT_EFILE (-40) /* the file has errors, listed in the report */

/* Imports the CSV text data (len bytes, need not end in NUL) in one
 * transaction, rolled back when dry_run is set, with now as the time the
 * new users are created. *report receives {"dry_run", "created",
 * "updated", "unchanged", "errors": [{"line", "message"}]}, owned by the
 * caller (cJSON_Delete). Returns 0 when every line was good (then the
 * counts say what happened, or would have happened in a dry run),
 * IMPORT_EFILE when a line is bad (the errors are listed, the counts are
 * 0 and nothing changed), or a negative STORE_E* code with no report. */
int import_csv(sqlite3 *db, const char *data, size_t len, int dry_run,
	       int64_t now, cJSON **report);

/* import_csv() with who named in the audit entry "user.import" that a
 * kept import which created or changed someone appends ({"created",
 * "updated", "unchanged"}); import_csv() names "cli". */
struct audit_actor;
int import_csv_by(sqlite3 *db, const struct audit_actor *who,
		  const char *data, size_t len, int dry_run, int64_t now,
		  cJSON **report);

/* Answers req when its path is one of this module's; see api_route_fn.
 * The import runs on the loop's thread pool with a connection of its
 * own. */
int import_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req);

#endif
