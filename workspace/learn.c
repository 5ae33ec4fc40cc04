/*
 * Lessons, completions and quiz attempts of learners (workspace/learn.h).
 * Every request opens the held revision of the course from content.git,
 * validates it, and finds the lesson and the blob id of its file there;
 * quiz answers are read on the server and never copied to a response.
 */
#include "workspace/learn.h"

#include "common/buf.h"
#include "common/course.h"
#include "common/db.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/markdown.h"
#include "workspace/apply.h"
#include "workspace/assign.h"
#include "workspace/auth.h"
#include "workspace/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The held revision of a course, opened and validated. */
struct learn_course {
	char revision[GIT_OID_HEXSZ + 1];
	git_tree *tree;
	struct course_reader reader;
	struct course_info info;
};

static void learn_course_release(struct learn_course *c)
{
	course_info_release(&c->info);
	git_tree_free(c->tree);
	c->tree = NULL;
}

static int learn_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"learn query failed\" what=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

static int learn_revision(sqlite3 *db, const char *course, char *out)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT revision FROM courses "
					  "WHERE id = ?1");
	int step, rc = 0;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_text(st, 0) &&
	    strlen(db_text(st, 0)) <= GIT_OID_HEXSZ)
		strcpy(out, db_text(st, 0));
	else
		rc = step == SQLITE_ROW || step == SQLITE_DONE ?
			     STORE_ENOTFOUND : learn_fail(db, "learn_revision");
	sqlite3_finalize(st);
	return rc;
}

/* Opens course at its held revision when user_id has it. */
static int learn_course_open(sqlite3 *db, git_repository *repo,
			     int64_t user_id, const char *course,
			     struct learn_course *c)
{
	struct course_error err;
	int rc;

	memset(c, 0, sizeof(*c));
	if (user_id && (rc = assign_user_has(db, user_id, course)))
		return rc;
	if ((rc = learn_revision(db, course, c->revision)))
		return rc;
	if (gitstore_tree(repo, c->revision, &c->tree)) {
		log_error("msg=\"held revision has no readable tree\" "
			  "course=%s revision=%s", course, c->revision);
		return STORE_EREVISION;
	}
	memset(&err, 0, sizeof(err));
	course_reader_tree(&c->reader, repo, c->tree);
	if (course_validate(&c->reader, course, &c->info, &err)) {
		log_error("msg=\"held revision is not a valid course\" "
			  "course=%s revision=%s file=\"%s\" reason=\"%s\"",
			  course, c->revision, err.file, err.reason);
		learn_course_release(c);
		return STORE_EREVISION;
	}
	return 0;
}

static const struct course_lesson *learn_find(const struct learn_course *c,
					      const char *lesson)
{
	for (size_t i = 0; i < c->info.lesson_count; i++)
		if (!strcmp(c->info.lessons[i].id, lesson))
			return &c->info.lessons[i];
	return NULL;
}

static const char *learn_path(const struct course_lesson *l)
{
	return l->quiz ? l->quiz : l->file;
}

/* The blob id of the lesson's file into out (GIT_OID_HEXSZ + 1). */
static int learn_blob(const struct learn_course *c,
		      const struct course_lesson *l, char *out)
{
	git_tree_entry *e = NULL;

	if (git_tree_entry_bypath(&e, c->tree, learn_path(l)))
		return STORE_EREVISION;
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, git_tree_entry_id(e));
	git_tree_entry_free(e);
	return 0;
}

static int learn_read(const struct learn_course *c, const char *path,
		      size_t max, struct buf *out)
{
	buf_init(out);
	if (c->reader.read(c->reader.ctx, path, max, out)) {
		buf_release(out);
		return STORE_EREVISION;
	}
	return 0;
}

/* The quiz of lesson l, parsed. */
static int learn_quiz(const struct learn_course *c,
		      const struct course_lesson *l, cJSON **out)
{
	struct buf b;
	int rc;

	*out = NULL;
	if ((rc = learn_read(c, l->quiz, COURSE_MAX_JSON, &b)))
		return rc;
	*out = cJSON_ParseWithLength((const char *)b.data, b.len);
	buf_release(&b);
	return *out ? 0 : STORE_EREVISION;
}

/* ---- reading a lesson ---- */

