/*
 * libFuzzer target for the request headers and paths of the media route
 * (workspace/media.c): the Range parser above all, and the checks of the
 * media path, If-None-Match and the ?v= query on the same bytes.
 *
 * The input is one byte choosing the file length, then the header text
 * (cut at the first NUL, as a header value cannot hold one). The first
 * byte picks a length from a small table (0, 1, 100, 4096, UINT64_MAX and
 * some in between) so that the edges are reached quickly.
 *
 * What must hold, besides the sanitizers' checks: one range lies inside
 * the file (first <= last < len) and reads back the same when written as
 * "bytes=first-last"; no other answer writes the positions; blanks before
 * the header and the case of the unit change nothing. A path accepted as
 * a media path has no empty, "." or ".." segment, no backslash and no
 * control character (checked here by a walk of its own), and the
 * validators match only the 40 hex digits they were given. The seeds in
 * tests/fuzz/corpus/fuzz_range are a length byte followed by a header.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workspace/media.c"
#include "../../workspace/store.c"

#define FUZZ_UNTOUCHED 0x5a5a5a5a5a5a5a5aULL
#define FUZZ_MAX_TEXT 4096
#define FUZZ_ID "0123456789abcdef0123456789abcdef01234567"

/* The route is not fuzzed here: the two functions of other modules it
 * calls are never reached. */
int auth_require(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req, unsigned roles,
		 struct people_user *out)
{
	(void)api;
	(void)x;
	(void)req;
	(void)roles;
	(void)out;
	__builtin_trap();
}

int assign_user_has(sqlite3 *db, int64_t user_id, const char *course_id)
{
	(void)db;
	(void)user_id;
	(void)course_id;
	__builtin_trap();
}

static const uint64_t fuzz_lengths[] = {
	0, 1, 2, 10, 100, 101, 4096, 65536, 1000000, 4294967295ULL,
	4294967296ULL, 9223372036854775807ULL, UINT64_MAX - 1, UINT64_MAX,
};

static int fuzz_parse(const char *h, uint64_t len, uint64_t *first,
		      uint64_t *last)
{
	*first = FUZZ_UNTOUCHED;
	*last = FUZZ_UNTOUCHED;
	return media_range_parse(h, len, first, last);
}

static void fuzz_range(const char *h, uint64_t len)
{
	uint64_t first, last, f2, l2;
	char again[80], *shifted;
	int rc, rc2;

	rc = fuzz_parse(h, len, &first, &last);
	if (rc != MEDIA_RANGE_ONE && rc != MEDIA_RANGE_NONE &&
	    rc != MEDIA_RANGE_UNSATISFIABLE)
		__builtin_trap();
	if (rc != MEDIA_RANGE_ONE &&
	    (first != FUZZ_UNTOUCHED || last != FUZZ_UNTOUCHED))
		__builtin_trap();
	if (rc == MEDIA_RANGE_ONE) {
		if (!len || first > last || last >= len)
			__builtin_trap();
		snprintf(again, sizeof(again), "bytes=%llu-%llu",
			 (unsigned long long)first, (unsigned long long)last);
		if (fuzz_parse(again, len, &f2, &l2) != MEDIA_RANGE_ONE ||
		    f2 != first || l2 != last)
			__builtin_trap();
	}

	/* blanks in front and the unit's case do not matter */
	shifted = malloc(strlen(h) + 3);
	if (!shifted)
		return;
	shifted[0] = ' ';
	shifted[1] = '\t';
	strcpy(shifted + 2, h);
	for (size_t i = 2; shifted[i] && i < 7; i++)
		shifted[i] = (char)toupper((unsigned char)shifted[i]);
	rc2 = fuzz_parse(shifted, len, &f2, &l2);
	if (rc2 != rc || (rc == MEDIA_RANGE_ONE && (f2 != first ||
						   l2 != last)))
		__builtin_trap();
	free(shifted);
}

/* The same verdict as media_path_valid, reached by another walk. */
static int fuzz_path_ok(const char *p)
{
	const char *seg = p;
	size_t len = strlen(p);

	if (!len || len > MEDIA_PATH_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '/' || c == '\0') {
			size_t n = (size_t)(p + i - seg);

			if (!n || !strncmp(seg, ".", n) ||
			    !strncmp(seg, "..", n))
				return 0;
			seg = p + i + 1;
		} else if (c < 0x20 || c == 0x7f || c == '\\') {
			return 0;
		}
	}
	return 1;
}

static void fuzz_others(const char *h)
{
	const char *type;

	if (media_path_valid(h) != fuzz_path_ok(h))
		__builtin_trap();
	type = media_content_type(h);
	if (!type || !*type)
		__builtin_trap();
	/* a list naming the id matches; on its own, the text matches only
	 * when it holds the id (quoted) or is a wildcard */
	if (media_etag_listed(h, FUZZ_ID) && !strstr(h, "\"" FUZZ_ID "\"") &&
	    !strchr(h, '*'))
		__builtin_trap();
	if (media_query_pins(h, FUZZ_ID) && !strstr(h, "v=" FUZZ_ID))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t len;
	char *h;

	if (!size || size > FUZZ_MAX_TEXT)
		return 0;
	len = fuzz_lengths[data[0] % (sizeof(fuzz_lengths) /
				      sizeof(fuzz_lengths[0]))];
	h = malloc(size);
	if (!h)
		return 0;
	memcpy(h, data + 1, size - 1);
	h[size - 1] = '\0';
	fuzz_range(h, len);
	fuzz_others(h);
	free(h);
	return 0;
}
