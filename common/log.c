/*
 * Logging to stderr in key=value lines. The program name and threshold
 * are the only process-wide state: they are set once at start-up, before
 * any thread runs, and only read afterwards.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *log_program = "lms";
static enum log_level log_min = LOG_INFO;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

void log_init(const char *program, enum log_level min)
{
	const char *env = getenv("LMS_LOG_LEVEL");

	log_program = program;
	log_min = min;
	for (int i = 0; env && i < 4; i++)
		if (!strcmp(env, log_names[i]))
			log_min = (enum log_level)i;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048], ts[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	if (level < log_min)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

	n = snprintf(line, sizeof(line), "ts=%s.%03dZ level=%s prog=%s ", ts,
		     (int)(tv.tv_usec / 1000), log_names[level], log_program);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

const char *log_quote(const char *s, char *out, unsigned cap)
{
	unsigned o = 0;

	if (cap < 8) {
		if (cap)
			out[0] = 0;
		return out;
	}
	out[o++] = '"';
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		unsigned esc = c == '"' || c == '\\';

		/* Room must stay for "...", the closing quote and the NUL. */
		if (o + esc >= cap - 5)
			break;
		if (esc)
			out[o++] = '\\';
		out[o++] = c < 0x20 ? ' ' : (char)c;
	}
	if (s && *s) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = 0;
	return out;
}
