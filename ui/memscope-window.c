/* memscope-window.c — the workbench window: opening, recording, the
 * timeline, the views and the input text. */
#include "memscope-window-private.h"

#include "memscope-application.h"
#include "memscope-squeezer.h"
#include "memscope-task.h"
#include "ms-model.h"
#include "ms-recording.h"
#include "ms-text.h"

#include <math.h>
#include <string.h>


G_DEFINE_FINAL_TYPE (MemscopeWindow, memscope_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_RUN_A,
  PROP_RUN_B,
  PROP_COMPARED_RUN,
  PROP_COMPARE,
  PROP_DIFFERENCE,
  PROP_SEGMENT,
  PROP_SLOT,
  PROP_LAYER,
  PROP_HEAD,
  PROP_COLORMAP,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

const char *
memscope_data_dir (void)
{
  const char *env = g_getenv ("MEMSCOPE_DATA_DIR");
  return env && *env ? env : MEMSCOPE_RESOURCES_DIR;
}

/* ---- state → widgets ---- */

MemscopeRun *
memscope_window_get_run_a (MemscopeWindow *self)
{
  return self->run_a;
}

MemscopeRun *
memscope_window_get_run_b (MemscopeWindow *self)
{
  return self->run_b != self->run_a ? self->run_b : NULL;
}

int
memscope_window_get_n_segments (MemscopeWindow *self)
{
  MemscopeRun *a = memscope_window_get_run_a (self);
  return a ? memscope_run_get_segments_done (a) : 0;
}

/* Reading the input text of run A, on a worker thread. */
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
  g_autofree char *piece = g_utf8_make_valid (bytes, len);
  g_array_append_val (job->offsets, *offset);
  *offset += g_utf8_strlen (piece, -1);
  g_string_append (job->text, piece);
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
 * gone, from the segments' texts the recording keeps (read on a connection
 * of its own). */
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

static void update_highlight (MemscopeWindow *self);
static void on_speed_changed (GtkDropDown *drop, GParamSpec *pspec, MemscopeWindow *self);
static void update_token_colours (MemscopeWindow *self);

/* Main thread: shows the text, unless the runs changed meanwhile. */
static void
text_job_done (GObject *object, GAsyncResult *result, gpointer data)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  TextJob *job = g_task_get_task_data (G_TASK (result));
  if (!self->runs || g_strcmp0 (job->key, self->text_loading) != 0)
    return;   /* closed, or superseded */
  g_clear_pointer (&self->text_loading, g_free);
  g_array_set_size (self->segment_offsets, 0);
  g_array_append_vals (self->segment_offsets, job->offsets->data, job->offsets->len);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), job->text->str, (int) job->text->len);
  self->coloured_start = self->coloured_end = 0;
  g_free (self->text_run_key);
  self->text_run_key = g_strdup (job->key);
  update_highlight (self);
  update_token_colours (self);
}

/* Shows the input text of run A (read on a worker thread). */
static void
update_text (MemscopeWindow *self)
{
  MemscopeRun *a = memscope_window_get_run_a (self);
  int seg_len = a ? memscope_run_get_segment_len (a) : 0;
  g_autofree char *key = a ? g_strdup_printf ("%p/%d", (void *) a, seg_len) : NULL;
  if (g_strcmp0 (key, self->text_run_key) == 0 || (key && g_strcmp0 (key, self->text_loading) == 0))
    return;
  g_clear_pointer (&self->text_loading, g_free);
  g_array_set_size (self->segment_offsets, 0);
  if (!a || seg_len <= 0)
    {
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), a ? "Recording…" : "", -1);
      self->coloured_start = self->coloured_end = 0;
      g_free (self->text_run_key);
      self->text_run_key = a ? NULL : g_steal_pointer (&key);
      return;
    }
  TextJob *job = g_new0 (TextJob, 1);
  job->input_path = g_strdup (memscope_run_get_input_path (a));
  job->model_path = g_strdup (memscope_run_get_model_path (a));
  job->recording_path = memscope_run_get_segments_done (a) > 0 ? g_strdup (memscope_run_get_db_path (a)) : NULL;
  job->run_id = memscope_run_get_id (a);
  job->segment_len = seg_len;
  job->segments_done = memscope_run_get_segments_done (a);
  job->key = g_strdup (key);
  self->text_loading = g_steal_pointer (&key);
  GTask *task = g_task_new (self, NULL, text_job_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) text_job_free);
  memscope_task_run_in_thread (task, text_job_run);
  g_object_unref (task);
}

gboolean
memscope_window_get_highlight (MemscopeWindow *self, int *start, int *end)
{
  guint n = self->segment_offsets->len;
  if (n < 2 || self->segment < 0 || (guint) self->segment + 1 >= n)
    return FALSE;
  *start = g_array_index (self->segment_offsets, int, self->segment);
  *end = g_array_index (self->segment_offsets, int, self->segment + 1);
  return TRUE;
}

int
memscope_window_segment_at_offset (MemscopeWindow *self, int offset)
{
  guint n = self->segment_offsets->len;
  for (guint t = 0; t + 1 < n; t++)
    if (offset >= g_array_index (self->segment_offsets, int, t)
        && offset < g_array_index (self->segment_offsets, int, t + 1))
      return (int) t;
  return -1;
}

