/*
 * Unit tests for common/http: a real server on a loopback port, talked to
 * through plain sockets from this thread. The client socket is
 * non-blocking; while a test waits for an answer it runs the server's
 * loop once (UV_RUN_NOWAIT) and then polls both the client socket and
 * the loop's backend descriptor, so server and client take turns without
 * threads. Answers are read with http-parser in response mode.
 *
 * The handler answers at once with the path as body, echoes the body on
 * /echo, answers on a later loop turn (a uv_timer) on /defer..., and
 * exercises http_respond_error and http_add_header on /error and
 * /header. Each test ends by stopping the server and closing the loop,
 * which fails if any handle was left open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cJSON.h>
#include <http_parser.h>

#include "common/buf.h"
#include "common/http.h"
#include "common/log.h"

#define WAIT_MS 3000
#define DEFER_MS 30
#define MAX_RESP_HEADERS 32

struct fixture {
	uv_loop_t loop;
	struct http_server *srv;
	int port;
	bool stopped;

	/* What the handler saw, last request first. */
	int calls;
	char method[16];
	char path[256];
	char query[256];
	char x_test[64];
	char peer[64];
	bool missing_is_null;
	struct buf body;
	uint64_t ids[8];
	int add_rc[3];
	int deferred_answers;
};

struct deferred {
	uv_timer_t timer;
	struct fixture *f;
	struct http_exchange *x;
	char path[256];
};

struct response {
	int status;
	int nheaders;
	char names[MAX_RESP_HEADERS][64];
	char values[MAX_RESP_HEADERS][512];
	bool in_value;
	struct buf body;
};

struct client {
	int fd;
	http_parser parser;
	struct buf raw;
	size_t pos;
	bool closed;
	bool head; /* the next answer is to a HEAD request */
	struct response *resp;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The handler */

static void deferred_free(uv_handle_t *h)
{
	free(h->data);
}

static void deferred_fire(uv_timer_t *t)
{
	struct deferred *d = t->data;

	d->f->deferred_answers++;
	http_respond(d->x, 200, "text/plain", d->path, strlen(d->path));
	uv_close((uv_handle_t *)&d->timer, deferred_free);
}

static void defer(struct fixture *f, struct http_exchange *x, const char *p)
{
	struct deferred *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->f = f;
	d->x = x;
	snprintf(d->path, sizeof(d->path), "%s", p);
	uv_timer_init(&f->loop, &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, deferred_fire, DEFER_MS, 0);
}

static void record(struct fixture *f, struct http_exchange *x,
		   const struct http_request *req)
{
	const char *v = http_header(x, "X-Test");

	f->ids[f->calls % 8] = req->id;
	f->calls++;
	snprintf(f->method, sizeof(f->method), "%s", req->method);
	snprintf(f->path, sizeof(f->path), "%s", req->path);
	snprintf(f->query, sizeof(f->query), "%s", req->query);
	snprintf(f->x_test, sizeof(f->x_test), "%s", v ? v : "");
	snprintf(f->peer, sizeof(f->peer), "%s", req->peer);
	f->missing_is_null = http_header(x, "X-Missing") == NULL;
	buf_reset(&f->body);
	assert_int_equal(buf_append(&f->body, req->body, req->body_len), 0);
}

static void on_request(void *ctx, struct http_exchange *x,
		       const struct http_request *req)
{
	struct fixture *f = ctx;
	const char *p = req->path;

	record(f, x, req);
	if (!strncmp(p, "/defer", 6)) {
		defer(f, x, p);
		return;
	}
	if (!strcmp(p, "/echo")) {
		http_respond(x, 200, "application/octet-stream", req->body,
			     req->body_len);
		return;
	}
	if (!strcmp(p, "/error")) {
		http_respond_error(x, 404, "not_found", "no such thing");
		return;
	}
	if (!strcmp(p, "/header")) {
		f->add_rc[0] = http_add_header(x, "X-Reply", "yes");
		f->add_rc[1] = http_add_header(x, "X-Bad", "a\r\nInjected: 1");
		f->add_rc[2] = http_add_header(x, "Content-Length", "1");
	}
	http_respond(x, 200, "text/plain", p, strlen(p));
}

/* Server set-up */

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void start(struct fixture *f, const struct http_limits *limits)
{
	char addr[64];
	int rc = -1;

	for (int i = 0; i < 10 && rc; i++) {
		f->port = free_port();
		assert_true(f->port > 0);
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", f->port);
		rc = http_server_start(&f->loop, addr, limits, on_request, f,
				       &f->srv);
	}
	assert_int_equal(rc, 0);
	assert_non_null(f->srv);
}

static void on_stopped(void *arg)
{
	struct fixture *f = arg;

	f->stopped = true;
}

static void stop(struct fixture *f)
{
	http_server_stop(f->srv, on_stopped, f);
	f->srv = NULL;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(f->stopped);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || uv_loop_init(&f->loop))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->srv)
		stop(f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	buf_release(&f->body);
	free(f);
	return 0;
}

