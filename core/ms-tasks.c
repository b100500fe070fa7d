/* ms-tasks.c — copy and recall instance generators (contract and layout in
 * ms-tasks.h); every draw happens in the same order as in
 * tests/reference/tasks.py, which the eval suite checks byte for byte. */
#include "ms-tasks.h"

#include <string.h>

static const char copy_alphabet[] = "abcdefgh";
static const char filler_digits[] = "0123456789";
static const char recall_keys[] = "ABCDEFGHIJKLMNOP";
static const char recall_values[] = "0123456789";

enum {
  COPY_STRING_SEGMENTS = 2,
  COPY_DISTRACTOR_SEGMENTS = 2,
  RECALL_PAIRS = 4,
  RECALL_CONTEXT_SEGMENTS = 6,
  N_COPY_ALPHABET = sizeof copy_alphabet - 1,
  N_FILLER_DIGITS = sizeof filler_digits - 1,
  N_RECALL_KEYS = sizeof recall_keys - 1,
  N_RECALL_VALUES = sizeof recall_values - 1,
};

void
ms_rng_init (MsRng *rng, uint64_t seed)
{
  rng->state = seed;
}

uint64_t
ms_rng_next (MsRng *rng)
{
  rng->state += UINT64_C (0x9E3779B97F4A7C15);
  uint64_t z = rng->state;
  z = (z ^ (z >> 30)) * UINT64_C (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

uint32_t
ms_rng_below (MsRng *rng, uint32_t n)
{
  g_assert (n > 0);
  return (uint32_t) (ms_rng_next (rng) % n);
}

const char *
ms_task_name (MsTask task)
{
  return task == MS_TASK_COPY ? "copy" : "recall";
}

gboolean
ms_task_from_name (const char *name, MsTask *task)
{
  if (g_strcmp0 (name, "copy") == 0)
    *task = MS_TASK_COPY;
  else if (g_strcmp0 (name, "recall") == 0)
    *task = MS_TASK_RECALL;
  else
    return FALSE;
  return TRUE;
}

int
ms_task_min_segment_len (MsTask task)
{
  return task == MS_TASK_COPY ? 2 : 3;
}

static int
recall_query_segments (int segment_len)
{
  int per = segment_len / 3;
  return (RECALL_PAIRS + per - 1) / per;
}

int
ms_task_length (MsTask task, int segment_len)
{
  if (task == MS_TASK_COPY)
    return (2 * COPY_STRING_SEGMENTS + COPY_DISTRACTOR_SEGMENTS) * segment_len;
  return (RECALL_CONTEXT_SEGMENTS + recall_query_segments (segment_len)) * segment_len;
}

double
ms_task_chance (MsTask task)
{
  return task == MS_TASK_COPY ? 1.0 / N_COPY_ALPHABET : 1.0 / N_RECALL_VALUES;
}

/* Partial Fisher–Yates: for i < count, swap items[i] with items[i + below(n − i)]. */
static void
shuffle_prefix (int *items, int n, int count, MsRng *rng)
{
  for (int i = 0; i < count; i++)
    {
      int j = i + (int) ms_rng_below (rng, (uint32_t) (n - i));
      int tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
}

static void
copy_generate (int L, MsRng *rng, uint8_t *tokens, uint8_t *answer)
{
  int n_str = COPY_STRING_SEGMENTS * L;
  int n_dis = COPY_DISTRACTOR_SEGMENTS * L;
  for (int i = 0; i < n_str; i++)
    tokens[i] = (uint8_t) copy_alphabet[ms_rng_below (rng, N_COPY_ALPHABET)];
  tokens[n_str] = '|';
  for (int i = 1; i < n_dis - 1; i++)
    tokens[n_str + i] = (uint8_t) filler_digits[ms_rng_below (rng, N_FILLER_DIGITS)];
  tokens[n_str + n_dis - 1] = '>';
  memcpy (tokens + n_str + n_dis, tokens, (size_t) n_str);
  memset (answer, 0, (size_t) (n_str + n_dis));
  memset (answer + n_str + n_dis, 1, (size_t) n_str);
}

static void
recall_generate (int L, MsRng *rng, uint8_t *tokens, uint8_t *answer)
{
  int keys[N_RECALL_KEYS], segs[RECALL_CONTEXT_SEGMENTS], order[RECALL_PAIRS];
  uint8_t values[RECALL_PAIRS];
  int offsets[RECALL_PAIRS];

  for (int i = 0; i < N_RECALL_KEYS; i++)
    keys[i] = recall_keys[i];
  shuffle_prefix (keys, N_RECALL_KEYS, RECALL_PAIRS, rng);
  for (int i = 0; i < RECALL_PAIRS; i++)
    values[i] = (uint8_t) recall_values[ms_rng_below (rng, N_RECALL_VALUES)];
  /* Pairs go into the first C−1 context segments; the last stays filler so
   * that Memformer's first query segment, decoded from the encoding of the
   * segment before it, gets no pair except through memory. */
  for (int i = 0; i < RECALL_CONTEXT_SEGMENTS - 1; i++)
    segs[i] = i;
  shuffle_prefix (segs, RECALL_CONTEXT_SEGMENTS - 1, RECALL_PAIRS, rng);
  for (int i = 0; i < RECALL_PAIRS; i++)
    offsets[i] = (int) ms_rng_below (rng, (uint32_t) (L - 2));
  for (int i = 0; i < RECALL_PAIRS; i++)
    order[i] = i;
  shuffle_prefix (order, RECALL_PAIRS, RECALL_PAIRS, rng);

  int n = ms_task_length (MS_TASK_RECALL, L);
  memset (tokens, '.', (size_t) n);
  memset (answer, 0, (size_t) n);
  for (int i = 0; i < RECALL_PAIRS; i++)
    {
      uint8_t *at = tokens + segs[i] * L + offsets[i];
      at[0] = (uint8_t) keys[i];
      at[1] = '=';
      at[2] = values[i];
    }
  int per = L / 3;
  for (int q = 0; q < RECALL_PAIRS; q++)
    {
      int at = (RECALL_CONTEXT_SEGMENTS + q / per) * L + 3 * (q % per);
      int i = order[q];
      tokens[at] = (uint8_t) keys[i];
      tokens[at + 1] = '?';
      tokens[at + 2] = values[i];
      answer[at + 2] = 1;
    }
}

void
ms_task_generate (MsTask task, int segment_len, MsRng *rng, uint8_t *tokens, uint8_t *answer)
{
  g_assert (segment_len >= ms_task_min_segment_len (task));
  if (task == MS_TASK_COPY)
    copy_generate (segment_len, rng, tokens, answer);
  else
    recall_generate (segment_len, rng, tokens, answer);
}

/* ---- recognising an input made of task instances ---------------------- */

static gboolean
in_set (uint8_t c, const char *set)
{
  return c != 0 && strchr (set, c) != NULL;
}

/* One copy instance of segments of @L at @t (ms_task_length bytes). */
static gboolean
copy_instance (const uint8_t *t, int L, uint8_t *answer)
{
  int n_str = COPY_STRING_SEGMENTS * L, n_dis = COPY_DISTRACTOR_SEGMENTS * L;
  for (int i = 0; i < n_str; i++)
    if (!in_set (t[i], copy_alphabet) || t[n_str + n_dis + i] != t[i])
      return FALSE;
  if (t[n_str] != '|' || t[n_str + n_dis - 1] != '>')
    return FALSE;
  for (int i = 1; i < n_dis - 1; i++)
    if (!in_set (t[n_str + i], filler_digits))
      return FALSE;
  if (answer)
    {
      memset (answer, 0, (size_t) (n_str + n_dis));
      memset (answer + n_str + n_dis, 1, (size_t) n_str);
    }
  return TRUE;
}

/* One recall instance of segments of @L at @t. */
static gboolean
recall_instance (const uint8_t *t, int L, uint8_t *answer)
{
  int n = ms_task_length (MS_TASK_RECALL, L), context = RECALL_CONTEXT_SEGMENTS * L;
  g_autofree uint8_t *expected = g_malloc ((size_t) n);
  memset (expected, '.', (size_t) n);
  /* the pairs: key → value, each within one of the first C − 1 context segments */
  int value_of[256];
  int n_pairs = 0;
  for (int i = 0; i < 256; i++)
    value_of[i] = -1;
  for (int seg = 0; seg < RECALL_CONTEXT_SEGMENTS - 1; seg++)
    for (int j = 0; j + 2 < L; j++)
      {
        const uint8_t *at = t + seg * L + j;
        if (in_set (at[0], recall_keys) && at[1] == '=' && in_set (at[2], recall_values))
          {
            if (value_of[at[0]] >= 0 || n_pairs == RECALL_PAIRS)
              return FALSE;
            value_of[at[0]] = at[2];
            memcpy (expected + seg * L + j, at, 3);
            n_pairs++;
            j += 2;
          }
      }
  if (n_pairs != RECALL_PAIRS)
    return FALSE;
  int per = L / 3;
  gboolean asked[256] = { FALSE };
  for (int q = 0; q < RECALL_PAIRS; q++)
    {
      int at = context + (q / per) * L + 3 * (q % per);
      uint8_t key = t[at];
      if (value_of[key] < 0 || asked[key] || t[at + 1] != '?' || t[at + 2] != value_of[key])
        return FALSE;
      asked[key] = TRUE;
      memcpy (expected + at, t + at, 3);
    }
  if (memcmp (expected, t, (size_t) n) != 0)
    return FALSE;
  if (answer)
    {
      memset (answer, 0, (size_t) n);
      for (int q = 0; q < RECALL_PAIRS; q++)
        answer[context + (q / per) * L + 3 * (q % per) + 2] = 1;
    }
  return TRUE;
}

gboolean
ms_task_detect (const uint8_t *text, size_t n, int segment_len, MsTask *task, uint8_t *answer)
{
  for (int k = 0; k < 2; k++)
    {
      MsTask which = k == 0 ? MS_TASK_COPY : MS_TASK_RECALL;
      if (segment_len < ms_task_min_segment_len (which))
        continue;
      size_t len = (size_t) ms_task_length (which, segment_len);
      if (n == 0 || n % len != 0)
        continue;
      gboolean ok = TRUE;
      for (size_t at = 0; ok && at < n; at += len)
        ok = which == MS_TASK_COPY ? copy_instance (text + at, segment_len, answer ? answer + at : NULL)
                                   : recall_instance (text + at, segment_len, answer ? answer + at : NULL);
      if (ok)
        {
          *task = which;
          return TRUE;
        }
    }
  return FALSE;
}
