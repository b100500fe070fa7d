/* bench-storage-floor.c — the least that storing a compact recording's
 * bytes can cost per segment, beside the model's plain step.
 *
 *   bench-storage-floor MODEL N_SEGMENTS DIR [--threads T] [--repeats R]
 *
 * Records MODEL over N_SEGMENTS full segments of bench-record's input
 * (ms_record, compact, in DIR) and reads from the file what a segment
 * stores (ms-db.h): its state and transfer (the memory chunks' bytes over
 * their states), its segments row (dbstat's payload of that table over
 * the segments) and one such row's values; S = state + transfer + row.
 * Then R repeats (default 9) of: a plain run of the same tokens on T
 * kernel threads (process CPU time, as bench-record's), and N_SEGMENTS
 * segments of S pseudo-random bytes stored seven ways, each promising less
 * than the next:
 *   sqlite_schema    the recording's own settings (ms_db_open; the run
 *                    writer's pragmas) and tables: a segments row per
 *                    segment (the recorded values, its own key), one
 *                    memory chunk of G states and transfers per commit;
 *   sqlite_blob      the same settings, one row of one S-byte blob per
 *                    segment, G per commit (prepared statements both);
 *   write_fdatasync  write(2) appends, fdatasync every 2 MiB (the WAL's
 *                    checkpoint cadence, each byte written once);
 *   write            write(2) appends into the page cache, never synced;
 *   writev_group     the same, one writev(2) per G segments (and the
 *                    same with fdatasync every 2 MiB: _fdatasync);
 *   memcpy           copies into a ring the size of the recorder's records.
 * G = min (C, half the recorder's records), C the states of the recorded
 * run's largest chunk: the recorder's groups once its chunks are full.
 * The SQLite ways end with a PASSIVE checkpoint, so each byte reached the
 * database file once.  Each way is timed on this thread: CPU (user +
 * system, not the kernel's writeback threads, which flush the unsynced
 * files later or never) and wall time; per repeat, µs per segment and the
 * ratio to that repeat's plain step; the JSON line has [q1, median, q3]
 * over the repeats and the bytes written per segment (/proc/self/io).
 * What the real run writer adds to sqlite_schema (zero-filled chunks, two
 * blob handles and a savepoint per segment, the slot cosines) is in
 * bench-record's whole recording.  Nothing here passes or fails on time. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/uio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app-blas.h"
#include "bench-stats.h"
#include "ms-db.h"
#include "ms-engine.h"
#include "ms-parallel.h"
#include "ms-recorder.h"
#include "ms-segment-record.h"

/* The recorder's records take at most this many bytes and number at most
 * this many (ms-recorder.c: RECORDS_BUDGET, RECORDS_MAX); it commits at
 * most half of them per transaction. */
enum { RECORDS_BUDGET = 32 << 20, RECORDS_MAX = 256 };
/* Distinct source segments cycled through: the bytes a step just made
 * are in the cache, so a small hot ring gives the floor. */
enum { SOURCE_SEGMENTS = 4 };

typedef enum {
  WAY_MEMCPY, WAY_WRITEV, WAY_WRITEV_SYNC, WAY_WRITE, WAY_WRITE_SYNC, WAY_SQLITE_BLOB, WAY_SQLITE_SCHEMA, N_WAYS
} Way;
static const char *const way_names[N_WAYS] = { "memcpy", "writev_group", "writev_group_fdatasync", "write",
                                               "write_fdatasync", "sqlite_blob", "sqlite_schema" };
/* The unsynced bytes after which the ways that sync do: SQLite's WAL
 * checkpoint cadence with the 8 KiB pages of new recordings. */
#define SYNC_BYTES ((size_t) MS_RECORDER_CHECKPOINT_PAGES * 8192)

/* What one segment of the recorded config stores, from the file. */
typedef struct {
  gint64 state_bytes, transfer_bytes;   /* per segment; transfer 0 where the engine's is diagonal */
  double row_bytes;                     /* the segments row's record, mean over the segments */
  int chunk_states;                     /* C */
  int group;                            /* G */
  int n_columns, id_column, segment_column;
  sqlite3_value **row;                  /* one segments row's values */
  char *attach_sql;                     /* copies the recording's models and runs rows */
} Stored;

