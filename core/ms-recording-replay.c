/* ms-recording-replay.c — attention from a recording (ms_recording_attention):
 * read from the stored matrices of a run recorded with --attn f16|f32, or
 * replayed from the stored memory state and tokens of a compact run
 * (ms-replay.h); and the glue that hands a segment's validated replay input
 * (model, memory before it, tokens) to ms-replay.c and to the modules that
 * compute from a recording (ms-recording-private.h). */
#include "ms-recording-handle.h"
#include "ms-engine.h"
#include "ms-error.h"
#include "ms-half.h"
#include "ms-replay.h"
#include "ms-recording-private.h"

#include <string.h>

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

/* Adds one head's (r, c) matrix @one into @sum; the mean over heads is
 * the sum of the heads in head order divided by their number, the same
 * arithmetic for stored and replayed attention, so both give the same
 * bits. */
static void
add_head (float *sum, const float *one, size_t n)
{
  for (size_t i = 0; i < n; i++)
    sum[i] += one[i];
}

static float *
divide_heads (float *sum, size_t n, int n_heads)
{
  for (size_t i = 0; i < n; i++)
    sum[i] /= n_heads;
  return sum;
}

static float *replay_attention_locked (MsRecording *rec, const MsRunInfo *info, int segment, MsObsKind kind,
                                       int layer, int head, int *rows, int *cols, GError **error);

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
  if (info->attn == MS_ATTN_STORE_NONE)
    return replay_attention_locked (rec, info, segment, kind, layer, head, rows, cols, error);
  /* columns: 0 rows, 1 cols, 2 dtype, 3 data, 4 the row's run, 5 its segment, 6 its head, 7 token_begin,
   * 8 token_end of the segment whose attn_first and attn_count point at it */
  sqlite3_stmt *st = ms_recording_prepare (rec, "SELECT a.rows, a.cols, a.dtype, a.data, a.run_id, a.segment, a.head, "
                                   "s.token_begin, s.token_end FROM segments s JOIN attention a "
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
  int n_heads = 0, r = 0, c = 0, rc, want_heads = 0;
  const MsAttentionLayout *layout = ms_engine_find_attention (info->config.engine, kind);
  while ((rc = ms_db_step (st, rec->path, "reading attention", error)) == SQLITE_ROW)
    {
      /* Each matrix is the segment's own (its run, segment and head), has
       * the shape the engine's layout gives the segment's tokens, and its
       * BLOB exactly the bytes that shape and dtype take: checked before
       * anything is allocated from them or drawn (a matrix of another
       * segment or shape would be drawn under this segment's tokens). */
      gint64 hr64 = sqlite3_column_int64 (st, 0), hc64 = sqlite3_column_int64 (st, 1);
      int hr = (int) CLAMP (hr64, -1, G_MAXINT32), hc = (int) CLAMP (hc64, -1, G_MAXINT32);
      int bytes = sqlite3_column_bytes (st, 3);
      const char *dtype = (const char *) sqlite3_column_text (st, 2);
      gint64 row_run = sqlite3_column_int64 (st, 4), row_segment = sqlite3_column_int64 (st, 5);
      gint64 row_head = sqlite3_column_int64 (st, 6);
      gint64 begin = sqlite3_column_int64 (st, 7), end = sqlite3_column_int64 (st, 8);
      gint64 n_tokens = begin >= 0 && end >= begin ? end - begin : -1;   /* no overflow: any integers */
      int want_r = 0, want_c = 0;
      if (n_tokens >= 1 && n_tokens <= info->segment_len)
        ms_attention_layout_shape (layout, &info->config, (int) n_tokens, &want_heads, &want_r, &want_c);
      MsAttnStore store;
      const char *wrong = NULL;
      if (row_run != run_id || row_segment != segment)
        wrong = "belongs to another run or segment (the segment's attn_first and attn_count point at it)";
      else if (n_tokens < 1 || n_tokens > info->segment_len)
        wrong = "belongs to a segment whose token range is not 1 to the run's segment_len tokens";
      else if (!ms_attn_store_parse (dtype, &store) || store == MS_ATTN_STORE_NONE
               || sqlite3_column_type (st, 3) != SQLITE_BLOB || hr64 != want_r || hc64 != want_c
               || hr64 * hc64 * ms_attn_store_value_size (store) != bytes)
        wrong = "does not have the shape the model's layout gives the segment's tokens, or its BLOB does not hold "
                "that shape in its dtype";
      else if (head >= 0 ? n_heads > 0 : row_head != n_heads || n_heads >= want_heads)
        wrong = "is not the next of the model's heads, each stored once";
      if (wrong)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table attention, segment %d: "
                       "a stored %s attention matrix of layer %d, head %" G_GINT64_FORMAT " (run %" G_GINT64_FORMAT
                       ", segment %" G_GINT64_FORMAT ", %d × %d, dtype '%s', %d bytes) %s; expected %d heads of "
                       "%d × %d (the recording is damaged or altered)", rec->path, run_id, segment, kind_name,
                       layer, row_head, row_run, row_segment, hr, hc, dtype ? dtype : "NULL", bytes, wrong,
                       want_heads, want_r, want_c);
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
      /* attention weights are softmax outputs: in [0, 1], or NaN */
      size_t bad = ms_recording_first_outside (one, (size_t) r * c, 0, 1);
      if (bad < (size_t) r * c)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table attention, segment %d: "
                       "a stored %s attention matrix of layer %d, head %" G_GINT64_FORMAT " holds %g at row %zu, "
                       "column %zu, where an attention weight in [0, 1] (or NaN) was expected (the recording is "
                       "damaged or altered)", rec->path, run_id, segment, kind_name, layer,
                       (gint64) sqlite3_column_int64 (st, 6), (double) one[bad], bad / c, bad % c);
          rc = SQLITE_ERROR;
          break;
        }
      add_head (sum, one, (size_t) r * c);
      n_heads++;
    }
  if (rc == SQLITE_DONE && head < 0 && sum && n_heads != want_heads)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table attention, segment %d: "
                   "%d stored %s attention matrices of layer %d where the model's %d heads were expected (the "
                   "recording is damaged or altered)", rec->path, run_id, segment, n_heads, kind_name, layer,
                   want_heads);
      rc = SQLITE_ERROR;
    }
  ms_recording_release (rec, st);
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
  *rows = r;
  *cols = c;
  return divide_heads (g_steal_pointer (&sum), (size_t) r * c, n_heads);
}

