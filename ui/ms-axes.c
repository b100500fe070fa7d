/* ms-axes.c — nice ticks, tick labels, and laying out one framed panel. */
#include "ms-axes.h"
#include "ms-label.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TICK_PAD 2.0    /* tick end → tick label */
#define LABEL_PAD 3.0   /* tick labels → axis label */
#define TITLE_PAD 4.0   /* title → band or plot */
#define BAND_PAD 3.0    /* band → plot */

int
ms_axis_nice_ticks (double lo, double hi, int max_ticks, double min_step, double *ticks, double *step)
{
  g_return_val_if_fail (max_ticks >= 2, 0);
  if (step)
    *step = 0.0;
  if (!isfinite (lo) || !isfinite (hi) || !isfinite (hi - lo))
    return 0;
  if (lo > hi)
    {
      double s = lo;
      lo = hi;
      hi = s;
    }
  if (lo == hi)
    {
      ticks[0] = lo;
      if (step)
        *step = min_step > 0.0 ? min_step : 1.0;
      return 1;
    }

  /* Candidate steps mantissa × 10^e, from just below range / max_ticks up.
   * A negative exponent divides so that 3 × 0.1 comes out as 0.3. */
  static const int mantissas[3] = { 1, 2, 5 };
  int e0 = (int) floor (log10 ((hi - lo) / max_ticks));
  for (int c = 0; c < 3 * 40; c++)
    {
      int m = mantissas[c % 3], e = e0 + c / 3;
      double p = pow (10.0, fabs ((double) e));
      double s = e >= 0 ? m * p : m / p;
      if (s < min_step * (1.0 - 1e-12))
        continue;
      double k0 = ceil (lo / s - 1e-9), k1 = floor (hi / s + 1e-9);
      double n = k1 - k0 + 1;
      if (n > max_ticks)
        continue;
      for (int i = 0; i < (int) n; i++)
        {
          double k = k0 + i;
          ticks[i] = e >= 0 ? k * m * p : k * m / p;
          if (ticks[i] == 0.0)
            ticks[i] = 0.0;  /* no −0 */
        }
      if (step)
        *step = s;
      return n > 0 ? (int) n : 0;
    }
  return 0;
}

void
ms_axis_format_tick (double value, double step, char *buf, size_t size)
{
  char tmp[64];
  if (fabs (value) < step * 1e-9)
    value = 0.0;
  int decimals = step >= 1.0 || !(step > 0.0) ? 0 : (int) ceil (-log10 (step) - 1e-9);
  if (fabs (value) >= 1e6 || decimals > 6)
    snprintf (tmp, sizeof tmp, "%.3g", value);
  else
    snprintf (tmp, sizeof tmp, "%.*f", decimals, value);
  if (tmp[0] == '-')
    snprintf (buf, size, "\u2212%s", tmp + 1);
  else
    snprintf (buf, size, "%s", tmp);
}

double
ms_axis_widest_tick_label (cairo_t *cr, const double *ticks, int n, double step)
{
  double widest = 0.0;
  for (int i = 0; i < n; i++)
    {
      char label[64];
      double w;
      ms_axis_format_tick (ticks[i], step, label, sizeof label);
      ms_label_measure (cr, MS_LABEL_TICK, label, &w, NULL);
      widest = MAX (widest, w);
    }
  return widest;
}

int
ms_axis_choose_ticks (cairo_t *cr, double a, double b, double min_step, double length, gboolean horizontal,
              double *ticks, double *step)
{
  double line = ms_label_line_height (cr, MS_LABEL_TICK);
  double per_tick = horizontal ? 28.0 : 2.4 * line;
  int max_n = CLAMP ((int) floor (length / per_tick) + 1, 2, MS_AXES_MAX_TICKS);
  int n = 0;
  for (; max_n >= 2; max_n--)
    {
      n = ms_axis_nice_ticks (a, b, max_n, min_step, ticks, step);
      double spacing = *step / fabs (b - a) * length;
      double need = horizontal ? ms_axis_widest_tick_label (cr, ticks, n, *step) + 5.0 : 1.8 * line;
      if (n < 2 || spacing >= need)
        break;
    }
  return n;
}

