/* ms-kernels-ref.c — the slow, obvious twins of ms-kernels.c: triple loops
 * with double accumulators and no BLAS, written to be checked by eye.  They
 * exist only so tests can compare the fast kernels against them. */
#include "ms-kernels.h"

#include <glib.h>
#include <math.h>

void
ms_ref_affine (float *y, const float *x, const float *w, const float *b, int n, int in, int out)
{
  for (int i = 0; i < n; i++)
    for (int o = 0; o < out; o++)
      {
        double acc = b ? b[o] : 0.0;
        for (int j = 0; j < in; j++)
          acc += (double) x[i * in + j] * w[j * out + o];
        y[i * out + o] = (float) acc;
      }
}

void
ms_ref_layernorm (float *y, const float *x, const float *gamma, const float *beta, int n, int d)
{
  for (int i = 0; i < n; i++)
    {
      double mean = 0, var = 0;
      for (int j = 0; j < d; j++)
        mean += x[i * d + j];
      mean /= d;
      for (int j = 0; j < d; j++)
        var += (x[i * d + j] - mean) * (x[i * d + j] - mean);
      var /= d;
      for (int j = 0; j < d; j++)
        y[i * d + j] = (float) ((x[i * d + j] - mean) / sqrt (var + 1e-5) * gamma[j] + beta[j]);
    }
}

void
ms_ref_softmax_rows (float *x, int n, int cols, int ld)
{
  for (int i = 0; i < n; i++)
    {
      double max = -INFINITY, sum = 0;
      for (int j = 0; j < cols; j++)
        max = fmax (max, x[i * ld + j]);
      if (max == -INFINITY)
        {
          for (int j = 0; j < cols; j++)
            x[i * ld + j] = NAN;
          continue;
        }
      for (int j = 0; j < cols; j++)
        sum += exp (x[i * ld + j] - max);
      for (int j = 0; j < cols; j++)
        x[i * ld + j] = (float) (exp (x[i * ld + j] - max) / sum);
    }
}

void
ms_ref_gelu_erf (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = (float) (0.5 * x[i] * (1.0 + erf (x[i] / sqrt (2.0))));
}

void
ms_ref_gelu_tanh (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      double v = x[i];
      x[i] = (float) (0.5 * v * (1.0 + tanh (sqrt (2.0 / M_PI) * (v + 0.044715 * v * v * v))));
    }
}

void
ms_ref_attention (float *out, int ldo, float *probs,
                  const float *q, int ldq, const float *k, int ldk,
                  const float *v, int ldv, int Tq, int Tk, int H, int dh,
                  const uint8_t *mask, float scale)
{
  for (int h = 0; h < H; h++)
    for (int i = 0; i < Tq; i++)
      {
        float *p = probs + ((size_t) h * Tq + i) * Tk;
        for (int j = 0; j < Tk; j++)
          {
            double s = 0;
            for (int c = 0; c < dh; c++)
              s += (double) q[i * ldq + h * dh + c] * k[j * ldk + h * dh + c];
            p[j] = (mask && !mask[i * Tk + j]) ? -INFINITY : (float) (s * scale);
          }
        ms_ref_softmax_rows (p, 1, Tk, Tk);
        for (int c = 0; c < dh; c++)
          {
            double s = 0;
            for (int j = 0; j < Tk; j++)
              s += (double) p[j] * v[j * ldv + h * dh + c];
            out[i * ldo + h * dh + c] = (float) s;
          }
      }
}

float
ms_ref_nll_row (const float *logits, int V, int target)
{
  double max = -INFINITY, sum = 0;
  for (int j = 0; j < V; j++)
    max = fmax (max, logits[j]);
  for (int j = 0; j < V; j++)
    sum += exp (logits[j] - max);
  return (float) (log (sum) + max - logits[target]);
}
