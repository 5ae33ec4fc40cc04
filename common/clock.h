/*
 * The daemons' clock. Tests set LMS_FAKE_NOW to an ISO 8601 UTC time
 * (2027-01-31T08:00:00Z); the clock then starts there and runs on at the
 * real pace. Without it the clock is the system's.
 */
#ifndef LMS_CLOCK_H
#define LMS_CLOCK_H

#include <stdint.h>

struct lms_clock {
	int64_t offset_ms; /* added to the system time */
};

/* Reads LMS_FAKE_NOW; returns -EINVAL (and a real clock) if it is set
 * but not a valid time. */
int clock_init(struct lms_clock *c);

int64_t clock_now(const struct lms_clock *c);	 /* seconds since 1970 */
int64_t clock_now_ms(const struct lms_clock *c); /* milliseconds */

/* Parses "YYYY-MM-DDTHH:MM:SSZ"; 0 on success. */
int clock_parse_iso(const char *s, int64_t *out);

/* Formats seconds as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21). */
void clock_format_iso(int64_t t, char *out, unsigned cap);

#endif
