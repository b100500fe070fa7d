/* memscope-text-pane.c — the input text of one run, its segments and the
 * current segment's tokens (contract in memscope-text-pane.h).
 *
 * Two kinds of work leave the main thread: reading the whole text (a
 * TextJob, keyed by the run and its segment length, so a run still
 * recording is read again only when that changes) and reading what the
 * pane knows of the current segment's tokens (a TokenJob, numbered: the
 * newest request wins) — their characters, NLL, the value that colours
 * them by memory, and the read attention a tooltip describes (for a
 * compact recording the core replays the segment for it, on that worker).
 * The main thread only turns what they return into text tags. */
#include "memscope-text-pane.h"

#include "memscope-task.h"
#include "ms-model.h"
#include "ms-recording.h"
#include "ms-text.h"
#include "ms-view.h"

#include <math.h>

/* Colour steps of each colouring: the weakest stays uncoloured. */
#define N_TOKEN_TAGS 5
/* The slots a token's tooltip lists before summing the rest. */
#define TOOLTIP_SLOTS 4

/* Memory: written into the selected slot (blue), reading memory (orange),
 * relative to the segment's largest value; NLL: on a fixed scale from
 * 0 to ln V nats, the NLL of a uniform guess, light to dark red (a token
 * that did worse than guessing takes the darkest step), so segments and
 * runs of one vocabulary compare by colour. */
static const char *const write_colours[N_TOKEN_TAGS] = { "#ffffff", "#99c1f1", "#62a0ea", "#3584e4", "#1c71d8" };
static const char *const read_colours[N_TOKEN_TAGS] = { "#ffffff", "#ffd8a8", "#ffbe6f", "#ff9d3a", "#e66100" };
static const char *const nll_colours[N_TOKEN_TAGS] = { "#ffffff", "#f9c5c5", "#f08080", "#d33a3a", "#8b0f0f" };
/* Token boundaries: consecutive tokens of the current segment underlined
 * in these two colours by turns, UNDERLINE_PX tall on whole pixels at the
 * bottom of each character's line (MemscopeTokenView), so a boundary
 * shows as a change of colour whatever colours the tokens. */
static const GdkRGBA token_underlines[2] = { { 0x1c / 255.f, 0x71 / 255.f, 0xd8 / 255.f, 1 },
                                             { 0xc0 / 255.f, 0x61 / 255.f, 0xcb / 255.f, 1 } };
#define UNDERLINE_PX 2

/* What the pane knows of the current segment's tokens (a TokenJob's result). */
typedef struct {
  int segment;
  int start, end;       /* the segment's characters in the text */
  int n;                /* tokens */
  int *char_start;      /* (n) each token's characters in the text: [char_start, char_end) */
  int *char_end;
  float *nll;           /* (n) nats, NaN: no prediction; NULL: not recorded */
  float nll_top;        /* the NLL scale's top: ln V */
  float *memory;        /* (n) the memory colouring's values; NULL: none */
  float memory_top;     /* … and their largest */
  const char *memory_what;
  int slot;             /* memory: written into this slot; −1: how strongly each token reads memory */
  MsViewData *reads;    /* the read attention of the segment (last layer, mean over heads); NULL: none */
} SegmentTokens;

