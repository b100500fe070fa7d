/* bench-gemm.c — ms_affine (y = x · W + b, W laid out at load) against
 * cblas_sgemm on the same product, at the shapes the two engines run.
 *
 *   bench-gemm [--rounds N] [--cold] [--only PREFIX] [--cpu-time]
 *
 * For each shape (rows n, in, out) of the small, paper and GPT-2-small
 * benchmark configs (--only: the shapes whose name starts with PREFIX)
 * both sides compute the same y, bias included (the baseline broadcasts
 * the bias into y, then cblas_sgemm accumulates x · W into it, which is
 * what ms_affine did before packing).  The two are timed alternately, N
 * rounds (default 7) of about 0.1 s each, and the fastest round of each
 * counts: on a shared machine others can only slow a round down.  With
 * --cold, each side cycles through copies of its weight matrix that add up
 * to 512 MiB, twice the L3 cache, so every product reads its weights from
 * memory as it does in a model run (a paper-size model's weights are
 * 145–197 MiB, all read once per segment); without it the one matrix
 * stays in the caches.  --cpu-time times with the thread's CPU time
 * instead of the wall clock (one thread: what it gets when other processes
 * share the CPUs).  Prints
 * one line per shape (GFLOP/s of each, ratio) and the ratio of the summed
 * times.  With MEMSCOPE_AVX512=off, or on a CPU without AVX-512,
 * ms_affine is itself cblas_sgemm and the ratio is ~1.  One OpenBLAS
 * thread; run it with the OPENBLAS_CORETYPE the apps use (bench-core
 * --better-coretype).  Not a test.
 */
#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ms-kernels.h"
#include "ms-parallel.h"

/* Wall time, or with --cpu-time the thread's CPU time (on a machine shared
 * with other work, the time this thread actually ran). */
static clockid_t clock_id = CLOCK_MONOTONIC;

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (clock_id, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
blas_affine (float *y, const float *x, const float *w, const float *b, int n, int in, int out)
{
  for (int i = 0; i < n; i++)
    memcpy (y + (size_t) i * out, b, sizeof (float) * out);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, in, 1.0f, x, in, w, out, 1.0f, y, out);
}

