/*
 * Unit tests of proto/tls.c and of proto/conn.c over TLS: two
 * connections over loopback in one libuv loop, as in test_conn.c, with
 * a server context made from a "mother" key written to a temporary
 * directory and a client context pinning that key's fingerprint.
 *
 * Each test counts callbacks, runs the loop until every handle is closed
 * and then checks that the loop closes cleanly. The mismatches (another
 * key, TLS against plain either way) must end both sides within the
 * short idle timeout the fixture sets, never hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/fs.h"
#include "proto/conn.h"
#include "proto/tls.h"

#define BIG_PACK (5u << 20)
#define SHORT_IDLE_MS 1500 /* refusals come well before it */

struct fixture;

struct side {
	struct fixture *fx;
	struct proto_conn *c;
	int connects;
	int connect_status;
	int closes;
	int close_reason;
	char tls_error[160]; /* proto_conn_tls_error() seen in on_close */
	int frames;
	int big_frames;
	int drains;
	uint64_t last_seq;
	int order_ok;
	uint64_t closed_at;
	void (*on_frame)(struct side *s, const struct proto_frame *f);
};

struct fixture {
	uv_loop_t loop;
	uv_tcp_t server;
	uv_timer_t guard;
	uv_timer_t helper;
	char dir[64];
	char key_path[128], other_key_path[128];
	char cert_path[128], other_cert_path[128];
	uint8_t pin[CRYPTO_SHA256_LEN]; /* fingerprint of key_path's key */
	SSL_CTX *server_ctx, *other_server_ctx, *client_ctx;
	char addr[64];
	struct proto_conn_opts srv_opts;
	struct proto_conn_opts cli_opts;
	struct side srv;
	struct side cli;
	void (*on_connect)(struct side *s);
	void (*on_accept)(struct side *s);
	int paused;
	uint64_t started;
};

/* ---- callbacks shared by the tests ---- */

static void side_frame(struct proto_conn *c, const struct proto_frame *f)
{
	struct side *s = proto_conn_data(c);
	struct proto_seq m;

	s->frames++;
	if (f->type == PROTO_ACK &&
	    proto_read_seq(f->payload, f->len, &m) == 0) {
		if (m.seq != s->last_seq + 1)
			s->order_ok = 0;
		s->last_seq = m.seq;
	}
	if (s->on_frame)
		s->on_frame(s, f);
}

static void side_connect(struct proto_conn *c, int status)
{
	struct side *s = proto_conn_data(c);

	s->connects++;
	s->connect_status = status;
	if (status == 0 && s->fx->on_connect)
		s->fx->on_connect(s);
}

static void side_close(struct proto_conn *c, int reason)
{
	struct side *s = proto_conn_data(c);
	const char *why = proto_conn_tls_error(c);

	s->closes++;
	s->close_reason = reason;
	snprintf(s->tls_error, sizeof(s->tls_error), "%s", why ? why : "");
	s->closed_at = uv_now(&s->fx->loop);
	s->c = NULL;
}

static void side_drain(struct proto_conn *c)
{
	struct side *s = proto_conn_data(c);

	s->drains++;
}

static const struct proto_conn_ops side_ops = {
	.on_frame = side_frame,
	.on_connect = side_connect,
	.on_close = side_close,
};

static void on_connection(uv_stream_t *server, int status)
{
	struct fixture *fx = server->data;

	assert_int_equal(status, 0);
	assert_null(fx->srv.c);
	assert_int_equal(proto_conn_accept(server, &side_ops, &fx->srv_opts,
					   &fx->srv, &fx->srv.c),
			 0);
	uv_close((uv_handle_t *)&fx->server, NULL); /* one peer per test */
	if (fx->on_accept)
		fx->on_accept(&fx->srv);
}

static void guard_fired(uv_timer_t *t)
{
	(void)t;
	fail_msg("test did not finish in time");
}

/* ---- fixture ---- */

