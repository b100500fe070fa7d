/* memscope-export-dialog.c — the export dialog and the export itself. */
#include "memscope-export-dialog.h"

#include "memscope-application.h"

#include <math.h>

struct _MemscopeExportDialog {
  GtkWindow parent_instance;

  /* Template children (borrowed) */
  GtkDropDown *format_dropdown;
  GtkDropDown *preset_dropdown;
  GtkSpinButton *width_spin;
  GtkSpinButton *height_spin;
  GtkSpinButton *dpi_spin;
  GtkDropDown *colormap_dropdown;
  GtkEntry *title_entry;
  GtkWidget *form_grid;
  GtkScrolledWindow *preview_scroll;
  GtkDrawingArea *preview_area;
  GtkLabel *preview_label;

  /* Owned */
  MsViewFigure *preview;      /* the view's data with the chosen colormap and title; NULL: none to show */
  double ppi;                 /* logical pixels per inch of the screen */
  MemscopeFigureView *view;
  MemscopeWindow *window;     /* weak in spirit: the dialog is destroyed with it */
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (MemscopeExportDialog, memscope_export_dialog, GTK_TYPE_WINDOW)

/* Rows of the format dropdown, and the presets' names for ms_figure_size_parse. */
static const MsFigureFormat formats[] = { MS_FIGURE_FORMAT_PDF, MS_FIGURE_FORMAT_PNG, MS_FIGURE_FORMAT_SVG };
static const char *const format_ext[] = { [MS_FIGURE_FORMAT_PNG] = ".png", [MS_FIGURE_FORMAT_SVG] = ".svg",
                                          [MS_FIGURE_FORMAT_PDF] = ".pdf" };
static const char *const presets[] = { "single", "double", "neurips" };

/* @path, with the extension of @o's format appended when it lacks it.  Owned. */
static char *
target_path (const char *path, const MemscopeExportOptions *o)
{
  MsFigureFormat f;
  if (ms_figure_format_from_path (path, &f, NULL) && f == o->format)
    return g_strdup (path);
  return g_strconcat (path, format_ext[o->format], NULL);
}

gboolean
memscope_export_view (MemscopeFigureView *view, const char *path, const MemscopeExportOptions *o, GError **error)
{
  g_autofree char *target = target_path (path, o);
  MsViewFigure *shown = memscope_figure_view_get_figure (view);
  g_autoptr (MsViewFigure) own = NULL;
  /* The very figure on screen when nothing differs, else the same data
   * drawn with the chosen colormap and title. */
  if (!shown || o->cmap != memscope_figure_view_get_colormap (view) || (o->title && *o->title))
    {
      own = memscope_figure_view_build_figure (view, o->cmap, o->title && *o->title ? o->title : NULL, error);
      if (!own)
        return FALSE;
      shown = own;
    }
  return ms_figure_export (target, o->width_in, o->height_in, o->dpi, ms_view_figure_draw, shown, error);
}

void
memscope_export_dialog_get_options (MemscopeExportDialog *self, MemscopeExportOptions *o)
{
  guint f = gtk_drop_down_get_selected (self->format_dropdown);
  o->format = formats[MIN (f, G_N_ELEMENTS (formats) - 1)];
  o->width_in = gtk_spin_button_get_value (self->width_spin);
  o->height_in = gtk_spin_button_get_value (self->height_spin);
  o->dpi = gtk_spin_button_get_value (self->dpi_spin);
  o->cmap = (MsColormap) MIN (gtk_drop_down_get_selected (self->colormap_dropdown), MS_COLORMAP_DIVERGING);
  o->title = gtk_editable_get_text (GTK_EDITABLE (self->title_entry));
}

static void
on_preset_selected (GtkDropDown *drop, GParamSpec *pspec, MemscopeExportDialog *self)
{
  guint p = gtk_drop_down_get_selected (drop);
  gboolean custom = p >= G_N_ELEMENTS (presets);
  gtk_widget_set_sensitive (GTK_WIDGET (self->width_spin), custom);
  gtk_widget_set_sensitive (GTK_WIDGET (self->height_spin), custom);
  MsFigureSize size;
  if (!custom && ms_figure_size_parse (presets[p], &size, NULL))
    {
      gtk_spin_button_set_value (self->width_spin, size.width_in);
      gtk_spin_button_set_value (self->height_spin, size.height_in);
    }
}

void
memscope_export_dialog_set_choices (MemscopeExportDialog *self, MsFigureFormat format, int preset)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (formats[i] == format)
      gtk_drop_down_set_selected (self->format_dropdown, i);
  gtk_drop_down_set_selected (self->preset_dropdown, CLAMP (preset, 0, 3));
  on_preset_selected (self->preset_dropdown, NULL, self);
}

