/* ms-engine.c — the engine table (built-in engines and registered ones),
 * attention-layout arithmetic, the configuration reader and description,
 * the footprint every engine's sizes imply, and handing observations to
 * the observer.  Contracts are in ms-engine.h. */
#include "ms-engine.h"
#include "engines/ms-engines-private.h"
#include "ms-error.h"
#include "ms-json.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* ---- the table -------------------------------------------------------- */

static const MsEngine *const builtin[] = { &ms_memformer_engine, &ms_rmt_engine, &ms_membart_engine };

static GMutex registry_lock;
static GPtrArray *registered;   /* const MsEngine*, under registry_lock */

static const MsEngine *
lookup_locked (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (builtin); i++)
    if (g_strcmp0 (builtin[i]->name, name) == 0)
      return builtin[i];
  for (guint i = 0; registered && i < registered->len; i++)
    if (g_strcmp0 (((const MsEngine *) registered->pdata[i])->name, name) == 0)
      return registered->pdata[i];
  return NULL;
}

const MsEngine *
ms_engine_lookup (const char *name)
{
  if (!name)
    return NULL;
  g_mutex_lock (&registry_lock);
  const MsEngine *e = lookup_locked (name);
  g_mutex_unlock (&registry_lock);
  return e;
}

const MsEngine **
ms_engine_list (void)
{
  g_mutex_lock (&registry_lock);
  guint n = G_N_ELEMENTS (builtin) + (registered ? registered->len : 0);
  const MsEngine **out = g_new0 (const MsEngine *, n + 1);
  for (guint i = 0; i < G_N_ELEMENTS (builtin); i++)
    out[i] = builtin[i];
  for (guint i = 0; registered && i < registered->len; i++)
    out[G_N_ELEMENTS (builtin) + i] = registered->pdata[i];
  g_mutex_unlock (&registry_lock);
  return out;
}

/* Whether some engine already stores an attention kind under @name. */
static gboolean
attention_name_taken_locked (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (builtin); i++)
    if (ms_engine_find_attention_by_name (builtin[i], name))
      return TRUE;
  for (guint i = 0; registered && i < registered->len; i++)
    if (ms_engine_find_attention_by_name (registered->pdata[i], name))
      return TRUE;
  return FALSE;
}

gboolean
ms_engine_register (const MsEngine *e)
{
  g_return_val_if_fail (e != NULL, FALSE);
  if (!e->name || !e->display_name || !e->slots_key || !e->parse_config || !e->describe_config || !e->bind
      || !e->count_weights
      || !e->sizes || !e->scratch_new || !e->scratch_free || !e->initial_memory || !e->step
      || (e->n_attention > 0 && !e->attention))
    return FALSE;
  g_mutex_lock (&registry_lock);
  gboolean ok = lookup_locked (e->name) == NULL;
  guint seen = 0;
  for (guint i = 0; ok && i < e->n_attention; i++)
    {
      const MsAttentionLayout *a = &e->attention[i];
      ok = a->name && (a->kind == MS_OBS_READ || a->kind == MS_OBS_WRITE) && !(seen & a->kind)
           && a->n_row_blocks >= 1 && a->n_row_blocks <= MS_ATTENTION_MAX_BLOCKS
           && a->n_col_blocks >= 1 && a->n_col_blocks <= MS_ATTENTION_MAX_BLOCKS
           && !attention_name_taken_locked (a->name);
      for (guint j = 0; ok && j < i; j++)
        ok = g_strcmp0 (e->attention[j].name, a->name) != 0;
      seen |= a->kind;
    }
  if (ok)
    {
      if (!registered)
        registered = g_ptr_array_new ();
      g_ptr_array_add (registered, (gpointer) e);
    }
  g_mutex_unlock (&registry_lock);
  return ok;
}

const MsAttentionLayout *
ms_engine_find_attention (const MsEngine *e, MsObsKind kind)
{
  for (guint i = 0; i < e->n_attention; i++)
    if (e->attention[i].kind == kind)
      return &e->attention[i];
  return NULL;
}

const MsAttentionLayout *
ms_engine_find_attention_by_role (const MsEngine *e, MsAttentionRole role)
{
  for (guint i = 0; i < e->n_attention; i++)
    if (e->attention[i].role == role)
      return &e->attention[i];
  return NULL;
}

const MsAttentionLayout *
ms_engine_find_attention_by_name (const MsEngine *e, const char *name)
{
  for (guint i = 0; i < e->n_attention; i++)
    if (g_strcmp0 (e->attention[i].name, name) == 0)
      return &e->attention[i];
  return NULL;
}

guint
ms_engine_attention_kinds (const MsEngine *e)
{
  guint kinds = 0;
  for (guint i = 0; i < e->n_attention; i++)
    kinds |= e->attention[i].kind;
  return kinds;
}

