/* test-analysis.c — the retention analysis (DESIGN §5) on hand-built
 * attention with known answers: provenance under pure retain, pure
 * overwrite and half/half writers (exact powers of ½), row sums over many
 * random steps for both architectures, RMT's two memory blocks, slot-type
 * thresholds, cosines, read usage, and NaN staying where it belongs. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "ms-analysis.h"
#include "ms-engine.h"

/* The write distribution through each built-in engine's write layout:
 * Memformer's writer (H, K, 1+n) [self | tokens], RMT's write rows
 * (H, m, 2m+n) [read block | tokens | write block]. */
static void
from_layout (const char *engine, MsWriteDistribution *wd, const float *w, int H, int K, int n)
{
  const MsAttentionLayout *a = ms_engine_find_attention (ms_engine_lookup (engine), MS_OBS_WRITE);
  g_assert_nonnull (a);
  ms_write_distribution_from_attention (wd, a, w, H, K, n);
}

static void
write_distribution_memformer (MsWriteDistribution *wd, const float *w, int H, int K, int n)
{
  from_layout ("memformer", wd, w, H, K, n);
}

static void
write_distribution_rmt (MsWriteDistribution *wd, const float *w, int H, int m, int n)
{
  from_layout ("rmt", wd, w, H, m, n);
}

/* Memformer writer (H, K, 1+n): head h gives slot i self weight self[h] and
 * spreads 1 − self[h] evenly over the n tokens. */
static float *
memformer_writer (int H, int K, int n, const float *self)
{
  int W = 1 + n;
  float *a = g_new0 (float, (size_t) H * K * W);
  for (int h = 0; h < H; h++)
    for (int i = 0; i < K; i++)
      {
        float *row = a + ((size_t) h * K + i) * W;
        row[0] = self[h];
        for (int j = 0; j < n; j++)
          row[1 + j] = (1.0f - self[h]) / n;
      }
  return a;
}

/* Softmax rows of random logits, @rows × @cols, in [0, 1] summing to 1. */
static void
random_attention (GRand *r, float *p, int rows, int cols, double spread)
{
  for (int i = 0; i < rows; i++)
    {
      float *row = p + (size_t) i * cols;
      double sum = 0;
      for (int j = 0; j < cols; j++)
        sum += row[j] = (float) exp (g_rand_double_range (r, -spread, spread));
      for (int j = 0; j < cols; j++)
        row[j] = (float) (row[j] / sum);
    }
}

/* Runs @steps segments of provenance through @wd (refilled by @fill each
 * step) and returns P_steps (K, steps+1), owned. */
typedef void (*FillFunc) (MsWriteDistribution *wd, int step, gpointer data);

static float *
run_provenance (MsWriteDistribution *wd, int steps, FillFunc fill, gpointer data,
                void (*check) (const float *p, int K, int n_sources))
{
  int K = wd->n_slots;
  float *p = g_new (float, (size_t) K * (steps + 1));
  float *q = g_new (float, (size_t) K * (steps + 1));
  ms_provenance_init (p, K);
  for (int t = 0; t < steps; t++)
    {
      fill (wd, t, data);
      ms_provenance_step (p, K, t + 1, wd, q);
      float *swap = p;
      p = q, q = swap;
      if (check)
        check (p, K, t + 2);
    }
  g_free (q);
  return p;
}

typedef struct {
  const float *writer;
  int H, K, n;
} MemformerFill;

static void
fill_memformer (MsWriteDistribution *wd, int step, gpointer data)
{
  (void) step;
  MemformerFill *f = data;
  write_distribution_memformer (wd, f->writer, f->H, f->K, f->n);
}

static void
check_all_on_column_0 (const float *p, int K, int S)
{
  for (int i = 0; i < K; i++)
    for (int s = 0; s < S; s++)
      g_assert_cmpfloat (p[(size_t) i * S + s], ==, s == 0 ? 1.0f : 0.0f);
}

static void
check_all_on_newest (const float *p, int K, int S)
{
  for (int i = 0; i < K; i++)
    for (int s = 0; s < S; s++)
      g_assert_cmpfloat (p[(size_t) i * S + s], ==, s == S - 1 ? 1.0f : 0.0f);
}

/* Self weight 1 in every head: nothing is ever written, the initial memory
 * owns every slot forever. */
