/*
 * Mail of a workspace: a durable outbox in workspace.db and the sender
 * that empties it through the tenant's own SMTP server (libcurl).
 *
 * A module that decides to send a mail queues it with mail_enqueue()
 * inside its own transaction, so the mail exists exactly when the
 * decision does. Each mail has a dedup key, unique in the outbox: a
 * second mail with the same key is not queued, so nobody gets the same
 * reminder twice. The sender (in serve, on a timer and when poked) sends
 * one due mail at a time on the thread pool and marks it sent only when
 * the server accepted it; a failure counts an attempt and puts the next
 * one off (30 s, doubling, at most 1 h), so a server that is down delays
 * mail and loses none. `lms-workspace mail flush` sends what is due once
 * from the command line. A mail being sent is claimed for MAIL_LEASE
 * seconds, so a serve and a flush at the same time do not send it twice.
 *
 * Messages are RFC 5322: CRLF lines, Date, From, To, Subject (RFC 2047
 * when not plain ASCII), Message-ID, MIME-Version and a UTF-8 text body
 * in quoted-printable. Addresses and subjects with CR, LF or other
 * control characters are refused (no header injection).
 *
 * Functions return 0 or a negative MAIL_E* code; database failures are
 * logged once where they happen. A connection belongs to one thread.
 */
#ifndef LMS_WORKSPACE_MAIL_H
#define LMS_WORKSPACE_MAIL_H

#include "common/buf.h"
#include "common/clock.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

enum mail_error {
	MAIL_OK = 0,
	MAIL_EINVAL = -1,   /* an address, subject or body refused */
	MAIL_EDB = -2,	    /* SQLite failed; logged */
	MAIL_ENOMEM = -3,
	MAIL_ECONFIG = -4,  /* smtp.url or mail.from not set */
	MAIL_ESEND = -5,    /* the server refused or could not be reached */
	MAIL_ENOTFOUND = -6 /* no mail due */
};

/* A short text for a MAIL_E* code; never NULL. */
const char *mail_strerror(int code);

#define MAIL_ADDRESS_MAX 254
#define MAIL_SUBJECT_MAX 200   /* bytes of UTF-8 */
#define MAIL_BODY_MAX 65536    /* bytes */
#define MAIL_ERROR_MAX 256     /* bytes of last_error, with the NUL */
#define MAIL_BACKOFF_FIRST 30  /* seconds after the first failure */
#define MAIL_BACKOFF_MAX 3600  /* seconds, the longest wait */
#define MAIL_LEASE 600	       /* seconds a mail being sent is claimed */

/* ---- checks and formatting (pure) ---- */

/* 1 when s is an address local@domain we send to: printable ASCII
 * without spaces, quotes, brackets or control characters, at most
 * MAIL_ADDRESS_MAX bytes. */
int mail_address_valid(const char *s);

/* Splits a sender "addr" or "Name <addr>" into name (may become "") and
 * addr (each at least MAIL_ADDRESS_MAX + 1 bytes): 0, or MAIL_EINVAL
 * when the address is not valid or the name holds control characters,
 * quotes or angle brackets, or is not UTF-8. */
int mail_from_parse(const char *from, char *name, char *addr);

/* 1 when s is UTF-8 without any control character, at most
 * MAIL_SUBJECT_MAX bytes and not empty. */
int mail_subject_valid(const char *s);

/* The seconds to wait after the attempts-th failed attempt (1, 2, ...):
 * 30, 60, 120, ... at most MAIL_BACKOFF_MAX. */
int64_t mail_backoff(int attempts);

/* What goes into one message. */
struct mail_message {
	const char *from;    /* "addr" or "Name <addr>" */
	const char *to;	     /* an address */
	const char *subject; /* UTF-8 */
	const char *body;    /* UTF-8 text, "\n" or "\r\n" line ends */
	int64_t date;	     /* unix seconds */
	const char *message_id; /* "<...@...>", or NULL for a random one */
};

/* Appends the whole RFC 5322 message to out: 0, MAIL_EINVAL for a
 * refused address or subject (out is then unchanged in meaning but may
 * hold part of the message), MAIL_ENOMEM. */
int mail_format(const struct mail_message *m, struct buf *out);

/* ---- the outbox ---- */

/* Queues a mail, without a transaction of its own: call it inside the
 * caller's. kind names what it is ("invite", "reset", "reminder",
 * "test", ...); dedup_key is unique over the outbox. 0 when queued, 1
 * when a mail with dedup_key is already there (nothing changes),
 * MAIL_EINVAL for a refused address or subject, MAIL_EDB. */
int mail_enqueue(sqlite3 *db, const char *to, const char *subject,
		 const char *body, const char *kind, const char *dedup_key,
		 int64_t now);

enum mail_link_kind {
	MAIL_LINK_INVITE,
	MAIL_LINK_RESET,
};

