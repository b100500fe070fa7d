/* ms-plots.c — stacked-area and line plots over a uniform x axis. */
#include "ms-plots.h"
#include "ms-figure-error.h"
#include "ms-label.h"
#include "ms-legend.h"

#include <math.h>

#define LINE_WIDTH 1.25

/* Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green,
 * vermillion, reddish purple, sky blue, yellow, black. */
static const uint8_t palette[8][3] = {
  { 0x00, 0x72, 0xb2 }, { 0xe6, 0x9f, 0x00 }, { 0x00, 0x9e, 0x73 }, { 0xd5, 0x5e, 0x00 },
  { 0xcc, 0x79, 0xa7 }, { 0x56, 0xb4, 0xe9 }, { 0xf0, 0xe4, 0x42 }, { 0x00, 0x00, 0x00 },
};

MsRgb
ms_plot_series_color (int index)
{
  const uint8_t *c = palette[(index < 0 ? 0 : index) % 8];
  return (MsRgb) { c[0] / 255.0, c[1] / 255.0, c[2] / 255.0 };
}

/* What both plots hold: labels, the x axis and the series. */
typedef struct {
  /* Owned */
  char *title;
  char *x_label;
  char *y_label;
  GPtrArray *names;          /* char*, NULL = unnamed; one per series */
  GArray *colors;            /* MsRgb, one per series */
  GArray *values;            /* float, (n_series, n_points) */

  int n_points;
  double x0, x_step;
} Series;

struct _MsStackedPlot {
  Series s;
};

struct _MsLinePlot {
  Series s;
  double want_min, want_max; /* NaN = fit to the data */
};

static gboolean
check_points (int n_points, GError **error)
{
  if (n_points < 1 || n_points > MS_PLOT_MAX_POINTS)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "a plot of %d points cannot be drawn: use 1 to %d points per series", n_points,
                   MS_PLOT_MAX_POINTS);
      return FALSE;
    }
  return TRUE;
}

static void
series_init (Series *s, int n_points)
{
  s->names = g_ptr_array_new_with_free_func (g_free);
  s->colors = g_array_new (FALSE, FALSE, sizeof (MsRgb));
  s->values = g_array_new (FALSE, FALSE, sizeof (float));
  s->n_points = n_points;
  s->x_step = 1.0;
}

static void
series_clear (Series *s)
{
  g_free (s->title);
  g_free (s->x_label);
  g_free (s->y_label);
  g_ptr_array_unref (s->names);
  g_array_unref (s->colors);
  g_array_unref (s->values);
}

static int
n_series (const Series *s)
{
  return (int) s->names->len;
}

static void
series_add (Series *s, const char *name, const float *values)
{
  MsRgb color = ms_plot_series_color (n_series (s));
  g_ptr_array_add (s->names, g_strdup (name));
  g_array_append_val (s->colors, color);
  g_array_append_vals (s->values, values, s->n_points);
}

static const float *
series_values (const Series *s, int index)
{
  return &g_array_index (s->values, float, (size_t) index * s->n_points);
}

