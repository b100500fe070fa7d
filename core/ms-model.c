/* ms-model.c — loading a model: metadata checks, the configuration and
 * weights of its engine (ms-engine.h) through the weight binder, f32
 * conversion into one allocation, warnings.  The model owns its
 * configuration and weights; engines read them, sessions share them. */
#include "ms-model.h"
#include "ms-engine.h"
#include "ms-error.h"
#include "ms-kernels.h"
#include "tokenizers/ms-tokenizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *name;
  const float **slot;
  int n_dims;
  int shape[3];
  gboolean matrix;      /* a weight ms_affine multiplies by, kept as ms_weight_lay_out lays it out */
  gboolean transpose;   /* a matrix stored (out, in) in the file, nn.Linear style */
} BinderEntry;

struct _MsBinder {
  GArray *entries;   /* BinderEntry */
};

struct _MsModel {
  gint ref_count;
  /* Owned */
  char *path;
  MsConfig config;
  GHashTable *metadata;     /* char* → char* */
  GArray *tensors;          /* MsModelTensor, names owned by tensor_names */
  GPtrArray *tensor_names;
  GPtrArray *warnings;      /* char*, NULL-terminated */
  float *params;            /* the one allocation every weight pointer points into (free()) */
  size_t n_params;
  gpointer weights;         /* the engine's weights struct (weights_size bytes), pointers into params */
  MsTokenizer *tokenizer;   /* memscope.tokenizer */
};

void
ms_binder_add (MsBinder *b, const float **slot, int n_dims, const int *shape, const char *name_fmt, ...)
{
  BinderEntry e = { 0 };
  va_list ap;
  va_start (ap, name_fmt);
  e.name = g_strdup_vprintf (name_fmt, ap);
  va_end (ap);
  e.slot = slot;
  e.n_dims = n_dims;
  for (int i = 0; i < n_dims; i++)
    e.shape[i] = shape[i];
  g_array_append_val (b->entries, e);
}

void
ms_binder_add_affine (MsBinder *b, MsAffine *a, int rows, int cols, int n_bias,
                      const char *prefix, const char *name)
{
  if (cols > 0)
    {
      ms_binder_add (b, &a->weight, 2, (int[]) { rows, cols }, "%s.%s.weight", prefix, name);
      g_array_index (b->entries, BinderEntry, b->entries->len - 1).matrix = TRUE;
    }
  else
    ms_binder_add (b, &a->weight, 1, (int[]) { rows }, "%s.%s.weight", prefix, name);
  ms_binder_add (b, &a->bias, 1, (int[]) { n_bias }, "%s.%s.bias", prefix, name);
}

void
ms_binder_add_linear (MsBinder *b, MsAffine *a, int out, int in, const char *prefix, const char *name)
{
  ms_binder_add_affine (b, a, out, in, out, prefix, name);
  g_array_index (b->entries, BinderEntry, b->entries->len - 2).transpose = TRUE;   /* the weight, added before the bias */
}

void
ms_binder_add_transposed (MsBinder *b, const float **slot, int out, int in, const char *name)
{
  ms_binder_add (b, slot, 2, (int[]) { out, in }, "%s", name);
  BinderEntry *e = &g_array_index (b->entries, BinderEntry, b->entries->len - 1);
  e->matrix = TRUE;
  e->transpose = TRUE;
}

/* Floats an entry takes in the allocation, rounded up to 64 bytes so every
 * tensor starts on a cache line (the packed kernel reads whole lines). */
static size_t
entry_floats (const BinderEntry *e, size_t n_elements)
{
  size_t n = e->matrix ? (e->transpose ? ms_weight_floats (e->shape[1], e->shape[0])
                                       : ms_weight_floats (e->shape[0], e->shape[1]))
                       : n_elements;
  return (n + 15) / 16 * 16;
}

/* Floats of f32 scratch a tensor is converted through, a slice at a time
 * (a few hundred KiB: the slice stays in cache while it is laid out). */
#define SLICE_FLOATS (64 * 1024)

/* Converts tensor @t of entry @e from the file into @dst, as ms_affine
 * reads it for a matrix, else as it is, a slice at a time through
 * @scratch[SLICE_FLOATS + one row], releasing the file's pages of each
 * slice once it is converted (ms_safetensors_release), so that the
 * mapped file and the converted weights are never both resident.  Returns
 * the number of NaN or infinite values. */
