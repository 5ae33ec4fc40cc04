/*
 * Drawing a certificate (workspace/certpdf.h): a cairo PDF surface that
 * writes into a buffer, text laid out by pango, the logo (PNG, JPEG or
 * WebP) and the signature (PNG) decoded by workspace/image.c and the QR
 * code's modules drawn as filled squares.
 * The texts are templates (workspace/template.c) filled in here, the
 * body's values set bold with pango markup (values and text escaped).
 * Lengths are in PDF points (1/72 inch); A4 landscape is 842 x 595.
 */
#include "workspace/certpdf.h"

#include "common/log.h"
#include "workspace/brand.h"
#include "workspace/certtpl.h"
#include "workspace/image.h"
#include "workspace/template.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CERTPDF_W 842.0
#define CERTPDF_H 595.0
#define CERTPDF_MARGIN 56.0
#define CERTPDF_QR 116.0   /* side of the QR code with its quiet zone */
#define CERTPDF_FONT "DejaVu Sans"
#define CERTPDF_TOP 128.0	/* where the title starts */
#define CERTPDF_SIGN_Y 388.0	/* the top of the signature block */
#define CERTPDF_SIGN_W 240.0	/* its width, from the left margin */
#define CERTPDF_TEXT_END 470.0	/* where the body ends without one */

/* The fixed wording in one language; the title and the body are
 * templates (certpdf_default_text()). */
struct certpdf_words {
	const char *issued, *valid_until, *no_expiry, *number, *revision,
		*verify, *revoked;
};

static const struct certpdf_words certpdf_de = {
	"Ausgestellt am", "gültig bis", "ohne Ablaufdatum",
	"Zertifikat-Nr.", "Kursversion", "Echtheit prüfen:",
	"WIDERRUFEN am",
};

static const struct certpdf_words certpdf_en = {
	"Issued on", "valid until", "does not expire",
	"Certificate no.", "Course revision", "Verify at:",
	"REVOKED on",
};

static const char certpdf_body_de[] =
	"Hiermit wird bestätigt, dass\n{{learner}}\n"
	"die folgende Schulung erfolgreich abgeschlossen hat:\n{{course}}";
static const char certpdf_body_en[] =
	"This is to certify that\n{{learner}}\n"
	"has successfully completed the training\n{{course}}";

static int certpdf_english(const char *language)
{
	return language && !strcmp(language, "en");
}

const char *certpdf_default_text(enum certpdf_text text,
				 const char *language)
{
	int en = certpdf_english(language);

	switch (text) {
	case CERTPDF_TITLE: return en ? "Certificate" : "Zertifikat";
	case CERTPDF_BODY: return en ? certpdf_body_en : certpdf_body_de;
	default: return "";
	}
}

