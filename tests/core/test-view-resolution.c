/* test-view-resolution.c — views are computed at the resolution they are
 * drawn, by aggregating, never by sampling (DESIGN §5, §7).
 *
 * The "period6" engine (test-period-engine.h) writes with a retention that
 * repeats every 6 segments: slot i keeps w = PERIOD_PATTERN[(t + i) mod 6]
 * of its old content at segment t (write attention [w | 1 − w]).
 * Recorded for real (session, recorder, SQLite) over 12,600 one-token
 * segments, its retention overview drawn 300 columns wide must show 300
 * uniform columns, each the pattern's mean — a sampled overview shows
 * stripes.  Binned provenance and similarity must equal the full-resolution
 * views binned by hand, and the CSV export must hold the view's numbers
 * under its axis labels. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ms-analysis.h"
#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-recording.h"
#include "ms-view.h"
#include "ms-view-figure.h"
#include "test-period-engine.h"
#include "test-util.h"

#define K PERIOD_K
#define L PERIOD_L
#define N_LONG 12600
#define N_SHORT 150

/* ---- a recording ------------------------------------------------------ */

static char *dir;
static MsRecording *long_run, *short_run;   /* N_LONG and N_SHORT segments */

static void
setup (void)
{
  dir = g_dir_make_tmp ("memscope-resolution-XXXXXX", NULL);
  g_autofree char *model_path = g_build_filename (dir, "period.safetensors", NULL);
  period_model_write (model_path);
  long_run = period_record (dir, model_path, N_LONG, MS_ATTN_STORE_NONE);
  short_run = period_record (dir, model_path, N_SHORT, MS_ATTN_STORE_F32);
}

static void
teardown (void)
{
  ms_recording_close (long_run);
  ms_recording_close (short_run);
  test_dir_remove (dir);
  g_free (dir);
}

static MsViewData *
load (MsRecording *rec, MsViewKind kind, MsViewParams p)
{
  g_autoptr (GError) error = NULL;
  MsViewData *v = ms_view_load (rec, 1, kind, &p, &error);
  g_assert_no_error (error);
  return v;
}

/* ---- tests ------------------------------------------------------------ */

static void
assert_close (const float *a, const float *b, size_t n, double tolerance)
{
  for (size_t i = 0; i < n; i++)
    {
      if (isnan (a[i]) || isnan (b[i]))
        g_assert_true (isnan (a[i]) && isnan (b[i]));
      else
        g_assert_cmpfloat_with_epsilon (a[i], b[i], tolerance);
    }
}

/* 12,600 segments drawn 300 columns wide: 42 segments, seven periods, per
 * column; every column is the pattern's mean.  A view that sampled one
 * segment per column would show the pattern's values in stripes. */
