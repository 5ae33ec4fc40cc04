/*
 * Unit tests of workspace/media.c: the Range header is read as RFC 9110
 * says (one range served, an unsatisfiable set refused, a malformed set
 * or several ranges ignored, numbers past 64 bits saturated), a media
 * path that could leave media/ is refused, the Content-Type follows the
 * extension, If-None-Match and ?v= recognise the blob id, and a file is
 * found in the tree of a revision by its blob id only when it is a
 * regular file. The source is compiled in directly, as the unit build
 * links only the shared libraries; the route itself, with who may read
 * what, is exercised against a real daemon by
 * tests/integration/media.test.mjs, so the two functions of other
 * modules it calls are stubbed here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/media.c"
#include "../../workspace/store.c"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api;
	(void)x;
	(void)req;
	(void)roles;
	(void)out;
	fail_msg("the route is not exercised by the unit tests");
	return -1;
}

int assign_user_has(sqlite3 *db, int64_t user_id, const char *course_id)
{
	(void)db;
	(void)user_id;
	(void)course_id;
	fail_msg("the route is not exercised by the unit tests");
	return -1;
}

/* ---- Range ---- */

/* Asserts what media_range_parse gives for header on a file of len. */
static void range_is(const char *header, uint64_t len, int want,
		     uint64_t want_first, uint64_t want_last)
{
	uint64_t first = 7777, last = 7777;
	int rc = media_range_parse(header, len, &first, &last);

	if (rc != want)
		fail_msg("\"%s\" of %llu: %d, not %d",
			 header ? header : "(null)", (unsigned long long)len,
			 rc, want);
	if (want == MEDIA_RANGE_ONE &&
	    (first != want_first || last != want_last))
		fail_msg("\"%s\" of %llu: %llu-%llu, not %llu-%llu", header,
			 (unsigned long long)len, (unsigned long long)first,
			 (unsigned long long)last,
			 (unsigned long long)want_first,
			 (unsigned long long)want_last);
	if (want != MEDIA_RANGE_ONE && (first != 7777 || last != 7777))
		fail_msg("\"%s\": positions written without a range", header);
}

static void test_range_one(void **state)
{
	(void)state;
	range_is("bytes=0-0", 100, MEDIA_RANGE_ONE, 0, 0);
	range_is("bytes=0-99", 100, MEDIA_RANGE_ONE, 0, 99);
	range_is("bytes=10-19", 100, MEDIA_RANGE_ONE, 10, 19);
	range_is("bytes=99-99", 100, MEDIA_RANGE_ONE, 99, 99);
	/* a last position past the end is cut to the end */
	range_is("bytes=90-200", 100, MEDIA_RANGE_ONE, 90, 99);
	/* open end */
	range_is("bytes=40-", 100, MEDIA_RANGE_ONE, 40, 99);
	range_is("bytes=0-", 1, MEDIA_RANGE_ONE, 0, 0);
	/* suffix: the last n bytes, all of them when n is larger */
	range_is("bytes=-1", 100, MEDIA_RANGE_ONE, 99, 99);
	range_is("bytes=-30", 100, MEDIA_RANGE_ONE, 70, 99);
	range_is("bytes=-100", 100, MEDIA_RANGE_ONE, 0, 99);
	range_is("bytes=-500", 100, MEDIA_RANGE_ONE, 0, 99);
	/* the unit in any case, leading zeros */
	range_is("BYTES=5-6", 100, MEDIA_RANGE_ONE, 5, 6);
	range_is("Bytes=005-006", 100, MEDIA_RANGE_ONE, 5, 6);
	/* blanks at the ends and around commas, empty list elements */
	range_is("  bytes=1-2  ", 100, MEDIA_RANGE_ONE, 1, 2);
	range_is("\tbytes=1-2\t", 100, MEDIA_RANGE_ONE, 1, 2);
	range_is("bytes= 1-2", 100, MEDIA_RANGE_ONE, 1, 2);
	range_is("bytes=,1-2,", 100, MEDIA_RANGE_ONE, 1, 2);
	range_is("bytes=1-2 , ,", 100, MEDIA_RANGE_ONE, 1, 2);
}

