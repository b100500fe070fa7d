/* fuzz-recording-read.c — libFuzzer entry point for the recording reader:
 * any byte string, opened as an in-memory recording image
 * (ms_recording_open_image, SQLite's sqlite3_deserialize), must either be
 * refused with a message or be read — every run listed, every view of every
 * run loaded whole and in a zoomed window, the attention views for a few
 * segments, layers and heads (stored, or replayed for a compact run with
 * the model file the image names, taken only when its SHA-256 is the
 * run's), each cell described, the CSV written — with
 * every failure an error with a message: never a crash, an out-of-bounds
 * access, a leak or an allocation a sanitizer refuses.
 *
 * Resuming is not driven from here: it checks the model and input files by
 * their SHA-256 and writes into the recording, so it needs a file on disk, a
 * model and an input; the hostile corpus of the record suite resumes from
 * mutated files instead. */
#include <math.h>
#include <stdint.h>
#include <stddef.h>

#include "ms-error.h"
#include "ms-recording.h"
#include "ms-view.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A failure must say what failed.  With FUZZ_VERBOSE set, every message
 * and every loaded view is printed (to see what a seed reaches). */
static void
expect_message (GError *error)
{
  g_assert (error != NULL && error->message != NULL && error->message[0] != '\0');
  if (g_getenv ("FUZZ_VERBOSE"))
    g_printerr ("error: %s\n", error->message);
  g_error_free (error);
}

/* Everything a client reads of a loaded view. */
static void
use_view (MsViewData *v)
{
  for (int r = -1; r < MIN (v->rows, 3); r++)
    for (int c = 0; c < MIN (v->cols, 3); c++)
      {
        g_free (ms_view_describe_cell (v, r, c));
        (void) ms_view_data_get (v, r, c);
      }
  for (int c = 0; c < MIN (v->x.n, 2); c++)
    g_free (ms_view_axis_cell_name (&v->x, c));
  for (int slot = -1; slot < 2; slot++)
    {
      int n = 0;
      const char *what = NULL;
      g_free (ms_view_token_values (v, slot, &n, &what));
    }
  for (int token = -1; token < MIN (v->rows, 2); token++)
    g_free (ms_view_describe_token_reads (v, token, 2));
  GError *error = NULL;
  if (v->kind == MS_VIEW_READ || v->kind == MS_VIEW_WRITE)
    {
      /* aligned on its own tokens: what a comparison does */
      MsViewData *aligned = ms_view_data_align_tokens (v, v, &error);
      if (aligned)
        ms_view_data_free (aligned);
      else
        expect_message (g_steal_pointer (&error));
    }
  char *csv = ms_view_data_to_csv (v, "a", NULL, NULL, FALSE, &error);
  if (csv)
    g_free (csv);
  else
    expect_message (error);
  if (v->cols > 1)
    {
      ms_view_data_free (ms_view_data_bin_columns (v, 2));
      ms_view_data_free (ms_view_data_crop_columns (v, 1, 3));
    }
}

static void
load (MsRecording *rec, gint64 run_id, MsViewKind kind, const MsViewParams *params)
{
  GError *error = NULL;
  MsViewData *v = ms_view_load (rec, run_id, kind, params, &error);
  if (!v)
    {
      expect_message (error);
      return;
    }
  if (g_getenv ("FUZZ_VERBOSE"))
    g_printerr ("view %s of run %" G_GINT64_FORMAT ": %d × %d\n", ms_view_kind_name (kind), run_id, v->rows, v->cols);
  use_view (v);
  ms_view_data_free (v);
}

static gboolean
count_segment (const MsRecordedSegment *seg, gpointer user_data, GError **error)
{
  (*(int *) user_data)++;
  return TRUE;
}

static gboolean
count_state (int segment, const float *state, gpointer user_data, GError **error)
{
  (*(int *) user_data)++;
  return TRUE;
}

