/* ms-view.h — the data behind each figure Memscope draws (DESIGN §5, §7).
 *
 * One static table lists every view (ms_view_info): its name (the CLI's
 * --view, the workbench's page, file names), title, what its value is, its
 * shape, which parameters it uses and what its axes are.  ms_view_load turns
 * a recorded run into MsViewData: a matrix or a set of series whose axes are
 * typed (segment, source segment, slot, token, attention position, series)
 * and labelled, with the attention layout where there is one, so that the
 * CLI export, the CSV, the comparison and the GUI all show the same numbers
 * under the same names, and the words a tooltip shows come from here too
 * (ms_view_describe_cell).  No drawing here: ui/ renders MsViewData.
 *
 * Views are computed at the resolution they are drawn: given an output size
 * (MsViewParams.max_cols, .max_rows) and a segment window, a view reads only
 * the segments it needs and aggregates the cells that share an output column
 * with a reducer (mean by default), never by sampling; its value label names
 * the reducer and its axis label the bin width.  Memory is bounded by the
 * output size, not the run's length.
 */
#pragma once

#include "ms-recording.h"
#include "ms-token-align.h"

G_BEGIN_DECLS

typedef enum {
  MS_VIEW_RETENTION,      /* heatmap  slot × segment: retention r_t[i] (DESIGN §5.1) */
  MS_VIEW_REPRESENTATION, /* heatmap  slot × segment: cos(M_{t+1}[i], M_t[i]) (§5.4) */
  MS_VIEW_PROVENANCE,     /* heatmap  source segment × segment: share of memory from each source (§5.3) */
  MS_VIEW_TYPES,          /* stacked  retain / mixed / overwrite fractions × segment (§5.2) */
  MS_VIEW_NLL,            /* lines    mean NLL per segment */
  MS_VIEW_READ_USAGE,     /* heatmap  slot × segment: read attention summed over tokens (§5.5) */
  MS_VIEW_READ,           /* heatmap  one segment: tokens × slots read attention */
  MS_VIEW_WRITE,          /* heatmap  one segment: slots × positions write attention */
  MS_VIEW_SIMILARITY,     /* heatmap  segment × segment: cosine of whole memory states (§5.4) */
  MS_VIEW_READ_HEADS,     /* heatmap  one segment: read attention of every layer × head (and the mean), tiled */
  MS_VIEW_WRITE_HEADS,    /* heatmap  one segment: write attention of every layer × head (and the mean), tiled */
  MS_VIEW_CAUSAL,         /* heatmap  source segment × target segment: ΔNLL with the memory after the source
                             replaced (§5.6, ms-causal.h) */
  MS_VIEW_CAUSAL_SLOTS,   /* heatmap  slot × source segment: mean ΔNLL over the horizon with that slot knocked out */
  MS_VIEW_FORGETTING,     /* lines    mean ΔNLL against t − s, one series per replacement stored */
  MS_VIEW_GATE,           /* heatmap  slot × segment: the engine's update gate α (MemBART), where it has one */
  MS_VIEW_N_KINDS
} MsViewKind;

typedef enum { MS_VIEW_HEATMAP, MS_VIEW_STACKED, MS_VIEW_LINES } MsViewShape;

/* What an axis counts. */
typedef enum {
  MS_VIEW_AXIS_SEGMENT,   /* after segment t (0-based) */
  MS_VIEW_AXIS_SOURCE,    /* source segment s; −1 = the initial memory */
  MS_VIEW_AXIS_SLOT,      /* memory slot i */
  MS_VIEW_AXIS_TOKEN,     /* token j of one segment */
  MS_VIEW_AXIS_POSITION,  /* a column of an attention row; the axis's blocks say which */
  MS_VIEW_AXIS_SERIES,    /* one row per named series (stacked and line views) */
  MS_VIEW_AXIS_GRID,      /* tiles side by side (small multiples): the axis's blocks are the tiles ("layer 2",
                             "head 3", "mean"), each as long as MsViewAxis.tile, the axis of one tile */
  MS_VIEW_AXIS_LAG,       /* sources relative to the column's segment t (provenance with a horizon H):
                             the initial memory ("initial"), "older" (segments before t − H), then
                             t − H … t ("t-H" … "t"); each cell named by its texts */
  MS_VIEW_AXIS_DELAY,     /* segments after a source segment, t − s (1, 2, …): causal retention's targets */
} MsViewAxisKind;