/* The character offset of the text at widget point (@x, @y), −1 off the text. */
static int
text_offset_at (MemscopeWindow *self, double x, double y)
{
  int bx, by;
  gtk_text_view_window_to_buffer_coords (self->text_view, GTK_TEXT_WINDOW_WIDGET, (int) x, (int) y, &bx, &by);
  GtkTextIter iter;
  if (!gtk_text_view_get_iter_at_location (self->text_view, &iter, bx, by))
    return -1;
  return gtk_text_iter_get_offset (&iter);
}

gboolean
memscope_window_find_text (MemscopeWindow *self, const char *text, gboolean next)
{
  if (!text || !*text)
    return FALSE;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter from, match_start, match_end, sel_start, sel_end;
  gtk_text_buffer_get_start_iter (buffer, &from);
  if (next && gtk_text_buffer_get_selection_bounds (buffer, &sel_start, &sel_end))
    {
      from = sel_start;
      gtk_text_iter_forward_char (&from);
    }
  if (!gtk_text_iter_forward_search (&from, text, 0, &match_start, &match_end, NULL))
    {
      gtk_text_buffer_get_start_iter (buffer, &from);   /* wrap around */
      if (!gtk_text_iter_forward_search (&from, text, 0, &match_start, &match_end, NULL))
        return FALSE;
    }
  gtk_text_buffer_select_range (buffer, &match_start, &match_end);
  gtk_text_view_scroll_to_iter (self->text_view, &match_start, 0.1, FALSE, 0, 0);
  int t = memscope_window_segment_at_offset (self, gtk_text_iter_get_offset (&match_start));
  if (t >= 0)
    memscope_window_set_segment (self, t);
  return TRUE;
}

static void
on_search_changed (GtkSearchEntry *entry, MemscopeWindow *self)
{
  memscope_window_find_text (self, gtk_editable_get_text (GTK_EDITABLE (entry)), FALSE);
}

static void
on_search_activate (GtkSearchEntry *entry, MemscopeWindow *self)
{
  memscope_window_find_text (self, gtk_editable_get_text (GTK_EDITABLE (entry)), TRUE);
}

/* Clicking the text steps to the segment clicked. */
static void
on_text_clicked (GtkGestureClick *gesture, int n_press, double x, double y, MemscopeWindow *self)
{
  int t = memscope_window_segment_at_offset (self, text_offset_at (self, x, y));
  if (t >= 0)
    memscope_window_set_segment (self, t);
}

char *
memscope_window_describe_text_at (MemscopeWindow *self, int offset)
{
  int t = memscope_window_segment_at_offset (self, offset);
  if (t < 0)
    return NULL;
  int j = offset - g_array_index (self->segment_offsets, int, t);
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "Segment %d, character %d", t, j);
  if (self->token_values && offset >= self->coloured_start && offset < self->coloured_end)
    {
      float v = self->token_values[offset - self->coloured_start];
      if (self->token_slot >= 0)
        g_string_append_printf (s, "\nwritten into slot %d: %.3f", self->token_slot, v);
      else
        g_string_append_printf (s, "\nreads memory: %.3f", v);
    }
  if (t != self->segment)
    g_string_append (s, "\nClick to step to this segment.");
  return g_string_free (s, FALSE);
}

static gboolean
on_text_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, MemscopeWindow *self)
{
  if (keyboard)
    return FALSE;
  g_autofree char *text = memscope_window_describe_text_at (self, text_offset_at (self, x, y));
  if (!text)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
update_highlight (MemscopeWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter s, e;
  gtk_text_buffer_get_bounds (buffer, &s, &e);
  gtk_text_buffer_remove_tag_by_name (buffer, "current", &s, &e);
  int a, b;
  if (!memscope_window_get_highlight (self, &a, &b))
    return;
  gtk_text_buffer_get_iter_at_offset (buffer, &s, a);
  gtk_text_buffer_get_iter_at_offset (buffer, &e, b);
  gtk_text_buffer_apply_tag_by_name (buffer, "current", &s, &e);
  GtkTextMark *mark = gtk_text_buffer_get_mark (buffer, "current-start");
  gtk_text_buffer_move_mark (buffer, mark, &s);
  gtk_text_view_scroll_to_mark (self->text_view, mark, 0.1, FALSE, 0, 0);
}

#define N_TOKEN_TAGS 5

/* One value per token of segment @segment of run @run_id in the recording
 * at @path, for colouring the text (ms_view_token_values): with slot @slot
 * (≥ 0), how much of each token was written into it; without, how strongly
 * each token reads memory.  Last layer, mean over heads.  Owned, NULL when
 * there is nothing to colour; @what names the quantity.  Opens its own
 * connection: runs on a worker thread. */
static float *
token_values (const char *path, gint64 run_id, int segment, int slot, int n_chars, const char **what)
{
  g_autoptr (MsRecording) rec = ms_recording_open (path, NULL);
  if (!rec)
    return NULL;
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.segment = segment;
  g_autoptr (MsViewData) v = ms_view_load (rec, run_id, slot >= 0 ? MS_VIEW_WRITE : MS_VIEW_READ, &p, NULL);
  int n = 0;
  float *values = v ? ms_view_token_values (v, slot, &n, what) : NULL;
  if (values && n != n_chars)   /* tokens are bytes: one character each */
    g_clear_pointer (&values, g_free);
  return values;
}

typedef struct {
  char *path;
  gint64 run_id;
  int segment, slot, start, end;   /* the segment's characters in the text: [start, end) */
  guint serial;
  float *values;                   /* the result, NULL: nothing to colour */
  const char *what;
} TokenJob;

static void
token_job_free (TokenJob *job)
{
  g_free (job->path);
  g_free (job->values);
  g_free (job);
}

static void
token_job_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  TokenJob *job = data;
  job->values = token_values (job->path, job->run_id, job->segment, job->slot, job->end - job->start, &job->what);
  g_task_return_boolean (task, TRUE);
}

