/* memscope-application.c — application actions, accelerators, windows. */
#include "memscope-application.h"

#include "memscope-resources.h"
#include "memscope-window.h"

struct _MemscopeApplication {
  AdwApplication parent_instance;

  /* Owned */
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (MemscopeApplication, memscope_application, ADW_TYPE_APPLICATION)

GSettings *
memscope_settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = source ? g_settings_schema_source_lookup (source, MEMSCOPE_APP_ID, TRUE) : NULL;
  if (schema)
    return g_settings_new_full (schema, NULL, NULL);
  g_autoptr (GSettingsSchemaSource) built =
    g_settings_schema_source_new_from_directory (MEMSCOPE_SCHEMA_DIR, source, FALSE, NULL);
  g_autoptr (GSettingsSchema) local = built ? g_settings_schema_source_lookup (built, MEMSCOPE_APP_ID, FALSE) : NULL;
  return local ? g_settings_new_full (local, NULL, NULL) : NULL;
}

static MemscopeWindow *
active_window (MemscopeApplication *self)
{
  GtkWindow *win = gtk_application_get_active_window (GTK_APPLICATION (self));
  return MEMSCOPE_IS_WINDOW (win) ? MEMSCOPE_WINDOW (win) : NULL;
}

static void
memscope_application_activate (GApplication *app)
{
  MemscopeWindow *win = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (win));
  /* what was open when it was last closed, else the demo */
  if (!memscope_window_restore_session (win))
    memscope_window_open_demo (win);
}

static void
memscope_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  MemscopeWindow *win = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (win));
  memscope_window_open_files (win, files, n_files);
}

/* ---- app.* actions ---- */

static void
on_open_response (GtkNativeDialog *chooser, int response, MemscopeApplication *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      guint n = g_list_model_get_n_items (files);
      g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (list, g_list_model_get_item (files, i));
      MemscopeWindow *win = active_window (self);
      if (!win)
        {
          win = memscope_window_new (GTK_APPLICATION (self));
          gtk_window_present (GTK_WINDOW (win));
        }
      if (n > 0)
        {
          GSettings *settings = memscope_window_get_settings (win);
          g_autoptr (GFile) parent = g_file_get_parent (list->pdata[0]);
          g_autofree char *folder = parent ? g_file_get_path (parent) : NULL;
          if (settings && folder)
            g_settings_set_string (settings, "last-folder", folder);
        }
      memscope_window_open_files (win, (GFile **) list->pdata, (int) n);
    }
  g_clear_object (&self->chooser);
}

static void
add_filter (GtkFileChooser *chooser, const char *name, const char *const *patterns)
{
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, name);
  for (; *patterns; patterns++)
    gtk_file_filter_add_pattern (filter, *patterns);
  gtk_file_chooser_add_filter (chooser, filter);
  g_object_unref (filter);
}

static void
open_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  MemscopeApplication *self = data;
  if (self->chooser)
    return;
  MemscopeWindow *win = active_window (self);
  self->chooser = gtk_file_chooser_native_new ("Open Models, Inputs or Recordings", GTK_WINDOW (win),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileChooser *chooser = GTK_FILE_CHOOSER (self->chooser);
  gtk_file_chooser_set_select_multiple (chooser, TRUE);
  add_filter (chooser, "Models, inputs and recordings", (const char *[]) { "*", NULL });
  add_filter (chooser, "Models (.safetensors)", (const char *[]) { "*.safetensors", NULL });
  add_filter (chooser, "Recordings (.sqlite)", (const char *[]) { "*.sqlite", "*.sqlite3", "*.db", NULL });
  add_filter (chooser, "Text inputs", (const char *[]) { "*.txt", "*.md", "*", NULL });
  GSettings *settings = win ? memscope_window_get_settings (win) : NULL;
  g_autofree char *folder = settings ? g_settings_get_string (settings, "last-folder") : NULL;
  if (folder && *folder)
    {
      g_autoptr (GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (chooser, dir, NULL);
    }
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  /* Closing the windows cancels their recordings; the application ends
   * when the workers have stopped (they hold it). */
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (data)));
  for (GList *l = windows; l; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (windows);
}

static void
shortcuts_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  g_autoptr (GtkBuilder) builder = gtk_builder_new_from_resource ("/io/github/memscope/Memscope/ui/shortcuts.ui");
  GtkWindow *shortcuts = GTK_WINDOW (gtk_builder_get_object (builder, "shortcuts"));
  gtk_window_set_transient_for (shortcuts, GTK_WINDOW (active_window (data)));
  gtk_window_present (shortcuts);
}

static void
about_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  const char *authors[] = { "The Memscope authors", NULL };
  gtk_show_about_dialog (GTK_WINDOW (active_window (data)), "program-name", "Memscope", "logo-icon-name",
                         MEMSCOPE_APP_ID, "version", MEMSCOPE_VERSION, "comments",
                         "Inspect how memory-augmented transformers (Memformer, RMT) write and retain memory",
                         "license-type", GTK_LICENSE_MIT_X11, "authors", authors, NULL);
}

static const GActionEntry app_entries[] = {
  { "open", open_activated },
  { "quit", quit_activated },
  { "shortcuts", shortcuts_activated },
  { "about", about_activated },
};

static void
memscope_application_startup (GApplication *app)
{
  /* AdwApplication's startup: adw_init, and style.css from the resource base path */
  G_APPLICATION_CLASS (memscope_application_parent_class)->startup (app);
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_entries, G_N_ELEMENTS (app_entries), app);
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.open", { "<Control>o" } },       { "app.quit", { "<Control>q" } },
    { "app.shortcuts", { "<Control>question" } },
    { "win.previous", { "Left" } },         { "win.next", { "Right" } },
    { "win.first", { "Home" } },            { "win.last", { "End" } },
    { "win.play", { "space" } },            { "win.export", { "<Control>e" } },
    { "win.export-all", { "<Control><Shift>e" } }, { "win.find", { "<Control>f" } }, { "win.save-recording", { "<Control><Shift>s" } },
    { "win.compare", { "<Control>k" } },    { "win.difference", { "<Control>d" } },
    { "win.zoom-in", { "<Control>plus", "<Control>equal" } },
    { "win.zoom-out", { "<Control>minus" } }, { "win.zoom-reset", { "<Control>0" } },
    { "window.close", { "<Control>w" } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action, accels[i].accels);

  gtk_window_set_default_icon_name (MEMSCOPE_APP_ID);
}

static void
memscope_application_dispose (GObject *object)
{
  MemscopeApplication *self = MEMSCOPE_APPLICATION (object);
  g_clear_object (&self->chooser);
  G_OBJECT_CLASS (memscope_application_parent_class)->dispose (object);
}

static void
memscope_application_class_init (MemscopeApplicationClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = memscope_application_dispose;
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  app_class->activate = memscope_application_activate;
  app_class->open = memscope_application_open;
  app_class->startup = memscope_application_startup;
  /* Registered here, not by a constructor a static library might drop. */
  memscope_register_resource ();
}

static void
memscope_application_init (MemscopeApplication *self)
{
}

MemscopeApplication *
memscope_application_new (GApplicationFlags flags)
{
  MemscopeApplication *self = g_object_new (MEMSCOPE_TYPE_APPLICATION, "application-id", MEMSCOPE_APP_ID, "flags",
                       G_APPLICATION_HANDLES_OPEN | flags, "resource-base-path", "/io/github/memscope/Memscope",
                       NULL);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), "[FILE…]");
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            "Opens models (.safetensors), text inputs and recordings (.sqlite);\n"
                                            "with no files, records and compares the bundled demo models.");
  return self;
}
