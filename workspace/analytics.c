/*
 * Analytics for the mother: the report of aggregate figures and the
 * runner that computes it on a thread of its own and hands what changed,
 * with the audit chain's head, to the sync client.
 *
 * Everything in the report is a count keyed by course id or month; the
 * queries group before anything leaves SQLite, and the pairs of
 * compliance_each() (which name people) are reduced to counts as they
 * pass.
 */
#include "workspace/analytics.h"

#include "common/crypto.h"
#include "common/db.h"
#include "common/fs.h"
#include "common/log.h"
#include "workspace/audit.h"
#include "workspace/compliance.h"
#include "workspace/periodic.h"
#include "workspace/store.h"
#include "workspace/sync.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

enum analytics_field {
	AN_ASSIGNED,
	AN_NOT_STARTED,
	AN_IN_PROGRESS,
	AN_COMPLETED,
	AN_OVERDUE,
	AN_EXPIRED,
	AN_CERT_VALID,
	AN_CERT_EXPIRING,
	AN_FIELDS
};

static const char *const analytics_names[AN_FIELDS] = {
	"assigned",	   "not_started", "in_progress",
	"completed",	   "overdue",	  "expired",
	"certificates_valid", "certificates_expiring",
};

/* ---- the report ---- */

/* {"id": {figures}} for every course from the mother, all zero. */
static int analytics_courses(sqlite3 *db, cJSON *by_id)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT id FROM courses WHERE origin = 'mother' ORDER BY id");
	int rc = st ? 0 : STORE_EDB;

	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_AddObjectToObject(by_id, db_text(st, 0));

		for (int f = 0; o && f < AN_FIELDS; f++)
			cJSON_AddNumberToObject(o, analytics_names[f], 0);
		if (!o)
			rc = STORE_ENOMEM;
	}
	sqlite3_finalize(st);
	return rc;
}

static void analytics_add(cJSON *course, enum analytics_field f, double n)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(course,
						    analytics_names[f]);

	if (v)
		cJSON_SetNumberValue(v, v->valuedouble + n);
}

/* Counts one learner's course by its status (compliance_each()). */
static int analytics_status(void *arg, const struct compliance_item *it)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(arg, it->pair.course);

	if (!c)
		return 0; /* the tenant's own course */
	analytics_add(c, AN_ASSIGNED, 1);
	if (it->status == COMPLIANCE_NOT_STARTED)
		analytics_add(c, AN_NOT_STARTED, 1);
	else if (it->status == COMPLIANCE_IN_PROGRESS)
		analytics_add(c, AN_IN_PROGRESS, 1);
	else if (it->status == COMPLIANCE_COMPLETED ||
		 it->status == COMPLIANCE_EXPIRING_SOON)
		analytics_add(c, AN_COMPLETED, 1);
	else if (it->status == COMPLIANCE_OVERDUE)
		analytics_add(c, AN_OVERDUE, 1);
	else if (it->status == COMPLIANCE_EXPIRED)
		analytics_add(c, AN_EXPIRED, 1);
	return 0;
}

/* Counts the compliance status of every learner's course, in one pass
 * that keeps nothing per learner. */
static int analytics_statuses(sqlite3 *db, int64_t now, cJSON *by_id)
{
	struct compliance_scope all = { 0 };

	return compliance_each(db, &all, now, analytics_status, by_id);
}

/* Learners holding a valid certificate of each course, and those whose
 * certificate expires within COMPLIANCE_EXPIRING_DAYS. */
static int analytics_certificates(sqlite3 *db, int64_t now, cJSON *by_id)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT course_id, count(DISTINCT user_id),"
		" count(DISTINCT CASE WHEN expires_at IS NOT NULL"
		"  AND expires_at <= ?2 THEN user_id END)"
		" FROM certificates WHERE revoked_at IS NULL"
		" AND (expires_at IS NULL OR expires_at > ?1)"
		" GROUP BY course_id");
	int rc = st ? 0 : STORE_EDB;

	if (st) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2,
				   now + COMPLIANCE_EXPIRING_DAYS * 86400LL);
	}
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(by_id,
							    db_text(st, 0));

		if (!c)
			continue; /* the tenant's own course */
		analytics_add(c, AN_CERT_VALID, sqlite3_column_int(st, 1));
		analytics_add(c, AN_CERT_EXPIRING, sqlite3_column_int(st, 2));
	}
	sqlite3_finalize(st);
	return rc;
}

