/*
 * HTTP/1.1 server on libuv; requests are parsed by http-parser.
 *
 * Each connection owns a parser, an input buffer and one timer. Input is
 * parsed until a request is complete; the parser then pauses and the
 * request goes to the handler. Nothing more is parsed on that connection
 * until the handler has answered, which keeps pipelined answers in order.
 * Input arriving meanwhile is buffered up to HTTP_PIPELINE_MAX bytes;
 * beyond that, and while too much output is unsent, reading stops.
 *
 * The connection owns the exchange while the request is received, the
 * handler owns it once dispatched. If the connection dies meanwhile the
 * exchange is detached (conn = NULL) and http_respond() only frees it.
 *
 * The timer has one job at a time:
 *   idle     no request in progress: close quietly
 *   request  a request partly received: answer 408 and close
 *   linger   after the last answer: close when the peer stops sending
 *   off      the handler is working
 *
 * The last answer on a connection (an error, "Connection: close") is
 * followed by a lingering close: the write side is shut down once the
 * answer is sent and further input is discarded for a while, so that the
 * client reads the answer instead of a reset. A peer that half-closes
 * after its request still gets the answer.
 *
 * Listen addresses are numeric only ("127.0.0.1:8610", "[::1]:8610");
 * host names such as "localhost" are rejected so that start-up never
 * waits on a resolver.
 */
#include "common/http.h"

#include "common/buf.h"
#include "common/log.h"

#include <cjson/cJSON.h>
#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <http_parser.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_DEFAULT_HEADER_BYTES (16 * 1024)
#define HTTP_DEFAULT_BODY_BYTES (1024 * 1024)
#define HTTP_DEFAULT_IDLE_MS 30000
#define HTTP_DEFAULT_REQUEST_MS 10000
#define HTTP_DEFAULT_CONNECTIONS 1024
#define HTTP_MAX_HEADERS 100
#define HTTP_LINE_OVERHEAD 4 /* ": " and CRLF of a header line */
#define HTTP_PIPELINE_MAX (64 * 1024)
#define HTTP_WRITE_BACKLOG (256 * 1024)
#define HTTP_LINGER_MS 2000
#define HTTP_LISTEN_BACKLOG 511
#define HTTP_READ_SLAB (64 * 1024)
#define HTTP_KEEP_INPUT_CAP (16 * 1024)

enum http_timer_mode {
	HTTP_TIMER_OFF,
	HTTP_TIMER_IDLE,
	HTTP_TIMER_REQUEST,
	HTTP_TIMER_LINGER,
};

/* What happens once every queued write is done; ordered by strength. */
enum http_after {
	HTTP_AFTER_NONE,
	HTTP_AFTER_LINGER,
	HTTP_AFTER_CLOSE,
};

/* Which header callback ran last while a request's headers arrive. */
enum http_hstate {
	HTTP_H_NONE,
	HTTP_H_FIELD,
	HTTP_H_VALUE,
};

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct http_limits limits;
	http_handler handler;
	void *ctx;
	struct http_conn *conns;
	unsigned nconns;
	unsigned handles; /* listener and connections not yet closed */
	uint64_t next_id;
	bool stopping;
	void (*done_cb)(void *);
	void *done_arg;
	time_t date_time;
	char date[64];
	/* the answers sent, by status */
	uint64_t answered[HTTP_STATUS_MAX - HTTP_STATUS_MIN + 1];
	char slab[HTTP_READ_SLAB]; /* read buffer, used within a callback */
};

struct http_conn {
	struct http_server *srv;
	struct http_conn *prev, *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	char peer[INET6_ADDRSTRLEN]; /* the client's address, "" if unknown */
	http_parser parser;
	struct buf in;		 /* received input */
	size_t in_pos;		 /* bytes of in already parsed */
	struct http_exchange *x; /* being received or handled */
	struct http_stream *stream; /* x's answer, while it streams */
	size_t head_bytes;	 /* header bytes of the request */
	int fail_status;	 /* set by a parser callback that refuses */
	unsigned writes;	 /* write requests in flight */
	unsigned handles;	 /* initialised handles not yet closed */
	enum http_timer_mode timer_mode;
	enum http_after after;
	bool handling;	  /* x is with the handler */
	bool dispatching; /* the handler runs on this stack */
	bool finished;	  /* the last answer is queued: parse no more */
	bool lingering;
	bool eof;
	bool reading;
	bool closing;
};

struct http_exchange {
	struct http_conn *conn; /* NULL once the connection is gone */
	struct http_request req;
	struct buf url;
	struct buf head; /* name NUL value NUL, nheaders times */
	unsigned nheaders;
	enum http_hstate hstate;
	struct buf body;
	struct buf extra; /* response header lines from http_add_header */
	char *path;
	char peer[INET6_ADDRSTRLEN]; /* copied: may outlive the connection */
	uint64_t start_ms;
	bool keep_alive;
	bool head_only;
	bool http10;
};

struct http_write {
	uv_write_t req;
	struct http_conn *conn;
	uint8_t *data;
};

/* One response as written on the wire. */
struct http_reply {
	int status;
	const char *content_type;
	const void *body;
	size_t len;
	const struct buf *extra;
	bool head_only;
	bool keep_alive;
	bool http10;
	bool streamed; /* no Content-Length: chunked, or until close */
};

static void conn_process(struct http_conn *c);
static void conn_close(struct http_conn *c);
static void conn_fail(struct http_conn *c, int status, const char *why);
static void conn_set_timer(struct http_conn *c, enum http_timer_mode mode);