gboolean
ms_engine_offers_slot_observation (const MsEngine *e, MsObsKind kind)
{
  return kind != 0 && (e->slot_observations & kind) == kind;
}

/* ---- layouts ---------------------------------------------------------- */

int
ms_attention_block_size (const MsAttentionBlock *b, const MsConfig *c, int n_tokens)
{
  switch (b->extent)
    {
    case MS_BLOCK_SELF: return 1;
    case MS_BLOCK_SLOTS: return c->n_slots;
    case MS_BLOCK_TOKENS: return n_tokens;
    }
  g_return_val_if_reached (0);
}

static int
blocks_total (const MsAttentionBlock *blocks, int n_blocks, const MsConfig *c, int n_tokens)
{
  int total = 0;
  for (int i = 0; i < n_blocks; i++)
    total += ms_attention_block_size (&blocks[i], c, n_tokens);
  return total;
}

void
ms_attention_layout_shape (const MsAttentionLayout *a, const MsConfig *c, int n_tokens, int *heads, int *rows,
                           int *cols)
{
  if (heads)
    *heads = c->n_heads;
  if (rows)
    *rows = blocks_total (a->rows, a->n_row_blocks, c, n_tokens);
  if (cols)
    *cols = blocks_total (a->cols, a->n_col_blocks, c, n_tokens);
}

gboolean
ms_attention_layout_is_per_layer (const MsAttentionLayout *a)
{
  return a->n_layers != NULL;
}

int
ms_attention_layout_n_layers (const MsAttentionLayout *a, const MsConfig *c)
{
  return a->n_layers ? a->n_layers (c) : 1;
}

int
ms_attention_layout_last_layer (const MsAttentionLayout *a, const MsConfig *c)
{
  return a->n_layers ? a->n_layers (c) - 1 : -1;
}

int
ms_attention_layout_column_block (const MsAttentionLayout *a, const MsConfig *c, int n_tokens, int index,
                                  int *offset)
{
  if (index < 0)
    return -1;
  for (int i = 0, start = 0; i < a->n_col_blocks; i++)
    {
      int size = ms_attention_block_size (&a->cols[i], c, n_tokens);
      if (index < start + size)
        {
          if (offset)
            *offset = index - start;
          return i;
        }
      start += size;
    }
  return -1;
}

int
ms_attention_layout_column_start (const MsAttentionLayout *a, const MsConfig *c, int n_tokens, int block)
{
  return blocks_total (a->cols, MIN (block, a->n_col_blocks), c, n_tokens);
}

gboolean
ms_attention_layout_transfer_is_diagonal (const MsAttentionLayout *a)
{
  for (int i = 0; i < a->n_col_blocks; i++)
    if (a->cols[i].old_memory && a->cols[i].extent == MS_BLOCK_SLOTS)
      return FALSE;
  return TRUE;
}

/* ---- configuration ---------------------------------------------------- */

struct _MsConfigReader {
  JsonObject *object;
  const char *label;
};

const char *
ms_config_reader_get_label (MsConfigReader *r)
{
  return r->label;
}

/* The member @key, or NULL; FALSE (with @error) when it is missing and required. */
static gboolean
member (MsConfigReader *r, const char *key, gboolean required, const char *expected, JsonNode **out,
        GError **error)
{
  *out = json_object_get_member (r->object, key);
  if (!*out && required)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.config has no \"%s\" (%s)", r->label, key,
                   expected);
      return FALSE;
    }
  return TRUE;
}

static GType
value_type (JsonNode *n)
{
  return JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
}

gboolean
ms_config_reader_int (MsConfigReader *r, const char *key, int min, int max, gboolean required, int *out,
                      GError **error)
{
  g_autofree char *expected = g_strdup_printf ("an integer ≥ %d", min);
  JsonNode *n;
  if (!member (r, key, required, expected, &n, error))
    return FALSE;
  if (!n)
    return TRUE;
  if (value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < min || json_node_get_int (n) > max)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.config \"%s\" must be an integer between %d and %d",
                   r->label, key, min, max);
      return FALSE;
    }
  *out = (int) json_node_get_int (n);
  return TRUE;
}

gboolean
ms_config_reader_double (MsConfigReader *r, const char *key, double min_exclusive, gboolean required, double *out,
                         GError **error)
{
  JsonNode *n;
  if (!member (r, key, required, "a number", &n, error))
    return FALSE;
  if (!n)
    return TRUE;
  GType t = value_type (n);
  double v = t == G_TYPE_DOUBLE || t == G_TYPE_INT64 ? json_node_get_double (n) : NAN;
  if (!(v > min_exclusive && isfinite (v)))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.config %s must be a %s number", r->label, key,
                   min_exclusive == 0 ? "positive" : "finite");
      return FALSE;
    }
  *out = v;
  return TRUE;
}

