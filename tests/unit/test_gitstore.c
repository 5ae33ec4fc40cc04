/*
 * Unit tests for common/gitstore, in a temporary directory: bare
 * repositories, commits of a course directory (nested directories, the
 * executable bit, .git skipped, links refused), refs, ancestry, messages,
 * and packs carried from one repository to another: a full pack, then a
 * thin pack that only indexes where its bases are, and corrupted packs
 * that never index.
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
#include "common/gitstore.h"
#include "common/ids.h"

#define MAIN "refs/heads/main"
#define AUTHOR "LMS Test"
#define MSG1 "First version\n"
#define MSG2 "Fix a typo in the intro\n\nRetrain: yes\n"
#define INTRO_LINES 4000

/* One test's world: a source repository holding two commits of the
 * course directory, rev1 and rev2 (a one-line edit of a large lesson). */
struct world {
	char *root;
	char *src_path; /* the source repository */
	char *content;	/* the course directory */
	git_repository *src;
	char rev1[41];
	char rev2[41];
};

static char *path_in(const char *dir, const char *name)
{
	char *p = fs_join(dir, name);

	assert_non_null(p);
	return p;
}

static void write_file(const char *dir, const char *name, const char *data,
		       size_t len, mode_t mode)
{
	char *path = path_in(dir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static void make_dir(const char *dir, const char *name)
{
	char *path = path_in(dir, name);

	assert_int_equal(fs_mkdir_p(path, 0755), 0);
	free(path);
}

/* The large lesson, with line `changed` edited when it is not -1. */
static void intro_text(struct buf *out, int changed)
{
	for (int i = 0; i < INTRO_LINES; i++)
		assert_int_equal(buf_printf(out, "Line %d of the intro: wash "
						 "hands %s.\n", i,
					    i == changed ? "twice" : "often"),
				 0);
}

static void write_intro(const char *content, int changed)
{
	struct buf text = { 0 };

	intro_text(&text, changed);
	write_file(content, "lessons/intro.md", (char *)text.data, text.len,
		   0644);
	buf_release(&text);
}

static void make_content(const char *content)
{
	static const char course[] = "{\"format\": 1, \"id\": \"hygiene\"}\n";
	static const char script[] = "#!/bin/sh\necho hi\n";

	make_dir(content, "lessons");
	make_dir(content, "media/img/small");
	make_dir(content, ".git");
	write_file(content, "course.json", course, sizeof(course) - 1, 0644);
	write_intro(content, -1);
	write_file(content, "media/img/small/logo.txt", "logo", 4, 0644);
	write_file(content, "run.sh", script, sizeof(script) - 1, 0755);
	write_file(content, ".git/HEAD", "ref: x\n", 7, 0644);
}

static int setup_world(void **state)
{
	char tmpl[] = "/tmp/lms-test-gitstore-XXXXXX";
	struct world *w = calloc(1, sizeof(*w));

	if (!w || !mkdtemp(tmpl))
		return -1;
	w->root = strdup(tmpl);
	w->src_path = fs_join(tmpl, "src.git");
	w->content = fs_join(tmpl, "content");
	*state = w;
	if (!w->root || !w->src_path || !w->content)
		return -1;
	return 0;
}

static int teardown_world(void **state)
{
	struct world *w = *state;
	int rc;

	git_repository_free(w->src);
	rc = fs_remove_tree(w->root);
	free(w->content);
	free(w->src_path);
	free(w->root);
	free(w);
	return rc;
}

/* Creates the source repository with rev1 and rev2 on MAIN. */
static void make_history(struct world *w)
{
	assert_int_equal(gitstore_open(w->src_path, 1, &w->src), 0);
	make_content(w->content);
	assert_int_equal(gitstore_commit_dir(w->src, MAIN, w->content, MSG1,
					     AUTHOR, w->rev1), 0);
	write_intro(w->content, 1234);
	assert_int_equal(gitstore_commit_dir(w->src, MAIN, w->content, MSG2,
					     AUTHOR, w->rev2), 0);
}

/* A fresh, empty bare repository under the test's directory. */
static git_repository *fresh_repo(struct world *w, const char *name)
{
	char *path = path_in(w->root, name);
	git_repository *repo = NULL;

	assert_int_equal(gitstore_open(path, 1, &repo), 0);
	free(path);
	return repo;
}

/* Checks that the file at path in commit rev holds want. */
static void check_blob(git_repository *repo, const char *rev,
		       const char *path, const void *want, size_t len,
		       git_filemode_t mode)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;

	assert_int_equal(gitstore_tree(repo, rev, &tree), 0);
	assert_int_equal(git_tree_entry_bypath(&e, tree, path), 0);
	assert_int_equal(git_tree_entry_filemode(e), mode);
	assert_int_equal(git_blob_lookup(&blob, repo, git_tree_entry_id(e)),
			 0);
	assert_int_equal(git_blob_rawsize(blob), len);
	assert_memory_equal(git_blob_rawcontent(blob), want, len);
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
}

static void check_intro(git_repository *repo, const char *rev, int changed)
{
	struct buf text = { 0 };

	intro_text(&text, changed);
	check_blob(repo, rev, "lessons/intro.md", text.data, text.len,
		   GIT_FILEMODE_BLOB);
	buf_release(&text);
}

static int count_packs(struct world *w, const char *repo_name)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/%s/objects/pack", w->root, repo_name);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		n += len > 5 && !strcmp(de->d_name + len - 5, ".pack");
	}
	closedir(d);
	return n;
}

