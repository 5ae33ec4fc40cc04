/*
 * Tests of the course package format (common/course.c): a valid course
 * read from a directory and from a git tree gives the expected course
 * info; every refusal names the file and a reason an author can act on;
 * damaged course.json and quiz files (every truncation, every flipped
 * bit) give an error and never crash; and the sample courses shipped in
 * deploy/courses pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/course.h"
#include "common/fs.h"

/* A file of a test course; mode GIT_FILEMODE_LINK makes data the target
 * of a symbolic link. */
struct test_file {
	const char *path;
	const char *data;
	unsigned mode;
};

/* No trailing newline: every proper prefix is invalid JSON. */
static const char test_course_json[] =
	"{\"format\": 1, \"id\": \"hygiene-basics\",\n"
	" \"title\": {\"de\": \"Hygiene-Grundlagen\", "
	"\"en\": \"Hygiene basics\"},\n"
	" \"summary\": {\"de\": \"Kurz\", \"en\": \"Short\"},\n"
	" \"language\": \"de\", \"duration_minutes\": 45,\n"
	" \"certificate\": {\"valid_months\": 12}, \"retrain_on\": \"any\",\n"
	" \"lessons\": [\n"
	"  {\"id\": \"intro\", \"title\": {\"de\": \"Einf\xc3\xbchrung\", "
	"\"en\": \"Introduction\"}, \"file\": \"lessons/intro.md\"},\n"
	"  {\"id\": \"hands\", \"title\": {\"en\": \"Hand hygiene\"}, "
	"\"file\": \"lessons/hands.md\"},\n"
	"  {\"id\": \"gloves\", \"title\": \"Handschuhe\", "
	"\"file\": \"lessons/gloves.md\"},\n"
	"  {\"id\": \"check\", \"title\": {\"en\": \"Check\", "
	"\"de\": \"Wissenstest\"}, \"quiz\": \"quizzes/check.json\"}]}";

static const char test_quiz_json[] =
	"{\"pass_percent\": 80, \"questions\": [\n"
	" {\"id\": \"q1\", \"text\": {\"de\": \"Wie lange?\", "
	"\"en\": \"How long?\"},\n"
	"  \"choices\": [\"10 s\", \"30 s\", {\"de\": \"1 min\"}], "
	"\"answer\": [1]},\n"
	" {\"id\": \"q2\", \"text\": \"Welche?\", "
	"\"choices\": [\"a\", \"b\", \"c\"], \"answer\": [0, 2]}]}";

static const struct test_file test_valid[] = {
	{ "course.json", test_course_json, 0 },
	{ "lessons/intro.md", "# Einf\xc3\xbchrung\n\n![Bild](media/a.svg)\n",
	  0 },
	{ "lessons/hands.md", "# H\xc3\xa4nde\n\nWaschen.\n", 0 },
	{ "lessons/gloves.md", "# Handschuhe\n", 0 },
	{ "quizzes/check.json", test_quiz_json, 0 },
	{ "media/a.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>", 0 },
	{ NULL, NULL, 0 },
};

/* A course.json around a lessons array, for tests about lessons. */
#define TEST_HEAD                                                         \
	"{\"format\": 1, \"id\": \"hygiene-basics\", \"title\": \"T\", " \
	"\"lessons\": "

struct test_dir {
	char root[64];
};

/* ---- helpers ---- */

static void test_put(const char *root, const char *path, const char *data,
		     unsigned mode)
{
	char *full = fs_join(root, path), *dir;
	FILE *f;

	assert_non_null(full);
	dir = strdup(full);
	assert_int_equal(fs_mkdir_p(dirname(dir), 0755), 0);
	free(dir);
	unlink(full);
	if (mode == GIT_FILEMODE_LINK) {
		assert_int_equal(symlink(data, full), 0);
	} else {
		f = fopen(full, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(data, 1, strlen(data), f),
				 strlen(data));
		assert_int_equal(fclose(f), 0);
	}
	free(full);
}

static void test_remove(const char *root, const char *path)
{
	char *full = fs_join(root, path);

	assert_int_equal(unlink(full), 0);
	free(full);
}

static int test_setup_dir(void **state)
{
	struct test_dir *d = calloc(1, sizeof(*d));
	char *course;

	assert_non_null(d);
	strcpy(d->root, "/tmp/test_course.XXXXXX");
	assert_non_null(mkdtemp(d->root));
	course = fs_join(d->root, "course");
	for (const struct test_file *f = test_valid; f->path; f++)
		test_put(course, f->path, f->data, f->mode);
	free(course);
	*state = d;
	return 0;
}

