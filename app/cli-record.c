/* cli-record.c — `memscope-cli record` (record or resume a run into a
 * recording) and `memscope-cli runs` (list the runs a recording holds). */
#include "cli.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-recording.h"

int
cli_record (const CliCommand *cmd, int argc, char **argv)
{
  g_autofree char *recording = NULL, *name = NULL, *attn = NULL;
  g_autofree char *segment_len_text = NULL, *max_segments_text = NULL, *resume_text = NULL;
  int segment_len = 0, max_segments = 0;
  gint64 resume = 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "recording", 0, 0, G_OPTION_ARG_FILENAME, &recording, "Recording to write (created when missing)", "FILE" },
    /* The option's name before recordings were called recordings everywhere */
    { "db", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &recording, NULL, "FILE" },
    { "name", 0, 0, G_OPTION_ARG_FILENAME, &name, "Name of the run (default: MODEL on INPUT)", "NAME" },
    { "segment-len", 0, 0, G_OPTION_ARG_STRING, &segment_len_text, "Tokens per segment (default and maximum: the model's)", "N" },
    { "max-segments", 0, 0, G_OPTION_ARG_STRING, &max_segments_text, "Record at most N segments", "N" },
    { "attn", 0, 0, G_OPTION_ARG_STRING, &attn, "Attention storage: none (default: a compact recording, attention replayed when shown), f16 or f32",
      "none|f16|f32" },
    { "resume", 0, 0, G_OPTION_ARG_STRING, &resume_text, "Continue the incomplete run RUN instead of starting one", "RUN" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    G_OPTION_ENTRY_NULL
  };
  if (!cli_parse (cmd, entries, 2, &argc, &argv)
      || !cli_option_int (cmd, "--segment-len", segment_len_text, 1, G_MAXINT, &segment_len)
      || !cli_option_int (cmd, "--max-segments", max_segments_text, 1, G_MAXINT, &max_segments)
      || !cli_option_int64 (cmd, "--resume", resume_text, 1, G_MAXINT64, &resume)
      || !cli_option_text (cmd, "--name", &name))
    return CLI_EXIT_USAGE;
  char nonfinite[MS_NONFINITE_LEN] = "";
  MsRecordOptions opts = { name, segment_len, max_segments, MS_ATTN_STORE_NONE, nonfinite };
  if (!recording)
    return cli_usage_error (cmd, "--recording FILE is required");
  if (attn && !ms_attn_store_parse (attn, &opts.attn))
    return cli_usage_error (cmd, "--attn must be none, f16 or f32");

  g_autoptr (MsModel) model = cli_load_model (argv[1]);
  if (!model)
    return CLI_EXIT_FAILURE;
  if (segment_len > ms_model_get_config (model)->segment_len)
    return cli_usage_error (cmd, "--segment-len exceeds the model's segment_len");

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CliProgress progress;
  cli_progress_init (&progress, "record", "segment", cancellable);
  g_autoptr (GError) error = NULL;
  gint64 run_id = 0;
  gboolean ok = ms_record (recording, model, argv[2], &opts, resume, cli_progress_report, &progress, cancellable, &run_id, &error);
  cli_progress_finish (&progress);
  cli_warn_nonfinite (argv[1], nonfinite, "the NLL recorded after it is not finite");
  if (!ok)
    return cli_fail (error);

  g_autoptr (MsRecording) rec = ms_recording_open (recording, &error);
  g_autoptr (MsRunInfo) info = rec ? ms_recording_get_run (rec, run_id, &error) : NULL;
  if (!info)
    return cli_fail (error);
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      cli_json_add_path (b, "recording", recording);
      cli_json_add_int (b, "run", run_id);
      cli_json_add_int (b, "segments_done", info->segments_done);
      cli_json_add_int (b, "n_segments", info->n_segments);
      cli_json_add_string (b, "status", ms_run_status_name (info->status));
      json_builder_end_object (b);
      cli_print_json (b);
    }
  else
    {
      g_autofree char *shown_recording = cli_escape (recording), *shown_name = cli_escape (info->name);
      printf ("%s: run %" G_GINT64_FORMAT " (%s): %d of %d segments, %s\n", shown_recording, run_id, shown_name,
              info->segments_done, info->n_segments, ms_run_status_name (info->status));
    }
  return CLI_EXIT_OK;
}

int
cli_runs (const CliCommand *cmd, int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON array", NULL },
    G_OPTION_ENTRY_NULL
  };
  if (!cli_parse (cmd, entries, 1, &argc, &argv))
    return CLI_EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (argv[1], &error);
  g_autoptr (GPtrArray) runs = rec ? ms_recording_list_runs (rec, &error) : NULL;
  if (!runs)
    return cli_fail (error);

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_array (b);
      for (guint i = 0; i < runs->len; i++)
        {
          MsRunInfo *r = runs->pdata[i];
          json_builder_begin_object (b);
          cli_json_add_int (b, "id", r->id);
          cli_json_add_path (b, "name", r->name);
          cli_json_add_path (b, "model", r->model_path);
          cli_json_add_string (b, "arch", ms_config_get_arch (&r->config));
          cli_json_add_path (b, "input", r->input_path);
          cli_json_add_int (b, "segments_done", r->segments_done);
          cli_json_add_int (b, "n_segments", r->n_segments);
          cli_json_add_string (b, "status", ms_run_status_name (r->status));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      cli_print_json (b);
      return CLI_EXIT_OK;
    }
  for (guint i = 0; i < runs->len; i++)
    {
      MsRunInfo *r = runs->pdata[i];
      g_autofree char *name = cli_escape (r->name), *model = cli_escape (r->model_path);
      printf ("%" G_GINT64_FORMAT "\t%s\t%s\t%d/%d\t%s\n", r->id, name, model, r->segments_done,
              r->n_segments, ms_run_status_name (r->status));
    }
  return CLI_EXIT_OK;
}
