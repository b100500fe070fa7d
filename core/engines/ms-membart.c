/* ms-membart.c — the MemBART engine: the first author's public Memformer
 * (qywu/memformers), a BART encoder–decoder whose encoder carries the
 * memory rows through every layer beside the tokens (core/README.md,
 * "MemBART", states the model and the stepping; tests/reference/
 * membart_ref.py is its float64 twin).
 *
 * One step over a segment of n tokens with the carried memory M_t:
 *   M~ = LN_mem(M_t + memory_bias); X = LN_emb(shared[x]·s + pos[2 + j]);
 *   per encoder layer, one attention over the K + n rows [M~; X] (memory
 *   rows: mem_{q,k,v,out}_proj, own slot and every token; token rows:
 *   {q,k,v,out}_proj, everything), then post-LN residuals and a feed-forward
 *   per stream; α = σ(dense2(GELU(dense(M~)))) per slot;
 *   M_{t+1} = α·M~ + (1 − α)·LN_mem(M_t + memory_bias).
 * The decoder (BART, post-LN) predicts segment t from [M_t; H_{t−1}], the
 * previous step's encoder output, teacher-forced from bos.
 *
 * Dimension letters: L = segment_len, n = L_t ≤ L tokens, K memory slots
 * (memory_len), R = K + L joint rows, d = d_model, H encoder heads, Hd
 * decoder heads, F encoder and Fd decoder feed-forward widths, V
 * vocabulary, P = max_position_embeddings.
 */
#include "ms-engines-private.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

/* BART's learned positions start at row 2 of the table (P + 2 rows). */
#define POSITION_OFFSET 2

/* memscope.config beyond the common settings; the keys are those of the
 * public model's config.json */
typedef struct {
  int encoder_layers;
  int decoder_layers;
  int decoder_heads;          /* decoder_attention_heads */
  int decoder_ffn;            /* decoder_ffn_dim */
  int max_positions;          /* max_position_embeddings */
  int bos_token_id;           /* the decoder's first input */
  gboolean scale_embedding;   /* embeddings × √d */
} MembartSettings;

static inline const MembartSettings *
settings (const MsConfig *c)
{
  G_STATIC_ASSERT (sizeof (MembartSettings) <= sizeof c->settings);
  return (const MembartSettings *) &c->settings;
}

typedef struct { MsAffine q, k, v, o; } AttnProj;

typedef struct {
  AttnProj tok;            /* self_attn.{q,k,v,out}_proj: the token rows */
  AttnProj mem;            /* self_attn.mem_{q,k,v,out}_proj: the memory rows */
  MsAffine ln_attn, fc1, fc2, ln_ffn;
  MsAffine mem_ln_attn, mem_fc1, mem_fc2, mem_ln_ffn;
} EncLayer;

typedef struct {
  AttnProj self_attn;      /* causal */
  AttnProj cross_attn;     /* encoder_attn: → [M_t; H_{t−1}] */
  MsAffine ln_self, ln_cross, fc1, fc2, ln_ffn;
} DecLayer;

/* Named pointers into the model's one weight allocation (ms-engine.h). */
typedef struct {
  const float *shared;       /* (V, d) token embeddings */
  const float *lm_head;      /* W[d, V] for ms_affine: sharedᵀ (tied) */
  const float *logits_bias;  /* (V) final_logits_bias */
  const float *enc_pos;      /* (P + 2, d) */
  const float *dec_pos;      /* (P + 2, d) */
  const float *memory_bias;  /* (K, d) */
  MsAffine enc_ln_emb, dec_ln_emb, memory_ln;
  MsAffine gate_dense, gate_out;   /* memory_gate_net.dense (d → d), dense2 (d → 1) */
  EncLayer *enc;             /* [encoder_layers], owned */
  DecLayer *dec;             /* [decoder_layers], owned */
} MembartWeights;

