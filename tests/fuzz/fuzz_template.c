/*
 * libFuzzer target for the templates an admin saves (workspace/template.c
 * and the mail templates' key check in mailtpl.c): template_check(),
 * template_render() and template_mail_key() on any bytes.
 *
 * The text is handed over in a buffer of exactly its length plus the
 * NUL, so a read past the end is caught by the sanitizer. What must
 * hold besides: a check gives 0 or a TEMPLATE_E* code and, on a
 * refusal, a reason; a text the check accepted renders, with values
 * not empty and free of braces, to well-formed UTF-8 without "{{" or
 * "}}", as long as the text with each placeholder replaced by its
 * value; a mail key the check accepted is one line when it is a
 * subject.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../workspace/mail.c"
#include "../../workspace/mailtpl.c"
#include "../../workspace/settings.c"
#include "../../workspace/store.c"
#include "../../workspace/template.c"

/* The routes are not fuzzed here: the check of credentials they call is
 * never reached. */
int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api, (void)x, (void)req, (void)roles, (void)out;
	return -1;
}

static const char *const fuzz_names[] = { "learner", "course", "url" };
static const struct template_var fuzz_vars[] = {
	{ "learner", "Jörg" },
	{ "course", "Hygiene" },
	{ "url", "https://x/" },
};

/* The length text renders to: each placeholder replaced by its value. */
static size_t fuzz_expected_len(const char *text)
{
	struct template_scan s;
	size_t n = 0;
	const char *v;

	for (const char *p = text; *p; p += s.len) {
		template_next(p, &s);
		if (s.token != TEMPLATE_NAME) {
			n += s.len;
			continue;
		}
		v = template_value(s.name, s.name_len, fuzz_vars, 3);
		n += v ? strlen(v) : 0;
	}
	return n;
}

static void fuzz_check_render(const char *text)
{
	char why[TEMPLATE_WHY_MAX] = "";
	struct buf out;
	int rc = template_check(text, fuzz_names, 3, why, sizeof(why));

	if (rc > 0 || rc < TEMPLATE_ETOOLONG || (rc && !*why))
		abort();
	buf_init(&out);
	if (template_render(text, fuzz_vars, 3, &out))
		abort();
	if (!rc && (strstr(buf_cstr(&out), "{{") ||
		    strstr(buf_cstr(&out), "}}") ||
		    !utf8_valid(buf_cstr(&out), out.len) ||
		    out.len != fuzz_expected_len(text)))
		abort();
	buf_release(&out);
}

static void fuzz_mail_key(uint8_t pick, const char *text)
{
	static const char *const keys[] = {
		"mail.template.invite.de.subject",
		"mail.template.overdue_manager.en.body",
		"mail.template.expiry.de.body",
		"mail.template.nothing.de.body",
	};
	const char *key = keys[pick % 4];
	char why[TEMPLATE_WHY_MAX] = "";
	int rc = 1;

	if (!template_mail_key(key, text, &rc, why, sizeof(why))) {
		if (pick % 4 != 3 || rc != 1)
			abort();
		return;
	}
	if (!rc && *text && strstr(key, "subject") &&
	    !mail_subject_valid(text))
		abort();
	if (rc && !*why)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0; /* up to the first NUL, as a C string */
	fuzz_check_render(text);
	fuzz_mail_key(size ? data[0] : 0, text);
	free(text);
	return 0;
}