static void
test_memformer_retain (void)
{
  int H = 3, K = 4, n = 5;
  float self[] = { 1, 1, 1 };
  g_autofree float *writer = memformer_writer (H, K, n, self);
  g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (K, n);
  MemformerFill f = { writer, H, K, n };

  g_autofree float *p = run_provenance (wd, 40, fill_memformer, &f, check_all_on_column_0);
  for (int i = 0; i < K; i++)
    {
      g_assert_cmpfloat (wd->retention[i], ==, 1.0f);
      g_assert_cmpfloat (wd->token_share[i], ==, 0.0f);
      for (int j = 0; j < K; j++)
        g_assert_cmpfloat (wd->transfer[i * K + j], ==, i == j ? 1.0f : 0.0f);
    }
  float mean[41];
  ms_provenance_mean (p, K, 41, mean);
  g_assert_cmpfloat (mean[0], ==, 1.0f);
  for (int s = 1; s < 41; s++)
    g_assert_cmpfloat (mean[s], ==, 0.0f);
}

/* Self weight 0: each segment overwrites everything, so all provenance sits
 * on the segment just written. */
static void
test_memformer_overwrite (void)
{
  int H = 2, K = 3, n = 4;
  float self[] = { 0, 0 };
  g_autofree float *writer = memformer_writer (H, K, n, self);
  g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (K, 8);
  MemformerFill f = { writer, H, K, n };

  g_autofree float *p = run_provenance (wd, 25, fill_memformer, &f, check_all_on_newest);
  float mean[26];
  ms_provenance_mean (p, K, 26, mean);
  g_assert_cmpfloat (mean[25], ==, 1.0f);
  g_assert_cmpfloat (mean[24], ==, 0.0f);
  g_assert_cmpint (wd->n_tokens, ==, n);
  for (int i = 0; i < K; i++)
    {
      g_assert_cmpfloat (wd->retention[i], ==, 0.0f);
      g_assert_cmpfloat (wd->token_share[i], ==, 1.0f);
      for (int j = 0; j < n; j++)
        g_assert_cmpfloat (wd->token_weights[i * n + j], ==, 0.25f);
    }
}

/* Heads keep ¼ and ¾ of the old slot (mean ½): a source k segments back
 * holds exactly 0.5^k of each slot, and the initial memory 0.5^t. */
static void
test_memformer_half (void)
{
  int H = 2, K = 3, n = 2, steps = 12;
  float self[] = { 0.25f, 0.75f };
  g_autofree float *writer = memformer_writer (H, K, n, self);
  g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (K, n);
  MemformerFill f = { writer, H, K, n };

  g_autofree float *p = run_provenance (wd, steps, fill_memformer, &f, NULL);
  int S = steps + 1;
  for (int i = 0; i < K; i++)
    {
      g_assert_cmpfloat (wd->retention[i], ==, 0.5f);
      g_assert_cmpfloat (wd->token_share[i], ==, 0.5f);
      /* initial memory: halved at every one of the 12 steps */
      g_assert_cmpfloat (p[(size_t) i * S + 0], ==, ldexpf (1.0f, -steps));
      for (int s = 0; s < steps; s++) /* segment s is k = steps − s segments back */
        g_assert_cmpfloat (p[(size_t) i * S + s + 1], ==, ldexpf (1.0f, -(steps - s)));
    }
  g_assert_cmpfloat (p[S - 1], ==, 0.5f);
  g_assert_cmpfloat (p[S - 2], ==, 0.25f);
  g_assert_cmpfloat (p[S - 3], ==, 0.125f);

  float mean[13];
  ms_provenance_mean (p, K, S, mean);
  for (int s = 0; s < steps; s++)
    g_assert_cmpfloat (mean[s + 1], ==, ldexpf (1.0f, -(steps - s)));
}

/* Random valid attention: per-segment lengths vary; rows of P stay ≥ 0 and
 * sum to 1 over many steps. */
typedef struct {
  GRand *rand;
  float *buf;
  int H, K, max_n;
  gboolean rmt;
  double spread;
} RandomFill;

static void
fill_random (MsWriteDistribution *wd, int step, gpointer data)
{
  RandomFill *f = data;
  int n = 1 + (step * 7) % f->max_n;
  if (f->rmt)
    {
      random_attention (f->rand, f->buf, f->H * f->K, 2 * f->K + n, f->spread);
      write_distribution_rmt (wd, f->buf, f->H, f->K, n);
    }
  else
    {
      random_attention (f->rand, f->buf, f->H * f->K, 1 + n, f->spread);
      write_distribution_memformer (wd, f->buf, f->H, f->K, n);
    }
  for (int i = 0; i < f->K; i++)
    {
      g_assert_cmpfloat_with_epsilon (wd->retention[i] + wd->token_share[i], 1.0, 1e-6);
      double t_sum = 0;
      for (int j = 0; j < f->K; j++)
        t_sum += wd->transfer[i * f->K + j];
      g_assert_cmpfloat_with_epsilon (t_sum, wd->retention[i], 1e-6);
    }
}

static void
check_rows_sum_to_one (const float *p, int K, int S)
{
  for (int i = 0; i < K; i++)
    {
      double sum = 0;
      for (int s = 0; s < S; s++)
        {
          g_assert_cmpfloat (p[(size_t) i * S + s], >=, 0.0f);
          sum += p[(size_t) i * S + s];
        }
      if (!(fabs (sum - 1.0) <= 1e-5))
        g_error ("slot %d after %d sources: row sums to %.9g", i, S, sum);
    }
}

