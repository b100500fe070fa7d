/* ms-legend.h — the key of a plot with several series.
 *
 * Entries (a swatch and a name) are set in rows, left to right, centred,
 * wrapping to a new row when the next entry would not fit; plots place the
 * legend in the band between their title and the data, where it never
 * covers data.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "ms-axes.h"
#include "ms-colormap.h"

G_BEGIN_DECLS

typedef enum {
  MS_LEGEND_SWATCH_AREA,  /* a filled box, for stacked areas */
  MS_LEGEND_SWATCH_LINE,  /* a short line, for line plots */
} MsLegendSwatch;

typedef struct {
  const char *name;       /* borrowed */
  MsRgb color;
  MsLegendSwatch swatch;
} MsLegendEntry;

/* The height the @entries[n] need when set in rows @width wide; 0 for n = 0. */
double ms_legend_measure (cairo_t *cr, const MsLegendEntry *entries, int n, double width);

/* Draws @entries[n] in rows across @area, from its top. */
void ms_legend_draw (cairo_t *cr, const MsLegendEntry *entries, int n, const MsRect *area);

G_END_DECLS
