/*
 * The control socket of a running mother: commands in other processes
 * (publishing, tenant list) reach the daemon here. One short line per
 * connection, one answer, then close.
 */
#include "mother/control.h"

#include "common/log.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_MAX_LINE 64

struct control_server {
	uv_pipe_t pipe;
	const struct control_ops *ops;
	void *ctx;
	char *path;
};

struct control_client {
	uv_pipe_t pipe;
	struct control_server *server;
	char line[CONTROL_MAX_LINE];
	size_t len;
	int answered;
	uv_write_t write;
	struct buf reply;
};

static void control_client_closed(uv_handle_t *h)
{
	struct control_client *c = h->data;

	buf_release(&c->reply);
	free(c);
}

static void control_written(uv_write_t *w, int status)
{
	struct control_client *c = w->data;

	(void)status;
	uv_close((uv_handle_t *)&c->pipe, control_client_closed);
}

static void control_answer(struct control_client *c)
{
	struct control_server *s = c->server;
	uv_buf_t b;

	c->answered = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	if (!strcmp(c->line, "poke")) {
		s->ops->poke(s->ctx);
		buf_append_str(&c->reply, "ok");
	} else if (!strcmp(c->line, "connected")) {
		s->ops->connected(s->ctx, &c->reply);
	} else {
		buf_append_str(&c->reply, "error unknown command");
	}
	buf_append_str(&c->reply, "\n");
	b = uv_buf_init((char *)c->reply.data, (unsigned)c->reply.len);
	c->write.data = c;
	if (uv_write(&c->write, (uv_stream_t *)&c->pipe, &b, 1,
		     control_written))
		uv_close((uv_handle_t *)&c->pipe, control_client_closed);
}

static void control_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct control_client *c = h->data;

	(void)hint;
	b->base = c->line + c->len;
	b->len = sizeof(c->line) - 1 - c->len;
}

static void control_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct control_client *c = st->data;
	char *nl;

	(void)b;
	if (c->answered)
		return;
	if (n < 0 || (n == 0 && c->len == sizeof(c->line) - 1)) {
		uv_close((uv_handle_t *)st, control_client_closed);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = 0;
	nl = strchr(c->line, '\n');
	if (nl) {
		*nl = 0;
		control_answer(c);
	} else if (c->len == sizeof(c->line) - 1) {
		uv_close((uv_handle_t *)st, control_client_closed);
	}
}

static void control_on_connection(uv_stream_t *server, int status)
{
	struct control_server *s = server->data;
	struct control_client *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->server = s;
	uv_pipe_init(server->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) ||
	    uv_read_start((uv_stream_t *)&c->pipe, control_alloc,
			  control_read))
		uv_close((uv_handle_t *)&c->pipe, control_client_closed);
}

int control_start(uv_loop_t *loop, const char *path,
		  const struct control_ops *ops, void *ctx,
		  struct control_server **out)
{
	struct control_server *s;
	struct buf probe;
	int rc;

	buf_init(&probe);
	rc = control_request(path, "connected", &probe);
	buf_release(&probe);
	if (rc == 0)
		return -EADDRINUSE;
	unlink(path);

	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return -ENOMEM;
	}
	s->ops = ops;
	s->ctx = ctx;
	uv_pipe_init(loop, &s->pipe, 0);
	s->pipe.data = s;
	rc = uv_pipe_bind(&s->pipe, path);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&s->pipe, 64,
			       control_on_connection);
	if (rc) {
		log_error("msg=\"cannot listen on control socket\" path=\"%s\""
			  " error=\"%s\"", path, uv_strerror(rc));
		control_stop(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void control_server_closed(uv_handle_t *h)
{
	struct control_server *s = h->data;

	free(s->path);
	free(s);
}

void control_stop(struct control_server *s)
{
	if (!s)
		return;
	unlink(s->path);
	uv_close((uv_handle_t *)&s->pipe, control_server_closed);
}

static int control_wait(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 2000) == 1 ? 0 : -ETIMEDOUT;
}

int control_request(const char *path, const char *cmd, struct buf *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char chunk[512];
	int fd, rc = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    dprintf(fd, "%s\n", cmd) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if ((rc = control_wait(fd, POLLIN)))
			break;
		n = read(fd, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		buf_append(reply, chunk, (size_t)n);
	}
	if (reply->len && reply->data[reply->len - 1] == '\n')
		reply->data[--reply->len] = 0;
out:
	close(fd);
	return rc;
}
