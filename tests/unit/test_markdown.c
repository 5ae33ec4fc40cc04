/*
 * Unit tests for common/markdown: ordinary lesson markup renders; raw
 * HTML never reaches the page; dangerous destinations in every spelling
 * (case, entities, escapes, whitespace, autolinks, reference links,
 * images) never produce an href or src; relative media links are
 * rewritten to the served prefix and links leaving the course or media/
 * are removed with their text kept; oversized input and bad options are
 * refused; every truncation of a tricky document renders.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/markdown.h"

#define PREFIX "/api/v1/courses/hygiene-basics/media/"

static const struct markdown_opts opts = {
	.lesson_path = "lessons/intro.md", .media_prefix = PREFIX
};

/* Renders md with opts into a fresh buffer, asserting success. */
static char *render(const char *md)
{
	struct buf out = { 0 };

	assert_int_equal(markdown_render(md, strlen(md), &opts, &out), 0);
	assert_int_equal(buf_append(&out, "", 1), 0);
	return (char *)buf_detach(&out, NULL);
}

/* Case-insensitive substring search. */
static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return 0;
}

/*
 * 1 when needle occurs inside a tag (between '<' and '>'). Text of the
 * lesson may say "javascript:" (cmark escapes '<' and '>' in text), but
 * no attribute may.
 */
static int in_tag_ci(const char *html, const char *needle)
{
	size_t n = strlen(needle);
	int inside = 0;

	for (; *html; html++) {
		if (*html == '<')
			inside = 1;
		else if (*html == '>')
			inside = 0;
		else if (inside && !strncasecmp(html, needle, n))
			return 1;
	}
	return 0;
}

/*
 * 1 when an href or src value in html does not start with PREFIX, http://,
 * https://, mailto: or '#'. Every attribute value is checked, after
 * lower-casing and without decoding: cmark escapes '&' in URLs, so an
 * entity-spelled scheme cannot survive to the browser either.
 */
static int has_bad_dest(const char *html)
{
	static const char *const ok[] = { PREFIX, "http://", "https://",
					  "mailto:", "#" };
	const char *p = html, *v;
	size_t i;

	while ((p = strstr(p, "=\"")) != NULL) {
		if (!(p >= html + 4 && (!strncmp(p - 4, "href", 4) ||
					!strncmp(p - 3, "src", 3)))) {
			p += 2;
			continue;
		}
		v = p + 2;
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			if (!strncasecmp(v, ok[i], strlen(ok[i])))
				break;
		if (i == sizeof(ok) / sizeof(ok[0]))
			return 1;
		p = v;
	}
	return 0;
}

static void test_markdown_basic_markup(void **state)
{
	char *h;

	(void)state;
	h = render("# Hände waschen\n\n## Warum\n\n- *erstens*\n- **zweitens**"
		   "\n\n1. eins\n2. zwei\n\n`code` and [web](https://who.int/x)"
		   "\n");
	assert_non_null(strstr(h, "<h1>Hände waschen</h1>"));
	assert_non_null(strstr(h, "<h2>Warum</h2>"));
	assert_non_null(strstr(h, "<ul>\n<li><em>erstens</em></li>"));
	assert_non_null(strstr(h, "<li><strong>zweitens</strong></li>"));
	assert_non_null(strstr(h, "<ol>\n<li>eins</li>"));
	assert_non_null(strstr(h, "<code>code</code>"));
	assert_non_null(strstr(h, "<a href=\"https://who.int/x\">web</a>"));
	free(h);
}

static void test_markdown_appends(void **state)
{
	struct buf out = { 0 };

	(void)state;
	assert_int_equal(buf_append_str(&out, "<main>"), 0);
	assert_int_equal(markdown_render("hi", 2, &opts, &out), 0);
	assert_string_equal(buf_cstr(&out), "<main><p>hi</p>\n");
	assert_int_equal(markdown_render(NULL, 0, &opts, &out), 0);
	assert_string_equal(buf_cstr(&out), "<main><p>hi</p>\n");
	buf_release(&out);
}

static void test_markdown_raw_html_dropped(void **state)
{
	static const char *const docs[] = {
		"<script>alert(1)</script>\n",
		"text <script>alert(1)</script> more\n",
		"<img src=x onerror=alert(1)>\n",
		"para <img src=x onerror=alert(1)> inline\n",
		"<iframe src=\"https://evil\"></iframe>\n",
		"> <IFRAME SRC=x>\n",
		"- <svg onload=alert(1)>\n",
		"<div>\n<script>x</script>\n</div>\n",
		"<!-- c --><script>x</script>\n",
		"<a href=\"javascript:alert(1)\">x</a>\n",
	};
	size_t i;
	char *h;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		h = render(docs[i]);
		assert_false(contains_ci(h, "<script"));
		assert_false(contains_ci(h, "<iframe"));
		assert_false(contains_ci(h, "<img"));
		assert_false(contains_ci(h, "<svg"));
		assert_false(contains_ci(h, "<div"));
		assert_false(contains_ci(h, "onerror"));
		assert_false(contains_ci(h, "<a "));
		free(h);
	}
	/* Code spans and blocks still show HTML as text. */
	h = render("`<script>`\n\n    <iframe>\n");
	assert_non_null(strstr(h, "<code>&lt;script&gt;</code>"));
	assert_non_null(strstr(h, "&lt;iframe&gt;"));
	free(h);
}

