/* ms-view-causal.c — the views of causal retention (ms-causal.h): the
 * source × target ΔNLL heatmap (causal), each slot's causal importance
 * (causal-slots, from knockout), what the model forgets (forgetting: mean
 * ΔNLL against t − s), and the NLL view's extra series (the reset-memory
 * baseline, and the NLL of the tokens a task scores).  Every value comes
 * from ms_causal_foreach / ms_causal_foreach_reset_memory, validated there;
 * cells of whole segments are aggregated with the view's reducer. */
#include "ms-view-private.h"
#include "ms-causal.h"
#include "ms-db.h"
#include "ms-engine.h"
#include "ms-error.h"
#include "ms-recording-private.h"
#include "ms-tasks.h"

#include <math.h>
#include <string.h>

/* Cells of whole indices over [first, first + length), @width per cell. */
typedef struct {
  int first, length, width, n;
} Cells;

static Cells
cells_make (int first, int last, int max_cells)
{
  int len = MAX (last - first, 0);
  int width = max_cells > 0 ? MAX ((len + max_cells - 1) / max_cells, 1) : 1;
  return (Cells) { first, len, width, MAX ((len + width - 1) / width, 1) };
}

static void
axis_set_cells (MsViewAxis *a, const Cells *c, const char *per)
{
  a->n = c->n;
  a->start = c->first;
  a->step = c->width;
  a->length = c->length;
  g_free (a->label);
  a->label = ms_view_axis_label (a->name, c->width, per);
}

/* Sums (or maxima) and counts per output cell. */
typedef struct {
  int rows, cols;
  MsViewReducer reducer;
  double *acc;
  int *count;
} Acc;

static void
acc_init (Acc *a, int rows, int cols, MsViewReducer reducer)
{
  a->rows = rows, a->cols = cols, a->reducer = reducer;
  a->acc = g_new0 (double, (size_t) rows * cols);
  a->count = g_new0 (int, (size_t) rows * cols);
}

static void
acc_add (Acc *a, int row, int col, double value)
{
  if (isnan (value) || row < 0 || col < 0 || row >= a->rows || col >= a->cols)
    return;
  size_t k = (size_t) row * a->cols + col;
  if (a->reducer == MS_VIEW_REDUCE_MAX)
    a->acc[k] = a->count[k] == 0 ? value : MAX (a->acc[k], value);
  else
    a->acc[k] += value;
  a->count[k]++;
}

static float *
acc_finish (Acc *a)
{
  float *out = g_new (float, (size_t) a->rows * a->cols);
  for (size_t k = 0; k < (size_t) a->rows * a->cols; k++)
    out[k] = a->count[k] == 0 ? NAN : (float) (a->reducer == MS_VIEW_REDUCE_MAX ? a->acc[k] : a->acc[k] / a->count[k]);
  g_clear_pointer (&a->acc, g_free);
  g_clear_pointer (&a->count, g_free);
  return out;
}

/* The replacement a view shows: @asked when the run has rows of it, else
 * the first of initial, skip, zeros, permute that has (knockout is
 * causal-slots' own).  FALSE with @error when SQLite fails; *@found FALSE
 * when nothing is stored. */
static gboolean
pick_replacement (MsRecording *rec, const MsRunInfo *info, int asked, MsCausalReplacement *out, gboolean *found,
                  GError **error)
{
  const MsCausalReplacement order[] = { MS_CAUSAL_INITIAL, MS_CAUSAL_SKIP, MS_CAUSAL_ZEROS, MS_CAUSAL_PERMUTE };
  *found = FALSE;
  if (asked >= 0 && asked < MS_CAUSAL_N_REPLACEMENTS && asked != MS_CAUSAL_KNOCKOUT)
    {
      gint64 n = ms_causal_count (rec, info, asked, error);
      if (n < 0)
        return FALSE;
      if (n > 0)
        return *out = asked, *found = TRUE, TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      gint64 n = ms_causal_count (rec, info, order[i], error);
      if (n < 0)
        return FALSE;
      if (n > 0)
        return *out = order[i], *found = TRUE, TRUE;
    }
  return TRUE;
}

/* A view of @kind over its usual axes without data, titled to say how to
 * compute it: what a run without causal retention shows (so the workbench
 * pages and Export All draw every view of every run). */
