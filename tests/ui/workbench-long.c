/* workbench-long.c — the figure view on a run longer than
 * MEMSCOPE_FIGURE_VIEW_FULL_PROVENANCE segments: provenance is shown over a
 * horizon ("initial", "older", t−H … t) whose values are the shares the
 * period6 engine's known retentions give, and a zoom answers in the next
 * frame with the old figure's columns moved to the new window while the
 * new window's figure is made off the main thread, which then replaces it.
 *
 * The run: the period6 engine (tests/core/test-period-engine.h, K 2, one
 * token per segment, retention repeating every 6 segments) recorded for
 * real over FULL_PROVENANCE + 16 segments. */
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "ms-recording.h"
#include "test-period-engine.h"
#include "workbench-test.h"

#define N_SEGMENTS (MEMSCOPE_FIGURE_VIEW_FULL_PROVENANCE + 16)
#define H MEMSCOPE_FIGURE_VIEW_HORIZON

static char *long_path;

/* The long run's recording, recorded once for the tests of this file. */
static MemscopeRun *
long_run (void)
{
  period_engine_register ();
  if (!long_path)
    {
      g_autofree char *model = g_build_filename (tmp_dir, "period.safetensors", NULL);
      period_model_write (model);
      ms_recording_close (period_record (tmp_dir, model, N_SEGMENTS, MS_ATTN_STORE_NONE));
      g_autofree char *name = g_strdup_printf ("run-%d.memscope", N_SEGMENTS);   /* period_record's */
      long_path = g_build_filename (tmp_dir, name, NULL);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (long_path, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->segments_done, ==, N_SEGMENTS);
  return memscope_run_new_recorded (long_path, info);
}

static MemscopeFigureView *view;

static gboolean
view_allocated_here (void)
{
  return gtk_widget_get_mapped (GTK_WIDGET (view)) && gtk_widget_get_width (GTK_WIDGET (view)) > 0;
}

static gboolean
view_loaded (void)
{
  return !memscope_figure_view_get_loading (view);
}

/* A window of its own showing a view of @kind of @run, loaded. */
static GtkWidget *
window_showing (MsViewKind kind, MemscopeRun *run)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 500);
  view = MEMSCOPE_FIGURE_VIEW (memscope_figure_view_new (kind));
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_present (GTK_WINDOW (window));
  wait_until (view_allocated_here, "the view to be laid out");
  memscope_figure_view_set_runs (view, run, NULL, FALSE);
  wait_until (view_loaded, "the view to load");
  return window;
}

/* The shares of slot @i's memory after segment @t from the initial memory
 * (@share[0]), from segments before t − H together ([1]) and from each of
 * t − H … t ([2 + j]), from the retentions alone: what a segment u wrote
 * (1 − r_u) is kept by every later segment's retention, and the initial
 * memory is kept by all of them. */
static void
expected_shares (int t, int i, double share[H + 3])
{
  double kept = 1;   /* Π r_v over v = u + 1 … t, as u goes down from t */
  memset (share, 0, sizeof (double) * (H + 3));
  for (int u = t; u >= 0; u--)
    {
      double written = (1.0 - period_retention_at (u, i)) * kept;
      share[u >= t - H ? 2 + u - (t - H) : 1] += written;
      kept *= period_retention_at (u, i);
    }
  share[0] = kept;
}

/* Above FULL_PROVENANCE segments the view shows provenance over the last H
 * segments: rows "initial", "older", "t-H" … "t", a title saying so, and per
 * column (a bin of segments, mean over them and over the slots) the shares
 * the retentions give, which add up to 1. */
void
test_long_provenance (void)
{
  g_autoptr (MemscopeRun) run = long_run ();
  GtkWidget *window = window_showing (MS_VIEW_PROVENANCE, run);
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_figure_view_update (view, &error));
  g_assert_no_error (error);
  const MsViewData *v = memscope_figure_view_get_data (view, 0);
  g_assert_nonnull (v);
  g_assert_nonnull (strstr (v->title, "over the last 32 segments"));
  g_assert_cmpint (v->rows, ==, H + 3);
  g_assert_cmpint (v->y.kind, ==, MS_VIEW_AXIS_LAG);
  g_assert_cmpstr (v->y.texts[0], ==, "initial");
  g_assert_cmpstr (v->y.texts[1], ==, "older");
  g_assert_cmpstr (v->y.texts[2], ==, "t-32");
  g_assert_cmpstr (v->y.texts[H + 1], ==, "t-1");
  g_assert_cmpstr (v->y.texts[H + 2], ==, "t");
  /* the columns aggregate the whole run at the view's resolution */
  g_assert_cmpint (v->x.kind, ==, MS_VIEW_AXIS_SEGMENT);
  int width = (int) v->x.step;
  g_assert_cmpint (width, >, 1);
  g_assert_cmpint (v->cols, ==, (N_SEGMENTS + width - 1) / width);
  g_assert_cmpint (v->cols, <=, gtk_widget_get_width (GTK_WIDGET (view)) * gtk_widget_get_scale_factor (GTK_WIDGET (view)));

  int checked = 0;
  for (int c = 0; c < v->cols; c++)
    {
      int first = c * width, last = MIN (first + width, N_SEGMENTS);
      if (first < H + 1)
        continue;   /* rows before segment 0 have no data there */
      double want[H + 3] = { 0 }, share[H + 3], sum = 0;
      for (int t = first; t < last; t++)
        for (int i = 0; i < PERIOD_K; i++)
          {
            expected_shares (t, i, share);
            for (int r = 0; r < H + 3; r++)
              want[r] += share[r] / ((last - first) * PERIOD_K);
          }
      for (int r = 0; r < H + 3; r++)
        {
          float got = v->values[(size_t) r * v->cols + c];
          g_assert_cmpfloat_with_epsilon (got, want[r], 1e-4);
          sum += got;
        }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
      checked++;
    }
  g_assert_cmpint (checked, >=, v->cols - 1);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Holds the recording at @path locked as a writer in exclusive mode would:
 * the view's jobs wait (SQLite's busy timeout) until sqlite3_close(). */
