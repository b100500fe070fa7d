/* ms-engines-private.h — the built-in engines of the table in ms-engine.c
 * (DESIGN §4), one file each in this folder, and what they share.  Not
 * installed. */
#pragma once

#include "ms-engine.h"
#include "ms-kernels.h"

extern const MsEngine ms_memformer_engine;   /* ms-memformer.c, DESIGN §3.1 */
extern const MsEngine ms_rmt_engine;         /* ms-rmt.c, DESIGN §3.2 */

typedef struct { MsAffine q, k, v, o; } MsAttnProj;

/* An engine's own settings, which live in MsConfig.settings. */
#define MS_ENGINE_SETTINGS(type, c) \
  (G_STATIC_ASSERT_EXPR (sizeof (type) <= sizeof ((c)->settings)), (type *) &(c)->settings)
