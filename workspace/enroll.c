/*
 * `lms-workspace init`: a short command, so the exchange with the mother
 * is a blocking socket with timeouts rather than a loop. Everything local
 * is prepared before the token is spent (key, repository, an unnamed
 * database), so that after the mother says ENROLLED only a few writes and
 * a rename remain that could fail.
 *
 * For a "tls://HOST:PORT" mother the socket is wrapped in TLS at once,
 * accepting only a certificate whose key has the pinned fingerprint, so
 * the token never crosses the network in clear.
 */
#include "workspace/enroll.h"

#include "common/crypto.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/http.h"
#include "proto/proto.h"
#include "proto/tls.h"
#include "workspace/apply.h"
#include "workspace/store.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENROLL_KEY_FILE "workspace.key"
#define ENROLL_DB_TEMP STORE_FILE ".init"

struct enroll {
	const struct enroll_opts *o;
	char *err;
	size_t errcap;

	char *db_path, *db_temp, *key_path, *repo_path;
	int made_dir, made_key, made_repo, made_db;
	struct crypto_key *key;
	sqlite3 *db;

	int fd;
	SSL_CTX *tls; /* for a tls:// mother, else NULL */
	SSL *ssl;
	int tls_broken; /* a fatal error: no close_notify at the end */
	struct proto_decoder dec;
	uint8_t mother_pub[CRYPTO_PUBKEY_LEN];
	struct proto_enroll req;
	char tenant[IDS_MAX + 1];
};

