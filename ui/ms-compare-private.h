/* ms-compare-private.h — what the tests see of the comparison figure's
 * caches.  Not part of the public API. */
#pragma once

#include "ms-compare.h"

G_BEGIN_DECLS

/* Panel @panel's (0 A, 1 B, 2 A − B) cell image as the last draw left it,
 * NULL before the first draw or after a change; borrowed. */
cairo_surface_t *ms_compare_peek_image (const MsCompare *cmp, int panel);

G_END_DECLS
