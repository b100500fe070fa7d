/* test-session.c — what a caller of MsSession relies on, on the committed
 * fixture models of both architectures: save/restore resumes bit-exactly,
 * a cancelled run keeps its finished segments and resumes, bad segments are
 * refused without touching the state, the observer sees only what it asked
 * for, reset equals a fresh session, and sessions sharing one model on two
 * threads do not disturb each other. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ms-error.h"
#include "ms-session.h"

static const char *fixture_dir;
static const char *const models[] = { "memformer", "rmt_causal", "rmt_blocks" };

#define N_TOKENS 203   /* 25 full segments of 8 and a short one */

static MsModel *
load (const char *name)
{
  g_autofree char *path = g_strdup_printf ("%s/%s.safetensors", fixture_dir, name);
  GError *error = NULL;
  MsModel *m = ms_model_load (path, &error);
  g_assert_no_error (error);
  return m;
}

static int32_t *
make_tokens (void)
{
  int32_t *t = g_new (int32_t, N_TOKENS);
  for (int i = 0; i < N_TOKENS; i++)
    t[i] = (i * 37 + i / 5) % 256;
  return t;
}

/* Memory is compared bit for bit, NLL too (NaN included): the same
 * arithmetic in the same order must give the same floats. */
static void
assert_same_floats (const float *a, const float *b, size_t n)
{
  g_assert_cmpmem (a, n * sizeof (float), b, n * sizeof (float));
}

/* A model and the result of one uninterrupted run over make_tokens(). */
typedef struct {
  MsModel *model;
  size_t mem;       /* n_slots × d_model */
  float *nll;       /* (N_TOKENS) */
  float *memory;    /* (mem) final memory */
} Baseline;

static Baseline
baseline_new (const char *name)
{
  Baseline b = { .model = load (name) };
  const MsConfig *c = ms_model_get_config (b.model);
  b.mem = (size_t) c->n_slots * c->d_model;
  b.nll = g_new (float, N_TOKENS);
  b.memory = g_new (float, b.mem);
  g_autoptr (MsSession) s = ms_session_new (b.model);
  g_autofree int32_t *tokens = make_tokens ();
  GError *error = NULL;
  g_assert_true (ms_session_run (s, tokens, N_TOKENS, 0, b.nll, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  memcpy (b.memory, ms_session_get_memory (s), b.mem * sizeof (float));
  return b;
}

static void
baseline_clear (Baseline *b)
{
  ms_model_unref (b->model);
  g_free (b->nll);
  g_free (b->memory);
}

/* The session ended exactly where the uninterrupted run did. */
static void
assert_matches_baseline (const Baseline *b, const MsSession *s, const float *nll)
{
  assert_same_floats (nll, b->nll, N_TOKENS);
  assert_same_floats (ms_session_get_memory (s), b->memory, b->mem);
}

static void
test_save_restore (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (models); k++)
    {
      Baseline b = baseline_new (models[k]);
      MsModel *m = b.model;

      /* 11 segments, save, then a new session restores and finishes */
      g_autofree int32_t *tokens = make_tokens ();
      g_autofree float *nll = g_new (float, N_TOKENS);
      g_autofree char *dir = g_dir_make_tmp ("memscope-state-XXXXXX", NULL);
      g_autofree char *path = g_build_filename (dir, "state.safetensors", NULL);
      GError *error = NULL;
      {
        g_autoptr (MsSession) s = ms_session_new (m);
        for (int t = 0; t < 11; t++)
          g_assert_true (ms_session_step (s, tokens + 8 * t, 8, nll + 8 * t, &error));
        g_assert_true (ms_session_save_state (s, path, &error));
        g_assert_no_error (error);
      }
      g_autoptr (MsSession) resumed = ms_session_new (m);
      g_assert_true (ms_session_load_state (resumed, path, &error));
      g_assert_no_error (error);
      g_assert_cmpint (ms_session_get_segment (resumed), ==, 11);
      g_assert_true (ms_session_run (resumed, tokens, N_TOKENS, 0, nll, NULL, NULL, NULL, &error));
      assert_matches_baseline (&b, resumed, nll);
      g_unlink (path);
      g_rmdir (dir);
      baseline_clear (&b);
    }
}

/* Replaying segment 10 from its input memory puts a fresh session exactly
 * where the uninterrupted run stood after it (how recordings resume). */
static void
test_replay_segment (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (models); k++)
    {
      Baseline b = baseline_new (models[k]);
      g_autofree int32_t *tokens = make_tokens ();
      g_autofree float *nll = g_new (float, N_TOKENS);
      g_autofree float *memory_in = g_new (float, b.mem);
      GError *error = NULL;
      {
        g_autoptr (MsSession) s = ms_session_new (b.model);
        for (int t = 0; t < 11; t++)
          {
            if (t == 10)
              memcpy (memory_in, ms_session_get_memory (s), b.mem * sizeof (float));
            g_assert_true (ms_session_step (s, tokens + 8 * t, 8, nll + 8 * t, &error));
          }
      }
      g_autoptr (MsSession) replayed = ms_session_new (b.model);
      /* a bad segment is refused and changes nothing */
      int32_t bad = 1 << 20;
      g_assert_false (ms_session_replay_segment (replayed, 10, memory_in, &bad, 1, &error));
      g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
      g_clear_error (&error);
      g_assert_cmpint (ms_session_get_segment (replayed), ==, 0);

      g_assert_true (ms_session_replay_segment (replayed, 10, memory_in, tokens + 80, 8, &error));
      g_assert_no_error (error);
      g_assert_cmpint (ms_session_get_segment (replayed), ==, 11);
      g_assert_true (ms_session_run (replayed, tokens, N_TOKENS, 0, nll, NULL, NULL, NULL, &error));
      assert_matches_baseline (&b, replayed, nll);
      baseline_clear (&b);
    }
}

