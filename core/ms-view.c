/* ms-view.c — from recorded rows to labelled view data: the table of views,
 * the loaders (each reads its segments once, streaming, and aggregates them
 * into the output's bins), and what a cell means in words. */
#include "ms-view.h"
#include "ms-analysis.h"
#include "ms-engine.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

static const MsViewInfo view_table[MS_VIEW_N_KINDS] = {
  { MS_VIEW_RETENTION, "retention", "Retention",
    "slot retention r: the share of the new slot's content drawn from the old memory",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, TRUE },
  { MS_VIEW_REPRESENTATION, "representation", "Representation",
    "representation retention: cos(M_{t+1}[i], M_t[i]), how much slot i's vector kept its direction",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, TRUE },
  { MS_VIEW_PROVENANCE, "provenance", "Provenance",
    "the share of the memory's content after segment t that was written at source segment s",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW | MS_VIEW_USES_SLOT, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SOURCE,
    MS_VIEW_REDUCE_MEAN, FALSE },
  { MS_VIEW_TYPES, "types", "Slot types",
    "the fractions of slots that retain (r ≥ retain-at), overwrite (r ≤ overwrite-at) or mix",
    MS_VIEW_STACKED, MS_VIEW_USES_WINDOW | MS_VIEW_USES_THRESHOLDS, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SERIES,
    MS_VIEW_REDUCE_MEAN, FALSE },
  { MS_VIEW_NLL, "nll", "NLL", "mean negative log-likelihood per predicted token of the segment (nats)",
    MS_VIEW_LINES, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SERIES, MS_VIEW_REDUCE_MEAN, TRUE },
  { MS_VIEW_READ_USAGE, "read-usage", "Read usage",
    "read usage: the read attention the segment's tokens give slot i, summed over tokens",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, TRUE },
  { MS_VIEW_READ, "read", "Read",
    "read attention of one segment: the weight token j gives memory slot i",
    MS_VIEW_HEATMAP, MS_VIEW_USES_SEGMENT | MS_VIEW_USES_LAYER | MS_VIEW_USES_HEAD, MS_VIEW_AXIS_SLOT,
    MS_VIEW_AXIS_TOKEN, MS_VIEW_REDUCE_MEAN, FALSE },
  { MS_VIEW_WRITE, "write", "Write",
    "write attention of one segment: the weight new slot i gives each position (old memory or a token)",
    MS_VIEW_HEATMAP, MS_VIEW_USES_SEGMENT | MS_VIEW_USES_LAYER | MS_VIEW_USES_HEAD, MS_VIEW_AXIS_POSITION,
    MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, FALSE },
  { MS_VIEW_SIMILARITY, "similarity", "Similarity",
    "cosine similarity of the whole memory states after two segments",
    MS_VIEW_HEATMAP, 0, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SEGMENT, MS_VIEW_REDUCE_MEAN, FALSE },
};

const MsViewInfo *
ms_view_info (MsViewKind kind)
{
  g_return_val_if_fail ((guint) kind < MS_VIEW_N_KINDS, NULL);
  return &view_table[kind];
}

gboolean
ms_view_kind_parse (const char *name, MsViewKind *out)
{
  for (guint i = 0; i < MS_VIEW_N_KINDS; i++)
    if (g_strcmp0 (name, view_table[i].name) == 0)
      {
        *out = view_table[i].kind;
        return TRUE;
      }
  return FALSE;
}

const char *
ms_view_kind_name (MsViewKind kind)
{
  return ms_view_info (kind)->name;
}

const char *
ms_view_kind_list (void)
{
  static gsize list;
  if (g_once_init_enter (&list))
    {
      GString *s = g_string_new (NULL);
      for (guint i = 0; i < MS_VIEW_N_KINDS; i++)
        g_string_append_printf (s, "%s%s", i ? ", " : "", view_table[i].name);
      g_once_init_leave (&list, (gsize) g_string_free (s, FALSE));
    }
  return (const char *) list;
}

/* ---- view data ---- */

static void
axis_clear (MsViewAxis *a)
{
  g_free (a->name);
  g_free (a->label);
  for (int b = 0; b < a->n_blocks; b++)
    g_free (a->blocks[b].name);
  g_free (a->blocks);
  if (a->texts)
    for (int i = 0; i < a->n; i++)
      g_free (a->texts[i]);
  g_free (a->texts);
}