typedef struct {
  MsEngineScratch buffers;   /* owns every buffer below */
  float *x;        /* (R, d)  the joint stream: rows 0..K−1 memory, K.. tokens; the decoder's (L, d) */
  float *old;      /* (K, d)  LN_mem(M_t + b): the gate's old memory */
  float *q;        /* (R, d) */
  float *k;        /* (R, d) */
  float *v;        /* (R, d) */
  float *att;      /* (R, d)  concatenated heads */
  float *proj;     /* (R, d) */
  float *hidden;   /* (R, max(F, Fd)) */
  float *probs;    /* max(H·R·R, Hd·L·(K+L)) attention weights */
  float *src;      /* (K + L, d) the decoder's cross-attention source [M_t; H_{t−1}] */
  float *write;    /* (H, K, 1 + L) write attention of one layer */
  float *alpha;    /* (K) */
  float *logits;   /* (L, V) */
  int32_t *dec_in; /* (L) decoder input tokens */
  uint8_t *joint;  /* (R, R) the encoder mask, rebuilt for each segment length */
  uint8_t *causal; /* (L, L) */
} MembartScratch;

/* ---- weights ---------------------------------------------------------- */

static void
bind_layernorm (MsBinder *b, MsAffine *a, int d, const char *prefix, const char *name)
{
  ms_binder_add_affine (b, a, d, 0, d, prefix, name);
}

/* "@prefix.@{what}q_proj" … "@prefix.@{what}out_proj", d → d each. */
static void
bind_attn (MsBinder *b, AttnProj *p, int d, const char *prefix, const char *what)
{
  g_autofree char *q = g_strdup_printf ("%sq_proj", what), *k = g_strdup_printf ("%sk_proj", what);
  g_autofree char *v = g_strdup_printf ("%sv_proj", what), *o = g_strdup_printf ("%sout_proj", what);
  ms_binder_add_linear (b, &p->q, d, d, prefix, q);
  ms_binder_add_linear (b, &p->k, d, d, prefix, k);
  ms_binder_add_linear (b, &p->v, d, d, prefix, v);
  ms_binder_add_linear (b, &p->o, d, d, prefix, o);
}

static void
membart_bind (MsBinder *b, const MsConfig *c, gpointer weights)
{
  MembartWeights *w = weights;
  const MembartSettings *set = settings (c);
  int d = c->d_model, F = c->d_ff, Fd = set->decoder_ffn, V = c->vocab_size, K = c->n_slots;
  int P = set->max_positions + POSITION_OFFSET;
  ms_binder_add (b, &w->shared, 2, (int[]) { V, d }, "shared.weight");
  ms_binder_add_transposed (b, &w->lm_head, V, d, "shared.weight");
  ms_binder_add (b, &w->logits_bias, 2, (int[]) { 1, V }, "final_logits_bias");
  ms_binder_add (b, &w->enc_pos, 2, (int[]) { P, d }, "encoder.embed_positions.weight");
  ms_binder_add (b, &w->dec_pos, 2, (int[]) { P, d }, "decoder.embed_positions.weight");
  bind_layernorm (b, &w->enc_ln_emb, d, "encoder", "layernorm_embedding");
  bind_layernorm (b, &w->dec_ln_emb, d, "decoder", "layernorm_embedding");
  bind_layernorm (b, &w->memory_ln, d, "encoder", "memory_layer_norm");
  ms_binder_add (b, &w->memory_bias, 3, (int[]) { 1, K, d }, "encoder.memory_bias");
  ms_binder_add_linear (b, &w->gate_dense, d, d, "encoder.memory_gate_net", "dense");
  ms_binder_add_linear (b, &w->gate_out, 1, d, "encoder.memory_gate_net", "dense2");

  w->enc = g_new0 (EncLayer, set->encoder_layers);
  w->dec = g_new0 (DecLayer, set->decoder_layers);
  for (int l = 0; l < set->encoder_layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("encoder.layers.%d", l);
      g_autofree char *sa = g_strdup_printf ("%s.self_attn", p);
      EncLayer *E = &w->enc[l];
      bind_attn (b, &E->tok, d, sa, "");
      bind_attn (b, &E->mem, d, sa, "mem_");
      bind_layernorm (b, &E->ln_attn, d, p, "self_attn_layer_norm");
      ms_binder_add_linear (b, &E->fc1, F, d, p, "fc1");
      ms_binder_add_linear (b, &E->fc2, d, F, p, "fc2");
      bind_layernorm (b, &E->ln_ffn, d, p, "final_layer_norm");
      bind_layernorm (b, &E->mem_ln_attn, d, p, "mem_self_attn_layer_norm");
      ms_binder_add_linear (b, &E->mem_fc1, F, d, p, "mem_fc1");
      ms_binder_add_linear (b, &E->mem_fc2, d, F, p, "mem_fc2");
      bind_layernorm (b, &E->mem_ln_ffn, d, p, "mem_final_layer_norm");
    }
  for (int l = 0; l < set->decoder_layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("decoder.layers.%d", l);
      g_autofree char *sa = g_strdup_printf ("%s.self_attn", p);
      g_autofree char *ca = g_strdup_printf ("%s.encoder_attn", p);
      DecLayer *D = &w->dec[l];
      bind_attn (b, &D->self_attn, d, sa, "");
      bind_layernorm (b, &D->ln_self, d, p, "self_attn_layer_norm");
      bind_attn (b, &D->cross_attn, d, ca, "");
      bind_layernorm (b, &D->ln_cross, d, p, "encoder_attn_layer_norm");
      ms_binder_add_linear (b, &D->fc1, Fd, d, p, "fc1");
      ms_binder_add_linear (b, &D->fc2, d, Fd, p, "fc2");
      bind_layernorm (b, &D->ln_ffn, d, p, "final_layer_norm");
    }
}

