/* test-render.c — the figure library, drawn into image surfaces.
 *
 * Heatmap pixels (each cell's centre has its value's colour, NaN is grey,
 * boundaries are sharp, the colorbar runs from vmin to vmax, labels stay
 * inside the figure), plots and the comparison at known points, and the
 * export's errors and atomic writes.  The exported files themselves are
 * checked by check_export.py with tools outside cairo; colormaps and ticks
 * by test-render-basics.c.
 */
#include "ms-figure.h"
#include "ms-compare-private.h"
#include "ms-heatmap-private.h"
#include "render-test-util.h"

#include <cairo-pdf.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* ---- heatmaps ---- */

/* (3, 4) with distinct values 0..11, one NaN. */
static MsHeatmap *
small_heatmap (void)
{
  float v[12];
  for (int i = 0; i < 12; i++)
    v[i] = (float) i;
  v[6] = NAN;  /* row 1, column 2 */
  g_autoptr (GError) error = NULL;
  MsHeatmap *hm = ms_heatmap_new (v, 3, 4, &error);
  g_assert_no_error (error);
  ms_heatmap_set_title (hm, "small");
  ms_heatmap_set_x_axis (hm, 0, 1, "timestep");
  ms_heatmap_set_y_axis (hm, 0, 1, "slot", TRUE);
  ms_heatmap_set_colorbar_label (hm, "value");
  return hm;
}

/* The plot rectangle (points) of @hm laid out at @w_in × @h_in inches and
 * @dpi. */
static MsRect
heatmap_plot_rect (MsHeatmap *hm, double w_in, double h_in, double dpi)
{
  cairo_t *cr = layout_context (w_in, h_in, dpi);
  MsRect plot;
  ms_heatmap_get_plot_rect (hm, cr, w_in * 72, h_in * 72, &plot);
  cairo_destroy (cr);
  return plot;
}

static void
assert_cells (MsHeatmap *hm, double width_in, double height_in, double dpi)
{
  cairo_surface_t *image = render (ms_heatmap_draw_func, hm, width_in, height_in, dpi);
  MsRect plot = heatmap_plot_rect (hm, width_in, height_in, dpi);
  double vmin, vmax, scale = px_per_pt (width_in, dpi);
  ms_heatmap_get_range (hm, &vmin, &vmax);
  const float *v = ms_heatmap_get_values (hm);
  for (int r = 0; r < ms_heatmap_get_rows (hm); r++)
    for (int c = 0; c < ms_heatmap_get_cols (hm); c++)
      {
        MsRect cell;
        ms_heatmap_cell_rect (hm, &plot, r, c, &cell);
        cell = to_pixels (cell, scale);
        MsRgb want = ms_colormap_map (ms_heatmap_get_colormap (hm), v[r * ms_heatmap_get_cols (hm) + c], vmin, vmax);
        assert_pixel (image, cell.x + cell.width / 2, cell.y + cell.height / 2, want, 1);
      }
  cairo_surface_destroy (image);
}

static void
test_heatmap_cells (void)
{
  g_autoptr (MsHeatmap) hm = small_heatmap ();
  double vmin, vmax;
  ms_heatmap_get_range (hm, &vmin, &vmax);
  g_assert_cmpfloat (vmin, ==, 0.0);
  g_assert_cmpfloat (vmax, ==, 11.0);
  assert_cells (hm, 3.5, 2.17, 150);

  /* The NaN cell is the neutral grey. */
  cairo_surface_t *image = render (ms_heatmap_draw_func, hm, 3.5, 2.17, 150);
  MsRect plot = heatmap_plot_rect (hm, 3.5, 2.17, 150), cell;
  ms_heatmap_cell_rect (hm, &plot, 1, 2, &cell);
  cell = to_pixels (cell, px_per_pt (3.5, 150));
  g_assert_cmphex (pixel_at (image, cell.x + cell.width / 2, cell.y + cell.height / 2), ==, 0xffcccccc);
  cairo_surface_destroy (image);

  /* Other maps and a fixed range. */
  ms_heatmap_set_colormap (hm, MS_COLORMAP_MAGMA);
  ms_heatmap_set_range (hm, 2.0, 9.0);
  assert_cells (hm, 3.5, 2.17, 150);
  ms_heatmap_set_colormap (hm, MS_COLORMAP_DIVERGING);
  ms_heatmap_set_range (hm, NAN, NAN);
  ms_heatmap_get_range (hm, &vmin, &vmax);
  g_assert_cmpfloat (vmin, ==, -11.0);
  g_assert_cmpfloat (vmax, ==, 11.0);
  assert_cells (hm, 7, 4.34, 97);
}

/* Along the middle of each row of cells, every pixel inside the plot has
 * exactly one of that row's cell colours: nearest filtering, no blending
 * across boundaries — at cell widths that are not whole pixels. */
