/* ms-recording-memory.c — the memory states and transfer matrices a
 * recording holds, in memory chunks (ms-db.h): one row holds the states
 * after consecutive segments, so a state is found in one row, the chunk
 * whose key is the greatest at or before its own.  Every chunk is checked
 * against its key and the run's sizes before a byte of it is used. */
#include "ms-recording-handle.h"
#include "ms-error.h"

#include <string.h>

void
ms_memory_chunk_clear (MsMemoryChunk *chunk)
{
  g_clear_pointer (&chunk->states, g_free);
  g_clear_pointer (&chunk->transfer, g_free);
  chunk->segment = 0;
  chunk->n_states = 0;
  chunk->fields = 0;
}

/* columns: 0 id, 1 run_id, 2 segment, 3 n_states, 4 rows, 5 cols, 6 transfer (when ?3), 7 its type and
 * 8 its length, 9 data (when ?4), 10 its type and 11 its length */
#define CHUNK_SQL \
  "SELECT id, run_id, segment, n_states, rows, cols, CASE WHEN ?3 THEN transfer END, typeof (transfer)," \
  " length (transfer), CASE WHEN ?4 THEN data END, typeof (data), length (data) FROM memory WHERE id BETWEEN " \
  MS_DB_SEGMENT_KEY ("?1", "0") " AND " MS_DB_SEGMENT_KEY ("?1", "?2 + 1") " ORDER BY id DESC LIMIT 1"

gboolean
ms_recording_memory_chunk_locked (MsRecording *rec, const MsRunInfo *run, int segment, guint fields,
                                  MsMemoryChunk *chunk, GError **error)
{
  if (chunk->n_states > 0 && segment >= chunk->segment && (gint64) segment < (gint64) chunk->segment + chunk->n_states
      && (chunk->fields & fields) == fields)
    return TRUE;
  ms_memory_chunk_clear (chunk);
  sqlite3_stmt *st = ms_recording_prepare (rec, CHUNK_SQL, error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, run->id);
  sqlite3_bind_int (st, 2, segment);
  sqlite3_bind_int (st, 3, (fields & MS_MEMORY_CHUNK_TRANSFER) != 0);
  sqlite3_bind_int (st, 4, (fields & MS_MEMORY_CHUNK_STATES) != 0);
  int rc = ms_db_step (st, rec->path, "reading memory states", error);
  gboolean ok = FALSE;
  /* every size in 64 bits: the row may hold any integers */
  gint64 K = run->config.n_slots, d = run->config.d_model;
  gint64 base = run->id * (G_GINT64_CONSTANT (1) << 32);
  gint64 first = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 2) : 0;
  gint64 n = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 3) : 0;
  const char *transfer_type = rc == SQLITE_ROW ? (const char *) sqlite3_column_text (st, 7) : NULL;
  gboolean has_transfer = g_strcmp0 (transfer_type, "null") != 0;
  const char *what = segment < 0 ? "the initial memory" : "the memory state after it";
  /* first ≥ −1 before segment − first is taken: the row may hold any integer */
  if (rc == SQLITE_DONE || (rc == SQLITE_ROW && first >= -1 && (first > segment || n < 1 || segment - first >= n)))
    ms_recording_bad_row (rec, run, "memory", segment, error, "%s is missing", what);
  else if (rc != SQLITE_ROW)
    ;
  else if (sqlite3_column_int64 (st, 0) != base + first + 1 || sqlite3_column_int64 (st, 1) != run->id
           || first < -1 || (first == -1 && n != 1) || n > MS_DB_MAX_CHUNK_STATES)
    ms_recording_bad_row (rec, run, "memory", segment, error, "the row holding %s is keyed %" G_GINT64_FORMAT
                          " for run %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT " states from segment %" G_GINT64_FORMAT
                          ", where a chunk under its own key of 1 to %d states (the initial memory alone) was "
                          "expected", what, (gint64) sqlite3_column_int64 (st, 0) - base,
                          (gint64) sqlite3_column_int64 (st, 1), n, first, MS_DB_MAX_CHUNK_STATES);
  else if (sqlite3_column_int64 (st, 4) != K || sqlite3_column_int64 (st, 5) != d
           || g_strcmp0 ((const char *) sqlite3_column_text (st, 10), "blob") != 0
           || sqlite3_column_int64 (st, 11) != n * K * d * 4)
    ms_recording_bad_row (rec, run, "memory", segment, error, "%s is held in a chunk of %" G_GINT64_FORMAT " × %"
                          G_GINT64_FORMAT " states in %" G_GINT64_FORMAT " bytes where %" G_GINT64_FORMAT " states of "
                          "%d × %d f32 values (%" G_GINT64_FORMAT " bytes) were expected", what,
                          (gint64) sqlite3_column_int64 (st, 4), (gint64) sqlite3_column_int64 (st, 5),
                          (gint64) sqlite3_column_int64 (st, 11), n, run->config.n_slots, run->config.d_model,
                          n * K * d * 4);
  else if (has_transfer && (first < 0 || g_strcmp0 (transfer_type, "blob") != 0
                            || sqlite3_column_int64 (st, 8) != n * K * K * 4))
    ms_recording_bad_row (rec, run, "memory", segment, error, "the transfer beside %s holds %" G_GINT64_FORMAT
                          " bytes where NULL or %" G_GINT64_FORMAT " states of %d × %d f32 values were expected", what,
                          (gint64) sqlite3_column_int64 (st, 8), n, run->config.n_slots, run->config.n_slots);
  else
    {
      chunk->segment = (int) first;
      chunk->n_states = (int) n;
      chunk->fields = fields;
      /* Copied: a BLOB may sit unaligned. */
      if (fields & MS_MEMORY_CHUNK_STATES)
        chunk->states = g_memdup2 (sqlite3_column_blob (st, 9), (size_t) (n * K * d * 4));
      if (fields & MS_MEMORY_CHUNK_TRANSFER && has_transfer)
        chunk->transfer = g_memdup2 (sqlite3_column_blob (st, 6), (size_t) (n * K * K * 4));
      ok = TRUE;
      /* T[i, j], the share of new slot i drawn from old slot j: each in
       * [0, 1] and each row's sum too (what is left came from the tokens) */
      for (gint64 k = 0; ok && chunk->transfer && k < n * K; k++)
        {
          const float *row = chunk->transfer + k * K;
          double sum = 0;
          size_t bad = ms_recording_first_outside (row, (size_t) K, 0, 1);
          for (gint64 j = 0; j < K; j++)
            sum += row[j];
          if (bad < (size_t) K || sum > 1 + MS_RECORDING_RANGE_SLACK)
            {
              ms_recording_bad_row (rec, run, "memory", first + k / K, error, "row %" G_GINT64_FORMAT " of the "
                                    "segment's transfer holds %g at column %zu and sums to %g, where shares in [0, 1] "
                                    "summing to at most 1 were expected", k % K,
                                    (double) row[bad < (size_t) K ? bad : 0], bad < (size_t) K ? bad : 0, sum);
              ms_memory_chunk_clear (chunk);
              ok = FALSE;
            }
        }
    }
  ms_recording_release (rec, st);
  return ok;
}

