/*
 * The sync client's session with the mother, on the loop.
 *
 *                   sync_start
 *                       |
 *                       v          retry timer: 100 ms .. 10 s + jitter
 *       +---------->  IDLE  ---------------------------+
 *       |                                              v
 *       |                                         CONNECTING
 *       |                                              | connected
 *       |                                              v
 *       |                                          CHALLENGE
 *       |                          CHALLENGE with the  | pinned key:
 *       |                                              | send HELLO
 *       |                                              v
 *       |                                           WELCOME
 *       |                       WELCOME: backoff back  | to 100 ms
 *       |                                              v
 *       |                            +----------> STREAMING --+ duplicate:
 *       |                            |                 |   |  | ACK(applied)
 *       |                            |                 |   +--+ gap: RESUME,
 *       |                            |                 |        drop until
 *       |                            |                 |        applied + 1
 *       |                            | EVENT passes    | the loop's checks:
 *       |                            | committed:      | pause, queue job
 *       |                            | ACK(seq),       v
 *       |                            +--- resume -- APPLYING
 *       |                                              |
 *       |       error, timeout, ERROR frame, wrong key,| refused or failed:
 *       |       refused event (no ACK)                 v close, no ACK
 *       +------------ on_close -------------------- CLOSING
 *
 * Any state goes to CLOSING when the session must end, and to IDLE once
 * the connection reports on_close; the retry timer then dials again.
 * The mother resends from the last ACK, so nothing is lost by dropping a
 * session: a refused event is simply not acknowledged. An event being
 * applied keeps running when the connection drops; the next dial waits
 * for it so that HELLO names the right sequence number.
 *
 * Connection trouble is logged once per change (connected, disconnected,
 * a new reason for not connecting), not once per attempt. Every line
 * names the tenant.
 */
#include "workspace/sync.h"

#include "common/log.h"
#include "proto/conn.h"
#include "proto/proto.h"
#include "proto/tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_BACKOFF_MIN_MS 100u
#define SYNC_BACKOFF_MAX_MS 10000u
#define SYNC_HANDSHAKE_MS 10000u

enum sync_state {
	SYNC_IDLE,
	SYNC_CONNECTING,
	SYNC_CHALLENGE,
	SYNC_WELCOME,
	SYNC_STREAMING,
	SYNC_APPLYING,
	SYNC_CLOSING,
};

struct sync_client {
	uv_loop_t *loop;
	enum sync_state state;
	struct proto_conn *conn; /* NULL in IDLE */
	uv_timer_t retry_timer;
	uv_timer_t handshake_timer;

	char *tenant;
	char *mother_addr;	 /* as configured, for the log */
	const char *dial_addr;	 /* mother_addr without "tls://" */
	SSL_CTX *tls;		 /* pinning the mother key, or NULL */
	uint8_t mother_pub[CRYPTO_PUBKEY_LEN];
	const struct crypto_key *key;
	struct apply_ctx *apply;
	const struct lms_clock *clock;
	void (*on_applied)(void *arg);
	void *on_applied_arg;

	uint64_t applied;	 /* last event applied */
	uint64_t head_seq;	 /* last event the mother has, as known */
	uint64_t applied_total;	 /* events applied by this process */
	uint64_t refused_total;	 /* events refused by this process */
	int resuming;		 /* RESUME sent: drop until applied + 1 */
	struct apply_job *job;	 /* the event being applied, or NULL */
	int dial_after_apply;	 /* the retry timer fired during a job */
	int connect_status;	 /* from on_connect, for the log */

	unsigned backoff_ms;	 /* the next retry delay, before jitter */
	unsigned refusals;	 /* bad events or frames since the last
				  * applied event */
	int up_announced;	 /* "connected" logged, "disconnected" not */
	char last_problem[160];	 /* the last reason logged for being down */

	/* reports (see "reports to the mother" below) */
	uint8_t nonce[PROTO_NONCE_LEN]; /* the mother's, of this session */
	uint64_t report_counter;	/* the last report's in the session */
	struct buf stats;		/* the latest STATS body, or empty */
	int64_t stats_at;
	int has_audit;
	uint64_t audit_seq;
	char audit_hash[PROTO_HASH_HEX + 1];
	int64_t audit_at;

