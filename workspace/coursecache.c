/*
 * The cache of parsed courses (workspace/coursecache.h): small arrays
 * searched linearly, least recently used entries dropped when full.
 */
#include "workspace/coursecache.h"

#include "common/db.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/log.h"
#include "workspace/apply.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COURSECACHE_STATEMENTS 32

struct coursecache {
	char *repo_path;      /* NULL when the repository is borrowed */
	git_repository *repo; /* opened at first use */
	sqlite3 *db;	      /* the connection of the statements */
	const char *sql[COURSECACHE_STATEMENTS];
	sqlite3_stmt *st[COURSECACHE_STATEMENTS];
	struct coursecache_course *courses[COURSECACHE_MAX];
	size_t count;
	struct coursecache_list lists[COURSECACHE_LISTS_MAX];
	size_t nlists;
	uint64_t tick;
};

static const char coursecache_versions_sql[] =
	"SELECT seq, revision, retrain, committed_at, message FROM "
	"course_versions WHERE course_id = ?1 ORDER BY seq";
static const char coursecache_lessons_sql[] =
	"SELECT lesson_id, seq, blob_id, retrain FROM lesson_versions "
	"WHERE course_id = ?1 ORDER BY seq";

static int coursecache_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"course cache query failed\" what=%s error=\"%s\"",
		  what, sqlite3_errmsg(db));
	return STORE_EDB;
}

/* ---- the cache itself ---- */

static void coursecache_course_free(struct coursecache_course *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->quiz && i < c->info.lesson_count; i++)
		cJSON_Delete(c->quiz[i]);
	free(c->quiz);
	course_info_release(&c->info);
	git_tree_free(c->tree);
	for (size_t i = 0; i < c->nversions; i++)
		free(c->versions[i].message);
	free(c->versions);
	free(c->lv);
	free(c->blob);
	free(c->retrain_seq);
	free(c);
}

int coursecache_new(const char *data_dir, struct coursecache **out)
{
	struct coursecache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c || !(c->repo_path = fs_join(data_dir, APPLY_REPO_DIR))) {
		free(c);
		return STORE_ENOMEM;
	}
	*out = c;
	return 0;
}

int coursecache_borrow(git_repository *repo, struct coursecache **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return STORE_ENOMEM;
	(*out)->repo = repo;
	return 0;
}

static void coursecache_statements_free(struct coursecache *c)
{
	for (int i = 0; i < COURSECACHE_STATEMENTS; i++) {
		sqlite3_finalize(c->st[i]);
		c->st[i] = NULL;
		c->sql[i] = NULL;
	}
}

void coursecache_free(struct coursecache *c)
{
	if (!c)
		return;
	coursecache_statements_free(c);
	for (size_t i = 0; i < c->count; i++)
		coursecache_course_free(c->courses[i]);
	for (size_t i = 0; i < c->nlists; i++)
		cJSON_free(c->lists[i].text);
	if (c->repo_path)
		git_repository_free(c->repo);
	free(c->repo_path);
	free(c);
}

size_t coursecache_count(const struct coursecache *c)
{
	return c->count;
}

sqlite3_stmt *coursecache_stmt(struct coursecache *c, sqlite3 *db,
			       const char *sql)
{
	int i;

	if (c->db != db) {
		coursecache_statements_free(c);
		c->db = db;
	}
	for (i = 0; i < COURSECACHE_STATEMENTS && c->sql[i]; i++)
		if (c->sql[i] == sql)
			break;
	if (i == COURSECACHE_STATEMENTS) {
		log_error("msg=\"too many cached statements\"");
		return NULL;
	}
	if (!c->sql[i]) {
		if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &c->st[i], NULL) != SQLITE_OK) {
			coursecache_fail(db, "prepare");
			return NULL;
		}
		c->sql[i] = sql;
	}
	sqlite3_reset(c->st[i]);
	sqlite3_clear_bindings(c->st[i]);
	return c->st[i];
}

static int coursecache_repo(struct coursecache *c, git_repository **repo)
{
	if (!c->repo && gitstore_open(c->repo_path, 0, &c->repo))
		return STORE_EDB;
	*repo = c->repo;
	return 0;
}

