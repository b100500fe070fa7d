/* ms-session.h — one pass of a model over a sequence, segment by segment.
 *
 * A session owns the memory state M_t and every scratch buffer, sized once
 * from the model's segment_len; the model is shared and read-only.
 * ms_session_step() consumes one segment (1 ≤ n ≤ segment_len tokens) and
 * returns the per-token negative log-likelihood of that segment's tokens:
 *
 *   Memformer  token j of segment t is predicted by the decoder from the
 *              encoding of segment t−1 (DESIGN §3.1), so segment 0 has no
 *              prediction.  DESIGN §4 words this as "the NLL produced at
 *              step t is that of segment t+1"; Memscope files the same
 *              numbers under the segment whose tokens are predicted, so NLL
 *              always lines up with the text.
 *   RMT        next-token over the concatenated stream: token 0 of segment t
 *              is predicted by the last token of segment t−1, so only the
 *              very first token of the sequence has no prediction.
 *
 * Tokens without a prediction get NaN.
 *
 * Observation: an observer set with ms_session_set_observer() is offered,
 * during the step, each kind in its mask as soon as it is computed; kinds not
 * in the mask are never copied out, so an unobserved run pays nothing.
 */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "ms-model.h"

G_BEGIN_DECLS

typedef enum {
  MS_OBS_MEMORY_IN  = 1 << 0, /* (K, d)           M_t, before the segment */
  MS_OBS_MEMORY_OUT = 1 << 1, /* (K, d)           M_{t+1} */
  MS_OBS_NLL        = 1 << 2, /* (L_t)            per-token NLL, NaN = no prediction */
  MS_OBS_LOGITS     = 1 << 3, /* (L_t, V)         logits that predict the segment's tokens
                                 (Memformer: decoder, t ≥ 1; RMT: the segment rows,
                                 row j predicting token j+1) */
  /* Attention: each engine offers at most one kind of each role, and its
   * attention layout (ms-engine.h) gives the shape and the row and column
   * blocks. */
  MS_OBS_READ       = 1 << 4, /* read attention (H, rows, cols): tokens → slots, e.g. Memformer's encoder
                                 memory attention (H, L_t, K) per layer, RMT's segment rows over the read block
                                 (H, L_t, m) per layer */
  MS_OBS_WRITE      = 1 << 5, /* write attention (H, K, sources): where each new slot's content comes
                                 from, e.g. Memformer's writer (H, K, 1+L_t) [self | tokens], RMT's
                                 write rows (H, m, 2m+L_t) [read block | tokens | write block] per layer */
  MS_OBS_GATE       = 1 << 6, /* (K)              an update gate per slot, where the engine has one (MemBART:
                                 M_{t+1} = α·(the layers' memory) + (1 − α)·(the old memory), α offered) */
} MsObsKind;

#define MS_OBS_ALL 0x7f

/* An observation may be a view into a larger matrix (RMT's slices of
 * its (H, T, T) attention weights, which are then not copied): element
 * (i, j, k) of a 3-D observation is data[i·stride[0] + j·stride[1] + k],
 * (i, j) of a 2-D one data[i·stride[0] + j].  The last dimension is always
 * contiguous; memory, NLL and logits are contiguous throughout.
 * ms_observation_copy() gathers any observation into a dense array. */
typedef struct {
  MsObsKind kind;
  int segment;                 /* t, counted from 0 */
  int layer;                   /* layer index, or −1 for kinds without layers */
  int n_dims;
  int shape[3];
  const float *data;           /* borrowed: valid only during the callback */
  size_t stride[3];            /* in floats; stride[n_dims − 1] = 1 */
} MsObservation;

typedef void (*MsObserverFunc) (const MsObservation *obs, gpointer user_data);

/* Number of elements of @obs, and copying them into @dest densely (row
 * major over its first n_dims dimensions). */
size_t ms_observation_size (const MsObservation *obs);
void ms_observation_copy (const MsObservation *obs, float *dest);

typedef struct _MsSession MsSession;

/* Returns an owned session holding a reference on @model. */
MsSession *ms_session_new (MsModel *model);
void ms_session_free (MsSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSession, ms_session_free)

MsModel *ms_session_get_model (const MsSession *s);   /* borrowed */

/* Offers every observation whose kind is in @kinds to @func.  Replaces any
 * previous observer; @kinds = 0 removes it. */
