/* memscope-window-open.c — opening models, inputs and recordings in the
 * window, and recording runs on worker threads as they arrive. */
#include "memscope-window-private.h"

#include "memscope-task.h"
#include <glib/gstdio.h>
#include "ms-recording.h"

static void
on_run_progress (MemscopeRun *run, int done, int total, MemscopeWindow *self)
{
  if (!self->runs)
    return;   /* closed while recording */
  _memscope_window_update_progress (self);
  _memscope_window_schedule_refresh (self);
}

/* What the window showed before new runs were put in front of it, kept on
 * each new run until it has recorded: a run that fails before its first
 * segment is dropped, and the window shows this again rather than a
 * half-changed choice of runs, segment and comparison. */
typedef struct {
  MemscopeRun *a, *b;   /* owned; NULL: none */
  int segment;
  gboolean compare;
} ShownBefore;

#define SHOWN_BEFORE_KEY "memscope-shown-before"

static void
shown_before_free (gpointer data)
{
  ShownBefore *before = data;
  g_clear_object (&before->a);
  g_clear_object (&before->b);
  g_free (before);
}

static ShownBefore *
shown_before_new (MemscopeWindow *self)
{
  ShownBefore *before = g_new0 (ShownBefore, 1);
  MemscopeRun *a = memscope_window_get_run_a (self), *b = memscope_window_get_run_b (self);
  before->a = a ? g_object_ref (a) : NULL;
  before->b = b ? g_object_ref (b) : NULL;
  before->segment = self->segment;
  before->compare = self->compare;
  return before;
}

/* @run, when the window still lists it, else NULL. */
static MemscopeRun *
still_listed (MemscopeWindow *self, MemscopeRun *run)
{
  guint position;
  return run && g_list_store_find (self->runs, run, &position) ? run : NULL;
}

/* Drops @run, which failed before recording a segment; when the window
 * shows it, the window shows what it showed before @run came. */
static void
drop_failed_run (MemscopeWindow *self, MemscopeRun *run, guint position)
{
  gboolean was_a = self->run_a == run, was_b = self->run_b == run;
  ShownBefore *before = g_object_get_data (G_OBJECT (run), SHOWN_BEFORE_KEY);
  /* the dropdowns select another run when theirs goes, and A and B follow them */
  g_list_store_remove (self->runs, position);
  guint n = memscope_window_get_n_runs (self);
  if ((was_a || was_b) && before && (!before->a || still_listed (self, before->a))
      && (!before->b || still_listed (self, before->b)))
    {
      g_object_freeze_notify (G_OBJECT (self));
      _memscope_window_set_run_a (self, before->a);
      _memscope_window_set_run_b (self, before->b);
      memscope_window_set_compare (self, before->compare && before->b, self->difference);
      memscope_window_set_segment (self, before->segment);
      g_object_thaw_notify (G_OBJECT (self));
      return;
    }
  if (self->run_a == run)
    _memscope_window_set_run_a (self, n ? memscope_window_get_run (self, 0) : NULL);
  if (self->run_b == run)
    _memscope_window_set_run_b (self, n > 1 ? memscope_window_get_run (self, 1) : NULL);
}

static void
on_record_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MemscopeRun *run = MEMSCOPE_RUN (source);
  g_autoptr (MemscopeWindow) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = memscope_run_record_finish (run, result, &error);
  if (!self->runs)
    return;   /* closed while recording: the run was cancelled, nothing to show */
  if (!ok)
    {
      g_autofree char *msg = NULL;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || error->code == 5 /* MS_ERROR_CANCELLED */)
        msg = g_strdup_printf ("Recording of %s cancelled after %d segments.", memscope_run_get_name (run),
                               memscope_run_get_segments_done (run));
      else
        msg = g_strdup_printf ("Could not record %s: %s", memscope_run_get_name (run), error->message);
      memscope_window_show_error (self, msg);
      guint position;
      if (memscope_run_get_segments_done (run) == 0 && g_list_store_find (self->runs, run, &position))
        drop_failed_run (self, run, position);   /* nothing to show */
    }
  g_object_set_data (G_OBJECT (run), SHOWN_BEFORE_KEY, NULL);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  _memscope_window_refresh_now (self);
  if (!memscope_run_is_temporary (run))
    _memscope_window_update_recordings_menu (self);
}

/* Adds @runs (newest first) in front of the window's runs; run A is the
 * first new one, run B the second new one or the previous run A. */
