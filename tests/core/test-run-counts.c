/* test-run-counts.c — the segment rows a run's description counted present
 * are kept for the whole process, keyed by the file's identity (device and
 * inode), the run's id and its creation time (ms-recording-runs.c), so that
 * the next description counts only the rows added since.  Honest files are
 * counted alike either way; what the key decides is which earlier count a
 * description trusts.  So each case here puts a gap (a segment row missing,
 * the run's last row kept) below a count taken before, where a wrongly keyed
 * count would hide it: a new run of the same file, another file at the same
 * path (renamed over it, or written into the same inode), and rows appended
 * by a recorder while a reader holds the file (the count must follow, and a
 * reader inside an older snapshot still sees its own).  A file altered in
 * place under the very same key may be described from the kept count, so
 * every read must still check each row: the segments of a run are read
 * whole or refused naming the missing one, never with one left out, and no
 * view crashes or reads out of bounds (run under ASan/UBSan). */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-recording.h"
#include "ms-recording-private.h"
#include "ms-view.h"
#include "test-util.h"

static char *dir, *model_path, *input_path;
static MsModel *model;

static void
exec_sql (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

/* Records a run of @max_segments segments (0: the whole input) into @path;
 * returns its id. */
static gint64
record (const char *path, int max_segments)
{
  GError *error = NULL;
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_NONE, .max_segments = max_segments };
  gint64 run = 0;
  g_assert_true (ms_record (path, model, input_path, &opts, 0, NULL, NULL, NULL, &run, &error));
  g_assert_no_error (error);
  return run;
}

static int
described (MsRecording *rec, gint64 run_id)
{
  GError *error = NULL;
  g_autoptr (MsRunInfo) run = ms_recording_get_run (rec, run_id, &error);
  g_assert_no_error (error);
  return run->segments_done;
}

/* The description of @run_id is refused: its rows have a gap. */
static void
assert_gap_refused (MsRecording *rec, gint64 run_id)
{
  GError *error = NULL;
  MsRunInfo *run = ms_recording_get_run (rec, run_id, &error);
  g_assert_null (run);
  g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "segment rows are not segments 0, 1"));
  g_assert_nonnull (strstr (error->message, ms_recording_get_path (rec)));
  g_clear_error (&error);
}

static gboolean
collect (const MsRecordedSegment *seg, gpointer user_data, GError **error)
{
  (void) error;
  g_array_append_val ((GArray *) user_data, seg->segment);
  return TRUE;
}

/* Streams every segment of @run: TRUE when segments 0 … done − 1 came, each
 * once and in order; FALSE with @error set otherwise (never fewer silently). */
static gboolean
read_all_segments (MsRecording *rec, const MsRunInfo *run, GError **error)
{
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (int));
  guint fields = 1 << MS_SLOT_RETENTION | MS_SEGMENT_NLL | MS_SEGMENT_TRANSFER;
  if (!ms_recording_foreach_segment (rec, run, 0, run->segments_done, 1, fields, collect, seen, error))
    return FALSE;
  g_assert_cmpuint (seen->len, ==, (guint) run->segments_done);
  for (guint i = 0; i < seen->len; i++)
    g_assert_cmpint (g_array_index (seen, int, i), ==, (int) i);
  return TRUE;
}

static char *
fresh_path (const char *name)
{
  char *path = g_build_filename (dir, name, NULL);
  g_unlink (path);
  return path;
}

/* Writes @data into @path's own inode (truncated first), as an editor that
 * saves in place does: the file keeps its device and inode. */
static void
overwrite_in_place (const char *path, const char *data, gsize size)
{
  GStatBuf before, after;
  g_assert_cmpint (g_stat (path, &before), ==, 0);
  int fd = open (path, O_WRONLY | O_TRUNC);
  g_assert_cmpint (fd, >=, 0);
  for (gsize at = 0; at < size;)
    {
      ssize_t n = write (fd, data + at, size - at);
      g_assert_cmpint (n, >, 0);
      at += (gsize) n;
    }
  g_assert_cmpint (close (fd), ==, 0);
  g_assert_cmpint (g_stat (path, &after), ==, 0);
  g_assert_cmpuint (before.st_ino, ==, after.st_ino);
}

