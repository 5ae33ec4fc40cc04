/*
 * Unit tests of workspace/mail.c: the RFC 5322 message (CRLF lines,
 * headers, RFC 2047 subjects, quoted-printable bodies), refusal of
 * header injection, the backoff times, the outbox (dedup, claims,
 * attempts), the link mails, and the libuv sender of serve delivering
 * to a real SMTP server (aiosmtpd, started by the test when Python has
 * it; skipped otherwise).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/mail.c"
#include "../../workspace/settings.c"
#include "../../workspace/mailtpl.c"
#include "../../workspace/template.c"
#include "../../workspace/store.c"

#include "ws_fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOW 1800000000 /* 2027-01-15T08:00:00Z, a Friday */
#define PYTHON "/usr/bin/python3"

int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api, (void)x, (void)req, (void)roles, (void)out;
	fail_msg("the routes are tested in tests/integration/mail.test.mjs");
	return -1;
}


/* Formats m into a fresh string (free it), asserting success. */
static char *format_ok(const struct mail_message *m)
{
	struct buf out;

	buf_init(&out);
	assert_int_equal(mail_format(m, &out), 0);
	return (char *)buf_detach(&out, NULL);
}

static void assert_crlf_only(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == '\n')
			assert_true(p > s && p[-1] == '\r');
}

/* The value of header name (up to its CRLF, unfolded lines included). */
static char *header(const char *msg, const char *name)
{
	char prefix[64];
	const char *p, *end;

	snprintf(prefix, sizeof(prefix), "\r\n%s: ", name);
	p = strstr(msg, prefix);
	if (!p && !strncmp(msg, prefix + 2, strlen(prefix + 2)))
		p = msg - 2;
	assert_non_null(p);
	p += strlen(prefix);
	end = p;
	while ((end = strstr(end, "\r\n")) && end[2] == ' ')
		end += 2;
	assert_non_null(end);
	return strndup(p, (size_t)(end - p));
}

static void test_format_headers(void **state)
{
	struct mail_message m = {
		.from = "Academy <academy@example.com>",
		.to = "learner@example.org",
		.subject = "Your course is due",
		.body = "Hello,\nline two\n",
		.date = NOW,
	};
	char *msg, *v;

	(void)state;
	msg = format_ok(&m);
	assert_crlf_only(msg);
	assert_true(!strncmp(msg, "Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n",
			     39));
	v = header(msg, "From");
	assert_string_equal(v, "\"Academy\" <academy@example.com>");
	free(v);
	v = header(msg, "To");
	assert_string_equal(v, "<learner@example.org>");
	free(v);
	v = header(msg, "Subject");
	assert_string_equal(v, "Your course is due");
	free(v);
	v = header(msg, "Message-ID");
	assert_true(v[0] == '<' && strstr(v, "@example.com>"));
	free(v);
	assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(msg, "\r\nContent-Type: text/plain; "
			       "charset=UTF-8\r\n"));
	assert_non_null(strstr(msg, "\r\nContent-Transfer-Encoding: "
			       "quoted-printable\r\n\r\nHello,\r\nline two"
			       "\r\n"));
	free(msg);
}

/* Decodes the encoded words of an RFC 2047 header value. */
static void decode_words(const char *v, char *out, size_t cap)
{
	const char *p = v, *end;
	unsigned char bin[256];
	size_t len = 0;
	int n;

	out[0] = 0;
	while ((p = strstr(p, "=?UTF-8?B?"))) {
		p += 10;
		end = strstr(p, "?=");
		assert_non_null(end);
		assert_true(end - p + 12 <= 75); /* a word's longest */
		n = EVP_DecodeBlock(bin, (const unsigned char *)p,
				    (int)(end - p));
		assert_true(n >= 0);
		if (end[-1] == '=')
			n--;
		if (end[-2] == '=')
			n--;
		/* each word is whole UTF-8 by itself */
		bin[n] = 0;
		assert_true(mail_utf8_valid((char *)bin, 0));
		assert_true(len + (size_t)n < cap);
		memcpy(out + len, bin, (size_t)n);
		len += (size_t)n;
		out[len] = 0;
		p = end + 2;
	}
}

