/* ms-view-load.c — ms_view_load: from recorded rows to view data.  Each
 * loader reads its segments once, in one read transaction, streaming
 * (ms_recording_foreach_segment), and aggregates them into the output's
 * bins as they come, so memory is bounded by the output's cells. */
#include "ms-view-private.h"
#include "ms-analysis.h"
#include "ms-engine.h"
#include "ms-error.h"
#include "ms-kernels.h"
#include "ms-recording-private.h"

#include <math.h>
#include <string.h>

/* ---- bins: whole segments per output cell ---- */

MsViewBins
ms_view_bins_make (int first, int last, int max_cells, int span)
{
  int len = MAX (last - first, 0);
  span = MAX (span, len);
  int width = max_cells > 0 ? (span + max_cells - 1) / max_cells : 1;
  width = MAX (width, 1);
  return (MsViewBins) { first, last, width, MAX ((len + width - 1) / width, 1) };
}

void
ms_view_axis_set_bins (MsViewAxis *a, const MsViewBins *b, const char *per)
{
  a->n = b->n;
  a->start = b->first;
  a->step = b->width;
  a->length = b->last - b->first;
  g_free (a->label);
  a->label = ms_view_axis_label (a->name, b->width, per);
}

/* Sums (or maxima) and counts of the cells that fall into each output cell. */
typedef struct {
  int rows, cols;
  MsViewReducer reducer;
  double *acc;
  int *count;
} Grid;

static void
grid_init (Grid *g, int rows, int cols, MsViewReducer reducer)
{
  g->rows = rows, g->cols = cols, g->reducer = reducer;
  g->acc = g_new0 (double, (size_t) rows * cols);
  g->count = g_new0 (int, (size_t) rows * cols);
}

static void
grid_add (Grid *g, int row, int col, double value)
{
  if (isnan (value))
    return;
  size_t k = (size_t) row * g->cols + col;
  if (g->reducer == MS_VIEW_REDUCE_MAX)
    g->acc[k] = g->count[k] == 0 ? value : MAX (g->acc[k], value);
  else
    g->acc[k] += value;
  g->count[k]++;
}

/* The reduced values (rows, cols), NaN where no cell had data; frees the
 * sums.  Owned. */
static float *
grid_finish (Grid *g)
{
  float *out = g_new (float, (size_t) g->rows * g->cols);
  for (size_t k = 0; k < (size_t) g->rows * g->cols; k++)
    out[k] = g->count[k] == 0 ? NAN : (float) (g->reducer == MS_VIEW_REDUCE_MAX ? g->acc[k] : g->acc[k] / g->count[k]);
  g_clear_pointer (&g->acc, g_free);
  g_clear_pointer (&g->count, g_free);
  return out;
}

/* ---- segment texts ---- */

#define EXCERPT_CHARS 48

/* The first EXCERPT_CHARS characters of @len bytes of text, on one line. */
static char *
excerpt (const char *text, int len)
{
  g_autofree char *valid = g_utf8_make_valid (text ? text : "", text ? len : 0);
  g_strdelimit (valid, "\n\r\t", ' ');
  if (g_utf8_strlen (valid, -1) <= EXCERPT_CHARS)
    return g_steal_pointer (&valid);
  g_autofree char *cut = g_utf8_substring (valid, 0, EXCERPT_CHARS);
  return g_strconcat (cut, "…", NULL);
}

typedef struct {
  MsViewAxis *axis;
  int origin;           /* the index of cell 0's first segment */
} TextsFill;

static gboolean
on_text (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  TextsFill *f = data;
  int cell = (int) ((seg->segment - f->origin) / f->axis->step);
  if (cell >= 0 && cell < f->axis->n && !f->axis->texts[cell])
    f->axis->texts[cell] = excerpt (seg->text, seg->text_len);
  return TRUE;
}

gboolean
ms_view_load_axis_texts (MsRecording *rec, const MsRunInfo *info, MsViewAxis *axis, GError **error)
{
  axis->texts = g_new0 (char *, MAX (axis->n, 1));
  int first = (int) axis->start, width = (int) axis->step;
  /* a source axis starts at −1, the initial memory, which has no text */
  int origin = first;
  if (first < 0)
    first += width * ((-first + width - 1) / width);
  TextsFill f = { axis, origin };
  return ms_recording_foreach_segment (rec, info, first, (int) axis->start + axis->length, width, MS_SEGMENT_TEXT,
                                       on_text, &f, error);
}


/* ---- per-segment views ---- */

typedef struct {
  MsViewBins bins;
  Grid grid;
  MsSlotQuantity q;
  int K;
  double retain_at, overwrite_at;
} SegmentFill;

static gboolean
on_slots (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  SegmentFill *f = data;
  int c = (seg->segment - f->bins.first) / f->bins.width;
  for (int i = 0; i < f->K; i++)
    grid_add (&f->grid, i, c, seg->slots[f->q][i]);
  return TRUE;
}

