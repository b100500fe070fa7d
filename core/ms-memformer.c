/* ms-memformer.c — the Memformer engine (DESIGN §3.1): an encoder that reads
 * the memory slots, a slot-attention writer with biased normalisation, and a
 * decoder that predicts the next segment from the current encoding.
 *
 * Dimension letters: L = segment_len, n = L_t ≤ L tokens in this segment,
 * d = d_model, H heads of dh = d/H, K memory slots, F = d_ff, V vocabulary.
 */
#include "ms-session-private.h"

#include <math.h>
#include <string.h>

struct _MsMemformerScratch {
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
};

/* ---- weights ---------------------------------------------------------- */

/* LayerNorm: weight and bias of length d. */
static void
bind_layernorm (MsBinder *b, MsAffine *a, int d, const char *prefix, const char *name)
{
  ms_binder_add_affine (b, a, d, 0, d, prefix, name);
}

static void
bind_attn (MsBinder *b, MsAttnProj *p, int d, const char *prefix)
{
  ms_binder_add_linear (b, &p->q, d, d, prefix, "q");
  ms_binder_add_linear (b, &p->k, d, d, prefix, "k");
  ms_binder_add_linear (b, &p->v, d, d, prefix, "v");
  ms_binder_add_linear (b, &p->o, d, d, prefix, "o");
}

