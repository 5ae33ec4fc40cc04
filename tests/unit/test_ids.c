/*
 * Unit tests for common/ids: which strings are ids (1 to 64 characters of
 * a-z, 0-9 and '-') and which are revisions (40 lower-case hex digits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/ids.h"

/* A string of n copies of c in out (n + 1 bytes). */
static const char *repeat(char *out, char c, size_t n)
{
	memset(out, c, n);
	out[n] = 0;
	return out;
}

static void test_ids_valid(void **state)
{
	static const char *const good[] = {
		"a", "0", "-", "hygiene-basics", "intro", "q1", "2027",
		"abcdefghijklmnopqrstuvwxyz-0123456789",
	};
	char s[80];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (ids_valid(good[i]) != 1)
			fail_msg("refused id \"%s\"", good[i]);
	assert_int_equal(ids_valid(repeat(s, 'x', 63)), 1);
	assert_int_equal(ids_valid(repeat(s, 'x', IDS_MAX)), 1);
	assert_int_equal(IDS_MAX, 64);
}

static void test_ids_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"Intro",
		"INTRO",
		"hygiene_basics",
		"two words",
		" lead",
		"trail ",
		"a.b",
		"a/b",
		"../etc",
		"tab\there",
		"line\n",
		"caf\xc3\xa9",
		"\xff",
	};
	char s[80];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ids_valid(bad[i]) != 0)
			fail_msg("accepted id \"%s\"", bad[i]);
	assert_int_equal(ids_valid(repeat(s, 'x', IDS_MAX + 1)), 0);
	assert_int_equal(ids_valid(repeat(s, '7', 79)), 0);

	/* A bad character anywhere counts, also after 64 good ones. */
	repeat(s, 'a', IDS_MAX);
	s[IDS_MAX - 1] = 'A';
	assert_int_equal(ids_valid(s), 0);
}

static void test_revision(void **state)
{
	const char *rev = "0123456789abcdef0123456789abcdef01234567";
	char s[64];

	(void)state;
	assert_int_equal(strlen(rev), IDS_REVISION_LEN);
	assert_int_equal(ids_is_revision(rev), 1);
	assert_int_equal(ids_is_revision(repeat(s, 'f', 40)), 1);
	assert_int_equal(ids_is_revision(repeat(s, '0', 40)), 1);

	assert_int_equal(ids_is_revision(repeat(s, 'a', 39)), 0);
	assert_int_equal(ids_is_revision(repeat(s, 'a', 41)), 0);
	assert_int_equal(ids_is_revision(""), 0);
	assert_int_equal(ids_is_revision("abc"), 0);
}

static void test_revision_bad_digits(void **state)
{
	const char *rev = "0123456789abcdef0123456789abcdef01234567";
	static const char not_hex[] = { 'A', 'F', 'g', 'z', ' ', '-', 'x' };
	char s[64];

	(void)state;
	for (size_t i = 0; i < sizeof(not_hex); i++) {
		for (size_t pos = 0; pos < IDS_REVISION_LEN; pos += 13) {
			strcpy(s, rev);
			s[pos] = not_hex[i];
			if (ids_is_revision(s))
				fail_msg("accepted \"%s\"", s);
		}
	}
	assert_int_equal(
		ids_is_revision("0123456789ABCDEF0123456789ABCDEF01234567"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_valid),
		cmocka_unit_test(test_ids_invalid),
		cmocka_unit_test(test_revision),
		cmocka_unit_test(test_revision_bad_digits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
