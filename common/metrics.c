/*
 * The Prometheus text format (common/metrics.h): HELP and TYPE lines,
 * samples with at most one label, escaped label values and help texts.
 */
#include "common/metrics.h"

#include "common/http.h"

#include <errno.h>
#include <stdio.h>

/* s with backslash and line end escaped, and the double quote too when
 * quote is set (a label value). */
static int metrics_escaped(struct buf *b, const char *s, int quote)
{
	int rc = 0;

	for (; *s && !rc; s++) {
		if (*s == '\\')
			rc = buf_append_str(b, "\\\\");
		else if (*s == '\n')
			rc = buf_append_str(b, "\\n");
		else if (*s == '"' && quote)
			rc = buf_append_str(b, "\\\"");
		else
			rc = buf_append(b, s, 1);
	}
	return rc;
}

int metrics_family(struct buf *b, const char *name, const char *type,
		   const char *help)
{
	if (buf_printf(b, "# HELP %s ", name) || metrics_escaped(b, help, 0) ||
	    buf_printf(b, "\n# TYPE %s %s\n", name, type))
		return -ENOMEM;
	return 0;
}

int metrics_sample(struct buf *b, const char *name, const char *label,
		   const char *value, double v)
{
	if (buf_append_str(b, name))
		return -ENOMEM;
	if (label && (buf_printf(b, "{%s=\"", label) ||
		      metrics_escaped(b, value, 1) || buf_append_str(b, "\"}")))
		return -ENOMEM;
	/* whole numbers print as such ("42"), others exactly enough */
	if (buf_printf(b, " %.17g\n", v))
		return -ENOMEM;
	return 0;
}

int metrics_http(struct buf *b, const struct http_server *s)
{
	char code[4];
	uint64_t n;

	if (metrics_family(b, "lms_http_requests_total", "counter",
			   "HTTP answers sent, by status code"))
		return -ENOMEM;
	for (int status = HTTP_STATUS_MIN; status <= HTTP_STATUS_MAX;
	     status++) {
		if (!(n = http_server_answered(s, status)))
			continue;
		snprintf(code, sizeof(code), "%d", status);
		if (metrics_sample(b, "lms_http_requests_total", "code", code,
				   (double)n))
			return -ENOMEM;
	}
	return 0;
}
