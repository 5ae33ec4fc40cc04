/*
 * Lessons, completions, quiz attempts and progress of learners
 * (workspace/learn.h), over the cache of parsed courses
 * (workspace/coursecache.h): a request costs SQL on the loop's
 * connection, with statements prepared once, and a learner's course list
 * is sent as kept while nothing it is made of changed. Quiz answers are
 * read on the server and never copied to a response.
 */
#include "workspace/learn.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/course.h"
#include "common/db.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/markdown.h"
#include "workspace/apply.h"
#include "workspace/assign.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/batch.h"
#include "workspace/cert.h"
#include "workspace/coursecache.h"
#include "workspace/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEARN_CHANGES_MAX 20 /* entries of "changes" */

/* From when the completions of user u in course c count: the start of
 * their current round (training_rounds, workspace/compliance.h). */
#define LEARN_ROUND_FROM(u, c)                                          \
	"coalesce((SELECT max(progress_from) FROM training_rounds WHERE " \
	"user_id = " u " AND course_id = " c "), 0)"

enum learn_stmt {
	LEARN_ST_REVISION,
	LEARN_ST_COMPLETIONS,
	LEARN_ST_COURSES,
	LEARN_ST_BEGIN,
	LEARN_ST_COMMIT,
	LEARN_ST_GENERATION,
	LEARN_ST_COMPLETE,
	LEARN_ST_ATTEMPT,
	LEARN_ST_COUNT,
};

static const char *const learn_sql[LEARN_ST_COUNT] = {
	[LEARN_ST_REVISION] = "SELECT revision FROM courses WHERE id = ?1",
	/* what was done before the learner's current round of a course
	 * (workspace/compliance.h) does not count */
	[LEARN_ST_COMPLETIONS] = "SELECT course_id, lesson_id, blob_id, "
				 "revision FROM lesson_completions l WHERE "
				 "user_id = ?1 AND (?2 IS NULL OR course_id = "
				 "?2) AND completed_at >= " LEARN_ROUND_FROM(
					 "?1", "l.course_id") " ORDER BY "
				 "course_id",
	[LEARN_ST_COURSES] = ASSIGN_COURSES_SQL,
	[LEARN_ST_BEGIN] = "BEGIN",
	[LEARN_ST_COMMIT] = "COMMIT",
	[LEARN_ST_GENERATION] = "SELECT (SELECT n FROM learn_generation "
				"WHERE id = 1), coalesce((SELECT n FROM "
				"learn_user_generation WHERE user_id = ?1), "
				"0)",
	/* one row per lesson and blob: done again on another revision
	 * (after a retraining, say) or in a new round, the row takes that
	 * revision and time */
	[LEARN_ST_COMPLETE] = "INSERT INTO lesson_completions (user_id, "
			      "course_id, lesson_id, blob_id, revision, "
			      "completed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
			      "ON CONFLICT DO UPDATE SET revision = "
			      "excluded.revision, completed_at = "
			      "excluded.completed_at WHERE revision <> "
			      "excluded.revision OR completed_at < "
			      LEARN_ROUND_FROM("?1", "?2"),
	[LEARN_ST_ATTEMPT] = "INSERT INTO quiz_attempts (user_id, course_id, "
			     "lesson_id, blob_id, revision, score, passed, "
			     "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
			     "?8)",
};

/* Statement i, prepared once per cache. */
static sqlite3_stmt *learn_stmt(struct coursecache *cache, sqlite3 *db,
				enum learn_stmt i)
{
	return coursecache_stmt(cache, db, learn_sql[i]);
}

static int learn_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"learn query failed\" what=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

static int learn_revision(struct coursecache *cache, sqlite3 *db,
			  const char *course, char *out)
{
	sqlite3_stmt *st = learn_stmt(cache, db, LEARN_ST_REVISION);
	int step, rc = 0;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && strlen(db_text(st, 0)) == GIT_OID_HEXSZ)
		strcpy(out, db_text(st, 0));
	else
		rc = step == SQLITE_ROW || step == SQLITE_DONE ?
			     STORE_ENOTFOUND : learn_fail(db, "learn_revision");
	sqlite3_reset(st);
	return rc;
}

/* 0 when the course is the user's (assign_user_has, over a statement
 * kept prepared). */
static int learn_user_has(struct coursecache *cache, sqlite3 *db,
			  int64_t user_id, const char *course)
{
	sqlite3_stmt *st = coursecache_stmt(cache, db, assign_sql_user_has);

	if (!st)
		return assign_user_has(db, user_id, course);
	return assign_user_has_st(db, st, user_id, course);
}

/* Opens course at its held revision when user_id (0: anyone) has it. */
static int learn_course_open(struct coursecache *cache, sqlite3 *db,
			     int64_t user_id, const char *course,
			     struct coursecache_course **c)
{
	char revision[GIT_OID_HEXSZ + 1];
	int rc;

	*c = NULL;
	if (user_id && (rc = learn_user_has(cache, db, user_id, course)))
		return rc;
	if ((rc = learn_revision(cache, db, course, revision)))
		return rc;
	return coursecache_get(cache, db, course, revision, c);
}

