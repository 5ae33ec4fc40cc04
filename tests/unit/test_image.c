/*
 * Unit tests of workspace/image.c: a JPEG and WebPs (lossy, and lossless
 * with alpha) made here with the libraries' encoders, and a PNG made by
 * cairo, decode into surfaces of their size whose pixels have the
 * colours put in (alpha premultiplied as cairo wants it). Refused: no
 * bytes, garbage, magic bytes alone, each image cut in half, more bytes
 * than the caller allows, and a side above 4096 pixels (a real JPEG of
 * 5000 x 5000 that libturbojpeg would decode, a JPEG one pixel too wide
 * beside one that fits, and PNG and WebP headers claiming 5000 x 5000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/image.c"

#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/encode.h>

/* A picture to encode: w x h pixels of 4 bytes (R, G, B, A). */
struct picture {
	int w, h;
	uint8_t *rgba;
};

/* The left half red, the right half blue, opaque. */
static struct picture halves(int w, int h)
{
	struct picture pic = { w, h, malloc((size_t)w * h * 4) };

	assert_non_null(pic.rgba);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *px = pic.rgba + ((size_t)y * w + x) * 4;

			px[0] = x < w / 2 ? 255 : 0;
			px[1] = 0;
			px[2] = x < w / 2 ? 0 : 255;
			px[3] = 255;
		}
	return pic;
}

/* The JPEG of pic (quality 95, no chroma subsampling); tjFree() it. */
static uint8_t *jpeg_of(const struct picture *pic, size_t *n)
{
	tjhandle tj = tjInitCompress();
	unsigned char *out = NULL;
	unsigned long len = 0;

	assert_non_null(tj);
	assert_int_equal(tjCompress2(tj, pic->rgba, pic->w, pic->w * 4,
				     pic->h, TJPF_RGBA, &out, &len, TJSAMP_444,
				     95, 0), 0);
	tjDestroy(tj);
	*n = len;
	return out;
}

/* A grey JPEG of w x h, cheaper to make in large sizes; tjFree() it. */
static uint8_t *grey_jpeg(int w, int h, size_t *n)
{
	uint8_t *grey = malloc((size_t)w * h);
	tjhandle tj = tjInitCompress();
	unsigned char *out = NULL;
	unsigned long len = 0;

	assert_non_null(grey);
	assert_non_null(tj);
	memset(grey, 128, (size_t)w * h);
	assert_int_equal(tjCompress2(tj, grey, w, w, h, TJPF_GRAY, &out, &len,
				     TJSAMP_GRAY, 50, 0), 0);
	tjDestroy(tj);
	free(grey);
	*n = len;
	return out;
}

/* Bytes cairo writes, in a growing malloc'd block. */
struct blob {
	uint8_t *p;
	size_t n;
};

static cairo_status_t png_out(void *arg, const unsigned char *d,
			      unsigned int n)
{
	struct blob *b = arg;
	uint8_t *more = realloc(b->p, b->n + n);

	if (!more)
		return CAIRO_STATUS_WRITE_ERROR;
	memcpy(more + b->n, d, n);
	b->p = more;
	b->n += n;
	return CAIRO_STATUS_SUCCESS;
}

