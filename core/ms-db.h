/* ms-db.h — (private) opening a Memscope recording: SQLite with a
 * versioned schema (PRAGMA user_version), WAL journaling, and migrations.
 *
 * Schema version 8 (one recording may hold many runs):
 *   models     (id, path, sha256, arch, config, source)
 *   runs       (id, name, model_id, input_path, input_sha256, n_tokens, segment_len,
 *               n_segments, attn_dtype, status, created, finished, writer_pid, writer_host)
 *   segments   (id, run_id, segment, token_begin, token_end, text, nll, n_predicted,
 *               total_nll, memory_delta,
 *               retention, token_share, representation, read_usage,   (K) each, f32 or narrower
 *                                                                     (ms-recording-names.h)
 *               attn_first, attn_count, byte_begin, token_ids, token_ends,
 *               gate)                                                 (K) f32, or NULL
 *   attention  (id, run_id, segment, kind, layer, head, rows, cols, dtype, data)
 *   memory     (id, run_id, segment, n_states, rows, cols, transfer, data)   a memory chunk:
 *              the memory states after segments segment … segment + n_states − 1 (segment −1:
 *              the initial memory, alone in its row), data (n_states, rows, cols) f32, and
 *              the transfer (DESIGN §5.3) of the same segments, transfer (n_states, K, K) f32,
 *              NULL where the engine's transfer is diagonal (it follows from the retention)
 *              and for the initial memory
 *   causal     (id, run_id, replacement, slot, source, horizon, delta_nll, delta_accuracy)
 *              one row per (run, replacement, slot, source); slot −1 except for knockout;
 *              delta_nll and delta_accuracy (NULL: not a task input) (horizon) f32, value k for
 *              target segment source + 1 + k (ms-causal.h)
 *   reset_memory (id, run_id, segment, nll, n_predicted, total_nll)   the reset-memory baseline,
 *              id = run_id · 2^32 + segment, nll (L_t) f32 per token as segments.nll
 * The stored words (runs.status, runs.attn_dtype, attention.kind and
 * .dtype, the per-slot columns) are those of ms-recording-names.h.
 * BLOBs are little-endian row-major arrays: f32, or f16 where dtype says so.
 * A segment's tokens are those of [token_begin, token_end) of the run's
 * input, and its text the bytes they stand for, which start at byte
 * byte_begin of the input; token_ids holds their ids (int32) and token_ends
 * where each token ends within text (uint32; token i is text[end(i − 1),
 * end(i)), end(−1) = 0; so the ends rise strictly and the last is the
 * text's length).  A segment tokenized by bytes (one token per byte, its
 * value) stores NULL in both, as every segment before version 5 did; NULL
 * byte_begin (before version 5) is token_begin.
 * REAL columns hold NULL where the value is NaN (SQLite has no NaN); f32
 * arrays hold NaN itself.
 *
 * Memory chunks.  A memory state is K·d·4 bytes, often just over what
 * shares a page with another, so one row per state left half of each page
 * empty.  A chunk is one row holding the states of consecutive segments,
 * which SQLite stores in full overflow pages: a run's chunk starting at
 * state s = segment + 1 has room for min(s, C) states, C chosen by the
 * writer so that a chunk is half to four times MS_DB_CHUNK_BYTES, whichever
 * count leaves the least of its last page unused (so chunks start at
 * states 1, 2, 4, 8, … and then every C, and none has room past the
 * run's planned last segment: a complete run has no unwritten room, a
 * cancelled or killed one at most its own length or C states).
 * The writer keeps the states of a transaction's segments and writes
 * them into their chunk at once (sqlite3_blob_write), inserting the chunk
 * with zeros first when it is new, in the transaction that commits them,
 * when the chunk's last state is written or at the commit: a killed
 * recorder leaves earlier segments' states as they were committed, and
 * the states after a run's last committed segment are zeros nobody reads.  The state
 * after segment t is found in one row: the chunk with the greatest id ≤
 * run_id · 2^32 + t + 1.  Transfer sits before data in the row, so a view
 * that reads only transfers reads only their pages.
 *
 * Keys without index B-trees.  Every B-tree a transaction touches costs at
 * least one rewritten page in the WAL, and a recorder commits a
 * transaction every few segments (ms-recorder.c).  So:
 *   segments.id = run_id · 2^32 + segment     (MS_DB_SEGMENT_KEY)
 *   memory.id   = run_id · 2^32 + segment + 1
 * are the rowids themselves (CHECK constraints hold them to it), and a
 * segment's attention matrices are the attn_count consecutive rows from
 * attention.id = attn_first (one transaction inserts them in a row).
 * The per-slot quantities are one row per segment, not K.  A run's
 * progress is its last committed segment (MS_DB_SEGMENTS_DONE), not a
 * counter that every commit would rewrite.  So a segment's commit appends
 * to the WAL only the new attention leaves, the pages of its memory chunk
 * it writes into, their parents, the segments leaf and page 1 (the bytes per segment are in
 * tests/bench/README.md).  New files have 8 KiB pages (ms_db_open).
 *
 * History: version 1 also kept the session state of the last segment in
 * runs.resume_state, rewritten at every segment; version 2 dropped it (a run
 * resumes by replaying its last committed segment).  Version 2 had a
 * retention table with one row per (run, segment, slot), composite primary
 * keys and runs.segments_done.  Version 3 named the segment index idx, the
 * retention old_share, the representation retention cos_prev, and stored
 * attention kinds per architecture (reader, writer, rmt_read, rmt_write:
 * now read and write).  A writable open upgrades the file (ms-db.c).
 * Version 4 had no token columns (byte_begin, token_ids, token_ends);
 * version 5 no causal or reset_memory tables (read as empty).  Version 6
 * stored one memory row per state and the transfer in segments.transfer;
 * version 7 reads them as chunks of one state (an upgrade moves each
 * transfer into its memory row) and adds segments.gate (NULL before).
 * Version 8 has version 7's tables; its per-slot columns may also hold
 * narrow arrays (12-bit fixed point, f16), and token_share NULL where the
 * transfer says it (ms-recording-names.h): a new segment of an RMT stores
 * 5·K bytes of per-slot arrays where version 7 stored 16·K.  Readers
 * see only the current schema: on a read-only handle of a version 1 to 6
 * file, TEMP views present its tables as version 8 ones.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#define MS_DB_SCHEMA_VERSION 8

/* The most states a memory chunk holds (its CHECK constraint), and about
 * how many bytes of states and transfers the writer puts in one. */