static size_t
convert_entry (float *dst, MsSafetensors *st, const MsTensorInfo *t, const BinderEntry *e, float *scratch)
{
  size_t bad = 0;
  if (!e->matrix)
    {
      for (size_t first = 0; first < t->n_elements; first += SLICE_FLOATS)
        {
          size_t count = MIN ((size_t) SLICE_FLOATS, t->n_elements - first);
          bad += ms_tensor_info_to_f32_range (t, first, count, dst + first);
          ms_safetensors_release (st, t, first, count);
        }
      return bad;
    }
  /* the file's rows: W's rows (in, out), or W's columns when transposed */
  int file_rows = e->shape[0], row_len = e->shape[1];
  int in = e->transpose ? e->shape[1] : e->shape[0], out = e->transpose ? e->shape[0] : e->shape[1];
  int per_slice = MAX (1, SLICE_FLOATS / MAX (row_len, 1));
  if (e->transpose)
    per_slice = MAX (32, per_slice / 32 * 32);   /* whole panels of ms_weight_lay_out_part */
  for (int r0 = 0; r0 < file_rows; r0 += per_slice)
    {
      int rows = MIN (per_slice, file_rows - r0);
      size_t first = (size_t) r0 * row_len, count = (size_t) rows * row_len;
      bad += ms_tensor_info_to_f32_range (t, first, count, scratch);
      ms_safetensors_release (st, t, first, count);
      ms_weight_lay_out_part (dst, scratch, in, out, r0, rows, e->transpose);
    }
  return bad;
}

static void
binder_entry_clear (gpointer p)
{
  g_free (((BinderEntry *) p)->name);
}

/* ---- loading ---------------------------------------------------------- */

/* Checks every bound tensor against the file, then converts them all into
 * one allocation and points the slots at it. */
static gboolean
bind_weights (MsModel *m, MsBinder *b, MsSafetensors *st, GError **error)
{
  g_autoptr (GHashTable) used = g_hash_table_new (g_str_hash, g_str_equal);
  size_t total = 0, storage = 0;   /* parameters; floats in the allocation */
  for (guint i = 0; i < b->entries->len; i++)
    {
      BinderEntry *e = &g_array_index (b->entries, BinderEntry, i);
      const MsTensorInfo *t = ms_safetensors_lookup (st, e->name);
      int64_t want[3] = { e->shape[0], e->shape[1], e->shape[2] };
      g_autofree char *want_s = ms_shape_string (e->n_dims, want);
      if (!t)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: tensor '%s' is missing (expected shape %s for this %s config)",
                       m->path, e->name, want_s, m->config.engine->name);
          return FALSE;
        }
      gboolean same = t->n_dims == e->n_dims;
      for (int d = 0; same && d < e->n_dims; d++)
        same = t->shape[d] == e->shape[d];
      if (!same)
        {
          g_autofree char *got_s = ms_shape_string (t->n_dims, t->shape);
          g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                       "%s: tensor '%s' has shape %s but the config needs %s (d_model %d, d_ff %d, vocab %d, %d slots)",
                       m->path, e->name, got_s, want_s, m->config.d_model, m->config.d_ff,
                       m->config.vocab_size, m->config.n_slots);
          return FALSE;
        }
      if (g_hash_table_add (used, (gpointer) t->name))   /* a tensor bound twice counts once */
        total += t->n_elements;
      storage += entry_floats (e, t->n_elements);
    }

  void *params = NULL;
  if (posix_memalign (&params, 64, MAX (storage, 1) * sizeof (float)) != 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: cannot allocate %zu parameters", m->path, total);
      return FALSE;
    }
  m->params = params;
  m->n_params = total;
  /* one slice, plus room for a file row longer than a slice */
  size_t longest_row = 0;
  for (guint i = 0; i < b->entries->len; i++)
    {
      BinderEntry *e = &g_array_index (b->entries, BinderEntry, i);
      if (e->matrix)
        longest_row = MAX (longest_row, (size_t) e->shape[1] * (e->transpose ? 32 : 1));
    }
  g_autofree float *scratch = g_try_new (float, SLICE_FLOATS + longest_row);
  if (!scratch)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: cannot allocate memory to lay out the weights", m->path);
      return FALSE;
    }
  float *p = m->params;
  for (guint i = 0; i < b->entries->len; i++)
    {
      BinderEntry *e = &g_array_index (b->entries, BinderEntry, i);
      const MsTensorInfo *t = ms_safetensors_lookup (st, e->name);
      size_t bad = convert_entry (p, st, t, e, scratch);
      if (bad)
        g_ptr_array_add (m->warnings, g_strdup_printf ("%s: tensor '%s' has %zu NaN or infinite values",
                                                       m->path, e->name, bad));
      *e->slot = p;
      p += entry_floats (e, t->n_elements);
    }

  for (guint i = 0; i < ms_safetensors_get_n_tensors (st); i++)
    {
      const MsTensorInfo *t = ms_safetensors_get_tensor (st, i);
      MsModelTensor row = { 0 };
      row.name = g_strdup (t->name);
      g_ptr_array_add (m->tensor_names, (gpointer) row.name);
      row.file_dtype = t->dtype;
      row.n_dims = t->n_dims;
      memcpy (row.shape, t->shape, sizeof row.shape);
      row.used = g_hash_table_contains (used, t->name);
      g_array_append_val (m->tensors, row);
      if (!row.used)
        g_ptr_array_add (m->warnings, g_strdup_printf ("%s: tensor '%s' is not used by the %s architecture (ignored)",
                                                       m->path, t->name, m->config.engine->name));
    }
  return TRUE;
}

