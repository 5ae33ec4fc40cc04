/*
 * Unit tests of workspace/brand.c: what an admin may set (colours, the
 * name, custom CSS, the logo by its magic bytes) and how the settings
 * and files are kept in workspace.db and shown: defaults until set, a
 * change visible at once, "" back to the default, files with versioned
 * URLs. The sources are compiled in directly, as the unit build links
 * only the shared libraries; auth_require() is not reached here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/brand.c"
#include "../../workspace/store.c"
#include "../../workspace/web.c"

#include "common/fs.h"

#include "ws_fixture.h"

#include <stdlib.h>
#include <string.h>

int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api;
	(void)x;
	(void)req;
	(void)roles;
	(void)out;
	fail_msg("the routes are tested in tests/integration/web.test.mjs");
	return -1;
}

#define NOW 1800000000

static void test_colors(void **state)
{
	static const char *const ok[] = { "#000000", "#1d4e89", "#ABCDEF",
					  "#aBc123" };
	static const char *const bad[] = { "", "#", "#12345", "#1234567",
					   "123456", "#12345g", "#fff",
					   "red", " #123456", "#12 456" };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(brand_color_valid(ok[i]), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (brand_color_valid(bad[i]))
			fail_msg("accepted colour \"%s\"", bad[i]);
	assert_int_equal(brand_color_valid(NULL), 0);
}

static void test_names(void **state)
{
	char longest[BRAND_NAME_MAX + 2];

	(void)state;
	assert_int_equal(brand_name_valid("Acme Academy"), 1);
	assert_int_equal(brand_name_valid("Sonnenhof – K\xc3\xb6ln"), 1);
	assert_int_equal(brand_name_valid(""), 0);
	assert_int_equal(brand_name_valid("   "), 0);
	assert_int_equal(brand_name_valid("Tab\there"), 0);
	assert_int_equal(brand_name_valid("line\nbreak"), 0);
	assert_int_equal(brand_name_valid("bad \xc3("), 0);
	assert_int_equal(brand_name_valid("overlong \xc0\xaf"), 0);
	assert_int_equal(brand_name_valid("surrogate \xed\xa0\x80"), 0);
	assert_int_equal(brand_name_valid(NULL), 0);
	memset(longest, 'a', BRAND_NAME_MAX);
	longest[BRAND_NAME_MAX] = '\0';
	assert_int_equal(brand_name_valid(longest), 1);
	longest[BRAND_NAME_MAX] = 'a';
	longest[BRAND_NAME_MAX + 1] = '\0';
	assert_int_equal(brand_name_valid(longest), 0);
}

static const char *css(const char *s)
{
	return brand_css_check(s, strlen(s));
}

static void test_css(void **state)
{
	static const char *const ok[] = {
		"", "h1 { color: #123456; }\n",
		"@import url(\"/app/extra.css\");",
		"@import '/branding/x.css';", "@IMPORT url( /a.css );",
		"@media (max-width: 40rem) { .x { display: none } }",
		"a::after { content: \"<b>\"; }",
		"/* K\xc3\xb6ln */ body { margin: 0 }",
	};
	static const char *const bad[] = {
		"</style><script>alert(1)</script>",
		"a{}</STYLE >",
		"@import url(https://evil.example/x.css);",
		"@import \"//evil.example/x.css\";",
		"@import 'http://evil.example/x.css';",
		"@import url(/\\evil.example/x.css);",
		"@import x.css;",
		"@\\69mport url(https://evil.example/x.css);",
		"body { color: red } \xff",
	};
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (css(ok[i]))
			fail_msg("refused \"%s\": %s", ok[i], css(ok[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!css(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	big = malloc(BRAND_CSS_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', BRAND_CSS_MAX + 1);
	assert_null(brand_css_check(big, BRAND_CSS_MAX));
	assert_non_null(brand_css_check(big, BRAND_CSS_MAX + 1));
	free(big);
}

/* Only the len bytes given are read: a check that looks past them reads
 * memory that is not the style sheet's (found by ASan on a buffer of
 * exactly len bytes) and judges text that is not part of it. */
static void test_css_reads_only_len(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		int ok;
	} cases[] = {
		{ "a@", 2, 1 },
		{ "a@imp", 5, 1 },
		{ "a@import ", 9, 0 },
		{ "a@import url(", 13, 0 },
		{ "@import \"/", 10, 1 },
		{ "x</sty", 6, 1 },
		{ "a@import //evil.example/x.css", 2, 1 },
		{ "a@\\69mport", 2, 1 },
		{ "x</style>", 3, 1 },
		{ "@import /a.css", 9, 1 },
		{ "@import //evil.example", 10, 0 },
	};
	char *buf;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* the text goes on past len: what follows must not count */
		if ((brand_css_check(cases[i].text, cases[i].len) == NULL) !=
		    cases[i].ok)
			fail_msg("\"%.*s\" should be %s", (int)cases[i].len,
				 cases[i].text, cases[i].ok ? "accepted" :
				 "refused");
		/* nothing past len may be read */
		buf = malloc(cases[i].len);
		assert_non_null(buf);
		memcpy(buf, cases[i].text, cases[i].len);
		assert_int_equal(brand_css_check(buf, cases[i].len) == NULL,
				 cases[i].ok);
		free(buf);
	}
}

static void test_logo_types(void **state)
{
	static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
				       '\n', 0, 0, 0, 13 };
	static const uint8_t jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16 };
	static const uint8_t webp[] = { 'R', 'I', 'F', 'F', 1, 2, 3, 4,
					'W', 'E', 'B', 'P', 'V', 'P' };
	static const uint8_t wav[] = { 'R', 'I', 'F', 'F', 1, 2, 3, 4,
				       'W', 'A', 'V', 'E' };
	static const char text[] = "<svg onload=\"alert(1)\"/>";

	(void)state;
	assert_string_equal(brand_logo_type(png, sizeof(png)), "image/png");
	assert_string_equal(brand_logo_type(jpeg, sizeof(jpeg)),
			    "image/jpeg");
	assert_string_equal(brand_logo_type(webp, sizeof(webp)),
			    "image/webp");
	assert_null(brand_logo_type(wav, sizeof(wav)));
	assert_null(brand_logo_type((const uint8_t *)text, strlen(text)));
	assert_null(brand_logo_type(png, 7));
	assert_null(brand_logo_type(jpeg, 2));
	assert_null(brand_logo_type(NULL, 0));
}

