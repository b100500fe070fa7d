/* workbench-textpane.c — the text pane at token level on the demo: token
 * boundaries underlined in two colours by turns, the NLL colouring with
 * its legend (each token's step from its recorded NLL), hovering a token
 * with the pointer (marked in the text and in the read view; its tooltip
 * gives its NLL and how it reads the slots, replayed from a compact
 * recording), Compare's caption and run switch, Ctrl+F through the search
 * entry, and the pane and a token's tooltip at 1366×768 and 1024×600 —
 * each checked in screenshots' pixels. */
#include <math.h>

#include "ms-recording.h"
#include "ms-view.h"
#include "workbench-test.h"

/* Pixels of @s within @tol of colour "#rrggbb" in every channel. */
static int
pixels_near (const Shot *s, const char *hex, int tol)
{
  GdkRGBA c;
  g_assert_true (gdk_rgba_parse (&c, hex));
  int want[3] = { (int) lround (c.red * 255), (int) lround (c.green * 255), (int) lround (c.blue * 255) };
  int n = 0;
  for (gsize i = 0; i < (gsize) s->width * s->height; i++)
    {
      guint32 p = s->pixels[i];
      int got[3] = { (int) (p >> 16) & 0xff, (int) (p >> 8) & 0xff, (int) p & 0xff };
      n += ABS (got[0] - want[0]) <= tol && ABS (got[1] - want[1]) <= tol && ABS (got[2] - want[2]) <= tol;
    }
  return n;
}

/* The names of the tags at character @offset that start with @prefix and
 * a dash: their step k, −1 when none. */
static int
tag_step_at (int offset, const char *prefix)
{
  GtkTextBuffer *buffer = memscope_window_get_text_buffer (win);
  GtkTextIter it;
  gtk_text_buffer_get_iter_at_offset (buffer, &it, offset);
  GSList *tags = gtk_text_iter_get_tags (&it);
  int step = -1;
  for (GSList *l = tags; l; l = l->next)
    {
      g_autofree char *name = NULL;
      g_object_get (l->data, "name", &name, NULL);
      if (name && g_str_has_prefix (name, prefix) && name[strlen (prefix)] == '-')
        step = atoi (name + strlen (prefix) + 1);
    }
  g_slist_free (tags);
  return step;
}

static int hovered_signals, hovered_segment, hovered_token;

static void
on_token_hovered (MemscopeTextPane *pane, int segment, int token, gpointer data)
{
  hovered_signals++;
  hovered_segment = segment, hovered_token = token;
}

static gboolean
nothing_hovered (void)
{
  return memscope_text_pane_get_hovered_token (memscope_window_get_text_pane (win)) == -1;
}

static GtkWidget *
text_view_widget (void)
{
  return GTK_WIDGET (memscope_text_pane_get_text_view (memscope_window_get_text_pane (win)));
}

/* At segment @segment of @run (shown, coloured by memory, no slot
 * selected), each token's step is its largest read weight on the fixed
 * scale 0 … 1, whatever the segment's largest, and the legend says so. */
static void
check_memory_steps (MemscopeTextPane *pane, MemscopeRun *run, int segment)
{
  activate ("segment", g_variant_new_int32 (segment));
  settle ();
  int start, end;
  g_assert_true (memscope_window_get_highlight (win, &start, &end));
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (memscope_run_get_db_path (run), &error);
  g_assert_no_error (error);
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.segment = segment;
  g_autoptr (MsViewData) reads = ms_view_load (rec, memscope_run_get_id (run), MS_VIEW_READ, &p, &error);
  g_assert_no_error (error);
  int n = 0;
  const char *what = NULL;
  g_autofree float *values = ms_view_token_values (reads, -1, &n, &what);
  g_assert_cmpint (n, ==, memscope_text_pane_get_n_tokens (pane));
  float largest = 0;
  int coloured = 0;
  for (int j = 0; j < n; j++)
    {
      int k = MIN ((int) (values[j] * 5), 4);
      g_assert_cmpint (tag_step_at (start + j, "read"), ==, k >= 1 ? k : -1);
      largest = MAX (largest, values[j]);
      coloured += k >= 1;
    }
  g_test_message ("segment %d: largest read weight %.3f, %d of %d tokens coloured", segment, largest, coloured, n);
  g_assert_cmpint (coloured, >, 0);
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (memscope_text_pane_get_legend (pane)),
                            "one scale for every segment"));
}

