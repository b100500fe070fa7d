/* ms-import-checkpoint.c — reading a checkpoint (ms-import-private.h):
 * its config.json (GPT-2 or MemBART settings, size- and shape-checked
 * before parsing) and its weight files, single or sharded by an index,
 * refusing PyTorch pickles and unmerged LoRA adapters with what to do
 * instead. */
#include "ms-import-private.h"
#include "ms-error.h"
#include "ms-json.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* ---- reading JSON files ------------------------------------------------ */

/* The root object of the JSON file @path, read only when it is at most
 * @max_bytes and passes ms_json_check_shape; owned by @parser. */
static JsonObject *
read_json_object (const char *path, guint64 max_bytes, int max_depth, guint64 max_values, JsonParser *parser,
                  GError **error)
{
  GStatBuf sb;
  if (g_stat (path, &sb) != 0 || !S_ISREG (sb.st_mode))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read: not a regular file", path);
      return NULL;
    }
  if ((guint64) sb.st_size > max_bytes)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: %" G_GUINT64_FORMAT " bytes; a file of this kind is at "
                   "most %" G_GUINT64_FORMAT " bytes", path, (guint64) sb.st_size, max_bytes);
      return NULL;
    }
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) io_error = NULL;
  if (!g_file_get_contents (path, &text, &len, &io_error))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read: %s", path, io_error->message);
      return NULL;
    }
  if (len > max_bytes)   /* it grew since the stat */
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: more than %" G_GUINT64_FORMAT " bytes", path, max_bytes);
      return NULL;
    }
  if (!ms_json_check_shape (text, (gssize) len, max_depth, max_values, path, "the JSON", error))
    return NULL;
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, text, (gssize) len, &json_error))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: not valid JSON: %s", path, json_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: expected a JSON object", path);
      return NULL;
    }
  return json_node_get_object (root);
}

/* The string member @key of @o, or NULL when absent or not a string. */
static const char *
member_string (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n)
                                                                                       : NULL;
}

/* Reads the integer member @key of config.json into @out (left alone when
 * absent and not @required; null counts as absent). */
static gboolean
config_int (MsImport *im, JsonObject *o, const char *key, int min, int max, gboolean required, int *out,
            GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n || JSON_NODE_HOLDS_NULL (n))
    {
      if (!required)
        return TRUE;
      return ms_import_error (error, "%s: \"%s\" is missing; a GPT-2 config.json has it", im->config_path, key);
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < min || json_node_get_int (n) > max)
    return ms_import_error (error, "%s: \"%s\" must be an integer from %d to %d", im->config_path, key, min, max);
  *out = (int) json_node_get_int (n);
  return TRUE;
}

/* A boolean member of config.json that must have the value GPT-2 as
 * Memscope computes it has (@want) when present; @what says what the
 * other value would mean. */
static gboolean
config_bool_is (MsImport *im, JsonObject *o, const char *key, gboolean want, const char *what, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return ms_import_error (error, "%s: \"%s\" must be true or false", im->config_path, key);
  if (!json_node_get_boolean (n) != !want)
    return ms_import_error (error, "%s: \"%s\" is %s: %s, which Memscope's RMT (GPT-2 blocks as DESIGN §3.2) does not "
                            "compute", im->config_path, key, want ? "false" : "true", what);
  return TRUE;
}

