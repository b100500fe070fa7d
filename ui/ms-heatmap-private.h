/* ms-heatmap-private.h — what the comparison figure (ms-compare.c) and the
 * tests share with ms-heatmap.c.  Not part of the public API. */
#pragma once

#include "ms-heatmap.h"

G_BEGIN_DECLS

/* Returns an owned CAIRO_FORMAT_RGB24 image (cols × rows pixels, pixel
 * (c, r) = cell (r, c)) of @values (rows, cols) under @cmap over [@vmin,
 * @vmax]; NaN cells are MS_COLORMAP_NO_DATA. */
cairo_surface_t *ms_heatmap_image_new (const float *values, int rows, int cols, MsColormap cmap,
                                       double vmin, double vmax);

/* Paints @image (cols × rows) to tile @plot exactly, nearest-filtered, row
 * 0 at the top if @top_down, else at the bottom. */
void ms_heatmap_paint_image (cairo_t *cr, cairo_surface_t *image, gboolean top_down, const MsRect *plot);

/* Fills @spec with @hm's axes (strings borrowed from @hm). */
void ms_heatmap_get_axes_spec (const MsHeatmap *hm, MsAxesSpec *spec);

gboolean ms_heatmap_get_top_down (const MsHeatmap *hm);

/* The cached cell image as the last draw left it, NULL before the first
 * draw or after a change; borrowed.  Tests use it to see when drawing
 * colours cells. */
cairo_surface_t *ms_heatmap_peek_image (const MsHeatmap *hm);

G_END_DECLS
