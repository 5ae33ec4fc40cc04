/*
 * A small HTTP/1.1 server on libuv, parsing requests with http-parser.
 *
 * The server reads a whole request (head and body, within the limits),
 * then calls the handler once with an exchange. The handler answers at
 * once or later (after work on the thread pool) with exactly one call to
 * http_respond(); the exchange stays valid until then. Keep-alive is on
 * unless the client asks otherwise; pipelined requests are answered in
 * order. Limits: header bytes, body bytes, idle and request timeouts.
 * Violations get 400, 413, 431 or 408 and the connection is closed.
 * Instead of http_respond(), a handler may stream a large answer from
 * another thread (http_stream_start() below).
 */
#ifndef LMS_HTTP_H
#define LMS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_server;
struct http_exchange;

struct http_limits {
	size_t max_header_bytes; /* default 16 KiB */
	size_t max_body_bytes;	 /* default 1 MiB */
	unsigned idle_timeout_ms; /* keep-alive idle; default 30 s */
	unsigned request_timeout_ms; /* whole request; default 10 s */
	unsigned max_connections;    /* default 1024 */
};

/* The request as the handler sees it; every pointer is borrowed from the
 * exchange and valid until http_respond(). */
struct http_request {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* decoded path without the query, e.g. /a/b */
	const char *query;  /* raw query after '?', "" if none */
	const uint8_t *body;
	size_t body_len;
	uint64_t id;	  /* request id for log lines */
	const char *peer; /* the client's IP address as text ("127.0.0.1",
			   * "::1"), "" when unknown; behind a reverse
			   * proxy it is the proxy's */
};

typedef void (*http_handler)(void *ctx, struct http_exchange *x,
			     const struct http_request *req);

/* Listens on addr ("127.0.0.1:8610" or "[::1]:8610"). limits may be NULL
 * for the defaults. On success *out is the running server. */
int http_server_start(uv_loop_t *loop, const char *addr,
		      const struct http_limits *limits, http_handler handler,
		      void *ctx, struct http_server **out);

/* Stops accepting, closes every connection (answers in progress are
 * dropped) and frees the server; done_cb (may be NULL) runs once all
 * handles are closed. */
void http_server_stop(struct http_server *s, void (*done_cb)(void *),
		      void *arg);

/* The TCP port s listens on, for a server started on port 0 ("127.0.0.1:0"
 * binds a free port); or a negative error code. */
int http_server_port(const struct http_server *s);

/* The answers s sent since it started with status (HTTP_STATUS_MIN to
 * HTTP_STATUS_MAX; 0 for any other), its own error answers (400, 408,
 * 413, 431, ...) included. */
#define HTTP_STATUS_MIN 100
#define HTTP_STATUS_MAX 599
uint64_t http_server_answered(const struct http_server *s, int status);

/* A request header by case-insensitive name, or NULL; borrowed. */
const char *http_header(const struct http_exchange *x, const char *name);

/* Adds a response header before http_respond(); copies both strings. */
int http_add_header(struct http_exchange *x, const char *name,
		    const char *value);

/* Sends the response (Content-Length is set from len) and ends the
 * exchange; x must not be used afterwards. Copies body. */
void http_respond(struct http_exchange *x, int status,
		  const char *content_type, const void *body, size_t len);

/* Sends the JSON text of v (a cJSON value, consumed; NULL counts as out
 * of memory) as application/json with status, or a 500 error when it
 * cannot be printed. */
struct cJSON;
void http_respond_json(struct http_exchange *x, int status,
		       struct cJSON *v);

/* Sends {"error": {"code": code, "message": message}} with status. */
void http_respond_error(struct http_exchange *x, int status,
			const char *code, const char *message);

/* ---- streamed answers ----
 *
 * An answer too large to build in memory, made by a producer on
 * another thread (of the thread pool, or one of its own). On the loop,
 * http_stream_start() sends the status line and headers (those of
 * http_add_header() too) with "Transfer-Encoding: chunked" (HTTP/1.1;
 * an HTTP/1.0 answer ends when the connection closes) and takes over
 * x. Then, from any one thread at a time (the
 * producer's), http_stream_write() any number of times and
 * http_stream_end() exactly once; s must not be used afterwards.
 *
 * Writes are buffered (HTTP_STREAM_CHUNK bytes to a chunk) and handed
 * to the loop, which writes them to the socket; a producer that is
 * HTTP_STREAM_QUEUE bytes ahead of the socket waits in
 * http_stream_write() until the client has read some (back-pressure:
 * a slow reader never makes the server hold the whole answer). While
 * the answer streams the connection's request and idle timeouts do not
 * apply, but a client that reads nothing for the idle timeout is
 * disconnected. When the connection goes away (the client left, the
 * server stops) http_stream_write() returns -ECANCELED at once, and the
 * producer should stop and call http_stream_end(). An answer to HEAD
 * sends the headers alone and drops what is written. */
#define HTTP_STREAM_CHUNK (16 * 1024)
#define HTTP_STREAM_QUEUE (256 * 1024)

struct http_stream;

/* Sends the head of the answer and returns the stream in *out: 0; or a
 * negative code when the connection is gone or cannot be written (x is
 * freed then and must not be used either way). Loop thread only. */
int http_stream_start(struct http_exchange *x, int status,
		      const char *content_type, struct http_stream **out);

/* Appends len bytes of data to the answer: 0, -ECANCELED when the
 * client is gone (nothing more will be sent), or -ENOMEM. May block
 * while the client lags behind; never call it on the loop thread. */
int http_stream_write(struct http_stream *s, const void *data, size_t len);

/* Ends the answer and frees s once the loop has sent the rest. With
 * failed non-zero the answer is cut off instead: the connection closes
 * without the last chunk, so the client sees an incomplete answer
 * rather than a short one that looks whole. Any thread. */
void http_stream_end(struct http_stream *s, int failed);

/* Splits "host:port" or "[v6]:port" into a sockaddr. */
int http_parse_addr(const char *addr, struct sockaddr_storage *out);

#endif