/* The string field of the branding JSON, or NULL for null. */
static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_non_null(v);
	if (cJSON_IsNull(v))
		return NULL;
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_defaults(void **state)
{
	struct ws_fixture *f = *state;
	cJSON *o;

	assert_int_equal(brand_json(f->db, "acme", &o), 0);
	assert_string_equal(str(o, "name"), "acme");
	assert_string_equal(str(o, "primary_color"), BRAND_DEFAULT_PRIMARY);
	assert_string_equal(str(o, "accent_color"), BRAND_DEFAULT_ACCENT);
	assert_string_equal(str(o, "default_language"), "de");
	assert_null(str(o, "logo_url"));
	assert_null(str(o, "css_url"));
	cJSON_Delete(o);
}

static void test_update_and_reset(void **state)
{
	struct ws_fixture *f = *state;
	struct brand_change c = { .name = "Acme Academy",
				  .primary_color = "#112233",
				  .default_language = "en",
				  .css = "h1 { color: red }" };
	const char *url;
	cJSON *o;

	assert_int_equal(brand_update(f->db, &c, NOW), 0);
	assert_int_equal(brand_json(f->db, "acme", &o), 0);
	assert_string_equal(str(o, "name"), "Acme Academy");
	assert_string_equal(str(o, "primary_color"), "#112233");
	assert_string_equal(str(o, "accent_color"), BRAND_DEFAULT_ACCENT);
	assert_string_equal(str(o, "default_language"), "en");
	url = str(o, "css_url");
	assert_non_null(url);
	assert_int_equal(strncmp(url, "/branding/custom.css?v=", 23), 0);
	assert_int_equal(strlen(url), 23 + BRAND_VERSION_LEN);
	cJSON_Delete(o);

	/* NULL leaves a field, "" returns it to the default */
	c = (struct brand_change){ .name = "", .css = "" };
	assert_int_equal(brand_update(f->db, &c, NOW), 0);
	assert_int_equal(brand_json(f->db, "acme", &o), 0);
	assert_string_equal(str(o, "name"), "acme");
	assert_string_equal(str(o, "primary_color"), "#112233");
	assert_null(str(o, "css_url"));
	cJSON_Delete(o);
}

/* The version in a URL "...?v=VERSION" as a new string. */
static char *version(const cJSON *o, const char *key)
{
	const char *url = str(o, key);

	assert_non_null(url);
	return strdup(strstr(url, "?v=") + 3);
}

static void test_logo(void **state)
{
	struct ws_fixture *f = *state;
	static const uint8_t a[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
				     '\n', 1 };
	static const uint8_t b[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
				     '\n', 2 };
	char *va, *vb;
	cJSON *o;

	assert_int_equal(brand_logo_set(f->db, "image/png", a, sizeof(a),
					NOW), 0);
	assert_int_equal(brand_json(f->db, "acme", &o), 0);
	va = version(o, "logo_url");
	assert_int_equal(strncmp(str(o, "logo_url"), "/branding/logo?v=", 17),
			 0);
	cJSON_Delete(o);

	/* a new file, a new URL */
	assert_int_equal(brand_logo_set(f->db, "image/png", b, sizeof(b),
					NOW), 0);
	assert_int_equal(brand_json(f->db, "acme", &o), 0);
	vb = version(o, "logo_url");
	assert_string_not_equal(va, vb);
	cJSON_Delete(o);

	assert_int_equal(brand_logo_set(f->db, NULL, NULL, 0, NOW), 0);
	assert_int_equal(brand_json(f->db, "acme", &o), 0);
	assert_null(str(o, "logo_url"));
	cJSON_Delete(o);
	free(va);
	free(vb);
}

static void test_query_version(void **state)
{
	const char *etag = "0123456789abcdef0123";

	(void)state;
	assert_int_equal(brand_query_version("v=0123456789abcdef", etag), 1);
	assert_int_equal(brand_query_version("x=1&v=0123456789abcdef",
					     etag), 1);
	assert_int_equal(brand_query_version("v=0123456789abcdee", etag), 0);
	assert_int_equal(brand_query_version("v=0123456789abcdef0", etag),
			 0);
	assert_int_equal(brand_query_version("", etag), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_css),
		cmocka_unit_test(test_css_reads_only_len),
		cmocka_unit_test(test_logo_types),
		cmocka_unit_test(test_query_version),
		cmocka_unit_test_setup_teardown(test_defaults, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_update_and_reset, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_logo, ws_setup,
						ws_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
