/* token-stream.c — a text encoded a piece at a time must give exactly the
 * tokens of the whole text encoded at once.
 *
 *   token-stream (--tokenizer FILE | --vocab VOCAB.json --merges MERGES.txt) --workdir DIR [TEXT...]
 *
 * For each TEXT file, and for texts built here that put every kind of
 * pre-token boundary at a piece boundary (whitespace runs of every kind,
 * long ones too, contractions, a space before a word, multi-byte
 * characters, bytes that are not UTF-8, emoji and combining marks), the
 * whole-text encoding (ms_tokenizer_encode) is compared with:
 *   1. ms_tokenizer_encode_stable fed the text in pieces: of pseudo-random
 *      sizes, and (for the built texts) split in two at every byte;
 *   2. the text reader (MsTextReader) over the text as a file, read in
 *      segments of several lengths (ids, each segment's text, its first
 *      byte and its tokens' ends), with the built texts placed so that the
 *      reader's own read boundaries fall on each of their first 40 bytes, and after a
 *      seek to a token.
 * Prints one line per check and exits 1 on any difference. */
#include <stdio.h>
#include <string.h>

#include "ms-text.h"

static int failures;

static void
check (gboolean ok, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
check (gboolean ok, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  if (!ok)
    {
      printf ("FAIL - %s\n", what);
      failures++;
    }
  else if (g_getenv ("TOKEN_STREAM_VERBOSE"))
    printf ("ok - %s\n", what);
}

/* The reader's read size (ms-text.c): files are laid out around it. */
#define READER_CHUNK (64u * 1024u)

static gboolean
same_tokens (const MsToken *a, size_t na, const MsToken *b, size_t nb, size_t *where)
{
  for (size_t i = 0; i < MIN (na, nb); i++)
    if (a[i].id != b[i].id || a[i].start != b[i].start || a[i].end != b[i].end)
      {
        *where = i;
        return FALSE;
      }
  *where = MIN (na, nb);
  return na == nb;
}

/* Encodes @text in pieces whose sizes come from @sizes (cycled): what a
 * streaming reader does, with byte ranges made absolute. */
static MsToken *
encode_in_pieces (MsTokenizer *t, const guint8 *text, size_t n, const size_t *sizes, size_t n_sizes, size_t *n_out)
{
  g_autoptr (GByteArray) pending = g_byte_array_new ();
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (MsToken));
  g_autoptr (GArray) some = g_array_new (FALSE, FALSE, sizeof (MsToken));
  size_t offset = 0, fed = 0;
  for (size_t k = 0; fed < n || pending->len > 0; k++)
    {
      size_t piece = MIN (sizes[k % n_sizes], n - fed);
      g_byte_array_append (pending, text + fed, (guint) piece);
      fed += piece;
      g_array_set_size (some, 0);
      size_t covered = ms_tokenizer_encode_stable (t, pending->data, pending->len, fed == n, some);
      for (guint i = 0; i < some->len; i++)
        {
          MsToken tok = g_array_index (some, MsToken, i);
          tok.start += (uint32_t) offset;
          tok.end += (uint32_t) offset;
          g_array_append_val (out, tok);
        }
      g_byte_array_remove_range (pending, 0, (guint) covered);
      offset += covered;
      if (fed == n && covered == 0 && pending->len > 0)
        break;   /* at the end everything must be covered: the comparison fails */
    }
  *n_out = out->len;
  return (MsToken *) g_array_free (g_steal_pointer (&out), FALSE);
}

static void
check_pieces (MsTokenizer *t, const char *name, const guint8 *text, size_t n, const MsToken *whole, size_t n_whole,
              gboolean every_split)
{
  /* pseudo-random piece sizes, many of them tiny */
  size_t sizes[257];
  guint32 state = 2026;
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      state = state * 1664525u + 1013904223u;
      sizes[i] = 1 + (state >> 8) % (i % 3 == 0 ? 4 : i % 3 == 1 ? 37 : 4096);
    }
  size_t got, where;
  g_autofree MsToken *pieces = encode_in_pieces (t, text, n, sizes, G_N_ELEMENTS (sizes), &got);
  gboolean same = same_tokens (whole, n_whole, pieces, got, &where);
  check (same, "%s: %zu bytes in pieces of 1 to 4096 bytes give the "
         "whole text's %zu tokens (first difference at token %zu of %zu)", name, n, n_whole, where, got);
  for (size_t k = 1; every_split && k < n; k++)
    {
      size_t two[] = { k, n };
      g_autofree MsToken *split = encode_in_pieces (t, text, n, two, 2, &got);
      if (!same_tokens (whole, n_whole, split, got, &where))
        {
          check (FALSE, "%s: split at byte %zu: token %zu differs from the whole text's", name, k, where);
          return;
        }
    }
  if (every_split)
    check (TRUE, "%s: split in two at each of its %zu bytes", name, n);
}

