/* app-blas.h — what both entry points do first: make OpenBLAS use the
 * CPU's vector kernels (see core/ms-blas.h). */
#pragma once

/* When OpenBLAS fell back to kernels older than the CPU, re-executes the
 * program with OPENBLAS_CORETYPE set to the better kernel set; returns only
 * when nothing needs doing or the re-exec failed (then runs on as is). */
void app_use_fast_blas (char **argv);
