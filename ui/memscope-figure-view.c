/* memscope-figure-view.c — a recorded view drawn by the shared renderer,
 * with hover tooltips, click-to-select and zoom along the segment axis.
 * Loading and drawing run as jobs on worker threads (see the header); the
 * widget keeps what the last finished job made. */
#include "memscope-figure-view.h"
#include "memscope-figure-view-private.h"
#include "ms-heatmap.h"

#include <adwaita.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "ms-colormap.h"
#include "ms-label.h"
#include "ms-error.h"
#include "ms-export.h"
#include "memscope-task.h"

G_DEFINE_FINAL_TYPE (MemscopeFigureView, memscope_figure_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_KIND,
  PROP_RUN_A,
  PROP_RUN_B,
  PROP_DIFFERENCE,
  PROP_SEGMENT,
  PROP_SLOT,
  PROP_LAYER,
  PROP_HEAD,
  PROP_COLORMAP,
  PROP_ZOOM_FIRST,
  PROP_ZOOM_SPAN,
  PROP_LOADING,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum { SIGNAL_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

GType
memscope_colormap_get_type (void)
{
  static gsize type;
  if (g_once_init_enter (&type))
    {
      static const GEnumValue values[] = {
        { MS_COLORMAP_VIRIDIS, "MS_COLORMAP_VIRIDIS", "viridis" },
        { MS_COLORMAP_MAGMA, "MS_COLORMAP_MAGMA", "magma" },
        { MS_COLORMAP_CIVIDIS, "MS_COLORMAP_CIVIDIS", "cividis" },
        { MS_COLORMAP_DIVERGING, "MS_COLORMAP_DIVERGING", "diverging" },
        { 0, NULL, NULL },
      };
      g_once_init_leave (&type, g_enum_register_static (g_intern_static_string ("MemscopeColormap"), values));
    }
  return type;
}

/* ---- what each view's axes are (core's table of views) ---- */

gboolean
memscope_figure_view_kind_zooms (MsViewKind kind)
{
  return ms_view_info (kind)->x == MS_VIEW_AXIS_SEGMENT && (ms_view_info (kind)->params & MS_VIEW_USES_WINDOW);
}

/* ---- size, style and mapping (what each frame draws: memscope-figure-view-draw.c) ---- */

double
memscope_figure_view_get_text_zoom (MemscopeFigureView *self)
{
  PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (self));
  const PangoFontDescription *font = pango_context_get_font_description (context);
  double size = font ? pango_font_description_get_size (font) / (double) PANGO_SCALE : 0;
  if (font && !pango_font_description_get_size_is_absolute (font))
    {
      double dpi = pango_cairo_context_get_resolution (context);
      size *= (dpi > 0 ? dpi : 96.0) / 72.0;   /* points to pixels */
    }
  return MAX (1.0, size / ms_label_size (MS_LABEL_TICK));
}

gboolean
memscope_figure_view_get_dark (MemscopeFigureView *self)
{
  return adw_style_manager_get_dark (adw_style_manager_get_default ());
}

/* The desktop's dark style or font changed: the next snapshot finds the
 * figure drawn for the old one. */
static void
on_desktop_changed (GObject *source, GParamSpec *pspec, MemscopeFigureView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
memscope_figure_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                              int *natural, int *minimum_baseline, int *natural_baseline)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  gtk_widget_measure (self->spinner, orientation, -1, minimum, natural, NULL, NULL);
}

/* The spinner in the middle; a new size needs the view loaded and drawn
 * for it.  A job in flight for another size is started again for this one,
 * also when the figure shown has this size (the view was resized and back
 * while it ran) or there is none yet: its figure would be shown, drawn for
 * a size the view no longer has, once "loading" is over. */