const float *
ms_memory_chunk_state (const MsMemoryChunk *chunk, const MsRunInfo *run, int segment)
{
  g_return_val_if_fail (chunk->states && segment >= chunk->segment && segment - chunk->segment < chunk->n_states,
                        NULL);
  return chunk->states + (size_t) (segment - chunk->segment) * run->config.n_slots * run->config.d_model;
}

const float *
ms_memory_chunk_transfer (const MsMemoryChunk *chunk, const MsRunInfo *run, int segment)
{
  g_return_val_if_fail (segment >= chunk->segment && segment - chunk->segment < chunk->n_states, NULL);
  if (!chunk->transfer)
    return NULL;
  return chunk->transfer + (size_t) (segment - chunk->segment) * run->config.n_slots * run->config.n_slots;
}

gboolean
ms_recording_foreach_memory_state (MsRecording *rec, const MsRunInfo *run, int first, int last, MsStateFunc func,
                                   gpointer user_data, GError **error)
{
  first = MAX (first, 0);
  last = MIN (last, run->segments_done);
  if (first >= last)
    return TRUE;
  ms_recording_lock (rec);
  g_auto (MsMemoryChunk) chunk = { 0 };
  gboolean ok = TRUE;
  for (int t = first; ok && t < last; t++)
    ok = ms_recording_memory_chunk_locked (rec, run, t, MS_MEMORY_CHUNK_STATES, &chunk, error)
         && func (t, ms_memory_chunk_state (&chunk, run, t), user_data, error);
  g_rec_mutex_unlock (&rec->lock);
  return ok;
}
