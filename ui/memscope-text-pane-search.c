/* memscope-text-pane-search.c — Ctrl+F in the text pane: the search bar
 * finds text in the input (case-sensitive, wrapping around), selects and
 * scrolls to it, and the window steps to the segment that holds it. */
#include "memscope-text-pane-private.h"

gboolean
memscope_text_pane_find (MemscopeTextPane *self, const char *text, gboolean next)
{
  if (!text || !*text)
    return FALSE;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter from, match_start, match_end, sel_start, sel_end;
  gtk_text_buffer_get_start_iter (buffer, &from);
  if (next && gtk_text_buffer_get_selection_bounds (buffer, &sel_start, &sel_end))
    {
      from = sel_start;
      gtk_text_iter_forward_char (&from);
    }
  if (!gtk_text_iter_forward_search (&from, text, 0, &match_start, &match_end, NULL))
    {
      gtk_text_buffer_get_start_iter (buffer, &from);   /* wrap around */
      if (!gtk_text_iter_forward_search (&from, text, 0, &match_start, &match_end, NULL))
        return FALSE;
    }
  gtk_text_buffer_select_range (buffer, &match_start, &match_end);
  gtk_text_view_scroll_to_iter (self->text_view, &match_start, 0.1, FALSE, 0, 0);
  int t = memscope_text_pane_segment_at_offset (self, gtk_text_iter_get_offset (&match_start));
  if (t >= 0)
    _memscope_text_pane_activate_segment (self, t);
  return TRUE;
}

static void
on_search_changed (GtkSearchEntry *entry, MemscopeTextPane *self)
{
  memscope_text_pane_find (self, gtk_editable_get_text (GTK_EDITABLE (entry)), FALSE);
}

static void
on_search_activate (GtkSearchEntry *entry, MemscopeTextPane *self)
{
  memscope_text_pane_find (self, gtk_editable_get_text (GTK_EDITABLE (entry)), TRUE);
}

void
memscope_text_pane_start_search (MemscopeTextPane *self)
{
  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

void
_memscope_text_pane_init_search (MemscopeTextPane *self)
{
  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));
  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect (self->search_entry, "activate", G_CALLBACK (on_search_activate), self);
}
