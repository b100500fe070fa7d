/* bench-record.c — what recording costs.
 *
 *   bench-record MODEL N_SEGMENTS DB_DIR [--threads T]
 *
 * Runs MODEL over N_SEGMENTS full segments of pseudo-random bytes, 5 times
 * each way, alternating: as a plain session (no observer) and through
 * ms_record with f16 attention for every layer and head into a fresh
 * database in DB_DIR.  Prints one JSON line: the fastest time of each way
 * (a shared VM only ever slows a run down), the overhead ratio, and the
 * database bytes per segment (main file plus WAL after the recorder closed).
 * Not a test: nothing here passes or fails on time.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "app-blas.h"
#include "ms-recorder.h"

void openblas_set_num_threads (int num_threads);

static off_t
file_size (const char *path)
{
  struct stat st;
  return g_stat (path, &st) == 0 ? st.st_size : 0;
}

int
main (int argc, char **argv)
{
  app_use_fast_blas (argv);   /* measure what memscope-cli users get */
  int threads = 1;
  GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "OpenBLAS threads", "T" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL N_SEGMENTS DB_DIR");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 4)
    {
      fprintf (stderr, "usage: bench-record MODEL N_SEGMENTS DB_DIR [--threads T]\n");
      return 2;
    }
  openblas_set_num_threads (threads);
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
  double plain = G_MAXDOUBLE, recorded = G_MAXDOUBLE;
  off_t bytes = 0;
  for (int rep = 0; rep < 5; rep++)
    {
      /* plain: the same steps, no observer */
      g_autoptr (MsSession) s = ms_session_new (model);
      gint64 t0 = g_get_monotonic_time ();
      ms_session_run (s, tokens, n, 0, NULL, NULL, NULL, NULL, NULL);
      plain = MIN (plain, (g_get_monotonic_time () - t0) / 1e6);

      g_unlink (db), g_unlink (wal), g_unlink (shm);
      MsRecordOptions opts = { "bench", 0, 0, MS_ATTN_STORE_F16 };
      t0 = g_get_monotonic_time ();
      if (!ms_record (db, model, input, &opts, 0, NULL, NULL, NULL, NULL, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      recorded = MIN (recorded, (g_get_monotonic_time () - t0) / 1e6);
      bytes = file_size (db) + file_size (wal);
    }

  printf ("{\"model\": \"%s\", \"arch\": \"%s\", \"threads\": %d, \"segments\": %d, \"plain_s\": %.4f, "
          "\"recorded_s\": %.4f, \"overhead\": %.4f, \"db_bytes_per_segment\": %.0f}\n",
          argv[1], ms_arch_name (c->arch), threads, n_segments, plain, recorded, recorded / plain - 1.0,
          (double) bytes / n_segments);
  g_unlink (input);
  return 0;
}
