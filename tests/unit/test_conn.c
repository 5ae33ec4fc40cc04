/*
 * Unit tests of proto/conn.c: two connections over loopback in one libuv
 * loop, a server side accepted from a listener on 127.0.0.1 port 0 and a
 * client side connected to it.
 *
 * Each test counts callbacks, runs the loop until every handle is closed
 * and then checks that the loop closes cleanly, so a connection that
 * forgets a handle or calls on_close twice fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/conn.h"

#define BIG_PACK (5u << 20)

struct fixture;

struct side {
	struct fixture *fx;
	struct proto_conn *c;
	int connects;
	int connect_status;
	int closes;
	int close_reason;
	int frames;
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
	int helper_used;
	char addr[64];
	struct proto_conn_opts srv_opts;
	struct proto_conn_opts cli_opts;
	struct side srv;
	struct side cli;
	void (*on_connect)(struct side *s);
	int paused; /* the server side, as the test left it */
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

	s->closes++;
	s->close_reason = reason;
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
}

static void guard_fired(uv_timer_t *t)
{
	(void)t;
	fail_msg("test did not finish in time");
}

/* ---- fixture ---- */

static int fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	assert_non_null(fx);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->srv.fx = fx->cli.fx = fx;
	fx->srv.order_ok = fx->cli.order_ok = 1;

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

	/* after a failed test, connections may still be open */
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

static void send_acks(struct proto_conn *c, uint64_t from, uint64_t n,
		      int one_buffer)
{
	struct buf b = { 0 };
	struct proto_seq m;

	for (uint64_t i = 0; i < n; i++) {
		m.seq = from + i;
		assert_int_equal(proto_write_seq(&b, PROTO_ACK, &m), 0);
		if (!one_buffer) {
			assert_int_equal(proto_conn_send(c, &b), 0);
			assert_int_equal(b.len, 0);
		}
	}
	if (one_buffer)
		assert_int_equal(proto_conn_send(c, &b), 0);
	buf_release(&b);
}

/* A peer that closed or reset: what the other side sees. */
static int is_peer_gone(int reason)
{
	return reason == UV_EOF || reason == UV_ECONNRESET;
}

/* ---- frames in order ---- */

static void order_connect(struct side *s)
{
	send_acks(s->c, 1, 500, 0);
	send_acks(s->c, 501, 500, 1);
	assert_true(proto_conn_pending(s->c) > 0);
	proto_conn_on_drain(s->c, side_drain);
}

static void order_frame(struct side *s, const struct proto_frame *f)
{
	(void)f;
	if (s->last_seq == 1000)
		proto_conn_close(s->c, 0);
}

static void test_frames_in_order(void **state)
{
	struct fixture *fx = *state;

	fx->on_connect = order_connect;
	fx->srv.on_frame = order_frame;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->cli.connects, 1);
	assert_int_equal(fx->cli.connect_status, 0);
	assert_int_equal(fx->srv.frames, 1000);
	assert_true(fx->srv.order_ok);
	assert_int_equal(fx->srv.close_reason, 0);
	assert_true(is_peer_gone(fx->cli.close_reason));
	assert_true(fx->cli.drains >= 1);
}

/* ---- a big EVENT frame ---- */

static void big_connect(struct side *s)
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
	size_t len;

	assert_non_null(pack);
	for (size_t i = 0; i < BIG_PACK; i++)
		pack[i] = (uint8_t)(i * 31 + (i >> 13));
	crypto_sha256(pack, BIG_PACK, ev.pack_sha256);
	assert_int_equal(proto_write_event(&frame, &ev, sig, pack, BIG_PACK),
			 0);
	free(pack);

	len = frame.len;
	proto_conn_on_drain(s->c, side_drain);
	assert_int_equal(proto_conn_send(s->c, &frame), 0);
	assert_int_equal(proto_conn_pending(s->c), len);
	if (s->fx->helper_used) /* close at once: the frame must still go */
		proto_conn_close(s->c, 0);
}

