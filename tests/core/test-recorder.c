/* test-recorder.c — what callers of ms_record rely on now that a writer
 * thread commits the segments: progress comes on the calling thread, once
 * per committed segment, in order, and its count is what the database
 * holds; a cancel (here from inside the progress callback, as the CLI's
 * Ctrl-C handler and the workbench's Cancel button do) stops the run with
 * MS_ERROR_CANCELLED, keeps every segment stepped before it committed, and
 * resuming completes the run.  The per-token NLL a recording keeps reads
 * back as the session computed it, and a damaged one is refused. */
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-recording.h"
#include "test-util.h"

static const char *fixture_dir;

#define N_TEXT 2400   /* 300 segments of 8: more than the recorder has records, so a cancel comes before the end */

typedef struct {
  GThread *caller;
  GArray *reported;      /* int: each progress call's done count */
  int total;
  int cancel_at;         /* cancel when this many are reported; 0 = never */
  GCancellable *cancellable;
} Progress;

static void
on_progress (int done, int total, gpointer data)
{
  Progress *p = data;
  g_assert_true (g_thread_self () == p->caller);
  g_array_append_val (p->reported, done);
  p->total = total;
  if (p->cancel_at && done == p->cancel_at)
    g_cancellable_cancel (p->cancellable);
}

static int
committed (const char *db, gint64 run, MsRunStatus *status)
{
  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (db, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run, &error);
  g_assert_no_error (error);
  *status = info->status;
  return info->segments_done;
}