/* by_id turned into the "courses" array. */
static cJSON *analytics_course_list(cJSON *by_id)
{
	cJSON *arr = cJSON_CreateArray(), *c;

	while (arr && (c = by_id->child)) {
		cJSON_DetachItemViaPointer(by_id, c);
		cJSON_AddItemToArray(arr, c);
		cJSON_AddStringToObject(c, "id", c->string);
	}
	return arr;
}

/* Distinct learners with a lesson done, a quiz attempt or a sign-in,
 * per month since since. Sign-ins are the audit log's (sessions are
 * deleted when they end) and the sessions still open. */
static cJSON *analytics_active(sqlite3 *db, int64_t since)
{
	sqlite3_stmt *st = db_prepare(db,
		"WITH acts (user_id, t) AS ("
		" SELECT user_id, completed_at FROM lesson_completions"
		" UNION ALL SELECT user_id, created_at FROM quiz_attempts"
		" UNION ALL SELECT user_id, created_at FROM sessions"
		" UNION ALL SELECT actor_id, at FROM audit_log"
		"  WHERE action = 'login' AND actor_id IS NOT NULL)"
		" SELECT strftime('%Y-%m', t, 'unixepoch') AS month,"
		" count(DISTINCT user_id) FROM acts WHERE t >= ?"
		" GROUP BY month ORDER BY month");
	cJSON *arr = st ? cJSON_CreateArray() : NULL;

	if (!arr) {
		sqlite3_finalize(st);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, since);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "month", db_text(st, 0));
		cJSON_AddNumberToObject(o, "count", sqlite3_column_int(st, 1));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

/* Certificates issued per month and course from the mother. */
static cJSON *analytics_completions(sqlite3 *db, int64_t since)
{
	sqlite3_stmt *st = db_prepare(db,
		"SELECT strftime('%Y-%m', issued_at, 'unixepoch') AS month,"
		" course_id, count(*) FROM certificates"
		" WHERE issued_at >= ? AND course_id IN"
		"  (SELECT id FROM courses WHERE origin = 'mother')"
		" GROUP BY month, course_id ORDER BY month, course_id");
	cJSON *arr = st ? cJSON_CreateArray() : NULL;

	if (!arr) {
		sqlite3_finalize(st);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, since);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "month", db_text(st, 0));
		cJSON_AddStringToObject(o, "course", db_text(st, 1));
		cJSON_AddNumberToObject(o, "count", sqlite3_column_int(st, 2));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

/* The report's figures, without "at". */
static int analytics_figures(sqlite3 *db, int64_t now, cJSON **out)
{
	int64_t since = now - ANALYTICS_MONTHS * 31LL * 86400;
	cJSON *root = cJSON_CreateObject(), *by_id = cJSON_CreateObject();
	cJSON *active, *done;
	int rc = root && by_id ? 0 : STORE_ENOMEM;

	if (!rc)
		rc = analytics_courses(db, by_id);
	if (!rc)
		rc = analytics_statuses(db, now, by_id);
	if (!rc)
		rc = analytics_certificates(db, now, by_id);
	if (!rc) {
		cJSON_AddItemToObject(root, "courses",
				      analytics_course_list(by_id));
		active = analytics_active(db, since);
		done = analytics_completions(db, since);
		if (!active || !done)
			rc = STORE_EDB;
		cJSON_AddItemToObject(root, "active_learners", active);
		cJSON_AddItemToObject(root, "completions", done);
	}
	cJSON_Delete(by_id);
	if (rc)
		cJSON_Delete(root);
	else
		*out = root;
	return rc;
}

/* The figures' text into figures, the whole report into out. */
static int analytics_print(sqlite3 *db, int64_t now, struct buf *figures,
			   struct buf *out)
{
	cJSON *root = NULL;
	char *text;
	int rc = analytics_figures(db, now, &root);

	if (rc)
		return rc;
	text = cJSON_PrintUnformatted(root);
	if (!text || (figures && buf_append_str(figures, text)))
		rc = STORE_ENOMEM;
	free(text);
	if (!rc && !cJSON_AddNumberToObject(root, "at", (double)now))
		rc = STORE_ENOMEM;
	text = rc ? NULL : cJSON_PrintUnformatted(root);
	if (!rc && (!text || buf_append_str(out, text)))
		rc = STORE_ENOMEM;
	free(text);
	cJSON_Delete(root);
	return rc;
}

int analytics_report(sqlite3 *db, int64_t now, struct buf *out)
{
	return analytics_print(db, now, NULL, out);
}

/* ---- the runner of serve ---- */

struct analytics_runner {
	struct periodic job;
	const struct lms_clock *clock;
	const char *tenant;
	struct sync_client *sync;
	sqlite3 *db; /* used by the run's thread only, one run at a time */
	int push; /* hand the audit head over on the next run */

