/*
 * What a learner does with an assigned course: read a lesson (text as
 * safe HTML, a quiz without its answers), complete a text lesson, and
 * attempt a quiz, graded here so that answers never leave the server
 * (DESIGN.md sections 5 and 7).
 *
 *   GET  /api/v1/courses/{id}/lessons/{lesson}
 *   POST /api/v1/courses/{id}/lessons/{lesson}/complete
 *   POST /api/v1/courses/{id}/lessons/{lesson}/attempts
 *
 * Progress (schema: migration 5 of workspace/store.c) is tied to the
 * lesson id and the git blob id of the lesson's file or quiz: a lesson
 * counts as done when a completion exists for its current blob, so a
 * changed lesson must be done again. Every completion and attempt records
 * the course revision it was made on.
 *
 * Functions return 0 or a negative STORE_E* code (workspace/store.h).
 */
#ifndef LMS_WORKSPACE_LEARN_H
#define LMS_WORKSPACE_LEARN_H

#include <cjson/cJSON.h>
#include <git2.h>
#include <sqlite3.h>
#include <stdint.h>

#include "common/http.h"
#include "workspace/api.h"

/* The lesson for user_id: {"id", "title", "kind": "text", "html"} or
 * {"id", "title", "kind": "quiz", "pass_percent", "questions": [{"id",
 * "text", "choices"}]}. STORE_ENOTFOUND for a course not assigned to the
 * user or held, and for an unknown lesson. */
int learn_lesson_json(sqlite3 *db, git_repository *repo, int64_t user_id,
		      const char *course, const char *lesson, cJSON **out);

/* Records that user_id completed the text lesson (idempotent).
 * STORE_EINVAL for a quiz lesson, STORE_ENOTFOUND as above. */
int learn_complete(sqlite3 *db, git_repository *repo, int64_t user_id,
		   const char *course, const char *lesson, int64_t now);

/* Grades {"answers": {"question id": [choice indexes]}} against the quiz
 * lesson, records the attempt and, when passed, completes the lesson.
 * *out receives {"score" (percent), "passed"}. STORE_EINVAL with *why
 * (static) for a bad body or a text lesson. */
int learn_attempt(sqlite3 *db, git_repository *repo, int64_t user_id,
		  const char *course, const char *lesson, const cJSON *body,
		  int64_t now, cJSON **out, const char **why);

/* Sets the progress of course c ({"id", "revision", "progress", and
 * perhaps "lessons"}) from the completions of user_id: "percent" of
 * lessons done, "completed" when all are, and each lesson's
 * "completed". */
int learn_progress(sqlite3 *db, git_repository *repo, int64_t user_id,
		   cJSON *c);

/* Answers req when its path is one of the lesson paths above: 1 when
 * handled, 0 when the path is not one of them. */
int learn_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req);

#endif
