/*
 * Unit tests for common/fs: bounded reads, atomic writes (contents
 * replaced, mode kept, no temporary file left), mkdir -p, joining paths
 * and removing trees. Each test works in a fresh temporary directory.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fs.h"

static int setup_tmpdir(void **state)
{
	char tmpl[] = "/tmp/lms-test-fs-XXXXXX";
	char *dir = mkdtemp(tmpl);

	if (!dir)
		return -1;
	*state = strdup(dir);
	return *state ? 0 : -1;
}

static int teardown_tmpdir(void **state)
{
	int rc = fs_remove_tree(*state);

	free(*state);
	return rc;
}

/* A path inside the test's directory; freed by the caller. */
static char *tmp_path(void **state, const char *name)
{
	char *p = fs_join(*state, name);

	assert_non_null(p);
	return p;
}

static void write_plain(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_read_within_limit(void **state)
{
	char *path = tmp_path(state, "f.txt");
	struct buf b = { 0 };

	write_plain(path, "hello\nworld", 11);
	assert_int_equal(fs_read_file(path, 1024, &b), 0);
	assert_int_equal(b.len, 11);
	assert_string_equal(buf_cstr(&b), "hello\nworld");

	/* Exactly at the limit is allowed. */
	buf_reset(&b);
	assert_int_equal(fs_read_file(path, 11, &b), 0);
	assert_int_equal(b.len, 11);

	/* Reading appends to what the buffer already holds. */
	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, ">"), 0);
	assert_int_equal(fs_read_file(path, 11, &b), 0);
	assert_string_equal(buf_cstr(&b), ">hello\nworld");
	buf_release(&b);
	free(path);
}

static void test_read_large_binary(void **state)
{
	char *path = tmp_path(state, "big.bin");
	size_t size = 300000;
	char *data = malloc(size);
	struct buf b = { 0 };

	assert_non_null(data);
	for (size_t i = 0; i < size; i++)
		data[i] = (char)(i * 7 + (i >> 9));
	write_plain(path, data, size);
	assert_int_equal(fs_read_file(path, size, &b), 0);
	assert_int_equal(b.len, size);
	assert_memory_equal(b.data, data, size);
	assert_int_equal(b.data[b.len], 0);
	buf_release(&b);
	free(data);
	free(path);
}

static void test_read_empty(void **state)
{
	char *path = tmp_path(state, "empty");
	struct buf b = { 0 };

	write_plain(path, "", 0);
	assert_int_equal(fs_read_file(path, 0, &b), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_release(&b);
	free(path);
}

static void test_read_over_limit(void **state)
{
	char *path = tmp_path(state, "f.txt");
	struct buf b = { 0 };

	write_plain(path, "0123456789", 10);
	assert_int_equal(fs_read_file(path, 9, &b), -EFBIG);
	assert_int_equal(fs_read_file(path, 0, &b), -EFBIG);
	buf_release(&b);
	free(path);
}

static void test_read_missing(void **state)
{
	char *path = tmp_path(state, "nope");
	struct buf b = { 0 };

	assert_int_equal(fs_read_file(path, 100, &b), -ENOENT);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	free(path);
}

static void test_write_atomic_creates(void **state)
{
	char *path = tmp_path(state, "out.txt");
	struct buf b = { 0 };
	struct stat st;

	assert_int_equal(fs_write_atomic(path, "first", 5, 0600), 0);
	assert_int_equal(fs_read_file(path, 100, &b), 0);
	assert_string_equal(buf_cstr(&b), "first");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(*state), 1);
	buf_release(&b);
	free(path);
}

static void test_write_atomic_replaces(void **state)
{
	char *path = tmp_path(state, "out.txt");
	struct buf b = { 0 };
	struct stat st;

	write_plain(path, "a much longer old content", 25);
	assert_int_equal(fs_write_atomic(path, "new", 3, 0640), 0);
	assert_int_equal(fs_read_file(path, 100, &b), 0);
	assert_int_equal(b.len, 3);
	assert_string_equal(buf_cstr(&b), "new");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);

	/* Empty contents are a valid file too. */
	assert_int_equal(fs_write_atomic(path, "", 0, 0600), 0);
	buf_reset(&b);
	assert_int_equal(fs_read_file(path, 100, &b), 0);
	assert_int_equal(b.len, 0);

	/* Only the target is left in the directory: no temporary file. */
	assert_int_equal(count_entries(*state), 1);
	buf_release(&b);
	free(path);
}

static void test_write_atomic_missing_dir(void **state)
{
	char *path = tmp_path(state, "no/such/dir/f");

	assert_int_equal(fs_write_atomic(path, "x", 1, 0600), -ENOENT);
	assert_int_equal(count_entries(*state), 0);
	free(path);
}

static void test_write_atomic_onto_directory(void **state)
{
	char *path = tmp_path(state, "d");

	/* A directory in the way is an error, and the temporary file is
	 * cleaned up. */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(fs_write_atomic(path, "x", 1, 0600) < 0);
	assert_int_equal(count_entries(*state), 1);
	free(path);
}