static void
memscope_figure_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  int scale = gtk_widget_get_scale_factor (widget);
  const Shown *s = self->shown;
  gboolean drawn = s && s->width == width && s->height == height && s->scale == scale;
  gboolean drawing = self->job && self->job_width == width && self->job_height == height && self->job_scale == scale;
  if (((s && !drawn) || self->job) && !drawing)
    /* views are loaded at the size they are drawn; what the job in flight redoes, at least */
    memscope_figure_view_set_stale (self, self->job && self->loading_data ? STALE_DATA : STALE_EXTENT);
  else if (self->stale != STALE_NONE)
    memscope_figure_view_set_stale (self, STALE_EXTENT);
  /* after memscope_figure_view_set_stale (), which may show the spinner */
  int sw = 32, sh = 32;
  gtk_widget_measure (self->spinner, GTK_ORIENTATION_HORIZONTAL, -1, NULL, NULL, NULL, NULL);
  gtk_widget_measure (self->spinner, GTK_ORIENTATION_VERTICAL, -1, NULL, NULL, NULL, NULL);
  gtk_widget_size_allocate (self->spinner, &(GtkAllocation) { (width - sw) / 2, (height - sh) / 2, sw, sh }, -1);
}

static void
memscope_figure_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (memscope_figure_view_parent_class)->map (widget);
  memscope_figure_view_set_stale (MEMSCOPE_FIGURE_VIEW (widget), STALE_NONE);
}

static void
memscope_figure_view_unmap (GtkWidget *widget)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  g_clear_handle_id (&self->start_source, g_source_remove);
  GTK_WIDGET_CLASS (memscope_figure_view_parent_class)->unmap (widget);
  memscope_figure_view_update_busy (self);
}

/* ---- what a point means ---- */

/* The panel and cell under widget point (@x, @y).  FALSE off the data. */
static gboolean
hit_at (MemscopeFigureView *self, double x, double y, MsViewFigureHit *hit)
{
  const Shown *s = self->shown;
  double sx, sy;
  memscope_figure_view_figure_scale (self, &sx, &sy);
  if (!s || !ms_view_figure_hit_in (s->figure, s->plots, s->n_plots, x / sx, y / sy, hit))
    return FALSE;
  return TRUE;
}

char *
memscope_figure_view_describe_point (MemscopeFigureView *self, double x, double y)
{
  MsViewFigureHit hit;
  if (!hit_at (self, x, y, &hit))
    return NULL;
  const MsViewData *data_a = self->shown->data->a, *data_b = self->shown->data->b;
  MemscopeRun *run_a = self->run_a, *run_b = data_b ? self->run_b : NULL;
  if (!run_a || (data_b && !run_b))
    return NULL;   /* the runs changed: this figure is being replaced */
  if (data_b && data_a->shape == MS_VIEW_LINES)
    {
      /* NLL comparisons draw both runs in one panel */
      double va = ms_view_data_get (data_a, 0, hit.col), vb = ms_view_data_get (data_b, 0, hit.col);
      g_autofree char *at = ms_view_axis_cell_name (&data_a->x, hit.col);
      return g_strdup_printf ("Segment %s, %s\n%s: %.3f\n%s: %.3f", at, data_a->value_label,
                              memscope_run_get_name (run_a), va, memscope_run_get_name (run_b), vb);
    }
  int row = data_a->shape == MS_VIEW_HEATMAP ? hit.row : -1;
  if (hit.panel == 2)
    {
      double va = ms_view_data_get (data_a, row, hit.col), vb = ms_view_data_get (data_b, row, hit.col);
      g_autofree char *d = ms_view_describe_cell (data_a, row, hit.col);
      return g_strdup_printf ("A − B = %.3f (%s %.3f, %s %.3f)\n%s", va - vb, memscope_run_get_name (run_a), va,
                              memscope_run_get_name (run_b), vb, d ? d : "");
    }
  MemscopeRun *run = hit.panel == 1 && run_b ? run_b : run_a;
  const MsViewData *v = hit.panel == 1 && data_b ? data_b : data_a;
  g_autofree char *d = ms_view_describe_cell (v, row, hit.col);
  return d ? g_strdup_printf ("%s — %s", memscope_run_get_name (run), d) : NULL;
}