/* Remembers the preset and the folder of @path. */
static void
remember_choices (MemscopeExportDialog *self, const char *path)
{
  GSettings *settings = self->window ? memscope_window_get_settings (self->window) : NULL;
  if (settings)
    {
      guint p = gtk_drop_down_get_selected (self->preset_dropdown);
      g_settings_set_string (settings, "export-preset", p < G_N_ELEMENTS (presets) ? presets[p] : "custom");
      g_autofree char *dir = g_path_get_dirname (path);
      g_settings_set_string (settings, "last-folder", dir);
    }
}

gboolean
memscope_export_dialog_export_to (MemscopeExportDialog *self, const char *path, GError **error)
{
  MemscopeExportOptions o;
  memscope_export_dialog_get_options (self, &o);
  remember_choices (self, path);
  return memscope_export_view (self->view, path, &o, error);
}

/* Main thread: an export the dialog started ended; @data is the window (a
 * reference). */
static void
on_exported (GObject *view, GAsyncResult *result, gpointer data)
{
  g_autoptr (MemscopeWindow) window = data;
  g_autoptr (GError) error = NULL;
  if (!memscope_figure_view_export_finish (MEMSCOPE_FIGURE_VIEW (view), result, &error) && window)
    memscope_window_show_error (window, error->message);
}

static void
on_chooser_response (GtkNativeDialog *chooser, int response, MemscopeExportDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);
      /* drawn and written on a worker thread; problems appear in the window */
      MemscopeExportOptions o;
      memscope_export_dialog_get_options (self, &o);
      remember_choices (self, path);
      g_autofree char *target = target_path (path, &o);
      memscope_figure_view_export_async (self->view, target, o.width_in, o.height_in, o.dpi, o.cmap,
                                         o.title && *o.title ? o.title : NULL, NULL, on_exported,
                                         self->window ? g_object_ref (self->window) : NULL);
      gtk_window_destroy (GTK_WINDOW (self));
    }
  g_clear_object (&self->chooser);
}

static void
on_export_clicked (MemscopeExportDialog *self)
{
  MemscopeExportOptions o;
  memscope_export_dialog_get_options (self, &o);
  self->chooser = gtk_file_chooser_native_new ("Export Figure", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                               "_Export", "_Cancel");
  g_autofree char *name = g_strconcat (ms_view_kind_name (memscope_figure_view_get_kind (self->view)),
                                       format_ext[o.format], NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  GSettings *settings = self->window ? memscope_window_get_settings (self->window) : NULL;
  g_autofree char *folder = settings ? g_settings_get_string (settings, "last-folder") : NULL;
  if (folder && *folder)
    {
      g_autoptr (GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), dir, NULL);
    }
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- preview ---- */

/* Logical pixels per inch of the monitor @parent is on:
 * from its size in millimetres when that gives 60–400 (a real screen),
 * else 96, the desktop's nominal resolution. */
static double
screen_pixels_per_inch (GtkWindow *parent)
{
  GdkDisplay *display = gdk_display_get_default ();
  GdkSurface *surface = parent ? gtk_native_get_surface (GTK_NATIVE (parent)) : NULL;
  GdkMonitor *monitor = display && surface ? gdk_display_get_monitor_at_surface (display, surface) : NULL;
  g_autoptr (GdkMonitor) first = NULL;
  if (!monitor && display && g_list_model_get_n_items (gdk_display_get_monitors (display)) > 0)
    monitor = first = g_list_model_get_item (gdk_display_get_monitors (display), 0);
  if (monitor)
    {
      GdkRectangle geometry;
      gdk_monitor_get_geometry (monitor, &geometry);
      int mm = gdk_monitor_get_width_mm (monitor);
      double ppi = mm > 0 ? geometry.width / (mm / 25.4) : 0;
      if (ppi >= 60 && ppi <= 400)
        return ppi;
    }
  return 96.0;
}

static void
draw_preview (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  MemscopeExportDialog *self = data;
  MemscopeExportOptions o;
  memscope_export_dialog_get_options (self, &o);
  /* the page as it will be printed: white, black ink, one point per 1/72 in */
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  if (!self->preview)
    return;
  cairo_scale (cr, self->ppi / 72.0, self->ppi / 72.0);
  ms_view_figure_draw (cr, o.width_in * 72.0, o.height_in * 72.0, self->preview);
}

/* The preview's size follows the paper's. */
static void
update_preview_size (MemscopeExportDialog *self)
{
  MemscopeExportOptions o;
  memscope_export_dialog_get_options (self, &o);
  gtk_drawing_area_set_content_width (self->preview_area, (int) lround (o.width_in * self->ppi));
  gtk_drawing_area_set_content_height (self->preview_area, (int) lround (o.height_in * self->ppi));
  g_autofree char *text = g_strdup_printf ("Preview at true size: %.2f × %.2f in", o.width_in, o.height_in);
  gtk_label_set_text (self->preview_label, text);
  gtk_widget_queue_draw (GTK_WIDGET (self->preview_area));
}

/* The preview's figure follows the colormap and the title. */
static void
update_preview_figure (MemscopeExportDialog *self)
{
  g_clear_pointer (&self->preview, ms_view_figure_free);
  if (!self->view)
    return;
  MemscopeExportOptions o;
  memscope_export_dialog_get_options (self, &o);
  self->preview = memscope_figure_view_build_figure (self->view, o.cmap, o.title && *o.title ? o.title : NULL, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self->preview_area));
}

