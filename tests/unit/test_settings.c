/*
 * Unit tests of workspace/settings.c: which values each key takes (the
 * SMTP URL, the sender, the web address, the reminder schedule), that a
 * change of several keys is stored whole or not at all, and that the
 * SMTP password is never printed. The routes are tested in
 * tests/integration/mail.test.mjs; the sources are compiled in, as the
 * unit build links only the shared libraries.
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

#include <stdlib.h>
#include <string.h>

int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api, (void)x, (void)req, (void)roles, (void)out;
	fail_msg("the routes are tested in tests/integration/mail.test.mjs");
	return -1;
}


struct settings_case {
	const char *key;
	const char *value;
	int rc;
};

static const struct settings_case settings_cases[] = {
	{ "smtp.url", "smtp://mail.example.com:587", 0 },
	{ "smtp.url", "smtps://mail.example.com:465", 0 },
	{ "smtp.url", "smtp://127.0.0.1:2525", 0 },
	{ "smtp.url", "smtp://[::1]:25", 0 },
	{ "smtp.url", "smtp://mail.example.com:587/client.example.com", 0 },
	{ "smtp.url", "smtp://mail.example.com", SETTINGS_EVALUE },
	{ "smtp.url", "http://mail.example.com:25", SETTINGS_EVALUE },
	{ "smtp.url", "smtp://:25", SETTINGS_EVALUE },
	{ "smtp.url", "smtp://mail.example.com:0", SETTINGS_EVALUE },
	{ "smtp.url", "smtp://mail.example.com:65536", SETTINGS_EVALUE },
	{ "smtp.url", "smtp://user:pw@mail.example.com:25", SETTINGS_EVALUE },
	{ "smtp.url", "smtp://mail.example.com:25?x", SETTINGS_EVALUE },
	{ "smtp.url", "smtp://mail.example.com:25\r\n", SETTINGS_EVALUE },
	{ "smtp.user", "academy@example.com", 0 },
	{ "smtp.user", "a\nb", SETTINGS_EVALUE },
	{ "smtp.password", "s3cret with spaces", 0 },
	{ "smtp.password", "s3cret\r\n", SETTINGS_EVALUE },
	{ "mail.from", "academy@example.com", 0 },
	{ "mail.from", "Akademie Müller <academy@example.com>", 0 },
	{ "mail.from", "academy", SETTINGS_EVALUE },
	{ "mail.from", "Name <academy@example.com", SETTINGS_EVALUE },
	{ "mail.from", "Na\"me <academy@example.com>", SETTINGS_EVALUE },
	{ "mail.from", "Name\r\nBcc: x <academy@example.com>",
	  SETTINGS_EVALUE },
	{ "mail.from", "a@b.com\r\nBcc: c@d.com", SETTINGS_EVALUE },
	{ "mail.from", "two@at@example.com", SETTINGS_EVALUE },
	{ "web.url", "https://academy.example.com", 0 },
	{ "web.url", "http://127.0.0.1:8610/", 0 },
	{ "web.url", "ftp://academy.example.com", SETTINGS_EVALUE },
	{ "web.url", "https://academy.example.com/a b", SETTINGS_EVALUE },
	{ "reminders.schedule", "-14,0,+7,expiry-30", 0 },
	{ "reminders.schedule", "0", 0 },
	{ "reminders.schedule", "expiry-365,+365,-1", 0 },
	{ "reminders.schedule", "-14,,0", SETTINGS_EVALUE },
	{ "reminders.schedule", "14", SETTINGS_EVALUE },
	{ "reminders.schedule", "-0", SETTINGS_EVALUE },
	{ "reminders.schedule", "-366", SETTINGS_EVALUE },
	{ "reminders.schedule", "-07", SETTINGS_EVALUE },
	{ "reminders.schedule", "expiry+3", SETTINGS_EVALUE },
	{ "reminders.schedule", "-14, 0", SETTINGS_EVALUE },
	{ "reminders.schedule", "-14,0,-14", SETTINGS_EVALUE },
	{ "reminders.schedule", "-1,-2,-3,-4,-5,-6,-7,-8,-9,-10,-11,-12,-13,"
	  "-14,-15,-16,-17", SETTINGS_EVALUE },
	{ "smtp.host", "x", SETTINGS_EKEY },
	{ "smtp.url", "", 0 }, /* unsets */
	{ "mail.template.reminder.de.subject", "Erinnerung: {{course}}", 0 },
	{ "mail.template.reminder.de.subject", "Erinnerung: {{kurs}}",
	  SETTINGS_EVALUE },
	{ "mail.template.invite.en.body", "Hello {{learner}},\n{{url}}\n", 0 },
	{ "mail.template.invite.en.body", "Hello {{learner}", SETTINGS_EVALUE },
	{ "mail.template.invite.en.body", "", 0 }, /* unsets */
	{ "mail.template.invite.klingon.body", "x", SETTINGS_EKEY },
	{ "mail.template.party.de.body", "x", SETTINGS_EKEY },
};

