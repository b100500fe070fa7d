/* memscope-window.c — the workbench window: opening, recording, the
 * timeline, the views and the input text. */
#include "memscope-window-private.h"

#include "memscope-application.h"
#include "ms-recording.h"

#include <math.h>
#include <string.h>


G_DEFINE_FINAL_TYPE (MemscopeWindow, memscope_window, GTK_TYPE_APPLICATION_WINDOW)

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
  return self->run_a >= 0 && (guint) self->run_a < self->runs->len ? self->runs->pdata[self->run_a] : NULL;
}

MemscopeRun *
memscope_window_get_run_b (MemscopeWindow *self)
{
  return self->run_b >= 0 && (guint) self->run_b < self->runs->len && self->run_b != self->run_a
           ? self->runs->pdata[self->run_b]
           : NULL;
}

int
memscope_window_get_n_segments (MemscopeWindow *self)
{
  MemscopeRun *a = memscope_window_get_run_a (self);
  return a ? memscope_run_get_segments_done (a) : 0;
}

/* Builds the input text of run A with one offset per segment start, each
 * segment's bytes made valid UTF-8 on their own (the bytes tokenizer may
 * split a character between segments). */
static void
update_text (MemscopeWindow *self)
{
  MemscopeRun *a = memscope_window_get_run_a (self);
  int seg_len = a ? memscope_run_get_segment_len (a) : 0;
  g_autofree char *key = a ? g_strdup_printf ("%p/%d", (void *) a, seg_len) : NULL;
  if (g_strcmp0 (key, self->text_run_key) == 0)
    return;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  g_array_set_size (self->segment_offsets, 0);
  if (!a || seg_len <= 0)
    {
      gtk_text_buffer_set_text (buffer, a ? "Recording…" : "", -1);
      g_free (self->text_run_key);
      self->text_run_key = a ? NULL : g_steal_pointer (&key);
      return;
    }
  g_autofree char *contents = NULL;
  gsize n = 0;
  GString *text = g_string_new (NULL);
  int offset = 0;
  if (g_file_get_contents (memscope_run_get_input_path (a), &contents, &n, NULL))
    {
      for (gsize start = 0; start < n; start += seg_len)
        {
          g_autofree char *piece = g_utf8_make_valid (contents + start, MIN ((gsize) seg_len, n - start));
          g_array_append_val (self->segment_offsets, offset);
          offset += g_utf8_strlen (piece, -1);
          g_string_append (text, piece);
        }
    }
  else
    {
      /* The input is gone: the recording keeps every segment's text. */
      MsRecording *rec = memscope_run_get_recording (a, NULL);
      for (int t = 0; rec && t < memscope_run_get_segments_done (a); t++)
        {
          g_autoptr (GBytes) bytes = ms_recording_segment_text (rec, memscope_run_get_id (a), t, NULL);
          gsize len = 0;
          const char *data = bytes ? g_bytes_get_data (bytes, &len) : "";
          g_autofree char *piece = g_utf8_make_valid (data, len);
          g_array_append_val (self->segment_offsets, offset);
          offset += g_utf8_strlen (piece, -1);
          g_string_append (text, piece);
        }
    }
  g_array_append_val (self->segment_offsets, offset);
  gtk_text_buffer_set_text (buffer, text->str, (int) text->len);
  g_string_free (text, TRUE);
  g_free (self->text_run_key);
  self->text_run_key = g_steal_pointer (&key);
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

/* One value per token of the current segment of run A, for colouring the
 * text (ms_view_token_values): with a slot selected, how much of each token
 * was written into it; without, how strongly each token reads memory.  Last
 * layer, mean over heads.  Owned, NULL when there is nothing to colour;
 * @what names the quantity. */
static float *
token_values (MemscopeWindow *self, MemscopeRun *a, int n_chars, const char **what)
{
  MsRecording *rec = memscope_run_get_recording (a, NULL);
  if (!rec)
    return NULL;
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.segment = self->segment;
  gboolean write = self->slot >= 0 && self->slot < memscope_run_get_n_slots (a);
  g_autoptr (MsViewData) v = ms_view_load (rec, memscope_run_get_id (a), write ? MS_VIEW_WRITE : MS_VIEW_READ, &p,
                                           NULL);
  int n = 0;
  float *values = v ? ms_view_token_values (v, write ? self->slot : -1, &n, what) : NULL;
  if (values && n != n_chars)   /* tokens are bytes: one character each */
    g_clear_pointer (&values, g_free);
  return values;
}

/* Colours the current segment's tokens (token_values) in N_TOKEN_TAGS
 * steps relative to the segment's largest value. */
static void
update_token_colours (MemscopeWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter s, e;
  gtk_text_buffer_get_bounds (buffer, &s, &e);
  for (int k = 0; k < N_TOKEN_TAGS; k++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "write-%d", k);
      gtk_text_buffer_remove_tag_by_name (buffer, name, &s, &e);
      g_snprintf (name, sizeof name, "read-%d", k);
      gtk_text_buffer_remove_tag_by_name (buffer, name, &s, &e);
    }
  gtk_label_set_text (self->text_legend, "");
  MemscopeRun *a = memscope_window_get_run_a (self);
  int start, end;
  if (!a || !memscope_window_get_highlight (self, &start, &end))
    return;
  const char *what = NULL;
  g_autofree float *values = token_values (self, a, end - start, &what);
  if (!values)
    return;
  gtk_label_set_text (self->text_legend, what);
  const char *prefix = self->slot >= 0 ? "write" : "read";
  float top = 0;
  for (int j = 0; j < end - start; j++)
    top = isnan (values[j]) ? top : MAX (top, values[j]);
  for (int j = 0; top > 0 && j < end - start; j++)
    {
      int k = isnan (values[j]) ? -1 : MIN ((int) (values[j] / top * N_TOKEN_TAGS), N_TOKEN_TAGS - 1);
      if (k < 1)
        continue;   /* the weakest step stays uncoloured */
      char name[16];
      g_snprintf (name, sizeof name, "%s-%d", prefix, k);
      gtk_text_buffer_get_iter_at_offset (buffer, &s, start + j);
      gtk_text_buffer_get_iter_at_offset (buffer, &e, start + j + 1);
      gtk_text_buffer_apply_tag_by_name (buffer, name, &s, &e);
    }
}

