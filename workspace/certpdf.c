/*
 * Drawing a certificate (workspace/certpdf.h): a cairo PDF surface that
 * writes into a buffer, text laid out by pango, the logo read from PNG
 * bytes in memory and the QR code's modules drawn as filled squares.
 * Lengths are in PDF points (1/72 inch); A4 landscape is 842 x 595.
 */
#include "workspace/certpdf.h"

#include "common/log.h"

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

/* The wording in one language. */
struct certpdf_words {
	const char *title, *certify, *completed, *issued, *valid_until,
		*no_expiry, *number, *revision, *verify;
};

static const struct certpdf_words certpdf_de = {
	"Zertifikat", "Hiermit wird bestätigt, dass",
	"die folgende Schulung erfolgreich abgeschlossen hat:",
	"Ausgestellt am", "gültig bis", "ohne Ablaufdatum",
	"Zertifikat-Nr.", "Kursversion", "Echtheit prüfen:",
};

static const struct certpdf_words certpdf_en = {
	"Certificate", "This is to certify that",
	"has successfully completed the training",
	"Issued on", "valid until", "does not expire",
	"Certificate no.", "Course revision", "Verify at:",
};

static int certpdf_english(const char *language)
{
	return language && !strcmp(language, "en");
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

/* Text in the font desc ("DejaVu Sans Bold 30"), within width from x,
 * aligned; returns its height. */
static double certpdf_text(cairo_t *cr, PangoContext *pc, const char *text,
			   const char *desc, double x, double y, double width,
			   PangoAlignment align)
{
	PangoLayout *layout = pango_layout_new(pc);
	PangoFontDescription *font = pango_font_description_from_string(desc);
	int w, h;

	pango_layout_set_font_description(layout, font);
	pango_font_description_free(font);
	pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(layout, align);
	pango_layout_set_text(layout, text ? text : "", -1);
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, layout);
	pango_layout_get_size(layout, &w, &h);
	g_object_unref(layout);
	return (double)h / PANGO_SCALE;
}

/* PNG bytes read from memory. */
struct certpdf_mem {
	const uint8_t *p;
	size_t left;
};

static cairo_status_t certpdf_read(void *arg, unsigned char *data,
				   unsigned int len)
{
	struct certpdf_mem *m = arg;

	if (len > m->left)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, m->p, len);
	m->p += len;
	m->left -= len;
	return CAIRO_STATUS_SUCCESS;
}

static int certpdf_is_png(const uint8_t *p, size_t n)
{
	return n > 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8);
}

/* The logo scaled into the box at x, y of w x h, left-aligned; a logo
 * that is not PNG or does not decode is left out. */
static void certpdf_logo(cairo_t *cr, const struct certpdf_input *in,
			 double x, double y, double w, double h)
{
	struct certpdf_mem m = { in->logo, in->logo_len };
	cairo_surface_t *img;
	double iw, ih, s;

	if (!in->logo || !certpdf_is_png(in->logo, in->logo_len))
		return;
	img = cairo_image_surface_create_from_png_stream(certpdf_read, &m);
	if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
		log_warn("msg=\"certificate logo unreadable\"");
		cairo_surface_destroy(img);
		return;
	}
	iw = cairo_image_surface_get_width(img);
	ih = cairo_image_surface_get_height(img);
	s = iw > 0 && ih > 0 ? (w / iw < h / ih ? w / iw : h / ih) : 0;
	if (s > 0) {
		cairo_save(cr);
		cairo_translate(cr, x, y + (h - ih * s) / 2);
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

/* The middle: title, learner, course and dates. */
static void certpdf_body(cairo_t *cr, PangoContext *pc,
			 const struct certpdf_input *in,
			 const struct certpdf_words *t, const double rgb[3])
{
	double x = CERTPDF_MARGIN, w = CERTPDF_W - 2 * CERTPDF_MARGIN;
	double y = 128;
	char issued[32], expires[32], line[160];

	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	y += certpdf_text(cr, pc, t->title, CERTPDF_FONT " Bold 34", x, y, w,
			  PANGO_ALIGN_CENTER) + 18;
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	y += certpdf_text(cr, pc, t->certify, CERTPDF_FONT " 14", x, y, w,
			  PANGO_ALIGN_CENTER) + 10;
	cairo_set_source_rgb(cr, 0, 0, 0);
	y += certpdf_text(cr, pc, in->learner, CERTPDF_FONT " Bold 26", x, y, w,
			  PANGO_ALIGN_CENTER) + 10;
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	y += certpdf_text(cr, pc, t->completed, CERTPDF_FONT " 14", x, y, w,
			  PANGO_ALIGN_CENTER) + 10;
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	y += certpdf_text(cr, pc, in->course, CERTPDF_FONT " Bold 22", x, y, w,
			  PANGO_ALIGN_CENTER) + 18;
	certpdf_date(in->issued, in->language, issued, sizeof(issued));
	if (in->expires)
		certpdf_date(in->expires, in->language, expires,
			     sizeof(expires));
	snprintf(line, sizeof(line), "%s %s  ·  %s%s%s", t->issued, issued,
		 in->expires ? t->valid_until : t->no_expiry,
		 in->expires ? " " : "", in->expires ? expires : "");
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	certpdf_text(cr, pc, line, CERTPDF_FONT " 13", x, y, w,
		     PANGO_ALIGN_CENTER);
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
static int certpdf_page(cairo_t *cr, PangoContext *pc,
			const struct certpdf_input *in)
{
	const struct certpdf_words *t =
		certpdf_english(in->language) ? &certpdf_en : &certpdf_de;
	double rgb[3];

	certpdf_color(in->color, rgb);
	certpdf_frame(cr, rgb);
	certpdf_logo(cr, in, CERTPDF_MARGIN, 48, 160, 60);
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	certpdf_text(cr, pc, in->academy, CERTPDF_FONT " Bold 16",
		     CERTPDF_W / 2, 64, CERTPDF_W / 2 - CERTPDF_MARGIN,
		     PANGO_ALIGN_RIGHT);
	certpdf_body(cr, pc, in, t, rgb);
	return certpdf_foot(cr, pc, in, t);
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
