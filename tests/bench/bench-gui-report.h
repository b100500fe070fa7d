/* bench-gui-report.h — what bench-gui prints after its JSON lines, apart
 * from how it measures (bench-gui.c): the Markdown summary (the machine,
 * the load, first paint, peak RSS, and per view and interaction the frames'
 * wall and main-thread CPU times beside issue 23's targets) and the
 * per-view digest.  The measurements hand their numbers in as they are
 * taken; print_summary prints what was collected. */
#pragma once

#include <glib.h>

/* The median of the @n values of @v (sorted in place); NAN when @n is 0. */
double median (double *v, int n);
/* The largest of the @n values of @v; NAN when @n is 0. */
double max_of (const double *v, int n);

/* The summary's first lines, set by the measurements; NAN: not measured. */
extern double summary_first_paint_ms;   /* one view: opening → its first frame with data */
extern double summary_open_both_ms;     /* the window: opening both runs → their data shown */
extern double summary_peak_rss_mb;      /* after the last compared view */

/* A row of the summary table: @view's @interaction, the @n frames' wall and
 * main-thread CPU times (@wall, @cpu, ms; sorted in place) and, when @ready
 * is not NULL, the times from each action to its data shown.  Nothing when
 * @n < 1. */
void summary_row (const char *view, const char *interaction, double *wall, double *cpu, int n, double *ready);

/* The frames one interaction (hover, zoom or pan) drew in the view being
 * compared, for its digest row: both arrays of double, ms. */
typedef struct {
  GArray *wall, *cpu;
} Frames;
extern Frames digest_hover, digest_zoom, digest_pan;
/* Empties @f (allocating it the first time); only a reset Frames collects. */
void frames_reset (Frames *f);
/* Appends @n frames' @wall and @cpu times to @f, when it was reset. */
void frames_add (Frames *f, const double *wall, const double *cpu, int n);
/* The digest's row of compared view @view: whether it drew a figure, the
 * time and process CPU until its data showed, the next segment's median
 * time, what digest_hover, _zoom and _pan hold, and the peak RSS. */
void digest_row (const char *view, gboolean figure, double ready_ms, double ready_cpu_s, double step_ms,
                 double rss_mb);

/* The load average's three numbers, "1 5 15" (owned). */
char *load_average (void);
/* Prints the summary: the CPU, the load average @load_before and now, the
 * renderer, the runs @path_a and @path_b, the totals, the table and the
 * digest. */
void print_summary (const char *load_before, const char *path_a, const char *path_b);
