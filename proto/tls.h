/*
 * TLS for the sync connection, from OpenSSL 3: the contexts that
 * proto_conn (proto/conn.h) and enrollment use, and the mother's
 * certificate.
 *
 * Trust does not come from a CA. The mother's certificate is self-signed
 * with the mother's own Ed25519 key, and a workspace accepts the
 * handshake only if the certificate's key is the one it pinned at
 * enrollment: its fingerprint (the SHA-256 of the raw 32-byte key, see
 * common/crypto.h) must equal the pinned one. No host name is checked and
 * no client certificate is asked for: the workspace proves who it is
 * with the signed HELLO inside the tunnel. Only TLS 1.3 is spoken.
 *
 * Addresses: "tls://HOST:PORT" asks for TLS, "HOST:PORT" for plain TCP.
 *
 * Functions return 0 or a negative errno value. What went wrong inside
 * OpenSSL is logged here, once, with the path involved.
 */
#ifndef LMS_PROTO_TLS_H
#define LMS_PROTO_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "common/crypto.h"

#define TLS_SCHEME "tls://"
#define TLS_CERT_DAYS 3650 /* validity of a new certificate */

/* What tls_handshake_error() says when the peer's key is not the pinned
 * one; callers prefix whose key it is ("mother TLS key ..."). */
#define TLS_PIN_MISMATCH "TLS key does not match the pinned key"

/* Makes sure cert_path holds a self-signed X.509 certificate of the
 * Ed25519 private key in key_path, writing a new one (valid for
 * TLS_CERT_DAYS, atomically, mode 0644) when the file is missing,
 * unreadable, expired or made for another key. */
int tls_cert_ensure(const char *key_path, const char *cert_path);

/* A TLS 1.3 server context for the private key in key_path, presenting
 * the certificate in cert_path after tls_cert_ensure() made sure it is
 * one of that key. No client certificate is asked for. The caller frees
 * it with tls_ctx_free(). */
int tls_server_ctx_new(const char *key_path, const char *cert_path,
		       SSL_CTX **out);

/* A TLS 1.3 client context that accepts only a server whose certificate
 * key has the given fingerprint (the raw SHA-256 bytes, not hex). The
 * caller frees it with tls_ctx_free(). */
int tls_client_ctx_new(const uint8_t pin[CRYPTO_SHA256_LEN], SSL_CTX **out);

/* Frees a context of this module; NULL is fine. A context must outlive
 * every connection made with it (a proto_conn lets go of it before its
 * on_close runs). */
void tls_ctx_free(SSL_CTX *ctx);

/* 1 when addr starts with "tls://", else 0; *hostport (may be NULL)
 * receives the address without the scheme, borrowed from addr. */
int tls_split_addr(const char *addr, const char **hostport);

/* Why an operation on ssl failed, for a log line: TLS_PIN_MISMATCH when
 * the peer's key was refused, else OpenSSL's reason ("wrong version
 * number", "timed out", ...). ssl_error is SSL_get_error()'s answer (for
 * a blocking socket, errno is read too). The OpenSSL error queue of the
 * thread is read and emptied. Returns out. */
const char *tls_error_reason(const SSL *ssl, int ssl_error, char *out,
			     size_t cap);

/* The same for a failed handshake, one line for a log or an error
 * message: TLS_PIN_MISMATCH, or "TLS handshake failed: <reason>". */
const char *tls_handshake_error(const SSL *ssl, int ssl_error, char *out,
				size_t cap);

#endif
