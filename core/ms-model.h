/* ms-model.h — a loaded Memscope model: architecture, configuration and
 * immutable f32 weights.
 *
 * A model is reference-counted and read-only after load, so any number of
 * sessions (ms-session.h) on any threads may share one.  Loading validates
 * the safetensors container (ms-safetensors.h), the memscope.* metadata, the
 * configuration, and the presence and exact shape of every tensor the
 * architecture needs; unknown extra tensors and non-finite weights become
 * warnings, not failures.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "ms-safetensors.h"
#include "tokenizers/ms-tokenizer.h"

G_BEGIN_DECLS

#define MS_MODEL_FORMAT_VERSION 1
/* Largest per-session buffer footprint a loadable model may imply. */
#define MS_MODEL_MAX_SESSION_BYTES (8.0 * 1024 * 1024 * 1024)

typedef struct _MsEngine MsEngine;   /* ms-engine.h */

/* A model's configuration (DESIGN §3): the settings every engine has, and
 * the engine's own, parsed from memscope.config by the engine
 * (ms-engine.h).  n_slots is the number of memory slots: Memformer's K
 * ("n_slots"), RMT's m ("n_mem").  A plain value: copy it freely. */
typedef struct {
  const MsEngine *engine;   /* the table entry of memscope.arch; static, never freed */
  int vocab_size;
  int d_model;
  int n_heads;
  int d_ff;
  int n_slots;
  int segment_len;
  /* The engine's own settings, read only by the engine (its struct,
   * at most this size). */
  union { gint64 i[12]; double d[12]; gpointer p[12]; } settings;
} MsConfig;

/* One row of the file's tensor table, for `memscope-cli info`. */
typedef struct {
  const char *name;
  MsDtype file_dtype;
  int n_dims;
  int64_t shape[MS_SAFETENSORS_MAX_DIMS];
  gboolean used;   /* FALSE for extra tensors the architecture ignores */
} MsModelTensor;

typedef struct _MsModel MsModel;

/* Loads and validates @path.  Returns a new reference, or NULL with @error
 * (MS_ERROR_IO, MS_ERROR_FORMAT or MS_ERROR_MODEL) naming the file, the
 * tensor or setting, and what was expected. */
MsModel *ms_model_load (const char *path, GError **error);

/* The same over caller-owned bytes (the fuzzing entry point); the model
 * copies what it keeps, so @bytes may be freed after the call. */
MsModel *ms_model_load_bytes (const uint8_t *bytes, size_t size, const char *label, GError **error);

MsModel *ms_model_ref (MsModel *model);
void ms_model_unref (MsModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsModel, ms_model_unref)

const MsConfig *ms_model_get_config (const MsModel *model);
/* The model's tokenizer (memscope.tokenizer: "bytes", or a byte-level BPE
 * tokenizer embedded as the text of a tokenizer.json, ms-tokenizer.h); its
 * vocabulary size equals the configuration's vocab_size, or the model
 * does not load.  Borrowed (ms_tokenizer_ref to keep it). */
MsTokenizer *ms_model_get_tokenizer (const MsModel *model);
/* The tokenizer of the model file at @path, read from its header alone
 * (no weights are loaded or checked): for whoever needs a model's tokens
 * without the model, such as the workbench's text pane.  Owned; NULL with
 * the header's error naming the file. */
MsTokenizer *ms_model_file_tokenizer (const char *path, GError **error);
/* The file path (or label) the model was loaded from.  Borrowed. */
const char *ms_model_get_path (const MsModel *model);
/* A __metadata__ value (e.g. "memscope.source"), or NULL.  Borrowed. */
const char *ms_model_get_metadata (const MsModel *model, const char *key);
/* Number of f32 parameters the architecture uses. */
size_t ms_model_get_n_params (const MsModel *model);
guint ms_model_get_n_tensors (const MsModel *model);
const MsModelTensor *ms_model_get_tensor (const MsModel *model, guint i);
/* NULL-terminated warnings found at load (unknown tensors, NaN weights).  Borrowed. */
const char *const *ms_model_get_warnings (const MsModel *model);

/* Fills @c from the memscope.arch and memscope.config metadata strings:
 * looks up the engine (ms_engine_lookup), reads the common settings and
 * lets the engine read and validate its own; MS_ERROR_MODEL naming @label
 * and the setting when they are unusable.  The JSON is checked first
 * (ms-json.h: at most MS_CONFIG_MAX_JSON_DEPTH deep, MS_CONFIG_MAX_JSON_VALUES
 * values; MS_ERROR_FORMAT otherwise), so a hostile string cannot exhaust
 * the parser's stack or memory. */
#define MS_CONFIG_MAX_JSON_DEPTH 4
#define MS_CONFIG_MAX_JSON_VALUES (1u << 16)
gboolean ms_config_parse (MsConfig *c, const char *arch, const char *config_json, const char *label,
                          GError **error);

/* The memscope.arch value of @c's engine ("memformer", "rmt", …). */
const char *ms_config_get_arch (const MsConfig *c);

G_END_DECLS