static void
add_runs (MemscopeWindow *self, GPtrArray *new_runs)
{
  if (new_runs->len == 0)
    return;
  g_autoptr (MemscopeRun) old_a = self->run_a ? g_object_ref (self->run_a) : NULL;
  g_list_store_splice (self->runs, 0, 0, new_runs->pdata, new_runs->len);
  MemscopeRun *b = new_runs->len > 1 ? new_runs->pdata[1] : old_a;
  g_object_freeze_notify (G_OBJECT (self));
  _memscope_window_set_run_a (self, new_runs->pdata[0]);
  _memscope_window_set_run_b (self, b);
  memscope_window_set_segment (self, 0);
  memscope_window_set_compare (self, b != NULL, self->difference);
  g_object_thaw_notify (G_OBJECT (self));
  _memscope_window_update_progress (self);
}

static void
record_models (MemscopeWindow *self, GPtrArray *models, const char *input)
{
  g_autoptr (GPtrArray) new_runs = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < models->len; i++)
    {
      MemscopeRun *run = memscope_run_new_for_model (models->pdata[i], input);
      if (!self->temporary)
        {
          g_autofree char *folder = memscope_recordings_dir ();
          memscope_run_set_folder (run, folder);
        }
      g_signal_connect_object (run, "progress", G_CALLBACK (on_run_progress), self, 0);
      g_object_set_data_full (G_OBJECT (run), SHOWN_BEFORE_KEY, shown_before_new (self), shown_before_free);
      g_ptr_array_add (new_runs, run);
    }
  add_runs (self, new_runs);
  for (guint i = 0; i < new_runs->len; i++)
    memscope_run_record_async (new_runs->pdata[i], self->cancellable, on_record_done, g_object_ref (self));
  _memscope_window_update_progress (self);
}

/* Opening recordings, on a worker thread: each file's runs, or why not. */
typedef struct {
  GPtrArray *paths;      /* char *: the recordings, in the order given */
  GPtrArray *infos;      /* GPtrArray of MsRunInfo per path, NULL when it failed */
  GPtrArray *problems;   /* char *: the messages of those that failed */
} OpenJob;

static void
free_infos (gpointer infos)
{
  if (infos)
    g_ptr_array_unref (infos);
}

static void
open_job_free (OpenJob *job)
{
  g_ptr_array_unref (job->paths);
  g_ptr_array_unref (job->infos);
  g_ptr_array_unref (job->problems);
  g_free (job);
}

static void
open_job_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  OpenJob *job = data;
  for (guint i = 0; i < job->paths->len; i++)
    {
      const char *path = job->paths->pdata[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
      GPtrArray *infos = rec ? ms_recording_list_runs (rec, &error) : NULL;
      if (infos && infos->len == 0)
        {
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s holds no runs", path);
          g_clear_pointer (&infos, g_ptr_array_unref);
        }
      g_ptr_array_add (job->infos, infos);
      if (!infos)
        g_ptr_array_add (job->problems, g_strdup (error->message));
    }
  g_task_return_boolean (task, TRUE);
}

/* Shows where a session being restored was: its view, segment and
 * comparison, once its recordings have opened. */
static void
apply_restored_session (MemscopeWindow *self)
{
  if (!self->restore_view || memscope_window_get_n_runs (self) == 0)
    return;
  if (*self->restore_view)
    memscope_window_set_view_name (self, self->restore_view);
  memscope_window_set_compare (self, self->restore_compare && memscope_window_get_run_b (self), self->difference);
  memscope_window_set_segment (self, self->restore_segment);
  g_clear_pointer (&self->restore_view, g_free);
}

/* Main thread: shows the runs of the recordings that opened, and adds the
 * problems of those that did not to the banner. */
