/* ms-analysis.c — retention analysis (DESIGN §5): write distributions, slot
 * types, provenance, memory cosines and read usage, over the float arrays a
 * session observes.  Contracts are in ms-analysis.h.
 */
#include "ms-analysis.h"
#include "ms-kernels.h"

#ifdef MS_HAVE_AVX512_KERNELS
#include "ms-avx512-math.h"
#endif

#include <math.h>
#include <stdint.h>
#include <string.h>

size_t
ms_write_distribution_floats (int n_slots, int max_tokens)
{
  g_return_val_if_fail (n_slots >= 1 && max_tokens >= 0, 0);
  size_t K = (size_t) n_slots;
  /* retention, token_share (K each), transfer (K, K), token_weights (K, max_tokens) */
  size_t per_slot = 2 + K + (size_t) max_tokens;
  g_return_val_if_fail (per_slot <= SIZE_MAX / sizeof (float) / K, 0);
  return K * per_slot;
}

void
ms_write_distribution_init_in (MsWriteDistribution *wd, int n_slots, int max_tokens, float *block)
{
  size_t K = (size_t) n_slots, n = ms_write_distribution_floats (n_slots, max_tokens);
  g_return_if_fail (n > 0 && block != NULL);
  memset (block, 0, n * sizeof (float));
  wd->n_slots = n_slots;
  wd->n_tokens = 0;
  wd->max_tokens = max_tokens;
  wd->retention = block;
  wd->token_share = block + K;
  wd->transfer = block + 2 * K;
  wd->token_weights = block + 2 * K + K * K;
}

MsWriteDistribution *
ms_write_distribution_new (int n_slots, int max_tokens)
{
  size_t n = ms_write_distribution_floats (n_slots, max_tokens);
  g_return_val_if_fail (n > 0, NULL);
  MsWriteDistribution *wd = g_new0 (MsWriteDistribution, 1);
  ms_write_distribution_init_in (wd, n_slots, max_tokens, g_new (float, n));
  return wd;
}

void
ms_write_distribution_free (MsWriteDistribution *wd)
{
  if (wd == NULL)
    return;
  g_free (wd->retention); /* the start of the single block */
  g_free (wd);
}

/* token_share[i] = Σ_j token_weights[i, j], the row sums of the packed (K, n) block,
 * each in j order in double.  Eight rows at a time: their chains are
 * independent, so the CPU overlaps them (one row's chain alone waits for
 * each addition before the next). */
static void
sum_token_rows (MsWriteDistribution *wd)
{
  enum { ROWS = 8 };
  int K = wd->n_slots, n = wd->n_tokens;
  for (int i0 = 0; i0 < K; i0 += ROWS)
    {
      int ni = MIN (ROWS, K - i0);
      const float *rows = wd->token_weights + (size_t) i0 * n;
      double sum[ROWS] = { 0 };
      if (ni == ROWS)
        for (int j = 0; j < n; j++)
          for (int r = 0; r < ROWS; r++)
            sum[r] += rows[(size_t) r * n + j];
      else
        for (int r = 0; r < ni; r++)
          for (int j = 0; j < n; j++)
            sum[r] += rows[(size_t) r * n + j];
      for (int r = 0; r < ni; r++)
        wd->token_share[i0 + r] = (float) sum[r];
    }
}

/* The first column of each block of @a->cols, for K slots and n tokens. */
static void
column_starts (const MsAttentionLayout *a, int K, int n, int *start)
{
  for (int b = 0, at = 0; b < a->n_col_blocks; b++)
    {
      start[b] = at;
      at += a->cols[b].extent == MS_BLOCK_SELF ? 1 : a->cols[b].extent == MS_BLOCK_SLOTS ? K : n;
    }
}

void
ms_write_distribution_from_attention (MsWriteDistribution *wd, const MsAttentionLayout *a, const float *w, int H,
                                      int K, int n)
{
  g_return_if_fail (a != NULL && K >= 0 && n >= 0);
  int start[MS_ATTENTION_MAX_BLOCKS], W = 0;
  column_starts (a, K, n, start);
  for (int b = 0; b < a->n_col_blocks; b++)
    W += a->cols[b].extent == MS_BLOCK_SELF ? 1 : a->cols[b].extent == MS_BLOCK_SLOTS ? K : n;
  ms_write_distribution_from_view (wd, a, w, (size_t) K * W, (size_t) W, H, K, n);
}

/* Columns per block of the sums below: one double accumulator each, on
 * the stack. */
