/*
 * Git hooks of course repositories. During pre-receive git keeps the
 * pushed objects in a quarantine directory that it names in the
 * environment; the repository is opened with GIT_REPOSITORY_OPEN_FROM_ENV
 * so libgit2 sees them too.
 */
#include "mother/hook.h"

#include "common/course.h"
#include "common/gitstore.h"
#include "common/log.h"
#include "mother/publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOOK_MAIN "refs/heads/main"
#define HOOK_ZERO "0000000000000000000000000000000000000000"

static int hook_check_course(git_repository *repo, const char *course,
			     const char *rev)
{
	struct course_reader reader;
	struct course_error err;
	struct course_info info;
	git_tree *tree = NULL;
	char msg[600];

	if (gitstore_tree(repo, rev, &tree)) {
		fprintf(stderr, "lms-mother: %s: not a commit\n", rev);
		return 1;
	}
	course_reader_tree(&reader, repo, tree);
	if (course_validate(&reader, course, &info, &err)) {
		course_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "lms-mother: %s\n", msg);
		fprintf(stderr, "lms-mother: push refused, the published "
				"revision is unchanged\n");
		git_tree_free(tree);
		return 1;
	}
	course_info_release(&info);
	git_tree_free(tree);
	return 0;
}

static int hook_check_main(git_repository *repo, const char *course,
			   const char *old, const char *new)
{
	if (!strcmp(new, HOOK_ZERO)) {
		fprintf(stderr, "lms-mother: main cannot be deleted: it is "
				"the published course\n");
		return 1;
	}
	if (strcmp(old, HOOK_ZERO) && gitstore_descends(repo, new, old) != 1) {
		fprintf(stderr, "lms-mother: push refused: main may only move "
				"forward (no rewritten history), fetch and "
				"rebase first\n");
		return 1;
	}
	return hook_check_course(repo, course, new);
}

int hook_pre_receive(struct mother *m, const char *course)
{
	git_repository *repo = NULL;
	char old[64], new[64], ref[1024];
	int refused = 0;

	if (git_repository_open_ext(&repo, NULL,
				    GIT_REPOSITORY_OPEN_FROM_ENV, NULL)) {
		char *path = mother_course_repo(m, course);
		int rc = path ? gitstore_open(path, 0, &repo) : -1;
		free(path);
		if (rc)
			return 1;
	}
	while (scanf("%63s %63s %1023s", old, new, ref) == 3) {
		if (strcmp(ref, HOOK_MAIN))
			continue;
		refused |= hook_check_main(repo, course, old, new);
	}
	git_repository_free(repo);
	return refused;
}

int hook_post_receive(struct mother *m, const char *course)
{
	int events = publish_catch_up(m, course);

	if (events < 0) {
		fprintf(stderr, "lms-mother: the push was stored but could not "
				"be published yet; `lms-mother serve` "
				"retries when it starts\n");
		return 0;
	}
	fprintf(stderr, "lms-mother: published %s to %d tenant stream%s\n",
		course, events, events == 1 ? "" : "s");
	return 0;
}
