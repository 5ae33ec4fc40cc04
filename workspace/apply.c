/*
 * Verifying and applying one mother event against content.git and
 * workspace.db, on the thread pool. The steps and why their order makes
 * a crash harmless are in apply.h. Everything a job needs is in the job
 * and its apply context; nothing here reads the loop's state. After the
 * commit point, the versions of the course (what each revision changed,
 * apply.h) are brought up to date; catalog.c and the course cache call
 * the same for local publishes and after a crash.
 */
#include "workspace/apply.h"

#include "common/buf.h"
#include "common/course.h"
#include "common/db.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/log.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int apply_open(struct apply_ctx *a, const char *data_dir)
{
	char *db_path = fs_join(data_dir, STORE_FILE);
	char *repo_path = fs_join(data_dir, APPLY_REPO_DIR);
	int rc = -1;

	a->db = NULL;
	a->repo = NULL;
	if (!db_path || !repo_path)
		goto out;
	if (store_open(db_path, &a->db) ||
	    gitstore_open(repo_path, 0, &a->repo)) {
		apply_close(a);
		goto out;
	}
	rc = 0;
out:
	free(db_path);
	free(repo_path);
	return rc;
}

void apply_close(struct apply_ctx *a)
{
	git_repository_free(a->repo);
	sqlite3_close_v2(a->db);
	a->repo = NULL;
	a->db = NULL;
}

int apply_ref_name(enum store_origin origin, const char *id, char *out,
		   size_t cap)
{
	const char *prefix = origin == STORE_ORIGIN_LOCAL ? "refs/local/" :
							    "refs/courses/";
	int n = snprintf(out, cap, "%s%s", prefix, id);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Brings one course's ref to the revision of its row. */
static int apply_reconcile_course(struct apply_ctx *a,
				  const struct store_course *c)
{
	char ref[128], rev[IDS_REVISION_LEN + 1];
	int rc;

	if (apply_ref_name(c->origin, c->id, ref, sizeof(ref)))
		return -1;
	rc = gitstore_ref_revision(a->repo, ref, rev);
	if (rc < 0)
		return -1;
	if (rc == 0 && !strcmp(rev, c->revision))
		return 0;
	if (!gitstore_has_commit(a->repo, c->revision)) {
		log_error("msg=\"revision missing from content.git\" "
			  "course=%s revision=%s", c->id, c->revision);
		return -1;
	}
	if (gitstore_set_ref(a->repo, ref, c->revision, "lms: reconcile"))
		return -1;
	log_info("msg=\"ref reconciled\" course=%s ref=%s revision=%s",
		 c->id, ref, c->revision);
	return 0;
}

/* libgit2 writes an incoming pack to objects/pack/pack_git2_* and
 * renames it when indexed; a crash leaves the temporary file behind.
 * git ignores it, but it can be as large as a pack. */
static void apply_remove_temp_packs(struct apply_ctx *a)
{
	char *dir = fs_join(git_repository_path(a->repo), "objects/pack");
	struct dirent *de;
	DIR *d = dir ? opendir(dir) : NULL;

	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "pack_git2_", 10))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_info("msg=\"removed an interrupted pack\" "
				 "file=%s", de->d_name);
	}
	if (d)
		closedir(d);
	free(dir);
}

