/* ms-tokenizer-load.c — reading and validating byte-level BPE tokenizers:
 * Hugging Face's tokenizer.json, GPT-2's vocab.json + merges.txt, and the
 * memscope.tokenizer value of a model file (ms-tokenizer.h).  Every size is
 * checked before it is used; every message names the file. */
#include "ms-tokenizer-private.h"
#include "ms-error.h"
#include "ms-json.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* What the loader gathers before building the tokenizer. */
typedef struct {
  const char *label;          /* the vocabulary's file, for messages */
  GHashTable *ids;            /* byte-level token text (borrowed from the JSON) → id + 1 */
  GPtrArray *by_id;           /* id → GBytes of the token (NULL while unset) */
  GPtrArray *owned_keys;      /* byte-level text of added tokens, keys of ids */
} Vocab;

static void
vocab_clear (Vocab *v)
{
  g_clear_pointer (&v->ids, g_hash_table_unref);
  g_clear_pointer (&v->by_id, g_ptr_array_unref);
  g_clear_pointer (&v->owned_keys, g_ptr_array_unref);
}

static gboolean
check_size (gssize len, const char *label, GError **error)
{
  if (len >= 0 && (guint64) len > MS_TOKENIZER_MAX_FILE)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: the tokenizer file is %" G_GSSIZE_FORMAT
                   " bytes; at most %u are read", label, len, MS_TOKENIZER_MAX_FILE);
      return FALSE;
    }
  return TRUE;
}

/* Parses @text as JSON after bounding its depth and value count. */
static JsonNode *
parse_json (const char *text, gssize len, const char *label, GError **error)
{
  if (len < 0)
    len = (gssize) strlen (text);
  if (!check_size (len, label, error)
      || !ms_json_check_shape (text, len, MS_TOKENIZER_MAX_JSON_DEPTH, MS_TOKENIZER_MAX_JSON_VALUES, label,
                               "the tokenizer", error))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) parse_error = NULL;
  if (!json_parser_load_from_data (parser, text, len, &parse_error))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: not valid JSON: %s", label, parse_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: expected a JSON object at the top", label);
      return NULL;
    }
  return json_node_ref (root);
}

/* The raw bytes a byte-level token text stands for, or NULL when a
 * character is outside GPT-2's alphabet. */
static GBytes *
byte_level_decode (const char *key)
{
  guint8 buf[MS_TOKENIZER_MAX_TOKEN_BYTES];
  size_t n = 0;
  for (const char *p = key; *p; p = g_utf8_next_char (p))
    {
      int b = ms_byte_level_byte (g_utf8_get_char (p));
      if (b < 0 || n == sizeof buf)
        return NULL;
      buf[n++] = (guint8) b;
    }
  return n ? g_bytes_new (buf, n) : NULL;
}

static gboolean
vocab_set (Vocab *v, const char *key, gint64 id, GBytes *bytes, GError **error)
{
  if (id < 0 || id >= MS_TOKENIZER_MAX_VOCAB)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: token '%s' has id %" G_GINT64_FORMAT
                   ", outside 0..%d", v->label, key, id, MS_TOKENIZER_MAX_VOCAB - 1);
      g_bytes_unref (bytes);
      return FALSE;
    }
  if ((guint) id >= v->by_id->len)
    g_ptr_array_set_size (v->by_id, (guint) id + 1);
  if (g_ptr_array_index (v->by_id, id))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: id %" G_GINT64_FORMAT " is given to two tokens (one is '%s')",
                   v->label, id, key);
      g_bytes_unref (bytes);
      return FALSE;
    }
  g_ptr_array_index (v->by_id, id) = bytes;
  return TRUE;
}

