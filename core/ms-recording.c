/* ms-recording.c — read-only queries over a recording.  Every statement is
 * stepped through ms_db_step, so a failure part way through a result is an
 * error, and every stored name is parsed through ms-recording-names.h. */
#include "ms-recording.h"
#include "ms-db.h"
#include "ms-engine.h"
#include "ms-error.h"
#include "ms-half.h"
#include "ms-replay.h"
#include "ms-recording-private.h"

#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

struct _MsRecording {
  /* Owned */
  char *path;
  sqlite3 *db;
  GRecMutex lock;      /* held by one call, or from read_begin to read_end */
  int read_depth;      /* nested read_begin calls of the holder */
  MsDbBudget budget;   /* armed by lock (), for the call that took it */
  char *model_override; /* ms_recording_set_model_path */
  GHashTable *statements;   /* SQL text → sqlite3_stmt: each query is prepared once (prepare) and reset
                               after each use (release), since parsing costs more than most reads */
};

static sqlite3_stmt *prepare (MsRecording *rec, const char *sql, GError **error);
static void release (MsRecording *rec, sqlite3_stmt *st);

/* Takes the handle for one call and arms the work budget of its queries
 * (ms_db_budget_arm): a planted query can stall one call, never hang. */
static void
lock (MsRecording *rec)
{
  g_rec_mutex_lock (&rec->lock);
  rec->budget.left = -1;   /* unbounded while the file's size is read */
  sqlite3_stmt *st = prepare (rec, "PRAGMA main.page_count", NULL);
  gint64 pages = st && sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
  if (st)
    release (rec, st);
  ms_db_budget_arm_pages (&rec->budget, pages, 1);
}

/* Runs @sql, one statement without results, through prepare(). */
static gboolean
exec_kept (MsRecording *rec, const char *sql, GError **error)
{
  sqlite3_stmt *st = prepare (rec, sql, error);
  if (!st)
    return FALSE;
  int rc = ms_db_step (st, rec->path, "reading the recording", error);
  while (rc == SQLITE_ROW)
    rc = ms_db_step (st, rec->path, "reading the recording", error);
  release (rec, st);
  return rc == SQLITE_DONE;
}

static void
statement_free (gpointer st)
{
  sqlite3_finalize (st);
}

static MsRecording *
recording_new (sqlite3 *db, const char *path)
{
  MsRecording *rec = g_new0 (MsRecording, 1);
  rec->path = g_strdup (path);
  rec->db = db;
  g_rec_mutex_init (&rec->lock);
  ms_db_budget_attach (db, &rec->budget);
  rec->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, statement_free);
  return rec;
}

MsRecording *
ms_recording_open (const char *path, GError **error)
{
  sqlite3 *db = ms_db_open (path, FALSE, TRUE, error);
  return db ? recording_new (db, path) : NULL;
}

MsRecording *
ms_recording_open_image (const void *data, size_t size, const char *label, GError **error)
{
  sqlite3 *db = ms_db_open_image (data, size, label, error);
  return db ? recording_new (db, label) : NULL;
}

void
ms_recording_close (MsRecording *rec)
{
  if (!rec)
    return;
  g_hash_table_unref (rec->statements);   /* before the handle: SQLite closes none with statements left */
  sqlite3_close (rec->db);
  g_rec_mutex_clear (&rec->lock);
  g_free (rec->model_override);
  g_free (rec->path);
  g_free (rec);
}

