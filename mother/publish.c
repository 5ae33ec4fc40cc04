/*
 * Publishing: course repositories and their hooks, commits from
 * directories, and recording revisions into the tenants' event streams.
 * Publishers (commands and hooks, in separate processes) are serialised
 * by an exclusive lock on DATA/publish.lock.
 */
#include "mother/publish.h"

#include "common/course.h"
#include "common/db.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/ids.h"
#include "common/log.h"
#include "mother/control.h"
#include "proto/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define PUBLISH_MAIN "refs/heads/main"
/* What fits into one EVENT frame next to the event and its signature. */
#define PUBLISH_MAX_PACK (PROTO_DEFAULT_MAX_FRAME - 4096)

static int publish_lock(const struct mother *m)
{
	char *path = mother_path(m, "publish.lock");
	int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;

	free(path);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		log_error("msg=\"cannot take the publish lock\" error=\"%s\"",
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void publish_unlock(int fd)
{
	close(fd); /* releases the lock */
}

/* ---- course repositories ---- */

static int publish_write_hook(const char *repo, const char *name,
			      const char *exe, const char *data,
			      const char *course)
{
	char path[4096], script[8192];
	int n;

	if (strchr(exe, '\'') || strchr(data, '\''))
		return -1;
	snprintf(path, sizeof(path), "%s/hooks/%s", repo, name);
	n = snprintf(script, sizeof(script),
		     "#!/bin/sh\n"
		     "# Installed by lms-mother: checks and publishes pushes "
		     "to main.\n"
		     "exec '%s' hook %s '%s' '%s'\n",
		     exe, name, data, course);
	return fs_write_atomic(path, script, (size_t)n, 0755);
}

static int publish_install_hooks(const struct mother *m, const char *repo,
				 const char *course)
{
	char *exe = fs_self_exe();
	int rc = -1;

	if (exe &&
	    !publish_write_hook(repo, "pre-receive", exe, m->data, course) &&
	    !publish_write_hook(repo, "post-receive", exe, m->data, course))
		rc = 0;
	free(exe);
	return rc;
}

static int publish_insert_course(struct mother *m, const char *id)
{
	sqlite3_stmt *st = db_prepare(m->db,
		"INSERT INTO courses (id, created_at) VALUES (?, ?)");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, clock_now(&m->clock));
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Creates the repository, its hooks and the course row; the caller holds
 * the publish lock and has checked that path does not exist. */
static int publish_make_course(struct mother *m, const char *id,
			       const char *path)
{
	git_repository *repo = NULL;

	if (gitstore_open(path, 1, &repo) ||
	    git_repository_set_head(repo, PUBLISH_MAIN) ||
	    publish_install_hooks(m, path, id) ||
	    publish_insert_course(m, id)) {
		fprintf(stderr, "lms-mother: cannot create course %s\n", id);
		git_repository_free(repo);
		fs_remove_tree(path);
		return -1;
	}
	git_repository_free(repo);
	return 0;
}

int publish_create_course(struct mother *m, const char *id, char **repo_out)
{
	char *path;
	int fd, rc = -1;

	*repo_out = NULL;
	if (!ids_valid(id)) {
		fprintf(stderr, "lms-mother: invalid course id \"%s\" (1 to 64 "
				"of a-z, 0-9 and -)\n", id);
		return -1;
	}
	path = mother_course_repo(m, id);
	fd = path ? publish_lock(m) : -1;
	if (fd < 0) {
		free(path);
		return -1;
	}
	if (fs_exists(path))
		fprintf(stderr, "lms-mother: course %s already exists: %s\n",
			id, path);
	else
		rc = publish_make_course(m, id, path);
	publish_unlock(fd);
	if (rc) {
		free(path);
		return -1;
	}
	*repo_out = path;
	return 0;
}

/* ---- recording revisions ---- */

static int publish_step(sqlite3 *db, const char *sql, const char *course,
			const char *rev, const char *title, int64_t now)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc)
		log_error("msg=\"cannot record revision\" course=%s "
			  "error=\"%s\"", course, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* The history row first: it reads the revision being replaced. */
static int publish_record_revision(struct mother *m, const char *course,
				   const char *rev, const char *title)
{
	int64_t now = clock_now(&m->clock);

	if (db_begin(m->db))
		return -1;
	if (publish_step(m->db,
			 "INSERT OR IGNORE INTO revisions (course, revision,"
			 " prev_rev, published_at) VALUES (?1, ?2, coalesce("
			 "(SELECT revision FROM courses WHERE id = ?1), ''),"
			 " ?4)",
			 course, rev, title, now) ||
	    publish_step(m->db,
			 "UPDATE courses SET revision = ?2, title = ?3,"
			 " published_at = ?4 WHERE id = ?1",
			 course, rev, title, now) ||
	    db_commit(m->db)) {
		db_rollback(m->db);
		return -1;
	}
	return 0;
}

static int publish_recorded(struct mother *m, const char *course,
			    char rev[41])
{
	sqlite3_stmt *st = db_prepare(m->db,
		"SELECT coalesce(revision, '') FROM courses WHERE id = ?");
	int rc = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(rev, 41, "%s", db_text(st, 0));
		rc = 0;
	} else {
		log_error("msg=\"course missing from mother.db\" course=%s",
			  course);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Validates the tree of rev for its title; an invalid main (someone
 * bypassed the hook) is not published. */
static int publish_title(git_repository *repo, const char *course,
			 const char *rev, char **title)
{
	struct course_reader reader;
	struct course_error err;
	struct course_info info;
	git_tree *tree = NULL;
	char msg[600];

	if (gitstore_tree(repo, rev, &tree))
		return -1;
	course_reader_tree(&reader, repo, tree);
	if (course_validate(&reader, course, &info, &err)) {
		course_error_format(&err, msg, sizeof(msg));
		log_error("msg=\"revision not published: invalid course\" "
			  "course=%s revision=%s reason=\"%s\"", course, rev,
			  msg);
		git_tree_free(tree);
		return -1;
	}
	*title = strdup(info.title ? info.title : course);
	course_info_release(&info);
	git_tree_free(tree);
	return *title ? 0 : -1;
}

/* Compares main of one course with mother.db and records a change. */
static int publish_sync_course(struct mother *m, const char *course)
{
	char *path = mother_course_repo(m, course), *title = NULL;
	char head[41], recorded[41];
	git_repository *repo = NULL;
	int rc = -1;

	if (!path || gitstore_open(path, 0, &repo))
		goto out;
	rc = gitstore_ref_revision(repo, PUBLISH_MAIN, head);
	if (rc) {
		rc = rc == 1 ? 0 : -1; /* nothing published yet */
		goto out;
	}
	rc = -1;
	if (publish_recorded(m, course, recorded))
		goto out;
	if (!strcmp(head, recorded)) {
		rc = 0;
		goto out;
	}
	if (*recorded && gitstore_descends(repo, head, recorded) != 1) {
		/* main was moved back behind the hook's back (a restored
		 * backup, update-ref): tenants would refuse it forever */
		log_error("msg=\"revision not published: main does not descend "
			  "from the published revision\" course=%s "
			  "revision=%s published=%s", course, head, recorded);
		goto out;
	}
	if (publish_title(repo, course, head, &title))
		goto out;
	rc = publish_record_revision(m, course, head, title);
	if (!rc)
		log_info("msg=\"revision published\" course=%s revision=%s",
			 course, head);
out:
	free(title);
	git_repository_free(repo);
	free(path);
	return rc;
}

/* Builds and stores the pack from..to of a course unless it exists. */
static int publish_ensure_pack(struct mother *m, const char *course,
			       const char *from, const char *to)
{
	uint8_t sha[CRYPTO_SHA256_LEN];
	struct buf pack;
	sqlite3_stmt *st;
	char *repo;
	int rc = -1;

	buf_init(&pack);
	repo = mother_course_repo(m, course);
	if (!repo || gitstore_build_pack(repo, from, to, &pack))
		goto out;
	if (pack.len > PUBLISH_MAX_PACK) {
		log_error("msg=\"revision too large to send\" course=%s to=%s "
			  "bytes=%zu limit=%zu", course, to, pack.len,
			  (size_t)PUBLISH_MAX_PACK);
		goto out;
	}
	crypto_sha256(pack.data, pack.len, sha);
	st = db_prepare(m->db,
		"INSERT OR IGNORE INTO packs (course, from_rev, to_rev, sha256,"
		" data) VALUES (?, ?, ?, ?, ?)");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, sha, sizeof(sha), SQLITE_STATIC);
	sqlite3_bind_blob64(st, 5, pack.data, pack.len, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc)
		log_error("msg=\"cannot store pack\" course=%s error=\"%s\"",
			  course, sqlite3_errmsg(m->db));
	sqlite3_finalize(st);
	log_debug("msg=\"pack ready\" course=%s from=%s to=%s bytes=%zu",
		  course, *from ? from : "-", to, pack.len);
out:
	buf_release(&pack);
	free(repo);
	return rc;
}

/* Every (course, from, to) some licence needs and no pack covers yet. */
static const char publish_missing_packs_sql[] =
	"SELECT DISTINCT l.course, l.stream_rev, c.revision"
	" FROM licences l JOIN courses c ON c.id = l.course"
	" WHERE c.revision IS NOT NULL AND l.stream_rev != c.revision"
	" AND NOT EXISTS (SELECT 1 FROM packs p WHERE p.course = l.course"
	" AND p.from_rev = l.stream_rev AND p.to_rev = c.revision)";

struct publish_pack_need {
	char course[65], from[41], to[41];
};

/* Collects what is missing first: a read statement left open across the
 * inserts would turn into a write transaction that SQLite refuses at
 * once (no busy wait) if the daemon wrote in between. */
static int publish_build_packs(struct mother *m)
{
	sqlite3_stmt *st = db_prepare(m->db, publish_missing_packs_sql);
	struct publish_pack_need *need = NULL, *grown;
	size_t n = 0;
	int rc = 0;

	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		grown = realloc(need, (n + 1) * sizeof(*need));
		if (!grown) {
			rc = -1;
			break;
		}
		need = grown;
		snprintf(need[n].course, 65, "%s", db_text(st, 0));
		snprintf(need[n].from, 41, "%s", db_text(st, 1));
		snprintf(need[n].to, 41, "%s", db_text(st, 2));
		n++;
	}
	sqlite3_finalize(st);
	/* a pack that cannot be built holds back its own course only: the
	 * events of the others are still written */
	for (size_t i = 0; i < n; i++)
		if (publish_ensure_pack(m, need[i].course, need[i].from,
					need[i].to))
			rc = -1;
	free(need);
	return rc;
}

/* Appends one event per licence that is behind, in one transaction:
 * seq = last_seq + 1, the licence's stream moves to the revision. */
static const char publish_events_sql[] =
	"SELECT l.tenant, l.course, l.stream_rev, c.revision, p.id,"
	" c.published_at FROM licences l JOIN courses c ON c.id = l.course"
	" JOIN packs p ON p.course = l.course AND p.from_rev = l.stream_rev"
	" AND p.to_rev = c.revision"
	" WHERE c.revision IS NOT NULL AND l.stream_rev != c.revision"
	" ORDER BY l.tenant, l.course";

static const char publish_append_sql[] =
	"INSERT INTO events (tenant, seq, course, prev_rev, new_rev, kind,"
	" time, pack) VALUES (?1, (SELECT last_seq + 1 FROM tenants"
	" WHERE id = ?1), ?2, ?3, ?4, 1, ?6, ?5);"
	"UPDATE tenants SET last_seq = last_seq + 1 WHERE id = ?1;"
	"UPDATE licences SET stream_rev = ?4 WHERE tenant = ?1"
	" AND course = ?2;";

static int publish_append_one(sqlite3 *db, sqlite3_stmt *row)
{
	const char *sql = publish_append_sql, *tail;
	int rc = 0;

	while (!rc && *sql) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK)
			return -1;
		if (!st)
			break;
		for (int i = 1; i <= 6; i++)
			if (i <= sqlite3_bind_parameter_count(st))
				sqlite3_bind_value(st, i,
						   sqlite3_column_value(row,
									i - 1));
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
		sql = tail;
	}
	return rc;
}

