/* ms-engine.h — the engine table: one description per architecture
 * (DESIGN §4), and everything an engine needs to plug into Memscope.
 *
 * An engine is a static MsEngine value.  The built-in ones (Memformer,
 * RMT) are defined in core/engines/; ms_engine_register() adds one at run
 * time (a test's toy engine).  A model file names its engine in
 * memscope.arch; ms_engine_lookup() finds it, and from then on the model
 * (MsConfig.engine), sessions, the recorder, the views, eval and the CLI
 * reach the architecture only through this table.  Nothing outside an
 * engine's own file tests which architecture runs.
 *
 * What an engine states:
 *   - its name (the memscope.arch value) and display name;
 *   - its configuration: the keys it reads from memscope.config beyond the
 *     common ones (parse, which also validates), and rows describing it
 *     (`memscope-cli info`);
 *   - its weights: a struct of named pointers the model allocates
 *     (weights_size) and the engine binds through MsBinder;
 *   - ONE sizes function: the floats of its carry and of every scratch
 *     buffer.  scratch_new allocates exactly those, and the loader's memory
 *     estimate (ms_engine_footprint) sums them, so the two cannot disagree;
 *   - its initial memory M_0 and its step over an explicit MsEngineState;
 *   - the attention kinds it offers, each with an MsAttentionLayout:
 *     identifier, role, layers, shape as a function of the segment's token count,
 *     and labelled row and column blocks, including which blocks hold the
 *     old memory.  Retention, slot types, provenance and read usage
 *     (ms-analysis.h) follow from the layout alone.
 *
 * Dimension letters: K memory slots, d model width, H heads, L segment_len,
 * n = L_t ≤ L tokens in the segment, V vocabulary.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "ms-model.h"
#include "ms-session.h"

G_BEGIN_DECLS

/* ---- attention layouts ------------------------------------------------ */

/* What an attention kind says about memory.  READ: rows are the segment's
 * tokens (or positions standing for them), columns the memory slots they
 * read.  WRITE: rows are the new memory slots, columns the sources each
 * one's content is drawn from (some of which hold the old memory). */
typedef enum {
  MS_ATTENTION_READ,
  MS_ATTENTION_WRITE,
} MsAttentionRole;

/* How many rows or columns a block spans, and what its index means. */
typedef enum {
  MS_BLOCK_SELF,     /* 1: the row's own memory slot (only beside SLOTS rows) */
  MS_BLOCK_SLOTS,    /* K: index j is memory slot j */
  MS_BLOCK_TOKENS,   /* n: index j is token j of the segment */
} MsBlockExtent;

typedef struct {
  const char *label;      /* what the block is, lower case: "self", "tokens", "read block", "slots" */
  MsBlockExtent extent;
  gboolean old_memory;    /* holds M_t, the memory before the segment (DESIGN §5): write attention
                             on it is retention, and its column j (SELF: the row's own slot) is
                             the share drawn from old slot j (transfer) */
} MsAttentionBlock;

#define MS_ATTENTION_MAX_BLOCKS 4

/* One attention kind an engine offers.  The observation (ms-session.h) of
 * @kind is (H, rows, cols) with H = the config's n_heads; rows and columns
 * are the blocks in order, so with the sizes of the segment's n tokens
 * they give the shape (ms_attention_layout_shape).  Per-layer kinds are
 * offered once per layer l = 0 … n_layers − 1, the others once per segment
 * with layer −1. */
typedef struct {
  MsObsKind kind;            /* MS_OBS_READ or MS_OBS_WRITE: at most one layout of each per engine */
  const char *name;          /* the layout's identifier, e.g. "reader", "rmt_write"; unique over all
                                engines.  The parity fixtures (tests/reference) name their attention
                                tensors by it; recordings store the kind's name instead ("read",
                                "write": ms-recording-names.h), the same for every engine */
  const char *display_name;  /* for titles, e.g. "Write attention (writer)", "Write attention (write rows)" */
  MsAttentionRole role;
  /* Layers that offer this kind: l = 0 … n_layers(c) − 1 (for READ: the
   * layers that read memory).  NULL: not per layer (one matrix per head,
   * layer −1). */
  int (*n_layers) (const MsConfig *c);
  int n_row_blocks;
  MsAttentionBlock rows[MS_ATTENTION_MAX_BLOCKS];
  int n_col_blocks;
  MsAttentionBlock cols[MS_ATTENTION_MAX_BLOCKS];
} MsAttentionLayout;

