/* ms-recorder-writer.c — the recorder's writer thread and the statements
 * on the recording's tables: the run's rows (creating a run, checking one
 * before it is resumed, replaying its last committed segment) and the one
 * transaction per segment that commits a stepped record (see
 * ms-recorder.c for how records reach this thread and for the connection's
 * settings, ms-db.h for the schema).  Preparing the statements and resuming
 * run on the calling thread, before the writer thread starts; the
 * connection is used by one thread at a time. */
#include "ms-recorder-private.h"
#include "ms-db.h"
#include "ms-error.h"
#include "ms-half.h"
#include "ms-parallel.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

static gboolean
step_done (Recorder *r, sqlite3_stmt *st, const char *what)
{
  int rc = sqlite3_step (st);
  sqlite3_reset (st);   /* bindings stay: the run id (?9) is bound once */
  if (rc != SQLITE_DONE && !r->error)
    ms_db_fail (r->db, r->path, what, &r->error);
  return rc == SQLITE_DONE;
}

/* ---- the prepared statements ------------------------------------------- */

gboolean
ms_recorder_prepare_statements (Recorder *r, GError **error)
{
  /* The keys are the rowids (ms-db.h) */
  static const char *const sql[] = {
    "INSERT INTO attention (run_id, segment, kind, layer, head, rows, cols, dtype, data)"
    " VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "INSERT INTO segments (id, run_id, segment, token_begin, token_end, text, nll, n_predicted, total_nll,"
    " memory_delta, transfer, retention, token_share, representation, read_usage, attn_first, attn_count)"
    " VALUES (" MS_DB_SEGMENT_KEY ("?9", "?1") ", ?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    "INSERT INTO memory (id, run_id, segment, rows, cols, data)"
    " VALUES (" MS_DB_SEGMENT_KEY ("?9", "?1 + 1") ", ?9, ?1, ?2, ?3, ?4)",
    "UPDATE runs SET status = 'complete', finished = ?1 WHERE id = ?9",
  };
  sqlite3_stmt **slots[] = { &r->insert_attention, &r->insert_segment, &r->insert_memory, &r->complete_run };
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    if (sqlite3_prepare_v3 (r->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, slots[i], NULL) != SQLITE_OK)
      return ms_db_fail (r->db, r->path, "preparing statements", error);
  return TRUE;
}

/* Every statement takes the run id as ?9, bound once per run. */
void
ms_recorder_bind_run (Recorder *r, gint64 run_id)
{
  sqlite3_stmt *all[] = { r->insert_attention, r->insert_segment, r->insert_memory, r->complete_run };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    sqlite3_bind_int64 (all[i], 9, run_id);
}

/* ---- run rows --------------------------------------------------------- */

static char *
file_sha256 (const char *path, GError **error)
{
  g_autoptr (GError) read_error = NULL;
  g_autoptr (GMappedFile) f = g_mapped_file_new (path, FALSE, &read_error);
  if (!f)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read it to record its SHA-256 (%s)", path,
                   read_error->message);
      return NULL;
    }
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) g_mapped_file_get_contents (f),
                                      g_mapped_file_get_length (f));
}

