/*
 * The workspace daemon's start-up, wiring and shutdown.
 *
 * Start-up opens everything that can fail (database, settings, keys,
 * repository) before the loop runs, so a mistake ends the command with a
 * clear message instead of a half-running daemon. The repository's refs
 * are reconciled to the database before the first event can arrive.
 */
#include "workspace/serve.h"

#include "common/clock.h"
#include "common/crypto.h"
#include "common/fs.h"
#include "common/http.h"
#include "common/log.h"
#include "workspace/analytics.h"
#include "workspace/api.h"
#include "workspace/apply.h"
#include "workspace/certpdf.h"
#include "workspace/compliance.h"
#include "workspace/coursecache.h"
#include "workspace/mail.h"
#include "workspace/store.h"
#include "workspace/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <uv.h>

#define SERVE_KEY_FILE "workspace.key"
#define SERVE_LOCK_FILE "serve.lock"

struct serve {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint, sighup;
	int signals_open;
	int lock_fd; /* held for the life of the process: one serve */

	struct lms_clock clock;
	struct store_settings settings;
	uint8_t mother_pub[CRYPTO_PUBKEY_LEN];
	struct crypto_key *key;
	sqlite3 *db; /* the loop's connection, for reads */
	struct apply_ctx apply;
	uint64_t applied_seq;

	struct http_server *http;
	struct sync_client *sync;
	struct api_ctx api;
	struct compliance_runner *compliance;
	struct analytics_runner *analytics; /* reports to the mother */
	uv_signal_t sigusr1; /* sends the audit head now */
	int stopping;
	int parts_running; /* the HTTP server and the sync client */

	char *err;
	size_t errcap;
};

