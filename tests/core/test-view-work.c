/* test-view-work.c — at 100,000 segments a view costs what its output
 * holds, not what the run holds (issue 23): the similarity matrix reads
 * each memory state once per run, however often it is drawn again at other
 * sizes, and provenance over a horizon reads a window late in the run from
 * the recurrence's last kept mark before it, not from segment 0 — with the
 * same numbers as a load that reads everything.
 *
 * The "period6" engine (test-period-engine.h) recorded for real over
 * 100,000 one-token segments.  The similarity cells are checked against
 * the mean of the pairwise cosines computed here from the stored states,
 * so the test does not trust the loader's shortcut (the mean of pairwise
 * cosines is the dot product of the bins' mean unit vectors). */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "ms-recording.h"
#include "ms-view.h"
#include "views/ms-view-private.h"
#include "test-period-engine.h"
#include "test-util.h"

#define N 100000

static char *dir;
static MsRecording *rec;

static MsViewData *
load (MsViewKind kind, MsViewParams p)
{
  g_autoptr (GError) error = NULL;
  MsViewData *v = ms_view_load (rec, 1, kind, &p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  return v;
}

/* ---- the stored states, for the cosines computed here ---- */

typedef struct {
  int len;
  float *unit;          /* (N, len) each state over its norm */
} States;

static gboolean
on_state (int segment, const float *state, gpointer data, GError **error)
{
  States *s = data;
  double norm = 0;
  for (int k = 0; k < s->len; k++)
    norm += (double) state[k] * state[k];
  g_assert_cmpfloat (norm, >, 0);
  for (int k = 0; k < s->len; k++)
    s->unit[(size_t) segment * s->len + k] = (float) (state[k] / sqrt (norm));
  return TRUE;
}

/* The mean cosine over every pair of a state in segments [a0, a1) and one
 * in [b0, b1). */
static double
mean_cosine (const States *s, int a0, int a1, int b0, int b1)
{
  double sum = 0;
  for (int a = a0; a < a1; a++)
    for (int b = b0; b < b1; b++)
      {
        double dot = 0;
        for (int k = 0; k < s->len; k++)
          dot += (double) s->unit[(size_t) a * s->len + k] * s->unit[(size_t) b * s->len + k];
        sum += dot;
      }
  return sum / ((double) (a1 - a0) * (b1 - b0));
}

/* Drawn 300 and then 200 pixels square: the states are read by the first
 * load only; the second merges the kept base bins.  With base bins of 128
 * segments (the budget set below), the output bins are whole base bins:
 * ⌈100,000 / 300⌉ = 334 → 384 segments, ⌈100,000 / 200⌉ = 500 → 512. */
static void
test_similarity_reads_once (void)
{
  ms_view_clear_cache ();
  /* room for 1,024 base bins of this run's K·d = 6 floats: 128 segments each */
  ms_view_set_similarity_base_bytes (1024 * (PERIOD_K * PERIOD_D * sizeof (float) + sizeof (int)));
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.max_cols = 300, p.max_rows = 300;
  g_autoptr (MsViewData) first = load (MS_VIEW_SIMILARITY, p);
  g_assert_cmpuint (first->work.states, ==, N);
  g_assert_cmpfloat (first->x.step, ==, 384);
  g_assert_cmpint (first->rows, ==, (N + 383) / 384);
  g_assert_cmpint (first->cols, ==, first->rows);
  g_assert_cmpuint (first->work.pairs, ==, (guint64) first->rows * first->rows);

  p.max_cols = 200, p.max_rows = 200;
  g_autoptr (MsViewData) again = load (MS_VIEW_SIMILARITY, p);
  g_assert_cmpuint (again->work.states, ==, 0);
  g_assert_cmpfloat (again->x.step, ==, 512);
  g_assert_cmpfloat (again->y.step, ==, 512);
  g_assert_cmpint (again->rows, ==, (N + 511) / 512);
  g_assert_cmpint (again->rows, <=, 200);
  g_assert_cmpstr (again->x.label, ==, "after segment (512 per column)");
  g_assert_cmpstr (again->value_label, ==, "cosine similarity, mean per cell");

  /* its cells: the mean cosine over the pairs of states in the two bins */
  States s = { .len = PERIOD_K * PERIOD_D };
  s.unit = g_new (float, (size_t) N * s.len);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, 1, &error);
  g_assert_no_error (error);
  g_assert_true (ms_recording_foreach_memory_state (rec, info, 0, N, on_state, &s, &error));
  g_assert_no_error (error);
  int n = again->rows, last = n - 1;
  int cells[][2] = { { 0, 0 }, { 0, 1 }, { 7, 100 }, { last, 3 }, { last, last } };
  for (guint c = 0; c < G_N_ELEMENTS (cells); c++)
    {
      int a = cells[c][0], b = cells[c][1];
      double want = mean_cosine (&s, a * 512, MIN ((a + 1) * 512, N), b * 512, MIN ((b + 1) * 512, N));
      g_assert_cmpfloat_with_epsilon (ms_view_data_get (again, a, b), want, 1e-4);
      g_assert_cmpfloat (ms_view_data_get (again, a, b), ==, ms_view_data_get (again, b, a));
    }
  /* the first load's bins too */
  double want = mean_cosine (&s, 384, 768, 99840, N);
  g_assert_cmpfloat_with_epsilon (ms_view_data_get (first, 1, first->cols - 1), want, 1e-4);
  g_free (s.unit);

  /* read again from the states (nothing kept): the same numbers */
  ms_view_clear_cache ();
  g_autoptr (MsViewData) fresh = load (MS_VIEW_SIMILARITY, p);
  g_assert_cmpuint (fresh->work.states, ==, N);
  g_assert_cmpint (fresh->rows, ==, again->rows);
  g_assert_cmpmem (fresh->values, sizeof (float) * n * n, again->values, sizeof (float) * n * n);
  ms_view_set_similarity_base_bytes (0);
}