static void
open_job_done (GObject *object, GAsyncResult *result, gpointer data)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  OpenJob *job = g_task_get_task_data (G_TASK (result));
  self->opening--;
  if (!self->runs)
    return;   /* closed meanwhile */
  g_autoptr (GPtrArray) new_runs = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < job->paths->len; i++)
    {
      GPtrArray *infos = job->infos->pdata[i];
      /* opened: under Open Recent; refused: not offered again */
      g_autofree char *uri = g_filename_to_uri (job->paths->pdata[i], NULL, NULL);
      GtkRecentManager *recent = gtk_recent_manager_get_default ();
      if (uri && infos)
        gtk_recent_manager_add_item (recent, uri);
      else if (uri && gtk_recent_manager_has_item (recent, uri))
        gtk_recent_manager_remove_item (recent, uri, NULL);
      for (guint j = 0; infos && j < infos->len; j++)
        g_ptr_array_add (new_runs, memscope_run_new_recorded (job->paths->pdata[i], infos->pdata[j]));
    }
  add_runs (self, new_runs);
  if (self->opening == 0)
    apply_restored_session (self);
  if (job->problems->len)
    {
      GString *message = g_string_new (self->error);
      for (guint i = 0; i < job->problems->len; i++)
        g_string_append_printf (message, "%s%s", message->len ? "\n" : "", (char *) job->problems->pdata[i]);
      memscope_window_show_error (self, message->str);
      g_string_free (message, TRUE);
    }
  _memscope_window_update_progress (self);
}

/* Opens @paths (owned) on a worker thread; their runs appear when read. */
static void
open_recordings (MemscopeWindow *self, GPtrArray *paths)
{
  OpenJob *job = g_new0 (OpenJob, 1);
  job->paths = paths;
  job->infos = g_ptr_array_new_with_free_func (free_infos);
  job->problems = g_ptr_array_new_with_free_func (g_free);
  self->opening++;
  GTask *task = g_task_new (self, NULL, open_job_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) open_job_free);
  memscope_task_run_in_thread (task, open_job_run);
  g_object_unref (task);
}

static gboolean
has_suffix_ci (const char *path, const char *suffix)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  return g_str_has_suffix (lower, suffix);
}

#define RECENT_MENU_SIZE 10

static int
newest_first (gconstpointer a, gconstpointer b)
{
  GtkRecentInfo *x = *(GtkRecentInfo **) a, *y = *(GtkRecentInfo **) b;
  return g_date_time_compare (gtk_recent_info_get_modified (y), gtk_recent_info_get_modified (x));
}

void
_memscope_window_update_recent_menu (MemscopeWindow *self)
{
  GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
  g_autoptr (GPtrArray) ours = g_ptr_array_new ();
  for (GList *l = items; l; l = l->next)
    if (gtk_recent_info_has_application (l->data, g_get_application_name ()) && gtk_recent_info_is_local (l->data)
        && gtk_recent_info_exists (l->data))
      g_ptr_array_add (ours, l->data);
  g_ptr_array_sort (ours, newest_first);
  g_menu_remove_all (self->recent_menu);
  for (guint i = 0; i < MIN (ours->len, RECENT_MENU_SIZE); i++)
    {
      const char *uri = gtk_recent_info_get_uri (ours->pdata[i]);
      g_autoptr (GFile) file = g_file_new_for_uri (uri);
      g_autoptr (GFile) parent = g_file_get_parent (file);
      g_autofree char *name = g_file_get_basename (file);
      g_autofree char *folder = parent ? g_file_get_basename (parent) : NULL;
      /* the folder tells apart the same name in two places: "demo.txt (inputs)" */
      g_autofree char *label = folder ? g_strdup_printf ("%s (%s)", name, folder) : g_strdup (name);
      g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target_value (item, "win.open-recent", g_variant_new_string (uri));
      g_menu_append_item (self->recent_menu, item);
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
}

void
memscope_window_open_files (MemscopeWindow *self, GFile **files, int n_files)
{
  g_autoptr (GPtrArray) models = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *recordings = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *input = NULL;
  GString *problems = g_string_new (NULL);
  GtkRecentManager *recent = gtk_recent_manager_get_default ();
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_file_get_path (files[i]);
      g_autofree char *shown = path ? g_strdup (path) : g_file_get_uri (files[i]);
      if (!path || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_string_append_printf (problems, "%s%s: no such file", problems->len ? "\n" : "", shown);
          continue;
        }
      g_autofree char *uri = g_file_get_uri (files[i]);
      /* a recording goes under Open Recent once it has opened */
      if (has_suffix_ci (path, ".sqlite") || has_suffix_ci (path, ".sqlite3") || has_suffix_ci (path, ".db"))
        g_ptr_array_add (recordings, g_steal_pointer (&path));
      else if ((gtk_recent_manager_add_item (recent, uri), has_suffix_ci (path, ".safetensors")))
        g_ptr_array_add (models, g_steal_pointer (&path));
      else
        (g_free (input), input = g_strdup (path));
    }
  if (input)
    (g_free (self->input_path), self->input_path = g_strdup (input));
  if (models->len == 0 && input)
    {
      /* A new input alone: record the models opened before any input, or
       * else the models shown, on it. */
      for (guint i = 0; i < self->pending_models->len; i++)
        g_ptr_array_add (models, g_strdup (self->pending_models->pdata[i]));
      MemscopeRun *shown[2] = { memscope_window_get_run_a (self), memscope_window_get_run_b (self) };
      for (int i = 0; i < 2 && models->len == 0; i++)
        if (shown[i] && memscope_run_get_model_path (shown[i]))
          g_ptr_array_add (models, g_strdup (memscope_run_get_model_path (shown[i])));
      if (models->len == 0)
        g_string_append_printf (problems, "%sOpen a model (.safetensors) to run on %s", problems->len ? "\n" : "",
                                input);
    }
  if (models->len)
    {
      if (!self->input_path || !g_file_test (self->input_path, G_FILE_TEST_IS_REGULAR))
        {
          /* kept until an input is opened */
          g_ptr_array_set_size (self->pending_models, 0);
          GString *names = g_string_new (NULL);
          for (guint i = 0; i < models->len; i++)
            {
              g_autofree char *base = g_path_get_basename (models->pdata[i]);
              g_string_append_printf (names, "%s%s", i ? ", " : "", base);
              g_ptr_array_add (self->pending_models, g_strdup (models->pdata[i]));
            }
          if (self->input_path)
            g_string_append_printf (problems, "%sThe input %s is missing: open a text file to run %s on",
                                    problems->len ? "\n" : "", self->input_path, names->str);
          else
            g_string_append_printf (problems, "%sOpen an input (a text file) to run %s on", problems->len ? "\n" : "",
                                    names->str);
          g_string_free (names, TRUE);
        }
      else
        {
          g_ptr_array_set_size (self->pending_models, 0);
          record_models (self, models, self->input_path);
        }
    }
  memscope_window_show_error (self, problems->len ? problems->str : NULL);
  g_string_free (problems, TRUE);
  if (recordings->len)
    open_recordings (self, recordings);   /* after the banner: their problems are added to it */
  else
    g_ptr_array_unref (recordings);
}

