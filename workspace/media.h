/*
 * The media files of a course, served to the people who may take it.
 *
 *   GET|HEAD /api/v1/courses/{id}/media/{path...}
 *
 * The file is media/{path} in the tree of the course's held revision in
 * content.git. A signed-in user to whom the course is assigned, or an
 * admin, gets it; anyone else gets the same 404 as for a course that does
 * not exist. The answer carries the Content-Type of the file's extension
 * (an SVG with a Content-Security-Policy that keeps its scripts from
 * running), ETag "<blob id>", Accept-Ranges: bytes, and Cache-Control:
 * "private, max-age=31536000, immutable" when the query has v=<blob id>
 * (the URL then names this content for good), else "private, no-cache".
 * If-None-Match with the ETag gets 304; one byte range gets 206 with
 * Content-Range, an unsatisfiable one 416 with a Content-Range that
 * gives only the length; several ranges get the whole file (200).
 *
 * The blob is read from git on the loop's thread pool, never on the
 * loop.
 */
#ifndef LMS_WORKSPACE_MEDIA_H
#define LMS_WORKSPACE_MEDIA_H

#include <stdint.h>

#include "common/http.h"
#include "workspace/api.h"

/* Longest path after /media/ that is looked up, in bytes. */
#define MEDIA_PATH_MAX 1024

/* What media_range_parse() found. */
enum media_range {
	MEDIA_RANGE_ONE = 0,		/* one satisfiable range */
	MEDIA_RANGE_NONE = 1,		/* answer the whole file */
	MEDIA_RANGE_UNSATISFIABLE = -1, /* answer 416 */
};

/* Reads the Range header value (NULL when absent) against a file of len
 * bytes. MEDIA_RANGE_ONE with the inclusive byte positions in *first and
 * *last for one satisfiable "bytes=a-b", "bytes=a-" or "bytes=-n" (a last
 * position past the end is cut to it; so is a suffix longer than the
 * file); MEDIA_RANGE_UNSATISFIABLE when no range of the set is
 * satisfiable (a first position at or past the end, a suffix of zero, any
 * range of an empty file); MEDIA_RANGE_NONE for no header, another unit,
 * a malformed set (which RFC 9110 says to ignore) and for a set of more
 * than one range with at least one satisfiable. The unit is matched
 * without regard to case; blanks are allowed around the list's commas
 * and at both ends; numbers too large for 64 bits count as the largest
 * position. */
int media_range_parse(const char *header, uint64_t len, uint64_t *first,
		      uint64_t *last);

/* 1 when rest (the decoded path after /media/) names a file that may be
 * looked up under media/: not empty, at most MEDIA_PATH_MAX bytes, of
 * segments that are neither empty, "." nor "..", without control
 * characters or backslashes; 0 otherwise. */
int media_path_valid(const char *rest);

/* The Content-Type for a file name by its extension (any case);
 * "application/octet-stream" when unknown. Static, never NULL. */
const char *media_content_type(const char *path);

/* Answers req when its path is one of this module's; see api_route_fn. */
int media_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req);

#endif
