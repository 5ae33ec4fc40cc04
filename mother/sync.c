/*
 * The mother's sync server. See sync.h for the session state diagram.
 */
#include "mother/sync.h"

#include "common/crypto.h"
#include "common/db.h"
#include "common/http.h"
#include "common/log.h"
#include "common/metrics.h"
#include "mother/audithead.h"
#include "mother/stats.h"
#include "mother/store.h"
#include "proto/conn.h"
#include "proto/proto.h"

#include <stdlib.h>
#include <string.h>

#define SYNC_WINDOW 32		   /* events sent and not yet acknowledged */
#define SYNC_MAX_PENDING (8u << 20) /* bytes queued per session */
#define SYNC_EXPIRY_S 3600	   /* an event is refused after this */
#define SYNC_CHECK_MS 1000	   /* look for missed pokes */
#define SYNC_ACK_FLUSH_MS 20	   /* batch acknowledgements */
#define SYNC_HANDSHAKE_MS 10000	   /* to enroll or say HELLO */
#define SYNC_STATS_PER_MIN 120	   /* more STATS in a minute: dropped */

enum sync_state { SYNC_CHALLENGED, SYNC_STREAMING };

struct sync_session {
	struct sync_server *server;
	struct proto_conn *conn;
	enum sync_state state;
	uint64_t accepted_ms; /* uv_now when accepted */
	uint8_t nonce[PROTO_NONCE_LEN];
	char tenant[65];
	uint64_t next_seq; /* next event to send */
	uint64_t head;	   /* last event in the stream */
	uint64_t acked;	   /* last event the workspace applied */
	uint64_t acked_stored;
	uint8_t workspace_pub[CRYPTO_PUBKEY_LEN]; /* from HELLO on */
	uint64_t report_counter; /* the last report's; 0 before one */
	uint64_t stats_minute;	 /* uv_now / 60000 the count is of */
	unsigned stats_count;	 /* STATS received in that minute */
	struct sync_session *next;
};

/* Events sent per tenant since the daemon started, for /metrics. */
struct sync_sent {
	char tenant[65];
	uint64_t events;
	struct sync_sent *next;
};

struct sync_server {
	uv_loop_t *loop;
	struct mother *m;
	SSL_CTX *tls; /* NULL: plain TCP */
	uv_tcp_t tcp;
	uv_timer_t check;
	uv_timer_t flush;
	struct sync_session *sessions;
	struct sync_sent *sent;
	int handles; /* open while stopping */
	void (*done)(void *);
	void *done_arg;
};

static void sync_pump(struct sync_session *s);

/* ---- sessions ---- */

static void sync_unlink(struct sync_session *s)
{
	struct sync_session **p = &s->server->sessions;

	while (*p && *p != s)
		p = &(*p)->next;
	if (*p)
		*p = s->next;
}

static void sync_store_acks(struct sync_session *s)
{
	struct mother *m = s->server->m;

	if (s->state != SYNC_STREAMING || s->acked <= s->acked_stored)
		return;
	if (store_ack(m->db, s->tenant, s->acked, clock_now(&m->clock)))
		return; /* kept in memory; retried with the next flush */
	s->acked_stored = s->acked;
}

static void sync_flush_cb(uv_timer_t *t)
{
	struct sync_server *srv = t->data;

	for (struct sync_session *s = srv->sessions; s; s = s->next)
		sync_store_acks(s);
}

static void sync_fail(struct sync_session *s, uint32_t code, const char *why)
{
	struct proto_errmsg e = { .code = code };
	struct buf frame;

	buf_init(&frame);
	snprintf(e.message, sizeof(e.message), "%s", why);
	if (!proto_write_error(&frame, &e))
		proto_conn_send(s->conn, &frame);
	buf_release(&frame);
	log_warn("msg=\"sync session refused\" peer=%s tenant=%s reason=\"%s\"",
		 proto_conn_peer(s->conn), *s->tenant ? s->tenant : "-", why);
	proto_conn_close(s->conn, 0);
}