static void
axis_copy (MsViewAxis *to, const MsViewAxis *from, int first, int n)
{
  *to = *from;
  to->name = g_strdup (from->name);
  to->label = g_strdup (from->label);
  to->blocks = g_memdup2 (from->blocks, sizeof (MsViewBlock) * from->n_blocks);
  for (int b = 0; b < from->n_blocks; b++)
    to->blocks[b].name = g_strdup (from->blocks[b].name);
  to->n = n;
  to->start = from->start + first * from->step;
  to->length = CLAMP (from->length - (int) (first * from->step), 0, (int) ceil (n * from->step));
  to->texts = NULL;
  if (from->texts)
    {
      to->texts = g_new0 (char *, MAX (n, 1));
      for (int i = 0; i < n; i++)
        to->texts[i] = first + i < from->n ? g_strdup (from->texts[first + i]) : NULL;
    }
}

void
ms_view_data_free (MsViewData *v)
{
  if (!v)
    return;
  g_free (v->values);
  axis_clear (&v->x);
  axis_clear (&v->y);
  g_free (v->title);
  g_free (v->quantity);
  g_free (v->value_label);
  g_strfreev (v->series);
  g_free (v);
}

double
ms_view_data_get (const MsViewData *v, int row, int col)
{
  if (!v || row < 0 || col < 0 || row >= v->rows || col >= v->cols)
    return NAN;
  return v->values[(size_t) row * v->cols + col];
}

MsViewData *
ms_view_data_crop_columns (const MsViewData *v, int first, int n)
{
  first = MAX (first, 0);
  n = MAX (n, 1);
  int have = CLAMP (v->cols - first, 0, n);
  MsViewData *c = g_memdup2 (v, sizeof *v);
  c->cols = n;
  c->values = g_new (float, (size_t) v->rows * n);
  for (int r = 0; r < v->rows; r++)
    {
      float *row = c->values + (size_t) r * n;
      if (have > 0)
        memcpy (row, v->values + (size_t) r * v->cols + first, have * sizeof (float));
      for (int j = MAX (have, 0); j < n; j++)
        row[j] = NAN;
    }
  axis_copy (&c->x, &v->x, first, n);
  axis_copy (&c->y, &v->y, 0, v->y.n);
  if (isnan (v->vmin) || isnan (v->vmax))
    {
      double lo = INFINITY, hi = -INFINITY;
      for (size_t i = 0; i < (size_t) v->rows * v->cols; i++)
        if (!isnan (v->values[i]))
          lo = MIN (lo, v->values[i]), hi = MAX (hi, v->values[i]);
      if (lo <= hi)
        {
          c->vmin = isnan (v->vmin) ? lo : v->vmin;
          c->vmax = isnan (v->vmax) ? hi : v->vmax;
        }
    }
  c->title = g_strdup (v->title);
  c->quantity = g_strdup (v->quantity);
  c->value_label = g_strdup (v->value_label);
  c->series = g_strdupv (v->series);
  return c;
}

static char *binned_label (const char *value, MsViewReducer reducer, int width);
static char *axis_label (const char *name, int width, const char *per);

MsViewData *
ms_view_data_bin_columns (const MsViewData *v, int max_cols)
{
  int f = max_cols > 0 ? (v->cols + max_cols - 1) / max_cols : 1;
  if (f <= 1 || v->x.kind != MS_VIEW_AXIS_SEGMENT || v->x.n_blocks > 0)
    return ms_view_data_crop_columns (v, 0, v->cols);
  int n = (v->cols + f - 1) / f, width = (int) v->x.step;
  MsViewData *c = ms_view_data_crop_columns (v, 0, v->cols);
  float *values = g_new (float, (size_t) v->rows * n);
  for (int r = 0; r < v->rows; r++)
    for (int j = 0; j < n; j++)
      {
        double acc = 0, weight = 0;
        for (int k = j * f; k < MIN ((j + 1) * f, v->cols); k++)
          {
            float x = v->values[(size_t) r * v->cols + k];
            /* the segments column k holds: the last may hold fewer */
            double w = MIN (width, v->x.length - k * width);
            if (isnan (x) || w <= 0)
              continue;
            if (v->reducer == MS_VIEW_REDUCE_MAX)
              acc = weight == 0 ? x : MAX (acc, x), weight = 1;
            else
              acc += w * x, weight += w;
          }
        values[(size_t) r * n + j]
          = weight == 0 ? NAN : (float) (v->reducer == MS_VIEW_REDUCE_MAX ? acc : acc / weight);
      }
  g_free (c->values);
  c->values = values;
  c->cols = n;
  if (c->x.texts)
    {
      for (int j = 0; j < n; j++)
        {
          char *keep = c->x.texts[j * f];
          c->x.texts[j * f] = NULL;
          g_free (c->x.texts[j]);
          c->x.texts[j] = keep;
        }
      for (int k = n; k < v->cols; k++)
        g_clear_pointer (&c->x.texts[k], g_free);
    }
  c->x.n = n;
  c->x.step = width * f;
  g_free (c->x.label);
  c->x.label = axis_label (c->x.name, width * f, "column");
  g_free (c->value_label);
  c->value_label = binned_label (v->quantity ? v->quantity : v->value_label, v->reducer, width * f);
  return c;
}

