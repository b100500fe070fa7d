/* workbench-saved.c — saved work and the small things: a model opened
 * before its input is kept until the input comes, the recording lands in
 * the recordings folder and is listed, Save Recording As copies it, the
 * window's size, recordings, view and segment come back in a new window,
 * a maximized window comes back maximized, the title names the runs, the
 * banner's Dismiss is readable, Play turns into Pause; Save Recording As
 * answering after its window closed. */
#include <glib/gstdio.h>

#include "ms-recording.h"
#include "workbench-test.h"

static MemscopeWindow *other;

static gboolean
other_not_busy (void)
{
  return !memscope_window_is_busy (other) && memscope_window_get_n_runs (other) > 0;
}

/* Whether @menu has an item whose target is @uri. */
static gboolean
menu_has_uri (GMenuModel *menu, const char *uri)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autoptr (GVariant) target = g_menu_model_get_item_attribute_value (menu, i, G_MENU_ATTRIBUTE_TARGET,
                                                                          G_VARIANT_TYPE_STRING);
      if (target && g_str_equal (g_variant_get_string (target, NULL), uri))
        return TRUE;
    }
  return FALSE;
}

static MemscopeWindow *restarted;

static gboolean
restarted_shown (void)
{
  return gtk_widget_get_mapped (GTK_WIDGET (restarted)) && !memscope_window_is_busy (restarted)
         && memscope_window_get_n_runs (restarted) > 0;
}

/* The window's maximized state survives a restart: a maximized window,
 * closed, comes back maximized with its recordings (@recording first), and
 * the size it unmaximizes to is the one it had before (@width × @height,
 * saved by an unmaximized window just before).  Xvfb runs no window
 * manager: GDK sets the state a window is mapped with, but nothing resizes
 * a window to the screen or unmaximizes a mapped one, so the state is
 * checked as GTK reports it, and the size as the window's default size.
 * Leaves the setting unmaximized again, as @other saves it. */
static void
check_maximized_comes_back (const char *recording, int width, int height)
{
  g_autoptr (GSettings) settings = memscope_settings_new ();
  g_assert_nonnull (settings);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
  /* maximized by its user, then closed as a user closes it */
  restarted = memscope_window_new (GTK_APPLICATION (app));
  g_assert_false (gtk_window_is_maximized (GTK_WINDOW (restarted)));
  gtk_window_maximize (GTK_WINDOW (restarted));
  gtk_window_present (GTK_WINDOW (restarted));
  g_assert_true (memscope_window_restore_session (restarted));
  wait_until (restarted_shown, "the maximized window to show its recordings");
  g_assert_true (gtk_window_is_maximized (GTK_WINDOW (restarted)));
  gtk_window_close (GTK_WINDOW (restarted));
  settle ();
  g_assert_true (g_settings_get_boolean (settings, "window-maximized"));
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, width);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, height);

  /* the next window: maximized, its unmaximized size the old one, its recordings back */
  restarted = memscope_window_new (GTK_APPLICATION (app));
  int w = 0, h = 0;
  gtk_window_get_default_size (GTK_WINDOW (restarted), &w, &h);
  g_assert_cmpint (w, ==, width);
  g_assert_cmpint (h, ==, height);
  gtk_window_present (GTK_WINDOW (restarted));
  g_assert_true (memscope_window_restore_session (restarted));
  wait_until (restarted_shown, "the restarted window to show its recordings");
  g_assert_true (gtk_window_is_maximized (GTK_WINDOW (restarted)));
  g_assert_cmpstr (memscope_run_get_db_path (memscope_window_get_run_a (restarted)), ==, recording);
  gtk_window_destroy (GTK_WINDOW (restarted));
  restarted = NULL;

  /* an unmaximized window saves that it was not, and the next one is not */
  memscope_window_save_session (other);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
  restarted = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (restarted));
  settle ();
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (restarted)));
  g_assert_false (gtk_window_is_maximized (GTK_WINDOW (restarted)));
  gtk_window_destroy (GTK_WINDOW (restarted));
  restarted = NULL;
  settle ();
}

