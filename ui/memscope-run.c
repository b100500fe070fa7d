/* memscope-run.c — a run recorded on a worker thread, read on the main one. */
#include "memscope-run.h"

#include <errno.h>

#include <glib/gstdio.h>

#include "ms-engine.h"
#include "ms-error.h"
#include "ms-recorder.h"
#include "memscope-task.h"

struct _MemscopeRun {
  GObject parent_instance;

  /* Owned */
  char *name;
  char *model_path;
  char *input_path;
  char *db_path;
  char *tmp_dir;            /* the temporary folder holding db_path, deleted with the run */
  char *folder;             /* where to record instead of a temporary folder, NULL: temporary */
  MsConfig config;

  gint64 run_id;
  MsRunStatus status;
  int segments_done;
  int n_segments;
  int segment_len;
  gboolean have_config;
};

G_DEFINE_FINAL_TYPE (MemscopeRun, memscope_run, G_TYPE_OBJECT)

enum { SIGNAL_PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
memscope_run_finalize (GObject *object)
{
  MemscopeRun *self = MEMSCOPE_RUN (object);
  if (self->tmp_dir)
    {
      const char *suffixes[] = { "", "-wal", "-shm", "-journal" };
      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *p = g_strconcat (self->db_path, suffixes[i], NULL);
          g_unlink (p);
        }
      g_rmdir (self->tmp_dir);
    }
  g_free (self->name);
  g_free (self->model_path);
  g_free (self->input_path);
  g_free (self->db_path);
  g_free (self->tmp_dir);
  g_free (self->folder);
  G_OBJECT_CLASS (memscope_run_parent_class)->finalize (object);
}

static void
memscope_run_class_init (MemscopeRunClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = memscope_run_finalize;
  /* (segments_done, n_segments), on the main thread */
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
}

static void
memscope_run_init (MemscopeRun *self)
{
}

static char *
basename_no_ext (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strrchr (base, '.');
  if (dot && dot != base)
    *dot = '\0';
  return g_steal_pointer (&base);
}

MemscopeRun *
memscope_run_new_for_model (const char *model_path, const char *input_path)
{
  MemscopeRun *self = g_object_new (MEMSCOPE_TYPE_RUN, NULL);
  self->model_path = g_strdup (model_path);
  self->input_path = g_strdup (input_path);
  self->name = basename_no_ext (model_path);
  return self;
}

void
memscope_run_set_folder (MemscopeRun *self, const char *folder)
{
  g_return_if_fail (self->status == MS_RUN_PENDING);
  g_free (self->folder);
  self->folder = g_strdup (folder);
}

/* A new file name in @folder for @name recorded on @input_path:
 * "NAME on INPUT.sqlite", then "NAME on INPUT 2.sqlite", … */
static char *
new_recording_path (const char *folder, const char *name, const char *input_path)
{
  g_autofree char *input = input_path ? basename_no_ext (input_path) : g_strdup ("input");
  for (int i = 1;; i++)
    {
      g_autofree char *base = i == 1 ? g_strdup_printf ("%s on %s.sqlite", name, input)
                                     : g_strdup_printf ("%s on %s %d.sqlite", name, input, i);
      char *path = g_build_filename (folder, base, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return path;
      g_free (path);
    }
}

MemscopeRun *
memscope_run_new_recorded (const char *db_path, const MsRunInfo *info)
{
  MemscopeRun *self = g_object_new (MEMSCOPE_TYPE_RUN, NULL);
  self->db_path = g_strdup (db_path);
  self->model_path = g_strdup (info->model_path);
  self->input_path = g_strdup (info->input_path);
  self->name = g_strdup_printf ("%s (run %" G_GINT64_FORMAT ")", info->name, info->id);
  self->run_id = info->id;
  self->config = info->config;
  self->have_config = TRUE;
  self->segment_len = info->segment_len;
  self->n_segments = info->n_segments;
  self->segments_done = info->segments_done;
  /* A run opened from a file: recorded by someone else, so not ours to
   * follow while it grows. */
  self->status = info->status == MS_RUN_COMPLETE ? MS_RUN_COMPLETE : MS_RUN_INCOMPLETE;
  return self;
}

/* ---- recording on a worker thread ---- */

typedef struct {
  MemscopeRun *run;   /* borrowed: the task's source object */
  GMainContext *context;   /* the task's: where progress is delivered */
  char *db_path;
  gint64 run_id;
  MsConfig config;
  int segment_len;
} RecordData;

static void
record_data_free (RecordData *d)
{
  g_main_context_unref (d->context);
  g_free (d->db_path);
  g_free (d);
}

typedef struct {
  MemscopeRun *run;   /* owned */
  gint64 run_id;
  MsConfig config;
  int segment_len;
  int done, total;
} ProgressMessage;

static gboolean
deliver_progress (gpointer data)
{
  ProgressMessage *m = data;
  MemscopeRun *self = m->run;
  if (m->done > self->segments_done)
    {
      self->run_id = m->run_id;
      self->config = m->config;
      self->have_config = TRUE;
      self->segment_len = m->segment_len;
      self->segments_done = m->done;
      self->n_segments = m->total;
      g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, m->done, m->total);
    }
  return G_SOURCE_REMOVE;
}

static void
progress_message_free (gpointer data)
{
  ProgressMessage *m = data;
  g_object_unref (m->run);
  g_free (m);
}

