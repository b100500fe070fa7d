/* cli-tokenize.c — `memscope-cli tokenize MODEL INPUT [--json]` (or
 * `--tokenizer FILE INPUT`): the tokens a model's tokenizer makes of a text,
 * with their ids and byte ranges. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "ms-error.h"
#include "ms-tokenizer.h"

/* The token's bytes for a terminal: printable UTF-8 as it is, \n \t \r \\ \"
 * escaped, other controls and bytes that are not UTF-8 as \xNN. */
static void
print_escaped (FILE *out, const guint8 *s, size_t n)
{
  for (size_t i = 0; i < n;)
    {
      const char *p = (const char *) s + i;
      gunichar c = g_utf8_get_char_validated (p, (gssize) (n - i));
      if (c == (gunichar) -1 || c == (gunichar) -2 || (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
          || c == 0x7f || (c >= 0x80 && c < 0xa0))
        {
          if (c == (gunichar) -1 || c == (gunichar) -2 || c < 0x80)
            fprintf (out, "\\x%02x", s[i++]);
          else
            {
              fprintf (out, "\\u%04x", c);
              i += g_utf8_next_char (p) - p;
            }
          continue;
        }
      size_t len = g_utf8_next_char (p) - p;
      switch (c)
        {
        case '\n': fputs ("\\n", out); break;
        case '\t': fputs ("\\t", out); break;
        case '\r': fputs ("\\r", out); break;
        case '\\': fputs ("\\\\", out); break;
        case '"': fputs ("\\\"", out); break;
        default: fwrite (p, 1, len, out); break;
        }
      i += len;
    }
}

/* --json is written as it goes, not through JsonBuilder: a tree of millions
 * of tokens would take gigabytes.  The token's bytes as a JSON string: valid
 * UTF-8 as it is, each byte that
 * is not UTF-8 as U+FFFD (the byte range says which bytes they were). */
static void
print_json_string (FILE *out, const guint8 *s, size_t n)
{
  fputc ('"', out);
  for (size_t i = 0; i < n;)
    {
      const char *p = (const char *) s + i;
      gunichar c = g_utf8_get_char_validated (p, (gssize) (n - i));
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          fputs ("\\ufffd", out);
          i++;
          continue;
        }
      size_t len = g_utf8_next_char (p) - p;
      if (c == '"' || c == '\\')
        fprintf (out, "\\%c", (char) c);
      else if (c < 0x20 || c == 0x7f)
        fprintf (out, "\\u%04x", c);
      else
        fwrite (p, 1, len, out);
      i += len;
    }
  fputc ('"', out);
}

int
cli_tokenize (const CliCommand *cmd, int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *tokenizer_path = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the tokens as JSON", NULL },
    { "tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &tokenizer_path,
      "Use this tokenizer (tokenizer.json, vocab.json beside merges.txt, or a folder) instead of a model's", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  gboolean own_tokenizer = FALSE;
  for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    own_tokenizer |= strcmp (argv[i], "--tokenizer") == 0 || g_str_has_prefix (argv[i], "--tokenizer=");
  if (!cli_parse_described (cmd, entries, own_tokenizer ? 1 : 2,
                            "With --tokenizer FILE, give only INPUT.  Each token is printed with its index, id and "
                            "the byte range [start, end) of the input it stands for.", &argc, &argv))
    return CLI_EXIT_USAGE;

  g_autoptr (GError) error = NULL;
  g_autoptr (MsTokenizer) tokenizer = NULL;
  const char *input_path = argv[own_tokenizer ? 1 : 2];
  if (own_tokenizer)
    tokenizer = ms_tokenizer_load (tokenizer_path, &error);
  else
    {
      g_autoptr (MsModel) model = cli_load_model (argv[1]);
      if (!model)
        return CLI_EXIT_FAILURE;
      tokenizer = ms_tokenizer_ref (ms_model_get_tokenizer (model));
    }
  if (!tokenizer)
    return cli_fail (error);

  g_autofree char *text = NULL;
  gsize n = 0;
  g_autoptr (GError) io_error = NULL;
  if (!g_file_get_contents (input_path, &text, &n, &io_error))
    {
      g_set_error (&error, MS_ERROR, MS_ERROR_IO, "%s: cannot read the input: %s", input_path, io_error->message);
      return cli_fail (error);
    }
  if (n >= G_MAXUINT32)
    {
      g_set_error (&error, MS_ERROR, MS_ERROR_INPUT, "%s: the input is %" G_GSIZE_FORMAT " bytes; at most 4 GiB "
                   "can be tokenized at once", input_path, n);
      return cli_fail (error);
    }
  size_t n_tokens = 0;
  g_autofree MsToken *tokens = ms_tokenizer_encode (tokenizer, (const guint8 *) text, n, &n_tokens);

  if (json)
    {
      printf ("{\"tokenizer\":\"%s\",\"vocab_size\":%d,\"n_bytes\":%" G_GSIZE_FORMAT ",\"n_tokens\":%zu,\"tokens\":[",
              ms_tokenizer_get_kind_name (tokenizer), ms_tokenizer_get_vocab_size (tokenizer), n, n_tokens);
      for (size_t i = 0; i < n_tokens; i++)
        {
          printf ("%s{\"id\":%d,\"start\":%u,\"end\":%u,\"text\":", i ? ",\n" : "\n", tokens[i].id, tokens[i].start,
                  tokens[i].end);
          print_json_string (stdout, (const guint8 *) text + tokens[i].start, tokens[i].end - tokens[i].start);
          putchar ('}');
        }
      printf ("\n]}\n");
    }
  else
    {
      printf ("%s tokenizer, %d ids: %zu tokens for %" G_GSIZE_FORMAT " bytes\n", ms_tokenizer_get_kind_name (tokenizer),
              ms_tokenizer_get_vocab_size (tokenizer), n_tokens, n);
      printf ("%8s %7s %10s %10s  %s\n", "index", "id", "start", "end", "token");
      for (size_t i = 0; i < n_tokens; i++)
        {
          printf ("%8zu %7d %10u %10u  \"", i, tokens[i].id, tokens[i].start, tokens[i].end);
          print_escaped (stdout, (const guint8 *) text + tokens[i].start, tokens[i].end - tokens[i].start);
          printf ("\"\n");
        }
    }
  return fflush (stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
