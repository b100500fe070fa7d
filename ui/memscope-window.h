/* memscope-window.h — the workbench window: runs, views, the segment
 * timeline and the input text.
 *
 * The window holds the runs it shows (recorded on worker threads or read
 * from databases), run A and run B, the current segment and the selected
 * slot, and one MemscopeFigureView per view kind in a stack.  Its win.*
 * actions (memscope-window-actions.c) step through segments, play, switch
 * views, compare, export and cancel; tests drive it through them.
 */
#pragma once

#include <gtk/gtk.h>

#include "memscope-figure-view.h"
#include "memscope-run.h"
#include "memscope-text-pane.h"

G_BEGIN_DECLS

#define MEMSCOPE_TYPE_WINDOW (memscope_window_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeWindow, memscope_window, MEMSCOPE, WINDOW, GtkApplicationWindow)

MemscopeWindow *memscope_window_new (GtkApplication *app);

/* The folder of the bundled demo: $MEMSCOPE_DATA_DIR, else the source
 * tree's resources/ (compile-time). */
const char *memscope_data_dir (void);

/* Records the bundled Memformer and RMT language models on the demo text (a
 * held-out English document, thousands of segments) and compares them.
 * Missing files are reported in the window. */
void memscope_window_open_demo (MemscopeWindow *self);

/* The same with the copy-task models on two copy instances (12 segments). */
void memscope_window_open_copy_demo (MemscopeWindow *self);

/* Opens models (.safetensors), inputs (any other file) and recordings
 * (.sqlite, .db): models are recorded on the input given (or the current
 * one), an input alone re-records the shown models on it, recordings show
 * their runs (read on a worker thread: they appear when read, and the
 * window is busy until then).  Problems appear in the window's error
 * banner. */
void memscope_window_open_files (MemscopeWindow *self, GFile **files, int n_files);

/* The folder the workbench records into: g_get_user_data_dir()/memscope/recordings. */
char *memscope_recordings_dir (void);

/* Copies run A's recording (complete or stopped, not while it records) to
 * @dest on a worker thread; on success @dest is added to Open Recent. */
void memscope_window_save_recording_async (MemscopeWindow *self, GFile *dest, GAsyncReadyCallback callback,
                                           gpointer user_data);
gboolean memscope_window_save_recording_finish (MemscopeWindow *self, GAsyncResult *result, GError **error);

/* Export All…: every view of what the window shows (run A, or run A and
 * the compared run, with A − B where the shapes allow) at its segment,
 * slot, layer, head and colormap, each to @path with "-VIEW" before the
 * extension (ms_figure_path_for_view), drawn on a worker thread. */
void memscope_window_export_all_async (MemscopeWindow *self, const char *path, double width_in, double height_in,
                                       double dpi, GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean memscope_window_export_all_finish (MemscopeWindow *self, GAsyncResult *result, GError **error);

/* Saves the window's size, the recordings it shows (not temporary ones)
 * and where it was in them — the view, the segment, whether it compared —
 * in GSettings ("window-width", "window-height", "window-maximized",
 * "open-recordings", "view", "segment", "compare"); done when the window
 * closes. */
void memscope_window_save_session (MemscopeWindow *self);
/* Opens the recordings saved by memscope_window_save_session() that still
 * exist and, once they have opened, shows the view, segment (clamped to
 * run A's) and comparison saved with them; FALSE when there are none (the
 * window is unchanged). */
gboolean memscope_window_restore_session (MemscopeWindow *self);

/* Shows @message in the error banner (NULL hides it). */
void memscope_window_show_error (MemscopeWindow *self, const char *message);
/* The banner's message, or NULL when hidden.  Borrowed. */
const char *memscope_window_get_error (MemscopeWindow *self);

/* TRUE while a run is being recorded or recordings are being opened. */
gboolean memscope_window_is_busy (MemscopeWindow *self);
guint memscope_window_get_n_runs (MemscopeWindow *self);
/* The Open Recent menu: items with action win.open-recent and a URI target.  Borrowed. */
GMenuModel *memscope_window_get_recent_menu (MemscopeWindow *self);
/* The Recordings menu: the recordings folder's newest recordings (win.open-recent, file URIs). */
GMenuModel *memscope_window_get_recordings_menu (MemscopeWindow *self);
MemscopeRun *memscope_window_get_run (MemscopeWindow *self, guint index);   /* borrowed */
/* Run A and run B (borrowed; B NULL when there is only one run). */
MemscopeRun *memscope_window_get_run_a (MemscopeWindow *self);
MemscopeRun *memscope_window_get_run_b (MemscopeWindow *self);

int memscope_window_get_segment (MemscopeWindow *self);
int memscope_window_get_n_segments (MemscopeWindow *self);   /* of run A, committed */
void memscope_window_set_segment (MemscopeWindow *self, int segment);
int memscope_window_get_slot (MemscopeWindow *self);
void memscope_window_set_slot (MemscopeWindow *self, int slot);

/* The view of @kind, and the one on screen (borrowed). */
MemscopeFigureView *memscope_window_get_view (MemscopeWindow *self, MsViewKind kind);
MemscopeFigureView *memscope_window_get_visible_view (MemscopeWindow *self);

/* The input text pane (borrowed), bound to the window's run A, compared
 * run, segment and slot; the functions below ask it. */
MemscopeTextPane *memscope_window_get_text_pane (MemscopeWindow *self);
/* The input text and the character range of the current segment in it. */
GtkTextBuffer *memscope_window_get_text_buffer (MemscopeWindow *self);
/* The caption above the text: what colours the tokens, and, comparing,
 * that they are run A's (borrowed). */
const char *memscope_window_get_text_caption (MemscopeWindow *self);
/* TRUE while the input text or the current segment's token colours load
 * (on worker threads); the text shows the older ones meanwhile. */
gboolean memscope_window_get_text_loading (MemscopeWindow *self);
gboolean memscope_window_get_highlight (MemscopeWindow *self, int *start, int *end);
/* Finds @text in the input text (case-sensitive): with @next, the match
 * after the one selected, else the first; wraps around.  Selects it,
 * scrolls to it and steps to its segment; FALSE when there is none (the
 * segment stays).  The search bar (Ctrl+F) does this as one types. */
gboolean memscope_window_find_text (MemscopeWindow *self, const char *text, gboolean next);

/* The segment holding character @offset of the text, −1 when none.
 * Clicking the text steps to it. */
int memscope_window_segment_at_offset (MemscopeWindow *self, int offset);
/* The text pane's tooltip at character @offset: its segment and place,
 * and the value that colours it in the current segment (owned; NULL off
 * the text). */
char *memscope_window_describe_text_at (MemscopeWindow *self, int offset);

/* Settings, or NULL when the schema is not installed (borrowed). */
GSettings *memscope_window_get_settings (MemscopeWindow *self);

/* Actions (memscope-window-actions.c) */
void memscope_window_install_actions (MemscopeWindow *self);
void memscope_window_sync_actions (MemscopeWindow *self);
gboolean memscope_window_get_compare (MemscopeWindow *self);
gboolean memscope_window_get_difference (MemscopeWindow *self);
void memscope_window_set_compare (MemscopeWindow *self, gboolean compare, gboolean difference);
void memscope_window_cancel (MemscopeWindow *self);
void memscope_window_set_playing (MemscopeWindow *self, gboolean playing);
gboolean memscope_window_get_playing (MemscopeWindow *self);
/* The visible view's name ("retention", …; ms_view_kind_name). */
const char *memscope_window_get_view_name (MemscopeWindow *self);
void memscope_window_set_view_name (MemscopeWindow *self, const char *name);

G_END_DECLS
