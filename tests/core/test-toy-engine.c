/* test-toy-engine.c — a third engine, defined only here and added with
 * ms_engine_register(), runs through everything an architecture reaches:
 * a model file, a session, the recorder, every view and figure export.
 * Nothing else in the tree knows it, so a pass shows that architectures
 * are data (DESIGN §4): the table is the only way in.
 *
 * The toy ("toy"): memory K × d; for a segment of n tokens with mean
 * embedding e,
 *     M_{t+1}[i] = w_i · M_t[i] + (1 − w_i) · e
 * with a fixed write weight w_i per slot (tensor "toy.write_weight").  Its
 * write attention (one head, not per layer) is [the slot itself | tokens]
 * = [w_i, (1 − w_i)/n, …]; its read attention (one layer) gives every
 * token 1/K on every slot; the NLL of token x is x / 256.  So a user can
 * predict every recorded number: retention r_t[i] = w_i, read usage n/K,
 * provenance of the initial memory after t segments mean_i w_i^t, NLL the
 * rule. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ms-engine.h"
#include "ms-error.h"
#include "ms-export.h"
#include "ms-recorder.h"
#include "ms-recording.h"
#include "ms-safetensors.h"
#include "ms-session.h"
#include "ms-view.h"
#include "ms-view-figure.h"
#include "test-util.h"

#define K 3
#define D 4
#define V 256
#define L 8
static const float write_weight[K] = { 0.95f, 0.5f, 0.05f };   /* retain, mixed, overwrite */

/* ---- the engine ------------------------------------------------------- */

typedef struct {
  TestEngineWeights base;     /* M_0, embedding */
  const float *write_weight;  /* (K) w */
} ToyWeights;

/* Scratch buffers: MEAN (d) e, WRITE (1, K, 1+L), READ (1, L, K). */
enum { MEAN, WRITE, READ, N_SCRATCH };

static gboolean
toy_parse_config (MsConfig *c, MsConfigReader *r, GError **error)
{
  if (c->n_heads != 1)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: the toy has one head", ms_config_reader_get_label (r));
      return FALSE;
    }
  return TRUE;
}

static void
toy_bind (MsBinder *b, const MsConfig *c, gpointer weights)
{
  ToyWeights *w = weights;
  test_engine_bind (b, c, &w->base, "toy");
  ms_binder_add (b, &w->write_weight, 1, (int[]) { c->n_slots }, "toy.write_weight");
}

static void
toy_count_weights (const MsConfig *c, MsCount *n_tensors, MsCount *n_params)
{
  test_engine_count_weights (c, n_tensors, n_params);
  ms_count_add (n_tensors, 1, 1, 1);
  ms_count_add (n_params, c->n_slots, 1, 1);
}

static void
toy_sizes (const MsConfig *c, MsEngineSizes *sz)
{
  test_engine_sizes (sz, N_SCRATCH);
  sz->scratch[MEAN] = c->d_model;
  sz->scratch[WRITE] = (double) c->n_slots * (1 + c->segment_len);
  sz->scratch[READ] = (double) c->segment_len * c->n_slots;
}

static gpointer
toy_scratch_new (const MsConfig *c)
{
  return test_engine_scratch_new (toy_sizes, c);
}