static void
test_provenance_rows_sum_to_one (void)
{
  int H = 3, K = 7, max_n = 13, steps = 300;
  for (int rmt = 0; rmt <= 1; rmt++)
    for (int sharp = 0; sharp <= 1; sharp++) /* soft and peaked attention */
      {
        RandomFill f = { g_rand_new_with_seed (17 + rmt + 2 * sharp), NULL, H, K, max_n, rmt, sharp ? 8.0 : 1.0 };
        f.buf = g_new (float, (size_t) H * K * (2 * K + max_n));
        g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (K, max_n);
        g_free (run_provenance (wd, steps, fill_random, &f, check_rows_sum_to_one));
        g_free (f.buf);
        g_rand_free (f.rand);
      }
}

/* RMT write rows (H, m, 2m+n), zeroed. */
static float *
rmt_rows (int H, int m, int n)
{
  return g_new0 (float, (size_t) H * m * (2 * m + n));
}

#define RMT_AT(P, h, i, j) (P)[((size_t) (h) * m + (i)) * (2 * m + n) + (j)]

/* The old share counts the read block AND the write block. */
static void
test_rmt_retention (void)
{
  int H = 2, m = 3, n = 4;
  g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (m, n);

  /* only the write block (spread over its slots) → old 1 */
  g_autofree float *write_only = rmt_rows (H, m, n);
  for (int h = 0; h < H; h++)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < m; j++)
        RMT_AT (write_only, h, i, m + n + j) = 0.25f + 0.25f * (j == i);
  write_distribution_rmt (wd, write_only, H, m, n);
  for (int i = 0; i < m; i++)
    {
      g_assert_cmpfloat (wd->retention[i], ==, 1.0f);
      g_assert_cmpfloat (wd->token_share[i], ==, 0.0f);
    }

  /* only the tokens → old 0 */
  g_autofree float *tokens_only = rmt_rows (H, m, n);
  for (int h = 0; h < H; h++)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++)
        RMT_AT (tokens_only, h, i, m + j) = 0.25f;
  write_distribution_rmt (wd, tokens_only, H, m, n);
  for (int i = 0; i < m; i++)
    {
      g_assert_cmpfloat (wd->retention[i], ==, 0.0f);
      g_assert_cmpfloat (wd->token_share[i], ==, 1.0f);
      for (int j = 0; j < m; j++)
        g_assert_cmpfloat (wd->transfer[i * m + j], ==, 0.0f);
    }

  /* split across heads: head 0 all on the read block, head 1 all on token
   * i → old ½ (the mean), token ½; slot 2 instead has head 0 on the write
   * block and head 1 half read / half write → old 1 */
  g_autofree float *split = rmt_rows (H, m, n);
  for (int i = 0; i < 2; i++)
    {
      RMT_AT (split, 0, i, i) = 1.0f;
      RMT_AT (split, 1, i, m + i) = 1.0f;
    }
  RMT_AT (split, 0, 2, m + n + 1) = 1.0f;
  RMT_AT (split, 1, 2, 0) = 0.5f;
  RMT_AT (split, 1, 2, m + n + 0) = 0.5f;
  write_distribution_rmt (wd, split, H, m, n);
  for (int i = 0; i < 2; i++)
    {
      g_assert_cmpfloat (wd->retention[i], ==, 0.5f);
      g_assert_cmpfloat (wd->token_share[i], ==, 0.5f);
      g_assert_cmpfloat (wd->transfer[i * m + i], ==, 0.5f);
      g_assert_cmpfloat (wd->token_weights[i * n + i], ==, 0.5f);
    }
  g_assert_cmpfloat (wd->retention[2], ==, 1.0f);
  g_assert_cmpfloat (wd->token_share[2], ==, 0.0f);
  g_assert_cmpfloat (wd->transfer[2 * m + 0], ==, 0.5f);
  g_assert_cmpfloat (wd->transfer[2 * m + 1], ==, 0.5f);
  g_assert_cmpfloat (wd->transfer[2 * m + 2], ==, 0.0f);
}

/* A row with mass on read slot j and write slot j' puts it on T[i,j] and
 * T[i,j'] (and both add when j = j'); provenance follows T. */
