/* ms-blas.c — OpenBLAS kernel selection (see ms-blas.h). */
#include "ms-blas.h"

#include <string.h>

char *openblas_get_corename (void);   /* an OpenBLAS extension, not in cblas.h */

const char *
ms_blas_core_name (void)
{
  return openblas_get_corename ();
}

const char *
ms_blas_better_coretype (void)
{
  if (g_getenv ("OPENBLAS_CORETYPE"))
    return NULL;
  /* OpenBLAS's x86-64 cores without AVX2 kernels: its fallbacks. */
  static const char *const pre_avx2[] = { "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom",
                                          "Barcelona", "Opteron", "Opteron_SSE3", "Bobcat", "Sandybridge",
                                          "Bulldozer", "Piledriver", "Steamroller", "Excavator" };
  const char *core = ms_blas_core_name ();
  gboolean fallback = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (pre_avx2); i++)
    fallback |= g_ascii_strcasecmp (core, pre_avx2[i]) == 0;
  if (!fallback)
    return NULL;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512dq") && __builtin_cpu_supports ("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
#endif
  return NULL;
}
