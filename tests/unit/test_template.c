/*
 * Unit tests of workspace/template.c and mailtpl.c: what the placeholder
 * check accepts and every refusal with its reason, the render (values
 * as they are, a name without a value and a broken {{ left out), the
 * check of a mail template's settings key, and template_mail() from the
 * built-in text, from the tenant's own and with the academy's name from
 * the branding. The route GET /api/v1/mail-templates is tested in
 * tests/integration/template.test.mjs; the sources are compiled in, as
 * the unit build links only the shared libraries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/mail.c"
#include "../../workspace/mailtpl.c"
#include "../../workspace/settings.c"
#include "../../workspace/store.c"
#include "../../workspace/template.c"

#define WS_FIXTURE_STUBS
#include "ws_fixture.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[] = { "learner", "course", "due_date" };

struct check_case {
	const char *text;
	int rc;
	const char *why; /* a part of the reason, or NULL */
};

static const struct check_case check_cases[] = {
	{ "", 0, NULL },
	{ "plain text, no placeholder", 0, NULL },
	{ "Hallo {{learner}}, {{course}} bis {{due_date}}", 0, NULL },
	{ "{{learner}}{{learner}}", 0, NULL },
	{ "a single { or } is text: {x} }", 0, NULL },
	{ "Grüße, «{{course}}» ✓", 0, NULL },
	{ "Hallo {{foo}}", TEMPLATE_EUNKNOWN,
	  "unknown placeholder {{foo}} (allowed: learner, course, due_date)" },
	{ "{{Learner}}", TEMPLATE_ESYNTAX, "bad placeholder {{Learner at "
					   "byte 1" },
	{ "{{ learner }}", TEMPLATE_ESYNTAX, "bad placeholder" },
	{ "{{}}", TEMPLATE_ESYNTAX, "bad placeholder" },
	{ "{{learner-x}}", TEMPLATE_ESYNTAX, "bad placeholder" },
	{ "Hallo {{learner", TEMPLATE_ESYNTAX, "unclosed {{ at byte 7" },
	{ "Hallo {{learner}} {{", TEMPLATE_ESYNTAX, "unclosed {{ at byte 19" },
	{ "{{{learner}}}", TEMPLATE_ESYNTAX, "bad placeholder" },
	{ "done }} here", TEMPLATE_ESYNTAX, "}} without {{ at byte 6" },
	{ "bad \xff byte", TEMPLATE_EUTF8, "not UTF-8 at byte 5" },
	{ "overlong \xc0\xaf", TEMPLATE_EUTF8, "not UTF-8 at byte 10" },
	{ "surrogate \xed\xa0\x80", TEMPLATE_EUTF8, "not UTF-8" },
	{ "cut \xe2\x82", TEMPLATE_EUTF8, "not UTF-8 at byte 5" },
};

static void test_check(void **state)
{
	char why[TEMPLATE_WHY_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]);
	     i++) {
		const struct check_case *c = &check_cases[i];
		int rc;

		why[0] = 0;
		rc = template_check(c->text, names, 3, why, sizeof(why));
		if (rc != c->rc)
			fail_msg("\"%s\": got %d (%s), want %d", c->text, rc,
				 why, c->rc);
		if (c->why && !strstr(why, c->why))
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", c->text,
				 why, c->why);
	}
	/* no reason buffer at all is fine */
	assert_int_equal(template_check("{{foo}}", names, 3, NULL, 0),
			 TEMPLATE_EUNKNOWN);
}

static void test_check_length(void **state)
{
	char *text = malloc(TEMPLATE_TEXT_MAX + 2), why[TEMPLATE_WHY_MAX];

	(void)state;
	assert_non_null(text);
	memset(text, 'a', TEMPLATE_TEXT_MAX);
	text[TEMPLATE_TEXT_MAX] = 0;
	assert_int_equal(template_check(text, names, 3, why, sizeof(why)), 0);
	strcpy(text + TEMPLATE_TEXT_MAX, "b");
	assert_int_equal(template_check(text, names, 3, why, sizeof(why)),
			 TEMPLATE_ETOOLONG);
	assert_non_null(strstr(why, "longer than 16384 bytes"));
	free(text);
}

