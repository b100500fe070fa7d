/* ms-analysis.h — the retention quantities of DESIGN §5, as plain functions
 * over float arrays.
 *
 * Inputs are the observations a session offers (ms-session.h): write and
 * read attention, read through the engine's attention layout (ms-engine.h),
 * so every engine gets the same analysis (Memformer's writer (H, K, 1+n) and
 * encoder memory attention (H, n, K), RMT's last-layer write rows
 * (H, m, 2m+n) and segment rows (H, n, m)), and memory states (K, d).  From one
 * segment's write attention, an MsWriteDistribution says where each new slot's
 * content comes from (old memory vs the segment's tokens, and which old slot);
 * the rest follows from it: slot retention and slot types, provenance over
 * source segments, plus representation retention (cosines) and read usage.
 *
 * Dimension letters: H heads, K memory slots (m for RMT), n = L_t tokens in
 * the segment, d model width, S states or sources.  Arrays are row-major
 * float; sums are accumulated in double.  Nothing here allocates except the
 * _new constructor and ms_memory_similarity_matrix (one (S) scratch per call).
 *
 * NaN: no function checks its values.  A NaN (or ±inf) in an input makes the
 * outputs that depend on it NaN and leaves the others alone; nothing crashes
 * or asserts on values.  Shape errors (a count out of range) are programmer
 * errors and are reported with g_return_if_fail.
 */
#pragma once

#include <stddef.h>

#include <glib.h>

#include "ms-engine.h"

G_BEGIN_DECLS

/* ---- Write distribution (DESIGN §5, per segment) ---------------------- */

/* Where each new memory slot's content comes from in one segment (mean over heads). */
typedef struct {
  int n_slots;          /* K (Memformer) or m (RMT) */
  int n_tokens;         /* L_t, as set by the last _from_* call (0 after _new) */
  int max_tokens;       /* capacity: n_tokens ≤ max_tokens */
  float *retention;     /* (K)    r_t[i]: mass on the old memory */
  float *token_share;   /* (K)    mass on the segment's tokens; retention + token share = 1 */
  float *transfer;      /* (K, K) T[i, j] = share of new slot i drawn from old slot j; rows sum to retention[i] */
  float *token_weights; /* (K, L_t) share of new slot i drawn from token j; rows sum to token_share[i];
                           packed with row stride n_tokens (capacity K * max_tokens) */
} MsWriteDistribution;

/* Returns an owned, zeroed distribution for @n_slots ≥ 1 slots and segments
 * of up to @max_tokens ≥ 0 tokens; all arrays live in one allocation.  Free
 * with ms_write_distribution_free.  Allocate once per run, refill per segment. */
MsWriteDistribution *ms_write_distribution_new (int n_slots, int max_tokens);
/* Frees @wd and its arrays; NULL is allowed. */
void ms_write_distribution_free (MsWriteDistribution *wd);
/* The same distribution in memory the caller owns: @wd's arrays laid out
 * in @block, ms_write_distribution_floats (@n_slots, @max_tokens) floats,
 * zeroed here.  Nothing to free. */
size_t ms_write_distribution_floats (int n_slots, int max_tokens);
void ms_write_distribution_init_in (MsWriteDistribution *wd, int n_slots, int max_tokens, float *block);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsWriteDistribution, ms_write_distribution_free)

/* Fills @wd from one segment's write attention @w (H, K, cols), laid out
 * by @layout (an engine's MS_ATTENTION_WRITE layout, ms-engine.h: rows
 * the K new slots, columns its blocks for a segment of @n tokens), mean
 * over heads:
 *   token_weights[i,j] = mean_h w[h,i,t+j] over the TOKENS block at t,
 *   T[i,j]             = mean_h Σ w[h,i,b+j] over the old-memory SLOTS
 *                        blocks at b, plus the old-memory SELF column
 *                        when j = i,
 *   retention[i] = Σ_j T[i,j],  token_share[i] = Σ_j token_weights[i,j].
 * Blocks that are neither tokens nor old memory count in neither share.
 * E.g. Memformer's writer [self | tokens]: retention = the self weight,
 * T diagonal; RMT's write rows [read block | tokens | write block]: both
 * memory blocks hold M_t, so T[i,j] = mean_h (P[h,i,j] + P[h,i,m+n+j]).
 * Needs K == wd->n_slots, 0 ≤ n ≤ wd->max_tokens, H ≥ 1.  Sets n_tokens = n. */
void ms_write_distribution_from_attention (MsWriteDistribution *wd, const MsAttentionLayout *layout,
                                           const float *w, int H, int K, int n);
/* The same from a view (an observation, ms-session.h): element (h, i, c)
 * of the write attention at @w[h·@head_stride + i·@row_stride + c], the
 * columns of a row contiguous.  Bit for bit what the dense call gives on
 * a dense copy. */
void ms_write_distribution_from_view (MsWriteDistribution *wd, const MsAttentionLayout *layout, const float *w,
                                      size_t head_stride, size_t row_stride, int H, int K, int n);

/* ---- Slot types (DESIGN §5.2) ----------------------------------------- */

typedef enum { MS_SLOT_RETAIN, MS_SLOT_MIXED, MS_SLOT_OVERWRITE } MsSlotType;

#define MS_SLOT_RETAIN_AT    0.9 /* default: r ≥ 0.9 is retain */
#define MS_SLOT_OVERWRITE_AT 0.1 /* default: r ≤ 0.1 is overwrite */

/* retain: r >= retain_at (default 0.9); overwrite: r <= overwrite_at (default 0.1); else mixed.
 * The thresholds are compared in single precision, like @retention itself, so
 * a retention of 0.9f is retain at 0.9 and 0.1f is overwrite at 0.1.  Retain
 * is tested first (it wins if the thresholds overlap).  A NaN retention meets
 * neither threshold and is MS_SLOT_MIXED; ms_slot_type_counts leaves it out. */