/* A PNG of w x h in one colour (0xAARRGGBB, premultiplied); free() it. */
static uint8_t *png_of(int w, int h, uint32_t argb, size_t *n)
{
	cairo_surface_t *s =
		cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
	int stride = cairo_image_surface_get_stride(s);
	struct blob b = { NULL, 0 };
	uint8_t *data;

	cairo_surface_flush(s);
	data = cairo_image_surface_get_data(s);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			memcpy(data + y * stride + x * 4, &argb, 4);
	cairo_surface_mark_dirty(s);
	assert_int_equal(cairo_surface_write_to_png_stream(s, png_out, &b),
			 CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	*n = b.n;
	return b.p;
}

/* The pixel at x, y as cairo keeps it: 0xAARRGGBB, premultiplied. */
static uint32_t pixel(cairo_surface_t *img, int x, int y)
{
	const uint8_t *row = cairo_image_surface_get_data(img) +
			     (size_t)y * cairo_image_surface_get_stride(img);

	return ((const uint32_t *)(const void *)row)[x];
}

/* Each of R, G and B of the pixel within 24 of rgb (lossy codecs). */
static void assert_near(cairo_surface_t *img, int x, int y, uint32_t rgb)
{
	uint32_t v = pixel(img, x, y);

	for (int shift = 0; shift < 24; shift += 8) {
		int got = v >> shift & 0xff, want = rgb >> shift & 0xff;

		if (abs(got - want) > 24)
			fail_msg("pixel %d,%d is %06x, want about %06x", x, y,
				 v & 0xffffff, rgb);
	}
}

static void assert_halves(cairo_surface_t *img, int w, int h)
{
	assert_non_null(img);
	assert_int_equal(cairo_image_surface_get_width(img), w);
	assert_int_equal(cairo_image_surface_get_height(img), h);
	assert_int_equal(cairo_image_surface_get_format(img),
			 CAIRO_FORMAT_RGB24);
	assert_near(img, 2, 2, 0xff0000);
	assert_near(img, w / 2 - 3, h - 1, 0xff0000);
	assert_near(img, w / 2 + 3, 0, 0x0000ff);
	assert_near(img, w - 1, h - 1, 0x0000ff);
}

static void test_jpeg(void **state)
{
	struct picture pic = halves(40, 24);
	cairo_surface_t *img;
	uint8_t *jpeg;
	size_t n;
	int w, h;

	(void)state;
	jpeg = jpeg_of(&pic, &n);
	assert_int_equal(image_type(jpeg, n), IMAGE_JPEG);
	assert_int_equal(image_size(jpeg, n, &w, &h), 0);
	assert_int_equal(w, 40);
	assert_int_equal(h, 24);
	img = image_decode(jpeg, n, n);
	assert_halves(img, 40, 24);
	cairo_surface_destroy(img);
	/* one byte more than the caller allows */
	assert_null(image_decode(jpeg, n, n - 1));
	tjFree(jpeg);
	free(pic.rgba);
}

static void test_webp_lossy(void **state)
{
	struct picture pic = halves(40, 24);
	uint8_t *rgb = malloc(40 * 24 * 3), *webp = NULL;
	cairo_surface_t *img;
	size_t n;

	(void)state;
	assert_non_null(rgb);
	for (int i = 0; i < 40 * 24; i++)
		memcpy(rgb + i * 3, pic.rgba + i * 4, 3);
	n = WebPEncodeRGB(rgb, 40, 24, 40 * 3, 90, &webp);
	assert_true(n > 0);
	assert_int_equal(image_type(webp, n), IMAGE_WEBP);
	img = image_decode(webp, n, n);
	assert_halves(img, 40, 24);
	cairo_surface_destroy(img);
	WebPFree(webp);
	free(rgb);
	free(pic.rgba);
}

/* Lossless with alpha: the colours exact, premultiplied. */
static void test_webp_alpha(void **state)
{
	static const uint8_t rgba[] = {
		0, 255, 0, 255,		255, 0, 0, 128,
		0, 0, 255, 0,		255, 255, 255, 255,
		0, 0, 255, 51,		255, 0, 255, 255,
	};
	cairo_surface_t *img;
	uint8_t *webp = NULL;
	size_t n;

	(void)state;
	n = WebPEncodeLosslessRGBA(rgba, 2, 3, 2 * 4, &webp);
	assert_true(n > 0);
	img = image_decode(webp, n, n);
	assert_non_null(img);
	assert_int_equal(cairo_image_surface_get_format(img),
			 CAIRO_FORMAT_ARGB32);
	assert_int_equal(cairo_image_surface_get_width(img), 2);
	assert_int_equal(cairo_image_surface_get_height(img), 3);
	assert_int_equal(pixel(img, 0, 0), 0xff00ff00);
	assert_int_equal(pixel(img, 1, 0), 0x80800000);
	assert_int_equal(pixel(img, 0, 1), 0x00000000);
	assert_int_equal(pixel(img, 1, 1), 0xffffffff);
	assert_int_equal(pixel(img, 0, 2), 0x33000033);
	assert_int_equal(pixel(img, 1, 2), 0xffff00ff);
	cairo_surface_destroy(img);
	WebPFree(webp);
}

static void test_png(void **state)
{
	cairo_surface_t *img;
	uint8_t *png;
	size_t n;

	(void)state;
	png = png_of(7, 5, 0x80800000, &n);
	assert_int_equal(image_type(png, n), IMAGE_PNG);
	img = image_decode(png, n, n);
	assert_non_null(img);
	assert_int_equal(cairo_image_surface_get_width(img), 7);
	assert_int_equal(cairo_image_surface_get_height(img), 5);
	assert_int_equal(pixel(img, 6, 4), 0x80800000);
	cairo_surface_destroy(img);
	free(png);
}

/* Each image cut in half, and bytes that are no image. */
static void test_broken(void **state)
{
	struct picture pic = halves(40, 24);
	static const uint8_t garbage[] = "GIF89a, or any other bytes at all";
	uint8_t *jpeg, *webp = NULL, *png;
	size_t nj, nw, np;
	int w, h;

	(void)state;
	jpeg = jpeg_of(&pic, &nj);
	nw = WebPEncodeLosslessRGBA(pic.rgba, 40, 24, 40 * 4, &webp);
	png = png_of(40, 24, 0xff336699, &np);
	assert_true(nw > 0);

	assert_null(image_decode(jpeg, nj / 2, nj));
	assert_null(image_decode(webp, nw / 2, nw));
	assert_null(image_decode(png, np / 2, np));
	assert_null(image_decode(NULL, 0, 100));
	assert_null(image_decode(garbage, sizeof(garbage), 100));
	assert_int_equal(image_type(garbage, sizeof(garbage)), IMAGE_NONE);
	assert_int_equal(image_size(garbage, sizeof(garbage), &w, &h), -1);
	/* the magic bytes and nothing else */
	assert_null(image_decode(jpeg, 3, 3));
	assert_null(image_decode(webp, 12, 12));
	assert_null(image_decode(png, 8, 8));
	assert_int_equal(image_size(jpeg, 3, &w, &h), -1);
	assert_int_equal(image_size(webp, 12, &w, &h), -1);
	/* a JPEG whose data after the header is overwritten */
	memset(jpeg + nj / 2, 0xa5, nj / 2 - 2);
	assert_null(image_decode(jpeg, nj, nj));

	free(png);
	WebPFree(webp);
	tjFree(jpeg);
	free(pic.rgba);
}

/* Sets the width and height in a lossless WebP's VP8L header. */
static void webp_claim(uint8_t *webp, size_t n, int w, int h)
{
	uint32_t bits;

	assert_true(n > 25);
	assert_memory_equal(webp + 12, "VP8L", 4);
	assert_int_equal(webp[20], 0x2f);
	bits = (uint32_t)webp[21] | (uint32_t)webp[22] << 8 |
	       (uint32_t)webp[23] << 16 | (uint32_t)webp[24] << 24;
	bits = (bits & 0xf0000000u) | (uint32_t)(w - 1) |
	       (uint32_t)(h - 1) << 14;
	for (int i = 0; i < 4; i++)
		webp[21 + i] = (uint8_t)(bits >> (8 * i));
}

static void test_too_large(void **state)
{
	struct picture pic = halves(8, 8);
	uint8_t *jpeg, *webp = NULL, *png;
	cairo_surface_t *img;
	size_t n;
	int w, h;

	(void)state;
	/* a real JPEG that libturbojpeg decodes: refused for its size */
	jpeg = grey_jpeg(5000, 5000, &n);
	assert_int_equal(image_size(jpeg, n, &w, &h), 0);
	assert_int_equal(w, 5000);
	assert_int_equal(h, 5000);
	assert_null(image_decode(jpeg, n, n));
	tjFree(jpeg);
	/* the limit is the side, 4096 pixels */
	jpeg = grey_jpeg(IMAGE_SIDE_MAX + 1, 1, &n);
	assert_null(image_decode(jpeg, n, n));
	tjFree(jpeg);
	jpeg = grey_jpeg(IMAGE_SIDE_MAX, 1, &n);
	img = image_decode(jpeg, n, n);
	assert_non_null(img);
	assert_int_equal(cairo_image_surface_get_width(img), IMAGE_SIDE_MAX);
	cairo_surface_destroy(img);
	tjFree(jpeg);

	/* headers claiming 5000 x 5000 */
	png = png_of(8, 8, 0xff000000, &n);
	png[18] = 0x13, png[19] = 0x88, png[22] = 0x13, png[23] = 0x88;
	assert_int_equal(image_size(png, n, &w, &h), 0);
	assert_int_equal(w, 5000);
	assert_int_equal(h, 5000);
	assert_null(image_decode(png, n, n));
	free(png);
	n = WebPEncodeLosslessRGBA(pic.rgba, 8, 8, 8 * 4, &webp);
	webp_claim(webp, n, 5000, 5000);
	assert_int_equal(image_size(webp, n, &w, &h), 0);
	assert_int_equal(w, 5000);
	assert_int_equal(h, 5000);
	assert_null(image_decode(webp, n, n));
	WebPFree(webp);
	free(pic.rgba);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jpeg),
		cmocka_unit_test(test_webp_lossy),
		cmocka_unit_test(test_webp_alpha),
		cmocka_unit_test(test_png),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