/* ---- replaying a compact run (ms-replay.h) ---- */

/* columns: 0 models.path, 1 models.sha256, 2 models.config, 3 segments.segment, 4 token_begin, 5 token_end,
 * 6 text, 7 whether the segment stores token ids; the memory before it comes from its memory chunk */
#define REPLAY_INPUT_SQL \
  "SELECT m.path, m.sha256, m.config, s.segment, s.token_begin, s.token_end, s.text, s.token_ids IS NOT NULL " \
  "FROM runs r JOIN models m ON m.id = r.model_id " \
  "JOIN segments s ON s.id = " MS_DB_SEGMENT_KEY ("?1", "?2") " WHERE r.id = ?1"

/* Is @text 64 lowercase hexadecimal digits (a SHA-256 as Memscope stores it)? */
static gboolean
is_sha256 (const char *text)
{
  if (!text || strlen (text) != 64)
    return FALSE;
  for (int i = 0; i < 64; i++)
    if (!g_ascii_isdigit (text[i]) && !(text[i] >= 'a' && text[i] <= 'f'))
      return FALSE;
  return TRUE;
}


/* Replays segment @segment of @info's run from what the recording stores
 * of it — the memory before it (exactly K × d f32, checked in 64-bit
 * arithmetic), its tokens (ids, or a byte model's text), the model file's
 * path, SHA-256 and configuration — each validated here or in
 * ms-replay.c before use: the file may come from anyone. */
