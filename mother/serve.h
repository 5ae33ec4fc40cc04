/*
 * `lms-mother serve`: the daemon. One libuv loop runs the admin HTTP
 * server, the sync server and the control socket. On start it records
 * whatever was published while it was down; SIGTERM and SIGINT stop it
 * cleanly (exit 0), SIGHUP is logged (there is no configuration file to
 * reread yet).
 */
#ifndef LMS_MOTHER_SERVE_H
#define LMS_MOTHER_SERVE_H

#include "mother/mother.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8600"
#define SERVE_DEFAULT_SYNC "127.0.0.1:8601"

/* Runs until a stop signal; 0 on a clean stop, -1 if start-up failed.
 * With sync_tls the sync port speaks only TLS, with a certificate made
 * from the mother key (DATA/sync-tls.crt, see proto/tls.h). */
int serve_run(struct mother *m, const char *listen, const char *sync_listen,
	      int sync_tls);

#endif
