/*
 * Unit tests of workspace/certtpl.c and the template parts of
 * certpdf.c: which texts each field takes and why others are refused,
 * the check of the signature image (not a PNG, a cut PNG, too many
 * pixels, too many bytes), a change applied whole or not at all (a
 * template asking for a signature that is not stored changes nothing),
 * and a PDF drawn with the tenant's wording and a signature, read back
 * with pdftotext and pdfimages (poppler-utils, which tests/run
 * installs). The routes and the command line are tested in
 * tests/integration/template.test.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/certpdf.c"
#include "../../workspace/certtpl.c"
#include "../../workspace/image.c"
#include "../../workspace/store.c"
#include "../../workspace/template.c"

#define WS_FIXTURE_STUBS
#include "ws_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct text_case {
	enum certpdf_text field;
	const char *text;
	const char *why; /* NULL when accepted, else a part of the reason */
};

static const struct text_case text_cases[] = {
	{ CERTPDF_TITLE, "Teilnahmebescheinigung", NULL },
	{ CERTPDF_TITLE, "{{academy}}: Zertifikat", NULL },
	{ CERTPDF_TITLE, "", "title must not be empty" },
	{ CERTPDF_TITLE, "two\nlines", "at most 1 line" },
	{ CERTPDF_TITLE, "{{kurs}}", "title: unknown placeholder {{kurs}}" },
	{ CERTPDF_BODY, "{{learner}} hat {{course}} am {{issued}} "
			"abgeschlossen.\nGültig bis {{expires}}.", NULL },
	{ CERTPDF_BODY, "{{learner}}\n{{course}}\n{{number}} {{revision}}",
	  NULL },
	{ CERTPDF_BODY, "{{learner}} hat {{course", "body: unclosed {{" },
	{ CERTPDF_BODY, "{{learner}} {{course}} {{due}}",
	  "body: unknown placeholder {{due}}" },
	{ CERTPDF_BODY, "Nur {{course}}", "must name {{learner}} and "
					  "{{course}}" },
	{ CERTPDF_BODY, "{{learner}} {{course}}\ttab", "control characters" },
	{ CERTPDF_BODY, "{{learner}}{{course}}\n\n\n\n\n\n\n\n\n\n\n\n",
	  "at most 12 lines" },
	{ CERTPDF_SIGNER, "", NULL },
	{ CERTPDF_SIGNER, "Dr. Anna Beispiel\nLeitung der Akademie", NULL },
	{ CERTPDF_SIGNER, "a\nb\nc", "at most 2 lines" },
	{ CERTPDF_SIGNER, "\xc3\x28", "not UTF-8" },
};

static void test_text_check(void **state)
{
	char why[CERTTPL_WHY_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]);
	     i++) {
		const struct text_case *c = &text_cases[i];
		int rc;

		why[0] = 0;
		rc = certtpl_text_check(c->field, c->text, why, sizeof(why));
		if (!c->why && rc)
			fail_msg("\"%s\" refused: %s", c->text, why);
		if (c->why && (rc != CERTTPL_EINVAL || !strstr(why, c->why)))
			fail_msg("\"%s\": got %d \"%s\", want \"%s\"", c->text,
				 rc, why, c->why);
	}
	/* the built-in texts pass the same checks */
	for (int f = 0; f < CERTTPL_NTEXTS; f++) {
		assert_int_equal(certtpl_text_check(
			f, certpdf_default_text(f, "de"), why, sizeof(why)), 0);
		assert_int_equal(certtpl_text_check(
			f, certpdf_default_text(f, "en"), why, sizeof(why)), 0);
	}
}

static cairo_status_t png_out(void *arg, const unsigned char *data,
			      unsigned int len)
{
	return buf_append(arg, data, len) ? CAIRO_STATUS_WRITE_ERROR :
					    CAIRO_STATUS_SUCCESS;
}

/* A PNG of w x h pixels: a blue stroke on white, a signature. */
static void make_png(struct buf *b, int w, int h)
{
	cairo_surface_t *s =
		cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
	cairo_t *cr = cairo_create(s);

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 0, 0.6);
	cairo_set_line_width(cr, 3);
	cairo_move_to(cr, 5, h * 0.7);
	cairo_curve_to(cr, w * 0.3, 0, w * 0.6, h, w - 5, h * 0.3);
	cairo_stroke(cr);
	cairo_destroy(cr);
	assert_int_equal(cairo_surface_write_to_png_stream(s, png_out, b),
			 CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
}

