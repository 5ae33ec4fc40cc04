/*
 * Unit tests of proto/: frames, the frame decoder, the canonical event
 * encoding, signatures and every control message.
 *
 * Layouts are checked against bytes built here by hand from the comment
 * in proto/proto.h, not against the encoder's own output, and signatures
 * are verified over byte strings assembled the same way, because another
 * implementation (the Node.js integration test) relies on them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ids.h"
#include "proto/proto.h"

static const char rev_a[] = "0123456789abcdef0123456789abcdef01234567";
static const char rev_b[] = "fedcba9876543210fedcba9876543210fedcba98";

/* ---- keys, made once for the whole run ---- */

struct keys {
	char dir[64];
	struct crypto_key *mother, *workspace;
	uint8_t mother_pub[CRYPTO_PUBKEY_LEN];
	uint8_t workspace_pub[CRYPTO_PUBKEY_LEN];
};

static struct keys *keys_of(void **state)
{
	return *state;
}

static int keys_setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));
	char path[128];

	assert_non_null(k);
	strcpy(k->dir, "/tmp/test_proto.XXXXXX");
	assert_non_null(mkdtemp(k->dir));
	snprintf(path, sizeof(path), "%s/mother.pem", k->dir);
	assert_int_equal(crypto_key_generate(path, &k->mother), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/workspace.pem", k->dir);
	assert_int_equal(crypto_key_generate(path, &k->workspace), 0);
	unlink(path);
	rmdir(k->dir);
	crypto_key_public(k->mother, k->mother_pub);
	crypto_key_public(k->workspace, k->workspace_pub);
	*state = k;
	return 0;
}

static int keys_teardown(void **state)
{
	struct keys *k = *state;

	crypto_key_free(k->mother);
	crypto_key_free(k->workspace);
	free(k);
	return 0;
}

/* ---- hand-built payloads ---- */

static void put_uint(struct buf *b, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		uint8_t byte = (uint8_t)(v >> (8 * i));
		assert_int_equal(buf_append(b, &byte, 1), 0);
	}
}

static void put_str(struct buf *b, const char *s)
{
	put_uint(b, strlen(s), 2);
	assert_int_equal(buf_append(b, s, strlen(s)), 0);
}

