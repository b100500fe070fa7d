/* ms-engines-private.h — the built-in engines of the table in ms-engine.c
 * (DESIGN §4), one file each in this folder.  Not installed. */
#pragma once

#include "ms-engine.h"
#include "ms-kernels.h"

extern const MsEngine ms_memformer_engine;   /* ms-memformer.c, DESIGN §3.1 */
extern const MsEngine ms_rmt_engine;         /* ms-rmt.c, DESIGN §3.2 */
extern const MsEngine ms_membart_engine;     /* ms-membart.c, core/README.md "MemBART" */
