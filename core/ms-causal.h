/* ms-causal.h — causal retention (DESIGN §5.6): what the memory after a
 * segment actually carries, measured by replacing it and replaying.
 *
 * Attention-based retention (ms-analysis.h) says where a slot's new content
 * comes from; it cannot see a model that reads its old memory into the
 * tokens and rewrites every slot from them (the content survives, the
 * attention says "overwrite").  Causal retention asks the model instead: for
 * a source segment s, the memory after s, M_{s+1}, is replaced and the run
 * is replayed for the targets t ∈ (s, s + H]; the change
 *
 *   ΔNLL(s, t) = mean per-token NLL of segment t (replaced) − the same (original)
 *
 * over the tokens of t that have a prediction, and, where the run's input is
 * a task input (ms_task_detect), the change in accuracy over t's answer
 * tokens (argmax of the logits that predict each token, as ms-eval.h), are
 * stored in the recording.  The replacements:
 *
 *   initial    M_{s+1} := M_0, the model's initial memory: forget everything
 *   zeros      M_{s+1} := 0: no memory at all (a state the model never saw)
 *   permute    slot i := slot (i + 1) mod K: the same content in other slots,
 *              which tests whether a slot's identity (its position, its bias)
 *              matters
 *   knockout   for each slot i, slot i := M_0[i], the others kept: that
 *              slot's causal importance; one row per (source, slot)
 *   skip       M_{s+1} := M_s, the memory before s: as if segment s had never
 *              been written, so what segment s itself put into the memory
 *              (the others replace everything the memory held, which the
 *              memory after a segment that adds nothing still carries)
 *
 * "Original" is the recording's own trajectory replayed: segment t stepped
 * from its stored input memory M_t with the hand-over from segment t − 1
 * (ms_session_replay_segment), so on the CPU that recorded it the original
 * NLL is bit for bit the recorded one, and a model whose output does not
 * depend on its memory gives ΔNLL exactly 0.  What depends only on segment s
 * itself is untouched: Memformer's NLL of segment s + 1 comes from segment
 * s's encoding (computed with M_s), so ΔNLL(s, s + 1) is 0 there by
 * construction; RMT's first token of s + 1 is predicted by segment s's last
 * row, the rest of s + 1 reads M_{s+1}.
 *
 * Cost, per source: one replay of s (to restore its hand-over) and H
 * replayed segments — K times that for knockout — plus one original pass
 * over the sources' targets.  Sources are computed in order and each is
 * committed in its own transaction, so a computation can stop at any point
 * (cancelled, max_sources) and continue later: sources already stored with
 * the same horizon are skipped.  On a run still being recorded only sources
 * whose H targets are committed are computed.
 *
 * The reset-memory baseline is computed along (once per run): the NLL of
 * every segment with the memory set back to M_0 before it, as `memscope-cli
 * run --reset-memory` computes it (the hand-over from the previous segment
 * kept, itself computed from M_0).
 *
 * Tables (ms-db.h, schema 6): causal, one row per (run, replacement, slot,
 * source); reset_memory, one row per (run, segment).
 */
#pragma once

#include <gio/gio.h>

#include "ms-recording.h"
#include "ms-session.h"

G_BEGIN_DECLS

typedef enum {
  MS_CAUSAL_INITIAL,
  MS_CAUSAL_ZEROS,
  MS_CAUSAL_PERMUTE,
  MS_CAUSAL_KNOCKOUT,
  MS_CAUSAL_SKIP,
  MS_CAUSAL_N_REPLACEMENTS
} MsCausalReplacement;

/* "initial", "zeros", "permute", "knockout", "skip": the stored word and the CLI's
 * --replace value.  _from_name returns FALSE for anything else. */
const char *ms_causal_replacement_name (MsCausalReplacement r);
gboolean ms_causal_replacement_from_name (const char *name, MsCausalReplacement *r);

#define MS_CAUSAL_DEFAULT_HORIZON 8
#define MS_CAUSAL_MAX_HORIZON 1024