static void
toy_step (const MsModel *model, MsEngineState *st, const int32_t *tokens, int n, float *nll)
{
  const MsConfig *c = ms_model_get_config (model);
  const ToyWeights *w = ms_model_get_weights (model);
  TestEngineScratch *sc = st->scratch;
  float *mean = sc->buf[MEAN], *write_attn = sc->buf[WRITE], *read_attn = sc->buf[READ];
  int k = c->n_slots, d = c->d_model;

  for (int j = 0; j < d; j++)
    {
      double sum = 0;
      for (int i = 0; i < n; i++)
        sum += w->base.embed[(size_t) tokens[i] * d + j];
      mean[j] = (float) (sum / n);
    }
  for (int i = 0; i < n * k; i++)
    read_attn[i] = 1.0f / k;
  if (ms_engine_state_wants (st, MS_OBS_READ))
    ms_engine_state_offer (st, MS_OBS_READ, 0, read_attn, 3, 1, n, k);
  for (int i = 0; i < k; i++)
    {
      float *row = write_attn + (size_t) i * (1 + n);
      row[0] = w->write_weight[i];
      for (int j = 0; j < n; j++)
        row[1 + j] = (1.0f - w->write_weight[i]) / n;
    }
  if (ms_engine_state_wants (st, MS_OBS_WRITE))
    ms_engine_state_offer (st, MS_OBS_WRITE, -1, write_attn, 3, 1, k, 1 + n);
  for (int i = 0; i < k; i++)
    for (int j = 0; j < d; j++)
      {
        float *m = &st->memory[(size_t) i * d + j];
        *m = w->write_weight[i] * *m + (1.0f - w->write_weight[i]) * mean[j];
      }
  for (int i = 0; i < n; i++)
    nll[i] = tokens[i] / 256.0f;
  st->carry_rows = 1;
  st->carry_token = tokens[n - 1];
}

static const MsAttentionLayout toy_attention[] = {
  { .kind = MS_OBS_READ, .name = "toy_read", .display_name = "Toy read attention", .role = MS_ATTENTION_READ,
    .n_layers = test_engine_one_layer,
    .n_row_blocks = 1, .rows = { { "tokens", MS_BLOCK_TOKENS, FALSE } },
    .n_col_blocks = 1, .cols = { { "slots", MS_BLOCK_SLOTS, TRUE } } },
  { .kind = MS_OBS_WRITE, .name = "toy_write", .display_name = "Toy write attention", .role = MS_ATTENTION_WRITE,
    .n_row_blocks = 1, .rows = { { "slots", MS_BLOCK_SLOTS, FALSE } },
    .n_col_blocks = 2, .cols = { { "self", MS_BLOCK_SELF, TRUE }, { "tokens", MS_BLOCK_TOKENS, FALSE } } },
};

static const MsEngine toy_engine = {
  .name = "toy",
  .display_name = "Toy",
  .slots_key = "n_slots",
  .parse_config = toy_parse_config,
  .describe_config = test_engine_describe_config,
  .weights_size = sizeof (ToyWeights),
  .bind = toy_bind,
  .count_weights = toy_count_weights,
  .sizes = toy_sizes,
  .scratch_new = toy_scratch_new,
  .scratch_free = test_engine_scratch_free,
  .initial_memory = test_engine_initial_memory,
  .step = toy_step,
  .attention = toy_attention,
  .n_attention = G_N_ELEMENTS (toy_attention),
};

/* ---- files ------------------------------------------------------------ */

typedef struct {
  char *dir;
  char *model_path;
  char *input_path;
  char *db_path;
  guint8 text[5 * L + 3];     /* five full segments and a short one */
} Files;

