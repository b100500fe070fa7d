/* ms-memformer.c — the Memformer engine (DESIGN §3.1): an encoder that reads
 * the memory slots, a slot-attention writer with biased normalisation, and a
 * decoder that predicts the next segment from the current encoding.
 *
 * Dimension letters: L = segment_len, n = L_t ≤ L tokens in this segment,
 * d = d_model, H heads of dh = d/H, K memory slots, F = d_ff, V vocabulary.
 */
#include "ms-engines-private.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

/* memscope.config beyond the common settings */
typedef struct {
  int n_enc_layers;
  int n_dec_layers;
  double writer_temperature;  /* τ */
  gboolean tie_embeddings;
} MemformerSettings;

static inline const MemformerSettings *
settings (const MsConfig *c)
{
  G_STATIC_ASSERT (sizeof (MemformerSettings) <= sizeof c->settings);
  return (const MemformerSettings *) &c->settings;
}

typedef struct { MsAffine q, k, v, o; } AttnProj;

typedef struct {
  MsAffine ln1, ln2, ln3;
  AttnProj self_attn;
  AttnProj mem_attn;      /* read attention: tokens → memory slots (the paper's reader) */
  MsAffine fc1, fc2;
} EncLayer;

typedef struct {
  MsAffine ln1, ln2, ln3;
  AttnProj self_attn;     /* causal */
  AttnProj cross_attn;    /* → previous segment's encoding */
  MsAffine fc1, fc2;
} DecLayer;

/* Named pointers into the model's one weight allocation (ms-engine.h). */
typedef struct {
  const float *tok_emb;     /* (V, d) */
  const float *enc_pos;     /* (L, d) */
  const float *dec_pos;     /* (L, d) */
  const float *lm_head;     /* W[d, V] for ms_affine: lm_head.weightᵀ, or tok_embᵀ when tied */
  const float *memory_bias; /* (K, d) b */
  EncLayer *enc;            /* [n_enc_layers], owned */
  DecLayer *dec;            /* [n_dec_layers], owned */
  MsAffine enc_ln_f, dec_ln_f;
  MsAffine writer_q, writer_k, writer_v;
} MemformerWeights;

typedef struct {
  MsEngineScratch buffers;   /* owns every buffer below */
  float *x;        /* (L, d)  residual stream */
  float *xn;       /* (L, d)  layer-normed stream */
  float *q;        /* (max(L,K), d) */
  float *k;        /* (max(L,K), d) */
  float *v;        /* (max(L,K), d) */
  float *att;      /* (max(L,K), d) concatenated heads / writer output u */
  float *proj;     /* (L, d)  output projection */
  float *hidden;   /* (L, F) */
  float *probs;    /* (H, max(L,K), 1+max(L,K)) attention weights of one block */
  float *enc;      /* (L, d)  H_t, this segment's encoding */
  float *logits;   /* (L, V) */
  float *kself;    /* (K, d)  writer keys of the slots themselves */
  int32_t *dec_in; /* (L)     decoder input tokens */
  uint8_t *causal; /* (L, L)  rebuilt for each segment length */
} MemformerScratch;

/* ---- weights ---------------------------------------------------------- */

/* LayerNorm: weight and bias of length d. */
static void
bind_layernorm (MsBinder *b, MsAffine *a, int d, const char *prefix, const char *name)
{
  ms_binder_add_affine (b, a, d, 0, d, prefix, name);
}

static void
bind_attn (MsBinder *b, AttnProj *p, int d, const char *prefix)
{
  ms_binder_add_linear (b, &p->q, d, d, prefix, "q");
  ms_binder_add_linear (b, &p->k, d, d, prefix, "k");
  ms_binder_add_linear (b, &p->v, d, d, prefix, "v");
  ms_binder_add_linear (b, &p->o, d, d, prefix, "o");
}