static int serve_fail(struct serve *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int serve_fail(struct serve *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->errcap, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- opening the workspace ---- */

static int serve_open_db(struct serve *s, const struct serve_opts *o)
{
	char *path = fs_join(o->data_dir, STORE_FILE);
	int rc = -1;

	if (!path)
		return serve_fail(s, "out of memory");
	if (!fs_exists(path))
		serve_fail(s, "%s is not a workspace (no %s); run init first",
			   o->data_dir, STORE_FILE);
	else if (store_open(path, &s->db))
		serve_fail(s, "cannot open %s", path);
	else if (store_settings_load(s->db, &s->settings))
		serve_fail(s, "%s lacks its settings; run init again",
			   path);
	else if (store_applied_seq(s->db, &s->applied_seq))
		serve_fail(s, "cannot read the applied sequence number");
	else
		rc = 0;
	free(path);
	return rc;
}

static int serve_set(struct serve *s, char *field, size_t cap,
		     const char *value, const char *what)
{
	if (!value)
		return 0;
	if (strlen(value) >= cap)
		return serve_fail(s, "%s too long", what);
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

/* One serve per workspace: it alone applies events and tidies up after
 * a crash. The lock goes with the process, however it ends. */
static int serve_lock(struct serve *s, const char *data_dir)
{
	char *path = fs_join(data_dir, SERVE_LOCK_FILE);
	int rc = -1;

	if (!path)
		return serve_fail(s, "out of memory");
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		serve_fail(s, "cannot open %s: %s", path, strerror(errno));
	else if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
		rc = 0;
	else if (errno == EWOULDBLOCK)
		serve_fail(s, "another serve runs on %s", data_dir);
	else
		serve_fail(s, "cannot lock %s: %s", path, strerror(errno));
	free(path);
	return rc;
}

static int serve_open(struct serve *s, const struct serve_opts *o)
{
	char *key_path;
	int rc;

	if (clock_init(&s->clock))
		return serve_fail(s, "LMS_FAKE_NOW is not a valid time");
	if (serve_open_db(s, o) || serve_lock(s, o->data_dir))
		return -1;
	if (serve_set(s, s->settings.listen, sizeof(s->settings.listen),
		      o->listen, "--listen") ||
	    serve_set(s, s->settings.mother, sizeof(s->settings.mother),
		      o->mother, "--mother"))
		return -1;
	if (crypto_unhex(s->settings.mother_key, s->mother_pub,
			 CRYPTO_PUBKEY_LEN))
		return serve_fail(s, "the pinned mother key is not 64 hex "
				  "digits");

	key_path = fs_join(o->data_dir, SERVE_KEY_FILE);
	rc = key_path ? crypto_key_load(key_path, &s->key) : -1;
	if (rc)
		serve_fail(s, "cannot load %s: %s", key_path ? key_path : "key",
			   rc < -1 ? strerror(-rc) : "out of memory");
	free(key_path);
	if (rc)
		return -1;

	if (apply_open(&s->apply, o->data_dir))
		return serve_fail(s, "cannot open the content repository");
	s->api.data_dir = o->data_dir;
	s->api.web_dir = o->web_dir ? o->web_dir : getenv("LMS_WEB_DIR");
	s->api.trusted_proxy = o->trusted_proxy;
	if (apply_reconcile(&s->apply))
		log_error("msg=\"some course refs could not be reconciled\" "
			  "tenant=%s", s->settings.tenant);
	return 0;
}

static void serve_close(struct serve *s)
{
	/* its statements are on s->db */
	coursecache_free(s->api.courses);
	s->api.courses = NULL;
	apply_close(&s->apply);
	sqlite3_close_v2(s->db);
	crypto_key_free(s->key);
	certpdf_cleanup(); /* the font caches, for leak checkers */
	s->db = NULL;
	s->key = NULL;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

/* ---- stopping ---- */

static void serve_on_signal_closed(uv_handle_t *h)
{
	(void)h;
}

static void serve_on_part_stopped(void *arg)
{
	struct serve *s = arg;

	if (--s->parts_running > 0)
		return;
	if (s->signals_open) {
		uv_close((uv_handle_t *)&s->sigterm, serve_on_signal_closed);
		uv_close((uv_handle_t *)&s->sigint, serve_on_signal_closed);
		uv_close((uv_handle_t *)&s->sighup, serve_on_signal_closed);
		uv_close((uv_handle_t *)&s->sigusr1, serve_on_signal_closed);
		s->signals_open = 0;
		/* closing restored the default action: a second Ctrl-C or
		 * SIGTERM during the last steps must not kill the process */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGUSR1, SIG_IGN);
	}
}

static void serve_stop(struct serve *s)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	s->parts_running = 0;
	if (s->http) {
		s->parts_running++;
		http_server_stop(s->http, serve_on_part_stopped, s);
		s->http = NULL;
	}
	/* writes still queued are committed; their answers are dropped
	 * with the connections */
	batch_close(s->api.batch);
	s->api.batch = NULL;
	/* a run in flight is committed or rolled back first */
	if (s->compliance) {
		s->parts_running++;
		compliance_runner_stop(s->compliance, serve_on_part_stopped,
				       s);
		s->compliance = NULL;
	}
	/* before the sync client it hands reports to */
	if (s->analytics) {
		s->parts_running++;
		analytics_runner_stop(s->analytics, serve_on_part_stopped, s);
		s->analytics = NULL;
		s->api.analytics = NULL;
	}
	/* a send in flight is finished and recorded first */
	if (s->api.mail) {
		s->parts_running++;
		mail_sender_stop(s->api.mail, serve_on_part_stopped, s);
		s->api.mail = NULL;
	}
	if (s->sync) {
		s->parts_running++;
		sync_stop(s->sync, serve_on_part_stopped, s);
		s->sync = NULL;
		s->api.sync = NULL;
	}
	if (s->parts_running == 0) {
		s->parts_running = 1;
		serve_on_part_stopped(s);
	}
}

static void serve_on_signal(uv_signal_t *h, int signum)
{
	struct serve *s = h->data;

	if (signum == SIGHUP) {
		log_info("msg=\"reload\" tenant=%s note=\"no configuration "
			 "file to reread\"", s->settings.tenant);
		return;
	}
	if (signum == SIGUSR1) {
		log_info("msg=\"sending the audit head on demand\" tenant=%s",
			 s->settings.tenant);
		analytics_runner_push(s->analytics);
		return;
	}
	if (s->stopping) {
		log_info("msg=\"already stopping\" tenant=%s",
			 s->settings.tenant);
		return;
	}
	log_info("msg=\"stopping\" tenant=%s signal=%s", s->settings.tenant,
		 signum == SIGTERM ? "SIGTERM" : "SIGINT");
	serve_stop(s);
}

/* ---- starting ---- */

static void serve_signals(struct serve *s)
{
	uv_signal_t *hs[] = { &s->sigterm, &s->sigint, &s->sighup,
			      &s->sigusr1 };
	int nums[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

	for (int i = 0; i < 4; i++) {
		uv_signal_init(&s->loop, hs[i]);
		hs[i]->data = s;
		uv_signal_start(hs[i], serve_on_signal, nums[i]);
	}
	s->signals_open = 1;
}

/* A revision applied may ask for retraining: compliance runs soon. */
static void serve_on_applied(void *arg)
{
	struct serve *s = arg;

	if (s->compliance)
		compliance_runner_poke(s->compliance);
	analytics_runner_poke(s->analytics);
}

static int serve_start(struct serve *s)
{
	struct sync_config cfg = {
		.tenant = s->settings.tenant,
		.mother_addr = s->settings.mother,
		.key = s->key,
		.apply = &s->apply,
		.clock = &s->clock,
		.applied_seq = s->applied_seq,
		.on_applied = serve_on_applied,
	};

	s->api.loop = &s->loop;
	s->api.clock = &s->clock;
	s->api.db = s->db;
	s->api.tenant = s->settings.tenant;
	if (coursecache_new(s->api.data_dir, &s->api.courses))
		return serve_fail(s, "out of memory");
	if (batch_create(&s->loop, s->db, &s->api.batch))
		return serve_fail(s, "out of memory");
	if (mail_sender_start(&s->loop, s->db, &s->clock, s->settings.tenant,
			      &s->api.mail))
		return serve_fail(s, "cannot start the mail sender");
	if (compliance_runner_start(&s->loop, s->api.data_dir, &s->clock,
				    s->settings.tenant, s->api.mail,
				    &s->compliance))
		return serve_fail(s, "cannot start the compliance runner");
	if (http_server_start(&s->loop, s->settings.listen, NULL, api_handle,
			      &s->api, &s->http))
		return serve_fail(s, "cannot listen on %s",
				  s->settings.listen);
	s->api.http = s->http;
	cfg.on_applied_arg = s;
	memcpy(cfg.mother_pub, s->mother_pub, CRYPTO_PUBKEY_LEN);
	if (sync_start(&s->loop, &cfg, &s->sync))
		return serve_fail(s, "cannot start the sync client");
	s->api.sync = s->sync;
	if (analytics_runner_start(&s->loop, s->api.data_dir, &s->clock,
				   s->settings.tenant, s->sync,
				   &s->analytics))
		return serve_fail(s, "cannot start the analytics runner");
	s->api.analytics = s->analytics;
	serve_signals(s);
	log_info("msg=\"serving\" tenant=%s listen=%s mother=%s "
		 "applied_seq=%llu", s->settings.tenant, s->settings.listen,
		 s->settings.mother, (unsigned long long)s->applied_seq);
	return 0;
}

int serve_run(const struct serve_opts *o, char *err, size_t errcap)
{
	struct serve s;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	s.err = err;
	s.errcap = errcap;
	s.lock_fd = -1;
	err[0] = 0;
	signal(SIGPIPE, SIG_IGN);
	/* one malloc arena: the thread pool applies one event at a time, and
	 * per-thread arenas would keep megabytes of an idle workspace */
	mallopt(M_ARENA_MAX, 1);
	/* events are applied one at a time: one worker thread is enough */
	if (!getenv("UV_THREADPOOL_SIZE"))
		setenv("UV_THREADPOOL_SIZE", "1", 1);

	if (serve_open(&s, o))
		goto out;
	if (uv_loop_init(&s.loop)) {
		serve_fail(&s, "cannot create the event loop");
		goto out;
	}
	rc = serve_start(&s);
	if (rc)
		serve_stop(&s); /* whatever started, stopped in order */
	uv_run(&s.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&s.loop))
		log_error("msg=\"event loop closed with handles open\"");
	if (!rc)
		log_info("msg=\"stopped\" tenant=%s", s.settings.tenant);
out:
	serve_close(&s);
	return rc;
}