/* The parameters a view uses (MsViewInfo.params). */
typedef enum {
  MS_VIEW_USES_SEGMENT = 1 << 0,
  MS_VIEW_USES_LAYER = 1 << 1,
  MS_VIEW_USES_HEAD = 1 << 2,
  MS_VIEW_USES_SLOT = 1 << 3,
  MS_VIEW_USES_THRESHOLDS = 1 << 4,
  MS_VIEW_USES_WINDOW = 1 << 5,   /* a segment axis that zooms: first/last and max_cols apply */
  MS_VIEW_USES_HORIZON = 1 << 6,  /* provenance: sources counted back from each segment up to a horizon */
} MsViewUses;

/* How the cells that share an output cell are aggregated. */
typedef enum {
  MS_VIEW_REDUCE_DEFAULT,  /* the view's own (MsViewInfo.reducer) */
  MS_VIEW_REDUCE_MEAN,     /* mean of the cells that have data */
  MS_VIEW_REDUCE_MAX,      /* largest of them: where a peak matters */
} MsViewReducer;

typedef struct {
  MsViewKind kind;
  const char *name;         /* one word: "retention", "read-usage", … */
  const char *title;        /* the workbench's page title */
  const char *value;        /* what one value is, in a sentence */
  MsViewShape shape;
  MsViewUses params;
  MsViewAxisKind x, y;      /* y is MS_VIEW_AXIS_SERIES for stacked and line views */
  MsViewReducer reducer;    /* the default */
  gboolean max_allowed;     /* MS_VIEW_REDUCE_MAX makes sense for it */
  guint needs;              /* the per-slot observations (MsObsKind) the model's engine must offer
                               (MsEngine.slot_observations) for the view to have data; 0: any engine */
  gboolean causal;          /* its data is causal retention, computed on demand by ms_causal_compute
                               (memscope-cli causal), not recorded: empty until computed */
} MsViewInfo;

/* The table, in the order the workbench shows the views.  Borrowed,
 * static; @kind < MS_VIEW_N_KINDS. */
const MsViewInfo *ms_view_info (MsViewKind kind);
/* "retention", … → MsViewKind; FALSE for unknown names. */
gboolean ms_view_kind_parse (const char *name, MsViewKind *out);
/* MsViewKind → its name, as ms_view_info (@kind)->name (static). */
const char *ms_view_kind_name (MsViewKind kind);
/* All view names, comma-separated ("retention, representation, …"), for
 * messages and help texts.  Static. */
const char *ms_view_kind_list (void);

typedef struct {
  int segment;          /* −1: the last committed segment (read, write) */
  int layer;            /* −1: the last layer (read, write) */
  int head;             /* −1: mean over heads */
  int slot;             /* −1: mean over slots (provenance) */
  double retain_at;     /* slot types thresholds (0.9, 0.1 by default) */
  double overwrite_at;
  int first, last;      /* segment window [first, last) of views with MS_VIEW_USES_WINDOW;
                           last ≤ 0: to the last committed segment; segments past it have no
                           data (NaN), so runs of different lengths load alike */
  int max_cols;         /* output size: at most this many columns along segments … */
  int max_rows;         /* … and rows along source segments (provenance) or segments (similarity,
                           square: its side is the smaller of the two), each a bin of whole segments;
                           0: one per segment (provenance and similarity stop at MS_VIEW_MAX_SQUARE) */
  int span;             /* the segments max_cols is for (0: the window's length): a comparison passes
                           the longer run's, so both runs get the same bins */
  MsViewReducer reducer;
  int horizon;          /* provenance: H > 0 shows, after each segment t, the shares from the initial
                           memory, from segments older than t − H (one row, "older") and from each of
                           t − H … t (MS_VIEW_AXIS_LAG rows), so its rows stay H + 3 at any length;
                           0: one row per source segment */
  int replacement;      /* causal: the replacement shown (MsCausalReplacement, ms-causal.h), or the first
                           stored of initial, skip, zeros, permute when the run has none of it */
} MsViewParams;

#define MS_VIEW_PARAMS_DEFAULT { -1, -1, -1, -1, 0.9, 0.1, 0, 0, 0, 0, 0, MS_VIEW_REDUCE_DEFAULT, 0, 0 }