static void
memformer_bind (MsBinder *b, const MsConfig *c, gpointer weights)
{
  MemformerWeights *w = weights;
  const MemformerSettings *set = settings (c);
  int d = c->d_model, F = c->d_ff;
  ms_binder_add (b, &w->tok_emb, 2, (int[]) { c->vocab_size, d }, "tok_emb.weight");
  ms_binder_add (b, &w->enc_pos, 2, (int[]) { c->segment_len, d }, "enc.pos_emb.weight");
  ms_binder_add (b, &w->dec_pos, 2, (int[]) { c->segment_len, d }, "dec.pos_emb.weight");
  w->enc = g_new0 (EncLayer, set->n_enc_layers);
  w->dec = g_new0 (DecLayer, set->n_dec_layers);
  for (int l = 0; l < set->n_enc_layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("enc.layers.%d", l);
      g_autofree char *sa = g_strdup_printf ("%s.self_attn", p);
      g_autofree char *ma = g_strdup_printf ("%s.mem_attn", p);
      EncLayer *L = &w->enc[l];
      bind_layernorm (b, &L->ln1, d, p, "ln1");
      bind_layernorm (b, &L->ln2, d, p, "ln2");
      bind_layernorm (b, &L->ln3, d, p, "ln3");
      bind_attn (b, &L->self_attn, d, sa);
      bind_attn (b, &L->mem_attn, d, ma);
      ms_binder_add_linear (b, &L->fc1, F, d, p, "ffn.fc1");
      ms_binder_add_linear (b, &L->fc2, d, F, p, "ffn.fc2");
    }
  for (int l = 0; l < set->n_dec_layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("dec.layers.%d", l);
      g_autofree char *sa = g_strdup_printf ("%s.self_attn", p);
      g_autofree char *ca = g_strdup_printf ("%s.cross_attn", p);
      DecLayer *L = &w->dec[l];
      bind_layernorm (b, &L->ln1, d, p, "ln1");
      bind_layernorm (b, &L->ln2, d, p, "ln2");
      bind_layernorm (b, &L->ln3, d, p, "ln3");
      bind_attn (b, &L->self_attn, d, sa);
      bind_attn (b, &L->cross_attn, d, ca);
      ms_binder_add_linear (b, &L->fc1, F, d, p, "ffn.fc1");
      ms_binder_add_linear (b, &L->fc2, d, F, p, "ffn.fc2");
    }
  bind_layernorm (b, &w->enc_ln_f, d, "enc", "ln_f");
  bind_layernorm (b, &w->dec_ln_f, d, "dec", "ln_f");
  ms_binder_add_linear (b, &w->writer_q, d, d, "writer", "q");
  ms_binder_add_linear (b, &w->writer_k, d, d, "writer", "k");
  ms_binder_add_linear (b, &w->writer_v, d, d, "writer", "v");
  ms_binder_add (b, &w->memory_bias, 2, (int[]) { c->n_slots, d }, "memory.bias");
  ms_binder_add_transposed (b, &w->lm_head, c->vocab_size, d, set->tie_embeddings ? "tok_emb.weight" : "lm_head.weight");
}

static void
memformer_count_weights (const MsConfig *c, MsCount *n_tensors, MsCount *n_params)
{
  const MemformerSettings *set = settings (c);
  guint64 d = c->d_model, F = c->d_ff, V = c->vocab_size, L = c->segment_len, K = c->n_slots;
  guint64 layers = (guint64) set->n_enc_layers + (guint64) set->n_dec_layers;
  /* per layer: 3 layernorms, 2 attentions of 4 linears, 2 FFN linears */
  ms_count_add (n_tensors, layers, 26, 1);
  ms_count_add (n_params, layers, 3 * 2 + 2 * 4, d);    /* layernorm and attention biases */
  ms_count_add (n_params, layers, 2 * 4 * d, d);        /* attention weights */
  ms_count_add (n_params, layers, 2 * F + 1, d);        /* fc1, fc2 weights, fc2 bias */
  ms_count_add (n_params, layers, F, 1);                /* fc1 bias */
  /* embeddings, final layernorms, writer, memory bias, untied LM head */
  ms_count_add (n_tensors, 3 + 4 + 6 + 1 + (set->tie_embeddings ? 0 : 1), 1, 1);
  ms_count_add (n_params, V, d, set->tie_embeddings ? 1 : 2);
  ms_count_add (n_params, 2 * L + 4 + K, d, 1);
  ms_count_add (n_params, 3, d + 1, d);
}

static void
memformer_weights_clear (gpointer weights)
{
  MemformerWeights *w = weights;
  g_free (w->enc);
  g_free (w->dec);
}

/* ---- sizes and scratch ------------------------------------------------ */

enum { X, XN, Q, K_, V_, ATT, PROJ, HIDDEN, PROBS, ENC, LOGITS, KSELF, DEC_IN, CAUSAL, N_SCRATCH };