/* Reads @path through the text reader in segments of @segment_len tokens
 * and compares everything a read gives with the whole encoding of @text. */
static void
check_reader (MsTokenizer *t, const char *name, const char *path, const guint8 *text, size_t n, const MsToken *whole,
              size_t n_whole, size_t segment_len)
{
  GError *error = NULL;
  g_autoptr (MsTextReader) r = ms_text_reader_open (path, t, &error);
  if (!r)
    {
      check (FALSE, "%s: the reader opens the file: %s", name, error->message);
      g_error_free (error);
      return;
    }
  check (ms_text_reader_get_n_tokens (r) == n_whole, "%s: the reader counts %" G_GUINT64_FORMAT " tokens, the "
         "whole text has %zu", name, ms_text_reader_get_n_tokens (r), n_whole);
  g_autofree int32_t *ids = g_new (int32_t, segment_len);
  gboolean bytes = ms_tokenizer_get_kind (t) == MS_TOKENIZER_BYTES;
  size_t at = 0;
  for (int pass = 0; pass < 2; pass++)
    {
      for (;;)
        {
          gssize got = ms_text_reader_read (r, ids, segment_len, &error);
          g_assert_no_error (error);
          if (got == 0)
            break;
          size_t len;
          guint64 begin;
          const guint8 *seg = ms_text_reader_get_text (r, &len, &begin);
          const uint32_t *ends = ms_text_reader_get_token_ends (r);
          gboolean ok = at + (size_t) got <= n_whole && (got == (gssize) segment_len || at + (size_t) got == n_whole)
                        && (ends == NULL) == bytes;
          for (gssize i = 0; ok && i < got; i++)
            ok = ids[i] == whole[at + i].id && (!ends || begin + ends[i] == whole[at + i].end);
          ok = ok && begin == whole[at].start && begin + len == whole[at + got - 1].end
               && memcmp (seg, text + begin, len) == 0;
          if (!ok)
            {
              check (FALSE, "%s: segments of %zu tokens: the read at token %zu differs from the whole text's "
                     "tokens", name, segment_len, at);
              return;
            }
          at += (size_t) got;
        }
      if (pass == 1)
        break;
      check (at == n_whole, "%s: segments of %zu tokens: %zu tokens read, each as the whole text has it", name,
             segment_len, at);
      /* again from a token a third of the way in */
      at = n_whole / 3;
      check (ms_text_reader_seek (r, at, &error), "%s: seek to token %zu", name, at);
      g_clear_error (&error);
    }
  check (at == n_whole, "%s: segments of %zu tokens after a seek: read to the end as the whole text has it", name,
         segment_len);
}

static void
check_text (MsTokenizer *t, const char *dir, const char *name, const guint8 *text, size_t n, gboolean every_split,
            gboolean every_chunk_boundary)
{
  size_t n_whole;
  g_autofree MsToken *whole = ms_tokenizer_encode (t, text, n, &n_whole);
  check_pieces (t, name, text, n, whole, n_whole, every_split);

  g_autofree char *path = g_build_filename (dir, "text.bin", NULL);
  g_assert_true (g_file_set_contents (path, (const char *) text, (gssize) n, NULL));
  const size_t segment_lens[] = { 1, 7, 512 };
  for (guint i = 0; i < G_N_ELEMENTS (segment_lens); i++)
    check_reader (t, name, path, text, n, whole, n_whole, segment_lens[i]);
  if (!every_chunk_boundary)
    return;

  /* The reader reads the file READER_CHUNK bytes at a time: with a prefix
   * in front, each of the text's bytes in turn is the first of a read. */
  size_t prefix = READER_CHUNK;
  g_autofree guint8 *file = g_malloc (prefix + n);
  for (size_t i = 0; i < prefix; i++)
    file[i] = "word and more words\n"[i % 20];
  memcpy (file + prefix, text, n);
  for (size_t k = 0; k <= MIN (n, 40); k++)
    {
      /* the file from byte k of the buffer: text byte k at READER_CHUNK */
      guint8 *start = file + k;
      size_t len = prefix + n - k;
      g_assert_true (g_file_set_contents (path, (const char *) start, (gssize) len, NULL));
      size_t n_ref;
      g_autofree MsToken *ref = ms_tokenizer_encode (t, start, len, &n_ref);
      int before = failures;
      check_reader (t, name, path, start, len, ref, n_ref, 512);
      if (failures > before)
        {
          check (FALSE, "%s: the reader's read boundary before byte %zu of the text", name, k);
          return;
        }
    }
  check (TRUE, "%s: the reader's read boundary before each of its first bytes", name);
}

