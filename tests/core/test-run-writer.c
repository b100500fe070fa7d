/* test-run-writer.c — the run writer on its own, without the recorder's
 * threads: a real session's observations copied into segment records and
 * committed one by one.  What a user relies on: a segment is committed
 * whole or not at all (a write that fails part way — here a segment whose
 * key another connection took, found after its attention rows went in —
 * leaves nothing of it behind, and the next try stores it whole; a
 * segment written twice is refused; in a transaction of several, the
 * others stay; a memory chunk that cannot be written at the commit takes
 * only its own segments with it), a run is taken up again where its
 * committed segments end, the last segment's commit completes the run,
 * and a writer killed with segments written but not committed, or just
 * after a commit that wrote their memory chunk, leaves a recording that
 * resumes to exactly what an uninterrupted one holds.
 * The recording is inspected with SQLite directly, not with Memscope's
 * reader. */
#include <sqlite3.h>
#include <string.h>

#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-run-writer.h"
#include "ms-session.h"
#include "test-util.h"

/* A run stepped by hand: its input (one token a byte), the session that
 * steps it, and the segment record the session's observer fills as the
 * recorder's stepping thread does. */
typedef struct {
  /* Borrowed */
  const char *text;
  const MsConfig *config;
  /* Owned */
  int32_t *tokens;   /* (n_tokens) */
  MsSession *session;
  MsSegmentRecordSizes sizes;
  MsSegmentRecord rec;
  int n_tokens, L, S;   /* tokens, segment length, segments */
  MsAttnStore attn;
} ByHand;

static void
observe (const MsObservation *obs, gpointer data)
{
  ByHand *run = data;
  ms_segment_record_copy (&run->rec, run->config, &run->sizes, run->attn, obs);
}

/* @run over the @n bytes of @text (borrowed until by_hand_clear) with a
 * fresh session of @model, attention stored as @attn. */
static void
by_hand_init (ByHand *run, MsModel *model, const char *text, int n, MsAttnStore attn)
{
  run->text = text;
  run->config = ms_model_get_config (model);
  run->n_tokens = n;
  run->L = run->config->segment_len;
  run->S = (n + run->L - 1) / run->L;
  run->tokens = g_new (int32_t, n);
  for (int i = 0; i < n; i++)
    run->tokens[i] = (uint8_t) text[i];
  run->attn = attn;
  run->session = ms_session_new (model);
  ms_segment_record_sizes (run->config, attn, &run->sizes);
  g_assert_true (ms_segment_record_init (&run->rec, run->config, &run->sizes));
  ms_session_set_observer (run->session, ms_segment_record_kinds (run->config), observe, run);
}

/* Steps segment @t of @run, which fills its record. */
static void
by_hand_step (ByHand *run, int t)
{
  int L = run->L, n = MIN (L, run->n_tokens - t * L);
  GError *error = NULL;
  g_assert_true (ms_segment_record_start (&run->rec, t, run->tokens + (size_t) t * L, (size_t) t * L, n,
                                          (const uint8_t *) run->text + (size_t) t * L, (size_t) n, NULL,
                                          (guint64) t * L, t + 1 == run->S));
  g_assert_true (ms_session_step (run->session, run->tokens + (size_t) t * L, n, NULL, &error));
  g_assert_no_error (error);
}

static void
by_hand_clear (ByHand *run)
{
  ms_segment_record_clear (&run->rec);
  g_clear_pointer (&run->session, ms_session_free);
  g_clear_pointer (&run->tokens, g_free);
}

