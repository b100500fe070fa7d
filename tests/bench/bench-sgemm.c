/* bench-sgemm.c — the machine's cblas_sgemm throughput, the yardstick for
 * bench-core's GFLOP/s.
 *
 *   bench-sgemm [--threads T] [--min-seconds S] [--shape M,N,K[,t]] ...
 *
 * Without --shape: square products of 512, 768, 1024, 1536 and 2048 (row
 * major, C = A·B), and peak_gflops is the best of them.  With --shape, only
 * the given M×N×K products (a trailing ",t" multiplies by Bᵀ, as
 * nn.Linear does), e.g. the shapes the engines run, to see how far small
 * products fall short of the peak.  Each shape is repeated for at least
 * --min-seconds (default 0.5) after one warm-up call; GFLOP/s = 2·M·N·K·reps /
 * seconds.  cpu_gflops divides by the process's CPU time over T instead
 * (what T fully used CPUs give, on a machine busy with other work; the
 * same measure bench-core's process_cpu_seconds gives the core).  Prints
 * one JSON line.  Not a test.
 */
#include <cblas.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads (int num_threads);
char *openblas_get_corename (void);

typedef struct {
  int m, n, k;
  gboolean trans_b;
} Shape;

static double
clock_s (clockid_t id)
{
  struct timespec ts;
  clock_gettime (id, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now_s (void) { return clock_s (CLOCK_MONOTONIC); }
static double process_cpu_s (void) { return clock_s (CLOCK_PROCESS_CPUTIME_ID); }

static float *
random_matrix (size_t count, guint32 seed)
{
  float *x = g_new (float, count);
  GRand *r = g_rand_new_with_seed (seed);
  for (size_t i = 0; i < count; i++)
    x[i] = (float) g_rand_double_range (r, -1.0, 1.0);
  g_rand_free (r);
  return x;
}

static double
measure (const Shape *s, double min_seconds, long *reps_out, double *cpu_seconds)
{
  float *a = random_matrix ((size_t) s->m * s->k, 1);
  float *b = random_matrix ((size_t) s->k * s->n, 2);
  float *c = g_new0 (float, (size_t) s->m * s->n);
  CBLAS_TRANSPOSE tb = s->trans_b ? CblasTrans : CblasNoTrans;
  int ldb = s->trans_b ? s->k : s->n;

  cblas_sgemm (CblasRowMajor, CblasNoTrans, tb, s->m, s->n, s->k, 1.0f, a, s->k, b, ldb, 0.0f, c, s->n);
  long reps = 0;
  double t0 = now_s (), c0 = process_cpu_s (), elapsed;
  do
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, tb, s->m, s->n, s->k, 1.0f, a, s->k, b, ldb, 0.0f, c, s->n);
      reps++;
      elapsed = now_s () - t0;
    }
  while (elapsed < min_seconds || reps < 3);
  *cpu_seconds = process_cpu_s () - c0;
  g_free (a), g_free (b), g_free (c);
  *reps_out = reps;
  return 2.0 * s->m * s->n * (double) s->k * reps / elapsed * 1e-9;
}

static G_GNUC_NORETURN void
usage (const char *msg)
{
  if (msg)
    fprintf (stderr, "bench-sgemm: %s\n", msg);
  fprintf (stderr, "usage: bench-sgemm [--threads T] [--min-seconds S] [--shape M,N,K[,t]] ...\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  int threads = 1;
  double min_seconds = 0.5;
  GArray *shapes = g_array_new (FALSE, FALSE, sizeof (Shape));

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc)
        threads = atoi (argv[++i]);
      else if (strcmp (argv[i], "--min-seconds") == 0 && i + 1 < argc)
        min_seconds = g_ascii_strtod (argv[++i], NULL);
      else if (strcmp (argv[i], "--shape") == 0 && i + 1 < argc)
        {
          Shape s = { 0 };
          char t = 0;
          int got = sscanf (argv[++i], "%d,%d,%d,%c", &s.m, &s.n, &s.k, &t);
          if (got < 3 || s.m < 1 || s.n < 1 || s.k < 1 || (got == 4 && t != 't'))
            usage ("--shape wants M,N,K or M,N,K,t");
          s.trans_b = got == 4;
          g_array_append_val (shapes, s);
        }
      else
        usage (NULL);
    }
  if (threads < 1 || !(min_seconds > 0))
    usage ("--threads and --min-seconds must be positive");
  gboolean sweep = shapes->len == 0;
  if (sweep)
    for (int size = 512; size <= 2048; size += size < 1024 ? 256 : 512)
      {
        Shape s = { size, size, size, FALSE };
        g_array_append_val (shapes, s);
      }

  openblas_set_num_threads (threads);
  GString *out = g_string_new (NULL);
  g_string_append_printf (out, "{\"impl\": \"sgemm\", \"threads\": %d, \"blas_core\": \"%s\", \"shapes\": [",
                          threads, openblas_get_corename ());
  double peak = 0, cpu_peak = 0;
  for (guint i = 0; i < shapes->len; i++)
    {
      const Shape *s = &g_array_index (shapes, Shape, i);
      long reps;
      double cpu_seconds;
      double gflops = measure (s, min_seconds, &reps, &cpu_seconds);
      double cpu_gflops = 2.0 * s->m * s->n * (double) s->k * reps / (cpu_seconds / threads) * 1e-9;
      peak = MAX (peak, gflops);
      cpu_peak = MAX (cpu_peak, cpu_gflops);
      g_string_append_printf (out, "%s{\"m\": %d, \"n\": %d, \"k\": %d, \"trans_b\": %s, \"reps\": %ld, "
                              "\"gflops\": %.2f, \"cpu_gflops\": %.2f}", i ? ", " : "", s->m, s->n, s->k,
                              s->trans_b ? "true" : "false", reps, gflops, cpu_gflops);
    }
  g_string_append_printf (out, "], \"peak_gflops\": %.2f, \"peak_cpu_gflops\": %.2f}", peak, cpu_peak);
  puts (out->str);
  g_string_free (out, TRUE);
  g_array_free (shapes, TRUE);
  return 0;
}
