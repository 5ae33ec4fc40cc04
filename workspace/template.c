/*
 * The placeholder engine of workspace/template.h: one scanner that finds
 * the next {{name}} in a text, used by the check that runs when a
 * template is saved and by the render that fills it in. Pure functions
 * without state; the mail templates built on them are in mailtpl.c.
 */
#include "workspace/template.h"

#include "common/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *template_strerror(int code)
{
	switch (code) {
	case TEMPLATE_OK: return "ok";
	case TEMPLATE_ESYNTAX: return "broken placeholder";
	case TEMPLATE_EUNKNOWN: return "unknown placeholder";
	case TEMPLATE_EUTF8: return "not UTF-8";
	case TEMPLATE_ETOOLONG: return "template too long";
	case TEMPLATE_ENOMEM: return "out of memory";
	case TEMPLATE_EKIND: return "no such kind of mail";
	case TEMPLATE_EDB: return "database error";
	default: return "unknown error";
	}
}

/* What the text holds at one position. */
enum template_token {
	TEMPLATE_TEXT,	  /* plain text up to the next "{{" or "}}" */
	TEMPLATE_NAME,	  /* a placeholder {{name}} */
	TEMPLATE_BROKEN,  /* "{{" not followed by name and "}}" */
	TEMPLATE_UNCLOSED, /* "{{" with no "}}" after it */
	TEMPLATE_STRAY	  /* "}}" outside a placeholder */
};

struct template_scan {
	enum template_token token;
	size_t len;	 /* bytes of the token */
	const char *name; /* TEMPLATE_NAME: the name, name_len bytes */
	size_t name_len;
};

/* The length of a name of a to z and _ at p. */
static size_t template_name_len(const char *p)
{
	size_t n = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_')
		n++;
	return n;
}

/* The token that starts at p (not at the end of the text). */
static void template_next(const char *p, struct template_scan *s)
{
	const char *open = strstr(p, "{{"), *close = strstr(p, "}}");
	size_t n;

	memset(s, 0, sizeof(*s));
	if (p != open && p != close) {
		s->token = TEMPLATE_TEXT;
		if (open && (!close || open < close))
			s->len = (size_t)(open - p);
		else
			s->len = close ? (size_t)(close - p) : strlen(p);
		return;
	}
	s->len = 2;
	if (p == close) {
		s->token = TEMPLATE_STRAY;
		return;
	}
	n = template_name_len(p + 2);
	if (n && n <= TEMPLATE_NAME_MAX && !strncmp(p + 2 + n, "}}", 2)) {
		s->token = TEMPLATE_NAME;
		s->name = p + 2;
		s->name_len = n;
		s->len = n + 4;
		return;
	}
	s->token = strstr(p + 2, "}}") ? TEMPLATE_BROKEN : TEMPLATE_UNCLOSED;
}

/* ---- the check ---- */

static int template_why(char *why, size_t cap, int rc, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));

static int template_why(char *why, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	if (cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* 0 when text is well-formed UTF-8, else TEMPLATE_EUTF8 and the byte
 * (from 0) of the first bad sequence in *at. */
static int template_utf8(const char *text, size_t len, size_t *at)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (!n) {
			*at = i;
			return TEMPLATE_EUTF8;
		}
		i += n;
	}
	return 0;
}

/* 1 when name (len bytes) is one of the n allowed. */
static int template_allowed(const char *name, size_t len,
			    const char *const *allowed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(allowed[i]) == len && !memcmp(allowed[i], name, len))
			return 1;
	return 0;
}

/* The reason for an unknown name, with the names allowed when they
 * fit. */
static int template_unknown(const struct template_scan *s,
			    const char *const *allowed, size_t n, char *why,
			    size_t cap)
{
	char list[TEMPLATE_WHY_MAX] = "";
	size_t used = 0;

	for (size_t i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? ", " : "", allowed[i]);
	if (used >= sizeof(list))
		list[0] = 0;
	return template_why(why, cap, TEMPLATE_EUNKNOWN,
			    "unknown placeholder {{%.*s}}%s%s%s",
			    (int)s->name_len, s->name,
			    n && *list ? " (allowed: " : "", list,
			    n && *list ? ")" : "");
}

/* The reason for a token that is not text or a name, at byte at. */
static int template_syntax(const struct template_scan *s, const char *p,
			   size_t at, char *why, size_t cap)
{
	size_t show = strcspn(p + 2, "}\n");

	if (s->token == TEMPLATE_UNCLOSED)
		return template_why(why, cap, TEMPLATE_ESYNTAX,
				    "unclosed {{ at byte %zu", at + 1);
	if (s->token == TEMPLATE_STRAY)
		return template_why(why, cap, TEMPLATE_ESYNTAX,
				    "}} without {{ at byte %zu", at + 1);
	if (show > 32)
		show = 32;
	return template_why(why, cap, TEMPLATE_ESYNTAX,
			    "bad placeholder {{%.*s at byte %zu: names are "
			    "a-z and _ in {{...}}", (int)show, p + 2, at + 1);
}

int template_check(const char *text, const char *const *allowed, size_t n,
		   char *why, size_t whycap)
{
	size_t len = strlen(text), at;
	struct template_scan s;

	if (len > TEMPLATE_TEXT_MAX)
		return template_why(why, whycap, TEMPLATE_ETOOLONG,
				    "longer than %d bytes", TEMPLATE_TEXT_MAX);
	if (template_utf8(text, len, &at))
		return template_why(why, whycap, TEMPLATE_EUTF8,
				    "not UTF-8 at byte %zu", at + 1);
	for (at = 0; at < len; at += s.len) {
		template_next(text + at, &s);
		if (s.token == TEMPLATE_TEXT)
			continue;
		if (s.token != TEMPLATE_NAME)
			return template_syntax(&s, text + at, at, why, whycap);
		if (!template_allowed(s.name, s.name_len, allowed, n))
			return template_unknown(&s, allowed, n, why, whycap);
	}
	return 0;
}

/* ---- the render ---- */

/* The value of the first var named name (len bytes), or NULL. */
static const char *template_value(const char *name, size_t len,
				  const struct template_var *vars, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vars[i].name && strlen(vars[i].name) == len &&
		    !memcmp(vars[i].name, name, len))
			return vars[i].value;
	return NULL;
}

int template_render(const char *text, const struct template_var *vars,
		    size_t n, struct buf *out)
{
	struct template_scan s;
	const char *v;
	int rc = 0;

	for (const char *p = text; *p && !rc; p += s.len) {
		template_next(p, &s);
		if (s.token == TEMPLATE_NAME) {
			v = template_value(s.name, s.name_len, vars, n);
			rc = v ? buf_append_str(out, v) : 0;
		} else if (s.token != TEMPLATE_BROKEN &&
			   s.token != TEMPLATE_UNCLOSED) {
			rc = buf_append(out, p, s.len);
		}
	}
	/* an empty result still reads as "" through buf_cstr() */
	return rc ? TEMPLATE_ENOMEM : 0;
}

int template_uses(const char *text, const char *name)
{
	struct template_scan s;

	for (const char *p = text; *p; p += s.len) {
		template_next(p, &s);
		if (s.token == TEMPLATE_NAME && strlen(name) == s.name_len &&
		    !memcmp(s.name, name, s.name_len))
			return 1;
	}
	return 0;
}
