/* ms-db.c — a recording's SQLite layer: open, check, migrate, and the
 * views through which a read-only handle reads an older schema. */
#include "ms-db.h"
#include "ms-db-wal.h"
#include "ms-error.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* Schema 3 stored attention kinds per architecture; schema 4 stores the
 * observation kinds' names (ms-recording-names.h).  An SQL expression. */
#define KIND_FROM_V3(kind) \
  "CASE " kind " WHEN 'reader' THEN 'read' WHEN 'rmt_read' THEN 'read' WHEN 'writer' THEN 'write' " \
  "WHEN 'rmt_write' THEN 'write' ELSE " kind " END"

/* migrations[v] brings a recording from user_version v to v+1.  A new file
 * runs them all, so it has exactly the schema an upgraded one has. */
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
  /* 2 → 3: a committed segment touches fewer pages (see ms-db.h).  The
   * per-slot retention rows become f32 arrays in the segment's row
   * (ms_f32_array, registered by ms_db_open), the keys move into the rowid,
   * and a run's progress is its last segment rather than a counter. */
  "CREATE TABLE attention_v3 ("
  "  id INTEGER PRIMARY KEY,"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  segment INTEGER NOT NULL,"
  "  kind TEXT NOT NULL,"
  "  layer INTEGER NOT NULL,"
  "  head INTEGER NOT NULL,"
  "  rows INTEGER NOT NULL,"
  "  cols INTEGER NOT NULL,"
  "  dtype TEXT NOT NULL CHECK (dtype IN ('f16', 'f32')),"
  "  data BLOB NOT NULL);"
  "INSERT INTO attention_v3 (run_id, segment, kind, layer, head, rows, cols, dtype, data)"
  "  SELECT run_id, segment, kind, layer, head, rows, cols, dtype, data FROM attention"
  "  ORDER BY run_id, segment, kind, layer, head;"
  "DROP TABLE attention;"
  "CREATE INDEX attention_v3_migrating ON attention_v3 (run_id, segment);"
  "CREATE TABLE segments_v3 ("
  "  id INTEGER PRIMARY KEY CHECK (id = run_id * 4294967296 + idx),"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  idx INTEGER NOT NULL CHECK (idx BETWEEN 0 AND 4294967295),"
  "  token_begin INTEGER NOT NULL,"
  "  token_end INTEGER NOT NULL,"
  "  text BLOB NOT NULL,"
  "  nll BLOB NOT NULL,"
  "  n_predicted INTEGER NOT NULL,"
  "  total_nll REAL,"
  "  memory_delta REAL,"
  "  transfer BLOB,"
  "  old_share BLOB,"
  "  token_share BLOB,"
  "  cos_prev BLOB,"
  "  read_usage BLOB,"
  "  attn_first INTEGER,"
  "  attn_count INTEGER NOT NULL DEFAULT 0);"
  "INSERT INTO segments_v3 SELECT s.run_id * 4294967296 + s.idx, s.run_id, s.idx, s.token_begin, s.token_end,"
  "  s.text, s.nll, s.n_predicted, s.total_nll, s.memory_delta, s.transfer,"
  "  (SELECT ms_f32_array (slot, old_share) FROM retention WHERE run_id = s.run_id AND segment = s.idx),"
  "  (SELECT ms_f32_array (slot, token_share) FROM retention WHERE run_id = s.run_id AND segment = s.idx),"
  "  (SELECT ms_f32_array (slot, cos_prev) FROM retention WHERE run_id = s.run_id AND segment = s.idx),"
  "  (SELECT ms_f32_array (slot, read_usage) FROM retention WHERE run_id = s.run_id AND segment = s.idx),"
  "  (SELECT min (id) FROM attention_v3 WHERE run_id = s.run_id AND segment = s.idx),"
  "  (SELECT count (*) FROM attention_v3 WHERE run_id = s.run_id AND segment = s.idx)"
  "  FROM segments s;"
  "DROP INDEX attention_v3_migrating;"
  "DROP TABLE retention;"
  "DROP TABLE segments;"
  "CREATE TABLE memory_v3 ("
  "  id INTEGER PRIMARY KEY CHECK (id = run_id * 4294967296 + segment + 1),"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  segment INTEGER NOT NULL,"
  "  rows INTEGER NOT NULL,"
  "  cols INTEGER NOT NULL,"
  "  data BLOB NOT NULL);"
  "INSERT INTO memory_v3 SELECT run_id * 4294967296 + segment + 1, run_id, segment, rows, cols, data FROM memory;"
  "DROP TABLE memory;"
  "ALTER TABLE attention_v3 RENAME TO attention;"
  "ALTER TABLE segments_v3 RENAME TO segments;"
  "ALTER TABLE memory_v3 RENAME TO memory;"
  "ALTER TABLE runs DROP COLUMN segments_done;",
  /* 3 → 4: one name per concept (ms-db.h).  Renaming a column rewrites
   * only the schema (its CHECK constraints included); the kinds rewrite
   * every attention row once. */
  "ALTER TABLE segments RENAME COLUMN idx TO segment;"
  "ALTER TABLE segments RENAME COLUMN old_share TO retention;"
  "ALTER TABLE segments RENAME COLUMN cos_prev TO representation;"
  "UPDATE attention SET kind = " KIND_FROM_V3 ("kind") " WHERE kind IN ('reader', 'rmt_read', 'writer', 'rmt_write');",
  /* 4 → 5: the model's tokens (ms-db.h).  Older rows keep NULL in all
   * three: they were tokenized by bytes. */
  "ALTER TABLE segments ADD COLUMN byte_begin INTEGER;"
  "ALTER TABLE segments ADD COLUMN token_ids BLOB;"
  "ALTER TABLE segments ADD COLUMN token_ends BLOB;",
  /* 5 → 6: causal retention and the reset-memory baseline (ms-causal.h),
   * computed after recording, on request. */
  "CREATE TABLE causal ("
  "  id INTEGER PRIMARY KEY,"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  replacement TEXT NOT NULL CHECK (replacement IN ('initial', 'zeros', 'permute', 'knockout', 'skip')),"
  "  slot INTEGER NOT NULL,"
  "  source INTEGER NOT NULL,"
  "  horizon INTEGER NOT NULL,"
  "  delta_nll BLOB NOT NULL,"
  "  delta_accuracy BLOB,"
  "  UNIQUE (run_id, replacement, slot, source));"
  "CREATE TABLE reset_memory ("
  "  id INTEGER PRIMARY KEY CHECK (id = run_id * 4294967296 + segment),"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  segment INTEGER NOT NULL CHECK (segment BETWEEN 0 AND 4294967295),"
  "  nll BLOB NOT NULL,"
  "  n_predicted INTEGER NOT NULL,"
  "  total_nll REAL);",
  /* 6 → 7: memory chunks (ms-db.h).  Each older memory row becomes a chunk
   * of one state, taking its segment's transfer along; MemBART's gate gets
   * its column (NULL where the engine has none). */
  "CREATE TABLE memory_v7 ("
  "  id INTEGER PRIMARY KEY CHECK (id = run_id * 4294967296 + segment + 1),"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  segment INTEGER NOT NULL,"
  "  n_states INTEGER NOT NULL CHECK (n_states BETWEEN 1 AND " G_STRINGIFY (MS_DB_MAX_CHUNK_STATES) "),"
  "  rows INTEGER NOT NULL,"
  "  cols INTEGER NOT NULL,"
  "  transfer BLOB,"
  "  data BLOB NOT NULL);"
  "INSERT INTO memory_v7 SELECT m.id, m.run_id, m.segment, 1, m.rows, m.cols,"
  "  (SELECT s.transfer FROM segments s WHERE s.id = m.id - 1 AND s.run_id = m.run_id AND s.segment = m.segment),"
  "  m.data FROM memory m;"
  "DROP TABLE memory;"
  "ALTER TABLE memory_v7 RENAME TO memory;"
  "ALTER TABLE segments DROP COLUMN transfer;"
  "ALTER TABLE segments ADD COLUMN gate BLOB;",
  /* 7 → 8: the tables stay; what the per-slot columns may hold grows
   * (narrow arrays, a token share left NULL: ms-recording-names.h), which
   * a schema-7 reader would refuse as cut arrays.  Older rows stay f32. */
  "",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == MS_DB_SCHEMA_VERSION);

