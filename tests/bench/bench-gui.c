/* bench-gui.c — how fluid the workbench is on long runs: one view of one
 * 12,600-segment run (first paint, hover, zoom, pan), then the whole window
 * comparing two such runs while it switches through every view and steps
 * through segments (issue 20: every main-thread frame under 16 ms, peak RSS
 * under 500 MB).
 *
 *   xvfb-run -a env GSK_RENDERER=cairo GTK_A11Y=none bench-gui [--segments N] [--slots K] [--frames F]
 *                                                      [--steps T] [--interactions I] [--dir DIR]
 *                                                      [--compare-only] [--single-only] [--views NAME,…]
 *                                                      [--recording FILE [--recording FILE]]
 *
 * Writes two random, untrained RMT models with K memory slots (d 16, 1
 * layer, 2 heads, segment_len 4; seeds differ) and a pseudo-random input of
 * N segments, and records each into its own recording with ms_record
 * (attention stored as f16, so the reader and writer views have data).
 * With --dir, recordings already there with N committed segments are
 * reused.  With --recording, the first run of each file given is used
 * instead (a second file is run B; with one, run B is the same run opened
 * a second time), e.g. a million-token recording made by memscope-cli.
 *
 * Single view (a 1280 × 720 window showing one MemscopeFigureView of run A):
 *   open_to_first_paint_ms  from opening the recording (ms_recording_open)
 *                           to the end of the first frame that drew its
 *                           retention view, measured with the frame clock;
 *   hover_*                 F simulated hovers at different cells: the
 *                           tooltip text (hit-test + lookup) and the frame
 *                           that redraws the view (before-paint → after-paint;
 *                           wall time, and the main thread's CPU time in it);
 *   zoom_redraw_*           F zoom steps (in ×1.5 four times, out four times,
 *                           around different segments): the frame that draws
 *                           the figure of the new window (wall time, and the
 *                           main thread's CPU time in it, _cpu_), and
 *                           zoom_ready_* the time from the call to the end of
 *                           that frame (the window is loaded, and its figure
 *                           built and drawn, on a worker thread);
 *   zoom_first_frame_*      the first frame after each zoom step (it shows
 *                           the old figure's data moved to the new window
 *                           while that window's figure is made): wall, CPU,
 *                           and _at_ the time from the call to its end;
 *   pan_*                   the same for F pans of a 1,000-segment window by
 *                           5% each;
 *   figure_draw_ms          ms_view_figure_draw alone into an image surface
 *                           of the view's size.
 *
 * Compare (a MemscopeWindow of 1280 × 860 opening both recordings, which
 * puts it in Compare): for every view of core's table (ms_view_info, the
 * switcher's order, so a view added there is measured too), the view is
 * made visible (win.view) and then stepped T segments (win.next) (--views:
 * only the views named); one JSON line per view with
 *   figure                  whether the view drew data (the causal views have
 *                           none until `memscope-cli causal` computed it);
 *   switch_ready_ms         from the action to the end of the first frame
 *                           that shows the view's data;
 *   switch_cpu_s            the process's CPU time (all threads) until then:
 *                           what loading the view cost, whatever the load;
 *   step_ready_ms_*         the same for each step;
 *   slot_ready_ms_max       the same for selecting slot 1 (win.slot) and
 *                           clearing the selection again (slot_cpu_s_max:
 *                           the process's CPU time in the longer);
 *   frame_ms_*              main-thread frame time (frame clock before-paint
 *                           → after-paint) of every frame in the view's phase,
 *                           and frame_cpu_ms_* the main thread's CPU time in
 *                           them (on a busy machine the wall time includes
 *                           waiting for a CPU);
 *   stall_ms_max            the longest stretch the main thread spent
 *                           between two polls of its main loop (any work,
 *                           inside a frame or not), and stall_cpu_ms_max the
 *                           most CPU time it used in one;
 *   title                   the title of run A's figure (what the view shows,
 *                           e.g. provenance over a horizon on long runs);
 *   peak_rss_mb             getrusage ru_maxrss at the end of the phase (the
 *                           process's peak so far), rss_mb the resident size
 *                           then;
 *   elapsed_s               seconds since the first compared view began.
 * Then, on each view that drew data, I hovers (the tooltip's text and the
 * frame redrawing the view) and, where the view zooms, I zooms and I pans as
 * in the single view: their frames go to the summary only.
 *
 * Prints JSON lines, then (bench-gui-report.c) a summary in Markdown: the
 * CPU, the load average before and after, first paint, the peak RSS with
 * both runs open, and a table with per view and interaction the frames' wall
 * and main-thread CPU time (median / worst), the time until the data showed,
 * and whether the frames met issue 23's targets (median ≤ 16 ms, worst
 * ≤ 33 ms, wall); then a digest, one row per compared view: the time until its
 * data showed (and the process's CPU time until then), the next segment's,
 * and the median and worst of all its hover, zoom and pan frames (wall and
 * CPU).
 * A benchmark, never a test: nothing here fails on time.
 */
#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench-gui-report.h"
#include "memscope-application.h"
#include "memscope-figure-view.h"
#include "memscope-run.h"
#include "memscope-window.h"
#include "ms-recorder.h"
#include "ms-safetensors.h"
#include "ms-view.h"

static double
peak_rss_mb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;   /* kilobytes on Linux */
}

/* CPU time of the whole process (main thread and workers), seconds: what
 * a view's loading costs, whatever the machine's load. */
