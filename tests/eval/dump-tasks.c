/* dump-tasks.c — prints task instances drawn by core/ms-tasks.c in the format
 * of `tests/reference/tasks.py TASK --segment-len L --seed S --n N --mask`,
 * so the eval suite can check that C and Python draw byte-identical
 * instances.  usage: dump-tasks TASK L SEED N */
#include <stdio.h>
#include <stdlib.h>

#include "ms-tasks.h"

int
main (int argc, char **argv)
{
  MsTask task;
  if (argc != 5 || !ms_task_from_name (argv[1], &task))
    {
      fprintf (stderr, "usage: dump-tasks copy|recall SEGMENT_LEN SEED N\n");
      return 2;
    }
  int L = atoi (argv[2]);
  uint64_t seed = strtoull (argv[3], NULL, 0);
  int n = atoi (argv[4]);
  if (L < ms_task_min_segment_len (task) || n < 0)
    {
      fprintf (stderr, "dump-tasks: bad segment length or count\n");
      return 2;
    }
  int len = ms_task_length (task, L);
  uint8_t *tokens = g_new (uint8_t, len), *answer = g_new (uint8_t, len);
  MsRng rng;
  ms_rng_init (&rng, seed);
  for (int k = 0; k < n; k++)
    {
      ms_task_generate (task, L, &rng, tokens, answer);
      fwrite (tokens, 1, (size_t) len, stdout);
      putchar ('\n');
      int last = len - 1;
      while (last >= 0 && !answer[last])
        last--;
      for (int i = 0; i <= last; i++)
        putchar (answer[i] ? '^' : ' ');
      putchar ('\n');
    }
  g_free (tokens);
  g_free (answer);
  return 0;
}