static sqlite3 *
lock (const char *path)
{
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;", NULL, NULL, NULL), ==,
                   SQLITE_OK);
  return db;
}

static guint32
pixel (const Shot *s, double x, double y)
{
  return s->pixels[(gsize) (int) y * s->width + (int) x] | 0xff000000u;
}

static int
channel_distance (guint32 a, guint32 b)
{
  int d = 0;
  for (int shift = 0; shift <= 16; shift += 8)
    d = MAX (d, abs ((int) (a >> shift & 0xff) - (int) (b >> shift & 0xff)));
  return d;
}

/* Distinct colours along row @y of @plot in @s. */
static guint
colours_along (const Shot *s, const MsRect *plot, double y)
{
  g_autoptr (GHashTable) set = g_hash_table_new (NULL, NULL);
  for (int x = (int) ceil (plot->x) + 1; x < (int) (plot->x + plot->width) - 1; x++)
    g_hash_table_add (set, GUINT_TO_POINTER (pixel (s, x, y)));
  return g_hash_table_size (set);
}

/* A zoom (×2, into 32 segments of a 64-segment window showing one column
 * per segment): the first frame after it, while the new window cannot load
 * yet (its recording is locked), is the old figure's image with its
 * columns stretched to the new window, pixel for pixel; once the load can
 * run, the new window's own figure replaces it, one column per segment
 * showing the retention's period of 6. */
void
test_zoom_preview (void)
{
  g_autoptr (MemscopeRun) run = long_run ();
  GtkWidget *window = window_showing (MS_VIEW_RETENTION, run);
  g_assert_true (memscope_figure_view_zoom (view, N_SEGMENTS / 64.0, N_SEGMENTS / 2.0));
  wait_until (view_loaded, "the 64-segment window to load");
  int first_old, n_old;
  g_assert_true (memscope_figure_view_get_zoom (view, &first_old, &n_old));
  g_autoptr (Shot) before = screenshot (GTK_WIDGET (view), "long-zoom-before");
  const MsViewData *old = memscope_figure_view_get_data (view, 0);
  g_assert_cmpfloat (old->x.start, ==, first_old);
  g_assert_cmpint (old->cols, ==, n_old);
  MsRect plot[3];
  g_assert_cmpint (memscope_figure_view_get_plot_rects (view, plot), ==, 1);

  sqlite3 *db = lock (long_path);
  g_assert_true (memscope_figure_view_zoom (view, 2, first_old + n_old / 2.0));
  int first, n;
  g_assert_true (memscope_figure_view_get_zoom (view, &first, &n));
  g_assert_cmpint (n, <=, n_old / 2 + 1);
  wait_for_frame (GTK_WIDGET (view));
  g_autoptr (Shot) preview = screenshot (GTK_WIDGET (view), "long-zoom-preview");
  /* still loading the new window: the figure on screen is the old one's … */
  g_assert_true (memscope_figure_view_get_loading (view));
  g_assert_true (memscope_figure_view_get_data (view, 0) == old);
  /* … drawn for the new window: a point at segment position s of it shows
   * what the old figure drew at s, which is not what it drew at that point */
  double y = plot[0].y + plot[0].height / 4;   /* in slot 0's row */
  int moved = 0, same = 0, samples = 40;
  for (int k = 0; k < samples; k++)
    {
      double x = plot[0].x + plot[0].width * (k + 0.5) / samples;
      double s = first + (x - plot[0].x) / plot[0].width * n;
      double x_old = plot[0].x + (s - first_old) / n_old * plot[0].width;
      same += channel_distance (pixel (preview, x, y), pixel (before, x_old, y)) <= 2;
      moved += channel_distance (pixel (preview, x, y), pixel (before, x, y)) > 2;
    }
  g_assert_cmpint (same, >=, samples - 3);   /* (a point on a column's edge may round either way) */
  g_assert_cmpint (moved, >=, samples / 2);

  sqlite3_close (db);
  wait_until (view_loaded, "the zoomed window to load");
  g_autoptr (Shot) exact = screenshot (GTK_WIDGET (view), "long-zoom-exact");
  const MsViewData *now = memscope_figure_view_get_data (view, 0);
  g_assert_true (now != old);
  g_assert_cmpfloat (now->x.start, ==, first);
  g_assert_cmpfloat (now->x.step, ==, 1);
  g_assert_cmpint (now->cols, ==, n);
  for (int c = 0; c < now->cols; c++)
    g_assert_cmpfloat (now->values[c], ==, period_retention_at (first + c, 0));
  /* on screen, one column per segment: the six retentions of the period,
   * each column where the preview stretched it */
  MsRect exact_plot[3];
  g_assert_cmpint (memscope_figure_view_get_plot_rects (view, exact_plot), ==, 1);
  g_assert_cmpuint (colours_along (exact, &exact_plot[0], exact_plot[0].y + exact_plot[0].height / 4), >=, 6);
  gtk_window_destroy (GTK_WINDOW (window));
}