enum { SUM_BLOCK = 64 };

/* sum[j] += (0 + Σ_b row[slots[b] + j]) for j in [from, to), the blocks in
 * order; written out for one and two blocks (RMT's write rows have two),
 * so the loop over j vectorises. */
static inline void
add_slot_columns (double *sum, const float *row, const int *slots, int n_slots, int from, int to)
{
  if (n_slots == 1)
    {
      const float *a = row + slots[0];
      for (int j = from; j < to; j++)
        {
          double v = 0;
          v += a[j];
          sum[j] += v;
        }
    }
  else if (n_slots == 2)
    {
      const float *a = row + slots[0], *b = row + slots[1];
      for (int j = from; j < to; j++)
        {
          double v = 0;
          v += a[j];
          v += b[j];
          sum[j] += v;
        }
    }
  else
    for (int j = from; j < to; j++)
      {
        double v = 0;
        for (int k = 0; k < n_slots; k++)
          v += row[slots[k] + j];
        sum[j] += v;
      }
}

#ifdef MS_HAVE_AVX512_KERNELS
/* 16 floats as 8 + 8 doubles (exact). */
#define LOW_PD(x) _mm512_cvtps_pd (_mm512_castps512_ps256 (x))
#define HIGH_PD(x) _mm512_cvtps_pd (_mm256_castpd_ps (_mm512_extractf64x4_pd (_mm512_castps_pd (x), 1)))

/* (float) (sum · inv_h) of 8 + 8 doubles, as the loops below round them. */
static AVX512 inline __m512
scaled_to_floats (__m512d lo, __m512d hi, __m512d inv_h)
{
  __m256 a = _mm512_cvtpd_ps (_mm512_mul_pd (lo, inv_h)), b = _mm512_cvtpd_ps (_mm512_mul_pd (hi, inv_h));
  return _mm512_castpd_ps (_mm512_insertf64x4 (_mm512_castps_pd (_mm512_castps256_ps512 (a)), _mm256_castps_pd (b), 1));
}

/* ms_write_distribution_from_view's loops, 16 columns per vector: every
 * element gets the same double operations in the same order (per head
 * v = 0 + the slot blocks' columns in block order, + the SELF column on
 * the diagonal; summed over heads in head order), so the results are
 * bit for bit the portable loops'. */
static AVX512 void
write_distribution_avx512 (MsWriteDistribution *wd, const float *w, size_t head_stride, size_t row_stride, int H,
                           int K, int n, const int *slots, int n_slots, int self, int tokens)
{
  __m512d inv_h = _mm512_set1_pd (1.0 / H);
  double inv_h1 = 1.0 / H;
  for (int i = 0; i < K; i++)
    {
      float *tr = wd->transfer + (size_t) i * K;
      double old = 0;
      for (int j0 = 0; j0 < K; j0 += 16)
        {
          int nj = MIN (16, K - j0);
          __mmask16 lanes = first_lanes (nj);
          gboolean has_diag = self >= 0 && i >= j0 && i < j0 + nj;
          __mmask16 diag = has_diag ? (__mmask16) (1u << (i - j0)) : 0;
          __m512d lo = _mm512_setzero_pd (), hi = _mm512_setzero_pd ();
          for (int h = 0; h < H; h++)
            {
              const float *row = w + h * head_stride + i * row_stride;
              __m512d vlo = _mm512_setzero_pd (), vhi = _mm512_setzero_pd ();
              for (int b = 0; b < n_slots; b++)
                {
                  __m512 x = _mm512_maskz_loadu_ps (lanes, row + slots[b] + j0);
                  vlo = _mm512_add_pd (vlo, LOW_PD (x));
                  vhi = _mm512_add_pd (vhi, HIGH_PD (x));
                }
              if (has_diag)
                {
                  __m512d s = _mm512_set1_pd (row[self]);
                  vlo = _mm512_mask_add_pd (vlo, (__mmask8) diag, vlo, s);
                  vhi = _mm512_mask_add_pd (vhi, (__mmask8) (diag >> 8), vhi, s);
                }
              lo = _mm512_add_pd (lo, vlo);
              hi = _mm512_add_pd (hi, vhi);
            }
          _mm512_mask_storeu_ps (tr + j0, lanes, scaled_to_floats (lo, hi, inv_h));
          double sum[16];
          _mm512_storeu_pd (sum, lo);
          _mm512_storeu_pd (sum + 8, hi);
          for (int j = 0; j < nj; j++)
            old += sum[j];
        }
      wd->retention[i] = (float) (old * inv_h1);

      float *tw = wd->token_weights + (size_t) i * n;
      for (int j0 = 0; j0 < n && tokens >= 0; j0 += 16)
        {
          __mmask16 lanes = first_lanes (MIN (16, n - j0));
          __m512d lo = _mm512_setzero_pd (), hi = _mm512_setzero_pd ();
          for (int h = 0; h < H; h++)
            {
              __m512 x = _mm512_maskz_loadu_ps (lanes, w + h * head_stride + i * row_stride + tokens + j0);
              lo = _mm512_add_pd (lo, LOW_PD (x));
              hi = _mm512_add_pd (hi, HIGH_PD (x));
            }
          _mm512_mask_storeu_ps (tw + j0, lanes, scaled_to_floats (lo, hi, inv_h));
        }
      if (tokens < 0)
        memset (tw, 0, (size_t) n * sizeof (float));
    }
}
#endif

