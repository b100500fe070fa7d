/* ms-axes.h — ticks, axis labels and the layout of one plot panel.
 *
 * Ticks are "nice": multiples of 1, 2 or 5 × 10^k.  A panel is a rectangle
 * of data (the plot) framed by a title above, tick labels and an axis label
 * to the left and below, and optionally a band between title and plot for a
 * legend.  ms_axes_layout() measures the labels with the figure font and
 * fits the plot into a given outer rectangle, choosing as many ticks as fit
 * without overlap; ms_axes_draw() draws the frame and everything around it,
 * never the data.  Every figure in ui/ lays out its panels this way.
 *
 * All coordinates are cairo user units (points in exported figures).
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

#define MS_AXES_MAX_TICKS 16
/* Named index ticks (token axes) may be denser: one per cell that fits. */
#define MS_AXES_MAX_NAMED_TICKS 128
/* A tick name longer than this many characters is cut, ending in "…" (the
 * tooltip and the CSV carry the whole text). */
#define MS_AXES_MAX_NAME_CHARS 10

typedef struct {
  double x, y, width, height;
} MsRect;

/* A run of an axis's cells that means one thing (a block of an attention
 * layout, "read block", "tokens", "write block"; a tile of a grid, "head 3"),
 * from data value @from to @to: labelled in a band beside the plot (above it
 * for x, left of the y tick labels for y) with a bracket over its extent. */
typedef struct {
  const char *name;
  double from, to;
} MsAxesBand;

/* Fills @ticks (room for @max_ticks ≥ 2 values) with every multiple of a
 * step s = {1, 2, 5} × 10^k that lies in [@lo, @hi] (either order), where s
 * is the smallest such step with s ≥ @min_step (0 = no minimum) that gives
 * at most @max_ticks ticks.  Returns the number of ticks (0 if the range is
 * not finite or holds no multiple of s) and the step in @step (may be NULL).
 * Example: 0..10000 with 6 ticks → 0, 2000, …, 10000; 0..7 with 8 → 0, 1, …, 7. */
int ms_axis_nice_ticks (double lo, double hi, int max_ticks, double min_step, double *ticks, double *step);

/* Writes @value as a tick label into @buf[@size]: as many decimals as the
 * tick @step needs (step 0.2 → "0.4", step 1000 → "3000"), a true minus sign
 * (U+2212), never "−0". */
void ms_axis_format_tick (double value, double step, char *buf, size_t size);

/* The width of the widest tick label among @ticks[n] in the figure font. */
double ms_axis_widest_tick_label (cairo_t *cr, const double *ticks, int n, double step);

/* Chooses the most nice ticks (≤ MS_AXES_MAX_TICKS) over data [@a, @b]
 * drawn along @length user units whose labels do not crowd each other: side
 * by side on a @horizontal axis, a line apart on a vertical one.  Same
 * results as ms_axis_nice_ticks(). */
int ms_axis_choose_ticks (cairo_t *cr, double a, double b, double min_step, double length, gboolean horizontal,
                          double *ticks, double *step);

typedef struct {
  const char *title;         /* above the plot; NULL = none */
  const char *x_label;       /* below the x tick labels; NULL = none */
  const char *y_label;       /* left of the y tick labels, vertical; NULL = none */
  double x_left, x_right;    /* data x at the plot's left and right edges, x_left ≠ x_right */
  double y_bottom, y_top;    /* data y at the plot's bottom and top edges, either order */
  double x_min_step;         /* smallest x tick step, e.g. 1 on an index axis; 0 = any */
  double y_min_step;
  double band_height;        /* room kept between the title and the plot; 0 = none */
  /* Names of index ticks (e.g. each token's text): a tick at a whole
   * number v with x_first ≤ v < x_first + n_x_names prints x_names[v −
   * x_first], or nothing where that name is NULL; other ticks and axes
   * without names print the number.  Borrowed. */
  const char *const *x_names;
  int x_first, n_x_names;
  const char *const *y_names;
  int y_first, n_y_names;
  /* Where there are names, as many ticks as fit are named: one per cell
   * when the names fit side by side; otherwise the x names are turned 90°
   * (reading upwards) and, where even a line per cell does not fit, every
   * k-th cell is named, k in 1, 2, 5, 10, 20, … (from the first named
   * cell), so ticks never crowd each other. */
  /* Labelled bands (MsAxesBand), borrowed; none when n is 0. */
  const MsAxesBand *x_bands;
  int n_x_bands;
  const MsAxesBand *y_bands;
  int n_y_bands;
} MsAxesSpec;

typedef struct {
  MsRect plot;               /* the data area, edges on device pixels */
  MsRect band;               /* spec.band_height tall, just above the plot, as wide */
  double reserve_left;       /* outer room the panel uses left of the plot */
  double reserve_right;      /* … and right of it (overhanging x tick labels) */
  int n_x_ticks, n_y_ticks;
  double x_ticks[MS_AXES_MAX_NAMED_TICKS];
  double y_ticks[MS_AXES_MAX_NAMED_TICKS];
  double x_step, y_step;
  gboolean x_names_turned;   /* x tick names read upwards (they did not fit side by side) */
  double x_labels_height;    /* room the x tick labels take below the ticks */
  double x_bands_height;     /* room the x bands take above the plot (0: none) */
  double title_x, title_width;   /* the title is centred on title_x, wrapped within title_width */
} MsAxesLayout;

/* Fits the panel of @spec into @outer.  The plot keeps a minimum size of
 * 1 × 1 even when @outer is too small for the labels. */
void ms_axes_layout (cairo_t *cr, const MsAxesSpec *spec, const MsRect *outer, MsAxesLayout *layout);

/* The same, but with the plot exactly @plot_width wide starting @left from
 * @outer's left edge — for panels that must line up with their neighbours. */
void ms_axes_layout_fixed (cairo_t *cr, const MsAxesSpec *spec, const MsRect *outer,
                           double left, double plot_width, MsAxesLayout *layout);

/* Draws the frame, ticks, tick labels, axis labels and title. */
void ms_axes_draw (cairo_t *cr, const MsAxesSpec *spec, const MsAxesLayout *layout);

/* The user-space position of data @x / @y inside the laid-out plot. */
double ms_axes_map_x (const MsAxesSpec *spec, const MsAxesLayout *layout, double x);
double ms_axes_map_y (const MsAxesSpec *spec, const MsAxesLayout *layout, double y);

/* Gaps and strokes shared by every figure, in points. */
#define MS_FIGURE_PAD 4.0          /* around the whole figure */
#define MS_FIGURE_LINE_WIDTH 0.6   /* frames and ticks */
#define MS_FIGURE_TICK_LENGTH 3.0

G_END_DECLS
