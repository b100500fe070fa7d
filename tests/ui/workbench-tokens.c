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

  gtk_window_destroy (GTK_WINDOW (win));
  win = main_window;
  settle ();
}
