/* memscope-cli.c — the headless entry point: dispatches to one command per
 * verb.  Exit codes: 0 success, 1 failure, 2 usage error. */
#include "cli.h"
#include "app-blas.h"

#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "ms-model.h"

static const CliCommand commands[] = {
  { "info", "MODEL", "Show a model's architecture, configuration, parameter count and tensors", cli_info },
  { "run", "MODEL INPUT", "Step a model through a text file; per-segment NLL and memory change", cli_run },
  { "record", "MODEL INPUT", "Record a run (attention, memory, NLL, retention) into a recording", cli_record },
  { "runs", "RECORDING", "List the runs a recording holds", cli_runs },
  { "export", "RECORDING", "Draw one view of a recorded run as PNG, SVG or PDF, or write its numbers as CSV", cli_export },
  { "compare", "RECORDING", "Draw one view of two runs side by side on one scale (or their difference)", cli_compare },
  { "causal", "RECORDING", "Measure what a run's memory carries: replay with it replaced, store the NLL change", cli_causal },
  { "eval", "MODEL", "Per-token accuracy on fresh copy or recall instances (the C core)", cli_eval },
  { "tokenize", "MODEL INPUT", "The tokens, ids and byte ranges a model's tokenizer makes of a text", cli_tokenize },
  { "import", "CHECKPOINT", "Import a GPT-2 RMT checkpoint (Hugging Face folder or .safetensors) as a Memscope model", cli_import },
};

static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  (void) sig;
  interrupted = 1;
}

static void
install_interrupt (void)
{
  struct sigaction sa = { 0 };
  sa.sa_handler = on_sigint;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
}

int
cli_usage_error (const CliCommand *cmd, const char *message)
{
  g_autofree char *shown = cli_escape (message);
  fprintf (stderr, "memscope-cli %s: %s\nTry 'memscope-cli %s --help'.\n", cmd->name, shown, cmd->name);
  return CLI_EXIT_USAGE;
}

void
cli_add_path_value (JsonBuilder *builder, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s, -1);
  json_builder_add_string_value (builder, valid);
}

void
cli_json_add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

