/*
 * Publishing course revisions at the mother.
 *
 * A course is a bare repository DATA/courses/ID.git whose branch main is
 * what is published. Authors move main with `git push` (checked by the
 * pre-receive hook, recorded by the post-receive hook) or with
 * `lms-mother course publish DIR`. Recording a revision means: note it
 * in mother.db, build the pack each tenant stream needs (once per course,
 * from and to revision) and append one event to the stream of every
 * licensed tenant, all before anything is sent. The running daemon, if
 * any, is then told through its control socket. Recording is idempotent
 * and also runs when the daemon starts, so nothing published while it was
 * down, or by a hook that died half-way, is lost.
 */
#ifndef LMS_MOTHER_PUBLISH_H
#define LMS_MOTHER_PUBLISH_H

#include "mother/mother.h"

/* Creates the course's bare repository with its hooks and its row in
 * mother.db. *repo_out (malloc'd) receives the repository path. Refuses
 * an invalid or existing id with a message on stderr. */
int publish_create_course(struct mother *m, const char *id, char **repo_out);

/* Validates dir as a course, creates the course if it is new, commits
 * dir on main and records the revision. On success rev receives the new
 * revision. An invalid course changes nothing and prints "FILE: REASON"
 * on stderr. */
int publish_dir(struct mother *m, const char *dir, const char *message,
		char rev[41]);

/* Records what the repositories hold (one course, or all when course is
 * NULL) and brings every tenant stream up to date. Returns the number of
 * events appended, or -1. */
int publish_catch_up(struct mother *m, const char *course);

/* Tells a running daemon that new events wait; quiet when none runs. */
void publish_poke(const struct mother *m);

#endif
