/* ms-import.h — turning a checkpoint saved by public PyTorch code into one
 * Memscope model file (DESIGN §2), in C.
 *
 * What it reads: a GPT-2 Recurrent Memory Transformer as
 * booydar/recurrent-memory-transformer builds it (MemoryCell and
 * RecurrentWrapper around a Hugging Face GPT2LMHeadModel), saved the
 * Hugging Face way — a folder holding
 *   config.json                                  the GPT-2 configuration;
 *   model.safetensors, or model-*.safetensors    the weights, sharded ones
 *     with model.safetensors.index.json            listed by the index;
 *   tokenizer.json, or vocab.json + merges.txt   the tokenizer —
 * or a single .safetensors file with config.json (and the tokenizer) beside
 * it.  Tensor names are those of the state_dict: memory_cell.memory [m, d]
 * and memory_cell.model.transformer.* (HF GPT-2 names), possibly under a
 * "module." prefix (DistributedDataParallel), or without the memory_cell
 * prefixes; the tied memory_cell.model.lm_head.weight may be absent (as
 * accelerate ≥ 0.25 and save_pretrained write it) or present and equal to
 * wte; older transformers' attention buffers (attn.bias, attn.masked_bias,
 * of any dtype) are dropped.  Weights may be F32, F16 or BF16.
 *
 * What it takes from where: the number of memory tokens m from the memory
 * tensor; n_embd, n_head, n_layer, n_positions, vocab_size, n_inner from
 * config.json, checked against every tensor's shape; the segment length
 * and the mask from the caller (they are training settings, in neither
 * file).  Every inconsistency is an error that says what to pass or fix.
 *
 * What it refuses, saying what the checkpoint is and what is supported:
 * other backbones (config.json model_type other than "gpt2": Llama, NeoX,
 * …), GPT-2 settings Memscope does not compute (another activation or
 * LayerNorm epsilon, cross-attention, scaled-by-layer attention), an
 * untied LM head that differs from wte, unmerged LoRA adapters
 * (adapter_config.json, lora_ tensors), PyTorch pickles (.bin, .pt: the
 * shipped memscope-convert.py converts those), missing or extra tensors.
 *
 * It also reads a MemBART of qywu/memformers saved by save_pretrained:
 * config.json with model_type "bart" and memory_len (MemBartConfig), the
 * state_dict of MemBartForConditionalGeneration (model.shared.weight,
 * model.encoder.*, model.decoder.*, final_logits_bias; the tied copies
 * model.encoder.embed_tokens, model.decoder.embed_tokens and lm_head absent
 * or equal to model.shared), BART's vocab.json + merges.txt.  Its
 * segment_len is the caller's (1 … max_position_embeddings) and it has no
 * mask.
 *
 * Every input file is hostile: JSON files are size-bounded and shape-checked
 * (ms-json.h) before parsing, safetensors files are validated
 * (ms-safetensors.h), shard names from the index must be plain file names in
 * the checkpoint's folder, sizes are overflow-checked; messages name the
 * file.  The output is written atomically and then loaded back with
 * ms_model_load, so a file import writes is a file Memscope runs.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bounds on the JSON files of a checkpoint. */
#define MS_IMPORT_MAX_CONFIG_FILE (1u << 20)
#define MS_IMPORT_MAX_INDEX_FILE (64u << 20)
#define MS_IMPORT_MAX_SHARDS 4096

typedef struct {
  int segment_len;          /* L, tokens per segment: 1 ≤ L ≤ n_positions − 2m (MemBART: ≤ max_position_embeddings) */
  const char *mask;         /* "causal" (NULL: the HF wrapper's) or "blocks" (the paper's) */
  const char *tokenizer;    /* NULL: the checkpoint's; else a tokenizer.json, a vocab.json
                             * beside merges.txt, a folder holding them, or "bytes" */
} MsImportOptions;

/* Reads @checkpoint (a folder or a .safetensors file, above) and writes the
 * Memscope RMT (or MemBART) model file @out_path with the tokenizer embedded.  On
 * success returns TRUE and, when @summary is non-NULL, a few lines saying
 * what was read and written (owned).  FALSE with @error naming the file:
 * MS_ERROR_IO (unreadable, unwritable), MS_ERROR_FORMAT (a malformed
 * file), MS_ERROR_MODEL (a checkpoint Memscope cannot run, or options that
 * do not fit it); @out_path is then left as it was. */
gboolean ms_import_checkpoint (const char *checkpoint, const char *out_path, const MsImportOptions *options,
                               char **summary, GError **error);

G_END_DECLS
