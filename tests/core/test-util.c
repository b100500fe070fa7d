/* test-util.c — helpers several core tests share (see test-util.h). */
#include "test-util.h"

#include <glib/gstdio.h>
#include <string.h>

void
test_dir_remove (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  for (const char *name; d && (name = g_dir_read_name (d));)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

void
test_engine_bind (MsBinder *b, const MsConfig *c, TestEngineWeights *w, const char *prefix)
{
  ms_binder_add (b, &w->memory, 2, (int[]) { c->n_slots, c->d_model }, "%s.memory", prefix);
  ms_binder_add (b, &w->embed, 2, (int[]) { c->vocab_size, c->d_model }, "%s.embed", prefix);
}

void
test_engine_count_weights (const MsConfig *c, MsCount *n_tensors, MsCount *n_params)
{
  ms_count_add (n_tensors, 2, 1, 1);
  ms_count_add (n_params, (guint64) c->n_slots + (guint64) c->vocab_size, c->d_model, 1);
}

void
test_engine_initial_memory (const MsModel *model, float *memory)
{
  const MsConfig *c = ms_model_get_config (model);
  const TestEngineWeights *w = ms_model_get_weights (model);
  memcpy (memory, w->memory, (size_t) c->n_slots * c->d_model * sizeof (float));
}

guint
test_engine_describe_config (const MsConfig *c, MsConfigRow *rows)
{
  return 0;
}

int
test_engine_one_layer (const MsConfig *c)
{
  return 1;
}

void
test_engine_sizes (MsEngineSizes *sz, int n_scratch)
{
  g_assert (n_scratch <= MS_ENGINE_MAX_SCRATCH);
  sz->carry_rows = 1;
  sz->carry_cols = 1;
  sz->n_scratch = n_scratch;
}

TestEngineScratch *
test_engine_scratch_new (void (*sizes) (const MsConfig *c, MsEngineSizes *sz), const MsConfig *c)
{
  MsEngineSizes sz = { 0 };
  sizes (c, &sz);
  TestEngineScratch *sc = g_new0 (TestEngineScratch, 1);
  sc->n = sz.n_scratch;
  for (int i = 0; i < sc->n; i++)
    sc->buf[i] = ms_engine_scratch_alloc (&sz, i);
  return sc;
}

void
test_engine_scratch_free (gpointer scratch)
{
  TestEngineScratch *sc = scratch;
  for (int i = 0; i < sc->n; i++)
    g_free (sc->buf[i]);
  g_free (sc);
}

void
test_engine_write_model (const char *path, const char *arch, int vocab_size, int d_model, int segment_len,
                         int n_slots, const MsTensorOut *tensors, guint n_tensors)
{
  g_autofree char *config = g_strdup_printf ("{\"vocab_size\": %d, \"d_model\": %d, \"n_heads\": 1, \"d_ff\": 1, "
                                             "\"segment_len\": %d, \"n_slots\": %d}",
                                             vocab_size, d_model, segment_len, n_slots);
  g_autofree char *source = g_strdup_printf ("the %s engine of a core test", arch);
  const char *meta[] = { "memscope.format", "1", "memscope.arch", arch, "memscope.config", config,
                         "memscope.tokenizer", "bytes", "memscope.source", source, NULL };
  g_autoptr (GError) error = NULL;
  g_assert_true (ms_safetensors_write (path, tensors, n_tensors, meta, &error));
  g_assert_no_error (error);
}
