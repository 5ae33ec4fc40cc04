/*
 * The outbox as admins read it (workspace/mail.h): GET
 * /api/v1/mail/outbox lists the mails of mail_outbox newest first, 50 a
 * page, with the count of each state, so an admin sees what waits, what
 * failed and why, and what went out. Bodies are never listed: a link
 * mail's body holds a secret.
 *
 * A mail's state: "sent" (the server accepted it), "queued" (not sent,
 * no attempt failed yet) or "retrying" (not sent, an attempt failed;
 * last_error says why and next_attempt when it is tried again).
 */
#include "workspace/mail.h"

#include "common/clock.h"
#include "common/db.h"
#include "common/log.h"
#include "common/query.h"
#include "workspace/api.h"
#include "workspace/auth.h"
#include "workspace/people.h"

#include <cjson/cJSON.h>
#include <string.h>

#define MAIL_API_PATH "/api/v1/mail/outbox"
#define MAIL_API_PAGE 50

enum mail_state { MAIL_STATE_ANY, MAIL_STATE_QUEUED, MAIL_STATE_RETRYING,
		  MAIL_STATE_SENT };

static const char *const mail_state_names[] = {
	[MAIL_STATE_ANY] = "", [MAIL_STATE_QUEUED] = "queued",
	[MAIL_STATE_RETRYING] = "retrying", [MAIL_STATE_SENT] = "sent",
};

/* The WHERE condition of each state, on the columns of mail_outbox. */
static const char *const mail_state_sql[] = {
	[MAIL_STATE_ANY] = "1",
	[MAIL_STATE_QUEUED] = "sent_at IS NULL AND attempts = 0",
	[MAIL_STATE_RETRYING] = "sent_at IS NULL AND attempts > 0",
	[MAIL_STATE_SENT] = "sent_at IS NOT NULL",
};

enum { MAIL_C_ID, MAIL_C_TO, MAIL_C_KIND, MAIL_C_SUBJECT, MAIL_C_CREATED,
       MAIL_C_ATTEMPTS, MAIL_C_NEXT, MAIL_C_SENT, MAIL_C_ERROR };

/* Adds name: the time of column col as ISO 8601, or null. */
static void mail_api_time(cJSON *o, const char *name, sqlite3_stmt *st,
			  int col)
{
	char iso[32];

	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	clock_format_iso(sqlite3_column_int64(st, col), iso, sizeof(iso));
	cJSON_AddStringToObject(o, name, iso);
}

static cJSON *mail_api_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	int sent = sqlite3_column_type(st, MAIL_C_SENT) != SQLITE_NULL;
	int attempts = sqlite3_column_int(st, MAIL_C_ATTEMPTS);

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id",
				(double)sqlite3_column_int64(st, MAIL_C_ID));
	cJSON_AddStringToObject(o, "to", db_text(st, MAIL_C_TO));
	cJSON_AddStringToObject(o, "kind", db_text(st, MAIL_C_KIND));
	cJSON_AddStringToObject(o, "subject", db_text(st, MAIL_C_SUBJECT));
	mail_api_time(o, "created", st, MAIL_C_CREATED);
	cJSON_AddNumberToObject(o, "attempts", attempts);
	if (sent)
		cJSON_AddNullToObject(o, "next_attempt");
	else
		mail_api_time(o, "next_attempt", st, MAIL_C_NEXT);
	mail_api_time(o, "sent", st, MAIL_C_SENT);
	if (sqlite3_column_type(st, MAIL_C_ERROR) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "last_error");
	else
		cJSON_AddStringToObject(o, "last_error",
					db_text(st, MAIL_C_ERROR));
	cJSON_AddStringToObject(o, "state", mail_state_names[
		sent ? MAIL_STATE_SENT : attempts ? MAIL_STATE_RETRYING :
						    MAIL_STATE_QUEUED]);
	return o;
}

/* One page of mails of state older than before (0: the newest) into
 * out's "mails" and "next_before": 0 or -1 (logged). */
