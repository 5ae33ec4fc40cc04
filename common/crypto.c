/*
 * Ed25519, SHA-256 and random bytes through OpenSSL's EVP interface.
 */
#include "common/crypto.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct crypto_key {
	EVP_PKEY *pkey;
};

static int crypto_wrap(EVP_PKEY *pkey, struct crypto_key **out)
{
	struct crypto_key *k = malloc(sizeof(*k));

	if (!k) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	k->pkey = pkey;
	*out = k;
	return 0;
}

static int crypto_write_pem(const char *path, EVP_PKEY *pkey)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;
	int ok;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
	ok = fflush(f) == 0 && fsync(fd) == 0 && ok;
	fclose(f);
	if (!ok) {
		unlink(path);
		return -EIO;
	}
	return 0;
}

int crypto_key_generate(const char *path, struct crypto_key **out)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	int rc;

	if (!pkey)
		return -EIO;
	rc = crypto_write_pem(path, pkey);
	if (rc) {
		EVP_PKEY_free(pkey);
		return rc;
	}
	return crypto_wrap(pkey, out);
}

int crypto_key_load(const char *path, struct crypto_key **out)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pkey;

	if (!f)
		return -errno;
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return -EINVAL;
	}
	return crypto_wrap(pkey, out);
}

void crypto_key_free(struct crypto_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

void crypto_key_public(const struct crypto_key *key,
		       uint8_t pub[CRYPTO_PUBKEY_LEN])
{
	size_t len = CRYPTO_PUBKEY_LEN;

	EVP_PKEY_get_raw_public_key(key->pkey, pub, &len);
}

int crypto_sign(const struct crypto_key *key, const void *msg, size_t len,
		uint8_t sig[CRYPTO_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = CRYPTO_SIG_LEN;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int crypto_verify(const uint8_t pub[CRYPTO_PUBKEY_LEN], const void *msg,
		  size_t len, const uint8_t sig[CRYPTO_SIG_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
						     pub, CRYPTO_PUBKEY_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (pkey && ctx)
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		     EVP_DigestVerify(ctx, sig, CRYPTO_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok ? 0 : -1;
}

void crypto_sha256(const void *data, size_t len,
		   uint8_t out[CRYPTO_SHA256_LEN])
{
	EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL);
}

void crypto_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int crypto_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int crypto_unhex(const char *hex, uint8_t *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = crypto_hexval(hex[2 * i]);
		int lo = crypto_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void crypto_fingerprint(const uint8_t pub[CRYPTO_PUBKEY_LEN], char *out)
{
	uint8_t digest[CRYPTO_SHA256_LEN];

	crypto_sha256(pub, CRYPTO_PUBKEY_LEN, digest);
	crypto_hex(digest, sizeof(digest), out);
}

int crypto_random(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -EIO;
}

int crypto_memcmp(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n);
}
