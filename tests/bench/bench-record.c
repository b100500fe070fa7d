/* bench-record.c — what recording costs.
 *
 *   bench-record MODEL N_SEGMENTS DB_DIR [--threads T] [--repeats R] [--attn none|f16|f32]
 *
 * Runs MODEL over N_SEGMENTS full segments of pseudo-random bytes, R times
 * (default 9) each way, alternating: as a plain session (no observer) and
 * through ms_record into a fresh database in DB_DIR, compact (--attn none,
 * the default of memscope-cli record) or storing every attention matrix
 * (f16, f32).  Prints one JSON line: the fastest and the
 * median wall time of each way (a shared VM only ever slows a run down, by
 * a different amount from run to run), the overheads from both and the
 * median over the repeats of recorded / plain of the same repeat (the two
 * run back to back, so slow phases of the machine cancel) with the
 * spread of those paired ratios (overhead_paired_q1, _q3: the quartiles;
 * _min, _max), the process CPU time of the fastest runs and, as for the wall
 * time, the median over the repeats of recorded / plain CPU time
 * (cpu_overhead_paired_median, _q1, _q3: what other processes on a busy
 * machine disturb least), the fixed cost of a recording (ms_record of
 * one segment minus one plain segment: creating the database, hashing the
 * files, starting the writer thread, and when it closes the last
 * checkpoint and the switch back to one file), and the database bytes per
 * segment (main file plus WAL after the recorder closed).
 *
 * Fixed and marginal cost: a user of a long run pays the fixed cost once
 * and the marginal cost on every segment.  start_cpu_s and start_wall_s
 * are the fixed cost's median over the repeats (start_cost_s, the older
 * field, its fastest wall time); marginal_cpu_overhead_paired_median
 * (_q1, _q3) is, per repeat, (recorded CPU − start_cpu_s) / plain CPU − 1,
 * the overhead of a run long enough for the fixed cost not to count, and
 * marginal_overhead_paired_median the same from wall times;
 * marginal_cpu_per_segment_s is the extra CPU per segment (median),
 * plain_cpu_per_segment_s a plain segment's, and fixed_cpu_share
 * start_cpu_s over the median plain run (what the fixed cost adds at this
 * N).
 *
 * A third way per repeat is the baseline for the recording's disk cost: a
 * plain run beside a thread that only replays the recording's disk traffic
 * (see Traffic below): as many bytes as the recorded run of the same
 * repeat wrote (/proc/self/io wchar), as WAL frames with SQLite's three
 * syncs per checkpoint cycle, paced by the model's segments, and no SQLite
 * or recorder work.  Its overhead is what writing that much, that safely,
 * costs this machine.  JSON fields: written_bytes_per_segment,
 * traffic_s (the fastest such run) and traffic_overhead_paired_median
 * (traffic / plain of the same repeat; the recorded run comes between the
 * two); all three are 0 where /proc/self/io cannot tell the bytes written.
 * Size: db_bytes_per_token against the target of issue 23 for a compact
 * recording, (K·d·4 + K·K·4) / L + 64 bytes per token (size_target_per_token).
 *
 * Replay (compact recordings): from the last repeat's recording, the read
 * attention of one segment (the mean over heads of the last layer) through
 * ms_recording_attention with the replay cache emptied: the first call
 * (replay_first_s: hashing and loading the model, then one segment), the
 * median over up to 9 other segments (replay_median_s: one segment's step
 * and reads), and the median over 9 segments already replayed
 * (replay_cached_s: the reads and the cache); against
 * step_s, one segment of the plain run (the median run / N_SEGMENTS).
 *
 * Not a test: nothing here passes or fails on time.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app-blas.h"
#include "bench-stats.h"
#include "ms-parallel.h"
#include "ms-engine.h"
#include "ms-recorder.h"
#include "ms-recording.h"
#include "ms-replay.h"


static off_t
file_size (const char *path)
{
  struct stat st;
  return g_stat (path, &st) == 0 ? st.st_size : 0;
}

/* CPU time of the whole process: the stepping thread, the recorder's
 * writer thread and, when T > 1, the core's kernel threads. */