static void
files_init (Files *f)
{
  f->dir = g_dir_make_tmp ("memscope-toy-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->model_path = g_build_filename (f->dir, "toy.safetensors", NULL);
  f->input_path = g_build_filename (f->dir, "input.txt", NULL);
  f->db_path = g_build_filename (f->dir, "toy.memscope", NULL);

  float memory[K * D], embed[V * D];
  for (int i = 0; i < K * D; i++)
    memory[i] = (float) (i % 5) - 2.0f;
  for (int i = 0; i < V * D; i++)
    embed[i] = (float) ((i * 37) % 11) / 11.0f;
  MsTensorOut t[3] = {
    { "toy.memory", 2, { K, D }, memory },
    { "toy.embed", 2, { V, D }, embed },
    { "toy.write_weight", 1, { K }, write_weight },
  };
  test_engine_write_model (f->model_path, "toy", V, D, L, K, t, G_N_ELEMENTS (t));

  for (guint i = 0; i < sizeof f->text; i++)
    f->text[i] = (guint8) ('a' + (i * 7) % 26);
  g_assert_true (g_file_set_contents (f->input_path, (const char *) f->text, sizeof f->text, NULL));
}

static void
files_clear (Files *f)
{
  test_dir_remove (f->dir);
  g_free (f->dir), g_free (f->model_path), g_free (f->input_path), g_free (f->db_path);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_register (void)
{
  g_assert_true (ms_engine_lookup ("toy") == &toy_engine);
  g_assert_false (ms_engine_register (&toy_engine));          /* the name is taken */
  MsEngine clash = toy_engine;
  clash.name = "toy-2";
  g_assert_false (ms_engine_register (&clash));               /* so are its attention names */
  MsEngine no_step = toy_engine;
  no_step.name = "toy-3";
  no_step.n_attention = 0;
  no_step.step = NULL;
  g_assert_false (ms_engine_register (&no_step));             /* an engine must step */
  g_assert_null (ms_engine_lookup ("toy-3"));
  g_autofree const MsEngine **all = ms_engine_list ();
  int n = 0;
  while (all[n])
    n++;
  g_assert_true (all[n - 1] == &toy_engine);

  const MsAttentionLayout *w = ms_engine_find_attention_by_role (&toy_engine, MS_ATTENTION_WRITE);
  MsConfig c = { .engine = &toy_engine, .n_heads = 1, .n_slots = K, .segment_len = L };
  int heads, rows, cols, offset;
  ms_attention_layout_shape (w, &c, 5, &heads, &rows, &cols);
  g_assert_cmpint (heads, ==, 1);
  g_assert_cmpint (rows, ==, K);
  g_assert_cmpint (cols, ==, 6);
  g_assert_cmpint (ms_attention_layout_column_block (w, &c, 5, 0, &offset), ==, 0);
  g_assert_cmpint (ms_attention_layout_column_block (w, &c, 5, 4, &offset), ==, 1);
  g_assert_cmpint (offset, ==, 3);
  g_assert_cmpint (ms_attention_layout_column_block (w, &c, 5, 6, NULL), ==, -1);
  g_assert_true (ms_attention_layout_transfer_is_diagonal (w));
}

static void
test_session (void)
{
  Files f;
  files_init (&f);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsModel) model = ms_model_load (f.model_path, &error);
  g_assert_no_error (error);
  const MsConfig *c = ms_model_get_config (model);
  g_assert_true (c->engine == &toy_engine);
  g_assert_cmpstr (ms_config_get_arch (c), ==, "toy");
  g_assert_cmpuint (ms_model_get_n_params (model), ==, K * D + V * D + K);
  /* the loader's estimate is the toy's sizes: memory, NLL, carry, scratch */
  g_assert_cmpfloat (ms_engine_footprint (c), ==, 4.0 * (K * D + L + 1 + D + K * (1 + L) + L * K));

  g_autoptr (MsSession) s = ms_session_new (model);
  float expected[K * D];
  memcpy (expected, ms_session_get_memory (s), sizeof expected);
  float nll[L];
  for (int t = 0; t < 3; t++)
    {
      const guint8 *x = f.text + t * L;
      int32_t tokens[L];
      float mean[D] = { 0 };
      for (int i = 0; i < L; i++)
        tokens[i] = x[i];
      g_assert_true (ms_session_step (s, tokens, L, nll, &error));
      for (int j = 0; j < D; j++)
        {
          double sum = 0;
          for (int i = 0; i < L; i++)
            sum += (float) ((x[i] * D + j) * 37 % 11) / 11.0f;
          mean[j] = (float) (sum / L);
        }
      for (int i = 0; i < K; i++)
        for (int j = 0; j < D; j++)
          expected[i * D + j] = write_weight[i] * expected[i * D + j] + (1.0f - write_weight[i]) * mean[j];
      for (int i = 0; i < L; i++)
        g_assert_cmpfloat (nll[i], ==, x[i] / 256.0f);
      for (int i = 0; i < K * D; i++)
        g_assert_cmpfloat_with_epsilon (ms_session_get_memory (s)[i], expected[i], 1e-6);
    }

  /* a state file round trip through the engine's carry shape */
  g_autofree char *state = g_build_filename (f.dir, "state.safetensors", NULL);
  g_assert_true (ms_session_save_state (s, state, &error));
  g_autoptr (MsSession) back = ms_session_new (model);
  g_assert_true (ms_session_load_state (back, state, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ms_session_get_segment (back), ==, 3);
  g_assert_cmpmem (ms_session_get_memory (back), sizeof expected, ms_session_get_memory (s), sizeof expected);
  files_clear (&f);
}

/* The magic bytes of each format: what a viewer checks first. */
static void
assert_figure_file (const char *path, const char *ext)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, >, 200);
  if (g_str_equal (ext, "png"))
    g_assert_cmpmem (data, 8, "\x89PNG\r\n\x1a\n", 8);
  else if (g_str_equal (ext, "pdf"))
    {
      g_assert_cmpmem (data, 5, "%PDF-", 5);
      g_assert_nonnull (g_strstr_len (data + len - 32, 32, "%%EOF"));
    }
  else
    g_assert_nonnull (g_strstr_len (data, MIN (len, 1024), "<svg"));
}

