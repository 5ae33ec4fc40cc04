/*
 * The settings an admin changes: the tenant's SMTP server and sender,
 * the academy's web address and the reminder schedule. They live in the
 * settings table of workspace.db; every value is checked before it is
 * stored, and a change of several keys is one transaction.
 *
 *   GET /api/v1/settings  (admin) -> {"smtp.url", "smtp.user",
 *                         "smtp.password_set": bool, "mail.from",
 *                         "web.url", "reminders.schedule"}, null when
 *                         unset; the password itself is never shown
 *   PUT /api/v1/settings  (admin) {key: string or null, ...} -> 200 as
 *                         GET; 400 naming the first key refused, and
 *                         then nothing changes. null or "" unsets.
 *
 * The reminder schedule is a comma-separated list of at most
 * SETTINGS_REMINDERS_MAX distinct entries, each one of
 *   -N       N days before an assignment is due
 *   0        on the due date
 *   +N       N days after the due date (overdue; also to the manager)
 *   expiry-N N days before a certificate expires
 * with N from 1 to 365, e.g. "-14,0,+7,expiry-30" (the default).
 *
 * The mail templates are settings too, mail.template.<kind>.<lang>.
 * subject and .body (workspace/template.h checks them, up to
 * TEMPLATE_TEXT_MAX bytes); GET /api/v1/settings does not show them,
 * GET /api/v1/mail-templates does, PUT /api/v1/settings takes them.
 */
#ifndef LMS_WORKSPACE_SETTINGS_H
#define LMS_WORKSPACE_SETTINGS_H

#include "common/http.h"
#include "workspace/api.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>

#define SETTINGS_SMTP_URL "smtp.url"
#define SETTINGS_SMTP_USER "smtp.user"
#define SETTINGS_SMTP_PASSWORD "smtp.password"
#define SETTINGS_MAIL_FROM "mail.from"
#define SETTINGS_WEB_URL "web.url"
#define SETTINGS_REMINDERS "reminders.schedule"

#define SETTINGS_REMINDERS_DEFAULT "-14,0,+7,expiry-30"
#define SETTINGS_REMINDERS_MAX 16
#define SETTINGS_WHY_MAX 256 /* bytes of a refusal's reason */

enum settings_error {
	SETTINGS_OK = 0,
	SETTINGS_EKEY = -1,   /* not a key of this module */
	SETTINGS_EVALUE = -2, /* a value the key does not take */
	SETTINGS_EDB = -3,    /* SQLite failed; logged */
	SETTINGS_ENOTSET = -4 /* the key has no value */
};

/* Answers req when its path is one of this module's; see api_route_fn. */
int settings_route(struct api_ctx *api, struct http_exchange *x,
		   const struct http_request *req);

/* 1 when key is one of the keys above. */
int settings_known(const char *key);

/* Checks value for key: 0, SETTINGS_EKEY, or SETTINGS_EVALUE with the
 * reason in why (SETTINGS_WHY_MAX bytes). "" is always accepted: it
 * unsets the key. */
int settings_check(const char *key, const char *value, char *why);

/* Stores n key/value pairs (value NULL or "" unsets) in one
 * transaction after checking them all: on the first refusal *bad is
 * its index, why the reason, and nothing is stored. Joins the caller's
 * transaction when one is open (audit_begin(), workspace/audit.h). */
int settings_put(sqlite3 *db, const char *const *keys,
		 const char *const *values, size_t n, size_t *bad,
		 char *why);

/* settings_put() and its audit entry ("settings.change", or
 * "template.change" when every key is a mail template's; secrets and
 * template texts are not written into it) in one transaction. */
struct audit_actor;
int settings_put_audited(sqlite3 *db, const struct audit_actor *who,
			 int64_t now, const char *const *keys,
			 const char *const *values, size_t n, size_t *bad,
			 char *why);

/* The value of key into out (cap bytes): 0, SETTINGS_ENOTSET,
 * SETTINGS_EKEY, SETTINGS_EDB. */
int settings_get(sqlite3 *db, const char *key, char *out, size_t cap);

/* Prints "key=value" for key, or for every key when key is NULL, with
 * "(not set)" for a missing value and "(set)" instead of the password.
 * Returns as settings_get(); a missing key alone is SETTINGS_ENOTSET. */
int settings_print(sqlite3 *db, const char *key, FILE *out);

/* One entry of the reminder schedule. */
struct settings_reminder {
	int expiry; /* 1: days before a certificate expires */
	int days;   /* relative to the due date (<0 before), or before
		     * expiry (>0) */
};

/* Parses a schedule into out (SETTINGS_REMINDERS_MAX entries): the
 * count, or SETTINGS_EVALUE with the reason in why. */
int settings_reminders_parse(const char *s,
			     struct settings_reminder *out, char *why);

/* The tenant's schedule (the default when unset), parsed: the count, or
 * a negative SETTINGS_E* code. */
int settings_reminders(sqlite3 *db, struct settings_reminder *out);

#endif
