/* memscope-figure-view-draw.c — what the figure view draws each frame,
 * from what its jobs prepared: the figure's image, the outlines of the
 * current segment, the selected slot and the token hovered in the text pane
 * over it, the preview of a new zoom window while its figure is made, the
 * message, and the veil under the spinner; and where those lie in widget
 * coordinates.  Nothing here loads or lays out a figure. */
#include "memscope-figure-view-private.h"

#include <math.h>

/* The outline of the current segment and the selected slot: GNOME red,
 * a colour none of the colormaps uses; of the token hovered in the text
 * pane: cyan, ditto. */
#define HOVER_TOKEN_R (0x00 / 255.0)
#define HOVER_TOKEN_G (0xe0 / 255.0)
#define HOVER_TOKEN_B (0xff / 255.0)
#define HIGHLIGHT_R (0xe0 / 255.0)
#define HIGHLIGHT_G (0x1b / 255.0)
#define HIGHLIGHT_B (0x24 / 255.0)

/* ---- which cells are outlined ---- */

/* Views whose columns (x) are segments. */
static gboolean
x_is_segment (MsViewKind kind)
{
  return ms_view_info (kind)->x == MS_VIEW_AXIS_SEGMENT;
}

/* The heatmap row (slot rows) or column (slot columns) of slot @slot, as
 * (row, col) with −1 for the whole extent; FALSE when slots are no axis. */
static gboolean
slot_cell (MsViewKind kind, int slot, int *row, int *col)
{
  if (slot < 0)
    return FALSE;
  if (ms_view_info (kind)->y == MS_VIEW_AXIS_SLOT)
    return *row = slot, *col = -1, TRUE;
  if (ms_view_info (kind)->x == MS_VIEW_AXIS_SLOT)
    return *row = -1, *col = slot, TRUE;
  return FALSE;
}

/* The column holding index @x of the x axis. */
static int
column_of_x (const MsViewData *v, double x)
{
  return (int) floor ((x - v->x.start) / v->x.step);
}

/* Where the current segment's column (!@slot) or the selected slot's
 * row or column (@slot) is drawn in @panel, in figure coordinates. */
static gboolean
highlight_rect (MemscopeFigureView *self, int panel, MsRect *out, gboolean slot)
{
  const Shown *s = self->shown;
  const MsViewData *v = panel == 1 && s->data->b ? s->data->b : s->data->a;
  int row, col;
  if (slot)
    return slot_cell (self->kind, self->slot, &row, &col)
           && ms_view_figure_cell_rect_in (s->figure, s->plots, s->n_plots, panel, row, col, out);
  if (!x_is_segment (self->kind) || self->segment < 0)
    return FALSE;
  return ms_view_figure_cell_rect_in (s->figure, s->plots, s->n_plots, panel, -1,
                                      column_of_x (v, self->segment), out);
}

/* Where the hovered token of segment @self->hover_segment is drawn in
 * @panel: its row or column on a token axis, or its column of the tokens
 * block of an attention row, in a view of that segment; run B's panel
 * shows run B's token, the others run A's. */
static gboolean
hover_token_rect (MemscopeFigureView *self, int panel, MsRect *out)
{
  gboolean b = panel == 1 && self->shown->data->b;
  const MsViewData *v = b ? self->shown->data->b : self->shown->data->a;
  int token = self->hover_token[b];
  if (token < 0 || v->segment < 0 || v->segment != self->hover_segment)
    return FALSE;
  int row = -1, col = -1;
  if (v->y.kind == MS_VIEW_AXIS_TOKEN && token < v->y.n)
    row = token;
  else if (v->x.kind == MS_VIEW_AXIS_TOKEN && token < v->x.n)
    col = token;
  for (int k = 0; row < 0 && col < 0 && k < v->x.n_blocks; k++)
    if (v->x.blocks[k].tokens && token < v->x.blocks[k].n)
      col = v->x.blocks[k].first + token;
  return (row >= 0 || col >= 0)
         && ms_view_figure_cell_rect_in (self->shown->figure, self->shown->plots, self->shown->n_plots, panel, row,
                                         col, out);
}

/* ---- the frame ---- */