/* Removes the token colours from the characters that have them. */
static void
clear_token_colours (MemscopeWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter s, e;
  gtk_text_buffer_get_iter_at_offset (buffer, &s, self->coloured_start);
  gtk_text_buffer_get_iter_at_offset (buffer, &e, self->coloured_end);
  for (int k = 0; k < N_TOKEN_TAGS && self->coloured_end > self->coloured_start; k++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "write-%d", k);
      gtk_text_buffer_remove_tag_by_name (buffer, name, &s, &e);
      g_snprintf (name, sizeof name, "read-%d", k);
      gtk_text_buffer_remove_tag_by_name (buffer, name, &s, &e);
    }
  self->coloured_start = self->coloured_end = 0;
  g_clear_pointer (&self->token_values, g_free);
}

/* Main thread: colours the segment's tokens in N_TOKEN_TAGS steps relative
 * to its largest value, unless a newer selection asked for others. */
static void
token_job_done (GObject *object, GAsyncResult *result, gpointer data)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  TokenJob *job = g_task_get_task_data (G_TASK (result));
  if (!self->runs || job->serial != self->token_serial)
    return;   /* closed, or superseded */
  self->token_shown = job->serial;
  clear_token_colours (self);
  /* comparing, the text is run A's: say so */
  g_autofree char *caption = job->values && self->compared
                               ? g_strdup_printf ("Run A (%s): %s", memscope_run_get_name (self->run_a), job->what)
                               : g_strdup (job->values ? job->what : "");
  gtk_label_set_text (self->text_legend, caption);
  if (!job->values)
    return;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  const char *prefix = job->slot >= 0 ? "write" : "read";
  int n = job->end - job->start;
  float top = 0;
  for (int j = 0; j < n; j++)
    top = isnan (job->values[j]) ? top : MAX (top, job->values[j]);
  for (int j = 0; top > 0 && j < n; j++)
    {
      int k = isnan (job->values[j]) ? -1 : MIN ((int) (job->values[j] / top * N_TOKEN_TAGS), N_TOKEN_TAGS - 1);
      if (k < 1)
        continue;   /* the weakest step stays uncoloured */
      char name[16];
      g_snprintf (name, sizeof name, "%s-%d", prefix, k);
      GtkTextIter s, e;
      gtk_text_buffer_get_iter_at_offset (buffer, &s, job->start + j);
      gtk_text_buffer_get_iter_at_offset (buffer, &e, job->start + j + 1);
      gtk_text_buffer_apply_tag_by_name (buffer, name, &s, &e);
    }
  self->coloured_start = job->start, self->coloured_end = job->end;
  g_free (self->token_values);
  self->token_values = g_steal_pointer (&job->values);
  self->token_slot = job->slot;
}

/* Colours the current segment's tokens: the values load on a worker
 * thread, the newest request wins. */
static void
update_token_colours (MemscopeWindow *self)
{
  self->token_serial++;
  MemscopeRun *a = memscope_window_get_run_a (self);
  int start, end;
  if (!a || !memscope_run_get_db_path (a) || memscope_run_get_segments_done (a) == 0
      || !memscope_window_get_highlight (self, &start, &end))
    {
      self->token_shown = self->token_serial;
      clear_token_colours (self);
      gtk_label_set_text (self->text_legend, "");
      return;
    }
  TokenJob *job = g_new0 (TokenJob, 1);
  job->path = g_strdup (memscope_run_get_db_path (a));
  job->run_id = memscope_run_get_id (a);
  job->segment = self->segment;
  job->slot = self->slot < memscope_run_get_n_slots (a) ? self->slot : -1;
  job->start = start, job->end = end;
  job->serial = self->token_serial;
  GTask *task = g_task_new (self, NULL, token_job_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) token_job_free);
  memscope_task_run_in_thread (task, token_job_run);
  g_object_unref (task);
}

static void
update_timeline (MemscopeWindow *self)
{
  int n = memscope_window_get_n_segments (self);
  /* the value follows "segment" through its binding */
  gtk_adjustment_set_upper (self->segment_adjustment, MAX (n - 1, 0));
  g_autofree char *label = n > 0 ? g_strdup_printf ("segment %d of %d", self->segment, n) : g_strdup ("no segments");
  gtk_label_set_text (self->segment_label, label);
  g_autofree char *sel = self->slot >= 0 ? g_strdup_printf ("selected slot %d", self->slot) : g_strdup ("");
  gtk_label_set_text (self->selection_label, sel);
}

/* What shows the segment and the slot besides the views (which follow
 * their bindings). */