/* text rendered with the vars below, as a string. */
static void assert_render(const char *text, const char *want)
{
	static const struct template_var vars[] = {
		{ "learner", "Jörg <b>&amp;" },
		{ "course", "Hygiene {{learner}}" },
		{ "course", "second value, never used" },
		{ "empty", "" },
	};
	struct buf out;

	buf_init(&out);
	assert_int_equal(template_render(text, vars, 4, &out), 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_release(&out);
}

static void test_render(void **state)
{
	(void)state;
	assert_render("", "");
	assert_render("no placeholder", "no placeholder");
	assert_render("Hallo {{learner}}!", "Hallo Jörg <b>&amp;!");
	/* a value is inserted as it is, not read as a template again */
	assert_render("{{course}}", "Hygiene {{learner}}");
	assert_render("[{{empty}}]", "[]");
	/* names without a value and broken placeholders are left out */
	assert_render("a{{nobody}}b", "ab");
	assert_render("a {{learner", "a learner");
	assert_render("x {{Bad}} y", "x Bad}} y");
	assert_render("{x} and }} stay", "{x} and }} stay");
	assert_render("{{learner}}{{learner}}",
		      "Jörg <b>&amp;Jörg <b>&amp;");
}

struct key_case {
	const char *key, *value;
	int is_template, rc;
	const char *why;
};

static const struct key_case key_cases[] = {
	{ "smtp.url", "smtp://x:25", 0, 0, NULL },
	{ "mail.template.nothing.de.body", "x", 0, 0, NULL },
	{ "mail.template.invite.fr.body", "x", 0, 0, NULL },
	{ "mail.template.invite.de.footer", "x", 0, 0, NULL },
	{ "mail.template.invite.de.body", "Hallo {{learner}}: {{url}}", 1, 0,
	  NULL },
	{ "mail.template.invite.de.body", "", 1, 0, NULL },
	{ "mail.template.invite.en.body", "{{course}}", 1, TEMPLATE_EUNKNOWN,
	  "unknown placeholder {{course}}" },
	{ "mail.template.reminder.de.subject", "Erinnerung: {{course}}", 1, 0,
	  NULL },
	{ "mail.template.reminder.de.subject", "a\nb", 1, TEMPLATE_ESYNTAX,
	  "one line" },
	{ "mail.template.overdue_manager.en.body", "{{manager}}: {{learner}}",
	  1, 0, NULL },
	{ "mail.template.overdue.en.body", "{{manager}}", 1,
	  TEMPLATE_EUNKNOWN, "{{manager}}" },
	{ "mail.template.expiry.de.body", "{{number}} {{expires}} {{days}}",
	  1, 0, NULL },
	{ "mail.template.expiry.de.body", "bell \a", 1, TEMPLATE_ESYNTAX,
	  "control characters" },
	{ "mail.template.reset.de.body", "{{url", 1, TEMPLATE_ESYNTAX,
	  "unclosed {{ at byte 1" },
};

static void test_mail_key(void **state)
{
	char why[TEMPLATE_WHY_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *c = &key_cases[i];
		int rc = 12345;

		why[0] = 0;
		assert_int_equal(template_mail_key(c->key, c->value, &rc, why,
						   sizeof(why)),
				 c->is_template);
		if (!c->is_template) {
			assert_int_equal(rc, 12345);
			continue;
		}
		if (rc != c->rc)
			fail_msg("%s=\"%s\": got %d (%s), want %d", c->key,
				 c->value, rc, why, c->rc);
		if (c->why && !strstr(why, c->why))
			fail_msg("%s: reason \"%s\" lacks \"%s\"", c->key, why,
				 c->why);
	}
	assert_non_null(template_mail_placeholders("expiry"));
	assert_null(template_mail_placeholders("nothing"));
}

/* Every built-in text passes the check its kind's key makes. */
static void test_defaults_valid(void **state)
{
	char why[TEMPLATE_WHY_MAX], key[80];
	const struct template_mail_kind *k;
	int rc;

	(void)state;
	for (size_t i = 0; i < TEMPLATE_MAIL_NKINDS; i++) {
		k = &template_mail_kinds[i];
		for (int lang = 0; lang < 2; lang++) {
			snprintf(key, sizeof(key),
				 "mail.template.%s.%s.subject", k->name,
				 template_mail_languages[lang]);
			assert_int_equal(template_mail_key(key,
							   k->subject[lang],
							   &rc, why,
							   sizeof(why)), 1);
			if (rc)
				fail_msg("%s: %s", key, why);
			snprintf(key, sizeof(key), "mail.template.%s.%s.body",
				 k->name, template_mail_languages[lang]);
			assert_int_equal(template_mail_key(key, k->body[lang],
							   &rc, why,
							   sizeof(why)), 1);
			if (rc)
				fail_msg("%s: %s", key, why);
		}
	}
}

static void put(sqlite3 *db, const char *key, const char *value)
{
	char why[SETTINGS_WHY_MAX];
	size_t bad;

	if (settings_put(db, &key, &value, 1, &bad, why))
		fail_msg("%s: %s", key, why);
}

static void test_mail_render(void **state)
{
	struct ws_fixture *f = *state;
	const struct template_var vars[] = {
		{ "learner", "Anna Schmidt" },
		{ "course", "Hygiene" },
		{ "due", "01.03.2027" },
		{ "url", "https://academy.example/#/courses/hygiene" },
	};
	char *subject, *body;

	/* the built-in German text, academy from the tenant id */
	assert_int_equal(store_setting_set(f->db, "tenant", "acme"), 0);
	assert_int_equal(template_mail(f->db, "reminder", "de", vars, 4,
				       &subject, &body), 0);
	assert_string_equal(subject, "Erinnerung: Hygiene bis 01.03.2027");
	assert_non_null(strstr(body, "Hallo Anna Schmidt,"));
	assert_non_null(strstr(body, "https://academy.example/#/courses/"));
	assert_non_null(strstr(body, "\nacme\n"));
	free(subject);
	free(body);

	/* "en" is English; the branding's name wins */
	assert_int_equal(sqlite3_exec(f->db, "INSERT INTO branding (key, "
					     "value) VALUES ('name', "
					     "'Klinik Süd')", NULL, NULL,
				      NULL), SQLITE_OK);
	assert_int_equal(template_mail(f->db, "reminder", "en", vars, 4,
				       &subject, &body), 0);
	assert_string_equal(subject, "Reminder: Hygiene is due on 01.03.2027");
	assert_non_null(strstr(body, "Klinik Süd"));
	free(subject);
	free(body);

	/* no language or another: the academy's default, German unless
	 * the branding says English */
	assert_int_equal(template_mail(f->db, "reminder", "fr", vars, 4,
				       &subject, &body), 0);
	assert_string_equal(subject, "Erinnerung: Hygiene bis 01.03.2027");
	free(subject);
	free(body);
	assert_int_equal(sqlite3_exec(f->db, "INSERT INTO branding (key, "
					     "value) VALUES "
					     "('default_language', 'en')",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(template_mail(f->db, "reminder", NULL, vars, 4,
				       &subject, &body), 0);
	assert_string_equal(subject, "Reminder: Hygiene is due on 01.03.2027");
	free(subject);
	free(body);
	assert_int_equal(sqlite3_exec(f->db, "DELETE FROM branding WHERE key "
					     "= 'default_language'", NULL,
				      NULL, NULL), SQLITE_OK);

	/* the tenant's own text, in its language only */
	put(f->db, "mail.template.reminder.de.subject",
	    "Bitte erledigen: {{course}} ({{academy}})");
	put(f->db, "mail.template.reminder.de.body",
	    "Liebe(r) {{learner}},\nbis {{due}}: {{url}}\n");
	assert_int_equal(template_mail(f->db, "reminder", "de", vars, 4,
				       &subject, &body), 0);
	assert_string_equal(subject, "Bitte erledigen: Hygiene (Klinik Süd)");
	assert_string_equal(body, "Liebe(r) Anna Schmidt,\nbis 01.03.2027: "
				  "https://academy.example/#/courses/"
				  "hygiene\n");
	free(subject);
	free(body);
	assert_int_equal(template_mail(f->db, "reminder", "en", vars, 4,
				       &subject, &body), 0);
	assert_string_equal(subject, "Reminder: Hygiene is due on 01.03.2027");
	free(subject);
	free(body);

	assert_int_equal(template_mail(f->db, "nothing", "de", vars, 4,
				       &subject, &body), TEMPLATE_EKIND);
	assert_null(subject);
	assert_null(body);
}

/* A value with a line end or a long course title keeps the subject a
 * subject that mail_enqueue() takes. */
static void test_mail_subject_fit(void **state)
{
	struct ws_fixture *f = *state;
	char course[400];
	struct template_var vars[] = {
		{ "learner", "Anna" }, { "course", course },
		{ "academy", "Given academy" },
	};
	char *subject, *body;

	memset(course, 0, sizeof(course));
	for (size_t i = 0; i + 2 < 300; i += 2)
		memcpy(course + i, "ü", 2);
	course[10] = '\n';
	course[11] = 'x';
	assert_int_equal(template_mail(f->db, "overdue", "de", vars, 3,
				       &subject, &body), 0);
	assert_true(mail_subject_valid(subject));
	assert_true(strlen(subject) <= MAIL_SUBJECT_MAX);
	assert_non_null(strstr(body, "Given academy"));
	assert_int_equal(mail_enqueue(f->db, "anna@example.org", subject, body,
				      "overdue", "k1", 1), 0);
	free(subject);
	free(body);

	/* a subject that is only an empty value falls back to the default */
	put(f->db, "mail.template.overdue.de.subject", "{{days}}");
	assert_int_equal(template_mail(f->db, "overdue", "de", vars, 3,
				       &subject, &body), 0);
	assert_non_null(strstr(subject, "Überfällig: "));
	free(subject);
	free(body);
}

/* The invitation of mail.c uses the tenant's invite text. */
static void test_link_mail_custom(void **state)
{
	struct ws_fixture *f = *state;
	sqlite3_stmt *st;

	put(f->db, "mail.template.invite.de.subject",
	    "Willkommen bei {{academy}}, {{learner}}");
	put(f->db, "mail.template.invite.de.body",
	    "Moin {{learner}}!\nHier geht es los: {{url}}\n");
	assert_int_equal(store_setting_set(f->db, "tenant", "acme"), 0);
	assert_int_equal(mail_enqueue_link(f->db, "anna@example.org",
					   "Anna Schmidt", "de",
					   MAIL_LINK_INVITE, "/#/password?t=1",
					   1), 0);
	st = db_prepare(f->db, "SELECT subject, body FROM mail_outbox");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0),
			    "Willkommen bei acme, Anna Schmidt");
	assert_string_equal(db_text(st, 1), "Moin Anna Schmidt!\nHier geht es "
					    "los: /#/password?t=1\n");
	sqlite3_finalize(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_length),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_mail_key),
		cmocka_unit_test(test_defaults_valid),
		cmocka_unit_test_setup_teardown(test_mail_render, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_mail_subject_fit,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_link_mail_custom,
						ws_setup, ws_teardown),
	};

	log_init("test_template", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
