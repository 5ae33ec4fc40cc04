/*
 * The PDF of a certificate, drawn with cairo and pango (PangoCairo, the
 * font "DejaVu Sans") on one A4 page in landscape: the academy's name,
 * primary colour and logo (PNG, JPEG or WebP, workspace/image.h), the
 * learner's name, the course, the dates of issue and expiry, the
 * certificate's number and revision, and a QR code (libqrencode) of the
 * public verification URL with the URL in text. German or English.
 *
 * The wording is the tenant's (workspace/certtpl.c) or the built-in
 * text: a title line, a body and a signer line under an optional
 * signature image, each a template (workspace/template.h) with the
 * placeholders CERTPDF_PLACEHOLDERS. The body is drawn line by line,
 * centred: a line that is a single placeholder stands out as a heading
 * (the learner's name large, the course in the academy's colour), in
 * other lines the values are bold. Unless the body names both
 * {{issued}} and {{expires}}, the line of dates follows it; the number,
 * revision and QR code are always in the foot. A body too long for its
 * space is drawn smaller.
 *
 * certpdf_render() touches no shared state: it runs on the thread pool.
 */
#ifndef LMS_WORKSPACE_CERTPDF_H
#define LMS_WORKSPACE_CERTPDF_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* What a certificate shows; every pointer borrowed. */
struct certpdf_input {
	const char *academy;	   /* the tenant's name */
	const char *color;	   /* "#RRGGBB"; anything else: a default */
	const uint8_t *logo;	   /* a PNG, JPEG or WebP file, or NULL */
	size_t logo_len;
	const char *learner;	   /* name */
	const char *course;	   /* title */
	const char *number;	   /* "HYG-2026-000001" */
	const char *revision;	   /* the course revision, 40 hex digits */
	int64_t issued;		   /* unix seconds */
	int64_t expires;	   /* unix seconds, 0 for never */
	const char *verify_url;
	const char *language;	   /* "de" or "en"; anything else: "de" */
	const char *title;	   /* a template; NULL: the built-in one */
	const char *body;	   /* a template; NULL: the built-in one */
	const char *signer;	   /* a template; NULL or "": no line */
	const uint8_t *signature;  /* a PNG drawn above the signer, or NULL */
	size_t signature_len;
	int64_t revoked;	   /* unix seconds; 0: not revoked. A revoked
				    * certificate is stamped so across the
				    * page, with the date */
};

/* The placeholders the certificate's texts may hold. */
#define CERTPDF_PLACEHOLDERS                                            \
	{ "learner", "course", "issued", "expires", "number", "academy", \
	  "revision" }
#define CERTPDF_NPLACEHOLDERS 7

/* The texts of a certificate. */
enum certpdf_text {
	CERTPDF_TITLE,
	CERTPDF_BODY,
	CERTPDF_SIGNER,
};

/* The built-in template of text in language ("en"; anything else
 * German); static, never NULL ("" for the signer). */
const char *certpdf_default_text(enum certpdf_text text,
				 const char *language);

#define CERTPDF_IMAGE_SIDE_MAX 4096 /* pixels of a signature's side */

/* Checks that the n bytes at p are a PNG that cairo decodes, at most
 * CERTPDF_IMAGE_SIDE_MAX pixels wide and high: 0, or -1 with the reason
 * in why (cap bytes). Touches no shared state. */
int certpdf_png_check(const uint8_t *p, size_t n, char *why, size_t cap);

/* Formats the calendar day of t (UTC) as the language writes it:
 * "31.01.2027" (de) or "2027-01-31" (en), into out (at least 16). */
void certpdf_date(int64_t t, const char *language, char *out, size_t cap);

/* Appends the PDF to out: 0, or -1 (logged) when cairo fails. */
int certpdf_render(const struct certpdf_input *in, struct buf *out);

/* Frees the font caches that pango, cairo and fontconfig keep for the
 * life of the process, so that a leak checker at exit sees only real
 * leaks. Call it once, at exit, when no render runs any more. */
void certpdf_cleanup(void);

#endif
