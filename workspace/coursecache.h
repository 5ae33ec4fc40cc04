/*
 * A cache of parsed courses for the workspace's API, owned by serve and
 * used on the loop with the loop's database connection.
 *
 * A course is opened from content.git and validated once per held
 * revision; the cache keeps its tree (to read lesson files), its lessons
 * with the blob id of each file, and its versions (apply.h): every
 * revision the workspace held, which lessons each changed and whether it
 * asked for retraining. It also keeps SQLite statements prepared once,
 * and the text of learners' course lists (workspace/learn.c decides when
 * a list is still good).
 *
 * Everything a function gives out is borrowed from the cache and valid
 * until the next call on it. A cache belongs to one thread, and its
 * statements to one connection at a time (using another connection
 * finalizes them). Functions return 0 or a negative STORE_E* code.
 */
#ifndef LMS_WORKSPACE_COURSECACHE_H
#define LMS_WORKSPACE_COURSECACHE_H

#include <cjson/cJSON.h>
#include <git2.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/course.h"
#include "common/ids.h"

#define COURSECACHE_MAX 32	 /* courses kept parsed */
#define COURSECACHE_LISTS_MAX 128 /* learners' lists kept as text */

/* A version of a course (apply.h). */
struct coursecache_version {
	char revision[IDS_REVISION_LEN + 1];
	int64_t seq; /* 1, 2, ... */
	int retrain;
	int64_t committed_at; /* the commit's time, unix seconds */
	char *message;	      /* its first line */
};

/* A lesson's blob from version seq on. */
struct coursecache_lesson_version {
	char lesson[IDS_MAX + 1];
	int64_t seq;
	char blob[IDS_REVISION_LEN + 1];
	int retrain;
};

/* A course at one held revision, opened and validated. */
struct coursecache_course {
	char id[IDS_MAX + 1];
	char revision[IDS_REVISION_LEN + 1];
	git_tree *tree;
	struct course_reader reader; /* reads files of the revision */
	struct course_info info;
	char (*blob)[IDS_REVISION_LEN + 1]; /* per lesson of info */
	int64_t *retrain_seq; /* per lesson: its latest retraining, or 0 */
	cJSON **quiz; /* per lesson: its quiz file, parsed at first use by
		       * workspace/learn.c; NULL until then */
	struct coursecache_version *versions; /* by seq */
	size_t nversions;
	struct coursecache_lesson_version *lv; /* by seq */
	size_t nlv;
	int partial; /* the held revision has no version: not kept */
	uint64_t used;
};

/* A learner's course list as text, and what it was made from. */
struct coursecache_list {
	int64_t user_id;
	int64_t generation, user_generation;
	char *text; /* cJSON_free'd by the cache; NULL when empty */
	size_t len;
	uint64_t used;
};

struct coursecache;

/* A cache of the courses of content.git in data_dir (opened at first
 * use). Free it with coursecache_free() before closing the connections
 * it was used with. */
int coursecache_new(const char *data_dir, struct coursecache **out);

/* A cache over repo, which the caller keeps open longer than the cache. */
int coursecache_borrow(git_repository *repo, struct coursecache **out);

void coursecache_free(struct coursecache *cache);

/* How many courses the cache holds (at most COURSECACHE_MAX). */
size_t coursecache_count(const struct coursecache *cache);

/* The statement of sql (a string that lives as long as the cache; it is
 * told apart by its address) on db, prepared once, reset and unbound;
 * NULL on failure (logged). At most 32 different ones. */
sqlite3_stmt *coursecache_stmt(struct coursecache *cache, sqlite3 *db,
			       const char *sql);

/* Course id at revision, from the cache or loaded into it (LRU beyond
 * COURSECACHE_MAX). Loading records missing versions first
 * (apply_record_versions) when db has no transaction open.
 * STORE_EREVISION (logged) when the revision cannot be read as a valid
 * course. */
int coursecache_get(struct coursecache *cache, sqlite3 *db, const char *id,
		    const char *revision, struct coursecache_course **out);

/* Ends a use of a course from coursecache_get(): a partial one is
 * dropped, so the next use loads it again. */
void coursecache_put(struct coursecache *cache,
		     struct coursecache_course *course);

/* The index of lesson id in course, or -1. */
long coursecache_lesson_index(const struct coursecache_course *course,
			      const char *id);

/* The list slot of user_id: the one held, else an empty one (the least
 * recently used is emptied when all are taken). */
struct coursecache_list *coursecache_list(struct coursecache *cache,
					  int64_t user_id);

#endif
