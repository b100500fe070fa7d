/* test-kernels.c — every fast kernel against its plain-loop twin on odd
 * shapes (primes, 1, sizes that are not multiples of any SIMD width),
 * including strided attention inputs and masks.  Tolerance: 1e-5 relative
 * to the magnitude of the values (single vs double accumulation). */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "ms-kernels.h"

static void
fill (float *x, size_t n, guint32 seed, float scale)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, -scale, scale);
  g_rand_free (r);
}

static void
assert_close (const float *got, const float *want, size_t n, double tol)
{
  for (size_t i = 0; i < n; i++)
    {
      double scale = MAX (1.0, fabs (want[i]));
      if (!(fabs ((double) got[i] - want[i]) <= tol * scale))
        g_error ("element %zu: fast %.9g, reference %.9g", i, got[i], want[i]);
    }
}

/* n, in, out; the last two cross the packed kernel's 12-row tiles, 32-column
 * panels and 256-deep reduction blocks with remainders */
static const int shapes[][3] = { { 1, 1, 1 }, { 7, 13, 5 }, { 3, 31, 17 }, { 29, 64, 3 }, { 65, 33, 130 },
                                 { 25, 300, 47 }, { 13, 513, 64 } };

static void
test_affine (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int n = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
      g_autofree float *x = g_new (float, n * in), *w = g_new (float, in * out), *b = g_new (float, out);
      g_autofree float *y = g_new (float, n * out), *y_ref = g_new (float, n * out);
      fill (x, n * in, 1 + s, 1), fill (w, in * out, 2 + s, 0.5f), fill (b, out, 3 + s, 1);
      g_autofree float *laid_out = g_new (float, ms_weight_floats (in, out));
      ms_weight_lay_out (laid_out, w, in, out);
      ms_affine (y, x, laid_out, b, n, in, out);
      ms_ref_affine (y_ref, x, w, b, n, in, out);
      assert_close (y, y_ref, n * out, 1e-5);
      ms_affine (y, x, laid_out, NULL, n, in, out);
      ms_ref_affine (y_ref, x, w, NULL, n, in, out);
      assert_close (y, y_ref, n * out, 1e-5);

      /* fused outputs: a residual add, and GELU */
      g_autofree float *acc = g_new (float, n * out);
      fill (acc, n * out, 4 + s, 1);
      memcpy (y, acc, sizeof (float) * n * out);
      ms_affine_to (y, x, laid_out, b, n, in, out, MS_AFFINE_ADD);
      ms_ref_affine (y_ref, x, w, b, n, in, out);
      for (int i = 0; i < n * out; i++)
        y_ref[i] += acc[i];
      assert_close (y, y_ref, n * out, 1e-5);
      ms_affine_to (y, x, laid_out, b, n, in, out, MS_AFFINE_GELU_TANH);
      ms_ref_affine (y_ref, x, w, b, n, in, out);
      ms_ref_gelu_tanh (y_ref, (size_t) n * out);
      assert_close (y, y_ref, n * out, 1e-5);
    }
}

/* A matrix laid out a slice at a time, from its rows or (transposed, as a
 * file stores an nn.Linear weight or an embedding) from its columns, is
 * the matrix ms_weight_lay_out makes, and ms_weight_column reads its
 * columns back. */
static void
test_weight_parts (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int in = shapes[s][1], out = shapes[s][2];
      size_t floats = ms_weight_floats (in, out);
      g_autofree float *w = g_new (float, in * out), *wt = g_new (float, in * out);
      g_autofree float *whole = g_new0 (float, floats), *by_rows = g_new (float, floats);
      g_autofree float *by_cols = g_new (float, floats), *col = g_new (float, in);
      fill (w, in * out, 5 + s, 1);
      for (int k = 0; k < in; k++)
        for (int c = 0; c < out; c++)
          wt[(size_t) c * in + k] = w[(size_t) k * out + c];
      memset (by_rows, 0xff, floats * sizeof (float));   /* NaN: padding must be written */
      memset (by_cols, 0xff, floats * sizeof (float));
      ms_weight_lay_out (whole, w, in, out);
      for (int r0 = 0, step = 1; r0 < in; r0 += step, step += 2)
        ms_weight_lay_out_part (by_rows, w + (size_t) r0 * out, in, out, r0, MIN (step, in - r0), FALSE);
      for (int c0 = 0, step = 32; c0 < out; c0 += step, step += 32)
        ms_weight_lay_out_part (by_cols, wt + (size_t) c0 * in, in, out, c0, MIN (step, out - c0), TRUE);
      g_assert_cmpmem (by_rows, floats * sizeof (float), whole, floats * sizeof (float));
      g_assert_cmpmem (by_cols, floats * sizeof (float), whole, floats * sizeof (float));
      for (int c = 0; c < out; c += 1 + out / 7)
        {
          ms_weight_column (col, whole, in, out, c);
          g_assert_cmpmem (col, in * sizeof (float), wt + (size_t) c * in, in * sizeof (float));
        }
    }
}

