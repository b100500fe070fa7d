/* ms-plots.h — series over an x axis: stacked areas and lines.
 *
 * Both plots take n_points values per series at x = x0 + i·x_step (i = 0 ..
 * n_points − 1), and draw a title, a legend between title and data, x and y
 * ticks and labels.  Series colours default to the Okabe–Ito palette
 * (distinguishable with colour-vision deficiencies), in order.
 *
 * Stacked plot (MsStackedPlot): n_series fractions per point, stacked
 * from series 0 at the bottom, y from 0 to 1 — e.g. the share of memory
 * slots that retain, mix and overwrite in each segment (DESIGN §5.2).
 * Points are discrete: point i fills the cell [x_i − x_step/2, x_i +
 * x_step/2] as a flat step (never interpolated between points), and the x
 * axis spans the cells.
 *
 * Line plot (MsLinePlot): one or more series, e.g. per-segment NLL; NaN
 * leaves a gap.  y is fitted to the data with a margin
 * (LINE_Y_MARGIN of its range) unless set.
 *
 * Both copy their data and strings; neither is thread-safe.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "ms-axes.h"
#include "ms-colormap.h"

G_BEGIN_DECLS

#define MS_PLOT_MAX_SERIES 64
#define MS_PLOT_MAX_POINTS (1 << 24)

/* The default colour of series @index (the palette repeats after 8). */
MsRgb ms_plot_series_color (int index);

typedef struct _MsStackedPlot MsStackedPlot;

/* Returns an owned plot of @fractions (n_series, n_points), series s at
 * point i in fractions[s·n_points + i] (NaN counts as 0), with legend
 * @names[n_series] (UTF-8, copied).  Fails with MS_FIGURE_ERROR_INPUT unless
 * 1 ≤ n_series ≤ MS_PLOT_MAX_SERIES and 1 ≤ n_points ≤ MS_PLOT_MAX_POINTS. */
MsStackedPlot *ms_stacked_plot_new (const float *fractions, int n_series, int n_points,
                                    const char *const *names, GError **error);
void ms_stacked_plot_free (MsStackedPlot *plot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsStackedPlot, ms_stacked_plot_free)

/* Point i is at x = @x0 + i·@x_step (@x_step > 0); @label may be NULL. */
void ms_stacked_plot_set_x_axis (MsStackedPlot *plot, double x0, double x_step, const char *label);
void ms_stacked_plot_set_y_label (MsStackedPlot *plot, const char *label);
void ms_stacked_plot_set_title (MsStackedPlot *plot, const char *title);
void ms_stacked_plot_set_color (MsStackedPlot *plot, int series, MsRgb color);

/* Draws into (0, 0)–(@width, @height); paints no background. */
void ms_stacked_plot_draw (const MsStackedPlot *plot, cairo_t *cr, double width, double height);
void ms_stacked_plot_draw_func (cairo_t *cr, double width, double height, gpointer stacked_plot);
/* The data rectangle ms_stacked_plot_draw() uses at this size. */
void ms_stacked_plot_get_plot_rect (const MsStackedPlot *plot, cairo_t *cr, double width, double height,
                                    MsRect *rect);

typedef struct _MsLinePlot MsLinePlot;

/* Returns an owned, empty plot of @n_points points per series (1 ≤
 * n_points ≤ MS_PLOT_MAX_POINTS), or NULL with MS_FIGURE_ERROR_INPUT. */
MsLinePlot *ms_line_plot_new (int n_points, GError **error);
void ms_line_plot_free (MsLinePlot *plot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsLinePlot, ms_line_plot_free)

/* Adds a copy of @y[n_points] (NaN = gap) named @name (NULL = not in the
 * legend).  Fails with MS_FIGURE_ERROR_INPUT if @n_points differs from the
 * plot's or the plot has MS_PLOT_MAX_SERIES series already. */
gboolean ms_line_plot_add_series (MsLinePlot *plot, const char *name, const float *y, int n_points,
                                  GError **error);
void ms_line_plot_set_x_axis (MsLinePlot *plot, double x0, double x_step, const char *label);
void ms_line_plot_set_y_label (MsLinePlot *plot, const char *label);
/* NaN for either end fits it to the data. */
void ms_line_plot_set_y_range (MsLinePlot *plot, double y_min, double y_max);
void ms_line_plot_set_title (MsLinePlot *plot, const char *title);
void ms_line_plot_set_color (MsLinePlot *plot, int series, MsRgb color);

void ms_line_plot_draw (const MsLinePlot *plot, cairo_t *cr, double width, double height);
void ms_line_plot_draw_func (cairo_t *cr, double width, double height, gpointer line_plot);
void ms_line_plot_get_plot_rect (const MsLinePlot *plot, cairo_t *cr, double width, double height, MsRect *rect);

G_END_DECLS
