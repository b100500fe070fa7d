/* ms-causal.c — causal retention and the reset-memory baseline, computed
 * by replaying a run with its memory replaced, stored in the recording's
 * causal and reset_memory tables, and read back validated (ms-causal.h). */
#include "ms-causal.h"
#include "ms-db.h"
#include "ms-engine.h"
#include "ms-error.h"
#include "ms-recording-private.h"
#include "ms-tasks.h"
#include "tokenizers/ms-tokenizer.h"

#include <math.h>
#include <string.h>

static const char *const replacement_names[MS_CAUSAL_N_REPLACEMENTS] = { "initial", "zeros", "permute", "knockout",
                                                                                  "skip" };

const char *
ms_causal_replacement_name (MsCausalReplacement r)
{
  g_return_val_if_fail (r >= 0 && r < MS_CAUSAL_N_REPLACEMENTS, NULL);
  return replacement_names[r];
}

gboolean
ms_causal_replacement_from_name (const char *name, MsCausalReplacement *r)
{
  for (int i = 0; i < MS_CAUSAL_N_REPLACEMENTS; i++)
    if (g_strcmp0 (name, replacement_names[i]) == 0)
      {
        *r = (MsCausalReplacement) i;
        return TRUE;
      }
  return FALSE;
}

/* Sources whose originals are computed in one pass (and whose input
 * memories are held at once): bounds the memory of a computation at
 * (CHUNK + H) segments' memories, tokens and NLLs. */
#define CHUNK 32
/* Baseline segments per transaction */
#define RESET_BATCH 64

/* ---- computing -------------------------------------------------------- */

/* Where each token's argmax prediction goes: token positions of the run
 * counted from @base (token index of the first segment held). */
typedef struct {
  int shift;                   /* logits row j predicts token j + shift (the engine's logits_shift) */
  int segment_len;             /* the run's */
  gint64 base;                 /* token index of pred[0] */
  gint64 n;                    /* tokens held */
  int32_t *pred;               /* (n) argmax per token, −1 = none */
} Predictions;

static void
observe_logits (const MsObservation *obs, gpointer user_data)
{
  Predictions *p = user_data;
  int rows = obs->shape[0], vocab = obs->shape[1];
  gint64 first = (gint64) obs->segment * p->segment_len + p->shift - p->base;
  for (int j = 0; j < rows; j++)
    {
      gint64 at = first + j;
      if (at < 0 || at >= p->n)
        continue;
      const float *row = obs->data + (size_t) j * obs->stride[0];
      int best = 0;
      for (int v = 1; v < vocab; v++)
        if (row[v] > row[best])
          best = v;
      p->pred[at] = best;
    }
}

typedef struct {
  /* Borrowed */
  const char *path;
  MsRecording *rec;
  const MsRunInfo *run;
  sqlite3 *db;                 /* writable */
  MsModel *model;
  const uint8_t *answer;       /* (run tokens) task answer mask, or NULL */
  MsProgressFunc progress;
  gpointer progress_data;
  GCancellable *cancellable;
  /* Owned */
  MsSession *session;
  float *initial;              /* (K·d) M_0 */
  gint64 done, planned;        /* replayed segments, for progress */
  MsCausalResult result;
} Ctx;

static void
report (Ctx *x)
{
  if (x->progress)
    x->progress ((int) MIN (x->done, G_MAXINT), (int) MIN (MAX (x->planned, x->done), G_MAXINT), x->progress_data);
}

static gboolean
cancelled (Ctx *x, GError **error)
{
  if (!g_cancellable_is_cancelled (x->cancellable))
    return FALSE;
  g_set_error (error, MS_ERROR, MS_ERROR_CANCELLED, "%s: run %" G_GINT64_FORMAT ": cancelled; what was computed "
               "is stored", x->path, x->run->id);
  return TRUE;
}

/* Mean of the finite values of @nll[n] into *@mean (NaN when none) and
 * their count. */
static int
mean_nll (const float *nll, int n, double *mean)
{
  double sum = 0;
  int k = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (nll[i]))
      sum += nll[i], k++;
  *mean = k ? sum / k : NAN;
  return k;
}

/* ---- the reset-memory baseline ---------------------------------------- */

