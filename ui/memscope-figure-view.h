/* memscope-figure-view.h — one view of one run (or of two, compared) as a
 * widget.
 *
 * What the view shows is set through its properties — "run-a", "run-b",
 * "difference", "segment", "slot", "layer", "head", "colormap" and the zoom
 * window "zoom-first"/"zoom-span" — which the window binds from its own.  A
 * change that needs other data (other runs; the parameters the view uses:
 * segment, layer, head or slot; the zoom window; the widget's size)
 * reloads the view's MsViewData with ms_view_load, at the resolution it is
 * drawn: at most one cell per device pixel of the figure's data area on a
 * segment or source axis (columns loaded at the widget's pixels are merged
 * to the data area's with ms_view_data_bin_columns), so a long run's
 * overview aggregates segments with the reducer its colorbar or axis names,
 * never samples them.  One that needs only another picture (colormap,
 * difference) rebuilds the figure from the loaded data.  Both happen in a GTask on a worker thread,
 * which opens its own read connection to each recording and draws the
 * MsViewFigure with ms_view_figure_draw()
 * (the renderer `memscope-cli export` uses) into an image of the widget's
 * size; the main thread never waits on SQLite or compute, and snapshot only
 * draws the prepared image and the current segment's and slot's outlines.
 * Changes in one main-loop iteration start one job; a newer job cancels
 * the one in flight, whose result is dropped.  "loading" is TRUE until the
 * view shows what its properties ask for; while it loads other data for
 * longer than a moment (SPINNER_DELAY_MS) it is dimmed under a spinner, while it
 * loads the same view for another size or zoom window the old picture
 * stays.
 *
 * Hovering a cell shows its value and meaning in a tooltip; clicking emits
 * "selected" with the segment and/or slot under the pointer.
 *
 * Views over segments that zoom (MS_VIEW_USES_WINDOW: retention,
 * representation, provenance, slot types, NLL, read usage) zoom and pan
 * along the segment axis: Ctrl + scroll zooms around the pointer, scroll
 * pans a zoomed view.  The zoom window is in segments; zooming reads only
 * the window's segments, at the widget's resolution, and an export shows
 * the zoomed window, as the widget does.
 */
#pragma once

#include <gtk/gtk.h>

#include "memscope-run.h"
#include "ms-view-figure.h"
#include "ms-view.h"

G_BEGIN_DECLS

/* MsColormap as a GEnum, for the "colormap" properties. */
#define MEMSCOPE_TYPE_COLORMAP (memscope_colormap_get_type ())
GType memscope_colormap_get_type (void);

#define MEMSCOPE_TYPE_FIGURE_VIEW (memscope_figure_view_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeFigureView, memscope_figure_view, MEMSCOPE, FIGURE_VIEW, GtkWidget)

/* A view of @kind (the construct-only "kind" property). */
GtkWidget *memscope_figure_view_new (MsViewKind kind);
MsViewKind memscope_figure_view_get_kind (MemscopeFigureView *self);

/* Shows run @a, or @a and @b side by side (with A − B when @difference):
 * sets "run-a", "run-b" and "difference" at once.  @b may be NULL.
 * References are taken. */
void memscope_figure_view_set_runs (MemscopeFigureView *self, MemscopeRun *a, MemscopeRun *b, gboolean difference);

/* The current segment (highlighted; read/write show its attention), the
 * selected slot (−1: none), the attention layer (−1: last) and head (−1:
 * mean over heads): the "segment", "slot", "layer" and "head" properties. */
void memscope_figure_view_set_selection (MemscopeFigureView *self, int segment, int slot);
/* Outlines in cyan, of segment @segment, token @token_a in run A's panel
 * and @token_b in run B's (each −1: none) where the view shows that
 * segment's tokens (a token axis, or the tokens block of attention rows):
 * the token hovered in the text pane, as each run cut it.  Its rectangle
 * in @panel (0: run A, 1: run B) in widget coordinates, FALSE when not
 * drawn there. */
void memscope_figure_view_set_hover_token (MemscopeFigureView *self, int segment, int token_a, int token_b);
gboolean memscope_figure_view_get_hover_token_rect (MemscopeFigureView *self, int panel, graphene_rect_t *rect);
void memscope_figure_view_set_attention (MemscopeFigureView *self, int layer, int head);
void memscope_figure_view_set_colormap (MemscopeFigureView *self, MsColormap cmap);
MsColormap memscope_figure_view_get_colormap (MemscopeFigureView *self);

/* The recordings changed (new segments): reload in the background. */
void memscope_figure_view_invalidate (MemscopeFigureView *self);

/* TRUE from a change until the view shows what it asked for (the
 * "loading" property): a job is waiting or in flight.  A view that is not
 * mapped does not load, and is not loading, until it is mapped. */
gboolean memscope_figure_view_get_loading (MemscopeFigureView *self);

