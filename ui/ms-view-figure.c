/* ms-view-figure.c — MsViewData → heatmap, stacked plot or line plot. */
#include "ms-view-figure.h"
#include "ms-compare.h"
#include "ms-figure-error.h"
#include "ms-heatmap.h"
#include "ms-plots.h"

#include <math.h>

#define MS_VIEW_FIGURE_MAX_BLOCKS 64

struct _MsViewFigure {
  /* Owned; exactly one group is set */
  MsHeatmap *heatmap;
  MsCompare *compare;
  MsStackedPlot *stacked[2];   /* [1] only when comparing */
  MsLinePlot *lines;
  /* Borrowed from the above, for hit-testing */
  MsHeatmap *panels[2];        /* the heatmap(s) whose cells tile each panel */
  int n_points;                /* lines and stacked: points per series */
  gboolean cells;              /* stacked: each point fills a cell of the x axis */
  /* Where the attention layout's blocks meet, per panel: the first column
   * (row) of every block but the first */
  int n_col_bounds[2], col_bounds[2][MS_VIEW_FIGURE_MAX_BLOCKS];
  int n_row_bounds[2], row_bounds[2][MS_VIEW_FIGURE_MAX_BLOCKS];
};

/* The axis value at the centre of cell 0: a cell of several indices (a
 * bin) is drawn centred on them. */
static double
centre0 (const MsViewAxis *a)
{
  return a->start + (a->step - 1) / 2;
}

/* An axis laid out in blocks (read block | tokens | write block; the tiles
 * of a grid) names them in labelled bands. */
static void
set_bands (MsHeatmap *hm, const MsViewAxis *axis, gboolean x)
{
  if (axis->n_blocks < 2)
    return;
  g_autofree const char **names = g_new0 (const char *, axis->n_blocks);
  g_autofree int *first = g_new0 (int, axis->n_blocks), *n = g_new0 (int, axis->n_blocks);
  for (int b = 0; b < axis->n_blocks; b++)
    names[b] = axis->blocks[b].name, first[b] = axis->blocks[b].first, n[b] = axis->blocks[b].n;
  (x ? ms_heatmap_set_x_bands : ms_heatmap_set_y_bands) (hm, names, first, n, axis->n_blocks);
}

static MsHeatmap *
heatmap_of (const MsViewData *v, MsColormap cmap, const char *title, GError **error)
{
  MsHeatmap *hm = ms_heatmap_new (v->values, v->rows, v->cols, error);
  if (!hm)
    return NULL;
  ms_heatmap_set_colormap (hm, cmap);
  ms_heatmap_set_range (hm, v->vmin, v->vmax);
  ms_heatmap_set_x_axis (hm, centre0 (&v->x), v->x.step, v->x.label);
  ms_heatmap_set_y_axis (hm, centre0 (&v->y), v->y.step, v->y.label, TRUE);
  /* token axes and the tokens block of attention positions: the tokens' text */
  if (v->x.texts && v->x.kind != MS_VIEW_AXIS_SEGMENT)
    ms_heatmap_set_x_names (hm, (const char *const *) v->x.texts, v->x.n);
  if (v->y.texts && v->y.kind != MS_VIEW_AXIS_SEGMENT && v->y.kind != MS_VIEW_AXIS_SOURCE)
    ms_heatmap_set_y_names (hm, (const char *const *) v->y.texts, v->y.n);
  set_bands (hm, &v->x, TRUE);
  set_bands (hm, &v->y, FALSE);
  ms_heatmap_set_title (hm, title ? title : v->title);
  ms_heatmap_set_colorbar_label (hm, v->value_label);
  return hm;
}

static MsStackedPlot *
stacked_of (const MsViewData *v, const char *title, GError **error)
{
  MsStackedPlot *p = ms_stacked_plot_new (v->values, v->rows, v->cols, (const char *const *) v->series, error);
  if (!p)
    return NULL;
  ms_stacked_plot_set_x_axis (p, centre0 (&v->x), v->x.step, v->x.label);
  ms_stacked_plot_set_y_label (p, v->value_label);
  ms_stacked_plot_set_title (p, title ? title : v->title);
  return p;
}

static MsLinePlot *
lines_of (const MsViewData *v, const char *title, GError **error)
{
  g_autoptr (MsLinePlot) p = ms_line_plot_new (v->cols, error);
  if (!p)
    return NULL;
  for (int s = 0; s < v->rows; s++)
    if (!ms_line_plot_add_series (p, v->series ? v->series[s] : NULL, v->values + (size_t) s * v->cols, v->cols,
                                  error))
      return NULL;
  ms_line_plot_set_x_axis (p, centre0 (&v->x), v->x.step, v->x.label);
  ms_line_plot_set_y_label (p, v->value_label);
  ms_line_plot_set_title (p, title ? title : v->title);
  return g_steal_pointer (&p);
}

