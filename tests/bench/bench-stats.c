/* bench-stats.c — the repeats' summaries and the written-bytes counter of
 * the recording benchmarks (contracts in bench-stats.h). */
#include "bench-stats.h"

#include <stdlib.h>
#include <string.h>

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
bench_median (const double *v, int n)
{
  g_autofree double *s = g_memdup2 (v, n * sizeof (double));
  qsort (s, n, sizeof (double), compare_doubles);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double
bench_quantile (const double *v, int n, double q)
{
  g_autofree double *s = g_memdup2 (v, n * sizeof (double));
  qsort (s, n, sizeof (double), compare_doubles);
  double at = q * (n - 1);
  int lo = (int) at;
  return lo + 1 < n ? s[lo] + (at - lo) * (s[lo + 1] - s[lo]) : s[n - 1];
}

gint64
bench_bytes_written (void)
{
  g_autofree char *io = NULL;
  if (!g_file_get_contents ("/proc/self/io", &io, NULL, NULL))
    return -1;
  const char *w = strstr (io, "wchar:");
  return w ? g_ascii_strtoll (w + 6, NULL, 10) : -1;
}