/* A read-only handle on an older file sees the current tables through
 * these TEMP views, which take precedence over the main tables of the same
 * names: readers then need no second set of queries, and the file is read
 * as it is (it may be on read-only media, or an older build may still be
 * writing it).  Writers upgrade it instead.  The views of schema 1 and 2
 * scan where the tables would seek, which is fine at the sizes those
 * builds recorded; their writers inserted each segment's attention rows in
 * one transaction, so the rowids are consecutive.  The views of schemas 3
 * and 4 are plain renames that SQLite flattens into each query, so they seek as
 * tables do. */
/* Schema 5's token columns of a segment tokenized by bytes, as every
 * segment before schema 5 was (ms-db.h), and schema 7's gate, which no
 * older file stores. */
#define BYTES_TOKENS "NULL AS byte_begin, NULL AS token_ids, NULL AS token_ends, NULL AS gate"

/* Schema 7's memory table over an older one whose rows are keyed by id
 * (schemas 3 to 6): each row a chunk of one state, with its segment's
 * transfer beside it. */
#define MEMORY_CHUNKS_OF_ONE(segments_segment) \
  "CREATE TEMP VIEW memory AS SELECT m.id, m.run_id, m.segment, 1 AS n_states, m.rows, m.cols," \
  "  (SELECT s.transfer FROM main.segments s WHERE s.id = m.id - 1 AND s.run_id = m.run_id" \
  "    AND s." segments_segment " = m.segment) AS transfer, m.data FROM main.memory m;"

