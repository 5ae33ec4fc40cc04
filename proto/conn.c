/*
 * A framed protocol connection on a libuv TCP stream.
 *
 *   CONNECTING --connect ok--> OPEN --close, flush--> FLUSHING --+
 *        |                      |                                |
 *        +----------------------+--close, error-----------> CLOSED
 *
 * OPEN reads bytes into a proto_decoder and hands complete frames to the
 * owner one at a time, re-checking after each callback whether the owner
 * paused or closed the connection. Frames already buffered when the owner
 * resumes are delivered from an idle handle on the next loop turn, never
 * from inside proto_conn_resume.
 *
 * Every send becomes one uv_write of a buffer the connection owns; the
 * pending count covers bytes handed to libuv and not yet written. Closing
 * with writes pending shuts the write side down after them (FLUSHING),
 * but gives up after CONN_FLUSH_MS. CLOSED closes the four handles; the
 * last close callback calls on_close and frees the connection, after
 * libuv has cancelled any write still in flight.
 *
 * Two timers: the ping timer restarts on every write and sends a PING
 * when it fires; the idle timer restarts on every read, is stopped while
 * the owner has paused reading, and closes the connection with
 * UV_ETIMEDOUT when it fires (also when a connect does not complete).
 */
#include "proto/conn.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_DEFAULT_PING_MS 15000
#define CONN_DEFAULT_IDLE_MS 45000
#define CONN_FLUSH_MS 2000
#define CONN_READ_SIZE (64 * 1024)
#define CONN_HANDLES 4

enum conn_state {
	CONN_CONNECTING,
	CONN_OPEN,
	CONN_FLUSHING,
	CONN_CLOSED,
};

struct proto_conn {
	uv_tcp_t tcp;
	uv_timer_t ping_timer; /* also the flush deadline while FLUSHING */
	uv_timer_t idle_timer;
	uv_idle_t resume_idle;
	uv_connect_t connect_req;
	uv_shutdown_t shutdown_req;

	struct proto_conn_ops ops;
	void (*on_drain)(struct proto_conn *c);
	void *data;
	struct proto_decoder dec;
	unsigned ping_ms;
	unsigned idle_ms;

	enum conn_state state;
	int paused;
	int peer_eof;	 /* the peer closed; close once frames are out */
	int silent;	 /* failed set-up: free without on_close */
	int reason;
	int handles;	 /* open handles left to close */
	size_t pending;
	char peer[INET6_ADDRSTRLEN + 8];
};

struct conn_write {
	uv_write_t req;
	struct proto_conn *conn;
	uint8_t *data;
	size_t len;
};

static void conn_close(struct proto_conn *c, int reason, int flush);
static void conn_deliver(struct proto_conn *c);
static void conn_ping(uv_timer_t *t);

/* ---- addresses ---- */

static int conn_parse_port(const char *s, int *port)
{
	long v = 0;

	if (!*s)
		return UV_EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 65535)
			return UV_EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 65535)
		return UV_EINVAL;
	*port = (int)v;
	return 0;
}

/* "ip:port" or "[v6]:port", numeric only. */
static int conn_parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *start = addr, *end;
	int port;

	if (*addr == '[') {
		start = addr + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':')
			return UV_EINVAL;
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		end = colon;
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return UV_EINVAL;
	}
	if (end == start || (size_t)(end - start) >= sizeof(host))
		return UV_EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = 0;
	if (conn_parse_port(colon + 1, &port))
		return UV_EINVAL;

	if (*addr == '[')
		return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
	return uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
}

