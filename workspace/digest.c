/*
 * The overdue copies to managers, one mail per manager and run: see
 * workspace/digest.h. The rows not mailed yet are found by the partial
 * index reminders_unmailed (workspace/compliance_schema.h), so a run
 * with nothing to send reads one index page and takes no lock.
 */
#include "workspace/digest.h"

#include "common/buf.h"
#include "common/db.h"
#include "common/log.h"
#include "workspace/certpdf.h"
#include "workspace/compliance.h"
#include "workspace/mail.h"
#include "workspace/people.h"
#include "workspace/store.h"
#include "workspace/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_DAY 86400

/* The copies of one manager not mailed yet, by learner and course. */
static const char digest_sql_rows[] =
	"SELECT r.id, u.name, coalesce(c.title, r.course_id), "
	"coalesce(r.due, ''), r.course_id FROM reminders r JOIN users u ON "
	"u.id = r.user_id LEFT JOIN courses c ON c.id = r.course_id WHERE "
	"r.recipient_id = ?1 AND r.mail_id IS NULL AND r.role = 'manager' "
	"ORDER BY u.name, 3, r.id";

/* One manager's mail as it is put together. */
struct digest_mail {
	const struct digest_params *p;
	int64_t now;
	int64_t manager;
	char email[MAIL_ADDRESS_MAX + 1];
	char name[PEOPLE_NAME_MAX + 1];
	char language[3];
	int64_t first;	 /* the first row's id: the mail's key */
	int count;	 /* rows */
	struct buf list; /* "- learner: course (due)" lines */
	/* the first row, for a mail of one */
	char learner[PEOPLE_NAME_MAX + 1];
	char course[1024];
	char course_id[128];
	char due[16];
};

static int digest_fail(sqlite3 *db, const char *what)
{
	log_error("msg=\"manager digest query failed\" what=%s error=\"%s\"",
		  what, sqlite3_errmsg(db));
	return STORE_EDB;
}

static void digest_copy(char *out, size_t cap, sqlite3_stmt *st, int col)
{
	snprintf(out, cap, "%s", db_text(st, col));
}

/* The managers who have copies not mailed yet, in a new array *out
 * (free() it) of *n. */
static int digest_managers(sqlite3 *db, int64_t **out, size_t *n)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT DISTINCT recipient_id FROM "
					  "reminders WHERE mail_id IS NULL "
					  "AND role = 'manager' ORDER BY 1");
	size_t cap = 0;
	int64_t *more;
	int step = SQLITE_DONE, rc = st ? 0 : STORE_EDB;

	*out = NULL;
	*n = 0;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(more = realloc(*out, cap * sizeof(*more)))) {
				rc = STORE_ENOMEM;
				break;
			}
			*out = more;
		}
		(*out)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	if (!rc && step != SQLITE_DONE)
		rc = digest_fail(db, "managers");
	sqlite3_finalize(st);
	return rc;
}

/* The manager's address, name and language: 1 when found. */
static int digest_person(sqlite3 *db, struct digest_mail *m)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT email, name, "
					  "coalesce(language, '') FROM users "
					  "WHERE id = ?1");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, m->manager);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		digest_copy(m->email, sizeof(m->email), st, 0);
		digest_copy(m->name, sizeof(m->name), st, 1);
		digest_copy(m->language, sizeof(m->language), st, 2);
	}
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return digest_fail(db, "manager");
	if (!m->language[0])
		snprintf(m->language, sizeof(m->language), "%s",
			 m->p->language);
	return step == SQLITE_ROW;
}

/* A due date in the manager's language ("20.01.2027", "2027-01-20"),
 * or "" for a row of before the dates were kept. */
static void digest_due_text(const struct digest_mail *m, const char *due,
			    char *out, size_t cap)
{
	int64_t day = compliance_day_start(due);

	out[0] = 0;
	if (day)
		certpdf_date(day, m->language, out, cap);
}

/* Adds the row of st to m: a line of the list, or the count of those
 * beyond DIGEST_LIST_MAX. */
static int digest_add(struct digest_mail *m, sqlite3_stmt *st)
{
	char due[16];

	digest_due_text(m, db_text(st, 3), due, sizeof(due));
	if (!m->count++) {
		m->first = sqlite3_column_int64(st, 0);
		digest_copy(m->learner, sizeof(m->learner), st, 1);
		digest_copy(m->course, sizeof(m->course), st, 2);
		digest_copy(m->due, sizeof(m->due), st, 3);
		digest_copy(m->course_id, sizeof(m->course_id), st, 4);
	} else if (sqlite3_column_int64(st, 0) < m->first) {
		m->first = sqlite3_column_int64(st, 0);
	}
	if (m->count > DIGEST_LIST_MAX)
		return 0;
	return buf_printf(&m->list, "- %s: %s%s%s%s\n",
			  db_text(st, 1), db_text(st, 2), due[0] ? " (" : "",
			  due, due[0] ? ")" : "") ? STORE_ENOMEM : 0;
}