/* Schema 7's segments table over a schema 5 or 6 one: without transfer
 * (now in memory), with gate. */
#define SEGMENTS_OF_5 \
  "CREATE TEMP VIEW segments AS SELECT id, run_id, segment, token_begin, token_end, text, nll, n_predicted," \
  "  total_nll, memory_delta, retention, token_share, representation, read_usage, attn_first, attn_count," \
  "  byte_begin, token_ids, token_ends, NULL AS gate FROM main.segments;"

/* Schema 6's tables, empty, for every older file: nothing was computed
 * there. */
#define SCHEMA_6_VIEWS \
  "CREATE TEMP VIEW causal AS SELECT NULL AS id, NULL AS run_id, NULL AS replacement, NULL AS slot," \
  "  NULL AS source, NULL AS horizon, NULL AS delta_nll, NULL AS delta_accuracy WHERE 0;" \
  "CREATE TEMP VIEW reset_memory AS SELECT NULL AS id, NULL AS run_id, NULL AS segment, NULL AS nll," \
  "  NULL AS n_predicted, NULL AS total_nll WHERE 0;"

static const char schema_1_2_views[] =
  "CREATE TEMP VIEW segments AS SELECT s.run_id * 4294967296 + s.idx AS id, s.run_id, s.idx AS segment,"
  "  s.token_begin, s.token_end, s.text, s.nll, s.n_predicted, s.total_nll, s.memory_delta,"
  "  (SELECT ms_f32_array (slot, old_share) FROM main.retention WHERE run_id = s.run_id AND segment = s.idx)"
  "    AS retention,"
  "  (SELECT ms_f32_array (slot, token_share) FROM main.retention WHERE run_id = s.run_id AND segment = s.idx)"
  "    AS token_share,"
  "  (SELECT ms_f32_array (slot, cos_prev) FROM main.retention WHERE run_id = s.run_id AND segment = s.idx)"
  "    AS representation,"
  "  (SELECT ms_f32_array (slot, read_usage) FROM main.retention WHERE run_id = s.run_id AND segment = s.idx)"
  "    AS read_usage,"
  "  (SELECT min (rowid) FROM main.attention WHERE run_id = s.run_id AND segment = s.idx) AS attn_first,"
  "  (SELECT count (*) FROM main.attention WHERE run_id = s.run_id AND segment = s.idx) AS attn_count,"
  "  " BYTES_TOKENS " FROM main.segments s;"
  "CREATE TEMP VIEW attention AS SELECT rowid AS id, run_id, segment, " KIND_FROM_V3 ("kind") " AS kind, layer,"
  "  head, rows, cols, dtype, data FROM main.attention;"
  "CREATE TEMP VIEW memory AS SELECT m.run_id * 4294967296 + m.segment + 1 AS id, m.run_id, m.segment,"
  "  1 AS n_states, m.rows, m.cols, (SELECT s.transfer FROM main.segments s WHERE s.run_id = m.run_id"
  "    AND s.idx = m.segment) AS transfer, m.data FROM main.memory m;" SCHEMA_6_VIEWS;

static const char schema_6_views[] = SEGMENTS_OF_5 MEMORY_CHUNKS_OF_ONE ("segment");

static const char schema_5_views[] = SEGMENTS_OF_5 MEMORY_CHUNKS_OF_ONE ("segment") SCHEMA_6_VIEWS;

static const char schema_4_views[] =
  "CREATE TEMP VIEW segments AS SELECT id, run_id, segment, token_begin, token_end, text, nll, n_predicted,"
  "  total_nll, memory_delta, retention, token_share, representation, read_usage, attn_first,"
  "  attn_count, " BYTES_TOKENS " FROM main.segments;" MEMORY_CHUNKS_OF_ONE ("segment") SCHEMA_6_VIEWS;