static gboolean
memscope_figure_view_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  g_autofree char *text = memscope_figure_view_describe_point (self, x, y);
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
  const MsViewData *v = hit.panel == 1 && self->shown->data->b ? self->shown->data->b : self->shown->data->a;
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
/* The segments of the runs shown (the longer of the two). */
int
memscope_figure_view_total_segments (MemscopeFigureView *self)
{
  int a = self->run_a ? memscope_run_get_segments_done (self->run_a) : 0;
  return MAX (a, self->run_b ? memscope_run_get_segments_done (self->run_b) : 0);
}

/* The segments [*first, *first + *n) the zoom window touches; FALSE (and
 * the whole run) unless the view is zoomed. */
gboolean
memscope_figure_view_get_zoom (MemscopeFigureView *self, int *first, int *n)
{
  int total = memscope_figure_view_total_segments (self);
  if (!memscope_figure_view_kind_zooms (self->kind) || self->zoom_span <= 0 || self->zoom_span >= total)
    {
      *first = 0, *n = total;
      return FALSE;
    }
  double first_x = CLAMP (self->zoom_first, 0, total - self->zoom_span);
  *first = (int) floor (first_x);
  *n = MIN ((int) ceil (first_x + self->zoom_span), total) - *first;
  return TRUE;
}


/* A new zoom window: the view is loaded again for it, at the same output
 * size. */
static void
set_zoom (MemscopeFigureView *self, double first, double span)
{
  int total = memscope_figure_view_total_segments (self);
  if (span >= total)
    first = span = 0;
  else
    first = CLAMP (first, 0, total - span);
  if (first == self->zoom_first && span == self->zoom_span)
    return;
  g_object_freeze_notify (G_OBJECT (self));
  if (first != self->zoom_first)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ZOOM_FIRST]);
  if (span != self->zoom_span)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ZOOM_SPAN]);
  self->zoom_first = first;
  self->zoom_span = span;
  memscope_figure_view_set_stale (self, STALE_EXTENT);
  gtk_widget_queue_draw (GTK_WIDGET (self));   /* the preview of the new window */
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
memscope_figure_view_zoom (MemscopeFigureView *self, double factor, double anchor)
{
  int total = memscope_figure_view_total_segments (self);
  if (!memscope_figure_view_kind_zooms (self->kind) || total == 0 || factor <= 0)
    return FALSE;
  double first = self->zoom_span > 0 ? self->zoom_first : 0, span = self->zoom_span > 0 ? self->zoom_span : total;
  if (isnan (anchor))
    anchor = self->segment + 0.5;
  anchor = CLAMP (anchor, first, first + span);
  double new_span = CLAMP (span / factor, MIN (MEMSCOPE_FIGURE_VIEW_MIN_ZOOM, total), total);
  /* the anchor keeps its place: same fraction of the window before and after */
  set_zoom (self, anchor - (anchor - first) / span * new_span, new_span);
  return TRUE;
}

void
memscope_figure_view_pan (MemscopeFigureView *self, double segments)
{
  if (self->zoom_span > 0)
    set_zoom (self, self->zoom_first + segments, self->zoom_span);
}

void
memscope_figure_view_reset_zoom (MemscopeFigureView *self)
{
  set_zoom (self, 0, 0);
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
  if (!memscope_figure_view_kind_zooms (self->kind) || !self->shown)
    return FALSE;
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  if (mods & GDK_CONTROL_MASK)
    {
      MsViewFigureHit hit;
      double anchor = NAN;
      const MsViewData *v = self->shown->data->a;
      if (self->pointer_x >= 0 && hit_at (self, self->pointer_x, self->pointer_y, &hit))
        anchor = v->x.start + (hit.col + 0.5) * v->x.step;
      return memscope_figure_view_zoom (self, pow (1.25, -dy), anchor);
    }
  if (self->zoom_span <= 0)
    return FALSE;
  memscope_figure_view_pan (self, (dx != 0 ? dx : dy) * 0.1 * self->zoom_span);
  return TRUE;
}

/* ---- properties ---- */

void
memscope_figure_view_notify_loading (MemscopeFigureView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LOADING]);
}

