/* memscope-window.c — the workbench window: its state (runs, segment,
 * slot, attention, colormap) and what follows it — the views, the text
 * pane (memscope-text-pane.c), the title and the progress strip.  The
 * tool row and the timeline are bound to the state in
 * memscope-window-controls.c; opening and recording are in
 * memscope-window-open.c, the actions in memscope-window-actions.c,
 * exporting in memscope-window-export.c. */
#include "memscope-window-private.h"

#include "memscope-application.h"
#include "memscope-task.h"
#include "ms-model.h"
#include "ms-recording.h"

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

/* ---- the text pane (memscope-text-pane.c) ---- */

gboolean
memscope_window_get_highlight (MemscopeWindow *self, int *start, int *end)
{
  return memscope_text_pane_get_highlight (self->text_pane, start, end);
}

int
memscope_window_segment_at_offset (MemscopeWindow *self, int offset)
{
  return memscope_text_pane_segment_at_offset (self->text_pane, offset);
}

gboolean
memscope_window_find_text (MemscopeWindow *self, const char *text, gboolean next)
{
  return memscope_text_pane_find (self->text_pane, text, next);
}

char *
memscope_window_describe_text_at (MemscopeWindow *self, int offset)
{
  return memscope_text_pane_describe_offset (self->text_pane, offset);
}

/* A token hovered in the text is outlined in the views that show its
 * segment's tokens. */
static void
on_text_token_hovered (MemscopeTextPane *pane, int segment, int token, MemscopeWindow *self)
{
  /* each run's panel outlines that run's token (the pane maps the hovered
   * one to the other run's, through the characters they cover) */
  int a = memscope_text_pane_get_hovered_token_of (pane, self->run_a);
  int b = self->compared ? memscope_text_pane_get_hovered_token_of (pane, self->compared) : -1;
  for (guint i = 0; i < G_N_ELEMENTS (self->views); i++)
    memscope_figure_view_set_hover_token (self->views[i], segment, a, b);
}

/* Clicking a segment of the text, or finding text in it, steps there. */
static void
on_text_segment_activated (MemscopeTextPane *pane, int segment, MemscopeWindow *self)
{
  memscope_window_set_segment (self, segment);
}

/* What shows the segment and the slot besides the views (which follow
 * their bindings). */
static void
update_selection (MemscopeWindow *self)
{
  if (!self->runs)
    return;   /* closing */
  _memscope_window_update_timeline (self);
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

/* The narrow header's view menu lists the views whose pages show. */
static void
update_view_menu (MemscopeWindow *self)
{
  g_menu_remove_all (self->view_menu);
  for (guint i = 0; i < MS_VIEW_N_KINDS; i++)
    {
      const MsViewInfo *info = ms_view_info (i);
      AdwViewStackPage *page = adw_view_stack_get_page (self->view_stack, GTK_WIDGET (self->views[info->kind]));
      if (!adw_view_stack_page_get_visible (page))
        continue;
      g_autofree char *detailed = g_strdup_printf ("win.view::%s", info->name);
      g_menu_append (self->view_menu, info->title, detailed);
    }
}

/* A view's icon in the header's switcher (resources/icons): the shape of
 * its figure. */
static const char *
view_icon (const MsViewInfo *info)
{
  switch (info->shape)
    {
    case MS_VIEW_STACKED: return "memscope-view-stacked-symbolic";
    case MS_VIEW_LINES: return "memscope-view-lines-symbolic";
    case MS_VIEW_HEATMAP: break;
    }
  return info->x == MS_VIEW_AXIS_GRID ? "memscope-view-tiles-symbolic" : "memscope-view-heatmap-symbolic";
}

/* The pages of views only some engines have data for (ms_view_offered:
 * MemBART's gate) show while a run shown offers them.  The menu is rebuilt
 * only when a page's visibility changes, so an open menu stays open while
 * a live recording refreshes the window. */
static void
update_offered_views (MemscopeWindow *self)
{
  MemscopeRun *shown[] = { memscope_window_get_run_a (self), self->compared };
  gboolean changed = g_menu_model_get_n_items (G_MENU_MODEL (self->view_menu)) == 0;
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    {
      if (ms_view_info (k)->needs == 0)
        continue;
      gboolean offered = FALSE;
      for (guint r = 0; r < G_N_ELEMENTS (shown); r++)
        {
          const MsConfig *c = shown[r] ? memscope_run_get_config (shown[r]) : NULL;
          offered = offered || (c && ms_view_offered (c, k));
        }
      AdwViewStackPage *page = adw_view_stack_get_page (self->view_stack, GTK_WIDGET (self->views[k]));
      changed = changed || adw_view_stack_page_get_visible (page) != offered;
      adw_view_stack_page_set_visible (page, offered);
    }
  if (changed)
    update_view_menu (self);
}

static void
runs_shown_changed (MemscopeWindow *self)
{
  if (!self->runs)
    return;   /* closing */
  MemscopeRun *compared = self->compare ? memscope_window_get_run_b (self) : NULL;
  if (g_set_object (&self->compared, compared))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COMPARED_RUN]);
  update_offered_views (self);
  update_title (self);
  _memscope_window_update_attention_choices (self);
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
  memscope_text_pane_reload (self->text_pane);
  update_offered_views (self);
  _memscope_window_update_attention_choices (self);
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
  _memscope_window_update_timeline (self);   /* the adjustment's range before its value */
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
  return memscope_text_pane_get_loading (self->text_pane);
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
GtkTextBuffer *memscope_window_get_text_buffer (MemscopeWindow *self) { return memscope_text_pane_get_buffer (self->text_pane); }
MemscopeTextPane *memscope_window_get_text_pane (MemscopeWindow *self) { return self->text_pane; }
const char *memscope_window_get_error (MemscopeWindow *self) { return self->error; }
const char *memscope_window_get_text_caption (MemscopeWindow *self) { return memscope_text_pane_get_caption (self->text_pane); }