int apply_reconcile(struct apply_ctx *a)
{
	struct store_course *list;
	size_t n;
	int rc = 0;

	apply_remove_temp_packs(a);
	if (store_course_list(a->db, &list, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (apply_reconcile_course(a, &list[i]))
			rc = -1;
		/* courses held before versions were recorded get theirs
		 * now; a failure is logged and retried at the next read */
		apply_record_versions(a->db, a->repo, list[i].id);
	}
	store_course_list_free(list, n);
	return rc;
}

struct apply_job *apply_job_new(struct apply_ctx *ctx,
				const struct proto_event *ev,
				const uint8_t *pack, size_t pack_len,
				int64_t now)
{
	struct apply_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->pack = malloc(pack_len ? pack_len : 1);
	if (!job->pack) {
		free(job);
		return NULL;
	}
	if (pack_len)
		memcpy(job->pack, pack, pack_len);
	job->ctx = ctx;
	job->ev = *ev;
	job->pack_len = pack_len;
	job->now = now;
	return job;
}

void apply_job_free(struct apply_job *job)
{
	if (!job)
		return;
	free(job->pack);
	free(job);
}

/* Ends the job with a result and a reason; returns -1 for the caller's
 * early return. */
static int apply_end(struct apply_job *job, enum apply_result result,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int apply_end(struct apply_job *job, enum apply_result result,
		     const char *fmt, ...)
{
	va_list ap;

	job->result = result;
	va_start(ap, fmt);
	vsnprintf(job->reason, sizeof(job->reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* Step 1: the event must start from what the workspace holds. */
static int apply_check_start(struct apply_job *job)
{
	const struct proto_event *ev = &job->ev;
	struct store_course cur;
	int rc = store_course_get(job->ctx->db, ev->course, &cur);

	if (rc == STORE_ENOTFOUND) {
		if (!*ev->prev_rev)
			return 0;
		return apply_end(job, APPLY_REFUSED,
				 "starts from %.40s but the course is not "
				 "held", ev->prev_rev);
	}
	if (rc)
		return apply_end(job, APPLY_FAILED, "reading the course: %s",
				 store_strerror(rc));
	if (cur.origin == STORE_ORIGIN_LOCAL) {
		/* Not the event's fault alone: the tenant must rename its
		 * course before this mother course can arrive. */
		log_error("msg=\"mother course id is taken by a local "
			  "course\" tenant=%s seq=%llu course=%s", ev->tenant,
			  (unsigned long long)ev->seq, ev->course);
		rc = apply_end(job, APPLY_REFUSED,
			       "the id belongs to a local course");
	}
	else if (strcmp(cur.revision, ev->prev_rev))
		rc = apply_end(job, APPLY_REFUSED,
			       "starts from %.40s but the workspace holds "
			       "%.40s", *ev->prev_rev ? ev->prev_rev : "none",
			       cur.revision);
	store_course_release(&cur);
	return rc;
}

/* Steps 2 and 3: the objects arrive and the revision moves forward. */
static int apply_take_pack(struct apply_job *job)
{
	git_repository *repo = job->ctx->repo;
	const struct proto_event *ev = &job->ev;
	int rc;

	if (job->pack_len &&
	    gitstore_index_pack(repo, job->pack, job->pack_len))
		return apply_end(job, APPLY_REFUSED,
				 "the pack cannot be indexed");
	if (!gitstore_has_commit(repo, ev->new_rev))
		return apply_end(job, APPLY_REFUSED,
				 "revision %.40s is not in the pack",
				 ev->new_rev);
	if (!*ev->prev_rev)
		return 0;
	rc = gitstore_descends(repo, ev->new_rev, ev->prev_rev);
	if (rc < 0)
		return apply_end(job, APPLY_FAILED, "history check failed");
	if (!rc)
		return apply_end(job, APPLY_REFUSED,
				 "revision %.40s does not descend from %.40s",
				 ev->new_rev, ev->prev_rev);
	return 0;
}

/* Step 4: the revision is a valid course, and the event's course. */
static int apply_validate(struct apply_job *job, struct course_info *info)
{
	struct course_reader reader;
	struct course_error err;
	git_tree *tree = NULL;
	char text[520];
	int rc;

	if (gitstore_tree(job->ctx->repo, job->ev.new_rev, &tree))
		return apply_end(job, APPLY_REFUSED,
				 "revision has no readable tree");
	memset(&err, 0, sizeof(err));
	course_reader_tree(&reader, job->ctx->repo, tree);
	rc = course_validate(&reader, job->ev.course, info, &err);
	git_tree_free(tree);
	if (!rc)
		return 0;
	course_error_format(&err, text, sizeof(text));
	return apply_end(job, APPLY_REFUSED, "invalid course: %s", text);
}

/* Step 5: the commit point. */
static int apply_record(struct apply_job *job, const struct course_info *info)
{
	const struct proto_event *ev = &job->ev;
	struct store_event e = {
		.seq = ev->seq,
		.course = ev->course,
		.prev_rev = ev->prev_rev,
		.new_rev = ev->new_rev,
		.title = info->title ? info->title : "",
		.duration_minutes = info->duration_minutes,
		.event_time = ev->time,
		.applied_at = job->now,
	};
	int rc = store_apply_event(job->ctx->db, &e);

	if (!rc)
		return 0;
	if (rc == STORE_EORIGIN || rc == STORE_EREVISION)
		return apply_end(job, APPLY_REFUSED, "%s", store_strerror(rc));
	return apply_end(job, APPLY_FAILED, "recording the event: %s",
			 store_strerror(rc));
}

/* Step 6: the repository follows the database. A failure here loses
 * nothing: the next start reconciles the ref. */
static void apply_move_ref(struct apply_job *job)
{
	char ref[128], msg[64];

	snprintf(msg, sizeof(msg), "lms: event %llu",
		 (unsigned long long)job->ev.seq);
	if (apply_ref_name(STORE_ORIGIN_MOTHER, job->ev.course, ref,
			   sizeof(ref)) ||
	    gitstore_set_ref(job->ctx->repo, ref, job->ev.new_rev, msg))
		log_error("msg=\"course ref not moved; reconciled at next "
			  "start\" course=%s revision=%s", job->ev.course,
			  job->ev.new_rev);
}

void apply_run(struct apply_job *job)
{
	struct course_info info;

	memset(&info, 0, sizeof(info));
	job->result = APPLY_DONE;
	job->reason[0] = 0;
	if (apply_check_start(job) || apply_take_pack(job) ||
	    apply_validate(job, &info))
		return;
	if (!apply_record(job, &info)) {
		apply_move_ref(job);
		/* after the commit point: a failure (logged) is made good
		 * when the course is next read */
		apply_record_versions(job->ctx->db, job->ctx->repo,
				      job->ev.course);
	}
	course_info_release(&info);
}

static void apply_work(uv_work_t *w)
{
	apply_run(w->data);
	/* indexing a pack leaves freed memory behind; an idle workspace
	 * should not keep it */
	malloc_trim(0);
}

static void apply_after_work(uv_work_t *w, int status)
{
	struct apply_job *job = w->data;

	if (status == UV_ECANCELED)
		apply_end(job, APPLY_FAILED, "cancelled");
	job->done(job);
}

int apply_start(uv_loop_t *loop, struct apply_job *job,
		void (*done)(struct apply_job *job))
{
	job->done = done;
	job->work.data = job;
	return uv_queue_work(loop, &job->work, apply_work, apply_after_work);
}

/* ---- versions: what each held revision changed ---- */

#define APPLY_VERSIONS_BACK 100 /* revisions looked back at most */

static int apply_db_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"version query failed\" what=%s error=\"%s\"", what,
		  sqlite3_errmsg(db));
	return STORE_EDB;
}

/* 1 when rev is recorded as a version of course, 0 when not, or an
 * error. */
static int apply_version_known(sqlite3 *db, const char *course,
			       const char *rev)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM course_versions "
					  "WHERE course_id = ?1 AND "
					  "revision = ?2");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rev, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return apply_db_fail(db, "version_known");
	return step == SQLITE_ROW;
}

/* A list of revisions, oldest first. */
struct apply_revs {
	char (*rev)[GIT_OID_HEXSZ + 1];
	size_t n;
};

static int apply_revs_push(struct apply_revs *r, const char *rev)
{
	char(*grown)[GIT_OID_HEXSZ + 1];

	if (r->n == APPLY_VERSIONS_BACK) {
		/* keep the newest: drop the oldest */
		memmove(r->rev, r->rev + 1, (r->n - 1) * sizeof(*r->rev));
		r->n--;
	}
	grown = realloc(r->rev, (r->n + 1) * sizeof(*r->rev));
	if (!grown)
		return STORE_ENOMEM;
	r->rev = grown;
	snprintf(r->rev[r->n++], GIT_OID_HEXSZ + 1, "%s", rev);
	return 0;
}

/* The revisions of a mother course its events brought and no version
 * records yet, in the order they came. */
static int apply_revs_mother(sqlite3 *db, const char *course,
			     struct apply_revs *r)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT new_rev FROM sync_log l WHERE course = ?1 AND "
		    "NOT EXISTS (SELECT 1 FROM course_versions v WHERE "
		    "v.course_id = ?1 AND v.revision = l.new_rev) "
		    "ORDER BY seq");
	int step, rc = 0;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = apply_revs_push(r, db_text(st, 0));
	if (!rc && step != SQLITE_DONE)
		rc = apply_db_fail(db, "revs_mother");
	sqlite3_finalize(st);
	return rc;
}

