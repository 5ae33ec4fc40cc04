/*
 * The query string of a request URL ("a=1&b=x%20y"): one value by name,
 * percent-decoded, with a size limit, and ids. Handlers use it instead
 * of scanning req->query themselves.
 *
 * A name is matched exactly (no decoding of names); the first match
 * counts. '+' decodes to a space. A value that decodes to a NUL byte,
 * holds a bad escape or does not fit is refused as a whole.
 */
#ifndef LMS_QUERY_H
#define LMS_QUERY_H

#include <stddef.h>
#include <stdint.h>

/* The value of name in query (may be NULL or "") into out (cap bytes
 * with the NUL): 1 when there, 0 when not, -1 when it is empty, does
 * not fit or cannot be decoded. */
int query_get(const char *query, const char *name, char *out, size_t cap);

/* The value of name as a positive decimal id (at most 18 digits): 1 with
 * *id set, 0 when not there, -1 when it is not such an id. */
int query_id(const char *query, const char *name, int64_t *id);

#endif
