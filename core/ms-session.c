/* ms-session.c — a session over the engine table (ms-engine.h): buffers
 * sized once from the engine's sizes, input checks, the memory and NLL
 * observations, the segment loop with progress and cancellation, and
 * saving/restoring state.  It never tests which architecture runs. */
#include "ms-session.h"
#include "ms-engine.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

#define STATE_FORMAT "1"

struct _MsSession {
  /* Owned */
  MsModel *model;            /* a reference */
  MsEngineState state;       /* memory, carry and scratch (owned), the segment index, the observer */
  float *nll;                /* (L) per-token NLL when the caller passes none */
  /* Borrowed */
  const MsEngine *engine;    /* the model's */
  MsEngineSizes sizes;       /* carry capacity, for state files */
};

MsSession *
ms_session_new (MsModel *model)
{
  const MsConfig *c = ms_model_get_config (model);
  MsSession *s = g_new0 (MsSession, 1);
  s->model = ms_model_ref (model);
  s->engine = c->engine;
  s->engine->sizes (c, &s->sizes);
  s->state.memory = g_new (float, (size_t) c->n_slots * c->d_model);
  s->state.carry = g_new0 (float, MAX ((size_t) (s->sizes.carry_rows * s->sizes.carry_cols), 1));
  s->state.scratch = s->engine->scratch_new (c);
  s->nll = g_new (float, c->segment_len);
  ms_session_reset (s);
  return s;
}

void
ms_session_free (MsSession *s)
{
  if (!s)
    return;
  s->engine->scratch_free (s->state.scratch);
  g_free (s->state.memory);
  g_free (s->state.carry);
  g_free (s->nll);
  ms_model_unref (s->model);
  g_free (s);
}

void
ms_session_reset_memory (MsSession *s)
{
  s->engine->initial_memory (s->model, s->state.memory);
}

void
ms_session_set_memory (MsSession *s, const float *memory)
{
  const MsConfig *c = ms_model_get_config (s->model);
  memmove (s->state.memory, memory, (size_t) c->n_slots * c->d_model * sizeof (float));
}

void
ms_session_reset (MsSession *s)
{
  ms_session_reset_memory (s);
  s->state.segment = 0;
  s->state.carry_rows = 0;
  s->state.carry_token = 0;
  s->state.nonfinite[0] = '\0';
}

MsModel *ms_session_get_model (const MsSession *s) { return s->model; }
int ms_session_get_segment (const MsSession *s) { return s->state.segment; }
const float *ms_session_get_memory (const MsSession *s) { return s->state.memory; }
const char *ms_session_get_nonfinite (const MsSession *s) { return s->state.nonfinite[0] ? s->state.nonfinite : NULL; }

void
ms_session_set_observer (MsSession *s, guint kinds, MsObserverFunc func, gpointer user_data)
{
  s->state.observe = func ? kinds : 0;
  s->state.observer = func;
  s->state.observer_data = user_data;
}

size_t
ms_observation_size (const MsObservation *obs)
{
  size_t n = 1;
  for (int i = 0; i < obs->n_dims; i++)
    n *= (size_t) obs->shape[i];
  return n;
}

void
ms_observation_copy (const MsObservation *obs, float *dest)
{
  /* as (outer, rows, cols) with contiguous cols */
  int nd = obs->n_dims;
  size_t cols = obs->shape[nd - 1];
  size_t rows = nd >= 2 ? obs->shape[nd - 2] : 1, row_stride = nd >= 2 ? obs->stride[nd - 2] : cols;
  size_t outer = nd == 3 ? obs->shape[0] : 1, outer_stride = nd == 3 ? obs->stride[0] : rows * row_stride;
  if (row_stride == cols && outer_stride == rows * cols)
    {
      memcpy (dest, obs->data, outer * rows * cols * sizeof (float));
      return;
    }
  for (size_t o = 0; o < outer; o++)
    {
      const float *src = obs->data + o * outer_stride;
      if (row_stride == cols)
        memcpy (dest, src, rows * cols * sizeof (float)), dest += rows * cols;
      else
        for (size_t i = 0; i < rows; i++, dest += cols)
          memcpy (dest, src + i * row_stride, cols * sizeof (float));
    }
}

