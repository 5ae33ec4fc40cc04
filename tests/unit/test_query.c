/*
 * Unit tests of common/query.c: values by name, percent-decoding, and
 * the refusals (bad escapes, NUL bytes, values that do not fit, ids that
 * are not ids).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/query.h"

static void test_finds_by_exact_name(void **state)
{
	char v[16];

	(void)state;
	assert_int_equal(query_get("user=7&state=sent", "state", v,
				   sizeof(v)), 1);
	assert_string_equal(v, "sent");
	assert_int_equal(query_get("xuser=1&user=2", "user", v, sizeof(v)),
			 1);
	assert_string_equal(v, "2");
	assert_int_equal(query_get("user=1&user=2", "user", v, sizeof(v)),
			 1);
	assert_string_equal(v, "1");
	assert_int_equal(query_get("users=1", "user", v, sizeof(v)), 0);
	assert_int_equal(query_get("", "user", v, sizeof(v)), 0);
	assert_int_equal(query_get(NULL, "user", v, sizeof(v)), 0);
}

static void test_decodes(void **state)
{
	char v[16];

	(void)state;
	assert_int_equal(query_get("q=a%20b+c%C3%A4", "q", v, sizeof(v)), 1);
	assert_string_equal(v, "a b c\xc3\xa4");
}

static void test_refuses(void **state)
{
	char v[8];

	(void)state;
	assert_int_equal(query_get("q=", "q", v, sizeof(v)), -1);
	assert_int_equal(query_get("q", "q", v, sizeof(v)), -1);
	assert_int_equal(query_get("q=%2", "q", v, sizeof(v)), -1);
	assert_int_equal(query_get("q=%zz", "q", v, sizeof(v)), -1);
	assert_int_equal(query_get("q=a%00b", "q", v, sizeof(v)), -1);
	assert_int_equal(query_get("q=12345678", "q", v, sizeof(v)), -1);
	assert_int_equal(query_get("q=1234567", "q", v, sizeof(v)), 1);
	assert_string_equal(v, "1234567");
}

static void test_ids(void **state)
{
	int64_t id = 0;

	(void)state;
	assert_int_equal(query_id("user=42", "user", &id), 1);
	assert_int_equal(id, 42);
	assert_int_equal(query_id("user=999999999999999999", "user", &id),
			 1);
	assert_int_equal(id, 999999999999999999LL);
	assert_int_equal(query_id("before=3", "user", &id), 0);
	assert_int_equal(query_id("user=0", "user", &id), -1);
	assert_int_equal(query_id("user=-1", "user", &id), -1);
	assert_int_equal(query_id("user=1x", "user", &id), -1);
	assert_int_equal(query_id("user=9223372036854775808", "user", &id),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_by_exact_name),
		cmocka_unit_test(test_decodes),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