static void
segment_tokens_free (SegmentTokens *t)
{
  if (!t)
    return;
  g_free (t->char_start);
  g_free (t->char_end);
  g_free (t->nll);
  g_free (t->memory);
  g_clear_pointer (&t->reads, ms_view_data_free);
  g_free (t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SegmentTokens, segment_tokens_free)

struct _MemscopeTextPane {
  GtkWidget parent_instance;

  /* Template children (borrowed) */
  GtkLabel *caption;
  GtkDrawingArea *legend;
  GtkDropDown *source_dropdown;
  GtkDropDown *colouring_dropdown;
  GtkSearchBar *search_bar;
  GtkSearchEntry *search_entry;
  GtkTextView *text_view;

  /* Owned */
  MemscopeRun *run;
  MemscopeRun *compared;
  GArray *segment_offsets;     /* int: character offset of each segment start in the text, and the end */
  char *text_key;              /* which run/segment_len the text was built for */
  char *text_loading;          /* … and is being read for, NULL when none */
  SegmentTokens *tokens;       /* the current segment's, NULL: none (yet) */

  int segment;
  int slot;
  MemscopeTextColouring colouring;
  int source;                  /* 0: run, 1: the compared run colours the text */
  guint token_serial;          /* of the newest token job asked for … */
  guint token_shown;           /* … and of the one shown */
  int token_segment;           /* the segment the newest token job reads */
  int tagged_start;            /* the characters that carry token tags: [start, end) */
  int tagged_end;
  int hovered;                 /* token of tokens under the pointer, −1: none */
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (MemscopeTextPane, memscope_text_pane, GTK_TYPE_WIDGET)

/* ---- the text view, which underlines the tokens ---- */

#define MEMSCOPE_TYPE_TOKEN_VIEW (memscope_token_view_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeTokenView, memscope_token_view, MEMSCOPE, TOKEN_VIEW, GtkTextView)

struct _MemscopeTokenView {
  GtkTextView parent_instance;
  MemscopeTextPane *pane;      /* borrowed: the pane holds the view */
};

G_DEFINE_FINAL_TYPE (MemscopeTokenView, memscope_token_view, GTK_TYPE_TEXT_VIEW)

/* Above the text (buffer coordinates): under each character of the
 * current segment's tokens, its token's underline colour. */
static void
memscope_token_view_snapshot_layer (GtkTextView *view, GtkTextViewLayer layer, GtkSnapshot *snapshot)
{
  MemscopeTokenView *self = MEMSCOPE_TOKEN_VIEW (view);
  SegmentTokens *t = self->pane ? self->pane->tokens : NULL;
  if (layer != GTK_TEXT_VIEW_LAYER_ABOVE_TEXT || !t)
    return;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GdkRectangle visible;
  gtk_text_view_get_visible_rect (view, &visible);
  for (int j = 0; j < t->n; j++)
    {
      int s = j > 0 ? MAX (t->char_start[j], t->char_end[j - 1]) : t->char_start[j];
      for (int c = s; c < t->char_end[j]; c++)
        {
          GtkTextIter it;
          GdkRectangle r;
          gtk_text_buffer_get_iter_at_offset (buffer, &it, c);
          gtk_text_view_get_iter_location (view, &it, &r);
          if (r.y + r.height < visible.y || r.y > visible.y + visible.height || r.width <= 0)
            continue;
          gtk_snapshot_append_color (snapshot, &token_underlines[j % 2],
                                     &GRAPHENE_RECT_INIT (r.x, r.y + r.height - UNDERLINE_PX, r.width, UNDERLINE_PX));
        }
    }
}

static void
memscope_token_view_class_init (MemscopeTokenViewClass *klass)
{
  GTK_TEXT_VIEW_CLASS (klass)->snapshot_layer = memscope_token_view_snapshot_layer;
}

static void
memscope_token_view_init (MemscopeTokenView *self)
{
}

enum { PROP_0, PROP_RUN, PROP_COMPARED_RUN, PROP_SEGMENT, PROP_SLOT, PROP_COLOURING, PROP_SOURCE, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SEGMENT_ACTIVATED, TOKEN_HOVERED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void update_highlight (MemscopeTextPane *self);
static void update_tokens (MemscopeTextPane *self);

/* The run whose text, tokens and colours are shown. */
static MemscopeRun *
shown_run (MemscopeTextPane *self)
{
  return self->source == 1 && self->compared ? self->compared : self->run;
}

/* ---- text as valid UTF-8, and where each byte went ---- */

/* Appends @len bytes at @bytes to @out as valid UTF-8, each byte that
 * begins no valid character (NUL included) as U+FFFD, and returns the
 * characters appended.  @starts_before (may be NULL; @len + 1 entries)
 * receives, for each byte offset b, how many of those characters begin
 * before b: token [s, e) of the bytes covers characters
 * [starts_before[s + 1] − 1, starts_before[e]). */
static int
append_valid (GString *out, const char *bytes, gsize len, int *starts_before)
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
  *offset += append_valid (job->text, bytes, len, NULL);
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
  update_highlight (self);
  update_tokens (self);
}

/* Shows the input text of the run shown (read on a worker thread) unless
 * it is shown or being read already. */
static void
update_text (MemscopeTextPane *self)
{
  MemscopeRun *run = shown_run (self);
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

/* ---- the current segment's tokens, read on a worker thread ---- */

typedef struct {
  char *path;
  gint64 run_id;
  guint serial;
  SegmentTokens *result;       /* segment, start, end and slot asked for; the rest filled in */
} TokenJob;

static void
token_job_free (TokenJob *job)
{
  g_free (job->path);
  segment_tokens_free (job->result);
  g_free (job);
}

/* Fills @t from the recording at @path (its own connection): the tokens'
 * characters from the segment's stored text and byte ranges, their NLL,
 * the read attention view, and the memory colouring's values
 * (ms_view_token_values).  FALSE when the tokens cannot be read or do not
 * tile the segment's characters in the text (the input changed): nothing
 * to show. */
static gboolean
read_segment_tokens (const char *path, gint64 run_id, SegmentTokens *t)
{
  g_autoptr (MsRecording) rec = ms_recording_open (path, NULL);
  if (!rec || !ms_recording_read_begin (rec, NULL))
    return FALSE;
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, NULL);
  g_autoptr (GBytes) text = info ? ms_recording_segment_text (rec, run_id, t->segment, NULL) : NULL;
  size_t n = 0;
  g_autofree MsToken *tokens = text ? ms_recording_segment_tokens (rec, info, t->segment, &n, NULL, NULL) : NULL;
  ms_recording_read_end (rec);
  if (!tokens)
    return FALSE;
  gsize len = 0;
  const char *bytes = g_bytes_get_data (text, &len);
  g_autofree int *starts_before = g_new (int, len + 1);
  g_autoptr (GString) valid = g_string_new (NULL);
  if (append_valid (valid, bytes, len, starts_before) != t->end - t->start)
    return FALSE;
  t->n = (int) n;
  t->char_start = g_new (int, n);
  t->char_end = g_new (int, n);
  for (size_t i = 0; i < n; i++)
    {
      t->char_start[i] = t->start + starts_before[tokens[i].start + 1] - 1;
      t->char_end[i] = t->start + starts_before[tokens[i].end];
    }
  size_t n_nll = 0;
  t->nll = ms_recording_segment_nll (rec, info, t->segment, &n_nll, NULL);
  if (t->nll && n_nll != n)
    g_clear_pointer (&t->nll, g_free);
  t->nll_top = logf ((float) MAX (info->config.vocab_size, 2));

  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.segment = t->segment;
  t->reads = ms_view_load (rec, run_id, MS_VIEW_READ, &p, NULL);
  if (t->reads && t->reads->rows != t->n)
    g_clear_pointer (&t->reads, ms_view_data_free);
  g_autoptr (MsViewData) writes = t->slot >= 0 ? ms_view_load (rec, run_id, MS_VIEW_WRITE, &p, NULL) : NULL;
  const MsViewData *memory = t->slot >= 0 ? writes : t->reads;
  int n_values = 0;
  t->memory = memory ? ms_view_token_values (memory, t->slot, &n_values, &t->memory_what) : NULL;
  if (t->memory && n_values != t->n)
    g_clear_pointer (&t->memory, g_free);
  for (int j = 0; t->memory && j < t->n; j++)
    t->memory_top = isnan (t->memory[j]) ? t->memory_top : MAX (t->memory_top, t->memory[j]);
  return TRUE;
}

static void
token_job_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  TokenJob *job = data;
  if (!read_segment_tokens (job->path, job->run_id, job->result))
    g_clear_pointer (&job->result, segment_tokens_free);
  g_task_return_boolean (task, TRUE);
}

/* The token of the current segment holding character @offset, −1 when none. */
static int
token_at_offset (MemscopeTextPane *self, int offset)
{
  SegmentTokens *t = self->tokens;
  if (!t || offset < t->start || offset >= t->end)
    return -1;
  int lo = 0, hi = t->n;   /* the last token starting at or before @offset */
  while (hi - lo > 1)
    {
      int mid = (lo + hi) / 2;
      if (t->char_start[mid] <= offset)
        lo = mid;
      else
        hi = mid;
    }
  return offset < t->char_end[lo] ? lo : -1;
}

static void
tag_range (GtkTextBuffer *buffer, const char *name, int start, int end)
{
  GtkTextIter s, e;
  gtk_text_buffer_get_iter_at_offset (buffer, &s, start);
  gtk_text_buffer_get_iter_at_offset (buffer, &e, end);
  gtk_text_buffer_apply_tag_by_name (buffer, name, &s, &e);
}

/* Removes the token tags from the characters that have them. */
static void
clear_token_tags (MemscopeTextPane *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  if (self->tagged_end > self->tagged_start)
    {
      GtkTextIter s, e;
      gtk_text_buffer_get_iter_at_offset (buffer, &s, self->tagged_start);
      gtk_text_buffer_get_iter_at_offset (buffer, &e, self->tagged_end);
      static const char *const prefixes[] = { "write", "read", "nll" };
      for (int k = 0; k < N_TOKEN_TAGS; k++)
        for (guint p = 0; p < G_N_ELEMENTS (prefixes); p++)
          {
            char name[16];
            g_snprintf (name, sizeof name, "%s-%d", prefixes[p], k);
            gtk_text_buffer_remove_tag_by_name (buffer, name, &s, &e);
          }
      gtk_text_buffer_remove_tag_by_name (buffer, "hovered", &s, &e);
    }
  self->tagged_start = self->tagged_end = 0;
}

/* The values the current colouring shows, its tag prefix and its scale's
 * top (NULL: nothing to colour). */
static const float *
colour_values (MemscopeTextPane *self, const char **prefix, float *top)
{
  SegmentTokens *t = self->tokens;
  if (!t)
    return NULL;
  if (self->colouring == MEMSCOPE_TEXT_COLOUR_NLL)
    {
      *prefix = "nll";
      *top = t->nll_top;
      return t->nll;
    }
  *prefix = t->slot >= 0 ? "write" : "read";
  *top = t->memory_top;
  return t->memory;
}

/* What the caption says: which run's tokens, coloured by what. */
static void
update_caption (MemscopeTextPane *self)
{
  const char *prefix;
  float top;
  SegmentTokens *t = self->tokens;
  const float *values = colour_values (self, &prefix, &top);
  const char *what = !values ? NULL
                     : self->colouring == MEMSCOPE_TEXT_COLOUR_NLL
                       ? "Tokens coloured by their NLL: −log p of each given what came before, in nats "
                         "(darker = more surprising)."
                       : t->memory_what;
  MemscopeRun *run = shown_run (self);
  g_autofree char *caption = !what ? g_strdup (t ? "Token boundaries underlined; nothing recorded to colour them by." : "")
                             : self->compared ? g_strdup_printf ("Run %s (%s): %s", run == self->compared ? "B" : "A",
                                                                 memscope_run_get_name (run), what)
                                              : g_strdup (what);
  gtk_label_set_text (self->caption, caption);
  gtk_widget_set_visible (GTK_WIDGET (self->legend), values != NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self->legend));
}