static void conn_format_addr(const struct sockaddr *sa, char *out,
			     size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		uv_ip4_name(in, ip, sizeof(ip));
		port = ntohs(in->sin_port);
		snprintf(out, cap, "%s:%d", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;
		uv_ip6_name(in6, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
		snprintf(out, cap, "[%s]:%d", ip, port);
	} else {
		snprintf(out, cap, "?");
	}
}

/* ---- set-up and tear-down ---- */

static void conn_handle_closed(uv_handle_t *h)
{
	struct proto_conn *c = h->data;

	if (--c->handles > 0)
		return;
	if (!c->silent && c->ops.on_close)
		c->ops.on_close(c, c->reason);
	proto_decoder_release(&c->dec);
	free(c);
}

static struct proto_conn *conn_new(uv_loop_t *loop,
				   const struct proto_conn_ops *ops,
				   const struct proto_conn_opts *opts,
				   void *data)
{
	struct proto_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ops = *ops;
	c->data = data;
	proto_decoder_init(&c->dec, opts ? opts->max_frame : 0);
	c->ping_ms = opts && opts->ping_ms ? opts->ping_ms
					   : CONN_DEFAULT_PING_MS;
	c->idle_ms = opts && opts->idle_timeout_ms ? opts->idle_timeout_ms
						   : CONN_DEFAULT_IDLE_MS;
	snprintf(c->peer, sizeof(c->peer), "?");

	/* init cannot fail for these handle types on a live loop */
	uv_tcp_init(loop, &c->tcp);
	uv_timer_init(loop, &c->ping_timer);
	uv_timer_init(loop, &c->idle_timer);
	uv_idle_init(loop, &c->resume_idle);
	c->tcp.data = c->ping_timer.data = c->idle_timer.data = c;
	c->resume_idle.data = c;
	c->handles = CONN_HANDLES;
	return c;
}

/* Closes the handles; the last close callback frees the connection. */
static void conn_destroy(struct proto_conn *c)
{
	c->state = CONN_CLOSED;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->ping_timer, conn_handle_closed);
	uv_close((uv_handle_t *)&c->idle_timer, conn_handle_closed);
	uv_close((uv_handle_t *)&c->resume_idle, conn_handle_closed);
}

/* For a set-up that fails before the owner holds the connection. */
static int conn_abandon(struct proto_conn *c, int rc)
{
	c->silent = 1;
	conn_destroy(c);
	return rc;
}

static void conn_flush_deadline(uv_timer_t *t)
{
	struct proto_conn *c = t->data;

	log_warn("msg=\"flush timed out, closing\" peer=%s pending=%zu",
		 c->peer, c->pending);
	conn_destroy(c);
}

static void conn_shutdown_done(uv_shutdown_t *req, int status)
{
	struct proto_conn *c = req->data;

	(void)status;
	if (c->state == CONN_FLUSHING)
		conn_destroy(c);
}

/* Ends the connection with reason; when flush is set and writes are
 * pending, they go out first (for at most CONN_FLUSH_MS). */
static void conn_close(struct proto_conn *c, int reason, int flush)
{
	if (c->state == CONN_CLOSED || c->state == CONN_FLUSHING)
		return;
	c->reason = reason;
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_stop(&c->ping_timer);
	uv_timer_stop(&c->idle_timer);
	uv_idle_stop(&c->resume_idle);

	if (flush && c->state == CONN_OPEN && c->pending > 0) {
		c->shutdown_req.data = c;
		if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
				conn_shutdown_done) == 0) {
			c->state = CONN_FLUSHING;
			uv_timer_start(&c->ping_timer, conn_flush_deadline,
				       CONN_FLUSH_MS, 0);
			return;
		}
	}
	conn_destroy(c);
}

void proto_conn_close(struct proto_conn *c, int reason)
{
	conn_close(c, reason, 1);
}

/* ---- timers ---- */

static void conn_idle_timeout(uv_timer_t *t)
{
	struct proto_conn *c = t->data;

	log_info("msg=\"peer silent, closing\" peer=%s", c->peer);
	if (c->state == CONN_CONNECTING && c->ops.on_connect) {
		c->state = CONN_CLOSED; /* connect_cb must not report again */
		c->reason = UV_ETIMEDOUT;
		c->ops.on_connect(c, UV_ETIMEDOUT);
		conn_destroy(c);
		return;
	}
	conn_close(c, UV_ETIMEDOUT, 0);
}

static void conn_touch_read(struct proto_conn *c)
{
	if (!c->paused)
		uv_timer_start(&c->idle_timer, conn_idle_timeout, c->idle_ms,
			       0);
}

