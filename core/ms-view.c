/* ms-view.c — the table of views and the view data: copying, cropping and
 * merging columns, and the labels every loader shares.  Loading is in
 * views/ms-view-load.c, what a cell means in views/ms-view-describe.c, the
 * CSV in views/ms-view-csv.c. */
#include "views/ms-view-private.h"
#include "ms-engine.h"

#include <math.h>
#include <string.h>

static const MsViewInfo view_table[MS_VIEW_N_KINDS] = {
  { MS_VIEW_RETENTION, "retention", "Retention",
    "slot retention r: the share of the new slot's content drawn from the old memory",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, TRUE, 0, FALSE },
  { MS_VIEW_REPRESENTATION, "representation", "Representation",
    "representation retention: cos(M_{t+1}[i], M_t[i]), how much slot i's vector kept its direction",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, TRUE, 0, FALSE },
  { MS_VIEW_PROVENANCE, "provenance", "Provenance",
    "the share of the memory's content after segment t that was written at source segment s",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW | MS_VIEW_USES_SLOT | MS_VIEW_USES_HORIZON, MS_VIEW_AXIS_SEGMENT,
    MS_VIEW_AXIS_SOURCE,
    MS_VIEW_REDUCE_MEAN, FALSE, 0, FALSE },
  { MS_VIEW_TYPES, "types", "Slot types",
    "the fractions of slots that retain (r ≥ retain-at), overwrite (r ≤ overwrite-at) or mix",
    MS_VIEW_STACKED, MS_VIEW_USES_WINDOW | MS_VIEW_USES_THRESHOLDS, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SERIES,
    MS_VIEW_REDUCE_MEAN, FALSE, 0, FALSE },
  { MS_VIEW_NLL, "nll", "NLL", "mean negative log-likelihood per predicted token of the segment (nats)",
    MS_VIEW_LINES, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SERIES, MS_VIEW_REDUCE_MEAN, TRUE, 0, FALSE },
  { MS_VIEW_READ_USAGE, "read-usage", "Read usage",
    "read usage: the read attention the segment's tokens give slot i, summed over tokens",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, TRUE, 0, FALSE },
  { MS_VIEW_READ, "read", "Read",
    "read attention of one segment: the weight token j gives memory slot i",
    MS_VIEW_HEATMAP, MS_VIEW_USES_SEGMENT | MS_VIEW_USES_LAYER | MS_VIEW_USES_HEAD, MS_VIEW_AXIS_SLOT,
    MS_VIEW_AXIS_TOKEN, MS_VIEW_REDUCE_MEAN, FALSE, 0, FALSE },
  { MS_VIEW_WRITE, "write", "Write",
    "write attention of one segment: the weight new slot i gives each position (old memory or a token)",
    MS_VIEW_HEATMAP, MS_VIEW_USES_SEGMENT | MS_VIEW_USES_LAYER | MS_VIEW_USES_HEAD, MS_VIEW_AXIS_POSITION,
    MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, FALSE, 0, FALSE },
  { MS_VIEW_SIMILARITY, "similarity", "Similarity",
    "cosine similarity of the whole memory states after two segments",
    MS_VIEW_HEATMAP, 0, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SEGMENT, MS_VIEW_REDUCE_MEAN, FALSE, 0, FALSE },
  { MS_VIEW_READ_HEADS, "read-heads", "Read heads",
    "read attention of one segment in every layer and head, and the mean over heads, on one colour scale",
    MS_VIEW_HEATMAP, MS_VIEW_USES_SEGMENT, MS_VIEW_AXIS_GRID, MS_VIEW_AXIS_GRID, MS_VIEW_REDUCE_MEAN, FALSE, 0, FALSE },
  { MS_VIEW_WRITE_HEADS, "write-heads", "Write heads",
    "write attention of one segment in every layer and head, and the mean over heads, on one colour scale",
    MS_VIEW_HEATMAP, MS_VIEW_USES_SEGMENT, MS_VIEW_AXIS_GRID, MS_VIEW_AXIS_GRID, MS_VIEW_REDUCE_MEAN, FALSE, 0, FALSE },
  { MS_VIEW_CAUSAL, "causal", "Causal",
    "causal retention: the change in mean NLL per token of target segment t when the memory after source "
    "segment s is replaced (initial memory, zeros, permuted slots, or the memory before s), replayed",
    MS_VIEW_HEATMAP, 0, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SOURCE, MS_VIEW_REDUCE_MEAN, TRUE, 0, TRUE },
  { MS_VIEW_CAUSAL_SLOTS, "causal-slots", "Causal slots",
    "slot causal importance: the mean change in NLL per token over the next segments when slot i alone is "
    "set back to its initial value after segment s",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, TRUE, 0, TRUE },
  { MS_VIEW_FORGETTING, "forgetting", "Forgetting",
    "what the model forgets: the mean change in NLL per token t − s segments after the memory was replaced, "
    "one line per replacement",
    MS_VIEW_LINES, 0, MS_VIEW_AXIS_DELAY, MS_VIEW_AXIS_SERIES, MS_VIEW_REDUCE_MEAN, FALSE, 0, TRUE },
  { MS_VIEW_GATE, "gate", "Gate",
    "update gate α: the share of new slot i taken from the layers' output, 1 − α kept from the old memory "
    "as it was (an engine with a gate: MemBART)",
    MS_VIEW_HEATMAP, MS_VIEW_USES_WINDOW, MS_VIEW_AXIS_SEGMENT, MS_VIEW_AXIS_SLOT, MS_VIEW_REDUCE_MEAN, TRUE,
    MS_OBS_GATE, FALSE },
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

gboolean
ms_view_offered (const MsConfig *c, MsViewKind kind)
{
  guint needs = ms_view_info (kind)->needs;
  return needs == 0 || ms_engine_offers_slot_observation (c->engine, needs);
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
  if (a->tile)
    axis_clear (a->tile), g_free (a->tile);
  g_free (a->name);
  g_free (a->label);
  for (int b = 0; b < a->n_blocks; b++)
    g_free (a->blocks[b].name);
  g_free (a->blocks);
  if (a->texts)
    for (int i = 0; i < a->n; i++)
      g_free (a->texts[i]);
  g_free (a->texts);
  g_free (a->bytes);
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
  to->bytes = NULL;
  to->tile = NULL;
  if (from->tile)
    axis_copy (to->tile = g_new0 (MsViewAxis, 1), from->tile, 0, from->tile->n);
  if (from->bytes)
    {
      to->bytes = g_new0 (MsByteRange, MAX (n, 1));
      for (int i = 0; i < n && first + i < from->n; i++)
        to->bytes[i] = from->bytes[first + i];
    }
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


/* @a's cells merged by @f (into @n) of @width indices each: the first
 * cell's text stands for each merged cell, the label says the new width. */
static void
merge_axis (MsViewAxis *a, int f, int n, int width, const char *per)
{
  if (a->texts)
    {
      for (int j = 0; j < n; j++)
        {
          char *keep = a->texts[j * f];
          a->texts[j * f] = NULL;
          g_free (a->texts[j]);
          a->texts[j] = keep;
        }
      for (int k = n; k < a->n; k++)
        g_clear_pointer (&a->texts[k], g_free);
    }
  a->n = n;
  a->step = width * f;
  g_free (a->label);
  a->label = ms_view_axis_label (a->name, width * f, per);
}

MsViewData *
ms_view_data_bin_columns (const MsViewData *v, int max_cols)
{
  int f = max_cols > 0 ? (v->cols + max_cols - 1) / max_cols : 1;
  /* similarity: a cell is the mean cosine over the pairs of states of its two bins, which the pairs of
   * smaller bins inside them give exactly, each weighted by the states it pairs */
  gboolean square = v->kind == MS_VIEW_SIMILARITY && v->rows == v->cols && v->x.start == v->y.start
                    && v->x.step == v->y.step && v->x.length == v->y.length;
  if (f <= 1 || v->x.kind != MS_VIEW_AXIS_SEGMENT || (v->y.kind == MS_VIEW_AXIS_SEGMENT && !square))
    return ms_view_data_crop_columns (v, 0, v->cols);
  int n = (v->cols + f - 1) / f, width = (int) v->x.step;
  int rows = square ? n : v->rows, row_f = square ? f : 1;
  MsViewData *c = ms_view_data_crop_columns (v, 0, v->cols);
  float *values = g_new (float, (size_t) rows * n);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < n; j++)
      {
        double acc = 0, weight = 0;
        for (int r = i * row_f; r < MIN ((i + 1) * row_f, v->rows); r++)
          for (int k = j * f; k < MIN ((j + 1) * f, v->cols); k++)
            {
              float x = v->values[(size_t) r * v->cols + k];
              /* the segments column k (and row r) holds: the last may hold fewer */
              double w = MIN (width, v->x.length - k * width);
              if (square)
                w *= MIN (width, v->y.length - r * width);
              if (isnan (x) || w <= 0)
                continue;
              if (v->reducer == MS_VIEW_REDUCE_MAX)
                acc = weight == 0 ? x : MAX (acc, x), weight = 1;
              else
                acc += w * x, weight += w;
            }
        values[(size_t) i * n + j]
          = weight == 0 ? NAN : (float) (v->reducer == MS_VIEW_REDUCE_MAX ? acc : acc / weight);
      }
  g_free (c->values);
  c->values = values;
  c->cols = n;
  merge_axis (&c->x, f, n, width, "column");
  if (square)
    {
      c->rows = n;
      merge_axis (&c->y, f, n, width, "row");
    }
  g_free (c->value_label);
  c->value_label = square ? g_strdup_printf ("%s, mean per cell", v->quantity)
                          : ms_view_binned_label (v->quantity ? v->quantity : v->value_label, v->reducer, width * f);
  return c;
}

MsViewData *
ms_view_data_new (const MsRunInfo *info, MsViewKind kind, float *values, int rows, int cols)
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
  v->segment = v->layer = v->head = v->slot = v->replacement = -1;
  return v;
}

void
ms_view_data_set_labels (MsViewData *v, const char *title, const char *x, const char *y, const char *value)
{
  v->title = g_strdup (title);
  v->x.name = g_strdup (x);
  v->x.label = g_strdup (x);
  v->y.name = g_strdup (y);
  v->y.label = g_strdup (y);
  v->value_label = g_strdup (value);
}

/* "segment", or "segment (42 per column)" when a cell holds several. */
char *
ms_view_axis_label (const char *name, int width, const char *per)
{
  if (width <= 1 || !name)
    return g_strdup (name);
  return g_strdup_printf ("%s (%d per %s)", name, width, per);
}

const char *
ms_view_reducer_name (MsViewReducer r)
{
  return r == MS_VIEW_REDUCE_MAX ? "max" : "mean";
}

/* @value, and when cells are bins, which reducer over how many segments. */
char *
ms_view_binned_label (const char *value, MsViewReducer reducer, int width)
{
  if (width <= 1)
    return g_strdup (value);
  return g_strdup_printf ("%s, %s per column", value, ms_view_reducer_name (reducer));
}