static void
check_model (gconstpointer name)
{
  g_autofree char *dir = g_dir_make_tmp ("memscope-recorder-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "r.sqlite", NULL), *input = g_build_filename (dir, "in.txt", NULL);
  char text[N_TEXT];
  for (int i = 0; i < N_TEXT; i++)
    text[i] = (char) (32 + (i * 37) % 90);
  g_assert_true (g_file_set_contents (input, text, N_TEXT, NULL));
  g_autofree char *path = g_strdup_printf ("%s/%s.safetensors", fixture_dir, (const char *) name);
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (path, &error);
  g_assert_no_error (error);
  int L = ms_model_get_config (model)->segment_len, S = (N_TEXT + L - 1) / L;

  /* cancelled from the progress callback after 10 segments */
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Progress p = { g_thread_self (), g_array_new (FALSE, FALSE, sizeof (int)), 0, 10, cancellable };
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_F16 };
  gint64 run = 0;
  g_assert_false (ms_record (db, model, input, &opts, 0, on_progress, &p, cancellable, &run, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (run, ==, 1);
  g_assert_cmpint (p.total, ==, S);
  for (guint i = 0; i < p.reported->len; i++)
    g_assert_cmpint (g_array_index (p.reported, int, i), ==, (int) i + 1);
  MsRunStatus status;
  int done = committed (db, run, &status);
  g_assert_cmpint (done, ==, (int) p.reported->len);   /* every commit reported, nothing more */
  g_assert_cmpint (done, >=, 10);
  g_assert_cmpint (done, <, S);
  g_assert_cmpint (status, ==, MS_RUN_RECORDING);   /* its writer, this process, lives */

  /* resumed: the rest, reported from done + 1 on */
  g_array_set_size (p.reported, 0);
  p.cancel_at = 0;
  g_autoptr (GCancellable) fresh = g_cancellable_new ();
  g_assert_true (ms_record (db, model, input, &opts, run, on_progress, &p, fresh, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p.reported->len, ==, S - done);
  for (guint i = 0; i < p.reported->len; i++)
    g_assert_cmpint (g_array_index (p.reported, int, i), ==, done + (int) i + 1);
  g_assert_cmpint (committed (db, run, &status), ==, S);
  g_assert_cmpint (status, ==, MS_RUN_COMPLETE);

  g_array_unref (p.reported);
  test_dir_remove (dir);
}

/* The writer creates a new run (hashing the files) while the model steps
 * its first segments.  When that fails (here the model file is gone by
 * then), ms_record fails with the creation's error, reports no run id and
 * no progress, and the database holds no run. */
static void
run_creation_fails (void)
{
  g_autofree char *dir = g_dir_make_tmp ("memscope-recorder-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "r.sqlite", NULL), *input = g_build_filename (dir, "in.txt", NULL);
  g_autofree char *copy = g_build_filename (dir, "gone.safetensors", NULL);
  g_autofree char *path = g_build_filename (fixture_dir, "rmt_blocks.safetensors", NULL);
  g_autofree char *bytes = NULL;
  gsize n_bytes;
  g_assert_true (g_file_get_contents (path, &bytes, &n_bytes, NULL));
  g_assert_true (g_file_set_contents (copy, bytes, (gssize) n_bytes, NULL));
  g_assert_true (g_file_set_contents (input, "some text to record, long enough for a few segments", -1, NULL));
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (copy, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (copy), ==, 0);

  Progress p = { g_thread_self (), g_array_new (FALSE, FALSE, sizeof (int)), 0, 0, NULL };
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_F16 };
  gint64 run = -7;
  g_assert_false (ms_record (db, model, input, &opts, 0, on_progress, &p, NULL, &run, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, copy));          /* names the file it could not read */
  g_assert_null (strstr (error->message, "resume"));         /* there is no run to resume */
  g_clear_error (&error);
  g_assert_cmpint (run, ==, 0);
  g_assert_cmpuint (p.reported->len, ==, 0);
  g_autoptr (MsRecording) rec = ms_recording_open (db, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) runs = ms_recording_list_runs (rec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 0);

  g_array_unref (p.reported);
  g_clear_pointer (&rec, ms_recording_close);
  test_dir_remove (dir);
}

static gboolean
read_mean (const MsRecordedSegment *seg, gpointer data, GError **error)
{
  *(float *) data = seg->nll;
  return TRUE;
}

/* ms_recording_segment_nll gives, per segment, the NLL a session stepping
 * the same tokens computes (bit for bit: the recorder stores f32), NaN
 * where nothing predicts a token; their mean over the predicted tokens is
 * the segment's mean NLL, kept apart as a sum; a stored array of the wrong
 * length is MS_ERROR_FORMAT naming the file. */
static void
per_token_nll (gconstpointer name)
{
  g_autofree char *dir = g_dir_make_tmp ("memscope-recorder-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "r.sqlite", NULL), *input = g_build_filename (dir, "in.txt", NULL);
  char text[200];
  for (int i = 0; i < (int) sizeof text; i++)
    text[i] = (char) (32 + (i * 53) % 90);
  g_assert_true (g_file_set_contents (input, text, sizeof text, NULL));
  g_autofree char *path = g_strdup_printf ("%s/%s.safetensors", fixture_dir, (const char *) name);
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (path, &error);
  g_assert_no_error (error);
  MsRecordOptions opts = { 0 };
  gint64 run = 0;
  g_assert_true (ms_record (db, model, input, &opts, 0, NULL, NULL, NULL, &run, &error));
  g_assert_no_error (error);

  g_autoptr (MsRecording) rec = ms_recording_open (db, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run, &error);
  g_assert_no_error (error);
  int L = info->segment_len, S = info->segments_done;
  g_assert_cmpint (S, ==, ((int) sizeof text + L - 1) / L);
  g_autoptr (MsSession) session = ms_session_new (model);
  g_autofree float *expected = g_new (float, L);
  int nan_tokens = 0;
  for (int t = 0; t < S; t++)
    {
      int n = MIN (L, (int) sizeof text - t * L);
      int32_t ids[256];
      for (int j = 0; j < n; j++)
        ids[j] = (unsigned char) text[t * L + j];
      g_assert_true (ms_session_step (session, ids, n, expected, &error));
      g_assert_no_error (error);
      size_t got_n = 0;
      g_autofree float *got = ms_recording_segment_nll (rec, info, t, &got_n, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (got_n, ==, (size_t) n);
      double sum = 0;
      int predicted = 0;
      for (int j = 0; j < n; j++)
        {
          g_assert_cmpint (isnan (got[j]), ==, isnan (expected[j]));
          if (isnan (got[j]))
            {
              nan_tokens++;
              continue;
            }
          g_assert_cmpfloat (got[j], ==, expected[j]);
          g_assert_cmpfloat (got[j], >=, 0);
          sum += got[j], predicted++;
        }
      if (predicted > 0)
        {
          float mean = NAN;
          g_assert_true (ms_recording_foreach_segment (rec, info, t, t + 1, 1, MS_SEGMENT_NLL, read_mean, &mean,
                                                       &error));
          g_assert_no_error (error);
          g_assert_cmpfloat_with_epsilon (mean, sum / predicted, 1e-5 * MAX (1.0, fabs (mean)));
        }
    }
  g_assert_cmpint (nan_tokens, >, 0);   /* the first tokens of the run have no prediction */

  /* a stored array one token short is refused, naming the file */
  sqlite3 *h = NULL;
  g_assert_cmpint (sqlite3_open (db, &h), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (h, "UPDATE segments SET nll = substr(nll, 1, length(nll) - 4) WHERE segment = 1",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (h);
  g_clear_pointer (&rec, ms_recording_close);
  rec = ms_recording_open (db, &error);
  g_assert_no_error (error);
  size_t n = 0;
  g_assert_null (ms_recording_segment_nll (rec, info, 1, &n, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, db));
  g_clear_error (&error);
  g_assert_null (ms_recording_segment_nll (rec, info, S, &n, &error));   /* no such segment */
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_clear_error (&error);
  g_clear_pointer (&rec, ms_recording_close);
  test_dir_remove (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixture_dir = g_getenv ("MEMSCOPE_FIXTURES");
  g_assert_nonnull (fixture_dir);
  g_test_add_data_func ("/recorder/progress-cancel-resume/memformer", "memformer", check_model);
  g_test_add_data_func ("/recorder/progress-cancel-resume/rmt", "rmt_blocks", check_model);
  g_test_add_data_func ("/recorder/per-token-nll/memformer", "memformer", per_token_nll);
  g_test_add_data_func ("/recorder/per-token-nll/rmt", "rmt_blocks", per_token_nll);
  g_test_add_func ("/recorder/run-creation-fails", run_creation_fails);
  return g_test_run ();
}
