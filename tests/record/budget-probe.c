/* budget-probe.c — the reader's work budget on a recording, for
 * hostile_wal.py: opens RECORDING as every reader does (ms_recording_open),
 * runs one expensive query under the budget of one call (a recursive
 * count of LIMIT rows, standing in for a quadratic query a file could
 * plant) and prints, one per line, "armed TICKS" (the budget armed, in
 * progress ticks), "used TICKS" and either "refused MESSAGE" or
 * "finished COUNT".  Exit 0 unless the recording cannot be opened.
 *
 * usage: budget-probe RECORDING LIMIT */
#include <stdio.h>
#include <stdlib.h>

#include "ms-db.h"
#include "ms-recording-handle.h"
#include "ms-recording-private.h"

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: budget-probe RECORDING LIMIT\n");
      return 2;
    }
  GError *error = NULL;
  MsRecording *rec = ms_recording_open (argv[1], &error);
  if (!rec)
    {
      fprintf (stderr, "%s\n", error->message);
      g_error_free (error);
      return 1;
    }
  sqlite3_stmt *st = ms_recording_query_begin (rec, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                                                    "LIMIT ?1) SELECT count(*) FROM c", &error);
  if (!st)
    {
      fprintf (stderr, "%s\n", error->message);
      g_error_free (error);
      ms_recording_close (rec);
      return 1;
    }
  gint64 armed = rec->budget.left;
  sqlite3_bind_int64 (st, 1, g_ascii_strtoll (argv[2], NULL, 10));
  int rc = ms_db_step (st, argv[1], "a planted query", &error);
  printf ("armed %" G_GINT64_FORMAT "\nused %" G_GINT64_FORMAT "\n", armed,
          armed - rec->budget.left);   /* left ends at -1 where it ran out */
  if (rc == SQLITE_ROW)
    printf ("finished %" G_GINT64_FORMAT "\n", (gint64) sqlite3_column_int64 (st, 0));
  else
    printf ("refused %s\n", error ? error->message : "(no message)");
  g_clear_error (&error);
  ms_recording_query_end (rec, st);
  ms_recording_close (rec);
  return 0;
}
