/* ms-heatmap.c — the heatmap figure: one cached image of the cells, axes
 * and a colorbar around it. */
#include "ms-heatmap.h"
#include "ms-heatmap-private.h"
#include "ms-colorbar.h"
#include "ms-figure-error.h"

#include <math.h>
#include <string.h>

/* Colours per image build: fine enough that a cell's colour is within a
 * rounding step of ms_colormap_map() on its value. */
#define LUT_SIZE 4096

/* Labelled bands along one axis (ms_heatmap_set_x_bands). */
typedef struct {
  char **names;            /* (n_bands) owned */
  int *first, *n;          /* (n_bands) in cells */
  int n_bands;
  MsAxesBand *bands;       /* (n_bands) in data units, names borrowed: filled by ms_heatmap_get_axes_spec */
} Bands;

struct _MsHeatmap {
  gatomicrefcount ref_count;
  /* Owned */
  float *values;             /* (rows, cols) row-major, NaN = no data */
  cairo_surface_t *image;    /* RGB24 cache of the cells (at most cols × rows), NULL after a
                                change: built by the first draw (ensure_image), so a heatmap
                                created, recoloured and given a range colours its cells once */
  char *title;
  char *x_label;
  char *y_label;
  char *colorbar_label;

  int rows, cols;
  MsColormap cmap;
  double want_min, want_max; /* NaN = fit to the data */
  double vmin, vmax;         /* in use: vmin < vmax, once fitted */
  gboolean fitted;           /* vmin, vmax are fitted to the current values and wishes
                                (ensure_range): a heatmap made and then given a range
                                never scans its cells */
  double x0, x_step;
  double y0, y_step;
  gboolean top_down;
  char **x_names, **y_names;   /* (n_x_names), (n_y_names) tick names, entries may be NULL; owned */
  int n_x_names, n_y_names;
  Bands x_bands, y_bands;
  /* The last layout (layout_figure), kept while the heatmap and the
   * drawing context's size, scale and font options stay the same: laying
   * out measures every tick label, and a view lays out a figure to
   * hit-test it and again to draw it. */
  struct {
    gboolean valid;
    double width, height;
    cairo_matrix_t ctm;
    unsigned long font_options;   /* cairo_font_options_hash */
    cairo_surface_type_t surface;
    MsAxesSpec spec;
    MsAxesLayout layout;
    MsRect strip;
  } laid_out;
};

static gboolean
check_shape (int rows, int cols, GError **error)
{
  if (rows < 1 || cols < 1 || rows > MS_HEATMAP_MAX_SIDE || cols > MS_HEATMAP_MAX_SIDE)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "a heatmap of %d × %d cells cannot be drawn: rows and columns must be between 1 and %d "
                   "(downsample longer runs first)", rows, cols, MS_HEATMAP_MAX_SIDE);
      return FALSE;
    }
  return TRUE;
}

/* The image of @values (rows, cols) sampled to @out_rows × @out_cols
 * pixels (at most rows × cols): pixel (k, j) shows the cell whose centre
 * is nearest, (⌊(j + ½)·rows / out_rows⌋, ⌊(k + ½)·cols / out_cols⌋) —
 * what nearest filtering of the whole image onto that many pixels shows. */
static cairo_surface_t *
sampled_image_new (const float *values, int rows, int cols, int out_rows, int out_cols, MsColormap cmap,
                   double vmin, double vmax)
{
  uint32_t lut[LUT_SIZE];
  ms_colormap_fill_lut (cmap, lut, LUT_SIZE);
  uint32_t no_data = ms_rgb_to_pixel (MS_COLORMAP_NO_DATA);
  double scale = (LUT_SIZE - 1) / (vmax - vmin);

  cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_RGB24, out_cols, out_rows);
  unsigned char *data = cairo_image_surface_get_data (image);
  int stride = cairo_image_surface_get_stride (image);
  cairo_surface_flush (image);
  int *col_of = g_new (int, out_cols);
  for (int k = 0; k < out_cols; k++)
    col_of[k] = (int) (((double) k + 0.5) * cols / out_cols);   /* k itself when out_cols = cols */
  for (int j = 0; j < out_rows; j++)
    {
      int r = (int) (((double) j + 0.5) * rows / out_rows);
      const float *src = values + (size_t) r * cols;
      uint32_t *dst = (uint32_t *) (data + (size_t) j * stride);
      for (int k = 0; k < out_cols; k++)
        {
          float v = src[col_of[k]];
          if (isnan (v))
            {
              dst[k] = no_data;
              continue;
            }
          double t = (v - vmin) * scale;
          int i = t <= 0.0 ? 0 : t >= LUT_SIZE - 1 ? LUT_SIZE - 1 : (int) (t + 0.5);
          dst[k] = lut[i];
        }
    }
  g_free (col_of);
  cairo_surface_mark_dirty (image);
  return image;
}

