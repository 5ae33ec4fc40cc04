/*
 * Growable byte buffers.
 *
 * A struct buf owns its memory. Zero-initialise it or call buf_init();
 * release it with buf_release(). Appending functions return 0 or -ENOMEM
 * and leave the buffer unchanged on failure. The data is kept
 * NUL-terminated past len whenever it is non-empty, so text can be used
 * as a C string through buf_cstr().
 */
#ifndef LMS_BUF_H
#define LMS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);

/* Makes room for extra more bytes (plus the terminator). */
int buf_reserve(struct buf *b, size_t extra);

int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Drops the first n bytes, moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);

/* Frees the memory; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);

/* The contents as a NUL-terminated string ("" when empty); borrowed. */
const char *buf_cstr(const struct buf *b);

/* Hands the memory to the caller (free() it); the buffer becomes empty. */
uint8_t *buf_detach(struct buf *b, size_t *len);

#endif
