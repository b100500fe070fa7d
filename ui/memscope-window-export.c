/* memscope-window-export.c — Export All…: every view of what the window
 * shows (run A, or A and B compared), each written to the chosen path with
 * "-VIEW" before its extension (ms_figure_path_for_view, the naming of
 * `memscope-cli export --view all`).  The views are loaded and drawn on a
 * worker thread, each recording read on a connection of its own. */
#include "memscope-window-private.h"

#include <math.h>

#include "memscope-task.h"
#include "ms-export.h"
#include "ms-recording.h"

/* What one run contributes, copied on the main thread. */
typedef struct {
  char *path;
  gint64 run_id;
  char *name;
  int n_layers_by_kind[MS_VIEW_N_KINDS];   /* layers each view's attention has */
  int segments_done, n_slots;
} ExportRun;

typedef struct {
  ExportRun run[2];
  int n_runs;
  gboolean difference;
  int segment, slot, layer, head;
  MsColormap cmap;
  char *path;
  double width_in, height_in, dpi;
  GPtrArray *written;   /* char *: the files written */
} ExportAll;

static void
export_all_free (ExportAll *e)
{
  for (int i = 0; i < 2; i++)
    {
      g_free (e->run[i].path);
      g_free (e->run[i].name);
    }
  g_free (e->path);
  g_ptr_array_unref (e->written);
  g_free (e);
}

/* The parameters @kind uses, for run @r (as the figure views ask them). */
static MsViewParams
params_for (const ExportAll *e, const ExportRun *r, MsViewKind kind)
{
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  MsViewUses uses = ms_view_info (kind)->params;
  if (uses & MS_VIEW_USES_SEGMENT)
    {
      p.segment = CLAMP (e->segment, 0, MAX (r->segments_done - 1, 0));
      p.layer = e->layer < r->n_layers_by_kind[kind] ? e->layer : -1;
      p.head = e->head;
    }
  if (uses & MS_VIEW_USES_SLOT && e->slot < r->n_slots)
    p.slot = e->slot;
  p.max_cols = (int) ceil (e->width_in * e->dpi);
  p.max_rows = (int) ceil (e->height_in * e->dpi);
  if (e->n_runs == 2)
    p.span = MAX (e->run[0].segments_done, e->run[1].segments_done);
  return p;
}

/* Every view of the runs, each to its file; FALSE at the first failure. */
static gboolean
export_views (ExportAll *e, MsRecording **rec, GCancellable *cancellable, GError **error)
{
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      const MsViewInfo *info = ms_view_info ((MsViewKind) k);
      g_autoptr (MsViewData) a = NULL, b = NULL;
      MsViewParams pa = params_for (e, &e->run[0], info->kind);
      if (!(a = ms_view_load (rec[0], e->run[0].run_id, info->kind, &pa, error)))
        return g_prefix_error (error, "%s: ", info->title), FALSE;
      if (e->n_runs == 2)
        {
          MsViewParams pb = params_for (e, &e->run[1], info->kind);
          if (!(b = ms_view_load (rec[1], e->run[1].run_id, info->kind, &pb, error)))
            return g_prefix_error (error, "%s: ", info->title), FALSE;
        }
      g_autoptr (MsViewFigure) fig = NULL;
      if (b)
        {
          /* A − B where the two views have one shape, else side by side */
          fig = e->difference ? ms_view_figure_new_compare (a, e->run[0].name, b, e->run[1].name, TRUE, e->cmap, NULL,
                                                            NULL)
                              : NULL;
          if (!fig)
            fig = ms_view_figure_new_compare (a, e->run[0].name, b, e->run[1].name, FALSE, e->cmap, NULL, error);
        }
      else
        fig = ms_view_figure_new (a, e->cmap, NULL, error);
      if (!fig)
        return g_prefix_error (error, "%s: ", info->title), FALSE;
      char *out = ms_figure_path_for_view (e->path, info->name);
      g_ptr_array_add (e->written, out);
      if (!ms_figure_export (out, e->width_in, e->height_in, e->dpi, ms_view_figure_draw, fig, error))
        return FALSE;
    }
  return TRUE;
}

static void
export_all_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  ExportAll *e = data;
  GError *error = NULL;
  MsRecording *rec[2] = { NULL, NULL };
  gboolean ok = TRUE;
  for (int i = 0; i < e->n_runs && ok; i++)
    ok = (rec[i] = ms_recording_open (e->run[i].path, &error)) != NULL;
  ok = ok && export_views (e, rec, cancellable, &error);
  for (int i = 0; i < 2; i++)
    g_clear_pointer (&rec[i], ms_recording_close);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
memscope_window_export_all_async (MemscopeWindow *self, const char *path, double width_in, double height_in,
                                  double dpi, GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, memscope_window_export_all_async);
  MemscopeRun *runs[2] = { memscope_window_get_run_a (self), self->compared };
  ExportAll *e = g_new0 (ExportAll, 1);
  e->written = g_ptr_array_new_with_free_func (g_free);
  g_task_set_task_data (task, e, (GDestroyNotify) export_all_free);
  for (int i = 0; i < 2 && runs[i]; i++)
    {
      MemscopeRun *run = runs[i];
      if (!memscope_run_get_db_path (run) || memscope_run_get_segments_done (run) == 0)
        return g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                        "%s has no segment recorded yet", memscope_run_get_name (run));
      ExportRun *r = &e->run[e->n_runs++];
      r->path = g_strdup (memscope_run_get_db_path (run));
      r->run_id = memscope_run_get_id (run);
      r->name = g_strdup (memscope_run_get_name (run));
      r->segments_done = memscope_run_get_segments_done (run);
      r->n_slots = memscope_run_get_n_slots (run);
      const MsConfig *config = memscope_run_get_config (run);
      for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
        r->n_layers_by_kind[k] = config ? ms_view_n_layers (config, (MsViewKind) k) : 0;
    }
  if (e->n_runs == 0)
    return g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Nothing to export: open a run");
  e->difference = self->difference;
  e->segment = self->segment, e->slot = self->slot, e->layer = self->layer, e->head = self->head;
  e->cmap = self->cmap;
  e->path = g_strdup (path);
  e->width_in = width_in, e->height_in = height_in, e->dpi = dpi;
  memscope_task_run_in_thread (task, export_all_run);
}

gboolean
memscope_window_export_all_finish (MemscopeWindow *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
