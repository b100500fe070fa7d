/* memscope-squeezer.h — shows the first of its children that fits.
 *
 * A container for a header bar's title (GTK 4.8 has no adaptive widgets
 * without libadwaita): its minimum width is its last child's, its natural
 * width its first child's, and at each allocation it shows the first child
 * whose minimum width fits, hiding the others (child-visible).  So the
 * full view switcher shows on wide windows and a compact menu on narrow
 * ones, and the window's minimum width does not depend on the wide one.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MEMSCOPE_TYPE_SQUEEZER (memscope_squeezer_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeSqueezer, memscope_squeezer, MEMSCOPE, SQUEEZER, GtkWidget)

GtkWidget *memscope_squeezer_new (void);
/* Appends @child, widest first (GtkBuildable: <child> elements do this). */
void memscope_squeezer_add (MemscopeSqueezer *self, GtkWidget *child);
/* The child shown at the last allocation (borrowed), NULL before one. */
GtkWidget *memscope_squeezer_get_shown (MemscopeSqueezer *self);

G_END_DECLS
