/* ms-run-writer-resume.c — taking up an incomplete run of a recording:
 * checking that its rows, memory chunks, model and input agree with what
 * it would be stepped with, and loading the memory to continue from
 * (ms-run-writer.h; the writer's state in ms-run-writer-private.h). */
#include "ms-run-writer-private.h"
#include "ms-db.h"
#include "ms-error.h"

#include <string.h>

/* A count over the rows of run @run_id in @table (a rowid-keyed one of
 * ms-db.h) whose key agrees with their segment column; -1 on error. */
static gint64
count_keyed_rows (MsRunWriter *w, const char *sql, gint64 run_id, GError **error)
{
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (w->db, sql, -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (w->db, w->path, "checking the run to resume", error), -1;
  sqlite3_bind_int64 (st, 1, run_id);
  gint64 n = -1;
  if (ms_db_step (st, w->path, "checking the run to resume", error) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return n;
}

/* Checks that the memory chunks of run @run_id are exactly what @done
 * committed segments leave (ms-db.h): the initial memory alone in the
 * first, then chunks that follow each other without gap or overlap, each
 * with K × d states and the transfers the engine stores (or none) for
 * every state it has room for, the last holding the memory after segment
 * done − 1, none starting after it.  Makes the last the current chunk.
 * Returns the number of chunks, with *@wrong set (and the count
 * meaningless) when they are not so; −1 with @error when SQLite fails. */
static gint64
check_chunks (MsRunWriter *w, gint64 run_id, gint64 done, const char **wrong, GError **error)
{
  const MsConfig *c = w->config;
  gint64 K = c->n_slots, d = c->d_model, base = run_id * (G_GINT64_CONSTANT (1) << 32);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (w->db, "SELECT id, run_id, segment, n_states, rows, cols, transfer IS NULL,"
                          " length (transfer), length (data), typeof (data) FROM memory WHERE id BETWEEN "
                          MS_DB_SEGMENT_KEY ("?1", "0")
                          " AND " MS_DB_SEGMENT_KEY ("?1", "4294967295") " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (w->db, w->path, "checking the run to resume", error), -1;
  sqlite3_bind_int64 (st, 1, run_id);
  gint64 n = 0, end = -1;   /* the segment after the last chunk's states */
  int rc;
  while ((rc = ms_db_step (st, w->path, "checking the run to resume", error)) == SQLITE_ROW && !*wrong)
    {
      gint64 segment = sqlite3_column_int64 (st, 2), states = sqlite3_column_int64 (st, 3);
      gboolean no_transfer = sqlite3_column_int (st, 6);
      if (sqlite3_column_int64 (st, 0) != base + segment + 1 || sqlite3_column_int64 (st, 1) != run_id
          || segment != end || segment >= done || states < 1 || states > MS_DB_MAX_CHUNK_STATES
          || (n == 0 && states != 1) || sqlite3_column_int64 (st, 4) != K || sqlite3_column_int64 (st, 5) != d
          || g_strcmp0 ((const char *) sqlite3_column_text (st, 9), "blob") != 0
          || sqlite3_column_int64 (st, 8) != states * K * d * 4
          || (n == 0 || !w->store_transfer ? !no_transfer
                                           : no_transfer || sqlite3_column_int64 (st, 7) != states * K * K * 4))
        *wrong = "its memory chunks are not those of its committed segments: the initial memory, then chunks of "
                 "its model's memory states (and transfers) that follow each other, each under its own key";
      else
        {
          w->chunk = (Chunk) { .segment = (int) segment, .states = (int) states, .in_file = TRUE, .next = (int) done };
          end = segment + states;
          n++;
        }
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return -1;
  if (!*wrong && (n == 0 || end < done))
    *wrong = "its memory chunks do not hold the memory after each of its committed segments";
  return n;
}

/* A run is taken up only if its stored plan is one this model could have
 * made and its rows are exactly what @done committed segments leave:
 * segments 0 … done − 1 (over tokens [t·L, min ((t+1)·L, n_tokens)))
 * and the memory chunks of states −1 … done − 1 (check_chunks), each under
 * its own key, nothing else in the run's key ranges.  The numbers come from a
 * file anyone may have edited; resuming on wrong ones would skip or
 * overwrite segments. */
static gboolean
check_resumable (MsRunWriter *w, gint64 run_id, gint64 n_tokens, gint64 segment_len, gint64 n_segments, gint64 done,
                 GError **error)
{
  const char *wrong = NULL;
  if (run_id < 1 || run_id > G_MAXINT32)
    wrong = "its id is not between 1 and 2^31 − 1";
  else if (segment_len < 1 || segment_len > w->config->segment_len)
    wrong = "segment_len is not between 1 and the model's segment_len";
  else if (n_tokens < 1 || n_tokens > G_MAXINT32)
    wrong = "n_tokens is not between 1 and 2^31 − 1";
  else if (n_segments < 1 || n_segments > (n_tokens + segment_len - 1) / segment_len)
    wrong = "n_segments is not between 1 and the segments its n_tokens fill";
  else if (done < 0 || done >= n_segments)
    wrong = "its committed segments are not fewer than n_segments, yet it is not complete";
  if (!wrong)
    {
      gint64 segments = count_keyed_rows (w, "SELECT count (*), sum (segment = id - ?1 * 4294967296) FROM segments "
                                             "WHERE id BETWEEN " MS_DB_SEGMENT_KEY ("?1", "0") " AND "
                                             MS_DB_SEGMENT_KEY ("?1", "4294967295"), run_id, error);
      g_autofree char *keyed_sql = g_strdup_printf (
        "SELECT sum (segment = id - ?1 * 4294967296 AND token_begin = segment * %" G_GINT64_FORMAT
        " AND token_end = min (token_begin + %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")) FROM segments "
        "WHERE id BETWEEN " MS_DB_SEGMENT_KEY ("?1", "0") " AND " MS_DB_SEGMENT_KEY ("?1", "4294967295"),
        segment_len, segment_len, n_tokens);
      gint64 keyed = count_keyed_rows (w, keyed_sql, run_id, error);
      gint64 chunks = count_keyed_rows (w, "SELECT count (*) FROM memory WHERE run_id = ?1 OR id BETWEEN "
                                           MS_DB_SEGMENT_KEY ("?1", "0") " AND " MS_DB_SEGMENT_KEY ("?1", "4294967295"),
                                        run_id, error);
      if (segments < 0 || keyed < 0 || chunks < 0)
        return FALSE;
      if (segments != done || (done > 0 && keyed != done))
        wrong = "its segment rows are not those of its committed segments, each under its own key and over the "
                "tokens its segment_len gives it";
      else
        {
          gint64 seen = check_chunks (w, run_id, done, &wrong, error);
          if (seen < 0)
            return FALSE;
          if (!wrong && seen != chunks)
            wrong = "it has memory rows outside its key range";
        }
    }
  if (wrong)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table runs: cannot resume: %s "
                   "(n_tokens %" G_GINT64_FORMAT ", segment_len %" G_GINT64_FORMAT ", n_segments %" G_GINT64_FORMAT
                   ", %" G_GINT64_FORMAT " committed segments); the recording is damaged or altered", w->path, run_id,
                   wrong, n_tokens, segment_len, n_segments, done);
      return FALSE;
    }
  return TRUE;
}