static void
update_timeline (MemscopeWindow *self)
{
  int n = memscope_window_get_n_segments (self);
  self->updating = TRUE;
  gtk_adjustment_set_upper (self->segment_adjustment, MAX (n - 1, 0));
  gtk_adjustment_set_value (self->segment_adjustment, self->segment);
  self->updating = FALSE;
  g_autofree char *label = n > 0 ? g_strdup_printf ("segment %d of %d", self->segment, n) : g_strdup ("no segments");
  gtk_label_set_text (self->segment_label, label);
  g_autofree char *sel = self->slot >= 0 ? g_strdup_printf ("selected slot %d", self->slot) : g_strdup ("");
  gtk_label_set_text (self->selection_label, sel);
}

static void
update_selection (MemscopeWindow *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    memscope_figure_view_set_selection (self->views[i], self->segment, self->slot);
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
  for (guint i = 0; i < self->runs->len; i++)
    {
      MemscopeRun *run = self->runs->pdata[i];
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
      self->updating = TRUE;
      gtk_drop_down_set_model (drops[d], G_LIST_MODEL (list));
      gtk_drop_down_set_selected (drops[d], keep != GTK_INVALID_LIST_POSITION && keep <= (guint) counts[d] ? keep : 0);
      self->updating = FALSE;
    }
}

/* Hands the runs shown to every view. */
void
_memscope_window_update_views (MemscopeWindow *self)
{
  MemscopeRun *a = memscope_window_get_run_a (self);
  MemscopeRun *b = self->compare ? memscope_window_get_run_b (self) : NULL;
  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    memscope_figure_view_set_runs (self->views[i], a, b, b && self->difference);
  update_text (self);
  update_attention_choices (self);
  update_selection (self);
}

