/*
 * Compliance (workspace/compliance.h): the status rules, the rounds a
 * recurrence or a retraining opens, the reminders of the schedule, and
 * the runner that does both by itself in serve.
 *
 * One run walks every (learner, course) pair an assignment gives, reads
 * the few facts its status is made of (one statement), opens a round
 * when one is due, and decides the reminder the schedule asks for now.
 * A run works on a connection of its own, on a thread of its own
 * (workspace/periodic.h), in transactions of COMPLIANCE_CHUNK learners
 * each: a decision and its mail are stored together or not at all (a
 * manager's copies are mailed at the end of the run: digest.h), a
 * writer of the academy waits for one chunk at most, and a second run
 * at the same time decides nothing twice (the rounds and reminders are
 * unique by their keys).
 */
#include "workspace/compliance.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/fs.h"
#include "common/log.h"
#include "workspace/cert.h"
#include "workspace/certpdf.h"
#include "workspace/digest.h"
#include "workspace/mail.h"
#include "workspace/periodic.h"
#include "workspace/settings.h"
#include "workspace/store.h"
#include "workspace/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMPLIANCE_DAY 86400
#define COMPLIANCE_KEY_MAX 96

/* ---- rules ---- */

static const char *const compliance_names[COMPLIANCE_STATUS_COUNT] = {
	[COMPLIANCE_NOT_STARTED] = "not_started",
	[COMPLIANCE_IN_PROGRESS] = "in_progress",
	[COMPLIANCE_COMPLETED] = "completed",
	[COMPLIANCE_EXPIRING_SOON] = "expiring_soon",
	[COMPLIANCE_EXPIRED] = "expired",
	[COMPLIANCE_OVERDUE] = "overdue",
};

const char *compliance_status_name(enum compliance_status s)
{
	return (unsigned)s < COMPLIANCE_STATUS_COUNT ? compliance_names[s] :
						       "unknown";
}

int compliance_status_parse(const char *s)
{
	for (int i = 0; i < COMPLIANCE_STATUS_COUNT; i++)
		if (!strcmp(s, compliance_names[i]))
			return i;
	return -1;
}

void compliance_date(int64_t t, int days, char out[COMPLIANCE_DATE_LEN + 1])
{
	time_t tt = (time_t)(t + (int64_t)days * COMPLIANCE_DAY);
	char day[32];
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d", &tm))
		day[0] = '\0';
	snprintf(out, COMPLIANCE_DATE_LEN + 1, "%.10s", day);
}

int64_t compliance_day_start(const char *day)
{
	struct tm tm = { 0 };

	if (sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday) != 3)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* The status of expiring at now: completed, expiring_soon or expired. */
static enum compliance_status compliance_validity(int64_t expires,
						  int64_t now)
{
	if (!expires)
		return COMPLIANCE_COMPLETED;
	if (now >= expires)
		return COMPLIANCE_EXPIRED;
	if (expires - now <= COMPLIANCE_EXPIRING_DAYS * COMPLIANCE_DAY)
		return COMPLIANCE_EXPIRING_SOON;
	return COMPLIANCE_COMPLETED;
}

enum compliance_status compliance_status_of(const struct compliance_facts *f,
					    int64_t now)
{
	char today[COMPLIANCE_DATE_LEN + 1];

	compliance_date(now, 0, today);
	return compliance_status_on(f, now, today);
}

enum compliance_status compliance_status_on(const struct compliance_facts *f,
					    int64_t now, const char *today)
{
	enum compliance_status v;

	if (f->has_cert && f->current)
		return compliance_validity(f->expires, now);
	if (f->due[0] && strcmp(today, f->due) > 0)
		return COMPLIANCE_OVERDUE;
	/* a round not done yet while the last certificate still counts */
	if (f->has_cert && f->expires) {
		v = compliance_validity(f->expires, now);
		if (v != COMPLIANCE_COMPLETED)
			return v;
	}
	return f->started ? COMPLIANCE_IN_PROGRESS : COMPLIANCE_NOT_STARTED;
}

int compliance_next_round(int recur_months, int on_expiry, int64_t issued,
			  int64_t expires, int64_t *open_at,
			  char due[COMPLIANCE_DATE_LEN + 1])
{
	int64_t at = 0;

	if (recur_months > 0)
		at = cert_add_months(issued, recur_months);
	if (on_expiry && expires) {
		int64_t early = expires - COMPLIANCE_LEAD_DAYS * COMPLIANCE_DAY;

		if (!at || early < at)
			at = early;
	}
	if (!at)
		return 0;
	if (at <= issued)
		at = issued + 1;
	*open_at = at;
	if (expires && expires > at)
		compliance_date(expires, 0, due);
	else
		compliance_date(at, COMPLIANCE_ROUND_DAYS, due);
	return 1;
}

/* ---- facts ---- */

static int compliance_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"compliance query failed\" what=%s error=\"%s\"",
		  what, sqlite3_errmsg(db));
	return STORE_EDB;
}

/* ?1 user, ?2 course. The current round (implicit when no row), from
 * when progress counts, the last retraining, the latest certificate not
 * revoked and whether a lesson was done in the round. */
static const char compliance_sql_facts[] =
	"WITH r AS (SELECT id, reason, opened_at, due FROM training_rounds "
	"WHERE user_id = ?1 AND course_id = ?2 ORDER BY opened_at DESC, "
	"id DESC LIMIT 1), "
	"f AS (SELECT coalesce(max(progress_from), 0) AS t FROM "
	"training_rounds WHERE user_id = ?1 AND course_id = ?2), "
	"k AS (SELECT seq, revision FROM course_versions WHERE course_id = "
	"?2 AND retrain = 1 AND seq > 1 ORDER BY seq DESC LIMIT 1), "
	"c AS (SELECT c.id, c.number, c.issued_at, c.expires_at, "
	"coalesce((SELECT v.seq FROM course_versions v WHERE v.course_id = "
	"?2 AND v.revision = c.revision), 0) >= coalesce((SELECT seq FROM "
	"k), 0) AS fresh FROM certificates c WHERE c.user_id = ?1 AND "
	"c.course_id = ?2 AND c.revoked_at IS NULL ORDER BY c.issued_at "
	"DESC, c.id DESC LIMIT 1) "
	"SELECT (SELECT id FROM r), (SELECT reason FROM r), (SELECT "
	"opened_at FROM r), (SELECT due FROM r), (SELECT t FROM f), "
	"(SELECT revision FROM k), (SELECT id FROM c), (SELECT number FROM "
	"c), (SELECT issued_at FROM c), (SELECT expires_at FROM c), (SELECT "
	"fresh FROM c), EXISTS (SELECT 1 FROM lesson_completions l WHERE "
	"l.user_id = ?1 AND l.course_id = ?2 AND l.completed_at >= (SELECT "
	"t FROM f))";

static void compliance_copy(char *out, size_t cap, sqlite3_stmt *st, int col)
{
	snprintf(out, cap, "%s", db_text(st, col));
}

static void compliance_facts_read(sqlite3_stmt *st, struct compliance_pair *p)
{
	struct compliance_facts *f = &p->facts;

	p->round_id = sqlite3_column_int64(st, 0);
	compliance_copy(p->reason, sizeof(p->reason), st, 1);
	p->opened_at = sqlite3_column_int64(st, 2);
	if (p->round_id)
		compliance_copy(f->due, sizeof(f->due), st, 3);
	else
		snprintf(f->due, sizeof(f->due), "%s",
			 p->assigned_due ? p->assigned_due : "");
	p->progress_from = sqlite3_column_int64(st, 4);
	compliance_copy(p->retrain_rev, sizeof(p->retrain_rev), st, 5);
	p->cert_id = sqlite3_column_int64(st, 6);
	compliance_copy(p->number, sizeof(p->number), st, 7);
	p->issued = sqlite3_column_int64(st, 8);
	f->expires = sqlite3_column_int64(st, 9);
	p->fresh = sqlite3_column_int(st, 10);
	f->has_cert = p->cert_id != 0;
	f->current = f->has_cert && p->fresh &&
		     p->issued >= p->progress_from;
	f->started = sqlite3_column_int(st, 11);
}

