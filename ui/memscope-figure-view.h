/* memscope-figure-view.h — one view of one run (or of two, compared) as a
 * widget.
 *
 * The widget loads its MsViewData from the runs' recordings (ms_view_load)
 * and draws the MsViewFigure built from it with ms_view_figure_draw(), the
 * renderer `memscope-cli export` uses, so what the window shows is what an
 * export writes.  It keeps only the view data and the figure (whose
 * heatmaps keep their cell images), rebuilt when the data or the colormap
 * change, and draws the current segment and selected slot over the figure.
 * Hovering a cell shows its value and meaning in a tooltip; clicking emits
 * "selected" with the segment and/or slot under the pointer.
 *
 * Views over segments (retention, provenance, slot types, NLL) zoom and pan
 * along the segment axis: Ctrl + scroll zooms around the pointer, scroll
 * pans a zoomed view.  Zooming rebuilds the figure from the loaded data
 * (never re-reads the recording), keeps the colour scale of the whole run,
 * and an export shows the zoomed window, as the widget does.
 */
#pragma once

#include <gtk/gtk.h>

#include "memscope-run.h"
#include "ms-view-figure.h"
#include "ms-view.h"

G_BEGIN_DECLS

#define MEMSCOPE_TYPE_FIGURE_VIEW (memscope_figure_view_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeFigureView, memscope_figure_view, MEMSCOPE, FIGURE_VIEW, GtkWidget)

GtkWidget *memscope_figure_view_new (MsViewKind kind);
MsViewKind memscope_figure_view_get_kind (MemscopeFigureView *self);

/* Shows run @a, or @a and @b side by side (with A − B when @difference).
 * @b may be NULL.  References are taken. */
void memscope_figure_view_set_runs (MemscopeFigureView *self, MemscopeRun *a, MemscopeRun *b, gboolean difference);

/* The current segment (highlighted; read/write show its attention), the
 * selected slot (−1: none), the attention layer (−1: last) and head (−1:
 * mean over heads). */
void memscope_figure_view_set_selection (MemscopeFigureView *self, int segment, int slot);
void memscope_figure_view_set_attention (MemscopeFigureView *self, int layer, int head);
void memscope_figure_view_set_colormap (MemscopeFigureView *self, MsColormap cmap);
MsColormap memscope_figure_view_get_colormap (MemscopeFigureView *self);

/* The recordings changed (new segments): reload before the next draw. */
void memscope_figure_view_invalidate (MemscopeFigureView *self);

/* Loads now if needed.  FALSE with the reason when there is nothing to
 * draw (the same message the widget shows in place of the figure). */
gboolean memscope_figure_view_update (MemscopeFigureView *self, GError **error);

/* The figure as drawn (borrowed; NULL when there is none). */
MsViewFigure *memscope_figure_view_get_figure (MemscopeFigureView *self);

/* A new figure of the same data with another colormap and title (NULL:
 * the view's own), for export.  Owned. */
MsViewFigure *memscope_figure_view_build_figure (MemscopeFigureView *self, MsColormap cmap, const char *title,
                                                 GError **error);

/* Zooms the segment axis by @factor (> 1 zooms in) keeping column @anchor
 * (a segment column of the whole run; NAN: the current segment) where it is
 * on screen.  At most the whole run, at least MEMSCOPE_FIGURE_VIEW_MIN_ZOOM
 * columns.  FALSE (and nothing changes) for views that do not zoom. */
#define MEMSCOPE_FIGURE_VIEW_MIN_ZOOM 8
gboolean memscope_figure_view_zoom (MemscopeFigureView *self, double factor, double anchor);
/* Moves a zoomed window by @columns (negative: back in time). */
void memscope_figure_view_pan (MemscopeFigureView *self, double columns);
void memscope_figure_view_reset_zoom (MemscopeFigureView *self);
/* The columns drawn: the first and how many.  FALSE when the whole run is. */
gboolean memscope_figure_view_get_zoom (MemscopeFigureView *self, int *first, int *n);

/* The tooltip text for the point (@x, @y) of the widget, NULL when it is
 * not over data.  Owned; exposed for tests. */
char *memscope_figure_view_describe_point (MemscopeFigureView *self, double x, double y);

/* What a click at (@x, @y) does: emits "selected" with the segment and/or
 * slot under the point.  FALSE when it selects nothing. */
gboolean memscope_figure_view_select_point (MemscopeFigureView *self, double x, double y);

/* Where segment @segment's column (and, with @slot ≥ 0, slot's row) is
 * drawn in panel 0, in widget coordinates.  FALSE when the view has no
 * such column.  For tests. */
gboolean memscope_figure_view_get_highlight_rect (MemscopeFigureView *self, graphene_rect_t *rect);

G_END_DECLS
