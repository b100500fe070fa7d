/* ms-import-private.h — what the checkpoint importer's common steps
 * (ms-import.c) and its architectures (ms-import-rmt.c,
 * ms-import-membart.c) share: the import in progress, the helpers that
 * read config.json, and MsImportArch, the table entry through which the
 * common steps ask an architecture what its checkpoint holds.  Nothing
 * outside core/import/ includes it. */
#pragma once

#include "ms-import.h"
#include "ms-safetensors.h"
#include "tokenizers/ms-tokenizer.h"

#include <json-glib/json-glib.h>

/* Largest dimensions accepted from config.json, far above any checkpoint
 * Memscope imports and small enough that products of two stay well inside
 * 64 bits. */
#define MAX_WIDTH (1 << 16)
#define MAX_LAYERS 1024
#define MAX_POSITIONS (1 << 24)

typedef struct _MsImportArch MsImportArch;

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
  const MsImportArch *arch;   /* set by read_config from config.json */
  /* Owned */
  char *dir;                  /* the folder holding config.json */
  char *config_path;
  char *weights_what;         /* "model.safetensors", "3 shards listed by …" */
  GPtrArray *shards;          /* MsSafetensors* */
  GHashTable *found;          /* Memscope name (owned) → Found* (owned) */
  Found lm_head;              /* info NULL when absent */
  int n_dropped;              /* tensors that are no weights (GPT-2's attention buffers) */
  GHashTable *dtypes_seen;    /* dtype name (static) → TRUE */
  MsTokenizer *tokenizer;
  /* From config.json and the tensors */
  int vocab_size, d, n_heads, n_layers, d_ff, n_positions, m;
  gboolean tie_word_embeddings;
  /* MemBART: n_heads, d_ff and n_layers are the encoder's, m is
   * memory_len, n_positions max_position_embeddings; the decoder's own
   * below */
  int dec_layers, dec_heads, dec_ff, bos_token_id;
  gboolean scale_embedding;
  Found tied[2];              /* encoder./decoder.embed_tokens.weight when stored: copies of the embedding */
} Import;

/* What a checkpoint tensor is, by its Memscope name. */
typedef enum {
  MS_IMPORT_WEIGHT,           /* a weight of the model file */
  MS_IMPORT_DROPPED,          /* not a weight (a buffer): left out */
  MS_IMPORT_TIED_ENCODER,     /* a copy of the token embedding, checked equal and left out */
  MS_IMPORT_TIED_DECODER,
} MsImportRole;

/* One architecture's checkpoint format.  Every hook is required unless
 * marked optional; @im's configuration is read when the later ones run. */
struct _MsImportArch {
  const char *engine;         /* memscope.arch of the model file written: an MsEngine's name */
  const char *embedding;      /* the token embedding, whose tied copies must equal it */
  /* config.json @o is this architecture's (its model_type and keys) */
  gboolean (*claims) (JsonObject *o);
  gboolean (*read_config) (Import *im, JsonObject *o, GError **error);
  /* Memscope's name for the checkpoint tensor @name (a DDP "module."
   * already stripped), owned; NULL when the architecture has no such
   * tensor. */
  char *(*tensor_name) (const char *name);
  const char *unknown_tensor; /* what the checkpoint's tensors are, for the message about one that is not */
  MsImportRole (*role) (const char *name);
  /* The prefix @name has in the public code's state_dict ("model.") */
  const char *(*state_dict_prefix) (const char *name);
  /* The tensors of the model file, in file order, and each one's shape
   * (returns the number of dimensions; −1 in @shape: any size). */
  GPtrArray *(*expected_names) (const Import *im);
  int (*expected_shape) (const Import *im, const char *name, int64_t *shape);
  /* The config.json numbers behind @name's shape, as " (config.json: …)",
   * owned; NULL for none. */
  char *(*why) (const Import *im, const char *name);
  /* Optional: the message for the missing tensor @name when it says more
   * than "missing" (what the checkpoint then is), owned; NULL for none. */
  char *(*missing) (const Import *im, const char *name);
  /* Optional: takes what the found tensor @name's @shape says (RMT: the
   * number of memory tokens). */
  gboolean (*found_shape) (Import *im, const char *name, const int64_t *shape, GError **error);
  /* The message for tensor @shown of @file that the configuration has no
   * place for; and for a tied copy that differs from the embedding
   * (@where says how). */
  gboolean (*extra_tensor) (const Import *im, const char *file, const char *shown, GError **error);
  gboolean (*untied) (const Import *im, const char *file, const char *shown, const char *where, GError **error);
  /* The caller's options (segment length, mask) against the configuration */
  gboolean (*check_options) (Import *im, GError **error);
  /* memscope.config's members, into the open object @b */
  void (*config) (const Import *im, JsonBuilder *b);
  /* memscope.source: what was imported (@base, the checkpoint's name) and how */
  char *(*source) (const Import *im, const char *base, const char *dtypes);
};

extern const MsImportArch ms_import_rmt;
extern const MsImportArch ms_import_membart;

/* Sets @error (MS_ERROR_MODEL) to the formatted message; returns FALSE. */
gboolean ms_import_error (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
/* The string member @key of @o, or NULL when absent or not a string. */
const char *ms_import_member_string (JsonObject *o, const char *key);
/* Reads the integer member @key of config.json into @out (left alone when
 * absent and not @required; null counts as absent). */
gboolean ms_import_config_int (Import *im, JsonObject *o, const char *key, int min, int max, gboolean required,
                               int *out, GError **error);
/* A boolean member of config.json that must have the value Memscope
 * computes (@want) when present; @what says what the other value would
 * mean. */
gboolean ms_import_config_bool_is (Import *im, JsonObject *o, const char *key, gboolean want, const char *what,
                                   GError **error);