/* The client */

static int on_resp_header_field(http_parser *p, const char *at, size_t n)
{
	struct response *r = ((struct client *)p->data)->resp;
	char *name;

	if (r->in_value || !r->nheaders) {
		if (r->nheaders == MAX_RESP_HEADERS)
			return -1;
		r->nheaders++;
		r->in_value = false;
	}
	name = r->names[r->nheaders - 1];
	strncat(name, at, n < 63 - strlen(name) ? n : 63 - strlen(name));
	return 0;
}

static int on_resp_header_value(http_parser *p, const char *at, size_t n)
{
	struct response *r = ((struct client *)p->data)->resp;
	char *value = r->values[r->nheaders - 1];
	size_t room = 511 - strlen(value);

	r->in_value = true;
	strncat(value, at, n < room ? n : room);
	return 0;
}

static int on_resp_headers_complete(http_parser *p)
{
	struct client *cl = p->data;

	cl->resp->status = (int)p->status_code;
	return cl->head && p->status_code >= 200 ? 1 : 0;
}

static int on_resp_body(http_parser *p, const char *at, size_t n)
{
	struct response *r = ((struct client *)p->data)->resp;

	return buf_append(&r->body, at, n) ? -1 : 0;
}

static int on_resp_complete(http_parser *p)
{
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings resp_settings = {
	.on_header_field = on_resp_header_field,
	.on_header_value = on_resp_header_value,
	.on_headers_complete = on_resp_headers_complete,
	.on_body = on_resp_body,
	.on_message_complete = on_resp_complete,
};

static void client_open(struct fixture *f, struct client *cl)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	memset(cl, 0, sizeof(*cl));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)f->port);
	cl->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(cl->fd >= 0);
	assert_int_equal(connect(cl->fd, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	http_parser_init(&cl->parser, HTTP_RESPONSE);
	cl->parser.data = cl;
}

static void client_close(struct client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	buf_release(&cl->raw);
}

/* Closes with a reset instead of a FIN. */
static void client_reset(struct client *cl)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	client_close(cl);
}

/* One turn of the server's loop, then reads what the client can or
 * waits a little for either side. */
static void pump(struct fixture *f, struct client *cl)
{
	struct pollfd p[2] = {
		{ .fd = uv_backend_fd(&f->loop), .events = POLLIN },
		{ .fd = cl ? cl->fd : -1, .events = POLLIN },
	};
	char chunk[65536];
	ssize_t n;
	int timeout;

	uv_run(&f->loop, UV_RUN_NOWAIT);
	if (cl && !cl->closed) {
		n = recv(cl->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n > 0) {
			assert_int_equal(buf_append(&cl->raw, chunk, (size_t)n),
					 0);
			return;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			cl->closed = true;
	}
	timeout = uv_backend_timeout(&f->loop);
	if (timeout < 0 || timeout > 20)
		timeout = 20;
	poll(p, cl && !cl->closed ? 2 : 1, timeout);
}

static void pump_for(struct fixture *f, struct client *cl, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end)
		pump(f, cl);
}