/* Reads the facts of p over st (prepared from compliance_sql_facts). */
static int compliance_facts_load(sqlite3 *db, sqlite3_stmt *st,
				 struct compliance_pair *p)
{
	int rc = 0;

	sqlite3_bind_int64(st, 1, p->user_id);
	sqlite3_bind_text(st, 2, p->course, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		compliance_facts_read(st, p);
	else
		rc = compliance_fail(db, "facts");
	sqlite3_reset(st);
	return rc;
}

/* ---- rounds ---- */

/* What one run shares between its pairs. */
struct compliance_run_ctx {
	sqlite3 *db;
	int64_t now;
	struct settings_reminder schedule[SETTINGS_REMINDERS_MAX];
	int entries;
	char web_url[STORE_SETTING_MAX];
	char language[3]; /* the academy's default */
	sqlite3_stmt *facts;
	sqlite3_stmt *managers;
	struct compliance_tally *tally;
	int dry;	 /* only look: set needs_write instead of writing */
	int needs_write; /* a dry pass met a round or reminder to store */
};

/* In a dry pass: whether the row that sql looks for is there (?1 the
 * pair's user, ?2 its course, ?3 t3, and ?4 t4 and ?5 i5 when sql has
 * them); notes when it is not, as a write the pass must leave to a
 * transaction. 0, or STORE_EDB. */
static int compliance_dry_check(struct compliance_run_ctx *c,
				const char *sql,
				const struct compliance_pair *p,
				const char *t3, const char *t4, int64_t i5)
{
	sqlite3_stmt *st = db_prepare(c->db, sql);
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, p->user_id);
	sqlite3_bind_text(st, 2, p->course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t3, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 5) {
		sqlite3_bind_text(st, 4, t4, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, i5);
	}
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_DONE)
		c->needs_write = 1;
	return step == SQLITE_ROW || step == SQLITE_DONE ?
		       0 : compliance_fail(c->db, "dry");
}

/* Inserts a round unless its key is there: 1 when inserted. */
static int compliance_round_insert(struct compliance_run_ctx *c,
				   const struct compliance_pair *p,
				   const char *key, const char *reason,
				   int64_t opened_at, const char *due,
				   int64_t progress_from)
{
	sqlite3 *db = c->db;
	sqlite3_stmt *st;
	int rc;

	if (c->dry)
		return compliance_dry_check(c, "SELECT 1 FROM training_rounds "
					    "WHERE user_id = ?1 AND course_id "
					    "= ?2 AND key = ?3", p, key, NULL,
					    0);
	st = db_prepare(db, "INSERT OR IGNORE INTO training_rounds (user_id, "
			    "course_id, key, reason, opened_at, due, "
			    "progress_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			    "?7)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, p->user_id);
	sqlite3_bind_text(st, 2, p->course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, opened_at);
	sqlite3_bind_text(st, 6, due, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, progress_from);
	rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db) > 0 :
					       compliance_fail(db, "round");
	sqlite3_finalize(st);
	if (rc > 0)
		log_info("msg=\"training round opened\" user=%lld course=%s "
			 "reason=%s due=%s", (long long)p->user_id, p->course,
			 reason, due);
	return rc;
}

/* The round that follows a recurring assignment's completion, when it
 * is time for it. */
static int compliance_open_recur(struct compliance_run_ctx *c,
				 const struct compliance_pair *p)
{
	int64_t now = c->now;
	char due[COMPLIANCE_DATE_LEN + 1], key[COMPLIANCE_KEY_MAX];
	int64_t at;

	if (!p->facts.current ||
	    !compliance_next_round(p->recur_months, p->on_expiry, p->issued,
				   p->facts.expires, &at, due) ||
	    now < at)
		return 0;
	snprintf(key, sizeof(key), "recur:%lld", (long long)p->cert_id);
	return compliance_round_insert(c, p, key, "recur", at, due, at);
}

/* The round a retraining opens for a learner who had done the course
 * (in its round) before that revision came. */
static int compliance_open_retrain(struct compliance_run_ctx *c,
				   const struct compliance_pair *p)
{
	int64_t now = c->now;
	char due[COMPLIANCE_DATE_LEN + 1], key[COMPLIANCE_KEY_MAX];

	if (!p->facts.has_cert || p->fresh || !p->retrain_rev[0] ||
	    p->issued < p->progress_from)
		return 0;
	compliance_date(now, COMPLIANCE_ROUND_DAYS, due);
	snprintf(key, sizeof(key), "retrain:%s", p->retrain_rev);
	return compliance_round_insert(c, p, key, "retrain", now, due, 0);
}

/* ---- reminders ---- */

/* Someone a reminder goes to. */
struct compliance_person {
	int64_t id;
	char email[MAIL_ADDRESS_MAX + 1];
	char name[256];
	char language[3];
};

static void compliance_person_read(sqlite3_stmt *st,
				   struct compliance_person *o)
{
	o->id = sqlite3_column_int64(st, 0);
	compliance_copy(o->email, sizeof(o->email), st, 1);
	compliance_copy(o->name, sizeof(o->name), st, 2);
	compliance_copy(o->language, sizeof(o->language), st, 3);
}


/* What a reminder is about. */
struct compliance_reminder {
	const struct compliance_pair *p;
	const char *title;   /* the course's */
	char round[COMPLIANCE_KEY_MAX];
	char entry[16];	     /* "-14", "0", "+7", "expiry-30" */
	const char *kind;    /* of mail.h and template.h */
	int days;	     /* until (or since) the date it is about */
	const char *learner; /* the learner's name */
};

/* Records the reminder for one recipient and queues its mail, unless
 * it was decided before: 1 when new. */
static int compliance_remind_row(struct compliance_run_ctx *c,
				 const struct compliance_reminder *r,
				 const struct compliance_person *to,
				 const char *role, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	if (c->dry)
		return compliance_dry_check(c, "SELECT 1 FROM reminders WHERE "
					    "user_id = ?1 AND course_id = ?2 "
					    "AND round = ?3 AND entry = ?4 AND "
					    "recipient_id = ?5", r->p, r->round,
					    r->entry, to->id);
	st = db_prepare(c->db, "INSERT OR IGNORE INTO reminders (user_id, "
			       "course_id, round, entry, recipient_id, role, "
			       "created_at, due) VALUES (?1, ?2, ?3, ?4, ?5, "
			       "?6, ?7, ?8)");
	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, r->p->user_id);
	sqlite3_bind_text(st, 2, r->p->course, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->round, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->entry, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, to->id);
	sqlite3_bind_text(st, 6, role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, c->now);
	sqlite3_bind_text(st, 8, r->p->facts.due, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(c->db) > 0 :
					       compliance_fail(c->db, "remind");
	*id = sqlite3_last_insert_rowid(c->db);
	sqlite3_finalize(st);
	return rc;
}

/* The day t in the recipient's language ("31.01.2027", "2027-01-31"). */
static void compliance_day_text(int64_t t, const char *language, char *out,
				size_t cap)
{
	certpdf_date(t, language, out, cap);
}

/* Renders and queues the mail of a reminder row id. */
static int compliance_remind_mail(struct compliance_run_ctx *c,
				  const struct compliance_reminder *r,
				  const struct compliance_person *to,
				  const char *kind, int64_t id)
{
	const char *lang = to->language[0] ? to->language : c->language;
	char due[16] = "", expires[16] = "", days[16];
	char url[STORE_SETTING_MAX + 80] = "", key[COMPLIANCE_KEY_MAX];
	int64_t day = compliance_day_start(r->p->facts.due);
	const struct template_var vars[] = {
		{ "learner", r->learner }, { "manager", to->name },
		{ "course", r->title },	   { "due", due },
		{ "days", days },	   { "url", url },
		{ "expires", expires },	   { "number", r->p->number },
	};
	char *subject = NULL, *body = NULL;
	int rc;

	if (day)
		compliance_day_text(day, lang, due, sizeof(due));
	if (r->p->facts.expires)
		compliance_day_text(r->p->facts.expires, lang, expires,
				    sizeof(expires));
	snprintf(days, sizeof(days), "%d", r->days);
	if (c->web_url[0])
		snprintf(url, sizeof(url), "%s/#/course/%s", c->web_url,
			 r->p->course);
	if (template_mail(c->db, kind, lang, vars,
			  sizeof(vars) / sizeof(vars[0]), &subject, &body))
		return STORE_ENOMEM;
	snprintf(key, sizeof(key), "reminder:%lld", (long long)id);
	rc = mail_enqueue(c->db, to->email, subject, body, "reminder", key,
			  c->now);
	free(subject);
	free(body);
	return rc == MAIL_EDB ? STORE_EDB : rc < 0 ? STORE_EINVAL : 0;
}