/* The publishes of a local course not recorded yet: its first-parent
 * history back from held, each commit one publish. */
static int apply_revs_local(sqlite3 *db, git_repository *repo,
			    const char *course, const char *held,
			    struct apply_revs *r)
{
	char back[APPLY_VERSIONS_BACK][GIT_OID_HEXSZ + 1];
	git_commit *c = NULL, *parent;
	size_t n = 0;
	git_oid oid;
	int rc = 0, known;

	if (git_oid_fromstr(&oid, held) || git_commit_lookup(&c, repo, &oid))
		return STORE_EREVISION;
	while (c && n < APPLY_VERSIONS_BACK) {
		git_oid_tostr(back[n], sizeof(back[n]), git_commit_id(c));
		if ((known = apply_version_known(db, course, back[n])) != 0) {
			rc = known < 0 ? known : 0;
			break;
		}
		n++;
		parent = NULL;
		if (git_commit_parentcount(c) > 0)
			git_commit_parent(&parent, c, 0);
		git_commit_free(c);
		c = parent;
	}
	git_commit_free(c);
	while (!rc && n > 0)
		rc = apply_revs_push(r, back[--n]);
	return rc;
}

/* 1 when the commit message has the trailer "Retrain: yes". */
static int apply_message_retrain(const char *message)
{
	git_message_trailer_array arr;
	int yes = 0;

	memset(&arr, 0, sizeof(arr));
	if (git_message_trailers(&arr, message))
		return 0;
	for (size_t i = 0; i < arr.count; i++)
		yes |= !strcasecmp(arr.trailers[i].key, "retrain") &&
		       !strcasecmp(arr.trailers[i].value, "yes");
	git_message_trailer_array_free(&arr);
	return yes;
}

