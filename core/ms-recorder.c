/* ms-recorder.c — writing runs into a recording (see ms-recorder.h and the
 * schema in ms-db.h).  An observer on the session turns each observation
 * into rows of the open per-segment transaction; derived retention is
 * computed from the same observations, so analysis never re-reads BLOBs. */
#include "ms-recorder.h"
#include "ms-analysis.h"
#include "ms-db.h"
#include "ms-error.h"
#include "ms-half.h"
#include "ms-text.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  /* Borrowed */
  const char *path;
  sqlite3 *db;
  const MsConfig *config;
  gint64 run_id;
  MsAttnStore attn;
  /* Owned */
  sqlite3_stmt *insert_attention;
  sqlite3_stmt *insert_segment;
  sqlite3_stmt *insert_memory;
  sqlite3_stmt *insert_retention;
  sqlite3_stmt *update_run;
  uint16_t *half;              /* (max matrix) f16 staging for one head */
  float *memory_in;            /* (K, d) M_t */
  float *nll;                  /* (L) */
  float *read_usage;           /* (K) summed over layers */
  float *cos_prev;             /* (K) */
  MsWriteDistribution *write;
  int n_tokens;                /* L_t of the segment being recorded */
  GError *error;               /* first failure inside the observer */
} Recorder;

gboolean
ms_attn_store_parse (const char *text, MsAttnStore *out)
{
  if (g_strcmp0 (text, "f16") == 0)
    *out = MS_ATTN_STORE_F16;
  else if (g_strcmp0 (text, "f32") == 0)
    *out = MS_ATTN_STORE_F32;
  else if (g_strcmp0 (text, "none") == 0)
    *out = MS_ATTN_STORE_NONE;
  else
    return FALSE;
  return TRUE;
}

const char *
ms_attn_store_name (MsAttnStore store)
{
  return store == MS_ATTN_STORE_F16 ? "f16" : store == MS_ATTN_STORE_F32 ? "f32" : "none";
}

static const char *
obs_kind_name (MsObsKind kind)
{
  switch (kind)
    {
    case MS_OBS_READER: return "reader";
    case MS_OBS_WRITER: return "writer";
    case MS_OBS_RMT_READ: return "rmt_read";
    case MS_OBS_RMT_WRITE: return "rmt_write";
    default: return NULL;
    }
}

static gboolean
step_done (Recorder *r, sqlite3_stmt *st, const char *what)
{
  int rc = sqlite3_step (st);
  sqlite3_reset (st);   /* bindings stay: the run id (?9) is bound once */
  if (rc != SQLITE_DONE && !r->error)
    ms_db_fail (r->db, r->path, what, &r->error);
  return rc == SQLITE_DONE;
}

/* One BLOB per head of an (H, rows, cols) observation. */
static void
store_attention (Recorder *r, const MsObservation *obs)
{
  int H = obs->shape[0], rows = obs->shape[1], cols = obs->shape[2];
  size_t per_head = (size_t) rows * cols;
  for (int h = 0; h < H && !r->error; h++)
    {
      const float *m = obs->data + h * per_head;
      sqlite3_stmt *st = r->insert_attention;
      sqlite3_bind_int (st, 1, obs->segment);
      sqlite3_bind_text (st, 2, obs_kind_name (obs->kind), -1, SQLITE_STATIC);
      sqlite3_bind_int (st, 3, obs->layer < 0 ? 0 : obs->layer);
      sqlite3_bind_int (st, 4, h);
      sqlite3_bind_int (st, 5, rows);
      sqlite3_bind_int (st, 6, cols);
      if (r->attn == MS_ATTN_STORE_F16)
        {
          ms_floats_to_half_le (m, r->half, per_head);
          sqlite3_bind_text (st, 7, "f16", -1, SQLITE_STATIC);
          sqlite3_bind_blob (st, 8, r->half, (int) (per_head * 2), SQLITE_STATIC);
        }
      else
        {
          sqlite3_bind_text (st, 7, "f32", -1, SQLITE_STATIC);
          sqlite3_bind_blob (st, 8, m, (int) (per_head * 4), SQLITE_STATIC);
        }
      step_done (r, st, "writing attention");
    }
}

