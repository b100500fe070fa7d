/* ms-recording-runs.c — the runs a recording holds (ms_recording_list_runs,
 * ms_recording_get_run): each run's model, plan and progress, its sizes
 * checked against each other and its rows before any view allocates by
 * them. */
#include "ms-recording-handle.h"
#include "ms-engine.h"
#include "ms-error.h"

#include <signal.h>
#include <unistd.h>

void
ms_run_info_free (MsRunInfo *info)
{
  if (!info)
    return;
  g_free (info->name);
  g_free (info->model_path);
  g_free (info->input_path);
  g_free (info->created);
  g_free (info);
}

#define RUN_COLUMNS \
  "r.id, r.name, m.path, r.input_path, m.arch, m.config, r.segment_len, r.n_segments, " \
  MS_DB_SEGMENTS_DONE ("r.id") ", r.status, r.attn_dtype, r.created, r.writer_pid, r.writer_host, r.n_tokens"

/* How many of a run's segment rows were counted present, by file
 * ("device:inode", ms_recording_get_identity), run and creation time: one
 * table for the process, since every view job and text-pane job opens a
 * handle of its own, and counting a long run's rows anew in each cost more
 * than the rest of a step's loads.  A handle on an image keeps its own
 * (rec->rows_counted).  Entries are a few bytes per run ever described. */
static GMutex counted_lock;
static GHashTable *counted_rows;   /* "identity|run|created" → rows (gsize) */

static char *
counted_key (MsRecording *rec, gint64 run_id, const char *created)
{
  return g_strdup_printf ("%s|%" G_GINT64_FORMAT "|%s", rec->identity, run_id, created ? created : "");
}

static gint64
counted_get (MsRecording *rec, gint64 run_id, const char *created)
{
  if (!rec->identity)
    return GPOINTER_TO_INT (g_hash_table_lookup (rec->rows_counted, GINT_TO_POINTER ((int) run_id)));
  g_autofree char *key = counted_key (rec, run_id, created);
  g_mutex_lock (&counted_lock);
  gint64 n = counted_rows ? (gint64) GPOINTER_TO_SIZE (g_hash_table_lookup (counted_rows, key)) : 0;
  g_mutex_unlock (&counted_lock);
  return n;
}

/* Records @n rows counted present, or forgets the run (@n < 0). */
static void
counted_set (MsRecording *rec, gint64 run_id, const char *created, gint64 n)
{
  if (!rec->identity)
    {
      if (n >= 0)
        g_hash_table_insert (rec->rows_counted, GINT_TO_POINTER ((int) run_id), GINT_TO_POINTER ((int) n));
      else
        g_hash_table_remove (rec->rows_counted, GINT_TO_POINTER ((int) run_id));
      return;
    }
  char *key = counted_key (rec, run_id, created);
  g_mutex_lock (&counted_lock);
  if (!counted_rows)
    counted_rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (n >= 0)
    g_hash_table_insert (counted_rows, key, GSIZE_TO_POINTER ((gsize) n));
  else
    {
      g_hash_table_remove (counted_rows, key);
      g_free (key);
    }
  g_mutex_unlock (&counted_lock);
}

/* The segment rows of run @run_id present, in *@n_rows.  Memscope appends
 * a run's segments in order and never removes one, so once rows 0 … n − 1
 * were counted present (counted_get) a later description counts only the
 * rows from n on: describing a run costs its new rows, not all of them.  A
 * run whose last row is now before n was altered under the reader, and is
 * counted whole again. */
static gboolean
count_segment_rows_locked (MsRecording *rec, gint64 run_id, const char *created, gint64 done, gint64 *n_rows,
                           GError **error)
{
  gint64 counted = counted_get (rec, run_id, created);
  if (counted > done)
    counted = 0;
  sqlite3_stmt *st = ms_recording_prepare (rec, "SELECT count (*) FROM segments WHERE id BETWEEN "
                                           MS_DB_SEGMENT_KEY ("?1", "?2") " AND " MS_DB_SEGMENT_KEY ("?1", "4294967295"),
                                           error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, run_id);
  sqlite3_bind_int64 (st, 2, counted);
  int rc = ms_db_step (st, rec->path, "counting a run's segments", error);
  if (rc == SQLITE_ROW)
    *n_rows = counted + sqlite3_column_int64 (st, 0);
  ms_recording_release (rec, st);
  if (rc != SQLITE_ROW)
    return FALSE;
  counted_set (rec, run_id, created, *n_rows == done ? done : -1);
  return TRUE;
}

/* An incomplete run whose writer process is alive on this host is still
 * being recorded. */
static MsRunStatus
run_status (sqlite3_stmt *st, MsRunStatus stored)
{
  if (stored == MS_RUN_INCOMPLETE && sqlite3_column_type (st, 12) == SQLITE_INTEGER
      && g_strcmp0 ((const char *) sqlite3_column_text (st, 13), g_get_host_name ()) == 0)
    {
      pid_t pid = (pid_t) sqlite3_column_int (st, 12);
      if (pid > 0 && kill (pid, 0) == 0)
        return MS_RUN_RECORDING;
    }
  return stored;
}

