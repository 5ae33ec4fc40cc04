/*
 * A settable clock: the offset between the wanted start (LMS_FAKE_NOW)
 * and the system time is taken once, so fake time still advances.
 */
#include "common/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int64_t clock_system_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int clock_parse_iso(const char *s, int64_t *out)
{
	char again[32];
	struct tm tm;
	const char *end;
	int64_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || (strcmp(end, "Z") && strcmp(end, "")))
		return -EINVAL;
	t = (int64_t)timegm(&tm);

	/* strptime takes spaces, single digits and days such as 02-30 that
	 * timegm moves on; only a time that formats back unchanged is one. */
	clock_format_iso(t, again, sizeof(again));
	if (strncmp(s, again, 19))
		return -EINVAL;
	*out = t;
	return 0;
}

void clock_format_iso(int64_t t, char *out, unsigned cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int clock_init(struct lms_clock *c)
{
	const char *fake = getenv("LMS_FAKE_NOW");
	int64_t start;

	c->offset_ms = 0;
	if (!fake || !*fake)
		return 0;
	if (clock_parse_iso(fake, &start))
		return -EINVAL;
	c->offset_ms = start * 1000 - clock_system_ms();
	return 0;
}

int64_t clock_now_ms(const struct lms_clock *c)
{
	return clock_system_ms() + c->offset_ms;
}

int64_t clock_now(const struct lms_clock *c)
{
	return clock_now_ms(c) / 1000;
}
