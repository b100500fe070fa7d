/* test-causal.c — causal retention (core/ms-causal.h) on cases with known
 * answers, with the shipped copy models on the copy demo (two copy
 * instances of 6 segments of 8 bytes: string 0–1, distractor 2–3, answer
 * 4–5, then 6–11 alike):
 *
 * - A Memformer whose read path is cut (every encoder layer's memory
 *   attention output projection zeroed, so the tokens never see the
 *   memory and nothing the decoder reads depends on it) gives ΔNLL and
 *   Δaccuracy exactly 0 for every source, target and replacement, while
 *   the same model uncut does not.
 * - skip (the memory after s is the memory before s): a string segment
 *   matters to the answer segment that copies it — accuracy drops by at
 *   least 0.5 and NLL rises by at least 1.5 nats per token there.  The
 *   models copy at about 0.97; without the string half, each answer token
 *   is a guess among 8 symbols (1/8), so the drop expected is about 0.85
 *   and a calibrated guess costs ln 8 ≈ 2.08 nats more than a copy; the
 *   thresholds leave room for lucky guesses over 8 tokens.  For the
 *   Memformer, the first distractor segment does not matter to its
 *   instance's answers: at most one of the 8 answer tokens flips
 *   (|Δaccuracy| ≤ 1/8) and |ΔNLL| ≤ 1 nat per token, under half of what
 *   losing a string symbol costs.
 * - initial: the memory after the first instance's last answer segment
 *   does not matter to the second instance's answers (|Δaccuracy| ≤ 1/8),
 *   for both models: each instance is copied from its own string.
 * - Computing in pieces (max_sources) and continuing gives bit for bit
 *   what one computation gives; a cancelled one keeps what it stored.
 * - The reset-memory baseline equals a session stepped with its memory
 *   reset before every segment, bit for bit.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ms-causal.h"
#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-recording.h"
#include "ms-safetensors.h"
#include "test-util.h"

static const char *models_dir, *inputs_dir;

#define N_SEGMENTS 12
#define H 8
/* knockout replays K = 16 times as much: a shorter horizon keeps the test
 * quick under the sanitizers */
#define H_KNOCKOUT 3
#define HORIZON(r) ((r) == MS_CAUSAL_KNOCKOUT ? H_KNOCKOUT : H)

typedef struct {
  char *dir, *db, *input;
  gint64 run;
} Fixture;

/* Records @model_path on the copy demo into a new recording in @f. */
static void
fixture_init (Fixture *f, const char *model_path)
{
  f->dir = g_dir_make_tmp ("memscope-causal-XXXXXX", NULL);
  f->db = g_build_filename (f->dir, "c.sqlite", NULL);
  f->input = g_build_filename (inputs_dir, "copy-demo.txt", NULL);
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (model_path, &error);
  g_assert_no_error (error);
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_NONE };
  g_assert_true (ms_record (f->db, model, f->input, &opts, 0, NULL, NULL, NULL, &f->run, &error));
  g_assert_no_error (error);
}

static void
fixture_clear (Fixture *f)
{
  test_dir_remove (f->dir);
  g_free (f->dir), g_free (f->db), g_free (f->input);
}

static char *
shipped (const char *name)
{
  return g_strdup_printf ("%s/%s.safetensors", models_dir, name);
}

static MsCausalResult
compute (Fixture *f, MsCausalReplacement r, int max_sources)
{
  MsCausalOptions o = { .replacement = r, .horizon = HORIZON (r), .max_sources = max_sources };
  MsCausalResult res;
  GError *error = NULL;
  g_assert_true (ms_causal_compute (f->db, f->run, &o, NULL, NULL, NULL, &res, &error));
  g_assert_no_error (error);
  return res;
}

/* The stored rows of @r: (source, slot) → ΔNLL and Δaccuracy over the
 * horizon, as (n_sources · units, H) arrays; NaN where nothing is stored. */
typedef struct {
  int units;
  float dnll[N_SEGMENTS * 16][H];
  float dacc[N_SEGMENTS * 16][H];
  int rows;
  gboolean accuracy;
} Table;

static gboolean
collect (const MsCausalRow *row, gpointer user_data, GError **error)
{
  Table *t = user_data;
  g_assert_cmpint (row->horizon, ==, t->units > 1 ? H_KNOCKOUT : H);
  int at = row->source * t->units + MAX (row->slot, 0);
  memcpy (t->dnll[at], row->delta_nll, (size_t) row->horizon * sizeof (float));
  if (row->delta_accuracy)
    memcpy (t->dacc[at], row->delta_accuracy, (size_t) row->horizon * sizeof (float));
  t->accuracy = row->delta_accuracy != NULL;
  t->rows++;
  (void) error;
  return TRUE;
}

