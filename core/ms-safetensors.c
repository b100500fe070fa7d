/* ms-safetensors.c — parsing and validating safetensors headers (json-glib),
 * and f16/bf16 → f32 conversion.  Nothing is read from the data buffer until
 * every range in the header has been checked against it. */
#include "ms-safetensors.h"
#include "ms-error.h"
#include "ms-half.h"
#include "ms-json.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <sys/mman.h>
#include <unistd.h>
#endif

struct _MsSafetensors {
  /* Owned */
  GMappedFile *mapping;      /* NULL when opened over caller bytes */
  char *label;
  GPtrArray *names;          /* char*, owned storage for MsTensorInfo.name */
  GArray *tensors;           /* MsTensorInfo, sorted by data offset */
  GHashTable *by_name;       /* name → index+1 */
  GHashTable *metadata;      /* char* → char* */
  guint64 data_size;         /* bytes after the header */
  gboolean any_dtype;        /* also the non-float dtypes (ms_safetensors_open_checkpoint) */
};

/* Names and element sizes, in MsDtype order. */
static const struct { const char *name; size_t size; } dtypes[] = {
  { "F32", 4 }, { "F16", 2 }, { "BF16", 2 },
  { "F64", 8 }, { "I64", 8 }, { "I32", 4 }, { "I16", 2 }, { "I8", 1 }, { "U8", 1 }, { "BOOL", 1 },
};

const char *
ms_dtype_name (MsDtype dtype)
{
  return (guint) dtype < G_N_ELEMENTS (dtypes) ? dtypes[dtype].name : "?";
}

size_t
ms_dtype_size (MsDtype dtype)
{
  return (guint) dtype < G_N_ELEMENTS (dtypes) ? dtypes[dtype].size : 0;
}

gboolean
ms_dtype_is_float (MsDtype dtype)
{
  return dtype == MS_DTYPE_F32 || dtype == MS_DTYPE_F16 || dtype == MS_DTYPE_BF16;
}

/* A model file's dtypes are F32, F16 and BF16; @any also allows the rest. */
static gboolean
parse_dtype (const char *s, gboolean any, MsDtype *out)
{
  for (guint i = 0; s && i < G_N_ELEMENTS (dtypes); i++)
    if (g_str_equal (s, dtypes[i].name) && (any || ms_dtype_is_float ((MsDtype) i)))
      {
        *out = (MsDtype) i;
        return TRUE;
      }
  return FALSE;
}

/* json-glib keeps the last of two equal keys silently; this handler sees
 * every member as it is parsed and notices when the object did not grow. */
typedef struct {
  GHashTable *seen;  /* JsonObject* → members signalled so far */
  char *duplicate;   /* first duplicated key, owned */
} DupCheck;

static void
on_object_member (JsonParser *parser, JsonObject *object, const char *name, gpointer user_data)
{
  DupCheck *dc = user_data;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (dc->seen, object)) + 1;
  g_hash_table_insert (dc->seen, object, GUINT_TO_POINTER (n));
  if (n != json_object_get_size (object) && dc->duplicate == NULL)
    dc->duplicate = g_strdup (name);
}

static gboolean
fail (GError **error, MsErrorCode code, const MsSafetensors *st, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (GError **error, MsErrorCode code, const MsSafetensors *st, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, MS_ERROR, code, "%s: %s", st->label, msg);
  return FALSE;
}

static int
compare_offsets (gconstpointer a, gconstpointer b)
{
  const MsTensorInfo *x = a, *y = b;
  return x->data < y->data ? -1 : x->data > y->data ? 1 : 0;
}

static gboolean
read_int (JsonNode *node, int64_t *out)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return *out >= 0;
}

/* Validates one tensor entry and appends it.  @buf/@buf_size is the data
 * buffer that follows the header. */