static void
replace_string (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static void
series_set_x_axis (Series *s, double x0, double x_step, const char *label)
{
  g_return_if_fail (x_step > 0.0 && isfinite (x0) && isfinite (x_step));
  s->x0 = x0;
  s->x_step = x_step;
  replace_string (&s->x_label, label);
}

static void
series_set_color (Series *s, int index, MsRgb color)
{
  g_return_if_fail (index >= 0 && index < n_series (s));
  g_array_index (s->colors, MsRgb, index) = color;
}

/* The data x of point @i. */
static double
point_x (const Series *s, int i)
{
  return s->x0 + i * s->x_step;
}

/* Lays out title, legend band and axes for data y in [@y_bottom, @y_top].
 * @entries (room for MS_PLOT_MAX_SERIES) receives the legend.  @cells: the
 * x axis spans each point's cell (half a step either side), not the points. */
static void
layout_series (const Series *s, MsLegendSwatch swatch, gboolean cells, cairo_t *cr, double width, double height,
               double y_bottom, double y_top, MsAxesSpec *spec, MsAxesLayout *layout,
               MsLegendEntry *entries, int *n_entries)
{
  *n_entries = 0;
  for (int i = 0; i < n_series (s); i++)
    if (g_ptr_array_index (s->names, i) != NULL)
      entries[(*n_entries)++] = (MsLegendEntry) { g_ptr_array_index (s->names, i),
                                                  g_array_index (s->colors, MsRgb, i), swatch };

  double x_first = point_x (s, 0), x_last = point_x (s, s->n_points - 1);
  if (s->n_points == 1 || cells)
    x_first -= s->x_step / 2, x_last += s->x_step / 2;
  MsRect outer = { MS_FIGURE_PAD, MS_FIGURE_PAD, width - 2 * MS_FIGURE_PAD, height - 2 * MS_FIGURE_PAD };
  *spec = (MsAxesSpec) {
    .title = s->title, .x_label = s->x_label, .y_label = s->y_label,
    .x_left = x_first, .x_right = x_last, .y_bottom = y_bottom, .y_top = y_top,
    .x_min_step = s->x_step,
  };

  /* The legend wraps at the plot's width, which depends on the band's
   * height only through the y ticks: measure, lay out, measure again. */
  spec->band_height = ms_legend_measure (cr, entries, *n_entries, outer.width);
  ms_axes_layout (cr, spec, &outer, layout);
  double band = ms_legend_measure (cr, entries, *n_entries, layout->plot.width);
  if (band != spec->band_height)
    {
      spec->band_height = band;
      ms_axes_layout (cr, spec, &outer, layout);
    }
}

/* Maps point @i of a series to user space; single points use the plot's
 * left (@edge 0) or right (@edge 1) edge so they show as a band. */
static double
map_point_x (const Series *s, const MsAxesSpec *spec, const MsAxesLayout *layout, int i, int edge)
{
  if (s->n_points == 1)
    return edge == 0 ? layout->plot.x : layout->plot.x + layout->plot.width;
  return ms_axes_map_x (spec, layout, point_x (s, i));
}

/* ---- stacked areas ---- */

MsStackedPlot *
ms_stacked_plot_new (const float *fractions, int n_series_, int n_points, const char *const *names,
                     GError **error)
{
  if (!check_points (n_points, error))
    return NULL;
  if (n_series_ < 1 || n_series_ > MS_PLOT_MAX_SERIES)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "a stacked plot of %d series cannot be drawn: use 1 to %d series", n_series_,
                   MS_PLOT_MAX_SERIES);
      return NULL;
    }
  MsStackedPlot *plot = g_new0 (MsStackedPlot, 1);
  series_init (&plot->s, n_points);
  for (int i = 0; i < n_series_; i++)
    series_add (&plot->s, names ? names[i] : NULL, fractions + (size_t) i * n_points);
  return plot;
}

void
ms_stacked_plot_free (MsStackedPlot *plot)
{
  if (plot == NULL)
    return;
  series_clear (&plot->s);
  g_free (plot);
}

void
ms_stacked_plot_set_x_axis (MsStackedPlot *plot, double x0, double x_step, const char *label)
{
  series_set_x_axis (&plot->s, x0, x_step, label);
}

void
ms_stacked_plot_set_y_label (MsStackedPlot *plot, const char *label)
{
  replace_string (&plot->s.y_label, label);
}

void
ms_stacked_plot_set_title (MsStackedPlot *plot, const char *title)
{
  replace_string (&plot->s.title, title);
}

void
ms_stacked_plot_set_color (MsStackedPlot *plot, int series, MsRgb color)
{
  series_set_color (&plot->s, series, color);
}