static void test_signature_check(void **state)
{
	char why[CERTTPL_WHY_MAX];
	struct buf png, big;

	(void)state;
	buf_init(&png);
	buf_init(&big);
	make_png(&png, 160, 50);
	assert_int_equal(certtpl_signature_check(png.data, png.len, why,
						 sizeof(why)), 0);

	assert_int_equal(certtpl_signature_check((const uint8_t *)"GIF89a..",
						 9, why, sizeof(why)),
			 CERTTPL_EINVAL);
	assert_non_null(strstr(why, "not a PNG image"));
	/* the header is there, the image data is cut off */
	assert_int_equal(certtpl_signature_check(png.data, 40, why,
						 sizeof(why)), CERTTPL_EINVAL);
	assert_non_null(strstr(why, "cannot be decoded"));
	/* a header that claims 5000 pixels is refused before decoding */
	assert_int_equal(buf_append(&big, png.data, png.len), 0);
	big.data[18] = 0x13;
	big.data[19] = 0x88;
	assert_int_equal(certtpl_signature_check(big.data, big.len, why,
						 sizeof(why)), CERTTPL_EINVAL);
	assert_non_null(strstr(why, "larger than 4096 x 4096"));
	buf_reset(&big);
	assert_int_equal(buf_append(&big, png.data, png.len), 0);
	assert_int_equal(buf_reserve(&big, CERTTPL_SIGNATURE_MAX), 0);
	memset(big.data + big.len, 0, CERTTPL_SIGNATURE_MAX);
	big.len += CERTTPL_SIGNATURE_MAX;
	assert_int_equal(certtpl_signature_check(big.data, big.len, why,
						 sizeof(why)), CERTTPL_EINVAL);
	assert_non_null(strstr(why, "larger than 512 KiB"));
	buf_release(&png);
	buf_release(&big);
}

/* The change of json applied: its result, the reason in why. */
static int change(sqlite3 *db, const char *json, const struct buf *image,
		  char *why)
{
	struct certtpl_change c;
	cJSON *o = cJSON_Parse(json);
	int rc;

	assert_non_null(o);
	rc = certtpl_parse(o, &c, why, CERTTPL_WHY_MAX);
	if (!rc && image) {
		c.image = image->data;
		c.image_len = image->len;
	}
	if (!rc)
		rc = certtpl_apply(db, &c, 1, why, CERTTPL_WHY_MAX);
	cJSON_Delete(o);
	return rc;
}

/* A member of the GET JSON: field.lang, or a bool by name. */
static const char *shown(sqlite3 *db, const char *field, const char *lang)
{
	static char text[CERTTPL_BODY_MAX + 1];
	cJSON *o, *f;

	assert_int_equal(certtpl_json(db, &o), 0);
	f = cJSON_GetObjectItemCaseSensitive(o, field);
	if (lang)
		f = cJSON_GetObjectItemCaseSensitive(f, lang);
	if (cJSON_IsBool(f))
		snprintf(text, sizeof(text), "%s",
			 cJSON_IsTrue(f) ? "true" : "false");
	else
		snprintf(text, sizeof(text), "%s", cJSON_GetStringValue(f));
	cJSON_Delete(o);
	return text;
}

static void test_parse_refusals(void **state)
{
	static const char *const bad[][2] = {
		{ "[]", "must be a JSON object" },
		{ "{\"titel\": \"x\"}", "unknown member \"titel\"" },
		{ "{\"title\": 3}", "title.de must be a string or null" },
		{ "{\"title\": {\"fr\": \"x\"}}", "\"de\" and \"en\"" },
		{ "{\"body\": {\"en\": \"{{learner}} {{course}} {{x}}\"}}",
		  "body.en: unknown placeholder {{x}}" },
		{ "{\"signer\": {\"de\": \"a {{\"}}",
		  "signer.de: unclosed {{" },
		{ "{\"signature\": \"yes\"}", "true, false or null" },
	};
	struct ws_fixture *f = *state;
	char why[CERTTPL_WHY_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = 0;
		assert_int_equal(change(f->db, bad[i][0], NULL, why),
				 CERTTPL_EINVAL);
		if (!strstr(why, bad[i][1]))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], why,
				 bad[i][1]);
	}
	assert_string_equal(shown(f->db, "custom", NULL), "false");
}