static gboolean
add_tensor (MsSafetensors *st, const char *name, JsonNode *node,
            const uint8_t *buf, uint64_t buf_size, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': header entry is not a JSON object", name);
  JsonObject *o = json_node_get_object (node);
  JsonNode *dtype_node = json_object_get_member (o, "dtype");
  JsonNode *shape_node = json_object_get_member (o, "shape");
  JsonNode *offs_node = json_object_get_member (o, "data_offsets");
  if (!dtype_node || !shape_node || !offs_node)
    return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': entry needs \"dtype\", \"shape\" and \"data_offsets\"", name);

  MsTensorInfo t = { 0 };
  const char *dtype = JSON_NODE_HOLDS_VALUE (dtype_node) ? json_node_get_string (dtype_node) : NULL;
  if (!parse_dtype (dtype, st->any_dtype, &t.dtype))
    return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': dtype %s%s%s is not supported (expected F32, F16 or BF16%s)",
                 name, dtype ? "\"" : "", dtype ? dtype : "(not a string)", dtype ? "\"" : "",
                 st->any_dtype ? ", or F64, I64, I32, I16, I8, U8, BOOL for tensors that are not weights" : "");

  if (!JSON_NODE_HOLDS_ARRAY (shape_node))
    return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': shape is not an array", name);
  JsonArray *shape = json_node_get_array (shape_node);
  guint nd = json_array_get_length (shape);
  if (nd > MS_SAFETENSORS_MAX_DIMS)
    return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': %u dimensions (at most %d supported)",
                 name, nd, MS_SAFETENSORS_MAX_DIMS);
  uint64_t n_elements = 1;
  for (guint i = 0; i < nd; i++)
    {
      int64_t dim;
      if (!read_int (json_array_get_element (shape, i), &dim))
        return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': shape[%u] is not a non-negative integer", name, i);
      if (dim != 0 && n_elements > G_MAXUINT64 / 8 / (uint64_t) dim)
        return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': shape overflows the byte size", name);
      n_elements *= (uint64_t) dim;
      t.shape[i] = dim;
    }
  t.n_dims = (int) nd;

  if (!JSON_NODE_HOLDS_ARRAY (offs_node) || json_array_get_length (json_node_get_array (offs_node)) != 2)
    return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': data_offsets is not an array [begin, end]", name);
  JsonArray *offs = json_node_get_array (offs_node);
  int64_t begin, end;
  if (!read_int (json_array_get_element (offs, 0), &begin) || !read_int (json_array_get_element (offs, 1), &end))
    return fail (error, MS_ERROR_FORMAT, st, "tensor '%s': data_offsets are not non-negative integers", name);
  if (end < begin || (uint64_t) end > buf_size)
    return fail (error, MS_ERROR_FORMAT, st,
                 "tensor '%s': data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] lie outside the data buffer of %" G_GUINT64_FORMAT " bytes",
                 name, begin, end, buf_size);
  uint64_t expected = n_elements * ms_dtype_size (t.dtype);
  if ((uint64_t) (end - begin) != expected)
    return fail (error, MS_ERROR_FORMAT, st,
                 "tensor '%s': data_offsets span %" G_GINT64_FORMAT " bytes but shape × %s needs %" G_GUINT64_FORMAT,
                 name, end - begin, ms_dtype_name (t.dtype), expected);

  char *owned = g_strdup (name);
  g_ptr_array_add (st->names, owned);
  t.name = owned;
  t.n_elements = (size_t) n_elements;
  t.data = buf + begin;
  g_array_append_val (st->tensors, t);
  return TRUE;
}

