/*
 * The sync client: the workspace's one connection to the mother.
 *
 * It dials the mother's sync port, proves the tenant's identity, and
 * applies the events the mother streams, in order, each exactly once in
 * effect (see sync.c for the session's state diagram). It reconnects on
 * its own, with backoff, for as long as it runs; while the mother is
 * away the workspace keeps serving what it last applied.
 *
 * Everything here runs on the loop, except the applying of an event,
 * which goes to the thread pool through workspace/apply.h.
 */
#ifndef LMS_WORKSPACE_SYNC_H
#define LMS_WORKSPACE_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "workspace/apply.h"

struct sync_config {
	const char *tenant;	 /* copied */
	const char *mother_addr; /* "host:port", or "tls://host:port"
				  * for TLS pinning mother_pub; copied */
	uint8_t mother_pub[CRYPTO_PUBKEY_LEN]; /* the pinned key */
	const struct crypto_key *key;	      /* the workspace's; borrowed */
	struct apply_ctx *apply;	      /* borrowed, used by jobs */
	const struct lms_clock *clock;	      /* borrowed */
	uint64_t applied_seq;		      /* as the database says */
	/* called on the loop after each event applied (may be NULL) */
	void (*on_applied)(void *arg);
	void *on_applied_arg;
};

struct sync_client;

/* Creates the client and starts connecting at once. Everything borrowed
 * in cfg must outlive the client. Stop it with sync_stop(). */
int sync_start(uv_loop_t *loop, const struct sync_config *cfg,
	       struct sync_client **out);

/* 1 while a session with the mother is established (after WELCOME). */
int sync_connected(const struct sync_client *s);

/* The last event applied by this process or found at start. */
uint64_t sync_applied_seq(const struct sync_client *s);

/* What /metrics tells of the client. */
struct sync_stats {
	uint64_t applied_seq;	/* the last event applied */
	uint64_t head_seq;	/* the last the mother has, as last heard */
	uint64_t applied_total; /* events applied since the start */
	uint64_t refused_total; /* events refused since the start */
	int connected;		/* a session is established */
};

void sync_stats(const struct sync_client *s, struct sync_stats *out);

/* ---- reports to the mother (workspace/analytics.h) ---- */

/* Hands over a STATS report body (JSON, copied; at most
 * PROTO_MAX_STATS_BODY bytes) taken at time at: sent at once while a
 * session is established, else after the next WELCOME. The latest
 * report handed over is also sent again after every reconnect. */
void sync_send_stats(struct sync_client *s, const void *body, size_t len,
		     int64_t at);

/* The same for the head of the audit chain: entry seq with hash (64
 * hex digits). */
void sync_send_audit_head(struct sync_client *s, uint64_t seq,
			  const char *hash, int64_t at);

/* Closes the connection, waits for an event being applied to finish
 * (it commits or rolls back as a whole), closes the timers and frees the
 * client; done (may be NULL) runs then. The client must not be used
 * after this call. */
void sync_stop(struct sync_client *s, void (*done)(void *arg), void *arg);

#endif