void
ms_write_distribution_from_view (MsWriteDistribution *wd, const MsAttentionLayout *a, const float *w,
                                 size_t head_stride, size_t row_stride, int H, int K, int n)
{
  g_return_if_fail (wd != NULL && a != NULL && w != NULL);
  g_return_if_fail (K == wd->n_slots && H >= 1 && n >= 0 && n <= wd->max_tokens);
  int start[MS_ATTENTION_MAX_BLOCKS], slots[MS_ATTENTION_MAX_BLOCKS], n_slots = 0, self = -1, tokens = -1;
  column_starts (a, K, n, start);
  for (int b = 0; b < a->n_col_blocks; b++)
    {
      const MsAttentionBlock *blk = &a->cols[b];
      if (blk->extent == MS_BLOCK_TOKENS && tokens < 0)
        tokens = start[b];
      else if (blk->old_memory && blk->extent == MS_BLOCK_SLOTS)
        slots[n_slots++] = start[b];
      else if (blk->old_memory && blk->extent == MS_BLOCK_SELF)
        self = start[b];
    }
  wd->n_tokens = n;
#ifdef MS_HAVE_AVX512_KERNELS
  if (ms_avx512_kernels ())
    {
      write_distribution_avx512 (wd, w, head_stride, row_stride, H, K, n, slots, n_slots, self, tokens);
      sum_token_rows (wd);
      return;
    }
#endif
  double inv_h = 1.0 / H;

  /* Per element the same operations in the same order as a loop over
   * (i, j, h) would do — per head v = 0 + the slot blocks' columns in
   * block order (+ the SELF column when j = i), summed over heads in head
   * order, in double — so the result does not depend on this loop order;
   * heads outside and columns inside, so the inner loops run along
   * contiguous memory. */
  for (int i = 0; i < K; i++)
    {
      float *tr = wd->transfer + (size_t) i * K;
      double old = 0;
      for (int j0 = 0; j0 < K; j0 += SUM_BLOCK)
        {
          int nj = MIN (SUM_BLOCK, K - j0);
          double sum[SUM_BLOCK] = { 0 };
          if (n_slots == 0)
            {
              /* only the row's own SELF column (or nothing) is old memory */
              if (i >= j0 && i < j0 + nj)
                for (int h = 0; h < H && self >= 0; h++)
                  {
                    double v = 0;
                    v += w[h * head_stride + i * row_stride + self];
                    sum[i - j0] += v;
                  }
            }
          else
            for (int h = 0; h < H; h++)
              {
                const float *row = w + h * head_stride + i * row_stride + j0;
                /* the diagonal element gets the SELF column too, so the
                 * run of columns is split there */
                int diag = self >= 0 && i >= j0 && i < j0 + nj ? i - j0 : nj;
                add_slot_columns (sum, row, slots, n_slots, 0, diag);
                if (diag < nj)
                  {
                    double v = 0;
                    for (int b = 0; b < n_slots; b++)
                      v += row[slots[b] + diag];
                    v += row[self - j0];
                    sum[diag] += v;
                  }
                add_slot_columns (sum, row, slots, n_slots, diag + 1, nj);
              }
          for (int j = 0; j < nj; j++)
            {
              tr[j0 + j] = (float) (sum[j] * inv_h);
              old += sum[j];
            }
        }
      wd->retention[i] = (float) (old * inv_h);

      float *tw = wd->token_weights + (size_t) i * n;
      for (int j0 = 0; j0 < n; j0 += SUM_BLOCK)
        {
          int nj = MIN (SUM_BLOCK, n - j0);
          double sum[SUM_BLOCK] = { 0 };
          for (int h = 0; h < H && tokens >= 0; h++)
            {
              const float *row = w + h * head_stride + i * row_stride + tokens + j0;
              for (int j = 0; j < nj; j++)
                sum[j] += row[j];
            }
          for (int j = 0; j < nj; j++)
            tw[j0 + j] = (float) (sum[j] * inv_h);
        }
    }
  sum_token_rows (wd);
}