/* Notes the outbox row of reminder id. */
static int compliance_remind_link(sqlite3 *db, int64_t id, int64_t mail_id)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE reminders SET mail_id = ?2 "
					  "WHERE id = ?1");
	int rc;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, mail_id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 :
					      compliance_fail(db, "link");
	sqlite3_finalize(st);
	return rc;
}

/* The reminder r to one recipient, when it is new: 1 then, 0 when it
 * was decided before, or a negative code. A mail that cannot be made
 * (an address the outbox refuses) leaves the decision recorded without
 * a mail, logged, so it is not tried at every run. */
static int compliance_remind(struct compliance_run_ctx *c,
			     const struct compliance_reminder *r,
			     const struct compliance_person *to,
			     const char *role, const char *kind)
{
	int64_t id = 0;
	int rc = compliance_remind_row(c, r, to, role, &id);

	if (rc <= 0)
		return rc;
	rc = compliance_remind_mail(c, r, to, kind, id);
	if (rc == STORE_EINVAL) {
		log_warn("msg=\"reminder not mailed: address refused\" "
			 "user=%lld course=%s recipient=%lld",
			 (long long)r->p->user_id, r->p->course,
			 (long long)to->id);
		return 1;
	}
	if (!rc)
		rc = compliance_remind_link(c->db, id,
					    sqlite3_last_insert_rowid(c->db));
	if (!rc)
		c->tally->reminders++;
	return rc ? rc : 1;
}

/* The managers of the learner: managers in a group the learner is in or
 * in a group above one of those. ?1 the learner. It starts from the
 * managers (few, by the index users_role), not from the members of the
 * learner's groups (all of a house, say). */
static const char compliance_sql_managers[] =
	"WITH RECURSIVE up (id) AS (SELECT group_id FROM group_members "
	"WHERE user_id = ?1 UNION SELECT g.parent_id FROM groups g JOIN up "
	"ON g.id = up.id WHERE g.parent_id IS NOT NULL) "
	"SELECT u.id, u.email, u.name, coalesce(u.language, '') FROM users "
	"u WHERE u.role = 'manager' AND u.id <> ?1 AND EXISTS (SELECT 1 "
	"FROM group_members m JOIN up ON m.group_id = up.id WHERE "
	"m.user_id = u.id) ORDER BY u.id";

/* The copies of an overdue reminder to the learner's managers: rows
 * without a mail, which digest_send() mails at the end of the run, one
 * mail per manager. */
static int compliance_remind_managers(struct compliance_run_ctx *c,
				      const struct compliance_reminder *r)
{
	struct compliance_person m;
	sqlite3_stmt *st = c->managers;
	int64_t id;
	int rc = 0, step = SQLITE_DONE;

	sqlite3_bind_int64(st, 1, r->p->user_id);
	while (rc >= 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		compliance_person_read(st, &m);
		rc = compliance_remind_row(c, r, &m, "manager", &id);
		if (rc > 0 && !c->dry)
			c->tally->reminders++;
	}
	if (rc > 0)
		rc = 0;
	if (!rc && step != SQLITE_DONE)
		rc = compliance_fail(c->db, "managers");
	sqlite3_reset(st);
	return rc;
}

/* The latest entry of the schedule (of due dates, or of expiry) that has
 * passed at now; its index, or -1. */
static int compliance_entry_due(const struct compliance_run_ctx *c,
				int expiry, int64_t base)
{
	int best = -1;
	int64_t at, best_at = 0;

	for (int i = 0; i < c->entries; i++) {
		if (c->schedule[i].expiry != expiry)
			continue;
		at = expiry ? base - (int64_t)c->schedule[i].days *
					     COMPLIANCE_DAY :
			      base + (int64_t)c->schedule[i].days *
					     COMPLIANCE_DAY;
		if (c->now >= at && (best < 0 || at > best_at)) {
			best = i;
			best_at = at;
		}
	}
	return best;
}

/* Days from now to t, rounded up (negative when t is past). */
static int compliance_days_until(int64_t now, int64_t t)
{
	int64_t d = t - now;

	return (int)(d >= 0 ? (d + COMPLIANCE_DAY - 1) / COMPLIANCE_DAY :
			      -((-d) / COMPLIANCE_DAY));
}

/* The due-date reminder of a round not done. */
static int compliance_remind_due(struct compliance_run_ctx *c,
				 struct compliance_reminder *r,
				 const struct compliance_person *learner)
{
	int64_t day = compliance_day_start(r->p->facts.due);
	char today[COMPLIANCE_DATE_LEN + 1];
	int i, d, rc;

	if (!day || (i = compliance_entry_due(c, 0, day)) < 0)
		return 0;
	d = c->schedule[i].days;
	compliance_date(c->now, 0, today);
	snprintf(r->round, sizeof(r->round), "due:%lld:%s",
		 (long long)r->p->round_id, r->p->facts.due);
	snprintf(r->entry, sizeof(r->entry), "%s%d", d > 0 ? "+" : "", d);
	r->days = (int)((compliance_day_start(today) - day) / COMPLIANCE_DAY);
	if (r->days < 0)
		r->days = -r->days;
	rc = compliance_remind(c, r, learner, "learner",
			       d > 0 ? "overdue" : "reminder");
	/* the copies are decided with the learner's reminder, once */
	if (rc > 0 && d > 0)
		rc = compliance_remind_managers(c, r);
	return rc > 0 ? 0 : rc;
}

/* The reminder before the latest certificate expires. */
static int compliance_remind_expiry(struct compliance_run_ctx *c,
				    struct compliance_reminder *r,
				    const struct compliance_person *learner)
{
	int64_t exp = r->p->facts.expires;
	int i, rc;

	if (!r->p->facts.has_cert || !exp || c->now >= exp ||
	    (i = compliance_entry_due(c, 1, exp)) < 0)
		return 0;
	snprintf(r->round, sizeof(r->round), "cert:%lld",
		 (long long)r->p->cert_id);
	snprintf(r->entry, sizeof(r->entry), "expiry-%d",
		 c->schedule[i].days);
	r->days = compliance_days_until(c->now, exp);
	rc = compliance_remind(c, r, learner, "learner", "expiry");
	return rc > 0 ? 0 : rc;
}

/* ---- one run ---- */

/* The pairs of learner and course that assignments give, by user and
 * course, with the earliest due date and the recurrence: of the users
 * with ?1 < id <= ?4 (the range keeps to the indexes of both kinds of
 * assignment), of course ?2 or any (NULL), and of the scope of manager
 * ?3 or anybody's (NULL). */
#define COMPLIANCE_SQL_PAIRS                                               \
	"WITH RECURSIVE reach (id) AS (SELECT group_id FROM group_members " \
	"WHERE user_id = ?3 UNION SELECT g.id FROM groups g JOIN reach r "  \
	"ON g.parent_id = r.id) "                                           \
	"SELECT x.user_id, x.course_id, min(x.due), "                       \
	"coalesce(min(x.recur_months), 0), max(x.recur_on_expiry), u.name, " \
	"u.email, coalesce(u.language, ''), c.title FROM (SELECT "          \
	"a.user_id, a.course_id, a.due, a.recur_months, a.recur_on_expiry " \
	"FROM assignments a WHERE a.user_id > ?1 AND a.user_id <= ?4 "      \
	"UNION ALL SELECT m.user_id, a.course_id, a.due, a.recur_months, "  \
	"a.recur_on_expiry FROM assignments a JOIN group_members m ON "     \
	"m.group_id = a.group_id AND m.user_id > ?1 AND m.user_id <= ?4) x " \
	"JOIN users u ON u.id = x.user_id JOIN courses c ON c.id = "        \
	"x.course_id WHERE (?2 IS NULL OR x.course_id = ?2) AND (?3 IS "    \
	"NULL OR x.user_id = ?3 OR x.user_id IN (SELECT m.user_id FROM "    \
	"group_members m JOIN reach r ON m.group_id = r.id)) GROUP BY "     \
	"x.user_id, x.course_id ORDER BY x.user_id, x.course_id"

