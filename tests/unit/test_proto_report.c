/*
 * Unit tests of the workspace's signed reports in proto/: STATS and
 * AUDIT_HEAD frames, their limits, broken input, and their signatures.
 *
 * Layouts and signed bytes are built here by hand from the comment in
 * proto/proto.h, not from the encoder's own output.
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

#include "proto/proto.h"

static const char body_json[] = "{\"courses\":[],\"active_learners\":[]}";
static const char hash_a[] =
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct keys {
	struct crypto_key *workspace, *other;
	uint8_t workspace_pub[CRYPTO_PUBKEY_LEN];
	uint8_t other_pub[CRYPTO_PUBKEY_LEN];
	uint8_t nonce[PROTO_NONCE_LEN];
};

static struct crypto_key *make_key(void)
{
	char dir[] = "/tmp/test_proto_report.XXXXXX", path[64];
	struct crypto_key *k = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	assert_int_equal(crypto_key_generate(path, &k), 0);
	unlink(path);
	rmdir(dir);
	return k;
}

static int keys_setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	k->workspace = make_key();
	k->other = make_key();
	crypto_key_public(k->workspace, k->workspace_pub);
	crypto_key_public(k->other, k->other_pub);
	for (size_t i = 0; i < PROTO_NONCE_LEN; i++)
		k->nonce[i] = (uint8_t)(i * 5 + 1);
	*state = k;
	return 0;
}

static int keys_teardown(void **state)
{
	struct keys *k = *state;

	crypto_key_free(k->workspace);
	crypto_key_free(k->other);
	free(k);
	return 0;
}

/* ---- hand-built bytes ---- */

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

static void sample_stats(struct proto_stats *m)
{
	memset(m, 0, sizeof(*m));
	m->version = PROTO_VERSION;
	strcpy(m->tenant, "care-home-7");
	m->counter = 3;
	m->time = 1790000000;
	m->body = (const uint8_t *)body_json;
	m->body_len = strlen(body_json);
	memset(m->sig, 0xab, sizeof(m->sig));
}

static void sample_head(struct proto_audit_head *m)
{
	memset(m, 0, sizeof(*m));
	m->version = PROTO_VERSION;
	strcpy(m->tenant, "care-home-7");
	m->counter = 4;
	m->seq = 1234;
	strcpy(m->hash, hash_a);
	m->time = -7;
	memset(m->sig, 0xcd, sizeof(m->sig));
}

/* The STATS payload as proto.h describes it. */
static void hand_stats(struct buf *b, const struct proto_stats *m)
{
	put_uint(b, m->version, 1);
	put_str(b, m->tenant);
	put_uint(b, m->counter, 8);
	put_uint(b, (uint64_t)m->time, 8);
	put_uint(b, m->body_len, 4);
	put_raw(b, m->body, m->body_len);
	put_raw(b, m->sig, CRYPTO_SIG_LEN);
}

static void hand_head(struct buf *b, const struct proto_audit_head *m)
{
	put_uint(b, m->version, 1);
	put_str(b, m->tenant);
	put_uint(b, m->counter, 8);
	put_uint(b, m->seq, 8);
	put_str(b, m->hash);
	put_uint(b, (uint64_t)m->time, 8);
	put_raw(b, m->sig, CRYPTO_SIG_LEN);
}

/* ---- layouts and round trips ---- */

static void test_stats_layout(void **state)
{
	struct buf enc = { 0 }, hand = { 0 };
	struct proto_stats m, back;

	(void)state;
	sample_stats(&m);
	assert_int_equal(proto_write_stats(&enc, &m), 0);
	hand_stats(&hand, &m);
	assert_int_equal(enc.len, PROTO_HEADER_LEN + hand.len);
	assert_int_equal(enc.data[4], PROTO_STATS);
	assert_int_equal(enc.data[3], (uint8_t)hand.len);
	assert_memory_equal(enc.data + PROTO_HEADER_LEN, hand.data, hand.len);

	assert_int_equal(proto_read_stats(hand.data, hand.len, &back), 0);
	assert_string_equal(back.tenant, "care-home-7");
	assert_int_equal(back.counter, 3);
	assert_int_equal(back.time, 1790000000);
	assert_int_equal(back.body_len, strlen(body_json));
	assert_memory_equal(back.body, body_json, back.body_len);
	assert_memory_equal(back.sig, m.sig, CRYPTO_SIG_LEN);
	buf_release(&enc);
	buf_release(&hand);
}

