/* ms-recording.c — read-only queries over a recording.  Every statement is
 * stepped through ms_db_step, so a failure part way through a result is an
 * error, and every stored name is parsed through ms-recording-names.h. */
#include "ms-recording.h"
#include "ms-db.h"
#include "ms-engine.h"
#include "ms-error.h"
#include "ms-half.h"

#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

struct _MsRecording {
  /* Owned */
  char *path;
  sqlite3 *db;
  GRecMutex lock;      /* held by one call, or from read_begin to read_end */
  int read_depth;      /* nested read_begin calls of the holder */
};

MsRecording *
ms_recording_open (const char *path, GError **error)
{
  sqlite3 *db = ms_db_open (path, FALSE, TRUE, error);
  if (!db)
    return NULL;
  MsRecording *rec = g_new0 (MsRecording, 1);
  rec->path = g_strdup (path);
  rec->db = db;
  g_rec_mutex_init (&rec->lock);
  return rec;
}

void
ms_recording_close (MsRecording *rec)
{
  if (!rec)
    return;
  sqlite3_close (rec->db);
  g_rec_mutex_clear (&rec->lock);
  g_free (rec->path);
  g_free (rec);
}

gboolean
ms_recording_read_begin (MsRecording *rec, GError **error)
{
  g_rec_mutex_lock (&rec->lock);
  if (rec->read_depth++ > 0)
    return TRUE;
  /* BEGIN is deferred: the snapshot is taken by the first read */
  if (!ms_db_exec (rec->db, rec->path, "BEGIN; SELECT 1 FROM runs LIMIT 1", error))
    {
      sqlite3_exec (rec->db, "ROLLBACK", NULL, NULL, NULL);
      rec->read_depth = 0;
      g_rec_mutex_unlock (&rec->lock);
      return FALSE;
    }
  return TRUE;
}

void
ms_recording_read_end (MsRecording *rec)
{
  g_return_if_fail (rec->read_depth > 0);
  if (--rec->read_depth == 0)
    ms_db_exec (rec->db, rec->path, "COMMIT", NULL);
  g_rec_mutex_unlock (&rec->lock);
}

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

static sqlite3_stmt *
prepare (MsRecording *rec, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (rec->db, sql, -1, &st, NULL) != SQLITE_OK)
    ms_db_fail (rec->db, rec->path, "reading the recording", error);
  return st;
}

#define RUN_COLUMNS \
  "r.id, r.name, m.path, r.input_path, m.arch, m.config, r.segment_len, r.n_segments, " \
  MS_DB_SEGMENTS_DONE ("r.id") ", r.status, r.attn_dtype, r.created, r.writer_pid, r.writer_host"

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
  info->segment_len = sqlite3_column_int (st, 6);
  info->n_segments = sqlite3_column_int (st, 7);
  info->segments_done = sqlite3_column_int (st, 8);
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
  sqlite3_stmt *st = prepare (rec, "SELECT " RUN_COLUMNS " FROM runs r JOIN models m ON m.id = r.model_id "
                                   "ORDER BY r.id", error);
  if (!st)
    return NULL;
  g_autoptr (GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_run_info_free);
  int rc;
  MsRunInfo *info = NULL;
  while ((rc = ms_db_step (st, rec->path, "listing runs", error)) == SQLITE_ROW
         && (info = run_from_row (rec, st, error)))
    g_ptr_array_add (runs, info);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? g_steal_pointer (&runs) : NULL;
}

