/* ms-recording-handle.h — (private to the reader's files, ms-recording*.c)
 * the handle behind MsRecording and the helpers every part of the reader
 * shares: the lock and work budget of a call, kept statements, and the
 * checks that word a damaged row.  The reader is split by concept:
 *   ms-recording.c           the handle: open, close, snapshots, statements, row checks
 *   ms-recording-runs.c      the runs a recording holds (MsRunInfo)
 *   ms-recording-segments.c  per-segment quantities, text, tokens and NLL
 *   ms-recording-memory.c    memory states and transfer matrices (memory chunks, ms-db.h)
 *   ms-recording-replay.c    attention, stored or replayed, and the replay input of a segment
 */
#pragma once

#include <sqlite3.h>

#include "ms-db.h"
#include "ms-recording.h"

G_BEGIN_DECLS

struct _MsRecording {
  /* Owned */
  char *path;
  sqlite3 *db;
  GRecMutex lock;      /* held by one call, or from read_begin to read_end */
  int read_depth;      /* nested read_begin calls of the holder */
  MsDbBudget budget;   /* armed by ms_recording_lock, for the call that took it */
  char *model_override; /* ms_recording_set_model_path */
  char *identity;      /* "device:inode" of the file opened, NULL for an image (ms_recording_get_identity) */
  GHashTable *statements;   /* SQL text → sqlite3_stmt: each query is prepared once (ms_recording_prepare) and
                               reset after each use (ms_recording_release), since parsing costs more than most
                               reads */
  GHashTable *rows_counted; /* run id → n: the run's segment rows 0 … n − 1 were counted present
                               (ms-recording-runs.c), so a later description counts only the rows after */
};

/* Views hold a (K, K) transfer matrix and a few (K) arrays per segment they
 * draw; no model Memscope records has memories near this many slots. */
#define MS_RECORDING_MAX_SLOTS 8192

/* Takes the handle for one call and arms the work budget of its queries
 * (ms_db_budget_arm): a planted query can stall one call, never hang.
 * g_rec_mutex_unlock (&rec->lock) gives it back. */
void ms_recording_lock (MsRecording *rec);

/* The statement for @sql, with rec->lock held: prepared on first use and
 * kept (SQLite re-prepares it by itself if the schema changes), or a
 * statement of its own while the kept one is in use by a caller further up
 * (a callback reading the same query).  NULL with @error set when it does
 * not prepare.  ms_recording_release() it after its last step, under the
 * same lock. */
sqlite3_stmt *ms_recording_prepare (MsRecording *rec, const char *sql, GError **error);
/* Ends a use of a prepared statement: a kept one is reset (its read ends)
 * and loses its bindings, any other is finalized. */
void ms_recording_release (MsRecording *rec, sqlite3_stmt *st);

/* Sets @error (MS_ERROR_FORMAT) naming the file, the run, the table, the
 * segment and what was expected of the row; returns FALSE. */
gboolean ms_recording_bad_row (MsRecording *rec, const MsRunInfo *run, const char *table, gint64 segment,
                               GError **error, const char *format, ...) G_GNUC_PRINTF (6, 7);

/* The segment of a row keyed run · 2^32 + segment + @offset (ms-db.h):
 * its key column @id_col and segment column @seg_col must agree, and the
 * segment lie in [@first, @last).  Returns the segment, or −2 after
 * setting @error. */
gint64 ms_recording_row_segment (MsRecording *rec, const MsRunInfo *run, const char *table, sqlite3_stmt *st,
                                 int id_col, int seg_col, int offset, int first, int last, GError **error);

/* Decodes the (n) array column of per-slot quantity @q into @out (f32 or
 * its narrow width, ms-recording-names.h), or n NaNs for NULL.  FALSE for
 * anything else: not a BLOB, or not n values of either width. */
gboolean ms_recording_column_slots (sqlite3_stmt *st, int column, MsSlotQuantity q, float *out, int n);

