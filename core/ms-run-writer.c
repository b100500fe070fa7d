/* ms-run-writer.c — one run's rows in a recording (ms-run-writer.h; the
 * schema is in ms-db.h, the stored words in ms-recording-names.h). */
#include "ms-run-writer-private.h"
#include "ms-analysis.h"
#include "ms-db.h"
#include "ms-error.h"
#include "ms-half.h"
#include "ms-recorder.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static gint64 state_bytes (const MsRunWriter *w);

/* Rolls back the open transaction, if any (SQLite may have rolled it back
 * itself), and the writer's idea of the chunk it continues in with it. */
static void
rollback_uncommitted (MsRunWriter *w)
{
  if (!sqlite3_get_autocommit (w->db))
    sqlite3_exec (w->db, "ROLLBACK", NULL, NULL, NULL);
  w->uncommitted = 0;
  w->chunk = w->begin_chunk;
  w->new_chunk_open = FALSE;
}
static int chunk_capacity (gint64 state, gint64 page_size);

/* Steps a statement that returns no rows and resets it (its bindings stay). */
static gboolean
step_done (MsRunWriter *w, sqlite3_stmt *st, const char *what, GError **error)
{
  int rc = ms_db_step (st, w->path, what, error);
  sqlite3_reset (st);
  if (rc == SQLITE_ROW)
    g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: %s: a statement returned rows", w->path, what);
  return rc == SQLITE_DONE;
}

/* ---- opening ---------------------------------------------------------- */

