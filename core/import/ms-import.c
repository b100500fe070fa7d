/* ms-import.c — reading a Hugging Face-style GPT-2 RMT checkpoint (folder,
 * config.json, one or many .safetensors, tokenizer) and writing one
 * Memscope RMT model file; the contract is in ms-import.h.
 *
 * The steps, each of which either succeeds or leaves a message naming the
 * file: locate the files; read config.json; open the weight files; give
 * every tensor its Memscope name (or drop or refuse it); check the names
 * and shapes against config.json; check the options; load the tokenizer;
 * convert to f32, write, and load the written file back. */
#include "ms-import.h"
#include "ms-error.h"
#include "ms-json.h"
#include "ms-model.h"
#include "ms-safetensors.h"
#include "tokenizers/ms-tokenizer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <sys/stat.h>
#include <string.h>

#define CONFIG_MAX_DEPTH 8
#define CONFIG_MAX_VALUES (1u << 16)
#define INDEX_MAX_DEPTH 4
#define INDEX_MAX_VALUES (1u << 22)
/* Largest GPT-2 dimensions accepted from config.json, far above any GPT-2
 * and small enough that products of two stay well inside 64 bits. */
#define MAX_WIDTH (1 << 16)
#define MAX_LAYERS 1024
#define MAX_POSITIONS (1 << 24)

/* One tensor of the checkpoint under its Memscope name. */
typedef struct {
  const MsTensorInfo *info;   /* borrowed from a shard */
  const char *file;           /* the shard's path, borrowed */
  MsSafetensors *shard;       /* borrowed */
} Found;

typedef struct {
  /* Borrowed */
  const char *checkpoint;
  const MsImportOptions *opt;
  /* Owned */
  char *dir;                  /* the folder holding config.json */
  char *config_path;
  char *weights_what;         /* "model.safetensors", "3 shards listed by …" */
  GPtrArray *shards;          /* MsSafetensors* */
  GHashTable *found;          /* Memscope name (owned) → Found* (owned) */
  Found lm_head;              /* info NULL when absent */
  int n_dropped;              /* attention buffers */
  GHashTable *dtypes_seen;    /* dtype name (static) → TRUE */
  MsTokenizer *tokenizer;
  /* From config.json and the tensors */
  int vocab_size, d, n_heads, n_layers, d_ff, n_positions, m;
  gboolean tie_word_embeddings;
  /* MemBART (config.json model_type "bart" with memory_len): n_heads, d_ff
   * and n_layers are the encoder's, m is memory_len, n_positions
   * max_position_embeddings; the decoder's own below */
  gboolean membart;
  int dec_layers, dec_heads, dec_ff, bos_token_id;
  gboolean scale_embedding;
  Found tied[2];              /* encoder./decoder.embed_tokens.weight when stored: copies of shared.weight */
} Import;

/* The token embedding every other copy must equal: the LM head, and
 * MemBART's per-side embed_tokens. */
static const char *
embedding_name (const Import *im)
{
  return im->membart ? "shared.weight" : "transformer.wte.weight";
}

static void
import_clear (Import *im)
{
  g_free (im->dir);
  g_free (im->config_path);
  g_free (im->weights_what);
  g_clear_pointer (&im->shards, g_ptr_array_unref);
  g_clear_pointer (&im->found, g_hash_table_unref);
  g_clear_pointer (&im->dtypes_seen, g_hash_table_unref);
  g_clear_pointer (&im->tokenizer, ms_tokenizer_unref);
}

static gboolean
model_error (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
model_error (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, MS_ERROR, MS_ERROR_MODEL, msg);
  return FALSE;
}

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
config_int (Import *im, JsonObject *o, const char *key, int min, int max, gboolean required, int *out,
            GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n || JSON_NODE_HOLDS_NULL (n))
    {
      if (!required)
        return TRUE;
      return model_error (error, "%s: \"%s\" is missing; a GPT-2 config.json has it", im->config_path, key);
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < min || json_node_get_int (n) > max)
    return model_error (error, "%s: \"%s\" must be an integer from %d to %d", im->config_path, key, min, max);
  *out = (int) json_node_get_int (n);
  return TRUE;
}

/* A boolean member of config.json that must have the value GPT-2 as
 * Memscope computes it has (@want) when present; @what says what the
 * other value would mean. */