/* Response texts */

static const char *http_reason(int status)
{
	const char *s = http_status_str((enum http_status)status);

	return s && s[0] != '<' ? s : "Unknown";
}

static const char *http_error_code(int status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 408:
		return "request_timeout";
	case 413:
		return "body_too_large";
	case 414:
		return "uri_too_long";
	case 431:
		return "headers_too_large";
	case 505:
		return "version_not_supported";
	default:
		return "internal";
	}
}

static const char *http_refusal_text(int status)
{
	switch (status) {
	case 413:
		return "request body too large";
	case 414:
		return "request target too long";
	case 431:
		return "request headers too large";
	case 505:
		return "only HTTP/1.x is supported";
	default:
		return "internal error";
	}
}

/* {"error": {"code": ..., "message": ...}}; free with cJSON_free(). */
static char *http_error_body(const char *code, const char *message,
			     size_t *len)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(root, "error");
	char *out = NULL;

	code = code ? code : "error";
	message = message ? message : "";
	if (err && cJSON_AddStringToObject(err, "code", code) &&
	    cJSON_AddStringToObject(err, "message", message))
		out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	*len = out ? strlen(out) : 0;
	return out;
}

/* The Date header value, formatted at most once a second. */
static const char *http_date(struct http_server *s)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed",
					 "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
					    "May", "Jun", "Jul", "Aug",
					    "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;

	if (now == s->date_time && s->date[0])
		return s->date;
	gmtime_r(&now, &tm);
	snprintf(s->date, sizeof(s->date),
		 "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	s->date_time = now;
	return s->date;
}

/* Header syntax */

static bool http_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');
		if (!alnum && !strchr("!#$%&'*+-.^_`|~", c))
			return false;
	}
	return true;
}