static void
membart_count_weights (const MsConfig *c, MsCount *n_tensors, MsCount *n_params)
{
  const MembartSettings *set = settings (c);
  guint64 d = c->d_model, F = c->d_ff, Fd = set->decoder_ffn, V = c->vocab_size, K = c->n_slots;
  guint64 P = (guint64) set->max_positions + POSITION_OFFSET;
  guint64 E = set->encoder_layers, D = set->decoder_layers;
  /* encoder layer: 8 attention linears, 4 layernorms, 4 feed-forward linears */
  ms_count_add (n_tensors, E, 32, 1);
  ms_count_add (n_params, E, 8 * d + 8 + 8 + 2, d);     /* attention weights and biases, layernorms, fc2 biases */
  ms_count_add (n_params, E, 4 * d + 2, F);             /* fc1, fc2 (×2 streams) weights, fc1 biases */
  /* decoder layer: 8 attention linears, 3 layernorms, 2 feed-forward linears */
  ms_count_add (n_tensors, D, 26, 1);
  ms_count_add (n_params, D, 8 * d + 8 + 6 + 1, d);
  ms_count_add (n_params, D, 2 * d + 1, Fd);
  /* shared, logits bias, 2 position tables, 3 layernorms, memory bias, gate (2 linears) */
  ms_count_add (n_tensors, 15, 1, 1);
  ms_count_add (n_params, V, d + 1, 1);
  ms_count_add (n_params, 2 * P + 6 + K + d + 1 + 1, d, 1);
  ms_count_add (n_params, 1, 1, 1);
}

static void
membart_weights_clear (gpointer weights)
{
  MembartWeights *w = weights;
  g_free (w->enc);
  g_free (w->dec);
}

/* ---- sizes and scratch ------------------------------------------------ */

enum { X, OLD, Q, K_, V_, ATT, PROJ, HIDDEN, PROBS, SRC, WRITE, ALPHA, LOGITS, DEC_IN, JOINT, CAUSAL, N_SCRATCH };