static int test_teardown_dir(void **state)
{
	struct test_dir *d = *state;

	fs_remove_tree(d->root);
	free(d);
	return 0;
}

/* Validates <root>/course; returns course_validate's result. */
static int test_validate_dir(struct test_dir *d, const char *expect_id,
			     size_t max_file, struct course_info *info,
			     struct course_error *err)
{
	struct course_reader r;
	char *course = fs_join(d->root, "course");
	int rc;

	course_reader_dir(&r, course);
	r.max_file = max_file;
	rc = course_validate(&r, expect_id, info, err);
	free(course);
	return rc;
}

/* Puts one file into the course and expects validation to fail on file
 * with a reason containing reason. */
static void test_refused(struct test_dir *d, const char *path,
			 const char *data, const char *file,
			 const char *reason)
{
	struct course_error err;
	struct course_info info;
	char *course = fs_join(d->root, "course");

	if (path)
		test_put(course, path, data, 0);
	free(course);
	assert_int_equal(test_validate_dir(d, NULL, 0, &info, &err), -1);
	assert_string_equal(err.file, file);
	if (!strstr(err.reason, reason))
		fail_msg("reason \"%s\" lacks \"%s\"", err.reason, reason);
	assert_null(info.lessons);
	assert_null(info.title);
}

static void test_refused_lessons(struct test_dir *d, const char *lessons,
				 const char *file, const char *reason)
{
	char json[2048];

	snprintf(json, sizeof(json), "%s%s}", TEST_HEAD, lessons);
	test_refused(d, "course.json", json, file, reason);
}

static void test_refused_quiz(struct test_dir *d, const char *quiz,
			      const char *reason)
{
	test_refused(d, "quizzes/check.json", quiz, "quizzes/check.json",
		     reason);
}

/* ---- a reader over memory, for the damage loops ---- */

struct test_mem {
	const struct test_file *files;
	const char *override_path; /* served from data/len instead */
	const char *data;
	size_t len;
};

static int test_mem_read(void *ctx, const char *path, size_t max,
			 struct buf *out)
{
	struct test_mem *m = ctx;

	if (!strcmp(path, m->override_path)) {
		if (m->len > max)
			return -EFBIG;
		return buf_append(out, m->data, m->len);
	}
	for (const struct test_file *f = m->files; f->path; f++) {
		if (strcmp(f->path, path))
			continue;
		if (strlen(f->data) > max)
			return -EFBIG;
		return buf_append_str(out, f->data);
	}
	return -ENOENT;
}

static int test_validate_mem(const char *path, const char *data, size_t len,
			     struct course_info *info,
			     struct course_error *err)
{
	struct test_mem m = { test_valid, path, data, len };
	struct course_reader r = { test_mem_read, &m, 0 };

	return course_validate(&r, NULL, info, err);
}

/* ---- valid courses ---- */

static void test_check_valid_info(const struct course_info *info)
{
	assert_string_equal(info->id, "hygiene-basics");
	assert_string_equal(info->language, "de");
	assert_string_equal(info->title, "Hygiene-Grundlagen");
	assert_int_equal(info->duration_minutes, 45);
	assert_int_equal(info->retrain_any, 1);
	assert_int_equal(info->lesson_count, 4);

	assert_string_equal(info->lessons[0].id, "intro");
	assert_string_equal(info->lessons[0].title, "Einf\xc3\xbchrung");
	assert_string_equal(info->lessons[0].file, "lessons/intro.md");
	assert_null(info->lessons[0].quiz);
	/* No German title: the first one given. */
	assert_string_equal(info->lessons[1].title, "Hand hygiene");
	assert_string_equal(info->lessons[2].title, "Handschuhe");
	/* The default language wins even when it is not first. */
	assert_string_equal(info->lessons[3].title, "Wissenstest");
	assert_null(info->lessons[3].file);
	assert_string_equal(info->lessons[3].quiz, "quizzes/check.json");
}

static void test_valid_dir(void **state)
{
	struct course_error err;
	struct course_info info;

	assert_int_equal(test_validate_dir(*state, "hygiene-basics", 0, &info,
					   &err), 0);
	test_check_valid_info(&info);
	assert_string_equal(err.reason, "");
	course_info_release(&info);
	assert_null(info.lessons);
	assert_null(info.title);
}

