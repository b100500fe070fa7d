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
  return rec;
}

void
ms_recording_close (MsRecording *rec)
{
  if (!rec)
    return;
  sqlite3_close (rec->db);
  g_free (rec->path);
  g_free (rec);
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
  if (!ms_run_status_parse_stored ((const char *) sqlite3_column_text (st, 9), &stored)
      || !ms_attn_store_parse ((const char *) sqlite3_column_text (st, 10), &info->attn))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: its status '%s' or attention storage '%s' is not one "
                   "Memscope writes", label, (const char *) sqlite3_column_text (st, 9),
                   (const char *) sqlite3_column_text (st, 10));
      return NULL;
    }
  info->status = run_status (st, stored);
  info->created = g_strdup ((const char *) sqlite3_column_text (st, 11));
  return g_steal_pointer (&info);
}

GPtrArray *
ms_recording_list_runs (MsRecording *rec, GError **error)
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

MsRunInfo *
ms_recording_get_run (MsRecording *rec, gint64 run_id, GError **error)
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

/* "SELECT segment, @columns" over the rows of @run_id's segments 0 .. @n_segments − 1,
 * in order. */
static sqlite3_stmt *
prepare_segments (MsRecording *rec, gint64 run_id, int n_segments, const char *columns, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT segment, %s FROM segments WHERE id BETWEEN "
                                          MS_DB_SEGMENT_KEY ("?1", "0") " AND " MS_DB_SEGMENT_KEY ("?1", "?2 - 1"),
                                          columns);
  sqlite3_stmt *st = prepare (rec, sql, error);
  if (st)
    {
      sqlite3_bind_int64 (st, 1, run_id);
      sqlite3_bind_int (st, 2, n_segments);
    }
  return st;
}

float *
ms_recording_slot_matrix (MsRecording *rec, gint64 run_id, MsSlotQuantity q, int *n_slots, int *n_segments,
                          GError **error)
{
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, error);
  if (!info)
    return NULL;
  int S = info->segments_done, K = info->config.n_slots;
  sqlite3_stmt *st = prepare_segments (rec, run_id, S, ms_slot_quantity_column (q), error);
  if (!st)
    return NULL;
  float *out = g_new (float, (size_t) K * MAX (S, 1));
  for (size_t i = 0; i < (size_t) K * S; i++)
    out[i] = NAN;
  int rc;
  while ((rc = ms_db_step (st, rec->path, "reading per-slot quantities", error)) == SQLITE_ROW)
    {
      /* (K) f32; a shorter array (a slot missing from a schema 2 file)
       * leaves NaN after its end.  Copied: a BLOB may sit unaligned. */
      int t = sqlite3_column_int (st, 0), bytes = sqlite3_column_bytes (st, 1);
      const uint8_t *v = sqlite3_column_blob (st, 1);
      for (int slot = 0; t >= 0 && t < S && slot < MIN (K, bytes / (int) sizeof (float)); slot++)
        memcpy (&out[(size_t) slot * S + t], v + slot * sizeof (float), sizeof (float));
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return g_free (out), NULL;
  *n_slots = K;
  *n_segments = S;
  return out;
}

float *
ms_recording_segment_nll (MsRecording *rec, gint64 run_id, int *n_segments, GError **error)
{
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, error);
  if (!info)
    return NULL;
  int S = info->segments_done;
  sqlite3_stmt *st = prepare_segments (rec, run_id, S, "n_predicted, total_nll", error);
  if (!st)
    return NULL;
  float *out = g_new (float, MAX (S, 1));
  for (int i = 0; i < S; i++)
    out[i] = NAN;
  int rc;
  while ((rc = ms_db_step (st, rec->path, "reading per-segment NLL", error)) == SQLITE_ROW)
    {
      int t = sqlite3_column_int (st, 0), n = sqlite3_column_int (st, 1);
      if (t >= 0 && t < S && n > 0)
        out[t] = (float) (ms_db_column_real (st, 2) / n);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return g_free (out), NULL;
  *n_segments = S;
  return out;
}

