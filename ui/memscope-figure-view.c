/* memscope-figure-view.c — a recorded view drawn by the shared renderer,
 * with hover tooltips, click-to-select and zoom along the segment axis.
 * Loading and drawing run as jobs on worker threads (see the header); the
 * widget keeps what the last finished job made. */
#include "memscope-figure-view.h"
#include "ms-heatmap.h"

#include <math.h>

#include "ms-colormap.h"
#include "ms-error.h"
#include "ms-export.h"
#include "memscope-task.h"

/* The outline of the current segment and the selected slot: GNOME red,
 * a colour none of the colormaps uses. */
#define HIGHLIGHT_R (0xe0 / 255.0)
#define HIGHLIGHT_G (0x1b / 255.0)
#define HIGHLIGHT_B (0x24 / 255.0)

/* The data of run A and, comparing, run B: immutable once loaded and
 * shared (atomic reference count) between the widget and the jobs that
 * build figures from it. */
typedef struct {
  MsViewData *a;
  MsViewData *b;   /* NULL unless comparing */
} Loaded;

static void
loaded_clear (gpointer data)
{
  Loaded *l = data;
  g_clear_pointer (&l->a, ms_view_data_free);
  g_clear_pointer (&l->b, ms_view_data_free);
}

static void
loaded_unref (Loaded *l)
{
  if (l)
    g_atomic_rc_box_release_full (l, loaded_clear);
}

/* What a job made and the widget shows: the figure of @data drawn at
 * @width × @height into @image, with its data areas for hit-testing.
 * Owned by one thread at a time: the job's, then the widget's. */
typedef struct {
  Loaded *data;
  MsViewFigure *figure;
  cairo_surface_t *image;  /* the figure, opaque RGB24 at @scale device pixels per unit */
  GskRenderNode *node;     /* paints @image; made on the main thread, the same node
                            * every frame, so hover and selection only redraw (and
                            * damage) the outlines over it */
  int width, height, scale;
  MsRect plots[3];
  int n_plots;
} Shown;

static void
shown_free (Shown *s)
{
  if (!s)
    return;
  loaded_unref (s->data);
  g_clear_pointer (&s->figure, ms_view_figure_free);
  g_clear_pointer (&s->node, gsk_render_node_unref);
  g_clear_pointer (&s->image, cairo_surface_destroy);
  g_free (s);
}

static void
free_shown (GTask *task, gpointer source, gpointer shown, GCancellable *cancellable)
{
  shown_free (shown);
}

/* Frees @s on a worker thread: giving back a large view's pages takes
 * long enough to miss frames.  Main thread: the render node, a GTK
 * object, is released here. */
static void
shown_free_in_background (Shown *s)
{
  if (!s)
    return;
  g_clear_pointer (&s->node, gsk_render_node_unref);
  GTask *task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, s, NULL);
  g_task_run_in_thread (task, free_shown);
  g_object_unref (task);
}

/* What the next job redoes, least to most. */
typedef enum {
  STALE_NONE,
  STALE_FIGURE,   /* a new figure (colormap, difference) from the loaded data */
  STALE_EXTENT,   /* the same view over another zoom window or at another size: loaded
                   * again while the old picture stays (no spinner: it is still the view) */
  STALE_DATA,     /* load the data again (runs, parameters), then a new figure */
} Stale;

struct _MemscopeFigureView {
  GtkWidget parent_instance;

  /* Owned */
  MemscopeRun *run_a;
  MemscopeRun *run_b;          /* NULL unless comparing */
  Shown *shown;                /* NULL: nothing to draw yet, or @message */
  char *message;               /* why there is no figure */
  GCancellable *job;           /* the job in flight, NULL when none */
  GtkWidget *spinner;          /* child: shown while data loads */

  MsViewKind kind;
  MsColormap cmap;
  gboolean difference;
  int segment;
  int slot;
  int layer;
  int head;
  double zoom_first;           /* zoom window over the segments: first … */
  double zoom_span;            /* … and width; 0 = the whole run */