static void test_valid_without_info_or_error(void **state)
{
	struct test_dir *d = *state;

	assert_int_equal(test_validate_dir(d, NULL, 0, NULL, NULL), 0);
	test_remove(d->root, "course/lessons/hands.md");
	assert_int_equal(test_validate_dir(d, NULL, 0, NULL, NULL), -1);
}

static void test_plain_texts_need_no_language(void **state)
{
	struct course_info info;
	struct course_error err;
	struct test_dir *d = *state;
	char *course = fs_join(d->root, "course");

	test_put(course, "course.json",
		 TEST_HEAD "[{\"id\": \"a\", \"title\": \"A\", "
			   "\"file\": \"lessons/intro.md\"}]}", 0);
	free(course);
	assert_int_equal(test_validate_dir(d, NULL, 0, &info, &err), 0);
	assert_string_equal(info.title, "T");
	assert_string_equal(info.language, "");
	assert_int_equal(info.duration_minutes, 0);
	assert_int_equal(info.retrain_any, 0);
	assert_int_equal(info.lesson_count, 1);
	course_info_release(&info);
}

static void test_symlink_inside_is_fine(void **state)
{
	struct test_dir *d = *state;
	char *course = fs_join(d->root, "course");

	test_put(course, "lessons/gloves.md", "hands.md", GIT_FILEMODE_LINK);
	free(course);
	assert_int_equal(test_validate_dir(d, NULL, 0, NULL, NULL), 0);
}

/* ---- refusals in course.json ---- */

static void test_bad_json(void **state)
{
	struct course_error err;

	test_refused(*state, "course.json", "{\"format\": 1,\n \"id\": }",
		     "course.json", "invalid JSON");
	test_validate_dir(*state, NULL, 0, NULL, &err);
	assert_non_null(strstr(err.reason, "line 2, column 8"));

	test_refused(*state, "course.json", "", "course.json", "invalid JSON");
	test_refused(*state, "course.json", "{} {}", "course.json",
		     "unexpected text after the value");
	test_refused(*state, "course.json", "[1]", "course.json",
		     "must hold a JSON object");
	test_refused(*state, "course.json", "{\"format\": 1, \"id\": \"\xff\"}",
		     "course.json", "not valid UTF-8 (byte 21)");
}

static void test_unknown_format(void **state)
{
	test_refused(*state, "course.json",
		     "{\"format\": 2, \"id\": \"hygiene-basics\"}",
		     "course.json", "unknown format 2");
	test_refused(*state, "course.json", "{\"id\": \"hygiene-basics\"}",
		     "course.json", "missing \"format\"");
	test_refused(*state, "course.json", "{\"format\": \"1\"}",
		     "course.json", "\"format\" must be a number");
}

static void test_bad_id(void **state)
{
	test_refused(*state, "course.json",
		     "{\"format\": 1, \"id\": \"Hygiene_Basics\"}",
		     "course.json", "course id \"Hygiene_Basics\" is not");
	test_refused(*state, "course.json", "{\"format\": 1, \"id\": 7}",
		     "course.json", "missing course \"id\"");
	test_refused(*state, "course.json",
		     "{\"format\": 1, \"id\": \"a0123456789012345678901234567"
		     "89012345678901234567890123456789012345\"}",
		     "course.json", "is not 1 to 64 characters");
}

static void test_id_mismatch(void **state)
{
	struct course_error err;

	assert_int_equal(test_validate_dir(*state, "hygiene", 0, NULL, &err),
			 -1);
	assert_string_equal(err.file, "course.json");
	assert_string_equal(err.reason, "course id \"hygiene-basics\" does "
			    "not match the repository \"hygiene\"");
}

static void test_bad_texts(void **state)
{
	const char *no_lang =
		"{\"format\": 1, \"id\": \"x\", \"title\": {\"de\": \"T\"}}";
	const char *empty =
		"{\"format\": 1, \"id\": \"x\", \"title\": \"\"}";
	const char *bad_code = "{\"format\": 1, \"id\": \"x\", \"language\": "
			       "\"de\", \"title\": {\"d\": \"T\"}}";
	const char *bad_lang = "{\"format\": 1, \"id\": \"x\", \"language\": "
			       "\"deutsch!\", \"title\": \"T\"}";
	const char *bad_summary = "{\"format\": 1, \"id\": \"x\", \"title\": "
				  "\"T\", \"summary\": []}";

	test_refused(*state, "course.json", no_lang, "course.json",
		     "\"title\" is given per language, so \"language\"");
	test_refused(*state, "course.json", empty, "course.json",
		     "\"title\" must be a non-empty text");
	test_refused(*state, "course.json", bad_code, "course.json",
		     "\"d\" is not a language code");
	test_refused(*state, "course.json", bad_lang, "course.json",
		     "\"language\" must be a language code");
	test_refused(*state, "course.json", bad_summary, "course.json",
		     "\"summary\" must be");
}

