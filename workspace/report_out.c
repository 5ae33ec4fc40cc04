/*
 * The reports' writer (workspace/report_out.h). Output is gathered in a
 * buffer of REPORT_OUT_FLUSH bytes before it goes to the sink, so that
 * a row of many small fields costs one call of the sink at most.
 */
#include "workspace/report_out.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define REPORT_OUT_FLUSH (16 * 1024)

void report_out_init(struct report_out *o, report_sink sink, void *arg,
		     char delimiter)
{
	memset(o, 0, sizeof(*o));
	o->sink = sink;
	o->arg = arg;
	o->delimiter = delimiter ? delimiter : ',';
}

static void report_out_flush(struct report_out *o)
{
	if (!o->rc && o->b.len)
		o->rc = o->sink(o->arg, o->b.data, o->b.len);
	buf_reset(&o->b);
}

static void report_out_append(struct report_out *o, const void *p, size_t n)
{
	if (o->rc)
		return;
	if (buf_append(&o->b, p, n))
		o->rc = -12; /* -ENOMEM */
	else if (o->b.len >= REPORT_OUT_FLUSH)
		report_out_flush(o);
}

int report_out_end(struct report_out *o)
{
	report_out_flush(o);
	buf_release(&o->b);
	return o->rc;
}

void report_out_raw(struct report_out *o, const char *s)
{
	report_out_append(o, s, strlen(s));
}

void report_out_printf(struct report_out *o, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(small))
		report_out_append(o, small, (size_t)n);
	else if (!o->rc)
		o->rc = -22; /* -EINVAL: only short pieces are printed */
}

void report_out_bom(struct report_out *o)
{
	report_out_raw(o, "\xEF\xBB\xBF");
}

/* 1 when a spreadsheet would take the text s for a formula (or a
 * command: a tab or CR first): it is written with a ' before it. */
static int report_out_formula(const char *s)
{
	return s[0] && strchr("=+-@\t\r", s[0]);
}

/* A cell: quoted when it holds the delimiter, a quote, CR or LF; a '
 * first when defuse is set. */
static void report_out_cell(struct report_out *o, const char *s, int defuse)
{
	char specials[] = { '"', '\r', '\n', o->delimiter, 0 };
	const char *q;

	if (o->fields++)
		report_out_append(o, &o->delimiter, 1);
	if (!strpbrk(s, specials)) {
		if (defuse)
			report_out_append(o, "'", 1);
		report_out_raw(o, s);
		return;
	}
	report_out_append(o, defuse ? "\"'" : "\"", defuse ? 2 : 1);
	while ((q = strchr(s, '"'))) {
		report_out_append(o, s, (size_t)(q - s) + 1);
		report_out_append(o, "\"", 1); /* a quote is doubled */
		s = q + 1;
	}
	report_out_raw(o, s);
	report_out_append(o, "\"", 1);
}

void report_out_field(struct report_out *o, const char *s)
{
	s = s ? s : "";
	report_out_cell(o, s, report_out_formula(s));
}

void report_out_field_int(struct report_out *o, int64_t v)
{
	char n[24];

	snprintf(n, sizeof(n), "%" PRId64, v);
	report_out_cell(o, n, 0); /* a negative number is no formula */
}

void report_out_eol(struct report_out *o)
{
	report_out_append(o, "\r\n", 2);
	o->fields = 0;
}

void report_out_json_str(struct report_out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run;
	char esc[8];

	if (!s) {
		report_out_raw(o, "null");
		return;
	}
	report_out_append(o, "\"", 1);
	for (run = p; *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		report_out_append(o, run, (size_t)(p - run));
		if (*p == '"' || *p == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p == '\n' || *p == '\r' || *p == '\t')
			snprintf(esc, sizeof(esc), "\\%c",
				 *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
		else
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
		report_out_raw(o, esc);
		run = p + 1;
	}
	report_out_append(o, run, (size_t)(p - run));
	report_out_append(o, "\"", 1);
}
