/* ms-view-private.h — what the files of the views share: core/ms-view.c
 * (the table, the view data and its labels), ms-view-load.c (loading),
 * ms-view-describe.c (what a cell means) and ms-view-csv.c (CSV).  Not
 * installed. */
#pragma once

#include "ms-view.h"

G_BEGIN_DECLS

/* A view of @kind of run @info over @values (rows, cols), taken: axes of
 * the table's kinds with one index per cell, value range from the data, no
 * labels yet.  Owned. */
MsViewData *ms_view_data_new (const MsRunInfo *info, MsViewKind kind, float *values, int rows, int cols);

/* Sets @v's title, the axes' names and labels and the value label (copied;
 * NULL for none). */
void ms_view_data_set_labels (MsViewData *v, const char *title, const char *x, const char *y, const char *value);

/* "segment", or "segment (42 per column)" when a cell holds @width > 1
 * indices (@per: "column", "row").  Owned. */
char *ms_view_axis_label (const char *name, int width, const char *per);

/* "mean" or "max" (static). */
const char *ms_view_reducer_name (MsViewReducer reducer);

/* @value, or "@value, mean per column" when columns are bins of @width > 1
 * segments.  Owned. */
char *ms_view_binned_label (const char *value, MsViewReducer reducer, int width);

G_END_DECLS