static gboolean
on_types (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  SegmentFill *f = data;
  int c = (seg->segment - f->bins.first) / f->bins.width;
  int counts[3];
  ms_slot_type_counts (seg->slots[MS_SLOT_RETENTION], f->K, f->retain_at, f->overwrite_at, counts);
  for (int k = 0; k < 3; k++)
    grid_add (&f->grid, k, c, (double) counts[k] / f->K);
  return TRUE;
}

static gboolean
on_nll (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  SegmentFill *f = data;
  grid_add (&f->grid, 0, (seg->segment - f->bins.first) / f->bins.width, seg->nll);
  return TRUE;
}

/* Views with one value per (row, segment): retention, representation, read
 * usage, slot types, NLL. */
static MsViewData *
per_segment (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const MsViewParams *p, MsViewBins bins,
             MsViewReducer reducer, GError **error)
{
  SegmentFill f = { .bins = bins, .q = MS_SLOT_RETENTION, .K = info->config.n_slots, .retain_at = p->retain_at,
                    .overwrite_at = p->overwrite_at };
  MsSegmentFunc func = on_slots;
  guint fields;
  int rows = f.K;
  switch (kind)
    {
    case MS_VIEW_REPRESENTATION: f.q = MS_SLOT_REPRESENTATION; break;
    case MS_VIEW_READ_USAGE: f.q = MS_SLOT_READ_USAGE; break;
    case MS_VIEW_GATE: f.q = MS_SLOT_GATE; break;
    case MS_VIEW_TYPES: func = on_types, rows = 3; break;
    case MS_VIEW_NLL: func = on_nll, rows = 1; break;
    default: break;
    }
  fields = kind == MS_VIEW_NLL ? MS_SEGMENT_NLL : 1u << f.q;
  grid_init (&f.grid, rows, bins.n, reducer);
  if (!ms_recording_foreach_segment (rec, info, bins.first, bins.last, 1, fields, func, &f, error))
    {
      g_free (grid_finish (&f.grid));
      return NULL;
    }
  MsViewData *v = ms_view_data_new (info, kind, grid_finish (&f.grid), rows, bins.n);
  v->reducer = reducer;
  const char *value = NULL;
  switch (kind)
    {
    case MS_VIEW_RETENTION:
      ms_view_data_set_labels (v, "Slot retention", "segment", "memory slot", NULL);
      value = "retention r";
      v->vmin = 0, v->vmax = 1;
      break;
    case MS_VIEW_REPRESENTATION:
      ms_view_data_set_labels (v, "Representation retention", "segment", "memory slot", NULL);
      value = "cos(slot after, before)";
      v->vmin = -1, v->vmax = 1;
      break;
    case MS_VIEW_READ_USAGE:
      ms_view_data_set_labels (v, "Read usage", "segment", "memory slot", NULL);
      value = "read usage";
      v->vmin = 0;
      break;
    case MS_VIEW_GATE:
      {
        /* an engine without a gate stores none: every cell NaN */
        g_autofree char *title = ms_view_offered (&info->config, kind)
          ? g_strdup ("Update gate α") : g_strdup_printf ("Update gate α: %s has no gate",
                                                          info->config.engine->display_name);
        ms_view_data_set_labels (v, title, "segment", "memory slot", NULL);
        value = "gate α (share of the slot rewritten)";
        v->vmin = 0, v->vmax = 1;
        break;
      }
    case MS_VIEW_TYPES:
      {
        g_autofree char *title = g_strdup_printf ("Slot types (retain: r ≥ %g, overwrite: r ≤ %g)", p->retain_at,
                                                  p->overwrite_at);
        ms_view_data_set_labels (v, title, "segment", NULL, NULL);
        value = "fraction of slots";
        v->series = g_strsplit ("retain,mixed,overwrite", ",", -1);
        v->vmin = 0, v->vmax = 1;
        break;
      }
    default:
      ms_view_data_set_labels (v, "Per-segment NLL", "segment", NULL, NULL);
      value = "NLL (nats/token)";
      v->series = g_strsplit ("mean NLL", ",", -1);
      break;
    }
  ms_view_axis_set_bins (&v->x, &bins, "column");
  v->quantity = g_strdup (value);
  v->value_label = ms_view_binned_label (value, reducer, bins.width);
  if (v->series)
    {
      v->y.texts = g_new0 (char *, rows);
      for (int r = 0; r < rows; r++)
        v->y.texts[r] = g_strdup (v->series[r]);
    }
  if (kind == MS_VIEW_NLL && !ms_view_causal_nll_series (rec, info, v, bins.first, bins.width, error))
    return ms_view_data_free (v), NULL;
  if (!ms_view_load_axis_texts (rec, info, &v->x, error))
    return ms_view_data_free (v), NULL;
  return v;
}

/* ---- provenance ---- */

/* Column @r of the provenance @P ((K, R): per slot, the share of each
 * source): slot @slot's share, or with @slot −1 the mean over the slots. */
static double
slot_or_mean (const float *P, int K, int R, int slot, int r)
{
  if (slot >= 0)
    return P[(size_t) slot * R + r];
  double sum = 0;
  for (int i = 0; i < K; i++)
    sum += P[(size_t) i * R + r];
  return sum / K;
}

