/* memscope-export-dialog.h — exporting what a view shows.
 *
 * The dialog asks for a format, a paper size preset (or a custom size), a
 * PNG resolution, a colormap and a title, shows the figure at true size
 * (an inch of paper is an inch of screen, scrolled when the screen is
 * smaller) as those choices change, then asks for a file name
 * (GtkFileChooserNative), and writes the view's figure with
 * ms_figure_export() — the same MsViewFigure data and renderer the view
 * draws and `memscope-cli export` writes — on a worker thread
 * (memscope_figure_view_export_async); a failure appears in the window's
 * banner.  The preset and colormap are
 * remembered in GSettings when the schema is installed.
 */
#pragma once

#include <gtk/gtk.h>

#include "memscope-figure-view.h"
#include "memscope-window.h"
#include "ms-export.h"

G_BEGIN_DECLS

typedef struct {
  MsFigureFormat format;
  double width_in, height_in;
  double dpi;
  MsColormap cmap;
  const char *title;   /* NULL: the view's own; borrowed */
} MemscopeExportOptions;

/* Writes @view's figure to @path with @opts, on the calling thread; the
 * extension of @opts' format is appended when @path lacks it.  FALSE with
 * the renderer's or the exporter's error. */
gboolean memscope_export_view (MemscopeFigureView *view, const char *path, const MemscopeExportOptions *opts,
                               GError **error);

#define MEMSCOPE_TYPE_EXPORT_DIALOG (memscope_export_dialog_get_type ())
G_DECLARE_FINAL_TYPE (MemscopeExportDialog, memscope_export_dialog, MEMSCOPE, EXPORT_DIALOG, GtkWindow)

GtkWidget *memscope_export_dialog_new (MemscopeWindow *parent, MemscopeFigureView *view);

/* The choices as they stand (title borrowed from the dialog). */
void memscope_export_dialog_get_options (MemscopeExportDialog *self, MemscopeExportOptions *opts);
/* Sets format (0 PDF, 1 PNG, 2 SVG) and preset (0 single, 1 double, 2 neurips, 3 custom). */
void memscope_export_dialog_set_choices (MemscopeExportDialog *self, MsFigureFormat format, int preset);
/* The preview draws the figure at true size: this many of the screen's
 * logical pixels per inch of paper (the monitor's, from its physical
 * size, or 96 when it reports none that is plausible). */
double memscope_export_dialog_get_pixels_per_inch (MemscopeExportDialog *self);
/* The preview's drawing area (borrowed), for tests. */
GtkWidget *memscope_export_dialog_get_preview (MemscopeExportDialog *self);

/* Exports with the current choices to @path, on the calling thread (the
 * Export button does the same on a worker thread after the file chooser). */
gboolean memscope_export_dialog_export_to (MemscopeExportDialog *self, const char *path, GError **error);

G_END_DECLS
