/* parity.c — `parity MODEL EXPECTED`: runs the C core over the input stored
 * in EXPECTED (written by tests/reference/make_fixtures.py from the
 * independent PyTorch reference) and compares every observation — memory in
 * and out, logits, per-token NLL, read and write attention (Memformer's
 * encoder and writer, RMT's segment rows and write rows) — within 1e-4
 * absolute.  Every tensor of EXPECTED must be compared at least once.  Exit
 * 0 on a match, 1 on a mismatch or an error; prints the worst error per
 * quantity either way. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ms-engine.h"
#include "ms-model.h"
#include "ms-session.h"

#define TOLERANCE 1e-4

typedef struct {
  MsSafetensors *expected;
  GHashTable *covered;      /* expected tensor names compared */
  GHashTable *worst;        /* quantity → double* worst error */
  int failures;
  int m;                    /* RMT memory tokens */
  const MsEngine *engine;
} Check;

/* The fixtures' names: attention under its stored name (the engine's layout). */
static const char *
kind_name (const Check *ck, MsObsKind k)
{
  switch (k)
    {
    case MS_OBS_MEMORY_IN: return "mem_in";
    case MS_OBS_MEMORY_OUT: return "mem_out";
    case MS_OBS_NLL: return "nll";
    case MS_OBS_LOGITS: return "logits";
    case MS_OBS_GATE: return "gate";
    case MS_OBS_READ:
    case MS_OBS_WRITE: return ms_engine_find_attention (ck->engine, k)->name;
    }
  return "?";
}

static float *
expected_tensor (Check *ck, const char *name, size_t *n, int n_dims, const int64_t *shape)
{
  const MsTensorInfo *t = ms_safetensors_lookup (ck->expected, name);
  if (!t)
    {
      fprintf (stderr, "parity: the core offered %s, which the reference does not have\n", name);
      ck->failures++;
      return NULL;
    }
  gboolean same = t->n_dims == n_dims;
  for (int d = 0; same && d < n_dims; d++)
    same = t->shape[d] == shape[d];
  if (!same)
    {
      fprintf (stderr, "parity: %s has a different shape in the reference\n", name);
      ck->failures++;
      return NULL;
    }
  g_hash_table_add (ck->covered, g_strdup (name));
  float *data = g_new (float, t->n_elements);
  ms_tensor_info_to_f32 (t, data);
  *n = t->n_elements;
  return data;
}

/* Compares got[i] with want[i]: NaN must meet NaN. */
static void
compare (Check *ck, const char *quantity, const char *name, const float *got, const float *want, size_t n)
{
  double *worst = g_hash_table_lookup (ck->worst, quantity);
  if (!worst)
    {
      worst = g_new0 (double, 1);
      g_hash_table_insert (ck->worst, g_strdup (quantity), worst);
    }
  for (size_t i = 0; i < n; i++)
    {
      double err = isnan (want[i]) || isnan (got[i]) ? (isnan (want[i]) && isnan (got[i]) ? 0 : INFINITY)
                                                     : fabs ((double) got[i] - want[i]);
      if (err > *worst)
        *worst = err;
      if (err > TOLERANCE)
        {
          fprintf (stderr, "parity: %s[%zu]: core %.7g, reference %.7g\n", name, i, got[i], want[i]);
          ck->failures++;
          return;
        }
    }
}

static void
observe (const MsObservation *obs, gpointer user_data)
{
  Check *ck = user_data;
  int t = obs->segment, l = obs->layer;
  g_autofree char *name = NULL;
  int64_t shape[3] = { obs->shape[0], obs->shape[1], obs->shape[2] };
  size_t n_got = ms_observation_size (obs);
  g_autofree float *got = g_new (float, n_got);   /* RMT's slices are views: gathered densely */
  ms_observation_copy (obs, got);

  const char *kind = kind_name (ck, obs->kind);
  if (g_str_has_prefix (kind, "rmt_"))
    {
      /* slices of the reference's full (H, T, T) weights */
      gboolean read = obs->kind == MS_OBS_READ;
      int H = obs->shape[0], m = ck->m;
      int n = read ? obs->shape[1] : obs->shape[2] - 2 * m;
      int T = 2 * m + n;
      name = g_strdup_printf ("seg.%d.attn.%d", t, l);
      size_t n_full;
      g_autofree float *full = expected_tensor (ck, name, &n_full, 3, (int64_t[]) { H, T, T });
      if (!full)
        return;
      g_autofree float *want = g_new (float, n_got);
      size_t k = 0;
      for (int h = 0; h < H; h++)
        for (int i = 0; i < obs->shape[1]; i++)
          for (int j = 0; j < obs->shape[2]; j++)
            {
              int row = read ? m + i : m + n + i;
              want[k++] = full[((size_t) h * T + row) * T + j];
            }
      compare (ck, kind, name, got, want, n_got);
      return;
    }

  if (l >= 0)
    name = g_strdup_printf ("seg.%d.%s.%d", t, kind, l);
  else
    name = g_strdup_printf ("seg.%d.%s", t, kind);
  size_t n_want;
  g_autofree float *want = expected_tensor (ck, name, &n_want, obs->n_dims, shape);
  if (want)
    compare (ck, kind, name, got, want, n_got);
}

