/* ms-colormap.c — evaluating colormaps and fitting value ranges.
 *
 * The sequential maps interpolate their published 256-entry tables
 * (ms-colormap-tables.c).  The diverging map is ColorBrewer's 11-class RdBu,
 * reversed so negatives are blue, with its near-white centre (#f7f7f7)
 * replaced by pure white so that a difference of exactly 0 disappears into
 * the page.
 */
#include "ms-colormap.h"
#include "ms-colormap-private.h"
#include "ms-figure-error.h"

#include <math.h>

/* (11, rgb), t = k / 10; entry 5 is t = 0.5, the centre. */
static const uint8_t diverging_table[11][3] = {
  { 0x05, 0x30, 0x61 }, { 0x21, 0x66, 0xac }, { 0x43, 0x93, 0xc3 }, { 0x92, 0xc5, 0xde },
  { 0xd1, 0xe5, 0xf0 }, { 0xff, 0xff, 0xff }, { 0xfd, 0xdb, 0xc7 }, { 0xf4, 0xa5, 0x82 },
  { 0xd6, 0x60, 0x4d }, { 0xb2, 0x18, 0x2b }, { 0x67, 0x00, 0x1f },
};

static const struct {
  const char *name;
  MsColormap cmap;
} colormap_names[] = {
  { "viridis", MS_COLORMAP_VIRIDIS },
  { "magma", MS_COLORMAP_MAGMA },
  { "cividis", MS_COLORMAP_CIVIDIS },
  { "diverging", MS_COLORMAP_DIVERGING },
};

gboolean
ms_colormap_from_name (const char *name, MsColormap *cmap, GError **error)
{
  for (size_t i = 0; i < G_N_ELEMENTS (colormap_names); i++)
    if (g_strcmp0 (name, colormap_names[i].name) == 0)
      {
        *cmap = colormap_names[i].cmap;
        return TRUE;
      }
  g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_COLORMAP,
               "unknown colormap '%s' (valid colormaps: %s)", name ? name : "(null)", MS_COLORMAP_NAMES);
  return FALSE;
}

const char *
ms_colormap_to_name (MsColormap cmap)
{
  for (size_t i = 0; i < G_N_ELEMENTS (colormap_names); i++)
    if (colormap_names[i].cmap == cmap)
      return colormap_names[i].name;
  g_return_val_if_reached ("viridis");
}

gboolean
ms_colormap_is_diverging (MsColormap cmap)
{
  return cmap == MS_COLORMAP_DIVERGING;
}

static MsRgb
lerp_float_table (const float (*table)[3], int n, double t)
{
  double x = t * (n - 1);
  int k = (int) floor (x);
  if (k >= n - 1)
    k = n - 2;
  double f = x - k;
  const float *a = table[k], *b = table[k + 1];
  return (MsRgb) { a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2]) };
}

static MsRgb
lerp_byte_table (const uint8_t (*table)[3], int n, double t)
{
  double x = t * (n - 1);
  int k = (int) floor (x);
  if (k >= n - 1)
    k = n - 2;
  double f = x - k;
  const uint8_t *a = table[k], *b = table[k + 1];
  return (MsRgb) { (a[0] + f * (b[0] - a[0])) / 255.0, (a[1] + f * (b[1] - a[1])) / 255.0,
                   (a[2] + f * (b[2] - a[2])) / 255.0 };
}

MsRgb
ms_colormap_eval (MsColormap cmap, double t)
{
  if (isnan (t))
    return MS_COLORMAP_NO_DATA;
  t = CLAMP (t, 0.0, 1.0);
  switch (cmap)
    {
    case MS_COLORMAP_VIRIDIS: return lerp_float_table (ms_colormap_viridis, 256, t);
    case MS_COLORMAP_MAGMA: return lerp_float_table (ms_colormap_magma, 256, t);
    case MS_COLORMAP_CIVIDIS: return lerp_float_table (ms_colormap_cividis, 256, t);
    case MS_COLORMAP_DIVERGING: return lerp_byte_table (diverging_table, 11, t);
    }
  g_return_val_if_reached (MS_COLORMAP_NO_DATA);
}

MsRgb
ms_colormap_map (MsColormap cmap, double value, double vmin, double vmax)
{
  if (isnan (value))
    return MS_COLORMAP_NO_DATA;
  return ms_colormap_eval (cmap, (value - vmin) / (vmax - vmin));
}

void
ms_colormap_fit_range (MsColormap cmap, const float *values, size_t n,
                       double want_min, double want_max, double *vmin, double *vmax)
{
  double lo = INFINITY, hi = -INFINITY;
  gboolean given = isfinite (want_min) && isfinite (want_max);   /* then the data does not matter */
  for (size_t i = 0; i < n && !given; i++)
    if (isfinite (values[i]))
      {
        lo = MIN (lo, values[i]);
        hi = MAX (hi, values[i]);
      }
  if (!isfinite (lo))  /* no data at all */
    {
      lo = 0.0;
      hi = 1.0;
    }
  double a = isfinite (want_min) ? want_min : lo;
  double b = isfinite (want_max) ? want_max : hi;
  if (a > b)
    {
      double s = a;
      a = b;
      b = s;
    }
  if (ms_colormap_is_diverging (cmap))
    {
      double m = MAX (fabs (a), fabs (b));
      if (!(m > 0.0))
        m = 1.0;
      a = -m;
      b = m;
    }
  else if (a == b)
    {
      double d = a != 0.0 ? fabs (a) * 0.1 : 0.5;
      a -= d;
      b += d;
    }
  *vmin = a;
  *vmax = b;
}

uint32_t
ms_rgb_to_pixel (MsRgb c)
{
  uint32_t r = (uint32_t) lround (CLAMP (c.r, 0.0, 1.0) * 255.0);
  uint32_t g = (uint32_t) lround (CLAMP (c.g, 0.0, 1.0) * 255.0);
  uint32_t b = (uint32_t) lround (CLAMP (c.b, 0.0, 1.0) * 255.0);
  return 0xff000000u | r << 16 | g << 8 | b;
}

void
ms_colormap_fill_lut (MsColormap cmap, uint32_t *lut, int n)
{
  g_return_if_fail (n >= 2);
  for (int i = 0; i < n; i++)
    lut[i] = ms_rgb_to_pixel (ms_colormap_eval (cmap, (double) i / (n - 1)));
}
