/*
 * Unit tests of common/metrics.c: the HELP and TYPE lines, samples with
 * and without a label, escaping of label values and help texts, and the
 * HTTP family of a server that answered nothing yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/metrics.h"

static void test_family_and_samples(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(metrics_family(&b, "lms_mail_queue", "gauge",
					"mails not sent yet"), 0);
	assert_int_equal(metrics_sample(&b, "lms_mail_queue", "state",
					"queued", 3), 0);
	assert_int_equal(metrics_sample(&b, "lms_mail_queue", NULL, NULL,
					1234567890123.0), 0);
	assert_string_equal(buf_cstr(&b),
			    "# HELP lms_mail_queue mails not sent yet\n"
			    "# TYPE lms_mail_queue gauge\n"
			    "lms_mail_queue{state=\"queued\"} 3\n"
			    "lms_mail_queue 1234567890123\n");
	buf_release(&b);
}

static void test_escaping(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(metrics_family(&b, "x", "counter",
					"a \"help\"\nwith \\"), 0);
	assert_int_equal(metrics_sample(&b, "x", "tenant", "a\"b\\c\nd", 0.5),
			 0);
	assert_string_equal(buf_cstr(&b),
			    "# HELP x a \"help\"\\nwith \\\\\n"
			    "# TYPE x counter\n"
			    "x{tenant=\"a\\\"b\\\\c\\nd\"} 0.5\n");
	buf_release(&b);
}

static void test_http_without_answers(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(metrics_http(&b, NULL), 0);
	assert_string_equal(buf_cstr(&b),
			    "# HELP lms_http_requests_total HTTP answers "
			    "sent, by status code\n"
			    "# TYPE lms_http_requests_total counter\n");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_http_without_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