/* The parameters of COMPLIANCE_SQL_PAIRS. */
enum { COMPLIANCE_P_FROM = 1, COMPLIANCE_P_COURSE, COMPLIANCE_P_MANAGER,
       COMPLIANCE_P_TO };

static const char compliance_sql_pairs[] = COMPLIANCE_SQL_PAIRS;

/* The pair of the row of st (compliance_sql_pairs), borrowing st. */
static void compliance_pair_read(sqlite3_stmt *st, struct compliance_pair *p)
{
	memset(p, 0, sizeof(*p));
	p->user_id = sqlite3_column_int64(st, 0);
	p->course = db_text(st, 1);
	p->assigned_due = db_text(st, 2);
	p->recur_months = sqlite3_column_int(st, 3);
	p->on_expiry = sqlite3_column_int(st, 4);
}

/* Rounds, then reminders, for the pair of the row of st. */
/* Rounds, then reminders, for the pair p whose facts are read, of the
 * learner and the course titled title. */
static int compliance_decide(struct compliance_run_ctx *c,
			     struct compliance_pair *p,
			     const struct compliance_person *learner,
			     const char *title)
{
	struct compliance_reminder r = {
		.p = p, .title = title, .learner = learner->name,
	};
	int rc = 0, opened;

	opened = compliance_open_recur(c, p);
	if (opened == 0 && !c->needs_write)
		opened = compliance_open_retrain(c, p);
	if (opened < 0)
		return opened;
	c->tally->rounds += opened;
	if (opened && (rc = compliance_facts_load(c->db, c->facts, p)))
		return rc;
	if (!p->facts.current)
		rc = compliance_remind_due(c, &r, learner);
	if (!rc)
		rc = compliance_remind_expiry(c, &r, learner);
	return rc;
}

/* Rounds, then reminders, for the pair of the row of st. */
static int compliance_run_pair(struct compliance_run_ctx *c,
			       sqlite3_stmt *st)
{
	struct compliance_pair p;
	struct compliance_person learner;
	int rc;

	compliance_pair_read(st, &p);
	if ((rc = compliance_facts_load(c->db, c->facts, &p)))
		return rc;
	learner.id = p.user_id;
	compliance_copy(learner.name, sizeof(learner.name), st, 5);
	compliance_copy(learner.email, sizeof(learner.email), st, 6);
	compliance_copy(learner.language, sizeof(learner.language), st, 7);
	return compliance_decide(c, &p, &learner, db_text(st, 8));
}

/* A pair of a dry pass, with the facts compliance_each() read for all
 * pairs at once: 1 (stop) at the first write it would make. */
static int compliance_dry_item(void *arg, const struct compliance_item *it)
{
	struct compliance_run_ctx *c = arg;
	struct compliance_pair p = it->pair;
	struct compliance_person learner = { .id = p.user_id };
	int rc;

	snprintf(learner.name, sizeof(learner.name), "%s",
		 it->name ? it->name : "");
	snprintf(learner.email, sizeof(learner.email), "%s",
		 it->email ? it->email : "");
	rc = compliance_decide(c, &p, &learner, it->title);
	return rc ? rc : c->needs_write;
}

/* The statements and settings of a run. */
static int compliance_run_open(struct compliance_run_ctx *c)
{
	sqlite3_stmt *st;

	c->entries = settings_reminders(c->db, c->schedule);
	if (c->entries < 0)
		return STORE_EDB;
	if (settings_get(c->db, SETTINGS_WEB_URL, c->web_url,
			 sizeof(c->web_url)))
		c->web_url[0] = 0;
	else if (c->web_url[0] && c->web_url[strlen(c->web_url) - 1] == '/')
		c->web_url[strlen(c->web_url) - 1] = 0;
	snprintf(c->language, sizeof(c->language), "de");
	if ((st = db_prepare(c->db, "SELECT value FROM branding WHERE key = "
				    "'default_language'"))) {
		if (sqlite3_step(st) == SQLITE_ROW)
			compliance_copy(c->language, sizeof(c->language), st,
					0);
		sqlite3_finalize(st);
	}
	c->facts = db_prepare(c->db, compliance_sql_facts);
	c->managers = db_prepare(c->db, compliance_sql_managers);
	return c->facts && c->managers ? 0 : STORE_EDB;
}

static void compliance_run_close(struct compliance_run_ctx *c)
{
	sqlite3_finalize(c->facts);
	sqlite3_finalize(c->managers);
}

/* The last user id of the chunk after from: the COMPLIANCE_CHUNK-th
 * user after it, or INT64_MAX when fewer are left; 0, or STORE_EDB. */
static int compliance_chunk_end(sqlite3 *db, int64_t from, int64_t *to)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT id FROM users WHERE id > "
					  "?1 ORDER BY id LIMIT 1 OFFSET ?2");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int(st, 2, COMPLIANCE_CHUNK - 1);
	step = sqlite3_step(st);
	*to = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : INT64_MAX;
	sqlite3_finalize(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ?
		       0 : compliance_fail(db, "chunk");
}

/* The pass that stores, over the pairs of the users from < id <= to,
 * one facts statement per pair (read again after a round opened). */
static int compliance_run_pass(struct compliance_run_ctx *c,
			       sqlite3_stmt *st, int64_t from, int64_t to)
{
	int rc = 0, step = SQLITE_DONE;

	sqlite3_bind_int64(st, COMPLIANCE_P_FROM, from);
	sqlite3_bind_int64(st, COMPLIANCE_P_TO, to);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = compliance_run_pair(c, st);
	if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = compliance_fail(c->db, "pairs");
	sqlite3_reset(st);
	return rc;
}

/* The pairs of the users from < id <= to: first a dry pass that only
 * reads, with the facts of every pair read at once (compliance_each());
 * most runs find nothing to do and take no lock. When it met something
 * to store, the pass that stores it, in one transaction. */
static int compliance_run_chunk(struct compliance_run_ctx *c,
				sqlite3_stmt *st, int64_t from, int64_t to)
{
	struct compliance_scope scope = { .user_from = from, .user_to = to };
	int rc;

	c->dry = 1;
	c->needs_write = 0;
	rc = compliance_each(c->db, &scope, c->now, compliance_dry_item, c);
	if (rc > 0)
		rc = 0; /* stopped at a write to make */
	c->dry = 0;
	if (rc || !c->needs_write)
		return rc;
	c->needs_write = 0;
	if (db_begin(c->db))
		return STORE_EDB;
	rc = compliance_run_pass(c, st, from, to);
	if (!rc && db_commit(c->db))
		rc = STORE_EDB;
	if (rc)
		db_rollback(c->db);
	return rc;
}

/* Every pair, COMPLIANCE_CHUNK users to a transaction, so that other
 * writers wait for one chunk at most, never for the whole run. */
static int compliance_run_pairs(struct compliance_run_ctx *c)
{
	sqlite3_stmt *st = db_prepare(c->db, compliance_sql_pairs);
	int64_t from = 0, to = 0;
	int rc = st ? 0 : STORE_EDB;

	while (!rc && to != INT64_MAX) {
		rc = compliance_chunk_end(c->db, from, &to);
		if (!rc)
			rc = compliance_run_chunk(c, st, from, to);
		from = to;
	}
	sqlite3_finalize(st);
	return rc;
}

int compliance_run(sqlite3 *db, int64_t now, struct compliance_tally *t)
{
	struct compliance_run_ctx c = { .db = db, .now = now, .tally = t };
	struct digest_params dp = { .web_url = c.web_url,
				    .language = c.language };
	int rc;

	memset(t, 0, sizeof(*t));
	rc = compliance_run_open(&c);
	if (!rc)
		rc = compliance_run_pairs(&c);
	compliance_run_close(&c);
	if (!rc)
		rc = digest_send(db, now, &dp, &t->digests);
	return rc;
}

