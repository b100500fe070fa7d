/* sample-figures.c — writes the sample figures the export checks read.
 *
 *   sample-figures OUTDIR
 *
 * Writes heatmap.{png,svg,pdf} (a single-column 16 × 40 retention-style
 * heatmap with NaN cells), stacked.png, lines.png, compare.{png,pdf} and
 * long-heatmap.png (10,000 × 64), and manifest.json: the figures' sizes,
 * and for a handful of heatmap cells their centre (in PNG pixels and in PDF
 * points from the top left) with the colour the colormap gives their value.
 * check_export.py compares the files against the manifest with independent
 * tools (zlib/struct, pdffonts, pdftoppm, an XML parser).
 */
#include "ms-figure.h"
#include "ms-heatmap-private.h"

#include <math.h>
#include <stdio.h>

#define ROWS 16
#define COLS 40
#define DPI 300.0

static const MsFigureSize single = { 3.5, 3.5 * MS_FIGURE_ASPECT };

/* (ROWS, COLS): slot i keeps what it holds at a rate that grows with i;
 * three cells have no data. */
static void
fill_retention (float *v)
{
  for (int r = 0; r < ROWS; r++)
    for (int c = 0; c < COLS; c++)
      v[r * COLS + c] = (float) (0.5 + 0.5 * sin (0.35 * c + 0.4 * r) * exp (-0.02 * c));
  v[3 * COLS + 5] = v[10 * COLS + 20] = v[0 * COLS + 39] = NAN;
}

