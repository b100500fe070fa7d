/* ms-recording-memory.c — the memory states a recording holds
 * (ms_recording_foreach_memory_state). */
#include "ms-recording-handle.h"
#include "ms-error.h"

#include <string.h>

gboolean
ms_recording_foreach_memory_state (MsRecording *rec, const MsRunInfo *run, int first, int last, MsStateFunc func,
                                   gpointer user_data, GError **error)
{
  size_t len = (size_t) run->config.n_slots * run->config.d_model;
  gboolean empty;
  sqlite3_stmt *st = ms_recording_window_begin (rec, run, &first, &last, "SELECT segment, data, id FROM memory WHERE id BETWEEN "
                                   MS_DB_SEGMENT_KEY ("?1", "?2 + 1") " AND " MS_DB_SEGMENT_KEY ("?1", "?3")
                                   " ORDER BY id", &empty, error);
  if (!st)
    return empty;
  g_autofree float *state = g_new (float, MAX (len, 1));
  gboolean ok = TRUE;
  int rc = SQLITE_DONE;
  while (ok && (rc = ms_db_step (st, rec->path, "reading memory states", error)) == SQLITE_ROW)
    {
      gint64 segment = ms_recording_row_segment (rec, run, "memory", st, 2, 0, 1, first, last, error);
      if (segment < 0)
        ok = FALSE;
      else if (sqlite3_column_type (st, 1) != SQLITE_BLOB
               || (size_t) sqlite3_column_bytes (st, 1) != len * sizeof (float))
        ok = ms_recording_bad_row (rec, run, "memory", segment, error, "data holds %d bytes where %d × %d f32 values were "
                      "expected", sqlite3_column_bytes (st, 1), run->config.n_slots, run->config.d_model);
      else
        {
          memcpy (state, sqlite3_column_blob (st, 1), len * sizeof (float));
          ok = func ((int) segment, state, user_data, error);
        }
    }
  return ms_recording_window_end (rec, st, ok, rc);
}