static void test_open(void **state)
{
	struct world *w = *state;
	git_repository *repo = NULL;
	char *missing = path_in(w->root, "missing.git");
	char rev[41];

	assert_int_equal(gitstore_open(w->src_path, 1, &repo), 0);
	assert_true(git_repository_is_bare(repo));
	assert_int_equal(gitstore_ref_revision(repo, MAIN, rev), 1);
	git_repository_free(repo);

	/* Opening again, with or without create, finds the same one. */
	repo = NULL;
	assert_int_equal(gitstore_open(w->src_path, 0, &repo), 0);
	assert_true(git_repository_is_bare(repo));
	git_repository_free(repo);
	repo = NULL;
	assert_int_equal(gitstore_open(w->src_path, 1, &repo), 0);
	git_repository_free(repo);

	repo = NULL;
	assert_int_equal(gitstore_open(missing, 0, &repo), -1);
	assert_int_equal(fs_exists(missing), 0);
	free(missing);
}

static void test_commit_dir(void **state)
{
	static const char course[] = "{\"format\": 1, \"id\": \"hygiene\"}\n";
	static const char script[] = "#!/bin/sh\necho hi\n";
	struct world *w = *state;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_commit *c = NULL;
	git_oid oid;
	char rev[41];

	make_history(w);
	assert_true(ids_is_revision(w->rev1));
	assert_true(ids_is_revision(w->rev2));
	assert_string_not_equal(w->rev1, w->rev2);

	check_blob(w->src, w->rev1, "course.json", course, sizeof(course) - 1,
		   GIT_FILEMODE_BLOB);
	check_blob(w->src, w->rev1, "run.sh", script, sizeof(script) - 1,
		   GIT_FILEMODE_BLOB_EXECUTABLE);
	check_blob(w->src, w->rev1, "media/img/small/logo.txt", "logo", 4,
		   GIT_FILEMODE_BLOB);
	check_intro(w->src, w->rev1, -1);
	check_intro(w->src, w->rev2, 1234);

	/* Directories are trees; .git is left out. */
	assert_int_equal(gitstore_tree(w->src, w->rev1, &tree), 0);
	assert_int_equal(git_tree_entry_bypath(&e, tree, "media/img"), 0);
	assert_int_equal(git_tree_entry_type(e), GIT_OBJECT_TREE);
	git_tree_entry_free(e);
	assert_int_equal(git_tree_entry_bypath(&e, tree, ".git"),
			 GIT_ENOTFOUND);
	assert_int_equal(git_tree_entrycount(tree), 4);
	git_tree_free(tree);

	/* The ref follows the commits; author and committer are set. */
	assert_int_equal(gitstore_ref_revision(w->src, MAIN, rev), 0);
	assert_string_equal(rev, w->rev2);
	assert_int_equal(git_oid_fromstr(&oid, w->rev2), 0);
	assert_int_equal(git_commit_lookup(&c, w->src, &oid), 0);
	assert_string_equal(git_commit_author(c)->name, AUTHOR);
	assert_string_equal(git_commit_committer(c)->name, AUTHOR);
	git_commit_free(c);
}

