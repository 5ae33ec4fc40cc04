/*
 * Unit tests of the streamed answers of common/http (http_stream_*): a
 * real server on a loopback port whose handler streams a pattern of n
 * bytes from the thread pool, and a client on a thread of its own with
 * blocking sockets, its answers read with http-parser in response mode.
 * The client records what it saw; the checks run on the main thread
 * once the loop has ended.
 *
 * Covered: a whole chunked answer and a second request on the same
 * connection after it, HEAD (headers alone, the connection still in
 * step), HTTP/1.0 (no chunks, ended by closing), a slow reader (the
 * producer is held back: it cannot get far ahead of what the client
 * read, so the server never holds the whole answer) and a client that
 * leaves half-way (the producer's writes fail with -ECANCELED and the
 * server goes on serving).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <http_parser.h>

#include "common/buf.h"
#include "common/http.h"

#define PIECE 1000
#define BIG (64u * 1024 * 1024)

struct job {
	uv_work_t work;
	struct http_stream *st;
	size_t n;
	struct fixture *f;
};

struct fixture {
	uv_loop_t loop;
	struct http_server *srv;
	int port;
	uv_async_t done;
	atomic_size_t produced; /* bytes the last producer got written */
	atomic_int write_rc;	/* its last write's result */
	atomic_int jobs_done;
	/* what the client saw */
	int status[2];
	char encoding[2][32];
	size_t body_len[2];
	bool body_ok[2];
	size_t produced_while_stalled;
	int scenario;
};

/* ---- the server ---- */

static char pattern(size_t i)
{
	return (char)('a' + i % 26);
}

static void produce(uv_work_t *w)
{
	struct job *j = w->data;
	char piece[PIECE];
	size_t sent = 0, n;
	int rc = 0;

	while (!rc && sent < j->n) {
		n = j->n - sent < PIECE ? j->n - sent : PIECE;
		for (size_t i = 0; i < n; i++)
			piece[i] = pattern(sent + i);
		rc = http_stream_write(j->st, piece, n);
		if (!rc)
			sent += n;
		atomic_store(&j->f->produced, sent);
	}
	atomic_store(&j->f->write_rc, rc);
	http_stream_end(j->st, 0);
}

static void produced(uv_work_t *w, int status)
{
	struct job *j = w->data;

	(void)status;
	atomic_fetch_add(&j->f->jobs_done, 1);
	free(j);
}

static void on_request(void *ctx, struct http_exchange *x,
		       const struct http_request *req)
{
	struct fixture *f = ctx;
	struct job *j;

	if (strcmp(req->path, "/stream")) {
		http_respond(x, 200, "text/plain", "small", 5);
		return;
	}
	j = calloc(1, sizeof(*j));
	j->n = strtoull(req->query + 2, NULL, 10); /* "n=..." */
	j->f = f;
	j->work.data = j;
	atomic_store(&f->produced, 0);
	if (http_stream_start(x, 200, "text/plain", &j->st)) {
		free(j);
		return;
	}
	uv_queue_work(&f->loop, &j->work, produce, produced);
}

static void on_stopped(void *arg)
{
	(void)arg;
}

static void on_done(uv_async_t *a)
{
	struct fixture *f = a->data;

	http_server_stop(f->srv, on_stopped, NULL);
	uv_close((uv_handle_t *)&f->done, NULL);
}

/* ---- the client ---- */

struct reader {
	http_parser parser;
	struct fixture *f;
	int slot;
	bool in_te; /* the header being read is Transfer-Encoding */
	bool head;  /* the answer is to HEAD: no body */
	size_t pos;
	bool complete;
};

static int on_field(http_parser *p, const char *at, size_t n)
{
	struct reader *r = p->data;

	r->in_te = n == 17 && !strncasecmp(at, "Transfer-Encoding", n);
	return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct reader *r = p->data;

	if (r->in_te)
		snprintf(r->f->encoding[r->slot], 32, "%.*s", (int)n, at);
	return 0;
}

static int on_headers(http_parser *p)
{
	struct reader *r = p->data;

	r->f->status[r->slot] = (int)p->status_code;
	return r->head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct reader *r = p->data;

	for (size_t i = 0; i < n; i++)
		if (at[i] != pattern(r->pos + i))
			r->f->body_ok[r->slot] = false;
	r->pos += n;
	r->f->body_len[r->slot] = r->pos;
	return 0;
}

static int on_complete(http_parser *p)
{
	struct reader *r = p->data;

	r->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers,
	.on_body = on_body,
	.on_message_complete = on_complete,
};

static int dial(struct fixture *f, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)f->port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return fd;
}

static void say(int fd, const char *s)
{
	size_t n = strlen(s);

	if (write(fd, s, n) != (ssize_t)n)
		perror("write");
}

/* Reads one answer into slot (to the end of the connection for an
 * answer without length); HEAD answers have no body. */
