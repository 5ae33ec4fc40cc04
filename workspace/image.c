/*
 * Decoding pictures into cairo image surfaces (workspace/image.h): PNG
 * through cairo's own reader fed from memory, JPEG through libturbojpeg
 * and WebP through libwebp, each decoding straight into the surface's
 * pixels. A cairo pixel is a native-endian 32-bit word 0xAARRGGBB (the
 * bytes B, G, R, A on a little-endian machine), its colour premultiplied
 * by its alpha; rows are cairo's stride apart, not 4 * width.
 */
#include "workspace/image.h"

#include <string.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define IMAGE_TJPF TJPF_XRGB
#define IMAGE_WEBP_INTO WebPDecodeARGBInto
#else
#define IMAGE_TJPF TJPF_BGRX
#define IMAGE_WEBP_INTO WebPDecodeBGRAInto
#endif

/* stop at a libjpeg warning (a cut-off file) and at a progressive
 * JPEG of absurdly many scans, which would cost time but no memory */
#define IMAGE_TJFLAGS (TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)

enum image_type image_type(const uint8_t *p, size_t n)
{
	if (!p)
		return IMAGE_NONE;
	if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return IMAGE_PNG;
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return IMAGE_JPEG;
	if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return IMAGE_WEBP;
	return IMAGE_NONE;
}

static int image_side_ok(int width, int height)
{
	return width > 0 && height > 0 && width <= IMAGE_SIDE_MAX &&
	       height <= IMAGE_SIDE_MAX;
}

/* An empty surface of width x height, or NULL. */
static cairo_surface_t *image_surface(cairo_format_t format, int width,
				      int height)
{
	cairo_surface_t *s = cairo_image_surface_create(format, width, height);

	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return NULL;
	}
	cairo_surface_flush(s);
	return s;
}

/* ---- PNG ---- */

/* The bytes cairo's PNG reader has not read yet. */
struct image_mem {
	const uint8_t *p;
	size_t left;
};

static cairo_status_t image_read(void *arg, unsigned char *data,
				 unsigned int len)
{
	struct image_mem *m = arg;

	if (len > m->left)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, m->p, len);
	m->p += len;
	m->left -= len;
	return CAIRO_STATUS_SUCCESS;
}

/* The width and height in the IHDR chunk, which must come first. */
static int image_png_size(const uint8_t *p, size_t n, int *width,
			  int *height)
{
	uint32_t w, h;

	if (n < 24 || memcmp(p + 12, "IHDR", 4))
		return -1;
	w = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 |
	    (uint32_t)p[18] << 8 | p[19];
	h = (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 |
	    (uint32_t)p[22] << 8 | p[23];
	/* PNG allows up to 2^31 - 1; anything larger is no PNG */
	if (w > INT32_MAX || h > INT32_MAX)
		return -1;
	*width = (int)w;
	*height = (int)h;
	return 0;
}

static cairo_surface_t *image_png(const uint8_t *p, size_t n)
{
	struct image_mem m = { p, n };
	cairo_surface_t *img;
	int w, h;

	if (image_png_size(p, n, &w, &h) || !image_side_ok(w, h))
		return NULL;
	img = cairo_image_surface_create_from_png_stream(image_read, &m);
	if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(img);
		return NULL;
	}
	return img;
}

/* ---- JPEG ---- */

/* The size in the frame header; libturbojpeg reports 0 x 0 for a
 * JPEG of tables alone (or of nothing after the magic bytes). */
static int image_jpeg_size(tjhandle tj, const uint8_t *p, size_t n,
			   int *width, int *height)
{
	int subsamp, colorspace;

	/* a header cut short can "succeed" without setting them */
	*width = *height = 0;
	if (tjDecompressHeader3(tj, p, (unsigned long)n, width, height,
				&subsamp, &colorspace))
		return -1;
	return *width > 0 && *height > 0 ? 0 : -1;
}

