/* memscope-text-pane-private.h — what the text pane's files share: the
 * pane's state, what it knows of the current segment's tokens, and the
 * functions one concept's file offers the others.  By concept:
 * memscope-text-pane.c (the widget: state, pointer, GObject),
 * memscope-text-pane-loading.c (the text and its segments, read on a
 * worker thread), memscope-text-pane-tokens.c (the current segment's
 * tokens, read on a worker thread, tagged, underlined and their colour
 * scale's legend) and memscope-text-pane-search.c (Ctrl+F). */
#pragma once

#include "memscope-text-pane.h"
#include "ms-view.h"

G_BEGIN_DECLS

/* What the pane knows of the current segment's tokens (a TokenJob's result). */
typedef struct {
  int segment;
  int start, end;       /* the segment's characters in the text */
  int n;                /* tokens */
  int *char_start;      /* (n) each token's characters in the text: [char_start, char_end) */
  int *char_end;
  float *nll;           /* (n) nats, NaN: no prediction; NULL: not recorded */
  float nll_top;        /* the NLL scale's top: ln V */
  float *memory;        /* (n) the memory colouring's values, attention weights in [0, 1]; NULL: none */
  const char *memory_what;
  int slot;             /* memory: written into this slot; −1: how strongly each token reads memory */
  MsViewData *reads;    /* the read attention of the segment (last layer, mean over heads); NULL: none */
  int other_n;          /* comparing: the other run's tokens of the same segment, when it holds the same */
  int *other_start;     /* text (0: none) — (other_n) their characters in the text, as above */
  int *other_end;
} SegmentTokens;

/* Frees @t (may be NULL). */
void _memscope_text_pane_tokens_free (SegmentTokens *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SegmentTokens, _memscope_text_pane_tokens_free)

struct _MemscopeTextPane {
  GtkWidget parent_instance;

  /* Template children (borrowed) */
  GtkLabel *caption;
  GtkDrawingArea *legend;
  GtkDropDown *source_dropdown;
  GtkDropDown *colouring_dropdown;
  GtkSearchBar *search_bar;
  GtkSearchEntry *search_entry;
  GtkTextView *text_view;

  /* Owned */
  MemscopeRun *run;
  MemscopeRun *compared;
  GArray *segment_offsets;     /* int: character offset of each segment start in the text, and the end */
  char *text_key;              /* which run/segment_len the text was built for */
  char *text_loading;          /* … and is being read for, NULL when none */
  SegmentTokens *tokens;       /* the current segment's, NULL: none (yet) */

  int segment;
  int slot;
  MemscopeTextColouring colouring;
  int source;                  /* 0: run, 1: the compared run colours the text */
  guint token_serial;          /* of the newest token job asked for … */
  guint token_shown;           /* … and of the one shown */
  int token_segment;           /* the segment the newest token job reads */
  int tagged_start;            /* the characters that carry token tags: [start, end) */
  int tagged_end;
  int hovered;                 /* token of tokens under the pointer, −1: none … */
  int hovered_other;           /* … and the other run's token holding its first character */
  gboolean disposed;
};

/* memscope-text-pane.c */

/* The run whose text, tokens and colours are shown. */
MemscopeRun *_memscope_text_pane_shown_run (MemscopeTextPane *self);
/* Emits "segment-activated" for @segment. */
void _memscope_text_pane_activate_segment (MemscopeTextPane *self, int segment);

/* memscope-text-pane-loading.c */

/* Appends @len bytes at @bytes to @out as valid UTF-8, each byte that
 * begins no valid character (NUL included) as U+FFFD, and returns the
 * characters appended.  @starts_before (may be NULL; @len + 1 entries)
 * receives, for each byte offset b, how many of those characters begin
 * before b: token [s, e) of the bytes covers characters
 * [starts_before[s + 1] − 1, starts_before[e]). */
int _memscope_text_pane_append_valid (GString *out, const char *bytes, gsize len, int *starts_before);
/* Shows the input text of the run shown (read on a worker thread) unless
 * it is shown or being read already. */
void _memscope_text_pane_update_text (MemscopeTextPane *self);
/* Marks the current segment's characters and scrolls to them. */
void _memscope_text_pane_update_highlight (MemscopeTextPane *self);

/* memscope-text-pane-tokens.c */

#define MEMSCOPE_TYPE_TOKEN_VIEW (memscope_token_view_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeTokenView, memscope_token_view, MEMSCOPE, TOKEN_VIEW, GtkTextView)
/* The pane whose tokens @view underlines (borrowed; NULL: none). */
void _memscope_token_view_set_pane (MemscopeTokenView *view, MemscopeTextPane *pane);

/* Creates the tags that colour and mark tokens in @buffer. */
void _memscope_text_pane_create_token_tags (GtkTextBuffer *buffer);
/* Reads the current segment's tokens on a worker thread; the newest
 * request wins. */
void _memscope_text_pane_update_tokens (MemscopeTextPane *self);
/* Tags the current segment's tokens: the colouring's steps, the hovered
 * token; and the caption. */
void _memscope_text_pane_apply_token_tags (MemscopeTextPane *self);
/* The caption and the legend, from what colours the tokens. */
void _memscope_text_pane_update_caption (MemscopeTextPane *self);
/* The token of the current segment holding character @offset, −1 when none. */
int _memscope_text_pane_token_at_offset (MemscopeTextPane *self, int offset);
/* Applies the tag @name to the characters [@start, @end). */
void _memscope_text_pane_tag_range (GtkTextBuffer *buffer, const char *name, int start, int end);
/* The legend's draw function (GtkDrawingAreaDrawFunc; @data: the pane). */
void _memscope_text_pane_draw_legend (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data);

/* memscope-text-pane-search.c */

/* Connects the search bar and its entry. */
void _memscope_text_pane_init_search (MemscopeTextPane *self);

G_END_DECLS
