/*
 * The mother's sync server: one session per connected workspace.
 *
 *   accepted --CHALLENGE--> challenged --ENROLL ok--> ENROLLED, close
 *                               |
 *                               +--HELLO ok--> streaming --(silence)--> closed
 *                               |                  |  ^
 *                               +--bad--> ERROR,   |  +-- ACK / RESUME
 *                                         close    +-- EVENT n+1, n+2, ...
 *
 * A streaming session sends the tenant's events after the last one the
 * workspace applied, signing each at send time with an expiry, at most
 * SYNC_WINDOW unacknowledged at once. New events are picked up when a
 * publisher pokes the daemon (sync_server_poke) and by a periodic check.
 * Acknowledgements are written to mother.db in batches; losing one to a
 * crash only makes the workspace receive an event it ignores.
 *
 * A streaming workspace may also send signed reports: STATS (aggregate
 * figures, stored by mother/stats.h; a session sending more than
 * SYNC_STATS_PER_MIN (120) in a minute is dropped) and AUDIT_HEAD
 * (mother/audithead.h). A report with a bad
 * signature, for another tenant or with a counter already seen ends the
 * session with an ERROR.
 */
#ifndef LMS_MOTHER_SYNC_H
#define LMS_MOTHER_SYNC_H

#include <openssl/ssl.h>
#include <uv.h>

#include "common/buf.h"
#include "mother/mother.h"

struct sync_server;

/* Listens on addr ("127.0.0.1:8601"), TLS-only when tls (a server
 * context of proto/tls.h) is given, plain TCP when it is NULL. The mother
 * context and tls are borrowed and must outlive the server. */
int sync_server_start(uv_loop_t *loop, struct mother *m, const char *addr,
		      SSL_CTX *tls, struct sync_server **out);

/* Looks for new events in every streaming session. */
void sync_server_poke(struct sync_server *s);

/* Appends the ids of tenants with a streaming session, space separated. */
void sync_server_connected(struct sync_server *s, struct buf *out);

/* Appends the Prometheus families lms_sync_events_sent_total,
 * lms_sync_lag_events and lms_sync_connected, by tenant. 0 or -1. */
int sync_server_metrics(struct sync_server *s, struct buf *out);

/* Closes every session and the listener, flushes acknowledgements, frees
 * the server; done runs when every handle is closed. */
void sync_server_stop(struct sync_server *s, void (*done)(void *), void *arg);

#endif