static void
membart_sizes (const MsConfig *c, MsEngineSizes *sz)
{
  const MembartSettings *set = settings (c);
  double L = c->segment_len, d = c->d_model, K = c->n_slots, H = c->n_heads, V = c->vocab_size;
  double Hd = set->decoder_heads, R = K + L;
  sz->carry_rows = L;                 /* H_{t−1}, the previous segment's encoding (L, d) */
  sz->carry_cols = d;
  sz->n_scratch = N_SCRATCH;
  sz->scratch[X] = R * d;
  sz->scratch[OLD] = K * d;
  sz->scratch[Q] = R * d;
  sz->scratch[K_] = R * d;
  sz->scratch[V_] = R * d;
  sz->scratch[ATT] = R * d;
  sz->scratch[PROJ] = R * d;
  sz->scratch[HIDDEN] = R * MAX (c->d_ff, set->decoder_ffn);
  sz->scratch[PROBS] = MAX (H * R * R, Hd * L * R);
  sz->scratch[SRC] = R * d;
  sz->scratch[WRITE] = H * K * (1 + L);
  sz->scratch[ALPHA] = K;
  sz->scratch[LOGITS] = L * V;
  sz->scratch[DEC_IN] = L;                 /* int32 */
  sz->scratch[JOINT] = ceil (R * R / 4);   /* bytes */
  sz->scratch[CAUSAL] = ceil (L * L / 4);  /* bytes */
}

static gpointer
membart_scratch_new (const MsConfig *c)
{
  MsEngineSizes sz = { 0 };
  membart_sizes (c, &sz);
  MembartScratch *sc = g_new0 (MembartScratch, 1);
  ms_engine_scratch_init (&sc->buffers, &sz);
  float **b = sc->buffers.buffer;
  sc->x = b[X];
  sc->old = b[OLD];
  sc->q = b[Q];
  sc->k = b[K_];
  sc->v = b[V_];
  sc->att = b[ATT];
  sc->proj = b[PROJ];
  sc->hidden = b[HIDDEN];
  sc->probs = b[PROBS];
  sc->src = b[SRC];
  sc->write = b[WRITE];
  sc->alpha = b[ALPHA];
  sc->logits = b[LOGITS];
  sc->dec_in = (int32_t *) b[DEC_IN];
  sc->joint = (uint8_t *) b[JOINT];
  sc->causal = (uint8_t *) b[CAUSAL];
  return sc;
}

static void
membart_scratch_free (gpointer scratch)
{
  MembartScratch *sc = scratch;
  if (!sc)
    return;
  ms_engine_scratch_clear (&sc->buffers);
  g_free (sc);
}

/* (K, d) M_0 = 0: the public code starts from zeros; LN_mem(0 + b) is the
 * first memory the layers see. */
static void
membart_initial_memory (const MsModel *model, float *memory)
{
  const MsConfig *c = ms_model_get_config (model);
  memset (memory, 0, (size_t) c->n_slots * c->d_model * sizeof (float));
}

/* ---- blocks ----------------------------------------------------------- */

static void
add_into (float *x, const float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] += y[i];
}

/* x (n, d) = LN_emb(table[ids]·scale + pos[2 + j]). */
static void
embed (float *x, const MembartWeights *w, const float *pos, const MsAffine *ln, const int32_t *ids, int n,
       const MsConfig *c)
{
  int d = c->d_model;
  float scale = settings (c)->scale_embedding ? sqrtf ((float) d) : 1.0f;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      x[(size_t) i * d + j] = w->shared[(size_t) ids[i] * d + j] * scale
                              + pos[(size_t) (i + POSITION_OFFSET) * d + j];
  ms_layernorm (x, x, ln->weight, ln->bias, n, d);
}

/* x (rows, d) = LN(x + fc2(GELU(fc1 x))); @F the inner width. */
static void
ffn_block (MembartScratch *sc, int d, int F, const MsAffine *fc1, const MsAffine *fc2, const MsAffine *ln,
           float *x, int rows)
{
  ms_affine (sc->hidden, x, fc1->weight, fc1->bias, rows, d, F);
  ms_gelu_erf (sc->hidden, (size_t) rows * F);
  ms_affine (sc->proj, sc->hidden, fc2->weight, fc2->bias, rows, F, d);
  add_into (x, sc->proj, (size_t) rows * d);
  ms_layernorm (x, x, ln->weight, ln->bias, rows, d);
}