/* Records the bundled models and input named in @names (two models, then
 * the input; relative to memscope_data_dir ()) into temporary files. */
static void
open_bundled (MemscopeWindow *self, const char *const names[3])
{
  const char *dir = memscope_data_dir ();
  GFile *files[3];
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      files[i] = g_file_new_for_path (p);
    }
  self->temporary = TRUE;   /* the demo is made again at every start */
  memscope_window_open_files (self, files, 3);
  self->temporary = FALSE;
  if (self->error)
    {
      g_autofree char *msg = g_strdup_printf ("%s\n(the demo lives in %s; set MEMSCOPE_DATA_DIR to Memscope's "
                                              "resources folder)", self->error, dir);
      memscope_window_show_error (self, msg);
    }
  for (int i = 0; i < 3; i++)
    g_object_unref (files[i]);
}

void
memscope_window_open_demo (MemscopeWindow *self)
{
  /* the language models trained on English text, on a held-out document */
  static const char *const names[] = { "models/text-memformer.safetensors", "models/text-rmt.safetensors",
                                       "inputs/text-demo.txt" };
  open_bundled (self, names);
}

void
memscope_window_open_copy_demo (MemscopeWindow *self)
{
  /* the trained copy-task models on two copy instances back to back */
  static const char *const names[] = { "models/copy-memformer.safetensors", "models/copy-rmt.safetensors",
                                       "inputs/copy-demo.txt" };
  open_bundled (self, names);
}

char *
memscope_recordings_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "memscope", "recordings", NULL);
}

typedef struct {
  char *path;
  gint64 modified;
} Listed;

static int
listed_newest_first (gconstpointer a, gconstpointer b)
{
  const Listed *x = a, *y = b;
  return x->modified < y->modified ? 1 : x->modified > y->modified ? -1 : g_strcmp0 (x->path, y->path);
}

