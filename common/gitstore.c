/*
 * Course content in git: repositories, commits from directories, refs,
 * and packs in both directions. Pack building runs the git program (thin
 * packs); everything else is libgit2.
 */
#include "common/gitstore.h"

#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int gitstore_fail(const char *what)
{
	const git_error *e = git_error_last();

	log_error("msg=\"git %s failed\" error=\"%s\"", what,
		  e && e->message ? e->message : "unknown");
	return -1;
}

/* libgit2 loads the system's CA certificates at start-up for its network
 * transports, which we never use (content moves as packs over our own
 * protocol). Pointing it at an empty directory frees them: about
 * 350 KiB in every workspace process. */
static void gitstore_drop_ca_store(void)
{
	char dir[] = "/tmp/lms-no-ca-XXXXXX";

	if (!mkdtemp(dir))
		return;
	git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, NULL, dir);
	rmdir(dir);
	malloc_trim(0); /* give the freed pages back */
}

void gitstore_global_init(void)
{
	git_libgit2_init();
	/* objects, packs and refs reach the disk before a revision is
	 * recorded or acknowledged */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	gitstore_drop_ca_store();
}

int gitstore_open(const char *path, int create, git_repository **out)
{
	if (create && git_repository_init(out, path, 1) == 0)
		return 0;
	if (!create && git_repository_open_bare(out, path) == 0)
		return 0;
	return gitstore_fail(create ? "init" : "open");
}

static int gitstore_write_tree(git_repository *repo, const char *dir,
			       git_oid *out);

static int gitstore_add_entry(git_repository *repo, git_treebuilder *tb,
			      const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	git_oid oid;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return -1;
	if (lstat(path, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		if (gitstore_write_tree(repo, path, &oid))
			return -1;
		return git_treebuilder_insert(NULL, tb, name, &oid,
					      GIT_FILEMODE_TREE) ? -1 : 0;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("msg=\"not a regular file\" path=\"%s\"", path);
		return -1;
	}
	if (git_blob_create_from_disk(&oid, repo, path))
		return gitstore_fail("blob");
	return git_treebuilder_insert(NULL, tb, name, &oid,
				      (st.st_mode & 0111) ?
					      GIT_FILEMODE_BLOB_EXECUTABLE :
					      GIT_FILEMODE_BLOB) ? -1 : 0;
}

static int gitstore_write_tree(git_repository *repo, const char *dir,
			       git_oid *out)
{
	git_treebuilder *tb = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = -1;

	if (!d) {
		log_error("msg=\"cannot read directory\" path=\"%s\" "
			  "error=\"%s\"", dir, strerror(errno));
		return -1;
	}
	if (git_treebuilder_new(&tb, repo, NULL))
		goto out;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, ".git"))
			continue;
		if (gitstore_add_entry(repo, tb, dir, de->d_name))
			goto out;
	}
	rc = git_treebuilder_write(out, tb) ? gitstore_fail("tree") : 0;
out:
	git_treebuilder_free(tb);
	closedir(d);
	return rc;
}

int gitstore_commit_dir(git_repository *repo, const char *ref,
			const char *dir, const char *message,
			const char *author, char out_rev[41])
{
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid tree_id, commit_id, parent_id;
	int has_parent, rc = -1;

	if (gitstore_write_tree(repo, dir, &tree_id))
		return -1;
	has_parent = git_reference_name_to_id(&parent_id, repo, ref) == 0;
	if (has_parent && git_commit_lookup(&parent, repo, &parent_id))
		return gitstore_fail("parent lookup");
	if (has_parent && git_oid_equal(git_commit_tree_id(parent), &tree_id)) {
		git_oid_tostr(out_rev, 41, &parent_id);
		rc = 1;
		goto out;
	}
	if (git_tree_lookup(&tree, repo, &tree_id) ||
	    git_signature_now(&sig, author, "lms@localhost")) {
		gitstore_fail("commit");
		goto out;
	}

	if (git_commit_create_v(&commit_id, repo, ref, sig, sig, NULL,
				message, tree, has_parent ? 1 : 0, parent)) {
		gitstore_fail("commit");
		goto out;
	}
	git_oid_tostr(out_rev, 41, &commit_id);
	rc = 0;
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(parent);
	return rc;
}