static void
test_rmt_transfer (void)
{
  int H = 1, m = 4, n = 3;
  g_autofree float *P = rmt_rows (H, m, n);
  /* slot 0: 0.25 from read slot 2, 0.5 from write slot 3, 0.25 from token 1 */
  RMT_AT (P, 0, 0, 2) = 0.25f;
  RMT_AT (P, 0, 0, m + n + 3) = 0.5f;
  RMT_AT (P, 0, 0, m + 1) = 0.25f;
  /* slot 1: 0.375 from read slot 1, 0.375 from write slot 1, 0.25 from token 0 */
  RMT_AT (P, 0, 1, 1) = 0.375f;
  RMT_AT (P, 0, 1, m + n + 1) = 0.375f;
  RMT_AT (P, 0, 1, m + 0) = 0.25f;
  /* slots 2, 3: keep themselves via the write block */
  RMT_AT (P, 0, 2, m + n + 2) = 1.0f;
  RMT_AT (P, 0, 3, m + n + 3) = 1.0f;

  g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (m, n);
  write_distribution_rmt (wd, P, H, m, n);
  float want_T[4][4] = { { 0, 0, 0.25f, 0.5f }, { 0, 0.75f, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } };
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++)
      g_assert_cmpfloat (wd->transfer[i * m + j], ==, want_T[i][j]);
  g_assert_cmpfloat (wd->retention[0], ==, 0.75f);
  g_assert_cmpfloat (wd->retention[1], ==, 0.75f);
  g_assert_cmpfloat (wd->token_weights[0 * n + 1], ==, 0.25f);
  g_assert_cmpfloat (wd->token_weights[1 * n + 0], ==, 0.25f);

  /* A made-up P_1 (m, 2), rows summing to 1; new slot 0 mixes old slots 2
   * and 3, slot 1 keeps ¾ of old slot 1, slots 2 and 3 copy themselves. */
  float p1[4 * 2] = { 0.5f, 0.5f, 1, 0, 0.25f, 0.75f, 0, 1 };
  float p2[4 * 3];
  ms_provenance_step (p1, m, 2, wd, p2);
  float want[4 * 3] = {
    0.25f * 0.25f + 0.5f * 0, 0.25f * 0.75f + 0.5f * 1, 0.25f,
    0.75f * 1, 0.75f * 0, 0.25f,
    0.25f, 0.75f, 0,
    0, 1, 0,
  };
  for (int k = 0; k < 12; k++)
    g_assert_cmpfloat_with_epsilon (p2[k], want[k], 1e-7);
}

static void
test_slot_types (void)
{
  double R = MS_SLOT_RETAIN_AT, O = MS_SLOT_OVERWRITE_AT;
  g_assert_cmpint (ms_slot_type (0.9f, R, O), ==, MS_SLOT_RETAIN);
  g_assert_cmpint (ms_slot_type (1.0f, R, O), ==, MS_SLOT_RETAIN);
  g_assert_cmpint (ms_slot_type (nextafterf (0.9f, 0), R, O), ==, MS_SLOT_MIXED);
  g_assert_cmpint (ms_slot_type (0.5f, R, O), ==, MS_SLOT_MIXED);
  g_assert_cmpint (ms_slot_type (nextafterf (0.1f, 1), R, O), ==, MS_SLOT_MIXED);
  g_assert_cmpint (ms_slot_type (0.1f, R, O), ==, MS_SLOT_OVERWRITE);
  g_assert_cmpint (ms_slot_type (0.0f, R, O), ==, MS_SLOT_OVERWRITE);

  /* configurable */
  g_assert_cmpint (ms_slot_type (0.85f, 0.8, 0.2), ==, MS_SLOT_RETAIN);
  g_assert_cmpint (ms_slot_type (0.8f, 0.8, 0.2), ==, MS_SLOT_RETAIN);
  g_assert_cmpint (ms_slot_type (0.85f, 0.95, 0.2), ==, MS_SLOT_MIXED);
  g_assert_cmpint (ms_slot_type (0.2f, 0.8, 0.2), ==, MS_SLOT_OVERWRITE);
  g_assert_cmpint (ms_slot_type (0.15f, 0.8, 0.05), ==, MS_SLOT_MIXED);

  float r[] = { 0.95f, 0.9f, 0.5f, 0.1f, 0.05f, 0.3f, NAN, 0.99f };
  int counts[3] = { -1, -1, -1 };
  ms_slot_type_counts (r, G_N_ELEMENTS (r), R, O, counts);
  g_assert_cmpint (counts[MS_SLOT_RETAIN], ==, 3);
  g_assert_cmpint (counts[MS_SLOT_MIXED], ==, 2); /* the NaN slot is in none */
  g_assert_cmpint (counts[MS_SLOT_OVERWRITE], ==, 2);
  ms_slot_type_counts (r, G_N_ELEMENTS (r), 0.4, 0.2, counts);
  g_assert_cmpint (counts[MS_SLOT_RETAIN], ==, 4);
  g_assert_cmpint (counts[MS_SLOT_MIXED], ==, 1);
  g_assert_cmpint (counts[MS_SLOT_OVERWRITE], ==, 2);
}

