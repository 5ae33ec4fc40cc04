/*
 * The catalog of a workspace: listing what it holds and publishing its
 * own courses. Both read and write workspace.db directly, so they work
 * whether or not `serve` runs; serve reads the database per request and
 * sees a publish at once.
 *
 * Publishing follows the same rule as applying a mother event: the
 * database is the truth and the ref follows it. The local ref is first
 * brought to the revision the database holds, so a commit left over by
 * an interrupted publish never becomes a parent; then the commit, then
 * the row (the commit point).
 */
#include "workspace/catalog.h"

#include "common/course.h"
#include "common/db.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/log.h"
#include "workspace/apply.h"
#include "workspace/auth.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- listing ---- */

/* The catalog's columns: the summary of the held revision's version
 * (NULL before it is recorded) and whether the course is open. */
#define CATALOG_SELECT                                                    \
	"SELECT c.id, c.title, c.origin, c.revision, c.duration_minutes, " \
	"v.summary, o.course_id IS NOT NULL FROM courses c "                \
	"LEFT JOIN course_versions v ON v.course_id = c.id AND "            \
	"v.revision = c.revision "                                          \
	"LEFT JOIN catalog_open o ON o.course_id = c.id "

static cJSON *catalog_row_json(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "id", db_text(st, 0)) &&
	     cJSON_AddStringToObject(o, "title", db_text(st, 1)) &&
	     cJSON_AddStringToObject(o, "origin", db_text(st, 2)) &&
	     cJSON_AddStringToObject(o, "revision", db_text(st, 3)) &&
	     cJSON_AddNumberToObject(o, "duration_minutes",
				     sqlite3_column_int(st, 4)) &&
	     cJSON_AddBoolToObject(o, "open", sqlite3_column_int(st, 6));
	if (ok && sqlite3_column_type(st, 5) == SQLITE_NULL)
		ok = cJSON_AddNullToObject(o, "summary") != NULL;
	else if (ok)
		ok = cJSON_AddStringToObject(o, "summary",
					     db_text(st, 5)) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The entries of id (NULL: every course) into a new array. */
static int catalog_select(sqlite3 *db, const char *id, cJSON **out)
{
	sqlite3_stmt *st = db_prepare(db, CATALOG_SELECT
				      "WHERE ?1 IS NULL OR c.id = ?1 "
				      "ORDER BY c.id");
	cJSON *arr = cJSON_CreateArray(), *item;
	int step = SQLITE_DONE, rc = 0;

	*out = NULL;
	if (!st || !arr)
		rc = st ? STORE_ENOMEM : STORE_EDB;
	if (!rc && id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		item = catalog_row_json(st);
		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			rc = STORE_ENOMEM;
		}
	}
	if (!rc && step != SQLITE_DONE) {
		log_error("msg=\"catalog query failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
		rc = STORE_EDB;
	}
	sqlite3_finalize(st);
	if (rc)
		cJSON_Delete(arr);
	else
		*out = arr;
	return rc;
}

int catalog_json(sqlite3 *db, char **out)
{
	cJSON *arr;

	*out = NULL;
	if (!catalog_select(db, NULL, &arr))
		*out = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	if (*out)
		return 0;
	log_error("msg=\"cannot build the catalog\"");
	return -1;
}

int catalog_print_table(sqlite3 *db, FILE *f)
{
	struct store_course *list;
	int idw = (int)strlen("ID");
	size_t n;

	if (store_course_list(db, &list, &n))
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(list[i].id) > idw)
			idw = (int)strlen(list[i].id);
	fprintf(f, "%-*s  %-6s  %-40s  %s\n", idw, "ID", "ORIGIN", "REVISION",
		"TITLE");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%-*s  %-6s  %-40s  %s\n", idw, list[i].id,
			store_origin_name(list[i].origin), list[i].revision,
			list[i].title ? list[i].title : "");
	store_course_list_free(list, n);
	return 0;
}

/* ---- publishing ---- */

struct catalog_publish {
	const char *data_dir;
	const char *dir;
	const char *message;
	char *err;
	size_t errcap;

	sqlite3 *db;
	git_repository *repo;
	struct course_info info;
	char ref[128];
	char prev[IDS_REVISION_LEN + 1]; /* "" for a new course */
	char author[IDS_MAX + 1];
};

static int catalog_fail(struct catalog_publish *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int catalog_fail(struct catalog_publish *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errcap, fmt, ap);
	va_end(ap);
	return -1;
}

/* Step 1: the course itself, before anything is touched. */
static int catalog_validate(struct catalog_publish *p)
{
	struct course_reader reader;
	struct course_error cerr;
	struct stat st;

	if (stat(p->dir, &st) || !S_ISDIR(st.st_mode))
		return catalog_fail(p, "%s: not a directory", p->dir);
	memset(&cerr, 0, sizeof(cerr));
	course_reader_dir(&reader, p->dir);
	if (course_validate(&reader, NULL, &p->info, &cerr) == 0)
		return 0;
	course_error_format(&cerr, p->err, p->errcap);
	return -1;
}