void
test_saved_work (void)
{
  const char *dir = g_getenv ("MEMSCOPE_DATA_DIR");
  g_autofree char *model = g_build_filename (dir, "models", "copy-memformer.safetensors", NULL);
  g_autofree char *input = g_build_filename (dir, "inputs", "copy-demo.txt", NULL);
  g_autofree char *folder = memscope_recordings_dir ();
  g_assert_true (g_str_has_prefix (folder, g_get_user_data_dir ()));
  /* the test's own data folder: recordings of earlier runs of the test go */
  g_autoptr (GDir) old = g_dir_open (folder, 0, NULL);
  for (const char *name; old && (name = g_dir_read_name (old));)
    {
      g_autofree char *p = g_build_filename (folder, name, NULL);
      g_unlink (p);
    }

  /* the banner: Dismiss is drawn in colours that differ from its button's */
  activate ("dismiss-error", NULL);
  GFile *missing = g_file_new_for_path ("/nonexistent/missing.txt");
  memscope_window_open_files (win, &missing, 1);
  g_object_unref (missing);
  settle ();
  g_assert_nonnull (memscope_window_get_error (win));
  GtkWidget *dismiss = wait_for_banner ();
  g_autoptr (Shot) banner = screenshot (GTK_WIDGET (win), "error-banner");
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (dismiss, GTK_WIDGET (win), &r));
  graphene_rect_t inner = GRAPHENE_RECT_INIT (r.origin.x + 4, r.origin.y + 4, r.size.width - 8, r.size.height - 8);
  g_assert_cmpint (marked_pixels (banner, &inner), >, 20);
  activate ("dismiss-error", NULL);

  /* in a new window, a model, then its input: the model is kept until
   * the input comes */
  MemscopeWindow *main_window = win;
  win = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (win));
  settle ();
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "Memscope");
  guint runs = memscope_window_get_n_runs (win);
  GFile *m = g_file_new_for_path (model);
  memscope_window_open_files (win, &m, 1);
  g_object_unref (m);
  settle ();
  const char *message = memscope_window_get_error (win);
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (message, "copy-memformer.safetensors"));
  g_assert_null (strstr (message, "  "));
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, runs);
  GFile *in = g_file_new_for_path (input);
  memscope_window_open_files (win, &in, 1);
  g_object_unref (in);
  g_assert_null (memscope_window_get_error (win));
  wait_until (not_busy, "the model to be recorded on the input opened after it");
  settle ();
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, runs + 1);
  MemscopeRun *a = memscope_window_get_run_a (win);
  g_assert_cmpstr (memscope_run_get_model_path (a), ==, model);
  g_assert_cmpint (memscope_run_get_status (a), ==, MS_RUN_COMPLETE);
  /* … into the recordings folder, where the Recordings menu lists it */
  const char *recording = memscope_run_get_db_path (a);
  g_autofree char *recording_dir = g_path_get_dirname (recording);
  g_assert_cmpstr (recording_dir, ==, folder);
  g_assert_false (memscope_run_is_temporary (a));
  g_autofree char *uri = g_filename_to_uri (recording, NULL, NULL);

  /* the title names what is open */
  const char *title = gtk_window_get_title (GTK_WINDOW (win));
  g_assert_nonnull (strstr (title, memscope_run_get_name (a)));
  if (memscope_window_get_compare (win))
    g_assert_nonnull (strstr (title, memscope_run_get_name (memscope_window_get_run_b (win))));

  /* Save Recording As… copies it: the copy holds the run */
  g_autofree char *copy = g_build_filename (tmp_dir, "saved-as.sqlite", NULL);
  g_autoptr (GFile) dest = g_file_new_for_path (copy);
  save_recording_as (dest);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (copy, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) infos = ms_recording_list_runs (rec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (infos->len, ==, 1);
  g_assert_cmpint (((MsRunInfo *) infos->pdata[0])->status, ==, MS_RUN_COMPLETE);

  /* the window's size and recordings come back in a new window, at the
   * view and segment it showed */
  gtk_window_set_default_size (GTK_WINDOW (win), 1200, 800);
  activate ("view", g_variant_new_string ("write"));
  int last = memscope_window_get_n_segments (win) - 1;
  g_assert_cmpint (last, >, 0);
  activate ("segment", g_variant_new_int32 (last));
  memscope_window_save_session (win);
  other = memscope_window_new (GTK_APPLICATION (app));
  int w = 0, h = 0;
  gtk_window_get_default_size (GTK_WINDOW (other), &w, &h);
  g_assert_cmpint (w, ==, 1200);
  g_assert_cmpint (h, ==, 800);
  gtk_window_present (GTK_WINDOW (other));
  g_assert_true (memscope_window_restore_session (other));
  wait_until (other_not_busy, "the saved recordings to reopen");
  g_assert_cmpstr (memscope_run_get_db_path (memscope_window_get_run_a (other)), ==, recording);
  g_assert_cmpstr (memscope_window_get_view_name (other), ==, "write");
  g_assert_cmpint (memscope_window_get_segment (other), ==, last);
  /* the demo's temporary recordings are not among them */
  for (guint i = 0; i < memscope_window_get_n_runs (other); i++)
    g_assert_false (strstr (memscope_run_get_db_path (memscope_window_get_run (other, i)), "/memscope-"));
  /* the Recordings menu lists what the workbench recorded */
  g_assert_true (menu_has_uri (memscope_window_get_recordings_menu (win), uri));
  check_maximized_comes_back (recording, 1200, 800);
  gtk_window_destroy (GTK_WINDOW (other));
  other = NULL;
  gtk_window_destroy (GTK_WINDOW (win));
  win = main_window;
  settle ();

  /* Play turns into Pause while playing */
  GtkWidget *play = find_widget (GTK_WIDGET (win), GTK_TYPE_BUTTON, is_play_button);
  g_assert_nonnull (play);
  activate ("first", NULL);
  activate ("play", NULL);
  g_assert_true (memscope_window_get_playing (win));
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (play)), ==, "media-playback-pause-symbolic");
  activate ("play", NULL);
  g_assert_false (memscope_window_get_playing (win));
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (play)), ==, "media-playback-start-symbolic");
}