gboolean
ms_config_reader_bool (MsConfigReader *r, const char *key, gboolean required, gboolean *out, GError **error)
{
  JsonNode *n;
  if (!member (r, key, required, "true or false", &n, error))
    return FALSE;
  if (!n)
    return TRUE;
  if (value_type (n) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.config %s must be true or false", r->label, key);
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

gboolean
ms_config_reader_choice (MsConfigReader *r, const char *key, const char *const *choices, gboolean required,
                         int *out, GError **error)
{
  g_autofree char *list = NULL;
  {
    GString *s = g_string_new (NULL);
    for (int i = 0; choices[i]; i++)
      g_string_append_printf (s, "%s\"%s\"", i == 0 ? "" : choices[i + 1] ? ", " : " or ", choices[i]);
    list = g_string_free (s, FALSE);
  }
  JsonNode *n;
  if (!member (r, key, required, list, &n, error))
    return FALSE;
  if (!n)
    return TRUE;
  const char *v = value_type (n) == G_TYPE_STRING ? json_node_get_string (n) : NULL;
  for (int i = 0; v && choices[i]; i++)
    if (g_str_equal (v, choices[i]))
      {
        *out = i;
        return TRUE;
      }
  g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.config %s must be %s", r->label, key, list);
  return FALSE;
}

gboolean
ms_config_parse (MsConfig *c, const char *arch, const char *json, const char *label, GError **error)
{
  memset (c, 0, sizeof *c);
  const MsEngine *engine = ms_engine_lookup (arch);
  if (!engine)
    {
      g_autofree const MsEngine **all = ms_engine_list ();
      GString *names = g_string_new (NULL);
      for (int i = 0; all[i]; i++)
        g_string_append_printf (names, "%s\"%s\"", i == 0 ? "" : all[i + 1] ? ", " : " or ", all[i]->name);
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.arch is %s%s%s; expected %s", label,
                   arch ? "\"" : "", arch ? arch : "missing", arch ? "\"" : "", names->str);
      g_string_free (names, TRUE);
      return FALSE;
    }
  c->engine = engine;
  if (!json)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: metadata has no memscope.config", label);
      return FALSE;
    }
  if (!ms_json_check_shape (json, -1, MS_CONFIG_MAX_JSON_DEPTH, MS_CONFIG_MAX_JSON_VALUES, label,
                            "memscope.config", error))
    return FALSE;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, json, -1, &json_error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.config is not a JSON object%s%s", label,
                   json_error ? ": " : "", json_error ? json_error->message : "");
      return FALSE;
    }
  MsConfigReader r = { json_node_get_object (json_parser_get_root (parser)), label };
  const int max = 1 << 24;
  if (!ms_config_reader_int (&r, "vocab_size", 256, max, TRUE, &c->vocab_size, error)
      || !ms_config_reader_int (&r, "d_model", 1, max, TRUE, &c->d_model, error)
      || !ms_config_reader_int (&r, engine->heads_key ? engine->heads_key : "n_heads", 1, max, TRUE, &c->n_heads,
                                error)
      || !ms_config_reader_int (&r, engine->ff_key ? engine->ff_key : "d_ff", 1, max, TRUE, &c->d_ff, error)
      || !ms_config_reader_int (&r, "segment_len", 1, max, TRUE, &c->segment_len, error)
      || !ms_config_reader_int (&r, engine->slots_key, 1, max, TRUE, &c->n_slots, error))
    return FALSE;
  if (c->d_model % c->n_heads != 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.config d_model %d is not divisible by %s %d",
                   label, c->d_model, engine->heads_key ? engine->heads_key : "n_heads", c->n_heads);
      return FALSE;
    }
  return engine->parse_config (c, &r, error);
}

const char *
ms_config_get_arch (const MsConfig *c)
{
  return c->engine->name;
}

static MsConfigRow
int_row (const char *key, int value)
{
  return (MsConfigRow) { .key = key, .type = MS_CONFIG_INT, .i = value };
}

guint
ms_config_describe (const MsConfig *c, MsConfigRow rows[MS_CONFIG_MAX_ROWS])
{
  guint n = 0;
  rows[n++] = int_row ("vocab_size", c->vocab_size);
  rows[n++] = int_row ("d_model", c->d_model);
  rows[n++] = int_row ("n_heads", c->n_heads);
  rows[n++] = int_row ("d_ff", c->d_ff);
  rows[n++] = int_row ("segment_len", c->segment_len);
  rows[n++] = int_row ("n_slots", c->n_slots);   /* one name for every engine, whatever its file key */
  n += c->engine->describe_config (c, rows + n);
  g_assert (n <= MS_CONFIG_MAX_ROWS);
  return n;
}