static void test_checks(void **state)
{
	char why[SETTINGS_WHY_MAX];
	size_t n = sizeof(settings_cases) / sizeof(settings_cases[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct settings_case *c = &settings_cases[i];
		int rc;

		why[0] = 0;
		rc = settings_check(c->key, c->value, why);
		if (rc != c->rc)
			fail_msg("%s=\"%s\": got %d, want %d", c->key,
				 c->value, rc, c->rc);
		if (rc)
			assert_true(strlen(why) > 10);
	}
}

static void test_reminders_parse(void **state)
{
	struct settings_reminder r[SETTINGS_REMINDERS_MAX];
	char why[SETTINGS_WHY_MAX];

	(void)state;
	assert_int_equal(settings_reminders_parse("-14,0,+7,expiry-30", r,
						  why), 4);
	assert_int_equal(r[0].expiry, 0);
	assert_int_equal(r[0].days, -14);
	assert_int_equal(r[1].days, 0);
	assert_int_equal(r[2].days, 7);
	assert_int_equal(r[3].expiry, 1);
	assert_int_equal(r[3].days, 30);
}

static void test_put_get(void **state)
{
	struct ws_fixture *f = *state;
	const char *keys[] = { "smtp.url", "mail.from" };
	const char *values[] = { "smtp://127.0.0.1:25", "a@example.com" };
	char out[STORE_SETTING_MAX], why[SETTINGS_WHY_MAX];
	size_t bad = 99;

	assert_int_equal(settings_get(f->db, "smtp.url", out, sizeof(out)),
			 SETTINGS_ENOTSET);
	assert_int_equal(settings_put(f->db, keys, values, 2, &bad, why), 0);
	assert_int_equal(settings_get(f->db, "smtp.url", out, sizeof(out)),
			 0);
	assert_string_equal(out, "smtp://127.0.0.1:25");

	/* NULL unsets */
	values[1] = NULL;
	assert_int_equal(settings_put(f->db, keys + 1, values + 1, 1, &bad,
				      why), 0);
	assert_int_equal(settings_get(f->db, "mail.from", out, sizeof(out)),
			 SETTINGS_ENOTSET);
	assert_int_equal(settings_get(f->db, "nope", out, sizeof(out)),
			 SETTINGS_EKEY);
}

static void test_put_all_or_nothing(void **state)
{
	struct ws_fixture *f = *state;
	const char *keys[] = { "smtp.user", "smtp.url" };
	const char *values[] = { "someone", "gopher://x:70" };
	char out[STORE_SETTING_MAX], why[SETTINGS_WHY_MAX];
	size_t bad = 99;

	assert_int_equal(settings_put(f->db, keys, values, 2, &bad, why),
			 SETTINGS_EVALUE);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(why, "smtp.url"));
	assert_int_equal(settings_get(f->db, "smtp.user", out, sizeof(out)),
			 SETTINGS_ENOTSET);

	keys[1] = "smtp.server";
	values[1] = "x";
	assert_int_equal(settings_put(f->db, keys, values, 2, &bad, why),
			 SETTINGS_EKEY);
	assert_int_equal(settings_get(f->db, "smtp.user", out, sizeof(out)),
			 SETTINGS_ENOTSET);
}