long coursecache_lesson_index(const struct coursecache_course *c,
			      const char *id)
{
	for (size_t i = 0; i < c->info.lesson_count; i++)
		if (!strcmp(c->info.lessons[i].id, id))
			return (long)i;
	return -1;
}

/* ---- loading a course ---- */

/* The tree, the validated course and the blob of every lesson. */
static int coursecache_tree(git_repository *repo,
			    struct coursecache_course *c)
{
	const struct course_lesson *l;
	struct course_error err;
	git_tree_entry *e;

	if (gitstore_tree(repo, c->revision, &c->tree)) {
		log_error("msg=\"held revision has no readable tree\" "
			  "course=%s revision=%s", c->id, c->revision);
		return STORE_EREVISION;
	}
	memset(&err, 0, sizeof(err));
	course_reader_tree(&c->reader, repo, c->tree);
	if (course_validate(&c->reader, c->id, &c->info, &err)) {
		log_error("msg=\"held revision is not a valid course\" "
			  "course=%s revision=%s file=\"%s\" reason=\"%s\"",
			  c->id, c->revision, err.file, err.reason);
		return STORE_EREVISION;
	}
	c->blob = calloc(c->info.lesson_count + 1, sizeof(*c->blob));
	c->retrain_seq = calloc(c->info.lesson_count + 1,
				sizeof(*c->retrain_seq));
	c->quiz = calloc(c->info.lesson_count + 1, sizeof(*c->quiz));
	if (!c->blob || !c->retrain_seq || !c->quiz)
		return STORE_ENOMEM;
	for (size_t i = 0; i < c->info.lesson_count; i++) {
		l = &c->info.lessons[i];
		e = NULL;
		if (git_tree_entry_bypath(&e, c->tree,
					  l->quiz ? l->quiz : l->file))
			return STORE_EREVISION;
		git_oid_tostr(c->blob[i], sizeof(c->blob[i]),
			      git_tree_entry_id(e));
		git_tree_entry_free(e);
	}
	return 0;
}

static int coursecache_version_row(sqlite3_stmt *st,
				   struct coursecache_course *c)
{
	struct coursecache_version *grown, *v;

	grown = realloc(c->versions, (c->nversions + 1) * sizeof(*grown));
	if (!grown)
		return STORE_ENOMEM;
	c->versions = grown;
	v = &c->versions[c->nversions];
	memset(v, 0, sizeof(*v));
	v->seq = sqlite3_column_int64(st, 0);
	snprintf(v->revision, sizeof(v->revision), "%s", db_text(st, 1));
	v->retrain = sqlite3_column_int(st, 2);
	v->committed_at = sqlite3_column_int64(st, 3);
	if (!(v->message = strdup(db_text(st, 4))))
		return STORE_ENOMEM;
	c->nversions++;
	return 0;
}

static int coursecache_lesson_row(sqlite3_stmt *st,
				  struct coursecache_course *c)
{
	struct coursecache_lesson_version *grown, *v;

	grown = realloc(c->lv, (c->nlv + 1) * sizeof(*grown));
	if (!grown)
		return STORE_ENOMEM;
	c->lv = grown;
	v = &c->lv[c->nlv++];
	snprintf(v->lesson, sizeof(v->lesson), "%s", db_text(st, 0));
	v->seq = sqlite3_column_int64(st, 1);
	snprintf(v->blob, sizeof(v->blob), "%s", db_text(st, 2));
	v->retrain = sqlite3_column_int(st, 3);
	return 0;
}

/* Runs sql for the course and collects each row. */
static int coursecache_rows(struct coursecache *cache, sqlite3 *db,
			    const char *sql, struct coursecache_course *c,
			    int (*row)(sqlite3_stmt *,
				       struct coursecache_course *))
{
	sqlite3_stmt *st = coursecache_stmt(cache, db, sql);
	int step = SQLITE_DONE, rc = 0;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = row(st, c);
	if (!rc && step != SQLITE_DONE)
		rc = coursecache_fail(db, "coursecache_rows");
	sqlite3_reset(st);
	return rc;
}

