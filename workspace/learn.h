/*
 * What a learner does with a course: read a lesson (text as safe HTML, a
 * quiz without its answers), complete a text lesson, attempt a quiz,
 * graded here so that answers never leave the server, enroll in a course
 * open for self-enrollment, and see their progress (DESIGN.md sections 5
 * and 7).
 *
 *   GET  /api/v1/courses/{id}/lessons/{lesson}
 *   POST /api/v1/courses/{id}/lessons/{lesson}/complete
 *   POST /api/v1/courses/{id}/lessons/{lesson}/attempts
 *   POST /api/v1/courses/{id}/enroll   201 enrolled, 200 already, 403 not
 *                                      open, 404 no such course
 *
 * Progress across revisions (schema: migrations 5 and 6 of
 * workspace/store.c). A completion names the lesson, the blob id of its
 * file (or quiz) and the revision it was made on; every completion and
 * attempt keeps that revision. It counts while no version since its
 * revision retrained the lesson (apply.h says what a version and a
 * retraining are): a lesson whose file did not change keeps its
 * progress, a changed one keeps it unless the revision said so. A
 * completion made on a revision held before versions were recorded counts
 * while its blob is one the lesson had since its last retraining. A lesson
 * is "changed" when it counts as done but no completion was made on its
 * current file.
 *
 * Courses are read through a struct coursecache (workspace/coursecache.h):
 * each course parsed once per held revision, statements prepared once.
 *
 * Functions return 0 or a negative STORE_E* code (workspace/store.h).
 */
#ifndef LMS_WORKSPACE_LEARN_H
#define LMS_WORKSPACE_LEARN_H

#include <cjson/cJSON.h>
#include <git2.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/http.h"
#include "workspace/api.h"

struct coursecache;

/* The courses of user_id as assign_courses_json() lists them, with
 * "progress": {"percent", "completed"}. A course whose held revision
 * cannot be read (logged) keeps the progress 0. */
int learn_courses_json(struct coursecache *cache, sqlite3 *db,
		       int64_t user_id, cJSON **out);

/* The same list as JSON text, borrowed from the cache until its next
 * use. The text is kept per learner (at most 128) and made again only
 * when something it is made of changed: the tables of courses,
 * assignments, groups, enrollments and versions, or the learner's
 * completions (counted by triggers, learn_schema.h). */
int learn_courses_text(struct coursecache *cache, sqlite3 *db,
		       int64_t user_id, const char **text, size_t *len);

/* One course of user_id as listed, with "lessons": [{"id", "title",
 * "kind": "text" or "quiz", "completed", "changed"}] and "changes":
 * [{"revision", "date" (ISO 8601 UTC, the commit's time), "message" (its
 * first line), "retrain", "lessons": [ids whose file changed]}], the
 * versions after the first, newest first, at most 20. STORE_ENOTFOUND
 * for a course not held or not the user's. */
int learn_course_json(struct coursecache *cache, sqlite3 *db,
		      int64_t user_id, const char *course, cJSON **out);

/* The lesson for user_id: {"id", "title", "kind": "text", "html"} or
 * {"id", "title", "kind": "quiz", "pass_percent", "questions": [{"id",
 * "text", "choices"}]}. STORE_ENOTFOUND for a course not the user's or
 * not held, and for an unknown lesson. */
int learn_lesson_json(struct coursecache *cache, sqlite3 *db,
		      int64_t user_id, const char *course, const char *lesson,
		      cJSON **out);

/* Records that user_id completed the text lesson (idempotent).
 * STORE_EINVAL for a quiz lesson, STORE_ENOTFOUND as above. */
int learn_complete(struct coursecache *cache, sqlite3 *db, int64_t user_id,
		   const char *course, const char *lesson, int64_t now);

/* Grades {"answers": {"question id": [choice indexes]}} against the quiz
 * lesson, records the attempt and, when passed, completes the lesson.
 * *out receives {"score" (percent), "passed"}. STORE_EINVAL with *why
 * (static) for a bad body or a text lesson. */
int learn_attempt(struct coursecache *cache, sqlite3 *db, int64_t user_id,
		  const char *course, const char *lesson, const cJSON *body,
		  int64_t now, cJSON **out, const char **why);

/* Sets the progress of course c ({"id", "revision", "progress", and
 * perhaps "lessons"}) from the completions of user_id, as
 * learn_course_json() does, over repo without a lasting cache: when c
 * has "lessons", each gets "completed" and "changed", and c gets
 * "changes". */
int learn_progress(sqlite3 *db, git_repository *repo, int64_t user_id,
		   cJSON *c);

/* Answers req when its path is one of the paths above: 1 when handled,
 * 0 when the path is not one of them. */
int learn_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req);

#endif
