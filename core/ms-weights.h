/* ms-weights.h — (private) the named pointers into a model's one f32 weight
 * allocation, per architecture, and the binder that fills them.
 *
 * Each engine lists the tensors it needs with ms_binder_add(); the model
 * loader then checks every one against the file (present, exact shape),
 * allocates a single buffer for all of them, converts each to f32 and sets
 * the pointers.  Layout conventions in the files: nn.Linear weight
 * [out, in] (Memformer), GPT-2 Conv1D weight [in, out] (RMT); in memory
 * both are W[in, out] laid out for ms_affine (ms_weight_lay_out: packed
 * column panels on AVX-512 CPUs), Linear weights transposed first.
 */
#pragma once

#include "ms-model.h"

typedef struct { const float *weight, *bias; } MsAffine;   /* Linear / Conv1D / LayerNorm */
typedef struct { MsAffine q, k, v, o; } MsAttnProj;

typedef struct {
  MsAffine ln1, ln2, ln3;
  MsAttnProj self_attn;
  MsAttnProj mem_attn;      /* reader: tokens → memory slots */
  MsAffine fc1, fc2;
} MsMemformerEncLayer;

typedef struct {
  MsAffine ln1, ln2, ln3;
  MsAttnProj self_attn;     /* causal */
  MsAttnProj cross_attn;    /* → previous segment's encoding */
  MsAffine fc1, fc2;
} MsMemformerDecLayer;

typedef struct {
  const float *tok_emb;     /* (V, d) */
  const float *enc_pos;     /* (L, d) */
  const float *dec_pos;     /* (L, d) */
  const float *lm_head;     /* W[d, V] for ms_affine: lm_head.weightᵀ, or tok_embᵀ when tied */
  const float *memory_bias; /* (K, d) b */
  MsMemformerEncLayer *enc; /* [n_enc_layers], owned by the model */
  MsMemformerDecLayer *dec; /* [n_dec_layers] */
  MsAffine enc_ln_f, dec_ln_f;
  MsAffine writer_q, writer_k, writer_v;
} MsMemformerWeights;

typedef struct {
  MsAffine ln_1, ln_2;
  MsAffine c_attn;          /* (d, 3d) */
  MsAffine attn_proj;       /* attn.c_proj (d, d) */
  MsAffine c_fc;            /* (d, d_ff) */
  MsAffine mlp_proj;        /* mlp.c_proj (d_ff, d) */
} MsRmtLayer;

typedef struct {
  const float *wte;         /* (V, d), also the LM head: */
  const float *lm_head;     /* W[d, V] = wteᵀ for ms_affine, a second copy */
  const float *wpe;         /* (n_positions, d) */
  const float *memory;      /* (m, d) M_0 */
  MsRmtLayer *h;            /* [n_layers], owned by the model */
  MsAffine ln_f;
} MsRmtWeights;

typedef struct _MsBinder MsBinder;

/* Declares that tensor @name (printf format) must exist with the given
 * @n_dims dims (ints after the format arguments are not possible in C, so
 * the shape comes first) and binds @slot to its f32 data after load. */
void ms_binder_add (MsBinder *b, const float **slot, int n_dims, const int *shape,
                    const char *name_fmt, ...) G_GNUC_PRINTF (5, 6);

/* Declares "@prefix.@name.weight" with shape (rows, cols) — or (rows) when
 * cols is 0 — and "@prefix.@name.bias" with shape (n_bias).  A 2-D weight
 * is a matrix W[in = rows, out = cols] for ms_affine and is stored laid out
 * for it (ms_weight_lay_out). */
void ms_binder_add_affine (MsBinder *b, MsAffine *a, int rows, int cols, int n_bias,
                           const char *prefix, const char *name);

/* Declares an nn.Linear: "@prefix.@name.weight" with shape (out, in) in the
 * file and "@prefix.@name.bias" (out).  The weight is transposed to W[in,
 * out] and stored laid out for ms_affine. */
void ms_binder_add_linear (MsBinder *b, MsAffine *a, int out, int in, const char *prefix, const char *name);

/* Declares tensor @name with shape (out, in) in the file, stored
 * transposed to W[in, out] and laid out for ms_affine, without a bias.
 * A tensor may also be bound otherwise (a tied embedding: rows to look up,
 * and the logits' weight); its parameters count once. */
void ms_binder_add_transposed (MsBinder *b, const float **slot, int out, int in, const char *name);

/* Engine hooks called by the loader. */
void ms_memformer_bind (MsBinder *b, const MsConfig *c, MsMemformerWeights *w);
void ms_rmt_bind (MsBinder *b, const MsConfig *c, MsRmtWeights *w);

/* The weights of a loaded model; NULL when the architecture differs. */
const MsMemformerWeights *ms_model_get_memformer (const MsModel *model);
const MsRmtWeights *ms_model_get_rmt (const MsModel *model);