static int publish_append_events(struct mother *m)
{
	sqlite3_stmt *st;
	int count = 0;

	if (db_begin(m->db))
		return -1;
	st = db_prepare(m->db, publish_events_sql);
	if (!st)
		goto fail;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (publish_append_one(m->db, st)) {
			log_error("msg=\"cannot append event\" error=\"%s\"",
				  sqlite3_errmsg(m->db));
			goto fail;
		}
		count++;
	}
	sqlite3_finalize(st);
	if (db_commit(m->db))
		goto fail_nost;
	return count;
fail:
	sqlite3_finalize(st);
fail_nost:
	db_rollback(m->db);
	return -1;
}

static int publish_course_ids(struct mother *m, const char *only,
			      char ***ids, size_t *n)
{
	sqlite3_stmt *st = db_prepare(m->db,
		"SELECT id FROM courses WHERE ?1 IS NULL OR id = ?1"
		" ORDER BY id");

	*ids = NULL;
	*n = 0;
	if (!st)
		return -1;
	if (only)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char **grown = realloc(*ids, (*n + 1) * sizeof(char *));
		if (!grown)
			break;
		*ids = grown;
		(*ids)[(*n)++] = strdup(db_text(st, 0));
	}
	sqlite3_finalize(st);
	return 0;
}

