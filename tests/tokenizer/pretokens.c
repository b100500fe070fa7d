/* pretokens.c — prints the byte offsets where Memscope's GPT-2 pre-tokens
 * end (ms_tokenizer_pre_tokenize), one JSON array, for pretokens_test.py. */
#include <stdio.h>

#include "ms-tokenizer.h"

int
main (int argc, char **argv)
{
  g_autofree char *text = NULL;
  gsize n = 0;
  if (argc != 2 || !g_file_get_contents (argv[1], &text, &n, NULL))
    {
      fprintf (stderr, "usage: pretokens FILE (readable)\n");
      return 2;
    }
  g_autofree uint32_t *bounds = NULL;
  size_t count = ms_tokenizer_pre_tokenize ((const uint8_t *) text, n, &bounds);
  putchar ('[');
  for (size_t i = 0; i < count; i++)
    printf ("%s%u", i ? "," : "", bounds[2 * i + 1]);
  printf ("]\n");
  return 0;
}
