/* memscope-text-pane-loading.c — the text pane's text: the run's input
 * cut into that run's segments, read on a worker thread (a TextJob, keyed
 * by the run and its segment length, so a run still recording is read
 * again only when that changes), made valid UTF-8 segment by segment, and
 * the current segment's highlight.  The main thread only shows what the
 * job returns. */
#include "memscope-text-pane-private.h"

#include "memscope-task.h"
#include "ms-model.h"
#include "ms-recording.h"
#include "ms-text.h"

/* ---- text as valid UTF-8, and where each byte went ---- */

/* Appends @len bytes at @bytes to @out as valid UTF-8, each byte that
 * begins no valid character (NUL included) as U+FFFD, and returns the
 * characters appended.  @starts_before (may be NULL; @len + 1 entries)
 * receives, for each byte offset b, how many of those characters begin
 * before b: token [s, e) of the bytes covers characters
 * [starts_before[s + 1] − 1, starts_before[e]). */
int
_memscope_text_pane_append_valid (GString *out, const char *bytes, gsize len, int *starts_before)
{
  int chars = 0;
  if (starts_before)
    starts_before[0] = 0;
  for (gsize b = 0; b < len;)
    {
      gunichar c = bytes[b] ? g_utf8_get_char_validated (bytes + b, (gssize) (len - b)) : (gunichar) -1;
      gsize k = c < (gunichar) -2 ? (gsize) g_utf8_skip[(guchar) bytes[b]] : 1;
      if (c < (gunichar) -2)
        g_string_append_len (out, bytes + b, (gssize) k);
      else
        g_string_append (out, "\xef\xbf\xbd");
      for (gsize i = 1; starts_before && i <= k; i++)
        starts_before[b + i] = chars + 1;
      chars++;
      b += k;
    }
  return chars;
}

/* ---- the text, read on a worker thread ---- */

typedef struct {
  char *input_path;
  char *model_path;            /* whose tokenizer cut the input into segments */
  char *recording_path;        /* NULL until the run has a recording */
  gint64 run_id;
  int segment_len, segments_done;
  char *key;                   /* which run and segment length it is for */
  GString *text;               /* the result … */
  GArray *offsets;             /* … and the character offset of each segment start, then the end */
} TextJob;

static void
text_job_free (TextJob *job)
{
  g_free (job->input_path);
  g_free (job->model_path);
  g_free (job->recording_path);
  g_free (job->key);
  if (job->text)
    g_string_free (job->text, TRUE);
  if (job->offsets)
    g_array_unref (job->offsets);
  g_free (job);
}

static void
append_piece (TextJob *job, const char *bytes, gsize len, int *offset)
{
  g_array_append_val (job->offsets, *offset);
  *offset += _memscope_text_pane_append_valid (job->text, bytes, len, NULL);
}

/* Cuts the input file into segments of the model's tokens, as the
 * recorder does (ms-text.h), appending each segment's text; FALSE when the
 * model's tokenizer or the input cannot be read. */
static gboolean
append_input_segments (TextJob *job, int *offset)
{
  if (!job->input_path || !job->model_path)
    return FALSE;
  g_autoptr (MsTokenizer) tokenizer = ms_model_file_tokenizer (job->model_path, NULL);
  g_autoptr (MsTextReader) reader = tokenizer ? ms_text_reader_open (job->input_path, tokenizer, NULL) : NULL;
  if (!reader)
    return FALSE;
  g_autofree int32_t *ids = g_new (int32_t, job->segment_len);
  gssize n;
  while ((n = ms_text_reader_read (reader, ids, (size_t) job->segment_len, NULL)) > 0)
    {
      size_t len = 0;
      const uint8_t *text = ms_text_reader_get_text (reader, &len, NULL);
      append_piece (job, (const char *) text, len, offset);
    }
  return n == 0;
}

/* Builds the text with one offset per segment start, each segment's bytes
 * made valid UTF-8 on their own (a segment may end inside a character):
 * from the input file cut by the model's tokenizer, or, when either is
 * gone, from the segments' texts the recording keeps. */
static void
text_job_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  TextJob *job = data;
  job->text = g_string_new (NULL);
  job->offsets = g_array_new (FALSE, FALSE, sizeof (int));
  int offset = 0;
  if (!append_input_segments (job, &offset) && job->recording_path)
    {
      g_string_truncate (job->text, 0);   /* a reader that failed part way */
      g_array_set_size (job->offsets, 0);
      offset = 0;
      g_autoptr (MsRecording) rec = ms_recording_open (job->recording_path, NULL);
      for (int t = 0; rec && t < job->segments_done; t++)
        {
          g_autoptr (GBytes) bytes = ms_recording_segment_text (rec, job->run_id, t, NULL);
          gsize len = 0;
          const char *text = bytes ? g_bytes_get_data (bytes, &len) : "";
          append_piece (job, text, len, &offset);
        }
    }
  g_array_append_val (job->offsets, offset);
  g_task_return_boolean (task, TRUE);
}