static void test_bad_options(void **state)
{
	test_refused(*state, "course.json",
		     "{\"format\": 1, \"id\": \"x\", \"title\": \"T\", "
		     "\"duration_minutes\": -5}",
		     "course.json", "\"duration_minutes\" must be");
	test_refused(*state, "course.json",
		     "{\"format\": 1, \"id\": \"x\", \"title\": \"T\", "
		     "\"duration_minutes\": 2.5}",
		     "course.json", "\"duration_minutes\" must be");
	test_refused(*state, "course.json",
		     "{\"format\": 1, \"id\": \"x\", \"title\": \"T\", "
		     "\"certificate\": {\"valid_months\": 0}}",
		     "course.json", "\"valid_months\" must be");
	test_refused(*state, "course.json",
		     "{\"format\": 1, \"id\": \"x\", \"title\": \"T\", "
		     "\"retrain_on\": \"sometimes\"}",
		     "course.json", "\"retrain_on\" must be \"any\"");
}

static void test_bad_lessons(void **state)
{
	test_refused(*state, "course.json", TEST_HEAD "[]}", "course.json",
		     "\"lessons\" must be a non-empty list");
	test_refused_lessons(*state, "[{\"id\": \"A\", \"title\": \"x\", "
				     "\"file\": \"lessons/intro.md\"}]",
			     "course.json", "lesson 1: \"id\" must be");
	test_refused_lessons(*state, "[{\"id\": \"a\", "
				     "\"file\": \"lessons/intro.md\"}]",
			     "course.json", "lesson \"a\": \"title\" must be");
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"file\": \"lessons/intro.md\", "
				     "\"quiz\": \"quizzes/check.json\"}]",
			     "course.json", "lesson \"a\" has both");
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\"}]",
			     "course.json", "lesson \"a\" has neither");
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"file\": 3}]",
			     "course.json", "lesson \"a\": \"file\" must be");
	test_refused_lessons(*state, "[7]", "course.json",
			     "lesson 1 must be an object");
}

static void test_too_many_lessons(void **state)
{
	struct buf json = { 0 };
	int i;

	buf_append_str(&json, TEST_HEAD "[");
	for (i = 0; i <= COURSE_MAX_LESSONS; i++)
		buf_printf(&json, "%s{\"id\": \"l%d\", \"title\": \"x\", "
			   "\"file\": \"lessons/intro.md\"}", i ? "," : "", i);
	buf_append_str(&json, "]}");
	test_refused(*state, "course.json", buf_cstr(&json), "course.json",
		     "more than 500 lessons");
	buf_release(&json);
}

static void test_duplicate_lesson_id(void **state)
{
	test_refused_lessons(*state,
			     "[{\"id\": \"intro\", \"title\": \"x\", "
			     "\"file\": \"lessons/intro.md\"}, "
			     "{\"id\": \"intro\", \"title\": \"y\", "
			     "\"file\": \"lessons/hands.md\"}]",
			     "course.json", "duplicate lesson id \"intro\"");
}

/* ---- refusals of paths and files ---- */

static void test_missing_lesson_file(void **state)
{
	struct test_dir *d = *state;

	test_remove(d->root, "course/lessons/hands.md");
	test_refused(d, NULL, NULL, "lessons/hands.md", "file not found");
	test_remove(d->root, "course/quizzes/check.json");
	test_put(d->root, "course/lessons/hands.md", "x", 0);
	test_refused(d, NULL, NULL, "quizzes/check.json", "file not found");
	test_remove(d->root, "course/course.json");
	test_refused(d, NULL, NULL, "course.json", "file not found");
}

static void test_directory_is_not_a_file(void **state)
{
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"file\": \"lessons\"}]",
			     "lessons", "file not found");
}

