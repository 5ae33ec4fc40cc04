/*
 * Files and directories: bounded reads, durable atomic writes, paths.
 *
 * Functions return 0 or a negative errno value. Returned char * paths are
 * malloc'd and owned by the caller.
 */
#ifndef LMS_FS_H
#define LMS_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

/* Appends the file's contents to out; -EFBIG when it is larger than max
 * (checked before reading). */
int fs_read_file(const char *path, size_t max, struct buf *out);

/* Writes a file durably: temporary file, fsync, rename, fsync of the
 * directory. Readers see the old or the new contents, never a part. */
int fs_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode);

/* Creates a directory and its parents; an existing directory is fine. */
int fs_mkdir_p(const char *path, mode_t mode);

/* 1 if the path exists, 0 if not. */
int fs_exists(const char *path);

/* Joins two path parts with one slash. */
char *fs_join(const char *a, const char *b);

/* The absolute, resolved form of an existing path, or NULL. */
char *fs_abspath(const char *path);

/* The absolute path of the running executable, or NULL. */
char *fs_self_exe(void);

/* Removes a directory tree (for tests and failed set-ups). */
int fs_remove_tree(const char *path);

#endif