static void
update_selection (MemscopeWindow *self)
{
  if (!self->runs)
    return;   /* closing */
  update_timeline (self);
  update_highlight (self);
  update_token_colours (self);
  memscope_window_sync_actions (self);
}

void
_memscope_window_update_progress (MemscopeWindow *self)
{
  int done = 0, total = 0, busy = 0;
  const char *name = NULL;
  for (guint i = 0; i < memscope_window_get_n_runs (self); i++)
    {
      MemscopeRun *run = memscope_window_get_run (self, i);
      if (memscope_run_get_status (run) != MS_RUN_RECORDING)
        continue;
      busy++;
      name = name ? name : memscope_run_get_name (run);
      done += memscope_run_get_segments_done (run);
      total += MAX (memscope_run_get_n_segments (run), memscope_run_get_segments_done (run) + 1);
    }
  gtk_revealer_set_reveal_child (self->progress_revealer, busy > 0);
  memscope_window_sync_actions (self);
  if (!busy)
    return;
  g_autofree char *text = busy > 1 ? g_strdup_printf ("Recording %d runs: %d of %d segments", busy, done, total)
                                   : g_strdup_printf ("Recording %s: %d of %d segments", name, done, total);
  gtk_label_set_text (self->progress_label, text);
  gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? (double) done / total : 0.0);
}

/* Layer and head choices for the runs shown: "last"/"mean", then indices. */
static void
update_attention_choices (MemscopeWindow *self)
{
  int layers = 0, heads = 0;
  MemscopeRun *shown[2] = { memscope_window_get_run_a (self), memscope_window_get_run_b (self) };
  for (int i = 0; i < 2; i++)
    if (shown[i])
      {
        layers = MAX (layers, memscope_run_get_n_layers (shown[i]));
        heads = MAX (heads, memscope_run_get_n_heads (shown[i]));
      }
  GtkDropDown *drops[2] = { self->layer_dropdown, self->head_dropdown };
  int counts[2] = { layers, heads };
  const char *first[2] = { "last", "mean" };
  for (int d = 0; d < 2; d++)
    {
      GListModel *model = gtk_drop_down_get_model (drops[d]);
      if (model && (int) g_list_model_get_n_items (model) == counts[d] + 1)
        continue;
      guint keep = gtk_drop_down_get_selected (drops[d]);
      g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
      gtk_string_list_append (list, first[d]);
      for (int i = 0; i < counts[d]; i++)
        {
          char buf[16];
          g_snprintf (buf, sizeof buf, "%d", i);
          gtk_string_list_append (list, buf);
        }
      gtk_drop_down_set_model (drops[d], G_LIST_MODEL (list));
      gtk_drop_down_set_selected (drops[d], keep != GTK_INVALID_LIST_POSITION && keep <= (guint) counts[d] ? keep : 0);
    }
}

/* Run A, run B or Compare changed: the compared run, the text and the
 * choices that depend on the runs shown. */
/* The title names what is shown: run A, or run A and run B compared. */
static void
update_title (MemscopeWindow *self)
{
  MemscopeRun *a = memscope_window_get_run_a (self);
  g_autofree char *title = !a ? g_strdup ("Memscope")
                           : self->compared ? g_strdup_printf ("%s vs %s — Memscope", memscope_run_get_name (a),
                                                                memscope_run_get_name (self->compared))
                                            : g_strdup_printf ("%s — Memscope", memscope_run_get_name (a));
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static void
runs_shown_changed (MemscopeWindow *self)
{
  if (!self->runs)
    return;   /* closing */
  MemscopeRun *compared = self->compare ? memscope_window_get_run_b (self) : NULL;
  if (g_set_object (&self->compared, compared))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COMPARED_RUN]);
  update_title (self);
  update_text (self);
  update_attention_choices (self);
  update_selection (self);
}

void
_memscope_window_set_run_a (MemscopeWindow *self, MemscopeRun *run)
{
  if (!self->runs)
    return;   /* closing */
  if (!g_set_object (&self->run_a, run))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUN_A]);
  runs_shown_changed (self);
}

void
_memscope_window_set_run_b (MemscopeWindow *self, MemscopeRun *run)
{
  if (!self->runs)
    return;   /* closing */
  if (!g_set_object (&self->run_b, run))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUN_B]);
  runs_shown_changed (self);
}

/* While a run records, views reload at most this often: often enough to
 * follow it, seldom enough that reloading is not all the window does. */
#define REFRESH_INTERVAL_MS 200

/* New segments arrived: reload what the views show, at most every
 * REFRESH_INTERVAL_MS. */
gboolean
_memscope_window_refresh_now (gpointer data)
{
  MemscopeWindow *self = data;
  self->refresh_source = 0;
  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    memscope_figure_view_invalidate (self->views[i]);
  update_text (self);
  update_attention_choices (self);
  _memscope_window_update_progress (self);
  update_selection (self);
  return G_SOURCE_REMOVE;
}

void
_memscope_window_schedule_refresh (MemscopeWindow *self)
{
  if (!self->refresh_source)
    self->refresh_source = g_timeout_add (REFRESH_INTERVAL_MS, _memscope_window_refresh_now, self);
}

/* ---- public state ---- */

void
memscope_window_set_segment (MemscopeWindow *self, int segment)
{
  int n = memscope_window_get_n_segments (self);
  segment = CLAMP (segment, 0, MAX (n - 1, 0));
  if (segment == self->segment)
    return;
  self->segment = segment;
  update_timeline (self);   /* the adjustment's range before its value */
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SEGMENT]);
  update_selection (self);
}