/* A refused template names its key and placeholder, and the value
 * stored before stays, also for the good key given with it. */
static void test_template_refused(void **state)
{
	struct ws_fixture *f = *state;
	const char *keys[] = { "mail.template.invite.de.subject",
			       "mail.template.invite.de.body" };
	const char *values[] = { "Willkommen", "Hallo {{learner}}: {{url}}" };
	char out[TEMPLATE_TEXT_MAX + 1], why[SETTINGS_WHY_MAX], text[2048];
	size_t bad = 99, n;
	FILE *mem;

	assert_int_equal(settings_put(f->db, keys, values, 2, &bad, why), 0);
	values[0] = "Neu";
	values[1] = "Hallo {{name}}";
	assert_int_equal(settings_put(f->db, keys, values, 2, &bad, why),
			 SETTINGS_EVALUE);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(why, "mail.template.invite.de.body: unknown "
				    "placeholder {{name}}"));
	assert_int_equal(settings_get(f->db, keys[0], out, sizeof(out)), 0);
	assert_string_equal(out, "Willkommen");
	assert_int_equal(settings_get(f->db, keys[1], out, sizeof(out)), 0);
	assert_string_equal(out, "Hallo {{learner}}: {{url}}");

	/* get of one key shows the text; of all, a body as its lines */
	mem = fmemopen(text, sizeof(text) - 1, "w");
	assert_non_null(mem);
	assert_int_equal(settings_print(f->db, keys[1], mem), 0);
	assert_int_equal(settings_print(f->db, NULL, mem), 0);
	n = ftell(mem);
	fclose(mem);
	text[n] = 0;
	assert_non_null(strstr(text, "mail.template.invite.de.body=Hallo "
				     "{{learner}}: {{url}}\n"));
	assert_non_null(strstr(text, "mail.template.invite.de.body=(set, 1 "
				     "line)\n"));
	assert_non_null(strstr(text, "mail.template.invite.de.subject="
				     "Willkommen\n"));
}

static void test_print_hides_password(void **state)
{
	struct ws_fixture *f = *state;
	const char *keys[] = { "smtp.password", "smtp.user" };
	const char *values[] = { "hunter2-secret", "bob" };
	char why[SETTINGS_WHY_MAX], text[2048];
	size_t bad, n;
	FILE *mem;

	assert_int_equal(settings_put(f->db, keys, values, 2, &bad, why), 0);
	mem = fmemopen(text, sizeof(text) - 1, "w");
	assert_non_null(mem);
	assert_int_equal(settings_print(f->db, NULL, mem), 0);
	n = ftell(mem);
	fclose(mem);
	text[n] = 0;
	assert_null(strstr(text, "hunter2"));
	assert_non_null(strstr(text, "smtp.password=(set)\n"));
	assert_non_null(strstr(text, "smtp.user=bob\n"));
	assert_non_null(strstr(text, "smtp.url=(not set)\n"));
	assert_non_null(strstr(text, "reminders.schedule=(not set)\n"));
}

static void test_reminders_default(void **state)
{
	struct ws_fixture *f = *state;
	struct settings_reminder r[SETTINGS_REMINDERS_MAX];
	const char *key = "reminders.schedule", *value = "+3,expiry-10";
	char why[SETTINGS_WHY_MAX];
	size_t bad;

	assert_int_equal(settings_reminders(f->db, r), 4);
	assert_int_equal(settings_put(f->db, &key, &value, 1, &bad, why), 0);
	assert_int_equal(settings_reminders(f->db, r), 2);
	assert_int_equal(r[0].days, 3);
	assert_int_equal(r[1].expiry, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_reminders_parse),
		cmocka_unit_test_setup_teardown(test_put_get, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_put_all_or_nothing,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_template_refused,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_print_hides_password,
						ws_setup, ws_teardown),
		cmocka_unit_test_setup_teardown(test_reminders_default,
						ws_setup, ws_teardown),
	};

	log_init("test_settings", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