typedef struct {
  int n_segments;
  size_t seg_bytes;                     /* S */
  guint8 *source;                       /* SOURCE_SEGMENTS × S */
  guint8 *ring;                         /* ring_segments × S (memcpy) */
  int ring_segments;
  const Stored *stored;
  const MsConfig *config;
  char *dir;
} Bench;

/* Seconds of CPU time: CLOCK_THREAD_CPUTIME_ID or CLOCK_PROCESS_CPUTIME_ID. */
static double
cpu_seconds (clockid_t clock)
{
  struct timespec ts;
  clock_gettime (clock, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A scratch file or the recording failed: nothing to measure. */
static void G_GNUC_NORETURN G_GNUC_PRINTF (1, 2)
fail (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  exit (1);
}

static void G_GNUC_NORETURN
die_sql (sqlite3 *db, const char *what)
{
  fail ("%s: %s", what, db ? sqlite3_errmsg (db) : "cannot open");
}

static void
exec_sql (sqlite3 *db, const char *sql)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    die_sql (db, sql);
}

static sqlite3_stmt *
prepare (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    die_sql (db, sql);
  return st;
}

static void
step_reset (sqlite3 *db, sqlite3_stmt *st)
{
  if (sqlite3_step (st) != SQLITE_DONE)
    die_sql (db, sqlite3_sql (st));
  sqlite3_reset (st);
}

static double
query_double (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = prepare (db, sql);
  if (sqlite3_step (st) != SQLITE_ROW)
    die_sql (db, sql);
  double v = sqlite3_column_double (st, 0);
  sqlite3_finalize (st);
  return v;
}

/* Reads what each segment of run 1 of the recording @path stores; the
 * file stays for attach_sql. */
static void
read_stored (const char *path, const MsConfig *c, int n_segments, int group_max, Stored *s)
{
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    die_sql (db, path);
  double segments = query_double (db, "SELECT count (*) FROM segments");
  if (segments != n_segments)
    fail ("%s: %.0f segments recorded, %d expected", path, segments, n_segments);
  s->state_bytes = (gint64) (query_double (db, "SELECT sum (length (data)) FROM memory WHERE segment >= 0") / segments);
  s->transfer_bytes = (gint64) (query_double (db, "SELECT coalesce (sum (length (transfer)), 0) FROM memory "
                                                  "WHERE segment >= 0") / segments);
  gint64 K = c->n_slots, d = c->d_model;
  if (s->state_bytes != K * d * 4 || (s->transfer_bytes != 0 && s->transfer_bytes != K * K * 4))
    fail ("%s: %" G_GINT64_FORMAT " bytes of state and %" G_GINT64_FORMAT " of transfer per segment, not K·d·4 "
             "and 0 or K·K·4 (ms-db.h)", path, s->state_bytes, s->transfer_bytes);
  s->row_bytes = query_double (db, "SELECT sum (payload) FROM dbstat WHERE name = 'segments'") / segments;
  s->chunk_states = (int) query_double (db, "SELECT max (n_states) FROM memory");
  s->group = MIN (s->chunk_states, group_max);
  /* columns in the table's order; the middle segment's values */
  sqlite3_stmt *st = prepare (db, "SELECT * FROM segments ORDER BY id LIMIT 1 OFFSET (SELECT count (*) / 2 "
                                  "FROM segments)");
  if (sqlite3_step (st) != SQLITE_ROW)
    die_sql (db, "reading a segments row");
  s->n_columns = sqlite3_column_count (st);
  s->row = g_new0 (sqlite3_value *, s->n_columns);
  s->id_column = s->segment_column = -1;
  for (int i = 0; i < s->n_columns; i++)
    {
      s->row[i] = sqlite3_value_dup (sqlite3_column_value (st, i));
      if (strcmp (sqlite3_column_name (st, i), "id") == 0)
        s->id_column = i;
      if (strcmp (sqlite3_column_name (st, i), "segment") == 0)
        s->segment_column = i;
    }
  sqlite3_finalize (st);
  if (s->id_column < 0 || s->segment_column < 0)
    fail ("%s: the segments table has no id or segment column", path);
  sqlite3_close (db);
  char *sql = sqlite3_mprintf ("ATTACH %Q AS t; INSERT INTO models SELECT * FROM t.models; "
                               "INSERT INTO runs SELECT * FROM t.runs; DETACH t;", path);
  s->attach_sql = g_strdup (sql);
  sqlite3_free (sql);
}

/* A fresh recording at @path as the run writer has it (ms_db_open and
 * ms_run_writer_open's pragmas). */
static sqlite3 *
open_recording (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL), *shm = g_strconcat (path, "-shm", NULL);
  g_unlink (path), g_unlink (wal), g_unlink (shm);
  g_autoptr (GError) error = NULL;
  sqlite3 *db = ms_db_open (path, TRUE, FALSE, &error);
  if (!db)
    fail ("%s", error->message);
  exec_sql (db, "PRAGMA wal_autocheckpoint = " G_STRINGIFY (MS_RECORDER_CHECKPOINT_PAGES) ";"
                "PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;");
  return db;
}

