/* memscope-window-actions.c — the window's win.* actions: stepping through
 * segments, playing, switching views, comparing, zooming, exporting,
 * cancelling, reopening recent files. */
#include "memscope-export-dialog.h"
#include "memscope-window-private.h"

#include <math.h>

static void
step (GSimpleAction *action, GVariant *param, gpointer data)
{
  MemscopeWindow *self = data;
  const char *name = g_action_get_name (G_ACTION (action));
  int t = memscope_window_get_segment (self), n = memscope_window_get_n_segments (self);
  if (g_str_equal (name, "previous"))
    t--;
  else if (g_str_equal (name, "next"))
    t++;
  else if (g_str_equal (name, "first"))
    t = 0;
  else
    t = n - 1;
  memscope_window_set_segment (self, t);
}

static void
select_segment (GSimpleAction *action, GVariant *param, gpointer data)
{
  memscope_window_set_segment (data, g_variant_get_int32 (param));
}

static void
select_slot (GSimpleAction *action, GVariant *param, gpointer data)
{
  memscope_window_set_slot (data, g_variant_get_int32 (param));
}

static void
change_play (GSimpleAction *action, GVariant *value, gpointer data)
{
  memscope_window_set_playing (data, g_variant_get_boolean (value));
}

static void
change_compare (GSimpleAction *action, GVariant *value, gpointer data)
{
  MemscopeWindow *self = data;
  gboolean on = g_variant_get_boolean (value);
  if (g_str_equal (g_action_get_name (G_ACTION (action)), "compare"))
    memscope_window_set_compare (self, on, memscope_window_get_difference (self));
  else
    memscope_window_set_compare (self, on || memscope_window_get_compare (self), on);
  memscope_window_sync_actions (self);
}

static void
change_view (GSimpleAction *action, GVariant *value, gpointer data)
{
  memscope_window_set_view_name (data, g_variant_get_string (value, NULL));
  memscope_window_sync_actions (data);
}

static void
export (GSimpleAction *action, GVariant *param, gpointer data)
{
  MemscopeWindow *self = data;
  GtkWidget *dialog = memscope_export_dialog_new (self, memscope_window_get_visible_view (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_recording_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!memscope_window_save_recording_finish (MEMSCOPE_WINDOW (source), result, &error))
    {
      g_autofree char *message = g_strdup_printf ("Could not save the recording: %s", error->message);
      memscope_window_show_error (MEMSCOPE_WINDOW (source), message);
    }
}

/* The window's file choosers are not destroyed with it and may answer
 * after it closed: each holds a reference to the window until it answers
 * (released with the chooser), and the answer to a closed window does
 * nothing. */
static void
release_window (gpointer window, GClosure *closure)
{
  g_object_unref (window);
}

static void
connect_response (GtkFileChooserNative *chooser, GCallback callback, MemscopeWindow *self)
{
  g_signal_connect_data (chooser, "response", callback, g_object_ref (self), release_window, 0);
}

static gboolean
is_closed (MemscopeWindow *self)
{
  return self->runs == NULL;   /* destroyed (close_window) */
}

static void
on_save_response (GtkNativeDialog *chooser, int response, MemscopeWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT && !is_closed (self))
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      if (file)
        memscope_window_save_recording_async (self, file, on_recording_saved, NULL);
    }
  g_object_unref (chooser);
}