static void test_format_utf8_subject(void **state)
{
	const char *subject = "Erinnerung: Hygieneschulung fällig – bitte "
			      "bis Freitag abschließen, Grüße aus Köln";
	struct mail_message m = {
		.from = "Akademie Müller <akademie@example.com>",
		.to = "lerner@example.org",
		.subject = subject,
		.body = "Grüße\n",
		.date = NOW,
	};
	char *msg, *v, decoded[512];

	(void)state;
	msg = format_ok(&m);
	assert_crlf_only(msg);
	v = header(msg, "Subject");
	assert_true(!strncmp(v, "=?UTF-8?B?", 10));
	assert_non_null(strstr(v, "?=\r\n =?UTF-8?B?")); /* folded */
	decode_words(v, decoded, sizeof(decoded));
	assert_string_equal(decoded, subject);
	free(v);
	v = header(msg, "From");
	decode_words(v, decoded, sizeof(decoded));
	assert_string_equal(decoded, "Akademie Müller");
	assert_non_null(strstr(v, "?= <akademie@example.com>"));
	free(v);
	/* every header line but the folded ones is within 78 */
	for (char *line = msg, *end; (end = strstr(line, "\r\n")) &&
	     end != line; line = end + 2)
		assert_true(end - line <= 78);
	assert_non_null(strstr(msg, "\r\n\r\nGr=C3=BC=C3=9Fe\r\n"));
	free(msg);
}

static void test_format_quoted_printable(void **state)
{
	char body[400], *msg, *p;
	struct mail_message m = {
		.from = "a@example.com",
		.to = "b@example.org",
		.subject = "qp",
		.body = body,
		.date = NOW,
	};

	(void)state;
	memset(body, 'x', 200);
	strcpy(body + 200, "\n.dot line\ntrailing space \nrate=5\r\n");
	msg = format_ok(&m);
	assert_crlf_only(msg);
	p = strstr(msg, "\r\n\r\n") + 4;
	for (char *line = p, *end; (end = strstr(line, "\r\n"));
	     line = end + 2)
		assert_true(end - line <= 76);
	assert_non_null(strstr(p, "x=\r\nxxx"));
	assert_non_null(strstr(p, "\r\n=2Edot line\r\n"));
	assert_non_null(strstr(p, "\r\ntrailing space=20\r\n"));
	assert_non_null(strstr(p, "\r\nrate=3D5\r\n"));
	free(msg);
}

static void test_header_injection_refused(void **state)
{
	struct ws_fixture *f = *state;
	struct mail_message m = {
		.from = "a@example.com",
		.to = "b@example.org",
		.subject = "fine",
		.body = "body\n",
		.date = NOW,
	};
	struct buf out;
	sqlite3_stmt *st;

	buf_init(&out);
	m.subject = "Hi\r\nBcc: victim@example.net";
	assert_int_equal(mail_format(&m, &out), MAIL_EINVAL);
	m.subject = "Hi\nBcc: victim@example.net";
	assert_int_equal(mail_format(&m, &out), MAIL_EINVAL);
	m.subject = "fine";
	m.to = "b@example.org\r\nBcc: victim@example.net";
	assert_int_equal(mail_format(&m, &out), MAIL_EINVAL);
	m.to = "b@example.org>, <c@example.net";
	assert_int_equal(mail_format(&m, &out), MAIL_EINVAL);
	m.to = "b@example.org";
	m.from = "Name\r\nBcc: v@example.net <a@example.com>";
	assert_int_equal(mail_format(&m, &out), MAIL_EINVAL);
	m.subject = "";
	assert_int_equal(mail_format(&m, &out), MAIL_EINVAL);
	buf_release(&out);

	assert_int_equal(mail_enqueue(f->db, "b@example.org",
				      "x\r\nBcc: v@example.net", "body",
				      "test", "k1", NOW), MAIL_EINVAL);
	assert_int_equal(mail_enqueue(f->db, "b@example.org\n", "x", "body",
				      "test", "k2", NOW), MAIL_EINVAL);
	st = db_prepare(f->db, "SELECT count(*) FROM mail_outbox");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(mail_backoff(1), 30);
	assert_int_equal(mail_backoff(2), 60);
	assert_int_equal(mail_backoff(3), 120);
	assert_int_equal(mail_backoff(7), 1920);
	assert_int_equal(mail_backoff(8), 3600);
	assert_int_equal(mail_backoff(100), 3600);
}