static void fx_key(const char *path, uint8_t pin[CRYPTO_SHA256_LEN])
{
	struct crypto_key *key = NULL;
	uint8_t pub[CRYPTO_PUBKEY_LEN];

	assert_int_equal(crypto_key_generate(path, &key), 0);
	crypto_key_public(key, pub);
	if (pin)
		crypto_sha256(pub, sizeof(pub), pin);
	crypto_key_free(key);
}

static void fx_listen(struct fixture *fx)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	assert_int_equal(uv_tcp_init(&fx->loop, &fx->server), 0);
	fx->server.data = fx;
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sin), 0);
	assert_int_equal(uv_tcp_bind(&fx->server, (struct sockaddr *)&sin, 0),
			 0);
	assert_int_equal(uv_listen((uv_stream_t *)&fx->server, 8,
				   on_connection),
			 0);
	assert_int_equal(uv_tcp_getsockname(&fx->server,
					    (struct sockaddr *)&ss, &len),
			 0);
	snprintf(fx->addr, sizeof(fx->addr), "127.0.0.1:%d",
		 ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

static int fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/lms-test-tls-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->key_path, sizeof(fx->key_path), "%s/mother.key",
		 fx->dir);
	snprintf(fx->cert_path, sizeof(fx->cert_path), "%s/sync-tls.crt",
		 fx->dir);
	snprintf(fx->other_key_path, sizeof(fx->other_key_path),
		 "%s/other.key", fx->dir);
	snprintf(fx->other_cert_path, sizeof(fx->other_cert_path),
		 "%s/other.crt", fx->dir);
	fx_key(fx->key_path, fx->pin);
	fx_key(fx->other_key_path, NULL);
	assert_int_equal(tls_server_ctx_new(fx->key_path, fx->cert_path,
					    &fx->server_ctx),
			 0);
	assert_int_equal(tls_server_ctx_new(fx->other_key_path,
					    fx->other_cert_path,
					    &fx->other_server_ctx),
			 0);
	assert_int_equal(tls_client_ctx_new(fx->pin, &fx->client_ctx), 0);
	fx->srv_opts.tls = fx->server_ctx;
	fx->cli_opts.tls = fx->client_ctx;

	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->srv.fx = fx->cli.fx = fx;
	fx->srv.order_ok = fx->cli.order_ok = 1;
	fx_listen(fx);
	uv_timer_init(&fx->loop, &fx->guard);
	uv_timer_start(&fx->guard, guard_fired, 15000, 0);
	uv_unref((uv_handle_t *)&fx->guard);
	uv_timer_init(&fx->loop, &fx->helper);
	fx->helper.data = fx;
	fx->started = uv_now(&fx->loop);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->srv.c)
		proto_conn_close(fx->srv.c, 0);
	if (fx->cli.c)
		proto_conn_close(fx->cli.c, 0);
	if (!uv_is_closing((uv_handle_t *)&fx->server))
		uv_close((uv_handle_t *)&fx->server, NULL);
	uv_close((uv_handle_t *)&fx->guard, NULL);
	uv_close((uv_handle_t *)&fx->helper, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	/* contexts outlive their connections */
	tls_ctx_free(fx->server_ctx);
	tls_ctx_free(fx->other_server_ctx);
	tls_ctx_free(fx->client_ctx);
	fs_remove_tree(fx->dir);
	free(fx);
	return 0;
}

static void fx_connect(struct fixture *fx)
{
	assert_int_equal(proto_conn_connect(&fx->loop, fx->addr, &side_ops,
					    &fx->cli_opts, &fx->cli,
					    &fx->cli.c),
			 0);
}

/* Runs until both connections are gone. */
static void fx_run(struct fixture *fx)
{
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->srv.closes, 1);
	assert_int_equal(fx->cli.closes, 1);
}