static void
assert_sharp_rows (MsHeatmap *hm, double w_in, double h_in, double dpi)
{
  cairo_surface_t *image = render (ms_heatmap_draw_func, hm, w_in, h_in, dpi);
  MsRect plot = heatmap_plot_rect (hm, w_in, h_in, dpi);
  double scale = px_per_pt (w_in, dpi);
  MsRect p = to_pixels (plot, scale);
  double cell_w = p.width / 4;

  double vmin, vmax;
  ms_heatmap_get_range (hm, &vmin, &vmax);
  const float *v = ms_heatmap_get_values (hm);
  int frame = (int) ceil (MS_FIGURE_LINE_WIDTH * scale) + 1;
  for (int r = 0; r < 3; r++)
    {
      MsRect cell;
      ms_heatmap_cell_rect (hm, &plot, r, 0, &cell);
      double y = (cell.y + cell.height / 2) * scale;
      uint32_t colours[4];
      int seen[4] = { 0 };
      for (int c = 0; c < 4; c++)
        colours[c] = ms_rgb_to_pixel (ms_colormap_map (MS_COLORMAP_VIRIDIS, v[r * 4 + c], vmin, vmax));
      for (int x = (int) ceil (p.x) + frame; x < (int) floor (p.x + p.width) - frame; x++)
        {
          uint32_t got = pixel_at (image, x + 0.5, y);
          int match = -1;
          for (int c = 0; c < 4; c++)
            if (channel_distance (got, colours[c]) <= 1)
              match = c;
          if (match < 0)
            g_error ("pixel %d of row %d is #%06x, between cell colours: blurred boundary", x, r, got & 0xffffff);
          seen[match]++;
        }
      for (int c = 0; c < 4; c++)
        g_assert_cmpint (seen[c], >, (int) cell_w - 2 * frame - 2);
    }
  cairo_surface_destroy (image);
}

/* Along the middle of each row of cells, every pixel inside the plot has
 * exactly one of that row's cell colours: nearest filtering, no blending
 * across boundaries — at cell widths that are not whole pixels. */
static void
test_heatmap_sharp (void)
{
  g_autoptr (MsHeatmap) hm = small_heatmap ();
  const double w_in = 3.3, h_in = 2.1;
  int fractional = 0;
  for (double dpi = 90; dpi < 140; dpi += 7)
    {
      MsRect plot = heatmap_plot_rect (hm, w_in, h_in, dpi);
      double cell_w = plot.width * px_per_pt (w_in, dpi) / 4;
      if (fabs (cell_w - round (cell_w)) < 0.05)
        continue;  /* boundaries on whole pixels prove nothing */
      assert_sharp_rows (hm, w_in, h_in, dpi);
      fractional++;
    }
  g_assert_cmpint (fractional, >=, 3);
}

static void
test_heatmap_bottom_up (void)
{
  g_autoptr (MsHeatmap) hm = small_heatmap ();
  ms_heatmap_set_y_axis (hm, 10, 5, "layer", FALSE);
  assert_cells (hm, 3.5, 2.17, 150);

  MsRect plot = heatmap_plot_rect (hm, 3.5, 2.17, 150), cell;
  /* Row 0 is at the bottom now. */
  ms_heatmap_cell_rect (hm, &plot, 0, 0, &cell);
  g_assert_cmpfloat_with_epsilon (cell.y + cell.height, plot.y + plot.height, 1e-9);
  int row, col;
  g_assert_true (ms_heatmap_cell_at (hm, &plot, cell.x + 1, cell.y + 1, &row, &col));
  g_assert_cmpint (row, ==, 0);
  g_assert_cmpint (col, ==, 0);
  g_assert_true (ms_heatmap_cell_at (hm, &plot, plot.x + plot.width - 0.5, plot.y + 0.5, &row, &col));
  g_assert_cmpint (row, ==, 2);
  g_assert_cmpint (col, ==, 3);
  g_assert_false (ms_heatmap_cell_at (hm, &plot, plot.x - 1, plot.y + 1, &row, &col));
}

/* The colorbar's strip runs from vmax at the top to vmin at the bottom. */
static void
test_heatmap_colorbar (void)
{
  g_autoptr (MsHeatmap) hm = small_heatmap ();
  for (int k = 0; k < 2; k++)
    {
      MsColormap cmap = k == 0 ? MS_COLORMAP_VIRIDIS : MS_COLORMAP_DIVERGING;
      ms_heatmap_set_colormap (hm, cmap);
      cairo_surface_t *image = render (ms_heatmap_draw_func, hm, 3.5, 2.17, 200);
      MsRect plot = heatmap_plot_rect (hm, 3.5, 2.17, 200);
      double scale = px_per_pt (3.5, 200);
      double x = (plot.x + plot.width + MS_COLORBAR_GAP + MS_COLORBAR_STRIP_WIDTH / 2) * scale;
      double top = plot.y * scale, height = plot.height * scale;
      for (int i = 1; i < 20; i++)
        {
          double f = i / 20.0;  /* from the top */
          assert_pixel (image, x, top + f * height, ms_colormap_eval (cmap, 1.0 - f), 4);
        }
      /* The ends: the top is vmax's colour, the bottom vmin's. */
      assert_pixel (image, x, top + 2, ms_colormap_eval (cmap, 1.0 - 2.5 / height), 4);
      assert_pixel (image, x, top + height - 2, ms_colormap_eval (cmap, 1.5 / height), 4);
      if (cmap == MS_COLORMAP_DIVERGING)
        assert_pixel (image, x, top + height / 2, (MsRgb) { 1, 1, 1 }, 4);
      cairo_surface_destroy (image);
    }
}