static void
observe (const MsObservation *obs, gpointer user_data)
{
  Recorder *r = user_data;
  const MsConfig *c = r->config;
  if (r->error)
    return;
  switch (obs->kind)
    {
    case MS_OBS_MEMORY_IN:
      memcpy (r->memory_in, obs->data, (size_t) c->n_slots * c->d_model * sizeof (float));
      memset (r->read_usage, 0, c->n_slots * sizeof (float));
      return;
    case MS_OBS_MEMORY_OUT:
      ms_memory_slot_cosine (r->memory_in, obs->data, c->n_slots, c->d_model, r->cos_prev);
      sqlite3_bind_int (r->insert_memory, 1, obs->segment);
      sqlite3_bind_int (r->insert_memory, 2, c->n_slots);
      sqlite3_bind_int (r->insert_memory, 3, c->d_model);
      sqlite3_bind_blob (r->insert_memory, 4, obs->data, c->n_slots * c->d_model * 4, SQLITE_TRANSIENT);
      step_done (r, r->insert_memory, "writing the memory state");
      return;
    case MS_OBS_NLL:
      r->n_tokens = obs->shape[0];
      memcpy (r->nll, obs->data, obs->shape[0] * sizeof (float));
      return;
    case MS_OBS_READER:
    case MS_OBS_RMT_READ:
      ms_read_usage_accumulate (obs->data, obs->shape[0], obs->shape[1], obs->shape[2], r->read_usage);
      break;
    case MS_OBS_WRITER:
      ms_write_distribution_from_memformer (r->write, obs->data, obs->shape[0], obs->shape[1], obs->shape[2] - 1);
      break;
    case MS_OBS_RMT_WRITE:
      if (obs->layer == c->n_layers - 1)
        ms_write_distribution_from_rmt (r->write, obs->data, obs->shape[0], obs->shape[1],
                                        obs->shape[2] - 2 * obs->shape[1]);
      break;
    default:
      return;
    }
  if (r->attn != MS_ATTN_STORE_NONE)
    store_attention (r, obs);
}

/* ---- run rows --------------------------------------------------------- */