gboolean
ms_run_writer_resume_run (MsRunWriter *w, MsModel *model, const char *input_path, gint64 run_id, MsRunPlan *plan,
                          int *segments_done, GError **error)
{
  g_return_val_if_fail (w->run_id == 0, FALSE);
  sqlite3_stmt *st;
  const char *sql = "SELECT m.sha256, r.input_sha256, r.n_tokens, r.segment_len, r.n_segments, "
                    MS_DB_SEGMENTS_DONE ("r.id") ", r.attn_dtype, r.status"
                    " FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?1";
  if (sqlite3_prepare_v2 (w->db, sql, -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (w->db, w->path, "reading the run to resume", error);
  sqlite3_bind_int64 (st, 1, run_id);
  gboolean ok = FALSE;
  int rc = ms_db_step (st, w->path, "reading the run to resume", error);
  MsRunStatus status;
  MsAttnStore attn;
  if (rc == SQLITE_DONE)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: there is no run %" G_GINT64_FORMAT, w->path, run_id);
  else if (rc == SQLITE_ROW
           && (!ms_run_status_parse_stored ((const char *) sqlite3_column_text (st, 7), &status)
               || !ms_attn_store_parse ((const char *) sqlite3_column_text (st, 6), &attn)))
    g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT " has a status or attention storage "
                 "Memscope does not write", w->path, run_id);
  else if (rc == SQLITE_ROW)
    {
      g_autofree char *model_sha = ms_run_writer_file_sha256 (ms_model_get_path (model), error);
      g_autofree char *input_sha = model_sha ? ms_run_writer_file_sha256 (input_path, error) : NULL;
      if (!input_sha)
        ;
      else if (g_strcmp0 (model_sha, (const char *) sqlite3_column_text (st, 0)) != 0)
        g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " was recorded with another "
                     "model file than %s (SHA-256 differs)", w->path, run_id, ms_model_get_path (model));
      else if (g_strcmp0 (input_sha, (const char *) sqlite3_column_text (st, 1)) != 0)
        g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " was recorded on another "
                     "input than %s (SHA-256 differs)", w->path, run_id, input_path);
      else if (status == MS_RUN_COMPLETE)
        g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " is already complete",
                     w->path, run_id);
      else if (check_resumable (w, run_id, sqlite3_column_int64 (st, 2), sqlite3_column_int64 (st, 3),
                                sqlite3_column_int64 (st, 4), sqlite3_column_int64 (st, 5), error))
        {
          *plan = (MsRunPlan) { (size_t) sqlite3_column_int64 (st, 2), sqlite3_column_int (st, 3),
                                sqlite3_column_int (st, 4), attn };
          *segments_done = sqlite3_column_int (st, 5);
          w->run_id = run_id;
          w->attn = attn;
          w->n_segments = plan->n_segments;
          ms_run_writer_bind_run (w, run_id);
          ok = TRUE;
        }
    }
  sqlite3_finalize (st);
  return ok;
}