/* Cells are coloured by the first draw after a change, once per resolution:
 * on an image, one column per device pixel of the plot at most (what
 * nearest filtering shows); on a vector surface, every cell. */
static void
test_heatmap_cache (void)
{
  enum { ROWS = 64, COLS = 10000 };
  g_autofree float *v = g_new (float, ROWS * COLS);
  for (int i = 0; i < ROWS * COLS; i++)
    v[i] = i < COLS ? 0.0f : (float) (i % 977) / 977.0f;   /* row 0 all 0 */
  g_autoptr (MsHeatmap) hm = ms_heatmap_new (v, ROWS, COLS, NULL);
  g_assert_null (ms_heatmap_peek_image (hm));

  const double sizes[][2] = { { 3.5, 2.17 }, { 7, 4.34 } };
  int widths[2];
  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      cairo_surface_t *figure = render (ms_heatmap_draw_func, hm, sizes[i][0], sizes[i][1], 150);
      cairo_surface_t *image = ms_heatmap_peek_image (hm);
      g_assert_nonnull (image);
      widths[i] = cairo_image_surface_get_width (image);
      g_assert_cmpint (widths[i], <=, cairo_image_surface_get_width (figure));
      g_assert_cmpint (cairo_image_surface_get_height (image), ==, ROWS);  /* 64 rows fit either size */
      cairo_surface_destroy (figure);
      figure = render (ms_heatmap_draw_func, hm, sizes[i][0], sizes[i][1], 150);
      g_assert_true (ms_heatmap_peek_image (hm) == image);   /* same size: not coloured again */
      cairo_surface_destroy (figure);
    }
  g_assert_cmpint (widths[0], <, widths[1]);

  /* a vector surface gets every cell */
  cairo_surface_t *pdf = cairo_pdf_surface_create (NULL, 252, 156);
  cairo_t *cr = cairo_create (pdf);
  ms_heatmap_draw (hm, cr, 252, 156);
  cairo_destroy (cr);
  cairo_surface_destroy (pdf);
  g_assert_cmpint (cairo_image_surface_get_width (ms_heatmap_peek_image (hm)), ==, COLS);

  ms_heatmap_set_colormap (hm, MS_COLORMAP_CIVIDIS);
  g_assert_null (ms_heatmap_peek_image (hm));
  cairo_surface_destroy (render (ms_heatmap_draw_func, hm, 3.5, 2.17, 150));
  cairo_surface_t *after = ms_heatmap_peek_image (hm);
  g_assert_cmpint (cairo_image_surface_get_width (after), ==, widths[0]);
  uint32_t first = *(uint32_t *) cairo_image_surface_get_data (after);
  g_assert_cmphex (first, ==, ms_rgb_to_pixel (ms_colormap_eval (MS_COLORMAP_CIVIDIS, 0.0)));
}

/* The comparison figure colours its panels as the heatmap does: when drawn,
 * at most one column per device pixel on an image, every cell on a vector
 * surface, again only after a change. */
static void
test_compare_cache (void)
{
  enum { ROWS = 16, COLS = 10000 };
  g_autofree float *va = g_new (float, ROWS * COLS), *vb = g_new (float, ROWS * COLS);
  for (int i = 0; i < ROWS * COLS; i++)
    va[i] = (float) (i % 977) / 977.0f, vb[i] = (float) (i % 331) / 331.0f;
  g_autoptr (MsHeatmap) a = ms_heatmap_new (va, ROWS, COLS, NULL);
  g_autoptr (MsHeatmap) b = ms_heatmap_new (vb, ROWS, COLS, NULL);
  MsCompare *cmp = ms_compare_new (a, b);
  g_assert_true (ms_compare_set_show_difference (cmp, TRUE, NULL));
  for (int i = 0; i < 3; i++)
    g_assert_null (ms_compare_peek_image (cmp, i));

  cairo_surface_t *figure = render (ms_compare_draw_func, cmp, 7, 3, 150);
  cairo_surface_t *images[3];
  for (int i = 0; i < 3; i++)
    {
      images[i] = ms_compare_peek_image (cmp, i);
      g_assert_nonnull (images[i]);
      /* three panels share the width: each image is narrower than a third of the figure */
      g_assert_cmpint (cairo_image_surface_get_width (images[i]), <, cairo_image_surface_get_width (figure) / 3);
      g_assert_cmpint (cairo_image_surface_get_height (images[i]), ==, ROWS);
    }
  cairo_surface_destroy (figure);
  cairo_surface_destroy (render (ms_compare_draw_func, cmp, 7, 3, 150));
  for (int i = 0; i < 3; i++)
    g_assert_true (ms_compare_peek_image (cmp, i) == images[i]);   /* same size: not coloured again */

  cairo_surface_t *pdf = cairo_pdf_surface_create (NULL, 504, 216);
  cairo_t *cr = cairo_create (pdf);
  ms_compare_draw (cmp, cr, 504, 216);
  cairo_destroy (cr);
  cairo_surface_destroy (pdf);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (cairo_image_surface_get_width (ms_compare_peek_image (cmp, i)), ==, COLS);

  ms_compare_set_colormap (cmp, MS_COLORMAP_MAGMA);
  for (int i = 0; i < 3; i++)
    g_assert_null (ms_compare_peek_image (cmp, i));
  ms_compare_free (cmp);
}