static char *
file_sha256 (const char *path, GError **error)
{
  g_autoptr (GMappedFile) f = g_mapped_file_new (path, FALSE, error);
  if (!f)
    return NULL;
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
  sqlite3_bind_text (st, 3, ms_arch_name (r->config->arch), -1, SQLITE_STATIC);
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

static gint64
create_run (Recorder *r, MsModel *model, const char *input_path, const MsRecordOptions *opts,
            size_t n_tokens, int segment_len, int n_segments, GError **error)
{
  g_autofree char *model_sha = file_sha256 (ms_model_get_path (model), error);
  g_autofree char *input_sha = model_sha ? file_sha256 (input_path, error) : NULL;
  if (!input_sha)
    return -1;
  if (!ms_db_exec (r->db, r->path, "BEGIN IMMEDIATE", error))
    return -1;
  gint64 model_id = ensure_model_row (r, model, model_sha, error);
  if (model_id < 0)
    {
      sqlite3_exec (r->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  g_autofree char *model_base = g_path_get_basename (ms_model_get_path (model));
  g_autofree char *input_base = g_path_get_basename (input_path);
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
      sqlite3_bind_text (st, 3, input_path, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 4, input_sha, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 5, (gint64) n_tokens);
      sqlite3_bind_int (st, 6, segment_len);
      sqlite3_bind_int (st, 7, n_segments);
      sqlite3_bind_text (st, 8, ms_attn_store_name (opts->attn), -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 9, created, -1, SQLITE_STATIC);
      sqlite3_bind_int (st, 10, (int) getpid ());
      sqlite3_bind_text (st, 11, g_get_host_name (), -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_DONE)
        id = sqlite3_last_insert_rowid (r->db);
      sqlite3_finalize (st);
    }
  if (id < 0)
    {
      ms_db_fail (r->db, r->path, "creating the run", error);
      sqlite3_exec (r->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  r->run_id = id;
  return id;
}

/* Looks up @run_id for resuming: checks the files against it and returns
 * its stored settings. */
static gboolean
load_run_for_resume (Recorder *r, MsModel *model, const char *input_path, gint64 run_id, int *segment_len,
                     int *n_segments, int *segments_done, GError **error)
{
  sqlite3_stmt *st;
  const char *sql = "SELECT m.sha256, r.input_sha256, r.segment_len, r.n_segments, r.segments_done, r.attn_dtype,"
                    " r.status FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?1";
  if (sqlite3_prepare_v2 (r->db, sql, -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (r->db, r->path, "reading the run", error);
  sqlite3_bind_int64 (st, 1, run_id);
  gboolean ok = FALSE;
  if (sqlite3_step (st) != SQLITE_ROW)
    g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: there is no run %" G_GINT64_FORMAT, r->path, run_id);
  else
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
      else if (g_strcmp0 ((const char *) sqlite3_column_text (st, 6), "complete") == 0)
        g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " is already complete",
                     r->path, run_id);
      else
        {
          *segment_len = sqlite3_column_int (st, 2);
          *n_segments = sqlite3_column_int (st, 3);
          *segments_done = sqlite3_column_int (st, 4);
          ms_attn_store_parse ((const char *) sqlite3_column_text (st, 5), &r->attn);
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
static gboolean
replay_last_committed (Recorder *r, MsSession *session, const int32_t *tokens, size_t n_tokens, int segment_len,
                       int done, GError **error)
{
  if (done == 0)
    return TRUE;
  const MsConfig *c = r->config;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (r->db, "SELECT rows, cols, data FROM memory WHERE run_id = ?1 AND segment = ?2", -1, &st,
                          NULL) != SQLITE_OK)
    return ms_db_fail (r->db, r->path, "reading the memory to resume from", error);
  sqlite3_bind_int64 (st, 1, r->run_id);
  sqlite3_bind_int (st, 2, done - 2);
  gboolean ok = FALSE;
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int (st, 0) == c->n_slots
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

/* ---- per segment ------------------------------------------------------ */

static gboolean
prepare_statements (Recorder *r, GError **error)
{
  static const char *const sql[] = {
    "INSERT INTO attention (run_id, segment, kind, layer, head, rows, cols, dtype, data)"
    " VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "INSERT INTO segments (run_id, idx, token_begin, token_end, text, nll, n_predicted, total_nll, memory_delta,"
    " transfer) VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10)",
    "INSERT INTO memory (run_id, segment, rows, cols, data) VALUES (?9, ?1, ?2, ?3, ?4)",
    "INSERT INTO retention (run_id, segment, slot, old_share, token_share, cos_prev, read_usage)"
    " VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6)",
    "UPDATE runs SET segments_done = ?1, status = ?2, finished = ?3 WHERE id = ?9",
  };
  sqlite3_stmt **slots[] = { &r->insert_attention, &r->insert_segment, &r->insert_memory, &r->insert_retention,
                             &r->update_run };
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    if (sqlite3_prepare_v3 (r->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, slots[i], NULL) != SQLITE_OK)
      return ms_db_fail (r->db, r->path, "preparing statements", error);
  return TRUE;
}

/* Every statement takes the run id as ?9, bound once per run. */
static void
bind_run (Recorder *r)
{
  sqlite3_stmt *all[] = { r->insert_attention, r->insert_segment, r->insert_memory, r->insert_retention,
                          r->update_run };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    sqlite3_bind_int64 (all[i], 9, r->run_id);
}

static gboolean
finish_segment (Recorder *r, MsSession *session, int t, const int32_t *tokens, size_t begin, gboolean last)
{
  const MsConfig *c = r->config;
  int n = r->n_tokens, K = c->n_slots;
  double total = 0;
  int n_predicted = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (r->nll[i]))
      total += r->nll[i], n_predicted++;
  g_autofree uint8_t *text = g_new (uint8_t, n);
  for (int i = 0; i < n; i++)
    text[i] = (uint8_t) tokens[begin + i];
  int n_layers = c->arch == MS_ARCH_MEMFORMER ? c->n_enc_layers : c->n_layers;

  sqlite3_stmt *st = r->insert_segment;
  sqlite3_bind_int (st, 1, t);
  sqlite3_bind_int64 (st, 2, (gint64) begin);
  sqlite3_bind_int64 (st, 3, (gint64) (begin + n));
  sqlite3_bind_blob (st, 4, text, n, SQLITE_STATIC);
  sqlite3_bind_blob (st, 5, r->nll, n * 4, SQLITE_STATIC);
  sqlite3_bind_int (st, 6, n_predicted);
  sqlite3_bind_double (st, 7, total);
  sqlite3_bind_double (st, 8, ms_memory_relative_change (r->memory_in, ms_session_get_memory (session),
                                                         (size_t) K * c->d_model));
  if (c->arch == MS_ARCH_RMT)
    sqlite3_bind_blob (st, 10, r->write->transfer, K * K * 4, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, 10);
  if (!step_done (r, st, "writing the segment"))
    return FALSE;

  for (int i = 0; i < K; i++)
    {
      st = r->insert_retention;
      sqlite3_bind_int (st, 1, t);
      sqlite3_bind_int (st, 2, i);
      sqlite3_bind_double (st, 3, r->write->old_share[i]);
      sqlite3_bind_double (st, 4, r->write->token_share[i]);
      sqlite3_bind_double (st, 5, r->cos_prev[i]);
      sqlite3_bind_double (st, 6, r->read_usage[i] / n_layers);
      if (!step_done (r, st, "writing retention"))
        return FALSE;
    }

  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *finished = last ? g_date_time_format_iso8601 (now) : NULL;
  st = r->update_run;
  sqlite3_bind_int (st, 1, t + 1);
  sqlite3_bind_text (st, 2, last ? "complete" : "incomplete", -1, SQLITE_STATIC);
  if (finished)
    sqlite3_bind_text (st, 3, finished, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, 3);
  return step_done (r, st, "updating the run");
}

static gboolean
store_initial_memory (Recorder *r, MsSession *session)
{
  const MsConfig *c = r->config;
  sqlite3_bind_int (r->insert_memory, 1, -1);
  sqlite3_bind_int (r->insert_memory, 2, c->n_slots);
  sqlite3_bind_int (r->insert_memory, 3, c->d_model);
  sqlite3_bind_blob (r->insert_memory, 4, ms_session_get_memory (session), c->n_slots * c->d_model * 4,
                     SQLITE_STATIC);
  return step_done (r, r->insert_memory, "writing the initial memory");
}

static void
recorder_clear (Recorder *r)
{
  sqlite3_finalize (r->insert_attention);
  sqlite3_finalize (r->insert_segment);
  sqlite3_finalize (r->insert_memory);
  sqlite3_finalize (r->insert_retention);
  sqlite3_finalize (r->update_run);
  g_free (r->half);
  g_free (r->memory_in);
  g_free (r->nll);
  g_free (r->read_usage);
  g_free (r->cos_prev);
  g_clear_pointer (&r->write, ms_write_distribution_free);
  g_clear_error (&r->error);
  if (r->db)
    sqlite3_close (r->db);
}

gboolean
ms_record (const char *db_path, MsModel *model, const char *input_path, const MsRecordOptions *opts,
           gint64 resume_run, MsProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
           gint64 *run_id, GError **error)
{
  const MsConfig *c = ms_model_get_config (model);
  size_t n_tokens;
  g_autofree int32_t *tokens = ms_text_load_tokens (input_path, &n_tokens, error);
  if (!tokens)
    return FALSE;
  if (opts->segment_len < 0 || opts->segment_len > c->segment_len || opts->max_segments < 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "segment length %d is outside 1..%d, the segment_len of %s",
                   opts->segment_len, c->segment_len, ms_model_get_path (model));
      return FALSE;
    }

  Recorder r = { .path = db_path, .config = c, .attn = opts->attn };
  r.db = ms_db_open (db_path, TRUE, FALSE, error);
  if (!r.db || !prepare_statements (&r, error))
    {
      recorder_clear (&r);
      return FALSE;
    }

  /* Checkpoint (copy the WAL into the file, with an fsync) every 2048 pages
   * (32 MiB of log with the 16 KiB pages of new files, 8 MiB in files from
   * schema 1) rather than every 1000, and cache what each segment's inserts
   * touch again (the tables' index pages). */
  sqlite3_exec (r.db, "PRAGMA wal_autocheckpoint = 2048; PRAGMA cache_size = -32768;", NULL, NULL, NULL);

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
  gboolean ok;
  if (resume_run > 0)
    {
      ok = load_run_for_resume (&r, model, input_path, resume_run, &segment_len, &n_segments, &done, error)
           && replay_last_committed (&r, session, tokens, n_tokens, segment_len, done, error);
    }
  else
    {
      segment_len = opts->segment_len ? opts->segment_len : c->segment_len;
      n_segments = (int) ((n_tokens + segment_len - 1) / segment_len);
      if (opts->max_segments > 0)
        n_segments = MIN (n_segments, opts->max_segments);
      ok = create_run (&r, model, input_path, opts, n_tokens, segment_len, n_segments, error) > 0;
      if (ok)
        {
          bind_run (&r);
          ok = store_initial_memory (&r, session);
          if (!ok)
            g_propagate_error (error, g_steal_pointer (&r.error));
          ok = ok && ms_db_exec (r.db, db_path, "COMMIT", error);
          if (!ok)
            sqlite3_exec (r.db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
  if (run_id)
    *run_id = r.run_id;
  if (ok)
    bind_run (&r);
  if (!ok)
    {
      recorder_clear (&r);
      return FALSE;
    }

  int K = c->n_slots, L = c->segment_len, T = 2 * K + L;
  r.half = g_new (uint16_t, (size_t) MAX (L * MAX (K, L), MAX (K * (1 + L), K * T)));
  r.memory_in = g_new (float, (size_t) K * c->d_model);
  r.nll = g_new (float, L);
  r.read_usage = g_new0 (float, K);
  r.cos_prev = g_new (float, K);
  r.write = ms_write_distribution_new (K, L);
  guint kinds = MS_OBS_MEMORY_IN | MS_OBS_MEMORY_OUT | MS_OBS_NLL
                | (c->arch == MS_ARCH_MEMFORMER ? MS_OBS_READER | MS_OBS_WRITER : MS_OBS_RMT_READ | MS_OBS_RMT_WRITE);
  ms_session_set_observer (session, kinds, observe, &r);

  for (int t = done; ok && t < n_segments; t++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, MS_ERROR, MS_ERROR_CANCELLED, "%s: run %" G_GINT64_FORMAT " cancelled after %d of %d "
                       "segments; resume it to continue", db_path, r.run_id, t, n_segments);
          ok = FALSE;
          break;
        }
      size_t begin = (size_t) t * segment_len;
      int n = (int) MIN ((size_t) segment_len, n_tokens - begin);
      ok = ms_db_exec (r.db, db_path, "BEGIN IMMEDIATE", error);
      ok = ok && ms_session_step (session, tokens + begin, n, NULL, error);
      ok = ok && !r.error && finish_segment (&r, session, t, tokens, begin, t + 1 == n_segments);
      if (ok && sqlite3_exec (r.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        ok = ms_db_fail (r.db, db_path, "committing a segment", &r.error);
      if (!ok)
        {
          sqlite3_exec (r.db, "ROLLBACK", NULL, NULL, NULL);
          if (r.error)
            {
              g_autofree char *msg = g_strdup_printf ("%s; the run keeps its %d committed segments and can be "
                                                      "resumed (run %" G_GINT64_FORMAT ")", r.error->message, t,
                                                      r.run_id);
              g_set_error_literal (error, r.error->domain, r.error->code, msg);
            }
          break;
        }
      if (progress)
        progress (t + 1, n_segments, progress_data);
    }
  recorder_clear (&r);
  return ok;
}
