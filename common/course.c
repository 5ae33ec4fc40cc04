/*
 * The course package format, version 1: validation of course.json, of
 * every lesson file and quiz, and the two readers a course is validated
 * through (a directory on disk, a git tree).
 *
 * Validation reads course.json first and checks it completely, then reads
 * each lesson's file or quiz in the order of the lessons, so that a
 * publish from a directory and a git push are judged by the same rules
 * and report the same first problem. Nothing read is trusted: sizes are
 * bounded before anything is copied, paths are checked before they reach
 * a reader, and both readers refuse symbolic links that lead out of the
 * course. Validation never logs; the caller reports the course_error.
 */
#include "common/course.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/ids.h"
#include "common/utf8.h"

/* Bounds that keep the checks linear and the results displayable. */
#define COURSE_MAX_QUESTIONS 500
#define COURSE_MAX_CHOICES 32
#define COURSE_LANG_MAX 15 /* fits course_info.language */

/* One validation run. */
struct course_check {
	const struct course_reader *r;
	size_t max_file;
	struct course_error *err;
	char language[COURSE_LANG_MAX + 1]; /* default, "" when not given */
};

static int course_fail(struct course_check *c, const char *file,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int course_fail(struct course_check *c, const char *file,
		       const char *fmt, ...)
{
	va_list ap;

	snprintf(c->err->file, sizeof(c->err->file), "%s", file ? file : "");
	va_start(ap, fmt);
	vsnprintf(c->err->reason, sizeof(c->err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- paths ---- */

/* Why a path is not a plain relative path inside the course, or NULL. */
static const char *course_path_problem(const char *path)
{
	const char *p = path, *end;
	size_t n;

	if (path[0] == '/')
		return "path leaves the course directory";
	if (strchr(path, '\\'))
		return "path contains a backslash (use '/')";
	for (;;) {
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0)
			return "path has an empty part";
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "path leaves the course directory";
		if (!end)
			return NULL;
		p = end + 1;
	}
}

int course_path_safe(const char *path)
{
	return path && course_path_problem(path) == NULL;
}

/* The validator also wants paths in one spelling: no "." parts (a git
 * tree has no entry called ".") and no control characters. */
static const char *course_path_unusual(const char *path)
{
	const char *p;

	for (p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "path contains a control character";
	for (p = path; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
		if (p[0] == '.' && (p[1] == '/' || p[1] == 0))
			return "path has a \".\" part";
	return NULL;
}

static int course_check_path(struct course_check *c, const char *path)
{
	const char *why = course_path_problem(path);

	if (!why)
		why = course_path_unusual(path);
	if (why)
		return course_fail(c, path, "%s", why);
	return 0;
}

/* ---- text ---- */

static int course_check_utf8(struct course_check *c, const char *file,
			     const struct buf *b)
{
	size_t i = 0, n;

	while (i < b->len) {
		n = utf8_seq_len(b->data + i, b->len - i);
		if (!n)
			return course_fail(c, file,
					   "file is not valid UTF-8 (byte %zu)",
					   i);
		i += n;
	}
	return 0;
}

/* A language code such as "de", "en" or "de-CH". */
static int course_lang_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 2 || n > COURSE_LANG_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		int alpha = (ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z');
		int other = (ch >= '0' && ch <= '9') || ch == '-';

		if (!alpha && (i < 2 || !other))
			return 0;
	}
	return 1;
}

/*
 * Checks a text: a non-empty string, or a non-empty object of language
 * codes to non-empty strings. Returns the version in the default language
 * (the first one when the default is missing), borrowed from item, or
 * NULL after course_fail. what names the text in a reason.
 */
static const char *course_text(struct course_check *c, const char *file,
			       const cJSON *item, const char *what)
{
	const cJSON *t, *first = NULL, *match = NULL;

	if (cJSON_IsString(item) && item->valuestring[0])
		return item->valuestring;
	if (!cJSON_IsObject(item) || !item->child) {
		course_fail(c, file,
			    "%s must be a non-empty text or an object of "
			    "language codes", what);
		return NULL;
	}
	if (!c->language[0]) {
		course_fail(c, file,
			    "%s is given per language, so \"language\" (the "
			    "default) is required", what);
		return NULL;
	}
	cJSON_ArrayForEach(t, item) {
		if (!course_lang_valid(t->string)) {
			course_fail(c, file, "%s: \"%.20s\" is not a language "
				    "code", what, t->string);
			return NULL;
		}
		if (!cJSON_IsString(t) || !t->valuestring[0]) {
			course_fail(c, file, "%s: \"%s\" must be a non-empty "
				    "text", what, t->string);
			return NULL;
		}
		if (!first)
			first = t;
		if (!match && !strcmp(t->string, c->language))
			match = t;
	}
	return (match ? match : first)->valuestring;
}

/* 1 when item is a whole number in [lo, hi], stored in out. */
static int course_int(const cJSON *item, int lo, int hi, int *out)
{
	double d;

	if (!cJSON_IsNumber(item))
		return 0;
	d = item->valuedouble;
	if (!(d >= lo && d <= hi) || d != (double)(int)d)
		return 0;
	*out = (int)d;
	return 1;
}

/* ---- reading and parsing ---- */

/* A member of a JSON object by its exact name, or NULL; borrowed. */
static const cJSON *course_get(const cJSON *object, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(object, name);
}

static int course_read(struct course_check *c, const char *path,
		       size_t max, struct buf *out)
{
	int rc;

	buf_reset(out);
	rc = c->r->read(c->r->ctx, path, max, out);
	if (!rc && out->len > max)
		rc = -EFBIG;
	switch (rc) {
	case 0:
		return 0;
	case -ENOENT:
		return course_fail(c, path, "file not found");
	case -EFBIG:
		return course_fail(c, path, "file is larger than %zu bytes",
				   max);
	case -EACCES:
		return course_fail(c, path, "path leaves the course directory");
	default:
		return course_fail(c, path, "cannot read the file: %s",
				   strerror(-rc));
	}
}

static int course_json_error(struct course_check *c, const char *file,
			     const struct buf *b, size_t off, const char *what)
{
	size_t i, line = 1, col = 1;

	for (i = 0; i < off && i < b->len; i++) {
		if (b->data[i] == '\n')
			line++, col = 1;
		else if ((b->data[i] & 0xc0) != 0x80)
			col++;
	}
	return course_fail(c, file,
			   "invalid JSON: %s at line %zu, column %zu "
			   "(byte %zu)", what, line, col, off);
}

/* Parses a whole file as one JSON value; *out is the caller's to
 * cJSON_Delete. */
static int course_parse_json(struct course_check *c, const char *file,
			     const struct buf *b, cJSON **out)
{
	const char *text = (const char *)b->data, *end = NULL;
	size_t off;
	cJSON *json;

	if (b->len == 0)
		return course_fail(c, file, "invalid JSON: the file is empty");
	json = cJSON_ParseWithLengthOpts(text, b->len, &end, 0);
	off = end && end >= text ? (size_t)(end - text) : 0;
	if (off > b->len)
		off = b->len;
	if (!json)
		return course_json_error(c, file, b, off, "syntax error");

	while (off < b->len && strchr(" \t\r\n", text[off]) && text[off])
		off++;
	if (off < b->len) {
		cJSON_Delete(json);
		return course_json_error(c, file, b, off,
					 "unexpected text after the value");
	}
	*out = json;
	return 0;
}

static int course_read_json(struct course_check *c, const char *path,
			    struct buf *b, cJSON **out)
{
	size_t max = c->max_file < COURSE_MAX_JSON ? c->max_file :
						     COURSE_MAX_JSON;

	if (course_read(c, path, max, b) || course_check_utf8(c, path, b))
		return -1;
	return course_parse_json(c, path, b, out);
}

/* ---- quizzes ---- */

static int course_check_answer(struct course_check *c, const char *file,
			       const cJSON *q, const char *qid, int choices)
{
	const cJSON *answer = course_get(q, "answer");
	unsigned char seen[COURSE_MAX_CHOICES] = { 0 };
	const cJSON *a;
	int n;

	if (!answer || (cJSON_IsArray(answer) && !answer->child))
		return course_fail(c, file, "quiz without answers: question "
				   "\"%s\" has no \"answer\"", qid);
	if (!cJSON_IsArray(answer))
		return course_fail(c, file, "question \"%s\": \"answer\" must "
				   "be a list of choice numbers", qid);

	cJSON_ArrayForEach(a, answer) {
		if (!course_int(a, 0, INT_MAX, &n))
			return course_fail(c, file, "question \"%s\": "
					   "\"answer\" must hold choice "
					   "numbers counted from 0", qid);
		if (n >= choices)
			return course_fail(c, file, "question \"%s\": answer "
					   "%d is not a choice (0 to %d)",
					   qid, n, choices - 1);
		if (seen[n]++)
			return course_fail(c, file, "question \"%s\": answer "
					   "%d is given twice", qid, n);
	}
	return 0;
}

static int course_check_choices(struct course_check *c, const char *file,
				const cJSON *q, const char *qid, int *count)
{
	const cJSON *choices = course_get(q, "choices");
	const cJSON *ch;
	char what[128];
	int n = 0;

	if (!cJSON_IsArray(choices) || !choices->child)
		return course_fail(c, file, "question \"%s\": \"choices\" "
				   "must be a non-empty list", qid);
	cJSON_ArrayForEach(ch, choices) {
		if (n == COURSE_MAX_CHOICES)
			return course_fail(c, file, "question \"%s\": more "
					   "than %d choices", qid,
					   COURSE_MAX_CHOICES);
		snprintf(what, sizeof(what), "question \"%s\": choice %d",
			 qid, n);
		if (!course_text(c, file, ch, what))
			return -1;
		n++;
	}
	*count = n;
	return 0;
}

/* The id of a question already checked. */
static const char *course_question_id(const cJSON *q)
{
	return course_get(q, "id")->valuestring;
}

static int course_check_question(struct course_check *c, const char *file,
				 const cJSON *q, size_t index)
{
	const cJSON *id;
	char what[128];
	int choices = 0;

	if (!cJSON_IsObject(q))
		return course_fail(c, file, "question %zu must be an object",
				   index + 1);
	id = course_get(q, "id");
	if (!cJSON_IsString(id) || !ids_valid(id->valuestring))
		return course_fail(c, file, "question %zu: \"id\" must be 1 "
				   "to 64 characters of a-z, 0-9 and '-'",
				   index + 1);

	snprintf(what, sizeof(what), "question \"%s\": \"text\"",
		 id->valuestring);
	if (!course_text(c, file, course_get(q, "text"),
			 what))
		return -1;
	if (course_check_choices(c, file, q, id->valuestring, &choices))
		return -1;
	return course_check_answer(c, file, q, id->valuestring, choices);
}

static int course_check_quiz(struct course_check *c, const char *file,
			     const cJSON *quiz)
{
	const cJSON *questions, *q, *other;
	size_t n = 0;
	int pass;

	if (!cJSON_IsObject(quiz))
		return course_fail(c, file, "a quiz must be a JSON object");
	if (!course_int(course_get(quiz, "pass_percent"),
			0, 100, &pass))
		return course_fail(c, file, "\"pass_percent\" must be a whole "
				   "number from 0 to 100");
	questions = course_get(quiz, "questions");
	if (!cJSON_IsArray(questions) || !questions->child)
		return course_fail(c, file, "\"questions\" must be a "
				   "non-empty list");

	cJSON_ArrayForEach(q, questions) {
		if (n == COURSE_MAX_QUESTIONS)
			return course_fail(c, file, "more than %d questions",
					   COURSE_MAX_QUESTIONS);
		if (course_check_question(c, file, q, n++))
			return -1;
		for (other = questions->child; other != q; other = other->next)
			if (!strcmp(course_question_id(other),
				    course_question_id(q)))
				return course_fail(c, file, "duplicate "
						   "question id \"%s\"",
						   course_question_id(q));
	}
	return 0;
}

/* ---- course.json ---- */

static int course_check_format_id(struct course_check *c, const cJSON *json,
				  const char *expect_id,
				  struct course_info *info)
{
	const cJSON *format = course_get(json, "format");
	const cJSON *id = course_get(json, "id");

	if (!format)
		return course_fail(c, "course.json", "missing \"format\"");
	if (!cJSON_IsNumber(format))
		return course_fail(c, "course.json",
				   "\"format\" must be a number");
	if (format->valuedouble != COURSE_FORMAT)
		return course_fail(c, "course.json", "unknown format %g",
				   format->valuedouble);

	if (!cJSON_IsString(id))
		return course_fail(c, "course.json", "missing course \"id\"");
	if (!ids_valid(id->valuestring))
		return course_fail(c, "course.json", "course id \"%.64s\" is "
				   "not 1 to 64 characters of a-z, 0-9 and '-'",
				   id->valuestring);
	if (expect_id && strcmp(id->valuestring, expect_id))
		return course_fail(c, "course.json", "course id \"%s\" does "
				   "not match the repository \"%.64s\"",
				   id->valuestring, expect_id);
	snprintf(info->id, sizeof(info->id), "%s", id->valuestring);
	return 0;
}

static int course_check_texts(struct course_check *c, const cJSON *json,
			      struct course_info *info)
{
	const cJSON *lang = course_get(json, "language");
	const cJSON *summary = course_get(json, "summary");
	const char *title;

	if (lang && (!cJSON_IsString(lang) ||
		     !course_lang_valid(lang->valuestring)))
		return course_fail(c, "course.json", "\"language\" must be a "
				   "language code such as \"de\" or \"en\"");
	if (lang) {
		snprintf(c->language, sizeof(c->language), "%s",
			 lang->valuestring);
		snprintf(info->language, sizeof(info->language), "%s",
			 lang->valuestring);
	}

	title = course_text(c, "course.json",
			    course_get(json, "title"),
			    "\"title\"");
	if (!title)
		return -1;
	if (summary && !course_text(c, "course.json", summary, "\"summary\""))
		return -1;
	info->title = strdup(title);
	if (!info->title)
		return course_fail(c, "", "out of memory");
	return 0;
}

static int course_check_options(struct course_check *c, const cJSON *json,
				struct course_info *info)
{
	const cJSON *duration, *cert, *months, *retrain;
	int n;

	duration = course_get(json, "duration_minutes");
	if (duration &&
	    !course_int(duration, 0, INT_MAX, &info->duration_minutes))
		return course_fail(c, "course.json", "\"duration_minutes\" "
				   "must be a whole number of 0 or more");

	cert = course_get(json, "certificate");
	if (cert && !cJSON_IsObject(cert))
		return course_fail(c, "course.json",
				   "\"certificate\" must be an object");
	months = course_get(cert, "valid_months");
	if (months && !course_int(months, 1, INT_MAX, &n))
		return course_fail(c, "course.json", "\"certificate\": "
				   "\"valid_months\" must be a whole number "
				   "of 1 or more");

	retrain = course_get(json, "retrain_on");
	if (retrain && !(cJSON_IsString(retrain) &&
			 !strcmp(retrain->valuestring, "any")))
		return course_fail(c, "course.json", "\"retrain_on\" must be "
				   "\"any\" (or left out)");
	info->retrain_any = retrain != NULL;
	return 0;
}

static int course_lesson_path(struct course_check *c, const cJSON *lesson,
			      const char *id, struct course_lesson *out)
{
	const cJSON *file = course_get(lesson, "file");
	const cJSON *quiz = course_get(lesson, "quiz");
	const cJSON *path = file ? file : quiz;
	char *copy;

	if (file && quiz)
		return course_fail(c, "course.json", "lesson \"%s\" has both "
				   "\"file\" and \"quiz\" (give one)", id);
	if (!path)
		return course_fail(c, "course.json", "lesson \"%s\" has "
				   "neither \"file\" nor \"quiz\"", id);
	if (!cJSON_IsString(path) || !path->valuestring[0])
		return course_fail(c, "course.json", "lesson \"%s\": \"%s\" "
				   "must be a path such as \"%s\"", id,
				   file ? "file" : "quiz",
				   file ? "lessons/intro.md" :
					  "quizzes/check.json");
	if (course_check_path(c, path->valuestring))
		return -1;

	copy = strdup(path->valuestring);
	if (!copy)
		return course_fail(c, "", "out of memory");
	if (file)
		out->file = copy;
	else
		out->quiz = copy;
	return 0;
}

static int course_check_lesson(struct course_check *c, const cJSON *lesson,
			       size_t index, struct course_info *info)
{
	struct course_lesson *l = &info->lessons[index];
	const char *title;
	const cJSON *id;
	char what[96];
	size_t i;

	if (!cJSON_IsObject(lesson))
		return course_fail(c, "course.json", "lesson %zu must be an "
				   "object", index + 1);
	id = course_get(lesson, "id");
	if (!cJSON_IsString(id) || !ids_valid(id->valuestring))
		return course_fail(c, "course.json", "lesson %zu: \"id\" must "
				   "be 1 to 64 characters of a-z, 0-9 and '-'",
				   index + 1);
	for (i = 0; i < index; i++)
		if (!strcmp(info->lessons[i].id, id->valuestring))
			return course_fail(c, "course.json", "duplicate lesson "
					   "id \"%s\"", id->valuestring);
	snprintf(l->id, sizeof(l->id), "%s", id->valuestring);

	snprintf(what, sizeof(what), "lesson \"%s\": \"title\"", l->id);
	title = course_text(c, "course.json",
			    course_get(lesson, "title"),
			    what);
	if (!title)
		return -1;
	l->title = strdup(title);
	if (!l->title)
		return course_fail(c, "", "out of memory");
	return course_lesson_path(c, lesson, l->id, l);
}

static int course_check_lessons(struct course_check *c, const cJSON *json,
				struct course_info *info)
{
	const cJSON *lessons = course_get(json, "lessons");
	const cJSON *lesson;
	int n;

	if (!cJSON_IsArray(lessons) || !lessons->child)
		return course_fail(c, "course.json",
				   "\"lessons\" must be a non-empty list");
	n = cJSON_GetArraySize(lessons);
	if (n > COURSE_MAX_LESSONS)
		return course_fail(c, "course.json", "more than %d lessons",
				   COURSE_MAX_LESSONS);
	info->lessons = calloc((size_t)n, sizeof(*info->lessons));
	if (!info->lessons)
		return course_fail(c, "", "out of memory");

	cJSON_ArrayForEach(lesson, lessons) {
		/* Counted as they fill so release frees what was set. */
		if (course_check_lesson(c, lesson, info->lesson_count++, info))
			return -1;
	}
	return 0;
}

static int course_check_manifest(struct course_check *c, const cJSON *json,
				 const char *expect_id,
				 struct course_info *info)
{
	if (!cJSON_IsObject(json))
		return course_fail(c, "course.json",
				   "the file must hold a JSON object");
	if (course_check_format_id(c, json, expect_id, info) ||
	    course_check_texts(c, json, info) ||
	    course_check_options(c, json, info))
		return -1;
	return course_check_lessons(c, json, info);
}

/* ---- lesson files ---- */

static int course_check_lesson_file(struct course_check *c,
				    const struct course_lesson *l,
				    struct buf *b)
{
	cJSON *quiz = NULL;
	int rc;

	if (l->file) {
		if (course_read(c, l->file, c->max_file, b))
			return -1;
		return course_check_utf8(c, l->file, b);
	}
	if (course_read_json(c, l->quiz, b, &quiz))
		return -1;
	rc = course_check_quiz(c, l->quiz, quiz);
	cJSON_Delete(quiz);
	return rc;
}

int course_validate(const struct course_reader *r, const char *expect_id,
		    struct course_info *info, struct course_error *err)
{
	struct course_info scratch_info;
	struct course_error scratch_err;
	struct course_check c = { 0 };
	struct buf b = { 0 };
	cJSON *json = NULL;
	size_t i;
	int rc = -1;

	c.r = r;
	c.max_file = r->max_file ? r->max_file : COURSE_DEFAULT_MAX_FILE;
	c.err = err ? err : &scratch_err;
	memset(c.err, 0, sizeof(*c.err));
	if (!info)
		info = &scratch_info;
	memset(info, 0, sizeof(*info));

	if (course_read_json(&c, "course.json", &b, &json) ||
	    course_check_manifest(&c, json, expect_id, info))
		goto out;
	for (i = 0; i < info->lesson_count; i++)
		if (course_check_lesson_file(&c, &info->lessons[i], &b))
			goto out;
	rc = 0;
out:
	cJSON_Delete(json);
	buf_release(&b);
	if (rc || info == &scratch_info)
		course_info_release(info);
	return rc;
}

void course_info_release(struct course_info *info)
{
	size_t i;

	if (!info)
		return;
	for (i = 0; info->lessons && i < info->lesson_count; i++) {
		free(info->lessons[i].title);
		free(info->lessons[i].file);
		free(info->lessons[i].quiz);
	}
	free(info->lessons);
	free(info->title);
	memset(info, 0, sizeof(*info));
}

void course_error_format(const struct course_error *err, char *out,
			 size_t cap)
{
	if (!cap)
		return;
	if (err->file[0])
		snprintf(out, cap, "%s: %s", err->file, err->reason);
	else
		snprintf(out, cap, "%s", err->reason);
}

/* ---- reader over a directory ---- */

/* 1 when the resolved path p lies under the resolved directory root. */
static int course_dir_inside(const char *root, const char *p)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return 1;
	return !strncmp(p, root, n) && (p[n] == '/' || p[n] == 0);
}

/* Resolves root/path and checks it stays under root; *out is malloc'd. */
static int course_dir_resolve(const char *root, const char *path, char **out)
{
	char *full = fs_join(root, path), *real_root = NULL, *real = NULL;
	int rc = 0;

	if (!full)
		return -ENOMEM;
	real_root = realpath(root, NULL);
	if (real_root)
		real = realpath(full, NULL);
	if (!real)
		rc = errno == ENOTDIR ? -ENOENT : -errno;
	else if (!course_dir_inside(real_root, real))
		rc = -EACCES;

	free(full);
	free(real_root);
	if (rc)
		free(real);
	else
		*out = real;
	return rc;
}

static int course_dir_read(void *ctx, const char *path, size_t max,
			   struct buf *out)
{
	size_t keep = out->len;
	struct stat st;
	char *real;
	int rc;

	if (!course_path_safe(path))
		return -EACCES;
	rc = course_dir_resolve(ctx, path, &real);
	if (rc)
		return rc;

	/* Only regular files: a FIFO would block, a directory is no file. */
	if (stat(real, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -ENOENT;
	else
		rc = fs_read_file(real, max, out);
	free(real);

	if (rc && out->data) {
		out->len = keep;
		out->data[keep] = 0;
	}
	return rc;
}

void course_reader_dir(struct course_reader *r, const char *root)
{
	r->read = course_dir_read;
	r->ctx = (void *)root;
	r->max_file = 0;
}

/* ---- reader over a git tree ---- */

/* The blob's size from the object header, without inflating it. */
static int course_tree_blob_size(git_repository *repo, const git_oid *id,
				 size_t *size)
{
	git_object_t type;
	git_odb *odb;
	int rc;

	if (git_repository_odb(&odb, repo))
		return -EIO;
	rc = git_odb_read_header(size, &type, odb, id);
	git_odb_free(odb);
	if (rc == GIT_ENOTFOUND)
		return -ENOENT;
	if (rc || type != GIT_OBJECT_BLOB)
		return -EIO;
	return 0;
}

static int course_tree_copy(git_repository *repo, const git_oid *id,
			    size_t max, struct buf *out)
{
	git_blob *blob;
	size_t size;
	int rc;

	rc = course_tree_blob_size(repo, id, &size);
	if (rc)
		return rc;
	if (size > max)
		return -EFBIG;

	if (git_blob_lookup(&blob, repo, id))
		return -EIO;
	if ((git_object_size_t)git_blob_rawsize(blob) > max)
		rc = -EFBIG;
	else
		rc = buf_append(out, git_blob_rawcontent(blob),
				(size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return rc;
}

/* ctx is the tree; its repository is the tree's owner. */
static int course_tree_read(void *ctx, const char *path, size_t max,
			    struct buf *out)
{
	git_tree *tree = ctx;
	git_tree_entry *entry;
	int rc;

	if (!course_path_safe(path))
		return -EACCES;
	rc = git_tree_entry_bypath(&entry, tree, path);
	if (rc)
		return rc == GIT_ENOTFOUND ? -ENOENT : -EIO;

	if (git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK)
		rc = -EACCES;
	else if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		rc = -ENOENT;
	else
		rc = course_tree_copy(git_tree_owner(tree),
				      git_tree_entry_id(entry), max, out);
	git_tree_entry_free(entry);
	return rc;
}

void course_reader_tree(struct course_reader *r, git_repository *repo,
			git_tree *tree)
{
	/* The reader has one context pointer; the tree knows its owner. */
	(void)repo;
	r->read = course_tree_read;
	r->ctx = tree;
	r->max_file = 0;
}
