/* test-render-basics.c — the figure library's building blocks: colormaps
 * against their published values, nice ticks against a brute-force twin,
 * and the figure font. */
#include "ms-figure.h"
#include "ms-heatmap-private.h"
#include "render-test-util.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* ---- colormaps ---- */

static void
test_colormap_published (void)
{
  /* Entries 0, 64, 128 and 255 of the published 256-entry tables. */
  const double tol = 1e-6;
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_VIRIDIS, 0.0), 0.267004, 0.004874, 0.329415, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_VIRIDIS, 64 / 255.0), 0.229739, 0.322361, 0.545706, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_VIRIDIS, 128 / 255.0), 0.127568, 0.566949, 0.550556, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_VIRIDIS, 1.0), 0.993248, 0.906157, 0.143936, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_MAGMA, 0.0), 0.001462, 0.000466, 0.013866, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_MAGMA, 64 / 255.0), 0.316654, 0.071690, 0.485380, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_MAGMA, 128 / 255.0), 0.716387, 0.214982, 0.475290, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_MAGMA, 1.0), 0.987053, 0.991438, 0.749504, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_CIVIDIS, 0.0), 0.000000, 0.135112, 0.304751, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_CIVIDIS, 64 / 255.0), 0.263738, 0.307831, 0.422789, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_CIVIDIS, 128 / 255.0), 0.488697, 0.485318, 0.471008, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_CIVIDIS, 1.0), 0.995737, 0.909344, 0.217772, tol);

  /* Between entries: linear, and clamped outside [0, 1]. */
  MsRgb a = ms_colormap_eval (MS_COLORMAP_VIRIDIS, 64 / 255.0);
  MsRgb b = ms_colormap_eval (MS_COLORMAP_VIRIDIS, 65 / 255.0);
  MsRgb mid = ms_colormap_eval (MS_COLORMAP_VIRIDIS, 64.5 / 255.0);
  assert_rgb_near (mid, (a.r + b.r) / 2, (a.g + b.g) / 2, (a.b + b.b) / 2, 1e-6);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_MAGMA, -3.0), 0.001462, 0.000466, 0.013866, tol);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_MAGMA, 7.0), 0.987053, 0.991438, 0.749504, tol);

  /* Sequential maps get lighter from 0 to 1 (their defining property). */
  for (MsColormap cmap = MS_COLORMAP_VIRIDIS; cmap <= MS_COLORMAP_CIVIDIS; cmap++)
    {
      double prev = -1.0;
      for (int i = 0; i <= 32; i++)
        {
          MsRgb c = ms_colormap_eval (cmap, i / 32.0);
          double luma = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
          g_assert_cmpfloat (luma, >, prev);
          prev = luma;
        }
    }
}