void
test_text_pane_tokens (void)
{
  MemscopeTextPane *pane = memscope_window_get_text_pane (win);
  change ("compare", g_variant_new_boolean (FALSE));
  activate ("slot", g_variant_new_int32 (-1));
  activate ("segment", g_variant_new_int32 (3));
  memscope_text_pane_set_colouring (pane, MEMSCOPE_TEXT_COLOUR_MEMORY);
  settle ();
  MemscopeRun *a = memscope_window_get_run_a (win);
  g_assert_true (memscope_text_pane_get_shown_run (pane) == a);

  /* the demo's models read bytes: every character of the segment is one token */
  int start, end;
  g_assert_true (memscope_window_get_highlight (win, &start, &end));
  int n = memscope_text_pane_get_n_tokens (pane);
  g_assert_cmpint (n, ==, end - start);
  for (int j = 0; j < n; j++)
    {
      int s, e;
      g_assert_true (memscope_text_pane_get_token_range (pane, j, &s, &e));
      g_assert_cmpint (s, ==, start + j);
      g_assert_cmpint (e, ==, start + j + 1);
    }
  /* boundaries: both underline colours are drawn, as are the memory colours */
  g_autoptr (Shot) memory = screenshot (text_view_widget (), "text-tokens-memory");
  g_assert_cmpint (pixels_near (memory, "#1c71d8", 24), >, 10);
  g_assert_cmpint (pixels_near (memory, "#c061cb", 24), >, 10);
  g_assert_cmpint (pixels_near (memory, "#ffbe6f", 6) + pixels_near (memory, "#ff9d3a", 6)
                     + pixels_near (memory, "#e66100", 6),
                   >, 20);

  /* the memory colouring's scale is the attention weight's, 0 … 1, for
   * every segment of the run: each token's step from its value */
  check_memory_steps (pane, a, 3);
  check_memory_steps (pane, a, 5);
  activate ("segment", g_variant_new_int32 (3));
  settle ();
  g_assert_true (memscope_window_get_highlight (win, &start, &end));

  /* the NLL colouring: each token's step is its recorded NLL on 0 … ln V */
  memscope_text_pane_set_colouring (pane, MEMSCOPE_TEXT_COLOUR_NLL);
  settle ();
  g_assert_nonnull (strstr (memscope_window_get_text_caption (win), "NLL"));
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (memscope_run_get_db_path (a), &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, memscope_run_get_id (a), &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->attn, ==, MS_ATTN_STORE_NONE);   /* compact: the hover's attention is replayed */
  size_t n_nll = 0;
  g_autofree float *nll = ms_recording_segment_nll (rec, info, 3, &n_nll, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_nll, ==, (size_t) n);
  double top = log (info->config.vocab_size);
  int coloured = 0;
  for (int j = 0; j < n; j++)
    {
      g_assert_false (isnan (nll[j]));   /* Memformer predicts every token after segment 0 */
      int k = MIN ((int) (nll[j] / top * 5), 4);
      g_assert_cmpint (tag_step_at (start + j, "nll"), ==, k >= 1 ? k : -1);
      g_assert_cmpint (tag_step_at (start + j, "read"), ==, -1);
      coloured += k >= 1;
    }
  g_assert_cmpint (coloured, >, 0);
  g_autoptr (Shot) by_nll = screenshot (text_view_widget (), "text-tokens-nll");
  g_assert_cmpint (pixels_near (by_nll, "#f9c5c5", 6) + pixels_near (by_nll, "#f08080", 6)
                     + pixels_near (by_nll, "#d33a3a", 6) + pixels_near (by_nll, "#8b0f0f", 6),
                   >, 20);
  g_assert_cmpint (pixels_near (by_nll, "#ffbe6f", 6) + pixels_near (by_nll, "#e66100", 6), ==, 0);
  /* the legend shows the NLL scale's steps */
  GtkWidget *legend = memscope_text_pane_get_legend (pane);
  g_assert_true (gtk_widget_get_mapped (legend));
  g_autoptr (Shot) scale = screenshot (legend, "text-nll-legend");
  g_assert_cmpint (pixels_near (scale, "#f08080", 4), >, 20);
  g_assert_cmpint (pixels_near (scale, "#8b0f0f", 4), >, 20);

  /* the pointer on a token marks it; its tooltip tells its NLL and how it
   * reads the slots (check_token_tooltip) */
  g_signal_connect (pane, "token-hovered", G_CALLBACK (on_token_hovered), NULL);
  hovered_signals = 0;
  check_token_tooltip (4);
  g_assert_cmpint (memscope_text_pane_get_hovered_token (pane), ==, 4);
  g_assert_cmpint (hovered_signals, ==, 1);
  g_assert_cmpint (hovered_segment, ==, 3);
  g_assert_cmpint (hovered_token, ==, 4);
  g_autoptr (Shot) hovered = screenshot (text_view_widget (), "text-token-hovered");
  g_assert_cmpint (pixels_near (hovered, "#00e0ff", 0), >, 20);
  /* … and outlines it in the read attention view, on its row */
  activate ("view", g_variant_new_string ("read"));
  MemscopeFigureView *read = memscope_window_get_visible_view (win);
  /* the screenshot settles the layout first, so the rectangles below are
   * those of the frame it shows */
  g_autoptr (Shot) outlined = screenshot (GTK_WIDGET (read), "read-token-hovered");
  graphene_rect_t row;
  g_assert_true (memscope_figure_view_get_hover_token_rect (read, 0, &row));
  MsRect cell;
  g_assert_true (memscope_figure_view_get_cell_rect (read, 0, 4, 0, &cell));
  g_assert_cmpfloat (fabs (row.origin.y - cell.y), <, 1);   /* token 4's row */
  g_assert_cmpfloat (fabs (row.size.height - cell.height), <, 1);
  int cyan = 0;
  for (int y = MAX ((int) row.origin.y - 3, 0); y < MIN ((int) (row.origin.y + row.size.height) + 3, outlined->height); y++)
    for (int x = 0; x < outlined->width; x++)
      cyan += (outlined->pixels[(gsize) y * outlined->width + x] & 0xffffff) == 0x00e0ff;
  g_assert_cmpint (cyan, >, 20);
  g_assert_cmpint (pixels_near (outlined, "#00e0ff", 0), ==, cyan);   /* nowhere else */
  /* the pointer off the text: nothing is hovered */
  pointer_away ();
  wait_until (nothing_hovered, "the token to be let go");
  g_assert_cmpint (hovered_token, ==, -1);
  g_assert_false (memscope_figure_view_get_hover_token_rect (read, 0, &row));
  activate ("view", g_variant_new_string ("retention"));
  g_signal_handlers_disconnect_by_func (pane, on_token_hovered, NULL);

  /* comparing, the caption names the run that colours the text, and the
   * switch shows run B's tokens */
  change ("compare", g_variant_new_boolean (TRUE));
  settle ();
  MemscopeRun *b = memscope_window_get_run_b (win);
  g_assert_true (g_str_has_prefix (memscope_window_get_text_caption (win), "Run A ("));
  g_assert_nonnull (strstr (memscope_window_get_text_caption (win), memscope_run_get_name (a)));
  memscope_text_pane_set_source (pane, 1);
  settle ();
  g_assert_true (memscope_text_pane_get_shown_run (pane) == b);
  g_assert_true (g_str_has_prefix (memscope_window_get_text_caption (win), "Run B ("));
  g_assert_nonnull (strstr (memscope_window_get_text_caption (win), memscope_run_get_name (b)));
  g_assert_cmpint (memscope_text_pane_get_n_tokens (pane), >, 0);
  g_autoptr (Shot) run_b = screenshot (text_view_widget (), "text-tokens-run-b");
  g_assert_cmpint (pixels_near (run_b, "#1c71d8", 24), >, 10);
  /* hovering run B's token outlines it in both runs' panels (the runs cut
   * this segment alike, so run A's token holds the same character) */
  activate ("view", g_variant_new_string ("read"));
  int bs, be;
  g_assert_true (memscope_window_get_highlight (win, &bs, &be));
  memscope_text_pane_hover_offset (pane, bs + 2);
  g_assert_cmpint (memscope_text_pane_get_hovered_token_of (pane, b), ==, 2);
  g_assert_cmpint (memscope_text_pane_get_hovered_token_of (pane, a), ==, 2);
  MemscopeFigureView *read_ab = memscope_window_get_visible_view (win);
  g_autoptr (Shot) both = screenshot (GTK_WIDGET (read_ab), "read-token-hovered-both-runs");
  for (int panel = 0; panel < 2; panel++)
    {
      graphene_rect_t r;
      MsRect row2;
      g_assert_true (memscope_figure_view_get_hover_token_rect (read_ab, panel, &r));
      g_assert_true (memscope_figure_view_get_cell_rect (read_ab, panel, 2, 0, &row2));
      g_assert_cmpfloat (fabs (r.origin.y - row2.y), <, 1);   /* token 2's row */
      g_assert_cmpfloat (fabs (r.origin.x - row2.x), <, 1);   /* in this panel */
      int cyan_in = 0;
      for (int y = MAX ((int) r.origin.y - 3, 0); y < MIN ((int) (r.origin.y + r.size.height) + 3, both->height); y++)
        for (int x = MAX ((int) r.origin.x - 3, 0); x < MIN ((int) (r.origin.x + r.size.width) + 3, both->width); x++)
          cyan_in += (both->pixels[(gsize) y * both->width + x] & 0xffffff) == 0x00e0ff;
      g_assert_cmpint (cyan_in, >, 20);
    }
  memscope_text_pane_hover_offset (pane, -1);
  graphene_rect_t gone;
  g_assert_false (memscope_figure_view_get_hover_token_rect (read_ab, 0, &gone));
  g_assert_false (memscope_figure_view_get_hover_token_rect (read_ab, 1, &gone));
  activate ("view", g_variant_new_string ("retention"));
  memscope_text_pane_set_source (pane, 0);
  settle ();
  g_assert_true (memscope_text_pane_get_shown_run (pane) == a);

  /* Ctrl+F: typing in the search entry steps to the segment of the match */
  memscope_text_pane_set_colouring (pane, MEMSCOPE_TEXT_COLOUR_MEMORY);
  change ("compare", g_variant_new_boolean (FALSE));
  activate ("segment", g_variant_new_int32 (0));
  check_search_steps ("gebhbdgaggcdfafa");   /* in the demo's later segments */
  activate ("segment", g_variant_new_int32 (2));
}

