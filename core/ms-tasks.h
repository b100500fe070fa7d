/* ms-tasks.h — the copy and recall tasks Memscope's trained models learn,
 * generated exactly as tests/reference/tasks.py generates them (the trainer
 * and `memscope-cli eval` therefore see the same instances for one seed).
 *
 * Every token is a printable ASCII byte (the bytes tokenizer), every part of
 * an instance is aligned to segments of L = the model's segment_len, and an
 * instance carries an answer mask: accuracy counts the answer tokens only.
 *
 * PRNG: splitmix64.  The state starts at the seed; next() adds
 * 0x9E3779B97F4A7C15 and returns the mix z ^= z>>30, z *= 0xBF58476D1CE4E5B9,
 * z ^= z>>27, z *= 0x94D049BB133111EB, z ^= z>>31; below(n) = next() % n.
 * Instances are drawn one after another from one stream.
 *
 * copy (L ≥ 2; chance 1/8)
 *   string      2 segments: 2L symbols "abcdefgh"[below(8)]
 *   distractor  2 segments: '|', 2L−2 digits "0123456789"[below(10)], '>'
 *   answer      2 segments: the string again — the answer tokens
 *
 * recall (L ≥ 3; chance 1/10): 4 pairs "K=v", keys distinct from
 * "ABCDEFGHIJKLMNOP", values digits; draws in this order:
 *   keys     for i < 4: j = i + below(16 − i), swap (partial Fisher–Yates)
 *   values   for i < 4: "0123456789"[below(10)]
 *   segments over [0..4]: for i < 4: j = i + below(5 − i), swap; pair i goes
 *            into context segment seg[i] (the last of the 6 context segments
 *            stays filler: Memformer decodes the first query segment from
 *            the encoding of that segment, which must not hold a pair)
 *   offsets  for i < 4: below(L − 2), the pair's first token in its segment
 *   order    over [0..3]: for i < 4: j = i + below(4 − i), swap
 *   then 6 context segments of '.' with the pairs written in, then the pairs
 *   queried in that order as "K?v", ⌊L/3⌋ per segment, each query segment
 *   padded with '.' to L; the values v are the answer tokens.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum { MS_TASK_COPY, MS_TASK_RECALL } MsTask;

typedef struct {
  uint64_t state;
} MsRng;

void ms_rng_init (MsRng *rng, uint64_t seed);
uint64_t ms_rng_next (MsRng *rng);
/* next() % n, n ≥ 1. */
uint32_t ms_rng_below (MsRng *rng, uint32_t n);

/* "copy" / "recall"; ms_task_from_name returns FALSE for other names. */
const char *ms_task_name (MsTask task);
gboolean ms_task_from_name (const char *name, MsTask *task);

/* Smallest segment_len the task's layout fits in. */
int ms_task_min_segment_len (MsTask task);
/* Tokens in one instance for segments of @segment_len (≥ the minimum). */
int ms_task_length (MsTask task, int segment_len);
/* Accuracy of a uniform guess among the answer symbols: 1/8 copy, 1/10 recall. */
double ms_task_chance (MsTask task);

/* Draws the next instance from @rng into @tokens[ms_task_length] (bytes)
 * and @answer[ms_task_length] (1 = answer token).  @segment_len must be at
 * least ms_task_min_segment_len (a programmer error otherwise). */
void ms_task_generate (MsTask task, int segment_len, MsRng *rng, uint8_t *tokens, uint8_t *answer);

/* Whether @text[n] (the bytes of an input) is a whole number (≥ 1) of
 * instances of one task laid out for segments of @segment_len, exactly as
 * ms_task_generate lays them out: copy's string of "abcdefgh", '|', digits,
 * '>' and the string again; recall's six context segments of '.' holding
 * four distinct "K=v" pairs in the first five, then each key queried once
 * as "K?v" with its value, ⌊L/3⌋ per segment, padded with '.'.  On TRUE,
 * *@task is the task and @answer[n] (may be NULL) marks the answer tokens
 * (1) that accuracy scores.  Any other text, or a @segment_len shorter than
 * the task's minimum, is FALSE. */
gboolean ms_task_detect (const uint8_t *text, size_t n, int segment_len, MsTask *task, uint8_t *answer);

G_END_DECLS
