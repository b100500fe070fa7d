/* bench-gui.c — how fluid the workbench is on a long run (issue 4: a
 * recording of 10,000 segments × 64 slots; first paint of the retention
 * view at most 1 s after opening, redraw on hover at most 16 ms).
 *
 *   xvfb-run -a env GSK_RENDERER=cairo bench-gui [--segments N] [--slots K] [--frames F] [--dir DIR]
 *
 * Writes a random, untrained RMT model with K memory slots (d 16, 1 layer,
 * segment_len 4) and a pseudo-random input of N segments, records it with
 * ms_record (attention not stored; retention is), then, in a window of
 * 1280 × 720 showing a MemscopeFigureView:
 *   open_to_first_paint_ms  from opening the recording (ms_recording_open)
 *                           to the end of the first frame that drew its
 *                           retention view (load + figure + cell image +
 *                           paint), measured with the frame clock;
 *   hover_*                 F simulated hovers at different cells: the
 *                           tooltip text (hit-test + lookup) and the frame
 *                           that redraws the view (before-paint → after-paint);
 *   zoom_redraw_*           F zoom steps (in ×1.5 four times, out four times,
 *                           around different segments): the frame that rebuilds
 *                           the figure of the new window and draws it;
 *   pan_redraw_*            F pans of a 1,000-segment window by 5% each;
 *   figure_draw_ms          ms_view_figure_draw alone into an image surface
 *                           of the view's size (what the view's cairo node
 *                           costs without GTK).
 * Prints one JSON line.  A benchmark, never a test: nothing here fails on time.
 */
#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "memscope-figure-view.h"
#include "memscope-run.h"
#include "ms-recorder.h"
#include "ms-safetensors.h"

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, compare_doubles);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
max_of (const double *v, int n)
{
  double m = v[0];
  for (int i = 1; i < n; i++)
    m = MAX (m, v[i]);
  return m;
}