static gboolean
read_metadata (MsSafetensors *st, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, MS_ERROR_FORMAT, st, "__metadata__ is not an object of strings");
  JsonObject *o = json_node_get_object (node);
  JsonObjectIter it;
  const char *key;
  JsonNode *value;
  json_object_iter_init (&it, o);
  while (json_object_iter_next (&it, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        return fail (error, MS_ERROR_FORMAT, st, "__metadata__ value of '%s' is not a string", key);
      g_hash_table_insert (st->metadata, g_strdup (key), g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}

static gboolean
parse (MsSafetensors *st, const uint8_t *bytes, size_t size, GError **error)
{
  if (size < 8)
    return fail (error, MS_ERROR_FORMAT, st, "file is %zu bytes, too short for a safetensors header "
                 "(8-byte length, then JSON)", size);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--)
    n = (n << 8) | bytes[i];
  if (n > MS_SAFETENSORS_MAX_HEADER)
    return fail (error, MS_ERROR_FORMAT, st, "header length %" G_GUINT64_FORMAT " exceeds the 100 MiB limit "
                 "(not a safetensors file?)", n);
  if (n > size - 8)
    return fail (error, MS_ERROR_FORMAT, st, "header length %" G_GUINT64_FORMAT " runs past the end of the "
                 "%zu-byte file (truncated?)", n, size);
  const uint8_t *buf = bytes + 8 + n;
  uint64_t buf_size = size - 8 - n;

  st->data_size = buf_size;
  if (!ms_json_check_shape ((const char *) bytes + 8, (gssize) n, MS_SAFETENSORS_MAX_JSON_DEPTH,
                            MS_SAFETENSORS_MAX_JSON_VALUES, st->label, "header", error))
    return FALSE;
  if (memchr (bytes + 8, 0, n) != NULL)
    return fail (error, MS_ERROR_FORMAT, st, "header contains a NUL byte; expected JSON text");
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  DupCheck dc = { g_hash_table_new (NULL, NULL), NULL };
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member), &dc);
  g_autoptr (GError) json_error = NULL;
  gboolean ok = json_parser_load_from_data (parser, (const char *) bytes + 8, (gssize) n, &json_error);
  g_hash_table_unref (dc.seen);
  g_autofree char *duplicate = dc.duplicate;
  if (!ok)
    return fail (error, MS_ERROR_FORMAT, st, "header is not valid JSON: %s", json_error->message);
  if (duplicate)
    return fail (error, MS_ERROR_FORMAT, st, "header has the key '%s' twice (duplicate tensor names are not allowed)",
                 duplicate);
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (error, MS_ERROR_FORMAT, st, "header is not a JSON object");

  JsonObjectIter it;
  const char *name;
  JsonNode *node;
  json_object_iter_init (&it, json_node_get_object (root));
  while (json_object_iter_next (&it, &name, &node))
    {
      gboolean good = g_str_equal (name, "__metadata__")
                        ? read_metadata (st, node, error)
                        : add_tensor (st, name, node, buf, buf_size, error);
      if (!good)
        return FALSE;
    }

  /* Sorted by offset, each non-empty tensor must start at or after the
   * furthest end seen so far. */
  g_array_sort (st->tensors, compare_offsets);
  const uint8_t *furthest_end = buf;
  const char *furthest_name = NULL;
  for (guint i = 0; i < st->tensors->len; i++)
    {
      MsTensorInfo *t = &g_array_index (st->tensors, MsTensorInfo, i);
      size_t bytes_here = t->n_elements * ms_dtype_size (t->dtype);
      if (bytes_here > 0)
        {
          if (furthest_name && t->data < furthest_end)
            return fail (error, MS_ERROR_FORMAT, st, "tensors '%s' and '%s' overlap in the data buffer",
                         furthest_name, t->name);
          if (t->data + bytes_here > furthest_end)
            {
              furthest_end = t->data + bytes_here;
              furthest_name = t->name;
            }
        }
      g_hash_table_insert (st->by_name, (gpointer) t->name, GUINT_TO_POINTER (i + 1));
    }
  return TRUE;
}

static MsSafetensors *
st_new (const char *label)
{
  MsSafetensors *st = g_new0 (MsSafetensors, 1);
  st->label = g_strdup (label);
  st->names = g_ptr_array_new_with_free_func (g_free);
  st->tensors = g_array_new (FALSE, FALSE, sizeof (MsTensorInfo));
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return st;
}

MsSafetensors *
ms_safetensors_open_bytes (const uint8_t *bytes, size_t size, const char *label, GError **error)
{
  MsSafetensors *st = st_new (label);
  if (!parse (st, bytes, size, error))
    {
      ms_safetensors_free (st);
      return NULL;
    }
  return st;
}