static int outbox_count(sqlite3 *db, const char *where)
{
	char sql[256];
	sqlite3_stmt *st;
	int n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM mail_outbox "
		 "WHERE %s", where);
	st = db_prepare(db, sql);
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_dedup(void **state)
{
	struct ws_fixture *f = *state;

	assert_int_equal(mail_enqueue(f->db, "b@example.org", "Reminder",
				      "due", "reminder", "r:1:hygiene:-14",
				      NOW), 0);
	assert_int_equal(mail_enqueue(f->db, "b@example.org", "Reminder",
				      "due again", "reminder",
				      "r:1:hygiene:-14", NOW + 10), 1);
	assert_int_equal(outbox_count(f->db, "1"), 1);
	assert_int_equal(outbox_count(f->db, "body = 'due'"), 1);
}

static void test_claim_and_attempts(void **state)
{
	struct ws_fixture *f = *state;
	struct mail m;

	assert_int_equal(mail_enqueue(f->db, "b@example.org", "S", "B",
				      "test", "k", NOW), 0);
	assert_int_equal(mail_claim_due(f->db, NOW - 1, &m), MAIL_ENOTFOUND);
	assert_int_equal(mail_claim_due(f->db, NOW, &m), 0);
	assert_string_equal(m.to, "b@example.org");
	/* claimed: not due again for another sender */
	{
		struct mail other;

		assert_int_equal(mail_claim_due(f->db, NOW + 1, &other),
				 MAIL_ENOTFOUND);
	}
	assert_int_equal(mail_mark_failed(f->db, &m, NOW, "refused"), 0);
	mail_release(&m);
	assert_int_equal(outbox_count(f->db, "attempts = 1 AND "
				      "next_attempt_at = 1800000030 AND "
				      "last_error = 'refused' AND sent_at "
				      "IS NULL"), 1);
	assert_int_equal(mail_claim_due(f->db, NOW + 29, &m), MAIL_ENOTFOUND);
	assert_int_equal(mail_claim_due(f->db, NOW + 30, &m), 0);
	assert_int_equal(m.attempts, 1);
	assert_int_equal(mail_mark_failed(f->db, &m, NOW + 30, "again"), 0);
	assert_int_equal(outbox_count(f->db, "attempts = 2 AND "
				      "next_attempt_at = 1800000090"), 1);
	mail_release(&m);
	assert_int_equal(mail_claim_due(f->db, NOW + 90, &m), 0);
	assert_int_equal(mail_mark_sent(f->db, &m, NOW + 91), 0);
	mail_release(&m);
	assert_int_equal(outbox_count(f->db, "sent_at = 1800000091 AND "
				      "attempts = 3 AND last_error IS NULL"),
			 1);
	assert_int_equal(mail_claim_due(f->db, NOW + 9999, &m),
			 MAIL_ENOTFOUND);
}

static void test_link_mail(void **state)
{
	struct ws_fixture *f = *state;
	const char *key = "web.url", *value = "https://academy.example.com/";
	char why[SETTINGS_WHY_MAX];
	sqlite3_stmt *st;
	struct mail m;
	size_t bad;

	assert_int_equal(settings_put(f->db, &key, &value, 1, &bad, why), 0);
	assert_int_equal(mail_enqueue_link(f->db, "anna@example.org",
					   "Anna Schmidt", "de",
					   MAIL_LINK_INVITE,
					   "/#/password?token=abc", NOW), 0);
	assert_int_equal(mail_enqueue_link(f->db, "anna@example.org",
					   "Anna Schmidt", "de",
					   MAIL_LINK_INVITE,
					   "/#/password?token=abc", NOW), 1);
	assert_int_equal(mail_enqueue_link(f->db, "bob@example.org", "Bob",
					   "en", MAIL_LINK_RESET,
					   "/#/password?token=def", NOW), 0);
	st = db_prepare(f->db, "SELECT subject, body, kind, dedup_key FROM "
			"mail_outbox ORDER BY id");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "Einladung zur Lernplattform");
	assert_non_null(strstr(db_text(st, 1), "Hallo Anna Schmidt,"));
	assert_non_null(strstr(db_text(st, 1), "\n\nhttps://academy.example"
			       ".com/#/password?token=abc\n\n"));
	assert_string_equal(db_text(st, 2), "invite");
	assert_null(strstr(db_text(st, 3), "abc"));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "Set a new password");
	assert_non_null(strstr(db_text(st, 1), "Hello Bob,"));
	assert_string_equal(db_text(st, 2), "reset");
	sqlite3_finalize(st);

	/* the link does not stay in the outbox once sent */
	assert_int_equal(mail_claim_due(f->db, NOW, &m), 0);
	assert_int_equal(mail_mark_sent(f->db, &m, NOW), 0);
	mail_release(&m);
	assert_int_equal(outbox_count(f->db, "body LIKE '%token=abc%'"), 0);
}