static gint64
count (const char *db, const char *sql)
{
  sqlite3 *conn;
  sqlite3_stmt *st;
  g_assert_cmpint (sqlite3_open_v2 (db, &conn, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (conn, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  gint64 n = sqlite3_column_int64 (st, 0);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  sqlite3_finalize (st);
  sqlite3_close (conn);
  return n;
}

static void
exec_sql (const char *db, const char *sql)
{
  sqlite3 *conn;
  g_assert_cmpint (sqlite3_open_v2 (db, &conn, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (conn, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (conn);
}

/* Writes @rec and commits it alone; the count agrees with the result. */
static gboolean
commit_one (MsRunWriter *w, const MsSegmentRecord *rec, GError **error)
{
  int committed = -1;
  gboolean written = ms_run_writer_write_segment (w, rec, error);
  g_assert_cmpint (ms_run_writer_get_uncommitted (w), ==, written ? 1 : 0);
  g_assert_true (ms_run_writer_commit (w, &committed, NULL));
  g_assert_cmpint (committed, ==, written ? 1 : 0);
  g_assert_cmpint (ms_run_writer_get_uncommitted (w), ==, 0);
  return written;
}

static void
commit_whole_or_not_at_all (void)
{
  g_autofree char *dir = g_dir_make_tmp ("memscope-run-writer-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "r.sqlite", NULL), *input = g_build_filename (dir, "in.txt", NULL);
  const char *text = "a few segments of text for the run writer to commit, one at a time";
  g_assert_true (g_file_set_contents (input, text, -1, NULL));
  g_autofree char *path = g_build_filename (g_getenv ("MEMSCOPE_FIXTURES"), "rmt_blocks.safetensors", NULL);
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (path, &error);
  g_assert_no_error (error);
  const MsConfig *c = ms_model_get_config (model);
  ByHand by_hand;
  by_hand_init (&by_hand, model, text, (int) strlen (text), MS_ATTN_STORE_F16);
  MsSegmentRecord *rec = &by_hand.rec;
  int L = by_hand.L, S = by_hand.S;

  MsRunWriter *w = ms_run_writer_open (db, c, &error);
  g_assert_no_error (error);
  MsRunPlan plan = { (size_t) by_hand.n_tokens, L, S, MS_ATTN_STORE_F16 };
  g_assert_true (ms_run_writer_create_run (w, model, input, "by hand", &plan, ms_session_get_memory (by_hand.session),
                                           &error));
  g_assert_no_error (error);
  gint64 run = ms_run_writer_get_run_id (w);
  g_assert_cmpint (run, ==, 1);

  gint64 attention_rows = 0;
  size_t state = (size_t) c->n_slots * c->d_model;
  g_autofree float *after_3 = g_new (float, state);
  for (int t = 0; t < S; t++)
    {
      by_hand_step (&by_hand, t);
      if (t == 2)
        {
          /* Segment 1 again: segments are written once, in order, so it
           * is refused and none of it may stay. */
          attention_rows = count (db, "SELECT count(*) FROM attention");
          rec->segment = 1;
          g_assert_false (commit_one (w, rec, &error));
          g_assert_error (error, MS_ERROR, MS_ERROR_IO);
          g_assert_nonnull (strstr (error->message, db));
          g_clear_error (&error);
          g_assert_cmpint (count (db, "SELECT count(*) FROM attention"), ==, attention_rows);
          g_assert_cmpint (count (db, "SELECT count(*) FROM segments"), ==, 2);
          g_assert_cmpint (count (db, "SELECT count(*) FROM memory"), ==, 3);   /* chunks: M_0, after 0, after 1 and 2 */
          rec->segment = 2;
        }
      if (t == 3)
        {
          /* Segment 3 begins a memory chunk (ms-db.h).  Its key taken by
           * another connection, its write fails after its attention rows
           * went in: they go, with the chunk it began, and the next try
           * writes them again. */
          gint64 chunks = count (db, "SELECT count(*) FROM memory");
          attention_rows = count (db, "SELECT count(*) FROM attention");
          exec_sql (db, "INSERT INTO segments (id, run_id, segment, token_begin, token_end, text, nll, n_predicted)"
                        " VALUES (1 * 4294967296 + 3, 1, 3, 24, 32, x'00', x'00', 0)");
          g_assert_false (commit_one (w, rec, &error));
          g_assert_error (error, MS_ERROR, MS_ERROR_IO);
          g_clear_error (&error);
          g_assert_cmpint (count (db, "SELECT count(*) FROM memory"), ==, chunks);
          g_assert_cmpint (count (db, "SELECT count(*) FROM attention"), ==, attention_rows);
          exec_sql (db, "DELETE FROM segments WHERE id = 1 * 4294967296 + 3");
          memcpy (after_3, ms_session_get_memory (by_hand.session), state * sizeof (float));
        }
      g_assert_true (commit_one (w, rec, &error));
      g_assert_no_error (error);
      g_assert_cmpint (count (db, "SELECT status = 'complete' FROM runs"), ==, t + 1 == S);
      if (t == 2)
        {
          /* Closed and taken up again: it continues after segment 2. */
          ms_run_writer_free (w);
          w = ms_run_writer_open (db, c, &error);
          g_assert_no_error (error);
          MsRunPlan stored;
          int done = 0;
          g_assert_true (ms_run_writer_resume_run (w, model, input, run, &stored, &done, &error));
          g_assert_no_error (error);
          g_assert_cmpint (done, ==, 3);
          g_assert_true (stored.n_tokens == plan.n_tokens && stored.segment_len == L && stored.n_segments == S
                         && stored.attn == MS_ATTN_STORE_F16);
          g_autofree float *after_1 = ms_run_writer_load_memory (w, 1, &error);
          g_assert_no_error (error);
          g_assert_nonnull (after_1);
        }
    }
  g_assert_cmpint (attention_rows, >, 0);
  g_assert_cmpint (count (db, "SELECT count(*) FROM segments"), ==, S);
  g_assert_cmpint (count (db, "SELECT count(DISTINCT segment) FROM attention"), ==, S);
  /* the state after segment 3, from its chunk, bit for bit the session's */
  g_autofree float *stored_3 = ms_run_writer_load_memory (w, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (stored_3, state * sizeof (float), after_3, state * sizeof (float));
  /* a complete run's chunks have no room past its last segment */
  g_assert_cmpint (count (db, "SELECT max (segment + n_states) FROM memory"), ==, S);
  by_hand_clear (&by_hand);
  ms_run_writer_free (w);

  /* A complete run cannot be taken up again. */
  w = ms_run_writer_open (db, c, &error);
  g_assert_no_error (error);
  int done = 0;
  g_assert_false (ms_run_writer_resume_run (w, model, input, run, &plan, &done, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_clear_error (&error);
  ms_run_writer_free (w);

  test_dir_remove (dir);
}

/* Every row of @sql in @db_a equals the same row in @db_b, value for value
 * (type and bytes); returns the number of rows. */
static int
assert_same_rows (const char *db_a, const char *db_b, const char *sql)
{
  sqlite3 *a, *b;
  sqlite3_stmt *sa, *sb;
  g_assert_cmpint (sqlite3_open_v2 (db_a, &a, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_open_v2 (db_b, &b, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (a, sql, -1, &sa, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (b, sql, -1, &sb, NULL), ==, SQLITE_OK);
  int rows = 0, rc;
  while ((rc = sqlite3_step (sa)) == SQLITE_ROW)
    {
      g_assert_cmpint (sqlite3_step (sb), ==, SQLITE_ROW);
      g_assert_cmpint (sqlite3_column_count (sa), ==, sqlite3_column_count (sb));
      for (int i = 0; i < sqlite3_column_count (sa); i++)
        {
          g_assert_cmpint (sqlite3_column_type (sa, i), ==, sqlite3_column_type (sb, i));
          const void *va = sqlite3_column_blob (sa, i), *vb = sqlite3_column_blob (sb, i);
          g_assert_cmpmem (va, sqlite3_column_bytes (sa, i), vb, sqlite3_column_bytes (sb, i));
        }
      rows++;
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_step (sb), ==, SQLITE_DONE);
  sqlite3_finalize (sa);
  sqlite3_finalize (sb);
  sqlite3_close (a);
  sqlite3_close (b);
  return rows;
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *bytes = NULL;
  gsize n = 0;
  g_assert_true (g_file_get_contents (from, &bytes, &n, NULL));
  g_assert_true (g_file_set_contents (to, bytes, (gssize) n, NULL));
}

/* A recorder killed while a transaction holds several written, uncommitted
 * segments: the files as it leaves them (copied at that moment, the
 * recording and its WAL) hold exactly the committed segments, and resuming
 * them gives, row for row and bit for bit, what an uninterrupted recording
 * of the same model and input holds.  The open transaction crosses a
 * memory chunk's end (ms-db.h: the states after segments 3 … 6 share a
 * chunk, those after 7 … 14 the next): it had written states 5 and 6 into
 * a committed chunk, and its commit inserts the next one with states
 * 7 … 11. */
static void
killed_mid_transaction (gconstpointer name)
{
  g_autofree char *dir = g_dir_make_tmp ("memscope-run-writer-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "r.sqlite", NULL), *input = g_build_filename (dir, "in.txt", NULL);
  g_autofree char *killed = g_build_filename (dir, "killed.sqlite", NULL);
  g_autofree char *reference = g_build_filename (dir, "reference.sqlite", NULL);
  g_autofree char *after_commit = g_build_filename (dir, "after-commit.sqlite", NULL);
  g_autofree char *after_commit_wal = g_strconcat (after_commit, "-wal", NULL);
  char text[240];
  for (int i = 0; i < (int) sizeof text; i++)
    text[i] = (char) (32 + (i * 41) % 90);
  g_assert_true (g_file_set_contents (input, text, sizeof text, NULL));
  g_autofree char *path = g_strdup_printf ("%s/%s.safetensors", g_getenv ("MEMSCOPE_FIXTURES"), (const char *) name);
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (path, &error);
  g_assert_no_error (error);
  const MsConfig *c = ms_model_get_config (model);
  ByHand by_hand;
  by_hand_init (&by_hand, model, text, (int) sizeof text, MS_ATTN_STORE_NONE);
  MsSegmentRecord *rec = &by_hand.rec;
  int S = by_hand.S;
  g_assert_cmpint (S, >, 13);

  MsRecordOptions opts = { .attn = MS_ATTN_STORE_NONE };   /* compact, as memscope-cli record */
  g_assert_true (ms_record (reference, model, input, &opts, 0, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  MsRunWriter *w = ms_run_writer_open (db, c, &error);
  g_assert_no_error (error);
  MsRunPlan plan = { (size_t) by_hand.n_tokens, by_hand.L, S, MS_ATTN_STORE_NONE };
  g_assert_true (ms_run_writer_create_run (w, model, input, NULL, &plan, ms_session_get_memory (by_hand.session),
                                           &error));
  g_assert_no_error (error);
  int committed = 0;
  for (int t = 0; t < 12; t++)
    {
      by_hand_step (&by_hand, t);
      g_assert_true (ms_run_writer_write_segment (w, rec, &error));
      g_assert_no_error (error);
      if (t == 4)   /* segments 0 … 4 in one transaction */
        {
          g_assert_true (ms_run_writer_commit (w, &committed, &error));
          g_assert_cmpint (committed, ==, 5);
          /* the chunks of 3 … 6 and 7 … 14 end at 6 and 14 */
          for (int s = 4; s < 16; s++)
            g_assert_cmpint (ms_run_writer_chunk_ends_at (w, s), ==, s == 6 || s == 14);
        }
    }
  g_assert_cmpint (ms_run_writer_get_uncommitted (w), ==, 7);
  /* killed now: what is on disk is what the kill leaves */
  g_autofree char *wal = g_strconcat (db, "-wal", NULL), *killed_wal = g_strconcat (killed, "-wal", NULL);
  copy_file (db, killed);
  if (g_file_test (wal, G_FILE_TEST_EXISTS))
    copy_file (wal, killed_wal);
  g_assert_cmpint (count (killed, "SELECT count(*) FROM segments"), ==, 5);
  g_assert_cmpint (count (killed, "SELECT max (segment) FROM memory"), ==, 3);   /* not the chunk from 7 on */
  g_assert_cmpint (count (killed, "SELECT status = 'incomplete' FROM runs"), ==, 1);

  /* A segment that cannot be written (segment 3 again) leaves nothing of
   * itself, and the transaction keeps the seven before it, which commit. */
  rec->segment = 3;
  g_assert_false (ms_run_writer_write_segment (w, rec, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
  g_clear_error (&error);
  g_assert_cmpint (ms_run_writer_get_uncommitted (w), ==, 7);
  g_assert_true (ms_run_writer_commit (w, &committed, &error));
  g_assert_cmpint (committed, ==, 7);
  g_assert_cmpint (count (db, "SELECT count(*) FROM segments"), ==, 12);
  /* Killed right after that commit, which wrote states 5 and 6 into their
   * chunk and the chunk of 7 … 14 with states 7 … 11: all twelve stay. */
  copy_file (db, after_commit);
  if (g_file_test (wal, G_FILE_TEST_EXISTS))
    copy_file (wal, after_commit_wal);
  g_assert_cmpint (count (after_commit, "SELECT count(*) FROM segments"), ==, 12);
  g_assert_cmpint (count (after_commit, "SELECT max (segment) FROM memory"), ==, 7);
  /* closing rolls back what was written and not committed */
  rec->segment = 12;
  g_assert_true (ms_run_writer_write_segment (w, rec, &error));
  by_hand_clear (&by_hand);
  ms_run_writer_free (w);
  g_assert_cmpint (count (db, "SELECT count(*) FROM segments"), ==, 12);

  const char *left[] = { killed, after_commit };
  for (guint i = 0; i < G_N_ELEMENTS (left); i++)
    {
      g_assert_true (ms_record (left[i], model, input, &opts, 1, NULL, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (assert_same_rows (left[i], reference, "SELECT * FROM segments ORDER BY id"), ==, S);
      g_assert_cmpint (assert_same_rows (left[i], reference, "SELECT * FROM memory ORDER BY id"), >, 4);
      g_assert_cmpint (assert_same_rows (left[i], reference, "SELECT n_tokens, segment_len, n_segments, attn_dtype,"
                                                             " status FROM runs ORDER BY id"), ==, 1);
    }
  test_dir_remove (dir);
}

/* A memory chunk is written into the file when its last state is written
 * or at the commit.  When it cannot be (here its key is taken by another
 * connection, as a full disk would refuse its pages), the commit takes the
 * segments whose states it holds out and commits those before them: the
 * run ends at the last segment whose state is stored, and resumes from
 * there to exactly what an uninterrupted recording holds. */
static void
chunk_fails_at_commit (void)
{
  g_autofree char *dir = g_dir_make_tmp ("memscope-run-writer-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "r.sqlite", NULL), *input = g_build_filename (dir, "in.txt", NULL);
  g_autofree char *reference = g_build_filename (dir, "reference.sqlite", NULL);
  char text[120];
  for (int i = 0; i < (int) sizeof text; i++)
    text[i] = (char) (32 + (i * 37) % 90);
  g_assert_true (g_file_set_contents (input, text, sizeof text, NULL));
  g_autofree char *path = g_build_filename (g_getenv ("MEMSCOPE_FIXTURES"), "rmt_blocks.safetensors", NULL);
  GError *error = NULL;
  g_autoptr (MsModel) model = ms_model_load (path, &error);
  g_assert_no_error (error);
  const MsConfig *c = ms_model_get_config (model);
  ByHand by_hand;
  by_hand_init (&by_hand, model, text, (int) sizeof text, MS_ATTN_STORE_NONE);
  g_assert_cmpint (by_hand.S, >, 7);
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_NONE };
  g_assert_true (ms_record (reference, model, input, &opts, 0, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  MsRunWriter *w = ms_run_writer_open (db, c, &error);
  g_assert_no_error (error);
  MsRunPlan plan = { (size_t) by_hand.n_tokens, by_hand.L, by_hand.S, MS_ATTN_STORE_NONE };
  g_assert_true (ms_run_writer_create_run (w, model, input, NULL, &plan, ms_session_get_memory (by_hand.session),
                                           &error));
  g_assert_no_error (error);
  /* the chunk of states 3 … 6 (ms-db.h): its key taken before the
   * transaction begins */
  g_autofree char *taken = g_strdup_printf ("INSERT INTO memory (id, run_id, segment, n_states, rows, cols, data) "
                                            "VALUES (1 * 4294967296 + 4, 1, 3, 1, %d, %d, zeroblob (%d))",
                                            c->n_slots, c->d_model, c->n_slots * c->d_model * 4);
  exec_sql (db, taken);
  for (int t = 0; t < 5; t++)   /* 0 … 4 in one transaction: chunks 0, 1 … 2 filled, 3 … 6 begun */
    {
      by_hand_step (&by_hand, t);
      g_assert_true (ms_run_writer_write_segment (w, &by_hand.rec, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (ms_run_writer_get_uncommitted (w), ==, 5);
  int committed = -1;
  g_assert_false (ms_run_writer_commit (w, &committed, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, db));
  g_clear_error (&error);
  g_assert_cmpint (committed, ==, 3);
  g_assert_cmpint (ms_run_writer_get_uncommitted (w), ==, 0);
  by_hand_clear (&by_hand);
  ms_run_writer_free (w);
  g_assert_cmpint (count (db, "SELECT count(*) FROM segments"), ==, 3);
  g_assert_cmpint (count (db, "SELECT count(*) FROM memory WHERE segment < 3"), ==, 3);   /* M_0, 0, 1 … 2 */

  exec_sql (db, "DELETE FROM memory WHERE id = 1 * 4294967296 + 4");
  g_assert_true (ms_record (db, model, input, &opts, 1, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (assert_same_rows (db, reference, "SELECT * FROM segments ORDER BY id"), ==, by_hand.S);
  g_assert_cmpint (assert_same_rows (db, reference, "SELECT * FROM memory ORDER BY id"), >, 4);
  test_dir_remove (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (g_getenv ("MEMSCOPE_FIXTURES"));
  g_test_add_func ("/run-writer/commit-whole-or-not-at-all", commit_whole_or_not_at_all);
  g_test_add_data_func ("/run-writer/killed-mid-transaction/rmt", "rmt_blocks", killed_mid_transaction);
  g_test_add_data_func ("/run-writer/killed-mid-transaction/memformer", "memformer", killed_mid_transaction);
  g_test_add_func ("/run-writer/chunk-fails-at-commit", chunk_fails_at_commit);
  return g_test_run ();
}
