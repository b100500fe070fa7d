/* test-parallel.c — the kernels' worker threads (ms-parallel.c): every item
 * runs exactly once, back-to-back jobs of different sizes never mix (a
 * worker that is late for one job claims nothing of the next), a sleeping
 * worker wakes for the next job, concurrent callers each get all their
 * items done, and
 * the split kernels (ms_affine over panels or rows, ms_attention over
 * heads) give bit-identical results at one and at several threads. */
#include <string.h>

#include <glib.h>

#include "ms-kernels.h"
#include "ms-parallel.h"

static void
count_item (int item, gpointer data)
{
  gint *counts = data;
  g_atomic_int_inc (&counts[item]);
}

static void
test_every_item_once (void)
{
  ms_parallel_set_threads (3);
  for (int n = 0; n < 200; n += 7)
    {
      g_autofree gint *counts = g_new0 (gint, MAX (n, 1));
      ms_parallel_for (n, count_item, counts);
      for (int i = 0; i < n; i++)
        g_assert_cmpint (counts[i], ==, 1);
    }
}

/* Counts like count_item after some work, so that workers are still busy
 * with one job's items, or late to see it, when the next job is published. */
static void
count_item_slowly (int item, gpointer data)
{
  volatile double x = item;
  for (int i = 0; i < 50 * (item % 7); i++)
    x = x * 1.0000001 + 1e-9;
  count_item (item, data);
}

/* Jobs alternate between two item functions, sizes and data: a worker that
 * ran an item of one job with the other job's function, data or size would
 * leave a count other than ROUNDS_EACH, or write past the 3-item array. */
static void
test_alternating_jobs (void)
{
  enum { ROUNDS_EACH = 3000, SMALL = 3, LARGE = 41 };
  ms_parallel_set_threads (3);
  gint small[SMALL] = { 0 }, large[LARGE] = { 0 };
  for (int r = 0; r < ROUNDS_EACH; r++)
    {
      ms_parallel_for (SMALL, count_item, small);
      ms_parallel_for (LARGE, count_item_slowly, large);
    }
  for (int i = 0; i < SMALL; i++)
    g_assert_cmpint (small[i], ==, ROUNDS_EACH);
  for (int i = 0; i < LARGE; i++)
    g_assert_cmpint (large[i], ==, ROUNDS_EACH);
}

#define CALLERS 3
#define ROUNDS 2000
#define ITEMS 17

static gpointer
hammer (gpointer unused)
{
  (void) unused;
  gint counts[ITEMS] = { 0 };
  for (int r = 0; r < ROUNDS; r++)
    ms_parallel_for (ITEMS, count_item, counts);
  for (int i = 0; i < ITEMS; i++)
    if (counts[i] != ROUNDS)
      return GINT_TO_POINTER (1);
  return NULL;
}

/* Sessions on several threads (the workbench records two models at once)
 * share the workers; a caller that finds them busy runs its items itself. */
static void
test_concurrent_callers (void)
{
  ms_parallel_set_threads (2);
  GThread *t[CALLERS];
  for (int i = 0; i < CALLERS; i++)
    t[i] = g_thread_new ("caller", hammer, NULL);
  for (int i = 0; i < CALLERS; i++)
    g_assert_null (g_thread_join (t[i]));
}

static void
fill (float *x, size_t n, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, -1, 1);
  g_rand_free (r);
}

/* Shapes big enough to be split: many panels (split by panels), one panel
 * and many rows (split by rows), an odd width. */
static void
test_affine_threads_agree (void)
{
  static const int shapes[][3] = { { 64, 128, 384 }, { 300, 700, 20 }, { 97, 333, 129 } };
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int n = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
      g_autofree float *x = g_new (float, (size_t) n * in), *w = g_new (float, (size_t) in * out);
      g_autofree float *b = g_new (float, out), *laid_out = g_new (float, ms_weight_floats (in, out));
      g_autofree float *y1 = g_new (float, (size_t) n * out), *y3 = g_new (float, (size_t) n * out);
      fill (x, (size_t) n * in, 1), fill (w, (size_t) in * out, 2), fill (b, out, 3);
      ms_weight_lay_out (laid_out, w, in, out);
      ms_parallel_set_threads (1);
      ms_affine (y1, x, laid_out, b, n, in, out);
      ms_parallel_set_threads (3);
      ms_affine (y3, x, laid_out, b, n, in, out);
      if (ms_weights_packed ())   /* the same kernel per element: bit for bit */
        g_assert_cmpmem (y1, sizeof (float) * n * out, y3, sizeof (float) * n * out);
      else                     /* OpenBLAS may block column slices differently */
        for (size_t i = 0; i < (size_t) n * out; i++)
          g_assert_cmpfloat_with_epsilon (y1[i], y3[i], 1e-4);
    }
}

