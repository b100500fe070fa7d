/* ms-rmt.c — the Recurrent Memory Transformer engine (DESIGN §3.2): GPT-2
 * blocks over [read memory ; segment tokens ; write memory], the write
 * block's final outputs becoming the next memory.
 *
 * Dimension letters: m memory tokens, L = segment_len, n = L_t, T = 2m + n
 * positions, d = d_model, H heads of dh = d/H, F = d_ff, V vocabulary.
 * Row blocks of the stream: read [0, m), segment [m, m+n), write [m+n, T).
 */
#include "ms-session-private.h"

#include <math.h>
#include <string.h>

struct _MsRmtScratch {
  float *x;        /* (T, d)  residual stream */
  float *xn;       /* (T, d)  layer-normed stream */
  float *qkv;      /* (T, 3d) */
  float *att;      /* (T, d)  concatenated heads */
  float *proj;     /* (T, d) */
  float *hidden;   /* (T, F) */
  float *probs;    /* (H, T, T) */
  float *logits;   /* (L, V) */
  uint8_t *mask;   /* (T, T) */
  int mask_n;      /* the segment length mask was built for (0: none yet) */
};

/* Conv1D (in, out) and LayerNorm (cols 0) weights, bias of the output size. */
static void
bind_affine (MsBinder *b, MsAffine *a, int rows, int cols, const char *prefix, const char *name)
{
  ms_binder_add_affine (b, a, rows, cols, cols > 0 ? cols : rows, prefix, name);
}

void
ms_rmt_bind (MsBinder *b, const MsConfig *c, MsRmtWeights *w)
{
  int d = c->d_model, F = c->d_ff;
  ms_binder_add (b, &w->wte, 2, (int[]) { c->vocab_size, d }, "transformer.wte.weight");
  ms_binder_add_transposed (b, &w->lm_head, c->vocab_size, d, "transformer.wte.weight");
  ms_binder_add (b, &w->wpe, 2, (int[]) { c->n_positions, d }, "transformer.wpe.weight");
  ms_binder_add (b, &w->memory, 2, (int[]) { c->n_slots, d }, "memory");
  w->h = g_new0 (MsRmtLayer, c->n_layers);
  for (int l = 0; l < c->n_layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("transformer.h.%d", l);
      MsRmtLayer *L = &w->h[l];
      bind_affine (b, &L->ln_1, d, 0, p, "ln_1");
      bind_affine (b, &L->c_attn, d, 3 * d, p, "attn.c_attn");   /* Conv1D: [in, out] */
      bind_affine (b, &L->attn_proj, d, d, p, "attn.c_proj");
      bind_affine (b, &L->ln_2, d, 0, p, "ln_2");
      bind_affine (b, &L->c_fc, d, F, p, "mlp.c_fc");
      bind_affine (b, &L->mlp_proj, F, d, p, "mlp.c_proj");
    }
  bind_affine (b, &w->ln_f, d, 0, "transformer", "ln_f");
}

MsRmtScratch *
ms_rmt_scratch_new (const MsConfig *c)
{
  size_t m = c->n_slots, L = c->segment_len, T = 2 * m + L, d = c->d_model, H = c->n_heads;
  MsRmtScratch *sc = g_new0 (MsRmtScratch, 1);
  sc->x = g_new (float, T * d);
  sc->xn = g_new (float, T * d);
  sc->qkv = g_new (float, T * 3 * d);
  sc->att = g_new (float, T * d);
  sc->proj = g_new (float, T * d);
  sc->hidden = g_new (float, T * c->d_ff);
  sc->probs = g_new (float, H * T * T);
  sc->logits = g_new (float, L * c->vocab_size);
  sc->mask = g_new (uint8_t, T * T);
  return sc;
}

void
ms_rmt_scratch_free (MsRmtScratch *sc)
{
  if (!sc)
    return;
  g_free (sc->x), g_free (sc->xn), g_free (sc->qkv), g_free (sc->att), g_free (sc->proj);
  g_free (sc->hidden), g_free (sc->probs), g_free (sc->logits), g_free (sc->mask);
  g_free (sc);
}

/* causal: the lower triangle over all T positions (the HF wrapper).
 * blocks: read rows see the read block; segment rows see the read block and
 * the segment up to themselves; write rows see everything (the paper). */
static void
build_mask (uint8_t *mask, MsRmtMask kind, int m, int n)
{
  int T = 2 * m + n;
  for (int i = 0; i < T; i++)
    for (int j = 0; j < T; j++)
      {
        gboolean ok;
        if (kind == MS_RMT_MASK_CAUSAL)
          ok = j <= i;
        else if (i < m)
          ok = j < m;
        else if (i < m + n)
          ok = j <= i;
        else
          ok = TRUE;
        mask[i * T + j] = ok;
      }
}

static void
add_into (float *x, const float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] += y[i];
}

/* Offers the observed slices of one layer's weights as views into probs,
 * which holds (H, T − r0, T): the rows of positions r0 .. T − 1.  Not
 * copied here: an observer that keeps them copies them once. */
