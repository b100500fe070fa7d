/* bench-gui-report.c — bench-gui's summary and digest: collects the rows
 * the measurements hand in and prints them in Markdown after the JSON
 * lines (the contract is in bench-gui-report.h). */
#include "bench-gui-report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Issue 23's targets for the frames of an interaction, wall time. */
#define FRAME_MEDIAN_TARGET_MS 16.0
#define FRAME_WORST_TARGET_MS 33.0

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
median (double *v, int n)
{
  if (n == 0)
    return NAN;
  qsort (v, n, sizeof *v, compare_doubles);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double
max_of (const double *v, int n)
{
  double m = n ? v[0] : NAN;
  for (int i = 1; i < n; i++)
    m = MAX (m, v[i]);
  return m;
}

/* The Markdown table printed after the JSON lines: per view and
 * interaction the frames' wall and main-thread CPU times (median, worst)
 * beside issue 23's frame targets, and the time until the data shows. */
static GString *summary;
double summary_first_paint_ms = NAN, summary_open_both_ms = NAN, summary_peak_rss_mb = NAN;

/* The per-view digest printed after the summary: one row per compared view
 * with the time until its data showed and, for hover, zoom and pan, the
 * median and worst of every frame the interaction drew (the preview and the
 * exact figure together), wall and main-thread CPU. */
static GString *digest;
Frames digest_hover, digest_zoom, digest_pan;

void
frames_reset (Frames *f)
{
  if (!f->wall)
    {
      f->wall = g_array_new (FALSE, FALSE, sizeof (double));
      f->cpu = g_array_new (FALSE, FALSE, sizeof (double));
    }
  g_array_set_size (f->wall, 0);
  g_array_set_size (f->cpu, 0);
}

void
frames_add (Frames *f, const double *wall, const double *cpu, int n)
{
  if (f->wall)
    {
      g_array_append_vals (f->wall, wall, n);
      g_array_append_vals (f->cpu, cpu, n);
    }
}

/* "median / worst (CPU median / worst)" of @f, or "–". */
static void
digest_cell (const Frames *f)
{
  int n = f->wall ? (int) f->wall->len : 0;
  if (n == 0)
    {
      g_string_append (digest, " – |");
      return;
    }
  double *w = (double *) f->wall->data, *c = (double *) f->cpu->data;
  double wm = median (w, n), ww = max_of (w, n), cm = median (c, n), cw = max_of (c, n);
  g_string_append_printf (digest, " %.1f / %.1f (%.1f / %.1f)%s |", wm, ww, cm, cw,
                          wm <= FRAME_MEDIAN_TARGET_MS && ww <= FRAME_WORST_TARGET_MS ? "" : " ✗");
}

void
digest_row (const char *view, gboolean figure, double ready_ms, double ready_cpu_s, double step_ms, double rss_mb)
{
  if (!digest)
    digest = g_string_new ("| view | figure | data shown, ms (CPU s) | step: data shown, median ms | hover, ms: wall "
                           "median / worst (CPU) | zoom, ms | pan, ms | peak RSS, MB |\n"
                           "|---|:---:|---:|---:|---:|---:|---:|---:|\n");
  g_string_append_printf (digest, "| %s | %s | %.0f (%.2f) | %.0f |", view, figure ? "yes" : "no", ready_ms,
                          ready_cpu_s, step_ms);
  digest_cell (&digest_hover);
  digest_cell (&digest_zoom);
  digest_cell (&digest_pan);
  g_string_append_printf (digest, " %.0f |\n", rss_mb);
}

void
summary_row (const char *view, const char *interaction, double *wall, double *cpu, int n, double *ready)
{
  if (n < 1)
    return;
  if (!summary)
    summary = g_string_new ("| view | interaction | frames | frame wall median / worst (ms) | frame CPU median / worst "
                            "(ms) | ready median / worst (ms) | ≤ 16 / 33 ms (wall) |\n|---|---|---:|---:|---:|---:|:---:|\n");
  double wm = median (wall, n), ww = max_of (wall, n), cm = median (cpu, n), cw = max_of (cpu, n);
  g_string_append_printf (summary, "| %s | %s | %d | %.1f / %.1f | %.1f / %.1f | ", view, interaction, n, wm, ww, cm, cw);
  if (ready)
    g_string_append_printf (summary, "%.0f / %.0f", median (ready, n), max_of (ready, n));
  g_string_append_printf (summary, " | %s |\n",
                          wm <= FRAME_MEDIAN_TARGET_MS && ww <= FRAME_WORST_TARGET_MS ? "met" : "**missed**");
}

static char *
cpu_model (void)
{
  g_autofree char *info = NULL;
  if (!g_file_get_contents ("/proc/cpuinfo", &info, NULL, NULL))
    return g_strdup ("unknown CPU");
  const char *line = strstr (info, "model name");
  const char *colon = line ? strchr (line, ':') : NULL;
  if (!colon)
    return g_strdup ("unknown CPU");
  const char *end = strchr (colon, '\n');
  return g_strstrip (g_strndup (colon + 1, end ? (gsize) (end - colon - 1) : strlen (colon + 1)));
}

char *
load_average (void)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return g_strdup ("?");
  g_auto (GStrv) parts = g_strsplit (text, " ", 4);
  return g_strjoin (" ", parts[0], parts[1], parts[2], NULL);
}

/* The summary: what ran where, first paint, peak RSS, and the table. */
void
print_summary (const char *load_before, const char *path_a, const char *path_b)
{
  g_autofree char *cpu = cpu_model ();
  g_autofree char *load_after = load_average ();
  printf ("\n## bench-gui summary\n\n%s, %ld CPUs online; load average %s before, %s after; renderer %s\n"
          "runs: %s and %s\n\n", cpu, sysconf (_SC_NPROCESSORS_ONLN), load_before, load_after,
          g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "default", path_a, path_b);
  printf ("- open → first paint (one view): %.0f ms (target ≤ 1,000 ms: %s)\n", summary_first_paint_ms,
          isnan (summary_first_paint_ms) ? "not measured" : summary_first_paint_ms <= 1000 ? "met" : "**missed**");
  printf ("- open both runs in the window → data shown: %.0f ms\n", summary_open_both_ms);
  printf ("- peak RSS with both runs open, every view shown: %.1f MB (target ≤ 500 MB: %s)\n\n",
          summary_peak_rss_mb,
          isnan (summary_peak_rss_mb) ? "not measured" : summary_peak_rss_mb <= 500 ? "met" : "**missed**");
  if (summary)
    printf ("%s", summary->str);
  if (digest)
    printf ("\nPer view (✗: a frame median over 16 ms or a worst frame over 33 ms, wall):\n\n%s", digest->str);
  fflush (stdout);
}
