/* ms-eval.c — per-token task accuracy with the C core (contract in
 * ms-eval.h).  The observer turns each segment's logits into argmax
 * predictions filed under the token they predict; the loop compares them
 * with the instance's answer tokens. */
#include "ms-eval.h"

#include <string.h>

#include "ms-engine.h"
#include "ms-error.h"

typedef struct {
  int shift;          /* logits row j predicts token j + shift (the engine's logits_shift) */
  int segment_len;
  int n_tokens;       /* tokens in one instance */
  int32_t *pred;      /* (n_tokens) argmax prediction per token, −1 = none */
} Predictions;

static int
argmax (const float *row, int n)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (row[i] > row[best])
      best = i;
  return best;
}

static void
observe_logits (const MsObservation *obs, gpointer user_data)
{
  Predictions *p = user_data;
  int rows = obs->shape[0], vocab = obs->shape[1];
  int first = obs->segment * p->segment_len;
  int shift = p->shift;
  for (int j = 0; j < rows; j++)
    {
      int at = first + j + shift;
      if (at < p->n_tokens)
        p->pred[at] = argmax (obs->data + (size_t) j * vocab, vocab);
    }
}

gboolean
ms_eval_run (MsModel *model, const MsEvalOptions *options, MsProgressFunc progress,
             gpointer progress_data, GCancellable *cancellable, MsEvalResult *result, GError **error)
{
  const MsConfig *c = ms_model_get_config (model);
  const char *label = ms_model_get_path (model);
  MsTask task = options->task;
  int L = c->segment_len;

  if (options->n < 1)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "eval needs at least one instance, got %d", options->n);
      return FALSE;
    }
  /* The tasks are defined position by position (ms-tasks.h): each segment
   * holds L of the instance's characters and the answer sits at fixed
   * positions.  A BPE tokenizer would merge runs of them ("abca" into one
   * token), so its segments would no longer hold the task's parts, and
   * feeding each character as its one-byte token shows the model sequences
   * it never saw in training: neither measures what the task measures. */
  const MsTokenizer *tokenizer = ms_model_get_tokenizer (model);
  if (ms_tokenizer_get_kind (tokenizer) != MS_TOKENIZER_BYTES)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT,
                   "%s: eval's %s task is laid out one byte per token position, and this model's tokenizer is "
                   "%s (%d ids), which would merge the task's characters into other tokens, so its segments "
                   "would no longer hold the task (eval takes models whose tokenizer is bytes). To see what "
                   "this model's memory is worth, compare `memscope-cli run MODEL TEXT` with and without "
                   "--reset-memory on a text of yours", label, ms_task_name (task),
                   ms_tokenizer_get_kind_name (tokenizer), ms_tokenizer_get_vocab_size (tokenizer));
      return FALSE;
    }
  if (c->vocab_size <= 'z')
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT,
                   "%s: vocab_size %d cannot hold the %s task's ASCII tokens (need > %d)", label,
                   c->vocab_size, ms_task_name (task), 'z');
      return FALSE;
    }
  if (L < ms_task_min_segment_len (task))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: segment_len %d is too short for the %s task (need ≥ %d)",
                   label, L, ms_task_name (task), ms_task_min_segment_len (task));
      return FALSE;
    }

  int n_tokens = ms_task_length (task, L);
  g_autofree uint8_t *tokens = g_new (uint8_t, n_tokens);
  g_autofree uint8_t *answer = g_new (uint8_t, n_tokens);
  g_autofree int32_t *ids = g_new (int32_t, n_tokens);
  g_autofree int32_t *pred = g_new (int32_t, n_tokens);
  Predictions p = { .shift = c->engine->logits_shift, .segment_len = L, .n_tokens = n_tokens, .pred = pred };

  g_autoptr (MsSession) session = ms_session_new (model);
  ms_session_set_observer (session, MS_OBS_LOGITS, observe_logits, &p);

  MsRng rng;
  ms_rng_init (&rng, options->seed);
  int64_t n_answer = 0, n_correct = 0;
  result->nonfinite[0] = '\0';
  for (int k = 0; k < options->n; k++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, MS_ERROR, MS_ERROR_CANCELLED, "eval cancelled after %d of %d instances", k,
                       options->n);
          return FALSE;
        }
      ms_task_generate (task, L, &rng, tokens, answer);
      for (int i = 0; i < n_tokens; i++)
        {
          ids[i] = ms_tokenizer_get_byte_token (tokenizer, tokens[i]);
          pred[i] = -1;
        }
      ms_session_reset (session);
      for (int start = 0; start < n_tokens; start += L)
        {
          int len = MIN (L, n_tokens - start);
          if (options->reset_memory)
            ms_session_reset_memory (session);
          if (!ms_session_step (session, ids + start, len, NULL, error))
            return FALSE;
        }
      /* the session forgets it at the next instance's reset */
      if (!result->nonfinite[0] && ms_session_get_nonfinite (session))
        g_snprintf (result->nonfinite, sizeof result->nonfinite, "instance %d, %s", k,
                    ms_session_get_nonfinite (session));
      for (int i = 0; i < n_tokens; i++)
        if (answer[i])
          {
            n_answer++;
            n_correct += pred[i] == ids[i];
          }
      if (options->on_instance)
        options->on_instance (k, tokens, answer, pred, n_tokens, options->on_instance_data);
      if (progress)
        progress (k + 1, options->n, progress_data);
    }

  result->n = options->n;
  result->segment_len = L;
  result->n_answer = n_answer;
  result->n_correct = n_correct;
  result->accuracy = n_answer > 0 ? (double) n_correct / (double) n_answer : 0.0;
  result->chance = ms_task_chance (task);
  return TRUE;
}
