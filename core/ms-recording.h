/* ms-recording.h — reading a recording (DESIGN §6): the runs it holds and
 * the quantities every view is drawn from.  Opens read-only, so it works
 * while a recorder is still writing (WAL): each call sees the segments
 * committed when it runs, or, between ms_recording_read_begin and _end, those
 * of one snapshot.
 *
 * Per-segment quantities are streamed to a callback segment by segment, so a
 * reader holds only what it keeps (a view: its output cells).  Matrices are
 * returned as owned row-major float arrays (g_free) with their shape in
 * out-parameters; NaN marks a cell without data.  Every query reads to its
 * end: an SQLite failure part way (an I/O error, a damaged page) is
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
 * recording, newer schema, missing).  Reads a recording left in either
 * journal mode, also from read-only media or a folder the user cannot
 * write; there, a file in WAL mode is opened immutable (SQLite's
 * immutable=1: no locks), which sees what a file nobody writes holds, and
 * one with transactions left in a -wal beside it is read with them
 * (ms_db_open). */
MsRecording *ms_recording_open (const char *path, GError **error);
/* The same over an image of a recording file in memory: @size bytes at
 * @data (borrowed; copied), named @label in every message.  Read-only,
 * with every check ms_recording_open makes; for a recording received as
 * bytes, and for the fuzz target (tests/fuzz/fuzz-recording-read.c). */
MsRecording *ms_recording_open_image (const void *data, size_t size, const char *label, GError **error);
/* Closes @rec (NULL is fine); nothing may use it after. */
void ms_recording_close (MsRecording *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsRecording, ms_recording_close)

/* All runs, oldest first (owned array of owned MsRunInfo).  Errors name
 * the file: MS_ERROR_IO when SQLite fails, MS_ERROR_FORMAT for a run whose
 * stored sizes, configuration, status or attention storage Memscope never
 * writes. */
GPtrArray *ms_recording_list_runs (MsRecording *rec, GError **error);
/* One run; errors as ms_recording_list_runs, and MS_ERROR_INPUT when there
 * is no such run. */
MsRunInfo *ms_recording_get_run (MsRecording *rec, gint64 run_id, GError **error);

/* A consistent snapshot: between ms_recording_read_begin and
 * ms_recording_read_end every call on @rec sees the same committed segments
 * (one read transaction), and no other thread uses @rec.  Pairs nest on one
 * thread (the outermost opens and closes the transaction).  Every other
 * function here also takes @rec for the length of its call, so one
 * MsRecording may be shared by threads. */
gboolean ms_recording_read_begin (MsRecording *rec, GError **error);
void ms_recording_read_end (MsRecording *rec);

/* What ms_recording_foreach_segment reads: 1 << MsSlotQuantity for each
 * per-slot quantity, and these. */
typedef enum {
  MS_SEGMENT_TRANSFER = 1 << 8,
  MS_SEGMENT_NLL = 1 << 9,
  MS_SEGMENT_TEXT = 1 << 10,
} MsSegmentFields;

/* One committed segment's recorded quantities; borrowed, valid during the
 * callback only. */
typedef struct {
  int segment;
  const float *slots[MS_SLOT_N_QUANTITIES];  /* (K) each quantity asked for, NaN past a shorter
                                                stored array; NULL when not asked for */
  const float *transfer;    /* (K, K) old-slot transfer (DESIGN §5.3), when asked for: as recorded,
                               or diag(retention) for a segment that stores none */
  float nll;                /* mean NLL per predicted token; NaN without predictions */
  const char *text;         /* the segment's bytes (not NUL-terminated), with MS_SEGMENT_TEXT */
  int text_len;
} MsRecordedSegment;

typedef gboolean (*MsSegmentFunc) (const MsRecordedSegment *seg, gpointer user_data, GError **error);

/* Calls @func on every @stride-th committed segment of [@first, @last) of
 * @run (first, first + stride, …) in order, with the fields in @fields
 * (MsSegmentFields and 1 << MsSlotQuantity).  @run is the description read
 * with ms_recording_get_run (its n_slots sizes the arrays).  Memory: O(K²)
 * whatever the range.  Returns FALSE with @error when SQLite fails
 * (MS_ERROR_IO), a row contradicts its key or the run's sizes
 * (MS_ERROR_FORMAT naming the file, table and segment), or @func returns
 * FALSE (with its error). */
gboolean ms_recording_foreach_segment (MsRecording *rec, const MsRunInfo *run, int first, int last, int stride,
                                       guint fields, MsSegmentFunc func, gpointer user_data, GError **error);