static void
close_recording (sqlite3 *db, const char *path)
{
  sqlite3_close (db);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL), *shm = g_strconcat (path, "-shm", NULL);
  g_unlink (path), g_unlink (wal), g_unlink (shm);
}

static const guint8 *
source_of (const Bench *b, int segment)
{
  return b->source + (size_t) (segment % SOURCE_SEGMENTS) * b->seg_bytes;
}

static volatile guint8 sink;   /* read from the copies, so that none is left out */

static void
store_memcpy (const Bench *b)
{
  for (int i = 0; i < b->n_segments; i++)
    memcpy (b->ring + (size_t) (i % b->ring_segments) * b->seg_bytes, source_of (b, i), b->seg_bytes);
  sink = b->ring[(size_t) ((b->n_segments - 1) % b->ring_segments) * b->seg_bytes];
}

/* Appends every segment with its own write(2); with @sync, as
 * store_writev. */
static void
store_write (const Bench *b, int fd, gboolean sync)
{
  size_t unsynced = 0;
  for (int i = 0; i < b->n_segments; i++)
    {
      if (write (fd, source_of (b, i), b->seg_bytes) != (ssize_t) b->seg_bytes)   /* a file takes it whole */
        fail ("writing the scratch file: %s", g_strerror (errno));
      unsynced += b->seg_bytes;
      if (sync && (unsynced >= SYNC_BYTES || i == b->n_segments - 1))
        {
          if (fdatasync (fd) != 0)
            fail ("fdatasync: %s", g_strerror (errno));
          unsynced = 0;
        }
    }
}

/* Appends each group of G segments with one writev(2); with @sync, and
 * fdatasync each time SYNC_BYTES were written since the last, and at the
 * end. */
static void
store_writev (const Bench *b, int fd, gboolean sync)
{
  g_autofree struct iovec *iov = g_new (struct iovec, b->stored->group);
  size_t unsynced = 0;
  for (int first = 0; first < b->n_segments; first += b->stored->group)
    {
      int n = MIN (b->stored->group, b->n_segments - first);
      for (int i = 0; i < n; i++)
        iov[i] = (struct iovec) { (void *) source_of (b, first + i), b->seg_bytes };
      if (writev (fd, iov, n) != (ssize_t) (n * b->seg_bytes))
        fail ("writing the scratch file: %s", g_strerror (errno));
      unsynced += n * b->seg_bytes;
      if (sync && (unsynced >= SYNC_BYTES || first + n == b->n_segments))
        {
          if (fdatasync (fd) != 0)
            fail ("fdatasync: %s", g_strerror (errno));
          unsynced = 0;
        }
    }
}

static void
store_sqlite_blob (const Bench *b, sqlite3 *db)
{
  sqlite3_stmt *insert = prepare (db, "INSERT INTO floor (id, data) VALUES (?1, ?2)");
  for (int i = 0; i < b->n_segments; i++)
    {
      if (i % b->stored->group == 0)
        exec_sql (db, "BEGIN IMMEDIATE");
      sqlite3_bind_int (insert, 1, i);
      sqlite3_bind_blob64 (insert, 2, source_of (b, i), b->seg_bytes, SQLITE_STATIC);
      step_reset (db, insert);
      if ((i + 1) % b->stored->group == 0 || i == b->n_segments - 1)
        exec_sql (db, "COMMIT");
    }
  exec_sql (db, "PRAGMA wal_checkpoint(PASSIVE)");
  sqlite3_finalize (insert);
}