static void
test_period_overview (void)
{
  double mean = 0, top = 0;
  for (int k = 0; k < 6; k++)
    mean += PERIOD_PATTERN[k] / 6.0, top = MAX (top, PERIOD_PATTERN[k]);
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.max_cols = 300;
  g_autoptr (MsViewData) v = load (long_run, MS_VIEW_RETENTION, p);
  g_assert_cmpint (v->rows, ==, K);
  g_assert_cmpint (v->cols, ==, 300);
  g_assert_cmpint (v->x.kind, ==, MS_VIEW_AXIS_SEGMENT);
  g_assert_cmpfloat (v->x.step, ==, 42);
  g_assert_cmpstr (v->x.label, ==, "segment (42 per column)");
  g_assert_cmpstr (v->value_label, ==, "retention r, mean per column");
  /* retention is stored as f32: each column mean is within float rounding of the pattern's */
  for (int i = 0; i < K * 300; i++)
    g_assert_cmpfloat_with_epsilon (v->values[i], mean, 1e-6);

  /* the stated reducer changes what a column is: max shows the peak */
  p.reducer = MS_VIEW_REDUCE_MAX;
  g_autoptr (MsViewData) peak = load (long_run, MS_VIEW_RETENTION, p);
  g_assert_cmpstr (peak->value_label, ==, "retention r, max per column");
  for (int i = 0; i < K * 300; i++)
    g_assert_cmpfloat (peak->values[i], ==, top);

  /* a view loaded wider and merged to 300 columns in memory (a figure laid
   * out narrower than loaded) is the same view */
  p.reducer = MS_VIEW_REDUCE_DEFAULT;
  p.max_cols = 900;
  g_autoptr (MsViewData) wide = load (long_run, MS_VIEW_RETENTION, p);
  g_assert_cmpfloat (wide->x.step, ==, 14);
  g_autoptr (MsViewData) merged = ms_view_data_bin_columns (wide, 300);
  g_assert_cmpint (merged->cols, ==, 300);
  g_assert_cmpfloat (merged->x.step, ==, 42);
  g_assert_cmpstr (merged->value_label, ==, v->value_label);
  g_assert_cmpstr (merged->x.label, ==, v->x.label);
  assert_close (merged->values, v->values, (size_t) K * 300, 1e-6);
  g_assert_cmpstr (merged->x.texts[2], ==, v->x.texts[2]);
  p.max_cols = 300;

  /* slot types per column: the mean of the per-segment fractions */
  p.reducer = MS_VIEW_REDUCE_DEFAULT;
  g_autoptr (MsViewData) types = load (long_run, MS_VIEW_TYPES, p);
  double want[3] = { 0 };
  for (int t = 0; t < 6; t++)
    for (int i = 0; i < K; i++)
      want[ms_slot_type (period_retention_at (t, i), 0.9, 0.1)] += 1.0 / (6 * K);
  for (int k = 0; k < 3; k++)
    for (int c = 0; c < 300; c++)
      g_assert_cmpfloat_with_epsilon (types->values[k * 300 + c], want[k], 1e-6);

  /* a zoomed view computes its window only, one column per segment */
  p.first = 6000, p.last = 6012;
  g_autoptr (MsViewData) zoom = load (long_run, MS_VIEW_RETENTION, p);
  g_assert_cmpint (zoom->cols, ==, 12);
  g_assert_cmpfloat (zoom->x.start, ==, 6000);
  g_assert_cmpfloat (zoom->x.step, ==, 1);
  for (int i = 0; i < K; i++)
    for (int c = 0; c < 12; c++)
      g_assert_cmpfloat (zoom->values[i * 12 + c], ==, period_retention_at (6000 + c, i));
  g_autofree char *tip = ms_view_describe_cell (zoom, 1, 3);
  g_assert_nonnull (strstr (tip, "Slot 1 after segment 6003"));

  /* a window reaching past the run keeps its columns, without data */
  p.first = N_LONG - 2, p.last = N_LONG + 3;
  g_autoptr (MsViewData) tail = load (long_run, MS_VIEW_RETENTION, p);
  g_assert_cmpint (tail->cols, ==, 5);
  for (int c = 0; c < 5; c++)
    g_assert_true (isnan (tail->values[c]) == (c >= 2));

  /* a reducer the view has no use for is refused */
  MsViewParams max_provenance = MS_VIEW_PARAMS_DEFAULT;
  max_provenance.reducer = MS_VIEW_REDUCE_MAX;
  g_autoptr (GError) refused = NULL;
  g_assert_null (ms_view_load (long_run, 1, MS_VIEW_PROVENANCE, &max_provenance, &refused));
  g_assert_error (refused, MS_ERROR, MS_ERROR_INPUT);

  /* an empty window is refused with a message */
  p.first = N_LONG, p.last = 0;
  g_autoptr (GError) error = NULL;
  g_assert_null (ms_view_load (long_run, 1, MS_VIEW_RETENTION, &p, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
}

/* @full (rows, cols) at one cell per segment, binned as a view bins it:
 * rows (sources) of @rw summed, columns of @cw averaged; NaN (a source in
 * the future) counts as 0 unless the whole cell is NaN. */
static float *
bin_by_hand (const MsViewData *full, int rw, int cw, gboolean sum_rows, int *out_rows, int *out_cols)
{
  int R = (full->rows + rw - 1) / rw, C = (full->cols + cw - 1) / cw;
  float *out = g_new (float, (size_t) R * C);
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++)
      {
        double acc = 0;
        int n_cols = 0, n_cells = 0, data = 0;
        for (int j = c * cw; j < MIN ((c + 1) * cw, full->cols); j++, n_cols++)
          for (int i = r * rw; i < MIN ((r + 1) * rw, full->rows); i++)
            {
              float x = full->values[(size_t) i * full->cols + j];
              n_cells++;
              if (!isnan (x))
                acc += x, data++;
            }
        out[(size_t) r * C + c] = data == 0 ? NAN : (float) (acc / (sum_rows ? n_cols : n_cells));
      }
  *out_rows = R, *out_cols = C;
  return out;
}

/* Provenance binned into sources × columns equals the full-resolution
 * matrix binned by hand (it is linear in the sources), and a long run's
 * provenance at a small output size has the output's dimensions: the
 * recurrence keeps (K × rows) sources, never segments × segments. */
static void
test_provenance_bins (void)
{
  for (int slot = -1; slot < K; slot++)
    {
      MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
      p.slot = slot;
      g_autoptr (MsViewData) full = load (short_run, MS_VIEW_PROVENANCE, p);
      g_assert_cmpint (full->rows, ==, N_SHORT + 1);
      g_assert_cmpint (full->cols, ==, N_SHORT);
      p.max_cols = 40, p.max_rows = 16;
      g_autoptr (MsViewData) binned = load (short_run, MS_VIEW_PROVENANCE, p);
      int R, C;
      g_autofree float *want = bin_by_hand (full, 10, 4, TRUE, &R, &C);
      g_assert_cmpint (binned->rows, ==, R);
      g_assert_cmpint (binned->cols, ==, C);
      g_assert_cmpfloat (binned->y.start, ==, -1);
      g_assert_cmpfloat (binned->y.step, ==, 10);
      assert_close (binned->values, want, (size_t) R * C, 1e-5);
      /* every column still sums to 1: all content comes from some source */
      for (int c = 0; c < C; c++)
        {
          double sum = 0;
          for (int r = 0; r < R; r++)
            sum += isnan (binned->values[r * C + c]) ? 0 : binned->values[r * C + c];
          g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
        }
    }

  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.max_cols = 300, p.max_rows = 200;
  g_autoptr (MsViewData) overview = load (long_run, MS_VIEW_PROVENANCE, p);
  g_assert_cmpint (overview->cols, ==, 300);
  g_assert_cmpint (overview->rows, ==, 197);   /* 12,601 sources (−1 … 12,599) in bins of 64 */
  g_assert_cmpfloat (overview->y.step, ==, 64);
  /* Row 0 holds sources −1 … 62.  After segment t ≤ 62 all content comes
   * from them; after t ≥ 63 slot i keeps of it the product of its
   * retentions since (each slot draws only on itself).  Column 1 is the
   * mean over segments 42 … 83 and the slots. */
  double want = 0;
  for (int i = 0; i < K; i++)
    for (int t = 42; t < 84; t++)
      {
        double kept = 1;
        for (int u = 63; u <= t; u++)
          kept *= period_retention_at (u, i);
        want += kept / (42.0 * K);
      }
  g_assert_cmpfloat_with_epsilon (overview->values[1], want, 1e-5);
  g_assert_cmpfloat_with_epsilon (overview->values[0], 1.0, 1e-5);
  /* a row entirely after a column's segments has no data */
  g_assert_true (isnan (overview->values[(size_t) 5 * 300 + 0]));
}

/* Similarity binned: the mean cosine over the pairs of states in two bins,
 * the full matrix's block means. */
static void
test_similarity_bins (void)
{
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  g_autoptr (MsViewData) full = load (short_run, MS_VIEW_SIMILARITY, p);
  g_assert_cmpint (full->rows, ==, N_SHORT);
  p.max_cols = 30;
  g_autoptr (MsViewData) binned = load (short_run, MS_VIEW_SIMILARITY, p);
  int R, C;
  g_autofree float *want = bin_by_hand (full, 5, 5, FALSE, &R, &C);
  g_assert_cmpint (binned->rows, ==, R);
  g_assert_cmpint (binned->cols, ==, C);
  assert_close (binned->values, want, (size_t) R * C, 1e-5);

  p.max_cols = 300;
  g_autoptr (MsViewData) overview = load (long_run, MS_VIEW_SIMILARITY, p);
  g_assert_cmpint (overview->rows, ==, 300);
  g_assert_cmpint (overview->cols, ==, 300);
  g_assert_cmpstr (overview->value_label, ==, "cosine similarity, mean per cell");

  /* loaded at 300 and merged to 100 (a figure laid out smaller than loaded)
   * is loaded at 100: rows merge with the columns, by the pairs they hold */
  p.max_cols = 100;
  g_autoptr (MsViewData) small = load (long_run, MS_VIEW_SIMILARITY, p);
  g_autoptr (MsViewData) merged = ms_view_data_bin_columns (overview, 100);
  g_assert_cmpint (merged->rows, ==, small->rows);
  g_assert_cmpint (merged->cols, ==, small->cols);
  g_assert_cmpfloat (merged->y.step, ==, small->y.step);
  g_assert_cmpstr (merged->y.label, ==, small->y.label);
  g_assert_cmpstr (merged->value_label, ==, small->value_label);
  assert_close (merged->values, small->values, (size_t) small->rows * small->cols, 1e-5);
}

/* The similarity matrix costs what its output holds: each of the window's
 * states is read once, and one state pair's dot product is computed per
 * output cell, never one per pair of segments (12,600² here). */
static void
test_similarity_work (void)
{
  ms_view_clear_cache ();   /* the loads above kept the base bins */
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  g_autoptr (MsViewData) full = load (short_run, MS_VIEW_SIMILARITY, p);
  g_assert_cmpuint (full->work.states, ==, N_SHORT);
  g_assert_cmpuint (full->work.pairs, ==, N_SHORT * N_SHORT);

  /* drawn 300 × 200 pixels: a square of 200 bins of 63 segments */
  p.max_cols = 300, p.max_rows = 200;
  g_autoptr (MsViewData) drawn = load (long_run, MS_VIEW_SIMILARITY, p);
  g_assert_cmpint (drawn->rows, ==, 200);
  g_assert_cmpint (drawn->cols, ==, 200);
  g_assert_cmpfloat (drawn->x.step, ==, 63);
  g_assert_cmpfloat (drawn->y.step, ==, 63);
  g_assert_cmpuint (drawn->work.states, ==, N_LONG);
  g_assert_cmpuint (drawn->work.pairs, ==, 200 * 200);

  /* a tenth of the pixels, a hundredth of the pairs, and no state read again: the first load kept
   * the sums of the states (view cache) */
  p.max_cols = 30, p.max_rows = 20;
  g_autoptr (MsViewData) small = load (long_run, MS_VIEW_SIMILARITY, p);
  g_assert_cmpint (small->rows, ==, 20);
  g_assert_cmpuint (small->work.states, ==, 0);
  g_assert_cmpuint (small->work.pairs, ==, 20 * 20);

  /* other views do not count */
  p.first = 6000, p.last = 6012;
  g_autoptr (MsViewData) retention = load (long_run, MS_VIEW_RETENTION, p);
  g_assert_cmpuint (retention->work.states + retention->work.pairs, ==, 0);
}

/* The words of a tooltip and the token colouring come from the view. */
static void
test_describe (void)
{
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.max_cols = 300;
  g_autoptr (MsViewData) v = load (long_run, MS_VIEW_RETENTION, p);
  g_autofree char *tip = ms_view_describe_cell (v, 1, 2);
  g_assert_nonnull (strstr (tip, "Slot 1 after segments 84–125 (mean of 42)"));
  g_assert_nonnull (strstr (tip, "retention"));
  g_autofree char *text = g_strdup_printf ("“%c”", 'a' + 84 * 7 % 26);   /* segment 84's text */
  g_assert_nonnull (strstr (tip, text));
  g_assert_null (ms_view_describe_cell (v, 2, 0));

  p = (MsViewParams) MS_VIEW_PARAMS_DEFAULT;
  p.segment = 7;
  g_autoptr (MsViewData) w = load (short_run, MS_VIEW_WRITE, p);
  g_assert_cmpint (w->x.kind, ==, MS_VIEW_AXIS_POSITION);
  g_assert_cmpint (w->x.n_blocks, ==, 2);
  g_assert_true (w->x.blocks[0].old_memory && !w->x.blocks[0].tokens);
  g_assert_true (w->x.blocks[1].tokens && w->x.blocks[1].first == 1 && w->x.blocks[1].n == L);
  g_assert_cmpstr (w->x.texts[1], ==, "x");   /* 'a' + 49 % 26 */
  g_autofree char *self = ms_view_describe_cell (w, 0, 0);
  g_assert_nonnull (strstr (self, "keeps itself"));
  g_autofree char *token = ms_view_describe_cell (w, 1, 1);
  g_assert_nonnull (strstr (token, "token 0 “x”"));
  int n;
  const char *what;
  g_autofree float *written = ms_view_token_values (w, 1, &n, &what);
  g_assert_cmpint (n, ==, L);
  g_assert_cmpfloat_with_epsilon (written[0], 1 - period_retention_at (7, 1), 1e-7);
  g_assert_nonnull (strstr (what, "written into the selected slot"));
}

static int
whiteness (guint32 rgb)
{
  return MIN (MIN (rgb >> 16 & 0xff, rgb >> 8 & 0xff), rgb & 0xff);
}

/* A write figure marks where the layout's blocks meet: a white line
 * between the slot itself and the tokens, in the widget and in exports. */
static void
test_block_bounds (void)
{
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.segment = 4;
  g_autoptr (MsViewData) w = load (short_run, MS_VIEW_WRITE, p);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsViewFigure) fig = ms_view_figure_new (w, MS_COLORMAP_VIRIDIS, NULL, &error);
  g_assert_no_error (error);
  cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 400, 300);
  cairo_t *cr = cairo_create (image);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  ms_view_figure_draw (cr, 400, 300, fig);
  MsRect tokens, self;
  g_assert_true (ms_view_figure_cell_rect (fig, cr, 400, 300, 0, 0, 1, &tokens));
  g_assert_true (ms_view_figure_cell_rect (fig, cr, 400, 300, 0, 0, 0, &self));
  cairo_destroy (cr);
  cairo_surface_flush (image);
  const guint32 *px = (const guint32 *) cairo_image_surface_get_data (image);
  int stride = cairo_image_surface_get_stride (image) / 4, y = (int) (tokens.y + tokens.height / 2);
  /* whiteness = the weakest channel: the line (antialiased over two pixels)
   * is far whiter than the cells either side of it */
  int line = 0;
  for (int x = (int) floor (tokens.x) - 1; x <= (int) ceil (tokens.x) + 1; x++)
    line = MAX (line, whiteness (px[y * stride + x]));
  int left = whiteness (px[y * stride + (int) (self.x + self.width / 2)]);
  int right = whiteness (px[y * stride + (int) (tokens.x + tokens.width / 2)]);
  g_assert_cmpint (line, >, MAX (left, right) + 100);
  cairo_surface_destroy (image);
}