static void test_history(void **state)
{
	struct world *w = *state;
	git_commit *c = NULL;
	git_oid oid;
	char rev[41];

	make_history(w);

	/* rev1 is a root commit, rev2 has rev1 as its only parent. */
	assert_int_equal(git_oid_fromstr(&oid, w->rev1), 0);
	assert_int_equal(git_commit_lookup(&c, w->src, &oid), 0);
	assert_int_equal(git_commit_parentcount(c), 0);
	git_commit_free(c);
	assert_int_equal(git_oid_fromstr(&oid, w->rev2), 0);
	assert_int_equal(git_commit_lookup(&c, w->src, &oid), 0);
	assert_int_equal(git_commit_parentcount(c), 1);
	git_oid_tostr(rev, sizeof(rev), git_commit_parent_id(c, 0));
	assert_string_equal(rev, w->rev1);
	git_commit_free(c);

	assert_int_equal(gitstore_descends(w->src, w->rev2, w->rev1), 1);
	assert_int_equal(gitstore_descends(w->src, w->rev1, w->rev2), 0);
	assert_int_equal(gitstore_descends(w->src, w->rev1, w->rev1), 0);
	assert_int_equal(gitstore_descends(w->src, "nothex", w->rev1), -1);
}

/* Committing the same contents again makes no commit and names the
 * current one; the ref stays. */
static void test_unchanged_dir(void **state)
{
	struct world *w = *state;
	char rev[41], head[41];

	make_history(w);
	assert_int_equal(gitstore_commit_dir(w->src, MAIN, w->content, "again",
					     AUTHOR, rev), 1);
	assert_string_equal(rev, w->rev2);
	assert_int_equal(gitstore_ref_revision(w->src, MAIN, head), 0);
	assert_string_equal(head, w->rev2);
}

static void test_message(void **state)
{
	struct world *w = *state;
	struct buf msg = { 0 };

	make_history(w);
	assert_int_equal(gitstore_message(w->src, w->rev1, &msg), 0);
	assert_string_equal(buf_cstr(&msg), MSG1);
	buf_reset(&msg);
	assert_int_equal(buf_append_str(&msg, ">"), 0);
	assert_int_equal(gitstore_message(w->src, w->rev2, &msg), 0);
	assert_string_equal(buf_cstr(&msg), ">" MSG2);

	buf_reset(&msg);
	assert_int_equal(gitstore_message(w->src, "0000000000000000000000000"
						  "000000000000000", &msg), -1);
	assert_int_equal(msg.len, 0);
	buf_release(&msg);
}

static void test_has_commit(void **state)
{
	struct world *w = *state;
	git_tree *tree = NULL;
	char tree_id[41];

	make_history(w);
	assert_int_equal(gitstore_has_commit(w->src, w->rev1), 1);
	assert_int_equal(gitstore_has_commit(w->src, w->rev2), 1);
	assert_int_equal(gitstore_has_commit(w->src, "0123456789abcdef0123456"
						      "789abcdef01234567"), 0);
	assert_int_equal(gitstore_has_commit(w->src, "nothex"), 0);
	assert_int_equal(gitstore_has_commit(w->src, ""), 0);

	/* A tree is an object but not a commit. */
	assert_int_equal(gitstore_tree(w->src, w->rev1, &tree), 0);
	git_oid_tostr(tree_id, sizeof(tree_id), git_tree_id(tree));
	git_tree_free(tree);
	assert_int_equal(gitstore_has_commit(w->src, tree_id), 0);
	assert_int_equal(gitstore_tree(w->src, tree_id, &tree), -1);
}

static void test_refs(void **state)
{
	struct world *w = *state;
	char rev[41];

	make_history(w);
	assert_int_equal(gitstore_ref_revision(w->src, "refs/heads/none", rev),
			 1);
	assert_int_equal(gitstore_set_ref(w->src, "refs/tenants/acme",
					  w->rev1, "pin acme"), 0);
	assert_int_equal(gitstore_ref_revision(w->src, "refs/tenants/acme",
					       rev), 0);
	assert_string_equal(rev, w->rev1);

	/* Moved unconditionally, also backwards. */
	assert_int_equal(gitstore_set_ref(w->src, "refs/tenants/acme",
					  w->rev2, "move"), 0);
	assert_int_equal(gitstore_ref_revision(w->src, "refs/tenants/acme",
					       rev), 0);
	assert_string_equal(rev, w->rev2);
	assert_int_equal(gitstore_set_ref(w->src, MAIN, w->rev1, "back"), 0);
	assert_int_equal(gitstore_ref_revision(w->src, MAIN, rev), 0);
	assert_string_equal(rev, w->rev1);

	assert_int_equal(gitstore_set_ref(w->src, "refs/tenants/acme",
					  "not-a-revision", "bad"), -1);
	assert_int_equal(gitstore_ref_revision(w->src, "refs/tenants/acme",
					       rev), 0);
	assert_string_equal(rev, w->rev2);
}