  Stale stale;                 /* what the next job must redo */
  gboolean loading;            /* a job is waiting or in flight */
  gboolean loading_data;       /* the job in flight reads data: dimmed, with the spinner */
  int job_width, job_height, job_scale;   /* the size the job in flight draws at */
  guint start_source;          /* the idle that starts the next job */
  guint spinner_source;        /* the timeout that shows the spinner */
  guint serial;                /* of the newest job; older results are dropped */
  double pointer_x, pointer_y; /* last pointer position, −1 when outside */
};

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

/* ---- jobs: loading and drawing on a worker thread ---- */

/* The segments of the runs shown (the longer of the two). */
static int
total_segments (MemscopeFigureView *self)
{
  int a = self->run_a ? memscope_run_get_segments_done (self->run_a) : 0;
  return MAX (a, self->run_b ? memscope_run_get_segments_done (self->run_b) : 0);
}

/* The segments [*first, *first + *n) the zoom window touches; FALSE (and
 * the whole run) unless the view is zoomed. */
static gboolean
zoom_window (MemscopeFigureView *self, int *first, int *n)
{
  int total = total_segments (self);
  if (!zoomable (self->kind) || self->zoom_span <= 0 || self->zoom_span >= total)
    {
      *first = 0, *n = total;
      return FALSE;
    }
  double first_x = CLAMP (self->zoom_first, 0, total - self->zoom_span);
  *first = (int) floor (first_x);
  *n = MIN ((int) ceil (first_x + self->zoom_span), total) - *first;
  return TRUE;
}

/* One job's inputs, copied on the main thread so the worker touches no
 * widget and no run. */
typedef struct {
  MsViewKind kind;
  int n_runs;                  /* recordings to read: 0 when @data is given */
  char *path[2];
  gint64 run_id[2];
  MsViewParams params[2];      /* the window and output size are set by the worker */
  Loaded *data;                /* when not NULL: a new figure of it, nothing read */
  char *name[2];               /* the runs' names, for compared figures */
  gboolean difference;
  MsColormap cmap;
  int first, last;             /* the segment window of zoomable views; last 0 = the end */
  int span;                    /* the segments the output columns are for (MsViewParams.span) */
  int plot_width, plot_height; /* a guess at the data area, device pixels (the shown figure's) */
  int width, height, scale;    /* the widget's size and scale factor */
} Job;

static void
job_free (Job *job)
{
  for (int i = 0; i < 2; i++)
    {
      g_free (job->path[i]);
      g_free (job->name[i]);
    }
  loaded_unref (job->data);
  g_free (job);
}

/* What ms_view_load is asked for @run: the current segment, layer and
 * head for the attention views, the selected slot for provenance. */
static MsViewParams
load_params (MemscopeFigureView *self, MemscopeRun *run)
{
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
  return p;
}

/* The figure of @d; reads @d only, so any thread may build. */
static MsViewFigure *
build (const Loaded *d, const char *name_a, const char *name_b, gboolean difference, MsColormap cmap,
       const char *title, GError **error)
{
  if (d->b)
    return ms_view_figure_new_compare (d->a, name_a, d->b, name_b, difference, cmap, title, error);
  return ms_view_figure_new (d->a, cmap, title, error);
}

/* Whether @v has more rows on a segment or source axis than the data area
 * has pixels (@height): then rows would share pixels and be drawn sampled,
 * so the view is loaded again at the size. */
static gboolean
rows_finer_than (const MsViewData *v, int height)
{
  gboolean y = v->y.kind == MS_VIEW_AXIS_SEGMENT || v->y.kind == MS_VIEW_AXIS_SOURCE;
  return y && v->y.n > height;
}

/* @d with its segment columns merged to at most @max_cols (the device
 * pixels of the data area the figure lays out), or NULL when they fit. */
static Loaded *
merged_to (const Loaded *d, int max_cols)
{
  if (d->a->x.kind != MS_VIEW_AXIS_SEGMENT || MAX (d->a->cols, d->b ? d->b->cols : 0) <= max_cols)
    return NULL;
  Loaded *m = g_atomic_rc_box_new0 (Loaded);
  m->a = ms_view_data_bin_columns (d->a, max_cols);
  m->b = d->b ? ms_view_data_bin_columns (d->b, max_cols) : NULL;
  return m;
}

