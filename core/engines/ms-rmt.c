/* ms-rmt.c — the Recurrent Memory Transformer engine (DESIGN §3.2): GPT-2
 * blocks over [read memory ; segment tokens ; write memory], the write
 * block's final outputs becoming the next memory.
 *
 * Dimension letters: m memory tokens, L = segment_len, n = L_t, T = 2m + n
 * positions, d = d_model, H heads of dh = d/H, F = d_ff, V vocabulary.
 * Row blocks of the stream: read [0, m), segment [m, m+n), write [m+n, T).
 */
#include "ms-engines-private.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

typedef enum { MASK_CAUSAL, MASK_BLOCKS } RmtMask;
static const char *const mask_names[] = { "causal", "blocks", NULL };

/* memscope.config beyond the common settings */
typedef struct {
  int n_layers;
  int n_positions;
  RmtMask mask;
} RmtSettings;

static inline const RmtSettings *
settings (const MsConfig *c)
{
  G_STATIC_ASSERT (sizeof (RmtSettings) <= sizeof c->settings);
  return (const RmtSettings *) &c->settings;
}

typedef struct {
  MsAffine ln_1, ln_2;
  MsAffine c_attn;          /* (d, 3d) */
  MsAffine attn_proj;       /* attn.c_proj (d, d) */
  MsAffine c_fc;            /* (d, d_ff) */
  MsAffine mlp_proj;        /* mlp.c_proj (d_ff, d) */
} RmtLayer;

/* Named pointers into the model's one weight allocation (ms-engine.h). */
typedef struct {
  const float *wte_t;       /* W[d, V] = wteᵀ laid out for ms_affine: the LM head, and (a
                               column, ms_weight_column) each token's embedding */
  const float *wpe;         /* (n_positions, d) */
  const float *memory;      /* (m, d) M_0 */
  RmtLayer *h;              /* [n_layers], owned */
  MsAffine ln_f;
} RmtWeights;

typedef struct {
  MsEngineScratch buffers;   /* owns every buffer below */
  float *x;        /* (T, d)  residual stream */
  float *xn;       /* (T, d)  layer-normed stream */
  float *qkv;      /* (T, 3d) */
  float *att;      /* (T, d)  concatenated heads */
  float *hidden;   /* (T, F) */
  float *probs;    /* (H, T, T) */
  float *logits;   /* (L, V); only its first LM_ROWS rows are used while nobody observes the logits */
  uint8_t *mask;   /* (T, T) */
  int mask_n;      /* the segment length mask was built for (0: none yet) */
} RmtScratch;

/* Conv1D (in, out) and LayerNorm (cols 0) weights, bias of the output size. */
static void
bind_affine (MsBinder *b, MsAffine *a, int rows, int cols, const char *prefix, const char *name)
{
  ms_binder_add_affine (b, a, rows, cols, cols > 0 ? cols : rows, prefix, name);
}

static void
rmt_bind (MsBinder *b, const MsConfig *c, gpointer weights)
{
  RmtWeights *w = weights;
  const RmtSettings *set = settings (c);
  int d = c->d_model, F = c->d_ff;
  ms_binder_add_transposed (b, &w->wte_t, c->vocab_size, d, "transformer.wte.weight");
  ms_binder_add (b, &w->wpe, 2, (int[]) { set->n_positions, d }, "transformer.wpe.weight");
  ms_binder_add (b, &w->memory, 2, (int[]) { c->n_slots, d }, "memory");
  w->h = g_new0 (RmtLayer, set->n_layers);
  for (int l = 0; l < set->n_layers; l++)
    {
      g_autofree char *p = g_strdup_printf ("transformer.h.%d", l);
      RmtLayer *L = &w->h[l];
      bind_affine (b, &L->ln_1, d, 0, p, "ln_1");
      bind_affine (b, &L->c_attn, d, 3 * d, p, "attn.c_attn");   /* Conv1D: [in, out] */
      bind_affine (b, &L->attn_proj, d, d, p, "attn.c_proj");
      bind_affine (b, &L->ln_2, d, 0, p, "ln_2");
      bind_affine (b, &L->c_fc, d, F, p, "mlp.c_fc");
      bind_affine (b, &L->mlp_proj, F, d, p, "mlp.c_proj");
    }
  bind_affine (b, &w->ln_f, d, 0, "transformer", "ln_f");
}