static int
run (const char *model_path, const char *expected_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsModel) model = ms_model_load (model_path, &error);
  if (!model)
    {
      fprintf (stderr, "parity: %s\n", error->message);
      return 1;
    }
  Check ck = { 0 };
  ck.expected = ms_safetensors_open (expected_path, &error);
  if (!ck.expected)
    {
      fprintf (stderr, "parity: %s\n", error->message);
      return 1;
    }
  ck.covered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ck.worst = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  ck.m = ms_model_get_config (model)->n_slots;
  ck.engine = ms_model_get_config (model)->engine;

  const MsTensorInfo *tok_t = ms_safetensors_lookup (ck.expected, "tokens");
  const MsTensorInfo *len_t = ms_safetensors_lookup (ck.expected, "segment_lengths");
  if (!tok_t || !len_t)
    {
      fprintf (stderr, "parity: %s lacks 'tokens' or 'segment_lengths'\n", expected_path);
      return 1;
    }
  g_autofree float *tok_f = g_new (float, tok_t->n_elements);
  g_autofree float *len_f = g_new (float, len_t->n_elements);
  ms_tensor_info_to_f32 (tok_t, tok_f);
  ms_tensor_info_to_f32 (len_t, len_f);
  g_autofree int32_t *tokens = g_new (int32_t, tok_t->n_elements);
  for (size_t i = 0; i < tok_t->n_elements; i++)
    tokens[i] = (int32_t) tok_f[i];

  /* Observed pass, segment by segment with the reference's lengths. */
  g_autoptr (MsSession) s = ms_session_new (model);
  ms_session_set_observer (s, MS_OBS_ALL, observe, &ck);
  g_autofree float *nll_observed = g_new (float, tok_t->n_elements);
  size_t pos = 0;
  for (size_t t = 0; t < len_t->n_elements; t++)
    {
      int n = (int) len_f[t];
      if (!ms_session_step (s, tokens + pos, n, nll_observed + pos, &error))
        {
          fprintf (stderr, "parity: %s\n", error->message);
          return 1;
        }
      pos += (size_t) n;
    }

  /* Unobserved pass through ms_session_run: must give identical NLL. */
  g_autoptr (MsSession) quiet = ms_session_new (model);
  g_autofree float *nll_quiet = g_new (float, tok_t->n_elements);
  if (!ms_session_run (quiet, tokens, tok_t->n_elements, (int) len_f[0], nll_quiet, NULL, NULL, NULL, &error))
    {
      fprintf (stderr, "parity: %s\n", error->message);
      return 1;
    }
  if (memcmp (nll_quiet, nll_observed, tok_t->n_elements * sizeof (float)) != 0)
    {
      fprintf (stderr, "parity: an unobserved run gives different NLL from an observed one\n");
      ck.failures++;
    }

  for (guint i = 0; i < ms_safetensors_get_n_tensors (ck.expected); i++)
    {
      const char *name = ms_safetensors_get_tensor (ck.expected, i)->name;
      if (g_str_equal (name, "tokens") || g_str_equal (name, "segment_lengths"))
        continue;
      if (!g_hash_table_contains (ck.covered, name))
        {
          fprintf (stderr, "parity: the reference has %s but the core never offered it\n", name);
          ck.failures++;
        }
    }

  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, ck.worst);
  printf ("%s: %u segments, %zu tokens\n", model_path, (guint) len_t->n_elements, (size_t) tok_t->n_elements);
  while (g_hash_table_iter_next (&it, &key, &value))
    printf ("  %-10s max |core − reference| = %.3g\n", (char *) key, *(double *) value);
  printf ("%s\n", ck.failures ? "MISMATCH" : "match within 1e-4");
  g_hash_table_unref (ck.covered);
  g_hash_table_unref (ck.worst);
  ms_safetensors_free (ck.expected);
  return ck.failures ? 1 : 0;
}

int
main (int argc, char **argv)
{
  if (argc < 3 || argc % 2 == 0)
    {
      fprintf (stderr, "usage: parity MODEL EXPECTED [MODEL EXPECTED ...]\n");
      return 2;
    }
  int status = 0;
  for (int i = 1; i + 1 < argc; i += 2)
    status |= run (argv[i], argv[i + 1]);
  return status;
}