/* The current segment's and the selected slot's outlines: 2 px borders on
 * whole pixels around the cells, so thin cells still show, clipped to the
 * data area. */
static void
append_highlights (MemscopeFigureView *self, GtkSnapshot *snapshot)
{
  static const GdkRGBA red = { HIGHLIGHT_R, HIGHLIGHT_G, HIGHLIGHT_B, 1 };
  static const GdkRGBA cyan = { HOVER_TOKEN_R, HOVER_TOKEN_G, HOVER_TOKEN_B, 1 };
  const GdkRGBA colours[4] = { red, red, red, red }, token_colours[4] = { cyan, cyan, cyan, cyan };
  const float widths[4] = { 2, 2, 2, 2 };
  for (int p = 0; p < self->shown->n_plots; p++)
    {
      /* never past the data area */
      const MsRect *plot = &self->shown->plots[p];
      gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (plot->x, plot->y, plot->width, plot->height));
      for (int s = 0; s < 3; s++)
        {
          MsRect r;
          if (s < 2 ? !highlight_rect (self, p, &r, s) : !hover_token_rect (self, p, &r))
            continue;
          double x0 = floor (r.x), x1 = MAX (ceil (r.x + r.width), x0 + 2);
          double y0 = floor (r.y), y1 = MAX (ceil (r.y + r.height), y0 + 2);
          GskRoundedRect outline;
          gsk_rounded_rect_init_from_rect (&outline, &GRAPHENE_RECT_INIT (x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2),
                                           0);
          gtk_snapshot_append_border (snapshot, &outline, widths, s < 2 ? colours : token_colours);
        }
      gtk_snapshot_pop (snapshot);
    }
}

/* While the figure of a new zoom window is made: the shown figure's data
 * areas redrawn for that window, their columns shifted and stretched along
 * the segment axis (the axes and labels stay as drawn, segments the image
 * does not hold show the background), so a zoom or pan answers in the
 * next frame at the cost of one image copy.  FALSE, drawing nothing, when
 * the figure shows the window asked for, neither it nor the one asked
 * for is a zoom window, or its rows are segments too. */
static gboolean
append_zoom_preview (MemscopeFigureView *self, GtkSnapshot *snapshot)
{
  const Shown *s = self->shown;
  const MsViewInfo *info = ms_view_info (self->kind);
  const MsViewAxis *x = &s->data->a->x;
  int first, n;
  gboolean zoomed = memscope_figure_view_get_zoom (self, &first, &n);
  /* (not while a whole run grows as it records: its figure follows soon) */
  if ((!zoomed && !s->zoomed) || !memscope_figure_view_kind_zooms (self->kind) || info->y == MS_VIEW_AXIS_SEGMENT
      || info->y == MS_VIEW_AXIS_SOURCE || x->kind != MS_VIEW_AXIS_SEGMENT || x->n < 1 || x->step <= 0 || n < 1
      || (first == s->window_first && n == s->window_n))
    return FALSE;
  double ink = s->dark ? DARK_BACKGROUND : 1;
  gtk_snapshot_append_node (snapshot, s->node);
  for (int p = 0; p < s->n_plots; p++)
    {
      const MsRect *r = &s->plots[p];
      /* segment t is drawn at r.x + (t − start) · k0 and is to be at r.x + (t − first) · k1 */
      double k0 = r->width / (x->n * x->step), k1 = r->width / n;
      /* drawn with cairo to choose the filter: nearest neighbour, as the figure's cells (a
       * transformed render node would be filtered, and cost several times more) */
      GskRenderNode *node = gsk_cairo_node_new (&GRAPHENE_RECT_INIT (r->x, r->y, r->width, r->height));
      cairo_t *cr = gsk_cairo_node_get_draw_context (node);
      cairo_set_source_rgb (cr, ink, ink, ink);
      cairo_paint (cr);
      cairo_translate (cr, r->x + (x->start - first) * k1, 0);
      cairo_scale (cr, k1 / k0, 1);
      cairo_translate (cr, -r->x, 0);
      cairo_set_source_surface (cr, s->image, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
      cairo_paint (cr);
      cairo_destroy (cr);
      gtk_snapshot_append_node (snapshot, node);
      gsk_render_node_unref (node);
    }
  return TRUE;
}

void
memscope_figure_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MemscopeFigureView *self = MEMSCOPE_FIGURE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  if (self->shown && self->stale == STALE_NONE && !self->job
      && (self->shown->dark != memscope_figure_view_get_dark (self)
          || fabs (self->shown->zoom - memscope_figure_view_get_text_zoom (self)) > 1e-6))
    memscope_figure_view_set_stale (self, STALE_EXTENT);   /* drawn for another style or font */
  if (self->shown)
    {
      double sx, sy;
      memscope_figure_view_figure_scale (self, &sx, &sy);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_scale (snapshot, (float) sx, (float) sy);
      if (!append_zoom_preview (self, snapshot))
        {
          gtk_snapshot_append_node (snapshot, self->shown->node);
          append_highlights (self, snapshot);   /* where the figure drew the cells */
        }
      gtk_snapshot_restore (snapshot);
    }
  else if (self->message)
    {
      PangoLayout *layout = gtk_widget_create_pango_layout (widget, self->message);
      pango_layout_set_width (layout, (w - 40) * PANGO_SCALE);
      pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
      int lw, lh;
      pango_layout_get_pixel_size (layout, &lw, &lh);
      GdkRGBA grey = { 0.45, 0.45, 0.45, 1 };
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (20, (h - lh) / 2.0));
      gtk_snapshot_append_layout (snapshot, layout, &grey);
      gtk_snapshot_restore (snapshot);
      g_object_unref (layout);
    }
  if (gtk_widget_get_visible (self->spinner))
    {
      static const GdkRGBA light = { 1, 1, 1, 0.6 }, dark = { DARK_BACKGROUND, DARK_BACKGROUND, DARK_BACKGROUND, 0.6 };
      gtk_snapshot_append_color (snapshot, memscope_figure_view_get_dark (self) ? &dark : &light,
                                 &GRAPHENE_RECT_INIT (0, 0, w, h));
      gtk_widget_snapshot_child (widget, self->spinner, snapshot);
    }
}