static void test_markdown_dangerous_links(void **state)
{
	static const char *const docs[] = {
		"[x](javascript:alert(1))\n",
		"[x](JavaScript:alert(1))\n",
		"[x](JAVASCRIPT:alert(1))\n",
		"[x](&#106;avascript:alert(1))\n",
		"[x](&#x6A;avascript&#58;alert(1))\n",
		"[x](javascript&colon;alert(1))\n",
		"[x](java\\script:alert(1))\n",
		"[x](<javascript:alert(1)>)\n",
		"[x](< javascript:alert(1)>)\n",
		"[x](<java\tscript:alert(1)>)\n",
		"[x](<\tjavascript:alert(1)>)\n",
		"[x](%6Aavascript:alert(1))\n",
		"<javascript:alert(1)>\n",
		"<JaVaScRiPt:alert(1)>\n",
		"[x][r]\n\n[r]: javascript:alert(1)\n",
		"[r]\n\n[r]: <javascript:alert(1)> \"t\"\n",
		"![x](javascript:alert(1))\n",
		"![x][i]\n\n[i]: jAvAsCrIpT:alert(1)\n",
		"[x](vbscript:msgbox(1))\n",
		"[x](file:///etc/passwd)\n",
		"[x](data:text/html;base64,PHNjcmlwdD4=)\n",
		"![x](data:image/svg+xml;base64,PHN2Zz4=)\n",
		"![x](data:image/png;base64,iVBOR)\n",
		"[x](/api/v1/admin/delete)\n",
		"[x](\\\\evil\\share)\n",
		"[![i](javascript:a)](javascript:b)\n",
	};
	size_t i;
	char *h;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		h = render(docs[i]);
		assert_false(in_tag_ci(h, "javascript"));
		assert_false(in_tag_ci(h, "vbscript"));
		assert_false(contains_ci(h, "href=\"file:"));
		assert_false(contains_ci(h, "=\"data:"));
		assert_false(has_bad_dest(h));
		assert_false(contains_ci(h, "<a "));
		assert_false(contains_ci(h, "<img"));
		free(h);
	}
	/* The text of a refused link stays. */
	h = render("see [the note](javascript:alert(1)) here\n");
	assert_string_equal(h, "<p>see the note here</p>\n");
	free(h);
	h = render("![washing hands](file:///x.png)\n");
	assert_string_equal(h, "<p>washing hands</p>\n");
	free(h);
	h = render("<JavaScript:alert(1)>\n");
	assert_string_equal(h, "<p>JavaScript:alert(1)</p>\n");
	free(h);
}

static void test_markdown_media_rewritten(void **state)
{
	char *h;

	(void)state;
	h = render("![hand](../media/hand.svg \"Hand\")\n");
	assert_string_equal(h, "<p><img src=\"" PREFIX "hand.svg\" alt=\"hand\""
			       " title=\"Hand\" /></p>\n");
	free(h);
	h = render("![hand](media/hand.svg)\n");
	assert_non_null(strstr(h, "src=\"" PREFIX "hand.svg\""));
	free(h);
	h = render("[pdf](./../media/docs/a%20b.pdf#page=2)\n");
	assert_non_null(strstr(h, "href=\"" PREFIX "docs/a%20b.pdf#page=2\""));
	free(h);
	h = render("[r][m]\n\n[m]: ../media/x.png\n");
	assert_non_null(strstr(h, "href=\"" PREFIX "x.png\""));
	free(h);
	/* Characters that mean something in a URL are encoded. */
	h = render("[c](../media/a:b?q=1)\n");
	assert_non_null(strstr(h, "href=\"" PREFIX "a%3Ab\""));
	free(h);
	/* Fragments and web links are kept. */
	h = render("[up](#top) [w](http://example.org/) [m](mailto:a@b.c)"
		   " [p](//cdn.example.org/a.png)\n");
	assert_non_null(strstr(h, "href=\"//cdn.example.org/a.png\""));
	assert_non_null(strstr(h, "href=\"#top\""));
	assert_non_null(strstr(h, "href=\"http://example.org/\""));
	assert_non_null(strstr(h, "href=\"mailto:a@b.c\""));
	free(h);
}

static void test_markdown_prefix_and_lesson_dir(void **state)
{
	struct markdown_opts o = { .lesson_path = "lessons/part1/a.md",
				   .media_prefix = "/m" };
	struct buf out = { 0 };
	const char *md = "![a](../../media/a.png) ![b](../media/b.png)";

	(void)state;
	assert_int_equal(markdown_render(md, strlen(md), &o, &out), 0);
	assert_non_null(strstr(buf_cstr(&out), "src=\"/m/a.png\""));
	assert_null(strstr(buf_cstr(&out), "b.png"));
	buf_reset(&out);
	o.lesson_path = "intro.md";
	md = "![a](media/a.png) ![b](../media/b.png)";
	assert_int_equal(markdown_render(md, strlen(md), &o, &out), 0);
	assert_non_null(strstr(buf_cstr(&out), "src=\"/m/a.png\""));
	assert_null(strstr(buf_cstr(&out), "b.png"));
	buf_release(&out);
}

