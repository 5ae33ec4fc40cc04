/*
 * Lesson rendering with libcmark. The lesson is parsed into a tree, the
 * tree is walked once (cmark_iter) to collect raw HTML nodes, links and
 * images, and the collected nodes are then dropped, rewritten or
 * unwrapped before the HTML renderer runs. The renderer's own safe mode
 * (the default since cmark 0.29) stays on as a second line: it would
 * print raw HTML as a comment and blank javascript:, vbscript:, file: and
 * most data: URLs, but the walk below already removed all of those, as
 * it keeps only an allowlist of destinations (see common/markdown.h).
 *
 * Relative destinations are percent-decoded, resolved segment by segment
 * against the lesson's directory, and re-encoded, so "%2e%2e/" cannot
 * leave the course behind the check's back.
 */
#include "common/markdown.h"

#include <cmark.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest course-relative path or rewritten URL handled. */
#define MARKDOWN_PATH_MAX 1024

struct markdown_nodes {
	cmark_node **v;
	size_t n;
	size_t cap;
};

static int markdown_nodes_push(struct markdown_nodes *s, cmark_node *node)
{
	cmark_node **v;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 32;
		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = node;
	return 0;
}

static int markdown_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Appends one path segment of n bytes to path (length *len, cap bytes),
 * handling "." and "..". Returns 0, or -1 when ".." climbs above the
 * course root or the path grows too long.
 */
static int markdown_push_segment(char *path, size_t *len, size_t cap,
				 const char *seg, size_t n)
{
	if (n == 0 || (n == 1 && seg[0] == '.'))
		return 0;
	if (n == 2 && seg[0] == '.' && seg[1] == '.') {
		if (*len == 0)
			return -1;
		while (*len > 0 && path[*len - 1] != '/')
			(*len)--;
		if (*len > 0)
			(*len)--;
		path[*len] = '\0';
		return 0;
	}
	if (*len + 1 + n + 1 > cap)
		return -1;
	if (*len > 0)
		path[(*len)++] = '/';
	memcpy(path + *len, seg, n);
	*len += n;
	path[*len] = '\0';
	return 0;
}

/* Appends the '/'-separated segments of s[0..n) to path; 0 or -1. */
static int markdown_push_path(char *path, size_t *len, size_t cap,
			      const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j < n && s[j] != '/'; j++)
			;
		if (markdown_push_segment(path, len, cap, s + i, j - i) < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

/*
 * Percent-decodes s[0..n) into out (cap bytes, NUL-terminated). Refuses
 * (-1) bad escapes, NUL and other control bytes, and backslashes, which
 * some clients read as '/'.
 */
static int markdown_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, k = 0;
	int c, hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			hi = markdown_hex(s[i + 1]);
			lo = markdown_hex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
		if (k + 1 >= cap)
			return -1;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return 0;
}

/* Appends s percent-encoded, keeping unreserved characters and '/'. */
static int markdown_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3] = { '%', 0, 0 };
	unsigned char c;
	int rc = 0;

	for (; *s && !rc; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~/", c)) {
			rc = buf_append(b, s, 1);
		} else {
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 15];
			rc = buf_append(b, esc, 3);
		}
	}
	return rc;
}