/* Segment 3 of @run_id deleted in @path (in place), its last row kept. */
static void
delete_segment_3 (const char *path, gint64 run_id)
{
  g_autofree char *sql = g_strdup_printf ("DELETE FROM segments WHERE id = %" G_GINT64_FORMAT " * 4294967296 + 3",
                                          run_id);
  exec_sql (path, sql);
}

/* A second run of the same file is counted on its own: a gap in it below
 * the first run's count is refused. */
static void
test_new_run (void)
{
  g_autofree char *path = fresh_path ("new-run.sqlite");
  gint64 first = record (path, 10);
  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (described (rec, first), ==, 10);
  gint64 second = record (path, 12);
  g_assert_cmpint (second, !=, first);
  /* created in the same second as the first (the creation time alone does not tell them apart) */
  g_autofree char *same = g_strdup_printf ("UPDATE runs SET created = (SELECT created FROM runs WHERE id = %"
                                           G_GINT64_FORMAT ") WHERE id = %" G_GINT64_FORMAT, first, second);
  exec_sql (path, same);
  delete_segment_3 (path, second);
  assert_gap_refused (rec, second);
  g_autoptr (MsRecording) again = ms_recording_open (path, &error);
  g_assert_no_error (error);
  assert_gap_refused (again, second);
  g_assert_cmpint (described (again, first), ==, 10);
}

/* Another recording at the same path — renamed over it (a new inode), or
 * written into its inode — is counted anew: its run 1, created at another
 * time, has a gap below the count of the first file's run 1. */
static void
test_replaced_file (void)
{
  g_autofree char *path = fresh_path ("replaced.sqlite");
  g_autofree char *other = fresh_path ("other.sqlite");
  g_assert_cmpint (record (path, 12), ==, 1);
  g_assert_cmpint (record (other, 12), ==, 1);
  exec_sql (other, "UPDATE runs SET created = '2001-01-01T00:00:00Z' WHERE id = 1");
  delete_segment_3 (other, 1);
  g_autofree char *data = NULL, *data2 = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (other, &data, &size, NULL));
  GError *error = NULL;
  {
    g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (described (rec, 1), ==, 12);
  }
  /* written into the same inode */
  overwrite_in_place (path, data, size);
  {
    g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
    g_assert_no_error (error);
    assert_gap_refused (rec, 1);
  }
  /* renamed over it: the original back first, counted, then replaced */
  g_autofree char *copy = fresh_path ("replaced-copy.sqlite");
  g_assert_cmpint (record (copy, 12), ==, 1);
  g_assert_cmpint (g_rename (copy, path), ==, 0);
  {
    g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (described (rec, 1), ==, 12);
  }
  /* the other file, now claiming the very creation time of the run counted: only the inode tells them apart */
  g_autofree char *sql = g_strdup_printf ("ATTACH '%s' AS counted; UPDATE main.runs SET created = "
                                          "(SELECT created FROM counted.runs WHERE id = 1) WHERE id = 1", path);
  exec_sql (other, sql);
  g_assert_true (g_file_get_contents (other, &data2, &size, NULL));
  g_assert_true (g_file_set_contents (copy, data2, (gssize) size, NULL));
  g_assert_cmpint (g_rename (copy, path), ==, 0);
  {
    g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
    g_assert_no_error (error);
    assert_gap_refused (rec, 1);
  }
}

typedef struct {
  GCancellable *cancel;
  int at;
} CancelAt;

static void
cancel_at (int done, int n_segments, gpointer user_data)
{
  CancelAt *c = user_data;
  (void) n_segments;
  if (done >= c->at)
    g_cancellable_cancel (c->cancel);
}

/* Rows a recorder appends while readers hold the file: the count follows
 * on a handle that described the run before and on a new one, and a handle
 * inside an older snapshot still describes what that snapshot holds.  The
 * file is put in WAL mode first, as a recorder keeps it while it records, so
 * that the reader's snapshot does not hold the recorder off. */
