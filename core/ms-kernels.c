/* ms-kernels.c — the fast f32 kernels: the element-wise and row-wise
 * operations and multi-head attention, each as AVX-512 code (used when
 * ms_avx512_kernels(); attention's products then go through
 * ms_panel_product, ms-affine.c) and as portable single-precision loops
 * the compiler vectorises, with matrix products through cblas_sgemm.
 * Contracts are in ms-kernels.h; ms-kernels-ref.c holds the slow twins. */
#include "ms-kernels.h"
#include "ms-parallel.h"

#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#ifdef MS_HAVE_AVX512_KERNELS
#include "ms-avx512-math.h"
#endif

/* In a kernel with an AVX-512 version: run that one instead when it is in
 * use (a statement; the kernel then returns). */
#ifdef MS_HAVE_AVX512_KERNELS
#define RUN_AVX512(call)          \
  do                              \
    {                             \
      if (ms_avx512_kernels ())   \
        {                         \
          call;                   \
          return;                 \
        }                         \
    }                             \
  while (0)
#else
#define RUN_AVX512(call) do { } while (0)
#endif

int
ms_avx512_kernels (void)
{
  static gsize once = 0;
  static gboolean use;
  if (g_once_init_enter (&once))
    {
#ifdef MS_HAVE_AVX512_KERNELS
      __builtin_cpu_init ();
      use = __builtin_cpu_supports ("avx512f") && g_strcmp0 (g_getenv ("MEMSCOPE_AVX512"), "off") != 0;
#else
      use = FALSE;
#endif
      g_once_init_leave (&once, 1);
    }
  return use;
}

/* The element-wise kernels are compiled for AVX-512, AVX2 and baseline
 * x86-64, picked at load time (GCC function multiversioning), so a
 * distribution build still uses the machine's vector width. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute (target_clones)
#define MS_VECTOR_CLONES __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#endif
#endif
#ifndef MS_VECTOR_CLONES
#define MS_VECTOR_CLONES
#endif

/* e^x (x is clamped at 88, where float overflows), as plain
 * arithmetic the compiler can inline and vectorise instead of a libm call:
 * 2^n · p(r) with n = round(x / ln 2) (the 1.5·2^23 trick rounds without a
 * libm call), r = x − n ln 2 split in two parts for accuracy, and p the
 * degree-6 Taylor polynomial of e^r on |r| ≤ ln 2 / 2 (relative error below
 * 2e-7).  Below −87 the result is exactly 0, so masked logits (−∞) get
 * probability 0; NaN stays NaN. */
static inline float
exp_approx (float x)
{
  float xc = x > 88.0f ? 88.0f : (x < -87.0f ? -87.0f : x);
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693145751953125f - n * 1.428606765330187e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  int32_t bits = ((int32_t) n + 127) << 23;
  float scale;
  memcpy (&scale, &bits, sizeof scale);
  float e = p * scale;
  return x != x ? x : (x < -87.0f ? 0.0f : e);
}

/* erf(x) by Abramowitz & Stegun 7.1.28, 1 − (1 + a₁x + … + a₆x⁶)^−16 for
 * x ≥ 0 (absolute error below 3e-7), odd in x: polynomial and division
 * only, so GELU's loop vectorises instead of calling erff per element. */
static inline float
erf_approx (float x)
{
  float a = fabsf (x);
  float p = 1.0f + a * (0.0705230784f + a * (0.0422820123f + a * (0.0092705272f
            + a * (0.0001520143f + a * (0.0002765672f + a * 0.0000430638f)))));
  p *= p;  /* ^2 */
  p *= p;  /* ^4 */
  p *= p;  /* ^8 */
  p *= p;  /* ^16: overflows to +inf for large |x|, where erf is 1 */
  float e = 1.0f - 1.0f / p;
  return copysignf (e, x);
}

#ifdef MS_HAVE_AVX512_KERNELS
/* The row-wise kernels written out for AVX-512, 16 floats at a time, a
 * row's last partial vector through masked loads and stores.  The
 * compiler's versions of the portable loops below divide per element and
 * blend every clamp, which these avoid (timings in tests/bench/README.md). */