/* Tags the current segment's tokens: alternating underlines, the
 * colouring's steps, the hovered token. */
static void
apply_token_tags (MemscopeTextPane *self)
{
  clear_token_tags (self);
  update_caption (self);
  SegmentTokens *t = self->tokens;
  if (!t)
    return;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  const char *prefix;
  float top;
  const float *values = colour_values (self, &prefix, &top);
  for (int j = 0; j < t->n; j++)
    {
      /* a token sharing a character with the one before starts after it */
      int s = j > 0 ? MAX (t->char_start[j], t->char_end[j - 1]) : t->char_start[j], e = t->char_end[j];
      if (e <= s)
        continue;
      float v = values ? values[j] : NAN;
      int k = isnan (v) || !(top > 0) ? -1 : MIN ((int) (v / top * N_TOKEN_TAGS), N_TOKEN_TAGS - 1);
      if (k >= 1)   /* the weakest step stays uncoloured */
        {
          char name[16];
          g_snprintf (name, sizeof name, "%s-%d", prefix, k);
          tag_range (buffer, name, s, e);
        }
    }
  if (self->hovered >= 0 && self->hovered < t->n)
    tag_range (buffer, "hovered", t->char_start[self->hovered], t->char_end[self->hovered]);
  self->tagged_start = t->start, self->tagged_end = t->end;
  gtk_widget_queue_draw (GTK_WIDGET (self->text_view));   /* the underlines */
}