/* The largest provenance horizon: rows are H + 3. */
#define MS_VIEW_MAX_HORIZON 4096

/* Provenance over a horizon keeps its recurrence's state every this many
 * segments (the view cache), so a window late in a long run is computed
 * from the mark before it rather than from segment 0. */
#define MS_VIEW_PROVENANCE_MARK_EVERY 1024

/* Similarity keeps, per run, the sum of the unit memory states in base bins
 * of whole segments (the view cache; widths a power of two, one state per
 * bin while the run has few enough segments), at most
 * MS_VIEW_SIMILARITY_BASE_BYTES of them; a load at any size merges them,
 * each output bin a whole number of base bins, so a long run's square may
 * have somewhat fewer bins than pixels.  Runs whose states are so large
 * that fewer than MS_VIEW_SIMILARITY_MIN_BASE_BINS fit keep none. */
#define MS_VIEW_SIMILARITY_MIN_BASE_BINS 1024
#define MS_VIEW_SIMILARITY_BASE_BYTES ((gsize) 16 << 20)

/* The largest side of the square views (provenance, similarity) when no
 * output size is given: longer runs are aggregated into bins. */
#define MS_VIEW_MAX_SQUARE 1024

/* A run of columns of an attention row that mean one thing: the slot itself,
 * the read block, the segment's tokens, the write block. */
typedef struct {
  char *name;           /* "self", "read block", "tokens", "write block" */
  int first, n;         /* cells [first, first + n) of the axis */
  gboolean old_memory;  /* holds M_t: mass here is retention */
  gboolean tokens;      /* holds the segment's tokens in order */
} MsViewBlock;

typedef struct _MsViewAxis {
  MsViewAxisKind kind;
  char *name;           /* what the axis counts: "segment", "memory slot", … */
  char *label;          /* the axis label a figure prints: the name, and the bin width when a cell
                           holds several indices ("segment (42 per column)") */
  int n;                /* cells along the axis (= rows or cols) */
  double start;         /* cell c covers the indices [start + c·step, start + (c+1)·step) */
  double step;          /* 1, or the bin width: whole indices per cell */
  int length;           /* indices covered: [start, start + length), so the last cell may hold fewer */
  int n_blocks;         /* position axes: the attention layout, in order; 0 elsewhere */
  MsViewBlock *blocks;
  char **texts;         /* (n) per cell the text it stands for (a token, ms_token_escape; a segment's
                           first characters), entries may be NULL; NULL when the view has none */
  MsByteRange *bytes;   /* (n) per token cell the bytes of the run's input the token stands for
                           ({0, 0} for other cells), which align the tokens of runs with different
                           tokenizers (ms-token-align.h); NULL when the axis has no token cells */
  struct _MsViewAxis *tile; /* grid axes: the axis of one tile (cell i of a tile is cell i of it), whose
                           cells' names a grid cell's name continues; texts of a grid axis are the tick
                           names of its cells: a token's text, or a slot's index; NULL elsewhere */
} MsViewAxis;

typedef struct {
  MsViewKind kind;
  MsViewShape shape;
  int rows;             /* heatmap rows (y); stacked/lines: number of series */
  int cols;             /* heatmap columns (x); stacked/lines: number of points */
  float *values;        /* (rows, cols) row-major, NaN = no data; owned */
  MsViewAxis x, y;      /* y of stacked and line views: MS_VIEW_AXIS_SERIES, texts = the series names */
  double vmin, vmax;    /* natural value range, NaN = from the data */
  MsViewReducer reducer;/* how binned cells were aggregated (MEAN or MAX) */
  char *title;
  char *quantity;       /* what one value is, e.g. "retention r" */
  char *value_label;    /* colorbar label (heatmap) or y axis (stacked, lines): the quantity, and the
                           reducer when cells are bins ("retention r, mean per column") */
  char **series;        /* NULL-terminated series names (stacked, lines) */
  /* What the view is of */
  gint64 run_id;
  int segment;          /* read, write: the segment shown; −1 otherwise */
  int layer, head;      /* read, write: as shown (head −1 = mean over heads) */
  int slot;             /* provenance: the slot, −1 = mean over slots */
  gboolean rows_complete; /* read, write: each row is a whole softmax row (sums to 1) */
  int replacement;      /* causal: the replacement shown (MsCausalReplacement); −1 otherwise */
  struct {
    guint64 states;     /* similarity: memory states read by this load: each of the run's once, and
                           none a load before kept (ms_view_clear_cache) */
    guint64 pairs;      /* similarity: dot products of two (binned) states, one per output cell */
    guint64 segments;   /* provenance over a horizon: segment rows its recurrence read — from the last
                           mark a load before kept at or before the window (every
                           MS_VIEW_PROVENANCE_MARK_EVERY segments) to the window's end */
  } work;               /* what loading computed, so tests and benchmarks can bound a view's cost by its
                           output's size rather than the run's length; 0 for other views */
} MsViewData;

