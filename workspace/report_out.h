/*
 * The writer the reports (workspace/report_data.c) write through: CSV
 * fields with RFC 4180 quoting, JSON strings with their escapes, raw
 * text; buffered and handed to a sink (a streamed answer, or a buffer
 * in the tests). The first error sticks: later writes do nothing and
 * report_out_end() returns it.
 */
#ifndef LMS_WORKSPACE_REPORT_OUT_H
#define LMS_WORKSPACE_REPORT_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Takes len bytes: 0, or a negative code that stops the report. */
typedef int (*report_sink)(void *arg, const void *data, size_t len);

struct report_out {
	report_sink sink;
	void *arg;
	char delimiter; /* of CSV */
	int fields;	/* of the CSV row being written */
	int rc;
	struct buf b;
};

void report_out_init(struct report_out *o, report_sink sink, void *arg,
		     char delimiter);

/* Flushes what is buffered, releases the buffer: the first error or 0. */
int report_out_end(struct report_out *o);

void report_out_raw(struct report_out *o, const char *s);
void report_out_printf(struct report_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The UTF-8 byte order mark that makes Excel read the file as UTF-8. */
void report_out_bom(struct report_out *o);

/* A CSV field (quoted when it holds the delimiter, a quote, CR or LF;
 * a text starting with =, +, -, @, a tab or CR, which a spreadsheet
 * would run as a formula, gets a ' first), and the end of a row
 * (CRLF). */
void report_out_field(struct report_out *o, const char *s);
void report_out_field_int(struct report_out *o, int64_t v);
void report_out_eol(struct report_out *o);

/* A JSON string with its quotes, or null for NULL. */
void report_out_json_str(struct report_out *o, const char *s);

#endif