static void big_frame(struct side *s, const struct proto_frame *f)
{
	uint8_t sha[CRYPTO_SHA256_LEN];
	struct proto_event_msg m;

	assert_int_equal(f->type, PROTO_EVENT);
	assert_int_equal(proto_read_event(f->payload, f->len, &m), 0);
	assert_int_equal(m.pack_len, BIG_PACK);
	crypto_sha256(m.pack, m.pack_len, sha);
	assert_memory_equal(sha, m.ev.pack_sha256, sizeof(sha));
	if (!s->fx->helper_used)
		proto_conn_close(s->c, 0);
}

static void test_big_frame(void **state)
{
	struct fixture *fx = *state;

	fx->on_connect = big_connect;
	fx->srv.on_frame = big_frame;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.frames, 1);
	assert_int_equal(fx->srv.close_reason, 0);
	assert_int_equal(fx->cli.drains, 1);
}

/* Closing right after sending flushes the frame before the end. */
static void test_close_flushes(void **state)
{
	struct fixture *fx = *state;

	fx->helper_used = 1;
	fx->on_connect = big_connect;
	fx->srv.on_frame = big_frame;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.frames, 1);
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
	send_acks(s->c, 1, 10, 1);
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
	/* nine pauses of at least 20 ms each */
	assert_true(fx->srv.closed_at - fx->started >= 9 * 20);
}

static void close_first_frame(struct side *s, const struct proto_frame *f)
{
	(void)f;
	proto_conn_close(s->c, 0);
	proto_conn_close(s->c, 0); /* twice is harmless */
}

static void test_close_inside_on_frame(void **state)
{
	struct fixture *fx = *state;

	fx->on_connect = ten_connect;
	fx->srv.on_frame = close_first_frame;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.frames, 1);
	assert_int_equal(fx->srv.close_reason, 0);
}

/* ---- timers ---- */

static void test_idle_timeout(void **state)
{
	struct fixture *fx = *state;

	fx->srv_opts.idle_timeout_ms = 100;
	fx->srv_opts.ping_ms = 10000;
	fx->cli_opts.ping_ms = 10000;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.close_reason, UV_ETIMEDOUT);
	assert_true(is_peer_gone(fx->cli.close_reason));
	assert_true(fx->srv.closed_at - fx->started >= 100);
	assert_true(fx->srv.closed_at - fx->started < 5000);
}

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

	assert_int_equal(fx->srv.frames, 0); /* pings are not frames */
	assert_int_equal(fx->cli.frames, 0);
	assert_int_equal(fx->cli.close_reason, 0);
	assert_int_equal(fx->srv.close_reason, UV_EOF);
	assert_true(fx->srv.closed_at - fx->started >= 600);
}

/* A paused connection does not time out, however long the owner works;
 * once resumed, the idle timer runs again from the start. */
static void pause_server(uv_timer_t *t)
{
	struct fixture *fx = t->data;

	if (!fx->paused) {
		proto_conn_pause(fx->srv.c);
		fx->paused = 1;
		uv_timer_start(&fx->helper, pause_server, 300, 0);
		return;
	}
	assert_int_equal(fx->srv.closes, 0);
	fx->paused = 0;
	proto_conn_resume(fx->srv.c);
}

static void test_pause_stops_idle_timer(void **state)
{
	struct fixture *fx = *state;

	fx->srv_opts.idle_timeout_ms = 100;
	fx->srv_opts.ping_ms = 10000;
	fx->cli_opts.ping_ms = 10000;
	uv_timer_start(&fx->helper, pause_server, 30, 0);
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.close_reason, UV_ETIMEDOUT);
	assert_true(fx->srv.closed_at - fx->started >= 330 + 100);
	assert_true(is_peer_gone(fx->cli.close_reason));
}

/* ---- limits ---- */

static void send_header(struct proto_conn *c, uint8_t type, uint32_t len)
{
	/* by hand: our encoder refuses to write such a header */
	uint8_t frame[PROTO_HEADER_LEN + 100] = {
		(uint8_t)(len >> 24), (uint8_t)(len >> 16),
		(uint8_t)(len >> 8), (uint8_t)len, type,
	};
	struct buf b = { 0 };

	assert_int_equal(buf_append(&b, frame, sizeof(frame)), 0);
	assert_int_equal(proto_conn_send(c, &b), 0);
}

static void too_big_event(struct side *s)
{
	send_header(s->c, PROTO_EVENT, 2000);
}

