/* memscope-window-private.h — the window's state, shared by the files
 * that make up the window: memscope-window.c (widgets, timeline, text),
 * memscope-window-open.c (opening files and recording runs) and
 * memscope-window-actions.c (win.* actions).
 *
 * The window's state is its properties (run-a, run-b, compared-run,
 * compare, difference, segment, slot, layer, head, colormap); the views'
 * properties are bound to them, and so are the dropdowns, the timeline's
 * adjustment and the colormap setting, both ways.
 */
#pragma once

#include <adwaita.h>

#include "memscope-causal-bar.h"
#include "memscope-text-pane.h"
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
  GtkWidget *layer_group;      /* label + dropdown, hidden on views without layers */
  GtkWidget *head_group;
  GtkMenuButton *view_menu_button;   /* the views as a menu, on narrow windows */
  GMenu *view_menu;
  GtkButton *play_button;
  GtkDropDown *speed_dropdown;
  AdwViewStack *view_stack;
  MemscopeTextPane *text_pane;
  GtkAdjustment *segment_adjustment;
  GtkLabel *segment_label;
  GMenu *recent_menu;          /* filled by memscope-window-open.c */
  GMenu *recordings_menu;      /* the recordings in the recordings folder, ditto */

  /* Borrowed: the stack owns them */
  MemscopeFigureView *views[MS_VIEW_N_KINDS];
  MemscopeCausalBar *causal_bar;   /* above the causal views (memscope-causal-bar.c) */

  /* Owned */
  GListStore *runs;            /* MemscopeRun, newest first: the run A / run B dropdowns' model */
  MemscopeRun *run_a;          /* the "run-a" property, NULL = none */
  MemscopeRun *run_b;          /* the "run-b" property, NULL = none; may equal run_a */
  MemscopeRun *compared;       /* the "compared-run" property: run B when comparing and B ≠ A */
  GCancellable *cancellable;   /* for the recordings */
  GSettings *settings;
  char *input_path;            /* the current input */
  GPtrArray *pending_models;   /* char *: models opened before any input, recorded once one is */
  gboolean temporary;          /* record into temporary files (the demo), not the recordings folder */
  char *error;
  char *restore_view;          /* a saved session being reopened: its view, NULL when none … */
  int restore_segment;         /* … its segment and whether it compared, shown once its */
  gboolean restore_compare;    /* recordings have opened */

  int segment;
  int slot;
  int layer;                   /* −1: the last */
  int head;                    /* −1: mean over heads */
  MsColormap cmap;
  int opening;                 /* recordings being opened on worker threads */
  guint refresh_source;
  guint play_source;
  gboolean compare;
  gboolean difference;         /* compare && A − B shown */
};

/* Rebuilds the Open Recent menu from GtkRecentManager (the files this
 * application opened, newest first); connected to its "changed" signal. */
void _memscope_window_update_recent_menu (MemscopeWindow *self);

/* Rebuilds the Recordings menu from the recordings folder, newest first. */
void _memscope_window_update_recordings_menu (MemscopeWindow *self);

/* The progress strip and the actions' enabled state. */
void _memscope_window_update_progress (MemscopeWindow *self);
/* Run A, run B ("run-a", "run-b"; NULL = none): the views follow through
 * their bindings, the dropdowns, text and choices through the window. */
void _memscope_window_set_run_a (MemscopeWindow *self, MemscopeRun *run);
void _memscope_window_set_run_b (MemscopeWindow *self, MemscopeRun *run);
/* memscope-window-controls.c: binds the tool row's dropdowns, the
 * timeline's adjustment and the colormap setting to the window's
 * properties (from init); refreshes the timeline's range and labels, and
 * the layer and head choices of the runs shown. */
void _memscope_window_bind_controls (MemscopeWindow *self);
void _memscope_window_update_timeline (MemscopeWindow *self);
void _memscope_window_update_attention_choices (MemscopeWindow *self);
/* New segments arrived: reload the views now (a GSourceFunc), or soon. */
gboolean _memscope_window_refresh_now (gpointer self);
void _memscope_window_schedule_refresh (MemscopeWindow *self);

G_END_DECLS