/* Loads the job's runs at an output size of @width × @height device
 * pixels, each on a connection of its own (opened and closed here). */
static Loaded *
load (Job *job, int width, int height, GCancellable *cancellable, GError **error)
{
  Loaded *d = g_atomic_rc_box_new0 (Loaded);
  for (int i = 0; i < job->n_runs && !g_cancellable_is_cancelled (cancellable); i++)
    {
      MsViewParams p = job->params[i];
      p.first = job->first, p.last = job->last, p.span = job->span;
      p.max_cols = MAX (width, 1), p.max_rows = MAX (height, 1);
      g_autoptr (MsRecording) rec = ms_recording_open (job->path[i], error);
      MsViewData *v = rec ? ms_view_load (rec, job->run_id[i], job->kind, &p, error) : NULL;
      if (!v)
        {
          loaded_unref (d);
          return NULL;
        }
      *(i == 0 ? &d->a : &d->b) = v;
    }
  return d;
}

/* Draws @s's figure on white into an image of the job's size (device
 * pixels: size × scale) and lays out its data areas on the same surface,
 * so hit-testing measures text as the drawing did.  Pixels rather than a
 * recording: a frame then costs one copy of the image whatever the figure
 * holds (a line plot of thousands of points replayed at every frame is
 * not bounded so). */
static void
render (Shown *s, const Job *job)
{
  s->width = job->width, s->height = job->height, s->scale = job->scale;
  cairo_surface_t *surface
    = cairo_image_surface_create (CAIRO_FORMAT_RGB24, job->width * job->scale, job->height * job->scale);
  cairo_surface_set_device_scale (surface, job->scale, job->scale);
  cairo_t *cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  ms_view_figure_draw (cr, job->width, job->height, s->figure);
  s->n_plots = ms_view_figure_get_plot_rects (s->figure, cr, job->width, job->height, s->plots);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  s->image = surface;
}

/* Worker thread: loads the views at the resolution they are drawn (the
 * data area's pixels, guessed from the figure shown or the widget), builds
 * the figure and draws it.  When the figure lays out fewer pixels than the
 * data has cells, columns are merged (ms_view_data_bin_columns) and rows on
 * a segment axis loaded again at the exact size, so nothing is sampled.
 * Between stages a cancelled job stops; its result would be dropped
 * anyway. */
static void
job_run (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  GError *error = NULL;
  Shown *s = g_new0 (Shown, 1);
  int width = job->plot_width, height = job->plot_height;
  for (int attempt = 0; attempt < 2; attempt++)
    {
      if (job->data)
        s->data = g_atomic_rc_box_acquire (job->data);
      else if (!(s->data = load (job, width, height, cancellable, &error)))
        break;
      if (g_cancellable_is_cancelled (cancellable)
          || !(s->figure = build (s->data, job->name[0], job->name[1], job->difference, job->cmap, NULL, &error)))
        break;
      render (s, job);
      if (job->data || attempt > 0)
        break;
      int w = G_MAXINT, h = G_MAXINT;
      for (int i = 0; i < s->n_plots; i++)
        {
          w = MIN (w, (int) floor (s->plots[i].width * job->scale));
          h = MIN (h, (int) floor (s->plots[i].height * job->scale));
        }
      gboolean reload = rows_finer_than (s->data->a, h) || (s->data->b && rows_finer_than (s->data->b, h));
      Loaded *merged = reload ? NULL : merged_to (s->data, MAX (w, 1));
      if (!reload && !merged)
        break;
      width = w, height = h;
      g_clear_pointer (&s->figure, ms_view_figure_free);
      g_clear_pointer (&s->image, cairo_surface_destroy);
      g_clear_pointer (&s->data, loaded_unref);
      if (merged)
        {
          if ((s->figure = build (merged, job->name[0], job->name[1], job->difference, job->cmap, NULL, &error)))
            render (s, job);
          s->data = merged;
          break;
        }
    }
  if (error)
    g_task_return_error (task, error);
  else if (!g_task_return_error_if_cancelled (task))
    g_task_return_pointer (task, g_steal_pointer (&s), (GDestroyNotify) shown_free);
  shown_free (s);
}

