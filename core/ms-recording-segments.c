/* ms-recording-segments.c — what a recording holds per segment: the
 * per-slot quantities, NLL and text streamed over a window of segments
 * (ms_recording_foreach_segment), and one segment's text, tokens and
 * per-token NLL, each validated against the run before use. */
#include "ms-recording-handle.h"
#include "ms-engine.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

gboolean
ms_recording_foreach_segment (MsRecording *rec, const MsRunInfo *run, int first, int last, int stride, guint fields,
                              MsSegmentFunc func, gpointer user_data, GError **error)
{
  g_return_val_if_fail (stride >= 1, FALSE);
  int K = run->config.n_slots;
  /* A token share not stored is what the transfer leaves (ms-recording-names.h) */
  if (fields & 1 << MS_SLOT_TOKEN_SHARE)
    fields |= MS_SEGMENT_TRANSFER;
  if (fields & MS_SEGMENT_TRANSFER)
    fields |= 1 << MS_SLOT_RETENTION;   /* the diagonal of a segment without a stored transfer */
  /* columns: 0 segment, 1 … Q the slot quantities, then (from T = Q + 1) T n_predicted, T + 1 total_nll,
   * T + 2 text, T + 3 id; the transfers come from the memory chunks (ms-db.h) */
  enum { T = MS_SLOT_N_QUANTITIES + 1 };
  GString *query = g_string_new ("SELECT segment");
  for (int q = 0; q < MS_SLOT_N_QUANTITIES; q++)
    g_string_append_printf (query, ", %s", fields & 1 << q ? ms_slot_quantity_column (q) : "NULL");
  g_string_append_printf (query, ", %s, %s, %s, id FROM segments WHERE id BETWEEN "
    MS_DB_SEGMENT_KEY ("?1", "?2") " AND " MS_DB_SEGMENT_KEY ("?1", "?3 - 1") " AND (id - ?1 * 4294967296 - ?2) %% ?4 = 0",
    fields & MS_SEGMENT_NLL ? "n_predicted" : "NULL", fields & MS_SEGMENT_NLL ? "total_nll" : "NULL",
    fields & MS_SEGMENT_TEXT ? "text" : "NULL");
  g_autofree char *sql = g_string_free (query, FALSE);
  gboolean empty;
  sqlite3_stmt *st = ms_recording_window_begin (rec, run, &first, &last, sql, &empty, error);
  if (!st)
    return empty;
  sqlite3_bind_int (st, 4, stride);
  /* The range of each quantity (ms-recording-names.h): shares and weights in
   * [0, 1], a cosine in [−1, 1], and read usage, a sum of read attention
   * over a layer's rows (mean over layers), in [0, rows] */
  double lo[MS_SLOT_N_QUANTITIES], hi[MS_SLOT_N_QUANTITIES];
  for (int q = 0; q < MS_SLOT_N_QUANTITIES; q++)
    lo[q] = q == MS_SLOT_REPRESENTATION ? -1 : 0, hi[q] = 1;
  const MsAttentionLayout *read = ms_engine_find_attention_by_role (run->config.engine, MS_ATTENTION_READ);
  int read_rows = run->config.segment_len;
  if (read)
    ms_attention_layout_shape (read, &run->config, run->config.segment_len, NULL, &read_rows, NULL);
  hi[MS_SLOT_READ_USAGE] = MAX (read_rows, 1);
  g_autofree float *slots = g_new (float, (size_t) K * MS_SLOT_N_QUANTITIES + (size_t) K * K);
  float *transfer = slots + (size_t) K * MS_SLOT_N_QUANTITIES;
  g_auto (MsMemoryChunk) chunk = { 0 };
  gboolean ok = TRUE;
  int rc = SQLITE_DONE;
  /* Every segment of the window in turn: the run's description counted its
   * rows present, but a file changed under a reader may have lost one since
   * (the count of rows already seen is kept per file, run and creation time:
   * ms-recording-runs.c), and a missing row must not be a missing column. */
  gint64 expected = first;
  while (ok && (rc = ms_db_step (st, rec->path, "reading segments", error)) == SQLITE_ROW)
    {
      gint64 segment = ms_recording_row_segment (rec, run, "segments", st, T + 3, 0, 0, first, last, error);
      if (segment < 0)
        {
          ok = FALSE;
          break;
        }
      if (segment != expected)
        {
          ok = ms_recording_bad_row (rec, run, "segments", expected, error, "the row is missing (the next row holds "
                                     "segment %" G_GINT64_FORMAT ")", segment);
          break;
        }
      expected += stride;
      MsRecordedSegment seg = { .segment = (int) segment };
      for (int q = 0; ok && q < MS_SLOT_N_QUANTITIES; q++)
        if (fields & 1 << q)
          {
            if (!ms_recording_column_slots (st, 1 + q, q, slots + (size_t) q * K, K))
              ok = ms_recording_bad_row (rec, run, "segments", segment, error, "%s holds %d bytes where an array of %d "
                                         "values (one per slot: %d bytes as f32, %" G_GINT64_FORMAT " narrow) was expected",
                                         ms_slot_quantity_column (q), sqlite3_column_bytes (st, 1 + q), K, 4 * K,
                                         ms_slot_array_narrow_bytes (q, K));
            seg.slots[q] = slots + (size_t) q * K;
            size_t bad = ok ? ms_recording_first_outside (seg.slots[q], K, lo[q], hi[q]) : (size_t) K;
            if (bad < (size_t) K)
              ok = ms_recording_bad_row (rec, run, "segments", segment, error, "%s holds %g for slot %zu, where a "
                                         "value in [%g, %g] (or NaN) was expected", ms_slot_quantity_column (q),
                                         (double) seg.slots[q][bad], bad, lo[q], hi[q]);
          }
      if (ok && fields & MS_SEGMENT_TRANSFER)
        {
          const float *stored = NULL;
          ok = ms_recording_memory_chunk_locked (rec, run, (int) segment, MS_MEMORY_CHUNK_TRANSFER, &chunk, error);
          if (ok)
            stored = ms_memory_chunk_transfer (&chunk, run, (int) segment);
          if (stored)
            memcpy (transfer, stored, (size_t) K * K * sizeof (float));
          else
            {
              memset (transfer, 0, (size_t) K * K * sizeof (float));
              for (int i = 0; i < K; i++)
                transfer[(size_t) i * K + i] = seg.slots[MS_SLOT_RETENTION][i];
            }
          seg.transfer = transfer;
          /* T's row i holds the share of slot i drawn from the old memory;
           * what it leaves came from the tokens */
          if (fields & 1 << MS_SLOT_TOKEN_SHARE && sqlite3_column_type (st, 1 + MS_SLOT_TOKEN_SHARE) == SQLITE_NULL)
            for (int i = 0; i < K; i++)
              {
                double old = 0;
                for (int j = 0; j < K; j++)
                  old += transfer[(size_t) i * K + j];
                slots[(size_t) MS_SLOT_TOKEN_SHARE * K + i] = (float) (1 - old);
              }
        }
      gint64 n_predicted = sqlite3_column_int64 (st, T);
      if (ok && fields & MS_SEGMENT_NLL && (n_predicted < 0 || n_predicted > run->segment_len))
        ok = ms_recording_bad_row (rec, run, "segments", segment, error, "n_predicted is %" G_GINT64_FORMAT " where 0 to the "
                                   "run's segment_len %d was expected", n_predicted, run->segment_len);
      double total_nll = ms_db_column_real (st, T + 1);
      /* the mean is a float: a finite sum whose mean a float cannot hold was never summed from float NLLs */
      if (ok && fields & MS_SEGMENT_NLL && n_predicted > 0 && !isnan (total_nll)
          && !(isfinite (total_nll) && total_nll >= 0 && isfinite ((float) (total_nll / n_predicted))))
        ok = ms_recording_bad_row (rec, run, "segments", segment, error, "total_nll is %g where a finite sum of NLL "
                                   "≥ 0 over its %" G_GINT64_FORMAT " predicted tokens (a mean a float holds) was "
                                   "expected", total_nll, n_predicted);
      seg.nll = n_predicted > 0 ? (float) (total_nll / n_predicted) : NAN;
      if (ok && fields & MS_SEGMENT_TEXT)
        {
          seg.text = sqlite3_column_blob (st, T + 2);
          seg.text_len = sqlite3_column_bytes (st, T + 2);
        }
      if (ok)
        ok = func (&seg, user_data, error);
    }
  if (ok && rc == SQLITE_DONE && expected < last)
    ok = ms_recording_bad_row (rec, run, "segments", expected, error, "the row is missing (the run's rows end before "
                               "segment %d)", last - 1);
  return ms_recording_window_end (rec, st, ok, rc);
}

