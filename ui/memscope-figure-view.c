/* memscope-figure-view.c — a recorded view drawn by the shared renderer,
 * with hover tooltips, click-to-select and zoom along the segment axis. */
#include "memscope-figure-view.h"
#include "ms-heatmap.h"

#include <math.h>

#include "ms-colormap.h"

/* The outline of the current segment and the selected slot: GNOME red,
 * a colour none of the colormaps uses. */
#define HIGHLIGHT_R (0xe0 / 255.0)
#define HIGHLIGHT_G (0x1b / 255.0)
#define HIGHLIGHT_B (0x24 / 255.0)

struct _MemscopeFigureView {
  GtkWidget parent_instance;

  /* Owned */
  MemscopeRun *run_a;
  MemscopeRun *run_b;          /* NULL unless comparing */
  MsViewData *data_a;
  MsViewData *data_b;
  MsViewFigure *figure;
  GskRenderNode *drawn;        /* the figure drawn at the widget's size: the same
                                * node every frame, so hover and selection only
                                * redraw (and damage) the highlights over it */
  MsRect plots[3];             /* the figure's data areas at the same size … */
  int n_plots;                 /* … and how many; 0 = not laid out yet */
  int laid_out_w, laid_out_h;  /* the size @drawn and @plots are for */
  char *message;               /* why there is no figure */
  cairo_surface_t *measure_surface;
  cairo_t *measure;            /* measures text for hit-testing: a recording surface like
                                * the cairo node's, so the layout a heatmap keeps from
                                * hit-testing serves the draw too */

  MsViewKind kind;
  MsColormap cmap;
  gboolean difference;
  gboolean dirty;              /* reload the data (and rebuild the figure) */
  double zoom_first;           /* zoom window over the data's columns: first … */
  double zoom_span;            /* … and width; 0 = the whole run */
  gboolean rebuild;            /* zoom or colormap changed: a new figure from the loaded data */
  int col0;                    /* the data column the figure's column 0 shows */
  double pointer_x, pointer_y; /* last pointer position, −1 when outside */
  int segment;
  int slot;
  int layer;
  int head;
};

G_DEFINE_FINAL_TYPE (MemscopeFigureView, memscope_figure_view, GTK_TYPE_WIDGET)

enum { SIGNAL_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- what each view's axes are (core's table of views) ---- */

/* Views whose columns (x) are segments. */
static gboolean
x_is_segment (MsViewKind kind)
{
  return ms_view_info (kind)->x == MS_VIEW_AXIS_SEGMENT;
}

/* The heatmap row (slot rows) or column (slot columns) of slot @slot, as
 * (row, col) with −1 for the whole extent; FALSE when slots are no axis. */
static gboolean
slot_cell (MsViewKind kind, int slot, int *row, int *col)
{
  if (slot < 0)
    return FALSE;
  if (ms_view_info (kind)->y == MS_VIEW_AXIS_SLOT)
    return *row = slot, *col = -1, TRUE;
  if (ms_view_info (kind)->x == MS_VIEW_AXIS_SLOT)
    return *row = -1, *col = slot, TRUE;
  return FALSE;
}

/* The column holding index @x of the x axis. */
static int
column_of_x (const MsViewData *v, double x)
{
  return (int) floor ((x - v->x.start) / v->x.step);
}

/* Views whose segment axis zooms (the similarity matrix has two). */
static gboolean
zoomable (MsViewKind kind)
{
  return x_is_segment (kind) && (ms_view_info (kind)->params & MS_VIEW_USES_WINDOW);
}

/* ---- loading ---- */

/* Forgets the figure (not the data): it is rebuilt at the next draw. */
static void
drop_figure (MemscopeFigureView *self)
{
  g_clear_pointer (&self->figure, ms_view_figure_free);
  g_clear_pointer (&self->drawn, gsk_render_node_unref);
  self->n_plots = 0;
}