static gboolean
export (const char *dir, const char *name, MsFigureSize size, MsFigureDrawFunc draw, gpointer data)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  if (!ms_figure_export (path, size.width_in, size.height_in, DPI, draw, data, &error))
    {
      fprintf (stderr, "sample-figures: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

/* Appends the cells' centres under a context of @scale device units per
 * point — the scale the figure is rendered at — so the plot snaps alike. */
static void
append_cells (GString *json, const MsHeatmap *hm, double scale)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (s);
  cairo_scale (cr, scale, scale);
  MsRect plot;
  ms_heatmap_get_plot_rect (hm, cr, single.width_in * 72, single.height_in * 72, &plot);
  cairo_destroy (cr);
  cairo_surface_destroy (s);

  static const int cells[][2] = { { 0, 0 }, { 3, 5 }, { 7, 13 }, { 10, 20 }, { 15, 39 }, { 12, 31 } };
  double vmin, vmax;
  ms_heatmap_get_range (hm, &vmin, &vmax);
  const float *v = ms_heatmap_get_values (hm);
  g_string_append (json, "[");
  for (size_t i = 0; i < G_N_ELEMENTS (cells); i++)
    {
      int r = cells[i][0], c = cells[i][1];
      MsRect cell;
      ms_heatmap_cell_rect (hm, &plot, r, c, &cell);
      MsRgb rgb = ms_colormap_map (ms_heatmap_get_colormap (hm), v[r * COLS + c], vmin, vmax);
      g_string_append_printf (json, "%s{\"row\": %d, \"col\": %d, \"x\": %.3f, \"y\": %.3f, \"w\": %.3f, "
                              "\"h\": %.3f, \"nan\": %s, \"rgb\": [%ld, %ld, %ld]}",
                              i ? ", " : "", r, c, (cell.x + cell.width / 2) * scale,
                              (cell.y + cell.height / 2) * scale, cell.width * scale, cell.height * scale,
                              isnan (v[r * COLS + c]) ? "true" : "false", lround (rgb.r * 255),
                              lround (rgb.g * 255), lround (rgb.b * 255));
    }
  g_string_append (json, "]");
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: sample-figures OUTDIR\n");
      return 2;
    }
  const char *dir = argv[1];
  g_mkdir_with_parents (dir, 0777);
  gboolean ok = TRUE;

  float values[ROWS * COLS];
  fill_retention (values);
  g_autoptr (MsHeatmap) hm = ms_heatmap_new (values, ROWS, COLS, NULL);
  ms_heatmap_set_title (hm, "Slot retention (Memformer)");
  ms_heatmap_set_x_axis (hm, 0, 1, "timestep (segment)");
  ms_heatmap_set_y_axis (hm, 0, 1, "memory slot", TRUE);
  ms_heatmap_set_colorbar_label (hm, "retention r");
  ms_heatmap_set_range (hm, 0.0, 1.0);
  ok &= export (dir, "heatmap.png", single, ms_heatmap_draw_func, hm);
  ok &= export (dir, "heatmap.svg", single, ms_heatmap_draw_func, hm);
  ok &= export (dir, "heatmap.pdf", single, ms_heatmap_draw_func, hm);

  /* Slot types over 40 timesteps: early on everything overwrites. */
  float types[3 * COLS];
  for (int t = 0; t < COLS; t++)
    {
      double retain = 0.7 * (1.0 - exp (-t / 6.0));
      double mixed = 0.15 + 0.05 * sin (t / 3.0);
      types[0 * COLS + t] = (float) retain;
      types[1 * COLS + t] = (float) mixed;
      types[2 * COLS + t] = (float) (1.0 - retain - mixed);
    }
  const char *names[3] = { "retain", "mixed", "overwrite" };
  g_autoptr (MsStackedPlot) stacked = ms_stacked_plot_new (types, 3, COLS, names, NULL);
  ms_stacked_plot_set_title (stacked, "Slot types over timesteps");
  ms_stacked_plot_set_x_axis (stacked, 0, 1, "timestep (segment)");
  ms_stacked_plot_set_y_label (stacked, "fraction of slots");
  ok &= export (dir, "stacked.png", single, ms_stacked_plot_draw_func, stacked);

  float nll_a[COLS], nll_b[COLS];
  for (int t = 0; t < COLS; t++)
    {
      nll_a[t] = (float) (3.2 - 0.8 * (1.0 - exp (-t / 8.0)) + 0.05 * sin (t));
      nll_b[t] = (float) (3.3 - 0.6 * (1.0 - exp (-t / 10.0)) + 0.05 * cos (t));
    }
  nll_b[17] = nll_b[18] = NAN;
  g_autoptr (MsLinePlot) lines = ms_line_plot_new (COLS, NULL);
  ms_line_plot_add_series (lines, "Memformer", nll_a, COLS, NULL);
  ms_line_plot_add_series (lines, "RMT", nll_b, COLS, NULL);
  ms_line_plot_set_title (lines, "Per-segment NLL");
  ms_line_plot_set_x_axis (lines, 0, 1, "segment");
  ms_line_plot_set_y_label (lines, "NLL (nats/token)");
  ok &= export (dir, "lines.png", single, ms_line_plot_draw_func, lines);

  float values_b[ROWS * COLS];
  for (int i = 0; i < ROWS * COLS; i++)
    values_b[i] = isnan (values[i]) ? NAN : 0.8f * values[(i + 7) % (ROWS * COLS)];
  g_autoptr (MsHeatmap) hm_b = ms_heatmap_new (values_b, ROWS, COLS, NULL);
  ms_heatmap_set_title (hm_b, "RMT");
  ms_heatmap_set_x_axis (hm_b, 0, 1, "timestep");
  ms_heatmap_set_y_axis (hm_b, 0, 1, "memory slot", TRUE);
  g_autoptr (MsHeatmap) hm_a = ms_heatmap_new (values, ROWS, COLS, NULL);
  ms_heatmap_set_title (hm_a, "Memformer");
  ms_heatmap_set_x_axis (hm_a, 0, 1, "timestep");
  ms_heatmap_set_y_axis (hm_a, 0, 1, "memory slot", TRUE);
  ms_heatmap_set_colorbar_label (hm_a, "retention");
  g_autoptr (MsCompare) cmp = ms_compare_new (hm_a, hm_b);
  ms_compare_set_title (cmp, "Slot retention on the same input");
  ms_compare_set_show_difference (cmp, TRUE, NULL);
  ok &= export (dir, "compare.png", (MsFigureSize) { 7.0, 2.2 }, ms_compare_draw_func, cmp);
  ok &= export (dir, "compare.pdf", (MsFigureSize) { 7.0, 2.2 }, ms_compare_draw_func, cmp);

  /* 10,000 timesteps × 64 slots. */
  enum { LONG_ROWS = 64, LONG_COLS = 10000 };
  g_autofree float *long_values = g_new (float, LONG_ROWS * LONG_COLS);
  for (int r = 0; r < LONG_ROWS; r++)
    for (int c = 0; c < LONG_COLS; c++)
      long_values[r * LONG_COLS + c] = (float) exp (-(double) c / (200.0 * (r + 1)));
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (MsHeatmap) long_hm = ms_heatmap_new (long_values, LONG_ROWS, LONG_COLS, NULL);
  gint64 t1 = g_get_monotonic_time ();
  ms_heatmap_set_title (long_hm, "Provenance over 10,000 timesteps");
  ms_heatmap_set_x_axis (long_hm, 0, 1, "timestep");
  ms_heatmap_set_y_axis (long_hm, 0, 1, "memory slot", TRUE);
  ms_heatmap_set_colorbar_label (long_hm, "share");
  ok &= export (dir, "long-heatmap.png", (MsFigureSize) { 7.0, 7.0 * MS_FIGURE_ASPECT }, ms_heatmap_draw_func,
                long_hm);
  gint64 t2 = g_get_monotonic_time ();
  printf ("# 10000 x 64 heatmap: image built in %.1f ms, exported (7 in, %g dpi PNG) in %.1f ms\n",
          (t1 - t0) / 1e3, DPI, (t2 - t1) / 1e3);

  GString *json = g_string_new ("{\n");
  g_string_append_printf (json, "  \"width_in\": %g, \"height_in\": %g, \"dpi\": %g,\n", single.width_in,
                          single.height_in, DPI);
  g_string_append_printf (json, "  \"rows\": %d, \"cols\": %d,\n", ROWS, COLS);
  g_string_append (json, "  \"png_cells\": ");
  append_cells (json, hm, DPI / 72.0);
  g_string_append (json, ",\n  \"pdf_cells\": ");
  append_cells (json, hm, 1.0);
  g_string_append (json, "\n}\n");
  g_autofree char *manifest = g_build_filename (dir, "manifest.json", NULL);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (manifest, json->str, -1, &error))
    {
      fprintf (stderr, "sample-figures: %s\n", error->message);
      ok = FALSE;
    }
  g_string_free (json, TRUE);
  return ok ? 0 : 1;
}
