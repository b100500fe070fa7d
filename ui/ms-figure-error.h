/* ms-figure-error.h — the error domain of the figure library (ui/).
 *
 * Functions that can fail on bad input (a name, a size, a path, a data
 * shape) return FALSE or NULL and fill a GError in MS_FIGURE_ERROR whose
 * message says what was wrong and what would be accepted.  The library never
 * exits or aborts on bad input; asserts guard programmer errors only.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MS_FIGURE_ERROR (ms_figure_error_quark ())

typedef enum {
  MS_FIGURE_ERROR_IO,        /* the figure file could not be written */
  MS_FIGURE_ERROR_FORMAT,    /* unknown file format (extension) */
  MS_FIGURE_ERROR_PRESET,    /* unknown size preset or malformed custom size */
  MS_FIGURE_ERROR_COLORMAP,  /* unknown colormap name */
  MS_FIGURE_ERROR_INPUT,     /* unusable data shape, size or resolution */
  MS_FIGURE_ERROR_DRAW,      /* cairo reported an error while drawing */
} MsFigureErrorCode;

GQuark ms_figure_error_quark (void);

G_END_DECLS