static void
test_attention_threads_agree (void)
{
  int Tq = 70, Tk = 90, H = 4, dh = 32, d = H * dh;
  g_autofree float *q = g_new (float, Tq * d), *k = g_new (float, Tk * d), *v = g_new (float, Tk * d);
  g_autofree float *o1 = g_new (float, Tq * d), *o3 = g_new (float, Tq * d);
  g_autofree float *p1 = g_new (float, H * Tq * Tk), *p3 = g_new (float, H * Tq * Tk);
  g_autofree guint8 *mask = g_new (guint8, Tq * Tk);
  fill (q, Tq * d, 4), fill (k, Tk * d, 5), fill (v, Tk * d, 6);
  for (int i = 0; i < Tq; i++)
    for (int j = 0; j < Tk; j++)
      mask[i * Tk + j] = j <= i + 20;
  ms_parallel_set_threads (1);
  ms_attention (o1, d, p1, q, d, k, d, v, d, Tq, Tk, H, dh, mask, 0.17f);
  ms_parallel_set_threads (3);
  ms_attention (o3, d, p3, q, d, k, d, v, d, Tq, Tk, H, dh, mask, 0.17f);
  g_assert_cmpmem (p1, sizeof (float) * H * Tq * Tk, p3, sizeof (float) * H * Tq * Tk);
  g_assert_cmpmem (o1, sizeof (float) * Tq * d, o3, sizeof (float) * Tq * d);
}

/* The kernels that split rows (layernorm, NLL) or fuse a residual add or
 * GELU into the product give the same bits at one and at three threads. */
static void
test_row_kernels_threads_agree (void)
{
  int n = 300, d = 768, V = 5000, in = 256;
  g_autofree float *x = g_new (float, (size_t) n * d), *g = g_new (float, d), *b = g_new (float, d);
  g_autofree float *y1 = g_new (float, (size_t) n * d), *y3 = g_new (float, (size_t) n * d);
  g_autofree float *logits = g_new (float, (size_t) n * V), *nll1 = g_new (float, n), *nll3 = g_new (float, n);
  g_autofree int32_t *targets = g_new (int32_t, n);
  g_autofree float *xi = g_new (float, (size_t) n * in), *w = g_new (float, (size_t) in * d);
  g_autofree float *laid_out = g_new (float, ms_weight_floats (in, d));
  g_autofree float *h1 = g_new (float, (size_t) n * d), *h3 = g_new (float, (size_t) n * d);
  fill (x, (size_t) n * d, 7), fill (g, d, 8), fill (b, d, 9), fill (logits, (size_t) n * V, 10);
  fill (xi, (size_t) n * in, 11), fill (w, (size_t) in * d, 12);
  ms_weight_lay_out (laid_out, w, in, d);
  for (int i = 0; i < n; i++)
    targets[i] = (i * 37) % V;
  for (int threads = 1; threads <= 3; threads += 2)
    {
      ms_parallel_set_threads (threads);
      float *y = threads == 1 ? y1 : y3, *nll = threads == 1 ? nll1 : nll3;
      ms_layernorm (y, x, g, b, n, d);
      ms_affine_to (y, xi, laid_out, b, n, in, d, MS_AFFINE_ADD);
      ms_affine_to (threads == 1 ? h1 : h3, xi, laid_out, b, n, in, d, MS_AFFINE_GELU_TANH);
      ms_nll_rows (nll, logits, n, V, targets);
    }
  if (ms_weights_packed ())   /* OpenBLAS may block column slices differently */
    {
      g_assert_cmpmem (y1, sizeof (float) * n * d, y3, sizeof (float) * n * d);
      g_assert_cmpmem (h1, sizeof (float) * n * d, h3, sizeof (float) * n * d);
    }
  g_assert_cmpmem (nll1, sizeof (float) * n, nll3, sizeof (float) * n);
}

/* Each item waits until both items of its job have started, which only a
 * second thread can make happen: the caller runs one item, a worker must
 * run the other.  A worker that missed its wake-up leaves the caller
 * waiting here until the deadline. */
typedef struct {
  gint started;
  gint timed_out;
} Rendezvous;

static void
meet (int item, gpointer data)
{
  Rendezvous *rv = data;
  (void) item;
  g_atomic_int_inc (&rv->started);
  gint64 deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  while (g_atomic_int_get (&rv->started) < 2)
    if (g_get_monotonic_time () > deadline)
      {
        g_atomic_int_set (&rv->timed_out, 1);
        return;
      }
}

/* Jobs published while the worker spins (back to back) and after it has
 * gone to sleep (a pause far longer than its spin before sleeping). */
static void
test_sleeping_worker_wakes (void)
{
  ms_parallel_set_threads (2);
  for (int r = 0; r < 60; r++)
    {
      Rendezvous rv = { 0, 0 };
      if (r % 2)
        g_usleep (5000);
      ms_parallel_for (2, meet, &rv);
      g_assert_cmpint (rv.timed_out, ==, 0);
      g_assert_cmpint (rv.started, ==, 2);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/parallel/every-item-once", test_every_item_once);
  g_test_add_func ("/parallel/alternating-jobs", test_alternating_jobs);
  g_test_add_func ("/parallel/sleeping-worker-wakes", test_sleeping_worker_wakes);
  g_test_add_func ("/parallel/concurrent-callers", test_concurrent_callers);
  g_test_add_func ("/parallel/affine-threads-agree", test_affine_threads_agree);
  g_test_add_func ("/parallel/attention-threads-agree", test_attention_threads_agree);
  g_test_add_func ("/parallel/row-kernels-threads-agree", test_row_kernels_threads_agree);
  return g_test_run ();
}
