/* ms-tokenizer-private.h — the tokenizer's representation, shared by
 * encoding (ms-tokenizer.c) and loading (ms-tokenizer-load.c). */
#pragma once

#include "ms-tokenizer.h"

/* Merges: an open-addressing table from the pair (left id, right id) to its
 * rank and the id of the joined token.  Capacity a power of two, at least
 * twice the number of merges; key 0 marks an empty slot (ids are stored
 * plus one). */
typedef struct {
  guint64 key;       /* (left + 1) << 32 | (right + 1) */
  guint32 rank;
  int32_t merged;
} MsMergeSlot;

struct _MsTokenizer {
  gint ref_count;
  MsTokenizerKind kind;
  /* Owned */
  int vocab_size;
  guint8 *token_bytes;     /* every token's bytes, back to back */
  guint32 *token_offset;   /* [vocab_size + 1]: token i is token_bytes[offset[i] .. offset[i + 1]) */
  int32_t byte_id[256];    /* the id of each one-byte token */
  MsMergeSlot *merges;     /* [merge_capacity] */
  guint32 merge_capacity;
  guint n_merges;
  /* The pre-token cache: the bytes of a short pre-token (GBytes) → its ids
   * (int32 array, count first).  Guarded by cache_lock. */
  GMutex cache_lock;
  GHashTable *cache;
};

/* A new, empty BPE tokenizer of @vocab_size tokens whose bytes total
 * @total_bytes; the loader fills tokens, byte ids and merges. */
MsTokenizer *ms_tokenizer_alloc (MsTokenizerKind kind);

/* The merge table: insert returns FALSE when the pair is already there
 * (its rank in @existing_rank). */
void ms_tokenizer_merges_init (MsTokenizer *t, guint n_merges);
gboolean ms_tokenizer_merges_insert (MsTokenizer *t, int32_t left, int32_t right, guint32 rank, int32_t merged,
                                     guint32 *existing_rank);
const MsMergeSlot *ms_tokenizer_merges_lookup (const MsTokenizer *t, int32_t left, int32_t right);

/* GPT-2's byte-to-unicode alphabet: the character standing for each byte,
 * and the byte a character stands for (−1 when it is not in the alphabet). */
gunichar ms_byte_level_char (guint8 byte);
int ms_byte_level_byte (gunichar c);