static void
rmt_count_weights (const MsConfig *c, MsCount *n_tensors, MsCount *n_params)
{
  const RmtSettings *set = settings (c);
  guint64 d = c->d_model, F = c->d_ff;
  /* per layer: ln_1, c_attn, attn.c_proj, ln_2, c_fc, mlp.c_proj, each a weight and a bias */
  ms_count_add (n_tensors, set->n_layers, 12, 1);
  ms_count_add (n_params, set->n_layers, 4 + 3 + 1 + 1, d);   /* layernorms, c_attn, attn.c_proj, mlp.c_proj biases */
  ms_count_add (n_params, set->n_layers, 3 * d + d + 2 * F, d);  /* c_attn, attn.c_proj, c_fc, mlp.c_proj weights */
  ms_count_add (n_params, set->n_layers, F, 1);               /* c_fc bias */
  /* wte (also the LM head), wpe, memory, ln_f */
  ms_count_add (n_tensors, 5, 1, 1);
  ms_count_add (n_params, (guint64) c->vocab_size + (guint64) set->n_positions + (guint64) c->n_slots + 2, d, 1);
}

static void
rmt_weights_clear (gpointer weights)
{
  g_free (((RmtWeights *) weights)->h);
}

/* ---- sizes and scratch ------------------------------------------------ */

enum { X, XN, QKV, ATT, HIDDEN, PROBS, LOGITS, MASK, N_SCRATCH };

/* Rows of logits computed at a time while nobody observes them: the LM
 * head's weight (d × V) is read once per LM_ROWS rows, and LM_ROWS · V
 * floats of logits are resident instead of L · V. */
#define LM_ROWS 128

static void
rmt_sizes (const MsConfig *c, MsEngineSizes *sz)
{
  double m = c->n_slots, L = c->segment_len, T = 2 * m + L, d = c->d_model, H = c->n_heads;
  sz->carry_rows = 1;                /* the logits of the segment's last token (V) */
  sz->carry_cols = c->vocab_size;
  sz->n_scratch = N_SCRATCH;
  sz->scratch[X] = T * d;
  sz->scratch[XN] = T * d;
  sz->scratch[QKV] = T * 3 * d;
  sz->scratch[ATT] = T * d;
  sz->scratch[HIDDEN] = T * c->d_ff;
  sz->scratch[PROBS] = H * T * T;
  sz->scratch[LOGITS] = L * c->vocab_size;
  sz->scratch[MASK] = ceil (T * T / 4);   /* bytes */
}

static gpointer
rmt_scratch_new (const MsConfig *c)
{
  MsEngineSizes sz = { 0 };
  rmt_sizes (c, &sz);
  RmtScratch *sc = g_new0 (RmtScratch, 1);
  ms_engine_scratch_init (&sc->buffers, &sz);
  float **b = sc->buffers.buffer;
  sc->x = b[X];
  sc->xn = b[XN];
  sc->qkv = b[QKV];
  sc->att = b[ATT];
  sc->hidden = b[HIDDEN];
  sc->probs = b[PROBS];
  sc->logits = b[LOGITS];
  sc->mask = (uint8_t *) b[MASK];
  return sc;
}

static void
rmt_scratch_free (gpointer scratch)
{
  RmtScratch *sc = scratch;
  if (!sc)
    return;
  ms_engine_scratch_clear (&sc->buffers);
  g_free (sc);
}

static void
rmt_initial_memory (const MsModel *model, float *memory)
{
  const MsConfig *c = ms_model_get_config (model);
  memcpy (memory, ((const RmtWeights *) ms_model_get_weights (model))->memory,
          (size_t) c->n_slots * c->d_model * sizeof (float));
}

/* causal: the lower triangle over all T positions (the HF wrapper).
 * blocks: read rows see the read block; segment rows see the read block and
 * the segment up to themselves; write rows see everything (the paper). */