/* The versions, and each lesson's latest retraining. */
static int coursecache_versions(struct coursecache *cache, sqlite3 *db,
				struct coursecache_course *c)
{
	int found = 0, rc;
	long i;

	if ((rc = coursecache_rows(cache, db, coursecache_versions_sql, c,
				   coursecache_version_row)) ||
	    (rc = coursecache_rows(cache, db, coursecache_lessons_sql, c,
				   coursecache_lesson_row)))
		return rc;
	for (size_t k = 0; k < c->nversions; k++)
		found |= !strcmp(c->versions[k].revision, c->revision);
	c->partial = !found;
	for (size_t k = 0; k < c->nlv; k++) {
		i = coursecache_lesson_index(c, c->lv[k].lesson);
		if (i >= 0 && c->lv[k].retrain)
			c->retrain_seq[i] = c->lv[k].seq;
	}
	return 0;
}

static int coursecache_load(struct coursecache *cache, sqlite3 *db,
			    const char *id, const char *revision,
			    struct coursecache_course **out)
{
	struct coursecache_course *c = calloc(1, sizeof(*c));
	git_repository *repo;
	int rc;

	*out = NULL;
	if (!c)
		return STORE_ENOMEM;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->revision, sizeof(c->revision), "%s", revision);
	rc = coursecache_repo(cache, &repo);
	/* versions are recorded when a revision arrives; this makes good
	 * a crash in between (logged on failure), unless a read
	 * transaction is open (a later load does it then) */
	if (!rc && sqlite3_get_autocommit(db))
		apply_record_versions(db, repo, id);
	if (!rc)
		rc = coursecache_tree(repo, c);
	if (!rc)
		rc = coursecache_versions(cache, db, c);
	if (rc) {
		coursecache_course_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- finding courses ---- */

/* Removes entry i (its course freed). */
static void coursecache_drop(struct coursecache *cache, size_t i)
{
	coursecache_course_free(cache->courses[i]);
	cache->courses[i] = cache->courses[--cache->count];
}

int coursecache_get(struct coursecache *cache, sqlite3 *db, const char *id,
		    const char *revision, struct coursecache_course **out)
{
	struct coursecache_course *c;
	size_t i, old = 0;
	int rc;

	for (i = 0; i < cache->count; i++)
		if (!strcmp(cache->courses[i]->id, id))
			break;
	if (i < cache->count && !cache->courses[i]->partial &&
	    !strcmp(cache->courses[i]->revision, revision)) {
		cache->courses[i]->used = ++cache->tick;
		*out = cache->courses[i];
		return 0;
	}
	/* another revision (or versions missing): of no more use */
	if (i < cache->count)
		coursecache_drop(cache, i);
	if ((rc = coursecache_load(cache, db, id, revision, &c)))
		return rc;
	if (cache->count == COURSECACHE_MAX) {
		for (i = 1; i < cache->count; i++)
			if (cache->courses[i]->used <
			    cache->courses[old]->used)
				old = i;
		coursecache_drop(cache, old);
	}
	c->used = ++cache->tick;
	cache->courses[cache->count++] = c;
	*out = c;
	return 0;
}

void coursecache_put(struct coursecache *cache,
		     struct coursecache_course *course)
{
	if (!course->partial)
		return;
	for (size_t i = 0; i < cache->count; i++) {
		if (cache->courses[i] == course) {
			coursecache_drop(cache, i);
			return;
		}
	}
}

struct coursecache_list *coursecache_list(struct coursecache *cache,
					  int64_t user_id)
{
	struct coursecache_list *l = NULL;

	for (size_t i = 0; i < cache->nlists; i++) {
		if (cache->lists[i].user_id == user_id) {
			cache->lists[i].used = ++cache->tick;
			return &cache->lists[i];
		}
		if (!l || cache->lists[i].used < l->used)
			l = &cache->lists[i];
	}
	if (cache->nlists < COURSECACHE_LISTS_MAX)
		l = &cache->lists[cache->nlists++];
	else
		cJSON_free(l->text);
	memset(l, 0, sizeof(*l));
	l->user_id = user_id;
	l->used = ++cache->tick;
	return l;
}
