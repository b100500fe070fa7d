/* ms-text.h — turning input text into token ids.
 *
 * The only tokenizer so far is "bytes" (DESIGN §2): every byte of the file
 * is one token, 0..255, so any file — UTF-8 or not — can be run.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Reads @path and returns its bytes as token ids (owned, g_free), with their
 * count in @n_tokens.  An unreadable or empty file is an MS_ERROR_IO or
 * MS_ERROR_INPUT error naming the file. */
int32_t *ms_text_load_tokens (const char *path, size_t *n_tokens, GError **error);

/* The same for bytes in memory; @label names them in messages. */
int32_t *ms_text_tokenize (const uint8_t *bytes, size_t n, size_t *n_tokens,
                           const char *label, GError **error);

/* An input read and tokenized a piece at a time, so that stepping through
 * a file of any size holds one segment of it in memory. */
typedef struct _MsTextReader MsTextReader;

/* Opens @path for reading (owned; free with ms_text_reader_free).  An
 * unreadable file is an MS_ERROR_IO error naming it; an empty regular file
 * an MS_ERROR_INPUT error, as for ms_text_load_tokens. */
MsTextReader *ms_text_reader_open (const char *path, GError **error);
void ms_text_reader_free (MsTextReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsTextReader, ms_text_reader_free)

/* Tokens in the whole input when it is a regular file (with the bytes
 * tokenizer, its size), or 0 when that is not known in advance (a pipe). */
guint64 ms_text_reader_get_n_tokens (const MsTextReader *r);

/* Moves to token @token of the input (a regular file), so the next read
 * starts there; FALSE with an MS_ERROR_IO error naming the file. */
gboolean ms_text_reader_seek (MsTextReader *r, guint64 token, GError **error);

/* Reads the next tokens into @tokens[@max]: returns how many (fewer than
 * @max only at the end of the input, 0 after it), or −1 with an
 * MS_ERROR_IO error naming the file. */
gssize ms_text_reader_read (MsTextReader *r, int32_t *tokens, size_t max, GError **error);

G_END_DECLS