static void
memformer_sizes (const MsConfig *c, MsEngineSizes *sz)
{
  double L = c->segment_len, d = c->d_model, K = c->n_slots, H = c->n_heads, F = c->d_ff, V = c->vocab_size;
  double R = MAX (L, K);
  sz->carry_rows = L;                 /* H_{t−1}, the previous segment's encoding (L, d) */
  sz->carry_cols = d;
  sz->n_scratch = N_SCRATCH;
  sz->scratch[X] = L * d;
  sz->scratch[XN] = L * d;
  sz->scratch[Q] = R * d;
  sz->scratch[K_] = R * d;
  sz->scratch[V_] = R * d;
  sz->scratch[ATT] = R * d;
  sz->scratch[PROJ] = L * d;
  sz->scratch[HIDDEN] = L * F;
  sz->scratch[PROBS] = H * R * (1 + R);
  sz->scratch[ENC] = L * d;
  sz->scratch[LOGITS] = L * V;
  sz->scratch[KSELF] = K * d;
  sz->scratch[DEC_IN] = L;            /* int32 */
  sz->scratch[CAUSAL] = ceil (L * L / 4);   /* bytes */
}

static gpointer
memformer_scratch_new (const MsConfig *c)
{
  MsEngineSizes sz = { 0 };
  memformer_sizes (c, &sz);
  MemformerScratch *sc = g_new0 (MemformerScratch, 1);
  ms_engine_scratch_init (&sc->buffers, &sz);
  float **b = sc->buffers.buffer;
  sc->x = b[X];
  sc->xn = b[XN];
  sc->q = b[Q];
  sc->k = b[K_];
  sc->v = b[V_];
  sc->att = b[ATT];
  sc->proj = b[PROJ];
  sc->hidden = b[HIDDEN];
  sc->probs = b[PROBS];
  sc->enc = b[ENC];
  sc->logits = b[LOGITS];
  sc->kself = b[KSELF];
  sc->dec_in = (int32_t *) b[DEC_IN];
  sc->causal = (uint8_t *) b[CAUSAL];
  return sc;
}

static void
memformer_scratch_free (gpointer scratch)
{
  MemformerScratch *sc = scratch;
  if (!sc)
    return;
  ms_engine_scratch_clear (&sc->buffers);
  g_free (sc);
}

/* (K, d) M_0 = b / ‖b‖ row-wise. */
static void
memformer_initial_memory (const MsModel *model, float *memory)
{
  const MsConfig *c = ms_model_get_config (model);
  const float *b = ((const MemformerWeights *) ms_model_get_weights (model))->memory_bias;
  for (int i = 0; i < c->n_slots; i++)
    {
      const float *bi = b + (size_t) i * c->d_model;
      double norm = 0;
      for (int j = 0; j < c->d_model; j++)
        norm += (double) bi[j] * bi[j];
      float inv = norm > 0 ? (float) (1.0 / sqrt (norm)) : 0.0f;
      for (int j = 0; j < c->d_model; j++)
        memory[(size_t) i * c->d_model + j] = bi[j] * inv;
    }
}

/* ---- blocks ----------------------------------------------------------- */

static void
add_into (float *x, const float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] += y[i];
}

/* x (Tq, d) += o(MHA(q(xq), k(xkv), v(xkv))); the weights land in sc->probs
 * as (H, Tq, Tk). */
static void
attention_block (MemformerScratch *sc, const MsConfig *c, const AttnProj *p, float *x,
                 const float *xq, int Tq, const float *xkv, int Tk, const uint8_t *mask)
{
  int d = c->d_model, dh = d / c->n_heads;
  ms_affine (sc->q, xq, p->q.weight, p->q.bias, Tq, d, d);
  ms_affine (sc->k, xkv, p->k.weight, p->k.bias, Tk, d, d);
  ms_affine (sc->v, xkv, p->v.weight, p->v.bias, Tk, d, d);
  ms_attention (sc->att, d, sc->probs, sc->q, d, sc->k, d, sc->v, d, Tq, Tk, c->n_heads, dh,
                mask, 1.0f / sqrtf ((float) dh));
  ms_affine (sc->proj, sc->att, p->o.weight, p->o.bias, Tq, d, d);
  add_into (x, sc->proj, (size_t) Tq * d);
}

