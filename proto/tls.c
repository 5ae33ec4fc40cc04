/*
 * TLS contexts for the sync connection and the mother's self-signed
 * certificate, from OpenSSL 3 (see tls.h for the trust model).
 *
 * A client context keeps its pin (a malloc'd copy of the fingerprint) as
 * the context's app data, which is also the argument of the certificate
 * callback; tls_ctx_free() frees both. The callback replaces OpenSSL's
 * chain verification altogether: the only question is whether the key
 * in the certificate is the pinned one. That the server holds the
 * matching private key is proved by the handshake's CertificateVerify,
 * which OpenSSL checks against that same key.
 */
#include "proto/tls.h"

#include "common/fs.h"
#include "common/log.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_CERT_CN "lms-mother"
#define TLS_CLOCK_SKEW_S 3600 /* a new certificate is valid an hour back */

/* Logs what failed with OpenSSL's oldest queued reason, empties the
 * queue and returns -EIO. */
static int tls_log_failure(const char *what, const char *path)
{
	char detail[256] = "no detail", qdetail[300], qpath[300];
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	log_error("msg=\"%s\" path=%s error=%s", what,
		  log_quote(path ? path : "-", qpath, sizeof(qpath)),
		  log_quote(detail, qdetail, sizeof(qdetail)));
	return -EIO;
}

/* ---- keys and certificates ---- */

static int tls_load_key(const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pkey;

	if (!f) {
		int rc = -errno;

		log_error("msg=\"cannot open the TLS key\" path=\"%s\" "
			  "error=\"%s\"", path, strerror(-rc));
		return rc;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return tls_log_failure("not an Ed25519 private key", path);
	}
	*out = pkey;
	return 0;
}

/* The certificate in path, or NULL when there is none or it is bad. */
static X509 *tls_read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	return x;
}

/* 1 when x is a certificate of pkey that has not expired. */
static int tls_cert_fits(X509 *x, EVP_PKEY *pkey)
{
	int fits = X509_check_private_key(x, pkey) == 1 &&
		   X509_cmp_current_time(X509_get0_notAfter(x)) > 0;

	ERR_clear_error();
	return fits;
}

static X509 *tls_make_cert(EVP_PKEY *pkey)
{
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name = NULL;
	int ok;

	ok = x && serial && X509_set_version(x, X509_VERSION_3) &&
	     BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	     BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -TLS_CLOCK_SKEW_S) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), TLS_CERT_DAYS, 0, NULL);
	if (ok) {
		name = X509_get_subject_name(x);
		ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						(const unsigned char *)
							TLS_CERT_CN,
						-1, -1, 0) &&
		     X509_set_issuer_name(x, name) &&
		     X509_set_pubkey(x, pkey) &&
		     X509_sign(x, pkey, NULL) > 0; /* Ed25519: no digest */
	}
	BN_free(serial);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int tls_write_cert(X509 *x, const char *path)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long len;
	int rc;

	if (!mem || !PEM_write_bio_X509(mem, x)) {
		BIO_free(mem);
		return tls_log_failure("cannot encode the TLS certificate",
				       path);
	}
	len = BIO_get_mem_data(mem, &pem);
	rc = fs_write_atomic(path, pem, (size_t)len, 0644);
	BIO_free(mem);
	if (rc)
		log_error("msg=\"cannot write the TLS certificate\" "
			  "path=\"%s\" error=\"%s\"", path, strerror(-rc));
	return rc;
}

int tls_cert_ensure(const char *key_path, const char *cert_path)
{
	EVP_PKEY *pkey = NULL;
	X509 *x;
	int rc;

	rc = tls_load_key(key_path, &pkey);
	if (rc)
		return rc;
	x = tls_read_cert(cert_path);
	if (x && tls_cert_fits(x, pkey)) {
		X509_free(x);
		EVP_PKEY_free(pkey);
		return 0;
	}
	X509_free(x);

	x = tls_make_cert(pkey);
	EVP_PKEY_free(pkey);
	if (!x)
		return tls_log_failure("cannot make the TLS certificate",
				       cert_path);
	rc = tls_write_cert(x, cert_path);
	X509_free(x);
	if (!rc)
		log_info("msg=\"TLS certificate written\" path=\"%s\" "
			 "valid_days=%d", cert_path, TLS_CERT_DAYS);
	return rc;
}