static void sync_count_sent(struct sync_session *s)
{
	struct sync_server *srv = s->server;
	struct sync_sent *c;

	for (c = srv->sent; c; c = c->next)
		if (!strcmp(c->tenant, s->tenant))
			break;
	if (!c && (c = calloc(1, sizeof(*c)))) {
		snprintf(c->tenant, sizeof(c->tenant), "%s", s->tenant);
		c->next = srv->sent;
		srv->sent = c;
	}
	if (c)
		c->events++;
}

static int sync_send_event(struct sync_session *s, const struct store_event *e)
{
	struct mother *m = s->server->m;
	uint8_t sig[CRYPTO_SIG_LEN];
	struct proto_event ev;
	struct buf frame;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.version = PROTO_VERSION;
	snprintf(ev.tenant, sizeof(ev.tenant), "%s", s->tenant);
	ev.seq = e->seq;
	snprintf(ev.course, sizeof(ev.course), "%s", e->course);
	snprintf(ev.prev_rev, sizeof(ev.prev_rev), "%s", e->prev_rev);
	snprintf(ev.new_rev, sizeof(ev.new_rev), "%s", e->new_rev);
	ev.kind = (uint8_t)e->kind;
	ev.time = e->time;
	ev.expiry = clock_now(&m->clock) + SYNC_EXPIRY_S;
	memcpy(ev.pack_sha256, e->pack_sha256, sizeof(ev.pack_sha256));
	ev.pack_len = e->pack.len;

	buf_init(&frame);
	rc = proto_event_sign(&ev, m->key, sig);
	if (!rc)
		rc = proto_write_event(&frame, &ev, sig, e->pack.data,
				       e->pack.len);
	if (!rc)
		rc = proto_conn_send(s->conn, &frame);
	buf_release(&frame);
	if (!rc) {
		sync_count_sent(s);
		log_debug("msg=\"event sent\" tenant=%s seq=%llu course=%s "
			  "bytes=%zu", s->tenant, (unsigned long long)e->seq,
			  e->course, e->pack.len);
	}
	return rc;
}

static void sync_on_drain(struct proto_conn *c)
{
	sync_pump(proto_conn_data(c));
}

/* Sends what the window and the write queue allow. */
static void sync_pump(struct sync_session *s)
{
	sqlite3 *db = s->server->m->db;
	struct store_event e;

	while (s->next_seq <= s->head &&
	       s->next_seq - s->acked <= SYNC_WINDOW) {
		if (proto_conn_pending(s->conn) > SYNC_MAX_PENDING) {
			proto_conn_on_drain(s->conn, sync_on_drain);
			return;
		}
		if (store_load_event(db, s->tenant, s->next_seq, &e)) {
			log_error("msg=\"event missing from stream\" tenant=%s "
				  "seq=%llu", s->tenant,
				  (unsigned long long)s->next_seq);
			return;
		}
		if (sync_send_event(s, &e)) {
			buf_release(&e.pack);
			proto_conn_close(s->conn, 0);
			return;
		}
		buf_release(&e.pack);
		s->next_seq++;
	}
}

static void sync_refresh(struct sync_session *s)
{
	uint64_t head;

	if (s->state != SYNC_STREAMING)
		return;
	if (!store_stream_head(s->server->m->db, s->tenant, &head))
		s->head = head;
	sync_pump(s);
}

/* ---- handshake ---- */

static void sync_enroll(struct sync_session *s, const struct proto_frame *f)
{
	struct mother *m = s->server->m;
	struct proto_enrolled ok;
	struct proto_enroll req;
	const char *reason = "internal error";
	struct buf frame;
	int rc;

	if (proto_read_enroll(f->payload, f->len, &req)) {
		sync_fail(s, PROTO_ERR_PROTOCOL, "malformed enrollment");
		return;
	}
	memset(&ok, 0, sizeof(ok));
	rc = store_redeem_token(m->db, req.token, clock_now(&m->clock),
				req.workspace_pub, ok.tenant, &reason);
	if (rc) {
		sync_fail(s, rc > 0 ? PROTO_ERR_TOKEN : PROTO_ERR_INTERNAL,
			  reason);
		return;
	}
	buf_init(&frame);
	if (proto_enrolled_sign(&ok, &req, m->key) ||
	    proto_write_enrolled(&frame, &ok) ||
	    proto_conn_send(s->conn, &frame)) {
		buf_release(&frame);
		sync_fail(s, PROTO_ERR_INTERNAL, "internal error");
		return;
	}
	buf_release(&frame);
	log_info("msg=\"tenant enrolled\" tenant=%s peer=%s", ok.tenant,
		 proto_conn_peer(s->conn));
	proto_conn_close(s->conn, 0);
}

