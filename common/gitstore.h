/*
 * Course content in git, as both daemons keep it (libgit2 underneath).
 *
 * Courses are commits. The mother keeps one bare repository per course
 * with the published revision on refs/heads/main; a workspace keeps one
 * bare repository (content.git) holding every course it serves. Revisions
 * travel between them as git packs: thin packs built by
 * `git pack-objects` (libgit2 cannot build thin packs) and indexed on
 * arrival with libgit2, which completes them from objects already held.
 *
 * Functions return 0 or -1 and log the libgit2 error once.
 */
#ifndef LMS_GITSTORE_H
#define LMS_GITSTORE_H

#include <git2.h>
#include <stddef.h>

#include "common/buf.h"

/* Initialises libgit2 once per process; call before anything else. */
void gitstore_global_init(void);

/* Opens or creates (create != 0) a bare repository at path. */
int gitstore_open(const char *path, int create, git_repository **out);

/* Commits the contents of dir (regular files and directories; links and
 * .git are refused or skipped) as a new commit whose parent is the
 * current target of ref (if any), moves ref to it and writes its id to
 * out_rev. author is used for both author and committer. Returns 1, and
 * the current commit in out_rev, when dir holds exactly what ref's
 * commit holds: nothing is committed then. */
int gitstore_commit_dir(git_repository *repo, const char *ref,
			const char *dir, const char *message,
			const char *author, char out_rev[41]);

/* The commit id ref points to: 0 and out_rev, 1 when ref does not
 * exist, -1 on error. */
int gitstore_ref_revision(git_repository *repo, const char *ref,
			  char out_rev[41]);

/* Points ref at rev (creating it), unconditionally. */
int gitstore_set_ref(git_repository *repo, const char *ref, const char *rev,
		     const char *log_message);

/* The tree of commit rev; the caller frees it with git_tree_free. */
int gitstore_tree(git_repository *repo, const char *rev, git_tree **out);

/* 1 when commit rev exists in the repository, 0 otherwise. */
int gitstore_has_commit(git_repository *repo, const char *rev);

/* 1 when rev descends from ancestor (strictly), 0 when not, -1 on
 * error. */
int gitstore_descends(git_repository *repo, const char *rev,
		      const char *ancestor);

/* The commit message of rev into out (appending). */
int gitstore_message(git_repository *repo, const char *rev, struct buf *out);

/* Writes a pack (possibly thin) into the repository's object database
 * and indexes it; fails if the pack is corrupt or a base is missing. */
int gitstore_index_pack(git_repository *repo, const void *pack, size_t len);

/* Builds with `git pack-objects --revs --thin --stdout` the pack of
 * everything reachable from to but not from from (from NULL or "" for a
 * full pack), appending it to out. git_dir is the repository path. */
int gitstore_build_pack(const char *git_dir, const char *from,
			const char *to, struct buf *out);

#endif