/* The checks of ms_session_step, for a segment numbered @segment. */
static gboolean
check_segment (const MsSession *s, int segment, const int32_t *tokens, int n, GError **error)
{
  const MsConfig *c = ms_model_get_config (s->model);
  if (n < 1 || n > c->segment_len)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "segment %d has %d tokens; %s needs 1 to %d (its segment_len)",
                   segment, n, ms_model_get_path (s->model), c->segment_len);
      return FALSE;
    }
  for (int i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
      {
        g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "segment %d, token %d: id %d is outside the vocabulary [0, %d) of %s",
                     segment, i, tokens[i], c->vocab_size, ms_model_get_path (s->model));
        return FALSE;
      }
  return TRUE;
}

gboolean
ms_session_step (MsSession *s, const int32_t *tokens, int n, float *nll, GError **error)
{
  const MsConfig *c = ms_model_get_config (s->model);
  MsEngineState *st = &s->state;
  if (!check_segment (s, st->segment, tokens, n, error))
    return FALSE;

  float *out = nll ? nll : s->nll;

  if (ms_engine_state_wants (st, MS_OBS_MEMORY_IN))
    ms_engine_state_offer (st, MS_OBS_MEMORY_IN, -1, st->memory, 2, c->n_slots, c->d_model, 0);
  s->engine->step (s->model, st, tokens, n, out);
  if (ms_engine_state_wants (st, MS_OBS_MEMORY_OUT))
    ms_engine_state_offer (st, MS_OBS_MEMORY_OUT, -1, st->memory, 2, c->n_slots, c->d_model, 0);
  if (ms_engine_state_wants (st, MS_OBS_NLL))
    ms_engine_state_offer (st, MS_OBS_NLL, -1, out, 1, n, 0, 0);
  st->segment++;
  return TRUE;
}

gboolean
ms_session_run (MsSession *s, const int32_t *tokens, size_t n, int segment_len, float *nll,
                MsProgressFunc progress, gpointer progress_data,
                GCancellable *cancellable, GError **error)
{
  const MsConfig *c = ms_model_get_config (s->model);
  if (segment_len < 0 || segment_len > c->segment_len)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "segment length %d is outside 1..%d, the segment_len of %s",
                   segment_len, c->segment_len, ms_model_get_path (s->model));
      return FALSE;
    }
  size_t L = (size_t) (segment_len ? segment_len : c->segment_len);
  size_t n_segments = (n + L - 1) / L;
  for (size_t t = (size_t) s->state.segment; t < n_segments; t++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, MS_ERROR, MS_ERROR_CANCELLED, "cancelled after %zu of %zu segments", t, n_segments);
          return FALSE;
        }
      size_t begin = t * L, len = MIN (L, n - begin);
      if (!ms_session_step (s, tokens + begin, (int) len, nll ? nll + begin : NULL, error))
        return FALSE;
      if (progress)
        progress ((int) t + 1, (int) n_segments, progress_data);
    }
  return TRUE;
}

/* ---- state files ------------------------------------------------------ */

gboolean
ms_session_step_from (MsSession *s, int segment, const float *memory_in, const int32_t *tokens, int n,
                      GError **error)
{
  const MsConfig *c = ms_model_get_config (s->model);
  if (!check_segment (s, segment, tokens, n, error))
    return FALSE;
  memcpy (s->state.memory, memory_in, (size_t) c->n_slots * c->d_model * sizeof (float));
  /* No carry in: the segment's own predictions from the segment before are
   * not needed, only what the segment computes from its memory and tokens
   * (its attention, its memory out and its carry out). */
  s->state.carry_rows = 0;
  s->state.segment = segment;
  return ms_session_step (s, tokens, n, NULL, error);
}