void
memscope_window_set_slot (MemscopeWindow *self, int slot)
{
  slot = MAX (slot, -1);
  if (slot == self->slot)
    return;
  self->slot = slot;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SLOT]);
  update_selection (self);
}

static void
set_int (MemscopeWindow *self, int *field, int value, int prop)
{
  value = MAX (value, -1);
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

static void
set_colormap (MemscopeWindow *self, MsColormap cmap)
{
  if (cmap == self->cmap)
    return;
  self->cmap = cmap;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COLORMAP]);
}

int memscope_window_get_segment (MemscopeWindow *self) { return self->segment; }
gboolean
memscope_window_get_text_loading (MemscopeWindow *self)
{
  return self->text_loading != NULL || self->token_shown != self->token_serial;
}
int memscope_window_get_slot (MemscopeWindow *self) { return self->slot; }
guint memscope_window_get_n_runs (MemscopeWindow *self) { return self->runs ? g_list_model_get_n_items (G_LIST_MODEL (self->runs)) : 0; }

MemscopeRun *
memscope_window_get_run (MemscopeWindow *self, guint i)
{
  g_autoptr (MemscopeRun) run = g_list_model_get_item (G_LIST_MODEL (self->runs), i);
  return run;   /* the store keeps its reference */
}
GSettings *memscope_window_get_settings (MemscopeWindow *self) { return self->settings; }
gboolean memscope_window_get_compare (MemscopeWindow *self) { return self->compare; }
gboolean memscope_window_get_difference (MemscopeWindow *self) { return self->difference; }
GtkTextBuffer *memscope_window_get_text_buffer (MemscopeWindow *self) { return gtk_text_view_get_buffer (self->text_view); }
const char *memscope_window_get_error (MemscopeWindow *self) { return self->error; }
const char *memscope_window_get_text_caption (MemscopeWindow *self) { return gtk_label_get_text (self->text_legend); }

MemscopeFigureView *
memscope_window_get_view (MemscopeWindow *self, MsViewKind kind)
{
  return self->views[kind];
}

MemscopeFigureView *
memscope_window_get_visible_view (MemscopeWindow *self)
{
  return MEMSCOPE_FIGURE_VIEW (gtk_stack_get_visible_child (self->view_stack));
}

void
memscope_window_set_compare (MemscopeWindow *self, gboolean compare, gboolean difference)
{
  compare = !!compare;
  difference = compare && difference;
  g_object_freeze_notify (G_OBJECT (self));
  if (compare != self->compare)
    {
      self->compare = compare;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COMPARE]);
    }
  if (difference != self->difference)
    {
      self->difference = difference;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DIFFERENCE]);
    }
  runs_shown_changed (self);
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
memscope_window_is_busy (MemscopeWindow *self)
{
  if (self->opening > 0)
    return TRUE;
  for (guint i = 0; i < memscope_window_get_n_runs (self); i++)
    if (memscope_run_get_status (memscope_window_get_run (self, i)) == MS_RUN_RECORDING)
      return TRUE;
  return FALSE;
}

void
memscope_window_show_error (MemscopeWindow *self, const char *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  if (message)
    gtk_label_set_text (self->error_label, message);
  gtk_revealer_set_reveal_child (self->error_revealer, message != NULL);
}

void
memscope_window_cancel (MemscopeWindow *self)
{
  g_cancellable_cancel (self->cancellable);
  g_object_unref (self->cancellable);
  self->cancellable = g_cancellable_new ();
}

/* ---- bindings between the controls and the state ---- */

static char *
run_label (MemscopeRun *run, gpointer data)
{
  return g_strdup (run ? memscope_run_get_name (run) : "");
}

/* A run dropdown's position ↔ the run (NULL: none). */
static gboolean
position_to_run (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  MemscopeWindow *self = data;
  guint position = g_value_get_uint (from);
  g_autoptr (MemscopeRun) run = self->runs && position != GTK_INVALID_LIST_POSITION
                                  ? g_list_model_get_item (G_LIST_MODEL (self->runs), position)
                                  : NULL;
  g_value_set_object (to, run);
  return TRUE;
}

static gboolean
run_to_position (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  MemscopeWindow *self = data;
  gpointer run = g_value_get_object (from);
  guint position;
  if (!run || !self->runs || !g_list_store_find (self->runs, run, &position))
    position = GTK_INVALID_LIST_POSITION;
  g_value_set_uint (to, position);
  return TRUE;
}

/* The layer and head dropdowns list "last"/"mean" first, then 0, 1, … */
static gboolean
position_to_index (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  guint position = g_value_get_uint (from);
  g_value_set_int (to, position == GTK_INVALID_LIST_POSITION ? -1 : (int) position - 1);
  return TRUE;
}

static gboolean
index_to_position (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  g_value_set_uint (to, (guint) (g_value_get_int (from) + 1));
  return TRUE;
}

static gboolean
value_to_segment (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  g_value_set_int (to, (int) (g_value_get_double (from) + 0.5));
  return TRUE;
}

static gboolean
segment_to_value (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  g_value_set_double (to, g_value_get_int (from));
  return TRUE;
}

