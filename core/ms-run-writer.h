/* ms-run-writer.h — (private) writing one run into a recording: every SQL
 * statement the recorder makes.  It creates a run or takes up an
 * incomplete one, commits one stepped segment (ms-segment-record.h) per
 * transaction — its attention, memory state, text, NLL and the per-slot
 * quantities derived from the same observations — and marks the run
 * complete in the transaction of its last segment.  A process killed at
 * any moment therefore leaves whole segments and an incomplete run.
 *
 * No threads here: a run writer is used by one thread at a time (the
 * recorder opens it on the calling thread and hands it to its writer
 * thread), which is why its connection goes without SQLite's mutex.  Every
 * failure is MS_ERROR_IO (or _FORMAT, _INPUT for what a recording or a
 * resume request holds) naming the recording and what was being written.
 */
#pragma once

#include "ms-model.h"
#include "ms-segment-record.h"

G_BEGIN_DECLS

typedef struct _MsRunWriter MsRunWriter;

/* What a run is: stored when it is created, read back to resume it. */
typedef struct {
  size_t n_tokens;      /* of the input */
  int segment_len;
  int n_segments;       /* planned */
  MsAttnStore attn;
} MsRunPlan;

/* Opens (creating when missing, upgrading an older schema) the recording
 * at @path for runs of a model with @config (borrowed, must outlive the
 * writer), with scratch for its largest segment.  Owned; NULL on error. */
MsRunWriter *ms_run_writer_open (const char *path, const MsConfig *config, GError **error);
/* Closes the recording, leaving it one file in rollback-journal mode
 * (ms_db_close_shareable) whether the run completed, was cancelled or
 * failed.  NULL is fine. */
void ms_run_writer_free (MsRunWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsRunWriter, ms_run_writer_free)

/* Creates a run of @model over @input_path as @plan says, named @name
 * (NULL: "MODEL-BASENAME on INPUT-BASENAME"), with its initial memory
 * @initial_memory (K, d), in one transaction.  Hashes both files (SHA-256)
 * so that resuming can check them. */
gboolean ms_run_writer_create_run (MsRunWriter *w, MsModel *model, const char *input_path, const char *name,
                                   const MsRunPlan *plan, const float *initial_memory, GError **error);

/* Takes up run @run_id to continue it: MS_ERROR_INPUT when there is no
 * such run, it is complete, or @model or @input_path are not the files it
 * was started with (SHA-256).  Fills @plan with its stored plan and
 * @segments_done with its committed segments. */
gboolean ms_run_writer_resume_run (MsRunWriter *w, MsModel *model, const char *input_path, gint64 run_id,
                                   MsRunPlan *plan, int *segments_done, GError **error);

/* The stored memory state after segment @segment of the run (−1: the
 * initial memory), (K, d), owned; MS_ERROR_INPUT when it is missing or of
 * another shape. */
float *ms_run_writer_load_memory (MsRunWriter *w, int segment, GError **error);

/* Commits @rec (a segment of the created or resumed run, in order) in one
 * transaction, completing the run with it when @rec->last; or leaves the
 * recording as it was. */
gboolean ms_run_writer_commit_segment (MsRunWriter *w, const MsSegmentRecord *rec, GError **error);

/* The run's id: 0 until one is created or resumed. */
gint64 ms_run_writer_get_run_id (const MsRunWriter *w);

G_END_DECLS
