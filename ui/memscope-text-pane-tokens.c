/* memscope-text-pane-tokens.c — the current segment's tokens in the text
 * pane: read on a worker thread (a TokenJob, numbered: the newest request
 * wins) — their characters, NLL, the value that colours them by memory,
 * and the read attention a tooltip describes (for a compact recording the
 * core replays the segment for it, on that worker) — then tagged on the
 * main thread by the colouring's steps, underlined by the text view, and
 * the colour scale drawn in the legend. */
#include "memscope-text-pane-private.h"

#include "memscope-task.h"
#include "ms-recording.h"

#include <math.h>

/* Colour steps of each colouring: the weakest stays uncoloured. */
#define N_TOKEN_TAGS 5
/* The slots a token's tooltip lists before summing the rest. */
#define TOOLTIP_SLOTS 4

/* Memory: written into the selected slot (blue), reading memory (orange),
 * on the attention weight's own scale from 0 to 1; NLL: on a fixed scale
 * from 0 to ln V nats, the NLL of a uniform guess, light to dark red (a
 * token that did worse than guessing takes the darkest step).  Fixed
 * scales, never one segment's largest value, so the segments of a run
 * (and runs of one vocabulary) compare by colour. */
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

void
_memscope_text_pane_tokens_free (SegmentTokens *t)
{
  if (!t)
    return;
  g_free (t->char_start);
  g_free (t->char_end);
  g_free (t->other_start);
  g_free (t->other_end);
  g_free (t->nll);
  g_free (t->memory);
  g_clear_pointer (&t->reads, ms_view_data_free);
  g_free (t);
}

/* ---- the text view, which underlines the tokens ---- */

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

void
_memscope_token_view_set_pane (MemscopeTokenView *view, MemscopeTextPane *pane)
{
  view->pane = pane;
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

/* ---- the current segment's tokens, read on a worker thread ---- */

typedef struct {
  char *path;
  gint64 run_id;
  char *other_path;            /* the other run compared, NULL: none */
  gint64 other_run_id;
  guint serial;
  SegmentTokens *result;       /* segment, start, end and slot asked for; the rest filled in */
} TokenJob;

static void
token_job_free (TokenJob *job)
{
  g_free (job->path);
  g_free (job->other_path);
  _memscope_text_pane_tokens_free (job->result);
  g_free (job);
}

/* The tokens of segment @segment of run @run_id in @rec as characters of
 * the pane's text, where the segment's @text (its stored bytes) begins at
 * character @start: into *@char_start and *@char_end (owned; *@n each).
 * FALSE when they cannot be read or @text's characters do not end at
 * @end (the input changed). */
static gboolean
token_chars (MsRecording *rec, const MsRunInfo *info, int segment, GBytes *text, int start, int end, int *n,
             int **char_start, int **char_end)
{
  size_t n_tokens = 0;
  g_autofree MsToken *tokens = ms_recording_segment_tokens (rec, info, segment, &n_tokens, NULL, NULL);
  if (!tokens)
    return FALSE;
  gsize len = 0;
  const char *bytes = g_bytes_get_data (text, &len);
  g_autofree int *starts_before = g_new (int, len + 1);
  g_autoptr (GString) valid = g_string_new (NULL);
  if (_memscope_text_pane_append_valid (valid, bytes, len, starts_before) != end - start)
    return FALSE;
  *n = (int) n_tokens;
  *char_start = g_new (int, n_tokens);
  *char_end = g_new (int, n_tokens);
  for (size_t i = 0; i < n_tokens; i++)
    {
      (*char_start)[i] = start + starts_before[tokens[i].start + 1] - 1;
      (*char_end)[i] = start + starts_before[tokens[i].end];
    }
  return TRUE;
}

/* The compared run's tokens of @t's segment, when that segment holds the
 * same bytes as @text (the runs cut the input alike up to there): into
 * @t->other_*, left empty otherwise — its tokens then cover other text. */
static void
read_other_tokens (const char *path, gint64 run_id, GBytes *text, SegmentTokens *t)
{
  g_autoptr (MsRecording) rec = ms_recording_open (path, NULL);
  if (!rec || !ms_recording_read_begin (rec, NULL))
    return;
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, NULL);
  g_autoptr (GBytes) other = info ? ms_recording_segment_text (rec, run_id, t->segment, NULL) : NULL;
  if (other && g_bytes_equal (other, text)
      && !token_chars (rec, info, t->segment, text, t->start, t->end, &t->other_n, &t->other_start, &t->other_end))
    t->other_n = 0;
  ms_recording_read_end (rec);
}

/* Fills @t from the recording at @path (its own connection): the tokens'
 * characters from the segment's stored text and byte ranges, their NLL,
 * the read attention view, and the memory colouring's values
 * (ms_view_token_values); with @other_path, the compared run's tokens of
 * the same segment (read_other_tokens).  FALSE when the tokens cannot be
 * read or do not tile the segment's characters in the text (the input
 * changed): nothing to show. */