void ms_session_set_observer (MsSession *s, guint kinds, MsObserverFunc func, gpointer user_data);

/* Consumes one segment.  @tokens[n] must be in [0, vocab) and 1 ≤ n ≤
 * segment_len; @nll[n] (may be NULL) receives the per-token NLL.  Returns
 * FALSE with MS_ERROR_INPUT on a bad segment (the state is unchanged). */
gboolean ms_session_step (MsSession *s, const int32_t *tokens, int n, float *nll, GError **error);

/* Segments consumed so far. */
int ms_session_get_segment (const MsSession *s);
/* The current memory M_t, (n_slots, d_model).  Borrowed; changes on step. */
const float *ms_session_get_memory (const MsSession *s);

/* Where a step's output first turned NaN or infinite since the session
 * began or was reset, as "segment 3, enc.layers.1" (the segment and the
 * file's tensor prefix of the layer), or NULL while everything stayed
 * finite.  Borrowed; shorter than MS_NONFINITE_LEN bytes. */
const char *ms_session_get_nonfinite (const MsSession *s);
#define MS_NONFINITE_LEN 96

/* Back to M_0 and segment 0, forgetting the carry from the last segment. */
void ms_session_reset (MsSession *s);

/* The memory back to M_0 only: the segment count and the carry from the
 * last segment (its tokens' hand-over to the next prediction) stay, so a
 * run can be repeated with a memory that never carries anything — the
 * baseline of `memscope-cli eval --reset-memory`. */
void ms_session_reset_memory (MsSession *s);

/* Replaces the memory M_t the next step reads with @memory (n_slots,
 * d_model; copied), keeping the segment count and the carry from the last
 * segment: what the causal measurements (ms-causal.h) do to the memory
 * after a segment. */
void ms_session_set_memory (MsSession *s, const float *memory);

/* Writes the state (memory, segment index, carry) atomically to @path as a
 * small safetensors file, so a run can resume after a crash. */
gboolean ms_session_save_state (const MsSession *s, const char *path, GError **error);
/* Restores a state written by ms_session_save_state for a model of the same
 * architecture and shape; on failure (MS_ERROR_STATE, …) nothing changes. */
gboolean ms_session_load_state (MsSession *s, const char *path, GError **error);

/* Puts @s exactly where an uninterrupted run stands after segment
 * @segment, from that segment's input memory @memory_in (n_slots, d_model)
 * and its @tokens[n]: the segment is stepped again, unobserved, which gives
 * the same memory and carry bit for bit (same code, same inputs).  This is
 * how a recording resumes from what it stored, without saving the state of
 * every segment.  Input errors as ms_session_step (nothing changes). */
gboolean ms_session_replay_segment (MsSession *s, int segment, const float *memory_in, const int32_t *tokens, int n,
                                    GError **error);

/* Steps segment @segment again from its input memory @memory_in (n_slots,
 * d_model) and its @tokens[n], offering the observer everything the
 * segment computes from them — read and write attention, memory in and
 * out — bit for bit as the uninterrupted run offered it (same code, same
 * inputs).  What depends on the segment before (the prediction of this
 * segment's first tokens: Memformer's decoder, RMT's first token) is not
 * computed: those NLLs are NaN.  This is how a compact recording
 * rematerialises a segment's attention (ms-replay.h).  Leaves @s as
 * ms_session_replay_segment does; input errors as ms_session_step. */
gboolean ms_session_step_from (MsSession *s, int segment, const float *memory_in, const int32_t *tokens, int n,
                               GError **error);

/* Progress callback for ms_session_run: after each segment. */
typedef void (*MsProgressFunc) (int segments_done, int n_segments, gpointer user_data);

/* Steps through the whole sequence @tokens[n] in segments of @segment_len
 * tokens (0 = the model's segment_len, which is also the upper bound; the
 * last segment may be shorter), starting at the session's current segment t,
 * i.e. at token t·@segment_len: a fresh session starts at the beginning, a
 * restored one resumes where its state was saved.  Writes per-token NLL to
 * @nll[n] (may be NULL; entries before the start are left alone).  Checks
 * @cancellable between segments (MS_ERROR_CANCELLED; every finished segment
 * stays applied). */
gboolean ms_session_run (MsSession *s, const int32_t *tokens, size_t n, int segment_len, float *nll,
                         MsProgressFunc progress, gpointer progress_data,
                         GCancellable *cancellable, GError **error);

G_END_DECLS
