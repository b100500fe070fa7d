/* ms-replay.h — (private to the reader) the attention of a compact run's
 * segments, rematerialised on demand (DESIGN §6).
 *
 * A compact run (runs.attn_dtype "none") stores no attention matrices.  A
 * segment's attention is a deterministic function of the model, the
 * segment's input memory M_t and its tokens, all of which the run stores
 * (the memory exactly, f32), so stepping that one segment again from them
 * (ms_session_step_from) gives every read and write matrix, every layer and
 * head, bit for bit as an f32 recording stores them — on a CPU taking the
 * same kernel path (AVX-512 or not) as the one that recorded.
 *
 * The model is the file the run was recorded with: models.path (or a path
 * the caller names when the model moved), taken only when its SHA-256 is
 * the run's and its memscope.config the one the run stored.  Loaded models
 * and replayed segments are cached for the process, behind one lock, so a
 * recording opened once per view load (the workbench's worker threads)
 * still finds them: at most MS_REPLAY_MODELS models (with one session
 * each), and replayed segments up to MS_REPLAY_CACHE_BYTES, least recently
 * used first out.  A replayed segment is keyed by its content (the
 * model's SHA-256, the configuration the run stores for it, the input
 * memory and the tokens), so a changed file can
 * never serve a stale entry.
 *
 * Lock order: a caller may hold its recording's lock while it replays; the
 * replay lock is never held while taking a recording's.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "ms-model.h"
#include "ms-session.h"

G_BEGIN_DECLS

#define MS_REPLAY_MODELS 2
#define MS_REPLAY_CACHE_BYTES (G_GINT64_CONSTANT (64) << 20)

/* What one replay needs, as the reader read and validated it from the
 * recording.  Everything is borrowed for the call. */
typedef struct {
  const char *recording;       /* the recording's path (or label), for messages and for a model beside it */
  gint64 run_id;
  int segment;
  const char *model_path;      /* models.path as stored */
  const char *model_sha256;    /* models.sha256: 64 lowercase hex digits */
  const char *model_config;    /* models.config as stored: the loaded model's memscope.config must equal it */
  const char *model_override;  /* NULL, or a file to try first (a moved model) */
  const MsConfig *config;      /* the run's configuration, parsed from model_config */
  const float *memory_in;      /* (n_slots, d_model) M_t */
  int n_tokens;                /* 1 ≤ n_tokens ≤ config->segment_len */
  const int32_t *token_ids;    /* (n_tokens) as stored, or NULL when the recording stores none */
  const uint8_t *text;         /* the segment's bytes as stored: a byte model's tokens when there are no ids */
  int text_len;
} MsReplayInput;

/* One replayed segment: every attention observation of the step,
 * immutable, reference-counted (any thread). */
typedef struct _MsReplaySegment MsReplaySegment;

/* The replayed attention of @in's segment: a new reference (from the
 * cache, or stepped now).  Errors name the recording, the run and the
 * model file: MS_ERROR_IO when the model file cannot be read (missing, not
 * a regular file), MS_ERROR_INPUT when it is not the run's model (another
 * SHA-256 or configuration) — both saying how to point at the model —
 * MS_ERROR_FORMAT/MS_ERROR_MODEL when it does not load; MS_ERROR_FORMAT
 * when the stored tokens do not fit the model (an id outside its
 * vocabulary, a byte model's text not n_tokens bytes), MS_ERROR_INPUT when
 * a BPE model's run stores no token ids. */
MsReplaySegment *ms_replay_segment (const MsReplayInput *in, GError **error);

MsReplaySegment *ms_replay_segment_ref (MsReplaySegment *seg);
void ms_replay_segment_unref (MsReplaySegment *seg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsReplaySegment, ms_replay_segment_unref)

/* The matrices of @kind at @layer (0 for a kind without layers, as a
 * recording stores it): (heads,
 * rows, cols) dense row-major f32, borrowed from @seg; NULL when the step
 * offered none (another kind, a layer out of range). */
const float *ms_replay_segment_attention (const MsReplaySegment *seg, MsObsKind kind, int layer, int *heads,
                                          int *rows, int *cols);

/* The model of @in's run, found and verified as ms_replay_segment does
 * (only the model fields of @in are read): a new reference.  Errors as
 * ms_replay_segment's about the model. */
MsModel *ms_replay_model (const MsReplayInput *in, GError **error);

/* @in's tokens for @model (the run's): the stored ids, or a byte model's
 * text, every id checked against the vocabulary.  Owned (g_free),
 * in->n_tokens of them; NULL with errors as ms_replay_segment's about
 * tokens. */
int32_t *ms_replay_tokens (const MsReplayInput *in, MsModel *model, GError **error);

/* Drops every cached model and segment (entries still referenced live on
 * until unreferenced). */
void ms_replay_clear_cache (void);

/* Counters since the process started, for tests and benchmarks: segments
 * stepped, and segments served from the cache. */
void ms_replay_get_counts (guint64 *stepped, guint64 *cached);

G_END_DECLS
