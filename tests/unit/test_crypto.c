/*
 * Unit tests for common/crypto: key files (mode 0600, never overwritten,
 * only Ed25519 private keys loaded), signatures against RFC 8032 and under
 * every single-bit change, SHA-256 against FIPS 180-2 examples, hex
 * encoding and key fingerprints.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/fs.h"

/* RFC 8032, section 7.1, TEST 1: an empty message. */
static const char rfc_secret[] =
	"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char rfc_public[] =
	"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char rfc_signature[] =
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
	"b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
/* sha256 of the 32 bytes of rfc_public. */
static const char rfc_fingerprint[] =
	"21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";

static int setup_tmpdir(void **state)
{
	char tmpl[] = "/tmp/lms-test-crypto-XXXXXX";

	if (!mkdtemp(tmpl))
		return -1;
	*state = strdup(tmpl);
	return *state ? 0 : -1;
}

static int teardown_tmpdir(void **state)
{
	int rc = fs_remove_tree(*state);

	free(*state);
	return rc;
}

static char *tmp_path(void **state, const char *name)
{
	char *p = fs_join(*state, name);

	assert_non_null(p);
	return p;
}

/* Writes an OpenSSL key as a PEM file: private, or public only. */
static void write_pem(const char *path, EVP_PKEY *pkey, int public_only)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (public_only)
		assert_int_equal(PEM_write_PUBKEY(f, pkey), 1);
	else
		assert_int_equal(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0,
						      NULL, NULL), 1);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The RFC 8032 test key, as a PEM file at path. */
static void write_rfc_key(const char *path)
{
	uint8_t secret[32];
	EVP_PKEY *pkey;

	assert_int_equal(crypto_unhex(rfc_secret, secret, 32), 0);
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, secret,
					    sizeof(secret));
	assert_non_null(pkey);
	write_pem(path, pkey, 0);
	EVP_PKEY_free(pkey);
}

static void test_generate_and_load(void **state)
{
	char *path = tmp_path(state, "id.pem");
	struct crypto_key *key = NULL, *loaded = NULL;
	uint8_t pub[CRYPTO_PUBKEY_LEN], pub2[CRYPTO_PUBKEY_LEN];
	uint8_t sig[CRYPTO_SIG_LEN];
	struct stat st;

	/* 0600 whatever the umask. */
	umask(0);
	assert_int_equal(crypto_key_generate(path, &key), 0);
	umask(022);
	assert_non_null(key);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(crypto_key_load(path, &loaded), 0);
	crypto_key_public(key, pub);
	crypto_key_public(loaded, pub2);
	assert_memory_equal(pub, pub2, sizeof(pub));

	/* The loaded key signs for the generated public key. */
	assert_int_equal(crypto_sign(loaded, "hello", 5, sig), 0);
	assert_int_equal(crypto_verify(pub, "hello", 5, sig), 0);
	crypto_key_free(loaded);
	crypto_key_free(key);
	free(path);
}

static void test_generate_refuses_overwrite(void **state)
{
	char *path = tmp_path(state, "id.pem");
	struct crypto_key *key = NULL, *other = NULL, *loaded = NULL;
	uint8_t pub[CRYPTO_PUBKEY_LEN], pub2[CRYPTO_PUBKEY_LEN];
	struct buf before = { 0 }, after = { 0 };

	assert_int_equal(crypto_key_generate(path, &key), 0);
	assert_int_equal(fs_read_file(path, 4096, &before), 0);
	assert_int_equal(crypto_key_generate(path, &other), -EEXIST);
	assert_null(other);
	assert_int_equal(fs_read_file(path, 4096, &after), 0);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);

	assert_int_equal(crypto_key_load(path, &loaded), 0);
	crypto_key_public(key, pub);
	crypto_key_public(loaded, pub2);
	assert_memory_equal(pub, pub2, sizeof(pub));

	/* Refused too when something else is in the way. */
	free(path);
	path = tmp_path(state, "other.pem");
	write_text(path, "not a key\n");
	assert_true(crypto_key_generate(path, &other) < 0);
	buf_release(&before);
	buf_release(&after);
	crypto_key_free(loaded);
	crypto_key_free(key);
	free(path);
}

