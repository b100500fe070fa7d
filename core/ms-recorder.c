/* ms-recorder.c — recording a run (ms-recorder.h): the pipeline that
 * carries stepped segments from the model to the run writer.  No SQL here:
 * what a segment's commit writes is ms-run-writer.c's, what a stepped
 * segment holds ms-segment-record.c's.
 *
 * Two threads share the work.  The calling thread steps the session; its
 * observer copies each observation into a segment record, reducing
 * attention to what the per-slot quantities need (and copying the
 * matrices only when the run stores them).  A writer thread takes the
 * stepped records in order and writes them through the run writer,
 * several per transaction: the f16 conversion, the rest of the per-slot
 * quantities and every insert happen there, beside the next segments'
 * inference.  A new
 * run is created on the writer thread too, before its first segment, so
 * hashing the model and input files (which grows with the model's size)
 * overlaps the first segments, as many as there are records.
 *
 * A fixed set of records circulates between two queues: `empty` (ready to
 * fill) and `stepped` (batches ready to commit, in segment order).  Memory
 * stays constant and the model never runs more than that far ahead of the
 * writer thread.  A record goes back to `empty` once written, before its
 * transaction commits, so a killed process loses the segments never
 * committed: the records in flight (at most HAND_OVER_US of stepping once
 * the writer keeps up) and the open group, at most COMMIT_WAIT_US of
 * stepping or one memory chunk, whichever is less; resuming steps them
 * again. */
#include "ms-recorder.h"
#include "ms-error.h"
#include "ms-parallel.h"
#include "ms-run-writer.h"
#include "ms-text.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Records circulating between the stepping and the writing thread: as
 * many as fit in RECORDS_BUDGET bytes, up to RECORDS_MAX, and at least one
 * (then stepping and writing take turns: a huge model's record may be
 * larger than the budget by itself).  Enough to ride out a WAL checkpoint
 * (the writer copies the log into the recording and syncs both) without
 * stopping the model; a handful of records does not (tests/bench/README.md). */
#define RECORDS_BUDGET (32u << 20)
#define RECORDS_MAX 256

/* A segment waits at most COMMIT_WAIT_US after the writer thread wrote
 * it for the ones after it before their transaction is committed (a live
 * reader refreshes a few times a second; a kill loses at most that much
 * stepping beyond the records in flight). */
#define COMMIT_WAIT_US (250 * 1000)

/* The stepping thread hands its stepped records over in batches of up to
 * a quarter of the records (at most BATCH_MAX), and a batch at the latest
 * HAND_OVER_US after its first segment was stepped: each hand-over wakes
 * the writer thread, which costs both threads system calls and the
 * writer's CPU a context switch, so a model that steps a segment in
 * milliseconds wakes it a few times per group instead of every few
 * segments; the wait bounds how late a live reader and the progress
 * callback learn of a segment. */
#define BATCH_MAX 64
#define HAND_OVER_US (50 * 1000)

typedef struct {
  /* Borrowed */
  const MsConfig *config;
  const char *path;
  /* Owned */
  MsRunWriter *writer;             /* the writer thread's while it runs */
  MsSegmentRecordSizes sizes;
  MsAttnStore attn;
  MsSegmentRecord *records;
  int n_records;
  void *block;                     /* the records' buffers (records_block_new) */
  MsSegmentRecord end_of_run;      /* segment −1: the writer thread stops */
  GAsyncQueue *empty;              /* records ready to fill */
  GAsyncQueue *stepped;            /* batches of records ready to commit, in segment order */
  /* The stepping thread's */
  MsSegmentRecord *filling;        /* during a step */
  MsSegmentRecord *batch, **batch_tail;   /* stepped, not yet handed over */
  int batch_len, batch_max;
  gint64 batch_started;            /* monotonic µs: when the batch's first record was stepped */
  /* A new run, which the writer thread creates before its first segment */
  struct {
    MsModel *model;                /* NULL: the run exists (resumed) */
    const char *input_path;
    const char *name;
    MsRunPlan plan;
    float *initial_memory;         /* owned: M_0, copied before the first step */
  } create;
  /* The writer thread's, read by the stepping thread as the comments say */
  GThread *thread;
  gint64 run_id;                   /* set before the first commit is counted */
  int committed;                   /* atomic: segments committed */
  int failed;                      /* atomic: the writer thread stopped on an error */
  GError *error;                   /* its first error; read after joining it */
} Pipeline;

