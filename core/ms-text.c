/* ms-text.c — the bytes tokenizer and reading input files, whole or a
 * piece at a time. */
#include "ms-text.h"
#include "ms-error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct _MsTextReader {
  /* Owned */
  FILE *file;
  char *path;
  guint8 *bytes;       /* read buffer */
  size_t capacity;
  /* */
  guint64 n_tokens;    /* 0: not known */
};

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

MsTextReader *
ms_text_reader_open (const char *path, GError **error)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    {
      int saved = errno;
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read the input: %s", path, g_strerror (saved));
      return NULL;
    }
  struct stat sb;
  guint64 size = 0;
  gboolean known = fstat (fileno (f), &sb) == 0;
  if (known && S_ISREG (sb.st_mode))
    {
      size = (guint64) sb.st_size;
      if (size == 0)
        {
          fclose (f);
          g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: the input is empty; there is nothing to run", path);
          return NULL;
        }
    }
  else if (known && S_ISDIR (sb.st_mode))
    {
      fclose (f);
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read the input: it is a folder", path);
      return NULL;
    }
  MsTextReader *r = g_new0 (MsTextReader, 1);
  r->file = f;
  r->path = g_strdup (path);
  r->n_tokens = size;
  return r;
}

void
ms_text_reader_free (MsTextReader *r)
{
  if (!r)
    return;
  fclose (r->file);
  g_free (r->path);
  g_free (r->bytes);
  g_free (r);
}

guint64
ms_text_reader_get_n_tokens (const MsTextReader *r)
{
  return r->n_tokens;
}

gboolean
ms_text_reader_seek (MsTextReader *r, guint64 token, GError **error)
{
  if (token > (guint64) G_MAXINT64 || fseeko (r->file, (off_t) token, SEEK_SET) != 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot move to byte %" G_GUINT64_FORMAT " of the input: %s",
                   r->path, token, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gssize
ms_text_reader_read (MsTextReader *r, int32_t *tokens, size_t max, GError **error)
{
  if (max > r->capacity)
    {
      r->bytes = g_realloc (r->bytes, max);
      r->capacity = max;
    }
  size_t got = fread (r->bytes, 1, max, r->file);
  if (got < max && ferror (r->file))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read the input: %s", r->path, g_strerror (errno));
      return -1;
    }
  for (size_t i = 0; i < got; i++)
    tokens[i] = r->bytes[i];
  return (gssize) got;
}