static void
offer_layer (MsSession *s, MsRmtScratch *sc, int layer, int H, int m, int n, int r0)
{
  size_t T = 2 * m + n, head = (T - r0) * T;
  if (ms_session_wants (s, MS_OBS_RMT_READ))   /* segment rows, read-block columns */
    ms_session_offer_view (s, MS_OBS_RMT_READ, layer, sc->probs + (m - r0) * T, H, n, m, head, T);
  if (ms_session_wants (s, MS_OBS_RMT_WRITE))  /* write rows, every column */
    ms_session_offer_view (s, MS_OBS_RMT_WRITE, layer, sc->probs + (m + n - r0) * T, H, m, (int) T, head, T);
}

void
ms_rmt_step (MsSession *s, const int32_t *tokens, int n, float *nll)
{
  MsRmtScratch *sc = s->scratch;
  const MsConfig *c = ms_model_get_config (s->model);
  const MsRmtWeights *w = ms_model_get_rmt (s->model);
  int m = c->n_slots, d = c->d_model, H = c->n_heads, dh = d / H, F = c->d_ff, V = c->vocab_size;
  int T = 2 * m + n;

  /* X = [M_t ; wte[x_t] ; M_t] + wpe[0 .. T−1] */
  memcpy (sc->x, s->memory, (size_t) m * d * sizeof (float));
  for (int i = 0; i < n; i++)
    memcpy (sc->x + (size_t) (m + i) * d, w->wte + (size_t) tokens[i] * d, d * sizeof (float));
  memcpy (sc->x + (size_t) (m + n) * d, s->memory, (size_t) m * d * sizeof (float));
  add_into (sc->x, w->wpe, (size_t) T * d);
  if (sc->mask_n != n)
    {
      build_mask (sc->mask, c->mask, m, n);   /* once, and again for a short last segment */
      sc->mask_n = n;
    }

  for (int l = 0; l < c->n_layers; l++)
    {
      const MsRmtLayer *L = &w->h[l];
      /* Nothing reads the read block's outputs of the last layer (the
       * logits come from the segment rows, the next memory from the write
       * rows), so from its attention on that layer runs on rows r0 .. T − 1:
       * 1.1% of the multiply-adds at the paper config, 3.2% at the small
       * one.  Its keys and values still cover every position. */
      int r0 = l == c->n_layers - 1 ? m : 0, rows = T - r0;
      float *x = sc->x + (size_t) r0 * d, *xn = sc->xn + (size_t) r0 * d;
      ms_layernorm (sc->xn, sc->x, L->ln_1.weight, L->ln_1.bias, T, d);
      ms_affine (sc->qkv, sc->xn, L->c_attn.weight, L->c_attn.bias, T, d, 3 * d);
      ms_attention (sc->att, d, sc->probs, sc->qkv + (size_t) r0 * 3 * d, 3 * d, sc->qkv + d, 3 * d,
                    sc->qkv + 2 * d, 3 * d, rows, T, H, dh, sc->mask + (size_t) r0 * T, 1.0f / sqrtf ((float) dh));
      offer_layer (s, sc, l, H, m, n, r0);
      ms_affine (sc->proj, sc->att, L->attn_proj.weight, L->attn_proj.bias, rows, d, d);
      add_into (x, sc->proj, (size_t) rows * d);

      ms_layernorm (xn, x, L->ln_2.weight, L->ln_2.bias, rows, d);
      ms_affine (sc->hidden, xn, L->c_fc.weight, L->c_fc.bias, rows, d, F);
      ms_gelu_tanh (sc->hidden, (size_t) rows * F);
      ms_affine (sc->proj, sc->hidden, L->mlp_proj.weight, L->mlp_proj.bias, rows, F, d);
      add_into (x, sc->proj, (size_t) rows * d);
    }
  /* the final layernorm of the rows that are used: segment and write */
  ms_layernorm (sc->xn + (size_t) m * d, sc->x + (size_t) m * d, w->ln_f.weight, w->ln_f.bias, T - m, d);

  /* logits of the segment rows; row i predicts token i+1 of the stream */
  ms_affine (sc->logits, sc->xn + (size_t) m * d, w->lm_head, NULL, n, d, V);
  if (ms_session_wants (s, MS_OBS_LOGITS))
    ms_session_offer (s, MS_OBS_LOGITS, -1, sc->logits, 2, n, V, 0);
  nll[0] = s->carry_rows > 0 ? ms_nll_row (s->carry, V, tokens[0]) : NAN;
  for (int i = 1; i < n; i++)
    nll[i] = ms_nll_row (sc->logits + (size_t) (i - 1) * V, V, tokens[i]);

  memcpy (s->memory, sc->xn + (size_t) (m + n) * d, (size_t) m * d * sizeof (float));
  memcpy (s->carry, sc->logits + (size_t) (n - 1) * V, V * sizeof (float));
  s->carry_rows = 1;
  s->carry_token = tokens[n - 1];
}