void ms_view_data_free (MsViewData *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsViewData, ms_view_data_free)

/* Columns [@first, @first + @n) of @v (@first ≥ 0, @n ≥ 1; columns past
 * the end of @v are NaN, so two runs of different lengths cropped alike
 * stay aligned) as a new view: the x axis moves with them, and a value range
 * taken from the data (NaN vmin/vmax) becomes the range of all of @v, so a
 * zoomed figure keeps the colours of the whole one.  Owned. */
MsViewData *ms_view_data_crop_columns (const MsViewData *v, int first, int n);

/* Whether a model of @c can have data in view @kind: FALSE for a view
 * that needs what the model's engine does not offer (the gate of an
 * engine without one).  A client lists only the views offered for the
 * runs it shows; ms_view_load still loads the others, without data. */
gboolean ms_view_offered (const MsConfig *c, MsViewKind kind);

/* The layers a view of @kind can show for a model of @c: the layers of
 * its attention kind (ms-engine.h) for views that use a layer, 0 for the
 * others or when the engine offers none. */
int ms_view_n_layers (const MsConfig *c, MsViewKind kind);

/* @v with every f = ⌈cols / @max_cols⌉ adjacent columns of a segment x
 * axis merged into one (bins of f × step segments, aligned to the axis's
 * start), by @v's reducer: the mean weighted by the segments each column
 * holds, or the max.  Equal to loading at that size when no cell is NaN;
 * NaN cells are left out.  For a figure laid out narrower than the view was
 * loaded for.  Similarity (both axes the same bins of segments) merges its
 * rows alike, each cell weighted by the pairs of segments it holds: the
 * mean cosine over the pairs of the merged bins.  Owned; a copy when no
 * merge is needed, or the x axis is not segments, or both axes are segments
 * of another view. */
MsViewData *ms_view_data_bin_columns (const MsViewData *v, int max_cols);

/* Forgets what view loads kept of the runs read so far (similarity's base
 * bins, provenance's recurrence marks; a bounded process-wide cache whose
 * contents never change a view's numbers, only what a load reads).  For
 * tests that count a load's work. */
void ms_view_clear_cache (void);

/* Loads one view of run @run_id inside one read transaction (one snapshot
 * of a live recording), reading the run's description once.  @params NULL:
 * MS_VIEW_PARAMS_DEFAULT.  Memory is the output cells plus one segment's
 * rows (provenance: K × rows more; similarity: K·d per output bin),
 * whatever the run's length, and what the view cache keeps (similarity's
 * base bins, provenance's marks: bounded per run, see
 * MS_VIEW_SIMILARITY_BASE_BYTES and ms_view_clear_cache); time is one pass
 * over the segments read — similarity: only the states no load before
 * read; provenance over a horizon: from the last mark at or before the
 * window.
 * Errors (MS_ERROR_INPUT) say what was out of range: the run, segment,
 * layer, head, slot, window or reducer; SQLite failures are MS_ERROR_IO
 * naming the file. */
MsViewData *ms_view_load (MsRecording *rec, gint64 run_id, MsViewKind kind, const MsViewParams *params,
                          GError **error);

/* Whether run @run_id has what view @kind draws: TRUE for every view but
 * the causal ones (causal, causal-slots, forgetting), which need
 * ms_causal_compute first and otherwise load as a figure without data whose
 * title says how to compute it, and those not offered for the run's model
 * (ms_view_offered: the gate of an engine without one), which load as a
 * figure without data whose title says so.  FALSE with @error
 * (MS_ERROR_INPUT naming the file and what is missing, or the command that
 * computes it; or the recording's error). */
