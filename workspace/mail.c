/*
 * The mail outbox and its sender: checks of addresses and subjects, the
 * RFC 5322 message, the outbox rows (queue, claim, sent, failed), one
 * SMTP transaction with libcurl, and the libuv sender of serve that
 * sends one due mail at a time on the thread pool and records the
 * outcome on the loop.
 */
#include "workspace/mail.h"

#include "common/crypto.h"
#include "common/db.h"
#include "common/log.h"
#include "common/utf8.h"
#include "workspace/settings.h"
#include "workspace/store.h"
#include "workspace/template.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAIL_ENCODED_CHUNK 42 /* bytes per RFC 2047 word: lines <= 78 */
#define MAIL_QP_LINE 76	      /* characters of a quoted-printable line */

const char *mail_strerror(int code)
{
	switch (code) {
	case MAIL_OK: return "ok";
	case MAIL_EINVAL: return "address, subject or body refused";
	case MAIL_EDB: return "database error";
	case MAIL_ENOMEM: return "out of memory";
	case MAIL_ECONFIG: return "smtp.url or mail.from is not set";
	case MAIL_ESEND: return "the mail server did not take the mail";
	case MAIL_ENOTFOUND: return "no mail due";
	default: return "unknown error";
	}
}

/* ---- checks ---- */

/* The length of the well-formed UTF-8 sequence at p, 0 if there is
 * none (overlong forms, surrogates, values past U+10FFFF). */
static size_t mail_utf8_len(const unsigned char *p)
{
	/* p is NUL-terminated: a sequence cut by the NUL fails there (a NUL
	 * is no continuation byte), so nothing past it is read */
	return utf8_seq_len(p, 4);
}

/* 1 when s is UTF-8 without control characters (tab and line ends too,
 * unless text is set: then "\t", "\r" and "\n" may occur). */
static int mail_utf8_valid(const char *s, int text)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len;

	while (*p) {
		if ((*p < 0x20 && !(text && strchr("\t\r\n", *p))) ||
		    *p == 0x7f)
			return 0;
		if (!(len = mail_utf8_len(p)))
			return 0;
		p += len;
	}
	return 1;
}

int mail_address_valid(const char *s)
{
	const char *at = s ? strrchr(s, '@') : NULL;
	size_t n;

	if (!at || at == s || !at[1] || strchr(s, '@') != at)
		return 0;
	n = strlen(s);
	if (n > MAIL_ADDRESS_MAX || at[1] == '.' || s[n - 1] == '.')
		return 0;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"(),:;<>[\\]", *p))
			return 0;
	return 1;
}

int mail_from_parse(const char *from, char *name, char *addr)
{
	const char *lt = strchr(from, '<');
	size_t n;

	name[0] = 0;
	if (!lt) {
		if (strlen(from) > MAIL_ADDRESS_MAX)
			return MAIL_EINVAL;
		strcpy(addr, from);
		return mail_address_valid(addr) ? 0 : MAIL_EINVAL;
	}
	n = strlen(lt);
	if (n < 3 || lt[n - 1] != '>' || n - 2 > MAIL_ADDRESS_MAX)
		return MAIL_EINVAL;
	memcpy(addr, lt + 1, n - 2);
	addr[n - 2] = 0;
	n = (size_t)(lt - from);
	while (n && from[n - 1] == ' ')
		n--;
	if (n > MAIL_ADDRESS_MAX)
		return MAIL_EINVAL;
	memcpy(name, from, n);
	name[n] = 0;
	if (!mail_address_valid(addr) || !mail_utf8_valid(name, 0) ||
	    strpbrk(name, "\"<>\\"))
		return MAIL_EINVAL;
	return 0;
}

int mail_subject_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n && n <= MAIL_SUBJECT_MAX && mail_utf8_valid(s, 0);
}

int64_t mail_backoff(int attempts)
{
	int64_t wait = MAIL_BACKOFF_FIRST;

	for (int i = 1; i < attempts && wait < MAIL_BACKOFF_MAX; i++)
		wait *= 2;
	return wait < MAIL_BACKOFF_MAX ? wait : MAIL_BACKOFF_MAX;
}