static void test_dotdot_path(void **state)
{
	struct test_dir *d = *state;

	test_put(d->root, "outside.md", "# secret\n", 0);
	test_refused_lessons(d, "[{\"id\": \"a\", \"title\": \"x\", "
				"\"file\": \"../outside.md\"}]",
			     "../outside.md",
			     "path leaves the course directory");
	test_refused_lessons(d, "[{\"id\": \"a\", \"title\": \"x\", "
				"\"file\": \"lessons/../../outside.md\"}]",
			     "lessons/../../outside.md",
			     "path leaves the course directory");
}

static void test_absolute_path(void **state)
{
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"quiz\": \"/etc/passwd\"}]",
			     "/etc/passwd", "path leaves the course directory");
}

static void test_unclean_paths(void **state)
{
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"file\": \"lessons//intro.md\"}]",
			     "lessons//intro.md", "path has an empty part");
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"file\": \"./lessons/intro.md\"}]",
			     "./lessons/intro.md", "path has a \".\" part");
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"file\": \"lessons\\\\intro.md\"}]",
			     "lessons\\intro.md", "backslash");
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"file\": \"lessons/.\"}]",
			     "lessons/.", "path has a \".\" part");
	test_refused_lessons(*state, "[{\"id\": \"a\", \"title\": \"x\", "
				     "\"file\": \"a\\u0001.md\"}]",
			     "a\x01.md", "control character");
}

static void test_symlink_escaping(void **state)
{
	struct test_dir *d = *state;
	char *course = fs_join(d->root, "course");

	test_put(d->root, "outside.md", "# secret\n", 0);
	test_put(course, "lessons/hands.md", "../../outside.md",
		 GIT_FILEMODE_LINK);
	test_refused(d, NULL, NULL, "lessons/hands.md",
		     "path leaves the course directory");

	/* An absolute target, and a directory on the way out. */
	test_put(course, "lessons/hands.md", "/etc/hostname",
		 GIT_FILEMODE_LINK);
	test_refused(d, NULL, NULL, "lessons/hands.md",
		     "path leaves the course directory");
	test_put(course, "lessons/hands.md", "x", 0);
	test_put(d->root, "check.json", test_quiz_json, 0);
	free(course);
	course = fs_join(d->root, "course/quizzes");
	assert_int_equal(fs_remove_tree(course), 0);
	assert_int_equal(symlink(d->root, course), 0);
	test_refused(d, NULL, NULL, "quizzes/check.json",
		     "path leaves the course directory");
	free(course);
}

static void test_lesson_not_utf8(void **state)
{
	test_refused(*state, "lessons/hands.md", "# Gr\xfc\xdf" "e\n",
		     "lessons/hands.md", "not valid UTF-8 (byte 4)");
}

static void test_oversized_file(void **state)
{
	struct course_error err;
	struct test_dir *d = *state;
	char big[2001];

	/* course.json is smaller than 1000 bytes. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	test_put(d->root, "course/lessons/gloves.md", big, 0);
	assert_int_equal(test_validate_dir(d, NULL, 2000, NULL, NULL), 0);
	assert_int_equal(test_validate_dir(d, NULL, 1999, NULL, &err), -1);
	assert_string_equal(err.file, "lessons/gloves.md");
	assert_string_equal(err.reason, "file is larger than 1999 bytes");
}

/* ---- refusals in quizzes ---- */

static void test_quiz_without_answers(void **state)
{
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"text\": \"T\", \"choices\": [\"a\"]}]}",
			  "quiz without answers: question \"q1\"");
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"text\": \"T\", \"choices\": [\"a\"], "
			  "\"answer\": []}]}",
			  "quiz without answers: question \"q1\"");
}

static void test_answer_out_of_range(void **state)
{
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"text\": \"T\", \"choices\": [\"a\", "
			  "\"b\"], \"answer\": [2]}]}",
			  "question \"q1\": answer 2 is not a choice (0 to 1)");
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"text\": \"T\", \"choices\": [\"a\", "
			  "\"b\"], \"answer\": [-1]}]}",
			  "question \"q1\": \"answer\" must hold choice");
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"text\": \"T\", \"choices\": [\"a\", "
			  "\"b\"], \"answer\": [1, 1]}]}",
			  "question \"q1\": answer 1 is given twice");
}

