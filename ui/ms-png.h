/* ms-png.h — writing an image surface as PNG with its resolution (libpng).
 * cairo's own PNG writer records no DPI; papers' build tools read pHYs. */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

/* Writes @image (CAIRO_FORMAT_ARGB32, premultiplied) to @fp as an 8-bit PNG
 * — RGB when every pixel is opaque, else straight (un-premultiplied) RGBA —
 * with a pHYs chunk of @dpi.  @label names the file in messages.  Returns
 * FALSE with MS_FIGURE_ERROR_IO on a libpng or write error; @fp is left
 * open either way. */
gboolean ms_png_write (FILE *fp, cairo_surface_t *image, double dpi, const char *label, GError **error);

G_END_DECLS
