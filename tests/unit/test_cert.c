/*
 * Unit tests of workspace/cert.c and workspace/certpdf.c: expiry by
 * calendar months (a day the target month lacks becomes its last, leap
 * years included), the status by time, numbers and verification codes
 * (unique, the shapes people and URLs see), issuing exactly once per
 * completion (not before the course is completed, not for a course that
 * is not the user's, not again after a revocation, also inside an open
 * transaction as learn.c's group commit runs it), and the PDF: a real
 * PDF whose text (read back with pdftotext when it is installed) holds
 * the learner's name, the course, the dates and the number, with or
 * without a logo and with a logo that is no PNG.
 *
 * The sources are compiled in directly, as the unit build links only the
 * shared libraries (cairo, pango and libqrencode come with lmscommon);
 * auth_require() is not reached here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/apply.c"
#include "../../workspace/assign.c"
#include "../../workspace/batch.c"
#include "../../workspace/brand.c"
#include "../../workspace/cert.c"
#include "../../workspace/certpdf.c"
#include "../../workspace/certtpl.c"
#include "../../workspace/image.c"
#include "../../workspace/coursecache.c"
#include "../../workspace/groups.c"
#include "../../workspace/learn.c"
#include "../../workspace/mail.c"
#include "../../workspace/people.c"
#include "../../workspace/scope.c"
#include "../../workspace/settings.c"
#include "../../workspace/mailtpl.c"
#include "../../workspace/template.c"
#include "../../workspace/store.c"
#include "../../workspace/web.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The HTTP paths are tested in tests/integration/cert.test.mjs. */
int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api;
	(void)x;
	(void)req;
	(void)roles;
	(void)out;
	fail_msg("the routes are tested in tests/integration/cert.test.mjs");
	return -1;
}


#define NOW 1800000000 /* 2027-01-15T08:00:00Z */
#define COURSE "hygiene-basics"

static int64_t at(const char *iso)
{
	int64_t t = 0;

	assert_int_equal(clock_parse_iso(iso, &t), 0);
	return t;
}

static void assert_months(const char *from, int months, const char *want)
{
	char got[32];

	clock_format_iso(cert_add_months(at(from), months), got, sizeof(got));
	assert_string_equal(got, want);
}

static void test_add_months(void **state)
{
	(void)state;
	assert_months("2027-01-15T08:00:00Z", 12, "2028-01-15T08:00:00Z");
	assert_months("2027-01-31T08:30:05Z", 1, "2027-02-28T08:30:05Z");
	assert_months("2028-01-31T00:00:00Z", 1, "2028-02-29T00:00:00Z");
	assert_months("2028-02-29T12:00:00Z", 12, "2029-02-28T12:00:00Z");
	assert_months("2028-02-29T12:00:00Z", 48, "2032-02-29T12:00:00Z");
	assert_months("2026-08-31T23:59:59Z", 6, "2027-02-28T23:59:59Z");
	assert_months("2026-10-31T10:00:00Z", 1, "2026-11-30T10:00:00Z");
	assert_months("2026-12-15T10:00:00Z", 1, "2027-01-15T10:00:00Z");
	assert_months("2026-12-31T10:00:00Z", 2, "2027-02-28T10:00:00Z");
	assert_months("2027-03-31T10:00:00Z", 24, "2029-03-31T10:00:00Z");
	assert_months("2027-05-31T10:00:00Z", 120, "2037-05-31T10:00:00Z");
}