static void test_markdown_leaving_course_removed(void **state)
{
	static const char *const docs[] = {
		"[x](../../etc/passwd)\n",
		"[x](../../media/a.png)\n",
		"[x](media/../../../a.png)\n",
		"[x](../media/../../x)\n",
		"[x](..%2f..%2fmedia/a.png)\n",
		"[x](%2e%2e/%2e%2e/media/a.png)\n",
		"[x](../course.json)\n",
		"[x](other.md)\n",
		"[x](../media/)\n",
		"[x](../media/a%00.png)\n",
		"[x](../media/a%zz.png)\n",
		"[x](../media/a%2)\n",
		"[x](../media\\a.png)\n",
	};
	size_t i;
	char *h;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		h = render(docs[i]);
		assert_string_equal(h, "<p>x</p>\n");
		free(h);
	}
}

static void test_markdown_refusals(void **state)
{
	struct markdown_opts o = { .lesson_path = "lessons/a.md",
				   .media_prefix = PREFIX };
	struct buf out = { 0 };
	size_t big = MARKDOWN_MAX_INPUT + 1;
	char *md = malloc(big);

	(void)state;
	assert_non_null(md);
	memset(md, 'a', big);
	assert_int_equal(markdown_render(md, big, &o, &out), -EFBIG);
	assert_int_equal(out.len, 0);
	assert_int_equal(markdown_render(md, big - 1, &o, &out), 0);
	assert_true(out.len > big - 1);
	buf_reset(&out);
	free(md);

	assert_int_equal(markdown_render("x", 1, NULL, &out), -EINVAL);
	assert_int_equal(markdown_render(NULL, 1, &o, &out), -EINVAL);
	o.media_prefix = NULL;
	assert_int_equal(markdown_render("x", 1, &o, &out), -EINVAL);
	o.media_prefix = PREFIX;
	o.lesson_path = "/etc/a.md";
	assert_int_equal(markdown_render("x", 1, &o, &out), -EINVAL);
	o.lesson_path = "../a/b.md";
	assert_int_equal(markdown_render("x", 1, &o, &out), -EINVAL);
	assert_int_equal(out.len, 0);
	buf_release(&out);
}

static void test_markdown_every_truncation(void **state)
{
	static const char doc[] =
		"# T\n\n> - [a *b* `c`](../media/x%20y.png \"t\")\n"
		">   <script>x</script>\n\n"
		"[r]: <&#106;ava script:x> 'q'\n"
		"1. ![i][r] <https://a.b/c> <javascript:x>\n"
		"   ```js\n   <iframe>\n   ```\n"
		"***x**y*_z_ \\\n[[[[[]]]]]((((\n<div\nonload=x>\n"
		"| a | b |\n|---|---|\n&#x0;&amp;&#xD800;\xff\xfe\x80\n";
	struct buf out = { 0 };
	size_t n;

	(void)state;
	for (n = 0; n <= sizeof(doc) - 1; n++) {
		buf_reset(&out);
		assert_int_equal(markdown_render(doc, n, &opts, &out), 0);
		assert_false(contains_ci(buf_cstr(&out), "<script"));
		assert_false(contains_ci(buf_cstr(&out), "<iframe"));
		assert_false(in_tag_ci(buf_cstr(&out), "javascript"));
		assert_false(has_bad_dest(buf_cstr(&out)));
	}
	buf_release(&out);
}

/* A version for one file only, as the workspace gives blob ids. */
static int version_of(void *arg, const char *path, char *out, size_t cap)
{
	(void)arg;
	if (strcmp(path, "dir/a b.png"))
		return -1;
	snprintf(out, cap, "%s", "0123abcd");
	return 0;
}

static void test_markdown_media_version(void **state)
{
	struct markdown_opts o = { .lesson_path = "lessons/a.md",
				   .media_prefix = "/m/",
				   .media_version = version_of };
	struct buf out = { 0 };
	const char *md = "![a](../media/dir/a%20b.png#x) [b](../media/b.pdf)";

	(void)state;
	assert_int_equal(markdown_render(md, strlen(md), &o, &out), 0);
	assert_non_null(strstr(buf_cstr(&out),
			       "src=\"/m/dir/a%20b.png?v=0123abcd#x\""));
	assert_non_null(strstr(buf_cstr(&out), "href=\"/m/b.pdf\""));
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markdown_basic_markup),
		cmocka_unit_test(test_markdown_appends),
		cmocka_unit_test(test_markdown_raw_html_dropped),
		cmocka_unit_test(test_markdown_dangerous_links),
		cmocka_unit_test(test_markdown_media_rewritten),
		cmocka_unit_test(test_markdown_prefix_and_lesson_dir),
		cmocka_unit_test(test_markdown_leaving_course_removed),
		cmocka_unit_test(test_markdown_refusals),
		cmocka_unit_test(test_markdown_media_version),
		cmocka_unit_test(test_markdown_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
