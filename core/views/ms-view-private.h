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

/* Cells of whole indices (segments) over [first, last), each @width
 * long (the last may hold fewer). */
typedef struct {
  int first, last;      /* the indices covered, [first, last) */
  int width;            /* indices per cell */
  int n;                /* cells */
} MsViewBins;

/* Cells of whole indices over [@first, @last), at most @max_cells (0: one
 * per index) for @span indices (0: last − first). */
MsViewBins ms_view_bins_make (int first, int last, int max_cells, int span);

/* Sets @a's cells to @b's; its label says the bin width (@per: "column",
 * "row"), so the name must be set first. */
void ms_view_axis_set_bins (MsViewAxis *a, const MsViewBins *b, const char *per);

/* Per cell of a segment or source axis of @info's view, the text of the
 * cell's first segment (axis->texts): one short read per output cell. */
gboolean ms_view_load_axis_texts (MsRecording *rec, const MsRunInfo *info, MsViewAxis *axis, GError **error);

/* The similarity view of @info over segments [@first, @last)
 * (ms-view-similarity.c; see there for its bins and cost). */
MsViewData *ms_view_similarity_load (MsRecording *rec, const MsRunInfo *info, const MsViewParams *p, int first,
                                     int last, GError **error);

/* The view cache (ms-view-cache.c): aggregates of a run's committed
 * segments kept between loads, at most MS_VIEW_CACHE_BYTES for the
 * process. */
#define MS_VIEW_CACHE_BYTES ((gsize) 64 << 20)

/* The key of what @what names ("similarity 32", …) for run @info of @rec;
 * NULL when @rec keeps nothing (a recording opened from an image).
 * Owned. */
char *ms_view_cache_key (MsRecording *rec, const MsRunInfo *info, const char *what);

/* The entry under @key, taken out of the cache (owned by the caller, who
 * puts it back or frees it); NULL when there is none or @key is NULL. */
gpointer ms_view_cache_take (const char *key);

/* Puts @data (@bytes large, freed with @free_data) under @key, replacing
 * an entry there and dropping the least recently used beyond the bound;
 * frees it at once when @key is NULL or @data alone is over the bound. */
void ms_view_cache_put (const char *key, gpointer data, gsize bytes, GDestroyNotify free_data);

/* Test hook: the bytes similarity's base bins may take (0: the default,
 * MS_VIEW_SIMILARITY_BASE_BYTES), so a test reaches base bins of many
 * segments without a run of millions.  Set before loading. */
void ms_view_set_similarity_base_bytes (gsize bytes);

G_END_DECLS