static void test_commit_refuses_links(void **state)
{
	struct world *w = *state;
	char *link, rev[41], out[41];

	make_history(w);

	/* A link at the top. */
	link = path_in(w->content, "lessons/extra.md");
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(gitstore_commit_dir(w->src, MAIN, w->content, "x",
					     AUTHOR, out), -1);
	assert_int_equal(unlink(link), 0);
	free(link);

	/* A link to a directory, deep down. */
	link = path_in(w->content, "media/img/small/up");
	assert_int_equal(symlink("../..", link), 0);
	assert_int_equal(gitstore_commit_dir(w->src, MAIN, w->content, "x",
					     AUTHOR, out), -1);
	free(link);

	/* The ref did not move. */
	assert_int_equal(gitstore_ref_revision(w->src, MAIN, rev), 0);
	assert_string_equal(rev, w->rev2);

	/* A missing directory is an error too. */
	link = path_in(w->root, "no-such-dir");
	assert_int_equal(gitstore_commit_dir(w->src, MAIN, link, "x", AUTHOR,
					     out), -1);
	free(link);
}

static void test_packs_carry_history(void **state)
{
	struct world *w = *state;
	struct buf full = { 0 }, full2 = { 0 }, thin = { 0 };
	git_repository *dst;
	char rev[41];

	make_history(w);
	assert_int_equal(gitstore_build_pack(w->src_path, NULL, w->rev1,
					     &full), 0);
	assert_true(full.len > 32);
	assert_memory_equal(full.data, "PACK", 4);
	assert_int_equal(gitstore_build_pack(w->src_path, "", w->rev1, &full2),
			 0);
	assert_memory_equal(full2.data, "PACK", 4);
	assert_int_equal(gitstore_build_pack(w->src_path, w->rev1, w->rev2,
					     &thin), 0);
	assert_memory_equal(thin.data, "PACK", 4);

	/* A one-line edit of a large lesson costs well under a kilobyte. */
	assert_true(full.len > 4096);
	assert_true(thin.len < 1024);

	dst = fresh_repo(w, "dst.git");
	assert_int_equal(gitstore_index_pack(dst, full.data, full.len), 0);
	assert_int_equal(gitstore_has_commit(dst, w->rev1), 1);
	assert_int_equal(gitstore_has_commit(dst, w->rev2), 0);
	check_intro(dst, w->rev1, -1);

	assert_int_equal(gitstore_index_pack(dst, thin.data, thin.len), 0);
	assert_int_equal(gitstore_has_commit(dst, w->rev2), 1);
	assert_int_equal(gitstore_descends(dst, w->rev2, w->rev1), 1);
	check_intro(dst, w->rev2, 1234);
	check_blob(dst, w->rev2, "run.sh", "#!/bin/sh\necho hi\n", 18,
		   GIT_FILEMODE_BLOB_EXECUTABLE);

	/* The same pack arriving twice (a retried event) is fine. */
	assert_int_equal(gitstore_index_pack(dst, thin.data, thin.len), 0);
	assert_int_equal(gitstore_has_commit(dst, w->rev2), 1);

	/* Indexing brings objects, not refs. */
	assert_int_equal(gitstore_ref_revision(dst, MAIN, rev), 1);
	assert_int_equal(gitstore_set_ref(dst, MAIN, w->rev2, "sync"), 0);

	/* The second full pack, built with "" for from, works as well. */
	git_repository_free(dst);
	dst = fresh_repo(w, "dst2.git");
	assert_int_equal(gitstore_index_pack(dst, full2.data, full2.len), 0);
	assert_int_equal(gitstore_has_commit(dst, w->rev1), 1);
	git_repository_free(dst);
	buf_release(&full);
	buf_release(&full2);
	buf_release(&thin);
}

static void test_thin_pack_needs_base(void **state)
{
	struct world *w = *state;
	struct buf thin = { 0 };
	git_repository *dst;

	make_history(w);
	assert_int_equal(gitstore_build_pack(w->src_path, w->rev1, w->rev2,
					     &thin), 0);
	dst = fresh_repo(w, "empty.git");
	assert_int_equal(gitstore_index_pack(dst, thin.data, thin.len), -1);
	assert_int_equal(gitstore_has_commit(dst, w->rev2), 0);
	assert_int_equal(count_packs(w, "empty.git"), 0);
	git_repository_free(dst);
	buf_release(&thin);
}

/* Indexes a damaged copy of pack; it must be refused and leave nothing. */
static void check_refused(struct world *w, git_repository *dst,
			  const struct buf *pack, size_t len, long flip_at)
{
	uint8_t *copy = malloc(pack->len ? pack->len : 1);

	assert_non_null(copy);
	memcpy(copy, pack->data, pack->len);
	if (flip_at >= 0)
		copy[flip_at] ^= 0x5a;
	if (gitstore_index_pack(dst, copy, len) != -1)
		fail_msg("damaged pack indexed (len %zu of %zu, flip at %ld)",
			 len, pack->len, flip_at);
	assert_int_equal(gitstore_has_commit(dst, w->rev1), 0);
	assert_int_equal(count_packs(w, "victim.git"), 0);
	free(copy);
}

