/*
 * Checks for ids and revision ids, used by every decoder of outside input.
 */
#include "common/ids.h"

#include <string.h>

int ids_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
		if (n >= IDS_MAX)
			return 0;
	}
	return n > 0;
}

int ids_is_revision(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'f') || (c >= '0' && c <= '9')))
			return 0;
	}
	return n == IDS_REVISION_LEN;
}
