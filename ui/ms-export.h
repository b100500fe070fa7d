/* ms-export.h — writing a figure to PNG, SVG or PDF at a paper's size.
 *
 * A figure is anything drawn by an MsFigureDrawFunc: a plain function of a
 * cairo context and a size in points (1/72 in), like ms_heatmap_draw_func().
 * The same function draws the GUI's view, an export and a test's image, so
 * an exported figure is exactly what the GUI shows.
 *
 * Exports paint a white background, then the figure.  PNG is rendered at
 * the given DPI and written with libpng, with a pHYs chunk recording that
 * DPI; SVG and PDF are vector (cairo), with heatmap images kept sharp
 * (SVG image-rendering, PDF /Interpolate false) and, in PDF, the fonts
 * embedded as TrueType/CFF subsets.  Every export writes a temporary file
 * beside the target and renames it into place, so a failed export never
 * leaves a partial figure, nor replaces an existing one.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MS_FIGURE_FORMAT_PNG,
  MS_FIGURE_FORMAT_SVG,
  MS_FIGURE_FORMAT_PDF,
} MsFigureFormat;

/* Draws a figure into (0, 0)–(@width, @height) of @cr's user space, in
 * points.  Must leave @cr's state as it found it. */
typedef void (*MsFigureDrawFunc) (cairo_t *cr, double width, double height, gpointer user_data);

/* The format named by @path's extension: .png, .svg or .pdf, any case.
 * Anything else is MS_FIGURE_ERROR_FORMAT naming the path. */
gboolean ms_figure_format_from_path (const char *path, MsFigureFormat *format, GError **error);

/* Where one view of a set ("Export All…", `export --view all`) is written:
 * @path with "-@view" before its extension — "figs/copy.pdf" and
 * "retention" give "figs/copy-retention.pdf"; no extension: appended.
 * Owned. */
char *ms_figure_path_for_view (const char *path, const char *view);

typedef struct {
  double width_in;
  double height_in;
} MsFigureSize;

/* Height / width of preset sizes. */
#define MS_FIGURE_ASPECT 0.62
#define MS_FIGURE_DPI 300.0
#define MS_FIGURE_MAX_INCHES 100.0
#define MS_FIGURE_SIZES "single (3.5 in wide), double (7 in), neurips (5.5 in), or WxH in inches such as 4x2.5"

/* Parses a size: "single" (one column, 3.5 in), "double" (two columns,
 * 7 in) or "neurips" (NeurIPS text width, 5.5 in), each MS_FIGURE_ASPECT
 * times as high as wide; or a custom "WxH" in inches (0 < W, H ≤
 * MS_FIGURE_MAX_INCHES).  Anything else is MS_FIGURE_ERROR_PRESET listing
 * the valid sizes. */
gboolean ms_figure_size_parse (const char *text, MsFigureSize *size, GError **error);

/* Writes the figure @draw draws at @width_in × @height_in inches to @path,
 * in the format of its extension; @dpi sets the PNG's pixels and pHYs (and
 * the resolution of any raster fallback in SVG/PDF).  Sizes must be in
 * (0, MS_FIGURE_MAX_INCHES], @dpi in [10, 4800], a PNG at most 32767 pixels
 * a side (MS_FIGURE_ERROR_INPUT).  Returns FALSE with MS_FIGURE_ERROR_IO
 * naming @path when it cannot be written — @path is then untouched — and
 * MS_FIGURE_ERROR_DRAW when cairo failed while drawing. */
gboolean ms_figure_export (const char *path, double width_in, double height_in, double dpi,
                           MsFigureDrawFunc draw, gpointer user_data, GError **error);

/* Renders the figure as ms_figure_export() renders a PNG: an owned
 * CAIRO_FORMAT_ARGB32 surface of round(width_in·dpi) × round(height_in·dpi)
 * pixels, white background, user space in points.  NULL with @error under
 * the same size limits. */
cairo_surface_t *ms_figure_render_image (double width_in, double height_in, double dpi,
                                         MsFigureDrawFunc draw, gpointer user_data, GError **error);

G_END_DECLS