/* The colormap dropdown lists the colormaps in MsColormap's order. */
static gboolean
position_to_colormap (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  guint position = g_value_get_uint (from);
  if (position > MS_COLORMAP_DIVERGING)
    return FALSE;
  g_value_set_enum (to, (int) position);
  return TRUE;
}

static gboolean
colormap_to_position (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  g_value_set_uint (to, (guint) g_value_get_enum (from));
  return TRUE;
}

static gboolean
setting_to_colormap (GValue *value, GVariant *variant, gpointer data)
{
  MsColormap cmap;
  if (!ms_colormap_from_name (g_variant_get_string (variant, NULL), &cmap, NULL))
    return FALSE;
  g_value_set_enum (value, cmap);
  return TRUE;
}

static GVariant *
colormap_to_setting (const GValue *value, const GVariantType *type, gpointer data)
{
  return g_variant_new_string (ms_colormap_to_name ((MsColormap) g_value_get_enum (value)));
}

/* ---- widget callbacks ---- */

static void
on_view_selected (MemscopeFigureView *view, int segment, int slot, MemscopeWindow *self)
{
  if (slot >= 0)
    memscope_window_set_slot (self, slot == self->slot && segment < 0 ? -1 : slot);   /* clicking the selected slot clears it */
  if (segment >= 0)
    memscope_window_set_segment (self, segment);
}

/* The layer and head choices show only on the views that use them (the
 * table of views says which); the view menu names the view. */
static void
on_visible_view_changed (GtkStack *stack, GParamSpec *pspec, MemscopeWindow *self)
{
  MemscopeFigureView *view = memscope_window_get_visible_view (self);
  MsViewUses uses = view ? ms_view_info (memscope_figure_view_get_kind (view))->params : 0;
  /* the flow box's child, so no gap is left where a group was */
  gtk_widget_set_visible (gtk_widget_get_parent (self->layer_group), (uses & MS_VIEW_USES_LAYER) != 0);
  gtk_widget_set_visible (gtk_widget_get_parent (self->head_group), (uses & MS_VIEW_USES_HEAD) != 0);
  if (view)
    gtk_menu_button_set_label (self->view_menu_button, ms_view_info (memscope_figure_view_get_kind (view))->title);
  memscope_window_sync_actions (self);
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, MemscopeWindow *self)
{
  GSList *list = g_value_get_boxed (value);
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  for (GSList *l = list; l; l = l->next)
    g_ptr_array_add (files, l->data);
  memscope_window_open_files (self, (GFile **) files->pdata, (int) files->len);
  return TRUE;
}

static gboolean
on_close_request (GtkWindow *window, gpointer data)
{
  memscope_window_save_session (MEMSCOPE_WINDOW (window));
  return FALSE;
}

/* ---- GObject ---- */

static void
memscope_window_dispose (GObject *object)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->play_source, g_source_remove);
  /* first: the runs gone, what the controls do as they are disposed (a
   * dropdown losing its model selects nothing) changes no state and
   * touches no disposed widget */
  g_clear_object (&self->runs);
  if (self->settings)
    g_settings_unbind (self, "colormap");
  gtk_widget_dispose_template (GTK_WIDGET (self), MEMSCOPE_TYPE_WINDOW);
  g_clear_object (&self->run_a);
  g_clear_object (&self->run_b);
  g_clear_object (&self->compared);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (memscope_window_parent_class)->dispose (object);
}

GMenuModel *
memscope_window_get_recent_menu (MemscopeWindow *self)
{
  return G_MENU_MODEL (self->recent_menu);
}

GMenuModel *
memscope_window_get_recordings_menu (MemscopeWindow *self)
{
  return G_MENU_MODEL (self->recordings_menu);
}

static void
memscope_window_finalize (GObject *object)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  g_array_unref (self->segment_offsets);
  g_free (self->input_path);
  g_ptr_array_unref (self->pending_models);
  g_free (self->token_values);
  g_free (self->text_run_key);
  g_free (self->text_loading);
  g_free (self->error);
  G_OBJECT_CLASS (memscope_window_parent_class)->finalize (object);
}

