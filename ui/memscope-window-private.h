/* memscope-window-private.h — the window's state, shared by the files
 * that make up the window: memscope-window.c (widgets, timeline, text),
 * memscope-window-open.c (opening files and recording runs) and
 * memscope-window-actions.c (win.* actions).
 */
#pragma once

#include "memscope-window.h"

G_BEGIN_DECLS

struct _MemscopeWindow {
  GtkApplicationWindow parent_instance;

  /* Template children (borrowed) */
  GtkRevealer *error_revealer;
  GtkLabel *error_label;
  GtkRevealer *progress_revealer;
  GtkLabel *progress_label;
  GtkProgressBar *progress_bar;
  GtkDropDown *run_a_dropdown;
  GtkDropDown *run_b_dropdown;
  GtkDropDown *layer_dropdown;
  GtkDropDown *head_dropdown;
  GtkDropDown *colormap_dropdown;
  GtkLabel *selection_label;
  GtkStack *view_stack;
  GtkTextView *text_view;
  GtkLabel *text_legend;
  GtkAdjustment *segment_adjustment;
  GtkLabel *segment_label;
  GMenu *recent_menu;          /* filled by memscope-window-open.c */

  /* Borrowed: the stack owns them */
  MemscopeFigureView *views[MS_VIEW_N_KINDS];

  /* Owned */
  GPtrArray *runs;             /* MemscopeRun, newest first */
  GCancellable *cancellable;   /* for the recordings */
  GSettings *settings;
  GArray *segment_offsets;     /* int: character offset of each segment start in the text, and the end */
  char *input_path;            /* the current input */
  char *text_run_key;          /* which run/segment_len the text was built for */
  char *error;

  int run_a, run_b;            /* indices into runs, −1 = none */
  int segment;
  int slot;
  guint refresh_source;
  guint play_source;
  gboolean compare;
  gboolean difference;
  gboolean updating;           /* guards widget → state feedback */
};

/* Rebuilds the Open Recent menu from GtkRecentManager (the files this
 * application opened, newest first); connected to its "changed" signal. */
void _memscope_window_update_recent_menu (MemscopeWindow *self);

/* Hands the runs shown to every view and refreshes what depends on them. */
void _memscope_window_update_views (MemscopeWindow *self);
/* The progress strip and the actions' enabled state. */
void _memscope_window_update_progress (MemscopeWindow *self);
/* The run A / run B choices from self->runs. */
void _memscope_window_update_run_choices (MemscopeWindow *self);
/* New segments arrived: reload the views now (a GSourceFunc), or soon. */
gboolean _memscope_window_refresh_now (gpointer self);
void _memscope_window_schedule_refresh (MemscopeWindow *self);

G_END_DECLS