static GBytes *
segment_text_locked (MsRecording *rec, gint64 run_id, int segment, GError **error)
{
  sqlite3_stmt *st = ms_recording_segment_row_locked (rec, run_id, segment, "SELECT text FROM segments WHERE id = "
                                                      MS_DB_SEGMENT_KEY ("?1", "?2") " AND segment = ?2",
                                                      "reading a segment's text", error);
  if (!st)
    return NULL;
  GBytes *text = g_bytes_new (sqlite3_column_blob (st, 0), sqlite3_column_bytes (st, 0));
  ms_recording_release (rec, st);
  return text;
}

MsToken *
ms_recording_segment_tokens_locked (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens, guint64 *byte_begin,
                                    GError **error)
{
  sqlite3_stmt *st = ms_recording_segment_row_locked (rec, run->id, segment, "SELECT token_begin, token_end, text, byte_begin, "
                                                      "token_ids, token_ends FROM segments WHERE id = "
                                                      MS_DB_SEGMENT_KEY ("?1", "?2") " AND segment = ?2",
                                                      "reading a segment's tokens", error);
  if (!st)
    return NULL;
  MsToken *out = NULL;
  /* Every size in 64 bits: a hostile row may hold any integers. */
  gint64 begin = sqlite3_column_int64 (st, 0), end = sqlite3_column_int64 (st, 1);
  gint64 n = begin >= 0 && end >= begin ? end - begin : -1;
  const guint8 *text = sqlite3_column_blob (st, 2);
  gint64 text_len = sqlite3_column_bytes (st, 2);
  int ids_type = sqlite3_column_type (st, 4), ends_type = sqlite3_column_type (st, 5);
  const guint8 *ids = sqlite3_column_blob (st, 4);
  gint64 ids_len = sqlite3_column_bytes (st, 4);
  const guint8 *ends = sqlite3_column_blob (st, 5);
  gint64 ends_len = sqlite3_column_bytes (st, 5);
  gint64 first_byte = sqlite3_column_type (st, 3) == SQLITE_NULL ? begin : sqlite3_column_int64 (st, 3);
  gboolean bytes = ids_type == SQLITE_NULL && ends_type == SQLITE_NULL;
  int vocab = run->config.vocab_size;
  if (n < 1 || n > run->segment_len || sqlite3_column_type (st, 2) != SQLITE_BLOB)
    ms_recording_bad_row (rec, run, "segments", segment, error, "tokens %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " and a text "
                          "where 1 to the run's segment_len %d tokens and their bytes were expected", begin, end, run->segment_len);
  else if (sqlite3_column_type (st, 3) != SQLITE_NULL
           && (sqlite3_column_type (st, 3) != SQLITE_INTEGER || first_byte < begin || first_byte > G_MAXINT64 / 2))
    ms_recording_bad_row (rec, run, "segments", segment, error, "byte_begin %s is not an offset in the input at or after the "
                          "segment's first token %" G_GINT64_FORMAT, (const char *) sqlite3_column_text (st, 3), begin);
  else if (bytes && text_len != n)
    ms_recording_bad_row (rec, run, "segments", segment, error, "text holds %" G_GINT64_FORMAT " bytes where %" G_GINT64_FORMAT
                          " (one per token) were expected", text_len, n);
  else if (!bytes && (ids_type != SQLITE_BLOB || ends_type != SQLITE_BLOB || ids_len != n * 4 || ends_len != n * 4))
    ms_recording_bad_row (rec, run, "segments", segment, error, "token_ids and token_ends hold %" G_GINT64_FORMAT " and %"
                          G_GINT64_FORMAT " bytes where %" G_GINT64_FORMAT " each (4 per token) were expected",
                          ids_type == SQLITE_BLOB ? ids_len : -1, ends_type == SQLITE_BLOB ? ends_len : -1, n * 4);
  else
    {
      out = g_new (MsToken, n);
      gint64 at = 0;
      for (gint64 i = 0; out && i < n; i++)
        {
          gint64 id = bytes ? text[i] : (gint32) ms_recording_blob_u32 (ids + 4 * i);
          gint64 stop = bytes ? i + 1 : (gint64) ms_recording_blob_u32 (ends + 4 * i);
          if (id < 0 || id >= vocab)
            ms_recording_bad_row (rec, run, "segments", segment, error, "token %" G_GINT64_FORMAT " has id %" G_GINT64_FORMAT
                                  ", outside the model's vocabulary (0 to %d)", i, id, vocab - 1);
          else if (stop <= at || stop > text_len || (i == n - 1 && stop != text_len))
            ms_recording_bad_row (rec, run, "segments", segment, error, "token %" G_GINT64_FORMAT " ends at byte %" G_GINT64_FORMAT
                                  " of the segment's %" G_GINT64_FORMAT "-byte text, where the ends rise strictly from %"
                                  G_GINT64_FORMAT " and the last is the text's end", i, stop, text_len, at);
          else
            {
              out[i] = (MsToken) { (int32_t) id, (uint32_t) at, (uint32_t) stop };
              at = stop;
              continue;
            }
          g_clear_pointer (&out, g_free);
        }
      if (out)
        {
          *n_tokens = (size_t) n;
          if (byte_begin)
            *byte_begin = (guint64) first_byte;
        }
    }
  ms_recording_release (rec, st);
  return out;
}

