/* ms-avx512-math.h — the vector functions the AVX-512 kernels share
 * (ms-kernels.c's row-wise kernels, ms-affine.c's GELU after a product):
 * e^x, 1/x and GPT-2's GELU on 16 floats.  Private to core/; include only
 * where MS_HAVE_AVX512_KERNELS is defined. */
#pragma once

#include <immintrin.h>

#define AVX512 __attribute__ ((target ("avx512f")))

/* lanes 0 .. count − 1 (count ≤ 16) */
static AVX512 inline __attribute__ ((unused)) __mmask16
first_lanes (int count)
{
  return (__mmask16) ((1u << count) - 1);
}

/* ms-kernels.c's exp_approx on 16 lanes: the same clamp, range reduction and polynomial,
 * the scaling by 2^n done by vscalefps; below −87 exactly 0, NaN stays
 * NaN (max/min return their second operand when either is NaN). */
static AVX512 inline __attribute__ ((unused)) __m512
exp16 (__m512 x)
{
  __m512 xc = _mm512_min_ps (_mm512_set1_ps (88.0f), _mm512_max_ps (_mm512_set1_ps (-87.0f), x));
  __m512 n = _mm512_roundscale_ps (_mm512_mul_ps (xc, _mm512_set1_ps (1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps (n, _mm512_set1_ps (0.693145751953125f), xc);
  r = _mm512_fnmadd_ps (n, _mm512_set1_ps (1.428606765330187e-06f), r);
  __m512 p = _mm512_fmadd_ps (r, _mm512_set1_ps (1.0f / 720), _mm512_set1_ps (1.0f / 120));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f / 24));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f / 6));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (0.5f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.0f));
  __mmask16 below = _mm512_cmp_ps_mask (x, _mm512_set1_ps (-87.0f), _CMP_LT_OQ);
  return _mm512_mask_mov_ps (_mm512_scalef_ps (p, n), below, _mm512_setzero_ps ());
}

/* 1/d for finite d ≥ 1: the 14-bit estimate and one Newton step (relative
 * error about 2^-28 before rounding), instead of a division. */
static AVX512 inline __attribute__ ((unused)) __m512
recip16 (__m512 d)
{
  __m512 r = _mm512_rcp14_ps (d);
  return _mm512_fmadd_ps (r, _mm512_fnmadd_ps (d, r, _mm512_set1_ps (1.0f)), r);
}

/* x / (1 + e^(−2u)), u = √(2/π)(x + 0.044715x³), as ms_gelu_tanh. */
static AVX512 inline __attribute__ ((unused)) __m512
gelu_tanh16 (__m512 x)
{
  __m512 t = _mm512_fmadd_ps (_mm512_mul_ps (x, x), _mm512_set1_ps (0.044715f), _mm512_set1_ps (1.0f));
  __m512 minus_2u = _mm512_mul_ps (_mm512_mul_ps (x, t), _mm512_set1_ps (-2.0f * 0.7978845608028654f));
  return _mm512_mul_ps (x, recip16 (_mm512_add_ps (exp16 (minus_2u), _mm512_set1_ps (1.0f))));
}