/* Parses @csv into rows of fields (no quoted fields expected). */
static char ***
csv_parse (const char *csv, int *n_rows)
{
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  int n = (int) g_strv_length (lines);
  while (n > 0 && !*lines[n - 1])
    n--;
  char ***rows = g_new0 (char **, n + 1);
  for (int i = 0; i < n; i++)
    rows[i] = g_strsplit (lines[i], ",", -1);
  *n_rows = n;
  return rows;
}

static void
csv_free (char ***rows)
{
  for (int i = 0; rows[i]; i++)
    g_strfreev (rows[i]);
  g_free (rows);
}

/* The CSV of a view holds its numbers under its axes' labels. */
static void
test_csv (void)
{
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.first = 12, p.last = 30;
  g_autoptr (MsViewData) v = load (short_run, MS_VIEW_RETENTION, p);
  g_autoptr (GError) error = NULL;
  g_autofree char *csv = ms_view_data_to_csv (v, NULL, NULL, NULL, FALSE, &error);
  g_assert_no_error (error);
  int n;
  char ***rows = csv_parse (csv, &n);
  g_assert_cmpint (n, ==, 1 + K);
  g_assert_cmpstr (rows[0][0], ==, "memory slot \\ segment");
  g_assert_cmpint (g_strv_length (rows[0]), ==, 1 + 18);
  for (int c = 0; c < 18; c++)
    g_assert_cmpint (atoi (rows[0][1 + c]), ==, 12 + c);
  for (int i = 0; i < K; i++)
    {
      g_assert_cmpint (atoi (rows[1 + i][0]), ==, i);
      for (int c = 0; c < 18; c++)
        {
          float x = (float) g_ascii_strtod (rows[1 + i][1 + c], NULL);   /* 9 digits round-trip a float */
          g_assert_cmpfloat (x, ==, v->values[i * 18 + c]);
          g_assert_cmpfloat (x, ==, period_retention_at (12 + c, i));
        }
    }
  csv_free (rows);

  /* binned: the header names each column's segments */
  p = (MsViewParams) MS_VIEW_PARAMS_DEFAULT;
  p.max_cols = 50;
  g_autoptr (MsViewData) nll = load (short_run, MS_VIEW_NLL, p);
  g_autofree char *nll_csv = ms_view_data_to_csv (nll, NULL, NULL, NULL, FALSE, &error);
  rows = csv_parse (nll_csv, &n);
  g_assert_cmpint (n, ==, 1 + 50);
  g_assert_cmpstr (rows[0][0], ==, "segment (3 per column)");
  g_assert_cmpstr (rows[0][1], ==, "mean NLL");
  g_assert_cmpstr (rows[1][0], ==, "0..2");
  g_assert_cmpstr (rows[50][0], ==, "147..149");
  for (int c = 0; c < 50; c++)
    g_assert_cmpfloat ((float) g_ascii_strtod (rows[1 + c][1], NULL), ==, nll->values[c]);
  csv_free (rows);
}