static void
clear_figure (MemscopeFigureView *self)
{
  drop_figure (self);
  g_clear_pointer (&self->data_a, ms_view_data_free);
  g_clear_pointer (&self->data_b, ms_view_data_free);
  g_clear_pointer (&self->message, g_free);
}

static MsViewData *
load_one (MemscopeFigureView *self, MemscopeRun *run, GError **error)
{
  MsRecording *rec = memscope_run_get_recording (run, error);
  if (!rec)
    return NULL;
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  int done = memscope_run_get_segments_done (run);
  const MsConfig *config = memscope_run_get_config (run);
  if (ms_view_info (self->kind)->params & MS_VIEW_USES_SEGMENT)
    {
      p.segment = CLAMP (self->segment, 0, MAX (done - 1, 0));
      /* a layer this run's attention has (one writer has no layers to choose) */
      p.layer = config && self->layer < ms_view_n_layers (config, self->kind) ? self->layer : -1;
      p.head = self->head;
    }
  if (ms_view_info (self->kind)->params & MS_VIEW_USES_SLOT && self->slot < memscope_run_get_n_slots (run))
    p.slot = self->slot;
  return ms_view_load (rec, memscope_run_get_id (run), self->kind, &p, error);
}

/* The data columns shown, [*first, *first + *n): all of them unless zoomed. */
static void
visible_columns (MemscopeFigureView *self, int *first, int *n)
{
  int total = MAX (self->data_a->cols, self->data_b ? self->data_b->cols : 0);
  if (!zoomable (self->kind) || self->zoom_span <= 0 || self->zoom_span >= total)
    {
      *first = 0, *n = total;
      return;
    }
  /* every column the window [first, first + span) touches */
  double first_x = CLAMP (self->zoom_first, 0, total - self->zoom_span);
  *first = (int) floor (first_x);
  *n = MIN ((int) ceil (first_x + self->zoom_span), total) - *first;
}

/* The figure of the loaded data within the zoom window; sets col0. */
static MsViewFigure *
build (MemscopeFigureView *self, MsColormap cmap, const char *title, GError **error)
{
  int first, n;
  visible_columns (self, &first, &n);
  self->col0 = first;
  gboolean whole = first == 0 && n >= self->data_a->cols && (!self->data_b || n >= self->data_b->cols);
  g_autoptr (MsViewData) a = whole ? NULL : ms_view_data_crop_columns (self->data_a, first, n);
  g_autoptr (MsViewData) b = whole || !self->data_b ? NULL : ms_view_data_crop_columns (self->data_b, first, n);
  const MsViewData *va = a ? a : self->data_a, *vb = b ? b : self->data_b;
  if (vb)
    return ms_view_figure_new_compare (va, memscope_run_get_name (self->run_a), vb,
                                       memscope_run_get_name (self->run_b), self->difference, cmap, title, error);
  return ms_view_figure_new (va, cmap, title, error);
}

gboolean
memscope_figure_view_update (MemscopeFigureView *self, GError **error)
{
  g_return_val_if_fail (MEMSCOPE_IS_FIGURE_VIEW (self), FALSE);
  if (self->dirty)
    {
      self->dirty = FALSE;
      self->rebuild = FALSE;
      clear_figure (self);
      g_autoptr (GError) local = NULL;
      if (!self->run_a)
        self->message = g_strdup ("Open a model, an input or a recording to see this view.");
      else if ((self->data_a = load_one (self, self->run_a, &local))
               && (!self->run_b || (self->data_b = load_one (self, self->run_b, &local))))
        self->figure = build (self, self->cmap, NULL, &local);
      if (local)
        self->message = g_strdup (local->message);
    }
  else if (self->rebuild && self->data_a && (!self->run_b || self->data_b))
    {
      /* same data, new figure */
      self->rebuild = FALSE;
      g_autoptr (GError) local = NULL;
      g_clear_pointer (&self->message, g_free);
      if (!(self->figure = build (self, self->cmap, NULL, &local)))
        self->message = g_strdup (local->message);
    }
  if (!self->figure)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, self->message ? self->message : "no figure");
      return FALSE;
    }
  return TRUE;
}