/* What a version records of its commit. */
struct apply_version {
	const char *rev;
	int retrain;
	int64_t committed_at;
	char message[256]; /* the first line */
	char *summary;	   /* malloc'd, or NULL */
};

/* Retrain, time and message of rev; retrain when any commit since prev
 * (exclusive, "" for none) asks for it. */
static int apply_version_commit(git_repository *repo, const char *prev,
				struct apply_version *v)
{
	git_commit *c = NULL, *parent;
	char id[GIT_OID_HEXSZ + 1];
	const char *msg;
	git_oid oid;

	if (git_oid_fromstr(&oid, v->rev) ||
	    git_commit_lookup(&c, repo, &oid))
		return STORE_EREVISION;
	v->committed_at = (int64_t)git_commit_time(c);
	msg = git_commit_message(c);
	snprintf(v->message, sizeof(v->message), "%.*s",
		 (int)strcspn(msg, "\r\n"), msg);
	for (int i = 0; c && i < APPLY_VERSIONS_BACK; i++) {
		git_oid_tostr(id, sizeof(id), git_commit_id(c));
		if (!strcmp(id, prev))
			break;
		v->retrain |= apply_message_retrain(git_commit_message(c));
		parent = NULL;
		if (!*prev || git_commit_parentcount(c) == 0)
			break;
		git_commit_parent(&parent, c, 0);
		git_commit_free(c);
		c = parent;
	}
	git_commit_free(c);
	return 0;
}

