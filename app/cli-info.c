/* cli-info.c — `memscope-cli info MODEL [--json]`: what a model file holds. */
#include "cli.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

#include "ms-model.h"

static void
add_config (JsonBuilder *b, const MsConfig *c)
{
#define INT_MEMBER(name, value) (json_builder_set_member_name (b, name), json_builder_add_int_value (b, value))
  json_builder_begin_object (b);
  INT_MEMBER ("vocab_size", c->vocab_size);
  INT_MEMBER ("d_model", c->d_model);
  INT_MEMBER ("n_heads", c->n_heads);
  INT_MEMBER ("d_ff", c->d_ff);
  INT_MEMBER ("segment_len", c->segment_len);
  if (c->arch == MS_ARCH_MEMFORMER)
    {
      INT_MEMBER ("n_enc_layers", c->n_enc_layers);
      INT_MEMBER ("n_dec_layers", c->n_dec_layers);
      INT_MEMBER ("n_slots", c->n_slots);
      json_builder_set_member_name (b, "writer_temperature");
      json_builder_add_double_value (b, c->writer_temperature);
      json_builder_set_member_name (b, "tie_embeddings");
      json_builder_add_boolean_value (b, c->tie_embeddings);
    }
  else
    {
      INT_MEMBER ("n_layers", c->n_layers);
      INT_MEMBER ("n_mem", c->n_slots);
      INT_MEMBER ("n_positions", c->n_positions);
      json_builder_set_member_name (b, "mask");
      json_builder_add_string_value (b, ms_rmt_mask_name (c->mask));
    }
  json_builder_end_object (b);
#undef INT_MEMBER
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
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, ms_model_get_path (model));
  json_builder_set_member_name (b, "arch");
  json_builder_add_string_value (b, ms_arch_name (c->arch));
  json_builder_set_member_name (b, "config");
  add_config (b, c);
  json_builder_set_member_name (b, "n_params");
  json_builder_add_int_value (b, (gint64) ms_model_get_n_params (model));
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, ms_model_get_metadata (model, "memscope.source"));
  json_builder_set_member_name (b, "tensors");
  json_builder_begin_array (b);
  for (guint i = 0; i < ms_model_get_n_tensors (model); i++)
    {
      const MsModelTensor *t = ms_model_get_tensor (model, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, t->name);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, ms_dtype_name (t->file_dtype));
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < t->n_dims; d++)
        json_builder_add_int_value (b, t->shape[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "used");
      json_builder_add_boolean_value (b, t->used);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "warnings");
  json_builder_begin_array (b);
  for (const char *const *w = ms_model_get_warnings (model); *w; w++)
    json_builder_add_string_value (b, *w);
  json_builder_end_array (b);
  json_builder_end_object (b);

  cli_print_json (b);
}

static void
print_text (const MsModel *model)
{
  const MsConfig *c = ms_model_get_config (model);
  const char *source = ms_model_get_metadata (model, "memscope.source");
  printf ("model         %s\n", ms_model_get_path (model));
  printf ("architecture  %s\n", ms_arch_name (c->arch));
  printf ("source        %s\n", source ? source : "(not given)");
  printf ("parameters    %zu\n", ms_model_get_n_params (model));
  printf ("config        vocab_size %d, d_model %d, n_heads %d, d_ff %d, segment_len %d\n",
          c->vocab_size, c->d_model, c->n_heads, c->d_ff, c->segment_len);
  if (c->arch == MS_ARCH_MEMFORMER)
    printf ("              n_enc_layers %d, n_dec_layers %d, n_slots %d, writer_temperature %g, tie_embeddings %s\n",
            c->n_enc_layers, c->n_dec_layers, c->n_slots, c->writer_temperature, c->tie_embeddings ? "true" : "false");
  else
    printf ("              n_layers %d, n_mem %d, n_positions %d, mask %s\n",
            c->n_layers, c->n_slots, c->n_positions, ms_rmt_mask_name (c->mask));
  printf ("\n%-48s %-5s %s\n", "tensor", "dtype", "shape");
  for (guint i = 0; i < ms_model_get_n_tensors (model); i++)
    {
      const MsModelTensor *t = ms_model_get_tensor (model, i);
      g_autofree char *shape = shape_text (t);
      printf ("%-48s %-5s %s%s\n", t->name, ms_dtype_name (t->file_dtype), shape, t->used ? "" : "  (unused)");
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
