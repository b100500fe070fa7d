/* ms-db.h — (private) opening a Memscope recording database: SQLite with a
 * versioned schema (PRAGMA user_version), WAL journaling, and migrations.
 *
 * Schema version 2 (one database may hold many runs):
 *   models     (id, path, sha256, arch, config, source)
 *   runs       (id, name, model_id, input_path, input_sha256, n_tokens, segment_len,
 *               n_segments, attn_dtype, status, segments_done, created, finished,
 *               writer_pid, writer_host)
 *   segments   (run_id, idx, token_begin, token_end, text, nll, n_predicted,
 *               total_nll, memory_delta, transfer)
 *   attention  (run_id, segment, kind, layer, head, rows, cols, dtype, data)
 *   memory     (run_id, segment, rows, cols, data)      segment −1 = the initial memory
 *   retention  (run_id, segment, slot, old_share, token_share, cos_prev, read_usage)
 * BLOBs are little-endian row-major arrays: f32, or f16 where dtype says so.
 * REAL columns hold NULL where the value is NaN (SQLite has no NaN).
 * Version 1 also kept the session state of the last segment in
 * runs.resume_state, rewritten at every segment; version 2 dropped it (a run
 * resumes by replaying its last committed segment, ms-recorder.c), so the
 * readers' queries work on both.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#define MS_DB_SCHEMA_VERSION 2
/* The oldest schema a read-only handle accepts as it is. */
#define MS_DB_OLDEST_READABLE_VERSION 1

/* Opens (creating when @create) the recording at @path and brings an older
 * schema up to date.  Refuses, with MS_ERROR_IO / MS_ERROR_FORMAT and the
 * path in the message: a file that is not SQLite, an SQLite file that is
 * not a Memscope recording, and a schema newer than this build.  Read-only
 * handles never migrate (they refuse an older schema instead). */
sqlite3 *ms_db_open (const char *path, gboolean create, gboolean read_only, GError **error);

/* Sets @error from the handle's last SQLite error, prefixed with @path and
 * @what (e.g. "writing segment 12"); always returns FALSE. */
gboolean ms_db_fail (sqlite3 *db, const char *path, const char *what, GError **error);

/* A REAL column, NaN for NULL. */
double ms_db_column_real (sqlite3_stmt *st, int column);

/* Runs @sql (no result rows); FALSE with @error on failure. */
gboolean ms_db_exec (sqlite3 *db, const char *path, const char *sql, GError **error);
