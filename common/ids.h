/*
 * Identifiers shared by courses, lessons and tenants, and revision ids.
 *
 * An id is 1 to 64 characters of a-z, 0-9 and '-'. A revision is a git
 * commit id: exactly 40 lower-case hex digits.
 */
#ifndef LMS_IDS_H
#define LMS_IDS_H

#define IDS_MAX 64
#define IDS_REVISION_LEN 40

/* 1 when s is a valid id, 0 otherwise. */
int ids_valid(const char *s);

/* 1 when s is a 40-digit lower-case hex revision id, 0 otherwise. */
int ids_is_revision(const char *s);

#endif
