/* ms-text.c — the bytes tokenizer, and reading input files as a model's
 * tokens, whole or a piece at a time.
 *
 * The reader keeps three things: `pending`, bytes read from the file whose
 * encoding the bytes after them may still change; `ready`, tokens encoded
 * but not yet read, with `ready_text`, the bytes they stand for; and the
 * last read's text and token ends.  A refill reads one chunk into pending
 * and moves the part of it no later byte can change
 * (ms_tokenizer_encode_stable) into ready.  So memory is a few chunks, the
 * read's segment, and the longest pre-token still being read — at most
 * MS_TEXT_MAX_WORD bytes, where a pre-token is cut (see ms-text.h). */
#include "ms-text.h"
#include "ms-error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CHUNK (64u * 1024u)

struct _MsTextReader {
  /* Owned */
  FILE *file;
  char *path;
  MsTokenizer *tokenizer;
  GByteArray *pending;     /* read, not yet encoded */
  GArray *ready;           /* MsToken, ranges within ready_text, from ready_pos on unread */
  GByteArray *ready_text;
  GByteArray *text;        /* the last read's bytes */
  GArray *ends;            /* uint32: the last read's token ends within text */
  /* */
  guint ready_pos;
  guint64 ready_offset;    /* of ready_text[0] in the input */
  guint64 text_offset;     /* of text[0] in the input */
  gboolean eof;            /* the file has no more bytes (pending holds the last) */
  guint64 n_tokens;        /* 0: not known */
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

/* Forgets everything read: the next refill starts at the file's position,
 * which is byte @offset of the input. */
static void
reset (MsTextReader *r, guint64 offset)
{
  g_byte_array_set_size (r->pending, 0);
  g_array_set_size (r->ready, 0);
  g_byte_array_set_size (r->ready_text, 0);
  r->ready_pos = 0;
  r->ready_offset = offset;
  r->eof = FALSE;
}

/* Drops the tokens already read, and their bytes, from ready. */
static void
compact_ready (MsTextReader *r)
{
  if (r->ready_pos == 0)
    return;
  guint n = r->ready->len - r->ready_pos;
  uint32_t cut = r->ready_pos < r->ready->len ? g_array_index (r->ready, MsToken, r->ready_pos).start
                                             : r->ready_text->len;
  g_array_remove_range (r->ready, 0, r->ready_pos);
  for (guint i = 0; i < n; i++)
    {
      g_array_index (r->ready, MsToken, i).start -= cut;
      g_array_index (r->ready, MsToken, i).end -= cut;
    }
  g_byte_array_remove_range (r->ready_text, 0, cut);
  r->ready_offset += cut;
  r->ready_pos = 0;
}

/* Reads one chunk (unless the file has ended) and encodes what it makes
 * certain.  Returns FALSE with an MS_ERROR_IO error naming the file. */
static gboolean
refill (MsTextReader *r, GError **error)
{
  compact_ready (r);
  if (!r->eof)
    {
      guint have = r->pending->len;
      g_byte_array_set_size (r->pending, have + CHUNK);
      size_t got = fread (r->pending->data + have, 1, CHUNK, r->file);
      g_byte_array_set_size (r->pending, have + (guint) got);
      if (got < CHUNK && ferror (r->file))
        {
          g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read the input: %s", r->path, g_strerror (errno));
          return FALSE;
        }
      r->eof = got < CHUNK;
    }
  guint before = r->ready->len;
  uint32_t shift = r->ready_text->len;
  size_t covered = ms_tokenizer_encode_stable (r->tokenizer, r->pending->data, r->pending->len, r->eof, r->ready);
  if (covered == 0 && r->pending->len > MS_TEXT_MAX_WORD)
    {
      /* One pre-token longer than any text has: cut it at a character
       * boundary (ms-text.h). */
      size_t cut = MS_TEXT_MAX_WORD;
      for (int back = 0; back < 3 && (r->pending->data[cut] & 0xc0) == 0x80; back++)
        cut--;
      covered = ms_tokenizer_encode_stable (r->tokenizer, r->pending->data, cut, TRUE, r->ready);
    }
  for (guint i = before; i < r->ready->len; i++)
    {
      g_array_index (r->ready, MsToken, i).start += shift;
      g_array_index (r->ready, MsToken, i).end += shift;
    }
  g_byte_array_append (r->ready_text, r->pending->data, (guint) covered);
  g_byte_array_remove_range (r->pending, 0, (guint) covered);
  return TRUE;
}

/* Makes @want tokens ready, or all that are left.  Returns how many are. */
static gssize
fill (MsTextReader *r, size_t want, GError **error)
{
  while (r->ready->len - r->ready_pos < want && !(r->eof && r->pending->len == 0))
    if (!refill (r, error))
      return -1;
  return (gssize) MIN (want, r->ready->len - r->ready_pos);
}

/* Counts the tokens of the whole input and rewinds. */
static gboolean
count_tokens (MsTextReader *r, GError **error)
{
  guint64 n = 0;
  for (;;)
    {
      gssize got = fill (r, CHUNK, error);
      if (got < 0)
        return FALSE;
      if (got == 0)
        break;
      n += (guint64) got;
      r->ready_pos += (guint) got;
    }
  r->n_tokens = n;
  return ms_text_reader_seek (r, 0, error);
}

MsTextReader *
ms_text_reader_open (const char *path, MsTokenizer *tokenizer, GError **error)
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
  gboolean regular = known && S_ISREG (sb.st_mode);
  if (regular)
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
  g_autoptr (MsTextReader) r = g_new0 (MsTextReader, 1);
  r->file = f;
  r->path = g_strdup (path);
  r->tokenizer = tokenizer ? ms_tokenizer_ref (tokenizer) : ms_tokenizer_new_bytes ();
  r->pending = g_byte_array_new ();
  r->ready = g_array_new (FALSE, FALSE, sizeof (MsToken));
  r->ready_text = g_byte_array_new ();
  r->text = g_byte_array_new ();
  r->ends = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  if (ms_tokenizer_get_kind (r->tokenizer) == MS_TOKENIZER_BYTES)
    r->n_tokens = size;
  else if (regular && !count_tokens (r, error))
    return NULL;
  return g_steal_pointer (&r);
}