static AVX512 inline float
row_max (const float *row, int cols)
{
  int full = cols & ~15;
  __m512 m = _mm512_mask_loadu_ps (_mm512_set1_ps (-INFINITY), first_lanes (cols & 15), row + full);
  for (int j = 0; j < full; j += 16)
    m = _mm512_max_ps (m, _mm512_loadu_ps (row + j));
  return _mm512_reduce_max_ps (m);
}

static AVX512 void
softmax_rows_avx512 (float *x, int n, int cols, int ld)
{
  int full = cols & ~15;
  __mmask16 tail = first_lanes (cols & 15);
  for (int i = 0; i < n; i++)
    {
      float *row = x + (size_t) i * ld;
      float max = row_max (row, cols);
      if (max == -INFINITY)
        {
          for (int j = 0; j < cols; j++)
            row[j] = NAN;  /* as the portable loop: no finite logit */
          continue;
        }
      __m512 vmax = _mm512_set1_ps (max), sum = _mm512_setzero_ps ();
      for (int j = 0; j < full; j += 16)
        {
          __m512 e = exp16 (_mm512_sub_ps (_mm512_loadu_ps (row + j), vmax));
          _mm512_storeu_ps (row + j, e);
          sum = _mm512_add_ps (sum, e);
        }
      if (tail)
        {
          __m512 e = _mm512_maskz_mov_ps (tail, exp16 (_mm512_sub_ps (_mm512_maskz_loadu_ps (tail, row + full), vmax)));
          _mm512_mask_storeu_ps (row + full, tail, e);
          sum = _mm512_add_ps (sum, e);
        }
      __m512 inv = _mm512_set1_ps (1.0f / _mm512_reduce_add_ps (sum));
      for (int j = 0; j < full; j += 16)
        _mm512_storeu_ps (row + j, _mm512_mul_ps (_mm512_loadu_ps (row + j), inv));
      if (tail)
        _mm512_mask_storeu_ps (row + full, tail, _mm512_mul_ps (_mm512_maskz_loadu_ps (tail, row + full), inv));
    }
}

/* The lanes of allowed[0 .. count) (count ≤ 16) that are nonzero.  A
 * short run is copied first so nothing past the mask's end is read. */
static AVX512 inline __mmask16
allowed16 (const uint8_t *allowed, int count)
{
  __m128i bytes;
  if (count == 16)
    bytes = _mm_loadu_si128 ((const __m128i *) allowed);
  else
    {
      uint8_t buf[16] = { 0 };
      memcpy (buf, allowed, count);
      bytes = _mm_loadu_si128 ((const __m128i *) buf);
    }
  __m512i wide = _mm512_cvtepu8_epi32 (bytes);
  return _mm512_test_epi32_mask (wide, wide);
}

/* softmax over the allowed entries of each row of x[n, cols] (mask[n, cols],
 * 1 = allowed), the others set to exactly 0: the masking, the maximum,
 * e^x and the sum in the same passes. */
