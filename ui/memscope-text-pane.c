/* memscope-text-pane.c — the input text of one run, its segments and the
 * current segment's token colours (contract in memscope-text-pane.h).
 *
 * Two kinds of work leave the main thread: reading the whole text (a
 * TextJob, keyed by the run and its segment length, so a run still
 * recording is read again only when that changes) and reading the current
 * segment's token values (a TokenJob, numbered: the newest request wins). */
#include "memscope-text-pane.h"

#include "memscope-task.h"
#include "ms-model.h"
#include "ms-recording.h"
#include "ms-text.h"
#include "ms-view.h"

#include <math.h>

#define N_TOKEN_TAGS 5

struct _MemscopeTextPane {
  GtkWidget parent_instance;

  /* Template children (borrowed) */
  GtkLabel *caption;
  GtkSearchBar *search_bar;
  GtkSearchEntry *search_entry;
  GtkTextView *text_view;

  /* Owned */
  MemscopeRun *run;
  MemscopeRun *compared;
  GArray *segment_offsets;     /* int: character offset of each segment start in the text, and the end */
  char *text_key;              /* which run/segment_len the text was built for */
  char *text_loading;          /* … and is being read for, NULL when none */
  float *token_values;         /* (coloured_end − coloured_start) the values coloured, NULL: none */

  int segment;
  int slot;
  guint token_serial;          /* of the newest token colouring asked for … */
  guint token_shown;           /* … and of the one shown */
  int coloured_start;          /* the characters that have token colours: [start, end) */
  int coloured_end;
  int token_slot;              /* the slot they are written into, −1: how strongly each reads memory */
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (MemscopeTextPane, memscope_text_pane, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_RUN, PROP_COMPARED_RUN, PROP_SEGMENT, PROP_SLOT, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SEGMENT_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void update_highlight (MemscopeTextPane *self);
static void update_token_colours (MemscopeTextPane *self);

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
  g_autofree char *piece = g_utf8_make_valid (bytes, (gssize) len);
  g_array_append_val (job->offsets, *offset);
  *offset += (int) g_utf8_strlen (piece, -1);
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
  self->coloured_start = self->coloured_end = 0;
  g_free (self->text_key);
  self->text_key = g_strdup (job->key);
  update_highlight (self);
  update_token_colours (self);
}

/* Shows the input text of the run (read on a worker thread) unless it is
 * shown or being read already. */
static void
update_text (MemscopeTextPane *self)
{
  MemscopeRun *run = self->run;
  int seg_len = run ? memscope_run_get_segment_len (run) : 0;
  g_autofree char *key = run ? g_strdup_printf ("%p/%d", (void *) run, seg_len) : NULL;
  if (g_strcmp0 (key, self->text_key) == 0 || (key && g_strcmp0 (key, self->text_loading) == 0))
    return;
  g_clear_pointer (&self->text_loading, g_free);
  g_array_set_size (self->segment_offsets, 0);
  if (!run || seg_len <= 0)
    {
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), run ? "Recording…" : "", -1);
      self->coloured_start = self->coloured_end = 0;
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

static void
update_highlight (MemscopeTextPane *self)
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

/* ---- the current segment's token colours, read on a worker thread ---- */

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
clear_token_colours (MemscopeTextPane *self)
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
  MemscopeTextPane *self = MEMSCOPE_TEXT_PANE (object);
  TokenJob *job = g_task_get_task_data (G_TASK (result));
  if (self->disposed || job->serial != self->token_serial)
    return;   /* gone, or superseded */
  self->token_shown = job->serial;
  clear_token_colours (self);
  /* comparing, say whose colours these are */
  g_autofree char *caption = job->values && self->compared
                               ? g_strdup_printf ("Run A (%s): %s", memscope_run_get_name (self->run), job->what)
                               : g_strdup (job->values ? job->what : "");
  gtk_label_set_text (self->caption, caption);
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
update_token_colours (MemscopeTextPane *self)
{
  self->token_serial++;
  MemscopeRun *run = self->run;
  int start, end;
  if (!run || !memscope_run_get_db_path (run) || memscope_run_get_segments_done (run) == 0
      || !memscope_text_pane_get_highlight (self, &start, &end))
    {
      self->token_shown = self->token_serial;
      clear_token_colours (self);
      gtk_label_set_text (self->caption, "");
      return;
    }
  TokenJob *job = g_new0 (TokenJob, 1);
  job->path = g_strdup (memscope_run_get_db_path (run));
  job->run_id = memscope_run_get_id (run);
  job->segment = self->segment;
  job->slot = self->slot < memscope_run_get_n_slots (run) ? self->slot : -1;
  job->start = start, job->end = end;
  job->serial = self->token_serial;
  GTask *task = g_task_new (self, NULL, token_job_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) token_job_free);
  memscope_task_run_in_thread (task, token_job_run);
  g_object_unref (task);
}