typedef struct {
  MsViewBins cols, rows;      /* columns: after segment t in the window; rows: sources −1 … last − 1 */
  int K, slot;
  float *prev, *next;   /* (K, rows.n) */
  MsWriteDistribution *wd;
  double *acc;          /* (rows.n, cols.n) sums over the column's segments */
  int *n_summed;        /* (cols.n) segments summed per column */
} ProvenanceFill;

static gboolean
on_provenance (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  ProvenanceFill *f = data;
  int K = f->K, R = f->rows.n, t = seg->segment;
  memcpy (f->wd->token_share, seg->slots[MS_SLOT_TOKEN_SHARE], K * sizeof (float));
  memcpy (f->wd->transfer, seg->transfer, (size_t) K * K * sizeof (float));
  /* source t sits at index t + 1 of the source axis (−1 is the first) */
  ms_provenance_step_binned (f->prev, K, R, (t + 1) / f->rows.width, f->wd, f->next);
  float *swap = f->prev;
  f->prev = f->next;
  f->next = swap;
  if (t < f->cols.first)
    return TRUE;
  int c = (t - f->cols.first) / f->cols.width;
  /* rows after source t's hold nothing yet */
  for (int r = 0; r <= (t + 1) / f->rows.width && r < R; r++)
    f->acc[(size_t) r * f->cols.n + c] += slot_or_mean (f->prev, K, R, f->slot, r);
  f->n_summed[c]++;
  return TRUE;
}

/* Rows: source bins over −1 … last − 1; columns: after segment t, binned
 * over the window.  The recurrence runs from segment 0 with the sources
 * kept in the rows' bins (ms_provenance_step_binned), so memory is
 * (K + columns) × rows.  A cell is the mean over its column's segments of
 * the share from its sources (0 while they lie in the future); NaN when
 * every source of the row comes after every segment of the column. */
static MsViewData *
provenance (MsRecording *rec, const MsRunInfo *info, const MsViewParams *p, int first, int last, GError **error)
{
  int K = info->config.n_slots;
  if (p->slot >= K)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "slot %d is out of range: the run has %d memory slots (0 … %d)",
                   p->slot, K, K - 1);
      return NULL;
    }
  ProvenanceFill f = { .cols = ms_view_bins_make (first, last, p->max_cols > 0 ? p->max_cols : MS_VIEW_MAX_SQUARE, p->span),
                       .rows = ms_view_bins_make (-1, last, p->max_rows > 0 ? p->max_rows : MS_VIEW_MAX_SQUARE,
                                          p->span ? p->span + 1 : 0),
                       .K = K, .slot = p->slot };
  int R = f.rows.n, C = f.cols.n;
  f.prev = g_new0 (float, (size_t) K * R);
  f.next = g_new0 (float, (size_t) K * R);
  for (int i = 0; i < K; i++)
    f.prev[(size_t) i * R] = 1;   /* P_0: all from the initial memory */
  f.wd = ms_write_distribution_new (K, 0);
  f.acc = g_new0 (double, (size_t) R * C);
  f.n_summed = g_new0 (int, C);
  gboolean ok = ms_recording_foreach_segment (rec, info, 0, last, 1, (1u << MS_SLOT_TOKEN_SHARE) | MS_SEGMENT_TRANSFER,
                                              on_provenance, &f, error);
  float *out = g_new (float, (size_t) R * C);
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++)
      {
        int first_source = -1 + r * f.rows.width;
        int last_segment = MIN (first + (c + 1) * f.cols.width, last) - 1;
        size_t k = (size_t) r * C + c;
        out[k] = f.n_summed[c] == 0 || first_source > last_segment ? NAN : (float) (f.acc[k] / f.n_summed[c]);
      }
  g_free (f.prev), g_free (f.next), g_free (f.acc), g_free (f.n_summed);
  ms_write_distribution_free (f.wd);
  if (!ok)
    return g_free (out), NULL;
  MsViewData *v = ms_view_data_new (info, MS_VIEW_PROVENANCE, out, R, C);
  v->slot = p->slot;
  g_autofree char *title = p->slot >= 0 ? g_strdup_printf ("Provenance of slot %d (−1 = initial memory)", p->slot)
                                        : g_strdup ("Provenance (mean over slots; −1 = initial memory)");
  ms_view_data_set_labels (v, title, "after segment", "source segment", NULL);
  /* a row's share is the sum over its sources: the y label says how many */
  ms_view_axis_set_bins (&v->x, &f.cols, "column");
  ms_view_axis_set_bins (&v->y, &f.rows, "row");
  v->quantity = g_strdup ("share of content");
  v->value_label = ms_view_binned_label (v->quantity, MS_VIEW_REDUCE_MEAN, f.cols.width);
  v->vmin = 0, v->vmax = 1;
  if (!ms_view_load_axis_texts (rec, info, &v->x, error) || !ms_view_load_axis_texts (rec, info, &v->y, error))
    return ms_view_data_free (v), NULL;
  return v;
}

/* ---- provenance with a horizon ---- */

