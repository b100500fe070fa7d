/* ms-tokenizer.c — the tokenizer object, the bytes tokenizer, and byte-level
 * BPE encoding and decoding (ms-tokenizer.h).
 *
 * A pre-token of m bytes is merged with a heap of candidate pairs keyed by
 * (rank, position), over a linked list of pieces: O(m log m) work and O(m)
 * memory, so a hostile text of one endless word costs no more than its
 * length says.  Merging proceeds rank by rank: every occurrence of the
 * lowest-ranked pair is joined, left to right and without overlap, before
 * any pair the joins created is considered, which is exactly GPT-2's loop
 * (for merge lists where a token is made before it is used, any order of
 * equal results would do; for others, this keeps GPT-2's answer). */
#include "ms-tokenizer-private.h"
#include "ms-error.h"

#include <string.h>

/* Pre-tokens up to this many bytes are cached, and the cache is emptied
 * when it holds this many. */
#define CACHE_MAX_WORD 64
#define CACHE_MAX_ENTRIES 65536

MsTokenizer *
ms_tokenizer_alloc (MsTokenizerKind kind)
{
  MsTokenizer *t = g_new0 (MsTokenizer, 1);
  t->ref_count = 1;
  t->kind = kind;
  g_mutex_init (&t->cache_lock);
  t->cache = g_hash_table_new_full ((GHashFunc) g_bytes_hash, (GEqualFunc) g_bytes_equal,
                                    (GDestroyNotify) g_bytes_unref, g_free);
  return t;
}

MsTokenizer *
ms_tokenizer_new_bytes (void)
{
  MsTokenizer *t = ms_tokenizer_alloc (MS_TOKENIZER_BYTES);
  t->vocab_size = 256;
  t->token_bytes = g_new (guint8, 256);
  t->token_offset = g_new (guint32, 257);
  for (int i = 0; i < 256; i++)
    {
      t->token_bytes[i] = (guint8) i;
      t->token_offset[i] = (guint32) i;
      t->byte_id[i] = i;
    }
  t->token_offset[256] = 256;
  return t;
}

MsTokenizer *
ms_tokenizer_ref (MsTokenizer *t)
{
  g_atomic_int_inc (&t->ref_count);
  return t;
}

void
ms_tokenizer_unref (MsTokenizer *t)
{
  if (!t || !g_atomic_int_dec_and_test (&t->ref_count))
    return;
  g_free (t->token_bytes);
  g_free (t->token_offset);
  g_free (t->merges);
  g_hash_table_unref (t->cache);
  g_mutex_clear (&t->cache_lock);
  g_free (t);
}

MsTokenizerKind ms_tokenizer_get_kind (const MsTokenizer *t) { return t->kind; }
const char *ms_tokenizer_get_kind_name (const MsTokenizer *t) { return t->kind == MS_TOKENIZER_BYTES ? "bytes" : "bpe"; }
int ms_tokenizer_get_vocab_size (const MsTokenizer *t) { return t->vocab_size; }
guint ms_tokenizer_get_n_merges (const MsTokenizer *t) { return t->n_merges; }

char *
ms_token_escape (const uint8_t *bytes, size_t n)
{
  GString *s = g_string_sized_new (n + 8);
  for (size_t i = 0; i < n;)
    {
      const char *p = (const char *) bytes + i;
      gunichar c = g_utf8_get_char_validated (p, (gssize) (n - i));
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (s, "\\x%02x", bytes[i++]);
          continue;
        }
      size_t len = (size_t) (g_utf8_next_char (p) - p);
      if (c == ' ')
        g_string_append (s, "␣");
      else if (c == '\n')
        g_string_append (s, "↵");
      else if (c < 0x80 && (c < 0x21 || c == 0x7f))
        g_string_append_printf (s, "\\x%02x", c);
      else if (c >= 0x80 && !g_unichar_isprint (c) && !g_unichar_ismark (c))
        g_string_append_printf (s, "\\u{%04x}", c);
      else
        g_string_append_len (s, p, (gssize) len);
      i += len;
    }
  return g_string_free (s, FALSE);
}

int32_t
ms_tokenizer_get_byte_token (const MsTokenizer *t, uint8_t byte)
{
  return t->byte_id[byte];
}

const uint8_t *
ms_tokenizer_get_token (const MsTokenizer *t, int32_t id, size_t *len)
{
  if (id < 0 || id >= t->vocab_size)
    return NULL;
  *len = t->token_offset[id + 1] - t->token_offset[id];
  return t->token_bytes + t->token_offset[id];
}

/* ---- the merge table ------------------------------------------------- */

static guint32
pair_hash (guint64 key)
{
  key ^= key >> 33;
  key *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  key ^= key >> 33;
  return (guint32) key;
}

void
ms_tokenizer_merges_init (MsTokenizer *t, guint n_merges)
{
  guint32 cap = 16;
  while (cap < 2u * n_merges)
    cap *= 2;
  t->merge_capacity = cap;
  t->merges = g_new0 (MsMergeSlot, cap);
  t->n_merges = 0;
}