/* x (n, d) += fc2(GELU(fc1(LN3 x))). */
static void
ffn_block (MemformerScratch *sc, const MsConfig *c, const MsAffine *ln, const MsAffine *fc1,
           const MsAffine *fc2, float *x, int n)
{
  int d = c->d_model, F = c->d_ff;
  ms_layernorm (sc->xn, x, ln->weight, ln->bias, n, d);
  ms_affine (sc->hidden, sc->xn, fc1->weight, fc1->bias, n, d, F);
  ms_gelu_erf (sc->hidden, (size_t) n * F);
  ms_affine (sc->proj, sc->hidden, fc2->weight, fc2->bias, n, F, d);
  add_into (x, sc->proj, (size_t) n * d);
}

static void
embed (float *x, const float *table, const float *pos, const int32_t *tokens, int n, int d)
{
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      x[(size_t) i * d + j] = table[(size_t) tokens[i] * d + j] + pos[(size_t) i * d + j];
}

/* Predicts segment t's tokens from H_{t−1} (s->carry): teacher-forced input
 * y = [last token of t−1, tokens[0 .. n−2]]; fills nll[n]. */
static void
decode (MsEngineState *s, MemformerScratch *sc, const MemformerWeights *w, const MsConfig *c,
        const int32_t *tokens, int n, float *nll)
{
  int d = c->d_model, V = c->vocab_size;
  const MemformerSettings *set = settings (c);
  int32_t *y = sc->dec_in;
  y[0] = s->carry_token;
  for (int i = 1; i < n; i++)
    y[i] = tokens[i - 1];
  embed (sc->x, w->tok_emb, w->dec_pos, y, n, d);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      sc->causal[i * n + j] = j <= i;

  for (int l = 0; l < set->n_dec_layers; l++)
    {
      const DecLayer *L = &w->dec[l];
      ms_layernorm (sc->xn, sc->x, L->ln1.weight, L->ln1.bias, n, d);
      attention_block (sc, c, &L->self_attn, sc->x, sc->xn, n, sc->xn, n, sc->causal);
      ms_layernorm (sc->xn, sc->x, L->ln2.weight, L->ln2.bias, n, d);
      attention_block (sc, c, &L->cross_attn, sc->x, sc->xn, n, s->carry, s->carry_rows, NULL);
      ffn_block (sc, c, &L->ln3, &L->fc1, &L->fc2, sc->x, n);
      ms_engine_state_check_finite (s, sc->x, (size_t) n * d, "dec.layers", l);
    }
  ms_layernorm (sc->xn, sc->x, w->dec_ln_f.weight, w->dec_ln_f.bias, n, d);
  ms_affine (sc->logits, sc->xn, w->lm_head, NULL, n, d, V);
  ms_engine_state_check_finite (s, sc->logits, (size_t) n * V, set->tie_embeddings ? "tok_emb (the LM head)" : "lm_head", -1);
  if (ms_engine_state_wants (s, MS_OBS_LOGITS))
    ms_engine_state_offer (s, MS_OBS_LOGITS, -1, sc->logits, 2, n, V, 0);
  for (int i = 0; i < n; i++)
    nll[i] = ms_nll_row (sc->logits + (size_t) i * V, V, tokens[i]);
}

/* Encodes the segment reading M_t into sc->enc (n, d). */
static void
encode (MsEngineState *s, MemformerScratch *sc, const MemformerWeights *w, const MsConfig *c,
        const int32_t *tokens, int n)
{
  int d = c->d_model, K = c->n_slots;
  const MemformerSettings *set = settings (c);
  embed (sc->x, w->tok_emb, w->enc_pos, tokens, n, d);
  for (int l = 0; l < set->n_enc_layers; l++)
    {
      const EncLayer *L = &w->enc[l];
      ms_layernorm (sc->xn, sc->x, L->ln1.weight, L->ln1.bias, n, d);
      attention_block (sc, c, &L->self_attn, sc->x, sc->xn, n, sc->xn, n, NULL);
      ms_layernorm (sc->xn, sc->x, L->ln2.weight, L->ln2.bias, n, d);
      attention_block (sc, c, &L->mem_attn, sc->x, sc->xn, n, s->memory, K, NULL);
      if (ms_engine_state_wants (s, MS_OBS_READ))
        ms_engine_state_offer (s, MS_OBS_READ, l, sc->probs, 3, c->n_heads, n, K);
      ffn_block (sc, c, &L->ln3, &L->fc1, &L->fc2, sc->x, n);
      ms_engine_state_check_finite (s, sc->x, (size_t) n * d, "enc.layers", l);
    }
  ms_layernorm (sc->enc, sc->x, w->enc_ln_f.weight, w->enc_ln_f.bias, n, d);
}