static const char schema_3_views[] =
  "CREATE TEMP VIEW segments AS SELECT id, run_id, idx AS segment, token_begin, token_end, text, nll, n_predicted,"
  "  total_nll, memory_delta, old_share AS retention, token_share, cos_prev AS representation,"
  "  read_usage, attn_first, attn_count, " BYTES_TOKENS " FROM main.segments;"
  "CREATE TEMP VIEW attention AS SELECT id, run_id, segment, " KIND_FROM_V3 ("kind") " AS kind, layer, head, rows,"
  "  cols, dtype, data FROM main.attention;" MEMORY_CHUNKS_OF_ONE ("idx") SCHEMA_6_VIEWS;

gboolean
ms_db_fail (sqlite3 *db, const char *path, const char *what, GError **error)
{
  int code = sqlite3_extended_errcode (db);
  const char *hint = "";
  if ((code & 0xff) == SQLITE_FULL)
    hint = " (the disk is full)";
  else if ((code & 0xff) == SQLITE_INTERRUPT)
    hint = " (reading it took more work than a recording of its size can need: the file was altered)";
  else if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_CANTOPEN)
    hint = " (check that the file and its folder are writable)";
  else if ((code & 0xff) == SQLITE_CONSTRAINT)
    hint = " (the recording holds rows Memscope never writes: it was damaged or altered)";
  g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: %s: %s%s", path, what, sqlite3_errmsg (db), hint);
  return FALSE;
}

