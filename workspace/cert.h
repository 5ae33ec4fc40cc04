/*
 * Certificates: issued when a learner completes a course, with a number
 * people can read ("HYG-2026-000001"), the course revision, the date of
 * issue and of expiry (course.json "certificate": {"valid_months"}), a
 * PDF (workspace/certpdf.h) and a public page that tells anyone holding
 * its unguessable code whether it is valid, expired or revoked.
 *
 *   GET  /api/v1/certificates             a user's own; admins all, or
 *                                         ?user=ID (managers: of their
 *                                         scope) -> [{"id", "number",
 *                                         "user", "course", "revision",
 *                                         "issued", "expires", "status",
 *                                         "verify_url"}]
 *   GET  /api/v1/certificates/{id}/pdf    own, admins, managers of the
 *                                         owner: application/pdf
 *   POST /api/v1/certificates/{id}/revoke (admin) {"reason"} -> 200 the
 *                                         certificate; 409 when revoked
 *   GET  /verify/{code}                   anyone: a small HTML page; 404
 *                                         "not found" for any other code
 *
 * A certificate is issued once per completion: when the course counts as
 * completed (workspace/learn.h) and no certificate of the course was
 * issued since the learner's latest completion or passed attempt in it.
 * So a revoked or expired certificate is not replaced until the learner
 * does the course (or a retrained part of it) again.
 *
 * Schema: workspace/cert_schema.h (migration 10). Functions return 0 or
 * a negative STORE_E* code (workspace/store.h) unless they say otherwise.
 */
#ifndef LMS_WORKSPACE_CERT_H
#define LMS_WORKSPACE_CERT_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/http.h"
#include "workspace/api.h"

struct coursecache;

#define CERT_CODE_LEN 32   /* hex digits of a verification code */
#define CERT_NUMBER_MAX 40 /* bytes of a number */
#define CERT_REASON_MAX 500 /* bytes of a reason to revoke */

enum cert_status { CERT_VALID, CERT_EXPIRED, CERT_REVOKED };

/* t plus months in the calendar (UTC), keeping the time of day; a day
 * the target month lacks becomes its last (Jan 31 + 1 = Feb 28 or 29). */
int64_t cert_add_months(int64_t t, int months);

/* The status at now of a certificate with these times (expires and
 * revoked 0 for none). */
enum cert_status cert_status_at(int64_t now, int64_t expires,
				int64_t revoked);

/* "valid", "expired" or "revoked". */
const char *cert_status_name(enum cert_status s);

/* The number of certificate id issued at issued for course: up to three
 * letters of the course id in capitals, the year and id in six digits,
 * "HYG-2026-000001". */
void cert_number(const char *course, int64_t issued, int64_t id, char *out,
		 size_t cap);

/* A fresh verification code of CERT_CODE_LEN hex digits (and the NUL)
 * from the system's random source: 0, or -1. */
int cert_code(char out[CERT_CODE_LEN + 1]);

/* Issues a certificate to user_id for course when the course is theirs
 * and completed and none was issued since their latest completion in it
 * (see above): 1 when it issued one, 0 when none was due, or a negative
 * STORE_E* code. Runs in the caller's transaction when one is open (the
 * group commit of workspace/batch.h), else in its own. */
int cert_issue_if_complete(sqlite3 *db, struct coursecache *cache,
			   int64_t user_id, const char *course, int64_t now);

/* Issues what is due for each course of user_id (cert_issue_if_complete
 * over the courses learn.h lists as completed). */
int cert_issue_due(sqlite3 *db, struct coursecache *cache, int64_t user_id,
		   int64_t now);

/* The certificates of user_id (0: everybody's) as GET lists them, by id;
 * verify_url is base (e.g. "http://academy.example") + "/verify/CODE". */
int cert_list_json(sqlite3 *db, int64_t user_id, int64_t now,
		   const char *base, cJSON **out);

/* Revokes certificate id with reason: STORE_ENOTFOUND, or STORE_EINVAL
 * when it is revoked already. */
int cert_revoke(sqlite3 *db, int64_t id, const char *reason, int64_t now);

/* Answers req when its path is one of this module's; see api_route_fn. */
int cert_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req);

#endif