/* Worker thread: after each committed segment.  Posted, never invoked:
 * "progress" reaches the window's widgets, which only the main thread
 * touches. */
static void
on_record_progress (int done, int total, gpointer user_data)
{
  RecordData *d = user_data;
  ProgressMessage *m = g_new0 (ProgressMessage, 1);
  *m = (ProgressMessage) { g_object_ref (d->run), d->run_id, d->config, d->segment_len, done, total };
  memscope_context_post (d->context, G_PRIORITY_DEFAULT, deliver_progress, m, progress_message_free);
}

static void
record_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  MemscopeRun *self = source;
  RecordData *d = task_data;
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (self->model_path, &error);
  if (!model)
    return g_task_return_error (task, error);
  d->config = *ms_model_get_config (model);
  d->segment_len = d->config.segment_len;
  g_autofree char *name = g_strdup (self->name);
  MsRecordOptions opts = { .name = name, .attn = MS_ATTN_STORE_NONE };
  if (!ms_record (d->db_path, model, self->input_path, &opts, 0, on_record_progress, d, cancellable, &d->run_id,
                  &error))
    return g_task_return_error (task, error);
  g_task_return_boolean (task, TRUE);
}

/* The application held while a run records, released on the main thread
 * (the task may be finalized on the worker). */
typedef struct {
  GApplication *app;
  GMainContext *context;
} AppHold;

static gboolean
release_app (gpointer app)
{
  g_application_release (app);
  return G_SOURCE_REMOVE;
}

static void
app_hold_free (gpointer data)
{
  AppHold *hold = data;
  memscope_context_post (hold->context, G_PRIORITY_DEFAULT, release_app, hold->app, g_object_unref);
  g_main_context_unref (hold->context);
  g_free (hold);
}

void
memscope_run_record_async (MemscopeRun *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (MEMSCOPE_IS_RUN (self) && self->status == MS_RUN_PENDING);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, memscope_run_record_async);
  GError *error = NULL;
  if (self->folder && g_mkdir_with_parents (self->folder, 0755) != 0)
    {
      int saved = errno;
      self->status = MS_RUN_INCOMPLETE;
      return g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                      "Cannot make the recordings folder %s: %s", self->folder, g_strerror (saved));
    }
  if (!self->folder && !(self->tmp_dir = g_dir_make_tmp ("memscope-XXXXXX", &error)))
    {
      self->status = MS_RUN_INCOMPLETE;
      return g_task_return_error (task, error);
    }
  self->db_path = self->folder ? new_recording_path (self->folder, self->name, self->input_path)
                               : g_build_filename (self->tmp_dir, "recording.sqlite", NULL);
  RecordData *d = g_new0 (RecordData, 1);
  d->run = self;
  d->context = g_main_context_ref (g_task_get_context (task));
  d->db_path = g_strdup (self->db_path);
  g_task_set_task_data (task, d, (GDestroyNotify) record_data_free);
  self->status = MS_RUN_RECORDING;
  GApplication *app = g_application_get_default ();
  if (app)
    {
      g_application_hold (app);
      AppHold *hold = g_new (AppHold, 1);
      *hold = (AppHold) { g_object_ref (app), g_main_context_ref (d->context) };
      g_object_set_data_full (G_OBJECT (task), "memscope-hold", hold, app_hold_free);
    }
  memscope_task_run_in_thread (task, record_thread);
}

gboolean
memscope_run_record_finish (MemscopeRun *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  GTask *task = G_TASK (result);
  RecordData *d = g_task_get_task_data (task);
  /* Progress messages queued before this callback have been delivered
   * (same context, same priority, earlier), so the counts are final. */
  if (d && d->run_id)
    self->run_id = d->run_id;
  gboolean ok = g_task_propagate_boolean (task, error);
  self->status = ok ? MS_RUN_COMPLETE : MS_RUN_INCOMPLETE;
  return ok;
}

const char *memscope_run_get_name (MemscopeRun *self) { return self->name; }
gboolean memscope_run_is_temporary (MemscopeRun *self) { return self->tmp_dir != NULL; }
const char *memscope_run_get_model_path (MemscopeRun *self) { return self->model_path; }
const char *memscope_run_get_input_path (MemscopeRun *self) { return self->input_path; }
const char *memscope_run_get_db_path (MemscopeRun *self) { return self->db_path; }
gint64 memscope_run_get_id (MemscopeRun *self) { return self->run_id; }
MsRunStatus memscope_run_get_status (MemscopeRun *self) { return self->status; }
int memscope_run_get_segments_done (MemscopeRun *self) { return self->segments_done; }
int memscope_run_get_n_segments (MemscopeRun *self) { return self->n_segments; }
int memscope_run_get_segment_len (MemscopeRun *self) { return self->segment_len; }
int memscope_run_get_n_slots (MemscopeRun *self) { return self->have_config ? self->config.n_slots : 0; }
int memscope_run_get_n_heads (MemscopeRun *self) { return self->have_config ? self->config.n_heads : 0; }

int
memscope_run_get_n_layers (MemscopeRun *self)
{
  if (!self->have_config)
    return 0;
  const MsEngine *engine = self->config.engine;
  int layers = 0;
  for (guint i = 0; i < engine->n_attention; i++)
    layers = MAX (layers, ms_attention_layout_n_layers (&engine->attention[i], &self->config));
  return layers;
}

const MsConfig *
memscope_run_get_config (MemscopeRun *self)
{
  return self->have_config ? &self->config : NULL;
}

