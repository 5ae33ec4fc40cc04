/*
 * Unit tests of common/utf8.c: well-formed sequences of each length are
 * taken; overlong forms, surrogates, values past U+10FFFF, stray or
 * missing continuation bytes and sequences cut by the end are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/utf8.h"

static int ok(const char *s)
{
	return utf8_valid(s, strlen(s));
}

static void test_utf8_good(void **state)
{
	(void)state;
	assert_true(ok(""));
	assert_true(ok("plain ASCII"));
	assert_true(ok("Köln, Straße"));		/* 2 bytes */
	assert_true(ok("\xe2\x82\xac"));		/* U+20AC, 3 */
	assert_true(ok("\xf0\x9f\x98\x80"));		/* U+1F600, 4 */
	assert_true(ok("\xf4\x8f\xbf\xbf"));		/* U+10FFFF */
	assert_true(ok("\xef\xbf\xbd"));		/* U+FFFD */
	assert_true(utf8_valid("a\0b", 3));		/* NUL is UTF-8 */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa4", 2),
			 2);
}

static void test_utf8_bad(void **state)
{
	(void)state;
	assert_false(ok("\xc0\xaf"));			/* overlong '/' */
	assert_false(ok("\xe0\x80\xaf"));		/* overlong, 3 */
	assert_false(ok("\xf0\x80\x80\xaf"));		/* overlong, 4 */
	assert_false(ok("\xed\xa0\x80"));		/* U+D800 */
	assert_false(ok("\xf4\x90\x80\x80"));		/* past U+10FFFF */
	assert_false(ok("\xf5\x80\x80\x80"));
	assert_false(ok("\x80"));			/* stray */
	assert_false(ok("\xc3"));			/* cut */
	assert_false(ok("\xc3\x28"));			/* no continuation */
	assert_false(ok("ok \xe2\x82"));		/* cut at the end */
	assert_false(ok("\xff"));
	/* a sequence is never read past what may be read */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x82\xac",
				      2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_good),
		cmocka_unit_test(test_utf8_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