#define MS_DB_MAX_CHUNK_STATES 65536
#define MS_DB_CHUNK_BYTES (512 * 1024)

/* SQL: the rowid of segment @segment of run @run (both SQL expressions). */
#define MS_DB_SEGMENT_KEY(run, segment) "((" run ") * 4294967296 + (" segment "))"
/* SQL: the committed segments of run @run (an SQL expression): segments
 * are committed in order, so the last one's index + 1. */
#define MS_DB_SEGMENTS_DONE(run) \
  "(SELECT coalesce (max (id) + 1 - (" run ") * 4294967296, 0) FROM segments WHERE id BETWEEN " \
  MS_DB_SEGMENT_KEY (run, "0") " AND " MS_DB_SEGMENT_KEY (run, "4294967295") ")"

/* Opens (creating when @create) the recording at @path and brings an older
 * schema up to date.  A recording may come from anyone, so the handle has
 * SQLite's defensive settings (SQLITE_DBCONFIG_DEFENSIVE, trusted_schema
 * off, cell_size_check on, no views or triggers from the file).  Refuses,
 * with MS_ERROR_IO / MS_ERROR_FORMAT and the path in the message: a file
 * that is not SQLite, an SQLite file that is not a Memscope recording, a
 * negative or newer schema version, and a schema that is not exactly the
 * one Memscope writes at its version (any other table, index, view or
 * trigger, or a changed column).  A read-only handle of an older schema
 * reads the file as it is, through TEMP views with the current schema's
 * tables. */
