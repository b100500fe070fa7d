/* ms-colorbar.c — drawing the colour scale. */
#include "ms-colorbar.h"
#include "ms-label.h"

#define TICK_PAD 2.0
#define LABEL_PAD 3.0
/* Odd, so the middle row is t = 0.5 exactly: white on the diverging map. */
#define STRIP_ROWS 255

double
ms_colorbar_measure (cairo_t *cr, double vmin, double vmax, const char *label, double height)
{
  double ticks[MS_AXES_MAX_TICKS], step;
  int n = ms_axis_choose_ticks (cr, vmin, vmax, 0.0, height, FALSE, ticks, &step);
  double width = MS_COLORBAR_STRIP_WIDTH + MS_FIGURE_TICK_LENGTH + TICK_PAD
                 + ms_axis_widest_tick_label (cr, ticks, n, step);
  if (label)
    width += LABEL_PAD + ms_label_line_height (cr, MS_LABEL_AXIS);
  return width;
}

void
ms_colorbar_draw (cairo_t *cr, const MsRect *strip, MsColormap cmap, double vmin, double vmax,
                  const char *label)
{
  g_return_if_fail (vmin < vmax);

  /* (STRIP_ROWS, 1): row 0 is the top, vmax. */
  cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1, STRIP_ROWS);
  unsigned char *data = cairo_image_surface_get_data (image);
  int stride = cairo_image_surface_get_stride (image);
  for (int i = 0; i < STRIP_ROWS; i++)
    *(uint32_t *) (data + (size_t) i * stride) =
      ms_rgb_to_pixel (ms_colormap_eval (cmap, 1.0 - (i + 0.5) / STRIP_ROWS));
  cairo_surface_mark_dirty (image);

  cairo_save (cr);
  cairo_save (cr);
  cairo_translate (cr, strip->x, strip->y);
  cairo_scale (cr, strip->width, strip->height / STRIP_ROWS);
  cairo_set_source_surface (cr, image, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (image);

  ms_figure_set_source_ink (cr);
  cairo_set_line_width (cr, MS_FIGURE_LINE_WIDTH);
  cairo_rectangle (cr, strip->x, strip->y, strip->width, strip->height);
  cairo_stroke (cr);

  double ticks[MS_AXES_MAX_TICKS], step;
  int n = ms_axis_choose_ticks (cr, vmin, vmax, 0.0, strip->height, FALSE, ticks, &step);
  double right = strip->x + strip->width;
  for (int i = 0; i < n; i++)
    {
      char text[64];
      double y = strip->y + strip->height * (1.0 - (ticks[i] - vmin) / (vmax - vmin));
      cairo_move_to (cr, right, y);
      cairo_line_to (cr, right + MS_FIGURE_TICK_LENGTH, y);
      cairo_stroke (cr);
      ms_axis_format_tick (ticks[i], step, text, sizeof text);
      ms_label_draw (cr, MS_LABEL_TICK, text, right + MS_FIGURE_TICK_LENGTH + TICK_PAD, y, 0.0, 0.5, FALSE);
    }
  double label_x = right + MS_FIGURE_TICK_LENGTH + TICK_PAD + ms_axis_widest_tick_label (cr, ticks, n, step)
                   + LABEL_PAD;
  ms_label_draw_within (cr, MS_LABEL_AXIS, label, label_x, strip->y + strip->height / 2, 0.5, 0.0, TRUE,
                        strip->height);
  cairo_restore (cr);
}
