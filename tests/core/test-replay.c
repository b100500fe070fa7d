/* test-replay.c — a compact run's attention, replayed from its stored
 * memory and tokens, is bit for bit what an f32 recording of the same
 * input stores: every kind, layer, head and the head mean of every
 * segment, for every architecture (RMT, Memformer, MemBART), also for
 * segments recorded after a resume, and from several threads at once.  A
 * moved or changed model is an error naming the file, and the moved one is
 * found again when named; tampered memory states and texts are refused. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-recording.h"
#include "ms-replay.h"
#include "test-util.h"

static const char *fixture_dir;

#define N_TEXT 300   /* 38 segments of 8, the last short */

typedef struct {
  char *dir, *db, *input, *model_path;
  MsModel *model;
} Fixture;

static void
fixture_init (Fixture *f, const char *name)
{
  f->dir = g_dir_make_tmp ("memscope-replay-XXXXXX", NULL);
  f->db = g_build_filename (f->dir, "r.sqlite", NULL);
  f->input = g_build_filename (f->dir, "in.txt", NULL);
  char text[N_TEXT];
  for (int i = 0; i < N_TEXT; i++)
    text[i] = (char) ((i * 131 + i / 7) % 256);
  g_assert_true (g_file_set_contents (f->input, text, N_TEXT, NULL));
  /* A copy of the fixture, so the test may move and change it */
  g_autofree char *src = g_strdup_printf ("%s/%s.safetensors", fixture_dir, name);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
  f->model_path = g_build_filename (f->dir, "model.safetensors", NULL);
  g_assert_true (g_file_set_contents (f->model_path, bytes, (gssize) len, NULL));
  GError *error = NULL;
  f->model = ms_model_load (f->model_path, &error);
  g_assert_no_error (error);
}

static void
fixture_clear (Fixture *f)
{
  ms_model_unref (f->model);
  test_dir_remove (f->dir);
  g_free (f->dir), g_free (f->db), g_free (f->input), g_free (f->model_path);
}

/* Records (or resumes, with @resume > 0) a run of at most @max_segments
 * (0: all); returns its id. */