/* ---- the stepping thread ---------------------------------------------- */

static void
observe (const MsObservation *obs, gpointer user_data)
{
  Pipeline *p = user_data;
  ms_segment_record_copy (p->filling, p->config, &p->sizes, p->attn, obs);
}

/* Hands the stepped records over to the writer thread, as one batch: it is
 * woken once per batch, not once per segment (BATCH_MAX).  A wake-up costs
 * this thread a system call and interrupts the CPU the writer runs on,
 * which on two threads is the one the kernels' worker runs on. */
static void
hand_over (Pipeline *p)
{
  if (!p->batch)
    return;
  *p->batch_tail = NULL;
  g_async_queue_push (p->stepped, p->batch);
  p->batch = NULL;
  p->batch_tail = &p->batch;
  p->batch_len = 0;
}

static void
add_to_batch (Pipeline *p, MsSegmentRecord *rec)
{
  gint64 now = g_get_monotonic_time ();
  if (p->batch_len == 0)
    p->batch_started = now;
  *p->batch_tail = rec;
  p->batch_tail = &rec->next;
  if (++p->batch_len >= p->batch_max || now - p->batch_started >= HAND_OVER_US)
    hand_over (p);
}

/* The next record to fill.  Before waiting for one, hands over the batch:
 * the writer thread may be waiting for it. */
static MsSegmentRecord *
next_empty (Pipeline *p)
{
  MsSegmentRecord *rec = g_async_queue_try_pop (p->empty);
  if (!rec)
    {
      hand_over (p);
      rec = g_async_queue_pop (p->empty);
    }
  return rec;
}

/* Tells @progress about every segment committed since the last call; on
 * the calling thread, so callers need no locking.  @run_id_out (may be
 * NULL) learns the run id with the first commit. */
static void
report_committed (Pipeline *p, int done, int n_segments, int *reported, MsProgressFunc progress, gpointer data,
                  gint64 *run_id_out)
{
  int now = done + g_atomic_int_get (&p->committed);
  /* A commit means the run exists (the writer thread set run_id before). */
  if (now > done && run_id_out)
    *run_id_out = p->run_id;
  while (*reported < now)
    {
      ++*reported;
      if (progress)
        progress (*reported, n_segments, data);
    }
}

/* ---- the writer thread ------------------------------------------------ */

/* Commits the open transaction (none open: nothing to do) and counts its
 * segments.  After a failure the first error stays p->error. */
static void
commit_written (Pipeline *p)
{
  int committed = 0;
  if (!ms_run_writer_commit (p->writer, &committed, g_atomic_int_get (&p->failed) ? NULL : &p->error))
    g_atomic_int_set (&p->failed, 1);
  g_atomic_int_add (&p->committed, committed);
}

/* Creates the run when p->create says so, then writes stepped records in
 * order, each as it arrives, into the open transaction, and commits it
 * when its last segment fills the memory chunk its state goes into,
 * COMMIT_WAIT_US passed since its first, or the run ends (cancelled too).
 * A record goes back to `empty` as soon as it is written: the run writer
 * has copied its state into its chunk and SQLite its rows, so a group is
 * not bounded by the records, and a small model's group fills its chunk.
 * Each page a transaction touches is written to the WAL once per commit
 * (the segments leaf, the memory chunk's pages, their parents), so a
 * chunk filled in one transaction writes about its segments' bytes, where
 * a commit before the chunk's end writes its zero tail and rewrites those
 * pages at the next.  The write lock is held from a group's first write
 * to its commit, at most COMMIT_WAIT_US and the writing (a causal
 * computation writing the same file waits that long); the wait also
 * bounds what a kill loses and keeps a reader's view of the run live.  A
 * segment that cannot be written leaves nothing of itself and ends the
 * group: the ones before it are committed, its error is the first
 * (p->error), and after it records are only handed back. */