static gboolean
check_metadata (MsModel *m, MsSafetensors *st, GError **error)
{
  const char *format = ms_safetensors_get_metadata (st, "memscope.format");
  if (!format)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                   "%s: not a Memscope model: metadata has no memscope.format (convert PyTorch checkpoints first)", m->path);
      return FALSE;
    }
  gint64 version = g_ascii_strtoll (format, NULL, 10);
  if (version != MS_MODEL_FORMAT_VERSION)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.format is \"%s\"; this build reads format %d%s",
                   m->path, format, MS_MODEL_FORMAT_VERSION,
                   version > MS_MODEL_FORMAT_VERSION ? " (the file is from a newer Memscope)" : "");
      return FALSE;
    }
  m->tokenizer = ms_tokenizer_new_from_metadata (ms_safetensors_get_metadata (st, "memscope.tokenizer"), m->path,
                                                 error);
  if (!m->tokenizer
      || !ms_config_parse (&m->config, ms_safetensors_get_metadata (st, "memscope.arch"),
                           ms_safetensors_get_metadata (st, "memscope.config"), m->path, error))
    return FALSE;
  return TRUE;
}

/* The tokenizer's ids are the model's vocabulary. */
static gboolean
check_tokenizer (MsModel *m, GError **error)
{
  if (ms_tokenizer_get_vocab_size (m->tokenizer) != m->config.vocab_size)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.tokenizer (%s) has %d ids but memscope.config "
                   "has vocab_size %d; they must agree", m->path, ms_tokenizer_get_kind_name (m->tokenizer),
                   ms_tokenizer_get_vocab_size (m->tokenizer), m->config.vocab_size);
      return FALSE;
    }
  return TRUE;
}

/* A session must fit in memory: refuse configurations (hostile or not)
 * whose per-session buffers would exceed MS_MODEL_MAX_SESSION_BYTES. */
static gboolean
check_footprint (MsModel *m, GError **error)
{
  double bytes = ms_engine_footprint (&m->config);
  if (bytes > MS_MODEL_MAX_SESSION_BYTES)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                   "%s: a session of this configuration would need %.1f GiB of buffers (limit %.0f GiB); "
                   "check segment_len, vocab_size and the memory size in memscope.config",
                   m->path, bytes / (1 << 30), MS_MODEL_MAX_SESSION_BYTES / (1 << 30));
      return FALSE;
    }
  return TRUE;
}

/* The file must hold the configuration's tensors: refuse, from the counts
 * alone and before binding (which builds a name per tensor), a
 * configuration that needs more than twice the tensors the file has, or
 * more than twice the parameters its data buffer holds at two bytes each.
 * Binding then costs at most a few times what the file itself does, and a
 * near miss (one tensor missing, one size off) is left to the binder, whose
 * message names the tensor. */
static gboolean
check_weights_fit (MsModel *m, MsSafetensors *st, GError **error)
{
  MsCount n_tensors = { 0 }, n_params = { 0 };
  m->config.engine->count_weights (&m->config, &n_tensors, &n_params);
  guint have = ms_safetensors_get_n_tensors (st);
  if (n_tensors.overflow || n_tensors.value / 2 > have)
    {
      g_autofree char *need = n_tensors.overflow ? g_strdup ("more than 2^64")
                                                 : g_strdup_printf ("%" G_GUINT64_FORMAT, n_tensors.value);
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                   "%s: memscope.config asks for %s tensors but the file holds %u; "
                   "check the layer counts in memscope.config", m->path, need, have);
      return FALSE;
    }
  guint64 min_bytes = 0;
  if (n_params.overflow || !g_uint64_checked_mul (&min_bytes, n_params.value, 2)
      || min_bytes / 2 > ms_safetensors_get_data_size (st))
    {
      g_autofree char *need = n_params.overflow ? g_strdup ("more than 2^64")
                                                : g_strdup_printf ("%" G_GUINT64_FORMAT, n_params.value);
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                   "%s: memscope.config asks for %s parameters but the file's data holds only %" G_GUINT64_FORMAT
                   " bytes; check d_model, d_ff, vocab_size and the layer counts in memscope.config",
                   m->path, need, ms_safetensors_get_data_size (st));
      return FALSE;
    }
  return TRUE;
}

