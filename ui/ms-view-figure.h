/* ms-view-figure.h — a recorded view (core's MsViewData) as a drawable
 * figure: the one place that decides how each view looks, shared by
 * `memscope-cli export`/`compare` and the GTK workbench.
 *
 * Heatmap views become an MsHeatmap (slots, tokens and source segments run
 * top-down as in a matrix; the colorbar carries the view's value label),
 * slot types a stacked-area plot, NLL a line plot.  A comparison puts two
 * runs' views side by side on one colour scale (heatmaps), in one plot
 * (lines) or as two panels (stacked), optionally with the difference A − B.
 */
#pragma once

#include <cairo.h>

#include "ms-axes.h"
#include "ms-colormap.h"
#include "ms-view.h"

G_BEGIN_DECLS

typedef struct _MsViewFigure MsViewFigure;

/* A figure of @view (copied).  @title replaces the view's title when not
 * NULL.  MS_FIGURE_ERROR_INPUT when the view is empty or too large. */
MsViewFigure *ms_view_figure_new (const MsViewData *view, MsColormap cmap, const char *title, GError **error);

/* Run A's and run B's views of the same kind, labelled @name_a and
 * @name_b.  With @difference, adds A − B (heatmaps and lines; needs the
 * same shape).  MS_FIGURE_ERROR_INPUT when the views cannot be compared. */
MsViewFigure *ms_view_figure_new_compare (const MsViewData *a, const char *name_a, const MsViewData *b,
                                          const char *name_b, gboolean difference, MsColormap cmap,
                                          const char *title, GError **error);

void ms_view_figure_free (MsViewFigure *fig);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsViewFigure, ms_view_figure_free)

/* Where a point of the drawn figure falls, for hover and click.  @panel:
 * 0 the only panel or run A, 1 run B, 2 the difference A − B.  Heatmaps:
 * the cell (@row, @col) of that panel's matrix; lines and stacked plots:
 * @row = −1 and @col the nearest point. */
typedef struct {
  int panel;
  int row;
  int col;
} MsViewFigureHit;

/* The panel and cell under (@x, @y) when @fig is drawn at @width × @height
 * on @cr (which only measures text; nothing is drawn).  FALSE when the
 * point is outside every data area. */
gboolean ms_view_figure_hit (const MsViewFigure *fig, cairo_t *cr, double width, double height, double x, double y,
                             MsViewFigureHit *hit);

/* The data areas of the panels at this size (up to 3) and their number. */
int ms_view_figure_get_plot_rects (const MsViewFigure *fig, cairo_t *cr, double width, double height, MsRect rects[3]);

/* The rectangle of heatmap cell (@row, @col) of @panel, or for plots of
 * column @col (full height; @row ignored): a stacked plot's cell, a line
 * plot's point one step wide, cut at the data area's edges.  @row = −1
 * gives the whole column, @col = −1 the whole row.  FALSE when out of
 * range. */
gboolean ms_view_figure_cell_rect (const MsViewFigure *fig, cairo_t *cr, double width, double height, int panel,
                                   int row, int col, MsRect *rect);

/* ms_view_figure_hit and ms_view_figure_cell_rect on data areas already
 * laid out (@plots, @n_plots from ms_view_figure_get_plot_rects): laying
 * out measures every label, so a widget keeps the areas of its size. */
gboolean ms_view_figure_hit_in (const MsViewFigure *fig, const MsRect *plots, int n_plots, double x, double y,
                                MsViewFigureHit *hit);
gboolean ms_view_figure_cell_rect_in (const MsViewFigure *fig, const MsRect *plots, int n_plots, int panel, int row,
                                      int col, MsRect *rect);

/* MsFigureDrawFunc: draws @fig (an MsViewFigure) into (0, 0)–(width, height). */
void ms_view_figure_draw (cairo_t *cr, double width, double height, gpointer fig);

G_END_DECLS