/* A tenant has at most one session: a new one replaces the old. */
static void sync_replace_old(struct sync_session *s)
{
	for (struct sync_session *o = s->server->sessions; o; o = o->next)
		if (o != s && o->state == SYNC_STREAMING &&
		    !strcmp(o->tenant, s->tenant)) {
			log_info("msg=\"replacing older session\" tenant=%s",
				 s->tenant);
			proto_conn_close(o->conn, 0);
		}
}

static int sync_welcome(struct sync_session *s, uint64_t last_seq)
{
	struct proto_welcome w;
	struct buf frame;
	int rc;

	if (store_stream_head(s->server->m->db, s->tenant, &s->head))
		return -1;
	if (last_seq > s->head) {
		sync_fail(s, PROTO_ERR_PROTOCOL,
			  "workspace claims events the mother never wrote");
		return 1;
	}
	s->state = SYNC_STREAMING;
	s->next_seq = last_seq + 1;
	s->acked = last_seq;
	w.head_seq = s->head;
	buf_init(&frame);
	rc = proto_write_welcome(&frame, &w);
	if (!rc)
		rc = proto_conn_send(s->conn, &frame);
	buf_release(&frame);
	return rc ? -1 : 0;
}

static void sync_hello(struct sync_session *s, const struct proto_frame *f)
{
	uint8_t pub[CRYPTO_PUBKEY_LEN];
	struct proto_hello h;
	int rc;

	if (proto_read_hello(f->payload, f->len, &h)) {
		sync_fail(s, PROTO_ERR_PROTOCOL, "malformed hello");
		return;
	}
	snprintf(s->tenant, sizeof(s->tenant), "%s", h.tenant);
	if (store_tenant_key(s->server->m->db, h.tenant, pub) ||
	    proto_hello_verify(&h, s->nonce, pub)) {
		sync_fail(s, PROTO_ERR_AUTH, "unknown tenant or bad signature");
		return;
	}
	memcpy(s->workspace_pub, pub, sizeof(pub));
	rc = sync_welcome(s, h.last_seq);
	if (rc < 0) {
		sync_fail(s, PROTO_ERR_INTERNAL, "internal error");
		return;
	}
	if (rc > 0)
		return;
	sync_replace_old(s);
	store_touch(s->server->m->db, s->tenant,
		    clock_now(&s->server->m->clock));
	log_info("msg=\"tenant connected\" tenant=%s peer=%s applied=%llu "
		 "head=%llu", s->tenant, proto_conn_peer(s->conn),
		 (unsigned long long)h.last_seq, (unsigned long long)s->head);
	s->acked_stored = 0;
	sync_store_acks(s);
	sync_pump(s);
}

/* ---- streaming ---- */

static void sync_ack(struct sync_session *s, const struct proto_frame *f,
		     int resume)
{
	struct proto_seq m;

	if (proto_read_seq(f->payload, f->len, &m) || m.seq >= s->next_seq ||
	    (resume && m.seq < s->acked)) {
		sync_fail(s, PROTO_ERR_PROTOCOL,
			  "acknowledgement out of range");
		return;
	}
	if (m.seq > s->acked) {
		s->acked = m.seq;
		if (!uv_is_active((uv_handle_t *)&s->server->flush))
			uv_timer_start(&s->server->flush, sync_flush_cb,
				       SYNC_ACK_FLUSH_MS, 0);
	}
	if (resume) {
		log_info("msg=\"resume requested\" tenant=%s seq=%llu",
			 s->tenant, (unsigned long long)m.seq);
		s->next_seq = m.seq + 1;
	}
	sync_pump(s);
}