static gpointer
writer_thread (gpointer pipeline)
{
  Pipeline *p = pipeline;
  /* A record waking the writer does not preempt the model's threads
   * (SCHED_BATCH; what it saves is in tests/bench/README.md). */
  ms_parallel_become_background_thread ();
  if (p->create.model)
    {
      if (ms_run_writer_create_run (p->writer, p->create.model, p->create.input_path, p->create.name, &p->create.plan,
                                    p->create.initial_memory, &p->error))
        p->run_id = ms_run_writer_get_run_id (p->writer);
      else
        g_atomic_int_set (&p->failed, 1);
    }
  gboolean open = FALSE;               /* a group is open: segments written, not committed */
  gint64 commit_at = 0;                /* monotonic µs: when the group is committed at the latest */
  MsSegmentRecord *rec = NULL;         /* the rest of a hand-over batch */
  for (;;)
    {
      if (!rec && !open)
        rec = g_async_queue_pop (p->stepped);
      else if (!rec && !(rec = g_async_queue_timeout_pop (p->stepped,
                                                          (guint64) MAX (commit_at - g_get_monotonic_time (), 0))))
        {
          commit_written (p);
          open = FALSE;
          continue;
        }
      MsSegmentRecord *next = rec->next;
      int segment = rec->segment;
      if (segment < 0)
        {
          commit_written (p);
          return NULL;
        }
      if (g_atomic_int_get (&p->failed))
        {
          g_async_queue_push (p->empty, rec);
          rec = next;
          continue;
        }
      if (!open)
        commit_at = g_get_monotonic_time () + COMMIT_WAIT_US;
      open = TRUE;
      if (!ms_run_writer_write_segment (p->writer, rec, &p->error))
        g_atomic_int_set (&p->failed, 1);
      g_async_queue_push (p->empty, rec);   /* written (or not at all): the writer holds nothing of it */
      rec = next;
      if (g_atomic_int_get (&p->failed) || ms_run_writer_chunk_ends_at (p->writer, segment)
          || g_get_monotonic_time () >= commit_at)
        {
          commit_written (p);
          open = FALSE;
        }
    }
}

/* ---- setting up and taking down --------------------------------------- */

/* One block for every record's buffers, from the heap, its pages made
 * present at once where the system offers that (MADV_POPULATE_WRITE):
 * the records are many and each is first written during a step, one page
 * fault per 4 KiB of it on the stepping thread, where one call makes the
 * whole block present for much less (a fault is dear, on virtual machines
 * especially: tests/bench/README.md).  Pages the heap already holds (a
 * process that records again) are present: the call then only checks
 * them.  Failing, it only leaves the faults to the steps.  NULL when
 * memory runs out. */
static void *
records_block_new (size_t bytes)
{
  void *block = g_try_malloc (bytes);
#ifdef MADV_POPULATE_WRITE
  long page = sysconf (_SC_PAGESIZE);
  if (block && page > 0)
    {
      /* the whole pages inside the block */
      guintptr first = ((guintptr) block + (guintptr) page - 1) & ~((guintptr) page - 1);
      guintptr end = ((guintptr) block + bytes) & ~((guintptr) page - 1);
      if (end > first)
        madvise ((void *) first, end - first, MADV_POPULATE_WRITE);
    }
#endif
  return block;
}

/* Allocates the records for the model's largest segment; FALSE (and
 * @error naming the recording) when memory runs out. */
static gboolean
pipeline_init (Pipeline *p, GError **error)
{
  ms_segment_record_sizes (p->config, p->attn, &p->sizes);
  p->n_records = (int) CLAMP (RECORDS_BUDGET / p->sizes.bytes, 1, RECORDS_MAX);
  size_t record_bytes = ms_segment_record_block_bytes (p->config, &p->sizes);
  p->batch_max = CLAMP (p->n_records / 4, 1, BATCH_MAX);
  p->batch_tail = &p->batch;
  p->records = g_new0 (MsSegmentRecord, p->n_records);
  p->empty = g_async_queue_new ();
  p->stepped = g_async_queue_new ();
  p->end_of_run.segment = -1;
  if (record_bytes <= G_MAXSIZE / (size_t) p->n_records)
    p->block = records_block_new (record_bytes * p->n_records);
  if (!p->block)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: not enough memory to record this model (%d × %zu bytes of "
                   "observations)", p->path, p->n_records, record_bytes);
      return FALSE;
    }
  for (int i = 0; i < p->n_records; i++)
    {
      ms_segment_record_init_in (&p->records[i], p->config, &p->sizes, (char *) p->block + i * record_bytes);
      g_async_queue_push (p->empty, &p->records[i]);
    }
  return TRUE;
}

static void
pipeline_clear (Pipeline *p)
{
  for (int i = 0; i < p->n_records; i++)
    ms_segment_record_clear (&p->records[i]);
  g_free (p->records);
  g_free (p->block);
  g_clear_pointer (&p->empty, g_async_queue_unref);
  g_clear_pointer (&p->stepped, g_async_queue_unref);
  g_free (p->create.initial_memory);
  g_clear_error (&p->error);
  g_clear_pointer (&p->writer, ms_run_writer_free);
}