/* Provenance over a horizon of 8: the whole run once (from segment 0),
 * then windows late in the run, which start from the kept mark before
 * them — the same numbers as a load that runs the recurrence from 0. */
static void
test_provenance_window_reads_window (void)
{
  ms_view_clear_cache ();
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.horizon = 8, p.max_cols = 300;
  g_autoptr (MsViewData) whole = load (MS_VIEW_PROVENANCE, p);
  g_assert_cmpuint (whole->work.segments, ==, N);

  p.first = 99000, p.last = 99500;
  g_autoptr (MsViewData) late = load (MS_VIEW_PROVENANCE, p);
  /* from the mark at 98,304 = 96 · 1,024 to the window's end */
  int from = 99000 / MS_VIEW_PROVENANCE_MARK_EVERY * MS_VIEW_PROVENANCE_MARK_EVERY;
  g_assert_cmpuint (late->work.segments, ==, 99500 - from);
  g_assert_cmpuint (late->work.segments, <=, 500 + MS_VIEW_PROVENANCE_MARK_EVERY);

  p.slot = 1;   /* one slot's provenance: the same marks */
  g_autoptr (MsViewData) slot = load (MS_VIEW_PROVENANCE, p);
  g_assert_cmpuint (slot->work.segments, ==, 99500 - from);
  g_assert_cmpstr (slot->title, ==, "Provenance of slot 1 over the last 8 segments");

  ms_view_clear_cache ();
  g_autoptr (MsViewData) slot_fresh = load (MS_VIEW_PROVENANCE, p);
  g_assert_cmpuint (slot_fresh->work.segments, ==, 99500);
  p.slot = -1;
  g_autoptr (MsViewData) late_fresh = load (MS_VIEW_PROVENANCE, p);
  g_assert_cmpint (late_fresh->rows, ==, late->rows);
  g_assert_cmpint (late_fresh->cols, ==, late->cols);
  size_t bytes = sizeof (float) * late->rows * late->cols;
  g_assert_cmpmem (late_fresh->values, bytes, late->values, bytes);
  g_assert_cmpmem (slot_fresh->values, bytes, slot->values, bytes);
  /* each column shares out the whole memory: initial, older, t − 8 … t */
  for (int c = 0; c < late->cols; c += 37)
    {
      double sum = 0;
      for (int r = 0; r < late->rows; r++)
        sum += ms_view_data_get (late, r, c);
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  period_engine_register ();
  dir = g_dir_make_tmp ("memscope-view-work-XXXXXX", NULL);
  g_autofree char *model_path = g_build_filename (dir, "period.safetensors", NULL);
  period_model_write (model_path);
  rec = period_record (dir, model_path, N, MS_ATTN_STORE_NONE);
  g_test_add_func ("/view-work/similarity-reads-once", test_similarity_reads_once);
  g_test_add_func ("/view-work/provenance-window-reads-window", test_provenance_window_reads_window);
  int status = g_test_run ();
  ms_recording_close (rec);
  test_dir_remove (dir);
  g_free (dir);
  return status;
}
