/*
 * Frames: the 5-byte header and the incremental frame decoder.
 *
 * A frame is a u32 big-endian payload length, a u8 type and the payload.
 * The length counts the payload only, not the type byte: a PING is the
 * five bytes 00 00 00 00 0a. Every other type carries at least one byte,
 * a PING exactly none.
 *
 * The decoder checks each header as soon as its five bytes are in, while
 * the bytes are fed and before the payload is buffered, so a peer cannot
 * make us hold more than one frame's limit. Frames are handed out as
 * pointers into the buffer; consumed bytes are not moved away at once
 * but skipped with a read offset, and the buffer is compacted only when
 * the consumed part outgrows the unread part, so a read full of small
 * frames costs linear time.
 */
#include "proto/proto.h"

#include <string.h>

#define DEC_KEEP_CAP (256 * 1024) /* kept between frames */

static uint32_t frame_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int frame_type_known(uint8_t type)
{
	return type >= PROTO_CHALLENGE && type <= PROTO_AUDIT_HEAD;
}

/* The rule for a header, shared by the decoder and the encoders. */
static int frame_check(uint8_t type, uint64_t len, size_t max_frame)
{
	uint64_t limit = type == PROTO_EVENT ? max_frame :
			 type == PROTO_STATS ? PROTO_MAX_STATS :
					       PROTO_MAX_CONTROL;

	if (!frame_type_known(type))
		return PROTO_ETYPE;
	if (len > limit || len > UINT32_MAX)
		return PROTO_ETOOBIG;
	if ((len == 0) != (type == PROTO_PING))
		return PROTO_EMALFORMED;
	return 0;
}

int proto_frame_header(struct buf *out, uint8_t type, size_t len)
{
	uint8_t h[PROTO_HEADER_LEN];
	int rc = frame_check(type, len, UINT32_MAX);

	if (rc)
		return rc;
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	h[4] = type;
	return buf_append(out, h, sizeof(h)) ? PROTO_ENOMEM : 0;
}

void proto_decoder_init(struct proto_decoder *d, size_t max_frame)
{
	buf_init(&d->in);
	d->max_frame = max_frame ? max_frame : PROTO_DEFAULT_MAX_FRAME;
	d->head = d->scan = 0;
	d->error = 0;
}

void proto_decoder_release(struct proto_decoder *d)
{
	buf_release(&d->in);
}

/* Drops consumed bytes: all of them for free when nothing is left
 * unread, otherwise by moving the rest once it is the smaller part. A
 * buffer grown for a big frame is given back once it is empty. */
static void dec_compact(struct proto_decoder *d)
{
	size_t used = d->head, left = d->in.len - d->head;

	if (left == 0 && d->in.cap > DEC_KEEP_CAP) {
		buf_release(&d->in);
		d->head = d->scan = 0;
		return;
	}
	if (used == 0 || left > used)
		return;
	memmove(d->in.data, d->in.data + d->head, left);
	d->in.len = left;
	d->in.data[d->in.len] = 0;
	d->scan -= used;
	d->head = 0;
}

/* Byte i of the buffered bytes followed by the new ones. */
static uint8_t dec_byte(const struct proto_decoder *d, const uint8_t *data,
			size_t i)
{
	return i < d->in.len ? d->in.data[i] : data[i - d->in.len];
}

/* Checks every frame header that is complete once data is appended,
 * without appending it yet. */
static int dec_scan(struct proto_decoder *d, const uint8_t *data,
		    size_t len)
{
	uint64_t end = (uint64_t)d->in.len + len;
	uint64_t pos = d->scan;
	uint8_t h[PROTO_HEADER_LEN];
	int rc;

	while (pos + PROTO_HEADER_LEN <= end) {
		for (size_t i = 0; i < PROTO_HEADER_LEN; i++)
			h[i] = dec_byte(d, data, (size_t)pos + i);
		rc = frame_check(h[4], frame_get_u32(h), d->max_frame);
		if (rc)
			return rc;
		pos += PROTO_HEADER_LEN + frame_get_u32(h);
	}
	d->scan = (size_t)pos;
	return 0;
}

int proto_decoder_feed(struct proto_decoder *d, const void *data,
		       size_t len)
{
	int rc;

	if (d->error || len == 0)
		return d->error;
	dec_compact(d);
	rc = dec_scan(d, data, len);
	if (!rc && buf_append(&d->in, data, len))
		rc = PROTO_ENOMEM;
	d->error = rc;
	return rc;
}

int proto_decoder_next(struct proto_decoder *d, struct proto_frame *f)
{
	uint32_t len;

	if (d->error)
		return d->error;
	dec_compact(d);
	if (d->in.len - d->head < PROTO_HEADER_LEN)
		return 0;
	len = frame_get_u32(d->in.data + d->head);
	d->error = frame_check(d->in.data[d->head + 4], len, d->max_frame);
	if (d->error)
		return d->error;
	if (d->in.len - d->head - PROTO_HEADER_LEN < len)
		return 0;

	f->type = d->in.data[d->head + 4];
	f->payload = d->in.data + d->head + PROTO_HEADER_LEN;
	f->len = len;
	d->head += PROTO_HEADER_LEN + len;
	return 1;
}