static bool http_is_field_value(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Headers the server writes itself. */
static bool http_is_reserved(const char *name)
{
	static const char *const names[] = { "Content-Length",
					     "Transfer-Encoding", "Connection",
					     "Date", "X-Content-Type-Options" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

static int http_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes n bytes of s into a new string; -EINVAL on a bad
 * escape or an encoded NUL. */
static int http_decode_path(const char *s, size_t n, char **out)
{
	char *d = malloc(n + 1), *o = d;
	int hi, lo;

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		hi = i + 2 < n ? http_hex(s[i + 1]) : -1;
		lo = i + 2 < n ? http_hex(s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi | lo) == 0) {
			free(d);
			return -EINVAL;
		}
		*o++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*o = 0;
	*out = d;
	return 0;
}

/* Exchanges */

static struct http_exchange *exchange_new(struct http_conn *c)
{
	struct http_exchange *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->conn = c;
	x->req.id = ++c->srv->next_id;
	x->req.method = "";
	x->req.path = "";
	x->req.query = "";
	x->req.body = (const uint8_t *)"";
	memcpy(x->peer, c->peer, sizeof(x->peer));
	x->req.peer = x->peer;
	x->start_ms = uv_now(c->srv->loop);
	return x;
}

static void exchange_free(struct http_exchange *x)
{
	buf_release(&x->url);
	buf_release(&x->head);
	buf_release(&x->body);
	buf_release(&x->extra);
	free(x->path);
	free(x);
}

/* Terminates the header being stored; a name without a value gets "". */
static int exchange_end_header(struct http_exchange *x)
{
	enum http_hstate h = x->hstate;

	x->hstate = HTTP_H_NONE;
	if (h == HTTP_H_FIELD)
		return buf_append(&x->head, "\0", 2);
	if (h == HTTP_H_VALUE)
		return buf_append(&x->head, "", 1);
	return 0;
}

/* Splits and decodes the request target; 0 or the status to answer. */
static int exchange_prepare(struct http_exchange *x)
{
	const char *url = buf_cstr(&x->url);
	struct http_parser_url u;
	size_t off = 0, len = 0;
	int rc;

	if (x->url.len > UINT16_MAX)
		return 414;
	http_parser_url_init(&u);
	if (!x->url.len || http_parser_parse_url(url, x->url.len, 0, &u))
		return 400;
	if (u.field_set & (1 << UF_PATH)) {
		off = u.field_data[UF_PATH].off;
		len = u.field_data[UF_PATH].len;
	}
	rc = len ? http_decode_path(url + off, len, &x->path)
		 : http_decode_path("/", 1, &x->path);
	if (rc)
		return rc == -ENOMEM ? 500 : 400;

	if (u.field_set & (1 << UF_QUERY)) {
		char *q = (char *)x->url.data + u.field_data[UF_QUERY].off;
		q[u.field_data[UF_QUERY].len] = 0;
		x->req.query = q;
	}
	x->req.path = x->path;
	if (x->body.len)
		x->req.body = x->body.data;
	x->req.body_len = x->body.len;
	return 0;
}

static void exchange_log(const struct http_exchange *x, int status,
			 size_t len, uint64_t now_ms)
{
	char path[256];

	log_debug("msg=request req=%" PRIu64 " method=%s path=%s status=%d "
		  "bytes=%zu ms=%" PRIu64,
		  x->req.id, x->req.method, log_quote(x->req.path, path, 256),
		  status, len, now_ms - x->start_ms);
}

/* Parser callbacks: they store the request in c->x and refuse it by
 * setting c->fail_status and returning -1. */

static int conn_refuse(struct http_conn *c, int status)
{
	c->fail_status = status;
	return -1;
}

static int conn_count_head(struct http_conn *c, size_t n)
{
	c->head_bytes += n;
	if (c->head_bytes > c->srv->limits.max_header_bytes)
		return conn_refuse(c, 431);
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct http_conn *c = p->data;

	c->x = exchange_new(c);
	if (!c->x)
		return conn_refuse(c, 500);
	c->head_bytes = 0;
	conn_set_timer(c, HTTP_TIMER_REQUEST);
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;

	if (conn_count_head(c, n))
		return -1;
	if (buf_append(&c->x->url, at, n))
		return conn_refuse(c, 500);
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;
	struct http_exchange *x = c->x;
	size_t overhead = 0;

	if (x->hstate != HTTP_H_FIELD) {
		if (x->nheaders == HTTP_MAX_HEADERS)
			return conn_refuse(c, 431);
		if (exchange_end_header(x))
			return conn_refuse(c, 500);
		x->nheaders++;
		x->hstate = HTTP_H_FIELD;
		overhead = HTTP_LINE_OVERHEAD;
	}
	if (conn_count_head(c, n + overhead))
		return -1;
	if (buf_append(&x->head, at, n))
		return conn_refuse(c, 500);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;
	struct http_exchange *x = c->x;

	if (x->hstate == HTTP_H_FIELD) {
		if (buf_append(&x->head, "", 1))
			return conn_refuse(c, 500);
		x->hstate = HTTP_H_VALUE;
	}
	if (conn_count_head(c, n))
		return -1;
	if (buf_append(&x->head, at, n))
		return conn_refuse(c, 500);
	return 0;
}

static bool conn_body_too_large(struct http_conn *c)
{
	const http_parser *p = &c->parser;

	return !(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
	       p->content_length > c->srv->limits.max_body_bytes;
}

static bool exchange_expects_continue(struct http_exchange *x,
				      const http_parser *p)
{
	const char *expect = http_header(x, "Expect");
	bool body = (p->flags & F_CHUNKED) ||
		    (p->content_length && p->content_length != ULLONG_MAX);

	return expect && !strcasecmp(expect, "100-continue") &&
	       p->http_minor >= 1 && body;
}

static int conn_write_copy(struct http_conn *c, const char *s);

static int on_headers_complete(http_parser *p)
{
	struct http_conn *c = p->data;
	struct http_exchange *x = c->x;

	if (exchange_end_header(x))
		return conn_refuse(c, 500);
	if (p->http_major != 1)
		return conn_refuse(c, 505);
	x->req.method = http_method_str((enum http_method)p->method);
	x->head_only = p->method == HTTP_HEAD;
	x->http10 = p->http_minor == 0;
	x->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	if (conn_body_too_large(c))
		return conn_refuse(c, 413);

	if (exchange_expects_continue(x, p) &&
	    conn_write_copy(c, "HTTP/1.1 100 Continue\r\n\r\n"))
		return conn_refuse(c, 500);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;
	struct http_exchange *x = c->x;

	if (n > c->srv->limits.max_body_bytes - x->body.len)
		return conn_refuse(c, 413);
	if (buf_append(&x->body, at, n))
		return conn_refuse(c, 500);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_conn *c = p->data;

	if (exchange_end_header(c->x)) /* after trailers */
		return conn_refuse(c, 500);
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings http_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* Writing */

static void conn_finish(struct http_conn *c);
static void stream_on_progress(struct http_stream *st);
static void stream_detach(struct http_stream *st);

static void conn_on_write(uv_write_t *req, int status)
{
	struct http_write *w = (struct http_write *)req;
	struct http_conn *c = w->conn;

	free(w->data);
	free(w);
	c->writes--;
	if (c->closing)
		return;
	if (status < 0) {
		log_debug("msg=\"write failed\" err=%s", uv_err_name(status));
		conn_close(c);
		return;
	}
	if (!c->writes && c->after != HTTP_AFTER_NONE) {
		conn_finish(c);
		return;
	}
	conn_process(c); /* output may have drained below the backlog */
	if (c->stream && !c->closing)
		stream_on_progress(c->stream);
}

/* Queues out (taking its memory) for writing. */
static int conn_write(struct http_conn *c, struct buf *out)
{
	struct http_write *w = malloc(sizeof(*w));
	uv_buf_t b;
	size_t len;
	int rc;

	if (!w)
		return -ENOMEM;
	w->conn = c;
	w->data = buf_detach(out, &len);
	b = uv_buf_init((char *)w->data, (unsigned)len);
	rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, conn_on_write);
	if (rc) {
		free(w->data);
		free(w);
		return rc;
	}
	c->writes++;
	return 0;
}

static int conn_write_copy(struct http_conn *c, const char *s)
{
	struct buf out = { 0 };
	int rc = buf_append_str(&out, s);

	if (!rc)
		rc = conn_write(c, &out);
	buf_release(&out);
	return rc;
}

static int http_reply_format(struct http_server *s, const struct http_reply *r,
			     struct buf *out)
{
	bool bodyless = r->status == 204 || r->status == 304;
	size_t extra = r->extra ? r->extra->len : 0;
	int rc;

	if (buf_reserve(out, 256 + extra + r->len)) /* one allocation */
		return -ENOMEM;
	rc = buf_printf(out,
			"HTTP/1.1 %d %s\r\nDate: %s\r\n"
			"X-Content-Type-Options: nosniff\r\n",
			r->status, http_reason(r->status), http_date(s));
	if (r->content_type)
		rc |= buf_printf(out, "Content-Type: %s\r\n", r->content_type);
	if (r->streamed && !r->http10)
		rc |= buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	else if (!bodyless && !r->streamed)
		rc |= buf_printf(out, "Content-Length: %zu\r\n", r->len);
	if (!r->keep_alive)
		rc |= buf_append_str(out, "Connection: close\r\n");
	else if (r->http10)
		rc |= buf_append_str(out, "Connection: keep-alive\r\n");
	if (extra)
		rc |= buf_append(out, r->extra->data, extra);
	rc |= buf_append_str(out, "\r\n");
	if (!bodyless && !r->head_only && r->len)
		rc |= buf_append(out, r->body, r->len);
	return rc ? -ENOMEM : 0;
}

static int conn_send(struct http_conn *c, const struct http_reply *r)
{
	struct buf out = { 0 };
	int rc;

	if (r->status >= HTTP_STATUS_MIN && r->status <= HTTP_STATUS_MAX)
		c->srv->answered[r->status - HTTP_STATUS_MIN]++;
	rc = http_reply_format(c->srv, r, &out);
	if (!rc)
		rc = conn_write(c, &out);
	buf_release(&out);
	return rc;
}

/* Connection life cycle */

/* Called as each of the server's handles is closed; the last one frees
 * the server. */
static void http_server_release(struct http_server *s)
{
	void (*done_cb)(void *) = s->done_cb;
	void *arg = s->done_arg;

	if (--s->handles)
		return;
	free(s);
	if (done_cb)
		done_cb(arg);
}

static void conn_on_close(uv_handle_t *h)
{
	struct http_conn *c = h->data;
	struct http_server *s = c->srv;

	if (--c->handles)
		return;
	buf_release(&c->in);
	free(c);
	http_server_release(s);
}

static void conn_unlink(struct http_conn *c)
{
	struct http_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
}

/* Closes at once; an exchange with the handler is detached. */
static void conn_close(struct http_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	conn_unlink(c);

	if (c->stream)
		stream_detach(c->stream);
	c->stream = NULL;
	if (c->x && c->handling)
		c->x->conn = NULL;
	else if (c->x)
		exchange_free(c->x);
	c->x = NULL;

	uv_close((uv_handle_t *)&c->timer, conn_on_close);
	uv_close((uv_handle_t *)&c->tcp, conn_on_close);
}

static void conn_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void conn_on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
	struct http_conn *c = h->data;

	(void)size;
	b->base = c->srv->slab;
	b->len = sizeof(c->srv->slab);
}

static int conn_read(struct http_conn *c, bool on)
{
	int rc = 0;

	if (on && !c->reading)
		rc = uv_read_start((uv_stream_t *)&c->tcp, conn_on_alloc,
				   conn_on_read);
	else if (!on && c->reading)
		rc = uv_read_stop((uv_stream_t *)&c->tcp);
	if (!rc)
		c->reading = on;
	return rc;
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
	(void)req;
	(void)status;
}

static void conn_linger(struct http_conn *c)
{
	int rc;

	if (c->lingering)
		return;
	c->lingering = true;
	rc = uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp,
			 conn_on_shutdown);
	if (!rc)
		rc = conn_read(c, true);
	if (rc) {
		conn_close(c);
		return;
	}
	conn_set_timer(c, HTTP_TIMER_LINGER);
}

static void conn_finish(struct http_conn *c)
{
	if (c->after == HTTP_AFTER_CLOSE)
		conn_close(c);
	else
		conn_linger(c);
}

/* Ends the connection once the queued answers are written. */
static void conn_drain(struct http_conn *c, enum http_after after)
{
	c->finished = true;
	if (c->eof)
		after = HTTP_AFTER_CLOSE;
	if (after > c->after)
		c->after = after;
	if (!c->writes)
		conn_finish(c);
	else
		conn_set_timer(c, HTTP_TIMER_IDLE); /* bounds a stalled write */
}

static void conn_on_timer(uv_timer_t *t)
{
	struct http_conn *c = t->data;
	enum http_timer_mode mode = c->timer_mode;

	c->timer_mode = HTTP_TIMER_OFF;
	if (mode == HTTP_TIMER_REQUEST) {
		conn_fail(c, 408, "request not received in time");
		return;
	}
	if (mode == HTTP_TIMER_IDLE)
		log_debug("msg=\"idle connection closed\"");
	conn_close(c);
}

static void conn_set_timer(struct http_conn *c, enum http_timer_mode mode)
{
	const struct http_limits *l = &c->srv->limits;
	uint64_t ms = HTTP_LINGER_MS;

	if (mode == c->timer_mode)
		return;
	c->timer_mode = mode;
	uv_timer_stop(&c->timer);
	if (mode == HTTP_TIMER_OFF)
		return;
	if (mode == HTTP_TIMER_IDLE)
		ms = l->idle_timeout_ms;
	else if (mode == HTTP_TIMER_REQUEST)
		ms = l->request_timeout_ms;
	uv_timer_start(&c->timer, conn_on_timer, ms, 0);
}

/* Answers a request the handler never sees and ends the connection. */
static void conn_fail(struct http_conn *c, int status, const char *why)
{
	struct http_exchange *x = c->x;
	struct http_reply r = { .status = status,
				.content_type = "application/json" };
	uint64_t id = x ? x->req.id : ++c->srv->next_id;
	char quoted[128];
	char *body;
	int rc;

	log_warn("msg=\"request refused\" req=%" PRIu64 " status=%d reason=%s",
		 id, status, log_quote(why, quoted, sizeof(quoted)));
	body = http_error_body(http_error_code(status), why, &r.len);
	r.body = body;
	r.head_only = x && x->head_only;
	rc = conn_send(c, &r);
	cJSON_free(body);

	if (x)
		exchange_free(x);
	c->x = NULL;
	if (rc) {
		conn_close(c);
		return;
	}
	conn_drain(c, HTTP_AFTER_LINGER);
}

/* Request processing */

static void conn_dispatch(struct http_conn *c)
{
	struct http_exchange *x = c->x;
	int status = exchange_prepare(x);

	if (status) {
		conn_fail(c, status,
			  status == 400 ? "invalid request target"
					: http_refusal_text(status));
		return;
	}
	c->handling = true;
	conn_set_timer(c, HTTP_TIMER_OFF);
	c->dispatching = true;
	c->srv->handler(c->srv->ctx, x, &x->req);
	c->dispatching = false;
}

static void conn_parse_failed(struct http_conn *c, enum http_errno err)
{
	int status = c->fail_status;

	if (!status)
		status = err == HPE_HEADER_OVERFLOW ? 431 : 400;
	if (status == 400)
		conn_fail(c, status, http_errno_description(err));
	else
		conn_fail(c, status, http_refusal_text(status));
}

static void conn_parse(struct http_conn *c)
{
	const char *data = (const char *)c->in.data + c->in_pos;
	size_t n, len = c->in.len - c->in_pos;
	enum http_errno err;

	n = http_parser_execute(&c->parser, &http_settings, data, len);
	c->in_pos += n;
	err = HTTP_PARSER_ERRNO(&c->parser);
	if (err == HPE_PAUSED) {
		http_parser_pause(&c->parser, 0);
		conn_dispatch(c);
	} else if (err != HPE_OK) {
		conn_parse_failed(c, err);
	}
}

static bool conn_backlogged(struct http_conn *c)
{
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >
	       HTTP_WRITE_BACKLOG;
}

static bool conn_can_parse(struct http_conn *c)
{
	return !c->closing && !c->finished && !c->handling &&
	       c->in_pos < c->in.len && !conn_backlogged(c);
}

static void conn_trim_input(struct http_conn *c)
{
	if (c->in_pos < c->in.len)
		return;
	if (c->in.cap > HTTP_KEEP_INPUT_CAP)
		buf_release(&c->in);
	else
		buf_reset(&c->in);
	c->in_pos = 0;
}

/* After input or an answer: reading on or off, and the right timer. */
static void conn_settle(struct http_conn *c)
{
	bool more;

	if (c->closing || c->lingering)
		return;
	if (c->eof && !c->handling) {
		conn_drain(c, HTTP_AFTER_CLOSE);
		return;
	}
	more = c->finished || (c->in.len - c->in_pos < HTTP_PIPELINE_MAX &&
			       !conn_backlogged(c));
	if (conn_read(c, more && !c->eof)) {
		conn_close(c);
		return;
	}
	if (c->handling)
		conn_set_timer(c, HTTP_TIMER_OFF);
	else if (c->x)
		conn_set_timer(c, HTTP_TIMER_REQUEST);
	else
		conn_set_timer(c, HTTP_TIMER_IDLE);
}

static void conn_process(struct http_conn *c)
{
	while (conn_can_parse(c))
		conn_parse(c);
	if (c->closing)
		return;
	conn_trim_input(c);
	conn_settle(c);
}

static void conn_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct http_conn *c = st->data;

	if (n == UV_EOF) {
		c->reading = false;
		if (c->lingering) {
			conn_close(c);
			return;
		}
		c->eof = true;
		conn_process(c);
		return;
	}
	if (n < 0) {
		log_debug("msg=\"read failed\" err=%s", uv_err_name((int)n));
		conn_close(c);
		return;
	}
	if (n == 0 || c->finished)
		return; /* nothing, or input after the last answer */

	if (c->in_pos) {
		buf_consume(&c->in, c->in_pos);
		c->in_pos = 0;
	}
	if (buf_append(&c->in, b->base, (size_t)n)) {
		log_warn("msg=\"out of memory\" what=\"http input\"");
		conn_close(c);
		return;
	}
	conn_process(c);
}