/* ---- at 1366×768 and 1024×600 ---- */

static int want_width, want_height;

static gboolean
window_has_wanted_size (void)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (win));
  return surface && gtk_widget_get_mapped (GTK_WIDGET (win)) && gdk_surface_get_width (surface) == want_width
         && gdk_surface_get_height (surface) == want_height;
}

static gboolean
text_tokens_shown (void)
{
  return !memscope_window_get_text_loading (win)
         && memscope_text_pane_get_n_tokens (memscope_window_get_text_pane (win)) > 0;
}

static gboolean
is_mapped_dropdown (GtkWidget *w)
{
  return gtk_widget_get_mapped (w);
}

/* The demo's recordings compared in a window of @width × @height: the
 * pane's caption row (legend, run switch, colouring switch) lies inside
 * the window, and the legend and the token underlines are drawn. */
static void
check_pane_on_screen (int width, int height)
{
  MemscopeWindow *main_window = win;
  g_autofree char *paths[2] = { g_strdup (memscope_run_get_db_path (memscope_window_get_run_a (win))),
                                g_strdup (memscope_run_get_db_path (memscope_window_get_run_b (win))) };
  win = memscope_window_new (GTK_APPLICATION (app));
  want_width = width, want_height = height;
  gtk_window_set_default_size (GTK_WINDOW (win), width, height);
  gtk_window_present (GTK_WINDOW (win));
  GFile *files[2] = { g_file_new_for_path (paths[0]), g_file_new_for_path (paths[1]) };
  memscope_window_open_files (win, files, g_strcmp0 (paths[0], paths[1]) == 0 ? 1 : 2);
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  wait_until (not_busy, "the demo's recordings to open");
  wait_until (window_has_wanted_size, "the window to take the screen's size");
  activate ("segment", g_variant_new_int32 (2));
  MemscopeTextPane *pane = memscope_window_get_text_pane (win);
  memscope_text_pane_set_colouring (pane, MEMSCOPE_TEXT_COLOUR_NLL);
  /* the token-level view: a token hovered, outlined in the read attention of both runs */
  activate ("view", g_variant_new_string ("read"));
  int start, end;
  g_assert_true (memscope_window_get_highlight (win, &start, &end));
  wait_until (text_tokens_shown, "the segment's tokens");
  check_token_tooltip (3);
  settle ();
  g_assert_true (memscope_window_get_compare (win));
  graphene_rect_t hovered;   /* in both runs' panels */
  g_assert_true (memscope_figure_view_get_hover_token_rect (memscope_window_get_visible_view (win), 0, &hovered));
  g_assert_true (memscope_figure_view_get_hover_token_rect (memscope_window_get_visible_view (win), 1, &hovered));

  g_autofree char *name = g_strdup_printf ("window-text-%dx%d", width, height);
  g_autoptr (Shot) shot = screenshot (GTK_WIDGET (win), name);
  GtkWidget *legend = memscope_text_pane_get_legend (pane);
  GtkWidget *widgets[2] = { legend, NULL };
  /* the last dropdown of the caption row: the colouring switch */
  GtkWidget *row = gtk_widget_get_parent (legend);
  widgets[1] = gtk_widget_get_last_child (row);
  g_assert_true (GTK_IS_DROP_DOWN (widgets[1]));
  for (int i = 0; i < 2; i++)
    {
      g_assert_true (is_mapped_dropdown (widgets[i]));
      graphene_rect_t r;
      g_assert_true (gtk_widget_compute_bounds (widgets[i], GTK_WIDGET (win), &r));
      g_assert_cmpfloat (r.origin.x, >=, 0);
      g_assert_cmpfloat (r.origin.x + r.size.width, <=, width);
      g_assert_cmpfloat (r.origin.y + r.size.height, <=, height);
      g_assert_cmpint (marked_pixels (shot, &r), >, 10);
    }
  g_autofree char *legend_name = g_strdup_printf ("text-legend-%dx%d", width, height);
  g_autoptr (Shot) scale = screenshot (legend, legend_name);
  g_assert_cmpint (pixels_near (scale, "#8b0f0f", 4), >, 10);
  /* the current segment's text is on-screen with its token underlines */
  GtkWidget *view = text_view_widget ();
  graphene_rect_t vr;
  g_assert_true (gtk_widget_compute_bounds (view, GTK_WIDGET (win), &vr));
  g_assert_cmpfloat (vr.origin.y + vr.size.height, <=, height);
  g_assert_cmpfloat (vr.size.height, >=, 40);
  g_autofree char *text_name = g_strdup_printf ("text-%dx%d", width, height);
  g_autoptr (Shot) text = screenshot (view, text_name);
  g_assert_cmpint (pixels_near (text, "#1c71d8", 24), >, 10);
  g_assert_cmpint (pixels_near (text, "#c061cb", 24), >, 10);

  pointer_away ();
  gtk_window_destroy (GTK_WINDOW (win));
  win = main_window;
  settle ();
}