void certpdf_date(int64_t t, const char *language, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	if (certpdf_english(language))
		snprintf(out, cap, "%04d-%02d-%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday);
	else
		snprintf(out, cap, "%02d.%02d.%04d", tm.tm_mday,
			 tm.tm_mon + 1, tm.tm_year + 1900);
}

/* The colour "#RRGGBB" as fractions; the default blue for anything
 * else. */
static void certpdf_color(const char *s, double rgb[3])
{
	unsigned r, g, b;

	if (s && strlen(s) == 7 && s[0] == '#' &&
	    sscanf(s + 1, "%2x%2x%2x", &r, &g, &b) == 3) {
		rgb[0] = r / 255.0;
		rgb[1] = g / 255.0;
		rgb[2] = b / 255.0;
		return;
	}
	rgb[0] = 0x1d / 255.0;
	rgb[1] = 0x4e / 255.0;
	rgb[2] = 0x89 / 255.0;
}

static cairo_status_t certpdf_write(void *arg, const unsigned char *data,
				    unsigned int len)
{
	return buf_append(arg, data, len) ? CAIRO_STATUS_WRITE_ERROR :
					    CAIRO_STATUS_SUCCESS;
}

/* How a piece of text is set. */
struct certpdf_style {
	const char *desc; /* the font, "DejaVu Sans Bold 30" */
	PangoAlignment align;
	int markup; /* text is pango markup */
	int draw;   /* 0: only measure */
};

/* Text set in style within width from x; returns its height. */
static double certpdf_set(cairo_t *cr, PangoContext *pc, const char *text,
			  const struct certpdf_style *st, double x, double y,
			  double width)
{
	PangoLayout *layout = pango_layout_new(pc);
	PangoFontDescription *font =
		pango_font_description_from_string(st->desc);
	int w, h;

	pango_layout_set_font_description(layout, font);
	pango_font_description_free(font);
	pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(layout, st->align);
	/* markup that pango refuses would draw nothing: then the text */
	if (st->markup && pango_parse_markup(text, -1, 0, NULL, NULL, NULL,
					     NULL))
		pango_layout_set_markup(layout, text, -1);
	else
		pango_layout_set_text(layout, text ? text : "", -1);
	if (st->draw) {
		cairo_move_to(cr, x, y);
		pango_cairo_show_layout(cr, layout);
	}
	pango_layout_get_size(layout, &w, &h);
	g_object_unref(layout);
	return (double)h / PANGO_SCALE;
}

/* Text in the font desc, within width from x, aligned; returns its
 * height. */
static double certpdf_text(cairo_t *cr, PangoContext *pc, const char *text,
			   const char *desc, double x, double y, double width,
			   PangoAlignment align)
{
	struct certpdf_style st = { desc, align, 0, 1 };

	return certpdf_set(cr, pc, text, &st, x, y, width);
}

_Static_assert(CERTPDF_IMAGE_SIDE_MAX == IMAGE_SIDE_MAX,
	       "the signature's limit is the decoder's");

int certpdf_png_check(const uint8_t *p, size_t n, char *why, size_t cap)
{
	cairo_surface_t *img;
	int w, h;

	if (image_type(p, n) != IMAGE_PNG) {
		snprintf(why, cap, "the file is not a PNG image");
		return -1;
	}
	if (image_size(p, n, &w, &h) || !w || !h) {
		snprintf(why, cap, "the PNG image has no valid header");
		return -1;
	}
	if (w > CERTPDF_IMAGE_SIDE_MAX || h > CERTPDF_IMAGE_SIDE_MAX) {
		snprintf(why, cap, "the PNG image is larger than %d x %d "
			 "pixels", CERTPDF_IMAGE_SIDE_MAX,
			 CERTPDF_IMAGE_SIDE_MAX);
		return -1;
	}
	/* the caller bounds the bytes (certtpl_signature_check()) */
	if (!(img = image_decode(p, n, n))) {
		snprintf(why, cap, "the PNG image cannot be decoded");
		return -1;
	}
	cairo_surface_destroy(img);
	return 0;
}

/* The image of the n bytes at p (at most max_bytes), of any type
 * image_decode() reads or, with png_only, a PNG: NULL when there is
 * none, and logged when it does not decode. */
static cairo_surface_t *certpdf_decode(const uint8_t *p, size_t n,
				       size_t max_bytes, int png_only)
{
	enum image_type type = image_type(p, n);
	cairo_surface_t *img;

	if (type == IMAGE_NONE || (png_only && type != IMAGE_PNG))
		return NULL;
	if (!(img = image_decode(p, n, max_bytes)))
		log_warn("msg=\"certificate image unreadable\" bytes=%zu", n);
	return img;
}

/* The image img (NULL: none) scaled into the box at x, y of w x h,
 * left-aligned or centred, and freed. */
static void certpdf_image(cairo_t *cr, cairo_surface_t *img, double x,
			  double y, double w, double h, int centre)
{
	double iw, ih, s;

	if (!img)
		return;
	iw = cairo_image_surface_get_width(img);
	ih = cairo_image_surface_get_height(img);
	s = iw > 0 && ih > 0 ? (w / iw < h / ih ? w / iw : h / ih) : 0;
	if (s > 0) {
		cairo_save(cr);
		cairo_translate(cr, x + (centre ? (w - iw * s) / 2 : 0),
				y + (h - ih * s) / 2);
		cairo_scale(cr, s, s);
		cairo_set_source_surface(cr, img, 0, 0);
		cairo_paint(cr);
		cairo_restore(cr);
	}
	cairo_surface_destroy(img);
}

/* The QR code of url in a square of side at x, y (white quiet zone of
 * two modules). */
static int certpdf_qr(cairo_t *cr, const char *url, double x, double y,
		      double side)
{
	QRcode *qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	double m;
	int n;

	if (!qr) {
		log_error("msg=\"QR code failed\" len=%zu", strlen(url));
		return -1;
	}
	n = qr->width;
	m = side / (n + 4);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, side, side);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < n; r++)
		for (int c = 0; c < n; c++)
			if (qr->data[r * n + c] & 1)
				cairo_rectangle(cr, x + (c + 2) * m,
						y + (r + 2) * m, m, m);
	cairo_fill(cr);
	QRcode_free(qr);
	return 0;
}

