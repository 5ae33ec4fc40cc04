/*
 * libFuzzer target for the credentials of a request (common/httpauth.c).
 *
 * The input is a header value (cut at the first NUL, as a header cannot
 * hold one). What must hold, besides the sanitizers' checks: a cookie
 * or token found fits its buffer, holds no ';' (a cookie) and, read into
 * a larger buffer, is the same; a token is what follows the scheme and
 * its blanks, to the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpauth.h"

#define FUZZ_MAX 8192

static void fuzz_cookie(const char *h)
{
	char small[16], big[FUZZ_MAX + 1];
	int rs = httpauth_cookie(h, "lms_session", small, sizeof(small));
	int rb = httpauth_cookie(h, "lms_session", big, sizeof(big));

	if (rb == 0 && (strlen(big) >= sizeof(big) || strchr(big, ';')))
		abort();
	if (rs == 0 && (rb != 0 || strcmp(small, big)))
		abort();
}

static void fuzz_bearer(const char *h)
{
	char big[FUZZ_MAX + 1];

	if (httpauth_bearer(h, big, sizeof(big)))
		return;
	if (strlen(big) > strlen(h) ||
	    strcmp(h + strlen(h) - strlen(big), big))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h;

	if (size > FUZZ_MAX)
		return 0;
	if (!(h = malloc(size + 1)))
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	fuzz_cookie(h);
	fuzz_bearer(h);
	free(h);
	return 0;
}
