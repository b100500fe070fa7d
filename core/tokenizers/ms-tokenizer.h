/* ms-tokenizer.h — turning text into a model's token ids and back.
 *
 * Two kinds (DESIGN §2, memscope.tokenizer):
 * - "bytes": every byte of the text is one token, its value (0..255), so
 *   any file — UTF-8 or not — can be run;
 * - "bpe": byte-level BPE as GPT-2 uses it (the same family serves
 *   GPT-NeoX/Pythia and RoBERTa/BART).  The text is cut into pre-tokens by
 *   GPT-2's rule
 *       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   (evaluated on GLib's Unicode tables, no regex engine; \s is Unicode's
 *   White_Space), each pre-token's bytes start as one token each and are
 *   merged pairwise by rank (the lowest-ranked pair first, all its
 *   occurrences left to right, then the next), and each final piece is
 *   looked up in the vocabulary.  Special tokens (<|endoftext|>) are not
 *   split out of the text: like GPT-2's own encoder, they are text.
 *
 * Text is bytes.  A byte that does not start a valid UTF-8 sequence (a stray
 * continuation byte, a truncated or overlong sequence, a surrogate) is a
 * character of its own that is neither a letter, a number nor a space — the
 * class [^\s\p{L}\p{N}], where Python's GPT-2 encoder puts it when the bytes
 * are decoded with errors="surrogateescape" — and its byte is encoded as it
 * is.  So every input encodes, and decoding gives back the exact bytes.
 * (tests/tokenizer/pretokens_test.py checks the pre-tokens of such text
 * against the rule run by a regular-expression engine on the bytes decoded
 * that way.)
 *
 * A tokenizer is immutable after load apart from an internal cache guarded
 * by a lock: any number of threads may encode with one.  Reference-counted.
 *
 * Tokenizer files are hostile input: sizes are checked before parsing (at
 * most MS_TOKENIZER_MAX_FILE bytes, JSON nested at most
 * MS_TOKENIZER_MAX_JSON_DEPTH deep, at most MS_TOKENIZER_MAX_VOCAB ids and
 * as many merges), every id must appear exactly once in 0..V−1, every merge
 * must join two vocabulary tokens into a third, and all 256 byte tokens must
 * be present.  Encoding is O(n log n) in a pre-token's length, with memory
 * linear in the text.  Errors are MS_ERROR_FORMAT (unreadable structure) or
 * MS_ERROR_MODEL (a structure Memscope cannot use), naming the file.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define MS_TOKENIZER_MAX_FILE (64u * 1024u * 1024u)
#define MS_TOKENIZER_MAX_VOCAB (1 << 18)
#define MS_TOKENIZER_MAX_JSON_DEPTH 16
/* A value per vocabulary entry, three per merge (an array of two), and
 * room for the rest of a tokenizer.json. */
#define MS_TOKENIZER_MAX_JSON_VALUES (4u * MS_TOKENIZER_MAX_VOCAB + 65536u)
/* The longest token a vocabulary may hold, in bytes. */
#define MS_TOKENIZER_MAX_TOKEN_BYTES 1024

typedef enum { MS_TOKENIZER_BYTES, MS_TOKENIZER_BPE } MsTokenizerKind;

/* One token of an encoded text: its id and the bytes [start, end) of the
 * text it stands for.  Consecutive tokens tile the text. */
typedef struct {
  int32_t id;
  uint32_t start;
  uint32_t end;
} MsToken;

typedef struct _MsTokenizer MsTokenizer;

/* The bytes tokenizer (vocabulary 256).  Owned. */
MsTokenizer *ms_tokenizer_new_bytes (void);

/* A byte-level BPE tokenizer from the text of a Hugging Face tokenizer.json
 * (model.type "BPE", a ByteLevel pre-tokenizer without add_prefix_space, no
 * normalizer; merges as "a b" strings or ["a", "b"] pairs; added_tokens
 * become ids, not split out of text).  @label names the text in messages.
 * Owned, or NULL with @error. */
MsTokenizer *ms_tokenizer_new_from_json (const char *text, gssize len, const char *label, GError **error);

/* The same from a vocab.json (token → id) and a merges.txt (one "a b" a
 * line, a "#version" line and blank lines skipped), as GPT-2 ships them
 * (encoder.json and vocab.bpe). */
MsTokenizer *ms_tokenizer_new_from_vocab_merges (const char *vocab_json, gssize vocab_len,
                                                 const char *merges_txt, gssize merges_len,
                                                 const char *vocab_label, const char *merges_label,
                                                 GError **error);

