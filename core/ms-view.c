/* ms-view.c — from recorded rows to labelled view data. */
#include "ms-view.h"
#include "ms-analysis.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

static const char *const view_names[] = { "retention", "types", "provenance", "similarity", "read", "write", "nll" };

gboolean
ms_view_kind_parse (const char *name, MsViewKind *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (view_names); i++)
    if (g_strcmp0 (name, view_names[i]) == 0)
      {
        *out = (MsViewKind) i;
        return TRUE;
      }
  return FALSE;
}

const char *
ms_view_kind_name (MsViewKind kind)
{
  return view_names[kind];
}

const char *
ms_view_kind_list (void)
{
  return "retention, types, provenance, similarity, read, write, nll";
}

void
ms_view_data_free (MsViewData *v)
{
  if (!v)
    return;
  g_free (v->values);
  g_free (v->title);
  g_free (v->x_label);
  g_free (v->y_label);
  g_free (v->value_label);
  g_strfreev (v->series);
  g_free (v);
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
  c->x0 = v->x0 + first * v->x_step;
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
  c->x_label = g_strdup (v->x_label);
  c->y_label = g_strdup (v->y_label);
  c->value_label = g_strdup (v->value_label);
  c->series = g_strdupv (v->series);
  return c;
}

static MsViewData *
view_new (MsViewKind kind, MsViewShape shape, float *values, int rows, int cols)
{
  MsViewData *v = g_new0 (MsViewData, 1);
  v->kind = kind;
  v->shape = shape;
  v->values = values;
  v->rows = rows;
  v->cols = cols;
  v->x_step = v->y_step = 1;
  v->vmin = v->vmax = NAN;
  return v;
}

static void
label (MsViewData *v, const char *title, const char *x, const char *y, const char *value)
{
  v->title = g_strdup (title);
  v->x_label = g_strdup (x);
  v->y_label = g_strdup (y);
  v->value_label = g_strdup (value);
}

static MsViewData *
slot_heatmap (MsRecording *rec, gint64 run, MsViewKind kind, MsSlotQuantity q, GError **error)
{
  int K, S;
  float *m = ms_recording_slot_matrix (rec, run, q, &K, &S, error);
  if (!m)
    return NULL;
  MsViewData *v = view_new (kind, MS_VIEW_HEATMAP, m, K, S);
  if (kind == MS_VIEW_RETENTION)
    {
      label (v, "Slot retention", "segment", "memory slot", "retention r (old share)");
      v->vmin = 0, v->vmax = 1;
    }
  else
    {
      label (v, "Read usage", "segment", "memory slot", "read usage (attention mass)");
      v->vmin = 0;
    }
  return v;
}

static MsViewData *
slot_types (MsRecording *rec, gint64 run, const MsViewParams *p, GError **error)
{
  int K, S;
  g_autofree float *r = ms_recording_slot_matrix (rec, run, MS_SLOT_RETENTION, &K, &S, error);
  if (!r)
    return NULL;
  float *out = g_new0 (float, 3 * (size_t) MAX (S, 1));
  g_autofree float *column = g_new (float, K);
  for (int t = 0; t < S; t++)
    {
      int counts[3];
      for (int i = 0; i < K; i++)
        column[i] = r[(size_t) i * S + t];
      ms_slot_type_counts (column, K, p->retain_at, p->overwrite_at, counts);
      for (int k = 0; k < 3; k++)
        out[(size_t) k * S + t] = (float) counts[k] / K;
    }
  MsViewData *v = view_new (MS_VIEW_TYPES, MS_VIEW_STACKED, out, 3, S);
  g_autofree char *title = g_strdup_printf ("Slot types (retain: r ≥ %g, overwrite: r ≤ %g)", p->retain_at,
                                            p->overwrite_at);
  label (v, title, "segment", NULL, "fraction of slots");
  v->series = g_strsplit ("retain,mixed,overwrite", ",", -1);
  v->vmin = 0, v->vmax = 1;
  return v;
}