static void
show_spinner (MemscopeFigureView *self, gboolean show)
{
  if (show == gtk_widget_get_visible (self->spinner))
    return;
  gtk_widget_set_visible (self->spinner, show);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), show);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
spinner_due (gpointer data)
{
  MemscopeFigureView *self = data;
  self->spinner_source = 0;
  show_spinner (self, TRUE);
  return G_SOURCE_REMOVE;
}

/* "loading", and the spinner while other data loads: shown once a load
 * has taken SPINNER_DELAY_MS, so stepping through quick loads does not
 * flash it. */
#define SPINNER_DELAY_MS 150

static void
update_busy (MemscopeFigureView *self)
{
  if (!self->spinner)
    return;   /* disposed */
  gboolean mapped = gtk_widget_get_mapped (GTK_WIDGET (self));
  gboolean loading = (mapped && self->stale != STALE_NONE) || self->job != NULL;
  gboolean reading = (mapped && self->stale == STALE_DATA) || (self->job && self->loading_data);
  if (!reading)
    {
      g_clear_handle_id (&self->spinner_source, g_source_remove);
      show_spinner (self, FALSE);
    }
  else if (!gtk_widget_get_visible (self->spinner) && !self->spinner_source)
    self->spinner_source = g_timeout_add (SPINNER_DELAY_MS, spinner_due, self);
  if (loading != self->loading)
    {
      self->loading = loading;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LOADING]);
    }
}

/* Shows @message in place of a figure. */
static void
show_message (MemscopeFigureView *self, const char *message)
{
  shown_free_in_background (g_steal_pointer (&self->shown));
  g_free (self->message);
  self->message = g_strdup (message);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Main thread: the job's result, unless a newer job superseded it. */
static void
job_done (GObject *object, GAsyncResult *result, gpointer serial)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (object);
  g_autoptr (GError) error = NULL;
  Shown *s = g_task_propagate_pointer (G_TASK (result), &error);
  if (GPOINTER_TO_UINT (serial) != self->serial || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      shown_free_in_background (s);
      return;
    }
  g_clear_object (&self->job);
  self->loading_data = FALSE;
  if (s)
    {
      s->node = gsk_cairo_node_new (&GRAPHENE_RECT_INIT (0, 0, s->width, s->height));
      cairo_t *cr = gsk_cairo_node_get_draw_context (s->node);
      cairo_set_source_surface (cr, s->image, 0, 0);
      cairo_paint (cr);
      cairo_destroy (cr);
      show_message (self, NULL);
      self->shown = s;
    }
  else
    show_message (self, error->message);
  update_busy (self);
}

