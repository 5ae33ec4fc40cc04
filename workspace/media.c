/*
 * Media files of courses (workspace/media.h). The request is checked on
 * the loop: who asks, whether they may take the course, which revision
 * the workspace holds and whether the path stays under media/. Finding
 * the file in that revision's tree and reading its blob happen on the
 * thread pool; the answer goes out on the loop, straight from the blob's
 * buffer, which the job keeps until then. A conditional request whose
 * ETag still matches is answered without reading the blob at all.
 */
#include "workspace/media.h"

#include "common/db.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/ids.h"
#include "common/log.h"
#include "workspace/apply.h"
#include "workspace/assign.h"
#include "workspace/auth.h"
#include "workspace/store.h"

#include <git2.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MEDIA_PREFIX "/api/v1/courses/"
#define MEDIA_SEGMENT "/media/"
#define MEDIA_DIR "media/"
#define MEDIA_SVG "image/svg+xml"
/* an SVG opened on its own is a document: no script, no outside loads */
#define MEDIA_SVG_CSP "sandbox; default-src 'none'; style-src 'unsafe-inline'"
#define MEDIA_IMMUTABLE "private, max-age=31536000, immutable"
#define MEDIA_REVALIDATE "private, no-cache"

/* ---- byte ranges (RFC 9110 section 14) ---- */

static const char *media_blanks(const char *p)
{
	return p + strspn(p, " \t");
}

/* Reads the digits at *p, saturating at UINT64_MAX; 0 when none. */
static int media_number(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned d;

	if (*s < '0' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned)(*s - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*p = s;
	*out = v;
	return 1;
}

/* The suffix range "-n" at *p (after the '-'). */
static int media_suffix(const char **p, uint64_t len, uint64_t *first,
			uint64_t *last)
{
	uint64_t n;

	if (!media_number(p, &n))
		return -1;
	if (n == 0 || len == 0)
		return 0;
	*first = n >= len ? 0 : len - n;
	*last = len - 1;
	return 1;
}

/* One range-spec at *p, which is left after it: 1 when satisfiable, with
 * *first and *last; 0 when not; -1 when malformed. */
static int media_spec(const char **p, uint64_t len, uint64_t *first,
		      uint64_t *last)
{
	uint64_t a, b = UINT64_MAX;

	if (**p == '-') {
		(*p)++;
		return media_suffix(p, len, first, last);
	}
	if (!media_number(p, &a) || **p != '-')
		return -1;
	(*p)++;
	if (media_number(p, &b) && b < a)
		return -1;
	if (a >= len)
		return 0;
	*first = a;
	*last = b >= len ? len - 1 : b;
	return 1;
}

int media_range_parse(const char *header, uint64_t len, uint64_t *first,
		      uint64_t *last)
{
	unsigned specs = 0, satisfiable = 0;
	uint64_t a = 0, b = 0, scratch;
	const char *p;
	int rc;

	if (!header)
		return MEDIA_RANGE_NONE;
	p = media_blanks(header);
	if (strncasecmp(p, "bytes=", 6))
		return MEDIA_RANGE_NONE;
	for (p += 6; *(p = media_blanks(p));) {
		if (*p == ',') { /* an empty list element */
			p++;
			continue;
		}
		/* only the first range is kept: more get the whole file */
		rc = specs ? media_spec(&p, len, &scratch, &scratch)
			   : media_spec(&p, len, &a, &b);
		if (rc < 0)
			return MEDIA_RANGE_NONE;
		specs++;
		satisfiable += rc;
		p = media_blanks(p);
		if (*p && *p != ',')
			return MEDIA_RANGE_NONE;
	}
	if (!specs)
		return MEDIA_RANGE_NONE;
	if (!satisfiable)
		return MEDIA_RANGE_UNSATISFIABLE;
	if (specs > 1)
		return MEDIA_RANGE_NONE;
	*first = a;
	*last = b;
	return MEDIA_RANGE_ONE;
}

/* ---- paths and types ---- */

int media_path_valid(const char *rest)
{
	size_t n, len = strlen(rest);
	const char *p = rest;

	if (!len || len > MEDIA_PATH_MAX)
		return 0;
	for (const unsigned char *c = (const unsigned char *)rest; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '\\')
			return 0;
	for (;;) {
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}

static const struct media_type {
	const char *ext;
	const char *type;
} media_types[] = {
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "svg", MEDIA_SVG },
	{ "pdf", "application/pdf" },
	{ "mp3", "audio/mpeg" },
	{ "m4a", "audio/mp4" },
	{ "ogg", "audio/ogg" },
	{ "oga", "audio/ogg" },
	{ "wav", "audio/wav" },
	{ "mp4", "video/mp4" },
	{ "m4v", "video/mp4" },
	{ "webm", "video/webm" },
	{ "ogv", "video/ogg" },
	{ "vtt", "text/vtt; charset=utf-8" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "json", "application/json" },
};

const char *media_content_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	for (size_t i = 0; dot && i < sizeof(media_types) /
					 sizeof(media_types[0]); i++)
		if (!strcasecmp(dot + 1, media_types[i].ext))
			return media_types[i].type;
	return "application/octet-stream";
}