static int mail_api_page(sqlite3 *db, enum mail_state state, int64_t before,
			 cJSON *out)
{
	char sql[512];
	cJSON *list = cJSON_AddArrayToObject(out, "mails"), *row;
	sqlite3_stmt *st;
	int64_t last = 0;
	int n = 0, rc;

	snprintf(sql, sizeof(sql), "SELECT id, recipient, kind, subject, "
		 "created_at, attempts, next_attempt_at, sent_at, last_error "
		 "FROM mail_outbox WHERE (?1 = 0 OR id < ?1) AND %s "
		 "ORDER BY id DESC LIMIT %d", mail_state_sql[state],
		 MAIL_API_PAGE + 1);
	if (!list || !(st = db_prepare(db, sql)))
		return -1;
	sqlite3_bind_int64(st, 1, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < MAIL_API_PAGE) {
		if (!(row = mail_api_row(st)))
			break;
		cJSON_AddItemToArray(list, row);
		last = sqlite3_column_int64(st, MAIL_C_ID);
		n++;
	}
	if (rc == SQLITE_ROW && n == MAIL_API_PAGE)
		cJSON_AddNumberToObject(out, "next_before", (double)last);
	else
		cJSON_AddNullToObject(out, "next_before");
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		log_error("msg=\"outbox not read\" error=\"%s\"",
			  sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int mail_outbox_counts(sqlite3 *db, int64_t *queued, int64_t *retrying,
		       int64_t *sent)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT "
		"coalesce(sum(sent_at IS NULL AND attempts = 0), 0), "
		"coalesce(sum(sent_at IS NULL AND attempts > 0), 0), "
		"coalesce(sum(sent_at IS NOT NULL), 0) FROM mail_outbox");
	int rc;

	if (!st)
		return MAIL_EDB;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*queued = sqlite3_column_int64(st, 0);
		*retrying = sqlite3_column_int64(st, 1);
		*sent = sqlite3_column_int64(st, 2);
	} else {
		log_error("msg=\"outbox not counted\" error=\"%s\"",
			  sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : MAIL_EDB;
}

/* "counts": the number of mails in each state: 0 or -1 (logged). */
static int mail_api_counts(sqlite3 *db, cJSON *out)
{
	cJSON *counts = cJSON_AddObjectToObject(out, "counts");
	int64_t n[3];

	if (!counts || mail_outbox_counts(db, &n[0], &n[1], &n[2]))
		return -1;
	for (int i = 0; i < 3; i++)
		cJSON_AddNumberToObject(counts,
					mail_state_names[MAIL_STATE_QUEUED + i],
					(double)n[i]);
	return 0;
}

/* The state and before of the query: 0, or -1 after answering 400. */
static int mail_api_query(struct http_exchange *x, const char *query,
			  enum mail_state *state, int64_t *before)
{
	char s[16];
	int q = query_get(query, "state", s, sizeof(s));

	*state = MAIL_STATE_ANY;
	for (int i = MAIL_STATE_QUEUED; q > 0 && i <= MAIL_STATE_SENT; i++)
		if (!strcmp(s, mail_state_names[i]))
			*state = i;
	if (q && *state == MAIL_STATE_ANY) {
		http_respond_error(x, 400, "bad_request", "state must be "
				   "queued, retrying or sent");
		return -1;
	}
	*before = 0;
	if (query_id(query, "before", before) < 0) {
		http_respond_error(x, 400, "bad_request",
				   "before must be a mail id");
		return -1;
	}
	return 0;
}

static void mail_api_list(struct api_ctx *api, struct http_exchange *x,
			  const struct http_request *req)
{
	struct people_user me;
	enum mail_state state;
	int64_t before;
	cJSON *out;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me) ||
	    mail_api_query(x, req->query, &state, &before))
		return;
	if (!(out = cJSON_CreateObject()) ||
	    mail_api_page(api->db, state, before, out) ||
	    mail_api_counts(api->db, out)) {
		cJSON_Delete(out);
		http_respond_error(x, 500, "internal",
				   "the outbox cannot be read");
		return;
	}
	http_add_header(x, "Cache-Control", "no-store");
	http_respond_json(x, 200, out);
}

int mail_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	if (strcmp(req->path, MAIL_API_PATH))
		return 0;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_add_header(x, "Allow", "GET, HEAD");
		http_respond_error(x, 405, "method_not_allowed",
				   "use GET");
		return 1;
	}
	mail_api_list(api, x, req);
	return 1;
}