static void test_range_unsatisfiable(void **state)
{
	(void)state;
	range_is("bytes=100-", 100, MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=100-200", 100, MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=500-600", 100, MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=-0", 100, MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	/* nothing of an empty file can be given */
	range_is("bytes=0-0", 0, MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=0-", 0, MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=-5", 0, MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	/* none of several */
	range_is("bytes=100-101, 200-", 100, MEDIA_RANGE_UNSATISFIABLE, 0,
		 0);
}

static void test_range_overflow(void **state)
{
	(void)state;
	/* 2^64 and far more: the largest position, never a wrap to a
	 * small number */
	range_is("bytes=18446744073709551616-", 100,
		 MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=99999999999999999999999999999999999999-", 100,
		 MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=18446744073709551615-18446744073709551615", 100,
		 MEDIA_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=0-18446744073709551616", 100, MEDIA_RANGE_ONE, 0,
		 99);
	range_is("bytes=0-99999999999999999999999999999999999999", 100,
		 MEDIA_RANGE_ONE, 0, 99);
	range_is("bytes=-99999999999999999999999999999999999999", 100,
		 MEDIA_RANGE_ONE, 0, 99);
	range_is("bytes=-18446744073709551615", UINT64_MAX, MEDIA_RANGE_ONE,
		 0, UINT64_MAX - 1);
	range_is("bytes=5-", UINT64_MAX, MEDIA_RANGE_ONE, 5, UINT64_MAX - 1);
}

static void test_range_ignored(void **state)
{
	static const char *const ignored[] = {
		"",
		"bytes",
		"bytes=",
		"bytes= ",
		"bytes=,",
		"bytes=-",
		"bytes=--1",
		"bytes=a-b",
		"bytes=1-a",
		"bytes=1",
		"bytes=1-2-3",
		"bytes=1+2",
		"bytes=+1-2",
		"bytes=0x10-0x20",
		"bytes=5-4",  /* last before first */
		"bytes=1 - 2",
		"bytes = 1-2",
		"bytes:1-2",
		"bytes=1-2;3-4",
		"bytes=1-2 3-4",
		"items=0-5",
		"byte=0-5",
		"bytesx=0-5",
		"=0-5",
		"\xff\xfe",
		"bytes=1-2,garbage",
		"bytes=1-2,5-4",
	};

	(void)state;
	range_is(NULL, 100, MEDIA_RANGE_NONE, 0, 0);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		range_is(ignored[i], 100, MEDIA_RANGE_NONE, 0, 0);
	/* a malformed set is ignored even on an empty file */
	range_is("bytes=x", 0, MEDIA_RANGE_NONE, 0, 0);
}

static void test_range_several(void **state)
{
	(void)state;
	/* several ranges, some satisfiable: the whole file */
	range_is("bytes=0-1,5-6", 100, MEDIA_RANGE_NONE, 0, 0);
	range_is("bytes=0-1, -5", 100, MEDIA_RANGE_NONE, 0, 0);
	range_is("bytes=0-1,0-1", 100, MEDIA_RANGE_NONE, 0, 0);
	range_is("bytes=200-300,5-6", 100, MEDIA_RANGE_NONE, 0, 0);
	range_is("bytes=5-6,200-", 100, MEDIA_RANGE_NONE, 0, 0);
}

/* ---- paths, types, validators ---- */

static void test_paths(void **state)
{
	static const char *const good[] = {
		"a.png", "sub/a.png", "a/b/c/d.mp4", ".hidden", "a..b",
		"...", "x.", "ü.svg", "with space.pdf", "a%2e%2e",
	};
	static const char *const bad[] = {
		"", "/", "/etc/passwd", "a/", "a//b", "..", "../a.png",
		"a/../b", "a/..", ".", "./a", "a/./b", "a\\..\\b", "a\\b",
		"a\nb", "a\tb", "a\x7f", "a\x01",
	};
	char long_path[MEDIA_PATH_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!media_path_valid(good[i]))
			fail_msg("\"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (media_path_valid(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	memset(long_path, 'a', sizeof(long_path));
	long_path[MEDIA_PATH_MAX] = '\0';
	assert_true(media_path_valid(long_path));
	long_path[MEDIA_PATH_MAX] = 'a';
	long_path[MEDIA_PATH_MAX + 1] = '\0';
	assert_false(media_path_valid(long_path));
}

static void test_types(void **state)
{
	static const char *const want[][2] = {
		{ "media/a.png", "image/png" },
		{ "media/A.PNG", "image/png" },
		{ "media/a.jpg", "image/jpeg" },
		{ "media/a.jpeg", "image/jpeg" },
		{ "media/a.gif", "image/gif" },
		{ "media/a.webp", "image/webp" },
		{ "media/a.svg", "image/svg+xml" },
		{ "media/a.pdf", "application/pdf" },
		{ "media/a.mp3", "audio/mpeg" },
		{ "media/a.m4a", "audio/mp4" },
		{ "media/a.ogg", "audio/ogg" },
		{ "media/a.oga", "audio/ogg" },
		{ "media/a.wav", "audio/wav" },
		{ "media/a.mp4", "video/mp4" },
		{ "media/a.m4v", "video/mp4" },
		{ "media/a.webm", "video/webm" },
		{ "media/a.ogv", "video/ogg" },
		{ "media/a.vtt", "text/vtt; charset=utf-8" },
		{ "media/a.txt", "text/plain; charset=utf-8" },
		{ "media/a.csv", "text/csv; charset=utf-8" },
		{ "media/a.json", "application/json" },
		{ "media/a.tar.png", "image/png" },
		{ "media/a.html", "application/octet-stream" },
		{ "media/a.js", "application/octet-stream" },
		{ "media/a.svgz", "application/octet-stream" },
		{ "media/a.png.exe", "application/octet-stream" },
		{ "media/png", "application/octet-stream" },
		{ "media/a.", "application/octet-stream" },
		/* a dot in a directory is no extension of the file */
		{ "media/x.png/readme", "application/octet-stream" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(media_content_type(want[i][0]),
				    want[i][1]);
}

#define ID "0123456789abcdef0123456789abcdef01234567"
#define OTHER "89abcdef0123456789abcdef0123456789abcdef"

static void test_validators(void **state)
{
	(void)state;
	assert_true(media_etag_listed("\"" ID "\"", ID));
	assert_true(media_etag_listed("W/\"" ID "\"", ID));
	assert_true(media_etag_listed(" \"" OTHER "\" , \"" ID "\" ", ID));
	assert_true(media_etag_listed("\"" OTHER "\",W/\"" ID "\"", ID));
	assert_true(media_etag_listed("*", ID));
	assert_false(media_etag_listed("", ID));
	assert_false(media_etag_listed("\"" OTHER "\"", ID));
	assert_false(media_etag_listed(ID, ID)); /* unquoted */
	assert_false(media_etag_listed("\"" ID, ID));
	assert_false(media_etag_listed("\"" ID "0\"", ID));
	assert_false(media_etag_listed("\"0123456789\"", ID));

	assert_true(media_query_pins("v=" ID, ID));
	assert_true(media_query_pins("a=1&v=" ID, ID));
	assert_true(media_query_pins("v=" ID "&a=1", ID));
	assert_false(media_query_pins("", ID));
	assert_false(media_query_pins("v=" OTHER, ID));
	assert_false(media_query_pins("v=" ID "0", ID));
	assert_false(media_query_pins("v=0123456789", ID));
	assert_false(media_query_pins("xv=" ID, ID));
	assert_false(media_query_pins("V=" ID, ID));
}

/* ---- a revision in git ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = fs_join(dir, name);

	assert_non_null(path);
	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0644), 0);
	free(path);
}

static void test_find(void **state)
{
	char dir[] = "/tmp/test_media.XXXXXX", rev[41];
	char *src, *sub, *repo_path;
	git_repository *repo;
	git_oid oid, made;

	(void)state;
	assert_non_null(mkdtemp(dir));
	src = fs_join(dir, "src");
	sub = fs_join(dir, "src/media/sub");
	repo_path = fs_join(dir, "content.git");
	assert_int_equal(fs_mkdir_p(sub, 0755), 0);
	write_file(src, "course.json", "{}");
	write_file(src, "media/a.png", "PNG bytes");
	write_file(src, "media/sub/b.txt", "text");

	gitstore_global_init();
	assert_int_equal(gitstore_open(repo_path, 1, &repo), 0);
	assert_int_equal(gitstore_commit_dir(repo, "refs/heads/main", src,
					     "R1", "LMS Test", rev),
			 0);

	/* the id is that of the file's contents */
	assert_int_equal(media_find(repo, rev, "media/a.png", &oid), 0);
	assert_int_equal(git_odb_hash(&made, "PNG bytes", 9,
				      GIT_OBJECT_BLOB),
			 0);
	assert_true(git_oid_equal(&oid, &made));
	assert_int_equal(media_find(repo, rev, "media/sub/b.txt", &oid), 0);
	assert_int_equal(git_odb_hash(&made, "text", 4, GIT_OBJECT_BLOB), 0);
	assert_true(git_oid_equal(&oid, &made));

	/* a directory, a missing file, a missing revision */
	assert_int_equal(media_find(repo, rev, "media/sub", &oid),
			 STORE_ENOTFOUND);
	assert_int_equal(media_find(repo, rev, "media", &oid),
			 STORE_ENOTFOUND);
	assert_int_equal(media_find(repo, rev, "media/none.png", &oid),
			 STORE_ENOTFOUND);
	assert_int_equal(media_find(repo, rev, "media/../course.json", &oid),
			 STORE_ENOTFOUND);
	assert_int_equal(media_find(repo, OTHER, "media/a.png", &oid),
			 STORE_EREVISION);

	git_repository_free(repo);
	fs_remove_tree(dir);
	free(repo_path);
	free(sub);
	free(src);
}

static void test_revision(void **state)
{
	char dir[] = "/tmp/test_media.XXXXXX", rev[GIT_OID_HEXSZ + 1] = "";
	char *path;
	sqlite3 *db;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = fs_join(dir, STORE_FILE);
	assert_int_equal(store_open(path, &db), 0);
	assert_int_equal(
		sqlite3_exec(db, "INSERT INTO courses (id, origin, revision, "
				 "title, published_at, updated_at) VALUES "
				 "('hygiene', 'mother', '" ID "', 'H', 1, 1)",
			     NULL, NULL, NULL),
		SQLITE_OK);

	assert_int_equal(media_revision(db, "hygiene", rev), 0);
	assert_string_equal(rev, ID);
	assert_int_equal(media_revision(db, "privacy", rev),
			 STORE_ENOTFOUND);

	sqlite3_close_v2(db);
	fs_remove_tree(dir);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_one),
		cmocka_unit_test(test_range_unsatisfiable),
		cmocka_unit_test(test_range_overflow),
		cmocka_unit_test(test_range_ignored),
		cmocka_unit_test(test_range_several),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_revision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