/* ---- the message ---- */

static int mail_is_plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return 0;
	return !strstr(s, "=?");
}

/* Appends s as RFC 2047 encoded words (UTF-8, base64), folded between
 * words, never splitting a UTF-8 sequence. */
static int mail_put_encoded(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char b64[2 * MAIL_ENCODED_CHUNK];
	size_t chunk, len;
	int rc = 0, first = 1;

	while (*p && !rc) {
		chunk = 0;
		while (p[chunk]) {
			len = mail_utf8_len(p + chunk);
			if (!len || chunk + len > MAIL_ENCODED_CHUNK)
				break;
			chunk += len;
		}
		if (!chunk)
			return MAIL_EINVAL;
		EVP_EncodeBlock(b64, p, (int)chunk);
		rc = buf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ",
				(const char *)b64);
		first = 0;
		p += chunk;
	}
	return rc ? MAIL_ENOMEM : 0;
}

/* A phrase or unstructured text: as it is when plain ASCII, else
 * encoded. */
static int mail_put_text(struct buf *out, const char *s)
{
	if (mail_is_plain(s))
		return buf_append_str(out, s) ? MAIL_ENOMEM : 0;
	return mail_put_encoded(out, s);
}

static int mail_put_from(struct buf *out, const char *from)
{
	char name[MAIL_ADDRESS_MAX + 1], addr[MAIL_ADDRESS_MAX + 1];
	int rc;

	if (mail_from_parse(from, name, addr))
		return MAIL_EINVAL;
	if (buf_append_str(out, "From: "))
		return MAIL_ENOMEM;
	if (*name && mail_is_plain(name))
		rc = buf_printf(out, "\"%s\" ", name) ? MAIL_ENOMEM : 0;
	else if (*name)
		rc = mail_put_encoded(out, name) ? MAIL_ENOMEM :
		     buf_append_str(out, " ") ? MAIL_ENOMEM : 0;
	else
		rc = 0;
	if (!rc && buf_printf(out, "<%s>\r\n", addr))
		rc = MAIL_ENOMEM;
	return rc;
}

/* Date in RFC 5322 form, in UTC, without the locale's names. */
static int mail_put_date(struct buf *out, int64_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
					 "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
					    "May", "Jun", "Jul", "Aug",
					    "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		return MAIL_EINVAL;
	return buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000"
			  "\r\n", days[tm.tm_wday], tm.tm_mday,
			  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
			  tm.tm_min, tm.tm_sec) ? MAIL_ENOMEM : 0;
}

static int mail_put_message_id(struct buf *out, const struct mail_message *m)
{
	char name[MAIL_ADDRESS_MAX + 1], addr[MAIL_ADDRESS_MAX + 1];
	char hex[33];
	uint8_t rnd[16];

	if (m->message_id)
		return mail_utf8_valid(m->message_id, 0) &&
				       m->message_id[0] == '<' ?
			       (buf_printf(out, "Message-ID: %s\r\n",
					   m->message_id) ? MAIL_ENOMEM : 0) :
			       MAIL_EINVAL;
	if (mail_from_parse(m->from, name, addr) || crypto_random(rnd, 16))
		return MAIL_EINVAL;
	crypto_hex(rnd, sizeof(rnd), hex);
	return buf_printf(out, "Message-ID: <%s@%s>\r\n", hex,
			  strrchr(addr, '@') + 1) ? MAIL_ENOMEM : 0;
}

/* One line (without its end) in quoted-printable, with soft breaks. */
static int mail_put_qp_line(struct buf *out, const unsigned char *p,
			    size_t n)
{
	char piece[4];
	size_t col = 0, w;
	int last;

	for (size_t i = 0; i < n; i++) {
		last = i + 1 == n;
		if ((p[i] >= 33 && p[i] <= 126 && p[i] != '=' &&
		     !(p[i] == '.' && col == 0)) ||
		    ((p[i] == ' ' || p[i] == '\t') && !last))
			snprintf(piece, sizeof(piece), "%c", p[i]);
		else
			snprintf(piece, sizeof(piece), "=%02X", p[i]);
		w = strlen(piece);
		if (col + w > MAIL_QP_LINE - 1) {
			if (buf_append_str(out, "=\r\n"))
				return MAIL_ENOMEM;
			col = 0;
			if (piece[0] == '.')
				snprintf(piece, sizeof(piece), "=2E");
			w = strlen(piece);
		}
		if (buf_append_str(out, piece))
			return MAIL_ENOMEM;
		col += w;
	}
	return buf_append_str(out, "\r\n") ? MAIL_ENOMEM : 0;
}