/* ---- the list ---- */

static int compliance_add_time(cJSON *o, const char *name, int64_t t)
{
	char iso[32];

	if (!t)
		return cJSON_AddNullToObject(o, name) != NULL;
	clock_format_iso(t, iso, sizeof(iso));
	return cJSON_AddStringToObject(o, name, iso) != NULL;
}

static int compliance_add_text(cJSON *o, const char *name, const char *s)
{
	if (!s || !*s)
		return cJSON_AddNullToObject(o, name) != NULL;
	return cJSON_AddStringToObject(o, name, s) != NULL;
}

static cJSON *compliance_round_json(const struct compliance_pair *p)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "reason",
					   p->round_id ? p->reason :
							 "assigned") ||
	    !compliance_add_time(o, "opened", p->round_id ? p->opened_at : 0) ||
	    !compliance_add_text(o, "due", p->facts.due)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *compliance_cert_json(const struct compliance_pair *p)
{
	cJSON *o;

	if (!p->facts.has_cert)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (!o ||
	    !cJSON_AddNumberToObject(o, "id", (double)p->cert_id) ||
	    !cJSON_AddStringToObject(o, "number", p->number) ||
	    !compliance_add_time(o, "issued", p->issued) ||
	    !compliance_add_time(o, "expires", p->facts.expires) ||
	    !cJSON_AddBoolToObject(o, "renewal_required", !p->fresh)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The reminders decided for the pair, oldest first. */
static cJSON *compliance_reminders_json(sqlite3 *db,
					const struct compliance_pair *p)
{
	sqlite3_stmt *st = db_prepare(
		db, "SELECT r.entry, r.role, u.email, r.created_at, "
		    "m.sent_at FROM reminders r JOIN users u ON u.id = "
		    "r.recipient_id LEFT JOIN mail_outbox m ON m.id = "
		    "r.mail_id WHERE r.user_id = ?1 AND r.course_id = ?2 "
		    "ORDER BY r.id");
	cJSON *list = cJSON_CreateArray(), *o;
	int step = SQLITE_DONE, ok = list && st;

	if (st) {
		sqlite3_bind_int64(st, 1, p->user_id);
		sqlite3_bind_text(st, 2, p->course, -1, SQLITE_STATIC);
	}
	while (ok && (step = sqlite3_step(st)) == SQLITE_ROW) {
		ok = (o = cJSON_CreateObject()) &&
		     cJSON_AddItemToArray(list, o) &&
		     cJSON_AddStringToObject(o, "entry", db_text(st, 0)) &&
		     cJSON_AddStringToObject(o, "role", db_text(st, 1)) &&
		     cJSON_AddStringToObject(o, "to", db_text(st, 2)) &&
		     compliance_add_time(o, "queued",
					 sqlite3_column_int64(st, 3)) &&
		     compliance_add_time(o, "sent",
					 sqlite3_column_int64(st, 4));
	}
	if (ok && step != SQLITE_DONE) {
		compliance_fail(db, "reminders");
		ok = 0;
	}
	sqlite3_finalize(st);
	if (!ok) {
		cJSON_Delete(list);
		return NULL;
	}
	return list;
}

/* The row of a pair (its facts loaded) and the pairs statement st. */
static cJSON *compliance_row_json(sqlite3 *db, sqlite3_stmt *st,
				  const struct compliance_pair *p,
				  enum compliance_status s, int reminders)
{
	cJSON *o = cJSON_CreateObject();

	if (!o ||
	    !cJSON_AddNumberToObject(o, "user", (double)p->user_id) ||
	    !cJSON_AddStringToObject(o, "name", db_text(st, 5)) ||
	    !cJSON_AddStringToObject(o, "email", db_text(st, 6)) ||
	    !cJSON_AddStringToObject(o, "course", p->course) ||
	    !cJSON_AddStringToObject(o, "title", db_text(st, 8)) ||
	    !cJSON_AddStringToObject(o, "status", compliance_status_name(s)) ||
	    !compliance_add_text(o, "due", p->facts.due) ||
	    !cJSON_AddItemToObject(o, "round", compliance_round_json(p)) ||
	    !cJSON_AddItemToObject(o, "certificate",
				   compliance_cert_json(p)) ||
	    (reminders &&
	     !cJSON_AddItemToObject(o, "reminders",
				    compliance_reminders_json(db, p)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Adds the row of st to list when it passes the filter. */
static int compliance_list_row(sqlite3 *db, sqlite3_stmt *st,
			       sqlite3_stmt *facts,
			       const struct compliance_filter *f, int64_t now,
			       cJSON *list)
{
	struct compliance_pair p;
	enum compliance_status s;
	cJSON *o;
	int rc;

	compliance_pair_read(st, &p);
	if ((rc = compliance_facts_load(db, facts, &p)))
		return rc;
	s = compliance_status_of(&p.facts, now);
	if (f->status >= 0 && (int)s != f->status)
		return 0;
	o = compliance_row_json(db, st, &p, s, f->reminders);
	if (!o || !cJSON_AddItemToArray(list, o)) {
		cJSON_Delete(o);
		return STORE_ENOMEM;
	}
	return 0;
}

int compliance_list_json(sqlite3 *db, const struct compliance_filter *f,
			 int64_t now, cJSON **out)
{
	sqlite3_stmt *st = db_prepare(db, compliance_sql_pairs);
	sqlite3_stmt *facts = db_prepare(db, compliance_sql_facts);
	cJSON *list = cJSON_CreateArray();
	int rc = st && facts ? 0 : STORE_EDB, step = SQLITE_DONE;

	if (!rc && !list)
		rc = STORE_ENOMEM;
	if (!rc) {
		sqlite3_bind_int64(st, COMPLIANCE_P_FROM,
				   f->user_id ? f->user_id - 1 : 0);
		sqlite3_bind_int64(st, COMPLIANCE_P_TO,
				   f->user_id ? f->user_id : INT64_MAX);
		if (f->course)
			sqlite3_bind_text(st, COMPLIANCE_P_COURSE, f->course,
					  -1, SQLITE_STATIC);
		if (f->manager_id)
			sqlite3_bind_int64(st, COMPLIANCE_P_MANAGER,
					   f->manager_id);
	}
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = compliance_list_row(db, st, facts, f, now, list);
	if (!rc && step != SQLITE_DONE)
		rc = compliance_fail(db, "list");
	sqlite3_finalize(st);
	sqlite3_finalize(facts);
	if (rc)
		cJSON_Delete(list);
	else
		*out = list;
	return rc;
}

/* ---- every pair at once (compliance_each) ----
 *
 * The tables are read once each, ordered by user: the users, their
 * direct assignments and memberships, the rounds, the certificates not
 * revoked and each pair's latest completion (these two from indexes
 * alone: certificates_live, lesson_completions_done); the courses, their
 * versions and the group assignments are held in memory. For each user
 * the rows of every cursor that belong to them are folded into one
 * slot per course, which then holds exactly what compliance_sql_facts
 * reads for the pair. */

/* A course as the scan holds it. */
struct scan_course {
	char *id;
	char *title;
	int64_t retrain_seq; /* the last version that retrained, 0 none */
	char retrain_rev[41];
};

/* A revision of a course and its number there. */
struct scan_version {
	int course;
	char revision[41];
	int64_t seq;
};

/* An assignment to a group. */
struct scan_assignment {
	int64_t group_id;
	int course;
	char due[COMPLIANCE_DATE_LEN + 1];
	int recur_months; /* 0: none */
	int on_expiry;
};

/* What one user's rows say of one course. */
struct scan_slot {
	int assigned;
	char due[COMPLIANCE_DATE_LEN + 1];
	int recur_months;
	int on_expiry;
	int64_t round_id, round_opened;
	char round_reason[8];
	char round_due[COMPLIANCE_DATE_LEN + 1];
	int64_t progress_from;
	int64_t cert_id, cert_issued, cert_expires, cert_seq;
	char cert_number[CERT_NUMBER_MAX + 1];
	int64_t last_done; /* the latest completion, -1 none */
};

/* A statement read row by row, in step with the users. */
struct scan_cursor {
	sqlite3_stmt *st;
	int row; /* SQLITE_ROW while there is one */
};

struct scan {
	sqlite3 *db;
	const struct compliance_scope *scope;
	int64_t now;
	char today[COMPLIANCE_DATE_LEN + 1];
	struct scan_course *courses;
	int ncourses;
	int only; /* the course of scope->course, -1 all, -2 none held */
	struct scan_version *versions;
	size_t nversions;
	struct scan_assignment *assignments;
	size_t nassignments;
	struct scan_slot *slots;
	int64_t *groups;
	size_t ngroups, capgroups;
	struct scan_cursor users, direct, members, rounds, certs, done;
};

static int scan_course_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct scan_course *)elem)->id);
}

/* The index of course id, or -1. */
static int scan_course_find(const struct scan *s, const char *id)
{
	const struct scan_course *c = !s->ncourses ? NULL :
		bsearch(id, s->courses, (size_t)s->ncourses,
			sizeof(*s->courses), scan_course_cmp);

	return c ? (int)(c - s->courses) : -1;
}

static int scan_version_cmp(const void *a, const void *b)
{
	const struct scan_version *x = a, *y = b;

	if (x->course != y->course)
		return x->course < y->course ? -1 : 1;
	return strcmp(x->revision, y->revision);
}

/* The number of revision in course, 0 when not held (as coalesce). */
static int64_t scan_version_seq(const struct scan *s, int course,
				const char *revision)
{
	struct scan_version key = { .course = course };
	const struct scan_version *v;

	snprintf(key.revision, sizeof(key.revision), "%s", revision);
	/* bsearch() takes no NULL array, even an empty one */
	v = !s->nversions ? NULL :
		bsearch(&key, s->versions, s->nversions, sizeof(key),
			scan_version_cmp);
	return v ? v->seq : 0;
}

static int scan_assignment_cmp(const void *key, const void *elem)
{
	int64_t g = *(const int64_t *)key;
	int64_t h = ((const struct scan_assignment *)elem)->group_id;

	return g < h ? -1 : g > h;
}

/* Loads the courses (by id, as the pairs' ORDER BY sorts them) with
 * their last retraining version. */
static int scan_load_courses(struct scan *s)
{
	sqlite3_stmt *st = db_prepare(
		s->db, "SELECT c.id, c.title, coalesce(k.seq, 0), "
		       "coalesce(k.revision, '') FROM courses c LEFT JOIN "
		       "course_versions k ON k.course_id = c.id AND k.seq = "
		       "(SELECT max(seq) FROM course_versions WHERE "
		       "course_id = c.id AND retrain = 1 AND seq > 1) ORDER "
		       "BY c.id");
	int n = 0, cap = 0, step, rc = st ? 0 : STORE_EDB;
	struct scan_course *c, *more;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			more = realloc(s->courses, (size_t)cap * sizeof(*c));
			if (!more) {
				rc = STORE_ENOMEM;
				break;
			}
			s->courses = more;
		}
		c = &s->courses[n];
		c->id = strdup(db_text(st, 0));
		c->title = strdup(db_text(st, 1));
		c->retrain_seq = sqlite3_column_int64(st, 2);
		compliance_copy(c->retrain_rev, sizeof(c->retrain_rev), st, 3);
		s->ncourses = ++n;
		if (!c->id || !c->title)
			rc = STORE_ENOMEM;
	}
	if (!rc && step != SQLITE_DONE)
		rc = compliance_fail(s->db, "scan courses");
	sqlite3_finalize(st);
	return rc;
}

