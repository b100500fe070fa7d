/* memscope-run.h — one run the workbench shows: a model stepped through an
 * input, recorded into a Memscope database.
 *
 * A run is either recorded by the workbench — memscope_run_record_async()
 * loads the model and calls ms_record() on a worker thread, into a
 * temporary recording deleted with the run — or one already in a recording
 * the user opened.  Views read it on worker threads, each opening the
 * recording at memscope_run_get_db_path() on a connection of its own, while
 * the recorder writes (WAL): each read sees the segments committed so far.
 * "progress" is emitted on the main thread after each committed segment.
 */
#pragma once

#include <gio/gio.h>

#include "ms-recording.h"

G_BEGIN_DECLS

#define MEMSCOPE_TYPE_RUN (memscope_run_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeRun, memscope_run, MEMSCOPE, RUN, GObject)

/* A run to be recorded: @model_path through @input_path (copied). */
MemscopeRun *memscope_run_new_for_model (const char *model_path, const char *input_path);

/* Records into a new file in @folder (made if missing; named after the
 * run and its input) instead of a temporary one deleted with the run.
 * Before memscope_run_record_async() only. */
void memscope_run_set_folder (MemscopeRun *run, const char *folder);
/* Whether the run's recording is temporary (deleted with the run). */
gboolean memscope_run_is_temporary (MemscopeRun *run);

/* Run @run_id of the database @db_path, described by @info (copied). */
MemscopeRun *memscope_run_new_recorded (const char *db_path, const MsRunInfo *info);

/* Loads the model and records the whole input on a worker thread, checking
 * @cancellable between segments.  Holds the default GApplication while it
 * works.  Finish with memscope_run_record_finish(). */
void memscope_run_record_async (MemscopeRun *run, GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);
/* FALSE with the model loader's or the recorder's error (MS_ERROR_*). */
gboolean memscope_run_record_finish (MemscopeRun *run, GAsyncResult *result, GError **error);

const char *memscope_run_get_name (MemscopeRun *run);
const char *memscope_run_get_model_path (MemscopeRun *run);
const char *memscope_run_get_input_path (MemscopeRun *run);
const char *memscope_run_get_db_path (MemscopeRun *run);   /* NULL before recording starts */
gint64 memscope_run_get_id (MemscopeRun *run);              /* 0 until known */
MsRunStatus memscope_run_get_status (MemscopeRun *run);
int memscope_run_get_segments_done (MemscopeRun *run);
int memscope_run_get_n_segments (MemscopeRun *run);          /* planned; 0 until known */
int memscope_run_get_segment_len (MemscopeRun *run);         /* 0 until known */
int memscope_run_get_n_slots (MemscopeRun *run);             /* 0 until known */
int memscope_run_get_n_layers (MemscopeRun *run);            /* most layers of an attention kind; 0 until known */
int memscope_run_get_n_heads (MemscopeRun *run);             /* 0 until known */
/* The model's configuration, whose engine (ms-engine.h) has the attention
 * layouts; NULL until known.  Borrowed. */
const MsConfig *memscope_run_get_config (MemscopeRun *run);

G_END_DECLS