static void test_audit_head_layout(void **state)
{
	struct buf enc = { 0 }, hand = { 0 };
	struct proto_audit_head m, back;

	(void)state;
	sample_head(&m);
	assert_int_equal(proto_write_audit_head(&enc, &m), 0);
	hand_head(&hand, &m);
	assert_int_equal(enc.len, PROTO_HEADER_LEN + hand.len);
	assert_int_equal(enc.data[4], PROTO_AUDIT_HEAD);
	assert_memory_equal(enc.data + PROTO_HEADER_LEN, hand.data, hand.len);

	assert_int_equal(proto_read_audit_head(hand.data, hand.len, &back), 0);
	assert_string_equal(back.hash, hash_a);
	assert_int_equal(back.seq, 1234);
	assert_int_equal(back.counter, 4);
	assert_int_equal(back.time, -7);
	buf_release(&enc);
	buf_release(&hand);
}

/* ---- broken input ---- */

static void test_stats_broken(void **state)
{
	struct proto_stats m, back;
	struct buf hand = { 0 };

	(void)state;
	sample_stats(&m);
	hand_stats(&hand, &m);
	/* every truncation fails, none crashes */
	for (size_t n = 0; n < hand.len; n++)
		assert_int_not_equal(proto_read_stats(hand.data, n, &back), 0);
	/* a trailing byte */
	put_uint(&hand, 0, 1);
	assert_int_equal(proto_read_stats(hand.data, hand.len, &back),
			 PROTO_EMALFORMED);

	/* a body length past the limit is refused before it is read */
	buf_reset(&hand);
	put_uint(&hand, PROTO_VERSION, 1);
	put_str(&hand, "acme");
	put_uint(&hand, 1, 8);
	put_uint(&hand, 0, 8);
	put_uint(&hand, 0xffffffffu, 4);
	assert_int_equal(proto_read_stats(hand.data, hand.len, &back),
			 PROTO_ETOOBIG);

	/* a wrong version, counter 0, a bad tenant, an empty body */
	buf_reset(&hand);
	m.version = 2;
	assert_int_equal(proto_write_stats(&hand, &m), PROTO_EVERSION);
	sample_stats(&m);
	m.counter = 0;
	assert_int_equal(proto_write_stats(&hand, &m), PROTO_EMALFORMED);
	hand_stats(&hand, &m);
	assert_int_equal(proto_read_stats(hand.data, hand.len, &back),
			 PROTO_EMALFORMED);
	sample_stats(&m);
	strcpy(m.tenant, "Bad Tenant");
	buf_reset(&hand);
	hand_stats(&hand, &m);
	assert_int_equal(proto_read_stats(hand.data, hand.len, &back),
			 PROTO_EMALFORMED);
	sample_stats(&m);
	m.body_len = 0;
	assert_int_equal(proto_write_stats(&hand, &m), PROTO_EMALFORMED);
	/* a NUL inside the body */
	sample_stats(&m);
	m.body = (const uint8_t *)"{\"a\":\0}";
	m.body_len = 7;
	assert_int_equal(proto_write_stats(&hand, &m), PROTO_EMALFORMED);
	buf_release(&hand);
}