typedef gboolean (*MsStateFunc) (int segment, const float *state, gpointer user_data, GError **error);

/* Calls @func on the memory state after each committed segment of
 * [@first, @last) of @run, in order: (K·d) floats, borrowed for the call.
 * Errors as ms_recording_foreach_segment; a state stored with another size
 * is MS_ERROR_FORMAT. */
gboolean ms_recording_foreach_memory_state (MsRecording *rec, const MsRunInfo *run, int first, int last,
                                            MsStateFunc func, gpointer user_data, GError **error);
/* One attention matrix of @kind (MS_OBS_READ or MS_OBS_WRITE) of @run (its
 * description, from ms_recording_get_run) at @segment and @layer (0 for a
 * kind without layers), of head @head, or the mean over heads when @head <
 * 0.  A run that stored attention (--attn f16|f32) reads it; a compact run
 * (MS_ATTN_STORE_NONE) replays the segment from its stored memory and
 * tokens with the model it was recorded with (ms-replay.h: models.path,
 * or the file set with ms_recording_set_model_path, taken only when its
 * SHA-256 is the run's), bit for bit what --attn f32 stores, and the
 * replayed segment is cached for the process.
 * MS_ERROR_INPUT when the segment/layer/head does not exist or the model
 * file is not the run's; MS_ERROR_IO when the model cannot be read;
 * MS_ERROR_FORMAT when the stored matrices, memory state or tokens
 * contradict their own shape or the run's. */
float *ms_recording_attention (MsRecording *rec, const MsRunInfo *run, int segment, MsObsKind kind, int layer,
                               int head, int *rows, int *cols, GError **error);
/* Replays of @rec's compact runs take their model from @path (copied;
 * NULL: from where each run's model was, models.path, or the same name
 * beside the recording) — for a model that moved.  It is used only for a
 * run whose model's SHA-256 it has. */
void ms_recording_set_model_path (MsRecording *rec, const char *path);

/* The bytes of one segment's text (owned GBytes); MS_ERROR_INPUT naming
 * the file when the run has no such segment, MS_ERROR_IO when SQLite
 * fails. */
GBytes *ms_recording_segment_text (MsRecording *rec, gint64 run_id, int segment, GError **error);

/* The tokens of one segment of @run (its description, from
 * ms_recording_get_run): each token's id and the bytes [start, end) of the
 * segment's text (ms_recording_segment_text) it stands for; the tokens tile
 * the text in order.  Owned (g_free), @n_tokens of them (≥ 1).  @byte_begin
 * (may be NULL) receives the offset of the segment's first byte in the run's
 * input, so tokens of two runs over one input align by byte ranges
 * (ms-token-align.h).  A segment tokenized by bytes — every segment of a
 * recording older than schema 5 — has one token per byte, its value.
 * MS_ERROR_INPUT naming the file when the run has no such segment;
 * MS_ERROR_FORMAT naming the file, run and segment when the stored ids or
 * byte ranges contradict the segment's token count or text, or an id lies
 * outside the model's vocabulary; MS_ERROR_IO when SQLite fails. */
MsToken *ms_recording_segment_tokens (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens,
                                      guint64 *byte_begin, GError **error);

/* The committed segment of @run whose bytes hold byte @byte of its input
 * (the segments' bytes tile the input in order: a binary search over
 * them), or −1 when none does; −2 with @error (as
 * ms_recording_segment_tokens) when the recording fails or holds a damaged
 * segment on the way. */
int ms_recording_find_segment_at_byte (MsRecording *rec, const MsRunInfo *run, guint64 byte, GError **error);

/* The per-token NLL of one segment of @run (its description, from
 * ms_recording_get_run), in nats: (*@n_tokens) floats, one per token of
 * the segment (ms_recording_segment_tokens), NaN for a token without a
 * prediction.  NLL lines up with the text: the value of token j is the loss
 * of predicting token j (ms-session.h).  Owned (g_free).  MS_ERROR_INPUT
 * naming the file when the run has no such segment; MS_ERROR_FORMAT naming
 * the file, run and segment when the stored array does not hold 4 bytes
 * per token or holds a negative or infinite value; MS_ERROR_IO when SQLite
 * fails. */
float *ms_recording_segment_nll (MsRecording *rec, const MsRunInfo *run, int segment, size_t *n_tokens,
                                 GError **error);

G_END_DECLS