/* Room the dialog keeps around the preview: margins and spacing (18 each
 * side and between form and preview), the size caption, the frame. */
#define PREVIEW_MARGINS_X (3 * 18 + 2)
#define PREVIEW_MARGINS_Y (2 * 18 + 6 + 24 + 2)

/* The preview scrolls rather than push the dialog off a small screen: at
 * most the parent window's size less the form beside it and the header
 * bar above. */
static void
fit_to_screen (MemscopeExportDialog *self, GtkWindow *parent)
{
  int w = parent ? gtk_widget_get_width (GTK_WIDGET (parent)) : 0;
  int h = parent ? gtk_widget_get_height (GTK_WIDGET (parent)) : 0;
  if (w <= 0 || h <= 0)
    w = 1024, h = 600;
  int form_w = 0, bar_h = 0;
  gtk_widget_measure (self->form_grid, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &form_w, NULL, NULL);
  GtkWidget *bar = gtk_window_get_titlebar (GTK_WINDOW (self));
  if (bar)
    gtk_widget_measure (bar, GTK_ORIENTATION_VERTICAL, -1, NULL, &bar_h, NULL, NULL);
  gtk_scrolled_window_set_max_content_width (self->preview_scroll, MAX (w - form_w - PREVIEW_MARGINS_X, 160));
  gtk_scrolled_window_set_max_content_height (self->preview_scroll, MAX (h - bar_h - PREVIEW_MARGINS_Y, 120));
}

double
memscope_export_dialog_get_pixels_per_inch (MemscopeExportDialog *self)
{
  return self->ppi;
}

GtkWidget *
memscope_export_dialog_get_preview (MemscopeExportDialog *self)
{
  return GTK_WIDGET (self->preview_area);
}

static void
memscope_export_dialog_dispose (GObject *object)
{
  MemscopeExportDialog *self = MEMSCOPE_EXPORT_DIALOG (object);
  g_clear_pointer (&self->preview, ms_view_figure_free);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->view);
  gtk_widget_dispose_template (GTK_WIDGET (self), MEMSCOPE_TYPE_EXPORT_DIALOG);
  G_OBJECT_CLASS (memscope_export_dialog_parent_class)->dispose (object);
}

static void
memscope_export_dialog_class_init (MemscopeExportDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = memscope_export_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/memscope/Memscope/ui/memscope-export-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, format_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, preset_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, width_spin);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, height_spin);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, dpi_spin);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, colormap_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, title_entry);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, form_grid);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, preview_scroll);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, preview_area);
  gtk_widget_class_bind_template_child (widget_class, MemscopeExportDialog, preview_label);
  gtk_widget_class_bind_template_callback (widget_class, on_export_clicked);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
memscope_export_dialog_init (MemscopeExportDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->preset_dropdown, "notify::selected", G_CALLBACK (on_preset_selected), self);
  self->ppi = 96.0;
  gtk_drawing_area_set_draw_func (self->preview_area, draw_preview, self, NULL);
  g_signal_connect_swapped (self->width_spin, "value-changed", G_CALLBACK (update_preview_size), self);
  g_signal_connect_swapped (self->height_spin, "value-changed", G_CALLBACK (update_preview_size), self);
  g_signal_connect_swapped (self->colormap_dropdown, "notify::selected", G_CALLBACK (update_preview_figure), self);
  g_signal_connect_swapped (self->title_entry, "changed", G_CALLBACK (update_preview_figure), self);
}

GtkWidget *
memscope_export_dialog_new (MemscopeWindow *parent, MemscopeFigureView *view)
{
  MemscopeExportDialog *self = g_object_new (MEMSCOPE_TYPE_EXPORT_DIALOG, "transient-for", parent, NULL);
  self->view = g_object_ref (view);
  self->window = parent;
  gtk_drop_down_set_selected (self->colormap_dropdown, memscope_figure_view_get_colormap (view));
  int preset = 1;   /* double column */
  GSettings *settings = parent ? memscope_window_get_settings (parent) : NULL;
  if (settings)
    {
      g_autofree char *name = g_settings_get_string (settings, "export-preset");
      for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
        if (g_str_equal (name, presets[i]))
          preset = (int) i;
      if (g_str_equal (name, "custom"))
        preset = 3;
    }
  memscope_export_dialog_set_choices (self, MS_FIGURE_FORMAT_PDF, preset);
  self->ppi = screen_pixels_per_inch (GTK_WINDOW (parent));
  update_preview_figure (self);
  update_preview_size (self);
  fit_to_screen (self, GTK_WINDOW (parent));
  return GTK_WIDGET (self);
}