/* The address of the connection's client as text into c->peer. */
static void conn_peer(struct http_conn *c)
{
	struct sockaddr_storage sa;
	int len = sizeof(sa);

	c->peer[0] = 0;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &len))
		return;
	if (sa.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&sa, c->peer,
			    sizeof(c->peer));
	else if (sa.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&sa, c->peer,
			    sizeof(c->peer));
}

static void conn_start(struct http_conn *c)
{
	struct http_server *s = c->srv;

	uv_timer_init(s->loop, &c->timer);
	c->timer.data = c;
	c->handles = 2;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;

	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;

	uv_tcp_nodelay(&c->tcp, 1);
	conn_peer(c);
	if (conn_read(c, true)) {
		conn_close(c);
		return;
	}
	conn_set_timer(c, HTTP_TIMER_IDLE);
}

static void http_on_connection(uv_stream_t *listener, int status)
{
	struct http_server *s = listener->data;
	struct http_conn *c;
	int rc;

	if (status < 0) {
		log_warn("msg=\"accept failed\" err=%s", uv_err_name(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("msg=\"out of memory\" what=\"http connection\"");
		return;
	}
	c->srv = s;
	uv_tcp_init(s->loop, &c->tcp);
	c->tcp.data = c;
	c->handles = 1;
	s->handles++;

	rc = uv_accept(listener, (uv_stream_t *)&c->tcp);
	if (!rc && s->nconns >= s->limits.max_connections) {
		log_warn("msg=\"connection refused\" reason=\"too many "
			 "connections\" max=%u",
			 s->limits.max_connections);
		rc = UV_EBUSY;
	}
	if (rc) {
		c->closing = true; /* never linked, never started */
		uv_close((uv_handle_t *)&c->tcp, conn_on_close);
		return;
	}
	conn_start(c);
}

/* Public interface */

const char *http_header(const struct http_exchange *x, const char *name)
{
	const char *p = buf_cstr(&x->head), *value;

	for (unsigned i = 0; i < x->nheaders; i++) {
		value = p + strlen(p) + 1;
		if (!strcasecmp(p, name))
			return value;
		p = value + strlen(value) + 1;
	}
	return NULL;
}

int http_add_header(struct http_exchange *x, const char *name,
		    const char *value)
{
	if (!x || !name || !value || !http_is_token(name) ||
	    !http_is_field_value(value) || http_is_reserved(name))
		return -EINVAL;
	return buf_printf(&x->extra, "%s: %s\r\n", name, value);
}

void http_respond(struct http_exchange *x, int status,
		  const char *content_type, const void *body, size_t len)
{
	struct http_conn *c = x->conn;
	struct http_reply r;
	int rc;

	if (!c) {
		log_debug("msg=\"answer dropped\" req=%" PRIu64 " status=%d "
			  "reason=\"connection closed\"",
			  x->req.id, status);
		exchange_free(x);
		return;
	}
	if (status < 200 || status > 599) {
		log_warn("msg=\"invalid status\" req=%" PRIu64 " status=%d",
			 x->req.id, status);
		status = 500;
		len = 0;
	}
	if (content_type && !http_is_field_value(content_type))
		content_type = NULL;

	r = (struct http_reply){ .status = status,
				 .content_type = content_type,
				 .body = body,
				 .len = len,
				 .extra = &x->extra,
				 .head_only = x->head_only,
				 .keep_alive = x->keep_alive,
				 .http10 = x->http10 };
	rc = conn_send(c, &r);
	exchange_log(x, status, len, uv_now(c->srv->loop));
	c->x = NULL;
	c->handling = false;
	exchange_free(x);

	if (rc) {
		log_warn("msg=\"cannot send answer\" err=%s", uv_err_name(rc));
		conn_close(c);
		return;
	}
	if (!r.keep_alive)
		conn_drain(c, HTTP_AFTER_LINGER);
	if (!c->dispatching)
		conn_process(c);
}

void http_respond_json(struct http_exchange *x, int status, cJSON *v)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;

	cJSON_Delete(v);
	if (!text) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	http_respond(x, status, "application/json", text, strlen(text));
	cJSON_free(text);
}

void http_respond_error(struct http_exchange *x, int status,
			const char *code, const char *message)
{
	size_t len;
	char *body = http_error_body(code, message, &len);

	http_respond(x, status, body ? "application/json" : NULL, body, len);
	cJSON_free(body);
}

/* Streamed answers
 *
 * The producer (a worker thread) and the loop share a stream under its
 * lock: the producer fills its own buffer "local" up to a chunk, then
 * moves it to "pending" and wakes the loop (uv_async_send); the loop
 * takes pending, writes it as one chunk and notes how much the socket
 * has not taken yet ("queued"). The producer waits while pending and
 * queued together pass HTTP_STREAM_QUEUE. Only the loop touches the
 * connection and the exchange; a connection that closes detaches the
 * stream and cancels it, so the producer's next write returns at once.
 * The stream is freed on the loop once the producer has ended it. */

struct http_stream {
	uv_async_t async;
	uv_mutex_t lock;
	uv_cond_t room;
	/* the loop's */
	struct http_conn *conn; /* NULL once the connection is gone */
	struct http_exchange *x;
	size_t sent;		/* body bytes handed to the socket */
	int status;
	bool chunked;
	bool done;		/* the end was handled */
	/* the producer's */
	struct buf local;
	/* under lock */
	struct buf pending;
	size_t queued;
	bool ended;
	bool failed;
	bool cancelled;
};

static void stream_on_close(uv_handle_t *h)
{
	struct http_stream *st = h->data;

	uv_mutex_destroy(&st->lock);
	uv_cond_destroy(&st->room);
	buf_release(&st->local);
	buf_release(&st->pending);
	free(st);
}

/* Loop: the socket took some bytes; wakes a producer waiting for room
 * and keeps a stalled client within the idle timeout. */
static void stream_on_progress(struct http_stream *st)
{
	struct http_conn *c = st->conn;
	size_t q = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);

	uv_mutex_lock(&st->lock);
	st->queued = q;
	if (st->pending.len + q < HTTP_STREAM_QUEUE)
		uv_cond_broadcast(&st->room);
	uv_mutex_unlock(&st->lock);

	conn_set_timer(c, HTTP_TIMER_OFF); /* restarts it on progress */
	if (q)
		conn_set_timer(c, HTTP_TIMER_IDLE);
}