static void put_raw(struct buf *b, const void *p, size_t n)
{
	assert_int_equal(buf_append(b, p, n), 0);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void sample_event(struct proto_event *ev, uint64_t pack_len)
{
	memset(ev, 0, sizeof(*ev));
	ev->version = PROTO_VERSION;
	strcpy(ev->tenant, "care-home-7");
	ev->seq = 42;
	strcpy(ev->course, "hygiene-basics");
	strcpy(ev->prev_rev, rev_a);
	strcpy(ev->new_rev, rev_b);
	ev->kind = PROTO_KIND_REVISION;
	ev->time = 1790000000;
	ev->expiry = -5; /* negative values survive the i64 round trip */
	fill(ev->pack_sha256, CRYPTO_SHA256_LEN, 3);
	ev->pack_len = pack_len;
}

/* The event encoding as the header comment describes it. */
static void hand_event(struct buf *b, const struct proto_event *ev)
{
	put_uint(b, ev->version, 1);
	put_str(b, ev->tenant);
	put_uint(b, ev->seq, 8);
	put_str(b, ev->course);
	put_str(b, ev->prev_rev);
	put_str(b, ev->new_rev);
	put_uint(b, ev->kind, 1);
	put_uint(b, (uint64_t)ev->time, 8);
	put_uint(b, (uint64_t)ev->expiry, 8);
	put_raw(b, ev->pack_sha256, CRYPTO_SHA256_LEN);
	put_uint(b, ev->pack_len, 8);
}

/* Decodes exactly one frame from a whole encoded buffer and copies its
 * payload out (the decoder is gone afterwards). */
static uint8_t single_frame(const struct buf *in, struct buf *payload)
{
	struct proto_decoder d;
	struct proto_frame f;
	uint8_t type;

	proto_decoder_init(&d, 0);
	assert_int_equal(proto_decoder_feed(&d, in->data, in->len), 0);
	assert_int_equal(proto_decoder_next(&d, &f), 1);
	buf_reset(payload);
	put_raw(payload, f.payload, f.len);
	type = f.type;
	assert_int_equal(proto_decoder_next(&d, &f), 0);
	proto_decoder_release(&d);
	return type;
}

/* ---- proto_strerror and frame headers ---- */

static void test_strerror(void **state)
{
	static const int codes[] = { PROTO_OK,	      PROTO_ETRUNCATED,
				     PROTO_ETOOBIG,   PROTO_EMALFORMED,
				     PROTO_EVERSION,  PROTO_ESIGNATURE,
				     PROTO_ETYPE,     PROTO_ENOMEM };
	size_t n = sizeof(codes) / sizeof(codes[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const char *s = proto_strerror(codes[i]);
		assert_non_null(s);
		assert_true(strlen(s) > 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s, proto_strerror(codes[j]));
	}
	assert_non_null(proto_strerror(-1000));
}

static void test_frame_header(void **state)
{
	static const uint8_t ping[] = { 0, 0, 0, 0, PROTO_PING };
	static const uint8_t ack[] = { 0, 0, 0x01, 0x02, PROTO_ACK };
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(proto_write_ping(&b), 0);
	assert_int_equal(b.len, sizeof(ping));
	assert_memory_equal(b.data, ping, sizeof(ping));

	buf_reset(&b);
	assert_int_equal(proto_frame_header(&b, PROTO_ACK, 0x102), 0);
	assert_memory_equal(b.data, ack, sizeof(ack));

	buf_reset(&b);
	assert_int_equal(proto_frame_header(&b, 0, 8), PROTO_ETYPE);
	assert_int_equal(proto_frame_header(&b, 13, 8), PROTO_ETYPE);
	assert_int_equal(proto_frame_header(&b, PROTO_ACK, 0),
			 PROTO_EMALFORMED);
	assert_int_equal(proto_frame_header(&b, PROTO_PING, 1),
			 PROTO_EMALFORMED);
	assert_int_equal(proto_frame_header(&b, PROTO_HELLO,
					    PROTO_MAX_CONTROL + 1),
			 PROTO_ETOOBIG);
	assert_int_equal(proto_frame_header(&b, PROTO_EVENT,
					    (size_t)UINT32_MAX + 1),
			 PROTO_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(proto_frame_header(&b, PROTO_EVENT, UINT32_MAX), 0);
	buf_release(&b);
}

/* ---- the event encoding ---- */

static void test_event_layout(void **state)
{
	struct proto_event ev, back;
	struct buf enc = { 0 }, hand = { 0 }, again = { 0 };

	(void)state;
	sample_event(&ev, 1234);
	assert_int_equal(proto_event_encode(&ev, &enc), 0);
	hand_event(&hand, &ev);
	assert_int_equal(enc.len, hand.len);
	assert_memory_equal(enc.data, hand.data, hand.len);

	/* a few fields at their offsets */
	assert_int_equal(enc.data[0], PROTO_VERSION);
	assert_int_equal(get_be(enc.data + 1, 2), strlen("care-home-7"));
	assert_memory_equal(enc.data + 3, "care-home-7", 11);
	assert_int_equal(get_be(enc.data + 14, 8), 42);
	assert_int_equal(get_be(enc.data + enc.len - 8, 8), 1234);

	assert_int_equal(proto_event_decode(enc.data, enc.len, &back), 0);
	assert_memory_equal(&back, &ev, sizeof(ev));
	assert_int_equal(proto_event_encode(&back, &again), 0);
	assert_int_equal(again.len, enc.len);
	assert_memory_equal(again.data, enc.data, enc.len);

	buf_release(&enc);
	buf_release(&hand);
	buf_release(&again);
}

static void test_event_first_revision(void **state)
{
	struct proto_event ev, back;
	struct buf enc = { 0 };

	(void)state;
	sample_event(&ev, 0);
	ev.prev_rev[0] = 0;
	assert_int_equal(proto_event_encode(&ev, &enc), 0);
	assert_int_equal(proto_event_decode(enc.data, enc.len, &back), 0);
	assert_string_equal(back.prev_rev, "");
	assert_string_equal(back.new_rev, rev_b);
	buf_release(&enc);
}

/* Offset of the kind byte in the sample event's encoding. */
static size_t sample_kind_offset(const struct proto_event *ev)
{
	return 1 + 2 + strlen(ev->tenant) + 8 + 2 + strlen(ev->course) + 2 +
	       strlen(ev->prev_rev) + 2 + strlen(ev->new_rev);
}

static int decode_patched(const struct buf *enc, size_t off, uint8_t v)
{
	struct proto_event ev;
	struct buf b = { 0 };
	int rc;

	put_raw(&b, enc->data, enc->len);
	b.data[off] = v;
	rc = proto_event_decode(b.data, b.len, &ev);
	buf_release(&b);
	return rc;
}

static void test_event_bad_fields(void **state)
{
	struct proto_event ev;
	struct buf enc = { 0 };
	size_t kind, prev, next;

	(void)state;
	sample_event(&ev, 10);
	assert_int_equal(proto_event_encode(&ev, &enc), 0);
	kind = sample_kind_offset(&ev);
	prev = 1 + 2 + 11 + 8 + 2 + 14 + 2; /* first digit of prev_rev */
	next = prev + 40 + 2;

	assert_int_equal(decode_patched(&enc, 0, 2), PROTO_EVERSION);
	assert_int_equal(decode_patched(&enc, 0, 0), PROTO_EVERSION);
	assert_int_equal(decode_patched(&enc, 3, 'C'), PROTO_EMALFORMED);
	assert_int_equal(decode_patched(&enc, 3, '_'), PROTO_EMALFORMED);
	assert_int_equal(decode_patched(&enc, 3, 0), PROTO_EMALFORMED);
	assert_int_equal(decode_patched(&enc, 1 + 2 + 11 + 8 + 2, 'H'),
			 PROTO_EMALFORMED);
	assert_int_equal(decode_patched(&enc, prev, 'g'), PROTO_EMALFORMED);
	assert_int_equal(decode_patched(&enc, next, 'F'), PROTO_EMALFORMED);
	assert_int_equal(decode_patched(&enc, kind, 0), PROTO_EMALFORMED);
	assert_int_equal(decode_patched(&enc, kind, 2), PROTO_EMALFORMED);
	/* seq 0 does not exist: streams count from 1 */
	for (int i = 0; i < 8; i++)
		enc.data[14 + i] = 0;
	assert_int_equal(proto_event_decode(enc.data, enc.len, &ev),
			 PROTO_EMALFORMED);
	buf_release(&enc);
}

/* The event up to and including prev_rev, with prev_rev given. */
static void hand_event_head(struct buf *b, const char *tenant,
			    const char *prev_rev)
{
	put_uint(b, PROTO_VERSION, 1);
	put_str(b, tenant);
	put_uint(b, 42, 8);
	put_str(b, "hygiene-basics");
	put_str(b, prev_rev);
}

static void test_event_bad_strings(void **state)
{
	struct proto_event ev, back;
	char text[IDS_REVISION_LEN + IDS_MAX];
	struct buf b = { 0 };

	(void)state;
	/* a tenant of 65 valid characters */
	memset(text, 'a', IDS_MAX + 1);
	text[IDS_MAX + 1] = 0;
	hand_event_head(&b, text, "");
	assert_int_equal(proto_event_decode(b.data, b.len, &back),
			 PROTO_ETOOBIG);

	/* a revision of 41 digits */
	buf_reset(&b);
	memset(text, 'a', IDS_REVISION_LEN + 1);
	text[IDS_REVISION_LEN + 1] = 0;
	hand_event_head(&b, "t", text);
	assert_int_equal(proto_event_decode(b.data, b.len, &back),
			 PROTO_ETOOBIG);

	/* a new revision of 39 digits, or none */
	sample_event(&ev, 0);
	ev.new_rev[39] = 0;
	buf_reset(&b);
	hand_event(&b, &ev);
	assert_int_equal(proto_event_decode(b.data, b.len, &back),
			 PROTO_EMALFORMED);
	ev.new_rev[0] = 0;
	buf_reset(&b);
	hand_event(&b, &ev);
	assert_int_equal(proto_event_decode(b.data, b.len, &back),
			 PROTO_EMALFORMED);
	buf_release(&b);
}

static void test_event_truncated_and_trailing(void **state)
{
	struct proto_event ev, back;
	struct buf enc = { 0 };

	(void)state;
	sample_event(&ev, 99);
	assert_int_equal(proto_event_encode(&ev, &enc), 0);
	for (size_t n = 0; n < enc.len; n++)
		assert_int_equal(proto_event_decode(enc.data, n, &back),
				 PROTO_ETRUNCATED);
	put_raw(&enc, "", 1);
	assert_int_equal(proto_event_decode(enc.data, enc.len, &back),
			 PROTO_EMALFORMED);
	buf_release(&enc);
}

static void test_event_encoder_refuses(void **state)
{
	struct proto_event ev;
	struct buf b = { 0 };

	(void)state;
	put_raw(&b, "x", 1);

	sample_event(&ev, 0);
	ev.version = 2;
	assert_int_equal(proto_event_encode(&ev, &b), PROTO_EVERSION);
	sample_event(&ev, 0);
	strcpy(ev.tenant, "Care");
	assert_int_equal(proto_event_encode(&ev, &b), PROTO_EMALFORMED);
	sample_event(&ev, 0);
	memset(ev.course, 'a', sizeof(ev.course)); /* no terminator */
	assert_int_equal(proto_event_encode(&ev, &b), PROTO_EMALFORMED);
	sample_event(&ev, 0);
	strcpy(ev.prev_rev, "abc");
	assert_int_equal(proto_event_encode(&ev, &b), PROTO_EMALFORMED);
	sample_event(&ev, 0);
	ev.kind = 7;
	assert_int_equal(proto_event_encode(&ev, &b), PROTO_EMALFORMED);
	sample_event(&ev, 0);
	ev.seq = 0;
	assert_int_equal(proto_event_encode(&ev, &b), PROTO_EMALFORMED);

	assert_int_equal(b.len, 1); /* nothing appended on failure */
	buf_release(&b);
}

/* ---- event signatures ---- */

static void test_event_signature(void **state)
{
	struct keys *k = keys_of(state);
	uint8_t sig[CRYPTO_SIG_LEN];
	struct proto_event ev, back;
	struct buf enc = { 0 }, msg = { 0 };
	int passed = 0;

	sample_event(&ev, 77);
	assert_int_equal(proto_event_sign(&ev, k->mother, sig), 0);
	assert_int_equal(proto_event_verify(&ev, k->mother_pub, sig), 0);

	/* the signed bytes are "lms-event" || encoding, nothing else */
	put_raw(&msg, "lms-event", 9);
	hand_event(&msg, &ev);
	assert_int_equal(crypto_verify(k->mother_pub, msg.data, msg.len, sig),
			 0);

	assert_int_equal(proto_event_verify(&ev, k->workspace_pub, sig),
			 PROTO_ESIGNATURE);

	/* every single bit flipped in the encoding */
	assert_int_equal(proto_event_encode(&ev, &enc), 0);
	for (size_t i = 0; i < enc.len * 8; i++) {
		enc.data[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (proto_event_decode(enc.data, enc.len, &back) == 0 &&
		    proto_event_verify(&back, k->mother_pub, sig) == 0)
			passed++;
		enc.data[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(passed, 0);

	/* and in the signature */
	for (size_t i = 0; i < CRYPTO_SIG_LEN * 8; i++) {
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (proto_event_verify(&ev, k->mother_pub, sig) == 0)
			passed++;
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(passed, 0);

	/* an event that cannot be encoded never verifies */
	ev.kind = 9;
	assert_int_equal(proto_event_verify(&ev, k->mother_pub, sig),
			 PROTO_ESIGNATURE);
	buf_release(&enc);
	buf_release(&msg);
}

/* ---- the EVENT frame ---- */

static void test_event_frame(void **state)
{
	struct keys *k = keys_of(state);
	struct proto_event_msg msg;
	struct buf frame = { 0 }, payload = { 0 }, enc = { 0 };
	uint8_t sig[CRYPTO_SIG_LEN], pack[3000];
	struct proto_event ev;
	size_t ev_len;

	fill(pack, sizeof(pack), 11);
	sample_event(&ev, sizeof(pack));
	crypto_sha256(pack, sizeof(pack), ev.pack_sha256);
	assert_int_equal(proto_event_sign(&ev, k->mother, sig), 0);
	assert_int_equal(proto_write_event(&frame, &ev, sig, pack,
					   sizeof(pack)),
			 0);

	hand_event(&enc, &ev);
	ev_len = enc.len;
	assert_int_equal(get_be(frame.data, 4),
			 4 + ev_len + CRYPTO_SIG_LEN + sizeof(pack));
	assert_int_equal(frame.data[4], PROTO_EVENT);
	assert_int_equal(get_be(frame.data + 5, 4), ev_len);
	assert_memory_equal(frame.data + 9, enc.data, ev_len);
	assert_memory_equal(frame.data + 9 + ev_len, sig, CRYPTO_SIG_LEN);
	assert_memory_equal(frame.data + 9 + ev_len + CRYPTO_SIG_LEN, pack,
			    sizeof(pack));

	assert_int_equal(single_frame(&frame, &payload), PROTO_EVENT);
	assert_int_equal(proto_read_event(payload.data, payload.len, &msg),
			 0);
	assert_memory_equal(&msg.ev, &ev, sizeof(ev));
	assert_memory_equal(msg.sig, sig, CRYPTO_SIG_LEN);
	assert_int_equal(msg.pack_len, sizeof(pack));
	assert_ptr_equal(msg.pack, payload.data + 4 + ev_len + CRYPTO_SIG_LEN);
	assert_memory_equal(msg.pack, pack, sizeof(pack));
	assert_int_equal(proto_event_verify(&msg.ev, k->mother_pub, msg.sig),
			 0);

	/* every truncation, and one byte too many */
	for (size_t n = 0; n < payload.len; n++)
		assert_int_equal(proto_read_event(payload.data, n, &msg),
				 PROTO_ETRUNCATED);
	put_raw(&payload, "z", 1);
	assert_int_equal(proto_read_event(payload.data, payload.len, &msg),
			 PROTO_EMALFORMED);

	/* the pack must be as long as the event says */
	buf_reset(&frame);
	assert_int_equal(proto_write_event(&frame, &ev, sig, pack,
					   sizeof(pack) - 1),
			 PROTO_EMALFORMED);
	assert_int_equal(frame.len, 0);

	buf_release(&frame);
	buf_release(&payload);
	buf_release(&enc);
}

static void test_event_frame_inner_trailing(void **state)
{
	struct proto_event_msg msg;
	uint8_t sig[CRYPTO_SIG_LEN] = { 0 };
	struct proto_event ev;
	struct buf p = { 0 }, enc = { 0 };

	(void)state;
	sample_event(&ev, 0);
	hand_event(&enc, &ev);
	put_raw(&enc, "!", 1); /* a byte inside the announced event */
	put_uint(&p, enc.len, 4);
	put_raw(&p, enc.data, enc.len);
	put_raw(&p, sig, sizeof(sig));
	assert_int_equal(proto_read_event(p.data, p.len, &msg),
			 PROTO_EMALFORMED);
	buf_release(&p);
	buf_release(&enc);
}

/* ---- control messages ---- */

typedef int (*reader_fn)(const uint8_t *p, size_t len);

/* Every truncation gives PROTO_ETRUNCATED, a byte more PROTO_EMALFORMED. */
static void check_bounds(const struct buf *payload, reader_fn read)
{
	struct buf b = { 0 };

	for (size_t n = 0; n < payload->len; n++)
		assert_int_equal(read(payload->data, n), PROTO_ETRUNCATED);
	put_raw(&b, payload->data, payload->len);
	put_raw(&b, "\0", 1);
	assert_int_equal(read(b.data, b.len), PROTO_EMALFORMED);
	assert_int_equal(read(payload->data, payload->len), 0);
	buf_release(&b);
}

static int read_challenge(const uint8_t *p, size_t len)
{
	struct proto_challenge m;

	return proto_read_challenge(p, len, &m);
}

static int read_hello(const uint8_t *p, size_t len)
{
	struct proto_hello m;

	return proto_read_hello(p, len, &m);
}

static int read_welcome(const uint8_t *p, size_t len)
{
	struct proto_welcome m;

	return proto_read_welcome(p, len, &m);
}

static int read_seq(const uint8_t *p, size_t len)
{
	struct proto_seq m;

	return proto_read_seq(p, len, &m);
}

static int read_enroll(const uint8_t *p, size_t len)
{
	struct proto_enroll m;

	return proto_read_enroll(p, len, &m);
}

static int read_enrolled(const uint8_t *p, size_t len)
{
	struct proto_enrolled m;

	return proto_read_enrolled(p, len, &m);
}

static int read_error(const uint8_t *p, size_t len)
{
	struct proto_errmsg m;

	return proto_read_error(p, len, &m);
}

static void test_challenge(void **state)
{
	struct proto_challenge m = { .version = PROTO_VERSION }, back;
	struct buf frame = { 0 }, p = { 0 }, hand = { 0 };

	(void)state;
	fill(m.nonce, sizeof(m.nonce), 1);
	fill(m.mother_pub, sizeof(m.mother_pub), 2);
	assert_int_equal(proto_write_challenge(&frame, &m), 0);
	assert_int_equal(single_frame(&frame, &p), PROTO_CHALLENGE);

	put_uint(&hand, 1, 1);
	put_raw(&hand, m.nonce, sizeof(m.nonce));
	put_raw(&hand, m.mother_pub, sizeof(m.mother_pub));
	assert_int_equal(p.len, hand.len);
	assert_memory_equal(p.data, hand.data, hand.len);
	assert_int_equal(get_be(frame.data, 4), 65);

	assert_int_equal(proto_read_challenge(p.data, p.len, &back), 0);
	assert_memory_equal(&back, &m, sizeof(m));
	check_bounds(&p, read_challenge);

	p.data[0] = 2;
	assert_int_equal(proto_read_challenge(p.data, p.len, &back),
			 PROTO_EVERSION);
	m.version = 0;
	assert_int_equal(proto_write_challenge(&frame, &m), PROTO_EVERSION);

	buf_release(&frame);
	buf_release(&p);
	buf_release(&hand);
}

static void test_hello(void **state)
{
	struct proto_hello m = { .version = PROTO_VERSION }, back;
	struct buf frame = { 0 }, p = { 0 }, hand = { 0 };

	(void)state;
	strcpy(m.tenant, "acme");
	m.last_seq = 0x0102030405060708ull;
	fill(m.sig, sizeof(m.sig), 9);
	assert_int_equal(proto_write_hello(&frame, &m), 0);
	assert_int_equal(single_frame(&frame, &p), PROTO_HELLO);

	put_uint(&hand, 1, 1);
	put_str(&hand, "acme");
	put_uint(&hand, m.last_seq, 8);
	put_raw(&hand, m.sig, sizeof(m.sig));
	assert_int_equal(p.len, hand.len);
	assert_memory_equal(p.data, hand.data, hand.len);

	assert_int_equal(proto_read_hello(p.data, p.len, &back), 0);
	assert_memory_equal(&back, &m, sizeof(m));
	check_bounds(&p, read_hello);

	p.data[3] = 'A'; /* tenant "Acme" */
	assert_int_equal(proto_read_hello(p.data, p.len, &back),
			 PROTO_EMALFORMED);
	p.data[0] = 9;
	assert_int_equal(proto_read_hello(p.data, p.len, &back),
			 PROTO_EVERSION);

	buf_reset(&frame);
	strcpy(m.tenant, "no spaces");
	assert_int_equal(proto_write_hello(&frame, &m), PROTO_EMALFORMED);
	m.tenant[0] = 0;
	assert_int_equal(proto_write_hello(&frame, &m), PROTO_EMALFORMED);
	assert_int_equal(frame.len, 0);

	buf_release(&frame);
	buf_release(&p);
	buf_release(&hand);
}

static void test_hello_long_tenant(void **state)
{
	struct proto_hello back;
	struct buf p = { 0 };
	char id[66];
	uint8_t sig[CRYPTO_SIG_LEN] = { 0 };

	(void)state;
	memset(id, 'a', 64);
	id[64] = 0;
	put_uint(&p, 1, 1);
	put_str(&p, id);
	put_uint(&p, 5, 8);
	put_raw(&p, sig, sizeof(sig));
	assert_int_equal(proto_read_hello(p.data, p.len, &back), 0);
	assert_int_equal(strlen(back.tenant), 64);

	buf_reset(&p);
	id[64] = 'a';
	id[65] = 0;
	put_uint(&p, 1, 1);
	put_str(&p, id);
	put_uint(&p, 5, 8);
	put_raw(&p, sig, sizeof(sig));
	assert_int_equal(proto_read_hello(p.data, p.len, &back),
			 PROTO_ETOOBIG);

	/* a huge announced length is refused before the bytes are looked
	 * for */
	buf_reset(&p);
	put_uint(&p, 1, 1);
	put_uint(&p, 0xffff, 2);
	assert_int_equal(proto_read_hello(p.data, p.len, &back),
			 PROTO_ETOOBIG);
	buf_release(&p);
}

static void test_welcome_ack_resume(void **state)
{
	struct proto_welcome w = { .head_seq = 0x1122334455667788ull }, wb;
	struct proto_seq s = { .seq = 77 }, sb;
	struct buf frame = { 0 }, p = { 0 };

	(void)state;
	assert_int_equal(proto_write_welcome(&frame, &w), 0);
	assert_int_equal(single_frame(&frame, &p), PROTO_WELCOME);
	assert_int_equal(p.len, 8);
	assert_int_equal(get_be(p.data, 8), w.head_seq);
	assert_int_equal(proto_read_welcome(p.data, p.len, &wb), 0);
	assert_int_equal(wb.head_seq, w.head_seq);
	check_bounds(&p, read_welcome);

	buf_reset(&frame);
	assert_int_equal(proto_write_seq(&frame, PROTO_ACK, &s), 0);
	assert_int_equal(single_frame(&frame, &p), PROTO_ACK);
	assert_int_equal(get_be(p.data, 8), 77);
	assert_int_equal(proto_read_seq(p.data, p.len, &sb), 0);
	assert_int_equal(sb.seq, 77);
	check_bounds(&p, read_seq);

	buf_reset(&frame);
	assert_int_equal(proto_write_seq(&frame, PROTO_RESUME, &s), 0);
	assert_int_equal(single_frame(&frame, &p), PROTO_RESUME);
	assert_int_equal(proto_read_seq(p.data, p.len, &sb), 0);
	assert_int_equal(sb.seq, 77);

	buf_reset(&frame);
	assert_int_equal(proto_write_seq(&frame, PROTO_WELCOME, &s),
			 PROTO_ETYPE);
	assert_int_equal(frame.len, 0);
	buf_release(&frame);
	buf_release(&p);
}

static void test_enroll(void **state)
{
	struct proto_enroll m = { .token = "tok_3f9a-ZZ.x~" }, back;
	struct buf frame = { 0 }, p = { 0 }, hand = { 0 };

	(void)state;
	fill(m.workspace_pub, sizeof(m.workspace_pub), 4);
	fill(m.nonce, sizeof(m.nonce), 5);
	assert_int_equal(proto_write_enroll(&frame, &m), 0);
	assert_int_equal(single_frame(&frame, &p), PROTO_ENROLL);

	put_str(&hand, m.token);
	put_raw(&hand, m.workspace_pub, sizeof(m.workspace_pub));
	put_raw(&hand, m.nonce, sizeof(m.nonce));
	assert_int_equal(p.len, hand.len);
	assert_memory_equal(p.data, hand.data, hand.len);

	assert_int_equal(proto_read_enroll(p.data, p.len, &back), 0);
	assert_memory_equal(&back, &m, sizeof(m));
	check_bounds(&p, read_enroll);

	p.data[2] = '\n';
	assert_int_equal(proto_read_enroll(p.data, p.len, &back),
			 PROTO_EMALFORMED);
	p.data[2] = 0;
	assert_int_equal(proto_read_enroll(p.data, p.len, &back),
			 PROTO_EMALFORMED);
	p.data[2] = 0x80;
	assert_int_equal(proto_read_enroll(p.data, p.len, &back),
			 PROTO_EMALFORMED);

	buf_reset(&frame);
	m.token[0] = 0;
	assert_int_equal(proto_write_enroll(&frame, &m), PROTO_EMALFORMED);
	memset(m.token, 'a', sizeof(m.token)); /* no terminator */
	assert_int_equal(proto_write_enroll(&frame, &m), PROTO_EMALFORMED);
	assert_int_equal(frame.len, 0);

	buf_release(&frame);
	buf_release(&p);
	buf_release(&hand);
}

static void test_enroll_token_bounds(void **state)
{
	struct proto_enroll back;
	uint8_t raw[64] = { 0 };
	char token[PROTO_MAX_TOKEN + 2];
	struct buf p = { 0 };

	(void)state;
	put_str(&p, "");
	put_raw(&p, raw, sizeof(raw));
	assert_int_equal(proto_read_enroll(p.data, p.len, &back),
			 PROTO_EMALFORMED);

	memset(token, 'k', PROTO_MAX_TOKEN);
	token[PROTO_MAX_TOKEN] = 0;
	buf_reset(&p);
	put_str(&p, token);
	put_raw(&p, raw, sizeof(raw));
	assert_int_equal(proto_read_enroll(p.data, p.len, &back), 0);
	assert_int_equal(strlen(back.token), PROTO_MAX_TOKEN);

	token[PROTO_MAX_TOKEN] = 'k';
	token[PROTO_MAX_TOKEN + 1] = 0;
	buf_reset(&p);
	put_str(&p, token);
	put_raw(&p, raw, sizeof(raw));
	assert_int_equal(proto_read_enroll(p.data, p.len, &back),
			 PROTO_ETOOBIG);
	buf_release(&p);
}

static void test_enrolled(void **state)
{
	struct proto_enrolled m = { .tenant = "care-home-7" }, back;
	struct buf frame = { 0 }, p = { 0 }, hand = { 0 };

	(void)state;
	fill(m.sig, sizeof(m.sig), 6);
	assert_int_equal(proto_write_enrolled(&frame, &m), 0);
	assert_int_equal(single_frame(&frame, &p), PROTO_ENROLLED);

	put_str(&hand, m.tenant);
	put_raw(&hand, m.sig, sizeof(m.sig));
	assert_int_equal(p.len, hand.len);
	assert_memory_equal(p.data, hand.data, hand.len);

	assert_int_equal(proto_read_enrolled(p.data, p.len, &back), 0);
	assert_memory_equal(&back, &m, sizeof(m));
	check_bounds(&p, read_enrolled);

	p.data[2] = '.';
	assert_int_equal(proto_read_enrolled(p.data, p.len, &back),
			 PROTO_EMALFORMED);
	buf_release(&frame);
	buf_release(&p);
	buf_release(&hand);
}

static void test_error_message(void **state)
{
	struct proto_errmsg m = { .code = PROTO_ERR_TOKEN }, back;
	struct buf frame = { 0 }, p = { 0 }, hand = { 0 };
	char text[PROTO_MAX_MESSAGE + 2];

	(void)state;
	strcpy(m.message, "token expired – ask for a new one");
	assert_int_equal(proto_write_error(&frame, &m), 0);
	assert_int_equal(single_frame(&frame, &p), PROTO_ERROR);

	put_uint(&hand, PROTO_ERR_TOKEN, 4);
	put_str(&hand, m.message);
	assert_int_equal(p.len, hand.len);
	assert_memory_equal(p.data, hand.data, hand.len);

	assert_int_equal(proto_read_error(p.data, p.len, &back), 0);
	assert_int_equal(back.code, PROTO_ERR_TOKEN);
	assert_string_equal(back.message, m.message);
	check_bounds(&p, read_error);

	/* an empty message is fine, 256 bytes too, 257 not */
	memset(text, 'm', sizeof(text));
	for (size_t len = 0; len <= PROTO_MAX_MESSAGE + 1; len++) {
		text[len] = 0;
		buf_reset(&hand);
		put_uint(&hand, 3, 4);
		put_str(&hand, text);
		assert_int_equal(proto_read_error(hand.data, hand.len, &back),
				 len <= PROTO_MAX_MESSAGE ? 0 : PROTO_ETOOBIG);
		text[len] = 'm';
	}

	buf_release(&frame);
	buf_release(&p);
	buf_release(&hand);
}

/* ---- session signatures ---- */

static void test_hello_signature(void **state)
{
	struct keys *k = keys_of(state);
	struct proto_hello m = { .version = PROTO_VERSION, .tenant = "acme" };
	uint8_t nonce[PROTO_NONCE_LEN], other[PROTO_NONCE_LEN];
	struct buf msg = { 0 };

	fill(nonce, sizeof(nonce), 21);
	fill(other, sizeof(other), 22);
	m.last_seq = 12;
	assert_int_equal(proto_hello_sign(&m, nonce, k->workspace), 0);
	assert_int_equal(proto_hello_verify(&m, nonce, k->workspace_pub), 0);

	/* "lms-hello" || version || nonce || tenant str || last_seq */
	put_raw(&msg, "lms-hello", 9);
	put_uint(&msg, PROTO_VERSION, 1);
	put_raw(&msg, nonce, sizeof(nonce));
	put_str(&msg, "acme");
	put_uint(&msg, 12, 8);
	assert_int_equal(crypto_verify(k->workspace_pub, msg.data, msg.len,
				       m.sig),
			 0);

	assert_int_equal(proto_hello_verify(&m, other, k->workspace_pub),
			 PROTO_ESIGNATURE);
	assert_int_equal(proto_hello_verify(&m, nonce, k->mother_pub),
			 PROTO_ESIGNATURE);
	m.last_seq = 13;
	assert_int_equal(proto_hello_verify(&m, nonce, k->workspace_pub),
			 PROTO_ESIGNATURE);
	m.last_seq = 12;
	strcpy(m.tenant, "acmf");
	assert_int_equal(proto_hello_verify(&m, nonce, k->workspace_pub),
			 PROTO_ESIGNATURE);
	strcpy(m.tenant, "acme");
	m.sig[5] ^= 1;
	assert_int_equal(proto_hello_verify(&m, nonce, k->workspace_pub),
			 PROTO_ESIGNATURE);
	buf_release(&msg);
}

static void test_enrolled_signature(void **state)
{
	struct keys *k = keys_of(state);
	struct proto_enrolled m = { .tenant = "care-home-7" };
	struct proto_enroll req = { .token = "t" }, other;
	struct buf msg = { 0 };

	memcpy(req.workspace_pub, k->workspace_pub, CRYPTO_PUBKEY_LEN);
	fill(req.nonce, sizeof(req.nonce), 31);
	assert_int_equal(proto_enrolled_sign(&m, &req, k->mother), 0);
	assert_int_equal(proto_enrolled_verify(&m, &req, k->mother_pub), 0);

	/* "lms-enroll" || nonce || tenant str || workspace public key */
	put_raw(&msg, "lms-enroll", 10);
	put_raw(&msg, req.nonce, sizeof(req.nonce));
	put_str(&msg, "care-home-7");
	put_raw(&msg, k->workspace_pub, CRYPTO_PUBKEY_LEN);
	assert_int_equal(crypto_verify(k->mother_pub, msg.data, msg.len,
				       m.sig),
			 0);

	other = req;
	other.nonce[0] ^= 1;
	assert_int_equal(proto_enrolled_verify(&m, &other, k->mother_pub),
			 PROTO_ESIGNATURE);
	other = req;
	other.workspace_pub[31] ^= 0x80;
	assert_int_equal(proto_enrolled_verify(&m, &other, k->mother_pub),
			 PROTO_ESIGNATURE);
	assert_int_equal(proto_enrolled_verify(&m, &req, k->workspace_pub),
			 PROTO_ESIGNATURE);
	strcpy(m.tenant, "care-home-8");
	assert_int_equal(proto_enrolled_verify(&m, &req, k->mother_pub),
			 PROTO_ESIGNATURE);
	buf_release(&msg);
}

/* ---- the frame decoder ---- */

struct stream {
	struct buf bytes;
	int count;
	uint8_t types[16];
	size_t offsets[16]; /* of each payload in bytes */
	size_t lens[16];
};

static void stream_add(struct stream *s, size_t start)
{
	s->types[s->count] = s->bytes.data[start + 4];
	s->offsets[s->count] = start + PROTO_HEADER_LEN;
	s->lens[s->count] = s->bytes.len - start - PROTO_HEADER_LEN;
	s->count++;
}

static void stream_build(struct stream *s)
{
	struct proto_challenge ch = { .version = PROTO_VERSION };
	struct proto_hello he = { .version = PROTO_VERSION, .tenant = "t-1" };
	struct proto_errmsg er = { .code = 4, .message = "boom" };
	struct proto_seq ack = { .seq = 3 };
	uint8_t sig[CRYPTO_SIG_LEN] = { 1 }, pack[300];
	struct proto_event ev;
	size_t start;

	memset(s, 0, sizeof(*s));
	fill(pack, sizeof(pack), 40);
	sample_event(&ev, sizeof(pack));

	start = s->bytes.len;
	assert_int_equal(proto_write_challenge(&s->bytes, &ch), 0);
	stream_add(s, start);
	start = s->bytes.len;
	assert_int_equal(proto_write_hello(&s->bytes, &he), 0);
	stream_add(s, start);
	start = s->bytes.len;
	assert_int_equal(proto_write_event(&s->bytes, &ev, sig, pack,
					   sizeof(pack)),
			 0);
	stream_add(s, start);
	start = s->bytes.len;
	assert_int_equal(proto_write_ping(&s->bytes), 0);
	stream_add(s, start);
	start = s->bytes.len;
	assert_int_equal(proto_write_seq(&s->bytes, PROTO_ACK, &ack), 0);
	stream_add(s, start);
	start = s->bytes.len;
	assert_int_equal(proto_write_error(&s->bytes, &er), 0);
	stream_add(s, start);
}

/* Drains the decoder, checking each frame against the stream. */
static void drain(struct proto_decoder *d, const struct stream *s, int *seen)
{
	struct proto_frame f;
	int rc;

	while ((rc = proto_decoder_next(d, &f)) == 1) {
		assert_true(*seen < s->count);
		assert_int_equal(f.type, s->types[*seen]);
		assert_int_equal(f.len, s->lens[*seen]);
		if (f.len)
			assert_memory_equal(f.payload,
					    s->bytes.data + s->offsets[*seen],
					    f.len);
		(*seen)++;
	}
	assert_int_equal(rc, 0);
}

static void test_decoder_every_split(void **state)
{
	struct proto_decoder d;
	struct stream s;
	int seen;

	(void)state;
	stream_build(&s);
	for (size_t cut = 0; cut <= s.bytes.len; cut++) {
		proto_decoder_init(&d, 4096);
		seen = 0;
		assert_int_equal(proto_decoder_feed(&d, s.bytes.data, cut), 0);
		drain(&d, &s, &seen);
		assert_int_equal(proto_decoder_feed(&d, s.bytes.data + cut,
						    s.bytes.len - cut),
				 0);
		drain(&d, &s, &seen);
		assert_int_equal(seen, s.count);
		proto_decoder_release(&d);
	}
	buf_release(&s.bytes);
}

static void test_decoder_small_pieces(void **state)
{
	struct proto_decoder d;
	struct stream s;
	int seen;

	(void)state;
	stream_build(&s);
	for (size_t step = 1; step <= 13; step++) {
		proto_decoder_init(&d, 4096);
		seen = 0;
		for (size_t off = 0; off < s.bytes.len; off += step) {
			size_t n = s.bytes.len - off < step ? s.bytes.len - off
							     : step;
			assert_int_equal(proto_decoder_feed(
						 &d, s.bytes.data + off, n),
					 0);
			drain(&d, &s, &seen);
		}
		assert_int_equal(seen, s.count);
		proto_decoder_release(&d);
	}
	buf_release(&s.bytes);
}

static void test_decoder_many_frames(void **state)
{
	enum { N = 20000 };
	struct proto_decoder d;
	struct proto_frame f;
	struct proto_seq m;
	struct buf b = { 0 };
	uint64_t want = 1;

	(void)state;
	for (uint64_t i = 1; i <= N; i++) {
		m.seq = i;
		assert_int_equal(proto_write_seq(&b, PROTO_ACK, &m), 0);
	}
	proto_decoder_init(&d, 0);
	/* one feed for most of it, the tail of the last frame later */
	assert_int_equal(proto_decoder_feed(&d, b.data, b.len - 3), 0);
	while (proto_decoder_next(&d, &f) == 1) {
		assert_int_equal(f.type, PROTO_ACK);
		assert_int_equal(proto_read_seq(f.payload, f.len, &m), 0);
		assert_int_equal(m.seq, want++);
	}
	assert_int_equal(want, N);
	assert_int_equal(proto_decoder_feed(&d, b.data + b.len - 3, 3), 0);
	assert_int_equal(proto_decoder_next(&d, &f), 1);
	assert_int_equal(proto_read_seq(f.payload, f.len, &m), 0);
	assert_int_equal(m.seq, N);
	assert_int_equal(proto_decoder_next(&d, &f), 0);
	proto_decoder_release(&d);
	buf_release(&b);
}

static int feed_header(struct proto_decoder *d, uint8_t type, uint32_t len)
{
	uint8_t h[PROTO_HEADER_LEN] = { (uint8_t)(len >> 24),
					(uint8_t)(len >> 16),
					(uint8_t)(len >> 8), (uint8_t)len,
					type };

	return proto_decoder_feed(d, h, sizeof(h));
}

static void test_decoder_too_big(void **state)
{
	struct proto_decoder d;
	struct proto_frame f;
	uint8_t h[PROTO_HEADER_LEN] = { 0, 0, 0x03, 0xe9, PROTO_EVENT };

	(void)state;
	/* refused on the header alone, before any payload */
	proto_decoder_init(&d, 1000);
	assert_int_equal(feed_header(&d, PROTO_EVENT, 1001), PROTO_ETOOBIG);
	assert_int_equal(proto_decoder_next(&d, &f), PROTO_ETOOBIG);
	assert_int_equal(proto_decoder_feed(&d, "x", 1), PROTO_ETOOBIG);
	proto_decoder_release(&d);

	proto_decoder_init(&d, 1000);
	assert_int_equal(feed_header(&d, PROTO_EVENT, 1000), 0);
	assert_int_equal(proto_decoder_next(&d, &f), 0);
	proto_decoder_release(&d);

	/* the header split over two feeds */
	proto_decoder_init(&d, 1000);
	assert_int_equal(proto_decoder_feed(&d, h, 3), 0);
	assert_int_equal(proto_decoder_feed(&d, h + 3, 2), PROTO_ETOOBIG);
	proto_decoder_release(&d);

	/* control frames have their own, smaller limit */
	proto_decoder_init(&d, 0);
	assert_int_equal(feed_header(&d, PROTO_ACK, PROTO_MAX_CONTROL), 0);
	proto_decoder_release(&d);
	proto_decoder_init(&d, 0);
	assert_int_equal(feed_header(&d, PROTO_HELLO, PROTO_MAX_CONTROL + 1),
			 PROTO_ETOOBIG);
	proto_decoder_release(&d);

	/* 0 means the default limit */
	proto_decoder_init(&d, 0);
	assert_int_equal(feed_header(&d, PROTO_EVENT,
				     PROTO_DEFAULT_MAX_FRAME),
			 0);
	proto_decoder_release(&d);
	proto_decoder_init(&d, 0);
	assert_int_equal(feed_header(&d, PROTO_EVENT,
				     PROTO_DEFAULT_MAX_FRAME + 1),
			 PROTO_ETOOBIG);
	proto_decoder_release(&d);
}

static void test_decoder_too_big_after_frames(void **state)
{
	struct proto_decoder d;
	struct buf b = { 0 };
	uint8_t h[PROTO_HEADER_LEN] = { 0, 0, 0x10, 0x01, PROTO_ERROR };

	(void)state;
	assert_int_equal(proto_write_ping(&b), 0);
	assert_int_equal(proto_write_ping(&b), 0);
	put_raw(&b, h, sizeof(h));
	proto_decoder_init(&d, 0);
	assert_int_equal(proto_decoder_feed(&d, b.data, b.len),
			 PROTO_ETOOBIG);
	proto_decoder_release(&d);
	buf_release(&b);
}

static void test_decoder_bad_headers(void **state)
{
	static const uint8_t types[] = { 0, 13, 200, 255 };
	struct proto_decoder d;

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		proto_decoder_init(&d, 0);
		assert_int_equal(feed_header(&d, types[i], 8), PROTO_ETYPE);
		proto_decoder_release(&d);
	}
	proto_decoder_init(&d, 0);
	assert_int_equal(feed_header(&d, PROTO_WELCOME, 0), PROTO_EMALFORMED);
	proto_decoder_release(&d);
	proto_decoder_init(&d, 0);
	assert_int_equal(feed_header(&d, PROTO_PING, 1), PROTO_EMALFORMED);
	proto_decoder_release(&d);
}

/* A big frame's buffer does not stay with an idle connection. */
static void test_decoder_gives_memory_back(void **state)
{
	uint8_t sig[CRYPTO_SIG_LEN] = { 0 };
	struct proto_decoder d;
	struct proto_frame f;
	struct proto_event ev;
	struct buf b = { 0 };
	uint8_t *pack = calloc(1, 2u << 20);

	(void)state;
	assert_non_null(pack);
	sample_event(&ev, 2u << 20);
	assert_int_equal(proto_write_event(&b, &ev, sig, pack, 2u << 20), 0);
	assert_int_equal(proto_write_ping(&b), 0);
	proto_decoder_init(&d, 0);
	assert_int_equal(proto_decoder_feed(&d, b.data, b.len - 2), 0);
	assert_int_equal(proto_decoder_next(&d, &f), 1);
	assert_int_equal(f.type, PROTO_EVENT);
	assert_int_equal(proto_decoder_next(&d, &f), 0);
	assert_true(d.in.cap > (2u << 20)); /* the PING is still partial */

	assert_int_equal(proto_decoder_feed(&d, b.data + b.len - 2, 2), 0);
	assert_int_equal(proto_decoder_next(&d, &f), 1);
	assert_int_equal(f.type, PROTO_PING);
	assert_int_equal(proto_decoder_next(&d, &f), 0);
	assert_true(d.in.cap < (1u << 20));

	proto_decoder_release(&d);
	buf_release(&b);
	free(pack);
}

static void test_decoder_empty(void **state)
{
	struct proto_decoder d;
	struct proto_frame f;

	(void)state;
	proto_decoder_init(&d, 0);
	assert_int_equal(proto_decoder_next(&d, &f), 0);
	assert_int_equal(proto_decoder_feed(&d, NULL, 0), 0);
	assert_int_equal(proto_decoder_next(&d, &f), 0);
	proto_decoder_release(&d);
	proto_decoder_release(&d); /* releasing twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_frame_header),
		cmocka_unit_test(test_event_layout),
		cmocka_unit_test(test_event_first_revision),
		cmocka_unit_test(test_event_bad_fields),
		cmocka_unit_test(test_event_bad_strings),
		cmocka_unit_test(test_event_truncated_and_trailing),
		cmocka_unit_test(test_event_encoder_refuses),
		cmocka_unit_test(test_event_signature),
		cmocka_unit_test(test_event_frame),
		cmocka_unit_test(test_event_frame_inner_trailing),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_hello_long_tenant),
		cmocka_unit_test(test_welcome_ack_resume),
		cmocka_unit_test(test_enroll),
		cmocka_unit_test(test_enroll_token_bounds),
		cmocka_unit_test(test_enrolled),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_hello_signature),
		cmocka_unit_test(test_enrolled_signature),
		cmocka_unit_test(test_decoder_every_split),
		cmocka_unit_test(test_decoder_small_pieces),
		cmocka_unit_test(test_decoder_many_frames),
		cmocka_unit_test(test_decoder_too_big),
		cmocka_unit_test(test_decoder_too_big_after_frames),
		cmocka_unit_test(test_decoder_bad_headers),
		cmocka_unit_test(test_decoder_gives_memory_back),
		cmocka_unit_test(test_decoder_empty),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