static MsViewData *
view_new (const MsRunInfo *info, MsViewKind kind, float *values, int rows, int cols)
{
  MsViewData *v = g_new0 (MsViewData, 1);
  v->kind = kind;
  v->shape = view_table[kind].shape;
  v->values = values;
  v->rows = rows;
  v->cols = cols;
  v->x = (MsViewAxis) { .kind = view_table[kind].x, .n = cols, .step = 1, .length = cols };
  v->y = (MsViewAxis) { .kind = view_table[kind].y, .n = rows, .step = 1, .length = rows };
  v->vmin = v->vmax = NAN;
  v->reducer = MS_VIEW_REDUCE_MEAN;
  v->run_id = info->id;
  v->segment = v->layer = v->head = v->slot = -1;
  return v;
}

static void
label (MsViewData *v, const char *title, const char *x, const char *y, const char *value)
{
  v->title = g_strdup (title);
  v->x.name = g_strdup (x);
  v->x.label = g_strdup (x);
  v->y.name = g_strdup (y);
  v->y.label = g_strdup (y);
  v->value_label = g_strdup (value);
}

/* ---- bins: whole segments per output cell ---- */

typedef struct {
  int first, last;      /* the indices covered, [first, last) */
  int width;            /* indices per cell */
  int n;                /* cells */
} Bins;

/* Cells of whole indices over [@first, @last), at most @max_cells (0: one
 * per index) for @span indices (0: last − first). */
static Bins
bins_make (int first, int last, int max_cells, int span)
{
  int len = MAX (last - first, 0);
  span = MAX (span, len);
  int width = max_cells > 0 ? (span + max_cells - 1) / max_cells : 1;
  width = MAX (width, 1);
  return (Bins) { first, last, width, MAX ((len + width - 1) / width, 1) };
}

/* "segment", or "segment (42 per column)" when a cell holds several. */
static char *
axis_label (const char *name, int width, const char *per)
{
  if (width <= 1 || !name)
    return g_strdup (name);
  return g_strdup_printf ("%s (%d per %s)", name, width, per);
}

/* Sets @a's cells to @b's; its label says the bin width (@per: "column",
 * "row"), so the name must be set first. */