/* x (Tq, d) = LN(x + o(MHA(q(x), k(kv), v(kv)))) with @heads heads; the
 * weights land in sc->probs as (heads, Tq, Tk). */
static void
attention_block (MembartScratch *sc, int d, int heads, const AttnProj *p, const MsAffine *ln, float *x, int Tq,
                 const float *kv, int Tk, const uint8_t *mask)
{
  int dh = d / heads;
  ms_affine (sc->q, x, p->q.weight, p->q.bias, Tq, d, d);
  ms_affine (sc->k, kv, p->k.weight, p->k.bias, Tk, d, d);
  ms_affine (sc->v, kv, p->v.weight, p->v.bias, Tk, d, d);
  ms_attention (sc->att, d, sc->probs, sc->q, d, sc->k, d, sc->v, d, Tq, Tk, heads, dh, mask,
                1.0f / sqrtf ((float) dh));
  ms_affine (sc->proj, sc->att, p->o.weight, p->o.bias, Tq, d, d);
  add_into (x, sc->proj, (size_t) Tq * d);
  ms_layernorm (x, x, ln->weight, ln->bias, Tq, d);
}

/* Predicts segment t's tokens from the previous step's encoder output
 * [M_t; H_{t−1}]; teacher-forced input y = [bos, tokens[0 .. n−2]]; fills
 * nll[n]. */
static void
decode (MsEngineState *s, MembartScratch *sc, const MembartWeights *w, const MsConfig *c, const int32_t *tokens,
        int n, float *nll)
{
  const MembartSettings *set = settings (c);
  int d = c->d_model, V = c->vocab_size, K = c->n_slots, Hd = set->decoder_heads;
  int S = K + s->carry_rows;
  memcpy (sc->src, s->memory, (size_t) K * d * sizeof (float));
  memcpy (sc->src + (size_t) K * d, s->carry, (size_t) s->carry_rows * d * sizeof (float));

  int32_t *y = sc->dec_in;
  y[0] = set->bos_token_id;
  for (int i = 1; i < n; i++)
    y[i] = tokens[i - 1];
  embed (sc->x, w, w->dec_pos, &w->dec_ln_emb, y, n, c);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      sc->causal[i * n + j] = j <= i;

  for (int l = 0; l < set->decoder_layers; l++)
    {
      const DecLayer *D = &w->dec[l];
      attention_block (sc, d, Hd, &D->self_attn, &D->ln_self, sc->x, n, sc->x, n, sc->causal);
      attention_block (sc, d, Hd, &D->cross_attn, &D->ln_cross, sc->x, n, sc->src, S, NULL);
      ffn_block (sc, d, set->decoder_ffn, &D->fc1, &D->fc2, &D->ln_ffn, sc->x, n);
      ms_engine_state_check_finite (s, sc->x, (size_t) n * d, "decoder.layers", l);
    }
  ms_affine (sc->logits, sc->x, w->lm_head, w->logits_bias, n, d, V);
  ms_engine_state_check_finite (s, sc->logits, (size_t) n * V, "shared (the LM head)", -1);
  if (ms_engine_state_wants (s, MS_OBS_LOGITS))
    ms_engine_state_offer (s, MS_OBS_LOGITS, -1, sc->logits, 2, n, V, 0);
  ms_nll_rows (nll, sc->logits, n, V, tokens);
}