float *
ms_recording_memory_states (MsRecording *rec, gint64 run_id, int stride, int *n_states, size_t *state_len,
                            GError **error)
{
  g_return_val_if_fail (stride >= 1, NULL);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, error);
  if (!info)
    return NULL;
  int S = info->segments_done;
  int n = (S + stride - 1) / stride;
  size_t len = (size_t) info->config.n_slots * info->config.d_model;
  sqlite3_stmt *st = prepare (rec, "SELECT segment, data FROM memory WHERE id BETWEEN " MS_DB_SEGMENT_KEY ("?1", "1")
                                   " AND " MS_DB_SEGMENT_KEY ("?1", "?2") " AND segment % ?3 = 0", error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, run_id);
  sqlite3_bind_int (st, 2, S);
  sqlite3_bind_int (st, 3, stride);
  float *out = g_new (float, len * MAX (n, 1));
  for (size_t i = 0; i < len * n; i++)
    out[i] = NAN;
  int rc;
  while ((rc = ms_db_step (st, rec->path, "reading memory states", error)) == SQLITE_ROW)
    {
      int segment = sqlite3_column_int (st, 0), row = segment / stride;
      if (segment >= 0 && row < n && (size_t) sqlite3_column_bytes (st, 1) == len * 4)
        memcpy (out + (size_t) row * len, sqlite3_column_blob (st, 1), len * 4);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return g_free (out), NULL;
  *n_states = n;
  *state_len = len;
  return out;
}

float *
ms_recording_transfer (MsRecording *rec, gint64 run_id, int *n_segments, int *n_slots, GError **error)
{
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, error);
  if (!info)
    return NULL;
  int S = info->segments_done, K = info->config.n_slots;
  float *out = g_new0 (float, (size_t) K * K * MAX (S, 1));
  /* A run stores T_t when its engine's transfer is a full matrix; a
   * diagonal one (NULL) is the retention on the diagonal (DESIGN §5.3). */
  g_autofree gboolean *diagonal = g_new0 (gboolean, MAX (S, 1));
  gboolean any_diagonal = FALSE;
  sqlite3_stmt *st = prepare_segments (rec, run_id, S, "transfer", error);
  if (!st)
    return g_free (out), NULL;
  int rc;
  while ((rc = ms_db_step (st, rec->path, "reading slot transfer", error)) == SQLITE_ROW)
    {
      int t = sqlite3_column_int (st, 0);
      if (t < 0 || t >= S)
        continue;
      if (sqlite3_column_type (st, 1) == SQLITE_NULL)
        diagonal[t] = any_diagonal = TRUE;
      else if (sqlite3_column_bytes (st, 1) == K * K * 4)
        memcpy (out + (size_t) t * K * K, sqlite3_column_blob (st, 1), (size_t) K * K * 4);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return g_free (out), NULL;
  if (any_diagonal)
    {
      int k2, s2;
      g_autofree float *old = ms_recording_slot_matrix (rec, run_id, MS_SLOT_RETENTION, &k2, &s2, error);
      if (!old)
        return g_free (out), NULL;
      for (int t = 0; t < MIN (S, s2); t++)
        for (int i = 0; diagonal[t] && i < K; i++)
          out[(size_t) t * K * K + (size_t) i * K + i] = old[(size_t) i * s2 + t];
    }
  *n_segments = S;
  *n_slots = K;
  return out;
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

float *
ms_recording_attention (MsRecording *rec, gint64 run_id, int segment, MsObsKind kind, int layer, int head,
                        int *rows, int *cols, GError **error)
{
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, error);
  if (!info)
    return NULL;
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

GBytes *
ms_recording_segment_text (MsRecording *rec, gint64 run_id, int segment, GError **error)
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