static void
test_state_mismatch (void)
{
  g_autoptr (MsModel) mf = load ("memformer");
  g_autoptr (MsModel) rmt = load ("rmt_causal");
  g_autoptr (MsSession) a = ms_session_new (mf);
  g_autoptr (MsSession) b = ms_session_new (rmt);
  g_autofree int32_t *tokens = make_tokens ();
  g_autofree char *dir = g_dir_make_tmp ("memscope-state-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "state.safetensors", NULL);
  GError *error = NULL;
  g_assert_true (ms_session_step (a, tokens, 8, NULL, &error));
  g_assert_true (ms_session_save_state (a, path, &error));

  g_assert_true (ms_session_step (b, tokens, 8, NULL, &error));
  const MsConfig *c = ms_model_get_config (rmt);
  size_t mem = (size_t) c->n_slots * c->d_model;
  g_autofree float *before = g_memdup2 (ms_session_get_memory (b), mem * sizeof (float));
  g_assert_false (ms_session_load_state (b, path, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  g_assert_cmpint (ms_session_get_segment (b), ==, 1);
  assert_same_floats (ms_session_get_memory (b), before, mem);

  /* a truncated state file is a format error, not a crash */
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (path, contents, (gssize) len / 2, NULL));
  g_assert_false (ms_session_load_state (a, path, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT);
  g_clear_error (&error);
  g_unlink (path);
  g_rmdir (dir);
}

typedef struct {
  GCancellable *cancellable;
  int cancel_after;
  int calls;
} CancelAt;

static void
cancel_progress (int done, int total, gpointer data)
{
  CancelAt *ca = data;
  ca->calls++;
  g_assert_cmpint (total, ==, (N_TOKENS + 7) / 8);
  if (done == ca->cancel_after)
    g_cancellable_cancel (ca->cancellable);
}

static void
test_cancel_and_resume (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (models); k++)
    {
      Baseline b = baseline_new (models[k]);
      MsModel *m = b.model;

      g_autoptr (MsSession) s = ms_session_new (m);
      g_autofree int32_t *tokens = make_tokens ();
      g_autofree float *nll = g_new (float, N_TOKENS);
      CancelAt ca = { g_cancellable_new (), 5, 0 };
      GError *error = NULL;
      g_assert_false (ms_session_run (s, tokens, N_TOKENS, 0, nll, cancel_progress, &ca, ca.cancellable, &error));
      g_assert_error (error, MS_ERROR, MS_ERROR_CANCELLED);
      g_clear_error (&error);
      g_assert_cmpint (ca.calls, ==, 5);
      g_assert_cmpint (ms_session_get_segment (s), ==, 5);
      g_assert_true (ms_session_run (s, tokens, N_TOKENS, 0, nll, NULL, NULL, NULL, &error));
      assert_matches_baseline (&b, s, nll);
      g_object_unref (ca.cancellable);
      baseline_clear (&b);
    }
}

static void
test_bad_segments (void)
{
  g_autoptr (MsModel) m = load ("rmt_blocks");
  g_autoptr (MsSession) s = ms_session_new (m);
  const MsConfig *c = ms_model_get_config (m);
  size_t mem = (size_t) c->n_slots * c->d_model;
  g_autofree float *before = g_memdup2 (ms_session_get_memory (s), mem * sizeof (float));
  int32_t tokens[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  GError *error = NULL;
  g_assert_false (ms_session_step (s, tokens, 0, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_false (ms_session_step (s, tokens, 9, NULL, &error));  /* segment_len is 8 */
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_clear_error (&error);
  tokens[3] = 256;
  g_assert_false (ms_session_step (s, tokens, 8, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "256"));
  g_clear_error (&error);
  g_assert_cmpint (ms_session_get_segment (s), ==, 0);
  assert_same_floats (ms_session_get_memory (s), before, mem);
}

typedef struct {
  guint seen;
  float nll[8];
} Seen;

static void
record_kinds (const MsObservation *obs, gpointer data)
{
  Seen *seen = data;
  seen->seen |= obs->kind;
  if (obs->kind == MS_OBS_NLL)
    memcpy (seen->nll, obs->data, obs->shape[0] * sizeof (float));
}

static void
test_observer_mask (void)
{
  const guint wanted[] = { MS_OBS_WRITE | MS_OBS_NLL, MS_OBS_READ | MS_OBS_NLL };
  const char *names[] = { "memformer", "rmt_causal" };
  for (int k = 0; k < 2; k++)
    {
      g_autoptr (MsModel) m = load (names[k]);
      g_autoptr (MsSession) s = ms_session_new (m);
      g_autofree int32_t *tokens = make_tokens ();
      Seen seen = { 0 };
      float nll[8];
      ms_session_set_observer (s, wanted[k], record_kinds, &seen);
      g_assert_true (ms_session_step (s, tokens, 8, nll, NULL));
      g_assert_true (ms_session_step (s, tokens + 8, 8, nll, NULL));
      g_assert_cmpuint (seen.seen, ==, wanted[k]);
      assert_same_floats (seen.nll, nll, 8);
      ms_session_set_observer (s, 0, NULL, NULL);
      seen.seen = 0;
      g_assert_true (ms_session_step (s, tokens + 16, 8, nll, NULL));
      g_assert_cmpuint (seen.seen, ==, 0);
    }
}

static void
test_reset (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (models); k++)
    {
      Baseline b = baseline_new (models[k]);
      MsModel *m = b.model;
      g_autoptr (MsSession) s = ms_session_new (m);
      g_autofree int32_t *tokens = make_tokens ();
      g_autofree float *nll = g_new (float, N_TOKENS);
      g_assert_true (ms_session_run (s, tokens + 50, 100, 0, NULL, NULL, NULL, NULL, NULL));
      ms_session_reset (s);
      g_assert_true (ms_session_run (s, tokens, N_TOKENS, 0, nll, NULL, NULL, NULL, NULL));
      assert_matches_baseline (&b, s, nll);
      baseline_clear (&b);
    }
}

typedef struct {
  MsModel *model;
  float *nll;
} ThreadJob;

static gpointer
run_in_thread (gpointer data)
{
  ThreadJob *job = data;
  g_autoptr (MsSession) s = ms_session_new (job->model);
  g_autofree int32_t *tokens = make_tokens ();
  for (int rep = 0; rep < 5; rep++)
    {
      ms_session_reset (s);
      g_assert_true (ms_session_run (s, tokens, N_TOKENS, 0, job->nll, NULL, NULL, NULL, NULL));
    }
  return NULL;
}

static void
test_shared_model_threads (void)
{
  Baseline b = baseline_new ("memformer");
  ThreadJob jobs[2] = { { b.model, g_new (float, N_TOKENS) }, { b.model, g_new (float, N_TOKENS) } };
  GThread *threads[2];
  for (int i = 0; i < 2; i++)
    threads[i] = g_thread_new ("session", run_in_thread, &jobs[i]);
  for (int i = 0; i < 2; i++)
    {
      g_thread_join (threads[i]);
      assert_same_floats (jobs[i].nll, b.nll, N_TOKENS);
      g_free (jobs[i].nll);
    }
  baseline_clear (&b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixture_dir = g_getenv ("MEMSCOPE_FIXTURES");
  g_assert_nonnull (fixture_dir);
  g_test_add_func ("/session/save-restore", test_save_restore);
  g_test_add_func ("/session/replay-segment", test_replay_segment);
  g_test_add_func ("/session/state-mismatch", test_state_mismatch);
  g_test_add_func ("/session/cancel-and-resume", test_cancel_and_resume);
  g_test_add_func ("/session/bad-segments", test_bad_segments);
  g_test_add_func ("/session/observer-mask", test_observer_mask);
  g_test_add_func ("/session/reset", test_reset);
  g_test_add_func ("/session/shared-model-threads", test_shared_model_threads);
  return g_test_run ();
}