static void
read_run (MsRecording *rec, const MsRunInfo *run)
{
  GError *error = NULL;
  int n = 0;
  guint all = MS_SEGMENT_TRANSFER | MS_SEGMENT_NLL | MS_SEGMENT_TEXT;
  for (int q = 0; q < MS_SLOT_N_QUANTITIES; q++)
    all |= 1u << q;
  if (!ms_recording_foreach_segment (rec, run, 0, MIN (run->segments_done, 64), 1, all, count_segment, &n, &error))
    expect_message (g_steal_pointer (&error));
  if (!ms_recording_foreach_memory_state (rec, run, 0, MIN (run->segments_done, 64), count_state, &n, &error))
    expect_message (g_steal_pointer (&error));
  GBytes *text = ms_recording_segment_text (rec, run->id, 0, &error);
  if (text)
    g_bytes_unref (text);
  else
    expect_message (g_steal_pointer (&error));
  /* the tokens of the first and the last committed segment: ids, byte ranges */
  for (int t = 0; t < 2; t++)
    {
      size_t n_tokens = 0;
      guint64 byte_begin = 0;
      MsToken *tokens = ms_recording_segment_tokens (rec, run, t == 0 ? 0 : run->segments_done - 1, &n_tokens,
                                                     &byte_begin, &error);
      if (tokens)
        {
          g_assert (n_tokens >= 1 && tokens[n_tokens - 1].end >= n_tokens);
          g_free (tokens);
        }
      else
        expect_message (g_steal_pointer (&error));
    }
  if (ms_recording_find_segment_at_byte (rec, run, 40, &error) == -2)
    expect_message (g_steal_pointer (&error));
  /* the first segment's per-token NLL: finite and ≥ 0, or NaN */
  size_t n_nll = 0;
  float *nll = ms_recording_segment_nll (rec, run, 0, &n_nll, &error);
  if (nll)
    {
      for (size_t i = 0; i < n_nll; i++)
        g_assert (isnan (nll[i]) || (isfinite (nll[i]) && nll[i] >= 0));
      g_free (nll);
    }
  else
    expect_message (g_steal_pointer (&error));

  for (int kind = 0; kind < MS_VIEW_N_KINDS; kind++)
    {
      const MsViewInfo *info = ms_view_info (kind);
      MsViewParams params = MS_VIEW_PARAMS_DEFAULT;
      if (!(info->params & MS_VIEW_USES_SEGMENT))
        {
          load (rec, run->id, kind, &params);
          /* a zoomed window drawn 5 columns wide, as the workbench asks */
          params.first = 1;
          params.last = 9;
          params.max_cols = 5;
          params.max_rows = 5;
          params.slot = 1;
          load (rec, run->id, kind, &params);
          if (info->params & MS_VIEW_USES_HORIZON)
            {
              /* sources counted back from each segment, whole run and zoomed */
              params.horizon = 3;
              load (rec, run->id, kind, &params);
              params = (MsViewParams) MS_VIEW_PARAMS_DEFAULT;
              params.horizon = 2;
              load (rec, run->id, kind, &params);
            }
          continue;
        }
      /* the last segment's last layer averaged over heads (what the
       * workbench shows first), the first of each, and past the first */
      int n_layers = ms_view_n_layers (&run->config, kind);
      const int picks[][3] = { { -1, -1, -1 }, { 0, 0, 0 }, { 1, n_layers - 1, 1 } };
      for (guint p = 0; p < G_N_ELEMENTS (picks); p++)
        {
          params.segment = picks[p][0];
          params.layer = picks[p][1];
          params.head = picks[p][2];
          load (rec, run->id, kind, &params);
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  MsRecording *rec = ms_recording_open_image (data, size, "fuzz-input", &error);
  if (!rec)
    {
      expect_message (error);
      return 0;
    }
  GPtrArray *runs = ms_recording_list_runs (rec, &error);
  if (!runs)
    expect_message (g_steal_pointer (&error));
  else
    {
      for (guint i = 0; i < runs->len; i++)
        read_run (rec, g_ptr_array_index (runs, i));
      g_ptr_array_unref (runs);
    }
  /* a run id the file may not hold */
  MsRunInfo *missing = ms_recording_get_run (rec, 1000, &error);
  if (missing)
    ms_run_info_free (missing);
  else
    expect_message (g_steal_pointer (&error));
  ms_recording_close (rec);
  return 0;
}
