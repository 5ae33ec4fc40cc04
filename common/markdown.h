/*
 * Lesson rendering: CommonMark (the .md files under lessons/ of a
 * course, DESIGN.md section 5) to an HTML fragment for learners, through
 * libcmark.
 *
 * The output is safe to place inside a page: raw HTML in the lesson is
 * dropped, and every link and image destination is checked before it is
 * printed. Kept as written: http:, https: and mailto: URLs,
 * protocol-relative ones ("//host/...") and fragment-only ones ("#part").
 * Relative destinations are resolved against the lesson's directory; when
 * the result names a file under the course's media/, the destination
 * becomes media_prefix followed by the rest of that path, percent-encoded.
 * As authors commonly write "media/x.png" meaning the course's media
 * directory, a relative path starting with "media/" that does not resolve
 * to media/ from the lesson's directory is read from the course root.
 * Every other destination (other schemes such as javascript:, data:,
 * file:, absolute paths, paths that leave the course or that name files
 * outside media/) is refused: the link or image is removed and its text
 * (for an image, its alt text) is kept.
 */
#ifndef LMS_MARKDOWN_H
#define LMS_MARKDOWN_H

#include <stddef.h>

#include "common/buf.h"

/* Largest lesson accepted, in bytes. */
#define MARKDOWN_MAX_INPUT (2u * 1024 * 1024)

struct markdown_opts {
	/* Path of the lesson inside the course, e.g. "lessons/intro.md";
	 * NULL or "" means a file at the course root. Borrowed. */
	const char *lesson_path;
	/* URL prefix under which the course's media/ directory is served,
	 * e.g. "/api/v1/courses/hygiene-basics/media/" (a missing final '/'
	 * is added). Must not be NULL. Borrowed. */
	const char *media_prefix;
	/* Optional: the version of a media file (its path under media/,
	 * decoded), written as text into out (cap bytes) with 0 returned,
	 * or non-zero when there is none. A version is appended to the
	 * file's URL as "?v=VERSION", so the URL names those bytes and may
	 * be cached for good. */
	int (*media_version)(void *arg, const char *path, char *out,
			     size_t cap);
	void *media_arg;
};

/* Room media_version gets for a version, with its NUL. */
#define MARKDOWN_VERSION_MAX 128

/*
 * Renders len bytes of md (need not be NUL-terminated; invalid UTF-8 is
 * replaced) and appends the HTML to out. Returns 0, -EFBIG when len
 * exceeds MARKDOWN_MAX_INPUT, -EINVAL for a missing argument or a
 * lesson_path that is not a plain relative path, or -ENOMEM (libcmark's
 * own allocations abort the process instead); out is left unchanged on
 * failure. Nothing is logged: the caller knows the lesson.
 */
int markdown_render(const char *md, size_t len,
		    const struct markdown_opts *o, struct buf *out);

#endif
