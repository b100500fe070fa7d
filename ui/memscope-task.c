/* memscope-task.c — worker threads that leave main-thread objects alone. */
#include "memscope-task.h"

void
memscope_context_post (GMainContext *context, int priority, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, priority);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, context);
  g_source_unref (source);
}

/* A reference to a task's source object, held by the task. */
typedef struct {
  GObject *object;
  GMainContext *context;
} Keep;

static gboolean
do_nothing (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* Any thread: the task is being finalized. */
static void
keep_release (gpointer data)
{
  Keep *k = data;
  if (g_main_context_is_owner (k->context))
    g_object_unref (k->object);
  else
    memscope_context_post (k->context, G_PRIORITY_DEFAULT, do_nothing, k->object, g_object_unref);
  g_main_context_unref (k->context);
  g_free (k);
}

void
memscope_task_run_in_thread (GTask *task, GTaskThreadFunc func)
{
  GObject *source = g_task_get_source_object (task);
  if (source)
    {
      Keep *k = g_new (Keep, 1);
      k->object = g_object_ref (source);
      k->context = g_main_context_ref (g_task_get_context (task));
      g_object_set_data_full (G_OBJECT (task), "memscope-task-keep", k, keep_release);
    }
  g_task_run_in_thread (task, func);
}