/* One encoder layer over the joint stream sc->x = [M~ (K rows); X (n rows)]. */
static void
encoder_layer (MsEngineState *s, MembartScratch *sc, const EncLayer *E, const MsConfig *c, int n, int l)
{
  int d = c->d_model, K = c->n_slots, H = c->n_heads, dh = d / H, R = K + n, F = c->d_ff;
  float *m = sc->x, *x = sc->x + (size_t) K * d;
  size_t tok = (size_t) K * d;   /* where the token rows start in a (R, d) buffer */

  ms_affine (sc->q, m, E->mem.q.weight, E->mem.q.bias, K, d, d);
  ms_affine (sc->q + tok, x, E->tok.q.weight, E->tok.q.bias, n, d, d);
  ms_affine (sc->k, m, E->mem.k.weight, E->mem.k.bias, K, d, d);
  ms_affine (sc->k + tok, x, E->tok.k.weight, E->tok.k.bias, n, d, d);
  ms_affine (sc->v, m, E->mem.v.weight, E->mem.v.bias, K, d, d);
  ms_affine (sc->v + tok, x, E->tok.v.weight, E->tok.v.bias, n, d, d);
  ms_attention (sc->att, d, sc->probs, sc->q, d, sc->k, d, sc->v, d, R, R, H, dh, sc->joint,
                1.0f / sqrtf ((float) dh));

  /* read: the token rows' weights on the memory columns, (H, n, K) R apart */
  if (ms_engine_state_wants (s, MS_OBS_READ))
    ms_engine_state_offer_view (s, MS_OBS_READ, l, sc->probs + (size_t) K * R, H, n, K, (size_t) R * R, R);
  /* write: each memory row's weight on its own slot, then on the tokens */
  if (ms_engine_state_wants (s, MS_OBS_WRITE))
    {
      int W = 1 + n;
      for (int h = 0; h < H; h++)
        for (int i = 0; i < K; i++)
          {
            const float *row = sc->probs + ((size_t) h * R + i) * R;
            float *out = sc->write + ((size_t) h * K + i) * W;
            out[0] = row[i];
            memcpy (out + 1, row + K, (size_t) n * sizeof (float));
          }
      ms_engine_state_offer (s, MS_OBS_WRITE, l, sc->write, 3, H, K, W);
    }

  ms_affine (sc->proj, sc->att, E->mem.o.weight, E->mem.o.bias, K, d, d);
  ms_affine (sc->proj + tok, sc->att + tok, E->tok.o.weight, E->tok.o.bias, n, d, d);
  add_into (sc->x, sc->proj, (size_t) R * d);
  ms_layernorm (m, m, E->mem_ln_attn.weight, E->mem_ln_attn.bias, K, d);
  ms_layernorm (x, x, E->ln_attn.weight, E->ln_attn.bias, n, d);
  ffn_block (sc, d, F, &E->mem_fc1, &E->mem_fc2, &E->mem_ln_ffn, m, K);
  ffn_block (sc, d, F, &E->fc1, &E->fc2, &E->ln_ffn, x, n);
  ms_engine_state_check_finite (s, sc->x, (size_t) R * d, "encoder.layers", l);
}

/* Encodes the segment with M_t (s->memory), leaves H_t in sc->x's token
 * rows and M_{t+1} in s->memory. */
static void
encode (MsEngineState *s, MembartScratch *sc, const MembartWeights *w, const MsConfig *c, const int32_t *tokens,
        int n)
{
  const MembartSettings *set = settings (c);
  int d = c->d_model, K = c->n_slots, R = K + n;
  size_t Kd = (size_t) K * d;

  /* M~ = LN_mem(M_t + b), kept as the gate's old memory */
  for (size_t i = 0; i < Kd; i++)
    sc->old[i] = s->memory[i] + w->memory_bias[i];
  ms_layernorm (sc->old, sc->old, w->memory_ln.weight, w->memory_ln.bias, K, d);
  memcpy (sc->x, sc->old, Kd * sizeof (float));
  embed (sc->x + Kd, w, w->enc_pos, &w->enc_ln_emb, tokens, n, c);

  /* memory row i: slot i and every token; token rows: everything */
  for (int i = 0; i < R; i++)
    for (int j = 0; j < R; j++)
      sc->joint[(size_t) i * R + j] = i >= K || j >= K || i == j;

  for (int l = 0; l < set->encoder_layers; l++)
    encoder_layer (s, sc, &w->enc[l], c, n, l);

  /* α = σ(dense2(GELU(dense M~))); M_{t+1} = α M~ + (1 − α) old */
  ms_affine (sc->hidden, sc->x, w->gate_dense.weight, w->gate_dense.bias, K, d, d);
  ms_gelu_erf (sc->hidden, Kd);
  ms_affine (sc->alpha, sc->hidden, w->gate_out.weight, w->gate_out.bias, K, d, 1);
  for (int i = 0; i < K; i++)
    {
      float a = 1.0f / (1.0f + expf (-sc->alpha[i]));
      sc->alpha[i] = a;
      for (int j = 0; j < d; j++)
        {
          size_t at = (size_t) i * d + j;
          s->memory[at] = a * sc->x[at] + (1.0f - a) * sc->old[at];
        }
    }
  if (ms_engine_state_wants (s, MS_OBS_GATE))
    ms_engine_state_offer (s, MS_OBS_GATE, -1, sc->alpha, 1, K, 0, 0);
  ms_engine_state_check_finite (s, s->memory, Kd, "encoder.memory_gate_net", -1);
}