/* The frame: bands in the academy's colour at the top and bottom. */
static void certpdf_frame(cairo_t *cr, const double rgb[3])
{
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	cairo_rectangle(cr, 0, 0, CERTPDF_W, 14);
	cairo_rectangle(cr, 0, CERTPDF_H - 14, CERTPDF_W, 14);
	cairo_fill(cr);
	cairo_set_line_width(cr, 1.5);
	cairo_rectangle(cr, 28, 30, CERTPDF_W - 56, CERTPDF_H - 60);
	cairo_stroke(cr);
}

/* The values of the placeholders, as text and as bold markup. */
struct certpdf_values {
	char issued[32], expires[48], revision[13];
	struct template_var plain[CERTPDF_NPLACEHOLDERS];
	struct template_var bold[CERTPDF_NPLACEHOLDERS];
};

static void certpdf_values_init(struct certpdf_values *v,
				const struct certpdf_input *in,
				const struct certpdf_words *t)
{
	static const char *const names[] = CERTPDF_PLACEHOLDERS;
	const char *values[CERTPDF_NPLACEHOLDERS];

	certpdf_date(in->issued, in->language, v->issued, sizeof(v->issued));
	if (in->expires)
		certpdf_date(in->expires, in->language, v->expires,
			     sizeof(v->expires));
	else
		snprintf(v->expires, sizeof(v->expires), "%s", t->no_expiry);
	snprintf(v->revision, sizeof(v->revision), "%.12s",
		 in->revision ? in->revision : "");
	values[0] = in->learner;
	values[1] = in->course;
	values[2] = v->issued;
	values[3] = v->expires;
	values[4] = in->number;
	values[5] = in->academy;
	values[6] = v->revision;
	for (int i = 0; i < CERTPDF_NPLACEHOLDERS; i++) {
		char *esc = g_markup_escape_text(values[i] ? values[i] : "",
						 -1);

		v->plain[i] = (struct template_var){ names[i], values[i] };
		v->bold[i] = (struct template_var){
			names[i], g_strdup_printf("<b>%s</b>", esc)
		};
		g_free(esc);
	}
}

static void certpdf_values_release(struct certpdf_values *v)
{
	for (int i = 0; i < CERTPDF_NPLACEHOLDERS; i++)
		g_free((char *)v->bold[i].value);
}

/* text rendered with vars into out (reset first); 0 or -1. */
static int certpdf_fill(const char *text, const struct template_var *vars,
			struct buf *out)
{
	buf_reset(out);
	return template_render(text, vars, CERTPDF_NPLACEHOLDERS, out) ? -1 :
									0;
}

/* The kind of a line of the body: 0 text, else a line that is a single
 * placeholder: 1 the learner, 2 the course, 3 another. */
static int certpdf_heading(const char *line)
{
	size_t n = strlen(line);

	if (n < 5 || strncmp(line, "{{", 2) || strcmp(line + n - 2, "}}") ||
	    strspn(line + 2, "abcdefghijklmnopqrstuvwxyz_") != n - 4)
		return 0;
	if (!strcmp(line, "{{learner}}"))
		return 1;
	return !strcmp(line, "{{course}}") ? 2 : 3;
}

/* What the body's lines are set with at scale. */
struct certpdf_lines {
	cairo_t *cr;
	PangoContext *pc;
	const struct certpdf_values *v;
	const double *rgb;
	double scale;
	int draw;
};

/* One line of the body at y; returns the height it takes. */
static double certpdf_line(const struct certpdf_lines *l, const char *line,
			   double y, struct buf *text)
{
	static const double sizes[] = { 14, 26, 22, 16 };
	static const double grey[] = { 0.2, 0.2, 0.2 }, black[] = { 0, 0, 0 };
	int kind = certpdf_heading(line);
	const double *c = kind == 2 ? l->rgb : kind ? black : grey;
	struct certpdf_style st = { NULL, PANGO_ALIGN_CENTER, !kind, l->draw };
	char desc[64], *esc;
	int rc;

	if (!*line)
		return 10 * l->scale;
	snprintf(desc, sizeof(desc), CERTPDF_FONT "%s %.1f",
		 kind ? " Bold" : "", sizes[kind] * l->scale);
	st.desc = desc;
	if (kind) {
		rc = certpdf_fill(line, l->v->plain, text);
	} else {
		esc = g_markup_escape_text(line, -1);
		rc = certpdf_fill(esc, l->v->bold, text);
		g_free(esc);
	}
	if (rc)
		return 0;
	cairo_set_source_rgb(l->cr, c[0], c[1], c[2]);
	return certpdf_set(l->cr, l->pc, buf_cstr(text), &st, CERTPDF_MARGIN,
			   y, CERTPDF_W - 2 * CERTPDF_MARGIN) +
	       10 * l->scale;
}