gboolean
ms_tokenizer_merges_insert (MsTokenizer *t, int32_t left, int32_t right, guint32 rank, int32_t merged,
                            guint32 *existing_rank)
{
  guint64 key = (guint64) (left + 1) << 32 | (guint32) (right + 1);
  for (guint32 i = pair_hash (key) & (t->merge_capacity - 1);; i = (i + 1) & (t->merge_capacity - 1))
    {
      MsMergeSlot *s = &t->merges[i];
      if (s->key == key)
        {
          *existing_rank = s->rank;
          return FALSE;
        }
      if (s->key == 0)
        {
          s->key = key;
          s->rank = rank;
          s->merged = merged;
          t->n_merges++;
          return TRUE;
        }
    }
}

const MsMergeSlot *
ms_tokenizer_merges_lookup (const MsTokenizer *t, int32_t left, int32_t right)
{
  if (!t->merges)
    return NULL;
  guint64 key = (guint64) (left + 1) << 32 | (guint32) (right + 1);
  for (guint32 i = pair_hash (key) & (t->merge_capacity - 1);; i = (i + 1) & (t->merge_capacity - 1))
    {
      const MsMergeSlot *s = &t->merges[i];
      if (s->key == key)
        return s;
      if (s->key == 0)
        return NULL;
    }
}

/* ---- BPE over one pre-token ------------------------------------------ */

typedef struct {
  guint32 rank;
  guint32 pos;      /* the left piece's first byte */
  int32_t left, right;
} Candidate;

