/* ms-kernels.c — the fast f32 kernels: matrix products through cblas_sgemm,
 * the element-wise and row-wise operations as tight single-precision loops.
 * Contracts are in ms-kernels.h; ms-kernels-ref.c holds the slow twins. */
#include "ms-kernels.h"

#include <cblas.h>
#include <glib.h>
#include <math.h>

void
ms_gemm (int trans_a, int trans_b, int m, int n, int k, float alpha,
         const float *a, int lda, const float *b, int ldb,
         float beta, float *c, int ldc)
{
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans,
               m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void
broadcast_bias (float *y, const float *b, int n, int out)
{
  for (int i = 0; i < n; i++)
    {
      float *row = y + (size_t) i * out;
      if (b)
        for (int j = 0; j < out; j++)
          row[j] = b[j];
      else
        for (int j = 0; j < out; j++)
          row[j] = 0.0f;
    }
}

void
ms_linear (float *y, const float *x, const float *w, const float *b,
           int n, int in, int out)
{
  broadcast_bias (y, b, n, out);
  ms_gemm (0, 1, n, out, in, 1.0f, x, in, w, in, 1.0f, y, out);
}

void
ms_conv1d (float *y, const float *x, const float *w, const float *b,
           int n, int in, int out)
{
  broadcast_bias (y, b, n, out);
  ms_gemm (0, 0, n, out, in, 1.0f, x, in, w, out, 1.0f, y, out);
}

void
ms_layernorm (float *y, const float *x, const float *gamma,
              const float *beta, int n, int d)
{
  for (int i = 0; i < n; i++)
    {
      const float *xr = x + (size_t) i * d;
      float *yr = y + (size_t) i * d;
      float mean = 0.0f, var = 0.0f;
      for (int j = 0; j < d; j++)
        mean += xr[j];
      mean /= d;
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

void
ms_softmax_rows (float *x, int n, int cols, int ld)
{
  for (int i = 0; i < n; i++)
    {
      float *row = x + (size_t) i * ld;
      float max = -INFINITY;
      for (int j = 0; j < cols; j++)
        if (row[j] > max)
          max = row[j];
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
      for (int j = 0; j < cols; j++)
        {
          row[j] = expf (row[j] - max);
          sum += row[j];
        }
      float inv = 1.0f / sum;
      for (int j = 0; j < cols; j++)
        row[j] *= inv;
    }
}

void
ms_gelu_erf (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = 0.5f * x[i] * (1.0f + erff (x[i] * (float) M_SQRT1_2));
}

void
ms_gelu_tanh (float *x, size_t n)
{
  const float c = 0.7978845608028654f; /* √(2/π) */
  for (size_t i = 0; i < n; i++)
    {
      float v = x[i];
      x[i] = 0.5f * v * (1.0f + tanhf (c * (v + 0.044715f * v * v * v)));
    }
}

void
ms_attention (float *out, int ldo, float *probs,
              const float *q, int ldq, const float *k, int ldk,
              const float *v, int ldv, int Tq, int Tk, int H, int dh,
              const uint8_t *mask, float scale)
{
  for (int h = 0; h < H; h++)
    {
      float *p = probs + (size_t) h * Tq * Tk; /* (Tq, Tk) */
      ms_gemm (0, 1, Tq, Tk, dh, scale, q + h * dh, ldq, k + h * dh, ldk, 0.0f, p, Tk);
      if (mask)
        for (int i = 0; i < Tq; i++)
          {
            gboolean any = FALSE;
            for (int j = 0; j < Tk; j++)
              {
                any |= mask[(size_t) i * Tk + j];
                if (!mask[(size_t) i * Tk + j])
                  p[(size_t) i * Tk + j] = -INFINITY;
              }
            g_assert (any); /* a fully masked row is a bug, never silently uniform */
          }
      ms_softmax_rows (p, Tq, Tk, Tk);
      ms_gemm (0, 0, Tq, dh, Tk, 1.0f, p, Tk, v + h * dh, ldv, 0.0f, out + h * dh, ldo);
    }
}

float
ms_nll_row (const float *logits, int V, int target)
{
  float max = -INFINITY;
  for (int j = 0; j < V; j++)
    if (logits[j] > max)
      max = logits[j];
  double sum = 0.0;
  for (int j = 0; j < V; j++)
    sum += exp ((double) logits[j] - max);
  return (float) (log (sum) + max - logits[target]);
}