/* Reads a token → id object into @v. */
static gboolean
vocab_read (Vocab *v, JsonObject *obj, GError **error)
{
  v->ids = g_hash_table_new (g_str_hash, g_str_equal);
  v->by_id = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  v->owned_keys = g_ptr_array_new_with_free_func (g_free);
  if (json_object_get_size (obj) > MS_TOKENIZER_MAX_VOCAB)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: the vocabulary has %u tokens; at most %d are supported",
                   v->label, json_object_get_size (obj), MS_TOKENIZER_MAX_VOCAB);
      return FALSE;
    }
  JsonObjectIter iter;
  const char *key;
  JsonNode *node;
  json_object_iter_init (&iter, obj);
  while (json_object_iter_next (&iter, &key, &node))
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: the id of token '%s' is not an integer", v->label, key);
          return FALSE;
        }
      GBytes *bytes = byte_level_decode (key);
      if (!bytes)
        {
          g_autofree char *shown = g_utf8_make_valid (key, MIN (strlen (key), 64));
          g_set_error (error, MS_ERROR, MS_ERROR_MODEL,
                       "%s: token '%s' is empty, longer than %d bytes or not written in GPT-2's byte-level alphabet; "
                       "only byte-level BPE vocabularies are supported", v->label, shown, MS_TOKENIZER_MAX_TOKEN_BYTES);
          return FALSE;
        }
      gint64 id = json_node_get_int (node);
      if (!vocab_set (v, key, id, bytes, error))
        return FALSE;
      g_hash_table_insert (v->ids, (gpointer) key, GINT_TO_POINTER ((int) id + 1));
    }
  return TRUE;
}

static int
vocab_lookup (const Vocab *v, const char *text)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (v->ids, text)) - 1;
}

/* Adds the merge @left @right (byte-level text) of rank @rank, @where
 * naming it in messages. */
static gboolean
merge_add (MsTokenizer *t, const Vocab *v, const char *merges_label, const char *left, const char *right,
           guint32 rank, const char *where, GError **error)
{
  int a = vocab_lookup (v, left), b = vocab_lookup (v, right);
  g_autofree char *joined = g_strconcat (left, right, NULL);
  int ab = vocab_lookup (v, joined);
  const char *missing = a < 0 ? left : b < 0 ? right : ab < 0 ? joined : NULL;
  if (missing)
    {
      g_autofree char *shown = g_utf8_make_valid (missing, MIN (strlen (missing), 64));
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: %s needs token '%s', which is not in the vocabulary",
                   merges_label, where, shown);
      return FALSE;
    }
  guint32 earlier;
  if (!ms_tokenizer_merges_insert (t, a, b, rank, ab, &earlier))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: %s repeats merge %u (counted from 1)", merges_label, where,
                   earlier + 1);
      return FALSE;
    }
  return TRUE;
}

/* Builds the token table from @v; every id below the largest must have a
 * token, and every byte must have a one-byte token. */
static gboolean
build_tokens (MsTokenizer *t, Vocab *v, GError **error)
{
  guint n = v->by_id->len;
  if (n == 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: the vocabulary is empty", v->label);
      return FALSE;
    }
  size_t total = 0;
  for (guint i = 0; i < n; i++)
    {
      GBytes *b = g_ptr_array_index (v->by_id, i);
      if (!b)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: no token has id %u, but ids go up to %u; "
                       "ids must be 0..V-1 with none missing", v->label, i, n - 1);
          return FALSE;
        }
      total += g_bytes_get_size (b);
    }
  t->vocab_size = (int) n;
  t->token_bytes = g_new (guint8, MAX (total, 1));
  t->token_offset = g_new (guint32, n + 1);
  for (int i = 0; i < 256; i++)
    t->byte_id[i] = -1;
  size_t at = 0;
  for (guint i = 0; i < n; i++)
    {
      gsize len;
      const guint8 *b = g_bytes_get_data (g_ptr_array_index (v->by_id, i), &len);
      t->token_offset[i] = (guint32) at;
      memcpy (t->token_bytes + at, b, len);
      at += len;
      if (len == 1 && t->byte_id[b[0]] < 0)
        t->byte_id[b[0]] = (int32_t) i;
    }
  t->token_offset[n] = (guint32) at;
  for (int i = 0; i < 256; i++)
    if (t->byte_id[i] < 0)
      {
        g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: the vocabulary has no token for the byte 0x%02x "
                     "(U+%04X in byte-level form); a byte-level BPE vocabulary has all 256", v->label, i,
                     ms_byte_level_char ((guint8) i));
        return FALSE;
      }
  return TRUE;
}

/* Splits "left right" at its one space; FALSE when there is not exactly one
 * space with text on both sides. */