typedef gboolean (*ReplayInputFunc) (const MsReplayInput *in, gpointer data, GError **error);

static gboolean
with_replay_input_locked (MsRecording *rec, const MsRunInfo *info, int segment, ReplayInputFunc func, gpointer data,
                          GError **error)
{
  if (segment < 0 || segment >= info->segments_done)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no segment %d (it has %d)",
                   rec->path, info->id, segment, info->segments_done);
      return FALSE;
    }
  sqlite3_stmt *st = ms_recording_prepare (rec, REPLAY_INPUT_SQL, error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, info->id);
  sqlite3_bind_int (st, 2, segment);
  int rc = ms_db_step (st, rec->path, "reading a segment to replay", error);
  gboolean out = FALSE;
  const MsConfig *c = &info->config;
  g_auto (MsMemoryChunk) chunk = { 0 };
  gboolean row = rc == SQLITE_ROW;
  gint64 begin = row ? sqlite3_column_int64 (st, 4) : 0, end = row ? sqlite3_column_int64 (st, 5) : 0;
  const char *path = row ? (const char *) sqlite3_column_text (st, 0) : NULL;
  const char *sha = row ? (const char *) sqlite3_column_text (st, 1) : NULL;
  const char *config = row ? (const char *) sqlite3_column_text (st, 2) : NULL;
  if (rc == SQLITE_DONE)
    ms_recording_bad_row (rec, info, "segments", segment, error, "the committed segment has no row to replay from");
  else if (rc != SQLITE_ROW)
    ;
  else if (!path || !*path || sqlite3_column_bytes (st, 0) != (int) strlen (path) || !is_sha256 (sha) || !config)
    g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table models: the model's path, "
                 "SHA-256 (64 hexadecimal digits) or configuration is missing or malformed (the recording is damaged "
                 "or altered)", rec->path, info->id);
  else if (sqlite3_column_int64 (st, 3) != segment)
    ms_recording_bad_row (rec, info, "segments", segment, error, "the row keyed for it holds segment %" G_GINT64_FORMAT,
                          (gint64) sqlite3_column_int64 (st, 3));
  else if (!ms_recording_memory_chunk_locked (rec, info, segment - 1, MS_MEMORY_CHUNK_STATES, &chunk, error))
    ;
  else if (begin != (gint64) segment * info->segment_len || end <= begin || end > begin + info->segment_len)
    ms_recording_bad_row (rec, info, "segments", segment, error, "it holds tokens [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") "
                          "where 1 to %d tokens from %" G_GINT64_FORMAT " were expected", begin, end, info->segment_len,
                          (gint64) segment * info->segment_len);
  else
    {
      const float *memory = ms_memory_chunk_state (&chunk, info, segment - 1);
      /* the stored ids, checked against the text and the vocabulary */
      size_t n_stored = 0;
      g_autofree MsToken *stored = sqlite3_column_int (st, 7)
                                     ? ms_recording_segment_tokens_locked (rec, info, segment, &n_stored, NULL, error) : NULL;
      g_autofree int32_t *ids = stored ? g_new (int32_t, n_stored) : NULL;
      for (size_t i = 0; i < n_stored; i++)
        ids[i] = stored[i].id;
      if (sqlite3_column_int (st, 7) && !stored)
        {
          ms_recording_release (rec, st);
          return FALSE;
        }
      MsReplayInput in = {
        .recording = rec->path, .run_id = info->id, .segment = segment, .model_path = path, .model_sha256 = sha,
        .model_config = config, .model_override = rec->model_override, .config = c, .memory_in = memory,
        .n_tokens = (int) (end - begin), .text = sqlite3_column_blob (st, 6), .text_len = sqlite3_column_bytes (st, 6),
        .token_ids = ids,
      };
      out = func (&in, data, error);
    }
  ms_recording_release (rec, st);
  return out;
}