static void test_apply(void **state)
{
	struct ws_fixture *f = *state;
	char why[CERTTPL_WHY_MAX];
	struct certtpl t;
	struct buf png;

	buf_init(&png);
	make_png(&png, 160, 50);
	assert_string_equal(shown(f->db, "title", "de"), "Zertifikat");
	assert_string_equal(shown(f->db, "signature", NULL), "false");

	/* asking for a signature none is stored for changes nothing */
	assert_int_equal(change(f->db, "{\"title\": \"Urkunde\", "
				       "\"signature\": true}", NULL, why),
			 CERTTPL_EINVAL);
	assert_non_null(strstr(why, "no signature image is stored"));
	assert_string_equal(shown(f->db, "title", "de"), "Zertifikat");
	assert_string_equal(shown(f->db, "custom", NULL), "false");

	/* with the image it goes through, a string for both languages */
	assert_int_equal(change(f->db, "{\"title\": \"Urkunde\", "
				       "\"signer\": {\"en\": \"A. Example\"},"
				       " \"signature\": true}", &png, why), 0);
	assert_string_equal(shown(f->db, "title", "de"), "Urkunde");
	assert_string_equal(shown(f->db, "title", "en"), "Urkunde");
	assert_string_equal(shown(f->db, "signer", "en"), "A. Example");
	assert_string_equal(shown(f->db, "signer", "de"), "");
	assert_string_equal(shown(f->db, "signature", NULL), "true");
	assert_string_equal(shown(f->db, "custom", NULL), "true");
	assert_int_equal(certtpl_load(f->db, "en", &t), 0);
	assert_string_equal(t.text[CERTPDF_TITLE], "Urkunde");
	assert_string_equal(t.text[CERTPDF_BODY],
			    certpdf_default_text(CERTPDF_BODY, "en"));
	assert_int_equal(t.signature_len, png.len);
	assert_memory_equal(t.signature, png.data, png.len);
	certtpl_release(&t);

	/* now the stored image is enough; null and false reset */
	assert_int_equal(change(f->db, "{\"signature\": true}", NULL, why), 0);
	assert_int_equal(change(f->db, "{\"title\": {\"en\": null}}", NULL,
				why), 0);
	assert_string_equal(shown(f->db, "title", "en"), "Certificate");
	assert_string_equal(shown(f->db, "title", "de"), "Urkunde");
	assert_int_equal(change(f->db, "{\"title\": null, \"signer\": null, "
				       "\"signature\": false}", NULL, why), 0);
	assert_string_equal(shown(f->db, "title", "de"), "Zertifikat");
	assert_string_equal(shown(f->db, "signature", NULL), "false");
	assert_string_equal(shown(f->db, "custom", NULL), "false");
	buf_release(&png);
}

/* The output of the poppler tool (pdftotext or pdfimages) for the PDF,
 * the PDF in a temporary file. */
static char *pdf_tool(const struct buf *pdf, const char *tool)
{
	char path[] = "/tmp/test_certtpl_pdf.XXXXXX", cmd[160], chunk[4096];
	struct buf out;
	size_t n;
	FILE *p;
	int fd;

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	if (system(cmd))
		fail_msg("%s is missing (package poppler-utils)", tool);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pdf->data, pdf->len), (ssize_t)pdf->len);
	close(fd);
	snprintf(cmd, sizeof(cmd), strcmp(tool, "pdfimages") ? "%s '%s' -" :
			     "%s -list '%s'", tool, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	buf_init(&out);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		assert_int_equal(buf_append(&out, chunk, n), 0);
	assert_int_equal(pclose(p), 0);
	unlink(path);
	assert_int_equal(buf_append(&out, "", 1), 0);
	return (char *)out.data;
}

/* s with every run of white space made one space, in place. */
static char *one_line(char *s)
{
	size_t j = 0;

	for (size_t i = 0; s[i]; i++) {
		int space = strchr(" \t\r\n\f", s[i]) != NULL;

		if (!space || (j && s[j - 1] != ' '))
			s[j++] = space ? ' ' : s[i];
	}
	s[j] = 0;
	return s;
}

