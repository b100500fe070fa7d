/* memscope-window-controls.c — the window's controls and what they show:
 * the run, layer, head and colormap dropdowns of the tool row and the
 * segment timeline, bound both ways to the window's properties, the
 * layer and head choices of the runs shown, and playing through the
 * segments (win.play). */
#include "memscope-window-private.h"

#include "ms-colormap.h"

static void on_speed_changed (GtkDropDown *drop, GParamSpec *pspec, MemscopeWindow *self);

/* ---- what they show ---- */

void
_memscope_window_update_timeline (MemscopeWindow *self)
{
  int n = memscope_window_get_n_segments (self);
  /* the value follows "segment" through its binding */
  gtk_adjustment_set_upper (self->segment_adjustment, MAX (n - 1, 0));
  g_autofree char *label = n > 0 ? g_strdup_printf ("segment %d of %d", self->segment, n) : g_strdup ("no segments");
  gtk_label_set_text (self->segment_label, label);
  g_autofree char *sel = self->slot >= 0 ? g_strdup_printf ("selected slot %d", self->slot) : g_strdup ("");
  gtk_label_set_text (self->selection_label, sel);
}

/* Layer and head choices for the runs shown: "last"/"mean", then indices. */
void
_memscope_window_update_attention_choices (MemscopeWindow *self)
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

/* ---- the bindings' conversions ---- */

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

/* ---- binding them ---- */

void
_memscope_window_bind_controls (MemscopeWindow *self)
{
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

  g_signal_connect (self->speed_dropdown, "notify::selected", G_CALLBACK (on_speed_changed), self);
}

/* ---- playing ---- */

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