static int mail_put_body(struct buf *out, const char *body)
{
	const char *p = body, *nl;
	size_t n;
	int rc = 0;

	while (*p && !rc) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n && p[n - 1] == '\r')
			n--;
		rc = mail_put_qp_line(out, (const unsigned char *)p, n);
		p = nl ? nl + 1 : p + strlen(p);
	}
	return rc;
}

int mail_format(const struct mail_message *m, struct buf *out)
{
	int rc;

	if (!mail_address_valid(m->to) || !mail_subject_valid(m->subject) ||
	    !m->body || strlen(m->body) > MAIL_BODY_MAX ||
	    !mail_utf8_valid(m->body, 1))
		return MAIL_EINVAL;
	rc = mail_put_date(out, m->date);
	if (!rc)
		rc = mail_put_from(out, m->from);
	if (!rc && buf_printf(out, "To: <%s>\r\nSubject: ", m->to))
		rc = MAIL_ENOMEM;
	if (!rc)
		rc = mail_put_text(out, m->subject);
	if (!rc && buf_append_str(out, "\r\n"))
		rc = MAIL_ENOMEM;
	if (!rc)
		rc = mail_put_message_id(out, m);
	if (!rc && buf_append_str(out, "MIME-Version: 1.0\r\n"
				  "Content-Type: text/plain; charset=UTF-8\r\n"
				  "Content-Transfer-Encoding: "
				  "quoted-printable\r\n\r\n"))
		rc = MAIL_ENOMEM;
	if (!rc)
		rc = mail_put_body(out, m->body);
	return rc;
}

/* ---- the outbox ---- */

static int mail_db_fail(sqlite3 *db, const char *step)
{
	log_error("msg=\"mail outbox query failed\" step=%s error=\"%s\"",
		  step, sqlite3_errmsg(db));
	return MAIL_EDB;
}

int mail_enqueue(sqlite3 *db, const char *to, const char *subject,
		 const char *body, const char *kind, const char *dedup_key,
		 int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (!mail_address_valid(to) || !mail_subject_valid(subject) ||
	    !body || strlen(body) > MAIL_BODY_MAX ||
	    !mail_utf8_valid(body, 1) || !kind || !*kind || !dedup_key ||
	    !*dedup_key)
		return MAIL_EINVAL;
	st = db_prepare(db, "INSERT INTO mail_outbox (recipient, subject, "
			"body, kind, dedup_key, created_at, next_attempt_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
			"ON CONFLICT (dedup_key) DO NOTHING");
	if (!st)
		return MAIL_EDB;
	sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, dedup_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = mail_db_fail(db, "enqueue");
	else
		rc = sqlite3_changes(db) ? 0 : 1;
	sqlite3_finalize(st);
	return rc;
}