void
ms_text_reader_free (MsTextReader *r)
{
  if (!r)
    return;
  fclose (r->file);
  g_free (r->path);
  g_clear_pointer (&r->tokenizer, ms_tokenizer_unref);
  g_byte_array_unref (r->pending);
  g_array_unref (r->ready);
  g_byte_array_unref (r->ready_text);
  g_byte_array_unref (r->text);
  g_array_unref (r->ends);
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
  /* With the bytes tokenizer token k is byte k; otherwise the encoding of
   * a token depends on the text before it, so the input is encoded again
   * from its start. */
  gboolean bytes = ms_tokenizer_get_kind (r->tokenizer) == MS_TOKENIZER_BYTES;
  guint64 offset = bytes ? token : 0;
  if (offset > (guint64) G_MAXINT64 || fseeko (r->file, (off_t) offset, SEEK_SET) != 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot move to byte %" G_GUINT64_FORMAT " of the input: %s",
                   r->path, offset, g_strerror (errno));
      return FALSE;
    }
  clearerr (r->file);
  reset (r, offset);
  g_byte_array_set_size (r->text, 0);
  g_array_set_size (r->ends, 0);
  r->text_offset = offset;
  for (guint64 left = bytes ? 0 : token; left > 0;)
    {
      gssize got = fill (r, (size_t) MIN (left, CHUNK), error);
      if (got < 0)
        return FALSE;
      if (got == 0)
        break;   /* past the end: reads give nothing */
      r->ready_pos += (guint) got;
      left -= (guint64) got;
    }
  return TRUE;
}

gssize
ms_text_reader_read (MsTextReader *r, int32_t *tokens, size_t max, GError **error)
{
  gssize got = fill (r, max, error);
  if (got < 0)
    return -1;
  g_byte_array_set_size (r->text, 0);
  g_array_set_size (r->ends, (guint) got);
  if (got == 0)
    return 0;
  const MsToken *t = &g_array_index (r->ready, MsToken, r->ready_pos);
  uint32_t start = t[0].start;
  for (gssize i = 0; i < got; i++)
    {
      tokens[i] = t[i].id;
      g_array_index (r->ends, uint32_t, i) = t[i].end - start;
    }
  g_byte_array_append (r->text, r->ready_text->data + start, t[got - 1].end - start);
  r->text_offset = r->ready_offset + start;
  r->ready_pos += (guint) got;
  return got;
}

const uint8_t *
ms_text_reader_get_text (const MsTextReader *r, size_t *len, guint64 *byte_begin)
{
  *len = r->text->len;
  if (byte_begin)
    *byte_begin = r->text_offset;
  return r->text->data;
}

const uint32_t *
ms_text_reader_get_token_ends (const MsTextReader *r)
{
  if (ms_tokenizer_get_kind (r->tokenizer) == MS_TOKENIZER_BYTES)
    return NULL;
  return (const uint32_t *) r->ends->data;
}