void
ms_stacked_plot_draw (const MsStackedPlot *plot, cairo_t *cr, double width, double height)
{
  const Series *s = &plot->s;
  MsAxesSpec spec;
  MsAxesLayout layout;
  MsLegendEntry entries[MS_PLOT_MAX_SERIES];
  int n_entries;
  layout_series (s, MS_LEGEND_SWATCH_AREA, TRUE, cr, width, height, 0.0, 1.0, &spec, &layout, entries, &n_entries);

  /* (n_points) running sum from the bottom series up to the one drawn. */
  int n = s->n_points;
  g_autofree double *top = g_new0 (double, n);
  double y0 = ms_axes_map_y (&spec, &layout, 0.0);

  cairo_save (cr);
  cairo_rectangle (cr, layout.plot.x, layout.plot.y, layout.plot.width, layout.plot.height);
  cairo_clip (cr);
  /* Each series is filled from the baseline up to its top, topmost series
   * first, so the next one down covers the shared edge: no hairline seams
   * of background between antialiased neighbours. */
  for (int k = 0; k < n_series (s); k++)
    for (int i = 0; i < n; i++)
      {
        float v = series_values (s, k)[i];
        top[i] += isfinite (v) ? v : 0.0;
      }
  for (int k = n_series (s) - 1; k >= 0; k--)
    {
      MsRgb c = g_array_index (s->colors, MsRgb, k);
      /* a flat step over each point's cell */
      cairo_move_to (cr, ms_axes_map_x (&spec, &layout, point_x (s, 0) - s->x_step / 2), y0);
      for (int i = 0; i < n; i++)
        {
          double y = ms_axes_map_y (&spec, &layout, top[i]);
          cairo_line_to (cr, ms_axes_map_x (&spec, &layout, point_x (s, i) - s->x_step / 2), y);
          cairo_line_to (cr, ms_axes_map_x (&spec, &layout, point_x (s, i) + s->x_step / 2), y);
        }
      cairo_line_to (cr, ms_axes_map_x (&spec, &layout, point_x (s, n - 1) + s->x_step / 2), y0);
      cairo_close_path (cr);
      cairo_set_source_rgb (cr, c.r, c.g, c.b);
      cairo_fill (cr);
      for (int i = 0; i < n; i++)
        {
          float v = series_values (s, k)[i];
          top[i] -= isfinite (v) ? v : 0.0;
        }
    }
  cairo_restore (cr);

  ms_axes_draw (cr, &spec, &layout);
  ms_legend_draw (cr, entries, n_entries, &layout.band);
}

void
ms_stacked_plot_draw_func (cairo_t *cr, double width, double height, gpointer stacked_plot)
{
  ms_stacked_plot_draw (stacked_plot, cr, width, height);
}

void
ms_stacked_plot_get_plot_rect (const MsStackedPlot *plot, cairo_t *cr, double width, double height, MsRect *rect)
{
  MsAxesSpec spec;
  MsAxesLayout layout;
  MsLegendEntry entries[MS_PLOT_MAX_SERIES];
  int n_entries;
  layout_series (&plot->s, MS_LEGEND_SWATCH_AREA, TRUE, cr, width, height, 0.0, 1.0, &spec, &layout, entries,
                 &n_entries);
  *rect = layout.plot;
}

/* ---- lines ---- */

MsLinePlot *
ms_line_plot_new (int n_points, GError **error)
{
  if (!check_points (n_points, error))
    return NULL;
  MsLinePlot *plot = g_new0 (MsLinePlot, 1);
  series_init (&plot->s, n_points);
  plot->want_min = plot->want_max = NAN;
  return plot;
}

void
ms_line_plot_free (MsLinePlot *plot)
{
  if (plot == NULL)
    return;
  series_clear (&plot->s);
  g_free (plot);
}

gboolean
ms_line_plot_add_series (MsLinePlot *plot, const char *name, const float *y, int n_points, GError **error)
{
  if (n_points != plot->s.n_points)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "series '%s' has %d points but the plot has %d: every series needs one value per point",
                   name ? name : "(unnamed)", n_points, plot->s.n_points);
      return FALSE;
    }
  if (n_series (&plot->s) >= MS_PLOT_MAX_SERIES)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT, "a line plot holds at most %d series",
                   MS_PLOT_MAX_SERIES);
      return FALSE;
    }
  series_add (&plot->s, name, y);
  return TRUE;
}

void
ms_line_plot_set_x_axis (MsLinePlot *plot, double x0, double x_step, const char *label)
{
  series_set_x_axis (&plot->s, x0, x_step, label);
}

void
ms_line_plot_set_y_label (MsLinePlot *plot, const char *label)
{
  replace_string (&plot->s.y_label, label);
}