/* Main thread: shows the segment's tokens, unless a newer request asked
 * for others. */
static void
token_job_done (GObject *object, GAsyncResult *result, gpointer data)
{
  MemscopeTextPane *self = MEMSCOPE_TEXT_PANE (object);
  TokenJob *job = g_task_get_task_data (G_TASK (result));
  if (self->disposed || job->serial != self->token_serial)
    return;   /* gone, or superseded */
  self->token_shown = job->serial;
  memscope_text_pane_hover_offset (self, -1);   /* the views forget the old token */
  segment_tokens_free (self->tokens);
  self->tokens = g_steal_pointer (&job->result);
  apply_token_tags (self);
}

/* Reads the current segment's tokens on a worker thread; the newest
 * request wins. */
static void
update_tokens (MemscopeTextPane *self)
{
  self->token_serial++;
  MemscopeRun *run = shown_run (self);
  int start, end;
  if (!run || !memscope_run_get_db_path (run) || self->segment >= memscope_run_get_segments_done (run)
      || !memscope_text_pane_get_highlight (self, &start, &end))
    {
      self->token_shown = self->token_serial;
      memscope_text_pane_hover_offset (self, -1);
      g_clear_pointer (&self->tokens, segment_tokens_free);
      apply_token_tags (self);
      return;
    }
  TokenJob *job = g_new0 (TokenJob, 1);
  job->path = g_strdup (memscope_run_get_db_path (run));
  job->run_id = memscope_run_get_id (run);
  job->serial = self->token_serial;
  self->token_segment = self->segment;
  job->result = g_new0 (SegmentTokens, 1);
  job->result->segment = self->segment;
  job->result->start = start, job->result->end = end;
  job->result->slot = self->slot < memscope_run_get_n_slots (run) ? self->slot : -1;
  GTask *task = g_task_new (self, NULL, token_job_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) token_job_free);
  memscope_task_run_in_thread (task, token_job_run);
  g_object_unref (task);
}

