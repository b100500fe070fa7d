/* cli-info.c — `memscope-cli info MODEL [--json]`: what a model file holds. */
#include "cli.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

#include "ms-engine.h"

/* The configuration as its engine describes it (ms_config_describe). */
static void
add_config (JsonBuilder *b, const MsConfig *c)
{
  MsConfigRow rows[MS_CONFIG_MAX_ROWS];
  guint n = ms_config_describe (c, rows);
  json_builder_begin_object (b);
  for (guint i = 0; i < n; i++)
    {
      switch (rows[i].type)
        {
        case MS_CONFIG_INT: cli_json_add_int (b, rows[i].key, rows[i].i); break;
        case MS_CONFIG_DOUBLE: cli_json_add_double (b, rows[i].key, rows[i].d); break;
        case MS_CONFIG_BOOL: cli_json_add_boolean (b, rows[i].key, rows[i].i != 0); break;
        case MS_CONFIG_STRING: cli_json_add_string (b, rows[i].key, rows[i].s); break;
        }
    }
  json_builder_end_object (b);
}

static char *
shape_text (const MsModelTensor *t)
{
  GString *s = g_string_new ("[");
  for (int d = 0; d < t->n_dims; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", t->shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static void
print_json (const MsModel *model)
{
  const MsConfig *c = ms_model_get_config (model);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  cli_json_add_path (b, "model", ms_model_get_path (model));
  cli_json_add_string (b, "arch", ms_config_get_arch (c));
  json_builder_set_member_name (b, "config");
  add_config (b, c);
  MsTokenizer *tok = ms_model_get_tokenizer (model);
  json_builder_set_member_name (b, "tokenizer");
  json_builder_begin_object (b);
  cli_json_add_string (b, "kind", ms_tokenizer_get_kind_name (tok));
  cli_json_add_int (b, "vocab_size", ms_tokenizer_get_vocab_size (tok));
  cli_json_add_int (b, "n_merges", ms_tokenizer_get_n_merges (tok));
  json_builder_end_object (b);
  cli_json_add_int (b, "n_params", (gint64) ms_model_get_n_params (model));
  cli_json_add_path (b, "source", ms_model_get_metadata (model, "memscope.source"));
  json_builder_set_member_name (b, "tensors");
  json_builder_begin_array (b);
  for (guint i = 0; i < ms_model_get_n_tensors (model); i++)
    {
      const MsModelTensor *t = ms_model_get_tensor (model, i);
      json_builder_begin_object (b);
      cli_json_add_path (b, "name", t->name);
      cli_json_add_string (b, "dtype", ms_dtype_name (t->file_dtype));
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < t->n_dims; d++)
        json_builder_add_int_value (b, t->shape[d]);
      json_builder_end_array (b);
      cli_json_add_boolean (b, "used", t->used);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "warnings");
  json_builder_begin_array (b);
  for (const char *const *w = ms_model_get_warnings (model); *w; w++)
    cli_add_path_value (b, *w);
  json_builder_end_array (b);
  json_builder_end_object (b);

  cli_print_json (b);
}

static void
print_text (const MsModel *model)
{
  const MsConfig *c = ms_model_get_config (model);
  const char *source = ms_model_get_metadata (model, "memscope.source");
  g_autofree char *path = cli_escape (ms_model_get_path (model));
  g_autofree char *source_shown = source ? cli_escape (source) : g_strdup ("(not given)");
  printf ("model         %s\n", path);
  printf ("architecture  %s (%s)\n", ms_config_get_arch (c), c->engine->display_name);
  printf ("source        %s\n", source_shown);
  MsTokenizer *tok = ms_model_get_tokenizer (model);
  if (ms_tokenizer_get_kind (tok) == MS_TOKENIZER_BYTES)
    printf ("tokenizer     bytes (%d ids)\n", ms_tokenizer_get_vocab_size (tok));
  else
    printf ("tokenizer     byte-level BPE (%d ids, %u merges)\n", ms_tokenizer_get_vocab_size (tok),
            ms_tokenizer_get_n_merges (tok));
  printf ("parameters    %zu\n", ms_model_get_n_params (model));
  /* The rows, several per line: "config        vocab_size 256, d_model 64, …" */
  MsConfigRow rows[MS_CONFIG_MAX_ROWS];
  guint n = ms_config_describe (c, rows);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *value = ms_config_row_format (&rows[i]);
      printf ("%s%s %s%s", i == 0 ? "config        " : i % 5 == 0 ? "              " : "", rows[i].key, value,
              i + 1 == n || i % 5 == 4 ? "\n" : ", ");
    }
  printf ("\n%-48s %-5s %s\n", "tensor", "dtype", "shape");
  for (guint i = 0; i < ms_model_get_n_tensors (model); i++)
    {
      const MsModelTensor *t = ms_model_get_tensor (model, i);
      g_autofree char *shape = shape_text (t);
      g_autofree char *name = cli_escape (t->name);
      printf ("%-48s %-5s %s%s\n", name, ms_dtype_name (t->file_dtype), shape, t->used ? "" : "  (unused)");
    }
}

int
cli_info (const CliCommand *cmd, int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    G_OPTION_ENTRY_NULL
  };
  if (!cli_parse (cmd, entries, 1, &argc, &argv))
    return CLI_EXIT_USAGE;

  g_autoptr (MsModel) model = cli_load_model (argv[1]);
  if (!model)
    return CLI_EXIT_FAILURE;
  if (json)
    print_json (model);
  else
    print_text (model);
  return CLI_EXIT_OK;
}