static gboolean
split_merge (const char *line, size_t len, char **left, char **right)
{
  const char *space = memchr (line, ' ', len);
  if (!space || space == line || space == line + len - 1 || memchr (space + 1, ' ', line + len - space - 1))
    return FALSE;
  *left = g_strndup (line, space - line);
  *right = g_strndup (space + 1, line + len - space - 1);
  return TRUE;
}

static gboolean
read_merges_txt (MsTokenizer *t, const Vocab *v, const char *text, gssize len, const char *label, GError **error)
{
  if (len < 0)
    len = (gssize) strlen (text);
  if (!check_size (len, label, error))
    return FALSE;
  if (!g_utf8_validate (text, len, NULL))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: the merges are not UTF-8 text", label);
      return FALSE;
    }
  guint n_lines = 1;
  for (gssize i = 0; i < len; i++)
    n_lines += text[i] == '\n';
  if (n_lines > MS_TOKENIZER_MAX_VOCAB + 2u)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: %u lines of merges; at most %d are supported", label, n_lines,
                   MS_TOKENIZER_MAX_VOCAB);
      return FALSE;
    }
  ms_tokenizer_merges_init (t, n_lines);
  guint32 rank = 0;
  guint line_no = 0;
  for (const char *p = text, *end = text + len; p < end;)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *line_end = nl ? nl : end;
      size_t n = line_end - p;
      if (n > 0 && p[n - 1] == '\r')
        n--;
      line_no++;
      if (n > 0 && !(line_no == 1 && g_str_has_prefix (p, "#version")))
        {
          g_autofree char *left = NULL, *right = NULL;
          g_autofree char *where = g_strdup_printf ("line %u", line_no);
          if (!split_merge (p, n, &left, &right))
            {
              g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: line %u is not a merge (two tokens and one space)",
                           label, line_no);
              return FALSE;
            }
          if (!merge_add (t, v, label, left, right, rank++, where, error))
            return FALSE;
        }
      p = line_end + 1;
    }
  return TRUE;
}

MsTokenizer *
ms_tokenizer_new_from_vocab_merges (const char *vocab_json, gssize vocab_len, const char *merges_txt,
                                    gssize merges_len, const char *vocab_label, const char *merges_label,
                                    GError **error)
{
  g_autoptr (JsonNode) root = parse_json (vocab_json, vocab_len, vocab_label, error);
  if (!root)
    return NULL;
  Vocab v = { vocab_label, NULL, NULL, NULL };
  MsTokenizer *t = ms_tokenizer_alloc (MS_TOKENIZER_BPE);
  gboolean ok = vocab_read (&v, json_node_get_object (root), error) && build_tokens (t, &v, error)
                && read_merges_txt (t, &v, merges_txt, merges_len, merges_label, error);
  vocab_clear (&v);
  if (!ok)
    g_clear_pointer (&t, ms_tokenizer_unref);
  return t;
}

/* ---- tokenizer.json --------------------------------------------------- */

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n)
                                                                                           : NULL;
}

static gboolean
member_is_null_or (JsonObject *o, const char *name, gboolean (*ok) (JsonNode *))
{
  JsonNode *n = json_object_get_member (o, name);
  return !n || JSON_NODE_HOLDS_NULL (n) || (ok && ok (n));
}

static gboolean is_false (JsonNode *n) { return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN && !json_node_get_boolean (n); }
static gboolean is_true (JsonNode *n) { return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN && json_node_get_boolean (n); }
static gboolean is_empty_string (JsonNode *n) { return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING && !*json_node_get_string (n); }

/* The parts of tokenizer.json Memscope does not implement must be absent or
 * set to what GPT-2's tokenizer sets them to. */
