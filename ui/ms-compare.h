/* ms-compare.h — two heatmaps side by side on one colour scale.
 *
 * The comparison figure draws heatmaps A and B (e.g. Memformer and RMT on
 * the same input) as two panels with their own titles and axes but one
 * shared colour range and one colorbar, so equal colours mean equal values.
 * Optionally a third panel shows the difference A − B on the diverging map,
 * symmetric about 0, with its own colorbar; that needs A and B of the same
 * shape.
 *
 * The comparison holds references to A and B and builds its own cell
 * images from their values (A's and B's own colormaps and ranges are not
 * used).  It reads the values when created and on ms_compare_update(): call
 * that after changing A or B.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "ms-axes.h"
#include "ms-colormap.h"
#include "ms-heatmap.h"

G_BEGIN_DECLS

typedef struct _MsCompare MsCompare;

/* Returns an owned comparison of @a and @b (takes a reference on each),
 * drawn with @a's colormap over the range fitted to both, no difference
 * panel. */
MsCompare *ms_compare_new (MsHeatmap *a, MsHeatmap *b);
void ms_compare_free (MsCompare *cmp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsCompare, ms_compare_free)

/* Re-reads A's and B's values and rebuilds the images. */
void ms_compare_update (MsCompare *cmp);

/* A title over both panels (NULL = none); copied. */
void ms_compare_set_title (MsCompare *cmp, const char *title);
void ms_compare_set_colormap (MsCompare *cmp, MsColormap cmap);
/* The shared range; NaN for either end fits it to both heatmaps. */
void ms_compare_set_range (MsCompare *cmp, double vmin, double vmax);
void ms_compare_get_range (const MsCompare *cmp, double *vmin, double *vmax);
/* The difference panel's range, ±max|A − B|. */
void ms_compare_get_difference_range (const MsCompare *cmp, double *vmin, double *vmax);

/* Shows or hides the A − B panel.  Showing fails with MS_FIGURE_ERROR_INPUT
 * when A and B differ in shape (the figure is then unchanged). */
gboolean ms_compare_set_show_difference (MsCompare *cmp, gboolean show, GError **error);

/* Draws into (0, 0)–(@width, @height); paints no background. */
void ms_compare_draw (const MsCompare *cmp, cairo_t *cr, double width, double height);
void ms_compare_draw_func (cairo_t *cr, double width, double height, gpointer compare);

/* The data rectangles of the panels at this size — A, B and, when shown,
 * A − B — and their number (2 or 3) in @n_panels. */
void ms_compare_get_plot_rects (const MsCompare *cmp, cairo_t *cr, double width, double height,
                                MsRect rects[3], int *n_panels);

G_END_DECLS