static const struct course_lesson *
learn_find(const struct coursecache_course *c, const char *lesson,
	   long *index)
{
	long i = coursecache_lesson_index(c, lesson);

	if (index)
		*index = i;
	return i < 0 ? NULL : &c->info.lessons[i];
}

static int learn_read(const struct coursecache_course *c, const char *path,
		      size_t max, struct buf *out)
{
	buf_init(out);
	if (c->reader.read(c->reader.ctx, path, max, out)) {
		buf_release(out);
		return STORE_EREVISION;
	}
	return 0;
}

/* The quiz of lesson l, parsed once per cached course and kept there
 * (borrowed: valid while c is). */
static int learn_quiz(const struct coursecache_course *c,
		      const struct course_lesson *l, const cJSON **out)
{
	size_t i = (size_t)(l - c->info.lessons);
	struct buf b;
	int rc;

	*out = c->quiz[i];
	if (*out)
		return 0;
	if ((rc = learn_read(c, l->quiz, COURSE_MAX_JSON, &b)))
		return rc;
	c->quiz[i] = cJSON_ParseWithLength((const char *)b.data, b.len);
	buf_release(&b);
	*out = c->quiz[i];
	return *out ? 0 : STORE_EREVISION;
}

/* ---- reading a lesson ---- */

/* The blob id of media/path in the course's tree, as the version of a
 * media link (markdown_opts.media_version): the media route serves a
 * URL with ?v=<blob id> as cacheable for good. */
static int learn_media_blob(void *arg, const char *path, char *out,
			    size_t cap)
{
	const struct coursecache_course *c = arg;
	git_tree_entry *e = NULL;
	char full[1024];
	int rc = -1;

	if ((size_t)snprintf(full, sizeof(full), "media/%s", path) >=
		    sizeof(full) ||
	    cap < GIT_OID_HEXSZ + 1 ||
	    git_tree_entry_bypath(&e, c->tree, full))
		return -1;
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		git_oid_tostr(out, cap, git_tree_entry_id(e));
		rc = 0;
	}
	git_tree_entry_free(e);
	return rc;
}

static int learn_text_html(const struct coursecache_course *c,
			   const struct course_lesson *l, cJSON *o)
{
	struct markdown_opts opts = { 0 };
	struct buf md, html;
	char prefix[128];
	int rc;

	snprintf(prefix, sizeof(prefix), "/api/v1/courses/%s/media/", c->id);
	opts.lesson_path = l->file;
	opts.media_prefix = prefix;
	opts.media_version = learn_media_blob;
	opts.media_arg = (void *)c;
	if ((rc = learn_read(c, l->file, MARKDOWN_MAX_INPUT, &md)))
		return rc;
	buf_init(&html);
	rc = markdown_render((const char *)md.data, md.len, &opts, &html);
	if (rc && rc != -ENOMEM)
		log_error("msg=\"lesson cannot be rendered\" course=%s "
			  "lesson=%s error=%d", c->id, l->id, rc);
	if (rc)
		rc = rc == -ENOMEM ? STORE_ENOMEM : STORE_EREVISION;
	else if (!cJSON_AddStringToObject(o, "html", buf_cstr(&html)))
		rc = STORE_ENOMEM;
	buf_release(&md);
	buf_release(&html);
	return rc;
}

/* Copies each question without its answer. */
static int learn_quiz_public(const struct coursecache_course *c,
			     const struct course_lesson *l, cJSON *o)
{
	static const char *const keep[] = { "id", "text", "choices" };
	const cJSON *quiz;
	cJSON *qs, *q, *item, *copy;
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
	return rc;
}

int learn_lesson_json(struct coursecache *cache, sqlite3 *db, int64_t user_id,
		      const char *course, const char *lesson, cJSON **out)
{
	const struct course_lesson *l;
	struct coursecache_course *c;
	cJSON *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = learn_course_open(cache, db, user_id, course, &c)))
		return rc;
	if (!(l = learn_find(c, lesson, NULL)))
		rc = STORE_ENOTFOUND;
	else if (!(o = cJSON_CreateObject()) ||
		 !cJSON_AddStringToObject(o, "id", l->id) ||
		 !cJSON_AddStringToObject(o, "title",
					  l->title ? l->title : "") ||
		 !cJSON_AddStringToObject(o, "kind",
					  l->quiz ? "quiz" : "text"))
		rc = STORE_ENOMEM;
	else if (l->quiz)
		rc = learn_quiz_public(c, l, o);
	else
		rc = learn_text_html(c, l, o);
	coursecache_put(cache, c);
	if (rc)
		cJSON_Delete(o);
	else
		*out = o;
	return rc;
}

/* ---- completions and attempts ---- */

/* A completion or quiz attempt, decided (lesson found, quiz graded) and
 * waiting to be stored: now, or with other writes through batch.h. */
