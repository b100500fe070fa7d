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

G_END_DECLS