char *
ms_config_row_format (const MsConfigRow *row)
{
  switch (row->type)
    {
    case MS_CONFIG_INT: return g_strdup_printf ("%" G_GINT64_FORMAT, row->i);
    case MS_CONFIG_DOUBLE: return g_strdup_printf ("%g", row->d);
    case MS_CONFIG_BOOL: return g_strdup (row->i ? "true" : "false");
    case MS_CONFIG_STRING: return g_strdup (row->s);
    }
  g_return_val_if_reached (NULL);
}

/* ---- sizes ------------------------------------------------------------ */

void
ms_count_add (MsCount *count, guint64 times, guint64 a, guint64 b)
{
  guint64 product, sum;
  if (count->overflow || !g_uint64_checked_mul (&product, times, a) || !g_uint64_checked_mul (&product, product, b)
      || !g_uint64_checked_add (&sum, count->value, product))
    {
      count->overflow = TRUE;
      return;
    }
  count->value = sum;
}

double
ms_engine_footprint (const MsConfig *c)
{
  MsEngineSizes sz = { 0 };
  c->engine->sizes (c, &sz);
  g_assert (sz.n_scratch >= 0 && sz.n_scratch <= MS_ENGINE_MAX_SCRATCH);
  double floats = (double) c->n_slots * c->d_model + c->segment_len   /* memory, nll */
                  + sz.carry_rows * sz.carry_cols;
  for (int i = 0; i < sz.n_scratch; i++)
    floats += sz.scratch[i];
  return floats * sizeof (float);
}

float *
ms_engine_scratch_alloc (const MsEngineSizes *sizes, int i)
{
  g_assert (i >= 0 && i < sizes->n_scratch);
  return g_new (float, MAX ((size_t) sizes->scratch[i], 1));
}

void
ms_engine_scratch_init (MsEngineScratch *scratch, const MsEngineSizes *sizes)
{
  g_assert (sizes->n_scratch >= 0 && sizes->n_scratch <= MS_ENGINE_MAX_SCRATCH);
  *scratch = (MsEngineScratch) { .n = sizes->n_scratch };
  for (int i = 0; i < sizes->n_scratch; i++)
    scratch->buffer[i] = ms_engine_scratch_alloc (sizes, i);
}

void
ms_engine_scratch_clear (MsEngineScratch *scratch)
{
  for (int i = 0; i < scratch->n; i++)
    g_clear_pointer (&scratch->buffer[i], g_free);
  scratch->n = 0;
}

/* ---- observation ------------------------------------------------------ */

void
ms_engine_state_offer (MsEngineState *st, MsObsKind kind, int layer, const float *data, int n_dims, int d0, int d1,
                       int d2)
{
  MsObservation obs = { kind, st->segment, layer, n_dims, { d0, d1, d2 }, data, { 0 } };
  size_t stride = 1;
  for (int i = n_dims - 1; i >= 0; i--)
    {
      obs.stride[i] = stride;
      stride *= (size_t) obs.shape[i];
    }
  st->observer (&obs, st->observer_data);
}

void
ms_engine_state_check_finite (MsEngineState *st, const float *x, size_t n, const char *what, int layer)
{
  if (st->nonfinite[0])
    return;
  /* a block at a time without an early exit, so the loop vectorises
   * (logits are L · V values); the exponent bits all set is NaN or ±inf */
  size_t i = 0;
  for (size_t block = 0; block < n; block += 4096)
    {
      guint32 bad = 0;
      for (size_t j = block; j < MIN (n, block + 4096); j++)
        {
          guint32 bits;
          memcpy (&bits, x + j, sizeof bits);
          bad |= (bits & 0x7f800000u) == 0x7f800000u;
        }
      if (bad)
        {
          i = block;
          break;
        }
      i = n;
    }
  for (; i < n; i++)
    if (!isfinite (x[i]))
      {
        if (layer >= 0)
          g_snprintf (st->nonfinite, sizeof st->nonfinite, "segment %d, %s.%d", st->segment, what, layer);
        else
          g_snprintf (st->nonfinite, sizeof st->nonfinite, "segment %d, %s", st->segment, what);
        return;
      }
}

void
ms_engine_state_offer_view (MsEngineState *st, MsObsKind kind, int layer, const float *data, int d0, int d1, int d2,
                            size_t stride0, size_t stride1)
{
  MsObservation obs = { kind, st->segment, layer, 3, { d0, d1, d2 }, data, { stride0, stride1, 1 } };
  st->observer (&obs, st->observer_data);
}