/* Rows or columns of @block for a segment of @n_tokens tokens. */
int ms_attention_block_size (const MsAttentionBlock *block, const MsConfig *c, int n_tokens);

/* The observation's shape for a segment of @n_tokens tokens: (heads, rows,
 * cols).  Any pointer may be NULL. */
void ms_attention_layout_shape (const MsAttentionLayout *a, const MsConfig *c, int n_tokens, int *heads,
                                int *rows, int *cols);

/* Whether @a is offered once per layer, and how many layers offer it (1
 * when not per layer). */
gboolean ms_attention_layout_is_per_layer (const MsAttentionLayout *a);
int ms_attention_layout_n_layers (const MsAttentionLayout *a, const MsConfig *c);

/* The layer whose write attention is the write distribution (DESIGN §5:
 * the last layer of a per-layer kind), or −1 when @a is not per layer. */
int ms_attention_layout_last_layer (const MsAttentionLayout *a, const MsConfig *c);

/* Which column block holds column @index of a segment with @n_tokens
 * tokens: returns the block's index in @a->cols and stores the offset
 * inside the block in @offset (may be NULL); −1 when @index is out of
 * range.  E.g. RMT's write rows, n = 3, m = 2: column 4 is block 1
 * ("tokens"), offset 2. */
int ms_attention_layout_column_block (const MsAttentionLayout *a, const MsConfig *c, int n_tokens, int index,
                                      int *offset);
/* The first column of column block @block. */
int ms_attention_layout_column_start (const MsAttentionLayout *a, const MsConfig *c, int n_tokens, int block);

/* TRUE when only the row's own slot holds old memory (a SELF block), so
 * the transfer T_t is diagonal and follows from the retention alone;
 * FALSE when old-memory columns are SLOTS blocks (RMT), so T_t is a full
 * K × K matrix worth storing. */
gboolean ms_attention_layout_transfer_is_diagonal (const MsAttentionLayout *a);

/* ---- configuration ---------------------------------------------------- */

/* Reads memscope.config (a JSON object) for an engine's parse_config: each
 * function reads one key, stores it in @out and returns TRUE, or sets
 * @error (MS_ERROR_MODEL, naming the file, the key and what was expected)
 * and returns FALSE.  A missing key leaves @out alone (its default) when
 * @required is FALSE. */
typedef struct _MsConfigReader MsConfigReader;

gboolean ms_config_reader_int (MsConfigReader *r, const char *key, int min, int max, gboolean required, int *out,
                               GError **error);
/* A finite number > @min_exclusive (integers are accepted). */
gboolean ms_config_reader_double (MsConfigReader *r, const char *key, double min_exclusive, gboolean required,
                                  double *out, GError **error);
gboolean ms_config_reader_bool (MsConfigReader *r, const char *key, gboolean required, gboolean *out,
                                GError **error);
/* One of the NULL-terminated @choices; @out gets its index. */
gboolean ms_config_reader_choice (MsConfigReader *r, const char *key, const char *const *choices, gboolean required,
                                  int *out, GError **error);
/* The file (or label) being parsed, for an engine's own messages. */
const char *ms_config_reader_get_label (MsConfigReader *r);

/* One row of a configuration's description: the key as in memscope.config
 * and a typed value.  Strings are static or owned by the engine. */
typedef enum { MS_CONFIG_INT, MS_CONFIG_DOUBLE, MS_CONFIG_BOOL, MS_CONFIG_STRING } MsConfigValueType;

typedef struct {
  const char *key;
  MsConfigValueType type;
  gint64 i;               /* INT, BOOL */
  double d;               /* DOUBLE */
  const char *s;          /* STRING */
} MsConfigRow;

#define MS_CONFIG_MAX_ROWS 24

