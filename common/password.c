/*
 * Argon2id through libargon2's encoded-string interface; the salt comes
 * from OpenSSL's generator (common/crypto.h). libargon2 compares the
 * computed hash with the stored one in constant time.
 */
#include "common/password.h"

#include "common/crypto.h"
#include "common/log.h"

#include <argon2.h>
#include <errno.h>
#include <string.h>

#define PASSWORD_T_COST 2
#define PASSWORD_M_COST 19456 /* KiB */
#define PASSWORD_LANES 1
#define PASSWORD_SALT_LEN 16
#define PASSWORD_HASH_LEN 32

/* The hash of a random password that was thrown away. */
static const char password_dummy[] =
	"$argon2id$v=19$m=19456,t=2,p=1$HSk9ybAKVrsc4ArXJjpoFw$"
	"p+gc0atClvaaqt3kMqBmFg2k4x37fhFmGe6ddu2ISfY";

int password_hash(const char *password, size_t len, char *out, size_t cap)
{
	uint8_t salt[PASSWORD_SALT_LEN];
	int rc;

	if (len == 0 || len > PASSWORD_MAX || cap < PASSWORD_HASH_MAX)
		return -EINVAL;
	if (crypto_random(salt, sizeof(salt)))
		return -EIO;
	rc = argon2id_hash_encoded(PASSWORD_T_COST, PASSWORD_M_COST,
				   PASSWORD_LANES, password, len, salt,
				   sizeof(salt), PASSWORD_HASH_LEN, out, cap);
	if (rc != ARGON2_OK) {
		log_error("msg=\"password hashing failed\" error=\"%s\"",
			  argon2_error_message(rc));
		return -EIO;
	}
	return 0;
}

int password_verify(const char *encoded, const char *password, size_t len)
{
	if (!encoded || !*encoded || len > PASSWORD_MAX)
		return -1;
	return argon2id_verify(encoded, password, len) == ARGON2_OK ? 0 : -1;
}

const char *password_dummy_hash(void)
{
	return password_dummy;
}