static MsViewData *
not_computed (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const char *what, int rows, int cols)
{
  float *values = g_new (float, (size_t) rows * cols);
  for (size_t k = 0; k < (size_t) rows * cols; k++)
    values[k] = NAN;
  MsViewData *v = ms_view_data_new (info, kind, values, rows, cols);
  g_autofree char *title = g_strdup_printf ("No %s computed for run %" G_GINT64_FORMAT " (memscope-cli causal%s, "
                                            "or the Causal page)", what, info->id,
                                            kind == MS_VIEW_CAUSAL_SLOTS ? " --replace knockout" : "");
  ms_view_data_set_labels (v, title, kind == MS_VIEW_FORGETTING ? "segments after the source (t − s)"
                                     : kind == MS_VIEW_CAUSAL ? "target segment" : "after segment (the source)",
                           kind == MS_VIEW_CAUSAL ? "source segment" : kind == MS_VIEW_CAUSAL_SLOTS ? "memory slot"
                                                                                                    : NULL, NULL);
  v->quantity = g_strdup ("ΔNLL (nats/token)");
  v->value_label = g_strdup (v->quantity);
  v->vmin = -1, v->vmax = 1;
  if (kind == MS_VIEW_FORGETTING)
    {
      v->x.start = 1;
      v->series = g_strsplit ("not computed", ",", -1);
      v->y.texts = g_new0 (char *, 1);
      v->y.texts[0] = g_strdup (v->series[0]);
    }
  (void) rec;
  return v;
}

/* The symmetric range of the finite values of @v, so the diverging
 * colormap puts 0 at its centre. */
static void
symmetric_range (MsViewData *v)
{
  double m = 0;
  for (size_t k = 0; k < (size_t) v->rows * v->cols; k++)
    if (isfinite (v->values[k]))
      m = MAX (m, fabs (v->values[k]));
  if (m > 0)
    v->vmin = -m, v->vmax = m;
}

/* ---- causal: source × target ---- */

typedef struct {
  Cells cells;          /* the same on both axes */
  Acc acc;
} HeatFill;

static gboolean
on_heat_row (const MsCausalRow *row, gpointer data, GError **error)
{
  HeatFill *f = data;
  int r = (row->source - f->cells.first) / f->cells.width;
  for (int k = 0; k < row->horizon; k++)
    {
      int t = row->source + 1 + k;
      if (t >= f->cells.first + f->cells.length)
        break;
      acc_add (&f->acc, r, (t - f->cells.first) / f->cells.width, row->delta_nll[k]);
    }
  return TRUE;
}

static MsViewData *
causal_heatmap (MsRecording *rec, const MsRunInfo *info, const MsViewParams *p, MsViewReducer reducer,
                GError **error)
{
  MsCausalReplacement r;
  gboolean found;
  if (!pick_replacement (rec, info, p->replacement, &r, &found, error))
    return NULL;
  int S = info->segments_done;
  HeatFill f = { .cells = cells_make (0, S, p->max_cols > 0 ? p->max_cols : MS_VIEW_MAX_SQUARE) };
  if (!found)
    {
      /* drawn at the output's size, as the computed view is: never S × S */
      MsViewData *v = not_computed (rec, info, MS_VIEW_CAUSAL, "causal retention", f.cells.n, f.cells.n);
      axis_set_cells (&v->x, &f.cells, "column");
      axis_set_cells (&v->y, &f.cells, "row");
      return v;
    }
  acc_init (&f.acc, f.cells.n, f.cells.n, reducer);
  if (!ms_causal_foreach (rec, info, r, on_heat_row, &f, error))
    return g_free (acc_finish (&f.acc)), NULL;
  MsViewData *v = ms_view_data_new (info, MS_VIEW_CAUSAL, acc_finish (&f.acc), f.cells.n, f.cells.n);
  v->reducer = reducer;
  g_autofree char *title = g_strdup_printf ("Causal retention: memory after the source replaced by %s",
                                            r == MS_CAUSAL_INITIAL ? "the initial memory"
                                            : r == MS_CAUSAL_ZEROS ? "zeros"
                                            : r == MS_CAUSAL_PERMUTE ? "its slots permuted"
                                                                     : "the memory before it (skip)");
  ms_view_data_set_labels (v, title, "target segment", "source segment", NULL);
  axis_set_cells (&v->x, &f.cells, "column");
  axis_set_cells (&v->y, &f.cells, "row");
  v->quantity = g_strdup ("ΔNLL (nats/token)");
  v->value_label = f.cells.width > 1 ? g_strdup_printf ("ΔNLL (nats/token), %s per cell",
                                                        ms_view_reducer_name (reducer))
                                     : g_strdup (v->quantity);
  v->replacement = (int) r;
  symmetric_range (v);
  return v;
}