static void
test_record_view_export (void)
{
  Files f;
  files_init (&f);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsModel) model = ms_model_load (f.model_path, &error);
  g_assert_no_error (error);
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_F32 };
  gint64 run = 0;
  g_assert_true (ms_record (f.db_path, model, f.input_path, &opts, 0, NULL, NULL, NULL, &run, &error));
  g_assert_no_error (error);
  const int S = 6;

  g_autoptr (MsRecording) rec = ms_recording_open (f.db_path, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run, &error);
  g_assert_no_error (error);
  g_assert_true (info->config.engine == &toy_engine);
  g_assert_cmpint (info->segments_done, ==, S);

  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  /* retention = the known write weights, every segment */
  g_autoptr (MsViewData) retention = ms_view_load (rec, run, MS_VIEW_RETENTION, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (retention->rows, ==, K);
  g_assert_cmpint (retention->cols, ==, S);
  for (int i = 0; i < K; i++)
    for (int t = 0; t < S; t++)
      g_assert_cmpfloat_with_epsilon (retention->values[i * S + t], write_weight[i], 1e-6);

  /* one slot of each type */
  g_autoptr (MsViewData) types = ms_view_load (rec, run, MS_VIEW_TYPES, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (types->rows, ==, 3);
  for (int k = 0; k < 3; k++)
    for (int t = 0; t < S; t++)
      g_assert_cmpfloat_with_epsilon (types->values[k * S + t], 1.0 / 3, 1e-6);

  /* the initial memory's share after segment t: mean_i w_i^(t+1) */
  g_autoptr (MsViewData) provenance = ms_view_load (rec, run, MS_VIEW_PROVENANCE, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (provenance->rows, ==, S + 1);
  g_assert_cmpint (provenance->cols, ==, S);
  for (int t = 0; t < S; t++)
    {
      double want = 0;
      for (int i = 0; i < K; i++)
        want += pow (write_weight[i], t + 1) / K;
      g_assert_cmpfloat_with_epsilon (provenance->values[t], want, 1e-5);
    }

  g_autoptr (MsViewData) similarity = ms_view_load (rec, run, MS_VIEW_SIMILARITY, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (similarity->rows, ==, S);
  g_assert_cmpint (similarity->cols, ==, S);

  /* read usage: n tokens × 1/K each; the short last segment has 3 (stored
   * as f16: within 2^-11 of it, ms-recording-names.h) */
  g_autoptr (MsViewData) usage = ms_view_load (rec, run, MS_VIEW_READ_USAGE, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (usage->rows, ==, K);
  g_assert_cmpint (usage->cols, ==, S);
  for (int t = 0; t < S; t++)
    g_assert_cmpfloat_with_epsilon (usage->values[t], (t < 5 ? L : 3) / (double) K, (t < 5 ? L : 3) / (double) K / 2048);

  /* one segment's attention, as the layouts lay it out */
  MsViewParams at = p;
  at.segment = 2;
  g_autoptr (MsViewData) read = ms_view_load (rec, run, MS_VIEW_READ, &at, &error);
  g_assert_no_error (error);
  g_assert_cmpint (read->rows, ==, L);
  g_assert_cmpint (read->cols, ==, K);
  g_autoptr (MsViewData) write = ms_view_load (rec, run, MS_VIEW_WRITE, &at, &error);
  g_assert_no_error (error);
  g_assert_cmpint (write->rows, ==, K);
  g_assert_cmpint (write->cols, ==, 1 + L);
  for (int i = 0; i < K; i++)
    {
      g_assert_cmpfloat (write->values[i * (1 + L)], ==, write_weight[i]);
      g_assert_cmpfloat_with_epsilon (write->values[i * (1 + L) + 1], (1.0f - write_weight[i]) / L, 1e-7);
    }
  /* the toy's layout reaches the figure's axis, its tooltips and the token colouring */
  g_assert_cmpint (write->x.n_blocks, ==, 2);
  g_assert_cmpstr (write->x.blocks[0].name, ==, "self");
  g_assert_true (write->x.blocks[0].old_memory);
  g_assert_cmpstr (write->x.blocks[1].name, ==, "tokens");
  g_assert_cmpint (write->x.blocks[1].first, ==, 1);
  g_assert_cmpint (write->x.blocks[1].n, ==, L);
  g_autofree char *tip = ms_view_describe_cell (write, 1, 0);
  g_assert_nonnull (tip);
  g_assert_nonnull (strstr (tip, "self"));
  int n_tokens = 0;
  const char *what = NULL;
  g_autofree float *colour = ms_view_token_values (write, 1, &n_tokens, &what);
  g_assert_nonnull (colour);
  g_assert_cmpint (n_tokens, ==, L);
  for (int j = 0; j < L; j++)
    g_assert_cmpfloat_with_epsilon (colour[j], (1.0f - write_weight[1]) / L, 1e-7);

  /* NLL: the rule, per segment */
  g_autoptr (MsViewData) nll = ms_view_load (rec, run, MS_VIEW_NLL, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (nll->cols, ==, S);
  for (int t = 0; t < S; t++)
    {
      int n = t < 5 ? L : 3;
      double sum = 0;
      for (int i = 0; i < n; i++)
        sum += f.text[t * L + i] / 256.0f;
      g_assert_cmpfloat_with_epsilon (nll->values[t], sum / n, 1e-6);
    }

  /* every view kind loads and exports in every format */
  static const char *const formats[] = { "png", "svg", "pdf" };
  for (int kind = 0; kind < MS_VIEW_N_KINDS; kind++)
    {
      g_autoptr (MsViewData) v = ms_view_load (rec, run, (MsViewKind) kind, &at, &error);
      g_assert_no_error (error);
      g_autoptr (MsViewFigure) fig = ms_view_figure_new (v, MS_COLORMAP_VIRIDIS, NULL, &error);
      g_assert_no_error (error);
      for (guint k = 0; k < G_N_ELEMENTS (formats); k++)
        {
          g_autofree char *name = g_strdup_printf ("%s.%s", ms_view_kind_name ((MsViewKind) kind), formats[k]);
          g_autofree char *path = g_build_filename (f.dir, name, NULL);
          g_assert_true (ms_figure_export (path, 3.5, 2.6, 100, ms_view_figure_draw, fig, &error));
          g_assert_no_error (error);
          assert_figure_file (path, formats[k]);
        }
    }
  files_clear (&f);
}

/* The built-in engines' layouts and configuration, through the same API. */
static void
test_builtin (void)
{
  g_autoptr (GError) error = NULL;
  MsConfig rmt, mf;
  g_assert_true (ms_config_parse (&rmt, "rmt", "{\"vocab_size\": 256, \"d_model\": 8, \"n_heads\": 2, \"d_ff\": 16, "
                                  "\"segment_len\": 4, \"n_mem\": 2, \"n_layers\": 3, \"n_positions\": 8}", "rmt.json",
                                  &error));
  g_assert_no_error (error);
  g_assert_true (ms_config_parse (&mf, "memformer", "{\"vocab_size\": 256, \"d_model\": 8, \"n_heads\": 2, "
                                  "\"d_ff\": 16, \"segment_len\": 4, \"n_slots\": 5, \"n_enc_layers\": 2, "
                                  "\"n_dec_layers\": 1}", "mf.json", &error));
  g_assert_no_error (error);

  /* RMT write rows, m = 2, n = 3: [read block 0–1 | tokens 2–4 | write block 5–6] */
  const MsAttentionLayout *w = ms_engine_find_attention_by_role (rmt.engine, MS_ATTENTION_WRITE);
  int heads, rows, cols, offset;
  ms_attention_layout_shape (w, &rmt, 3, &heads, &rows, &cols);
  g_assert_cmpint (heads, ==, 2);
  g_assert_cmpint (rows, ==, 2);
  g_assert_cmpint (cols, ==, 7);
  g_assert_cmpint (ms_attention_layout_column_block (w, &rmt, 3, 4, &offset), ==, 1);
  g_assert_cmpint (offset, ==, 2);
  g_assert_cmpint (ms_attention_layout_column_block (w, &rmt, 3, 5, &offset), ==, 2);
  g_assert_cmpint (offset, ==, 0);
  g_assert_cmpint (ms_attention_layout_column_start (w, &rmt, 3, 2), ==, 5);
  g_assert_true (w->cols[0].old_memory && !w->cols[1].old_memory && w->cols[2].old_memory);
  g_assert_false (ms_attention_layout_transfer_is_diagonal (w));
  g_assert_cmpint (ms_attention_layout_last_layer (w, &rmt), ==, 2);
  const MsAttentionLayout *r = ms_engine_find_attention (rmt.engine, MS_OBS_READ);
  ms_attention_layout_shape (r, &rmt, 3, NULL, &rows, &cols);
  g_assert_cmpint (rows, ==, 3);
  g_assert_cmpint (cols, ==, 2);
  g_assert_cmpint (ms_attention_layout_n_layers (r, &rmt), ==, 3);

  /* Memformer: the writer [self | tokens] once per segment, the reader per encoder layer */
  w = ms_engine_find_attention (mf.engine, MS_OBS_WRITE);
  ms_attention_layout_shape (w, &mf, 4, NULL, &rows, &cols);
  g_assert_cmpint (rows, ==, 5);
  g_assert_cmpint (cols, ==, 5);
  g_assert_false (ms_attention_layout_is_per_layer (w));
  g_assert_cmpint (ms_attention_layout_last_layer (w, &mf), ==, -1);
  g_assert_true (ms_attention_layout_transfer_is_diagonal (w));
  g_assert_cmpint (ms_attention_layout_n_layers (ms_engine_find_attention (mf.engine, MS_OBS_READ), &mf), ==, 2);
  g_assert_cmpint (mf.engine->logits_shift, ==, 0);
  g_assert_cmpint (rmt.engine->logits_shift, ==, 1);

  /* what `memscope-cli info` prints */
  MsConfigRow rowsv[MS_CONFIG_MAX_ROWS];
  guint n = ms_config_describe (&rmt, rowsv);
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *v = ms_config_row_format (&rowsv[i]);
      g_string_append_printf (text, "%s=%s ", rowsv[i].key, v);
    }
  g_assert_cmpstr (text->str, ==, "vocab_size=256 d_model=8 n_heads=2 d_ff=16 segment_len=4 n_slots=2 n_layers=3 "
                                  "n_positions=8 mask=causal ");

  /* the parser names every engine the table holds, the toy too */
  MsConfig bad;
  g_assert_false (ms_config_parse (&bad, "gpt", "{}", "x.safetensors", &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_MODEL);
  g_assert_nonnull (strstr (error->message, "\"memformer\", \"rmt\", \"membart\" or \"toy\""));
  g_clear_error (&error);
  g_assert_false (ms_config_parse (&bad, "rmt", "{\"vocab_size\": 256, \"d_model\": 8, \"n_heads\": 2, "
                                   "\"d_ff\": 16, \"segment_len\": 4, \"n_mem\": 2, \"n_layers\": 3, "
                                   "\"n_positions\": 7}", "small.json", &error));
  g_assert_nonnull (strstr (error->message, "n_positions 7"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_true (ms_engine_register (&toy_engine));
  g_test_add_func ("/toy-engine/builtin", test_builtin);
  g_test_add_func ("/toy-engine/register", test_register);
  g_test_add_func ("/toy-engine/session", test_session);
  g_test_add_func ("/toy-engine/record-view-export", test_record_view_export);
  return g_test_run ();
}