static gint64
record (Fixture *f, MsAttnStore attn, int max_segments, gint64 resume)
{
  MsRecordOptions opts = { .max_segments = max_segments, .attn = attn };
  GError *error = NULL;
  gint64 run = 0;
  gboolean ok = ms_record (f->db, f->model, f->input, &opts, resume, NULL, NULL, NULL, &run, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  return run;
}

static void tamper (const char *db, const char *sql);

/* Records a run and cuts it back to what a recorder killed after
 * @stop_after segments leaves: those segments, the run incomplete (and
 * resumable).  Returns its id. */
static gint64
record_stopped (Fixture *f, MsAttnStore attn, int stop_after)
{
  gint64 run = record (f, attn, 0, 0);
  g_autofree char *sql = g_strdup_printf (
    "DELETE FROM segments WHERE run_id = %1$" G_GINT64_FORMAT " AND segment >= %2$d;"
    "DELETE FROM memory WHERE run_id = %1$" G_GINT64_FORMAT " AND segment >= %2$d;"
    "UPDATE runs SET status = 'incomplete', finished = NULL, writer_pid = NULL WHERE id = %1$" G_GINT64_FORMAT,
    run, stop_after);
  tamper (f->db, sql);
  return run;
}

/* Every kind, layer, head (and the mean) of segments [@first, @last) of
 * run @b equal run @a's, bit for bit. */
static void
assert_same_attention (MsRecording *rec, gint64 a, gint64 b, int first, int last)
{
  GError *error = NULL;
  g_autoptr (MsRunInfo) ia = ms_recording_get_run (rec, a, &error);
  g_autoptr (MsRunInfo) ib = ms_recording_get_run (rec, b, &error);
  g_assert_no_error (error);
  const MsConfig *c = &ia->config;
  int compared = 0;
  for (int t = first; t < last; t++)
    for (guint k = 0; k < c->engine->n_attention; k++)
      {
        const MsAttentionLayout *layout = &c->engine->attention[k];
        for (int layer = 0; layer < ms_attention_layout_n_layers (layout, c); layer++)
          for (int head = -1; head < c->n_heads; head++)
            {
              int ra, ca, rb, cb;
              g_autofree float *ma = ms_recording_attention (rec, ia, t, layout->kind, layer, head, &ra, &ca, &error);
              g_assert_no_error (error);
              g_autofree float *mb = ms_recording_attention (rec, ib, t, layout->kind, layer, head, &rb, &cb, &error);
              g_assert_no_error (error);
              g_assert_cmpint (ra, ==, rb);
              g_assert_cmpint (ca, ==, cb);
              g_assert_cmpmem (ma, (gsize) ra * ca * sizeof (float), mb, (gsize) rb * cb * sizeof (float));
              compared++;
            }
      }
  g_assert_cmpint (compared, >, 0);
}

static void
check_bit_identical (gconstpointer data)
{
  Fixture f = { 0 };
  fixture_init (&f, data);
  gint64 full = record (&f, MS_ATTN_STORE_F32, 0, 0);
  gint64 compact = record (&f, MS_ATTN_STORE_NONE, 0, 0);
  /* a compact run stopped after 11 segments and resumed */
  gint64 resumed = record_stopped (&f, MS_ATTN_STORE_NONE, 11);
  g_autoptr (MsRecording) stopped = ms_recording_open (f.db, NULL);
  g_autoptr (MsRunInfo) before = ms_recording_get_run (stopped, resumed, NULL);
  g_assert_cmpint (before->status, ==, MS_RUN_INCOMPLETE);
  int resumed_at = before->segments_done;
  g_assert_cmpint (resumed_at, ==, 11);
  g_assert_cmpint (record (&f, MS_ATTN_STORE_NONE, 0, resumed), ==, resumed);
  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (f.db, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, compact, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->attn, ==, MS_ATTN_STORE_NONE);
  int S = info->segments_done;
  /* every segment of the input (a byte model's: N_TEXT / L; a BPE model's: as many as its tokens fill) */
  g_autoptr (MsRunInfo) full_info = ms_recording_get_run (rec, full, &error);
  g_assert_no_error (error);
  g_assert_cmpint (S, ==, full_info->segments_done);
  g_assert_cmpint (S, >, 12);
  g_assert_cmpint (full_info->status, ==, MS_RUN_COMPLETE);
  assert_same_attention (rec, full, compact, 0, S);
  assert_same_attention (rec, full, resumed, resumed_at - 1, resumed_at + 3);
  assert_same_attention (rec, full, resumed, S - 1, S);

  /* A second request is served from the cache, not stepped again */
  guint64 stepped, cached, stepped2, cached2;
  ms_replay_get_counts (&stepped, &cached);
  assert_same_attention (rec, full, compact, 5, 6);
  ms_replay_get_counts (&stepped2, &cached2);
  g_assert_cmpuint (stepped2, ==, stepped);
  g_assert_cmpuint (cached2, >, cached);

  /* Out of range: errors, not replays */
  int r, c;
  g_assert_null (ms_recording_attention (rec, info, S, MS_OBS_READ, 0, -1, &r, &c, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_null (ms_recording_attention (rec, info, 0, MS_OBS_READ, 0, 99, &r, &c, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_clear_error (&error);
  fixture_clear (&f);
}

/* ---- threads ---- */

typedef struct {
  MsRecording *rec;
  gint64 full, compact;
  int first, last;
} Job;

static gpointer
thread_job (gpointer data)
{
  Job *job = data;
  assert_same_attention (job->rec, job->full, job->compact, job->first, job->last);
  return NULL;
}

/* One recording shared by threads, each replaying its own segments and
 * one in common, with the cache cleared first so they step at once. */
static void
test_threads (void)
{
  Fixture f = { 0 };
  fixture_init (&f, "rmt_blocks");
  gint64 full = record (&f, MS_ATTN_STORE_F32, 12, 0);
  gint64 compact = record (&f, MS_ATTN_STORE_NONE, 12, 0);
  ms_replay_clear_cache ();
  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (f.db, &error);
  g_assert_no_error (error);
  Job jobs[4];
  GThread *threads[4];
  for (int i = 0; i < 4; i++)
    {
      jobs[i] = (Job) { rec, full, compact, 3 * i, MIN (3 * i + 4, 12) };
      threads[i] = g_thread_new ("replay", thread_job, &jobs[i]);
    }
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  fixture_clear (&f);
}

/* ---- the model file ---- */

static void
test_moved_model (void)
{
  Fixture f = { 0 };
  fixture_init (&f, "memformer");
  gint64 full = record (&f, MS_ATTN_STORE_F32, 6, 0);
  gint64 compact = record (&f, MS_ATTN_STORE_NONE, 6, 0);
  ms_replay_clear_cache ();
  g_autofree char *elsewhere = g_build_filename (f.dir, "moved", NULL);
  g_assert_cmpint (g_mkdir (elsewhere, 0700), ==, 0);
  g_autofree char *moved = g_build_filename (elsewhere, "renamed.safetensors", NULL);
  g_assert_cmpint (g_rename (f.model_path, moved), ==, 0);

  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (f.db, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, compact, &error);
  g_assert_no_error (error);
  int r, c;
  g_assert_null (ms_recording_attention (rec, info, 2, MS_OBS_READ, 0, -1, &r, &c, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, f.model_path));
  g_assert_nonnull (strstr (error->message, "--model"));
  g_clear_error (&error);

  /* Another model at the old place: changed, not used */
  g_autofree char *other = g_strdup_printf ("%s/rmt_blocks.safetensors", fixture_dir);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (other, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (f.model_path, bytes, (gssize) len, NULL));
  g_assert_null (ms_recording_attention (rec, info, 2, MS_OBS_READ, 0, -1, &r, &c, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "has changed"));
  g_clear_error (&error);
  /* ... nor when named as the moved model */
  ms_recording_set_model_path (rec, other);
  g_assert_null (ms_recording_attention (rec, info, 2, MS_OBS_READ, 0, -1, &r, &c, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, other));
  g_clear_error (&error);

  /* The moved file, named: the same bits as the full run */
  ms_recording_set_model_path (rec, moved);
  assert_same_attention (rec, full, compact, 0, 6);
  fixture_clear (&f);
}

/* ---- tampered inputs ---- */

static void
tamper (const char *db, const char *sql)
{
  sqlite3 *h;
  g_assert_cmpint (sqlite3_open (db, &h), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (h, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (h);
}

static void
expect_error (const char *db, gint64 run, int segment, int code, const char *what)
{
  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (db, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run, &error);
  g_assert_no_error (error);
  int r, c;
  g_assert_null (ms_recording_attention (rec, info, segment, MS_OBS_WRITE, 0, -1, &r, &c, &error));
  g_assert_error (error, MS_ERROR, code);
  g_assert_nonnull (strstr (error->message, db));
  g_assert_nonnull (strstr (error->message, what));
  g_clear_error (&error);
}

#define expect_format_error(db, run, segment, what) expect_error (db, run, segment, MS_ERROR_FORMAT, what)

static void
test_tampered (void)
{
  Fixture f = { 0 };
  fixture_init (&f, "rmt_blocks");
  gint64 run = record (&f, MS_ATTN_STORE_NONE, 12, 0);
  gint64 key = run << 32;
  char *sql;
  /* Memory chunks (ms-db.h) start at the memory after segments 0, 1, 3 and
   * 7, keys + 1, + 2, + 4 and + 8: the memory before segments 2 and 3 is
   * in the chunk at + 2, before 4 to 7 at + 4, before 1 at + 1.  The chunk
   * holding the memory before segment 3 one float short, the one before 4
   * one value too long; the one before 1 gone. */
  sql = g_strdup_printf ("UPDATE memory SET data = substr (data, 1, length (data) - 4) WHERE id = %" G_GINT64_FORMAT,
                         key + 2);
  tamper (f.db, sql);
  expect_format_error (f.db, run, 3, "memory");
  g_free (sql);
  sql = g_strdup_printf ("UPDATE memory SET data = CAST (data || x'00000000' AS BLOB), cols = cols + 1 WHERE id = %" G_GINT64_FORMAT,
                         key + 4);
  tamper (f.db, sql);
  expect_format_error (f.db, run, 4, "memory");
  g_free (sql);
  sql = g_strdup_printf ("DELETE FROM memory WHERE id = %" G_GINT64_FORMAT, key + 1);
  tamper (f.db, sql);
  expect_format_error (f.db, run, 1, "memory");
  g_free (sql);
  /* a chunk claiming more states than its data holds */
  sql = g_strdup_printf ("UPDATE memory SET n_states = n_states + 1 WHERE id = %" G_GINT64_FORMAT, key + 8);
  tamper (f.db, sql);
  expect_format_error (f.db, run, 9, "memory");
  g_free (sql);
  sql = g_strdup_printf ("UPDATE memory SET n_states = n_states - 1 WHERE id = %" G_GINT64_FORMAT, key + 8);
  tamper (f.db, sql);
  g_free (sql);
  /* a byte model's text shorter than its tokens (its memory intact, in the chunk at + 8) */
  sql = g_strdup_printf ("UPDATE segments SET text = substr (text, 1, 3) WHERE id = %" G_GINT64_FORMAT, key + 9);
  tamper (f.db, sql);
  expect_format_error (f.db, run, 9, "text");
  g_free (sql);
  /* a token range that is not the segment's */
  sql = g_strdup_printf ("UPDATE segments SET token_end = token_begin + 1000 WHERE id = %" G_GINT64_FORMAT, key + 10);
  tamper (f.db, sql);
  expect_format_error (f.db, run, 10, "tokens");
  g_free (sql);
  /* a model path that names a device or a FIFO: refused, never read (it would never end) */
  tamper (f.db, "UPDATE models SET path = '/dev/zero'");
  expect_error (f.db, run, 0, MS_ERROR_IO, "/dev/zero");
  g_autofree char *fifo = g_build_filename (f.dir, "fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  sql = g_strdup_printf ("UPDATE models SET path = '%s'", fifo);
  tamper (f.db, sql);
  expect_error (f.db, run, 0, MS_ERROR_IO, fifo);
  g_free (sql);
  g_unlink (fifo);
  /* a SHA-256 that is not one */
  tamper (f.db, "UPDATE models SET sha256 = 'x'");
  expect_format_error (f.db, run, 0, "SHA-256");
  fixture_clear (&f);
}

/* A BPE run's stored token ids are what replay steps: an id outside the
 * vocabulary is refused, naming the recording. */
static void
test_tampered_ids (void)
{
  Fixture f = { 0 };
  fixture_init (&f, "rmt_bpe");
  gint64 run = record (&f, MS_ATTN_STORE_NONE, 4, 0);
  g_autofree char *sql = g_strdup_printf ("UPDATE segments SET token_ids = CAST (x'ffffff7f' || substr (token_ids, 5) AS BLOB) "
                                          "WHERE id = %" G_GINT64_FORMAT, (run << 32) + 2);
  tamper (f.db, sql);
  expect_format_error (f.db, run, 2, "vocabulary");
  fixture_clear (&f);
}

/* A cached segment is never handed to a recording whose stored
 * configuration differs from the model file's, even when its model
 * SHA-256, memory and tokens are those of the cached one: a copy of a
 * recording that claims 2 heads for a 4-head model is refused after the
 * original's segment was replayed (a cache hit must not skip that check). */
static void
test_cached_other_config (void)
{
  Fixture f = { 0 };
  fixture_init (&f, "rmt_blocks");
  gint64 run = record (&f, MS_ATTN_STORE_NONE, 3, 0);
  ms_replay_clear_cache ();
  GError *error = NULL;
  int r, c;
  {
    g_autoptr (MsRecording) rec = ms_recording_open (f.db, &error);
    g_assert_no_error (error);
    g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run, &error);
    g_assert_no_error (error);
    g_assert_cmpint (info->config.n_heads, ==, 4);
    g_autofree float *m = ms_recording_attention (rec, info, 1, MS_OBS_WRITE, 0, -1, &r, &c, &error);
    g_assert_no_error (error);
    g_assert_nonnull (m);
  }
  g_autofree char *copy = g_build_filename (f.dir, "copy.sqlite", NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (f.db, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (copy, bytes, (gssize) len, NULL));
  tamper (copy, "UPDATE models SET config = json_set (config, '$.n_heads', 2)");
  expect_format_error (copy, run, 1, "configuration");
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixture_dir = g_getenv ("MEMSCOPE_FIXTURES");
  if (!fixture_dir)
    fixture_dir = "tests/data/fixtures";
  g_test_add_data_func ("/replay/bit-identical/memformer", "memformer", check_bit_identical);
  g_test_add_data_func ("/replay/bit-identical/rmt-blocks", "rmt_blocks", check_bit_identical);
  g_test_add_data_func ("/replay/bit-identical/rmt-causal", "rmt_causal", check_bit_identical);
  g_test_add_data_func ("/replay/bit-identical/memformer-dh32", "memformer_dh32", check_bit_identical);
  g_test_add_data_func ("/replay/bit-identical/membart", "membart", check_bit_identical);
  g_test_add_data_func ("/replay/bit-identical/membart-dh32", "membart_dh32", check_bit_identical);
  /* a BPE model: replayed from the token ids schema 5 stores */
  g_test_add_data_func ("/replay/bit-identical/rmt-bpe", "rmt_bpe", check_bit_identical);
  g_test_add_func ("/replay/threads", test_threads);
  g_test_add_func ("/replay/moved-model", test_moved_model);
  g_test_add_func ("/replay/tampered", test_tampered);
  g_test_add_func ("/replay/tampered-ids", test_tampered_ids);
  g_test_add_func ("/replay/cached-other-config", test_cached_other_config);
  int status = g_test_run ();
  ms_replay_clear_cache ();
  return status;
}