/* ---- causal-slots: slot × source (knockout) ---- */

typedef struct {
  Cells cells;
  Acc acc;
} SlotFill;

static gboolean
on_slot_row (const MsCausalRow *row, gpointer data, GError **error)
{
  SlotFill *f = data;
  if (row->source < f->cells.first || row->source >= f->cells.first + f->cells.length)
    return TRUE;
  double sum = 0;
  int n = 0;
  for (int k = 0; k < row->horizon; k++)
    if (!isnan (row->delta_nll[k]))
      sum += row->delta_nll[k], n++;
  if (n)
    acc_add (&f->acc, row->slot, (row->source - f->cells.first) / f->cells.width, sum / n);
  return TRUE;
}

static MsViewData *
causal_slots (MsRecording *rec, const MsRunInfo *info, const MsViewParams *p, int first, int last,
              MsViewReducer reducer, GError **error)
{
  gint64 n = ms_causal_count (rec, info, MS_CAUSAL_KNOCKOUT, error);
  if (n < 0)
    return NULL;
  int K = info->config.n_slots;
  SlotFill f = { .cells = cells_make (first, last, p->max_cols) };
  if (p->span > 0 && p->max_cols > 0)
    f.cells.width = MAX ((p->span + p->max_cols - 1) / p->max_cols, 1),
    f.cells.n = MAX ((f.cells.length + f.cells.width - 1) / f.cells.width, 1);
  if (n == 0)
    {
      MsViewData *v = not_computed (rec, info, MS_VIEW_CAUSAL_SLOTS, "slot knockout", K, f.cells.n);
      axis_set_cells (&v->x, &f.cells, "column");
      return v;
    }
  acc_init (&f.acc, K, f.cells.n, reducer);
  if (!ms_causal_foreach (rec, info, MS_CAUSAL_KNOCKOUT, on_slot_row, &f, error))
    return g_free (acc_finish (&f.acc)), NULL;
  MsViewData *v = ms_view_data_new (info, MS_VIEW_CAUSAL_SLOTS, acc_finish (&f.acc), K, f.cells.n);
  v->reducer = reducer;
  ms_view_data_set_labels (v, "Slot causal importance: one slot knocked out to its initial value",
                           "after segment (the source)", "memory slot", NULL);
  axis_set_cells (&v->x, &f.cells, "column");
  v->quantity = g_strdup ("mean ΔNLL over the horizon (nats/token)");
  v->value_label = ms_view_binned_label (v->quantity, reducer, f.cells.width);
  symmetric_range (v);
  return v;
}

/* ---- forgetting: mean ΔNLL against t − s ---- */

typedef struct {
  int horizon;
  int series;
  Acc acc;              /* (series, horizon) */
} ForgetFill;

static gboolean
on_forget_row (const MsCausalRow *row, gpointer data, GError **error)
{
  ForgetFill *f = data;
  for (int k = 0; k < MIN (row->horizon, f->horizon); k++)
    acc_add (&f->acc, f->series, k, row->delta_nll[k]);
  return TRUE;
}

static gboolean
on_horizon (const MsCausalRow *row, gpointer data, GError **error)
{
  int *h = data;
  *h = MAX (*h, row->horizon);
  return TRUE;
}

static MsViewData *
forgetting (MsRecording *rec, const MsRunInfo *info, GError **error)
{
  /* one series per replacement stored (knockout: the mean over slots) */
  MsCausalReplacement shown[MS_CAUSAL_N_REPLACEMENTS];
  int n_shown = 0, horizon = 0;
  for (int r = 0; r < MS_CAUSAL_N_REPLACEMENTS; r++)
    {
      gint64 n = ms_causal_count (rec, info, r, error);
      if (n < 0)
        return NULL;
      if (n > 0)
        {
          shown[n_shown++] = r;
          if (!ms_causal_foreach (rec, info, r, on_horizon, &horizon, error))
            return NULL;
        }
    }
  if (n_shown == 0)
    return not_computed (rec, info, MS_VIEW_FORGETTING, "causal retention", 1, 1);
  ForgetFill f = { .horizon = horizon };
  acc_init (&f.acc, n_shown, horizon, MS_VIEW_REDUCE_MEAN);
  for (f.series = 0; f.series < n_shown; f.series++)
    if (!ms_causal_foreach (rec, info, shown[f.series], on_forget_row, &f, error))
      return g_free (acc_finish (&f.acc)), NULL;
  MsViewData *v = ms_view_data_new (info, MS_VIEW_FORGETTING, acc_finish (&f.acc), n_shown, horizon);
  ms_view_data_set_labels (v, "What the model forgets: mean ΔNLL against t − s", "segments after the source (t − s)",
                           NULL, NULL);
  Cells lags = cells_make (1, horizon + 1, 0);
  axis_set_cells (&v->x, &lags, "column");
  v->quantity = g_strdup ("mean ΔNLL (nats/token)");
  v->value_label = g_strdup (v->quantity);
  v->series = g_new0 (char *, n_shown + 1);
  v->y.texts = g_new0 (char *, n_shown);
  for (int s = 0; s < n_shown; s++)
    {
      v->series[s] = g_strdup (ms_causal_replacement_name (shown[s]));
      v->y.texts[s] = g_strdup (v->series[s]);
    }
  return v;
}