static AVX512 void
masked_softmax_rows_avx512 (float *x, const uint8_t *mask, int n, int cols)
{
  for (int i = 0; i < n; i++)
    {
      float *row = x + (size_t) i * cols;
      const uint8_t *allowed = mask + (size_t) i * cols;
      __m512 vmax = _mm512_set1_ps (-INFINITY);
      unsigned any_allowed = 0;
      for (int j = 0; j < cols; j += 16)
        {
          __mmask16 ok = allowed16 (allowed + j, MIN (16, cols - j));
          vmax = _mm512_max_ps (vmax, _mm512_mask_loadu_ps (vmax, ok, row + j));
          any_allowed |= ok;
        }
      g_assert (any_allowed); /* a fully masked row is a bug, never silently uniform */
      float max = _mm512_reduce_max_ps (vmax);
      if (max == -INFINITY)
        {
          for (int j = 0; j < cols; j++)
            row[j] = NAN;  /* as ms_softmax_rows: no finite logit */
          continue;
        }
      __m512 bcast = _mm512_set1_ps (max), sum = _mm512_setzero_ps ();
      for (int j = 0; j < cols; j += 16)
        {
          int count = MIN (16, cols - j);
          __mmask16 ok = allowed16 (allowed + j, count);
          if (!ok)
            {
              /* nothing allowed here (half of a causal mask): no e^x */
              _mm512_mask_storeu_ps (row + j, first_lanes (count), _mm512_setzero_ps ());
              continue;
            }
          __m512 e = _mm512_maskz_mov_ps (ok, exp16 (_mm512_sub_ps (_mm512_maskz_loadu_ps (ok, row + j), bcast)));
          _mm512_mask_storeu_ps (row + j, first_lanes (count), e);
          sum = _mm512_add_ps (sum, e);
        }
      __m512 inv = _mm512_set1_ps (1.0f / _mm512_reduce_add_ps (sum));
      for (int j = 0; j < cols; j += 16)
        {
          __mmask16 lanes = first_lanes (MIN (16, cols - j));
          _mm512_mask_storeu_ps (row + j, lanes, _mm512_mul_ps (_mm512_maskz_loadu_ps (lanes, row + j), inv));
        }
    }
}

static AVX512 void
layernorm_avx512 (float *y, const float *x, const float *gamma, const float *beta, int n, int d)
{
  int full = d & ~15;
  __mmask16 tail = first_lanes (d & 15);
  for (int i = 0; i < n; i++)
    {
      const float *xr = x + (size_t) i * d;
      float *yr = y + (size_t) i * d;
      __m512 s = _mm512_maskz_loadu_ps (tail, xr + full);
      for (int j = 0; j < full; j += 16)
        s = _mm512_add_ps (s, _mm512_loadu_ps (xr + j));
      __m512 mean = _mm512_set1_ps (_mm512_reduce_add_ps (s) / d);
      /* the variance from the centred values, two passes as the portable loop */
      __m512 c = _mm512_maskz_sub_ps (tail, _mm512_maskz_loadu_ps (tail, xr + full), mean);
      __m512 v = _mm512_mul_ps (c, c);
      for (int j = 0; j < full; j += 16)
        {
          c = _mm512_sub_ps (_mm512_loadu_ps (xr + j), mean);
          v = _mm512_fmadd_ps (c, c, v);
        }
      __m512 rstd = _mm512_set1_ps (1.0f / sqrtf (_mm512_reduce_add_ps (v) / d + 1e-5f));
      for (int j = 0; j < full; j += 16)
        {
          __m512 z = _mm512_mul_ps (_mm512_sub_ps (_mm512_loadu_ps (xr + j), mean), rstd);
          _mm512_storeu_ps (yr + j, _mm512_fmadd_ps (z, _mm512_loadu_ps (gamma + j), _mm512_loadu_ps (beta + j)));
        }
      if (tail)
        {
          __m512 z = _mm512_mul_ps (_mm512_sub_ps (_mm512_maskz_loadu_ps (tail, xr + full), mean), rstd);
          _mm512_mask_storeu_ps (yr + full, tail, _mm512_fmadd_ps (z, _mm512_maskz_loadu_ps (tail, gamma + full),
                                                                    _mm512_maskz_loadu_ps (tail, beta + full)));
        }
    }
}

/* x · Φ(x) = ½x(1 + erf(x/√2)) with erf_approx's polynomial: for x ≥ 0,
 * 1 + erf = 2 − p^−16, for x < 0 it is p^−16.  p is capped at 64 (where
 * p^−16 = 2^−96 is 0 to single precision anyway) so p^16 stays finite. */