struct learn_write {
	struct coursecache *cache;
	int64_t user_id;
	char email[PEOPLE_EMAIL_MAX + 1]; /* for the audit log; "" unknown */
	char course[IDS_MAX + 1];
	char lesson[IDS_MAX + 1];
	char blob[IDS_REVISION_LEN + 1];
	char revision[IDS_REVISION_LEN + 1];
	int64_t now;
	int attempt; /* 1: a quiz attempt with score and passed */
	int score;
	int passed;
	/* the HTTP answer, when the write came from a request */
	struct api_ctx *api;
	struct http_exchange *x;
	uint64_t req_id;
};

/* Binds the columns that completions and attempts share. */
static void learn_bind_common(sqlite3_stmt *st, const struct learn_write *w)
{
	sqlite3_bind_int64(st, 1, w->user_id);
	sqlite3_bind_text(st, 2, w->course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, w->lesson, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->blob, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, w->revision, -1, SQLITE_STATIC);
}

/* The audit entry of a write that changed something: "quiz.attempt" or
 * "lesson.complete" on "course:ID", over statements kept prepared (this
 * is the group commit's path). Ids and revisions are plain [a-z0-9-],
 * so the detail needs no escaping. */
static int learn_audit(sqlite3 *db, const struct learn_write *w,
		       enum learn_stmt i)
{
	struct audit_actor who = { w->user_id,
				   w->email[0] ? w->email : "system" };
	char object[IDS_MAX + 8], detail[2 * IDS_MAX + 128];

	snprintf(object, sizeof(object), "course:%s", w->course);
	if (i == LEARN_ST_ATTEMPT)
		snprintf(detail, sizeof(detail), "{\"lesson\":\"%s\",\"revision"
			 "\":\"%s\",\"score\":%d,\"passed\":%s}", w->lesson,
			 w->revision, w->score, w->passed ? "true" : "false");
	else
		snprintf(detail, sizeof(detail), "{\"lesson\":\"%s\",\"revision"
			 "\":\"%s\"}", w->lesson, w->revision);
	return audit_append_st(
		db, coursecache_stmt(w->cache, db, audit_sql_head),
		coursecache_stmt(w->cache, db, audit_sql_insert), w->now,
		&who,
		i == LEARN_ST_ATTEMPT ? "quiz.attempt" : "lesson.complete",
		object, detail);
}

/* Runs statement i of a write; the statement is kept for the next. */
static int learn_store(sqlite3 *db, const struct learn_write *w,
		       enum learn_stmt i)
{
	sqlite3_stmt *st = learn_stmt(w->cache, db, i);
	int step;

	if (!st)
		return STORE_EDB;
	learn_bind_common(st, w);
	if (i == LEARN_ST_ATTEMPT) {
		sqlite3_bind_int(st, 6, w->score);
		sqlite3_bind_int(st, 7, w->passed);
		sqlite3_bind_int64(st, 8, w->now);
	} else {
		sqlite3_bind_int64(st, 6, w->now);
	}
	step = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (step != SQLITE_DONE)
		return learn_fail(db, "learn_store");
	/* a lesson done again on the same revision changes nothing */
	return sqlite3_changes(db) ? learn_audit(db, w, i) : 0;
}

/* Stores w inside the caller's transaction (a batch_write_fn): the
 * attempt, and the completion when it is one or the attempt passed; a
 * certificate when that completed the course (workspace/cert.h). */
static int learn_write_run(sqlite3 *db, void *arg)
{
	const struct learn_write *w = arg;
	int rc = 0;

	if (w->attempt)
		rc = learn_store(db, w, LEARN_ST_ATTEMPT);
	if (!rc && (!w->attempt || w->passed))
		rc = learn_store(db, w, LEARN_ST_COMPLETE);
	/* a certificate that fails (logged) does not undo the completion:
	 * GET /api/v1/certificates issues what is still due */
	if (!rc && (!w->attempt || w->passed))
		(void)cert_issue_if_complete(db, w->cache, w->user_id,
					     w->course, w->now);
	return rc;
}

/* Stores w in a transaction of its own. */
static int learn_write_now(sqlite3 *db, struct learn_write *w)
{
	int rc;

	if (db_begin(db))
		return STORE_EDB;
	rc = learn_write_run(db, w);
	if (rc || db_commit(db)) {
		db_rollback(db);
		return rc ? rc : STORE_EDB;
	}
	return 0;
}

/* Fills the fields of w that name lesson i of c. */
static void learn_write_at(struct learn_write *w,
			   const struct coursecache_course *c, long i,
			   int64_t user_id, int64_t now)
{
	w->user_id = user_id;
	snprintf(w->course, sizeof(w->course), "%s", c->id);
	snprintf(w->lesson, sizeof(w->lesson), "%s", c->info.lessons[i].id);
	snprintf(w->blob, sizeof(w->blob), "%s", c->blob[i]);
	snprintf(w->revision, sizeof(w->revision), "%s", c->revision);
	w->now = now;
}

/* Decides the completion of a text lesson into w. */
static int learn_complete_prepare(struct coursecache *cache, sqlite3 *db,
				  int64_t user_id, const char *course,
				  const char *lesson, int64_t now,
				  struct learn_write *w)
{
	const struct course_lesson *l;
	struct coursecache_course *c;
	long i;
	int rc;

