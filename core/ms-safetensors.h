/* ms-safetensors.h — a validating reader for safetensors files.
 *
 * The file may be hostile, so opening it checks every rule of DESIGN §2
 * before any tensor is touched: header length ≤ 100 MiB and inside the file,
 * the header's JSON nests at most MS_SAFETENSORS_MAX_JSON_DEPTH deep and
 * holds at most MS_SAFETENSORS_MAX_JSON_VALUES values (checked before
 * parsing), the header is one JSON object, no duplicate names, dtype F32/F16/BF16,
 * shapes of non-negative integers whose byte size (overflow-checked) equals
 * the data_offsets range, every range inside the data buffer, no overlaps.
 * A file that opens is therefore safe to read tensor by tensor.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define MS_SAFETENSORS_MAX_HEADER (100u * 1024u * 1024u)
#define MS_SAFETENSORS_MAX_DIMS 8
/* The header's JSON, checked before it is parsed (ms-json.h): a header
 * nests three deep (root, tensor entry, shape), and about ten values per
 * tensor allow some hundred thousand tensors, while the parsed header
 * stays a few hundred MB at most. */
#define MS_SAFETENSORS_MAX_JSON_DEPTH 4
#define MS_SAFETENSORS_MAX_JSON_VALUES (1u << 20)

/* The float dtypes a model file may hold; the others appear only in files
 * opened with ms_safetensors_open_checkpoint (PyTorch buffers: a boolean
 * causal mask, integer counters), whose tensors are read for their names
 * and shapes, never converted. */
typedef enum {
  MS_DTYPE_F32, MS_DTYPE_F16, MS_DTYPE_BF16,
  MS_DTYPE_F64, MS_DTYPE_I64, MS_DTYPE_I32, MS_DTYPE_I16, MS_DTYPE_I8, MS_DTYPE_U8, MS_DTYPE_BOOL
} MsDtype;

typedef struct {
  const char *name;                          /* borrowed from the file object */
  MsDtype dtype;
  int n_dims;
  int64_t shape[MS_SAFETENSORS_MAX_DIMS];
  size_t n_elements;                         /* product of shape */
  const uint8_t *data;                       /* borrowed, n_elements × dtype size bytes */
} MsTensorInfo;

typedef struct _MsSafetensors MsSafetensors;

/* Maps @path read-only and validates it.  Returns an owned object, or NULL
 * with @error (MS_ERROR_IO, MS_ERROR_FORMAT) naming the file and the rule. */
MsSafetensors *ms_safetensors_open (const char *path, GError **error);

/* ms_safetensors_open for a checkpoint saved by PyTorch code (memscope-cli
 * import): every rule above holds, but a tensor may also have dtype F64,
 * I64, I32, I16, I8, U8 or BOOL.  Check ms_dtype_is_float before
 * ms_tensor_info_to_f32. */
MsSafetensors *ms_safetensors_open_checkpoint (const char *path, GError **error);

/* The same over a caller-owned buffer that must outlive the result; @label
 * names the buffer in messages.  This is the fuzzing entry point. */
MsSafetensors *ms_safetensors_open_bytes (const uint8_t *bytes, size_t size,
                                          const char *label, GError **error);

void ms_safetensors_free (MsSafetensors *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSafetensors, ms_safetensors_free)

const char *ms_safetensors_get_label (const MsSafetensors *st);
/* Tensors in file order of their data offsets.  Borrowed. */
guint ms_safetensors_get_n_tensors (const MsSafetensors *st);
const MsTensorInfo *ms_safetensors_get_tensor (const MsSafetensors *st, guint i);
/* NULL when absent.  Borrowed. */
const MsTensorInfo *ms_safetensors_lookup (const MsSafetensors *st, const char *name);
/* The __metadata__ value for @key, or NULL.  Borrowed. */
const char *ms_safetensors_get_metadata (const MsSafetensors *st, const char *key);
/* Bytes of the data buffer after the header (every tensor lies inside it). */
guint64 ms_safetensors_get_data_size (const MsSafetensors *st);

const char *ms_dtype_name (MsDtype dtype);
size_t ms_dtype_size (MsDtype dtype);
/* TRUE for F32, F16 and BF16, the dtypes ms_tensor_info_to_f32 converts. */
gboolean ms_dtype_is_float (MsDtype dtype);
/* A tensor shape as messages print it, "[768, 50257]".  Owned (g_free). */
char *ms_shape_string (int n_dims, const int64_t *shape);

/* Converts @t (F32, F16 or BF16) to f32 into @dst[t->n_elements]; returns
 * how many converted values are NaN or infinite. */
size_t ms_tensor_info_to_f32 (const MsTensorInfo *t, float *dst);
/* The same for the elements [first, first + count) of @t (in its row-major
 * order) into @dst[count]; the range must lie inside the tensor. */
size_t ms_tensor_info_to_f32_range (const MsTensorInfo *t, size_t first, size_t count, float *dst);

/* Says that the elements [first, first + count) of @t will not be read
 * again soon: when @st maps a file, the pages that hold them leave the
 * process's resident memory (a later read faults them back in from the
 * file, so the data stay valid; pages shared with neighbouring bytes go
 * too).  Over caller bytes it does nothing.  The loader calls it after
 * converting each slice, so the mapped file and the converted copy are
 * never resident side by side. */
void ms_safetensors_release (MsSafetensors *st, const MsTensorInfo *t, size_t first, size_t count);

G_END_DECLS

G_BEGIN_DECLS

/* One f32 tensor to write. */
typedef struct {
  const char *name;
  int n_dims;
  int64_t shape[MS_SAFETENSORS_MAX_DIMS];
  const float *data;   /* product(shape) values */
} MsTensorOut;

/* Writes @tensors[n] as F32 and @metadata (NULL-terminated key, value, …
 * pairs, may be NULL) to @path atomically (a temporary file renamed into
 * place), so a crash never leaves a half-written file.  FALSE with
 * MS_ERROR_IO naming the file when it cannot be written. */
gboolean ms_safetensors_write (const char *path, const MsTensorOut *tensors, guint n,
                               const char *const *metadata, GError **error);

/* The same file as bytes (owned). */
GBytes *ms_safetensors_serialize (const MsTensorOut *tensors, guint n, const char *const *metadata);

/* Writes serialized @bytes to @path atomically (temporary file + rename). */
gboolean ms_safetensors_write_bytes (const char *path, GBytes *bytes, GError **error);

G_END_DECLS
