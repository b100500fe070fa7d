/* workbench-screens.c — the workbench on small screens: at 1366×768 and
 * 1024×600 (and on a wide screen) the window's minimum size fits, the window
 * takes that size, the header shows the views as a menu when their buttons
 * do not fit (workbench-header.c), the
 * colorbar of the compared retention view and the window's close button
 * are on-screen, and the screenshots show them; figure text has the
 * desktop's size; figures are dark when libadwaita's style manager says the
 * desktop is, exports are not. */
#include <adwaita.h>
#include <math.h>

#include "workbench-test.h"

static gboolean
is_close_button (GtkWidget *w)
{
  /* the window's, not the search bar's */
  return gtk_widget_has_css_class (w, "close") && gtk_widget_get_ancestor (w, GTK_TYPE_WINDOW_CONTROLS);
}

static int want_width, want_height;

/* The window's surface (with its client-side decorations) is the
 * screen's size. */
static gboolean
window_has_wanted_size (void)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (win));
  return surface && gtk_widget_get_mapped (GTK_WIDGET (win)) && gdk_surface_get_width (surface) == want_width
         && gdk_surface_get_height (surface) == want_height;
}

/* @w's bounds in the window's coordinates, which the window's screenshot uses. */
static graphene_rect_t
bounds_in_window (GtkWidget *w)
{
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (w, GTK_WIDGET (win), &r));
  return r;
}

/* Mean of the three channels of pixel (@x, @y). */
static int
grey_at (const Shot *s, int x, int y)
{
  guint32 p = s->pixels[(gsize) y * s->width + x];
  return (int) (((p >> 16) & 0xff) + ((p >> 8) & 0xff) + (p & 0xff)) / 3;
}

/* Grey level of the header bar's top middle (above its buttons) in a
 * screenshot of the window. */
static int
header_grey (const char *name)
{
  GtkWidget *header = find_widget (GTK_WIDGET (win), ADW_TYPE_HEADER_BAR, NULL);
  g_assert_nonnull (header);
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (header, GTK_WIDGET (win), &r));
  g_autoptr (Shot) shot = screenshot (GTK_WIDGET (win), name);
  return grey_at (shot, (int) (r.origin.x + r.size.width / 2), (int) r.origin.y + 2);
}

/* @view, drawn now with the desktop dark, as @name: a dark background and
 * header, the same figure (colorbar, colours) with light text. */
static void
check_dark_figure (GtkWidget *view, const char *name)
{
  g_autofree char *header_name = g_strdup_printf ("window-%s", name);
  g_assert_cmpint (header_grey (header_name), <, 80);
  g_autoptr (Shot) dark = screenshot (view, name);
  g_assert_cmpint (grey_at (dark, 2, 2), <, 60);     /* a dark background … */
  g_assert_true (has_colorbar (dark));                /* … under the same figure */
  g_assert_cmpuint (distinct_colours (dark, 0, dark->width), >, 40);
  int light_ink = 0;                                  /* … with light text */
  for (int y = 0; y < dark->height; y++)
    for (int x = 0; x < dark->width; x++)
      light_ink += !coloured (dark->pixels[(gsize) y * dark->width + x]) && grey_at (dark, x, y) > 180;
  g_assert_cmpint (light_ink, >, 50);
}

/* A new window of @width × @height showing the demo's two recorded runs
 * compared, as a user on that screen opens them; checked, then closed. */
