/*
 * Logging: one line per event on stderr, as key=value pairs.
 *
 *   ts=2026-12-03T15:04:05.123Z level=info prog=lms-mother msg="..." k=v
 *
 * Callers pass the rest of the line (keys such as tenant=, course=, req=)
 * in printf style. Values that may hold spaces go through log_quote().
 * Never log passwords, tokens or personal data beyond an id.
 */
#ifndef LMS_LOG_H
#define LMS_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the program name shown in every line and the lowest level shown.
 * LMS_LOG_LEVEL=debug in the environment lowers it. */
void log_init(const char *program, enum log_level min);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Writes s as a double-quoted value into out (cap bytes, truncated with
 * "..." when too long) and returns out, for use in a log line. */
const char *log_quote(const char *s, char *out, unsigned cap);

#endif
