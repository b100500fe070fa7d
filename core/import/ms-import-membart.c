/* ms-import-membart.c — the checkpoint format of a MemBART of
 * qywu/memformers saved by save_pretrained (ms-import.h): config.json
 * with model_type "bart" and memory_len (MemBartConfig), the state_dict of
 * MemBartForConditionalGeneration, and the MemBART model file it becomes
 * (core/engines/ms-membart.c, whose tensor names are these). */
#include "ms-import-private.h"

#include <string.h>

static gboolean
membart_claims (JsonObject *o)
{
  const char *model_type = ms_import_member_string (o, "model_type");
  return model_type && g_str_equal (model_type, "bart") && json_object_has_member (o, "memory_len");
}

/* The keys the engine needs, under the same names in memscope.config. */
static gboolean
membart_read_config (Import *im, JsonObject *o, GError **error)
{
  im->bos_token_id = 0;
  if (!ms_import_config_int (im, o, "vocab_size", 1, MS_TOKENIZER_MAX_VOCAB, TRUE, &im->vocab_size, error)
      || !ms_import_config_int (im, o, "d_model", 1, MAX_WIDTH, TRUE, &im->d, error)
      || !ms_import_config_int (im, o, "encoder_attention_heads", 1, MAX_WIDTH, TRUE, &im->n_heads, error)
      || !ms_import_config_int (im, o, "decoder_attention_heads", 1, MAX_WIDTH, TRUE, &im->dec_heads, error)
      || !ms_import_config_int (im, o, "encoder_layers", 1, MAX_LAYERS, TRUE, &im->n_layers, error)
      || !ms_import_config_int (im, o, "decoder_layers", 1, MAX_LAYERS, TRUE, &im->dec_layers, error)
      || !ms_import_config_int (im, o, "encoder_ffn_dim", 1, 4 * MAX_WIDTH, TRUE, &im->d_ff, error)
      || !ms_import_config_int (im, o, "decoder_ffn_dim", 1, 4 * MAX_WIDTH, TRUE, &im->dec_ff, error)
      || !ms_import_config_int (im, o, "max_position_embeddings", 1, MAX_POSITIONS, TRUE, &im->n_positions, error)
      || !ms_import_config_int (im, o, "memory_len", 1, MAX_POSITIONS, TRUE, &im->m, error)
      || !ms_import_config_int (im, o, "bos_token_id", 0, MS_TOKENIZER_MAX_VOCAB, FALSE, &im->bos_token_id, error))
    return FALSE;
  if (im->d % im->n_heads != 0 || im->d % im->dec_heads != 0)
    return ms_import_error (error, "%s: d_model %d is not a multiple of encoder_attention_heads %d and "
                            "decoder_attention_heads %d", im->config_path, im->d, im->n_heads, im->dec_heads);
  if (im->bos_token_id >= im->vocab_size)
    return ms_import_error (error, "%s: bos_token_id %d is outside the vocabulary (vocab_size %d)", im->config_path,
                            im->bos_token_id, im->vocab_size);
  const char *act = ms_import_member_string (o, "activation_function");
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
                            "which is what Memscope computes", im->config_path);
  im->tie_word_embeddings = TRUE;
  return TRUE;
}

/* MemBartForConditionalGeneration's state_dict: model.shared,
 * model.encoder.*, model.decoder.*, final_logits_bias, the tied lm_head. */
static char *
membart_tensor_name (const char *name)
{
  if (g_str_has_prefix (name, "model."))
    name += strlen ("model.");
  if (g_str_equal (name, "shared.weight") || g_str_has_prefix (name, "encoder.") || g_str_has_prefix (name, "decoder.")
      || g_str_equal (name, "final_logits_bias") || g_str_equal (name, "lm_head.weight"))
    return g_strdup (name);
  return NULL;
}

static MsImportRole
membart_role (const char *name)
{
  return g_str_equal (name, "encoder.embed_tokens.weight")   ? MS_IMPORT_TIED_ENCODER
         : g_str_equal (name, "decoder.embed_tokens.weight") ? MS_IMPORT_TIED_DECODER
                                                             : MS_IMPORT_WEIGHT;
}

static const char *
membart_state_dict_prefix (const char *name)
{
  return g_str_equal (name, "final_logits_bias") ? "" : "model.";
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

static char *
membart_why (const Import *im, const char *name)
{
  (void) name;
  return g_strdup_printf (" (config.json: d_model %d, vocab_size %d, memory_len %d, max_position_embeddings %d, "
                          "encoder_ffn_dim %d, decoder_ffn_dim %d, %d + %d layers)", im->d, im->vocab_size, im->m,
                          im->n_positions, im->d_ff, im->dec_ff, im->n_layers, im->dec_layers);
}

static gboolean
membart_extra_tensor (const Import *im, const char *file, const char *shown, GError **error)
{
  return ms_import_error (error, "%s: tensor '%s' is not part of a MemBART with encoder_layers %d and "
                          "decoder_layers %d (config.json); does config.json belong to these weights?", file, shown,
                          im->n_layers, im->dec_layers);
}

static gboolean
membart_untied (const Import *im, const char *file, const char *shown, const char *where, GError **error)
{
  (void) im;
  return ms_import_error (error, "%s: tensor '%s' differs from shared.weight (%s); MemBART ties its embeddings and "
                          "LM head to shared.weight, and Memscope cannot run a model whose copies differ", file,
                          shown, where);
}

static gboolean
membart_check_options (Import *im, GError **error)
{
  if (im->opt->mask)
    return ms_import_error (error, "--mask is an RMT setting; a MemBART has none");
  int L = im->opt->segment_len;
  if (L < 1 || L > im->n_positions)
    return ms_import_error (error, "%s: give the segment length to step the model with (--segment-len N, from 1 to "
                            "%d, the checkpoint's max_position_embeddings); it is not in config.json",
                            im->checkpoint, im->n_positions);
  return TRUE;
}

/* config.json's keys the engine reads. */
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
membart_source (const Import *im, const char *base, const char *dtypes)
{
  return g_strdup_printf ("memscope-cli import of %s: a MemBART (qywu/memformers layout, %s weights, embeddings and "
                          "LM head tied to shared.weight); segment_len %d given to the import", base, dtypes,
                          im->opt->segment_len);
}

const MsImportArch ms_import_membart = {
  .engine = "membart",
  .embedding = "shared.weight",
  .claims = membart_claims,
  .read_config = membart_read_config,
  .tensor_name = membart_tensor_name,
  .unknown_tensor = "is not part of a MemBART checkpoint of qywu/memformers (expected model.shared, "
                    "model.encoder.*, model.decoder.*, final_logits_bias, possibly under module.)",
  .role = membart_role,
  .state_dict_prefix = membart_state_dict_prefix,
  .expected_names = membart_expected_names,
  .expected_shape = membart_expected_shape,
  .why = membart_why,
  .extra_tensor = membart_extra_tensor,
  .untied = membart_untied,
  .check_options = membart_check_options,
  .config = membart_config,
  .source = membart_source,
};