typedef struct {
  MsViewBins cols;            /* columns: after segment t in the window */
  int K, slot, H;
  int R;                /* rows H + 3: the initial memory, older than t − H, then t − H … t */
  float *prev, *next;   /* (K, R), columns as the rows */
  Grid grid;            /* (R, cols.n) */
  struct _RecentMarks *marks;
  guint64 segments;     /* segment rows read */
} RecentFill;

/* The recurrence's state before segment m · MS_VIEW_PROVENANCE_MARK_EVERY,
 * m = 0 … n − 1: kept in the view cache, so a window late in a long run
 * starts from the mark before it.  The state after a segment depends only
 * on the segments before, which never change once committed. */
typedef struct _RecentMarks {
  int K, R;
  int n, allocated;
  float *states;        /* (n, K, R) */
} RecentMarks;

static void
recent_marks_free (gpointer data)
{
  RecentMarks *m = data;
  g_free (m->states);
  g_free (m);
}

/* Keeps @state (K, R), the state before segment @t, when @t is the next mark. */
static void
recent_marks_add (RecentMarks *m, int t, const float *state)
{
  if (t % MS_VIEW_PROVENANCE_MARK_EVERY != 0 || t / MS_VIEW_PROVENANCE_MARK_EVERY != m->n)
    return;
  size_t one = (size_t) m->K * m->R;
  if (m->n == m->allocated)
    {
      m->allocated = MAX (16, m->allocated * 2);
      m->states = g_renew (float, m->states, (size_t) m->allocated * one);
    }
  memcpy (m->states + (size_t) m->n * one, state, one * sizeof (float));
  m->n++;
}

static gboolean
on_provenance_recent (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  RecentFill *f = data;
  int K = f->K, R = f->R, H = f->H, t = seg->segment;
  f->segments++;
  recent_marks_add (f->marks, t, f->prev);
  /* next = T · prev, where prev's sources are counted back from t − 1: its
   * column 2 + j is segment t − 1 − H + j, which is t's column 1 + j */
  memset (f->next, 0, (size_t) K * R * sizeof (float));
  for (int i = 0; i < K; i++)
    {
      float *out = f->next + (size_t) i * R;
      for (int j = 0; j < K; j++)
        {
          float w = seg->transfer[(size_t) i * K + j];
          if (w == 0.0f)
            continue;   /* as ms_provenance_step: a zero weight spreads no NaN */
          const float *src = f->prev + (size_t) j * R;
          out[0] += w * src[0];
          out[1] += w * (src[1] + src[2]);   /* t − 1 − H falls out of the horizon into "older" */
          for (int c = 2; c + 1 < R; c++)
            out[c] += w * src[c + 1];
        }
      out[R - 1] = seg->slots[MS_SLOT_TOKEN_SHARE][i];   /* segment t itself */
    }
  float *swap = f->prev;
  f->prev = f->next;
  f->next = swap;
  if (t < f->cols.first)
    return TRUE;
  int c = (t - f->cols.first) / f->cols.width;
  for (int r = 0; r < R; r++)
    {
      /* row 1 holds segments before t − H, row 2 + j segment t − H + j: none before segment 0 */
      if ((r == 1 && t - H - 1 < 0) || (r >= 2 && t - H + (r - 2) < 0))
        continue;
      grid_add (&f->grid, r, c, slot_or_mean (f->prev, K, R, f->slot, r));
    }
  return TRUE;
}

/* Runs @f's recurrence over the segments up to @last, from the last mark
 * kept at or before @first (the marks extended on the way). */
static gboolean
provenance_recent_pass (MsRecording *rec, const MsRunInfo *info, RecentFill *f, int first, int last, GError **error)
{
  int K = f->K, R = f->R;
  g_autofree char *what = g_strdup_printf ("provenance marks, horizon %d", f->H);
  g_autofree char *key = ms_view_cache_key (rec, info, what);
  f->marks = key ? ms_view_cache_take (key) : NULL;
  if (f->marks && (f->marks->K != K || f->marks->R != R))
    g_clear_pointer (&f->marks, recent_marks_free);
  if (!f->marks)
    {
      f->marks = g_new0 (RecentMarks, 1);
      f->marks->K = K, f->marks->R = R;
    }
  /* from the last mark at or before the window (segment 0 is the first) */
  int m = MIN (first / MS_VIEW_PROVENANCE_MARK_EVERY, f->marks->n - 1), start = 0;
  if (m > 0)
    {
      memcpy (f->prev, f->marks->states + (size_t) m * K * R, (size_t) K * R * sizeof (float));
      start = m * MS_VIEW_PROVENANCE_MARK_EVERY;
    }
  gboolean ok = ms_recording_foreach_segment (rec, info, start, last, 1,
                                              (1u << MS_SLOT_TOKEN_SHARE) | MS_SEGMENT_TRANSFER,
                                              on_provenance_recent, f, error);
  RecentMarks *marks = g_steal_pointer (&f->marks);
  ms_view_cache_put (key, marks, sizeof *marks + (size_t) marks->allocated * K * R * sizeof (float),
                     recent_marks_free);
  return ok;
}