void
test_text_pane_screens (void)
{
  check_pane_on_screen (1366, 768);
  check_pane_on_screen (1024, 600);
}

/* ---- closing a window while its jobs run ---- */

static MemscopeWindow *closing;

static gboolean
closing_runs_shown (void)
{
  return !memscope_window_is_busy (closing) && memscope_window_get_run_a (closing);
}

/* The demo's recordings opened in a new window, closed at @stage: 0 while
 * they open (the open job in flight), 1 as the runs appear (the visible
 * view's load and the text pane's text and token jobs in flight), 2 right
 * after stepping and hovering a token (a token job and a view load in
 * flight, the views outlining the token).  Nothing touches the closed
 * window afterwards (criticals are fatal here), and the window, its views
 * and its text pane are released on the main thread. */
static void
close_while_loading (int stage)
{
  g_autofree char *paths[2] = { g_strdup (memscope_run_get_db_path (memscope_window_get_run_a (win))),
                                g_strdup (memscope_run_get_db_path (memscope_window_get_run_b (win))) };
  closing = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (closing), 1366, 768);
  gtk_window_present (GTK_WINDOW (closing));
  GFile *files[2] = { g_file_new_for_path (paths[0]), g_file_new_for_path (paths[1]) };
  memscope_window_open_files (closing, files, g_strcmp0 (paths[0], paths[1]) == 0 ? 1 : 2);
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  if (stage >= 1)
    wait_until (closing_runs_shown, "the recordings to open");
  MemscopeTextPane *pane = memscope_window_get_text_pane (closing);
  if (stage >= 2)
    {
      memscope_window_set_view_name (closing, "read");
      memscope_window_set_segment (closing, 3);
      int start, end;
      if (memscope_text_pane_get_highlight (pane, &start, &end))
        memscope_text_pane_hover_offset (pane, start + 1);
      memscope_window_set_segment (closing, 4);
    }
  for (int k = 0; k < MS_VIEW_N_KINDS; k++)
    watch_finalize (memscope_window_get_view (closing, k));
  watch_finalize (pane);
  watch_finalize (closing);
  gtk_window_destroy (GTK_WINDOW (closing));
  closing = NULL;
  wait_until (closed_window_finalized, "the closed window, its views and its text pane to be released");
  g_assert_cmpint (g_atomic_int_get (&off_main_thread), ==, 0);
}

void
test_close_while_loading (void)
{
  for (int round = 0; round < 3; round++)
    for (int stage = 0; stage < 3; stage++)
      close_while_loading (stage);
  /* the first window is untouched */
  g_assert_true (memscope_window_get_run_a (win) != NULL);
  settle ();
}
