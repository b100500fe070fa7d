/* fuzz-import.c — libFuzzer entry point for importing a checkpoint
 * (ms-import.h): any config.json, weights and index must either import
 * into a model file that loads or be refused with a message, never crash,
 * read out of bounds, leak or write outside the checkpoint's folder.
 *
 * Input: sections separated by SEPARATOR: config.json, the weights, and
 * optionally model.safetensors.index.json (then the weights are the shard
 * model-00001-of-00001.safetensors, which the index should name).  They are
 * written into a folder of this process's own, imported with segment length
 * 4 and the bytes tokenizer, and removed. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-sections.h"
#include "import/ms-import.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
put (const char *dir, const char *name, const uint8_t *bytes, size_t len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  FILE *f = fopen (path, "wb");
  g_assert (f);
  g_assert (len == 0 || fwrite (bytes, 1, len, f) == len);
  g_assert (fclose (f) == 0);
}

static void
remove_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_unlink (path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static char *dir;   /* one folder per process, reused */
  if (!dir)
    {
      dir = g_dir_make_tmp ("memscope-fuzz-import-XXXXXX", NULL);
      g_assert (dir);
    }
  const uint8_t *p = data, *end = data + size;
  size_t config_len, weights_len, index_len;
  const uint8_t *config = next_section (&p, end, &config_len);
  const uint8_t *weights = next_section (&p, end, &weights_len);
  gboolean sharded = p < end;
  const uint8_t *index = next_section (&p, end, &index_len);

  put (dir, "config.json", config, config_len);
  put (dir, sharded ? "model-00001-of-00001.safetensors" : "model.safetensors", weights, weights_len);
  if (sharded)
    put (dir, "model.safetensors.index.json", index, index_len);

  g_autofree char *out = g_build_filename (dir, "out.safetensors", NULL);
  MsImportOptions options = { .segment_len = 4, .tokenizer = "bytes" };
  GError *error = NULL;
  char *summary = NULL;
  if (ms_import_checkpoint (dir, out, &options, &summary, &error))
    g_assert (summary && g_file_test (out, G_FILE_TEST_IS_REGULAR));
  else
    g_assert (error && error->message[0] && !g_file_test (out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_free (summary);

  static const char *const names[] = { "config.json", "model.safetensors", "model-00001-of-00001.safetensors",
                                       "model.safetensors.index.json", "out.safetensors" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    remove_file (dir, names[i]);
  return 0;
}
