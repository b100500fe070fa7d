/* memscope-figure-view-jobs.c — a figure view's jobs: loading its data
 * and drawing its figure on a worker thread (GTask), and exports of what it
 * shows.  The main thread copies a job's inputs, the worker reads the
 * recordings on connections of its own and draws into an image, and the
 * main thread takes the result unless a newer job superseded it. */
#include "memscope-figure-view.h"
#include "memscope-figure-view-private.h"

#include <math.h>

#include "ms-export.h"
#include "ms-label.h"
#include "memscope-task.h"

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
void
memscope_figure_view_shown_free_in_background (Shown *s)
{
  if (!s)
    return;
  g_clear_pointer (&s->node, gsk_render_node_unref);
  GTask *task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, s, NULL);
  g_task_run_in_thread (task, free_shown);
  g_object_unref (task);
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
  double zoom;                 /* widget units per figure unit (text at the desktop's size) */
  gboolean dark;               /* light ink on a dark background */
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
 * head for the attention views, the selected slot for provenance, and a
 * horizon for the provenance of long runs (see the header). */
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
  if (ms_view_info (self->kind)->params & MS_VIEW_USES_HORIZON
      && memscope_figure_view_total_segments (self) > MEMSCOPE_FIGURE_VIEW_FULL_PROVENANCE)
    p.horizon = MEMSCOPE_FIGURE_VIEW_HORIZON;   /* both runs alike */
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

/* Whether @v's rows are the same bins of segments as its columns
 * (similarity): ms_view_data_bin_columns merges both exactly, so a
 * figure laid out smaller than loaded is merged, not loaded again (a
 * second pass over every memory state). */
static gboolean
square (const MsViewData *v)
{
  return v->kind == MS_VIEW_SIMILARITY;
}

/* Whether @v has more rows on a segment or source axis than the data area
 * has pixels (@height): then rows would share pixels and be drawn sampled,
 * so the view is loaded again at the size. */
static gboolean
rows_finer_than (const MsViewData *v, int height)
{
  gboolean y = (v->y.kind == MS_VIEW_AXIS_SEGMENT && !square (v)) || v->y.kind == MS_VIEW_AXIS_SOURCE;
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

/* Draws @s's figure on white (dark grey when @job is dark) into an image of
 * the job's size (device pixels: size × scale), scaled by the job's zoom so
 * its text has the desktop's size, and lays out its data areas (in widget
 * units) on the same surface,
 * so hit-testing measures text as the drawing did.  Pixels rather than a
 * recording: a frame then costs one copy of the image whatever the figure
 * holds (a line plot of thousands of points replayed at every frame is
 * not bounded so). */
static void
render (Shown *s, const Job *job)
{
  s->width = job->width, s->height = job->height, s->scale = job->scale;
  s->window_first = job->first, s->window_n = job->span, s->zoomed = job->last > 0;
  s->zoom = job->zoom, s->dark = job->dark;
  cairo_surface_t *surface
    = cairo_image_surface_create (CAIRO_FORMAT_RGB24, job->width * job->scale, job->height * job->scale);
  cairo_surface_set_device_scale (surface, job->scale, job->scale);
  cairo_t *cr = cairo_create (surface);
  if (job->dark)
    {
      cairo_set_source_rgb (cr, DARK_BACKGROUND, DARK_BACKGROUND, DARK_BACKGROUND);
      ms_figure_set_ink (cr, DARK_INK, DARK_INK, DARK_INK);
    }
  else
    cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  /* laid out in figure units, drawn @zoom times larger */
  double fw = job->width / job->zoom, fh = job->height / job->zoom;
  cairo_scale (cr, job->zoom, job->zoom);
  ms_view_figure_draw (cr, fw, fh, s->figure);
  s->n_plots = ms_view_figure_get_plot_rects (s->figure, cr, fw, fh, s->plots);
  for (int i = 0; i < s->n_plots; i++)
    {
      MsRect *r = &s->plots[i];
      r->x *= job->zoom, r->y *= job->zoom, r->width *= job->zoom, r->height *= job->zoom;
    }
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  s->image = surface;
}

/* Worker thread: loads the views at the resolution they are drawn (the
 * data area's pixels, guessed from the figure shown or the widget), builds
 * the figure and draws it.  When the figure lays out fewer pixels than the
 * data has cells, columns are merged (ms_view_data_bin_columns; similarity's
 * rows with them) and rows on a segment or source axis loaded again at the
 * exact size, so nothing is sampled.
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
      Loaded *merged = reload ? NULL : merged_to (s->data, MAX (square (s->data->a) ? MIN (w, h) : w, 1));
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

void
memscope_figure_view_update_busy (MemscopeFigureView *self)
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
      memscope_figure_view_notify_loading (self);
    }
}

/* Shows @message in place of a figure. */
static void
show_message (MemscopeFigureView *self, const char *message)
{
  memscope_figure_view_shown_free_in_background (g_steal_pointer (&self->shown));
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
      memscope_figure_view_shown_free_in_background (s);
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
  memscope_figure_view_update_busy (self);
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
      memscope_figure_view_update_busy (self);   /* mapping or the first allocation starts it again */
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
      memscope_figure_view_update_busy (self);
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
          memscope_figure_view_update_busy (self);
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
  job->zoom = memscope_figure_view_get_text_zoom (self);
  job->dark = memscope_figure_view_get_dark (self);
  int first, n;
  if (memscope_figure_view_get_zoom (self, &first, &n))
    job->first = first, job->last = first + n, job->span = n;
  else
    job->span = memscope_figure_view_total_segments (self);   /* compared runs get the same bins */
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
  memscope_figure_view_update_busy (self);
  return G_SOURCE_REMOVE;
}

/* Something the view shows changed: @what must be redone.  Changes made
 * in one main-loop iteration start one job, once the view is mapped. */
void
memscope_figure_view_set_stale (MemscopeFigureView *self, Stale what)
{
  if (!self->spinner)
    return;   /* disposed */
  self->stale = MAX (self->stale, what);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) && !self->start_source)
    self->start_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE, start_job, self, NULL);
  memscope_figure_view_update_busy (self);
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
