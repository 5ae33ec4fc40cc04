/*
 * Payload codecs of the wire protocol: the canonical event encoding, its
 * signature, the EVENT frame, the control messages and the workspace's
 * signed reports (STATS, AUDIT_HEAD), laid out as the comment at the
 * top of proto/proto.h says.
 *
 * Decoding goes through a bounded reader over (pointer, length) whose
 * first error sticks, so a decoder reads every field in order and looks
 * at the error once. Strings are checked against the field's maximum
 * before anything is copied. Encoders check their input with the same
 * rules as the decoders, compute the payload length first, and append
 * nothing when they fail.
 */
#include "proto/proto.h"

#include "common/ids.h"
#include "common/log.h"

#include <assert.h>
#include <string.h>

#define PROTO_ID_CAP (IDS_MAX + 1)

/* ---- bounded reader ---- */

struct proto_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

static void rd_init(struct proto_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

/* The next n bytes, or NULL (and PROTO_ETRUNCATED) when they are not
 * all there. */
static const uint8_t *rd_take(struct proto_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (r->len - r->off < n) {
		r->err = PROTO_ETRUNCATED;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t rd_uint(struct proto_reader *r, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t rd_u8(struct proto_reader *r)
{
	return (uint8_t)rd_uint(r, 1);
}

static uint16_t rd_u16(struct proto_reader *r)
{
	return (uint16_t)rd_uint(r, 2);
}

static uint32_t rd_u32(struct proto_reader *r)
{
	return (uint32_t)rd_uint(r, 4);
}

static uint64_t rd_u64(struct proto_reader *r)
{
	return rd_uint(r, 8);
}

static int64_t rd_i64(struct proto_reader *r)
{
	uint64_t v = rd_uint(r, 8);
	int64_t s;

	memcpy(&s, &v, sizeof(s)); /* two's complement, no overflow */
	return s;
}

static void rd_raw(struct proto_reader *r, void *dst, size_t n)
{
	const uint8_t *p = rd_take(r, n);

	if (p)
		memcpy(dst, p, n);
}

/* A string of at most max bytes into dst (cap bytes, max < cap). */
static void rd_str(struct proto_reader *r, char *dst, size_t cap,
		   size_t max)
{
	uint16_t n = rd_u16(r);
	const uint8_t *p;

	dst[0] = 0;
	if (r->err)
		return;
	if (n > max || n >= cap) {
		r->err = PROTO_ETOOBIG;
		return;
	}
	p = rd_take(r, n);
	if (!p)
		return;
	if (memchr(p, 0, n)) {
		r->err = PROTO_EMALFORMED;
		return;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
}

/* The reader's error, or PROTO_EMALFORMED when bytes are left over. */
static int rd_end(const struct proto_reader *r)
{
	if (r->err)
		return r->err;
	return r->off == r->len ? 0 : PROTO_EMALFORMED;
}

/* ---- writer ---- */

struct proto_writer {
	struct buf *out;
	size_t start;
	int err;
};

static void wr_init(struct proto_writer *w, struct buf *out)
{
	w->out = out;
	w->start = out->len;
	w->err = 0;
}

static void wr_raw(struct proto_writer *w, const void *p, size_t n)
{
	if (!w->err && buf_append(w->out, p, n))
		w->err = PROTO_ENOMEM;
}

static void wr_uint(struct proto_writer *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> 8 * (n - 1 - i));
	wr_raw(w, b, n);
}

static void wr_u8(struct proto_writer *w, uint8_t v)
{
	wr_uint(w, v, 1);
}

static void wr_u32(struct proto_writer *w, uint32_t v)
{
	wr_uint(w, v, 4);
}

static void wr_u64(struct proto_writer *w, uint64_t v)
{
	wr_uint(w, v, 8);
}

static void wr_i64(struct proto_writer *w, int64_t v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	wr_uint(w, u, 8);
}

/* Strings are checked by the caller before anything is written. */
static void wr_str(struct proto_writer *w, const char *s)
{
	size_t n = strlen(s);

	wr_uint(w, n, 2);
	wr_raw(w, s, n);
}

static void wr_header(struct proto_writer *w, uint8_t type, size_t len)
{
	int rc;

	if (w->err)
		return;
	rc = proto_frame_header(w->out, type, len);
	if (rc)
		w->err = rc;
}

/* Undoes a failed write; the buffer is as it was before wr_init. */
static int wr_end(struct proto_writer *w)
{
	if (w->err && w->out->len > w->start) {
		w->out->len = w->start;
		w->out->data[w->start] = 0;
	}
	return w->err;
}

static size_t str_size(const char *s)
{
	return 2 + strlen(s);
}

/* ---- field rules, shared by encoders and decoders ---- */

/* s must be a NUL-terminated string within cap bytes. */
static int field_bounded(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

static int field_id(const char *s)
{
	return field_bounded(s, PROTO_ID_CAP) && ids_valid(s);
}

static int field_revision(const char *s, int may_be_empty)
{
	if (!field_bounded(s, IDS_REVISION_LEN + 1))
		return 0;
	return (may_be_empty && !s[0]) || ids_is_revision(s);
}

static int field_token(const char *s)
{
	size_t n;

	if (!field_bounded(s, PROTO_MAX_TOKEN + 1))
		return 0;
	n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return n > 0;
}

/* ---- errors ---- */

const char *proto_strerror(int code)
{
	switch (code) {
	case PROTO_OK:
		return "success";
	case PROTO_ETRUNCATED:
		return "input ends inside a field";
	case PROTO_ETOOBIG:
		return "frame or field over its limit";
	case PROTO_EMALFORMED:
		return "malformed field or trailing bytes";
	case PROTO_EVERSION:
		return "unknown protocol version";
	case PROTO_ESIGNATURE:
		return "signature does not verify";
	case PROTO_ETYPE:
		return "unknown or unexpected frame type";
	case PROTO_ENOMEM:
		return "out of memory";
	}
	return "unknown protocol error";
}

int proto_is_error(int code)
{
	return code <= PROTO_ETRUNCATED && code >= PROTO_ENOMEM;
}

/* ---- the signed event ---- */

static int event_check(const struct proto_event *ev)
{
	if (ev->version != PROTO_VERSION)
		return PROTO_EVERSION;
	if (!field_id(ev->tenant) || !field_id(ev->course))
		return PROTO_EMALFORMED;
	if (!field_revision(ev->prev_rev, 1) ||
	    !field_revision(ev->new_rev, 0))
		return PROTO_EMALFORMED;
	if (ev->seq == 0 || ev->kind != PROTO_KIND_REVISION)
		return PROTO_EMALFORMED;
	return 0;
}

static size_t event_size(const struct proto_event *ev)
{
	return 1 + str_size(ev->tenant) + 8 + str_size(ev->course) +
	       str_size(ev->prev_rev) + str_size(ev->new_rev) + 1 + 8 + 8 +
	       CRYPTO_SHA256_LEN + 8;
}

static void event_write(struct proto_writer *w, const struct proto_event *ev)
{
	wr_u8(w, ev->version);
	wr_str(w, ev->tenant);
	wr_u64(w, ev->seq);
	wr_str(w, ev->course);
	wr_str(w, ev->prev_rev);
	wr_str(w, ev->new_rev);
	wr_u8(w, ev->kind);
	wr_i64(w, ev->time);
	wr_i64(w, ev->expiry);
	wr_raw(w, ev->pack_sha256, CRYPTO_SHA256_LEN);
	wr_u64(w, ev->pack_len);
}

int proto_event_encode(const struct proto_event *ev, struct buf *out)
{
	struct proto_writer w;
	int rc = event_check(ev);

	if (rc)
		return rc;
	wr_init(&w, out);
	event_write(&w, ev);
	return wr_end(&w);
}

int proto_event_decode(const uint8_t *p, size_t len, struct proto_event *ev)
{
	struct proto_reader r;
	int rc;

	memset(ev, 0, sizeof(*ev));
	rd_init(&r, p, len);
	ev->version = rd_u8(&r);
	if (!r.err && ev->version != PROTO_VERSION)
		return PROTO_EVERSION;
	rd_str(&r, ev->tenant, sizeof(ev->tenant), IDS_MAX);
	ev->seq = rd_u64(&r);
	rd_str(&r, ev->course, sizeof(ev->course), IDS_MAX);
	rd_str(&r, ev->prev_rev, sizeof(ev->prev_rev), IDS_REVISION_LEN);
	rd_str(&r, ev->new_rev, sizeof(ev->new_rev), IDS_REVISION_LEN);
	ev->kind = rd_u8(&r);
	ev->time = rd_i64(&r);
	ev->expiry = rd_i64(&r);
	rd_raw(&r, ev->pack_sha256, CRYPTO_SHA256_LEN);
	ev->pack_len = rd_u64(&r);

	rc = rd_end(&r);
	return rc ? rc : event_check(ev);
}

/* "lms-event" || event encoding */
static int event_signed_bytes(const struct proto_event *ev, struct buf *msg)
{
	if (buf_append_str(msg, "lms-event"))
		return PROTO_ENOMEM;
	return proto_event_encode(ev, msg);
}

int proto_event_sign(const struct proto_event *ev,
		     const struct crypto_key *key,
		     uint8_t sig[CRYPTO_SIG_LEN])
{
	struct buf msg = { 0 };
	int rc = event_signed_bytes(ev, &msg);

	if (!rc && crypto_sign(key, msg.data, msg.len, sig)) {
		log_error("msg=\"cannot sign event\" tenant=%s seq=%llu",
			  ev->tenant, (unsigned long long)ev->seq);
		rc = PROTO_ENOMEM;
	}
	buf_release(&msg);
	return rc;
}

/* Fails closed: an event that cannot be encoded does not verify. */
int proto_event_verify(const struct proto_event *ev,
		       const uint8_t pub[CRYPTO_PUBKEY_LEN],
		       const uint8_t sig[CRYPTO_SIG_LEN])
{
	struct buf msg = { 0 };
	int rc = event_signed_bytes(ev, &msg);

	if (!rc && crypto_verify(pub, msg.data, msg.len, sig))
		rc = PROTO_ESIGNATURE;
	buf_release(&msg);
	return rc ? PROTO_ESIGNATURE : 0;
}

/* ---- EVENT frame ---- */

int proto_write_event(struct buf *out, const struct proto_event *ev,
		      const uint8_t sig[CRYPTO_SIG_LEN], const void *pack,
		      size_t pack_len)
{
	struct proto_writer w;
	size_t ev_len, len;
	int rc = event_check(ev);

	if (rc)
		return rc;
	if (ev->pack_len != pack_len)
		return PROTO_EMALFORMED;
	ev_len = event_size(ev);
	if (pack_len > SIZE_MAX - 4 - ev_len - CRYPTO_SIG_LEN)
		return PROTO_ETOOBIG;
	len = 4 + ev_len + CRYPTO_SIG_LEN + pack_len;

	wr_init(&w, out);
	wr_header(&w, PROTO_EVENT, len);
	wr_u32(&w, (uint32_t)ev_len);
	event_write(&w, ev);
	wr_raw(&w, sig, CRYPTO_SIG_LEN);
	wr_raw(&w, pack, pack_len);
	assert(w.err || out->len - w.start == PROTO_HEADER_LEN + len);
	return wr_end(&w);
}

int proto_read_event(const uint8_t *payload, size_t len,
		     struct proto_event_msg *msg)
{
	struct proto_reader r;
	const uint8_t *ev;
	uint32_t ev_len;
	int rc;

	memset(msg, 0, sizeof(*msg));
	rd_init(&r, payload, len);
	ev_len = rd_u32(&r);
	ev = rd_take(&r, ev_len);
	if (!ev)
		return r.err;
	rc = proto_event_decode(ev, ev_len, &msg->ev);
	if (rc)
		return rc;
	rd_raw(&r, msg->sig, CRYPTO_SIG_LEN);
	if (r.err)
		return r.err;

	if (r.len - r.off < msg->ev.pack_len)
		return PROTO_ETRUNCATED;
	if (r.len - r.off > msg->ev.pack_len)
		return PROTO_EMALFORMED;
	msg->pack = payload + r.off;
	msg->pack_len = r.len - r.off;
	return 0;
}

/* ---- control messages ---- */

int proto_write_challenge(struct buf *out, const struct proto_challenge *m)
{
	struct proto_writer w;

	if (m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	wr_init(&w, out);
	wr_header(&w, PROTO_CHALLENGE,
		  1 + PROTO_NONCE_LEN + CRYPTO_PUBKEY_LEN);
	wr_u8(&w, m->version);
	wr_raw(&w, m->nonce, PROTO_NONCE_LEN);
	wr_raw(&w, m->mother_pub, CRYPTO_PUBKEY_LEN);
	return wr_end(&w);
}

int proto_read_challenge(const uint8_t *p, size_t len,
			 struct proto_challenge *m)
{
	struct proto_reader r;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	m->version = rd_u8(&r);
	if (!r.err && m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	rd_raw(&r, m->nonce, PROTO_NONCE_LEN);
	rd_raw(&r, m->mother_pub, CRYPTO_PUBKEY_LEN);
	return rd_end(&r);
}

int proto_write_hello(struct buf *out, const struct proto_hello *m)
{
	struct proto_writer w;

	if (m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	if (!field_id(m->tenant))
		return PROTO_EMALFORMED;
	wr_init(&w, out);
	wr_header(&w, PROTO_HELLO,
		  1 + str_size(m->tenant) + 8 + CRYPTO_SIG_LEN);
	wr_u8(&w, m->version);
	wr_str(&w, m->tenant);
	wr_u64(&w, m->last_seq);
	wr_raw(&w, m->sig, CRYPTO_SIG_LEN);
	return wr_end(&w);
}

int proto_read_hello(const uint8_t *p, size_t len, struct proto_hello *m)
{
	struct proto_reader r;
	int rc;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	m->version = rd_u8(&r);
	if (!r.err && m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	rd_str(&r, m->tenant, sizeof(m->tenant), IDS_MAX);
	m->last_seq = rd_u64(&r);
	rd_raw(&r, m->sig, CRYPTO_SIG_LEN);
	rc = rd_end(&r);
	if (!rc && !ids_valid(m->tenant))
		rc = PROTO_EMALFORMED;
	return rc;
}

static int write_u64_msg(struct buf *out, uint8_t type, uint64_t v)
{
	struct proto_writer w;

	wr_init(&w, out);
	wr_header(&w, type, 8);
	wr_u64(&w, v);
	return wr_end(&w);
}

static int read_u64_msg(const uint8_t *p, size_t len, uint64_t *v)
{
	struct proto_reader r;

	rd_init(&r, p, len);
	*v = rd_u64(&r);
	return rd_end(&r);
}

int proto_write_welcome(struct buf *out, const struct proto_welcome *m)
{
	return write_u64_msg(out, PROTO_WELCOME, m->head_seq);
}

int proto_read_welcome(const uint8_t *p, size_t len,
		       struct proto_welcome *m)
{
	return read_u64_msg(p, len, &m->head_seq);
}

int proto_write_seq(struct buf *out, uint8_t type, const struct proto_seq *m)
{
	if (type != PROTO_ACK && type != PROTO_RESUME)
		return PROTO_ETYPE;
	return write_u64_msg(out, type, m->seq);
}

int proto_read_seq(const uint8_t *p, size_t len, struct proto_seq *m)
{
	return read_u64_msg(p, len, &m->seq);
}

int proto_write_enroll(struct buf *out, const struct proto_enroll *m)
{
	struct proto_writer w;

	if (!field_token(m->token))
		return PROTO_EMALFORMED;
	wr_init(&w, out);
	wr_header(&w, PROTO_ENROLL,
		  str_size(m->token) + CRYPTO_PUBKEY_LEN + PROTO_NONCE_LEN);
	wr_str(&w, m->token);
	wr_raw(&w, m->workspace_pub, CRYPTO_PUBKEY_LEN);
	wr_raw(&w, m->nonce, PROTO_NONCE_LEN);
	return wr_end(&w);
}

int proto_read_enroll(const uint8_t *p, size_t len, struct proto_enroll *m)
{
	struct proto_reader r;
	int rc;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	rd_str(&r, m->token, sizeof(m->token), PROTO_MAX_TOKEN);
	rd_raw(&r, m->workspace_pub, CRYPTO_PUBKEY_LEN);
	rd_raw(&r, m->nonce, PROTO_NONCE_LEN);
	rc = rd_end(&r);
	if (!rc && !field_token(m->token))
		rc = PROTO_EMALFORMED;
	return rc;
}

int proto_write_enrolled(struct buf *out, const struct proto_enrolled *m)
{
	struct proto_writer w;

	if (!field_id(m->tenant))
		return PROTO_EMALFORMED;
	wr_init(&w, out);
	wr_header(&w, PROTO_ENROLLED, str_size(m->tenant) + CRYPTO_SIG_LEN);
	wr_str(&w, m->tenant);
	wr_raw(&w, m->sig, CRYPTO_SIG_LEN);
	return wr_end(&w);
}

int proto_read_enrolled(const uint8_t *p, size_t len,
			struct proto_enrolled *m)
{
	struct proto_reader r;
	int rc;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	rd_str(&r, m->tenant, sizeof(m->tenant), IDS_MAX);
	rd_raw(&r, m->sig, CRYPTO_SIG_LEN);
	rc = rd_end(&r);
	if (!rc && !ids_valid(m->tenant))
		rc = PROTO_EMALFORMED;
	return rc;
}

int proto_write_error(struct buf *out, const struct proto_errmsg *m)
{
	struct proto_writer w;

	if (!field_bounded(m->message, sizeof(m->message)))
		return PROTO_ETOOBIG;
	wr_init(&w, out);
	wr_header(&w, PROTO_ERROR, 4 + str_size(m->message));
	wr_u32(&w, m->code);
	wr_str(&w, m->message);
	return wr_end(&w);
}

int proto_read_error(const uint8_t *p, size_t len, struct proto_errmsg *m)
{
	struct proto_reader r;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	m->code = rd_u32(&r);
	rd_str(&r, m->message, sizeof(m->message), PROTO_MAX_MESSAGE);
	return rd_end(&r);
}

int proto_write_ping(struct buf *out)
{
	return proto_frame_header(out, PROTO_PING, 0);
}

/* ---- session signatures ---- */

/* "lms-hello" || version u8 || mother nonce || tenant str || last_seq */
static int hello_signed_bytes(const struct proto_hello *m,
			      const uint8_t nonce[PROTO_NONCE_LEN],
			      struct buf *msg)
{
	struct proto_writer w;

	if (m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	if (!field_id(m->tenant))
		return PROTO_EMALFORMED;
	wr_init(&w, msg);
	wr_raw(&w, "lms-hello", 9);
	wr_u8(&w, m->version);
	wr_raw(&w, nonce, PROTO_NONCE_LEN);
	wr_str(&w, m->tenant);
	wr_u64(&w, m->last_seq);
	return wr_end(&w);
}

int proto_hello_sign(struct proto_hello *m,
		     const uint8_t nonce[PROTO_NONCE_LEN],
		     const struct crypto_key *workspace_key)
{
	struct buf msg = { 0 };
	int rc = hello_signed_bytes(m, nonce, &msg);

	if (!rc && crypto_sign(workspace_key, msg.data, msg.len, m->sig)) {
		log_error("msg=\"cannot sign hello\" tenant=%s", m->tenant);
		rc = PROTO_ENOMEM;
	}
	buf_release(&msg);
	return rc;
}

int proto_hello_verify(const struct proto_hello *m,
		       const uint8_t nonce[PROTO_NONCE_LEN],
		       const uint8_t workspace_pub[CRYPTO_PUBKEY_LEN])
{
	struct buf msg = { 0 };
	int rc = hello_signed_bytes(m, nonce, &msg);

	if (!rc && crypto_verify(workspace_pub, msg.data, msg.len, m->sig))
		rc = PROTO_ESIGNATURE;
	buf_release(&msg);
	return rc ? PROTO_ESIGNATURE : 0;
}

/* "lms-enroll" || workspace nonce || tenant str || workspace public key */
static int enrolled_signed_bytes(const struct proto_enrolled *m,
				 const struct proto_enroll *req,
				 struct buf *msg)
{
	struct proto_writer w;

	if (!field_id(m->tenant))
		return PROTO_EMALFORMED;
	wr_init(&w, msg);
	wr_raw(&w, "lms-enroll", 10);
	wr_raw(&w, req->nonce, PROTO_NONCE_LEN);
	wr_str(&w, m->tenant);
	wr_raw(&w, req->workspace_pub, CRYPTO_PUBKEY_LEN);
	return wr_end(&w);
}

int proto_enrolled_sign(struct proto_enrolled *m,
			const struct proto_enroll *req,
			const struct crypto_key *mother_key)
{
	struct buf msg = { 0 };
	int rc = enrolled_signed_bytes(m, req, &msg);

	if (!rc && crypto_sign(mother_key, msg.data, msg.len, m->sig)) {
		log_error("msg=\"cannot sign enrolment\" tenant=%s",
			  m->tenant);
		rc = PROTO_ENOMEM;
	}
	buf_release(&msg);
	return rc;
}

int proto_enrolled_verify(const struct proto_enrolled *m,
			  const struct proto_enroll *req,
			  const uint8_t mother_pub[CRYPTO_PUBKEY_LEN])
{
	struct buf msg = { 0 };
	int rc = enrolled_signed_bytes(m, req, &msg);

	if (!rc && crypto_verify(mother_pub, msg.data, msg.len, m->sig))
		rc = PROTO_ESIGNATURE;
	buf_release(&msg);
	return rc ? PROTO_ESIGNATURE : 0;
}

/* ---- reports from the workspace ---- */

static int field_hash(const char *s)
{
	if (!field_bounded(s, PROTO_HASH_HEX + 1) ||
	    strlen(s) != PROTO_HASH_HEX)
		return 0;
	for (size_t i = 0; i < PROTO_HASH_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int stats_check(const struct proto_stats *m)
{
	if (m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	if (!field_id(m->tenant) || m->counter == 0)
		return PROTO_EMALFORMED;
	if (m->body_len == 0 || !m->body)
		return PROTO_EMALFORMED;
	if (m->body_len > PROTO_MAX_STATS_BODY)
		return PROTO_ETOOBIG;
	if (memchr(m->body, 0, m->body_len))
		return PROTO_EMALFORMED;
	return 0;
}

/* The fields both the frame and the signature carry, in order. */
static void stats_fields(struct proto_writer *w, const struct proto_stats *m)
{
	wr_str(w, m->tenant);
	wr_u64(w, m->counter);
	wr_i64(w, m->time);
	wr_u32(w, (uint32_t)m->body_len);
	wr_raw(w, m->body, m->body_len);
}

int proto_write_stats(struct buf *out, const struct proto_stats *m)
{
	struct proto_writer w;
	int rc = stats_check(m);

	if (rc)
		return rc;
	wr_init(&w, out);
	wr_header(&w, PROTO_STATS,
		  1 + str_size(m->tenant) + 8 + 8 + 4 + m->body_len +
			  CRYPTO_SIG_LEN);
	wr_u8(&w, m->version);
	stats_fields(&w, m);
	wr_raw(&w, m->sig, CRYPTO_SIG_LEN);
	return wr_end(&w);
}

int proto_read_stats(const uint8_t *p, size_t len, struct proto_stats *m)
{
	struct proto_reader r;
	uint32_t body_len;
	int rc;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	m->version = rd_u8(&r);
	if (!r.err && m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	rd_str(&r, m->tenant, sizeof(m->tenant), IDS_MAX);
	m->counter = rd_u64(&r);
	m->time = rd_i64(&r);
	body_len = rd_u32(&r);
	if (!r.err && body_len > PROTO_MAX_STATS_BODY)
		return PROTO_ETOOBIG;
	m->body = rd_take(&r, body_len);
	m->body_len = body_len;
	rd_raw(&r, m->sig, CRYPTO_SIG_LEN);
	rc = rd_end(&r);
	return rc ? rc : stats_check(m);
}

static int audit_head_check(const struct proto_audit_head *m)
{
	if (m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	if (!field_id(m->tenant) || m->counter == 0 || !field_hash(m->hash))
		return PROTO_EMALFORMED;
	return 0;
}

static void audit_head_fields(struct proto_writer *w,
			      const struct proto_audit_head *m)
{
	wr_str(w, m->tenant);
	wr_u64(w, m->counter);
	wr_u64(w, m->seq);
	wr_str(w, m->hash);
	wr_i64(w, m->time);
}

int proto_write_audit_head(struct buf *out, const struct proto_audit_head *m)
{
	struct proto_writer w;
	int rc = audit_head_check(m);

	if (rc)
		return rc;
	wr_init(&w, out);
	wr_header(&w, PROTO_AUDIT_HEAD,
		  1 + str_size(m->tenant) + 8 + 8 + str_size(m->hash) + 8 +
			  CRYPTO_SIG_LEN);
	wr_u8(&w, m->version);
	audit_head_fields(&w, m);
	wr_raw(&w, m->sig, CRYPTO_SIG_LEN);
	return wr_end(&w);
}

int proto_read_audit_head(const uint8_t *p, size_t len,
			  struct proto_audit_head *m)
{
	struct proto_reader r;
	int rc;

	memset(m, 0, sizeof(*m));
	rd_init(&r, p, len);
	m->version = rd_u8(&r);
	if (!r.err && m->version != PROTO_VERSION)
		return PROTO_EVERSION;
	rd_str(&r, m->tenant, sizeof(m->tenant), IDS_MAX);
	m->counter = rd_u64(&r);
	m->seq = rd_u64(&r);
	rd_str(&r, m->hash, sizeof(m->hash), PROTO_HASH_HEX);
	m->time = rd_i64(&r);
	rd_raw(&r, m->sig, CRYPTO_SIG_LEN);
	rc = rd_end(&r);
	return rc ? rc : audit_head_check(m);
}

/* domain || version u8 || mother nonce: the start of a report's signed
 * bytes. */
static void report_prefix(struct proto_writer *w, const char *domain,
			  const uint8_t nonce[PROTO_NONCE_LEN])
{
	wr_raw(w, domain, strlen(domain));
	wr_u8(w, PROTO_VERSION);
	wr_raw(w, nonce, PROTO_NONCE_LEN);
}

static int stats_signed_bytes(const struct proto_stats *m,
			      const uint8_t nonce[PROTO_NONCE_LEN],
			      struct buf *msg)
{
	struct proto_writer w;
	int rc = stats_check(m);

	if (rc)
		return rc;
	wr_init(&w, msg);
	report_prefix(&w, "lms-stats", nonce);
	stats_fields(&w, m);
	return wr_end(&w);
}

static int audit_head_signed_bytes(const struct proto_audit_head *m,
				   const uint8_t nonce[PROTO_NONCE_LEN],
				   struct buf *msg)
{
	struct proto_writer w;
	int rc = audit_head_check(m);

	if (rc)
		return rc;
	wr_init(&w, msg);
	report_prefix(&w, "lms-audit-head", nonce);
	audit_head_fields(&w, m);
	return wr_end(&w);
}

/* Signs msg into sig with key; frees msg. rc is msg's building result. */
static int report_sign(int rc, struct buf *msg, const struct crypto_key *key,
		       uint8_t sig[CRYPTO_SIG_LEN], const char *what)
{
	if (!rc && crypto_sign(key, msg->data, msg->len, sig)) {
		log_error("msg=\"cannot sign report\" report=%s", what);
		rc = PROTO_ENOMEM;
	}
	buf_release(msg);
	return rc;
}

/* Fails closed, like proto_event_verify. */
static int report_verify(int rc, struct buf *msg,
			 const uint8_t pub[CRYPTO_PUBKEY_LEN],
			 const uint8_t sig[CRYPTO_SIG_LEN])
{
	if (!rc && crypto_verify(pub, msg->data, msg->len, sig))
		rc = PROTO_ESIGNATURE;
	buf_release(msg);
	return rc ? PROTO_ESIGNATURE : 0;
}

int proto_stats_sign(struct proto_stats *m,
		     const uint8_t nonce[PROTO_NONCE_LEN],
		     const struct crypto_key *workspace_key)
{
	struct buf msg = { 0 };
	int rc = stats_signed_bytes(m, nonce, &msg);

	return report_sign(rc, &msg, workspace_key, m->sig, "stats");
}

int proto_stats_verify(const struct proto_stats *m,
		       const uint8_t nonce[PROTO_NONCE_LEN],
		       const uint8_t workspace_pub[CRYPTO_PUBKEY_LEN])
{
	struct buf msg = { 0 };
	int rc = stats_signed_bytes(m, nonce, &msg);

	return report_verify(rc, &msg, workspace_pub, m->sig);
}

int proto_audit_head_sign(struct proto_audit_head *m,
			  const uint8_t nonce[PROTO_NONCE_LEN],
			  const struct crypto_key *workspace_key)
{
	struct buf msg = { 0 };
	int rc = audit_head_signed_bytes(m, nonce, &msg);

	return report_sign(rc, &msg, workspace_key, m->sig, "audit_head");
}

int proto_audit_head_verify(const struct proto_audit_head *m,
			    const uint8_t nonce[PROTO_NONCE_LEN],
			    const uint8_t workspace_pub[CRYPTO_PUBKEY_LEN])
{
	struct buf msg = { 0 };
	int rc = audit_head_signed_bytes(m, nonce, &msg);

	return report_verify(rc, &msg, workspace_pub, m->sig);
}