/* Loop: the connection is closing; the producer must stop. */
static void stream_detach(struct http_stream *st)
{
	st->conn = NULL;
	uv_mutex_lock(&st->lock);
	st->cancelled = true;
	uv_cond_broadcast(&st->room);
	uv_mutex_unlock(&st->lock);
}

/* Loop: writes data as the next part of the body. */
static int stream_send(struct http_stream *st, struct buf *data)
{
	struct buf out = { 0 };
	int rc = 0;

	if (st->chunked) {
		rc = buf_reserve(&out, data->len + 32) ||
		     buf_printf(&out, "%zx\r\n", data->len) ||
		     buf_append(&out, data->data, data->len) ||
		     buf_append_str(&out, "\r\n");
		if (!rc)
			rc = conn_write(st->conn, &out);
		buf_release(&out);
	} else {
		rc = conn_write(st->conn, data);
	}
	st->sent += data->len;
	return rc ? -ENOMEM : 0;
}

/* Loop: the producer ended; the answer is completed (or cut off) and
 * the connection goes on with its next request. */
static void stream_finish(struct http_stream *st, bool failed)
{
	struct http_conn *c = st->conn;
	struct http_exchange *x = st->x;
	uint64_t id = x->req.id;
	bool keep_alive = x->keep_alive;

	st->done = true;
	if (c && !failed && st->chunked && !x->head_only &&
	    conn_write_copy(c, "0\r\n\r\n"))
		failed = true;
	if (c) {
		exchange_log(x, st->status, st->sent,
			     uv_now(c->srv->loop));
		c->stream = NULL;
		c->x = NULL;
		c->handling = false;
	}
	exchange_free(x);
	st->x = NULL;
	st->conn = NULL;
	if (c && failed) {
		log_warn("msg=\"streamed answer cut off\" req=%" PRIu64, id);
		conn_close(c);
	} else if (c && (!st->chunked || !keep_alive)) {
		conn_drain(c, HTTP_AFTER_LINGER); /* HTTP/1.0: ends at close */
	} else if (c) {
		conn_set_timer(c, HTTP_TIMER_OFF);
		conn_process(c);
	}
	uv_close((uv_handle_t *)&st->async, stream_on_close);
}