/* The rows describing @c: the common settings (vocab_size, d_model,
 * n_heads, d_ff, segment_len, n_slots — so named for every engine, though
 * RMT's file calls it n_mem), then the engine's.  Returns the number filled (≤ MS_CONFIG_MAX_ROWS). */
guint ms_config_describe (const MsConfig *c, MsConfigRow rows[MS_CONFIG_MAX_ROWS]);
/* A row's value as text ("16", "0.5", "true", "causal").  Owned. */
char *ms_config_row_format (const MsConfigRow *row);

/* ---- weights ---------------------------------------------------------- */

typedef struct { const float *weight, *bias; } MsAffine;   /* Linear / Conv1D / LayerNorm */
typedef struct _MsBinder MsBinder;

/* An engine's bind function lists the tensors it needs; the loader then
 * checks every one against the file (present, exact shape), converts them
 * to f32 into one allocation owned by the model and sets the pointers.
 * Layout conventions in the files: nn.Linear weight [out, in], GPT-2
 * Conv1D weight [in, out]; in memory both are W[in, out] laid out for
 * ms_affine (ms-kernels.h), Linear weights transposed first.  Pointers stay
 * valid as long as the model. */

/* Tensor @name (printf format) must exist with @n_dims dims of @shape; @slot
 * gets its f32 data, row-major as in the file. */
void ms_binder_add (MsBinder *b, const float **slot, int n_dims, const int *shape, const char *name_fmt, ...)
  G_GNUC_PRINTF (5, 6);
/* "@prefix.@name.weight" with shape (rows, cols) — or (rows) when cols is
 * 0 — and "@prefix.@name.bias" (n_bias).  A 2-D weight is a matrix W[in =
 * rows, out = cols] for ms_affine and is stored laid out for it. */
void ms_binder_add_affine (MsBinder *b, MsAffine *a, int rows, int cols, int n_bias, const char *prefix,
                           const char *name);
/* An nn.Linear: "@prefix.@name.weight" (out, in) in the file, stored as W[in,
 * out] laid out for ms_affine, and "@prefix.@name.bias" (out). */
void ms_binder_add_linear (MsBinder *b, MsAffine *a, int out, int in, const char *prefix, const char *name);
/* Tensor @name (out, in) in the file, stored transposed to W[in, out] and
 * laid out for ms_affine, without a bias.  A tensor may also be bound
 * otherwise (a tied embedding); its parameters count once. */
void ms_binder_add_transposed (MsBinder *b, const float **slot, int out, int in, const char *name);

/* A count in checked 64-bit arithmetic: once a step would overflow,
 * @overflow stays TRUE and @value means nothing. */
typedef struct {
  guint64 value;
  gboolean overflow;
} MsCount;

/* Adds @times × @a × @b to @count. */
void ms_count_add (MsCount *count, guint64 times, guint64 a, guint64 b);

/* The engine's weights struct of a loaded model (weights_size bytes, bound
 * by its bind function).  Borrowed, immutable. */
gconstpointer ms_model_get_weights (const MsModel *model);

/* ---- engine state ----------------------------------------------------- */

/* What one segment's step reads and updates; a session owns it.  Buffers
 * are sized by the engine's sizes function. */
typedef struct {
  float *memory;             /* (K, d) M_t on entry, M_{t+1} on return */
  float *carry;              /* (carry_rows ≤ max rows, carry_cols): what the next segment needs from
                                this one (Memformer: the encoding H_t; RMT: the last token's logits) */
  int carry_rows;            /* rows valid in carry; 0 before the first segment (nothing to predict from) */
  int32_t carry_token;       /* the last token of the previous segment (valid when carry_rows > 0) */
  gpointer scratch;          /* the engine's scratch_new */
  int segment;               /* t, counted from 0: the index observations carry */
  char nonfinite[MS_NONFINITE_LEN];   /* where an output first turned NaN or infinite ("segment 0, enc.layers.0"),
                                set once by ms_engine_state_check_finite; empty while all are finite */
  /* The observer (Borrowed) */
  guint observe;             /* MsObsKind mask */
  MsObserverFunc observer;
  gpointer observer_data;
} MsEngineState;

