/* memscope-text-pane.c — the text pane as a widget: its state (the runs,
 * segment, slot, colouring and source; contract in memscope-text-pane.h),
 * the pointer over the text (hovering a token, tooltips, clicking a
 * segment) and the GObject plumbing.  The text and its segments are read
 * in memscope-text-pane-loading.c, the current segment's tokens read and
 * tagged in memscope-text-pane-tokens.c, Ctrl+F in
 * memscope-text-pane-search.c; what they share is in
 * memscope-text-pane-private.h. */
#include "memscope-text-pane-private.h"

#include <math.h>

/* The slots a token's tooltip lists before summing the rest. */
#define TOOLTIP_SLOTS 4

G_DEFINE_FINAL_TYPE (MemscopeTextPane, memscope_text_pane, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_RUN, PROP_COMPARED_RUN, PROP_SEGMENT, PROP_SLOT, PROP_COLOURING, PROP_SOURCE, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SEGMENT_ACTIVATED, TOKEN_HOVERED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The run whose text, tokens and colours are shown. */
MemscopeRun *
_memscope_text_pane_shown_run (MemscopeTextPane *self)
{
  return self->source == 1 && self->compared ? self->compared : self->run;
}

/* ---- pointer ---- */

/* The character offset of the text at text-view point (@x, @y), −1 off the text. */
static int
text_offset_at (MemscopeTextPane *self, double x, double y)
{
  int bx, by;
  gtk_text_view_window_to_buffer_coords (self->text_view, GTK_TEXT_WINDOW_WIDGET, (int) x, (int) y, &bx, &by);
  /* the character under the point (get_iter_at_location would give the
   * nearest cursor position: the next character over a right half) */
  GtkTextIter iter;
  int trailing;
  if (!gtk_text_view_get_iter_at_position (self->text_view, &iter, &trailing, bx, by))
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
  int j = _memscope_text_pane_token_at_offset (self, offset);
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
  int j = _memscope_text_pane_token_at_offset (self, offset);
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
  self->hovered_other = -1;
  for (int k = 0; j >= 0 && k < t->other_n && self->hovered_other < 0; k++)
    if (t->other_start[k] <= t->char_start[j] && t->char_start[j] < t->other_end[k])
      self->hovered_other = k;
  if (j >= 0)
    _memscope_text_pane_tag_range (buffer, "hovered", t->char_start[j], t->char_end[j]);
  g_signal_emit (self, signals[TOKEN_HOVERED], 0, j >= 0 ? t->segment : -1, j);
}

int
memscope_text_pane_get_hovered_token (MemscopeTextPane *self)
{
  return self->hovered;
}

int
memscope_text_pane_get_hovered_token_of (MemscopeTextPane *self, MemscopeRun *run)
{
  MemscopeRun *shown = _memscope_text_pane_shown_run (self);
  if (!run || self->hovered < 0)
    return -1;
  if (run == shown)
    return self->hovered;
  MemscopeRun *other = !self->compared ? NULL : shown == self->compared ? self->run : self->compared;
  return run == other ? self->hovered_other : -1;
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

void
_memscope_text_pane_activate_segment (MemscopeTextPane *self, int segment)
{
  g_signal_emit (self, signals[SEGMENT_ACTIVATED], 0, segment);
}

/* ---- state ---- */

/* The run shown may have changed: its text, highlight and tokens. */
static void
shown_run_changed (MemscopeTextPane *self)
{
  _memscope_text_pane_update_text (self);
  _memscope_text_pane_update_highlight (self);
  _memscope_text_pane_update_tokens (self);
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
  return _memscope_text_pane_shown_run (self);
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
  _memscope_text_pane_update_highlight (self);
  _memscope_text_pane_update_tokens (self);
}

void
memscope_text_pane_set_slot (MemscopeTextPane *self, int slot)
{
  if (slot == self->slot)
    return;
  self->slot = slot;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SLOT]);
  _memscope_text_pane_update_tokens (self);
}

void
memscope_text_pane_set_colouring (MemscopeTextPane *self, MemscopeTextColouring colouring)
{
  if (colouring == self->colouring || (guint) colouring > MEMSCOPE_TEXT_COLOUR_NLL)
    return;
  self->colouring = colouring;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COLOURING]);
  _memscope_text_pane_apply_token_tags (self);   /* the tokens hold both colourings' values */
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
  _memscope_text_pane_update_text (self);
  _memscope_text_pane_update_highlight (self);
  /* a committed segment's tokens never change: read them once */
  gboolean loading = self->token_shown != self->token_serial;
  if (loading ? self->token_segment != self->segment : !self->tokens || self->tokens->segment != self->segment)
    _memscope_text_pane_update_tokens (self);
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
    _memscope_token_view_set_pane (MEMSCOPE_TOKEN_VIEW (self->text_view), NULL);
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
  _memscope_text_pane_tokens_free (self->tokens);
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
  _memscope_token_view_set_pane (MEMSCOPE_TOKEN_VIEW (self->text_view), self);
  self->segment_offsets = g_array_new (FALSE, FALSE, sizeof (int));
  self->slot = -1;
  self->hovered = self->hovered_other = -1;

  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  _memscope_text_pane_create_token_tags (buffer);
  GtkTextIter start;
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_create_mark (buffer, "current-start", &start, TRUE);

  gtk_drawing_area_set_draw_func (self->legend, _memscope_text_pane_draw_legend, self, NULL);
  g_object_bind_property (self->colouring_dropdown, "selected", self, "colouring",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->source_dropdown, "selected", self, "source", G_BINDING_BIDIRECTIONAL);
  update_source_choices (self);
  _memscope_text_pane_update_caption (self);

  _memscope_text_pane_init_search (self);
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