MsSlotType
ms_slot_type (float retention, double retain_at, double overwrite_at)
{
  /* In float: (double) 0.9f < 0.9, so comparing in double would call a
   * retention of exactly 0.9f "mixed". */
  if (retention >= (float) retain_at)
    return MS_SLOT_RETAIN;
  if (retention <= (float) overwrite_at)
    return MS_SLOT_OVERWRITE;
  return MS_SLOT_MIXED;
}

void
ms_slot_type_counts (const float *retention, int K, double retain_at, double overwrite_at, int counts[3])
{
  g_return_if_fail (retention != NULL || K == 0);
  counts[MS_SLOT_RETAIN] = counts[MS_SLOT_MIXED] = counts[MS_SLOT_OVERWRITE] = 0;
  for (int i = 0; i < K; i++)
    if (!isnan (retention[i]))
      counts[ms_slot_type (retention[i], retain_at, overwrite_at)]++;
}

void
ms_provenance_init (float *p0, int K)
{
  for (int i = 0; i < K; i++)
    p0[i] = 1.0f;
}

void
ms_provenance_step (const float *prev, int K, int n_sources, const MsWriteDistribution *wd, float *next)
{
  g_return_if_fail (prev != NULL && next != NULL && wd != NULL);
  g_return_if_fail (K == wd->n_slots && n_sources >= 1);
  int S = n_sources;

  /* next[:, :S] = T · prev, one row at a time; the inner loop runs along a
   * row of prev, so it is contiguous.  Zero T entries (all off-diagonal ones
   * for Memformer) are skipped: they cost nothing and spread no NaN. */
  for (int i = 0; i < K; i++)
    {
      float *out = next + (size_t) i * (S + 1);
      const float *tr = wd->transfer + (size_t) i * K;
      memset (out, 0, (size_t) S * sizeof (float));
      for (int j = 0; j < K; j++)
        {
          float t = tr[j];
          if (t == 0.0f)
            continue;
          const float *src = prev + (size_t) j * S;
          for (int s = 0; s < S; s++)
            out[s] += t * src[s];
        }
      out[S] = wd->token_share[i];
    }
}

void
ms_provenance_step_binned (const float *prev, int K, int n_bins, int bin, const MsWriteDistribution *wd, float *next)
{
  g_return_if_fail (prev != NULL && next != NULL && wd != NULL);
  g_return_if_fail (K == wd->n_slots && n_bins >= 1 && bin >= 0 && bin < n_bins);
  /* Bins after @bin hold sources not written yet: 0 in prev, 0 in next. */
  int used = bin + 1;
  for (int i = 0; i < K; i++)
    {
      float *out = next + (size_t) i * n_bins;
      const float *tr = wd->transfer + (size_t) i * K;
      memset (out, 0, (size_t) n_bins * sizeof (float));
      for (int j = 0; j < K; j++)
        {
          float t = tr[j];
          if (t == 0.0f)
            continue;
          const float *src = prev + (size_t) j * n_bins;
          for (int b = 0; b < used; b++)
            out[b] += t * src[b];
        }
      out[bin] += wd->token_share[i];
    }
}

void
ms_provenance_mean (const float *p, int K, int n_sources, float *out)
{
  g_return_if_fail (K >= 1);
  for (int s = 0; s < n_sources; s++)
    {
      double sum = 0;
      for (int i = 0; i < K; i++)
        sum += p[(size_t) i * n_sources + s];
      out[s] = (float) (sum / K);
    }
}

/* dot / (‖a‖ ‖b‖) clamped to [-1, 1]; the comparisons keep NaN (fmin/fmax would drop it). */
static double
cosine_from (double dot, double norm2_a, double norm2_b)
{
  double c = dot / (sqrt (norm2_a) * sqrt (norm2_b));
  if (c > 1.0)
    c = 1.0;
  else if (c < -1.0)
    c = -1.0;
  return c;
}

