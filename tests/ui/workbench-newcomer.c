/* workbench-newcomer.c — the path a new user takes, on a laptop screen and
 * a small one: open a model (the banner asks for a text), then a text; the
 * model is recorded on it, the title names it, Save Recording As keeps a
 * copy; play and pause; step; look at the attention of the current segment
 * token by token and rest the pointer on a token (its tooltip, its outline
 * in the view); look at every layer and head at once; search the text
 * (Ctrl+F); open a second model and compare; open a broken model (refused,
 * the window as it was); preview an export at true size; export every
 * view; close and reopen where it was.
 * Each step is checked as the user would see it: pixels on screen, words
 * in the tooltips, files a PDF reader opens. */
#include <math.h>
#include <string.h>

#include "workbench-test.h"

static int want_width, want_height;

static gboolean
window_has_wanted_size (void)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (win));
  return surface && gtk_widget_get_mapped (GTK_WIDGET (win)) && gdk_surface_get_width (surface) == want_width
         && gdk_surface_get_height (surface) == want_height;
}

static void
open_path (const char *path)
{
  GFile *file = g_file_new_for_path (path);
  memscope_window_open_files (win, &file, 1);
  g_object_unref (file);
  settle ();
}

static GAsyncResult *exported;

static void
on_exported (GObject *source, GAsyncResult *result, gpointer data)
{
  exported = g_object_ref (result);
}

static gboolean
export_done (void)
{
  return exported != NULL;
}

/* The middle of cell (@row, @col) of @view's panel 0, in the view's coordinates. */
static void
cell_centre (MemscopeFigureView *view, int row, int col, double *x, double *y)
{
  MsRect cell;
  g_assert_true (memscope_figure_view_get_cell_rect (view, 0, row, col, &cell));
  *x = cell.x + cell.width / 2, *y = cell.y + cell.height / 2;
}

/* @path is a PDF that poppler reads, one page of @width_in × @height_in. */
static void
check_pdf (const char *path, double width_in, double height_in)
{
  const char *argv[] = { "pdfinfo", path, NULL };
  g_autofree char *out = tool_output (argv);
  g_assert_nonnull (strstr (out, "Pages:           1"));
  const char *size = strstr (out, "Page size:");
  g_assert_nonnull (size);
  double w = 0, h = 0;
  g_assert_cmpint (sscanf (size, "Page size: %lf x %lf pts", &w, &h), ==, 2);
  g_assert_cmpfloat (fabs (w - width_in * 72), <, 0.5);
  g_assert_cmpfloat (fabs (h - height_in * 72), <, 0.5);
}

/* The layer and head choices are visible exactly when @view uses them. */
static gboolean
is_label (GtkWidget *w, const char *text)
{
  return g_strcmp0 (gtk_label_get_label (GTK_LABEL (w)), text) == 0;
}
static gboolean is_layer_label (GtkWidget *w) { return is_label (w, "Layer"); }
static gboolean is_head_label (GtkWidget *w) { return is_label (w, "Head"); }

static void
check_selectors (MemscopeFigureView *view)
{
  MsViewUses uses = ms_view_info (memscope_figure_view_get_kind (view))->params;
  GtkWidget *layer = find_widget (GTK_WIDGET (win), GTK_TYPE_LABEL, is_layer_label);
  GtkWidget *head = find_widget (GTK_WIDGET (win), GTK_TYPE_LABEL, is_head_label);
  g_assert_nonnull (layer);
  g_assert_nonnull (head);
  g_assert_cmpint (gtk_widget_is_visible (layer), ==, (uses & MS_VIEW_USES_LAYER) != 0);
  g_assert_cmpint (gtk_widget_is_visible (head), ==, (uses & MS_VIEW_USES_HEAD) != 0);
}

/* Shows view @name and checks it is drawn: a colorbar and many colours,
 * saved as a screenshot named after the screen. */
static MemscopeFigureView *
show_view (const char *name, int width, int height)
{
  activate ("view", g_variant_new_string (name));
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_figure_view_update (view, &error));
  g_autofree char *shot_name = g_strdup_printf ("newcomer-%s-%dx%d", name, width, height);
  g_autoptr (Shot) s = screenshot (GTK_WIDGET (view), shot_name);
  g_assert_true (has_colorbar (s));
  g_assert_cmpuint (distinct_colours (s, 0, s->width), >, 20);
  check_selectors (view);
  return view;
}

