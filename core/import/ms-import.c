/* ms-import.c — importing a Hugging Face-style GPT-2 RMT or MemBART checkpoint (folder,
 * config.json, one or many .safetensors, tokenizer) and writing one
 * Memscope model file; the contract is in ms-import.h, the steps'
 * files are listed in ms-import-private.h.
 *
 * The steps, each of which either succeeds or leaves a message naming the
 * file: locate the files; read config.json; open the weight files; give
 * every tensor its Memscope name (or drop or refuse it); check the names
 * and shapes against config.json; check the options; load the tokenizer;
 * convert to f32, write, and load the written file back. */
#include "ms-import-private.h"
#include "ms-error.h"
#include "ms-model.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* The token embedding every other copy must equal: the LM head, and
 * MemBART's per-side embed_tokens. */
const char *
ms_import_embedding_name (const MsImport *im)
{
  return im->membart ? "shared.weight" : "transformer.wte.weight";
}

static void
import_clear (MsImport *im)
{
  g_free (im->dir);
  g_free (im->config_path);
  g_free (im->weights_what);
  g_clear_pointer (&im->shards, g_ptr_array_unref);
  g_clear_pointer (&im->found, g_hash_table_unref);
  g_clear_pointer (&im->dtypes_seen, g_hash_table_unref);
  g_clear_pointer (&im->tokenizer, ms_tokenizer_unref);
}

gboolean
ms_import_error (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, MS_ERROR, MS_ERROR_MODEL, msg);
  return FALSE;
}

/* ---- options and tokenizer ---------------------------------------------- */

static gboolean
check_options (MsImport *im, GError **error)
{
  if (im->membart)
    {
      if (im->opt->mask)
        return ms_import_error (error, "--mask is an RMT setting; a MemBART has none");
      int L = im->opt->segment_len;
      if (L < 1 || L > im->n_positions)
        return ms_import_error (error, "%s: give the segment length to step the model with (--segment-len N, from 1 to "
                                "%d, the checkpoint's max_position_embeddings); it is not in config.json",
                                im->checkpoint, im->n_positions);
      return TRUE;
    }
  const char *mask = im->opt->mask ? im->opt->mask : "causal";
  if (!g_str_equal (mask, "causal") && !g_str_equal (mask, "blocks"))
    return ms_import_error (error, "mask \"%s\" is not one of causal (the HF wrapper's, the default) and blocks (the "
                            "paper's)", mask);
  int max_len = im->n_positions - 2 * im->m;
  if (max_len < 1)
    return ms_import_error (error, "%s: %d memory tokens before and after a segment need %d positions, but config.json "
                            "has n_positions %d: the memory tensor and config.json do not belong together",
                            im->checkpoint, im->m, 2 * im->m, im->n_positions);
  int L = im->opt->segment_len;
  if (L < 1)
    return ms_import_error (error, "%s: give the segment length the model was trained with (--segment-len N, from 1 "
                            "to %d: the checkpoint's n_positions %d less 2 × %d memory tokens); it is a training "
                            "setting, in neither config.json nor the weights", im->checkpoint, max_len, im->n_positions,
                            im->m);
  if (L > max_len)
    return ms_import_error (error, "%s: segment length %d does not fit: %d memory tokens before and after a segment of "
                            "%d tokens take %d positions, but the model has n_positions %d; pass --segment-len at "
                            "most %d",
                            im->checkpoint, L, im->m, L, 2 * im->m + L, im->n_positions, max_len);
  return TRUE;
}

static gboolean
load_tokenizer (MsImport *im, GError **error)
{
  const char *given = im->opt->tokenizer;
  g_autofree char *tokenizer_json = g_build_filename (im->dir, "tokenizer.json", NULL);
  g_autofree char *vocab_json = g_build_filename (im->dir, "vocab.json", NULL);
  g_autofree char *merges_txt = g_build_filename (im->dir, "merges.txt", NULL);
  const char *source = given;
  if (given && g_str_equal (given, "bytes"))
    im->tokenizer = ms_tokenizer_new_bytes ();
  else
    {
      if (!source && g_file_test (tokenizer_json, G_FILE_TEST_EXISTS))
        source = tokenizer_json;
      else if (!source && g_file_test (vocab_json, G_FILE_TEST_EXISTS) && g_file_test (merges_txt, G_FILE_TEST_EXISTS))
        source = vocab_json;
      if (!source)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: no tokenizer in %s (tokenizer.json, or vocab.json and "
                       "merges.txt): pass --tokenizer FILE with the tokenizer the model was trained with, or "
                       "--tokenizer bytes for a model over bytes", im->checkpoint, im->dir);
          return FALSE;
        }
      im->tokenizer = ms_tokenizer_load (source, error);
      if (!im->tokenizer)
        return FALSE;
    }
  if (ms_tokenizer_get_vocab_size (im->tokenizer) != im->vocab_size)
    return ms_import_error (error, "%s: the tokenizer has %d ids but the model's vocabulary (config.json vocab_size, "
                            "the "
                            "rows of transformer.wte.weight) has %d; pass --tokenizer with the tokenizer the model was "
                            "trained with", given ? given : source, ms_tokenizer_get_vocab_size (im->tokenizer),
                            im->vocab_size);
  return TRUE;
}

gboolean
ms_import_checkpoint (const char *checkpoint, const char *out_path, const MsImportOptions *options, char **summary,
                      GError **error)
{
  g_return_val_if_fail (checkpoint && out_path && options, FALSE);
  MsImport im = { .checkpoint = checkpoint, .opt = options };
  im.shards = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_safetensors_free);
  im.found = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  im.dtypes_seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) weight_map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GString) text = g_string_new (NULL);
  gboolean ok = ms_import_open_checkpoint (&im, weight_map, error) && ms_import_read_config (&im, error)
                && ms_import_name_tensors (&im, weight_map, error) && ms_import_check_tensors (&im, error)
                && check_options (&im, error) && load_tokenizer (&im, error);
  g_clear_pointer (&weight_map, g_hash_table_unref);
  if (ok)
    {
      /* Written to a temporary name and loaded back before it replaces
       * @out_path, so a file that would not load never takes its place. */
      g_autofree char *tmp = g_strdup_printf ("%s.import-tmp", out_path);
      ok = ms_import_write_model (&im, tmp, out_path, text, error);
      import_clear (&im);   /* the mapped checkpoint is no longer needed */
      g_autoptr (MsModel) model = ok ? ms_model_load (tmp, error) : NULL;
      ok = model != NULL;
      g_clear_pointer (&model, ms_model_unref);
      if (ok && g_rename (tmp, out_path) != 0)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot write: %s", out_path, g_strerror (errno));
          ok = FALSE;
        }
      if (!ok)
        g_unlink (tmp);
    }
  else
    import_clear (&im);
  if (ok && summary)
    *summary = g_strdup (text->str);
  return ok;
}