void
memscope_figure_view_invalidate (MemscopeFigureView *self)
{
  memscope_figure_view_set_stale (self, STALE_DATA);
}

/* The data depends on parameter @use. */
static gboolean
uses (MemscopeFigureView *self, MsViewUses use)
{
  return (ms_view_info (self->kind)->params & use) != 0;
}

static void
set_run (MemscopeFigureView *self, MemscopeRun **field, MemscopeRun *run, int prop)
{
  if (*field == run)
    return;
  if (field == &self->run_a)
    set_zoom (self, 0, 0);   /* another run: its own extent */
  g_set_object (field, run);
  g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
  memscope_figure_view_set_stale (self, STALE_DATA);
}

/* Sets an int property; @reload: the data depends on it (else only the
 * outlines drawn over the figure do). */
static void
set_int (MemscopeFigureView *self, int *field, int value, int prop, gboolean reload)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
  if (reload)
    memscope_figure_view_set_stale (self, STALE_DATA);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
set_difference (MemscopeFigureView *self, gboolean difference)
{
  difference = !!difference;
  if (difference == self->difference)
    return;
  self->difference = difference;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DIFFERENCE]);
  memscope_figure_view_set_stale (self, STALE_FIGURE);
}

void
memscope_figure_view_set_colormap (MemscopeFigureView *self, MsColormap cmap)
{
  if (cmap == self->cmap)
    return;
  self->cmap = cmap;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COLORMAP]);
  memscope_figure_view_set_stale (self, STALE_FIGURE);
}

void
memscope_figure_view_set_runs (MemscopeFigureView *self, MemscopeRun *a, MemscopeRun *b, gboolean difference)
{
  g_object_freeze_notify (G_OBJECT (self));
  set_run (self, &self->run_a, a, PROP_RUN_A);
  set_run (self, &self->run_b, b, PROP_RUN_B);
  set_difference (self, difference);
  g_object_thaw_notify (G_OBJECT (self));
}