/* Keeps where @v's blocks meet, for panel @panel. */
static void
keep_bounds (MsViewFigure *fig, int panel, const MsViewData *v)
{
  const MsViewAxis *axes[2] = { &v->x, &v->y };
  int *n[2] = { &fig->n_col_bounds[panel], &fig->n_row_bounds[panel] };
  int *bounds[2] = { fig->col_bounds[panel], fig->row_bounds[panel] };
  for (int a = 0; a < 2; a++)
    {
      *n[a] = 0;
      for (int b = 1; b < axes[a]->n_blocks && *n[a] < MS_VIEW_FIGURE_MAX_BLOCKS; b++)
        if (axes[a]->blocks[b].first > 0 && axes[a]->blocks[b].first < axes[a]->n)
          bounds[a][(*n[a])++] = axes[a]->blocks[b].first;
    }
}

MsViewFigure *
ms_view_figure_new (const MsViewData *v, MsColormap cmap, const char *title, GError **error)
{
  g_autoptr (MsViewFigure) fig = g_new0 (MsViewFigure, 1);
  gboolean ok;
  switch (v->shape)
    {
    case MS_VIEW_HEATMAP:
      ok = (fig->heatmap = heatmap_of (v, cmap, title, error)) != NULL;
      fig->panels[0] = fig->heatmap;
      keep_bounds (fig, 0, v);
      break;
    case MS_VIEW_STACKED:
      ok = (fig->stacked[0] = stacked_of (v, title, error)) != NULL;
      fig->cells = TRUE;
      break;
    case MS_VIEW_LINES:
    default:
      ok = (fig->lines = lines_of (v, title, error)) != NULL;
      break;
    }
  fig->n_points = v->cols;
  return ok ? g_steal_pointer (&fig) : NULL;
}

MsViewFigure *
ms_view_figure_new_compare (const MsViewData *a, const char *name_a, const MsViewData *b, const char *name_b,
                            gboolean difference, MsColormap cmap, const char *title, GError **error)
{
  if (a->kind != b->kind)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT, "cannot compare a %s view with a %s view",
                   ms_view_kind_name (a->kind), ms_view_kind_name (b->kind));
      return NULL;
    }
  g_autofree char *default_title = g_strdup_printf ("%s: %s vs %s", a->title, name_a, name_b);
  const char *heading = title ? title : default_title;
  g_autoptr (MsViewFigure) fig = g_new0 (MsViewFigure, 1);
  if (a->shape == MS_VIEW_HEATMAP)
    {
      g_autoptr (MsHeatmap) ha = heatmap_of (a, cmap, name_a, error);
      g_autoptr (MsHeatmap) hb = ha ? heatmap_of (b, cmap, name_b, error) : NULL;
      if (!hb)
        return NULL;
      fig->compare = ms_compare_new (ha, hb);
      fig->panels[0] = ha;   /* the comparison holds them */
      fig->panels[1] = hb;
      keep_bounds (fig, 0, a);
      keep_bounds (fig, 1, b);
      ms_compare_set_colormap (fig->compare, cmap);
      if (!isnan (a->vmin) && !isnan (a->vmax))
        ms_compare_set_range (fig->compare, a->vmin, a->vmax);
      ms_compare_set_title (fig->compare, heading);
      if (difference && !ms_compare_set_show_difference (fig->compare, TRUE, error))
        return NULL;
      return g_steal_pointer (&fig);
    }
  if (a->shape == MS_VIEW_STACKED)
    {
      if (difference)
        {
          g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                       "the %s view has no difference figure; compare it without --diff", ms_view_kind_name (a->kind));
          return NULL;
        }
      g_autofree char *ta = g_strdup_printf ("%s: %s", a->title, name_a);
      g_autofree char *tb = g_strdup_printf ("%s: %s", b->title, name_b);
      fig->stacked[0] = stacked_of (a, ta, error);
      fig->stacked[1] = fig->stacked[0] ? stacked_of (b, tb, error) : NULL;
      fig->cells = TRUE;
      fig->n_points = MAX (a->cols, b->cols);
      return fig->stacked[1] ? g_steal_pointer (&fig) : NULL;
    }
  /* lines: one plot, A and B (and A − B) as series over the longer run */
  if (difference && a->cols != b->cols)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "A − B needs runs of the same length (%d and %d segments)", a->cols, b->cols);
      return NULL;
    }
  int n = MAX (a->cols, b->cols);
  g_autofree float *ya = g_new (float, n), *yb = g_new (float, n), *d = g_new (float, n);
  for (int i = 0; i < n; i++)
    {
      ya[i] = i < a->cols ? a->values[i] : NAN;
      yb[i] = i < b->cols ? b->values[i] : NAN;
      d[i] = ya[i] - yb[i];
    }
  g_autoptr (MsLinePlot) p = ms_line_plot_new (n, error);
  if (!p || !ms_line_plot_add_series (p, name_a, ya, n, error) || !ms_line_plot_add_series (p, name_b, yb, n, error)
      || (difference && !ms_line_plot_add_series (p, "A − B", d, n, error)))
    return NULL;
  ms_line_plot_set_x_axis (p, centre0 (&a->x), a->x.step, a->x.label);
  ms_line_plot_set_y_label (p, a->value_label);
  ms_line_plot_set_title (p, heading);
  fig->lines = g_steal_pointer (&p);
  fig->n_points = n;
  return g_steal_pointer (&fig);
}

