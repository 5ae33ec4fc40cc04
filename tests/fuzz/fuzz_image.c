/*
 * libFuzzer target for the pictures a tenant uploads and certificates
 * draw (workspace/image.c): PNG, JPEG and WebP bytes handed to
 * image_decode() in a buffer of exactly their length, so that a read
 * past the end is caught by the sanitizer. What must hold besides: a
 * decoded image has the size its header claims, no side above
 * IMAGE_SIDE_MAX, and, when it has alpha, no colour above its alpha
 * (premultiplied, as cairo draws it). A JPEG or WebP is 32 bits a
 * pixel (a PNG too with the cairo of Debian 12; later ones read 16-bit
 * PNGs into float formats, which are not looked into here).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../workspace/image.c"

static void fuzz_check_pixels(cairo_surface_t *img)
{
	const uint8_t *row = cairo_image_surface_get_data(img);
	int stride = cairo_image_surface_get_stride(img);
	int w = cairo_image_surface_get_width(img);
	int h = cairo_image_surface_get_height(img);
	int alpha = cairo_image_surface_get_format(img) ==
		    CAIRO_FORMAT_ARGB32;

	if (stride < w * 4)
		abort();
	for (int y = 0; y < h; y++, row += stride)
		for (int x = 0; x < w; x++) {
			uint32_t v;
			uint32_t a;

			memcpy(&v, row + x * 4, 4);
			a = v >> 24;
			if (alpha && ((v >> 16 & 0xff) > a ||
				      (v >> 8 & 0xff) > a || (v & 0xff) > a))
				abort();
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	cairo_surface_t *img;
	int w, h;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	img = image_decode(copy, size, size);
	if (img) {
		cairo_format_t f = cairo_image_surface_get_format(img);

		if (image_size(copy, size, &w, &h) ||
		    w != cairo_image_surface_get_width(img) ||
		    h != cairo_image_surface_get_height(img) ||
		    w > IMAGE_SIDE_MAX || h > IMAGE_SIDE_MAX)
			abort();
		if (f == CAIRO_FORMAT_ARGB32 || f == CAIRO_FORMAT_RGB24)
			fuzz_check_pixels(img);
		else if (image_type(copy, size) != IMAGE_PNG)
			abort();
		cairo_surface_destroy(img);
	}
	free(copy);
	return 0;
}