int mail_enqueue_link(sqlite3 *db, const char *email, const char *name,
		      const char *language, enum mail_link_kind kind,
		      const char *url, int64_t now)
{
	char key[80], hex[2 * CRYPTO_SHA256_LEN + 1];
	char base[STORE_SETTING_MAX];
	uint8_t hash[CRYPTO_SHA256_LEN];
	const char *kind_name = kind == MAIL_LINK_INVITE ? "invite" : "reset";
	char *subject = NULL, *body = NULL;
	struct template_var vars[2];
	struct buf link;
	int rc, trc;

	if (url[0] != '/' ||
	    settings_get(db, SETTINGS_WEB_URL, base, sizeof(base)))
		base[0] = 0;
	else if (base[strlen(base) - 1] == '/')
		base[strlen(base) - 1] = 0;
	buf_init(&link);
	rc = buf_printf(&link, "%s%s", base, url) ? MAIL_ENOMEM : 0;
	vars[0] = (struct template_var){ "learner",
					 name && *name ? name : email };
	vars[1] = (struct template_var){ "url", buf_cstr(&link) };
	if (!rc && (trc = template_mail(db, kind_name, language, vars, 2,
					&subject, &body)))
		rc = trc == TEMPLATE_EDB ? MAIL_EDB : MAIL_ENOMEM;
	if (!rc) {
		/* the key names the link without giving it away */
		crypto_sha256(url, strlen(url), hash);
		crypto_hex(hash, 16, hex);
		snprintf(key, sizeof(key), "%s:%s", kind_name, hex);
		rc = mail_enqueue(db, email, subject, body, kind_name, key,
				  now);
	}
	if (link.data)
		explicit_bzero(link.data, link.len);
	if (body)
		explicit_bzero(body, strlen(body));
	buf_release(&link);
	free(subject);
	free(body);
	return rc;
}

int mail_queue_link(sqlite3 *db, const char *email, const char *name,
		    const char *language, enum mail_link_kind kind,
		    const char *url, int64_t now)
{
	int rc;

	if (db_begin(db))
		return MAIL_EDB;
	rc = mail_enqueue_link(db, email, name, language, kind, url, now);
	if (rc >= 0 && db_commit(db))
		rc = MAIL_EDB;
	if (rc < 0)
		db_rollback(db);
	return rc < 0 ? rc : 0;
}

int mail_recent(sqlite3 *db, const char *to, const char *kind,
		int64_t since)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prepare(db, "SELECT 1 FROM mail_outbox WHERE recipient = ?1 "
			"AND kind = ?2 AND created_at >= ?3 LIMIT 1");
	if (!st)
		return MAIL_EDB;
	sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, since);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_ROW ? 1 :
	     rc == SQLITE_DONE ? 0 : mail_db_fail(db, "recent");
	sqlite3_finalize(st);
	return rc;
}

/* ---- taking mails out ---- */

static char *mail_dup(sqlite3_stmt *st, int col)
{
	return strdup(db_text(st, col));
}

void mail_release(struct mail *m)
{
	free(m->to);
	free(m->subject);
	if (m->body)
		explicit_bzero(m->body, strlen(m->body));
	free(m->body);
	free(m->kind);
	memset(m, 0, sizeof(*m));
}

int mail_config_load(sqlite3 *db, struct mail_config *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = settings_get(db, SETTINGS_SMTP_URL, c->url, sizeof(c->url));
	if (!rc)
		rc = settings_get(db, SETTINGS_MAIL_FROM, c->from,
				  sizeof(c->from));
	if (rc == SETTINGS_ENOTSET)
		return MAIL_ECONFIG;
	if (rc)
		return MAIL_EDB;
	rc = settings_get(db, SETTINGS_SMTP_USER, c->user, sizeof(c->user));
	if (!rc || rc == SETTINGS_ENOTSET)
		rc = settings_get(db, SETTINGS_SMTP_PASSWORD, c->password,
				  sizeof(c->password));
	return rc && rc != SETTINGS_ENOTSET ? MAIL_EDB : 0;
}

void mail_config_wipe(struct mail_config *c)
{
	explicit_bzero(c, sizeof(*c));
}

/* Reads the mail due first into out; MAIL_ENOTFOUND when none. */
static int mail_read_due(sqlite3 *db, int64_t now, struct mail *out)
{
	sqlite3_stmt *st;
	int rc, step;

	st = db_prepare(db, "SELECT id, recipient, subject, body, kind, "
			"attempts FROM mail_outbox WHERE sent_at IS NULL AND "
			"next_attempt_at <= ?1 ORDER BY next_attempt_at, id "
			"LIMIT 1");
	if (!st)
		return MAIL_EDB;
	sqlite3_bind_int64(st, 1, now);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->to = mail_dup(st, 1);
		out->subject = mail_dup(st, 2);
		out->body = mail_dup(st, 3);
		out->kind = mail_dup(st, 4);
		out->attempts = sqlite3_column_int(st, 5);
		rc = out->to && out->subject && out->body && out->kind ?
			     0 : MAIL_ENOMEM;
	} else {
		rc = step == SQLITE_DONE ? MAIL_ENOTFOUND :
					   mail_db_fail(db, "read_due");
	}
	sqlite3_finalize(st);
	if (rc)
		mail_release(out);
	return rc;
}