static void test_stats_limit(void **state)
{
	uint8_t *body = malloc(PROTO_MAX_STATS_BODY + 1);
	struct buf enc = { 0 };
	struct proto_decoder d;
	struct proto_frame f;
	struct proto_stats m;

	(void)state;
	assert_non_null(body);
	memset(body, ' ', PROTO_MAX_STATS_BODY + 1);
	sample_stats(&m);
	strcpy(m.tenant, "a-tenant-id-of-quite-some-length-to-fill-the-field-"
			 "up-to-64x");
	m.body = body;
	m.body_len = PROTO_MAX_STATS_BODY + 1;
	assert_int_equal(proto_write_stats(&enc, &m), PROTO_ETOOBIG);
	assert_int_equal(enc.len, 0);

	/* the largest body with the longest tenant fits a STATS frame */
	m.body_len = PROTO_MAX_STATS_BODY;
	assert_int_equal(proto_write_stats(&enc, &m), 0);
	proto_decoder_init(&d, PROTO_MAX_CONTROL);
	assert_int_equal(proto_decoder_feed(&d, enc.data, enc.len), 0);
	assert_int_equal(proto_decoder_next(&d, &f), 1);
	assert_int_equal(f.type, PROTO_STATS);
	proto_decoder_release(&d);

	/* a header announcing more is refused before the payload */
	buf_reset(&enc);
	assert_int_equal(proto_frame_header(&enc, PROTO_STATS,
					    PROTO_MAX_STATS + 1),
			 PROTO_ETOOBIG);
	put_uint(&enc, PROTO_MAX_STATS + 1, 4);
	put_uint(&enc, PROTO_STATS, 1);
	proto_decoder_init(&d, PROTO_MAX_CONTROL);
	assert_int_equal(proto_decoder_feed(&d, enc.data, enc.len),
			 PROTO_ETOOBIG);
	proto_decoder_release(&d);

	/* an AUDIT_HEAD is a control frame: 4 KiB */
	buf_reset(&enc);
	put_uint(&enc, PROTO_MAX_CONTROL + 1, 4);
	put_uint(&enc, PROTO_AUDIT_HEAD, 1);
	proto_decoder_init(&d, 0);
	assert_int_equal(proto_decoder_feed(&d, enc.data, enc.len),
			 PROTO_ETOOBIG);
	proto_decoder_release(&d);
	buf_release(&enc);
	free(body);
}

static void test_audit_head_broken(void **state)
{
	struct proto_audit_head m, back;
	struct buf hand = { 0 };

	(void)state;
	sample_head(&m);
	hand_head(&hand, &m);
	for (size_t n = 0; n < hand.len; n++)
		assert_int_not_equal(
			proto_read_audit_head(hand.data, n, &back), 0);

	/* upper-case hex, a short hash, a non-hex digit */
	strcpy(m.hash, hash_a);
	m.hash[0] = 'A';
	assert_int_equal(proto_write_audit_head(&hand, &m), PROTO_EMALFORMED);
	buf_reset(&hand);
	hand_head(&hand, &m);
	assert_int_equal(proto_read_audit_head(hand.data, hand.len, &back),
			 PROTO_EMALFORMED);
	m.hash[0] = '0';
	m.hash[63] = 0;
	buf_reset(&hand);
	hand_head(&hand, &m);
	assert_int_equal(proto_read_audit_head(hand.data, hand.len, &back),
			 PROTO_EMALFORMED);
	sample_head(&m);
	m.hash[10] = 'g';
	assert_int_equal(proto_write_audit_head(&hand, &m), PROTO_EMALFORMED);
	sample_head(&m);
	m.counter = 0;
	assert_int_equal(proto_write_audit_head(&hand, &m), PROTO_EMALFORMED);
	buf_release(&hand);
}

/* ---- signatures ---- */