static void
axis_set_bins (MsViewAxis *a, const Bins *b, const char *per)
{
  a->n = b->n;
  a->start = b->first;
  a->step = b->width;
  a->length = b->last - b->first;
  g_free (a->label);
  a->label = axis_label (a->name, b->width, per);
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

static const char *
reducer_name (MsViewReducer r)
{
  return r == MS_VIEW_REDUCE_MAX ? "max" : "mean";
}

/* @value, and when cells are bins, which reducer over how many segments. */
static char *
binned_label (const char *value, MsViewReducer reducer, int width)
{
  if (width <= 1)
    return g_strdup (value);
  return g_strdup_printf ("%s, %s per column", value, reducer_name (reducer));
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
on_text (const MsSegmentRecord *seg, gpointer data, GError **error)
{
  TextsFill *f = data;
  int cell = (int) ((seg->segment - f->origin) / f->axis->step);
  if (cell >= 0 && cell < f->axis->n && !f->axis->texts[cell])
    f->axis->texts[cell] = excerpt (seg->text, seg->text_len);
  return TRUE;
}

/* Per cell of a segment or source axis, the text of the cell's first
 * segment: one short read per output cell. */
static gboolean
load_axis_texts (MsRecording *rec, const MsRunInfo *info, MsViewAxis *axis, GError **error)
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

/* A byte token as printable text. */
static char *
token_text (guint8 c)
{
  if (c == ' ')
    return g_strdup ("␣");
  if (c == '\n')
    return g_strdup ("↵");
  if (c >= 0x21 && c < 0x7f)
    return g_strdup_printf ("%c", c);
  return g_strdup_printf ("\\x%02x", c);
}

/* ---- per-segment views ---- */

typedef struct {
  Bins bins;
  Grid grid;
  MsSlotQuantity q;
  int K;
  double retain_at, overwrite_at;
} SegmentFill;

static gboolean
on_slots (const MsSegmentRecord *seg, gpointer data, GError **error)
{
  SegmentFill *f = data;
  int c = (seg->segment - f->bins.first) / f->bins.width;
  for (int i = 0; i < f->K; i++)
    grid_add (&f->grid, i, c, seg->slots[f->q][i]);
  return TRUE;
}

static gboolean
on_types (const MsSegmentRecord *seg, gpointer data, GError **error)
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
on_nll (const MsSegmentRecord *seg, gpointer data, GError **error)
{
  SegmentFill *f = data;
  grid_add (&f->grid, 0, (seg->segment - f->bins.first) / f->bins.width, seg->nll);
  return TRUE;
}

/* Views with one value per (row, segment): retention, representation, read
 * usage, slot types, NLL. */
static MsViewData *
per_segment (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const MsViewParams *p, Bins bins,
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
  MsViewData *v = view_new (info, kind, grid_finish (&f.grid), rows, bins.n);
  v->reducer = reducer;
  const char *value = NULL;
  switch (kind)
    {
    case MS_VIEW_RETENTION:
      label (v, "Slot retention", "segment", "memory slot", NULL);
      value = "retention r";
      v->vmin = 0, v->vmax = 1;
      break;
    case MS_VIEW_REPRESENTATION:
      label (v, "Representation retention", "segment", "memory slot", NULL);
      value = "cos(slot after, before)";
      v->vmin = -1, v->vmax = 1;
      break;
    case MS_VIEW_READ_USAGE:
      label (v, "Read usage", "segment", "memory slot", NULL);
      value = "read usage";
      v->vmin = 0;
      break;
    case MS_VIEW_TYPES:
      {
        g_autofree char *title = g_strdup_printf ("Slot types (retain: r ≥ %g, overwrite: r ≤ %g)", p->retain_at,
                                                  p->overwrite_at);
        label (v, title, "segment", NULL, NULL);
        value = "fraction of slots";
        v->series = g_strsplit ("retain,mixed,overwrite", ",", -1);
        v->vmin = 0, v->vmax = 1;
        break;
      }
    default:
      label (v, "Per-segment NLL", "segment", NULL, NULL);
      value = "NLL (nats/token)";
      v->series = g_strsplit ("mean NLL", ",", -1);
      break;
    }
  axis_set_bins (&v->x, &bins, "column");
  v->quantity = g_strdup (value);
  v->value_label = binned_label (value, reducer, bins.width);
  if (v->series)
    {
      v->y.texts = g_new0 (char *, rows);
      for (int r = 0; r < rows; r++)
        v->y.texts[r] = g_strdup (v->series[r]);
    }
  if (!load_axis_texts (rec, info, &v->x, error))
    return ms_view_data_free (v), NULL;
  return v;
}

/* ---- provenance ---- */

typedef struct {
  Bins cols, rows;      /* columns: after segment t in the window; rows: sources −1 … last − 1 */
  int K, slot;
  float *prev, *next;   /* (K, rows.n) */
  MsWriteDistribution *wd;
  double *acc;          /* (rows.n, cols.n) sums over the column's segments */
  int *n_summed;        /* (cols.n) segments summed per column */
} ProvenanceFill;

static gboolean
on_provenance (const MsSegmentRecord *seg, gpointer data, GError **error)
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
  for (int r = 0; r < R; r++)
    {
      double value = 0;
      if (f->slot >= 0)
        value = f->prev[(size_t) f->slot * R + r];
      else
        {
          for (int i = 0; i < K; i++)
            value += f->prev[(size_t) i * R + r];
          value /= K;
        }
      f->acc[(size_t) r * f->cols.n + c] += value;
    }
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
  ProvenanceFill f = { .cols = bins_make (first, last, p->max_cols > 0 ? p->max_cols : MS_VIEW_MAX_SQUARE, p->span),
                       .rows = bins_make (-1, last, p->max_rows > 0 ? p->max_rows : MS_VIEW_MAX_SQUARE,
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
  MsViewData *v = view_new (info, MS_VIEW_PROVENANCE, out, R, C);
  v->slot = p->slot;
  g_autofree char *title = p->slot >= 0 ? g_strdup_printf ("Provenance of slot %d (−1 = initial memory)", p->slot)
                                        : g_strdup ("Provenance (mean over slots; −1 = initial memory)");
  label (v, title, "after segment", "source segment", NULL);
  /* a row's share is the sum over its sources: the y label says how many */
  axis_set_bins (&v->x, &f.cols, "column");
  axis_set_bins (&v->y, &f.rows, "row");
  v->quantity = g_strdup ("share of content");
  v->value_label = binned_label (v->quantity, MS_VIEW_REDUCE_MEAN, f.cols.width);
  v->vmin = 0, v->vmax = 1;
  if (!load_axis_texts (rec, info, &v->x, error) || !load_axis_texts (rec, info, &v->y, error))
    return ms_view_data_free (v), NULL;
  return v;
}

/* ---- similarity ---- */

typedef struct {
  Bins bins;
  size_t len;
  float *means;         /* (bins.n, len) mean unit state per bin */
  int *count;           /* (bins.n) states in it */
  double *acc;          /* (len) the current bin's sum */
  int current;          /* the bin acc sums, −1 before the first */
} SimilarityFill;

static void
similarity_flush (SimilarityFill *f)
{
  if (f->current < 0 || f->count[f->current] == 0)
    return;
  float *mean = f->means + (size_t) f->current * f->len;
  for (size_t k = 0; k < f->len; k++)
    mean[k] = (float) (f->acc[k] / f->count[f->current]);
}

static gboolean
on_state (int segment, const float *state, gpointer data, GError **error)
{
  SimilarityFill *f = data;
  int bin = (segment - f->bins.first) / f->bins.width;
  if (bin != f->current)
    {
      similarity_flush (f);
      memset (f->acc, 0, f->len * sizeof (double));
      f->current = bin;
    }
  double norm = 0;
  for (size_t k = 0; k < f->len; k++)
    norm += (double) state[k] * state[k];
  norm = sqrt (norm);
  if (!(norm > 0) || !isfinite (norm))
    return TRUE;   /* no direction: left out */
  for (size_t k = 0; k < f->len; k++)
    f->acc[k] += state[k] / norm;
  f->count[bin]++;
  return TRUE;
}

/* Cell (p, q) is the mean cosine over the pairs of states in bins p and q:
 * the cosine is the dot product of unit vectors, so that mean is the dot
 * product of the bins' mean unit vectors — (bins × K·d) memory, one pass
 * over the states.  One state per bin: the plain cosine matrix. */
static MsViewData *
similarity (MsRecording *rec, const MsRunInfo *info, const MsViewParams *p, int first, int last, GError **error)
{
  SimilarityFill f = { .bins = bins_make (first, last, p->max_cols > 0 ? p->max_cols : MS_VIEW_MAX_SQUARE, p->span) };
  f.len = (size_t) info->config.n_slots * info->config.d_model;
  int n = f.bins.n;
  f.means = g_new0 (float, (size_t) n * f.len);
  f.count = g_new0 (int, n);
  f.acc = g_new0 (double, f.len);
  f.current = -1;
  gboolean ok = ms_recording_foreach_memory_state (rec, info, first, last, on_state, &f, error);
  similarity_flush (&f);
  float *out = g_new (float, (size_t) n * n);
  for (int a = 0; ok && a < n; a++)
    for (int b = a; b < n; b++)
      {
        double dot = NAN;
        if (f.count[a] > 0 && f.count[b] > 0)
          {
            const float *x = f.means + (size_t) a * f.len, *y = f.means + (size_t) b * f.len;
            dot = 0;
            for (size_t k = 0; k < f.len; k++)
              dot += (double) x[k] * y[k];
            dot = CLAMP (dot, -1.0, 1.0);
          }
        out[(size_t) a * n + b] = out[(size_t) b * n + a] = (float) dot;
      }
  g_free (f.means), g_free (f.count), g_free (f.acc);
  if (!ok)
    return g_free (out), NULL;
  MsViewData *v = view_new (info, MS_VIEW_SIMILARITY, out, n, n);
  label (v, "Memory similarity", "after segment", "after segment", NULL);
  axis_set_bins (&v->x, &f.bins, "column");
  axis_set_bins (&v->y, &f.bins, "row");
  v->quantity = g_strdup ("cosine similarity");
  v->value_label = f.bins.width > 1 ? g_strdup ("cosine similarity, mean per cell") : g_strdup (v->quantity);
  if (!load_axis_texts (rec, info, &v->x, error) || !load_axis_texts (rec, info, &v->y, error))
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
 * position axis), its text: tokens are bytes, token j byte j of @text. */
static void
attention_token_texts (MsViewAxis *axis, GBytes *text, int n_tokens)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (text, &len);
  if ((int) len != n_tokens)
    return;
  int first = -1;
  if (axis->kind == MS_VIEW_AXIS_TOKEN)
    first = 0;
  for (int b = 0; b < axis->n_blocks; b++)
    if (axis->blocks[b].tokens)
      first = axis->blocks[b].first;
  if (first < 0)
    return;
  axis->texts = g_new0 (char *, MAX (axis->n, 1));
  for (int j = 0; j < n_tokens && first + j < axis->n; j++)
    axis->texts[first + j] = token_text (bytes[j]);
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
                   "attention", info->id, c->engine->display_name, kind == MS_VIEW_READ ? "read" : "write");
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
  if (!text)
    return g_free (m), NULL;
  /* the segment's token count: the shape grows by one row or column per token */
  int rows0, cols0, rows1, cols1;
  ms_attention_layout_shape (a, c, 0, NULL, &rows0, &cols0);
  ms_attention_layout_shape (a, c, 1, NULL, &rows1, &cols1);
  int n_tokens = cols1 > cols0   ? (cols - cols0) / (cols1 - cols0)
                 : rows1 > rows0 ? (rows - rows0) / (rows1 - rows0)
                                 : 0;
  MsViewData *v = view_new (info, kind, m, rows, cols);
  v->segment = segment;
  v->layer = layer;
  v->head = p->head;
  v->rows_complete = rows_are_distributions (m, rows, cols);
  attention_axis (&v->x, a->cols, a->n_col_blocks, c, n_tokens);
  attention_axis (&v->y, a->rows, a->n_row_blocks, c, n_tokens);
  v->x.n = cols, v->x.length = cols;
  v->y.n = rows, v->y.length = rows;
  attention_token_texts (&v->x, text, n_tokens);
  attention_token_texts (&v->y, text, n_tokens);
  g_autofree char *head = p->head >= 0 ? g_strdup_printf ("head %d", p->head) : g_strdup ("mean over heads");
  v->title = ms_attention_layout_is_per_layer (a)
               ? g_strdup_printf ("%s (segment %d, layer %d, %s)", a->display_name, segment, layer, head)
               : g_strdup_printf ("%s (segment %d, %s)", a->display_name, segment, head);
  v->quantity = g_strdup (kind == MS_VIEW_READ ? "read attention weight" : "write attention weight");
  v->value_label = g_strdup (v->quantity);
  v->vmin = 0;
  return v;
}

/* ---- loading ---- */

int
ms_view_n_layers (const MsConfig *c, MsViewKind kind)
{
  if (!(view_table[kind].params & MS_VIEW_USES_LAYER))
    return 0;
  const MsAttentionLayout *a = ms_engine_find_attention (c->engine, kind == MS_VIEW_READ ? MS_OBS_READ : MS_OBS_WRITE);
  return a ? ms_attention_layout_n_layers (a, c) : 0;
}

static MsViewData *
load (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const MsViewParams *p, GError **error)
{
  const MsViewInfo *vi = &view_table[kind];
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
                   "retention, representation, read-usage and nll");
      return NULL;
    }
  switch (kind)
    {
    case MS_VIEW_PROVENANCE: return provenance (rec, info, p, first, last, error);
    case MS_VIEW_SIMILARITY: return similarity (rec, info, p, 0, S, error);
    case MS_VIEW_READ:
    case MS_VIEW_WRITE: return attention (rec, info, kind, p, error);
    default: return per_segment (rec, info, kind, p, bins_make (first, last, p->max_cols, p->span), reducer, error);
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

/* ---- what a cell means ---- */

char *
ms_view_axis_cell_name (const MsViewAxis *axis, int i)
{
  if (axis->kind == MS_VIEW_AXIS_SERIES)
    return g_strdup (axis->texts && i < axis->n && axis->texts[i] ? axis->texts[i] : "value");
  for (int b = 0; b < axis->n_blocks; b++)
    {
      const MsViewBlock *block = &axis->blocks[b];
      if (i >= block->first && i < block->first + block->n)
        return block->n == 1 ? g_strdup (block->name) : g_strdup_printf ("%s %d", block->name, i - block->first);
    }
  int lo = (int) (axis->start + i * axis->step);
  int hi = MIN ((int) (axis->start + (i + 1) * axis->step), (int) axis->start + axis->length) - 1;
  return hi > lo ? g_strdup_printf ("%d..%d", lo, hi) : g_strdup_printf ("%d", lo);
}

/* "segment 7" or "segments 42–83 (mean of 42)" for cell @i of a segment axis. */
static char *
segments_of (const MsViewData *v, const MsViewAxis *axis, int i, const char *noun)
{
  int lo = (int) (axis->start + i * axis->step);
  int hi = MIN ((int) (axis->start + (i + 1) * axis->step), (int) axis->start + axis->length) - 1;
  if (hi <= lo)
    return g_strdup_printf ("%s %d", noun, lo);
  return g_strdup_printf ("%ss %d–%d (%s of %d)", noun, lo, hi, reducer_name (v->reducer), hi - lo + 1);
}

/* "\n“text”" of cell @i, or "" */
static char *
quoted_text (const MsViewAxis *axis, int i)
{
  if (!axis->texts || i < 0 || i >= axis->n || !axis->texts[i])
    return g_strdup ("");
  return g_strdup_printf ("\n“%s”", axis->texts[i]);
}

static const char *
token_of (const MsViewAxis *axis, int i)
{
  return axis->texts && i >= 0 && i < axis->n && axis->texts[i] ? axis->texts[i] : "?";
}

char *
ms_view_describe_cell (const MsViewData *v, int row, int col)
{
  if (col < 0 || col >= v->cols || row >= v->rows || (row < 0 && v->shape == MS_VIEW_HEATMAP))
    return NULL;
  double value = ms_view_data_get (v, row, col);
  if (v->shape != MS_VIEW_HEATMAP)
    {
      g_autofree char *at = segments_of (v, &v->x, col, "Segment");
      GString *s = g_string_new (at);
      for (int r = 0; r < v->rows; r++)
        if (row < 0 || r == row)
          g_string_append_printf (s, "\n%s: %.3f", v->series && v->series[r] ? v->series[r] : "value",
                                  ms_view_data_get (v, r, col));
      if (v->kind == MS_VIEW_NLL)
        g_string_append (s, " nats/token");
      g_autofree char *text = quoted_text (&v->x, col);
      g_string_append (s, text);
      return g_string_free (s, FALSE);
    }
  int y = (int) (v->y.start + row * v->y.step);
  g_autofree char *text = quoted_text (&v->x, col);
  switch (v->kind)
    {
    case MS_VIEW_RETENTION:
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("Slot %d after %s\nretention %.3f: the share of the new slot drawn from the old memory "
                                "(1 − this came from the segment's tokens)%s", y, at, value, text);
      }
    case MS_VIEW_REPRESENTATION:
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("Slot %d after %s\ncos(slot after, slot before) = %.3f: how much the slot's vector "
                                "kept its direction%s", y, at, value, text);
      }
    case MS_VIEW_READ_USAGE:
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("Slot %d in %s\nread usage %.3f (read attention summed over tokens)%s", y, at, value,
                                text);
      }
    case MS_VIEW_PROVENANCE:
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        int hi = MIN ((int) (v->y.start + (row + 1) * v->y.step), (int) v->y.start + v->y.length) - 1;
        g_autofree char *from = hi <= y ? (y < 0 ? g_strdup ("the initial memory (source −1)")
                                                 : g_strdup_printf ("segment %d", y))
                                        : g_strdup_printf ("sources %d–%d (summed; −1 = the initial memory)", y, hi);
        g_autofree char *source_text = y < 0 ? g_strdup ("") : quoted_text (&v->y, row);
        return g_strdup_printf ("Memory after %s: %.3f of its content came from %s%s", at, value, from, source_text);
      }
    case MS_VIEW_SIMILARITY:
      {
        g_autofree char *a = segments_of (v, &v->y, row, "segment");
        g_autofree char *b = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("cos(memory after %s, memory after %s) = %.3f", a, b, value);
      }
    case MS_VIEW_READ:
      return g_strdup_printf ("Segment %d, token %d “%s” reads %s %d\nattention weight %.3f", v->segment, row,
                              token_of (&v->y, row), v->x.label, col, value);
    case MS_VIEW_WRITE:
      for (int b = 0; b < v->x.n_blocks; b++)
        {
          const MsViewBlock *block = &v->x.blocks[b];
          if (col < block->first || col >= block->first + block->n)
            continue;
          if (block->tokens)
            return g_strdup_printf ("Segment %d: slot %d ← token %d “%s”, weight %.3f", v->segment, row,
                                    col - block->first, token_of (&v->x, col), value);
          if (block->n == 1)
            return g_strdup_printf ("Segment %d: slot %d keeps itself (%s, the old memory) with weight %.3f",
                                    v->segment, row, block->name, value);
          return g_strdup_printf ("Segment %d: write slot %d ← %s slot %d%s, weight %.3f", v->segment, row,
                                  block->name, col - block->first, block->old_memory ? " (the old memory)" : "",
                                  value);
        }
      return g_strdup_printf ("Segment %d: slot %d ← position %d, weight %.3f", v->segment, row, col, value);
    default:
      return g_strdup_printf ("%s %d, %s %d: %.3f", v->y.label, row, v->x.label, col, value);
    }
}

