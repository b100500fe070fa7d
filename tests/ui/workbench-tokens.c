/* workbench-tokens.c — the text pane of a model with a BPE tokenizer: its
 * segments are the recorder's, cut by the model's tokens, not by bytes. */
#include <string.h>

#include "ms-recording.h"
#include "workbench-test.h"

void
test_bpe_text_pane (void)
{
  g_autofree char *model = g_build_filename (g_getenv ("MEMSCOPE_FIXTURES"), "rmt_bpe.safetensors", NULL);
  g_autofree char *input = g_build_filename (tmp_dir, "bpe-input.txt", NULL);
  GString *text = g_string_new (NULL);
  for (int i = 0; i < 12; i++)
    g_string_append_printf (text, "The memory of segment %d keeps the answer, then the next one reads it. ", i);
  g_assert_true (g_file_set_contents (input, text->str, (gssize) text->len, NULL));
  g_string_free (text, TRUE);

  MemscopeWindow *main_window = win;
  win = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (win));
  GFile *files[2] = { g_file_new_for_path (model), g_file_new_for_path (input) };
  memscope_window_open_files (win, files, 2);
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  wait_until (not_busy, "the BPE model to be recorded");
  settle ();
  g_assert_null (memscope_window_get_error (win));
  MemscopeRun *a = memscope_window_get_run_a (win);
  g_assert_cmpint (memscope_run_get_status (a), ==, MS_RUN_COMPLETE);
  int n = memscope_run_get_segments_done (a), segment_len = memscope_run_get_segment_len (a);
  g_assert_cmpint (n, >, 2);

  /* each segment's highlight covers exactly the text the recording holds
   * for it; the tokens join bytes, so the segments are longer than
   * segment_len bytes (cutting by bytes would put them elsewhere) */
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (memscope_run_get_db_path (a), &error);
  g_assert_no_error (error);
  int expected_start = 0, longer = 0;
  for (int t = 0; t < n; t++)
    {
      g_autoptr (GBytes) bytes = ms_recording_segment_text (rec, memscope_run_get_id (a), t, &error);
      g_assert_no_error (error);
      gsize len = 0;
      const char *segment_text = g_bytes_get_data (bytes, &len);
      longer += len > (gsize) segment_len;
      g_autofree char *valid = g_utf8_make_valid (segment_text, (gssize) len);
      activate ("segment", g_variant_new_int32 (t));
      int start, end;
      g_assert_true (memscope_window_get_highlight (win, &start, &end));
      g_assert_cmpint (start, ==, expected_start);
      g_assert_cmpint (end - start, ==, g_utf8_strlen (valid, -1));
      expected_start = end;
    }
  g_assert_cmpint (longer, >, 0);

  /* the pane's tokens are the recording's: they tile the segment, each
   * over the text of its bytes, fewer than its characters; both underline
   * colours are drawn */
  activate ("segment", g_variant_new_int32 (1));
  MemscopeTextPane *pane = memscope_window_get_text_pane (win);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, memscope_run_get_id (a), &error);
  g_assert_no_error (error);
  size_t n_tokens = 0;
  g_autofree MsToken *tokens = ms_recording_segment_tokens (rec, info, 1, &n_tokens, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) seg_bytes = ms_recording_segment_text (rec, info->id, 1, &error);
  g_assert_no_error (error);
  const char *seg_text = g_bytes_get_data (seg_bytes, NULL);
  int start, end;
  g_assert_true (memscope_window_get_highlight (win, &start, &end));
  g_assert_cmpint (memscope_text_pane_get_n_tokens (pane), ==, (int) n_tokens);
  g_assert_cmpint ((int) n_tokens, <, end - start);
  GtkTextBuffer *buffer = memscope_window_get_text_buffer (win);
  int at = start;
  for (int j = 0; j < (int) n_tokens; j++)
    {
      int s, e;
      g_assert_true (memscope_text_pane_get_token_range (pane, j, &s, &e));
      g_assert_cmpint (s, ==, at);
      g_assert_cmpint (e, >, s);
      GtkTextIter is, ie;
      gtk_text_buffer_get_iter_at_offset (buffer, &is, s);
      gtk_text_buffer_get_iter_at_offset (buffer, &ie, e);
      g_autofree char *shown = gtk_text_buffer_get_text (buffer, &is, &ie, FALSE);
      g_autofree char *stored = g_strndup (seg_text + tokens[j].start, tokens[j].end - tokens[j].start);
      g_assert_cmpstr (shown, ==, stored);   /* the input is ASCII */
      at = e;
    }
  g_assert_cmpint (at, ==, end);
  GtkWidget *view = GTK_WIDGET (memscope_text_pane_get_text_view (pane));
  g_autoptr (Shot) shot = screenshot (view, "text-tokens-bpe");
  int under[2] = { 0, 0 };
  for (gsize i = 0; i < (gsize) shot->width * shot->height; i++)
    {
      under[0] += (shot->pixels[i] & 0xffffff) == 0x1c71d8;
      under[1] += (shot->pixels[i] & 0xffffff) == 0xc061cb;
    }
  g_assert_cmpint (under[0], >, 10);
  g_assert_cmpint (under[1], >, 10);

  gtk_window_destroy (GTK_WINDOW (win));
  win = main_window;
  settle ();
}