int
main (int argc, char **argv)
{
  int rounds = 7;
  gboolean cold = FALSE;
  const char *only = "";
  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--rounds") && i + 1 < argc)
      rounds = atoi (argv[++i]);
    else if (g_str_equal (argv[i], "--cold"))
      cold = TRUE;
    else if (g_str_equal (argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else if (g_str_equal (argv[i], "--cpu-time"))
      clock_id = CLOCK_THREAD_CPUTIME_ID;
    else
      {
        fprintf (stderr, "usage: bench-gemm [--rounds N] [--cold] [--only PREFIX] [--cpu-time]\n");
        return 2;
      }
  ms_parallel_set_threads (1);   /* one thread for both sides; OpenBLAS too */
  /* n, in, out: RMT T = 2m + L rows, Memformer L tokens and K slots */
  static const struct { const char *what; int n, in, out; } shapes[] = {
    { "small rmt c_attn", 96, 128, 384 },  { "small rmt c_proj", 96, 128, 128 },
    { "small rmt c_fc", 96, 128, 512 },    { "small rmt mlp.c_proj", 96, 512, 128 },
    { "small memformer q/k/v/o", 64, 128, 128 }, { "small memformer writer q", 16, 128, 128 },
    { "small memformer fc1", 64, 128, 512 }, { "small memformer fc2", 64, 512, 128 },
    { "paper rmt c_attn", 192, 512, 1536 }, { "paper rmt c_proj", 192, 512, 512 },
    { "paper rmt c_fc", 192, 512, 2048 },  { "paper rmt mlp.c_proj", 192, 2048, 512 },
    { "paper memformer q/k/v/o", 128, 512, 512 }, { "paper memformer writer q", 32, 512, 512 },
    { "paper memformer fc1", 128, 512, 2048 }, { "paper memformer fc2", 128, 2048, 512 },
    { "gpt2 rmt c_attn", 544, 768, 2304 }, { "gpt2 rmt c_proj", 544, 768, 768 },
    { "gpt2 rmt c_fc", 544, 768, 3072 },   { "gpt2 rmt mlp.c_proj", 544, 3072, 768 },
    { "gpt2 rmt lm head", 512, 768, 50257 },
  };
  printf ("ms_affine: %s; weights %s\n", ms_weights_packed () ? "packed weights, AVX-512 kernel" : "cblas_sgemm",
          cold ? "cycled through 512 MiB of copies (--cold)" : "one matrix, in the caches");
  printf ("%-26s %5s %5s %5s %12s %12s %7s %9s\n", "shape", "n", "in", "out", "sgemm GF/s", "affine GF/s",
          "ratio", "max diff");
  double sum_blas = 0, sum_mine = 0;
  GRand *rand = g_rand_new_with_seed (7);
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      if (!g_str_has_prefix (shapes[s].what, only))
        continue;
      int n = shapes[s].n, in = shapes[s].in, out = shapes[s].out;
      float *x = g_new (float, (size_t) n * in), *w = g_new (float, (size_t) in * out), *b = g_new (float, out);
      float *y_blas = g_new (float, (size_t) n * out), *y_mine = g_new (float, (size_t) n * out);
      for (size_t i = 0; i < (size_t) n * in; i++)
        x[i] = (float) g_rand_double_range (rand, -1, 1);
      for (size_t i = 0; i < (size_t) in * out; i++)
        w[i] = (float) g_rand_double_range (rand, -0.1, 0.1);
      for (int i = 0; i < out; i++)
        b[i] = (float) g_rand_double_range (rand, -1, 1);
      void *laid_out = NULL;
      if (posix_memalign (&laid_out, 64, sizeof (float) * ms_weight_floats (in, out)) != 0)
        return 1;
      ms_weight_lay_out (laid_out, w, in, out);
      /* copies[i] of w and of its laid-out form; copy 0 is the original */
      size_t w_bytes = sizeof (float) * (size_t) in * out, laid_bytes = sizeof (float) * ms_weight_floats (in, out);
      int n_copies = cold ? (int) MAX (2, (512u << 20) / w_bytes) : 1;
      float **w_copies = g_new (float *, n_copies), **laid_copies = g_new (float *, n_copies);
      w_copies[0] = w, laid_copies[0] = laid_out;
      for (int c = 1; c < n_copies; c++)
        {
          void *p = NULL;
          if (posix_memalign (&p, 64, laid_bytes) != 0)
            return 1;
          laid_copies[c] = memcpy (p, laid_out, laid_bytes);
          w_copies[c] = g_memdup2 (w, w_bytes);
        }

      blas_affine (y_blas, x, w, b, n, in, out);
      ms_affine (y_mine, x, laid_out, b, n, in, out);
      double diff = 0;
      for (size_t i = 0; i < (size_t) n * out; i++)
        diff = fmax (diff, fabs (y_blas[i] - y_mine[i]));

      double flops = 2.0 * n * in * out;
      long reps = (long) (1e10 / flops) + 1;   /* ≈ 0.1 s per side at 100 GFLOP/s */
      double best_blas = INFINITY, best_mine = INFINITY;
      for (int r = 0; r < rounds; r++)
        {
          double t0 = now_s ();
          for (long i = 0; i < reps; i++)
            blas_affine (y_blas, x, w_copies[i % n_copies], b, n, in, out);
          double t1 = now_s ();
          for (long i = 0; i < reps; i++)
            ms_affine (y_mine, x, laid_copies[i % n_copies], b, n, in, out);
          double t2 = now_s ();
          best_blas = fmin (best_blas, (t1 - t0) / reps);
          best_mine = fmin (best_mine, (t2 - t1) / reps);
        }
      sum_blas += best_blas, sum_mine += best_mine;
      printf ("%-26s %5d %5d %5d %12.1f %12.1f %7.2f %9.1e\n", shapes[s].what, n, in, out,
              flops / best_blas * 1e-9, flops / best_mine * 1e-9, best_blas / best_mine, diff);
      for (int c = 1; c < n_copies; c++)
        g_free (w_copies[c]), free (laid_copies[c]);
      g_free (w_copies), g_free (laid_copies);
      g_free (x), g_free (w), g_free (b), g_free (y_blas), g_free (y_mine), free (laid_out);
    }
  printf ("all shapes, summed times: ms_affine %.2f× cblas_sgemm\n", sum_blas / sum_mine);
  g_rand_free (rand);
  return 0;
}