static void conn_touch_write(struct proto_conn *c)
{
	uv_timer_start(&c->ping_timer, conn_ping, c->ping_ms, 0);
}

/* ---- writing ---- */

static void conn_write_done(uv_write_t *req, int status)
{
	struct conn_write *w = req->data;
	struct proto_conn *c = w->conn;

	c->pending -= w->len;
	free(w->data);
	free(w);
	if (c->state != CONN_OPEN)
		return;
	if (status < 0) {
		log_info("msg=\"write failed\" peer=%s error=%s", c->peer,
			 uv_err_name(status));
		conn_close(c, status, 0);
		return;
	}
	if (c->pending == 0 && c->on_drain)
		c->on_drain(c);
}

/* Frees the frame's memory when it cannot be sent. */
int proto_conn_send(struct proto_conn *c, struct buf *frame)
{
	struct conn_write *w;
	uv_buf_t b;
	int rc;

	if (c->state != CONN_OPEN) {
		buf_release(frame);
		return c->state == CONN_CONNECTING ? UV_ENOTCONN : UV_EPIPE;
	}
	if (frame->len == 0) {
		buf_release(frame);
		return 0;
	}
	w = malloc(sizeof(*w));
	if (!w) {
		buf_release(frame);
		return UV_ENOMEM;
	}
	w->conn = c;
	w->data = buf_detach(frame, &w->len);
	w->req.data = w;
	b.base = (char *)w->data; /* not uv_buf_init: len may pass 4 GiB */
	b.len = w->len;

	rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1,
		      conn_write_done);
	if (rc) {
		free(w->data);
		free(w);
		conn_close(c, rc, 0);
		return rc;
	}
	c->pending += w->len;
	conn_touch_write(c);
	return 0;
}

static void conn_ping(uv_timer_t *t)
{
	struct proto_conn *c = t->data;
	struct buf ping = { 0 };

	if (proto_write_ping(&ping)) {
		conn_close(c, PROTO_ENOMEM, 0);
		return;
	}
	proto_conn_send(c, &ping);
}

size_t proto_conn_pending(const struct proto_conn *c)
{
	return c->pending;
}

void proto_conn_on_drain(struct proto_conn *c,
			 void (*cb)(struct proto_conn *c))
{
	c->on_drain = cb;
}

/* ---- reading ---- */

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	b->base = malloc(CONN_READ_SIZE);
	b->len = b->base ? CONN_READ_SIZE : 0;
}

/* Hands buffered frames to the owner until it pauses or closes, more
 * bytes are needed, or the decoder fails. */
static void conn_deliver(struct proto_conn *c)
{
	struct proto_frame f;
	int rc;

	while (c->state == CONN_OPEN && !c->paused) {
		rc = proto_decoder_next(&c->dec, &f);
		if (rc < 0) {
			log_warn("msg=\"bad frame, closing\" peer=%s "
				 "error=\"%s\"", c->peer, proto_strerror(rc));
			conn_close(c, rc, 1);
			return;
		}
		if (rc == 0)
			break;
		if (f.type != PROTO_PING && c->ops.on_frame)
			c->ops.on_frame(c, &f);
	}
	if (c->state == CONN_OPEN && !c->paused && c->peer_eof)
		conn_close(c, UV_EOF, 1);
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct proto_conn *c = s->data;
	int rc;

	if (nread > 0) {
		conn_touch_read(c);
		rc = proto_decoder_feed(&c->dec, b->base, (size_t)nread);
		free(b->base);
		if (rc) {
			log_warn("msg=\"bad frame, closing\" peer=%s "
				 "error=\"%s\"", c->peer, proto_strerror(rc));
			conn_close(c, rc, 1);
			return;
		}
		conn_deliver(c);
		return;
	}
	free(b->base);
	if (nread == UV_EOF) {
		/* frames that came before the end still go to the owner */
		c->peer_eof = 1;
		uv_read_stop(s);
		uv_timer_stop(&c->idle_timer);
		conn_deliver(c);
	} else if (nread == UV_ENOBUFS) {
		conn_close(c, PROTO_ENOMEM, 0);
	} else if (nread < 0) {
		conn_close(c, (int)nread, 0);
	}
}

