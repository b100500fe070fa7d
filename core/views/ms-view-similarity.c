/* ms-view-similarity.c — the similarity view (DESIGN §5.4): the cosine
 * similarity of whole memory states after two segments, at the resolution
 * it is drawn, from per-run sums of unit states kept in the view cache
 * (ms-view-cache.c), so a run's states are read once however often the
 * view is drawn. */
#include "ms-view-private.h"
#include "ms-kernels.h"

#include <math.h>
#include <string.h>

static gsize similarity_base_bytes = MS_VIEW_SIMILARITY_BASE_BYTES;

void
ms_view_set_similarity_base_bytes (gsize bytes)
{
  similarity_base_bytes = bytes > 0 ? bytes : MS_VIEW_SIMILARITY_BASE_BYTES;
}

/* Per base bin of a run's segments, the sum of its unit memory states:
 * the one-pass aggregate similarity keeps in the view cache.  Bin b holds
 * segments [origin + b·width, origin + (b + 1)·width) of those covered. */
typedef struct {
  int origin;           /* 0 when kept; else the window's first segment */
  int width;            /* segments per base bin: a power of two when kept */
  int covered;          /* states added: after segments [0, covered) */
  int n_bins;           /* allocated */
  size_t len;           /* K·d */
  float *sums;          /* (n_bins, len) */
  int *count;           /* (n_bins) states with a direction in each */
} SimilarityBase;

static void
similarity_base_free (gpointer data)
{
  SimilarityBase *b = data;
  g_free (b->sums);
  g_free (b->count);
  g_free (b);
}

typedef struct {
  SimilarityBase *base;
  guint64 states;       /* states read */
} SimilarityFill;

/* Makes room in @b for bins [0, @n). */
static void
similarity_base_grow (SimilarityBase *b, int n)
{
  if (n <= b->n_bins)
    return;
  b->sums = g_renew (float, b->sums, (size_t) n * b->len);
  memset (b->sums + (size_t) b->n_bins * b->len, 0, (size_t) (n - b->n_bins) * b->len * sizeof (float));
  b->count = g_renew (int, b->count, n);
  memset (b->count + b->n_bins, 0, (size_t) (n - b->n_bins) * sizeof (int));
  b->n_bins = n;
}

static gboolean
on_state (int segment, const float *state, gpointer data, GError **error)
{
  SimilarityFill *f = data;
  SimilarityBase *b = f->base;
  f->states++;
  b->covered = segment + 1;
  int bin = (segment - b->origin) / b->width;
  similarity_base_grow (b, bin + 1);   /* the loader made room for its window: a no-op */
  double norm = 0;
  for (size_t k = 0; k < b->len; k++)
    norm += (double) state[k] * state[k];
  norm = sqrt (norm);
  if (!(norm > 0) || !isfinite (norm))
    return TRUE;   /* no direction: left out */
  float *sum = b->sums + (size_t) bin * b->len;
  for (size_t k = 0; k < b->len; k++)
    sum[k] += (float) (state[k] / norm);
  b->count[bin]++;
  return TRUE;
}

/* Cell (p, q) is the mean cosine over the pairs of states in bins p and q:
 * the cosine is the dot product of unit vectors, so that mean is the dot
 * product of the bins' mean unit vectors (the reducer: mean over pairs).
 * MsViewBins of whole segments, at most as many as the output has pixels on its
 * shorter side (max_cols, max_rows), each a whole number of the run's base
 * bins (MS_VIEW_SIMILARITY_BASE_BYTES: a base bin holds one state while
 * the run is short enough, and then the output has one bin per pixel):
 * the base bins' sums are one pass over the states, kept in the view cache
 * and extended as the run grows, so a load reads only the states no load
 * before read (S · K·d once per run), merges the base bins and multiplies
 * the (bins, K·d) means with themselves (bins² · K·d), never S²; memory
 * is the base bins.  Runs whose states are too large to keep
 * MS_VIEW_SIMILARITY_MIN_BASE_BINS of them read every state on each load,
 * into bins of exactly the pixels' width.  One state per bin: the plain
 * cosine matrix. */
