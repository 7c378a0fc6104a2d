#ifndef MAGPIE_IMAGE_CODEC_H
#define MAGPIE_IMAGE_CODEC_H
#include <stddef.h>

/* Small C layer over libjpeg-turbo and libpng. Both libraries report fatal errors by
   longjmp (or exit() with libjpeg's default handler), which Swift cannot catch; these
   functions set up the jump targets and return 0 on success or -1 with `message` filled. */

#define MAGPIE_CODEC_MESSAGE_SIZE 200

typedef struct {
    unsigned char *pixels;   /* malloc'ed, free with magpie_codec_free */
    int width;
    int height;
    int channels;            /* 3 (RGB) or 4 (RGBA, PNG only) */
    int orientation;         /* EXIF orientation 1...8 (1 when absent) */
    int source_components;   /* components stored in the file (1 gray, 3, 4 CMYK) */
    char message[MAGPIE_CODEC_MESSAGE_SIZE];
} magpie_decoded_image;

/* Decodes a JPEG to interleaved RGB 8-bit. Gray and CMYK/YCCK are converted to RGB.
   Images over max_pixels, or too short for their declared size, are rejected from the header,
   before any scan is read. */
int magpie_decode_jpeg(const unsigned char *data, size_t size, size_t max_pixels, magpie_decoded_image *out);

/* Reads only the header: the declared size in *width/*height (when the header is readable), and
   -1 with `message` when the image is over max_pixels or the file is too short for the size it
   declares (truncated). Costs microseconds whatever the declared size. */
int magpie_probe_jpeg(const unsigned char *data, size_t size, size_t max_pixels, int *width, int *height, char *message);
int magpie_probe_png(const unsigned char *data, size_t size, size_t max_pixels, int *width, int *height, char *message);

/* Decodes a PNG to interleaved RGBA 8-bit (palette, gray, 16-bit and tRNS are expanded). */
int magpie_decode_png(const unsigned char *data, size_t size, size_t max_pixels, magpie_decoded_image *out);

/* Encodes interleaved RGB (channels 3) or gray (channels 1) 8-bit pixels as a baseline JPEG
   (progressive != 0: a progressive one). */
int magpie_encode_jpeg(const unsigned char *pixels, int width, int height, int channels, int quality, int progressive,
                       unsigned char **out_data, size_t *out_size, char *message);

void magpie_codec_free(void *pointer);

#endif
