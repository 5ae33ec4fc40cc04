/*
 * A framed protocol connection on a libuv TCP stream, shared by the
 * mother's sync server and the workspace's sync client.
 *
 * The connection decodes frames as bytes arrive and hands each complete
 * frame to on_frame (PING frames are consumed here). It sends a PING
 * after ping_ms without writing and closes the connection after
 * idle_timeout_ms without reading anything. A decode error closes the
 * connection with that error. on_close runs exactly once, after which the
 * connection memory is freed; the owner must drop its pointer then.
 *
 * With opts->tls the bytes on the wire are TLS (proto/tls.h) and all of
 * the above holds for the frames inside: a client's on_connect comes
 * once the handshake is done (0) or has failed (a negative code, then
 * on_close); frames sent before the handshake is done wait for it; a
 * close sends TLS's close_notify first, best effort. A failed handshake
 * ends the connection with UV_EPROTO (or the transport's error) and
 * proto_conn_tls_error() says why.
 *
 * Writes go to sockets whose peer may be gone: the process must ignore
 * SIGPIPE (both daemons do), or such a write kills it.
 */
#ifndef LMS_PROTO_CONN_H
#define LMS_PROTO_CONN_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <uv.h>

#include "common/buf.h"
#include "proto/proto.h"

struct proto_conn;

struct proto_conn_ops {
	/* A complete frame; borrowed until on_frame returns. The callback
	 * may send, pause or close the connection. */
	void (*on_frame)(struct proto_conn *c, const struct proto_frame *f);
	/* After connect: status 0, or a negative libuv code (then on_close
	 * follows). Only for proto_conn_connect. */
	void (*on_connect)(struct proto_conn *c, int status);
	/* reason: 0 for a local close, a negative libuv code (UV_EOF when
	 * the peer closed, UV_ETIMEDOUT when silent) or a PROTO_E* code. */
	void (*on_close)(struct proto_conn *c, int reason);
};

struct proto_conn_opts {
	size_t max_frame;	  /* 0: PROTO_DEFAULT_MAX_FRAME */
	unsigned ping_ms;	  /* 0: 15000 */
	unsigned idle_timeout_ms; /* 0: 45000 */
	SSL_CTX *tls;		  /* NULL: plain TCP. A server or client
				   * context from proto/tls.h; borrowed, it
				   * must outlive the connection */
};

/* Accepts a pending connection on server. opts may be NULL. */
int proto_conn_accept(uv_stream_t *server, const struct proto_conn_ops *ops,
		      const struct proto_conn_opts *opts, void *data,
		      struct proto_conn **out);

/* Connects to addr ("127.0.0.1:8601"); the result comes to on_connect. */
int proto_conn_connect(uv_loop_t *loop, const char *addr,
		       const struct proto_conn_ops *ops,
		       const struct proto_conn_opts *opts, void *data,
		       struct proto_conn **out);

/* Queues a frame (or several) for writing; takes the buffer's memory and
 * leaves frame empty. */
int proto_conn_send(struct proto_conn *c, struct buf *frame);

/* Bytes queued and not yet written, for back-pressure. */
size_t proto_conn_pending(const struct proto_conn *c);

/* Registers a callback for when every queued byte has been written. */
void proto_conn_on_drain(struct proto_conn *c,
			 void (*cb)(struct proto_conn *c));

/* Stops and restarts delivering frames (reading) while the owner works;
 * the idle timer does not run while paused. */
void proto_conn_pause(struct proto_conn *c);
void proto_conn_resume(struct proto_conn *c);

/* Closes the connection; queued writes are flushed first when possible.
 * on_close follows with the given reason. Safe to call twice. */
void proto_conn_close(struct proto_conn *c, int reason);

void *proto_conn_data(const struct proto_conn *c);
void proto_conn_set_data(struct proto_conn *c, void *data);

/* The peer's address as "ip:port" for log lines; borrowed. */
const char *proto_conn_peer(const struct proto_conn *c);

/* Why the TLS handshake failed (see tls_handshake_error()), or NULL when
 * it did not fail or there is no TLS; borrowed, valid until on_close
 * returns. */
const char *proto_conn_tls_error(const struct proto_conn *c);

#endif
