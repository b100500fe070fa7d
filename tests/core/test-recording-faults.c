/* test-recording-faults.c — a reader never mistakes a failed read for the
 * end of the data.  A run is recorded for real; then every reader call is
 * repeated with SQLite's reads failing from the k-th read of the files on,
 * for every k up to the number of reads the call makes (fault injection
 * through a small VFS registered here as the default, in front of the
 * real one, as SQLite's own tests inject faults).  Each attempt must either
 * fail with MS_ERROR_IO naming the recording, or return exactly what the
 * undisturbed call returned: a result with fewer segments, heads or runs
 * is the bug this guards against. */
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-recording.h"
#include "ms-view.h"
#include "test-util.h"

/* ---- a VFS whose reads fail from the fail_at-th on ------------------- */

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static int reads_seen;
static int fail_at;       /* 0: never */

typedef struct {
  sqlite3_file base;
  sqlite3_file *real;     /* the real VFS's file, right after this struct */
} FaultFile;

#define REAL(f) (((FaultFile *) (f))->real)

static int
fault_read (sqlite3_file *f, void *buf, int amt, sqlite3_int64 offset)
{
  if (fail_at > 0 && ++reads_seen >= fail_at)
    return SQLITE_IOERR_READ;
  if (fail_at == 0)
    reads_seen++;
  return REAL (f)->pMethods->xRead (REAL (f), buf, amt, offset);
}

static int fault_close (sqlite3_file *f) { return REAL (f)->pMethods->xClose (REAL (f)); }
static int fault_write (sqlite3_file *f, const void *b, int n, sqlite3_int64 o) { return REAL (f)->pMethods->xWrite (REAL (f), b, n, o); }
static int fault_truncate (sqlite3_file *f, sqlite3_int64 size) { return REAL (f)->pMethods->xTruncate (REAL (f), size); }
static int fault_sync (sqlite3_file *f, int flags) { return REAL (f)->pMethods->xSync (REAL (f), flags); }
static int fault_file_size (sqlite3_file *f, sqlite3_int64 *size) { return REAL (f)->pMethods->xFileSize (REAL (f), size); }
static int fault_lock (sqlite3_file *f, int lock) { return REAL (f)->pMethods->xLock (REAL (f), lock); }
static int fault_unlock (sqlite3_file *f, int lock) { return REAL (f)->pMethods->xUnlock (REAL (f), lock); }
static int fault_check_reserved (sqlite3_file *f, int *out) { return REAL (f)->pMethods->xCheckReservedLock (REAL (f), out); }
static int fault_file_control (sqlite3_file *f, int op, void *arg) { return REAL (f)->pMethods->xFileControl (REAL (f), op, arg); }
static int fault_sector_size (sqlite3_file *f) { return REAL (f)->pMethods->xSectorSize (REAL (f)); }
static int fault_device (sqlite3_file *f) { return REAL (f)->pMethods->xDeviceCharacteristics (REAL (f)); }
static int fault_shm_map (sqlite3_file *f, int pg, int sz, int extend, void volatile **p) { return REAL (f)->pMethods->xShmMap (REAL (f), pg, sz, extend, p); }
static int fault_shm_lock (sqlite3_file *f, int offset, int n, int flags) { return REAL (f)->pMethods->xShmLock (REAL (f), offset, n, flags); }
static void fault_shm_barrier (sqlite3_file *f) { REAL (f)->pMethods->xShmBarrier (REAL (f)); }
static int fault_shm_unmap (sqlite3_file *f, int del) { return REAL (f)->pMethods->xShmUnmap (REAL (f), del); }

/* Version 2: no xFetch, so SQLite never reads through a memory map that
 * would bypass xRead. */
static const sqlite3_io_methods fault_methods = {
  2, fault_close, fault_read, fault_write, fault_truncate, fault_sync, fault_file_size, fault_lock, fault_unlock,
  fault_check_reserved, fault_file_control, fault_sector_size, fault_device, fault_shm_map, fault_shm_lock,
  fault_shm_barrier, fault_shm_unmap, NULL, NULL,
};

static int
fault_open (sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
  FaultFile *ff = (FaultFile *) f;
  ff->real = (sqlite3_file *) (ff + 1);
  int rc = real_vfs->xOpen (real_vfs, name, ff->real, flags, out_flags);
  ff->base.pMethods = ff->real->pMethods ? &fault_methods : NULL;
  (void) vfs;
  return rc;
}

static void
register_fault_vfs (void)
{
  real_vfs = sqlite3_vfs_find (NULL);
  g_assert_nonnull (real_vfs);
  fault_vfs = *real_vfs;
  fault_vfs.zName = "memscope-fault";
  fault_vfs.pNext = NULL;
  fault_vfs.szOsFile = (int) sizeof (FaultFile) + real_vfs->szOsFile;
  fault_vfs.xOpen = fault_open;
  g_assert_cmpint (sqlite3_vfs_register (&fault_vfs, 1), ==, SQLITE_OK);
}