int
ms_db_step (sqlite3_stmt *st, const char *path, const char *what, GError **error)
{
  int rc = sqlite3_step (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    ms_db_fail (sqlite3_db_handle (st), path, what, error);
  return rc;
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
    return ms_db_fail (db, path, "accessing the recording", error);
  return TRUE;
}

/* ms_f32_array (slot, value): the aggregate that packs per-slot REAL rows
 * into one f32 array BLOB, value i at slot i (NaN for NULL and for slots
 * without a row).  For schema 1 and 2 files: the 2 → 3 migration, and
 * schema_1_2_views. */
typedef struct {
  GArray *values;
} F32Array;

#define F32_ARRAY_MAX_SLOTS (1 << 20)

static void
f32_array_step (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  F32Array *acc = sqlite3_aggregate_context (ctx, sizeof (F32Array));
  if (!acc)
    {
      sqlite3_result_error_nomem (ctx);
      return;
    }
  sqlite3_int64 slot = sqlite3_value_int64 (argv[0]);
  if (slot < 0 || slot >= F32_ARRAY_MAX_SLOTS)
    {
      sqlite3_result_error (ctx, "ms_f32_array: slot out of range", -1);
      return;
    }
  if (!acc->values)
    acc->values = g_array_new (FALSE, FALSE, sizeof (float));
  float nan = NAN;
  while (acc->values->len <= (guint) slot)
    g_array_append_val (acc->values, nan);
  g_array_index (acc->values, float, slot) =
    sqlite3_value_type (argv[1]) == SQLITE_NULL ? NAN : (float) sqlite3_value_double (argv[1]);
  (void) argc;
}

static void
f32_array_final (sqlite3_context *ctx)
{
  F32Array *acc = sqlite3_aggregate_context (ctx, 0);
  if (!acc || !acc->values)
    {
      sqlite3_result_null (ctx);
      return;
    }
  sqlite3_result_blob (ctx, acc->values->data, (int) (acc->values->len * sizeof (float)), SQLITE_TRANSIENT);
  g_clear_pointer (&acc->values, g_array_unref);
}

/* A query over the tables Memscope creates visits each row a bounded
 * number of times; a page holds at most a few hundred rows of any of them,
 * each a few dozen instructions per visit.  So this many progress ticks
 * (of BUDGET_TICK instructions) per page of the file bound every honest
 * query with room to spare, and stop a recursive or quadratic one planted
 * in the file. */
#define BUDGET_TICK 1000
#define BUDGET_TICKS_PER_PAGE 400
#define BUDGET_TICKS_MIN 100000

static gboolean
query_int64 (sqlite3 *db, const char *sql, gint64 *out)
{
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return rc == SQLITE_ROW;
}

static int
budget_progress (void *data)
{
  MsDbBudget *b = data;
  return b->left >= 0 && --b->left < 0;
}

void
ms_db_budget_attach (sqlite3 *db, MsDbBudget *budget)
{
  budget->left = -1;
  sqlite3_progress_handler (db, BUDGET_TICK, budget_progress, budget);
}

/* The bytes SQLite's handle on @db has open as the main file
 * (SQLITE_FCNTL_FILE_POINTER; an image's bytes for one in memory) or as
 * its -wal (SQLITE_FCNTL_JOURNAL_POINTER, @op), as their size is now; 0
 * where there is no such file open, -1 where its size is unknown. */
static gint64
open_file_bytes (sqlite3 *db, int op)
{
  sqlite3_file *f = NULL;
  sqlite3_int64 size = 0;
  if (sqlite3_file_control (db, "main", op, &f) != SQLITE_OK)
    return -1;
  if (!f || !f->pMethods)
    return 0;
  return f->pMethods->xFileSize (f, &size) == SQLITE_OK && size >= 0 ? size : -1;
}

void
ms_db_budget_arm (sqlite3 *db, MsDbBudget *budget, gint64 factor)
{
  budget->left = -1;
  gint64 pages = 0, page_size = 0;
  query_int64 (db, "PRAGMA main.page_count", &pages);
  query_int64 (db, "PRAGMA main.page_size", &page_size);
  ms_db_budget_arm_pages (db, budget, pages, page_size, factor);
}

void
ms_db_budget_arm_pages (sqlite3 *db, MsDbBudget *budget, gint64 pages, gint64 page_size, gint64 factor)
{
  /* A -wal's commit frame sets the database's size, page_count, to what
   * it claims (2^31 pages, say); a query can only visit pages the file or
   * the -wal hold, so the budget counts no more pages than their bytes
   * (the -wal's size taken first: a checkpoint moves its pages into the
   * file before it may shrink it). */
  gint64 wal = open_file_bytes (db, SQLITE_FCNTL_JOURNAL_POINTER);
  gint64 file = open_file_bytes (db, SQLITE_FCNTL_FILE_POINTER);
  if (wal >= 0 && file >= 0 && page_size >= 512)
    pages = MIN (pages, (MIN (file, G_MAXINT64 / 4) + MIN (wal, G_MAXINT64 / 4)) / page_size + 1);
  budget->left = (CLAMP (pages, 0, G_MAXINT32) * BUDGET_TICKS_PER_PAGE + BUDGET_TICKS_MIN) * CLAMP (factor, 1, 1000);
}

static gboolean
register_functions (sqlite3 *db)
{
  return sqlite3_create_function (db, "ms_f32_array", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                  NULL, f32_array_step, f32_array_final) == SQLITE_OK;
}

/* Appends one line per schema object of @db's main database (type, name,
 * table and SQL, SQLite's own objects included), in a fixed order. */
static gboolean
schema_lines (sqlite3 *db, GPtrArray *lines)
{
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2 (db, "SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY type, name, sql",
                          -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (st, 1), *table = (const char *) sqlite3_column_text (st, 2);
      g_autofree char *on = g_strcmp0 (name, table) != 0 ? g_strdup_printf (" on %s", table) : g_strdup ("");
      g_ptr_array_add (lines, g_strdup_printf ("%s %s%s: %s", sqlite3_column_text (st, 0), name, on,
                                               sqlite3_column_type (st, 3) == SQLITE_NULL
                                                 ? "(internal)" : (const char *) sqlite3_column_text (st, 3)));
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE;
}

/* The schema lines (schema_lines) Memscope writes at @version (1 …
 * MS_DB_SCHEMA_VERSION): those of an empty database after the migrations
 * up to @version (new files run them all, so every build wrote that text).
 * Built once per version and process, then shared; NULL when it cannot be
 * built (out of memory). */
static const GPtrArray *
expected_schema (int version)
{
  static GPtrArray *built[MS_DB_SCHEMA_VERSION + 1];
  G_LOCK_DEFINE_STATIC (built);
  G_LOCK (built);
  if (!built[version])
    {
      sqlite3 *expected = NULL;
      GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
      gboolean ok = sqlite3_open_v2 (":memory:", &expected, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK
                    && register_functions (expected);
      for (int v = 0; ok && v < version; v++)
        ok = sqlite3_exec (expected, migrations[v], NULL, NULL, NULL) == SQLITE_OK;
      ok = ok && schema_lines (expected, lines);
      sqlite3_close (expected);
      if (ok)
        built[version] = lines;
      else
        g_ptr_array_unref (lines);
    }
  const GPtrArray *out = built[version];
  G_UNLOCK (built);
  return out;
}

/* Checks that the schema of @db, at user_version @version (1 …
 * MS_DB_SCHEMA_VERSION), is exactly the one Memscope writes at that
 * version (expected_schema).  Anything else (a view, a trigger, another
 * table or index, a changed column) is refused, naming the object: a file
 * from elsewhere may hide code in its schema. */
static gboolean
check_schema (sqlite3 *db, int version, const char *path, GError **error)
{
  const GPtrArray *want = expected_schema (version);
  g_autoptr (GPtrArray) have = g_ptr_array_new_with_free_func (g_free);
  if (!want)
    return g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot build the schema of version %d to check the "
                        "recording against (out of memory?)", path, version), FALSE;
  if (!schema_lines (db, have))
    return ms_db_fail (db, path, "cannot read the recording's schema", error);
  for (guint i = 0; i < MAX (want->len, have->len); i++)
    {
      const char *w = i < want->len ? want->pdata[i] : NULL, *h = i < have->len ? have->pdata[i] : NULL;
      if (g_strcmp0 (w, h) == 0)
        continue;
      /* the same object defined otherwise: show where the definitions part */
      size_t head = h && w ? strcspn (h, ":") : 0, at = 0;
      if (h && w && strncmp (h, w, head + 1) == 0)
        {
          while (h[at] && h[at] == w[at])
            at++;
          size_t from = MAX (at, head + 40) - 40;
          g_autofree char *object = g_strndup (h, head);
          g_autofree char *near = g_strndup (h + from, 80);
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: the recording's schema is not the one Memscope writes "
                       "at version %d: its %s is defined otherwise, near “%s” (the file was altered, or was not "
                       "written by Memscope)", path, version, object, near);
          return FALSE;
        }
      /* both lists are sorted: the smaller line is the extra or the missing object */
      gboolean extra = h && (!w || strcmp (h, w) < 0);
      const char *line = extra ? h : w;
      g_autofree char *shown = g_strndup (line, 160);
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: the recording's schema is not the one Memscope writes at "
                   "version %d: it %s %s%s (the file was altered, or was not written by Memscope)", path, version,
                   extra ? "has" : "lacks", shown, strlen (line) > 160 ? "…" : "");
      return FALSE;
    }
  return TRUE;
}