gboolean ms_view_has_data (MsRecording *rec, gint64 run_id, MsViewKind kind, GError **error);

/* The value at cell (@row, @col) (NaN off the matrix). */
double ms_view_data_get (const MsViewData *v, int row, int col);

/* The words a tooltip shows for cell (@row, @col) of @v: what the value is,
 * at which slot, segment, token or position, with the text of the segment
 * or token where the view carries it.  Stacked and line views: @row −1
 * describes every series at point @col.  Owned; NULL off the matrix. */
char *ms_view_describe_cell (const MsViewData *v, int row, int col);

/* Per token of @v's segment, the value that colours the input text, from an
 * attention view loaded for one segment:
 *   MS_VIEW_WRITE with @slot ≥ 0: how much of each token was written into
 *     slot @slot (the token block of its row);
 *   MS_VIEW_READ: how strongly each token reads memory — the mass its row
 *     puts on the memory when the row also covers tokens, or, when each row
 *     is a whole distribution over the slots (rows_complete), its largest
 *     weight.
 * Returns owned (*@n_tokens) floats and sets *@what to a sentence naming
 * the quantity (static); NULL when @v is not one of those or @slot is out
 * of range. */
float *ms_view_token_values (const MsViewData *v, int slot, int *n_tokens, const char **what);

/* How token @token of @v — a read attention view of one segment
 * (MS_VIEW_READ), whose rows are the segment's tokens — reads the memory:
 * a line naming the quantity, layer and head (and, when a row also covers
 * other positions, the token's total weight on the memory), then its
 * @max_lines heaviest columns, heaviest first, each named as the axis
 * names it (ms_view_axis_cell_name) with its weight, and one line for the
 * rest.  For the workbench's tooltip over a token.  Owned; NULL when @v is
 * not a read view or has no row @token. */
char *ms_view_describe_token_reads (const MsViewData *v, int token, int max_lines);

/* Run B's read or write attention view @b put on the tokens of run A's
 * view @a of the same kind, over the same input (ms-token-align.h): a view
 * with @a's axes (its tokens' texts and bytes) and B's numbers.  A token
 * cell of A takes, along the axis a row distributes over (the columns),
 * the attention of the B tokens whose bytes overlap it in proportion to
 * the share of each B token's bytes inside it (so attention mass moves
 * with the bytes), and along the rows the mean of those B tokens' rows
 * weighted by the bytes in common; any other cell takes B's cell at the
 * same offset of the block of the same name (read block, write block,
 * self, or the slot).  A cell none of B's tokens overlaps is NaN: load @b
 * at the segment of B that holds @a's first token
 * (ms_recording_find_segment_at_byte).  With equal tokens the numbers are
 * B's exactly.  Owned; NULL with MS_ERROR_INPUT when the views are not
 * both read or both write attention, carry no token bytes, or B lacks a
 * non-token cell A has (models with different numbers of slots). */
MsViewData *ms_view_data_align_tokens (const MsViewData *a, const MsViewData *b, GError **error);

/* The numbers of @a (and, when @b is not NULL, of @b and, with
 * @difference, A − B) as CSV text (RFC 4180 quoting, '\n' line ends):
 *   heatmaps: a header row of the x axis's cells under "y label \ x label",
 *     then one row per y cell; a comparison adds a first "run" column and
 *     stacks A's rows, B's rows and the difference's;
 *   stacked and line views: one row per point, the x axis's cell in the
 *     first column and one column per series (per run and series when
 *     comparing).
 * An axis cell is written as its index, or "first..last" (inclusive) when it is a bin,
 * or the block and offset for attention positions; NaN as an empty field.
 * Owned.  NULL with MS_ERROR_INPUT when @a and @b differ in kind, or (for
 * the difference) in shape. */
char *ms_view_data_to_csv (const MsViewData *a, const char *name_a, const MsViewData *b, const char *name_b,
                           gboolean difference, GError **error);

/* The name of axis cell @i as the CSV and the tooltips print it: its
 * index, bin, or block and offset, and a token's text (“␣the”).  Owned. */
char *ms_view_axis_cell_name (const MsViewAxis *axis, int i);

G_END_DECLS
