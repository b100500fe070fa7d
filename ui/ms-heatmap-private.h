/* ms-heatmap-private.h — what the comparison figure (ms-compare.c) and the
 * tests share with ms-heatmap.c.  Not part of the public API. */
#pragma once

#include "ms-heatmap.h"

G_BEGIN_DECLS

/* The image of @values (rows, cols) under @cmap over [@vmin, @vmax] to
 * paint into @plot on @cr (CAIRO_FORMAT_RGB24, pixel (c, r) = cell (r, c),
 * NaN cells MS_COLORMAP_NO_DATA), kept in *@image: a kept image of the
 * right size is returned as it is, else it is replaced.  Set *@image to
 * NULL when the values, colormap or range change.  On an image surface,
 * or one marked by ms_heatmap_mark_raster_target, the image has at most one
 * pixel per device pixel of @plot, each showing the cell nearest filtering
 * would show (a zoomed window of 6,667 segments on a 1,100-pixel plot
 * colours 1,100 columns); vector surfaces get every cell, so they stay
 * crisp when scaled. */
cairo_surface_t *ms_heatmap_cell_image (cairo_surface_t **image, cairo_t *cr, const MsRect *plot,
                                        const float *values, int rows, int cols, MsColormap cmap,
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