static MsRunInfo *
run_from_row (MsRecording *rec, sqlite3_stmt *st, GError **error)
{
  g_autoptr (MsRunInfo) info = g_new0 (MsRunInfo, 1);
  info->id = sqlite3_column_int64 (st, 0);
  info->name = g_strdup ((const char *) sqlite3_column_text (st, 1));
  info->model_path = g_strdup ((const char *) sqlite3_column_text (st, 2));
  info->input_path = g_strdup ((const char *) sqlite3_column_text (st, 3));
  g_autofree char *label = g_strdup_printf ("%s: run %" G_GINT64_FORMAT, rec->path, info->id);
  if (!ms_config_parse (&info->config, (const char *) sqlite3_column_text (st, 4),
                        (const char *) sqlite3_column_text (st, 5), label, error))
    return NULL;
  /* Sizes a view allocates by are checked against each other and the
   * rows, in 64-bit arithmetic, before any is believed. */
  gint64 segment_len = sqlite3_column_int64 (st, 6), n_segments = sqlite3_column_int64 (st, 7);
  gint64 done = sqlite3_column_int64 (st, 8), n_tokens = sqlite3_column_int64 (st, 14);
  gint64 n_rows = 0;
  const char *wrong = NULL;
  if (info->id < 1 || info->id > G_MAXINT32)
    wrong = "its id is not between 1 and 2^31 − 1";
  else if (info->config.n_slots > MS_RECORDING_MAX_SLOTS || ms_engine_footprint (&info->config) > MS_MODEL_MAX_SESSION_BYTES)
    wrong = "its model's configuration is larger than any model Memscope records";
  else if (segment_len < 1 || segment_len > info->config.segment_len)
    wrong = "segment_len is not between 1 and the model's segment_len";
  else if (n_tokens < 0 || n_tokens > G_MAXINT32)
    wrong = "n_tokens is negative or too large";
  else if (n_segments < 0 || n_segments > (n_tokens + segment_len - 1) / segment_len)
    wrong = "n_segments is not between 0 and the segments its n_tokens fill";
  else if (done < 0 || done > n_segments)
    wrong = "its last segment row is after n_segments";
  else if (!count_segment_rows_locked (rec, info->id, (const char *) sqlite3_column_text (st, 11), done, &n_rows,
                                      error))
    return NULL;
  else if (n_rows != done)
    wrong = "its segment rows are not segments 0, 1, … up to at most n_segments";
  if (wrong)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s, table runs: %s (segment_len %" G_GINT64_FORMAT
                   ", n_tokens %" G_GINT64_FORMAT ", n_segments %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                   " segment rows, the last segment %" G_GINT64_FORMAT "): the recording is damaged or altered",
                   label, wrong, segment_len, n_tokens, n_segments, n_rows, done - 1);
      return NULL;
    }
  info->segment_len = (int) segment_len;
  info->n_segments = (int) n_segments;
  info->segments_done = (int) done;
  MsRunStatus stored;
  const char *status = (const char *) sqlite3_column_text (st, 9);
  if (!ms_run_status_parse_stored (status, &stored))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: status '%s' is not one Memscope writes (%s or %s)",
                   label, status ? status : "NULL", ms_run_status_name (MS_RUN_INCOMPLETE),
                   ms_run_status_name (MS_RUN_COMPLETE));
      return NULL;
    }
  const char *attn = (const char *) sqlite3_column_text (st, 10);
  if (!ms_attn_store_parse (attn, &info->attn))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: attention storage '%s' is not one Memscope writes "
                   "(%s, %s or %s)", label, attn ? attn : "NULL", ms_attn_store_name (MS_ATTN_STORE_F16),
                   ms_attn_store_name (MS_ATTN_STORE_F32), ms_attn_store_name (MS_ATTN_STORE_NONE));
      return NULL;
    }
  info->status = run_status (st, stored);
  info->created = g_strdup ((const char *) sqlite3_column_text (st, 11));
  return g_steal_pointer (&info);
}

/* The functions named *_locked run with rec->lock held; the public ones
 * at the end of the file take it around them. */

static GPtrArray *
list_runs_locked (MsRecording *rec, GError **error)
{
  sqlite3_stmt *st = ms_recording_prepare (rec, "SELECT " RUN_COLUMNS " FROM runs r JOIN models m ON m.id = r.model_id "
                                   "ORDER BY r.id", error);
  if (!st)
    return NULL;
  g_autoptr (GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_run_info_free);
  int rc;
  MsRunInfo *info = NULL;
  while ((rc = ms_db_step (st, rec->path, "listing runs", error)) == SQLITE_ROW
         && (info = run_from_row (rec, st, error)))
    g_ptr_array_add (runs, info);
  ms_recording_release (rec, st);
  return rc == SQLITE_DONE ? g_steal_pointer (&runs) : NULL;
}

static MsRunInfo *
get_run_locked (MsRecording *rec, gint64 run_id, GError **error)
{
  sqlite3_stmt *st = ms_recording_prepare (rec, "SELECT " RUN_COLUMNS " FROM runs r JOIN models m ON m.id = r.model_id "
                                   "WHERE r.id = ?1", error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, run_id);
  MsRunInfo *info = NULL;
  int rc = ms_db_step (st, rec->path, "reading a run", error);
  if (rc == SQLITE_ROW)
    info = run_from_row (rec, st, error);
  else if (rc == SQLITE_DONE)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: there is no run %" G_GINT64_FORMAT " (see memscope-cli runs %s)",
                 rec->path, run_id, rec->path);
  ms_recording_release (rec, st);
  return info;
}

GPtrArray *
ms_recording_list_runs (MsRecording *rec, GError **error)
{
  ms_recording_lock (rec);
  GPtrArray *out = list_runs_locked (rec, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

MsRunInfo *
ms_recording_get_run (MsRecording *rec, gint64 run_id, GError **error)
{
  ms_recording_lock (rec);
  MsRunInfo *out = get_run_locked (rec, run_id, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}
