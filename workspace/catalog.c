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
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/log.h"
#include "workspace/apply.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- listing ---- */

static cJSON *catalog_course_json(const struct store_course *c)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "id", c->id) ||
	    !cJSON_AddStringToObject(o, "title", c->title ? c->title : "") ||
	    !cJSON_AddStringToObject(o, "origin",
				     store_origin_name(c->origin)) ||
	    !cJSON_AddStringToObject(o, "revision", c->revision)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int catalog_json(sqlite3 *db, char **out)
{
	struct store_course *list;
	cJSON *arr = NULL, *item;
	size_t n;
	int rc = -1;

	*out = NULL;
	if (store_course_list(db, &list, &n))
		return -1;
	arr = cJSON_CreateArray();
	if (!arr)
		goto out;
	for (size_t i = 0; i < n; i++) {
		item = catalog_course_json(&list[i]);
		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			goto out;
		}
	}
	*out = cJSON_PrintUnformatted(arr);
	rc = *out ? 0 : -1;
out:
	if (rc)
		log_error("msg=\"cannot build the catalog\"");
	cJSON_Delete(arr);
	store_course_list_free(list, n);
	return rc;
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

/* Step 2: the workspace, and what it holds under the course's id. */
static int catalog_open(struct catalog_publish *p)
{
	char *db_path = fs_join(p->data_dir, STORE_FILE);
	char *repo_path = fs_join(p->data_dir, APPLY_REPO_DIR);
	struct store_course cur;
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

	rc = store_course_get(p->db, p->info.id, &cur);
	if (rc == STORE_ENOTFOUND) {
		rc = 0;
	} else if (rc) {
		catalog_fail(p, "cannot read the course: %s",
			     store_strerror(rc));
	} else {
		if (cur.origin != STORE_ORIGIN_LOCAL)
			rc = catalog_fail(p, "course %s comes from the mother;"
					  " a local course needs another id",
					  cur.id);
		memcpy(p->prev, cur.revision, sizeof(p->prev));
		store_course_release(&cur);
	}
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

/* Steps 3 and 4: the commit, then the row that makes it count. */
static int catalog_commit(struct catalog_publish *p, char out_rev[41])
{
	struct store_course c;
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

	memset(&c, 0, sizeof(c));
	memcpy(c.id, p->info.id, sizeof(c.id));
	memcpy(c.revision, out_rev, sizeof(c.revision));
	c.origin = STORE_ORIGIN_LOCAL;
	c.title = p->info.title;
	c.duration_minutes = p->info.duration_minutes;
	c.published_at = time(NULL);
	c.updated_at = c.published_at;
	rc = store_publish_local(p->db, &c, p->prev);
	if (!rc)
		return 0;

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

int catalog_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	(void)api;
	(void)x;
	(void)req;
	return 0;
}