MsToken *
ms_recording_segment_tokens (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens,
                             guint64 *byte_begin, GError **error)
{
  ms_recording_lock (rec);
  MsToken *out = ms_recording_segment_tokens_locked (rec, run, segment, n_tokens, byte_begin, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

int
ms_recording_find_segment_at_byte (MsRecording *rec, const MsRunInfo *run, guint64 byte, GError **error)
{
  ms_recording_lock (rec);
  int lo = 0, hi = run->segments_done, found = -1;
  while (lo < hi)
    {
      int mid = lo + (hi - lo) / 2;
      size_t n = 0;
      guint64 begin = 0;
      g_autofree MsToken *tokens = ms_recording_segment_tokens_locked (rec, run, mid, &n, &begin, error);
      if (!tokens)
        {
          found = -2;
          break;
        }
      if (byte < begin)
        hi = mid;
      else if (byte >= begin + tokens[n - 1].end)
        lo = mid + 1;
      else
        {
          found = mid;
          break;
        }
    }
  g_rec_mutex_unlock (&rec->lock);
  return found;
}

GBytes *
ms_recording_segment_text (MsRecording *rec, gint64 run_id, int segment, GError **error)
{
  ms_recording_lock (rec);
  GBytes *out = segment_text_locked (rec, run_id, segment, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

static float *
segment_nll_locked (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens, GError **error)
{
  sqlite3_stmt *st = ms_recording_segment_row_locked (rec, run->id, segment, "SELECT token_begin, token_end, nll FROM segments "
                                                      "WHERE id = " MS_DB_SEGMENT_KEY ("?1", "?2") " AND segment = ?2",
                                                      "reading a segment's NLL", error);
  if (!st)
    return NULL;
  float *out = NULL;
  gint64 begin = sqlite3_column_int64 (st, 0), end = sqlite3_column_int64 (st, 1);
  gint64 n = begin >= 0 && end >= begin ? end - begin : -1;
  const guint8 *blob = sqlite3_column_blob (st, 2);
  gint64 len = sqlite3_column_bytes (st, 2);
  if (n < 1 || n > run->segment_len || sqlite3_column_type (st, 2) != SQLITE_BLOB || len != n * 4)
    ms_recording_bad_row (rec, run, "segments", segment, error, "nll holds %" G_GINT64_FORMAT " bytes for tokens %" G_GINT64_FORMAT
                          " to %" G_GINT64_FORMAT ", where 4 per token (f32) for 1 to the run's segment_len %d tokens were expected",
                          sqlite3_column_type (st, 2) == SQLITE_BLOB ? len : -1, begin, end, run->segment_len);
  else
    {
      out = g_new (float, n);
      for (gint64 i = 0; out && i < n; i++)
        {
          guint32 bits = ms_recording_blob_u32 (blob + 4 * i);
          memcpy (&out[i], &bits, sizeof bits);
          if (isinf (out[i]) || out[i] < 0)
            {
              ms_recording_bad_row (rec, run, "segments", segment, error, "token %" G_GINT64_FORMAT " has NLL %g, where a "
                                    "finite value ≥ 0 or NaN (no prediction) was expected", i, (double) out[i]);
              g_clear_pointer (&out, g_free);
            }
        }
      if (out)
        *n_tokens = (size_t) n;
    }
  ms_recording_release (rec, st);
  return out;
}

float *
ms_recording_segment_nll (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens, GError **error)
{
  ms_recording_lock (rec);
  float *out = segment_nll_locked (rec, run, segment, n_tokens, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}
