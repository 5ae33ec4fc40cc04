/*
 * Assignments of courses in workspace.db (schema: migration 4 of
 * workspace/store.c): a course given to one user or to a group, with a
 * due date. Nothing is copied to the members of a group: who has which
 * course is resolved when it is read, by joining group_members, so a user
 * who joins a group later (their attributes now match its rule) has its
 * courses at once.
 *
 * Functions return 0 or a negative STORE_E* code (workspace/store.h).
 */
#ifndef LMS_WORKSPACE_ASSIGN_H
#define LMS_WORKSPACE_ASSIGN_H

#include <cjson/cJSON.h>
#include <git2.h>
#include <sqlite3.h>
#include <stdint.h>

/* 1 when s is a calendar date "YYYY-MM-DD" (years 1000 to 9999). */
int assign_date_valid(const char *s);

/* Creates an assignment from {"course": id, "group": id} or {"course":
 * id, "user": id or email}, with "due": "YYYY-MM-DD". *id receives the
 * new id. STORE_EINVAL for bad input (an unknown course, group or user,
 * both or neither of group and user, a bad date) with a message for the
 * client in *why (static); nothing is stored then. */
int assign_add_json(sqlite3 *db, const cJSON *in, int64_t now, int64_t *id,
		    const char **why);

/* The assignment as {"id", "course", "group": id or null, "user": id or
 * null, "due"}; STORE_ENOTFOUND when there is none. */
int assign_get_json(sqlite3 *db, int64_t id, cJSON **out);

/* Every assignment by id, each as assign_get_json gives it. */
int assign_list_json(sqlite3 *db, cJSON **out);

/* The courses the workspace holds that are assigned to user_id, directly
 * or through a group, sorted by id: [{"id", "title", "revision", "due"
 * (the earliest due date of their assignments), "progress": {"percent":
 * 0, "completed": false}}]. The progress here starts at zero; the API
 * fills in the learner's real progress with learn_progress(). */
int assign_courses_json(sqlite3 *db, int64_t user_id, cJSON **out);

/* The course course_id as assign_courses_json gives it, with "lessons":
 * [{"id", "title", "kind": "text" or "quiz", "completed": false}] read
 * from course.json of the held revision in repo (content.git); the API
 * sets "completed" with learn_progress(). A course
 * that is not held or not assigned to user_id is STORE_ENOTFOUND either
 * way; STORE_EREVISION (logged) when the held revision cannot be read
 * as a valid course. */
int assign_course_json(sqlite3 *db, git_repository *repo, int64_t user_id,
		       const char *course_id, cJSON **out);

/* 0 when course_id is assigned to user_id and held; STORE_ENOTFOUND when
 * it is not (whether or not the course exists). */
int assign_user_has(sqlite3 *db, int64_t user_id, const char *course_id);

#endif
