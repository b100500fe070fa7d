/* cli-run.c — `memscope-cli run MODEL INPUT [--segment-len N]
 * [--reset-memory] [--json]`: steps a model through a text file and
 * reports, per segment, the mean NLL of the tokens that have a prediction
 * and how much the memory changed.  With --reset-memory the memory is set
 * back to M_0 before every segment (ms_session_reset_memory, as `eval`
 * does), the baseline that shows what the memory is worth on any text.
 * The input is read one segment at a time (ms_text_reader_read) and text
 * output printed as each segment is stepped, so memory does not grow with
 * the input file (with --json, by the few numbers kept per segment).
 *
 * memory_delta is the relative change of the whole memory state,
 * ‖M_{t+1} − M_t‖_F / ‖M_t‖_F: 0 when the segment left memory untouched,
 * about √2 when it replaced it with something unrelated.
 */
#include "cli.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ms-analysis.h"
#include "ms-error.h"
#include "ms-session.h"
#include "ms-text.h"

typedef struct {
  int index;
  guint64 byte_begin, byte_end;   /* the segment's bytes of the input */
  MsToken *tokens;                /* --json: (n_tokens) ids and byte ranges within the input … */
  char **texts;                   /* … and each token's text as views show it (ms_token_escape: no control
                                     characters, which JsonGenerator does not all escape) */
  int n_tokens;
  int n_predicted;
  double total_nll;
  double memory_delta;
} SegmentStats;

typedef struct {
  GArray *segments;        /* SegmentStats */
  float *memory_in;        /* (K, d) copy of M_t */
  size_t memory_len;
} RunState;

static void
observe (const MsObservation *obs, gpointer user_data)
{
  RunState *rs = user_data;
  if (obs->kind == MS_OBS_MEMORY_IN)
    {
      memcpy (rs->memory_in, obs->data, rs->memory_len * sizeof (float));
      SegmentStats st = { .index = obs->segment };
      g_array_append_val (rs->segments, st);
      return;
    }
  SegmentStats *st = &g_array_index (rs->segments, SegmentStats, rs->segments->len - 1);
  if (obs->kind == MS_OBS_MEMORY_OUT)
    st->memory_delta = ms_memory_relative_change (rs->memory_in, obs->data, rs->memory_len);
  else if (obs->kind == MS_OBS_NLL)
    {
      st->n_tokens = obs->shape[0];
      for (int i = 0; i < obs->shape[0]; i++)
        if (isfinite (obs->data[i]))
          {
            st->n_predicted++;
            st->total_nll += obs->data[i];
          }
    }
}

/* Keeps the tokens of the segment just read in @st, for --json. */
static void
keep_tokens (SegmentStats *st, const MsTextReader *input, const int32_t *ids, int n)
{
  size_t len;
  guint64 begin;
  const uint8_t *text = ms_text_reader_get_text (input, &len, &begin);
  const uint32_t *ends = ms_text_reader_get_token_ends (input);
  st->tokens = g_new (MsToken, n);
  st->texts = g_new0 (char *, n + 1);
  for (int i = 0, at = 0; i < n; i++)
    {
      int end = ends ? (int) ends[i] : i + 1;
      st->tokens[i] = (MsToken) { ids[i], (uint32_t) at, (uint32_t) end };
      st->texts[i] = ms_token_escape (text + at, (size_t) (end - at));
      at = end;
    }
}

static void
segment_stats_clear (gpointer data)
{
  SegmentStats *st = data;
  g_free (st->tokens);
  g_strfreev (st->texts);
}