static int learn_text_html(const struct learn_course *c, const char *course,
			   const struct course_lesson *l, cJSON *o)
{
	struct markdown_opts opts;
	struct buf md, html;
	char prefix[128];
	int rc;

	snprintf(prefix, sizeof(prefix), "/api/v1/courses/%s/media/", course);
	opts.lesson_path = l->file;
	opts.media_prefix = prefix;
	if ((rc = learn_read(c, l->file, MARKDOWN_MAX_INPUT, &md)))
		return rc;
	buf_init(&html);
	rc = markdown_render((const char *)md.data, md.len, &opts, &html);
	if (rc && rc != -ENOMEM)
		log_error("msg=\"lesson cannot be rendered\" course=%s "
			  "lesson=%s error=%d", course, l->id, rc);
	if (rc)
		rc = rc == -ENOMEM ? STORE_ENOMEM : STORE_EREVISION;
	else if (!cJSON_AddStringToObject(o, "html", buf_cstr(&html)))
		rc = STORE_ENOMEM;
	buf_release(&md);
	buf_release(&html);
	return rc;
}

/* Copies each question without its answer. */
static int learn_quiz_public(const struct learn_course *c,
			     const struct course_lesson *l, cJSON *o)
{
	static const char *const keep[] = { "id", "text", "choices" };
	cJSON *quiz, *qs, *q, *item, *copy;
	int rc;

	if ((rc = learn_quiz(c, l, &quiz)))
		return rc;
	item = cJSON_GetObjectItemCaseSensitive(quiz, "pass_percent");
	if (!cJSON_AddNumberToObject(o, "pass_percent",
				     cJSON_IsNumber(item) ? item->valuedouble
							  : 100) ||
	    !(qs = cJSON_AddArrayToObject(o, "questions")))
		rc = STORE_ENOMEM;
	cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(quiz,
							       "questions"))
	{
		cJSON *pq = rc ? NULL : cJSON_CreateObject();

		if (!pq || !cJSON_AddItemToArray(qs, pq)) {
			cJSON_Delete(pq);
			rc = STORE_ENOMEM;
			break;
		}
		for (size_t i = 0; i < 3; i++) {
			item = cJSON_GetObjectItemCaseSensitive(q, keep[i]);
			copy = item ? cJSON_Duplicate(item, 1) : NULL;
			if (item && (!copy || !cJSON_AddItemToObject(
						      pq, keep[i], copy))) {
				cJSON_Delete(copy);
				rc = STORE_ENOMEM;
			}
		}
	}
	cJSON_Delete(quiz);
	return rc;
}

int learn_lesson_json(sqlite3 *db, git_repository *repo, int64_t user_id,
		      const char *course, const char *lesson, cJSON **out)
{
	const struct course_lesson *l;
	struct learn_course c;
	cJSON *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = learn_course_open(db, repo, user_id, course, &c)))
		return rc;
	if (!(l = learn_find(&c, lesson)))
		rc = STORE_ENOTFOUND;
	else if (!(o = cJSON_CreateObject()) ||
		 !cJSON_AddStringToObject(o, "id", l->id) ||
		 !cJSON_AddStringToObject(o, "title",
					  l->title ? l->title : "") ||
		 !cJSON_AddStringToObject(o, "kind",
					  l->quiz ? "quiz" : "text"))
		rc = STORE_ENOMEM;
	else if (l->quiz)
		rc = learn_quiz_public(&c, l, o);
	else
		rc = learn_text_html(&c, course, l, o);
	learn_course_release(&c);
	if (rc)
		cJSON_Delete(o);
	else
		*out = o;
	return rc;
}

/* ---- completions and attempts ---- */

static int learn_store_completion(sqlite3 *db, int64_t user_id,
				  const char *course, const char *lesson,
				  const char *blob, const char *rev,
				  int64_t now)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT OR IGNORE INTO lesson_completions (user_id, "
		    "course_id, lesson_id, blob_id, revision, completed_at) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lesson, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, blob, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rev, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : learn_fail(db, "learn_complete");
}