static gboolean
check_pipeline (JsonObject *root, JsonObject *model, const char *label, GError **error)
{
  const char *problem = NULL;
  JsonNode *pre = json_object_get_member (root, "pre_tokenizer");
  JsonObject *pre_obj = pre && JSON_NODE_HOLDS_OBJECT (pre) ? json_node_get_object (pre) : NULL;
  const char *type = member_string (model, "type");
  if (type && strcmp (type, "BPE") != 0)
    problem = "model.type is not \"BPE\"";
  else if (!member_is_null_or (root, "normalizer", NULL))
    problem = "it has a normalizer";
  else if (g_strcmp0 (member_string (pre_obj, "type"), "ByteLevel") != 0)
    problem = "its pre_tokenizer is not ByteLevel";
  else if (!json_object_has_member (pre_obj, "add_prefix_space")
           || !is_false (json_object_get_member (pre_obj, "add_prefix_space")))
    problem = "its ByteLevel pre_tokenizer does not set add_prefix_space to false";
  else if (!member_is_null_or (pre_obj, "use_regex", is_true))
    problem = "its ByteLevel pre_tokenizer has use_regex false";
  else if (!member_is_null_or (model, "dropout", NULL))
    problem = "model.dropout is set";
  else if (!member_is_null_or (model, "continuing_subword_prefix", is_empty_string)
           || !member_is_null_or (model, "end_of_word_suffix", is_empty_string))
    problem = "model sets a subword prefix or suffix";
  else if (!member_is_null_or (model, "byte_fallback", is_false) || !member_is_null_or (model, "ignore_merges", is_false))
    problem = "model sets byte_fallback or ignore_merges";
  if (problem)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: %s; Memscope reads byte-level BPE tokenizers as GPT-2 "
                   "defines them (a ByteLevel pre-tokenizer, no normalizer)", label, problem);
      return FALSE;
    }
  return TRUE;
}

/* added_tokens: an id the vocabulary lacks gets the token's text as its
 * bytes; an id it has must stand for the same text. */
static gboolean
read_added_tokens (Vocab *v, JsonObject *root, GError **error)
{
  JsonNode *n = json_object_get_member (root, "added_tokens");
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: added_tokens is not an array", v->label);
      return FALSE;
    }
  JsonArray *a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      const char *content = member_string (o, "content");
      JsonNode *idn = o ? json_object_get_member (o, "id") : NULL;
      if (!content || !*content || strlen (content) > MS_TOKENIZER_MAX_TOKEN_BYTES || !idn
          || !JSON_NODE_HOLDS_VALUE (idn) || json_node_get_value_type (idn) != G_TYPE_INT64)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: added_tokens[%u] needs a non-empty \"content\" "
                       "(at most %d bytes) and an integer \"id\"", v->label, i, MS_TOKENIZER_MAX_TOKEN_BYTES);
          return FALSE;
        }
      gint64 id = json_node_get_int (idn);
      if (id >= 0 && id < v->by_id->len && g_ptr_array_index (v->by_id, id))
        {
          GBytes *have = g_ptr_array_index (v->by_id, id);
          g_autoptr (GBytes) want = g_bytes_new (content, strlen (content));
          if (!g_bytes_equal (have, want))
            {
              g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: added token '%s' has id %" G_GINT64_FORMAT
                           ", which the vocabulary gives to another token", v->label, content, id);
              return FALSE;
            }
          continue;
        }
      /* one id per text: the token must not repeat another's bytes */
      GString *key = g_string_new (NULL);
      for (const guint8 *c = (const guint8 *) content; *c; c++)
        g_string_append_unichar (key, ms_byte_level_char (*c));
      int other = vocab_lookup (v, key->str);
      if (other >= 0)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: added token '%s' (id %" G_GINT64_FORMAT
                       ") has the text of token %d", v->label, content, id, other);
          g_string_free (key, TRUE);
          return FALSE;
        }
      if (!vocab_set (v, content, id, g_bytes_new (content, strlen (content)), error))
        {
          g_string_free (key, TRUE);
          return FALSE;
        }
      char *owned = g_string_free (key, FALSE);
      g_ptr_array_add (v->owned_keys, owned);
      g_hash_table_insert (v->ids, owned, GINT_TO_POINTER ((int) id + 1));
    }
  return TRUE;
}

