/* ms-text.c — the bytes tokenizer and reading input files. */
#include "ms-text.h"
#include "ms-error.h"

int32_t *
ms_text_tokenize (const uint8_t *bytes, size_t n, size_t *n_tokens, const char *label, GError **error)
{
  if (n == 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: the input is empty; there is nothing to run", label);
      return NULL;
    }
  int32_t *tokens = g_new (int32_t, n);
  for (size_t i = 0; i < n; i++)
    tokens[i] = bytes[i];
  *n_tokens = n;
  return tokens;
}

int32_t *
ms_text_load_tokens (const char *path, size_t *n_tokens, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) io_error = NULL;
  if (!g_file_get_contents (path, &contents, &len, &io_error))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read the input: %s", path, io_error->message);
      return NULL;
    }
  return ms_text_tokenize ((const uint8_t *) contents, len, n_tokens, path, error);
}