/* SQLite's settings for database files of unknown origin: no writes to
 * the schema or shadow tables through SQL, no functions with side effects
 * run from the schema, cell sizes checked on every page read, and no views
 * or triggers from the file (TEMP ones, which only Memscope creates,
 * still work). */
static gboolean
harden (sqlite3 *db)
{
  return sqlite3_db_config (db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) == SQLITE_OK
         && sqlite3_db_config (db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) == SQLITE_OK
         && sqlite3_db_config (db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL) == SQLITE_OK
         && sqlite3_db_config (db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL) == SQLITE_OK
         && sqlite3_exec (db, "PRAGMA cell_size_check = ON", NULL, NULL, NULL) == SQLITE_OK;
}

/* Everything ms_db_open checks before it trusts a file, under a work
 * budget and in one read transaction (another process may be migrating the
 * file): the hardened settings, a user_version this build knows, and a
 * schema that is exactly the one of that version.  Returns the version, or
 * −1 with @error set. */
static int
check_file (sqlite3 *db, const char *path, GError **error)
{
  MsDbBudget budget;
  ms_db_budget_attach (db, &budget);
  ms_db_budget_arm (db, &budget, 1);
  gint64 version = 0, n_objects = 0;
  int out = -1;
  if (!harden (db) || !register_functions (db))
    ms_db_fail (db, path, "cannot prepare to read the recording", error);
  else if (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK
           || !query_int64 (db, "PRAGMA user_version", &version)
           || !query_int64 (db, "SELECT count(*) FROM main.sqlite_schema", &n_objects))
    {
      if (sqlite3_errcode (db) == SQLITE_NOTADB)
        g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: not a Memscope recording (not an SQLite database)", path);
      else
        ms_db_fail (db, path, "cannot read the recording", error);
    }
  else if (version > MS_DB_SCHEMA_VERSION)
    g_set_error (error, MS_ERROR, MS_ERROR_FORMAT,
                 "%s: the recording has schema version %" G_GINT64_FORMAT ", newer than this build of Memscope reads "
                 "(%d); open it with a newer Memscope", path, version, MS_DB_SCHEMA_VERSION);
  else if (version < 0)
    g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: the recording has schema version %" G_GINT64_FORMAT
                 ", which no Memscope writes (versions 1 to %d): the file was altered, or is not a recording", path,
                 version, MS_DB_SCHEMA_VERSION);
  else if (version == 0 && n_objects > 0)
    g_set_error (error, MS_ERROR, MS_ERROR_FORMAT,
                 "%s: an SQLite database, but not a Memscope recording (it has other tables)", path);
  else if (version == 0 || check_schema (db, (int) version, path, error))
    out = (int) version;
  sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
  sqlite3_progress_handler (db, 0, NULL, NULL);
  return out;
}

/* @path as an SQLite URI ("file:" and the path URI-escaped) with
 * @query appended. */
