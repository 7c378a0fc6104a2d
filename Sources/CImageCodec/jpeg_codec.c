#include "image_codec.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

/* libjpeg's default error_exit calls exit(); ours formats the message and jumps back. */
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
} magpie_jpeg_error;

static void magpie_jpeg_error_exit(j_common_ptr cinfo) {
    magpie_jpeg_error *err = (magpie_jpeg_error *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    snprintf(err->message, MAGPIE_CODEC_MESSAGE_SIZE, "%s", buffer);
    longjmp(err->jump, 1);
}

/* Warnings are tolerated (PIL does too), except a truncated stream: libjpeg would pad it
   with grey, PIL raises "image file is truncated". */
static void magpie_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) magpie_jpeg_error_exit(cinfo);
}

static unsigned read16(const unsigned char *p, int little) {
    return little ? (unsigned)(p[0] | (p[1] << 8)) : (unsigned)((p[0] << 8) | p[1]);
}

static unsigned long read32(const unsigned char *p, int little) {
    return little ? ((unsigned long)p[0] | ((unsigned long)p[1] << 8) | ((unsigned long)p[2] << 16) | ((unsigned long)p[3] << 24))
                  : (((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | (unsigned long)p[3]);
}

/* EXIF orientation tag (0x0112) from an APP1 "Exif\0\0" TIFF block; 1 when absent or malformed. */
static int exif_orientation(const unsigned char *data, unsigned length) {
    if (length < 14 || memcmp(data, "Exif\0\0", 6) != 0) return 1;
    const unsigned char *tiff = data + 6;
    unsigned long size = length - 6;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    unsigned long ifd = read32(tiff + 4, little);
    if (ifd + 2 > size) return 1;
    unsigned count = read16(tiff + ifd, little);
    for (unsigned i = 0; i < count; i++) {
        unsigned long entry = ifd + 2 + 12UL * i;
        if (entry + 12 > size) return 1;
        if (read16(tiff + entry, little) == 0x0112) {
            unsigned value = read16(tiff + entry + 8, little);
            return (value >= 1 && value <= 8) ? (int)value : 1;
        }
    }
    return 1;
}

/* Refuses a header whose pixel count is over max_pixels, and a Huffman-coded file too short for
   its declared size: every 8x8 block of every component costs at least one bit, so a shorter
   file is truncated, and libjpeg would decode the missing part as grey at full cost.
   (Arithmetic-coded files can compress flat areas below that bound and are not checked.) */
static int magpie_jpeg_header_check(j_decompress_ptr cinfo, size_t size, size_t max_pixels, char *message) {
    size_t width = cinfo->image_width, height = cinfo->image_height;
    if (width == 0 || height == 0 || width * height > max_pixels) {
        snprintf(message, MAGPIE_CODEC_MESSAGE_SIZE, "image is %zux%zu, over the limit of %zu pixels",
                 width, height, max_pixels);
        return -1;
    }
    if (!cinfo->arith_code) {
        size_t blocks = 0;
        for (int i = 0; i < cinfo->num_components; i++)
            blocks += (size_t)cinfo->comp_info[i].width_in_blocks * (size_t)cinfo->comp_info[i].height_in_blocks;
        if (size * 8 < blocks) {
            snprintf(message, MAGPIE_CODEC_MESSAGE_SIZE,
                     "the file is truncated: %zu bytes cannot hold the %zux%zu pixels its header declares", size, width, height);
            return -1;
        }
    }
    return 0;
}

int magpie_probe_jpeg(const unsigned char *data, size_t size, size_t max_pixels, int *width, int *height, char *message) {
    struct jpeg_decompress_struct cinfo;
    magpie_jpeg_error err;
    *width = 0;
    *height = 0;
    err.message = message;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = magpie_jpeg_error_exit;
    err.base.emit_message = magpie_jpeg_emit_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    *width = (int)cinfo.image_width;
    *height = (int)cinfo.image_height;
    int status = magpie_jpeg_header_check(&cinfo, size, max_pixels, message);
    jpeg_destroy_decompress(&cinfo);
    return status;
}

int magpie_decode_jpeg(const unsigned char *data, size_t size, size_t max_pixels, magpie_decoded_image *out) {
    struct jpeg_decompress_struct cinfo;
    magpie_jpeg_error err;
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile cmyk_row = NULL;
    memset(out, 0, sizeof(*out));
    out->orientation = 1;
    err.message = out->message;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = magpie_jpeg_error_exit;
    err.base.emit_message = magpie_jpeg_emit_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(cmyk_row);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    if (size > (size_t)(unsigned long)-1) { snprintf(out->message, MAGPIE_CODEC_MESSAGE_SIZE, "file too large"); jpeg_destroy_decompress(&cinfo); return -1; }
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    /* Checked from the header, before jpeg_start_decompress: for a progressive file that call
       already reads every scan into memory sized by the declared dimensions. */
    if (magpie_jpeg_header_check(&cinfo, size, max_pixels, out->message) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }

    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1) {
            int o = exif_orientation(m->data, m->data_length);
            if (o != 1 || out->orientation == 1) out->orientation = o;
            if (o != 1) break;
        }
    }
    out->source_components = cinfo.num_components;
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);

    size_t width = cinfo.output_width, height = cinfo.output_height;
    pixels = malloc(width * height * 3);
    if (cmyk) cmyk_row = malloc(width * 4);
    if (!pixels || (cmyk && !cmyk_row)) {
        snprintf(out->message, MAGPIE_CODEC_MESSAGE_SIZE, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        free(pixels); free(cmyk_row);
        return -1;
    }
    /* Adobe writes CMYK inverted (255 = no ink); PIL reads it as "CMYK;I" and converts with
       r = 255 - c, scaled by (255 - k), which is what these two formulas reproduce. */
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *row = pixels + (size_t)cinfo.output_scanline * width * 3;
        if (!cmyk) {
            JSAMPROW rows[1] = { row };
            jpeg_read_scanlines(&cinfo, rows, 1);
        } else {
            JSAMPROW rows[1] = { cmyk_row };
            jpeg_read_scanlines(&cinfo, rows, 1);
            for (size_t x = 0; x < width; x++) {
                unsigned c[4];
                for (int i = 0; i < 4; i++) c[i] = inverted ? cmyk_row[4 * x + i] : 255u - cmyk_row[4 * x + i];
                /* c[] now holds (255 - ink); rgb = (255 - ink) * (255 - black) / 255 */
                for (int i = 0; i < 3; i++) {
                    unsigned t = c[i] * c[3] + 128;
                    row[3 * x + i] = (unsigned char)((t + (t >> 8)) >> 8);
                }
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(cmyk_row);
    out->pixels = pixels;
    out->width = (int)width;
    out->height = (int)height;
    out->channels = 3;
    return 0;
}

int magpie_encode_jpeg(const unsigned char *pixels, int width, int height, int channels, int quality, int progressive,
                       unsigned char **out_data, size_t *out_size, char *message) {
    struct jpeg_compress_struct cinfo;
    magpie_jpeg_error err;
    unsigned char *volatile buffer = NULL;
    unsigned long volatile buffer_size = 0;
    *out_data = NULL;
    *out_size = 0;
    err.message = message;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = magpie_jpeg_error_exit;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, (unsigned long *)&buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = { (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * (size_t)width * (size_t)channels) };
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out_data = buffer;
    *out_size = buffer_size;
    return 0;
}

void magpie_codec_free(void *pointer) { free(pointer); }