/* The body's lines from y: their height, drawn when l->draw. */
static double certpdf_lines(const struct certpdf_lines *l, const char *body,
			    double y)
{
	struct buf line, text;
	double h = 0;
	size_t n;

	buf_init(&line);
	buf_init(&text);
	for (const char *p = body; *p; p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		buf_reset(&line);
		if (buf_append(&line, p, n))
			break;
		h += certpdf_line(l, buf_cstr(&line), y + h, &text);
	}
	buf_release(&line);
	buf_release(&text);
	return h + 8 * l->scale; /* 18 below the last line with its 10 */
}

/* The line of dates at y. */
static void certpdf_dates(cairo_t *cr, PangoContext *pc,
			  const struct certpdf_input *in,
			  const struct certpdf_words *t,
			  const struct certpdf_values *v, double y)
{
	char line[160];

	snprintf(line, sizeof(line), "%s %s  ·  %s%s%s", t->issued,
		 v->issued, in->expires ? t->valid_until : t->no_expiry,
		 in->expires ? " " : "", in->expires ? v->expires : "");
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	certpdf_text(cr, pc, line, CERTPDF_FONT " 13", CERTPDF_MARGIN, y,
		     CERTPDF_W - 2 * CERTPDF_MARGIN, PANGO_ALIGN_CENTER);
}

/* 1 when the certificate has a signature block. */
static int certpdf_signed(const struct certpdf_input *in)
{
	return in->signature || (in->signer && *in->signer);
}

/* The middle: title, the body (smaller when it would not fit above the
 * signature block or the foot) and the line of dates. */
static void certpdf_body(cairo_t *cr, PangoContext *pc,
			 const struct certpdf_input *in,
			 const struct certpdf_words *t,
			 const struct certpdf_values *v, const double rgb[3])
{
	const char *body = in->body ? in->body :
				      certpdf_default_text(CERTPDF_BODY,
							   in->language);
	int dates = !template_uses(body, "issued") ||
		    !template_uses(body, "expires");
	double end = (certpdf_signed(in) ? CERTPDF_SIGN_Y : CERTPDF_TEXT_END)
		     - (dates ? 24 : 0);
	struct certpdf_lines l = { cr, pc, v, rgb, 1.0, 0 };
	double y = CERTPDF_TOP, w = CERTPDF_W - 2 * CERTPDF_MARGIN;
	struct buf title;

	buf_init(&title);
	if (!certpdf_fill(in->title ? in->title :
			  certpdf_default_text(CERTPDF_TITLE, in->language),
			  v->plain, &title)) {
		cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
		y += certpdf_text(cr, pc, buf_cstr(&title),
				  CERTPDF_FONT " Bold 34", CERTPDF_MARGIN, y,
				  w, PANGO_ALIGN_CENTER) + 18;
	}
	buf_release(&title);
	while (l.scale > 0.52 && y + certpdf_lines(&l, body, y) > end)
		l.scale -= 0.05;
	l.draw = 1;
	y += certpdf_lines(&l, body, y);
	if (dates)
		certpdf_dates(cr, pc, in, t, v, y);
}

/* Above the foot at the left: the signature image, a line and the
 * signer's name and role under it. */
static void certpdf_signature(cairo_t *cr, PangoContext *pc,
			      const struct certpdf_input *in,
			      const struct certpdf_values *v)
{
	double x = CERTPDF_MARGIN, y = CERTPDF_SIGN_Y;
	struct buf text;

	if (!certpdf_signed(in))
		return;
	certpdf_image(cr,
		      certpdf_decode(in->signature, in->signature_len,
				     CERTTPL_SIGNATURE_MAX, 1),
		      x, y, CERTPDF_SIGN_W, 52, 1);
	cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
	cairo_set_line_width(cr, 0.8);
	cairo_move_to(cr, x, y + 56);
	cairo_line_to(cr, x + CERTPDF_SIGN_W, y + 56);
	cairo_stroke(cr);
	buf_init(&text);
	if (in->signer && !certpdf_fill(in->signer, v->plain, &text)) {
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		certpdf_text(cr, pc, buf_cstr(&text), CERTPDF_FONT " 10", x,
			     y + 60, CERTPDF_SIGN_W, PANGO_ALIGN_CENTER);
	}
	buf_release(&text);
}

/* The foot: number and revision at the left, QR code and URL at the
 * right. */
