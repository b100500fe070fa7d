/* ms-figure.h — the figure library (memscope-ui-render) in one include.
 *
 * Figures are plain functions of a cairo context, a size in points and
 * prepared data (DESIGN §1, §7): the CLI exports them, the GTK workbench
 * shows them, the tests draw them into image surfaces.  No GTK here.
 */
#pragma once

#include "ms-axes.h"
#include "ms-colorbar.h"
#include "ms-colormap.h"
#include "ms-compare.h"
#include "ms-export.h"
#include "ms-figure-error.h"
#include "ms-heatmap.h"
#include "ms-label.h"
#include "ms-legend.h"
#include "ms-plots.h"