static void too_big_control(struct side *s)
{
	send_header(s->c, PROTO_ERROR, PROTO_MAX_CONTROL + 1);
}

static void test_too_big(void **state)
{
	struct fixture *fx = *state;

	fx->srv_opts.max_frame = 1000;
	fx->on_connect = too_big_event;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.frames, 0);
	assert_int_equal(fx->srv.close_reason, PROTO_ETOOBIG);
	assert_true(is_peer_gone(fx->cli.close_reason));
}

static void test_control_too_big(void **state)
{
	struct fixture *fx = *state;

	fx->on_connect = too_big_control;
	fx_connect(fx);
	fx_run(fx);

	assert_int_equal(fx->srv.frames, 0);
	assert_int_equal(fx->srv.close_reason, PROTO_ETOOBIG);
}

/* ---- connecting ---- */

static void test_peer_names(void **state)
{
	struct fixture *fx = *state;

	fx->on_connect = ten_connect;
	fx->srv.on_frame = close_first_frame;
	fx_connect(fx);
	assert_string_equal(proto_conn_peer(fx->cli.c), fx->addr);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	while (!fx->srv.c && !fx->srv.closes)
		uv_run(&fx->loop, UV_RUN_ONCE);
	assert_non_null(fx->srv.c);
	assert_memory_equal(proto_conn_peer(fx->srv.c), "127.0.0.1:", 10);
	assert_string_not_equal(proto_conn_peer(fx->srv.c), fx->addr);
	fx_run(fx);
}

static void test_connect_refused(void **state)
{
	struct fixture *fx = *state;

	/* nobody listens once the listener is closed */
	uv_close((uv_handle_t *)&fx->server, NULL);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	fx_connect(fx);
	uv_run(&fx->loop, UV_RUN_DEFAULT);

	assert_int_equal(fx->cli.connects, 1);
	assert_int_equal(fx->cli.connect_status, UV_ECONNREFUSED);
	assert_int_equal(fx->cli.closes, 1);
	assert_int_equal(fx->cli.close_reason, UV_ECONNREFUSED);
}

static void test_close_while_connecting(void **state)
{
	struct fixture *fx = *state;

	fx_connect(fx);
	proto_conn_close(fx->cli.c, 0);
	proto_conn_close(fx->cli.c, 0);
	uv_close((uv_handle_t *)&fx->server, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);

	assert_int_equal(fx->cli.connects, 0);
	assert_int_equal(fx->cli.closes, 1);
	assert_int_equal(fx->cli.close_reason, 0);
	assert_int_equal(fx->srv.closes, 0);
}

static void test_bad_addresses(void **state)
{
	static const char *const bad[] = {
		"",	     "127.0.0.1",    "127.0.0.1:",   "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:8a", "localhost:8601",
		"::1:8601",  "[::1]",	     "[::1]8601",    "[]:8601",
		"1.2.3:8601", ":8601",
	};
	struct fixture *fx = *state;
	struct proto_conn *c = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proto_conn_connect(&fx->loop, bad[i],
						    &side_ops, NULL, &fx->cli,
						    &c),
				 UV_EINVAL);
	assert_null(c);
	assert_int_equal(fx->cli.connects + fx->cli.closes, 0);
}

static void test_ipv6_address(void **state)
{
	struct fixture *fx = *state;
	int rc;

	uv_close((uv_handle_t *)&fx->server, NULL);
	rc = proto_conn_connect(&fx->loop, "[::1]:1", &side_ops, NULL,
				&fx->cli, &fx->cli.c);
	if (rc) { /* no IPv6 here; the address still parsed */
		assert_int_not_equal(rc, UV_EINVAL);
		return;
	}
	assert_string_equal(proto_conn_peer(fx->cli.c), "[::1]:1");
	proto_conn_close(fx->cli.c, 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->cli.closes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frames_in_order,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_big_frame, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_close_flushes, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_close_inside_on_frame,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_ping_keeps_alive,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pause_stops_idle_timer,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_too_big, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_control_too_big,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_peer_names, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_close_while_connecting,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_addresses, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_address, fx_setup,
						fx_teardown),
	};

	signal(SIGPIPE, SIG_IGN); /* as the daemons: peers may go away */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
