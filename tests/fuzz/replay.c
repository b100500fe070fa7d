/* replay.c — runs files through the fuzz entry point without libFuzzer, so
 * the corpus (the committed fixtures and hand-made hostile files) is a plain
 * regression test under any compiler. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
main (int argc, char **argv)
{
  int n = 0;
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *contents = NULL;
      gsize len;
      if (!g_file_get_contents (argv[i], &contents, &len, NULL))
        {
          fprintf (stderr, "replay: cannot read %s\n", argv[i]);
          return 1;
        }
      LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
      /* every truncation of the first 4 KiB as well: the cheapest hostile inputs
       * (not with FUZZ_WHOLE set: mutate-recording.py's mutants are whole files) */
      for (gsize cut = 0; !g_getenv ("FUZZ_WHOLE") && cut < MIN (len, 4096); cut += 7)
        LLVMFuzzerTestOneInput ((const uint8_t *) contents, cut);
      n++;
    }
  printf ("replayed %d files and their truncations\n", n);
  return 0;
}
