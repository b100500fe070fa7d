/* bench-stats.h — what the recording benchmarks summarise their repeats
 * with, and how they count the bytes a process writes. */
#pragma once

#include <glib.h>

/* The median of the @n (> 0) values of @v; @v is left as it was. */
double bench_median (const double *v, int n);

/* The @q quantile (0..1) of the @n (> 0) values of @v, interpolated between
 * the sorted values; @v is left as it was. */
double bench_quantile (const double *v, int n, double q);

/* Bytes this process has written through write(2) and friends so far
 * (Linux's /proc/self/io "wchar"); −1 where that is not available. */
gint64 bench_bytes_written (void);
