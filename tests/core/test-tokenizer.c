/* test-tokenizer.c — the tokenizers of ms-tokenizer.h on hand-checked cases:
 * GPT-2's pre-tokenization rule (contractions, whitespace runs before words
 * and at the end, scripts, combining marks, U+0085 and U+FEFF, bytes that
 * are not UTF-8), BPE merging rank by rank, byte ranges and exact round
 * trips on random bytes, the bytes tokenizer, the memscope.tokenizer value,
 * and hostile tokenizer files, each refused with a message naming the file.
 * The comparison with an independent GPT-2 encoder on 5 MiB of text is
 * tests/tokenizer/. */
#include <string.h>

#include "ms-error.h"
#include "ms-tokenizer-private.h"

/* A tokenizer.json with the 256 byte tokens (ids 0..255 in byte order), then
 * @extra tokens (byte-level text), and @merges ("a b" strings). */
static char *
make_json (const char *const *extra, const char *const *merges, const char *pipeline)
{
  GString *s = g_string_new ("{");
  g_string_append (s, pipeline ? pipeline : "\"normalizer\": null, \"pre_tokenizer\": {\"type\": \"ByteLevel\", "
                                            "\"add_prefix_space\": false, \"use_regex\": true},");
  g_string_append (s, "\"model\": {\"type\": \"BPE\", \"vocab\": {");
  int id = 0;
  for (int b = 0; b < 256; b++, id++)
    {
      char buf[8] = { 0 };
      gunichar c = ms_byte_level_char ((guint8) b);
      g_unichar_to_utf8 (c, buf);
      g_string_append_printf (s, "%s\"%s%s\": %d", b ? ", " : "", c == '"' || c == '\\' ? "\\" : "", buf, id);
    }
  for (int i = 0; extra && extra[i]; i++, id++)
    g_string_append_printf (s, ", \"%s\": %d", extra[i], id);
  g_string_append (s, "}, \"merges\": [");
  for (int i = 0; merges && merges[i]; i++)
    g_string_append_printf (s, "%s\"%s\"", i ? ", " : "", merges[i]);
  g_string_append (s, "]}}");
  return g_string_free (s, FALSE);
}

static char *
ids_string (MsTokenizer *t, const char *text, gssize len)
{
  size_t n_tokens;
  size_t n = len < 0 ? strlen (text) : (size_t) len;
  g_autofree MsToken *tokens = ms_tokenizer_encode (t, (const guint8 *) text, n, &n_tokens);
  GString *s = g_string_new (NULL);
  for (size_t i = 0; i < n_tokens; i++)
    g_string_append_printf (s, "%s%d", i ? " " : "", tokens[i].id);
  return g_string_free (s, FALSE);
}

/* The pre-tokens of @text joined with '|'. */
static char *
pre_tokens (const char *text)
{
  g_autofree uint32_t *bounds = NULL;
  size_t n = ms_tokenizer_pre_tokenize ((const guint8 *) text, strlen (text), &bounds);
  GString *s = g_string_new (NULL);
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        g_string_append_c (s, '|');
      g_string_append_len (s, text + bounds[2 * i], bounds[2 * i + 1] - bounds[2 * i]);
    }
  return g_string_free (s, FALSE);
}

