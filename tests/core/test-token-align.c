/* test-token-align.c — tokens of two runs lined up by their bytes
 * (ms-token-align.h), a token's text for display (ms_token_escape), and
 * the tokens an older recording reads as (ms_recording_segment_tokens on
 * the schema-4 fixture: one token per byte). */
#include <string.h>

#include "ms-recording.h"
#include "ms-token-align.h"

static void
align_range (void)
{
  /* "The memory" as [The][ memory] and as bytes, at input offset 100 */
  const MsByteRange words[] = { { 100, 103 }, { 103, 110 } };
  MsByteRange bytes[10];
  for (int i = 0; i < 10; i++)
    bytes[i] = (MsByteRange) { 100 + i, 101 + i };
  size_t first = 99;
  g_assert_cmpuint (ms_token_align_range (bytes, 10, 103, 110, &first), ==, 7);
  g_assert_cmpuint (first, ==, 3);
  g_assert_cmpuint (ms_token_align_range (words, 2, 102, 104, &first), ==, 2);   /* straddles both */
  g_assert_cmpuint (first, ==, 0);
  g_assert_cmpuint (ms_token_align_range (words, 2, 104, 105, &first), ==, 1);   /* inside the second */
  g_assert_cmpuint (first, ==, 1);
  g_assert_cmpuint (ms_token_align_range (words, 2, 90, 100, &first), ==, 0);    /* before: ends where it starts */
  g_assert_cmpuint (first, ==, 0);
  g_assert_cmpuint (ms_token_align_range (words, 2, 110, 120, &first), ==, 0);   /* after */
  g_assert_cmpuint (first, ==, 2);
  g_assert_cmpuint (ms_token_align_range (words, 2, 105, 105, &first), ==, 0);   /* empty */
  g_assert_cmpuint (ms_token_align_range (words, 0, 100, 110, &first), ==, 0);
  const MsByteRange a = { 102, 106 }, b = { 104, 110 }, c = { 106, 107 };
  g_assert_cmpuint (ms_byte_range_overlap (&a, &b), ==, 2);
  g_assert_cmpuint (ms_byte_range_overlap (&a, &c), ==, 0);
}

static void
escape (void)
{
  const struct {
    const char *bytes, *shown;
  } cases[] = {
    { " the", "␣the" }, { "\n\n", "↵↵" }, { "\t", "\\x09" }, { "caf\xc3\xa9", "café" }, { "\xff", "\\xff" },
    { "\xe2\x80", "\\xe2\\x80" }, { "e\xcc\x81", "e\xcc\x81" }, { "\xc2\x85", "\\u{0085}" }, { "\x7f", "\\x7f" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = ms_token_escape ((const uint8_t *) cases[i].bytes, strlen (cases[i].bytes));
      g_assert_cmpstr (shown, ==, cases[i].shown);
    }
}

static void
older_recording_tokens (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("MEMSCOPE_FIXTURES"), "..", "recordings", "recording-v4.sqlite",
                                            NULL);
  GError *error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) run = ms_recording_get_run (rec, 1, &error);
  g_assert_no_error (error);
  for (int segment = 0; segment < run->segments_done; segment += 7)
    {
      size_t n = 0;
      guint64 begin = 0;
      g_autofree MsToken *tokens = ms_recording_segment_tokens (rec, run, segment, &n, &begin, &error);
      g_assert_no_error (error);
      g_autoptr (GBytes) text = ms_recording_segment_text (rec, run->id, segment, &error);
      g_assert_no_error (error);
      gsize len;
      const guint8 *bytes = g_bytes_get_data (text, &len);
      g_assert_cmpuint (n, ==, len);
      g_assert_cmpuint (begin, ==, (guint64) segment * run->segment_len);
      for (size_t i = 0; i < n; i++)
        {
          g_assert_cmpint (tokens[i].id, ==, bytes[i]);
          g_assert_cmpuint (tokens[i].start, ==, i);
          g_assert_cmpuint (tokens[i].end, ==, i + 1);
        }
      /* and the segment that holds its bytes is itself */
      g_assert_cmpint (ms_recording_find_segment_at_byte (rec, run, begin + n - 1, &error), ==, segment);
    }
  g_assert_cmpint (ms_recording_find_segment_at_byte (rec, run, 1u << 30, &error), ==, -1);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/token-align/range", align_range);
  g_test_add_func ("/token-align/escape", escape);
  g_test_add_func ("/token-align/older-recording", older_recording_tokens);
  return g_test_run ();
}
