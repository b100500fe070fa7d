/* ms-recorder.c — writing runs into a recording (see ms-recorder.h and the
 * schema in ms-db.h): the stepping side and the pipeline between the two
 * threads.
 *
 * Two threads share the work.  The calling thread steps the session; its
 * observer only copies each observation into a SegmentRecord.  A writer
 * thread (ms-recorder-writer.c) takes finished records in order and
 * turns each into one transaction: the f16 conversion, the derived
 * retention (computed from the same observations, so analysis never
 * re-reads BLOBs) and every SQLite insert happen there, beside the next
 * segment's inference.
 *
 * A new run is created by the writer too, before its first segment, so
 * hashing the model and input files (about a second for paper-size
 * models) overlaps the first segments, as many as there are records.  The files are hashed a little after they were read, as they
 * always were (now up to that long after).
 *
 * A fixed set of records circulates between two queues (RECORDS_BUDGET),
 * so memory stays constant and the model never runs more than that far
 * ahead of the database; a killed process loses only segments that were
 * never committed, which resuming steps again. */
#include "ms-recorder-private.h"
#include "ms-db.h"
#include "ms-error.h"
#include "ms-text.h"

#include <string.h>

/* Records circulating between the stepping and the writing thread: as
 * many as fit in RECORDS_BUDGET bytes, up to 64, and at least one (then
 * stepping and writing take turns: a huge model's record may be larger
 * than the budget by itself).  Enough to ride out a WAL checkpoint
 * (the writer copies the log into the database and syncs both) without
 * stopping the model; a handful of records does not (tests/bench/README.md). */
#define RECORDS_BUDGET (32u << 20)
#define RECORDS_MAX 64

/* ---- the stepping thread: copying observations ------------------------ */

/* The observer: copies what the writer will need; nothing else, so the
 * model's next segment starts at once. */
static void
observe (const MsObservation *obs, gpointer user_data)
{
  Recorder *r = user_data;
  SegmentRecord *rec = r->filling;
  const MsConfig *c = r->config;
  size_t state = (size_t) c->n_slots * c->d_model * sizeof (float);
  switch (obs->kind)
    {
    case MS_OBS_MEMORY_IN:
      memcpy (rec->memory_in, obs->data, state);
      return;
    case MS_OBS_MEMORY_OUT:
      memcpy (rec->memory_out, obs->data, state);
      return;
    case MS_OBS_NLL:
      rec->n_tokens = obs->shape[0];
      memcpy (rec->nll, obs->data, obs->shape[0] * sizeof (float));
      return;
    case MS_OBS_WRITE:
      /* Without stored attention, retention needs only the write
       * distribution's layer (ms_attention_layout_last_layer). */
      if (r->attn == MS_ATTN_STORE_NONE
          && obs->layer != ms_attention_layout_last_layer (ms_engine_find_attention (c->engine, MS_OBS_WRITE), c))
        return;
      break;
    case MS_OBS_READ:
      break;
    default:
      return;
    }
  size_t n = ms_observation_size (obs);
  g_assert (rec->n_attn < r->max_attn && rec->attn_used + n <= r->max_attn_floats);
  AttnCopy *a = &rec->attn[rec->n_attn++];
  *a = (AttnCopy) { obs->kind, obs->layer, { obs->shape[0], obs->shape[1], obs->shape[2] }, rec->attn_used };
  ms_observation_copy (obs, rec->attn_data + rec->attn_used);
  rec->attn_used += n;
}

/* ---- the pipeline ----------------------------------------------------- */

/* Allocates the records and the writer's scratch for @c's largest segment;
 * FALSE (and @error naming the database) when memory runs out. */
