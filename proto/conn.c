/*
 * A framed protocol connection on a libuv TCP stream.
 *
 *   CONNECTING --connected--+------- plain -------+
 *        |                  |                     v
 *        |                  +-- TLS --> HANDSHAKE --> OPEN --close--> FLUSHING
 *        |                                 |           |                 |
 *        +------- error, timeout ----------+-----------+-------------> CLOSED
 *
 * An accepted connection starts in OPEN, or with TLS in HANDSHAKE.
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
 *
 * TLS goes through two memory BIOs: ciphertext read from the socket is
 * written into net_in, and whatever OpenSSL writes into net_out (the
 * handshake, records, alerts, close_notify) is moved to the socket as a
 * uv_write, at most CONN_TLS_CHUNK of a frame at a time, so the paths
 * above stay the same with ciphertext. The pending count then covers
 * ciphertext, plus frames sent during the HANDSHAKE, which wait in the
 * early buffer. The socket is read during the handshake even when the
 * owner has paused; pausing takes effect once the connection is OPEN. A
 * client's on_connect comes at the end of the handshake, and a failure
 * before it (connect_owed) reaches on_connect as a failed connect does.
 */
#include "proto/conn.h"

#include "common/log.h"
#include "proto/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_DEFAULT_PING_MS 15000
#define CONN_DEFAULT_IDLE_MS 45000
#define CONN_FLUSH_MS 2000
#define CONN_READ_SIZE (64 * 1024)
#define CONN_HANDLES 4
#define CONN_TLS_RECORD (16 * 1024) /* the largest TLS plaintext record */
#define CONN_TLS_CHUNK (256 * 1024) /* encrypted per uv_write: bounds the
				     * memory BIO however big the frame */

enum conn_state {
	CONN_CONNECTING,
	CONN_HANDSHAKE,
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

	SSL *ssl;	     /* NULL: plain TCP */
	BIO *net_in;	     /* ciphertext from the socket; owned by ssl */
	BIO *net_out;	     /* ciphertext for the socket; owned by ssl */
	struct buf early;    /* frames sent during the handshake */
	int client;	     /* made by proto_conn_connect */
	int connect_owed;    /* a TLS client's on_connect is still due */
	char tls_error[160]; /* why the handshake failed, or "" */
};

struct conn_write {
	uv_write_t req;
	struct proto_conn *conn;
	uint8_t *data;
	size_t len;
};

static void conn_close(struct proto_conn *c, int reason, int flush);
static void conn_tls_fail(struct proto_conn *c, int reason, const char *why);
static void conn_deliver(struct proto_conn *c);
static void conn_ping(uv_timer_t *t);
static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);
static void conn_tls_shutdown(struct proto_conn *c);

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
	/* before on_close: the owner may free the TLS context there */
	SSL_free(c->ssl);
	c->ssl = NULL;
	buf_release(&c->early);
	if (!c->silent && c->ops.on_close)
		c->ops.on_close(c, c->reason);
	proto_decoder_release(&c->dec);
	free(c);
}

/* An SSL whose ciphertext goes through two memory BIOs. */
static int conn_tls_new(struct proto_conn *c, SSL_CTX *ctx)
{
	c->ssl = SSL_new(ctx);
	c->net_in = BIO_new(BIO_s_mem());
	c->net_out = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->net_in || !c->net_out) {
		SSL_free(c->ssl);
		BIO_free(c->net_in);
		BIO_free(c->net_out);
		ERR_clear_error();
		c->ssl = NULL;
		return UV_ENOMEM;
	}
	/* an empty BIO means "more to come", not the end of the stream */
	BIO_set_mem_eof_return(c->net_in, -1);
	BIO_set_mem_eof_return(c->net_out, -1);
	SSL_set_bio(c->ssl, c->net_in, c->net_out);
	return 0;
}