static void pump_until(struct fixture *f, const int *counter, int value)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (*counter < value && now_ms() < end)
		pump(f, NULL);
	assert_int_equal(*counter, value);
}

static int client_send(struct fixture *f, struct client *cl, const void *p,
		       size_t len)
{
	const char *s = p;
	uint64_t end = now_ms() + WAIT_MS;
	ssize_t n;

	while (len && now_ms() < end) {
		n = send(cl->fd, s, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (n > 0) {
			s += n;
			len -= (size_t)n;
		}
		pump(f, cl);
	}
	return len ? -ETIMEDOUT : 0;
}

static void client_send_str(struct fixture *f, struct client *cl,
			    const char *s)
{
	assert_int_equal(client_send(f, cl, s, strlen(s)), 0);
}

/* Reads the next answer; 0, or -1 when the connection closed first. */
static int client_answer(struct fixture *f, struct client *cl,
			 struct response *r)
{
	uint64_t end = now_ms() + WAIT_MS;
	enum http_errno err;
	size_t n;

	memset(r, 0, sizeof(*r));
	cl->resp = r;
	for (;;) {
		if (cl->pos < cl->raw.len) {
			n = http_parser_execute(
				&cl->parser, &resp_settings,
				(const char *)cl->raw.data + cl->pos,
				cl->raw.len - cl->pos);
			cl->pos += n;
			err = HTTP_PARSER_ERRNO(&cl->parser);
			if (err == HPE_PAUSED) {
				http_parser_pause(&cl->parser, 0);
				return 0;
			}
			assert_int_equal(err, HPE_OK);
		}
		if (cl->closed || now_ms() >= end)
			return -1;
		pump(f, cl);
	}
}

static void answer(struct fixture *f, struct client *cl, struct response *r)
{
	assert_int_equal(client_answer(f, cl, r), 0);
}

/* True when the server closes the connection (unread input ignored). */
static bool client_sees_close(struct fixture *f, struct client *cl)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (!cl->closed && now_ms() < end)
		pump(f, cl);
	return cl->closed;
}

static const char *header(const struct response *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->names[i], name))
			return r->values[i];
	return NULL;
}

static void assert_body(const struct response *r, const char *want)
{
	assert_int_equal(r->body.len, strlen(want));
	assert_memory_equal(buf_cstr(&r->body), want, strlen(want));
}

static void response_release(struct response *r)
{
	buf_release(&r->body);
}

/* Sends one request on a new connection and reads the answer. */
static void exchange_once(struct fixture *f, const char *request,
			  struct response *r)
{
	struct client cl;

	client_open(f, &cl);
	client_send_str(f, &cl, request);
	answer(f, &cl, r);
	client_close(&cl);
}

/* Asserts an error answer with its JSON code, then the close. */
static void assert_refused(struct fixture *f, struct client *cl,
			   int status, const char *code)
{
	struct response r;
	cJSON *json, *err;

	answer(f, cl, &r);
	assert_int_equal(r.status, status);
	assert_string_equal(header(&r, "Connection"), "close");
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	json = cJSON_ParseWithLength(buf_cstr(&r.body), r.body.len);
	assert_non_null(json);
	err = cJSON_GetObjectItem(json, "error");
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(err, "code")), code);
	assert_non_null(
		cJSON_GetStringValue(cJSON_GetObjectItem(err, "message")));
	cJSON_Delete(json);
	response_release(&r);
	assert_true(client_sees_close(f, cl));
}

static void refused_once(struct fixture *f, const char *request,
			 int status, const char *code)
{
	struct client cl;

	client_open(f, &cl);
	client_send_str(f, &cl, request);
	assert_refused(f, &cl, status, code);
	client_close(&cl);
}

/* Tests */

