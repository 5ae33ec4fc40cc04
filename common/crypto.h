/*
 * Keys, signatures, hashes and randomness, all from OpenSSL 3.
 *
 * Identities are Ed25519 key pairs. A private key lives in a PEM file
 * (mode 0600) on its own host and never leaves it; a public key travels
 * as its 32 raw bytes, and people compare keys by fingerprint: the
 * lower-case hex SHA-256 of those 32 bytes.
 */
#ifndef LMS_CRYPTO_H
#define LMS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_PUBKEY_LEN 32
#define CRYPTO_SIG_LEN 64
#define CRYPTO_SHA256_LEN 32
#define CRYPTO_FINGERPRINT_LEN 64 /* hex characters, without the NUL */

struct crypto_key; /* a private key; opaque */

/* Creates a key pair and writes the private key to path (refuses to
 * overwrite). The caller frees *out with crypto_key_free(). */
int crypto_key_generate(const char *path, struct crypto_key **out);
int crypto_key_load(const char *path, struct crypto_key **out);
void crypto_key_free(struct crypto_key *key);

void crypto_key_public(const struct crypto_key *key,
		       uint8_t pub[CRYPTO_PUBKEY_LEN]);

int crypto_sign(const struct crypto_key *key, const void *msg, size_t len,
		uint8_t sig[CRYPTO_SIG_LEN]);

/* 0 when sig is a valid signature of msg by pub, -1 otherwise. */
int crypto_verify(const uint8_t pub[CRYPTO_PUBKEY_LEN], const void *msg,
		  size_t len, const uint8_t sig[CRYPTO_SIG_LEN]);

void crypto_sha256(const void *data, size_t len,
		   uint8_t out[CRYPTO_SHA256_LEN]);

/* out receives CRYPTO_FINGERPRINT_LEN hex digits and a NUL. */
void crypto_fingerprint(const uint8_t pub[CRYPTO_PUBKEY_LEN], char *out);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void crypto_hex(const uint8_t *in, size_t n, char *out);

/* Parses exactly 2n hex digits into n bytes; -1 on anything else. */
int crypto_unhex(const char *hex, uint8_t *out, size_t n);

int crypto_random(void *out, size_t n);

/* Constant-time comparison; 0 when equal. */
int crypto_memcmp(const void *a, const void *b, size_t n);

#endif