/* What the workspace holds under the course's id: its revision into
 * p->prev ("" for none); -1 for a course of the mother. */
static int catalog_held(struct catalog_publish *p)
{
	struct store_course cur;
	int rc = store_course_get(p->db, p->info.id, &cur);

	if (rc == STORE_ENOTFOUND)
		return 0;
	if (rc)
		return catalog_fail(p, "cannot read the course: %s",
				    store_strerror(rc));
	if (cur.origin != STORE_ORIGIN_LOCAL)
		rc = catalog_fail(p, "course %s comes from the mother; a "
				  "local course needs another id", cur.id);
	memcpy(p->prev, cur.revision, sizeof(p->prev));
	store_course_release(&cur);
	return rc;
}

/* Step 2: the workspace, and what it holds under the course's id. */
static int catalog_open(struct catalog_publish *p)
{
	char *db_path = fs_join(p->data_dir, STORE_FILE);
	char *repo_path = fs_join(p->data_dir, APPLY_REPO_DIR);
	int rc = -1;

	if (!db_path || !repo_path) {
		catalog_fail(p, "out of memory");
		goto out;
	}
	if (!fs_exists(db_path)) {
		catalog_fail(p, "%s is not a workspace (no %s)", p->data_dir,
			     STORE_FILE);
		goto out;
	}
	if (store_open(db_path, &p->db) ||
	    gitstore_open(repo_path, 0, &p->repo)) {
		catalog_fail(p, "cannot open the workspace in %s",
			     p->data_dir);
		goto out;
	}
	if (store_setting_get(p->db, "tenant", p->author, sizeof(p->author)))
		snprintf(p->author, sizeof(p->author), "workspace");
	rc = catalog_held(p);
out:
	free(db_path);
	free(repo_path);
	return rc;
}

/* Points the local ref at the revision the database holds (removing it
 * for a course not held), so only recorded revisions become parents. */
static int catalog_align_ref(struct catalog_publish *p)
{
	char rev[IDS_REVISION_LEN + 1];
	git_reference *r = NULL;
	int rc = gitstore_ref_revision(p->repo, p->ref, rev);

	if (rc < 0)
		return -1;
	if (rc == 1 && !*p->prev)
		return 0;
	if (rc == 0 && !strcmp(rev, p->prev))
		return 0;
	if (*p->prev)
		return gitstore_set_ref(p->repo, p->ref, p->prev,
					"lms: align with workspace.db");
	if (git_reference_lookup(&r, p->repo, p->ref) == 0) {
		rc = git_reference_delete(r);
		git_reference_free(r);
		if (rc == 0)
			return 0;
	}
	log_error("msg=\"cannot remove a stale ref\" ref=%s", p->ref);
	return -1;
}

/* After a failed record: the ref follows whatever the database holds
 * now (nothing to do when the id became a mother course). */
static void catalog_realign(struct catalog_publish *p)
{
	struct store_course now;
	int local, rc = store_course_get(p->db, p->info.id, &now);

	if (rc == STORE_ENOTFOUND) {
		p->prev[0] = 0;
		catalog_align_ref(p);
	}
	if (rc)
		return;
	memcpy(p->prev, now.revision, sizeof(p->prev));
	local = now.origin == STORE_ORIGIN_LOCAL;
	store_course_release(&now);
	if (local)
		catalog_align_ref(p);
}

/* Step 4: the row that makes the commit out_rev count. */
static int catalog_record(struct catalog_publish *p, const char *out_rev)
{
	struct store_course c;
	int rc;

	memset(&c, 0, sizeof(c));
	memcpy(c.id, p->info.id, sizeof(c.id));
	memcpy(c.revision, out_rev, sizeof(c.revision));
	c.origin = STORE_ORIGIN_LOCAL;
	c.title = p->info.title;
	c.duration_minutes = p->info.duration_minutes;
	c.published_at = time(NULL);
	c.updated_at = c.published_at;
	rc = store_publish_local(p->db, &c, p->prev);
	if (!rc) {
		/* after the commit point: a failure (logged) is made good
		 * when the course is next read */
		apply_record_versions(p->db, p->repo, c.id);
		return 0;
	}

	/* Someone else changed the course meanwhile; leave the ref where
	 * the database says and let the user try again. */
	catalog_realign(p);
	if (rc == STORE_EORIGIN)
		return catalog_fail(p, "course %s comes from the mother; a "
				    "local course needs another id", c.id);
	if (rc == STORE_EREVISION)
		return catalog_fail(p, "course %s changed during the publish;"
				    " try again", c.id);
	return catalog_fail(p, "cannot record the course: %s",
			    store_strerror(rc));
}

