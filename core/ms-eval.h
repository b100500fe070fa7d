/* ms-eval.h — task accuracy of a model, measured with the C core.
 *
 * ms_eval_run() draws fresh copy or recall instances (ms-tasks.h) from one
 * seeded stream, steps a fresh session through each instance segment by
 * segment (segments of the model's segment_len), and counts how often the
 * argmax of the logits that predict an answer token is that token
 * (per-token accuracy over the answer tokens).  Which logits predict a
 * token follows MS_OBS_LOGITS: Memformer's decoder rows of segment t
 * predict segment t's tokens; RMT's row j predicts token j+1 and a
 * segment's last row the next segment's first token.  A token nothing
 * predicts counts as wrong (no answer token is ever in the first segment).
 *
 * With reset_memory the memory is set back to M_0 before every segment, so
 * nothing can travel through it.  What the next segment needs from the
 * previous one besides memory (Memformer: the previous segment's encoding
 * its decoder reads; RMT: the previous segment's last logits row) is kept —
 * it was computed from that segment's tokens and M_0 only, and without it
 * there would be no predictions to score.
 *
 * A task's instance is laid out one character per position, each of its
 * ASCII characters a token of the bytes tokenizer.  A model with another
 * tokenizer (BPE) is refused: its tokens would merge the characters, and
 * the segments would no longer hold the task's parts (ms_eval_run).
 */
#pragma once

#include <gio/gio.h>

#include "ms-model.h"
#include "ms-session.h"
#include "ms-tasks.h"

G_BEGIN_DECLS

/* Offered after each instance: its @tokens (the task's characters) and
 * @answer mask (n_tokens each) and @predicted, the argmax token id for each
 * position (−1 = no prediction).
 * All borrowed, valid during the call. */
typedef void (*MsEvalInstanceFunc) (int index, const uint8_t *tokens, const uint8_t *answer,
                                    const int32_t *predicted, int n_tokens, gpointer user_data);

typedef struct {
  MsTask task;
  int n;                   /* instances, ≥ 1 */
  uint64_t seed;           /* seeds the instance stream (ms-tasks.h) */
  gboolean reset_memory;
  MsEvalInstanceFunc on_instance;   /* may be NULL */
  gpointer on_instance_data;
} MsEvalOptions;

typedef struct {
  int n;                   /* instances evaluated */
  int segment_len;         /* the model's, which laid out the instances */
  int64_t n_answer;        /* answer tokens scored */
  int64_t n_correct;       /* of which argmax was right */
  double accuracy;         /* n_correct / n_answer */
  double chance;           /* ms_task_chance */
  char nonfinite[MS_NONFINITE_LEN + 24];   /* where the output of the first instance whose output turned NaN or
                                              infinite did so ("instance 3, segment 0, enc.layers.0"), "" when
                                              every output stayed finite (ms_session_get_nonfinite) */
} MsEvalResult;

/* Evaluates @model.  @progress (may be NULL) is called after each instance
 * with (instances done, n).  Fails with MS_ERROR_INPUT when the model's
 * tokenizer is not bytes (the message says why and what to run instead),
 * when it cannot take the task's tokens (vocab_size ≤ 'z') or its
 * segment_len is too short for the layout, and with MS_ERROR_CANCELLED when @cancellable fires
 * between instances. */
gboolean ms_eval_run (MsModel *model, const MsEvalOptions *options, MsProgressFunc progress,
                      gpointer progress_data, GCancellable *cancellable, MsEvalResult *result,
                      GError **error);

G_END_DECLS
