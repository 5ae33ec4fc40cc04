/*
 * libFuzzer target for the HTTP server (common/http.c): the input is what
 * a client sends on one connection.
 *
 * The first four bytes of the input seed the client's choices; the rest
 * is written to a real server on 127.0.0.1 in chunks of random size, as
 * TCP would deliver it, possibly several pipelined requests. After each
 * chunk the server's loop runs either until it has nothing more to do
 * or for one turn only, so a chunk may reach the parser alone or
 * together with the next one, also while the handler is at work. Then
 * the client shuts down its write side and the loop runs until the
 * server has closed the connection, reading the answers on the way; or,
 * when the top bit of the fourth byte is set, the client resets the
 * connection at once instead.
 *
 * The server is started once, on a port of its own choosing, with small
 * limits so that short inputs reach them. Its handler answers with the
 * body length: at once, or on the next loop turn for paths that start
 * with /later ("/later3": three turns after that, as work on the thread
 * pool would). /error answers through http_respond_error(), and an
 * X-Echo request header is sent back through http_add_header().
 *
 * What must hold, besides the sanitizers' checks and no leak: the handler
 * sees a well-formed request within the limits, the answers start with a
 * status line, a complete or refused request gets an answer, and the
 * server closes a connection whose client has finished sending within
 * FUZZ_CLOSE_MS. The seeds in tests/fuzz/corpus/fuzz_http are four seed
 * bytes, mostly "SEED", followed by the request bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>

#include "common/http.h"
#include "common/log.h"

#define FUZZ_MAX_HEADER 2048
#define FUZZ_MAX_BODY 1024
#define FUZZ_CLOSE_MS 3000 /* a server that has not closed by then hangs */
#define FUZZ_SETTLE_TURNS 64
#define FUZZ_KEEP (16 * 1024) /* answer bytes looked at */
#define FUZZ_STATUS_KINDS 16

/* The server lives for the whole run. */
struct fuzz_server {
	uv_loop_t loop;
	struct http_server *srv;
	int port;
};

/* One connection as the client sees it; answers holds the first
 * FUZZ_KEEP bytes received. */
struct fuzz_client {
	int fd;
	bool eof;     /* the server shut down or closed its side */
	bool reset;   /* receiving failed */
	bool unheard; /* sending failed: the server no longer reads */
	size_t got;
	char answers[FUZZ_KEEP + 1];
};

struct fuzz_later {
	uv_idle_t idle;
	struct http_exchange *x;
	size_t body_len;
	int turns; /* loop turns still to wait */
};

static struct fuzz_server fuzz_srv;

/* http-parser is a system library without coverage instrumentation, so
 * libFuzzer cannot tell its outcomes apart by itself. These counters are
 * added to its coverage (libFuzzer's extra counters): one per answer
 * status and one per parser error named in a 400 answer. */
static uint8_t fuzz_outcomes[FUZZ_STATUS_KINDS + HPE_UNKNOWN + 1]
	__attribute__((used, section("__libfuzzer_extra_counters")));

static uint32_t fuzz_rand(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static uint64_t fuzz_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The handler */

static void fuzz_answer(struct http_exchange *x, size_t body_len)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%zu\n", body_len);

	http_respond(x, 200, "text/plain", text, (size_t)n);
}

static void fuzz_later_free(uv_handle_t *h)
{
	free(h->data);
}

/* An idle handle runs once per loop turn. */
static void fuzz_later_turn(uv_idle_t *idle)
{
	struct fuzz_later *l = idle->data;

	if (l->turns--)
		return;
	fuzz_answer(l->x, l->body_len);
	uv_close((uv_handle_t *)&l->idle, fuzz_later_free);
}

/* Answers on a later loop turn, as after work on the thread pool. */
static void fuzz_later(struct http_exchange *x, const char *path,
		       size_t body_len)
{
	struct fuzz_later *l = calloc(1, sizeof(*l));

	if (!l)
		abort();
	l->x = x;
	l->body_len = body_len;
	if (path[6] >= '0' && path[6] <= '9')
		l->turns = path[6] - '0';
	uv_idle_init(&fuzz_srv.loop, &l->idle);
	l->idle.data = l;
	uv_idle_start(&l->idle, fuzz_later_turn);
}