/* Whether the observer wants @kind: test it before computing or copying
 * anything for an observation, so an unobserved run pays nothing. */
static inline gboolean
ms_engine_state_wants (const MsEngineState *st, MsObsKind kind)
{
  return (st->observe & kind) != 0;
}

/* Offers a contiguous observation (n_dims ≤ 3 dims d0, d1, d2) to the
 * observer; only after ms_engine_state_wants (@kind). */
void ms_engine_state_offer (MsEngineState *st, MsObsKind kind, int layer, const float *data, int n_dims, int d0,
                            int d1, int d2);
/* Records in st->nonfinite, the first time any of @x[n] is NaN or
 * infinite, the segment and @what (a tensor prefix of the file, such as
 * "enc.layers", followed by @layer when ≥ 0): engines check each layer's
 * output, so a user learns where weights (say of ±3e38) overflow.  Once
 * set, returns without scanning. */
void ms_engine_state_check_finite (MsEngineState *st, const float *x, size_t n, const char *what, int layer);

/* A 3-D view (d0, d1, d2): consecutive indices of dimension 0 lie @stride0
 * floats apart, of dimension 1 @stride1 (see MsObservation). */
void ms_engine_state_offer_view (MsEngineState *st, MsObsKind kind, int layer, const float *data, int d0, int d1,
                                 int d2, size_t stride0, size_t stride1);

/* ---- the engine ------------------------------------------------------- */

#define MS_ENGINE_MAX_SCRATCH 24

/* Buffer sizes of one session, in floats (a byte or int32 buffer counts
 * as the floats it occupies, rounded up), in double so that a hostile
 * configuration cannot overflow them. */
typedef struct {
  double carry_rows;         /* rows the carry can hold */
  double carry_cols;         /* floats per carry row */
  int n_scratch;
  double scratch[MS_ENGINE_MAX_SCRATCH];   /* each scratch buffer, in the engine's order */
} MsEngineSizes;

typedef struct _MsEngine MsEngine;

struct _MsEngine {
  const char *name;             /* the memscope.arch value: "memformer", "rmt" */
  const char *display_name;     /* "Memformer", "RMT" */
  const char *slots_key;        /* the memscope.config key of the slot count: "n_slots", "n_mem", "memory_len" */
  /* The memscope.config keys of n_heads and d_ff, for an engine whose file
   * keeps its source's names (MemBART: "encoder_attention_heads",
   * "encoder_ffn_dim"); NULL: "n_heads", "d_ff". */
  const char *heads_key;
  const char *ff_key;

  /* Reads the engine's own keys of memscope.config into c->settings (the
   * common fields are set already) and validates the whole configuration.
   * FALSE with @error (MS_ERROR_MODEL) naming the key. */
  gboolean (*parse_config) (MsConfig *c, MsConfigReader *r, GError **error);
  /* Appends the engine's rows (≤ MS_CONFIG_MAX_ROWS − 6) to @rows; returns
   * how many. */
  guint (*describe_config) (const MsConfig *c, MsConfigRow *rows);

  /* Size of the weights struct the model allocates (zeroed) for @bind; @bind
   * lists every tensor through the binder and may allocate per-layer
   * arrays, which @weights_clear (may be NULL) frees. */
  size_t weights_size;
  void (*bind) (MsBinder *b, const MsConfig *c, gpointer weights);
  /* Adds to @n_tensors the distinct tensors @bind lists for @c and to
   * @n_params the elements they hold, computed from the configuration
   * alone, so the loader can refuse a configuration whose tensors cannot
   * be in the file before @bind does work proportional to its numbers. */
  void (*count_weights) (const MsConfig *c, MsCount *n_tensors, MsCount *n_params);
  void (*weights_clear) (gpointer weights);

  /* The one statement of a session's buffer sizes (see MsEngineSizes). */
  void (*sizes) (const MsConfig *c, MsEngineSizes *sizes);
  /* Allocates the scratch buffers sizes() states; the model's sizes were
   * checked at load (ms_engine_footprint), so this does not fail. */
  gpointer (*scratch_new) (const MsConfig *c);
  void (*scratch_free) (gpointer scratch);

