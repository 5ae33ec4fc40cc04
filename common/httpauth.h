/*
 * Credentials in HTTP requests, for both daemons' APIs: the value of a
 * cookie in a Cookie header and the token of an "Authorization: Bearer"
 * header, and the check of a cookie session's CSRF token. Only
 * parsing and comparing: what a token or session means is the caller's.
 */
#ifndef LMS_HTTPAUTH_H
#define LMS_HTTPAUTH_H

#include <stddef.h>

/* The value of cookie name in the Cookie header value header into out
 * (cap bytes with the NUL): 0, or -1 when it is absent or too long. */
int httpauth_cookie(const char *header, const char *name, char *out,
		    size_t cap);

/* The token after "Bearer " (scheme case-insensitive) of an
 * Authorization header value into out: 0, or -1 for another scheme or a
 * token too long. */
int httpauth_bearer(const char *header, char *out, size_t cap);

/* Whether a request of method with a cookie session may go on: 1 for
 * GET and HEAD, else only when sent (its X-CSRF-Token header, may be
 * NULL) is the session's token expected of len bytes, compared in
 * constant time. */
int httpauth_csrf_ok(const char *method, const char *sent,
		     const char *expected, size_t len);

#endif