/* ---- reports ---- */

/* The checks every report passes: its tenant is the session's and its
 * counter is past the last one. 0, or -1 after ending the session. */
static int sync_report_check(struct sync_session *s, const char *tenant,
			     uint64_t counter)
{
	if (strcmp(tenant, s->tenant)) {
		sync_fail(s, PROTO_ERR_AUTH, "report for another tenant");
		return -1;
	}
	if (counter <= s->report_counter) {
		sync_fail(s, PROTO_ERR_PROTOCOL, "report replayed");
		return -1;
	}
	return 0;
}

static void sync_stats(struct sync_session *s, const struct proto_frame *f)
{
	struct mother *m = s->server->m;
	uint64_t now_ms = uv_now(s->server->loop);
	struct proto_stats st;
	const char *why = NULL;
	int rc;

	if (proto_read_stats(f->payload, f->len, &st)) {
		sync_fail(s, PROTO_ERR_PROTOCOL, "malformed stats");
		return;
	}
	if (proto_stats_verify(&st, s->nonce, s->workspace_pub)) {
		sync_fail(s, PROTO_ERR_AUTH, "stats signature does not verify");
		return;
	}
	if (sync_report_check(s, st.tenant, st.counter))
		return;
	s->report_counter = st.counter;
	store_touch(m->db, s->tenant, clock_now(&m->clock));
	if (now_ms / 60000 != s->stats_minute) {
		s->stats_minute = now_ms / 60000;
		s->stats_count = 0;
	}
	if (++s->stats_count > SYNC_STATS_PER_MIN) {
		sync_fail(s, PROTO_ERR_PROTOCOL, "too many stats reports");
		return;
	}
	rc = stats_store(m->db, s->tenant, clock_now(&m->clock), st.body,
			 st.body_len, &why);
	if (rc > 0)
		log_warn("msg=\"stats refused\" tenant=%s reason=\"%s\"",
			 s->tenant, why);
	else if (rc == 0)
		log_debug("msg=\"stats stored\" tenant=%s bytes=%zu",
			  s->tenant, st.body_len);
}

static void sync_audit_head(struct sync_session *s,
			    const struct proto_frame *f)
{
	struct mother *m = s->server->m;
	struct proto_audit_head h;

	if (proto_read_audit_head(f->payload, f->len, &h)) {
		sync_fail(s, PROTO_ERR_PROTOCOL, "malformed audit head");
		return;
	}
	if (proto_audit_head_verify(&h, s->nonce, s->workspace_pub)) {
		sync_fail(s, PROTO_ERR_AUTH,
			  "audit head signature does not verify");
		return;
	}
	if (sync_report_check(s, h.tenant, h.counter))
		return;
	s->report_counter = h.counter;
	store_touch(m->db, s->tenant, clock_now(&m->clock));
	audithead_store(m->db, &h, s->nonce, clock_now(&m->clock));
}

static void sync_on_frame(struct proto_conn *c, const struct proto_frame *f)
{
	struct sync_session *s = proto_conn_data(c);

	if (s->state == SYNC_CHALLENGED && f->type == PROTO_ENROLL)
		sync_enroll(s, f);
	else if (s->state == SYNC_CHALLENGED && f->type == PROTO_HELLO)
		sync_hello(s, f);
	else if (s->state == SYNC_STREAMING && f->type == PROTO_ACK)
		sync_ack(s, f, 0);
	else if (s->state == SYNC_STREAMING && f->type == PROTO_RESUME)
		sync_ack(s, f, 1);
	else if (s->state == SYNC_STREAMING && f->type == PROTO_STATS)
		sync_stats(s, f);
	else if (s->state == SYNC_STREAMING && f->type == PROTO_AUDIT_HEAD)
		sync_audit_head(s, f);
	else
		sync_fail(s, PROTO_ERR_PROTOCOL, "unexpected frame");
}

