/* memscope-causal-bar.h — the workbench's Causal controls: above the causal
 * views (causal, causal-slots, forgetting), a bar that computes run A's
 * causal retention (core/ms-causal.h) on a worker thread, with a progress
 * bar and Cancel, and reloads those views as sources are stored.
 */
#pragma once

#include <adwaita.h>

#include "memscope-run.h"
#include "ms-causal.h"

G_BEGIN_DECLS

#define MEMSCOPE_TYPE_CAUSAL_BAR (memscope_causal_bar_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeCausalBar, memscope_causal_bar, MEMSCOPE, CAUSAL_BAR, GtkBox)

/* Puts a new bar above @view_stack (the window's stack of figure views,
 * whose pages are named by view): the stack is moved into a box with the
 * bar, in its place.  The bar shows while a causal view is the visible
 * page.  Returns the bar (borrowed: the box owns it). */
MemscopeCausalBar *memscope_causal_bar_install (AdwViewStack *view_stack);

/* The run whose causal retention the bar computes ("run" property; NULL
 * for none).  Changing it cancels a computation in flight. */
void memscope_causal_bar_set_run (MemscopeCausalBar *self, MemscopeRun *run);

/* Starts computing the run's causal retention with @replacement and
 * @horizon on a worker thread (the Compute button does this with the bar's
 * choices); a computation already running is left alone.  Progress is shown
 * and "done" emitted on the main thread. */
void memscope_causal_bar_compute (MemscopeCausalBar *self, MsCausalReplacement replacement, int horizon);
/* Stops the computation between sources; what was stored stays. */
void memscope_causal_bar_cancel (MemscopeCausalBar *self);
gboolean memscope_causal_bar_is_busy (MemscopeCausalBar *self);

/* The last computation's outcome: the result and, when it failed or was
 * cancelled, the error (borrowed; NULL when it succeeded). */
const MsCausalResult *memscope_causal_bar_get_result (MemscopeCausalBar *self);
const GError *memscope_causal_bar_get_error (MemscopeCausalBar *self);
/* Replayed segments done and planned, as last reported. */
void memscope_causal_bar_get_progress (MemscopeCausalBar *self, int *done, int *total);

G_END_DECLS
