/* ms-recording.c — the reader's handle (ms-recording.h; its parts are
 * listed in ms-recording-handle.h): opening a recording read-only, the lock
 * and work budget of each call, snapshots, kept statements, and the checks
 * every part uses to word a damaged row.  Every statement is stepped
 * through ms_db_step, so a failure part way through a result is an error,
 * and every stored name is parsed through ms-recording-names.h. */
#include "ms-recording-handle.h"
#include "ms-error.h"
#include "ms-recording-private.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

/* Takes the handle for one call and arms the work budget of its queries
 * (ms_db_budget_arm): a planted query can stall one call, never hang. */
void
ms_recording_lock (MsRecording *rec)
{
  g_rec_mutex_lock (&rec->lock);
  rec->budget.left = -1;   /* unbounded while the file's size is read */
  gint64 size[2] = { 0, 0 };   /* page_count, page_size */
  static const char *const sql[2] = { "PRAGMA main.page_count", "PRAGMA main.page_size" };
  for (int i = 0; i < 2; i++)
    {
      sqlite3_stmt *st = ms_recording_prepare (rec, sql[i], NULL);
      if (st && sqlite3_step (st) == SQLITE_ROW)
        size[i] = sqlite3_column_int64 (st, 0);
      if (st)
        ms_recording_release (rec, st);
    }
  ms_db_budget_arm_pages (rec->db, &rec->budget, size[0], size[1], 1);
}

/* Runs @sql, one statement without results, through prepare(). */
static gboolean
exec_kept (MsRecording *rec, const char *sql, GError **error)
{
  sqlite3_stmt *st = ms_recording_prepare (rec, sql, error);
  if (!st)
    return FALSE;
  int rc = ms_db_step (st, rec->path, "reading the recording", error);
  while (rc == SQLITE_ROW)
    rc = ms_db_step (st, rec->path, "reading the recording", error);
  ms_recording_release (rec, st);
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
  rec->rows_counted = g_hash_table_new (g_direct_hash, g_direct_equal);
  return rec;
}

MsRecording *
ms_recording_open (const char *path, GError **error)
{
  sqlite3 *db = ms_db_open (path, FALSE, TRUE, error);
  MsRecording *rec = db ? recording_new (db, path) : NULL;
  GStatBuf st;
  if (rec && g_stat (path, &st) == 0)
    rec->identity = g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, (guint64) st.st_dev,
                                     (guint64) st.st_ino);
  return rec;
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
  g_hash_table_unref (rec->rows_counted);
  g_rec_mutex_clear (&rec->lock);
  g_free (rec->model_override);
  g_free (rec->identity);
  g_free (rec->path);
  g_free (rec);
}