/* ---- the recording and the calls under test -------------------------- */

static char *db_path;

/* A reader call, its result flattened into @out for comparison. */
typedef gboolean (*ReaderCall) (MsRecording *rec, GByteArray *out, GError **error);

static void
append (GByteArray *out, const void *data, size_t n)
{
  g_byte_array_append (out, data, (guint) n);
}

static gboolean
append_segment (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  GByteArray *out = data;
  append (out, &seg->segment, sizeof seg->segment);
  for (int q = 0; q < MS_SLOT_N_QUANTITIES; q++)
    append (out, seg->slots[q], 6 * sizeof (float));   /* the fixture run's K */
  append (out, seg->transfer, 36 * sizeof (float));
  append (out, &seg->nll, sizeof seg->nll);
  append (out, seg->text, seg->text_len);
  return TRUE;
}

/* Every per-segment field of every segment, floats compared bitwise (NaN
 * marks missing cells, and must match too). */
static gboolean
call_segments (MsRecording *rec, GByteArray *out, GError **error)
{
  g_autoptr (MsRunInfo) run = ms_recording_get_run (rec, 1, error);
  if (!run)
    return FALSE;
  g_assert_cmpint (run->config.n_slots, ==, 6);
  return ms_recording_foreach_segment (rec, run, 0, run->segments_done, 1,
                                       ((1u << MS_SLOT_N_QUANTITIES) - 1) | MS_SEGMENT_TRANSFER | MS_SEGMENT_NLL
                                         | MS_SEGMENT_TEXT, append_segment,
                                       out, error);
}

static gboolean
append_state (int segment, const float *state, gpointer data, GError **error)
{
  GByteArray *out = data;
  append (out, &segment, sizeof segment);
  append (out, state, sizeof (float));
  return TRUE;
}

static gboolean
call_memory_states (MsRecording *rec, GByteArray *out, GError **error)
{
  g_autoptr (MsRunInfo) run = ms_recording_get_run (rec, 1, error);
  return run && ms_recording_foreach_memory_state (rec, run, 0, run->segments_done, append_state, out, error);
}

/* Whole views, each loaded in one read transaction. */
static gboolean
call_views (MsRecording *rec, GByteArray *out, GError **error)
{
  for (MsViewKind kind = 0; kind < MS_VIEW_N_KINDS; kind++)
    {
      g_autoptr (MsViewData) v = ms_view_load (rec, 1, kind, NULL, error);
      if (!v)
        return FALSE;
      append (out, &v->rows, sizeof v->rows), append (out, &v->cols, sizeof v->cols);
      append (out, v->values, (size_t) v->rows * v->cols * sizeof (float));
    }
  return TRUE;
}

static gboolean
call_attention (MsRecording *rec, GByteArray *out, GError **error)
{
  int rows, cols;
  g_autoptr (MsRunInfo) run = ms_recording_get_run (rec, 1, error);
  g_autofree float *m = run ? ms_recording_attention (rec, run, 57, MS_OBS_WRITE, 1, -1, &rows, &cols, error) : NULL;
  if (!m)
    return FALSE;
  append (out, &rows, sizeof rows), append (out, &cols, sizeof cols);
  append (out, m, (size_t) rows * cols * sizeof (float));
  return TRUE;
}

static gboolean
call_list_runs (MsRecording *rec, GByteArray *out, GError **error)
{
  g_autoptr (GPtrArray) runs = ms_recording_list_runs (rec, error);
  if (!runs)
    return FALSE;
  for (guint i = 0; i < runs->len; i++)
    {
      MsRunInfo *r = runs->pdata[i];
      append (out, &r->id, sizeof r->id), append (out, &r->segments_done, sizeof r->segments_done);
      append (out, r->name, strlen (r->name) + 1);
    }
  return TRUE;
}

static gboolean
call_segment_text (MsRecording *rec, GByteArray *out, GError **error)
{
  g_autoptr (GBytes) text = ms_recording_segment_text (rec, 2, 3, error);
  if (!text)
    return FALSE;
  append (out, g_bytes_get_data (text, NULL), g_bytes_get_size (text));
  return TRUE;
}

/* Opens the recording and makes @call; FALSE with @error when either
 * fails.  Counts in @call_failed the failures of the call itself. */
static gboolean
open_and_call (ReaderCall call, GByteArray *out, int *call_failed, GError **error)
{
  g_autoptr (MsRecording) rec = ms_recording_open (db_path, error);
  if (!rec)
    return FALSE;
  if (call (rec, out, error))
    return TRUE;
  ++*call_failed;
  return FALSE;
}