/* Reads @path: a tokenizer.json, or a vocab.json when a merges.txt sits
 * beside it (@path's folder) and @path's name is vocab.json; a folder holding
 * either.  MS_ERROR_IO naming the file when it cannot be read. */
MsTokenizer *ms_tokenizer_load (const char *path, GError **error);

/* The tokenizer a model file's memscope.tokenizer value describes: "bytes",
 * or the text of a tokenizer.json (it starts with '{').  @label names the
 * model file. */
MsTokenizer *ms_tokenizer_new_from_metadata (const char *value, const char *label, GError **error);

/* The tokenizer.json text of a BPE tokenizer (owned): its vocabulary and
 * merges in Hugging Face's form with GPT-2's pipeline, as
 * ms_tokenizer_new_from_json reads it back, identical in every id; what a
 * model file embeds as memscope.tokenizer.  NULL for the bytes tokenizer. */
char *ms_tokenizer_to_json (const MsTokenizer *t);

MsTokenizer *ms_tokenizer_ref (MsTokenizer *t);
void ms_tokenizer_unref (MsTokenizer *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsTokenizer, ms_tokenizer_unref)

MsTokenizerKind ms_tokenizer_get_kind (const MsTokenizer *t);
/* "bytes" or "bpe". */
const char *ms_tokenizer_get_kind_name (const MsTokenizer *t);
/* Number of ids: every id in 0..V−1 has a token. */
int ms_tokenizer_get_vocab_size (const MsTokenizer *t);
guint ms_tokenizer_get_n_merges (const MsTokenizer *t);

/* @n bytes of a token (or any text) for a person to read (owned, UTF-8):
 * printable characters as they are, a space as "␣" and a newline as "↵"
 * (so a token's leading space shows), and every other control character,
 * each byte that is not UTF-8 and each character that does not print as
 * \xNN or \u{NNNN}.  What figures, tooltips and the CSV show for a token. */
char *ms_token_escape (const uint8_t *bytes, size_t n);

/* The id of the token that is the one byte @byte (every tokenizer has
 * one for each byte: @byte itself for the bytes tokenizer). */
int32_t ms_tokenizer_get_byte_token (const MsTokenizer *t, uint8_t byte);

/* The bytes token @id stands for (borrowed; not NUL-terminated, may be
 * invalid UTF-8 on its own), its length in @len; NULL for an id out of
 * range. */
const uint8_t *ms_tokenizer_get_token (const MsTokenizer *t, int32_t id, size_t *len);

/* Encodes @n bytes of @text (any bytes; n < 2^32).  Returns the tokens
 * (owned, g_free) and their count in @n_tokens (0 for empty text; the
 * array is then still non-NULL). */
MsToken *ms_tokenizer_encode (MsTokenizer *t, const uint8_t *text, size_t n, size_t *n_tokens);

/* How many bytes past a pre-token's end can decide where it ends (GPT-2's
 * rule looks at most one character, of up to four bytes, past a word, and a
 * whitespace run's last character, of up to three, is given back to what
 * follows it). */
#define MS_TOKENIZER_LOOKAHEAD 8

/* Encodes the part of @n bytes of @text (n < 2^32) that no bytes appended
 * to it can change, for encoding a text a piece at a time: its pre-tokens
 * up to the last one that ends at least MS_TOKENIZER_LOOKAHEAD bytes
 * before @n — all of them when @at_end (no more text follows).  Appends
 * their tokens to @tokens (an array of MsToken, byte ranges within @text)
 * exactly as ms_tokenizer_encode encodes them in any text that starts with
 * these @n bytes, and returns the bytes they cover (0 when no pre-token is
 * certain yet).  Encoding the rest together with the bytes that follow
 * it continues the same encoding.  The bytes tokenizer covers all @n. */
size_t ms_tokenizer_encode_stable (MsTokenizer *t, const uint8_t *text, size_t n, gboolean at_end, GArray *tokens);

/* Decodes @n ids into the bytes they stand for (owned, NUL-terminated for
 * convenience; the length in @len).  NULL with MS_ERROR_INPUT naming the
 * position of an id out of range. */
uint8_t *ms_tokenizer_decode (const MsTokenizer *t, const int32_t *ids, size_t n, size_t *len, GError **error);

/* The byte ranges of @text's pre-tokens (GPT-2's rule above), as pairs
 * (start, end) in @bounds (owned, g_free); returns the count.  For tests and
 * for showing where words break. */
size_t ms_tokenizer_pre_tokenize (const uint8_t *text, size_t n, uint32_t **bounds);

G_END_DECLS