static gboolean
prepare_statements (MsRunWriter *w, GError **error)
{
  /* The keys are the rowids (ms-db.h). */
  static const char *const sql[] = {
    "INSERT INTO attention (run_id, segment, kind, layer, head, rows, cols, dtype, data)"
    " VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "INSERT INTO segments (id, run_id, segment, token_begin, token_end, text, nll, n_predicted, total_nll,"
    " memory_delta, retention, token_share, representation, read_usage, attn_first, attn_count,"
    " byte_begin, token_ids, token_ends, gate)"
    " VALUES (" MS_DB_SEGMENT_KEY ("?9", "?1") ", ?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?11, ?12, ?13, ?14, ?15, ?16,"
    " ?17, ?18, ?19, ?20)",
    "INSERT INTO memory (id, run_id, segment, n_states, rows, cols, transfer, data)"
    " VALUES (" MS_DB_SEGMENT_KEY ("?9", "?1 + 1") ", ?9, ?1, ?2, ?3, ?4, ?5, ?6)",
    "UPDATE runs SET status = ?2, finished = ?1 WHERE id = ?9",
    "SAVEPOINT segment",
    "RELEASE segment",
    "SAVEPOINT chunk",
    "RELEASE chunk",
  };
  sqlite3_stmt **slots[] = { &w->insert_attention, &w->insert_segment, &w->insert_chunk, &w->complete_run,
                             &w->savepoint, &w->release, &w->chunk_savepoint, &w->chunk_release };
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    if (sqlite3_prepare_v3 (w->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, slots[i], NULL) != SQLITE_OK)
      return ms_db_fail (w->db, w->path, "preparing statements", error);
  sqlite3_bind_text (w->complete_run, 2, ms_run_status_name (MS_RUN_COMPLETE), -1, SQLITE_STATIC);
  return TRUE;
}

MsRunWriter *
ms_run_writer_open (const char *path, const MsConfig *config, GError **error)
{
  g_autoptr (MsRunWriter) w = g_new0 (MsRunWriter, 1);
  w->config = config;
  w->path = g_strdup (path);
  w->db = ms_db_open (path, TRUE, FALSE, error);
  if (!w->db || !prepare_statements (w, error))
    return NULL;

  /* Checkpoint (copy the WAL into the file, with the syncs ms-recorder.h
   * lists) every MS_RECORDER_CHECKPOINT_PAGES pages: 2 MiB of log with
   * the 8 KiB pages of new files.  Other cadences were no better for the
   * model (tests/bench/README.md); the recorder's records ride out each
   * checkpoint, and what the model does wait for is the last one, when the
   * recording closes, which a small cadence keeps short.  Each segment
   * written is a savepoint, which keeps the pages it changes that the
   * transaction's earlier segments wrote (the segments leaf) in a
   * sub-journal: in memory, that is a copy of a few pages, where SQLite's
   * default spills it to a temporary file written for every segment.  The
   * page cache is sized below, once the chunk's size is known. */
  sqlite3_exec (w->db, "PRAGMA wal_autocheckpoint = " G_STRINGIFY (MS_RECORDER_CHECKPOINT_PAGES) ";"
                "PRAGMA temp_store = MEMORY;", NULL, NULL, NULL);
  /* Test hook (fault injection, as SQLite's own tests do): cap the file
   * size so a real SQLITE_FULL happens after a few segments. */
  const char *max_pages = g_getenv ("MEMSCOPE_TEST_MAX_PAGE_COUNT");
  if (max_pages)
    {
      g_autofree char *pragma = g_strdup_printf ("PRAGMA max_page_count = %d", atoi (max_pages));
      sqlite3_exec (w->db, pragma, NULL, NULL, NULL);
    }

  MsSegmentRecordSizes sizes;
  ms_segment_record_sizes (config, MS_ATTN_STORE_F32, &sizes);   /* for max_matrix */
  size_t K = config->n_slots, L = config->segment_len;
  const MsAttentionLayout *write = ms_engine_find_attention_by_role (config->engine, MS_ATTENTION_WRITE);
  w->store_transfer = write && !ms_attention_layout_transfer_is_diagonal (write);
  for (int b = 0; write && b < write->n_col_blocks; b++)
    if (write->cols[b].extent != MS_BLOCK_TOKENS && !write->cols[b].old_memory)
      w->store_token_share = TRUE;
  gint64 page_size = 8192;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (w->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK)
    {
      if (sqlite3_step (st) == SQLITE_ROW)
        page_size = sqlite3_column_int64 (st, 0);
      sqlite3_finalize (st);
    }
  w->chunk_capacity = chunk_capacity (state_bytes (w), page_size);
  /* The page cache holds what a transaction writes — at most a full
   * chunk and the one before it, whose last pages it may share — and the
   * B-trees' interior pages and last leaves, which every segment touches
   * again, and little more: SQLite allocates a new page buffer for every
   * page until the cache is full, and each costs the process page faults,
   * so a cache larger than that makes every page written cost them. */
  g_autofree char *cache = g_strdup_printf ("PRAGMA cache_size = -%" G_GINT64_FORMAT,
                                            MAX (4096, 2 * w->chunk_capacity * state_bytes (w) / 1024 + 1024));
  sqlite3_exec (w->db, cache, NULL, NULL, NULL);
  w->half = g_try_new (uint16_t, sizes.max_matrix);
  w->read_usage = g_try_new (float, K);
  w->representation = g_try_new (float, K);
  w->narrow = g_try_new (guint8, 6 * K);
  w->no_write = ms_write_distribution_new (K, L);
  gsize C = (gsize) w->chunk_capacity, d = config->d_model;
  w->chunk_data = g_try_malloc_n (C, K * d * sizeof (float));
  w->chunk_transfer = w->store_transfer ? g_try_malloc_n (C, K * K * sizeof (float)) : NULL;
  if (!w->half || !w->read_usage || !w->representation || !w->narrow || !w->chunk_data
      || (w->store_transfer && !w->chunk_transfer))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: not enough memory to record this model (%zu floats per "
                   "attention matrix, %zu memory states per chunk)", path, sizes.max_matrix, C);
      return NULL;
    }
  return g_steal_pointer (&w);
}

void
ms_run_writer_free (MsRunWriter *w)
{
  if (!w)
    return;
  sqlite3_finalize (w->insert_attention);
  sqlite3_finalize (w->insert_segment);
  sqlite3_finalize (w->insert_chunk);
  sqlite3_finalize (w->complete_run);
  sqlite3_finalize (w->savepoint);
  sqlite3_finalize (w->release);
  sqlite3_finalize (w->chunk_savepoint);
  sqlite3_finalize (w->chunk_release);
  if (w->db)
    rollback_uncommitted (w);
  ms_db_close_shareable (w->db);
  g_free (w->path);
  g_free (w->half);
  g_free (w->read_usage);
  g_free (w->representation);
  g_free (w->narrow);
  g_free (w->chunk_data);
  g_free (w->chunk_transfer);
  g_clear_pointer (&w->no_write, ms_write_distribution_free);
  g_free (w);
}

