/* memscope-task.h — work on worker threads for objects that live on the
 * main thread.
 *
 * GTK objects are made, used and released on the main thread only.  A
 * GTask run in a thread breaks that quietly: the worker drops its own
 * reference to the task after the task function returns, which races with
 * the callback's on the main thread, so the worker may release the task
 * last, and with it the task's source object — a widget whose window was
 * closed meanwhile is then finalized on the worker.  Likewise
 * g_main_context_invoke() called on a worker runs the function right there
 * when the main thread happens not to be iterating its context.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* g_task_run_in_thread(), except that @task's source object (if any) is
 * released on the task's context (where its callback runs) once the task
 * is gone, whichever thread drops the task last.  The task's data and
 * result must hold no main-thread object: they may be freed on the
 * worker. */
void memscope_task_run_in_thread (GTask *task, GTaskThreadFunc func);

/* Calls @func (@data) from an idle source of priority @priority on
 * @context, never directly, whatever thread calls this; @notify frees
 * @data there afterwards (or when the source is dropped). */
void memscope_context_post (GMainContext *context, int priority, GSourceFunc func, gpointer data,
                            GDestroyNotify notify);

G_END_DECLS