static char *
file_uri (const char *path, const char *query)
{
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *escaped = g_uri_escape_string (absolute, "/", FALSE);
  return g_strconcat ("file:", escaped, "?", query, NULL);
}

/* A read-only handle on @path.  A file in WAL mode needs its -shm (and the
 * right to create it) even to be read; where neither is to be had (read-only
 * media, a folder the user cannot write) the file is opened immutable: SQLite
 * then takes no locks and ignores any WAL, which is right for a file nobody
 * writes and whose -wal is gone or empty.  When a -wal with content lies
 * beside it (a recorder was killed), immutable would show the file without
 * the transactions committed there, so nothing is opened and *@wal_left is
 * set: the caller reads it through ms_db_wal_image.  Returns SQLite's result and
 * the handle in *@db (to be closed even on failure), as sqlite3_open_v2
 * does. */
static int
open_read_only (const char *path, sqlite3 **db, gboolean *wal_left)
{
  int rc = sqlite3_open_v2 (path, db, SQLITE_OPEN_READONLY, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_stmt *st = NULL;
      int step = sqlite3_prepare_v2 (*db, "PRAGMA user_version", -1, &st, NULL);
      if (step == SQLITE_OK)
        step = sqlite3_step (st);
      sqlite3_finalize (st);
      int code = sqlite3_errcode (*db) & 0xff;
      if (step == SQLITE_ROW || (code != SQLITE_CANTOPEN && code != SQLITE_READONLY) || access (path, R_OK) != 0)
        return SQLITE_OK;
    }
  else if (access (path, R_OK) != 0)
    return rc;
  sqlite3_close (*db);
  *db = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  GStatBuf wal_stat;
  if (g_stat (wal, &wal_stat) == 0 && wal_stat.st_size > 0)
    {
      *wal_left = TRUE;
      return SQLITE_CANTOPEN;
    }
  g_autofree char *uri = file_uri (path, "immutable=1");
  return sqlite3_open_v2 (uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
}

/* The checks and preparation every handle goes through once open: the
 * schema version, the functions the reader's SQL uses, and for read-only
 * handles the views over an older schema or for writable ones the
 * upgrade.  Closes @db on failure. */
static sqlite3 *
db_ready (sqlite3 *db, const char *path, gboolean read_only, GError **error);

static sqlite3 *open_image (guchar *copy, size_t size, const char *label, GError **error);

sqlite3 *
ms_db_open (const char *path, gboolean create, gboolean read_only, GError **error)
{
  sqlite3 *db = NULL;
  gboolean wal_left = FALSE;
  /* A writable handle is only ever used by one thread at a time (the
   * recorder hands it to its writer thread and back), so it goes without
   * SQLite's per-call mutex. */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if ((read_only ? open_read_only (path, &db, &wal_left) : sqlite3_open_v2 (path, &db, flags, NULL)) != SQLITE_OK)
    {
      if (wal_left)
        {
          g_autofree char *wal = g_strconcat (path, "-wal", NULL);
          gsize size = 0;
          guchar *image = ms_db_wal_image (path, wal, &size, error);
          return image ? open_image (image, size, path, error) : NULL;
        }
      if (!create && !g_file_test (path, G_FILE_TEST_EXISTS))
        g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: no such recording", path);
      else
        ms_db_fail (db, path, create ? "cannot create or open the recording" : "cannot open the recording", error);
      sqlite3_close (db);
      return NULL;
    }
  return db_ready (db, path, read_only, error);
}

sqlite3 *
ms_db_open_image (const void *data, size_t size, const char *label, GError **error)
{
  unsigned char *copy = sqlite3_malloc64 (MAX (size, 1));
  if (!copy)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: not enough memory for a %zu-byte recording", label, size);
      return NULL;
    }
  if (size > 0)
    memcpy (copy, data, size);
  return open_image (copy, size, label, error);
}

/* ms_db_open_image of @copy, an sqlite3_malloc64 buffer it takes. */
static sqlite3 *
open_image (guchar *copy, size_t size, const char *label, GError **error)
{
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    {
      ms_db_fail (db, label, "cannot open the recording", error);
      sqlite3_close (db);
      sqlite3_free (copy);
      return NULL;
    }
  /* Bytes 18 and 19 of the header are 2 in a WAL-mode file and 1 in a
   * rollback one; memory holds no WAL, so an image is read as a rollback
   * file (what a checkpointed WAL file is, byte for byte, but these two). */
  if (size >= 20 && copy[18] == 2 && copy[19] == 2)
    copy[18] = copy[19] = 1;
  if (sqlite3_deserialize (db, "main", copy, (sqlite3_int64) size, (sqlite3_int64) size,
                           SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) != SQLITE_OK)
    {
      ms_db_fail (db, label, "cannot open the recording", error);
      sqlite3_close (db);
      return NULL;
    }
  return db_ready (db, label, TRUE, error);
}