static void
test_pre_tokenize (void)
{
  static const char *const cases[][2] = {
    { "Hello world", "Hello| world" },
    { "it's they'll I'M", "it|'s| they|'ll| I|'|M" },
    { "'sam 'x", "'s|am| '|x" },
    { "a  b", "a| | b" },
    { "a \t b", "a| \t| b" },
    { "x\n\ny", "x|\n|\n|y" },
    { "x\ny", "x|\n|y" },
    { "end  ", "end|  " },
    { " 123abc 4.5", " 123|abc| 4|.|5" },
    { "!!? ...", "!!?| ..." },
    { "café naïve", "café| naïve" },
    { "e\xcc\x81", "e|\xcc\x81" },                       /* a combining mark (Mn) is neither letter nor number */
    { "日本語 テキスト", "日本語| テキスト" },
    { "٣٤ Ⅻ ½", "٣٤| Ⅻ| ½" },                            /* Nd, Nl, No */
    { "a\xc2\x85" "b", "a|\xc2\x85|b" },                 /* U+0085 is White_Space */
    { "a\xef\xbb\xbf" "b", "a|\xef\xbb\xbf|b" },         /* U+FEFF is not */
    { "a\xe3\x80\x80\xe3\x80\x80" "b", "a|\xe3\x80\x80|\xe3\x80\x80|b" },   /* only U+0020 joins the word after it */
    { "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd ok", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd| ok" },
    /* bytes that are not UTF-8 are characters of the class [^\s\p{L}\p{N}] */
    { "a\xff\xfe" "b", "a|\xff\xfe|b" },
    { "!\xff x", "!\xff| x" },
    { " \x80" "1", " \x80|1" },
    { "\xe6\x97 \xe6\x97\xa5", "\xe6\x97| \xe6\x97\xa5" },   /* a truncated sequence, then a whole one */
    { "\xc0\xaf\xed\xa0\x80", "\xc0\xaf\xed\xa0\x80" },      /* overlong and surrogate forms are invalid */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = pre_tokens (cases[i][0]);
      g_assert_cmpstr (got, ==, cases[i][1]);
    }
}

static void
test_merges_by_rank (void)
{
  /* ids: 256 'ab', 257 'abc', 258 'aba' */
  const char *extra[] = { "ab", "abc", "aba", NULL };
  const char *merges[] = { "ab a", "a b", "ab c", NULL };
  g_autofree char *json = make_json (extra, merges, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsTokenizer) t = ms_tokenizer_new_from_json (json, -1, "t.json", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ms_tokenizer_get_vocab_size (t), ==, 259);
  g_assert_cmpuint (ms_tokenizer_get_n_merges (t), ==, 3);
  /* every 'a b' is joined before 'ab a' is considered, although its rank is lower */
  g_autofree char *abab = ids_string (t, "abab", -1);
  g_assert_cmpstr (abab, ==, "256 256");
  g_autofree char *abca = ids_string (t, "abca", -1);
  g_assert_cmpstr (abca, ==, "257 97");
  /* "aab": 'a b' joins the second a; 'ab a' never applies */
  g_autofree char *aab = ids_string (t, "aab", -1);
  g_assert_cmpstr (aab, ==, "97 256");
  g_autofree char *spaced = ids_string (t, "ab ab", -1);
  g_assert_cmpstr (spaced, ==, "256 32 256");   /* " ab" is one pre-token: the space (id 32), then "ab" */

  /* written as tokenizer.json and read back: the same ids */
  g_autofree char *again = ms_tokenizer_to_json (t);
  g_autoptr (MsTokenizer) t2 = ms_tokenizer_new_from_json (again, -1, "again.json", &error);
  g_assert_no_error (error);
  g_autofree char *abab2 = ids_string (t2, "abab abca", -1);
  g_autofree char *abab1 = ids_string (t, "abab abca", -1);
  g_assert_cmpstr (abab1, ==, abab2);
}

static void
test_round_trip (void)
{
  const char *extra[] = { "ab", "Ġt", "Ġth", "he", "Ġthe", "ÃĽ", NULL };
  const char *merges[] = { "a b", "Ġ t", "Ġt h", "h e", "Ġth e", "Ã Ľ", NULL };
  g_autofree char *json = make_json (extra, merges, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsTokenizer) t = ms_tokenizer_new_from_json (json, -1, "t.json", &error);
  g_assert_no_error (error);
  g_autoptr (MsTokenizer) bytes = ms_tokenizer_new_bytes ();
  GRand *r = g_rand_new_with_seed (22);
  static const char alphabet[] = "ab the\n\t  '\xc3\x9b\xe6\x97\xa5\xff\x80" "0";
  for (int trial = 0; trial < 2000; trial++)
    {
      guint8 text[64];
      size_t n = g_rand_int_range (r, 0, sizeof text);
      for (size_t i = 0; i < n; i++)
        text[i] = g_rand_boolean (r) ? (guint8) alphabet[g_rand_int_range (r, 0, sizeof alphabet - 1)]
                                     : (guint8) g_rand_int_range (r, 0, 256);
      MsTokenizer *both[] = { t, bytes };
      for (int k = 0; k < 2; k++)
        {
          size_t n_tokens;
          g_autofree MsToken *tokens = ms_tokenizer_encode (both[k], text, n, &n_tokens);
          g_autofree int32_t *ids = g_new (int32_t, n_tokens + 1);
          uint32_t at = 0;
          for (size_t i = 0; i < n_tokens; i++)
            {
              size_t len;
              const uint8_t *tok = ms_tokenizer_get_token (both[k], tokens[i].id, &len);
              g_assert_cmpuint (tokens[i].start, ==, at);
              g_assert_cmpuint (tokens[i].end - tokens[i].start, ==, len);
              g_assert_true (memcmp (tok, text + at, len) == 0);
              at = tokens[i].end;
              ids[i] = tokens[i].id;
            }
          g_assert_cmpuint (at, ==, n);
          size_t len;
          g_autofree uint8_t *back = ms_tokenizer_decode (both[k], ids, n_tokens, &len, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (len, ==, n);
          g_assert_true (n == 0 || memcmp (back, text, n) == 0);
        }
    }
  g_rand_free (r);
  int32_t bad[] = { 1, 999 };
  size_t len;
  g_assert_null (ms_tokenizer_decode (t, bad, 2, &len, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "999"));
}

static void
test_metadata (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsTokenizer) b = ms_tokenizer_new_from_metadata ("bytes", "m.safetensors", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ms_tokenizer_get_kind (b), ==, MS_TOKENIZER_BYTES);
  g_assert_cmpint (ms_tokenizer_get_vocab_size (b), ==, 256);
  g_autofree char *ids = ids_string (b, "A\xff", 2);
  g_assert_cmpstr (ids, ==, "65 255");
  g_assert_null (ms_tokenizer_new_from_metadata ("gpt2", "m.safetensors", &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_MODEL);
  g_assert_nonnull (strstr (error->message, "m.safetensors"));
  g_clear_error (&error);
  g_autofree char *json = make_json (NULL, NULL, NULL);
  g_autoptr (MsTokenizer) bpe = ms_tokenizer_new_from_metadata (json, "m.safetensors", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ms_tokenizer_get_kind (bpe), ==, MS_TOKENIZER_BPE);
}

static void
expect_refused (const char *json, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsTokenizer) t = ms_tokenizer_new_from_json (json, -1, "hostile/tokenizer.json", &error);
  g_assert_null (t);
  g_assert_nonnull (error);
  if (!strstr (error->message, "hostile/tokenizer.json") || !strstr (error->message, what))
    g_error ("message '%s' should name the file and say '%s'", error->message, what);
}

static void
test_hostile_json (void)
{
  const char *ab[] = { "ab", NULL };
  const char *merge_ab[] = { "a b", NULL };
  /* merges */
  g_autofree char *no_merges = make_json (ab, NULL, NULL);
  char *cut = strstr (no_merges, ", \"merges\"");
  strcpy (cut, "}}");
  expect_refused (no_merges, "merges");
  const char *merge_x[] = { "a x", NULL };
  const char *merge_bad_join[] = { "b a", NULL };
  const char *merge_shape[] = { "ab", NULL };
  const char *merge_twice[] = { "a b", "a b", NULL };
  g_autofree char *j1 = make_json (ab, merge_x, NULL);
  expect_refused (j1, "needs token 'ax'");
  g_autofree char *j2 = make_json (ab, merge_bad_join, NULL);
  expect_refused (j2, "needs token 'ba'");
  g_autofree char *j3 = make_json (ab, merge_shape, NULL);
  expect_refused (j3, "model.merges[0]");
  g_autofree char *j4 = make_json (ab, merge_twice, NULL);
  expect_refused (j4, "repeats merge 1");
  /* ids: token "ab" (256) given another id, and no merges */
  const struct { const char *id, *message; } ids[] = {
    { "255", "id 255 is given to two tokens" }, { "300", "no token has id 256" }, { "-1", "outside 0.." },
    { "4000000000", "outside 0.." },            { "\"256\"", "not an integer" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *json = make_json (ab, merge_ab, NULL);
      *strstr (json, "\"ab\": 256") = '\0';
      g_autofree char *changed = g_strdup_printf ("%s\"ab\": %s}, \"merges\": []}}", json, ids[i].id);
      expect_refused (changed, ids[i].message);
    }
  g_autofree char *all_bytes = make_json (NULL, NULL, NULL);
  GString *no_byte = g_string_new (all_bytes);
  g_string_replace (no_byte, "\"a\": 97", "\"\xc4\x8a\xc4\x8a\": 97", 1);   /* 'a' renamed "ĊĊ": no token for byte 0x61 */
  expect_refused (no_byte->str, "no token for the byte 0x61");
  g_string_free (no_byte, TRUE);
  expect_refused ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\xe2\x96\x81the\": 0}}, \"pre_tokenizer\": "
                  "{\"type\": \"ByteLevel\", \"add_prefix_space\": false}}", "byte-level");
  /* the pipeline */
  g_autofree char *norm = make_json (NULL, NULL, "\"normalizer\": {\"type\": \"NFC\"}, \"pre_tokenizer\": "
                                                 "{\"type\": \"ByteLevel\", \"add_prefix_space\": false},");
  expect_refused (norm, "normalizer");
  g_autofree char *prefix = make_json (NULL, NULL, "\"pre_tokenizer\": {\"type\": \"ByteLevel\"},");
  expect_refused (prefix, "add_prefix_space");
  g_autofree char *meta = make_json (NULL, NULL, "\"pre_tokenizer\": {\"type\": \"Metaspace\"},");
  expect_refused (meta, "not ByteLevel");
  expect_refused ("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}, \"pre_tokenizer\": {\"type\": \"ByteLevel\", "
                  "\"add_prefix_space\": false}}", "BPE");
  expect_refused ("[1, 2]", "JSON object");
  expect_refused ("{\"model\": 3}", "model.vocab");
  expect_refused ("{\"model\": {\"vocab\": {\"a\": ", "not valid JSON");
  /* nesting and size, bounded before parsing */
  GString *deep = g_string_new ("{\"x\": ");
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  expect_refused (deep->str, "nests JSON");
  g_string_free (deep, TRUE);
  GString *wide = g_string_new ("{\"x\": [");
  for (guint i = 0; i < MS_TOKENIZER_MAX_JSON_VALUES + 10; i++)
    g_string_append (wide, "0,");
  expect_refused (wide->str, "more than");
  g_string_free (wide, TRUE);
}

static void
test_hostile_merges_txt (void)
{
  g_autofree char *json = make_json (NULL, NULL, NULL);
  char *vocab = strstr (json, "\"vocab\": ") + 9;
  *strstr (vocab, "}, \"merges\"") = '\0';
  strcat (vocab, "}");
  static const struct { const char *merges; const char *what; } cases[] = {
    { "#version: 0.2\na b\n", "needs token 'ab'" },
    { "a b c\n", "line 1 is not a merge" },
    { "ab\n", "line 1 is not a merge" },
    { "\xff\xfe\n", "not UTF-8" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsTokenizer) t = ms_tokenizer_new_from_vocab_merges (vocab, -1, cases[i].merges, -1, "h/vocab.json",
                                                                      "h/merges.txt", &error);
      g_assert_null (t);
      if (!strstr (error->message, "h/merges.txt") || !strstr (error->message, cases[i].what))
        g_error ("message '%s' should name h/merges.txt and say '%s'", error->message, cases[i].what);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (MsTokenizer) ok = ms_tokenizer_new_from_vocab_merges (vocab, -1, "#version: 0.2\n\n", -1, "v", "m", &error);
  g_assert_no_error (error);
  g_assert_cmpint (ms_tokenizer_get_vocab_size (ok), ==, 256);
  g_assert_null (ms_tokenizer_load ("/nonexistent/vocab.json", &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/vocab.json"));
}

/* One pre-token of a million bytes (a letter run) merges in O(n log n):
 * a quadratic loop would not finish in the test's time. */
static void
test_long_word (void)
{
  const char *extra[] = { "aa", "aaaa", NULL };
  const char *merges[] = { "a a", "aa aa", NULL };
  g_autofree char *json = make_json (extra, merges, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsTokenizer) t = ms_tokenizer_new_from_json (json, -1, "t.json", &error);
  g_assert_no_error (error);
  size_t n = 1000001, n_tokens;
  g_autofree guint8 *text = g_malloc (n);
  memset (text, 'a', n);
  g_autofree MsToken *tokens = ms_tokenizer_encode (t, text, n, &n_tokens);
  g_assert_cmpuint (n_tokens, ==, 250000 + 1);
  g_assert_cmpint (tokens[0].id, ==, 257);
  g_assert_cmpint (tokens[n_tokens - 1].id, ==, 'a');
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tokenizer/pre-tokenize", test_pre_tokenize);
  g_test_add_func ("/tokenizer/merges-by-rank", test_merges_by_rank);
  g_test_add_func ("/tokenizer/round-trip", test_round_trip);
  g_test_add_func ("/tokenizer/metadata", test_metadata);
  g_test_add_func ("/tokenizer/hostile-json", test_hostile_json);
  g_test_add_func ("/tokenizer/hostile-merges-txt", test_hostile_merges_txt);
  g_test_add_func ("/tokenizer/long-word", test_long_word);
  return g_test_run ();
}