/* ---- the colour scale ---- */

/* The legend beside the caption: the colouring's steps, from 0 to the
 * scale's top, labelled at both ends. */
static void
draw_legend (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  MemscopeTextPane *self = data;
  const char *prefix;
  float top;
  if (!colour_values (self, &prefix, &top))
    return;
  const char *const *colours = g_str_equal (prefix, "nll") ? nll_colours
                               : g_str_equal (prefix, "write") ? write_colours : read_colours;
  g_autofree char *lo = g_strdup ("0");
  g_autofree char *hi = g_str_equal (prefix, "nll") ? g_strdup_printf ("%.1f+ nats", top)
                                                     : g_strdup_printf ("%.2f", top);
  PangoLayout *left = gtk_widget_create_pango_layout (GTK_WIDGET (area), lo);
  PangoLayout *right = gtk_widget_create_pango_layout (GTK_WIDGET (area), hi);
  int lw, lh, rw, rh;
  pango_layout_get_pixel_size (left, &lw, &lh);
  pango_layout_get_pixel_size (right, &rw, &rh);
  double x0 = lw + 4, x1 = width - rw - 4, box = (x1 - x0) / N_TOKEN_TAGS;
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  for (int k = 0; k < N_TOKEN_TAGS && box > 0; k++)
    {
      GdkRGBA c;
      gdk_rgba_parse (&c, colours[k]);
      gdk_cairo_set_source_rgba (cr, &c);
      cairo_rectangle (cr, x0 + k * box, 2, box, height - 4);
      cairo_fill (cr);
    }
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, floor (x0) + 0.5, 2.5, floor (x1 - x0), height - 5);
  cairo_stroke (cr);
  cairo_move_to (cr, 0, (height - lh) / 2.0);
  pango_cairo_show_layout (cr, left);
  cairo_move_to (cr, width - rw, (height - rh) / 2.0);
  pango_cairo_show_layout (cr, right);
  g_object_unref (left);
  g_object_unref (right);
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
  GString *s = g_string_new (NULL);
  int j = token_at_offset (self, offset);
  SegmentTokens *tk = self->tokens;
  if (j < 0)
    g_string_append_printf (s, "Segment %d, character %d", t, offset - g_array_index (self->segment_offsets, int, t));
  else
    {
      const char *text = tk->reads && tk->reads->y.texts ? tk->reads->y.texts[j] : NULL;
      g_string_append_printf (s, "Segment %d, token %d", t, j);
      if (text)
        g_string_append_printf (s, " “%s”", text);
      if (tk->nll && !isnan (tk->nll[j]))
        g_string_append_printf (s, "\nNLL %.3f nats (−log p given what came before)", tk->nll[j]);
      else if (tk->nll)
        g_string_append (s, "\nNLL: none (nothing predicts it)");
      if (tk->memory && tk->slot >= 0)
        g_string_append_printf (s, "\nwritten into slot %d: %.3f", tk->slot, tk->memory[j]);
      g_autofree char *reads = tk->reads ? ms_view_describe_token_reads (tk->reads, j, TOOLTIP_SLOTS) : NULL;
      if (reads)
        g_string_append_printf (s, "\n%s", reads);
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

void
memscope_text_pane_hover_offset (MemscopeTextPane *self, int offset)
{
  int j = token_at_offset (self, offset);
  if (j == self->hovered)
    return;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  SegmentTokens *t = self->tokens;
  if (self->hovered >= 0 && t)
    {
      GtkTextIter s, e;
      gtk_text_buffer_get_iter_at_offset (buffer, &s, t->char_start[self->hovered]);
      gtk_text_buffer_get_iter_at_offset (buffer, &e, t->char_end[self->hovered]);
      gtk_text_buffer_remove_tag_by_name (buffer, "hovered", &s, &e);
    }
  self->hovered = j;
  if (j >= 0)
    tag_range (buffer, "hovered", t->char_start[j], t->char_end[j]);
  g_signal_emit (self, signals[TOKEN_HOVERED], 0, j >= 0 ? t->segment : -1, j);
}

int
memscope_text_pane_get_hovered_token (MemscopeTextPane *self)
{
  return self->hovered;
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, MemscopeTextPane *self)
{
  memscope_text_pane_hover_offset (self, text_offset_at (self, x, y));
}

static void
on_leave (GtkEventControllerMotion *motion, MemscopeTextPane *self)
{
  memscope_text_pane_hover_offset (self, -1);
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

/* The run shown may have changed: its text, highlight and tokens. */
static void
shown_run_changed (MemscopeTextPane *self)
{
  update_text (self);
  update_highlight (self);
  update_tokens (self);
}

/* The run switch lists "Run A (name)" and "Run B (name)" while comparing. */
static void
update_source_choices (MemscopeTextPane *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->source_dropdown), self->run && self->compared);
  if (!self->run || !self->compared)
    return;
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  g_autofree char *a = g_strdup_printf ("Run A (%s)", memscope_run_get_name (self->run));
  g_autofree char *b = g_strdup_printf ("Run B (%s)", memscope_run_get_name (self->compared));
  gtk_string_list_append (list, a);
  gtk_string_list_append (list, b);
  int source = self->source;
  gtk_drop_down_set_model (self->source_dropdown, G_LIST_MODEL (list));
  gtk_drop_down_set_selected (self->source_dropdown, (guint) source);
}

