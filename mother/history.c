/*
 * Revision history of a course from git: a revwalk from main along first
 * parents (a published course never has merges, but a pushed history
 * might), newest first.
 */
#include "mother/history.h"

#include "common/clock.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/ids.h"
#include "common/log.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

static cJSON *history_commit_json(const git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	cJSON *o = cJSON_CreateObject();
	char rev[GIT_OID_HEXSZ + 1], when[32];
	const char *msg = git_commit_message(c);

	if (!o)
		return NULL;
	git_oid_tostr(rev, sizeof(rev), git_commit_id(c));
	clock_format_iso((int64_t)git_commit_time(c), when, sizeof(when));
	cJSON_AddStringToObject(o, "revision", rev);
	cJSON_AddStringToObject(o, "time", when);
	cJSON_AddStringToObject(o, "author", a && a->name ? a->name : "");
	cJSON_AddStringToObject(o, "message", msg ? msg : "");
	return o;
}

static int history_walk(git_repository *repo, int limit, cJSON *arr)
{
	git_revwalk *walk = NULL;
	git_commit *c;
	git_oid oid;
	int n = 0, rc;

	rc = git_revwalk_new(&walk, repo);
	if (!rc)
		rc = git_revwalk_push_ref(walk, "refs/heads/main");
	if (rc == GIT_ENOTFOUND) { /* nothing published yet */
		git_revwalk_free(walk);
		return 0;
	}
	if (!rc)
		git_revwalk_simplify_first_parent(walk);
	while (!rc && n < limit && git_revwalk_next(&oid, walk) == 0) {
		if (git_commit_lookup(&c, repo, &oid)) {
			rc = -1;
			break;
		}
		cJSON_AddItemToArray(arr, history_commit_json(c));
		git_commit_free(c);
		n++;
	}
	git_revwalk_free(walk);
	return rc ? -1 : 0;
}

int history_json(struct mother *m, const char *course, int limit,
		 cJSON **out)
{
	git_repository *repo = NULL;
	char *path;
	cJSON *arr;
	int rc;

	if (!ids_valid(course))
		return 1;
	path = mother_course_repo(m, course);
	if (!path)
		return -1;
	if (!fs_exists(path)) {
		free(path);
		return 1;
	}
	rc = gitstore_open(path, 0, &repo);
	free(path);
	if (rc)
		return -1;
	arr = cJSON_CreateArray();
	rc = arr ? history_walk(repo, limit, arr) : -1;
	git_repository_free(repo);
	if (rc) {
		log_error("msg=\"cannot read course history\" course=%s",
			  course);
		cJSON_Delete(arr);
		return -1;
	}
	*out = arr;
	return 0;
}