/* ---- the NLL view's series: the reset-memory baseline, the answer tokens ---- */

typedef struct {
  int first, width;
  Acc *acc;
  int row;
} BaselineFill;

static gboolean
on_baseline (int segment, const float *nll, int n_tokens, float mean, gpointer data, GError **error)
{
  BaselineFill *f = data;
  acc_add (f->acc, f->row, (segment - f->first) / f->width, mean);
  return TRUE;
}

typedef struct {
  GByteArray *text;
  int segment_len;
  gboolean bytes;       /* every segment one byte per token as far as its length tells */
  int segments;
} TaskText;

static gboolean
on_task_text (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  TaskText *t = data;
  if (seg->text_len > t->segment_len)
    t->bytes = FALSE;
  if (t->bytes)
    g_byte_array_append (t->text, (const guint8 *) seg->text, (guint) seg->text_len);
  t->segments++;
  return TRUE;
}

/* Inputs longer than this are not searched for task instances by a view
 * (a whole pass over the text before drawing). */
#define TASK_TEXT_MAX (1 << 20)

gboolean
ms_view_causal_nll_series (MsRecording *rec, const MsRunInfo *info, MsViewData *v, int first, int width,
                           GError **error)
{
  int cols = v->cols, S = info->segments_done;
  /* the reset-memory baseline */
  Acc acc;
  acc_init (&acc, 2, cols, v->reducer);
  BaselineFill bf = { first, width, &acc, 0 };
  int last = MIN (first + cols * width, S);
  gboolean ok = ms_causal_foreach_reset_memory (rec, info, first, last, on_baseline, &bf, error);
  gboolean have_baseline = FALSE;
  for (int c = 0; c < cols; c++)
    have_baseline |= acc.count[c] > 0;
  /* the answer tokens of a task input (byte runs only) */
  gboolean have_answers = FALSE;
  MsTask task = MS_TASK_COPY;
  if (ok && (gint64) S * info->segment_len <= TASK_TEXT_MAX)
    {
      TaskText t = { g_byte_array_new (), info->segment_len, TRUE, 0 };
      ok = ms_recording_foreach_segment (rec, info, 0, S, 1, MS_SEGMENT_TEXT, on_task_text, &t, error);
      g_autofree uint8_t *answer = ok && t.bytes ? g_malloc (MAX (t.text->len, 1)) : NULL;
      if (answer && ms_task_detect (t.text->data, t.text->len, info->segment_len, &task, answer))
        {
          sqlite3_stmt *st = ms_recording_query_begin (rec, "SELECT segment, nll FROM segments WHERE id BETWEEN "
                                                            "?1 * 4294967296 + ?2 AND ?1 * 4294967296 + ?3 - 1 "
                                                            "ORDER BY id", error);
          ok = st != NULL;
          if (st)
            {
              sqlite3_bind_int64 (st, 1, info->id);
              sqlite3_bind_int (st, 2, first);
              sqlite3_bind_int (st, 3, last);
              int rc;
              g_autofree float *nll = g_new (float, MAX (info->segment_len, 1));
              while ((rc = sqlite3_step (st)) == SQLITE_ROW)
                {
                  gint64 s = sqlite3_column_int64 (st, 0);
                  int bytes = sqlite3_column_bytes (st, 1);
                  /* the segments' NLL arrays are validated where they are drawn; here a row that
                   * does not fit is left out */
                  if (s < first || s >= last || bytes % (int) sizeof (float) != 0
                      || bytes > info->segment_len * (int) sizeof (float))
                    continue;
                  int n = bytes / (int) sizeof (float);
                  memcpy (nll, sqlite3_column_blob (st, 1), (size_t) bytes);
                  double sum = 0;
                  int k = 0;
                  for (int j = 0; j < n; j++)
                    {
                      gint64 at = s * info->segment_len + j;
                      if (at < (gint64) t.text->len && answer[at] && !isnan (nll[j]))
                        sum += nll[j], k++;
                    }
                  if (k)
                    {
                      acc_add (&acc, 1, (int) (s - first) / width, sum / k);
                      have_answers = TRUE;
                    }
                }
              if (rc != SQLITE_DONE)
                ok = ms_db_fail (sqlite3_db_handle (st), ms_recording_get_path (rec), "reading per-token NLL", error);
              ms_recording_query_end (rec, st);
            }
        }
      g_byte_array_unref (t.text);
    }
  float *extra = acc_finish (&acc);
  if (!ok)
    return g_free (extra), FALSE;
  int add = have_baseline + have_answers;
  if (add)
    {
      int rows = v->rows + add;
      v->values = g_renew (float, v->values, (size_t) rows * cols);
      char **series = g_new0 (char *, rows + 1);
      for (int r = 0; r < v->rows; r++)
        series[r] = g_strdup (v->series ? v->series[r] : "mean NLL");
      int r = v->rows;
      if (have_baseline)
        {
          memcpy (v->values + (size_t) r * cols, extra, cols * sizeof (float));
          series[r++] = g_strdup ("memory reset at every segment");
        }
      if (have_answers)
        {
          memcpy (v->values + (size_t) r * cols, extra + cols, cols * sizeof (float));
          series[r++] = g_strdup_printf ("tokens the %s task scores", ms_task_name (task));
        }
      g_strfreev (v->series);
      v->series = series;
      if (v->y.texts)
        for (int i = 0; i < v->y.n; i++)
          g_free (v->y.texts[i]);
      g_free (v->y.texts);
      v->y.texts = g_new0 (char *, rows);
      for (int i = 0; i < rows; i++)
        v->y.texts[i] = g_strdup (series[i]);
      v->y.n = v->y.length = rows;
      v->rows = rows;
    }
  g_free (extra);
  return TRUE;
}

