/*
 * `lms-workspace serve`: the workspace daemon. One libuv loop runs the
 * HTTP API and the sync client; applying events runs on the loop's
 * thread pool with a database connection and a repository handle of its
 * own.
 *
 * SIGTERM and SIGINT stop it cleanly: no new requests, the sync session
 * closed, an event being applied finished (it commits or rolls back as a
 * whole), the databases closed. SIGHUP is logged (no configuration file
 * yet).
 */
#ifndef LMS_WORKSPACE_SERVE_H
#define LMS_WORKSPACE_SERVE_H

#include <stddef.h>

struct serve_opts {
	const char *data_dir;
	const char *listen; /* NULL: the address stored at init */
	const char *mother; /* NULL: the address stored at init */
	const char *web_dir; /* NULL: LMS_WEB_DIR, else the compiled-in one */
	const char *trusted_proxy; /* NULL: X-Forwarded-For is ignored */
};

/* Runs until stopped by a signal: 0 after a clean stop, -1 when it
 * cannot start, with a one-line reason in err. */
int serve_run(const struct serve_opts *o, char *err, size_t errcap);

#endif
