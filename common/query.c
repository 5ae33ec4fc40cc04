/*
 * Query strings (common/query.h): finds a "name=value" pair between '&'
 * separators and decodes its value.
 */
#include "common/query.h"

#include "common/crypto.h"

#include <string.h>

/* Decodes the n bytes at s into out: the length, or -1. */
static int query_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t len = 0;
	char hex[3] = "";
	uint8_t byte;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return -1;
			memcpy(hex, s + i + 1, 2);
			if (crypto_unhex(hex, &byte, 1) || !byte)
				return -1;
			c = (char)byte;
			i += 2;
		}
		if (len + 1 >= cap)
			return -1;
		out[len++] = c;
	}
	out[len] = '\0';
	return (int)len;
}

int query_get(const char *query, const char *name, char *out, size_t cap)
{
	size_t len = strlen(name), n;
	const char *p = query;

	while (p && *p) {
		n = strcspn(p, "&");
		if (n > len && p[len] == '=' && !strncmp(p, name, len)) {
			if (n == len + 1 || !cap ||
			    query_decode(p + len + 1, n - len - 1, out,
					 cap) <= 0)
				return -1;
			return 1;
		}
		if (n == len && !strncmp(p, name, len))
			return -1; /* "name" without a value */
		p += n + (p[n] == '&');
	}
	return 0;
}

int query_id(const char *query, const char *name, int64_t *id)
{
	char s[19]; /* 18 digits: no overflow */
	int64_t v = 0;
	int rc = query_get(query, name, s, sizeof(s));

	if (rc <= 0)
		return rc;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		v = v * 10 + (*c - '0');
	}
	if (v <= 0)
		return -1;
	*id = v;
	return 1;
}