static struct proto_conn *conn_new(uv_loop_t *loop,
				   const struct proto_conn_ops *ops,
				   const struct proto_conn_opts *opts,
				   void *data)
{
	struct proto_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (opts && opts->tls && conn_tls_new(c, opts->tls)) {
		free(c);
		return NULL;
	}
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
	int owed = c->connect_owed;

	if (c->state == CONN_CLOSED || c->state == CONN_FLUSHING)
		return;
	c->reason = reason;
	c->connect_owed = 0;
	if (flush && c->state == CONN_OPEN && c->ssl)
		conn_tls_shutdown(c);
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_stop(&c->ping_timer);
	uv_timer_stop(&c->idle_timer);
	uv_idle_stop(&c->resume_idle);

	if (flush && (c->state == CONN_OPEN || c->state == CONN_HANDSHAKE) &&
	    c->pending > 0) {
		c->shutdown_req.data = c;
		if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
				conn_shutdown_done) == 0) {
			c->state = CONN_FLUSHING;
			uv_timer_start(&c->ping_timer, conn_flush_deadline,
				       CONN_FLUSH_MS, 0);
		}
	}
	if (c->state != CONN_FLUSHING)
		conn_destroy(c);

	/* a TLS client that fails in its handshake still hears of it the
	 * way a failed connect does; the connection is closing already */
	if (owed && c->ops.on_connect)
		c->ops.on_connect(c, reason ? reason : UV_ECANCELED);
}

void proto_conn_close(struct proto_conn *c, int reason)
{
	c->connect_owed = 0; /* closed by its owner: no on_connect */
	conn_close(c, reason, 1);
}

/* ---- timers ---- */

static void conn_idle_timeout(uv_timer_t *t)
{
	struct proto_conn *c = t->data;

	if (c->state == CONN_HANDSHAKE) {
		conn_tls_fail(c, UV_ETIMEDOUT, "timed out");
		return;
	}
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
	if (!c->paused || c->state == CONN_HANDSHAKE)
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
	if (c->state != CONN_OPEN && c->state != CONN_HANDSHAKE)
		return;
	if (status < 0) {
		log_info("msg=\"write failed\" peer=%s error=%s", c->peer,
			 uv_err_name(status));
		conn_close(c, status, 0);
		return;
	}
	if (c->state == CONN_OPEN && c->pending == 0 && c->on_drain)
		c->on_drain(c);
}

/* One uv_write of len bytes at data, which it takes (and frees when
 * they cannot be written). */
static int conn_write(struct proto_conn *c, uint8_t *data, size_t len)
{
	struct conn_write *w = malloc(sizeof(*w));
	uv_buf_t b;
	int rc;

	if (!w) {
		free(data);
		return UV_ENOMEM;
	}
	w->conn = c;
	w->data = data;
	w->len = len;
	w->req.data = w;
	b.base = (char *)data; /* not uv_buf_init: len may pass 4 GiB */
	b.len = len;

	rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1,
		      conn_write_done);
	if (rc) {
		free(data);
		free(w);
		return rc;
	}
	c->pending += len;
	conn_touch_write(c);
	return 0;
}

/* Moves what OpenSSL wrote for the peer to the socket. */
static int conn_tls_flush(struct proto_conn *c)
{
	size_t n = BIO_ctrl_pending(c->net_out), got = 0;
	uint8_t *data;

	if (n == 0)
		return 0;
	data = malloc(n);
	if (!data)
		return UV_ENOMEM;
	if (BIO_read_ex(c->net_out, data, n, &got) != 1 || got != n) {
		free(data);
		ERR_clear_error();
		return UV_EPROTO;
	}
	return conn_write(c, data, n);
}

/* Encrypts len bytes and hands them to the socket, a chunk at a time. */
static int conn_tls_write(struct proto_conn *c, const uint8_t *data,
			  size_t len)
{
	size_t off, n, done;
	int rc;

	for (off = 0; off < len; off += n) {
		n = len - off < CONN_TLS_CHUNK ? len - off : CONN_TLS_CHUNK;
		/* a memory BIO takes everything: never a partial write */
		if (SSL_write_ex(c->ssl, data + off, n, &done) != 1 ||
		    done != n) {
			ERR_clear_error();
			return UV_EPROTO;
		}
		rc = conn_tls_flush(c);
		if (rc)
			return rc;
	}
	return 0;
}