static int scan_load_versions(struct scan *s)
{
	sqlite3_stmt *st = db_prepare(s->db, "SELECT course_id, revision, "
					     "seq FROM course_versions");
	size_t cap = 0;
	int step = SQLITE_DONE, rc = st ? 0 : STORE_EDB, course;
	struct scan_version *more;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((course = scan_course_find(s, db_text(st, 0))) < 0)
			continue;
		if (s->nversions == cap) {
			cap = cap ? cap * 2 : 64;
			more = realloc(s->versions, cap * sizeof(*more));
			if (!more) {
				rc = STORE_ENOMEM;
				break;
			}
			s->versions = more;
		}
		more = &s->versions[s->nversions++];
		more->course = course;
		compliance_copy(more->revision, sizeof(more->revision), st, 1);
		more->seq = sqlite3_column_int64(st, 2);
	}
	if (!rc && step != SQLITE_DONE)
		rc = compliance_fail(s->db, "scan versions");
	sqlite3_finalize(st);
	if (!rc && s->nversions)
		qsort(s->versions, s->nversions, sizeof(*s->versions),
		      scan_version_cmp);
	return rc;
}

static int scan_load_assignments(struct scan *s)
{
	sqlite3_stmt *st = db_prepare(
		s->db, "SELECT group_id, course_id, due, "
		       "coalesce(recur_months, 0), recur_on_expiry FROM "
		       "assignments WHERE group_id IS NOT NULL ORDER BY "
		       "group_id");
	size_t cap = 0;
	int step = SQLITE_DONE, rc = st ? 0 : STORE_EDB, course;
	struct scan_assignment *a;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((course = scan_course_find(s, db_text(st, 1))) < 0)
			continue;
		if (s->nassignments == cap) {
			cap = cap ? cap * 2 : 64;
			a = realloc(s->assignments, cap * sizeof(*a));
			if (!a) {
				rc = STORE_ENOMEM;
				break;
			}
			s->assignments = a;
		}
		a = &s->assignments[s->nassignments++];
		a->group_id = sqlite3_column_int64(st, 0);
		a->course = course;
		compliance_copy(a->due, sizeof(a->due), st, 2);
		a->recur_months = sqlite3_column_int(st, 3);
		a->on_expiry = sqlite3_column_int(st, 4);
	}
	if (!rc && step != SQLITE_DONE)
		rc = compliance_fail(s->db, "scan assignments");
	sqlite3_finalize(st);
	return rc;
}

/* The statements of the cursors, each over users ?1 < id <= ?2. */
static const char *const scan_sql[] = {
	"SELECT id, name, email FROM users WHERE id > ?1 AND id <= ?2 "
	"ORDER BY id",
	"SELECT user_id, course_id, due, coalesce(recur_months, 0), "
	"recur_on_expiry FROM assignments WHERE user_id > ?1 AND user_id "
	"<= ?2 ORDER BY user_id",
	"SELECT user_id, group_id FROM group_members WHERE user_id > ?1 AND "
	"user_id <= ?2 ORDER BY user_id, group_id",
	"SELECT user_id, course_id, id, reason, opened_at, due, "
	"progress_from FROM training_rounds WHERE user_id > ?1 AND user_id "
	"<= ?2 ORDER BY user_id",
	"SELECT user_id, course_id, id, number, issued_at, "
	"coalesce(expires_at, 0), revision FROM certificates WHERE user_id "
	"> ?1 AND user_id <= ?2 AND revoked_at IS NULL ORDER BY user_id",
	"SELECT user_id, course_id, max(completed_at) FROM "
	"lesson_completions WHERE user_id > ?1 AND user_id <= ?2 GROUP BY "
	"user_id, course_id ORDER BY user_id, course_id",
};

static int scan_step(struct scan *s, struct scan_cursor *c)
{
	c->row = sqlite3_step(c->st);
	if (c->row == SQLITE_ROW || c->row == SQLITE_DONE)
		return 0;
	return compliance_fail(s->db, "scan");
}

static struct scan_cursor *scan_cursor(struct scan *s, size_t i)
{
	struct scan_cursor *all[] = { &s->users,  &s->direct, &s->members,
				      &s->rounds, &s->certs,  &s->done };

	return all[i];
}

static int scan_open_cursors(struct scan *s)
{
	const struct compliance_scope *sc = s->scope;
	int64_t from = sc->user_from, to = sc->user_to;
	struct scan_cursor *c;
	int rc = 0;

	if (!from && !to)
		to = INT64_MAX;
	for (size_t i = 0; !rc && i < sizeof(scan_sql) / sizeof(*scan_sql);
	     i++) {
		c = scan_cursor(s, i);
		if (!(c->st = db_prepare(s->db, scan_sql[i])))
			return STORE_EDB;
		sqlite3_bind_int64(c->st, 1, from);
		sqlite3_bind_int64(c->st, 2, to);
		rc = scan_step(s, c);
	}
	return rc;
}