void
memscope_text_pane_set_run (MemscopeTextPane *self, MemscopeRun *run)
{
  if (!g_set_object (&self->run, run))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUN]);
  update_source_choices (self);
  shown_run_changed (self);
}

MemscopeRun *
memscope_text_pane_get_run (MemscopeTextPane *self)
{
  return self->run;
}

MemscopeRun *
memscope_text_pane_get_shown_run (MemscopeTextPane *self)
{
  return shown_run (self);
}

void
memscope_text_pane_set_compared_run (MemscopeTextPane *self, MemscopeRun *run)
{
  if (!g_set_object (&self->compared, run))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COMPARED_RUN]);
  update_source_choices (self);
  shown_run_changed (self);
}

void
memscope_text_pane_set_segment (MemscopeTextPane *self, int segment)
{
  if (segment == self->segment)
    return;
  self->segment = segment;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SEGMENT]);
  update_highlight (self);
  update_tokens (self);
}

void
memscope_text_pane_set_slot (MemscopeTextPane *self, int slot)
{
  if (slot == self->slot)
    return;
  self->slot = slot;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SLOT]);
  update_tokens (self);
}

void
memscope_text_pane_set_colouring (MemscopeTextPane *self, MemscopeTextColouring colouring)
{
  if (colouring == self->colouring || (guint) colouring > MEMSCOPE_TEXT_COLOUR_NLL)
    return;
  self->colouring = colouring;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COLOURING]);
  apply_token_tags (self);   /* the tokens hold both colourings' values */
}