/* ---- token values ---- */

float *
ms_view_token_values (const MsViewData *v, int slot, int *n_tokens, const char **what)
{
  if (v->kind == MS_VIEW_WRITE)
    {
      const MsViewBlock *tokens = NULL;
      for (int b = 0; b < v->x.n_blocks; b++)
        if (v->x.blocks[b].tokens)
          tokens = &v->x.blocks[b];
      if (!tokens || slot < 0 || slot >= v->rows)
        return NULL;
      *n_tokens = tokens->n;
      *what = "Tokens coloured by how much of each was written into the selected slot (write attention, "
              "darker = more)";
      return g_memdup2 (v->values + (size_t) slot * v->cols + tokens->first, MAX (tokens->n, 0) * sizeof (float));
    }
  if (v->kind != MS_VIEW_READ)
    return NULL;
  float *out = g_new0 (float, MAX (v->rows, 1));
  for (int j = 0; j < v->rows; j++)
    {
      const float *row = v->values + (size_t) j * v->cols;
      float acc = 0;
      for (int i = 0; i < v->cols; i++)
        if (!isnan (row[i]))
          acc = v->rows_complete ? MAX (acc, row[i]) : acc + row[i];
      out[j] = acc;
    }
  *n_tokens = v->rows;
  *what = v->rows_complete ? "Tokens coloured by how sharply each reads one memory slot (largest read weight; "
                             "darker = more). Select a slot to see what was written into it."
                           : "Tokens coloured by how much attention each puts on the memory (read block; darker = "
                             "more). Select a slot to see what was written into it.";
  return out;
}