/* What a model_type other than gpt2 is, for the refusal. */
static const char *
backbone_name (const char *model_type)
{
  static const struct { const char *type, *name; } known[] = {
    { "llama", "a Llama backbone" }, { "mistral", "a Mistral (Llama-family) backbone" },
    { "mixtral", "a Mixtral (Llama-family) backbone" }, { "qwen2", "a Qwen2 (Llama-family) backbone" },
    { "gemma", "a Gemma backbone" }, { "gpt_neox", "a GPT-NeoX (Pythia) backbone" },
    { "gptj", "a GPT-J backbone" }, { "gpt_neo", "a GPT-Neo backbone" }, { "opt", "an OPT backbone" },
    { "bart", "a BART encoder-decoder" }, { "t5", "a T5 encoder-decoder" }, { "bert", "a BERT encoder" },
    { "roberta", "a RoBERTa encoder" }, { "phi", "a Phi backbone" }, { "mamba", "a Mamba state-space model" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_str_equal (model_type, known[i].type))
      return known[i].name;
  return "a backbone Memscope has no engine for";
}

/* config.json of a MemBART (qywu/memformers' MemBartConfig, model_type
 * "bart" with memory_len): the keys the engine needs, under the same names
 * in memscope.config. */
static gboolean
read_membart_config (MsImport *im, JsonObject *o, GError **error)
{
  im->membart = TRUE;
  im->bos_token_id = 0;
  if (!config_int (im, o, "vocab_size", 1, MS_TOKENIZER_MAX_VOCAB, TRUE, &im->vocab_size, error)
      || !config_int (im, o, "d_model", 1, MAX_WIDTH, TRUE, &im->d, error)
      || !config_int (im, o, "encoder_attention_heads", 1, MAX_WIDTH, TRUE, &im->n_heads, error)
      || !config_int (im, o, "decoder_attention_heads", 1, MAX_WIDTH, TRUE, &im->dec_heads, error)
      || !config_int (im, o, "encoder_layers", 1, MAX_LAYERS, TRUE, &im->n_layers, error)
      || !config_int (im, o, "decoder_layers", 1, MAX_LAYERS, TRUE, &im->dec_layers, error)
      || !config_int (im, o, "encoder_ffn_dim", 1, 4 * MAX_WIDTH, TRUE, &im->d_ff, error)
      || !config_int (im, o, "decoder_ffn_dim", 1, 4 * MAX_WIDTH, TRUE, &im->dec_ff, error)
      || !config_int (im, o, "max_position_embeddings", 1, MAX_POSITIONS, TRUE, &im->n_positions, error)
      || !config_int (im, o, "memory_len", 1, MAX_POSITIONS, TRUE, &im->m, error)
      || !config_int (im, o, "bos_token_id", 0, MS_TOKENIZER_MAX_VOCAB, FALSE, &im->bos_token_id, error))
    return FALSE;
  if (im->d % im->n_heads != 0 || im->d % im->dec_heads != 0)
    return ms_import_error (error, "%s: d_model %d is not a multiple of encoder_attention_heads %d and "
                            "decoder_attention_heads %d", im->config_path, im->d, im->n_heads, im->dec_heads);
  if (im->bos_token_id >= im->vocab_size)
    return ms_import_error (error, "%s: bos_token_id %d is outside the vocabulary (vocab_size %d)", im->config_path,
                            im->bos_token_id, im->vocab_size);
  const char *act = member_string (o, "activation_function");
  if (json_object_has_member (o, "activation_function") && !(act && g_str_equal (act, "gelu")))
    {
      g_autofree char *shown = act ? g_utf8_make_valid (act, -1) : g_strdup ("(not a string)");
      return ms_import_error (error, "%s: activation_function \"%s\" is not supported: Memscope's MemBART uses GELU "
                              "(\"gelu\", BART's)", im->config_path, shown);
    }
  JsonNode *scale = json_object_get_member (o, "scale_embedding");
  im->scale_embedding = scale && JSON_NODE_HOLDS_VALUE (scale) && json_node_get_value_type (scale) == G_TYPE_BOOLEAN
                        && json_node_get_boolean (scale);
  JsonNode *before = json_object_get_member (o, "normalize_before");
  if (before && JSON_NODE_HOLDS_VALUE (before) && json_node_get_value_type (before) == G_TYPE_BOOLEAN
      && json_node_get_boolean (before))
    return ms_import_error (error, "%s: normalize_before is true (pre-LN layers); BART and MemBART are post-LN, "
                            "which is "
                            "what Memscope computes", im->config_path);
  im->tie_word_embeddings = TRUE;
  return TRUE;
}

gboolean
ms_import_read_config (MsImport *im, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *o = read_json_object (im->config_path, MS_IMPORT_MAX_CONFIG_FILE, CONFIG_MAX_DEPTH, CONFIG_MAX_VALUES,
                                    parser, error);
  if (!o)
    return FALSE;
  const char *model_type = member_string (o, "model_type");
  if (model_type && g_str_equal (model_type, "bart") && json_object_has_member (o, "memory_len"))
    return read_membart_config (im, o, error);
  if (model_type && g_str_equal (model_type, "bart"))
    return ms_import_error (error, "%s: model_type \"bart\" without memory_len is a plain BART; Memscope imports the "
                            "memory-augmented MemBART of qywu/memformers (its config.json has memory_len) and "
                            "Recurrent "
                            "Memory Transformers on GPT-2", im->config_path);
  if (model_type && !g_str_equal (model_type, "gpt2"))
    {
      g_autofree char *shown = g_utf8_make_valid (model_type, -1);
      return ms_import_error (error, "%s: model_type \"%s\" is %s; Memscope imports Recurrent Memory Transformers on a "
                              "GPT-2 backbone (model_type "
                              "\"gpt2\", as booydar/recurrent-memory-transformer builds them) "
                              "and runs the Memformer and RMT architectures of DESIGN §3", im->config_path, shown,
                              backbone_name (model_type));
    }
  if (!model_type && !json_object_has_member (o, "n_embd"))
    return ms_import_error (error, "%s: neither \"model_type\" nor \"n_embd\": not the config.json of a GPT-2 model "
                            "(Memscope imports RMTs on a GPT-2 backbone)", im->config_path);

  im->d_ff = 0;
  if (!config_int (im, o, "vocab_size", 1, MS_TOKENIZER_MAX_VOCAB, TRUE, &im->vocab_size, error)
      || !config_int (im, o, "n_embd", 1, MAX_WIDTH, TRUE, &im->d, error)
      || !config_int (im, o, "n_head", 1, MAX_WIDTH, TRUE, &im->n_heads, error)
      || !config_int (im, o, "n_layer", 1, MAX_LAYERS, TRUE, &im->n_layers, error)
      || !config_int (im, o, "n_positions", 1, MAX_POSITIONS, TRUE, &im->n_positions, error)
      || !config_int (im, o, "n_inner", 1, 4 * MAX_WIDTH, FALSE, &im->d_ff, error))
    return FALSE;
  if (im->d_ff == 0)
    im->d_ff = 4 * im->d;   /* GPT-2's default when n_inner is null */
  if (im->d % im->n_heads != 0)
    return ms_import_error (error, "%s: n_embd %d is not a multiple of n_head %d", im->config_path, im->d, im->n_heads);

  const char *act = member_string (o, "activation_function");
  if (json_object_has_member (o, "activation_function")
      && (!act || !(g_str_equal (act, "gelu_new") || g_str_equal (act, "gelu_pytorch_tanh"))))
    {
      g_autofree char *shown = act ? g_utf8_make_valid (act, -1) : g_strdup ("(not a string)");
      return ms_import_error (error, "%s: activation_function \"%s\" is not supported: Memscope's GPT-2 blocks use the "
                              "tanh approximation of GELU (\"gelu_new\", GPT-2's own)", im->config_path, shown);
    }
  JsonNode *eps = json_object_get_member (o, "layer_norm_epsilon");
  if (eps && !JSON_NODE_HOLDS_NULL (eps))
    {
      GType t = JSON_NODE_HOLDS_VALUE (eps) ? json_node_get_value_type (eps) : G_TYPE_INVALID;
      double v = t == G_TYPE_DOUBLE ? json_node_get_double (eps) : t == G_TYPE_INT64 ? (double) json_node_get_int (eps)
                                                                                      : NAN;
      if (!(fabs (v - 1e-5) <= 1e-12))
        return ms_import_error (error, "%s: layer_norm_epsilon is not 1e-5: Memscope's LayerNorm uses GPT-2's 1e-5",
                                im->config_path);
    }
  im->tie_word_embeddings = TRUE;
  JsonNode *tie = json_object_get_member (o, "tie_word_embeddings");
  if (tie && JSON_NODE_HOLDS_VALUE (tie) && json_node_get_value_type (tie) == G_TYPE_BOOLEAN)
    im->tie_word_embeddings = json_node_get_boolean (tie);
  return config_bool_is (im, o, "scale_attn_weights", TRUE, "attention logits not divided by √d_h", error)
         && config_bool_is (im, o, "scale_attn_by_inverse_layer_idx", FALSE,
                            "attention logits also divided by the layer number", error)
         && config_bool_is (im, o, "add_cross_attention", FALSE, "cross-attention blocks (an encoder-decoder)", error);
}

/* ---- locating and opening the weight files ------------------------------ */

static gboolean
is_pickle_name (const char *name)
{
  return g_str_has_suffix (name, ".bin") || g_str_has_suffix (name, ".pt") || g_str_has_suffix (name, ".pth")
         || g_str_has_suffix (name, ".ckpt");
}

static gboolean
pickle_error (const char *path, GError **error)
{
  return ms_import_error (error, "%s: a PyTorch pickle checkpoint; memscope-cli import reads .safetensors weights. "
                          "Convert it with memscope-convert.py (installed beside memscope-cli; it loads with "
                          "torch.load(weights_only=True)), or save the model as safetensors", path);
}

gboolean
ms_import_lora_error (const char *path, const char *what, GError **error)
{
  return ms_import_error (error, "%s: %s: this checkpoint holds LoRA adapters that are not merged into the model. "
                          "Memscope runs merged weights: merge them first (PEFT: model = model.merge_and_unload(), "
                          "then "
                          "save the merged model) and import that", path, what);
}

static gboolean
add_shard (MsImport *im, const char *path, GError **error)
{
  MsSafetensors *st = ms_safetensors_open_checkpoint (path, error);
  if (!st)
    return FALSE;
  g_ptr_array_add (im->shards, st);
  return TRUE;
}

/* A shard name from the index: a plain .safetensors file name in the
 * checkpoint's folder (a hostile index must not reach other files). */
static gboolean
shard_name_ok (const char *name)
{
  return name[0] != '\0' && name[0] != '.' && !strchr (name, '/') && !strchr (name, '\\')
         && g_str_has_suffix (name, ".safetensors") && g_utf8_validate (name, -1, NULL);
}

static gboolean
open_sharded (MsImport *im, const char *index_path, GHashTable *weight_map, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *o = read_json_object (index_path, MS_IMPORT_MAX_INDEX_FILE, INDEX_MAX_DEPTH, INDEX_MAX_VALUES, parser,
                                    error);
  if (!o)
    return FALSE;
  JsonNode *map_node = json_object_get_member (o, "weight_map");
  if (!map_node || !JSON_NODE_HOLDS_OBJECT (map_node))
    return ms_import_error (error, "%s: no \"weight_map\" object (tensor name → shard file)", index_path);
  g_autoptr (GHashTable) files = g_hash_table_new (g_str_hash, g_str_equal);   /* shard name → TRUE */
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  JsonObjectIter it;
  const char *name;
  JsonNode *value;
  json_object_iter_init (&it, json_node_get_object (map_node));
  while (json_object_iter_next (&it, &name, &value))
    {
      const char *file = JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING
                           ? json_node_get_string (value) : NULL;
      if (!file || !shard_name_ok (file))
        {
          g_autofree char *shown = g_utf8_make_valid (name, -1);
          return ms_import_error (error, "%s: weight_map gives tensor '%s' a shard that is not a .safetensors file "
                                  "name "
                                  "in the checkpoint's folder", index_path, shown);
        }
      g_hash_table_insert (weight_map, g_strdup (name), g_strdup (file));
      if (g_hash_table_add (files, (gpointer) file))
        {
          if (order->len >= MS_IMPORT_MAX_SHARDS)
            return ms_import_error (error, "%s: more than %d shard files", index_path, MS_IMPORT_MAX_SHARDS);
          g_ptr_array_add (order, (gpointer) file);
        }
    }
  if (order->len == 0)
    return ms_import_error (error, "%s: weight_map is empty", index_path);
  for (guint i = 0; i < order->len; i++)
    {
      g_autofree char *path = g_build_filename (im->dir, (const char *) order->pdata[i], NULL);
      if (!add_shard (im, path, error))
        return FALSE;
    }
  im->weights_what = g_strdup_printf ("%u shard%s listed by %s", order->len, order->len == 1 ? "" : "s", index_path);
  return TRUE;
}

/* Finds config.json, the weights and the folder; opens the weights.  The
 * weight map of a sharded checkpoint (tensor → shard name) goes to
 * @weight_map, which stays empty otherwise. */
gboolean
ms_import_open_checkpoint (MsImport *im, GHashTable *weight_map, GError **error)
{
  const char *ck = im->checkpoint;
  g_autofree char *weights = NULL, *index = NULL;
  if (g_file_test (ck, G_FILE_TEST_IS_DIR))
    {
      im->dir = g_strdup (ck);
      g_autofree char *adapter = g_build_filename (ck, "adapter_config.json", NULL);
      if (g_file_test (adapter, G_FILE_TEST_EXISTS))
        return ms_import_lora_error (ck, "it has an adapter_config.json (a PEFT adapter)", error);
      index = g_build_filename (ck, "model.safetensors.index.json", NULL);
      weights = g_build_filename (ck, "model.safetensors", NULL);
      if (g_file_test (index, G_FILE_TEST_EXISTS))
        g_clear_pointer (&weights, g_free);
      else if (g_file_test (weights, G_FILE_TEST_EXISTS))
        g_clear_pointer (&index, g_free);
      else
        {
          g_autoptr (GDir) dir = g_dir_open (ck, 0, NULL);
          const char *entry;
          while (dir && (entry = g_dir_read_name (dir)))
            if (is_pickle_name (entry))
              {
                g_autofree char *pickle = g_build_filename (ck, entry, NULL);
                return pickle_error (pickle, error);
              }
          g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: no model.safetensors or model.safetensors.index.json in "
                       "this folder (a checkpoint saved by save_pretrained or accelerate's save_model has one)", ck);
          return FALSE;
        }
    }
  else if (g_file_test (ck, G_FILE_TEST_IS_REGULAR))
    {
      im->dir = g_path_get_dirname (ck);
      if (is_pickle_name (ck))
        return pickle_error (ck, error);
      if (g_str_has_suffix (ck, ".index.json"))
        index = g_strdup (ck);
      else
        weights = g_strdup (ck);
    }
  else
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: no such file or folder", ck);
      return FALSE;
    }

  im->config_path = g_build_filename (im->dir, "config.json", NULL);
  if (!g_file_test (im->config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: no config.json beside the weights: put the model's GPT-2 "
                   "config.json (model.config.save_pretrained(folder)) in %s; n_head and the other settings are "
                   "not stored in the weights", ck, im->dir);
      return FALSE;
    }
  if (index)
    return open_sharded (im, index, weight_map, error);
  im->weights_what = g_strdup (weights);
  return add_shard (im, weights, error);
}
