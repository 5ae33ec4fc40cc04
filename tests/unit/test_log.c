/*
 * Unit tests for common/log: log_quote() escaping, control characters and
 * truncation within the given capacity, and log lines on stderr with their
 * fields and level filtering. stderr is pointed at a temporary file while
 * a test logs, then restored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/log.h"

/* stderr's descriptor while it is captured, and the capture file. */
struct capture {
	int saved;
	FILE *file;
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	assert_non_null(c->file);
	c->saved = dup(2);
	assert_true(c->saved >= 0);
	assert_int_equal(dup2(fileno(c->file), 2), 2);
}

/* Restores stderr and returns everything written meanwhile. */
static void capture_end(struct capture *c, struct buf *out)
{
	char chunk[4096];
	size_t n;

	fflush(stderr);
	assert_int_equal(dup2(c->saved, 2), 2);
	close(c->saved);
	rewind(c->file);
	while ((n = fread(chunk, 1, sizeof(chunk), c->file)) > 0)
		assert_int_equal(buf_append(out, chunk, n), 0);
	fclose(c->file);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_quote_plain(void **state)
{
	char out[64];

	(void)state;
	assert_ptr_equal(log_quote("hello world", out, sizeof(out)), out);
	assert_string_equal(out, "\"hello world\"");
	assert_string_equal(log_quote("", out, sizeof(out)), "\"\"");
	assert_string_equal(log_quote(NULL, out, sizeof(out)), "\"\"");
}

static void test_quote_escapes(void **state)
{
	char out[64];

	(void)state;
	log_quote("say \"hi\" \\ ok", out, sizeof(out));
	assert_string_equal(out, "\"say \\\"hi\\\" \\\\ ok\"");
	log_quote("\"", out, sizeof(out));
	assert_string_equal(out, "\"\\\"\"");
}

static void test_quote_control_chars(void **state)
{
	char out[64];

	(void)state;
	/* A value must not be able to start a new log line. */
	log_quote("a\nb\rc\td\x01" "e\x1f", out, sizeof(out));
	assert_string_equal(out, "\"a b c d e \"");
	assert_null(strchr(out, '\n'));
}

static void test_quote_truncates(void **state)
{
	char long_value[200], out[16];

	(void)state;
	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = 0;
	log_quote(long_value, out, sizeof(out));
	assert_true(strlen(out) < sizeof(out));
	assert_int_equal(out[0], '"');
	assert_non_null(strstr(out, "...\""));
	assert_string_equal(out + strlen(out) - 4, "...\"");
	assert_true(strlen(out) >= 8);
	for (size_t i = 1; i < strlen(out) - 4; i++)
		assert_int_equal(out[i], 'x');
}

/*
 * Undoes the escaping of a quoted value into plain (without the quotes
 * and a final "..."); returns 1 when the value was marked as truncated.
 */
static int unquote(const char *q, char *plain)
{
	size_t len = strlen(q), end = len - 1;
	int truncated = 0;

	assert_true(len >= 2);
	assert_int_equal(q[0], '"');
	assert_int_equal(q[end], '"');
	if (len >= 5 && !strncmp(q + end - 3, "...", 3)) {
		truncated = 1;
		end -= 3;
	}
	for (size_t i = 1; i < end; i++) {
		if (q[i] == '\\') {
			i++;
			assert_true(i < end);
			assert_true(q[i] == '\\' || q[i] == '"');
		} else {
			assert_true(q[i] != '"');
		}
		*plain++ = q[i];
	}
	*plain = 0;
	return truncated;
}

/* Every capacity and many inputs: the result fits, no byte past cap is
 * touched, and it reads back as a prefix of the input. */
static void test_quote_never_overflows(void **state)
{
	static const char *const inputs[] = {
		"abcdefghijklmnopqrstuvwxyz0123456789",
		"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
		"\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\",
		"a\"b\\c\"d\\e\"f\\g\"h\\i\"j\\k\"l\\m\"n",
		"ab\"cd\"ef\"gh\"ij\"kl\"mn\"op\"qr\"st",
		"short",
	};
	char area[128], plain[128];

	(void)state;
	for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
		for (unsigned cap = 8; cap < 64; cap++) {
			const char *in = inputs[k];
			int truncated;

			memset(area, 0x7f, sizeof(area));
			log_quote(in, area, cap);
			for (size_t i = cap; i < sizeof(area); i++)
				assert_int_equal(area[i], 0x7f);
			assert_true(strlen(area) < cap);

			truncated = unquote(area, plain);
			assert_int_equal(strncmp(plain, in, strlen(plain)), 0);
			if (!truncated)
				assert_string_equal(plain, in);
			else
				assert_true(strlen(plain) < strlen(in));
		}
	}
}

static void test_quote_tiny_capacity(void **state)
{
	char out[8];

	(void)state;
	for (unsigned cap = 1; cap < 8; cap++) {
		memset(out, 'z', sizeof(out));
		log_quote("value", out, cap);
		assert_true(strlen(out) < cap);
		for (unsigned i = cap; i < sizeof(out); i++)
			assert_int_equal(out[i], 'z');
	}
	memset(out, 'z', sizeof(out));
	log_quote("value", out, 0);
	assert_int_equal(out[0], 'z');
}