/* Step 3: the commit on the local ref, then its record. */
static int catalog_commit(struct catalog_publish *p, char out_rev[41])
{
	char msg[160];
	int rc;

	if (catalog_align_ref(p))
		return catalog_fail(p, "cannot prepare %s in content.git",
				    p->ref);
	if (!p->message)
		snprintf(msg, sizeof(msg), "Publish %s\n", p->info.id);
	rc = gitstore_commit_dir(p->repo, p->ref, p->dir,
				 p->message ? p->message : msg, p->author,
				 out_rev);
	if (rc == 1) {
		fprintf(stderr, "lms-workspace: %s is unchanged, nothing to "
				"publish\n", p->info.id);
		return 0;
	}
	if (rc)
		return catalog_fail(p, "cannot commit %s", p->dir);
	return catalog_record(p, out_rev);
}

int catalog_publish(const char *data_dir, const char *dir,
		    const char *message, char out_id[IDS_MAX + 1],
		    char out_rev[IDS_REVISION_LEN + 1], char *err,
		    size_t errcap)
{
	struct catalog_publish p = {
		.data_dir = data_dir,
		.dir = dir,
		.message = message,
		.err = err,
		.errcap = errcap,
	};
	int rc = -1;

	err[0] = 0;
	if (catalog_validate(&p))
		return -1;
	if (catalog_open(&p))
		goto out;
	if (apply_ref_name(STORE_ORIGIN_LOCAL, p.info.id, p.ref,
			   sizeof(p.ref))) {
		catalog_fail(&p, "course id too long for a ref");
		goto out;
	}
	if (catalog_commit(&p, out_rev))
		goto out;
	memcpy(out_id, p.info.id, IDS_MAX + 1);
	rc = 0;
out:
	course_info_release(&p.info);
	git_repository_free(p.repo);
	sqlite3_close_v2(p.db);
	return rc;
}

/* ---- opening courses for self-enrollment ---- */

int catalog_set_open(sqlite3 *db, const char *id, int open, int64_t now)
{
	struct store_course c;
	sqlite3_stmt *st;
	int step, rc;

	if ((rc = store_course_get(db, id, &c)))
		return rc;
	store_course_release(&c);
	st = db_prepare(db, open ? "INSERT OR IGNORE INTO catalog_open "
				   "(course_id, opened_at) VALUES (?1, ?2)" :
				   "DELETE FROM catalog_open WHERE "
				   "course_id = ?1");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (open)
		sqlite3_bind_int64(st, 2, now);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_DONE)
		return 0;
	log_error("msg=\"catalog open failed\" course=%s error=\"%s\"", id,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

#define CATALOG_PREFIX "/api/v1/catalog/"

/* The id of /api/v1/catalog/{id}/open into out, or 0. */
static int catalog_open_path(const char *path, char *out)
{
	const char *p;
	size_t n;

	if (strncmp(path, CATALOG_PREFIX, strlen(CATALOG_PREFIX)))
		return 0;
	p = path + strlen(CATALOG_PREFIX);
	n = strcspn(p, "/");
	if (!n || n > IDS_MAX || strcmp(p + n, "/open"))
		return 0;
	memcpy(out, p, n);
	out[n] = 0;
	return ids_valid(out);
}

static void catalog_put_open(struct api_ctx *api, struct http_exchange *x,
			     const struct http_request *req, const char *id)
{
	struct people_user me;
	cJSON *body, *list = NULL;
	const cJSON *open;
	int rc = STORE_EINVAL;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	open = cJSON_GetObjectItemCaseSensitive(body, "open");
	if (cJSON_IsBool(open))
		rc = catalog_set_open(api->db, id, cJSON_IsTrue(open),
				      clock_now(api->clock));
	if (!rc)
		rc = catalog_select(api->db, id, &list);
	if (rc == STORE_EINVAL) {
		http_respond_error(x, 400, "bad_request",
				   "the body must be {\"open\": true or "
				   "false}");
	} else if (rc == STORE_ENOTFOUND || (!rc && !list->child)) {
		http_respond_error(x, 404, "not_found", "no such course");
	} else if (rc) {
		http_respond_error(x, 500, "internal",
				   "the catalog cannot be changed");
	} else {
		log_info("msg=\"course opening set\" tenant=%s req=%llu "
			 "course=%s open=%d by=%lld", api->tenant,
			 (unsigned long long)req->id, id, cJSON_IsTrue(open),
			 (long long)me.id);
		http_respond_json(x, 200, cJSON_DetachItemFromArray(list, 0));
	}
	cJSON_Delete(list);
	cJSON_Delete(body);
}

int catalog_route(struct api_ctx *api, struct http_exchange *x,
		  const struct http_request *req)
{
	char id[IDS_MAX + 1];

	if (!catalog_open_path(req->path, id))
		return 0;
	if (strcmp(req->method, "PUT")) {
		http_add_header(x, "Allow", "PUT");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	catalog_put_open(api, x, req, id);
	return 1;
}