static int publish_catch_up_locked(struct mother *m, const char *course)
{
	char **ids;
	size_t n;
	int rc = 0, count;

	if (publish_course_ids(m, course, &ids, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] && publish_sync_course(m, ids[i]))
			rc = -1;
		free(ids[i]);
	}
	free(ids);
	/* tenants licensed for all courses get new courses too */
	if (db_exec(m->db,
		    "INSERT OR IGNORE INTO licences (tenant, course)"
		    " SELECT t.id, c.id FROM tenants t, courses c"
		    " WHERE t.all_courses = 1"))
		return -1;
	if (publish_build_packs(m))
		rc = -1;
	count = publish_append_events(m);
	if (count > 0)
		log_info("msg=\"events written\" count=%d", count);
	return rc || count < 0 ? -1 : count;
}

int publish_catch_up(struct mother *m, const char *course)
{
	int fd = publish_lock(m), rc;

	if (fd < 0)
		return -1;
	rc = publish_catch_up_locked(m, course);
	publish_unlock(fd);
	if (rc > 0)
		publish_poke(m);
	return rc;
}

void publish_poke(const struct mother *m)
{
	char *sock = mother_path(m, "mother.sock");
	struct buf reply;

	buf_init(&reply);
	if (sock)
		control_request(sock, "poke", &reply);
	buf_release(&reply);
	free(sock);
}

