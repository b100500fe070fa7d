/* render-test-util.c — see render-test-util.h. */
#include "render-test-util.h"

#include <glib.h>
#include <math.h>

/* A context scaled like ms_figure_render_image() scales its image, for
 * asking a figure where it will draw. */
cairo_t *
layout_context (double width_in, double height_in, double dpi)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (s);
  cairo_surface_destroy (s);
  cairo_scale (cr, lround (width_in * dpi) / (width_in * 72), lround (height_in * dpi) / (height_in * 72));
  return cr;
}

double
px_per_pt (double width_in, double dpi)
{
  return lround (width_in * dpi) / (width_in * 72);
}

cairo_surface_t *
render (MsFigureDrawFunc draw, gpointer data, double width_in, double height_in, double dpi)
{
  g_autoptr (GError) error = NULL;
  cairo_surface_t *image = ms_figure_render_image (width_in, height_in, dpi, draw, data, &error);
  g_assert_no_error (error);
  g_assert_nonnull (image);
  cairo_surface_flush (image);
  return image;
}

uint32_t
pixel_at (cairo_surface_t *image, double x, double y)
{
  int ix = (int) floor (x), iy = (int) floor (y);
  g_assert_cmpint (ix, >=, 0);
  g_assert_cmpint (iy, >=, 0);
  g_assert_cmpint (ix, <, cairo_image_surface_get_width (image));
  g_assert_cmpint (iy, <, cairo_image_surface_get_height (image));
  const unsigned char *data = cairo_image_surface_get_data (image);
  return ((const uint32_t *) (data + (size_t) iy * cairo_image_surface_get_stride (image)))[ix];
}

int
channel_distance (uint32_t a, uint32_t b)
{
  int d = 0;
  for (int shift = 0; shift <= 16; shift += 8)
    d = MAX (d, abs ((int) ((a >> shift) & 0xff) - (int) ((b >> shift) & 0xff)));
  return d;
}

void
assert_pixel (cairo_surface_t *image, double x, double y, MsRgb want, int tolerance)
{
  uint32_t got = pixel_at (image, x, y), expected = ms_rgb_to_pixel (want);
  if (channel_distance (got, expected) > tolerance)
    g_error ("pixel (%.1f, %.1f) is #%06x, expected #%06x (+-%d)", x, y, got & 0xffffff, expected & 0xffffff,
             tolerance);
}

void
assert_rgb_near (MsRgb got, double r, double g, double b, double tolerance)
{
  g_assert_cmpfloat_with_epsilon (got.r, r, tolerance);
  g_assert_cmpfloat_with_epsilon (got.g, g, tolerance);
  g_assert_cmpfloat_with_epsilon (got.b, b, tolerance);
}

/* Every pixel of the outermost @margin rows and columns is white: nothing
 * the figure draws was cut off at the edge. */
void
assert_white_border (cairo_surface_t *image, int margin)
{
  int w = cairo_image_surface_get_width (image), h = cairo_image_surface_get_height (image);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if ((x < margin || y < margin || x >= w - margin || y >= h - margin)
          && (pixel_at (image, x, y) & 0xffffff) != 0xffffff)
        g_error ("pixel (%d, %d) at the edge of a %d x %d figure is #%06x: something is clipped", x, y, w, h,
                 pixel_at (image, x, y) & 0xffffff);
}

MsRect
to_pixels (MsRect r, double scale)
{
  return (MsRect) { r.x * scale, r.y * scale, r.width * scale, r.height * scale };
}

