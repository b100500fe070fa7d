/* ms-error.c — the MS_ERROR domain. */
#include "ms-error.h"

G_DEFINE_QUARK (memscope-error-quark, ms_error)