static void
test_colormap_map (void)
{
  MsRgb nan = ms_colormap_map (MS_COLORMAP_VIRIDIS, NAN, 0, 1);
  assert_rgb_near (nan, 0.8, 0.8, 0.8, 1e-12);
  assert_rgb_near (ms_colormap_map (MS_COLORMAP_VIRIDIS, 10.0, 10.0, 20.0), 0.267004, 0.004874, 0.329415, 1e-6);
  assert_rgb_near (ms_colormap_map (MS_COLORMAP_VIRIDIS, 20.0, 10.0, 20.0), 0.993248, 0.906157, 0.143936, 1e-6);
  assert_rgb_near (ms_colormap_map (MS_COLORMAP_VIRIDIS, 99.0, 10.0, 20.0), 0.993248, 0.906157, 0.143936, 1e-6);
  g_assert_cmphex (ms_rgb_to_pixel ((MsRgb) { 1.0, 0.5, 0.0 }), ==, 0xffff8000);

  /* The LUT agrees with the function. */
  uint32_t lut[5];
  ms_colormap_fill_lut (MS_COLORMAP_MAGMA, lut, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmphex (lut[i], ==, ms_rgb_to_pixel (ms_colormap_eval (MS_COLORMAP_MAGMA, i / 4.0)));
}

static void
test_colormap_diverging (void)
{
  double vmin, vmax;
  const float values[] = { -0.2f, NAN, 0.5f, 0.1f };
  ms_colormap_fit_range (MS_COLORMAP_DIVERGING, values, G_N_ELEMENTS (values), NAN, NAN, &vmin, &vmax);
  g_assert_cmpfloat (vmin, ==, -0.5);
  g_assert_cmpfloat (vmax, ==, 0.5);

  /* 0 is white, whatever the (symmetric) range. */
  assert_rgb_near (ms_colormap_map (MS_COLORMAP_DIVERGING, 0.0, vmin, vmax), 1.0, 1.0, 1.0, 1e-12);
  assert_rgb_near (ms_colormap_map (MS_COLORMAP_DIVERGING, 0.0, -3.0, 3.0), 1.0, 1.0, 1.0, 1e-12);
  assert_rgb_near (ms_colormap_eval (MS_COLORMAP_DIVERGING, 0.5), 1.0, 1.0, 1.0, 1e-12);

  /* Negative is blue, positive red, stronger further out. */
  MsRgb neg = ms_colormap_map (MS_COLORMAP_DIVERGING, -0.4, vmin, vmax);
  MsRgb pos = ms_colormap_map (MS_COLORMAP_DIVERGING, 0.4, vmin, vmax);
  g_assert_cmpfloat (neg.b, >, neg.r);
  g_assert_cmpfloat (pos.r, >, pos.b);
  MsRgb weak = ms_colormap_map (MS_COLORMAP_DIVERGING, 0.1, vmin, vmax);
  g_assert_cmpfloat (weak.g, >, pos.g);

  /* A range asked for is made symmetric; sequential ranges are kept. */
  ms_colormap_fit_range (MS_COLORMAP_DIVERGING, values, 4, -1.0, 0.25, &vmin, &vmax);
  g_assert_cmpfloat (vmin, ==, -1.0);
  g_assert_cmpfloat (vmax, ==, 1.0);
  ms_colormap_fit_range (MS_COLORMAP_VIRIDIS, values, 4, NAN, NAN, &vmin, &vmax);
  g_assert_cmpfloat (vmin, ==, -0.2f);
  g_assert_cmpfloat (vmax, ==, 0.5f);
  ms_colormap_fit_range (MS_COLORMAP_VIRIDIS, values, 4, 0.0, NAN, &vmin, &vmax);
  g_assert_cmpfloat (vmin, ==, 0.0);
  /* Constant or absent data still gives vmin < vmax. */
  const float constant[] = { 2.0f, 2.0f }, none[] = { NAN };
  ms_colormap_fit_range (MS_COLORMAP_VIRIDIS, constant, 2, NAN, NAN, &vmin, &vmax);
  g_assert_cmpfloat (vmin, <, 2.0);
  g_assert_cmpfloat (vmax, >, 2.0);
  ms_colormap_fit_range (MS_COLORMAP_DIVERGING, none, 1, NAN, NAN, &vmin, &vmax);
  g_assert_cmpfloat (vmin, <, vmax);
}

static void
test_colormap_names (void)
{
  static const char *names[] = { "viridis", "magma", "cividis", "diverging" };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      MsColormap cmap;
      g_autoptr (GError) error = NULL;
      g_assert_true (ms_colormap_from_name (names[i], &cmap, &error));
      g_assert_no_error (error);
      g_assert_cmpint (cmap, ==, (MsColormap) i);
      g_assert_cmpstr (ms_colormap_to_name (cmap), ==, names[i]);
    }
  static const char *bad[] = { "jet", "Viridis", "", "viridis " };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      MsColormap cmap = MS_COLORMAP_MAGMA;
      g_autoptr (GError) error = NULL;
      g_assert_false (ms_colormap_from_name (bad[i], &cmap, &error));
      g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_COLORMAP);
      g_assert_nonnull (strstr (error->message, "viridis, magma, cividis, diverging"));
      g_assert_cmpint (cmap, ==, MS_COLORMAP_MAGMA);
    }
  g_assert_true (ms_colormap_is_diverging (MS_COLORMAP_DIVERGING));
  g_assert_false (ms_colormap_is_diverging (MS_COLORMAP_CIVIDIS));
}

