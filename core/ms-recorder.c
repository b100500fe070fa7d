/* ms-recorder.c — writing runs into a recording (see ms-recorder.h and the
 * schema in ms-db.h).
 *
 * Two threads share the work.  The calling thread steps the session; its
 * observer only copies each observation into a SegmentRecord.  A writer
 * thread takes finished records in order and turns each into one
 * transaction: the f16 conversion, the derived retention (computed from the
 * same observations, so analysis never re-reads BLOBs) and every SQLite
 * insert happen there, beside the next segment's inference.  A new run is
 * created by the writer too, before its first segment, so hashing the
 * model and input files (GLib's SHA-256 here: 13 and 34 ms for the small
 * benchmark models, 1.0 and 1.6 s for the paper-size ones of 152 and
 * 206 MB) overlaps the first segments, as many as there are records.  The
 * files are hashed a little after they were read, as they always were
 * (now up to that long after).  A fixed set of
 * records circulates between two queues (RECORDS_BUDGET), so memory stays
 * constant and the model never runs more than that far ahead of the
 * database; a killed process loses only segments that were never
 * committed, which resuming steps again. */
#include "ms-recorder.h"
#include "ms-analysis.h"
#include "ms-db.h"
#include "ms-error.h"
#include "ms-half.h"
#include "ms-text.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Records circulating between the stepping and the writing thread: as
 * many as fit in RECORDS_BUDGET bytes, up to 64, and at least one (then
 * stepping and writing take turns: a huge model's record may be larger
 * than the budget by itself).  Enough to ride out a WAL checkpoint
 * (the writer copies the log into the database and syncs both) without
 * stopping the model: with 3 records, the paired-median overhead of the
 * small RMT benchmark was 17.5%; with 48, 11.7–12.9% (bench-record, 15
 * repeats, on an earlier build that checkpointed every 32 MiB). */
#define RECORDS_BUDGET (32u << 20)
#define RECORDS_MAX 64

typedef struct {
  MsObsKind kind;
  int layer;
  int shape[3];
  size_t offset;               /* into SegmentRecord.attn_data */
} AttnCopy;

/* One stepped segment: copies of its observations. */
typedef struct _SegmentRecord {
  int segment;                 /* −1: the end of the run, the writer stops */
  size_t token_begin;
  int n_tokens;
  gboolean last;
  float *memory_in;            /* (K, d) M_t */
  float *memory_out;           /* (K, d) M_{t+1} */
  float *nll;                  /* (L) */
  AttnCopy *attn;              /* the attention observations, in the order offered */
  int n_attn;
  float *attn_data;            /* their matrices, back to back */
  size_t attn_used;
  struct _SegmentRecord *next; /* the next record of its hand-over batch, in segment order */
} SegmentRecord;