/* The writer: each slot attends to [itself, the n encoded tokens]; its new
 * content u_i mixes its raw old value with the token values, then
 * M_{t+1}[i] = (u_i + b_i) / ‖u_i + b_i‖.  Weights: sc->probs (H, K, 1+n). */
static void
write_memory (MsEngineState *s, MemformerScratch *sc, const MemformerWeights *w, const MsConfig *c, int n)
{
  int d = c->d_model, K = c->n_slots, H = c->n_heads, dh = d / H, W = 1 + n;
  const MemformerSettings *set = settings (c);
  float scale = (float) (1.0 / (sqrt ((double) dh) * set->writer_temperature));
  const float *M = s->memory;
  float *u = sc->att;

  ms_affine (sc->q, M, w->writer_q.weight, w->writer_q.bias, K, d, d);        /* (K, d) */
  ms_affine (sc->kself, M, w->writer_k.weight, w->writer_k.bias, K, d, d);    /* (K, d) */
  ms_affine (sc->k, sc->enc, w->writer_k.weight, w->writer_k.bias, n, d, d);  /* (n, d) */
  ms_affine (sc->v, sc->enc, w->writer_v.weight, w->writer_v.bias, n, d, d);  /* (n, d) */
  for (int h = 0; h < H; h++)
    {
      float *p = sc->probs + (size_t) h * K * W;  /* (K, 1+n) */
      ms_attention_scores (p + 1, W, sc->q + h * dh, d, sc->k + h * dh, d, K, n, dh, scale);
      for (int i = 0; i < K; i++)
        {
          const float *qi = sc->q + (size_t) i * d + h * dh, *ki = sc->kself + (size_t) i * d + h * dh;
          float dot = 0.0f;
          for (int j = 0; j < dh; j++)
            dot += qi[j] * ki[j];
          p[(size_t) i * W] = dot * scale;
        }
      ms_softmax_rows (p, K, W, W);
      ms_attention_mix (u + h * dh, d, p + 1, W, sc->v + h * dh, d, K, n, dh);
      for (int i = 0; i < K; i++)
        {
          float a_self = p[(size_t) i * W];
          for (int j = 0; j < dh; j++)
            u[(size_t) i * d + h * dh + j] += a_self * M[(size_t) i * d + h * dh + j];
        }
    }
  if (ms_engine_state_wants (s, MS_OBS_WRITE))
    ms_engine_state_offer (s, MS_OBS_WRITE, -1, sc->probs, 3, H, K, W);

  for (int i = 0; i < K; i++)
    {
      float *ui = u + (size_t) i * d;
      const float *bi = w->memory_bias + (size_t) i * d;
      double norm = 0;
      for (int j = 0; j < d; j++)
        {
          ui[j] += bi[j];
          norm += (double) ui[j] * ui[j];
        }
      float inv = (float) (1.0 / sqrt (norm));
      for (int j = 0; j < d; j++)
        s->memory[(size_t) i * d + j] = ui[j] * inv;
    }
  ms_engine_state_check_finite (s, s->memory, (size_t) K * d, "writer", -1);
}

static void
memformer_step (const MsModel *model, MsEngineState *s, const int32_t *tokens, int n, float *nll)
{
  MemformerScratch *sc = s->scratch;
  const MsConfig *c = ms_model_get_config (model);
  const MemformerWeights *w = ms_model_get_weights (model);

  if (s->carry_rows > 0)
    decode (s, sc, w, c, tokens, n, nll);
  else
    for (int i = 0; i < n; i++)
      nll[i] = NAN;
  encode (s, sc, w, c, tokens, n);
  write_memory (s, sc, w, c, n);

  memcpy (s->carry, sc->enc, (size_t) n * c->d_model * sizeof (float));
  s->carry_rows = n;
  s->carry_token = tokens[n - 1];
}

/* ---- configuration ---------------------------------------------------- */

static gboolean
memformer_parse_config (MsConfig *c, MsConfigReader *r, GError **error)
{
  MemformerSettings *set = (MemformerSettings *) &c->settings;
  set->writer_temperature = 0.5;
  set->tie_embeddings = TRUE;
  if (!ms_config_reader_int (r, "n_enc_layers", 1, 1 << 24, TRUE, &set->n_enc_layers, error)
      || !ms_config_reader_int (r, "n_dec_layers", 1, 1 << 24, TRUE, &set->n_dec_layers, error)
      || !ms_config_reader_double (r, "writer_temperature", 0, FALSE, &set->writer_temperature, error)
      || !ms_config_reader_bool (r, "tie_embeddings", FALSE, &set->tie_embeddings, error))
    return FALSE;
  return TRUE;
}