static void test_queue_link_and_recent(void **state)
{
	struct ws_fixture *f = *state;

	assert_int_equal(mail_recent(f->db, "anna@example.org", "reset",
				     NOW - MAIL_RESET_INTERVAL), 0);
	assert_int_equal(mail_queue_link(f->db, "anna@example.org", "Anna",
					 "en", MAIL_LINK_RESET,
					 "/#/password?token=1", NOW), 0);
	/* the same link again: no second mail, and no error */
	assert_int_equal(mail_queue_link(f->db, "anna@example.org", "Anna",
					 "en", MAIL_LINK_RESET,
					 "/#/password?token=1", NOW), 0);
	assert_int_equal(outbox_count(f->db, "1"), 1);
	/* no web.url: the path as it is */
	assert_int_equal(outbox_count(f->db, "body LIKE '%\n\n/#/password?"
				      "token=1\n\n%'"), 1);
	assert_int_equal(mail_recent(f->db, "anna@example.org", "reset",
				     NOW + 1 - MAIL_RESET_INTERVAL), 1);
	assert_int_equal(mail_recent(f->db, "anna@example.org", "reset",
				     NOW + 1), 0);
	assert_int_equal(mail_recent(f->db, "anna@example.org", "invite",
				     0), 0);
	/* a refused address leaves nothing behind */
	assert_int_equal(mail_queue_link(f->db, "anna@example.org\r\n",
					 "Anna", "en", MAIL_LINK_RESET,
					 "/#/password?token=2", NOW),
			 MAIL_EINVAL);
	assert_int_equal(outbox_count(f->db, "1"), 1);
}

static void test_flush_needs_config(void **state)
{
	struct ws_fixture *f = *state;
	int sent, failed;

	assert_int_equal(mail_enqueue(f->db, "b@example.org", "S", "B",
				      "test", "k", NOW), 0);
	assert_int_equal(mail_flush(f->db, NOW, &sent, &failed),
			 MAIL_ECONFIG);
	assert_int_equal(outbox_count(f->db, "attempts = 0"), 1);
}

/* A TCP port on loopback that nothing listens on right now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void test_send_refused_server(void **state)
{
	struct mail_config c = { .from = "a@example.com" };
	struct mail m = { .to = "b@example.org", .subject = "S",
			  .body = "B", .kind = "test" };
	char err[MAIL_ERROR_MAX] = "";

	(void)state;
	snprintf(c.url, sizeof(c.url), "smtp://127.0.0.1:%d", free_port());
	curl_global_init(CURL_GLOBAL_DEFAULT);
	assert_int_equal(mail_send_one(&c, &m, NOW, err, sizeof(err)),
			 MAIL_ESEND);
	curl_global_cleanup();
	assert_true(strlen(err) > 5);
}

/* ---- the sender against a real SMTP server ---- */

struct smtpd {
	pid_t pid;
	int port;
	char dir[64];
};

static int smtpd_start(struct smtpd *d)
{
	char listen[64], mbox[128];
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd;

	if (access(PYTHON, X_OK) ||
	    system(PYTHON " -c 'import aiosmtpd' 2>/dev/null"))
		return -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/test_mail_smtpd.XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(mbox, sizeof(mbox), "%s/mbox", d->dir);
	d->port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", d->port);
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		execl(PYTHON, PYTHON, "-m", "aiosmtpd", "-n", "-l", listen,
		      "-c", "aiosmtpd.handlers.Mailbox", mbox, (char *)NULL);
		_exit(127);
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)d->port);
	for (int i = 0; i < 100; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a))) {
			close(fd);
			return 0;
		}
		close(fd);
		usleep(100 * 1000);
	}
	fail_msg("aiosmtpd did not start");
	return -1;
}