/* The layout a heatmap keeps follows every change that moves its plot: a
 * title, axis labels, a colorbar range with wider tick labels, the size. */
static void
test_heatmap_kept_layout (void)
{
  g_autoptr (MsHeatmap) hm = small_heatmap ();
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  MsRect plot, again;
  ms_heatmap_get_plot_rect (hm, cr, 400, 300, &plot);
  ms_heatmap_get_plot_rect (hm, cr, 400, 300, &again);
  g_assert_cmpfloat (again.y, ==, plot.y);

  ms_heatmap_set_title (hm, NULL);                       /* no title: the plot moves up */
  ms_heatmap_get_plot_rect (hm, cr, 400, 300, &again);
  g_assert_cmpfloat (again.y, <, plot.y);

  ms_heatmap_set_y_axis (hm, 0, 1, NULL, TRUE);          /* no y label: the plot moves left */
  MsRect no_label;
  ms_heatmap_get_plot_rect (hm, cr, 400, 300, &no_label);
  g_assert_cmpfloat (no_label.x, <, again.x);

  ms_heatmap_set_range (hm, 0, 123456789);               /* wider colorbar ticks: a narrower plot */
  MsRect wide_ticks;
  ms_heatmap_get_plot_rect (hm, cr, 400, 300, &wide_ticks);
  g_assert_cmpfloat (wide_ticks.width, <, no_label.width);

  MsRect larger;                                         /* another size */
  ms_heatmap_get_plot_rect (hm, cr, 800, 300, &larger);
  g_assert_cmpfloat (larger.width, >, wide_ticks.width);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_heatmap_bad_shape (void)
{
  float v[4] = { 0 };
  int shapes[][2] = { { 0, 4 }, { 4, 0 }, { -1, 2 }, { 2, MS_HEATMAP_MAX_SIDE + 1 } };
  for (size_t i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (ms_heatmap_new (v, shapes[i][0], shapes[i][1], &error));
      g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
    }
  g_autoptr (MsHeatmap) hm = small_heatmap ();
  g_autoptr (GError) error = NULL;
  g_assert_false (ms_heatmap_set_values (hm, v, 0, 4, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
  g_assert_cmpint (ms_heatmap_get_rows (hm), ==, 3);
  g_assert_cmpint (ms_heatmap_get_cols (hm), ==, 4);
  g_assert_true (ms_heatmap_set_values (hm, v, 2, 2, NULL));
  cairo_surface_destroy (render (ms_heatmap_draw_func, hm, 3.5, 2.17, 150));
  g_assert_cmpint (cairo_image_surface_get_width (ms_heatmap_peek_image (hm)), ==, 2);
}

/* Drawing leaves the caller's context as it was, and nothing of the figure
 * is clipped at its edges, at any paper size. */
static void
test_heatmap_fits (void)
{
  g_autoptr (MsHeatmap) hm = small_heatmap ();
  ms_heatmap_set_y_axis (hm, 0, 1, "a rather long y label", TRUE);
  ms_heatmap_set_colorbar_label (hm, "retention (old share)");
  const char *presets[] = { "single", "neurips", "double" };
  for (size_t i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      MsFigureSize size;
      g_assert_true (ms_figure_size_parse (presets[i], &size, NULL));
      cairo_surface_t *image = render (ms_heatmap_draw_func, hm, size.width_in, size.height_in, 100);
      assert_white_border (image, 2);
      cairo_surface_destroy (image);
    }

  /* Labels far too long for a single column shrink and ellipsize instead of
   * running off the figure. */
  g_autofree char *long_label = g_strnfill (200, 'W');
  ms_heatmap_set_title (hm, long_label);
  ms_heatmap_set_x_axis (hm, 0, 1, long_label);
  ms_heatmap_set_y_axis (hm, 0, 1, long_label, TRUE);
  ms_heatmap_set_colorbar_label (hm, long_label);
  cairo_surface_t *crowded = render (ms_heatmap_draw_func, hm, 3.5, 3.5 * 0.62, 100);
  assert_white_border (crowded, 2);
  cairo_surface_destroy (crowded);

  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 300, 200);
  cairo_t *cr = cairo_create (s);
  cairo_scale (cr, 1.25, 1.25);
  cairo_matrix_t before, after;
  cairo_get_matrix (cr, &before);
  ms_heatmap_draw (hm, cr, 240, 160);
  cairo_get_matrix (cr, &after);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
  /* Absurdly small still draws without error. */
  ms_heatmap_draw (hm, cr, 20, 10);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

/* ---- plots ---- */

static void
test_stacked_plot (void)
{
  enum { N = 10 };
  float f[3 * N];
  for (int i = 0; i < N; i++)
    {
      f[0 * N + i] = 0.5f;
      f[1 * N + i] = 0.3f;
      f[2 * N + i] = i == 4 ? NAN : 0.2f;  /* NaN counts as 0 */
    }
  const char *names[] = { "retain", "mixed", "overwrite" };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsStackedPlot) plot = ms_stacked_plot_new (f, 3, N, names, &error);
  g_assert_no_error (error);
  ms_stacked_plot_set_title (plot, "Slot types");
  ms_stacked_plot_set_x_axis (plot, 0, 1, "timestep");
  ms_stacked_plot_set_y_label (plot, "fraction");
  ms_stacked_plot_set_color (plot, 2, (MsRgb) { 0.5, 0.0, 0.5 });

  cairo_surface_t *image = render (ms_stacked_plot_draw_func, plot, 3.5, 2.17, 150);
  assert_white_border (image, 2);
  cairo_t *cr = layout_context (3.5, 2.17, 150);
  MsRect rect;
  ms_stacked_plot_get_plot_rect (plot, cr, 3.5 * 72, 2.17 * 72, &rect);
  cairo_destroy (cr);
  MsRect p = to_pixels (rect, px_per_pt (3.5, 150));
  double x = p.x + p.width * 2 / 9;  /* point 2 */
  assert_pixel (image, x, p.y + p.height * (1 - 0.25), ms_plot_series_color (0), 1);
  assert_pixel (image, x, p.y + p.height * (1 - 0.65), ms_plot_series_color (1), 1);
  assert_pixel (image, x, p.y + p.height * (1 - 0.90), (MsRgb) { 0.5, 0.0, 0.5 }, 1);
  /* At point 4 the third series is absent: white above 0.8. */
  double x4 = p.x + p.width * 4 / 9;
  assert_pixel (image, x4, p.y + p.height * (1 - 0.95), (MsRgb) { 1, 1, 1 }, 1);
  assert_pixel (image, x4, p.y + p.height * (1 - 0.65), ms_plot_series_color (1), 1);
  cairo_surface_destroy (image);

  g_assert_null (ms_stacked_plot_new (f, 0, N, names, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_null (ms_stacked_plot_new (f, 3, 0, names, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
}

static gboolean
column_has_colour (cairo_surface_t *image, double x, const MsRect *p, MsRgb colour, int tolerance)
{
  for (int y = (int) ceil (p->y) + 2; y < (int) floor (p->y + p->height) - 2; y++)
    if (channel_distance (pixel_at (image, x, y + 0.5), ms_rgb_to_pixel (colour)) <= tolerance)
      return TRUE;
  return FALSE;
}

static void
test_line_plot (void)
{
  enum { N = 10 };
  float y[N];
  for (int i = 0; i < N; i++)
    y[i] = 1.0f;
  y[4] = y[5] = NAN;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsLinePlot) plot = ms_line_plot_new (N, &error);
  g_assert_no_error (error);
  g_assert_true (ms_line_plot_add_series (plot, "NLL", y, N, &error));
  ms_line_plot_set_y_range (plot, 0.0, 2.0);
  ms_line_plot_set_title (plot, "Per-segment NLL");
  ms_line_plot_set_x_axis (plot, 0, 1, "segment");
  ms_line_plot_set_y_label (plot, "NLL");

  cairo_surface_t *image = render (ms_line_plot_draw_func, plot, 3.5, 2.17, 150);
  assert_white_border (image, 2);
  cairo_t *cr = layout_context (3.5, 2.17, 150);
  MsRect rect;
  ms_line_plot_get_plot_rect (plot, cr, 3.5 * 72, 2.17 * 72, &rect);
  cairo_destroy (cr);
  MsRect p = to_pixels (rect, px_per_pt (3.5, 150));
  MsRgb blue = ms_plot_series_color (0);
  /* y = 1 is the middle of [0, 2]; the line runs there from 0 to 3 … */
  double x15 = p.x + p.width * 1.5 / 9;
  assert_pixel (image, x15, p.y + p.height / 2, blue, 2);
  /* … and not over the gap at 4 and 5. */
  g_assert_true (column_has_colour (image, x15, &p, blue, 2));
  g_assert_false (column_has_colour (image, p.x + p.width * 4.5 / 9, &p, blue, 60));
  g_assert_true (column_has_colour (image, p.x + p.width * 7.5 / 9, &p, blue, 2));
  cairo_surface_destroy (image);

  g_assert_false (ms_line_plot_add_series (plot, "short", y, N - 1, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_null (ms_line_plot_new (0, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
}

/* ---- comparison ---- */

static MsHeatmap *
constant_heatmap (float value, int rows, int cols, const char *title)
{
  g_autofree float *v = g_new (float, rows * cols);
  for (int i = 0; i < rows * cols; i++)
    v[i] = value;
  MsHeatmap *hm = ms_heatmap_new (v, rows, cols, NULL);
  ms_heatmap_set_title (hm, title);
  ms_heatmap_set_x_axis (hm, 0, 1, "timestep");
  ms_heatmap_set_y_axis (hm, 0, 1, "slot", TRUE);
  ms_heatmap_set_colorbar_label (hm, "retention");
  return hm;
}

/* The plot rectangles (points) of @cmp's panels laid out at @w_in × @h_in
 * inches and @dpi, into @rects (room for 3); returns how many. */
static int
compare_plot_rects (MsCompare *cmp, double w_in, double h_in, double dpi, MsRect rects[3])
{
  cairo_t *cr = layout_context (w_in, h_in, dpi);
  int n;
  ms_compare_get_plot_rects (cmp, cr, w_in * 72, h_in * 72, rects, &n);
  cairo_destroy (cr);
  return n;
}

static void
test_compare_shared_scale (void)
{
  /* Each constant on its own would be drawn mid-scale; on the shared
   * scale A is the bottom colour and B the top. */
  g_autoptr (MsHeatmap) a = constant_heatmap (0.0f, 4, 6, "Memformer");
  g_autoptr (MsHeatmap) b = constant_heatmap (2.0f, 5, 6, "RMT");
  g_autoptr (MsCompare) cmp = ms_compare_new (a, b);
  ms_compare_set_title (cmp, "same input");
  double vmin, vmax;
  ms_compare_get_range (cmp, &vmin, &vmax);
  g_assert_cmpfloat (vmin, ==, 0.0);
  g_assert_cmpfloat (vmax, ==, 2.0);

  const double w_in = 7, h_in = 2.2, dpi = 100;
  cairo_surface_t *image = render (ms_compare_draw_func, cmp, w_in, h_in, dpi);
  assert_white_border (image, 2);
  MsRect rects[3];
  g_assert_cmpint (compare_plot_rects (cmp, w_in, h_in, dpi, rects), ==, 2);
  double scale = px_per_pt (w_in, dpi);
  MsRect pa = to_pixels (rects[0], scale), pb = to_pixels (rects[1], scale);
  assert_pixel (image, pa.x + pa.width / 2, pa.y + pa.height / 2, ms_colormap_eval (MS_COLORMAP_VIRIDIS, 0.0), 1);
  assert_pixel (image, pb.x + pb.width / 2, pb.y + pb.height / 2, ms_colormap_eval (MS_COLORMAP_VIRIDIS, 1.0), 1);
  /* Panels line up and are equally wide. */
  g_assert_cmpfloat_with_epsilon (rects[0].y, rects[1].y, 1e-9);
  g_assert_cmpfloat_with_epsilon (rects[0].height, rects[1].height, 1e-9);
  g_assert_cmpfloat_with_epsilon (rects[0].width, rects[1].width, 1.0);
  g_assert_cmpfloat (rects[0].x + rects[0].width, <, rects[1].x);

  /* One colorbar, right of B: its strip spans the map; nothing like it
   * between the panels. */
  double x_bar = (rects[1].x + rects[1].width + MS_COLORBAR_GAP + MS_COLORBAR_STRIP_WIDTH / 2) * scale;
  assert_pixel (image, x_bar, pb.y + 2, ms_colormap_eval (MS_COLORMAP_VIRIDIS, 1.0 - 2.5 / pb.height), 4);
  assert_pixel (image, x_bar, pb.y + pb.height - 2, ms_colormap_eval (MS_COLORMAP_VIRIDIS, 1.5 / pb.height), 4);
  for (int x = (int) (pa.x + pa.width) + 3; x < (int) pb.x - 3; x++)
    for (int y = (int) pa.y; y < (int) (pa.y + pa.height); y++)
      {
        uint32_t px = pixel_at (image, x + 0.5, y + 0.5);
        int red = (px >> 16) & 0xff, green = (px >> 8) & 0xff, blue = px & 0xff;
        if (MAX (abs (red - green), abs (green - blue)) > 8)
          g_error ("colour #%06x at (%d, %d) between the panels: a second colorbar?", px & 0xffffff, x, y);
      }

  /* Differences need equal shapes. */
  g_autoptr (GError) error = NULL;
  g_assert_false (ms_compare_set_show_difference (cmp, TRUE, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
  cairo_surface_destroy (image);
}

static void
test_compare_difference (void)
{
  g_autoptr (MsHeatmap) a = constant_heatmap (1.0f, 4, 6, "A");
  g_autoptr (MsHeatmap) b = constant_heatmap (1.0f, 4, 6, "B");
  float v[24];
  for (int i = 0; i < 24; i++)
    v[i] = i < 12 ? 1.0f : 0.25f;  /* top half equal, bottom half A > B */
  v[0] = NAN;
  ms_heatmap_set_values (b, v, 4, 6, NULL);
  g_autoptr (MsCompare) cmp = ms_compare_new (a, b);
  g_autoptr (GError) error = NULL;
  g_assert_true (ms_compare_set_show_difference (cmp, TRUE, &error));
  g_assert_no_error (error);
  double dmin, dmax;
  ms_compare_get_difference_range (cmp, &dmin, &dmax);
  g_assert_cmpfloat (dmin, ==, -0.75);
  g_assert_cmpfloat (dmax, ==, 0.75);

  const double w_in = 7, h_in = 2.2, dpi = 100;
  cairo_surface_t *image = render (ms_compare_draw_func, cmp, w_in, h_in, dpi);
  assert_white_border (image, 2);
  MsRect rects[3];
  g_assert_cmpint (compare_plot_rects (cmp, w_in, h_in, dpi, rects), ==, 3);
  MsRect d = to_pixels (rects[2], px_per_pt (w_in, dpi));
  double cell_w = d.width / 6, cell_h = d.height / 4;
  /* Row 0: equal → white (cell 0 is NaN → grey); rows 2-3: A − B = 0.75 → the red end. */
  assert_pixel (image, d.x + 2.5 * cell_w, d.y + 0.5 * cell_h, (MsRgb) { 1, 1, 1 }, 1);
  assert_pixel (image, d.x + 0.5 * cell_w, d.y + 0.5 * cell_h, MS_COLORMAP_NO_DATA, 1);
  assert_pixel (image, d.x + 2.5 * cell_w, d.y + 3.5 * cell_h, ms_colormap_eval (MS_COLORMAP_DIVERGING, 1.0), 1);
  cairo_surface_destroy (image);

  ms_compare_set_show_difference (cmp, FALSE, NULL);
  g_assert_cmpint (compare_plot_rects (cmp, w_in, h_in, dpi, rects), ==, 2);
}

/* ---- export ---- */

static void
test_export_names (void)
{
  MsFigureFormat format;
  g_autoptr (GError) error = NULL;
  g_assert_true (ms_figure_format_from_path ("a/b.png", &format, NULL));
  g_assert_cmpint (format, ==, MS_FIGURE_FORMAT_PNG);
  g_assert_true (ms_figure_format_from_path ("fig.SVG", &format, NULL));
  g_assert_cmpint (format, ==, MS_FIGURE_FORMAT_SVG);
  g_assert_true (ms_figure_format_from_path ("x.y/fig.pdf", &format, NULL));
  g_assert_cmpint (format, ==, MS_FIGURE_FORMAT_PDF);
  const char *bad[] = { "fig.jpg", "fig", "dir.png/fig", "fig.png.tmp", ".pdfx" };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (ms_figure_format_from_path (bad[i], &format, &error));
      g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_FORMAT);
      g_assert_nonnull (strstr (error->message, bad[i]));
      g_assert_nonnull (strstr (error->message, ".png, .svg or .pdf"));
      g_clear_error (&error);
    }

  MsFigureSize size;
  g_assert_true (ms_figure_size_parse ("single", &size, NULL));
  g_assert_cmpfloat (size.width_in, ==, 3.5);
  g_assert_cmpfloat (size.height_in, ==, 3.5 * MS_FIGURE_ASPECT);
  g_assert_true (ms_figure_size_parse ("double", &size, NULL));
  g_assert_cmpfloat (size.width_in, ==, 7.0);
  g_assert_true (ms_figure_size_parse ("neurips", &size, NULL));
  g_assert_cmpfloat (size.width_in, ==, 5.5);
  g_assert_true (ms_figure_size_parse ("4x2.5", &size, NULL));
  g_assert_cmpfloat (size.width_in, ==, 4.0);
  g_assert_cmpfloat (size.height_in, ==, 2.5);
  const char *bad_sizes[] = { "Single", "column", "", "4", "4x", "x3", "0x2", "4x-1", "4x2in", "1000x2" };
  for (size_t i = 0; i < G_N_ELEMENTS (bad_sizes); i++)
    {
      g_assert_false (ms_figure_size_parse (bad_sizes[i], &size, &error));
      g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_PRESET);
      g_assert_nonnull (strstr (error->message, "single"));
      g_assert_nonnull (strstr (error->message, "neurips"));
      g_clear_error (&error);
    }
}

static void
draw_square (cairo_t *cr, double width, double height, gpointer user_data)
{
  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 0, 0);
  cairo_rectangle (cr, 0, 0, width / 2, height / 2);
  cairo_fill (cr);
  cairo_restore (cr);
}

static void
draw_broken (cairo_t *cr, double width, double height, gpointer user_data)
{
  cairo_restore (cr);  /* without a save: CAIRO_STATUS_INVALID_RESTORE */
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* The names in @dir, sorted, joined by spaces. */
static char *
list_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
test_export_failures (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("memscope-render-XXXXXX", &error);
  g_assert_no_error (error);

  /* Bad sizes and resolutions. */
  g_autofree char *png = g_build_filename (dir, "fig.png", NULL);
  g_assert_false (ms_figure_export (png, 0, 2, 300, draw_square, NULL, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_false (ms_figure_export (png, 3.5, 2, 5, draw_square, NULL, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_false (ms_figure_export (png, 90, 90, 4000, draw_square, NULL, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT);
  g_clear_error (&error);
  g_autofree char *jpg = g_build_filename (dir, "fig.jpg", NULL);
  g_assert_false (ms_figure_export (jpg, 3.5, 2, 300, draw_square, NULL, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_FORMAT);
  g_clear_error (&error);

  /* A folder that does not exist; a "folder" that is a file. */
  const char *formats[] = { "png", "svg", "pdf" };
  for (size_t i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("fig.%s", formats[i]);
      g_autofree char *missing = g_build_filename (dir, "no-such-folder", name, NULL);
      g_assert_false (ms_figure_export (missing, 3.5, 2, 100, draw_square, NULL, &error));
      g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_IO);
      g_assert_nonnull (strstr (error->message, missing));
      g_clear_error (&error);
    }
  g_autofree char *file = g_build_filename (dir, "plain-file", NULL);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_autofree char *under_file = g_build_filename (file, "fig.pdf", NULL);
  g_assert_false (ms_figure_export (under_file, 3.5, 2, 100, draw_square, NULL, &error));
  g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_IO);
  g_clear_error (&error);

  /* A target that is a folder: the figure is written, the rename fails,
   * and the temporary file is gone again. */
  for (size_t i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("taken.%s", formats[i]);
      g_autofree char *taken = g_build_filename (dir, name, NULL);
      g_assert_cmpint (g_mkdir (taken, 0755), ==, 0);
      g_autofree char *inside = g_build_filename (taken, "keep", NULL);
      g_assert_true (g_file_set_contents (inside, "x", 1, NULL));
      g_assert_false (ms_figure_export (taken, 3.5, 2, 100, draw_square, NULL, &error));
      g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_IO);
      g_assert_nonnull (strstr (error->message, taken));
      g_clear_error (&error);
    }
  g_autofree char *listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "plain-file taken.pdf taken.png taken.svg");

  /* A drawing error: reported as such, and an existing figure survives. */
  g_autofree char *old = g_build_filename (dir, "old.pdf", NULL);
  g_assert_true (g_file_set_contents (old, "old figure", -1, NULL));
  for (size_t i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("old.%s", formats[i]);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_assert_true (g_file_set_contents (path, "old figure", -1, NULL));
      g_assert_false (ms_figure_export (path, 3.5, 2, 100, draw_broken, NULL, &error));
      g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_DRAW);
      g_clear_error (&error);
      g_autofree char *contents = NULL;
      g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
      g_assert_cmpstr (contents, ==, "old figure");
    }
  g_autofree char *listing2 = list_dir (dir);
  g_assert_cmpstr (listing2, ==, "old.pdf old.png old.svg plain-file taken.pdf taken.png taken.svg");

  /* A folder without write permission (root writes anywhere, so only as
   * an ordinary user). */
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (dir, "read-only", NULL);
      g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
      g_autofree char *target = g_build_filename (ro, "fig.png", NULL);
      g_assert_false (ms_figure_export (target, 3.5, 2, 100, draw_square, NULL, &error));
      g_assert_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_IO);
      g_assert_nonnull (strstr (error->message, target));
      g_clear_error (&error);
      g_autofree char *ro_listing = list_dir (ro);
      g_assert_cmpstr (ro_listing, ==, "");
    }
  else
    g_test_message ("running as root: the read-only folder case is not meaningful and was left out");

  g_autofree char *cmd = g_strdup_printf ("chmod -R u+w '%s' && rm -rf '%s'", dir, dir);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
test_export_replaces (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("memscope-render-XXXXXX", &error);
  g_autofree char *png = g_build_filename (dir, "fig.png", NULL);
  g_assert_true (g_file_set_contents (png, "old figure", -1, NULL));
  g_assert_true (ms_figure_export (png, 2.0, 1.0, 150, draw_square, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "fig.png");

  /* Read back with cairo: size from the DPI, the drawing in place. */
  cairo_surface_t *image = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (image), ==, 300);
  g_assert_cmpint (cairo_image_surface_get_height (image), ==, 150);
  g_assert_cmphex (pixel_at (image, 10, 10) & 0xffffff, ==, 0xff0000);
  g_assert_cmphex (pixel_at (image, 290, 140) & 0xffffff, ==, 0xffffff);
  cairo_surface_destroy (image);

  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (cmd), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/render/heatmap/cells", test_heatmap_cells);
  g_test_add_func ("/render/heatmap/sharp", test_heatmap_sharp);
  g_test_add_func ("/render/heatmap/bottom-up", test_heatmap_bottom_up);
  g_test_add_func ("/render/heatmap/colorbar", test_heatmap_colorbar);
  g_test_add_func ("/render/heatmap/cache", test_heatmap_cache);
  g_test_add_func ("/render/heatmap/kept-layout", test_heatmap_kept_layout);
  g_test_add_func ("/render/compare/cache", test_compare_cache);
  g_test_add_func ("/render/heatmap/bad-shape", test_heatmap_bad_shape);
  g_test_add_func ("/render/heatmap/fits", test_heatmap_fits);
  g_test_add_func ("/render/plots/stacked", test_stacked_plot);
  g_test_add_func ("/render/plots/line", test_line_plot);
  g_test_add_func ("/render/compare/shared-scale", test_compare_shared_scale);
  g_test_add_func ("/render/compare/difference", test_compare_difference);
  g_test_add_func ("/render/export/names", test_export_names);
  g_test_add_func ("/render/export/failures", test_export_failures);
  g_test_add_func ("/render/export/replaces", test_export_replaces);
  return g_test_run ();
}