static int enroll_fail(struct enroll *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int enroll_fail(struct enroll *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->err, e->errcap, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- local preparation ---- */

static int enroll_paths(struct enroll *e)
{
	const char *d = e->o->data_dir;

	e->db_path = fs_join(d, STORE_FILE);
	e->db_temp = fs_join(d, ENROLL_DB_TEMP);
	e->key_path = fs_join(d, ENROLL_KEY_FILE);
	e->repo_path = fs_join(d, APPLY_REPO_DIR);
	if (!e->db_path || !e->db_temp || !e->key_path || !e->repo_path)
		return enroll_fail(e, "out of memory");
	return 0;
}

static int enroll_make_dir(struct enroll *e)
{
	const char *d = e->o->data_dir;
	struct stat st;
	int rc;

	if (stat(d, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return enroll_fail(e, "%s is not a directory", d);
		return 0;
	}
	rc = fs_mkdir_p(d, 0700);
	if (rc)
		return enroll_fail(e, "cannot create %s: %s", d,
				   strerror(-rc));
	e->made_dir = 1;
	return 0;
}

static int enroll_prepare(struct enroll *e)
{
	git_repository *repo;
	int rc;

	if (fs_exists(e->db_path))
		return enroll_fail(e, "%s is already a workspace (%s exists)",
				   e->o->data_dir, STORE_FILE);
	if (enroll_make_dir(e))
		return -1;

	rc = crypto_key_generate(e->key_path, &e->key);
	if (rc)
		return enroll_fail(e, "cannot create %s: %s", e->key_path,
				   strerror(-rc));
	e->made_key = 1;

	if (fs_exists(e->repo_path))
		return enroll_fail(e, "%s already exists", e->repo_path);
	e->made_repo = 1;
	if (gitstore_open(e->repo_path, 1, &repo))
		return enroll_fail(e, "cannot create %s", e->repo_path);
	git_repository_free(repo);

	unlink(e->db_temp);
	e->made_db = 1;
	if (store_open(e->db_temp, &e->db))
		return enroll_fail(e, "cannot create the workspace database");
	return 0;
}

/* ---- the exchange with the mother ---- */

/* TLS on the connected socket, pinning the mother key's fingerprint. */
static int enroll_tls(struct enroll *e)
{
	uint8_t pin[CRYPTO_SHA256_LEN];
	char why[200];
	int r;

	/* OpenSSL writes with write(2): a mother gone must not kill us */
	signal(SIGPIPE, SIG_IGN);
	if (crypto_unhex(e->o->fingerprint, pin, sizeof(pin)))
		return enroll_fail(e, "the mother key fingerprint is not 64 "
				   "hex digits");
	if (tls_client_ctx_new(pin, &e->tls))
		return enroll_fail(e, "cannot set up TLS");
	e->ssl = SSL_new(e->tls);
	if (!e->ssl || SSL_set_fd(e->ssl, e->fd) != 1)
		return enroll_fail(e, "cannot set up TLS");
	r = SSL_connect(e->ssl);
	if (r != 1) {
		tls_handshake_error(e->ssl, SSL_get_error(e->ssl, r), why,
				    sizeof(why));
		SSL_free(e->ssl); /* no close_notify after a failure */
		e->ssl = NULL;
		return enroll_fail(e, "mother %s", why);
	}
	return 0;
}

static int enroll_dial(struct enroll *e)
{
	struct timeval tv = { .tv_sec = ENROLL_TIMEOUT_S };
	struct sockaddr_storage sa;
	const char *addr;
	socklen_t len;
	int tls = tls_split_addr(e->o->mother, &addr);

	if (http_parse_addr(addr, &sa))
		return enroll_fail(e, "bad mother address %s (want "
				   "host:port or tls://host:port)",
				   e->o->mother);
	len = sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					 sizeof(struct sockaddr_in);
	e->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e->fd < 0)
		return enroll_fail(e, "socket: %s", strerror(errno));
	setsockopt(e->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(e->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(e->fd, (struct sockaddr *)&sa, len) < 0)
		return enroll_fail(e, "cannot reach the mother at %s: %s",
				   e->o->mother,
				   errno == EINPROGRESS ? "timed out" :
							  strerror(errno));
	return tls ? enroll_tls(e) : 0;
}

/* One write or read through TLS or the plain socket: bytes moved, or -1
 * with the reason in why. */
static ssize_t enroll_io(struct enroll *e, int writing, void *p, size_t n,
			 char *why, size_t cap)
{
	size_t done = 0;
	ssize_t r;
	int ok, err;

	if (!e->ssl) {
		r = writing ? send(e->fd, p, n, MSG_NOSIGNAL) :
			      recv(e->fd, p, n, 0);
		err = errno;
		if (r < 0)
			snprintf(why, cap, "%s", err == EAGAIN ? "timed out" :
							       strerror(err));
		errno = err; /* EINTR: the caller tries again */
		return r;
	}
	ok = writing ? SSL_write_ex(e->ssl, p, n, &done) :
		       SSL_read_ex(e->ssl, p, n, &done);
	if (ok == 1)
		return (ssize_t)done;
	r = SSL_get_error(e->ssl, 0);
	if (r == SSL_ERROR_ZERO_RETURN)
		return 0; /* close_notify: the end of the stream */
	tls_error_reason(e->ssl, (int)r, why, cap);
	e->tls_broken = 1;
	errno = 0;
	return -1;
}

static int enroll_send(struct enroll *e, struct buf *b)
{
	size_t off = 0;
	char why[160];

	while (off < b->len) {
		ssize_t n = enroll_io(e, 1, b->data + off, b->len - off, why,
				      sizeof(why));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return enroll_fail(e, "cannot send to the mother: %s",
					   why);
		off += (size_t)n;
	}
	return 0;
}

/* The next whole frame; valid until the decoder is used again. */
static int enroll_recv(struct enroll *e, struct proto_frame *f)
{
	uint8_t chunk[4096];
	char why[160];
	ssize_t n;
	int rc;

	for (;;) {
		rc = proto_decoder_next(&e->dec, f);
		if (rc == 1)
			return 0;
		if (rc < 0)
			return enroll_fail(e, "bad frame from the mother: %s",
					   proto_strerror(rc));
		n = enroll_io(e, 0, chunk, sizeof(chunk), why, sizeof(why));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return enroll_fail(e, "no answer from the mother: %s",
					   why);
		if (n == 0)
			return enroll_fail(e, "the mother closed the "
					   "connection");
		rc = proto_decoder_feed(&e->dec, chunk, (size_t)n);
		if (rc)
			return enroll_fail(e, "bad frame from the mother: %s",
					   proto_strerror(rc));
	}
}

static int enroll_challenge(struct enroll *e)
{
	char fingerprint[CRYPTO_FINGERPRINT_LEN + 1];
	struct proto_challenge ch;
	struct proto_frame f;
	int rc;

	if (enroll_recv(e, &f))
		return -1;
	if (f.type != PROTO_CHALLENGE)
		return enroll_fail(e, "unexpected first frame from the "
				   "mother (type %u)", f.type);
	rc = proto_read_challenge(f.payload, f.len, &ch);
	if (rc)
		return enroll_fail(e, "bad challenge from the mother: %s",
				   proto_strerror(rc));
	crypto_fingerprint(ch.mother_pub, fingerprint);
	if (strcasecmp(fingerprint, e->o->fingerprint))
		return enroll_fail(e, "mother key does not match the pinned "
				   "fingerprint");
	memcpy(e->mother_pub, ch.mother_pub, sizeof(e->mother_pub));
	return 0;
}

static int enroll_request(struct enroll *e)
{
	struct buf b = { 0 };
	int rc;

	memset(&e->req, 0, sizeof(e->req));
	if (strlen(e->o->token) > PROTO_MAX_TOKEN)
		return enroll_fail(e, "token too long");
	memcpy(e->req.token, e->o->token, strlen(e->o->token) + 1);
	crypto_key_public(e->key, e->req.workspace_pub);
	if (crypto_random(e->req.nonce, sizeof(e->req.nonce)))
		return enroll_fail(e, "no random bytes for a nonce");
	rc = proto_write_enroll(&b, &e->req);
	if (rc) {
		buf_release(&b);
		return enroll_fail(e, "cannot encode ENROLL: %s",
				   proto_strerror(rc));
	}
	rc = enroll_send(e, &b);
	buf_release(&b);
	return rc;
}

static int enroll_answer(struct enroll *e)
{
	struct proto_enrolled ok;
	struct proto_errmsg no;
	struct proto_frame f;

	if (enroll_recv(e, &f))
		return -1;
	if (f.type == PROTO_ERROR) {
		if (proto_read_error(f.payload, f.len, &no))
			return enroll_fail(e, "the mother refused enrollment");
		return enroll_fail(e, "the mother refused enrollment: %s",
				   no.message);
	}
	if (f.type != PROTO_ENROLLED)
		return enroll_fail(e, "unexpected answer from the mother "
				   "(type %u)", f.type);
	if (proto_read_enrolled(f.payload, f.len, &ok))
		return enroll_fail(e, "malformed answer from the mother");
	if (proto_enrolled_verify(&ok, &e->req, e->mother_pub))
		return enroll_fail(e, "the mother's answer is not signed by "
				   "its key");
	memcpy(e->tenant, ok.tenant, sizeof(e->tenant));
	return 0;
}

/* ---- finishing and undoing ---- */

static int enroll_finish(struct enroll *e)
{
	struct store_settings s;
	int fd;

	memset(&s, 0, sizeof(s));
	snprintf(s.tenant, sizeof(s.tenant), "%s", e->tenant);
	snprintf(s.mother, sizeof(s.mother), "%s", e->o->mother);
	crypto_hex(e->mother_pub, CRYPTO_PUBKEY_LEN, s.mother_key);
	snprintf(s.listen, sizeof(s.listen), "%s",
		 e->o->listen ? e->o->listen : ENROLL_DEFAULT_LISTEN);
	if (store_settings_save(e->db, &s))
		return enroll_fail(e, "cannot write the workspace settings");
	if (sqlite3_close(e->db) != SQLITE_OK)
		return enroll_fail(e, "cannot close the workspace database");
	e->db = NULL;

	if (rename(e->db_temp, e->db_path) < 0)
		return enroll_fail(e, "cannot create %s: %s", e->db_path,
				   strerror(errno));
	fd = open(e->o->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* Removes the unnamed database with its WAL companions. */
static void enroll_remove_db(struct enroll *e)
{
	static const char *const suffixes[] = { "", "-wal", "-shm",
						"-journal" };
	char path[4096];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", e->db_temp, suffixes[i]);
		unlink(path);
	}
}

static void enroll_undo(struct enroll *e)
{
	if (e->db)
		sqlite3_close_v2(e->db);
	e->db = NULL;
	if (e->made_db)
		enroll_remove_db(e);
	if (e->made_repo && fs_exists(e->repo_path))
		fs_remove_tree(e->repo_path);
	if (e->made_key)
		unlink(e->key_path);
	if (e->made_dir)
		fs_remove_tree(e->o->data_dir);
}

static void enroll_release(struct enroll *e)
{
	if (e->ssl && !e->tls_broken)
		SSL_shutdown(e->ssl); /* close_notify, best effort */
	SSL_free(e->ssl);
	tls_ctx_free(e->tls);
	if (e->fd >= 0)
		close(e->fd);
	proto_decoder_release(&e->dec);
	crypto_key_free(e->key);
	free(e->db_path);
	free(e->db_temp);
	free(e->key_path);
	free(e->repo_path);
}

int enroll_run(const struct enroll_opts *o, char tenant[IDS_MAX + 1],
	       char *err, size_t errcap)
{
	struct enroll e = {
		.o = o,
		.err = err,
		.errcap = errcap,
		.fd = -1,
	};
	int rc;

	err[0] = 0;
	proto_decoder_init(&e.dec, PROTO_MAX_CONTROL);
	rc = enroll_paths(&e);
	if (!rc)
		rc = enroll_prepare(&e);
	if (!rc)
		rc = enroll_dial(&e);
	if (!rc)
		rc = enroll_challenge(&e);
	if (!rc)
		rc = enroll_request(&e);
	if (!rc)
		rc = enroll_answer(&e);
	if (!rc)
		rc = enroll_finish(&e);
	if (rc)
		enroll_undo(&e);
	else
		memcpy(tenant, e.tenant, IDS_MAX + 1);
	enroll_release(&e);
	return rc;
}