/* Main thread: shows the text, unless the run changed meanwhile. */
static void
text_job_done (GObject *object, GAsyncResult *result, gpointer data)
{
  MemscopeTextPane *self = MEMSCOPE_TEXT_PANE (object);
  TextJob *job = g_task_get_task_data (G_TASK (result));
  if (self->disposed || g_strcmp0 (job->key, self->text_loading) != 0)
    return;   /* gone, or superseded */
  g_clear_pointer (&self->text_loading, g_free);
  g_array_set_size (self->segment_offsets, 0);
  g_array_append_vals (self->segment_offsets, job->offsets->data, job->offsets->len);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), job->text->str, (int) job->text->len);
  self->tagged_start = self->tagged_end = 0;
  g_free (self->text_key);
  self->text_key = g_strdup (job->key);
  _memscope_text_pane_update_highlight (self);
  _memscope_text_pane_update_tokens (self);
}

/* Shows the input text of the run shown (read on a worker thread) unless
 * it is shown or being read already. */
void
_memscope_text_pane_update_text (MemscopeTextPane *self)
{
  MemscopeRun *run = _memscope_text_pane_shown_run (self);
  int seg_len = run ? memscope_run_get_segment_len (run) : 0;
  g_autofree char *key = run ? g_strdup_printf ("%p/%d", (void *) run, seg_len) : NULL;
  if (g_strcmp0 (key, self->text_key) == 0 || (key && g_strcmp0 (key, self->text_loading) == 0))
    return;
  g_clear_pointer (&self->text_loading, g_free);
  g_array_set_size (self->segment_offsets, 0);
  if (!run || seg_len <= 0)
    {
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), run ? "Recording…" : "", -1);
      self->tagged_start = self->tagged_end = 0;
      g_free (self->text_key);
      self->text_key = run ? NULL : g_steal_pointer (&key);
      return;
    }
  TextJob *job = g_new0 (TextJob, 1);
  job->input_path = g_strdup (memscope_run_get_input_path (run));
  job->model_path = g_strdup (memscope_run_get_model_path (run));
  job->recording_path = memscope_run_get_segments_done (run) > 0 ? g_strdup (memscope_run_get_db_path (run)) : NULL;
  job->run_id = memscope_run_get_id (run);
  job->segment_len = seg_len;
  job->segments_done = memscope_run_get_segments_done (run);
  job->key = g_strdup (key);
  self->text_loading = g_steal_pointer (&key);
  GTask *task = g_task_new (self, NULL, text_job_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) text_job_free);
  memscope_task_run_in_thread (task, text_job_run);
  g_object_unref (task);
}

/* ---- segments and the highlight ---- */

gboolean
memscope_text_pane_get_highlight (MemscopeTextPane *self, int *start, int *end)
{
  guint n = self->segment_offsets->len;
  if (n < 2 || self->segment < 0 || (guint) self->segment + 1 >= n)
    return FALSE;
  *start = g_array_index (self->segment_offsets, int, self->segment);
  *end = g_array_index (self->segment_offsets, int, self->segment + 1);
  return TRUE;
}

int
memscope_text_pane_segment_at_offset (MemscopeTextPane *self, int offset)
{
  guint n = self->segment_offsets->len;
  if (n < 2 || offset < 0 || offset >= g_array_index (self->segment_offsets, int, n - 1))
    return -1;
  /* the offsets rise: a binary search for the last start ≤ offset */
  guint lo = 0, hi = n - 1;
  while (hi - lo > 1)
    {
      guint mid = (lo + hi) / 2;
      if (g_array_index (self->segment_offsets, int, mid) <= offset)
        lo = mid;
      else
        hi = mid;
    }
  return (int) lo;
}

void
_memscope_text_pane_update_highlight (MemscopeTextPane *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter s, e;
  gtk_text_buffer_get_bounds (buffer, &s, &e);
  gtk_text_buffer_remove_tag_by_name (buffer, "current", &s, &e);
  int a, b;
  if (!memscope_text_pane_get_highlight (self, &a, &b))
    return;
  gtk_text_buffer_get_iter_at_offset (buffer, &s, a);
  gtk_text_buffer_get_iter_at_offset (buffer, &e, b);
  gtk_text_buffer_apply_tag_by_name (buffer, "current", &s, &e);
  GtkTextMark *mark = gtk_text_buffer_get_mark (buffer, "current-start");
  gtk_text_buffer_move_mark (buffer, mark, &s);
  gtk_text_view_scroll_to_mark (self->text_view, mark, 0.1, FALSE, 0, 0);
}