void
_memscope_window_update_run_choices (MemscopeWindow *self)
{
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  for (guint i = 0; i < self->runs->len; i++)
    gtk_string_list_append (names, memscope_run_get_name (self->runs->pdata[i]));
  self->updating = TRUE;
  gtk_drop_down_set_model (self->run_a_dropdown, G_LIST_MODEL (names));
  gtk_drop_down_set_model (self->run_b_dropdown, G_LIST_MODEL (names));
  if (self->run_a >= 0)
    gtk_drop_down_set_selected (self->run_a_dropdown, self->run_a);
  if (self->run_b >= 0)
    gtk_drop_down_set_selected (self->run_b_dropdown, self->run_b);
  self->updating = FALSE;
}

/* New segments arrived: reload what the views show, at most every 200 ms. */
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
    self->refresh_source = g_timeout_add (200, _memscope_window_refresh_now, self);
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
  update_selection (self);
}

void
memscope_window_set_slot (MemscopeWindow *self, int slot)
{
  if (slot == self->slot)
    return;
  self->slot = slot;
  update_selection (self);
}

int memscope_window_get_segment (MemscopeWindow *self) { return self->segment; }
int memscope_window_get_slot (MemscopeWindow *self) { return self->slot; }
guint memscope_window_get_n_runs (MemscopeWindow *self) { return self->runs->len; }
MemscopeRun *memscope_window_get_run (MemscopeWindow *self, guint i) { return self->runs->pdata[i]; }
GSettings *memscope_window_get_settings (MemscopeWindow *self) { return self->settings; }
gboolean memscope_window_get_compare (MemscopeWindow *self) { return self->compare; }
gboolean memscope_window_get_difference (MemscopeWindow *self) { return self->difference; }
GtkTextBuffer *memscope_window_get_text_buffer (MemscopeWindow *self) { return gtk_text_view_get_buffer (self->text_view); }
const char *memscope_window_get_error (MemscopeWindow *self) { return self->error; }

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
  self->compare = compare;
  self->difference = compare && difference;
  _memscope_window_update_views (self);
}

gboolean
memscope_window_is_busy (MemscopeWindow *self)
{
  for (guint i = 0; i < self->runs->len; i++)
    if (memscope_run_get_status (self->runs->pdata[i]) == MS_RUN_RECORDING)
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

/* ---- widget callbacks ---- */

static void
on_segment_value_changed (GtkAdjustment *adj, MemscopeWindow *self)
{
  if (!self->updating)
    memscope_window_set_segment (self, (int) (gtk_adjustment_get_value (adj) + 0.5));
}

static void
on_run_selected (GtkDropDown *drop, GParamSpec *pspec, MemscopeWindow *self)
{
  if (self->updating)
    return;
  guint a = gtk_drop_down_get_selected (self->run_a_dropdown), b = gtk_drop_down_get_selected (self->run_b_dropdown);
  self->run_a = a == GTK_INVALID_LIST_POSITION ? -1 : (int) a;
  self->run_b = b == GTK_INVALID_LIST_POSITION ? -1 : (int) b;
  g_clear_pointer (&self->text_run_key, g_free);
  _memscope_window_update_views (self);
}

static void
on_attention_selected (GtkDropDown *drop, GParamSpec *pspec, MemscopeWindow *self)
{
  if (self->updating)
    return;
  int layer = (int) gtk_drop_down_get_selected (self->layer_dropdown) - 1;
  int head = (int) gtk_drop_down_get_selected (self->head_dropdown) - 1;
  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    memscope_figure_view_set_attention (self->views[i], MAX (layer, -1), MAX (head, -1));
}

static void
on_colormap_selected (GtkDropDown *drop, GParamSpec *pspec, MemscopeWindow *self)
{
  MsColormap cmap = (MsColormap) gtk_drop_down_get_selected (drop);
  if (cmap > MS_COLORMAP_DIVERGING)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    memscope_figure_view_set_colormap (self->views[i], cmap);
  if (self->settings && !self->updating)
    g_settings_set_string (self->settings, "colormap", ms_colormap_to_name (cmap));
}

static void
on_view_selected (MemscopeFigureView *view, int segment, int slot, MemscopeWindow *self)
{
  if (slot >= 0)
    self->slot = slot == self->slot && segment < 0 ? -1 : slot;   /* clicking the selected slot clears it */
  if (segment >= 0)
    {
      int n = memscope_window_get_n_segments (self);
      self->segment = CLAMP (segment, 0, MAX (n - 1, 0));
    }
  update_selection (self);
}

static void
on_visible_view_changed (GtkStack *stack, GParamSpec *pspec, MemscopeWindow *self)
{
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

/* ---- GObject ---- */

static void
memscope_window_dispose (GObject *object)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->play_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), MEMSCOPE_TYPE_WINDOW);
  g_clear_pointer (&self->runs, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (memscope_window_parent_class)->dispose (object);
}