MemscopeTextColouring
memscope_text_pane_get_colouring (MemscopeTextPane *self)
{
  return self->colouring;
}

void
memscope_text_pane_set_source (MemscopeTextPane *self, int source)
{
  source = source == 1;
  if (source == self->source)
    return;
  self->source = source;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SOURCE]);
  shown_run_changed (self);
}

void
memscope_text_pane_reload (MemscopeTextPane *self)
{
  update_text (self);
  update_highlight (self);
  /* a committed segment's tokens never change: read them once */
  gboolean loading = self->token_shown != self->token_serial;
  if (loading ? self->token_segment != self->segment : !self->tokens || self->tokens->segment != self->segment)
    update_tokens (self);
}

gboolean
memscope_text_pane_get_token_range (MemscopeTextPane *self, int token, int *start, int *end)
{
  if (!self->tokens || token < 0 || token >= self->tokens->n)
    return FALSE;
  *start = self->tokens->char_start[token];
  *end = self->tokens->char_end[token];
  return TRUE;
}

int
memscope_text_pane_get_n_tokens (MemscopeTextPane *self)
{
  return self->tokens ? self->tokens->n : 0;
}

GtkTextView *
memscope_text_pane_get_text_view (MemscopeTextPane *self)
{
  return self->text_view;
}

