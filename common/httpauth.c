/*
 * Parsing the Cookie and Authorization headers of a request, and the
 * CSRF check of a cookie session.
 */
#include "common/httpauth.h"

#include "common/crypto.h"

#include <string.h>
#include <strings.h>

int httpauth_cookie(const char *header, const char *name, char *out,
		    size_t cap)
{
	size_t nlen = strlen(name), vlen;
	const char *p = header, *end;

	while (p && *p) {
		p += strspn(p, " \t;");
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if (!strncmp(p, name, nlen) && p[nlen] == '=') {
			vlen = (size_t)(end - p) - nlen - 1;
			while (vlen && (p[nlen + vlen] == ' ' ||
					p[nlen + vlen] == '\t'))
				vlen--;
			if (vlen >= cap)
				return -1;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = 0;
			return 0;
		}
		p = end;
	}
	return -1;
}

int httpauth_bearer(const char *header, char *out, size_t cap)
{
	const char *t;

	if (strncasecmp(header, "Bearer ", 7))
		return -1;
	t = header + 7 + strspn(header + 7, " ");
	if (strlen(t) >= cap)
		return -1;
	memcpy(out, t, strlen(t) + 1);
	return 0;
}

int httpauth_csrf_ok(const char *method, const char *sent,
		     const char *expected, size_t len)
{
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return 1;
	return sent && strlen(sent) == len &&
	       crypto_memcmp(sent, expected, len) == 0;
}