static void
build_mask (uint8_t *mask, RmtMask kind, int m, int n)
{
  int T = 2 * m + n;
  for (int i = 0; i < T; i++)
    for (int j = 0; j < T; j++)
      {
        gboolean ok;
        if (kind == MASK_CAUSAL)
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
offer_layer (MsEngineState *s, RmtScratch *sc, int layer, int H, int m, int n, int r0)
{
  size_t T = 2 * m + n, head = (T - r0) * T;
  if (ms_engine_state_wants (s, MS_OBS_READ))   /* segment rows, read-block columns */
    ms_engine_state_offer_view (s, MS_OBS_READ, layer, sc->probs + (m - r0) * T, H, n, m, head, T);
  if (ms_engine_state_wants (s, MS_OBS_WRITE))  /* write rows, every column */
    ms_engine_state_offer_view (s, MS_OBS_WRITE, layer, sc->probs + (m + n - r0) * T, H, m, (int) T, head, T);
}

static void
rmt_step (const MsModel *model, MsEngineState *s, const int32_t *tokens, int n, float *nll)
{
  RmtScratch *sc = s->scratch;
  const MsConfig *c = ms_model_get_config (model);
  const RmtSettings *set = settings (c);
  const RmtWeights *w = ms_model_get_weights (model);
  int m = c->n_slots, d = c->d_model, H = c->n_heads, dh = d / H, F = c->d_ff, V = c->vocab_size;
  int T = 2 * m + n;

  /* X = [M_t ; wte[x_t] ; M_t] + wpe[0 .. T−1] */
  memcpy (sc->x, s->memory, (size_t) m * d * sizeof (float));
  for (int i = 0; i < n; i++)
    ms_weight_column (sc->x + (size_t) (m + i) * d, w->wte_t, d, V, tokens[i]);
  memcpy (sc->x + (size_t) (m + n) * d, s->memory, (size_t) m * d * sizeof (float));
  add_into (sc->x, w->wpe, (size_t) T * d);
  if (sc->mask_n != n)
    {
      build_mask (sc->mask, set->mask, m, n);   /* once, and again for a short last segment */
      sc->mask_n = n;
    }

  for (int l = 0; l < set->n_layers; l++)
    {
      const RmtLayer *L = &w->h[l];
      /* Nothing reads the read block's outputs of the last layer (the
       * logits come from the segment rows, the next memory from the write
       * rows), so from its attention on that layer runs on rows r0 .. T − 1,
       * saving the m read-block rows' queries, projection and feed-forward.
       * Its keys and values still cover every position. */
      int r0 = l == set->n_layers - 1 ? m : 0, rows = T - r0;
      float *x = sc->x + (size_t) r0 * d, *xn = sc->xn + (size_t) r0 * d;
      ms_layernorm (sc->xn, sc->x, L->ln_1.weight, L->ln_1.bias, T, d);
      ms_affine (sc->qkv, sc->xn, L->c_attn.weight, L->c_attn.bias, T, d, 3 * d);
      ms_attention (sc->att, d, sc->probs, sc->qkv + (size_t) r0 * 3 * d, 3 * d, sc->qkv + d, 3 * d,
                    sc->qkv + 2 * d, 3 * d, rows, T, H, dh, sc->mask + (size_t) r0 * T, 1.0f / sqrtf ((float) dh));
      offer_layer (s, sc, l, H, m, n, r0);
      ms_affine_to (x, sc->att, L->attn_proj.weight, L->attn_proj.bias, rows, d, d, MS_AFFINE_ADD);

      ms_layernorm (xn, x, L->ln_2.weight, L->ln_2.bias, rows, d);
      ms_affine_to (sc->hidden, xn, L->c_fc.weight, L->c_fc.bias, rows, d, F, MS_AFFINE_GELU_TANH);
      ms_affine_to (x, sc->hidden, L->mlp_proj.weight, L->mlp_proj.bias, rows, F, d, MS_AFFINE_ADD);
      ms_engine_state_check_finite (s, x, (size_t) rows * d, "transformer.h", l);
    }
  /* the final layernorm of the rows that are used: segment and write */
  ms_layernorm (sc->xn + (size_t) m * d, sc->x + (size_t) m * d, w->ln_f.weight, w->ln_f.bias, T - m, d);

  /* logits of the segment rows; row i predicts token i+1 of the stream.
   * Unobserved, they are computed LM_ROWS rows at a time into the start of
   * the buffer and turned into NLL at once, so of its (L, V) floats only
   * LM_ROWS · V are ever touched (and resident); observed, all at once. */
  gboolean observed = ms_engine_state_wants (s, MS_OBS_LOGITS);
  int chunk = observed ? n : LM_ROWS;
  nll[0] = s->carry_rows > 0 ? ms_nll_row (s->carry, V, tokens[0]) : NAN;
  for (int r0 = 0; r0 < n; r0 += chunk)
    {
      int rows = MIN (chunk, n - r0);
      float *logits = sc->logits + (observed ? (size_t) r0 * V : 0);
      ms_affine (logits, sc->xn + (size_t) (m + r0) * d, w->wte_t, NULL, rows, d, V);
      ms_engine_state_check_finite (s, logits, (size_t) rows * V, "transformer.wte (the LM head)", -1);
      /* row r0 + i predicts token r0 + i + 1; the segment's last row is the carry */
      ms_nll_rows (nll + r0 + 1, logits, MIN (rows, n - 1 - r0), V, tokens + r0 + 1);
      if (r0 + rows == n)
        memcpy (s->carry, logits + (size_t) (rows - 1) * V, V * sizeof (float));
    }
  if (observed)
    ms_engine_state_offer (s, MS_OBS_LOGITS, -1, sc->logits, 2, n, V, 0);

  memcpy (s->memory, sc->xn + (size_t) (m + n) * d, (size_t) m * d * sizeof (float));
  s->carry_rows = 1;
  s->carry_token = tokens[n - 1];
}

/* ---- configuration ---------------------------------------------------- */

static gboolean
rmt_parse_config (MsConfig *c, MsConfigReader *r, GError **error)
{
  RmtSettings *set = (RmtSettings *) &c->settings;
  int mask = MASK_CAUSAL;
  if (!ms_config_reader_int (r, "n_layers", 1, 1 << 24, TRUE, &set->n_layers, error)
      || !ms_config_reader_int (r, "n_positions", 1, 1 << 24, TRUE, &set->n_positions, error)
      || !ms_config_reader_choice (r, "mask", mask_names, FALSE, &mask, error))
    return FALSE;
  set->mask = mask;
  if (set->n_positions < 2 * c->n_slots + c->segment_len)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                   "%s: memscope.config n_positions %d is smaller than 2·n_mem + segment_len = %d",
                   ms_config_reader_get_label (r), set->n_positions, 2 * c->n_slots + c->segment_len);
      return FALSE;
    }
  return TRUE;
}