/* ---- pointer, search ---- */

/* The character offset of the text at text-view point (@x, @y), −1 off the text. */
static int
text_offset_at (MemscopeTextPane *self, double x, double y)
{
  int bx, by;
  gtk_text_view_window_to_buffer_coords (self->text_view, GTK_TEXT_WINDOW_WIDGET, (int) x, (int) y, &bx, &by);
  GtkTextIter iter;
  if (!gtk_text_view_get_iter_at_location (self->text_view, &iter, bx, by))
    return -1;
  return gtk_text_iter_get_offset (&iter);
}

char *
memscope_text_pane_describe_offset (MemscopeTextPane *self, int offset)
{
  int t = memscope_text_pane_segment_at_offset (self, offset);
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
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, MemscopeTextPane *self)
{
  if (keyboard)
    return FALSE;
  g_autofree char *text = memscope_text_pane_describe_offset (self, text_offset_at (self, x, y));
  if (!text)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* Clicking the text steps to the segment clicked. */
static void
on_text_clicked (GtkGestureClick *gesture, int n_press, double x, double y, MemscopeTextPane *self)
{
  int t = memscope_text_pane_segment_at_offset (self, text_offset_at (self, x, y));
  if (t >= 0)
    g_signal_emit (self, signals[SEGMENT_ACTIVATED], 0, t);
}

gboolean
memscope_text_pane_find (MemscopeTextPane *self, const char *text, gboolean next)
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
  int t = memscope_text_pane_segment_at_offset (self, gtk_text_iter_get_offset (&match_start));
  if (t >= 0)
    g_signal_emit (self, signals[SEGMENT_ACTIVATED], 0, t);
  return TRUE;
}

static void
on_search_changed (GtkSearchEntry *entry, MemscopeTextPane *self)
{
  memscope_text_pane_find (self, gtk_editable_get_text (GTK_EDITABLE (entry)), FALSE);
}

static void
on_search_activate (GtkSearchEntry *entry, MemscopeTextPane *self)
{
  memscope_text_pane_find (self, gtk_editable_get_text (GTK_EDITABLE (entry)), TRUE);
}

void
memscope_text_pane_start_search (MemscopeTextPane *self)
{
  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

/* ---- state ---- */

void
memscope_text_pane_set_run (MemscopeTextPane *self, MemscopeRun *run)
{
  if (!g_set_object (&self->run, run))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUN]);
  update_text (self);
  update_highlight (self);
  update_token_colours (self);
}

MemscopeRun *
memscope_text_pane_get_run (MemscopeTextPane *self)
{
  return self->run;
}

void
memscope_text_pane_set_compared_run (MemscopeTextPane *self, MemscopeRun *run)
{
  if (!g_set_object (&self->compared, run))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COMPARED_RUN]);
  update_token_colours (self);
}

void
memscope_text_pane_set_segment (MemscopeTextPane *self, int segment)
{
  if (segment == self->segment)
    return;
  self->segment = segment;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SEGMENT]);
  update_highlight (self);
  update_token_colours (self);
}

void
memscope_text_pane_set_slot (MemscopeTextPane *self, int slot)
{
  if (slot == self->slot)
    return;
  self->slot = slot;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SLOT]);
  update_token_colours (self);
}

void
memscope_text_pane_reload (MemscopeTextPane *self)
{
  update_text (self);
  update_highlight (self);
  update_token_colours (self);
}

GtkTextBuffer *
memscope_text_pane_get_buffer (MemscopeTextPane *self)
{
  return gtk_text_view_get_buffer (self->text_view);
}

const char *
memscope_text_pane_get_caption (MemscopeTextPane *self)
{
  return gtk_label_get_text (self->caption);
}