static double
process_cpu_s (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
rss_mb (void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");
  if (!f)
    return NAN;
  if (fscanf (f, "%ld %ld", &pages, &resident) != 2)
    resident = 0;
  fclose (f);
  return resident * (double) sysconf (_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* A random RMT (GPT-2 layout) with @slots memory rows, drawn from @seed. */
static gboolean
write_model (const char *path, int slots, guint32 seed, GError **error)
{
  const int d = 16, ff = 32, L = 4, V = 256, P = 2 * slots + L;
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  struct { const char *name; int rows, cols; double scale, offset; } spec[] = {
    { "transformer.wte.weight", V, d, 0.1, 0 },        { "transformer.wpe.weight", P, d, 0.1, 0 },
    { "memory", slots, d, 1.0, 0 },
    { "transformer.h.0.ln_1.weight", 1, d, 0, 1 },     { "transformer.h.0.ln_1.bias", 1, d, 0, 0 },
    { "transformer.h.0.attn.c_attn.weight", d, 3 * d, 0.3, 0 }, { "transformer.h.0.attn.c_attn.bias", 1, 3 * d, 0, 0 },
    { "transformer.h.0.attn.c_proj.weight", d, d, 0.2, 0 },    { "transformer.h.0.attn.c_proj.bias", 1, d, 0, 0 },
    { "transformer.h.0.ln_2.weight", 1, d, 0, 1 },     { "transformer.h.0.ln_2.bias", 1, d, 0, 0 },
    { "transformer.h.0.mlp.c_fc.weight", d, ff, 0.2, 0 },      { "transformer.h.0.mlp.c_fc.bias", 1, ff, 0, 0 },
    { "transformer.h.0.mlp.c_proj.weight", ff, d, 0.2, 0 },    { "transformer.h.0.mlp.c_proj.bias", 1, d, 0, 0 },
    { "transformer.ln_f.weight", 1, d, 0, 1 },         { "transformer.ln_f.bias", 1, d, 0, 0 },
  };
  MsTensorOut out[G_N_ELEMENTS (spec)];
  float *data[G_N_ELEMENTS (spec)];
  for (guint i = 0; i < G_N_ELEMENTS (spec); i++)
    {
      int n = spec[i].rows * spec[i].cols;
      data[i] = g_new (float, n);
      for (int j = 0; j < n; j++)
        data[i][j] = (float) (spec[i].offset + spec[i].scale * (g_rand_double (rand) * 2 - 1));
      out[i] = (MsTensorOut) { spec[i].name, spec[i].rows == 1 ? 1 : 2, { 0 }, data[i] };
      out[i].shape[0] = spec[i].rows == 1 ? spec[i].cols : spec[i].rows;
      out[i].shape[1] = spec[i].cols;
    }
  g_autofree char *config = g_strdup_printf (
    "{\"vocab_size\": %d, \"d_model\": %d, \"n_heads\": 2, \"n_layers\": 1, \"d_ff\": %d, \"n_mem\": %d, "
    "\"segment_len\": %d, \"n_positions\": %d, \"mask\": \"causal\"}", V, d, ff, slots, L, P);
  const char *meta[] = { "memscope.format", "1", "memscope.arch", "rmt", "memscope.config", config,
                         "memscope.tokenizer", "bytes", "memscope.source", "bench-gui: random, untrained", NULL };
  gboolean ok = ms_safetensors_write (path, out, G_N_ELEMENTS (spec), meta, error);
  for (guint i = 0; i < G_N_ELEMENTS (spec); i++)
    g_free (data[i]);
  return ok;
}

/* ---- frames and stalls ---- */

/* The main thread's CPU time, microseconds: on a busy machine a frame's
 * wall time includes time the thread waited for a CPU, its CPU time only
 * the work it did. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gint64 paint_start, paint_end, paint_start_cpu, paint_end_cpu;
static gboolean painted;
static GArray *frame_ms;      /* double: frames of the current phase, when not NULL */
static GArray *frame_cpu_ms;  /* double: their main-thread CPU time */
/* When a view last finished loading ("loading" went FALSE), and the first
 * frame that began after it: the frame that showed what it loaded. */
static gint64 load_end, shown_start, shown_end, shown_start_cpu, shown_end_cpu;

static void
on_before_paint (GdkFrameClock *clock, gpointer data)
{
  paint_start = g_get_monotonic_time ();
  paint_start_cpu = thread_cpu_us ();
}

static void
on_after_paint (GdkFrameClock *clock, gpointer data)
{
  paint_end = g_get_monotonic_time ();
  paint_end_cpu = thread_cpu_us ();
  painted = TRUE;
  if (shown_end == 0 && load_end > 0 && paint_start >= load_end)
    {
      shown_start = paint_start, shown_end = paint_end;
      shown_start_cpu = paint_start_cpu, shown_end_cpu = paint_end_cpu;
    }
  if (frame_ms)
    {
      double ms = (paint_end - paint_start) / 1e3, cpu = (thread_cpu_us () - paint_start_cpu) / 1e3;
      g_array_append_val (frame_ms, ms);
      g_array_append_val (frame_cpu_ms, cpu);
    }
}

static void
wait_for_paint (void)
{
  painted = FALSE;
  while (!painted)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
nudge_view (gpointer view)
{
  gtk_widget_queue_draw (GTK_WIDGET (view));
  return G_SOURCE_CONTINUE;
}

static void
on_loading (GObject *view, GParamSpec *pspec, gpointer data)
{
  if (!memscope_figure_view_get_loading (MEMSCOPE_FIGURE_VIEW (view)))
    {
      load_end = g_get_monotonic_time ();
      shown_end = 0;
    }
}

/* Until @view has loaded what an action at @since asked for (in the
 * background), then the frame that shows it: the first frame that began
 * after the load ended, which may already have been drawn (a frame waited
 * for after the action, or drawn while waiting) — waiting for the next
 * one then would wait for ever, as nothing more is drawn.  When nothing
 * was loaded since the action, a frame drawn after it, or else the next.
 * paint_start/_end (and their CPU times) are that frame's. */
static void
wait_for_view (MemscopeFigureView *view, gint64 since)
{
  if (!g_object_get_data (G_OBJECT (view), "bench-gui-loading"))
    {
      g_signal_connect (view, "notify::loading", G_CALLBACK (on_loading), NULL);
      g_object_set_data (G_OBJECT (view), "bench-gui-loading", GINT_TO_POINTER (1));
    }
  while (memscope_figure_view_get_loading (view))
    g_main_context_iteration (NULL, TRUE);
  /* should a load end with nothing to draw, a frame every 2 s keeps this from waiting for ever */
  guint nudge = g_timeout_add (2000, nudge_view, view);
  if (load_end >= since)
    {
      while (shown_end == 0)
        g_main_context_iteration (NULL, TRUE);
      paint_start = shown_start, paint_end = shown_end;
      paint_start_cpu = shown_start_cpu, paint_end_cpu = shown_end_cpu;
    }
  else if (paint_end < since)
    wait_for_paint ();
  g_source_remove (nudge);
}

/* @view after an action that is not timed (a zoom reset, the window a pan
 * starts from), loaded and drawn. */
static void
settle (MemscopeFigureView *view, gint64 since)
{
  gtk_widget_queue_draw (GTK_WIDGET (view));
  wait_for_view (view, since);
}

/* The main thread's busy stretches: from one return of the main loop's
 * poll to its next call. */
static GPollFunc default_poll;
static gint64 poll_returned, poll_returned_cpu;
static double stall_ms_max, stall_cpu_ms_max;

static gint
timed_poll (GPollFD *fds, guint n_fds, gint timeout)
{
  gint64 now = g_get_monotonic_time (), cpu = thread_cpu_us ();
  if (poll_returned)
    {
      stall_ms_max = MAX (stall_ms_max, (now - poll_returned) / 1e3);
      stall_cpu_ms_max = MAX (stall_cpu_ms_max, (cpu - poll_returned_cpu) / 1e3);
    }
  gint r = default_poll (fds, n_fds, timeout);
  poll_returned = g_get_monotonic_time ();
  poll_returned_cpu = thread_cpu_us ();
  return r;
}

/* ---- the recordings ---- */

/* Records @model_path over @input_path into @db_path, or reuses what is
 * there when it already holds a run of @segments committed segments.
 * Returns the run id; *@record_s is 0 when reused. */
static gint64
record_run (const char *db_path, const char *model_path, const char *input_path, int slots, guint32 seed,
            int segments, double *record_s)
{
  g_autoptr (GError) error = NULL;
  *record_s = 0;
  if (g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr (MsRecording) rec = ms_recording_open (db_path, NULL);
      g_autoptr (GPtrArray) runs = rec ? ms_recording_list_runs (rec, NULL) : NULL;
      if (runs && runs->len == 1 && ((MsRunInfo *) runs->pdata[0])->segments_done == segments
          && ((MsRunInfo *) runs->pdata[0])->config.n_slots == slots)
        return ((MsRunInfo *) runs->pdata[0])->id;
      g_unlink (db_path);
    }
  if (!write_model (model_path, slots, seed, &error))
    g_error ("%s", error->message);
  g_autoptr (MsModel) model = ms_model_load (model_path, &error);
  if (!model)
    g_error ("%s", error->message);
  MsRecordOptions opts = { .name = seed == 7 ? "bench-gui-a" : "bench-gui-b", .attn = MS_ATTN_STORE_F16 };
  gint64 run_id = 0, t = g_get_monotonic_time ();
  if (!ms_record (db_path, model, input_path, &opts, 0, NULL, NULL, NULL, &run_id, &error))
    g_error ("%s", error->message);
  *record_s = (g_get_monotonic_time () - t) / 1e6;
  return run_id;
}

/* ---- one view of one run ---- */

static void
bench_single_view (const char *db_path, gint64 run_id, int segments, int slots, int frames, double record_s)
{
  g_autoptr (GError) error = NULL;
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  GtkWidget *view = memscope_figure_view_new (MS_VIEW_RETENTION);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (view) || !gtk_widget_get_frame_clock (view))
    g_main_context_iteration (NULL, TRUE);
  GdkFrameClock *clock = gtk_widget_get_frame_clock (view);
  gulong before_id = g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), NULL);
  gulong after_id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
  gtk_widget_queue_draw (view);
  wait_for_paint ();

  /* open → first paint */
  gint64 t = g_get_monotonic_time ();
  g_autoptr (MsRecording) rec = ms_recording_open (db_path, &error);
  g_autoptr (MsRunInfo) info = rec ? ms_recording_get_run (rec, run_id, &error) : NULL;
  if (!info)
    g_error ("%s", error->message);
  g_autoptr (MemscopeRun) run = memscope_run_new_recorded (db_path, info);
  memscope_figure_view_set_runs (MEMSCOPE_FIGURE_VIEW (view), run, NULL, FALSE);
  wait_for_view (MEMSCOPE_FIGURE_VIEW (view), t);
  double first_paint_ms = (paint_end - t) / 1e3;
  if (!memscope_figure_view_get_figure (MEMSCOPE_FIGURE_VIEW (view)))
    g_error ("the retention view drew no figure");

  /* hovers: the tooltip text, then the frame redrawing the view */
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  /* the plot as the widget lays it out (its figure is laid out for the widget, then scaled) */
  MsRect plot[3];
  if (memscope_figure_view_get_plot_rects (MEMSCOPE_FIGURE_VIEW (view), plot) < 1)
    g_error ("the retention view has no plot");
  double *tip_ms = g_new (double, frames), *redraw_ms = g_new (double, frames), *redraw_cpu_ms = g_new (double, frames);
  for (int i = 0; i < frames; i++)
    {
      double x = plot[0].x + plot[0].width * (i + 0.5) / frames;
      double y = plot[0].y + plot[0].height * ((i * 7) % frames + 0.5) / frames;
      gint64 t0 = g_get_monotonic_time ();
      g_autofree char *tip = memscope_figure_view_describe_point (MEMSCOPE_FIGURE_VIEW (view), x, y);
      tip_ms[i] = (g_get_monotonic_time () - t0) / 1e3;
      if (!tip)
        g_error ("no tooltip at %.0f, %.0f", x, y);
      memscope_figure_view_set_selection (MEMSCOPE_FIGURE_VIEW (view), i * segments / frames, i % slots);
      wait_for_paint ();
      redraw_ms[i] = (paint_end - paint_start) / 1e3;
      redraw_cpu_ms[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
    }
  /* zoom and pan: each frame shows the figure of the new window */
  MemscopeFigureView *fv = MEMSCOPE_FIGURE_VIEW (view);
  double *zoom_ms = g_new (double, frames), *pan_ms = g_new (double, frames);
  double *zoom_ready_ms = g_new (double, frames), *pan_ready_ms = g_new (double, frames);
  double *zoom_cpu_ms = g_new (double, frames), *pan_cpu_ms = g_new (double, frames);
  /* the first frame after each call (the preview of the new window), its wall and CPU time, and when it ended */
  double *zoom_first_ms = g_new (double, frames), *zoom_first_cpu_ms = g_new (double, frames);
  double *zoom_first_at_ms = g_new (double, frames), *pan_first_ms = g_new (double, frames);
  double *pan_first_cpu_ms = g_new (double, frames), *pan_first_at_ms = g_new (double, frames);
  for (int i = 0; i < frames; i++)
    {
      double anchor = (double) ((i * 7919) % segments);
      gint64 t0 = g_get_monotonic_time ();
      memscope_figure_view_zoom (fv, i % 8 < 4 ? 1.5 : 1 / 1.5, anchor);
      gtk_widget_queue_draw (view);   /* a frame even when the window did not move */
      wait_for_paint ();
      zoom_first_ms[i] = (paint_end - paint_start) / 1e3;
      zoom_first_cpu_ms[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
      zoom_first_at_ms[i] = (paint_end - t0) / 1e3;
      wait_for_view (fv, t0);
      zoom_ms[i] = (paint_end - paint_start) / 1e3;
      zoom_cpu_ms[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
      zoom_ready_ms[i] = (paint_end - t0) / 1e3;
    }
  gint64 t1 = g_get_monotonic_time ();
  memscope_figure_view_reset_zoom (fv);
  memscope_figure_view_zoom (fv, segments / 1000.0, 0);
  settle (fv, t1);
  for (int i = 0; i < frames; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      memscope_figure_view_pan (fv, (i / 20) % 2 ? -50 : 50);
      gtk_widget_queue_draw (view);
      wait_for_paint ();
      pan_first_ms[i] = (paint_end - paint_start) / 1e3;
      pan_first_cpu_ms[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
      pan_first_at_ms[i] = (paint_end - t0) / 1e3;
      wait_for_view (fv, t0);
      pan_ms[i] = (paint_end - paint_start) / 1e3;
      pan_cpu_ms[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
      pan_ready_ms[i] = (paint_end - t0) / 1e3;
    }
  t1 = g_get_monotonic_time ();
  memscope_figure_view_reset_zoom (fv);
  settle (fv, t1);

  /* the figure alone, drawn into an image of the view's size */
  cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *icr = cairo_create (image);
  double *draw_ms = g_new (double, frames);
  for (int i = 0; i < frames; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      ms_view_figure_draw (icr, w, h, memscope_figure_view_get_figure (MEMSCOPE_FIGURE_VIEW (view)));
      cairo_surface_flush (image);
      draw_ms[i] = (g_get_monotonic_time () - t0) / 1e3;
    }
  cairo_destroy (icr);
  cairo_surface_destroy (image);
  printf ("{\"bench\": \"gui\", \"segments\": %d, \"slots\": %d, \"view_px\": [%d, %d], \"record_seconds\": %.2f, "
          "\"open_to_first_paint_ms\": %.1f, \"hover_tooltip_ms_median\": %.2f, \"hover_tooltip_ms_max\": %.2f, "
          "\"hover_redraw_ms_median\": %.2f, \"hover_redraw_ms_max\": %.2f, \"hover_redraw_cpu_ms_median\": %.2f, "
          "\"hover_redraw_cpu_ms_max\": %.2f, \"zoom_redraw_ms_median\": %.2f, "
          "\"zoom_redraw_ms_max\": %.2f, \"zoom_redraw_cpu_ms_median\": %.2f, \"zoom_redraw_cpu_ms_max\": %.2f, "
          "\"zoom_ready_ms_median\": %.2f, \"zoom_ready_ms_max\": %.2f, "
          "\"pan_redraw_ms_median\": %.2f, \"pan_redraw_ms_max\": %.2f, \"pan_redraw_cpu_ms_median\": %.2f, "
          "\"pan_redraw_cpu_ms_max\": %.2f, \"pan_ready_ms_median\": %.2f, "
          "\"pan_ready_ms_max\": %.2f, "
          "\"zoom_first_frame_ms_median\": %.2f, \"zoom_first_frame_ms_max\": %.2f, "
          "\"zoom_first_frame_cpu_ms_median\": %.2f, \"zoom_first_frame_cpu_ms_max\": %.2f, "
          "\"zoom_first_frame_at_ms_median\": %.2f, \"zoom_first_frame_at_ms_max\": %.2f, "
          "\"pan_first_frame_ms_median\": %.2f, \"pan_first_frame_ms_max\": %.2f, "
          "\"pan_first_frame_cpu_ms_median\": %.2f, \"pan_first_frame_cpu_ms_max\": %.2f, "
          "\"pan_first_frame_at_ms_median\": %.2f, \"pan_first_frame_at_ms_max\": %.2f, "
          "\"figure_draw_ms_median\": %.2f, \"frames\": %d, \"renderer\": \"%s\"}\n",
          info->segments_done, slots, w, h, record_s, first_paint_ms, median (tip_ms, frames), max_of (tip_ms, frames),
          median (redraw_ms, frames), max_of (redraw_ms, frames), median (redraw_cpu_ms, frames),
          max_of (redraw_cpu_ms, frames), median (zoom_ms, frames), max_of (zoom_ms, frames),
          median (zoom_cpu_ms, frames), max_of (zoom_cpu_ms, frames), median (zoom_ready_ms, frames),
          max_of (zoom_ready_ms, frames), median (pan_ms, frames), max_of (pan_ms, frames), median (pan_cpu_ms, frames),
          max_of (pan_cpu_ms, frames), median (pan_ready_ms, frames), max_of (pan_ready_ms, frames),
          median (zoom_first_ms, frames), max_of (zoom_first_ms, frames), median (zoom_first_cpu_ms, frames),
          max_of (zoom_first_cpu_ms, frames), median (zoom_first_at_ms, frames), max_of (zoom_first_at_ms, frames),
          median (pan_first_ms, frames), max_of (pan_first_ms, frames), median (pan_first_cpu_ms, frames),
          max_of (pan_first_cpu_ms, frames), median (pan_first_at_ms, frames), max_of (pan_first_at_ms, frames),
          median (draw_ms, frames), frames,
          g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "default");
  fflush (stdout);
  summary_first_paint_ms = first_paint_ms;
  summary_row ("retention, one view", "hover", redraw_ms, redraw_cpu_ms, frames, NULL);
  summary_row ("retention, one view", "zoom: first frame (preview)", zoom_first_ms, zoom_first_cpu_ms, frames,
               zoom_first_at_ms);
  summary_row ("retention, one view", "zoom: exact figure", zoom_ms, zoom_cpu_ms, frames, zoom_ready_ms);
  summary_row ("retention, one view", "pan: first frame (preview)", pan_first_ms, pan_first_cpu_ms, frames,
               pan_first_at_ms);
  summary_row ("retention, one view", "pan: exact figure", pan_ms, pan_cpu_ms, frames, pan_ready_ms);
  g_free (draw_ms);
  g_free (zoom_ms);
  g_free (pan_ms);
  g_free (zoom_ready_ms);
  g_free (pan_ready_ms);
  g_free (zoom_cpu_ms);
  g_free (pan_cpu_ms);
  g_free (zoom_first_ms);
  g_free (zoom_first_cpu_ms);
  g_free (zoom_first_at_ms);
  g_free (pan_first_ms);
  g_free (pan_first_cpu_ms);
  g_free (pan_first_at_ms);
  g_free (tip_ms);
  g_free (redraw_ms);
  g_free (redraw_cpu_ms);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  g_signal_handler_disconnect (clock, before_id);
  g_signal_handler_disconnect (clock, after_id);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- the window comparing two runs ---- */

static MemscopeWindow *win;

/* After an action: iterates until the visible view has loaded (in the
 * background) and a frame shows it.  Returns the milliseconds from @since
 * to the end of that frame. */
static double
wait_for_data (gint64 since)
{
  wait_for_view (memscope_window_get_visible_view (win), since);
  return (paint_end - since) / 1e3;
}

static void
activate (const char *name, GVariant *param)
{
  g_action_group_activate_action (G_ACTION_GROUP (win), name, param);
}

/* @n zooms (four in by 1.5, four out, around different segments) or pans
 * (by ±5% of the window, zoomed to about 1,000 segments first) of @view:
 * per step the first frame after the call (the preview of the new window)
 * and the frame that shows its figure, wall and main-thread CPU, and when
 * each ended.  FALSE when the view does not zoom. */
static gboolean
zoom_or_pan (MemscopeFigureView *view, const char *view_name, gboolean pan, int n)
{
  int total = memscope_window_get_n_segments (win);
  double *first = g_new (double, n), *first_cpu = g_new (double, n), *first_at = g_new (double, n);
  double *exact = g_new (double, n), *exact_cpu = g_new (double, n), *exact_at = g_new (double, n);
  gboolean zooms = TRUE;
  if (pan)
    {
      gint64 t1 = g_get_monotonic_time ();
      zooms = memscope_figure_view_zoom (view, MAX (total / 1000.0, 2.0), total / 2.0);
      settle (view, t1);
    }
  int window_first = 0, window_n = total;
  memscope_figure_view_get_zoom (view, &window_first, &window_n);
  for (int i = 0; i < n && zooms; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      if (pan)
        memscope_figure_view_pan (view, (i / 4) % 2 ? -window_n / 20.0 : window_n / 20.0);
      else if (!memscope_figure_view_zoom (view, i % 8 < 4 ? 1.5 : 1 / 1.5, (double) ((i * 7919) % MAX (total, 1))))
        zooms = FALSE;
      gtk_widget_queue_draw (GTK_WIDGET (view));   /* a frame even when the window did not move */
      wait_for_paint ();
      first[i] = (paint_end - paint_start) / 1e3;
      first_cpu[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
      first_at[i] = (paint_end - t0) / 1e3;
      wait_for_view (view, t0);
      exact[i] = (paint_end - paint_start) / 1e3;
      exact_cpu[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
      exact_at[i] = (paint_end - t0) / 1e3;
    }
  if (zooms)
    {
      g_autofree char *preview = g_strdup_printf ("%s: first frame (preview)", pan ? "pan" : "zoom");
      g_autofree char *figure = g_strdup_printf ("%s: exact figure", pan ? "pan" : "zoom");
      summary_row (view_name, preview, first, first_cpu, n, first_at);
      summary_row (view_name, figure, exact, exact_cpu, n, exact_at);
      frames_add (pan ? &digest_pan : &digest_zoom, first, first_cpu, n);
      frames_add (pan ? &digest_pan : &digest_zoom, exact, exact_cpu, n);
    }
  gint64 t1 = g_get_monotonic_time ();
  memscope_figure_view_reset_zoom (view);
  settle (view, t1);
  g_free (first), g_free (first_cpu), g_free (first_at);
  g_free (exact), g_free (exact_cpu), g_free (exact_at);
  return zooms;
}

/* @n hovers over the visible view @view (the tooltip's text, then the frame
 * redrawing the view), then @n zooms and @n pans where it zooms: summary
 * rows for @view_name. */
static void
interact (MemscopeFigureView *view, const char *view_name, int n)
{
  MsRect plot[3];
  if (n < 1 || memscope_figure_view_get_plot_rects (view, plot) < 1)
    return;
  double *wall = g_new (double, n), *cpu = g_new (double, n);
  for (int i = 0; i < n; i++)
    {
      double x = plot[0].x + plot[0].width * (i + 0.5) / n;
      double y = plot[0].y + plot[0].height * ((i * 7) % n + 0.5) / n;
      g_free (memscope_figure_view_describe_point (view, x, y));
      gtk_widget_queue_draw (GTK_WIDGET (view));
      wait_for_paint ();
      wall[i] = (paint_end - paint_start) / 1e3;
      cpu[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
    }
  summary_row (view_name, "hover", wall, cpu, n, NULL);
  frames_add (&digest_hover, wall, cpu, n);
  g_free (wall), g_free (cpu);
  if (zoom_or_pan (view, view_name, FALSE, n))
    zoom_or_pan (view, view_name, TRUE, n);
}

/* Whether view @name is among @views (NULL: every view). */
static gboolean
wanted (const char *const *views, const char *name)
{
  return !views || g_strv_contains (views, name);
}

static void
bench_compare (const char *path_a, const char *path_b, int steps, int interactions, const char *const *views)
{
  MemscopeApplication *app = memscope_application_new (G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_error ("cannot register the application: %s", error->message);
  g_application_hold (G_APPLICATION (app));
  win = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 860);
  gtk_window_present (GTK_WINDOW (win));
  while (!gtk_widget_get_mapped (GTK_WIDGET (win)) || !gtk_widget_get_frame_clock (GTK_WIDGET (win)))
    g_main_context_iteration (NULL, TRUE);
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (win));
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), NULL);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
  gtk_widget_queue_draw (GTK_WIDGET (win));
  wait_for_paint ();
  default_poll = g_main_context_get_poll_func (NULL);
  g_main_context_set_poll_func (NULL, timed_poll);

  /* opening both recordings puts the window in Compare on retention */
  frame_ms = g_array_new (FALSE, FALSE, sizeof (double));
  frame_cpu_ms = g_array_new (FALSE, FALSE, sizeof (double));
  stall_ms_max = stall_cpu_ms_max = 0;
  GFile *files[2] = { g_file_new_for_path (path_a), g_file_new_for_path (path_b) };
  gint64 t = g_get_monotonic_time ();
  memscope_window_open_files (win, files, 2);
  while (memscope_window_is_busy (win))   /* the recordings are opened on a worker thread */
    g_main_context_iteration (NULL, TRUE);
  double open_ms = wait_for_data (t);
  summary_open_both_ms = open_ms;
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  if (!memscope_window_get_compare (win) || memscope_window_get_error (win))
    g_error ("the window does not compare the two runs: %s", memscope_window_get_error (win));
  printf ("{\"bench\": \"gui-compare\", \"view\": \"open\", \"segments\": %d, \"ready_ms\": %.1f, "
          "\"frame_ms_max\": %.2f, \"frame_cpu_ms_max\": %.2f, \"stall_ms_max\": %.1f, \"stall_cpu_ms_max\": %.1f, "
          "\"peak_rss_mb\": %.1f, \"rss_mb\": %.1f}\n",
          memscope_window_get_n_segments (win), open_ms, max_of ((double *) frame_ms->data, frame_ms->len),
          max_of ((double *) frame_cpu_ms->data, frame_cpu_ms->len), stall_ms_max, stall_cpu_ms_max, peak_rss_mb (),
          rss_mb ());
  fflush (stdout);

  int mid = memscope_window_get_n_segments (win) / 2;
  activate ("segment", g_variant_new_int32 (mid));
  wait_for_data (g_get_monotonic_time ());
  gint64 started = g_get_monotonic_time ();
  for (guint v = 0; v < MS_VIEW_N_KINDS; v++)
    {
      const char *view = ms_view_kind_name ((MsViewKind) v);
      if (!wanted (views, view))
        continue;
      frames_reset (&digest_hover);
      frames_reset (&digest_zoom);
      frames_reset (&digest_pan);
      g_array_set_size (frame_ms, 0);
      g_array_set_size (frame_cpu_ms, 0);
      stall_ms_max = stall_cpu_ms_max = 0;
      t = g_get_monotonic_time ();
      double cpu0 = process_cpu_s ();
      activate ("view", g_variant_new_string (view));
      double switch_ms = wait_for_data (t), switch_cpu_s = process_cpu_s () - cpu0;
      double *step_ms = g_new (double, MAX (steps, 1)), *step_frame_ms = g_new (double, MAX (steps, 1));
      double *step_frame_cpu_ms = g_new (double, MAX (steps, 1));
      for (int i = 0; i < steps; i++)
        {
          t = g_get_monotonic_time ();
          activate ("next", NULL);
          step_ms[i] = wait_for_data (t);
          step_frame_ms[i] = (paint_end - paint_start) / 1e3;
          step_frame_cpu_ms[i] = (paint_end_cpu - paint_start_cpu) / 1e3;
        }
      double slot_ms = 0, slot_cpu_s = 0;
      for (int slot = 1; slot >= -1; slot -= 2)
        {
          t = g_get_monotonic_time ();
          cpu0 = process_cpu_s ();
          activate ("slot", g_variant_new_int32 (slot));
          slot_ms = MAX (slot_ms, wait_for_data (t));
          slot_cpu_s = MAX (slot_cpu_s, process_cpu_s () - cpu0);
        }
      g_autoptr (GError) shown = NULL;
      gboolean has_figure = memscope_figure_view_update (memscope_window_get_visible_view (win), &shown);
      double *f = (double *) frame_ms->data, *fc = (double *) frame_cpu_ms->data;
      int n = (int) frame_ms->len;
      double fmax = max_of (f, n), fcmax = max_of (fc, n), fcmed = median (fc, n);
      const MsViewData *shown_a = memscope_figure_view_get_data (memscope_window_get_visible_view (win), 0);
      g_autofree char *title = g_strescape (shown_a && shown_a->title ? shown_a->title : "", NULL);
      printf ("{\"bench\": \"gui-compare\", \"view\": \"%s\", \"figure\": %s, \"title\": \"%s\", "
              "\"switch_ready_ms\": %.1f, \"switch_cpu_s\": %.2f, \"slot_cpu_s_max\": %.2f, "
              "\"step_ready_ms_median\": %.1f, \"step_ready_ms_max\": %.1f, \"slot_ready_ms_max\": %.1f, \"frames\": %d, "
              "\"frame_ms_median\": %.2f, \"frame_ms_max\": %.2f, \"frame_cpu_ms_median\": %.2f, "
              "\"frame_cpu_ms_max\": %.2f, \"stall_ms_max\": %.1f, \"stall_cpu_ms_max\": %.1f, "
              "\"peak_rss_mb\": %.1f, \"rss_mb\": %.1f, \"elapsed_s\": %.1f}\n",
              view, has_figure ? "true" : "false", title, switch_ms, switch_cpu_s, slot_cpu_s, median (step_ms, steps), max_of (step_ms, steps),
              slot_ms, n, median (f, n), fmax, fcmed, fcmax, stall_ms_max, stall_cpu_ms_max, peak_rss_mb (), rss_mb (),
              (g_get_monotonic_time () - started) / 1e6);
      fflush (stdout);
      summary_row (view, "every frame of switch, steps, slot", f, fc, n, NULL);
      /* the views of one segment (read, write, …) replay its attention from a compact recording:
       * issue 23 wants it shown within one segment's step time + 50 ms */
      summary_row (view, "step: the next segment's data shown", step_frame_ms, step_frame_cpu_ms, steps, step_ms);
      double step_median = median (step_ms, steps);
      g_free (step_ms), g_free (step_frame_ms), g_free (step_frame_cpu_ms);
      if (has_figure)
        interact (memscope_window_get_visible_view (win), view, interactions);
      summary_peak_rss_mb = peak_rss_mb ();
      digest_row (view, has_figure, switch_ms, switch_cpu_s, step_median, summary_peak_rss_mb);
    }
  g_main_context_set_poll_func (NULL, default_poll);
  g_clear_pointer (&frame_ms, g_array_unref);
  g_clear_pointer (&frame_cpu_ms, g_array_unref);
  gtk_window_destroy (GTK_WINDOW (win));
  g_application_release (G_APPLICATION (app));
  g_object_unref (app);
}

int
main (int argc, char **argv)
{
  int segments = 12600, slots = 16, frames = 120, steps = 5, interactions = 8;
  gboolean compare_only = FALSE, single_only = FALSE;
  g_auto (GStrv) recordings = NULL;
  g_autofree char *dir = NULL, *view_list = NULL;
  GOptionEntry entries[] = {
    { "segments", 0, 0, G_OPTION_ARG_INT, &segments, "Segments to record per run (12600)", "N" },
    { "slots", 0, 0, G_OPTION_ARG_INT, &slots, "Memory slots (16)", "K" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Hover, zoom and pan redraws to time (120)", "F" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Segments to step through in each compared view (5)", "T" },
    { "interactions", 0, 0, G_OPTION_ARG_INT, &interactions,
      "Hovers, zooms and pans to time in each compared view (8; 0: none)", "I" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir,
      "Where to write the models, input and recordings, reusing recordings already there (a temporary folder)",
      "DIR" },
    { "compare-only", 0, 0, G_OPTION_ARG_NONE, &compare_only, "Skip the single-view measurements", NULL },
    { "single-only", 0, 0, G_OPTION_ARG_NONE, &single_only, "Skip the window comparing two runs", NULL },
    { "views", 0, 0, G_OPTION_ARG_STRING, &view_list,
      "Compared views to measure, comma-separated (every view of core's table)", "NAME,…" },
    { "recording", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &recordings,
      "Time the first run of this recording instead of recording one (twice: runs A and B)", "FILE" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— time the workbench on long recordings");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || segments < 2 || slots < 1 || frames < 1 || steps < 0
      || interactions < 0)
    {
      fprintf (stderr, "bench-gui: %s\n", error ? error->message : "bad --segments, --slots, --frames, --steps or --interactions");
      return 2;
    }
  g_auto (GStrv) views = view_list ? g_strsplit (view_list, ",", -1) : NULL;
  for (int i = 0; views && views[i]; i++)
    {
      MsViewKind kind;
      if (!ms_view_kind_parse (g_strstrip (views[i]), &kind))
        {
          fprintf (stderr, "bench-gui: no view \"%s\" (one of: %s)\n", views[i], ms_view_kind_list ());
          return 2;
        }
    }
  g_autofree char *load_before = load_average ();
  if (recordings && recordings[0])
    {
      if (g_strv_length (recordings) > 2)
        {
          fprintf (stderr, "bench-gui: at most two --recording files (runs A and B)\n");
          return 2;
        }
      g_autoptr (MsRecording) rec = ms_recording_open (recordings[0], &error);
      g_autoptr (GPtrArray) runs = rec ? ms_recording_list_runs (rec, &error) : NULL;
      if (!runs || runs->len == 0)
        {
          fprintf (stderr, "bench-gui: %s\n", error ? error->message : "the recording holds no run");
          return 1;
        }
      const MsRunInfo *first = runs->pdata[0];
      gtk_init ();
      if (!compare_only)
        bench_single_view (recordings[0], first->id, first->segments_done, first->config.n_slots, frames, 0);
      if (!single_only)
        bench_compare (recordings[0], recordings[1] ? recordings[1] : recordings[0], steps, interactions,
                       (const char *const *) views);
      print_summary (load_before, recordings[0], recordings[1] ? recordings[1] : recordings[0]);
      return 0;
    }
  if (!dir)
    dir = g_dir_make_tmp ("memscope-bench-gui-XXXXXX", NULL);
  g_mkdir_with_parents (dir, 0755);
  g_autofree char *input_path = g_build_filename (dir, "bench-gui-input.txt", NULL);
  g_autofree char *model_a = g_build_filename (dir, "bench-gui-rmt-a.safetensors", NULL);
  g_autofree char *model_b = g_build_filename (dir, "bench-gui-rmt-b.safetensors", NULL);
  g_autofree char *db_a = g_build_filename (dir, "bench-gui-a.sqlite", NULL);
  g_autofree char *db_b = g_build_filename (dir, "bench-gui-b.sqlite", NULL);

  GString *text = g_string_new (NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  while (text->len < (gsize) segments * 4)
    g_string_append_c (text, "etaoin shrdlu\n"[g_rand_int_range (rand, 0, 14)]);
  if (!g_file_set_contents (input_path, text->str, segments * 4, &error))
    g_error ("%s", error->message);
  g_string_free (text, TRUE);
  double record_a, record_b;
  gint64 run_a = record_run (db_a, model_a, input_path, slots, 7, segments, &record_a);
  record_run (db_b, model_b, input_path, slots, 8, segments, &record_b);

  gtk_init ();
  if (!compare_only)
    bench_single_view (db_a, run_a, segments, slots, frames, record_a);
  if (!single_only)
    bench_compare (db_a, db_b, steps, interactions, (const char *const *) views);
  print_summary (load_before, db_a, db_b);
  return 0;
}