/* ---- publishing a directory ---- */

static int publish_validate_dir(const char *dir, char id[65])
{
	struct course_reader reader;
	struct course_error err;
	struct course_info info;
	char msg[600];

	course_reader_dir(&reader, dir);
	if (course_validate(&reader, NULL, &info, &err)) {
		course_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "lms-mother: %s\n", msg);
		return -1;
	}
	snprintf(id, 65, "%s", info.id);
	course_info_release(&info);
	return 0;
}

static int publish_commit(struct mother *m, const char *id, const char *dir,
			  const char *message, char rev[41])
{
	git_repository *repo = NULL;
	char *path = mother_course_repo(m, id);
	int rc = -1;

	if (path && !gitstore_open(path, 0, &repo))
		rc = gitstore_commit_dir(repo, PUBLISH_MAIN, dir, message,
					 "lms-mother", rev);
	git_repository_free(repo);
	free(path);
	return rc;
}

int publish_dir(struct mother *m, const char *dir, const char *message,
		char rev[41])
{
	char id[65], *path;
	int fd, rc = -1;

	if (publish_validate_dir(dir, id))
		return -1;
	path = mother_course_repo(m, id);
	fd = path ? publish_lock(m) : -1;
	if (fd < 0) {
		free(path);
		return -1;
	}
	if (fs_exists(path) || !publish_make_course(m, id, path))
		rc = publish_commit(m, id, dir, message ? message : "Publish",
				    rev);
	if (rc == 1) {
		fprintf(stderr, "lms-mother: %s is unchanged, nothing to "
				"publish\n", id);
		rc = 0;
	}
	if (!rc)
		rc = publish_catch_up_locked(m, id) < 0 ? -1 : 0;
	publish_unlock(fd);
	free(path);
	if (!rc)
		publish_poke(m);
	return rc;
}