/* The summary of course.json in the default language, or NULL. */
static char *apply_summary(const struct course_reader *reader,
			   const char *language)
{
	const cJSON *s, *t, *pick = NULL;
	struct buf b;
	char *out = NULL;
	cJSON *json;

	buf_init(&b);
	if (reader->read(reader->ctx, "course.json", COURSE_MAX_JSON, &b)) {
		buf_release(&b);
		return NULL;
	}
	json = cJSON_ParseWithLength((const char *)b.data, b.len);
	buf_release(&b);
	s = cJSON_GetObjectItemCaseSensitive(json, "summary");
	if (cJSON_IsString(s))
		pick = s;
	else if (cJSON_IsObject(s))
		cJSON_ArrayForEach(t, s) {
			if (!pick || !strcmp(t->string, language))
				pick = t;
		}
	if (cJSON_IsString(pick))
		out = strdup(pick->valuestring);
	cJSON_Delete(json);
	return out;
}

/* The blob a lesson had in the latest version that changed it, into
 * blob ("" for none). */
static int apply_lesson_blob(sqlite3 *db, const char *course,
			     const char *lesson, char *blob)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT blob_id FROM "
					  "lesson_versions WHERE course_id = "
					  "?1 AND lesson_id = ?2 ORDER BY "
					  "seq DESC LIMIT 1");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lesson, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	blob[0] = 0;
	if (step == SQLITE_ROW)
		snprintf(blob, GIT_OID_HEXSZ + 1, "%s", db_text(st, 0));
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return apply_db_fail(db, "lesson_blob");
	return 0;
}

static int apply_insert_lesson(sqlite3 *db, const char *course,
			       const char *lesson, int64_t seq,
			       const char *blob, int retrain)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO lesson_versions "
					  "(course_id, lesson_id, seq, "
					  "blob_id, retrain) VALUES (?1, ?2, "
					  "?3, ?4, ?5)");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lesson, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_text(st, 4, blob, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, retrain);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : apply_db_fail(db, "insert_lesson");
}

/* A row of lesson_versions for each lesson whose blob is new. */
static int apply_version_lessons(sqlite3 *db, git_tree *tree,
				 const char *course,
				 const struct course_info *info, int64_t seq,
				 int retrain)
{
	char blob[GIT_OID_HEXSZ + 1], last[GIT_OID_HEXSZ + 1];
	const struct course_lesson *l;
	git_tree_entry *e;
	int rc = 0;

	for (size_t i = 0; !rc && i < info->lesson_count; i++) {
		l = &info->lessons[i];
		e = NULL;
		if (git_tree_entry_bypath(&e, tree,
					  l->quiz ? l->quiz : l->file))
			return STORE_EREVISION;
		git_oid_tostr(blob, sizeof(blob), git_tree_entry_id(e));
		git_tree_entry_free(e);
		rc = apply_lesson_blob(db, course, l->id, last);
		if (!rc && strcmp(blob, last))
			rc = apply_insert_lesson(db, course, l->id, seq, blob,
						 retrain && seq > 1);
	}
	return rc;
}