/* A random RMT (GPT-2 layout) with @slots memory rows. */
static gboolean
write_model (const char *path, int slots, GError **error)
{
  const int d = 16, ff = 32, L = 4, V = 256, P = 2 * slots + L;
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
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

/* ---- frames ---- */

static gint64 paint_start, paint_end;
static gboolean painted;

static void
on_before_paint (GdkFrameClock *clock, gpointer data)
{
  paint_start = g_get_monotonic_time ();
}

static void
on_after_paint (GdkFrameClock *clock, gpointer data)
{
  paint_end = g_get_monotonic_time ();
  painted = TRUE;
}

static void
wait_for_paint (void)
{
  painted = FALSE;
  while (!painted)
    g_main_context_iteration (NULL, TRUE);
}

int
main (int argc, char **argv)
{
  int segments = 10000, slots = 64, frames = 120;
  g_autofree char *dir = NULL;
  GOptionEntry entries[] = {
    { "segments", 0, 0, G_OPTION_ARG_INT, &segments, "Segments to record (10000)", "N" },
    { "slots", 0, 0, G_OPTION_ARG_INT, &slots, "Memory slots (64)", "K" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Hover redraws to time (120)", "F" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Where to write the model, input and recording (a temporary folder)", "DIR" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— time the workbench on a long recording");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || segments < 2 || slots < 1 || frames < 1)
    {
      fprintf (stderr, "bench-gui: %s\n", error ? error->message : "bad --segments, --slots or --frames");
      return 2;
    }
  if (!dir)
    dir = g_dir_make_tmp ("memscope-bench-gui-XXXXXX", NULL);
  g_mkdir_with_parents (dir, 0755);
  g_autofree char *model_path = g_build_filename (dir, "bench-gui-rmt.safetensors", NULL);
  g_autofree char *input_path = g_build_filename (dir, "bench-gui-input.txt", NULL);
  g_autofree char *db_path = g_build_filename (dir, "bench-gui.sqlite", NULL);
  g_unlink (db_path);

  /* the recording */
  if (!write_model (model_path, slots, &error))
    g_error ("%s", error->message);
  GString *text = g_string_new (NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  while (text->len < (gsize) segments * 4)
    g_string_append_c (text, "etaoin shrdlu\n"[g_rand_int_range (rand, 0, 14)]);
  if (!g_file_set_contents (input_path, text->str, segments * 4, &error))
    g_error ("%s", error->message);
  g_string_free (text, TRUE);
  g_autoptr (MsModel) model = ms_model_load (model_path, &error);
  if (!model)
    g_error ("%s", error->message);
  MsRecordOptions opts = { .name = "bench-gui", .attn = MS_ATTN_STORE_NONE };
  gint64 run_id = 0, t = g_get_monotonic_time ();
  if (!ms_record (db_path, model, input_path, &opts, 0, NULL, NULL, NULL, &run_id, &error))
    g_error ("%s", error->message);
  double record_s = (g_get_monotonic_time () - t) / 1e6;

  /* the window, mapped and painted before the recording is opened */
  gtk_init ();
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  GtkWidget *view = memscope_figure_view_new (MS_VIEW_RETENTION);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (view) || !gtk_widget_get_frame_clock (view))
    g_main_context_iteration (NULL, TRUE);
  GdkFrameClock *clock = gtk_widget_get_frame_clock (view);
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), NULL);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
  gtk_widget_queue_draw (view);
  wait_for_paint ();

  /* open → first paint */
  t = g_get_monotonic_time ();
  g_autoptr (MsRecording) rec = ms_recording_open (db_path, &error);
  g_autoptr (MsRunInfo) info = rec ? ms_recording_get_run (rec, run_id, &error) : NULL;
  if (!info)
    g_error ("%s", error->message);
  g_autoptr (MemscopeRun) run = memscope_run_new_recorded (db_path, info);
  memscope_figure_view_set_runs (MEMSCOPE_FIGURE_VIEW (view), run, NULL, FALSE);
  wait_for_paint ();
  double first_paint_ms = (paint_end - t) / 1e3;
  if (!memscope_figure_view_get_figure (MEMSCOPE_FIGURE_VIEW (view)))
    g_error ("the retention view drew no figure");

  /* hovers: the tooltip text, then the frame redrawing the view */
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  MsRect plot[3];
  ms_view_figure_get_plot_rects (memscope_figure_view_get_figure (MEMSCOPE_FIGURE_VIEW (view)), cr, w, h, plot);
  double *tip_ms = g_new (double, frames), *redraw_ms = g_new (double, frames);
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
    }
  /* zoom and pan: each frame rebuilds the figure of the window from the
   * loaded data (no reading of the recording) */
  MemscopeFigureView *fv = MEMSCOPE_FIGURE_VIEW (view);
  double *zoom_ms = g_new (double, frames), *pan_ms = g_new (double, frames);
  for (int i = 0; i < frames; i++)
    {
      double anchor = (double) ((i * 7919) % segments);
      memscope_figure_view_zoom (fv, i % 8 < 4 ? 1.5 : 1 / 1.5, anchor);
      wait_for_paint ();
      zoom_ms[i] = (paint_end - paint_start) / 1e3;
    }
  memscope_figure_view_reset_zoom (fv);
  memscope_figure_view_zoom (fv, segments / 1000.0, 0);
  wait_for_paint ();
  for (int i = 0; i < frames; i++)
    {
      memscope_figure_view_pan (fv, (i / 20) % 2 ? -50 : 50);
      wait_for_paint ();
      pan_ms[i] = (paint_end - paint_start) / 1e3;
    }
  memscope_figure_view_reset_zoom (fv);
  wait_for_paint ();

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
          "\"hover_redraw_ms_median\": %.2f, \"hover_redraw_ms_max\": %.2f, \"zoom_redraw_ms_median\": %.2f, "
          "\"zoom_redraw_ms_max\": %.2f, \"pan_redraw_ms_median\": %.2f, \"pan_redraw_ms_max\": %.2f, "
          "\"figure_draw_ms_median\": %.2f, \"frames\": %d, \"renderer\": \"%s\"}\n",
          info->segments_done, slots, w, h, record_s, first_paint_ms, median (tip_ms, frames), max_of (tip_ms, frames),
          median (redraw_ms, frames), max_of (redraw_ms, frames), median (zoom_ms, frames), max_of (zoom_ms, frames),
          median (pan_ms, frames), max_of (pan_ms, frames), median (draw_ms, frames), frames,
          g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "default");
  g_free (draw_ms);
  g_free (zoom_ms);
  g_free (pan_ms);
  g_free (tip_ms);
  g_free (redraw_ms);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
