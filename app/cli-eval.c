/* cli-eval.c — `memscope-cli eval MODEL --task copy|recall [--n N]
 * [--seed S] [--reset-memory] [--json]`: per-token accuracy of a model on
 * fresh task instances, measured with the C core (core/ms-eval.h); the
 * instances are those tests/reference/tasks.py draws for the same seed.
 */
#include "cli.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "ms-error.h"
#include "ms-eval.h"

/* --predictions: per instance, the predicted answer tokens (−1 = none). */
static void
collect_predictions (int index, const uint8_t *tokens, const uint8_t *answer, const int32_t *predicted,
                     int n_tokens, gpointer user_data)
{
  JsonBuilder *b = user_data;
  (void) index;
  (void) tokens;
  json_builder_begin_array (b);
  for (int i = 0; i < n_tokens; i++)
    if (answer[i])
      json_builder_add_int_value (b, predicted[i]);
  json_builder_end_array (b);
}

static gboolean
parse_seed (const char *text, uint64_t *seed)
{
  if (!text || !*text || *text == '-')
    return FALSE;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull (text, &end, 0);
  if (errno || *end || v > (unsigned long long) G_MAXINT64)
    return FALSE;
  *seed = v;
  return TRUE;
}

int
cli_eval (const CliCommand *cmd, int argc, char **argv)
{
  g_autofree char *task_name = NULL;
  g_autofree char *seed_text = NULL;
  int n = 1000;
  gboolean json = FALSE, reset_memory = FALSE, predictions = FALSE;
  GOptionEntry entries[] = {
    { "task", 0, 0, G_OPTION_ARG_STRING, &task_name, "The task: copy or recall (required)", "TASK" },
    { "n", 0, 0, G_OPTION_ARG_INT, &n, "Number of fresh instances (default 1000)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "Seed of the instance stream, 0 … 2^63−1 (default 0)", "S" },
    { "reset-memory", 0, 0, G_OPTION_ARG_NONE, &reset_memory,
      "Set the memory back to M_0 before every segment (the no-memory baseline)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { "predictions", 0, 0, G_OPTION_ARG_NONE, &predictions,
      "With --json: add each instance's predicted answer tokens", NULL },
    G_OPTION_ENTRY_NULL
  };
  if (!cli_parse (cmd, entries, 1, &argc, &argv))
    return CLI_EXIT_USAGE;
  MsEvalOptions opt = { .n = n, .reset_memory = reset_memory };
  if (!task_name)
    return cli_usage_error (cmd, "--task is required (copy or recall)");
  if (!ms_task_from_name (task_name, &opt.task))
    return cli_usage_error (cmd, "--task must be copy or recall");
  if (n < 1)
    return cli_usage_error (cmd, "--n must be at least 1");
  if (seed_text && !parse_seed (seed_text, &opt.seed))
    return cli_usage_error (cmd, "--seed must be an integer from 0 to 2^63−1");
  if (predictions && !json)
    return cli_usage_error (cmd, "--predictions needs --json");

  g_autoptr (MsModel) model = cli_load_model (argv[1]);
  if (!model)
    return CLI_EXIT_FAILURE;

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CliProgress progress;
  cli_progress_init (&progress, "eval", "instance", cancellable);
  g_autoptr (JsonBuilder) predicted = json_builder_new ();
  if (predictions)
    {
      json_builder_begin_array (predicted);
      opt.on_instance = collect_predictions;
      opt.on_instance_data = predicted;
    }
  g_autoptr (GError) error = NULL;
  MsEvalResult r;
  gboolean ok = ms_eval_run (model, &opt, cli_progress_report, &progress, cancellable, &r, &error);
  cli_progress_finish (&progress);
  if (!ok)
    return cli_fail (error);
  cli_warn_nonfinite (argv[1], r.nonfinite, "predictions from outputs that are not finite are meaningless");

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      cli_json_add_path (b, "model", argv[1]);
      cli_json_add_string (b, "task", ms_task_name (opt.task));
      cli_json_add_int (b, "n", r.n);
      cli_json_add_int (b, "seed", (gint64) opt.seed);
      cli_json_add_boolean (b, "reset_memory", reset_memory);
      cli_json_add_int (b, "segment_len", r.segment_len);
      cli_json_add_int (b, "n_answer_tokens", r.n_answer);
      cli_json_add_int (b, "n_correct", r.n_correct);
      cli_json_add_double (b, "accuracy", r.accuracy);
      cli_json_add_double (b, "chance", r.chance);
      if (predictions)
        {
          json_builder_end_array (predicted);
          json_builder_set_member_name (b, "predictions");
          json_builder_add_value (b, json_builder_get_root (predicted));
        }
      json_builder_end_object (b);
      cli_print_json (b);
    }
  else
    {
      g_autofree char *shown = cli_escape (argv[1]);
      printf ("%s: task %s, n %d, seed %" G_GUINT64_FORMAT "%s: accuracy %.4f (%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
            " answer tokens), chance %.4f\n",
              shown, ms_task_name (opt.task), r.n, opt.seed, reset_memory ? ", memory reset every segment" : "",
              r.accuracy, r.n_correct, r.n_answer, r.chance);
    }
  return CLI_EXIT_OK;
}