static void sync_server_release(struct sync_server *srv);

/* Close reasons are 0, a PROTO_E* code or a libuv code. */
static const char *sync_reason(int reason)
{
	if (reason == 0)
		return "closed";
	if (proto_is_error(reason))
		return proto_strerror(reason);
	return uv_strerror(reason);
}

static void sync_on_close(struct proto_conn *c, int reason)
{
	struct sync_session *s = proto_conn_data(c);
	struct sync_server *srv = s->server;

	sync_store_acks(s);
	if (s->state == SYNC_STREAMING)
		log_info("msg=\"tenant disconnected\" tenant=%s reason=\"%s\"",
			 s->tenant, sync_reason(reason));
	sync_unlink(s);
	free(s);
	if (srv->done && --srv->handles == 0)
		sync_server_release(srv);
}

static const struct proto_conn_ops sync_conn_ops = {
	.on_frame = sync_on_frame,
	.on_close = sync_on_close,
};

/* A workspace never sends an EVENT: every frame it may send is a control
 * frame or a STATS report (PROTO_MAX_STATS), so nothing larger is
 * buffered from an unknown peer. */
static const struct proto_conn_opts sync_conn_opts = {
	.max_frame = PROTO_MAX_CONTROL,
};

static int sync_challenge(struct sync_session *s)
{
	struct proto_challenge ch = { .version = PROTO_VERSION };
	struct buf frame;
	int rc;

	if (crypto_random(s->nonce, sizeof(s->nonce)))
		return -1;
	memcpy(ch.nonce, s->nonce, sizeof(ch.nonce));
	memcpy(ch.mother_pub, s->server->m->pub, sizeof(ch.mother_pub));
	buf_init(&frame);
	rc = proto_write_challenge(&frame, &ch);
	if (!rc)
		rc = proto_conn_send(s->conn, &frame);
	buf_release(&frame);
	return rc;
}

static void sync_on_connection(uv_stream_t *server, int status)
{
	struct sync_server *srv = server->data;
	struct proto_conn_opts opts = sync_conn_opts;
	struct sync_session *s;

	if (status < 0 || srv->done)
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	s->server = srv;
	s->accepted_ms = uv_now(srv->loop);
	opts.tls = srv->tls;
	if (proto_conn_accept(server, &sync_conn_ops, &opts, s, &s->conn)) {
		free(s);
		return;
	}
	s->next = srv->sessions;
	srv->sessions = s;
	if (sync_challenge(s))
		proto_conn_close(s->conn, 0);
}

/* ---- server ---- */

/* Drops peers that neither enroll nor say HELLO in time (pings would
 * otherwise keep them forever), then looks for missed pokes. */
static void sync_check_cb(uv_timer_t *t)
{
	struct sync_server *srv = t->data;
	uint64_t now = uv_now(srv->loop);
	struct sync_session *s, *next;

	for (s = srv->sessions; s; s = next) {
		next = s->next;
		if (s->state == SYNC_CHALLENGED &&
		    now - s->accepted_ms > SYNC_HANDSHAKE_MS)
			sync_fail(s, PROTO_ERR_PROTOCOL, "handshake timed out");
	}
	sync_server_poke(srv);
}

int sync_server_start(uv_loop_t *loop, struct mother *m, const char *addr,
		      SSL_CTX *tls, struct sync_server **out)
{
	struct sockaddr_storage sa;
	struct sync_server *srv;
	int rc;

	if (http_parse_addr(addr, &sa))
		return UV_EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return UV_ENOMEM;
	srv->loop = loop;
	srv->m = m;
	srv->tls = tls;
	uv_tcp_init(loop, &srv->tcp);
	uv_timer_init(loop, &srv->check);
	uv_timer_init(loop, &srv->flush);
	srv->tcp.data = srv->check.data = srv->flush.data = srv;
	rc = uv_tcp_bind(&srv->tcp, (struct sockaddr *)&sa, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&srv->tcp, 511,
			       sync_on_connection);
	if (rc) {
		log_error("msg=\"cannot listen for sync\" addr=%s error=\"%s\"",
			  addr, uv_strerror(rc));
		sync_server_stop(srv, NULL, NULL);
		return rc;
	}
	uv_timer_start(&srv->check, sync_check_cb, SYNC_CHECK_MS,
		       SYNC_CHECK_MS);
	*out = srv;
	return 0;
}

