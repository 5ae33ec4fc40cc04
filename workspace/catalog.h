/*
 * The catalog: the courses a workspace holds, as the API and the
 * `course list` command show them, and publishing the tenant's own
 * (local) courses with `course publish`.
 *
 * Every course appears as {"id", "title", "origin", "revision",
 * "duration_minutes", "summary", "open"}: title and summary in the
 * course's default language (summary null when the course has none),
 * origin "mother" or "local", revision the 40-digit commit id, open
 * whether learners may enroll themselves. Lists are sorted by id.
 *
 *   PUT /api/v1/catalog/{id}/open  (admin) {"open": bool} -> 200 the
 *                                  entry; 400 bad body, 404 no course
 */
#ifndef LMS_WORKSPACE_CATALOG_H
#define LMS_WORKSPACE_CATALOG_H

#include "common/http.h"
#include "workspace/api.h"
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/ids.h"

/* The catalog as a JSON array into *out (NUL-terminated; the caller
 * frees it with cJSON_free()). 0, or -1 on a database or memory failure
 * (logged). */
int catalog_json(sqlite3 *db, char **out);

/* The catalog as a table "ID  ORIGIN  REVISION  TITLE" on f. */
int catalog_print_table(sqlite3 *db, FILE *f);

/* Validates the course in dir and publishes it as a new revision of a
 * local course of the workspace in data_dir: a commit on refs/local/<id>
 * in content.git (parent: the previous local revision), then the course
 * row with origin "local". message may be NULL. On success writes the
 * id and the revision; on failure writes a one-line reason to err
 * (validation errors as "FILE: REASON") and changes nothing that
 * anyone reads: an unreferenced commit at most. */
int catalog_publish(const char *data_dir, const char *dir,
		    const char *message, char out_id[IDS_MAX + 1],
		    char out_rev[IDS_REVISION_LEN + 1], char *err,
		    size_t errcap);

/* Opens (open 1) or closes course id for self-enrollment; 0, or
 * STORE_ENOTFOUND when the workspace does not hold it, STORE_EDB. */
int catalog_set_open(sqlite3 *db, const char *id, int open, int64_t now);

/* Answers req when its path is one of this module's subtree of the API;
 * see api_route_fn in workspace/api.h. */
int catalog_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req);

#endif
