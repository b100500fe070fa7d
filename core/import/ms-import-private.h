/* ms-import-private.h — (private) the steps of ms_import_checkpoint
 * (ms-import.h), shared by the files of core/import/:
 *   ms-import-checkpoint.c  reading the checkpoint: config.json, the weight
 *                           files (single, sharded), refusing pickles and
 *                           adapters;
 *   ms-import-names.c       mapping the checkpoint's tensor names to
 *                           Memscope's and checking every name and shape
 *                           against config.json;
 *   ms-import-write.c       writing the Memscope model file;
 *   ms-import.c             the steps in order, the options and the
 *                           tokenizer.
 * Each step either succeeds or sets an error naming the file. */
#pragma once

#include "ms-import.h"
#include "ms-safetensors.h"
#include "tokenizers/ms-tokenizer.h"

#include <glib.h>

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
} MsImportTensor;

typedef struct {
  /* Borrowed */
  const char *checkpoint;
  const MsImportOptions *opt;
  /* Owned */
  char *dir;                  /* the folder holding config.json */
  char *config_path;
  char *weights_what;         /* "model.safetensors", "3 shards listed by …" */
  GPtrArray *shards;          /* MsSafetensors* */
  GHashTable *found;          /* Memscope name (owned) → MsImportTensor* (owned) */
  MsImportTensor lm_head;              /* info NULL when absent */
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
  MsImportTensor tied[2];              /* encoder./decoder.embed_tokens.weight when stored: copies of shared.weight */
} MsImport;

/* The token embedding every other copy must equal: the LM head, and
 * MemBART's per-side embed_tokens (static). */
const char *ms_import_embedding_name (const MsImport *im);

/* Sets @error (MS_ERROR_MODEL) to the formatted message; returns FALSE. */
gboolean ms_import_error (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* ---- ms-import-checkpoint.c ---- */

/* Finds config.json, the weights and the folder; opens the weights.  The
 * weight map of a sharded checkpoint (tensor → shard name) goes to
 * @weight_map, which stays empty otherwise. */
gboolean ms_import_open_checkpoint (MsImport *im, GHashTable *weight_map, GError **error);
/* Reads config.json into @im: GPT-2's or MemBART's settings, refusing what
 * Memscope does not compute. */
gboolean ms_import_read_config (MsImport *im, GError **error);
/* The refusal of unmerged LoRA adapters found as @what in @path. */
gboolean ms_import_lora_error (const char *path, const char *what, GError **error);

/* ---- ms-import-names.c ---- */

/* Gives every tensor of the opened weights its Memscope name in
 * @im->found (or drops an attention buffer, or refuses it). */
gboolean ms_import_name_tensors (MsImport *im, GHashTable *weight_map, GError **error);
/* Checks the named tensors against config.json: every expected name
 * present with its exact shape, nothing extra, tied copies equal. */
gboolean ms_import_check_tensors (MsImport *im, GError **error);
/* The tensors a model of @im's configuration has, in file order (owned
 * array of static or owned names). */
GPtrArray *ms_import_expected_names (const MsImport *im);

/* ---- ms-import-write.c ---- */

/* Writes the model to @path, converted to f32; the summary names it
 * @shown. */
gboolean ms_import_write_model (MsImport *im, const char *path, const char *shown, GString *summary, GError **error);