static guint
rmt_describe_config (const MsConfig *c, MsConfigRow *rows)
{
  const RmtSettings *set = settings (c);
  rows[0] = (MsConfigRow) { .key = "n_layers", .type = MS_CONFIG_INT, .i = set->n_layers };
  rows[1] = (MsConfigRow) { .key = "n_positions", .type = MS_CONFIG_INT, .i = set->n_positions };
  rows[2] = (MsConfigRow) { .key = "mask", .type = MS_CONFIG_STRING, .s = mask_names[set->mask] };
  return 3;
}

/* Multiply-adds of one full segment, T = 2m + L positions:
 *   layer           4Td² + 2T²d + 2TdF
 *                   c_attn 3Td², c_proj Td², scores + context 2T²d (the
 *                   full T×T, as an eager implementation computes it; the
 *                   kernels skip what the mask hides), MLP c_fc + c_proj 2TdF
 *   LM head         LdV (the segment rows only) */
static double
rmt_segment_macs (const MsConfig *c)
{
  double d = c->d_model, F = c->d_ff, V = c->vocab_size, L = c->segment_len, K = c->n_slots;
  double T = 2 * K + L;
  double layer = 4 * T * d * d + 2 * T * T * d + 2 * T * d * F;
  return settings (c)->n_layers * layer + L * d * V;
}

/* ---- the engine ------------------------------------------------------- */

static int
all_layers (const MsConfig *c)
{
  return settings (c)->n_layers;
}

/* Both memory blocks of the write rows hold M_t (DESIGN §5). */
static const MsAttentionLayout rmt_attention[] = {
  { .kind = MS_OBS_READ, .name = "rmt_read", .display_name = "Read attention (segment rows)", .role = MS_ATTENTION_READ,
    .n_layers = all_layers,
    .n_row_blocks = 1, .rows = { { "tokens", MS_BLOCK_TOKENS, FALSE } },
    .n_col_blocks = 1, .cols = { { "read block", MS_BLOCK_SLOTS, TRUE } } },
  { .kind = MS_OBS_WRITE, .name = "rmt_write", .display_name = "Write attention (write rows)", .role = MS_ATTENTION_WRITE,
    .n_layers = all_layers,
    .n_row_blocks = 1, .rows = { { "write block", MS_BLOCK_SLOTS, FALSE } },
    .n_col_blocks = 3, .cols = { { "read block", MS_BLOCK_SLOTS, TRUE }, { "tokens", MS_BLOCK_TOKENS, FALSE },
                                 { "write block", MS_BLOCK_SLOTS, TRUE } } },
};

const MsEngine ms_rmt_engine = {
  .name = "rmt",
  .display_name = "RMT",
  .slots_key = "n_mem",
  .parse_config = rmt_parse_config,
  .describe_config = rmt_describe_config,
  .weights_size = sizeof (RmtWeights),
  .bind = rmt_bind,
  .count_weights = rmt_count_weights,
  .weights_clear = rmt_weights_clear,
  .sizes = rmt_sizes,
  .scratch_new = rmt_scratch_new,
  .scratch_free = rmt_scratch_free,
  .initial_memory = rmt_initial_memory,
  .step = rmt_step,
  .logits_shift = 1,
  .segment_macs = rmt_segment_macs,
  .attention = rmt_attention,
  .n_attention = G_N_ELEMENTS (rmt_attention),
};
