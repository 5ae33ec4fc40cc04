/*
 * Password hashing with Argon2id (libargon2).
 *
 * A hash is the self-describing encoded string of Argon2
 * ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so the parameters
 * can grow later without breaking stored hashes. Parameters: 19 MiB of
 * memory, 2 passes, 1 lane, a 16-byte random salt, a 32-byte hash.
 * Hashing and verifying take tens of milliseconds and 19 MiB each: call
 * them from a worker thread or a command line, never on an event loop.
 */
#ifndef LMS_PASSWORD_H
#define LMS_PASSWORD_H

#include <stddef.h>

#define PASSWORD_HASH_MAX 128 /* encoded hash with the NUL */
#define PASSWORD_MAX 1024     /* longest password accepted, in bytes */

/* Hashes password (len bytes, 1 to PASSWORD_MAX) into out (cap bytes,
 * at least PASSWORD_HASH_MAX). 0, -EINVAL for a bad length, -EIO when
 * randomness or Argon2 fails. */
int password_hash(const char *password, size_t len, char *out, size_t cap);

/* 0 when password matches encoded, -1 otherwise (a wrong password, a
 * malformed hash, a bad length); the comparison is constant time. */
int password_verify(const char *encoded, const char *password, size_t len);

/* A valid hash of a password nobody knows, for spending the same time on
 * unknown accounts as on known ones. */
const char *password_dummy_hash(void);

#endif