/* Tick @value's label on the x (@horizontal) or y axis of @spec. */
static void
tick_label (const MsAxesSpec *spec, gboolean horizontal, double value, double step, char *buf, size_t size)
{
  const char *const *names = horizontal ? spec->x_names : spec->y_names;
  int first = horizontal ? spec->x_first : spec->y_first, n = horizontal ? spec->n_x_names : spec->n_y_names;
  double i = value - first;
  if (names && i == floor (i) && i >= 0 && i < n)
    {
      snprintf (buf, size, "%s", names[(int) i] ? names[(int) i] : "");
      return;
    }
  ms_axis_format_tick (value, step, buf, size);
}

/* A tick at every whole index of [@a, @b] when the axis has names and
 * they fit side by side (@horizontal) or a line apart: the count, or 0 to
 * choose nice numbers instead. */
static int
name_ticks (cairo_t *cr, const MsAxesSpec *spec, gboolean horizontal, double length, double *ticks, double *step)
{
  const char *const *names = horizontal ? spec->x_names : spec->y_names;
  int n = horizontal ? spec->n_x_names : spec->n_y_names;
  double a = horizontal ? spec->x_left : spec->y_bottom, b = horizontal ? spec->x_right : spec->y_top;
  double lo = ceil (MIN (a, b)), hi = floor (MAX (a, b));
  int count = (int) (hi - lo) + 1;
  if (!names || count < 1 || count > MS_AXES_MAX_TICKS)
    return 0;
  double spacing = length / fabs (b - a), need = 1.1 * ms_label_line_height (cr, MS_LABEL_TICK);
  for (int i = 0; horizontal && i < n; i++)
    if (names[i])
      {
        double w;
        ms_label_measure (cr, MS_LABEL_TICK, names[i], &w, NULL);
        need = MAX (need, w + 3.0);
      }
  if (spacing < need)
    return 0;
  for (int i = 0; i < count; i++)
    ticks[i] = lo + i;
  *step = 1.0;
  return count;
}

/* The widest y tick label of @layout. */
static double
widest_y_label (cairo_t *cr, const MsAxesSpec *spec, const MsAxesLayout *layout)
{
  if (!spec->y_names)
    return ms_axis_widest_tick_label (cr, layout->y_ticks, layout->n_y_ticks, layout->y_step);
  double widest = 0.0;
  for (int i = 0; i < layout->n_y_ticks; i++)
    {
      char label[64];
      double w;
      tick_label (spec, FALSE, layout->y_ticks[i], layout->y_step, label, sizeof label);
      ms_label_measure (cr, MS_LABEL_TICK, label, &w, NULL);
      widest = MAX (widest, w);
    }
  return widest;
}

static double
snap (double v)
{
  return round (v);
}

/* Rounds @r's edges to device pixels, keeping it at least one unit large. */
static void
snap_rect (cairo_t *cr, MsRect *r)
{
  double x0 = r->x, y0 = r->y, x1 = r->x + r->width, y1 = r->y + r->height;
  cairo_user_to_device (cr, &x0, &y0);
  cairo_user_to_device (cr, &x1, &y1);
  x0 = snap (x0), y0 = snap (y0), x1 = snap (x1), y1 = snap (y1);
  cairo_device_to_user (cr, &x0, &y0);
  cairo_device_to_user (cr, &x1, &y1);
  if (x1 - x0 >= 1.0 && y1 - y0 >= 1.0)
    *r = (MsRect) { x0, y0, x1 - x0, y1 - y0 };
}

/* The vertical part of the layout, which depends on no tick values: the
 * plot's top and height, and the y ticks for that height. */
