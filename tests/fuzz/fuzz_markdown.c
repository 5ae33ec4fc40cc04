/*
 * libFuzzer target for the lesson renderer (common/markdown.c).
 *
 * The input is rendered as a lesson at lessons/l.md (or, when it starts
 * with '.', at the course root, to reach the other resolution branch).
 The output must hold no "<script" and no "<iframe" (case insensitive),
 * and every href and src must start with the media prefix, "http:",
 * "https:", "mailto:", "//" or '#', or be empty, which rules out
 * javascript:, vbscript:, data: and file: in any spelling. The words may
 * appear in text, alt and title (cmark escapes '<', '>', '&' and '"'
 * there, so they cannot start a tag or an attribute).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/markdown.h"

#define FUZZ_PREFIX "/api/v1/courses/c/media/"

static int fuzz_has_ci(const char *s, const char *needle)
{
	for (; *s; s++)
		if (!strncasecmp(s, needle, strlen(needle)))
			return 1;
	return 0;
}

static int fuzz_bad_dest(const char *s)
{
	static const char *const ok[] = { FUZZ_PREFIX, "http:", "https:",
					  "mailto:", "//", "#", "\"" };
	const char *p = s, *v;
	size_t i;

	while ((p = strstr(p, "=\"")) != NULL) {
		v = p + 2;
		if ((p - s >= 4 && !strncmp(p - 4, "href", 4)) ||
		    (p - s >= 3 && !strncmp(p - 3, "src", 3))) {
			for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
				if (!strncasecmp(v, ok[i], strlen(ok[i])))
					break;
			if (i == sizeof(ok) / sizeof(ok[0]))
				return 1;
		}
		p = v;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct markdown_opts o = { .lesson_path = "lessons/l.md",
				   .media_prefix = FUZZ_PREFIX };
	struct buf out = { 0 };
	const char *html;

	if (size && data[0] == '.')
		o.lesson_path = "l.md";
	if (markdown_render((const char *)data, size, &o, &out) < 0)
		return 0;
	html = buf_cstr(&out);
	if (strlen(html) != out.len)
		__builtin_trap();
	if (fuzz_has_ci(html, "<script") || fuzz_has_ci(html, "<iframe") ||
	    fuzz_bad_dest(html))
		__builtin_trap();
	buf_release(&out);
	return 0;
}