static gint64
ensure_model_row (Recorder *r, MsModel *model, const char *sha, GError **error)
{
  sqlite3_stmt *st;
  const char *sql = "INSERT INTO models (path, sha256, arch, config, source) VALUES (?1, ?2, ?3, ?4, ?5) "
                    "ON CONFLICT (sha256, path) DO UPDATE SET path = excluded.path RETURNING id";
  if (sqlite3_prepare_v2 (r->db, sql, -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (r->db, r->path, "registering the model", error), -1;
  sqlite3_bind_text (st, 1, ms_model_get_path (model), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, sha, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, ms_config_get_arch (r->config), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, ms_model_get_metadata (model, "memscope.config"), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, ms_model_get_metadata (model, "memscope.source"), -1, SQLITE_STATIC);
  gint64 id = -1;
  if (sqlite3_step (st) == SQLITE_ROW)
    id = sqlite3_column_int64 (st, 0);
  else
    ms_db_fail (r->db, r->path, "registering the model", error);
  sqlite3_finalize (st);
  return id;
}

static gboolean
store_initial_memory (Recorder *r)
{
  const MsConfig *c = r->config;
  sqlite3_bind_int (r->insert_memory, 1, -1);
  sqlite3_bind_int (r->insert_memory, 2, c->n_slots);
  sqlite3_bind_int (r->insert_memory, 3, c->d_model);
  sqlite3_bind_blob (r->insert_memory, 4, r->create.initial_memory, c->n_slots * c->d_model * 4, SQLITE_STATIC);
  return step_done (r, r->insert_memory, "writing the initial memory");
}

/* Creates the run r->create describes, with its initial memory, in one
 * transaction; on the writer thread.  Sets r->run_id once it is committed;
 * a failure is r->error. */
static gboolean
create_run (Recorder *r)
{
  MsModel *model = r->create.model;
  const MsRecordOptions *opts = r->create.opts;
  GError **error = &r->error;
  g_autofree char *model_sha = file_sha256 (ms_model_get_path (model), error);
  g_autofree char *input_sha = model_sha ? file_sha256 (r->create.input_path, error) : NULL;
  if (!input_sha || !ms_db_exec (r->db, r->path, "BEGIN IMMEDIATE", error))
    return FALSE;
  gint64 model_id = ensure_model_row (r, model, model_sha, error);
  if (model_id < 0)
    {
      sqlite3_exec (r->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  g_autofree char *model_base = g_path_get_basename (ms_model_get_path (model));
  g_autofree char *input_base = g_path_get_basename (r->create.input_path);
  g_autofree char *name = opts->name ? g_strdup (opts->name) : g_strdup_printf ("%s on %s", model_base, input_base);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  sqlite3_stmt *st;
  const char *sql = "INSERT INTO runs (name, model_id, input_path, input_sha256, n_tokens, segment_len, n_segments,"
                    " attn_dtype, status, created, writer_pid, writer_host)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'incomplete', ?9, ?10, ?11)";
  gint64 id = -1;
  if (sqlite3_prepare_v2 (r->db, sql, -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 2, model_id);
      sqlite3_bind_text (st, 3, r->create.input_path, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 4, input_sha, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 5, (gint64) r->create.n_tokens);
      sqlite3_bind_int (st, 6, r->create.segment_len);
      sqlite3_bind_int (st, 7, r->create.n_segments);
      sqlite3_bind_text (st, 8, ms_attn_store_name (opts->attn), -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 9, created, -1, SQLITE_STATIC);
      sqlite3_bind_int (st, 10, (int) getpid ());
      sqlite3_bind_text (st, 11, g_get_host_name (), -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_DONE)
        id = sqlite3_last_insert_rowid (r->db);
      sqlite3_finalize (st);
    }
  if (id < 0)
    ms_db_fail (r->db, r->path, "creating the run", error);
  else
    ms_recorder_bind_run (r, id);
  if (id < 0 || !store_initial_memory (r) || !ms_db_exec (r->db, r->path, "COMMIT", error))
    {
      sqlite3_exec (r->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  r->run_id = id;
  return TRUE;
}

gboolean
ms_recorder_load_run_for_resume (Recorder *r, MsModel *model, const char *input_path, gint64 run_id,
                                 int *segment_len, int *n_segments, int *segments_done, GError **error)
{
  sqlite3_stmt *st;
  const char *sql = "SELECT m.sha256, r.input_sha256, r.segment_len, r.n_segments, " MS_DB_SEGMENTS_DONE ("r.id") ","
                    " r.attn_dtype, r.status FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?1";
  if (sqlite3_prepare_v2 (r->db, sql, -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (r->db, r->path, "reading the run", error);
  sqlite3_bind_int64 (st, 1, run_id);
  gboolean ok = FALSE;
  int rc = ms_db_step (st, r->path, "reading the run to resume", error);
  MsRunStatus status;
  if (rc == SQLITE_DONE)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: there is no run %" G_GINT64_FORMAT, r->path, run_id);
  else if (rc == SQLITE_ROW
           && (!ms_run_status_parse_stored ((const char *) sqlite3_column_text (st, 6), &status)
               || !ms_attn_store_parse ((const char *) sqlite3_column_text (st, 5), &r->attn)))
    g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT " has a status or attention storage "
                 "Memscope does not write", r->path, run_id);
  else if (rc == SQLITE_ROW)
    {
      g_autofree char *model_sha = file_sha256 (ms_model_get_path (model), error);
      g_autofree char *input_sha = model_sha ? file_sha256 (input_path, error) : NULL;
      if (!input_sha)
        ;
      else if (g_strcmp0 (model_sha, (const char *) sqlite3_column_text (st, 0)) != 0)
        g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " was recorded with another "
                     "model file than %s (SHA-256 differs)", r->path, run_id, ms_model_get_path (model));
      else if (g_strcmp0 (input_sha, (const char *) sqlite3_column_text (st, 1)) != 0)
        g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " was recorded on another "
                     "input than %s (SHA-256 differs)", r->path, run_id, input_path);
      else if (status == MS_RUN_COMPLETE)
        g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " is already complete",
                     r->path, run_id);
      else
        {
          *segment_len = sqlite3_column_int (st, 2);
          *n_segments = sqlite3_column_int (st, 3);
          *segments_done = sqlite3_column_int (st, 4);
          r->run_id = run_id;
          ok = TRUE;
        }
    }
  sqlite3_finalize (st);
  return ok;
}

/* Brings @session to where run r->run_id stood after its @done committed
 * segments: segment done − 1 is stepped again from its input memory, the
 * stored memory of segment done − 2 (−1: the initial memory).  Nothing but
 * the segments themselves is stored for resuming. */
gboolean
ms_recorder_replay_last_committed (Recorder *r, MsSession *session, const int32_t *tokens, size_t n_tokens,
                                   int segment_len, int done, GError **error)
{
  if (done == 0)
    return TRUE;
  const MsConfig *c = r->config;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (r->db, "SELECT rows, cols, data FROM memory WHERE id = " MS_DB_SEGMENT_KEY ("?1", "?2 + 1"),
                          -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (r->db, r->path, "reading the memory to resume from", error);
  sqlite3_bind_int64 (st, 1, r->run_id);
  sqlite3_bind_int (st, 2, done - 2);
  gboolean ok = FALSE;
  int rc = ms_db_step (st, r->path, "reading the memory to resume from", error);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    ;
  else if (rc == SQLITE_ROW && sqlite3_column_int (st, 0) == c->n_slots
      && sqlite3_column_int (st, 1) == c->d_model
      && sqlite3_column_bytes (st, 2) == c->n_slots * c->d_model * (int) sizeof (float))
    {
      size_t begin = (size_t) (done - 1) * segment_len;
      ok = ms_session_replay_segment (session, done - 1, sqlite3_column_blob (st, 2), tokens + begin,
                                      (int) MIN ((size_t) segment_len, n_tokens - begin), error);
    }
  else
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no %d × %d memory state for "
                 "segment %d, which resuming it needs", r->path, r->run_id, c->n_slots, c->d_model, done - 2);
  sqlite3_finalize (st);
  return ok;
}

/* ---- the writer thread: one transaction per segment ------------------- */

/* One BLOB per head of an (H, rows, cols) attention copy. */
static gboolean
store_attention (Recorder *r, const SegmentRecord *rec, const AttnCopy *a)
{
  int H = a->shape[0], rows = a->shape[1], cols = a->shape[2];
  size_t per_head = (size_t) rows * cols;
  sqlite3_stmt *st = r->insert_attention;
  for (int h = 0; h < H; h++)
    {
      const float *m = rec->attn_data + a->offset + h * per_head;
      sqlite3_bind_int (st, 1, rec->segment);
      sqlite3_bind_text (st, 2, ms_obs_kind_stored_name (a->kind), -1, SQLITE_STATIC);
      sqlite3_bind_int (st, 3, a->layer < 0 ? 0 : a->layer);
      sqlite3_bind_int (st, 4, h);
      sqlite3_bind_int (st, 5, rows);
      sqlite3_bind_int (st, 6, cols);
      if (r->attn == MS_ATTN_STORE_F16)
        {
          ms_floats_to_half_le (m, r->half, per_head);
          sqlite3_bind_text (st, 7, ms_attn_store_name (MS_ATTN_STORE_F16), -1, SQLITE_STATIC);
          sqlite3_bind_blob (st, 8, r->half, (int) (per_head * 2), SQLITE_STATIC);
        }
      else
        {
          sqlite3_bind_text (st, 7, ms_attn_store_name (MS_ATTN_STORE_F32), -1, SQLITE_STATIC);
          sqlite3_bind_blob (st, 8, m, (int) (per_head * 4), SQLITE_STATIC);
        }
      if (!step_done (r, st, "writing attention"))
        return FALSE;
    }
  return TRUE;
}

/* The derived quantities of ms-analysis.h, from the segment's copies. */
static void
analyse_segment (Recorder *r, const SegmentRecord *rec)
{
  const MsConfig *c = r->config;
  const MsAttentionLayout *read = ms_engine_find_attention_by_role (c->engine, MS_ATTENTION_READ);
  const MsAttentionLayout *write = ms_engine_find_attention_by_role (c->engine, MS_ATTENTION_WRITE);
  int write_layer = write ? ms_attention_layout_last_layer (write, c) : -1;
  memset (r->read_usage, 0, c->n_slots * sizeof (float));
  for (int i = 0; i < rec->n_attn; i++)
    {
      const AttnCopy *a = &rec->attn[i];
      const float *m = rec->attn_data + a->offset;
      if (read && a->kind == read->kind)
        ms_read_usage_accumulate_attention (read, m, a->shape[0], rec->n_tokens, c->n_slots, r->read_usage);
      else if (write && a->kind == write->kind && a->layer == write_layer)
        ms_write_distribution_from_attention (r->write, write, m, a->shape[0], c->n_slots, rec->n_tokens);
    }
  int n_layers = read ? ms_attention_layout_n_layers (read, c) : 1;
  for (int i = 0; i < c->n_slots; i++)
    r->read_usage[i] /= n_layers;
  ms_memory_slot_cosine (rec->memory_in, rec->memory_out, c->n_slots, c->d_model, r->cos_prev);
}

static gboolean
insert_segment_rows (Recorder *r, const SegmentRecord *rec)
{
  const MsConfig *c = r->config;
  int n = rec->n_tokens, K = c->n_slots, t = rec->segment;
  /* The segment's matrices get consecutive rowids: nothing else writes
   * inside this transaction. */
  gint64 attn_first = 0;
  int attn_count = 0;
  for (int i = 0; i < rec->n_attn && r->attn != MS_ATTN_STORE_NONE; i++)
    {
      if (!store_attention (r, rec, &rec->attn[i]))
        return FALSE;
      if (attn_count == 0)
        attn_first = sqlite3_last_insert_rowid (r->db) - (rec->attn[i].shape[0] - 1);
      attn_count += rec->attn[i].shape[0];
    }

  sqlite3_bind_int (r->insert_memory, 1, t);
  sqlite3_bind_int (r->insert_memory, 2, K);
  sqlite3_bind_int (r->insert_memory, 3, c->d_model);
  sqlite3_bind_blob (r->insert_memory, 4, rec->memory_out, K * c->d_model * 4, SQLITE_STATIC);
  if (!step_done (r, r->insert_memory, "writing the memory state"))
    return FALSE;

  double total = 0;
  int n_predicted = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (rec->nll[i]))
      total += rec->nll[i], n_predicted++;
  for (int i = 0; i < n; i++)
    r->text[i] = (uint8_t) r->tokens[rec->token_begin + i];
  sqlite3_stmt *st = r->insert_segment;
  sqlite3_bind_int (st, 1, t);
  sqlite3_bind_int64 (st, 2, (gint64) rec->token_begin);
  sqlite3_bind_int64 (st, 3, (gint64) (rec->token_begin + n));
  sqlite3_bind_blob (st, 4, r->text, n, SQLITE_STATIC);
  sqlite3_bind_blob (st, 5, rec->nll, n * 4, SQLITE_STATIC);
  sqlite3_bind_int (st, 6, n_predicted);
  sqlite3_bind_double (st, 7, total);
  sqlite3_bind_double (st, 8, ms_memory_relative_change (rec->memory_in, rec->memory_out, (size_t) K * c->d_model));
  /* A diagonal transfer follows from the retention (ms_recording_transfer) */
  const MsAttentionLayout *write = ms_engine_find_attention_by_role (c->engine, MS_ATTENTION_WRITE);
  if (write && !ms_attention_layout_transfer_is_diagonal (write))
    sqlite3_bind_blob (st, 10, r->write->transfer, K * K * 4, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, 10);
  sqlite3_bind_blob (st, 11, r->write->old_share, K * 4, SQLITE_STATIC);
  sqlite3_bind_blob (st, 12, r->write->token_share, K * 4, SQLITE_STATIC);
  sqlite3_bind_blob (st, 13, r->cos_prev, K * 4, SQLITE_STATIC);
  sqlite3_bind_blob (st, 14, r->read_usage, K * 4, SQLITE_STATIC);
  if (attn_count > 0)
    sqlite3_bind_int64 (st, 15, attn_first);
  else
    sqlite3_bind_null (st, 15);
  sqlite3_bind_int (st, 16, attn_count);
  if (!step_done (r, st, "writing the segment"))
    return FALSE;
  if (!rec->last)
    return TRUE;

  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *finished = g_date_time_format_iso8601 (now);
  sqlite3_bind_text (r->complete_run, 1, finished, -1, SQLITE_STATIC);
  return step_done (r, r->complete_run, "completing the run");
}

/* Commits @rec in one transaction, or leaves the database as it was. */
static gboolean
write_segment (Recorder *r, const SegmentRecord *rec)
{
  if (!ms_db_exec (r->db, r->path, "BEGIN IMMEDIATE", &r->error))
    return FALSE;
  analyse_segment (r, rec);
  if (insert_segment_rows (r, rec) && sqlite3_exec (r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    return TRUE;
  if (!r->error)
    ms_db_fail (r->db, r->path, "committing a segment", &r->error);
  sqlite3_exec (r->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

/* Writes stepped records in order until the end-of-run record; after a
 * failure it only hands records back, so the stepping thread never waits
 * forever. */
gpointer
ms_recorder_writer_main (gpointer recorder)
{
  Recorder *r = recorder;
  /* A record waking the writer does not preempt the model's threads
   * (SCHED_BATCH; what it saves is in tests/bench/README.md). */
  ms_parallel_become_background_thread ();
  if (r->create.model && !create_run (r))
    g_atomic_int_set (&r->failed, 1);
  for (;;)
    for (SegmentRecord *rec = g_async_queue_pop (r->stepped), *next; rec; rec = next)
      {
        if (rec->segment < 0)
          return NULL;
        next = rec->next;
        if (!g_atomic_int_get (&r->failed))
          {
            if (write_segment (r, rec))
              g_atomic_int_inc (&r->committed);
            else
              g_atomic_int_set (&r->failed, 1);
          }
        g_async_queue_push (r->empty, rec);
      }
}