	if ((rc = learn_course_open(cache, db, user_id, course, &c)))
		return rc;
	if (!(l = learn_find(c, lesson, &i)))
		rc = STORE_ENOTFOUND;
	else if (l->quiz)
		rc = STORE_EINVAL;
	else
		learn_write_at(w, c, i, user_id, now);
	w->cache = cache;
	coursecache_put(cache, c);
	return rc;
}

int learn_complete(struct coursecache *cache, sqlite3 *db, int64_t user_id,
		   const char *course, const char *lesson, int64_t now)
{
	struct learn_write w = { 0 };
	int rc = learn_complete_prepare(cache, db, user_id, course, lesson,
					now, &w);

	return rc ? rc : learn_write_now(db, &w);
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

/* Grades answers against quiz lesson i of c into w. */
static int learn_attempt_at(const struct coursecache_course *c, long i,
			    int64_t user_id, const cJSON *answers,
			    int64_t now, struct learn_write *w)
{
	int score, pass, rc;
	const cJSON *quiz;

	if ((rc = learn_quiz(c, &c->info.lessons[i], &quiz)))
		return rc;
	learn_grade(quiz, answers, &score, &pass);
	learn_write_at(w, c, i, user_id, now);
	w->attempt = 1;
	w->score = score;
	w->passed = score >= pass;
	return 0;
}

/* Decides a quiz attempt from the request body into w. */
static int learn_attempt_prepare(struct coursecache *cache, sqlite3 *db,
				 int64_t user_id, const char *course,
				 const char *lesson, const cJSON *body,
				 int64_t now, struct learn_write *w,
				 const char **why)
{
	const cJSON *answers;
	const struct course_lesson *l;
	struct coursecache_course *c;
	long i;
	int rc;

	answers = cJSON_GetObjectItemCaseSensitive(body, "answers");
	if ((rc = learn_course_open(cache, db, user_id, course, &c)))
		return rc;
	if (!(l = learn_find(c, lesson, &i))) {
		rc = STORE_ENOTFOUND;
	} else if (!l->quiz) {
		*why = "this lesson is not a quiz";
		rc = STORE_EINVAL;
	} else if (!cJSON_IsObject(answers)) {
		*why = "the body must be {\"answers\": {question id: "
		       "[choice indexes]}}";
		rc = STORE_EINVAL;
	} else {
		rc = learn_attempt_at(c, i, user_id, answers, now, w);
	}
	w->cache = cache;
	coursecache_put(cache, c);
	return rc;
}

/* {"score", "passed"} of a stored attempt; NULL when out of memory. */
static cJSON *learn_attempt_result(const struct learn_write *w)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddNumberToObject(o, "score", w->score) ||
		  !cJSON_AddBoolToObject(o, "passed", w->passed))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

int learn_attempt(struct coursecache *cache, sqlite3 *db, int64_t user_id,
		  const char *course, const char *lesson, const cJSON *body,
		  int64_t now, cJSON **out, const char **why)
{
	struct learn_write w = { 0 };
	int rc;

	*out = NULL;
	rc = learn_attempt_prepare(cache, db, user_id, course, lesson, body,
				   now, &w, why);
	if (!rc)
		rc = learn_write_now(db, &w);
	if (!rc && !(*out = learn_attempt_result(&w)))
		rc = STORE_ENOMEM;
	return rc;
}

/* ---- progress across revisions ---- */

/* The version number of revision in c, 0 when it is not one. */
static int64_t learn_seq(const struct coursecache_course *c,
			 const char *revision)
{
	for (size_t k = 0; k < c->nversions; k++)
		if (!strcmp(c->versions[k].revision, revision))
			return c->versions[k].seq;
	return 0;
}

/* 1 when a completion of lesson (index in c) on blob at revision
 * counts: made on a version at or after the lesson's latest retraining. */
static int learn_completion_counts(const struct coursecache_course *c,
				   size_t lesson, const char *blob,
				   const char *revision)
{
	int64_t seq = learn_seq(c, revision), since = c->retrain_seq[lesson];
	const char *id = c->info.lessons[lesson].id;
	int known = 0;

	if (seq)
		return seq >= since;
	/* made on a revision held before versions were recorded: it counts
	 * while its blob is one the lesson had since its last retraining */
	for (size_t k = 0; k < c->nlv; k++) {
		if (strcmp(c->lv[k].lesson, id))
			continue;
		known = 1;
		if (c->lv[k].seq >= since && !strcmp(c->lv[k].blob, blob))
			return 1;
	}
	return !known && !strcmp(blob, c->blob[lesson]);
}

/* The completions of one user, by course id, read alongside a list of
 * courses sorted the same way: one statement for the whole list. */
struct learn_cursor {
	sqlite3_stmt *st;
	int step;
};

static int learn_cursor_open(struct coursecache *cache, sqlite3 *db,
			     int64_t user_id, const char *course,
			     struct learn_cursor *cur)
{
	cur->st = learn_stmt(cache, db, LEARN_ST_COMPLETIONS);
	if (!cur->st)
		return STORE_EDB;
	sqlite3_bind_int64(cur->st, 1, user_id);
	if (course)
		sqlite3_bind_text(cur->st, 2, course, -1, SQLITE_STATIC);
	cur->step = sqlite3_step(cur->st);
	return 0;
}

