/*
 * Unit tests of workspace/web.c: which paths below the web root may be
 * served (nothing outside it, no hidden file), the content type by
 * extension and the comparison of If-None-Match with an ETag. The source
 * is compiled in directly, as the unit build links only the shared
 * libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/web.c"

static void test_safe_paths(void **state)
{
	static const char *const ok[] = {
		"index.html", "app/main.js", "app/i18n/de.js",
		"app/style.css", "app/img/logo-2x.png", "app/a_b.c.json",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(web_path_safe(ok[i]), 1);
}

static void test_unsafe_paths(void **state)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "app/../../etc/passwd", "app/..",
		"..", "app/./main.js", "app/.hidden", ".git/config",
		"app//main.js", "app/", "app/main.js/", "app\\..\\x",
		"app/ma in.js", "app/%2e%2e/x", "app/\xc3\xa4.js",
		"app/x?y", "app/main.js\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (web_path_safe(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void test_long_path_refused(void **state)
{
	char path[300];

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(web_path_safe(path), 0);
	path[200] = '\0';
	assert_int_equal(web_path_safe(path), 1);
}

static void test_content_types(void **state)
{
	(void)state;
	assert_string_equal(web_content_type("index.html"),
			    "text/html; charset=utf-8");
	assert_string_equal(web_content_type("app/main.js"),
			    "text/javascript; charset=utf-8");
	assert_string_equal(web_content_type("app/style.css"),
			    "text/css; charset=utf-8");
	assert_string_equal(web_content_type("app/logo.svg"),
			    "image/svg+xml");
	assert_string_equal(web_content_type("app/a.png"), "image/png");
	assert_string_equal(web_content_type("app/f.woff2"), "font/woff2");
	assert_string_equal(web_content_type("app/m.json"),
			    "application/json");
	assert_null(web_content_type("app/run.sh"));
	assert_null(web_content_type("app/README"));
	assert_null(web_content_type(".js"));
}

static void test_etag_matching(void **state)
{
	const char *etag = "\"1a-2b.3c\"";

	(void)state;
	assert_int_equal(web_etag_matches(NULL, etag), 0);
	assert_int_equal(web_etag_matches("", etag), 0);
	assert_int_equal(web_etag_matches("\"1a-2b.3c\"", etag), 1);
	assert_int_equal(web_etag_matches("W/\"1a-2b.3c\"", etag), 1);
	assert_int_equal(web_etag_matches("\"x\", \"1a-2b.3c\"", etag), 1);
	assert_int_equal(web_etag_matches("\"x\" , \"1a-2b.3c\" ", etag), 1);
	assert_int_equal(web_etag_matches("*", etag), 1);
	assert_int_equal(web_etag_matches("\"1a-2b.3\"", etag), 0);
	assert_int_equal(web_etag_matches("\"1a-2b.3c\"x", etag), 0);
	assert_int_equal(web_etag_matches("1a-2b.3c", etag), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_paths),
		cmocka_unit_test(test_unsafe_paths),
		cmocka_unit_test(test_long_path_refused),
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_etag_matching),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