/* 1 when url starts with a scheme ("x:" before any '/', '?' or '#'). */
static int markdown_has_scheme(const char *url, size_t *scheme_len)
{
	size_t i = 0;
	char c;

	if (!((url[0] >= 'a' && url[0] <= 'z') ||
	      (url[0] >= 'A' && url[0] <= 'Z')))
		return 0;
	for (i = 1; (c = url[i]) != '\0'; i++) {
		if (c == ':') {
			*scheme_len = i;
			return 1;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 0;
}

/* 1 for destinations printed as written. */
static int markdown_keep_as_is(const char *url)
{
	static const char *const allowed[] = { "http", "https", "mailto" };
	size_t n, i;

	if (url[0] == '\0' || url[0] == '#')
		return 1;
	if (url[0] == '/' && url[1] == '/')
		return 1;
	if (!markdown_has_scheme(url, &n))
		return 0;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strlen(allowed[i]) == n && !strncasecmp(url, allowed[i], n))
			return 1;
	return 0;
}

/*
 * Resolves the relative path p[0..n) (already decoded) from the lesson
 * directory dir into a course path; 1 when it lands under media/, with
 * the rest after "media/" left in *rest.
 */
static int markdown_in_media(const char *dir, const char *p, char *path,
			     const char **rest)
{
	size_t len = 0;

	path[0] = '\0';
	if (markdown_push_path(path, &len, MARKDOWN_PATH_MAX, dir,
			       strlen(dir)) < 0 ||
	    markdown_push_path(path, &len, MARKDOWN_PATH_MAX, p,
			       strlen(p)) < 0)
		return 0;
	if (strncmp(path, "media/", 6) != 0 || path[6] == '\0')
		return 0;
	*rest = path + 6;
	return 1;
}

/*
 * Builds the served URL for the relative destination url into out.
 * Returns 1 when it was rewritten, 0 when it must be refused, -ENOMEM.
 */
static int markdown_rewrite(const char *url, const char *dir,
			    const struct markdown_opts *o, struct buf *out)
{
	char decoded[MARKDOWN_PATH_MAX], path[MARKDOWN_PATH_MAX];
	char version[MARKDOWN_VERSION_MAX];
	const char *rest, *frag;
	size_t n;

	if (url[0] == '/' || markdown_has_scheme(url, &n))
		return 0;
	n = strcspn(url, "?#");
	if (markdown_decode(url, n, decoded, sizeof(decoded)) < 0)
		return 0;
	if (!markdown_in_media(dir, decoded, path, &rest) &&
	    (strncmp(decoded, "media/", 6) != 0 ||
	     !markdown_in_media("", decoded, path, &rest)))
		return 0;
	frag = strchr(url + n, '#');
	buf_reset(out);
	if (buf_append_str(out, o->media_prefix) < 0 ||
	    (out->len && out->data[out->len - 1] != '/' &&
	     buf_append_str(out, "/") < 0) ||
	    markdown_encode(out, rest) < 0)
		return -ENOMEM;
	if (o->media_version &&
	    !o->media_version(o->media_arg, rest, version, sizeof(version)) &&
	    (buf_append_str(out, "?v=") < 0 ||
	     markdown_encode(out, version) < 0))
		return -ENOMEM;
	if (frag && buf_append_str(out, frag) < 0)
		return -ENOMEM;
	return 1;
}

/* Replaces node by its children (the link text or an image's alt). */
static void markdown_unwrap(cmark_node *node)
{
	cmark_node *child;

	while ((child = cmark_node_first_child(node)) != NULL)
		cmark_node_insert_before(node, child);
	cmark_node_unlink(node);
	cmark_node_free(node);
}

/* Checks one link or image; 0 or -ENOMEM. */
static int markdown_fix_dest(cmark_node *node, const char *dir,
			     const struct markdown_opts *o, struct buf *tmp)
{
	const char *url = cmark_node_get_url(node);
	int rc;

	if (!url)
		url = "";
	if (markdown_keep_as_is(url))
		return 0;
	rc = markdown_rewrite(url, dir, o, tmp);
	if (rc < 0)
		return rc;
	if (rc == 0 || !cmark_node_set_url(node, buf_cstr(tmp))) {
		markdown_unwrap(node);
		return 0;
	}
	return 0;
}

static int markdown_collect(cmark_node *doc, struct markdown_nodes *s)
{
	cmark_iter *it = cmark_iter_new(doc);
	cmark_node_type t;
	int rc = 0;

	if (!it)
		return -ENOMEM;
	while (!rc && cmark_iter_next(it) != CMARK_EVENT_DONE) {
		if (cmark_iter_get_event_type(it) != CMARK_EVENT_ENTER)
			continue;
		t = cmark_node_get_type(cmark_iter_get_node(it));
		if (t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_HTML_INLINE ||
		    t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE)
			rc = markdown_nodes_push(s, cmark_iter_get_node(it));
	}
	cmark_iter_free(it);
	return rc;
}

static int markdown_clean(cmark_node *doc, const char *dir,
			  const struct markdown_opts *o)
{
	struct markdown_nodes s = { 0 };
	struct buf tmp = { 0 };
	cmark_node_type t;
	size_t i;
	int rc;

	rc = markdown_collect(doc, &s);
	for (i = 0; !rc && i < s.n; i++) {
		t = cmark_node_get_type(s.v[i]);
		if (t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_HTML_INLINE) {
			cmark_node_unlink(s.v[i]);
			cmark_node_free(s.v[i]);
		} else {
			rc = markdown_fix_dest(s.v[i], dir, o, &tmp);
		}
	}
	free(s.v);
	buf_release(&tmp);
	return rc;
}

/* The lesson's directory as a checked course path, into dir. */
static int markdown_lesson_dir(const char *lesson, char *dir)
{
	const char *slash;
	size_t len = 0;

	dir[0] = '\0';
	if (!lesson || !lesson[0])
		return 0;
	if (lesson[0] == '/' || strchr(lesson, '\\'))
		return -EINVAL;
	slash = strrchr(lesson, '/');
	if (!slash)
		return 0;
	if (markdown_push_path(dir, &len, MARKDOWN_PATH_MAX, lesson,
			       (size_t)(slash - lesson)) < 0)
		return -EINVAL;
	return 0;
}

int markdown_render(const char *md, size_t len,
		    const struct markdown_opts *o, struct buf *out)
{
	char dir[MARKDOWN_PATH_MAX];
	cmark_node *doc;
	char *html;
	int rc;

	if ((!md && len) || !o || !o->media_prefix || !out)
		return -EINVAL;
	if (len > MARKDOWN_MAX_INPUT)
		return -EFBIG;
	rc = markdown_lesson_dir(o->lesson_path, dir);
	if (rc < 0)
		return rc;
	doc = cmark_parse_document(md ? md : "", len,
				   CMARK_OPT_VALIDATE_UTF8);
	if (!doc)
		return -ENOMEM;
	rc = markdown_clean(doc, dir, o);
	if (rc == 0) {
		html = cmark_render_html(doc, CMARK_OPT_SAFE);
		rc = html ? buf_append_str(out, html) : -ENOMEM;
		free(html);
	}
	cmark_node_free(doc);
	return rc;
}