/* Puts @session where the run stood after its @done committed segments:
 * segment done − 1 is stepped again from its input memory, the stored
 * memory after segment done − 2 (−1: the initial memory).  Nothing but the
 * segments themselves is stored for resuming. */
static gboolean
replay_last_committed (MsRunWriter *writer, MsSession *session, MsTextReader *input, int32_t *tokens,
                       int segment_len, int done, GError **error)
{
  if (done == 0)
    return TRUE;
  g_autofree float *memory_in = ms_run_writer_load_memory (writer, done - 2, error);
  gssize n = memory_in && ms_text_reader_seek (input, (guint64) (done - 1) * segment_len, error)
               ? ms_text_reader_read (input, tokens, (size_t) segment_len, error) : -1;
  if (n == 0)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "the input ends before segment %d, which the run committed",
                 done - 1);
  return n > 0 && ms_session_replay_segment (session, done - 1, memory_in, tokens, (int) n, error);
}

gboolean
ms_record (const char *path, MsModel *model, const char *input_path, const MsRecordOptions *opts, gint64 resume_run,
           MsProgressFunc progress, gpointer progress_data, GCancellable *cancellable, gint64 *run_id, GError **error)
{
  if (run_id)
    *run_id = 0;   /* until there is a run */
  const MsConfig *c = ms_model_get_config (model);
  /* The input is read a segment at a time, so memory does not grow with it. */
  g_autoptr (MsTextReader) input = ms_text_reader_open (input_path, ms_model_get_tokenizer (model), error);
  if (!input)
    return FALSE;
  size_t n_tokens = ms_text_reader_get_n_tokens (input);
  if (n_tokens == 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: the input must be a regular file (its size and hash "
                   "are recorded with the run)", input_path);
      return FALSE;
    }
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

  Pipeline p = { .config = c, .path = path, .attn = opts->attn };
  p.writer = ms_run_writer_open (path, c, error);
  if (!p.writer)
    return FALSE;

  g_autoptr (MsSession) session = ms_session_new (model);
  g_autofree int32_t *tokens = g_new (int32_t, c->segment_len);   /* (L) one segment of the input */
  MsRunPlan plan;
  int done = 0;
  if (resume_run > 0)
    {
      /* The files are checked before anything is stepped. */
      gboolean ok = ms_run_writer_resume_run (p.writer, model, input_path, resume_run, &plan, &done, error);
      if (ok && plan.n_tokens != n_tokens)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT " says its input has %zu tokens, "
                       "but %s has %zu: the recording is damaged or altered", path, resume_run, plan.n_tokens,
                       input_path, n_tokens);
          ok = FALSE;
        }
      if (ok && (plan.segment_len < 1 || plan.segment_len > c->segment_len))
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT " has segment_len %d, outside "
                       "1 … %d of its model", path, resume_run, plan.segment_len, c->segment_len);
          ok = FALSE;
        }
      ok = ok && replay_last_committed (p.writer, session, input, tokens, plan.segment_len, done, error);
      if (run_id)
        *run_id = ms_run_writer_get_run_id (p.writer);
      if (!ok)
        {
          pipeline_clear (&p);
          return FALSE;
        }
      p.run_id = ms_run_writer_get_run_id (p.writer);
      p.attn = plan.attn;
    }
  else
    {
      /* The writer thread creates the run (hashing the files) while the
       * model steps the first segments. */
      plan.n_tokens = n_tokens;
      plan.segment_len = opts->segment_len ? opts->segment_len : c->segment_len;
      plan.n_segments = (int) ((n_tokens + plan.segment_len - 1) / plan.segment_len);
      if (opts->max_segments > 0)
        plan.n_segments = MIN (plan.n_segments, opts->max_segments);
      plan.attn = opts->attn;
      p.create.model = model;
      p.create.input_path = input_path;
      p.create.name = opts->name;
      p.create.plan = plan;
      p.create.initial_memory = g_memdup2 (ms_session_get_memory (session),
                                           (size_t) c->n_slots * c->d_model * sizeof (float));
    }
  int segment_len = plan.segment_len, n_segments = plan.n_segments;

  ms_session_set_observer (session, ms_segment_record_kinds (c), observe, &p);
  g_autoptr (GError) thread_error = NULL;
  if (pipeline_init (&p, error)
      && !(p.thread = g_thread_try_new ("memscope-recorder", writer_thread, &p, &thread_error)))
    {
      if (p.run_id == 0)   /* a new run, which the writer thread would have created */
        g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot start the recorder's writer thread (%s)", path,
                     thread_error->message);
      else
        g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot start the recorder's writer thread (%s); the run "
                     "keeps its %d committed segments and can be resumed (run %" G_GINT64_FORMAT ")", path,
                     thread_error->message, done, p.run_id);
    }
  if (!p.thread)
    {
      pipeline_clear (&p);
      return FALSE;
    }

  /* Step segments and hand them to the writer thread until the input
   * ends, the writer fails, the user cancels or the model fails. */
  g_autoptr (GError) step_error = NULL;
  gboolean cancelled = FALSE;
  int reported = done;
  for (int t = done; t < n_segments; t++)
    {
      MsSegmentRecord *rec = next_empty (&p);   /* waits while all records are in flight */
      report_committed (&p, done, n_segments, &reported, progress, progress_data, run_id);
      cancelled = g_cancellable_is_cancelled (cancellable);
      if (cancelled || g_atomic_int_get (&p.failed))
        {
          g_async_queue_push (p.empty, rec);
          break;
        }
      size_t begin = (size_t) t * segment_len;
      gssize n = ms_text_reader_read (input, tokens, (size_t) segment_len, &step_error);
      if (n == 0)   /* the file shrank since it was measured */
        g_set_error (&step_error, MS_ERROR, MS_ERROR_INPUT, "%s: the input ended at token %zu, before segment %d",
                     input_path, begin, t);
      if (n <= 0)
        {
          g_async_queue_push (p.empty, rec);
          break;
        }
      size_t text_len;
      guint64 byte_begin;
      const uint8_t *text = ms_text_reader_get_text (input, &text_len, &byte_begin);
      if (!ms_segment_record_start (rec, t, tokens, begin, (int) n, text, text_len,
                                    ms_text_reader_get_token_ends (input), byte_begin, t + 1 == n_segments))
        {
          g_set_error (&step_error, MS_ERROR, MS_ERROR_IO, "%s: not enough memory for the %zu bytes of segment %d",
                       path, text_len, t);
          g_async_queue_push (p.empty, rec);
          break;
        }
      p.filling = rec;
      if (!ms_session_step (session, tokens, (int) n, NULL, &step_error))
        {
          g_async_queue_push (p.empty, rec);
          break;
        }
      add_to_batch (&p, rec);
    }
  /* Let the writer thread finish what was stepped, reporting each commit
   * as it hands the record back. */
  add_to_batch (&p, &p.end_of_run);
  hand_over (&p);
  for (int i = 0; i < p.n_records; i++)
    {
      g_async_queue_pop (p.empty);   /* every record comes back, committed or (after a failure) not */
      report_committed (&p, done, n_segments, &reported, progress, progress_data, run_id);
    }
  g_thread_join (g_steal_pointer (&p.thread));
  report_committed (&p, done, n_segments, &reported, progress, progress_data, run_id);

  if (run_id)
    *run_id = p.run_id;

  /* The writer's failure comes first: later segments were never written. */
  int committed = done + p.committed;
  gboolean ok = FALSE;
  if (p.failed && p.run_id == 0)
    /* The run was never created.  The segments stepped meanwhile are
     * dropped, and so is a step error. */
    g_propagate_error (error, g_steal_pointer (&p.error));
  else if (p.failed)
    g_set_error (error, p.error->domain, p.error->code, "%s; the run keeps its %d committed segments and can be "
                 "resumed (run %" G_GINT64_FORMAT ")", p.error->message, committed, p.run_id);
  else if (step_error)
    g_propagate_error (error, g_steal_pointer (&step_error));
  else if (cancelled)
    g_set_error (error, MS_ERROR, MS_ERROR_CANCELLED, "%s: run %" G_GINT64_FORMAT " cancelled after %d of %d "
                 "segments; resume it to continue", path, p.run_id, committed, n_segments);
  else
    ok = TRUE;
  if (opts->nonfinite)
    g_strlcpy (opts->nonfinite, ms_session_get_nonfinite (session) ? ms_session_get_nonfinite (session) : "",
               MS_NONFINITE_LEN);
  pipeline_clear (&p);
  return ok;
}