/* Rows: sources −1 … S−1; columns: after segment t.  Sources later than t
 * are NaN (no data), not 0. */
static MsViewData *
provenance (MsRecording *rec, gint64 run, const MsViewParams *p, GError **error)
{
  int S, K;
  g_autofree float *transfer = ms_recording_transfer (rec, run, &S, &K, error);
  int k2, s2;
  g_autofree float *token = transfer ? ms_recording_slot_matrix (rec, run, MS_SLOT_TOKEN_SHARE, &k2, &s2, error) : NULL;
  if (!token)
    return NULL;
  if (p->slot >= K)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "slot %d is out of range: the run has %d memory slots (0 … %d)",
                   p->slot, K, K - 1);
      return NULL;
    }
  int rows = S + 1;
  float *out = g_new (float, (size_t) rows * MAX (S, 1));
  for (size_t i = 0; i < (size_t) rows * S; i++)
    out[i] = NAN;
  g_autofree float *prev = g_new (float, (size_t) K * rows), *next = g_new (float, (size_t) K * rows);
  g_autofree float *column = g_new (float, rows);
  g_autoptr (MsWriteDistribution) wd = ms_write_distribution_new (K, 1);
  ms_provenance_init (prev, K);
  for (int t = 0; t < S; t++)
    {
      for (int i = 0; i < K; i++)
        {
          wd->token_share[i] = token[(size_t) i * S + t];
          double old = 0;
          for (int j = 0; j < K; j++)
            old += transfer[((size_t) t * K + i) * K + j];
          wd->old_share[i] = (float) old;
        }
      memcpy (wd->transfer, transfer + (size_t) t * K * K, (size_t) K * K * sizeof (float));
      ms_provenance_step (prev, K, t + 1, wd, next);
      if (p->slot >= 0)
        memcpy (column, next + (size_t) p->slot * (t + 2), (t + 2) * sizeof (float));
      else
        ms_provenance_mean (next, K, t + 2, column);
      for (int s = 0; s < t + 2; s++)
        out[(size_t) s * S + t] = column[s];
      float *swap = prev;
      prev = next;
      next = swap;
    }
  MsViewData *v = view_new (MS_VIEW_PROVENANCE, MS_VIEW_HEATMAP, out, rows, S);
  g_autofree char *title = p->slot >= 0 ? g_strdup_printf ("Provenance of slot %d (−1 = initial memory)", p->slot)
                                        : g_strdup ("Provenance (mean over slots; −1 = initial memory)");
  label (v, title, "after segment", "source segment", "share of content");
  v->y0 = -1;
  v->vmin = 0, v->vmax = 1;
  return v;
}

/* Long runs are sampled to at most MS_VIEW_MAX_SIMILARITY states, so the
 * matrix stays small enough to compute and draw at once. */
static MsViewData *
similarity (MsRecording *rec, MsRunInfo *info, GError **error)
{
  int stride = (info->segments_done + MS_VIEW_MAX_SIMILARITY - 1) / MS_VIEW_MAX_SIMILARITY;
  int S;
  size_t len;
  g_autofree float *states = ms_recording_memory_states (rec, info->id, MAX (stride, 1), &S, &len, error);
  if (!states)
    return NULL;
  float *out = g_new (float, (size_t) MAX (S, 1) * MAX (S, 1));
  ms_memory_similarity_matrix (states, S, len, out);
  MsViewData *v = view_new (MS_VIEW_SIMILARITY, MS_VIEW_HEATMAP, out, S, S);
  g_autofree char *title = stride > 1 ? g_strdup_printf ("Memory state similarity (every %d segments)", stride)
                                      : g_strdup ("Memory state similarity");
  label (v, title, "after segment", "after segment", "cosine similarity");
  v->x_step = v->y_step = MAX (stride, 1);
  return v;
}

static int
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