static double
layout_vertical (cairo_t *cr, const MsAxesSpec *spec, const MsRect *outer, MsAxesLayout *layout)
{
  double tick_h = ms_label_line_height (cr, MS_LABEL_TICK);
  /* the title wraps within the panel's outer width, so its height is known now */
  layout->title_x = outer->x + outer->width / 2, layout->title_width = outer->width;
  double top = outer->y + (spec->title ? ms_label_wrapped_height (cr, MS_LABEL_TITLE, spec->title, outer->width)
                                           + TITLE_PAD
                                       : tick_h / 2);
  if (spec->band_height > 0.0)
    top += spec->band_height + BAND_PAD;
  double bottom = outer->y + outer->height - (MS_FIGURE_TICK_LENGTH + TICK_PAD + tick_h);
  if (spec->x_label)
    bottom -= LABEL_PAD + ms_label_line_height (cr, MS_LABEL_AXIS);
  layout->plot.y = top;
  layout->plot.height = MAX (1.0, bottom - top);
  layout->n_y_ticks = name_ticks (cr, spec, FALSE, layout->plot.height, layout->y_ticks, &layout->y_step);
  if (layout->n_y_ticks == 0)
    layout->n_y_ticks = ms_axis_choose_ticks (cr, spec->y_bottom, spec->y_top, spec->y_min_step,
                                              layout->plot.height, FALSE, layout->y_ticks, &layout->y_step);

  /* Room the y axis needs left of the plot. */
  double left = MS_FIGURE_TICK_LENGTH + TICK_PAD + widest_y_label (cr, spec, layout);
  if (spec->y_label)
    left += LABEL_PAD + ms_label_line_height (cr, MS_LABEL_AXIS);
  return left;
}

/* How far the outermost x tick labels reach beyond the plot's left and
 * right edges. */
static void
x_overhangs (cairo_t *cr, const MsAxesSpec *spec, const MsAxesLayout *layout, double *over_left,
             double *over_right)
{
  *over_left = *over_right = 0.0;
  if (layout->n_x_ticks == 0)
    return;
  char label[64];
  double w;
  tick_label (spec, TRUE, layout->x_ticks[0], layout->x_step, label, sizeof label);
  ms_label_measure (cr, MS_LABEL_TICK, label, &w, NULL);
  double x = ms_axes_map_x (spec, layout, layout->x_ticks[0]);
  *over_left = MAX (0.0, layout->plot.x - (x - w / 2));
  tick_label (spec, TRUE, layout->x_ticks[layout->n_x_ticks - 1], layout->x_step, label, sizeof label);
  ms_label_measure (cr, MS_LABEL_TICK, label, &w, NULL);
  x = ms_axes_map_x (spec, layout, layout->x_ticks[layout->n_x_ticks - 1]);
  *over_right = MAX (0.0, x + w / 2 - (layout->plot.x + layout->plot.width));
}

static void
layout_horizontal (cairo_t *cr, const MsAxesSpec *spec, double plot_x, double plot_width, MsAxesLayout *layout)
{
  layout->plot.x = plot_x;
  layout->plot.width = MAX (1.0, plot_width);
  layout->n_x_ticks = name_ticks (cr, spec, TRUE, layout->plot.width, layout->x_ticks, &layout->x_step);
  if (layout->n_x_ticks == 0)
    layout->n_x_ticks = ms_axis_choose_ticks (cr, spec->x_left, spec->x_right, spec->x_min_step,
                                              layout->plot.width, TRUE, layout->x_ticks, &layout->x_step);
}

static void
finish (cairo_t *cr, const MsAxesSpec *spec, MsAxesLayout *layout)
{
  snap_rect (cr, &layout->plot);
  layout->band = (MsRect) { layout->plot.x, layout->plot.y - BAND_PAD - spec->band_height,
                            layout->plot.width, spec->band_height };
}

void
ms_axes_layout (cairo_t *cr, const MsAxesSpec *spec, const MsRect *outer, MsAxesLayout *layout)
{
  memset (layout, 0, sizeof *layout);
  double left = layout_vertical (cr, spec, outer, layout);

  /* Two passes: the labels of a first choice of x ticks tell how far they
   * overhang the plot, which narrows the plot for the final choice. */
  double right = 1.0, over_left, over_right;
  layout_horizontal (cr, spec, outer->x + left, outer->width - left - right, layout);
  x_overhangs (cr, spec, layout, &over_left, &over_right);
  left = MAX (left, over_left);
  right = MAX (right, over_right);
  layout_horizontal (cr, spec, outer->x + left, outer->width - left - right, layout);
  layout->reserve_left = left;
  layout->reserve_right = right;
  finish (cr, spec, layout);
}