/* The request the server hands over must be complete and in bounds. */
static void fuzz_check_request(const struct http_request *req)
{
	if (!req->method || !req->method[0] || !req->path || !req->query ||
	    !req->body || req->body_len > FUZZ_MAX_BODY)
		abort();
	if (!req->path[0] || strlen(req->query) > FUZZ_MAX_HEADER)
		abort();
}

static void fuzz_handler(void *ctx, struct http_exchange *x,
			 const struct http_request *req)
{
	const char *echo = http_header(x, "X-Echo");

	(void)ctx;
	fuzz_check_request(req);
	if (echo)
		(void)http_add_header(x, "X-Echo", echo);
	if (!strncmp(req->path, "/later", 6)) {
		fuzz_later(x, req->path, req->body_len);
		return;
	}
	if (!strcmp(req->path, "/error")) {
		http_respond_error(x, 404, "not_found", req->path);
		return;
	}
	fuzz_answer(x, req->body_len);
}

static void fuzz_start(void)
{
	static const struct http_limits limits = {
		.max_header_bytes = FUZZ_MAX_HEADER,
		.max_body_bytes = FUZZ_MAX_BODY,
		.idle_timeout_ms = 60000,
		.request_timeout_ms = 60000,
	};

	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz_http", LOG_ERROR); /* one warning per refusal is noise */
	if (uv_loop_init(&fuzz_srv.loop) ||
	    http_server_start(&fuzz_srv.loop, "127.0.0.1:0", &limits,
			      fuzz_handler, NULL, &fuzz_srv.srv))
		abort();
	fuzz_srv.port = http_server_port(fuzz_srv.srv);
	if (fuzz_srv.port <= 0)
		abort();
}

/* The client */

/* Reads what the server sent so far, keeping the first bytes. */
static void fuzz_client_read(struct fuzz_client *cl)
{
	char chunk[4096];
	ssize_t n;

	while (!cl->eof && !cl->reset) {
		n = recv(cl->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			cl->eof = n == 0;
			cl->reset = n < 0;
			return;
		}
		if (cl->got < FUZZ_KEEP) {
			size_t k = FUZZ_KEEP - cl->got;

			memcpy(cl->answers + cl->got, chunk,
			       (size_t)n < k ? (size_t)n : k);
		}
		cl->got += (size_t)n;
	}
}

/* True while the loop has work it can do without waiting. */
static bool fuzz_loop_busy(void)
{
	struct pollfd p = { .fd = uv_backend_fd(&fuzz_srv.loop),
			    .events = POLLIN };

	return uv_backend_timeout(&fuzz_srv.loop) == 0 || poll(&p, 1, 0) > 0;
}

/* Runs the server for up to turns loop turns, fewer when it has nothing
 * to do; but for two turns at least when it can, since a descriptor that
 * starts reading is polled only from the next turn. */
static void fuzz_settle(struct fuzz_client *cl, int turns)
{
	for (int i = 0; i < turns; i++) {
		uv_run(&fuzz_srv.loop, UV_RUN_NOWAIT);
		if (cl)
			fuzz_client_read(cl);
		if (i >= 1 && !fuzz_loop_busy())
			return;
	}
}

static int fuzz_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)fuzz_srv.port);
	if (fd < 0)
		abort();
	/* loopback completes at once, or is in progress until accepted */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS)
		abort();
	return fd;
}

/* Writes all of p, letting the server run while the socket is full. A
 * client goes on sending after the server's last answer, as a real one
 * may, until sending fails. */
static void fuzz_send(struct fuzz_client *cl, const uint8_t *p, size_t len)
{
	uint64_t end = fuzz_now_ms() + FUZZ_CLOSE_MS;
	ssize_t n;

	while (len && !cl->unheard) {
		n = send(cl->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			cl->unheard = true;
			return;
		}
		fuzz_settle(cl, FUZZ_SETTLE_TURNS);
		if (fuzz_now_ms() > end)
			abort(); /* the server neither reads nor closes */
	}
}

/* After the client's last byte: the server must answer and close. */
static void fuzz_await_close(struct fuzz_client *cl)
{
	uint64_t end = fuzz_now_ms() + FUZZ_CLOSE_MS;
	struct pollfd p[2] = {
		{ .fd = uv_backend_fd(&fuzz_srv.loop), .events = POLLIN },
		{ .fd = cl->fd, .events = POLLIN },
	};
	int timeout;

	shutdown(cl->fd, SHUT_WR);
	for (;;) {
		fuzz_settle(cl, FUZZ_SETTLE_TURNS);
		if (cl->eof || cl->reset)
			return;
		if (fuzz_now_ms() > end) {
			fprintf(stderr, "fuzz_http: the server did not close "
					"the connection in %d ms\n",
				FUZZ_CLOSE_MS);
			abort();
		}
		timeout = uv_backend_timeout(&fuzz_srv.loop);
		if (timeout < 0 || timeout > 10)
			timeout = 10;
		poll(p, 2, timeout);
	}
}