static AVX512 inline __m512
gelu_erf16 (__m512 x)
{
  __m512 a = _mm512_abs_ps (_mm512_mul_ps (x, _mm512_set1_ps ((float) M_SQRT1_2)));
  __m512 p = _mm512_fmadd_ps (a, _mm512_set1_ps (0.0000430638f), _mm512_set1_ps (0.0002765672f));
  p = _mm512_fmadd_ps (p, a, _mm512_set1_ps (0.0001520143f));
  p = _mm512_fmadd_ps (p, a, _mm512_set1_ps (0.0092705272f));
  p = _mm512_fmadd_ps (p, a, _mm512_set1_ps (0.0422820123f));
  p = _mm512_fmadd_ps (p, a, _mm512_set1_ps (0.0705230784f));
  p = _mm512_fmadd_ps (p, a, _mm512_set1_ps (1.0f));
  p = _mm512_min_ps (_mm512_set1_ps (64.0f), p);
  p = _mm512_mul_ps (p, p);
  p = _mm512_mul_ps (p, p);
  p = _mm512_mul_ps (p, p);
  p = _mm512_mul_ps (p, p);
  __m512 q = recip16 (p);
  __mmask16 nonneg = _mm512_cmp_ps_mask (x, _mm512_setzero_ps (), _CMP_GE_OQ);
  __m512 one_plus_erf = _mm512_mask_sub_ps (q, nonneg, _mm512_set1_ps (2.0f), q);
  return _mm512_mul_ps (_mm512_mul_ps (_mm512_set1_ps (0.5f), x), one_plus_erf);
}

#define ELEMENTWISE_AVX512(name, f16)                                              \
  static AVX512 void name (float *x, size_t n)                                     \
  {                                                                                \
    size_t full = n & ~(size_t) 15;                                                \
    for (size_t i = 0; i < full; i += 16)                                          \
      _mm512_storeu_ps (x + i, f16 (_mm512_loadu_ps (x + i)));                     \
    __mmask16 tail = first_lanes ((int) (n & 15));                                   \
    if (tail)                                                                      \
      _mm512_mask_storeu_ps (x + full, tail, f16 (_mm512_maskz_loadu_ps (tail, x + full))); \
  }
ELEMENTWISE_AVX512 (gelu_erf_avx512, gelu_erf16)
ELEMENTWISE_AVX512 (gelu_tanh_avx512, gelu_tanh16)

static AVX512 float
nll_row_avx512 (const float *logits, int V, int target)
{
  int full = V & ~15;
  __mmask16 tail = first_lanes (V & 15);
  float max = row_max (logits, V);
  __m512 vmax = _mm512_set1_ps (max);
  __m512 sum = _mm512_maskz_mov_ps (tail, exp16 (_mm512_sub_ps (_mm512_maskz_loadu_ps (tail, logits + full), vmax)));
  for (int j = 0; j < full; j += 16)
    sum = _mm512_add_ps (sum, exp16 (_mm512_sub_ps (_mm512_loadu_ps (logits + j), vmax)));
  return logf (_mm512_reduce_add_ps (sum)) + max - logits[target];
}

/* Each thread's buffer for one head's keys (scaled, transposed) or values,
 * kept for the thread's life and grown when a longer key sequence comes
 * (once per model, in practice). */
typedef struct {
  size_t floats;
  float *data;
} HeadBuffer;

static void
head_buffer_free (gpointer p)
{
  HeadBuffer *hb = p;
  g_free (hb->data);
  g_free (hb);
}

static GPrivate head_buffer = G_PRIVATE_INIT (head_buffer_free);
static GPrivate row_end_buffer = G_PRIVATE_INIT (head_buffer_free);   /* ms_attention's row ends, as floats' room */

static float *
thread_buffer (GPrivate *key, size_t floats)
{
  HeadBuffer *hb = g_private_get (key);
  if (!hb)
    {
      hb = g_new0 (HeadBuffer, 1);
      g_private_set (key, hb);
    }
  if (hb->floats < floats)
    {
      g_free (hb->data);
      hb->data = g_new (float, floats);
      hb->floats = floats;
    }
  return hb->data;
}

static float *
thread_head_buffer (size_t floats)
{
  return thread_buffer (&head_buffer, floats);
}

/* col[j] = (r[0][j], …, r[15][j]): a 16 × 16 block transposed in registers
 * (pairs of rows interleaved, then pairs of pairs, then 128-bit lanes
 * exchanged twice), which beat AVX-512 gathers (tests/bench/README.md). */