static int certpdf_foot(cairo_t *cr, PangoContext *pc,
			const struct certpdf_input *in,
			const struct certpdf_words *t)
{
	double qx = CERTPDF_W - CERTPDF_MARGIN - CERTPDF_QR;
	double qy = CERTPDF_H - 44 - CERTPDF_QR - 16;
	char line[160], rev[13];

	snprintf(rev, sizeof(rev), "%.12s", in->revision ? in->revision : "");
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	snprintf(line, sizeof(line), "%s %s", t->number, in->number);
	certpdf_text(cr, pc, line, CERTPDF_FONT " 10", CERTPDF_MARGIN,
		     CERTPDF_H - 100, 380, PANGO_ALIGN_LEFT);
	snprintf(line, sizeof(line), "%s %s", t->revision, rev);
	certpdf_text(cr, pc, line, CERTPDF_FONT " 10", CERTPDF_MARGIN,
		     CERTPDF_H - 84, 380, PANGO_ALIGN_LEFT);
	certpdf_text(cr, pc, t->verify, CERTPDF_FONT " 8", qx - 180, qy + 60,
		     170, PANGO_ALIGN_RIGHT);
	certpdf_text(cr, pc, in->verify_url, CERTPDF_FONT " 7", qx - 250,
		     qy + 74, 240, PANGO_ALIGN_RIGHT);
	return certpdf_qr(cr, in->verify_url, qx, qy, CERTPDF_QR);
}

/* The page on cr, with text laid out in pc. */
/* Across a revoked certificate, a red band: "REVOKED on DATE" (level,
 * so that the words can be read out of the PDF as well as seen). */
static void certpdf_revoked(cairo_t *cr, PangoContext *pc,
			    const struct certpdf_input *in,
			    const struct certpdf_words *t)
{
	char day[32], text[96];
	double y = CERTPDF_H / 2 - 36;

	certpdf_date(in->revoked, in->language, day, sizeof(day));
	snprintf(text, sizeof(text), "%s %s", t->revoked, day);
	cairo_save(cr);
	cairo_rectangle(cr, CERTPDF_MARGIN, y, CERTPDF_W - 2 * CERTPDF_MARGIN,
			72);
	cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
	cairo_fill_preserve(cr);
	cairo_set_source_rgb(cr, 0.75, 0.08, 0.08);
	cairo_set_line_width(cr, 4);
	cairo_stroke(cr);
	certpdf_text(cr, pc, text, CERTPDF_FONT " Bold 26", CERTPDF_MARGIN,
		     y + 18, CERTPDF_W - 2 * CERTPDF_MARGIN,
		     PANGO_ALIGN_CENTER);
	cairo_restore(cr);
}

static int certpdf_page(cairo_t *cr, PangoContext *pc,
			const struct certpdf_input *in)
{
	const struct certpdf_words *t =
		certpdf_english(in->language) ? &certpdf_en : &certpdf_de;
	struct certpdf_values v;
	double rgb[3];
	int rc;

	certpdf_color(in->color, rgb);
	certpdf_frame(cr, rgb);
	certpdf_image(cr,
		      certpdf_decode(in->logo, in->logo_len, BRAND_LOGO_MAX, 0),
		      CERTPDF_MARGIN, 48, 160, 60, 0);
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	certpdf_text(cr, pc, in->academy, CERTPDF_FONT " Bold 16",
		     CERTPDF_W / 2, 64, CERTPDF_W / 2 - CERTPDF_MARGIN,
		     PANGO_ALIGN_RIGHT);
	certpdf_values_init(&v, in, t);
	certpdf_body(cr, pc, in, t, &v, rgb);
	certpdf_signature(cr, pc, in, &v);
	rc = certpdf_foot(cr, pc, in, t);
	if (in->revoked)
		certpdf_revoked(cr, pc, in, t);
	certpdf_values_release(&v);
	return rc;
}

int certpdf_render(const struct certpdf_input *in, struct buf *out)
{
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(
		certpdf_write, out, CERTPDF_W, CERTPDF_H);
	PangoFontMap *fm;
	PangoContext *pc;
	cairo_t *cr;
	int rc;

	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE,
				       in->number ? in->number : "");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR,
				       in->academy ? in->academy : "");
	cr = cairo_create(s);
	/* a font map of its own: pango's default one is kept per thread
	 * for good, and one font map must not serve two threads at once */
	fm = pango_cairo_font_map_new();
	pc = pango_font_map_create_context(fm);
	pango_cairo_update_context(cr, pc);
	rc = certpdf_page(cr, pc, in);
	cairo_show_page(cr);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		rc = -1;
	cairo_destroy(cr);
	g_object_unref(pc);
	g_object_unref(fm);
	cairo_surface_finish(s);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
		rc = -1;
	cairo_surface_destroy(s);
	if (rc)
		log_error("msg=\"certificate PDF failed\" number=%s",
			  in->number ? in->number : "");
	return rc;
}

void certpdf_cleanup(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
