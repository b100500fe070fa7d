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

/* @name as a tick prints it: cut to MS_AXES_MAX_NAME_CHARS characters. */
static void
cut_name (const char *name, char *buf, size_t size)
{
  if (!g_utf8_validate (name, -1, NULL) || g_utf8_strlen (name, -1) <= MS_AXES_MAX_NAME_CHARS)
    {
      snprintf (buf, size, "%s", name);
      return;
    }
  const char *end = g_utf8_offset_to_pointer (name, MS_AXES_MAX_NAME_CHARS - 1);
  snprintf (buf, size, "%.*s…", (int) (end - name), name);
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
      cut_name (names[(int) i] ? names[(int) i] : "", buf, size);
      return;
    }
  ms_axis_format_tick (value, step, buf, size);
}

/* The named cells of an axis of @spec inside its data range: the first
 * and last index into its names with a name, FALSE when there is none. */
static gboolean
named_range (const MsAxesSpec *spec, gboolean horizontal, int *i0, int *i1)
{
  const char *const *names = horizontal ? spec->x_names : spec->y_names;
  int first = horizontal ? spec->x_first : spec->y_first, n = horizontal ? spec->n_x_names : spec->n_y_names;
  double a = horizontal ? spec->x_left : spec->y_bottom, b = horizontal ? spec->x_right : spec->y_top;
  if (!names)
    return FALSE;
  int lo = (int) MAX (ceil (MIN (a, b)) - first, 0), hi = (int) MIN (floor (MAX (a, b)) - first, n - 1.0);
  *i0 = *i1 = -1;
  for (int i = lo; i <= hi; i++)
    if (names[i])
      {
        if (*i0 < 0)
          *i0 = i;
        *i1 = i;
      }
  return *i0 >= 0;
}

/* The widest (cut) name among cells @i0, @i0 + @k, … ≤ @i1 of @names. */
static double
widest_name (cairo_t *cr, const char *const *names, int i0, int i1, int k)
{
  double widest = 0.0;
  for (int i = i0; i <= i1; i += k)
    if (names[i])
      {
        char label[64];
        double w;
        cut_name (names[i], label, sizeof label);
        ms_label_measure (cr, MS_LABEL_TICK, label, &w, NULL);
        widest = MAX (widest, w);
      }
  return widest;
}

/* The nice strides 1, 2, 5, 10, 20, … in order: the @c-th. */
static int
nice_stride (int c)
{
  static const int mantissas[3] = { 1, 2, 5 };
  int k = mantissas[c % 3];
  for (int e = 0; e < c / 3; e++)
    k *= 10;
  return k;
}

/* The smallest nice stride k that puts ticks on cells [@i0, @i1] at least
 * @need apart, @spacing apart per cell, and no more than
 * MS_AXES_MAX_NAMED_TICKS of them. */
static int
name_stride (int i0, int i1, double spacing, double need)
{
  for (int c = 0;; c++)
    {
      int k = nice_stride (c);
      if ((i1 - i0) / k + 1 <= MS_AXES_MAX_NAMED_TICKS && (spacing * k >= need || k > i1 - i0))
        return k;
    }
}

/* Ticks on the named cells of @spec's x (@horizontal) or y axis, as many
 * as fit along @length (MsAxesSpec): the count, or 0 when the axis has no
 * names (then nice numbers are chosen instead).  On the x axis, names sit
 * side by side when that needs no more thinning than turning them; else
 * *@turned is set and *@turned_height is the room the turned names shown
 * need below the axis (both may be NULL). */
static int
name_ticks (cairo_t *cr, const MsAxesSpec *spec, gboolean horizontal, double length, gboolean *turned,
            double *turned_height, double *ticks, double *step)
{
  const char *const *names = horizontal ? spec->x_names : spec->y_names;
  int first = horizontal ? spec->x_first : spec->y_first;
  double a = horizontal ? spec->x_left : spec->y_bottom, b = horizontal ? spec->x_right : spec->y_top;
  int i0, i1;
  if (turned)
    *turned = FALSE;
  if (!named_range (spec, horizontal, &i0, &i1))
    return 0;
  double spacing = length / fabs (b - a), line = 1.1 * ms_label_line_height (cr, MS_LABEL_TICK);
  int k = name_stride (i0, i1, spacing, line);
  if (horizontal)
    {
      int k_flat = 0;
      for (int c = 0; nice_stride (c) <= k && !k_flat; c++)
        {
          int kc = nice_stride (c);
          if ((i1 - i0) / kc + 1 <= MS_AXES_MAX_NAMED_TICKS
              && spacing * kc >= widest_name (cr, names, i0, i1, kc) + 3.0)
            k_flat = kc;
        }
      if (k_flat)
        k = k_flat;
      else
        {
          if (turned)
            *turned = TRUE;
          if (turned_height)
            *turned_height = widest_name (cr, names, i0, i1, k);
        }
    }
  int n = 0;
  for (int i = i0; i <= i1 && n < MS_AXES_MAX_NAMED_TICKS; i += k)
    ticks[n++] = first + i;
  *step = 1.0;
  return n;
}