static MsRunInfo *
get_run_locked (MsRecording *rec, gint64 run_id, GError **error)
{
  sqlite3_stmt *st = prepare (rec, "SELECT " RUN_COLUMNS " FROM runs r JOIN models m ON m.id = r.model_id "
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
  sqlite3_finalize (st);
  return info;
}

/* Copies a (n) f32 BLOB column into @out, NaN past a shorter array (a
 * slot missing from a schema 2 file).  Copied: a BLOB may sit unaligned. */
static void
column_f32 (sqlite3_stmt *st, int column, float *out, int n)
{
  int have = MIN (n, sqlite3_column_bytes (st, column) / (int) sizeof (float));
  const void *blob = sqlite3_column_blob (st, column);
  if (have > 0)
    memcpy (out, blob, (size_t) have * sizeof (float));
  for (int i = MAX (have, 0); i < n; i++)
    out[i] = NAN;
}

gboolean
ms_recording_foreach_segment (MsRecording *rec, const MsRunInfo *run, int first, int last, int stride, guint fields,
                              MsSegmentFunc func, gpointer user_data, GError **error)
{
  g_return_val_if_fail (stride >= 1, FALSE);
  int K = run->config.n_slots;
  first = MAX (first, 0);
  last = MIN (last, run->segments_done);
  if (first >= last)
    return TRUE;
  if (fields & MS_SEGMENT_TRANSFER)
    fields |= 1 << MS_SLOT_RETENTION;   /* the diagonal of a segment without a stored transfer */
  /* columns: 0 segment, 1 … 4 the slot quantities, 5 transfer, 6 n_predicted, 7 total_nll, 8 text */
  g_autofree char *sql = g_strdup_printf (
    "SELECT segment, %s, %s, %s, %s, %s, %s, %s, %s FROM segments WHERE id BETWEEN "
    MS_DB_SEGMENT_KEY ("?1", "?2") " AND " MS_DB_SEGMENT_KEY ("?1", "?3 - 1") " AND (segment - ?2) %% ?4 = 0",
    fields & 1 << 0 ? ms_slot_quantity_column (0) : "NULL", fields & 1 << 1 ? ms_slot_quantity_column (1) : "NULL",
    fields & 1 << 2 ? ms_slot_quantity_column (2) : "NULL", fields & 1 << 3 ? ms_slot_quantity_column (3) : "NULL",
    fields & MS_SEGMENT_TRANSFER ? "transfer" : "NULL", fields & MS_SEGMENT_NLL ? "n_predicted" : "NULL",
    fields & MS_SEGMENT_NLL ? "total_nll" : "NULL", fields & MS_SEGMENT_TEXT ? "text" : "NULL");
  g_rec_mutex_lock (&rec->lock);
  sqlite3_stmt *st = prepare (rec, sql, error);
  if (!st)
    return g_rec_mutex_unlock (&rec->lock), FALSE;
  sqlite3_bind_int64 (st, 1, run->id);
  sqlite3_bind_int (st, 2, first);
  sqlite3_bind_int (st, 3, last);
  sqlite3_bind_int (st, 4, stride);
  g_autofree float *slots = g_new (float, (size_t) K * MS_SLOT_N_QUANTITIES + (size_t) K * K);
  float *transfer = slots + (size_t) K * MS_SLOT_N_QUANTITIES;
  gboolean ok = TRUE;
  int rc = SQLITE_DONE;
  while (ok && (rc = ms_db_step (st, rec->path, "reading segments", error)) == SQLITE_ROW)
    {
      MsSegmentRecord seg = { .segment = sqlite3_column_int (st, 0) };
      for (int q = 0; q < MS_SLOT_N_QUANTITIES; q++)
        if (fields & 1 << q)
          {
            column_f32 (st, 1 + q, slots + (size_t) q * K, K);
            seg.slots[q] = slots + (size_t) q * K;
          }
      if (fields & MS_SEGMENT_TRANSFER)
        {
          if (sqlite3_column_bytes (st, 5) == K * K * (int) sizeof (float))
            column_f32 (st, 5, transfer, K * K);
          else
            {
              memset (transfer, 0, (size_t) K * K * sizeof (float));
              for (int i = 0; i < K; i++)
                transfer[(size_t) i * K + i] = seg.slots[MS_SLOT_RETENTION][i];
            }
          seg.transfer = transfer;
        }
      int n_predicted = sqlite3_column_int (st, 6);
      seg.nll = n_predicted > 0 ? (float) (ms_db_column_real (st, 7) / n_predicted) : NAN;
      if (fields & MS_SEGMENT_TEXT)
        {
          seg.text = sqlite3_column_blob (st, 8);
          seg.text_len = sqlite3_column_bytes (st, 8);
        }
      ok = func (&seg, user_data, error);
    }
  if (ok && rc != SQLITE_DONE)
    ok = FALSE;   /* ms_db_step set @error */
  sqlite3_finalize (st);
  g_rec_mutex_unlock (&rec->lock);
  return ok;
}

gboolean
ms_recording_foreach_memory_state (MsRecording *rec, const MsRunInfo *run, int first, int last, MsStateFunc func,
                                   gpointer user_data, GError **error)
{
  first = MAX (first, 0);
  last = MIN (last, run->segments_done);
  if (first >= last)
    return TRUE;
  size_t len = (size_t) run->config.n_slots * run->config.d_model;
  g_rec_mutex_lock (&rec->lock);
  sqlite3_stmt *st = prepare (rec, "SELECT segment, data FROM memory WHERE id BETWEEN "
                                   MS_DB_SEGMENT_KEY ("?1", "?2 + 1") " AND " MS_DB_SEGMENT_KEY ("?1", "?3")
                                   " ORDER BY id", error);
  if (!st)
    return g_rec_mutex_unlock (&rec->lock), FALSE;
  sqlite3_bind_int64 (st, 1, run->id);
  sqlite3_bind_int (st, 2, first);
  sqlite3_bind_int (st, 3, last);
  g_autofree float *state = g_new (float, MAX (len, 1));
  gboolean ok = TRUE;
  int rc = SQLITE_DONE;
  while (ok && (rc = ms_db_step (st, rec->path, "reading memory states", error)) == SQLITE_ROW)
    {
      int segment = sqlite3_column_int (st, 0);
      if ((size_t) sqlite3_column_bytes (st, 1) != len * sizeof (float) || segment < first || segment >= last)
        continue;
      memcpy (state, sqlite3_column_blob (st, 1), len * sizeof (float));
      ok = func (segment, state, user_data, error);
    }
  if (ok && rc != SQLITE_DONE)
    ok = FALSE;   /* ms_db_step set @error */
  sqlite3_finalize (st);
  g_rec_mutex_unlock (&rec->lock);
  return ok;
}

/* Decodes @n little-endian values of @store from @blob into @out. */
static void
decode_matrix (const uint8_t *blob, MsAttnStore store, float *out, size_t n)
{
  if (store == MS_ATTN_STORE_F16)
    for (size_t i = 0; i < n; i++)
      out[i] = ms_half_to_float ((uint16_t) (blob[2 * i] | blob[2 * i + 1] << 8));
  else
    memcpy (out, blob, n * sizeof (float));
}

static float *
attention_locked (MsRecording *rec, const MsRunInfo *info, int segment, MsObsKind kind, int layer, int head,
                  int *rows, int *cols, GError **error)
{
  gint64 run_id = info->id;
  const char *kind_name = ms_obs_kind_stored_name (kind);
  if (!kind_name || !ms_engine_find_attention (info->config.engine, kind))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has a %s model, which offers no "
                   "%s attention", rec->path, run_id, info->config.engine->display_name,
                   kind == MS_OBS_READ ? "read" : "write");
      return NULL;
    }
  sqlite3_stmt *st = prepare (rec, "SELECT a.rows, a.cols, a.dtype, a.data FROM segments s JOIN attention a "
                                   "ON a.id BETWEEN s.attn_first AND s.attn_first + s.attn_count - 1 "
                                   "WHERE s.id = " MS_DB_SEGMENT_KEY ("?1", "?2") " AND s.segment = ?2 AND a.kind = ?3 "
                                   "AND a.layer = ?4 "
                                   "AND (?5 < 0 OR a.head = ?5) ORDER BY a.head", error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, run_id);
  sqlite3_bind_int (st, 2, segment);
  sqlite3_bind_text (st, 3, kind_name, -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 4, layer);
  sqlite3_bind_int (st, 5, head);
  g_autofree float *sum = NULL, *one = NULL;
  int n_heads = 0, r = 0, c = 0, rc;
  while ((rc = ms_db_step (st, rec->path, "reading attention", error)) == SQLITE_ROW)
    {
      /* Every head has the shape of the first, and its BLOB exactly the
       * bytes that shape and dtype take: checked before anything is
       * allocated from them. */
      int hr = sqlite3_column_int (st, 0), hc = sqlite3_column_int (st, 1), bytes = sqlite3_column_bytes (st, 3);
      const char *dtype = (const char *) sqlite3_column_text (st, 2);
      MsAttnStore store;
      if (!ms_attn_store_parse (dtype, &store) || store == MS_ATTN_STORE_NONE || hr <= 0 || hc <= 0
          || (gint64) hr * hc * ms_attn_store_value_size (store) != bytes || (sum && (hr != r || hc != c)))
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", segment %d: a stored %s "
                       "attention matrix of layer %d (%d × %d, dtype '%s', %d bytes) does not match its own shape "
                       "and dtype or the other heads' (the recording is damaged)", rec->path, run_id, segment,
                       kind_name, layer, hr, hc, dtype ? dtype : "NULL", bytes);
          rc = SQLITE_ERROR;
          break;
        }
      if (!sum)
        {
          r = hr, c = hc;
          sum = g_new0 (float, (size_t) r * c);
          one = g_new (float, (size_t) r * c);
        }
      decode_matrix (sqlite3_column_blob (st, 3), store, one, (size_t) r * c);
      for (size_t i = 0; i < (size_t) r * c; i++)
        sum[i] += one[i];
      n_heads++;
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return NULL;
  if (!sum)
    {
      g_autofree char *which = head >= 0 ? g_strdup_printf (", head %d", head) : g_strdup ("");
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no %s attention for segment %d, "
                   "layer %d%s (was it recorded with --attn none, or is the segment/layer/head out of range?)",
                   rec->path, run_id, kind_name, segment, layer, which);
      return NULL;
    }
  for (size_t i = 0; i < (size_t) r * c; i++)
    sum[i] /= n_heads;
  *rows = r;
  *cols = c;
  return g_steal_pointer (&sum);
}