static void test_two_keys_differ(void **state)
{
	char *a = tmp_path(state, "a.pem"), *b = tmp_path(state, "b.pem");
	struct crypto_key *ka = NULL, *kb = NULL;
	uint8_t pa[CRYPTO_PUBKEY_LEN], pb[CRYPTO_PUBKEY_LEN];

	assert_int_equal(crypto_key_generate(a, &ka), 0);
	assert_int_equal(crypto_key_generate(b, &kb), 0);
	crypto_key_public(ka, pa);
	crypto_key_public(kb, pb);
	assert_memory_not_equal(pa, pb, sizeof(pa));
	crypto_key_free(ka);
	crypto_key_free(kb);
	free(a);
	free(b);
}

static void test_rfc8032_vector(void **state)
{
	char *path = tmp_path(state, "rfc.pem");
	struct crypto_key *key = NULL;
	uint8_t pub[CRYPTO_PUBKEY_LEN], want_pub[CRYPTO_PUBKEY_LEN];
	uint8_t sig[CRYPTO_SIG_LEN], want_sig[CRYPTO_SIG_LEN];
	char fp[CRYPTO_FINGERPRINT_LEN + 1];

	write_rfc_key(path);
	assert_int_equal(crypto_key_load(path, &key), 0);
	assert_int_equal(crypto_unhex(rfc_public, want_pub, 32), 0);
	assert_int_equal(crypto_unhex(rfc_signature, want_sig, 64), 0);

	crypto_key_public(key, pub);
	assert_memory_equal(pub, want_pub, sizeof(pub));
	assert_int_equal(crypto_sign(key, "", 0, sig), 0);
	assert_memory_equal(sig, want_sig, sizeof(sig));
	assert_int_equal(crypto_verify(want_pub, "", 0, want_sig), 0);

	crypto_fingerprint(pub, fp);
	assert_string_equal(fp, rfc_fingerprint);
	crypto_key_free(key);
	free(path);
}