/* Starts a job for what is stale, cancelling the one in flight. */
static gboolean
start_job (gpointer data)
{
  MemscopeFigureView *self = data;
  self->start_source = 0;
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  if (self->stale == STALE_NONE || !gtk_widget_get_mapped (GTK_WIDGET (self)) || w <= 0 || h <= 0)
    {
      update_busy (self);   /* mapping or the first allocation starts it again */
      return G_SOURCE_REMOVE;
    }
  Stale what = self->stale;
  if (!self->shown && what < STALE_EXTENT)
    what = STALE_EXTENT;   /* nothing loaded to build a figure from */
  self->stale = STALE_NONE;
  if (self->job)
    g_cancellable_cancel (self->job);
  g_clear_object (&self->job);
  self->serial++;

  MemscopeRun *runs[2] = { self->run_a, self->run_b };
  int n_runs = !self->run_a ? 0 : self->run_b ? 2 : 1;
  if (n_runs == 0)
    {
      show_message (self, "Open a model, an input or a recording to see this view.");
      update_busy (self);
      return G_SOURCE_REMOVE;
    }
  Job *job = g_new0 (Job, 1);
  job->kind = self->kind;
  for (int i = 0; i < n_runs; i++)
    {
      MemscopeRun *run = runs[i];
      job->name[i] = g_strdup (memscope_run_get_name (run));
      if (what < STALE_EXTENT)
        continue;
      if (!memscope_run_get_db_path (run) || memscope_run_get_id (run) == 0
          || memscope_run_get_segments_done (run) == 0)
        {
          g_autofree char *message = g_strdup_printf ("%s: no segment recorded yet", memscope_run_get_name (run));
          show_message (self, message);
          job_free (job);
          update_busy (self);
          return G_SOURCE_REMOVE;
        }
      job->path[i] = g_strdup (memscope_run_get_db_path (run));
      job->run_id[i] = memscope_run_get_id (run);
      job->params[i] = load_params (self, run);
    }
  if (what >= STALE_EXTENT)
    job->n_runs = n_runs;
  else
    job->data = g_atomic_rc_box_acquire (self->shown->data);
  job->difference = self->difference;
  job->cmap = self->cmap;
  job->width = w, job->height = h;
  job->scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  int first, n;
  if (zoom_window (self, &first, &n))
    job->first = first, job->last = first + n, job->span = n;
  else
    job->span = total_segments (self);   /* compared runs get the same bins */
  /* the data area of the figure shown, when it has this size, else the widget */
  const Shown *s = self->shown;
  gboolean same = s && s->n_plots > 0 && s->width == w && s->height == h && s->scale == job->scale;
  job->plot_width = same ? (int) floor (s->plots[0].width * job->scale) : w * job->scale;
  job->plot_height = same ? (int) floor (s->plots[0].height * job->scale) : h * job->scale;
  self->job_width = w, self->job_height = h, self->job_scale = job->scale;

  self->job = g_cancellable_new ();
  self->loading_data = what == STALE_DATA;
  GTask *task = g_task_new (self, self->job, job_done, GUINT_TO_POINTER (self->serial));
  g_task_set_source_tag (task, start_job);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  memscope_task_run_in_thread (task, job_run);
  g_object_unref (task);
  update_busy (self);
  return G_SOURCE_REMOVE;
}

/* Something the view shows changed: @what must be redone.  Changes made
 * in one main-loop iteration start one job, once the view is mapped. */
static void
invalidate (MemscopeFigureView *self, Stale what)
{
  if (!self->spinner)
    return;   /* disposed */
  self->stale = MAX (self->stale, what);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) && !self->start_source)
    self->start_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE, start_job, self, NULL);
  update_busy (self);
}

gboolean
memscope_figure_view_update (MemscopeFigureView *self, GError **error)
{
  g_return_val_if_fail (MEMSCOPE_IS_FIGURE_VIEW (self), FALSE);
  if (self->shown)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       self->message ? self->message : self->loading ? "loading" : "no figure");
  return FALSE;
}

MsViewFigure *
memscope_figure_view_build_figure (MemscopeFigureView *self, MsColormap cmap, const char *title, GError **error)
{
  if (!memscope_figure_view_update (self, error))
    return NULL;
  return build (self->shown->data, self->run_a ? memscope_run_get_name (self->run_a) : NULL,
                self->run_b ? memscope_run_get_name (self->run_b) : NULL, self->difference, cmap, title, error);
}

/* An export's inputs, copied on the main thread. */
typedef struct {
  Loaded *data;
  char *name[2];
  gboolean difference;
  MsColormap cmap;
  char *title;
  char *path;
  double width_in, height_in, dpi;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  loaded_unref (job->data);
  g_free (job->name[0]);
  g_free (job->name[1]);
  g_free (job->title);
  g_free (job->path);
  g_free (job);
}