	int stopping;
	int handles_open;
	void (*stop_done)(void *arg);
	void *stop_arg;
};

static void sync_connect(struct sync_client *s);
static void sync_on_frame(struct proto_conn *c, const struct proto_frame *f);
static void sync_on_connect(struct proto_conn *c, int status);
static void sync_on_close(struct proto_conn *c, int reason);
static void sync_reports_flush(struct sync_client *s);

static const struct proto_conn_ops sync_conn_ops = {
	.on_frame = sync_on_frame,
	.on_connect = sync_on_connect,
	.on_close = sync_on_close,
};

/* Close reasons are libuv codes or PROTO_E* codes. */
static const char *sync_strerror(int code)
{
	if (code == 0)
		return "closed";
	if (code == UV_EOF)
		return "mother closed the connection";
	if (code == UV_ETIMEDOUT)
		return "timed out";
	if (proto_is_error(code))
		return proto_strerror(code);
	return uv_strerror(code);
}

/* Logs why the session is down, once per change of reason. */
static void sync_problem(struct sync_client *s, enum log_level level,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sync_problem(struct sync_client *s, enum log_level level,
			 const char *fmt, ...)
{
	char text[sizeof(s->last_problem)], quoted[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_quote(text, quoted, sizeof(quoted));

	if (s->up_announced) {
		log_msg(level, "msg=\"disconnected from mother\" tenant=%s "
			"mother=%s reason=%s", s->tenant, s->mother_addr,
			quoted);
		s->up_announced = 0;
	} else if (strcmp(text, s->last_problem)) {
		log_msg(level, "msg=\"cannot sync with mother\" tenant=%s "
			"mother=%s reason=%s", s->tenant, s->mother_addr,
			quoted);
	} else {
		log_debug("msg=\"still cannot sync with mother\" tenant=%s "
			  "reason=%s", s->tenant, quoted);
	}
	memcpy(s->last_problem, text, sizeof(text));
}

/* Ends the session; on_close follows and schedules the next dial. */
static void sync_drop(struct sync_client *s, int reason)
{
	if (!s->conn || s->state == SYNC_CLOSING)
		return;
	s->state = SYNC_CLOSING;
	proto_conn_close(s->conn, reason);
}

static int sync_send(struct sync_client *s, struct buf *frame)
{
	int rc = proto_conn_send(s->conn, frame);

	buf_release(frame);
	if (rc) {
		sync_problem(s, LOG_WARN, "cannot send: %s",
			     sync_strerror(rc));
		sync_drop(s, rc);
	}
	return rc;
}

/* ACK or RESUME with a sequence number. */
static void sync_send_seq(struct sync_client *s, uint8_t type, uint64_t seq)
{
	struct proto_seq m = { .seq = seq };
	struct buf b = { 0 };

	if (proto_write_seq(&b, type, &m)) {
		buf_release(&b);
		sync_drop(s, PROTO_ENOMEM);
		return;
	}
	sync_send(s, &b);
}

/* ---- dialling and backoff ---- */

static unsigned sync_next_delay(struct sync_client *s)
{
	unsigned delay = s->backoff_ms, jitter = 0;

	/* An event refused again and again must not turn into a tight
	 * reconnect loop just because every session reaches WELCOME. */
	if (s->refusals) {
		unsigned shift = s->refusals > 7 ? 7 : s->refusals;
		unsigned floor = SYNC_BACKOFF_MIN_MS << shift;

		if (delay < floor)
			delay = floor;
	}
	if (delay > SYNC_BACKOFF_MAX_MS)
		delay = SYNC_BACKOFF_MAX_MS;
	s->backoff_ms = delay * 2 > SYNC_BACKOFF_MAX_MS ? SYNC_BACKOFF_MAX_MS :
							  delay * 2;
	if (crypto_random(&jitter, sizeof(jitter)) == 0)
		delay += jitter % (delay / 4 + 1);
	return delay;
}

static void sync_on_retry(uv_timer_t *t)
{
	struct sync_client *s = t->data;

	if (s->stopping || s->conn)
		return;
	if (s->job) {
		s->dial_after_apply = 1;
		return;
	}
	sync_connect(s);
}

static void sync_schedule(struct sync_client *s)
{
	uv_timer_start(&s->retry_timer, sync_on_retry, sync_next_delay(s), 0);
}

static void sync_on_handshake_timeout(uv_timer_t *t)
{
	struct sync_client *s = t->data;

	if (s->state == SYNC_CONNECTING || s->state == SYNC_CHALLENGE ||
	    s->state == SYNC_WELCOME) {
		sync_problem(s, LOG_WARN, "no session within %u ms",
			     SYNC_HANDSHAKE_MS);
		sync_drop(s, UV_ETIMEDOUT);
	}
}

static void sync_connect(struct sync_client *s)
{
	struct proto_conn_opts opts = { .tls = s->tls };
	int rc;

	s->state = SYNC_CONNECTING;
	s->resuming = 0;
	s->connect_status = 0;
	rc = proto_conn_connect(s->loop, s->dial_addr, &sync_conn_ops, &opts,
				s, &s->conn);
	if (rc) {
		s->conn = NULL;
		s->state = SYNC_IDLE;
		sync_problem(s, LOG_WARN, "cannot connect: %s",
			     sync_strerror(rc));
		sync_schedule(s);
		return;
	}
	uv_timer_start(&s->handshake_timer, sync_on_handshake_timeout,
		       SYNC_HANDSHAKE_MS, 0);
}

static void sync_on_connect(struct proto_conn *c, int status)
{
	struct sync_client *s = proto_conn_data(c);

	if (status) {
		s->connect_status = status; /* on_close follows */
		return;
	}
	if (s->state == SYNC_CONNECTING)
		s->state = SYNC_CHALLENGE;
	log_debug("msg=\"connected, awaiting challenge\" tenant=%s peer=%s",
		  s->tenant, proto_conn_peer(c));
}

static void sync_maybe_finish(struct sync_client *s);

static void sync_on_close(struct proto_conn *c, int reason)
{
	struct sync_client *s = proto_conn_data(c);
	const char *tls_error = proto_conn_tls_error(c);
	enum sync_state was = s->state;

	s->conn = NULL;
	s->state = SYNC_IDLE;
	uv_timer_stop(&s->handshake_timer);
	if (s->stopping) {
		sync_maybe_finish(s);
		return;
	}
	/* A frame that cannot be decoded (too big, malformed) comes again
	 * on the next session, like a refused event: back off the same. */
	if (proto_is_error(reason))
		s->refusals++;
	if (was == SYNC_CONNECTING && tls_error)
		sync_problem(s, strcmp(tls_error, TLS_PIN_MISMATCH) ? LOG_WARN :
								     LOG_ERROR,
			     "mother %s", tls_error);
	else if (was == SYNC_CONNECTING)
		sync_problem(s, LOG_WARN, "cannot connect: %s",
			     sync_strerror(s->connect_status ?
						   s->connect_status :
						   reason));
	else if (was != SYNC_CLOSING)
		sync_problem(s, LOG_WARN, "connection lost: %s",
			     sync_strerror(reason));
	sync_schedule(s);
}

/* ---- the handshake ---- */

static void sync_on_challenge(struct sync_client *s,
			      const struct proto_frame *f)
{
	struct proto_challenge ch;
	struct proto_hello hello;
	struct buf b = { 0 };
	int rc;

	if (f->type != PROTO_CHALLENGE) {
		sync_problem(s, LOG_WARN, "expected CHALLENGE, got type %u",
			     f->type);
		sync_drop(s, PROTO_ETYPE);
		return;
	}
	rc = proto_read_challenge(f->payload, f->len, &ch);
	if (rc) {
		sync_problem(s, LOG_WARN, "bad CHALLENGE: %s",
			     proto_strerror(rc));
		sync_drop(s, rc);
		return;
	}
	if (crypto_memcmp(ch.mother_pub, s->mother_pub, CRYPTO_PUBKEY_LEN)) {
		sync_problem(s, LOG_ERROR,
			     "mother key does not match the pinned key");
		sync_drop(s, 0);
		return;
	}

	memcpy(s->nonce, ch.nonce, sizeof(s->nonce));
	s->report_counter = 0;
	memset(&hello, 0, sizeof(hello));
	hello.version = PROTO_VERSION;
	snprintf(hello.tenant, sizeof(hello.tenant), "%s", s->tenant);
	hello.last_seq = s->applied;
	rc = proto_hello_sign(&hello, ch.nonce, s->key);
	if (!rc)
		rc = proto_write_hello(&b, &hello);
	if (rc) {
		buf_release(&b);
		sync_problem(s, LOG_ERROR, "cannot sign HELLO: %s",
			     proto_strerror(rc));
		sync_drop(s, rc);
		return;
	}
	if (sync_send(s, &b) == 0)
		s->state = SYNC_WELCOME;
}

static void sync_on_welcome(struct sync_client *s,
			    const struct proto_frame *f)
{
	struct proto_welcome w;
	int rc;

	if (f->type != PROTO_WELCOME) {
		sync_problem(s, LOG_WARN, "expected WELCOME, got type %u",
			     f->type);
		sync_drop(s, PROTO_ETYPE);
		return;
	}
	rc = proto_read_welcome(f->payload, f->len, &w);
	if (rc) {
		sync_problem(s, LOG_WARN, "bad WELCOME: %s",
			     proto_strerror(rc));
		sync_drop(s, rc);
		return;
	}

	uv_timer_stop(&s->handshake_timer);
	s->state = SYNC_STREAMING;
	s->backoff_ms = SYNC_BACKOFF_MIN_MS;
	s->last_problem[0] = 0;
	if (!s->up_announced)
		log_info("msg=\"connected to mother\" tenant=%s mother=%s "
			 "tls=%s applied_seq=%llu head_seq=%llu", s->tenant,
			 s->mother_addr, s->tls ? "on" : "off",
			 (unsigned long long)s->applied,
			 (unsigned long long)w.head_seq);
	s->up_announced = 1;
	s->head_seq = w.head_seq;
	if (w.head_seq < s->applied)
		log_warn("msg=\"mother stream is behind this workspace\" "
			 "tenant=%s applied_seq=%llu head_seq=%llu",
			 s->tenant, (unsigned long long)s->applied,
			 (unsigned long long)w.head_seq);
	sync_reports_flush(s);
}

static void sync_on_error_frame(struct sync_client *s,
				const struct proto_frame *f)
{
	struct proto_errmsg e;

	if (proto_read_error(f->payload, f->len, &e))
		sync_problem(s, LOG_ERROR, "mother sent a malformed ERROR");
	else
		sync_problem(s, LOG_ERROR, "mother says: %s (code %u)",
			     e.message, (unsigned)e.code);
	sync_drop(s, 0);
}

/* ---- events ---- */

/* Logs the refusal, does not acknowledge, and ends the session. */
static void sync_refuse(struct sync_client *s, const struct proto_event *ev,
			const char *reason)
{
	char quoted[300];

	log_warn("msg=\"event refused\" tenant=%s seq=%llu course=%s "
		 "reason=%s", s->tenant,
		 (unsigned long long)(ev ? ev->seq : 0),
		 ev && *ev->course ? ev->course : "-",
		 log_quote(reason, quoted, sizeof(quoted)));
	s->refusals++;
	s->refused_total++;
	sync_drop(s, 0);
}

/* The checks that need neither the repository nor the database, cheap
 * ones first. 0: apply it; 1: handled here (duplicate, gap); -1:
 * refused and the session is ending. */
static int sync_check_event(struct sync_client *s,
			    const struct proto_event_msg *m)
{
	const struct proto_event *ev = &m->ev;
	uint8_t digest[CRYPTO_SHA256_LEN];
	char why[160];

	if (proto_event_verify(ev, s->mother_pub, m->sig)) {
		sync_refuse(s, ev, "signature does not verify");
		return -1;
	}
	if (strcmp(ev->tenant, s->tenant)) {
		snprintf(why, sizeof(why), "event for tenant %s", ev->tenant);
		sync_refuse(s, ev, why);
		return -1;
	}
	if (ev->seq <= s->applied) {
		log_info("msg=\"duplicate event ignored\" tenant=%s seq=%llu "
			 "applied_seq=%llu", s->tenant,
			 (unsigned long long)ev->seq,
			 (unsigned long long)s->applied);
		sync_send_seq(s, PROTO_ACK, s->applied);
		return 1;
	}
	if (ev->seq > s->applied + 1) {
		log_info("msg=\"gap in event stream, resuming\" tenant=%s "
			 "seq=%llu applied_seq=%llu", s->tenant,
			 (unsigned long long)ev->seq,
			 (unsigned long long)s->applied);
		s->resuming = 1;
		sync_send_seq(s, PROTO_RESUME, s->applied);
		return 1;
	}
	if (ev->kind != PROTO_KIND_REVISION) {
		snprintf(why, sizeof(why), "unknown event kind %u", ev->kind);
		sync_refuse(s, ev, why);
		return -1;
	}
	if (ev->expiry < clock_now(s->clock)) {
		sync_refuse(s, ev, "event expired");
		return -1;
	}
	crypto_sha256(m->pack, m->pack_len, digest);
	if (m->pack_len != ev->pack_len ||
	    crypto_memcmp(digest, ev->pack_sha256, sizeof(digest))) {
		sync_refuse(s, ev, "pack does not match its hash or length");
		return -1;
	}
	return 0;
}

static void sync_on_applied(struct apply_job *job);

/* Hands the event to the thread pool; frames wait until it is done. */
static void sync_apply(struct sync_client *s, const struct proto_event_msg *m)
{
	struct apply_job *job;

	job = apply_job_new(s->apply, &m->ev, m->pack, m->pack_len,
			    clock_now(s->clock));
	if (!job) {
		sync_problem(s, LOG_ERROR, "out of memory for an event");
		sync_drop(s, PROTO_ENOMEM);
		return;
	}
	job->data = s;
	if (apply_start(s->loop, job, sync_on_applied)) {
		apply_job_free(job);
		sync_problem(s, LOG_ERROR, "cannot queue an event");
		sync_drop(s, 0);
		return;
	}
	s->job = job;
	s->state = SYNC_APPLYING;
	proto_conn_pause(s->conn);
}

static void sync_on_event(struct sync_client *s, const struct proto_frame *f)
{
	struct proto_event_msg m;
	char why[96];
	int rc;

	rc = proto_read_event(f->payload, f->len, &m);
	if (rc) {
		snprintf(why, sizeof(why), "malformed event: %s",
			 proto_strerror(rc));
		sync_refuse(s, NULL, why);
		return;
	}
	if (m.ev.seq > s->head_seq)
		s->head_seq = m.ev.seq;
	if (s->resuming && m.ev.seq != s->applied + 1) {
		log_debug("msg=\"event dropped while resuming\" tenant=%s "
			  "seq=%llu", s->tenant,
			  (unsigned long long)m.ev.seq);
		return;
	}
	if (sync_check_event(s, &m))
		return;
	s->resuming = 0;
	sync_apply(s, &m);
}

static void sync_on_applied(struct apply_job *job)
{
	struct sync_client *s = job->data;
	const struct proto_event *ev = &job->ev;
	int live = s->conn && s->state == SYNC_APPLYING;
	char quoted[300];

	s->job = NULL;
	if (job->result == APPLY_DONE) {
		s->applied = ev->seq;
		s->applied_total++;
		s->refusals = 0;
		log_info("msg=\"event applied\" tenant=%s seq=%llu course=%s "
			 "revision=%s", s->tenant,
			 (unsigned long long)ev->seq, ev->course,
			 ev->new_rev);
		if (s->on_applied)
			s->on_applied(s->on_applied_arg);
		if (live) {
			s->state = SYNC_STREAMING;
			sync_send_seq(s, PROTO_ACK, ev->seq);
			if (s->conn && s->state == SYNC_STREAMING)
				proto_conn_resume(s->conn);
		}
	} else if (job->result == APPLY_REFUSED) {
		if (live)
			sync_refuse(s, ev, job->reason);
		else {
			log_warn("msg=\"event refused\" tenant=%s seq=%llu "
				 "course=%s reason=%s", s->tenant,
				 (unsigned long long)ev->seq, ev->course,
				 log_quote(job->reason, quoted,
					   sizeof(quoted)));
			s->refusals++;
			s->refused_total++;
		}
	} else {
		log_error("msg=\"event not applied\" tenant=%s seq=%llu "
			  "course=%s reason=%s", s->tenant,
			  (unsigned long long)ev->seq, ev->course,
			  log_quote(job->reason, quoted, sizeof(quoted)));
		s->refusals++;
		if (live)
			sync_drop(s, 0);
	}
	apply_job_free(job);

	if (s->stopping)
		sync_maybe_finish(s);
	else if (!s->conn && s->dial_after_apply) {
		s->dial_after_apply = 0;
		sync_connect(s);
	}
}

static void sync_on_frame(struct proto_conn *c, const struct proto_frame *f)
{
	struct sync_client *s = proto_conn_data(c);

	if (s->state == SYNC_CLOSING)
		return;
	if (f->type == PROTO_ERROR) {
		sync_on_error_frame(s, f);
		return;
	}
	switch (s->state) {
	case SYNC_CHALLENGE:
		sync_on_challenge(s, f);
		break;
	case SYNC_WELCOME:
		sync_on_welcome(s, f);
		break;
	case SYNC_STREAMING:
		if (f->type == PROTO_EVENT) {
			sync_on_event(s, f);
			break;
		}
		sync_problem(s, LOG_WARN, "unexpected frame type %u",
			     f->type);
		sync_drop(s, PROTO_ETYPE);
		break;
	default:
		/* Paused connections deliver nothing; a frame here is the
		 * connection's bug, and dropping the session is safe. */
		sync_problem(s, LOG_ERROR, "frame type %u while applying",
			     f->type);
		sync_drop(s, PROTO_ETYPE);
		break;
	}
}

/* ---- reports to the mother ----
 *
 * The latest STATS body and audit head handed over are kept and sent
 * after every WELCOME, signed over the session's nonce and a counter
 * that grows with each report in the session (proto/proto.h). */

static int sync_session_up(const struct sync_client *s)
{
	return s->conn && (s->state == SYNC_STREAMING ||
			   s->state == SYNC_APPLYING);
}

static void sync_report_stats(struct sync_client *s)
{
	struct proto_stats m = { .version = PROTO_VERSION };
	struct buf b = { 0 };
	int rc;

	snprintf(m.tenant, sizeof(m.tenant), "%s", s->tenant);
	m.counter = ++s->report_counter;
	m.time = s->stats_at;
	m.body = s->stats.data;
	m.body_len = s->stats.len;
	rc = proto_stats_sign(&m, s->nonce, s->key);
	if (!rc)
		rc = proto_write_stats(&b, &m);
	if (rc) {
		buf_release(&b);
		log_error("msg=\"cannot send stats\" tenant=%s error=\"%s\"",
			  s->tenant, proto_strerror(rc));
		return;
	}
	if (sync_send(s, &b) == 0)
		log_debug("msg=\"stats sent\" tenant=%s bytes=%zu",
			  s->tenant, s->stats.len);
}

static void sync_report_head(struct sync_client *s)
{
	struct proto_audit_head m = { .version = PROTO_VERSION };
	struct buf b = { 0 };
	int rc;

	snprintf(m.tenant, sizeof(m.tenant), "%s", s->tenant);
	m.counter = ++s->report_counter;
	m.seq = s->audit_seq;
	memcpy(m.hash, s->audit_hash, sizeof(m.hash));
	m.time = s->audit_at;
	rc = proto_audit_head_sign(&m, s->nonce, s->key);
	if (!rc)
		rc = proto_write_audit_head(&b, &m);
	if (rc) {
		buf_release(&b);
		log_error("msg=\"cannot send the audit head\" tenant=%s "
			  "error=\"%s\"", s->tenant, proto_strerror(rc));
		return;
	}
	if (sync_send(s, &b) == 0)
		log_info("msg=\"audit head sent\" tenant=%s seq=%llu",
			 s->tenant, (unsigned long long)s->audit_seq);
}

static void sync_reports_flush(struct sync_client *s)
{
	if (s->stats.len && sync_session_up(s))
		sync_report_stats(s);
	if (s->has_audit && sync_session_up(s))
		sync_report_head(s);
}

void sync_send_stats(struct sync_client *s, const void *body, size_t len,
		     int64_t at)
{
	if (!s || len == 0 || len > PROTO_MAX_STATS_BODY) {
		if (s)
			log_error("msg=\"stats report too large, not sent\" "
				  "tenant=%s bytes=%zu", s->tenant, len);
		return;
	}
	buf_reset(&s->stats);
	if (buf_append(&s->stats, body, len)) {
		buf_reset(&s->stats);
		return;
	}
	s->stats_at = at;
	if (sync_session_up(s))
		sync_report_stats(s);
}

void sync_send_audit_head(struct sync_client *s, uint64_t seq,
			  const char *hash, int64_t at)
{
	if (!s || strlen(hash) != PROTO_HASH_HEX)
		return;
	s->has_audit = 1;
	s->audit_seq = seq;
	memcpy(s->audit_hash, hash, sizeof(s->audit_hash));
	s->audit_at = at;
	if (sync_session_up(s))
		sync_report_head(s);
}

/* ---- life cycle ---- */

/* For "tls://HOST:PORT", a TLS context that accepts only a mother whose
 * certificate holds the pinned key. */
static int sync_tls_setup(struct sync_client *s)
{
	uint8_t pin[CRYPTO_SHA256_LEN];

	if (!tls_split_addr(s->mother_addr, &s->dial_addr))
		return 0;
	crypto_sha256(s->mother_pub, CRYPTO_PUBKEY_LEN, pin);
	return tls_client_ctx_new(pin, &s->tls);
}

int sync_start(uv_loop_t *loop, const struct sync_config *cfg,
	       struct sync_client **out)
{
	struct sync_client *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->tenant = strdup(cfg->tenant);
	s->mother_addr = strdup(cfg->mother_addr);
	memcpy(s->mother_pub, cfg->mother_pub, CRYPTO_PUBKEY_LEN);
	if (!s->tenant || !s->mother_addr || sync_tls_setup(s)) {
		free(s->tenant);
		free(s->mother_addr);
		free(s);
		return -1;
	}
	s->loop = loop;
	s->key = cfg->key;
	s->apply = cfg->apply;
	s->clock = cfg->clock;
	s->applied = cfg->applied_seq;
	s->on_applied = cfg->on_applied;
	s->on_applied_arg = cfg->on_applied_arg;
	s->backoff_ms = SYNC_BACKOFF_MIN_MS;

	uv_timer_init(loop, &s->retry_timer);
	uv_timer_init(loop, &s->handshake_timer);
	s->retry_timer.data = s;
	s->handshake_timer.data = s;
	s->handles_open = 2;
	uv_timer_start(&s->retry_timer, sync_on_retry, 0, 0);
	*out = s;
	return 0;
}

int sync_connected(const struct sync_client *s)
{
	return s->state == SYNC_STREAMING || s->state == SYNC_APPLYING;
}

uint64_t sync_applied_seq(const struct sync_client *s)
{
	return s->applied;
}

void sync_stats(const struct sync_client *s, struct sync_stats *out)
{
	out->applied_seq = s->applied;
	out->head_seq = s->head_seq > s->applied ? s->head_seq : s->applied;
	out->applied_total = s->applied_total;
	out->refused_total = s->refused_total;
	out->connected = sync_connected(s);
}

static void sync_on_handle_closed(uv_handle_t *h)
{
	struct sync_client *s = h->data;

	if (--s->handles_open > 0)
		return;
	if (s->stop_done)
		s->stop_done(s->stop_arg);
	tls_ctx_free(s->tls); /* the connection is gone */
	buf_release(&s->stats);
	free(s->tenant);
	free(s->mother_addr);
	free(s);
}

/* Frees the client once the connection and any job are gone. */
static void sync_maybe_finish(struct sync_client *s)
{
	if (!s->stopping || s->conn || s->job ||
	    uv_is_closing((uv_handle_t *)&s->retry_timer))
		return;
	uv_close((uv_handle_t *)&s->retry_timer, sync_on_handle_closed);
	uv_close((uv_handle_t *)&s->handshake_timer, sync_on_handle_closed);
}

void sync_stop(struct sync_client *s, void (*done)(void *arg), void *arg)
{
	s->stopping = 1;
	s->stop_done = done;
	s->stop_arg = arg;
	uv_timer_stop(&s->retry_timer);
	uv_timer_stop(&s->handshake_timer);
	if (s->job)
		log_info("msg=\"waiting for the event being applied\" "
			 "tenant=%s seq=%llu", s->tenant,
			 (unsigned long long)s->job->ev.seq);
	if (s->conn) {
		if (s->up_announced)
			log_info("msg=\"disconnecting from mother\" "
				 "tenant=%s", s->tenant);
		sync_drop(s, 0);
	}
	sync_maybe_finish(s);
}