/* The images (not their masks) that pdfimages -list shows. */
static int pdf_images(const struct buf *pdf)
{
	char *list = pdf_tool(pdf, "pdfimages"), *line, *save = NULL;
	char type[32];
	int n = 0, page, num;

	for (line = strtok_r(list, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%d %d %31s", &page, &num, type) == 3 &&
		    !strcmp(type, "image"))
			n++;
	free(list);
	return n;
}

/* Draws a certificate with the tenant's texts, body and the signature
 * sig (or none) and checks its text and its count of images. */
static void render_signed(const struct buf *sig, const char *body,
			  const char *const *want, const char *const *unwanted,
			  int images)
{
	struct certpdf_input in = {
		.academy = "Klinik Süd", .color = "#336699",
		.learner = "Jörg Weiß-Example", .course = "Hygiene basics",
		.number = "HYG-2027-000042",
		.revision = "0123456789abcdef0123456789abcdef01234567",
		.issued = 1801382400,  /* 2027-01-31 */
		.expires = 1832918400, /* 2028-01-31 */
		.verify_url = "http://academy.example/verify/"
			      "0123456789abcdef0123456789abcdef",
		.language = "de", .title = "Teilnahmebescheinigung",
		.body = body,
		.signer = "Dr. Anna Beispiel\nLeitung der {{academy}}",
		.signature = sig ? sig->data : NULL,
		.signature_len = sig ? sig->len : 0,
	};
	struct buf pdf;
	char *text;

	buf_init(&pdf);
	assert_int_equal(certpdf_render(&in, &pdf), 0);
	text = one_line(pdf_tool(&pdf, "pdftotext"));
	for (; *want; want++)
		if (!strstr(text, *want))
			fail_msg("\"%s\" missing in: %s", *want, text);
	for (; *unwanted; unwanted++)
		if (strstr(text, *unwanted))
			fail_msg("\"%s\" should not be in: %s", *unwanted,
				 text);
	assert_int_equal(pdf_images(&pdf), images);
	free(text);
	buf_release(&pdf);
}

static void test_pdf_with_signature(void **state)
{
	static const char *const want[] = {
		"Teilnahmebescheinigung",
		"Jörg Weiß-Example hat die Schulung Hygiene basics am "
		"31.01.2027 erfolgreich abgeschlossen.",
		"Gültig bis 31.01.2028.",
		"Dr. Anna Beispiel", "Leitung der Klinik Süd",
		"HYG-2027-000042", "0123456789ab", "Klinik Süd", NULL };
	/* the body names both dates: no line of dates of its own */
	static const char *const unwanted[] = {
		"Ausgestellt am", "Zertifikat ", "{{", NULL };
	static const char *const dated[] = {
		"Hygiene basics", "Jörg Weiß-Example", "Ausgestellt am "
		"31.01.2027", "gültig bis 31.01.2028", "Urkunde für", NULL };
	static const char *const none[] = { NULL };
	struct buf sig;

	(void)state;
	buf_init(&sig);
	make_png(&sig, 300, 90);
	render_signed(&sig, "{{learner}} hat die Schulung {{course}} am "
			    "{{issued}} erfolgreich abgeschlossen.\n"
			    "Gültig bis {{expires}}.", want, unwanted, 1);
	/* without {{expires}} the dates follow; a signer without image */
	render_signed(NULL, "Urkunde für\n{{learner}}\n\n{{course}}", dated,
		      none, 0);
	buf_release(&sig);
}

/* A body of the most lines, each long, still renders (smaller). */
static void test_pdf_long_body(void **state)
{
	static const char *const want[] = { "Zeile zwölf", "HYG-2027-000042",
					    NULL };
	static const char *const none[] = { NULL };
	struct buf body;

	(void)state;
	buf_init(&body);
	assert_int_equal(buf_append_str(&body, "{{learner}} {{course}}"), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(buf_append_str(&body, "\nEin langer Satz, "
			"der die Zeile füllt und noch etwas mehr sagt, als "
			"auf eine Zeile passt, {{number}}."), 0);
	assert_int_equal(buf_append_str(&body, "\nZeile zwölf"), 0);
	assert_int_equal(certtpl_text_check(CERTPDF_BODY, buf_cstr(&body),
					    (char[CERTTPL_WHY_MAX]){ 0 },
					    CERTTPL_WHY_MAX), 0);
	render_signed(NULL, buf_cstr(&body), want, none, 0);
	buf_release(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_check),
		cmocka_unit_test(test_signature_check),
		cmocka_unit_test_setup_teardown(test_parse_refusals, ws_setup,
						ws_teardown),
		cmocka_unit_test_setup_teardown(test_apply, ws_setup,
						ws_teardown),
		cmocka_unit_test(test_pdf_with_signature),
		cmocka_unit_test(test_pdf_long_body),
	};
	int failed;

	log_init("test_certtpl", LOG_ERROR);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	certpdf_cleanup();
	return failed;
}