static void test_every_bit_flip_fails(void **state)
{
	char *path = tmp_path(state, "id.pem");
	struct crypto_key *key = NULL;
	uint8_t pub[CRYPTO_PUBKEY_LEN], sig[CRYPTO_SIG_LEN];
	uint8_t msg[100], bad[CRYPTO_SIG_LEN];

	assert_int_equal(crypto_key_generate(path, &key), 0);
	crypto_key_public(key, pub);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(crypto_sign(key, msg, sizeof(msg), sig), 0);
	assert_int_equal(crypto_verify(pub, msg, sizeof(msg), sig), 0);

	for (size_t bit = 0; bit < sizeof(msg) * 8; bit++) {
		msg[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		if (crypto_verify(pub, msg, sizeof(msg), sig) != -1)
			fail_msg("message bit %zu flipped still verifies", bit);
		msg[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	for (size_t bit = 0; bit < CRYPTO_SIG_LEN * 8; bit++) {
		memcpy(bad, sig, sizeof(bad));
		bad[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		if (crypto_verify(pub, msg, sizeof(msg), bad) != -1)
			fail_msg("signature bit %zu flipped verifies", bit);
	}

	/* A shorter or longer message is another message. */
	assert_int_equal(crypto_verify(pub, msg, sizeof(msg) - 1, sig), -1);
	assert_int_equal(crypto_verify(pub, msg, 0, sig), -1);

	/* Nothing was left changed by the loops above. */
	assert_int_equal(crypto_verify(pub, msg, sizeof(msg), sig), 0);
	crypto_key_free(key);
	free(path);
}

static void test_wrong_key_fails(void **state)
{
	char *a = tmp_path(state, "a.pem"), *b = tmp_path(state, "b.pem");
	struct crypto_key *ka = NULL, *kb = NULL;
	uint8_t pa[CRYPTO_PUBKEY_LEN], pb[CRYPTO_PUBKEY_LEN];
	uint8_t sig[CRYPTO_SIG_LEN], zero[CRYPTO_PUBKEY_LEN] = { 0 };

	assert_int_equal(crypto_key_generate(a, &ka), 0);
	assert_int_equal(crypto_key_generate(b, &kb), 0);
	crypto_key_public(ka, pa);
	crypto_key_public(kb, pb);
	assert_int_equal(crypto_sign(ka, "event", 5, sig), 0);
	assert_int_equal(crypto_verify(pa, "event", 5, sig), 0);
	assert_int_equal(crypto_verify(pb, "event", 5, sig), -1);
	assert_int_equal(crypto_verify(zero, "event", 5, sig), -1);

	/* Every bit of the public key matters too. */
	for (size_t bit = 0; bit < CRYPTO_PUBKEY_LEN * 8; bit++) {
		pa[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		if (crypto_verify(pa, "event", 5, sig) != -1)
			fail_msg("public key bit %zu flipped verifies", bit);
		pa[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	crypto_key_free(ka);
	crypto_key_free(kb);
	free(a);
	free(b);
}

static void test_load_refuses_other_keys(void **state)
{
	char *path = tmp_path(state, "k.pem");
	struct crypto_key *key = NULL;
	EVP_PKEY *pkey;

	/* An EC key is a valid private key, but not Ed25519. */
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(pkey);
	write_pem(path, pkey, 0);
	EVP_PKEY_free(pkey);
	assert_int_equal(crypto_key_load(path, &key), -EINVAL);
	assert_null(key);

	/* An X25519 key has the same size but is for key exchange. */
	remove(path);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	assert_non_null(pkey);
	write_pem(path, pkey, 0);
	EVP_PKEY_free(pkey);
	assert_int_equal(crypto_key_load(path, &key), -EINVAL);
	assert_null(key);

	/* An Ed25519 public key alone is not a private key. */
	remove(path);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(pkey);
	write_pem(path, pkey, 1);
	EVP_PKEY_free(pkey);
	assert_int_equal(crypto_key_load(path, &key), -EINVAL);
	assert_null(key);
	free(path);
}

static void test_load_refuses_garbage(void **state)
{
	static const char *const garbage[] = {
		"",
		"hello\n",
		"-----BEGIN PRIVATE KEY-----\n"
		"this is not base64 at all!!\n"
		"-----END PRIVATE KEY-----\n",
		"-----BEGIN PRIVATE KEY-----\n"
		"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7\n",
		"-----BEGIN PRIVATE KEY-----\n"
		"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7\n"
		"-----END PRIVATE KEY-----\n",
	};
	char *path = tmp_path(state, "k.pem");
	char *missing = tmp_path(state, "missing.pem");
	struct crypto_key *key = NULL;

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		write_text(path, garbage[i]);
		if (crypto_key_load(path, &key) != -EINVAL)
			fail_msg("loaded garbage %zu", i);
		assert_null(key);
	}
	assert_int_equal(crypto_key_load(missing, &key), -ENOENT);
	assert_null(key);
	free(missing);
	free(path);
}

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *in, *hex;
	} vectors[] = {
		{ "abc", "ba7816bf8f01cfea414140de5dae2223"
			 "b00361a396177a9cb410ff61f20015ad" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb924"
		      "27ae41e4649b934ca495991b7852b855" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039"
		  "a33ce45964ff2167f6ecedd419db06c1" },
	};
	uint8_t digest[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		crypto_sha256(vectors[i].in, strlen(vectors[i].in), digest);
		crypto_hex(digest, sizeof(digest), hex);
		assert_string_equal(hex, vectors[i].hex);
	}
}

static void test_hex(void **state)
{
	const uint8_t some[] = { 0x00, 0x01, 0xab, 0xff, 0x7f, 0x80 };
	uint8_t all[256], back[256];
	char hex[513];

	(void)state;
	crypto_hex(some, sizeof(some), hex);
	assert_string_equal(hex, "0001abff7f80");
	crypto_hex(some, 0, hex);
	assert_string_equal(hex, "");

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	crypto_hex(all, sizeof(all), hex);
	assert_int_equal(strlen(hex), 512);
	for (size_t i = 0; i < 512; i++)
		assert_true((hex[i] >= '0' && hex[i] <= '9') ||
			    (hex[i] >= 'a' && hex[i] <= 'f'));
	assert_int_equal(crypto_unhex(hex, back, sizeof(back)), 0);
	assert_memory_equal(all, back, sizeof(all));
	assert_int_equal(crypto_unhex("", back, 0), 0);
}

static void test_unhex_refuses_bad_input(void **state)
{
	static const struct {
		const char *hex;
		size_t n;
	} bad[] = {
		{ "abc", 1 },  { "abc", 2 },   { "0g", 1 },   { "g0", 1 },
		{ "zz", 1 },   { " 1", 1 },    { "1 ", 1 },   { "", 1 },
		{ "00", 0 },   { "0000", 1 },  { "00", 2 },   { "-1", 1 },
		{ "0x", 1 },   { "\n0", 1 },   { "00\n", 1 }, { "ab:cd", 2 },
	};
	uint8_t out[4];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (crypto_unhex(bad[i].hex, out, bad[i].n) != -1)
			fail_msg("accepted \"%s\" as %zu bytes", bad[i].hex,
				 bad[i].n);
}

static void test_fingerprint(void **state)
{
	uint8_t pub[CRYPTO_PUBKEY_LEN], digest[CRYPTO_SHA256_LEN];
	char fp[CRYPTO_FINGERPRINT_LEN + 8], hex[CRYPTO_FINGERPRINT_LEN + 1];

	(void)state;
	assert_int_equal(crypto_unhex(rfc_public, pub, sizeof(pub)), 0);
	memset(fp, 'x', sizeof(fp));
	crypto_fingerprint(pub, fp);
	assert_int_equal(strlen(fp), CRYPTO_FINGERPRINT_LEN);
	assert_string_equal(fp, rfc_fingerprint);

	/* Any other key gives the hex of its own sha256. */
	for (int i = 0; i < CRYPTO_PUBKEY_LEN; i++)
		pub[i] = (uint8_t)(255 - i);
	crypto_fingerprint(pub, fp);
	crypto_sha256(pub, sizeof(pub), digest);
	crypto_hex(digest, sizeof(digest), hex);
	assert_string_equal(fp, hex);
	assert_string_not_equal(fp, rfc_fingerprint);
}

static void test_random(void **state)
{
	uint8_t a[32], b[32], zero[32] = { 0 };

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
}

static void test_memcmp(void **state)
{
	uint8_t a[40], b[40];

	(void)state;
	for (int i = 0; i < 40; i++)
		a[i] = b[i] = (uint8_t)i;
	assert_int_equal(crypto_memcmp(a, b, sizeof(a)), 0);
	assert_int_equal(crypto_memcmp(a, b, 0), 0);
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		assert_int_not_equal(crypto_memcmp(a, b, sizeof(a)), 0);
		b[i] ^= 0x80;
	}
}

#define TMP_TEST(f) cmocka_unit_test_setup_teardown(f, setup_tmpdir, \
						    teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TMP_TEST(test_generate_and_load),
		TMP_TEST(test_generate_refuses_overwrite),
		TMP_TEST(test_two_keys_differ),
		TMP_TEST(test_rfc8032_vector),
		TMP_TEST(test_every_bit_flip_fails),
		TMP_TEST(test_wrong_key_fails),
		TMP_TEST(test_load_refuses_other_keys),
		TMP_TEST(test_load_refuses_garbage),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_unhex_refuses_bad_input),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_memcmp),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