static void
test_appended (void)
{
  g_autofree char *path = fresh_path ("appended.sqlite");
  GError *error = NULL;
  CancelAt c = { g_cancellable_new (), 4 };
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_NONE };   /* the whole input: see main */
  gint64 run_id = 0;
  g_assert_false (ms_record (path, model, input_path, &opts, 0, cancel_at, &c, c.cancel, &run_id, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_CANCELLED);
  g_clear_error (&error);
  g_object_unref (c.cancel);
  exec_sql (path, "PRAGMA journal_mode = WAL");
  g_autoptr (MsRecording) before = ms_recording_open (path, &error);
  g_assert_no_error (error);
  int early = described (before, run_id);
  g_assert_cmpint (early, >=, 4);
  g_autoptr (MsRecording) snapshot = ms_recording_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (ms_recording_read_begin (snapshot, &error));
  g_assert_cmpint (described (snapshot, run_id), ==, early);

  gboolean resumed = ms_record (path, model, input_path, &opts, run_id, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (resumed);
  g_autoptr (MsRecording) after = ms_recording_open (path, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) run = ms_recording_get_run (after, run_id, &error);
  g_assert_no_error (error);
  int all = run->n_segments;
  g_assert_cmpint (all, >, early);
  g_assert_cmpint (run->segments_done, ==, all);
  g_assert_cmpint (described (before, run_id), ==, all);
  g_assert_cmpint (described (snapshot, run_id), ==, early);   /* its snapshot, under a count of all */
  ms_recording_read_end (snapshot);
  g_assert_cmpint (described (snapshot, run_id), ==, all);
  g_assert_true (read_all_segments (after, run, &error));
  g_assert_no_error (error);
}

/* The file altered in place under the same key (same inode, run and
 * creation time): a description may come from the kept count, but reading
 * the run's segments refuses the missing one, and no view crashes. */
static void
test_altered_same_key (void)
{
  g_autofree char *path = fresh_path ("altered.sqlite");
  g_assert_cmpint (record (path, 12), ==, 1);
  GError *error = NULL;
  {
    g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (described (rec, 1), ==, 12);
  }
  delete_segment_3 (path, 1);
  g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
  g_assert_no_error (error);
  MsRunInfo *run = ms_recording_get_run (rec, 1, &error);
  if (!run)   /* counted anew: the gap refused */
    {
      g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT);
      g_clear_error (&error);
      return;
    }
  g_assert_cmpint (run->segments_done, ==, 12);
  g_assert_false (read_all_segments (rec, run, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "segment 3"));
  g_clear_error (&error);
  /* a window after the gap reads whole; one across it does not */
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (int));
  g_assert_true (ms_recording_foreach_segment (rec, run, 4, 12, 1, MS_SEGMENT_NLL, collect, seen, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (seen->len, ==, 8);
  g_array_set_size (seen, 0);
  g_assert_false (ms_recording_foreach_segment (rec, run, 0, 12, 3, MS_SEGMENT_NLL, collect, seen, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT);
  g_clear_error (&error);
  /* every view: drawn or refused with a message, never a crash or a read out of bounds */
  for (MsViewKind kind = 0; kind < MS_VIEW_N_KINDS; kind++)
    {
      g_autoptr (MsViewData) v = ms_view_load (rec, 1, kind, NULL, &error);
      if (!v)
        {
          g_assert_nonnull (error);
          g_assert_nonnull (error->message);
          g_clear_error (&error);
        }
    }
  ms_run_info_free (run);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *fixtures = g_getenv ("MEMSCOPE_FIXTURES");
  g_assert_nonnull (fixtures);
  dir = g_dir_make_tmp ("memscope-counts-XXXXXX", NULL);
  model_path = g_build_filename (fixtures, "rmt_blocks.safetensors", NULL);
  input_path = g_build_filename (dir, "in.txt", NULL);
  /* 300 segments of 8: more than the recorder has records (256), so test_appended's cancel comes before the end */
  char text[2400];
  for (int i = 0; i < (int) sizeof text; i++)
    text[i] = (char) (32 + (i * 37 + i / 11) % 90);
  g_assert_true (g_file_set_contents (input_path, text, sizeof text, NULL));
  GError *error = NULL;
  model = ms_model_load (model_path, &error);
  g_assert_no_error (error);

  g_test_add_func ("/run-counts/new-run", test_new_run);
  g_test_add_func ("/run-counts/replaced-file", test_replaced_file);
  g_test_add_func ("/run-counts/appended", test_appended);
  g_test_add_func ("/run-counts/altered-same-key", test_altered_same_key);
  int status = g_test_run ();

  ms_model_unref (model);
  test_dir_remove (dir);
  g_free (dir);
  g_free (model_path);
  g_free (input_path);
  return status;
}