int learn_complete(sqlite3 *db, git_repository *repo, int64_t user_id,
		   const char *course, const char *lesson, int64_t now)
{
	const struct course_lesson *l;
	char blob[GIT_OID_HEXSZ + 1];
	struct learn_course c;
	int rc;

	if ((rc = learn_course_open(db, repo, user_id, course, &c)))
		return rc;
	if (!(l = learn_find(&c, lesson)))
		rc = STORE_ENOTFOUND;
	else if (l->quiz)
		rc = STORE_EINVAL;
	else if (!(rc = learn_blob(&c, l, blob)))
		rc = learn_store_completion(db, user_id, course, lesson, blob,
					    c.revision, now);
	learn_course_release(&c);
	return rc;
}

/* 1 when chosen (an array of indexes) is the same set as answer. */
static int learn_same_set(const cJSON *chosen, const cJSON *answer)
{
	const cJSON *a, *b;
	int n = 0, found;

	if (!cJSON_IsArray(chosen))
		return 0;
	cJSON_ArrayForEach(a, chosen) {
		if (!cJSON_IsNumber(a))
			return 0;
		found = 0;
		cJSON_ArrayForEach(b, answer)
			found |= cJSON_IsNumber(b) &&
				 b->valuedouble == a->valuedouble;
		if (!found)
			return 0;
		/* a duplicate would count twice: refuse it */
		for (b = chosen->child; b != a; b = b->next)
			if (b->valuedouble == a->valuedouble)
				return 0;
		n++;
	}
	return n == cJSON_GetArraySize(answer);
}

/* The score in percent of answers against quiz, and its pass mark. */
static void learn_grade(const cJSON *quiz, const cJSON *answers, int *score,
			int *pass_percent)
{
	const cJSON *qs = cJSON_GetObjectItemCaseSensitive(quiz, "questions");
	const cJSON *q, *id, *pp, *chosen, *answer;
	int total = 0, right = 0;

	cJSON_ArrayForEach(q, qs) {
		id = cJSON_GetObjectItemCaseSensitive(q, "id");
		total++;
		if (!cJSON_IsString(id))
			continue;
		chosen = cJSON_GetObjectItemCaseSensitive(answers,
							  id->valuestring);
		answer = cJSON_GetObjectItemCaseSensitive(q, "answer");
		right += learn_same_set(chosen, answer);
	}
	*score = total ? right * 100 / total : 0;
	pp = cJSON_GetObjectItemCaseSensitive(quiz, "pass_percent");
	*pass_percent = cJSON_IsNumber(pp) ? pp->valueint : 100;
}

static int learn_store_attempt(sqlite3 *db, int64_t user_id,
			       const char *course, const char *lesson,
			       const char *blob, const char *rev, int score,
			       int passed, int64_t now)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT INTO quiz_attempts (user_id, course_id, "
		    "lesson_id, blob_id, revision, score, passed, created_at) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lesson, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, blob, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rev, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, score);
	sqlite3_bind_int(st, 7, passed);
	sqlite3_bind_int64(st, 8, now);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : learn_fail(db, "learn_attempt");
}

/* Grades, records, and completes the lesson when passed. */
static int learn_attempt_at(sqlite3 *db, const struct learn_course *c,
			    const struct course_lesson *l, int64_t user_id,
			    const char *course, const cJSON *answers,
			    int64_t now, cJSON **out)
{
	char blob[GIT_OID_HEXSZ + 1];
	int score, pass, rc;
	cJSON *quiz, *o;

	if ((rc = learn_blob(c, l, blob)) || (rc = learn_quiz(c, l, &quiz)))
		return rc;
	learn_grade(quiz, answers, &score, &pass);
	cJSON_Delete(quiz);
	if (db_begin(db))
		return STORE_EDB;
	rc = learn_store_attempt(db, user_id, course, l->id, blob,
				 c->revision, score, score >= pass, now);
	if (!rc && score >= pass)
		rc = learn_store_completion(db, user_id, course, l->id, blob,
					    c->revision, now);
	if (rc || db_commit(db)) {
		db_rollback(db);
		return rc ? rc : STORE_EDB;
	}
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddNumberToObject(o, "score", score) ||
	    !cJSON_AddBoolToObject(o, "passed", score >= pass)) {
		cJSON_Delete(o);
		return STORE_ENOMEM;
	}
	*out = o;
	return 0;
}

