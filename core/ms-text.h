/* ms-text.h — turning input text into token ids: a whole file by the
 * bytes tokenizer (every byte one token, 0..255, so any file — UTF-8 or
 * not — can be run), and any file by any tokenizer a piece at a time.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "tokenizers/ms-tokenizer.h"

G_BEGIN_DECLS

/* Reads @path and returns its bytes as token ids (owned, g_free), with their
 * count in @n_tokens.  An unreadable or empty file is an MS_ERROR_IO or
 * MS_ERROR_INPUT error naming the file. */
int32_t *ms_text_load_tokens (const char *path, size_t *n_tokens, GError **error);

/* The same for bytes in memory; @label names them in messages. */
int32_t *ms_text_tokenize (const uint8_t *bytes, size_t n, size_t *n_tokens,
                           const char *label, GError **error);

/* An input read and tokenized a piece at a time by a model's tokenizer,
 * so that stepping through a file of any size holds one segment of it in
 * memory.  The tokens are exactly those ms_tokenizer_encode gives for the
 * whole file (the text is encoded up to where no later byte can change it:
 * ms_tokenizer_encode_stable), except inside a pre-token longer than
 * MS_TEXT_MAX_WORD bytes — no text has one; a hostile file might — which is
 * cut there at a character boundary, so memory stays bounded whatever the
 * input. */
typedef struct _MsTextReader MsTextReader;

#define MS_TEXT_MAX_WORD (1u << 20)

/* Opens @path for reading as @tokenizer's tokens (NULL: the bytes
 * tokenizer; a reference is kept).  Owned; free with ms_text_reader_free.
 * An unreadable file is an MS_ERROR_IO error naming it; an empty regular
 * file an MS_ERROR_INPUT error, as for ms_text_load_tokens.  With a BPE
 * tokenizer a regular file is read through once here to count its
 * tokens. */
MsTextReader *ms_text_reader_open (const char *path, MsTokenizer *tokenizer, GError **error);
void ms_text_reader_free (MsTextReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsTextReader, ms_text_reader_free)

/* Tokens in the whole input when it is a regular file (with the bytes
 * tokenizer, its size), or 0 when that is not known in advance (a pipe). */
guint64 ms_text_reader_get_n_tokens (const MsTextReader *r);

/* Moves to token @token of the input (a regular file), so the next read
 * starts there; FALSE with an MS_ERROR_IO error naming the file.  With the
 * bytes tokenizer a file seek; otherwise the input is encoded again from
 * its start up to @token.  Past the end, reads give nothing. */
gboolean ms_text_reader_seek (MsTextReader *r, guint64 token, GError **error);

/* Reads the next tokens' ids into @tokens[@max]: returns how many (fewer
 * than @max only at the end of the input, 0 after it), or −1 with an
 * MS_ERROR_IO error naming the file. */
gssize ms_text_reader_read (MsTextReader *r, int32_t *tokens, size_t max, GError **error);

/* The bytes the last read's tokens stand for (borrowed until the next read
 * or seek; they tile it in order), their count in @len, and in @byte_begin
 * (may be NULL) the offset of the first in the input. */
const uint8_t *ms_text_reader_get_text (const MsTextReader *r, size_t *len, guint64 *byte_begin);

/* Where each of the last read's tokens ends within its text (borrowed as
 * the text): token i is text[ends[i − 1], ends[i]), ends[−1] = 0.  NULL
 * with the bytes tokenizer, whose token i is byte i. */
const uint32_t *ms_text_reader_get_token_ends (const MsTextReader *r);

G_END_DECLS