static GBytes *
segment_text_locked (MsRecording *rec, gint64 run_id, int segment, GError **error)
{
  sqlite3_stmt *st = prepare (rec, "SELECT text FROM segments WHERE id = " MS_DB_SEGMENT_KEY ("?1", "?2") " AND segment = ?2",
                              error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, run_id);
  sqlite3_bind_int (st, 2, segment);
  GBytes *text = NULL;
  int rc = ms_db_step (st, rec->path, "reading a segment's text", error);
  if (rc == SQLITE_ROW)
    text = g_bytes_new (sqlite3_column_blob (st, 0), sqlite3_column_bytes (st, 0));
  else if (rc == SQLITE_DONE)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no segment %d", rec->path, run_id,
                 segment);
  sqlite3_finalize (st);
  return text;
}

GPtrArray *
ms_recording_list_runs (MsRecording *rec, GError **error)
{
  g_rec_mutex_lock (&rec->lock);
  GPtrArray *out = list_runs_locked (rec, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

MsRunInfo *
ms_recording_get_run (MsRecording *rec, gint64 run_id, GError **error)
{
  g_rec_mutex_lock (&rec->lock);
  MsRunInfo *out = get_run_locked (rec, run_id, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

float *
ms_recording_attention (MsRecording *rec, const MsRunInfo *run, int segment, MsObsKind kind, int layer, int head,
                        int *rows, int *cols, GError **error)
{
  g_rec_mutex_lock (&rec->lock);
  float *out = attention_locked (rec, run, segment, kind, layer, head, rows, cols, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

GBytes *
ms_recording_segment_text (MsRecording *rec, gint64 run_id, int segment, GError **error)
{
  g_rec_mutex_lock (&rec->lock);
  GBytes *out = segment_text_locked (rec, run_id, segment, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}
