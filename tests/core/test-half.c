/* test-half.c — half precision conversions: exact values a reader can
 * check by hand, every half round-tripping, and the bulk (F16C) converter
 * agreeing with the scalar one on every float class. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "ms-half.h"

static float
bits_to_float (uint32_t x)
{
  float f;
  memcpy (&f, &x, 4);
  return f;
}

static void
test_known_values (void)
{
  /* binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits */
  static const struct { float f; uint16_t h; } cases[] = {
    { 0.0f, 0x0000 }, { -0.0f, 0x8000 }, { 1.0f, 0x3c00 }, { -2.0f, 0xc000 }, { 0.5f, 0x3800 },
    { 65504.0f, 0x7bff },                      /* largest finite half */
    { 65519.0f, 0x7bff }, { 65520.0f, 0x7c00 }, /* the rounding boundary to inf */
    { 5.9604644775390625e-08f, 0x0001 },        /* 2^-24, smallest subnormal */
    { 6.103515625e-05f, 0x0400 },               /* 2^-14, smallest normal */
    { 2.98023223876953125e-08f, 0x0000 },       /* 2^-25: tie, rounds to even (0) */
    { 8.940696716308594e-08f, 0x0002 },         /* 1.5 · 2^-24: tie, rounds to even (2) */
    { 1.00048828125f, 0x3c00 },                 /* 1 + 2^-11: tie, rounds to even */
    { 1.00146484375f, 0x3c02 },                 /* 1 + 3 · 2^-11: tie, rounds up to even */
    { 0.1f, 0x2e66 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmphex (ms_float_to_half (cases[i].f), ==, cases[i].h);
  g_assert_cmphex (ms_float_to_half (INFINITY), ==, 0x7c00);
  g_assert_cmphex (ms_float_to_half (-1e10f), ==, 0xfc00);
  g_assert_true (isnan (ms_half_to_float (ms_float_to_half (NAN))));
  g_assert_cmpfloat (ms_half_to_float (0x3555), ==, 0.333251953125f);
}

static void
test_every_half_round_trips (void)
{
  for (uint32_t h = 0; h < 0x10000; h++)
    {
      float f = ms_half_to_float ((uint16_t) h);
      if (isnan (f))
        g_assert_true ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0);
      else
        g_assert_cmphex (ms_float_to_half (f), ==, h);
    }
}

/* Every float class, in lengths that leave a remainder after the 8-wide
 * vector loop: the bulk converter gives the scalar converter's bits. */
static void
test_bulk_matches_scalar (void)
{
  /* on a CPU without F16C this compares the scalar path with itself */
  g_test_message ("bulk conversion path: %s", ms_half_bulk_uses_f16c () ? "F16C" : "scalar");
  GRand *rand = g_rand_new_with_seed (7);
  enum { N = 1 << 16 };
  float *src = g_new (float, N + 7);
  uint16_t *dst = g_new (uint16_t, N + 7);
  for (int i = 0; i < N + 7; i++)
    {
      switch (i % 4)
        {
        case 0: src[i] = bits_to_float (g_rand_int (rand)); break;              /* any bit pattern */
        case 1: src[i] = (float) g_rand_double_range (rand, 0, 1); break;       /* probabilities */
        case 2:                                                                 /* exact ties */
          {
            float f = ms_half_to_float ((uint16_t) g_rand_int_range (rand, 0x0400, 0x7c00));
            uint32_t x;
            memcpy (&x, &f, 4);
            src[i] = bits_to_float (x | 0x1000);   /* halfway between two normal halves */
          }
          break;
        default: src[i] = (float) g_rand_double_range (rand, -1e-6, 1e-6); break; /* subnormal halves */
        }
    }
  for (int n = N; n <= N + 7; n += 7)
    {
      ms_floats_to_half_le (src, dst, n);
      for (int i = 0; i < n; i++)
        {
          uint16_t want = ms_float_to_half (src[i]);
          uint16_t got = GUINT16_FROM_LE (dst[i]);
          if (isnan (src[i]))
            g_assert_true ((got & 0x7c00) == 0x7c00 && (got & 0x3ff) != 0);
          else if (got != want)
            g_error ("element %d: %a gives 0x%04x, the scalar converter 0x%04x", i, src[i], got, want);
        }
    }
  g_free (src);
  g_free (dst);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/half/known-values", test_known_values);
  g_test_add_func ("/half/every-half-round-trips", test_every_half_round_trips);
  g_test_add_func ("/half/bulk-matches-scalar", test_bulk_matches_scalar);
  return g_test_run ();
}