static void
membart_step (const MsModel *model, MsEngineState *s, const int32_t *tokens, int n, float *nll)
{
  MembartScratch *sc = s->scratch;
  const MsConfig *c = ms_model_get_config (model);
  const MembartWeights *w = ms_model_get_weights (model);
  int d = c->d_model, K = c->n_slots;

  if (s->carry_rows > 0)
    decode (s, sc, w, c, tokens, n, nll);
  else
    for (int i = 0; i < n; i++)
      nll[i] = NAN;
  encode (s, sc, w, c, tokens, n);

  memcpy (s->carry, sc->x + (size_t) K * d, (size_t) n * d * sizeof (float));
  s->carry_rows = n;
  s->carry_token = tokens[n - 1];
}

/* ---- configuration ---------------------------------------------------- */

static gboolean
membart_parse_config (MsConfig *c, MsConfigReader *r, GError **error)
{
  MembartSettings *set = (MembartSettings *) &c->settings;
  static const char *const activations[] = { "gelu", NULL };
  int activation = 0;
  set->scale_embedding = FALSE;
  set->bos_token_id = 0;
  if (!ms_config_reader_int (r, "encoder_layers", 1, 1 << 24, TRUE, &set->encoder_layers, error)
      || !ms_config_reader_int (r, "decoder_layers", 1, 1 << 24, TRUE, &set->decoder_layers, error)
      || !ms_config_reader_int (r, "decoder_attention_heads", 1, 1 << 24, TRUE, &set->decoder_heads, error)
      || !ms_config_reader_int (r, "decoder_ffn_dim", 1, 1 << 24, TRUE, &set->decoder_ffn, error)
      || !ms_config_reader_int (r, "max_position_embeddings", 1, 1 << 24, TRUE, &set->max_positions, error)
      || !ms_config_reader_int (r, "bos_token_id", 0, c->vocab_size - 1, FALSE, &set->bos_token_id, error)
      || !ms_config_reader_bool (r, "scale_embedding", FALSE, &set->scale_embedding, error)
      || !ms_config_reader_choice (r, "activation_function", activations, FALSE, &activation, error))
    return FALSE;
  const char *label = ms_config_reader_get_label (r);
  if (c->d_model % set->decoder_heads != 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                   "%s: memscope.config d_model %d is not divisible by decoder_attention_heads %d", label,
                   c->d_model, set->decoder_heads);
      return FALSE;
    }
  if (c->segment_len > set->max_positions)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                   "%s: memscope.config segment_len %d exceeds max_position_embeddings %d (the position table)",
                   label, c->segment_len, set->max_positions);
      return FALSE;
    }
  return TRUE;
}

