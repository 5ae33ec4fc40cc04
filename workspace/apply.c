/*
 * Verifying and applying one mother event against content.git and
 * workspace.db, on the thread pool. The steps and why their order makes
 * a crash harmless are in apply.h. Everything a job needs is in the job
 * and its apply context; nothing here reads the loop's state.
 */
#include "workspace/apply.h"

#include "common/course.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	for (size_t i = 0; i < n; i++)
		if (apply_reconcile_course(a, &list[i]))
			rc = -1;
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
	if (!apply_record(job, &info))
		apply_move_ref(job);
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
