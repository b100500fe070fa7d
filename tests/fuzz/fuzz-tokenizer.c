/* fuzz-tokenizer.c — libFuzzer entry point for the tokenizer loader and
 * encoder (ms-tokenizer.h): any byte string must either load as a tokenizer
 * or be refused with a message, never crash, read out of bounds or leak;
 * whatever loads must encode any text into tokens whose byte ranges tile it
 * and decode back to exactly its bytes, and must survive its own
 * tokenizer.json (ms_tokenizer_to_json) with the same ids.
 *
 * Input: one byte choosing the form (even: tokenizer.json, odd: vocab.json
 * and merges.txt), then the sections separated by SEPARATOR: the tokenizer
 * text, [the merges,] the text to encode (absent: a fixed sample). */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "fuzz-sections.h"
#include "tokenizers/ms-tokenizer.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_encoding (MsTokenizer *t, const uint8_t *text, size_t n, MsTokenizer *again)
{
  size_t n_tokens;
  MsToken *tokens = ms_tokenizer_encode (t, text, n, &n_tokens);
  int32_t *ids = g_new (int32_t, n_tokens + 1);
  uint32_t at = 0;
  for (size_t i = 0; i < n_tokens; i++)
    {
      size_t len;
      const uint8_t *tok = ms_tokenizer_get_token (t, tokens[i].id, &len);
      g_assert (tok && tokens[i].start == at && tokens[i].end - at == len && memcmp (tok, text + at, len) == 0);
      at = tokens[i].end;
      ids[i] = tokens[i].id;
    }
  g_assert (at == n);
  size_t len;
  uint8_t *back = ms_tokenizer_decode (t, ids, n_tokens, &len, NULL);
  g_assert (back && len == n && memcmp (back, text, n) == 0);
  if (again)
    {
      size_t n_again;
      MsToken *tokens_again = ms_tokenizer_encode (again, text, n, &n_again);
      g_assert (n_again == n_tokens);
      for (size_t i = 0; i < n_tokens; i++)
        g_assert (tokens_again[i].id == tokens[i].id);
      g_free (tokens_again);
    }
  g_free (back);
  g_free (ids);
  g_free (tokens);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  gboolean vocab_merges = data[0] & 1;
  const uint8_t *p = data + 1, *end = data + size;
  size_t tok_len, merges_len = 0, text_len;
  const uint8_t *tok = next_section (&p, end, &tok_len);
  const uint8_t *merges = vocab_merges ? next_section (&p, end, &merges_len) : NULL;
  const uint8_t *text = next_section (&p, end, &text_len);
  static const char sample[] = "Hello world! It's 2024, don't   panic\n\tcaf\xc3\xa9 \xe6\x97\xa5\xff\x80 e\xcc\x81  ";
  if (text_len == 0)
    text = (const uint8_t *) sample, text_len = sizeof sample - 1;

  /* the loaders read NUL-terminated text or a length: give them copies */
  char *tok_text = g_strndup ((const char *) tok, tok_len);
  char *merges_text = g_strndup ((const char *) (merges ? merges : (const uint8_t *) ""), merges_len);
  GError *error = NULL;
  MsTokenizer *t = vocab_merges
                       ? ms_tokenizer_new_from_vocab_merges (tok_text, (gssize) tok_len, merges_text,
                                                             (gssize) merges_len, "fuzz-vocab", "fuzz-merges", &error)
                       : ms_tokenizer_new_from_json (tok_text, (gssize) tok_len, "fuzz-tokenizer", &error);
  if (!t)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      g_error_free (error);
    }
  else
    {
      char *json = ms_tokenizer_to_json (t);
      MsTokenizer *again = ms_tokenizer_new_from_json (json, -1, "fuzz-again", &error);
      g_assert (again && !error);
      check_encoding (t, text, text_len, again);
      check_encoding (t, tok, MIN (tok_len, 4096), NULL);   /* the file's own bytes as text */
      ms_tokenizer_unref (again);
      ms_tokenizer_unref (t);
      g_free (json);
    }
  g_free (tok_text);
  g_free (merges_text);
  return 0;
}