gboolean
ms_session_replay_segment (MsSession *s, int segment, const float *memory_in, const int32_t *tokens, int n,
                           GError **error)
{
  guint observe = s->state.observe;
  s->state.observe = 0;
  gboolean ok = ms_session_step_from (s, segment, memory_in, tokens, n, error);
  s->state.observe = observe;
  return ok;
}

static GBytes *
save_state_bytes (const MsSession *s)
{
  const MsConfig *c = ms_model_get_config (s->model);
  int carry_cols = (int) s->sizes.carry_cols;
  MsTensorOut t[2] = {
    { "memory", 2, { c->n_slots, c->d_model }, s->state.memory },
    { "carry", 2, { s->state.carry_rows, carry_cols }, s->state.carry },
  };
  g_autofree char *segment = g_strdup_printf ("%d", s->state.segment);
  g_autofree char *token = g_strdup_printf ("%d", s->state.carry_token);
  const char *meta[] = { "memscope.state", STATE_FORMAT, "memscope.arch", s->engine->name,
                         "segment", segment, "carry_token", token, NULL };
  return ms_safetensors_serialize (t, 2, meta);
}

gboolean
ms_session_save_state (const MsSession *s, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = save_state_bytes (s);
  return ms_safetensors_write_bytes (path, bytes, error);
}

static gboolean
state_int (MsSafetensors *st, const char *key, gint64 max, gint64 *out, const char *path, GError **error)
{
  const char *v = ms_safetensors_get_metadata (st, key);
  if (!v || !g_ascii_string_to_signed (v, 10, 0, max, out, NULL))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_STATE, "%s: state metadata \"%s\" is missing or not in [0, %" G_GINT64_FORMAT "]",
                   path, key, max);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_state (MsSession *s, MsSafetensors *st, const char *path, GError **error)
{
  const MsConfig *c = ms_model_get_config (s->model);
  if (g_strcmp0 (ms_safetensors_get_metadata (st, "memscope.state"), STATE_FORMAT) != 0
      || g_strcmp0 (ms_safetensors_get_metadata (st, "memscope.arch"), s->engine->name) != 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_STATE, "%s: not a session state (format %s) of a %s model", path,
                   STATE_FORMAT, s->engine->name);
      return FALSE;
    }
  gint64 segment, token;
  if (!state_int (st, "segment", G_MAXINT, &segment, path, error)
      || !state_int (st, "carry_token", c->vocab_size - 1, &token, path, error))
    return FALSE;

  const MsTensorInfo *mem = ms_safetensors_lookup (st, "memory");
  const MsTensorInfo *carry = ms_safetensors_lookup (st, "carry");
  int carry_cols = (int) s->sizes.carry_cols;
  int max_rows = (int) s->sizes.carry_rows;
  if (!mem || mem->n_dims != 2 || mem->shape[0] != c->n_slots || mem->shape[1] != c->d_model)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_STATE, "%s: tensor 'memory' must have shape [%d, %d] for %s",
                   path, c->n_slots, c->d_model, ms_model_get_path (s->model));
      return FALSE;
    }
  if (!carry || carry->n_dims != 2 || carry->shape[1] != carry_cols || carry->shape[0] > max_rows
      || (carry->shape[0] == 0) != (segment == 0))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_STATE,
                   "%s: tensor 'carry' must have shape [r, %d] with 1 ≤ r ≤ %d (r = 0 only at segment 0)",
                   path, carry_cols, max_rows);
      return FALSE;
    }
  ms_tensor_info_to_f32 (mem, s->state.memory);
  ms_tensor_info_to_f32 (carry, s->state.carry);
  s->state.carry_rows = (int) carry->shape[0];
  s->state.carry_token = (int32_t) token;
  s->state.segment = (int) segment;
  return TRUE;
}

gboolean
ms_session_load_state (MsSession *s, const char *path, GError **error)
{
  g_autoptr (MsSafetensors) st = ms_safetensors_open (path, error);
  return st && load_state (s, st, path, error);
}