/* ---- ticks ---- */

static void
assert_ticks (double lo, double hi, int max_ticks, double min_step, const double *want, int n_want)
{
  double ticks[MS_AXES_MAX_TICKS], step;
  int n = ms_axis_nice_ticks (lo, hi, max_ticks, min_step, ticks, &step);
  g_assert_cmpint (n, ==, n_want);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (ticks[i], want[i], 1e-12 * MAX (1.0, fabs (want[i])));
}

static void
test_ticks_examples (void)
{
  assert_ticks (0, 10000, 6, 0, (double[]) { 0, 2000, 4000, 6000, 8000, 10000 }, 6);
  assert_ticks (0, 7, 8, 0, (double[]) { 0, 1, 2, 3, 4, 5, 6, 7 }, 8);
  assert_ticks (0, 7, 5, 0, (double[]) { 0, 2, 4, 6 }, 4);
  assert_ticks (-1, 1, 5, 0, (double[]) { -1, -0.5, 0, 0.5, 1 }, 5);
  assert_ticks (0, 1, 6, 0, (double[]) { 0, 0.2, 0.4, 0.6, 0.8, 1.0 }, 6);
  assert_ticks (0.3, 0.0, 4, 0, (double[]) { 0, 0.1, 0.2, 0.3 }, 4);
  /* An index axis never gets ticks between cells. */
  assert_ticks (-0.5, 2.5, 12, 1, (double[]) { 0, 1, 2 }, 3);
  assert_ticks (-0.5, 9999.5, 6, 1, (double[]) { 0, 2000, 4000, 6000, 8000 }, 5);
  assert_ticks (4, 4, 5, 0, (double[]) { 4 }, 1);
  double ticks[MS_AXES_MAX_TICKS];
  g_assert_cmpint (ms_axis_nice_ticks (NAN, 1, 5, 0, ticks, NULL), ==, 0);
  g_assert_cmpint (ms_axis_nice_ticks (0, INFINITY, 5, 0, ticks, NULL), ==, 0);
  g_assert_cmpint (ms_axis_nice_ticks (-1e308, 1e308, 5, 0, ticks, NULL), ==, 0);
}

/* The slow, obvious twin: walk every step 1, 2, 5 × 10^k upwards from far
 * below and take the first that fits. */
static double
brute_force_step (double lo, double hi, int max_ticks, double min_step)
{
  for (int e = -12; e <= 12; e++)
    for (int m = 0; m < 3; m++)
      {
        double s = (double[]) { 1, 2, 5 }[m] * pow (10.0, e);
        if (s < min_step * (1 - 1e-12))
          continue;
        double n = floor (hi / s + 1e-9) - ceil (lo / s - 1e-9) + 1;
        if (n <= max_ticks)
          return s;
      }
  return NAN;
}

static void
test_ticks_twin (void)
{
  GRand *rand = g_rand_new_with_seed (20240611);
  for (int trial = 0; trial < 2000; trial++)
    {
      double scale = pow (10.0, g_rand_double_range (rand, -4, 6));
      double lo = g_rand_double_range (rand, -1, 1) * scale, hi = lo + g_rand_double_range (rand, 0.01, 3) * scale;
      int max_ticks = g_rand_int_range (rand, 2, MS_AXES_MAX_TICKS + 1);
      double min_step = g_rand_boolean (rand) ? 0.0 : scale * 0.05;
      double ticks[MS_AXES_MAX_TICKS], step;
      int n = ms_axis_nice_ticks (lo, hi, max_ticks, min_step, ticks, &step);
      double want = brute_force_step (lo, hi, max_ticks, min_step);
      g_assert_cmpfloat_with_epsilon (step, want, want * 1e-9);
      g_assert_cmpint (n, <=, max_ticks);
      for (int i = 0; i < n; i++)
        {
          g_assert_cmpfloat (ticks[i], >=, lo - step * 1e-6);
          g_assert_cmpfloat (ticks[i], <=, hi + step * 1e-6);
          double k = ticks[i] / step;
          g_assert_cmpfloat_with_epsilon (k, round (k), 1e-6);
          if (i > 0)
            g_assert_cmpfloat_with_epsilon (ticks[i] - ticks[i - 1], step, step * 1e-6);
        }
    }
  g_rand_free (rand);
}

