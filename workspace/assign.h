/*
 * Assignments of courses in workspace.db (schema: migration 4 of
 * workspace/store.c): a course given to one user or to a group, with a
 * due date; and enrollments (migration 6), a learner taking a course the
 * admin opened for self-enrollment. Nothing is copied to the members of
 * a group: who has which course is resolved when it is read, by joining
 * group_members, so a user who joins a group later (their attributes now
 * match its rule) has its courses at once.
 *
 * Functions return 0 or a negative STORE_E* code (workspace/store.h).
 */
#ifndef LMS_WORKSPACE_ASSIGN_H
#define LMS_WORKSPACE_ASSIGN_H

#include <cjson/cJSON.h>
#include <git2.h>
#include <sqlite3.h>
#include <stdint.h>

#include "common/http.h"
#include "workspace/api.h"

/* 1 when s is a calendar date "YYYY-MM-DD" (years 1000 to 9999). */
int assign_date_valid(const char *s);

#define ASSIGN_RECUR_MAX 120 /* months between rounds, at most */

/* Creates an assignment from {"course": id, "group": id} or {"course":
 * id, "user": id or email}, with "due": "YYYY-MM-DD" and optionally its
 * recurrence (workspace/compliance.h): "recur_months": N (1 to
 * ASSIGN_RECUR_MAX, or null) and "recur_on_expiry": bool. *id receives
 * the new id. STORE_EINVAL for bad input (an unknown course, group or user,
 * both or neither of group and user, a bad date) with a message for the
 * client in *why (static); nothing is stored then. Joins the caller's
 * transaction when one is open (audit_begin(), workspace/audit.h). */
int assign_add_json(sqlite3 *db, const cJSON *in, int64_t now, int64_t *id,
		    const char **why);

/* The assignment as {"id", "course", "group": id or null, "user": id or
 * null, "due", "recur_months": N or null, "recur_on_expiry": bool};
 * STORE_ENOTFOUND when there is none. */
int assign_get_json(sqlite3 *db, int64_t id, cJSON **out);

/* Changes assignment id from {"due": "YYYY-MM-DD", "recur_months",
 * "recur_on_expiry"} (each optional, as for creating; no other field is
 * allowed). STORE_EINVAL for another body, with a message for
 * the client in *why (static); STORE_ENOTFOUND when there is no such
 * assignment. Nothing changes on an error. */
int assign_update_json(sqlite3 *db, int64_t id, const cJSON *in,
		       const char **why);

/* Deletes assignment id. Its course leaves the lists of those it
 * reached, unless another assignment or an enrollment still gives it to
 * them; their progress stays recorded. STORE_ENOTFOUND when there is no
 * such assignment. */
int assign_delete(sqlite3 *db, int64_t id);

/* Every assignment by id, each as assign_get_json gives it. */
int assign_list_json(sqlite3 *db, cJSON **out);

/* The courses the workspace holds that are assigned to user_id, directly
 * or through a group, or that the user enrolled in, sorted by id:
 * [{"id", "title", "revision", "due" (the earliest due date of their
 * assignments, null for a course only enrolled in), "enrolled": bool,
 * "progress": {"percent": 0, "completed": false}}]. The progress here
 * starts at zero; the API fills in the learner's real progress with
 * learn_progress(). */
int assign_courses_json(sqlite3 *db, int64_t user_id, cJSON **out);

/* The assignments and enrollments that reach user ?1: (course_id, due,
 * enrolled) rows, due NULL for an enrollment. */
#define ASSIGN_OF_USER                                                   \
	"FROM (SELECT a.course_id, a.due, 0 AS enrolled FROM assignments a " \
	"WHERE a.user_id = ?1 OR a.group_id IN (SELECT m.group_id FROM "   \
	"group_members m WHERE m.user_id = ?1) UNION ALL SELECT "           \
	"e.course_id, NULL, 1 FROM enrollments e WHERE e.user_id = ?1) "

/* The query of assign_courses_json: user ?1, and course ?2 or NULL for
 * all; for a caller that keeps the statement prepared. */
/* The due date is the current round's (workspace/compliance.h) when
 * one followed the first, else the earliest of the assignments. */
#define ASSIGN_COURSES_SQL                                                \
	"SELECT c.id, c.title, c.revision, coalesce((SELECT r.due FROM "   \
	"training_rounds r WHERE r.user_id = ?1 AND r.course_id = c.id "    \
	"ORDER BY r.opened_at DESC, r.id DESC LIMIT 1), min(x.due)), "      \
	"max(x.enrolled) "                                                  \
	"FROM courses c JOIN (SELECT course_id, due, enrolled "             \
	ASSIGN_OF_USER ") x ON x.course_id = c.id "                         \
	"WHERE ?2 IS NULL OR c.id = ?2 GROUP BY c.id ORDER BY c.id"

/* Collects the rows of st (prepared from ASSIGN_COURSES_SQL, parameters
 * bound) as assign_courses_json gives them, then resets st. */
int assign_courses_from(sqlite3 *db, sqlite3_stmt *st, cJSON **out);

/* The course course_id as assign_courses_json gives it, with "lessons":
 * [{"id", "title", "kind": "text" or "quiz", "completed": false}] read
 * from course.json of the held revision in repo (content.git); the API
 * sets "completed" with learn_progress(). A course
 * that is not held or not assigned to user_id is STORE_ENOTFOUND either
 * way; STORE_EREVISION (logged) when the held revision cannot be read
 * as a valid course. */
int assign_course_json(sqlite3 *db, git_repository *repo, int64_t user_id,
		       const char *course_id, cJSON **out);

/* 0 when course_id is held and assigned to user_id or enrolled in by
 * them; STORE_ENOTFOUND when it is not (whether or not the course
 * exists). */
int assign_user_has(sqlite3 *db, int64_t user_id, const char *course_id);

/* The same over a kept statement of assign_sql_user_has (reset after
 * use). */
extern const char assign_sql_user_has[];
int assign_user_has_st(sqlite3 *db, sqlite3_stmt *st, int64_t user_id,
		       const char *course_id);

/* Enrolls user_id in course_id (self-enrollment; enrollments table of
 * migration 6). *created is 1 when the enrollment is new, 0 when the
 * user was enrolled already (then the course need not be open any
 * more). STORE_ENOTFOUND when the course is not held, STORE_EINVAL when
 * it is not open for self-enrollment. */
int assign_enroll(sqlite3 *db, int64_t user_id, const char *course_id,
		  int64_t now, int *created);

/* Answers req when its path is /api/v1/assignments/{id}: PATCH {"due",
 * "recur_months", "recur_on_expiry"} -> 200 the assignment, DELETE ->
 * 204, for admins, and for managers when the assignment's group or user
 * is in their scope (workspace/scope.h); see api_route_fn in
 * workspace/api.h. */
int assign_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req);

#endif