static MsModel *
model_from_safetensors (MsSafetensors *st, GError **error)
{
  MsModel *m = g_new0 (MsModel, 1);
  m->ref_count = 1;
  m->path = g_strdup (ms_safetensors_get_label (st));
  m->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->tensors = g_array_new (FALSE, FALSE, sizeof (MsModelTensor));
  m->tensor_names = g_ptr_array_new_with_free_func (g_free);
  m->warnings = g_ptr_array_new_with_free_func (g_free);

  static const char *const keys[] = { "memscope.format", "memscope.arch", "memscope.config",
                                      "memscope.tokenizer", "memscope.source" };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (ms_safetensors_get_metadata (st, keys[i]))
      g_hash_table_insert (m->metadata, g_strdup (keys[i]), g_strdup (ms_safetensors_get_metadata (st, keys[i])));

  MsBinder binder = { g_array_new (FALSE, TRUE, sizeof (BinderEntry)) };
  g_array_set_clear_func (binder.entries, binder_entry_clear);
  gboolean ok = check_metadata (m, st, error) && check_footprint (m, error) && check_weights_fit (m, st, error)
                && check_tokenizer (m, error);
  if (ok)
    {
      m->weights = g_malloc0 (MAX (m->config.engine->weights_size, 1));
      m->config.engine->bind (&binder, &m->config, m->weights);
      ok = bind_weights (m, &binder, st, error);
    }
  g_array_unref (binder.entries);
  g_ptr_array_add (m->warnings, NULL);
  if (!ok)
    {
      ms_model_unref (m);
      return NULL;
    }
  return m;
}

MsModel *
ms_model_load (const char *path, GError **error)
{
  g_autoptr (MsSafetensors) st = ms_safetensors_open (path, error);
  return st ? model_from_safetensors (st, error) : NULL;
}

MsModel *
ms_model_load_bytes (const uint8_t *bytes, size_t size, const char *label, GError **error)
{
  g_autoptr (MsSafetensors) st = ms_safetensors_open_bytes (bytes, size, label, error);
  return st ? model_from_safetensors (st, error) : NULL;
}

MsModel *
ms_model_ref (MsModel *model)
{
  g_atomic_int_inc (&model->ref_count);
  return model;
}

void
ms_model_unref (MsModel *m)
{
  if (!m || !g_atomic_int_dec_and_test (&m->ref_count))
    return;
  if (m->weights && m->config.engine->weights_clear)
    m->config.engine->weights_clear (m->weights);
  g_free (m->weights);
  free (m->params);
  g_free (m->path);
  g_hash_table_unref (m->metadata);
  g_array_unref (m->tensors);
  g_ptr_array_unref (m->tensor_names);
  g_ptr_array_unref (m->warnings);
  g_clear_pointer (&m->tokenizer, ms_tokenizer_unref);
  g_free (m);
}

const MsConfig *ms_model_get_config (const MsModel *m) { return &m->config; }
const char *ms_model_get_path (const MsModel *m) { return m->path; }
MsTokenizer *ms_model_get_tokenizer (const MsModel *m) { return m->tokenizer; }

MsTokenizer *
ms_model_file_tokenizer (const char *path, GError **error)
{
  g_autoptr (MsSafetensors) st = ms_safetensors_open (path, error);
  if (!st)
    return NULL;
  return ms_tokenizer_new_from_metadata (ms_safetensors_get_metadata (st, "memscope.tokenizer"), path, error);
}
const char *ms_model_get_metadata (const MsModel *m, const char *key) { return g_hash_table_lookup (m->metadata, key); }
size_t ms_model_get_n_params (const MsModel *m) { return m->n_params; }
guint ms_model_get_n_tensors (const MsModel *m) { return m->tensors->len; }
const char *const *ms_model_get_warnings (const MsModel *m) { return (const char *const *) m->warnings->pdata; }

const MsModelTensor *
ms_model_get_tensor (const MsModel *m, guint i)
{
  g_return_val_if_fail (i < m->tensors->len, NULL);
  return &g_array_index (m->tensors, MsModelTensor, i);
}

gconstpointer
ms_model_get_weights (const MsModel *m)
{
  return m->weights;
}