static MsSafetensors *
open_file (const char *path, gboolean any_dtype, GError **error)
{
  g_autoptr (GError) io_error = NULL;
  GMappedFile *mapping = g_mapped_file_new (path, FALSE, &io_error);
  if (!mapping)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read: %s", path, io_error->message);
      return NULL;
    }
  MsSafetensors *st = st_new (path);
  st->mapping = mapping;
  st->any_dtype = any_dtype;
  const uint8_t *bytes = (const uint8_t *) g_mapped_file_get_contents (mapping);
  if (!parse (st, bytes, g_mapped_file_get_length (mapping), error))
    {
      ms_safetensors_free (st);
      return NULL;
    }
  return st;
}

MsSafetensors *
ms_safetensors_open (const char *path, GError **error)
{
  return open_file (path, FALSE, error);
}

MsSafetensors *
ms_safetensors_open_checkpoint (const char *path, GError **error)
{
  return open_file (path, TRUE, error);
}

void
ms_safetensors_free (MsSafetensors *st)
{
  if (!st)
    return;
  g_clear_pointer (&st->mapping, g_mapped_file_unref);
  g_free (st->label);
  g_ptr_array_unref (st->names);
  g_array_unref (st->tensors);
  g_hash_table_unref (st->by_name);
  g_hash_table_unref (st->metadata);
  g_free (st);
}

const char *
ms_safetensors_get_label (const MsSafetensors *st)
{
  return st->label;
}

guint
ms_safetensors_get_n_tensors (const MsSafetensors *st)
{
  return st->tensors->len;
}

const MsTensorInfo *
ms_safetensors_get_tensor (const MsSafetensors *st, guint i)
{
  g_return_val_if_fail (i < st->tensors->len, NULL);
  return &g_array_index (st->tensors, MsTensorInfo, i);
}

guint64
ms_safetensors_get_data_size (const MsSafetensors *st)
{
  return st->data_size;
}

const MsTensorInfo *
ms_safetensors_lookup (const MsSafetensors *st, const char *name)
{
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (st->by_name, name));
  return i ? &g_array_index (st->tensors, MsTensorInfo, i - 1) : NULL;
}

const char *
ms_safetensors_get_metadata (const MsSafetensors *st, const char *key)
{
  return g_hash_table_lookup (st->metadata, key);
}

/* Non-finite values among @n floats, counted without an early exit so the
 * loop vectorises: the exponent bits all set. */
static size_t
count_nonfinite (const float *x, size_t n)
{
  size_t bad = 0;
  for (size_t i = 0; i < n; i++)
    {
      uint32_t bits;
      memcpy (&bits, x + i, 4);
      bad += (bits & 0x7f800000u) == 0x7f800000u;
    }
  return bad;
}

size_t
ms_tensor_info_to_f32_range (const MsTensorInfo *t, size_t first, size_t count, float *dst)
{
  g_return_val_if_fail (ms_dtype_is_float (t->dtype), 0);
  g_return_val_if_fail (first <= t->n_elements && count <= t->n_elements - first, 0);
  const uint8_t *p = t->data + first * ms_dtype_size (t->dtype);
  switch (t->dtype)
    {
    case MS_DTYPE_F32:
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      memcpy (dst, p, count * 4);
#else
      for (size_t i = 0; i < count; i++)
        {
          uint32_t bits = (uint32_t) p[4 * i] | (uint32_t) p[4 * i + 1] << 8
                          | (uint32_t) p[4 * i + 2] << 16 | (uint32_t) p[4 * i + 3] << 24;
          memcpy (dst + i, &bits, 4);
        }
#endif
      break;
    case MS_DTYPE_F16:
      for (size_t i = 0; i < count; i++)
        dst[i] = ms_half_to_float ((uint16_t) (p[2 * i] | p[2 * i + 1] << 8));
      break;
    case MS_DTYPE_BF16:
    default:
      for (size_t i = 0; i < count; i++)
        {
          uint32_t bits = (uint32_t) (p[2 * i] | p[2 * i + 1] << 8) << 16;
          memcpy (dst + i, &bits, 4);
        }
      break;
    }
  return count_nonfinite (dst, count);
}

