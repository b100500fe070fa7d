/* memscope-text-pane.h — the workbench's input text: one run's input cut
 * into that run's segments by its model's tokens, the current segment
 * highlighted and its tokens coloured by a recorded quantity, with Ctrl+F
 * search, a tooltip per token and click-to-step.
 *
 * The pane's state is its properties: "run" (whose text, tokens and
 * colours it shows; NULL = none), "compared-run" (the other run while the
 * window compares, NULL otherwise: the caption then names the run that
 * colours the text), "segment" and "slot" (the window's, bound to it).
 * Everything it reads — the text, the tokens, the values that colour them
 * — is read on worker threads, each on a connection of its own; the pane
 * shows the older text meanwhile (memscope_text_pane_get_loading).
 * Clicking a segment, or finding text in one, emits "segment-activated"
 * with its index: the window steps there.
 */
#pragma once

#include <gtk/gtk.h>

#include "memscope-run.h"

G_BEGIN_DECLS

#define MEMSCOPE_TYPE_TEXT_PANE (memscope_text_pane_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeTextPane, memscope_text_pane, MEMSCOPE, TEXT_PANE, GtkWidget)

GtkWidget *memscope_text_pane_new (void);

void memscope_text_pane_set_run (MemscopeTextPane *self, MemscopeRun *run);
MemscopeRun *memscope_text_pane_get_run (MemscopeTextPane *self);            /* borrowed */
void memscope_text_pane_set_compared_run (MemscopeTextPane *self, MemscopeRun *run);
void memscope_text_pane_set_segment (MemscopeTextPane *self, int segment);
void memscope_text_pane_set_slot (MemscopeTextPane *self, int slot);

/* The run recorded more segments: read the text and colours again when
 * they changed. */
void memscope_text_pane_reload (MemscopeTextPane *self);

/* The text (borrowed). */
GtkTextBuffer *memscope_text_pane_get_buffer (MemscopeTextPane *self);
/* The caption above the text: what colours the tokens and, comparing,
 * which run's they are (borrowed). */
const char *memscope_text_pane_get_caption (MemscopeTextPane *self);
/* TRUE while the text or the current segment's colours load. */
gboolean memscope_text_pane_get_loading (MemscopeTextPane *self);
/* The characters [*@start, *@end) of the current segment; FALSE when the
 * text has no such segment (yet). */
gboolean memscope_text_pane_get_highlight (MemscopeTextPane *self, int *start, int *end);
/* The segment holding character @offset, −1 when none. */
int memscope_text_pane_segment_at_offset (MemscopeTextPane *self, int offset);
/* The tooltip at character @offset: its segment and place, and what the
 * pane knows of its token (owned; NULL off the text). */
char *memscope_text_pane_describe_offset (MemscopeTextPane *self, int offset);

/* Finds @text (case-sensitive): with @next the match after the one
 * selected, else the first; wraps around.  Selects it, scrolls to it and
 * emits "segment-activated" for its segment; FALSE when there is none. */
gboolean memscope_text_pane_find (MemscopeTextPane *self, const char *text, gboolean next);
/* Shows the search bar and focuses its entry (Ctrl+F). */
void memscope_text_pane_start_search (MemscopeTextPane *self);

G_END_DECLS
