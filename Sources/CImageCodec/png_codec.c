#include "image_codec.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
} magpie_png_source;

static void magpie_png_read(png_structp png, png_bytep target, png_size_t length) {
    magpie_png_source *src = (magpie_png_source *)png_get_io_ptr(png);
    if (length > src->size - src->offset) png_error(png, "file is truncated");
    memcpy(target, src->data + src->offset, length);
    src->offset += length;
}

/* libpng's default error handler aborts when no jump buffer is set; ours records and jumps. */
static void magpie_png_error(png_structp png, png_const_charp text) {
    char *message = (char *)png_get_error_ptr(png);
    snprintf(message, MAGPIE_CODEC_MESSAGE_SIZE, "%s", text);
    png_longjmp(png, 1);
}

static void magpie_png_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

/* Refuses a header over max_pixels, and a file too short for its declared size: deflate
   expands at most about 1032:1, so fewer compressed bytes than the raw rows / 1032 means the
   file is truncated. */
static int magpie_png_header_check(png_structp png, png_infop info, size_t size, size_t max_pixels, char *message) {
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if ((size_t)width * (size_t)height > max_pixels) {
        snprintf(message, MAGPIE_CODEC_MESSAGE_SIZE, "image is %ux%u, over the limit of %zu pixels",
                 (unsigned)width, (unsigned)height, max_pixels);
        return -1;
    }
    size_t raw = (size_t)height * (1 + png_get_rowbytes(png, info));
    if (size < raw / 1032) {
        snprintf(message, MAGPIE_CODEC_MESSAGE_SIZE,
                 "the file is truncated: %zu bytes cannot hold the %ux%u pixels its header declares", size, (unsigned)width, (unsigned)height);
        return -1;
    }
    return 0;
}

int magpie_probe_png(const unsigned char *data, size_t size, size_t max_pixels, int *width, int *height, char *message) {
    *width = 0;
    *height = 0;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(message, MAGPIE_CODEC_MESSAGE_SIZE, "not a PNG file (bad signature)");
        return -1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, message, magpie_png_error, magpie_png_warning);
    if (!png) { snprintf(message, MAGPIE_CODEC_MESSAGE_SIZE, "out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(message, MAGPIE_CODEC_MESSAGE_SIZE, "out of memory");
        return -1;
    }
    magpie_png_source src = { data, size, 0 };
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &src, magpie_png_read);
    png_set_user_limits(png, 1000000, 1000000);
    png_read_info(png, info);
    *width = (int)png_get_image_width(png, info);
    *height = (int)png_get_image_height(png, info);
    int status = magpie_png_header_check(png, info, size, max_pixels, message);
    png_destroy_read_struct(&png, &info, NULL);
    return status;
}

int magpie_decode_png(const unsigned char *data, size_t size, size_t max_pixels, magpie_decoded_image *out) {
    memset(out, 0, sizeof(*out));
    out->orientation = 1;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(out->message, MAGPIE_CODEC_MESSAGE_SIZE, "not a PNG file (bad signature)");
        return -1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, out->message, magpie_png_error, magpie_png_warning);
    if (!png) { snprintf(out->message, MAGPIE_CODEC_MESSAGE_SIZE, "out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(out->message, MAGPIE_CODEC_MESSAGE_SIZE, "out of memory");
        return -1;
    }
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    magpie_png_source src = { data, size, 0 };
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        return -1;
    }
    png_set_read_fn(png, &src, magpie_png_read);
    png_set_user_limits(png, 1000000, 1000000);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    out->source_components = png_get_channels(png, info);
    if (magpie_png_header_check(png, info, size, max_pixels, out->message) != 0) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    /* Everything to 8-bit RGBA: palette and low-bit gray expand, tRNS becomes alpha,
       16-bit keeps its high byte, gray is replicated, a missing alpha is filled with 255. */
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_filler(png, 0xFF, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 4) png_error(png, "unexpected row layout after conversion");

    pixels = malloc((size_t)width * height * 4);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * width * 4;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->pixels = pixels;
    out->width = (int)width;
    out->height = (int)height;
    out->channels = 4;
    return 0;
}
