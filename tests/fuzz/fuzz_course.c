/*
 * libFuzzer target for the course validator (common/course.c).
 *
 * The input is served as course.json through a reader over memory. Any
 * other .json path (a quiz) is served the same bytes, so one input can be
 * a course and a quiz at once and the fuzzer reaches the quiz checks too;
 * .md paths get a small fixed lesson, everything else is missing. The
 * reader honours the size limit like the real ones.
 *
 * A seed that is valid both ways:
 *   {"format": 1, "id": "c", "title": "T", "pass_percent": 50,
 *    "lessons": [{"id": "q", "title": "Q", "quiz": "quizzes/q.json"}],
 *    "questions": [{"id": "q1", "text": "?", "choices": ["a", "b"],
 *                   "answer": [1]}]}
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/course.h"

struct fuzz_input {
	const uint8_t *data;
	size_t len;
};

static int fuzz_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !memcmp(s + n - m, suffix, m);
}

static int fuzz_read(void *ctx, const char *path, size_t max,
		     struct buf *out)
{
	static const char lesson[] = "# Lektion\n\nHände waschen.\n";
	const struct fuzz_input *in = ctx;

	if (fuzz_ends_with(path, ".json")) {
		if (in->len > max)
			return -EFBIG;
		return buf_append(out, in->data, in->len);
	}
	if (fuzz_ends_with(path, ".md")) {
		if (sizeof(lesson) - 1 > max)
			return -EFBIG;
		return buf_append_str(out, lesson);
	}
	return -ENOENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct course_reader r = { fuzz_read, &in, 0 };
	struct course_error err;
	struct course_info info;
	char text[600];

	/* A small limit now and then, to reach the size checks. */
	if (size && data[0] == ' ')
		r.max_file = size / 2 + 1;

	if (course_validate(&r, size & 1 ? "c" : NULL, &info, &err) == 0) {
		if (!info.title || !info.lessons || !info.lesson_count)
			__builtin_trap();
		course_info_release(&info);
	} else if (!err.reason[0]) {
		__builtin_trap();
	}
	course_error_format(&err, text, sizeof(text));
	return 0;
}