/* The start of a read of segments [*@first, *@last) of @run: clamps them
 * to the segments it has committed, locks @rec and prepares @sql with ?1
 * the run's id, ?2 the first and ?3 the end segment.  Returns the
 * statement, or NULL with @rec unlocked: *@empty TRUE when nothing is left
 * to read, else @error set.  ms_recording_window_end() finishes the read. */
sqlite3_stmt *ms_recording_window_begin (MsRecording *rec, const MsRunInfo *run, int *first, int *last,
                                         const char *sql, gboolean *empty, GError **error);
/* Releases @st and unlocks @rec.  Returns @ok, or FALSE when the row loop
 * ended on @rc other than SQLITE_DONE (ms_db_step set the error then). */
gboolean ms_recording_window_end (MsRecording *rec, sqlite3_stmt *st, gboolean ok, int rc);

/* Prepares @sql (its ?1 the run id, ?2 the segment, as MS_DB_SEGMENT_KEY
 * binds them), steps it once and returns it on its row; NULL with @error set
 * when the run has no such segment or the read fails.  Release it. */
sqlite3_stmt *ms_recording_segment_row_locked (MsRecording *rec, gint64 run_id, int segment, const char *sql,
                                               const char *what, GError **error);

/* ms_recording_segment_tokens with rec->lock held. */
MsToken *ms_recording_segment_tokens_locked (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens,
                                             guint64 *byte_begin, GError **error);

/* A memory chunk as read (ms-db.h): the memory states after segments
 * [segment, segment + n_states) of a run, and their transfers. */
typedef enum {
  MS_MEMORY_CHUNK_STATES = 1 << 0,
  MS_MEMORY_CHUNK_TRANSFER = 1 << 1,
} MsMemoryChunkFields;

typedef struct {
  int segment;          /* the first state is the memory after this segment (−1: the initial memory) */
  int n_states;         /* 0: none held */
  guint fields;         /* what was read */
  float *states;        /* (n_states, K, d), with MS_MEMORY_CHUNK_STATES; owned */
  float *transfer;      /* (n_states, K, K), with MS_MEMORY_CHUNK_TRANSFER when the chunk stores any; owned */
} MsMemoryChunk;

/* Frees what @chunk holds and empties it (the struct itself is the
 * caller's). */
void ms_memory_chunk_clear (MsMemoryChunk *chunk);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MsMemoryChunk, ms_memory_chunk_clear)

/* Makes @chunk the chunk of @run that holds the memory after segment
 * @segment (−1: the initial memory) with @fields read, unless it already
 * is: one row.  Checked before use: its key, run, first segment and
 * number of states, its K × d states and the length of each BLOB.
 * MS_ERROR_FORMAT naming the file, run, table and segment when the state is
 * missing or the row contradicts its key or the run; MS_ERROR_IO when
 * SQLite fails.  With rec->lock held. */
gboolean ms_recording_memory_chunk_locked (MsRecording *rec, const MsRunInfo *run, int segment, guint fields,
                                           MsMemoryChunk *chunk, GError **error);
/* The memory after @segment (K × d) or @segment's transfer (K × K; NULL
 * when the chunk stores none: the transfer is diagonal), borrowed from
 * @chunk, which holds @segment and what is asked for. */
const float *ms_memory_chunk_state (const MsMemoryChunk *chunk, const MsRunInfo *run, int segment);
const float *ms_memory_chunk_transfer (const MsMemoryChunk *chunk, const MsRunInfo *run, int segment);

/* The values a recording stores for weights and shares may exceed their
 * range by rounding (sums in double, rounded to f32), never by more. */
#define MS_RECORDING_RANGE_SLACK 1e-3

/* The index of the first of @n values outside [@lo − slack, @hi + slack]
 * (MS_RECORDING_RANGE_SLACK; ±inf included), NaN allowed; @n when none is. */
size_t ms_recording_first_outside (const float *values, size_t n, double lo, double hi);

/* Reads a little-endian 32-bit value from a BLOB that may sit unaligned. */
static inline guint32
ms_recording_blob_u32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

G_END_DECLS
