/* bench-record.c — what recording costs.
 *
 *   bench-record MODEL N_SEGMENTS DB_DIR [--threads T] [--repeats R]
 *
 * Runs MODEL over N_SEGMENTS full segments of pseudo-random bytes, R times
 * (default 9) each way, alternating: as a plain session (no observer) and
 * through ms_record with f16 attention for every layer and head into a
 * fresh database in DB_DIR.  Prints one JSON line: the fastest and the
 * median wall time of each way (a shared VM only ever slows a run down, and
 * this one by up to 40% from run to run), the overheads from both and the
 * median over the repeats of recorded / plain of the same repeat (the two
 * run back to back, so slow phases of the machine cancel), the
 * process CPU time of the fastest runs, the fixed cost of starting a
 * recording (ms_record of one segment minus one plain segment: hashing the
 * files, creating the database), and the database bytes per segment (main
 * file plus WAL after the recorder closed).
 * Not a test: nothing here passes or fails on time.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "app-blas.h"
#include "ms-parallel.h"
#include "ms-recorder.h"


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

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median_of (const double *v, int n)
{
  g_autofree double *s = g_memdup2 (v, n * sizeof (double));
  qsort (s, n, sizeof (double), compare_doubles);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int
main (int argc, char **argv)
{
  app_use_fast_blas (argv);   /* measure what memscope-cli users get */
  int threads = 1, repeats = 9;
  GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "the core's kernel threads", "T" },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &repeats, "Runs each way (9)", "R" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL N_SEGMENTS DB_DIR");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 4 || repeats < 1)
    {
      fprintf (stderr, "usage: bench-record MODEL N_SEGMENTS DB_DIR [--threads T]\n");
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
  double plain_cpu = 0, recorded_cpu = 0, start_cost = G_MAXDOUBLE;
  off_t bytes = 0;
  for (int rep = 0; rep < repeats; rep++)
    {
      /* plain: the same steps, no observer */
      g_autoptr (MsSession) s = ms_session_new (model);
      gint64 t0 = g_get_monotonic_time ();
      double c0 = cpu_seconds ();
      ms_session_run (s, tokens, n, 0, NULL, NULL, NULL, NULL, NULL);
      plain[rep] = (g_get_monotonic_time () - t0) / 1e6;
      if (plain[rep] <= min_of (plain, rep + 1))
        plain_cpu = cpu_seconds () - c0;

      for (int one = 1; one >= 0; one--)
        {
          g_unlink (db), g_unlink (wal), g_unlink (shm);
          MsRecordOptions opts = { "bench", 0, one, MS_ATTN_STORE_F16 };
          t0 = g_get_monotonic_time ();
          c0 = cpu_seconds ();
          if (!ms_record (db, model, input, &opts, 0, NULL, NULL, NULL, NULL, &error))
            {
              fprintf (stderr, "%s\n", error->message);
              return 1;
            }
          double wall = (g_get_monotonic_time () - t0) / 1e6;
          if (one)
            start_cost = MIN (start_cost, wall - plain[rep] / n_segments);
          else
            {
              recorded[rep] = wall;
              if (wall <= min_of (recorded, rep + 1))
                recorded_cpu = cpu_seconds () - c0;
            }
        }
      bytes = file_size (db) + file_size (wal);
    }

  double p_min = min_of (plain, repeats), r_min = min_of (recorded, repeats);
  double p_med = median_of (plain, repeats), r_med = median_of (recorded, repeats);
  g_autofree double *ratio = g_new (double, repeats);
  for (int i = 0; i < repeats; i++)
    ratio[i] = recorded[i] / plain[i];
  printf ("{\"model\": \"%s\", \"arch\": \"%s\", \"threads\": %d, \"segments\": %d, \"repeats\": %d, "
          "\"plain_s\": %.4f, \"recorded_s\": %.4f, \"overhead\": %.4f, \"plain_median_s\": %.4f, "
          "\"recorded_median_s\": %.4f, \"overhead_of_medians\": %.4f, \"overhead_paired_median\": %.4f, "
          "\"plain_cpu_s\": %.4f, "
          "\"recorded_cpu_s\": %.4f, \"start_cost_s\": %.4f, \"db_bytes_per_segment\": %.0f}\n",
          argv[1], ms_arch_name (c->arch), threads, n_segments, repeats, p_min, r_min, r_min / p_min - 1.0, p_med,
          r_med, r_med / p_med - 1.0, median_of (ratio, repeats) - 1.0, plain_cpu, recorded_cpu, start_cost, (double) bytes / n_segments);
  g_unlink (input);
  return 0;
}
