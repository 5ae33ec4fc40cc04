/*
 * The daemon's control socket (DATA/mother.sock): a Unix stream socket
 * that commands use to talk to a running `lms-mother serve`.
 *
 * Requests are one line; the daemon answers and closes:
 *   poke       new events were written; send them    -> "ok"
 *   connected  which tenants are connected now       -> "t1 t2 ..."
 */
#ifndef LMS_MOTHER_CONTROL_H
#define LMS_MOTHER_CONTROL_H

#include <uv.h>

#include "common/buf.h"

struct control_server;

struct control_ops {
	void (*poke)(void *ctx);
	/* Appends the ids of connected tenants, separated by spaces. */
	void (*connected)(void *ctx, struct buf *out);
};

/* Listens on path. Refuses (-EADDRINUSE) when a daemon already answers
 * there; removes a stale socket file otherwise. */
int control_start(uv_loop_t *loop, const char *path,
		  const struct control_ops *ops, void *ctx,
		  struct control_server **out);

/* Closes the socket, removes the file and frees the server. */
void control_stop(struct control_server *s);

/* Client side, blocking with a short timeout: sends cmd, appends the
 * answer (without the newline) to reply. -ENOENT or -ECONNREFUSED when
 * no daemon runs. */
int control_request(const char *path, const char *cmd, struct buf *reply);

#endif