	/* the run's input and results */
	int64_t now;
	int rc;
	struct buf report;
	uint8_t digest[CRYPTO_SHA256_LEN];
	int head_rc;
	int64_t head_seq;
	char head_hash[AUDIT_HASH_HEX + 1];

	/* what was handed to the sync client */
	uint8_t sent_digest[CRYPTO_SHA256_LEN];
	int64_t sent_at;      /* 0: nothing yet */
	int64_t head_sent_at; /* 0: nothing yet */

	void (*done)(void *arg);
	void *done_arg;
};

static void analytics_runner_closed(void *arg)
{
	struct analytics_runner *r = arg;

	sqlite3_close_v2(r->db);
	buf_release(&r->report);
	if (r->done)
		r->done(r->done_arg);
	free(r);
}

static void analytics_runner_work(void *arg)
{
	struct analytics_runner *r = arg;
	struct buf figures = { 0 };

	r->now = clock_now(r->clock);
	buf_reset(&r->report);
	r->rc = analytics_print(r->db, r->now, &figures, &r->report);
	if (!r->rc)
		crypto_sha256(figures.data, figures.len, r->digest);
	buf_release(&figures);
	r->head_rc = audit_head(r->db, &r->head_seq, r->head_hash);
}

/* Hands over what is new or due; on the loop. */
static void analytics_runner_hand(struct analytics_runner *r)
{
	int changed = !r->sent_at ||
		      memcmp(r->digest, r->sent_digest, sizeof(r->digest));

	if (!r->rc && (changed || r->now - r->sent_at >= ANALYTICS_RESEND)) {
		sync_send_stats(r->sync, r->report.data, r->report.len,
				r->now);
		memcpy(r->sent_digest, r->digest, sizeof(r->digest));
		r->sent_at = r->now;
		log_debug("msg=\"stats handed to sync\" tenant=%s bytes=%zu",
			  r->tenant, r->report.len);
	}
	if (!r->head_rc && (r->push || !r->head_sent_at ||
			    r->now - r->head_sent_at >= ANALYTICS_RESEND)) {
		sync_send_audit_head(r->sync, (uint64_t)r->head_seq,
				     r->head_hash, r->now);
		r->head_sent_at = r->now;
		r->push = 0;
	}
}

static void analytics_runner_after(void *arg, int status)
{
	struct analytics_runner *r = arg;

	if (status != 0)
		return;
	if (r->rc)
		log_error("msg=\"analytics report failed\" tenant=%s "
			  "error=\"%s\"", r->tenant, store_strerror(r->rc));
	if (r->head_rc)
		log_error("msg=\"cannot read the audit head\" tenant=%s "
			  "error=\"%s\"", r->tenant,
			  store_strerror(r->head_rc));
	if (!r->job.stopping && r->sync)
		analytics_runner_hand(r);
}

static uint64_t analytics_tick_ms(void)
{
	const char *env = getenv("LMS_ANALYTICS_SECONDS");
	long v = env ? strtol(env, NULL, 10) : 0;

	return (uint64_t)(v > 0 && v <= 86400 ? v : ANALYTICS_TICK) * 1000;
}

int analytics_runner_start(uv_loop_t *loop, const char *data_dir,
			   const struct lms_clock *clock, const char *tenant,
			   struct sync_client *sync,
			   struct analytics_runner **out)
{
	struct analytics_runner *r = calloc(1, sizeof(*r));
	char *path = fs_join(data_dir, STORE_FILE);
	int rc = r && path ? store_open(path, &r->db) : STORE_ENOMEM;

	free(path);
	if (rc) {
		free(r);
		return rc;
	}
	r->clock = clock;
	r->tenant = tenant;
	r->sync = sync;
	r->job.run = analytics_runner_work;
	r->job.after = analytics_runner_after;
	r->job.closed = analytics_runner_closed;
	r->job.arg = r;
	if (periodic_start(&r->job, loop, analytics_tick_ms())) {
		sqlite3_close_v2(r->db);
		free(r);
		return STORE_ENOMEM;
	}
	*out = r;
	return 0;
}

void analytics_runner_poke(struct analytics_runner *r)
{
	if (r)
		periodic_poke(&r->job, 1000);
}

void analytics_runner_push(struct analytics_runner *r)
{
	if (!r || r->job.stopping)
		return;
	r->push = 1;
	periodic_poke(&r->job, 0);
}

void analytics_runner_stop(struct analytics_runner *r,
			   void (*done)(void *arg), void *arg)
{
	if (!r || r->job.stopping)
		return;
	r->sync = NULL;
	r->done = done;
	r->done_arg = arg;
	periodic_stop(&r->job);
}