static void test_log_line_format(void **state)
{
	struct capture c;
	struct buf got = { 0 };
	const char *line, *rest;
	struct tm tm;
	time_t now = time(NULL), logged;

	(void)state;
	unsetenv("LMS_LOG_LEVEL");
	log_init("test-log", LOG_INFO);
	capture_start(&c);
	log_info("msg=\"hello\" tenant=%s n=%d", "acme", 7);
	capture_end(&c, &got);

	line = buf_cstr(&got);
	assert_int_equal(count_lines(line), 1);
	assert_int_equal(strncmp(line, "ts=", 3), 0);

	/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ, close to now. */
	memset(&tm, 0, sizeof(tm));
	rest = strptime(line + 3, "%Y-%m-%dT%H:%M:%S", &tm);
	assert_non_null(rest);
	assert_true(rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' &&
		    rest[2] >= '0' && rest[2] <= '9' && rest[3] >= '0' &&
		    rest[3] <= '9' && rest[4] == 'Z');
	logged = timegm(&tm);
	assert_true(logged >= now - 5 && logged <= now + 5);

	assert_string_equal(rest + 5, " level=info prog=test-log msg=\"hello\" "
				      "tenant=acme n=7\n");
	buf_release(&got);
}

static void test_log_level_filter(void **state)
{
	struct capture c;
	struct buf got = { 0 };
	const char *s;

	(void)state;
	unsetenv("LMS_LOG_LEVEL");
	log_init("test-log", LOG_WARN);
	capture_start(&c);
	log_debug("msg=\"d\"");
	log_info("msg=\"i\"");
	log_warn("msg=\"w\"");
	log_error("msg=\"e\"");
	capture_end(&c, &got);

	s = buf_cstr(&got);
	assert_int_equal(count_lines(s), 2);
	assert_null(strstr(s, "msg=\"d\""));
	assert_null(strstr(s, "msg=\"i\""));
	assert_non_null(strstr(s, " level=warn prog=test-log msg=\"w\"\n"));
	assert_non_null(strstr(s, " level=error prog=test-log msg=\"e\"\n"));
	assert_true(strstr(s, "msg=\"w\"") < strstr(s, "msg=\"e\""));
	buf_release(&got);

	log_init("test-log", LOG_ERROR);
	capture_start(&c);
	log_warn("msg=\"w\"");
	log_error("msg=\"e\"");
	capture_end(&c, &got);
	assert_int_equal(count_lines(buf_cstr(&got)), 1);
	assert_non_null(strstr(buf_cstr(&got), "level=error"));
	buf_release(&got);
}

static void test_log_level_from_env(void **state)
{
	struct capture c;
	struct buf got = { 0 };

	(void)state;
	setenv("LMS_LOG_LEVEL", "debug", 1);
	log_init("test-env", LOG_WARN);
	unsetenv("LMS_LOG_LEVEL");
	capture_start(&c);
	log_debug("msg=\"d\"");
	log_info("msg=\"i\"");
	capture_end(&c, &got);
	assert_int_equal(count_lines(buf_cstr(&got)), 2);
	assert_non_null(strstr(buf_cstr(&got),
			       " level=debug prog=test-env msg=\"d\"\n"));
	assert_non_null(strstr(buf_cstr(&got),
			       " level=info prog=test-env msg=\"i\"\n"));
	buf_release(&got);

	/* An unknown value leaves the level the program asked for. */
	setenv("LMS_LOG_LEVEL", "chatty", 1);
	log_init("test-env", LOG_WARN);
	unsetenv("LMS_LOG_LEVEL");
	capture_start(&c);
	log_info("msg=\"i\"");
	log_warn("msg=\"w\"");
	capture_end(&c, &got);
	assert_int_equal(count_lines(buf_cstr(&got)), 1);
	assert_non_null(strstr(buf_cstr(&got), "level=warn"));
	buf_release(&got);
}

static void test_log_long_message_one_line(void **state)
{
	struct capture c;
	struct buf got = { 0 };
	char big[5000];

	(void)state;
	unsetenv("LMS_LOG_LEVEL");
	log_init("test-log", LOG_INFO);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	capture_start(&c);
	log_info("msg=\"%s\"", big);
	log_info("msg=\"after\"");
	capture_end(&c, &got);
	assert_int_equal(count_lines(buf_cstr(&got)), 2);
	assert_non_null(strstr(buf_cstr(&got), "msg=\"yyyy"));
	assert_non_null(strstr(buf_cstr(&got), "msg=\"after\"\n"));
	buf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_plain),
		cmocka_unit_test(test_quote_escapes),
		cmocka_unit_test(test_quote_control_chars),
		cmocka_unit_test(test_quote_truncates),
		cmocka_unit_test(test_quote_never_overflows),
		cmocka_unit_test(test_quote_tiny_capacity),
		cmocka_unit_test(test_log_line_format),
		cmocka_unit_test(test_log_level_filter),
		cmocka_unit_test(test_log_level_from_env),
		cmocka_unit_test(test_log_long_message_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