/* The bands of the x (@horizontal) or y axis take a line of tick text and a
 * bracket. */
#define BAND_BRACKET 3.0

static double
bands_room (cairo_t *cr, const MsAxesSpec *spec, gboolean horizontal)
{
  if ((horizontal ? spec->n_x_bands : spec->n_y_bands) == 0)
    return 0.0;
  return ms_label_line_height (cr, MS_LABEL_TICK) + BAND_BRACKET + BAND_PAD;
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
layout_vertical (cairo_t *cr, const MsAxesSpec *spec, const MsRect *outer, gboolean x_turned, double turned_height,
                 MsAxesLayout *layout)
{
  double tick_h = ms_label_line_height (cr, MS_LABEL_TICK);
  layout->x_names_turned = x_turned;
  layout->x_labels_height = x_turned ? MAX (turned_height, tick_h) : tick_h;
  layout->x_bands_height = bands_room (cr, spec, TRUE);
  /* the title wraps within the panel's outer width, so its height is known now */
  layout->title_x = outer->x + outer->width / 2, layout->title_width = outer->width;
  double top = outer->y + (spec->title ? ms_label_wrapped_height (cr, MS_LABEL_TITLE, spec->title, outer->width)
                                           + TITLE_PAD
                                       : tick_h / 2);
  if (spec->band_height > 0.0)
    top += spec->band_height + BAND_PAD;
  top += layout->x_bands_height;
  double bottom = outer->y + outer->height - (MS_FIGURE_TICK_LENGTH + TICK_PAD + layout->x_labels_height);
  if (spec->x_label)
    bottom -= LABEL_PAD + ms_label_line_height (cr, MS_LABEL_AXIS);
  layout->plot.y = top;
  layout->plot.height = MAX (1.0, bottom - top);
  layout->n_y_ticks = name_ticks (cr, spec, FALSE, layout->plot.height, NULL, NULL, layout->y_ticks,
                                  &layout->y_step);
  if (layout->n_y_ticks == 0)
    layout->n_y_ticks = ms_axis_choose_ticks (cr, spec->y_bottom, spec->y_top, spec->y_min_step,
                                              layout->plot.height, FALSE, layout->y_ticks, &layout->y_step);

  /* Room the y axis needs left of the plot. */
  double left = MS_FIGURE_TICK_LENGTH + TICK_PAD + widest_y_label (cr, spec, layout);
  if (spec->y_label)
    left += LABEL_PAD + ms_label_line_height (cr, MS_LABEL_AXIS);
  return left + bands_room (cr, spec, FALSE);
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
  if (layout->x_names_turned)
    {
      double half = ms_label_line_height (cr, MS_LABEL_TICK) / 2;
      *over_left = MAX (0.0, layout->plot.x - (ms_axes_map_x (spec, layout, layout->x_ticks[0]) - half));
      *over_right = MAX (0.0, ms_axes_map_x (spec, layout, layout->x_ticks[layout->n_x_ticks - 1]) + half
                                - (layout->plot.x + layout->plot.width));
      return;
    }
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

/* The x ticks for a plot @plot_width wide; *@turned says whether their
 * names need to read upwards, in *@turned_height below the axis. */
static void
layout_horizontal (cairo_t *cr, const MsAxesSpec *spec, double plot_x, double plot_width, MsAxesLayout *layout,
                   gboolean *turned, double *turned_height)
{
  layout->plot.x = plot_x;
  layout->plot.width = MAX (1.0, plot_width);
  layout->n_x_ticks = name_ticks (cr, spec, TRUE, layout->plot.width, turned, turned_height, layout->x_ticks,
                                  &layout->x_step);
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

/* Both layouts lay out twice when x names turn: once with room for names
 * side by side, which tells whether they fit, then with room for turned
 * names below the plot (the plot's width does not depend on that room). */
void
ms_axes_layout (cairo_t *cr, const MsAxesSpec *spec, const MsRect *outer, MsAxesLayout *layout)
{
  gboolean turned = FALSE;
  double turned_height = 0.0;
  for (int pass = 0; pass < 2; pass++)
    {
      memset (layout, 0, sizeof *layout);
      double left = layout_vertical (cr, spec, outer, turned, turned_height, layout);
      /* Two passes: the labels of a first choice of x ticks tell how far they
       * overhang the plot, which narrows the plot for the final choice. */
      double right = 1.0, over_left, over_right;
      gboolean want;
      double height = 0.0;
      layout_horizontal (cr, spec, outer->x + left, outer->width - left - right, layout, &want, &height);
      layout->x_names_turned = want;
      x_overhangs (cr, spec, layout, &over_left, &over_right);
      left = MAX (left, over_left);
      right = MAX (right, over_right);
      layout_horizontal (cr, spec, outer->x + left, outer->width - left - right, layout, &want, &height);
      layout->x_names_turned = want;
      layout->reserve_left = left;
      layout->reserve_right = right;
      if (want == turned || turned)
        break;
      turned = want;
      turned_height = height;
    }
  finish (cr, spec, layout);
}

void
ms_axes_layout_fixed (cairo_t *cr, const MsAxesSpec *spec, const MsRect *outer,
                      double left, double plot_width, MsAxesLayout *layout)
{
  gboolean turned = FALSE;
  double turned_height = 0.0, height = 0.0;
  for (int pass = 0; pass < 2; pass++)
    {
      memset (layout, 0, sizeof *layout);
      layout_vertical (cr, spec, outer, turned, turned_height, layout);
      gboolean want;
      layout_horizontal (cr, spec, outer->x + left, plot_width, layout, &want, &height);
      turned_height = height;
      layout->x_names_turned = want;
      if (want == turned || turned)
        break;
      turned = want;
    }
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

/* The x bands above the plot and the y bands left of the y tick labels:
 * each band's name over a bracket that spans its cells. */
static void
draw_bands (cairo_t *cr, const MsAxesSpec *spec, const MsAxesLayout *layout)
{
  const MsRect *p = &layout->plot;
  double tick_h = ms_label_line_height (cr, MS_LABEL_TICK), inset = 1.0;
  for (int b = 0; b < spec->n_x_bands; b++)
    {
      const MsAxesBand *band = &spec->x_bands[b];
      double x0 = ms_axes_map_x (spec, layout, band->from), x1 = ms_axes_map_x (spec, layout, band->to);
      double lo = MIN (x0, x1) + inset, hi = MAX (x0, x1) - inset, y = p->y - BAND_PAD;
      cairo_move_to (cr, lo, y);
      cairo_line_to (cr, lo, y - BAND_BRACKET);
      cairo_line_to (cr, hi, y - BAND_BRACKET);
      cairo_line_to (cr, hi, y);
      cairo_stroke (cr);
      ms_label_draw_within (cr, MS_LABEL_TICK, band->name, (lo + hi) / 2, y - BAND_BRACKET, 0.5, 1.0, FALSE,
                            MAX (hi - lo, 1.0));
    }
  double axis_w = spec->y_label ? LABEL_PAD + ms_label_line_height (cr, MS_LABEL_AXIS) : 0.0;
  double x = p->x - layout->reserve_left + axis_w;
  for (int b = 0; b < spec->n_y_bands; b++)
    {
      const MsAxesBand *band = &spec->y_bands[b];
      double y0 = ms_axes_map_y (spec, layout, band->from), y1 = ms_axes_map_y (spec, layout, band->to);
      double lo = MIN (y0, y1) + inset, hi = MAX (y0, y1) - inset, bx = x + tick_h + BAND_BRACKET;
      cairo_move_to (cr, bx, lo);
      cairo_line_to (cr, bx - BAND_BRACKET, lo);
      cairo_line_to (cr, bx - BAND_BRACKET, hi);
      cairo_line_to (cr, bx, hi);
      cairo_stroke (cr);
      ms_label_draw_within (cr, MS_LABEL_TICK, band->name, x, (lo + hi) / 2, 0.5, 0.0, TRUE, MAX (hi - lo, 1.0));
    }
}

void
ms_axes_draw (cairo_t *cr, const MsAxesSpec *spec, const MsAxesLayout *layout)
{
  const MsRect *p = &layout->plot;
  double bottom = p->y + p->height;
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
      if (layout->x_names_turned)
        ms_label_draw (cr, MS_LABEL_TICK, label, x, bottom + MS_FIGURE_TICK_LENGTH + TICK_PAD, 1.0, 0.5, TRUE);
      else
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
                        bottom + MS_FIGURE_TICK_LENGTH + TICK_PAD + layout->x_labels_height + LABEL_PAD, 0.5, 0.0,
                        FALSE,
                        p->width + layout->reserve_left);
  ms_label_draw_within (cr, MS_LABEL_AXIS, spec->y_label, p->x - layout->reserve_left, p->y + p->height / 2,
                        0.5, 0.0, TRUE, p->height);
  draw_bands (cr, spec, layout);
  double title_bottom = p->y - TITLE_PAD - layout->x_bands_height
                        - (spec->band_height > 0.0 ? spec->band_height + BAND_PAD : 0.0);
  /* over the plot when it fits there, else centred in the panel */
  double tw;
  ms_label_measure (cr, MS_LABEL_TITLE, spec->title, &tw, NULL);
  double tx = p->x + p->width / 2;
  if (tx - tw / 2 < layout->title_x - layout->title_width / 2 || tx + tw / 2 > layout->title_x + layout->title_width / 2)
    tx = layout->title_x;
  ms_label_draw_wrapped (cr, MS_LABEL_TITLE, spec->title, tx, title_bottom, 1.0, layout->title_width);
  cairo_restore (cr);
}