static void test_status(void **state)
{
	(void)state;
	assert_int_equal(cert_status_at(NOW, 0, 0), CERT_VALID);
	assert_int_equal(cert_status_at(NOW, NOW + 1, 0), CERT_VALID);
	assert_int_equal(cert_status_at(NOW, NOW, 0), CERT_EXPIRED);
	assert_int_equal(cert_status_at(NOW + 5, NOW, 0), CERT_EXPIRED);
	assert_int_equal(cert_status_at(NOW, NOW + 9, NOW - 1), CERT_REVOKED);
	assert_int_equal(cert_status_at(NOW + 9, NOW, NOW - 1), CERT_REVOKED);
	assert_string_equal(cert_status_name(CERT_VALID), "valid");
	assert_string_equal(cert_status_name(CERT_EXPIRED), "expired");
	assert_string_equal(cert_status_name(CERT_REVOKED), "revoked");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_number_and_code(void **state)
{
	static char codes[2000][CERT_CODE_LEN + 1];
	char n[CERT_NUMBER_MAX + 1];
	size_t k;

	(void)state;
	cert_number("hygiene-basics", NOW, 123, n, sizeof(n));
	assert_string_equal(n, "HYG-2027-000123");
	cert_number("ai-literacy", at("2026-12-31T23:59:59Z"), 1, n,
		    sizeof(n));
	assert_string_equal(n, "AIL-2026-000001");
	cert_number("x", NOW, 1234567, n, sizeof(n));
	assert_string_equal(n, "X-2027-1234567");
	for (k = 0; k < 2000; k++) {
		assert_int_equal(cert_code(codes[k]), 0);
		assert_int_equal(strlen(codes[k]), CERT_CODE_LEN);
		assert_int_equal(strspn(codes[k], "0123456789abcdef"),
				 CERT_CODE_LEN);
		assert_true(cert_code_valid(codes[k]));
	}
	qsort(codes, 2000, sizeof(codes[0]), cmp_str);
	for (k = 1; k < 2000; k++)
		assert_string_not_equal(codes[k - 1], codes[k]);
	assert_false(cert_code_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(cert_code_valid("0123456789abcdef"));
	assert_false(cert_code_valid(""));
}

static void test_title_html(void **state)
{
	struct buf b;
	char *t;

	(void)state;

	t = cert_title("{\"de\": \"Hygiene\", \"en\": \"Hygiene basics\"}",
		       "en");
	assert_string_equal(t, "Hygiene basics");
	free(t);
	t = cert_title("{\"fr\": \"Hygiène\", \"de\": \"Hygiene\"}", "en");
	assert_string_equal(t, "Hygiene");
	free(t);
	t = cert_title("{\"fr\": \"Hygiène\"}", "en");
	assert_string_equal(t, "Hygiène");
	free(t);
	t = cert_title("\"Plain\"", "de");
	assert_string_equal(t, "Plain");
	free(t);
	assert_null(cert_title("[1]", "de"));

	buf_init(&b);
	cert_html_text(&b, "<a href=\"x\">'Tom' & Jerry</a>");
	buf_append(&b, "", 1);
	assert_string_equal((char *)b.data,
			    "&lt;a href=&quot;x&quot;&gt;&#39;Tom&#39; &amp; "
			    "Jerry&lt;/a&gt;");
	buf_release(&b);
}

/* ---- issuing, on a workspace.db with the sample course ---- */

struct fixture {
	char dir[64];
	char *work;
	sqlite3 *db;
	git_repository *repo;
	struct coursecache *cache;
	int64_t ann, bob, cid;
};

static void shell(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int64_t user(sqlite3 *db, const char *email, const char *name)
{
	struct people_new_user u = { .email = email, .name = name,
				     .role = PEOPLE_ROLE_LEARNER,
				     .created_at = NOW };
	int64_t id = 0;

	assert_int_equal(people_user_add(db, &u, &id), 0);
	return id;
}

static void assign(struct fixture *f, int64_t uid)
{
	char json[128];
	const char *why;
	cJSON *in;
	int64_t id;

	snprintf(json, sizeof(json), "{\"course\": \"" COURSE "\", "
		 "\"user\": %lld, \"due\": \"2027-03-01\"}", (long long)uid);
	in = cJSON_Parse(json);
	assert_int_equal(assign_add_json(f->db, in, NOW, &id, &why), 0);
	cJSON_Delete(in);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *end = strstr(__FILE__, "/tests/unit/");
	char *path, rev[41], sql[320];

	assert_non_null(f);
	assert_non_null(end);
	strcpy(f->dir, "/tmp/test_cert.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->work = fs_join(f->dir, "course");
	shell("cp -r '%.*s/deploy/courses/" COURSE "' '%s'",
	      (int)(end - __FILE__), __FILE__, f->work);
	path = fs_join(f->dir, STORE_FILE);
	assert_int_equal(store_open(path, &f->db), 0);
	free(path);
	gitstore_global_init();
	path = fs_join(f->dir, "content.git");
	assert_int_equal(gitstore_open(path, 1, &f->repo), 0);
	free(path);
	assert_int_equal(coursecache_new(f->dir, &f->cache), 0);
	assert_true(gitstore_commit_dir(f->repo, "refs/heads/" COURSE,
					f->work, "First\n", "LMS Test",
					rev) == 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO courses (id, origin, revision, title, "
		 "published_at, updated_at) VALUES ('" COURSE "', 'mother', "
		 "'%s', 'Hygiene', 1, 1)", rev);
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), 0);
	assert_int_equal(apply_record_versions(f->db, f->repo, COURSE), 0);
	f->ann = user(f->db, "ann@example.org", "Ann Example");
	f->bob = user(f->db, "bob@example.org", "Bob Example");
	f->cid = user(f->db, "cid@example.org", "Cid Example");
	assign(f, f->ann);
	assign(f, f->cid);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	coursecache_free(f->cache);
	git_repository_free(f->repo);
	sqlite3_close_v2(f->db);
	fs_remove_tree(f->dir);
	free(f->work);
	free(f);
	return 0;
}

/* Passes the quiz lesson with the right answers from its file. */
static void pass_quiz(struct fixture *f, int64_t uid, const char *lesson,
		      const char *file, int64_t now)
{
	char *path = fs_join(f->work, file);
	struct buf b;
	cJSON *quiz, *q, *body, *answers, *out = NULL;
	const char *why = NULL;

	buf_init(&b);
	assert_int_equal(fs_read_file(path, 1 << 20, &b), 0);
	free(path);
	quiz = cJSON_ParseWithLength((const char *)b.data, b.len);
	buf_release(&b);
	body = cJSON_CreateObject();
	answers = cJSON_AddObjectToObject(body, "answers");
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(quiz, "questions"))
		cJSON_AddItemToObject(answers,
				      cJSON_GetObjectItem(q, "id")->valuestring,
				      cJSON_Duplicate(cJSON_GetObjectItem(
						  q, "answer"), 1));
	assert_int_equal(learn_attempt(f->cache, f->db, uid, COURSE, lesson,
				       body, now, &out, &why), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "passed")));
	cJSON_Delete(out);
	cJSON_Delete(body);
	cJSON_Delete(quiz);
}