void
ms_heatmap_paint_image (cairo_t *cr, cairo_surface_t *image, gboolean top_down, const MsRect *plot)
{
  int cols = cairo_image_surface_get_width (image), rows = cairo_image_surface_get_height (image);
  cairo_save (cr);
  if (top_down)
    {
      cairo_translate (cr, plot->x, plot->y);
      cairo_scale (cr, plot->width / cols, plot->height / rows);
    }
  else
    {
      cairo_translate (cr, plot->x, plot->y + plot->height);
      cairo_scale (cr, plot->width / cols, -plot->height / rows);
    }
  cairo_set_source_surface (cr, image, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
}

/* After a change of values, colormap or range: the range is fitted again
 * and the cells coloured again when next needed. */
static void
update_image (MsHeatmap *hm)
{
  hm->laid_out.valid = FALSE;   /* the colorbar's ticks follow the range */
  hm->fitted = FALSE;
  g_clear_pointer (&hm->image, cairo_surface_destroy);
}

/* The range in use, fitted now if a change made it stale.  This and
 * ensure_image fill caches inside a const heatmap, so one heatmap must not
 * be drawn from two threads at once. */
static void
ensure_range (const MsHeatmap *hm)
{
  MsHeatmap *cache = (MsHeatmap *) hm;
  if (!cache->fitted)
    ms_colormap_fit_range (hm->cmap, hm->values, (size_t) hm->rows * hm->cols, hm->want_min, hm->want_max,
                           &cache->vmin, &cache->vmax);
  cache->fitted = TRUE;
}

static const cairo_user_data_key_t raster_scale_key;

void
ms_heatmap_mark_raster_target (cairo_surface_t *target, double scale)
{
  double *value = g_new (double, 1);
  *value = scale;
  cairo_surface_set_user_data (target, &raster_scale_key, value, g_free);
}

/* Device pixels per device unit of @target: its device scale for an image,
 * the marked scale for a marked surface, 0 for a vector surface. */
static double
raster_scale (cairo_surface_t *target)
{
  const double *marked = cairo_surface_get_user_data (target, &raster_scale_key);
  if (marked)
    return *marked;
  if (cairo_surface_get_type (target) != CAIRO_SURFACE_TYPE_IMAGE)
    return 0;
  double sx, sy;
  cairo_surface_get_device_scale (target, &sx, &sy);
  return MAX (sx, sy);
}

cairo_surface_t *
ms_heatmap_cell_image (cairo_surface_t **image, cairo_t *cr, const MsRect *plot, const float *values,
                       int rows, int cols, MsColormap cmap, double vmin, double vmax)
{
  int out_rows = rows, out_cols = cols;
  double scale = raster_scale (cairo_get_target (cr));
  if (scale > 0)
    {
      double dx = plot->width, dy = 0, ex = 0, ey = plot->height;
      cairo_user_to_device_distance (cr, &dx, &dy);
      cairo_user_to_device_distance (cr, &ex, &ey);
      out_cols = (int) MIN ((double) cols, ceil (hypot (dx, dy) * scale) + 1);
      out_rows = (int) MIN ((double) rows, ceil (hypot (ex, ey) * scale) + 1);
    }
  if (*image && (cairo_image_surface_get_width (*image) != out_cols
                 || cairo_image_surface_get_height (*image) != out_rows))
    g_clear_pointer (image, cairo_surface_destroy);
  if (!*image)
    *image = sampled_image_new (values, rows, cols, out_rows, out_cols, cmap, vmin, vmax);
  return *image;
}

/* The heatmap's cell image for @plot on @cr (ms_heatmap_cell_image), kept
 * until a change drops it: the one place its cells are coloured. */
static cairo_surface_t *
ensure_image (const MsHeatmap *hm, cairo_t *cr, const MsRect *plot)
{
  MsHeatmap *cache = (MsHeatmap *) hm;
  ensure_range (hm);
  return ms_heatmap_cell_image (&cache->image, cr, plot, hm->values, hm->rows, hm->cols, hm->cmap,
                                hm->vmin, hm->vmax);
}

MsHeatmap *
ms_heatmap_new (const float *values, int rows, int cols, GError **error)
{
  g_return_val_if_fail (values != NULL || rows <= 0 || cols <= 0, NULL);
  if (!check_shape (rows, cols, error))
    return NULL;
  MsHeatmap *hm = g_new0 (MsHeatmap, 1);
  g_atomic_ref_count_init (&hm->ref_count);
  hm->values = g_memdup2 (values, (size_t) rows * cols * sizeof (float));
  hm->rows = rows;
  hm->cols = cols;
  hm->cmap = MS_COLORMAP_VIRIDIS;
  hm->want_min = hm->want_max = NAN;
  hm->x_step = hm->y_step = 1.0;
  hm->top_down = TRUE;
  update_image (hm);
  return hm;
}

static void
clear_bands (Bands *b)
{
  g_strfreev (b->names);
  g_free (b->first);
  g_free (b->n);
  g_free (b->bands);
  memset (b, 0, sizeof *b);
}

static void
set_bands (Bands *b, const char *const *names, const int *first, const int *n,
           int n_bands)
{
  clear_bands (b);
  if (n_bands <= 0)
    return;
  b->names = g_new0 (char *, n_bands + 1);
  for (int i = 0; i < n_bands; i++)
    b->names[i] = g_strdup (names[i] ? names[i] : "");
  b->first = g_memdup2 (first, sizeof (int) * n_bands);
  b->n = g_memdup2 (n, sizeof (int) * n_bands);
  b->bands = g_new0 (MsAxesBand, n_bands);
  b->n_bands = n_bands;
}

void
ms_heatmap_set_x_bands (MsHeatmap *hm, const char *const *names, const int *first, const int *n, int n_bands)
{
  hm->laid_out.valid = FALSE;
  set_bands (&hm->x_bands, names, first, n, n_bands);
}

void
ms_heatmap_set_y_bands (MsHeatmap *hm, const char *const *names, const int *first, const int *n, int n_bands)
{
  hm->laid_out.valid = FALSE;
  set_bands (&hm->y_bands, names, first, n, n_bands);
}

MsHeatmap *
ms_heatmap_ref (MsHeatmap *hm)
{
  g_atomic_ref_count_inc (&hm->ref_count);
  return hm;
}

void
ms_heatmap_unref (MsHeatmap *hm)
{
  if (hm == NULL || !g_atomic_ref_count_dec (&hm->ref_count))
    return;
  g_free (hm->values);
  g_clear_pointer (&hm->image, cairo_surface_destroy);
  g_free (hm->title);
  g_free (hm->x_label);
  g_free (hm->y_label);
  g_free (hm->colorbar_label);
  for (int i = 0; i < hm->n_x_names; i++)
    g_free (hm->x_names[i]);
  for (int i = 0; i < hm->n_y_names; i++)
    g_free (hm->y_names[i]);
  g_free (hm->x_names);
  g_free (hm->y_names);
  clear_bands (&hm->x_bands);
  clear_bands (&hm->y_bands);
  g_free (hm);
}

gboolean
ms_heatmap_set_values (MsHeatmap *hm, const float *values, int rows, int cols, GError **error)
{
  g_return_val_if_fail (values != NULL || rows <= 0 || cols <= 0, FALSE);
  if (!check_shape (rows, cols, error))
    return FALSE;
  g_free (hm->values);
  hm->values = g_memdup2 (values, (size_t) rows * cols * sizeof (float));
  hm->rows = rows;
  hm->cols = cols;
  update_image (hm);
  return TRUE;
}

void
ms_heatmap_set_colormap (MsHeatmap *hm, MsColormap cmap)
{
  if (hm->cmap == cmap)
    return;
  hm->cmap = cmap;
  update_image (hm);
}

void
ms_heatmap_set_range (MsHeatmap *hm, double vmin, double vmax)
{
  hm->want_min = vmin;
  hm->want_max = vmax;
  update_image (hm);
}

void
ms_heatmap_get_range (const MsHeatmap *hm, double *vmin, double *vmax)
{
  ensure_range (hm);
  *vmin = hm->vmin;
  *vmax = hm->vmax;
}

static void
replace_string (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

void
ms_heatmap_set_x_axis (MsHeatmap *hm, double x0, double x_step, const char *label)
{
  g_return_if_fail (x_step != 0.0 && isfinite (x0) && isfinite (x_step));
  hm->laid_out.valid = FALSE;
  hm->x0 = x0;
  hm->x_step = x_step;
  replace_string (&hm->x_label, label);
}

static void
replace_names (char ***names, int *n, const char *const *from, int n_from)
{
  for (int i = 0; i < *n; i++)
    g_free ((*names)[i]);
  g_clear_pointer (names, g_free);
  *n = 0;
  if (!from || n_from <= 0)
    return;
  *names = g_new0 (char *, n_from);
  for (int i = 0; i < n_from; i++)
    (*names)[i] = g_strdup (from[i]);
  *n = n_from;
}

void
ms_heatmap_set_x_names (MsHeatmap *hm, const char *const *names, int n)
{
  hm->laid_out.valid = FALSE;
  replace_names (&hm->x_names, &hm->n_x_names, names, n);
}

void
ms_heatmap_set_y_names (MsHeatmap *hm, const char *const *names, int n)
{
  hm->laid_out.valid = FALSE;
  replace_names (&hm->y_names, &hm->n_y_names, names, n);
}

void
ms_heatmap_set_y_axis (MsHeatmap *hm, double y0, double y_step, const char *label, gboolean top_down)
{
  g_return_if_fail (y_step != 0.0 && isfinite (y0) && isfinite (y_step));
  hm->laid_out.valid = FALSE;
  hm->y0 = y0;
  hm->y_step = y_step;
  hm->top_down = top_down;
  replace_string (&hm->y_label, label);
}

void
ms_heatmap_set_title (MsHeatmap *hm, const char *title)
{
  hm->laid_out.valid = FALSE;
  replace_string (&hm->title, title);
}

void
ms_heatmap_set_colorbar_label (MsHeatmap *hm, const char *label)
{
  hm->laid_out.valid = FALSE;
  replace_string (&hm->colorbar_label, label);
}

int ms_heatmap_get_rows (const MsHeatmap *hm) { return hm->rows; }
int ms_heatmap_get_cols (const MsHeatmap *hm) { return hm->cols; }
const float *ms_heatmap_get_values (const MsHeatmap *hm) { return hm->values; }
MsColormap ms_heatmap_get_colormap (const MsHeatmap *hm) { return hm->cmap; }
const char *ms_heatmap_get_title (const MsHeatmap *hm) { return hm->title; }
const char *ms_heatmap_get_colorbar_label (const MsHeatmap *hm) { return hm->colorbar_label; }
gboolean ms_heatmap_get_top_down (const MsHeatmap *hm) { return hm->top_down; }
cairo_surface_t *ms_heatmap_peek_image (const MsHeatmap *hm) { return hm->image; }

void
ms_heatmap_get_axes_spec (const MsHeatmap *hm, MsAxesSpec *spec)
{
  /* The plot's edges are the outer edges of the first and last cells. */
  double y_first = hm->y0 - hm->y_step / 2, y_last = hm->y0 + (hm->rows - 0.5) * hm->y_step;
  *spec = (MsAxesSpec) {
    .title = hm->title,
    .x_label = hm->x_label,
    .y_label = hm->y_label,
    .x_left = hm->x0 - hm->x_step / 2,
    .x_right = hm->x0 + (hm->cols - 0.5) * hm->x_step,
    .y_top = hm->top_down ? y_first : y_last,
    .y_bottom = hm->top_down ? y_last : y_first,
    .x_min_step = fabs (hm->x_step),
    .y_min_step = fabs (hm->y_step),
  };
  /* names count columns (rows) from 0: ticks are at x0 + c·step */
  if (hm->x_names && hm->x_step == 1 && hm->x0 == floor (hm->x0))
    spec->x_names = (const char *const *) hm->x_names, spec->x_first = (int) hm->x0, spec->n_x_names = hm->n_x_names;
  if (hm->y_names && hm->y_step == 1 && hm->y0 == floor (hm->y0))
    spec->y_names = (const char *const *) hm->y_names, spec->y_first = (int) hm->y0, spec->n_y_names = hm->n_y_names;
  /* bands: cell c spans the data [x0 + (c − ½)·step, x0 + (c + ½)·step] */
  for (int b = 0; b < hm->x_bands.n_bands; b++)
    ((MsHeatmap *) hm)->x_bands.bands[b] = (MsAxesBand) { hm->x_bands.names[b], hm->x0 + (hm->x_bands.first[b] - 0.5) * hm->x_step,
                                          hm->x0 + (hm->x_bands.first[b] + hm->x_bands.n[b] - 0.5) * hm->x_step };
  for (int b = 0; b < hm->y_bands.n_bands; b++)
    ((MsHeatmap *) hm)->y_bands.bands[b] = (MsAxesBand) { hm->y_bands.names[b], hm->y0 + (hm->y_bands.first[b] - 0.5) * hm->y_step,
                                          hm->y0 + (hm->y_bands.first[b] + hm->y_bands.n[b] - 0.5) * hm->y_step };
  spec->x_bands = hm->x_bands.bands, spec->n_x_bands = hm->x_bands.n_bands;
  spec->y_bands = hm->y_bands.bands, spec->n_y_bands = hm->y_bands.n_bands;
}

/* The figure's layout: the panel and the colorbar strip right of it; the
 * kept one when nothing it depends on changed. */
static void
layout_figure (const MsHeatmap *hm, cairo_t *cr, double width, double height, MsAxesSpec *spec,
               MsAxesLayout *layout, MsRect *strip)
{
  MsHeatmap *cache = (MsHeatmap *) hm;
  cairo_matrix_t ctm;
  cairo_get_matrix (cr, &ctm);
  cairo_font_options_t *options = cairo_font_options_create ();
  cairo_get_font_options (cr, options);
  unsigned long font_options = cairo_font_options_hash (options);
  cairo_font_options_destroy (options);
  cairo_surface_type_t surface = cairo_surface_get_type (cairo_get_target (cr));
  if (!(hm->laid_out.valid && hm->laid_out.width == width && hm->laid_out.height == height
        && memcmp (&hm->laid_out.ctm, &ctm, sizeof ctm) == 0 && hm->laid_out.font_options == font_options
        && hm->laid_out.surface == surface))
    {
      MsRect outer = { MS_FIGURE_PAD, MS_FIGURE_PAD, width - 2 * MS_FIGURE_PAD, height - 2 * MS_FIGURE_PAD };
      MsAxesLayout *l = &cache->laid_out.layout;
      ms_heatmap_get_axes_spec (hm, &cache->laid_out.spec);
      ms_axes_layout (cr, &cache->laid_out.spec, &outer, l);
      ensure_range (hm);
      double bar = ms_colorbar_measure (cr, hm->vmin, hm->vmax, hm->colorbar_label, l->plot.height);
      double left = l->reserve_left;
      ms_axes_layout_fixed (cr, &cache->laid_out.spec, &outer, left, outer.width - left - MS_COLORBAR_GAP - bar, l);
      cache->laid_out.strip = (MsRect) { l->plot.x + l->plot.width + MS_COLORBAR_GAP, l->plot.y,
                                         MS_COLORBAR_STRIP_WIDTH, l->plot.height };
      cache->laid_out.width = width, cache->laid_out.height = height;
      cache->laid_out.ctm = ctm;
      cache->laid_out.font_options = font_options;
      cache->laid_out.surface = surface;
      cache->laid_out.valid = TRUE;
    }
  *spec = hm->laid_out.spec;
  *layout = hm->laid_out.layout;
  *strip = hm->laid_out.strip;
}

void
ms_heatmap_draw (const MsHeatmap *hm, cairo_t *cr, double width, double height)
{
  MsAxesSpec spec;
  MsAxesLayout layout;
  MsRect strip;
  layout_figure (hm, cr, width, height, &spec, &layout, &strip);
  ms_heatmap_paint_image (cr, ensure_image (hm, cr, &layout.plot), hm->top_down, &layout.plot);
  ms_axes_draw (cr, &spec, &layout);
  ms_colorbar_draw (cr, &strip, hm->cmap, hm->vmin, hm->vmax, hm->colorbar_label);
}

void
ms_heatmap_draw_func (cairo_t *cr, double width, double height, gpointer heatmap)
{
  ms_heatmap_draw (heatmap, cr, width, height);
}

void
ms_heatmap_get_plot_rect (const MsHeatmap *hm, cairo_t *cr, double width, double height, MsRect *plot)
{
  MsAxesSpec spec;
  MsAxesLayout layout;
  MsRect strip;
  layout_figure (hm, cr, width, height, &spec, &layout, &strip);
  *plot = layout.plot;
}

void
ms_heatmap_cell_rect (const MsHeatmap *hm, const MsRect *plot, int row, int col, MsRect *cell)
{
  double w = plot->width / hm->cols, h = plot->height / hm->rows;
  int from_top = hm->top_down ? row : hm->rows - 1 - row;
  *cell = (MsRect) { plot->x + col * w, plot->y + from_top * h, w, h };
}

gboolean
ms_heatmap_cell_at (const MsHeatmap *hm, const MsRect *plot, double x, double y, int *row, int *col)
{
  double u = (x - plot->x) / plot->width, v = (y - plot->y) / plot->height;
  if (!(u >= 0.0 && u < 1.0 && v >= 0.0 && v < 1.0))
    return FALSE;
  int from_top = MIN ((int) (v * hm->rows), hm->rows - 1);
  *col = MIN ((int) (u * hm->cols), hm->cols - 1);
  *row = hm->top_down ? from_top : hm->rows - 1 - from_top;
  return TRUE;
}