static Table *
read_table (Fixture *f, MsCausalReplacement r)
{
  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (f->db, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) run = ms_recording_get_run (rec, f->run, &error);
  g_assert_no_error (error);
  Table *t = g_new0 (Table, 1);
  t->units = r == MS_CAUSAL_KNOCKOUT ? run->config.n_slots : 1;
  for (int i = 0; i < N_SEGMENTS * 16; i++)
    for (int k = 0; k < H; k++)
      t->dnll[i][k] = t->dacc[i][k] = NAN;
  g_assert_true (ms_causal_foreach (rec, run, r, collect, t, &error));
  g_assert_no_error (error);
  return t;
}

/* ΔNLL and Δaccuracy of target @t from source @s (slot 0 row). */
static float dnll (const Table *tb, int s, int t) { return tb->dnll[s * tb->units][t - s - 1]; }
static float dacc (const Table *tb, int s, int t) { return tb->dacc[s * tb->units][t - s - 1]; }

/* The copy Memformer with its read path cut, written to @path. */
static void
write_memoryless (const char *path)
{
  g_autofree char *src = shipped ("copy-memformer");
  GError *error = NULL;
  g_autoptr (MsSafetensors) st = ms_safetensors_open (src, &error);
  g_assert_no_error (error);
  guint n = ms_safetensors_get_n_tensors (st);
  MsTensorOut *out = g_new0 (MsTensorOut, n);
  float **data = g_new0 (float *, n);
  int cut = 0;
  for (guint i = 0; i < n; i++)
    {
      const MsTensorInfo *t = ms_safetensors_get_tensor (st, i);
      data[i] = g_new (float, MAX (t->n_elements, 1));
      ms_tensor_info_to_f32 (t, data[i]);
      if (g_str_has_prefix (t->name, "enc.layers.") && (g_str_has_suffix (t->name, ".mem_attn.o.weight")
                                                         || g_str_has_suffix (t->name, ".mem_attn.o.bias")))
        {
          memset (data[i], 0, t->n_elements * sizeof (float));
          cut++;
        }
      out[i] = (MsTensorOut) { t->name, t->n_dims, { 0 }, data[i] };
      memcpy (out[i].shape, t->shape, sizeof t->shape);
    }
  g_assert_cmpint (cut, >=, 2);   /* weight and bias of every layer that reads memory */
  const char *keys[] = { "memscope.format", "memscope.arch", "memscope.config", "memscope.tokenizer" };
  const char *meta[2 * G_N_ELEMENTS (keys) + 3];
  guint m = 0;
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (ms_safetensors_get_metadata (st, keys[i]))
      meta[m++] = keys[i], meta[m++] = ms_safetensors_get_metadata (st, keys[i]);
  meta[m++] = "memscope.source";
  meta[m++] = "test-causal.c: copy-memformer with enc.layers.*.mem_attn.o zeroed";
  meta[m] = NULL;
  g_assert_true (ms_safetensors_write (path, out, n, meta, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    g_free (data[i]);
  g_free (data);
  g_free (out);
}

static void
test_memory_ignored (void)
{
  g_autofree char *dir = g_dir_make_tmp ("memscope-causal-model-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "memoryless.safetensors", NULL);
  write_memoryless (path);
  Fixture f;
  fixture_init (&f, path);
  for (int r = 0; r < MS_CAUSAL_N_REPLACEMENTS; r++)
    {
      MsCausalResult res = compute (&f, r, 0);
      g_assert_true (res.task_input);
      g_autofree Table *t = read_table (&f, r);
      int finite = 0;
      for (int i = 0; i < t->rows; i++)
        for (int k = 0; k < H; k++)
          {
            float d = t->dnll[i][k], a = t->dacc[i][k];
            if (!isnan (d))
              {
                g_assert_cmpfloat (d, ==, 0.0f);
                finite++;
              }
            if (!isnan (a))
              g_assert_cmpfloat (a, ==, 0.0f);
          }
      /* every source with a target, every one of its targets in the run */
      g_assert_cmpint (t->rows, ==, (N_SEGMENTS - 1) * t->units);
      int targets = 0;   /* every target inside the run has predicted tokens */
      for (int src = 0; src < N_SEGMENTS - 1; src++)
        targets += MIN (HORIZON (r), N_SEGMENTS - 1 - src);
      g_assert_cmpint (finite, ==, targets * t->units);
    }
  fixture_clear (&f);
  test_dir_remove (dir);

  /* the same model with its read path: the measurement can fail */
  g_autofree char *real = shipped ("copy-memformer");
  fixture_init (&f, real);
  compute (&f, MS_CAUSAL_INITIAL, 0);
  g_autofree Table *t = read_table (&f, MS_CAUSAL_INITIAL);
  g_assert_cmpfloat (fabsf (dnll (t, 1, 5)), >, 1.0f);
  fixture_clear (&f);
}

/* A string segment s matters to the answer segment s + 4 that copies it. */
static void
check_string_matters (const Table *t, const char *name)
{
  for (int s = 0; s < N_SEGMENTS; s += 6)
    for (int k = 0; k < 2; k++)
      {
        int src = s + k, target = s + 4 + k;
        g_test_message ("%s skip: source %d → answer %d: ΔNLL %.3f, Δaccuracy %.3f", name, src, target,
                        dnll (t, src, target), dacc (t, src, target));
        g_assert_cmpfloat (dacc (t, src, target), <=, -0.5f);
        g_assert_cmpfloat (dnll (t, src, target), >=, 1.5f);
      }
}

static void
test_copy_known_answers (void)
{
  const char *names[] = { "copy-memformer", "copy-rmt" };
  for (guint m = 0; m < G_N_ELEMENTS (names); m++)
    {
      g_autofree char *path = shipped (names[m]);
      Fixture f;
      fixture_init (&f, path);
      compute (&f, MS_CAUSAL_SKIP, 0);
      compute (&f, MS_CAUSAL_INITIAL, 0);
      g_autofree Table *skip = read_table (&f, MS_CAUSAL_SKIP);
      g_autofree Table *initial = read_table (&f, MS_CAUSAL_INITIAL);
      g_assert_true (skip->accuracy && initial->accuracy);
      check_string_matters (skip, names[m]);
      if (m == 0)
        /* the Memformer's first distractor segment of each instance */
        for (int s = 2; s < N_SEGMENTS; s += 6)
          for (int target = s + 2; target <= s + 3; target++)
            {
              g_test_message ("%s skip: distractor %d → answer %d: ΔNLL %.3f, Δaccuracy %.3f", names[m], s,
                              target, dnll (skip, s, target), dacc (skip, s, target));
              g_assert_cmpfloat (fabsf (dacc (skip, s, target)), <=, 1.0f / 8);
              g_assert_cmpfloat (fabsf (dnll (skip, s, target)), <=, 1.0f);
            }
      /* the first instance done: the second copies its own string */
      for (int target = 10; target <= 11; target++)
        {
          g_test_message ("%s initial: source 5 → answer %d: Δaccuracy %.3f", names[m], target,
                          dacc (initial, 5, target));
          g_assert_cmpfloat (fabsf (dacc (initial, 5, target)), <=, 1.0f / 8);
        }
      /* targets without answer tokens have no accuracy change */
      g_assert_true (isnan (dacc (initial, 0, 2)) && isnan (dacc (initial, 0, 3)));
      fixture_clear (&f);
    }
}

typedef struct {
  int calls;
  GCancellable *cancellable;
} CancelAt;

/* Cancels at the second progress report: the first comes before any
 * source, the second after the first source is stored. */
static void
cancel_after_two (int done, int total, gpointer data)
{
  CancelAt *c = data;
  (void) done, (void) total;
  if (++c->calls == 2)
    g_cancellable_cancel (c->cancellable);
}

static void
test_incremental (void)
{
  g_autofree char *path = shipped ("copy-rmt");
  Fixture whole, pieces;
  fixture_init (&whole, path);
  fixture_init (&pieces, path);
  compute (&whole, MS_CAUSAL_KNOCKOUT, 0);
  MsCausalResult a = compute (&pieces, MS_CAUSAL_KNOCKOUT, 3);
  g_assert_cmpint (a.sources_computed, ==, 3);
  g_assert_cmpint (a.sources_left, ==, N_SEGMENTS - 1 - 3);
  g_assert_cmpint (a.reset_memory_segments, ==, N_SEGMENTS);
  /* cancelled from the progress callback after the baseline's report and
   * one source: that source stays */
  GError *error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  CancelAt data = { 0, cancel };
  MsCausalOptions o = { .replacement = MS_CAUSAL_KNOCKOUT, .horizon = H_KNOCKOUT };
  MsCausalResult b;
  g_assert_false (ms_causal_compute (pieces.db, pieces.run, &o, cancel_after_two, &data, cancel, &b, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_CANCELLED);
  g_assert_nonnull (strstr (error->message, pieces.db));
  g_clear_error (&error);
  g_assert_cmpint (b.sources_computed, ==, 1);
  g_assert_cmpint (b.reset_memory_segments, ==, 0);
  MsCausalResult c = compute (&pieces, MS_CAUSAL_KNOCKOUT, 0);
  g_assert_cmpint (c.sources_stored, ==, 3 + b.sources_computed);
  g_assert_cmpint (c.sources_computed + c.sources_stored, ==, N_SEGMENTS - 1);
  g_assert_cmpint (c.sources_left, ==, 0);
  g_autofree Table *tw = read_table (&whole, MS_CAUSAL_KNOCKOUT);
  g_autofree Table *tp = read_table (&pieces, MS_CAUSAL_KNOCKOUT);
  g_assert_cmpint (tw->rows, ==, (N_SEGMENTS - 1) * 16);
  g_assert_cmpint (tp->rows, ==, tw->rows);
  g_assert_cmpmem (tw->dnll, sizeof tw->dnll, tp->dnll, sizeof tp->dnll);
  g_assert_cmpmem (tw->dacc, sizeof tw->dacc, tp->dacc, sizeof tp->dacc);
  /* nothing left: a third run replays nothing */
  MsCausalResult d = compute (&pieces, MS_CAUSAL_KNOCKOUT, 0);
  g_assert_cmpint (d.sources_computed, ==, 0);
  g_assert_cmpint (d.segments_replayed, ==, 0);
  fixture_clear (&whole);
  fixture_clear (&pieces);
}

typedef struct {
  float nll[N_SEGMENTS][8];
  int n[N_SEGMENTS];
  int seen;
} Baseline;

static gboolean
collect_baseline (int segment, const float *nll, int n_tokens, float mean, gpointer user_data, GError **error)
{
  Baseline *b = user_data;
  memcpy (b->nll[segment], nll, (size_t) n_tokens * sizeof (float));
  b->n[segment] = n_tokens;
  b->seen++;
  (void) mean, (void) error;
  return TRUE;
}

static void
test_reset_memory_baseline (void)
{
  const char *names[] = { "copy-memformer", "copy-rmt" };
  for (guint m = 0; m < G_N_ELEMENTS (names); m++)
    {
      g_autofree char *path = shipped (names[m]);
      Fixture f;
      fixture_init (&f, path);
      compute (&f, MS_CAUSAL_ZEROS, 2);
      GError *error = NULL;
      g_autoptr (MsRecording) rec = ms_recording_open (f.db, &error);
      g_assert_no_error (error);
      g_autoptr (MsRunInfo) run = ms_recording_get_run (rec, f.run, &error);
      g_assert_no_error (error);
      Baseline got = { 0 };
      g_assert_true (ms_causal_foreach_reset_memory (rec, run, 0, N_SEGMENTS, collect_baseline, &got, &error));
      g_assert_no_error (error);
      g_assert_cmpint (got.seen, ==, N_SEGMENTS);
      /* the same with a session, the memory reset before every segment */
      g_autoptr (MsModel) model = ms_model_load (path, &error);
      g_assert_no_error (error);
      g_autoptr (MsSession) s = ms_session_new (model);
      g_autofree char *text = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (f.input, &text, &len, NULL));
      g_assert_cmpuint (len, ==, N_SEGMENTS * 8);
      for (int t = 0; t < N_SEGMENTS; t++)
        {
          int32_t ids[8];
          float nll[8];
          for (int i = 0; i < 8; i++)
            ids[i] = (guint8) text[t * 8 + i];
          ms_session_reset_memory (s);
          g_assert_true (ms_session_step (s, ids, 8, nll, &error));
          g_assert_cmpint (got.n[t], ==, 8);
          g_assert_cmpmem (got.nll[t], sizeof nll, nll, sizeof nll);
        }
      fixture_clear (&f);
    }
}

static void
test_bad_options (void)
{
  g_autofree char *path = shipped ("copy-rmt");
  Fixture f;
  fixture_init (&f, path);
  GError *error = NULL;
  MsCausalOptions o = { .replacement = MS_CAUSAL_INITIAL, .horizon = 0 };
  g_assert_false (ms_causal_compute (f.db, f.run, &o, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_clear_error (&error);
  o.horizon = H;
  g_assert_false (ms_causal_compute (f.db, f.run + 5, &o, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, f.db));
  g_clear_error (&error);
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  models_dir = g_getenv ("MEMSCOPE_MODELS");
  inputs_dir = g_getenv ("MEMSCOPE_INPUTS");
  if (!models_dir || !inputs_dir)
    {
      g_printerr ("MEMSCOPE_MODELS and MEMSCOPE_INPUTS must name resources/models and resources/inputs\n");
      return 1;
    }
  g_test_add_func ("/causal/memory-ignored", test_memory_ignored);
  g_test_add_func ("/causal/copy-known-answers", test_copy_known_answers);
  g_test_add_func ("/causal/incremental", test_incremental);
  g_test_add_func ("/causal/reset-memory-baseline", test_reset_memory_baseline);
  g_test_add_func ("/causal/bad-options", test_bad_options);
  return g_test_run ();
}