double
ms_memory_state_cosine (const float *a, const float *b, size_t n)
{
  double dot = 0, aa = 0, bb = 0;
  for (size_t k = 0; k < n; k++)
    {
      dot += (double) a[k] * b[k];
      aa += (double) a[k] * a[k];
      bb += (double) b[k] * b[k];
    }
  return cosine_from (dot, aa, bb);
}

void
ms_memory_slot_cosine (const float *m_prev, const float *m_next, int K, int d, float *out)
{
  for (int i = 0; i < K; i++)
    out[i] = (float) ms_memory_state_cosine (m_prev + (size_t) i * d, m_next + (size_t) i * d, (size_t) d);
}

double
ms_memory_slot_cosine_and_change (const float *m_prev, const float *m_next, int K, int d, float *out)
{
  /* One pass over both states, each sum in the order of the two functions
   * it stands for: per slot dot, ‖prev‖², ‖next‖² over its d values; over
   * all K·d values, ‖next − prev‖² and ‖prev‖².  Five independent chains
   * instead of three and then two. */
  double diff = 0, base = 0;
  for (int i = 0; i < K; i++)
    {
      const float *a = m_prev + (size_t) i * d, *b = m_next + (size_t) i * d;
      double dot = 0, aa = 0, bb = 0;
      for (int k = 0; k < d; k++)
        {
          dot += (double) a[k] * b[k];
          aa += (double) a[k] * a[k];
          bb += (double) b[k] * b[k];
          double delta = (double) b[k] - a[k];
          diff += delta * delta;
          base += (double) a[k] * a[k];
        }
      out[i] = (float) cosine_from (dot, aa, bb);
    }
  return sqrt (diff) / sqrt (base);
}

void
ms_memory_similarity_matrix (const float *states, int S, size_t n, float *out)
{
  g_return_if_fail (S >= 0);
  if (S == 0)
    return;
  g_autofree double *norm2 = g_new (double, S); /* (S) ‖state_a‖², computed once */
  for (int a = 0; a < S; a++)
    {
      const float *x = states + (size_t) a * n;
      double sum = 0;
      for (size_t k = 0; k < n; k++)
        sum += (double) x[k] * x[k];
      norm2[a] = sum;
    }

  /* The Gram matrix through sgemm, then cosines from it; only the upper
   * triangle is converted and mirrored, so the result is exactly symmetric. */
  ms_gemm (0, 1, S, S, (int) n, 1.0f, states, (int) n, states, (int) n, 0.0f, out, S);
  for (int a = 0; a < S; a++)
    {
      /* 1 for a usable state; NaN for a zero or non-finite one (0/0, inf/inf, NaN). */
      out[(size_t) a * S + a] = (norm2[a] > 0 && isfinite (norm2[a])) ? 1.0f : NAN;
      for (int b = a + 1; b < S; b++)
        {
          float c = (float) cosine_from (out[(size_t) a * S + b], norm2[a], norm2[b]);
          out[(size_t) a * S + b] = c;
          out[(size_t) b * S + a] = c;
        }
    }
}

double
ms_memory_relative_change (const float *m_prev, const float *m_next, size_t n)
{
  double diff = 0, base = 0;
  for (size_t k = 0; k < n; k++)
    {
      double delta = (double) m_next[k] - m_prev[k];
      diff += delta * delta;
      base += (double) m_prev[k] * m_prev[k];
    }
  return sqrt (diff) / sqrt (base);
}

#ifdef MS_HAVE_AVX512_KERNELS
/* accumulate_columns 32 slots at a time (four chains of 8 doubles): each
 * slot's sum in (head, row) order as there, so bit for bit the same. */
static AVX512 void
accumulate_columns_avx512 (const float *r, int H, int rows, size_t head_stride, size_t row_stride, int col0, int K,
                           float *acc)
{
  __m512d inv_h = _mm512_set1_pd (1.0 / H);
  for (int k0 = 0; k0 < K; k0 += 32)
    {
      int nk = MIN (32, K - k0);
      __mmask16 first = first_lanes (MIN (nk, 16)), second = nk > 16 ? first_lanes (nk - 16) : 0;
      __m512d s0 = _mm512_setzero_pd (), s1 = _mm512_setzero_pd (), s2 = _mm512_setzero_pd (),
              s3 = _mm512_setzero_pd ();
      for (int h = 0; h < H; h++)
        for (int row = 0; row < rows; row++)
          {
            const float *x = r + h * head_stride + row * row_stride + col0 + k0;
            __m512 a = _mm512_maskz_loadu_ps (first, x), b = _mm512_maskz_loadu_ps (second, x + 16);
            s0 = _mm512_add_pd (s0, LOW_PD (a));
            s1 = _mm512_add_pd (s1, HIGH_PD (a));
            s2 = _mm512_add_pd (s2, LOW_PD (b));
            s3 = _mm512_add_pd (s3, HIGH_PD (b));
          }
      float *out = acc + k0;
      _mm512_mask_storeu_ps (out, first,
                             _mm512_add_ps (_mm512_maskz_loadu_ps (first, out), scaled_to_floats (s0, s1, inv_h)));
      _mm512_mask_storeu_ps (out + 16, second,
                             _mm512_add_ps (_mm512_maskz_loadu_ps (second, out + 16), scaled_to_floats (s2, s3, inv_h)));
    }
}
#endif