/* Save Recording As…: run A's recording, copied where the user says. */
static void
save_recording (GSimpleAction *action, GVariant *param, gpointer data)
{
  MemscopeWindow *self = data;
  MemscopeRun *a = memscope_window_get_run_a (self);
  if (!a)
    return;
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new ("Save Recording As", GTK_WINDOW (self),
                                                               GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
  g_autofree char *name = g_strdup_printf ("%s.sqlite", memscope_run_get_name (a));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  connect_response (chooser, G_CALLBACK (on_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_exported_all (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!memscope_window_export_all_finish (MEMSCOPE_WINDOW (source), result, &error))
    {
      g_autofree char *message = g_strdup_printf ("Could not export every view: %s", error->message);
      memscope_window_show_error (MEMSCOPE_WINDOW (source), message);
    }
}

static void
on_export_all_response (GtkNativeDialog *chooser, int response, MemscopeWindow *self)
{
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT && !is_closed (self)
                             ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser))
                             : NULL;
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  if (path)
    {
      /* the export dialog's size preset, at 300 dpi */
      GSettings *settings = memscope_window_get_settings (self);
      g_autofree char *preset = settings ? g_settings_get_string (settings, "export-preset") : g_strdup ("double");
      MsFigureSize size;
      if (!ms_figure_size_parse (preset, &size, NULL))
        ms_figure_size_parse ("double", &size, NULL);
      MsFigureFormat format;
      g_autofree char *target = ms_figure_format_from_path (path, &format, NULL) ? g_strdup (path)
                                                                                : g_strconcat (path, ".pdf", NULL);
      memscope_window_export_all_async (self, target, size.width_in, size.height_in, MS_FIGURE_DPI, NULL,
                                        on_exported_all, NULL);
    }
  g_object_unref (chooser);
}

/* Export All…: one file per view, named from the path chosen. */
static void
export_all (GSimpleAction *action, GVariant *param, gpointer data)
{
  MemscopeWindow *self = data;
  MemscopeRun *a = memscope_window_get_run_a (self);
  if (!a)
    return;
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new ("Export All Views (one file each, NAME-VIEW.pdf)",
                                                               GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                                               "_Export", "_Cancel");
  g_autofree char *name = g_strdup_printf ("%s.pdf", memscope_run_get_name (a));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  connect_response (chooser, G_CALLBACK (on_export_all_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Ctrl+F: the search bar over the text, focused. */
static void
find (GSimpleAction *action, GVariant *param, gpointer data)
{
  MemscopeWindow *self = data;
  memscope_text_pane_start_search (self->text_pane);
}

static void
cancel (GSimpleAction *action, GVariant *param, gpointer data)
{
  memscope_window_cancel (data);
}

/* Zoom the visible view's segment axis around the current segment. */
static void
zoom (GSimpleAction *action, GVariant *param, gpointer data)
{
  MemscopeFigureView *view = memscope_window_get_visible_view (data);
  const char *name = g_action_get_name (G_ACTION (action));
  if (g_str_equal (name, "zoom-reset"))
    memscope_figure_view_reset_zoom (view);
  else
    memscope_figure_view_zoom (view, g_str_equal (name, "zoom-in") ? 2.0 : 0.5, NAN);
}

static void
open_recent (GSimpleAction *action, GVariant *param, gpointer data)
{
  g_autoptr (GFile) file = g_file_new_for_uri (g_variant_get_string (param, NULL));
  memscope_window_open_files (data, &file, 1);
}

static void
dismiss_error (GSimpleAction *action, GVariant *param, gpointer data)
{
  memscope_window_show_error (data, NULL);
}

static const GActionEntry win_entries[] = {
  { "previous", step },
  { "next", step },
  { "first", step },
  { "last", step },
  { "segment", select_segment, "i" },
  { "slot", select_slot, "i" },
  { "play", NULL, NULL, "false", change_play },
  { "compare", NULL, NULL, "false", change_compare },
  { "difference", NULL, NULL, "false", change_compare },
  { "view", NULL, "s", "'retention'", change_view },
  { "export", export },
  { "save-recording", save_recording },
  { "export-all", export_all },
  { "find", find },
  { "open-recent", open_recent, "s" },
  { "zoom-in", zoom },
  { "zoom-out", zoom },
  { "zoom-reset", zoom },
  { "cancel", cancel },
  { "dismiss-error", dismiss_error },
};

void
memscope_window_install_actions (MemscopeWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries, G_N_ELEMENTS (win_entries), self);
}

static void
set_enabled (MemscopeWindow *self, const char *name, gboolean enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static void
set_state (MemscopeWindow *self, const char *name, GVariant *state)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);
  g_simple_action_set_state (G_SIMPLE_ACTION (action), state);
}

/* Enables what makes sense now and mirrors the state into the actions. */
void
memscope_window_sync_actions (MemscopeWindow *self)
{
  if (!g_action_map_lookup_action (G_ACTION_MAP (self), "next"))
    return;
  int t = memscope_window_get_segment (self), n = memscope_window_get_n_segments (self);
  set_enabled (self, "previous", t > 0);
  set_enabled (self, "first", t > 0);
  set_enabled (self, "next", t + 1 < n);
  set_enabled (self, "last", t + 1 < n);
  set_enabled (self, "play", n > 1);
  gboolean two = memscope_window_get_run_b (self) != NULL;
  set_enabled (self, "compare", two);
  set_enabled (self, "difference", two);
  set_enabled (self, "export", n > 0);
  set_enabled (self, "export-all", n > 0);
  MemscopeRun *a = memscope_window_get_run_a (self);
  set_enabled (self, "save-recording", a && memscope_run_get_db_path (a) && n > 0
                                         && memscope_run_get_status (a) != MS_RUN_RECORDING);
  set_enabled (self, "cancel", memscope_window_is_busy (self));
  gboolean playing = memscope_window_get_playing (self);
  set_state (self, "play", g_variant_new_boolean (playing));
  /* Play turns into Pause while playing */
  gtk_button_set_icon_name (self->play_button, playing ? "media-playback-pause-symbolic"
                                                       : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button), playing ? "Pause (Space)" : "Play (Space)");
  set_state (self, "compare", g_variant_new_boolean (memscope_window_get_compare (self)));
  set_state (self, "difference", g_variant_new_boolean (memscope_window_get_difference (self)));
  const char *view = memscope_window_get_view_name (self);
  if (view)
    set_state (self, "view", g_variant_new_string (view));
}