sqlite3 *ms_db_open (const char *path, gboolean create, gboolean read_only, GError **error);
/* A read-only open reads a file left in either journal mode, also from
 * read-only media or a folder the user cannot write: when a WAL-mode file's
 * -shm cannot be had, it opens the file immutable (SQLite's immutable=1),
 * which takes no locks — right for a file nobody writes, as a recording on
 * such media is; a recorder writing it meanwhile would not be seen.  When a
 * -wal with content lies beside it (a killed recorder), the file and the
 * transactions committed in the -wal are read into memory instead (up to
 * 1 GiB; larger is an MS_ERROR_IO saying to copy both files somewhere
 * writable), never the file without them. */

/* The same checks and read-only views over @size bytes of a recording
 * image (@data borrowed and copied; SQLite's sqlite3_deserialize), named
 * @label in messages.  A WAL-mode image is read as the rollback file it is
 * once checkpointed.  The handle never writes. */
sqlite3 *ms_db_open_image (const void *data, size_t size, const char *label, GError **error);

/* Closes a writable handle leaving the recording one shareable file: the
 * WAL checkpointed into it and truncated, and the file in rollback-journal
 * mode (journal_mode=DELETE), so no -wal or -shm remains and it reads from
 * read-only media.  When another connection still has the file open,
 * SQLite cannot leave WAL, and the file stays in WAL mode (the last
 * writable connection to close checkpoints and removes the side files).
 * A writable open (ms_db_open) puts it back in WAL mode.  NULL is fine. */
void ms_db_close_shareable (sqlite3 *db);

/* A bound on the work of the queries on a handle: SQLite's progress
 * handler counts down @left and interrupts the statement running when it
 * runs out (the statement then fails with SQLITE_INTERRUPT, which
 * ms_db_fail words as an altered file).  @left < 0: unbounded. */
typedef struct {
  gint64 left;
} MsDbBudget;

/* Installs @budget (unbounded until armed) on @db; @budget must outlive the
 * handle's statements, or be replaced with sqlite3_progress_handler. */
void ms_db_budget_attach (sqlite3 *db, MsDbBudget *budget);

/* Arms @budget for the next call's queries: @factor times what any honest
 * query over a file of the handle's size needs (a few hundred thousand
 * instructions per page; the pages counted are at most what the file and
 * its -wal hold on disk, whatever size a -wal's commit claims). */
void ms_db_budget_arm (sqlite3 *db, MsDbBudget *budget, gint64 factor);
/* ms_db_budget_arm for a file of @pages pages of @page_size bytes (PRAGMA
 * page_count and page_size on @db), for a caller that keeps those
 * statements prepared. */
void ms_db_budget_arm_pages (sqlite3 *db, MsDbBudget *budget, gint64 pages, gint64 page_size, gint64 factor);

/* Sets @error from the handle's last SQLite error, prefixed with @path and
 * @what (e.g. "writing segment 12"); always returns FALSE. */
gboolean ms_db_fail (sqlite3 *db, const char *path, const char *what, GError **error);

/* Steps @st once.  Returns SQLITE_ROW or SQLITE_DONE as they come; any
 * other result (an I/O error, a damaged page, a busy timeout) sets @error
 * as ms_db_fail does, naming @path and @what, and is returned as it is.  A
 * row loop therefore ends on SQLITE_DONE or fails: never a short result. */
int ms_db_step (sqlite3_stmt *st, const char *path, const char *what, GError **error);

/* A REAL column, NaN for NULL. */
double ms_db_column_real (sqlite3_stmt *st, int column);

/* Runs @sql (no result rows); FALSE with @error on failure. */
gboolean ms_db_exec (sqlite3 *db, const char *path, const char *sql, GError **error);