/* acc[k] += mean over heads of Σ_rows r[h, row, col0 + k], for k < K;
 * element (h, row, col) of r at h·head_stride + row·row_stride + col. */
static void
accumulate_columns (const float *r, int H, int rows, size_t head_stride, size_t row_stride, int col0, int K,
                    float *acc)
{
#ifdef MS_HAVE_AVX512_KERNELS
  if (ms_avx512_kernels ())
    {
      accumulate_columns_avx512 (r, H, rows, head_stride, row_stride, col0, K, acc);
      return;
    }
#endif
  double inv_h = 1.0 / H;
  /* Row-outer over blocks of slots, one double accumulator per slot: each
   * slot still sums its rows in (head, row) order, as a slot-outer loop
   * would, and the inner loop runs along contiguous memory. */
  for (int k0 = 0; k0 < K; k0 += SUM_BLOCK)
    {
      int nk = MIN (SUM_BLOCK, K - k0);
      double sum[SUM_BLOCK] = { 0 };
      for (int h = 0; h < H; h++)
        for (int row = 0; row < rows; row++)
          {
            const float *x = r + h * head_stride + row * row_stride + col0 + k0;
            for (int k = 0; k < nk; k++)
              sum[k] += x[k];
          }
      for (int k = 0; k < nk; k++)
        acc[k0 + k] += (float) (sum[k] * inv_h);
    }
}

void
ms_read_usage_accumulate (const float *read_attn, int H, int n, int K, float *acc)
{
  g_return_if_fail (H >= 1 && n >= 0 && K >= 0);
  accumulate_columns (read_attn, H, n, (size_t) n * K, (size_t) K, 0, K, acc);
}

void
ms_read_usage_accumulate_attention (const MsAttentionLayout *a, const float *r, int H, int n, int K, float *acc)
{
  g_return_if_fail (a != NULL && H >= 1 && n >= 0 && K >= 0);
  int rows = 0, cols = 0;
  for (int b = 0; b < a->n_row_blocks; b++)
    rows += a->rows[b].extent == MS_BLOCK_SELF ? 1 : a->rows[b].extent == MS_BLOCK_SLOTS ? K : n;
  for (int b = 0; b < a->n_col_blocks; b++)
    cols += a->cols[b].extent == MS_BLOCK_SELF ? 1 : a->cols[b].extent == MS_BLOCK_SLOTS ? K : n;
  ms_read_usage_accumulate_view (a, r, (size_t) rows * cols, (size_t) cols, H, n, K, acc);
}

void
ms_read_usage_accumulate_view (const MsAttentionLayout *a, const float *r, size_t head_stride, size_t row_stride,
                               int H, int n, int K, float *acc)
{
  g_return_if_fail (a != NULL && H >= 1 && n >= 0 && K >= 0);
  int start[MS_ATTENTION_MAX_BLOCKS], rows = 0;
  column_starts (a, K, n, start);
  for (int b = 0; b < a->n_row_blocks; b++)
    rows += a->rows[b].extent == MS_BLOCK_SELF ? 1 : a->rows[b].extent == MS_BLOCK_SLOTS ? K : n;
  for (int b = 0; b < a->n_col_blocks; b++)
    if (a->cols[b].old_memory && a->cols[b].extent == MS_BLOCK_SLOTS)
      accumulate_columns (r, H, rows, head_stride, row_stride, start[b], K, acc);
}

void
ms_read_usage (const float *read_attn, int H, int n, int K, float *out)
{
  for (int k = 0; k < K; k++)
    out[k] = 0.0f;
  ms_read_usage_accumulate (read_attn, H, n, K, out);
}
