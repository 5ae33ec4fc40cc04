/*
 * Unit tests for common/buf: growth past the first allocation, appends of
 * nothing, printf, consume, detach, the NUL after the data, and refusal of
 * a reservation that cannot be met.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void test_buf_empty_is_cstr(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_init(&b);
	assert_null(b.data);
	assert_string_equal(buf_cstr(&b), "");
	buf_release(&b);
	assert_string_equal(buf_cstr(&b), "");
}

static void test_buf_append_grows(void **state)
{
	struct buf b;
	char expect[10000];

	(void)state;
	buf_init(&b);
	for (size_t i = 0; i < sizeof(expect); i++) {
		char c = (char)('a' + i % 26);

		expect[i] = c;
		assert_int_equal(buf_append(&b, &c, 1), 0);
		assert_int_equal(b.len, i + 1);
		assert_true(b.cap > b.len);
		assert_int_equal(b.data[b.len], 0);
	}
	assert_memory_equal(b.data, expect, sizeof(expect));
	assert_int_equal(strlen(buf_cstr(&b)), sizeof(expect));
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void test_buf_append_binary(void **state)
{
	const uint8_t bytes[] = { 0, 1, 0, 255, 0 };
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(buf_append(&b, bytes, sizeof(bytes)), 0);
	assert_int_equal(b.len, sizeof(bytes));
	assert_memory_equal(b.data, bytes, sizeof(bytes));
	assert_int_equal(b.data[b.len], 0);
	buf_release(&b);
}

static void test_buf_append_nothing(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_append_str(&b, ""), 0);
	assert_int_equal(b.len, 0);

	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_int_equal(buf_append(&b, "zzz", 0), 0);
	assert_int_equal(b.len, 3);
	assert_string_equal(buf_cstr(&b), "abc");
	buf_release(&b);
}

static void test_buf_append_str(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(buf_append_str(&b, "hello"), 0);
	assert_int_equal(buf_append_str(&b, ", "), 0);
	assert_int_equal(buf_append_str(&b, "world"), 0);
	assert_int_equal(b.len, 12);
	assert_string_equal(buf_cstr(&b), "hello, world");
	buf_release(&b);
}

static void test_buf_printf(void **state)
{
	struct buf b = { 0 };
	char big[5000];

	(void)state;
	assert_int_equal(buf_printf(&b, "n=%d s=%s", 42, "x"), 0);
	assert_string_equal(buf_cstr(&b), "n=42 s=x");
	assert_int_equal(b.len, 8);
	assert_int_equal(buf_printf(&b, " %03d", 7), 0);
	assert_string_equal(buf_cstr(&b), "n=42 s=x 007");

	/* An empty format appends nothing but still leaves a C string. */
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 12);

	/* Output larger than the current capacity. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 12 + 2 + sizeof(big) - 1);
	assert_int_equal(b.data[12], '[');
	assert_int_equal(b.data[b.len - 1], ']');
	assert_int_equal(b.data[b.len], 0);
	buf_release(&b);
}

static void test_buf_printf_empty_buffer(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_release(&b);
}

static void test_buf_reset_keeps_memory(void **state)
{
	struct buf b = { 0 };
	uint8_t *data;
	size_t cap;

	(void)state;
	assert_int_equal(buf_append_str(&b, "some text"), 0);
	data = b.data;
	cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_append_str(&b, "new"), 0);
	assert_string_equal(buf_cstr(&b), "new");
	buf_release(&b);

	/* Resetting a buffer that never held anything is harmless. */
	buf_reset(&b);
	assert_string_equal(buf_cstr(&b), "");
}

static void test_buf_consume(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(buf_append_str(&b, "0123456789"), 0);
	buf_consume(&b, 0);
	assert_string_equal(buf_cstr(&b), "0123456789");
	buf_consume(&b, 3);
	assert_int_equal(b.len, 7);
	assert_string_equal(buf_cstr(&b), "3456789");
	buf_consume(&b, 6);
	assert_int_equal(b.len, 1);
	assert_string_equal(buf_cstr(&b), "9");
	buf_consume(&b, 1);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");

	/* More than held empties the buffer. */
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_append_str(&b, "xy"), 0);
	assert_string_equal(buf_cstr(&b), "xy");
	buf_release(&b);

	/* Consuming from a never-used buffer is harmless. */
	buf_consume(&b, 5);
	assert_int_equal(b.len, 0);
}

static void test_buf_detach(void **state)
{
	struct buf b = { 0 };
	uint8_t *p;
	size_t len = 99;

	(void)state;
	assert_int_equal(buf_append_str(&b, "owned"), 0);
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 5);
	assert_string_equal((char *)p, "owned");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_string_equal(buf_cstr(&b), "");

	/* The buffer is reusable and independent of the detached memory. */
	assert_int_equal(buf_append_str(&b, "again"), 0);
	assert_string_equal((char *)p, "owned");
	free(p);
	p = buf_detach(&b, NULL);
	assert_string_equal((char *)p, "again");
	free(p);

	/* Detaching an empty buffer reports length 0. */
	len = 99;
	p = buf_detach(&b, &len);
	assert_int_equal(len, 0);
	free(p);
}

static void test_buf_reserve(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(buf_reserve(&b, 1000), 0);
	assert_true(b.cap >= 1001);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_int_equal(buf_reserve(&b, 10), 0);
	assert_true(b.cap >= b.len + 11);
	assert_string_equal(buf_cstr(&b), "abc");
	buf_release(&b);
}

static void test_buf_reserve_overflow(void **state)
{
	struct buf b = { 0 };
	uint8_t *data;
	size_t cap;

	(void)state;
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -ENOMEM);
	assert_int_equal(b.len, 0);
	assert_null(b.data);

	assert_int_equal(buf_append_str(&b, "keep"), 0);
	data = b.data;
	cap = b.cap;
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -ENOMEM);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 4), -ENOMEM);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 2), -ENOMEM);

	/* A failed append leaves the buffer as it was. */
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -ENOMEM);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.len, 4);
	assert_string_equal(buf_cstr(&b), "keep");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_empty_is_cstr),
		cmocka_unit_test(test_buf_append_grows),
		cmocka_unit_test(test_buf_append_binary),
		cmocka_unit_test(test_buf_append_nothing),
		cmocka_unit_test(test_buf_append_str),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_printf_empty_buffer),
		cmocka_unit_test(test_buf_reset_keeps_memory),
		cmocka_unit_test(test_buf_consume),
		cmocka_unit_test(test_buf_detach),
		cmocka_unit_test(test_buf_reserve),
		cmocka_unit_test(test_buf_reserve_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