/* ---- contexts ---- */

/* TLS 1.3 only, no session resumption. */
static SSL_CTX *tls_ctx_base(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

int tls_server_ctx_new(const char *key_path, const char *cert_path,
		       SSL_CTX **out)
{
	EVP_PKEY *pkey = NULL;
	SSL_CTX *ctx;
	int rc;

	rc = tls_cert_ensure(key_path, cert_path);
	if (!rc)
		rc = tls_load_key(key_path, &pkey);
	if (rc)
		return rc;
	ctx = tls_ctx_base(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_file(ctx, cert_path,
						 SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		EVP_PKEY_free(pkey);
		return tls_log_failure("cannot set up the TLS server",
				       cert_path);
	}
	EVP_PKEY_free(pkey); /* the context holds its own reference */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	*out = ctx;
	return 0;
}

/* Accepts the peer only if its certificate holds the pinned key. */
static int tls_verify_pin(X509_STORE_CTX *store, void *arg)
{
	const uint8_t *pin = arg;
	X509 *cert = X509_STORE_CTX_get0_cert(store);
	EVP_PKEY *pkey = cert ? X509_get0_pubkey(cert) : NULL;
	uint8_t raw[CRYPTO_PUBKEY_LEN], digest[CRYPTO_SHA256_LEN];
	size_t len = sizeof(raw);

	if (pkey && EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 &&
	    EVP_PKEY_get_raw_public_key(pkey, raw, &len) == 1 &&
	    len == sizeof(raw)) {
		crypto_sha256(raw, len, digest);
		if (crypto_memcmp(digest, pin, sizeof(digest)) == 0)
			return 1;
	}
	X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

int tls_client_ctx_new(const uint8_t pin[CRYPTO_SHA256_LEN], SSL_CTX **out)
{
	uint8_t *copy = malloc(CRYPTO_SHA256_LEN);
	SSL_CTX *ctx = copy ? tls_ctx_base(TLS_client_method()) : NULL;

	if (!ctx) {
		free(copy);
		return copy ? tls_log_failure("cannot set up the TLS client",
					      NULL) :
			      -ENOMEM;
	}
	memcpy(copy, pin, CRYPTO_SHA256_LEN);
	SSL_CTX_set_app_data(ctx, copy);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, tls_verify_pin, copy);
	*out = ctx;
	return 0;
}

void tls_ctx_free(SSL_CTX *ctx)
{
	if (!ctx)
		return;
	free(SSL_CTX_get_app_data(ctx));
	SSL_CTX_free(ctx);
}

/* ---- addresses and errors ---- */

int tls_split_addr(const char *addr, const char **hostport)
{
	size_t n = strlen(TLS_SCHEME);
	int tls = strncmp(addr, TLS_SCHEME, n) == 0;

	if (hostport)
		*hostport = tls ? addr + n : addr;
	return tls;
}

const char *tls_error_reason(const SSL *ssl, int ssl_error, char *out,
			     size_t cap)
{
	int err = errno; /* before OpenSSL's calls below can change it */
	unsigned long e = ERR_get_error();
	const char *reason = NULL;

	if (ssl && SSL_get_verify_result(ssl) ==
			   X509_V_ERR_APPLICATION_VERIFICATION)
		reason = TLS_PIN_MISMATCH;
	else if (e)
		reason = ERR_reason_error_string(e);
	else if (ssl_error == SSL_ERROR_SYSCALL && err)
		reason = err == EAGAIN || err == EWOULDBLOCK ? "timed out" :
							       strerror(err);
	else if (ssl_error == SSL_ERROR_SYSCALL ||
		 ssl_error == SSL_ERROR_ZERO_RETURN)
		reason = "the peer closed the connection";
	ERR_clear_error();
	snprintf(out, cap, "%s", reason ? reason : "unknown error");
	return out;
}

const char *tls_handshake_error(const SSL *ssl, int ssl_error, char *out,
				size_t cap)
{
	char reason[160];

	tls_error_reason(ssl, ssl_error, reason, sizeof(reason));
	if (!strcmp(reason, TLS_PIN_MISMATCH))
		snprintf(out, cap, "%s", reason);
	else
		snprintf(out, cap, "TLS handshake failed: %s", reason);
	return out;
}