gboolean
ms_recording_read_begin (MsRecording *rec, GError **error)
{
  lock (rec);
  if (rec->read_depth++ > 0)
    return TRUE;
  /* BEGIN is deferred: the snapshot is taken by the first read */
  if (!exec_kept (rec, "BEGIN", error) || !exec_kept (rec, "SELECT 1 FROM runs LIMIT 1", error))
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
    exec_kept (rec, "COMMIT", NULL);
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

/* The statement for @sql, with rec->lock held: prepared on first use and
 * kept (SQLite re-prepares it by itself if the schema changes), or a
 * statement of its own while the kept one is in use by a caller further up
 * (a callback reading the same query).  NULL with @error set when it does
 * not prepare.  release() it after its last step, under the same lock. */
static sqlite3_stmt *
prepare (MsRecording *rec, const char *sql, GError **error)
{
  sqlite3_stmt *kept = g_hash_table_lookup (rec->statements, sql), *st = NULL;
  if (kept && !sqlite3_stmt_busy (kept))
    return kept;
  if (sqlite3_prepare_v3 (rec->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
    {
      ms_db_fail (rec->db, rec->path, "reading the recording", error);
      sqlite3_finalize (st);
      return NULL;
    }
  if (!kept)
    g_hash_table_insert (rec->statements, g_strdup (sql), st);
  return st;
}

/* Ends a use of a prepare()d statement: a kept one is reset (its read
 * ends) and loses its bindings, any other is finalized. */
static void
release (MsRecording *rec, sqlite3_stmt *st)
{
  if (g_hash_table_lookup (rec->statements, sqlite3_sql (st)) != st)
    {
      sqlite3_finalize (st);
      return;
    }
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
}

#define RUN_COLUMNS \
  "r.id, r.name, m.path, r.input_path, m.arch, m.config, r.segment_len, r.n_segments, " \
  MS_DB_SEGMENTS_DONE ("r.id") ", r.status, r.attn_dtype, r.created, r.writer_pid, r.writer_host, r.n_tokens, " \
  "(SELECT count (*) FROM segments WHERE id BETWEEN " MS_DB_SEGMENT_KEY ("r.id", "0") " AND " \
  MS_DB_SEGMENT_KEY ("r.id", "4294967295") ")"

/* Views hold a (K, K) transfer matrix and a few (K) arrays per segment they
 * draw; no model Memscope records has memories near this many slots. */
#define MAX_SLOTS 8192

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
  gint64 n_rows = sqlite3_column_int64 (st, 15);
  const char *wrong = NULL;
  if (info->id < 1 || info->id > G_MAXINT32)
    wrong = "its id is not between 1 and 2^31 − 1";
  else if (info->config.n_slots > MAX_SLOTS || ms_engine_footprint (&info->config) > MS_MODEL_MAX_SESSION_BYTES)
    wrong = "its model's configuration is larger than any model Memscope records";
  else if (segment_len < 1 || segment_len > info->config.segment_len)
    wrong = "segment_len is not between 1 and the model's segment_len";
  else if (n_tokens < 0 || n_tokens > G_MAXINT32)
    wrong = "n_tokens is negative or too large";
  else if (n_segments < 0 || n_segments > (n_tokens + segment_len - 1) / segment_len)
    wrong = "n_segments is not between 0 and the segments its n_tokens fill";
  else if (done < 0 || done > n_segments || n_rows != done)
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
  release (rec, st);
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
  release (rec, st);
  return info;
}

/* Sets @error naming the file, the table, the row and what was expected of
 * it; returns FALSE. */
static gboolean
bad_row (MsRecording *rec, const MsRunInfo *run, const char *table, gint64 segment, GError **error,
         const char *format, ...) G_GNUC_PRINTF (6, 7);

static gboolean
bad_row (MsRecording *rec, const MsRunInfo *run, const char *table, gint64 segment, GError **error,
         const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table %s, segment %" G_GINT64_FORMAT
               ": %s (the recording is damaged or altered)", rec->path, run->id, table, segment, what);
  return FALSE;
}

/* The segment of a row keyed run · 2^32 + segment + @offset (ms-db.h):
 * its key column @id_col and segment column @seg_col must agree, and the
 * segment lie in [@first, @last).  Returns the segment, or −2 after
 * setting @error. */
static gint64
row_segment (MsRecording *rec, const MsRunInfo *run, const char *table, sqlite3_stmt *st, int id_col, int seg_col,
             int offset, int first, int last, GError **error)
{
  gint64 id = sqlite3_column_int64 (st, id_col), segment = sqlite3_column_int64 (st, seg_col);
  gint64 base = run->id * (G_GINT64_CONSTANT (1) << 32);   /* run ids are checked positive and < 2^31 */
  if (sqlite3_column_type (st, seg_col) != SQLITE_INTEGER || segment < first || segment >= last
      || id - base - offset != segment)
    {
      bad_row (rec, run, table, segment, error, "row %" G_GINT64_FORMAT " holds segment %s where segments %d to %d "
               "and the key %" G_GINT64_FORMAT " were expected", id, sqlite3_column_text (st, seg_col) ?
               (const char *) sqlite3_column_text (st, seg_col) : "NULL", first, last - 1, id - base - offset);
      return -2;
    }
  return segment;
}

/* Copies a (n) f32 BLOB column into @out, or n NaNs for NULL (a quantity
 * not stored: a segment of a schema 1 or 2 file without retention rows).
 * Copied: a BLOB may sit unaligned.  FALSE for anything else: not a BLOB,
 * or not exactly n f32 values — every Memscope writer stores one value per
 * slot (schema 1 and 2 one row per slot, which schema_1_2_views packs), so
 * a shorter array was cut, never written so. */
static gboolean
column_f32 (sqlite3_stmt *st, int column, float *out, int n)
{
  int type = sqlite3_column_type (st, column);
  if (type == SQLITE_NULL)
    {
      for (int i = 0; i < n; i++)
        out[i] = NAN;
      return TRUE;
    }
  const void *blob = sqlite3_column_blob (st, column);
  gint64 bytes = sqlite3_column_bytes (st, column);
  if (type != SQLITE_BLOB || bytes != (gint64) n * (gint64) sizeof (float))
    return FALSE;
  memcpy (out, blob, (size_t) bytes);
  return TRUE;
}

/* The start of a read of segments [*@first, *@last) of @run: clamps them
 * to the segments it has committed, locks @rec and prepares @sql with ?1
 * the run's id, ?2 the first and ?3 the end segment.  Returns the
 * statement, or NULL with @rec unlocked: *@empty TRUE when nothing is left
 * to read, else @error set.  window_end() finishes the read. */
static sqlite3_stmt *
window_begin (MsRecording *rec, const MsRunInfo *run, int *first, int *last, const char *sql, gboolean *empty,
              GError **error)
{
  *first = MAX (*first, 0);
  *last = MIN (*last, run->segments_done);
  *empty = *first >= *last;
  if (*empty)
    return NULL;
  lock (rec);
  sqlite3_stmt *st = prepare (rec, sql, error);
  if (!st)
    {
      g_rec_mutex_unlock (&rec->lock);
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, run->id);
  sqlite3_bind_int (st, 2, *first);
  sqlite3_bind_int (st, 3, *last);
  return st;
}

/* Releases @st and unlocks @rec.  Returns @ok, or FALSE when the row loop
 * ended on @rc other than SQLITE_DONE (ms_db_step set the error then). */
static gboolean
window_end (MsRecording *rec, sqlite3_stmt *st, gboolean ok, int rc)
{
  release (rec, st);
  g_rec_mutex_unlock (&rec->lock);
  return ok && rc == SQLITE_DONE;
}

gboolean
ms_recording_foreach_segment (MsRecording *rec, const MsRunInfo *run, int first, int last, int stride, guint fields,
                              MsSegmentFunc func, gpointer user_data, GError **error)
{
  g_return_val_if_fail (stride >= 1, FALSE);
  int K = run->config.n_slots;
  if (fields & MS_SEGMENT_TRANSFER)
    fields |= 1 << MS_SLOT_RETENTION;   /* the diagonal of a segment without a stored transfer */
  /* columns: 0 segment, 1 … 4 the slot quantities, 5 transfer, 6 n_predicted, 7 total_nll, 8 text, 9 id */
  g_autofree char *sql = g_strdup_printf (
    "SELECT segment, %s, %s, %s, %s, %s, %s, %s, %s, id FROM segments WHERE id BETWEEN "
    MS_DB_SEGMENT_KEY ("?1", "?2") " AND " MS_DB_SEGMENT_KEY ("?1", "?3 - 1") " AND (id - ?1 * 4294967296 - ?2) %% ?4 = 0",
    fields & 1 << 0 ? ms_slot_quantity_column (0) : "NULL", fields & 1 << 1 ? ms_slot_quantity_column (1) : "NULL",
    fields & 1 << 2 ? ms_slot_quantity_column (2) : "NULL", fields & 1 << 3 ? ms_slot_quantity_column (3) : "NULL",
    fields & MS_SEGMENT_TRANSFER ? "transfer" : "NULL", fields & MS_SEGMENT_NLL ? "n_predicted" : "NULL",
    fields & MS_SEGMENT_NLL ? "total_nll" : "NULL", fields & MS_SEGMENT_TEXT ? "text" : "NULL");
  gboolean empty;
  sqlite3_stmt *st = window_begin (rec, run, &first, &last, sql, &empty, error);
  if (!st)
    return empty;
  sqlite3_bind_int (st, 4, stride);
  g_autofree float *slots = g_new (float, (size_t) K * MS_SLOT_N_QUANTITIES + (size_t) K * K);
  float *transfer = slots + (size_t) K * MS_SLOT_N_QUANTITIES;
  gboolean ok = TRUE;
  int rc = SQLITE_DONE;
  while (ok && (rc = ms_db_step (st, rec->path, "reading segments", error)) == SQLITE_ROW)
    {
      gint64 segment = row_segment (rec, run, "segments", st, 9, 0, 0, first, last, error);
      if (segment < 0)
        {
          ok = FALSE;
          break;
        }
      MsRecordedSegment seg = { .segment = (int) segment };
      for (int q = 0; ok && q < MS_SLOT_N_QUANTITIES; q++)
        if (fields & 1 << q)
          {
            if (!column_f32 (st, 1 + q, slots + (size_t) q * K, K))
              ok = bad_row (rec, run, "segments", segment, error, "%s holds %d bytes where an array of %d f32 "
                            "values (one per slot) was expected", ms_slot_quantity_column (q),
                            sqlite3_column_bytes (st, 1 + q), K);
            seg.slots[q] = slots + (size_t) q * K;
          }
      if (ok && fields & MS_SEGMENT_TRANSFER)
        {
          if (sqlite3_column_type (st, 5) == SQLITE_NULL)
            {
              memset (transfer, 0, (size_t) K * K * sizeof (float));
              for (int i = 0; i < K; i++)
                transfer[(size_t) i * K + i] = seg.slots[MS_SLOT_RETENTION][i];
            }
          else if (sqlite3_column_type (st, 5) != SQLITE_BLOB
                   || sqlite3_column_bytes (st, 5) != (gint64) K * K * (gint64) sizeof (float))
            ok = bad_row (rec, run, "segments", segment, error, "transfer holds %d bytes where %d × %d f32 values "
                          "were expected", sqlite3_column_bytes (st, 5), K, K);
          else
            column_f32 (st, 5, transfer, K * K);
          seg.transfer = transfer;
        }
      gint64 n_predicted = sqlite3_column_int64 (st, 6);
      if (ok && fields & MS_SEGMENT_NLL && (n_predicted < 0 || n_predicted > run->segment_len))
        ok = bad_row (rec, run, "segments", segment, error, "n_predicted is %" G_GINT64_FORMAT " where 0 to the "
                      "run's segment_len %d was expected", n_predicted, run->segment_len);
      seg.nll = n_predicted > 0 ? (float) (ms_db_column_real (st, 7) / n_predicted) : NAN;
      if (ok && fields & MS_SEGMENT_TEXT)
        {
          seg.text = sqlite3_column_blob (st, 8);
          seg.text_len = sqlite3_column_bytes (st, 8);
        }
      if (ok)
        ok = func (&seg, user_data, error);
    }
  return window_end (rec, st, ok, rc);
}

gboolean
ms_recording_foreach_memory_state (MsRecording *rec, const MsRunInfo *run, int first, int last, MsStateFunc func,
                                   gpointer user_data, GError **error)
{
  size_t len = (size_t) run->config.n_slots * run->config.d_model;
  gboolean empty;
  sqlite3_stmt *st = window_begin (rec, run, &first, &last, "SELECT segment, data, id FROM memory WHERE id BETWEEN "
                                   MS_DB_SEGMENT_KEY ("?1", "?2 + 1") " AND " MS_DB_SEGMENT_KEY ("?1", "?3")
                                   " ORDER BY id", &empty, error);
  if (!st)
    return empty;
  g_autofree float *state = g_new (float, MAX (len, 1));
  gboolean ok = TRUE;
  int rc = SQLITE_DONE;
  while (ok && (rc = ms_db_step (st, rec->path, "reading memory states", error)) == SQLITE_ROW)
    {
      gint64 segment = row_segment (rec, run, "memory", st, 2, 0, 1, first, last, error);
      if (segment < 0)
        ok = FALSE;
      else if (sqlite3_column_type (st, 1) != SQLITE_BLOB
               || (size_t) sqlite3_column_bytes (st, 1) != len * sizeof (float))
        ok = bad_row (rec, run, "memory", segment, error, "data holds %d bytes where %d × %d f32 values were "
                      "expected", sqlite3_column_bytes (st, 1), run->config.n_slots, run->config.d_model);
      else
        {
          memcpy (state, sqlite3_column_blob (st, 1), len * sizeof (float));
          ok = func ((int) segment, state, user_data, error);
        }
    }
  return window_end (rec, st, ok, rc);
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
      gint64 hr64 = sqlite3_column_int64 (st, 0), hc64 = sqlite3_column_int64 (st, 1);
      int hr = (int) CLAMP (hr64, -1, G_MAXINT32), hc = (int) CLAMP (hc64, -1, G_MAXINT32);
      int bytes = sqlite3_column_bytes (st, 3);
      const char *dtype = (const char *) sqlite3_column_text (st, 2);
      MsAttnStore store;
      if (!ms_attn_store_parse (dtype, &store) || store == MS_ATTN_STORE_NONE || hr64 <= 0 || hc64 <= 0
          || hr64 > G_MAXINT32 || hc64 > G_MAXINT32 || sqlite3_column_type (st, 3) != SQLITE_BLOB
          || hr64 * hc64 != bytes / ms_attn_store_value_size (store)
          || hr64 * hc64 * ms_attn_store_value_size (store) != bytes || (sum && (hr != r || hc != c)))
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
      add_head (sum, one, (size_t) r * c);
      n_heads++;
    }
  release (rec, st);
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
 * 6 text, 7 memory.segment, 8 memory.rows, 9 memory.cols, 10 memory.data, 11 memory.id (NULL without one),
 * 12 whether the segment stores token ids */
#define REPLAY_INPUT_SQL \
  "SELECT m.path, m.sha256, m.config, s.segment, s.token_begin, s.token_end, s.text, " \
  "mem.segment, mem.rows, mem.cols, mem.data, mem.id, s.token_ids IS NOT NULL FROM runs r JOIN models m ON m.id = r.model_id " \
  "JOIN segments s ON s.id = " MS_DB_SEGMENT_KEY ("?1", "?2") " " \
  "LEFT JOIN memory mem ON mem.id = " MS_DB_SEGMENT_KEY ("?1", "?2") " WHERE r.id = ?1"

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

static MsToken *segment_tokens_locked (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens,
                                       guint64 *byte_begin, GError **error);

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
  sqlite3_stmt *st = prepare (rec, REPLAY_INPUT_SQL, error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, info->id);
  sqlite3_bind_int (st, 2, segment);
  int rc = ms_db_step (st, rec->path, "reading a segment to replay", error);
  gboolean out = FALSE;
  const MsConfig *c = &info->config;
  gint64 state_bytes = (gint64) c->n_slots * (gint64) c->d_model * (gint64) sizeof (float);
  gboolean row = rc == SQLITE_ROW;
  gint64 begin = row ? sqlite3_column_int64 (st, 4) : 0, end = row ? sqlite3_column_int64 (st, 5) : 0;
  const char *path = row ? (const char *) sqlite3_column_text (st, 0) : NULL;
  const char *sha = row ? (const char *) sqlite3_column_text (st, 1) : NULL;
  const char *config = row ? (const char *) sqlite3_column_text (st, 2) : NULL;
  if (rc == SQLITE_DONE)
    bad_row (rec, info, "segments", segment, error, "the committed segment has no row to replay from");
  else if (rc != SQLITE_ROW)
    ;
  else if (!path || !*path || sqlite3_column_bytes (st, 0) != (int) strlen (path) || !is_sha256 (sha) || !config)
    g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table models: the model's path, "
                 "SHA-256 (64 hexadecimal digits) or configuration is missing or malformed (the recording is damaged "
                 "or altered)", rec->path, info->id);
  else if (sqlite3_column_int64 (st, 3) != segment)
    bad_row (rec, info, "segments", segment, error, "the row keyed for it holds segment %" G_GINT64_FORMAT,
             (gint64) sqlite3_column_int64 (st, 3));
  else if (sqlite3_column_type (st, 11) != SQLITE_INTEGER || sqlite3_column_int64 (st, 7) != segment - 1
           || sqlite3_column_type (st, 7) != SQLITE_INTEGER)
    bad_row (rec, info, "memory", segment - 1, error, "the memory state before segment %d is missing or keyed "
             "for another segment", segment);
  else if (sqlite3_column_int64 (st, 8) != c->n_slots || sqlite3_column_int64 (st, 9) != c->d_model
           || sqlite3_column_type (st, 10) != SQLITE_BLOB || sqlite3_column_bytes (st, 10) != state_bytes)
    bad_row (rec, info, "memory", segment - 1, error, "the memory state is %" G_GINT64_FORMAT " × %" G_GINT64_FORMAT
             " in %d bytes where %d × %d f32 values (%" G_GINT64_FORMAT " bytes) were expected",
             (gint64) sqlite3_column_int64 (st, 8), (gint64) sqlite3_column_int64 (st, 9), sqlite3_column_bytes (st, 10), c->n_slots,
             c->d_model, state_bytes);
  else if (begin != (gint64) segment * info->segment_len || end - begin < 1 || end - begin > info->segment_len)
    bad_row (rec, info, "segments", segment, error, "it holds tokens [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") "
             "where 1 to %d tokens from %" G_GINT64_FORMAT " were expected", begin, end, info->segment_len,
             (gint64) segment * info->segment_len);
  else
    {
      /* Copied: a BLOB may sit unaligned. */
      g_autofree float *memory = g_malloc ((size_t) state_bytes);
      memcpy (memory, sqlite3_column_blob (st, 10), (size_t) state_bytes);
      /* the stored ids, checked against the text and the vocabulary */
      size_t n_stored = 0;
      g_autofree MsToken *stored = sqlite3_column_int (st, 12)
                                     ? segment_tokens_locked (rec, info, segment, &n_stored, NULL, error) : NULL;
      g_autofree int32_t *ids = stored ? g_new (int32_t, n_stored) : NULL;
      for (size_t i = 0; i < n_stored; i++)
        ids[i] = stored[i].id;
      if (sqlite3_column_int (st, 12) && !stored)
        {
          release (rec, st);
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
  release (rec, st);
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
  lock (rec);
  with_replay_input_locked (rec, run, 0, take_input, &req, error);
  g_rec_mutex_unlock (&rec->lock);
  return req.model;
}

gboolean
ms_recording_segment_input (MsRecording *rec, const MsRunInfo *run, MsModel *model, int segment, float *memory_in,
                            int32_t **tokens, int *n_tokens, GError **error)
{
  InputRequest req = { .model = model, .memory_in = memory_in, .tokens = tokens, .n_tokens = n_tokens };
  lock (rec);
  gboolean ok = with_replay_input_locked (rec, run, segment, take_input, &req, error);
  g_rec_mutex_unlock (&rec->lock);
  return ok;
}

sqlite3_stmt *
ms_recording_query_begin (MsRecording *rec, const char *sql, GError **error)
{
  lock (rec);
  sqlite3_stmt *st = prepare (rec, sql, error);
  if (!st)
    g_rec_mutex_unlock (&rec->lock);
  return st;
}

void
ms_recording_query_end (MsRecording *rec, sqlite3_stmt *st)
{
  release (rec, st);
  g_rec_mutex_unlock (&rec->lock);
}

const char *
ms_recording_get_path (const MsRecording *rec)
{
  return rec->path;
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

/* Prepares @sql (its ?1 the run id, ?2 the segment, as MS_DB_SEGMENT_KEY
 * binds them), steps it once and returns it on its row; NULL with @error set
 * when the run has no such segment or the read fails.  release() it. */
static sqlite3_stmt *
segment_row_locked (MsRecording *rec, gint64 run_id, int segment, const char *sql, const char *what, GError **error)
{
  sqlite3_stmt *st = prepare (rec, sql, error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, run_id);
  sqlite3_bind_int (st, 2, segment);
  int rc = ms_db_step (st, rec->path, what, error);
  if (rc == SQLITE_ROW)
    return st;
  if (rc == SQLITE_DONE)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no segment %d", rec->path, run_id,
                 segment);
  release (rec, st);
  return NULL;
}

static GBytes *
segment_text_locked (MsRecording *rec, gint64 run_id, int segment, GError **error)
{
  sqlite3_stmt *st = segment_row_locked (rec, run_id, segment, "SELECT text FROM segments WHERE id = "
                                         MS_DB_SEGMENT_KEY ("?1", "?2") " AND segment = ?2",
                                         "reading a segment's text", error);
  if (!st)
    return NULL;
  GBytes *text = g_bytes_new (sqlite3_column_blob (st, 0), sqlite3_column_bytes (st, 0));
  release (rec, st);
  return text;
}

/* Reads a little-endian 32-bit value from a BLOB that may sit unaligned. */
static guint32
blob_u32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static MsToken *
segment_tokens_locked (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens, guint64 *byte_begin,
                       GError **error)
{
  sqlite3_stmt *st = segment_row_locked (rec, run->id, segment, "SELECT token_begin, token_end, text, byte_begin, "
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
    bad_row (rec, run, "segments", segment, error, "tokens %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " and a text "
             "where 1 to the run's segment_len %d tokens and their bytes were expected", begin, end, run->segment_len);
  else if (sqlite3_column_type (st, 3) != SQLITE_NULL
           && (sqlite3_column_type (st, 3) != SQLITE_INTEGER || first_byte < begin || first_byte > G_MAXINT64 / 2))
    bad_row (rec, run, "segments", segment, error, "byte_begin %s is not an offset in the input at or after the "
             "segment's first token %" G_GINT64_FORMAT, (const char *) sqlite3_column_text (st, 3), begin);
  else if (bytes && text_len != n)
    bad_row (rec, run, "segments", segment, error, "text holds %" G_GINT64_FORMAT " bytes where %" G_GINT64_FORMAT
             " (one per token) were expected", text_len, n);
  else if (!bytes && (ids_type != SQLITE_BLOB || ends_type != SQLITE_BLOB || ids_len != n * 4 || ends_len != n * 4))
    bad_row (rec, run, "segments", segment, error, "token_ids and token_ends hold %" G_GINT64_FORMAT " and %"
             G_GINT64_FORMAT " bytes where %" G_GINT64_FORMAT " each (4 per token) were expected",
             ids_type == SQLITE_BLOB ? ids_len : -1, ends_type == SQLITE_BLOB ? ends_len : -1, n * 4);
  else
    {
      out = g_new (MsToken, n);
      gint64 at = 0;
      for (gint64 i = 0; out && i < n; i++)
        {
          gint64 id = bytes ? text[i] : (gint32) blob_u32 (ids + 4 * i);
          gint64 stop = bytes ? i + 1 : (gint64) blob_u32 (ends + 4 * i);
          if (id < 0 || id >= vocab)
            bad_row (rec, run, "segments", segment, error, "token %" G_GINT64_FORMAT " has id %" G_GINT64_FORMAT
                     ", outside the model's vocabulary (0 to %d)", i, id, vocab - 1);
          else if (stop <= at || stop > text_len || (i == n - 1 && stop != text_len))
            bad_row (rec, run, "segments", segment, error, "token %" G_GINT64_FORMAT " ends at byte %" G_GINT64_FORMAT
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
  release (rec, st);
  return out;
}

GPtrArray *
ms_recording_list_runs (MsRecording *rec, GError **error)
{
  lock (rec);
  GPtrArray *out = list_runs_locked (rec, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

MsRunInfo *
ms_recording_get_run (MsRecording *rec, gint64 run_id, GError **error)
{
  lock (rec);
  MsRunInfo *out = get_run_locked (rec, run_id, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

float *
ms_recording_attention (MsRecording *rec, const MsRunInfo *run, int segment, MsObsKind kind, int layer, int head,
                        int *rows, int *cols, GError **error)
{
  lock (rec);
  float *out = attention_locked (rec, run, segment, kind, layer, head, rows, cols, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

void
ms_recording_set_model_path (MsRecording *rec, const char *path)
{
  lock (rec);
  g_free (rec->model_override);
  rec->model_override = g_strdup (path);
  g_rec_mutex_unlock (&rec->lock);
}

MsToken *
ms_recording_segment_tokens (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens,
                             guint64 *byte_begin, GError **error)
{
  lock (rec);
  MsToken *out = segment_tokens_locked (rec, run, segment, n_tokens, byte_begin, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

int
ms_recording_find_segment_at_byte (MsRecording *rec, const MsRunInfo *run, guint64 byte, GError **error)
{
  lock (rec);
  int lo = 0, hi = run->segments_done, found = -1;
  while (lo < hi)
    {
      int mid = lo + (hi - lo) / 2;
      size_t n = 0;
      guint64 begin = 0;
      g_autofree MsToken *tokens = segment_tokens_locked (rec, run, mid, &n, &begin, error);
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
  lock (rec);
  GBytes *out = segment_text_locked (rec, run_id, segment, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}

static float *
segment_nll_locked (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens, GError **error)
{
  sqlite3_stmt *st = segment_row_locked (rec, run->id, segment, "SELECT token_begin, token_end, nll FROM segments "
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
    bad_row (rec, run, "segments", segment, error, "nll holds %" G_GINT64_FORMAT " bytes for tokens %" G_GINT64_FORMAT
             " to %" G_GINT64_FORMAT ", where 4 per token (f32) for 1 to the run's segment_len %d tokens were expected",
             sqlite3_column_type (st, 2) == SQLITE_BLOB ? len : -1, begin, end, run->segment_len);
  else
    {
      out = g_new (float, n);
      for (gint64 i = 0; out && i < n; i++)
        {
          guint32 bits = blob_u32 (blob + 4 * i);
          memcpy (&out[i], &bits, sizeof bits);
          if (isinf (out[i]) || out[i] < 0)
            {
              bad_row (rec, run, "segments", segment, error, "token %" G_GINT64_FORMAT " has NLL %g, where a "
                       "finite value ≥ 0 or NaN (no prediction) was expected", i, (double) out[i]);
              g_clear_pointer (&out, g_free);
            }
        }
      if (out)
        *n_tokens = (size_t) n;
    }
  release (rec, st);
  return out;
}

float *
ms_recording_segment_nll (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens, GError **error)
{
  lock (rec);
  float *out = segment_nll_locked (rec, run, segment, n_tokens, error);
  g_rec_mutex_unlock (&rec->lock);
  return out;
}
