/* ms-figure-error.c — the MS_FIGURE_ERROR domain. */
#include "ms-figure-error.h"

G_DEFINE_QUARK (memscope-figure-error-quark, ms_figure_error)
