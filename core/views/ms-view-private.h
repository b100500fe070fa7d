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

/* The causal views (ms-view-causal.c): MS_VIEW_CAUSAL, MS_VIEW_CAUSAL_SLOTS
 * (over the segment window [@first, @last)) and MS_VIEW_FORGETTING, from
 * what ms-causal.h stored (a view without data, titled to say how to
 * compute it, when the run has none). */
MsViewData *ms_view_causal_load (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const MsViewParams *p,
                                 int first, int last, MsViewReducer reducer, GError **error);

/* Adds to the NLL view @v (one column per @width segments from @first) the
 * series the recording has for @info: the reset-memory baseline ("memory
 * reset at every segment") when computed, and the mean NLL of the tokens
 * a task scores when the input is made of copy or recall instances (runs
 * of at most 2^20 tokens). */
gboolean ms_view_causal_nll_series (MsRecording *rec, const MsRunInfo *info, MsViewData *v, int first, int width,
                                    GError **error);

G_END_DECLS