MsViewFigure *
memscope_figure_view_build_figure (MemscopeFigureView *self, MsColormap cmap, const char *title, GError **error)
{
  if (!memscope_figure_view_update (self, error))
    return NULL;
  return build (self, cmap, title, error);
}

/* ---- drawing ---- */

/* Drops the drawn figure and its laid-out areas when the widget's size is
 * not the one they were made for. */
static void
fit_to_size (MemscopeFigureView *self, int w, int h)
{
  if (self->laid_out_w == w && self->laid_out_h == h)
    return;
  g_clear_pointer (&self->drawn, gsk_render_node_unref);
  self->n_plots = 0;
  self->laid_out_w = w, self->laid_out_h = h;
}

/* The figure's data areas at the widget's size, laid out once per figure
 * and size: laying out measures every label (about 0.7 ms), and hover,
 * selection and hit-testing need the areas on every event. */
static int
plot_rects (MemscopeFigureView *self)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  fit_to_size (self, w, h);
  if (self->n_plots == 0)
    self->n_plots = ms_view_figure_get_plot_rects (self->figure, self->measure, w, h, self->plots);
  return self->n_plots;
}

static gboolean
highlight_rect (MemscopeFigureView *self, int panel, MsRect *out, gboolean slot)
{
  const MsViewData *v = panel == 1 && self->data_b ? self->data_b : self->data_a;
  int n = plot_rects (self), row, col;
  if (slot)
    return slot_cell (self->kind, self->slot, &row, &col)
           && ms_view_figure_cell_rect_in (self->figure, self->plots, n, panel, row, col, out);
  if (!x_is_segment (self->kind) || self->segment < 0)
    return FALSE;
  return ms_view_figure_cell_rect_in (self->figure, self->plots, n, panel, -1,
                                      column_of_x (v, self->segment) - self->col0, out);
}

/* The current segment's and the selected slot's outlines: 2 px borders on
 * whole pixels around the cells, so thin cells still show. */
static void
append_highlights (MemscopeFigureView *self, GtkSnapshot *snapshot)
{
  static const GdkRGBA red = { HIGHLIGHT_R, HIGHLIGHT_G, HIGHLIGHT_B, 1 };
  const GdkRGBA colours[4] = { red, red, red, red };
  const float widths[4] = { 2, 2, 2, 2 };
  int n = plot_rects (self);
  for (int p = 0; p < n; p++)
    for (int s = 0; s < 2; s++)
      {
        MsRect r;
        if (!highlight_rect (self, p, &r, s))
          continue;
        double x0 = floor (r.x), x1 = MAX (ceil (r.x + r.width), x0 + 2);
        double y0 = floor (r.y), y1 = MAX (ceil (r.y + r.height), y0 + 2);
        GskRoundedRect outline;
        gsk_rounded_rect_init_from_rect (&outline, &GRAPHENE_RECT_INIT (x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2), 0);
        gtk_snapshot_append_border (snapshot, &outline, widths, colours);
      }
}

/* The figure as a cairo node of @w × @h. */
static GskRenderNode *
draw_node (MemscopeFigureView *self, int w, int h)
{
  GskRenderNode *node = gsk_cairo_node_new (&GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_t *cr = gsk_cairo_node_get_draw_context (node);
  /* the node records the drawing and GTK replays it at the widget's scale */
  ms_heatmap_mark_raster_target (cairo_get_target (cr), gtk_widget_get_scale_factor (GTK_WIDGET (self)));
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  ms_view_figure_draw (cr, w, h, self->figure);
  cairo_destroy (cr);
  return node;
}

static void
memscope_figure_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  memscope_figure_view_update (self, NULL);
  if (!self->figure)
    {
      PangoLayout *layout = gtk_widget_create_pango_layout (widget, self->message);
      pango_layout_set_width (layout, (w - 40) * PANGO_SCALE);
      pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
      int lw, lh;
      pango_layout_get_pixel_size (layout, &lw, &lh);
      GdkRGBA grey = { 0.45, 0.45, 0.45, 1 };
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (20, (h - lh) / 2.0));
      gtk_snapshot_append_layout (snapshot, layout, &grey);
      gtk_snapshot_restore (snapshot);
      g_object_unref (layout);
      return;
    }
  fit_to_size (self, w, h);
  if (!self->drawn)
    self->drawn = draw_node (self, w, h);
  gtk_snapshot_append_node (snapshot, self->drawn);
  append_highlights (self, snapshot);
}