static void
memscope_window_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  switch (prop_id)
    {
    case PROP_RUN_A: g_value_set_object (value, self->run_a); break;
    case PROP_RUN_B: g_value_set_object (value, self->run_b); break;
    case PROP_COMPARED_RUN: g_value_set_object (value, self->compared); break;
    case PROP_COMPARE: g_value_set_boolean (value, self->compare); break;
    case PROP_DIFFERENCE: g_value_set_boolean (value, self->difference); break;
    case PROP_SEGMENT: g_value_set_int (value, self->segment); break;
    case PROP_SLOT: g_value_set_int (value, self->slot); break;
    case PROP_LAYER: g_value_set_int (value, self->layer); break;
    case PROP_HEAD: g_value_set_int (value, self->head); break;
    case PROP_COLORMAP: g_value_set_enum (value, self->cmap); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
memscope_window_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  switch (prop_id)
    {
    case PROP_RUN_A: _memscope_window_set_run_a (self, g_value_get_object (value)); break;
    case PROP_RUN_B: _memscope_window_set_run_b (self, g_value_get_object (value)); break;
    case PROP_COMPARE: memscope_window_set_compare (self, g_value_get_boolean (value), self->difference); break;
    case PROP_DIFFERENCE: memscope_window_set_compare (self, self->compare, g_value_get_boolean (value)); break;
    case PROP_SEGMENT: memscope_window_set_segment (self, g_value_get_int (value)); break;
    case PROP_SLOT: memscope_window_set_slot (self, g_value_get_int (value)); break;
    case PROP_LAYER: set_int (self, &self->layer, g_value_get_int (value), PROP_LAYER); break;
    case PROP_HEAD: set_int (self, &self->head, g_value_get_int (value), PROP_HEAD); break;
    case PROP_COLORMAP: set_colormap (self, (MsColormap) g_value_get_enum (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
memscope_window_class_init (MemscopeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = memscope_window_dispose;
  object_class->finalize = memscope_window_finalize;
  object_class->get_property = memscope_window_get_property;
  object_class->set_property = memscope_window_set_property;

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  props[PROP_RUN_A] = g_param_spec_object ("run-a", NULL, NULL, MEMSCOPE_TYPE_RUN, rw);
  props[PROP_RUN_B] = g_param_spec_object ("run-b", NULL, NULL, MEMSCOPE_TYPE_RUN, rw);
  /* run B when comparing and B is not A, else NULL: what the views compare A with */
  props[PROP_COMPARED_RUN] = g_param_spec_object ("compared-run", NULL, NULL, MEMSCOPE_TYPE_RUN,
                                                  G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_COMPARE] = g_param_spec_boolean ("compare", NULL, NULL, FALSE, rw);
  /* A − B shown: only while comparing */
  props[PROP_DIFFERENCE] = g_param_spec_boolean ("difference", NULL, NULL, FALSE, rw);
  /* clamped to run A's committed segments */
  props[PROP_SEGMENT] = g_param_spec_int ("segment", NULL, NULL, -1, G_MAXINT, 0, rw);
  props[PROP_SLOT] = g_param_spec_int ("slot", NULL, NULL, -1, G_MAXINT, -1, rw);
  props[PROP_LAYER] = g_param_spec_int ("layer", NULL, NULL, -1, G_MAXINT, -1, rw);
  props[PROP_HEAD] = g_param_spec_int ("head", NULL, NULL, -1, G_MAXINT, -1, rw);
  props[PROP_COLORMAP] = g_param_spec_enum ("colormap", NULL, NULL, MEMSCOPE_TYPE_COLORMAP, MS_COLORMAP_VIRIDIS, rw);
  g_object_class_install_properties (object_class, N_PROPS, props);

  g_type_ensure (MEMSCOPE_TYPE_SQUEEZER);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/memscope/Memscope/ui/memscope-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, progress_label);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, run_a_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, run_b_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, layer_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, head_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, colormap_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, selection_label);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, layer_group);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, head_group);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, view_menu_button);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, view_menu);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, text_view);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, text_legend);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, text_search_bar);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, text_search_entry);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, segment_adjustment);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, segment_label);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, recent_menu);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, recordings_menu);
}