void
cli_json_add_double (JsonBuilder *builder, const char *name, double value)
{
  json_builder_set_member_name (builder, name);
  if (isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
cli_json_add_boolean (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

void
cli_json_add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

void
cli_json_add_path (JsonBuilder *builder, const char *name, const char *path)
{
  json_builder_set_member_name (builder, name);
  cli_add_path_value (builder, path);
}

void
cli_print_json (JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  json_generator_set_root (gen, root);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}

int
cli_fail (const GError *error)
{
  g_autofree char *message = cli_escape (error->message);
  fprintf (stderr, "memscope-cli: %s\n", message);
  return CLI_EXIT_FAILURE;
}

int
cli_fail_in (const char *path, const GError *error)
{
  if (strstr (error->message, path))
    return cli_fail (error);
  g_autoptr (GError) named = g_error_new (error->domain, error->code, "%s: %s", path, error->message);
  return cli_fail (named);
}

char *
cli_escape (const char *s)
{
  GString *out = g_string_new (NULL);
  const char *p = s;
  while (*p)
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else if (c >= 0x80 && c < 0xa0)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  return g_string_free (out, FALSE);
}

static gboolean
option_error (const CliCommand *cmd, const char *option, const char *text, const char *expected)
{
  g_autofree char *message = g_strdup_printf ("%s must be %s (got '%s')", option, expected, text);
  cli_usage_error (cmd, message);
  return FALSE;
}

gboolean
cli_option_int64 (const CliCommand *cmd, const char *option, const char *text, gint64 min, gint64 max,
                  gint64 *out)
{
  if (!text)
    return TRUE;
  gint64 v;
  if (!g_ascii_string_to_signed (text, 10, min, max, &v, NULL))
    {
      g_autofree char *expected = max == G_MAXINT64
        ? g_strdup_printf ("an integer ≥ %" G_GINT64_FORMAT, min)
        : g_strdup_printf ("an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, min, max);
      return option_error (cmd, option, text, expected);
    }
  *out = v;
  return TRUE;
}

gboolean
cli_option_int (const CliCommand *cmd, const char *option, const char *text, int min, int max, int *out)
{
  gint64 v = 0;
  if (!text)
    return TRUE;
  if (!cli_option_int64 (cmd, option, text, min, max, &v))
    return FALSE;
  *out = (int) v;
  return TRUE;
}

gboolean
cli_option_double (const CliCommand *cmd, const char *option, const char *text, double min,
                   gboolean min_exclusive, double max, double *out)
{
  if (!text)
    return TRUE;
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);
  if (end == text || *end || !isfinite (v) || (min_exclusive ? v <= min : v < min) || v > max)
    {
      g_autofree char *expected = isinf (max)
        ? g_strdup_printf ("a number %s %g", min_exclusive ? ">" : "≥", min)
        : g_strdup_printf ("a number %s %g and ≤ %g", min_exclusive ? ">" : "≥", min, max);
      return option_error (cmd, option, text, expected);
    }
  *out = v;
  return TRUE;
}

gboolean
cli_option_text (const CliCommand *cmd, const char *option, char **text)
{
  if (!*text || g_utf8_validate (*text, -1, NULL))
    return TRUE;
  char *converted = g_locale_to_utf8 (*text, -1, NULL, NULL, NULL);
  if (!converted)
    return option_error (cmd, option, *text, "text in UTF-8 or in the locale's character set");
  g_free (*text);
  *text = converted;
  return TRUE;
}

MsModel *
cli_load_model (const char *path)
{
  g_autoptr (GError) error = NULL;
  MsModel *model = ms_model_load (path, &error);
  if (!model)
    {
      cli_fail (error);
      return NULL;
    }
  for (const char *const *w = ms_model_get_warnings (model); *w; w++)
    {
      g_autofree char *warning = cli_escape (*w);
      fprintf (stderr, "memscope-cli: warning: %s\n", warning);
    }
  return model;
}

void
cli_warn_nonfinite (const char *model_path, const char *where, const char *consequence)
{
  if (!where || !where[0])
    return;
  g_autofree char *shown = cli_escape (model_path);
  fprintf (stderr, "memscope-cli: warning: %s: the output turned NaN or infinite at %s (weights too large?); %s\n",
           shown, where, consequence);
}

gboolean
cli_parse (const CliCommand *cmd, GOptionEntry *entries, int n_positional, int *argc, char ***argv)
{
  return cli_parse_described (cmd, entries, n_positional, NULL, argc, argv);
}

gboolean
cli_parse_described (const CliCommand *cmd, GOptionEntry *entries, int n_positional, const char *description,
                     int *argc, char ***argv)
{
  /* the program name is already the command's ("export"): the usage line
   * adds only its arguments */
  g_autoptr (GOptionContext) ctx = g_option_context_new (cmd->args);
  g_option_context_set_summary (ctx, cmd->summary);
  if (description)
    g_option_context_set_description (ctx, description);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      cli_usage_error (cmd, error->message);
      return FALSE;
    }
  if (*argc != n_positional + 1)
    {
      g_autofree char *expected = g_strdup_printf ("expected %s", cmd->args);
      cli_usage_error (cmd, expected);
      return FALSE;
    }
  return TRUE;
}

void
cli_progress_init (CliProgress *p, const char *what, const char *unit, GCancellable *cancellable)
{
  p->enabled = isatty (STDERR_FILENO);
  p->start_us = g_get_monotonic_time ();
  p->what = what;
  p->unit = unit;
  p->cancellable = cancellable;
  install_interrupt ();
}

void
cli_progress_report (int done, int total, gpointer progress)
{
  CliProgress *p = progress;
  if (interrupted)
    g_cancellable_cancel (p->cancellable);
  if (!p->enabled)
    return;
  double secs = (g_get_monotonic_time () - p->start_us) / 1e6;
  double rate = secs > 0 ? done / secs : 0;
  double eta = rate > 0 ? (total - done) / rate : 0;
  fprintf (stderr, "\r%s: %s %d/%d  %.1f %ss/s  ETA %.0f s   ", p->what, p->unit, done, total, rate, p->unit, eta);
}

void
cli_progress_finish (CliProgress *p)
{
  if (p->enabled)
    fprintf (stderr, "\r\033[K");
}

static void
usage (FILE *out)
{
  fprintf (out, "Usage: memscope-cli COMMAND [OPTIONS] ARGS...\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-7s %-12s %s\n", commands[i].name, commands[i].args, commands[i].summary);
  fprintf (out, "\nRun 'memscope-cli COMMAND --help' for a command's options.\n"
                "Exit codes: 0 success, 1 failure, 2 usage error.\n");
}

int
main (int argc, char **argv)
{
  app_use_fast_blas (argv);
  /* Messages and --help in the user's language and character set; numbers
   * printed with '.' whatever the locale, like the CSV and JSON. */
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  if (argc < 2)
    {
      usage (stderr);
      return CLI_EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return CLI_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (&commands[i], argc - 1, argv + 1);
  fprintf (stderr, "memscope-cli: unknown command '%s'\n", argv[1]);
  usage (stderr);
  return CLI_EXIT_USAGE;
}