/* Runs an UPDATE of one mail with up to two more values. */
static int mail_update(sqlite3 *db, const char *sql, int64_t id,
		       int64_t a, const char *text, const char *step)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (!st)
		return MAIL_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, a);
	if (text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : mail_db_fail(db, step);
	sqlite3_finalize(st);
	return rc;
}

int mail_claim_due(sqlite3 *db, int64_t now, struct mail *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (db_begin(db))
		return MAIL_EDB;
	rc = mail_read_due(db, now, out);
	if (!rc)
		rc = mail_update(db, "UPDATE mail_outbox SET next_attempt_at ="
				 " ?2 WHERE id = ?1", out->id,
				 now + MAIL_LEASE, NULL, "claim");
	if (!rc && db_commit(db))
		rc = MAIL_EDB;
	if (rc) {
		db_rollback(db);
		mail_release(out);
	}
	return rc;
}

int mail_mark_sent(sqlite3 *db, const struct mail *m, int64_t now)
{
	int rc;

	rc = mail_update(db, "UPDATE mail_outbox SET sent_at = ?2, "
			 "attempts = attempts + 1, last_error = NULL "
			 "WHERE id = ?1", m->id, now, NULL, "sent");
	/* a sent link must not outlive its mail in the outbox */
	if (!rc && (!strcmp(m->kind, "invite") || !strcmp(m->kind, "reset")))
		rc = mail_update(db, "UPDATE mail_outbox SET body = ?3 "
				 "WHERE id = ?1", m->id, 0,
				 "(the link was removed after sending)",
				 "sent_wipe");
	return rc;
}

int mail_mark_failed(sqlite3 *db, const struct mail *m, int64_t now,
		     const char *err)
{
	int64_t next = now + mail_backoff(m->attempts + 1);

	return mail_update(db, "UPDATE mail_outbox SET attempts = attempts "
			   "+ 1, next_attempt_at = ?2, last_error = ?3 "
			   "WHERE id = ?1", m->id, next, err, "failed");
}

/* ---- SMTP ---- */

struct mail_upload {
	const struct buf *msg;
	size_t off;
};

static size_t mail_read_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct mail_upload *u = arg;
	size_t n = size * nmemb, left = u->msg->len - u->off;

	if (n > left)
		n = left;
	memcpy(ptr, u->msg->data + u->off, n);
	u->off += n;
	return n;
}

/* 1 when the host of an smtp:// URL is the machine itself. */
static int mail_url_loopback(const char *url)
{
	const char *host = strstr(url, "://");

	if (!host)
		return 0;
	host += 3;
	return !strncmp(host, "127.", 4) || !strncmp(host, "[::1]", 5) ||
	       !strncmp(host, "localhost:", 10);
}

static void mail_curl_options(CURL *curl, const struct mail_config *c,
			      const char *from_addr,
			      struct curl_slist *rcpt, struct mail_upload *u,
			      char *errbuf)
{
	int secret = c->user[0] || c->password[0];

	curl_easy_setopt(curl, CURLOPT_URL, c->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from_addr);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, mail_read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, u);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
			 (curl_off_t)u->msg->len);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	if (c->user[0])
		curl_easy_setopt(curl, CURLOPT_USERNAME, c->user);
	if (c->password[0])
		curl_easy_setopt(curl, CURLOPT_PASSWORD, c->password);
	/* smtp://: STARTTLS when the server offers it; required before a
	 * password goes out, unless the server is this machine */
	if (!strncmp(c->url, "smtp://", 7))
		curl_easy_setopt(curl, CURLOPT_USE_SSL,
				 secret && !mail_url_loopback(c->url) ?
					 (long)CURLUSESSL_ALL :
					 (long)CURLUSESSL_TRY);
}