/* Loop: the producer wrote or ended. */
static void stream_on_async(uv_async_t *a)
{
	struct http_stream *st = a->data;
	struct buf data = { 0 };
	bool ended, failed;
	int rc = 0;

	if (st->done)
		return;
	uv_mutex_lock(&st->lock);
	data = st->pending;
	st->pending = (struct buf){ 0 };
	ended = st->ended;
	failed = st->failed;
	uv_mutex_unlock(&st->lock);

	if (st->conn && data.len && !st->x->head_only)
		rc = stream_send(st, &data);
	buf_release(&data);
	if (rc) {
		log_warn("msg=\"cannot send answer\" err=%s", uv_err_name(rc));
		conn_close(st->conn);
	} else if (st->conn) {
		stream_on_progress(st);
	}
	if (ended)
		stream_finish(st, failed);
}

int http_stream_start(struct http_exchange *x, int status,
		      const char *content_type, struct http_stream **out)
{
	struct http_conn *c = x->conn;
	struct http_stream *st;
	struct http_reply r;
	int rc;

	*out = NULL;
	if (!c) {
		exchange_free(x);
		return -ECANCELED;
	}
	st = calloc(1, sizeof(*st));
	if (!st || uv_mutex_init(&st->lock)) {
		free(st);
		http_respond_error(x, 500, "internal", "out of memory");
		return -ENOMEM;
	}
	if (uv_cond_init(&st->room) ||
	    uv_async_init(c->srv->loop, &st->async, stream_on_async)) {
		uv_mutex_destroy(&st->lock);
		free(st);
		http_respond_error(x, 500, "internal", "out of resources");
		return -ENOMEM;
	}
	st->async.data = st;
	st->conn = c;
	st->x = x;
	st->status = status;
	st->chunked = !x->http10;
	if (x->http10)
		x->keep_alive = false;
	if (content_type && !http_is_field_value(content_type))
		content_type = NULL;

	r = (struct http_reply){ .status = status,
				 .content_type = content_type,
				 .extra = &x->extra,
				 .head_only = x->head_only,
				 .keep_alive = x->keep_alive,
				 .http10 = x->http10,
				 .streamed = true };
	c->stream = st;
	rc = conn_send(c, &r);
	if (rc) {
		log_warn("msg=\"cannot send answer\" err=%s", uv_err_name(rc));
		conn_close(c); /* detaches and cancels st */
		stream_finish(st, true);
		return rc;
	}
	*out = st;
	return 0;
}

