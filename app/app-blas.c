/* app-blas.c — re-executing with a better OpenBLAS kernel set. */
#include "app-blas.h"

#include <glib.h>
#include <unistd.h>

#include "ms-blas.h"

void
app_use_fast_blas (char **argv)
{
  const char *coretype = ms_blas_better_coretype ();
  if (!coretype)
    return;
  g_setenv ("OPENBLAS_CORETYPE", coretype, TRUE);
  execv ("/proc/self/exe", argv);
  /* execv returns only on failure: keep going with the kernels we have */
}