gint64
ms_run_writer_get_run_id (const MsRunWriter *w)
{
  return w->run_id;
}

/* Every statement takes the run id as ?9. */
void
ms_run_writer_bind_run (MsRunWriter *w, gint64 run_id)
{
  sqlite3_stmt *all[] = { w->insert_attention, w->insert_segment, w->insert_chunk, w->complete_run };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    sqlite3_bind_int64 (all[i], 9, run_id);
}

/* ---- creating a run (resuming one: ms-run-writer-resume.c) ------------ */

/* Read in pieces rather than mapped, so hashing an input of any size
 * keeps a fixed amount of it in memory. */
char *
ms_run_writer_file_sha256 (const char *path, GError **error)
{
  FILE *f = fopen (path, "rb");
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (1 << 20);
  size_t got = 0;
  while (f && (got = fread (buf, 1, 1 << 20, f)) > 0)
    g_checksum_update (sum, buf, (gssize) got);
  int saved = errno;
  if (!f || ferror (f))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read it to record its SHA-256 (%s)", path,
                   g_strerror (saved));
      if (f)
        fclose (f);
      return NULL;
    }
  fclose (f);
  return g_strdup (g_checksum_get_string (sum));
}

/* The models row of @model (inserted when new); −1 on error. */
static gint64
ensure_model_row (MsRunWriter *w, MsModel *model, const char *sha, GError **error)
{
  sqlite3_stmt *st;
  const char *sql = "INSERT INTO models (path, sha256, arch, config, source) VALUES (?1, ?2, ?3, ?4, ?5) "
                    "ON CONFLICT (sha256, path) DO UPDATE SET path = excluded.path RETURNING id";
  if (sqlite3_prepare_v2 (w->db, sql, -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (w->db, w->path, "registering the model", error), -1;
  /* Absolute, so that a compact run's attention replays from any working
   * directory (ms-replay.c looks there first, then beside the recording). */
  g_autofree char *absolute = g_canonicalize_filename (ms_model_get_path (model), NULL);
  sqlite3_bind_text (st, 1, absolute, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, sha, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, ms_config_get_arch (w->config), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, ms_model_get_metadata (model, "memscope.config"), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, ms_model_get_metadata (model, "memscope.source"), -1, SQLITE_STATIC);
  gint64 id = -1;
  int rc = ms_db_step (st, w->path, "registering the model", error);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (st, 0);
  else if (rc == SQLITE_DONE)
    g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: registering the model returned no id", w->path);
  sqlite3_finalize (st);
  return id;
}

/* The runs row; −1 on error. */
static gint64
insert_run_row (MsRunWriter *w, gint64 model_id, const char *name, const char *input_path, const char *input_sha,
                const MsRunPlan *plan, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  sqlite3_stmt *st;
  const char *sql = "INSERT INTO runs (name, model_id, input_path, input_sha256, n_tokens, segment_len, n_segments,"
                    " attn_dtype, status, created, writer_pid, writer_host)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?12, ?9, ?10, ?11)";
  if (sqlite3_prepare_v2 (w->db, sql, -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (w->db, w->path, "creating the run", error), -1;
  sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, model_id);
  sqlite3_bind_text (st, 3, input_path, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, input_sha, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 5, (gint64) plan->n_tokens);
  sqlite3_bind_int (st, 6, plan->segment_len);
  sqlite3_bind_int (st, 7, plan->n_segments);
  sqlite3_bind_text (st, 8, ms_attn_store_name (plan->attn), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 9, created, -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 10, (int) getpid ());
  sqlite3_bind_text (st, 11, g_get_host_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 12, ms_run_status_name (MS_RUN_INCOMPLETE), -1, SQLITE_STATIC);
  gint64 id = -1;
  if (ms_db_step (st, w->path, "creating the run", error) == SQLITE_DONE)
    id = sqlite3_last_insert_rowid (w->db);
  sqlite3_finalize (st);
  /* The next id after the file's last run: past 2^31 − 1 (a file holding run
   * 2147483647) no row key of the run fits (ms-db.h), and no reader takes it. */
  if (id > G_MAXINT32)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: a new run would have id %" G_GINT64_FORMAT ", past the last "
                   "a recording can hold (2147483647): the file holds a run of an id Memscope never gives (it was "
                   "altered); record into another file", w->path, id);
      id = -1;
    }
  return id;
}

/* ---- memory chunks (ms-db.h) ------------------------------------------- */

/* The bytes of one state's memory and, when stored, transfer. */
static gint64
state_bytes (const MsRunWriter *w)
{
  gint64 K = w->config->n_slots, d = w->config->d_model;
  return K * d * 4 + (w->store_transfer ? K * K * 4 : 0);
}

/* The bytes a chunk of @c states leaves unused (chunk_capacity). */
static gint64
chunk_waste (gint64 c, gint64 state, gint64 page_size)
{
  gint64 overflow = page_size - 4, min_local = (page_size - 12) * 32 / 255 - 23;
  gint64 payload = 24 + c * state;
  gint64 r = payload > min_local ? (payload - min_local) % overflow : 0;
  return MIN (r, overflow - r);
}

/* C, the states a full chunk holds: between half and four times what
 * MS_DB_CHUNK_BYTES holds, the count whose row leaves the least of a page
 * unused per state (among counts within a byte per state of that, the
 * nearest to MS_DB_CHUNK_BYTES).  SQLite keeps min_local bytes of a long
 * row in its B-tree leaf plus the remainder of (payload − min_local) over
 * the overflow pages' (page − 4) bytes when that fits the leaf (then every
 * overflow page is full), or else only min_local (then the last overflow
 * page holds that remainder).  So a remainder near 0 or near a whole page
 * wastes least.  Each state moves the remainder by state mod (page − 4)
 * bytes, which can be the same few bytes for every count near the size
 * aimed at (a 32 KiB state over 8188-byte pages moves it by 16), hence the
 * wide range.  The payload's few bytes of header and integers are
 * estimated; an estimate off by a few bytes moves the remainder by as
 * much. */
static int
chunk_capacity (gint64 state, gint64 page_size)
{
  gint64 most = CLAMP (MS_DB_CHUNK_BYTES / MAX (state, 1), 1, MS_DB_MAX_CHUNK_STATES);
  gint64 first = MAX (most / 2, 1), last = MIN (4 * most, MS_DB_MAX_CHUNK_STATES);
  double least = G_MAXDOUBLE;
  for (gint64 c = first; c <= last; c++)
    least = MIN (least, (double) chunk_waste (c, state, page_size) / c);
  gint64 best = -1;
  for (gint64 c = first; c <= last; c++)
    if ((double) chunk_waste (c, state, page_size) / c <= least + 1 && (best < 0 || ABS (c - most) < ABS (best - most)))
      best = c;
  return (int) best;
}

/* Inserts the chunk whose first state is the memory after segment
 * @segment, with room for @n_states: @memory as its data (the initial
 * memory, alone in its chunk, without transfer), else zeros, which
 * write_chunk writes the states into.  SQLite writes a zero BLOB straight
 * into the row's pages; a BLOB of the states would first be copied whole
 * into a record in memory. */
static gboolean
insert_chunk (MsRunWriter *w, int segment, int n_states, const float *memory, GError **error)
{
  const MsConfig *c = w->config;
  gint64 K = c->n_slots, d = c->d_model;
  sqlite3_stmt *st = w->insert_chunk;
  sqlite3_bind_int (st, 1, segment);
  sqlite3_bind_int (st, 2, n_states);
  sqlite3_bind_int (st, 3, c->n_slots);
  sqlite3_bind_int (st, 4, c->d_model);
  if (memory || !w->store_transfer)
    sqlite3_bind_null (st, 5);
  else
    sqlite3_bind_zeroblob64 (st, 5, (sqlite3_uint64) (n_states * K * K * 4));
  if (memory)
    sqlite3_bind_blob64 (st, 6, memory, (sqlite3_uint64) (K * d * 4), SQLITE_STATIC);
  else
    sqlite3_bind_zeroblob64 (st, 6, (sqlite3_uint64) (n_states * K * d * 4));
  gboolean ok = step_done (w, st, memory ? "writing the initial memory" : "writing a memory chunk", error);
  sqlite3_bind_null (st, 5);
  sqlite3_bind_null (st, 6);
  return ok;
}

/* Writes @n bytes at @offset of column @column of the memory chunk
 * @rowid, in place.  The handle is opened and closed for each write:
 * SQLite refuses to open or release a savepoint while a blob handle is
 * open for writing ("SQL statements in progress"). */
static gboolean
write_into_chunk (MsRunWriter *w, gint64 rowid, const char *column, const void *bytes, gint64 n, gint64 offset,
                  GError **error)
{
  sqlite3_blob *blob = NULL;
  int rc = sqlite3_blob_open (w->db, "main", "memory", column, rowid, 1, &blob);
  if (rc == SQLITE_OK && (offset > G_MAXINT32 || n > G_MAXINT32 - offset))
    rc = SQLITE_TOOBIG;
  if (rc == SQLITE_OK)
    rc = sqlite3_blob_write (blob, bytes, (int) n, (int) offset);
  if (rc != SQLITE_OK)
    {
      ms_db_fail (w->db, w->path, "writing a memory chunk", error);
      sqlite3_blob_close (blob);
      return FALSE;
    }
  if (sqlite3_blob_close (blob) != SQLITE_OK)
    return ms_db_fail (w->db, w->path, "writing a memory chunk", error);
  return TRUE;
}

/* Writes the buffered states of the current chunk into the file,
 * inserting its row first when it is not in the file yet: one write per
 * column, whatever their number, in the transaction that commits their
 * segments, so each of the chunk's pages is written once per transaction
 * and no blob handle is opened per segment. */
static gboolean
write_chunk (MsRunWriter *w, GError **error)
{
  Chunk *ch = &w->chunk;
  if (ch->pending == 0)
    return TRUE;
  gint64 K = w->config->n_slots, d = w->config->d_model, j = ch->pending_first - ch->segment;
  gint64 rowid = w->run_id * (G_GINT64_CONSTANT (1) << 32) + ch->segment + 1;
  gboolean ok = (ch->in_file || insert_chunk (w, ch->segment, ch->states, NULL, error))
                && (!w->store_transfer || write_into_chunk (w, rowid, "transfer", w->chunk_transfer + j * K * K,
                                                            ch->pending * K * K * 4, j * K * K * 4, error))
                && write_into_chunk (w, rowid, "data", w->chunk_data + j * K * d, ch->pending * K * d * 4,
                                     j * K * d * 4, error);
  if (ok)
    {
      ch->in_file = TRUE;
      ch->pending = 0;
    }
  return ok;
}

/* Buffers the memory after segment @segment (≥ 0, the chunk's next one)
 * and that segment's transfer at their place in the current chunk. */
static void
buffer_state (MsRunWriter *w, int segment, const float *memory, const float *transfer)
{
  Chunk *ch = &w->chunk;
  gint64 K = w->config->n_slots, d = w->config->d_model, j = segment - ch->segment;
  memcpy (w->chunk_data + j * K * d, memory, (size_t) (K * d * 4));
  if (w->store_transfer)
    memcpy (w->chunk_transfer + j * K * K, transfer, (size_t) (K * K * 4));
  if (ch->pending++ == 0)
    ch->pending_first = segment;
}

gboolean
ms_run_writer_create_run (MsRunWriter *w, MsModel *model, const char *input_path, const char *name,
                          const MsRunPlan *plan, const float *initial_memory, GError **error)
{
  g_return_val_if_fail (w->run_id == 0, FALSE);
  g_autofree char *model_sha = ms_run_writer_file_sha256 (ms_model_get_path (model), error);
  g_autofree char *input_sha = model_sha ? ms_run_writer_file_sha256 (input_path, error) : NULL;
  if (!input_sha || !ms_db_exec (w->db, w->path, "BEGIN IMMEDIATE", error))
    return FALSE;
  g_autofree char *model_base = g_path_get_basename (ms_model_get_path (model));
  g_autofree char *input_base = g_path_get_basename (input_path);
  g_autofree char *run_name = name ? g_strdup (name) : g_strdup_printf ("%s on %s", model_base, input_base);
  gint64 model_id = ensure_model_row (w, model, model_sha, error);
  gint64 id = model_id < 0 ? -1 : insert_run_row (w, model_id, run_name, input_path, input_sha, plan, error);
  if (id >= 0)
    ms_run_writer_bind_run (w, id);
  if (id >= 0)
    w->run_id = id;   /* the chunk's key; taken back on failure */
  if (id < 0 || !insert_chunk (w, -1, 1, initial_memory, error) || !ms_db_exec (w->db, w->path, "COMMIT", error))
    {
      sqlite3_exec (w->db, "ROLLBACK", NULL, NULL, NULL);
      w->run_id = 0;
      return FALSE;
    }
  w->chunk = (Chunk) { .segment = -1, .states = 1, .in_file = TRUE, .next = 0 };
  w->attn = plan->attn;
  w->n_segments = plan->n_segments;
  return TRUE;
}

/* ---- committing a segment --------------------------------------------- */

/* The per-slot quantities of ms-analysis.h, from what the observer
 * reduced the segment's attention to (ms-segment-record.h): the recording
 * never reads its own attention back to derive them. */
static void
analyse_segment (MsRunWriter *w, const MsSegmentRecord *rec)
{
  const MsConfig *c = w->config;
  const MsAttentionLayout *read = ms_engine_find_attention_by_role (c->engine, MS_ATTENTION_READ);
  int n_layers = read ? ms_attention_layout_n_layers (read, c) : 1;
  for (int i = 0; i < c->n_slots; i++)
    w->read_usage[i] = rec->read_usage[i] / n_layers;
  w->memory_delta = ms_memory_slot_cosine_and_change (rec->memory_in, rec->memory_out, c->n_slots, c->d_model,
                                                      w->representation);
}

/* One BLOB per head of an (H, rows, cols) attention copy. */
static gboolean
insert_attention (MsRunWriter *w, const MsSegmentRecord *rec, const MsAttnCopy *a, GError **error)
{
  int H = a->shape[0], rows = a->shape[1], cols = a->shape[2];
  size_t per_head = (size_t) rows * cols;
  sqlite3_stmt *st = w->insert_attention;
  for (int h = 0; h < H; h++)
    {
      const float *m = rec->attn_data + a->offset + h * per_head;
      sqlite3_bind_int (st, 1, rec->segment);
      sqlite3_bind_text (st, 2, ms_obs_kind_stored_name (a->kind), -1, SQLITE_STATIC);
      sqlite3_bind_int (st, 3, a->layer < 0 ? 0 : a->layer);
      sqlite3_bind_int (st, 4, h);
      sqlite3_bind_int (st, 5, rows);
      sqlite3_bind_int (st, 6, cols);
      sqlite3_bind_text (st, 7, ms_attn_store_name (w->attn), -1, SQLITE_STATIC);
      if (w->attn == MS_ATTN_STORE_F16)
        {
          ms_floats_to_half_le (m, w->half, per_head);
          sqlite3_bind_blob (st, 8, w->half, (int) (per_head * 2), SQLITE_STATIC);
        }
      else
        sqlite3_bind_blob (st, 8, m, (int) (per_head * 4), SQLITE_STATIC);
      if (!step_done (w, st, "writing attention", error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
insert_segment_rows (MsRunWriter *w, const MsSegmentRecord *rec, GError **error)
{
  const MsConfig *c = w->config;
  int n = rec->n_tokens, K = c->n_slots, t = rec->segment;
  const MsWriteDistribution *wd = rec->has_write ? rec->write : w->no_write;
  /* The segment's matrices get consecutive rowids: nothing else writes
   * inside this transaction. */
  gint64 attn_first = 0;
  int attn_count = 0;
  for (int i = 0; i < rec->n_attn && w->attn != MS_ATTN_STORE_NONE; i++)
    {
      if (!insert_attention (w, rec, &rec->attn[i], error))
        return FALSE;
      if (attn_count == 0)
        attn_first = sqlite3_last_insert_rowid (w->db) - (rec->attn[i].shape[0] - 1);
      attn_count += rec->attn[i].shape[0];
    }
  double total = 0;
  int n_predicted = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (rec->nll[i]))
      total += rec->nll[i], n_predicted++;
  sqlite3_stmt *st = w->insert_segment;
  sqlite3_bind_int (st, 1, t);
  sqlite3_bind_int64 (st, 2, (gint64) rec->token_begin);
  sqlite3_bind_int64 (st, 3, (gint64) (rec->token_begin + n));
  sqlite3_bind_blob64 (st, 4, rec->text, rec->text_len, SQLITE_STATIC);
  sqlite3_bind_blob (st, 5, rec->nll, n * 4, SQLITE_STATIC);
  sqlite3_bind_int (st, 6, n_predicted);
  sqlite3_bind_double (st, 7, total);
  sqlite3_bind_double (st, 8, w->memory_delta);
  /* The per-slot arrays narrow, but the retention where it is the
   * (diagonal) transfer; no token share where the transfer says it
   * (ms-recording-names.h) */
  guint8 *retention = w->narrow, *representation = w->narrow + 2 * K, *read_usage = w->narrow + 4 * K;
  if (w->store_transfer)
    {
      ms_slot_array_encode (MS_SLOT_RETENTION, wd->retention, K, retention);
      sqlite3_bind_blob (st, 11, retention, (int) ms_slot_array_narrow_bytes (MS_SLOT_RETENTION, K), SQLITE_STATIC);
    }
  else
    sqlite3_bind_blob (st, 11, wd->retention, K * 4, SQLITE_STATIC);
  if (w->store_token_share)
    sqlite3_bind_blob (st, 12, wd->token_share, K * 4, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, 12);
  ms_slot_array_encode (MS_SLOT_REPRESENTATION, w->representation, K, representation);
  sqlite3_bind_blob (st, 13, representation, (int) ms_slot_array_narrow_bytes (MS_SLOT_REPRESENTATION, K),
                     SQLITE_STATIC);
  ms_slot_array_encode (MS_SLOT_READ_USAGE, w->read_usage, K, read_usage);
  sqlite3_bind_blob (st, 14, read_usage, (int) ms_slot_array_narrow_bytes (MS_SLOT_READ_USAGE, K), SQLITE_STATIC);
  if (attn_count > 0)
    sqlite3_bind_int64 (st, 15, attn_first);
  else
    sqlite3_bind_null (st, 15);
  sqlite3_bind_int (st, 16, attn_count);
  /* ids and ends as little-endian arrays (ms-db.h), which the host's are;
   * none for the bytes tokenizer, whose ids are the text */
  sqlite3_bind_int64 (st, 17, (gint64) rec->byte_begin);
  if (rec->bytes)
    {
      sqlite3_bind_null (st, 18);
      sqlite3_bind_null (st, 19);
    }
  else
    {
      sqlite3_bind_blob (st, 18, rec->tokens, n * 4, SQLITE_STATIC);
      sqlite3_bind_blob (st, 19, rec->token_ends, n * 4, SQLITE_STATIC);
    }
  if (rec->has_gate)
    sqlite3_bind_blob (st, 20, rec->gate, K * 4, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, 20);
  return step_done (w, st, "writing the segment", error);
}

/* Marks the run complete, inside the transaction of its last segment. */
static gboolean
mark_complete (MsRunWriter *w, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *finished = g_date_time_format_iso8601 (now);
  sqlite3_bind_text (w->complete_run, 1, finished, -1, SQLITE_STATIC);
  return step_done (w, w->complete_run, "completing the run", error);
}

gboolean
ms_run_writer_write_segment (MsRunWriter *w, const MsSegmentRecord *rec, GError **error)
{
  g_return_val_if_fail (w->run_id > 0 && rec->segment >= 0, FALSE);
  int t = rec->segment;
  if (t != w->chunk.next)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: run %" G_GINT64_FORMAT ": segment %d cannot be written: "
                   "segments are written once, in order, and the next is %d", w->path, w->run_id, t, w->chunk.next);
      return FALSE;
    }
  if (sqlite3_get_autocommit (w->db))
    {
      if (!ms_db_exec (w->db, w->path, "BEGIN IMMEDIATE", error))
        return FALSE;
      w->begin_chunk = w->chunk;
    }
  /* The segment that fills a chunk writes it (write_chunk), so the next
   * one begins a new chunk, inside a savepoint of its own: its segments go
   * with it when its row cannot be written at the commit. */
  Chunk before = w->chunk;
  gboolean new_chunk = t >= w->chunk.segment + w->chunk.states;
  if (new_chunk)
    {
      if (!step_done (w, w->chunk_savepoint, "writing a segment", error))
        return FALSE;
      w->before_new_chunk = w->chunk;
      w->new_chunk_open = TRUE;
      w->chunk = (Chunk) { .segment = t, .states = MIN (MIN (t + 1, w->chunk_capacity), MAX (w->n_segments - t, 1)),
                           .next = t };
    }
  g_autoptr (GError) local = NULL;
  gboolean saved = step_done (w, w->savepoint, "writing a segment", &local), full = FALSE;
  if (saved)
    {
      analyse_segment (w, rec);
      /* A diagonal transfer follows from the retention (ms_recording_foreach_segment) */
      const MsWriteDistribution *wd = rec->has_write ? rec->write : w->no_write;
      if (insert_segment_rows (w, rec, &local))
        {
          buffer_state (w, t, rec->memory_out, wd->transfer);
          w->chunk.next = t + 1;
          full = t + 1 == w->chunk.segment + w->chunk.states;
          if ((!full || write_chunk (w, &local)) && (!rec->last || mark_complete (w, &local))
              && step_done (w, w->release, "writing a segment", &local))
            {
              w->uncommitted++;
              /* the chunk's row is in: its savepoint has done its work (a
               * RELEASE that fails leaves it to the commit, which ends it) */
              if (full && w->new_chunk_open)
                {
                  sqlite3_step (w->chunk_release);
                  sqlite3_reset (w->chunk_release);
                  w->new_chunk_open = FALSE;
                }
              return TRUE;
            }
        }
    }
  if (!local)
    ms_db_fail (w->db, w->path, "writing a segment", &local);
  /* SQLite may have rolled the whole transaction back (on a full disk or
   * an I/O error): the segments written since the last commit are gone too */
  if (sqlite3_get_autocommit (w->db))
    rollback_uncommitted (w);
  else
    {
      /* only this segment's rows go, and a chunk it began or wrote */
      if (saved)
        sqlite3_exec (w->db, "ROLLBACK TO segment; RELEASE segment", NULL, NULL, NULL);
      if (new_chunk)
        {
          sqlite3_exec (w->db, "ROLLBACK TO chunk; RELEASE chunk", NULL, NULL, NULL);
          w->new_chunk_open = FALSE;
        }
      w->chunk = before;
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

int
ms_run_writer_get_uncommitted (const MsRunWriter *w)
{
  return w->uncommitted;
}

gboolean
ms_run_writer_chunk_ends_at (const MsRunWriter *w, int segment)
{
  if (w->chunk.states < 1)
    return TRUE;
  /* the chunks that the segments after the last one written begin, as
   * ms_run_writer_write_segment does */
  gint64 first = w->chunk.segment, states = w->chunk.states;
  while (segment >= first + states)
    {
      first += states;
      states = MIN (MIN (first + 1, w->chunk_capacity), MAX (w->n_segments - first, 1));
    }
  return segment == first + states - 1;
}

gboolean
ms_run_writer_commit (MsRunWriter *w, int *n_committed, GError **error)
{
  *n_committed = 0;
  if (sqlite3_get_autocommit (w->db))
    return TRUE;
  g_autoptr (GError) local = NULL;
  if (!write_chunk (w, &local) && !sqlite3_get_autocommit (w->db) && w->new_chunk_open)
    {
      /* The chunk begun in this transaction cannot be written (a full
       * disk): its segments go, and those before it commit. */
      sqlite3_exec (w->db, "ROLLBACK TO chunk; RELEASE chunk", NULL, NULL, NULL);
      w->uncommitted -= w->chunk.next - w->chunk.segment;
      w->chunk = w->before_new_chunk;
      w->new_chunk_open = FALSE;
    }
  else if (local)
    {
      rollback_uncommitted (w);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (sqlite3_exec (w->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    {
      *n_committed = w->uncommitted;
      w->uncommitted = 0;
      w->new_chunk_open = FALSE;
      if (!local)
        return TRUE;
    }
  else
    {
      if (!local)
        ms_db_fail (w->db, w->path, "committing segments", &local);
      rollback_uncommitted (w);
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}
