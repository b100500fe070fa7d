/* ms-session-private.h — the session structure shared by ms-session.c and
 * the two engines (ms-memformer.c, ms-rmt.c).  Not installed. */
#pragma once

#include "ms-session.h"
#include "ms-kernels.h"
#include "ms-weights.h"

typedef struct _MsMemformerScratch MsMemformerScratch;
typedef struct _MsRmtScratch MsRmtScratch;

struct _MsSession {
  /* Owned */
  MsModel *model;            /* a reference */
  float *memory;             /* (K, d) M_t: what the next segment reads */
  float *carry;              /* what the next segment needs from this one:
                                Memformer (L, d) encoding H_{t−1};
                                RMT (V) logits of the last token */
  float *nll;                /* (L) per-token NLL when the caller passes none */
  gpointer scratch;          /* MsMemformerScratch or MsRmtScratch */
  /* State besides the buffers */
  int segment;               /* segments consumed */
  int carry_rows;            /* rows valid in carry; 0 before the first segment */
  int32_t carry_token;       /* Memformer: last token of segment t−1 */
  /* Observer (Borrowed) */
  guint observe;
  MsObserverFunc observer;
  gpointer observer_data;
};

/* Hands one observation to the observer; callers test ms_session_wants()
 * first so nothing is computed or copied for kinds nobody asked for. */
static inline gboolean
ms_session_wants (const MsSession *s, MsObsKind kind)
{
  return (s->observe & kind) != 0;
}

void ms_session_offer (MsSession *s, MsObsKind kind, int layer, const float *data,
                       int n_dims, int d0, int d1, int d2);
/* A 3-D view (d0, d1, d2): consecutive indices of dimension 0 (heads) lie
 * @stride0 floats apart, consecutive rows @stride1 (see MsObservation). */
void ms_session_offer_view (MsSession *s, MsObsKind kind, int layer, const float *data,
                            int d0, int d1, int d2, size_t stride0, size_t stride1);

/* Bytes a session of this configuration allocates (memory, carry and
 * scratch), computed in double so a hostile config cannot overflow it; the
 * loader refuses models whose sessions would not fit in memory. */
double ms_session_footprint (const MsConfig *c);

/* Engines: scratch sized from the config once per session, and one step.
 * The step may assume 1 ≤ n ≤ segment_len and valid token ids; it reads
 * and updates s->memory, s->carry*, and fills nll[n]. */
MsMemformerScratch *ms_memformer_scratch_new (const MsConfig *c);
void ms_memformer_scratch_free (MsMemformerScratch *sc);
void ms_memformer_step (MsSession *s, const int32_t *tokens, int n, float *nll);
/* (K, d) M_0 = b / ‖b‖ row-wise. */
void ms_memformer_initial_memory (const MsModel *model, float *memory);

MsRmtScratch *ms_rmt_scratch_new (const MsConfig *c);
void ms_rmt_scratch_free (MsRmtScratch *sc);
void ms_rmt_step (MsSession *s, const int32_t *tokens, int n, float *nll);