MsViewData *
ms_view_similarity_load (MsRecording *rec, const MsRunInfo *info, const MsViewParams *p, int first, int last, GError **error)
{
  int side = p->max_cols > 0 && p->max_rows > 0 ? MIN (p->max_cols, p->max_rows)
             : p->max_cols > 0 ? p->max_cols : p->max_rows > 0 ? p->max_rows : MS_VIEW_MAX_SQUARE;
  MsViewBins bins = ms_view_bins_make (first, last, side, p->span);
  size_t len = (size_t) info->config.n_slots * info->config.d_model;
  /* base bins from the span, so two runs compared (the same span) get the same bins */
  gsize max_bins = similarity_base_bytes / (len * sizeof (float) + sizeof (int));
  int span = MAX (MAX (p->span, last - first), 1), width = 1;
  while (width < G_MAXINT / 2 && (gsize) ((span + width - 1) / width) > max_bins)
    width *= 2;
  gboolean kept = first == 0 && max_bins >= MS_VIEW_SIMILARITY_MIN_BASE_BINS;
  g_autofree char *what = g_strdup_printf ("similarity %d", width);
  g_autofree char *key = kept ? ms_view_cache_key (rec, info, what) : NULL;
  SimilarityBase *base = key ? ms_view_cache_take (key) : NULL;
  if (base && base->covered > last)
    g_clear_pointer (&base, similarity_base_free);   /* an older snapshot than the one kept: start again */
  if (!base)
    {
      base = g_new0 (SimilarityBase, 1);
      base->origin = kept ? 0 : first;
      base->width = kept ? width : bins.width;   /* not kept: the output's bins themselves */
      base->len = len;
    }
  similarity_base_grow (base, (last - base->origin + base->width - 1) / base->width);
  if (kept)
    {
      /* output bins: whole base bins (the same for both runs compared), n ≤ side */
      int w = (bins.width + width - 1) / width * width;
      bins = (MsViewBins) { first, last, w, MAX ((last - first + w - 1) / w, 1) };
    }
  SimilarityFill f = { .base = base };
  gboolean ok = ms_recording_foreach_memory_state (rec, info, MAX (first, base->covered), last, on_state, &f, error);
  int n = bins.n, per = bins.width / base->width;   /* base bins per output bin */
  float *means = ok ? g_new0 (float, (size_t) n * len) : NULL;
  int *count = ok ? g_new0 (int, n) : NULL;
  for (int c = 0; ok && c < n; c++)
    {
      double *acc = g_new0 (double, len);
      int from = c * per;
      for (int b = from; b < from + per && b < base->n_bins; b++)
        {
          count[c] += base->count[b];
          const float *sum = base->sums + (size_t) b * len;
          for (size_t k = 0; k < len; k++)
            acc[k] += sum[k];
        }
      float *mean = means + (size_t) c * len;
      for (size_t k = 0; count[c] > 0 && k < len; k++)
        mean[k] = (float) (acc[k] / count[c]);
      g_free (acc);
    }
  if (kept)
    ms_view_cache_put (key, base, sizeof *base + (size_t) base->n_bins * (len * sizeof (float) + sizeof (int)),
                       similarity_base_free);
  else
    similarity_base_free (base);
  if (!ok)
    return NULL;
  float *out = g_new (float, (size_t) n * n);
  /* (n, n) = means · meansᵀ: every pair of bins, in one matrix product */
  ms_gemm (0, 1, n, n, (int) len, 1.0f, means, (int) len, means, (int) len, 0.0f, out, n);
  for (int a = 0; a < n; a++)
    for (int b = a; b < n; b++)
      {
        float cell = count[a] > 0 && count[b] > 0 ? CLAMP (out[(size_t) a * n + b], -1.0f, 1.0f) : NAN;
        out[(size_t) a * n + b] = out[(size_t) b * n + a] = cell;   /* exactly symmetric */
      }
  g_free (means), g_free (count);
  MsViewData *v = ms_view_data_new (info, MS_VIEW_SIMILARITY, out, n, n);
  v->work.states = f.states;
  v->work.pairs = (guint64) n * n;
  ms_view_data_set_labels (v, "Memory similarity", "after segment", "after segment", NULL);
  ms_view_axis_set_bins (&v->x, &bins, "column");
  ms_view_axis_set_bins (&v->y, &bins, "row");
  v->quantity = g_strdup ("cosine similarity");
  v->value_label = bins.width > 1 ? g_strdup ("cosine similarity, mean per cell") : g_strdup (v->quantity);
  if (!ms_view_load_axis_texts (rec, info, &v->x, error) || !ms_view_load_axis_texts (rec, info, &v->y, error))
    return ms_view_data_free (v), NULL;
  return v;
}
