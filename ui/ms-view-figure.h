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

/* MsFigureDrawFunc: draws @fig (an MsViewFigure) into (0, 0)–(width, height). */
void ms_view_figure_draw (cairo_t *cr, double width, double height, gpointer fig);

G_END_DECLS
