/*
 * Unit tests of common/httpauth.c: cookies by exact name among others,
 * with blanks around them; bearer tokens with the scheme in any case;
 * and the refusals (absent, another scheme, a value that does not fit,
 * a name that is only a prefix of another); the CSRF check (reads pass,
 * writes only with the session's token, whole and exact).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/httpauth.h"

static void test_cookie(void **state)
{
	char v[16];

	(void)state;
	assert_int_equal(httpauth_cookie("a=1; lms_session=abc; b=2",
					 "lms_session", v, sizeof(v)), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(httpauth_cookie(" lms_session=x \t", "lms_session",
					 v, sizeof(v)), 0);
	assert_string_equal(v, "x");
	assert_int_equal(httpauth_cookie("lms_session=", "lms_session", v,
					 sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(httpauth_cookie("xlms_session=1; lms_sessionx=2",
					 "lms_session", v, sizeof(v)), -1);
	assert_int_equal(httpauth_cookie("lms_session=0123456789abcdef",
					 "lms_session", v, sizeof(v)), -1);
	assert_int_equal(httpauth_cookie("", "lms_session", v, sizeof(v)),
			 -1);
	assert_int_equal(httpauth_cookie(";;;", "lms_session", v, sizeof(v)),
			 -1);
}

static void test_bearer(void **state)
{
	char t[8];

	(void)state;
	assert_int_equal(httpauth_bearer("Bearer abc", t, sizeof(t)), 0);
	assert_string_equal(t, "abc");
	assert_int_equal(httpauth_bearer("bEaReR   abc", t, sizeof(t)), 0);
	assert_string_equal(t, "abc");
	assert_int_equal(httpauth_bearer("Basic abc", t, sizeof(t)), -1);
	assert_int_equal(httpauth_bearer("Bearer", t, sizeof(t)), -1);
	assert_int_equal(httpauth_bearer("Bearer 12345678", t, sizeof(t)),
			 -1);
	assert_int_equal(httpauth_bearer("", t, sizeof(t)), -1);
}

static void test_csrf(void **state)
{
	const char *token = "0123456789abcdef";

	(void)state;
	assert_int_equal(httpauth_csrf_ok("GET", NULL, token, 16), 1);
	assert_int_equal(httpauth_csrf_ok("HEAD", "wrong", token, 16), 1);
	assert_int_equal(httpauth_csrf_ok("POST", token, token, 16), 1);
	assert_int_equal(httpauth_csrf_ok("DELETE", token, token, 16), 1);
	assert_int_equal(httpauth_csrf_ok("POST", NULL, token, 16), 0);
	assert_int_equal(httpauth_csrf_ok("POST", "", token, 16), 0);
	assert_int_equal(httpauth_csrf_ok("PUT", "0123456789abcdeF", token,
					  16), 0);
	assert_int_equal(httpauth_csrf_ok("PATCH", "0123456789abcde", token,
					  16), 0);
	assert_int_equal(httpauth_csrf_ok("POST", "0123456789abcdef0", token,
					  16), 0);
	assert_int_equal(httpauth_csrf_ok("get", token, "x", 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_csrf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
