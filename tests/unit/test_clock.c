/*
 * Unit tests for common/clock: parsing and formatting of ISO 8601 UTC
 * times, refusal of malformed or impossible times, and LMS_FAKE_NOW moving
 * the clock to a given start from which it keeps running.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"

static const struct {
	const char *iso;
	int64_t t;
} known_times[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2001-09-09T01:46:40Z", 1000000000 },
	{ "2000-02-29T23:59:59Z", 951868799 },
	{ "2027-01-31T08:00:00Z", 1801382400 },
	{ "2038-01-19T03:14:08Z", 2147483648LL },
	{ "2100-01-01T00:00:00Z", 4102444800LL },
};

static void test_parse_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known_times) / sizeof(known_times[0]);
	     i++) {
		int64_t t = -1;

		assert_int_equal(clock_parse_iso(known_times[i].iso, &t), 0);
		assert_int_equal(t, known_times[i].t);
	}
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2027",
		"2027-01-31",
		"2027-01-31T08:00",
		"2027-01-31 08:00:00Z",
		"2027-01-31T08:00:00Zjunk",
		"2027-01-31T08:00:00+01:00",
		"2027/01/31T08:00:00Z",
		"2027-13-01T00:00:00Z",
		"2027-00-10T00:00:00Z",
		"2027-01-32T00:00:00Z",
		"2027-01-00T00:00:00Z",
		"2027-01-31T24:00:00Z",
		"2027-01-31T08:60:00Z",
		"2027-01-31T08:00:60Z",
		"2027-02-30T00:00:00Z",
		"2027-02-29T00:00:00Z", /* not a leap year */
		"2027-04-31T00:00:00Z",
		"2027-1-31T08:00:00Z",
		" 2027-01-31T08:00:00Z",
		"2027-01-31T8:00:00Z",
	};

	int accepted = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 12345;

		if (clock_parse_iso(bad[i], &t) != -EINVAL) {
			print_error("accepted \"%s\" as %lld\n", bad[i],
				    (long long)t);
			accepted++;
		}
	}
	assert_int_equal(accepted, 0);
}

static void test_format(void **state)
{
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(known_times) / sizeof(known_times[0]);
	     i++) {
		clock_format_iso(known_times[i].t, out, sizeof(out));
		assert_string_equal(out, known_times[i].iso);
	}
	/* 21 bytes is enough, as the header promises. */
	memset(out, 'x', sizeof(out));
	clock_format_iso(1801382400, out, 21);
	assert_string_equal(out, "2027-01-31T08:00:00Z");
}

static void test_round_trip(void **state)
{
	char out[21];
	int64_t back;

	(void)state;
	/* Every 7777777 seconds from 1970 to past 2100. */
	for (int64_t t = 0; t < 4200000000LL; t += 7777777) {
		clock_format_iso(t, out, sizeof(out));
		assert_int_equal(clock_parse_iso(out, &back), 0);
		assert_int_equal(back, t);
	}
}

static void test_real_clock(void **state)
{
	struct lms_clock c;
	int64_t before, now, ms;

	(void)state;
	unsetenv("LMS_FAKE_NOW");
	before = (int64_t)time(NULL);
	assert_int_equal(clock_init(&c), 0);
	now = clock_now(&c);
	ms = clock_now_ms(&c);
	assert_true(now >= before && now <= before + 2);
	assert_true(ms / 1000 >= before && ms / 1000 <= before + 2);

	/* Set but empty is the real clock too. */
	setenv("LMS_FAKE_NOW", "", 1);
	assert_int_equal(clock_init(&c), 0);
	now = clock_now(&c);
	assert_true(now >= before && now <= before + 2);
	unsetenv("LMS_FAKE_NOW");
}

static void check_fake_start(const char *iso, int64_t start)
{
	struct lms_clock c;
	int64_t ms, later;

	setenv("LMS_FAKE_NOW", iso, 1);
	assert_int_equal(clock_init(&c), 0);
	unsetenv("LMS_FAKE_NOW");

	ms = clock_now_ms(&c);
	assert_true(ms >= start * 1000 && ms < start * 1000 + 2000);
	assert_true(clock_now(&c) >= start && clock_now(&c) <= start + 2);

	/* The fake clock runs on at the real pace. */
	usleep(300 * 1000);
	later = clock_now_ms(&c);
	assert_true(later - ms >= 300);
	assert_true(later - ms < 3000);
}

static void test_fake_now(void **state)
{
	(void)state;
	check_fake_start("2027-01-31T08:00:00Z", 1801382400);
	check_fake_start("2001-09-09T01:46:40Z", 1000000000);
}

static void test_fake_now_invalid(void **state)
{
	struct lms_clock c;
	int64_t before, now;

	(void)state;
	setenv("LMS_FAKE_NOW", "tomorrow morning", 1);
	before = (int64_t)time(NULL);
	assert_int_equal(clock_init(&c), -EINVAL);
	now = clock_now(&c);
	assert_true(now >= before && now <= before + 2);

	setenv("LMS_FAKE_NOW", "2027-02-30T08:00:00Z", 1);
	assert_int_equal(clock_init(&c), -EINVAL);
	now = clock_now(&c);
	assert_true(now >= before && now <= before + 2);
	unsetenv("LMS_FAKE_NOW");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_real_clock),
		cmocka_unit_test(test_fake_now),
		cmocka_unit_test(test_fake_now_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