typedef struct {
  /* Borrowed */
  const char *path;
  sqlite3 *db;                 /* used by one thread at a time: the writer while it runs */
  const MsConfig *config;
  const int32_t *tokens;       /* the whole input */
  gint64 run_id;               /* 0 until the run exists; set by the writer for a new run */
  MsAttnStore attn;
  /* A new run, which the writer creates before its first segment (hashing
   * a large model file takes a while; the model steps meanwhile) */
  struct {
    MsModel *model;
    const char *input_path;
    const MsRecordOptions *opts;
    size_t n_tokens;
    int segment_len, n_segments;
    float *initial_memory;     /* owned: M_0, copied before the first step */
  } create;
  /* Owned, the writer's */
  sqlite3_stmt *insert_attention;
  sqlite3_stmt *insert_segment;
  sqlite3_stmt *insert_memory;
  sqlite3_stmt *complete_run;
  uint16_t *half;              /* (max matrix) f16 staging for one head */
  uint8_t *text;               /* (L) the segment's bytes */
  float *read_usage;           /* (K) mean over layers */
  float *cos_prev;             /* (K) */
  MsWriteDistribution *write;
  GError *error;               /* the writer's first failure; read after joining it */
  /* The pipeline */
  SegmentRecord *records;
  int n_records;
  SegmentRecord end_of_run;    /* segment −1 */
  int max_attn;                /* attention observations per segment */
  size_t max_attn_floats;      /* and their floats */
  SegmentRecord *filling;      /* the stepping thread's, during a step */
  GAsyncQueue *empty;          /* records ready to fill */
  GAsyncQueue *stepped;        /* batches of records ready to write, in segment order */
  SegmentRecord *batch, **batch_tail;   /* stepped, not yet handed over */
  int batch_len, batch_max;
  GThread *writer;
  int committed;               /* atomic: segments the writer committed */
  gint64 *run_id_out;          /* the caller's, told the run id with the first commit's progress */
  int failed;                  /* atomic: the writer stopped on an error */
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
    case MS_OBS_RMT_WRITE:
      /* Retention needs only the last layer's write rows. */
      if (r->attn == MS_ATTN_STORE_NONE && obs->layer != c->n_layers - 1)
        return;
      break;
    case MS_OBS_READER:
    case MS_OBS_WRITER:
    case MS_OBS_RMT_READ:
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

static gboolean store_initial_memory (Recorder *r);
static void bind_run (Recorder *r, gint64 run_id);

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
    bind_run (r, id);
  if (id < 0 || !store_initial_memory (r) || !ms_db_exec (r->db, r->path, "COMMIT", error))
    {
      sqlite3_exec (r->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  r->run_id = id;
  return TRUE;
}

/* Looks up @run_id for resuming: checks the files against it and returns
 * its stored settings. */
static gboolean
load_run_for_resume (Recorder *r, MsModel *model, const char *input_path, gint64 run_id, int *segment_len,
                     int *n_segments, int *segments_done, GError **error)
{
  sqlite3_stmt *st;
  const char *sql = "SELECT m.sha256, r.input_sha256, r.segment_len, r.n_segments, " MS_DB_SEGMENTS_DONE ("r.id") ","
                    " r.attn_dtype, r.status FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?1";
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
  if (sqlite3_prepare_v2 (r->db, "SELECT rows, cols, data FROM memory WHERE id = " MS_DB_SEGMENT_KEY ("?1", "?2 + 1"),
                          -1, &st, NULL) != SQLITE_OK)
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
  /* The keys are the rowids (ms-db.h) */
  static const char *const sql[] = {
    "INSERT INTO attention (run_id, segment, kind, layer, head, rows, cols, dtype, data)"
    " VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "INSERT INTO segments (id, run_id, idx, token_begin, token_end, text, nll, n_predicted, total_nll, memory_delta,"
    " transfer, old_share, token_share, cos_prev, read_usage, attn_first, attn_count)"
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
static void
bind_run (Recorder *r, gint64 run_id)
{
  sqlite3_stmt *all[] = { r->insert_attention, r->insert_segment, r->insert_memory, r->complete_run };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    sqlite3_bind_int64 (all[i], 9, run_id);
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
      sqlite3_bind_text (st, 2, obs_kind_name (a->kind), -1, SQLITE_STATIC);
      sqlite3_bind_int (st, 3, a->layer < 0 ? 0 : a->layer);
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
  memset (r->read_usage, 0, c->n_slots * sizeof (float));
  for (int i = 0; i < rec->n_attn; i++)
    {
      const AttnCopy *a = &rec->attn[i];
      const float *m = rec->attn_data + a->offset;
      if (a->kind == MS_OBS_READER || a->kind == MS_OBS_RMT_READ)
        ms_read_usage_accumulate (m, a->shape[0], a->shape[1], a->shape[2], r->read_usage);
      else if (a->kind == MS_OBS_WRITER)
        ms_write_distribution_from_memformer (r->write, m, a->shape[0], a->shape[1], a->shape[2] - 1);
      else if (a->kind == MS_OBS_RMT_WRITE && a->layer == c->n_layers - 1)
        ms_write_distribution_from_rmt (r->write, m, a->shape[0], a->shape[1], a->shape[2] - 2 * a->shape[1]);
    }
  int n_layers = c->arch == MS_ARCH_MEMFORMER ? c->n_enc_layers : c->n_layers;
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
  if (c->arch == MS_ARCH_RMT)
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

/* The writer is background work: as a SCHED_BATCH thread (Linux; same
 * share of the CPU, no privileges needed) it does not preempt the model's
 * threads when a record wakes it, only at the scheduler's tick or when
 * they wait.  A kernel worker preempted in the middle of its item stalls
 * the whole parallel kernel.  Small RMT on two kernel threads, paired-median
 * overhead over two rounds of 9 (bench-record, 400 segments): 26.1% and
 * 28.9% as a batch thread, against 28.8% and 31.2% as a normal one. */
static void
become_background_thread (void)
{
#ifdef SCHED_BATCH
  struct sched_param param = { 0 };
  pthread_setschedparam (pthread_self (), SCHED_BATCH, &param);   /* best effort */
#endif
}

/* Writes stepped records in order until the end-of-run record; after a
 * failure it only hands records back, so the stepping thread never waits
 * forever. */
static gpointer
writer_main (gpointer data)
{
  Recorder *r = data;
  become_background_thread ();
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

/* ---- the pipeline ----------------------------------------------------- */

/* Allocates the records and the writer's scratch for @c's largest segment;
 * FALSE (and @error naming the database) when memory runs out. */
static gboolean
pipeline_init (Recorder *r, GError **error)
{
  const MsConfig *c = r->config;
  size_t K = c->n_slots, L = c->segment_len, H = c->n_heads, T = 2 * K + L;
  size_t state = K * c->d_model;
  if (c->arch == MS_ARCH_MEMFORMER)
    {
      r->max_attn = c->n_enc_layers + 1;
      r->max_attn_floats = H * (c->n_enc_layers * L * K + K * (1 + L));
    }
  else
    {
      r->max_attn = 2 * c->n_layers;
      r->max_attn_floats = H * c->n_layers * (L * K + K * T);
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
      rec->attn = g_try_new (AttnCopy, r->max_attn);
      rec->attn_data = g_try_new (float, r->max_attn_floats);
      ok = rec->memory_in && rec->memory_out && rec->nll && rec->attn && rec->attn_data;
      g_async_queue_push (r->empty, rec);
    }
  r->half = g_try_new (uint16_t, MAX (L * MAX (K, L), MAX (K * (1 + L), K * T)));
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

  /* Checkpoint (copy the WAL into the file, with an fsync) every 256 pages:
   * 2 MiB of log with the 8 KiB pages of new files (1 MiB in files from
   * schema 1, 4 MiB in those made with 16 KiB pages), about 14 small-RMT
   * segments of 18.7 pages (512 pages made no difference to the writer).
   * The writer's records ride out each checkpoint; what the model does
   * wait for is the last one, when the recording closes: 10–13 ms after
   * 400 small-RMT segments here (schema 2, 16 KiB pages), against 39–49 ms
   * with 2048 pages (32 MiB).
   * Cache what each segment's inserts touch again (the B-trees' interior
   * pages and last leaves). */
  sqlite3_exec (r.db, "PRAGMA wal_autocheckpoint = 256; PRAGMA cache_size = -32768;", NULL, NULL, NULL);

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
      gboolean ok = load_run_for_resume (&r, model, input_path, resume_run, &segment_len, &n_segments, &done, error)
                    && replay_last_committed (&r, session, tokens, n_tokens, segment_len, done, error);
      if (run_id)
        *run_id = r.run_id;
      if (!ok)
        {
          recorder_clear (&r);
          return FALSE;
        }
      bind_run (&r, r.run_id);
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
  guint kinds = MS_OBS_MEMORY_IN | MS_OBS_MEMORY_OUT | MS_OBS_NLL
                | (c->arch == MS_ARCH_MEMFORMER ? MS_OBS_READER | MS_OBS_WRITER : MS_OBS_RMT_READ | MS_OBS_RMT_WRITE);
  ms_session_set_observer (session, kinds, observe, &r);
  g_autoptr (GError) thread_error = NULL;
  if (pipeline_init (&r, error)
      && !(r.writer = g_thread_try_new ("memscope-recorder", writer_main, &r, &thread_error)))
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
