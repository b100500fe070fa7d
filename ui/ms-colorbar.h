/* ms-colorbar.h — the colour scale beside a heatmap.
 *
 * A colorbar is a vertical strip painted with its colormap from vmin at the
 * bottom to vmax at the top (as one nearest-filtered image, like the
 * heatmap), with nice ticks and tick labels to its right and its label,
 * vertical, beyond them.  It names the quantity the colours show.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "ms-axes.h"
#include "ms-colormap.h"

G_BEGIN_DECLS

#define MS_COLORBAR_STRIP_WIDTH 8.0  /* the coloured strip, points */
#define MS_COLORBAR_GAP 8.0          /* plot's right edge → strip */

/* The width the colorbar takes from its strip's left edge to the end of
 * its label, for a strip @height tall over [@vmin, @vmax]. */
double ms_colorbar_measure (cairo_t *cr, double vmin, double vmax, const char *label, double height);

/* Draws the strip into @strip and its ticks and labels right of it.
 * @label may be NULL.  Requires vmin < vmax. */
void ms_colorbar_draw (cairo_t *cr, const MsRect *strip, MsColormap cmap, double vmin, double vmax,
                       const char *label);

G_END_DECLS