static gboolean
config_bool_is (Import *im, JsonObject *o, const char *key, gboolean want, const char *what, GError **error)
{
  JsonNode *n = json_object_get_member (o, key);
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return model_error (error, "%s: \"%s\" must be true or false", im->config_path, key);
  if (!json_node_get_boolean (n) != !want)
    return model_error (error, "%s: \"%s\" is %s: %s, which Memscope's RMT (GPT-2 blocks as DESIGN §3.2) does not "
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
read_membart_config (Import *im, JsonObject *o, GError **error)
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
    return model_error (error, "%s: d_model %d is not a multiple of encoder_attention_heads %d and "
                        "decoder_attention_heads %d", im->config_path, im->d, im->n_heads, im->dec_heads);
  if (im->bos_token_id >= im->vocab_size)
    return model_error (error, "%s: bos_token_id %d is outside the vocabulary (vocab_size %d)", im->config_path,
                        im->bos_token_id, im->vocab_size);
  const char *act = member_string (o, "activation_function");
  if (json_object_has_member (o, "activation_function") && !(act && g_str_equal (act, "gelu")))
    {
      g_autofree char *shown = act ? g_utf8_make_valid (act, -1) : g_strdup ("(not a string)");
      return model_error (error, "%s: activation_function \"%s\" is not supported: Memscope's MemBART uses GELU "
                          "(\"gelu\", BART's)", im->config_path, shown);
    }
  JsonNode *scale = json_object_get_member (o, "scale_embedding");
  im->scale_embedding = scale && JSON_NODE_HOLDS_VALUE (scale) && json_node_get_value_type (scale) == G_TYPE_BOOLEAN
                        && json_node_get_boolean (scale);
  JsonNode *before = json_object_get_member (o, "normalize_before");
  if (before && JSON_NODE_HOLDS_VALUE (before) && json_node_get_value_type (before) == G_TYPE_BOOLEAN
      && json_node_get_boolean (before))
    return model_error (error, "%s: normalize_before is true (pre-LN layers); BART and MemBART are post-LN, which is "
                        "what Memscope computes", im->config_path);
  im->tie_word_embeddings = TRUE;
  return TRUE;
}

static gboolean
read_config (Import *im, GError **error)
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
    return model_error (error, "%s: model_type \"bart\" without memory_len is a plain BART; Memscope imports the "
                        "memory-augmented MemBART of qywu/memformers (its config.json has memory_len) and Recurrent "
                        "Memory Transformers on GPT-2", im->config_path);
  if (model_type && !g_str_equal (model_type, "gpt2"))
    {
      g_autofree char *shown = g_utf8_make_valid (model_type, -1);
      return model_error (error, "%s: model_type \"%s\" is %s; Memscope imports Recurrent Memory Transformers on a "
                          "GPT-2 backbone (model_type \"gpt2\", as booydar/recurrent-memory-transformer builds them) "
                          "and runs the Memformer and RMT architectures of DESIGN §3", im->config_path, shown,
                          backbone_name (model_type));
    }
  if (!model_type && !json_object_has_member (o, "n_embd"))
    return model_error (error, "%s: neither \"model_type\" nor \"n_embd\": not the config.json of a GPT-2 model "
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
    return model_error (error, "%s: n_embd %d is not a multiple of n_head %d", im->config_path, im->d, im->n_heads);

  const char *act = member_string (o, "activation_function");
  if (json_object_has_member (o, "activation_function")
      && (!act || !(g_str_equal (act, "gelu_new") || g_str_equal (act, "gelu_pytorch_tanh"))))
    {
      g_autofree char *shown = act ? g_utf8_make_valid (act, -1) : g_strdup ("(not a string)");
      return model_error (error, "%s: activation_function \"%s\" is not supported: Memscope's GPT-2 blocks use the "
                          "tanh approximation of GELU (\"gelu_new\", GPT-2's own)", im->config_path, shown);
    }
  JsonNode *eps = json_object_get_member (o, "layer_norm_epsilon");
  if (eps && !JSON_NODE_HOLDS_NULL (eps))
    {
      GType t = JSON_NODE_HOLDS_VALUE (eps) ? json_node_get_value_type (eps) : G_TYPE_INVALID;
      double v = t == G_TYPE_DOUBLE ? json_node_get_double (eps) : t == G_TYPE_INT64 ? (double) json_node_get_int (eps)
                                                                                      : NAN;
      if (!(fabs (v - 1e-5) <= 1e-12))
        return model_error (error, "%s: layer_norm_epsilon is not 1e-5: Memscope's LayerNorm uses GPT-2's 1e-5",
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
  return model_error (error, "%s: a PyTorch pickle checkpoint; memscope-cli import reads .safetensors weights. "
                      "Convert it with memscope-convert.py (installed beside memscope-cli; it loads with "
                      "torch.load(weights_only=True)), or save the model as safetensors", path);
}

static gboolean
lora_error (const char *path, const char *what, GError **error)
{
  return model_error (error, "%s: %s: this checkpoint holds LoRA adapters that are not merged into the model. "
                      "Memscope runs merged weights: merge them first (PEFT: model = model.merge_and_unload(), then "
                      "save the merged model) and import that", path, what);
}

static gboolean
add_shard (Import *im, const char *path, GError **error)
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
open_sharded (Import *im, const char *index_path, GHashTable *weight_map, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *o = read_json_object (index_path, MS_IMPORT_MAX_INDEX_FILE, INDEX_MAX_DEPTH, INDEX_MAX_VALUES, parser,
                                    error);
  if (!o)
    return FALSE;
  JsonNode *map_node = json_object_get_member (o, "weight_map");
  if (!map_node || !JSON_NODE_HOLDS_OBJECT (map_node))
    return model_error (error, "%s: no \"weight_map\" object (tensor name → shard file)", index_path);
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
          return model_error (error, "%s: weight_map gives tensor '%s' a shard that is not a .safetensors file name "
                              "in the checkpoint's folder", index_path, shown);
        }
      g_hash_table_insert (weight_map, g_strdup (name), g_strdup (file));
      if (g_hash_table_add (files, (gpointer) file))
        {
          if (order->len >= MS_IMPORT_MAX_SHARDS)
            return model_error (error, "%s: more than %d shard files", index_path, MS_IMPORT_MAX_SHARDS);
          g_ptr_array_add (order, (gpointer) file);
        }
    }
  if (order->len == 0)
    return model_error (error, "%s: weight_map is empty", index_path);
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
static gboolean
locate_and_open (Import *im, GHashTable *weight_map, GError **error)
{
  const char *ck = im->checkpoint;
  g_autofree char *weights = NULL, *index = NULL;
  if (g_file_test (ck, G_FILE_TEST_IS_DIR))
    {
      im->dir = g_strdup (ck);
      g_autofree char *adapter = g_build_filename (ck, "adapter_config.json", NULL);
      if (g_file_test (adapter, G_FILE_TEST_EXISTS))
        return lora_error (ck, "it has an adapter_config.json (a PEFT adapter)", error);
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

/* ---- naming the tensors -------------------------------------------------- */

/* Memscope's name for a tensor of the checkpoint: the booydar prefixes
 * (memory_cell.model., memory_cell.memory) and a DDP "module." stripped.
 * NULL when the name is none of those. */
static char *
memscope_name (const Import *im, const char *name)
{
  while (g_str_has_prefix (name, "module."))
    name += strlen ("module.");
  if (im->membart)
    {
      /* MemBartForConditionalGeneration's state_dict: model.shared, model.encoder.*, model.decoder.*,
       * final_logits_bias, the tied lm_head */
      if (g_str_has_prefix (name, "model."))
        name += strlen ("model.");
      if (g_str_equal (name, "shared.weight") || g_str_has_prefix (name, "encoder.")
          || g_str_has_prefix (name, "decoder.") || g_str_equal (name, "final_logits_bias")
          || g_str_equal (name, "lm_head.weight"))
        return g_strdup (name);
      return NULL;
    }
  if (g_str_has_prefix (name, "memory_cell.model."))
    name += strlen ("memory_cell.model.");
  else if (g_str_equal (name, "memory_cell.memory"))
    name = "memory";
  if (g_str_has_prefix (name, "transformer.") || g_str_equal (name, "lm_head.weight") || g_str_equal (name, "memory"))
    return g_strdup (name);
  return NULL;
}

/* HF GPT-2's attention buffers: transformer.h.N.attn.bias (the causal
 * mask) and .attn.masked_bias (the masking constant); not weights. */
static gboolean
is_attention_buffer (const char *name)
{
  if (!g_str_has_prefix (name, "transformer.h."))
    return FALSE;
  const char *p = name + strlen ("transformer.h.");
  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  return g_str_equal (p, ".attn.bias") || g_str_equal (p, ".attn.masked_bias");
}

static gboolean
name_tensors (Import *im, GHashTable *weight_map, GError **error)
{
  g_autoptr (GHashTable) original = g_hash_table_new (g_str_hash, g_str_equal);   /* checkpoint name → shard */
  for (guint s = 0; s < im->shards->len; s++)
    {
      MsSafetensors *st = im->shards->pdata[s];
      const char *file = ms_safetensors_get_label (st);
      for (guint i = 0; i < ms_safetensors_get_n_tensors (st); i++)
        {
          const MsTensorInfo *t = ms_safetensors_get_tensor (st, i);
          g_autofree char *shown = g_utf8_make_valid (t->name, -1);
          const char *other = g_hash_table_lookup (original, t->name);
          if (other)
            return model_error (error, "%s: tensor '%s' is also in %s; a tensor belongs to one shard", file, shown,
                                other);
          g_hash_table_insert (original, (gpointer) t->name, (gpointer) file);
          if (strstr (t->name, "lora_") || g_str_has_prefix (t->name, "base_model.model."))
            {
              g_autofree char *what = g_strdup_printf ("tensor '%s' is a LoRA adapter weight", shown);
              return lora_error (file, what, error);
            }
          char *name = memscope_name (im, t->name);
          if (!name && im->membart)
            return model_error (error, "%s: tensor '%s' is not part of a MemBART checkpoint of qywu/memformers "
                                "(expected model.shared, model.encoder.*, model.decoder.*, final_logits_bias, "
                                "possibly under module.)", file, shown);
          if (!name)
            return model_error (error, "%s: tensor '%s' is not part of a GPT-2 RMT checkpoint of "
                                "booydar/recurrent-memory-transformer (expected memory_cell.memory and "
                                "memory_cell.model.transformer.*, possibly under module.); Memscope imports that "
                                "model only", file, shown);
          if (!im->membart && is_attention_buffer (name))
            {
              im->n_dropped++;
              g_free (name);
              continue;
            }
          if (!ms_dtype_is_float (t->dtype))
            {
              g_free (name);
              return model_error (error, "%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16", file,
                                  shown, ms_dtype_name (t->dtype));
            }
          g_hash_table_add (im->dtypes_seen, (gpointer) ms_dtype_name (t->dtype));
          int side = !im->membart ? -1 : g_str_equal (name, "encoder.embed_tokens.weight") ? 0
                                         : g_str_equal (name, "decoder.embed_tokens.weight") ? 1 : -1;
          if (side >= 0)
            {
              im->tied[side] = (Found) { t, file, st };
              g_free (name);
              continue;
            }
          if (g_str_equal (name, "lm_head.weight"))
            {
              if (im->lm_head.info)
                {
                  g_free (name);
                  return model_error (error, "%s: tensor '%s' is a second LM head", file, shown);
                }
              im->lm_head = (Found) { t, file, st };
              g_free (name);
              continue;
            }
          Found *prev = g_hash_table_lookup (im->found, name);
          if (prev)
            {
              g_autofree char *prev_shown = g_utf8_make_valid (prev->info->name, -1);
              model_error (error, "%s: tensors '%s' and '%s' both give %s", file, prev_shown, shown, name);
              g_free (name);
              return FALSE;
            }
          Found *f = g_new (Found, 1);
          *f = (Found) { t, file, st };
          g_hash_table_insert (im->found, name, f);
        }
    }
  /* The index must describe the shards truthfully. */
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, weight_map);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      const char *file = g_hash_table_lookup (original, key);
      g_autofree char *base = file ? g_path_get_basename (file) : NULL;
      if (base && g_str_equal (base, value))
        continue;
      g_autofree char *shown = g_utf8_make_valid (key, -1);
      return model_error (error, "%s/model.safetensors.index.json: weight_map puts tensor '%s' in %s, but %s",
                          im->dir, shown, (const char *) value, file ? "another shard holds it" : "no shard holds it");
    }
  return TRUE;
}

/* ---- checking names and shapes against config.json ---------------------- */

/* The tensor @name with @n_dims dimensions of @shape (−1: any size, which
 * is then returned in @shape), or FALSE with an error saying what is
 * missing or mis-shaped. */
static const MsTensorInfo *
need (Import *im, const char *name, int n_dims, int64_t *shape, const char *why, GError **error)
{
  Found *f = g_hash_table_lookup (im->found, name);
  g_autofree char *want = ms_shape_string (n_dims, shape);
  if (!f)
    {
      model_error (error, "%s: tensor %s (%s%s in the public code's state_dict) is missing; "
                   "expected shape %s%s", im->checkpoint, name,
                   !im->membart ? "memory_cell.model." : g_str_equal (name, "final_logits_bias") ? "" : "model.",
                   name, want, why);
      if (g_str_equal (name, "memory"))
        {
          g_autofree char *msg = g_strdup_printf ("%s: tensor memory_cell.memory (the RMT's memory, [m, %d]) is "
                                                  "missing: this is not a Recurrent Memory Transformer checkpoint "
                                                  "(a plain GPT-2 has no memory)", im->checkpoint, im->d);
          g_clear_error (error);
          g_set_error_literal (error, MS_ERROR, MS_ERROR_MODEL, msg);
        }
      return NULL;
    }
  gboolean same = f->info->n_dims == n_dims;
  for (int i = 0; same && i < n_dims; i++)
    same = shape[i] < 0 || f->info->shape[i] == shape[i];
  if (!same)
    {
      g_autofree char *got = ms_shape_string (f->info->n_dims, f->info->shape);
      g_autofree char *shown = g_utf8_make_valid (f->info->name, -1);
      model_error (error, "%s: tensor '%s' has shape %s but config.json needs %s%s", f->file, shown, got, want, why);
      return NULL;
    }
  for (int i = 0; i < n_dims; i++)
    shape[i] = f->info->shape[i];
  return f->info;
}

/* The tensors of a MemBART with @im's configuration, in file order (the
 * engine's names: core/engines/ms-membart.c). */
static GPtrArray *
membart_expected_names (const Import *im)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  static const char *const global[] = { "shared.weight", "final_logits_bias", "encoder.embed_positions.weight",
                                        "encoder.layernorm_embedding.weight", "encoder.layernorm_embedding.bias",
                                        "encoder.memory_layer_norm.weight", "encoder.memory_layer_norm.bias",
                                        "encoder.memory_bias", "encoder.memory_gate_net.dense.weight",
                                        "encoder.memory_gate_net.dense.bias", "encoder.memory_gate_net.dense2.weight",
                                        "encoder.memory_gate_net.dense2.bias", "decoder.embed_positions.weight",
                                        "decoder.layernorm_embedding.weight", "decoder.layernorm_embedding.bias" };
  static const char *const enc[] = { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                                     "self_attn.mem_q_proj", "self_attn.mem_k_proj", "self_attn.mem_v_proj",
                                     "self_attn.mem_out_proj", "self_attn_layer_norm", "fc1", "fc2",
                                     "final_layer_norm", "mem_self_attn_layer_norm", "mem_fc1", "mem_fc2",
                                     "mem_final_layer_norm" };
  static const char *const dec[] = { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                                     "self_attn_layer_norm", "encoder_attn.q_proj", "encoder_attn.k_proj",
                                     "encoder_attn.v_proj", "encoder_attn.out_proj", "encoder_attn_layer_norm",
                                     "fc1", "fc2", "final_layer_norm" };
  for (guint i = 0; i < G_N_ELEMENTS (global); i++)
    g_ptr_array_add (names, g_strdup (global[i]));
  for (int l = 0; l < im->n_layers; l++)
    for (guint i = 0; i < G_N_ELEMENTS (enc); i++)
      for (int w = 0; w < 2; w++)
        g_ptr_array_add (names, g_strdup_printf ("encoder.layers.%d.%s.%s", l, enc[i], w ? "bias" : "weight"));
  for (int l = 0; l < im->dec_layers; l++)
    for (guint i = 0; i < G_N_ELEMENTS (dec); i++)
      for (int w = 0; w < 2; w++)
        g_ptr_array_add (names, g_strdup_printf ("decoder.layers.%d.%s.%s", l, dec[i], w ? "bias" : "weight"));
  return names;
}

/* The expected shape of @name (an entry of membart_expected_names). */
static int
membart_expected_shape (const Import *im, const char *name, int64_t *shape)
{
  int64_t d = im->d, V = im->vocab_size, P = (int64_t) im->n_positions + 2;
  gboolean weight = g_str_has_suffix (name, ".weight"), decoder = g_str_has_prefix (name, "decoder.");
  int64_t F = decoder ? im->dec_ff : im->d_ff;
  if (g_str_equal (name, "shared.weight"))
    return shape[0] = V, shape[1] = d, 2;
  if (g_str_equal (name, "final_logits_bias"))
    return shape[0] = 1, shape[1] = V, 2;
  if (g_str_has_suffix (name, "embed_positions.weight"))
    return shape[0] = P, shape[1] = d, 2;
  if (g_str_equal (name, "encoder.memory_bias"))
    return shape[0] = 1, shape[1] = im->m, shape[2] = d, 3;
  if (strstr (name, "layer_norm") || strstr (name, "layernorm"))
    return shape[0] = d, 1;
  if (strstr (name, "dense2."))
    return weight ? (shape[0] = 1, shape[1] = d, 2) : (shape[0] = 1, 1);
  if (strstr (name, "fc1."))
    return weight ? (shape[0] = F, shape[1] = d, 2) : (shape[0] = F, 1);
  if (strstr (name, "fc2."))
    return weight ? (shape[0] = d, shape[1] = F, 2) : (shape[0] = d, 1);
  return weight ? (shape[0] = d, shape[1] = d, 2) : (shape[0] = d, 1);   /* projections, the gate's dense */
}

/* The tensors of an RMT with @im's configuration, in file order. */
static GPtrArray *
expected_names (const Import *im)
{
  if (im->membart)
    return membart_expected_names (im);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (names, g_strdup ("transformer.wte.weight"));
  g_ptr_array_add (names, g_strdup ("transformer.wpe.weight"));
  static const char *const parts[] = { "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                                       "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                                       "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias" };
  for (int l = 0; l < im->n_layers; l++)
    for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
      g_ptr_array_add (names, g_strdup_printf ("transformer.h.%d.%s", l, parts[i]));
  g_ptr_array_add (names, g_strdup ("transformer.ln_f.weight"));
  g_ptr_array_add (names, g_strdup ("transformer.ln_f.bias"));
  g_ptr_array_add (names, g_strdup ("memory"));
  return names;
}

/* The expected shape of @name (an entry of expected_names). */
static int
expected_shape (const Import *im, const char *name, int64_t *shape)
{
  if (im->membart)
    return membart_expected_shape (im, name, shape);
  int64_t d = im->d, F = im->d_ff;
  const char *dot = strrchr (name, '.');
  if (g_str_equal (name, "transformer.wte.weight"))
    return shape[0] = im->vocab_size, shape[1] = d, 2;
  if (g_str_equal (name, "transformer.wpe.weight"))
    return shape[0] = im->n_positions, shape[1] = d, 2;
  if (g_str_equal (name, "memory"))
    return shape[0] = -1, shape[1] = d, 2;
  if (strstr (name, ".c_attn."))
    return g_str_equal (dot, ".weight") ? (shape[0] = d, shape[1] = 3 * d, 2) : (shape[0] = 3 * d, 1);
  if (strstr (name, ".mlp.c_fc."))
    return g_str_equal (dot, ".weight") ? (shape[0] = d, shape[1] = F, 2) : (shape[0] = F, 1);
  if (strstr (name, ".mlp.c_proj."))
    return g_str_equal (dot, ".weight") ? (shape[0] = F, shape[1] = d, 2) : (shape[0] = d, 1);
  if (strstr (name, ".attn.c_proj."))
    return g_str_equal (dot, ".weight") ? (shape[0] = d, shape[1] = d, 2) : (shape[0] = d, 1);
  return shape[0] = d, 1;   /* LayerNorms */
}

/* Compares the tied copy @copy (the LM head, MemBART's embed_tokens) with
 * the token embedding @wte value by value after f32 conversion. */
static gboolean
check_lm_head (Import *im, const Found *copy, const MsTensorInfo *wte, GError **error)
{
  const MsTensorInfo *head = copy->info;
  g_autofree char *shown = g_utf8_make_valid (head->name, -1);
  gboolean same = head->n_dims == 2 && head->shape[0] == wte->shape[0] && head->shape[1] == wte->shape[1];
  size_t at = 0;
  double diff = 0;
  if (same)
    {
      g_autofree float *a = g_try_new (float, head->n_elements), *b = g_try_new (float, wte->n_elements);
      if (!a || !b)
        return model_error (error, "%s: cannot allocate memory to compare '%s' with %s", copy->file, shown,
                            embedding_name (im));
      ms_tensor_info_to_f32 (head, a);
      ms_tensor_info_to_f32 (wte, b);
      for (size_t i = 0; i < head->n_elements && same; i++)
        if (memcmp (&a[i], &b[i], sizeof (float)) != 0 && a[i] != b[i])
          {
            same = FALSE;
            at = i;
            diff = fabs ((double) a[i] - b[i]);
          }
    }
  if (same)
    return TRUE;
  g_autofree char *where = head->n_dims == 2 && wte->n_dims == 2 && head->shape[0] == wte->shape[0]
                             && head->shape[1] == wte->shape[1]
                             ? g_strdup_printf ("first differs at row %zu, column %zu by %g", at / (size_t) wte->shape[1],
                                                at % (size_t) wte->shape[1], diff)
                             : g_strdup ("its shape differs");
  if (im->membart)
    return model_error (error, "%s: tensor '%s' differs from shared.weight (%s); MemBART ties its embeddings and LM "
                        "head to shared.weight, and Memscope cannot run a model whose copies differ", copy->file,
                        shown, where);
  return model_error (error, "%s: tensor '%s' is an untied LM head: it differs from transformer.wte.weight (%s). "
                      "Memscope's RMT ties the LM head to the token embedding as GPT-2 does (DESIGN §3.2) and "
                      "cannot run a model with a separate head", copy->file, shown, where);
}

static gboolean
check_tensors (Import *im, GError **error)
{
  /* A checkpoint saved without the embedding but with a copy tied to it. */
  Found *copies[] = { &im->lm_head, &im->tied[0], &im->tied[1] };
  for (guint i = 0; i < G_N_ELEMENTS (copies); i++)
    if (!g_hash_table_contains (im->found, embedding_name (im)) && copies[i]->info && im->tie_word_embeddings)
      {
        Found *f = g_new (Found, 1);
        *f = *copies[i];
        g_hash_table_insert (im->found, g_strdup (embedding_name (im)), f);
        copies[i]->info = NULL;
      }
  if (!im->lm_head.info && !im->tie_word_embeddings)
    return model_error (error, "%s: config.json says tie_word_embeddings false, but the checkpoint has no "
                        "lm_head.weight: the head the model was trained with is not in the checkpoint", im->config_path);

  g_autoptr (GPtrArray) names = expected_names (im);
  for (guint i = 0; i < names->len; i++)
    {
      int64_t shape[3];
      int n_dims = expected_shape (im, names->pdata[i], shape);
      const char *why = "";
      g_autofree char *why_owned = NULL;
      if (g_str_has_prefix (names->pdata[i], "transformer.h."))
        why = why_owned = g_strdup_printf (" (config.json: n_layer %d, n_embd %d, n_inner %d)", im->n_layers, im->d,
                                           im->d_ff);
      else if (g_str_equal (names->pdata[i], "transformer.wte.weight"))
        why = why_owned = g_strdup_printf (" (config.json: vocab_size %d, n_embd %d)", im->vocab_size, im->d);
      else if (g_str_equal (names->pdata[i], "transformer.wpe.weight"))
        why = why_owned = g_strdup_printf (" (config.json: n_positions %d, n_embd %d)", im->n_positions, im->d);
      else if (im->membart)
        why = why_owned = g_strdup_printf (" (config.json: d_model %d, vocab_size %d, memory_len %d, "
                                           "max_position_embeddings %d, encoder_ffn_dim %d, decoder_ffn_dim %d, "
                                           "%d + %d layers)", im->d, im->vocab_size, im->m, im->n_positions,
                                           im->d_ff, im->dec_ff, im->n_layers, im->dec_layers);
      if (!need (im, names->pdata[i], n_dims, shape, why, error))
        return FALSE;
      if (!im->membart && g_str_equal (names->pdata[i], "memory"))
        {
          if (shape[0] < 1 || shape[0] > MAX_POSITIONS)
            return model_error (error, "%s: the memory tensor has %" G_GINT64_FORMAT " rows (memory tokens); an RMT "
                                "has at least one", im->checkpoint, shape[0]);
          im->m = (int) shape[0];
        }
    }
  if (g_hash_table_size (im->found) != names->len)
    {
      g_autoptr (GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < names->len; i++)
        g_hash_table_add (wanted, names->pdata[i]);
      GHashTableIter it;
      gpointer key, value;
      g_hash_table_iter_init (&it, im->found);
      while (g_hash_table_iter_next (&it, &key, &value))
        if (!g_hash_table_contains (wanted, key))
          {
            Found *f = value;
            g_autofree char *shown = g_utf8_make_valid (f->info->name, -1);
            if (im->membart)
              return model_error (error, "%s: tensor '%s' is not part of a MemBART with encoder_layers %d and "
                                  "decoder_layers %d (config.json); does config.json belong to these weights?",
                                  f->file, shown, im->n_layers, im->dec_layers);
            return model_error (error, "%s: tensor '%s' is not part of a GPT-2 RMT with n_layer %d (config.json); "
                                "does config.json belong to these weights?", f->file, shown, im->n_layers);
          }
    }
  const MsTensorInfo *wte = ((Found *) g_hash_table_lookup (im->found, embedding_name (im)))->info;
  for (guint i = 0; i < G_N_ELEMENTS (copies); i++)
    if (copies[i]->info && !check_lm_head (im, copies[i], wte, error))
      return FALSE;
  return TRUE;
}

/* ---- options and tokenizer ---------------------------------------------- */

static gboolean
check_options (Import *im, GError **error)
{
  if (im->membart)
    {
      if (im->opt->mask)
        return model_error (error, "--mask is an RMT setting; a MemBART has none");
      int L = im->opt->segment_len;
      if (L < 1 || L > im->n_positions)
        return model_error (error, "%s: give the segment length to step the model with (--segment-len N, from 1 to "
                            "%d, the checkpoint's max_position_embeddings); it is not in config.json",
                            im->checkpoint, im->n_positions);
      return TRUE;
    }
  const char *mask = im->opt->mask ? im->opt->mask : "causal";
  if (!g_str_equal (mask, "causal") && !g_str_equal (mask, "blocks"))
    return model_error (error, "mask \"%s\" is not one of causal (the HF wrapper's, the default) and blocks (the "
                        "paper's)", mask);
  int max_len = im->n_positions - 2 * im->m;
  if (max_len < 1)
    return model_error (error, "%s: %d memory tokens before and after a segment need %d positions, but config.json "
                        "has n_positions %d: the memory tensor and config.json do not belong together",
                        im->checkpoint, im->m, 2 * im->m, im->n_positions);
  int L = im->opt->segment_len;
  if (L < 1)
    return model_error (error, "%s: give the segment length the model was trained with (--segment-len N, from 1 "
                        "to %d: the checkpoint's n_positions %d less 2 × %d memory tokens); it is a training "
                        "setting, in neither config.json nor the weights", im->checkpoint, max_len, im->n_positions,
                        im->m);
  if (L > max_len)
    return model_error (error, "%s: segment length %d does not fit: %d memory tokens before and after a segment of "
                        "%d tokens take %d positions, but the model has n_positions %d; pass --segment-len at most %d",
                        im->checkpoint, L, im->m, L, 2 * im->m + L, im->n_positions, max_len);
  return TRUE;
}

static gboolean
load_tokenizer (Import *im, GError **error)
{
  const char *given = im->opt->tokenizer;
  g_autofree char *tokenizer_json = g_build_filename (im->dir, "tokenizer.json", NULL);
  g_autofree char *vocab_json = g_build_filename (im->dir, "vocab.json", NULL);
  g_autofree char *merges_txt = g_build_filename (im->dir, "merges.txt", NULL);
  const char *source = given;
  if (given && g_str_equal (given, "bytes"))
    im->tokenizer = ms_tokenizer_new_bytes ();
  else
    {
      if (!source && g_file_test (tokenizer_json, G_FILE_TEST_EXISTS))
        source = tokenizer_json;
      else if (!source && g_file_test (vocab_json, G_FILE_TEST_EXISTS) && g_file_test (merges_txt, G_FILE_TEST_EXISTS))
        source = vocab_json;
      if (!source)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: no tokenizer in %s (tokenizer.json, or vocab.json and "
                       "merges.txt): pass --tokenizer FILE with the tokenizer the model was trained with, or "
                       "--tokenizer bytes for a model over bytes", im->checkpoint, im->dir);
          return FALSE;
        }
      im->tokenizer = ms_tokenizer_load (source, error);
      if (!im->tokenizer)
        return FALSE;
    }
  if (ms_tokenizer_get_vocab_size (im->tokenizer) != im->vocab_size)
    return model_error (error, "%s: the tokenizer has %d ids but the model's vocabulary (config.json vocab_size, the "
                        "rows of transformer.wte.weight) has %d; pass --tokenizer with the tokenizer the model was "
                        "trained with", given ? given : source, ms_tokenizer_get_vocab_size (im->tokenizer),
                        im->vocab_size);
  return TRUE;
}