void
_memscope_window_update_recordings_menu (MemscopeWindow *self)
{
  g_autofree char *folder = memscope_recordings_dir ();
  g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
  g_autoptr (GArray) listed = g_array_new (FALSE, FALSE, sizeof (Listed));
  for (const char *name; dir && (name = g_dir_read_name (dir));)
    {
      if (!g_str_has_suffix (name, ".sqlite"))
        continue;
      Listed l = { g_build_filename (folder, name, NULL), 0 };
      GStatBuf st;
      if (g_stat (l.path, &st) == 0)
        l.modified = (gint64) st.st_mtime;
      g_array_append_val (listed, l);
    }
  g_array_sort (listed, listed_newest_first);
  g_menu_remove_all (self->recordings_menu);
  for (guint i = 0; i < listed->len; i++)
    {
      Listed *l = &g_array_index (listed, Listed, i);
      if (i < RECENT_MENU_SIZE)
        {
          g_autofree char *uri = g_filename_to_uri (l->path, NULL, NULL);
          g_autofree char *label = g_path_get_basename (l->path);
          g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);
          g_menu_item_set_action_and_target_value (item, "win.open-recent", g_variant_new_string (uri));
          g_menu_append_item (self->recordings_menu, item);
        }
      g_free (l->path);
    }
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  GError *error = NULL;
  if (g_file_copy_finish (G_FILE (source), result, &error))
    {
      g_autofree char *uri = g_file_get_uri (g_task_get_task_data (task));
      gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
      g_task_return_boolean (task, TRUE);
    }
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

void
memscope_window_save_recording_async (MemscopeWindow *self, GFile *dest, GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, memscope_window_save_recording_async);
  g_task_set_task_data (task, g_object_ref (dest), g_object_unref);
  MemscopeRun *a = memscope_window_get_run_a (self);
  if (!a || !memscope_run_get_db_path (a) || memscope_run_get_status (a) == MS_RUN_RECORDING)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               "There is no finished recording to save: wait until run A is recorded");
      g_object_unref (task);
      return;
    }
  g_autoptr (GFile) src = g_file_new_for_path (memscope_run_get_db_path (a));
  g_file_copy_async (src, dest, G_FILE_COPY_OVERWRITE, G_PRIORITY_DEFAULT, NULL, NULL, NULL, on_saved, task);
}

gboolean
memscope_window_save_recording_finish (MemscopeWindow *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
memscope_window_save_session (MemscopeWindow *self)
{
  if (!self->settings || !self->runs)
    return;
  int w = 0, h = 0;
  gtk_window_get_default_size (GTK_WINDOW (self), &w, &h);
  gboolean maximized = gtk_window_is_maximized (GTK_WINDOW (self));
  if (!maximized && w > 0 && h > 0)
    {
      g_settings_set_int (self->settings, "window-width", w);
      g_settings_set_int (self->settings, "window-height", h);
    }
  g_settings_set_boolean (self->settings, "window-maximized", maximized);
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  /* newest first, as the window lists them: reopened, the first is run A again */
  for (guint i = 0; i < memscope_window_get_n_runs (self); i++)
    {
      MemscopeRun *run = memscope_window_get_run (self, i);
      const char *path = memscope_run_get_db_path (run);
      if (path && !memscope_run_is_temporary (run) && memscope_run_get_segments_done (run) > 0
          && !g_ptr_array_find_with_equal_func (paths, path, g_str_equal, NULL))
        g_ptr_array_add (paths, (gpointer) path);
    }
  g_ptr_array_add (paths, NULL);
  g_settings_set_strv (self->settings, "open-recordings", (const char *const *) paths->pdata);
  const char *view = memscope_window_get_view_name (self);
  g_settings_set_string (self->settings, "view", view ? view : "");
  g_settings_set_int (self->settings, "segment", self->segment);
  g_settings_set_boolean (self->settings, "compare", self->compare);
}

gboolean
memscope_window_restore_session (MemscopeWindow *self)
{
  if (!self->settings)
    return FALSE;
  g_auto (GStrv) saved = g_settings_get_strv (self->settings, "open-recordings");
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  for (int i = 0; saved[i]; i++)
    if (g_file_test (saved[i], G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (files, g_file_new_for_path (saved[i]));
  if (files->len == 0)
    return FALSE;
  g_free (self->restore_view);
  self->restore_view = g_settings_get_string (self->settings, "view");
  self->restore_segment = g_settings_get_int (self->settings, "segment");
  self->restore_compare = g_settings_get_boolean (self->settings, "compare");
  memscope_window_open_files (self, (GFile **) files->pdata, (int) files->len);
  return TRUE;
}