static void test_get(void **state)
{
	struct fixture *f = *state;
	struct response r;

	start(f, NULL);
	exchange_once(f, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r);

	assert_int_equal(r.status, 200);
	assert_body(&r, "/hello");
	assert_string_equal(header(&r, "Content-Length"), "6");
	assert_string_equal(header(&r, "Content-Type"), "text/plain");
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	assert_null(header(&r, "Connection"));
	assert_int_equal(f->calls, 1);
	assert_string_equal(f->method, "GET");
	assert_string_equal(f->path, "/hello");
	assert_string_equal(f->query, "");
	assert_int_equal(f->body.len, 0);
	assert_string_equal(f->peer, "127.0.0.1"); /* the client's address */
	response_release(&r);
}

static void test_query_split(void **state)
{
	struct fixture *f = *state;
	struct response r;

	start(f, NULL);
	exchange_once(f, "GET /search?q=a%20b&x=1 HTTP/1.1\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(f->path, "/search");
	assert_string_equal(f->query, "q=a%20b&x=1");
	response_release(&r);

	exchange_once(f, "GET /empty? HTTP/1.1\r\n\r\n", &r);
	assert_string_equal(f->path, "/empty");
	assert_string_equal(f->query, "");
	response_release(&r);
}

static void test_percent_decoding(void **state)
{
	struct fixture *f = *state;
	struct response r;

	start(f, NULL);
	exchange_once(f, "GET /caf%C3%a9%20au%20lait?a=%20 HTTP/1.1\r\n\r\n",
		      &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(f->path, "/caf\xc3\xa9 au lait");
	assert_string_equal(f->query, "a=%20");
	response_release(&r);

	refused_once(f, "GET /a%00b HTTP/1.1\r\n\r\n", 400, "bad_request");
	refused_once(f, "GET /a%zzb HTTP/1.1\r\n\r\n", 400, "bad_request");
	refused_once(f, "GET /a%4 HTTP/1.1\r\n\r\n", 400, "bad_request");
	refused_once(f, "GET /a% HTTP/1.1\r\n\r\n", 400, "bad_request");
	assert_int_equal(f->calls, 1);
}

static void test_keep_alive(void **state)
{
	struct fixture *f = *state;
	struct client cl;
	struct response r;

	start(f, NULL);
	client_open(f, &cl);
	client_send_str(f, &cl, "GET /one HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	assert_body(&r, "/one");
	response_release(&r);
	client_send_str(f, &cl, "GET /two HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	assert_body(&r, "/two");
	assert_null(header(&r, "Connection"));
	response_release(&r);
	assert_int_equal(f->calls, 2);
	assert_true(f->ids[1] > f->ids[0]);
	client_close(&cl);

	/* HTTP/1.0 keeps the connection only when asked to */
	client_open(f, &cl);
	client_send_str(f, &cl,
			"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	answer(f, &cl, &r);
	assert_string_equal(header(&r, "Connection"), "keep-alive");
	response_release(&r);
	client_send_str(f, &cl, "GET /b HTTP/1.0\r\n\r\n");
	answer(f, &cl, &r);
	assert_body(&r, "/b");
	assert_string_equal(header(&r, "Connection"), "close");
	response_release(&r);
	assert_true(client_sees_close(f, &cl));
	client_close(&cl);
}

static void test_pipelined_in_order(void **state)
{
	struct fixture *f = *state;
	static const char *const paths[] = { "/defer/1", "/two", "/defer/3",
					     "/four" };
	struct client cl;
	struct response r;

	start(f, NULL);
	client_open(f, &cl);
	client_send_str(f, &cl,
			"GET /defer/1 HTTP/1.1\r\n\r\n"
			"GET /two HTTP/1.1\r\n\r\n"
			"GET /defer/3 HTTP/1.1\r\n\r\n"
			"GET /four HTTP/1.1\r\n\r\n");
	for (int i = 0; i < 4; i++) {
		answer(f, &cl, &r);
		assert_int_equal(r.status, 200);
		assert_body(&r, paths[i]);
		response_release(&r);
	}
	assert_int_equal(f->calls, 4);
	assert_int_equal(f->deferred_answers, 2);
	client_close(&cl);
}

static void test_post_body(void **state)
{
	struct fixture *f = *state;
	struct client cl;
	struct response r;
	struct buf big = { 0 };

	start(f, NULL);
	client_open(f, &cl);
	client_send_str(f, &cl,
			"POST /echo HTTP/1.1\r\nContent-Length: 11\r\n\r\n"
			"hello world");
	answer(f, &cl, &r);
	assert_string_equal(f->method, "POST");
	assert_body(&r, "hello world");
	response_release(&r);

	/* chunked, and a body arriving in pieces */
	client_send_str(f, &cl,
			"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			"\r\n5\r\nhello\r\n");
	pump_for(f, &cl, 20);
	client_send_str(f, &cl, "6\r\n world\r\n0\r\n\r\n");
	answer(f, &cl, &r);
	assert_body(&r, "hello world");
	response_release(&r);

	/* larger than a socket buffer, and larger than a read */
	for (int i = 0; big.len < 300000; i++)
		assert_int_equal(buf_printf(&big, "%07d,", i), 0);
	{
		char head[128];

		snprintf(head, sizeof(head),
			 "POST /echo HTTP/1.1\r\nContent-Length: %zu\r\n\r\n",
			 big.len);
		client_send_str(f, &cl, head);
	}
	assert_int_equal(client_send(f, &cl, big.data, big.len), 0);
	answer(f, &cl, &r);
	assert_int_equal(r.body.len, big.len);
	assert_memory_equal(r.body.data, big.data, big.len);
	response_release(&r);
	buf_release(&big);
	client_close(&cl);
}

static void test_expect_continue(void **state)
{
	struct fixture *f = *state;
	struct client cl;
	struct response r;

	start(f, NULL);
	client_open(f, &cl);
	client_send_str(f, &cl,
			"POST /echo HTTP/1.1\r\nContent-Length: 5\r\n"
			"Expect: 100-continue\r\n\r\n");
	answer(f, &cl, &r);
	assert_int_equal(r.status, 100);
	response_release(&r);
	client_send_str(f, &cl, "abcde");
	answer(f, &cl, &r);
	assert_int_equal(r.status, 200);
	assert_body(&r, "abcde");
	response_release(&r);
	client_close(&cl);
}

static void test_header_too_large(void **state)
{
	struct fixture *f = *state;
	struct http_limits limits = { .max_header_bytes = 1024 };
	struct buf req = { 0 };
	struct response r;

	start(f, &limits);
	assert_int_equal(buf_append_str(&req, "GET /x HTTP/1.1\r\nX-Big: "), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(buf_append_str(&req, "a"), 0);
	assert_int_equal(buf_append_str(&req, "\r\n\r\n"), 0);
	refused_once(f, buf_cstr(&req), 431, "headers_too_large");

	/* a few bytes less than the limit pass */
	buf_reset(&req);
	assert_int_equal(buf_append_str(&req, "GET /x HTTP/1.1\r\nX-Big: "), 0);
	for (int i = 0; i < 900; i++)
		assert_int_equal(buf_append_str(&req, "a"), 0);
	assert_int_equal(buf_append_str(&req, "\r\n\r\n"), 0);
	exchange_once(f, buf_cstr(&req), &r);
	assert_int_equal(r.status, 200);
	response_release(&r);

	/* more than 100 header lines, in fewer than 1024 bytes */
	buf_reset(&req);
	assert_int_equal(buf_append_str(&req, "GET /x HTTP/1.1\r\n"), 0);
	for (int i = 0; i < 101; i++)
		assert_int_equal(buf_printf(&req, "H%d: v\r\n", i), 0);
	assert_int_equal(buf_append_str(&req, "\r\n"), 0);
	refused_once(f, buf_cstr(&req), 431, "headers_too_large");
	buf_release(&req);
	assert_int_equal(f->calls, 1);
}

static void test_body_too_large(void **state)
{
	struct fixture *f = *state;
	struct http_limits limits = { .max_body_bytes = 100 };
	char body[101];
	char req[512];
	struct response r;

	start(f, &limits);
	/* refused on Content-Length alone, before any body is sent */
	refused_once(f, "POST /echo HTTP/1.1\r\nContent-Length: 1000\r\n\r\n",
		     413, "body_too_large");

	/* chunks that add up to too much */
	memset(body, 'b', 80);
	body[80] = 0;
	snprintf(req, sizeof(req),
		 "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "50\r\n%s\r\n50\r\n%s\r\n0\r\n\r\n",
		 body, body);
	refused_once(f, req, 413, "body_too_large");
	assert_int_equal(f->calls, 0);

	/* exactly the limit passes */
	memset(body, 'c', 100);
	body[100] = 0;
	snprintf(req, sizeof(req),
		 "POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\n%s", body);
	exchange_once(f, req, &r);
	assert_int_equal(r.status, 200);
	assert_body(&r, body);
	response_release(&r);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;

	start(f, NULL);
	refused_once(f, "\x16\x03\x01\x02\x01garbage\r\n\r\n", 400,
		     "bad_request");
	refused_once(f, "GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400,
		     "bad_request");
	refused_once(f, "GET / HTTP/2.0\r\n\r\n", 505,
		     "version_not_supported");
	assert_int_equal(f->calls, 0);
}

static void test_deferred_answer(void **state)
{
	struct fixture *f = *state;
	struct client cl;
	struct response r;

	start(f, NULL);
	client_open(f, &cl);
	client_send_str(f, &cl, "GET /defer/a HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	assert_int_equal(r.status, 200);
	assert_body(&r, "/defer/a");
	assert_int_equal(f->deferred_answers, 1);
	response_release(&r);

	/* the connection is still usable afterwards */
	client_send_str(f, &cl, "GET /after HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	assert_body(&r, "/after");
	response_release(&r);
	client_close(&cl);
}

static void test_disconnect_before_deferred_answer(void **state)
{
	struct fixture *f = *state;
	struct client a, b;
	struct response r;

	start(f, NULL);
	client_open(f, &a);
	client_send_str(f, &a, "GET /defer/a HTTP/1.1\r\n\r\n");
	pump_until(f, &f->calls, 1);
	client_close(&a);

	client_open(f, &b);
	client_send_str(f, &b, "GET /defer/b HTTP/1.1\r\n\r\n");
	pump_until(f, &f->calls, 2);
	client_reset(&b);

	pump_until(f, &f->deferred_answers, 2);
	pump_for(f, NULL, 50);

	/* the server still serves */
	exchange_once(f, "GET /alive HTTP/1.1\r\n\r\n", &r);
	assert_body(&r, "/alive");
	response_release(&r);
}

static void test_head(void **state)
{
	struct fixture *f = *state;
	struct client cl;
	struct response r;

	start(f, NULL);
	client_open(f, &cl);
	cl.head = true;
	client_send_str(f, &cl, "HEAD /hello HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(f->method, "HEAD");
	assert_string_equal(header(&r, "Content-Length"), "6");
	assert_int_equal(r.body.len, 0);
	response_release(&r);

	/* no stray body bytes precede the next answer */
	cl.head = false;
	client_send_str(f, &cl, "GET /next HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	assert_int_equal(r.status, 200);
	assert_body(&r, "/next");
	response_release(&r);
	client_close(&cl);
}

static void test_connection_close(void **state)
{
	struct fixture *f = *state;
	struct client cl;
	struct response r;

	start(f, NULL);
	client_open(f, &cl);
	client_send_str(f, &cl,
			"GET /bye HTTP/1.1\r\nConnection: close\r\n\r\n"
			"GET /ignored HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	assert_body(&r, "/bye");
	assert_string_equal(header(&r, "Connection"), "close");
	response_release(&r);
	assert_true(client_sees_close(f, &cl));
	assert_int_equal(cl.pos, cl.raw.len); /* nothing after the answer */
	assert_int_equal(f->calls, 1);
	client_close(&cl);
}

static void test_headers_and_errors(void **state)
{
	struct fixture *f = *state;
	struct client cl;
	struct response r;
	cJSON *json, *err;

	start(f, NULL);
	exchange_once(f, "GET /header HTTP/1.1\r\nx-TEST: Value 1\r\n\r\n", &r);
	assert_string_equal(f->x_test, "Value 1");
	assert_true(f->missing_is_null);
	assert_int_equal(f->add_rc[0], 0);
	assert_int_equal(f->add_rc[1], -EINVAL);
	assert_int_equal(f->add_rc[2], -EINVAL);
	assert_string_equal(header(&r, "X-Reply"), "yes");
	assert_null(header(&r, "Injected"));
	assert_string_equal(header(&r, "Content-Length"), "7");
	response_release(&r);

	client_open(f, &cl);
	client_send_str(f, &cl, "GET /error HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(header(&r, "Content-Type"), "application/json");
	json = cJSON_ParseWithLength(buf_cstr(&r.body), r.body.len);
	assert_non_null(json);
	err = cJSON_GetObjectItem(json, "error");
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(err, "code")),
		"not_found");
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(err, "message")),
		"no such thing");
	cJSON_Delete(json);
	response_release(&r);
	client_close(&cl);
}

static void test_idle_timeout(void **state)
{
	struct fixture *f = *state;
	struct http_limits limits = { .idle_timeout_ms = 100 };
	struct client cl;
	struct response r;
	uint64_t t0;

	start(f, &limits);
	client_open(f, &cl);
	t0 = now_ms();
	assert_true(client_sees_close(f, &cl));
	assert_true(now_ms() - t0 >= 50);
	assert_int_equal(cl.raw.len, 0);
	client_close(&cl);

	/* also after an answer on a kept-alive connection */
	client_open(f, &cl);
	client_send_str(f, &cl, "GET /x HTTP/1.1\r\n\r\n");
	answer(f, &cl, &r);
	response_release(&r);
	assert_true(client_sees_close(f, &cl));
	assert_int_equal(cl.pos, cl.raw.len);
	client_close(&cl);
}

static void test_request_timeout(void **state)
{
	struct fixture *f = *state;
	struct http_limits limits = { .request_timeout_ms = 100 };
	struct client cl;

	start(f, &limits);
	client_open(f, &cl);
	client_send_str(f, &cl, "GET /slow HTTP/1.1\r\nHost: t\r\n");
	assert_refused(f, &cl, 408, "request_timeout");
	client_close(&cl);
	assert_int_equal(f->calls, 0);
}

static void test_max_connections(void **state)
{
	struct fixture *f = *state;
	struct http_limits limits = { .max_connections = 1 };
	struct client a, b, c;
	struct response r;

	start(f, &limits);
	client_open(f, &a);
	client_send_str(f, &a, "GET /a HTTP/1.1\r\n\r\n");
	answer(f, &a, &r);
	response_release(&r);

	client_open(f, &b);
	assert_true(client_sees_close(f, &b));
	assert_int_equal(b.raw.len, 0);
	client_close(&b);

	client_send_str(f, &a, "GET /a2 HTTP/1.1\r\n\r\n");
	answer(f, &a, &r);
	assert_body(&r, "/a2");
	response_release(&r);

	/* a closed connection frees its place */
	client_close(&a);
	pump_for(f, NULL, 50);
	client_open(f, &c);
	client_send_str(f, &c, "GET /c HTTP/1.1\r\n\r\n");
	answer(f, &c, &r);
	assert_body(&r, "/c");
	response_release(&r);
	client_close(&c);
}

static void test_stop_with_answer_pending(void **state)
{
	struct fixture *f = *state;
	struct client cl;

	start(f, NULL);
	client_open(f, &cl);
	client_send_str(f, &cl, "GET /defer/s HTTP/1.1\r\n\r\n");
	pump_until(f, &f->calls, 1);

	stop(f); /* runs the loop until everything is closed */
	assert_int_equal(f->deferred_answers, 1);
	assert_true(client_sees_close(f, &cl));
	assert_int_equal(cl.raw.len, 0);
	client_close(&cl);
}

static void test_request_log_line(void **state)
{
	struct fixture *f = *state;
	struct response r;
	FILE *capture = tmpfile();
	char line[4096] = "";
	size_t n;
	int saved;

	assert_non_null(capture);
	start(f, NULL);
	log_init("test_http", LOG_DEBUG);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(capture), 2);
	exchange_once(f, "GET /logged%20path HTTP/1.1\r\n\r\n", &r);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log_init("test_http", LOG_WARN);
	response_release(&r);

	rewind(capture);
	n = fread(line, 1, sizeof(line) - 1, capture);
	line[n] = 0;
	fclose(capture);
	assert_non_null(strstr(line, "level=debug"));
	assert_non_null(strstr(line, "method=GET path=\"/logged path\" "
				     "status=200 bytes=12"));
	assert_non_null(strstr(line, "req=1 "));
}

static void test_parse_addr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	static const char *const bad[] = {
		"",		"127.0.0.1",	  "127.0.0.1:",
		"127.0.0.1:65536", "127.0.0.1:8x",  "127.0.0.1:+80",
		":8610",	"localhost:8610", "::1:8610",
		"[::1]8610",	"[::1]:",	  "[::1",
		"[]:80",	"1.2.3:80",
	};

	(void)state;
	assert_int_equal(http_parse_addr("127.0.0.1:8610", &ss), 0);
	assert_int_equal(v4->sin_family, AF_INET);
	assert_int_equal(ntohs(v4->sin_port), 8610);
	assert_int_equal(ntohl(v4->sin_addr.s_addr), 0x7f000001);

	assert_int_equal(http_parse_addr("[::1]:8610", &ss), 0);
	assert_int_equal(v6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(v6->sin6_port), 8610);
	assert_true(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (http_parse_addr(bad[i], &ss) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_start_errors(void **state)
{
	struct fixture *f = *state;
	struct http_server *second;
	char addr[64];

	start(f, NULL);
	second = f->srv;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f->port);
	assert_int_equal(http_server_start(&f->loop, addr, NULL, on_request,
					   f, &second),
			 -EADDRINUSE);
	assert_null(second);
	assert_int_equal(http_server_start(&f->loop, "nowhere", NULL,
					   on_request, f, &second),
			 -EINVAL);
	assert_null(second);
}

/* A server started on port 0 tells the port it got, and answers there. */
static void test_server_port(void **state)
{
	struct fixture *f = *state;
	struct response r;

	start(f, NULL);
	assert_int_equal(http_server_port(f->srv), f->port);
	stop(f);

	assert_int_equal(http_server_start(&f->loop, "127.0.0.1:0", NULL,
					   on_request, f, &f->srv),
			 0);
	f->port = http_server_port(f->srv);
	assert_in_range(f->port, 1, 65535);
	exchange_once(f, "GET /port HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_body(&r, "/port");
	response_release(&r);
	assert_int_equal(http_server_port(NULL), -EINVAL);
}

#define HTTP_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		HTTP_TEST(test_get),
		HTTP_TEST(test_query_split),
		HTTP_TEST(test_percent_decoding),
		HTTP_TEST(test_keep_alive),
		HTTP_TEST(test_pipelined_in_order),
		HTTP_TEST(test_post_body),
		HTTP_TEST(test_expect_continue),
		HTTP_TEST(test_header_too_large),
		HTTP_TEST(test_body_too_large),
		HTTP_TEST(test_malformed),
		HTTP_TEST(test_deferred_answer),
		HTTP_TEST(test_disconnect_before_deferred_answer),
		HTTP_TEST(test_head),
		HTTP_TEST(test_connection_close),
		HTTP_TEST(test_headers_and_errors),
		HTTP_TEST(test_idle_timeout),
		HTTP_TEST(test_request_timeout),
		HTTP_TEST(test_max_connections),
		HTTP_TEST(test_stop_with_answer_pending),
		HTTP_TEST(test_request_log_line),
		HTTP_TEST(test_parse_addr),
		HTTP_TEST(test_start_errors),
		HTTP_TEST(test_server_port),
	};

	signal(SIGPIPE, SIG_IGN); /* the server writes to closed sockets */
	log_init("test_http", LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