/* Steps c past the rows of users before user. */
static int scan_skip(struct scan *s, struct scan_cursor *c, int64_t user)
{
	int rc = 0;

	while (!rc && c->row == SQLITE_ROW &&
	       sqlite3_column_int64(c->st, 0) < user)
		rc = scan_step(s, c);
	return rc;
}

/* Whether the cursor stands on a row of user. */
static int scan_at(const struct scan_cursor *c, int64_t user)
{
	return c->row == SQLITE_ROW && sqlite3_column_int64(c->st, 0) == user;
}

/* Adds an assignment of course to the user's slot: the earliest due
 * date, the shortest recurrence, any on expiry. */
static void scan_assign(struct scan *s, int course, const char *due,
			int recur_months, int on_expiry)
{
	struct scan_slot *sl = &s->slots[course];

	if (s->only != -1 && course != s->only)
		return;
	if ((!sl->assigned || strcmp(due, sl->due) < 0) &&
	    strlen(due) < sizeof(sl->due))
		strcpy(sl->due, due);
	if (recur_months &&
	    (!sl->recur_months || recur_months < sl->recur_months))
		sl->recur_months = recur_months;
	if (on_expiry)
		sl->on_expiry = 1;
	sl->assigned = 1;
}

static int scan_add_group(struct scan *s, int64_t g)
{
	int64_t *more;

	if (s->ngroups == s->capgroups) {
		s->capgroups = s->capgroups ? s->capgroups * 2 : 16;
		more = realloc(s->groups, s->capgroups * sizeof(*more));
		if (!more)
			return STORE_ENOMEM;
		s->groups = more;
	}
	s->groups[s->ngroups++] = g;
	return 0;
}

/* The user's groups into s->groups and their assignments into the
 * slots. */
static int scan_user_assignments(struct scan *s, int64_t user)
{
	struct scan_cursor *c = &s->members;
	const struct scan_assignment *a;
	int rc = scan_skip(s, c, user), course;
	int64_t g;

	s->ngroups = 0;
	while (!rc && scan_at(c, user)) {
		g = sqlite3_column_int64(c->st, 1);
		rc = scan_add_group(s, g);
		a = !s->nassignments ? NULL :
			bsearch(&g, s->assignments, s->nassignments,
				sizeof(*a), scan_assignment_cmp);
		while (a && a > s->assignments && a[-1].group_id == g)
			a--;
		for (; a && a < s->assignments + s->nassignments &&
		       a->group_id == g; a++)
			scan_assign(s, a->course, a->due, a->recur_months,
				    a->on_expiry);
		if (!rc)
			rc = scan_step(s, c);
	}
	c = &s->direct;
	if (!rc)
		rc = scan_skip(s, c, user);
	while (!rc && scan_at(c, user)) {
		if ((course = scan_course_find(s, db_text(c->st, 1))) >= 0)
			scan_assign(s, course, db_text(c->st, 2),
				    sqlite3_column_int(c->st, 3),
				    sqlite3_column_int(c->st, 4));
		rc = scan_step(s, c);
	}
	return rc;
}

/* The slot of the course of the row of c, when the user has it. */
static struct scan_slot *scan_slot_of(struct scan *s,
				      const struct scan_cursor *c)
{
	int course = scan_course_find(s, db_text(c->st, 1));

	return course >= 0 && s->slots[course].assigned ? &s->slots[course]
							: NULL;
}

/* The latest round (by opening, then id) and the latest progress_from. */
static void scan_round(struct scan_slot *sl, sqlite3_stmt *st)
{
	int64_t id = sqlite3_column_int64(st, 2);
	int64_t opened = sqlite3_column_int64(st, 4);
	int64_t from = sqlite3_column_int64(st, 6);

	if (from > sl->progress_from)
		sl->progress_from = from;
	if (sl->round_id && (opened < sl->round_opened ||
			     (opened == sl->round_opened && id < sl->round_id)))
		return;
	sl->round_id = id;
	sl->round_opened = opened;
	compliance_copy(sl->round_reason, sizeof(sl->round_reason), st, 3);
	compliance_copy(sl->round_due, sizeof(sl->round_due), st, 5);
}

/* The latest certificate not revoked (by issue, then id). */
static void scan_cert(struct scan *s, struct scan_slot *sl, int course,
		      sqlite3_stmt *st)
{
	int64_t id = sqlite3_column_int64(st, 2);
	int64_t issued = sqlite3_column_int64(st, 4);

	if (sl->cert_id && (issued < sl->cert_issued ||
			    (issued == sl->cert_issued && id < sl->cert_id)))
		return;
	sl->cert_id = id;
	sl->cert_issued = issued;
	sl->cert_expires = sqlite3_column_int64(st, 5);
	compliance_copy(sl->cert_number, sizeof(sl->cert_number), st, 3);
	sl->cert_seq = scan_version_seq(s, course, db_text(st, 6));
}

/* Folds the user's rounds, certificates and completions into slots. */
static int scan_user_facts(struct scan *s, int64_t user)
{
	struct scan_cursor *c;
	struct scan_slot *sl;
	int rc = 0;

	for (size_t i = 3; !rc && i < 6; i++) {
		c = scan_cursor(s, i);
		rc = scan_skip(s, c, user);
		while (!rc && scan_at(c, user)) {
			if ((sl = scan_slot_of(s, c)) && i == 3)
				scan_round(sl, c->st);
			else if (sl && i == 4)
				scan_cert(s, sl, (int)(sl - s->slots), c->st);
			else if (sl)
				sl->last_done = sqlite3_column_int64(c->st, 2);
			rc = scan_step(s, c);
		}
	}
	return rc;
}

/* The pair of course from its slot, as compliance_facts_read() has it. */
static void scan_pair(const struct scan *s, int course, int64_t user,
		      const struct scan_slot *sl, struct compliance_pair *p)
{
	const struct scan_course *c = &s->courses[course];
	struct compliance_facts *f = &p->facts;

	/* the arrays are of the same sizes: copied whole */
	p->user_id = user;
	p->course = c->id;
	p->assigned_due = sl->due;
	p->recur_months = sl->recur_months;
	p->on_expiry = sl->on_expiry;
	p->round_id = sl->round_id;
	memcpy(p->reason, sl->round_reason, sizeof(p->reason));
	p->opened_at = sl->round_opened;
	memcpy(f->due, sl->round_id ? sl->round_due : sl->due,
	       sizeof(f->due));
	p->progress_from = sl->progress_from;
	memcpy(p->retrain_rev, c->retrain_rev, sizeof(p->retrain_rev));
	p->cert_id = sl->cert_id;
	memcpy(p->number, sl->cert_number, sizeof(p->number));
	p->issued = sl->cert_issued;
	f->expires = sl->cert_expires;
	p->fresh = sl->cert_id && sl->cert_seq >= c->retrain_seq;
	f->has_cert = sl->cert_id != 0;
	f->current = f->has_cert && p->fresh && p->issued >= p->progress_from;
	f->started = sl->last_done >= 0 && sl->last_done >= p->progress_from;
}

/* Whether the user belongs to the scope's groups. */
static int scan_in_scope(const struct scan *s, int64_t user)
{
	const struct compliance_scope *sc = s->scope;

	if (!sc->groups || user == sc->also_user)
		return 1;
	for (size_t i = 0; i < s->ngroups; i++)
		if (sc->ngroups &&
		    bsearch(&s->groups[i], sc->groups, sc->ngroups,
			    sizeof(int64_t), compliance_id_cmp))
			return 1;
	return 0;
}

/* Empties a slot for the next user; the texts need only their first
 * byte cleared (scan_pair() copies them whole). */
static void scan_slot_clear(struct scan_slot *sl)
{
	sl->assigned = 0;
	sl->due[0] = 0;
	sl->recur_months = 0;
	sl->on_expiry = 0;
	sl->round_id = 0;
	sl->round_opened = 0;
	sl->round_reason[0] = 0;
	sl->round_due[0] = 0;
	sl->progress_from = 0;
	sl->cert_id = 0;
	sl->cert_issued = 0;
	sl->cert_expires = 0;
	sl->cert_seq = 0;
	sl->cert_number[0] = 0;
	sl->last_done = -1;
}