void
ms_line_plot_set_title (MsLinePlot *plot, const char *title)
{
  replace_string (&plot->s.title, title);
}

void
ms_line_plot_set_color (MsLinePlot *plot, int series, MsRgb color)
{
  series_set_color (&plot->s, series, color);
}

void
ms_line_plot_set_y_range (MsLinePlot *plot, double y_min, double y_max)
{
  plot->want_min = y_min;
  plot->want_max = y_max;
}

/* The share of the data's range left free above and below a line plot. */
#define LINE_Y_MARGIN 0.05

/* The y range: what was set, else the data's with a LINE_Y_MARGIN margin. */
static void
line_y_range (const MsLinePlot *plot, double *bottom, double *top)
{
  double lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < plot->s.values->len; i++)
    {
      float v = g_array_index (plot->s.values, float, i);
      if (isfinite (v))
        lo = MIN (lo, v), hi = MAX (hi, v);
    }
  if (!isfinite (lo))
    lo = 0.0, hi = 1.0;
  double margin = (hi - lo) * LINE_Y_MARGIN;
  if (margin == 0.0)
    margin = lo != 0.0 ? fabs (lo) * 0.1 : 0.5;
  *bottom = isfinite (plot->want_min) ? plot->want_min : lo - margin;
  *top = isfinite (plot->want_max) ? plot->want_max : hi + margin;
  if (!(*bottom < *top))
    *top = *bottom + 1.0;
}

static void
layout_line_plot (const MsLinePlot *plot, cairo_t *cr, double width, double height, MsAxesSpec *spec,
                  MsAxesLayout *layout, MsLegendEntry *entries, int *n_entries)
{
  double bottom, top;
  line_y_range (plot, &bottom, &top);
  layout_series (&plot->s, MS_LEGEND_SWATCH_LINE, FALSE, cr, width, height, bottom, top, spec, layout, entries,
                 n_entries);
}

void
ms_line_plot_draw (const MsLinePlot *plot, cairo_t *cr, double width, double height)
{
  const Series *s = &plot->s;
  MsAxesSpec spec;
  MsAxesLayout layout;
  MsLegendEntry entries[MS_PLOT_MAX_SERIES];
  int n_entries;
  layout_line_plot (plot, cr, width, height, &spec, &layout, entries, &n_entries);

  cairo_save (cr);
  cairo_rectangle (cr, layout.plot.x, layout.plot.y, layout.plot.width, layout.plot.height);
  cairo_clip (cr);
  cairo_set_line_width (cr, LINE_WIDTH);
  /* Round caps draw a lone point between two gaps as a dot. */
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (int k = 0; k < n_series (s); k++)
    {
      const float *y = series_values (s, k);
      gboolean pen_down = FALSE;
      for (int i = 0; i < s->n_points; i++)
        {
          if (!isfinite (y[i]))
            {
              pen_down = FALSE;
              continue;
            }
          for (int edge = 0; edge < (s->n_points == 1 ? 2 : 1); edge++)
            {
              double px = map_point_x (s, &spec, &layout, i, edge), py = ms_axes_map_y (&spec, &layout, y[i]);
              if (!pen_down)
                cairo_move_to (cr, px, py);
              cairo_line_to (cr, px, py);
              pen_down = TRUE;
            }
        }
      MsRgb c = g_array_index (s->colors, MsRgb, k);
      cairo_set_source_rgb (cr, c.r, c.g, c.b);
      cairo_stroke (cr);
    }
  cairo_restore (cr);

  ms_axes_draw (cr, &spec, &layout);
  ms_legend_draw (cr, entries, n_entries, &layout.band);
}

void
ms_line_plot_draw_func (cairo_t *cr, double width, double height, gpointer line_plot)
{
  ms_line_plot_draw (line_plot, cr, width, height);
}

void
ms_line_plot_get_plot_rect (const MsLinePlot *plot, cairo_t *cr, double width, double height, MsRect *rect)
{
  MsAxesSpec spec;
  MsAxesLayout layout;
  MsLegendEntry entries[MS_PLOT_MAX_SERIES];
  int n_entries;
  layout_line_plot (plot, cr, width, height, &spec, &layout, entries, &n_entries);
  *rect = layout.plot;
}