void
ms_axes_layout_fixed (cairo_t *cr, const MsAxesSpec *spec, const MsRect *outer,
                      double left, double plot_width, MsAxesLayout *layout)
{
  memset (layout, 0, sizeof *layout);
  layout_vertical (cr, spec, outer, layout);
  layout_horizontal (cr, spec, outer->x + left, plot_width, layout);
  double over_left, over_right;
  x_overhangs (cr, spec, layout, &over_left, &over_right);
  layout->reserve_left = left;
  layout->reserve_right = MAX (1.0, over_right);
  finish (cr, spec, layout);
}

double
ms_axes_map_x (const MsAxesSpec *spec, const MsAxesLayout *layout, double x)
{
  return layout->plot.x + (x - spec->x_left) / (spec->x_right - spec->x_left) * layout->plot.width;
}

double
ms_axes_map_y (const MsAxesSpec *spec, const MsAxesLayout *layout, double y)
{
  return layout->plot.y + layout->plot.height
         - (y - spec->y_bottom) / (spec->y_top - spec->y_bottom) * layout->plot.height;
}

void
ms_axes_draw (cairo_t *cr, const MsAxesSpec *spec, const MsAxesLayout *layout)
{
  const MsRect *p = &layout->plot;
  double bottom = p->y + p->height;
  double tick_h = ms_label_line_height (cr, MS_LABEL_TICK);
  char label[64];

  cairo_save (cr);
  ms_figure_set_source_ink (cr);
  cairo_set_line_width (cr, MS_FIGURE_LINE_WIDTH);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  cairo_rectangle (cr, p->x, p->y, p->width, p->height);
  cairo_stroke (cr);

  for (int i = 0; i < layout->n_x_ticks; i++)
    {
      double x = ms_axes_map_x (spec, layout, layout->x_ticks[i]);
      cairo_move_to (cr, x, bottom);
      cairo_line_to (cr, x, bottom + MS_FIGURE_TICK_LENGTH);
      cairo_stroke (cr);
      tick_label (spec, TRUE, layout->x_ticks[i], layout->x_step, label, sizeof label);
      ms_label_draw (cr, MS_LABEL_TICK, label, x, bottom + MS_FIGURE_TICK_LENGTH + TICK_PAD, 0.5, 0.0, FALSE);
    }
  for (int i = 0; i < layout->n_y_ticks; i++)
    {
      double y = ms_axes_map_y (spec, layout, layout->y_ticks[i]);
      cairo_move_to (cr, p->x, y);
      cairo_line_to (cr, p->x - MS_FIGURE_TICK_LENGTH, y);
      cairo_stroke (cr);
      tick_label (spec, FALSE, layout->y_ticks[i], layout->y_step, label, sizeof label);
      ms_label_draw (cr, MS_LABEL_TICK, label, p->x - MS_FIGURE_TICK_LENGTH - TICK_PAD, y, 1.0, 0.5, FALSE);
    }

  ms_label_draw_within (cr, MS_LABEL_AXIS, spec->x_label, p->x + p->width / 2,
                        bottom + MS_FIGURE_TICK_LENGTH + TICK_PAD + tick_h + LABEL_PAD, 0.5, 0.0, FALSE,
                        p->width + layout->reserve_left);
  ms_label_draw_within (cr, MS_LABEL_AXIS, spec->y_label, p->x - layout->reserve_left, p->y + p->height / 2,
                        0.5, 0.0, TRUE, p->height);
  double title_bottom = p->y - TITLE_PAD - (spec->band_height > 0.0 ? spec->band_height + BAND_PAD : 0.0);
  /* over the plot when it fits there, else centred in the panel */
  double tw;
  ms_label_measure (cr, MS_LABEL_TITLE, spec->title, &tw, NULL);
  double tx = p->x + p->width / 2;
  if (tx - tw / 2 < layout->title_x - layout->title_width / 2 || tx + tw / 2 > layout->title_x + layout->title_width / 2)
    tx = layout->title_x;
  ms_label_draw_wrapped (cr, MS_LABEL_TITLE, spec->title, tx, title_bottom, 1.0, layout->title_width);
  cairo_restore (cr);
}
