/* ms-png.c — PNG output through libpng, with pHYs. */
#include "ms-png.h"
#include "ms-figure-error.h"

#include <math.h>
#include <png.h>
#include <stdint.h>

typedef struct {
  char message[256];
} PngFailure;

static void
on_png_error (png_structp png, png_const_charp message)
{
  PngFailure *failure = png_get_error_ptr (png);
  g_strlcpy (failure->message, message, sizeof failure->message);
  png_longjmp (png, 1);
}

static void
on_png_warning (png_structp png, png_const_charp message)
{
}

static gboolean
is_opaque (const unsigned char *data, int width, int height, int stride)
{
  for (int y = 0; y < height; y++)
    {
      const uint32_t *row = (const uint32_t *) (data + (size_t) y * stride);
      for (int x = 0; x < width; x++)
        if ((row[x] >> 24) != 0xff)
          return FALSE;
    }
  return TRUE;
}

/* One row of cairo pixels (native-endian premultiplied 0xAARRGGBB) as PNG
 * bytes, RGB or straight RGBA. */
static void
convert_row (const uint32_t *src, int width, gboolean opaque, uint8_t *dst)
{
  for (int x = 0; x < width; x++)
    {
      uint32_t p = src[x];
      unsigned a = p >> 24, r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
      if (opaque)
        {
          *dst++ = r, *dst++ = g, *dst++ = b;
          continue;
        }
      if (a != 0 && a != 255)
        {
          r = (r * 255 + a / 2) / a;
          g = (g * 255 + a / 2) / a;
          b = (b * 255 + a / 2) / a;
        }
      *dst++ = r, *dst++ = g, *dst++ = b, *dst++ = a;
    }
}

gboolean
ms_png_write (FILE *fp, cairo_surface_t *image, double dpi, const char *label, GError **error)
{
  g_return_val_if_fail (cairo_image_surface_get_format (image) == CAIRO_FORMAT_ARGB32, FALSE);
  cairo_surface_flush (image);
  const unsigned char *data = cairo_image_surface_get_data (image);
  int width = cairo_image_surface_get_width (image), height = cairo_image_surface_get_height (image);
  int stride = cairo_image_surface_get_stride (image);
  gboolean opaque = is_opaque (data, width, height, stride);

  PngFailure failure = { "out of memory" };
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &failure, on_png_error, on_png_warning);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  uint8_t *row = g_malloc ((size_t) width * 4);
  if (info == NULL || setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      g_free (row);
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_IO, "cannot write figure '%s': PNG encoder: %s",
                   label, failure.message);
      return FALSE;
    }

  png_init_io (png, fp);
  png_set_IHDR (png, info, width, height, 8, opaque ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_uint_32 per_metre = (png_uint_32) lround (dpi / 0.0254);
  png_set_pHYs (png, info, per_metre, per_metre, PNG_RESOLUTION_METER);
  png_text software = { .compression = PNG_TEXT_COMPRESSION_NONE, .key = "Software", .text = "Memscope" };
  png_set_text (png, info, &software, 1);
  png_write_info (png, info);
  for (int y = 0; y < height; y++)
    {
      convert_row ((const uint32_t *) (data + (size_t) y * stride), width, opaque, row);
      png_write_row (png, row);
    }
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  g_free (row);
  return TRUE;
}
