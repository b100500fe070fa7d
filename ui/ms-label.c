/* ms-label.c — pango layouts with the figure font and reproducible metrics. */
#include "ms-label.h"

#include <math.h>

double
ms_label_size (MsLabelRole role)
{
  switch (role)
    {
    case MS_LABEL_TICK: return 7.0;
    case MS_LABEL_AXIS: return 8.0;
    case MS_LABEL_TITLE: return 9.0;
    }
  g_return_val_if_reached (8.0);
}

static const cairo_user_data_key_t ink_key;

void
ms_figure_set_ink (cairo_t *cr, double r, double g, double b)
{
  double *ink = g_new (double, 3);
  ink[0] = r, ink[1] = g, ink[2] = b;
  cairo_set_user_data (cr, &ink_key, ink, g_free);
}

void
ms_figure_set_source_ink (cairo_t *cr)
{
  const double *ink = cairo_get_user_data (cr, &ink_key);
  if (ink)
    cairo_set_source_rgb (cr, ink[0], ink[1], ink[2]);
  else
    cairo_set_source_rgb (cr, 0, 0, 0);
}

PangoLayout *
ms_label_layout_new (cairo_t *cr, MsLabelRole role, const char *text)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoContext *context = pango_layout_get_context (layout);

  /* Unhinted metrics make a label exactly as wide on a 96 dpi image as in
   * the PDF, so what was measured on one surface fits on every other. */
  cairo_font_options_t *options = cairo_font_options_create ();
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
  pango_cairo_context_set_font_options (context, options);
  cairo_font_options_destroy (options);
  pango_context_set_round_glyph_positions (context, FALSE);
  pango_layout_context_changed (layout);

  PangoFontDescription *desc = pango_font_description_new ();
  pango_font_description_set_family_static (desc, MS_FIGURE_FONT_FAMILY);
  pango_font_description_set_absolute_size (desc, ms_label_size (role) * PANGO_SCALE);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);

  pango_layout_set_text (layout, text ? text : "", -1);
  return layout;
}

void
ms_label_measure (cairo_t *cr, MsLabelRole role, const char *text, double *width, double *height)
{
  g_autoptr (PangoLayout) layout = ms_label_layout_new (cr, role, text);
  PangoRectangle logical;
  pango_layout_get_extents (layout, NULL, &logical);
  if (width)
    *width = (double) logical.width / PANGO_SCALE;
  if (height)
    *height = (double) logical.height / PANGO_SCALE;
}

double
ms_label_line_height (cairo_t *cr, MsLabelRole role)
{
  double h;
  ms_label_measure (cr, role, "0", NULL, &h);
  return h;
}

void
ms_label_draw_within (cairo_t *cr, MsLabelRole role, const char *text, double x, double y,
                      double anchor_x, double anchor_y, gboolean vertical, double max_length)
{
  if (text == NULL || *text == '\0')
    return;
  g_autoptr (PangoLayout) layout = ms_label_layout_new (cr, role, text);
  PangoRectangle logical;
  pango_layout_get_extents (layout, NULL, &logical);
  double w = (double) logical.width / PANGO_SCALE;
  double scale = 1.0;
  if (max_length > 0 && w > max_length)
    {
      scale = MAX (MS_LABEL_MIN_SCALE, max_length / w);
      if (w * scale > max_length)
        {
          pango_layout_set_width (layout, (int) (max_length / scale * PANGO_SCALE));
          pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
          pango_layout_get_extents (layout, NULL, &logical);
        }
    }
  w = (double) logical.width / PANGO_SCALE;
  double h = (double) logical.height / PANGO_SCALE;

  cairo_save (cr);
  cairo_translate (cr, x, y);
  if (vertical)
    cairo_rotate (cr, -G_PI / 2);
  cairo_scale (cr, scale, scale);
  cairo_move_to (cr, -anchor_x * w - (double) logical.x / PANGO_SCALE,
                 -anchor_y * h - (double) logical.y / PANGO_SCALE);
  ms_figure_set_source_ink (cr);
  pango_cairo_update_layout (cr, layout);
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);
}

void
ms_label_draw (cairo_t *cr, MsLabelRole role, const char *text, double x, double y,
               double anchor_x, double anchor_y, gboolean vertical)
{
  ms_label_draw_within (cr, role, text, x, y, anchor_x, anchor_y, vertical, 0.0);
}

/* @text's layout set within @max_width as ms_label_draw_wrapped() draws
 * it, and the scale it is drawn at. */
static PangoLayout *
wrapped_layout (cairo_t *cr, MsLabelRole role, const char *text, double max_width, double *scale)
{
  PangoLayout *layout = ms_label_layout_new (cr, role, text);
  PangoRectangle logical;
  pango_layout_get_extents (layout, NULL, &logical);
  double w = (double) logical.width / PANGO_SCALE;
  *scale = 1.0;
  if (max_width > 0 && w > max_width)
    {
      *scale = MAX (MS_LABEL_MIN_SCALE, max_width / w);
      if (w * *scale > max_width)
        {
          pango_layout_set_width (layout, (int) (max_width / *scale * PANGO_SCALE));
          pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
          pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
        }
    }
  return layout;
}

double
ms_label_wrapped_height (cairo_t *cr, MsLabelRole role, const char *text, double max_width)
{
  if (text == NULL || *text == '\0')
    return 0.0;
  double scale;
  g_autoptr (PangoLayout) layout = wrapped_layout (cr, role, text, max_width, &scale);
  PangoRectangle logical;
  pango_layout_get_extents (layout, NULL, &logical);
  return (double) logical.height / PANGO_SCALE * scale;
}

void
ms_label_draw_wrapped (cairo_t *cr, MsLabelRole role, const char *text, double x, double y, double anchor_y,
                       double max_width)
{
  if (text == NULL || *text == '\0')
    return;
  double scale;
  g_autoptr (PangoLayout) layout = wrapped_layout (cr, role, text, max_width, &scale);
  PangoRectangle logical;
  pango_layout_get_extents (layout, NULL, &logical);
  double w = (double) logical.width / PANGO_SCALE, h = (double) logical.height / PANGO_SCALE;
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, scale, scale);
  cairo_move_to (cr, -0.5 * w - (double) logical.x / PANGO_SCALE, -anchor_y * h - (double) logical.y / PANGO_SCALE);
  ms_figure_set_source_ink (cr);
  pango_cairo_update_layout (cr, layout);
  pango_cairo_show_layout (cr, layout);
  cairo_restore (cr);
}