MsSlotType ms_slot_type (float retention, double retain_at, double overwrite_at);
/* counts[3] over the K slots of one segment, indexed by MsSlotType.  Slots
 * whose retention is NaN are counted in none of the three, so the counts sum
 * to K minus the NaN slots. */
void ms_slot_type_counts (const float *retention, int K, double retain_at, double overwrite_at, int counts[3]);

/* ---- Provenance (DESIGN §5.3) ----------------------------------------- */

/* Provenance (DESIGN §5.3). Source columns: 0 = the initial memory (source -1), column s+1 = segment s.
   prev (K, n_sources) is P_t; next (K, n_sources+1) receives P_{t+1} for segment t = n_sources-1:
   next[i, s] = sum_j T[i,j] prev[j, s] for every old column, next[i, n_sources] = token_share[i].
   ms_provenance_init fills P_0 (K, 1) with 1s. Rows of a valid P sum to 1.
   @wd must have n_slots == K; @prev and @next must not overlap (two buffers,
   swapped per step).  A zero T[i,j] is skipped, so a NaN in old slot j's row
   reaches only the slots that draw on j (for Memformer, only slot j). */
void ms_provenance_init (float *p0, int K);
void ms_provenance_step (const float *prev, int K, int n_sources, const MsWriteDistribution *wd, float *next);
/* Provenance with the sources aggregated into @n_bins bins (consecutive
   sources per bin, as a view draws them): prev and next are (K, n_bins),
   bin b holding the summed share of its sources.  next[i, b] = sum_j T[i,j]
   prev[j, b] for every bin, then next[i, @bin] += token_share[i], @bin being
   the bin of the segment this step writes (bins after it must be 0 in
   prev, as they are when every step writes a bin at or after the last
   one's; they stay 0, and cost nothing).  Summing is linear, so this is
   exactly ms_provenance_step followed by summing each bin's columns, in
   memory (K, n_bins) whatever the number of sources.  Same NaN and overlap
   rules as ms_provenance_step. */
void ms_provenance_step_binned (const float *prev, int K, int n_bins, int bin, const MsWriteDistribution *wd,
                                float *next);
/* Mean over slots of P (K, n_sources) into out (n_sources): the column of the provenance heatmap at one timestep.
   (One slot's column is simply row i of P: p + i * n_sources.) */
void ms_provenance_mean (const float *p, int K, int n_sources, float *out);

/* ---- Representation retention (DESIGN §5.4) --------------------------- */

/* Representation retention: cos(M_{t+1}[i], M_t[i]) per slot into out (K).
 * m_prev and m_next are (K, d).  A zero slot has no direction: its cosine is NaN. */
void ms_memory_slot_cosine (const float *m_prev, const float *m_next, int K, int d, float *out);
/* Cosine similarity of two whole memory states (flattened K*d vectors).
 * Clamped to [-1, 1]; NaN if either is zero or holds a NaN/inf. */
double ms_memory_state_cosine (const float *a, const float *b, size_t n);
/* S x S matrix of whole-state cosines, states (S, n) row-major, out (S, S), symmetric, diagonal 1.
 * Exactly symmetric; the diagonal is exactly 1 except for a state that is
 * zero or not finite, whose whole row and column are NaN.  O(S² n). */
void ms_memory_similarity_matrix (const float *states, int S, size_t n, float *out);
/* How far the memory moved in one segment: ‖m_next − m_prev‖ / ‖m_prev‖ over
 * the flattened n = K*d vectors (0 = unchanged, 1 = a change as large as the
 * state itself).  A zero m_prev gives +inf (NaN if m_next is zero too); a
 * NaN/inf in either gives NaN or inf. */
double ms_memory_relative_change (const float *m_prev, const float *m_next, size_t n);
/* Both at once, bit for bit: ms_memory_slot_cosine (@m_prev, @m_next, @K,
 * @d, @out), returning ms_memory_relative_change over the K·d values (one
 * pass over the two states, for the recorder's writer). */
double ms_memory_slot_cosine_and_change (const float *m_prev, const float *m_next, int K, int d, float *out);

/* ---- Read usage (DESIGN §5.5) ----------------------------------------- */

/* Read usage (DESIGN §5.5): per slot, the total read attention the segment's tokens give it,
   averaged over heads: one layer's read attention @r (H, rows, cols), laid out by @layout (an
   engine's MS_ATTENTION_READ layout, ms-engine.h, for a segment of @n tokens), -> @acc (K) +=
   the sums over rows of its old-memory SLOTS columns, mean over heads.  Start @acc from zeros;
   after the layers that read memory (ms_attention_layout_n_layers), divide by their number. */
void ms_read_usage_accumulate_attention (const MsAttentionLayout *layout, const float *r, int H, int n, int K,
                                         float *acc);
/* The same from a view: element (h, row, c) of @r at
 * @r[h·@head_stride + row·@row_stride + c]; bit for bit the dense call's
 * sums on a dense copy. */
void ms_read_usage_accumulate_view (const MsAttentionLayout *layout, const float *r, size_t head_stride,
                                    size_t row_stride, int H, int n, int K, float *acc);
/* The same over a plain (H, n, K) matrix of tokens over slots: out (K) = sums over tokens, mean over
   heads (ms_read_usage overwrites @out, ms_read_usage_accumulate adds into @acc). */
void ms_read_usage (const float *read_attn, int H, int n, int K, float *out);
void ms_read_usage_accumulate (const float *read_attn, int H, int n, int K, float *acc);

G_END_DECLS
