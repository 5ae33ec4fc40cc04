/*
 * libFuzzer target for what admins and browsers send to the branding and
 * web-page paths (workspace/brand.c, workspace/web.c): the custom CSS,
 * the logo's bytes, colours and names, page paths and If-None-Match.
 *
 * The CSS and the logo are handed over in a buffer of exactly their
 * length, without a NUL after them, so a read past the end is caught by
 * the sanitizer. What must hold besides: accepted CSS holds no "</style"
 * in any case; a logo type is given only for data that starts with that
 * type's magic bytes; an accepted colour is '#' and six hex digits; an
 * accepted page path has no empty part, no part starting with '.', and
 * no character outside letters, digits, '.', '_', '-' and '/'.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../workspace/brand.c"
#include "../../workspace/store.c"
#include "../../workspace/web.c"

/* The routes are not fuzzed here: the check of credentials they call is
 * never reached. */
int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api, (void)x, (void)req, (void)roles, (void)out;
	return -1;
}

static int fuzz_has_style_end(const char *s, size_t n)
{
	for (size_t i = 0; i + 7 <= n; i++)
		if (!strncasecmp(s + i, "</style", 7))
			return 1;
	return 0;
}

static void fuzz_css(const uint8_t *data, size_t size)
{
	char *css = malloc(size ? size : 1);

	if (!css)
		return;
	memcpy(css, data, size);
	if (!brand_css_check(css, size) && fuzz_has_style_end(css, size))
		abort();
	free(css);
}

static void fuzz_logo(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	const char *type;

	if (!copy)
		return;
	memcpy(copy, data, size);
	type = brand_logo_type(copy, size);
	if (type && !strcmp(type, "image/png") &&
	    (size < 8 || memcmp(copy, "\x89PNG", 4)))
		abort();
	if (type && !strcmp(type, "image/jpeg") &&
	    (size < 3 || memcmp(copy, "\xff\xd8\xff", 3)))
		abort();
	if (type && !strcmp(type, "image/webp") &&
	    (size < 12 || memcmp(copy, "RIFF", 4) ||
	     memcmp(copy + 8, "WEBP", 4)))
		abort();
	free(copy);
}

static void fuzz_color(const char *s)
{
	if (!brand_color_valid(s))
		return;
	if (strlen(s) != 7 || s[0] != '#')
		abort();
	for (int i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)s[i]))
			abort();
}

static void fuzz_path(const char *s)
{
	const char *p = s;

	if (!web_path_safe(s))
		return;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || p[0] == '.')
			abort();
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) &&
			    !strchr("._-", p[i]))
				abort();
		if (!p[n])
			break;
		p += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	fuzz_css(data, size);
	fuzz_logo(data, size);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0; /* up to the first NUL, as a C string */
	fuzz_color(text);
	brand_name_valid(text);
	fuzz_path(text);
	web_etag_matches(text, "\"12-34\"");
	free(text);
	return 0;
}