/* Provenance over a horizon of H segments: per column (after segment t,
 * binned over the window, mean over its segments) the share of the memory
 * from the initial memory, from segments before t − H together, and from
 * each of t − H … t.  The recurrence is provenance's with the sources kept
 * relative to the segment, so memory is K × (H + 3) and the output
 * (H + 3) × columns whatever the run's length, plus the recurrence's marks
 * kept in the view cache (K × (H + 3) every MS_VIEW_PROVENANCE_MARK_EVERY
 * segments); a load reads the segments from the last mark at or before the
 * window to its end.  NaN where a row names no segment yet
 * (t − H + j < 0). */
static MsViewData *
provenance_recent (MsRecording *rec, const MsRunInfo *info, const MsViewParams *p, int first, int last,
                   GError **error)
{
  int K = info->config.n_slots, H = p->horizon;
  RecentFill f = { .cols = ms_view_bins_make (first, last, p->max_cols > 0 ? p->max_cols : MS_VIEW_MAX_SQUARE, p->span),
                   .K = K, .slot = p->slot, .H = H, .R = H + 3 };
  int R = f.R, C = f.cols.n;
  f.prev = g_new0 (float, (size_t) K * R);
  f.next = g_new0 (float, (size_t) K * R);
  for (int i = 0; i < K; i++)
    f.prev[(size_t) i * R] = 1;   /* P_0: all from the initial memory */
  grid_init (&f.grid, R, C, MS_VIEW_REDUCE_MEAN);
  gboolean ok = provenance_recent_pass (rec, info, &f, first, last, error);
  g_free (f.prev), g_free (f.next);
  float *out = grid_finish (&f.grid);
  if (!ok)
    return g_free (out), NULL;
  MsViewData *v = ms_view_data_new (info, MS_VIEW_PROVENANCE, out, R, C);
  v->work.segments = f.segments;
  v->slot = p->slot;
  g_autofree char *title = p->slot >= 0
    ? g_strdup_printf ("Provenance of slot %d over the last %d segments", p->slot, H)
    : g_strdup_printf ("Provenance over the last %d segments (mean over slots)", H);
  ms_view_data_set_labels (v, title, "after segment t", "source segment", NULL);
  ms_view_axis_set_bins (&v->x, &f.cols, "column");
  v->y.kind = MS_VIEW_AXIS_LAG;
  v->y.n = R;
  v->y.start = 0;
  v->y.step = 1;
  v->y.length = R;
  v->y.texts = g_new0 (char *, R);
  /* short names: tick labels are cut at ten characters; the axis label says what they mean */
  v->y.texts[0] = g_strdup ("initial");
  v->y.texts[1] = g_strdup ("older");
  for (int j = 0; j <= H; j++)
    v->y.texts[2 + j] = j == H ? g_strdup ("t") : g_strdup_printf ("t-%d", H - j);
  v->quantity = g_strdup ("share of content");
  v->value_label = ms_view_binned_label (v->quantity, MS_VIEW_REDUCE_MEAN, f.cols.width);
  v->vmin = 0, v->vmax = 1;
  if (!ms_view_load_axis_texts (rec, info, &v->x, error))
    return ms_view_data_free (v), NULL;
  return v;
}

/* ---- attention of one segment ---- */

/* An axis of an attention view from the blocks of the engine's layout
 * (ms-engine.h) for a segment of @n tokens: one SLOTS block is a slot axis,
 * one TOKENS block a token axis, anything else positions in blocks. */
static void
attention_axis (MsViewAxis *axis, const MsAttentionBlock *blocks, int n_blocks, const MsConfig *c, int n)
{
  if (n_blocks == 1 && blocks[0].extent != MS_BLOCK_SELF)
    {
      gboolean slots = blocks[0].extent == MS_BLOCK_SLOTS;
      axis->kind = slots ? MS_VIEW_AXIS_SLOT : MS_VIEW_AXIS_TOKEN;
      axis->label = !slots ? g_strdup ("token")
                    : g_str_equal (blocks[0].label, "slots") ? g_strdup ("memory slot")
                                                             : g_strdup_printf ("%s slot", blocks[0].label);
      return;
    }
  axis->kind = MS_VIEW_AXIS_POSITION;
  axis->n_blocks = n_blocks;
  axis->blocks = g_new0 (MsViewBlock, MAX (n_blocks, 1));
  GString *label = g_string_new ("position: ");
  for (int b = 0, first = 0; b < n_blocks; b++)
    {
      int size = ms_attention_block_size (&blocks[b], c, n);
      axis->blocks[b] = (MsViewBlock) { g_strdup (blocks[b].label), first, size, blocks[b].old_memory,
                                        blocks[b].extent == MS_BLOCK_TOKENS };
      g_string_append_printf (label, "%s%s", b ? " | " : "", blocks[b].label);
      first += size;
    }
  axis->label = g_string_free (label, FALSE);
}

/* Per token cell of @axis (the token axis, or the tokens block of a
 * position axis), its text (ms_token_escape) and its bytes of the input:
 * token j is @tokens[j] of the segment's @text, which starts at byte
 * @byte_begin of the input. */