static void learn_cursor_close(struct learn_cursor *cur)
{
	if (cur->st)
		sqlite3_reset(cur->st);
}

/* What the cursor's user has done of c, consuming its rows up to c:
 * done[i] when a completion counts, current[i] when one was made on the
 * lesson's current file. */
static int learn_user_state(sqlite3 *db, const struct coursecache_course *c,
			    struct learn_cursor *cur, unsigned char *done,
			    unsigned char *current)
{
	sqlite3_stmt *st = cur->st;
	int order;
	long i;

	memset(done, 0, c->info.lesson_count + 1);
	memset(current, 0, c->info.lesson_count + 1);
	for (; cur->step == SQLITE_ROW; cur->step = sqlite3_step(st)) {
		order = strcmp(db_text(st, 0), c->id);
		if (order > 0)
			break;
		if (order < 0)
			continue;
		i = coursecache_lesson_index(c, db_text(st, 1));
		if (i < 0 || !learn_completion_counts(c, (size_t)i,
						      db_text(st, 2),
						      db_text(st, 3)))
			continue;
		done[i] = 1;
		current[i] |= !strcmp(db_text(st, 2), c->blob[i]);
	}
	if (cur->step != SQLITE_ROW && cur->step != SQLITE_DONE)
		return learn_fail(db, "learn_user_state");
	return 0;
}

static int learn_set_progress(cJSON *co, const struct coursecache_course *c,
			      const unsigned char *done)
{
	size_t n = 0, total = c->info.lesson_count;
	cJSON *p;

	for (size_t i = 0; i < total; i++)
		n += done[i];
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

/* Sets or adds a boolean member. */
static int learn_set_bool(cJSON *o, const char *name, int value)
{
	cJSON *b = cJSON_CreateBool(value);

	if (!b)
		return STORE_ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(o, name) ?
		    !cJSON_ReplaceItemInObjectCaseSensitive(o, name, b) :
		    !cJSON_AddItemToObject(o, name, b)) {
		cJSON_Delete(b);
		return STORE_ENOMEM;
	}
	return 0;
}

/* "completed" and "changed" of each lesson in the array lessons. */
static int learn_mark_lessons(cJSON *lessons,
			      const struct coursecache_course *c,
			      const unsigned char *done,
			      const unsigned char *current)
{
	const cJSON *lid;
	cJSON *o;
	long i;
	int rc = 0;

	cJSON_ArrayForEach(o, lessons) {
		lid = cJSON_GetObjectItemCaseSensitive(o, "id");
		i = cJSON_IsString(lid) ?
			    coursecache_lesson_index(c, lid->valuestring) :
			    -1;
		if (i < 0)
			continue;
		if ((rc = learn_set_bool(o, "completed", done[i])) ||
		    (rc = learn_set_bool(o, "changed",
					 done[i] && !current[i])))
			break;
	}
	return rc;
}

static cJSON *learn_lesson_item(const struct course_lesson *l)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "id", l->id) ||
	    !cJSON_AddStringToObject(o, "title", l->title ? l->title : "") ||
	    !cJSON_AddStringToObject(o, "kind", l->quiz ? "quiz" : "text")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* "lessons" of the course from the cache. */
static int learn_add_lessons(cJSON *co, const struct coursecache_course *c)
{
	cJSON *list = cJSON_AddArrayToObject(co, "lessons"), *o;

	if (!list)
		return STORE_ENOMEM;
	for (size_t i = 0; i < c->info.lesson_count; i++) {
		o = learn_lesson_item(&c->info.lessons[i]);
		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			return STORE_ENOMEM;
		}
	}
	return 0;
}

