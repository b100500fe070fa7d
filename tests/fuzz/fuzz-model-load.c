/* fuzz-model-load.c — libFuzzer entry point for the model loader: any byte
 * string must either load as a model or be rejected with a message, never
 * crash, read out of bounds or leak.  When a model loads, one short segment
 * is run through a session too, so a shape the validator let through cannot
 * crash the engines.  Headers that nest deeply or configurations far larger
 * than the file must be refused before the loader works in proportion to
 * them (ms-json.h, ms-engine.h count_weights). */
#include <stdint.h>
#include <stddef.h>

#include "ms-model.h"
#include "ms-engine.h"
#include "ms-session.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  MsModel *model = ms_model_load_bytes (data, size, "fuzz-input", &error);
  if (!model)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      g_error_free (error);
      return 0;
    }
  const MsConfig *c = ms_model_get_config (model);
  /* the count the loader refuses hostile configurations by is exact */
  MsCount n_tensors = { 0 }, n_params = { 0 };
  c->engine->count_weights (c, &n_tensors, &n_params);
  g_assert (!n_params.overflow && n_params.value == ms_model_get_n_params (model));
  g_assert (!n_tensors.overflow && n_tensors.value <= ms_model_get_n_tensors (model));
  /* Guard against configs so large a single step would take seconds. */
  if ((size_t) c->segment_len * c->d_model * (c->n_slots + 1) < (1u << 22))
    {
      MsSession *s = ms_session_new (model);
      int32_t tokens[3] = { 'a', 'b', 0xff };
      int n = MIN (3, c->segment_len);
      ms_session_step (s, tokens, n, NULL, NULL);
      ms_session_step (s, tokens, n, NULL, NULL);
      ms_session_free (s);
    }
  ms_model_unref (model);
  return 0;
}