static void
test_cosine (void)
{
  float a[] = { 1, 2, 3, 4 }, b[] = { 2, -1, 4, -3 }, neg[] = { -1, -2, -3, -4 }, scaled[] = { 3, 6, 9, 12 };
  g_assert_cmpfloat_with_epsilon (ms_memory_state_cosine (a, a, 4), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ms_memory_state_cosine (a, scaled, 4), 1.0, 1e-12);
  g_assert_cmpfloat (ms_memory_state_cosine (a, b, 4), ==, 0.0); /* 2 − 2 + 12 − 12 */
  g_assert_cmpfloat_with_epsilon (ms_memory_state_cosine (a, neg, 4), -1.0, 1e-12);
  float c[] = { 1, 0, 0, 0 };
  g_assert_cmpfloat_with_epsilon (ms_memory_state_cosine (a, c, 4), 1.0 / sqrt (30.0), 1e-12);

  /* per slot: K = 3 slots of d = 2 */
  float prev[] = { 1, 0, 0, 1, 3, 4 };
  float next[] = { 5, 0, 1, 0, 4, 3 };
  float out[3];
  ms_memory_slot_cosine (prev, next, 3, 2, out);
  g_assert_cmpfloat_with_epsilon (out[0], 1.0, 1e-7);
  g_assert_cmpfloat (out[1], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (out[2], 24.0 / 25.0, 1e-7);

  /* similarity matrix of 4 states of n = 4: symmetric, unit diagonal */
  float states[] = { 1, 2, 3, 4, 2, -1, 4, -3, -1, -2, -3, -4, 0.5f, 0.1f, -0.7f, 2 };
  float sim[16];
  ms_memory_similarity_matrix (states, 4, 4, sim);
  for (int x = 0; x < 4; x++)
    {
      g_assert_cmpfloat (sim[x * 4 + x], ==, 1.0f);
      for (int y = 0; y < 4; y++)
        {
          g_assert_cmpfloat (sim[x * 4 + y], ==, sim[y * 4 + x]);
          float want = (float) ms_memory_state_cosine (states + x * 4, states + y * 4, 4);
          g_assert_cmpfloat_with_epsilon (sim[x * 4 + y], want, 1e-6);
        }
    }
  g_assert_cmpfloat (sim[0 * 4 + 1], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (sim[0 * 4 + 2], -1.0f, 1e-7);

  /* relative change ‖b − a‖ / ‖a‖: (3,4) → (3,4) is 0, → (0,0) is 1,
   * → (6,8) is 1, → (3,-1) is 5/5 = 1, → (3,4.5) is 0.1 */
  float v[] = { 3, 4 }, v0[] = { 0, 0 }, v2[] = { 6, 8 }, v3[] = { 3, -1 }, v4[] = { 3, 4.5f };
  g_assert_cmpfloat (ms_memory_relative_change (v, v, 2), ==, 0.0);
  g_assert_cmpfloat (ms_memory_relative_change (v, v0, 2), ==, 1.0);
  g_assert_cmpfloat (ms_memory_relative_change (v, v2, 2), ==, 1.0);
  g_assert_cmpfloat (ms_memory_relative_change (v, v3, 2), ==, 1.0);
  g_assert_cmpfloat_with_epsilon (ms_memory_relative_change (v, v4, 2), 0.1, 1e-12);
  g_assert_true (isinf (ms_memory_relative_change (v0, v, 2)));
}

/* read attention (H=2, n=2, K=3):
 *   head 0: token 0 → (0.5, 0.25, 0.25), token 1 → (0, 1, 0)
 *   head 1: token 0 → (1, 0, 0),         token 1 → (0.25, 0.25, 0.5)
 * sum over tokens: head 0 (0.5, 1.25, 0.25), head 1 (1.25, 0.25, 0.5);
 * mean over heads: (0.875, 0.75, 0.375). */
static void
test_read_usage (void)
{
  float read_attn[] = { 0.5f, 0.25f, 0.25f, 0, 1, 0, 1, 0, 0, 0.25f, 0.25f, 0.5f };
  float out[3] = { NAN, NAN, NAN }; /* overwritten, not added to */
  ms_read_usage (read_attn, 2, 2, 3, out);
  g_assert_cmpfloat (out[0], ==, 0.875f);
  g_assert_cmpfloat (out[1], ==, 0.75f);
  g_assert_cmpfloat (out[2], ==, 0.375f);

  /* two layers, averaged by the caller: the second gives every token's
   * attention ½, ½, 0 in both heads → (1, 1, 0) */
  float layer2[] = { 0.5f, 0.5f, 0, 0.5f, 0.5f, 0, 0.5f, 0.5f, 0, 0.5f, 0.5f, 0 };
  float acc[3] = { 0, 0, 0 };
  ms_read_usage_accumulate (read_attn, 2, 2, 3, acc);
  ms_read_usage_accumulate (layer2, 2, 2, 3, acc);
  g_assert_cmpfloat (acc[0] / 2, ==, (0.875f + 1) / 2);
  g_assert_cmpfloat (acc[1] / 2, ==, (0.75f + 1) / 2);
  g_assert_cmpfloat (acc[2] / 2, ==, 0.375f / 2);

  /* RMT's read rows have the same shape: a token with no memory reads gives 0 */
  float rmt_read[] = { 0, 0, 0.5f, 0.5f };
  ms_read_usage (rmt_read, 1, 2, 2, out);
  g_assert_cmpfloat (out[0], ==, 0.5f);
  g_assert_cmpfloat (out[1], ==, 0.5f);
}

/* A NaN reaches the outputs that depend on it and no others. */
static void
test_nan_propagates (void)
{
  int H = 2, K = 3, n = 2;
  float self[] = { 0.5f, 0.5f };
  g_autofree float *writer = memformer_writer (H, K, n, self);
  writer[((size_t) 1 * K + 1) * (1 + n)] = NAN; /* head 1, slot 1, self */
  g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (K, n);
  write_distribution_memformer (wd, writer, H, K, n);
  g_assert_true (isnan (wd->retention[1]));
  g_assert_false (isnan (wd->token_share[1]));
  g_assert_cmpfloat (wd->retention[0], ==, 0.5f);
  g_assert_cmpfloat (wd->retention[2], ==, 0.5f);

  float p0[3], p1[3 * 2], p2[3 * 3];
  ms_provenance_init (p0, K);
  ms_provenance_step (p0, K, 1, wd, p1);
  g_autofree float *clean = memformer_writer (H, K, n, self);
  write_distribution_memformer (wd, clean, H, K, n);
  g_assert_true (isnan (p1[1 * 2 + 0]));
  g_assert_cmpfloat (p1[1 * 2 + 1], ==, 0.5f); /* the token column is token_share, untouched */
  g_assert_cmpfloat (p1[0 * 2 + 0], ==, 0.5f);
  g_assert_cmpfloat (p1[2 * 2 + 0], ==, 0.5f);
  ms_provenance_step (p1, K, 2, wd, p2); /* a clean step: slot 1's NaN stays in slot 1 */
  g_assert_true (isnan (p2[1 * 3 + 0]));
  g_assert_cmpfloat (p2[0 * 3 + 0], ==, 0.25f);
  g_assert_cmpfloat (p2[2 * 3 + 0], ==, 0.25f);
  float mean[3];
  ms_provenance_mean (p2, K, 3, mean);
  g_assert_true (isnan (mean[0]));
  g_assert_cmpfloat (mean[2], ==, 0.5f);

  /* RMT: a NaN in slot 0's write row spoils slot 0 only */
  int m = 2, nr = 1;
  float rows[2 * 5] = { 0.5f, 0, 0, 0.5f, 0, /* slot 0 */ 0, 0.5f, 0.5f, 0, 0 /* slot 1 */ };
  rows[1] = NAN;
  g_autoptr (MsWriteDistribution) wr = ms_write_distribution_new (m, nr);
  write_distribution_rmt (wr, rows, 1, m, nr);
  g_assert_true (isnan (wr->retention[0]));
  g_assert_true (isnan (wr->transfer[0 * m + 1]));
  g_assert_cmpfloat (wr->retention[1], ==, 0.5f);
  g_assert_cmpfloat (wr->token_share[1], ==, 0.5f);

  /* cosines and the similarity matrix: only the NaN state's row/column */
  float states[] = { 1, 0, 0, 1, NAN, 1, 1, 1 };
  float sim[16];
  ms_memory_similarity_matrix (states, 4, 2, sim);
  for (int x = 0; x < 4; x++)
    for (int y = 0; y < 4; y++)
      g_assert_true (isnan (sim[x * 4 + y]) == (x == 2 || y == 2));
  float cos_out[4];
  ms_memory_slot_cosine (states, states + 4, 2, 2, cos_out);
  g_assert_true (isnan (cos_out[0]));
  g_assert_cmpfloat_with_epsilon (cos_out[1], 1.0 / sqrt (2.0), 1e-7);
  float zero[] = { 0, 0 };
  g_assert_true (isnan (ms_memory_state_cosine (zero, states, 2)));

  /* read usage: a NaN for slot 1 */
  float read_attn[] = { 0.5f, NAN, 0.5f, 0.5f };
  float usage[2];
  ms_read_usage (read_attn, 1, 2, 2, usage);
  g_assert_cmpfloat (usage[0], ==, 1.0f);
  g_assert_true (isnan (usage[1]));
}

/* The slow, obvious twin of ms_write_distribution_from_view: slot by
 * slot, column by column, head by head, over a dense (H, K, W) copy, the
 * definition of ms-analysis.h summed in double in that order. */
static void
write_distribution_twin (const MsAttentionLayout *a, const float *w, int H, int K, int n, float *transfer,
                         float *retention, float *token_weights)
{
  int W = 0, tokens = -1, self = -1, slots[MS_ATTENTION_MAX_BLOCKS], n_slots = 0;
  for (int b = 0; b < a->n_col_blocks; b++)
    {
      int width = a->cols[b].extent == MS_BLOCK_SELF ? 1 : a->cols[b].extent == MS_BLOCK_SLOTS ? K : n;
      if (a->cols[b].extent == MS_BLOCK_TOKENS && tokens < 0)
        tokens = W;
      else if (a->cols[b].old_memory && a->cols[b].extent == MS_BLOCK_SLOTS)
        slots[n_slots++] = W;
      else if (a->cols[b].old_memory && a->cols[b].extent == MS_BLOCK_SELF)
        self = W;
      W += width;
    }
  for (int i = 0; i < K; i++)
    {
      double old = 0;
      for (int j = 0; j < K; j++)
        {
          double sum = 0;
          for (int h = 0; h < H; h++)
            {
              const float *row = w + ((size_t) h * K + i) * W;
              double v = 0;
              for (int b = 0; b < n_slots; b++)
                v += row[slots[b] + j];
              if (j == i && self >= 0)
                v += row[self];
              sum += v;
            }
          transfer[i * K + j] = (float) (sum / H);
          old += sum;
        }
      retention[i] = (float) (old / H);
      for (int j = 0; j < n; j++)
        {
          double sum = 0;
          for (int h = 0; h < H && tokens >= 0; h++)
            sum += w[((size_t) h * K + i) * W + tokens + j];
          token_weights[i * n + j] = (float) (sum / H);
        }
    }
}

/* The recorder reduces attention from the engine's buffers, which are
 * views (RMT's write rows are a slice of its (H, T, T) weights): the
 * result must be bit for bit the twin's on a dense copy, for every
 * built-in write layout and a made-up one with a SELF column beside two
 * SLOTS blocks, on shapes that are no multiple of a vector (K up to 70,
 * past one block of sums), and likewise for read usage.  Twice: with
 * weights in [−1, 1], and with half of them ±2^40, which cancel: a sum in
 * another order (heads, rows or blocks) then loses other low bits in
 * double, and rounds to another float. */
static void
test_views_match_twin (void)
{
  static const MsAttentionLayout self_and_slots = {
    .kind = MS_OBS_WRITE, .name = "test_write", .role = MS_ATTENTION_WRITE,
    .n_row_blocks = 1, .rows = { { "slots", MS_BLOCK_SLOTS, FALSE } },
    .n_col_blocks = 4, .cols = { { "old", MS_BLOCK_SLOTS, TRUE }, { "self", MS_BLOCK_SELF, TRUE },
                                 { "tokens", MS_BLOCK_TOKENS, FALSE }, { "old again", MS_BLOCK_SLOTS, TRUE } },
  };
  const MsAttentionLayout *layouts[] = {
    ms_engine_find_attention (ms_engine_lookup ("memformer"), MS_OBS_WRITE),
    ms_engine_find_attention (ms_engine_lookup ("rmt"), MS_OBS_WRITE),
    ms_engine_find_attention (ms_engine_lookup ("membart"), MS_OBS_WRITE),
    &self_and_slots,
  };
  const MsAttentionLayout *read = ms_engine_find_attention (ms_engine_lookup ("rmt"), MS_OBS_READ);
  int shapes[][3] = { { 1, 1, 1 }, { 3, 5, 7 }, { 4, 16, 8 }, { 2, 70, 3 }, { 5, 9, 0 }, { 4, 16, 64 },
                      { 3, 33, 17 } };   /* H, K, n */
  GRand *r = g_rand_new_with_seed (23);
  for (int wide = 0; wide < 2; wide++)
  for (guint l = 0; l < G_N_ELEMENTS (layouts); l++)
    for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
      {
        const MsAttentionLayout *a = layouts[l];
        g_assert_nonnull (a);
        int H = shapes[s][0], K = shapes[s][1], n = shapes[s][2], W = 0;
        for (int b = 0; b < a->n_col_blocks; b++)
          W += a->cols[b].extent == MS_BLOCK_SELF ? 1 : a->cols[b].extent == MS_BLOCK_SLOTS ? K : n;
        /* a view: rows 3 floats longer than W, heads 2 rows more apart than
         * the write rows (K) or the read rows (n) need */
        size_t row_stride = (size_t) W + 3, head_stride = (size_t) (MAX (K, n) + 2) * row_stride;
        g_autofree float *big = g_new (float, H * head_stride);
        g_autofree float *dense = g_new (float, (size_t) H * K * MAX (W, 1));
        for (size_t x = 0; x < H * head_stride; x++)
          {
            int pick = wide ? g_rand_int_range (r, 0, 4) : 0;
            big[x] = pick == 1 ? 0x1p40f : pick == 2 ? -0x1p40f : (float) g_rand_double_range (r, -1, 1);
          }
        for (int h = 0; h < H; h++)
          for (int i = 0; i < K; i++)
            memcpy (dense + ((size_t) h * K + i) * W, big + h * head_stride + i * row_stride, W * sizeof (float));
        g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (K, MAX (n, 1));
        ms_write_distribution_from_view (wd, a, big, head_stride, row_stride, H, K, n);
        g_autofree float *transfer = g_new (float, K * K), *retention = g_new (float, K);
        g_autofree float *weights = g_new (float, K * MAX (n, 1));
        write_distribution_twin (a, dense, H, K, n, transfer, retention, weights);
        g_assert_cmpmem (wd->transfer, K * K * sizeof (float), transfer, K * K * sizeof (float));
        g_assert_cmpmem (wd->retention, K * sizeof (float), retention, K * sizeof (float));
        g_assert_cmpmem (wd->token_weights, K * n * sizeof (float), weights, K * n * sizeof (float));
        /* the dense entry point is the same function */
        g_autoptr (MsWriteDistribution) wd_dense = ms_write_distribution_new (K, MAX (n, 1));
        ms_write_distribution_from_attention (wd_dense, a, dense, H, K, n);
        g_assert_cmpmem (wd_dense->transfer, K * K * sizeof (float), transfer, K * K * sizeof (float));

        /* read usage (H, n, K) from a view, against per-slot sums in
         * (head, row) order */
        g_autofree float *usage = g_new0 (float, K), *twin = g_new0 (float, K);
        ms_read_usage_accumulate_view (read, big, head_stride, row_stride, H, n, K, usage);
        for (int k = 0; k < K; k++)
          {
            double sum = 0;
            for (int h = 0; h < H; h++)
              for (int row = 0; row < n; row++)
                sum += big[h * head_stride + row * row_stride + k];
            twin[k] += (float) (sum * (1.0 / H));
          }
        g_assert_cmpmem (usage, K * sizeof (float), twin, K * sizeof (float));
      }
  g_rand_free (r);
}

/* The writer's one pass is the two functions it stands for, bit for bit,
 * also with a zero slot (NaN cosine) and a NaN value. */
static void
test_cosine_and_change (void)
{
  GRand *r = g_rand_new_with_seed (29);
  int shapes[][2] = { { 1, 1 }, { 3, 7 }, { 16, 64 }, { 64, 64 }, { 5, 129 } };
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int special = 0; special < 3; special++)
      {
        int K = shapes[s][0], d = shapes[s][1];
        g_autofree float *a = g_new (float, K * d), *b = g_new (float, K * d);
        for (int x = 0; x < K * d; x++)
          {
            a[x] = (float) g_rand_double_range (r, -2, 2);
            b[x] = (float) g_rand_double_range (r, -2, 2);
          }
        if (special == 1)
          memset (a + (K - 1) * d, 0, d * sizeof (float));
        if (special == 2)
          b[K * d / 2] = NAN;
        g_autofree float *cos_one = g_new (float, K), *cos_two = g_new (float, K);
        double change = ms_memory_slot_cosine_and_change (a, b, K, d, cos_one);
        ms_memory_slot_cosine (a, b, K, d, cos_two);
        double want = ms_memory_relative_change (a, b, (size_t) K * d);
        g_assert_cmpmem (cos_one, K * sizeof (float), cos_two, K * sizeof (float));
        g_assert_cmpmem (&change, sizeof change, &want, sizeof want);
      }
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analysis/memformer/retain-keeps-source", test_memformer_retain);
  g_test_add_func ("/analysis/memformer/overwrite-moves-to-current", test_memformer_overwrite);
  g_test_add_func ("/analysis/memformer/half-geometric-decay", test_memformer_half);
  g_test_add_func ("/analysis/provenance/rows-sum-to-one", test_provenance_rows_sum_to_one);
  g_test_add_func ("/analysis/rmt/retention-both-blocks", test_rmt_retention);
  g_test_add_func ("/analysis/rmt/transfer", test_rmt_transfer);
  g_test_add_func ("/analysis/slot-types", test_slot_types);
  g_test_add_func ("/analysis/cosine", test_cosine);
  g_test_add_func ("/analysis/read-usage", test_read_usage);
  g_test_add_func ("/analysis/nan-propagates", test_nan_propagates);
  g_test_add_func ("/analysis/views-match-twin", test_views_match_twin);
  g_test_add_func ("/analysis/cosine-and-change", test_cosine_and_change);
  return g_test_run ();
}