static void
test_ticks_format (void)
{
  struct {
    double value, step;
    const char *want;
  } cases[] = {
    { 0.4, 0.2, "0.4" }, { 3000, 1000, "3000" }, { -0.5, 0.5, "\u22120.5" }, { -1e-17, 0.1, "0.0" },
    { 0.05, 0.05, "0.05" }, { 1.0, 0.2, "1.0" }, { -2, 1, "\u22122" }, { 0.30000000000000004, 0.1, "0.3" },
    { 2e7, 5e6, "2e+07" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char buf[64];
      ms_axis_format_tick (cases[i].value, cases[i].step, buf, sizeof buf);
      g_assert_cmpstr (buf, ==, cases[i].want);
    }
}

/* Named index ticks (a token axis): one tick per cell when the names fit
 * side by side; turned to read upwards when they do not; every k-th cell
 * (k = 2, 5, 10, …) when even a line per cell does not fit.  Never numbers
 * on a named axis, and labels never crowd each other. */
static void
test_ticks_named (void)
{
  static const char *const tokens[] = { "t", "h", "e", "␣", "c", "a", "t", NULL };
  cairo_t *cr = layout_context (1, 1, 72);
  MsAxesSpec spec = { .x_left = -0.5, .x_right = 6.5, .y_bottom = 0, .y_top = 1, .x_min_step = 1,
                      .x_names = tokens, .x_first = 0, .n_x_names = 7 };
  MsAxesLayout layout;
  ms_axes_layout (cr, &spec, &(MsRect) { 0, 0, 300, 200 }, &layout);
  g_assert_cmpint (layout.n_x_ticks, ==, 7);
  g_assert_false (layout.x_names_turned);
  for (int i = 0; i < 7; i++)
    g_assert_cmpfloat (layout.x_ticks[i], ==, i);

  /* 64 word-long tokens: turned, then thinned, as the plot narrows */
  const char *words[64];
  g_autoptr (GPtrArray) storage = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < 64; i++)
    g_ptr_array_add (storage, (gpointer) (words[i] = g_strdup_printf ("␣word%d", i)));
  MsAxesSpec wide = { .x_left = -0.5, .x_right = 63.5, .y_bottom = 63.5, .y_top = -0.5, .x_min_step = 1,
                      .x_names = words, .x_first = 0, .n_x_names = 64, .y_names = words, .y_first = 0,
                      .n_y_names = 64 };
  double line = ms_label_line_height (cr, MS_LABEL_TICK), w;
  ms_label_measure (cr, MS_LABEL_TICK, "␣word63", &w, NULL);
  double widths[] = { 64 * (w + 4) + 80, 64 * line * 1.2 + 80, 400, 150 };
  int last_n = 65;
  for (size_t c = 0; c < G_N_ELEMENTS (widths); c++)
    {
      ms_axes_layout (cr, &wide, &(MsRect) { 0, 0, widths[c], 300 }, &layout);
      double spacing = (layout.x_ticks[1] - layout.x_ticks[0]) * layout.plot.width / 64;
      if (c == 0)
        g_assert_false (layout.x_names_turned);
      else
        g_assert_true (layout.x_names_turned);
      if (c < 2)
        g_assert_cmpint (layout.n_x_ticks, ==, 64);
      else
        g_assert_cmpint (layout.n_x_ticks, <, 64);
      g_assert_cmpint (layout.n_x_ticks, <=, last_n);
      last_n = layout.n_x_ticks;
      /* ticks on whole cells, evenly thinned from the first, never crowded */
      g_assert_cmpfloat (layout.x_ticks[0], ==, 0);
      int k = (int) (layout.x_ticks[1] - layout.x_ticks[0]);
      g_assert_true (k == 1 || k == 2 || k == 5 || k == 10 || k == 20 || k == 50);
      g_assert_cmpfloat (spacing, >=, layout.x_names_turned ? line : w);
      /* turned names are room below the plot: as tall as the widest name */
      if (layout.x_names_turned)
        g_assert_cmpfloat (layout.x_labels_height, >=, w - 0.5);
      /* the y axis thins by lines */
      double y_spacing = (layout.y_ticks[1] - layout.y_ticks[0]) * layout.plot.height / 64;
      g_assert_cmpfloat (y_spacing, >=, line);
    }

  /* a long token is cut to MS_AXES_MAX_NAME_CHARS characters */
  const char *longs[20];
  for (int i = 0; i < 20; i++)
    longs[i] = "␣internationalisation";
  MsAxesSpec cut_spec = { .x_left = -0.5, .x_right = 19.5, .y_bottom = 0, .y_top = 1, .x_names = longs,
                          .n_x_names = 20 };
  ms_axes_layout (cr, &cut_spec, &(MsRect) { 0, 0, 300, 200 }, &layout);
  double full, cut;
  ms_label_measure (cr, MS_LABEL_TICK, longs[0], &full, NULL);
  ms_label_measure (cr, MS_LABEL_TICK, "␣internat…", &cut, NULL);
  g_assert_true (layout.x_names_turned);
  g_assert_cmpfloat (fabs (layout.x_labels_height - cut), <, 0.01);
  g_assert_cmpfloat (layout.x_labels_height, <, full);

  /* names only on some cells (a position axis's tokens block): ticks only there */
  static const char *const some[] = { NULL, NULL, "a", "b", "c", NULL, NULL };
  MsAxesSpec block = spec;
  block.x_names = some;
  ms_axes_layout (cr, &block, &(MsRect) { 0, 0, 300, 200 }, &layout);
  g_assert_cmpint (layout.n_x_ticks, ==, 3);
  g_assert_cmpfloat (layout.x_ticks[0], ==, 2);
  cairo_destroy (cr);
}