gboolean
ms_view_has_data (MsRecording *rec, gint64 run_id, MsViewKind kind, GError **error)
{
  gboolean causal = kind == MS_VIEW_CAUSAL || kind == MS_VIEW_CAUSAL_SLOTS || kind == MS_VIEW_FORGETTING;
  if (!causal && ms_view_info (kind)->needs == 0)
    return TRUE;
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, error);
  if (!info)
    return FALSE;
  if (!causal)
    {
      if (ms_view_offered (&info->config, kind))
        return TRUE;
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no %s view: its model's "
                   "engine (%s) does not offer it", ms_recording_get_path (rec), run_id, ms_view_info (kind)->name,
                   info->config.engine->display_name);
      return FALSE;
    }
  for (int r = 0; r < MS_CAUSAL_N_REPLACEMENTS; r++)
    if ((r == MS_CAUSAL_KNOCKOUT) == (kind == MS_VIEW_CAUSAL_SLOTS) || kind == MS_VIEW_FORGETTING)
      {
        gint64 n = ms_causal_count (rec, info, r, error);
        if (n < 0)
          return FALSE;
        if (n > 0)
          return TRUE;
      }
  g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no %s stored: compute it with "
               "memscope-cli causal %s --run %" G_GINT64_FORMAT "%s", ms_recording_get_path (rec), run_id,
               kind == MS_VIEW_CAUSAL_SLOTS ? "slot knockout" : "causal retention", ms_recording_get_path (rec),
               run_id, kind == MS_VIEW_CAUSAL_SLOTS ? " --replace knockout" : "");
  return FALSE;
}

MsViewData *
ms_view_causal_load (MsRecording *rec, const MsRunInfo *info, MsViewKind kind, const MsViewParams *p, int first,
                     int last, MsViewReducer reducer, GError **error)
{
  if (p->replacement < 0 || p->replacement >= MS_CAUSAL_N_REPLACEMENTS)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "replacement %d is out of range", p->replacement);
      return NULL;
    }
  switch (kind)
    {
    case MS_VIEW_CAUSAL: return causal_heatmap (rec, info, p, reducer, error);
    case MS_VIEW_CAUSAL_SLOTS: return causal_slots (rec, info, p, first, last, reducer, error);
    default: return forgetting (rec, info, error);
    }
}
