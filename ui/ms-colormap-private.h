/* ms-colormap-private.h — the tables behind ms-colormap.c (not installed). */
#pragma once

extern const float ms_colormap_viridis[256][3];  /* (256, rgb) */
extern const float ms_colormap_magma[256][3];    /* (256, rgb) */
extern const float ms_colormap_cividis[256][3];  /* (256, rgb) */