/* ---- in widget coordinates ---- */

void
memscope_figure_view_figure_scale (MemscopeFigureView *self, double *sx, double *sy)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  *sx = self->shown && w > 0 ? (double) w / self->shown->width : 1;
  *sy = self->shown && h > 0 ? (double) h / self->shown->height : 1;
}

static void
to_widget (MemscopeFigureView *self, MsRect *r)
{
  double sx, sy;
  memscope_figure_view_figure_scale (self, &sx, &sy);
  r->x *= sx, r->width *= sx, r->y *= sy, r->height *= sy;
}

gboolean
memscope_figure_view_get_highlight_rect (MemscopeFigureView *self, graphene_rect_t *rect)
{
  MsRect r;
  if (!self->shown || !highlight_rect (self, 0, &r, FALSE))
    return FALSE;
  double sx, sy;
  memscope_figure_view_figure_scale (self, &sx, &sy);
  graphene_rect_init (rect, r.x * sx, r.y * sy, r.width * sx, r.height * sy);
  return TRUE;
}

int
memscope_figure_view_get_plot_rects (MemscopeFigureView *self, MsRect rects[3])
{
  if (!self->shown)
    return 0;
  for (int i = 0; i < self->shown->n_plots; i++)
    {
      rects[i] = self->shown->plots[i];
      to_widget (self, &rects[i]);
    }
  return self->shown->n_plots;
}

gboolean
memscope_figure_view_get_cell_rect (MemscopeFigureView *self, int panel, int row, int col, MsRect *rect)
{
  const Shown *s = self->shown;
  if (!s || !ms_view_figure_cell_rect_in (s->figure, s->plots, s->n_plots, panel, row, col, rect))
    return FALSE;
  to_widget (self, rect);
  return TRUE;
}

gboolean
memscope_figure_view_get_hover_token_rect (MemscopeFigureView *self, int panel, graphene_rect_t *rect)
{
  MsRect r;
  if (!self->shown || panel < 0 || panel >= self->shown->n_plots || !hover_token_rect (self, panel, &r))
    return FALSE;
  to_widget (self, &r);
  *rect = GRAPHENE_RECT_INIT (r.x, r.y, r.width, r.height);
  return TRUE;
}
