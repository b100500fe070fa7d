/* ms-blas.h — making sure OpenBLAS uses the kernels this CPU can run.
 *
 * OpenBLAS 0.3.21 (Debian 12) picks its kernels at load time from the CPU
 * model; on CPUs newer than it knows (recent Xeons among them) it falls
 * back to its Prescott (SSE3) kernels, which run sgemm several times slower
 * than the AVX2/AVX-512 kernels the same library ships.  The choice can only be
 * overridden by OPENBLAS_CORETYPE before the library loads, so the entry
 * points (app/) ask ms_blas_better_coretype() first thing and, when it
 * names a better kernel set, re-execute themselves with it set.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The OPENBLAS_CORETYPE that would serve this CPU better than OpenBLAS's
 * own choice ("SkylakeX" for AVX-512, "Haswell" for AVX2+FMA), or NULL
 * when its choice stands: it chose a vector core, the CPU lacks AVX2, or
 * the user set OPENBLAS_CORETYPE. */
const char *ms_blas_better_coretype (void);

/* The kernel set OpenBLAS is using, e.g. "SkylakeX". */
const char *ms_blas_core_name (void);

G_END_DECLS