/* Encrypts a frame, or keeps it until the handshake is done. */
static int conn_tls_send(struct proto_conn *c, const struct buf *frame)
{
	if (c->state == CONN_HANDSHAKE) {
		if (buf_append(&c->early, frame->data, frame->len))
			return UV_ENOMEM;
		c->pending += frame->len;
		return 0;
	}
	return conn_tls_write(c, frame->data, frame->len);
}

/* Frees the frame's memory when it cannot be sent. */
int proto_conn_send(struct proto_conn *c, struct buf *frame)
{
	uint8_t *data;
	size_t len;
	int rc;

	if (c->state != CONN_OPEN && c->state != CONN_HANDSHAKE) {
		buf_release(frame);
		return c->state == CONN_CONNECTING ? UV_ENOTCONN : UV_EPIPE;
	}
	if (frame->len == 0) {
		buf_release(frame);
		return 0;
	}
	if (c->ssl) {
		rc = conn_tls_send(c, frame);
		buf_release(frame);
	} else {
		data = buf_detach(frame, &len);
		rc = conn_write(c, data, len);
	}
	if (rc)
		conn_close(c, rc, 0);
	return rc;
}

/* close_notify for the peer, best effort, before the flushing close. */
static void conn_tls_shutdown(struct proto_conn *c)
{
	SSL_shutdown(c->ssl);
	ERR_clear_error();
	conn_tls_flush(c);
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

/* ---- TLS ---- */

/* Ends a connection whose handshake failed for the reason why (see
 * tls_error_reason()), kept for proto_conn_tls_error(). The alert OpenSSL
 * wrote, if any, is sent first, best effort. The owner of a client hears
 * of it, so it is logged here only for a server. */
static void conn_tls_fail(struct proto_conn *c, int reason, const char *why)
{
	char quoted[200];

	if (!strcmp(why, TLS_PIN_MISMATCH))
		snprintf(c->tls_error, sizeof(c->tls_error), "%s", why);
	else
		snprintf(c->tls_error, sizeof(c->tls_error),
			 "TLS handshake failed: %s", why);
	log_msg(c->client ? LOG_DEBUG : LOG_WARN,
		"msg=\"TLS handshake failed\" peer=%s reason=%s", c->peer,
		log_quote(why, quoted, sizeof(quoted)));
	conn_tls_flush(c);
	conn_close(c, reason, 1);
}

/* The handshake is done: frames sent meanwhile go out, a client's owner
 * hears of it, and a pause asked for meanwhile takes effect. 0, or -1
 * when the connection is closing. */
static int conn_tls_established(struct proto_conn *c)
{
	int rc;

	c->state = CONN_OPEN;
	c->pending -= c->early.len;
	rc = conn_tls_flush(c); /* the end of the handshake */
	if (!rc)
		rc = conn_tls_write(c, c->early.data, c->early.len);
	buf_release(&c->early);
	if (rc) {
		conn_close(c, rc, 0);
		return -1;
	}
	log_debug("msg=\"TLS established\" peer=%s version=%s cipher=%s",
		  c->peer, SSL_get_version(c->ssl),
		  SSL_get_cipher_name(c->ssl));
	if (c->connect_owed) {
		c->connect_owed = 0;
		if (c->ops.on_connect)
			c->ops.on_connect(c, 0);
	}
	if (c->state != CONN_OPEN)
		return -1;
	if (c->paused) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		uv_timer_stop(&c->idle_timer);
	}
	return 0;
}

/* Takes the handshake as far as the bytes received allow. 0 when it is
 * done, 1 while it waits for the peer, -1 when the connection ends. */