int learn_attempt(sqlite3 *db, git_repository *repo, int64_t user_id,
		  const char *course, const char *lesson, const cJSON *body,
		  int64_t now, cJSON **out, const char **why)
{
	const cJSON *answers;
	const struct course_lesson *l;
	struct learn_course c;
	int rc;

	*out = NULL;
	answers = cJSON_GetObjectItemCaseSensitive(body, "answers");
	if ((rc = learn_course_open(db, repo, user_id, course, &c)))
		return rc;
	if (!(l = learn_find(&c, lesson))) {
		rc = STORE_ENOTFOUND;
	} else if (!l->quiz) {
		*why = "this lesson is not a quiz";
		rc = STORE_EINVAL;
	} else if (!cJSON_IsObject(answers)) {
		*why = "the body must be {\"answers\": {question id: "
		       "[choice indexes]}}";
		rc = STORE_EINVAL;
	} else {
		rc = learn_attempt_at(db, &c, l, user_id, course, answers, now,
				      out);
	}
	learn_course_release(&c);
	return rc;
}

/* ---- progress ---- */

/* 1 when user_id completed lesson l at its current blob. */
static int learn_done(sqlite3 *db, int64_t user_id, const char *course,
		      const struct learn_course *c,
		      const struct course_lesson *l, int *done)
{
	sqlite3_stmt *st;
	char blob[GIT_OID_HEXSZ + 1];
	int step, rc;

	if ((rc = learn_blob(c, l, blob)))
		return rc;
	st = db_prepare(db, "SELECT 1 FROM lesson_completions WHERE "
			    "user_id = ?1 AND course_id = ?2 AND "
			    "lesson_id = ?3 AND blob_id = ?4");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, l->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, blob, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return learn_fail(db, "learn_done");
	*done = step == SQLITE_ROW;
	return 0;
}

/* Sets "completed" of the lesson with id in the array lessons. */
static void learn_mark(cJSON *lessons, const char *id, int done)
{
	cJSON *o, *lid;

	cJSON_ArrayForEach(o, lessons) {
		lid = cJSON_GetObjectItemCaseSensitive(o, "id");
		if (cJSON_IsString(lid) && !strcmp(lid->valuestring, id))
			cJSON_ReplaceItemInObjectCaseSensitive(
				o, "completed", cJSON_CreateBool(done));
	}
}

/* Counts the lessons of c that user_id has done into *n and marks each
 * in lessons (may be NULL). */
static int learn_count(sqlite3 *db, int64_t user_id, const char *course,
		       const struct learn_course *c, cJSON *lessons,
		       size_t *n)
{
	int rc = 0, done = 0;

	*n = 0;
	for (size_t i = 0; !rc && i < c->info.lesson_count; i++) {
		rc = learn_done(db, user_id, course, c, &c->info.lessons[i],
				&done);
		*n += !rc && done;
		if (!rc && lessons)
			learn_mark(lessons, c->info.lessons[i].id, done);
	}
	return rc;
}

int learn_progress(sqlite3 *db, git_repository *repo, int64_t user_id,
		   cJSON *co)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(co, "id");
	cJSON *lessons = cJSON_GetObjectItemCaseSensitive(co, "lessons");
	struct learn_course c;
	size_t n = 0, total;
	cJSON *p;
	int rc;

	if (!cJSON_IsString(id))
		return STORE_EINVAL;
	if ((rc = learn_course_open(db, repo, 0, id->valuestring, &c)))
		return rc;
	rc = learn_count(db, user_id, id->valuestring, &c, lessons, &n);
	total = c.info.lesson_count;
	learn_course_release(&c);
	if (rc)
		return rc;
	p = cJSON_CreateObject();
	if (!p ||
	    !cJSON_AddNumberToObject(p, "percent",
				     total ? (double)(n * 100 / total) : 100) ||
	    !cJSON_AddBoolToObject(p, "completed", n == total) ||
	    !cJSON_ReplaceItemInObjectCaseSensitive(co, "progress", p)) {
		cJSON_Delete(p);
		return STORE_ENOMEM;
	}
	return 0;
}

/* ---- HTTP ---- */

#define LEARN_PREFIX "/api/v1/courses/"

enum learn_action { LEARN_READ, LEARN_COMPLETE, LEARN_ATTEMPT };

/* Copies the id at *p up to the next '/' or the end into out. */
static int learn_segment(const char **p, char *out)
{
	size_t n = strcspn(*p, "/");

	if (n == 0 || n > IDS_MAX)
		return 0;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return ids_valid(out);
}