static void test_mkdir_p(void **state)
{
	char *path = tmp_path(state, "a/b/c/d");
	char *trailing = tmp_path(state, "x/y/");
	struct stat st;

	assert_int_equal(fs_mkdir_p(path, 0755), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	/* Existing directories, whole or in part, are fine. */
	assert_int_equal(fs_mkdir_p(path, 0755), 0);
	assert_int_equal(fs_mkdir_p(*state, 0755), 0);
	free(path);
	path = tmp_path(state, "a/b/e");
	assert_int_equal(fs_mkdir_p(path, 0755), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	assert_int_equal(fs_mkdir_p(trailing, 0700), 0);
	assert_int_equal(stat(trailing, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(trailing);
	free(path);
}

static void test_mkdir_p_file_in_the_way(void **state)
{
	char *file = tmp_path(state, "file");
	char *below = tmp_path(state, "file/sub");
	struct stat st;

	write_plain(file, "x", 1);
	assert_true(fs_mkdir_p(below, 0755) < 0);
	/* A regular file is not an existing directory. */
	assert_true(fs_mkdir_p(file, 0755) < 0);
	assert_int_equal(stat(file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_true(fs_mkdir_p("", 0755) < 0);
	free(below);
	free(file);
}

static void test_exists(void **state)
{
	char *path = tmp_path(state, "here");

	assert_int_equal(fs_exists(path), 0);
	write_plain(path, "", 0);
	assert_int_equal(fs_exists(path), 1);
	assert_int_equal(fs_exists(*state), 1);
	free(path);
}

static void test_join(void **state)
{
	static const char *const cases[][3] = {
		{ "a", "b", "a/b" },
		{ "a/", "b", "a/b" },
		{ "/srv/lms", "tenants/acme", "/srv/lms/tenants/acme" },
		{ "/", "etc", "/etc" },
		{ "", "b", "b" },
		{ "a", "", "a/" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = fs_join(cases[i][0], cases[i][1]);

		assert_non_null(p);
		assert_string_equal(p, cases[i][2]);
		free(p);
	}
}

static void test_abspath_and_self_exe(void **state)
{
	char *sub = tmp_path(state, "d");
	char *dotted = tmp_path(state, "d/../d/.");
	char *abs, *want, *exe;
	struct stat st;

	assert_int_equal(mkdir(sub, 0700), 0);
	want = fs_abspath(sub);
	assert_non_null(want);
	assert_int_equal(want[0], '/');
	abs = fs_abspath(dotted);
	assert_non_null(abs);
	assert_string_equal(abs, want);
	assert_null(strstr(abs, "/."));
	free(want);
	free(abs);
	free(dotted);
	dotted = tmp_path(state, "missing");
	assert_null(fs_abspath(dotted));

	exe = fs_self_exe();
	assert_non_null(exe);
	assert_int_equal(exe[0], '/');
	assert_non_null(strstr(exe, "test_fs"));
	assert_int_equal(stat(exe, &st), 0);
	free(exe);
	free(dotted);
	free(sub);
}

static void test_remove_tree(void **state)
{
	char *root = tmp_path(state, "tree");
	char *deep = tmp_path(state, "tree/a/b/c");
	char *file = tmp_path(state, "tree/a/b/c/f");
	char *file2 = tmp_path(state, "tree/top");

	assert_int_equal(fs_mkdir_p(deep, 0755), 0);
	write_plain(file, "x", 1);
	write_plain(file2, "y", 1);
	assert_int_equal(fs_remove_tree(root), 0);
	assert_int_equal(fs_exists(root), 0);
	assert_int_equal(count_entries(*state), 0);

	assert_int_equal(fs_remove_tree(root), -ENOENT);
	free(file2);
	free(file);
	free(deep);
	free(root);
}

static void test_remove_tree_keeps_link_targets(void **state)
{
	char *outside = tmp_path(state, "outside");
	char *kept = tmp_path(state, "outside/kept");
	char *root = tmp_path(state, "tree");
	char *link = tmp_path(state, "tree/link");

	/* A symbolic link in the tree is removed, not followed. */
	assert_int_equal(fs_mkdir_p(outside, 0755), 0);
	write_plain(kept, "keep me", 7);
	assert_int_equal(fs_mkdir_p(root, 0755), 0);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(fs_remove_tree(root), 0);
	assert_int_equal(fs_exists(root), 0);
	assert_int_equal(fs_exists(kept), 1);
	free(link);
	free(root);
	free(kept);
	free(outside);
}

#define TMP_TEST(f) cmocka_unit_test_setup_teardown(f, setup_tmpdir, \
						    teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TMP_TEST(test_read_within_limit),
		TMP_TEST(test_read_large_binary),
		TMP_TEST(test_read_empty),
		TMP_TEST(test_read_over_limit),
		TMP_TEST(test_read_missing),
		TMP_TEST(test_write_atomic_creates),
		TMP_TEST(test_write_atomic_replaces),
		TMP_TEST(test_write_atomic_missing_dir),
		TMP_TEST(test_write_atomic_onto_directory),
		TMP_TEST(test_mkdir_p),
		TMP_TEST(test_mkdir_p_file_in_the_way),
		TMP_TEST(test_exists),
		TMP_TEST(test_join),
		TMP_TEST(test_abspath_and_self_exe),
		TMP_TEST(test_remove_tree),
		TMP_TEST(test_remove_tree_keeps_link_targets),
	};

	/* Modes asked for are the modes the tests expect. */
	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