size_t
ms_tensor_info_to_f32 (const MsTensorInfo *t, float *dst)
{
  return ms_tensor_info_to_f32_range (t, 0, t->n_elements, dst);
}

#define RELEASE_LOOKBACK (2u << 20)

void
ms_safetensors_release (MsSafetensors *st, const MsTensorInfo *t, size_t first, size_t count)
{
#if defined(G_OS_UNIX) && defined(MADV_DONTNEED)
  g_return_if_fail (first <= t->n_elements && count <= t->n_elements - first);
  if (!st->mapping || count == 0)
    return;
  const uint8_t *base = (const uint8_t *) g_mapped_file_get_contents (st->mapping);
  size_t length = g_mapped_file_get_length (st->mapping);
  uintptr_t page = (uintptr_t) sysconf (_SC_PAGESIZE);
  uintptr_t begin = (uintptr_t) t->data + first * ms_dtype_size (t->dtype);
  uintptr_t end = begin + count * ms_dtype_size (t->dtype);
  /* Whole pages, outward, but inside the mapping (which starts on a page),
   * and RELEASE_LOOKBACK bytes before the range too: a fault on the bytes
   * that follow can map a whole large page-cache folio (up to 2 MiB on
   * Linux) and so bring back pages of a range released before. */
  begin = begin > (uintptr_t) base + RELEASE_LOOKBACK ? begin - RELEASE_LOOKBACK : (uintptr_t) base;
  begin = MAX (begin & ~(page - 1), (uintptr_t) base);
  end = MIN ((end + page - 1) & ~(page - 1), ((uintptr_t) base + length + page - 1) & ~(page - 1));
  if (end > begin)
    madvise ((void *) begin, end - begin, MADV_DONTNEED);   /* advice: a failure changes nothing */
#else
  (void) st, (void) t, (void) first, (void) count;
#endif
}

/* The first 8 + *@header_len bytes of the file for @tensors: the length,
 * then the JSON header padded with spaces to a multiple of 8 (owned);
 * @data_len gets the bytes of tensor data that follow. */
static char *
header_bytes (const MsTensorOut *tensors, guint n, const char *const *metadata, size_t *header_len,
              uint64_t *data_len)
{
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  json_builder_begin_object (jb);
  if (metadata)
    {
      json_builder_set_member_name (jb, "__metadata__");
      json_builder_begin_object (jb);
      for (const char *const *kv = metadata; kv[0] && kv[1]; kv += 2)
        {
          json_builder_set_member_name (jb, kv[0]);
          json_builder_add_string_value (jb, kv[1]);
        }
      json_builder_end_object (jb);
    }
  uint64_t offset = 0;
  for (guint i = 0; i < n; i++)
    {
      uint64_t count = 1;
      json_builder_set_member_name (jb, tensors[i].name);
      json_builder_begin_object (jb);
      json_builder_set_member_name (jb, "dtype");
      json_builder_add_string_value (jb, "F32");
      json_builder_set_member_name (jb, "shape");
      json_builder_begin_array (jb);
      for (int d = 0; d < tensors[i].n_dims; d++)
        {
          json_builder_add_int_value (jb, tensors[i].shape[d]);
          count *= (uint64_t) tensors[i].shape[d];
        }
      json_builder_end_array (jb);
      json_builder_set_member_name (jb, "data_offsets");
      json_builder_begin_array (jb);
      json_builder_add_int_value (jb, (gint64) offset);
      json_builder_add_int_value (jb, (gint64) (offset + 4 * count));
      json_builder_end_array (jb);
      json_builder_end_object (jb);
      offset += 4 * count;
    }
  json_builder_end_object (jb);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (jb);
  json_generator_set_root (gen, root);
  gsize json_len;
  g_autofree char *json = json_generator_to_data (gen, &json_len);
  size_t padded = (json_len + 7) & ~(size_t) 7;
  char *out = g_malloc (8 + padded);
  for (int i = 0; i < 8; i++)
    out[i] = (char) (uint8_t) ((uint64_t) padded >> (8 * i));
  memcpy (out + 8, json, json_len);
  memset (out + 8 + json_len, ' ', padded - json_len);
  *header_len = 8 + padded;
  *data_len = offset;
  return out;
}


