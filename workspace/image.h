/*
 * Pictures a tenant uploads (the logo, the signature on certificates)
 * turned into cairo image surfaces, so that the certificate's PDF can
 * draw them (workspace/certpdf.c). The type is told by the magic bytes:
 * PNG (read by cairo), JPEG (libturbojpeg) and WebP (libwebp). Each
 * decoder is a library, none is written here.
 *
 * Limits hold before any pixel is decoded: at most a given number of
 * bytes and IMAGE_SIDE_MAX pixels wide and high, as the image's header
 * claims; a picture cannot make the decoder allocate more than
 * IMAGE_SIDE_MAX squared times 4 bytes.
 *
 * Nothing here logs or touches shared state: the functions run on the
 * thread pool, and the caller decides what a picture that does not
 * decode means.
 */
#ifndef LMS_WORKSPACE_IMAGE_H
#define LMS_WORKSPACE_IMAGE_H

#include <cairo.h>
#include <stddef.h>
#include <stdint.h>

#define IMAGE_SIDE_MAX 4096 /* pixels of an image's width or height */

/* The types of image told apart by their first bytes. */
enum image_type {
	IMAGE_NONE,	/* none of the others */
	IMAGE_PNG,	/* 89 'P' 'N' 'G' 0D 0A 1A 0A */
	IMAGE_JPEG,	/* FF D8 FF */
	IMAGE_WEBP,	/* "RIFF", 4 bytes of size, "WEBP" */
};

/* The type of the n bytes at p (NULL: IMAGE_NONE), by magic bytes
 * alone: the rest may still be broken. */
enum image_type image_type(const uint8_t *p, size_t n);

/* The width and height the header of the image at p (n bytes) claims,
 * read without decoding a pixel: 0, or -1 when the type is unknown or
 * the header broken. The sides may be 0 or above IMAGE_SIDE_MAX. */
int image_size(const uint8_t *p, size_t n, int *width, int *height);

/* The image at p (n bytes) decoded into a new surface, or NULL when p
 * is NULL, n is above max_bytes, the type is unknown, a side is 0 or
 * above IMAGE_SIDE_MAX, or the data is broken or cut off (also when the
 * decoder only warned). The limits are checked before decoding. An
 * image with alpha is CAIRO_FORMAT_ARGB32 (premultiplied, as cairo
 * wants it), an opaque JPEG or WebP CAIRO_FORMAT_RGB24. The caller
 * frees it with cairo_surface_destroy(). */
cairo_surface_t *image_decode(const uint8_t *p, size_t n, size_t max_bytes);

#endif