/* A file chooser the window opened (Save Recording As…) answers after the
 * window was closed: the answer does nothing (no file written) and the
 * window is released once the chooser has answered. */
void
test_close_while_choosing (void)
{
  g_autofree char *path = g_strdup (memscope_run_get_db_path (memscope_window_get_run_a (win)));
  MemscopeWindow *main_window = win;
  win = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (win));
  GFile *file = g_file_new_for_path (path);
  memscope_window_open_files (win, &file, 1);
  g_object_unref (file);
  wait_until (not_busy, "the recording to open");
  if (!memscope_window_get_run_a (win))
    g_error ("%s did not open: %s", path, memscope_window_get_error (win));

  guint before = g_list_model_get_n_items (gtk_window_get_toplevels ());
  activate ("save-recording", NULL);
  GListModel *tops = gtk_window_get_toplevels ();
  g_assert_cmpuint (g_list_model_get_n_items (tops), ==, before + 1);
  GtkWindow *chooser = NULL;
  for (guint i = 0; i < g_list_model_get_n_items (tops) && !chooser; i++)
    {
      g_autoptr (GtkWindow) top = g_list_model_get_item (tops, i);
      if (GTK_IS_FILE_CHOOSER (top))
        chooser = top;
    }
  g_assert_nonnull (chooser);
  g_autoptr (GtkWindow) kept = g_object_ref (chooser);
  g_autofree char *target = g_build_filename (tmp_dir, "chosen-after-close.sqlite", NULL);
  g_autoptr (GFile) dest = g_file_new_for_path (target);
  g_assert_true (gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), dest, NULL));

  watch_finalize (win);
  gtk_window_destroy (GTK_WINDOW (win));
  win = main_window;
  settle ();
  g_assert_false (closed_window_finalized ());   /* the chooser holds it */
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  wait_until (closed_window_finalized, "the closed window to be released once its chooser answered");
  settle ();
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
  if (gtk_widget_get_visible (GTK_WIDGET (kept)))
    gtk_window_destroy (kept);
}
