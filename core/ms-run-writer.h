/* ms-run-writer.h — (private) writing one run into a recording: every SQL
 * statement the recorder makes.  It creates a run or takes up an
 * incomplete one, writes stepped segments (ms-segment-record.h) in
 * order, each whole — its attention, memory state, text, NLL and the
 * per-slot quantities derived from the same observations — into a
 * transaction that the caller commits after one or several of them, and
 * marks the run complete with its last segment.  A process killed at any
 * moment therefore leaves the segments of every committed transaction,
 * whole, and an incomplete run.
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
 * failed; segments written and not committed are rolled back.  NULL is
 * fine. */
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

/* Writes @rec (the segment after the last one written, of the created or
 * resumed run; any other is refused, MS_ERROR_IO) into the open
 * transaction, beginning one when none is open, completing the run with
 * it when @rec->last.  Its memory state is kept by the writer until its
 * memory chunk (ms-db.h) is written: with the segment that fills the
 * chunk, else at the commit.  Whole or not at all: on failure nothing of
 * @rec stays, and the segments written before it stay in the transaction
 * — unless SQLite rolled the whole transaction back (it may, on a full
 * disk or an I/O error), then they are gone too
 * (ms_run_writer_get_uncommitted says 0).  Nothing is committed until
 * ms_run_writer_commit. */
gboolean ms_run_writer_write_segment (MsRunWriter *w, const MsSegmentRecord *rec, GError **error);

/* The segments written into the open transaction. */
int ms_run_writer_get_uncommitted (const MsRunWriter *w);

/* Whether the memory state after @segment (the last one written or one
 * after it) is the last its memory chunk (ms-db.h) has room for.  A
 * transaction that ends there leaves the next one to insert the next
 * chunk and fill it, so each of a chunk's pages is written once per
 * transaction that writes into it. */
gboolean ms_run_writer_chunk_ends_at (const MsRunWriter *w, int segment);

/* Writes the memory states of the open transaction's last memory chunk
 * and commits it (none open: nothing to do), setting *@n_committed to the
 * segments committed.  When that chunk began in this transaction and its
 * row cannot be written (a full disk), its segments are taken out and
 * those before them committed, and FALSE is returned with *@n_committed
 * saying how many; on any other failure the transaction is rolled back:
 * none of its segments stays.  Either way the run ends at the last segment
 * committed. */
gboolean ms_run_writer_commit (MsRunWriter *w, int *n_committed, GError **error);

/* The run's id: 0 until one is created or resumed. */
gint64 ms_run_writer_get_run_id (const MsRunWriter *w);

G_END_DECLS