static gboolean
tokens_shown (void)
{
  return !memscope_window_get_text_loading (win)
         && memscope_text_pane_get_n_tokens (memscope_window_get_text_pane (win)) > 0;
}

static gboolean
past_first_segment (void)
{
  return memscope_window_get_segment (win) > 0;
}

static MemscopeWindow *reopened;

static gboolean
reopened_both (void)
{
  return !memscope_window_is_busy (reopened) && memscope_window_get_n_runs (reopened) == 2;
}

static void
walk (int width, int height)
{
  g_autofree char *dir = g_strdup_printf ("%s/newcomer-%dx%d", tmp_dir, width, height);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *bpe = g_build_filename (g_getenv ("MEMSCOPE_FIXTURES"), "rmt_bpe.safetensors", NULL);
  g_autofree char *bytes = g_build_filename (g_getenv ("MEMSCOPE_FIXTURES"), "memformer.safetensors", NULL);
  g_autofree char *input = g_build_filename (dir, "notes.txt", NULL);
  GString *text = g_string_new (NULL);
  for (int i = 0; i < 6; i++)
    g_string_append_printf (text, "The memory of segment %d keeps the answer; the next one reads it back. ", i);
  g_assert_true (g_file_set_contents (input, text->str, (gssize) text->len, NULL));
  g_string_free (text, TRUE);

  MemscopeWindow *main_window = win;
  win = memscope_window_new (GTK_APPLICATION (app));
  want_width = width, want_height = height;
  gtk_window_set_default_size (GTK_WINDOW (win), width, height);
  gtk_window_present (GTK_WINDOW (win));
  wait_until (window_has_wanted_size, "the window to take the screen's size");

  /* a model first: nothing to record it on yet; the window asks for a
   * text to run that model on, and keeps it */
  open_path (bpe);
  const char *asked = memscope_window_get_error (win);
  g_assert_nonnull (asked);
  g_assert_nonnull (strstr (asked, "rmt_bpe"));
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, 0);
  /* … in the banner, whose Dismiss is on-screen and readable */
  GtkWidget *dismiss = wait_for_banner ();
  g_autofree char *banner_name = g_strdup_printf ("newcomer-banner-%dx%d", width, height);
  g_autoptr (Shot) banner_shot = screenshot (GTK_WIDGET (win), banner_name);
  check_on_screen (dismiss, banner_shot, width, height);
  /* then a text: the model is recorded on it */
  open_path (input);
  wait_until (not_busy, "the model to be recorded on the text");
  settle ();
  g_assert_null (memscope_window_get_error (win));
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, 1);
  MemscopeRun *a = memscope_window_get_run_a (win);
  g_assert_cmpint (memscope_run_get_status (a), ==, MS_RUN_COMPLETE);
  g_assert_cmpint (memscope_run_get_segments_done (a), >=, 3);
  /* the title names it; Save Recording As… keeps a copy */
  g_assert_nonnull (strstr (gtk_window_get_title (GTK_WINDOW (win)), memscope_run_get_name (a)));
  g_autofree char *copy = g_build_filename (dir, "kept.sqlite", NULL);
  g_autoptr (GFile) dest = g_file_new_for_path (copy);
  save_recording_as (dest);
  g_assert_true (g_file_test (copy, G_FILE_TEST_IS_REGULAR));

  /* Play turns into Pause, beside its speed, both on-screen */
  GtkWidget *play = find_widget (GTK_WIDGET (win), GTK_TYPE_BUTTON, is_play_button);
  g_assert_nonnull (play);
  activate ("first", NULL);
  activate ("play", NULL);
  g_assert_true (memscope_window_get_playing (win));
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (play)), ==, "media-playback-pause-symbolic");
  g_autofree char *playing_name = g_strdup_printf ("newcomer-playing-%dx%d", width, height);
  g_autoptr (Shot) playing = screenshot (GTK_WIDGET (win), playing_name);
  check_on_screen (play, playing, width, height);
  GtkWidget *speed = gtk_widget_get_next_sibling (play);
  g_assert_true (GTK_IS_DROP_DOWN (speed));
  check_on_screen (speed, playing, width, height);
  /* a new speed takes effect while playing: it goes on to the next segment */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (speed), 2);
  activate ("first", NULL);
  g_assert_true (memscope_window_get_playing (win));
  wait_until (past_first_segment, "playing to step to the next segment");
  activate ("play", NULL);
  g_assert_false (memscope_window_get_playing (win));
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (play)), ==, "media-playback-start-symbolic");

  /* step: the views and the text follow */
  activate ("first", NULL);
  activate ("next", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 1);
  int start, end;
  g_assert_true (memscope_window_get_highlight (win, &start, &end));
  g_assert_cmpint (end, >, start);

  /* the segment's read attention, token by token: the rows are the
   * segment's tokens, named on the axis and in the tooltip */
  MemscopeFigureView *read = show_view ("read", width, height);
  const MsViewData *rd = memscope_figure_view_get_data (read, 0);
  g_assert_cmpint (rd->segment, ==, 1);
  g_assert_nonnull (rd->y.texts);
  int row = rd->rows / 2;
  g_assert_nonnull (rd->y.texts[row]);
  double x, y;
  cell_centre (read, row, 0, &x, &y);
  g_autofree char *tip = memscope_figure_view_describe_point (read, x, y);
  g_autofree char *quoted = g_strdup_printf ("“%s”", rd->y.texts[row]);
  g_assert_nonnull (tip);
  g_assert_nonnull (strstr (tip, quoted));
  /* the pointer on a token of the text: its tooltip names its segment,
   * NLL and reads (check_token_tooltip) … */
  MemscopeTextPane *pane = memscope_window_get_text_pane (win);
  wait_until (tokens_shown, "the segment's tokens");
  int token = 1;
  check_token_tooltip (token);
  /* … and it is outlined, in the text's cyan, on its row of the read view */
  g_autofree char *hover_name = g_strdup_printf ("newcomer-read-hovered-%dx%d", width, height);
  g_autoptr (Shot) hovered = screenshot (GTK_WIDGET (read), hover_name);
  graphene_rect_t outline;
  g_assert_true (memscope_figure_view_get_hover_token_rect (read, 0, &outline));
  MsRect token_row;
  g_assert_true (memscope_figure_view_get_cell_rect (read, 0, token, 0, &token_row));
  g_assert_cmpfloat (fabs (outline.origin.y - token_row.y), <, 1);
  int cyan = 0;
  for (gsize i = 0; i < (gsize) hovered->width * hovered->height; i++)
    cyan += (hovered->pixels[i] & 0xffffff) == 0x00e0ff;
  g_assert_cmpint (cyan, >, 20);
  pointer_away ();

  /* the write rows in labelled bands: read block | tokens | write block */
  MemscopeFigureView *write = show_view ("write", width, height);
  const MsViewData *wd = memscope_figure_view_get_data (write, 0);
  g_assert_cmpint (wd->x.n_blocks, ==, 3);
  g_assert_true (wd->x.blocks[1].tokens);

  /* every layer and head at once, and the mean, on one colour scale */
  MemscopeFigureView *heads = show_view ("read-heads", width, height);
  const MsViewData *hd = memscope_figure_view_get_data (heads, 0);
  g_assert_cmpint (hd->x.kind, ==, MS_VIEW_AXIS_GRID);
  g_assert_cmpstr (hd->x.blocks[hd->x.n_blocks - 1].name, ==, "mean");
  cell_centre (heads, hd->rows - 1, hd->cols - 1, &x, &y);
  g_autofree char *grid_tip = memscope_figure_view_describe_point (heads, x, y);
  g_assert_nonnull (strstr (grid_tip, "mean"));
  g_assert_nonnull (strstr (grid_tip, "layer"));

  /* Ctrl+F finds a later sentence and steps there; the search bar closes again */
  activate ("segment", g_variant_new_int32 (0));
  check_search_steps ("segment 4 keeps");
  gtk_search_bar_set_search_mode (
    GTK_SEARCH_BAR (find_widget (GTK_WIDGET (pane), GTK_TYPE_SEARCH_BAR, NULL)), FALSE);
  activate ("segment", g_variant_new_int32 (1));

  /* a second model on the same text, with another tokenizer: compare */
  open_path (bytes);
  wait_until (not_busy, "the second model to be recorded");
  settle ();
  g_assert_null (memscope_window_get_error (win));
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, 2);
  change ("compare", g_variant_new_boolean (TRUE));
  g_assert_true (memscope_window_get_compare (win));
  MemscopeFigureView *ret = show_view ("retention", width, height);
  /* … and the window, with both runs' choices in its tool row, still fits
   * the screen, whatever height it is asked for */
  int min_w = 0;
  gtk_widget_measure (GTK_WIDGET (win), GTK_ORIENTATION_HORIZONTAL, height, &min_w, NULL, NULL, NULL);
  g_assert_cmpint (min_w, <=, width);
  g_assert_true (window_has_wanted_size ());
  MsRect rects[3];
  g_assert_cmpint (memscope_figure_view_get_plot_rects (ret, rects), ==, 2);
  /* a broken model opened now is refused in the banner; the window stays as it was */
  g_autofree char *broken = g_build_filename (dir, "broken.safetensors", NULL);
  g_assert_true (g_file_set_contents (broken, "\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", 24, NULL));
  g_autofree char *error_name = g_strdup_printf ("newcomer-error-%dx%d", width, height);
  check_error_leaves_window (broken, error_name);

  /* the export dialog shows the figure at true size */
  activate ("view", g_variant_new_string ("read"));
  GtkWidget *dialog = memscope_export_dialog_new (win, memscope_window_get_visible_view (win));
  gtk_window_present (GTK_WINDOW (dialog));
  MemscopeExportDialog *d = MEMSCOPE_EXPORT_DIALOG (dialog);
  GtkWidget *preview = memscope_export_dialog_get_preview (d);
  double ppi = memscope_export_dialog_get_pixels_per_inch (d);
  g_assert_cmpfloat (ppi, >=, 60);
  for (int preset = 0; preset < 2; preset++)
    {
      memscope_export_dialog_set_choices (d, MS_FIGURE_FORMAT_PDF, preset);
      settle ();
      wait_for_frame (preview);
      MemscopeExportOptions o;
      memscope_export_dialog_get_options (d, &o);
      g_assert_cmpint (gtk_drawing_area_get_content_width (GTK_DRAWING_AREA (preview)), ==,
                       (int) lround (o.width_in * ppi));
      g_assert_cmpint (gtk_drawing_area_get_content_height (GTK_DRAWING_AREA (preview)), ==,
                       (int) lround (o.height_in * ppi));
      g_autofree char *name = g_strdup_printf ("newcomer-preview-%d-%dx%d", preset, width, height);
      g_autoptr (Shot) s = screenshot (preview, name);
      g_assert_cmpint (s->width, ==, gtk_widget_get_width (preview));
      g_assert_cmpuint (distinct_colours (s, 0, s->width), >, 20);
      g_assert_true (has_colorbar (s));
    }
  /* the dialog fits the screen */
  g_autofree char *dialog_name = g_strdup_printf ("newcomer-export-dialog-%dx%d", width, height);
  g_autoptr (Shot) whole = screenshot (dialog, dialog_name);
  int dw = gtk_widget_get_width (dialog), dh = gtk_widget_get_height (dialog);
  g_test_message ("%d×%d: export dialog %d×%d", width, height, dw, dh);
  g_assert_cmpint (dw, <=, width);
  g_assert_cmpint (dh, <=, height);
  gtk_window_destroy (GTK_WINDOW (dialog));
  settle ();

  /* export every view: one file per view, each a one-page PDF of the size asked */
  g_autofree char *all = g_build_filename (dir, "notes.pdf", NULL);
  memscope_window_export_all_async (win, all, 3.5, 2.4, 150, NULL, on_exported, NULL);
  wait_until (export_done, "every view to be exported");
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_window_export_all_finish (win, exported, &error));
  g_assert_no_error (error);
  g_clear_object (&exported);
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    {
      g_autofree char *path = ms_figure_path_for_view (all, ms_view_info (k)->name);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
      check_pdf (path, 3.5, 2.4);
    }

  /* closed without comparing, on the layer × head grid, it reopens so */
  change ("compare", g_variant_new_boolean (FALSE));
  activate ("view", g_variant_new_string ("read-heads"));
  memscope_window_save_session (win);
  MemscopeWindow *again = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (again));
  g_assert_true (memscope_window_restore_session (again));
  reopened = again;
  wait_until (reopened_both, "the two recordings to reopen");
  g_assert_false (memscope_window_get_compare (again));
  g_assert_nonnull (memscope_window_get_run_b (again));
  g_assert_cmpstr (memscope_window_get_view_name (again), ==, "read-heads");
  gtk_window_destroy (GTK_WINDOW (again));
  reopened = NULL;

  gtk_window_destroy (GTK_WINDOW (win));
  win = main_window;
  settle ();
}