/* The SMTP transaction for a formatted message. */
static int mail_transfer(const struct mail_config *c, const char *to,
			 const struct buf *msg, char *err, size_t cap)
{
	char name[MAIL_ADDRESS_MAX + 1], addr[MAIL_ADDRESS_MAX + 3];
	char rcpt_addr[MAIL_ADDRESS_MAX + 3], errbuf[CURL_ERROR_SIZE];
	struct mail_upload u = { msg, 0 };
	struct curl_slist *rcpt;
	long code = 0;
	CURLcode res;
	CURL *curl;

	if (mail_from_parse(c->from, name, addr + 1))
		return snprintf(err, cap, "mail.from is not valid"),
		       MAIL_ECONFIG;
	addr[0] = '<';
	strcat(addr, ">");
	snprintf(rcpt_addr, sizeof(rcpt_addr), "<%s>", to);
	curl = curl_easy_init();
	rcpt = curl ? curl_slist_append(NULL, rcpt_addr) : NULL;
	if (!rcpt) {
		if (curl)
			curl_easy_cleanup(curl);
		return snprintf(err, cap, "out of memory"), MAIL_ENOMEM;
	}
	errbuf[0] = 0;
	mail_curl_options(curl, c, addr, rcpt, &u, errbuf);
	res = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	if (res == CURLE_OK)
		return 0;
	if (code)
		snprintf(err, cap, "%s (SMTP reply %ld)",
			 errbuf[0] ? errbuf : curl_easy_strerror(res), code);
	else
		snprintf(err, cap, "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(res));
	return MAIL_ESEND;
}

int mail_send_one(const struct mail_config *c, const struct mail *m,
		  int64_t now, char *err, size_t cap)
{
	struct mail_message msg = {
		.from = c->from,
		.to = m->to,
		.subject = m->subject,
		.body = m->body,
		.date = now,
	};
	struct buf out;
	int rc;

	buf_init(&out);
	rc = mail_format(&msg, &out);
	if (rc)
		snprintf(err, cap, "the mail cannot be formatted: %s",
			 mail_strerror(rc));
	else
		rc = mail_transfer(c, m->to, &out, err, cap);
	if (out.data)
		explicit_bzero(out.data, out.len);
	buf_release(&out);
	return rc;
}

/* Records the outcome of a send and logs it. */
static int mail_record(sqlite3 *db, const struct mail *m, int64_t now,
		       int sent, const char *err, const char *tenant)
{
	char quoted[MAIL_ERROR_MAX + 16];

	if (sent) {
		log_info("msg=\"mail sent\" tenant=%s mail=%lld kind=%s",
			 tenant, (long long)m->id, m->kind);
		return mail_mark_sent(db, m, now);
	}
	log_warn("msg=\"mail not sent\" tenant=%s mail=%lld kind=%s "
		 "attempt=%d retry_in=%lld error=%s", tenant,
		 (long long)m->id, m->kind, m->attempts + 1,
		 (long long)mail_backoff(m->attempts + 1),
		 log_quote(err, quoted, sizeof(quoted)));
	return mail_mark_failed(db, m, now, err);
}

int mail_flush(sqlite3 *db, int64_t now, int *sent, int *failed)
{
	char err[MAIL_ERROR_MAX], tenant[STORE_SETTING_MAX];
	struct mail_config c;
	struct mail m;
	int rc;

	*sent = *failed = 0;
	if (store_setting_get(db, "tenant", tenant, sizeof(tenant)))
		strcpy(tenant, "-");
	rc = mail_config_load(db, &c);
	if (rc)
		return rc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	while (!(rc = mail_claim_due(db, now, &m))) {
		err[0] = 0;
		rc = mail_send_one(&c, &m, now, err, sizeof(err));
		++*(rc ? failed : sent);
		rc = mail_record(db, &m, now, !rc, err, tenant);
		mail_release(&m);
		if (rc)
			break;
	}
	mail_config_wipe(&c);
	curl_global_cleanup();
	return rc == MAIL_ENOTFOUND ? 0 : rc;
}

/* ---- the sender of serve ---- */

/* One send on the thread pool; everything it uses is its own. */
struct mail_job {
	uv_work_t work;
	struct mail_sender *sender;
	struct mail_config config;
	struct mail mail;
	int64_t now;
	int rc;
	char err[MAIL_ERROR_MAX];
};

struct mail_sender {
	uv_loop_t *loop;
	sqlite3 *db;
	const struct lms_clock *clock;
	const char *tenant;
	uv_timer_t timer;
	struct mail_job *job; /* the send in flight, or NULL */
	int stopping;
	int config_missing; /* logged once until it is set */
	void (*done)(void *arg);
	void *done_arg;
};

static void mail_sender_tick(uv_timer_t *t);

static void mail_sender_closed(uv_handle_t *h)
{
	struct mail_sender *s = h->data;

	curl_global_cleanup();
	if (s->done)
		s->done(s->done_arg);
	free(s);
}

static void mail_job_work(uv_work_t *w)
{
	struct mail_job *j = w->data;

	j->err[0] = 0;
	j->rc = mail_send_one(&j->config, &j->mail, j->now, j->err,
			      sizeof(j->err));
}

static void mail_job_done(uv_work_t *w, int status)
{
	struct mail_job *j = w->data;
	struct mail_sender *s = j->sender;

	s->job = NULL;
	/* cancelled: the claim runs out and the mail is tried again */
	if (status == 0)
		mail_record(s->db, &j->mail, clock_now(s->clock), !j->rc,
			    j->err, s->tenant);
	mail_release(&j->mail);
	mail_config_wipe(&j->config);
	free(j);
	if (s->stopping)
		uv_close((uv_handle_t *)&s->timer, mail_sender_closed);
	else
		uv_timer_start(&s->timer, mail_sender_tick, 0,
			       MAIL_TICK * 1000);
}

/* Claims the next due mail and queues its send; 0 when one is queued. */
static int mail_sender_next(struct mail_sender *s)
{
	struct mail_job *j = calloc(1, sizeof(*j));
	int rc;

	if (!j)
		return MAIL_ENOMEM;
	rc = mail_config_load(s->db, &j->config);
	if (rc == MAIL_ECONFIG && !s->config_missing)
		log_warn("msg=\"mail waits: smtp.url or mail.from not set\" "
			 "tenant=%s", s->tenant);
	s->config_missing = rc == MAIL_ECONFIG;
	j->now = clock_now(s->clock);
	if (!rc)
		rc = mail_claim_due(s->db, j->now, &j->mail);
	if (!rc) {
		j->sender = s;
		j->work.data = j;
		rc = uv_queue_work(s->loop, &j->work, mail_job_work,
				   mail_job_done);
		if (!rc) {
			s->job = j;
			return 0;
		}
		mail_release(&j->mail);
	}
	mail_config_wipe(&j->config);
	free(j);
	return rc;
}

static void mail_sender_tick(uv_timer_t *t)
{
	struct mail_sender *s = t->data;

	if (s->job || s->stopping)
		return;
	mail_sender_next(s);
}

int mail_sender_start(uv_loop_t *loop, sqlite3 *db,
		      const struct lms_clock *clock, const char *tenant,
		      struct mail_sender **out)
{
	struct mail_sender *s = calloc(1, sizeof(*s));

	if (!s)
		return MAIL_ENOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(s);
		return MAIL_ENOMEM;
	}
	s->loop = loop;
	s->db = db;
	s->clock = clock;
	s->tenant = tenant;
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	uv_timer_start(&s->timer, mail_sender_tick, 0, MAIL_TICK * 1000);
	*out = s;
	return 0;
}

void mail_sender_poke(struct mail_sender *s)
{
	if (s && !s->stopping && !s->job)
		uv_timer_start(&s->timer, mail_sender_tick, 0,
			       MAIL_TICK * 1000);
}

void mail_sender_stop(struct mail_sender *s, void (*done)(void *arg),
		      void *arg)
{
	if (!s || s->stopping)
		return;
	s->stopping = 1;
	s->done = done;
	s->done_arg = arg;
	uv_timer_stop(&s->timer);
	if (!s->job)
		uv_close((uv_handle_t *)&s->timer, mail_sender_closed);
}