static gboolean
reset_memory_commit (Ctx *x, sqlite3_stmt *insert, int segment, const float *nll, int n, GError **error)
{
  double mean;
  int k = mean_nll (nll, n, &mean);
  sqlite3_bind_int64 (insert, 1, x->run->id * (G_GINT64_CONSTANT (1) << 32) + segment);
  sqlite3_bind_int64 (insert, 2, x->run->id);
  sqlite3_bind_int (insert, 3, segment);
  sqlite3_bind_blob (insert, 4, nll, n * (int) sizeof (float), SQLITE_TRANSIENT);
  sqlite3_bind_int (insert, 5, k);
  if (k)
    sqlite3_bind_double (insert, 6, mean * k);
  else
    sqlite3_bind_null (insert, 6);
  int rc = sqlite3_step (insert);
  sqlite3_reset (insert);
  return rc == SQLITE_DONE || ms_db_fail (x->db, x->path, "storing the reset-memory baseline", error);
}

/* The reset-memory baseline of every committed segment it lacks, from the
 * first missing one on (the hand-over into it replayed from M_0). */
static gboolean
compute_reset_memory (Ctx *x, GError **error)
{
  sqlite3_stmt *st = NULL;
  gint64 have = 0;
  if (sqlite3_prepare_v2 (x->db, "SELECT count (*) FROM reset_memory WHERE id BETWEEN ?1 * 4294967296 AND "
                          "?1 * 4294967296 + 4294967295", -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (x->db, x->path, "reading the reset-memory baseline", error);
  sqlite3_bind_int64 (st, 1, x->run->id);
  int rc = ms_db_step (st, x->path, "reading the reset-memory baseline", error);
  if (rc == SQLITE_ROW)
    have = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return FALSE;
  int n = x->run->segments_done;
  if (have >= n)
    return TRUE;
  /* what is stored is a prefix (computed in order), unless the file was
   * altered: then it is computed again from segment 0 */
  int from = (int) have;
  if (from > 0)
    {
      if (sqlite3_prepare_v2 (x->db, "SELECT max (segment) FROM reset_memory WHERE id BETWEEN ?1 * 4294967296 AND "
                              "?1 * 4294967296 + 4294967295", -1, &st, NULL) != SQLITE_OK)
        return ms_db_fail (x->db, x->path, "reading the reset-memory baseline", error);
      sqlite3_bind_int64 (st, 1, x->run->id);
      rc = ms_db_step (st, x->path, "reading the reset-memory baseline", error);
      if (rc != SQLITE_ROW || sqlite3_column_int64 (st, 0) != from - 1)
        from = 0;
      sqlite3_finalize (st);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return FALSE;
    }
  x->planned += n - from;
  sqlite3_stmt *insert = NULL;
  if (sqlite3_prepare_v2 (x->db, "INSERT OR REPLACE INTO reset_memory (id, run_id, segment, nll, n_predicted, "
                          "total_nll) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &insert, NULL) != SQLITE_OK)
    return ms_db_fail (x->db, x->path, "storing the reset-memory baseline", error);
  const MsConfig *c = ms_model_get_config (x->model);
  g_autofree float *nll = g_new (float, c->segment_len);
  gboolean ok = TRUE, open = FALSE;
  ms_session_reset (x->session);
  if (from > 0)
    {
      g_autofree int32_t *tokens = NULL;
      int len = 0;
      ok = ms_recording_segment_input (x->rec, x->run, x->model, from - 1, NULL, &tokens, &len, error)
           && ms_session_replay_segment (x->session, from - 1, x->initial, tokens, len, error);
    }
  for (int t = from; ok && t < n; t++)
    {
      if (!open)
        {
          if (cancelled (x, error) || !ms_db_exec (x->db, x->path, "BEGIN IMMEDIATE", error))
            {
              ok = FALSE;
              break;
            }
          open = TRUE;
        }
      g_autofree int32_t *tokens = NULL;
      int len = 0;
      ms_session_reset_memory (x->session);
      ok = ms_recording_segment_input (x->rec, x->run, x->model, t, NULL, &tokens, &len, error)
           && ms_session_step (x->session, tokens, len, nll, error)
           && reset_memory_commit (x, insert, t, nll, len, error);
      x->done++;
      x->result.reset_memory_segments += ok;
      x->result.segments_replayed++;
      if (ok && ((t + 1 - from) % RESET_BATCH == 0 || t + 1 == n))
        {
          ok = ms_db_exec (x->db, x->path, "COMMIT", error);
          open = FALSE;
          report (x);
        }
    }
  if (open)
    sqlite3_exec (x->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
  sqlite3_finalize (insert);
  return ok;
}

/* ---- causal retention --------------------------------------------------- */

/* One chunk: the original pass over segments [a, end) and what the
 * replays of its sources need. */
typedef struct {
  int a, end;
  int L;                       /* the run's segment_len */
  float *memory;               /* (end − a, K·d) stored input memory of each segment */
  int32_t *tokens;             /* ((end − a) · L) */
  int *n_tokens;               /* (end − a) */
  float *nll_orig;             /* ((end − a) · L) NaN-padded */
  int32_t *pred_orig;          /* ((end − a) · L) */
} Chunk;

static void
chunk_clear (Chunk *ch)
{
  g_free (ch->memory);
  g_free (ch->tokens);
  g_free (ch->n_tokens);
  g_free (ch->nll_orig);
  g_free (ch->pred_orig);
}

/* Reads the inputs of [a, end) and steps the original trajectory through
 * them, each segment from its stored input memory. */
static gboolean
chunk_original (Ctx *x, Chunk *ch, Predictions *p, GError **error)
{
  const MsConfig *c = ms_model_get_config (x->model);
  size_t Kd = (size_t) c->n_slots * c->d_model, span = (size_t) (ch->end - ch->a);
  int L = ch->L;
  ch->memory = g_new (float, span * Kd);
  ch->tokens = g_new0 (int32_t, span * L);
  ch->n_tokens = g_new0 (int, span);
  ch->nll_orig = g_new (float, span * L);
  ch->pred_orig = g_new (int32_t, span * L);
  for (size_t i = 0; i < span * L; i++)
    ch->nll_orig[i] = NAN, ch->pred_orig[i] = -1;
  for (int t = ch->a; t < ch->end; t++)
    {
      g_autofree int32_t *ids = NULL;
      int i = t - ch->a;
      if (!ms_recording_segment_input (x->rec, x->run, x->model, t, ch->memory + (size_t) i * Kd, &ids,
                                       &ch->n_tokens[i], error))
        return FALSE;
      if (ch->n_tokens[i] > L)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", segment %d holds %d tokens, "
                       "more than the run's segment_len %d (the recording is damaged or altered)", x->path,
                       x->run->id, t, ch->n_tokens[i], L);
          return FALSE;
        }
      memcpy (ch->tokens + (size_t) i * L, ids, (size_t) ch->n_tokens[i] * sizeof (int32_t));
    }
  ms_session_reset (x->session);
  if (ch->a > 0)
    {
      g_autofree float *before = g_new (float, Kd);
      g_autofree int32_t *ids = NULL;
      int len = 0;
      if (!ms_recording_segment_input (x->rec, x->run, x->model, ch->a - 1, before, &ids, &len, error)
          || !ms_session_replay_segment (x->session, ch->a - 1, before, ids, len, error))
        return FALSE;
      x->done++, x->result.segments_replayed++;
    }
  p->base = (gint64) ch->a * L;
  p->n = (gint64) span * L;
  p->pred = ch->pred_orig;
  ms_session_set_observer (x->session, x->answer ? MS_OBS_LOGITS : 0, observe_logits, p);
  gboolean ok = TRUE;
  for (int t = ch->a; ok && t < ch->end; t++)
    {
      int i = t - ch->a;
      ms_session_set_memory (x->session, ch->memory + (size_t) i * Kd);
      ok = ms_session_step (x->session, ch->tokens + (size_t) i * L, ch->n_tokens[i], ch->nll_orig + (size_t) i * L,
                            error);
      x->done++, x->result.segments_replayed++;
    }
  ms_session_set_observer (x->session, 0, NULL, NULL);
  return ok;
}

/* The memory that replaces M_{s+1} (in the session after replaying s);
 * @before is M_s. */
static void
replace_memory (Ctx *x, MsCausalReplacement r, int slot, const float *before, float *memory)
{
  const MsConfig *c = ms_model_get_config (x->model);
  int K = c->n_slots, d = c->d_model;
  size_t Kd = (size_t) K * d;
  const float *now = ms_session_get_memory (x->session);
  switch (r)
    {
    case MS_CAUSAL_INITIAL:
      memcpy (memory, x->initial, Kd * sizeof (float));
      break;
    case MS_CAUSAL_ZEROS:
      memset (memory, 0, Kd * sizeof (float));
      break;
    case MS_CAUSAL_PERMUTE:
      for (int i = 0; i < K; i++)
        memcpy (memory + (size_t) i * d, now + (size_t) ((i + 1) % K) * d, (size_t) d * sizeof (float));
      break;
    case MS_CAUSAL_SKIP:
      memcpy (memory, before, Kd * sizeof (float));
      break;
    case MS_CAUSAL_KNOCKOUT:
    default:
      memcpy (memory, now, Kd * sizeof (float));
      memcpy (memory + (size_t) slot * d, x->initial + (size_t) slot * d, (size_t) d * sizeof (float));
      break;
    }
}

/* Source @s of @ch with replacement @r (slot @slot for knockout): replays
 * s, replaces the memory, steps the targets and fills @dnll and @dacc
 * (horizon each). */
static gboolean
one_source (Ctx *x, Chunk *ch, Predictions *p, MsCausalReplacement r, int slot, int s, int horizon, float *dnll,
            float *dacc, GError **error)
{
  const MsConfig *c = ms_model_get_config (x->model);
  size_t Kd = (size_t) c->n_slots * c->d_model;
  int L = ch->L, i = s - ch->a;
  for (int k = 0; k < horizon; k++)
    dnll[k] = dacc[k] = NAN;
  if (!ms_session_replay_segment (x->session, s, ch->memory + (size_t) i * Kd, ch->tokens + (size_t) i * L,
                                  ch->n_tokens[i], error))
    return FALSE;
  x->done++, x->result.segments_replayed++;
  g_autofree float *memory = g_new (float, Kd);
  replace_memory (x, r, slot, ch->memory + (size_t) i * Kd, memory);
  ms_session_set_memory (x->session, memory);
  int last = MIN (s + horizon, ch->end - 1);
  /* predictions of the replaced run over [s + 1, last]: the original ones
   * where the replayed steps offer none (RMT's first token of s + 1,
   * predicted by segment s, which the replacement does not touch) */
  size_t from = (size_t) (i + 1) * L, to = (size_t) (last - ch->a + 1) * L;
  g_autofree int32_t *pred = g_new (int32_t, ch->end - ch->a > 0 ? (size_t) (ch->end - ch->a) * L : 1);
  memcpy (pred + from, ch->pred_orig + from, (to - from) * sizeof (int32_t));
  p->pred = pred;
  ms_session_set_observer (x->session, x->answer ? MS_OBS_LOGITS : 0, observe_logits, p);
  g_autofree float *nll = g_new (float, L);
  gboolean ok = TRUE;
  for (int t = s + 1; ok && t <= last; t++)
    {
      int j = t - ch->a;
      for (int q = 0; q < L; q++)
        nll[q] = NAN;
      ok = ms_session_step (x->session, ch->tokens + (size_t) j * L, ch->n_tokens[j], nll, error);
      x->done++, x->result.segments_replayed++;
      if (!ok)
        break;
      double orig, repl;
      const float *o = ch->nll_orig + (size_t) j * L;
      /* the same tokens have a prediction in both (the same code decides) */
      if (mean_nll (o, ch->n_tokens[j], &orig) > 0 && mean_nll (nll, ch->n_tokens[j], &repl) > 0)
        dnll[t - s - 1] = (float) (repl - orig);
      if (x->answer)
        {
          gint64 base = (gint64) t * L;
          int n_answer = 0, gained = 0;
          for (int q = 0; q < ch->n_tokens[j]; q++)
            if (x->answer[base + q])
              {
                const int32_t *truth = ch->tokens + (size_t) j * L + q;
                size_t at = (size_t) j * L + q;
                n_answer++;
                gained += (pred[at] == *truth) - (ch->pred_orig[at] == *truth);
              }
          if (n_answer)
            dacc[t - s - 1] = (float) gained / (float) n_answer;
        }
    }
  ms_session_set_observer (x->session, 0, NULL, NULL);
  p->pred = ch->pred_orig;
  return ok;
}

/* The sources of [first, last) already stored with @horizon, as a bitmap
 * over the window. */
static gboolean
stored_sources (Ctx *x, MsCausalReplacement r, int horizon, int first, int last, guint8 *stored, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (x->db, "SELECT source, count (*) FROM causal WHERE run_id = ?1 AND replacement = ?2 AND "
                          "horizon = ?3 AND source >= ?4 AND source < ?5 GROUP BY source", -1, &st, NULL) != SQLITE_OK)
    return ms_db_fail (x->db, x->path, "reading the stored causal retention", error);
  sqlite3_bind_int64 (st, 1, x->run->id);
  sqlite3_bind_text (st, 2, replacement_names[r], -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 3, horizon);
  sqlite3_bind_int (st, 4, first);
  sqlite3_bind_int (st, 5, last);
  int want = r == MS_CAUSAL_KNOCKOUT ? x->run->config.n_slots : 1;
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 s = sqlite3_column_int64 (st, 0);
      if (s >= first && s < last && sqlite3_column_int64 (st, 1) == want)
        stored[s - first] = 1;
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || ms_db_fail (x->db, x->path, "reading the stored causal retention", error);
}

static gboolean
compute_causal (Ctx *x, const MsCausalOptions *o, GError **error)
{
  const MsRunInfo *run = x->run;
  int n = run->segments_done, H = o->horizon, L = run->segment_len;
  int K = run->config.n_slots;
  int first = MAX (o->first, 0), last = o->last > 0 ? MIN (o->last, n - 1) : n - 1;
  /* a run still recording: only sources whose targets are all committed */
  if (run->status != MS_RUN_COMPLETE)
    last = MIN (last, n - H);
  if (first >= last)
    return TRUE;
  g_autofree guint8 *stored = g_new0 (guint8, last - first);
  if (!stored_sources (x, o->replacement, H, first, last, stored, error))
    return FALSE;
  int todo = 0;
  for (int s = first; s < last; s++)
    todo += !stored[s - first];
  x->result.sources_stored = last - first - todo;
  int budget = o->max_sources > 0 ? MIN (o->max_sources, todo) : todo;
  int units = o->replacement == MS_CAUSAL_KNOCKOUT ? K : 1;
  x->planned += (gint64) budget * units * (H + 1) + budget + (gint64) (budget + CHUNK - 1) / CHUNK * (H + 1);
  report (x);

  sqlite3_stmt *insert = NULL;
  if (sqlite3_prepare_v2 (x->db, "INSERT OR REPLACE INTO causal (run_id, replacement, slot, source, horizon, "
                          "delta_nll, delta_accuracy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &insert, NULL)
      != SQLITE_OK)
    return ms_db_fail (x->db, x->path, "storing causal retention", error);
  Predictions p = { .shift = run->config.engine->logits_shift, .segment_len = L };
  g_autofree float *dnll = g_new (float, (size_t) H * units);
  g_autofree float *dacc = g_new (float, (size_t) H * units);
  gboolean ok = TRUE;
  int s = first;
  while (ok && x->result.sources_computed < budget)
    {
      while (s < last && stored[s - first])
        s++;
      if (s >= last)
        break;
      /* the next chunk: up to CHUNK sources from s, and their targets */
      Chunk ch = { .a = s, .L = L };
      int b = s;
      int in_chunk = 0;
      while (b < last && b - s < CHUNK && x->result.sources_computed + in_chunk < budget)
        in_chunk += !stored[b - first], b++;
      ch.end = MIN (b + H, n);
      ok = !cancelled (x, error) && chunk_original (x, &ch, &p, error);
      for (int src = s; ok && src < b; src++)
        {
          if (stored[src - first])
            continue;
          if ((ok = !cancelled (x, error)))
            for (int u = 0; ok && u < units; u++)
              ok = one_source (x, &ch, &p, o->replacement, o->replacement == MS_CAUSAL_KNOCKOUT ? u : -1, src, H,
                               dnll + (size_t) u * H, dacc + (size_t) u * H, error);
          if (!ok)
            break;
          ok = ms_db_exec (x->db, x->path, "BEGIN IMMEDIATE", error);
          for (int u = 0; ok && u < units; u++)
            {
              sqlite3_bind_int64 (insert, 1, run->id);
              sqlite3_bind_text (insert, 2, replacement_names[o->replacement], -1, SQLITE_STATIC);
              sqlite3_bind_int (insert, 3, o->replacement == MS_CAUSAL_KNOCKOUT ? u : -1);
              sqlite3_bind_int (insert, 4, src);
              sqlite3_bind_int (insert, 5, H);
              sqlite3_bind_blob (insert, 6, dnll + (size_t) u * H, H * (int) sizeof (float), SQLITE_TRANSIENT);
              if (x->answer)
                sqlite3_bind_blob (insert, 7, dacc + (size_t) u * H, H * (int) sizeof (float), SQLITE_TRANSIENT);
              else
                sqlite3_bind_null (insert, 7);
              ok = sqlite3_step (insert) == SQLITE_DONE || ms_db_fail (x->db, x->path, "storing causal retention",
                                                                        error);
              sqlite3_reset (insert);
            }
          if (ok)
            ok = ms_db_exec (x->db, x->path, "COMMIT", error);
          else
            sqlite3_exec (x->db, "ROLLBACK", NULL, NULL, NULL);
          if (ok)
            {
              stored[src - first] = 1;
              x->result.sources_computed++;
              report (x);
            }
        }
      chunk_clear (&ch);
      s = b;
    }
  sqlite3_finalize (insert);
  int left = 0;
  for (int t = first; t < last; t++)
    left += !stored[t - first];
  x->result.sources_left = left;
  return ok;
}

/* The answer mask of the run's tokens when its input is made of task
 * instances (byte models only: tasks are laid out in bytes); NULL
 * otherwise or on error (then @error is set). */
typedef struct {
  GByteArray *text;
} Texts;

static gboolean
collect_text (const MsRecordedSegment *seg, gpointer user_data, GError **error)
{
  Texts *t = user_data;
  g_byte_array_append (t->text, (const guint8 *) seg->text, (guint) seg->text_len);
  return TRUE;
}

static uint8_t *
task_answers (Ctx *x, GError **error)
{
  const MsRunInfo *run = x->run;
  if (ms_tokenizer_get_kind (ms_model_get_tokenizer (x->model)) != MS_TOKENIZER_BYTES)
    return NULL;
  Texts t = { g_byte_array_new () };
  gboolean ok = ms_recording_foreach_segment (x->rec, run, 0, run->segments_done, 1, MS_SEGMENT_TEXT, collect_text,
                                              &t, error);
  uint8_t *answer = NULL;
  MsTask task;
  if (ok && ms_task_detect (t.text->data, t.text->len, run->segment_len, &task, NULL))
    {
      answer = g_malloc (t.text->len);
      ms_task_detect (t.text->data, t.text->len, run->segment_len, &task, answer);
    }
  g_byte_array_unref (t.text);
  return answer;
}

gboolean
ms_causal_compute (const char *path, gint64 run_id, const MsCausalOptions *options, MsProgressFunc progress,
                   gpointer progress_data, GCancellable *cancellable, MsCausalResult *result, GError **error)
{
  if (options->replacement < 0 || options->replacement >= MS_CAUSAL_N_REPLACEMENTS || options->horizon < 1
      || options->horizon > MS_CAUSAL_MAX_HORIZON || options->max_sources < 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: causal retention needs a replacement (initial, zeros, "
                   "permute, knockout, skip), a horizon of 1 to %d segments and max_sources ≥ 0", path,
                   MS_CAUSAL_MAX_HORIZON);
      return FALSE;
    }
  /* writable first: it upgrades an older schema before the reader opens */
  sqlite3 *db = ms_db_open (path, FALSE, FALSE, error);
  if (!db)
    return FALSE;
  g_autoptr (MsRecording) rec = ms_recording_open (path, error);
  g_autoptr (MsRunInfo) run = rec ? ms_recording_get_run (rec, run_id, error) : NULL;
  gboolean ok = run != NULL;
  Ctx x = { .path = path, .rec = rec, .run = run, .db = db, .progress = progress, .progress_data = progress_data,
            .cancellable = cancellable };
  g_autofree uint8_t *answer = NULL;
  if (ok && run->segments_done < 1)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " has no committed segment", path,
                   run_id);
      ok = FALSE;
    }
  if (ok)
    {
      ms_recording_set_model_path (rec, options->model_path);
      x.model = ms_recording_run_model (rec, run, error);
      ok = x.model != NULL;
    }
  if (ok && run->segment_len > ms_model_get_config (x.model)->segment_len)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ": segment_len %d is longer than "
                   "its model's (the recording is damaged or altered)", path, run_id, run->segment_len);
      ok = FALSE;
    }
  if (ok)
    {
      x.session = ms_session_new (x.model);
      const MsConfig *c = ms_model_get_config (x.model);
      x.initial = g_memdup2 (ms_session_get_memory (x.session), (size_t) c->n_slots * c->d_model * sizeof (float));
      answer = task_answers (&x, error);
      ok = answer || !error || !*error;
      x.answer = answer;
      x.result.task_input = answer != NULL;
    }
  ok = ok && compute_reset_memory (&x, error) && compute_causal (&x, options, error);
  if (result)
    *result = x.result;
  g_clear_pointer (&x.session, ms_session_free);
  g_clear_pointer (&x.model, ms_model_unref);
  g_free (x.initial);
  g_clear_pointer (&run, ms_run_info_free);
  g_clear_pointer (&rec, ms_recording_close);   /* before the writer leaves WAL */
  ms_db_close_shareable (db);
  return ok;
}

