/* ms-import-rmt.c — the checkpoint format of a GPT-2 Recurrent Memory
 * Transformer as booydar/recurrent-memory-transformer saves it
 * (ms-import.h): config.json's GPT-2 keys, the state_dict's names
 * (memory_cell.memory, memory_cell.model.transformer.*), and the RMT
 * model file it becomes (core/engines/ms-rmt.c). */
#include "ms-import-private.h"

#include <math.h>
#include <string.h>

static gboolean
rmt_claims (JsonObject *o)
{
  const char *model_type = ms_import_member_string (o, "model_type");
  return model_type ? g_str_equal (model_type, "gpt2") : json_object_has_member (o, "n_embd");
}

static gboolean
rmt_read_config (Import *im, JsonObject *o, GError **error)
{
  im->d_ff = 0;
  if (!ms_import_config_int (im, o, "vocab_size", 1, MS_TOKENIZER_MAX_VOCAB, TRUE, &im->vocab_size, error)
      || !ms_import_config_int (im, o, "n_embd", 1, MAX_WIDTH, TRUE, &im->d, error)
      || !ms_import_config_int (im, o, "n_head", 1, MAX_WIDTH, TRUE, &im->n_heads, error)
      || !ms_import_config_int (im, o, "n_layer", 1, MAX_LAYERS, TRUE, &im->n_layers, error)
      || !ms_import_config_int (im, o, "n_positions", 1, MAX_POSITIONS, TRUE, &im->n_positions, error)
      || !ms_import_config_int (im, o, "n_inner", 1, 4 * MAX_WIDTH, FALSE, &im->d_ff, error))
    return FALSE;
  if (im->d_ff == 0)
    im->d_ff = 4 * im->d;   /* GPT-2's default when n_inner is null */
  if (im->d % im->n_heads != 0)
    return ms_import_error (error, "%s: n_embd %d is not a multiple of n_head %d", im->config_path, im->d,
                            im->n_heads);

  const char *act = ms_import_member_string (o, "activation_function");
  if (json_object_has_member (o, "activation_function")
      && (!act || !(g_str_equal (act, "gelu_new") || g_str_equal (act, "gelu_pytorch_tanh"))))
    {
      g_autofree char *shown = act ? g_utf8_make_valid (act, -1) : g_strdup ("(not a string)");
      return ms_import_error (error, "%s: activation_function \"%s\" is not supported: Memscope's GPT-2 blocks use "
                              "the tanh approximation of GELU (\"gelu_new\", GPT-2's own)", im->config_path, shown);
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
  return ms_import_config_bool_is (im, o, "scale_attn_weights", TRUE, "attention logits not divided by √d_h", error)
         && ms_import_config_bool_is (im, o, "scale_attn_by_inverse_layer_idx", FALSE,
                                      "attention logits also divided by the layer number", error)
         && ms_import_config_bool_is (im, o, "add_cross_attention", FALSE, "cross-attention blocks (an "
                                      "encoder-decoder)", error);
}

/* The booydar prefixes (memory_cell.model., memory_cell.memory) stripped. */
static char *
rmt_tensor_name (const char *name)
{
  if (g_str_has_prefix (name, "memory_cell.model."))
    name += strlen ("memory_cell.model.");
  else if (g_str_equal (name, "memory_cell.memory"))
    name = "memory";
  if (g_str_has_prefix (name, "transformer.") || g_str_equal (name, "lm_head.weight") || g_str_equal (name, "memory"))
    return g_strdup (name);
  return NULL;
}

/* HF GPT-2's attention buffers, transformer.h.N.attn.bias (the causal
 * mask) and .attn.masked_bias (the masking constant), are not weights. */
static MsImportRole
rmt_role (const char *name)
{
  if (!g_str_has_prefix (name, "transformer.h."))
    return MS_IMPORT_WEIGHT;
  const char *p = name + strlen ("transformer.h.");
  if (!g_ascii_isdigit (*p))
    return MS_IMPORT_WEIGHT;
  while (g_ascii_isdigit (*p))
    p++;
  return g_str_equal (p, ".attn.bias") || g_str_equal (p, ".attn.masked_bias") ? MS_IMPORT_DROPPED : MS_IMPORT_WEIGHT;
}

static const char *
rmt_state_dict_prefix (const char *name)
{
  (void) name;
  return "memory_cell.model.";
}

/* The tensors of an RMT with @im's configuration, in file order. */
static GPtrArray *
rmt_expected_names (const Import *im)
{
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

static int
rmt_expected_shape (const Import *im, const char *name, int64_t *shape)
{
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

static char *
rmt_why (const Import *im, const char *name)
{
  if (g_str_has_prefix (name, "transformer.h."))
    return g_strdup_printf (" (config.json: n_layer %d, n_embd %d, n_inner %d)", im->n_layers, im->d, im->d_ff);
  if (g_str_equal (name, "transformer.wte.weight"))
    return g_strdup_printf (" (config.json: vocab_size %d, n_embd %d)", im->vocab_size, im->d);
  if (g_str_equal (name, "transformer.wpe.weight"))
    return g_strdup_printf (" (config.json: n_positions %d, n_embd %d)", im->n_positions, im->d);
  return NULL;
}

static char *
rmt_missing (const Import *im, const char *name)
{
  if (!g_str_equal (name, "memory"))
    return NULL;
  return g_strdup_printf ("%s: tensor memory_cell.memory (the RMT's memory, [m, %d]) is missing: this is not a "
                          "Recurrent Memory Transformer checkpoint (a plain GPT-2 has no memory)", im->checkpoint,
                          im->d);
}

/* The number of memory tokens comes from the memory tensor. */
static gboolean
rmt_found_shape (Import *im, const char *name, const int64_t *shape, GError **error)
{
  if (!g_str_equal (name, "memory"))
    return TRUE;
  if (shape[0] < 1 || shape[0] > MAX_POSITIONS)
    return ms_import_error (error, "%s: the memory tensor has %" G_GINT64_FORMAT " rows (memory tokens); an RMT has "
                            "at least one", im->checkpoint, shape[0]);
  im->m = (int) shape[0];
  return TRUE;
}

static gboolean
rmt_extra_tensor (const Import *im, const char *file, const char *shown, GError **error)
{
  return ms_import_error (error, "%s: tensor '%s' is not part of a GPT-2 RMT with n_layer %d (config.json); does "
                          "config.json belong to these weights?", file, shown, im->n_layers);
}

static gboolean
rmt_untied (const Import *im, const char *file, const char *shown, const char *where, GError **error)
{
  (void) im;
  return ms_import_error (error, "%s: tensor '%s' is an untied LM head: it differs from transformer.wte.weight (%s). "
                          "Memscope's RMT ties the LM head to the token embedding as GPT-2 does (DESIGN §3.2) and "
                          "cannot run a model with a separate head", file, shown, where);
}

static gboolean
rmt_check_options (Import *im, GError **error)
{
  const char *mask = im->opt->mask ? im->opt->mask : "causal";
  if (!g_str_equal (mask, "causal") && !g_str_equal (mask, "blocks"))
    return ms_import_error (error, "mask \"%s\" is not one of causal (the HF wrapper's, the default) and blocks (the "
                            "paper's)", mask);
  int max_len = im->n_positions - 2 * im->m;
  if (max_len < 1)
    return ms_import_error (error, "%s: %d memory tokens before and after a segment need %d positions, but "
                            "config.json has n_positions %d: the memory tensor and config.json do not belong "
                            "together", im->checkpoint, im->m, 2 * im->m, im->n_positions);
  int L = im->opt->segment_len;
  if (L < 1)
    return ms_import_error (error, "%s: give the segment length the model was trained with (--segment-len N, from 1 "
                            "to %d: the checkpoint's n_positions %d less 2 × %d memory tokens); it is a training "
                            "setting, in neither config.json nor the weights", im->checkpoint, max_len,
                            im->n_positions, im->m);
  if (L > max_len)
    return ms_import_error (error, "%s: segment length %d does not fit: %d memory tokens before and after a segment "
                            "of %d tokens take %d positions, but the model has n_positions %d; pass --segment-len "
                            "at most %d", im->checkpoint, L, im->m, L, 2 * im->m + L, im->n_positions, max_len);
  return TRUE;
}

static void
rmt_config (const Import *im, JsonBuilder *b)
{
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
}

static char *
rmt_source (const Import *im, const char *base, const char *dtypes)
{
  return g_strdup_printf ("memscope-cli import of %s: a GPT-2 Recurrent Memory Transformer "
                          "(booydar/recurrent-memory-transformer layout, %s weights, LM head %s); segment_len %d and "
                          "mask %s given to the import", base, dtypes,
                          im->lm_head.info ? "present and equal to wte" : "tied, absent", im->opt->segment_len,
                          im->opt->mask ? im->opt->mask : "causal");
}

const MsImportArch ms_import_rmt = {
  .engine = "rmt",
  .embedding = "transformer.wte.weight",
  .claims = rmt_claims,
  .read_config = rmt_read_config,
  .tensor_name = rmt_tensor_name,
  .unknown_tensor = "is not part of a GPT-2 RMT checkpoint of booydar/recurrent-memory-transformer (expected "
                    "memory_cell.memory and memory_cell.model.transformer.*, possibly under module.); Memscope "
                    "imports that model only",
  .role = rmt_role,
  .state_dict_prefix = rmt_state_dict_prefix,
  .expected_names = rmt_expected_names,
  .expected_shape = rmt_expected_shape,
  .why = rmt_why,
  .missing = rmt_missing,
  .found_shape = rmt_found_shape,
  .extra_tensor = rmt_extra_tensor,
  .untied = rmt_untied,
  .check_options = rmt_check_options,
  .config = rmt_config,
  .source = rmt_source,
};