static void test_bad_quiz(void **state)
{
	test_refused_quiz(*state, "{\"questions\": []}",
			  "\"pass_percent\" must be");
	test_refused_quiz(*state, "{\"pass_percent\": 101}",
			  "\"pass_percent\" must be");
	test_refused_quiz(*state, "{\"pass_percent\": 80, \"questions\": []}",
			  "\"questions\" must be a non-empty list");
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"text\": \"T\", \"choices\": [\"a\"], "
			  "\"answer\": [0]}, {\"id\": \"q1\", \"text\": \"U\", "
			  "\"choices\": [\"b\"], \"answer\": [0]}]}",
			  "duplicate question id \"q1\"");
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"choices\": [\"a\"], \"answer\": [0]}]}",
			  "question \"q1\": \"text\" must be");
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"text\": \"T\", \"choices\": [], "
			  "\"answer\": [0]}]}",
			  "question \"q1\": \"choices\" must be");
	test_refused_quiz(*state,
			  "{\"pass_percent\": 80, \"questions\": [{\"id\": "
			  "\"q1\", \"text\": \"T\", \"choices\": [\"a\", 5], "
			  "\"answer\": [0]}]}",
			  "question \"q1\": choice 1 must be");
	test_refused_quiz(*state, "{\"pass_percent\": 80, \"questions\": [",
			  "invalid JSON");
}

/* ---- damage ---- */

static void test_check_damaged(int rc, struct course_info *info,
			       const struct course_error *err)
{
	if (rc == 0) {
		/* A flip that still makes sense, e.g. in a title. */
		assert_true(info->lesson_count > 0);
		course_info_release(info);
		return;
	}
	assert_int_equal(rc, -1);
	assert_true(err->reason[0] != 0);
	assert_null(info->lessons);
}

static void test_damaged_file(const char *path, const char *good)
{
	size_t len = strlen(good), i;
	struct course_error err;
	struct course_info info;
	char *copy = malloc(len);
	int bit;

	assert_non_null(copy);
	for (i = 0; i < len; i++) {
		assert_int_equal(test_validate_mem(path, good, i, &info, &err),
				 -1);
		assert_string_equal(err.file, path);
		/* Cut inside a character, the UTF-8 check speaks first. */
		if (!strstr(err.reason, "invalid JSON") &&
		    !strstr(err.reason, "not valid UTF-8"))
			fail_msg("%zu bytes: %s", i, err.reason);
	}
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, good, len);
			copy[i] ^= (char)(1 << bit);
			test_check_damaged(test_validate_mem(path, copy, len,
							     &info, &err),
					   &info, &err);
		}
	}
	assert_int_equal(test_validate_mem(path, good, len, &info, &err), 0);
	course_info_release(&info);
	free(copy);
}

static void test_damaged_course_json(void **state)
{
	(void)state;
	test_damaged_file("course.json", test_course_json);
}

static void test_damaged_quiz(void **state)
{
	(void)state;
	test_damaged_file("quizzes/check.json", test_quiz_json);
}

/* ---- the git tree reader ---- */

struct test_repo {
	char root[64];
	git_repository *repo;
};

static int test_setup_repo(void **state)
{
	struct test_repo *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	git_libgit2_init();
	strcpy(t->root, "/tmp/test_course_git.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	assert_int_equal(git_repository_init(&t->repo, t->root, 0), 0);
	*state = t;
	return 0;
}

static int test_teardown_repo(void **state)
{
	struct test_repo *t = *state;

	git_repository_free(t->repo);
	fs_remove_tree(t->root);
	free(t);
	git_libgit2_shutdown();
	return 0;
}

/* 1 when path is dir or lies under it. */
static int test_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

/* A tree of the valid course with one file replaced or added (what was
 * in its way removed). */
static git_tree *test_tree(git_repository *repo, const char *path,
			   const char *data, unsigned mode)
{
	git_index_entry entry;
	git_index *index;
	git_tree *tree;
	git_oid id;

	assert_int_equal(git_repository_index(&index, repo), 0);
	assert_int_equal(git_index_clear(index), 0);
	for (const struct test_file *f = test_valid; f->path; f++) {
		if (path && test_path_within(path, f->path))
			continue;
		memset(&entry, 0, sizeof(entry));
		entry.mode = GIT_FILEMODE_BLOB;
		entry.path = f->path;
		assert_int_equal(git_index_add_from_buffer(index, &entry,
							   f->data,
							   strlen(f->data)),
				 0);
	}
	if (path) {
		memset(&entry, 0, sizeof(entry));
		entry.mode = mode ? mode : GIT_FILEMODE_BLOB;
		entry.path = path;
		assert_int_equal(git_index_add_from_buffer(index, &entry, data,
							   strlen(data)),
				 0);
	}
	assert_int_equal(git_index_write_tree(&id, index), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &id), 0);
	git_index_free(index);
	return tree;
}