/* ---- reading ---------------------------------------------------------- */

static gboolean
bad_causal (MsRecording *rec, const MsRunInfo *run, const char *table, gint64 at, const char *what, GError **error)
{
  g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table %s, %s %" G_GINT64_FORMAT
               ": %s (the recording is damaged or altered)", ms_recording_get_path (rec), run->id, table,
               g_str_equal (table, "causal") ? "source" : "segment", at, what);
  return FALSE;
}

gint64
ms_causal_count (MsRecording *rec, const MsRunInfo *run, MsCausalReplacement replacement, GError **error)
{
  sqlite3_stmt *st = ms_recording_query_begin (rec, "SELECT count (*) FROM causal WHERE run_id = ?1 AND "
                                                    "replacement = ?2", error);
  if (!st)
    return -1;
  sqlite3_bind_int64 (st, 1, run->id);
  sqlite3_bind_text (st, 2, replacement_names[replacement], -1, SQLITE_STATIC);
  int rc = ms_db_step (st, ms_recording_get_path (rec), "reading causal retention", error);
  gint64 n = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : -1;
  ms_recording_query_end (rec, st);
  return n;
}

gboolean
ms_causal_foreach (MsRecording *rec, const MsRunInfo *run, MsCausalReplacement replacement, MsCausalFunc func,
                   gpointer user_data, GError **error)
{
  sqlite3_stmt *st = ms_recording_query_begin (rec, "SELECT source, slot, horizon, delta_nll, delta_accuracy FROM "
                                                    "causal WHERE run_id = ?1 AND replacement = ?2 "
                                                    "ORDER BY source, slot", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, run->id);
  sqlite3_bind_text (st, 2, replacement_names[replacement], -1, SQLITE_STATIC);
  const char *path = ms_recording_get_path (rec);
  int K = run->config.n_slots;
  g_autofree float *values = g_new (float, 2 * MS_CAUSAL_MAX_HORIZON);
  gboolean ok = TRUE;
  int rc;
  while (ok && (rc = ms_db_step (st, path, "reading causal retention", error)) == SQLITE_ROW)
    {
      gint64 source = sqlite3_column_int64 (st, 0), slot = sqlite3_column_int64 (st, 1);
      gint64 horizon = sqlite3_column_int64 (st, 2);
      gboolean knockout = replacement == MS_CAUSAL_KNOCKOUT;
      int acc_type = sqlite3_column_type (st, 4);
      if (sqlite3_column_type (st, 0) != SQLITE_INTEGER || source < 0 || source >= run->segments_done)
        ok = bad_causal (rec, run, "causal", source, "the source is not a committed segment of the run", error);
      else if (sqlite3_column_type (st, 1) != SQLITE_INTEGER || (knockout ? slot < 0 || slot >= K : slot != -1))
        ok = bad_causal (rec, run, "causal", source, knockout ? "the slot is outside the model's slots"
                                                              : "the slot is not −1", error);
      else if (sqlite3_column_type (st, 2) != SQLITE_INTEGER || horizon < 1 || horizon > MS_CAUSAL_MAX_HORIZON)
        ok = bad_causal (rec, run, "causal", source, "the horizon is outside 1 to " G_STRINGIFY (MS_CAUSAL_MAX_HORIZON),
                         error);
      else if (sqlite3_column_type (st, 3) != SQLITE_BLOB
               || sqlite3_column_bytes (st, 3) != horizon * (gint64) sizeof (float)
               || (acc_type != SQLITE_NULL && (acc_type != SQLITE_BLOB
                                               || sqlite3_column_bytes (st, 4) != horizon * (gint64) sizeof (float))))
        ok = bad_causal (rec, run, "causal", source, "delta_nll or delta_accuracy is not one f32 value per target "
                         "segment of the horizon", error);
      else
        {
          /* copied: a BLOB may sit unaligned */
          memcpy (values, sqlite3_column_blob (st, 3), (size_t) horizon * sizeof (float));
          if (acc_type == SQLITE_BLOB)
            memcpy (values + MS_CAUSAL_MAX_HORIZON, sqlite3_column_blob (st, 4), (size_t) horizon * sizeof (float));
          /* a difference of two finite NLLs is finite, of two accuracies in [−1, 1]; NaN: no prediction */
          for (gint64 k = 0; ok && k < horizon; k++)
            {
              float dn = values[k], da = acc_type == SQLITE_BLOB ? values[MS_CAUSAL_MAX_HORIZON + k] : 0;
              if (isinf (dn) || isinf (da) || da < -1 || da > 1)
                ok = bad_causal (rec, run, "causal", source, "delta_nll holds an infinite value or delta_accuracy "
                                 "one outside [−1, 1]", error);
            }
          MsCausalRow row = { (int) source, (int) slot, (int) horizon, values,
                              acc_type == SQLITE_BLOB ? values + MS_CAUSAL_MAX_HORIZON : NULL };
          if (ok)
            ok = func (&row, user_data, error);
        }
    }
  ms_recording_query_end (rec, st);
  return ok && rc == SQLITE_DONE;
}