gboolean
ms_recording_read_begin (MsRecording *rec, GError **error)
{
  ms_recording_lock (rec);
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



/* The statement for @sql, with rec->lock held: prepared on first use and
 * kept (SQLite re-prepares it by itself if the schema changes), or a
 * statement of its own while the kept one is in use by a caller further up
 * (a callback reading the same query).  NULL with @error set when it does
 * not prepare.  release() it after its last step, under the same lock. */
sqlite3_stmt *
ms_recording_prepare (MsRecording *rec, const char *sql, GError **error)
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
void
ms_recording_release (MsRecording *rec, sqlite3_stmt *st)
{
  if (g_hash_table_lookup (rec->statements, sqlite3_sql (st)) != st)
    {
      sqlite3_finalize (st);
      return;
    }
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
}

gboolean
ms_recording_bad_row (MsRecording *rec, const MsRunInfo *run, const char *table, gint64 segment, GError **error,
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
gint64
ms_recording_row_segment (MsRecording *rec, const MsRunInfo *run, const char *table, sqlite3_stmt *st, int id_col, int seg_col,
                          int offset, int first, int last, GError **error)
{
  gint64 id = sqlite3_column_int64 (st, id_col), segment = sqlite3_column_int64 (st, seg_col);
  gint64 base = run->id * (G_GINT64_CONSTANT (1) << 32);   /* run ids are checked positive and < 2^31 */
  if (sqlite3_column_type (st, seg_col) != SQLITE_INTEGER || segment < first || segment >= last
      || id - base - offset != segment)
    {
      ms_recording_bad_row (rec, run, table, segment, error, "row %" G_GINT64_FORMAT " holds segment %s where segments %d to %d "
                            "and the key %" G_GINT64_FORMAT " were expected", id, sqlite3_column_text (st, seg_col) ?
                            (const char *) sqlite3_column_text (st, seg_col) : "NULL", first, last - 1, id - base - offset);
      return -2;
    }
  return segment;
}

/* Decodes the (n) array column of per-slot quantity @q (either width of
 * ms-recording-names.h) into @out, or n NaNs for NULL (a quantity not
 * stored: a segment of a schema 1 or 2 file without retention rows).  FALSE
 * for anything else: not a BLOB, or not n values — every Memscope writer
 * stores one value per slot (schema 1 and 2 one row per slot, which
 * schema_1_2_views packs), so a shorter array was cut, never written so. */
gboolean
ms_recording_column_slots (sqlite3_stmt *st, int column, MsSlotQuantity q, float *out, int n)
{
  int type = sqlite3_column_type (st, column);
  if (type == SQLITE_NULL)
    {
      for (int i = 0; i < n; i++)
        out[i] = NAN;
      return TRUE;
    }
  const void *blob = sqlite3_column_blob (st, column);
  return type == SQLITE_BLOB && ms_slot_array_decode (q, blob, sqlite3_column_bytes (st, column), n, out);
}

size_t
ms_recording_first_outside (const float *values, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    if (!isnan (values[i]) && !(values[i] >= lo - MS_RECORDING_RANGE_SLACK && values[i] <= hi + MS_RECORDING_RANGE_SLACK))
      return i;
  return n;
}

/* The start of a read of segments [*@first, *@last) of @run: clamps them
 * to the segments it has committed, locks @rec and prepares @sql with ?1
 * the run's id, ?2 the first and ?3 the end segment.  Returns the
 * statement, or NULL with @rec unlocked: *@empty TRUE when nothing is left
 * to read, else @error set.  window_end() finishes the read. */
sqlite3_stmt *
ms_recording_window_begin (MsRecording *rec, const MsRunInfo *run, int *first, int *last, const char *sql, gboolean *empty,
                           GError **error)
{
  *first = MAX (*first, 0);
  *last = MIN (*last, run->segments_done);
  *empty = *first >= *last;
  if (*empty)
    return NULL;
  ms_recording_lock (rec);
  sqlite3_stmt *st = ms_recording_prepare (rec, sql, error);
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
gboolean
ms_recording_window_end (MsRecording *rec, sqlite3_stmt *st, gboolean ok, int rc)
{
  ms_recording_release (rec, st);
  g_rec_mutex_unlock (&rec->lock);
  return ok && rc == SQLITE_DONE;
}

/* Prepares @sql (its ?1 the run id, ?2 the segment, as MS_DB_SEGMENT_KEY
 * binds them), steps it once and returns it on its row; NULL with @error set
 * when the run has no such segment or the read fails.  release() it. */
sqlite3_stmt *
ms_recording_segment_row_locked (MsRecording *rec, gint64 run_id, int segment, const char *sql, const char *what, GError **error)
{
  sqlite3_stmt *st = ms_recording_prepare (rec, sql, error);
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
  ms_recording_release (rec, st);
  return NULL;
}

void
ms_recording_set_model_path (MsRecording *rec, const char *path)
{
  ms_recording_lock (rec);
  g_free (rec->model_override);
  rec->model_override = g_strdup (path);
  g_rec_mutex_unlock (&rec->lock);
}

sqlite3_stmt *
ms_recording_query_begin (MsRecording *rec, const char *sql, GError **error)
{
  ms_recording_lock (rec);
  sqlite3_stmt *st = ms_recording_prepare (rec, sql, error);
  if (!st)
    g_rec_mutex_unlock (&rec->lock);
  return st;
}

void
ms_recording_query_end (MsRecording *rec, sqlite3_stmt *st)
{
  ms_recording_release (rec, st);
  g_rec_mutex_unlock (&rec->lock);
}

const char *
ms_recording_get_path (const MsRecording *rec)
{
  return rec->path;
}

const char *
ms_recording_get_identity (const MsRecording *rec)
{
  return rec->identity;
}