void
test_newcomer (void)
{
  walk (1366, 768);
  walk (1024, 600);
}

/* The README's screenshot (resources/figures/make-screenshot.sh): the demo
 * window at its size, comparing the two models' write attention of one
 * segment token by token — the tokens named on the axis, the blocks in
 * bands — and the README's copy still is that window.  Runs right after
 * the demo starts, and leaves the window as it found it. */
void
test_readme_screenshot (void)
{
  int segment = memscope_window_get_segment (win);
  g_autofree char *view_name = g_strdup (memscope_window_get_view_name (win));
  g_assert_true (memscope_window_get_compare (win));
  activate ("slot", g_variant_new_int32 (-1));
  activate ("view", g_variant_new_string ("write"));
  activate ("segment", g_variant_new_int32 (4));
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  g_autoptr (GError) error = NULL;
  gboolean shown = memscope_figure_view_update (view, &error);
  if (!shown)
    g_error ("the write view is not shown: %s", error->message);
  const MsViewData *a = memscope_figure_view_get_data (view, 0), *b = memscope_figure_view_get_data (view, 1);
  g_assert_nonnull (b);
  g_assert_cmpint (a->segment, ==, 4);
  g_assert_nonnull (a->x.texts);
  g_assert_cmpint (b->x.n_blocks, ==, 3);
  g_autoptr (Shot) s = screenshot (GTK_WIDGET (win), "readme-workbench");
  g_assert_true (has_colorbar (s));
  g_assert_cmpuint (distinct_colours (s, 0, s->width), >, 40);
  /* … and the README's screenshot is this one: the same size, its pixels
   * the same but for a few (another build of the same fonts) */
  g_autofree char *readme = g_build_filename (g_getenv ("MEMSCOPE_DATA_DIR"), "figures", "workbench.png", NULL);
  g_autoptr (GdkTexture) readme_png = gdk_texture_new_from_filename (readme, &error);
  g_assert_no_error (error);
  int w = gdk_texture_get_width (readme_png), h = gdk_texture_get_height (readme_png);
  g_autofree guint32 *pixels = g_new (guint32, (gsize) w * h);
  gdk_texture_download (readme_png, (guchar *) pixels, (gsize) w * 4);
  gsize differ = 0;
  for (gsize i = 0; w == s->width && h == s->height && i < (gsize) w * h; i++)
    {
      int d = 0;
      for (int k = 0; k < 24; k += 8)
        d += ABS ((int) ((pixels[i] >> k) & 0xff) - (int) ((s->pixels[i] >> k) & 0xff));
      differ += d > 48;
    }
  g_test_message ("the README's screenshot: %d×%d, %zu pixels differ from the window's", w, h, differ);
  if (w != s->width || h != s->height || differ > (gsize) w * h / 100)
    g_error ("%s no longer shows the window (%d×%d against %d×%d, %zu pixels differ): "
             "run resources/figures/make-screenshot.sh", readme, w, h, s->width, s->height, differ);
  activate ("view", g_variant_new_string (view_name));
  activate ("segment", g_variant_new_int32 (segment));
}