static void
attention_token_texts (MsViewAxis *axis, GBytes *text, const MsToken *tokens, int n_tokens, guint64 byte_begin)
{
  const guint8 *bytes = g_bytes_get_data (text, NULL);
  int first = -1;
  if (axis->kind == MS_VIEW_AXIS_TOKEN)
    first = 0;
  for (int b = 0; b < axis->n_blocks; b++)
    if (axis->blocks[b].tokens)
      first = axis->blocks[b].first;
  if (first < 0)
    return;
  axis->texts = g_new0 (char *, MAX (axis->n, 1));
  axis->bytes = g_new0 (MsByteRange, MAX (axis->n, 1));
  for (int j = 0; j < n_tokens && first + j < axis->n; j++)
    {
      axis->texts[first + j] = ms_token_escape (bytes + tokens[j].start, tokens[j].end - tokens[j].start);
      axis->bytes[first + j] = (MsByteRange) { byte_begin + tokens[j].start, byte_begin + tokens[j].end };
    }
}

/* Whether every row with data sums to 1: each row is a whole softmax row,
 * not a slice of one. */
static gboolean
rows_are_distributions (const float *m, int rows, int cols)
{
  for (int i = 0; i < rows; i++)
    {
      double sum = 0;
      for (int j = 0; j < cols; j++)
        sum += m[(size_t) i * cols + j];
      if (!isnan (sum) && fabs (sum - 1) > 1e-2)
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_index (const char *what, int value, int n, GError **error)
{
  if (value < 0 || value >= n)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s %d is out of range (the run has %d: 0 … %d)", what, value, n,
                   n - 1);
      return FALSE;
    }
  return TRUE;
}

static MsViewData *
attention (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const MsViewParams *p, GError **error)
{
  const MsConfig *c = &info->config;
  MsObsKind obs = kind == MS_VIEW_READ ? MS_OBS_READ : MS_OBS_WRITE;
  const MsAttentionLayout *a = ms_engine_find_attention (c->engine, obs);
  if (!a)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "run %" G_GINT64_FORMAT " has a %s model, which offers no %s "
                   "attention", info->id, c->engine->display_name, ms_obs_kind_stored_name (obs));
      return NULL;
    }
  int n_layers = ms_attention_layout_n_layers (a, c);
  int segment = p->segment >= 0 ? p->segment : info->segments_done - 1;
  int layer = p->layer >= 0 ? p->layer : n_layers - 1;
  if (!check_index ("segment", segment, info->segments_done, error) || !check_index ("layer", layer, n_layers, error)
      || (p->head >= 0 && !check_index ("head", p->head, c->n_heads, error)))
    return NULL;
  int rows, cols;
  float *m = ms_recording_attention (rec, info, segment, obs, layer, p->head, &rows, &cols, error);
  if (!m)
    return NULL;
  g_autoptr (GBytes) text = ms_recording_segment_text (rec, info->id, segment, error);
  size_t n_stored = 0;
  guint64 byte_begin = 0;
  g_autofree MsToken *tokens = text ? ms_recording_segment_tokens (rec, info, segment, &n_stored, &byte_begin, error)
                                    : NULL;
  if (!tokens)
    return g_free (m), NULL;
  /* the segment's token count: the shape grows by one row or column per token */
  int rows0, cols0, rows1, cols1;
  ms_attention_layout_shape (a, c, 0, NULL, &rows0, &cols0);
  ms_attention_layout_shape (a, c, 1, NULL, &rows1, &cols1);
  int n_tokens = cols1 > cols0   ? (cols - cols0) / (cols1 - cols0)
                 : rows1 > rows0 ? (rows - rows0) / (rows1 - rows0)
                                 : 0;
  MsViewData *v = ms_view_data_new (info, kind, m, rows, cols);
  v->segment = segment;
  v->layer = layer;
  v->head = p->head;
  v->rows_complete = rows_are_distributions (m, rows, cols);
  attention_axis (&v->x, a->cols, a->n_col_blocks, c, n_tokens);
  attention_axis (&v->y, a->rows, a->n_row_blocks, c, n_tokens);
  v->x.n = cols, v->x.length = cols;
  v->y.n = rows, v->y.length = rows;
  if (n_tokens > 0 && (size_t) n_tokens == n_stored)
    {
      attention_token_texts (&v->x, text, tokens, n_tokens, byte_begin);
      attention_token_texts (&v->y, text, tokens, n_tokens, byte_begin);
    }
  g_autofree char *head = p->head >= 0 ? g_strdup_printf ("head %d", p->head) : g_strdup ("mean over heads");
  v->title = ms_attention_layout_is_per_layer (a)
               ? g_strdup_printf ("%s (segment %d, layer %d, %s)", a->display_name, segment, layer, head)
               : g_strdup_printf ("%s (segment %d, %s)", a->display_name, segment, head);
  v->quantity = g_strdup (kind == MS_VIEW_READ ? "read attention weight" : "write attention weight");
  v->value_label = g_strdup (v->quantity);
  v->vmin = 0;
  return v;
}