int gitstore_ref_revision(git_repository *repo, const char *ref,
			  char out_rev[41])
{
	git_oid oid;
	int rc = git_reference_name_to_id(&oid, repo, ref);

	if (rc == GIT_ENOTFOUND)
		return 1;
	if (rc)
		return gitstore_fail("ref lookup");
	git_oid_tostr(out_rev, 41, &oid);
	return 0;
}

int gitstore_set_ref(git_repository *repo, const char *ref, const char *rev,
		     const char *log_message)
{
	git_reference *r = NULL;
	git_oid oid;

	if (git_oid_fromstr(&oid, rev))
		return gitstore_fail("oid");
	if (git_reference_create(&r, repo, ref, &oid, 1, log_message))
		return gitstore_fail("ref update");
	git_reference_free(r);
	return 0;
}

int gitstore_tree(git_repository *repo, const char *rev, git_tree **out)
{
	git_commit *c = NULL;
	git_oid oid;
	int rc;

	if (git_oid_fromstr(&oid, rev) || git_commit_lookup(&c, repo, &oid))
		return gitstore_fail("commit lookup");
	rc = git_commit_tree(out, c) ? gitstore_fail("tree lookup") : 0;
	git_commit_free(c);
	return rc;
}

int gitstore_has_commit(git_repository *repo, const char *rev)
{
	git_commit *c = NULL;
	git_oid oid;

	if (git_oid_fromstr(&oid, rev) || git_commit_lookup(&c, repo, &oid))
		return 0;
	git_commit_free(c);
	return 1;
}

int gitstore_descends(git_repository *repo, const char *rev,
		      const char *ancestor)
{
	git_oid a, b;
	int rc;

	if (git_oid_fromstr(&a, rev) || git_oid_fromstr(&b, ancestor))
		return -1;
	rc = git_graph_descendant_of(repo, &a, &b);
	return rc < 0 ? gitstore_fail("descendant check") : rc;
}

int gitstore_message(git_repository *repo, const char *rev, struct buf *out)
{
	git_commit *c = NULL;
	git_oid oid;
	int rc;

	if (git_oid_fromstr(&oid, rev) || git_commit_lookup(&c, repo, &oid))
		return gitstore_fail("commit lookup");
	rc = buf_append_str(out, git_commit_message(c)) ? -1 : 0;
	git_commit_free(c);
	return rc;
}

int gitstore_index_pack(git_repository *repo, const void *pack, size_t len)
{
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats;
	git_odb *odb = NULL;
	int rc = -1;

	memset(&stats, 0, sizeof(stats));
	if (git_repository_odb(&odb, repo) ||
	    git_odb_write_pack(&wp, odb, NULL, NULL)) {
		gitstore_fail("write pack");
		goto out;
	}
	if (wp->append(wp, pack, len, &stats) ||
	    wp->commit(wp, &stats)) {
		gitstore_fail("index pack");
		goto out;
	}
	rc = 0;
out:
	if (wp)
		wp->free(wp);
	git_odb_free(odb);
	return rc;
}

/* Writes the revision list to the child's stdin, then reads the pack
 * from its stdout. The list is tiny, so writing first cannot block. */
static int gitstore_run_pack(int in_fd, int out_fd, const char *from,
			     const char *to, struct buf *out)
{
	char list[PATH_MAX];
	int n = snprintf(list, sizeof(list), "%s\n%s%s%s", to,
			 from && *from ? "^" : "", from && *from ? from : "",
			 from && *from ? "\n" : "");
	ssize_t wrote = -1;

	/* Revisions may be long ref names: never send a cut list. */
	if (n > 0 && (size_t)n < sizeof(list))
		wrote = write(in_fd, list, (size_t)n);
	close(in_fd);
	if (wrote != n)
		return -1;
	for (;;) {
		ssize_t r;

		if (buf_reserve(out, 65536))
			return -1;
		r = read(out_fd, out->data + out->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		out->len += (size_t)r;
	}
}

int gitstore_build_pack(const char *git_dir, const char *from,
			const char *to, struct buf *out)
{
	int in[2], outp[2], status, rc;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC))
		return -1;
	if (pipe2(outp, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		execlp("git", "git", "--git-dir", git_dir, "pack-objects",
		       "--revs", "--thin", "--stdout", "-q", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	rc = gitstore_run_pack(in[1], outp[0], from, to, out);
	close(outp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc || !WIFEXITED(status) || WEXITSTATUS(status)) {
		log_error("msg=\"git pack-objects failed\" repo=\"%s\"",
			  git_dir);
		return -1;
	}
	return 0;
}