static guint
membart_describe_config (const MsConfig *c, MsConfigRow *rows)
{
  const MembartSettings *set = settings (c);
  guint n = 0;
  rows[n++] = (MsConfigRow) { .key = "encoder_layers", .type = MS_CONFIG_INT, .i = set->encoder_layers };
  rows[n++] = (MsConfigRow) { .key = "decoder_layers", .type = MS_CONFIG_INT, .i = set->decoder_layers };
  rows[n++] = (MsConfigRow) { .key = "decoder_attention_heads", .type = MS_CONFIG_INT, .i = set->decoder_heads };
  rows[n++] = (MsConfigRow) { .key = "decoder_ffn_dim", .type = MS_CONFIG_INT, .i = set->decoder_ffn };
  rows[n++] = (MsConfigRow) { .key = "max_position_embeddings", .type = MS_CONFIG_INT, .i = set->max_positions };
  rows[n++] = (MsConfigRow) { .key = "bos_token_id", .type = MS_CONFIG_INT, .i = set->bos_token_id };
  rows[n++] = (MsConfigRow) { .key = "scale_embedding", .type = MS_CONFIG_BOOL, .i = set->scale_embedding };
  rows[n++] = (MsConfigRow) { .key = "activation_function", .type = MS_CONFIG_STRING, .s = "gelu" };
  return n;
}

/* Multiply-adds of one full segment (n = L, R = K + L):
 *   encoder layer   4Rd² + 2R²d + 2RdF: q, k, v, o of both streams, the
 *                   joint (R × R) attention as computed, both feed-forwards
 *   gate            Kd² + Kd
 *   decoder layer   6Ld² + 2Rd² + 2L²d + 2LRd + 2LdFd: causal self-attention
 *                   4Ld² + 2L²d; cross-attention q, o 2Ld², k, v over the
 *                   R rows 2Rd², scores and mix 2LRd; feed-forward 2LdFd
 *   LM head         LdV */
static double
membart_segment_macs (const MsConfig *c)
{
  const MembartSettings *set = settings (c);
  double d = c->d_model, F = c->d_ff, Fd = set->decoder_ffn, V = c->vocab_size, L = c->segment_len;
  double K = c->n_slots, R = K + L;
  double enc = 4 * R * d * d + 2 * R * R * d + 2 * R * d * F;
  double gate = K * d * d + K * d;
  double dec = 6 * L * d * d + 2 * R * d * d + 2 * L * L * d + 2 * L * R * d + 2 * L * d * Fd;
  return set->encoder_layers * enc + gate + set->decoder_layers * dec + L * d * V;
}

/* ---- the engine ------------------------------------------------------- */

static int
encoder_layers (const MsConfig *c)
{
  return settings (c)->encoder_layers;
}

static const MsAttentionLayout membart_attention[] = {
  { .kind = MS_OBS_READ, .name = "membart_read", .display_name = "Read attention (token rows over the slots)",
    .role = MS_ATTENTION_READ, .n_layers = encoder_layers,
    .n_row_blocks = 1, .rows = { { "tokens", MS_BLOCK_TOKENS, FALSE } },
    .n_col_blocks = 1, .cols = { { "slots", MS_BLOCK_SLOTS, TRUE } } },
  { .kind = MS_OBS_WRITE, .name = "membart_write", .display_name = "Write attention (memory rows)",
    .role = MS_ATTENTION_WRITE, .n_layers = encoder_layers,
    .n_row_blocks = 1, .rows = { { "slots", MS_BLOCK_SLOTS, FALSE } },
    .n_col_blocks = 2, .cols = { { "self", MS_BLOCK_SELF, TRUE }, { "tokens", MS_BLOCK_TOKENS, FALSE } } },
};

const MsEngine ms_membart_engine = {
  .name = "membart",
  .display_name = "MemBART",
  .slots_key = "memory_len",
  .heads_key = "encoder_attention_heads",
  .ff_key = "encoder_ffn_dim",
  .parse_config = membart_parse_config,
  .describe_config = membart_describe_config,
  .weights_size = sizeof (MembartWeights),
  .bind = membart_bind,
  .count_weights = membart_count_weights,
  .weights_clear = membart_weights_clear,
  .sizes = membart_sizes,
  .scratch_new = membart_scratch_new,
  .scratch_free = membart_scratch_free,
  .initial_memory = membart_initial_memory,
  .step = membart_step,
  .logits_shift = 0,
  .segment_macs = membart_segment_macs,
  .attention = membart_attention,
  .n_attention = G_N_ELEMENTS (membart_attention),
  .slot_observations = MS_OBS_GATE,
};
