/* ms-colormap.h — mapping values to colours.
 *
 * Three sequential maps (viridis, magma, cividis: perceptually uniform,
 * readable in greyscale and by colour-blind readers) and one diverging
 * blue–white–red map for differences, white at the centre.  A map is a
 * function of t ∈ [0, 1]; ms_colormap_map() turns a value into t through a
 * range [vmin, vmax], and ms_colormap_fit_range() chooses that range — for
 * the diverging map always symmetric, ±max|v|, so 0 is white.
 *
 * Colours are sRGB with components in [0, 1].  NaN means "no data" and maps
 * to a neutral grey that none of the maps uses for data.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  MS_COLORMAP_VIRIDIS,
  MS_COLORMAP_MAGMA,
  MS_COLORMAP_CIVIDIS,
  MS_COLORMAP_DIVERGING,
} MsColormap;

/* The valid names, for messages and --help texts. */
#define MS_COLORMAP_NAMES "viridis, magma, cividis, diverging"

typedef struct {
  double r, g, b;
} MsRgb;

/* The colour of NaN cells: neutral grey 0.8. */
#define MS_COLORMAP_NO_DATA ((MsRgb) { 0.8, 0.8, 0.8 })

/* Parses "viridis", "magma", "cividis" or "diverging" (exact, lower case).
 * Returns FALSE with MS_FIGURE_ERROR_COLORMAP naming the valid maps. */
gboolean ms_colormap_from_name (const char *name, MsColormap *cmap, GError **error);

/* The name ms_colormap_from_name() parses back; static storage. */
const char *ms_colormap_to_name (MsColormap cmap);

gboolean ms_colormap_is_diverging (MsColormap cmap);

/* The colour at @t, clamped to [0, 1]; NaN gives MS_COLORMAP_NO_DATA.
 * Sequential maps interpolate linearly between their published 256 entries
 * (t = k/255 is entry k exactly); t = 0 is the dark end. */
MsRgb ms_colormap_eval (MsColormap cmap, double t);

/* The colour of @value over [@vmin, @vmax] (vmin < vmax): t = (value − vmin)
 * / (vmax − vmin), clamped.  NaN gives MS_COLORMAP_NO_DATA. */
MsRgb ms_colormap_map (MsColormap cmap, double value, double vmin, double vmax);

/* Chooses the range to map @values[n] (NaN skipped) with: @want_min and
 * @want_max are used where finite, the data's min / max where NaN.  The
 * diverging map widens the result to ±max(|vmin|, |vmax|).  An empty or
 * constant range is widened so that vmin < vmax always holds on return. */
void ms_colormap_fit_range (MsColormap cmap, const float *values, size_t n,
                            double want_min, double want_max, double *vmin, double *vmax);

/* @c as an opaque cairo pixel (CAIRO_FORMAT_RGB24 / ARGB32: 0xffRRGGBB),
 * each component rounded to 8 bits. */
uint32_t ms_rgb_to_pixel (MsRgb c);

/* Fills @lut[n] (n ≥ 2) with the pixels of t = i / (n − 1), for building
 * images of many values at once. */
void ms_colormap_fill_lut (MsColormap cmap, uint32_t *lut, int n);

G_END_DECLS