static int digest_rows(sqlite3 *db, struct digest_mail *m)
{
	sqlite3_stmt *st = db_prepare(db, digest_sql_rows);
	int step = SQLITE_DONE, rc = st ? 0 : STORE_EDB;

	if (st)
		sqlite3_bind_int64(st, 1, m->manager);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = digest_add(m, st);
	if (!rc && step != SQLITE_DONE)
		rc = digest_fail(db, "rows");
	sqlite3_finalize(st);
	if (!rc && m->count > DIGEST_LIST_MAX &&
	    buf_printf(&m->list,
		       strcmp(m->language, "de") ? "- ... and %d more\n" :
						   "- ... und %d weitere\n",
		       m->count - DIGEST_LIST_MAX))
		rc = STORE_ENOMEM;
	return rc;
}

/* The text of a mail of one copy: the template "overdue_manager". */
static int digest_render_one(sqlite3 *db, const struct digest_mail *m,
			     char **subject, char **body)
{
	char due[16], days[24], url[STORE_SETTING_MAX + 160] = "";
	int64_t day = compliance_day_start(m->due);
	const struct template_var vars[] = {
		{ "manager", m->name }, { "learner", m->learner },
		{ "course", m->course }, { "due", due },
		{ "days", days },	 { "url", url },
	};

	digest_due_text(m, m->due, due, sizeof(due));
	snprintf(days, sizeof(days), "%lld",
		 day && m->now > day ?
			 (long long)((m->now - day) / DIGEST_DAY) : 0LL);
	if (m->p->web_url[0])
		snprintf(url, sizeof(url), "%s/#/course/%s", m->p->web_url,
			 m->course_id);
	return template_mail(db, "overdue_manager", m->language, vars,
			     sizeof(vars) / sizeof(vars[0]), subject, body);
}

/* The text of a mail of several: the template "overdue_digest". */
static int digest_render_list(sqlite3 *db, const struct digest_mail *m,
			      char **subject, char **body)
{
	char count[16], url[STORE_SETTING_MAX + 64] = "";
	const struct template_var vars[] = {
		{ "manager", m->name }, { "count", count },
		{ "list", buf_cstr(&m->list) }, { "url", url },
	};

	snprintf(count, sizeof(count), "%d", m->count);
	if (m->p->web_url[0])
		snprintf(url, sizeof(url),
			 "%s/#/admin/compliance?status=overdue",
			 m->p->web_url);
	return template_mail(db, "overdue_digest", m->language, vars,
			     sizeof(vars) / sizeof(vars[0]), subject, body);
}

/* Notes mail_id (0: none could be made) on the manager's rows. */
static int digest_link(sqlite3 *db, int64_t manager, int64_t mail_id)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE reminders SET mail_id = ?2 "
					  "WHERE recipient_id = ?1 AND "
					  "mail_id IS NULL AND role = "
					  "'manager'");
	int rc;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_int64(st, 1, manager);
	sqlite3_bind_int64(st, 2, mail_id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : digest_fail(db, "link");
	sqlite3_finalize(st);
	return rc;
}

/* The outbox row of key, which was just queued (or was there). */
static int digest_mail_id(sqlite3 *db, const char *key, int64_t *id)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT id FROM mail_outbox WHERE "
					  "dedup_key = ?1");
	int step;

	if (!st)
		return STORE_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	*id = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return step == SQLITE_ROW ? 0 : digest_fail(db, "outbox");
}

/* Queues m and notes it on its rows: 1, or 0 when the outbox refused
 * the address (logged, and the rows marked as not mailed, mail_id 0, so
 * that the next run does not try again). */
static int digest_queue(sqlite3 *db, struct digest_mail *m)
{
	char *subject = NULL, *body = NULL, key[64];
	int64_t id = 0;
	int rc;

	rc = m->count == 1 ? digest_render_one(db, m, &subject, &body) :
			     digest_render_list(db, m, &subject, &body);
	if (rc)
		return STORE_ENOMEM;
	snprintf(key, sizeof(key), "%s:%lld",
		 m->count == 1 ? "reminder" : "digest", (long long)m->first);
	rc = mail_enqueue(db, m->email, subject, body, "reminder", key,
			  m->now);
	free(subject);
	free(body);
	if (rc == MAIL_EDB)
		return STORE_EDB;
	if (rc == MAIL_EINVAL)
		log_warn("msg=\"manager digest not mailed: address "
			 "refused\" recipient=%lld reminders=%d",
			 (long long)m->manager, m->count);
	else if ((rc = digest_mail_id(db, key, &id)))
		return rc;
	rc = digest_link(db, m->manager, id);
	return rc ? rc : id != 0;
}

/* One manager's mail, in the caller's transaction: 1 when queued. */
static int digest_one(sqlite3 *db, struct digest_mail *m)
{
	int rc = digest_person(db, m);

	if (rc <= 0)
		return rc; /* a manager deleted since: their rows went too */
	if ((rc = digest_rows(db, m)) || !m->count)
		return rc;
	return digest_queue(db, m);
}

int digest_send(sqlite3 *db, int64_t now, const struct digest_params *p,
		int *mails)
{
	int64_t *managers;
	size_t n;
	int rc = digest_managers(db, &managers, &n), one;

	*mails = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		struct digest_mail m = { .p = p, .now = now,
					 .manager = managers[i] };

		buf_init(&m.list);
		if (db_begin(db)) {
			rc = STORE_EDB;
		} else if ((one = digest_one(db, &m)) < 0) {
			rc = one;
			db_rollback(db);
		} else if (db_commit(db)) {
			rc = STORE_EDB;
			db_rollback(db);
		} else {
			*mails += one;
		}
		buf_release(&m.list);
	}
	free(managers);
	return rc;
}