static void send_acks(struct proto_conn *c, uint64_t from, uint64_t n)
{
	struct buf b = { 0 };
	struct proto_seq m;

	for (uint64_t i = 0; i < n; i++) {
		m.seq = from + i;
		assert_int_equal(proto_write_seq(&b, PROTO_ACK, &m), 0);
		assert_int_equal(proto_conn_send(c, &b), 0);
		assert_int_equal(b.len, 0);
	}
}

static int is_peer_gone(int reason)
{
	return reason == UV_EOF || reason == UV_ECONNRESET;
}

/* ---- frames both ways ---- */

static void echo_frame(struct side *s, const struct proto_frame *f)
{
	(void)f;
	if (s->last_seq == 500)
		send_acks(s->c, 1, 500); /* the server answers */
}

static void count_back(struct side *s, const struct proto_frame *f)
{
	(void)f;
	if (s->last_seq == 500)
		proto_conn_close(s->c, 0);
}

static void five_hundred(struct side *s)
{
	send_acks(s->c, 1, 500);
}

static void test_frames_both_ways(void **state)
{
	struct fixture *fx = *state;

	fx->on_connect = five_hundred;
	fx->srv.on_frame = echo_frame;
	fx->cli.on_frame = count_back;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->cli.connects, 1);
	assert_int_equal(fx->cli.connect_status, 0);
	assert_int_equal(fx->srv.frames, 500);
	assert_int_equal(fx->cli.frames, 500);
	assert_true(fx->srv.order_ok);
	assert_true(fx->cli.order_ok);
	assert_int_equal(fx->cli.close_reason, 0);
	assert_int_equal(fx->srv.close_reason, UV_EOF);
	assert_string_equal(fx->cli.tls_error, "");
	assert_string_equal(fx->srv.tls_error, "");
}

/* ---- a big EVENT frame each way ---- */

static void send_big(struct side *s)
{
	uint8_t sig[CRYPTO_SIG_LEN] = { 7 };
	struct proto_event ev = {
		.version = PROTO_VERSION,
		.tenant = "t",
		.seq = 1,
		.course = "c",
		.new_rev = "0123456789abcdef0123456789abcdef01234567",
		.kind = PROTO_KIND_REVISION,
		.pack_len = BIG_PACK,
	};
	struct buf frame = { 0 };
	uint8_t *pack = malloc(BIG_PACK);

	assert_non_null(pack);
	for (size_t i = 0; i < BIG_PACK; i++)
		pack[i] = (uint8_t)(i * 31 + (i >> 13));
	crypto_sha256(pack, BIG_PACK, ev.pack_sha256);
	assert_int_equal(proto_write_event(&frame, &ev, sig, pack, BIG_PACK),
			 0);
	free(pack);
	proto_conn_on_drain(s->c, side_drain);
	assert_int_equal(proto_conn_send(s->c, &frame), 0);
	assert_int_equal(frame.len, 0);
	assert_true(proto_conn_pending(s->c) >= BIG_PACK);
}

static void check_big(struct side *s, const struct proto_frame *f)
{
	uint8_t sha[CRYPTO_SHA256_LEN];
	struct proto_event_msg m;

	assert_int_equal(f->type, PROTO_EVENT);
	assert_int_equal(proto_read_event(f->payload, f->len, &m), 0);
	assert_int_equal(m.pack_len, BIG_PACK);
	crypto_sha256(m.pack, m.pack_len, sha);
	assert_memory_equal(sha, m.ev.pack_sha256, sizeof(sha));
	s->big_frames++;
}

static void big_then_close(struct side *s, const struct proto_frame *f)
{
	check_big(s, f);
	proto_conn_close(s->c, 0); /* its own big frame still goes out */
}

static void test_big_frames_both_ways(void **state)
{
	struct fixture *fx = *state;

	/* the server sends at once, during the handshake: it must wait */
	fx->on_accept = send_big;
	fx->on_connect = send_big;
	fx->srv.on_frame = check_big;
	fx->cli.on_frame = big_then_close;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.big_frames, 1);
	assert_int_equal(fx->cli.big_frames, 1);
	assert_int_equal(fx->cli.close_reason, 0);
	assert_int_equal(fx->srv.close_reason, UV_EOF);
	assert_true(fx->srv.drains >= 1);
}