static void
test_layernorm (void)
{
  for (int d = 1; d < 70; d += 17)
    {
      int n = 5;
      g_autofree float *x = g_new (float, n * d), *g = g_new (float, d), *b = g_new (float, d);
      g_autofree float *y = g_new (float, n * d), *y_ref = g_new (float, n * d);
      fill (x, n * d, d, 3), fill (g, d, d + 1, 2), fill (b, d, d + 2, 1);
      x[0] += 100.0f; /* a large offset must not lose precision */
      ms_layernorm (y, x, g, b, n, d);
      ms_ref_layernorm (y_ref, x, g, b, n, d);
      assert_close (y, y_ref, n * d, 2e-5);
      ms_layernorm (x, x, g, b, n, d); /* in place */
      assert_close (x, y_ref, n * d, 2e-5);
    }
}

/* rows shorter than one vector, and rows of whole vectors plus a tail,
 * with padding past the columns that must stay untouched */
static void
check_softmax (int n, int cols, int ld, guint32 seed)
{
  g_autofree float *x = g_new (float, n * ld), *x_ref = g_new (float, n * ld);
  fill (x, n * ld, seed, 20);
  x[2] = -INFINITY;
  x[ld + 5] = -INFINITY;
  x[ld * (n - 1) + cols - 1] = -INFINITY; /* in the last partial vector */
  memcpy (x_ref, x, sizeof (float) * n * ld);
  ms_softmax_rows (x, n, cols, ld);
  ms_ref_softmax_rows (x_ref, n, cols, ld);
  assert_close (x, x_ref, n * ld, 1e-6);
  g_assert_cmpfloat (x[2], ==, 0.0f);
  g_assert_cmpfloat (x[ld + 5], ==, 0.0f);
  g_assert_cmpfloat (x[ld * (n - 1) + cols - 1], ==, 0.0f);
  for (int i = 0; i < n; i++)
    {
      double sum = 0;
      for (int j = 0; j < cols; j++)
        sum += x[i * ld + j];
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-6);
      for (int j = cols; j < ld; j++)
        g_assert_cmpfloat (x[i * ld + j], ==, x_ref[i * ld + j]); /* padding untouched */
    }
}

static void
test_softmax (void)
{
  check_softmax (4, 11, 13, 9);
  check_softmax (5, 37, 40, 10);
  check_softmax (3, 96, 97, 11);
  check_softmax (2, 16, 16, 12);
}

static void
test_gelu (void)
{
  float x[257], y[257];
  for (int i = 0; i < 257; i++)
    x[i] = -8.0f + 16.0f * i / 256.0f;
  memcpy (y, x, sizeof x);
  ms_gelu_erf (x, 257);
  ms_ref_gelu_erf (y, 257);
  assert_close (x, y, 257, 1e-6);
  g_assert_cmpfloat_with_epsilon (x[128], 0.0, 1e-7); /* GELU(0) = 0 */
  for (int i = 0; i < 257; i++)
    x[i] = y[i] = -8.0f + 16.0f * i / 256.0f;
  ms_gelu_tanh (x, 257);
  ms_ref_gelu_tanh (y, 257);
  assert_close (x, y, 257, 1e-6);
  g_assert_cmpfloat_with_epsilon (x[256], 8.0, 1e-5); /* ≈ identity for large x */
}

enum { NO_MASK, CAUSAL_WITH_HOLES, BAND };

