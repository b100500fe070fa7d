/* ms-import.c — reading a Hugging Face-style checkpoint (folder,
 * config.json, one or many .safetensors, tokenizer) and writing one
 * Memscope model file; the contract is in ms-import.h.  What the
 * checkpoint of each architecture holds is its MsImportArch
 * (ms-import-rmt.c, ms-import-membart.c); the steps here ask it.
 *
 * The steps, each of which either succeeds or leaves a message naming the
 * file: locate the files; read config.json; open the weight files; give
 * every tensor its Memscope name (or drop or refuse it); check the names
 * and shapes against config.json; check the options; load the tokenizer;
 * convert to f32, write, and load the written file back. */
#include "ms-import-private.h"
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

gboolean
ms_import_error (GError **error, const char *fmt, ...)
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

const char *
ms_import_member_string (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n)
                                                                                       : NULL;
}

gboolean
ms_import_config_int (Import *im, JsonObject *o, const char *key, int min, int max, gboolean required, int *out,
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

gboolean
ms_import_config_bool_is (Import *im, JsonObject *o, const char *key, gboolean want, const char *what,
                          GError **error)
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

/* The architectures whose checkpoints import reads, asked in turn whether
 * a config.json is theirs. */
static const MsImportArch *const import_archs[] = { &ms_import_rmt, &ms_import_membart };

static gboolean
read_config (Import *im, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *o = read_json_object (im->config_path, MS_IMPORT_MAX_CONFIG_FILE, CONFIG_MAX_DEPTH, CONFIG_MAX_VALUES,
                                    parser, error);
  if (!o)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (import_archs); i++)
    if (import_archs[i]->claims (o))
      {
        im->arch = import_archs[i];
        return im->arch->read_config (im, o, error);
      }
  const char *model_type = ms_import_member_string (o, "model_type");
  if (model_type && g_str_equal (model_type, "bart"))
    return ms_import_error (error, "%s: model_type \"bart\" without memory_len is a plain BART; Memscope imports the "
                            "memory-augmented MemBART of qywu/memformers (its config.json has memory_len) and "
                            "Recurrent Memory Transformers on GPT-2", im->config_path);
  if (model_type)
    {
      g_autofree char *shown = g_utf8_make_valid (model_type, -1);
      return ms_import_error (error, "%s: model_type \"%s\" is %s; Memscope imports Recurrent Memory Transformers on "
                              "a GPT-2 backbone (model_type \"gpt2\", as booydar/recurrent-memory-transformer builds "
                              "them) and runs the Memformer and RMT architectures of DESIGN §3", im->config_path,
                              shown, backbone_name (model_type));
    }
  return ms_import_error (error, "%s: neither \"model_type\" nor \"n_embd\": not the config.json of a GPT-2 model "
                          "(Memscope imports RMTs on a GPT-2 backbone)", im->config_path);
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

static gboolean
lora_error (const char *path, const char *what, GError **error)
{
  return ms_import_error (error, "%s: %s: this checkpoint holds LoRA adapters that are not merged into the model. "
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
          return ms_import_error (error, "%s: weight_map gives tensor '%s' a shard that is not a .safetensors file name "
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

/* Memscope's name for a tensor of the checkpoint: a DDP "module." prefix
 * stripped, then the architecture's own (MsImportArch.tensor_name). */
static char *
memscope_name (const Import *im, const char *name)
{
  while (g_str_has_prefix (name, "module."))
    name += strlen ("module.");
  return im->arch->tensor_name (name);
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
            return ms_import_error (error, "%s: tensor '%s' is also in %s; a tensor belongs to one shard", file, shown,
                                    other);
          g_hash_table_insert (original, (gpointer) t->name, (gpointer) file);
          if (strstr (t->name, "lora_") || g_str_has_prefix (t->name, "base_model.model."))
            {
              g_autofree char *what = g_strdup_printf ("tensor '%s' is a LoRA adapter weight", shown);
              return lora_error (file, what, error);
            }
          char *name = memscope_name (im, t->name);
          if (!name)
            return ms_import_error (error, "%s: tensor '%s' %s", file, shown, im->arch->unknown_tensor);
          MsImportRole role = im->arch->role (name);
          if (role == MS_IMPORT_DROPPED)
            {
              im->n_dropped++;
              g_free (name);
              continue;
            }
          if (!ms_dtype_is_float (t->dtype))
            {
              g_free (name);
              return ms_import_error (error, "%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16", file,
                                      shown, ms_dtype_name (t->dtype));
            }
          g_hash_table_add (im->dtypes_seen, (gpointer) ms_dtype_name (t->dtype));
          if (role == MS_IMPORT_TIED_ENCODER || role == MS_IMPORT_TIED_DECODER)
            {
              im->tied[role == MS_IMPORT_TIED_DECODER] = (Found) { t, file, st };
              g_free (name);
              continue;
            }
          if (g_str_equal (name, "lm_head.weight"))
            {
              if (im->lm_head.info)
                {
                  g_free (name);
                  return ms_import_error (error, "%s: tensor '%s' is a second LM head", file, shown);
                }
              im->lm_head = (Found) { t, file, st };
              g_free (name);
              continue;
            }
          Found *prev = g_hash_table_lookup (im->found, name);
          if (prev)
            {
              g_autofree char *prev_shown = g_utf8_make_valid (prev->info->name, -1);
              ms_import_error (error, "%s: tensors '%s' and '%s' both give %s", file, prev_shown, shown, name);
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
      return ms_import_error (error, "%s/model.safetensors.index.json: weight_map puts tensor '%s' in %s, but %s",
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
      g_autofree char *said = im->arch->missing ? im->arch->missing (im, name) : NULL;
      if (said)
        ms_import_error (error, "%s", said);
      else
        ms_import_error (error, "%s: tensor %s (%s%s in the public code's state_dict) is missing; expected shape %s%s",
                         im->checkpoint, name, im->arch->state_dict_prefix (name), name, want, why);
      return NULL;
    }
  gboolean same = f->info->n_dims == n_dims;
  for (int i = 0; same && i < n_dims; i++)
    same = shape[i] < 0 || f->info->shape[i] == shape[i];
  if (!same)
    {
      g_autofree char *got = ms_shape_string (f->info->n_dims, f->info->shape);
      g_autofree char *shown = g_utf8_make_valid (f->info->name, -1);
      ms_import_error (error, "%s: tensor '%s' has shape %s but config.json needs %s%s", f->file, shown, got, want, why);
      return NULL;
    }
  for (int i = 0; i < n_dims; i++)
    shape[i] = f->info->shape[i];
  return f->info;
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
        return ms_import_error (error, "%s: cannot allocate memory to compare '%s' with %s", copy->file, shown,
                                im->arch->embedding);
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
  return im->arch->untied (im, copy->file, shown, where, error);
}

static gboolean
check_tensors (Import *im, GError **error)
{
  /* A checkpoint saved without the embedding but with a copy tied to it. */
  Found *copies[] = { &im->lm_head, &im->tied[0], &im->tied[1] };
  for (guint i = 0; i < G_N_ELEMENTS (copies); i++)
    if (!g_hash_table_contains (im->found, im->arch->embedding) && copies[i]->info && im->tie_word_embeddings)
      {
        Found *f = g_new (Found, 1);
        *f = *copies[i];
        g_hash_table_insert (im->found, g_strdup (im->arch->embedding), f);
        copies[i]->info = NULL;
      }
  if (!im->lm_head.info && !im->tie_word_embeddings)
    return ms_import_error (error, "%s: config.json says tie_word_embeddings false, but the checkpoint has no "
                            "lm_head.weight: the head the model was trained with is not in the checkpoint", im->config_path);

  g_autoptr (GPtrArray) names = im->arch->expected_names (im);
  for (guint i = 0; i < names->len; i++)
    {
      int64_t shape[3];
      int n_dims = im->arch->expected_shape (im, names->pdata[i], shape);
      g_autofree char *why = im->arch->why (im, names->pdata[i]);
      if (!need (im, names->pdata[i], n_dims, shape, why ? why : "", error))
        return FALSE;
      if (im->arch->found_shape && !im->arch->found_shape (im, names->pdata[i], shape, error))
        return FALSE;
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
            return im->arch->extra_tensor (im, f->file, shown, error);
          }
    }
  const MsTensorInfo *wte = ((Found *) g_hash_table_lookup (im->found, im->arch->embedding))->info;
  for (guint i = 0; i < G_N_ELEMENTS (copies); i++)
    if (copies[i]->info && !check_lm_head (im, copies[i], wte, error))
      return FALSE;
  return TRUE;
}

/* ---- options and tokenizer ---------------------------------------------- */

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
    return ms_import_error (error, "%s: the tokenizer has %d ids but the model's vocabulary (config.json vocab_size, the "
                            "rows of transformer.wte.weight) has %d; pass --tokenizer with the tokenizer the model was "
                            "trained with", given ? given : source, ms_tokenizer_get_vocab_size (im->tokenizer),
                            im->vocab_size);
  return TRUE;
}

/* ---- writing ---------------------------------------------------------------- */

/* memscope.config: the architecture's members. */
static char *
config_json (const Import *im)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  im->arch->config (im, b);
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
  g_autoptr (GPtrArray) names = im->arch->expected_names (im);
  g_autofree MsTensorOut *out = g_new0 (MsTensorOut, names->len);
  g_autoptr (GPtrArray) buffers = g_ptr_array_new_with_free_func (g_free);
  size_t n_params = 0, n_bad = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const Found *f = g_hash_table_lookup (im->found, names->pdata[i]);
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
  g_autofree char *source = im->arch->source (im, base, dtypes);
  const char *metadata[] = { "memscope.format", "1", "memscope.arch", im->arch->engine,
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
                && name_tensors (&im, weight_map, error) && check_tensors (&im, error) && im.arch->check_options (&im, error)
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
