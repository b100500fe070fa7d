/* test-period-engine.c — the "period6" engine and its recordings (see
 * test-period-engine.h). */
#include "test-period-engine.h"

#include "ms-engine.h"
#include "ms-safetensors.h"
#include "test-util.h"

#define V 256

const float PERIOD_PATTERN[6] = { 0.1f, 0.9f, 0.35f, 0.8f, 0.05f, 0.6f };

float
period_retention_at (int segment, int slot)
{
  return PERIOD_PATTERN[(segment + slot) % 6];
}

/* Scratch buffers: WRITE (1, K, 1+L), READ (1, L, K). */
enum { WRITE, READ, N_SCRATCH };

static gboolean
period_parse_config (MsConfig *c, MsConfigReader *r, GError **error)
{
  return TRUE;
}

static void
period_bind (MsBinder *b, const MsConfig *c, gpointer weights)
{
  test_engine_bind (b, c, weights, "period");
}

static void
period_sizes (const MsConfig *c, MsEngineSizes *sz)
{
  test_engine_sizes (sz, N_SCRATCH);
  sz->scratch[WRITE] = (double) c->n_slots * (1 + c->segment_len);
  sz->scratch[READ] = (double) c->segment_len * c->n_slots;
}

static gpointer
period_scratch_new (const MsConfig *c)
{
  return test_engine_scratch_new (period_sizes, c);
}

static void
period_step (const MsModel *model, MsEngineState *st, const int32_t *tokens, int n, float *nll)
{
  const MsConfig *c = ms_model_get_config (model);
  const TestEngineWeights *w = ms_model_get_weights (model);
  float **sc = ((TestEngineScratch *) st->scratch)->buf;
  int k = c->n_slots, d = c->d_model;
  for (int i = 0; i < n * k; i++)
    sc[READ][i] = 1.0f / k;
  if (ms_engine_state_wants (st, MS_OBS_READ))
    ms_engine_state_offer (st, MS_OBS_READ, 0, sc[READ], 3, 1, n, k);
  for (int i = 0; i < k; i++)
    {
      float r = period_retention_at (st->segment, i), *row = sc[WRITE] + (size_t) i * (1 + n);
      row[0] = r;
      for (int j = 0; j < n; j++)
        row[1 + j] = (1.0f - r) / n;
      for (int j = 0; j < d; j++)
        {
          double e = 0;
          for (int x = 0; x < n; x++)
            e += w->embed[(size_t) tokens[x] * d + j] / n;
          st->memory[(size_t) i * d + j] = r * st->memory[(size_t) i * d + j] + (1.0f - r) * (float) e;
        }
    }
  if (ms_engine_state_wants (st, MS_OBS_WRITE))
    ms_engine_state_offer (st, MS_OBS_WRITE, -1, sc[WRITE], 3, 1, k, 1 + n);
  for (int i = 0; i < n; i++)
    nll[i] = tokens[i] / 256.0f;
  st->carry_rows = 1;
  st->carry_token = tokens[n - 1];
}

static const MsAttentionLayout period_attention[] = {
  { .kind = MS_OBS_READ, .name = "period_read", .display_name = "Period read attention", .role = MS_ATTENTION_READ,
    .n_layers = test_engine_one_layer,
    .n_row_blocks = 1, .rows = { { "tokens", MS_BLOCK_TOKENS, FALSE } },
    .n_col_blocks = 1, .cols = { { "slots", MS_BLOCK_SLOTS, TRUE } } },
  { .kind = MS_OBS_WRITE, .name = "period_write", .display_name = "Period write attention",
    .role = MS_ATTENTION_WRITE,
    .n_row_blocks = 1, .rows = { { "slots", MS_BLOCK_SLOTS, FALSE } },
    .n_col_blocks = 2, .cols = { { "self", MS_BLOCK_SELF, TRUE }, { "tokens", MS_BLOCK_TOKENS, FALSE } } },
};

static const MsEngine period_engine = {
  .name = "period6",
  .display_name = "Period-6 toy",
  .slots_key = "n_slots",
  .parse_config = period_parse_config,
  .describe_config = test_engine_describe_config,
  .weights_size = sizeof (TestEngineWeights),
  .bind = period_bind,
  .count_weights = test_engine_count_weights,
  .sizes = period_sizes,
  .scratch_new = period_scratch_new,
  .scratch_free = test_engine_scratch_free,
  .initial_memory = test_engine_initial_memory,
  .step = period_step,
  .attention = period_attention,
  .n_attention = G_N_ELEMENTS (period_attention),
};

void
period_engine_register (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      g_assert_true (ms_engine_register (&period_engine));
      g_once_init_leave (&done, 1);
    }
}

void
period_model_write (const char *path)
{
  float memory[PERIOD_K * PERIOD_D], embed[V * PERIOD_D];
  for (int i = 0; i < PERIOD_K * PERIOD_D; i++)
    memory[i] = (float) (i % 3) - 1.0f + 0.25f * i;
  for (int i = 0; i < V * PERIOD_D; i++)
    embed[i] = (float) ((i * 37) % 11) / 11.0f - 0.4f;
  MsTensorOut t[2] = {
    { "period.memory", 2, { PERIOD_K, PERIOD_D }, memory },
    { "period.embed", 2, { V, PERIOD_D }, embed },
  };
  test_engine_write_model (path, "period6", V, PERIOD_D, PERIOD_L, PERIOD_K, t, G_N_ELEMENTS (t));
}

MsRecording *
period_record (const char *dir, const char *model_path, int n_segments, MsAttnStore attn)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("in-%d.txt", n_segments);
  g_autofree char *input = g_build_filename (dir, name, NULL);
  g_autofree guint8 *text = g_new (guint8, n_segments * PERIOD_L);
  for (int i = 0; i < n_segments * PERIOD_L; i++)
    text[i] = (guint8) ('a' + (i * 7) % 26);
  g_assert_true (g_file_set_contents (input, (const char *) text, n_segments * PERIOD_L, NULL));
  g_autofree char *db_name = g_strdup_printf ("run-%d.memscope", n_segments);
  g_autofree char *db = g_build_filename (dir, db_name, NULL);
  g_autoptr (MsModel) model = ms_model_load (model_path, &error);
  g_assert_no_error (error);
  MsRecordOptions opts = { .attn = attn };
  gint64 run = 0;
  g_assert_true (ms_record (db, model, input, &opts, 0, NULL, NULL, NULL, &run, &error));
  g_assert_no_error (error);
  g_assert_cmpint (run, ==, 1);
  MsRecording *rec = ms_recording_open (db, &error);
  g_assert_no_error (error);
  return rec;
}