static void
export_job_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  ExportJob *job = data;
  GError *error = NULL;
  g_autoptr (MsViewFigure) fig = build (job->data, job->name[0], job->name[1], job->difference, job->cmap,
                                        job->title, &error);
  if (fig && ms_figure_export (job->path, job->width_in, job->height_in, job->dpi, ms_view_figure_draw, fig, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
memscope_figure_view_export_async (MemscopeFigureView *self, const char *path, double width_in, double height_in,
                                   double dpi, MsColormap cmap, const char *title, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, memscope_figure_view_export_async);
  GError *error = NULL;
  if (!memscope_figure_view_update (self, &error))
    return g_task_return_error (task, error);
  ExportJob *job = g_new0 (ExportJob, 1);
  job->data = g_atomic_rc_box_acquire (self->shown->data);
  job->name[0] = g_strdup (self->run_a ? memscope_run_get_name (self->run_a) : NULL);
  job->name[1] = g_strdup (self->run_b ? memscope_run_get_name (self->run_b) : NULL);
  job->difference = self->difference;
  job->cmap = cmap;
  job->title = g_strdup (title);
  job->path = g_strdup (path);
  job->width_in = width_in, job->height_in = height_in, job->dpi = dpi;
  g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
  memscope_task_run_in_thread (task, export_job_run);
}

gboolean
memscope_figure_view_export_finish (MemscopeFigureView *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
memscope_figure_view_get_loading (MemscopeFigureView *self)
{
  return self->loading;
}

const MsViewData *
memscope_figure_view_get_data (MemscopeFigureView *self, int panel)
{
  if (!self->shown)
    return NULL;
  return panel == 0 ? self->shown->data->a : panel == 1 ? self->shown->data->b : NULL;
}

/* ---- drawing ---- */

/* The shown figure's size in widget units per figure unit: 1 unless the
 * widget was resized and the figure of the new size is being made. */
static void
figure_scale (MemscopeFigureView *self, double *sx, double *sy)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  *sx = self->shown && w > 0 ? (double) w / self->shown->width : 1;
  *sy = self->shown && h > 0 ? (double) h / self->shown->height : 1;
}

/* Where the current segment's column (!@slot) or the selected slot's
 * row or column (@slot) is drawn in @panel, in figure coordinates. */
static gboolean
highlight_rect (MemscopeFigureView *self, int panel, MsRect *out, gboolean slot)
{
  const Shown *s = self->shown;
  const MsViewData *v = panel == 1 && s->data->b ? s->data->b : s->data->a;
  int row, col;
  if (slot)
    return slot_cell (self->kind, self->slot, &row, &col)
           && ms_view_figure_cell_rect_in (s->figure, s->plots, s->n_plots, panel, row, col, out);
  if (!x_is_segment (self->kind) || self->segment < 0)
    return FALSE;
  return ms_view_figure_cell_rect_in (s->figure, s->plots, s->n_plots, panel, -1,
                                      column_of_x (v, self->segment), out);
}

/* The current segment's and the selected slot's outlines: 2 px borders on
 * whole pixels around the cells, so thin cells still show. */
static void
append_highlights (MemscopeFigureView *self, GtkSnapshot *snapshot)
{
  static const GdkRGBA red = { HIGHLIGHT_R, HIGHLIGHT_G, HIGHLIGHT_B, 1 };
  const GdkRGBA colours[4] = { red, red, red, red };
  const float widths[4] = { 2, 2, 2, 2 };
  for (int p = 0; p < self->shown->n_plots; p++)
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

/* Draws only what jobs prepared: the figure's image (stretched while the
 * one of a new size is made), the outlines, the message, and while data loads a
 * veil under the spinner. */
static void
memscope_figure_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  if (self->shown)
    {
      double sx, sy;
      figure_scale (self, &sx, &sy);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_scale (snapshot, (float) sx, (float) sy);
      gtk_snapshot_append_node (snapshot, self->shown->node);
      append_highlights (self, snapshot);
      gtk_snapshot_restore (snapshot);
    }
  else if (self->message)
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
    }
  if (gtk_widget_get_visible (self->spinner))
    {
      static const GdkRGBA veil = { 1, 1, 1, 0.6 };
      gtk_snapshot_append_color (snapshot, &veil, &GRAPHENE_RECT_INIT (0, 0, w, h));
      gtk_widget_snapshot_child (widget, self->spinner, snapshot);
    }
}

static void
memscope_figure_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                              int *natural, int *minimum_baseline, int *natural_baseline)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  gtk_widget_measure (self->spinner, orientation, -1, minimum, natural, NULL, NULL);
}

/* The spinner in the middle; a new size needs the view loaded and drawn
 * for it. */