static gboolean
candidate_before (const Candidate *a, const Candidate *b)
{
  return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void
heap_push (GArray *heap, Candidate c)
{
  g_array_append_val (heap, c);
  Candidate *h = (Candidate *) heap->data;
  for (guint i = heap->len - 1; i > 0;)
    {
      guint parent = (i - 1) / 2;
      if (!candidate_before (&h[i], &h[parent]))
        break;
      Candidate tmp = h[i];
      h[i] = h[parent];
      h[parent] = tmp;
      i = parent;
    }
}

static Candidate
heap_pop (GArray *heap)
{
  Candidate *h = (Candidate *) heap->data;
  Candidate top = h[0];
  h[0] = h[heap->len - 1];
  g_array_set_size (heap, heap->len - 1);
  h = (Candidate *) heap->data;
  for (guint i = 0;;)
    {
      guint l = 2 * i + 1, r = l + 1, best = i;
      if (l < heap->len && candidate_before (&h[l], &h[best]))
        best = l;
      if (r < heap->len && candidate_before (&h[r], &h[best]))
        best = r;
      if (best == i)
        break;
      Candidate tmp = h[i];
      h[i] = h[best];
      h[best] = tmp;
      i = best;
    }
  return top;
}

static void
consider (const MsTokenizer *t, GArray *into, guint32 pos, int32_t left, int32_t right)
{
  const MsMergeSlot *s = ms_tokenizer_merges_lookup (t, left, right);
  if (s)
    g_array_append_val (into, ((Candidate) { s->rank, pos, left, right }));
}

/* Appends the ids of the pre-token @w (@m ≥ 1 bytes) to @ids. */
static void
bpe_word (const MsTokenizer *t, const guint8 *w, guint32 m, GArray *ids)
{
  if (m == 1 || t->n_merges == 0)
    {
      for (guint32 i = 0; i < m; i++)
        g_array_append_val (ids, t->byte_id[w[i]]);
      return;
    }
  /* pieces start at byte positions; id[p] < 0 for positions inside a piece */
  g_autofree int32_t *id = g_new (int32_t, m);
  g_autofree guint32 *next = g_new (guint32, m);
  g_autofree guint32 *prev = g_new (guint32, m);   /* G_MAXUINT32: none */
  for (guint32 p = 0; p < m; p++)
    {
      id[p] = t->byte_id[w[p]];
      next[p] = p + 1;
      prev[p] = p == 0 ? G_MAXUINT32 : p - 1;
    }
  g_autoptr (GArray) heap = g_array_sized_new (FALSE, FALSE, sizeof (Candidate), m);
  g_autoptr (GArray) pending = g_array_new (FALSE, FALSE, sizeof (Candidate));
  for (guint32 p = 0; p + 1 < m; p++)
    consider (t, pending, p, id[p], id[p + 1]);
  for (guint i = 0; i < pending->len; i++)
    heap_push (heap, g_array_index (pending, Candidate, i));
  while (heap->len > 0)
    {
      guint32 rank = ((Candidate *) heap->data)[0].rank;
      g_array_set_size (pending, 0);
      while (heap->len > 0 && ((Candidate *) heap->data)[0].rank == rank)
        {
          Candidate c = heap_pop (heap);
          if (id[c.pos] != c.left)
            continue;
          guint32 q = next[c.pos];
          if (q >= m || id[q] != c.right)
            continue;
          id[c.pos] = ms_tokenizer_merges_lookup (t, c.left, c.right)->merged;
          id[q] = -1;
          next[c.pos] = next[q];
          if (next[q] < m)
            prev[next[q]] = c.pos;
          if (prev[c.pos] != G_MAXUINT32)
            consider (t, pending, prev[c.pos], id[prev[c.pos]], id[c.pos]);
          if (next[c.pos] < m)
            consider (t, pending, c.pos, id[c.pos], id[next[c.pos]]);
        }
      for (guint i = 0; i < pending->len; i++)
        heap_push (heap, g_array_index (pending, Candidate, i));
    }
  for (guint32 p = 0; p < m; p = next[p])
    g_array_append_val (ids, id[p]);
}

/* The ids of pre-token @w, through the cache when it is short. */
static void
encode_word (MsTokenizer *t, const guint8 *w, guint32 m, GArray *ids)
{
  if (m > CACHE_MAX_WORD)
    {
      bpe_word (t, w, m, ids);
      return;
    }
  g_autoptr (GBytes) key = g_bytes_new (w, m);
  g_mutex_lock (&t->cache_lock);
  const int32_t *hit = g_hash_table_lookup (t->cache, key);
  if (hit)
    {
      g_array_append_vals (ids, hit + 1, (guint) hit[0]);
      g_mutex_unlock (&t->cache_lock);
      return;
    }
  g_mutex_unlock (&t->cache_lock);
  guint before = ids->len;
  bpe_word (t, w, m, ids);
  guint count = ids->len - before;
  int32_t *value = g_new (int32_t, count + 1);
  value[0] = (int32_t) count;
  memcpy (value + 1, &g_array_index (ids, int32_t, before), count * sizeof (int32_t));
  g_mutex_lock (&t->cache_lock);
  if (g_hash_table_size (t->cache) >= CACHE_MAX_ENTRIES)
    g_hash_table_remove_all (t->cache);
  g_hash_table_replace (t->cache, g_steal_pointer (&key), value);
  g_mutex_unlock (&t->cache_lock);
}

size_t
ms_tokenizer_encode_stable (MsTokenizer *t, const uint8_t *text, size_t n, gboolean at_end, GArray *out)
{
  g_return_val_if_fail (n < G_MAXUINT32, 0);
  if (t->kind == MS_TOKENIZER_BYTES)
    {
      guint before = out->len;
      g_array_set_size (out, before + n);
      for (size_t i = 0; i < n; i++)
        g_array_index (out, MsToken, before + i) = (MsToken) { text[i], (uint32_t) i, (uint32_t) i + 1 };
      return n;
    }
  /* Pre-token bounds depend only on the bytes up to a few past each end
   * (ms-pretokenize.c), so those that end far enough from @n are those of
   * any longer text. */
  size_t covered = 0;
  g_autofree uint32_t *bounds = NULL;
  size_t n_words = ms_tokenizer_pre_tokenize (text, n, &bounds);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int32_t));
  for (size_t w = 0; w < n_words; w++)
    {
      uint32_t start = bounds[2 * w], end = bounds[2 * w + 1];
      if (!at_end && (size_t) end + MS_TOKENIZER_LOOKAHEAD > n)
        break;
      covered = end;
      g_array_set_size (ids, 0);
      encode_word (t, text + start, end - start, ids);
      uint32_t at = start;
      for (guint k = 0; k < ids->len; k++)
        {
          int32_t id = g_array_index (ids, int32_t, k);
          uint32_t len = t->token_offset[id + 1] - t->token_offset[id];
          g_array_append_val (out, ((MsToken) { id, at, at + len }));
          at += len;
        }
    }
  return covered;
}

MsToken *
ms_tokenizer_encode (MsTokenizer *t, const uint8_t *text, size_t n, size_t *n_tokens)
{
  g_return_val_if_fail (n < G_MAXUINT32, NULL);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (MsToken));
  ms_tokenizer_encode_stable (t, text, n, TRUE, out);
  *n_tokens = out->len;
  return (MsToken *) g_array_free (out, FALSE);
}

uint8_t *
ms_tokenizer_decode (const MsTokenizer *t, const int32_t *ids, size_t n, size_t *len, GError **error)
{
  GByteArray *out = g_byte_array_new ();
  for (size_t i = 0; i < n; i++)
    {
      size_t k;
      const uint8_t *bytes = ms_tokenizer_get_token (t, ids[i], &k);
      if (!bytes)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "token %zu has id %d, outside the vocabulary (0..%d)",
                       i, ids[i], t->vocab_size - 1);
          g_byte_array_unref (out);
          return NULL;
        }
      g_byte_array_append (out, bytes, (guint) k);
    }
  *len = out->len;
  g_byte_array_append (out, (const guint8 *) "", 1);
  return g_byte_array_free (out, FALSE);
}