void
ms_db_close_shareable (sqlite3 *db)
{
  if (!db)
    return;
  /* Leaving WAL needs the file to itself; a reader that still has it open
   * would hold the writer for the whole busy timeout, so try once. */
  sqlite3_busy_timeout (db, 0);
  sqlite3_exec (db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;", NULL, NULL, NULL);
  sqlite3_close (db);
}

static sqlite3 *
db_ready (sqlite3 *db, const char *path, gboolean read_only, GError **error)
{
  sqlite3_busy_timeout (db, 10000);
  sqlite3_extended_result_codes (db, 1);
  int version = check_file (db, path, error);
  if (version < 0)
    {
      sqlite3_close (db);
      return NULL;
    }
  if (read_only)
    {
      if (version == 0)
        g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: empty: not a Memscope recording", path);
      else if (version < MS_DB_SCHEMA_VERSION
               && sqlite3_exec (db, version < 3 ? schema_1_2_views : version == 3 ? schema_3_views
                                   : version == 4 ? schema_4_views : version == 5 ? schema_5_views
                                   : version == 6 ? schema_6_views : "",
                                NULL, NULL, NULL) != SQLITE_OK)
        ms_db_fail (db, path, "cannot read a recording of this older schema", error);
      else
        return db;
      sqlite3_close (db);
      return NULL;
    }

  /* A new file gets 8 KiB pages (only possible before the first table and
   * before WAL).  A head's attention BLOB is 1–6 KiB, of which 4 KiB pages
   * held one or two, half empty.  Larger pages pack them as well but cost
   * more per commit, since the WAL takes every page a commit touched in
   * full, and each commit touches the last, partly filled leaf and the
   * interior pages of each table.  8 KiB writes fewer bytes per segment
   * for the same file size (tests/bench/README.md, Recording). */
  /* A new file is created without syncs (synchronous = OFF until its
   * schema is committed): it holds nothing to lose yet.  Switching it to
   * WAL is a rollback-journal transaction that would otherwise sync the
   * journal, its folder and the file (4 fdatasyncs, most of the time a
   * short recording takes to start on a slow disk); after it, WAL commits
   * at synchronous = NORMAL do not sync until the first checkpoint, which
   * syncs the log and then the file, header and schema included.  So a
   * power loss before that checkpoint may lose the new run's segments, as
   * it could before (the log was not synced either), and one after it
   * finds the file as synced as ever; a killed process loses nothing the
   * page cache holds. */
  if (version == 0 && !ms_db_exec (db, path, "PRAGMA page_size = 8192; PRAGMA synchronous = OFF;", error))
    {
      sqlite3_close (db);
      return NULL;
    }
  if (!ms_db_exec (db, path, version == 0 ? "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
                                          : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                   error))
    {
      sqlite3_close (db);
      return NULL;
    }
  /* Each step re-reads the version inside its write transaction, so two
   * processes opening a new file at once migrate it exactly once; a new
   * file runs every migration in one transaction. */
  while (version < MS_DB_SCHEMA_VERSION)
    {
      if (!ms_db_exec (db, path, "BEGIN IMMEDIATE", error))
        {
          sqlite3_close (db);
          return NULL;
        }
      gint64 now = -1;
      gboolean ok = query_int64 (db, "PRAGMA user_version", &now) && now >= version && now <= MS_DB_SCHEMA_VERSION;
      version = (int) now;
      gboolean all = version == 0;
      while (ok && version < MS_DB_SCHEMA_VERSION)
        {
          g_autofree char *sql = g_strdup_printf ("%s PRAGMA user_version = %d;", migrations[version], version + 1);
          g_autofree char *what = g_strdup_printf ("cannot upgrade the recording from schema %d to %d (it is left at "
                                                   "schema %d)", version, version + 1, version);
          ok = sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK || ms_db_fail (db, path, what, error);
          version++;
          if (!all)
            break;
        }
      if (!ok || !ms_db_exec (db, path, "COMMIT", error))
        {
          if (error && !*error)
            ms_db_fail (db, path, "cannot upgrade the recording", error);
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          /* back in rollback mode, as it came: one file, which the upgrade did not change */
          ms_db_close_shareable (db);
          return NULL;
        }
    }
  if (!ms_db_exec (db, path, "PRAGMA synchronous = NORMAL;", error))
    {
      sqlite3_close (db);
      return NULL;
    }
  return db;
}