static gboolean
read_json_merges (MsTokenizer *t, const Vocab *v, JsonObject *model, GError **error)
{
  JsonNode *n = json_object_get_member (model, "merges");
  if (!n || !JSON_NODE_HOLDS_ARRAY (n))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: model.merges is missing or not an array; "
                   "a BPE tokenizer needs its merges", v->label);
      return FALSE;
    }
  JsonArray *a = json_node_get_array (n);
  guint count = json_array_get_length (a);
  if (count > MS_TOKENIZER_MAX_VOCAB)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: %u merges; at most %d are supported", v->label, count,
                   MS_TOKENIZER_MAX_VOCAB);
      return FALSE;
    }
  ms_tokenizer_merges_init (t, count);
  for (guint i = 0; i < count; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autofree char *left = NULL, *right = NULL;
      gboolean ok = FALSE;
      if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        {
          const char *s = json_node_get_string (e);
          ok = split_merge (s, strlen (s), &left, &right);
        }
      else if (JSON_NODE_HOLDS_ARRAY (e) && json_array_get_length (json_node_get_array (e)) == 2)
        {
          JsonArray *pair = json_node_get_array (e);
          JsonNode *l = json_array_get_element (pair, 0), *r = json_array_get_element (pair, 1);
          if (JSON_NODE_HOLDS_VALUE (l) && json_node_get_value_type (l) == G_TYPE_STRING && JSON_NODE_HOLDS_VALUE (r)
              && json_node_get_value_type (r) == G_TYPE_STRING && *json_node_get_string (l) && *json_node_get_string (r))
            {
              left = g_strdup (json_node_get_string (l));
              right = g_strdup (json_node_get_string (r));
              ok = TRUE;
            }
        }
      if (!ok)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: model.merges[%u] is neither \"a b\" nor [\"a\", \"b\"]",
                       v->label, i);
          return FALSE;
        }
      g_autofree char *where = g_strdup_printf ("model.merges[%u]", i);
      if (!merge_add (t, v, v->label, left, right, i, where, error))
        return FALSE;
    }
  return TRUE;
}

MsTokenizer *
ms_tokenizer_new_from_json (const char *text, gssize len, const char *label, GError **error)
{
  g_autoptr (JsonNode) root_node = parse_json (text, len, label, error);
  if (!root_node)
    return NULL;
  JsonObject *root = json_node_get_object (root_node);
  JsonNode *model_node = json_object_get_member (root, "model");
  JsonNode *vocab_node = model_node && JSON_NODE_HOLDS_OBJECT (model_node)
                             ? json_object_get_member (json_node_get_object (model_node), "vocab") : NULL;
  if (!vocab_node || !JSON_NODE_HOLDS_OBJECT (vocab_node))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: no model.vocab object; expected a Hugging Face "
                   "tokenizer.json of a BPE model", label);
      return NULL;
    }
  JsonObject *model = json_node_get_object (model_node);
  if (!check_pipeline (root, model, label, error))
    return NULL;
  Vocab v = { label, NULL, NULL, NULL };
  MsTokenizer *t = ms_tokenizer_alloc (MS_TOKENIZER_BPE);
  gboolean ok = vocab_read (&v, json_node_get_object (vocab_node), error) && read_added_tokens (&v, root, error)
                && build_tokens (t, &v, error) && read_json_merges (t, &v, model, error);
  vocab_clear (&v);
  if (!ok)
    g_clear_pointer (&t, ms_tokenizer_unref);
  return t;
}

/* ---- files and model metadata ----------------------------------------- */

static char *
read_file (const char *path, gsize *len, GError **error)
{
  char *contents = NULL;
  g_autoptr (GError) io_error = NULL;
  g_autoptr (GMappedFile) probe = g_mapped_file_new (path, FALSE, &io_error);
  if (!probe)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read the tokenizer: %s", path, io_error->message);
      return NULL;
    }
  gsize size = g_mapped_file_get_length (probe);
  if (!check_size ((gssize) MIN (size, (gsize) G_MAXSSIZE), path, error))
    return NULL;
  contents = g_memdup2 (g_mapped_file_get_contents (probe) ? g_mapped_file_get_contents (probe) : "", size + 1);
  contents[size] = '\0';
  *len = size;
  return contents;
}