/* Elements of @t: the product of its shape. */
static size_t
out_count (const MsTensorOut *t)
{
  size_t count = 1;
  for (int d = 0; d < t->n_dims; d++)
    count *= (size_t) t->shape[d];
  return count;
}

/* Copies @count floats of @src as little-endian bytes to @dst. */
static void
put_le (uint8_t *dst, const float *src, size_t count)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  memcpy (dst, src, count * 4);
#else
  for (size_t j = 0; j < count; j++)
    {
      uint32_t bits;
      memcpy (&bits, &src[j], 4);
      uint8_t le[4] = { bits, bits >> 8, bits >> 16, bits >> 24 };
      memcpy (dst + 4 * j, le, 4);
    }
#endif
}

GBytes *
ms_safetensors_serialize (const MsTensorOut *tensors, guint n, const char *const *metadata)
{
  size_t header_len;
  uint64_t data_len;
  g_autofree char *header = header_bytes (tensors, n, metadata, &header_len, &data_len);
  uint8_t *out = g_malloc (header_len + data_len);
  memcpy (out, header, header_len);
  uint8_t *p = out + header_len;
  for (guint i = 0; i < n; i++)
    {
      size_t count = out_count (&tensors[i]);
      put_le (p, tensors[i].data, count);
      p += 4 * count;
    }
  return g_bytes_new_take (out, header_len + data_len);
}

gboolean
ms_safetensors_write_bytes (const char *path, GBytes *bytes, GError **error)
{
  g_autoptr (GError) io_error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  if (!g_file_set_contents (path, data, (gssize) size, &io_error))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot write: %s", path, io_error->message);
      return FALSE;
    }
  return TRUE;
}

/* write(2) of all @len bytes of @buf, retried on short writes and EINTR. */
static gboolean
write_all (int fd, const void *buf, size_t len)
{
  const uint8_t *p = buf;
  while (len > 0)
    {
      ssize_t w = write (fd, p, MIN (len, (size_t) 1 << 30));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      p += w;
      len -= (size_t) w;
    }
  return TRUE;
}

/* Streams the file to a temporary name beside @path, tensor by tensor (no
 * copy of the whole file in memory), and renames it into place. */
gboolean
ms_safetensors_write (const char *path, const MsTensorOut *tensors, guint n,
                      const char *const *metadata, GError **error)
{
  size_t header_len;
  uint64_t data_len;
  g_autofree char *header = header_bytes (tensors, n, metadata, &header_len, &data_len);
  g_autofree char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  int fd = g_mkstemp_full (tmp, O_WRONLY, 0644);
  if (fd < 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot write: %s", path, g_strerror (errno));
      return FALSE;
    }
  gboolean ok = write_all (fd, header, header_len);
  enum { CHUNK = 1 << 16 };   /* floats per write */
  g_autofree uint8_t *le = g_malloc (CHUNK * 4);
  for (guint i = 0; ok && i < n; i++)
    {
      size_t count = out_count (&tensors[i]);
      for (size_t j = 0; ok && j < count; j += CHUNK)
        {
          size_t k = MIN ((size_t) CHUNK, count - j);
          put_le (le, tensors[i].data + j, k);
          ok = write_all (fd, le, 4 * k);
        }
    }
  ok = ok && fsync (fd) == 0;
  int saved = errno;
  ok = close (fd) == 0 && ok;
  if (ok && rename (tmp, path) != 0)
    {
      saved = errno;
      ok = FALSE;
    }
  if (!ok)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot write: %s", path, g_strerror (saved ? saved : errno));
      g_unlink (tmp);
    }
  return ok;
}

char *
ms_shape_string (int n_dims, const int64_t *shape)
{
  GString *s = g_string_new ("[");
  for (int i = 0; i < n_dims; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}