void
ms_memformer_bind (MsBinder *b, const MsConfig *c, MsMemformerWeights *w)
{
  int d = c->d_model, F = c->d_ff;
  ms_binder_add (b, &w->tok_emb, 2, (int[]) { c->vocab_size, d }, "tok_emb.weight");
  ms_binder_add (b, &w->enc_pos, 2, (int[]) { c->segment_len, d }, "enc.pos_emb.weight");
  ms_binder_add (b, &w->dec_pos, 2, (int[]) { c->segment_len, d }, "dec.pos_emb.weight");
  w->enc = g_new0 (MsMemformerEncLayer, c->n_enc_layers);
  w->dec = g_new0 (MsMemformerDecLayer, c->n_dec_layers);
  for (int l = 0; l < c->n_enc_layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("enc.layers.%d", l);
      g_autofree char *sa = g_strdup_printf ("%s.self_attn", p);
      g_autofree char *ma = g_strdup_printf ("%s.mem_attn", p);
      MsMemformerEncLayer *L = &w->enc[l];
      bind_layernorm (b, &L->ln1, d, p, "ln1");
      bind_layernorm (b, &L->ln2, d, p, "ln2");
      bind_layernorm (b, &L->ln3, d, p, "ln3");
      bind_attn (b, &L->self_attn, d, sa);
      bind_attn (b, &L->mem_attn, d, ma);
      ms_binder_add_linear (b, &L->fc1, F, d, p, "ffn.fc1");
      ms_binder_add_linear (b, &L->fc2, d, F, p, "ffn.fc2");
    }
  for (int l = 0; l < c->n_dec_layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("dec.layers.%d", l);
      g_autofree char *sa = g_strdup_printf ("%s.self_attn", p);
      g_autofree char *ca = g_strdup_printf ("%s.cross_attn", p);
      MsMemformerDecLayer *L = &w->dec[l];
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
  ms_binder_add_transposed (b, &w->lm_head, c->vocab_size, d, c->tie_embeddings ? "tok_emb.weight" : "lm_head.weight");
}

/* ---- scratch ---------------------------------------------------------- */

MsMemformerScratch *
ms_memformer_scratch_new (const MsConfig *c)
{
  size_t L = c->segment_len, d = c->d_model, K = c->n_slots, R = MAX (L, K);
  MsMemformerScratch *sc = g_new0 (MsMemformerScratch, 1);
  sc->x = g_new (float, L * d);
  sc->xn = g_new (float, L * d);
  sc->q = g_new (float, R * d);
  sc->k = g_new (float, R * d);
  sc->v = g_new (float, R * d);
  sc->att = g_new (float, R * d);
  sc->proj = g_new (float, L * d);
  sc->hidden = g_new (float, L * c->d_ff);
  sc->probs = g_new (float, c->n_heads * R * (1 + R));
  sc->enc = g_new (float, L * d);
  sc->logits = g_new (float, L * c->vocab_size);
  sc->kself = g_new (float, K * d);
  sc->causal = g_new (uint8_t, L * L);
  sc->dec_in = g_new (int32_t, L);
  return sc;
}

void
ms_memformer_scratch_free (MsMemformerScratch *sc)
{
  if (!sc)
    return;
  g_free (sc->x), g_free (sc->xn), g_free (sc->q), g_free (sc->k), g_free (sc->v);
  g_free (sc->att), g_free (sc->proj), g_free (sc->hidden), g_free (sc->probs);
  g_free (sc->enc), g_free (sc->logits), g_free (sc->kself), g_free (sc->causal);
  g_free (sc->dec_in);
  g_free (sc);
}

void
ms_memformer_initial_memory (const MsModel *model, float *memory)
{
  const MsConfig *c = ms_model_get_config (model);
  const float *b = ms_model_get_memformer (model)->memory_bias;
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
attention_block (MsMemformerScratch *sc, const MsConfig *c, const MsAttnProj *p, float *x,
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
ffn_block (MsMemformerScratch *sc, const MsConfig *c, const MsAffine *ln, const MsAffine *fc1,
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
decode (MsSession *s, MsMemformerScratch *sc, const MsMemformerWeights *w, const MsConfig *c,
        const int32_t *tokens, int n, float *nll)
{
  int d = c->d_model, V = c->vocab_size;
  int32_t *y = sc->dec_in;
  y[0] = s->carry_token;
  for (int i = 1; i < n; i++)
    y[i] = tokens[i - 1];
  embed (sc->x, w->tok_emb, w->dec_pos, y, n, d);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      sc->causal[i * n + j] = j <= i;

  for (int l = 0; l < c->n_dec_layers; l++)
    {
      const MsMemformerDecLayer *L = &w->dec[l];
      ms_layernorm (sc->xn, sc->x, L->ln1.weight, L->ln1.bias, n, d);
      attention_block (sc, c, &L->self_attn, sc->x, sc->xn, n, sc->xn, n, sc->causal);
      ms_layernorm (sc->xn, sc->x, L->ln2.weight, L->ln2.bias, n, d);
      attention_block (sc, c, &L->cross_attn, sc->x, sc->xn, n, s->carry, s->carry_rows, NULL);
      ffn_block (sc, c, &L->ln3, &L->fc1, &L->fc2, sc->x, n);
    }
  ms_layernorm (sc->xn, sc->x, w->dec_ln_f.weight, w->dec_ln_f.bias, n, d);
  ms_affine (sc->logits, sc->xn, w->lm_head, NULL, n, d, V);
  if (ms_session_wants (s, MS_OBS_LOGITS))
    ms_session_offer (s, MS_OBS_LOGITS, -1, sc->logits, 2, n, V, 0);
  for (int i = 0; i < n; i++)
    nll[i] = ms_nll_row (sc->logits + (size_t) i * V, V, tokens[i]);
}

/* Encodes the segment reading M_t into sc->enc (n, d). */
static void
encode (MsSession *s, MsMemformerScratch *sc, const MsMemformerWeights *w, const MsConfig *c,
        const int32_t *tokens, int n)
{
  int d = c->d_model, K = c->n_slots;
  embed (sc->x, w->tok_emb, w->enc_pos, tokens, n, d);
  for (int l = 0; l < c->n_enc_layers; l++)
    {
      const MsMemformerEncLayer *L = &w->enc[l];
      ms_layernorm (sc->xn, sc->x, L->ln1.weight, L->ln1.bias, n, d);
      attention_block (sc, c, &L->self_attn, sc->x, sc->xn, n, sc->xn, n, NULL);
      ms_layernorm (sc->xn, sc->x, L->ln2.weight, L->ln2.bias, n, d);
      attention_block (sc, c, &L->mem_attn, sc->x, sc->xn, n, s->memory, K, NULL);
      if (ms_session_wants (s, MS_OBS_READER))
        ms_session_offer (s, MS_OBS_READER, l, sc->probs, 3, c->n_heads, n, K);
      ffn_block (sc, c, &L->ln3, &L->fc1, &L->fc2, sc->x, n);
    }
  ms_layernorm (sc->enc, sc->x, w->enc_ln_f.weight, w->enc_ln_f.bias, n, d);
}

/* The writer: each slot attends to [itself, the n encoded tokens]; its new
 * content u_i mixes its raw old value with the token values, then
 * M_{t+1}[i] = (u_i + b_i) / ‖u_i + b_i‖.  Weights: sc->probs (H, K, 1+n). */
static void
write_memory (MsSession *s, MsMemformerScratch *sc, const MsMemformerWeights *w, const MsConfig *c, int n)
{
  int d = c->d_model, K = c->n_slots, H = c->n_heads, dh = d / H, W = 1 + n;
  float scale = (float) (1.0 / (sqrt ((double) dh) * c->writer_temperature));
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
  if (ms_session_wants (s, MS_OBS_WRITER))
    ms_session_offer (s, MS_OBS_WRITER, -1, sc->probs, 3, H, K, W);

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
}

void
ms_memformer_step (MsSession *s, const int32_t *tokens, int n, float *nll)
{
  MsMemformerScratch *sc = s->scratch;
  const MsConfig *c = ms_model_get_config (s->model);
  const MsMemformerWeights *w = ms_model_get_memformer (s->model);

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
