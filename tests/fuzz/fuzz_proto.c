/*
 * libFuzzer target for the wire protocol's decoders.
 *
 * The first four bytes of the input seed the chunk sizes; the rest is a
 * byte stream fed to a proto_decoder in chunks of random size, as TCP
 * would deliver it. Every complete frame goes to the decoder of its type,
 * and every message that decodes must encode back to exactly the bytes it
 * came from: the encoding is canonical, and a signature depends on it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

#define FUZZ_MAX_FRAME (1u << 20)

static uint32_t fuzz_rand(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* The frame written by an encoder must be the frame that was read. */
static void fuzz_same(int rc, const struct buf *out,
		      const struct proto_frame *f)
{
	if (rc != 0)
		abort(); /* what decodes must encode */
	if (out->len != PROTO_HEADER_LEN + f->len ||
	    out->data[4] != f->type ||
	    memcmp(out->data + PROTO_HEADER_LEN, f->payload, f->len))
		abort();
}

static void fuzz_event(const struct proto_frame *f, struct buf *out)
{
	struct proto_event_msg m;
	struct buf enc = { 0 };

	if (proto_read_event(f->payload, f->len, &m))
		return;
	fuzz_same(proto_write_event(out, &m.ev, m.sig, m.pack, m.pack_len),
		  out, f);
	if (proto_event_encode(&m.ev, &enc) ||
	    memcmp(enc.data, f->payload + 4, enc.len))
		abort();
	buf_release(&enc);
}

/* A report that decodes encodes back; its signature check runs over
 * whatever the fuzzer made of it (the answer does not matter: the key
 * is made up). */
static void fuzz_report(const struct proto_frame *f, struct buf *out)
{
	static const uint8_t nonce[PROTO_NONCE_LEN], pub[CRYPTO_PUBKEY_LEN];
	struct proto_audit_head ah;
	struct proto_stats st;

	if (f->type == PROTO_STATS &&
	    !proto_read_stats(f->payload, f->len, &st)) {
		fuzz_same(proto_write_stats(out, &st), out, f);
		(void)proto_stats_verify(&st, nonce, pub);
	}
	if (f->type == PROTO_AUDIT_HEAD &&
	    !proto_read_audit_head(f->payload, f->len, &ah)) {
		fuzz_same(proto_write_audit_head(out, &ah), out, f);
		(void)proto_audit_head_verify(&ah, nonce, pub);
	}
}

static void fuzz_frame(const struct proto_frame *f)
{
	struct proto_challenge ch;
	struct proto_hello he;
	struct proto_welcome we;
	struct proto_seq sq;
	struct proto_enroll en;
	struct proto_enrolled ed;
	struct proto_errmsg er;
	struct buf out = { 0 };

	switch (f->type) {
	case PROTO_CHALLENGE:
		if (!proto_read_challenge(f->payload, f->len, &ch))
			fuzz_same(proto_write_challenge(&out, &ch), &out, f);
		break;
	case PROTO_HELLO:
		if (!proto_read_hello(f->payload, f->len, &he))
			fuzz_same(proto_write_hello(&out, &he), &out, f);
		break;
	case PROTO_WELCOME:
		if (!proto_read_welcome(f->payload, f->len, &we))
			fuzz_same(proto_write_welcome(&out, &we), &out, f);
		break;
	case PROTO_EVENT:
		fuzz_event(f, &out);
		break;
	case PROTO_ACK:
	case PROTO_RESUME:
		if (!proto_read_seq(f->payload, f->len, &sq))
			fuzz_same(proto_write_seq(&out, f->type, &sq), &out, f);
		break;
	case PROTO_ENROLL:
		if (!proto_read_enroll(f->payload, f->len, &en))
			fuzz_same(proto_write_enroll(&out, &en), &out, f);
		break;
	case PROTO_ENROLLED:
		if (!proto_read_enrolled(f->payload, f->len, &ed))
			fuzz_same(proto_write_enrolled(&out, &ed), &out, f);
		break;
	case PROTO_ERROR:
		if (!proto_read_error(f->payload, f->len, &er))
			fuzz_same(proto_write_error(&out, &er), &out, f);
		break;
	case PROTO_STATS:
	case PROTO_AUDIT_HEAD:
		fuzz_report(f, &out);
		break;
	case PROTO_PING:
		if (f->len != 0)
			abort(); /* the decoder lets no payload through */
		break;
	default:
		abort(); /* the decoder lets no unknown type through */
	}
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_decoder d;
	struct proto_frame f;
	struct proto_event ev;
	uint32_t seed;
	size_t off = 0;
	int rc = 0;

	if (size < 4)
		return 0;
	memcpy(&seed, data, 4);
	data += 4;
	size -= 4;
	(void)proto_event_decode(data, size, &ev);

	proto_decoder_init(&d, FUZZ_MAX_FRAME);
	while (off < size && rc >= 0) {
		uint32_t r = fuzz_rand(&seed);
		size_t n = r & 1 ? 1 + r % 8 : 1 + r % (size - off);

		if (n > size - off)
			n = size - off;
		if (proto_decoder_feed(&d, data + off, n))
			break;
		off += n;
		while ((rc = proto_decoder_next(&d, &f)) == 1)
			fuzz_frame(&f);
	}
	proto_decoder_release(&d);
	return 0;
}