static void
check_attention (int Tq, int Tk, int H, int dh, int pad, int mask_kind)
{
  gboolean masked = mask_kind != NO_MASK;
  int d = H * dh, ld = 3 * d + pad; /* q, k, v as slices of one fused row */
  int T = MAX (Tq, Tk);
  g_autofree float *qkv = g_new (float, T * ld);
  g_autofree float *out = g_new0 (float, Tq * (d + pad)), *out_ref = g_new0 (float, Tq * (d + pad));
  g_autofree float *p = g_new (float, H * Tq * Tk), *p_ref = g_new (float, H * Tq * Tk);
  g_autofree uint8_t *mask = g_new (uint8_t, Tq * Tk);
  fill (qkv, T * ld, Tq * 31 + Tk, 2);
  /* causal with holes: key 0 hidden from every third row; band: each row
   * sees the 20 keys up to its own, so later rows start past whole blocks
   * of 16 hidden keys */
  for (int i = 0; i < Tq; i++)
    for (int j = 0; j < Tk; j++)
      {
        int last = i + (Tk - Tq);
        mask[i * Tk + j] = mask_kind == BAND ? (j <= last && j > last - 20)
                                             : (j <= last) && !(j == 0 && i % 3 == 1 && Tk > 1);
      }
  float scale = 1.0f / sqrtf ((float) dh);
  ms_attention (out, d + pad, p, qkv, ld, qkv + d, ld, qkv + 2 * d, ld, Tq, Tk, H, dh, masked ? mask : NULL, scale);
  ms_ref_attention (out_ref, d + pad, p_ref, qkv, ld, qkv + d, ld, qkv + 2 * d, ld, Tq, Tk, H, dh,
                    masked ? mask : NULL, scale);
  assert_close (out, out_ref, Tq * (d + pad), 1e-5);
  assert_close (p, p_ref, H * Tq * Tk, 1e-5);
  if (masked)
    for (int h = 0; h < H; h++)
      for (int i = 0; i < Tq * Tk; i++)
        if (!mask[i])
          g_assert_cmpfloat (p[h * Tq * Tk + i], ==, 0.0f);
}

static void
test_attention (void)
{
  check_attention (1, 1, 1, 1, 0, NO_MASK);
  check_attention (7, 7, 3, 5, 1, CAUSAL_WITH_HOLES);
  check_attention (5, 11, 2, 7, 3, CAUSAL_WITH_HOLES);
  check_attention (13, 4, 4, 3, 0, NO_MASK);
  check_attention (29, 29, 2, 16, 0, CAUSAL_WITH_HOLES);
  check_attention (60, 75, 2, 5, 0, BAND);
  /* dh a multiple of 32 takes the packed-product kernel where there is
   * AVX-512: key counts off the 32-key panels, more than one 256-deep
   * reduction block, query counts off the 12-row tiles */
  check_attention (13, 13, 2, 32, 0, CAUSAL_WITH_HOLES);
  check_attention (25, 45, 3, 64, 5, CAUSAL_WITH_HOLES);
  check_attention (7, 70, 2, 32, 1, NO_MASK);
  check_attention (20, 300, 1, 32, 3, CAUSAL_WITH_HOLES);
  check_attention (50, 61, 2, 32, 0, BAND);
}

static void
test_nll (void)
{
  float logits[259];
  fill (logits, 259, 4, 30);
  for (int target = 0; target < 259; target += 37)
    g_assert_cmpfloat_with_epsilon (ms_nll_row (logits, 259, target), ms_ref_nll_row (logits, 259, target), 1e-4);
  float uniform[256] = { 0 };
  g_assert_cmpfloat_with_epsilon (ms_nll_row (uniform, 256, 17), logf (256.0f), 1e-5);

  /* many rows at once (split over the threads when there are several) */
  int rows = 37, V = 3001;
  g_autofree float *many = g_new (float, rows * V), *nll = g_new (float, rows);
  g_autofree int32_t *targets = g_new (int32_t, rows);
  fill (many, (size_t) rows * V, 6, 20);
  for (int i = 0; i < rows; i++)
    targets[i] = (i * 811) % V;
  ms_nll_rows (nll, many, rows, V, targets);
  for (int i = 0; i < rows; i++)
    g_assert_cmpfloat_with_epsilon (nll[i], ms_ref_nll_row (many + (size_t) i * V, V, targets[i]), 1e-4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/affine", test_affine);
  g_test_add_func ("/kernels/weight-parts", test_weight_parts);
  g_test_add_func ("/kernels/layernorm", test_layernorm);
  g_test_add_func ("/kernels/softmax", test_softmax);
  g_test_add_func ("/kernels/gelu", test_gelu);
  g_test_add_func ("/kernels/attention", test_attention);
  g_test_add_func ("/kernels/nll", test_nll);
  return g_test_run ();
}
