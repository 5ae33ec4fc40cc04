/*
 * Enrollment: turning an empty data directory into a tenant's workspace
 * (`lms-workspace init`).
 *
 * The workspace makes its own key pair, dials the mother's sync port,
 * checks the mother's key against the fingerprint the operator was
 * given, and presents the one-time token with its public key. The
 * mother answers with the tenant id, signed. Only then does the data
 * directory become a workspace: workspace.db appears last, by rename, so
 * a directory without it is never mistaken for one.
 */
#ifndef LMS_WORKSPACE_ENROLL_H
#define LMS_WORKSPACE_ENROLL_H

#include <stddef.h>

#include "common/ids.h"

#define ENROLL_DEFAULT_LISTEN "127.0.0.1:8610"
#define ENROLL_TIMEOUT_S 10

struct enroll_opts {
	const char *data_dir;
	const char *mother;	 /* the mother's sync address, host:port or
				  * tls://host:port */
	const char *token;	 /* one-time enrollment token */
	const char *fingerprint; /* hex SHA-256 of the mother's key */
	const char *listen;	 /* NULL: ENROLL_DEFAULT_LISTEN */
};

/* Enrolls and creates the workspace; 0 and the tenant id, or -1 with a
 * one-line reason in err. On failure everything it created is removed,
 * so the command can be retried (with a fresh token if the mother used
 * this one up). */
int enroll_run(const struct enroll_opts *o, char tenant[IDS_MAX + 1],
	       char *err, size_t errcap);

#endif
