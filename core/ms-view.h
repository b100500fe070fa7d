/* ms-view.h — the data behind each figure Memscope draws (DESIGN §5, §7):
 * one function turns a recorded run into a labelled matrix or set of
 * series, so the CLI export, the comparison and the GUI all show the same
 * numbers under the same names.  No drawing here: ui/ renders MsViewData.
 */
#pragma once

#include "ms-recording.h"

G_BEGIN_DECLS

typedef enum {
  MS_VIEW_RETENTION,   /* heatmap  slot × segment: old share r_t[i] */
  MS_VIEW_TYPES,       /* stacked  retain / mixed / overwrite fractions × segment */
  MS_VIEW_PROVENANCE,  /* heatmap  source segment × segment: share of memory from each source */
  MS_VIEW_SIMILARITY,  /* heatmap  segment × segment: cosine of whole memory states */
  MS_VIEW_READ,        /* heatmap  slot × segment read usage; with a segment: tokens × slots reader attention */
  MS_VIEW_WRITE,       /* heatmap  for one segment: slots × sources of the write attention */
  MS_VIEW_NLL,         /* lines    mean NLL per segment */
} MsViewKind;

typedef enum { MS_VIEW_HEATMAP, MS_VIEW_STACKED, MS_VIEW_LINES } MsViewShape;

typedef struct {
  int segment;          /* −1: not given (read: usage over time; write: the last segment) */
  int layer;            /* −1: the last layer */
  int head;             /* −1: mean over heads */
  int slot;             /* −1: mean over slots (provenance) */
  double retain_at;     /* slot types thresholds (0.9, 0.1 by default) */
  double overwrite_at;
} MsViewParams;

/* The similarity view samples runs longer than this many segments. */
#define MS_VIEW_MAX_SIMILARITY 1024

#define MS_VIEW_PARAMS_DEFAULT { -1, -1, -1, -1, 0.9, 0.1 }

typedef struct {
  MsViewKind kind;
  MsViewShape shape;
  int rows;             /* heatmap rows (y); stacked/lines: number of series */
  int cols;             /* heatmap columns (x); stacked/lines: number of points */
  float *values;        /* (rows, cols) row-major, NaN = no data; owned */
  double x0, x_step;    /* column c is at x0 + c·x_step */
  double y0, y_step;    /* row r is at y0 + r·y_step */
  double vmin, vmax;    /* natural value range, NaN = from the data */
  char *title;
  char *x_label;
  char *y_label;
  char *value_label;    /* colorbar label (heatmap) or y axis (stacked, lines) */
  char **series;        /* NULL-terminated series names (stacked, lines) */
} MsViewData;

void ms_view_data_free (MsViewData *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsViewData, ms_view_data_free)

/* Columns [@first, @first + @n) of @v (@first ≥ 0, @n ≥ 1; columns past
 * the end of @v are NaN, so two runs of different lengths cropped alike
 * stay aligned) as a new view: x0 moves with them, and a value range taken
 * from the data (NaN vmin/vmax) becomes the range of all of @v, so a zoomed
 * figure keeps the colours of the whole one.  Owned. */
MsViewData *ms_view_data_crop_columns (const MsViewData *v, int first, int n);

/* "retention", "types", … ↔ MsViewKind; FALSE for unknown names. */
gboolean ms_view_kind_parse (const char *name, MsViewKind *out);
const char *ms_view_kind_name (MsViewKind kind);
/* All view names, comma-separated, for messages. */
const char *ms_view_kind_list (void);

/* Loads one view of run @run_id.  Errors (MS_ERROR_INPUT) name the file and
 * what was out of range: the run, segment, layer, head or slot. */
MsViewData *ms_view_load (MsRecording *rec, gint64 run_id, MsViewKind kind, const MsViewParams *params,
                          GError **error);

G_END_DECLS
