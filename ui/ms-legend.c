/* ms-legend.c — laying out and drawing legend rows. */
#include "ms-legend.h"
#include "ms-label.h"

#define SWATCH_WIDTH 12.0
#define SWATCH_PAD 3.0    /* swatch → name */
#define ENTRY_GAP 10.0    /* name → next swatch */
#define ROW_GAP 2.0

static double
entry_width (cairo_t *cr, const MsLegendEntry *e)
{
  double w;
  ms_label_measure (cr, MS_LABEL_TICK, e->name, &w, NULL);
  return SWATCH_WIDTH + SWATCH_PAD + w;
}

/* Entries first..(returned − 1) make the row starting at @first; @row_width
 * receives its width. */
static int
row_end (cairo_t *cr, const MsLegendEntry *entries, int n, int first, double width, double *row_width)
{
  double w = entry_width (cr, &entries[first]);
  int i = first + 1;
  for (; i < n; i++)
    {
      double next = w + ENTRY_GAP + entry_width (cr, &entries[i]);
      if (next > width)
        break;
      w = next;
    }
  *row_width = w;
  return i;
}

double
ms_legend_measure (cairo_t *cr, const MsLegendEntry *entries, int n, double width)
{
  double line = ms_label_line_height (cr, MS_LABEL_TICK), height = 0.0, row_width;
  for (int first = 0; first < n; first = row_end (cr, entries, n, first, width, &row_width))
    height += (height > 0.0 ? ROW_GAP : 0.0) + line;
  return height;
}

void
ms_legend_draw (cairo_t *cr, const MsLegendEntry *entries, int n, const MsRect *area)
{
  double line = ms_label_line_height (cr, MS_LABEL_TICK);
  double y = area->y;
  cairo_save (cr);
  for (int first = 0; first < n;)
    {
      double row_width;
      int end = row_end (cr, entries, n, first, area->width, &row_width);
      double x = area->x + (area->width - row_width) / 2;
      double mid = y + line / 2;
      for (int i = first; i < end; i++)
        {
          const MsLegendEntry *e = &entries[i];
          cairo_set_source_rgb (cr, e->color.r, e->color.g, e->color.b);
          if (e->swatch == MS_LEGEND_SWATCH_AREA)
            {
              cairo_rectangle (cr, x, mid - line * 0.3, SWATCH_WIDTH, line * 0.6);
              cairo_fill (cr);
            }
          else
            {
              cairo_set_line_width (cr, 1.25);
              cairo_move_to (cr, x, mid);
              cairo_line_to (cr, x + SWATCH_WIDTH, mid);
              cairo_stroke (cr);
            }
          ms_label_draw (cr, MS_LABEL_TICK, e->name, x + SWATCH_WIDTH + SWATCH_PAD, mid, 0.0, 0.5, FALSE);
          x += entry_width (cr, e) + ENTRY_GAP;
        }
      y += line + ROW_GAP;
      first = end;
    }
  cairo_restore (cr);
}
