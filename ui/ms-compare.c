/* ms-compare.c — the side-by-side comparison figure. */
#include "ms-compare.h"
#include "ms-compare-private.h"
#include "ms-colorbar.h"
#include "ms-figure-error.h"
#include "ms-heatmap-private.h"
#include "ms-label.h"

#include <math.h>

#define PANEL_GAP 10.0   /* right of a panel (or colorbar) to the next panel */
#define TITLE_PAD 6.0

struct _MsCompare {
  /* Owned */
  MsHeatmap *a, *b;                  /* references */
  char *title;
  char *title_diff;                  /* "A − B" with the panels' titles */
  char *label_diff;                  /* the difference colorbar's label */
  float *diff;                       /* (rows, cols) A − B, NaN where either is; NULL unless shown */
  cairo_surface_t *images[3];        /* A, B, A − B as last drawn (ms_heatmap_cell_image); NULL = stale */

  MsColormap cmap;
  double want_min, want_max;         /* NaN = fit */
  double vmin, vmax;                 /* shared scale in use */
  double dmin, dmax;                 /* difference scale in use */
  gboolean show_diff;
};

static const char *
title_or (const MsHeatmap *hm, const char *fallback)
{
  const char *title = ms_heatmap_get_title (hm);
  return title ? title : fallback;
}

static void
update_difference (MsCompare *cmp)
{
  g_clear_pointer (&cmp->diff, g_free);
  g_clear_pointer (&cmp->images[2], cairo_surface_destroy);
  if (!cmp->show_diff)
    return;
  int rows = ms_heatmap_get_rows (cmp->a), cols = ms_heatmap_get_cols (cmp->a);
  size_t n = (size_t) rows * cols;
  const float *a = ms_heatmap_get_values (cmp->a), *b = ms_heatmap_get_values (cmp->b);
  cmp->diff = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    cmp->diff[i] = a[i] - b[i];  /* NaN if either is */
  ms_colormap_fit_range (MS_COLORMAP_DIVERGING, cmp->diff, n, NAN, NAN, &cmp->dmin, &cmp->dmax);

  g_free (cmp->title_diff);
  cmp->title_diff = g_strdup_printf ("%s \u2212 %s", title_or (cmp->a, "A"), title_or (cmp->b, "B"));
  g_free (cmp->label_diff);
  const char *label = ms_heatmap_get_colorbar_label (cmp->a);
  cmp->label_diff = label ? g_strdup_printf ("\u0394 %s", label) : g_strdup ("difference");
}

/* Widens [@lo, @hi] to hold @hm's finite values. */
static void
extend_range (const MsHeatmap *hm, float *lo, float *hi)
{
  const float *v = ms_heatmap_get_values (hm);
  size_t n = (size_t) ms_heatmap_get_rows (hm) * ms_heatmap_get_cols (hm);
  for (size_t i = 0; i < n; i++)
    if (isfinite (v[i]))
      {
        *lo = MIN (*lo, v[i]);
        *hi = MAX (*hi, v[i]);
      }
}

void
ms_compare_update (MsCompare *cmp)
{
  /* The shared range is fitted to both heatmaps' values at once. */
  float ends[2] = { INFINITY, -INFINITY };
  extend_range (cmp->a, &ends[0], &ends[1]);
  extend_range (cmp->b, &ends[0], &ends[1]);
  ms_colormap_fit_range (cmp->cmap, ends, isfinite (ends[0]) ? 2 : 0, cmp->want_min, cmp->want_max,
                         &cmp->vmin, &cmp->vmax);

  /* the cells are coloured when next drawn, at the resolution drawn to */
  g_clear_pointer (&cmp->images[0], cairo_surface_destroy);
  g_clear_pointer (&cmp->images[1], cairo_surface_destroy);
  if (cmp->show_diff && (ms_heatmap_get_rows (cmp->a) != ms_heatmap_get_rows (cmp->b)
                         || ms_heatmap_get_cols (cmp->a) != ms_heatmap_get_cols (cmp->b)))
    cmp->show_diff = FALSE;  /* A or B changed shape since */
  update_difference (cmp);
}

MsCompare *
ms_compare_new (MsHeatmap *a, MsHeatmap *b)
{
  MsCompare *cmp = g_new0 (MsCompare, 1);
  cmp->a = ms_heatmap_ref (a);
  cmp->b = ms_heatmap_ref (b);
  cmp->cmap = ms_heatmap_get_colormap (a);
  cmp->want_min = cmp->want_max = NAN;
  ms_compare_update (cmp);
  return cmp;
}