static int test_validate_tree(git_repository *repo, git_tree *tree,
			      size_t max_file, struct course_info *info,
			      struct course_error *err)
{
	struct course_reader r;

	course_reader_tree(&r, repo, tree);
	r.max_file = max_file;
	return course_validate(&r, "hygiene-basics", info, err);
}

static void test_tree_valid(void **state)
{
	struct test_repo *t = *state;
	git_tree *tree = test_tree(t->repo, NULL, NULL, 0);
	struct course_error err;
	struct course_info info;

	assert_int_equal(test_validate_tree(t->repo, tree, 0, &info, &err), 0);
	test_check_valid_info(&info);
	course_info_release(&info);
	git_tree_free(tree);
}

static void test_tree_refusals(void **state)
{
	struct test_repo *t = *state;
	struct course_error err;
	git_tree *tree;

	tree = test_tree(t->repo, "lessons/hands.md", "/etc/passwd",
			 GIT_FILEMODE_LINK);
	assert_int_equal(test_validate_tree(t->repo, tree, 0, NULL, &err), -1);
	assert_string_equal(err.file, "lessons/hands.md");
	assert_string_equal(err.reason, "path leaves the course directory");
	git_tree_free(tree);

	/* lessons/gloves.md becomes a directory. */
	tree = test_tree(t->repo, "lessons/gloves.md/x.md", "x", 0);
	assert_int_equal(test_validate_tree(t->repo, tree, 0, NULL, &err), -1);
	assert_string_equal(err.file, "lessons/gloves.md");
	assert_string_equal(err.reason, "file not found");
	git_tree_free(tree);

	tree = test_tree(t->repo, "quizzes/check.json", "{}", 0);
	assert_int_equal(test_validate_tree(t->repo, tree, 0, NULL, &err), -1);
	assert_string_equal(err.file, "quizzes/check.json");
	git_tree_free(tree);

	tree = test_tree(t->repo, NULL, NULL, 0);
	assert_int_equal(test_validate_tree(t->repo, tree, 40, NULL, &err),
			 -1);
	assert_string_equal(err.reason, "file is larger than 40 bytes");
	assert_string_equal(err.file, "course.json");
	git_tree_free(tree);
}

/* ---- small functions ---- */

