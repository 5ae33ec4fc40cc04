/*
 * The mother's context: its data directory, database and signing key,
 * passed explicitly to every module of lms-mother.
 *
 * Data directory layout:
 *   DATA/mother.db        tenants, licences, courses, packs, event streams
 *   DATA/mother.key       Ed25519 private key (0600); never leaves the host
 *   DATA/courses/ID.git   one bare repository per course; main is published
 *   DATA/mother.sock      control socket of the running daemon
 *   DATA/publish.lock     serialises publishers (commands and git hooks)
 */
#ifndef LMS_MOTHER_H
#define LMS_MOTHER_H

#include <sqlite3.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/crypto.h"

struct mother {
	char *data; /* absolute path of the data directory */
	sqlite3 *db;
	struct crypto_key *key;
	uint8_t pub[CRYPTO_PUBKEY_LEN];
	char fingerprint[CRYPTO_FINGERPRINT_LEN + 1];
	struct lms_clock clock;
};

/* Creates a new data directory (refusing an existing mother.db). */
int mother_create(struct mother *m, const char *data);

/* Opens an existing data directory; -1 with a logged reason otherwise. */
int mother_open(struct mother *m, const char *data);

void mother_close(struct mother *m);

/* Paths inside the data directory; malloc'd, the caller frees them. */
char *mother_path(const struct mother *m, const char *name);
char *mother_course_repo(const struct mother *m, const char *course);

#endif