static void read_answer(struct fixture *f, int fd, int slot, bool head)
{
	struct reader r = { .f = f, .slot = slot, .head = head };
	char b[65536];
	ssize_t n;

	http_parser_init(&r.parser, HTTP_RESPONSE);
	r.parser.data = &r;
	f->body_ok[slot] = true;
	while (!r.complete && (n = read(fd, b, sizeof(b))) >= 0) {
		http_parser_execute(&r.parser, &settings, b, (size_t)n);
		if (n == 0)
			break;
	}
}

static void *client(void *arg)
{
	struct fixture *f = arg;
	char req[128];
	int fd;

	switch (f->scenario) {
	case 0: /* whole, then again on the same connection */
		fd = dial(f, 0);
		say(fd, "GET /stream?n=1000001 HTTP/1.1\r\n\r\n");
		read_answer(f, fd, 0, false);
		say(fd, "GET /small HTTP/1.1\r\n\r\n");
		read_answer(f, fd, 1, false);
		close(fd);
		break;
	case 1: /* HEAD, then GET */
		fd = dial(f, 0);
		say(fd, "HEAD /stream?n=300000 HTTP/1.1\r\n\r\n");
		read_answer(f, fd, 0, true);
		say(fd, "GET /small HTTP/1.1\r\n\r\n");
		read_answer(f, fd, 1, false);
		close(fd);
		break;
	case 2: /* HTTP/1.0 */
		fd = dial(f, 0);
		say(fd, "GET /stream?n=200000 HTTP/1.0\r\n\r\n");
		read_answer(f, fd, 0, false);
		close(fd);
		break;
	case 3: /* a slow reader */
		fd = dial(f, 16384);
		snprintf(req, sizeof(req),
			 "GET /stream?n=%u HTTP/1.1\r\n\r\n", BIG);
		say(fd, req);
		usleep(800 * 1000);
		f->produced_while_stalled = atomic_load(&f->produced);
		read_answer(f, fd, 0, false);
		close(fd);
		break;
	case 4: /* leaves half-way; the server still serves */
		fd = dial(f, 16384);
		snprintf(req, sizeof(req),
			 "GET /stream?n=%u HTTP/1.1\r\n\r\n", BIG);
		say(fd, req);
		usleep(200 * 1000);
		close(fd);
		while (!atomic_load(&f->jobs_done))
			usleep(10 * 1000);
		fd = dial(f, 0);
		say(fd, "GET /small HTTP/1.1\r\n\r\n");
		read_answer(f, fd, 1, false);
		close(fd);
		break;
	}
	uv_async_send(&f->done);
	return NULL;
}

static void run(struct fixture *f, int scenario)
{
	pthread_t t;

	memset(f, 0, sizeof(*f));
	f->scenario = scenario;
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(http_server_start(&f->loop, "127.0.0.1:0", NULL,
					   on_request, f, &f->srv),
			 0);
	f->port = http_server_port(f->srv);
	uv_async_init(&f->loop, &f->done, on_done);
	f->done.data = f;
	assert_int_equal(pthread_create(&t, NULL, client, f), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
	assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void test_whole_then_keep_alive(void **state)
{
	struct fixture f;

	(void)state;
	run(&f, 0);
	assert_int_equal(f.status[0], 200);
	assert_string_equal(f.encoding[0], "chunked");
	assert_int_equal(f.body_len[0], 1000001);
	assert_true(f.body_ok[0]);
	assert_int_equal(f.status[1], 200);
	assert_int_equal(f.body_len[1], 5);
	assert_int_equal(atomic_load(&f.jobs_done), 1);
}

static void test_head(void **state)
{
	struct fixture f;

	(void)state;
	run(&f, 1);
	assert_int_equal(f.status[0], 200);
	assert_int_equal(f.body_len[0], 0);
	assert_int_equal(f.status[1], 200);
	assert_int_equal(f.body_len[1], 5);
}

static void test_http10(void **state)
{
	struct fixture f;

	(void)state;
	run(&f, 2);
	assert_int_equal(f.status[0], 200);
	assert_string_equal(f.encoding[0], "");
	assert_int_equal(f.body_len[0], 200000);
	assert_true(f.body_ok[0]);
}

static void test_slow_reader(void **state)
{
	struct fixture f;

	(void)state;
	run(&f, 3);
	/* while the client read nothing, the producer got no further than
	 * the queue and the sockets' buffers hold: a few MiB of 64 */
	print_message("produced while stalled: %zu bytes\n",
		      f.produced_while_stalled);
	assert_true(f.produced_while_stalled < 8u * 1024 * 1024);
	assert_int_equal(f.body_len[0], BIG);
	assert_true(f.body_ok[0]);
	assert_int_equal(atomic_load(&f.write_rc), 0);
}

static void test_client_leaves(void **state)
{
	struct fixture f;

	(void)state;
	run(&f, 4);
	assert_int_equal(atomic_load(&f.write_rc), -ECANCELED);
	assert_true(atomic_load(&f.produced) < BIG);
	assert_int_equal(f.status[1], 200);
	assert_int_equal(f.body_len[1], 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_then_keep_alive),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_http10),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_client_leaves),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