static void big_and_close(struct side *s)
{
	send_big(s);
	proto_conn_close(s->c, 0);
}

/* Closing right after sending flushes the frame, then close_notify. */
static void test_close_flushes(void **state)
{
	struct fixture *fx = *state;

	fx->on_connect = big_and_close;
	fx->srv.on_frame = check_big;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.big_frames, 1);
	assert_int_equal(fx->srv.close_reason, UV_EOF);
	assert_int_equal(fx->cli.close_reason, 0);
}

/* ---- pause and resume ---- */

static void resume_later(uv_timer_t *t)
{
	struct fixture *fx = t->data;

	fx->paused = 0;
	proto_conn_resume(fx->srv.c);
}

static void pause_frame(struct side *s, const struct proto_frame *f)
{
	(void)f;
	if (s->fx->paused)
		s->order_ok = 0; /* a frame while paused */
	if (s->last_seq == 10) {
		proto_conn_close(s->c, 0);
		return;
	}
	proto_conn_pause(s->c);
	s->fx->paused = 1;
	uv_timer_start(&s->fx->helper, resume_later, 20, 0);
}

static void ten_connect(struct side *s)
{
	send_acks(s->c, 1, 10);
}

static void test_pause_resume(void **state)
{
	struct fixture *fx = *state;

	fx->on_connect = ten_connect;
	fx->srv.on_frame = pause_frame;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.frames, 10);
	assert_true(fx->srv.order_ok);
	assert_int_equal(fx->srv.close_reason, 0);
	assert_true(is_peer_gone(fx->cli.close_reason));
	assert_true(fx->srv.closed_at - fx->started >= 9 * 20);
}

/* Paused by its owner right after accept, the server still completes
 * the handshake, then delivers nothing until resumed. */
static void pause_at_accept(struct side *s)
{
	proto_conn_pause(s->c);
	s->fx->paused = 1;
	uv_timer_start(&s->fx->helper, resume_later, 200, 0);
}

static void close_at_ten(struct side *s, const struct proto_frame *f)
{
	(void)f;
	if (s->fx->paused)
		s->order_ok = 0;
	if (s->last_seq == 10)
		proto_conn_close(s->c, 0);
}

static void test_pause_during_handshake(void **state)
{
	struct fixture *fx = *state;

	fx->on_accept = pause_at_accept;
	fx->on_connect = ten_connect;
	fx->srv.on_frame = close_at_ten;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->cli.connect_status, 0);
	assert_int_equal(fx->srv.frames, 10);
	assert_true(fx->srv.order_ok);
	assert_true(fx->srv.closed_at - fx->started >= 200);
}

/* ---- timers ---- */

static void stop_client(uv_timer_t *t)
{
	struct fixture *fx = t->data;

	assert_int_equal(fx->srv.closes, 0);
	assert_int_equal(fx->cli.closes, 0);
	proto_conn_close(fx->cli.c, 0);
}

static void test_ping_keeps_alive(void **state)
{
	struct fixture *fx = *state;

	fx->srv_opts.idle_timeout_ms = 150;
	fx->srv_opts.ping_ms = 40;
	fx->cli_opts.idle_timeout_ms = 150;
	fx->cli_opts.ping_ms = 40;
	uv_timer_start(&fx->helper, stop_client, 600, 0);
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.frames, 0);
	assert_int_equal(fx->cli.frames, 0);
	assert_int_equal(fx->cli.close_reason, 0);
	assert_int_equal(fx->srv.close_reason, UV_EOF);
}

/* ---- refusals ---- */

static void hello_at_accept(struct side *s)
{
	send_acks(s->c, 1, 1); /* like the mother's CHALLENGE */
}