/* Reader or writer attention of one segment. */
static MsViewData *
attention (MsRecording *rec, MsRunInfo *info, MsViewKind kind, const MsViewParams *p, GError **error)
{
  const MsConfig *c = &info->config;
  gboolean memformer = c->arch == MS_ARCH_MEMFORMER;
  int n_layers = memformer ? (kind == MS_VIEW_READ ? c->n_enc_layers : 1) : c->n_layers;
  int segment = p->segment >= 0 ? p->segment : info->segments_done - 1;
  int layer = p->layer >= 0 ? p->layer : n_layers - 1;
  if (!check_index ("segment", segment, info->segments_done, error) || !check_index ("layer", layer, n_layers, error)
      || (p->head >= 0 && !check_index ("head", p->head, c->n_heads, error)))
    return NULL;
  MsObsKind stored = kind == MS_VIEW_READ ? (memformer ? MS_OBS_READER : MS_OBS_RMT_READ)
                                          : (memformer ? MS_OBS_WRITER : MS_OBS_RMT_WRITE);
  int rows, cols;
  float *m = ms_recording_attention (rec, info->id, segment, stored, layer, p->head, &rows, &cols, error);
  if (!m)
    return NULL;
  MsViewData *v = view_new (kind, MS_VIEW_HEATMAP, m, rows, cols);
  g_autofree char *head = p->head >= 0 ? g_strdup_printf ("head %d", p->head) : g_strdup ("mean over heads");
  g_autofree char *where = memformer && kind == MS_VIEW_WRITE ? g_strdup_printf ("segment %d, %s", segment, head)
                                                              : g_strdup_printf ("segment %d, layer %d, %s", segment, layer, head);
  if (kind == MS_VIEW_READ)
    {
      g_autofree char *title = g_strdup_printf ("Reader attention (%s)", where);
      label (v, title, memformer ? "memory slot" : "read-block slot", "token", "attention weight");
    }
  else if (memformer)
    {
      g_autofree char *title = g_strdup_printf ("Writer attention (%s)", where);
      label (v, title, "source (0 = the slot itself, then tokens)", "memory slot", "writer attention");
    }
  else
    {
      g_autofree char *title = g_strdup_printf ("Write-block attention (%s)", where);
      label (v, title, "position: read block | tokens | write block", "memory slot", "attention weight");
    }
  v->vmin = 0;
  return v;
}

static MsViewData *
nll (MsRecording *rec, gint64 run, GError **error)
{
  int S;
  float *m = ms_recording_segment_nll (rec, run, &S, error);
  if (!m)
    return NULL;
  MsViewData *v = view_new (MS_VIEW_NLL, MS_VIEW_LINES, m, 1, S);
  label (v, "Per-segment NLL", "segment", NULL, "mean NLL (nats/token)");
  v->series = g_strsplit ("mean NLL", ",", -1);
  return v;
}

MsViewData *
ms_view_load (MsRecording *rec, gint64 run_id, MsViewKind kind, const MsViewParams *params, GError **error)
{
  MsViewParams defaults = MS_VIEW_PARAMS_DEFAULT;
  const MsViewParams *p = params ? params : &defaults;
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, error);
  if (!info)
    return NULL;
  if (info->segments_done == 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "run %" G_GINT64_FORMAT " has no committed segment yet", run_id);
      return NULL;
    }
  switch (kind)
    {
    case MS_VIEW_RETENTION: return slot_heatmap (rec, run_id, kind, MS_SLOT_RETENTION, error);
    case MS_VIEW_TYPES: return slot_types (rec, run_id, p, error);
    case MS_VIEW_PROVENANCE: return provenance (rec, run_id, p, error);
    case MS_VIEW_SIMILARITY: return similarity (rec, info, error);
    case MS_VIEW_READ:
      if (p->segment < 0 && p->layer < 0 && p->head < 0)
        return slot_heatmap (rec, run_id, kind, MS_SLOT_READ_USAGE, error);
      return attention (rec, info, kind, p, error);
    case MS_VIEW_WRITE: return attention (rec, info, kind, p, error);
    case MS_VIEW_NLL: return nll (rec, run_id, error);
    }
  g_return_val_if_reached (NULL);
}