static void test_stats_signature(void **state)
{
	struct keys *k = *state;
	uint8_t nonce2[PROTO_NONCE_LEN];
	struct buf msg = { 0 };
	struct proto_stats m;

	sample_stats(&m);
	assert_int_equal(proto_stats_sign(&m, k->nonce, k->workspace), 0);
	assert_int_equal(proto_stats_verify(&m, k->nonce, k->workspace_pub),
			 0);

	/* the signed bytes are the ones proto.h names */
	put_raw(&msg, "lms-stats", 9);
	put_uint(&msg, PROTO_VERSION, 1);
	put_raw(&msg, k->nonce, PROTO_NONCE_LEN);
	put_str(&msg, m.tenant);
	put_uint(&msg, m.counter, 8);
	put_uint(&msg, (uint64_t)m.time, 8);
	put_uint(&msg, m.body_len, 4);
	put_raw(&msg, m.body, m.body_len);
	assert_int_equal(crypto_verify(k->workspace_pub, msg.data, msg.len,
				       m.sig), 0);
	buf_release(&msg);

	/* another key, another session, a changed counter, tenant or
	 * body: refused */
	assert_int_equal(proto_stats_verify(&m, k->nonce, k->other_pub),
			 PROTO_ESIGNATURE);
	memcpy(nonce2, k->nonce, sizeof(nonce2));
	nonce2[0] ^= 1;
	assert_int_equal(proto_stats_verify(&m, nonce2, k->workspace_pub),
			 PROTO_ESIGNATURE);
	m.counter++;
	assert_int_equal(proto_stats_verify(&m, k->nonce, k->workspace_pub),
			 PROTO_ESIGNATURE);
	m.counter--;
	strcpy(m.tenant, "care-home-8");
	assert_int_equal(proto_stats_verify(&m, k->nonce, k->workspace_pub),
			 PROTO_ESIGNATURE);
	strcpy(m.tenant, "care-home-7");
	m.body_len--;
	assert_int_equal(proto_stats_verify(&m, k->nonce, k->workspace_pub),
			 PROTO_ESIGNATURE);
	/* an invalid report never verifies */
	m.body_len = 0;
	assert_int_equal(proto_stats_verify(&m, k->nonce, k->workspace_pub),
			 PROTO_ESIGNATURE);
}

static void test_audit_head_signature(void **state)
{
	struct keys *k = *state;
	struct buf msg = { 0 };
	struct proto_audit_head m;

	sample_head(&m);
	assert_int_equal(proto_audit_head_sign(&m, k->nonce, k->workspace), 0);
	assert_int_equal(proto_audit_head_verify(&m, k->nonce,
						 k->workspace_pub), 0);
	put_raw(&msg, "lms-audit-head", 14);
	put_uint(&msg, PROTO_VERSION, 1);
	put_raw(&msg, k->nonce, PROTO_NONCE_LEN);
	put_str(&msg, m.tenant);
	put_uint(&msg, m.counter, 8);
	put_uint(&msg, m.seq, 8);
	put_str(&msg, m.hash);
	put_uint(&msg, (uint64_t)m.time, 8);
	assert_int_equal(crypto_verify(k->workspace_pub, msg.data, msg.len,
				       m.sig), 0);
	buf_release(&msg);

	assert_int_equal(proto_audit_head_verify(&m, k->nonce, k->other_pub),
			 PROTO_ESIGNATURE);
	m.seq--;
	assert_int_equal(proto_audit_head_verify(&m, k->nonce,
						 k->workspace_pub),
			 PROTO_ESIGNATURE);
	m.seq++;
	m.hash[5] = m.hash[5] == '0' ? '1' : '0';
	assert_int_equal(proto_audit_head_verify(&m, k->nonce,
						 k->workspace_pub),
			 PROTO_ESIGNATURE);
}

/* A STATS signature is no AUDIT_HEAD signature: the domains differ. */
static void test_domains_differ(void **state)
{
	struct keys *k = *state;
	struct proto_audit_head h;
	struct proto_stats m;

	sample_stats(&m);
	sample_head(&h);
	assert_int_equal(proto_stats_sign(&m, k->nonce, k->workspace), 0);
	memcpy(h.sig, m.sig, CRYPTO_SIG_LEN);
	assert_int_equal(proto_audit_head_verify(&h, k->nonce,
						 k->workspace_pub),
			 PROTO_ESIGNATURE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_layout),
		cmocka_unit_test(test_audit_head_layout),
		cmocka_unit_test(test_stats_broken),
		cmocka_unit_test(test_stats_limit),
		cmocka_unit_test(test_audit_head_broken),
		cmocka_unit_test(test_stats_signature),
		cmocka_unit_test(test_audit_head_signature),
		cmocka_unit_test(test_domains_differ),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
