/*
 * Texts a tenant words itself: a small placeholder engine and the mail
 * templates built on it.
 *
 * A template is UTF-8 text with placeholders {{name}}, the name made of
 * a to z and _. template_check() runs when a template is saved and
 * refuses a name the kind of text does not offer, a {{ left open or not
 * followed by a name and }}, a }} without its {{ and text that is not
 * UTF-8 or too long; the reason names what it found. template_render()
 * substitutes the values as they are (a mail is plain text; a caller
 * that needs escaping, as certpdf.c for its pango markup, escapes text
 * and values itself) and leaves a name it was not given out. The
 * engine is template.c; the mail templates are mailtpl.c.
 *
 * The mail templates are settings of the tenant (settings.c stores and
 * checks them), one subject and one body per kind and language:
 *   mail.template.<kind>.<lang>.subject
 *   mail.template.<kind>.<lang>.body       (lang "de" or "en")
 * A kind the tenant did not word uses the built-in default text.
 *
 *   GET /api/v1/mail-templates (admin) -> {"templates": [{"kind",
 *       "language", "subject", "body", "custom": bool,
 *       "placeholders": [...]}, ...]}: every kind and language, the
 *       default shown where the tenant set none
 *
 * Functions return 0 or a negative TEMPLATE_E* code.
 */
#ifndef LMS_WORKSPACE_TEMPLATE_H
#define LMS_WORKSPACE_TEMPLATE_H

#include "common/buf.h"
#include "common/http.h"
#include "workspace/api.h"

#include <sqlite3.h>
#include <stddef.h>

#define TEMPLATE_TEXT_MAX 16384 /* bytes of one template */
#define TEMPLATE_NAME_MAX 32	/* bytes of a placeholder's name */
#define TEMPLATE_WHY_MAX 160	/* bytes of a refusal's reason */
#define TEMPLATE_MAIL_KEYS 28	/* 7 kinds x (de, en) x (subject, body) */

enum template_error {
	TEMPLATE_OK = 0,
	TEMPLATE_ESYNTAX = -1,	/* a {{ or }} out of place, a bad name */
	TEMPLATE_EUNKNOWN = -2, /* a placeholder the text does not offer */
	TEMPLATE_EUTF8 = -3,	/* not UTF-8, or a NUL byte */
	TEMPLATE_ETOOLONG = -4, /* more than TEMPLATE_TEXT_MAX bytes */
	TEMPLATE_ENOMEM = -5,
	TEMPLATE_EKIND = -6, /* not a kind of mail */
	TEMPLATE_EDB = -7    /* SQLite failed; logged */
};

/* A short text for a TEMPLATE_E* code; never NULL. */
const char *template_strerror(int code);

/* One placeholder's value; both borrowed. */
struct template_var {
	const char *name;
	const char *value;
};

/* Checks text (NUL-terminated) against the n names in allowed: 0, or a
 * negative code with the reason in why (whycap bytes, may be 0), such as
 * "unknown placeholder {{foo}}" or "unclosed {{ at byte 17". A single {
 * or } is plain text. */
int template_check(const char *text, const char *const *allowed, size_t n,
		   char *why, size_t whycap);

/* Appends text with every {{name}} replaced by the value of the first
 * of the n vars with that name; a name without a value, and the {{ of
 * a broken placeholder, are left out (template_check() refuses both on
 * save). 0 or TEMPLATE_ENOMEM (out may then hold part of the text). */
int template_render(const char *text, const struct template_var *vars,
		    size_t n, struct buf *out);

/* 1 when text holds the placeholder {{name}}, else 0. */
int template_uses(const char *text, const char *name);

/* ---- mail templates ---- */

/* The placeholders the kind of mail offers, NULL-terminated, or NULL
 * for a kind that does not exist. Static. */
const char *const *template_mail_placeholders(const char *kind);

/* Checks a value for a settings key: 1 when key is a mail template key
 * (then *rc is 0 or a negative TEMPLATE_E* code with the reason in why,
 * whycap bytes), 0 when it is not one (*rc untouched). A subject must
 * also be one line (mail_subject_valid() once rendered). "" unsets and
 * is always accepted. */
int template_mail_key(const char *key, const char *value, int *rc,
		      char *why, size_t whycap);

/* Renders the mail of kind ("invite", "reset", "reminder", "overdue",
 * "overdue_manager", "overdue_digest", "expiry") in language ("de" or
 * "en"; NULL, "" or another: the academy's default language) from the
 * tenant's template, or the built-in default when the tenant set none:
 * *subject and *body are malloc'd (free()). vars give the
 * placeholders' values; "academy" is filled in from the branding name
 * when vars lack it. 0, or a negative code. */
int template_mail(sqlite3 *db, const char *kind, const char *language,
		  const struct template_var *vars, size_t n,
		  char **subject, char **body);

/* Answers req when its path is one of this module's; see api_route_fn. */
int template_route(struct api_ctx *api, struct http_exchange *x,
		   const struct http_request *req);

#endif