gboolean
ms_causal_foreach_reset_memory (MsRecording *rec, const MsRunInfo *run, int first, int last, MsResetMemoryFunc func,
                                gpointer user_data, GError **error)
{
  first = MAX (first, 0);
  last = MIN (last, run->segments_done);
  if (first >= last)
    return TRUE;
  sqlite3_stmt *st = ms_recording_query_begin (rec, "SELECT segment, nll, id FROM reset_memory WHERE id BETWEEN "
                                                    MS_DB_SEGMENT_KEY ("?1", "?2") " AND "
                                                    MS_DB_SEGMENT_KEY ("?1", "?3 - 1") " ORDER BY id", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, run->id);
  sqlite3_bind_int (st, 2, first);
  sqlite3_bind_int (st, 3, last);
  const char *path = ms_recording_get_path (rec);
  g_autofree float *nll = g_new (float, MAX (run->segment_len, 1));
  gboolean ok = TRUE;
  int rc;
  while (ok && (rc = ms_db_step (st, path, "reading the reset-memory baseline", error)) == SQLITE_ROW)
    {
      gint64 segment = sqlite3_column_int64 (st, 0);
      gint64 bytes = sqlite3_column_bytes (st, 1);
      if (sqlite3_column_type (st, 0) != SQLITE_INTEGER || segment < first || segment >= last
          || sqlite3_column_int64 (st, 2) != run->id * (G_GINT64_CONSTANT (1) << 32) + segment)
        ok = bad_causal (rec, run, "reset_memory", segment, "the row is keyed for another segment", error);
      else if (sqlite3_column_type (st, 1) != SQLITE_BLOB || bytes < (gint64) sizeof (float)
               || bytes > (gint64) run->segment_len * (gint64) sizeof (float) || bytes % sizeof (float) != 0)
        ok = bad_causal (rec, run, "reset_memory", segment, "nll is not 1 to segment_len f32 values", error);
      else
        {
          int n = (int) (bytes / sizeof (float));
          memcpy (nll, sqlite3_column_blob (st, 1), (size_t) bytes);
          for (int i = 0; ok && i < n; i++)
            if (isinf (nll[i]) || nll[i] < 0)
              ok = bad_causal (rec, run, "reset_memory", segment, "nll holds a value that is not a finite NLL ≥ 0 "
                               "(or NaN: no prediction)", error);
          double mean;
          mean_nll (nll, n, &mean);
          if (ok)
            ok = func ((int) segment, nll, n, (float) mean, user_data, error);
        }
    }
  ms_recording_query_end (rec, st);
  return ok && rc == SQLITE_DONE;
}