gboolean
memscope_figure_view_get_highlight_rect (MemscopeFigureView *self, graphene_rect_t *rect)
{
  MsRect r;
  if (!memscope_figure_view_update (self, NULL) || !highlight_rect (self, 0, &r, FALSE))
    return FALSE;
  graphene_rect_init (rect, r.x, r.y, r.width, r.height);
  return TRUE;
}

/* ---- what a point means ---- */

/* The panel and cell under widget point (@x, @y), with the column counted
 * in the loaded data (the zoom window undone).  FALSE off the data. */
static gboolean
hit_at (MemscopeFigureView *self, double x, double y, MsViewFigureHit *hit)
{
  if (!memscope_figure_view_update (self, NULL))
    return FALSE;
  if (!ms_view_figure_hit_in (self->figure, self->plots, plot_rects (self), x, y, hit))
    return FALSE;
  hit->col += self->col0;
  return TRUE;
}

char *
memscope_figure_view_describe_point (MemscopeFigureView *self, double x, double y)
{
  MsViewFigureHit hit;
  if (!hit_at (self, x, y, &hit))
    return NULL;
  if (self->data_b && self->data_a->shape == MS_VIEW_LINES)
    {
      /* NLL comparisons draw both runs in one panel */
      double va = ms_view_data_get (self->data_a, 0, hit.col), vb = ms_view_data_get (self->data_b, 0, hit.col);
      g_autofree char *at = ms_view_axis_cell_name (&self->data_a->x, hit.col);
      return g_strdup_printf ("Segment %s, %s\n%s: %.3f\n%s: %.3f", at, self->data_a->value_label,
                              memscope_run_get_name (self->run_a), va, memscope_run_get_name (self->run_b), vb);
    }
  int row = self->data_a->shape == MS_VIEW_HEATMAP ? hit.row : -1;
  if (hit.panel == 2)
    {
      double va = ms_view_data_get (self->data_a, row, hit.col), vb = ms_view_data_get (self->data_b, row, hit.col);
      g_autofree char *d = ms_view_describe_cell (self->data_a, row, hit.col);
      return g_strdup_printf ("A − B = %.3f (%s %.3f, %s %.3f)\n%s", va - vb, memscope_run_get_name (self->run_a),
                              va, memscope_run_get_name (self->run_b), vb, d ? d : "");
    }
  MemscopeRun *run = hit.panel == 1 && self->run_b ? self->run_b : self->run_a;
  const MsViewData *v = hit.panel == 1 && self->data_b ? self->data_b : self->data_a;
  g_autofree char *d = ms_view_describe_cell (v, row, hit.col);
  return d ? g_strdup_printf ("%s — %s", memscope_run_get_name (run), d) : NULL;
}

