/* ms-heatmap.h — a matrix of values drawn as a heatmap figure.
 *
 * A heatmap holds a copy of a (rows, cols) row-major float matrix — NaN
 * meaning "no data", drawn grey — with its axes (column c is at x = x0 +
 * c·x_step, row r at y = y0 + r·y_step), labels, colormap and range.  The
 * cells are turned into one image with one pixel per cell whenever the
 * values, the colormap or the range change; drawing only scales that image
 * with nearest-neighbour filtering, so cells stay sharp-edged at any size
 * and a PDF carries the image with /Interpolate false.  A 10,000 × 64 matrix
 * costs one 640,000-pixel image build, then draws as fast as any image.
 *
 * The figure: title above, y-axis label and ticks on the left, x-axis label
 * and ticks below, and a colorbar with its own label and ticks on the
 * right.  Ticks are nice values over the index range (never finer than one
 * cell).
 *
 * A heatmap is reference-counted and not thread-safe: change and draw it
 * from one thread at a time.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "ms-axes.h"
#include "ms-colormap.h"

G_BEGIN_DECLS

/* The largest number of rows or columns: cairo's largest image side. */
#define MS_HEATMAP_MAX_SIDE 32767

typedef struct _MsHeatmap MsHeatmap;

/* Returns a new heatmap (one reference, ms_heatmap_unref()) of a copy of
 * @values (rows, cols).  Fails with MS_FIGURE_ERROR_INPUT unless 1 ≤ rows,
 * cols ≤ MS_HEATMAP_MAX_SIDE.  Defaults: viridis, range fitted to the data,
 * x = column index, y = row index with row 0 at the top, no labels. */
MsHeatmap *ms_heatmap_new (const float *values, int rows, int cols, GError **error);
MsHeatmap *ms_heatmap_ref (MsHeatmap *hm);
void ms_heatmap_unref (MsHeatmap *hm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsHeatmap, ms_heatmap_unref)

/* Replaces the values with a copy of @values (rows, cols), under the same
 * limits as ms_heatmap_new(); on failure the heatmap is unchanged. */
gboolean ms_heatmap_set_values (MsHeatmap *hm, const float *values, int rows, int cols, GError **error);

void ms_heatmap_set_colormap (MsHeatmap *hm, MsColormap cmap);

/* The colour range; NaN for either end means "fit to the data"
 * (ms_colormap_fit_range(), which also makes the diverging map symmetric). */
void ms_heatmap_set_range (MsHeatmap *hm, double vmin, double vmax);

/* The range in use, after fitting: vmin < vmax. */
void ms_heatmap_get_range (const MsHeatmap *hm, double *vmin, double *vmax);

/* Column c is drawn at x = @x0 + c·@x_step (@x_step ≠ 0); @label may be NULL.
 * Strings are copied. */
void ms_heatmap_set_x_axis (MsHeatmap *hm, double x0, double x_step, const char *label);

/* Row r is at y = @y0 + r·@y_step; @top_down puts row 0 at the top (matrix
 * order), otherwise at the bottom (plot order). */
void ms_heatmap_set_y_axis (MsHeatmap *hm, double y0, double y_step, const char *label, gboolean top_down);

/* Names for the ticks of columns (rows) 0 … @n − 1, e.g. each token's text,
 * printed instead of the numbers where a tick falls on a whole column (an
 * entry may be NULL: no label there); @names NULL: numbers.  Copied. */
void ms_heatmap_set_x_names (MsHeatmap *hm, const char *const *names, int n);
void ms_heatmap_set_y_names (MsHeatmap *hm, const char *const *names, int n);

/* Labelled bands over runs of columns (rows), e.g. an attention layout's
 * blocks "read block | tokens | write block" (MsAxesBand): band b covers
 * columns [@first[b], @first[b] + @n[b]) and is named @names[b].  @n_bands
 * 0: none.  Copied. */
void ms_heatmap_set_x_bands (MsHeatmap *hm, const char *const *names, const int *first, const int *n, int n_bands);
void ms_heatmap_set_y_bands (MsHeatmap *hm, const char *const *names, const int *first, const int *n, int n_bands);

void ms_heatmap_set_title (MsHeatmap *hm, const char *title);
void ms_heatmap_set_colorbar_label (MsHeatmap *hm, const char *label);

int ms_heatmap_get_rows (const MsHeatmap *hm);
int ms_heatmap_get_cols (const MsHeatmap *hm);
/* Borrowed (rows, cols); valid until the values change. */
const float *ms_heatmap_get_values (const MsHeatmap *hm);
MsColormap ms_heatmap_get_colormap (const MsHeatmap *hm);
const char *ms_heatmap_get_title (const MsHeatmap *hm);
const char *ms_heatmap_get_colorbar_label (const MsHeatmap *hm);

/* Draws the figure into the rectangle (0, 0)–(@width, @height) of @cr's
 * user space (points when exporting).  Paints no background. */
void ms_heatmap_draw (const MsHeatmap *hm, cairo_t *cr, double width, double height);

/* ms_heatmap_draw() as an MsFigureDrawFunc (ms-export.h); @heatmap is the
 * MsHeatmap. */
void ms_heatmap_draw_func (cairo_t *cr, double width, double height, gpointer heatmap);

/* Where ms_heatmap_draw() at this size puts the cells: @plot receives the
 * rectangle that the (rows, cols) cells tile evenly. */
void ms_heatmap_get_plot_rect (const MsHeatmap *hm, cairo_t *cr, double width, double height, MsRect *plot);

/* The rectangle of cell (@row, @col) inside @plot, as ms_heatmap_draw()
 * paints it. */
void ms_heatmap_cell_rect (const MsHeatmap *hm, const MsRect *plot, int row, int col, MsRect *cell);

/* The cell under point (@x, @y); FALSE when the point is outside @plot. */
gboolean ms_heatmap_cell_at (const MsHeatmap *hm, const MsRect *plot, double x, double y, int *row, int *col);

/* Marks @target, a surface that is not an image but will be shown at
 * @scale device pixels per user unit (a recording surface a toolkit replays
 * onto the screen), so heatmaps drawn on it colour no more cells than it
 * shows, as on an image surface. */
void ms_heatmap_mark_raster_target (cairo_surface_t *target, double scale);

G_END_DECLS
