/* ms-recording.h — reading a recording (DESIGN §6): the runs it holds and
 * the matrices every view is drawn from.  Opens read-only, so it works while
 * a recorder is still writing (WAL): each call sees the segments committed
 * when it runs.
 *
 * Matrices are returned as owned row-major float arrays (g_free) with their
 * shape in out-parameters; NaN marks a cell without data.  Every query reads
 * to its end: an SQLite failure part way (an I/O error, a damaged page) is
 * MS_ERROR_IO naming the file and what was being read, never a shorter
 * result.
 */
#pragma once

#include <glib.h>

#include "ms-model.h"
#include "ms-recording-names.h"

G_BEGIN_DECLS

typedef struct _MsRecording MsRecording;

typedef struct {
  gint64 id;
  char *name;
  char *model_path;
  char *input_path;
  MsConfig config;          /* of the model the run was recorded with */
  int segment_len;          /* of the run (≤ the model's) */
  int n_segments;           /* planned */
  int segments_done;        /* committed */
  MsRunStatus status;       /* INCOMPLETE, COMPLETE, or RECORDING while its writer lives */
  MsAttnStore attn;         /* how the run stored attention */
  char *created;
} MsRunInfo;

void ms_run_info_free (MsRunInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsRunInfo, ms_run_info_free)

/* Opens @path read-only; errors name the file (not SQLite, not a
 * recording, newer schema, missing). */
MsRecording *ms_recording_open (const char *path, GError **error);
void ms_recording_close (MsRecording *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsRecording, ms_recording_close)

/* All runs, oldest first (owned array of owned MsRunInfo). */
GPtrArray *ms_recording_list_runs (MsRecording *rec, GError **error);
/* One run; MS_ERROR_INPUT naming the file when there is no such run. */
MsRunInfo *ms_recording_get_run (MsRecording *rec, gint64 run_id, GError **error);

/* (K, S) per-slot quantity over the committed segments. */
float *ms_recording_slot_matrix (MsRecording *rec, gint64 run_id, MsSlotQuantity q, int *n_slots,
                                 int *n_segments, GError **error);
/* (S) mean NLL per segment (NaN for segments without predictions). */
float *ms_recording_segment_nll (MsRecording *rec, gint64 run_id, int *n_segments, GError **error);
/* (N, K·d) memory states after segments 0, @stride, 2·@stride, … (every
 * committed one when @stride is 1), so long runs can be sampled without
 * loading every state. */
float *ms_recording_memory_states (MsRecording *rec, gint64 run_id, int stride, int *n_states,
                                   size_t *state_len, GError **error);
/* (S, K, K) old-slot transfer per segment (DESIGN §5.3): as recorded, or,
 * where the run's engine has a diagonal transfer (ms-engine.h; stored as
 * NULL), the retention on the diagonal. */
float *ms_recording_transfer (MsRecording *rec, gint64 run_id, int *n_segments, int *n_slots, GError **error);
/* One stored attention matrix of @kind (an attention kind of
 * ms-recording-names.h), or the mean over heads when @head < 0.
 * MS_ERROR_INPUT when the run stored no attention or the segment/layer/head
 * does not exist; MS_ERROR_FORMAT when the stored matrices contradict their
 * own shape or dtype. */
float *ms_recording_attention (MsRecording *rec, gint64 run_id, int segment, MsObsKind kind, int layer,
                               int head, int *rows, int *cols, GError **error);
/* The bytes of one segment's text (owned GBytes). */
GBytes *ms_recording_segment_text (MsRecording *rec, gint64 run_id, int segment, GError **error);

G_END_DECLS