static AVX512 inline void
transpose16x16 (const __m512 r[16], __m512 col[16])
{
  __m512 t[16], u[16];
  for (int p = 0; p < 8; p++)
    {
      t[2 * p] = _mm512_unpacklo_ps (r[2 * p], r[2 * p + 1]);     /* rows 2p, 2p+1; columns 4L, 4L+1 */
      t[2 * p + 1] = _mm512_unpackhi_ps (r[2 * p], r[2 * p + 1]); /* columns 4L+2, 4L+3 */
    }
  for (int g = 0; g < 4; g++)
    {
      /* u[4g + m], 128-bit lane L: column 4L + m of rows 4g .. 4g+3 */
      u[4 * g + 0] = _mm512_shuffle_ps (t[4 * g], t[4 * g + 2], 0x44);
      u[4 * g + 1] = _mm512_shuffle_ps (t[4 * g], t[4 * g + 2], 0xEE);
      u[4 * g + 2] = _mm512_shuffle_ps (t[4 * g + 1], t[4 * g + 3], 0x44);
      u[4 * g + 3] = _mm512_shuffle_ps (t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
  for (int m = 0; m < 4; m++)
    {
      __m512 v0 = _mm512_shuffle_f32x4 (u[m], u[4 + m], 0x88);      /* lanes 0, 2 of groups 0, 1 */
      __m512 v1 = _mm512_shuffle_f32x4 (u[m], u[4 + m], 0xDD);      /* lanes 1, 3 */
      __m512 v2 = _mm512_shuffle_f32x4 (u[8 + m], u[12 + m], 0x88); /* groups 2, 3 */
      __m512 v3 = _mm512_shuffle_f32x4 (u[8 + m], u[12 + m], 0xDD);
      col[m] = _mm512_shuffle_f32x4 (v0, v2, 0x88);
      col[4 + m] = _mm512_shuffle_f32x4 (v1, v3, 0x88);
      col[8 + m] = _mm512_shuffle_f32x4 (v0, v2, 0xDD);
      col[12 + m] = _mm512_shuffle_f32x4 (v1, v3, 0xDD);
    }
}

/* scale · kᵀ as ms_panel_product's right-hand side: panel q holds keys
 * 32q .. 32q + 31, its row j the 32 keys' component j (zero past Tk).
 * dh is a multiple of 16. */
static AVX512 void
pack_keys_transposed (float *kt, const float *k, int ldk, int Tk, int dh, float scale)
{
  __m512 s = _mm512_set1_ps (scale);
  int padded = (Tk + 31) / 32 * 32;
  for (int key0 = 0; key0 < padded; key0 += 16)
    {
      float *dst = kt + (size_t) (key0 / 32) * 32 * dh + key0 % 32;
      for (int c0 = 0; c0 < dh; c0 += 16)
        {
          __m512 r[16], col[16];
          for (int i = 0; i < 16; i++)
            r[i] = key0 + i < Tk ? _mm512_mul_ps (_mm512_loadu_ps (k + (size_t) (key0 + i) * ldk + c0), s)
                                 : _mm512_setzero_ps ();
          transpose16x16 (r, col);
          for (int j = 0; j < 16; j++)
            _mm512_storeu_ps (dst + (size_t) (c0 + j) * 32, col[j]);
        }
    }
}
#endif

void
ms_gemm (int trans_a, int trans_b, int m, int n, int k, float alpha,
         const float *a, int lda, const float *b, int ldb,
         float beta, float *c, int ldc)
{
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans,
               m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

MS_VECTOR_CLONES static void
layernorm_rows (float *y, const float *x, const float *gamma, const float *beta, int n, int d)
{
  RUN_AVX512 (layernorm_avx512 (y, x, gamma, beta, n, d));
  for (int i = 0; i < n; i++)
    {
      const float *xr = x + (size_t) i * d;
      float *yr = y + (size_t) i * d;
      float mean = 0.0f, var = 0.0f;
      /* omp simd: the sums may be reassociated into vector lanes (strict
       * C order would keep these reductions scalar) */
#pragma omp simd reduction(+ : mean)
      for (int j = 0; j < d; j++)
        mean += xr[j];
      mean /= d;
#pragma omp simd reduction(+ : var)
      for (int j = 0; j < d; j++)
        {
          float c = xr[j] - mean;
          var += c * c;
        }
      float rstd = 1.0f / sqrtf (var / d + 1e-5f);
      for (int j = 0; j < d; j++)
        yr[j] = (xr[j] - mean) * rstd * gamma[j] + beta[j];
    }
}

typedef struct {
  float *y;
  const float *x, *gamma, *beta;
  int n, d, n_items;
} LayerNorm;

static void
layernorm_item (int item, gpointer data)
{
  const LayerNorm *a = data;
  int begin = (int) ((long) a->n * item / a->n_items), end = (int) ((long) a->n * (item + 1) / a->n_items);
  layernorm_rows (a->y + (size_t) begin * a->d, a->x + (size_t) begin * a->d, a->gamma, a->beta, end - begin, a->d);
}

void
ms_layernorm (float *y, const float *x, const float *gamma, const float *beta, int n, int d)
{
  /* rows split over the threads above some 64 K values */
  int items = (int) MIN ((long) ms_parallel_get_threads (), MAX (1L, (long) n * d / 65536));
  LayerNorm a = { y, x, gamma, beta, n, d, MIN (items, MAX (n, 1)) };
  if (a.n_items <= 1)
    layernorm_rows (y, x, gamma, beta, n, d);
  else
    ms_parallel_for (a.n_items, layernorm_item, &a);
}

MS_VECTOR_CLONES void
ms_softmax_rows (float *x, int n, int cols, int ld)
{
  RUN_AVX512 (softmax_rows_avx512 (x, n, cols, ld));
  for (int i = 0; i < n; i++)
    {
      float *row = x + (size_t) i * ld;
      float max = -INFINITY;
#pragma omp simd reduction(max : max)
      for (int j = 0; j < cols; j++)
        max = row[j] > max ? row[j] : max;
      if (max == -INFINITY)
        {
          /* No finite logit: only possible from non-finite weights (loaded
           * with a warning), since ms_attention rejects fully masked rows.
           * Propagate NaN rather than invent a distribution. */
          for (int j = 0; j < cols; j++)
            row[j] = NAN;
          continue;
        }
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int j = 0; j < cols; j++)
        {
          row[j] = exp_approx (row[j] - max);
          sum += row[j];
        }
      float inv = 1.0f / sum;
      for (int j = 0; j < cols; j++)
        row[j] *= inv;
    }
}

MS_VECTOR_CLONES void
ms_gelu_erf (float *x, size_t n)
{
  RUN_AVX512 (gelu_erf_avx512 (x, n));
  for (size_t i = 0; i < n; i++)
    x[i] = 0.5f * x[i] * (1.0f + erf_approx (x[i] * (float) M_SQRT1_2));
}

/* 0.5·x·(1 + tanh(u)) = x / (1 + e^(−2u)): the same function without a
 * libm tanhf call per element (exp_approx vectorises; tanhf does not). */
MS_VECTOR_CLONES void
ms_gelu_tanh (float *x, size_t n)
{
  RUN_AVX512 (gelu_tanh_avx512 (x, n));
  const float c = 0.7978845608028654f; /* √(2/π) */
  for (size_t i = 0; i < n; i++)
    {
      float v = x[i];
      float u = c * (v + 0.044715f * v * v * v);
      x[i] = v / (1.0f + exp_approx (-2.0f * u));
    }
}

typedef struct {
  float *out, *probs;
  const float *q, *k, *v;
  int ldo, ldq, ldk, ldv, Tq, Tk, dh;
  const uint8_t *mask;
  float scale;
  const int *row_end;   /* [Tq] or NULL: row i allows no key at or past row_end[i] */
} Attention;

/* softmax(p) over each row's allowed keys (mask[Tq, Tk], 1 = allowed, or
 * NULL for all), the others exactly 0. */
MS_VECTOR_CLONES static void
attention_softmax (float *p, const uint8_t *mask, int Tq, int Tk)
{
  if (!mask)
    {
      ms_softmax_rows (p, Tq, Tk, Tk);
      return;
    }
  RUN_AVX512 (masked_softmax_rows_avx512 (p, mask, Tq, Tk));
  /* Masked keys get −∞, whose e^x is exactly 0, and the softmax runs over
   * whole rows in one call.  Stopping each row at its last allowed key
   * would skip the e^x of what causal and block masks hide, but costs one
   * call per row, each ending in a scalar loop over its last partial
   * vector, which is slower (tests/bench/README.md). */
  for (int i = 0; i < Tq; i++)
    {
      const uint8_t *allowed = mask + (size_t) i * Tk;
      float *row = p + (size_t) i * Tk;
      int n_allowed = 0;
#pragma omp simd reduction(+ : n_allowed)
      for (int j = 0; j < Tk; j++)
        {
          row[j] = allowed[j] ? row[j] : -INFINITY;
          n_allowed += allowed[j] != 0;
        }
      g_assert (n_allowed > 0); /* a fully masked row is a bug, never silently uniform */
    }
  ms_softmax_rows (p, Tq, Tk, Tk);
}

/* ms_attention_scores and ms_attention_mix, where row i of the mask allows
 * no key at or past row_end[i] (or row_end is NULL): the packed kernel then
 * skips the scores no row of a tile needs and the reduction over keys
 * whose probability is 0 (a causal mask's upper triangle). */
static void
scores_limited (float *s, int lds, const float *q, int ldq, const float *k, int ldk,
                int Tq, int Tk, int dh, float scale, const int *row_end)
{
#ifdef MS_HAVE_AVX512_KERNELS
  /* through the packed-product kernel, with the keys transposed into its
   * panels first */
  if (ms_avx512_kernels () && dh % 32 == 0)
    {
      float *kt = thread_head_buffer ((size_t) (Tk + 31) / 32 * 32 * dh);
      pack_keys_transposed (kt, k, ldk, Tk, dh, scale);
      if (row_end)
        ms_panel_product_limited (s, lds, q, ldq, Tq, dh, kt, (size_t) 32 * dh, 32, Tk, row_end,
                                  MS_PANEL_LIMIT_COLUMNS);
      else
        ms_panel_product (s, lds, q, ldq, Tq, dh, kt, (size_t) 32 * dh, 32, Tk, NULL);
      return;
    }
#endif
  (void) row_end;
  ms_gemm (0, 1, Tq, Tk, dh, scale, q, ldq, k, ldk, 0.0f, s, lds);
}

static void
mix_limited (float *out, int ldo, const float *p, int ldp, const float *v, int ldv, int Tq, int Tk, int dh,
             const int *row_end)
{
#ifdef MS_HAVE_AVX512_KERNELS
  /* through the packed-product kernel, v's rows as its panels (so dh must
   * fill them), copied contiguous first: in place, 3d floats apart in the
   * fused projection, they alias in L1 */
  if (ms_avx512_kernels () && dh % 32 == 0)
    {
      float *vh = thread_head_buffer ((size_t) Tk * dh);
      for (int j = 0; j < Tk; j++)
        memcpy (vh + (size_t) j * dh, v + (size_t) j * ldv, sizeof (float) * dh);
      if (row_end)
        ms_panel_product_limited (out, ldo, p, ldp, Tq, Tk, vh, 32, dh, dh, row_end, MS_PANEL_LIMIT_REDUCTION);
      else
        ms_panel_product (out, ldo, p, ldp, Tq, Tk, vh, 32, dh, dh, NULL);
      return;
    }
#endif
  (void) row_end;
  ms_gemm (0, 0, Tq, dh, Tk, 1.0f, p, ldp, v, ldv, 0.0f, out, ldo);
}

void
ms_attention_scores (float *s, int lds, const float *q, int ldq, const float *k, int ldk,
                     int Tq, int Tk, int dh, float scale)
{
  scores_limited (s, lds, q, ldq, k, ldk, Tq, Tk, dh, scale, NULL);
}

void
ms_attention_mix (float *out, int ldo, const float *p, int ldp, const float *v, int ldv, int Tq, int Tk, int dh)
{
  mix_limited (out, ldo, p, ldp, v, ldv, Tq, Tk, dh, NULL);
}

static void
attention_head (int h, gpointer data)
{
  const Attention *a = data;
  int Tq = a->Tq, Tk = a->Tk, dh = a->dh;
  float *p = a->probs + (size_t) h * Tq * Tk; /* (Tq, Tk) */
  scores_limited (p, Tk, a->q + h * dh, a->ldq, a->k + h * dh, a->ldk, Tq, Tk, dh, a->scale, a->row_end);
  attention_softmax (p, a->mask, Tq, Tk);
  mix_limited (a->out + h * dh, a->ldo, p, Tk, a->v + h * dh, a->ldv, Tq, Tk, dh, a->row_end);
}

void
ms_attention (float *out, int ldo, float *probs,
              const float *q, int ldq, const float *k, int ldk,
              const float *v, int ldv, int Tq, int Tk, int H, int dh,
              const uint8_t *mask, float scale)
{
  Attention a = { out, probs, q, k, v, ldo, ldq, ldk, ldv, Tq, Tk, dh, mask, scale, NULL };
  if (mask)
    {
      /* where each row's allowed keys end (a causal row at its own
       * position), for the products to stop there; the softmax leaves
       * exactly 0 past it, and the masked scores it never reads */
      int *row_end = (int *) thread_buffer (&row_end_buffer, Tq);
      for (int i = 0; i < Tq; i++)
        {
          const uint8_t *allowed = mask + (size_t) i * Tk;
          int j = Tk;
          while (j > 0 && !allowed[j - 1])
            j--;
          row_end[i] = MAX (j, 1);
        }
      a.row_end = row_end;
    }
  /* heads are independent: each writes its own probabilities and columns */
  if ((double) Tq * Tk * dh * H >= 1 << 17)
    ms_parallel_for (H, attention_head, &a);
  else
    for (int h = 0; h < H; h++)
      attention_head (h, &a);
}

MS_VECTOR_CLONES float
ms_nll_row (const float *logits, int V, int target)
{
#ifdef MS_HAVE_AVX512_KERNELS
  if (ms_avx512_kernels ())
    return nll_row_avx512 (logits, V, target);
#endif
  float max = -INFINITY;
#pragma omp simd reduction(max : max)
  for (int j = 0; j < V; j++)
    max = logits[j] > max ? logits[j] : max;
  /* the terms are in (0, 1] with relative error below 2e-7 (exp_approx),
   * summed in the vector lanes' partial sums (16 terms each at V = 256) */
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int j = 0; j < V; j++)
    sum += exp_approx (logits[j] - max);
  return logf (sum) + max - logits[target];
}

typedef struct {
  float *nll;
  const float *logits;
  int rows, V, n_items;
  const int32_t *targets;
} NllRows;

static void
nll_rows_item (int item, gpointer data)
{
  const NllRows *a = data;
  int begin = (int) ((long) a->rows * item / a->n_items), end = (int) ((long) a->rows * (item + 1) / a->n_items);
  for (int i = begin; i < end; i++)
    a->nll[i] = ms_nll_row (a->logits + (size_t) i * a->V, a->V, a->targets[i]);
}

void
ms_nll_rows (float *nll, const float *logits, int rows, int V, const int32_t *targets)
{
  /* a thread's share is worth handing out above some 64 K logits */
  int items = (int) MIN ((long) ms_parallel_get_threads (), MAX (1L, (long) rows * V / 65536));
  NllRows a = { nll, logits, rows, V, items, targets };
  if (rows > 0)
    ms_parallel_for (items, nll_rows_item, &a);
}
