/*
 * The git hooks of a course repository, run by `git push` through the
 * scripts that publish_create_course() installs:
 *   lms-mother hook pre-receive DATA COURSE
 *   lms-mother hook post-receive DATA COURSE
 * Both read git's "old new ref" lines on stdin. pre-receive refuses, with
 * the reasons on stderr (git shows them to the author as "remote:"
 * lines), an invalid course on main, a push that is not a fast-forward
 * and a deletion of main; branches other than main are drafts and pass.
 * post-receive records the new revision for every licensed tenant.
 */
#ifndef LMS_MOTHER_HOOK_H
#define LMS_MOTHER_HOOK_H

#include "mother/mother.h"

/* 0 to accept the push, 1 to refuse it. */
int hook_pre_receive(struct mother *m, const char *course);
int hook_post_receive(struct mother *m, const char *course);

#endif