/* Hands the pairs of the user of the users cursor to fn. */
static int scan_user(struct scan *s,
		     int (*fn)(void *arg, const struct compliance_item *it),
		     void *arg)
{
	sqlite3_stmt *u = s->users.st;
	int64_t user = sqlite3_column_int64(u, 0);
	struct compliance_item it = { 0 };
	int rc;

	for (int i = 0; i < s->ncourses; i++)
		if (s->slots[i].assigned)
			scan_slot_clear(&s->slots[i]);
	if ((rc = scan_user_assignments(s, user)) ||
	    (rc = scan_user_facts(s, user)) || !scan_in_scope(s, user))
		return rc;
	it.name = db_text(u, 1);
	it.email = db_text(u, 2);
	it.groups = s->groups;
	it.ngroups = (int)s->ngroups;
	for (int i = 0; !rc && i < s->ncourses; i++) {
		if (!s->slots[i].assigned)
			continue;
		scan_pair(s, i, user, &s->slots[i], &it.pair);
		it.title = s->courses[i].title;
		it.status = compliance_status_on(&it.pair.facts, s->now,
						 s->today);
		rc = fn(arg, &it);
	}
	return rc;
}

static void scan_close(struct scan *s)
{
	for (size_t i = 0; i < sizeof(scan_sql) / sizeof(*scan_sql); i++)
		sqlite3_finalize(scan_cursor(s, i)->st);
	for (int i = 0; i < s->ncourses; i++) {
		free(s->courses[i].id);
		free(s->courses[i].title);
	}
	free(s->courses);
	free(s->versions);
	free(s->assignments);
	free(s->slots);
	free(s->groups);
}

static int scan_open(struct scan *s)
{
	int rc = scan_load_courses(s);

	if (!rc)
		rc = scan_load_versions(s);
	if (!rc)
		rc = scan_load_assignments(s);
	if (rc)
		return rc;
	s->only = -1;
	if (s->scope->course &&
	    (s->only = scan_course_find(s, s->scope->course)) < 0)
		s->only = -2;
	s->slots = calloc((size_t)s->ncourses + 1, sizeof(*s->slots));
	if (!s->slots)
		return STORE_ENOMEM;
	for (int i = 0; i < s->ncourses; i++)
		scan_slot_clear(&s->slots[i]);
	return scan_open_cursors(s);
}

int compliance_each(sqlite3 *db, const struct compliance_scope *scope,
		    int64_t now,
		    int (*fn)(void *arg, const struct compliance_item *it),
		    void *arg)
{
	struct scan s = { .db = db, .scope = scope, .now = now };
	int own = sqlite3_get_autocommit(db), rc;

	compliance_date(now, 0, s.today);
	if (own && db_exec(db, "BEGIN"))
		return STORE_EDB;
	rc = scan_open(&s);
	while (!rc && s.only != -2 && s.users.row == SQLITE_ROW) {
		rc = scan_user(&s, fn, arg);
		if (!rc)
			rc = scan_step(&s, &s.users);
	}
	scan_close(&s);
	if (own)
		db_exec(db, "COMMIT");
	return rc;
}

int compliance_id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int compliance_reach(sqlite3 *db, int64_t manager_id, int64_t **out,
		     size_t *n)
{
	sqlite3_stmt *st = db_prepare(
		db, "WITH RECURSIVE reach (id) AS (SELECT group_id FROM "
		    "group_members WHERE user_id = ?1 UNION SELECT g.id FROM "
		    "groups g JOIN reach r ON g.parent_id = r.id) SELECT id "
		    "FROM reach ORDER BY id");
	int64_t *ids = NULL, *more;
	size_t cap = 0, len = 0;
	int step = SQLITE_DONE, rc = st ? 0 : STORE_EDB;

	if (st)
		sqlite3_bind_int64(st, 1, manager_id);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(more = realloc(ids, cap * sizeof(*ids)))) {
				rc = STORE_ENOMEM;
				break;
			}
			ids = more;
		}
		ids[len++] = sqlite3_column_int64(st, 0);
	}
	if (!rc && step != SQLITE_DONE)
		rc = compliance_fail(db, "reach");
	sqlite3_finalize(st);
	if (rc) {
		free(ids);
		return rc;
	}
	*out = ids;
	*n = len;
	return 0;
}

cJSON *compliance_item_json(const struct compliance_item *it)
{
	const struct compliance_pair *p = &it->pair;
	cJSON *o = cJSON_CreateObject();

	if (!o ||
	    !cJSON_AddNumberToObject(o, "user", (double)p->user_id) ||
	    !cJSON_AddStringToObject(o, "name", it->name) ||
	    !cJSON_AddStringToObject(o, "email", it->email) ||
	    !cJSON_AddStringToObject(o, "course", p->course) ||
	    !cJSON_AddStringToObject(o, "title", it->title) ||
	    !cJSON_AddStringToObject(o, "status",
				     compliance_status_name(it->status)) ||
	    !compliance_add_text(o, "due", p->facts.due) ||
	    !cJSON_AddItemToObject(o, "round", compliance_round_json(p)) ||
	    !cJSON_AddItemToObject(o, "certificate",
				   compliance_cert_json(p))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- the runner of serve ---- */

struct compliance_runner {
	struct periodic job;
	const struct lms_clock *clock;
	const char *tenant;
	struct mail_sender *mail;
	sqlite3 *db; /* used by the run's thread only, one run at a time */
	int rc;
	struct compliance_tally tally;
	void (*done)(void *arg);
	void *done_arg;
};

static void compliance_runner_closed(void *arg)
{
	struct compliance_runner *r = arg;

	sqlite3_close_v2(r->db);
	if (r->done)
		r->done(r->done_arg);
	free(r);
}

static void compliance_runner_work(void *arg)
{
	struct compliance_runner *r = arg;

	r->rc = compliance_run(r->db, clock_now(r->clock), &r->tally);
}

static void compliance_runner_after(void *arg, int status)
{
	struct compliance_runner *r = arg;

	if (status != 0)
		return;
	if (r->rc)
		log_error("msg=\"compliance run failed\" tenant=%s "
			  "error=\"%s\"",
			  r->tenant, store_strerror(r->rc));
	else if (r->tally.rounds || r->tally.reminders || r->tally.digests)
		log_info("msg=\"compliance run\" tenant=%s rounds=%d "
			 "reminders=%d digests=%d", r->tenant, r->tally.rounds,
			 r->tally.reminders, r->tally.digests);
	if (r->tally.reminders || r->tally.digests)
		mail_sender_poke(r->mail);
}

int compliance_runner_start(uv_loop_t *loop, const char *data_dir,
			    const struct lms_clock *clock, const char *tenant,
			    struct mail_sender *mail,
			    struct compliance_runner **out)
{
	struct compliance_runner *r = calloc(1, sizeof(*r));
	char *path = fs_join(data_dir, STORE_FILE);
	int rc = r && path ? store_open(path, &r->db) : STORE_ENOMEM;

	free(path);
	if (rc) {
		free(r);
		return rc;
	}
	r->clock = clock;
	r->tenant = tenant;
	r->mail = mail;
	r->job.run = compliance_runner_work;
	r->job.after = compliance_runner_after;
	r->job.closed = compliance_runner_closed;
	r->job.arg = r;
	if (periodic_start(&r->job, loop, COMPLIANCE_TICK * 1000)) {
		sqlite3_close_v2(r->db);
		free(r);
		return STORE_ENOMEM;
	}
	*out = r;
	return 0;
}

void compliance_runner_poke(struct compliance_runner *r)
{
	/* pokes in a row (events caught up) make one run */
	if (r)
		periodic_poke(&r->job, COMPLIANCE_POKE_MS);
}

void compliance_runner_stop(struct compliance_runner *r,
			    void (*done)(void *arg), void *arg)
{
	if (!r || r->job.stopping)
		return;
	r->mail = NULL; /* stopped with it; not poked any more */
	r->done = done;
	r->done_arg = arg;
	periodic_stop(&r->job);
}