/* Labelled bands: room above the plot (x) and left of it (y), and the
 * bands drawn over the blocks they name. */
static void
test_axes_bands (void)
{
  cairo_t *cr = layout_context (1, 1, 72);
  MsAxesSpec spec = { .x_left = -0.5, .x_right = 11.5, .y_bottom = 0, .y_top = 1, .x_min_step = 1 };
  MsAxesLayout plain, banded;
  ms_axes_layout (cr, &spec, &(MsRect) { 0, 0, 300, 200 }, &plain);
  MsAxesBand bands[] = { { "read block", -0.5, 3.5 }, { "tokens", 3.5, 7.5 }, { "write block", 7.5, 11.5 } };
  spec.x_bands = bands, spec.n_x_bands = 3;
  spec.y_bands = bands, spec.n_y_bands = 1;
  ms_axes_layout (cr, &spec, &(MsRect) { 0, 0, 300, 200 }, &banded);
  double line = ms_label_line_height (cr, MS_LABEL_TICK);
  g_assert_cmpfloat (banded.plot.y - plain.plot.y, >=, line);
  g_assert_cmpfloat (banded.plot.x - plain.plot.x, >=, line);
  cairo_destroy (cr);

  /* drawn: ink in the band above the plot over each block */
  cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 300, 200);
  cr = cairo_create (image);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  ms_axes_layout (cr, &spec, &(MsRect) { 0, 0, 300, 200 }, &banded);
  ms_axes_draw (cr, &spec, &banded);
  cairo_destroy (cr);
  cairo_surface_flush (image);
  for (int b = 0; b < 3; b++)
    {
      double x0 = ms_axes_map_x (&spec, &banded, bands[b].from), x1 = ms_axes_map_x (&spec, &banded, bands[b].to);
      int inked = 0;
      for (int y = (int) (banded.plot.y - banded.x_bands_height); y < (int) banded.plot.y; y++)
        for (int x = (int) x0 + 2; x < (int) x1 - 2; x++)
          inked += channel_distance (pixel_at (image, x, y), 0xffffff) > 128;
      g_assert_cmpint (inked, >, 10);
    }
  cairo_surface_destroy (image);
}