/* Queues the invitation or password reset mail for a person: the
 * tenant's template "invite" or "reset" (template_mail(), the default
 * text when it set none) in language ("de"; anything else is English)
 * with name and url (a path such as /#/password?token=... is made
 * absolute with the setting web.url when it is set) as {{learner}} and
 * {{url}}. The dedup key is the kind and a hash of the
 * url, so one link is mailed once. Inside the caller's transaction, as
 * mail_enqueue(). */
int mail_enqueue_link(sqlite3 *db, const char *email, const char *name,
		      const char *language, enum mail_link_kind kind,
		      const char *url, int64_t now);

/* The same in a transaction of its own, for a caller that made the link
 * in its own: 0 (also when the mail was already queued), or a negative
 * code; nothing is queued on error. */
int mail_queue_link(sqlite3 *db, const char *email, const char *name,
		    const char *language, enum mail_link_kind kind,
		    const char *url, int64_t now);

/* 1 when a mail of kind to the address to was queued at since or
 * later, 0 when not, MAIL_EDB: lets a self-service path mail someone at
 * most once in a while. */
#define MAIL_RESET_INTERVAL 300 /* seconds between reset mails */
int mail_recent(sqlite3 *db, const char *to, const char *kind,
		int64_t since);

/* The SMTP settings a send needs, read from workspace.db. */
struct mail_config {
	char url[256];
	char user[256];
	char password[256];
	char from[256];
};

/* Reads the settings: MAIL_ECONFIG when smtp.url or mail.from is not
 * set. Wipe it with mail_config_wipe() after use. */
int mail_config_load(sqlite3 *db, struct mail_config *c);
void mail_config_wipe(struct mail_config *c);

/* One queued mail; the texts are malloc'd, freed by mail_release(). */
struct mail {
	int64_t id;
	char *to;
	char *subject;
	char *body;
	char *kind;
	int attempts;
};

void mail_release(struct mail *m);

/* Claims the mail due first at now (not sent, next_attempt_at <= now):
 * puts its next attempt MAIL_LEASE seconds off, in one transaction, and
 * copies it into out. MAIL_ENOTFOUND when none is due. */
int mail_claim_due(sqlite3 *db, int64_t now, struct mail *out);

/* Sends m through the server of c and waits for its answer; blocking,
 * so for the thread pool or the command line. 0 when the server
 * accepted the mail; MAIL_ESEND with the reason in err (cap bytes);
 * MAIL_EINVAL when the mail cannot be formatted. */
int mail_send_one(const struct mail_config *c, const struct mail *m,
		  int64_t now, char *err, size_t cap);

/* Records the outcome of an attempt: sent at now, or failed with err
 * (attempts + 1, the next one mail_backoff() later). */
int mail_mark_sent(sqlite3 *db, const struct mail *m, int64_t now);
int mail_mark_failed(sqlite3 *db, const struct mail *m, int64_t now,
		     const char *err);

/* Sends every mail due at now once, one after the other, on the calling
 * thread (for `mail flush`); counts them in *sent and *failed. 0 when
 * every attempt could be made (failures of the server included),
 * MAIL_ECONFIG, MAIL_EDB. */
int mail_flush(sqlite3 *db, int64_t now, int *sent, int *failed);

/* ---- the sender of serve ---- */

struct mail_sender;

/* Starts the sender on loop with the loop's connection db (borrowed, as
 * clock and tenant, until stopped): it looks for due mail every
 * MAIL_TICK seconds and when poked, and sends on the thread pool. */
#define MAIL_TICK 15
int mail_sender_start(uv_loop_t *loop, sqlite3 *db,
		      const struct lms_clock *clock, const char *tenant,
		      struct mail_sender **out);

/* Looks for due mail at once (after a mail_enqueue that committed). */
void mail_sender_poke(struct mail_sender *s);

/* Stops the sender: a send in flight finishes (and is recorded) first;
 * then done(arg) runs on the loop and the sender is freed. */
void mail_sender_stop(struct mail_sender *s, void (*done)(void *arg),
		      void *arg);

/* ---- the outbox for admins (workspace/mail_api.c) ---- */

/* The mails of the outbox: not sent with no failed attempt, not sent
 * after a failed one, sent. 0 or MAIL_EDB (logged). */
int mail_outbox_counts(sqlite3 *db, int64_t *queued, int64_t *retrying,
		       int64_t *sent);

/* GET /api/v1/mail/outbox[?state=queued|retrying|sent][&before=ID]
 * (admins): {"mails": [{"id", "to", "kind", "subject", "created",
 * "attempts", "next_attempt", "sent", "last_error", "state"}],
 * "counts": {"queued", "retrying", "sent"}, "next_before"}, newest
 * first, 50 a page. Answers req when its path is this module's; see
 * api_route_fn in workspace/api.h. */
struct api_ctx;
struct http_exchange;
struct http_request;
int mail_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req);

#endif