/* The recording's tables: the segments row per segment, and per group
 * one memory chunk of its states and transfers, gathered into @states
 * and @transfers (G each) as the segments come. */
static void
store_sqlite_schema (const Bench *b, sqlite3 *db, guint8 *states, guint8 *transfers)
{
  const Stored *s = b->stored;
  gint64 run = 1, base = run << 32;   /* the run the rows copied from the recording have */
  GString *sql = g_string_new ("INSERT INTO segments VALUES (?1");
  for (int i = 1; i < s->n_columns; i++)
    g_string_append_printf (sql, ", ?%d", i + 1);
  g_string_append (sql, ")");
  sqlite3_stmt *segment = prepare (db, sql->str);
  g_string_free (sql, TRUE);
  sqlite3_stmt *chunk = prepare (db, "INSERT INTO memory (id, run_id, segment, n_states, rows, cols, transfer, data)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  for (int i = 0; i < s->n_columns; i++)
    if (i != s->id_column && i != s->segment_column)
      sqlite3_bind_value (segment, i + 1, s->row[i]);
  sqlite3_bind_int64 (chunk, 2, run);
  sqlite3_bind_int (chunk, 5, b->config->n_slots);
  sqlite3_bind_int (chunk, 6, b->config->d_model);
  for (int i = 0, first = 0; i < b->n_segments; i++)
    {
      if (i % s->group == 0)
        {
          exec_sql (db, "BEGIN IMMEDIATE");
          first = i;
        }
      sqlite3_bind_int64 (segment, s->id_column + 1, base + i);
      sqlite3_bind_int (segment, s->segment_column + 1, i);
      step_reset (db, segment);
      const guint8 *src = source_of (b, i);
      memcpy (states + (size_t) (i - first) * s->state_bytes, src, s->state_bytes);
      memcpy (transfers + (size_t) (i - first) * s->transfer_bytes, src + s->state_bytes, s->transfer_bytes);
      if ((i + 1) % s->group == 0 || i == b->n_segments - 1)
        {
          int n = i - first + 1;
          sqlite3_bind_int64 (chunk, 1, base + first + 1);
          sqlite3_bind_int (chunk, 3, first);
          sqlite3_bind_int (chunk, 4, n);
          if (s->transfer_bytes)
            sqlite3_bind_blob64 (chunk, 7, transfers, (sqlite3_uint64) n * s->transfer_bytes, SQLITE_STATIC);
          else
            sqlite3_bind_null (chunk, 7);
          sqlite3_bind_blob64 (chunk, 8, states, (sqlite3_uint64) n * s->state_bytes, SQLITE_STATIC);
          step_reset (db, chunk);
          exec_sql (db, "COMMIT");
        }
    }
  exec_sql (db, "PRAGMA wal_checkpoint(PASSIVE)");
  sqlite3_finalize (segment);
  sqlite3_finalize (chunk);
}

/* One way's seconds over the N segments, this thread's CPU and wall
 * time, and the bytes it wrote. */
typedef struct {
  double cpu, wall, written;
} Sample;

/* Stores the N segments one @way.  Setting up (files, schema, the rows
 * copied from the recording) and taking down are outside the times. */
static Sample
run_way (const Bench *b, Way way)
{
  g_autofree char *path = g_build_filename (b->dir, "bench-storage-floor.scratch", NULL);
  int fd = -1;
  sqlite3 *db = NULL;
  g_autofree guint8 *states = NULL, *transfers = NULL;
  if (way == WAY_WRITEV || way == WAY_WRITEV_SYNC || way == WAY_WRITE || way == WAY_WRITE_SYNC)
    {
      g_unlink (path);
      if ((fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0)
        fail ("%s: %s", path, g_strerror (errno));
    }
  else if (way == WAY_SQLITE_BLOB || way == WAY_SQLITE_SCHEMA)
    db = open_recording (path);
  if (way == WAY_SQLITE_BLOB)
    exec_sql (db, "CREATE TABLE floor (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  if (way == WAY_SQLITE_SCHEMA)
    {
      exec_sql (db, b->stored->attach_sql);
      states = g_malloc ((size_t) b->stored->group * b->stored->state_bytes);
      transfers = g_malloc ((size_t) b->stored->group * b->stored->transfer_bytes + 1);
    }
  gint64 w0 = bench_bytes_written (), t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds (CLOCK_THREAD_CPUTIME_ID);
  switch (way)
    {
    case WAY_MEMCPY: store_memcpy (b); break;
    case WAY_WRITEV: store_writev (b, fd, FALSE); break;
    case WAY_WRITEV_SYNC: store_writev (b, fd, TRUE); break;
    case WAY_WRITE: store_write (b, fd, FALSE); break;
    case WAY_WRITE_SYNC: store_write (b, fd, TRUE); break;
    case WAY_SQLITE_BLOB: store_sqlite_blob (b, db); break;
    case WAY_SQLITE_SCHEMA: store_sqlite_schema (b, db, states, transfers); break;
    default: g_assert_not_reached ();
    }
  Sample r = { .cpu = cpu_seconds (CLOCK_THREAD_CPUTIME_ID) - c0, .wall = (g_get_monotonic_time () - t0) / 1e6 };
  r.written = w0 < 0 ? -1 : bench_bytes_written () - w0;
  if (fd >= 0)
    close (fd), g_unlink (path);
  if (db)
    close_recording (db, path);
  return r;
}

/* The JSON field "name": [q1, median, q3] of the @n values @v. */
static void
print_quartiles (const char *name, const double *v, int n)
{
  printf ("\"%s\": [%.4g, %.4g, %.4g]", name, bench_quantile (v, n, 0.25), bench_quantile (v, n, 0.5),
          bench_quantile (v, n, 0.75));
}

int
main (int argc, char **argv)
{
  app_use_fast_blas (argv);   /* the kernels memscope-cli users get */
  int threads = 1, repeats = 9;
  GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "the core's kernel threads", "T" },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &repeats, "Repeats (9)", "R" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL N_SEGMENTS DIR");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 4 || repeats < 1 || atoi (argv[2]) < 1
      || threads < 1)
    {
      fprintf (stderr, "usage: bench-storage-floor MODEL N_SEGMENTS DIR [--threads T] [--repeats R]\n");
      return 2;
    }
  ms_parallel_set_threads (threads);
  g_autoptr (MsModel) model = ms_model_load (argv[1], &error);
  if (!model)
    fail ("%s", error->message);
  const MsConfig *c = ms_model_get_config (model);
  int n_segments = atoi (argv[2]);
  size_t n = (size_t) n_segments * c->segment_len;

  /* the input bench-record records: the same bytes for the same N */
  g_autofree char *input = g_build_filename (argv[3], "bench-storage-floor-input.txt", NULL);
  g_autofree char *recording = g_build_filename (argv[3], "bench-storage-floor.sqlite", NULL);
  g_autofree char *text = g_new (char, n);
  g_autofree int32_t *tokens = g_new (int32_t, n);
  GRand *rand = g_rand_new_with_seed (7);
  for (size_t i = 0; i < n; i++)
    tokens[i] = (uint8_t) (text[i] = (char) g_rand_int_range (rand, 32, 127));
  g_unlink (recording);
  MsRecordOptions opts = { .name = "bench", .attn = MS_ATTN_STORE_NONE };
  if (!g_file_set_contents (input, text, (gssize) n, &error)
      || !ms_record (recording, model, input, &opts, 0, NULL, NULL, NULL, NULL, &error))
    fail ("%s", error->message);
  MsSegmentRecordSizes sizes;
  ms_segment_record_sizes (c, MS_ATTN_STORE_NONE, &sizes);
  int n_records = (int) CLAMP (RECORDS_BUDGET / sizes.bytes, 1, RECORDS_MAX);
  Stored stored = { 0 };
  read_stored (recording, c, n_segments, MAX (n_records / 2, 1), &stored);
  g_unlink (input);

  Bench b = { .n_segments = n_segments, .stored = &stored, .config = c, .dir = argv[3],
              .ring_segments = n_records };
  b.seg_bytes = (size_t) (stored.state_bytes + stored.transfer_bytes + stored.row_bytes + 0.5);
  b.source = g_malloc (SOURCE_SEGMENTS * b.seg_bytes);
  for (size_t i = 0; i < SOURCE_SEGMENTS * b.seg_bytes; i++)
    b.source[i] = (guint8) g_rand_int_range (rand, 1, 256);
  g_rand_free (rand);
  b.ring = g_malloc (b.ring_segments * b.seg_bytes);
  memset (b.ring, 1, b.ring_segments * b.seg_bytes);   /* its pages mapped before the timing */

  /* per way and repeat: CPU and wall µs per segment, their ratios to the plain step's */
  enum { CPU, WALL, CPU_RATIO, WALL_RATIO, N_STATS };
  static const char *const stat_names[N_STATS] = { "cpu_us", "wall_us", "cpu_ratio", "wall_ratio" };
  g_autofree double *plain_cpu = g_new (double, repeats), *plain_wall = g_new (double, repeats);
  g_autofree double *stats = g_new (double, N_WAYS * N_STATS * repeats), *written = g_new (double, N_WAYS * repeats);
#define STAT(w, s) (stats + ((w) * N_STATS + (s)) * repeats)
  for (int rep = 0; rep < repeats; rep++)
    {
      g_autoptr (MsSession) s = ms_session_new (model);
      gint64 t0 = g_get_monotonic_time ();
      double c0 = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID);
      if (!ms_session_run (s, tokens, n, 0, NULL, NULL, NULL, NULL, &error))
        fail ("%s", error->message);
      plain_cpu[rep] = (cpu_seconds (CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e6 / n_segments;
      plain_wall[rep] = (g_get_monotonic_time () - t0) / (double) n_segments;
      for (int w = 0; w < N_WAYS; w++)
        {
          Sample r = run_way (&b, (Way) w);
          STAT (w, CPU)[rep] = r.cpu * 1e6 / n_segments;
          STAT (w, WALL)[rep] = r.wall * 1e6 / n_segments;
          STAT (w, CPU_RATIO)[rep] = STAT (w, CPU)[rep] / plain_cpu[rep];
          STAT (w, WALL_RATIO)[rep] = STAT (w, WALL)[rep] / plain_wall[rep];
          written[w * repeats + rep] = r.written < 0 ? -1 : r.written / n_segments;
        }
    }

  printf ("{\"model\": \"%s\", \"arch\": \"%s\", \"threads\": %d, \"segments\": %d, \"repeats\": %d, "
          "\"K\": %d, \"d\": %d, \"L\": %d, \"state_bytes\": %" G_GINT64_FORMAT ", \"transfer_bytes\": %"
          G_GINT64_FORMAT ", \"row_bytes\": %.1f, \"stored_bytes_per_segment\": %zu, \"chunk_states\": %d, "
          "\"group\": %d, ", argv[1], ms_config_get_arch (c), threads, n_segments, repeats, c->n_slots, c->d_model,
          c->segment_len, stored.state_bytes, stored.transfer_bytes, stored.row_bytes, b.seg_bytes,
          stored.chunk_states, stored.group);
  print_quartiles ("plain_cpu_us", plain_cpu, repeats);
  printf (", ");
  print_quartiles ("plain_wall_us", plain_wall, repeats);
  for (int w = 0; w < N_WAYS; w++)
    {
      printf (", \"%s\": {", way_names[w]);
      for (int st = 0; st < N_STATS; st++)
        {
          print_quartiles (stat_names[st], STAT (w, st), repeats);
          printf (", ");
        }
      printf ("\"written_bytes_per_segment\": %.0f}", bench_quantile (written + w * repeats, repeats, 0.5));
    }
  printf ("}\n");
#undef STAT
  for (int i = 0; i < stored.n_columns; i++)
    sqlite3_value_free (stored.row[i]);
  g_free (stored.row), g_free (stored.attach_sql);
  g_unlink (recording);
  g_free (b.source), g_free (b.ring);
  return 0;
}