static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
min_of (const double *v, int n)
{
  double m = G_MAXDOUBLE;
  for (int i = 0; i < n; i++)
    m = MIN (m, v[i]);
  return m;
}

/* The page size of the database @db; 0 when it cannot be read. */
static int
page_size_of (const char *db)
{
  sqlite3 *conn = NULL;
  sqlite3_stmt *st = NULL;
  int size = 0;
  if (sqlite3_open_v2 (db, &conn, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
      && sqlite3_prepare_v2 (conn, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    size = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (conn);
  return size;
}

/* SQLite's WAL format: a 32-byte file header, then frames of a 24-byte
 * header and one page. */
enum { WAL_HEADER_BYTES = 32, WAL_FRAME_HEADER_BYTES = 24 };

/* The recording's disk traffic without the recording.  For every segment
 * the model steps, the traffic thread appends WAL frames (header and page
 * as two writes, as SQLite writes them) for the bytes the recording wrote
 * per segment, less those that went into the database file.  Each time the
 * WAL holds MS_RECORDER_CHECKPOINT_PAGES frames it checkpoints, making the
 * syncs SQLite makes with synchronous = NORMAL: fdatasync the WAL, copy
 * the database's growth since the last checkpoint from the WAL into the
 * database file, fdatasync that; the next commit then starts the WAL over
 * with a new WAL header, synced too.  A last checkpoint when the run ends,
 * as closing the recorder does.
 * Measured from the recorded file, so a little off in its split: the
 * bytes written include the checkpoints' rewrites of interior pages and
 * last leaves, which the replay writes as WAL frames (19.3 per small-RMT
 * segment against SQLite's 18.7); and its database writes are appends,
 * where SQLite also writes back into pages it wrote before. */
typedef struct {
  int wal_fd, db_fd;
  int page_size;
  double wal_bytes_per_segment;
  double db_bytes_per_segment;   /* the recorded database's size / segments */
  int n_segments;

  GMutex lock;
  GCond stepped;
  int segments_stepped;          /* under lock; n_segments when the run ends, however it ends */
  gboolean waiting;              /* under lock: the thread sleeps on stepped */

  /* the thread's own */
  char *frame;                   /* a frame header and a page of non-zero bytes */
  int wal_frames;                /* frames since the WAL started over */
  double db_bytes_owed;          /* the database's growth since the last checkpoint */
  gint64 db_pages;               /* pages in the database file */
} Traffic;

static void
write_fully (int fd, const void *data, size_t size, off_t at)
{
  if (pwrite (fd, data, size, at) != (ssize_t) size)
    g_error ("traffic replay: writing %zu bytes: %s", size, g_strerror (errno));
}

static void
sync_fully (int fd)
{
  if (fdatasync (fd) != 0)
    g_error ("traffic replay: fdatasync: %s", g_strerror (errno));
}

static off_t
frame_offset (const Traffic *t, gint64 frame)
{
  return WAL_HEADER_BYTES + frame * (off_t) (WAL_FRAME_HEADER_BYTES + t->page_size);
}

static void
append_frame (Traffic *t)
{
  if (t->wal_frames == 0)
    {
      write_fully (t->wal_fd, t->frame, WAL_HEADER_BYTES, 0);
      sync_fully (t->wal_fd);
    }
  off_t at = frame_offset (t, t->wal_frames++);
  write_fully (t->wal_fd, t->frame, WAL_FRAME_HEADER_BYTES, at);
  write_fully (t->wal_fd, t->frame + WAL_FRAME_HEADER_BYTES, t->page_size, at + WAL_FRAME_HEADER_BYTES);
}

/* Copies the database's growth into its file, reading each page back from
 * one of the WAL's frames as SQLite does, between the two syncs. */
static void
checkpoint (Traffic *t)
{
  char *page = t->frame + WAL_FRAME_HEADER_BYTES;
  sync_fully (t->wal_fd);
  for (; t->db_bytes_owed >= t->page_size; t->db_bytes_owed -= t->page_size, t->db_pages++)
    {
      off_t from = frame_offset (t, t->db_pages % MAX (t->wal_frames, 1)) + WAL_FRAME_HEADER_BYTES;
      if (pread (t->wal_fd, page, t->page_size, from) < 0)
        g_error ("traffic replay: reading the WAL: %s", g_strerror (errno));
      write_fully (t->db_fd, page, t->page_size, (off_t) t->db_pages * t->page_size);
    }
  sync_fully (t->db_fd);
  t->wal_frames = 0;
}

static gpointer
traffic_main (gpointer data)
{
  Traffic *t = data;
  ms_parallel_become_background_thread ();   /* as the recorder's writer */
  double wal_bytes_owed = 0;
  int frame_bytes = WAL_FRAME_HEADER_BYTES + t->page_size;
  for (int done = 0; done < t->n_segments;)
    {
      g_mutex_lock (&t->lock);
      t->waiting = TRUE;
      while (t->segments_stepped == done)
        g_cond_wait (&t->stepped, &t->lock);
      t->waiting = FALSE;
      int stepped = t->segments_stepped;
      g_mutex_unlock (&t->lock);
      for (; done < stepped; done++)
        {
          wal_bytes_owed += t->wal_bytes_per_segment;
          t->db_bytes_owed += t->db_bytes_per_segment;
          for (; wal_bytes_owed >= frame_bytes; wal_bytes_owed -= frame_bytes)
            {
              append_frame (t);
              if (t->wal_frames == MS_RECORDER_CHECKPOINT_PAGES)
                checkpoint (t);
            }
        }
    }
  checkpoint (t);
  return NULL;
}

/* Tells the traffic thread how far the model is (the session's progress
 * callback, after each segment). */
static void
set_segments_stepped (Traffic *t, int segments)
{
  g_mutex_lock (&t->lock);
  t->segments_stepped = segments;
  if (t->waiting)
    g_cond_signal (&t->stepped);
  g_mutex_unlock (&t->lock);
}

static void
traffic_segment_stepped (int segments_done, int n_segments, gpointer data)
{
  set_segments_stepped (data, segments_done);
}

/* A plain run of @n tokens beside the traffic thread; the wall time until
 * both are done. */
static double
run_with_traffic (MsModel *model, const int32_t *tokens, size_t n, int n_segments, const char *dir,
                  int page_size, double wal_bytes_per_segment, double db_bytes_per_segment)
{
  g_autofree char *wal_path = g_build_filename (dir, "bench-record-traffic.wal", NULL);
  g_autofree char *db_path = g_build_filename (dir, "bench-record-traffic.db", NULL);
  Traffic t = { .page_size = page_size, .wal_bytes_per_segment = wal_bytes_per_segment,
                .db_bytes_per_segment = db_bytes_per_segment, .n_segments = n_segments };
  t.wal_fd = open (wal_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  t.db_fd = open (db_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (t.wal_fd < 0 || t.db_fd < 0)
    g_error ("%s: %s", dir, g_strerror (errno));
  t.frame = g_malloc (WAL_FRAME_HEADER_BYTES + page_size);
  memset (t.frame, 0x5a, WAL_FRAME_HEADER_BYTES + page_size);   /* nothing a disk could skip as zeros */
  g_mutex_init (&t.lock);
  g_cond_init (&t.stepped);
  g_autoptr (MsSession) s = ms_session_new (model);
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  GThread *thread = g_thread_new ("traffic", traffic_main, &t);
  gboolean ok = ms_session_run (s, tokens, n, 0, NULL, traffic_segment_stepped, &t, NULL, &error);
  set_segments_stepped (&t, n_segments);   /* also when the run stopped early */
  g_thread_join (thread);
  double wall = (g_get_monotonic_time () - t0) / 1e6;
  if (!ok)
    g_error ("%s", error->message);
  close (t.wal_fd), close (t.db_fd);
  g_unlink (wal_path), g_unlink (db_path);
  g_free (t.frame);
  g_mutex_clear (&t.lock);
  g_cond_clear (&t.stepped);
  return wall;
}

/* Issue 23's bound on a compact recording: (K·d·4 + K·K·4) / L + 64
 * bytes per token. */
static double
size_target (const MsConfig *c)
{
  double K = c->n_slots, d = c->d_model;
  return (K * d * 4 + K * K * 4) / c->segment_len + 64;
}

/* Seconds for ms_recording_attention of @segment's last-layer read
 * attention (the head mean) of run 1 in @rec. */
static double
time_attention (MsRecording *rec, const MsRunInfo *run, const MsConfig *c, int segment)
{
  const MsAttentionLayout *read = ms_engine_find_attention (c->engine, MS_OBS_READ);
  int layer = ms_attention_layout_last_layer (read, c), rows, cols;
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_autofree float *m = ms_recording_attention (rec, run, segment, MS_OBS_READ, MAX (layer, 0), -1, &rows, &cols,
                                                &error);
  double s = (g_get_monotonic_time () - t0) / 1e6;
  if (!m)
    g_error ("%s", error->message);
  return s;
}

static void
measure_replay (const char *db, const MsConfig *c, int n_segments, double *first, double *median, double *cached)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (db, &error);
  g_autoptr (MsRunInfo) run = rec ? ms_recording_get_run (rec, 1, &error) : NULL;
  if (!run)
    g_error ("%s", error->message);
  ms_replay_clear_cache ();
  *first = time_attention (rec, run, c, n_segments / 2);
  double times[9];
  int n = 0;
  for (int i = 1; i <= 9 && i < n_segments; i++)
    times[n++] = time_attention (rec, run, c, (n_segments / 2 + i * 37) % n_segments);
  *median = n ? bench_median (times, n) : 0;
  for (int i = 0; i < 9; i++)
    times[i] = time_attention (rec, run, c, (n_segments / 2 + i * 37) % n_segments);
  *cached = bench_median (times, 9);
}

int
main (int argc, char **argv)
{
  app_use_fast_blas (argv);   /* measure what memscope-cli users get */
  int threads = 1, repeats = 9;
  g_autofree char *attn_text = NULL;
  MsAttnStore attn = MS_ATTN_STORE_NONE;
  GOptionEntry entries[] = {
    { "attn", 0, 0, G_OPTION_ARG_STRING, &attn_text, "Attention storage (none)", "none|f16|f32" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "the core's kernel threads", "T" },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &repeats, "Runs each way (9)", "R" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL N_SEGMENTS DB_DIR");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 4 || repeats < 1 || atoi (argv[2]) < 1
      || (attn_text && !ms_attn_store_parse (attn_text, &attn)))
    {
      fprintf (stderr, "usage: bench-record MODEL N_SEGMENTS DB_DIR [--threads T] [--repeats R] [--attn none|f16|f32]\n");
      return 2;
    }
  ms_parallel_set_threads (threads);   /* the core's threads; OpenBLAS then runs on one */
  g_autoptr (MsModel) model = ms_model_load (argv[1], &error);
  if (!model)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  const MsConfig *c = ms_model_get_config (model);
  int n_segments = atoi (argv[2]);
  size_t n = (size_t) n_segments * c->segment_len;
  g_autofree char *input = g_build_filename (argv[3], "bench-record-input.txt", NULL);
  g_autofree char *db = g_build_filename (argv[3], "bench-record.sqlite", NULL);
  g_autofree char *text = g_new (char, n);
  GRand *rand = g_rand_new_with_seed (7);
  for (size_t i = 0; i < n; i++)
    text[i] = (char) g_rand_int_range (rand, 32, 127);
  g_rand_free (rand);
  if (!g_file_set_contents (input, text, (gssize) n, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_autofree int32_t *tokens = g_new (int32_t, n);
  for (size_t i = 0; i < n; i++)
    tokens[i] = (uint8_t) text[i];

  g_autofree char *wal = g_strconcat (db, "-wal", NULL), *shm = g_strconcat (db, "-shm", NULL);
  g_autofree double *plain = g_new (double, repeats), *recorded = g_new (double, repeats);
  g_autofree double *traffic = g_new0 (double, repeats);
  g_autofree double *plain_cpus = g_new (double, repeats), *recorded_cpus = g_new (double, repeats);
  g_autofree double *start_cpus = g_new (double, repeats), *start_walls = g_new (double, repeats);
  double plain_cpu = 0, recorded_cpu = 0, start_cost = G_MAXDOUBLE;
  off_t bytes = 0;
  gint64 written = -1;
  gboolean have_traffic = TRUE;   /* in every repeat */
  for (int rep = 0; rep < repeats; rep++)
    {
      /* plain: the same steps, no observer */
      g_autoptr (MsSession) s = ms_session_new (model);
      gint64 t0 = g_get_monotonic_time ();
      double c0 = cpu_seconds ();
      ms_session_run (s, tokens, n, 0, NULL, NULL, NULL, NULL, NULL);
      plain[rep] = (g_get_monotonic_time () - t0) / 1e6;
      plain_cpus[rep] = cpu_seconds () - c0;
      if (plain[rep] <= min_of (plain, rep + 1))
        plain_cpu = plain_cpus[rep];

      for (int one = 1; one >= 0; one--)
        {
          g_unlink (db), g_unlink (wal), g_unlink (shm);
          MsRecordOptions opts = { .name = "bench", .max_segments = one, .attn = attn };
          gint64 w0 = bench_bytes_written ();
          t0 = g_get_monotonic_time ();
          c0 = cpu_seconds ();
          if (!ms_record (db, model, input, &opts, 0, NULL, NULL, NULL, NULL, &error))
            {
              fprintf (stderr, "%s\n", error->message);
              return 1;
            }
          double wall = (g_get_monotonic_time () - t0) / 1e6;
          if (one)
            {
              start_cost = MIN (start_cost, wall - plain[rep] / n_segments);
              start_walls[rep] = wall - plain[rep] / n_segments;
              start_cpus[rep] = cpu_seconds () - c0 - plain_cpus[rep] / n_segments;
            }
          else
            {
              recorded[rep] = wall;
              recorded_cpus[rep] = cpu_seconds () - c0;
              if (wall <= min_of (recorded, rep + 1))
                recorded_cpu = recorded_cpus[rep];
              written = w0 < 0 ? -1 : bench_bytes_written () - w0;
            }
        }
      bytes = file_size (db) + file_size (wal);

      /* plain, beside a replay of the disk traffic the recording just made
       * (every database page went through the WAL first: fewer bytes
       * written than twice the file's means the count is wrong) */
      int page_size = page_size_of (db);
      have_traffic = have_traffic && written >= 2 * (gint64) bytes && page_size > 0;
      if (have_traffic)
        traffic[rep] = run_with_traffic (model, tokens, n, n_segments, argv[3], page_size,
                                         (double) (written - bytes) / n_segments, (double) bytes / n_segments);
    }

  double replay_first = 0, replay_median = 0, replay_cached = 0;
  if (attn == MS_ATTN_STORE_NONE)
    measure_replay (db, c, n_segments, &replay_first, &replay_median, &replay_cached);

  double p_min = min_of (plain, repeats), r_min = min_of (recorded, repeats);
  double p_med = bench_median (plain, repeats), r_med = bench_median (recorded, repeats);
  g_autofree double *ratio = g_new (double, repeats), *traffic_ratio = g_new (double, repeats);
  g_autofree double *cpu_ratio = g_new (double, repeats);
  g_autofree double *marginal_ratio = g_new (double, repeats), *marginal_cpu_ratio = g_new (double, repeats);
  g_autofree double *marginal_cpu = g_new (double, repeats);
  double start_cpu = bench_median (start_cpus, repeats), start_wall = bench_median (start_walls, repeats);
  for (int i = 0; i < repeats; i++)
    {
      ratio[i] = recorded[i] / plain[i];
      traffic_ratio[i] = traffic[i] / plain[i];
      cpu_ratio[i] = recorded_cpus[i] / plain_cpus[i];
      marginal_ratio[i] = (recorded[i] - start_wall) / plain[i];
      marginal_cpu_ratio[i] = (recorded_cpus[i] - start_cpu) / plain_cpus[i];
      marginal_cpu[i] = (recorded_cpus[i] - start_cpu - plain_cpus[i]) / n_segments;
    }
  printf ("{\"model\": \"%s\", \"arch\": \"%s\", \"threads\": %d, \"segments\": %d, \"repeats\": %d, "
          "\"plain_s\": %.4f, \"recorded_s\": %.4f, \"overhead\": %.4f, \"plain_median_s\": %.4f, "
          "\"recorded_median_s\": %.4f, \"overhead_of_medians\": %.4f, \"overhead_paired_median\": %.4f, "
          "\"overhead_paired_q1\": %.4f, \"overhead_paired_q3\": %.4f, \"overhead_paired_min\": %.4f, "
          "\"overhead_paired_max\": %.4f, "
          "\"plain_cpu_s\": %.4f, "
          "\"recorded_cpu_s\": %.4f, \"plain_cpu_median_s\": %.4f, \"recorded_cpu_median_s\": %.4f, "
          "\"cpu_overhead_paired_median\": %.4f, \"cpu_overhead_paired_q1\": %.4f, \"cpu_overhead_paired_q3\": %.4f, "
          "\"start_cost_s\": %.4f, \"db_bytes_per_segment\": %.0f, "
          "\"written_bytes_per_segment\": %.0f, \"traffic_s\": %.4f, \"traffic_overhead_paired_median\": %.4f, "
          "\"attn\": \"%s\", \"db_bytes_per_token\": %.1f, \"size_target_per_token\": %.1f, \"step_s\": %.5f, "
          "\"replay_first_s\": %.5f, \"replay_median_s\": %.5f, \"replay_cached_s\": %.6f, "
          "\"start_cpu_s\": %.4f, \"start_wall_s\": %.4f, \"marginal_cpu_overhead_paired_median\": %.4f, "
          "\"marginal_cpu_overhead_paired_q1\": %.4f, \"marginal_cpu_overhead_paired_q3\": %.4f, "
          "\"marginal_overhead_paired_median\": %.4f, \"marginal_cpu_per_segment_s\": %.7f, "
          "\"plain_cpu_per_segment_s\": %.7f, \"fixed_cpu_share\": %.4f}\n",
          argv[1], ms_config_get_arch (c), threads, n_segments, repeats, p_min, r_min, r_min / p_min - 1.0, p_med,
          r_med, r_med / p_med - 1.0, bench_median (ratio, repeats) - 1.0, bench_quantile (ratio, repeats, 0.25) - 1.0,
          bench_quantile (ratio, repeats, 0.75) - 1.0, min_of (ratio, repeats) - 1.0, bench_quantile (ratio, repeats, 1.0) - 1.0,
          plain_cpu, recorded_cpu, bench_median (plain_cpus, repeats), bench_median (recorded_cpus, repeats),
          bench_median (cpu_ratio, repeats) - 1.0, bench_quantile (cpu_ratio, repeats, 0.25) - 1.0,
          bench_quantile (cpu_ratio, repeats, 0.75) - 1.0, start_cost,
          (double) bytes / n_segments, have_traffic ? (double) written / n_segments : 0.0,
          have_traffic ? min_of (traffic, repeats) : 0.0,
          have_traffic ? bench_median (traffic_ratio, repeats) - 1.0 : 0.0, ms_attn_store_name (attn),
          (double) bytes / n, size_target (c), p_med / n_segments, replay_first, replay_median, replay_cached,
          start_cpu, start_wall, bench_median (marginal_cpu_ratio, repeats) - 1.0,
          bench_quantile (marginal_cpu_ratio, repeats, 0.25) - 1.0, bench_quantile (marginal_cpu_ratio, repeats, 0.75) - 1.0,
          bench_median (marginal_ratio, repeats) - 1.0, bench_median (marginal_cpu, repeats),
          bench_median (plain_cpus, repeats) / n_segments, start_cpu / bench_median (plain_cpus, repeats));
  g_unlink (input);
  return 0;
}
