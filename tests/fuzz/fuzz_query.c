/*
 * libFuzzer target for query strings (common/query.c).
 *
 * The input is the query (cut at the first NUL, as a URL cannot hold
 * one). What must hold, besides the sanitizers' checks: a value found
 * fits its buffer, holds no NUL before its end and is not empty; it is
 * the same whether the buffer is exact or larger; an id is positive and
 * read back by printing it. The seeds in tests/fuzz/corpus/fuzz_query
 * are queries as browsers send them.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/query.h"

#define FUZZ_MAX 4096

static const char *const fuzz_names[] = { "user", "state", "before", "q" };

static void fuzz_value(const char *query, const char *name)
{
	char small[8], big[FUZZ_MAX + 1], again[FUZZ_MAX + 1];
	int rc_small = query_get(query, name, small, sizeof(small));
	int rc = query_get(query, name, big, sizeof(big));
	size_t len;

	if (rc_small == 1) {
		if (rc != 1 || strcmp(small, big))
			abort();
	}
	if (rc != 1)
		return;
	len = strlen(big);
	if (!len || len >= sizeof(big))
		abort();
	if (query_get(query, name, again, len + 1) != 1 ||
	    strcmp(again, big) || query_get(query, name, again, len) != -1)
		abort();
}

static void fuzz_id(const char *query, const char *name)
{
	char text[32], back[32];
	int64_t id = -1;
	int rc = query_id(query, name, &id);

	if (rc != 1)
		return;
	if (id <= 0 || query_get(query, name, text, sizeof(text)) != 1)
		abort();
	snprintf(back, sizeof(back), "%" PRId64, id);
	/* leading zeros are the only other way to write it */
	if (strcmp(text + strspn(text, "0"), back))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *query;

	if (size > FUZZ_MAX)
		return 0;
	query = malloc(size + 1);
	if (!query)
		return 0;
	memcpy(query, data, size);
	query[size] = '\0';
	for (size_t i = 0; i < sizeof(fuzz_names) / sizeof(*fuzz_names); i++) {
		fuzz_value(query, fuzz_names[i]);
		fuzz_id(query, fuzz_names[i]);
	}
	free(query);
	return 0;
}
