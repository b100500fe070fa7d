/* ms-import-write.c — writing the imported model as one Memscope file:
 * memscope.config from config.json, the tokenizer embedded, every tensor
 * converted to f32 (ms-import-private.h). */
#include "ms-import-private.h"
#include "ms-error.h"
#include "ms-json.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* ---- writing ---------------------------------------------------------------- */

/* MemBART's memscope.config: config.json's keys the engine reads. */
static void
membart_config (const MsImport *im, JsonBuilder *b)
{
  const struct { const char *key; int value; } ints[] = {
    { "bos_token_id", im->bos_token_id }, { "d_model", im->d }, { "decoder_attention_heads", im->dec_heads },
    { "decoder_ffn_dim", im->dec_ff }, { "decoder_layers", im->dec_layers },
    { "encoder_attention_heads", im->n_heads }, { "encoder_ffn_dim", im->d_ff }, { "encoder_layers", im->n_layers },
    { "max_position_embeddings", im->n_positions }, { "memory_len", im->m }, { "segment_len", im->opt->segment_len },
    { "vocab_size", im->vocab_size },
  };
  json_builder_set_member_name (b, "activation_function");
  json_builder_add_string_value (b, "gelu");
  for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      json_builder_set_member_name (b, ints[i].key);
      json_builder_add_int_value (b, ints[i].value);
    }
  json_builder_set_member_name (b, "scale_embedding");
  json_builder_add_boolean_value (b, im->scale_embedding);
}

static char *
config_json (const MsImport *im)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (im->membart)
    {
      membart_config (im, b);
      json_builder_end_object (b);
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      return json_generator_to_data (gen, NULL);
    }
  const struct { const char *key; int value; } ints[] = {
    { "d_ff", im->d_ff }, { "d_model", im->d }, { "n_heads", im->n_heads }, { "n_layers", im->n_layers },
    { "n_mem", im->m }, { "n_positions", im->n_positions }, { "segment_len", im->opt->segment_len },
    { "vocab_size", im->vocab_size },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      json_builder_set_member_name (b, ints[i].key);
      json_builder_add_int_value (b, ints[i].value);
    }
  json_builder_set_member_name (b, "mask");
  json_builder_add_string_value (b, im->opt->mask ? im->opt->mask : "causal");
  json_builder_end_object (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static int
compare_names (gconstpointer a, gconstpointer b, gpointer unused)
{
  (void) unused;
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static char *
dtypes_string (const MsImport *im)
{
  guint n = 0;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (im->dtypes_seen, &n);
  g_qsort_with_data (keys, n, sizeof *keys, compare_names, NULL);
  return g_strjoinv ("+", (char **) keys);
}

/* Writes the model to @path; the summary names it @shown. */
gboolean
ms_import_write_model (MsImport *im, const char *path, const char *shown, GString *summary, GError **error)
{
  g_autoptr (GPtrArray) names = ms_import_expected_names (im);
  g_autofree MsTensorOut *out = g_new0 (MsTensorOut, names->len);
  g_autoptr (GPtrArray) buffers = g_ptr_array_new_with_free_func (g_free);
  size_t n_params = 0, n_bad = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const MsImportTensor *f = g_hash_table_lookup (im->found, names->pdata[i]);
      const MsTensorInfo *t = f->info;
      float *data = g_try_new (float, MAX (t->n_elements, 1));
      if (!data)
        return ms_import_error (error, "%s: cannot allocate memory to convert tensor %s", im->checkpoint,
                                (const char *) names->pdata[i]);
      g_ptr_array_add (buffers, data);
      n_bad += ms_tensor_info_to_f32 (t, data);
      ms_safetensors_release (f->shard, t, 0, t->n_elements);   /* the mapped bytes and the copy are not both kept */
      n_params += t->n_elements;
      out[i].name = names->pdata[i];
      out[i].n_dims = t->n_dims;
      memcpy (out[i].shape, t->shape, sizeof out[i].shape);
      out[i].data = data;
    }
  g_autofree char *config = config_json (im);
  g_autofree char *tokenizer = ms_tokenizer_get_kind (im->tokenizer) == MS_TOKENIZER_BYTES
                                 ? g_strdup ("bytes") : ms_tokenizer_to_json (im->tokenizer);
  g_autofree char *base = g_path_get_basename (im->checkpoint);
  g_autofree char *dtypes = dtypes_string (im);
  g_autofree char *source = im->membart
    ? g_strdup_printf ("memscope-cli import of %s: a MemBART (qywu/memformers layout, %s weights, embeddings and LM "
                       "head tied to shared.weight); segment_len %d given to the import", base, dtypes,
                       im->opt->segment_len)
    : g_strdup_printf (
    "memscope-cli import of %s: a GPT-2 Recurrent Memory Transformer (booydar/recurrent-memory-transformer "
    "layout, %s weights, LM head %s); segment_len %d and mask %s given to the import", base, dtypes,
    im->lm_head.info ? "present and equal to wte" : "tied, absent", im->opt->segment_len,
    im->opt->mask ? im->opt->mask : "causal");
  const char *metadata[] = { "memscope.format", "1", "memscope.arch", im->membart ? "membart" : "rmt",
                             "memscope.config", config,
                             "memscope.tokenizer", tokenizer, "memscope.source", source, NULL };
  if (!ms_safetensors_write (path, out, names->len, metadata, error))
    return FALSE;
  g_string_append_printf (summary, "%s -> %s\n", im->checkpoint, shown);
  g_string_append_printf (summary, "weights: %s (%s), %zu parameters in %u tensors; dropped %d attention buffers; "
                          "LM head %s\n", im->weights_what, dtypes, n_params, names->len, im->n_dropped,
                          im->lm_head.info ? "present and equal to the token embedding" : "absent (tied)");
  g_string_append_printf (summary, "config: %s\n", config);
  g_string_append_printf (summary, "tokenizer: %s, %d ids%s\n", ms_tokenizer_get_kind_name (im->tokenizer),
                          ms_tokenizer_get_vocab_size (im->tokenizer),
                          im->opt->tokenizer ? "" : " (from the checkpoint's folder)");
  if (n_bad)
    g_string_append_printf (summary, "warning: %zu weights are NaN or infinite\n", n_bad);
  return TRUE;
}
