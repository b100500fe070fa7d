/* test-workbench.c — the GTK workbench under Xvfb, driven through its
 * actions as a user would: it starts on the demo (both models recorded on
 * worker threads), steps segments, switches every view, compares and shows
 * the difference, exports PDF and PNG figures, and reports bad files in
 * the window.  Screenshots are rendered with the window's own (cairo)
 * renderer, saved under the build folder, and checked for pixels: a
 * coloured heatmap, a colorbar, a highlighted segment that moves.
 *
 * The views load in the background: after each action the tests wait for
 * the visible view to finish loading, as a user waits for the spinner.
 * Loading is checked too: it happens off the main thread (a load held up
 * by a locked recording leaves the main loop running and the spinner
 * showing), a newer change supersedes a load in flight, and the window's
 * state reaches every view through property bindings.
 *
 * The tests share one window and run in order.  Waits iterate the main
 * loop until a condition holds; the only clock is a generous failsafe.
 * By concept: workbench-screens.c (small and wide screens, dark style), workbench-header.c
 * (the adaptive header), workbench-views.c (the demo, stepping, views, selection, compare, zoom), workbench-loading.c (loading off the main thread),
 * workbench-files.c (export, bad and read-only files, Open Recent),
 * workbench-saved.c (recordings kept, saved, reopened; banner, title, play), workbench-tokens.c
 * (the text pane of a BPE model), workbench-newcomer.c (a new user's path, on two screens),
 * workbench-causal.c (computing causal retention on the Causal bar), workbench-long.c (provenance over a
 * horizon and the zoom preview on a run past the full-provenance length), and
 * workbench-util.c (waiting, screenshots, actions, threads).
 */
#include <glib/gstdio.h>

#include "workbench-test.h"

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  tmp_dir = g_dir_make_tmp ("memscope-ui-XXXXXX", NULL);
  shots_dir = g_strdup (g_getenv ("MEMSCOPE_SCREENSHOT_DIR") ? g_getenv ("MEMSCOPE_SCREENSHOT_DIR") : tmp_dir);
  g_mkdir_with_parents (shots_dir, 0755);
  app = memscope_application_new (G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_error ("cannot register the application: %s", error->message);
  g_application_hold (G_APPLICATION (app));

  g_test_add_func ("/workbench/starts-on-demo", test_starts_on_demo);
  g_test_add_func ("/workbench/readme-screenshot", test_readme_screenshot);
  g_test_add_func ("/workbench/any-screen", test_any_screen);
  g_test_add_func ("/workbench/wide-screen", test_wide_screen);
  g_test_add_func ("/workbench/dark-figures", test_dark_figures);
  g_test_add_func ("/workbench/close-while-choosing", test_close_while_choosing);
  g_test_add_func ("/workbench/steps-segments", test_steps_segments);
  g_test_add_func ("/workbench/every-view", test_every_view);
  g_test_add_func ("/workbench/causal-page", test_causal_page);
  g_test_add_func ("/workbench/select-slot", test_select_slot);
  g_test_add_func ("/workbench/compare", test_compare);
  g_test_add_func ("/workbench/text-pane-tokens", test_text_pane_tokens);
  g_test_add_func ("/workbench/text-pane-screens", test_text_pane_screens);
  g_test_add_func ("/workbench/close-while-loading", test_close_while_loading);
  g_test_add_func ("/workbench/bindings", test_bindings);
  g_test_add_func ("/workbench/load-off-main-thread", test_load_off_main_thread);
  g_test_add_func ("/workbench/superseded-load", test_superseded_load);
  g_test_add_func ("/workbench/resized-while-loading", test_resized_while_loading);
  g_test_add_func ("/workbench/long-provenance", test_long_provenance);
  g_test_add_func ("/workbench/zoom-preview", test_zoom_preview);
  g_test_add_func ("/workbench/export", test_export);
  g_test_add_func ("/workbench/export-titles", test_export_titles);
  g_test_add_func ("/workbench/errors-in-window", test_errors_in_window);
  g_test_add_func ("/workbench/open-recording-and-cancel", test_open_recording_and_cancel);
  g_test_add_func ("/workbench/read-only-recording", test_read_only_recording);
  g_test_add_func ("/workbench/shortcuts-and-about", test_shortcuts_and_about);
  g_test_add_func ("/workbench/zoom", test_zoom);
  g_test_add_func ("/workbench/recent-files", test_recent_files);
  g_test_add_func ("/workbench/hostile-recordings", test_hostile_recordings);
  g_test_add_func ("/workbench/saved-work", test_saved_work);
  g_test_add_func ("/workbench/close-while-recording", test_close_while_recording);
  g_test_add_func ("/workbench/bpe-text-pane", test_bpe_text_pane);
  g_test_add_func ("/workbench/newcomer", test_newcomer);
  int status = g_test_run ();

  if (win)
    gtk_window_destroy (GTK_WINDOW (win));
  win = NULL;
  settle ();
  g_application_release (G_APPLICATION (app));
  g_object_unref (app);
  g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  for (const char *name; dir && (name = g_dir_read_name (dir));)
    {
      g_autofree char *p = g_build_filename (tmp_dir, name, NULL);
      g_unlink (p);
    }
  remove_shared_recordings ();
  g_rmdir (tmp_dir);
  return status;
}