static gboolean
read_segment_tokens (const char *path, gint64 run_id, const char *other_path, gint64 other_run_id,
                     SegmentTokens *t)
{
  g_autoptr (MsRecording) rec = ms_recording_open (path, NULL);
  if (!rec || !ms_recording_read_begin (rec, NULL))
    return FALSE;
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, run_id, NULL);
  g_autoptr (GBytes) text = info ? ms_recording_segment_text (rec, run_id, t->segment, NULL) : NULL;
  gboolean ok = text && token_chars (rec, info, t->segment, text, t->start, t->end, &t->n, &t->char_start,
                                     &t->char_end);
  ms_recording_read_end (rec);
  if (!ok)
    return FALSE;
  if (other_path)
    read_other_tokens (other_path, other_run_id, text, t);
  size_t n_nll = 0;
  t->nll = ms_recording_segment_nll (rec, info, t->segment, &n_nll, NULL);
  if (t->nll && n_nll != (size_t) t->n)
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
  return TRUE;
}

static void
token_job_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  TokenJob *job = data;
  if (!read_segment_tokens (job->path, job->run_id, job->other_path, job->other_run_id, job->result))
    g_clear_pointer (&job->result, _memscope_text_pane_tokens_free);
  g_task_return_boolean (task, TRUE);
}

/* The token of the current segment holding character @offset, −1 when none. */
int
_memscope_text_pane_token_at_offset (MemscopeTextPane *self, int offset)
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

void
_memscope_text_pane_tag_range (GtkTextBuffer *buffer, const char *name, int start, int end)
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
  *top = 1;   /* attention weights: one scale for every segment and run */
  return t->memory;
}

/* What the caption says: which run's tokens, coloured by what. */
void
_memscope_text_pane_update_caption (MemscopeTextPane *self)
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
  MemscopeRun *run = _memscope_text_pane_shown_run (self);
  g_autofree char *caption = !what ? g_strdup (t ? "Token boundaries underlined; nothing recorded to colour them by." : "")
                             : self->compared ? g_strdup_printf ("Run %s (%s): %s", run == self->compared ? "B" : "A",
                                                                 memscope_run_get_name (run), what)
                                              : g_strdup (what);
  gtk_label_set_text (self->caption, caption);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->caption), *caption ? caption : NULL);
  g_autofree char *scale = !values ? NULL
                           : self->colouring == MEMSCOPE_TEXT_COLOUR_NLL
                             ? g_strdup_printf ("NLL from 0 to ln V = %.2f nats (a uniform guess) and beyond: one "
                                                "scale for every segment of the run", top)
                             : g_strdup ("Attention weight from 0 to 1: one scale for every segment of the run");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->legend), scale);
  gtk_widget_set_visible (GTK_WIDGET (self->legend), values != NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self->legend));
}

/* Tags the current segment's tokens: alternating underlines, the
 * colouring's steps, the hovered token. */
void
_memscope_text_pane_apply_token_tags (MemscopeTextPane *self)
{
  clear_token_tags (self);
  _memscope_text_pane_update_caption (self);
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
          _memscope_text_pane_tag_range (buffer, name, s, e);
        }
    }
  if (self->hovered >= 0 && self->hovered < t->n)
    _memscope_text_pane_tag_range (buffer, "hovered", t->char_start[self->hovered], t->char_end[self->hovered]);
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
  _memscope_text_pane_tokens_free (self->tokens);
  self->tokens = g_steal_pointer (&job->result);
  _memscope_text_pane_apply_token_tags (self);
}

/* Reads the current segment's tokens on a worker thread; the newest
 * request wins. */
void
_memscope_text_pane_update_tokens (MemscopeTextPane *self)
{
  self->token_serial++;
  MemscopeRun *run = _memscope_text_pane_shown_run (self);
  int start, end;
  if (!run || !memscope_run_get_db_path (run) || self->segment >= memscope_run_get_segments_done (run)
      || !memscope_text_pane_get_highlight (self, &start, &end))
    {
      self->token_shown = self->token_serial;
      memscope_text_pane_hover_offset (self, -1);
      g_clear_pointer (&self->tokens, _memscope_text_pane_tokens_free);
      _memscope_text_pane_apply_token_tags (self);
      return;
    }
  TokenJob *job = g_new0 (TokenJob, 1);
  job->path = g_strdup (memscope_run_get_db_path (run));
  job->run_id = memscope_run_get_id (run);
  /* comparing: the other run's tokens too, so the views outline a hovered token in both */
  MemscopeRun *other = !self->compared ? NULL : run == self->compared ? self->run : self->compared;
  if (other && memscope_run_get_db_path (other) && self->segment < memscope_run_get_segments_done (other))
    {
      job->other_path = g_strdup (memscope_run_get_db_path (other));
      job->other_run_id = memscope_run_get_id (other);
    }
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
void
_memscope_text_pane_draw_legend (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  MemscopeTextPane *self = data;
  const char *prefix;
  float top;
  if (!colour_values (self, &prefix, &top))
    return;
  const char *const *colours = g_str_equal (prefix, "nll") ? nll_colours
                               : g_str_equal (prefix, "write") ? write_colours : read_colours;
  g_autofree char *lo = g_strdup ("0");
  g_autofree char *hi = g_str_equal (prefix, "nll") ? g_strdup_printf ("%.1f+ nats", top) : g_strdup ("1 weight");
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

void
_memscope_text_pane_create_token_tags (GtkTextBuffer *buffer)
{
  /* later tags win: the colourings over the current segment's yellow, the
   * hovered token over everything */
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