/* The causal views of a run whose causal retention was never computed are
 * drawn empty, titled with how to compute them, at the size they are
 * drawn, like every view: 12,600 segments at 300 columns is 300 × 300
 * cells, not 12,600 × 12,600 (635 MB of NaN per run). */
static void
test_not_computed (void)
{
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.max_cols = 300;
  g_autoptr (MsViewData) causal = load (long_run, MS_VIEW_CAUSAL, p);
  g_assert_cmpint (causal->cols, ==, 300);
  g_assert_cmpint (causal->rows, ==, 300);
  g_assert_cmpfloat (causal->x.step, ==, 42);
  g_assert_cmpfloat (causal->y.step, ==, 42);
  g_assert_cmpint (causal->x.length, ==, N_LONG);
  g_assert_nonnull (strstr (causal->title, "memscope-cli causal"));
  for (int i = 0; i < 300 * 300; i++)
    g_assert_true (isnan (causal->values[i]));

  g_autoptr (MsViewData) slots = load (long_run, MS_VIEW_CAUSAL_SLOTS, p);
  g_assert_cmpint (slots->rows, ==, K);
  g_assert_cmpint (slots->cols, ==, 300);
  g_assert_cmpfloat (slots->x.step, ==, 42);
  g_assert_nonnull (strstr (slots->title, "--replace knockout"));

  /* with no output size given, the square view stays within its default bound */
  MsViewParams defaults = MS_VIEW_PARAMS_DEFAULT;
  g_autoptr (MsViewData) unsized = load (long_run, MS_VIEW_CAUSAL, defaults);
  g_assert_cmpint (unsized->cols, <=, MS_VIEW_MAX_SQUARE);
  g_assert_cmpint (unsized->rows, ==, unsized->cols);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  period_engine_register ();
  setup ();
  g_test_add_func ("/view-resolution/period-overview", test_period_overview);
  g_test_add_func ("/view-resolution/provenance-bins", test_provenance_bins);
  g_test_add_func ("/view-resolution/similarity-bins", test_similarity_bins);
  g_test_add_func ("/view-resolution/similarity-work", test_similarity_work);
  g_test_add_func ("/view-resolution/describe", test_describe);
  g_test_add_func ("/view-resolution/csv", test_csv);
  g_test_add_func ("/view-resolution/block-bounds", test_block_bounds);
  g_test_add_func ("/view-resolution/not-computed", test_not_computed);
  int status = g_test_run ();
  teardown ();
  return status;
}