static gboolean
memscope_figure_view_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip)
{
  g_autofree char *text = memscope_figure_view_describe_point (MEMSCOPE_FIGURE_VIEW (widget), x, y);
  if (!text)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

gboolean
memscope_figure_view_select_point (MemscopeFigureView *self, double x, double y)
{
  MsViewFigureHit hit;
  if (!hit_at (self, x, y, &hit))
    return FALSE;
  const MsViewData *v = hit.panel == 1 && self->data_b ? self->data_b : self->data_a;
  int segment = -1, slot = -1;
  if (v->x.kind == MS_VIEW_AXIS_SEGMENT)
    segment = (int) (v->x.start + hit.col * v->x.step);
  if (v->shape == MS_VIEW_HEATMAP && v->y.kind == MS_VIEW_AXIS_SLOT)
    slot = hit.row;
  else if (v->shape == MS_VIEW_HEATMAP && v->x.kind == MS_VIEW_AXIS_SLOT)
    slot = hit.col;
  if (segment < 0 && slot < 0)
    return FALSE;
  g_signal_emit (self, signals[SIGNAL_SELECTED], 0, segment, slot);
  return TRUE;
}

static void
on_click_released (GtkGestureClick *gesture, int n_press, double x, double y, MemscopeFigureView *self)
{
  memscope_figure_view_select_point (self, x, y);
}

/* ---- zoom ---- */

static int
total_columns (MemscopeFigureView *self)
{
  return self->data_a ? MAX (self->data_a->cols, self->data_b ? self->data_b->cols : 0) : 0;
}

/* The figure is rebuilt from the loaded data at the next draw (the
 * recording is not read again). */
static void
rebuild_figure (MemscopeFigureView *self)
{
  drop_figure (self);
  self->rebuild = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* A new zoom window. */
static void
set_zoom (MemscopeFigureView *self, double first, double span)
{
  int total = total_columns (self);
  if (span >= total)
    first = span = 0;
  else
    first = CLAMP (first, 0, total - span);
  if (first == self->zoom_first && span == self->zoom_span)
    return;
  self->zoom_first = first;
  self->zoom_span = span;
  rebuild_figure (self);
}

gboolean
memscope_figure_view_zoom (MemscopeFigureView *self, double factor, double anchor)
{
  if (!zoomable (self->kind) || !memscope_figure_view_update (self, NULL) || factor <= 0)
    return FALSE;
  int total = total_columns (self);
  double first = self->zoom_span > 0 ? self->zoom_first : 0, span = self->zoom_span > 0 ? self->zoom_span : total;
  if (isnan (anchor))
    anchor = column_of_x (self->data_a, self->segment) + 0.5;
  anchor = CLAMP (anchor, first, first + span);
  double new_span = CLAMP (span / factor, MIN (MEMSCOPE_FIGURE_VIEW_MIN_ZOOM, total), total);
  /* the anchor keeps its place: same fraction of the window before and after */
  set_zoom (self, anchor - (anchor - first) / span * new_span, new_span);
  return TRUE;
}

void
memscope_figure_view_pan (MemscopeFigureView *self, double columns)
{
  if (self->zoom_span > 0)
    set_zoom (self, self->zoom_first + columns, self->zoom_span);
}

void
memscope_figure_view_reset_zoom (MemscopeFigureView *self)
{
  set_zoom (self, 0, 0);
}

gboolean
memscope_figure_view_get_zoom (MemscopeFigureView *self, int *first, int *n)
{
  if (!memscope_figure_view_update (self, NULL))
    return FALSE;
  visible_columns (self, first, n);
  return *first > 0 || *n < total_columns (self);
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, MemscopeFigureView *self)
{
  self->pointer_x = x, self->pointer_y = y;
}

static void
on_leave (GtkEventControllerMotion *motion, MemscopeFigureView *self)
{
  self->pointer_x = self->pointer_y = -1;
}

/* Ctrl + scroll zooms around the segment under the pointer; scroll pans a
 * zoomed view (either axis: wheels scroll y, touchpads and Shift x). */
static gboolean
on_scroll (GtkEventControllerScroll *scroll, double dx, double dy, MemscopeFigureView *self)
{
  if (!zoomable (self->kind) || !memscope_figure_view_update (self, NULL))
    return FALSE;
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  if (mods & GDK_CONTROL_MASK)
    {
      MsViewFigureHit hit;
      double anchor = NAN;
      if (self->pointer_x >= 0 && hit_at (self, self->pointer_x, self->pointer_y, &hit))
        anchor = hit.col + 0.5;
      return memscope_figure_view_zoom (self, pow (1.25, -dy), anchor);
    }
  if (self->zoom_span <= 0)
    return FALSE;
  memscope_figure_view_pan (self, (dx != 0 ? dx : dy) * 0.1 * self->zoom_span);
  return TRUE;
}

/* ---- setters ---- */

void
memscope_figure_view_invalidate (MemscopeFigureView *self)
{
  self->dirty = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
memscope_figure_view_set_runs (MemscopeFigureView *self, MemscopeRun *a, MemscopeRun *b, gboolean difference)
{
  if (a != self->run_a)
    self->zoom_first = self->zoom_span = 0;   /* another run: its own extent */
  g_set_object (&self->run_a, a);
  g_set_object (&self->run_b, b);
  self->difference = difference;
  memscope_figure_view_invalidate (self);
}

void
memscope_figure_view_set_selection (MemscopeFigureView *self, int segment, int slot)
{
  MsViewUses uses = ms_view_info (self->kind)->params;
  gboolean reload = (segment != self->segment && (uses & MS_VIEW_USES_SEGMENT))
                    || (slot != self->slot && (uses & MS_VIEW_USES_SLOT));
  self->segment = segment;
  self->slot = slot;
  if (reload)
    self->dirty = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
memscope_figure_view_set_attention (MemscopeFigureView *self, int layer, int head)
{
  if (layer == self->layer && head == self->head)
    return;
  self->layer = layer;
  self->head = head;
  if (ms_view_info (self->kind)->params & (MS_VIEW_USES_LAYER | MS_VIEW_USES_HEAD))
    memscope_figure_view_invalidate (self);
}

void
memscope_figure_view_set_colormap (MemscopeFigureView *self, MsColormap cmap)
{
  if (cmap == self->cmap)
    return;
  self->cmap = cmap;
  rebuild_figure (self);
}

MsColormap memscope_figure_view_get_colormap (MemscopeFigureView *self) { return self->cmap; }
MsViewKind memscope_figure_view_get_kind (MemscopeFigureView *self) { return self->kind; }

MsViewFigure *
memscope_figure_view_get_figure (MemscopeFigureView *self)
{
  memscope_figure_view_update (self, NULL);
  return self->figure;
}

/* ---- GObject ---- */

static void
memscope_figure_view_dispose (GObject *object)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (object);
  clear_figure (self);
  g_clear_object (&self->run_a);
  g_clear_object (&self->run_b);
  G_OBJECT_CLASS (memscope_figure_view_parent_class)->dispose (object);
}

static void
memscope_figure_view_finalize (GObject *object)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (object);
  cairo_destroy (self->measure);
  cairo_surface_destroy (self->measure_surface);
  G_OBJECT_CLASS (memscope_figure_view_parent_class)->finalize (object);
}

static void
memscope_figure_view_class_init (MemscopeFigureViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = memscope_figure_view_dispose;
  object_class->finalize = memscope_figure_view_finalize;
  widget_class->snapshot = memscope_figure_view_snapshot;
  widget_class->query_tooltip = memscope_figure_view_query_tooltip;
  gtk_widget_class_set_css_name (widget_class, "figureview");
  /* (segment, slot): what a click selected, −1 for "not this one" */
  signals[SIGNAL_SELECTED] = g_signal_new ("selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
}

static void
memscope_figure_view_init (MemscopeFigureView *self)
{
  self->segment = 0;
  self->slot = -1;
  self->layer = -1;
  self->head = -1;
  self->dirty = TRUE;
  self->measure_surface = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, NULL);
  self->measure = cairo_create (self->measure_surface);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self), 320, 200);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  self->pointer_x = self->pointer_y = -1;
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
}

GtkWidget *
memscope_figure_view_new (MsViewKind kind)
{
  MemscopeFigureView *self = g_object_new (MEMSCOPE_TYPE_FIGURE_VIEW, NULL);
  self->kind = kind;
  return GTK_WIDGET (self);
}