void
ms_compare_free (MsCompare *cmp)
{
  if (cmp == NULL)
    return;
  ms_heatmap_unref (cmp->a);
  ms_heatmap_unref (cmp->b);
  g_free (cmp->title);
  g_free (cmp->title_diff);
  g_free (cmp->label_diff);
  g_free (cmp->diff);
  for (int i = 0; i < 3; i++)
    g_clear_pointer (&cmp->images[i], cairo_surface_destroy);
  g_free (cmp);
}

void
ms_compare_set_title (MsCompare *cmp, const char *title)
{
  g_free (cmp->title);
  cmp->title = g_strdup (title);
}

void
ms_compare_set_colormap (MsCompare *cmp, MsColormap cmap)
{
  cmp->cmap = cmap;
  ms_compare_update (cmp);
}

void
ms_compare_set_range (MsCompare *cmp, double vmin, double vmax)
{
  cmp->want_min = vmin;
  cmp->want_max = vmax;
  ms_compare_update (cmp);
}

void
ms_compare_get_range (const MsCompare *cmp, double *vmin, double *vmax)
{
  *vmin = cmp->vmin;
  *vmax = cmp->vmax;
}

void
ms_compare_get_difference_range (const MsCompare *cmp, double *vmin, double *vmax)
{
  *vmin = cmp->dmin;
  *vmax = cmp->dmax;
}

gboolean
ms_compare_set_show_difference (MsCompare *cmp, gboolean show, GError **error)
{
  int ra = ms_heatmap_get_rows (cmp->a), ca = ms_heatmap_get_cols (cmp->a);
  int rb = ms_heatmap_get_rows (cmp->b), cb = ms_heatmap_get_cols (cmp->b);
  if (show && (ra != rb || ca != cb))
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "cannot show A \u2212 B: A has %d × %d cells and B %d × %d; the difference needs equal shapes",
                   ra, ca, rb, cb);
      return FALSE;
    }
  cmp->show_diff = show;
  update_difference (cmp);
  return TRUE;
}

typedef struct {
  int n;                    /* panels: 2 or 3 */
  MsAxesSpec spec[3];
  MsAxesLayout layout[3];
  MsRect strip, strip_diff; /* the shared and the difference colorbars */
  double title_y;           /* bottom of the figure title */
} Layout;

static void
layout_figure (const MsCompare *cmp, cairo_t *cr, double width, double height, Layout *l)
{
  MsRect outer = { MS_FIGURE_PAD, MS_FIGURE_PAD, width - 2 * MS_FIGURE_PAD, height - 2 * MS_FIGURE_PAD };
  if (cmp->title)
    {
      double h = ms_label_wrapped_height (cr, MS_LABEL_TITLE, cmp->title, outer.width);
      l->title_y = outer.y + h;
      outer.y += h + TITLE_PAD;
      outer.height -= h + TITLE_PAD;
    }

  /* Panels line up only if each reserves the same room above and below:
   * every panel gets a title, and an x label if any panel has one. */
  l->n = cmp->show_diff ? 3 : 2;
  ms_heatmap_get_axes_spec (cmp->a, &l->spec[0]);
  ms_heatmap_get_axes_spec (cmp->b, &l->spec[1]);
  l->spec[0].title = title_or (cmp->a, "A");
  l->spec[1].title = title_or (cmp->b, "B");
  l->spec[1].y_label = NULL;
  if (l->n == 3)
    {
      l->spec[2] = l->spec[0];
      l->spec[2].title = cmp->title_diff;
      l->spec[2].y_label = NULL;
    }
  gboolean any_x_label = FALSE;
  for (int i = 0; i < l->n; i++)
    any_x_label |= l->spec[i].x_label != NULL;
  for (int i = 0; i < l->n; i++)
    if (any_x_label && l->spec[i].x_label == NULL)
      l->spec[i].x_label = "";

  /* First pass: the plots' height and each panel's room on the left. */
  double reserve = 0.0;
  for (int i = 0; i < l->n; i++)
    {
      ms_axes_layout (cr, &l->spec[i], &outer, &l->layout[i]);
      reserve += l->layout[i].reserve_left;
    }
  double plot_h = l->layout[0].plot.height;
  const char *label = ms_heatmap_get_colorbar_label (cmp->a);
  double bar = ms_colorbar_measure (cr, cmp->vmin, cmp->vmax, label, plot_h);
  double bar_diff = l->n == 3 ? ms_colorbar_measure (cr, cmp->dmin, cmp->dmax, cmp->label_diff, plot_h) : 0.0;
  reserve += PANEL_GAP + MS_COLORBAR_GAP + bar;
  if (l->n == 3)
    reserve += PANEL_GAP + MS_COLORBAR_GAP + bar_diff;
  double plot_w = (outer.width - reserve) / l->n;

  /* Second pass: equal plot widths, left to right. */
  double x = outer.x;
  for (int i = 0; i < l->n; i++)
    {
      double left = l->layout[i].reserve_left;
      MsRect panel = { x, outer.y, left + plot_w, outer.height };
      ms_axes_layout_fixed (cr, &l->spec[i], &panel, left, plot_w, &l->layout[i]);
      const MsRect *p = &l->layout[i].plot;
      x = p->x + p->width + PANEL_GAP;
      if (i == 1)
        {
          l->strip = (MsRect) { p->x + p->width + MS_COLORBAR_GAP, p->y, MS_COLORBAR_STRIP_WIDTH, p->height };
          x = l->strip.x + bar + PANEL_GAP;
        }
      else if (i == 2)
        l->strip_diff = (MsRect) { p->x + p->width + MS_COLORBAR_GAP, p->y, MS_COLORBAR_STRIP_WIDTH, p->height };
    }

  /* Panels whose labels need different room (token names turned in one,
   * side by side in the other; bands over one only) still share their
   * plots' top and bottom: the lowest top and the highest bottom leave
   * every panel the room it asked for. */
  double top = -INFINITY, bottom = INFINITY;
  for (int i = 0; i < l->n; i++)
    {
      top = MAX (top, l->layout[i].plot.y);
      bottom = MIN (bottom, l->layout[i].plot.y + l->layout[i].plot.height);
    }
  if (bottom - top >= 1.0)
    {
      for (int i = 0; i < l->n; i++)
        l->layout[i].plot.y = top, l->layout[i].plot.height = bottom - top;
      l->strip.y = l->strip_diff.y = top;
      l->strip.height = l->strip_diff.height = bottom - top;
    }
}