static void short_timeouts(struct fixture *fx)
{
	fx->srv_opts.idle_timeout_ms = SHORT_IDLE_MS;
	fx->cli_opts.idle_timeout_ms = SHORT_IDLE_MS;
}

static void test_other_key_refused(void **state)
{
	struct fixture *fx = *state;

	short_timeouts(fx);
	fx->srv_opts.tls = fx->other_server_ctx;
	fx->on_accept = hello_at_accept;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->cli.connects, 1);
	assert_int_equal(fx->cli.connect_status, UV_EPROTO);
	assert_int_equal(fx->cli.close_reason, UV_EPROTO);
	assert_string_equal(fx->cli.tls_error, TLS_PIN_MISMATCH);
	assert_int_equal(fx->cli.frames, 0);
	assert_int_equal(fx->srv.frames, 0);
	assert_true(fx->srv.close_reason != 0);
	/* refused by the alert, not by a timeout */
	assert_true(fx->cli.closed_at - fx->started < SHORT_IDLE_MS);
}

/* A plain client that waits for the server to speak first, as the
 * workspace waits for the CHALLENGE: both sides time out. */
static void test_plain_client_waits_on_tls_server(void **state)
{
	struct fixture *fx = *state;

	short_timeouts(fx);
	fx->cli_opts.tls = NULL;
	fx->on_accept = hello_at_accept;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->cli.connect_status, 0); /* plain TCP is up */
	assert_int_equal(fx->cli.frames, 0);
	assert_int_equal(fx->srv.frames, 0);
	assert_int_equal(fx->srv.close_reason, UV_ETIMEDOUT);
	assert_non_null(strstr(fx->srv.tls_error, "timed out"));
	assert_true(fx->cli.close_reason == UV_ETIMEDOUT ||
		    is_peer_gone(fx->cli.close_reason));
}

/* A plain client that sends a frame: the TLS server refuses it at once. */
static void test_plain_client_talks_to_tls_server(void **state)
{
	struct fixture *fx = *state;

	short_timeouts(fx);
	fx->cli_opts.tls = NULL;
	fx->on_connect = ten_connect;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.frames, 0);
	assert_int_equal(fx->cli.frames, 0);
	assert_int_equal(fx->srv.close_reason, UV_EPROTO);
	assert_memory_equal(fx->srv.tls_error, "TLS handshake failed: ", 22);
	assert_true(fx->srv.closed_at - fx->started < SHORT_IDLE_MS);
}

/* A TLS client against a plain server that speaks first. */
static void test_tls_client_plain_server(void **state)
{
	struct fixture *fx = *state;

	short_timeouts(fx);
	fx->srv_opts.tls = NULL;
	fx->on_accept = hello_at_accept;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->cli.connects, 1);
	assert_true(fx->cli.connect_status < 0);
	assert_int_equal(fx->cli.frames, 0);
	assert_int_equal(fx->srv.frames, 0);
	assert_memory_equal(fx->cli.tls_error, "TLS handshake failed: ", 22);
	assert_true(fx->cli.closed_at - fx->started < SHORT_IDLE_MS);
}

/* Closing a TLS client before its handshake is done: no on_connect. */
static void test_close_during_handshake(void **state)
{
	struct fixture *fx = *state;

	fx_connect(fx);
	while (!fx->srv.c)
		uv_run(&fx->loop, UV_RUN_ONCE);
	proto_conn_close(fx->cli.c, 0);
	proto_conn_close(fx->cli.c, 0);
	fx_run(fx);

	assert_int_equal(fx->cli.connects, 0);
	assert_int_equal(fx->cli.close_reason, 0);
	assert_int_equal(fx->srv.frames, 0);
}