  /* Writes M_0 (K, d). */
  void (*initial_memory) (const MsModel *model, float *memory);
  /* Consumes one segment of 1 ≤ n ≤ segment_len valid token ids (the
   * session checked them): reads st->memory and the carry, offers the
   * observations the observer wants (MS_OBS_LOGITS and its attention kinds;
   * the session itself offers memory in/out and NLL around the step), fills
   * @nll[n] (NaN: no prediction) and leaves M_{t+1}, the carry and
   * carry_token for the next segment.  st->segment is the session's (it
   * counts after the step).  Allocates nothing. */
  void (*step) (const MsModel *model, MsEngineState *st, const int32_t *tokens, int n, float *nll);
  /* Row j of the MS_OBS_LOGITS observation predicts token j + logits_shift
   * of the segment (Memformer 0, RMT 1). */
  int logits_shift;
  /* Multiply-adds of one full segment, for the benchmarks' FLOP rates
   * (may be NULL). */
  double (*segment_macs) (const MsConfig *c);

  /* The attention kinds it offers. */
  const MsAttentionLayout *attention;
  guint n_attention;
  /* The per-slot observations it offers beyond attention (an MsObsKind
   * mask: MS_OBS_GATE for an engine with an update gate), each (K) once
   * per segment; a recording stores each as a per-slot quantity. */
  guint slot_observations;
};

/* The engine whose name is @name (built in or registered), or NULL. */
const MsEngine *ms_engine_lookup (const char *name);

/* Adds @engine (static storage, never freed) to the table.  FALSE when its
 * name or one of its attention names is taken, or a required function is
 * missing.  Thread-safe; registered engines stay for the process. */
gboolean ms_engine_register (const MsEngine *engine);

/* The engines, built-in first, as a NULL-terminated array (owned; g_free). */
const MsEngine **ms_engine_list (void);

/* The layout of @kind (MS_OBS_READ or MS_OBS_WRITE), of @role, or with the
 * identifier @name; NULL when the engine offers none. */
const MsAttentionLayout *ms_engine_find_attention (const MsEngine *engine, MsObsKind kind);
const MsAttentionLayout *ms_engine_find_attention_by_role (const MsEngine *engine, MsAttentionRole role);
const MsAttentionLayout *ms_engine_find_attention_by_name (const MsEngine *engine, const char *name);

/* The MsObsKind mask of every attention kind @engine offers. */
guint ms_engine_attention_kinds (const MsEngine *engine);
/* Whether @engine offers every per-slot observation of @kind (MS_OBS_GATE). */
gboolean ms_engine_offers_slot_observation (const MsEngine *engine, MsObsKind kind);

/* Bytes a session of @c allocates (memory, per-token NLL, carry and scratch
 * from the engine's sizes), in double; the loader refuses models whose
 * sessions would exceed MS_MODEL_MAX_SESSION_BYTES. */
double ms_engine_footprint (const MsConfig *c);

/* Allocates one scratch buffer of @sizes->scratch[@i] floats (for an
 * engine's scratch_new): owned, free with g_free. */
float *ms_engine_scratch_alloc (const MsEngineSizes *sizes, int i);

/* The buffers of an engine's scratch: every one its sizes function states,
 * each its own allocation (so a sanitizer sees each one's bounds).  An
 * engine's scratch struct holds one and names the buffers it uses from
 * .buffer[] in the order of its sizes (a byte or int32 buffer cast from
 * its float pointer). */
typedef struct {
  int n;
  float *buffer[MS_ENGINE_MAX_SCRATCH];   /* (sizes->scratch[i]) floats each, owned */
} MsEngineScratch;

/* Allocates buffer i of @sizes->scratch[i] floats (at least one) for every
 * i < @sizes->n_scratch; ms_engine_scratch_clear frees them. */
void ms_engine_scratch_init (MsEngineScratch *scratch, const MsEngineSizes *sizes);
void ms_engine_scratch_clear (MsEngineScratch *scratch);

G_END_DECLS