static gboolean
pipeline_init (Recorder *r, GError **error)
{
  const MsConfig *c = r->config;
  size_t K = c->n_slots, L = c->segment_len;
  size_t state = K * c->d_model;
  /* Every layer of every attention kind the engine offers, at the
   * largest segment (its layouts' shapes at n = L). */
  r->max_attn = 0;
  r->max_attn_floats = 0;
  size_t max_matrix = 1;   /* floats of the largest (rows, cols) matrix of one head */
  for (guint i = 0; i < c->engine->n_attention; i++)
    {
      const MsAttentionLayout *a = &c->engine->attention[i];
      int heads, rows, cols, layers = ms_attention_layout_n_layers (a, c);
      ms_attention_layout_shape (a, c, (int) L, &heads, &rows, &cols);
      r->max_attn += layers;
      r->max_attn_floats += (size_t) layers * heads * rows * cols;
      max_matrix = MAX (max_matrix, (size_t) rows * cols);
    }
  size_t record_bytes = (2 * state + L) * sizeof (float) + r->max_attn * sizeof (AttnCopy)
                        + r->max_attn_floats * sizeof (float);
  r->n_records = (int) CLAMP (RECORDS_BUDGET / record_bytes, 1, RECORDS_MAX);
  r->batch_max = CLAMP (r->n_records / 8, 1, 8);
  r->batch_tail = &r->batch;
  r->records = g_new0 (SegmentRecord, r->n_records);
  r->empty = g_async_queue_new ();
  r->stepped = g_async_queue_new ();
  r->end_of_run.segment = -1;
  gboolean ok = TRUE;
  for (int i = 0; ok && i < r->n_records; i++)
    {
      SegmentRecord *rec = &r->records[i];
      rec->memory_in = g_try_new (float, state);
      rec->memory_out = g_try_new (float, state);
      rec->nll = g_try_new (float, L);
      rec->attn = g_try_new (AttnCopy, MAX (r->max_attn, 1));
      rec->attn_data = g_try_new (float, MAX (r->max_attn_floats, 1));
      ok = rec->memory_in && rec->memory_out && rec->nll && rec->attn && rec->attn_data;
      g_async_queue_push (r->empty, rec);
    }
  r->half = g_try_new (uint16_t, max_matrix);
  r->text = g_new (uint8_t, L);
  r->read_usage = g_new0 (float, K);
  r->cos_prev = g_new (float, K);
  r->write = ms_write_distribution_new (K, L);
  if (!ok || !r->half)
    g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: not enough memory to record this model (%zu bytes of "
                 "observations per segment)", r->path, record_bytes);
  return ok && r->half;
}

/* Hands the stepped records over to the writer, as one batch: the writer
 * is woken once per batch, not once per segment.  A wake-up costs this
 * thread a system call and interrupts the CPU the writer runs on, which on
 * two threads is the one the kernels' worker runs on. */
static void
hand_over (Recorder *r)
{
  if (!r->batch)
    return;
  *r->batch_tail = NULL;
  g_async_queue_push (r->stepped, r->batch);
  r->batch = NULL;
  r->batch_tail = &r->batch;
  r->batch_len = 0;
}

static void
add_to_batch (Recorder *r, SegmentRecord *rec)
{
  *r->batch_tail = rec;
  r->batch_tail = &rec->next;
  if (++r->batch_len >= r->batch_max)
    hand_over (r);
}

/* The next record to fill.  Before waiting for one, hands over the batch:
 * the writer may be waiting for it. */
static SegmentRecord *
next_empty (Recorder *r)
{
  SegmentRecord *rec = g_async_queue_try_pop (r->empty);
  if (!rec)
    {
      hand_over (r);
      rec = g_async_queue_pop (r->empty);
    }
  return rec;
}

/* Tells @progress about every segment committed since the last call; on
 * the calling thread, so callers need no locking. */
static void
report_committed (Recorder *r, int done, int n_segments, int *reported, MsProgressFunc progress, gpointer data)
{
  int now = done + g_atomic_int_get (&r->committed);
  /* A commit means the run exists (the writer set run_id before it). */
  if (now > done && r->run_id_out)
    *r->run_id_out = r->run_id;
  while (*reported < now)
    {
      ++*reported;
      if (progress)
        progress (*reported, n_segments, data);
    }
}