static void
memscope_figure_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  int scale = gtk_widget_get_scale_factor (widget);
  const Shown *s = self->shown;
  gboolean drawn = s && s->width == width && s->height == height && s->scale == scale;
  gboolean drawing = self->job && self->job_width == width && self->job_height == height && self->job_scale == scale;
  if ((s && !drawn && !drawing) || self->stale != STALE_NONE)
    invalidate (self, STALE_EXTENT);   /* views are loaded at the size they are drawn */
  /* after invalidate (), which may show the spinner */
  int sw = 32, sh = 32;
  gtk_widget_measure (self->spinner, GTK_ORIENTATION_HORIZONTAL, -1, NULL, NULL, NULL, NULL);
  gtk_widget_measure (self->spinner, GTK_ORIENTATION_VERTICAL, -1, NULL, NULL, NULL, NULL);
  gtk_widget_size_allocate (self->spinner, &(GtkAllocation) { (width - sw) / 2, (height - sh) / 2, sw, sh }, -1);
}

static void
memscope_figure_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (memscope_figure_view_parent_class)->map (widget);
  invalidate (MEMSCOPE_FIGURE_VIEW (widget), STALE_NONE);
}

static void
memscope_figure_view_unmap (GtkWidget *widget)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  g_clear_handle_id (&self->start_source, g_source_remove);
  GTK_WIDGET_CLASS (memscope_figure_view_parent_class)->unmap (widget);
  update_busy (self);
}

gboolean
memscope_figure_view_get_highlight_rect (MemscopeFigureView *self, graphene_rect_t *rect)
{
  MsRect r;
  if (!self->shown || !highlight_rect (self, 0, &r, FALSE))
    return FALSE;
  double sx, sy;
  figure_scale (self, &sx, &sy);
  graphene_rect_init (rect, r.x * sx, r.y * sy, r.width * sx, r.height * sy);
  return TRUE;
}

/* ---- what a point means ---- */

/* The panel and cell under widget point (@x, @y).  FALSE off the data. */
static gboolean
hit_at (MemscopeFigureView *self, double x, double y, MsViewFigureHit *hit)
{
  const Shown *s = self->shown;
  double sx, sy;
  figure_scale (self, &sx, &sy);
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

/* A new zoom window: the view is loaded again for it, at the same output
 * size. */
static void
set_zoom (MemscopeFigureView *self, double first, double span)
{
  int total = total_segments (self);
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
  invalidate (self, STALE_EXTENT);
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
memscope_figure_view_zoom (MemscopeFigureView *self, double factor, double anchor)
{
  int total = total_segments (self);
  if (!zoomable (self->kind) || total == 0 || factor <= 0)
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

gboolean
memscope_figure_view_get_zoom (MemscopeFigureView *self, int *first, int *n)
{
  return zoom_window (self, first, n);
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
  if (!zoomable (self->kind) || !self->shown)
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
memscope_figure_view_invalidate (MemscopeFigureView *self)
{
  invalidate (self, STALE_DATA);
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
  invalidate (self, STALE_DATA);
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
    invalidate (self, STALE_DATA);
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
  invalidate (self, STALE_FIGURE);
}

void
memscope_figure_view_set_colormap (MemscopeFigureView *self, MsColormap cmap)
{
  if (cmap == self->cmap)
    return;
  self->cmap = cmap;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COLORMAP]);
  invalidate (self, STALE_FIGURE);
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
  self->serial++;   /* a job still in flight finds itself superseded */
  if (self->job)
    g_cancellable_cancel (self->job);
  g_clear_object (&self->job);
  g_clear_handle_id (&self->start_source, g_source_remove);
  g_clear_handle_id (&self->spinner_source, g_source_remove);
  g_clear_pointer (&self->spinner, gtk_widget_unparent);
  shown_free_in_background (g_steal_pointer (&self->shown));
  g_clear_pointer (&self->message, g_free);
  g_clear_object (&self->run_a);
  g_clear_object (&self->run_b);
  G_OBJECT_CLASS (memscope_figure_view_parent_class)->dispose (object);
}

static void
memscope_figure_view_class_init (MemscopeFigureViewClass *klass)
{
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
  self->layer = -1;
  self->head = -1;
  self->stale = STALE_DATA;
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_visible (self->spinner, FALSE);
  gtk_widget_set_parent (self->spinner, GTK_WIDGET (self));
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
  return g_object_new (MEMSCOPE_TYPE_FIGURE_VIEW, "kind", (int) kind, NULL);
}
