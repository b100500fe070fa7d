/* ms-recorder.h — recording a run into a Memscope recording (DESIGN §6).
 *
 * A run steps one model through one input file, and commits every segment
 * whole, within one transaction: the segment's text and per-token NLL,
 * with --attn f16|f32 every attention matrix the engine observes (one BLOB
 * per segment, kind, layer and head; by default none: a compact run, whose
 * attention the reader replays, ms-replay.h), the memory state after the
 * segment, the derived retention per slot (ms-analysis.h), and the run's
 * progress.  A transaction holds a group of consecutive segments: up to
 * the end of the memory chunk their states go into and for at most
 * COMMIT_WAIT_US (a quarter of a second, ms-recorder.c) after the first,
 * so each page is written once per group rather than once per segment.  A
 * process killed at any moment therefore leaves every committed segment
 * exactly as committed and the run marked 'incomplete', having lost only
 * the segments not yet committed: those stepped and not yet written (a
 * twentieth of a second of stepping once the writer keeps up) and the
 * open group, at most COMMIT_WAIT_US of stepping or one memory chunk,
 * whichever is less.  Recording it again with @resume_run continues from
 * the last committed segment and produces exactly what an uninterrupted
 * run would have.
 *
 * The writing happens on a second thread, beside the next segments'
 * inference (at most a few dozen segments behind it), so recording costs
 * the model little wall time when a core is free.
 */
#pragma once

#include <gio/gio.h>

#include "ms-recording-names.h"
#include "ms-session.h"

G_BEGIN_DECLS

/* The recorder checkpoints its WAL each time it holds this many pages
 * (2 MiB with the 8 KiB pages of new files; more while a reader holds an
 * older snapshot).  With synchronous = NORMAL a checkpoint syncs the WAL,
 * copies it into the recording's file and syncs that; the next commit starts
 * the WAL over with a new header, synced too.  A plain integer literal:
 * the recorder pastes it into a PRAGMA. */
#define MS_RECORDER_CHECKPOINT_PAGES 256

typedef struct {
  const char *name;        /* NULL: "MODEL-BASENAME on INPUT-BASENAME" */
  int segment_len;         /* 0: the model's segment_len */
  int max_segments;        /* 0: the whole input */
  MsAttnStore attn;
  char *nonfinite;         /* may be NULL; else MS_NONFINITE_LEN bytes that receive where the run's output
                              first turned NaN or infinite (ms_session_get_nonfinite), "" while it stayed
                              finite: a model whose weights overflow records NLL that is not finite */
} MsRecordOptions;

/* Records @input_path through @model into the recording @path (created
 * when missing).  With @resume_run > 0, continues that run instead: the
 * model and input must be the very files it was started with (checked by
 * SHA-256), and @opts is ignored.  @progress is called on the calling
 * thread once for every committed segment, in order (a little after the
 * commit of its group); @cancellable is checked between segments, and what was stepped
 * before the cancel is still committed (the run stays resumable).  Stores
 * the run id in @run_id (may be NULL): the resumed run's at once; a new
 * run's (created on the writer thread) before the first progress call and
 * on return, also on failure; 0 while and when there is no run.  Errors
 * name the recording or file and what failed:
 * MS_ERROR_IO (cannot write, disk full), MS_ERROR_FORMAT (not a recording,
 * newer schema), MS_ERROR_INPUT (no such run, files differ),
 * MS_ERROR_CANCELLED. */
gboolean ms_record (const char *path, MsModel *model, const char *input_path,
                    const MsRecordOptions *opts, gint64 resume_run,
                    MsProgressFunc progress, gpointer progress_data,
                    GCancellable *cancellable, gint64 *run_id, GError **error);

G_END_DECLS