/* ---- writing ---------------------------------------------------------------- */

/* MemBART's memscope.config: config.json's keys the engine reads. */
static void
membart_config (const Import *im, JsonBuilder *b)
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
config_json (const Import *im)
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
dtypes_string (const Import *im)
{
  guint n = 0;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (im->dtypes_seen, &n);
  g_qsort_with_data (keys, n, sizeof *keys, compare_names, NULL);
  return g_strjoinv ("+", (char **) keys);
}

/* Writes the model to @path; the summary names it @shown. */
static gboolean
write_model (Import *im, const char *path, const char *shown, GString *summary, GError **error)
{
  g_autoptr (GPtrArray) names = expected_names (im);
  g_autofree MsTensorOut *out = g_new0 (MsTensorOut, names->len);
  g_autoptr (GPtrArray) buffers = g_ptr_array_new_with_free_func (g_free);
  size_t n_params = 0, n_bad = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const Found *f = g_hash_table_lookup (im->found, names->pdata[i]);
      const MsTensorInfo *t = f->info;
      float *data = g_try_new (float, MAX (t->n_elements, 1));
      if (!data)
        return model_error (error, "%s: cannot allocate memory to convert tensor %s", im->checkpoint,
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

gboolean
ms_import_checkpoint (const char *checkpoint, const char *out_path, const MsImportOptions *options, char **summary,
                      GError **error)
{
  g_return_val_if_fail (checkpoint && out_path && options, FALSE);
  Import im = { .checkpoint = checkpoint, .opt = options };
  im.shards = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_safetensors_free);
  im.found = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  im.dtypes_seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) weight_map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GString) text = g_string_new (NULL);
  gboolean ok = locate_and_open (&im, weight_map, error) && read_config (&im, error)
                && name_tensors (&im, weight_map, error) && check_tensors (&im, error) && check_options (&im, error)
                && load_tokenizer (&im, error);
  g_clear_pointer (&weight_map, g_hash_table_unref);
  if (ok)
    {
      /* Written to a temporary name and loaded back before it replaces
       * @out_path, so a file that would not load never takes its place. */
      g_autofree char *tmp = g_strdup_printf ("%s.import-tmp", out_path);
      ok = write_model (&im, tmp, out_path, text, error);
      import_clear (&im);   /* the mapped checkpoint is no longer needed */
      g_autoptr (MsModel) model = ok ? ms_model_load (tmp, error) : NULL;
      ok = model != NULL;
      g_clear_pointer (&model, ms_model_unref);
      if (ok && g_rename (tmp, out_path) != 0)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot write: %s", out_path, g_strerror (errno));
          ok = FALSE;
        }
      if (!ok)
        g_unlink (tmp);
    }
  else
    import_clear (&im);
  if (ok && summary)
    *summary = g_strdup (text->str);
  return ok;
}