static guint
memformer_describe_config (const MsConfig *c, MsConfigRow *rows)
{
  const MemformerSettings *set = settings (c);
  rows[0] = (MsConfigRow) { .key = "n_enc_layers", .type = MS_CONFIG_INT, .i = set->n_enc_layers };
  rows[1] = (MsConfigRow) { .key = "n_dec_layers", .type = MS_CONFIG_INT, .i = set->n_dec_layers };
  rows[2] = (MsConfigRow) { .key = "writer_temperature", .type = MS_CONFIG_DOUBLE, .d = set->writer_temperature };
  rows[3] = (MsConfigRow) { .key = "tie_embeddings", .type = MS_CONFIG_BOOL, .i = set->tie_embeddings };
  return 4;
}

/* Multiply-adds of one full segment (n = L):
 *   encoder layer   6Ld² + 2Kd² + 2L²d + 2LKd + 2LdF
 *                   self-attn q, k, v, o 4Ld² + scores and mix 2L²d;
 *                   memory read q and o 2Ld², k and v over the slots
 *                   2Kd², scores and mix 2LKd; FFN 2LdF
 *   writer          2Kd² + 2Ld² + 2KLd + 2Kd
 *                   q and k_self over the slots 2Kd², k and v over the
 *                   tokens 2Ld², slot-token logits + mix 2KLd, self
 *                   logit + self mix 2Kd
 *   decoder layer   8Ld² + 4L²d + 2LdF
 *                   causal self-attn 4Ld² + 2L²d (the full L×L product,
 *                   as both the core and PyTorch compute it); cross-attn
 *                   over the previous segment's L rows 4Ld² + 2L²d; FFN 2LdF
 *   LM head         LdV */
static double
memformer_segment_macs (const MsConfig *c)
{
  const MemformerSettings *set = settings (c);
  double d = c->d_model, F = c->d_ff, V = c->vocab_size, L = c->segment_len, K = c->n_slots;
  double enc = 6 * L * d * d + 2 * K * d * d + 2 * L * L * d + 2 * L * K * d + 2 * L * d * F;
  double writer = 2 * K * d * d + 2 * L * d * d + 2 * K * L * d + 2 * K * d;
  double dec = 8 * L * d * d + 4 * L * L * d + 2 * L * d * F;
  return set->n_enc_layers * enc + writer + set->n_dec_layers * dec + L * d * V;
}

/* ---- the engine ------------------------------------------------------- */

static int
encoder_layers (const MsConfig *c)
{
  return settings (c)->n_enc_layers;
}

static const MsAttentionLayout memformer_attention[] = {
  { .kind = MS_OBS_READ, .name = "reader", .display_name = "Read attention (encoder)", .role = MS_ATTENTION_READ,
    .n_layers = encoder_layers,
    .n_row_blocks = 1, .rows = { { "tokens", MS_BLOCK_TOKENS, FALSE } },
    .n_col_blocks = 1, .cols = { { "slots", MS_BLOCK_SLOTS, TRUE } } },
  { .kind = MS_OBS_WRITE, .name = "writer", .display_name = "Write attention (writer)", .role = MS_ATTENTION_WRITE,
    .n_layers = NULL,
    .n_row_blocks = 1, .rows = { { "slots", MS_BLOCK_SLOTS, FALSE } },
    .n_col_blocks = 2, .cols = { { "self", MS_BLOCK_SELF, TRUE }, { "tokens", MS_BLOCK_TOKENS, FALSE } } },
};

const MsEngine ms_memformer_engine = {
  .name = "memformer",
  .display_name = "Memformer",
  .slots_key = "n_slots",
  .parse_config = memformer_parse_config,
  .describe_config = memformer_describe_config,
  .weights_size = sizeof (MemformerWeights),
  .bind = memformer_bind,
  .count_weights = memformer_count_weights,
  .weights_clear = memformer_weights_clear,
  .sizes = memformer_sizes,
  .scratch_new = memformer_scratch_new,
  .scratch_free = memformer_scratch_free,
  .initial_memory = memformer_initial_memory,
  .step = memformer_step,
  .logits_shift = 0,
  .segment_macs = memformer_segment_macs,
  .attention = memformer_attention,
  .n_attention = G_N_ELEMENTS (memformer_attention),
};