static cJSON *learn_change_json(const struct coursecache_course *c,
				const struct coursecache_version *v)
{
	cJSON *o = cJSON_CreateObject(), *ids, *id;
	char date[32];

	clock_format_iso(v->committed_at, date, sizeof(date));
	if (!o || !cJSON_AddStringToObject(o, "revision", v->revision) ||
	    !cJSON_AddStringToObject(o, "date", date) ||
	    !cJSON_AddStringToObject(o, "message", v->message) ||
	    !cJSON_AddBoolToObject(o, "retrain", v->retrain) ||
	    !(ids = cJSON_AddArrayToObject(o, "lessons")))
		goto fail;
	for (size_t k = 0; k < c->nlv; k++) {
		if (c->lv[k].seq != v->seq)
			continue;
		id = cJSON_CreateString(c->lv[k].lesson);
		if (!id || !cJSON_AddItemToArray(ids, id)) {
			cJSON_Delete(id);
			goto fail;
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* "changes": the versions after the first, newest first. */
static int learn_add_changes(cJSON *co, const struct coursecache_course *c)
{
	cJSON *list = cJSON_CreateArray(), *o;
	size_t n = 0;

	for (size_t k = c->nversions; list && k-- > 1 &&
				      n < LEARN_CHANGES_MAX; n++) {
		o = learn_change_json(c, &c->versions[k]);
		if (!o || !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			cJSON_Delete(list);
			return STORE_ENOMEM;
		}
	}
	if (!list || (cJSON_GetObjectItemCaseSensitive(co, "changes") ?
			      !cJSON_ReplaceItemInObjectCaseSensitive(
				      co, "changes", list) :
			      !cJSON_AddItemToObject(co, "changes", list))) {
		cJSON_Delete(list);
		return STORE_ENOMEM;
	}
	return 0;
}

/* Progress of co, and when it has "lessons" their marks and "changes". */
static int learn_fill(sqlite3 *db, const struct coursecache_course *c,
		      struct learn_cursor *cur, cJSON *co)
{
	cJSON *lessons = cJSON_GetObjectItemCaseSensitive(co, "lessons");
	size_t n = c->info.lesson_count + 1;
	unsigned char *done = malloc(2 * n), *current = done + n;
	int rc = done ? 0 : STORE_ENOMEM;

	if (!rc)
		rc = learn_user_state(db, c, cur, done, current);
	if (!rc)
		rc = learn_set_progress(co, c, done);
	if (!rc && lessons)
		rc = learn_mark_lessons(lessons, c, done, current);
	if (!rc && lessons)
		rc = learn_add_changes(co, c);
	free(done);
	return rc;
}

int learn_progress(sqlite3 *db, git_repository *repo, int64_t user_id,
		   cJSON *co)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(co, "id");
	struct learn_cursor cur = { 0 };
	struct coursecache *cache;
	struct coursecache_course *c;
	int rc;

	if (!cJSON_IsString(id))
		return STORE_EINVAL;
	if ((rc = coursecache_borrow(repo, &cache)))
		return rc;
	rc = learn_course_open(cache, db, 0, id->valuestring, &c);
	if (!rc)
		rc = learn_cursor_open(cache, db, user_id, id->valuestring,
				       &cur);
	if (!rc)
		rc = learn_fill(db, c, &cur, co);
	learn_cursor_close(&cur);
	coursecache_free(cache);
	return rc;
}

/* Runs BEGIN or COMMIT, prepared once. */
static int learn_txn(struct coursecache *cache, sqlite3 *db, enum learn_stmt i)
{
	sqlite3_stmt *st = learn_stmt(cache, db, i);
	int step = st ? sqlite3_step(st) : SQLITE_ERROR;

	if (st)
		sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : learn_fail(db, "learn_txn");
}

/* Each course of list from the cache, or loaded into it while no
 * transaction is open (so that missing versions can be recorded). */
static int learn_courses_load(struct coursecache *cache, sqlite3 *db,
			      const cJSON *list, int detail)
{
	const cJSON *co, *id, *rev;
	struct coursecache_course *c;
	int rc = 0;

	cJSON_ArrayForEach(co, list) {
		id = cJSON_GetObjectItemCaseSensitive(co, "id");
		rev = cJSON_GetObjectItemCaseSensitive(co, "revision");
		rc = coursecache_get(cache, db, id->valuestring,
				     rev->valuestring, &c);
		if (rc == STORE_EREVISION && !detail)
			rc = 0; /* logged; the progress stays 0 */
		else if (rc)
			break;
	}
	return rc;
}

/* The progress of each course of list (sorted by id, of course or all
 * when NULL) and its lessons and changes when detail, inside the
 * caller's transaction. */
static int learn_courses_fill(struct coursecache *cache, sqlite3 *db,
			      int64_t user_id, const char *course, cJSON *list,
			      int detail)
{
	struct learn_cursor cur = { 0 };
	const cJSON *id, *rev;
	struct coursecache_course *c;
	cJSON *co;
	int rc;

	if ((rc = learn_cursor_open(cache, db, user_id, course, &cur)))
		return rc;
	cJSON_ArrayForEach(co, list) {
		id = cJSON_GetObjectItemCaseSensitive(co, "id");
		rev = cJSON_GetObjectItemCaseSensitive(co, "revision");
		rc = coursecache_get(cache, db, id->valuestring,
				     rev->valuestring, &c);
		if (rc == STORE_EREVISION && !detail) {
			rc = 0;
			continue;
		}
		if (!rc && detail)
			rc = learn_add_lessons(co, c);
		if (!rc)
			rc = learn_fill(db, c, &cur, co);
		if (rc)
			break;
		coursecache_put(cache, c);
	}
	learn_cursor_close(&cur);
	return rc;
}

/* The courses of user_id (or only course), each with its progress and,
 * when detail, its lessons and changes. A course whose held revision
 * cannot be read (logged) keeps the progress 0 in a list. The courses
 * are loaded first; then the completions are read in one transaction:
 * one snapshot, and SQLite's file locks taken once rather than per
 * statement. */
static int learn_courses_select(struct coursecache *cache, sqlite3 *db,
				int64_t user_id, const char *course, int detail,
				cJSON **out)
{
	sqlite3_stmt *st = learn_stmt(cache, db, LEARN_ST_COURSES);
	int own = sqlite3_get_autocommit(db), rc;

	*out = NULL;
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	if (course)
		sqlite3_bind_text(st, 2, course, -1, SQLITE_STATIC);
	if ((rc = assign_courses_from(db, st, out)) ||
	    (rc = learn_courses_load(cache, db, *out, detail)))
		goto out;
	if (own && (rc = learn_txn(cache, db, LEARN_ST_BEGIN)))
		goto out;
	rc = learn_courses_fill(cache, db, user_id, course, *out, detail);
	if (own && learn_txn(cache, db, LEARN_ST_COMMIT) && !rc)
		rc = STORE_EDB;
out:
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int learn_courses_json(struct coursecache *cache, sqlite3 *db, int64_t user_id,
		       cJSON **out)
{
	return learn_courses_select(cache, db, user_id, NULL, 0, out);
}

/* The two generations for user_id. */
static int learn_generations(struct coursecache *cache, sqlite3 *db,
			     int64_t user_id, int64_t *gen, int64_t *user_gen)
{
	sqlite3_stmt *st = learn_stmt(cache, db, LEARN_ST_GENERATION);
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	step = sqlite3_step(st);
	*gen = sqlite3_column_int64(st, 0);
	*user_gen = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return step == SQLITE_ROW ? 0 : learn_fail(db, "learn_generations");
}

int learn_courses_text(struct coursecache *cache, sqlite3 *db, int64_t user_id,
		       const char **text, size_t *len)
{
	int64_t gen, user_gen;
	struct coursecache_list *l;
	cJSON *list;
	int rc;

	/* read before the list: a change after it makes a newer
	 * generation, never a stale list under a current one */
	if ((rc = learn_generations(cache, db, user_id, &gen, &user_gen)))
		return rc;
	l = coursecache_list(cache, user_id);
	if (!l->text || l->generation != gen ||
	    l->user_generation != user_gen) {
		cJSON_free(l->text);
		l->text = NULL;
		if ((rc = learn_courses_json(cache, db, user_id, &list)))
			return rc;
		l->text = cJSON_PrintUnformatted(list);
		cJSON_Delete(list);
		if (!l->text)
			return STORE_ENOMEM;
		l->len = strlen(l->text);
		l->generation = gen;
		l->user_generation = user_gen;
	}
	*text = l->text;
	*len = l->len;
	return 0;
}

int learn_course_json(struct coursecache *cache, sqlite3 *db, int64_t user_id,
		      const char *course, cJSON **out)
{
	cJSON *list;
	int rc;

	*out = NULL;
	if ((rc = learn_courses_select(cache, db, user_id, course, 1, &list)))
		return rc;
	*out = cJSON_DetachItemFromArray(list, 0);
	cJSON_Delete(list);
	return *out ? 0 : STORE_ENOTFOUND;
}

/* ---- HTTP ---- */

#define LEARN_PREFIX "/api/v1/courses/"

enum learn_action { LEARN_READ, LEARN_COMPLETE, LEARN_ATTEMPT, LEARN_ENROLL };

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

/* Splits /api/v1/courses/{id}/lessons/{lesson}[/complete|/attempts] and
 * /api/v1/courses/{id}/enroll. */
static int learn_parse(const char *path, char *course, char *lesson,
		       enum learn_action *act)
{
	const char *p = path + strlen(LEARN_PREFIX);

	if (strncmp(path, LEARN_PREFIX, strlen(LEARN_PREFIX)) ||
	    !learn_segment(&p, course))
		return 0;
	if (!strcmp(p, "/enroll")) {
		*act = LEARN_ENROLL;
		lesson[0] = 0;
		return 1;
	}
	if (strncmp(p, "/lessons/", 9))
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

/* Enrolls user_id; *out the course as GET /api/v1/courses lists it. */
static int learn_enroll(struct coursecache *cache, sqlite3 *db, int64_t user_id,
			const char *course, int64_t now, int *created,
			cJSON **out)
{
	cJSON *list;
	int rc;

	*out = NULL;
	if ((rc = assign_enroll(db, user_id, course, now, created)))
		return rc;
	if ((rc = learn_courses_select(cache, db, user_id, course, 0, &list)))
		return rc;
	*out = cJSON_DetachItemFromArray(list, 0);
	cJSON_Delete(list);
	return *out ? 0 : STORE_ENOTFOUND;
}

/* Runs a read or an enrollment; *out and *why as the functions give. */
static int learn_run(struct coursecache *cache, struct api_ctx *api,
		     int64_t user_id, const char *course, const char *lesson,
		     enum learn_action act, int *created, cJSON **out,
		     const char **why)
{
	*out = NULL;
	if (act == LEARN_READ)
		return learn_lesson_json(cache, api->db, user_id, course,
					 lesson, out);
	*why = "this course is not open for self-enrollment";
	return learn_enroll(cache, api->db, user_id, course,
			    clock_now(api->clock), created, out);
}

/* Decides a completion or an attempt of the request into w. */
static int learn_prepare(struct coursecache *cache, struct api_ctx *api,
			 const struct http_request *req, int64_t user_id,
			 const char *course, const char *lesson,
			 enum learn_action act, struct learn_write *w,
			 const char **why)
{
	int64_t now = clock_now(api->clock);
	cJSON *body;
	int rc;

	if (act == LEARN_COMPLETE) {
		*why = "a quiz is completed by passing an attempt";
		return learn_complete_prepare(cache, api->db, user_id, course,
					      lesson, now, w);
	}
	*why = "the body is not JSON";
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	rc = body ? learn_attempt_prepare(cache, api->db, user_id, course,
					  lesson, body, now, w, why) :
		    STORE_EINVAL;
	cJSON_Delete(body);
	return rc;
}

/* 409 for completing a quiz, 403 for a course not open, else 400. */
static void learn_refuse(struct http_exchange *x, enum learn_action act,
			 const char *why)
{
	if (act == LEARN_COMPLETE)
		http_respond_error(x, 409, "conflict", why);
	else if (act == LEARN_ENROLL)
		http_respond_error(x, 403, "forbidden", why);
	else
		http_respond_error(x, 400, "bad_request", why);
}

/* Answers a failed request: 404, a refusal, or 500 (logged). */
static void learn_fail_answer(struct api_ctx *api, struct http_exchange *x,
			      const struct http_request *req,
			      const char *course, const char *lesson,
			      enum learn_action act, int rc, const char *why)
{
	if (rc == STORE_ENOTFOUND) {
		http_respond_error(x, 404, "not_found",
				   act == LEARN_ENROLL ? "no such course" :
							 "no such lesson");
	} else if (rc == STORE_EINVAL) {
		learn_refuse(x, act, why);
	} else {
		log_error("msg=\"lesson request failed\" tenant=%s req=%llu "
			  "course=%s lesson=%s error=\"%s\"", api->tenant,
			  (unsigned long long)req->id, course, lesson,
			  store_strerror(rc));
		http_respond_error(x, 500, "internal",
				   "the lesson cannot be read");
	}
}

/* Answers a stored (or failed) write; the batcher's done callback. */
static void learn_write_done(void *arg, int rc)
{
	struct learn_write *w = arg;
	cJSON *out = NULL;

	if (rc) {
		log_error("msg=\"progress write failed\" tenant=%s req=%llu "
			  "course=%s lesson=%s error=\"%s\"", w->api->tenant,
			  (unsigned long long)w->req_id, w->course, w->lesson,
			  store_strerror(rc));
		http_respond_error(w->x, 500, "internal",
				   "the progress cannot be stored");
		free(w);
		return;
	}
	if (w->attempt) {
		out = learn_attempt_result(w);
	} else {
		out = cJSON_CreateObject();
		if (out && !cJSON_AddTrueToObject(out, "completed")) {
			cJSON_Delete(out);
			out = NULL;
		}
	}
	http_respond_json(w->x, 200, out);
	free(w);
}

/* A completion or an attempt: decided now, answered once it is stored
 * with the other writes of this loop round (batch.h). */
static void learn_write_answer(struct coursecache *cache,
			       struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req,
			       const struct people_user *me,
			       const char *course, const char *lesson,
			       enum learn_action act)
{
	struct learn_write *w = calloc(1, sizeof(*w));
	const char *why = "bad request";
	int rc = w ? learn_prepare(cache, api, req, me->id, course, lesson,
				   act, w, &why) :
		     STORE_ENOMEM;

	if (rc) {
		free(w);
		learn_fail_answer(api, x, req, course, lesson, act, rc, why);
		return;
	}
	w->api = api;
	w->x = x;
	w->req_id = req->id;
	snprintf(w->email, sizeof(w->email), "%s", me->email);
	if (!api->batch)
		learn_write_done(w, learn_write_now(api->db, w));
	else if (batch_submit(api->batch, learn_write_run, learn_write_done,
			      w))
		learn_write_done(w, STORE_ENOMEM);
}

static void learn_answer(struct coursecache *cache, struct api_ctx *api,
			 struct http_exchange *x,
			 const struct http_request *req, const char *course,
			 const char *lesson, enum learn_action act)
{
	struct people_user me;
	const char *why = "bad request";
	cJSON *out = NULL;
	int rc, created = 0;

	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me))
		return;
	if (act == LEARN_COMPLETE || act == LEARN_ATTEMPT) {
		learn_write_answer(cache, api, x, req, &me, course, lesson,
				   act);
		return;
	}
	rc = learn_run(cache, api, me.id, course, lesson, act, &created, &out,
		       &why);
	if (rc) {
		learn_fail_answer(api, x, req, course, lesson, act, rc, why);
		return;
	}
	if (act == LEARN_ENROLL && created)
		log_info("msg=\"enrolled\" tenant=%s req=%llu course=%s "
			 "user=%lld", api->tenant, (unsigned long long)req->id,
			 course, (long long)me.id);
	http_respond_json(x, act == LEARN_ENROLL && created ? 201 : 200, out);
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
	learn_answer(api->courses, api, x, req, course, lesson, act);
	return 1;
}