gboolean
memscope_text_pane_get_loading (MemscopeTextPane *self)
{
  return self->text_loading != NULL || self->token_shown != self->token_serial;
}

/* ---- GObject ---- */

static void
memscope_text_pane_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MemscopeTextPane *self = MEMSCOPE_TEXT_PANE (object);
  switch (prop_id)
    {
    case PROP_RUN: g_value_set_object (value, self->run); break;
    case PROP_COMPARED_RUN: g_value_set_object (value, self->compared); break;
    case PROP_SEGMENT: g_value_set_int (value, self->segment); break;
    case PROP_SLOT: g_value_set_int (value, self->slot); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
memscope_text_pane_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MemscopeTextPane *self = MEMSCOPE_TEXT_PANE (object);
  switch (prop_id)
    {
    case PROP_RUN: memscope_text_pane_set_run (self, g_value_get_object (value)); break;
    case PROP_COMPARED_RUN: memscope_text_pane_set_compared_run (self, g_value_get_object (value)); break;
    case PROP_SEGMENT: memscope_text_pane_set_segment (self, g_value_get_int (value)); break;
    case PROP_SLOT: memscope_text_pane_set_slot (self, g_value_get_int (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
memscope_text_pane_dispose (GObject *object)
{
  MemscopeTextPane *self = MEMSCOPE_TEXT_PANE (object);
  self->disposed = TRUE;   /* jobs still running find nothing to update */
  gtk_widget_dispose_template (GTK_WIDGET (self), MEMSCOPE_TYPE_TEXT_PANE);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))   /* the unnamed ones */
    gtk_widget_unparent (child);
  g_clear_object (&self->run);
  g_clear_object (&self->compared);
  G_OBJECT_CLASS (memscope_text_pane_parent_class)->dispose (object);
}

static void
memscope_text_pane_finalize (GObject *object)
{
  MemscopeTextPane *self = MEMSCOPE_TEXT_PANE (object);
  g_array_unref (self->segment_offsets);
  g_free (self->text_key);
  g_free (self->text_loading);
  g_free (self->token_values);
  G_OBJECT_CLASS (memscope_text_pane_parent_class)->finalize (object);
}

static void
memscope_text_pane_class_init (MemscopeTextPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = memscope_text_pane_dispose;
  object_class->finalize = memscope_text_pane_finalize;
  object_class->get_property = memscope_text_pane_get_property;
  object_class->set_property = memscope_text_pane_set_property;

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  props[PROP_RUN] = g_param_spec_object ("run", NULL, NULL, MEMSCOPE_TYPE_RUN, rw);
  props[PROP_COMPARED_RUN] = g_param_spec_object ("compared-run", NULL, NULL, MEMSCOPE_TYPE_RUN, rw);
  props[PROP_SEGMENT] = g_param_spec_int ("segment", NULL, NULL, -1, G_MAXINT, 0, rw);
  props[PROP_SLOT] = g_param_spec_int ("slot", NULL, NULL, -1, G_MAXINT, -1, rw);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /* the segment clicked, or holding the text found */
  signals[SEGMENT_ACTIVATED] = g_signal_new ("segment-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                             NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/memscope/Memscope/ui/memscope-text-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, MemscopeTextPane, caption);
  gtk_widget_class_bind_template_child (widget_class, MemscopeTextPane, search_bar);
  gtk_widget_class_bind_template_child (widget_class, MemscopeTextPane, search_entry);
  gtk_widget_class_bind_template_child (widget_class, MemscopeTextPane, text_view);
}

static void
memscope_text_pane_init (MemscopeTextPane *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);
  self->segment_offsets = g_array_new (FALSE, FALSE, sizeof (int));
  self->slot = -1;

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
  GtkTextIter start;
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_create_mark (buffer, "current-start", &start, TRUE);

  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));
  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect (self->search_entry, "activate", G_CALLBACK (on_search_activate), self);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_text_clicked), self);
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->text_view), TRUE);
  g_signal_connect (self->text_view, "query-tooltip", G_CALLBACK (on_query_tooltip), self);
}

GtkWidget *
memscope_text_pane_new (void)
{
  return g_object_new (MEMSCOPE_TYPE_TEXT_PANE, NULL);
}
