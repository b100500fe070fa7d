/* memscope-text-pane.h — the workbench's input text: one run's input cut
 * into that run's segments by its model's tokens, the current segment
 * highlighted, its token boundaries underlined (two colours by turns) and
 * its tokens coloured by memory or by NLL with a legend of the scale;
 * hovering a token marks it and tells its NLL and how it reads each slot;
 * Ctrl+F search and click-to-step.
 *
 * The pane's state is its properties: "run" (NULL = none), "compared-run"
 * (the other run while the window compares, NULL otherwise), "source" (0:
 * "run" colours the text, 1: "compared-run" does — the pane then shows
 * that run's text, segments and tokens; a switch beside the caption, shown
 * while comparing, sets it, and the caption names the run), "segment" and
 * "slot" (the window's, bound to it) and "colouring".
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

/* What colours the current segment's tokens ("colouring"). */
typedef enum {
  MEMSCOPE_TEXT_COLOUR_MEMORY,   /* how strongly each reads memory, or with a slot selected how much of
                                    each was written into it (ms_view_token_values) */
  MEMSCOPE_TEXT_COLOUR_NLL,     /* its NLL, on a scale from 0 to ln V nats */
} MemscopeTextColouring;

GtkWidget *memscope_text_pane_new (void);

void memscope_text_pane_set_run (MemscopeTextPane *self, MemscopeRun *run);
MemscopeRun *memscope_text_pane_get_run (MemscopeTextPane *self);            /* borrowed */
void memscope_text_pane_set_compared_run (MemscopeTextPane *self, MemscopeRun *run);
void memscope_text_pane_set_segment (MemscopeTextPane *self, int segment);
void memscope_text_pane_set_slot (MemscopeTextPane *self, int slot);
void memscope_text_pane_set_colouring (MemscopeTextPane *self, MemscopeTextColouring colouring);
MemscopeTextColouring memscope_text_pane_get_colouring (MemscopeTextPane *self);
/* 0: "run" colours the text; 1: "compared-run" does, while there is one. */
void memscope_text_pane_set_source (MemscopeTextPane *self, int source);
/* The run whose text and tokens are shown (borrowed; NULL: none). */
MemscopeRun *memscope_text_pane_get_shown_run (MemscopeTextPane *self);

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

/* The current segment's tokens, once read (0 before): token @token covers
 * the characters [*@start, *@end) of the text; FALSE when there is no such
 * token. */
int memscope_text_pane_get_n_tokens (MemscopeTextPane *self);
gboolean memscope_text_pane_get_token_range (MemscopeTextPane *self, int token, int *start, int *end);
/* What the pointer at character @offset (−1: off the text) does: marks
 * the current segment's token there and emits "token-hovered" (segment,
 * token; −1, −1 off the tokens) when that changed. */
void memscope_text_pane_hover_offset (MemscopeTextPane *self, int offset);
/* The hovered token of the current segment, −1 when none. */
int memscope_text_pane_get_hovered_token (MemscopeTextPane *self);
/* … as a token of @run's: of the run shown, the hovered token; of the
 * other run compared, its token of the same segment that holds the
 * hovered token's first character, when that segment holds the same text
 * in both runs; −1 otherwise. */
int memscope_text_pane_get_hovered_token_of (MemscopeTextPane *self, MemscopeRun *run);
/* The text view and the colour scale's legend (borrowed), for screenshots. */
GtkTextView *memscope_text_pane_get_text_view (MemscopeTextPane *self);
GtkWidget *memscope_text_pane_get_legend (MemscopeTextPane *self);

/* Finds @text (case-sensitive): with @next the match after the one
 * selected, else the first; wraps around.  Selects it, scrolls to it and
 * emits "segment-activated" for its segment; FALSE when there is none. */
gboolean memscope_text_pane_find (MemscopeTextPane *self, const char *text, gboolean next);
/* Shows the search bar and focuses its entry (Ctrl+F). */
void memscope_text_pane_start_search (MemscopeTextPane *self);

G_END_DECLS