static int apply_insert_version(sqlite3 *db, const char *course,
				int64_t seq, const struct apply_version *v)
{
	sqlite3_stmt *st = db_prepare(
		db, "INSERT INTO course_versions (course_id, seq, revision, "
		    "retrain, committed_at, message, summary) VALUES (?1, ?2, "
		    "?3, ?4, ?5, ?6, ?7)");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_text(st, 3, v->rev, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, v->retrain);
	sqlite3_bind_int64(st, 5, v->committed_at);
	sqlite3_bind_text(st, 6, v->message, -1, SQLITE_STATIC);
	if (v->summary)
		sqlite3_bind_text(st, 7, v->summary, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : apply_db_fail(db, "insert_version");
}

/* The latest version into *seq and prev (0 and "" for none). */
static int apply_latest(sqlite3 *db, const char *course, int64_t *seq,
			char *prev)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT seq, revision FROM "
					  "course_versions WHERE course_id "
					  "= ?1 ORDER BY seq DESC LIMIT 1");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	*seq = 0;
	prev[0] = 0;
	if (step == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		snprintf(prev, GIT_OID_HEXSZ + 1, "%s", db_text(st, 1));
	}
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return apply_db_fail(db, "latest");
	return 0;
}

/* Records rev as the next version, inside the caller's transaction. A
 * revision that is not a valid course is skipped (logged). */
static int apply_version_add(sqlite3 *db, git_repository *repo,
			     const char *course, const char *rev)
{
	struct apply_version v = { .rev = rev };
	char prev[GIT_OID_HEXSZ + 1];
	struct course_reader reader;
	struct course_error err;
	struct course_info info;
	git_tree *tree = NULL;
	int64_t seq;
	int rc;

	if ((rc = apply_version_known(db, course, rev)) != 0)
		return rc < 0 ? rc : 0;
	memset(&info, 0, sizeof(info));
	memset(&err, 0, sizeof(err));
	if ((rc = apply_latest(db, course, &seq, prev)))
		return rc;
	if (gitstore_tree(repo, rev, &tree))
		return STORE_EREVISION;
	course_reader_tree(&reader, repo, tree);
	if (course_validate(&reader, course, &info, &err)) {
		log_error("msg=\"revision not recorded as a version: not a "
			  "valid course\" course=%s revision=%s reason=\"%s\"",
			  course, rev, err.reason);
		git_tree_free(tree);
		return 0;
	}
	rc = apply_version_commit(repo, prev, &v);
	v.retrain |= info.retrain_any;
	v.summary = apply_summary(&reader, info.language);
	if (!rc)
		rc = apply_version_lessons(db, tree, course, &info, seq + 1,
					   v.retrain);
	if (!rc)
		rc = apply_insert_version(db, course, seq + 1, &v);
	free(v.summary);
	course_info_release(&info);
	git_tree_free(tree);
	return rc;
}

/* The revisions to record, oldest first, ending with the held one. */
static int apply_versions_pending(sqlite3 *db, git_repository *repo,
				  const struct store_course *c,
				  struct apply_revs *r)
{
	int rc;

	if (c->origin == STORE_ORIGIN_LOCAL)
		rc = apply_revs_local(db, repo, c->id, c->revision, r);
	else
		rc = apply_revs_mother(db, c->id, r);
	if (rc)
		return rc;
	if (r->n && !strcmp(r->rev[r->n - 1], c->revision))
		return 0;
	/* the held revision came some other way (a test, an old
	 * database): it alone */
	r->n = 0;
	return apply_revs_push(r, c->revision);
}

int apply_record_versions(sqlite3 *db, git_repository *repo,
			  const char *course)
{
	struct apply_revs r = { 0 };
	struct store_course c;
	int rc, known;

	if ((rc = store_course_get(db, course, &c)))
		return rc;
	known = apply_version_known(db, course, c.revision);
	if (known) {
		store_course_release(&c);
		return known < 0 ? known : 0;
	}
	if (db_begin(db)) {
		store_course_release(&c);
		return STORE_EDB;
	}
	rc = apply_versions_pending(db, repo, &c, &r);
	for (size_t i = 0; !rc && i < r.n; i++)
		rc = apply_version_add(db, repo, course, r.rev[i]);
	if (!rc && db_commit(db))
		rc = STORE_EDB;
	if (rc) {
		db_rollback(db);
		log_error("msg=\"versions not recorded\" course=%s "
			  "revision=%s error=\"%s\"", course, c.revision,
			  store_strerror(rc));
	}
	free(r.rev);
	store_course_release(&c);
	return rc;
}