static int conn_start(struct proto_conn *c)
{
	int rc;

	c->state = CONN_OPEN;
	uv_tcp_nodelay(&c->tcp, 1);
	conn_touch_write(c);
	if (c->paused)
		return 0;
	rc = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
	if (rc)
		return rc;
	conn_touch_read(c);
	return 0;
}

void proto_conn_pause(struct proto_conn *c)
{
	if (c->paused)
		return;
	c->paused = 1;
	uv_idle_stop(&c->resume_idle);
	if (c->state != CONN_OPEN)
		return;
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_stop(&c->idle_timer);
}

static void conn_resume_idle(uv_idle_t *h)
{
	struct proto_conn *c = h->data;

	uv_idle_stop(h);
	conn_deliver(c);
}

void proto_conn_resume(struct proto_conn *c)
{
	int rc;

	if (!c->paused)
		return;
	c->paused = 0;
	if (c->state != CONN_OPEN)
		return;
	if (!c->peer_eof) {
		rc = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc,
				   conn_read);
		if (rc) {
			conn_close(c, rc, 0);
			return;
		}
		conn_touch_read(c);
	}
	uv_idle_start(&c->resume_idle, conn_resume_idle);
}

/* ---- accept and connect ---- */

int proto_conn_accept(uv_stream_t *server, const struct proto_conn_ops *ops,
		      const struct proto_conn_opts *opts, void *data,
		      struct proto_conn **out)
{
	struct proto_conn *c = conn_new(server->loop, ops, opts, data);
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int rc;

	if (!c)
		return UV_ENOMEM;
	rc = uv_accept(server, (uv_stream_t *)&c->tcp);
	if (rc)
		return conn_abandon(c, rc);
	if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len))
		conn_format_addr((struct sockaddr *)&ss, c->peer,
				 sizeof(c->peer));
	rc = conn_start(c);
	if (rc)
		return conn_abandon(c, rc);
	*out = c;
	return 0;
}

static void conn_connected(uv_connect_t *req, int status)
{
	struct proto_conn *c = req->data;

	if (c->state != CONN_CONNECTING)
		return; /* closed meanwhile; on_close follows */
	if (status == 0)
		status = conn_start(c);
	if (status) {
		c->state = CONN_CLOSED;
		c->reason = status;
		if (c->ops.on_connect)
			c->ops.on_connect(c, status);
		conn_destroy(c);
		return;
	}
	if (c->ops.on_connect)
		c->ops.on_connect(c, 0);
}

int proto_conn_connect(uv_loop_t *loop, const char *addr,
		       const struct proto_conn_ops *ops,
		       const struct proto_conn_opts *opts, void *data,
		       struct proto_conn **out)
{
	struct sockaddr_storage ss;
	struct proto_conn *c;
	int rc;

	memset(&ss, 0, sizeof(ss));
	rc = conn_parse_addr(addr, &ss);
	if (rc)
		return rc;
	c = conn_new(loop, ops, opts, data);
	if (!c)
		return UV_ENOMEM;
	conn_format_addr((struct sockaddr *)&ss, c->peer, sizeof(c->peer));

	c->state = CONN_CONNECTING;
	c->connect_req.data = c;
	rc = uv_tcp_connect(&c->connect_req, &c->tcp,
			    (struct sockaddr *)&ss, conn_connected);
	if (rc)
		return conn_abandon(c, rc);
	uv_timer_start(&c->idle_timer, conn_idle_timeout, c->idle_ms, 0);
	*out = c;
	return 0;
}

/* ---- accessors ---- */

void *proto_conn_data(const struct proto_conn *c)
{
	return c->data;
}

void proto_conn_set_data(struct proto_conn *c, void *data)
{
	c->data = data;
}

const char *proto_conn_peer(const struct proto_conn *c)
{
	return c->peer;
}