/* Splits /api/v1/courses/{id}/lessons/{lesson}[/complete|/attempts]. */
static int learn_parse(const char *path, char *course, char *lesson,
		       enum learn_action *act)
{
	const char *p = path + strlen(LEARN_PREFIX);

	if (strncmp(path, LEARN_PREFIX, strlen(LEARN_PREFIX)) ||
	    !learn_segment(&p, course) || strncmp(p, "/lessons/", 9))
		return 0;
	p += 9;
	if (!learn_segment(&p, lesson))
		return 0;
	if (!*p)
		*act = LEARN_READ;
	else if (!strcmp(p, "/complete"))
		*act = LEARN_COMPLETE;
	else if (!strcmp(p, "/attempts"))
		*act = LEARN_ATTEMPT;
	else
		return 0;
	return 1;
}

static void learn_send(struct http_exchange *x, int status, cJSON *v)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;

	cJSON_Delete(v);
	if (!text) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	http_respond(x, status, "application/json", text, strlen(text));
	cJSON_free(text);
}

/* Runs one action on content.git; *out and *why as the functions give. */
static int learn_run(struct api_ctx *api, const struct http_request *req,
		     int64_t user_id, const char *course, const char *lesson,
		     enum learn_action act, cJSON **out, const char **why)
{
	char *path = fs_join(api->data_dir, APPLY_REPO_DIR);
	git_repository *repo = NULL;
	int64_t now = clock_now(api->clock);
	cJSON *body;
	int rc = STORE_ENOMEM;

	*out = NULL;
	if (path && gitstore_open(path, 0, &repo)) {
		rc = STORE_EDB;
	} else if (path && act == LEARN_READ) {
		rc = learn_lesson_json(api->db, repo, user_id, course, lesson,
				       out);
	} else if (path && act == LEARN_COMPLETE) {
		*why = "a quiz is completed by passing an attempt";
		rc = learn_complete(api->db, repo, user_id, course, lesson,
				    now);
	} else if (path) {
		*why = "the body is not JSON";
		body = cJSON_ParseWithLength((const char *)req->body,
					     req->body_len);
		rc = body ? learn_attempt(api->db, repo, user_id, course,
					  lesson, body, now, out, why) :
			    STORE_EINVAL;
		cJSON_Delete(body);
	}
	git_repository_free(repo);
	free(path);
	return rc;
}

static void learn_answer(struct api_ctx *api, struct http_exchange *x,
			 const struct http_request *req, const char *course,
			 const char *lesson, enum learn_action act)
{
	struct people_user me;
	const char *why = "bad request";
	cJSON *out = NULL;
	int rc;

	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me))
		return;
	rc = learn_run(api, req, me.id, course, lesson, act, &out, &why);
	if (rc == STORE_ENOTFOUND) {
		http_respond_error(x, 404, "not_found", "no such lesson");
	} else if (rc == STORE_EINVAL) {
		http_respond_error(x, act == LEARN_COMPLETE ? 409 : 400,
				   act == LEARN_COMPLETE ? "conflict" :
							   "bad_request", why);
	} else if (rc) {
		log_error("msg=\"lesson request failed\" tenant=%s req=%llu "
			  "course=%s lesson=%s error=\"%s\"", api->tenant,
			  (unsigned long long)req->id, course, lesson,
			  store_strerror(rc));
		http_respond_error(x, 500, "internal",
				   "the lesson cannot be read");
	} else if (act == LEARN_COMPLETE) {
		out = cJSON_CreateObject();
		if (out && !cJSON_AddTrueToObject(out, "completed")) {
			cJSON_Delete(out);
			out = NULL;
		}
		learn_send(x, 200, out);
	} else {
		learn_send(x, 200, out);
	}
}

int learn_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req)
{
	char course[IDS_MAX + 1], lesson[IDS_MAX + 1];
	enum learn_action act;
	const char *want;

	if (!learn_parse(req->path, course, lesson, &act))
		return 0;
	want = act == LEARN_READ ? "GET" : "POST";
	if (strcmp(req->method, want)) {
		http_add_header(x, "Allow", want);
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	learn_answer(api, x, req, course, lesson, act);
	return 1;
}