static void stream_swap(struct buf *a, struct buf *b)
{
	struct buf t = *a;

	*a = *b;
	*b = t;
}

/* Producer: moves local to pending, waiting for room; 0 or -ECANCELED. */
static int stream_flush(struct http_stream *st)
{
	int rc = 0;

	if (!st->local.len)
		return 0;
	uv_mutex_lock(&st->lock);
	while (!st->cancelled &&
	       st->pending.len + st->queued >= HTTP_STREAM_QUEUE)
		uv_cond_wait(&st->room, &st->lock);
	if (st->cancelled)
		rc = -ECANCELED;
	else if (!st->pending.len)
		stream_swap(&st->pending, &st->local);
	else if (buf_append(&st->pending, st->local.data, st->local.len))
		rc = -ENOMEM;
	uv_mutex_unlock(&st->lock);

	buf_reset(&st->local);
	if (!rc)
		uv_async_send(&st->async);
	return rc;
}

int http_stream_write(struct http_stream *st, const void *data, size_t len)
{
	bool cancelled;

	uv_mutex_lock(&st->lock);
	cancelled = st->cancelled;
	uv_mutex_unlock(&st->lock);
	if (cancelled)
		return -ECANCELED;
	if (buf_append(&st->local, data, len))
		return -ENOMEM;
	return st->local.len >= HTTP_STREAM_CHUNK ? stream_flush(st) : 0;
}