static void
print_json (const char *model_path, gboolean reset_memory, GArray *segments, int n_predicted, double total_nll)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  cli_json_add_path (b, "model", model_path);
  cli_json_add_boolean (b, "reset_memory", reset_memory);
  json_builder_set_member_name (b, "segments");
  json_builder_begin_array (b);
  for (guint i = 0; i < segments->len; i++)
    {
      SegmentStats *st = &g_array_index (segments, SegmentStats, i);
      json_builder_begin_object (b);
      cli_json_add_int (b, "segment", st->index);
      cli_json_add_int (b, "n_tokens", st->n_tokens);
      cli_json_add_int (b, "byte_begin", (gint64) st->byte_begin);
      cli_json_add_int (b, "byte_end", (gint64) st->byte_end);
      /* each token: its id, its bytes [start, end) of the input, its text */
      json_builder_set_member_name (b, "tokens");
      json_builder_begin_array (b);
      for (int k = 0; st->tokens && k < st->n_tokens; k++)
        {
          json_builder_begin_object (b);
          cli_json_add_int (b, "id", st->tokens[k].id);
          cli_json_add_int (b, "start", (gint64) (st->byte_begin + st->tokens[k].start));
          cli_json_add_int (b, "end", (gint64) (st->byte_begin + st->tokens[k].end));
          cli_json_add_string (b, "text", st->texts[k]);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      cli_json_add_int (b, "n_predicted", st->n_predicted);
      /* null when nothing was predicted, or the change from an all-zero M_t (infinite) */
      cli_json_add_double (b, "mean_nll", st->n_predicted > 0 ? st->total_nll / st->n_predicted : NAN);
      cli_json_add_double (b, "memory_delta", st->memory_delta);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  cli_json_add_int (b, "n_predicted", n_predicted);
  cli_json_add_double (b, "total_nll", total_nll);
  json_builder_end_object (b);

  cli_print_json (b);
}

/* Text output is printed as the run goes: the heading, one line per
 * segment, then the totals. */
static void
print_text_heading (void)
{
  printf ("%-8s %7s %10s %10s %13s\n", "segment", "tokens", "predicted", "mean NLL", "memory delta");
}

static void
print_text_segment (const SegmentStats *st)
{
  if (st->n_predicted > 0)
    printf ("%-8d %7d %10d %10.4f %13.4f\n", st->index, st->n_tokens, st->n_predicted,
            st->total_nll / st->n_predicted, st->memory_delta);
  else
    printf ("%-8d %7d %10d %10s %13.4f\n", st->index, st->n_tokens, 0, "-", st->memory_delta);
}

static void
print_text_totals (const char *model_path, gboolean reset_memory, int n_predicted, double total_nll, gboolean bytes)
{
  if (n_predicted > 0)
    {
      g_autofree char *shown = cli_escape (model_path);
      printf ("\n%s%s: %d predicted tokens, mean NLL %.4f nats (%.4f bits per %s)\n", shown,
              reset_memory ? ", memory reset every segment" : "", n_predicted, total_nll / n_predicted,
              total_nll / n_predicted / M_LN2, bytes ? "byte" : "token");
    }
}

int
cli_run (const CliCommand *cmd, int argc, char **argv)
{
  gboolean json = FALSE, reset_memory = FALSE;
  int segment_len = 0;
  g_autofree char *segment_len_text = NULL;
  GOptionEntry entries[] = {
    { "segment-len", 0, 0, G_OPTION_ARG_STRING, &segment_len_text, "Tokens per segment (default and maximum: the model's)", "N" },
    { "reset-memory", 0, 0, G_OPTION_ARG_NONE, &reset_memory,
      "Set the memory back to M_0 before every segment (the no-memory baseline)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    G_OPTION_ENTRY_NULL
  };
  if (!cli_parse (cmd, entries, 2, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (!cli_option_int (cmd, "--segment-len", segment_len_text, 1, G_MAXINT, &segment_len))
    return CLI_EXIT_USAGE;

  g_autoptr (GError) error = NULL;
  g_autoptr (MsModel) model = cli_load_model (argv[1]);
  if (!model)
    return CLI_EXIT_FAILURE;
  if (segment_len > ms_model_get_config (model)->segment_len)
    return cli_usage_error (cmd, "--segment-len exceeds the model's segment_len");
  g_autoptr (MsTextReader) input = ms_text_reader_open (argv[2], ms_model_get_tokenizer (model), &error);
  if (!input)
    return cli_fail (error);

  const MsConfig *c = ms_model_get_config (model);
  if (segment_len == 0)
    segment_len = c->segment_len;
  g_autofree int32_t *tokens = g_new (int32_t, segment_len);
  g_autoptr (MsSession) session = ms_session_new (model);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  RunState rs = { 0 };
  rs.segments = g_array_new (FALSE, TRUE, sizeof (SegmentStats));
  g_array_set_clear_func (rs.segments, segment_stats_clear);
  rs.memory_len = (size_t) c->n_slots * c->d_model;
  rs.memory_in = g_new (float, rs.memory_len);
  CliProgress progress;
  cli_progress_init (&progress, "run", "segment", cancellable);
  ms_session_set_observer (session, MS_OBS_MEMORY_IN | MS_OBS_MEMORY_OUT | MS_OBS_NLL, observe, &rs);

  guint64 n_tokens = ms_text_reader_get_n_tokens (input);
  int n_segments = (int) MIN ((n_tokens + (guint64) segment_len - 1) / (guint64) segment_len, (guint64) G_MAXINT);
  gboolean ok = TRUE;
  int n_predicted = 0;
  double total_nll = 0;
  if (!json)
    print_text_heading ();
  for (int t = 0; ok; t++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (&error, MS_ERROR, MS_ERROR_CANCELLED, "%s: cancelled after %d segments", argv[2], t);
          ok = FALSE;
          break;
        }
      gssize n = ms_text_reader_read (input, tokens, (size_t) segment_len, &error);
      if (n < 0)
        ok = FALSE;
      else if (n == 0 && t == 0)
        {
          g_set_error (&error, MS_ERROR, MS_ERROR_INPUT, "%s: the input is empty; there is nothing to run", argv[2]);
          ok = FALSE;
        }
      else if (n == 0)
        break;
      else
        {
          if (reset_memory)
            ms_session_reset_memory (session);
          ok = ms_session_step (session, tokens, (int) n, NULL, &error);
          if (!ok)
            break;
          SegmentStats *st = &g_array_index (rs.segments, SegmentStats, rs.segments->len - 1);
          size_t text_len;
          ms_text_reader_get_text (input, &text_len, &st->byte_begin);
          st->byte_end = st->byte_begin + text_len;
          if (json)
            keep_tokens (st, input, tokens, (int) n);
          n_predicted += st->n_predicted;
          total_nll += st->total_nll;
          if (!json)   /* printed, so not kept: memory stays flat */
            {
              print_text_segment (st);
              g_array_set_size (rs.segments, 0);
            }
          cli_progress_report (t + 1, MAX (n_segments, t + 1), &progress);
        }
    }
  cli_progress_finish (&progress);
  int status = CLI_EXIT_OK;
  cli_warn_nonfinite (argv[1], ms_session_get_nonfinite (session),
                      "tokens after it have no finite NLL and are not counted as predicted");
  if (!ok)
    status = cli_fail_in (argv[2], error);
  else if (json)
    print_json (argv[1], reset_memory, rs.segments, n_predicted, total_nll);
  else
    print_text_totals (argv[1], reset_memory, n_predicted, total_nll,
                       ms_tokenizer_get_kind (ms_model_get_tokenizer (model)) == MS_TOKENIZER_BYTES);
  g_array_unref (rs.segments);
  g_free (rs.memory_in);
  return status;
}