/* Closes with a reset instead of a FIN, wherever the server is. */
static void fuzz_reset(struct fuzz_client *cl)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cl->fd);
	cl->fd = -1;
}

/* Outcomes */

static void fuzz_count_status(int status)
{
	static const int known[FUZZ_STATUS_KINDS - 1] = {
		100, 200, 400, 404, 408, 413, 414, 431, 500, 505,
	};
	int i = 0;

	while (i < FUZZ_STATUS_KINDS - 1 && known[i] != status)
		i++;
	fuzz_outcomes[i]++;
}

/* The parser error that a 400 answer of len bytes names, if any. */
static void fuzz_count_parse_error(const char *answer, size_t len)
{
	static const char key[] = "\"message\":\"";
	const char *m = memmem(answer, len, key, strlen(key)), *d;
	size_t n;

	if (!m || strncmp(answer, "HTTP/1.1 400 ", 13))
		return;
	m += strlen(key);
	len -= (size_t)(m - answer);
	for (int e = 0; e <= HPE_UNKNOWN; e++) {
		d = http_errno_description((enum http_errno)e);
		n = strlen(d);
		if (n < len && !memcmp(m, d, n) && m[n] == '"') {
			fuzz_outcomes[FUZZ_STATUS_KINDS + e]++;
			return;
		}
	}
}

/* Every answer starts with a status line; counts the outcomes. */
static void fuzz_check_answers(struct fuzz_client *cl)
{
	const char *p = cl->answers, *next;
	size_t kept = cl->got < FUZZ_KEEP ? cl->got : FUZZ_KEEP;

	if (!kept)
		return; /* closed before a request was complete */
	cl->answers[kept] = 0;
	if (kept < 13 || strncmp(p, "HTTP/1.1 ", 9))
		abort(); /* an answer is all or nothing, and a status line */
	for (; p; p = next) {
		next = strstr(p + 1, "HTTP/1.1 ");
		fuzz_count_status(atoi(p + 9));
		fuzz_count_parse_error(p, next ? (size_t)(next - p)
					       : strlen(p));
	}
}

static int fuzz_on_complete(http_parser *p)
{
	*(bool *)p->data = true;
	return 0;
}

/* True when the client's bytes hold a request the server must answer:
 * a complete one, or one that the parser refuses. */
static bool fuzz_needs_answer(const uint8_t *data, size_t size)
{
	static const http_parser_settings settings = {
		.on_message_complete = fuzz_on_complete,
	};
	http_parser p;
	bool complete = false;

	http_parser_init(&p, HTTP_REQUEST);
	p.data = &complete;
	http_parser_execute(&p, &settings, (const char *)data, size);
	return complete || HTTP_PARSER_ERRNO(&p) != HPE_OK;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_start();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_client cl = { .fd = -1 };
	uint32_t seed;
	size_t off = 0;
	bool reset;

	if (size < 4)
		return 0;
	reset = data[3] & 0x80;
	memcpy(&seed, data, 4);
	data += 4;
	size -= 4;

	cl.fd = fuzz_connect();
	fuzz_settle(&cl, FUZZ_SETTLE_TURNS); /* the server accepts */
	while (off < size && !cl.unheard) {
		uint32_t r = fuzz_rand(&seed);
		size_t n = r & 1 ? 1 + r % 8 : 1 + r % (size - off);

		if (n > size - off)
			n = size - off;
		fuzz_send(&cl, data + off, n);
		off += n;
		fuzz_settle(&cl, r & 0x10000 ? 1 : FUZZ_SETTLE_TURNS);
	}
	if (reset) {
		fuzz_reset(&cl);
	} else {
		fuzz_await_close(&cl);
		close(cl.fd);
	}
	fuzz_settle(NULL, FUZZ_SETTLE_TURNS); /* the server's side of it */

	fuzz_check_answers(&cl);
	if (!reset && !cl.got && fuzz_needs_answer(data, size))
		abort(); /* a request went unanswered */
	return 0;
}
