/*
 * The course package format, version 1, and its validation.
 *
 * A course is a tree of files: course.json, lessons/ (Markdown), quizzes/
 * (JSON) and media/. The same validation runs on a directory (course publish
 * DIR) and on a git tree (a push, or a revision a workspace receives),
 * through a reader that fetches a file by its path in the course.
 *
 * On failure the validator fills a struct course_error with the file
 * concerned and a reason a person can act on, e.g.
 *   file="lessons/intro.md" reason="file not found"
 */
#ifndef LMS_COURSE_H
#define LMS_COURSE_H

#include <git2.h>
#include <stddef.h>

#include "common/buf.h"

#define COURSE_FORMAT 1
#define COURSE_MAX_LESSONS 500
#define COURSE_DEFAULT_MAX_FILE (64u << 20) /* bytes per file */
#define COURSE_MAX_JSON (1u << 20)	    /* course.json, quiz files */

struct course_error {
	char file[256];	  /* path in the course, "" if not about one file */
	char reason[256];
};

/* Reads the file at a relative path of the course into out (appending).
 * Returns 0, -ENOENT when missing, -EFBIG when larger than max, or
 * another negative errno. */
typedef int (*course_read_fn)(void *ctx, const char *path, size_t max,
			      struct buf *out);

struct course_reader {
	course_read_fn read;
	void *ctx;
	size_t max_file; /* 0 means COURSE_DEFAULT_MAX_FILE */
};

struct course_lesson {
	char id[65];
	char *title; /* in the course's default language; malloc'd */
	char *file;  /* "lessons/x.md" for a text lesson, or NULL */
	char *quiz;  /* "quizzes/x.json" for a quiz, or NULL */
};

struct course_info {
	char id[65];
	char language[16];
	char *title; /* default-language title; malloc'd */
	int duration_minutes;
	int retrain_any; /* "retrain_on": "any" */
	size_t lesson_count;
	struct course_lesson *lessons;
};

/* Validates the whole course: course.json, every lesson file and quiz
 * (existence, size, quiz structure with answers), ids, duplicates and
 * paths that would leave the course. If expect_id is not NULL the id in
 * course.json must equal it. On success fills info (release it with
 * course_info_release); on failure fills err and returns -1. */
int course_validate(const struct course_reader *r, const char *expect_id,
		    struct course_info *info, struct course_error *err);

void course_info_release(struct course_info *info);

/* A reader over a directory on disk. Refuses absolute paths, "..", and
 * symbolic links that lead out of root. root is borrowed. */
void course_reader_dir(struct course_reader *r, const char *root);

/* A reader over a git tree (borrowed; it must outlive the reader). */
void course_reader_tree(struct course_reader *r, git_repository *repo,
			git_tree *tree);

/* 1 when a relative path stays inside the course (no leading '/', no ".."
 * component, no empty component, no backslash), 0 otherwise. */
int course_path_safe(const char *path);

/* Formats an error as "FILE: REASON" (or just the reason). */
void course_error_format(const struct course_error *err, char *out,
			 size_t cap);

#endif
