/*
 * UTF-8 as the project accepts it: well-formed sequences only, so no
 * overlong forms, no surrogates (U+D800 to U+DFFF) and nothing past
 * U+10FFFF. Used wherever text from outside is checked (course files,
 * CSV imports, branding, mail).
 */
#ifndef LMS_UTF8_H
#define LMS_UTF8_H

#include <stddef.h>

/* The length (1 to 4) of the well-formed sequence at s, of which avail
 * bytes may be read (at least 1), or 0 when there is none. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

/* 1 when the n bytes at s are well-formed UTF-8 (NUL bytes included). */
int utf8_valid(const char *s, size_t n);

#endif