static void
recorder_clear (Recorder *r)
{
  sqlite3_finalize (r->insert_attention);
  sqlite3_finalize (r->insert_segment);
  sqlite3_finalize (r->insert_memory);
  sqlite3_finalize (r->complete_run);
  for (int i = 0; i < r->n_records; i++)
    {
      SegmentRecord *rec = &r->records[i];
      g_free (rec->memory_in);
      g_free (rec->memory_out);
      g_free (rec->nll);
      g_free (rec->attn);
      g_free (rec->attn_data);
    }
  g_free (r->records);
  g_clear_pointer (&r->empty, g_async_queue_unref);
  g_clear_pointer (&r->stepped, g_async_queue_unref);
  g_free (r->half);
  g_free (r->text);
  g_free (r->read_usage);
  g_free (r->cos_prev);
  g_clear_pointer (&r->write, ms_write_distribution_free);
  g_free (r->create.initial_memory);
  g_clear_error (&r->error);
  if (r->db)
    sqlite3_close (r->db);
}

gboolean
ms_record (const char *db_path, MsModel *model, const char *input_path, const MsRecordOptions *opts,
           gint64 resume_run, MsProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
           gint64 *run_id, GError **error)
{
  if (run_id)
    *run_id = 0;   /* until there is a run */
  const MsConfig *c = ms_model_get_config (model);
  size_t n_tokens;
  g_autofree int32_t *tokens = ms_text_load_tokens (input_path, &n_tokens, error);
  if (!tokens)
    return FALSE;
  if (opts->segment_len < 0 || opts->segment_len > c->segment_len)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "segment length %d is outside 1..%d, the segment_len of %s",
                   opts->segment_len, c->segment_len, ms_model_get_path (model));
      return FALSE;
    }
  if (opts->max_segments < 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "at most %d segments: the limit must be 0 (none) or more",
                   opts->max_segments);
      return FALSE;
    }

  Recorder r = { .path = db_path, .config = c, .attn = opts->attn };
  r.db = ms_db_open (db_path, TRUE, FALSE, error);
  if (!r.db || !ms_recorder_prepare_statements (&r, error))
    {
      recorder_clear (&r);
      return FALSE;
    }

  /* Checkpoint (copy the WAL into the file, with the syncs ms-recorder.h
   * lists) every MS_RECORDER_CHECKPOINT_PAGES = 256 pages:
   * 2 MiB of log with the 8 KiB pages of new files (1 MiB in files from
   * schema 1, 4 MiB in those made with 16 KiB pages), about 14 small-RMT
   * segments.  Other cadences were no better for the model
   * (tests/bench/README.md).  The writer's records ride out each
   * checkpoint; what the model does wait for is the last one, when the
   * recording closes, which a small cadence keeps short.
   * Cache what each segment's inserts touch again (the B-trees' interior
   * pages and last leaves). */
  sqlite3_exec (r.db, "PRAGMA wal_autocheckpoint = " G_STRINGIFY (MS_RECORDER_CHECKPOINT_PAGES) ";"
                "PRAGMA cache_size = -32768;", NULL, NULL, NULL);

  /* Test hook (fault injection, as SQLite's own tests do): cap the file
   * size so a real SQLITE_FULL happens after a few segments. */
  const char *max_pages = g_getenv ("MEMSCOPE_TEST_MAX_PAGE_COUNT");
  if (max_pages)
    {
      g_autofree char *pragma = g_strdup_printf ("PRAGMA max_page_count = %d", atoi (max_pages));
      sqlite3_exec (r.db, pragma, NULL, NULL, NULL);
    }

  g_autoptr (MsSession) session = ms_session_new (model);
  int segment_len = 0, n_segments = 0, done = 0;
  if (resume_run > 0)
    {
      /* The files are checked before anything is stepped. */
      gboolean ok = ms_recorder_load_run_for_resume (&r, model, input_path, resume_run, &segment_len,
                                                     &n_segments, &done, error)
                    && ms_recorder_replay_last_committed (&r, session, tokens, n_tokens, segment_len, done, error);
      if (run_id)
        *run_id = r.run_id;
      if (!ok)
        {
          recorder_clear (&r);
          return FALSE;
        }
      ms_recorder_bind_run (&r, r.run_id);
    }
  else
    {
      /* The writer creates the run (hashing the files) while the model
       * steps the first segments. */
      segment_len = opts->segment_len ? opts->segment_len : c->segment_len;
      n_segments = (int) ((n_tokens + segment_len - 1) / segment_len);
      if (opts->max_segments > 0)
        n_segments = MIN (n_segments, opts->max_segments);
      r.create.model = model;
      r.create.input_path = input_path;
      r.create.opts = opts;
      r.create.n_tokens = n_tokens;
      r.create.segment_len = segment_len;
      r.create.n_segments = n_segments;
      r.create.initial_memory = g_memdup2 (ms_session_get_memory (session),
                                           (size_t) c->n_slots * c->d_model * sizeof (float));
    }

  r.tokens = tokens;
  guint kinds = MS_OBS_MEMORY_IN | MS_OBS_MEMORY_OUT | MS_OBS_NLL | ms_engine_attention_kinds (c->engine);
  ms_session_set_observer (session, kinds, observe, &r);
  g_autoptr (GError) thread_error = NULL;
  if (pipeline_init (&r, error)
      && !(r.writer = g_thread_try_new ("memscope-recorder", ms_recorder_writer_main, &r, &thread_error)))
    {
      if (r.run_id == 0)   /* a new run, which the writer would have created */
        g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot start the recorder's writer thread (%s)", db_path,
                     thread_error->message);
      else
        g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot start the recorder's writer thread (%s); the run "
                     "keeps its %d committed segments and can be resumed (run %" G_GINT64_FORMAT ")", db_path,
                     thread_error->message, done, r.run_id);
    }
  if (!r.writer)
    {
      recorder_clear (&r);
      return FALSE;
    }
  r.run_id_out = run_id;

  /* Step segments and hand them to the writer until the input ends, the
   * writer fails, the user cancels or the model fails. */
  g_autoptr (GError) step_error = NULL;
  gboolean cancelled = FALSE;
  int reported = done;
  for (int t = done; t < n_segments; t++)
    {
      SegmentRecord *rec = next_empty (&r);   /* waits while all records are in flight */
      report_committed (&r, done, n_segments, &reported, progress, progress_data);
      cancelled = g_cancellable_is_cancelled (cancellable);
      if (cancelled || g_atomic_int_get (&r.failed))
        {
          g_async_queue_push (r.empty, rec);
          break;
        }
      size_t begin = (size_t) t * segment_len;
      int n = (int) MIN ((size_t) segment_len, n_tokens - begin);
      rec->segment = t;
      rec->token_begin = begin;
      rec->last = t + 1 == n_segments;
      rec->n_attn = 0;
      rec->attn_used = 0;
      r.filling = rec;
      if (!ms_session_step (session, tokens + begin, n, NULL, &step_error))
        {
          g_async_queue_push (r.empty, rec);
          break;
        }
      add_to_batch (&r, rec);
    }
  /* Let the writer finish what was stepped, reporting each commit as it
   * hands the record back. */
  add_to_batch (&r, &r.end_of_run);
  hand_over (&r);
  for (int i = 0; i < r.n_records; i++)
    {
      g_async_queue_pop (r.empty);   /* every record comes back, written or (after a failure) not */
      report_committed (&r, done, n_segments, &reported, progress, progress_data);
    }
  g_thread_join (g_steal_pointer (&r.writer));
  report_committed (&r, done, n_segments, &reported, progress, progress_data);

  if (run_id)
    *run_id = r.run_id;

  /* The writer's failure comes first: later segments were never written. */
  int committed = done + r.committed;
  gboolean ok = FALSE;
  if (r.failed && r.run_id == 0)
    /* The run was never created.  The segments stepped meanwhile are
     * dropped, and so is a step error. */
    g_propagate_error (error, g_steal_pointer (&r.error));
  else if (r.failed)
    g_set_error (error, r.error->domain, r.error->code, "%s; the run keeps its %d committed segments and can be "
                 "resumed (run %" G_GINT64_FORMAT ")", r.error->message, committed, r.run_id);
  else if (step_error)
    g_propagate_error (error, g_steal_pointer (&step_error));
  else if (cancelled)
    g_set_error (error, MS_ERROR, MS_ERROR_CANCELLED, "%s: run %" G_GINT64_FORMAT " cancelled after %d of %d "
                 "segments; resume it to continue", db_path, r.run_id, committed, n_segments);
  else
    ok = TRUE;
  recorder_clear (&r);
  return ok;
}