MemscopeFigureView *
memscope_window_get_view (MemscopeWindow *self, MsViewKind kind)
{
  return self->views[kind];
}

MemscopeFigureView *
memscope_window_get_visible_view (MemscopeWindow *self)
{
  return MEMSCOPE_FIGURE_VIEW (adw_view_stack_get_visible_child (self->view_stack));
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
on_visible_view_changed (AdwViewStack *stack, GParamSpec *pspec, MemscopeWindow *self)
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

/* The window is closed: its work stops (recordings and loads cancelled,
 * timers removed) and, its runs gone, what still answers it — a job's
 * callback, a file chooser, a control being torn down — sees it closed
 * (runs NULL) and changes nothing. */
static void
close_window (MemscopeWindow *self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->play_source, g_source_remove);
  g_clear_object (&self->runs);
  if (self->settings)
    g_settings_unbind (self, "colormap");
}

/* gtk_window_destroy() unrealizes the window, but disposes it only when
 * its last reference goes, and a recording holds one until it ends: the
 * window closes here, so a recording stops at its next segment rather
 * than running on to the end of its input. */
static void
memscope_window_unrealize (GtkWidget *widget)
{
  close_window (MEMSCOPE_WINDOW (widget));
  GTK_WIDGET_CLASS (memscope_window_parent_class)->unrealize (widget);
}

static void
memscope_window_dispose (GObject *object)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  /* first (if it was never shown): the runs gone, what the controls do as
   * they are disposed (a dropdown losing its model selects nothing)
   * changes no state and touches no disposed widget */
  close_window (self);
  /* the views are borrowed from the stack, which goes first: nothing the
   * text pane does as it is torn down (a hovered token let go) reaches them */
  if (self->text_pane)
    g_signal_handlers_disconnect_by_data (self->text_pane, self);
  memset (self->views, 0, sizeof self->views);
  self->causal_bar = NULL;
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
  g_free (self->input_path);
  g_free (self->restore_view);
  g_ptr_array_unref (self->pending_models);
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

/* Maximized if it was when it was last closed. */
static void
memscope_window_constructed (GObject *object)
{
  MemscopeWindow *self = MEMSCOPE_WINDOW (object);
  G_OBJECT_CLASS (memscope_window_parent_class)->constructed (object);
  if (self->settings && g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
memscope_window_class_init (MemscopeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->constructed = memscope_window_constructed;
  widget_class->unrealize = memscope_window_unrealize;
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

  g_type_ensure (MEMSCOPE_TYPE_TEXT_PANE);
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
  gtk_widget_class_bind_template_child (widget_class, MemscopeWindow, text_pane);
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
      /* (maximized: in constructed, after GtkWindow's "maximized", a
       * construct property, has been set to its default) */
    }

  _memscope_window_bind_controls (self);

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
      AdwViewStackPage *page = adw_view_stack_add_titled (self->view_stack, view, info->name, info->title);
      adw_view_stack_page_set_icon_name (page, view_icon (info));
      g_signal_connect_object (view, "selected", G_CALLBACK (on_view_selected), self, 0);
    }

  update_offered_views (self);

  g_signal_connect_object (gtk_recent_manager_get_default (), "changed",
                           G_CALLBACK (_memscope_window_update_recent_menu), self, G_CONNECT_SWAPPED);
  _memscope_window_update_recent_menu (self);
  _memscope_window_update_recordings_menu (self);

  /* the text shows run A (and says so while comparing) at the window's segment and slot */
  g_object_bind_property (self, "run-a", self->text_pane, "run", G_BINDING_SYNC_CREATE);
  self->causal_bar = memscope_causal_bar_install (self->view_stack);
  g_object_bind_property (self, "run-a", self->causal_bar, "run", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "compared-run", self->text_pane, "compared-run", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "segment", self->text_pane, "segment", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "slot", self->text_pane, "slot", G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->text_pane, "segment-activated", G_CALLBACK (on_text_segment_activated), self, 0);
  g_signal_connect_object (self->text_pane, "token-hovered", G_CALLBACK (on_text_token_hovered), self, 0);

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

const char *
memscope_window_get_view_name (MemscopeWindow *self)
{
  return adw_view_stack_get_visible_child_name (self->view_stack);
}

void
memscope_window_set_view_name (MemscopeWindow *self, const char *name)
{
  if (adw_view_stack_get_child_by_name (self->view_stack, name))
    adw_view_stack_set_visible_child_name (self->view_stack, name);
}