/* ---- CSV ---- */

static void
csv_field (GString *s, const char *field)
{
  if (!strpbrk (field, ",\"\n\r"))
    {
      g_string_append (s, field);
      return;
    }
  g_string_append_c (s, '"');
  for (const char *c = field; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

/* Nine significant digits (a float reads back exactly), with a '.' whatever
 * the locale; NaN as an empty field. */
static void
csv_number (GString *s, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (!isnan (value))
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", value));
}

static void
csv_cell_name (GString *s, const MsViewAxis *axis, int i)
{
  g_autofree char *name = ms_view_axis_cell_name (axis, i);
  csv_field (s, name);
}

char *
ms_view_data_to_csv (const MsViewData *a, const char *name_a, const MsViewData *b, const char *name_b,
                     gboolean difference, GError **error)
{
  if (b && a->kind != b->kind)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "cannot put a %s view and a %s view in one table",
                   ms_view_kind_name (a->kind), ms_view_kind_name (b->kind));
      return NULL;
    }
  if (b && difference && (a->rows != b->rows || a->cols != b->cols))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "A − B needs views of equal shapes (%d × %d and %d × %d)",
                   a->rows, a->cols, b->rows, b->cols);
      return NULL;
    }
  const MsViewData *wide = b && b->cols > a->cols ? b : a;
  int cols = wide->cols;
  GString *s = g_string_new (NULL);
  if (a->shape == MS_VIEW_HEATMAP)
    {
      if (b)
        g_string_append (s, "run,");
      g_autofree char *corner = g_strdup_printf ("%s \\ %s", a->y.label, a->x.label);
      csv_field (s, corner);
      for (int c = 0; c < cols; c++)
        g_string_append_c (s, ','), csv_cell_name (s, &wide->x, c);
      g_string_append_c (s, '\n');
      const MsViewData *panels[3] = { a, b, b && difference ? a : NULL };
      const char *names[3] = { name_a, name_b, "A − B" };
      for (int p = 0; p < 3; p++)
        {
          const MsViewData *v = panels[p];
          for (int r = 0; v && r < v->rows; r++)
            {
              if (b)
                csv_field (s, names[p] ? names[p] : ""), g_string_append_c (s, ',');
              csv_cell_name (s, &v->y, r);
              for (int c = 0; c < cols; c++)
                {
                  g_string_append_c (s, ',');
                  double value = ms_view_data_get (v, r, c);
                  csv_number (s, p == 2 ? value - ms_view_data_get (b, r, c) : value);
                }
              g_string_append_c (s, '\n');
            }
        }
      return g_string_free (s, FALSE);
    }
  /* stacked and lines: one row per point, one column per series */
  csv_field (s, a->x.label);
  const MsViewData *runs[2] = { a, b };
  const char *names[2] = { name_a, name_b };
  for (int k = 0; k < (b ? 2 : 1); k++)
    for (int r = 0; r < runs[k]->rows; r++)
      {
        const char *series = runs[k]->series && runs[k]->series[r] ? runs[k]->series[r] : "value";
        g_autofree char *head = b ? g_strdup_printf ("%s: %s", names[k] ? names[k] : "", series) : g_strdup (series);
        g_string_append_c (s, ',');
        csv_field (s, head);
      }
  if (b && difference)
    for (int r = 0; r < a->rows; r++)
      {
        g_autofree char *head = g_strdup_printf ("A − B: %s", a->series && a->series[r] ? a->series[r] : "value");
        g_string_append_c (s, ',');
        csv_field (s, head);
      }
  g_string_append_c (s, '\n');
  for (int c = 0; c < cols; c++)
    {
      csv_cell_name (s, &wide->x, c);
      for (int k = 0; k < (b ? 2 : 1); k++)
        for (int r = 0; r < runs[k]->rows; r++)
          g_string_append_c (s, ','), csv_number (s, ms_view_data_get (runs[k], r, c));
      if (b && difference)
        for (int r = 0; r < a->rows; r++)
          g_string_append_c (s, ','), csv_number (s, ms_view_data_get (a, r, c) - ms_view_data_get (b, r, c));
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}