static void smtpd_stop(struct smtpd *d)
{
	kill(d->pid, SIGTERM);
	waitpid(d->pid, NULL, 0);
	fs_remove_tree(d->dir);
}

/* The mails that arrived, as one text. */
static char *smtpd_read(struct smtpd *d)
{
	char path[600];
	struct buf text;
	struct dirent *e;
	DIR *dir;

	buf_init(&text);

	snprintf(path, sizeof(path), "%s/mbox/new", d->dir);
	dir = opendir(path);
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/mbox/new/%s", d->dir,
			 e->d_name);
		assert_int_equal(fs_read_file(path, 1 << 20, &text), 0);
	}
	if (dir)
		closedir(dir);
	assert_int_equal(buf_append_str(&text, ""), 0);
	return (char *)buf_detach(&text, NULL);
}

struct sender_run {
	struct ws_fixture *f;
	struct mail_sender *sender;
	uv_timer_t check;
	int polls;
	int stopped;
};

static void sender_stopped(void *arg)
{
	struct sender_run *r = arg;

	r->stopped = 1;
	uv_close((uv_handle_t *)&r->check, NULL);
}

static void sender_check(uv_timer_t *t)
{
	struct sender_run *r = t->data;

	if (outbox_count(r->f->db, "sent_at IS NULL") == 0 ||
	    ++r->polls > 100) {
		uv_timer_stop(t);
		mail_sender_stop(r->sender, sender_stopped, r);
	}
}

static void test_sender_delivers(void **state)
{
	struct ws_fixture *f = *state;
	const char *keys[] = { "smtp.url", "mail.from" };
	char url[64], why[SETTINGS_WHY_MAX], *got;
	const char *values[] = { url, "Akademie <akademie@example.com>" };
	struct sender_run r = { .f = f };
	struct lms_clock clock = { 0 };
	struct smtpd d;
	uv_loop_t loop;
	size_t bad;

	if (smtpd_start(&d)) {
		skip();
		return;
	}
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", d.port);
	assert_int_equal(settings_put(f->db, keys, values, 2, &bad, why), 0);
	assert_int_equal(mail_enqueue(f->db, "eins@example.org",
				      "Prüfung fällig", "Erste Zeile\n",
				      "test", "a", clock_now(&clock)), 0);
	assert_int_equal(mail_enqueue(f->db, "zwei@example.org", "Second",
				      "Second body\n", "test", "b",
				      clock_now(&clock)), 0);

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mail_sender_start(&loop, f->db, &clock, "t",
					   &r.sender), 0);
	mail_sender_poke(r.sender);
	uv_timer_init(&loop, &r.check);
	r.check.data = &r;
	uv_timer_start(&r.check, sender_check, 100, 100);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_true(r.stopped);

	assert_int_equal(outbox_count(f->db, "sent_at IS NOT NULL AND "
				      "attempts = 1"), 2);
	got = smtpd_read(&d);
	smtpd_stop(&d);
	assert_non_null(strstr(got, "To: <eins@example.org>"));
	assert_non_null(strstr(got, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(got, "To: <zwei@example.org>"));
	assert_non_null(strstr(got, "Second body"));
	assert_non_null(strstr(got, "X-MailFrom: akademie@example.com"));
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_headers),
		cmocka_unit_test(test_format_utf8_subject),
		cmocka_unit_test(test_format_quoted_printable),
		cmocka_unit_test_setup_teardown(test_header_injection_refused,
						ws_setup, ws_teardown),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test_setup_teardown(test_dedup, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_claim_and_attempts,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_link_mail, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_queue_link_and_recent,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_flush_needs_config,
						ws_setup, ws_teardown),
		cmocka_unit_test(test_send_refused_server),
		cmocka_unit_test_setup_teardown(test_sender_delivers,
						ws_setup, ws_teardown),
	};

	log_init("test_mail", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