/* Texts that put every kind of boundary where a piece ends. */
static void
check_built_texts (MsTokenizer *t, const char *dir)
{
  static const struct {
    const char *name, *text;
  } texts[] = {
    { "spaces before words", "a b  c   d    e\t f \tg\n h \n\ni   \n  j" },
    { "whitespace of every kind", "x\u3000y\u3000\u3000 z\u00a0w \u2028v\u2029u\r\nt\x0b\x0cs\xc2\x85r  \u3000 q" },
    { "contractions", "it's they're I've we'll he'd 'S 'T 'RE 'Ll don't ' s 'r 're''ve'" },
    { "not UTF-8", "\xff\xfe abc\xc3 \xe3\x80 x\xf0\x9f\x98 y\xc0\xaf z\xed\xa0\x80 w\x80\x80 \xc3\xa9t\xc3" },
    { "emoji and marks", "flags \xf0\x9f\x87\xa9\xf0\x9f\x87\xaa, a family \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"
                         " e\xcc\x81\xcc\x82 \xe0\xa4\x95\xe0\xa5\x8d\xe0\xa4\xb7 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd!" },
    { "numbers and code", "x1 = 12345678 + 0.5e-3;\n\tif (a[i] >= 42) { return \"s\\n\"; }  // 2026-12-07" },
    { "ends in spaces", "the end   " },
    { "ends in a lone byte", "the end \xe2" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    check_text (t, dir, texts[i].name, (const guint8 *) texts[i].text, strlen (texts[i].text), TRUE, TRUE);

  /* whitespace runs longer than a read, inside the text and at its end */
  GString *s = g_string_new ("before");
  for (int i = 0; i < 150000; i++)
    g_string_append_c (s, ' ');
  g_string_append (s, "after\n");
  for (int i = 0; i < 90000; i++)
    g_string_append_c (s, "\n\t \r"[i % 4 == 3 ? (i / 4) % 4 : 2]);
  g_string_append (s, "x");
  for (int i = 0; i < 70000; i++)
    g_string_append_c (s, '\n');
  check_text (t, dir, "long whitespace runs", (const guint8 *) s->str, s->len, FALSE, FALSE);
  g_string_free (s, TRUE);
}

int
main (int argc, char **argv)
{
  g_autofree char *tokenizer_path = NULL, *vocab = NULL, *merges = NULL, *workdir = NULL;
  GOptionEntry entries[] = {
    { "tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &tokenizer_path, "tokenizer.json", "FILE" },
    { "vocab", 0, 0, G_OPTION_ARG_FILENAME, &vocab, "vocab.json", "FILE" },
    { "merges", 0, 0, G_OPTION_ARG_FILENAME, &merges, "merges.txt", "FILE" },
    { "workdir", 0, 0, G_OPTION_ARG_FILENAME, &workdir, "scratch folder", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[TEXT...]");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !workdir || (!tokenizer_path && !(vocab && merges)))
    {
      fprintf (stderr, "usage: token-stream (--tokenizer FILE | --vocab V --merges M) --workdir DIR [TEXT...]\n");
      return 2;
    }
  g_autoptr (MsTokenizer) t = NULL;
  if (tokenizer_path)
    t = ms_tokenizer_load (tokenizer_path, &error);
  else
    {
      g_autofree char *v = NULL, *m = NULL;
      gsize vn = 0, mn = 0;
      if (g_file_get_contents (vocab, &v, &vn, &error) && g_file_get_contents (merges, &m, &mn, &error))
        t = ms_tokenizer_new_from_vocab_merges (v, (gssize) vn, m, (gssize) mn, vocab, merges, &error);
    }
  if (!t)
    {
      fprintf (stderr, "token-stream: %s\n", error->message);
      return 2;
    }
  g_mkdir_with_parents (workdir, 0755);

  check_built_texts (t, workdir);
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *text = NULL;
      gsize n = 0;
      if (!g_file_get_contents (argv[i], &text, &n, &error))
        {
          fprintf (stderr, "token-stream: %s\n", error->message);
          return 2;
        }
      check_text (t, workdir, argv[i], (const guint8 *) text, n, FALSE, FALSE);
    }
  /* the bytes tokenizer, on the first built text: every byte a token */
  g_autoptr (MsTokenizer) bytes = ms_tokenizer_new_bytes ();
  check_text (bytes, workdir, "bytes tokenizer", (const guint8 *) "a b\xff c", 6, TRUE, TRUE);
  printf ("%d failures\n", failures);
  return failures ? 1 : 0;
}