float *
ms_run_writer_load_memory (MsRunWriter *w, int segment, GError **error)
{
  const MsConfig *c = w->config;
  gint64 K = c->n_slots, d = c->d_model;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (w->db, "SELECT segment, n_states, rows, cols, data FROM memory WHERE id BETWEEN "
                          MS_DB_SEGMENT_KEY ("?1", "0") " AND " MS_DB_SEGMENT_KEY ("?1", "?2 + 1")
                          " ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (w->db, w->path, "reading a stored memory state", error), NULL;
  sqlite3_bind_int64 (st, 1, w->run_id);
  sqlite3_bind_int (st, 2, segment);
  float *memory = NULL;
  int rc = ms_db_step (st, w->path, "reading a stored memory state", error);
  gint64 first = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
  gint64 states = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 1) : 0;
  if (rc == SQLITE_ROW && first >= -1 && first <= segment && segment - first < states && states <= MS_DB_MAX_CHUNK_STATES
      && sqlite3_column_int64 (st, 2) == K && sqlite3_column_int64 (st, 3) == d
      && sqlite3_column_type (st, 4) == SQLITE_BLOB && sqlite3_column_bytes (st, 4) == states * K * d * 4)
    memory = g_memdup2 ((const guint8 *) sqlite3_column_blob (st, 4) + (segment - first) * K * d * 4,
                        (size_t) (K * d * 4));
  else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no %d × %d memory state for "
                 "segment %d", w->path, w->run_id, c->n_slots, c->d_model, segment);
  sqlite3_finalize (st);
  return memory;
}