GMenuModel *
memscope_window_get_recent_menu (MemscopeWindow *self)
{
  return G_MENU_MODEL (self->recent_menu);
}

static void
memscope_window_finalize (GObject *object)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  g_array_unref (self->segment_offsets);
  g_free (self->input_path);
  g_free (self->text_run_key);
  g_free (self->error);
  G_OBJECT_CLASS (memscope_window_parent_class)->finalize (object);
}

static void
memscope_window_class_init (MemscopeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = memscope_window_dispose;
  object_class->finalize = memscope_window_finalize;
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
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, text_view);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, text_legend);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, segment_adjustment);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, segment_label);
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, recent_menu);
}

static void
memscope_window_init (MemscopeWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->runs = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
  self->segment_offsets = g_array_new (FALSE, FALSE, sizeof (int));
  self->run_a = self->run_b = -1;
  self->slot = -1;
  self->settings = memscope_settings_new ();

  for (guint i = 0; i < MS_VIEW_N_KINDS; i++)
    {
      const MsViewInfo *info = ms_view_info (i);
      GtkWidget *view = memscope_figure_view_new (info->kind);
      self->views[info->kind] = MEMSCOPE_FIGURE_VIEW (view);
      gtk_stack_add_titled (self->view_stack, view, info->name, info->title);
      g_signal_connect_object (view, "selected", G_CALLBACK (on_view_selected), self, 0);
    }

  g_signal_connect_object (gtk_recent_manager_get_default (), "changed",
                           G_CALLBACK (_memscope_window_update_recent_menu), self, G_CONNECT_SWAPPED);
  _memscope_window_update_recent_menu (self);

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

  if (self->settings)
    {
      g_autofree char *name = g_settings_get_string (self->settings, "colormap");
      MsColormap cmap;
      if (ms_colormap_from_name (name, &cmap, NULL))
        {
          self->updating = TRUE;
          gtk_drop_down_set_selected (self->colormap_dropdown, cmap);
          self->updating = FALSE;
          for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
            memscope_figure_view_set_colormap (self->views[i], cmap);
        }
    }

  g_signal_connect (self->segment_adjustment, "value-changed", G_CALLBACK (on_segment_value_changed), self);
  g_signal_connect (self->run_a_dropdown, "notify::selected", G_CALLBACK (on_run_selected), self);
  g_signal_connect (self->run_b_dropdown, "notify::selected", G_CALLBACK (on_run_selected), self);
  g_signal_connect (self->layer_dropdown, "notify::selected", G_CALLBACK (on_attention_selected), self);
  g_signal_connect (self->head_dropdown, "notify::selected", G_CALLBACK (on_attention_selected), self);
  g_signal_connect (self->colormap_dropdown, "notify::selected", G_CALLBACK (on_colormap_selected), self);
  g_signal_connect (self->view_stack, "notify::visible-child", G_CALLBACK (on_visible_view_changed), self);

  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  memscope_window_install_actions (self);
  _memscope_window_update_views (self);
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

void
memscope_window_set_playing (MemscopeWindow *self, gboolean playing)
{
  if (playing && !self->play_source)
    {
      if (self->segment + 1 >= memscope_window_get_n_segments (self))
        memscope_window_set_segment (self, 0);
      self->play_source = g_timeout_add (250, play_step, self);
    }
  else if (!playing)
    g_clear_handle_id (&self->play_source, g_source_remove);
  memscope_window_sync_actions (self);
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