/* Completes every lesson but skip (NULL: none) at now. */
static void complete_all(struct fixture *f, int64_t uid, const char *skip,
			 int64_t now)
{
	struct coursecache_course *c;
	const struct course_lesson *l;

	assert_int_equal(learn_course_open(f->cache, f->db, 0, COURSE, &c),
			 0);
	for (size_t i = 0; i < c->info.lesson_count; i++) {
		l = &c->info.lessons[i];
		if (skip && !strcmp(l->id, skip))
			continue;
		if (l->quiz)
			pass_quiz(f, uid, l->id, l->quiz, now);
		else
			assert_int_equal(learn_complete(f->cache, f->db, uid,
							COURSE, l->id, now),
					 0);
	}
	coursecache_put(f->cache, c);
}

static cJSON *list(struct fixture *f, int64_t uid, int64_t now)
{
	cJSON *out = NULL;

	assert_int_equal(cert_list_json(f->db, uid, now, "http://h", &out),
			 0);
	return out;
}

static const char *field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_issue_once_per_completion(void **state)
{
	struct fixture *f = *state;
	cJSON *l, *c;
	char url[80];

	/* not completed, not the user's: nothing */
	complete_all(f, f->ann, "wissenstest", NOW);
	assert_int_equal(cert_issue_if_complete(f->db, f->cache, f->ann,
						COURSE, NOW), 0);
	assert_int_equal(cert_issue_if_complete(f->db, f->cache, f->bob,
						COURSE, NOW), 0);
	assert_int_equal(cert_issue_if_complete(f->db, f->cache, f->ann,
						"no-such", NOW), 0);
	l = list(f, 0, NOW);
	assert_int_equal(cJSON_GetArraySize(l), 0);
	cJSON_Delete(l);
	/* 1, or 0 when learn.c issued it already with the completion */
	complete_all(f, f->ann, NULL, NOW + 10);
	assert_in_range(cert_issue_if_complete(f->db, f->cache, f->ann,
					       COURSE, NOW + 10), 0, 1);
	assert_int_equal(cert_issue_if_complete(f->db, f->cache, f->ann,
						COURSE, NOW + 20), 0);
	assert_int_equal(cert_issue_due(f->db, f->cache, f->ann, NOW + 30),
			 0);
	l = list(f, f->ann, NOW + 40);
	assert_int_equal(cJSON_GetArraySize(l), 1);
	c = cJSON_GetArrayItem(l, 0);
	assert_string_equal(field(c, "number"), "HYG-2027-000001");
	assert_string_equal(field(c, "course"), COURSE);
	assert_string_equal(field(c, "issued"), "2027-01-15T08:00:10Z");
	assert_string_equal(field(c, "expires"), "2028-01-15T08:00:10Z");
	assert_string_equal(field(c, "status"), "valid");
	assert_int_equal(strlen(field(c, "revision")), 40);
	snprintf(url, sizeof(url), "http://h/verify/");
	assert_memory_equal(field(c, "verify_url"), url, strlen(url));
	assert_true(cert_code_valid(field(c, "verify_url") + strlen(url)));
	cJSON_Delete(l);
	l = list(f, f->ann, at("2028-01-15T08:00:10Z"));
	assert_string_equal(field(cJSON_GetArrayItem(l, 0), "status"),
			    "expired");
	cJSON_Delete(l);

	/* passing the quiz again while the certificate is valid issues
	 * none, and does not count as doing the course again later */
	pass_quiz(f, f->ann, "wissenstest", "quizzes/wissenstest.json",
		  NOW + 45);
	assert_int_equal(cert_issue_if_complete(f->db, f->cache, f->ann,
						COURSE, NOW + 45), 0);

	/* revoked: not replaced until the learner passes again */
	assert_int_equal(cert_revoke(f->db, 1, "wrong person", NOW + 50), 0);
	assert_int_equal(cert_revoke(f->db, 1, "again", NOW + 51),
			 STORE_EINVAL);
	assert_int_equal(cert_revoke(f->db, 99, "none", NOW + 51),
			 STORE_ENOTFOUND);
	assert_int_equal(cert_issue_if_complete(f->db, f->cache, f->ann,
						COURSE, NOW + 60), 0);
	l = list(f, f->ann, NOW + 60);
	assert_string_equal(field(cJSON_GetArrayItem(l, 0), "status"),
			    "revoked");
	cJSON_Delete(l);
	pass_quiz(f, f->ann, "wissenstest", "quizzes/wissenstest.json",
		  NOW + 70);
	assert_in_range(cert_issue_if_complete(f->db, f->cache, f->ann,
					       COURSE, NOW + 70), 0, 1);
	l = list(f, f->ann, NOW + 70);
	assert_int_equal(cJSON_GetArraySize(l), 2);
	assert_string_equal(field(cJSON_GetArrayItem(l, 1), "number"),
			    "HYG-2027-000002");
	assert_string_not_equal(field(cJSON_GetArrayItem(l, 0), "verify_url"),
				field(cJSON_GetArrayItem(l, 1), "verify_url"));
	cJSON_Delete(l);
}