static int conn_tls_handshake(struct proto_conn *c)
{
	int r = SSL_do_handshake(c->ssl);
	int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
	char why[128];
	int rc;

	if (r == 1)
		return conn_tls_established(c);
	if (err == SSL_ERROR_WANT_READ) {
		rc = conn_tls_flush(c);
		if (rc) {
			conn_close(c, rc, 0);
			return -1;
		}
		return 1;
	}
	tls_error_reason(c->ssl, err, why, sizeof(why));
	conn_tls_fail(c, UV_EPROTO, why);
	return -1;
}

/* Decrypts what net_in holds into the frame decoder. 0, or -1 when the
 * connection is closing. */
static int conn_tls_decrypt(struct proto_conn *c)
{
	uint8_t plain[CONN_TLS_RECORD];
	char why[160];
	size_t got;
	int rc, err;

	while (SSL_read_ex(c->ssl, plain, sizeof(plain), &got) == 1) {
		rc = proto_decoder_feed(&c->dec, plain, got);
		if (rc) {
			log_warn("msg=\"bad frame, closing\" peer=%s "
				 "error=\"%s\"", c->peer, proto_strerror(rc));
			conn_close(c, rc, 1);
			return -1;
		}
	}
	err = SSL_get_error(c->ssl, 0);
	if (err == SSL_ERROR_ZERO_RETURN) {
		/* close_notify: like the end of a plain stream */
		c->peer_eof = 1;
		uv_read_stop((uv_stream_t *)&c->tcp);
		uv_timer_stop(&c->idle_timer);
	} else if (err != SSL_ERROR_WANT_READ) {
		log_warn("msg=\"TLS error, closing\" peer=%s reason=\"%s\"",
			 c->peer, tls_error_reason(c->ssl, err, why,
						   sizeof(why)));
		conn_close(c, UV_EPROTO, 0);
		return -1;
	}
	rc = conn_tls_flush(c); /* what reading made OpenSSL answer */
	if (rc) {
		conn_close(c, rc, 0);
		return -1;
	}
	return 0;
}

static void conn_tls_read(struct proto_conn *c, const char *data, size_t n)
{
	size_t put = 0;

	if (BIO_write_ex(c->net_in, data, n, &put) != 1 || put != n) {
		ERR_clear_error();
		conn_close(c, PROTO_ENOMEM, 0);
		return;
	}
	if (c->state == CONN_HANDSHAKE && conn_tls_handshake(c))
		return;
	if (c->state == CONN_OPEN && conn_tls_decrypt(c) == 0)
		conn_deliver(c);
}

/* Both sides set out on the handshake; a client speaks first. */
static int conn_tls_start(struct proto_conn *c)
{
	int rc;

	c->state = CONN_HANDSHAKE;
	rc = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
	if (rc)
		return rc;
	conn_touch_read(c);
	if (!c->client) {
		SSL_set_accept_state(c->ssl);
		return 0;
	}
	SSL_set_connect_state(c->ssl);
	c->connect_owed = 1;
	conn_tls_handshake(c); /* a failure reports through on_connect */
	return 0;
}

/* ---- reading, continued ---- */

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct proto_conn *c = s->data;
	int rc;

	if (nread > 0 && c->ssl) {
		conn_touch_read(c);
		conn_tls_read(c, b->base, (size_t)nread);
		free(b->base);
		return;
	}
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
	if (nread < 0 && c->state == CONN_HANDSHAKE) {
		conn_tls_fail(c, (int)nread,
			      nread == UV_EOF ?
				      "the peer closed the connection" :
				      uv_strerror((int)nread));
	} else if (nread == UV_EOF) {
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

	uv_tcp_nodelay(&c->tcp, 1);
	if (c->ssl)
		return conn_tls_start(c);
	c->state = CONN_OPEN;
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
	if (c->ssl)
		return; /* on_connect comes with the end of the handshake */
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
	c->client = 1;
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

const char *proto_conn_tls_error(const struct proto_conn *c)
{
	return c->tls_error[0] ? c->tls_error : NULL;
}