static gboolean
replay_one (const MsReplayInput *in, gpointer data, GError **error)
{
  MsReplaySegment **out = data;
  *out = ms_replay_segment (in, error);
  return *out != NULL;
}

/* Replays segment @segment of @info's run (with_replay_input_locked). */
static MsReplaySegment *
replay_locked (MsRecording *rec, const MsRunInfo *info, int segment, GError **error)
{
  MsReplaySegment *out = NULL;
  with_replay_input_locked (rec, info, segment, replay_one, &out, error);
  return out;
}

/* ---- for the modules that compute from a recording (ms-recording-private.h) */

typedef struct {
  MsModel *model;          /* in: NULL to load the run's; out: a new reference */
  float *memory_in;        /* (K·d) out, or NULL */
  int32_t **tokens;        /* out, or NULL */
  int *n_tokens;
} InputRequest;

static gboolean
take_input (const MsReplayInput *in, gpointer data, GError **error)
{
  InputRequest *req = data;
  g_autoptr (MsModel) model = req->model ? ms_model_ref (req->model) : ms_replay_model (in, error);
  if (!model)
    return FALSE;
  if (req->tokens)
    {
      int32_t *ids = ms_replay_tokens (in, model, error);
      if (!ids)
        return FALSE;
      *req->tokens = ids;
      *req->n_tokens = in->n_tokens;
    }
  if (req->memory_in)
    memcpy (req->memory_in, in->memory_in, (size_t) in->config->n_slots * in->config->d_model * sizeof (float));
  if (!req->model)
    req->model = g_steal_pointer (&model);
  return TRUE;
}

MsModel *
ms_recording_run_model (MsRecording *rec, const MsRunInfo *run, GError **error)
{
  if (run->segments_done < 1)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no committed segment",
                   rec->path, run->id);
      return NULL;
    }
  InputRequest req = { 0 };
  ms_recording_lock (rec);
  with_replay_input_locked (rec, run, 0, take_input, &req, error);
  g_rec_mutex_unlock (&rec->lock);
  return req.model;
}

gboolean
ms_recording_segment_input (MsRecording *rec, const MsRunInfo *run, MsModel *model, int segment, float *memory_in,
                            int32_t **tokens, int *n_tokens, GError **error)
{
  InputRequest req = { .model = model, .memory_in = memory_in, .tokens = tokens, .n_tokens = n_tokens };
  ms_recording_lock (rec);
  gboolean ok = with_replay_input_locked (rec, run, segment, take_input, &req, error);
  g_rec_mutex_unlock (&rec->lock);
  return ok;
}

static float *
replay_attention_locked (MsRecording *rec, const MsRunInfo *info, int segment, MsObsKind kind, int layer, int head,
                         int *rows, int *cols, GError **error)
{
  g_autoptr (MsReplaySegment) seg = replay_locked (rec, info, segment, error);
  if (!seg)
    return NULL;
  int heads, r, c;
  const float *m = ms_replay_segment_attention (seg, kind, layer, &heads, &r, &c);
  if (!m || head >= heads)
    {
      g_autofree char *which = head >= 0 ? g_strdup_printf (", head %d", head) : g_strdup ("");
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no %s attention for segment %d, "
                   "layer %d%s (the layer or head is out of range)", rec->path, info->id,
                   ms_obs_kind_stored_name (kind), segment, layer, which);
      return NULL;
    }
  size_t n = (size_t) r * c;
  float *sum = g_new0 (float, MAX (n, 1));
  for (int h = head < 0 ? 0 : head; h < (head < 0 ? heads : head + 1); h++)
    add_head (sum, m + (size_t) h * n, n);
  *rows = r;
  *cols = c;
  return divide_heads (sum, n, head < 0 ? heads : 1);
}

float *
ms_recording_attention (MsRecording *rec, const MsRunInfo *run, int segment, MsObsKind kind, int layer, int head,
                        int *rows, int *cols, GError **error)
{
  ms_recording_lock (rec);
  float *out = attention_locked (rec, run, segment, kind, layer, head, rows, cols, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}