/* Compared panels share their plots' top and bottom even when one's token
 * names turn and take more room below it, and one has bands above it. */
static void
test_compare_aligned (void)
{
  float values[24 * 4];
  for (int i = 0; i < 24 * 4; i++)
    values[i] = (float) (i % 7);
  const char *longs[24], *shorts[24];
  for (int i = 0; i < 24; i++)
    longs[i] = "␣representation", shorts[i] = "a";
  g_autoptr (MsHeatmap) a = ms_heatmap_new (values, 4, 24, NULL);
  g_autoptr (MsHeatmap) b = ms_heatmap_new (values, 4, 24, NULL);
  ms_heatmap_set_x_names (a, longs, 24);
  ms_heatmap_set_x_names (b, shorts, 24);
  const char *names[] = { "read block", "tokens" };
  int first[] = { 0, 4 }, n[] = { 4, 20 };
  ms_heatmap_set_x_bands (b, names, first, n, 2);
  ms_heatmap_set_x_axis (a, 0, 1, "token");
  ms_heatmap_set_x_axis (b, 0, 1, "token");
  MsCompare *cmp = ms_compare_new (a, b);
  cairo_t *cr = layout_context (1, 1, 72);
  MsRect rects[3];
  int count = 0;
  ms_compare_get_plot_rects (cmp, cr, 500, 300, rects, &count);
  g_assert_cmpint (count, ==, 2);
  g_assert_cmpfloat (rects[0].y, ==, rects[1].y);
  g_assert_cmpfloat (rects[0].height, ==, rects[1].height);
  g_assert_cmpfloat (rects[0].height, >, 50);
  /* each panel's own needs: A's turned names below, B's bands above */
  MsAxesSpec spec;
  MsAxesLayout own;
  ms_heatmap_get_axes_spec (a, &spec);
  ms_axes_layout (cr, &spec, &(MsRect) { 0, 0, 250, 300 }, &own);
  g_assert_true (own.x_names_turned);
  ms_compare_free (cmp);
  cairo_destroy (cr);
}

/* ---- text ---- */

static void
test_font_is_dejavu (void)
{
  cairo_t *cr = layout_context (1, 1, 72);
  g_autoptr (PangoLayout) layout = ms_label_layout_new (cr, MS_LABEL_AXIS, "retention");
  PangoLayoutLine *line = pango_layout_get_line_readonly (layout, 0);
  g_assert_nonnull (line->runs);
  PangoGlyphItem *run = line->runs->data;
  PangoFontDescription *desc = pango_font_describe (run->item->analysis.font);
  g_assert_cmpstr (pango_font_description_get_family (desc), ==, "DejaVu Sans");
  pango_font_description_free (desc);

  /* Sizes are points: the 8 pt label is about 9.3 pt tall, at any scale. */
  double h;
  ms_label_measure (cr, MS_LABEL_AXIS, "Xg", NULL, &h);
  g_assert_cmpfloat (h, >, 8.0);
  g_assert_cmpfloat (h, <, 11.0);
  cairo_destroy (cr);
  cr = layout_context (1, 1, 600);
  double h2;
  ms_label_measure (cr, MS_LABEL_AXIS, "Xg", NULL, &h2);
  g_assert_cmpfloat_with_epsilon (h, h2, 0.01);
  cairo_destroy (cr);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/render/colormap/published", test_colormap_published);
  g_test_add_func ("/render/colormap/map", test_colormap_map);
  g_test_add_func ("/render/colormap/diverging", test_colormap_diverging);
  g_test_add_func ("/render/colormap/names", test_colormap_names);
  g_test_add_func ("/render/axes/bands", test_axes_bands);
  g_test_add_func ("/render/compare/aligned", test_compare_aligned);
  g_test_add_func ("/render/ticks/examples", test_ticks_examples);
  g_test_add_func ("/render/ticks/twin", test_ticks_twin);
  g_test_add_func ("/render/ticks/format", test_ticks_format);
  g_test_add_func ("/render/ticks/named", test_ticks_named);
  g_test_add_func ("/render/text/font", test_font_is_dejavu);
  return g_test_run ();
}