void
ms_compare_draw (const MsCompare *cmp, cairo_t *cr, double width, double height)
{
  Layout l = { 0 };
  layout_figure (cmp, cr, width, height, &l);
  /* the images are caches inside a const figure, like the heatmap's: one
   * figure must not be drawn from two threads at once */
  MsCompare *cache = (MsCompare *) cmp;
  const MsHeatmap *panel[3] = { cmp->a, cmp->b, cmp->a };
  for (int i = 0; i < l.n; i++)
    {
      const MsHeatmap *hm = panel[i];
      const float *values = i < 2 ? ms_heatmap_get_values (hm) : cmp->diff;
      MsColormap cmap = i < 2 ? cmp->cmap : MS_COLORMAP_DIVERGING;
      double lo = i < 2 ? cmp->vmin : cmp->dmin, hi = i < 2 ? cmp->vmax : cmp->dmax;
      cairo_surface_t *image = ms_heatmap_cell_image (&cache->images[i], cr, &l.layout[i].plot, values,
                                                      ms_heatmap_get_rows (hm), ms_heatmap_get_cols (hm),
                                                      cmap, lo, hi);
      ms_heatmap_paint_image (cr, image, ms_heatmap_get_top_down (hm), &l.layout[i].plot);
      ms_axes_draw (cr, &l.spec[i], &l.layout[i]);
    }
  ms_colorbar_draw (cr, &l.strip, cmp->cmap, cmp->vmin, cmp->vmax, ms_heatmap_get_colorbar_label (cmp->a));
  if (l.n == 3)
    ms_colorbar_draw (cr, &l.strip_diff, MS_COLORMAP_DIVERGING, cmp->dmin, cmp->dmax, cmp->label_diff);
  if (cmp->title)
    ms_label_draw_wrapped (cr, MS_LABEL_TITLE, cmp->title, width / 2, l.title_y, 1.0, width - 2 * MS_FIGURE_PAD);
}

void
ms_compare_draw_func (cairo_t *cr, double width, double height, gpointer compare)
{
  ms_compare_draw (compare, cr, width, height);
}

void
ms_compare_get_plot_rects (const MsCompare *cmp, cairo_t *cr, double width, double height, MsRect rects[3],
                           int *n_panels)
{
  Layout l = { 0 };
  layout_figure (cmp, cr, width, height, &l);
  for (int i = 0; i < l.n; i++)
    rects[i] = l.layout[i].plot;
  *n_panels = l.n;
}

cairo_surface_t *
ms_compare_peek_image (const MsCompare *cmp, int panel)
{
  g_return_val_if_fail (panel >= 0 && panel < 3, NULL);
  return cmp->images[panel];
}
