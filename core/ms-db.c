/* ms-db.c — recording database: open, check, migrate. */
#include "ms-db.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

/* migrations[v] brings a database from user_version v to v+1. */
static const char *const migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE models ("
  "  id INTEGER PRIMARY KEY,"
  "  path TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  arch TEXT NOT NULL,"
  "  config TEXT NOT NULL,"
  "  source TEXT,"
  "  UNIQUE (sha256, path));"
  "CREATE TABLE runs ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  model_id INTEGER NOT NULL REFERENCES models (id),"
  "  input_path TEXT NOT NULL,"
  "  input_sha256 TEXT NOT NULL,"
  "  n_tokens INTEGER NOT NULL,"
  "  segment_len INTEGER NOT NULL,"
  "  n_segments INTEGER NOT NULL,"
  "  attn_dtype TEXT NOT NULL CHECK (attn_dtype IN ('f16', 'f32', 'none')),"
  "  status TEXT NOT NULL CHECK (status IN ('incomplete', 'complete')),"
  "  segments_done INTEGER NOT NULL DEFAULT 0,"
  "  created TEXT NOT NULL,"
  "  finished TEXT,"
  "  writer_pid INTEGER,"
  "  writer_host TEXT,"
  "  resume_state BLOB);"
  "CREATE TABLE segments ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  idx INTEGER NOT NULL,"
  "  token_begin INTEGER NOT NULL,"
  "  token_end INTEGER NOT NULL,"
  "  text BLOB NOT NULL,"
  "  nll BLOB NOT NULL,"
  "  n_predicted INTEGER NOT NULL,"
  "  total_nll REAL,"
  "  memory_delta REAL,"
  "  transfer BLOB,"
  "  PRIMARY KEY (run_id, idx));"
  "CREATE TABLE attention ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  segment INTEGER NOT NULL,"
  "  kind TEXT NOT NULL,"
  "  layer INTEGER NOT NULL,"
  "  head INTEGER NOT NULL,"
  "  rows INTEGER NOT NULL,"
  "  cols INTEGER NOT NULL,"
  "  dtype TEXT NOT NULL CHECK (dtype IN ('f16', 'f32')),"
  "  data BLOB NOT NULL,"
  "  PRIMARY KEY (run_id, segment, kind, layer, head));"
  "CREATE TABLE memory ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  segment INTEGER NOT NULL,"
  "  rows INTEGER NOT NULL,"
  "  cols INTEGER NOT NULL,"
  "  data BLOB NOT NULL,"
  "  PRIMARY KEY (run_id, segment));"
  "CREATE TABLE retention ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  segment INTEGER NOT NULL,"
  "  slot INTEGER NOT NULL,"
  "  old_share REAL,"
  "  token_share REAL,"
  "  cos_prev REAL,"
  "  read_usage REAL,"
  "  PRIMARY KEY (run_id, segment, slot));",
  /* 1 → 2 */
  "ALTER TABLE runs DROP COLUMN resume_state;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == MS_DB_SCHEMA_VERSION);

gboolean
ms_db_fail (sqlite3 *db, const char *path, const char *what, GError **error)
{
  int code = sqlite3_extended_errcode (db);
  const char *hint = "";
  if ((code & 0xff) == SQLITE_FULL)
    hint = " (the disk is full)";
  else if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_CANTOPEN)
    hint = " (check that the file and its folder are writable)";
  g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: %s: %s%s", path, what, sqlite3_errmsg (db), hint);
  return FALSE;
}

double
ms_db_column_real (sqlite3_stmt *st, int column)
{
  return sqlite3_column_type (st, column) == SQLITE_NULL ? NAN : sqlite3_column_double (st, column);
}

gboolean
ms_db_exec (sqlite3 *db, const char *path, const char *sql, GError **error)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return ms_db_fail (db, path, "database error", error);
  return TRUE;
}

static gboolean
query_int (sqlite3 *db, const char *sql, int *out)
{
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return rc == SQLITE_ROW;
}

sqlite3 *
ms_db_open (const char *path, gboolean create, gboolean read_only, GError **error)
{
  sqlite3 *db = NULL;
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2 (path, &db, flags, NULL) != SQLITE_OK)
    {
      if (!create && !g_file_test (path, G_FILE_TEST_EXISTS))
        g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: no such recording", path);
      else
        ms_db_fail (db, path, create ? "cannot create or open the recording" : "cannot open the recording", error);
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 10000);
  sqlite3_extended_result_codes (db, 1);

  int version = 0, n_tables = 0;
  if (!query_int (db, "PRAGMA user_version", &version)
      || !query_int (db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &n_tables))
    {
      int code = sqlite3_errcode (db);
      if (code == SQLITE_NOTADB)
        g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: not a Memscope recording (not an SQLite database)", path);
      else
        ms_db_fail (db, path, "cannot read the recording", error);
      sqlite3_close (db);
      return NULL;
    }
  if (version > MS_DB_SCHEMA_VERSION)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT,
                   "%s: the recording has schema version %d, newer than this build of Memscope reads (%d); "
                   "open it with a newer Memscope", path, version, MS_DB_SCHEMA_VERSION);
      sqlite3_close (db);
      return NULL;
    }
  if (version == 0 && n_tables > 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT,
                   "%s: an SQLite database, but not a Memscope recording (it has other tables)", path);
      sqlite3_close (db);
      return NULL;
    }
  if (read_only)
    {
      if (version < MS_DB_OLDEST_READABLE_VERSION)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: %s", path,
                       version == 0 ? "empty: not a Memscope recording"
                                    : "the recording uses an older schema; open it once for writing to upgrade it");
          sqlite3_close (db);
          return NULL;
        }
      return db;
    }

  /* A new file gets 16 KiB pages (only possible before the first table and
   * before WAL): a head's attention BLOB is 1–6 KiB, of which 4 KiB pages
   * held one or two, half empty. */
  if (version == 0 && !ms_db_exec (db, path, "PRAGMA page_size = 16384;", error))
    {
      sqlite3_close (db);
      return NULL;
    }
  if (!ms_db_exec (db, path, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", error))
    {
      sqlite3_close (db);
      return NULL;
    }
  /* Each step re-reads the version inside its write transaction, so two
   * processes opening a new file at once migrate it exactly once. */
  while (version < MS_DB_SCHEMA_VERSION)
    {
      if (!ms_db_exec (db, path, "BEGIN IMMEDIATE", error))
        {
          sqlite3_close (db);
          return NULL;
        }
      gboolean ok = query_int (db, "PRAGMA user_version", &version);
      if (ok && version < MS_DB_SCHEMA_VERSION)
        {
          g_autofree char *sql = g_strdup_printf ("%s PRAGMA user_version = %d;", migrations[version], version + 1);
          ok = ms_db_exec (db, path, sql, error);
          version++;
        }
      if (!ok || !ms_db_exec (db, path, "COMMIT", error))
        {
          if (error && !*error)
            ms_db_fail (db, path, "cannot upgrade the recording", error);
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          sqlite3_close (db);
          return NULL;
        }
    }
  return db;
}
