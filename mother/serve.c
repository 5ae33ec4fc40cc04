/*
 * The mother daemon's start-up, signal handling and orderly stop.
 */
#include "mother/serve.h"

#include "common/db.h"
#include "common/http.h"
#include "common/log.h"
#include "mother/admin.h"
#include "mother/control.h"
#include "mother/publish.h"
#include "mother/sync.h"
#include "proto/tls.h"

#include <signal.h>
#include <stdlib.h>

struct serve {
	uv_loop_t *loop;
	struct mother *m;
	struct admin admin;
	struct http_server *http;
	struct sync_server *sync;
	struct control_server *control;
	SSL_CTX *tls; /* the sync port's, or NULL for plain TCP */
	uv_signal_t sigint, sigterm, sighup;
	int stopping;
};

static void serve_poke(void *ctx)
{
	struct serve *s = ctx;

	if (s->sync)
		sync_server_poke(s->sync);
}

static void serve_connected(void *ctx, struct buf *out)
{
	struct serve *s = ctx;

	if (s->sync)
		sync_server_connected(s->sync, out);
}

static const struct control_ops serve_control_ops = {
	.poke = serve_poke,
	.connected = serve_connected,
};

static void serve_stop(struct serve *s)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("msg=\"stopping\"");
	control_stop(s->control);
	s->control = NULL;
	if (s->http)
		http_server_stop(s->http, NULL, NULL);
	if (s->sync)
		sync_server_stop(s->sync, NULL, NULL);
	s->admin.sync = NULL;
	s->admin.http = NULL;
	s->sync = NULL;
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sighup, NULL);
	/* closing restored the default action: a second Ctrl-C or SIGTERM
	 * during the last steps must not kill the process */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

static void serve_on_signal(uv_signal_t *h, int signum)
{
	struct serve *s = h->data;

	if (signum == SIGHUP) {
		log_info("msg=\"SIGHUP: nothing to reload\"");
		return;
	}
	serve_stop(s);
}

static void serve_signals(struct serve *s)
{
	uv_signal_t *h[] = { &s->sigint, &s->sigterm, &s->sighup };
	int nums[] = { SIGINT, SIGTERM, SIGHUP };

	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 3; i++) {
		uv_signal_init(s->loop, h[i]);
		h[i]->data = s;
		uv_signal_start(h[i], serve_on_signal, nums[i]);
	}
}

/* The sync port's TLS context: the certificate is (re)made from the
 * mother key when missing or stale. */
static int serve_tls(struct serve *s)
{
	char *key = mother_path(s->m, "mother.key");
	char *cert = mother_path(s->m, "sync-tls.crt");
	int rc = -1;

	if (key && cert)
		rc = tls_server_ctx_new(key, cert, &s->tls);
	free(key);
	free(cert);
	return rc;
}

static int serve_start(struct serve *s, const char *listen,
		       const char *sync_listen, int sync_tls)
{
	char *sock = mother_path(s->m, "mother.sock");
	int rc;

	rc = control_start(s->loop, sock, &serve_control_ops, s, &s->control);
	free(sock);
	if (rc) {
		log_error("msg=\"another lms-mother serves this data "
			  "directory\" data=\"%s\"", s->m->data);
		return -1;
	}
	if (sync_tls && serve_tls(s))
		return -1;
	if (sync_server_start(s->loop, s->m, sync_listen, s->tls, &s->sync))
		return -1;
	s->admin.loop = s->loop;
	s->admin.m = s->m;
	s->admin.sync = s->sync;
	s->admin.web_dir = getenv("LMS_MOTHER_WEB_DIR");
	if (http_server_start(s->loop, listen, NULL, admin_handle, &s->admin,
			      &s->http)) {
		log_error("msg=\"cannot listen for HTTP\" addr=%s", listen);
		return -1;
	}
	s->admin.http = s->http;
	return 0;
}

int serve_run(struct mother *m, const char *listen, const char *sync_listen,
	      int sync_tls)
{
	struct serve s = { .loop = uv_default_loop(), .m = m };
	int rc = 0;

	if (publish_catch_up(m, NULL) < 0)
		log_warn("msg=\"could not record every published revision\"");
	/* acknowledgements may be lost in a crash: they are idempotent */
	db_exec(m->db, "PRAGMA synchronous=NORMAL");
	serve_signals(&s);
	if (serve_start(&s, listen, sync_listen, sync_tls)) {
		rc = -1;
		serve_stop(&s);
	} else {
		log_info("msg=\"serving\" http=%s sync=%s tls=%s mother_key=%s",
			 listen, sync_listen, s.tls ? "on" : "off",
			 m->fingerprint);
	}
	uv_run(s.loop, UV_RUN_DEFAULT);
	uv_loop_close(s.loop);
	tls_ctx_free(s.tls); /* every connection is gone with the loop */
	if (!rc)
		log_info("msg=\"stopped\"");
	return rc;
}
