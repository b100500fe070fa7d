/* ms-error.h — the error domain of the Memscope core.
 *
 * Every core function that can fail on bad input returns a status (FALSE or
 * NULL) and fills a GError in MS_ERROR whose message names the file, the
 * tensor or the setting that was wrong and what was expected.  Library code
 * never exits or aborts on bad input.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MS_ERROR (ms_error_quark ())

typedef enum {
  MS_ERROR_IO,        /* the file could not be read or written */
  MS_ERROR_FORMAT,    /* not a well-formed safetensors / state file */
  MS_ERROR_MODEL,     /* well-formed, but not a usable Memscope model */
  MS_ERROR_INPUT,     /* the text or tokens to run are unusable */
  MS_ERROR_STATE,     /* a saved session state does not fit this model */
  MS_ERROR_CANCELLED, /* the caller cancelled a run between segments */
} MsErrorCode;

GQuark ms_error_quark (void);

G_END_DECLS