static void test_corrupt_pack_refused(void **state)
{
	struct world *w = *state;
	struct buf full = { 0 };
	git_repository *dst;
	long len;

	make_history(w);
	assert_int_equal(gitstore_build_pack(w->src_path, NULL, w->rev1,
					     &full), 0);
	len = (long)full.len;
	dst = fresh_repo(w, "victim.git");

	/* Flipped bytes: signature, version, object count, data, trailer. */
	const long flips[] = { 0, 3, 5, 9, 11, 12, 13, len / 3, len / 2,
			       len - 30, len - 21, len - 20, len - 1 };
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++)
		check_refused(w, dst, &full, full.len, flips[i]);

	/* Truncated anywhere. */
	const long cuts[] = { 0, 4, 12, 13, len / 2, len - 21, len - 20,
			      len - 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		check_refused(w, dst, &full, (size_t)cuts[i], -1);

	/* The intact pack still goes in afterwards. */
	assert_int_equal(gitstore_index_pack(dst, full.data, full.len), 0);
	assert_int_equal(gitstore_has_commit(dst, w->rev1), 1);
	git_repository_free(dst);
	buf_release(&full);
}

static void test_build_pack_errors(void **state)
{
	struct world *w = *state;
	struct buf pack = { 0 };
	char *missing = path_in(w->root, "missing.git");
	char *huge;

	make_history(w);
	assert_int_equal(gitstore_build_pack(w->src_path, NULL,
					     "0123456789abcdef0123456789abcd"
					     "ef01234567", &pack), -1);
	buf_reset(&pack);
	assert_int_equal(gitstore_build_pack(missing, NULL, w->rev1, &pack),
			 -1);

	/* A revision too long for any ref is refused, not cut short. */
	huge = malloc(5001);
	assert_non_null(huge);
	memset(huge, 'a', 5000);
	huge[5000] = 0;
	buf_reset(&pack);
	assert_int_equal(gitstore_build_pack(w->src_path, NULL, huge, &pack),
			 -1);
	assert_int_equal(gitstore_build_pack(w->src_path, huge, w->rev2,
					     &pack), -1);
	free(huge);
	buf_release(&pack);
	free(missing);
}

static void test_build_pack_long_ref(void **state)
{
	struct world *w = *state;
	struct buf pack = { 0 };
	char ref[300];
	git_repository *dst;

	/* Any revision git understands will do, also a long ref name. */
	make_history(w);
	memset(ref, 'r', sizeof(ref));
	memcpy(ref, "refs/heads/", 11);
	ref[200] = 0;
	assert_int_equal(gitstore_set_ref(w->src, ref, w->rev2, "long"), 0);
	assert_int_equal(gitstore_build_pack(w->src_path, w->rev1, ref, &pack),
			 0);
	dst = fresh_repo(w, "dst.git");
	assert_int_equal(gitstore_index_pack(dst, pack.data, pack.len), -1);
	buf_reset(&pack);
	assert_int_equal(gitstore_build_pack(w->src_path, NULL, ref, &pack), 0);
	assert_int_equal(gitstore_index_pack(dst, pack.data, pack.len), 0);
	assert_int_equal(gitstore_has_commit(dst, w->rev2), 1);
	git_repository_free(dst);
	buf_release(&pack);
}

static int global_setup(void **state)
{
	(void)state;
	gitstore_global_init();
	return 0;
}

static int global_teardown(void **state)
{
	(void)state;
	git_libgit2_shutdown();
	return 0;
}

#define WORLD_TEST(f) cmocka_unit_test_setup_teardown(f, setup_world, \
						      teardown_world)

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_open),
		WORLD_TEST(test_commit_dir),
		WORLD_TEST(test_history),
		WORLD_TEST(test_unchanged_dir),
		WORLD_TEST(test_message),
		WORLD_TEST(test_has_commit),
		WORLD_TEST(test_refs),
		WORLD_TEST(test_commit_refuses_links),
		WORLD_TEST(test_packs_carry_history),
		WORLD_TEST(test_thin_pack_needs_base),
		WORLD_TEST(test_corrupt_pack_refused),
		WORLD_TEST(test_build_pack_errors),
		WORLD_TEST(test_build_pack_long_ref),
	};

	umask(022);
	return cmocka_run_group_tests(tests, global_setup, global_teardown);
}