MsTokenizer *
ms_tokenizer_load (const char *path, GError **error)
{
  g_autofree char *dir = NULL, *json_path = NULL, *vocab_path = NULL, *merges_path = NULL;
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      json_path = g_build_filename (path, "tokenizer.json", NULL);
      if (!g_file_test (json_path, G_FILE_TEST_EXISTS))
        {
          vocab_path = g_build_filename (path, "vocab.json", NULL);
          merges_path = g_build_filename (path, "merges.txt", NULL);
          g_clear_pointer (&json_path, g_free);
        }
    }
  else
    {
      g_autofree char *base = g_path_get_basename (path);
      dir = g_path_get_dirname (path);
      if (strcmp (base, "vocab.json") == 0)
        {
          vocab_path = g_strdup (path);
          merges_path = g_build_filename (dir, "merges.txt", NULL);
        }
      else
        json_path = g_strdup (path);
    }
  gsize len = 0, merges_len = 0;
  if (json_path)
    {
      g_autofree char *text = read_file (json_path, &len, error);
      return text ? ms_tokenizer_new_from_json (text, (gssize) len, json_path, error) : NULL;
    }
  g_autofree char *vocab = read_file (vocab_path, &len, error);
  if (!vocab)
    return NULL;
  g_autofree char *merges = read_file (merges_path, &merges_len, error);
  if (!merges)
    return NULL;
  return ms_tokenizer_new_from_vocab_merges (vocab, (gssize) len, merges, (gssize) merges_len, vocab_path,
                                             merges_path, error);
}

MsTokenizer *
ms_tokenizer_new_from_metadata (const char *value, const char *label, GError **error)
{
  if (!value)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: metadata has no memscope.tokenizer "
                   "(\"bytes\" or an embedded tokenizer.json)", label);
      return NULL;
    }
  if (strcmp (value, "bytes") == 0)
    return ms_tokenizer_new_bytes ();
  if (value[0] != '{')
    {
      g_autofree char *shown = g_utf8_make_valid (value, MIN (strlen (value), 40));
      g_set_error (error, MS_ERROR, MS_ERROR_MODEL, "%s: memscope.tokenizer is \"%s\"; expected \"bytes\" or "
                   "the text of a tokenizer.json", label, shown);
      return NULL;
    }
  g_autofree char *what = g_strdup_printf ("%s (memscope.tokenizer)", label);
  return ms_tokenizer_new_from_json (value, -1, what, error);
}

/* ---- writing ---------------------------------------------------------- */

static void
append_byte_level (GString *s, const guint8 *bytes, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      gunichar c = ms_byte_level_char (bytes[i]);
      if (c == '"' || c == '\\')
        g_string_append_c (s, '\\');
      g_string_append_unichar (s, c);
    }
}

char *
ms_tokenizer_to_json (const MsTokenizer *t)
{
  g_return_val_if_fail (t->kind == MS_TOKENIZER_BPE, NULL);
  GString *s = g_string_new ("{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,"
                             "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                             "\"trim_offsets\":true,\"use_regex\":true},"
                             "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"vocab\":{");
  for (int i = 0; i < t->vocab_size; i++)
    {
      size_t n;
      const uint8_t *b = ms_tokenizer_get_token (t, i, &n);
      g_string_append (s, i ? ",\"" : "\"");
      append_byte_level (s, b, n);
      g_string_append_printf (s, "\":%d", i);
    }
  g_string_append (s, "},\"merges\":[");
  g_autofree const MsMergeSlot **by_rank = g_new0 (const MsMergeSlot *, t->n_merges);
  for (guint32 i = 0; i < t->merge_capacity; i++)
    if (t->merges[i].key && t->merges[i].rank < t->n_merges)
      by_rank[t->merges[i].rank] = &t->merges[i];
  for (guint r = 0; r < t->n_merges; r++)
    {
      size_t n;
      const uint8_t *b;
      g_string_append (s, r ? ",[\"" : "[\"");
      b = ms_tokenizer_get_token (t, (int32_t) (by_rank[r]->key >> 32) - 1, &n);
      append_byte_level (s, b, n);
      g_string_append (s, "\",\"");
      b = ms_tokenizer_get_token (t, (int32_t) (by_rank[r]->key & 0xffffffffu) - 1, &n);
      append_byte_level (s, b, n);
      g_string_append (s, "\"]");
    }
  g_string_append (s, "]}}");
  return g_string_free (s, FALSE);
}