static void
check_call (gconstpointer data)
{
  ReaderCall call = (ReaderCall) data;
  /* Undisturbed, counting the reads it takes. */
  g_autoptr (GByteArray) expected = g_byte_array_new ();
  GError *error = NULL;
  fail_at = 0;
  reads_seen = 0;
  int call_failed = 0;
  g_assert_true (open_and_call (call, expected, &call_failed, &error));
  g_assert_no_error (error);
  int n_reads = reads_seen;
  g_assert_cmpint (n_reads, >, 2);

  int n_failed = 0;
  for (int k = 1; k <= n_reads; k++)
    {
      reads_seen = 0;
      fail_at = k;
      g_autoptr (GByteArray) got = g_byte_array_new ();
      if (open_and_call (call, got, &call_failed, &error))
        {
          /* The failing read was not needed (e.g. cached): all or nothing. */
          g_assert_no_error (error);
          g_assert_cmpmem (got->data, got->len, expected->data, expected->len);
          continue;
        }
      g_assert_error (error, MS_ERROR, MS_ERROR_IO);
      g_assert_nonnull (strstr (error->message, db_path));
      g_clear_error (&error);
      n_failed++;
    }
  fail_at = 0;
  g_test_message ("%d reads: %d faults reported, %d of them by the call after the open", n_reads, n_failed,
                  call_failed);
  g_assert_cmpint (call_failed, >, 0);
}

static void
exec_sql (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

/* A run's description counts only the segment rows added since its last
 * one: a gap among those new rows is still refused, and a run whose rows
 * shrank under the reader is counted whole again. */
static void
test_gap_after_count (void)
{
  g_autofree char *path = g_strconcat (db_path, ".gap", NULL);
  g_autofree char *data = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (db_path, &data, &size, NULL));
  g_assert_true (g_file_set_contents (path, data, (gssize) size, NULL));
  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) whole = ms_recording_get_run (rec, 2, &error);
  g_assert_no_error (error);
  int done = whole->segments_done;
  g_assert_cmpint (done, >, 20);

  /* The run ends at segment 9 for a while, then its rows come back but for segment 12. */
  exec_sql (path, "CREATE TABLE saved AS SELECT * FROM segments WHERE id >= 2 * 4294967296 + 10 "
                  "AND id < 3 * 4294967296; DELETE FROM segments WHERE id IN (SELECT id FROM saved)");
  g_autoptr (MsRunInfo) shrunk = ms_recording_get_run (rec, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (shrunk->segments_done, ==, 10);
  exec_sql (path, "INSERT INTO segments SELECT * FROM saved WHERE id != 2 * 4294967296 + 12");
  MsRunInfo *gap = ms_recording_get_run (rec, 2, &error);
  g_assert_null (gap);
  g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "segment rows are not segments 0, 1"));
  g_clear_error (&error);

  /* Whole again: counted from the start, not from the count before the gap. */
  exec_sql (path, "INSERT INTO segments SELECT * FROM saved WHERE id = 2 * 4294967296 + 12");
  g_autoptr (MsRunInfo) back = ms_recording_get_run (rec, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->segments_done, ==, done);
  g_clear_pointer (&rec, ms_recording_close);
  g_unlink (path);
}

/* Two RMT runs of 250 segments each, with f16 attention. */
static void
record_runs (const char *dir)
{
  const char *fixtures = g_getenv ("MEMSCOPE_FIXTURES");
  g_assert_nonnull (fixtures);
  g_autofree char *model_path = g_build_filename (fixtures, "rmt_blocks.safetensors", NULL);
  g_autofree char *input = g_build_filename (dir, "in.txt", NULL);
  char text[2000];
  for (int i = 0; i < (int) sizeof text; i++)
    text[i] = (char) (32 + (i * 37 + i / 11) % 90);
  g_assert_true (g_file_set_contents (input, text, sizeof text, NULL));
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (model_path, &error);
  g_assert_no_error (error);
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_F16 };
  for (int i = 0; i < 2; i++)
    {
      g_assert_true (ms_record (db_path, model, input, &opts, 0, NULL, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
    }
  g_unlink (input);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *dir = g_dir_make_tmp ("memscope-faults-XXXXXX", NULL);
  db_path = g_build_filename (dir, "faults.sqlite", NULL);
  record_runs (dir);
  register_fault_vfs ();

  g_test_add_data_func ("/recording-faults/segments", call_segments, check_call);
  g_test_add_data_func ("/recording-faults/memory-states", call_memory_states, check_call);
  g_test_add_data_func ("/recording-faults/views", call_views, check_call);
  g_test_add_data_func ("/recording-faults/attention", call_attention, check_call);
  g_test_add_data_func ("/recording-faults/list-runs", call_list_runs, check_call);
  g_test_add_data_func ("/recording-faults/segment-text", call_segment_text, check_call);
  g_test_add_func ("/recording-faults/gap-after-count", test_gap_after_count);
  int status = g_test_run ();

  test_dir_remove (dir);
  g_free (db_path);
  return status;
}