static void
memscope_window_init (MemscopeWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->runs = g_list_store_new (MEMSCOPE_TYPE_RUN);
  self->cancellable = g_cancellable_new ();
  self->segment_offsets = g_array_new (FALSE, FALSE, sizeof (int));
  self->slot = -1;
  self->layer = -1;
  self->head = -1;
  self->settings = memscope_settings_new ();
  self->pending_models = g_ptr_array_new_with_free_func (g_free);
  if (self->settings)
    {
      /* the size it had when it was last closed */
      gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }

  /* every view shows the window's state */
  static const char *const shared[] = { "run-a", "difference", "segment", "slot", "layer", "head", "colormap" };
  for (guint i = 0; i < MS_VIEW_N_KINDS; i++)
    {
      const MsViewInfo *info = ms_view_info (i);
      GtkWidget *view = memscope_figure_view_new (info->kind);
      self->views[info->kind] = MEMSCOPE_FIGURE_VIEW (view);
      for (guint p = 0; p < G_N_ELEMENTS (shared); p++)
        g_object_bind_property (self, shared[p], view, shared[p], G_BINDING_SYNC_CREATE);
      g_object_bind_property (self, "compared-run", view, "run-b", G_BINDING_SYNC_CREATE);
      gtk_stack_add_titled (self->view_stack, view, info->name, info->title);
      g_autofree char *detailed = g_strdup_printf ("win.view::%s", info->name);
      g_menu_append (self->view_menu, info->title, detailed);
      g_signal_connect_object (view, "selected", G_CALLBACK (on_view_selected), self, 0);
    }

  /* the controls edit the state, and show it */
  GtkDropDown *run_drops[2] = { self->run_a_dropdown, self->run_b_dropdown };
  const char *run_props[2] = { "run-a", "run-b" };
  for (int i = 0; i < 2; i++)
    {
      GtkExpression *label = gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL, G_CALLBACK (run_label),
                                                           NULL, NULL);
      gtk_drop_down_set_expression (run_drops[i], label);
      gtk_expression_unref (label);
      gtk_drop_down_set_model (run_drops[i], G_LIST_MODEL (self->runs));
      g_object_bind_property_full (run_drops[i], "selected", self, run_props[i],
                                   G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE, position_to_run, run_to_position,
                                   self, NULL);
    }
  g_object_bind_property_full (self->layer_dropdown, "selected", self, "layer",
                               G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE, position_to_index, index_to_position,
                               NULL, NULL);
  g_object_bind_property_full (self->head_dropdown, "selected", self, "head",
                               G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE, position_to_index, index_to_position,
                               NULL, NULL);
  g_object_bind_property_full (self->segment_adjustment, "value", self, "segment", G_BINDING_BIDIRECTIONAL,
                               value_to_segment, segment_to_value, NULL, NULL);
  g_object_bind_property_full (self->colormap_dropdown, "selected", self, "colormap",
                               G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE, position_to_colormap,
                               colormap_to_position, NULL, NULL);
  if (self->settings)
    g_settings_bind_with_mapping (self->settings, "colormap", self, "colormap", G_SETTINGS_BIND_DEFAULT,
                                  setting_to_colormap, colormap_to_setting, NULL, NULL);

  g_signal_connect_object (gtk_recent_manager_get_default (), "changed",
                           G_CALLBACK (_memscope_window_update_recent_menu), self, G_CONNECT_SWAPPED);
  _memscope_window_update_recent_menu (self);
  _memscope_window_update_recordings_menu (self);

  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_create_tag (buffer, "current", "background", "#f6d32d", "weight", PANGO_WEIGHT_BOLD, NULL);
  /* Token colours, light to strong: written into the slot (blue), reading memory (orange). */
  static const char *const write_colours[N_TOKEN_TAGS] = { "#ffffff", "#99c1f1", "#62a0ea", "#3584e4", "#1c71d8" };
  static const char *const read_colours[N_TOKEN_TAGS] = { "#ffffff", "#ffd8a8", "#ffbe6f", "#ff9d3a", "#e66100" };
  for (int k = 0; k < N_TOKEN_TAGS; k++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "write-%d", k);
      gtk_text_buffer_create_tag (buffer, name, "background", write_colours[k], "foreground",
                                  k >= 3 ? "#ffffff" : NULL, NULL);
      g_snprintf (name, sizeof name, "read-%d", k);
      gtk_text_buffer_create_tag (buffer, name, "background", read_colours[k], NULL);
    }
  gtk_search_bar_connect_entry (self->text_search_bar, GTK_EDITABLE (self->text_search_entry));
  g_signal_connect (self->text_search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect (self->text_search_entry, "activate", G_CALLBACK (on_search_activate), self);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_text_clicked), self);
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->text_view), TRUE);
  g_signal_connect (self->text_view, "query-tooltip", G_CALLBACK (on_text_query_tooltip), self);
  GtkTextIter start;
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_create_mark (buffer, "current-start", &start, TRUE);

  g_signal_connect (self->speed_dropdown, "notify::selected", G_CALLBACK (on_speed_changed), self);
  g_signal_connect (self->view_stack, "notify::visible-child", G_CALLBACK (on_visible_view_changed), self);
  on_visible_view_changed (self->view_stack, NULL, self);

  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  g_signal_connect (self, "close-request", G_CALLBACK (on_close_request), NULL);
  memscope_window_install_actions (self);
  runs_shown_changed (self);
}

MemscopeWindow *
memscope_window_new (GtkApplication *app)
{
  return g_object_new (MEMSCOPE_TYPE_WINDOW, "application", app, NULL);
}

/* For the actions file: play stepping. */
static gboolean
play_step (gpointer data)
{
  MemscopeWindow *self = data;
  int n = memscope_window_get_n_segments (self);
  if (self->segment + 1 < n)
    memscope_window_set_segment (self, self->segment + 1);
  else if (!memscope_window_is_busy (self))
    {
      self->play_source = 0;
      memscope_window_sync_actions (self);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Milliseconds between segments at the speed chosen (1, 4 or 10 segments/s). */
static guint
play_interval (MemscopeWindow *self)
{
  static const guint ms[] = { 1000, 250, 100 };
  guint i = gtk_drop_down_get_selected (self->speed_dropdown);
  return ms[i < G_N_ELEMENTS (ms) ? i : 1];
}

void
memscope_window_set_playing (MemscopeWindow *self, gboolean playing)
{
  if (playing && !self->play_source)
    {
      if (self->segment + 1 >= memscope_window_get_n_segments (self))
        memscope_window_set_segment (self, 0);
      self->play_source = g_timeout_add (play_interval (self), play_step, self);
    }
  else if (!playing)
    g_clear_handle_id (&self->play_source, g_source_remove);
  memscope_window_sync_actions (self);
}

/* A new speed takes effect at once while playing. */
static void
on_speed_changed (GtkDropDown *drop, GParamSpec *pspec, MemscopeWindow *self)
{
  if (!self->play_source)
    return;
  g_clear_handle_id (&self->play_source, g_source_remove);
  self->play_source = g_timeout_add (play_interval (self), play_step, self);
}

gboolean
memscope_window_get_playing (MemscopeWindow *self)
{
  return self->play_source != 0;
}

const char *
memscope_window_get_view_name (MemscopeWindow *self)
{
  return gtk_stack_get_visible_child_name (self->view_stack);
}

void
memscope_window_set_view_name (MemscopeWindow *self, const char *name)
{
  if (gtk_stack_get_child_by_name (self->view_stack, name))
    gtk_stack_set_visible_child_name (self->view_stack, name);
}
