/* cli-causal.c — `memscope-cli causal RECORDING --run ID [--replace
 * initial|zeros|permute|knockout|skip] [--horizon H] [--first T] [--last T]
 * [--max-sources N] [--model FILE] [--json]`: computes a run's causal
 * retention (core/ms-causal.h) and its reset-memory baseline and stores them
 * in the recording, where `export --view causal`, `causal-slots`, `forgetting`
 * and `nll` find them.  Sources already stored are skipped, so the command
 * continues an interrupted computation. */
#include "cli.h"

#include <stdio.h>

#include "ms-causal.h"
#include "ms-error.h"

int
cli_causal (const CliCommand *cmd, int argc, char **argv)
{
  g_autofree char *run_text = NULL, *replace = NULL, *horizon_text = NULL, *first_text = NULL, *last_text = NULL;
  g_autofree char *max_text = NULL, *model = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "run", 0, 0, G_OPTION_ARG_STRING, &run_text, "Run to measure (see memscope-cli runs RECORDING)", "ID" },
    { "replace", 0, 0, G_OPTION_ARG_STRING, &replace,
      "What replaces the memory after each source segment s: initial (M_0, default), zeros, permute (slot i takes "
      "slot i+1's content), knockout (each slot in turn back to its initial value) or skip (the memory before s: "
      "segment s never written)", "WHAT" },
    { "horizon", 0, 0, G_OPTION_ARG_STRING, &horizon_text,
      "Target segments replayed after each source (default " G_STRINGIFY (MS_CAUSAL_DEFAULT_HORIZON) ")", "H" },
    { "first", 0, 0, G_OPTION_ARG_STRING, &first_text, "First source segment (default 0)", "T" },
    { "last", 0, 0, G_OPTION_ARG_STRING, &last_text, "Source segment after the last one (default: the end)", "T" },
    { "max-sources", 0, 0, G_OPTION_ARG_STRING, &max_text,
      "Stop after computing N sources; run again to continue (default: all)", "N" },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model, "Where the run's model is now, when it moved", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    G_OPTION_ENTRY_NULL
  };
  if (!cli_parse_described (cmd, entries, 1,
                            "Replays the run from each source segment s with the memory after s replaced, for the "
                            "targets t in (s, s+H], and stores the change in mean NLL per token (and in task "
                            "accuracy when the input is made of copy or recall instances), plus the NLL of every "
                            "segment with the memory reset. Costs H+1 replayed segments per source (K times that "
                            "for knockout).", &argc, &argv))
    return CLI_EXIT_USAGE;
  gint64 run = 0;
  MsCausalOptions opt = { .replacement = MS_CAUSAL_INITIAL, .horizon = MS_CAUSAL_DEFAULT_HORIZON, .model_path = model };
  if (!run_text)
    return cli_usage_error (cmd, "--run is required (see memscope-cli runs RECORDING)");
  if (!cli_option_int64 (cmd, "--run", run_text, 1, G_MAXINT64, &run)
      || !cli_option_int (cmd, "--horizon", horizon_text, 1, MS_CAUSAL_MAX_HORIZON, &opt.horizon)
      || !cli_option_int (cmd, "--first", first_text, 0, G_MAXINT, &opt.first)
      || !cli_option_int (cmd, "--last", last_text, 1, G_MAXINT, &opt.last)
      || !cli_option_int (cmd, "--max-sources", max_text, 1, G_MAXINT, &opt.max_sources))
    return CLI_EXIT_USAGE;
  if (replace && !ms_causal_replacement_from_name (replace, &opt.replacement))
    return cli_usage_error (cmd, "--replace must be initial, zeros, permute, knockout or skip");

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CliProgress progress;
  cli_progress_init (&progress, "causal", "segment", cancellable);
  g_autoptr (GError) error = NULL;
  MsCausalResult r = { 0 };
  gboolean ok = ms_causal_compute (argv[1], run, &opt, cli_progress_report, &progress, cancellable, &r, &error);
  cli_progress_finish (&progress);
  if (!ok)
    return cli_fail_in (argv[1], error);
  const char *what = ms_causal_replacement_name (opt.replacement);
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      cli_json_add_path (b, "recording", argv[1]);
      cli_json_add_int (b, "run", run);
      cli_json_add_string (b, "replace", what);
      cli_json_add_int (b, "horizon", opt.horizon);
      cli_json_add_int (b, "sources_computed", r.sources_computed);
      cli_json_add_int (b, "sources_stored", r.sources_stored);
      cli_json_add_int (b, "sources_left", r.sources_left);
      cli_json_add_int (b, "reset_memory_segments", r.reset_memory_segments);
      cli_json_add_int (b, "segments_replayed", r.segments_replayed);
      cli_json_add_boolean (b, "task_input", r.task_input);
      json_builder_end_object (b);
      cli_print_json (b);
    }
  else
    {
      printf ("run %" G_GINT64_FORMAT ", replace %s, horizon %d: %d sources computed, %d already stored, %d left\n",
              run, what, opt.horizon, r.sources_computed, r.sources_stored, r.sources_left);
      printf ("reset-memory baseline: %d segments computed; %" G_GINT64_FORMAT " segments replayed in all%s\n",
              r.reset_memory_segments, r.segments_replayed,
              r.task_input ? "; the input is made of task instances, so accuracy changes are stored too" : "");
    }
  return CLI_EXIT_OK;
}