void
ms_view_figure_free (MsViewFigure *fig)
{
  if (!fig)
    return;
  g_clear_pointer (&fig->heatmap, ms_heatmap_unref);
  g_clear_pointer (&fig->compare, ms_compare_free);
  g_clear_pointer (&fig->stacked[0], ms_stacked_plot_free);
  g_clear_pointer (&fig->stacked[1], ms_stacked_plot_free);
  g_clear_pointer (&fig->lines, ms_line_plot_free);
  g_free (fig);
}

/* White lines where the attention layout's blocks meet (the slot itself |
 * read block | tokens | write block), over every heatmap panel. */
static void
draw_block_bounds (const MsViewFigure *fig, cairo_t *cr, double width, double height)
{
  if (fig->n_col_bounds[0] + fig->n_row_bounds[0] + fig->n_col_bounds[1] + fig->n_row_bounds[1] == 0)
    return;
  MsRect plots[3];
  int n = ms_view_figure_get_plot_rects (fig, cr, width, height, plots);
  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, 2 * MS_FIGURE_LINE_WIDTH);
  for (int p = 0; p < n; p++)
    {
      int k = p == 1 ? 1 : 0;   /* the difference panel has A's layout */
      MsRect cell;
      for (int b = 0; b < fig->n_col_bounds[k]; b++)
        if (ms_view_figure_cell_rect_in (fig, plots, n, p, -1, fig->col_bounds[k][b], &cell))
          {
            cairo_move_to (cr, cell.x, cell.y);
            cairo_line_to (cr, cell.x, cell.y + cell.height);
          }
      for (int b = 0; b < fig->n_row_bounds[k]; b++)
        if (ms_view_figure_cell_rect_in (fig, plots, n, p, fig->row_bounds[k][b], -1, &cell))
          {
            cairo_move_to (cr, cell.x, cell.y);
            cairo_line_to (cr, cell.x + cell.width, cell.y);
          }
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
ms_view_figure_draw (cairo_t *cr, double width, double height, gpointer data)
{
  MsViewFigure *fig = data;
  if (fig->heatmap)
    ms_heatmap_draw (fig->heatmap, cr, width, height);
  else if (fig->compare)
    ms_compare_draw (fig->compare, cr, width, height);
  if (fig->heatmap || fig->compare)
    {
      draw_block_bounds (fig, cr, width, height);
      return;
    }
  if (fig->lines)
    ms_line_plot_draw (fig->lines, cr, width, height);
  else if (fig->stacked[1])
    {
      ms_stacked_plot_draw (fig->stacked[0], cr, width / 2, height);
      cairo_save (cr);
      cairo_translate (cr, width / 2, 0);
      ms_stacked_plot_draw (fig->stacked[1], cr, width / 2, height);
      cairo_restore (cr);
    }
  else
    ms_stacked_plot_draw (fig->stacked[0], cr, width, height);
}

int
ms_view_figure_get_plot_rects (const MsViewFigure *fig, cairo_t *cr, double width, double height, MsRect rects[3])
{
  int n = 1;
  if (fig->heatmap)
    ms_heatmap_get_plot_rect (fig->heatmap, cr, width, height, &rects[0]);
  else if (fig->compare)
    ms_compare_get_plot_rects (fig->compare, cr, width, height, rects, &n);
  else if (fig->lines)
    ms_line_plot_get_plot_rect (fig->lines, cr, width, height, &rects[0]);
  else if (fig->stacked[1])
    {
      n = 2;
      for (int i = 0; i < 2; i++)
        {
          ms_stacked_plot_get_plot_rect (fig->stacked[i], cr, width / 2, height, &rects[i]);
          rects[i].x += i * width / 2;
        }
    }
  else
    ms_stacked_plot_get_plot_rect (fig->stacked[0], cr, width, height, &rects[0]);
  return n;
}

/* The heatmap whose cells tile @panel: the difference panel has A's shape. */
static MsHeatmap *
panel_heatmap (const MsViewFigure *fig, int panel)
{
  return panel == 1 ? fig->panels[1] : fig->panels[0];
}

gboolean
ms_view_figure_hit (const MsViewFigure *fig, cairo_t *cr, double width, double height, double x, double y,
                    MsViewFigureHit *hit)
{
  MsRect rects[3];
  int n = ms_view_figure_get_plot_rects (fig, cr, width, height, rects);
  return ms_view_figure_hit_in (fig, rects, n, x, y, hit);
}

gboolean
ms_view_figure_hit_in (const MsViewFigure *fig, const MsRect *plots, int n_plots, double x, double y,
                       MsViewFigureHit *hit)
{
  for (int p = 0; p < n_plots; p++)
    {
      const MsRect *r = &plots[p];
      if (fig->panels[0])
        {
          if (ms_heatmap_cell_at (panel_heatmap (fig, p), r, x, y, &hit->row, &hit->col))
            return hit->panel = p, TRUE;
          continue;
        }
      if (!(x >= r->x && x <= r->x + r->width && y >= r->y && y <= r->y + r->height))
        continue;
      hit->panel = p;
      hit->row = -1;
      if (fig->cells)
        hit->col = (int) floor ((x - r->x) / r->width * fig->n_points);
      else
        hit->col = fig->n_points <= 1 ? 0 : (int) lround ((x - r->x) / r->width * (fig->n_points - 1));
      hit->col = CLAMP (hit->col, 0, MAX (fig->n_points - 1, 0));
      return TRUE;
    }
  return FALSE;
}

gboolean
ms_view_figure_cell_rect (const MsViewFigure *fig, cairo_t *cr, double width, double height, int panel, int row,
                          int col, MsRect *rect)
{
  MsRect rects[3];
  int n = ms_view_figure_get_plot_rects (fig, cr, width, height, rects);
  return ms_view_figure_cell_rect_in (fig, rects, n, panel, row, col, rect);
}

gboolean
ms_view_figure_cell_rect_in (const MsViewFigure *fig, const MsRect *plots, int n_plots, int panel, int row, int col,
                             MsRect *rect)
{
  if (panel < 0 || panel >= n_plots)
    return FALSE;
  const MsRect *r = &plots[panel];
  if (fig->panels[0])
    {
      MsHeatmap *hm = panel_heatmap (fig, panel);
      int rows = ms_heatmap_get_rows (hm), cols = ms_heatmap_get_cols (hm);
      if (row >= rows || col >= cols || (row < 0 && col < 0))
        return FALSE;
      MsRect a, b;
      ms_heatmap_cell_rect (hm, r, row < 0 ? 0 : row, col < 0 ? 0 : col, &a);
      ms_heatmap_cell_rect (hm, r, row < 0 ? rows - 1 : row, col < 0 ? cols - 1 : col, &b);
      double x0 = MIN (a.x, b.x), y0 = MIN (a.y, b.y);
      *rect = (MsRect) { x0, y0, MAX (a.x + a.width, b.x + b.width) - x0, MAX (a.y + a.height, b.y + b.height) - y0 };
      return TRUE;
    }
  if (col < 0 || col >= fig->n_points)
    return FALSE;
  if (fig->cells)
    {
      double w = r->width / fig->n_points;
      *rect = (MsRect) { r->x + col * w, r->y, w, r->height };
      return TRUE;
    }
  double step = fig->n_points > 1 ? r->width / (fig->n_points - 1) : r->width;
  double cx = fig->n_points > 1 ? r->x + col * step : r->x + r->width / 2;
  double w = MAX (step, 2.0);
  /* within the plot: the first and last points sit on its edges */
  double x0 = MAX (cx - w / 2, r->x), x1 = MIN (cx + w / 2, r->x + r->width);
  *rect = (MsRect) { x0, r->y, MAX (x1 - x0, 0), r->height };
  return TRUE;
}
