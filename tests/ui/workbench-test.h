/* workbench-test.h — shared by the workbench test's files: one
 * application and one window, driven in order by the tests registered in
 * test-workbench.c. */
#pragma once

#include <gtk/gtk.h>

#include "memscope-application.h"
#include "memscope-export-dialog.h"
#include "memscope-window.h"

#define HIGHLIGHT 0xffe01b24u   /* the figure view's outline, opaque ARGB */

extern MemscopeApplication *app;
extern MemscopeWindow *win;
extern char *tmp_dir;     /* removed with what it holds at the end */
extern char *shots_dir;   /* where screenshots are saved */
extern GThread *main_thread;
extern int off_main_thread;   /* workbench calls seen off the main thread */

/* ---- waiting: iterate the main loop until a condition holds ---- */
typedef gboolean (*Condition) (void);
void wait_until (Condition cond, const char *what);
gboolean visible_view_loaded (void);
/* Lets pending layout and drawing happen, and the visible view load. */
void settle (void);
gboolean demo_recorded (void);
gboolean not_busy (void);
gboolean view_allocated (void);
void wait_for_frame (GtkWidget *widget);

/* ---- screenshots ---- */
typedef struct {
  int width, height;
  guint32 *pixels;   /* ARGB, premultiplied (opaque here) */
} Shot;
void shot_free (Shot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Shot, shot_free)
/* @widget as its window's renderer draws it now, saved as @name.png in
 * the screenshots folder. */
Shot *screenshot (GtkWidget *widget, const char *name);
/* The pixels in which @a and @b differ; both must have the same size. */
gsize shot_pixels_differ (const Shot *a, const Shot *b);
gboolean coloured (guint32 p);
guint distinct_colours (const Shot *s, int x0, int x1);
gboolean has_colorbar (const Shot *s);
double highlight_x (const Shot *s);
/* Outline pixels of @s left or right of @plot's columns. */
int highlight_pixels_outside (const Shot *s, const MsRect *plot);

/* The types view @view, drawn in @s, shows each segment of run A as one
 * step: every pixel row of a segment's cell is one colour. */
void check_types_steps (MemscopeFigureView *view, const Shot *s);

/* Pixels of @s inside @r that differ clearly from @r's top-left pixel: a
 * drawn icon or label rather than an empty patch. */
int marked_pixels (const Shot *s, const graphene_rect_t *r);
/* A word of a figure's text and its box (pdftotext -bbox), in the view's coordinates. */
typedef struct {
  double x0, y0, x1, y1;
  char *text;
} Word;
/* The words of @view's figure as it is on screen, drawn again at the
 * view's size and text zoom: an array of Word. */
GArray *drawn_words (MemscopeFigureView *view);
/* What @argv (a tool on PATH, then its arguments, NULL-terminated) printed;
 * the test stops when it cannot run or fails. */
char *tool_output (const char *const *argv);
/* Every word of @view's figure (its title, the panels' titles, the axes'
 * labels) lies inside the part of @view its window shows — inside the
 * view and every widget around it, which is where GTK may clip it — and is
 * drawn there in @shot, a screenshot of the window: no text of the figure
 * is cut off by what the window lays out around it. */
void check_figure_text_shown (MemscopeFigureView *view, const Shot *shot);
/* The first descendant of @w (or @w) of @type for which @pred (may be NULL) holds. */
GtkWidget *find_widget (GtkWidget *w, GType type, gboolean (*pred) (GtkWidget *));

/* The window's Play/Pause button (for find_widget). */
gboolean is_play_button (GtkWidget *w);
/* Waits until the window's error banner is revealed; returns its Dismiss button. */
GtkWidget *wait_for_banner (void);
/* Save Recording As… of the window's run A to @dest, waited for; it must succeed. */
void save_recording_as (GFile *dest);

/* @w is mapped, inside the window of @width × @height and drawn in @shot
 * (a screenshot of the window). */
void check_on_screen (GtkWidget *w, const Shot *shot, int width, int height);

/* ---- the pointer, moved on the X server as a mouse moves it ---- */
/* To (@x, @y) of @widget (it must lie on top of the screen there). */
void pointer_to (GtkWidget *widget, double x, double y);
/* To a corner of the screen outside every window. */
void pointer_away (void);
/* The pointer away, then at (@x, @y) of @widget until GTK shows a tooltip
 * there: the tooltip's text.  Owned. */
char *tooltip_at (GtkWidget *widget, double x, double y);

/* The pointer rests on token @token of the current segment in the text
 * pane, which must be on-screen: the pane hovers that token, and the
 * tooltip GTK shows names the segment and token, gives the token's NLL as
 * the recording holds it, and how it reads the memory, with its heaviest
 * weight in the segment's recorded read attention.  The pointer stays
 * there (pointer_away() moves it off). */
void check_token_tooltip (int token);

/* Opens @path, a file the window must refuse (a broken model, a recording
 * from a newer Memscope): the banner names it, with its Dismiss on-screen,
 * and nothing else changes: the same runs, comparison, view, segment,
 * title, text caption and highlight; the view drawn, not loading, with no
 * text of its figure cut off where the banner took room
 * (check_figure_text_shown).  Once
 * the banner is dismissed, the view is drawn pixel for pixel as before.
 * Screenshots are named after @name. */
void check_error_leaves_window (const char *path, const char *name);

/* Ctrl+F in the window's text pane: the search entry opens, focused, inside
 * the window and drawn; typing @needle steps to the segment of its first
 * match, which must lie after the current segment. */
void check_search_steps (const char *needle);

/* workbench-header.c: @window (@width × @height, its screenshot @shot)
 * shows the view switcher in its header when every button fits, else the
 * menu of the offered views; each way every offered view is reachable and drawn. */
void check_header (GtkWidget *window, const Shot *shot, int width, int height);

/* ---- actions (then settle) ---- */
void activate (const char *name, GVariant *param);
void change (const char *name, GVariant *state);

/* What the export dialog's Export button does with the visible view
 * (3.5 × 2.5 in, 150 dpi, magma): written on a worker thread. */
gboolean export_in_background (const char *path, GError **error);

/* ---- threads ---- */
void note_thread (void);
void on_progress_note_thread (MemscopeRun *run, int done, int total, gpointer data);
/* Counts @object until it is finalized (closed_window_finalized). */
void watch_finalize (gpointer object);
gboolean closed_window_finalized (void);

/* ---- the tests, in the order they run ---- */
void test_starts_on_demo (void);
void test_any_screen (void);
void test_wide_screen (void);
void test_dark_figures (void);
void test_saved_work (void);
void test_close_while_choosing (void);
void test_steps_segments (void);
void test_every_view (void);
void test_causal_page (void);
void test_select_slot (void);
void test_compare (void);
void test_bindings (void);
void test_shortcuts_and_about (void);
void test_zoom (void);
void test_load_off_main_thread (void);
void test_superseded_load (void);
void test_resized_while_loading (void);
void test_long_provenance (void);
void test_zoom_preview (void);
void test_close_while_recording (void);
void test_bpe_text_pane (void);
void test_newcomer (void);
void test_readme_screenshot (void);
void test_text_pane_tokens (void);
void test_text_pane_screens (void);
void test_close_while_loading (void);
void test_export (void);
void test_export_titles (void);
void test_errors_in_window (void);
void test_hostile_recordings (void);
void test_open_recording_and_cancel (void);
void test_read_only_recording (void);
void test_recent_files (void);
/* Removes the read-only copies test_read_only_recording made. */
void remove_shared_recordings (void);