/* ---- the certificate and addresses ---- */

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void cert_key(const char *path, uint8_t pin[CRYPTO_SHA256_LEN])
{
	X509 *x = read_cert(path);
	uint8_t raw[CRYPTO_PUBKEY_LEN];
	size_t len = sizeof(raw);

	assert_int_equal(EVP_PKEY_get_raw_public_key(X509_get0_pubkey(x),
						     raw, &len),
			 1);
	assert_int_equal(len, sizeof(raw));
	crypto_sha256(raw, len, pin);
	/* about ten years */
	assert_true(X509_cmp_time(X509_get0_notAfter(x), NULL) > 0);
	X509_free(x);
}

static void read_all(const char *path, struct buf *out)
{
	buf_reset(out);
	assert_int_equal(fs_read_file(path, 1 << 20, out), 0);
}

static void test_certificate(void **state)
{
	struct fixture *fx = *state;
	uint8_t pin[CRYPTO_SHA256_LEN];
	struct buf first = { 0 }, again = { 0 };

	/* the fixture wrote it: a certificate of the mother key */
	cert_key(fx->cert_path, pin);
	assert_memory_equal(pin, fx->pin, sizeof(pin));

	/* kept while it fits */
	read_all(fx->cert_path, &first);
	assert_int_equal(tls_cert_ensure(fx->key_path, fx->cert_path), 0);
	read_all(fx->cert_path, &again);
	assert_int_equal(first.len, again.len);
	assert_memory_equal(first.data, again.data, first.len);

	/* another key's certificate in its place is replaced */
	read_all(fx->other_cert_path, &again);
	assert_int_equal(fs_write_atomic(fx->cert_path, again.data,
					 again.len, 0644),
			 0);
	assert_int_equal(tls_cert_ensure(fx->key_path, fx->cert_path), 0);
	cert_key(fx->cert_path, pin);
	assert_memory_equal(pin, fx->pin, sizeof(pin));

	/* so is garbage, and a missing file */
	assert_int_equal(fs_write_atomic(fx->cert_path, "junk", 4, 0644), 0);
	assert_int_equal(tls_cert_ensure(fx->key_path, fx->cert_path), 0);
	cert_key(fx->cert_path, pin);
	assert_memory_equal(pin, fx->pin, sizeof(pin));
	unlink(fx->cert_path);
	assert_int_equal(tls_cert_ensure(fx->key_path, fx->cert_path), 0);
	cert_key(fx->cert_path, pin);
	assert_memory_equal(pin, fx->pin, sizeof(pin));

	/* a key that is not there is an error, not a certificate */
	assert_true(tls_cert_ensure("/nonexistent/k", fx->cert_path) < 0);
	buf_release(&first);
	buf_release(&again);
}

static void test_split_addr(void **state)
{
	const char *rest = NULL;

	(void)state;
	assert_int_equal(tls_split_addr("tls://10.0.0.1:8601", &rest), 1);
	assert_string_equal(rest, "10.0.0.1:8601");
	assert_int_equal(tls_split_addr("10.0.0.1:8601", &rest), 0);
	assert_string_equal(rest, "10.0.0.1:8601");
	assert_int_equal(tls_split_addr("TLS://x:1", NULL), 0);
	assert_int_equal(tls_split_addr("tls:/x:1", NULL), 0);
}

#define TLS_TEST(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TLS_TEST(test_frames_both_ways),
		TLS_TEST(test_big_frames_both_ways),
		TLS_TEST(test_close_flushes),
		TLS_TEST(test_pause_resume),
		TLS_TEST(test_pause_during_handshake),
		TLS_TEST(test_ping_keeps_alive),
		TLS_TEST(test_other_key_refused),
		TLS_TEST(test_plain_client_waits_on_tls_server),
		TLS_TEST(test_plain_client_talks_to_tls_server),
		TLS_TEST(test_tls_client_plain_server),
		TLS_TEST(test_close_during_handshake),
		TLS_TEST(test_certificate),
		cmocka_unit_test(test_split_addr),
	};

	signal(SIGPIPE, SIG_IGN); /* as the daemons: peers may go away */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