void
memscope_figure_view_set_hover_token (MemscopeFigureView *self, int segment, int token_a, int token_b)
{
  token_a = MAX (token_a, -1), token_b = MAX (token_b, -1);
  segment = token_a >= 0 || token_b >= 0 ? segment : -1;
  if (segment == self->hover_segment && token_a == self->hover_token[0] && token_b == self->hover_token[1])
    return;
  self->hover_segment = segment;
  self->hover_token[0] = token_a, self->hover_token[1] = token_b;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
memscope_figure_view_set_selection (MemscopeFigureView *self, int segment, int slot)
{
  g_object_freeze_notify (G_OBJECT (self));
  set_int (self, &self->segment, segment, PROP_SEGMENT, uses (self, MS_VIEW_USES_SEGMENT));
  set_int (self, &self->slot, slot, PROP_SLOT, uses (self, MS_VIEW_USES_SLOT));
  g_object_thaw_notify (G_OBJECT (self));
}

void
memscope_figure_view_set_attention (MemscopeFigureView *self, int layer, int head)
{
  g_object_freeze_notify (G_OBJECT (self));
  set_int (self, &self->layer, layer, PROP_LAYER, uses (self, MS_VIEW_USES_LAYER));
  set_int (self, &self->head, head, PROP_HEAD, uses (self, MS_VIEW_USES_HEAD));
  g_object_thaw_notify (G_OBJECT (self));
}

MsColormap memscope_figure_view_get_colormap (MemscopeFigureView *self) { return self->cmap; }
MsViewKind memscope_figure_view_get_kind (MemscopeFigureView *self) { return self->kind; }

MsViewFigure *
memscope_figure_view_get_figure (MemscopeFigureView *self)
{
  return self->shown ? self->shown->figure : NULL;
}

static void
memscope_figure_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (object);
  switch (prop_id)
    {
    case PROP_KIND: g_value_set_int (value, self->kind); break;
    case PROP_RUN_A: g_value_set_object (value, self->run_a); break;
    case PROP_RUN_B: g_value_set_object (value, self->run_b); break;
    case PROP_DIFFERENCE: g_value_set_boolean (value, self->difference); break;
    case PROP_SEGMENT: g_value_set_int (value, self->segment); break;
    case PROP_SLOT: g_value_set_int (value, self->slot); break;
    case PROP_LAYER: g_value_set_int (value, self->layer); break;
    case PROP_HEAD: g_value_set_int (value, self->head); break;
    case PROP_COLORMAP: g_value_set_enum (value, self->cmap); break;
    case PROP_ZOOM_FIRST: g_value_set_double (value, self->zoom_first); break;
    case PROP_ZOOM_SPAN: g_value_set_double (value, self->zoom_span); break;
    case PROP_LOADING: g_value_set_boolean (value, self->loading); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
memscope_figure_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (object);
  switch (prop_id)
    {
    case PROP_KIND: self->kind = (MsViewKind) g_value_get_int (value); break;
    case PROP_RUN_A: set_run (self, &self->run_a, g_value_get_object (value), PROP_RUN_A); break;
    case PROP_RUN_B: set_run (self, &self->run_b, g_value_get_object (value), PROP_RUN_B); break;
    case PROP_DIFFERENCE: set_difference (self, g_value_get_boolean (value)); break;
    case PROP_SEGMENT:
      set_int (self, &self->segment, g_value_get_int (value), PROP_SEGMENT, uses (self, MS_VIEW_USES_SEGMENT));
      break;
    case PROP_SLOT: set_int (self, &self->slot, g_value_get_int (value), PROP_SLOT, uses (self, MS_VIEW_USES_SLOT)); break;
    case PROP_LAYER: set_int (self, &self->layer, g_value_get_int (value), PROP_LAYER, uses (self, MS_VIEW_USES_LAYER)); break;
    case PROP_HEAD: set_int (self, &self->head, g_value_get_int (value), PROP_HEAD, uses (self, MS_VIEW_USES_HEAD)); break;
    case PROP_COLORMAP: memscope_figure_view_set_colormap (self, (MsColormap) g_value_get_enum (value)); break;
    case PROP_ZOOM_FIRST: set_zoom (self, g_value_get_double (value), self->zoom_span); break;
    case PROP_ZOOM_SPAN: set_zoom (self, self->zoom_first, g_value_get_double (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* ---- GObject ---- */

static void
memscope_figure_view_dispose (GObject *object)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (object);
  /* the desktop's singletons outlive the view: nothing of theirs reaches it once disposed */
  g_signal_handlers_disconnect_by_data (gtk_settings_get_default (), self);
  g_signal_handlers_disconnect_by_data (adw_style_manager_get_default (), self);
  self->serial++;   /* a job still in flight finds itself superseded */
  if (self->job)
    g_cancellable_cancel (self->job);
  g_clear_object (&self->job);
  g_clear_handle_id (&self->start_source, g_source_remove);
  g_clear_handle_id (&self->spinner_source, g_source_remove);
  g_clear_pointer (&self->spinner, gtk_widget_unparent);
  memscope_figure_view_shown_free_in_background (g_steal_pointer (&self->shown));
  g_clear_pointer (&self->message, g_free);
  g_clear_object (&self->run_a);
  g_clear_object (&self->run_b);
  G_OBJECT_CLASS (memscope_figure_view_parent_class)->dispose (object);
}

/* Every frame that redraws a figure has the renderer allocate and free
 * window-sized surfaces (a few MB each).  glibc's defaults give such
 * blocks back to the kernel on free (mmap, or trimming the heap's top),
 * so each such frame faults in and zeroes them again: about half of the
 * main thread's time in a zoom or pan frame.  Keeping up to
 * KEEP_FREE_BYTES of freed heap, and serving blocks below
 * MMAP_THRESHOLD_BYTES from it, makes those frames reuse the pages.
 * Process-wide, set once (the first figure view). */
#define MMAP_THRESHOLD_BYTES (32 << 20)
#define KEEP_FREE_BYTES (64 << 20)

static void
keep_frame_pages (void)
{
#ifdef __GLIBC__
  mallopt (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
  mallopt (M_TRIM_THRESHOLD, KEEP_FREE_BYTES);
#endif
}

static void
memscope_figure_view_class_init (MemscopeFigureViewClass *klass)
{
  keep_frame_pages ();
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = memscope_figure_view_dispose;
  object_class->get_property = memscope_figure_view_get_property;
  object_class->set_property = memscope_figure_view_set_property;
  widget_class->snapshot = memscope_figure_view_snapshot;
  widget_class->measure = memscope_figure_view_measure;
  widget_class->size_allocate = memscope_figure_view_size_allocate;
  widget_class->map = memscope_figure_view_map;
  widget_class->unmap = memscope_figure_view_unmap;
  widget_class->query_tooltip = memscope_figure_view_query_tooltip;
  gtk_widget_class_set_css_name (widget_class, "figureview");

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  props[PROP_KIND] = g_param_spec_int ("kind", NULL, NULL, 0, G_MAXINT, 0,
                                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_RUN_A] = g_param_spec_object ("run-a", NULL, NULL, MEMSCOPE_TYPE_RUN, rw);
  props[PROP_RUN_B] = g_param_spec_object ("run-b", NULL, NULL, MEMSCOPE_TYPE_RUN, rw);
  props[PROP_DIFFERENCE] = g_param_spec_boolean ("difference", NULL, NULL, FALSE, rw);
  props[PROP_SEGMENT] = g_param_spec_int ("segment", NULL, NULL, -1, G_MAXINT, 0, rw);
  props[PROP_SLOT] = g_param_spec_int ("slot", NULL, NULL, -1, G_MAXINT, -1, rw);
  props[PROP_LAYER] = g_param_spec_int ("layer", NULL, NULL, -1, G_MAXINT, -1, rw);
  props[PROP_HEAD] = g_param_spec_int ("head", NULL, NULL, -1, G_MAXINT, -1, rw);
  props[PROP_COLORMAP] = g_param_spec_enum ("colormap", NULL, NULL, MEMSCOPE_TYPE_COLORMAP, MS_COLORMAP_VIRIDIS, rw);
  props[PROP_ZOOM_FIRST] = g_param_spec_double ("zoom-first", NULL, NULL, 0, G_MAXDOUBLE, 0, rw);
  props[PROP_ZOOM_SPAN] = g_param_spec_double ("zoom-span", NULL, NULL, 0, G_MAXDOUBLE, 0, rw);
  props[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /* (segment, slot): what a click selected, −1 for "not this one" */
  signals[SIGNAL_SELECTED] = g_signal_new ("selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
}

static void
memscope_figure_view_init (MemscopeFigureView *self)
{
  self->segment = 0;
  self->slot = -1;
  self->hover_segment = self->hover_token[0] = self->hover_token[1] = -1;
  self->layer = -1;
  self->head = -1;
  self->stale = STALE_DATA;
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_visible (self->spinner, FALSE);
  gtk_widget_set_parent (self->spinner, GTK_WIDGET (self));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  /* No minimum height: the figure is laid out for whatever height it is
   * given (its titles shrink, then wrap), whereas a GtkPaned that gives a
   * child less than its minimum still allocates the minimum, shifted up and
   * clipped, which would cut off the figure's title (the window's paned
   * gives the views less when the error banner takes room). */
  gtk_widget_set_size_request (GTK_WIDGET (self), 320, -1);
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
  static const char *const fonts[] = { "notify::gtk-font-name", "notify::gtk-xft-dpi" };
  for (guint i = 0; i < G_N_ELEMENTS (fonts); i++)
    g_signal_connect_object (gtk_settings_get_default (), fonts[i], G_CALLBACK (on_desktop_changed), self, 0);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (on_desktop_changed), self, 0);
}

GtkWidget *
memscope_figure_view_new (MsViewKind kind)
{
  return g_object_new (MEMSCOPE_TYPE_FIGURE_VIEW, "kind", (int) kind, NULL);
}