void sync_server_poke(struct sync_server *srv)
{
	for (struct sync_session *s = srv->sessions; s; s = s->next)
		sync_refresh(s);
}

void sync_server_connected(struct sync_server *srv, struct buf *out)
{
	int first = 1;

	for (struct sync_session *s = srv->sessions; s; s = s->next) {
		if (s->state != SYNC_STREAMING)
			continue;
		buf_printf(out, "%s%s", first ? "" : " ", s->tenant);
		first = 0;
	}
}

static void sync_server_release(struct sync_server *srv)
{
	void (*done)(void *) = srv->done;
	void *arg = srv->done_arg;
	struct sync_sent *c, *next;

	for (c = srv->sent; c; c = next) {
		next = c->next;
		free(c);
	}
	free(srv);
	if (done)
		done(arg);
}

static void sync_handle_closed(uv_handle_t *h)
{
	struct sync_server *srv = h->data;

	if (--srv->handles == 0)
		sync_server_release(srv);
}

static void sync_noop(void *arg)
{
	(void)arg;
}

void sync_server_stop(struct sync_server *srv, void (*done)(void *),
		      void *arg)
{
	struct sync_session *s, *next;

	srv->done = done ? done : sync_noop;
	srv->done_arg = arg;
	srv->handles = 3;
	for (s = srv->sessions; s; s = s->next)
		srv->handles++;
	for (s = srv->sessions; s; s = next) {
		next = s->next;
		proto_conn_close(s->conn, 0);
	}
	uv_close((uv_handle_t *)&srv->tcp, sync_handle_closed);
	uv_close((uv_handle_t *)&srv->check, sync_handle_closed);
	uv_close((uv_handle_t *)&srv->flush, sync_handle_closed);
}

/* Each tenant's stream head and acknowledgement, for the lag gauge. */
static int sync_metrics_lag(struct sync_server *srv, struct buf *out,
			    const char *connected)
{
	sqlite3_stmt *st = db_prepare(srv->m->db,
		"SELECT id, last_seq - acked_seq FROM tenants ORDER BY id");
	int rc = 0;

	if (!st)
		return -1;
	rc |= metrics_family(out, "lms_sync_lag_events", "gauge",
			     "events of the tenant's stream not yet "
			     "acknowledged");
	while (sqlite3_step(st) == SQLITE_ROW)
		rc |= metrics_sample(out, "lms_sync_lag_events", "tenant",
				     db_text(st, 0),
				     (double)sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	rc |= metrics_family(out, "lms_sync_connected", "gauge",
			     "1 while the tenant's workspace is connected");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_text(st, 0);
		size_t n = strlen(id);
		const char *p = connected;
		int on = 0;

		for (; p && (p = strstr(p, id)); p += n)
			if ((p == connected || p[-1] == ' ') &&
			    (p[n] == ' ' || !p[n]))
				on = 1;
		rc |= metrics_sample(out, "lms_sync_connected", "tenant", id,
				     on);
	}
	sqlite3_finalize(st);
	return rc ? -1 : 0;
}

int sync_server_metrics(struct sync_server *srv, struct buf *out)
{
	struct buf connected = { 0 };
	int rc = 0;

	rc |= metrics_family(out, "lms_sync_events_sent_total", "counter",
			     "events sent to the tenant since the daemon "
			     "started");
	for (struct sync_sent *c = srv->sent; c; c = c->next)
		rc |= metrics_sample(out, "lms_sync_events_sent_total",
				     "tenant", c->tenant, (double)c->events);
	sync_server_connected(srv, &connected);
	rc |= sync_metrics_lag(srv, out, buf_cstr(&connected));
	buf_release(&connected);
	return rc ? -1 : 0;
}