/* 1 when the If-None-Match list (entity tags, weak or strong, or "*")
 * holds "id". */
static int media_etag_listed(const char *list, const char *id)
{
	size_t idlen = strlen(id), n;
	const char *p = list;

	while (p && *(p = media_blanks(p))) {
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == idlen + 2 && p[0] == '"' && p[n - 1] == '"' &&
		    !strncmp(p + 1, id, idlen))
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

/* 1 when the raw query has v=id among its parameters. */
static int media_query_pins(const char *query, const char *id)
{
	size_t idlen = strlen(id), n;
	const char *p = query;

	for (; *p; p += n + (p[n] == '&')) {
		n = strcspn(p, "&");
		if (n == idlen + 2 && !strncmp(p, "v=", 2) &&
		    !strncmp(p + 2, id, idlen))
			return 1;
	}
	return 0;
}

/* ---- finding the file ---- */

/* The id of the regular file at path in the tree of revision rev into
 * out: STORE_ENOTFOUND when there is none (a directory, a link or a
 * submodule count as none), STORE_EREVISION when rev has no tree. */
static int media_find(git_repository *repo, const char *rev,
		      const char *path, git_oid *out)
{
	git_tree_entry *e = NULL;
	git_tree *tree = NULL;
	git_filemode_t mode;
	int rc = STORE_ENOTFOUND;

	if (gitstore_tree(repo, rev, &tree))
		return STORE_EREVISION;
	if (!git_tree_entry_bypath(&e, tree, path)) {
		mode = git_tree_entry_filemode(e);
		if (mode == GIT_FILEMODE_BLOB ||
		    mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
			git_oid_cpy(out, git_tree_entry_id(e));
			rc = 0;
		}
	}
	git_tree_entry_free(e);
	git_tree_free(tree);
	return rc;
}

/* The held revision of course into rev (GIT_OID_HEXSZ + 1 bytes). */
static int media_revision(sqlite3 *db, const char *course, char *rev)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT revision FROM courses "
					  "WHERE id = ?1");
	int step, rc = STORE_ENOTFOUND;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, course, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && strlen(db_text(st, 0)) == GIT_OID_HEXSZ) {
		strcpy(rev, db_text(st, 0));
		rc = 0;
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		log_error("msg=\"media query failed\" error=\"%s\"",
			  sqlite3_errmsg(db));
		rc = STORE_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- the work on the thread pool ---- */

struct media_job {
	uv_work_t work;
	struct api_ctx *api;
	struct http_exchange *x;
	uint64_t req_id;
	char course[IDS_MAX + 1];
	char revision[GIT_OID_HEXSZ + 1];
	char path[sizeof(MEDIA_DIR) + MEDIA_PATH_MAX];
	char *repo_path;
	char *if_none_match; /* a copy, or NULL */
	const char *query;   /* borrowed from the exchange, raw */
	int is_get;	     /* else HEAD */
	/* what the work found */
	int rc;
	char id[GIT_OID_HEXSZ + 1];
	int not_modified;
	git_repository *repo;
	git_blob *blob; /* freed after the answer is sent */
};

static void media_job_free(struct media_job *j)
{
	git_blob_free(j->blob);
	git_repository_free(j->repo);
	free(j->repo_path);
	free(j->if_none_match);
	free(j);
}

static void media_work(uv_work_t *w)
{
	struct media_job *j = w->data;
	git_oid oid;

	if (gitstore_open(j->repo_path, 0, &j->repo)) {
		j->rc = STORE_EDB;
		return;
	}
	if ((j->rc = media_find(j->repo, j->revision, j->path, &oid)))
		return;
	git_oid_tostr(j->id, sizeof(j->id), &oid);
	if (j->if_none_match && media_etag_listed(j->if_none_match, j->id)) {
		j->not_modified = 1;
		return;
	}
	if (git_blob_lookup(&j->blob, j->repo, &oid)) {
		log_error("msg=\"media blob cannot be read\" course=%s "
			  "blob=%s error=\"%s\"", j->course, j->id,
			  git_error_last() ? git_error_last()->message : "");
		j->rc = STORE_EREVISION;
	}
}

/* ---- the answer, on the loop ---- */

/* The headers every answer about the file carries. */
static void media_validators(struct media_job *j)
{
	char etag[GIT_OID_HEXSZ + 3];

	snprintf(etag, sizeof(etag), "\"%s\"", j->id);
	http_add_header(j->x, "ETag", etag);
	http_add_header(j->x, "Cache-Control",
			media_query_pins(j->query, j->id) ? MEDIA_IMMUTABLE
							    : MEDIA_REVALIDATE);
	http_add_header(j->x, "Accept-Ranges", "bytes");
}

/* The Range header to follow: none for HEAD (range handling is defined
 * for GET only) and none when an If-Range names another version. */
static const char *media_range_header(struct media_job *j)
{
	const char *if_range = http_header(j->x, "If-Range");
	char etag[GIT_OID_HEXSZ + 3];

	if (!j->is_get)
		return NULL;
	snprintf(etag, sizeof(etag), "\"%s\"", j->id);
	if (if_range && strcmp(media_blanks(if_range), etag))
		return NULL;
	return http_header(j->x, "Range");
}

static void media_send(struct media_job *j)
{
	const uint8_t *data = git_blob_rawcontent(j->blob);
	uint64_t len = (uint64_t)git_blob_rawsize(j->blob), first, last;
	const char *type = media_content_type(j->path);
	char range[80];

	if (!strcmp(type, MEDIA_SVG))
		http_add_header(j->x, "Content-Security-Policy",
				MEDIA_SVG_CSP);
	switch (media_range_parse(media_range_header(j), len, &first,
				  &last)) {
	case MEDIA_RANGE_ONE:
		snprintf(range, sizeof(range),
			 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last,
			 len);
		http_add_header(j->x, "Content-Range", range);
		http_respond(j->x, 206, type, data + first,
			     (size_t)(last - first + 1));
		break;
	case MEDIA_RANGE_UNSATISFIABLE:
		snprintf(range, sizeof(range), "bytes */%" PRIu64, len);
		http_add_header(j->x, "Content-Range", range);
		http_respond_error(j->x, 416, "range_not_satisfiable",
				   "the range lies outside the file");
		break;
	default:
		http_respond(j->x, 200, type, data, (size_t)len);
	}
}

static void media_answer(struct media_job *j)
{
	if (j->rc == STORE_ENOTFOUND) {
		http_respond_error(j->x, 404, "not_found", "no such file");
		return;
	}
	if (j->rc) {
		log_error("msg=\"media request failed\" tenant=%s req=%llu "
			  "course=%s revision=%s error=\"%s\"", j->api->tenant,
			  (unsigned long long)j->req_id, j->course,
			  j->revision, store_strerror(j->rc));
		http_respond_error(j->x, 500, "internal",
				   "the file cannot be read");
		return;
	}
	media_validators(j);
	if (j->not_modified)
		http_respond(j->x, 304, NULL, NULL, 0);
	else
		media_send(j);
}

static void media_work_done(uv_work_t *w, int status)
{
	struct media_job *j = w->data;

	if (status)
		http_respond_error(j->x, 503, "unavailable",
				   "the server is stopping");
	else
		media_answer(j);
	media_job_free(j);
}

/* ---- the request ---- */

/* A job for the file rest of course at revision rev. */
static struct media_job *media_job_new(struct api_ctx *api,
				       struct http_exchange *x,
				       const struct http_request *req,
				       const char *course, const char *rev,
				       const char *rest)
{
	struct media_job *j = calloc(1, sizeof(*j));
	const char *inm = http_header(x, "If-None-Match");

	if (!j)
		return NULL;
	j->work.data = j;
	j->api = api;
	j->x = x;
	j->req_id = req->id;
	j->query = req->query;
	j->is_get = !strcmp(req->method, "GET");
	snprintf(j->course, sizeof(j->course), "%s", course);
	snprintf(j->revision, sizeof(j->revision), "%s", rev);
	snprintf(j->path, sizeof(j->path), MEDIA_DIR "%s", rest);
	j->repo_path = fs_join(api->data_dir, APPLY_REPO_DIR);
	if (inm)
		j->if_none_match = strdup(inm);
	if (!j->repo_path || (inm && !j->if_none_match)) {
		media_job_free(j);
		return NULL;
	}
	return j;
}

/* 0 and the held revision of course in rev when me may read its files;
 * STORE_ENOTFOUND when the course is not held or not theirs. */
static int media_access(struct api_ctx *api, const struct people_user *me,
			const char *course, char *rev)
{
	int rc;

	if (me->role != PEOPLE_ROLE_ADMIN &&
	    (rc = assign_user_has(api->db, me->id, course)))
		return rc;
	return media_revision(api->db, course, rev);
}

static void media_start(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req, const char *course,
			const char *rest)
{
	char rev[GIT_OID_HEXSZ + 1];
	struct people_user me;
	struct media_job *j;
	int rc;

	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me))
		return;
	rc = media_access(api, &me, course, rev);
	if (rc == STORE_ENOTFOUND) {
		http_respond_error(x, 404, "not_found", "no such course");
		return;
	}
	if (rc) {
		log_error("msg=\"media access check failed\" tenant=%s "
			  "req=%llu course=%s error=\"%s\"", api->tenant,
			  (unsigned long long)req->id, course,
			  store_strerror(rc));
		http_respond_error(x, 500, "internal",
				   "the course cannot be read");
		return;
	}
	if (!media_path_valid(rest)) {
		http_respond_error(x, 404, "not_found", "no such file");
		return;
	}
	if (!(j = media_job_new(api, x, req, course, rev, rest))) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	if (uv_queue_work(api->loop, &j->work, media_work, media_work_done)) {
		media_job_free(j);
		http_respond_error(x, 503, "unavailable",
				   "cannot read the file now");
	}
}

/* Splits /api/v1/courses/{id}/media/{rest}: 1 with the id in course
 * (IDS_MAX + 1 bytes) and *rest pointing into path. */
static int media_parse(const char *path, char *course, const char **rest)
{
	const char *p = path + strlen(MEDIA_PREFIX);
	size_t n;

	if (strncmp(path, MEDIA_PREFIX, strlen(MEDIA_PREFIX)))
		return 0;
	n = strcspn(p, "/");
	if (n == 0 || n > IDS_MAX ||
	    strncmp(p + n, MEDIA_SEGMENT, strlen(MEDIA_SEGMENT)))
		return 0;
	memcpy(course, p, n);
	course[n] = '\0';
	*rest = p + n + strlen(MEDIA_SEGMENT);
	return ids_valid(course);
}

int media_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req)
{
	char course[IDS_MAX + 1];
	const char *rest;

	if (!media_parse(req->path, course, &rest))
		return 0;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_add_header(x, "Allow", "GET, HEAD");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	media_start(api, x, req, course, rest);
	return 1;
}