static void
check_screen (int width, int height)
{
  MemscopeWindow *main_window = win;
  g_autofree char *paths[2] = { g_strdup (memscope_run_get_db_path (memscope_window_get_run_a (win))),
                                g_strdup (memscope_run_get_db_path (memscope_window_get_run_b (win))) };
  win = memscope_window_new (GTK_APPLICATION (app));
  GtkWidget *window = GTK_WIDGET (win);
  int min_w, min_h;
  gtk_widget_measure (window, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
  gtk_widget_measure (window, GTK_ORIENTATION_VERTICAL, width, &min_h, NULL, NULL, NULL);
  g_test_message ("%d×%d: the window's minimum size is %d×%d", width, height, min_w, min_h);
  g_assert_cmpint (min_w, <=, width);
  g_assert_cmpint (min_h, <=, height);

  want_width = width, want_height = height;
  gtk_window_set_default_size (GTK_WINDOW (win), width, height);
  gtk_window_present (GTK_WINDOW (win));
  GFile *files[2] = { g_file_new_for_path (paths[0]), g_file_new_for_path (paths[1]) };
  memscope_window_open_files (win, files, g_strcmp0 (paths[0], paths[1]) == 0 ? 1 : 2);
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  wait_until (not_busy, "the demo's recordings to open");
  g_assert_null (memscope_window_get_error (win));
  g_assert_true (memscope_window_get_compare (win));
  activate ("view", g_variant_new_string ("retention"));
  wait_until (window_has_wanted_size, "the window to take the screen's size");
  settle ();
  g_autofree char *name = g_strdup_printf ("window-%dx%d", width, height);
  g_autoptr (Shot) shot = screenshot (window, name);
  g_assert_cmpint (shot->width, <=, width);

  /* the view and its colorbar are inside the window, and drawn */
  GtkWidget *view = GTK_WIDGET (memscope_window_get_visible_view (win));
  graphene_rect_t vr = bounds_in_window (view);
  g_assert_cmpfloat (vr.origin.x, >=, 0);
  g_assert_cmpfloat (vr.origin.x + vr.size.width, <=, width);
  g_assert_cmpfloat (vr.origin.y + vr.size.height, <=, height);
  g_autofree char *view_name = g_strdup_printf ("retention-%dx%d", width, height);
  g_autoptr (Shot) view_shot = screenshot (view, view_name);
  g_assert_true (has_colorbar (view_shot));
  g_assert_cmpuint (distinct_colours (view_shot, 0, view_shot->width), >, 40);
  /* its smallest text (tick labels, 7 figure units) is at least the desktop's body text */
  g_autofree char *font_name = NULL;
  int xft_dpi = 0;
  g_object_get (gtk_settings_get_default (), "gtk-font-name", &font_name, "gtk-xft-dpi", &xft_dpi, NULL);
  PangoFontDescription *font = pango_font_description_from_string (font_name);
  double body_px = pango_font_description_get_size (font) / (double) PANGO_SCALE
                   * (xft_dpi > 0 ? xft_dpi / 1024.0 : 96.0) / 72.0;
  pango_font_description_free (font);
  g_test_message ("body text %.1f px, tick labels %.1f px", body_px,
                  7 * memscope_figure_view_get_text_zoom (MEMSCOPE_FIGURE_VIEW (view)));
  g_assert_cmpfloat (body_px, >, 8);
  g_assert_cmpfloat (7 * memscope_figure_view_get_text_zoom (MEMSCOPE_FIGURE_VIEW (view)), >=, body_px - 0.01);

  /* the current segment's outline stays on the plots (both runs' panels) */
  activate ("segment", g_variant_new_int32 (2));
  g_autofree char *outlined_name = g_strdup_printf ("retention-outlined-%dx%d", width, height);
  g_autoptr (Shot) outlined = screenshot (view, outlined_name);
  MsRect plots[3];
  int n_plots = memscope_figure_view_get_plot_rects (MEMSCOPE_FIGURE_VIEW (view), plots);
  g_assert_cmpint (n_plots, ==, 2);
  int on_plots = 0, off_plots = 0;
  for (int y = 0; y < outlined->height; y++)
    for (int x = 0; x < outlined->width; x++)
      {
        if ((outlined->pixels[(gsize) y * outlined->width + x] | 0xff000000u) != HIGHLIGHT)
          continue;
        gboolean in = FALSE;
        for (int p = 0; p < n_plots; p++)
          in = in || (x >= floor (plots[p].x) && x < ceil (plots[p].x + plots[p].width));
        if (in)
          on_plots++;
        else
          off_plots++;
      }
  g_assert_cmpint (on_plots, >, 20);
  g_assert_cmpint (off_plots, ==, 0);
  /* slot types in discrete steps, one per segment */
  activate ("view", g_variant_new_string ("types"));
  MemscopeFigureView *types = memscope_window_get_visible_view (win);
  g_autofree char *types_name = g_strdup_printf ("types-%dx%d", width, height);
  g_autoptr (Shot) types_shot = screenshot (GTK_WIDGET (types), types_name);
  check_types_steps (types, types_shot);
  activate ("view", g_variant_new_string ("retention"));

  /* the close button is on-screen and its icon is in the window's screenshot */
  GtkWidget *close = find_widget (window, GTK_TYPE_BUTTON, is_close_button);
  g_assert_nonnull (close);
  g_assert_true (gtk_widget_get_mapped (close));
  graphene_rect_t cr = bounds_in_window (close);
  g_assert_cmpfloat (cr.origin.x, >=, 0);
  g_assert_cmpfloat (cr.origin.x + cr.size.width, <=, width);
  g_assert_cmpint (marked_pixels (shot, &cr), >, 10);

  /* the header adapts: the view switcher or a menu of the views (workbench-header.c) */
  check_header (window, shot, width, height);
  /* the tool row wraps: every control of it inside the window */
  GtkWidget *tools = find_widget (window, GTK_TYPE_FLOW_BOX, NULL);
  g_assert_nonnull (tools);
  int rows_seen = 0;
  double last_y = -1;
  for (GtkWidget *c = gtk_widget_get_first_child (tools); c; c = gtk_widget_get_next_sibling (c))
    {
      if (!gtk_widget_get_mapped (c))
        continue;
      graphene_rect_t r = bounds_in_window (c);
      g_assert_cmpfloat (r.origin.x, >=, 0);
      g_assert_cmpfloat (r.origin.x + r.size.width, <=, width);
      rows_seen += r.origin.y > last_y + 1;
      last_y = MAX (last_y, r.origin.y);
    }
  g_test_message ("%d×%d: the tool row takes %d line(s)", width, height, rows_seen);

  /* with the desktop dark, the compared figure is dark at this size too */
  AdwStyleManager *style = adw_style_manager_get_default ();
  AdwColorScheme scheme = adw_style_manager_get_color_scheme (style);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  settle ();
  g_autofree char *dark_name = g_strdup_printf ("retention-dark-%dx%d", width, height);
  check_dark_figure (view, dark_name);
  adw_style_manager_set_color_scheme (style, scheme);
  settle ();
  gtk_window_destroy (GTK_WINDOW (win));
  win = main_window;
  settle ();
}

void
test_any_screen (void)
{
  check_screen (1366, 768);
  check_screen (1024, 600);
}

/* Wide enough for every view's button in the header (the test's screen is
 * wider). */
void
test_wide_screen (void)
{
  check_screen (3000, 1000);
}

/* The style manager is the one source of "the desktop is dark": forcing
 * its colour scheme dark darkens the window's chrome and the figures
 * alike; forcing it light makes both light. */
void
test_dark_figures (void)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  AdwColorScheme scheme = adw_style_manager_get_color_scheme (style);
  activate ("view", g_variant_new_string ("retention"));
  GtkWidget *view = GTK_WIDGET (memscope_window_get_visible_view (win));
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  settle ();
  g_assert_false (memscope_figure_view_get_dark (MEMSCOPE_FIGURE_VIEW (view)));
  g_autoptr (Shot) light = screenshot (view, "retention-light");
  g_assert_cmpint (grey_at (light, 2, 2), >, 240);
  g_assert_cmpint (header_grey ("window-light"), >, 200);

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  settle ();
  g_assert_true (adw_style_manager_get_dark (style));
  g_assert_true (memscope_figure_view_get_dark (MEMSCOPE_FIGURE_VIEW (view)));
  check_dark_figure (view, "retention-dark");

  /* an export is drawn as it asks for: on white */
  g_autofree char *png = g_build_filename (tmp_dir, "dark-desktop.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (export_in_background (png, &error));
  g_assert_no_error (error);
  g_autoptr (GdkTexture) texture = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  int tw = gdk_texture_get_width (texture), th = gdk_texture_get_height (texture);
  g_autofree guint32 *pixels = g_new (guint32, (gsize) tw * th);
  gdk_texture_download (texture, (guchar *) pixels, tw * 4);
  g_assert_cmphex (pixels[0] | 0xff000000u, ==, 0xffffffffu);

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  settle ();
  g_assert_false (memscope_figure_view_get_dark (MEMSCOPE_FIGURE_VIEW (view)));
  g_autoptr (Shot) again = screenshot (view, "retention-light-again");
  g_assert_cmpint (grey_at (again, 2, 2), >, 240);
  adw_style_manager_set_color_scheme (style, scheme);
  settle ();
}
