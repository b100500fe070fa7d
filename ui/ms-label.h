/* ms-label.h — the text of figures: one font, three sizes.
 *
 * Every label of every figure is set in DejaVu Sans (Debian's
 * fonts-dejavu-core) at a fixed size in points, so a figure exported at a
 * paper's column width has text the size of the paper's captions, and the
 * same layout comes out on image, PDF and SVG surfaces: hinting is off and
 * glyph positions are not rounded.  Sizes are absolute in user units, which
 * the figure code keeps equal to points.
 */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <pango/pangocairo.h>

G_BEGIN_DECLS

#define MS_FIGURE_FONT_FAMILY "DejaVu Sans"

typedef enum {
  MS_LABEL_TICK,   /* tick labels, legend entries: 7 pt */
  MS_LABEL_AXIS,   /* axis and colorbar labels: 8 pt */
  MS_LABEL_TITLE,  /* titles: 9 pt */
} MsLabelRole;

/* The size of @role's font in points (user units). */
double ms_label_size (MsLabelRole role);

/* Returns an owned layout of @text (UTF-8, may be "") in @role's font, set
 * up for @cr as described above. */
PangoLayout *ms_label_layout_new (cairo_t *cr, MsLabelRole role, const char *text);

/* The logical extents of @text, in user units.  @width or @height may be NULL. */
void ms_label_measure (cairo_t *cr, MsLabelRole role, const char *text, double *width, double *height);

/* The height of one line in @role's font. */
double ms_label_line_height (cairo_t *cr, MsLabelRole role);

/* The ink of a figure drawn on @cr: the colour of its text, axes and
 * frames.  Black unless ms_figure_set_ink() set another on this context
 * (a figure on a dark background sets a light ink; the background is the
 * caller's to paint).  Kept as @cr's user data, so each context, and each
 * thread drawing on its own context, has its own. */
void ms_figure_set_ink (cairo_t *cr, double r, double g, double b);
/* Makes the ink @cr's source. */
void ms_figure_set_source_ink (cairo_t *cr);

/* Draws @text in the figure's ink so that the point (@anchor_x, @anchor_y) of its box —
 * (0, 0) its top left, (1, 1) its bottom right, in reading direction — lands
 * on (@x, @y).  @vertical turns the text 90° counter-clockwise (reads bottom
 * to top, as y-axis labels do).  NULL or "" draws nothing. */
void ms_label_draw (cairo_t *cr, MsLabelRole role, const char *text, double x, double y,
                    double anchor_x, double anchor_y, gboolean vertical);

/* ms_label_draw(), kept within @max_length points along the text: a label
 * that is too long is first set smaller (down to MS_LABEL_MIN_SCALE of its
 * size), then ellipsized, so titles and axis labels never run off the
 * figure.  @max_length ≤ 0 means no limit. */
#define MS_LABEL_MIN_SCALE 0.75
void ms_label_draw_within (cairo_t *cr, MsLabelRole role, const char *text, double x, double y,
                           double anchor_x, double anchor_y, gboolean vertical, double max_length);

/* A title kept within @max_width: set smaller first (down to
 * MS_LABEL_MIN_SCALE), then wrapped onto more lines, centred — never cut
 * or ellipsized.  ms_label_wrapped_height() is the height it then takes
 * (one line's when it fits); ms_label_draw_wrapped() puts the top centre
 * (@anchor_y 0) or bottom centre (@anchor_y 1) of the block at (@x, @y). */
double ms_label_wrapped_height (cairo_t *cr, MsLabelRole role, const char *text, double max_width);
void ms_label_draw_wrapped (cairo_t *cr, MsLabelRole role, const char *text, double x, double y, double anchor_y,
                            double max_width);

G_END_DECLS