typedef struct {
  MsCausalReplacement replacement;
  int horizon;                 /* H, 1 … MS_CAUSAL_MAX_HORIZON */
  int first, last;             /* sources [first, last); last ≤ 0: to the end of the run */
  int max_sources;             /* stop after computing this many sources (0: no bound) */
  const char *model_path;      /* NULL, or where the run's model is now (ms_recording_set_model_path) */
} MsCausalOptions;

/* What a computation did. */
typedef struct {
  int sources_computed;        /* now */
  int sources_stored;          /* of the asked window, stored before (skipped) */
  int sources_left;            /* of the asked window, still missing (max_sources, a run still recording) */
  int reset_memory_segments;   /* baseline segments computed now */
  gint64 segments_replayed;    /* segments replayed, all kinds (and the baseline's) */
  gboolean task_input;         /* the input is made of task instances: accuracy stored too */
} MsCausalResult;

/* Computes and stores the causal retention of run @run_id of the
 * recording at @path (opened writable: a recording of an older schema is
 * upgraded) with @options, and the run's reset-memory baseline where it is
 * missing.  The run's model is found as replay finds it (ms-replay.h).
 * @progress (may be NULL) is called after each source and baseline batch
 * with replayed segments done and planned.  Checks @cancellable between
 * sources (MS_ERROR_CANCELLED; what was committed stays).  @result may be
 * NULL.  Errors name the file: MS_ERROR_INPUT for a bad option or run,
 * and those of ms_recording_attention and of writing. */
gboolean ms_causal_compute (const char *path, gint64 run_id, const MsCausalOptions *options,
                            MsProgressFunc progress, gpointer progress_data, GCancellable *cancellable,
                            MsCausalResult *result, GError **error);

/* One stored source of one replacement; borrowed, valid during the
 * callback.  Value k of each array is target segment source + 1 + k; NaN
 * where that segment has no predicted token (no answer token, for
 * accuracy) or lies past the run's end. */
typedef struct {
  int source;
  int slot;                    /* knockout: the slot; −1 otherwise */
  int horizon;
  const float *delta_nll;      /* (horizon) nats per token */
  const float *delta_accuracy; /* (horizon), or NULL: not a task input */
} MsCausalRow;

typedef gboolean (*MsCausalFunc) (const MsCausalRow *row, gpointer user_data, GError **error);

/* Calls @func on each stored row of @replacement for @run (from
 * ms_recording_get_run), by source then slot.  Every row is validated
 * first: MS_ERROR_FORMAT naming the file, table causal, run and source for
 * a source outside the run's committed segments, a slot outside −1 … K − 1
 * (or not −1 except for knockout), a horizon outside 1 …
 * MS_CAUSAL_MAX_HORIZON, arrays of another size; MS_ERROR_IO when SQLite
 * fails; or @func's error. */
gboolean ms_causal_foreach (MsRecording *rec, const MsRunInfo *run, MsCausalReplacement replacement,
                            MsCausalFunc func, gpointer user_data, GError **error);

/* How many rows of @replacement @run has stored (0 when none); −1 with
 * @error when SQLite fails. */
gint64 ms_causal_count (MsRecording *rec, const MsRunInfo *run, MsCausalReplacement replacement, GError **error);

typedef gboolean (*MsResetMemoryFunc) (int segment, const float *nll, int n_tokens, float mean_nll,
                                       gpointer user_data, GError **error);

/* Calls @func on each stored segment of @run's reset-memory baseline in
 * [@first, @last), in order: per-token NLL (NaN = no prediction; borrowed)
 * and their mean over predicted tokens (NaN without).  Errors as
 * ms_causal_foreach (table reset_memory). */
gboolean ms_causal_foreach_reset_memory (MsRecording *rec, const MsRunInfo *run, int first, int last,
                                         MsResetMemoryFunc func, gpointer user_data, GError **error);

G_END_DECLS