/* Never waits: TRUE when there is a figure on screen (while "loading" it
 * may be older than the properties), FALSE with the reason when there is
 * none (the message the widget shows in its place, or that it is still
 * loading). */
gboolean memscope_figure_view_update (MemscopeFigureView *self, GError **error);

/* The figure on screen (borrowed; NULL when there is none). */
MsViewFigure *memscope_figure_view_get_figure (MemscopeFigureView *self);

/* The data of the figure on screen: @panel 0 run A, 1 run B (borrowed;
 * NULL when there is none). */
const MsViewData *memscope_figure_view_get_data (MemscopeFigureView *self, int panel);

/* A new figure of the data on screen with another colormap and title
 * (NULL: the view's own), for export.  Owned. */
MsViewFigure *memscope_figure_view_build_figure (MemscopeFigureView *self, MsColormap cmap, const char *title,
                                                 GError **error);

/* Writes the figure of the data on screen — with colormap @cmap and
 * title @title (NULL: the view's own) — to @path as ms_figure_export()
 * does (format from @path's extension, @width_in × @height_in inches, @dpi
 * for PNG), on a worker thread that builds its own figure from the loaded
 * data.  Finish with memscope_figure_view_export_finish(): FALSE with the
 * renderer's or the exporter's error, or when there is nothing on screen. */
void memscope_figure_view_export_async (MemscopeFigureView *self, const char *path, double width_in,
                                        double height_in, double dpi, MsColormap cmap, const char *title,
                                        GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
gboolean memscope_figure_view_export_finish (MemscopeFigureView *self, GAsyncResult *result, GError **error);

/* Provenance of runs longer than MEMSCOPE_FIGURE_VIEW_FULL_PROVENANCE
 * segments (the longer run when comparing) is shown over a horizon of
 * MEMSCOPE_FIGURE_VIEW_HORIZON segments (MsViewParams.horizon: rows
 * "initial", "older", t−H … t, named so on the axis and in the title):
 * the full view's cost grows with segments × source rows, the horizon's
 * with segments only. */
#define MEMSCOPE_FIGURE_VIEW_FULL_PROVENANCE 16384
#define MEMSCOPE_FIGURE_VIEW_HORIZON 32

/* Zooms the segment axis ("zoom-first", "zoom-span") by @factor (> 1
 * zooms in) keeping segment position @anchor (NAN: the middle of the
 * current segment) where it is on screen.  At most the whole run, at least
 * MEMSCOPE_FIGURE_VIEW_MIN_ZOOM segments.  FALSE (and nothing changes) for
 * views that do not zoom or before the runs have segments. */
#define MEMSCOPE_FIGURE_VIEW_MIN_ZOOM 8
gboolean memscope_figure_view_zoom (MemscopeFigureView *self, double factor, double anchor);
/* Moves a zoomed window by @segments (negative: back in time). */
void memscope_figure_view_pan (MemscopeFigureView *self, double segments);
void memscope_figure_view_reset_zoom (MemscopeFigureView *self);
/* The segments of the zoom window: the first and how many.  FALSE when the
 * window is the whole run. */
gboolean memscope_figure_view_get_zoom (MemscopeFigureView *self, int *first, int *n);

/* The tooltip text for the point (@x, @y) of the widget, NULL when it is
 * not over data.  Owned; exposed for tests. */
char *memscope_figure_view_describe_point (MemscopeFigureView *self, double x, double y);

/* What a click at (@x, @y) does: emits "selected" with the segment and/or
 * slot under the point.  FALSE when it selects nothing. */
gboolean memscope_figure_view_select_point (MemscopeFigureView *self, double x, double y);

/* Where the current segment's column is drawn in panel 0, in widget
 * coordinates.  FALSE when the view has no such column.  For tests. */
gboolean memscope_figure_view_get_highlight_rect (MemscopeFigureView *self, graphene_rect_t *rect);

/* The data areas of the figure shown (up to 3: run A, run B, A − B) in
 * widget coordinates, and their number; 0 when no figure is shown. */
int memscope_figure_view_get_plot_rects (MemscopeFigureView *self, MsRect rects[3]);
/* The rectangle of cell (@row, @col) of @panel in widget coordinates
 * (ms_view_figure_cell_rect_in); FALSE when there is none. */
gboolean memscope_figure_view_get_cell_rect (MemscopeFigureView *self, int panel, int row, int col, MsRect *rect);

/* Widget units per figure unit: figures are laid out smaller and drawn
 * this much larger, so their smallest text (tick labels) is at least the
 * desktop's body text (the widget's font).  At least 1. */
double memscope_figure_view_get_text_zoom (MemscopeFigureView *self);
/* Whether figures are drawn dark (light ink on dark grey): when
 * libadwaita's style manager says the desktop is dark (its "dark"
 * property, which follows the desktop's colour scheme and the
 * application's own choice).  Exports are drawn as the export asks, on white. */
gboolean memscope_figure_view_get_dark (MemscopeFigureView *self);

G_END_DECLS