/* As learn.c's write runs it: inside the group commit's transaction,
 * which decides whether it stays. */
static void test_issue_in_transaction(void **state)
{
	struct fixture *f = *state;
	cJSON *l;

	complete_all(f, f->cid, NULL, NOW);
	/* what learn.c may have issued with the completion: gone */
	assert_int_equal(sqlite3_exec(f->db, "DELETE FROM certificates",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(cert_issue_if_complete(f->db, f->cache, f->cid,
						COURSE, NOW), 1);
	assert_int_equal(sqlite3_get_autocommit(f->db), 0);
	db_rollback(f->db);
	l = list(f, 0, NOW);
	assert_int_equal(cJSON_GetArraySize(l), 0);
	cJSON_Delete(l);
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(cert_issue_if_complete(f->db, f->cache, f->cid,
						COURSE, NOW), 1);
	assert_int_equal(db_commit(f->db), 0);
	l = list(f, f->cid, NOW);
	assert_int_equal(cJSON_GetArraySize(l), 1);
	cJSON_Delete(l);
	l = list(f, f->ann, NOW);
	assert_int_equal(cJSON_GetArraySize(l), 0);
	cJSON_Delete(l);
}

/* ---- the PDF ---- */

static cairo_status_t png_out(void *arg, const unsigned char *d,
			      unsigned int n)
{
	return buf_append(arg, d, n) ? CAIRO_STATUS_WRITE_ERROR :
				       CAIRO_STATUS_SUCCESS;
}

/* A small PNG, red. */
static void make_png(struct buf *b)
{
	cairo_surface_t *s =
		cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 40, 20);
	cairo_t *cr = cairo_create(s);

	cairo_set_source_rgb(cr, 1, 0, 0);
	cairo_paint(cr);
	cairo_destroy(cr);
	assert_int_equal(cairo_surface_write_to_png_stream(s, png_out, b),
			 CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
}

/* The text of the PDF by pdftotext (poppler-utils, which tests/run
 * installs: a missing one fails the test). */
static char *pdf_text(const struct buf *pdf)
{
	char path[] = "/tmp/test_cert_pdf.XXXXXX", cmd[128];
	struct buf out;
	FILE *p;
	char chunk[4096];
	size_t n;
	int fd;

	if (system("command -v pdftotext >/dev/null 2>&1"))
		fail_msg("pdftotext is missing (package poppler-utils)");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pdf->data, pdf->len), (ssize_t)pdf->len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "pdftotext '%s' -", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	buf_init(&out);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		assert_int_equal(buf_append(&out, chunk, n), 0);
	assert_int_equal(pclose(p), 0);
	unlink(path);
	buf_append(&out, "", 1);
	return (char *)out.data;
}

static void render(const uint8_t *logo, size_t logo_len, const char *lang,
		   const char *const *want)
{
	struct certpdf_input in = {
		.academy = "Klinik Süd", .color = "#336699",
		.logo = logo, .logo_len = logo_len,
		.learner = "Jörg Weiß-Example", .course = "Hygiene basics",
		.number = "HYG-2027-000042",
		.revision = "0123456789abcdef0123456789abcdef01234567",
		.issued = at("2027-01-31T08:00:00Z"),
		.expires = at("2028-01-31T08:00:00Z"),
		.verify_url = "http://academy.example/verify/"
			      "0123456789abcdef0123456789abcdef",
		.language = lang,
	};
	struct buf pdf;
	char *text;

	buf_init(&pdf);
	assert_int_equal(certpdf_render(&in, &pdf), 0);
	assert_true(pdf.len > 1000);
	assert_memory_equal(pdf.data, "%PDF-", 5);
	text = pdf_text(&pdf);
	for (; *want; want++)
		if (!strstr(text, *want))
			fail_msg("\"%s\" missing in: %s", *want, text);
	free(text);
	buf_release(&pdf);
}

static void test_pdf(void **state)
{
	static const char *const de[] = {
		"Zertifikat", "Jörg Weiß-Example", "Hygiene basics",
		"31.01.2027", "31.01.2028", "HYG-2027-000042",
		"0123456789ab", "Klinik Süd", NULL };
	static const char *const en[] = {
		"Certificate", "Jörg Weiß-Example", "2027-01-31",
		"2028-01-31", "HYG-2027-000042", NULL };
	static const uint8_t not_png[] = "\x89PNG\r\n\x1a\nbroken";
	struct buf png;
	char day[16];

	(void)state;
	buf_init(&png);
	make_png(&png);
	render(png.data, png.len, "de", de);
	render(NULL, 0, "en", en);
	render(not_png, sizeof(not_png), "fr", de);
	render((const uint8_t *)"\xff\xd8\xff\xe0jpeg", 8, "de", de);
	buf_release(&png);
	certpdf_date(at("2027-03-05T23:59:59Z"), "de", day, sizeof(day));
	assert_string_equal(day, "05.03.2027");
	certpdf_date(at("2027-03-05T23:59:59Z"), "en", day, sizeof(day));
	assert_string_equal(day, "2027-03-05");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_months),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_number_and_code),
		cmocka_unit_test(test_title_html),
		cmocka_unit_test_setup_teardown(test_issue_once_per_completion,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_in_transaction,
						setup, teardown),
		cmocka_unit_test(test_pdf),
	};

	int failed;

	log_init("test_cert", LOG_WARN);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	certpdf_cleanup();
	return failed;
}