/* ---- every layer and head of one segment ---- */

/* The ms_view_axis_cell_name-style copy of @from, for MsViewAxis.tile. */
static MsViewAxis *
tile_axis_new (const MsViewAxis *from)
{
  MsViewAxis *t = g_new0 (MsViewAxis, 1);
  *t = (MsViewAxis) { from->kind, g_strdup (from->name), g_strdup (from->label), from->n, from->start, from->step,
                      from->length, from->n_blocks, NULL, NULL, NULL, NULL };
  t->blocks = g_new0 (MsViewBlock, MAX (from->n_blocks, 1));
  for (int b = 0; b < from->n_blocks; b++)
    t->blocks[b] = from->blocks[b], t->blocks[b].name = g_strdup (from->blocks[b].name);
  if (from->texts)
    {
      t->texts = g_new0 (char *, MAX (from->n, 1));
      for (int i = 0; i < from->n; i++)
        t->texts[i] = g_strdup (from->texts[i]);
    }
  return t;
}

/* A grid axis of @n_tiles tiles named @names (taken), each a copy of
 * @tile, whose label says it counts @what (NULL: one tile, labelled as @tile): its
 * tick names are the tile's token texts, or the index of each cell where
 * the tile's axis is one plain index (slots); NULL in a tile laid out in
 * blocks, whose bands the grid's own bands replace. */
static void
grid_axis (MsViewAxis *axis, const MsViewAxis *tile, char **names, int n_tiles, const char *what)
{
  axis->kind = MS_VIEW_AXIS_GRID;
  axis->name = g_strdup (what ? what : tile->name);
  axis->label = what ? g_strdup_printf ("%s: %s", what, tile->label ? tile->label : "") : g_strdup (tile->label);
  axis->n = axis->length = n_tiles * tile->n;
  axis->start = 0, axis->step = 1;
  axis->n_blocks = n_tiles;
  axis->blocks = g_new0 (MsViewBlock, (gsize) MAX (n_tiles, 1));
  axis->texts = g_new0 (char *, MAX (axis->n, 1));
  for (int t = 0; t < n_tiles; t++)
    {
      axis->blocks[t] = (MsViewBlock) { names[t], t * tile->n, tile->n, FALSE, FALSE };
      for (int i = 0; i < tile->n; i++)
        axis->texts[t * tile->n + i] = tile->texts && tile->texts[i] ? g_strdup (tile->texts[i])
                                       : tile->n_blocks == 0        ? g_strdup_printf ("%d", i)
                                                                     : NULL;
    }
  axis->tile = tile_axis_new (tile);
}

/* The read or write attention (@kind READ_HEADS, WRITE_HEADS) of one
 * segment for every layer (rows of tiles) and every head, then the mean
 * over heads (columns of tiles), as one matrix of tiles on one colour
 * scale.  Each tile is the single read or write view's matrix. */
static MsViewData *
attention_grid (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const MsViewParams *p, GError **error)
{
  const MsConfig *c = &info->config;
  MsViewKind single = kind == MS_VIEW_READ_HEADS ? MS_VIEW_READ : MS_VIEW_WRITE;
  const MsAttentionLayout *a = ms_engine_find_attention (c->engine, single == MS_VIEW_READ ? MS_OBS_READ
                                                                                          : MS_OBS_WRITE);
  int n_layers = a ? MAX (ms_attention_layout_n_layers (a, c), 1) : 1, n_tiles = MAX (c->n_heads, 1) + 1;
  g_autoptr (GPtrArray) tiles = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_view_data_free);
  for (int l = 0; l < n_layers; l++)
    for (int h = 0; h < n_tiles; h++)
      {
        MsViewParams q = *p;
        q.layer = l, q.head = h < c->n_heads ? h : -1;
        MsViewData *t = attention (rec, info, single, &q, error);
        if (!t)
          return NULL;
        g_ptr_array_add (tiles, t);
      }
  const MsViewData *t0 = tiles->pdata[0];
  int rows = t0->rows, cols = t0->cols;
  /* one matrix of tiles: every tile has the first's shape (the reader checks
   * each against the layout; a tile of another shape would be copied past
   * its end) */
  for (guint i = 1; i < tiles->len; i++)
    {
      const MsViewData *t = tiles->pdata[i];
      if (t->rows != rows || t->cols != cols)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", segment %d: the attention of "
                       "layer %u, %s is %d × %d where the first layer's first head is %d × %d (the recording is "
                       "damaged or altered)", ms_recording_get_path (rec), info->id, t0->segment, i / n_tiles,
                       (int) (i % n_tiles) < c->n_heads ? "one head" : "the mean over heads", t->rows, t->cols, rows,
                       cols);
          return NULL;
        }
    }
  float *values = g_new (float, (size_t) n_layers * rows * n_tiles * cols);
  for (int l = 0; l < n_layers; l++)
    for (int h = 0; h < n_tiles; h++)
      {
        const MsViewData *t = tiles->pdata[l * n_tiles + h];
        for (int r = 0; r < rows; r++)
          memcpy (values + ((size_t) (l * rows + r) * n_tiles + h) * cols, t->values + (size_t) r * cols,
                  cols * sizeof (float));
      }
  MsViewData *v = ms_view_data_new (info, kind, values, n_layers * rows, n_tiles * cols);
  v->segment = t0->segment;
  v->rows_complete = t0->rows_complete;
  char **head_names = g_new0 (char *, (gsize) n_tiles), **layer_names = g_new0 (char *, (gsize) n_layers);
  for (int h = 0; h < n_tiles; h++)
    head_names[h] = h < c->n_heads ? g_strdup_printf ("head %d", h) : g_strdup ("mean");
  for (int l = 0; l < n_layers; l++)
    layer_names[l] = ms_attention_layout_is_per_layer (a) ? g_strdup_printf ("layer %d", l)
                                                          : g_strdup (a->name);
  grid_axis (&v->x, &t0->x, head_names, n_tiles, "head");
  grid_axis (&v->y, &t0->y, layer_names, n_layers, ms_attention_layout_is_per_layer (a) ? "layer" : NULL);
  g_free (head_names);
  g_free (layer_names);
  v->title = g_strdup_printf ("%s, every %shead (segment %d)", a->display_name,
                              ms_attention_layout_is_per_layer (a) ? "layer and " : "", v->segment);
  v->quantity = g_strdup (t0->quantity);
  v->value_label = g_strdup (t0->value_label);
  v->vmin = 0;
  return v;
}

