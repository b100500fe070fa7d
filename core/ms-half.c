/* ms-half.c — half ↔ single conversions, by bit manipulation so they do not
 * depend on compiler support for _Float16. */
#include "ms-half.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define MS_HAVE_F16C_PATH 1
#endif

float
ms_half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0)
    {
      float f = ldexpf ((float) mant, -24);
      return sign ? -f : f;
    }
  else if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

uint16_t
ms_float_to_half (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  uint16_t sign = (uint16_t) ((x >> 16) & 0x8000);
  uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u)
    return sign | 0x7e00;                        /* NaN */
  if (abs >= 0x477ff000u)
    return sign | 0x7c00;                        /* ≥ 65520 rounds to inf */
  if (abs < 0x38800000u)
    {
      /* subnormal half (or zero): value = mant · 2^-24 */
      float a;
      memcpy (&a, &abs, 4);
      return sign | (uint16_t) lrintf (a * 16777216.0f);   /* rint = nearest even */
    }
  uint32_t mant = abs & 0x7fffff;
  uint32_t exp = (abs >> 23) - 112;
  uint32_t half = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    half++;                                      /* may carry into the exponent: correct */
  return sign | (uint16_t) half;
}

#ifdef MS_HAVE_F16C_PATH
/* vcvtps2ph with rounding to nearest even: the same results as
 * ms_float_to_half, overflow to ±inf and subnormals included. */
__attribute__ ((target ("avx,f16c"))) static void
floats_to_half_f16c (const float *src, uint16_t *dst, size_t n)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128 ((__m128i *) (dst + i), _mm256_cvtps_ph (_mm256_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++)
    dst[i] = ms_float_to_half (src[i]);
}
#endif

#ifdef MS_HAVE_F16C_PATH
/* CPUID.1:ECX has F16C (bit 29), AVX (28) and OSXSAVE (27); XCR0 must show
 * the OS saves the YMM state (bits 1 and 2).  (clang's
 * __builtin_cpu_supports does not know "f16c".) */
static gboolean
cpu_has_f16c (void)
{
  static gsize checked;
  static gboolean has;
  if (g_once_init_enter (&checked))
    {
      unsigned a, b, c, d;
      if (__get_cpuid (1, &a, &b, &c, &d) && (c & (1u << 29)) && (c & (1u << 28)) && (c & (1u << 27)))
        {
          unsigned lo, hi;
          __asm__ ("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
          has = (lo & 6) == 6;
        }
      g_once_init_leave (&checked, 1);
    }
  return has;
}
#endif

int
ms_half_bulk_uses_f16c (void)
{
#ifdef MS_HAVE_F16C_PATH
  return cpu_has_f16c ();
#else
  return 0;
#endif
}

void
ms_floats_to_half_le (const float *src, uint16_t *dst, size_t n)
{
#ifdef MS_HAVE_F16C_PATH
  if (cpu_has_f16c ())
    {
      floats_to_half_f16c (src, dst, n);
      return;
    }
#endif
  for (size_t i = 0; i < n; i++)
    dst[i] = GUINT16_TO_LE (ms_float_to_half (src[i]));
}