void http_stream_end(struct http_stream *st, int failed)
{
	if (!failed && stream_flush(st) == -ENOMEM)
		failed = 1;
	buf_release(&st->local);
	/* sent under the lock: the loop cannot see the end, and free st,
	 * before this thread is done with it */
	uv_mutex_lock(&st->lock);
	st->ended = true;
	st->failed = failed != 0;
	uv_async_send(&st->async);
	uv_mutex_unlock(&st->lock);
}

static int http_parse_port(const char *s, int *port)
{
	long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

int http_parse_addr(const char *addr, struct sockaddr_storage *out)
{
	char host[128];
	const char *end, *port_s;
	size_t n;
	int port;
	bool v6 = addr && addr[0] == '[';

	if (!addr || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	end = v6 ? strchr(addr, ']') : strrchr(addr, ':');
	if (!end || (v6 && end[1] != ':'))
		return -EINVAL;
	port_s = v6 ? end + 2 : end + 1;
	n = (size_t)(end - addr) - v6;
	if (!n || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr + v6, n);
	host[n] = 0;
	if (http_parse_port(port_s, &port))
		return -EINVAL;

	if (v6)
		return uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) ?
			       -EINVAL :
			       0;
	return uv_ip4_addr(host, port, (struct sockaddr_in *)out) ? -EINVAL
								   : 0;
}

/* A bound, listening, non-blocking socket, or -errno. Binding before
 * libuv sees the socket lets a failed start return without a handle to
 * close. */
static int http_listen_fd(const struct sockaddr_storage *sa)
{
	socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	int fd, rc, one = 1;

	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)sa, len) < 0 ||
	    listen(fd, HTTP_LISTEN_BACKLOG) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static void http_limits_init(struct http_limits *l,
			     const struct http_limits *in)
{
	static const struct http_limits none;

	*l = in ? *in : none;
	if (!l->max_header_bytes)
		l->max_header_bytes = HTTP_DEFAULT_HEADER_BYTES;
	if (!l->max_body_bytes)
		l->max_body_bytes = HTTP_DEFAULT_BODY_BYTES;
	if (!l->idle_timeout_ms)
		l->idle_timeout_ms = HTTP_DEFAULT_IDLE_MS;
	if (!l->request_timeout_ms)
		l->request_timeout_ms = HTTP_DEFAULT_REQUEST_MS;
	if (!l->max_connections)
		l->max_connections = HTTP_DEFAULT_CONNECTIONS;
}

static void http_on_listener_close(uv_handle_t *h)
{
	http_server_release(h->data);
}

int http_server_start(uv_loop_t *loop, const char *addr,
		      const struct http_limits *limits, http_handler handler,
		      void *ctx, struct http_server **out)
{
	struct sockaddr_storage sa;
	struct http_server *s;
	char quoted[80];
	int fd, rc;

	*out = NULL;
	if (!loop || !handler)
		return -EINVAL;
	if (http_parse_addr(addr, &sa)) {
		log_error("msg=\"invalid listen address\" addr=%s",
			  log_quote(addr, quoted, sizeof(quoted)));
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	fd = http_listen_fd(&sa);
	if (fd < 0) {
		log_error("msg=\"cannot listen\" addr=%s err=\"%s\"",
			  log_quote(addr, quoted, sizeof(quoted)),
			  strerror(-fd));
		free(s);
		return fd;
	}

	s->loop = loop;
	s->handler = handler;
	s->ctx = ctx;
	s->handles = 1;
	http_limits_init(&s->limits, limits);
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;

	rc = uv_tcp_open(&s->listener, fd);
	if (rc)
		close(fd);
	else
		rc = uv_listen((uv_stream_t *)&s->listener,
			       HTTP_LISTEN_BACKLOG, http_on_connection);
	if (rc) {
		log_error("msg=\"cannot listen\" addr=%s err=%s",
			  log_quote(addr, quoted, sizeof(quoted)),
			  uv_err_name(rc));
		s->stopping = true;
		uv_close((uv_handle_t *)&s->listener, http_on_listener_close);
		return rc;
	}
	log_info("msg=\"http listening\" addr=%s",
		 log_quote(addr, quoted, sizeof(quoted)));
	*out = s;
	return 0;
}

uint64_t http_server_answered(const struct http_server *s, int status)
{
	if (!s || status < HTTP_STATUS_MIN || status > HTTP_STATUS_MAX)
		return 0;
	return s->answered[status - HTTP_STATUS_MIN];
}

int http_server_port(const struct http_server *s)
{
	struct sockaddr_storage sa;
	int len = sizeof(sa), rc;

	if (!s)
		return -EINVAL;
	rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&sa, &len);
	if (rc)
		return rc;
	if (sa.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&sa)->sin_port);
}

void http_server_stop(struct http_server *s, void (*done_cb)(void *),
		      void *arg)
{
	struct http_conn *c, *next;

	if (!s || s->stopping)
		return;
	s->stopping = true;
	s->done_cb = done_cb;
	s->done_arg = arg;
	uv_close((uv_handle_t *)&s->listener, http_on_listener_close);
	for (c = s->conns; c; c = next) {
		next = c->next;
		conn_close(c);
	}
}