/* ---- loading ---- */

int
ms_view_n_layers (const MsConfig *c, MsViewKind kind)
{
  if (!(ms_view_info (kind)->params & MS_VIEW_USES_LAYER))
    return 0;
  const MsAttentionLayout *a = ms_engine_find_attention (c->engine, kind == MS_VIEW_READ ? MS_OBS_READ : MS_OBS_WRITE);
  return a ? ms_attention_layout_n_layers (a, c) : 0;
}

static MsViewData *
load (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const MsViewParams *p, GError **error)
{
  const MsViewInfo *vi = ms_view_info (kind);
  int S = info->segments_done;
  /* a window past the last committed segment keeps its columns, without
   * data: two runs of different lengths stay aligned */
  int first = p->first, last = p->last > 0 ? p->last : S;
  if (vi->params & MS_VIEW_USES_WINDOW && (first < 0 || first >= last))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "the segment window %d … %d is empty (run %" G_GINT64_FORMAT
                   " has segments 0 … %d)", first, last - 1, info->id, S - 1);
      return NULL;
    }
  MsViewReducer reducer = p->reducer == MS_VIEW_REDUCE_DEFAULT ? vi->reducer : p->reducer;
  if (reducer == MS_VIEW_REDUCE_MAX && !vi->max_allowed)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "the %s view aggregates by mean only (max is for %s)", vi->name,
                   "retention, representation, read-usage, nll, causal and causal-slots");
      return NULL;
    }
  switch (kind)
    {
    case MS_VIEW_PROVENANCE:
      if (p->horizon < 0 || p->horizon > MS_VIEW_MAX_HORIZON)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "the provenance horizon %d is out of range (1 … %d, or 0 "
                       "for every source)", p->horizon, MS_VIEW_MAX_HORIZON);
          return NULL;
        }
      if (p->slot >= info->config.n_slots)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "slot %d is out of range: the run has %d memory slots "
                       "(0 … %d)", p->slot, info->config.n_slots, info->config.n_slots - 1);
          return NULL;
        }
      return p->horizon > 0 ? provenance_recent (rec, info, p, first, last, error)
                            : provenance (rec, info, p, first, last, error);
    case MS_VIEW_SIMILARITY: return ms_view_similarity_load (rec, info, p, 0, S, error);
    case MS_VIEW_READ:
    case MS_VIEW_WRITE: return attention (rec, info, kind, p, error);
    case MS_VIEW_READ_HEADS:
    case MS_VIEW_WRITE_HEADS: return attention_grid (rec, info, kind, p, error);
    case MS_VIEW_CAUSAL:
    case MS_VIEW_CAUSAL_SLOTS:
    case MS_VIEW_FORGETTING: return ms_view_causal_load (rec, info, kind, p, first, last, reducer, error);
    default: return per_segment (rec, info, kind, p, ms_view_bins_make (first, last, p->max_cols, p->span), reducer, error);
    }
}

MsViewData *
ms_view_load (MsRecording *rec, gint64 run_id, MsViewKind kind, const MsViewParams *params, GError **error)
{
  g_return_val_if_fail ((guint) kind < MS_VIEW_N_KINDS, NULL);
  MsViewParams defaults = MS_VIEW_PARAMS_DEFAULT;
  const MsViewParams *p = params ? params : &defaults;
  if (!ms_recording_read_begin (rec, error))
    return NULL;
  MsViewData *v = NULL;
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, error);
  if (info && info->segments_done == 0)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "run %" G_GINT64_FORMAT " has no committed segment yet", run_id);
  else if (info)
    v = load (rec, info, kind, p, error);
  ms_recording_read_end (rec);
  return v;
}

