/* ms-import-names.c — mapping a checkpoint's tensor names to Memscope's
 * (the booydar and qywu/memformers prefixes stripped, attention buffers
 * dropped) and checking every name and shape against config.json
 * (ms-import-private.h). */
#include "ms-import-private.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

/* ---- naming the tensors -------------------------------------------------- */

/* Memscope's name for a tensor of the checkpoint: the booydar prefixes
 * (memory_cell.model., memory_cell.memory) and a DDP "module." stripped.
 * NULL when the name is none of those. */
static char *
memscope_name (const MsImport *im, const char *name)
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

gboolean
ms_import_name_tensors (MsImport *im, GHashTable *weight_map, GError **error)
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
              return ms_import_lora_error (file, what, error);
            }
          char *name = memscope_name (im, t->name);
          if (!name && im->membart)
            return ms_import_error (error, "%s: tensor '%s' is not part of a MemBART checkpoint of qywu/memformers "
                                    "(expected model.shared, model.encoder.*, model.decoder.*, final_logits_bias, "
                                    "possibly under module.)", file, shown);
          if (!name)
            return ms_import_error (error, "%s: tensor '%s' is not part of a GPT-2 RMT checkpoint of "
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
              return ms_import_error (error, "%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16", file,
                                      shown, ms_dtype_name (t->dtype));
            }
          g_hash_table_add (im->dtypes_seen, (gpointer) ms_dtype_name (t->dtype));
          int side = !im->membart ? -1 : g_str_equal (name, "encoder.embed_tokens.weight") ? 0
                                         : g_str_equal (name, "decoder.embed_tokens.weight") ? 1 : -1;
          if (side >= 0)
            {
              im->tied[side] = (MsImportTensor) { t, file, st };
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
              im->lm_head = (MsImportTensor) { t, file, st };
              g_free (name);
              continue;
            }
          MsImportTensor *prev = g_hash_table_lookup (im->found, name);
          if (prev)
            {
              g_autofree char *prev_shown = g_utf8_make_valid (prev->info->name, -1);
              ms_import_error (error, "%s: tensors '%s' and '%s' both give %s", file, prev_shown, shown, name);
              g_free (name);
              return FALSE;
            }
          MsImportTensor *f = g_new (MsImportTensor, 1);
          *f = (MsImportTensor) { t, file, st };
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
                              im->dir, shown, (const char *) value,
                              file ? "another shard holds it" : "no shard holds it");
    }
  return TRUE;
}

/* ---- checking names and shapes against config.json ---------------------- */

/* The tensor @name with @n_dims dimensions of @shape (−1: any size, which
 * is then returned in @shape), or FALSE with an error saying what is
 * missing or mis-shaped. */
static const MsTensorInfo *
need (MsImport *im, const char *name, int n_dims, int64_t *shape, const char *why, GError **error)
{
  MsImportTensor *f = g_hash_table_lookup (im->found, name);
  g_autofree char *want = ms_shape_string (n_dims, shape);
  if (!f)
    {
      ms_import_error (error, "%s: tensor %s (%s%s in the public code's state_dict) is missing; "
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
      ms_import_error (error, "%s: tensor '%s' has shape %s but config.json needs %s%s", f->file, shown, got, want,
                       why);
      return NULL;
    }
  for (int i = 0; i < n_dims; i++)
    shape[i] = f->info->shape[i];
  return f->info;
}

/* The tensors of a MemBART with @im's configuration, in file order (the
 * engine's names: core/engines/ms-membart.c). */
static GPtrArray *
membart_expected_names (const MsImport *im)
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
membart_expected_shape (const MsImport *im, const char *name, int64_t *shape)
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
GPtrArray *
ms_import_expected_names (const MsImport *im)
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

/* The expected shape of @name (an entry of ms_import_expected_names). */
static int
expected_shape (const MsImport *im, const char *name, int64_t *shape)
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
check_lm_head (MsImport *im, const MsImportTensor *copy, const MsTensorInfo *wte, GError **error)
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
                                ms_import_embedding_name (im));
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
                             ? g_strdup_printf ("first differs at row %zu, column %zu by %g",
                                                at / (size_t) wte->shape[1], at % (size_t) wte->shape[1], diff)
                             : g_strdup ("its shape differs");
  if (im->membart)
    return ms_import_error (error, "%s: tensor '%s' differs from shared.weight (%s); MemBART ties its embeddings and "
                            "LM head to shared.weight, and Memscope cannot run a model whose copies differ",
                            copy->file, shown, where);
  return ms_import_error (error, "%s: tensor '%s' is an untied LM head: it differs from transformer.wte.weight (%s). "
                          "Memscope's RMT ties the LM head to the token embedding as GPT-2 does (DESIGN §3.2) and "
                          "cannot run a model with a separate head", copy->file, shown, where);
}

gboolean
ms_import_check_tensors (MsImport *im, GError **error)
{
  /* A checkpoint saved without the embedding but with a copy tied to it. */
  MsImportTensor *copies[] = { &im->lm_head, &im->tied[0], &im->tied[1] };
  for (guint i = 0; i < G_N_ELEMENTS (copies); i++)
    if (!g_hash_table_contains (im->found, ms_import_embedding_name (im)) && copies[i]->info && im->tie_word_embeddings)
      {
        MsImportTensor *f = g_new (MsImportTensor, 1);
        *f = *copies[i];
        g_hash_table_insert (im->found, g_strdup (ms_import_embedding_name (im)), f);
        copies[i]->info = NULL;
      }
  if (!im->lm_head.info && !im->tie_word_embeddings)
    return ms_import_error (error, "%s: config.json says tie_word_embeddings false, but the checkpoint has no "
                            "lm_head.weight: the head the model was trained with is not in the "
                            "checkpoint", im->config_path);

  g_autoptr (GPtrArray) names = ms_import_expected_names (im);
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
            return ms_import_error (error, "%s: the memory tensor has "
                                    "%" G_GINT64_FORMAT " rows (memory tokens); an RMT "
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
            MsImportTensor *f = value;
            g_autofree char *shown = g_utf8_make_valid (f->info->name, -1);
            if (im->membart)
              return ms_import_error (error, "%s: tensor '%s' is not part of a MemBART with encoder_layers %d and "
                                      "decoder_layers %d (config.json); does config.json belong to these weights?",
                                      f->file, shown, im->n_layers, im->dec_layers);
            return ms_import_error (error, "%s: tensor '%s' is not part of a GPT-2 RMT with n_layer %d (config.json); "
                                    "does config.json belong to these weights?", f->file, shown, im->n_layers);
          }
    }
  const MsTensorInfo *wte = ((MsImportTensor *) g_hash_table_lookup (im->found, ms_import_embedding_name (im)))->info;
  for (guint i = 0; i < G_N_ELEMENTS (copies); i++)
    if (copies[i]->info && !check_lm_head (im, copies[i], wte, error))
      return FALSE;
  return TRUE;
}