static void test_path_safe(void **state)
{
	static const struct {
		const char *path;
		int safe;
	} cases[] = {
		{ "lessons/intro.md", 1 }, { "a", 1 },	    { "..a/b..", 1 },
		{ "a/...", 1 },		   { "", 0 },	    { "/a", 0 },
		{ "..", 0 },		   { "../a", 0 },   { "a/../b", 0 },
		{ "a/..", 0 },		   { "a//b", 0 },   { "a/", 0 },
		{ "a\\b", 0 },		   { "\\a", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (course_path_safe(cases[i].path) != cases[i].safe)
			fail_msg("course_path_safe(\"%s\") != %d",
				 cases[i].path, cases[i].safe);
	assert_int_equal(course_path_safe(NULL), 0);
}

static void test_error_format(void **state)
{
	struct course_error err = { "lessons/a.md", "file not found" };
	char out[64], small[8];

	(void)state;
	course_error_format(&err, out, sizeof(out));
	assert_string_equal(out, "lessons/a.md: file not found");
	course_error_format(&err, small, sizeof(small));
	assert_string_equal(small, "lessons");
	err.file[0] = 0;
	course_error_format(&err, out, sizeof(out));
	assert_string_equal(out, "file not found");
}

/* ---- the sample courses in deploy/courses ---- */

/* The repository: this file is tests/unit/test_course.c in it, and
 * CMake compiles it by its absolute path. */
static void test_source_root(struct buf *out)
{
	char *slash;
	int i;

	buf_append_str(out, __FILE__);
	for (i = 0; i < 3; i++) {
		slash = strrchr((char *)out->data, '/');
		assert_non_null(slash);
		*slash = 0;
		out->len = (size_t)(slash - (char *)out->data);
	}
}

/* Every "](media/...)" link of a lesson names a file of the course. */
static void test_check_media_links(const struct course_reader *r,
				   const char *lesson, int *links)
{
	struct buf text = { 0 }, media = { 0 };
	const char *p, *end;
	char *path;

	assert_int_equal(r->read(r->ctx, lesson, 1 << 20, &text), 0);
	for (p = buf_cstr(&text); (p = strstr(p, "](media/")); p = end) {
		p += 2;
		end = strchr(p, ')');
		assert_non_null(end);
		path = strndup(p, (size_t)(end - p));
		buf_reset(&media);
		if (r->read(r->ctx, path, 1 << 20, &media))
			fail_msg("%s links to missing %s", lesson, path);
		assert_non_null(strstr(buf_cstr(&media), "<svg"));
		free(path);
		(*links)++;
	}
	buf_release(&text);
	buf_release(&media);
}

static int test_quiz_questions(const struct course_reader *r,
			       const char *quiz)
{
	struct buf b = { 0 };
	cJSON *json;
	int n;

	assert_int_equal(r->read(r->ctx, quiz, 1 << 20, &b), 0);
	json = cJSON_Parse(buf_cstr(&b));
	assert_non_null(json);
	n = cJSON_GetArraySize(cJSON_GetObjectItem(json, "questions"));
	cJSON_Delete(json);
	buf_release(&b);
	return n;
}

static void test_sample_course(const char *id, const char *title)
{
	int texts = 0, quizzes = 0, links = 0;
	struct course_error err;
	struct course_info info;
	struct course_reader r;
	char msg[600];
	struct buf dir = { 0 };

	test_source_root(&dir);
	buf_printf(&dir, "/deploy/courses/%s", id);

	course_reader_dir(&r, buf_cstr(&dir));
	if (course_validate(&r, id, &info, &err)) {
		course_error_format(&err, msg, sizeof(msg));
		fail_msg("%s: %s", buf_cstr(&dir), msg);
	}
	assert_string_equal(info.title, title);
	assert_string_equal(info.language, "de");
	for (size_t i = 0; i < info.lesson_count; i++) {
		if (info.lessons[i].file) {
			texts++;
			test_check_media_links(&r, info.lessons[i].file,
					       &links);
		} else {
			quizzes++;
			assert_int_equal(test_quiz_questions(
						 &r, info.lessons[i].quiz),
					 5);
		}
	}
	assert_in_range(texts, 3, 4);
	assert_int_equal(quizzes, 1);
	assert_true(links >= 1);
	course_info_release(&info);
	buf_release(&dir);
}

static void test_sample_courses(void **state)
{
	(void)state;
	test_sample_course("hygiene-basics", "Hygiene-Grundlagen");
	test_sample_course("data-protection-basics",
			   "Datenschutz in der Pflege");
	test_sample_course("ai-literacy",
			   "KI-Kompetenz nach der EU-KI-Verordnung");
}

#define DIR_TEST(f) \
	cmocka_unit_test_setup_teardown(f, test_setup_dir, test_teardown_dir)
#define REPO_TEST(f) \
	cmocka_unit_test_setup_teardown(f, test_setup_repo, test_teardown_repo)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DIR_TEST(test_valid_dir),
		DIR_TEST(test_valid_without_info_or_error),
		DIR_TEST(test_plain_texts_need_no_language),
		DIR_TEST(test_symlink_inside_is_fine),
		DIR_TEST(test_bad_json),
		DIR_TEST(test_unknown_format),
		DIR_TEST(test_bad_id),
		DIR_TEST(test_id_mismatch),
		DIR_TEST(test_bad_texts),
		DIR_TEST(test_bad_options),
		DIR_TEST(test_bad_lessons),
		DIR_TEST(test_too_many_lessons),
		DIR_TEST(test_duplicate_lesson_id),
		DIR_TEST(test_missing_lesson_file),
		DIR_TEST(test_directory_is_not_a_file),
		DIR_TEST(test_dotdot_path),
		DIR_TEST(test_absolute_path),
		DIR_TEST(test_unclean_paths),
		DIR_TEST(test_symlink_escaping),
		DIR_TEST(test_lesson_not_utf8),
		DIR_TEST(test_oversized_file),
		DIR_TEST(test_quiz_without_answers),
		DIR_TEST(test_answer_out_of_range),
		DIR_TEST(test_bad_quiz),
		cmocka_unit_test(test_damaged_course_json),
		cmocka_unit_test(test_damaged_quiz),
		REPO_TEST(test_tree_valid),
		REPO_TEST(test_tree_refusals),
		cmocka_unit_test(test_path_safe),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_sample_courses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