static cairo_surface_t *image_jpeg(const uint8_t *p, size_t n)
{
	tjhandle tj = tjInitDecompress();
	cairo_surface_t *img = NULL;
	int w, h;

	if (!tj)
		return NULL;
	if (image_jpeg_size(tj, p, n, &w, &h) || !image_side_ok(w, h))
		goto done;
	if (!(img = image_surface(CAIRO_FORMAT_RGB24, w, h)))
		goto done;

	if (tjDecompress2(tj, p, (unsigned long)n,
			  cairo_image_surface_get_data(img), w,
			  cairo_image_surface_get_stride(img), h, IMAGE_TJPF,
			  IMAGE_TJFLAGS)) {
		cairo_surface_destroy(img);
		img = NULL;
		goto done;
	}
	cairo_surface_mark_dirty(img);
done:
	tjDestroy(tj);
	return img;
}

/* ---- WebP ---- */

/* Multiplies each pixel's colour by its alpha, as cairo keeps it. */
static void image_premultiply(cairo_surface_t *img)
{
	unsigned char *row = cairo_image_surface_get_data(img);
	int stride = cairo_image_surface_get_stride(img);
	int w = cairo_image_surface_get_width(img);
	int h = cairo_image_surface_get_height(img);

	for (int y = 0; y < h; y++, row += stride) {
		uint32_t *px = (uint32_t *)(void *)row;

		for (int x = 0; x < w; x++) {
			uint32_t v = px[x], a = v >> 24;
			uint32_t r = (v >> 16 & 0xff) * a + 128;
			uint32_t g = (v >> 8 & 0xff) * a + 128;
			uint32_t b = (v & 0xff) * a + 128;

			if (a == 255)
				continue;
			/* c * a / 255 rounded, without a division */
			r = (r + (r >> 8)) >> 8;
			g = (g + (g >> 8)) >> 8;
			b = (b + (b >> 8)) >> 8;
			px[x] = a << 24 | r << 16 | g << 8 | b;
		}
	}
}

static cairo_surface_t *image_webp(const uint8_t *p, size_t n)
{
	WebPBitstreamFeatures f;
	cairo_surface_t *img;
	size_t stride;

	if (WebPGetFeatures(p, n, &f) != VP8_STATUS_OK ||
	    !image_side_ok(f.width, f.height))
		return NULL;
	img = image_surface(f.has_alpha ? CAIRO_FORMAT_ARGB32 :
					  CAIRO_FORMAT_RGB24,
			    f.width, f.height);
	if (!img)
		return NULL;

	stride = (size_t)cairo_image_surface_get_stride(img);
	if (!IMAGE_WEBP_INTO(p, n, cairo_image_surface_get_data(img),
			     stride * (size_t)f.height, (int)stride)) {
		cairo_surface_destroy(img);
		return NULL;
	}
	if (f.has_alpha)
		image_premultiply(img);
	cairo_surface_mark_dirty(img);
	return img;
}

/* ---- any type ---- */

int image_size(const uint8_t *p, size_t n, int *width, int *height)
{
	tjhandle tj;
	int rc;

	switch (image_type(p, n)) {
	case IMAGE_PNG:
		return image_png_size(p, n, width, height);
	case IMAGE_JPEG:
		if (!(tj = tjInitDecompress()))
			return -1;
		rc = image_jpeg_size(tj, p, n, width, height);
		tjDestroy(tj);
		return rc;
	case IMAGE_WEBP:
		return WebPGetInfo(p, n, width, height) ? 0 : -1;
	default:
		return -1;
	}
}

cairo_surface_t *image_decode(const uint8_t *p, size_t n, size_t max_bytes)
{
	if (!p || n > max_bytes)
		return NULL;
	switch (image_type(p, n)) {
	case IMAGE_PNG: return image_png(p, n);
	case IMAGE_JPEG: return image_jpeg(p, n);
	case IMAGE_WEBP: return image_webp(p, n);
	default: return NULL;
	}
}