GtkWidget *
memscope_text_pane_get_legend (MemscopeTextPane *self)
{
  return GTK_WIDGET (self->legend);
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
    case PROP_COLOURING: g_value_set_uint (value, (guint) self->colouring); break;
    case PROP_SOURCE: g_value_set_uint (value, (guint) self->source); break;
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
    case PROP_COLOURING: memscope_text_pane_set_colouring (self, (MemscopeTextColouring) g_value_get_uint (value)); break;
    case PROP_SOURCE: memscope_text_pane_set_source (self, (int) g_value_get_uint (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
memscope_text_pane_dispose (GObject *object)
{
  MemscopeTextPane *self = MEMSCOPE_TEXT_PANE (object);
  self->disposed = TRUE;   /* jobs still running find nothing to update */
  if (self->text_view)
    MEMSCOPE_TOKEN_VIEW (self->text_view)->pane = NULL;
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
  segment_tokens_free (self->tokens);
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
  /* MemscopeTextColouring; a uint so the dropdown's "selected" binds to it */
  props[PROP_COLOURING] = g_param_spec_uint ("colouring", NULL, NULL, 0, MEMSCOPE_TEXT_COLOUR_NLL, 0, rw);
  /* 0: "run" colours the text, 1: "compared-run" does (while there is one) */
  props[PROP_SOURCE] = g_param_spec_uint ("source", NULL, NULL, 0, 1, 0, rw);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /* the segment clicked, or holding the text found */
  signals[SEGMENT_ACTIVATED] = g_signal_new ("segment-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                             NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* (segment, token) under the pointer, (−1, −1) when it left the tokens */
  signals[TOKEN_HOVERED] = g_signal_new ("token-hovered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                         NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);

  g_type_ensure (MEMSCOPE_TYPE_TOKEN_VIEW);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/memscope/Memscope/ui/memscope-text-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, MemscopeTextPane, caption);
  gtk_widget_class_bind_template_child (widget_class, MemscopeTextPane, legend);
  gtk_widget_class_bind_template_child (widget_class, MemscopeTextPane, source_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeTextPane, colouring_dropdown);
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
  MEMSCOPE_TOKEN_VIEW (self->text_view)->pane = self;
  self->segment_offsets = g_array_new (FALSE, FALSE, sizeof (int));
  self->slot = -1;
  self->hovered = -1;

  /* later tags win: the colourings over the current segment's yellow, the
   * hovered token over everything */
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_create_tag (buffer, "current", "background", "#f6d32d", "foreground", "#000000", "weight",
                              PANGO_WEIGHT_BOLD, NULL);
  for (int k = 0; k < N_TOKEN_TAGS; k++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "write-%d", k);
      gtk_text_buffer_create_tag (buffer, name, "background", write_colours[k], "foreground",
                                  k >= 3 ? "#ffffff" : "#000000", NULL);
      g_snprintf (name, sizeof name, "read-%d", k);
      gtk_text_buffer_create_tag (buffer, name, "background", read_colours[k], "foreground", "#000000", NULL);
      g_snprintf (name, sizeof name, "nll-%d", k);
      gtk_text_buffer_create_tag (buffer, name, "background", nll_colours[k], "foreground",
                                  k >= 3 ? "#ffffff" : "#000000", NULL);
    }
  /* the views outline the hovered token in the same cyan */
  gtk_text_buffer_create_tag (buffer, "hovered", "background", "#00e0ff", "foreground", "#000000", NULL);
  GtkTextIter start;
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_create_mark (buffer, "current-start", &start, TRUE);

  gtk_drawing_area_set_draw_func (self->legend, draw_legend, self, NULL);
  g_object_bind_property (self->colouring_dropdown, "selected", self, "colouring",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->source_dropdown, "selected", self, "source", G_BINDING_BIDIRECTIONAL);
  update_source_choices (self);
  update_caption (self);

  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));
  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect (self->search_entry, "activate", G_CALLBACK (on_search_activate), self);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_text_clicked), self);
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), GTK_EVENT_CONTROLLER (click));
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), motion);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->text_view), TRUE);
  g_signal_connect (self->text_view, "query-tooltip", G_CALLBACK (on_query_tooltip), self);
}

GtkWidget *
memscope_text_pane_new (void)
{
  return g_object_new (MEMSCOPE_TYPE_TEXT_PANE, NULL);
}
