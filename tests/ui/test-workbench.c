/* test-workbench.c — the GTK workbench under Xvfb, driven through its
 * actions as a user would: it starts on the demo (both models recorded on
 * worker threads), steps segments, switches every view, compares and shows
 * the difference, exports PDF and PNG figures, and reports bad files in
 * the window.  Screenshots are rendered with the window's own (cairo)
 * renderer, saved under the build folder, and checked for pixels: a
 * coloured heatmap, a colorbar, a highlighted segment that moves.
 *
 * The views load in the background: after each action the tests wait for
 * the visible view to finish loading, as a user waits for the spinner.
 * Loading is checked too: it happens off the main thread (a load held up
 * by a locked recording leaves the main loop running and the spinner
 * showing), a newer change supersedes a load in flight, and the window's
 * state reaches every view through property bindings.
 *
 * The tests share one window and run in order.  Waits iterate the main
 * loop until a condition holds; the only clock is a generous failsafe.
 */
#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <unistd.h>

#include "memscope-application.h"
#include "memscope-export-dialog.h"
#include "memscope-window.h"

#define HIGHLIGHT 0xffe01b24u   /* the figure view's outline, opaque ARGB */

static MemscopeApplication *app;
static MemscopeWindow *win;
static char *tmp_dir;
static char *shots_dir;

/* ---- waiting ---- */

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

typedef gboolean (*Condition) (void);

static void
wait_until (Condition cond, const char *what)
{
  guint tick = g_timeout_add (20, wake, NULL);
  gint64 failsafe = g_get_monotonic_time () + 240 * G_USEC_PER_SEC;
  while (!cond ())
    {
      if (g_get_monotonic_time () > failsafe)
        g_error ("gave up waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

static gboolean
visible_view_loaded (void)
{
  MemscopeFigureView *view = win ? memscope_window_get_visible_view (win) : NULL;
  return !view || (!memscope_figure_view_get_loading (view) && !memscope_window_get_text_loading (win));
}

/* Lets pending layout and drawing happen, and the visible view load. */
static void
settle (void)
{
  for (int i = 0; i < 50 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
  wait_until (visible_view_loaded, "the visible view to load");
  for (int i = 0; i < 50 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

static gboolean
demo_recorded (void)
{
  if (memscope_window_is_busy (win) || memscope_window_get_n_runs (win) != 2)
    return FALSE;
  for (guint i = 0; i < 2; i++)
    if (memscope_run_get_status (memscope_window_get_run (win, i)) != MS_RUN_COMPLETE)
      return FALSE;
  return TRUE;
}

static gboolean
not_busy (void)
{
  return !memscope_window_is_busy (win);
}

static gboolean
view_allocated (void)
{
  GtkWidget *view = GTK_WIDGET (memscope_window_get_visible_view (win));
  return gtk_widget_get_mapped (view) && gtk_widget_get_width (view) > 300 && gtk_widget_get_height (view) > 200;
}

/* ---- screenshots ---- */

static gboolean painted;

static void
on_after_paint (GdkFrameClock *clock, gpointer data)
{
  painted = TRUE;
}

static gboolean
was_painted (void)
{
  return painted;
}

/* Lets a whole frame (layout and paint) happen, so every widget of
 * @widget's window has a current allocation. */
static void
wait_for_frame (GtkWidget *widget)
{
  wait_until (visible_view_loaded, "the visible view to load");
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  g_assert_nonnull (clock);
  painted = FALSE;
  gulong id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
  gtk_widget_queue_draw (widget);
  wait_until (was_painted, "a frame");
  g_signal_handler_disconnect (clock, id);
}

typedef struct {
  int width, height;
  guint32 *pixels;   /* ARGB, premultiplied (opaque here) */
} Shot;

static void
shot_free (Shot *s)
{
  g_free (s->pixels);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Shot, shot_free)

/* Renders @widget (allocated) as it is now with its window's renderer; saves it as
 * @name.png in the screenshots folder. */
static Shot *
screenshot (GtkWidget *widget, const char *name)
{
  /* a frame can lay the view out at another size, which loads it again */
  do
    {
      settle ();
      wait_for_frame (widget);
    }
  while (!visible_view_loaded ());
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_assert_cmpint (w, >, 0);
  /* The widget's own snapshot (its children come from their snapshots),
   * as the next frame would draw it. */
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GTK_WIDGET_GET_CLASS (widget)->snapshot (widget, snapshot);
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  g_autoptr (GdkTexture) texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_autofree char *path = g_strdup_printf ("%s/%s.png", shots_dir, name);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  Shot *s = g_new0 (Shot, 1);
  s->width = gdk_texture_get_width (texture);
  s->height = gdk_texture_get_height (texture);
  s->pixels = g_new (guint32, (gsize) s->width * s->height);
  gdk_texture_download (texture, (guchar *) s->pixels, s->width * 4);
  return s;
}

static gboolean
coloured (guint32 p)
{
  int r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
  return MAX (r, MAX (g, b)) - MIN (r, MIN (g, b)) > 24;
}

/* Distinct coloured (not grey) pixel values in columns [x0, x1). */
static guint
distinct_colours (const Shot *s, int x0, int x1)
{
  g_autoptr (GHashTable) set = g_hash_table_new (NULL, NULL);
  for (int y = 0; y < s->height; y++)
    for (int x = MAX (x0, 0); x < MIN (x1, s->width); x++)
      {
        guint32 p = s->pixels[(gsize) y * s->width + x] | 0xff000000u;
        if (coloured (p) && p != HIGHLIGHT)
          g_hash_table_add (set, GUINT_TO_POINTER (p));
      }
  return g_hash_table_size (set);
}

/* A colorbar: in the right fifth, a column holding a long gradient. */
static gboolean
has_colorbar (const Shot *s)
{
  for (int x = s->width * 4 / 5; x < s->width; x++)
    {
      g_autoptr (GHashTable) set = g_hash_table_new (NULL, NULL);
      for (int y = 0; y < s->height; y++)
        {
          guint32 p = s->pixels[(gsize) y * s->width + x] | 0xff000000u;
          if (coloured (p))
            g_hash_table_add (set, GUINT_TO_POINTER (p));
        }
      if (g_hash_table_size (set) > 40)
        return TRUE;
    }
  return FALSE;
}

/* Mean x of the highlight outline's pixels, −1 when there are too few. */
static double
highlight_x (const Shot *s)
{
  double sum = 0;
  int n = 0;
  for (int y = 0; y < s->height; y++)
    for (int x = 0; x < s->width; x++)
      if ((s->pixels[(gsize) y * s->width + x] | 0xff000000u) == HIGHLIGHT)
        sum += x, n++;
  return n >= 20 ? sum / n : -1;
}

/* ---- actions ---- */

static void
activate (const char *name, GVariant *param)
{
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (win), name));
  g_action_group_activate_action (G_ACTION_GROUP (win), name, param);
  settle ();
}

static void
change (const char *name, GVariant *state)
{
  g_action_group_change_action_state (G_ACTION_GROUP (win), name, state);
  settle ();
}

/* ---- threads ---- */

/* GTK objects are used and released on the main thread only: what the
 * workbench does on a worker thread is counted here. */
static GThread *main_thread;
static int off_main_thread;
static int closing_alive;   /* objects of the closed window not yet finalized */

static void
note_thread (void)
{
  if (g_thread_self () != main_thread)
    g_atomic_int_inc (&off_main_thread);
}

static void
on_progress_note_thread (MemscopeRun *run, int done, int total, gpointer data)
{
  note_thread ();
}

/* Object data is cleared when the object is finalized, on the thread that
 * releases it last. */
static void
on_finalized (gpointer data)
{
  note_thread ();
  g_atomic_int_add (&closing_alive, -1);
}

static void
watch_finalize (gpointer object)
{
  g_atomic_int_inc (&closing_alive);
  g_object_set_data_full (object, "test-finalized", &closing_alive, on_finalized);
}

static gboolean
closed_window_finalized (void)
{
  return g_atomic_int_get (&closing_alive) == 0;
}

/* ---- tests ---- */

static void
test_starts_on_demo (void)
{
  win = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 860);
  gtk_window_present (GTK_WINDOW (win));
  memscope_window_open_demo (win);
  g_assert_true (memscope_window_is_busy (win));   /* recording happens on worker threads */
  for (guint i = 0; i < memscope_window_get_n_runs (win); i++)   /* … and reports on the main one */
    g_signal_connect (memscope_window_get_run (win, i), "progress", G_CALLBACK (on_progress_note_thread), NULL);
  wait_until (demo_recorded, "the demo recordings");
  g_assert_cmpint (g_atomic_int_get (&off_main_thread), ==, 0);
  settle ();
  g_assert_null (memscope_window_get_error (win));
  g_assert_nonnull (strstr (memscope_run_get_name (memscope_window_get_run_a (win)), "memformer"));
  g_assert_nonnull (strstr (memscope_run_get_name (memscope_window_get_run_b (win)), "rmt"));
  g_assert_true (memscope_window_get_compare (win));
  g_assert_cmpint (memscope_window_get_n_segments (win), >, 10);
  /* the standard accelerators are set */
  static const char *accels[][2] = { { "Left", "win.previous" }, { "Right", "win.next" }, { "Home", "win.first" },
                                     { "End", "win.last" },      { "space", "win.play" },    { "<Control>o", "app.open" },
                                     { "<Control>q", "app.quit" } };
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      g_auto (GStrv) actions = gtk_application_get_actions_for_accel (GTK_APPLICATION (app), accels[i][0]);
      g_assert_true (actions && g_strv_contains ((const char *const *) actions, accels[i][1]));
    }
  g_assert_cmpint (memscope_window_get_n_segments (win), ==,
                   memscope_run_get_n_segments (memscope_window_get_run_a (win)));
  /* the input text is shown */
  GtkTextBuffer *buffer = memscope_window_get_text_buffer (win);
  g_assert_cmpint (gtk_text_buffer_get_char_count (buffer), ==, 2 * 6 * 8);   /* 2 copy instances */
  wait_until (view_allocated, "the view to be laid out");
}

static void
test_steps_segments (void)
{
  activate ("view", g_variant_new_string ("retention"));
  change ("compare", g_variant_new_boolean (FALSE));
  activate ("first", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 0);
  GtkWidget *view = GTK_WIDGET (memscope_window_get_visible_view (win));
  g_autoptr (Shot) s0 = screenshot (view, "retention-segment-0");
  g_assert_cmpuint (distinct_colours (s0, 0, s0->width), >, 40);
  g_assert_true (has_colorbar (s0));
  double x0 = highlight_x (s0);
  g_assert_cmpfloat (x0, >=, 0);
  int t0, e0;
  g_assert_true (memscope_window_get_highlight (win, &t0, &e0));
  g_assert_cmpint (t0, ==, 0);

  for (int i = 0; i < 5; i++)
    activate ("next", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 5);
  g_autoptr (Shot) s5 = screenshot (view, "retention-segment-5");
  double x5 = highlight_x (s5);
  g_assert_cmpfloat (x5, >, x0 + 5);   /* the highlighted column moved right */
  int t5, e5;
  g_assert_true (memscope_window_get_highlight (win, &t5, &e5));
  g_assert_cmpint (t5, >, e0);         /* and so did the text highlight */

  activate ("previous", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 4);
  activate ("last", NULL);
  int n = memscope_window_get_n_segments (win);
  g_assert_cmpint (memscope_window_get_segment (win), ==, n - 1);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "next"));
  g_autoptr (Shot) sl = screenshot (view, "retention-segment-last");
  g_assert_cmpfloat (highlight_x (sl), >, x5);
  activate ("segment", g_variant_new_int32 (3));
  g_assert_cmpint (memscope_window_get_segment (win), ==, 3);
  activate ("segment", g_variant_new_int32 (100000));   /* clamped */
  g_assert_cmpint (memscope_window_get_segment (win), ==, n - 1);
  activate ("first", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 0);
}

static void
test_every_view (void)
{
  static const char *views[] = { "retention", "provenance", "types", "nll", "read", "write", "similarity" };
  activate ("segment", g_variant_new_int32 (2));
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      activate ("view", g_variant_new_string (views[i]));
      MemscopeFigureView *view = memscope_window_get_visible_view (win);
      g_assert_cmpstr (ms_view_kind_name (memscope_figure_view_get_kind (view)), ==, views[i]);
      g_autoptr (GError) error = NULL;
      gboolean ok = memscope_figure_view_update (view, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      g_autofree char *name = g_strdup_printf ("view-%s", views[i]);
      g_autoptr (Shot) s = screenshot (GTK_WIDGET (view), name);
      g_assert_cmpuint (distinct_colours (s, 0, s->width), >, 3);
      /* hovering the middle of the data says what it is */
      MsRect rects[3];
      int w = gtk_widget_get_width (GTK_WIDGET (view)), h = gtk_widget_get_height (GTK_WIDGET (view));
      int n = ms_view_figure_get_plot_rects (memscope_figure_view_get_figure (view), cr, w, h, rects);
      g_assert_cmpint (n, >=, 1);
      g_autofree char *tip = memscope_figure_view_describe_point (view, rects[0].x + rects[0].width / 2,
                                                                 rects[0].y + rects[0].height / 2);
      g_assert_nonnull (tip);
      g_assert_nonnull (strstr (tip, "memformer"));
      g_assert_null (memscope_figure_view_describe_point (view, 1, 1));   /* the margin is no data */
    }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  /* the retention tooltip names slot, segment and the segment's text */
  activate ("view", g_variant_new_string ("retention"));
  MemscopeFigureView *ret = memscope_window_get_visible_view (win);
  cairo_surface_t *s2 = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr2 = cairo_create (s2);
  MsRect r[3];
  ms_view_figure_get_plot_rects (memscope_figure_view_get_figure (ret), cr2,
                                 gtk_widget_get_width (GTK_WIDGET (ret)), gtk_widget_get_height (GTK_WIDGET (ret)), r);
  g_autofree char *tip = memscope_figure_view_describe_point (ret, r[0].x + 1, r[0].y + 1);
  g_assert_nonnull (tip);
  g_assert_nonnull (strstr (tip, "Slot 0 after segment 0"));
  g_assert_nonnull (strstr (tip, "retention"));
  g_assert_nonnull (strstr (tip, "“"));
  cairo_destroy (cr2);
  cairo_surface_destroy (s2);
}

/* Characters of the text carrying a tag named @prefix-k: "write" (written
 * into the selected slot) or "read" (reading memory). */
static int
count_coloured_tokens (const char *prefix)
{
  GtkTextBuffer *buffer = memscope_window_get_text_buffer (win);
  GtkTextIter it;
  int n = 0;
  for (gtk_text_buffer_get_start_iter (buffer, &it); !gtk_text_iter_is_end (&it); gtk_text_iter_forward_char (&it))
    {
      GSList *tags = gtk_text_iter_get_tags (&it);
      for (GSList *l = tags; l; l = l->next)
        {
          g_autofree char *name = NULL;
          g_object_get (l->data, "name", &name, NULL);
          if (name && g_str_has_prefix (name, prefix) && name[strlen (prefix)] == '-')
            {
              n++;
              break;
            }
        }
      g_slist_free (tags);
    }
  return n;
}

static void
test_select_slot (void)
{
  /* clicking a retention cell selects its slot and segment everywhere */
  activate ("view", g_variant_new_string ("retention"));
  MemscopeFigureView *ret = memscope_window_get_visible_view (win);
  g_autoptr (GError) err = NULL;
  g_assert_true (memscope_figure_view_update (ret, &err));
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  int w = gtk_widget_get_width (GTK_WIDGET (ret)), h = gtk_widget_get_height (GTK_WIDGET (ret));
  MsRect cell;
  g_assert_true (ms_view_figure_cell_rect (memscope_figure_view_get_figure (ret), cr, w, h, 0, 3, 7, &cell));
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  g_assert_true (memscope_figure_view_select_point (ret, cell.x + cell.width / 2, cell.y + cell.height / 2));
  settle ();
  g_assert_cmpint (memscope_window_get_segment (win), ==, 7);
  g_assert_cmpint (memscope_window_get_slot (win), ==, 3);
  g_assert_false (memscope_figure_view_select_point (ret, 1, 1));   /* outside the data */
  activate ("slot", g_variant_new_int32 (-1));

  activate ("view", g_variant_new_string ("provenance"));
  activate ("slot", g_variant_new_int32 (2));
  g_assert_cmpint (memscope_window_get_slot (win), ==, 2);
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_figure_view_update (memscope_window_get_visible_view (win), &error));
  activate ("view", g_variant_new_string ("retention"));
  g_autoptr (Shot) s = screenshot (GTK_WIDGET (memscope_window_get_visible_view (win)), "retention-slot-2");
  g_assert_cmpfloat (highlight_x (s), >=, 0);
  /* the current segment's tokens show how much of each went into the slot */
  activate ("segment", g_variant_new_int32 (2));
  g_assert_cmpint (count_coloured_tokens ("write"), >, 0);
  g_assert_cmpint (count_coloured_tokens ("read"), ==, 0);
  activate ("slot", g_variant_new_int32 (-1));
  g_assert_cmpint (memscope_window_get_slot (win), ==, -1);
  /* without a slot, the tokens show how they read memory */
  g_assert_cmpint (count_coloured_tokens ("write"), ==, 0);
  g_assert_cmpint (count_coloured_tokens ("read"), >, 0);
}

static void
test_compare (void)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  activate ("view", g_variant_new_string ("retention"));
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  int w = gtk_widget_get_width (GTK_WIDGET (view)), h = gtk_widget_get_height (GTK_WIDGET (view));
  MsRect rects[3];
  change ("compare", g_variant_new_boolean (TRUE));
  g_assert_true (memscope_window_get_compare (win));
  g_assert_cmpint (ms_view_figure_get_plot_rects (memscope_figure_view_get_figure (view), cr, w, h, rects), ==, 2);
  g_autoptr (Shot) two = screenshot (GTK_WIDGET (view), "compare-retention");
  g_assert_true (has_colorbar (two));
  /* both panels are painted */
  g_assert_cmpuint (distinct_colours (two, (int) rects[0].x, (int) (rects[0].x + rects[0].width)), >, 20);
  g_assert_cmpuint (distinct_colours (two, (int) rects[1].x, (int) (rects[1].x + rects[1].width)), >, 20);
  g_autofree char *tip = memscope_figure_view_describe_point (view, rects[1].x + 2, rects[1].y + 2);
  g_assert_nonnull (strstr (tip, "rmt"));

  change ("difference", g_variant_new_boolean (TRUE));
  g_assert_true (memscope_window_get_difference (win));
  g_assert_cmpint (ms_view_figure_get_plot_rects (memscope_figure_view_get_figure (view), cr, w, h, rects), ==, 3);
  g_autoptr (Shot) three = screenshot (GTK_WIDGET (view), "compare-retention-difference");
  g_assert_cmpuint (distinct_colours (three, (int) rects[2].x, (int) (rects[2].x + rects[2].width)), >, 20);
  g_autofree char *dtip = memscope_figure_view_describe_point (view, rects[2].x + 2, rects[2].y + 2);
  g_assert_nonnull (strstr (dtip, "A − B"));

  /* every view compares (NLL in one plot, slot types as two panels) */
  static const char *views[] = { "nll", "types", "provenance", "similarity" };
  change ("difference", g_variant_new_boolean (FALSE));
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      activate ("view", g_variant_new_string (views[i]));
      g_autoptr (GError) error = NULL;
      g_assert_true (memscope_figure_view_update (memscope_window_get_visible_view (win), &error));
    }
  activate ("view", g_variant_new_string ("retention"));
  gtk_widget_set_size_request (GTK_WIDGET (win), -1, -1);
  g_autoptr (Shot) window = screenshot (GTK_WIDGET (win), "workbench");
  g_assert_cmpuint (distinct_colours (window, 0, window->width), >, 40);
  change ("compare", g_variant_new_boolean (FALSE));
  g_assert_cmpint (ms_view_figure_get_plot_rects (memscope_figure_view_get_figure (view), cr, w, h, rects), ==, 1);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* The window's segment, slot, colormap and compared run reach every view
 * through bindings, and the views follow each later change. */
static void
check_views_show (int segment, int slot, MsColormap cmap, MemscopeRun *run_b)
{
  static const MsViewKind kinds[] = { MS_VIEW_RETENTION, MS_VIEW_PROVENANCE, MS_VIEW_TYPES, MS_VIEW_NLL,
                                      MS_VIEW_READ,      MS_VIEW_WRITE,      MS_VIEW_SIMILARITY };
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      MemscopeFigureView *view = memscope_window_get_view (win, kinds[i]);
      int s = -2, t = -2;
      MsColormap c = (MsColormap) -1;
      g_autoptr (MemscopeRun) a = NULL, b = NULL;
      g_object_get (view, "segment", &s, "slot", &t, "colormap", &c, "run-a", &a, "run-b", &b, NULL);
      g_assert_cmpint (s, ==, segment);
      g_assert_cmpint (t, ==, slot);
      g_assert_cmpint (c, ==, cmap);
      g_assert_true (a == memscope_window_get_run_a (win));
      g_assert_true (b == run_b);
    }
}

static void
test_bindings (void)
{
  activate ("view", g_variant_new_string ("retention"));
  change ("compare", g_variant_new_boolean (TRUE));
  MemscopeRun *b = memscope_window_get_run_b (win);
  g_assert_nonnull (b);
  g_object_set (win, "segment", 4, "slot", 2, "colormap", MS_COLORMAP_MAGMA, NULL);
  settle ();
  check_views_show (4, 2, MS_COLORMAP_MAGMA, b);
  GSettings *settings = memscope_window_get_settings (win);
  if (settings)
    {
      g_autofree char *name = g_settings_get_string (settings, "colormap");
      g_assert_cmpstr (name, ==, "magma");   /* the choice is remembered */
    }
  /* the segment is clamped to run A's, and the views get the clamped one */
  g_object_set (win, "segment", 1000000, "slot", -1, "colormap", MS_COLORMAP_VIRIDIS, NULL);
  settle ();
  check_views_show (memscope_window_get_n_segments (win) - 1, -1, MS_COLORMAP_VIRIDIS, b);
  /* without Compare the views show run A alone */
  change ("compare", g_variant_new_boolean (FALSE));
  check_views_show (memscope_window_get_n_segments (win) - 1, -1, MS_COLORMAP_VIRIDIS, NULL);
  g_assert_nonnull (memscope_figure_view_get_data (memscope_window_get_visible_view (win), 0));
  g_assert_null (memscope_figure_view_get_data (memscope_window_get_visible_view (win), 1));
  activate ("first", NULL);
}

/* ---- loading off the main thread ---- */

/* A copy of run A's recording (with its write-ahead log) that nothing else
 * has open, as a run of its own. */
static MemscopeRun *
copy_of_run_a (const char *name, char **path_out)
{
  MemscopeRun *a = memscope_window_get_run_a (win);
  g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
  const char *suffixes[] = { "", "-wal" };
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (memscope_run_get_db_path (a), suffixes[i], NULL);
      g_autofree char *to = g_strconcat (path, suffixes[i], NULL);
      g_autoptr (GFile) src = g_file_new_for_path (from);
      g_autoptr (GFile) dst = g_file_new_for_path (to);
      if (i == 0 || g_file_test (from, G_FILE_TEST_EXISTS))
        g_assert_true (g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, NULL));
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (path, &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, memscope_run_get_id (a), &error);
  g_assert_no_error (error);
  *path_out = g_steal_pointer (&path);
  return memscope_run_new_recorded (*path_out, info);
}

/* Holds the recording at @path locked, as another program writing it in
 * exclusive mode would: readers wait (SQLite's busy timeout) until
 * sqlite3_close(). */
static sqlite3 *
lock_recording (const char *path)
{
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;", NULL, NULL, NULL), ==,
                   SQLITE_OK);
  return db;
}

static MemscopeFigureView *lonely;   /* a view in a window of its own */
static int ticks;

static gboolean
count_tick (gpointer data)
{
  ticks++;
  return G_SOURCE_CONTINUE;
}

static gboolean
lonely_allocated (void)
{
  return gtk_widget_get_mapped (GTK_WIDGET (lonely)) && gtk_widget_get_width (GTK_WIDGET (lonely)) > 0;
}

static gboolean
lonely_loading (void)
{
  return gtk_widget_get_mapped (GTK_WIDGET (lonely)) && memscope_figure_view_get_loading (lonely);
}

static gboolean
lonely_loaded (void)
{
  return !memscope_figure_view_get_loading (lonely);
}

static gboolean
twenty_ticks (void)
{
  return ticks >= 20;
}

static GtkWidget *
window_with_view (MsViewKind kind)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 500);
  lonely = MEMSCOPE_FIGURE_VIEW (memscope_figure_view_new (kind));
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (lonely));
  gtk_window_present (GTK_WINDOW (window));
  wait_until (lonely_allocated, "the view to be laid out");   /* so each change below starts a job */
  return window;
}

static void
test_load_off_main_thread (void)
{
  g_autofree char *path = NULL;
  g_autoptr (MemscopeRun) run = copy_of_run_a ("locked.sqlite", &path);
  sqlite3 *lock = lock_recording (path);
  GtkWidget *window = window_with_view (MS_VIEW_RETENTION);
  memscope_figure_view_set_runs (lonely, run, NULL, FALSE);
  wait_until (lonely_loading, "the view to start loading");

  /* while the load waits for the recording, the main loop runs and the
   * view shows that it is busy */
  ticks = 0;
  guint tick = g_timeout_add (10, count_tick, NULL);
  wait_until (twenty_ticks, "the main loop to run while the view loads");
  g_source_remove (tick);
  g_assert_true (memscope_figure_view_get_loading (lonely));
  g_assert_null (memscope_figure_view_get_figure (lonely));
  GtkWidget *spinner = gtk_widget_get_first_child (GTK_WIDGET (lonely));
  g_assert_true (GTK_IS_SPINNER (spinner));
  g_assert_true (gtk_widget_get_visible (spinner));
  g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (spinner)));

  /* then the data */
  sqlite3_close (lock);
  wait_until (lonely_loaded, "the view to load once the recording is free");
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_figure_view_update (lonely, &error));
  g_assert_no_error (error);
  g_assert_nonnull (memscope_figure_view_get_figure (lonely));
  const MsViewData *data = memscope_figure_view_get_data (lonely, 0);
  g_assert_nonnull (data);
  g_assert_cmpint (data->kind, ==, MS_VIEW_RETENTION);
  g_assert_cmpint (data->cols, ==, memscope_run_get_segments_done (run));
  g_assert_false (gtk_widget_get_visible (spinner));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Every provenance title the view showed, in order. */
static GPtrArray *titles_seen;

static void
note_title (void)
{
  const MsViewData *data = memscope_figure_view_get_data (lonely, 0);
  const char *last = titles_seen->len ? titles_seen->pdata[titles_seen->len - 1] : NULL;
  if (data && g_strcmp0 (data->title, last) != 0)
    g_ptr_array_add (titles_seen, g_strdup (data->title));
}

static void
on_lonely_loading (GObject *object, GParamSpec *pspec, gpointer data)
{
  note_title ();
}

static gboolean
lonely_loaded_noting (void)
{
  note_title ();
  return !memscope_figure_view_get_loading (lonely);
}

static void
iterate_a_little (void)
{
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

/* Loads of slot 2 superseded by slot 3 while the recording is locked:
 * once it is free, the view shows slot 3 and never showed slot 2. */
static void
test_superseded_load (void)
{
  g_autofree char *path = NULL;
  g_autoptr (MemscopeRun) run = copy_of_run_a ("superseded.sqlite", &path);
  sqlite3 *lock = lock_recording (path);
  GtkWidget *window = window_with_view (MS_VIEW_PROVENANCE);
  titles_seen = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (lonely, "notify::loading", G_CALLBACK (on_lonely_loading), NULL);
  memscope_figure_view_set_runs (lonely, run, NULL, FALSE);
  wait_until (lonely_loading, "the view to start loading");
  g_object_set (lonely, "slot", 2, NULL);
  iterate_a_little ();
  g_assert_true (memscope_figure_view_get_loading (lonely));
  g_object_set (lonely, "slot", 3, NULL);
  iterate_a_little ();
  sqlite3_close (lock);
  wait_until (lonely_loaded_noting, "the newest load");
  g_assert_cmpuint (titles_seen->len, ==, 1);
  g_assert_nonnull (strstr (titles_seen->pdata[0], "slot 3"));
  /* and it stays so: nothing older arrives later */
  iterate_a_little ();
  note_title ();
  g_assert_cmpuint (titles_seen->len, ==, 1);
  g_assert_false (memscope_figure_view_get_loading (lonely));
  g_clear_pointer (&titles_seen, g_ptr_array_unref);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
check_file_starts (const char *path, const char *magic, gsize magic_len)
{
  g_autofree char *contents = NULL;
  gsize n = 0;
  g_assert_true (g_file_get_contents (path, &contents, &n, NULL));
  g_assert_cmpuint (n, >, 1000);
  g_assert_cmpmem (contents, magic_len, magic, magic_len);
}

static GAsyncResult *exported;

static void
on_exported (GObject *source, GAsyncResult *result, gpointer data)
{
  exported = g_object_ref (result);
}

static gboolean
export_done (void)
{
  return exported != NULL;
}

/* What the dialog's Export button does: written on a worker thread. */
static gboolean
export_in_background (const char *path, GError **error)
{
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  memscope_figure_view_export_async (view, path, 3.5, 2.5, 150, MS_COLORMAP_MAGMA, "In the background", NULL,
                                     on_exported, NULL);
  wait_until (export_done, "the export");
  gboolean ok = memscope_figure_view_export_finish (view, exported, error);
  g_clear_object (&exported);
  return ok;
}

static void
test_export (void)
{
  activate ("view", g_variant_new_string ("retention"));
  change ("compare", g_variant_new_boolean (TRUE));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "export"));
  GtkWidget *dialog = memscope_export_dialog_new (win, memscope_window_get_visible_view (win));
  gtk_window_present (GTK_WINDOW (dialog));
  settle ();
  MemscopeExportDialog *d = MEMSCOPE_EXPORT_DIALOG (dialog);
  memscope_export_dialog_set_choices (d, MS_FIGURE_FORMAT_PDF, 1);
  MemscopeExportOptions o;
  memscope_export_dialog_get_options (d, &o);
  g_assert_cmpfloat (o.width_in, ==, 7.0);
  g_autofree char *pdf = g_build_filename (tmp_dir, "retention.pdf", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_export_dialog_export_to (d, pdf, &error));
  g_assert_no_error (error);
  check_file_starts (pdf, "%PDF", 4);

  /* PNG at the single-column preset, and the extension follows the format */
  memscope_export_dialog_set_choices (d, MS_FIGURE_FORMAT_PNG, 0);
  g_autofree char *base = g_build_filename (tmp_dir, "retention-single", NULL);
  g_assert_true (memscope_export_dialog_export_to (d, base, &error));
  g_autofree char *png = g_strconcat (base, ".png", NULL);
  check_file_starts (png, "\x89PNG", 4);
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* an unwritable place is an error, not a crash */
  MemscopeExportOptions bad = { MS_FIGURE_FORMAT_PDF, 3.5, 2.17, 300, MS_COLORMAP_VIRIDIS, NULL };
  g_assert_false (memscope_export_view (memscope_window_get_visible_view (win), "/nonexistent/dir/fig.pdf", &bad,
                                        &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* in the background, as the dialog's Export button writes */
  g_autofree char *bg = g_build_filename (tmp_dir, "retention-background.pdf", NULL);
  g_assert_true (export_in_background (bg, &error));
  g_assert_no_error (error);
  check_file_starts (bg, "%PDF", 4);
  g_assert_false (export_in_background ("/nonexistent/dir/fig.pdf", &error));
  g_assert_nonnull (error);
  change ("compare", g_variant_new_boolean (FALSE));
}

static void
open_paths (const char *const *paths)
{
  GFile *files[4];
  int n = 0;
  for (; paths[n]; n++)
    files[n] = g_file_new_for_path (paths[n]);
  memscope_window_open_files (win, files, n);
  for (int i = 0; i < n; i++)
    g_object_unref (files[i]);
  wait_until (not_busy, "recordings to finish");
  settle ();
}

static void
test_errors_in_window (void)
{
  guint runs = memscope_window_get_n_runs (win);
  /* a bad model file */
  g_autofree char *bad = g_build_filename (tmp_dir, "broken.safetensors", NULL);
  g_assert_true (g_file_set_contents (bad, "\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", 24, NULL));
  open_paths ((const char *[]) { bad, NULL });
  g_assert_nonnull (memscope_window_get_error (win));
  g_assert_nonnull (strstr (memscope_window_get_error (win), "broken.safetensors"));
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, runs);   /* nothing half-made is left */
  activate ("dismiss-error", NULL);
  g_assert_null (memscope_window_get_error (win));

  /* a missing input */
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such-input.txt", NULL);
  open_paths ((const char *[]) { missing, NULL });
  g_assert_nonnull (strstr (memscope_window_get_error (win), "no-such-input.txt"));

  /* a recording from a newer Memscope */
  g_autofree char *newer = g_build_filename (tmp_dir, "newer.sqlite", NULL);
  sqlite3 *db;
  g_assert_cmpint (sqlite3_open (newer, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 999;", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  open_paths ((const char *[]) { newer, NULL });
  g_assert_nonnull (strstr (memscope_window_get_error (win), "newer"));
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, runs);
  /* the window still works */
  activate ("next", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 1);
}

/* Recordings from elsewhere may be hostile: each of these is refused with
 * a message in the banner that names the file, adds no run, and leaves the
 * window working.  The copies are made, then altered, from the recording
 * of run A, so they follow the current schema. */
static void
test_hostile_recordings (void)
{
  static const char *const damage[] = {
    /* a view with a recursive query in place of runs (would spin forever) */
    "PRAGMA legacy_alter_table = ON; ALTER TABLE runs RENAME TO runs_real; CREATE VIEW runs AS "
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT r.* FROM runs_real r, n",
    "CREATE TRIGGER t AFTER INSERT ON segments BEGIN DELETE FROM runs; END",
    "PRAGMA user_version = -1",
    "UPDATE models SET config = json_set (config, '$.n_slots', 16777216, '$.n_mem', 16777216)",
    "UPDATE runs SET n_segments = -1",
    "UPDATE segments SET id = id + 100000, segment = segment + 100000 WHERE id = (SELECT max (id) FROM segments)",
  };
  guint runs = memscope_window_get_n_runs (win);
  for (guint i = 0; i < G_N_ELEMENTS (damage); i++)
    {
      g_autofree char *name = g_strdup_printf ("hostile-%u.sqlite", i);
      g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
      sqlite3 *src, *dst;
      g_assert_cmpint (sqlite3_open_v2 (memscope_run_get_db_path (memscope_window_get_run_a (win)), &src,
                                        SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_open (path, &dst), ==, SQLITE_OK);
      sqlite3_backup *b = sqlite3_backup_init (dst, "main", src, "main");
      g_assert_nonnull (b);
      g_assert_cmpint (sqlite3_backup_step (b, -1), ==, SQLITE_DONE);
      sqlite3_backup_finish (b);
      sqlite3_close (src);
      g_assert_cmpint (sqlite3_exec (dst, "PRAGMA journal_mode = DELETE; PRAGMA ignore_check_constraints = ON;",
                                     NULL, NULL, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_exec (dst, damage[i], NULL, NULL, NULL), ==, SQLITE_OK);
      sqlite3_close (dst);

      activate ("dismiss-error", NULL);
      open_paths ((const char *[]) { path, NULL });
      const char *message = memscope_window_get_error (win);
      g_test_message ("%s: %s", damage[i], message ? message : "(no error)");
      g_assert_nonnull (message);
      g_assert_nonnull (strstr (message, name));
      g_assert_cmpuint (memscope_window_get_n_runs (win), ==, runs);
      /* the window still works */
      int t = memscope_window_get_segment (win);
      activate (t > 0 ? "previous" : "next", NULL);
      g_assert_cmpint (memscope_window_get_segment (win), ==, t > 0 ? t - 1 : t + 1);
    }
  activate ("dismiss-error", NULL);
}

static void
test_open_recording_and_cancel (void)
{
  /* opening a recording shows its runs */
  MemscopeRun *a = memscope_window_get_run_a (win);
  g_autofree char *copy = g_build_filename (tmp_dir, "copy.sqlite", NULL);
  g_autoptr (GFile) src = g_file_new_for_path (memscope_run_get_db_path (a));
  g_autoptr (GFile) dst = g_file_new_for_path (copy);
  g_assert_true (g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, NULL));
  /* with its write-ahead log, which the open readers keep from being checkpointed */
  g_autofree char *wal_src = g_strconcat (memscope_run_get_db_path (a), "-wal", NULL);
  g_autofree char *wal_dst = g_strconcat (copy, "-wal", NULL);
  if (g_file_test (wal_src, G_FILE_TEST_EXISTS))
    {
      g_autoptr (GFile) ws = g_file_new_for_path (wal_src);
      g_autoptr (GFile) wd = g_file_new_for_path (wal_dst);
      g_assert_true (g_file_copy (ws, wd, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, NULL));
    }
  guint before = memscope_window_get_n_runs (win);
  open_paths ((const char *[]) { copy, NULL });
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, before + 1);
  g_assert_cmpint (memscope_run_get_status (memscope_window_get_run_a (win)), ==, MS_RUN_COMPLETE);
  g_autoptr (GError) error = NULL;
  activate ("view", g_variant_new_string ("retention"));
  g_assert_true (memscope_figure_view_update (memscope_window_get_visible_view (win), &error));

  /* a recording cancelled at once leaves the window usable */
  g_autofree char *model = g_build_filename (memscope_data_dir (), "models", "demo-rmt.safetensors", NULL);
  GFile *f = g_file_new_for_path (model);
  memscope_window_open_files (win, &f, 1);
  g_object_unref (f);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "cancel"));
  activate ("cancel", NULL);
  wait_until (not_busy, "the cancelled recording to stop");
  g_assert_false (memscope_window_is_busy (win));
}

/* Opens @path, a recording nobody can write beside, and checks a view of it
 * is drawn and, when @unwritable (root writes into a 0555 folder anyway),
 * that nothing was created next to it. */
static void
open_read_only (const char *path, gboolean unwritable, const char *shot)
{
  guint before = memscope_window_get_n_runs (win);
  open_paths ((const char *[]) { path, NULL });
  g_assert_null (memscope_window_get_error (win));
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, before + 1);
  activate ("view", g_variant_new_string ("retention"));
  g_autoptr (GError) error = NULL;
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  gboolean updated = memscope_figure_view_update (view, &error);
  g_assert_no_error (error);
  g_assert_true (updated);
  g_autoptr (Shot) s = screenshot (GTK_WIDGET (view), shot);
  g_assert_cmpuint (distinct_colours (s, 0, s->width), >, 3);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  if (unwritable)
    g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS) || g_file_test (shm, G_FILE_TEST_EXISTS));
}

static gboolean
run_command (const char *const *argv)
{
  int status = -1;
  return g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                       | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

/* Copies of the recording @source in @folder (created), in rollback-journal
 * and in WAL mode, read-only files: (@paths[0], @paths[1]), owned. */
static void
make_shared_copies (const char *source, const char *folder, char **paths)
{
  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  for (int i = 0; i < 2; i++)
    {
      paths[i] = g_build_filename (folder, i == 0 ? "rollback.sqlite" : "wal.sqlite", NULL);
      sqlite3 *db;
      g_assert_cmpint (sqlite3_open_v2 (source, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
      g_autofree char *sql = g_strdup_printf ("VACUUM INTO '%s'", paths[i]);
      g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
      sqlite3_close (db);
      g_assert_cmpint (sqlite3_open (paths[i], &db), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_exec (db, i == 0 ? "PRAGMA journal_mode = DELETE" : "PRAGMA journal_mode = WAL",
                                     NULL, NULL, NULL), ==, SQLITE_OK);
      sqlite3_close (db);
      g_chmod (paths[i], 0444);
    }
}

static void
remove_shared_copies (const char *folder, char **paths)
{
  g_chmod (folder, 0755);
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *wal = g_strconcat (paths[i], "-wal", NULL);
      g_autofree char *shm = g_strconcat (paths[i], "-shm", NULL);
      g_unlink (wal);
      g_unlink (shm);
      g_unlink (paths[i]);
      g_free (paths[i]);
    }
  g_rmdir (folder);
}

static char *shared_folders[2], *shared_paths[2][2];

/* A recording shared as a file opens from a folder the user cannot write
 * and from read-only media, left in rollback-journal or in WAL mode.  The
 * copies stay until the end (the window keeps their runs), and run A is a
 * writable copy again afterwards. */
static void
test_read_only_recording (void)
{
  g_autofree char *source = g_strdup (memscope_run_get_db_path (memscope_window_get_run_a (win)));
  /* a folder the user cannot write (root writes anyway: the bind mount below is the test then) */
  shared_folders[0] = g_build_filename (tmp_dir, "shared", NULL);
  make_shared_copies (source, shared_folders[0], shared_paths[0]);
  g_chmod (shared_folders[0], 0555);
  open_read_only (shared_paths[0][0], geteuid () != 0, "read-only-folder-rollback");
  open_read_only (shared_paths[0][1], geteuid () != 0, "read-only-folder-wal");

  shared_folders[1] = g_build_filename (tmp_dir, "media", NULL);
  g_autofree char *mnt = g_build_filename (tmp_dir, "mnt", NULL);
  make_shared_copies (source, shared_folders[1], shared_paths[1]);
  g_assert_cmpint (g_mkdir (mnt, 0755), ==, 0);
  if (run_command ((const char *[]) { "mount", "--bind", shared_folders[1], mnt, NULL }))
    {
      if (run_command ((const char *[]) { "mount", "-o", "remount,bind,ro", mnt, NULL }))
        for (int i = 0; i < 2; i++)
          {
            g_autofree char *base = g_path_get_basename (shared_paths[1][i]);
            g_autofree char *on_mount = g_build_filename (mnt, base, NULL);
            open_read_only (on_mount, TRUE, i == 0 ? "read-only-mount-rollback" : "read-only-mount-wal");
          }
      else
        g_test_message ("SKIP: cannot remount %s read-only", mnt);
      /* the runs opened from the mount now read the copies beside it */
      open_read_only (shared_paths[1][1], FALSE, "read-only-after-mount");
      /* the window's readers keep the mount busy: detach it lazily */
      g_assert_true (run_command ((const char *[]) { "umount", "-l", mnt, NULL }));
    }
  else
    g_test_message ("SKIP: a read-only bind mount needs root (mount --bind is not permitted here)");
  g_rmdir (mnt);
  /* the next tests go on with a writable copy as run A */
  g_autofree char *copy = g_build_filename (tmp_dir, "after-read-only.sqlite", NULL);
  g_autoptr (GFile) src = g_file_new_for_path (source);
  g_autoptr (GFile) dst = g_file_new_for_path (copy);
  g_assert_true (g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, NULL));
  open_paths ((const char *[]) { copy, NULL });
  g_assert_cmpstr (memscope_run_get_db_path (memscope_window_get_run_a (win)), ==, copy);
}

static void
test_shortcuts_and_about (void)
{
  guint before = g_list_model_get_n_items (gtk_window_get_toplevels ());
  g_action_group_activate_action (G_ACTION_GROUP (app), "shortcuts", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  settle ();
  GListModel *tops = gtk_window_get_toplevels ();
  g_assert_cmpuint (g_list_model_get_n_items (tops), ==, before + 2);
  gboolean shortcuts = FALSE, about = FALSE;
  for (guint i = g_list_model_get_n_items (tops); i-- > 0;)
    {
      g_autoptr (GtkWindow) top = g_list_model_get_item (tops, i);
      shortcuts |= GTK_IS_SHORTCUTS_WINDOW (top);
      about |= GTK_IS_ABOUT_DIALOG (top);
      if (GTK_IS_SHORTCUTS_WINDOW (top) || GTK_IS_ABOUT_DIALOG (top))
        gtk_window_destroy (top);
    }
  g_assert_true (shortcuts && about);
}

/* Zooming the segment axis: anchored on the current segment, panning,
 * hover and highlight in the zoomed figure, back to the whole run. */
static void
test_zoom (void)
{
  activate ("view", g_variant_new_string ("retention"));
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  wait_for_frame (GTK_WIDGET (view));
  int first, n, total;
  g_assert_false (memscope_figure_view_get_zoom (view, &first, &total));
  g_assert_cmpint (first, ==, 0);
  g_assert_cmpint (total, >, MEMSCOPE_FIGURE_VIEW_MIN_ZOOM);

  activate ("last", NULL);
  activate ("zoom-in", NULL);
  g_assert_true (memscope_figure_view_get_zoom (view, &first, &n));
  /* (+ 1: a window that starts inside a column shows that column whole) */
  g_assert_cmpint (n, <=, MAX ((total + 1) / 2, MEMSCOPE_FIGURE_VIEW_MIN_ZOOM) + 1);
  g_assert_cmpint (n, <, total);
  g_assert_cmpint (n, >=, MEMSCOPE_FIGURE_VIEW_MIN_ZOOM);
  g_assert_cmpint (first + n, ==, total);  /* the last segment stays in view */

  /* the current segment's column is wider now, and hovering it names it */
  wait_for_frame (GTK_WIDGET (view));
  graphene_rect_t r;
  g_assert_true (memscope_figure_view_get_highlight_rect (view, &r));
  g_autofree char *text = memscope_figure_view_describe_point (view, r.origin.x + r.size.width / 2,
                                                                r.origin.y + r.size.height / 2);
  g_autofree char *expected = g_strdup_printf ("after segment %d\n", total - 1);
  g_assert_nonnull (strstr (text, expected));

  /* another colormap redraws the zoomed figure in its colours, keeping the window */
  MsColormap before = memscope_figure_view_get_colormap (view);
  g_autoptr (Shot) old_colours = screenshot (GTK_WIDGET (view), "zoomed-before-colormap");
  memscope_figure_view_set_colormap (view, before == MS_COLORMAP_MAGMA ? MS_COLORMAP_VIRIDIS : MS_COLORMAP_MAGMA);
  g_autoptr (Shot) new_colours = screenshot (GTK_WIDGET (view), "zoomed-other-colormap");
  int cx = (int) (r.origin.x + r.size.width / 2), cy = (int) (r.origin.y + r.size.height / 2);
  g_assert_cmphex (old_colours->pixels[cy * old_colours->width + cx], !=,
                   new_colours->pixels[cy * new_colours->width + cx]);
  int first2, n2;
  g_assert_true (memscope_figure_view_get_zoom (view, &first2, &n2));
  g_assert_cmpint (first2, ==, first);
  g_assert_cmpint (n2, ==, n);
  memscope_figure_view_set_colormap (view, before);

  /* panned to the start, the current segment is out of the window */
  memscope_figure_view_pan (view, -10.0 * total);
  g_assert_true (memscope_figure_view_get_zoom (view, &first, &n));
  g_assert_cmpint (first, ==, 0);
  wait_for_frame (GTK_WIDGET (view));
  g_assert_false (memscope_figure_view_get_highlight_rect (view, &r));
  g_autoptr (Shot) shot = screenshot (GTK_WIDGET (view), "zoomed-retention");

  /* an export shows what the view shows: the zoomed window */
  g_autoptr (GError) error = NULL;
  g_autoptr (MsViewFigure) fig = memscope_figure_view_build_figure (view, MS_COLORMAP_VIRIDIS, NULL, &error);
  g_assert_no_error (error);
  MsViewFigureHit hit;
  MsRect rects[3];
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (s);
  g_assert_cmpint (ms_view_figure_get_plot_rects (fig, cr, 800, 400, rects), >=, 1);
  g_assert_true (ms_view_figure_hit (fig, cr, 800, 400, rects[0].x + rects[0].width - 0.5, rects[0].y + 1, &hit));
  g_assert_cmpint (hit.col, ==, n - 1);
  cairo_destroy (cr);
  cairo_surface_destroy (s);

  for (int i = 0; i < 20; i++)
    activate ("zoom-out", NULL);
  g_assert_false (memscope_figure_view_get_zoom (view, &first, &n));
  activate ("zoom-in", NULL);
  activate ("zoom-reset", NULL);
  g_assert_false (memscope_figure_view_get_zoom (view, &first, &n));
  activate ("first", NULL);
}

static char *recent_uri;

static gboolean
recent_menu_leads_with_uri (void)
{
  GMenuModel *menu = memscope_window_get_recent_menu (win);
  if (g_menu_model_get_n_items (menu) == 0)
    return FALSE;
  g_autoptr (GVariant) target = g_menu_model_get_item_attribute_value (menu, 0, G_MENU_ATTRIBUTE_TARGET,
                                                                        G_VARIANT_TYPE_STRING);
  return target && g_str_equal (g_variant_get_string (target, NULL), recent_uri);
}

/* A file opened once heads the Open Recent menu and opens again from it. */
static void
test_recent_files (void)
{
  g_autofree char *demo = g_build_filename (memscope_data_dir (), "models", "demo-rmt.safetensors", NULL);
  g_autofree char *path = g_build_filename (tmp_dir, "recent-rmt.safetensors", NULL);
  g_autoptr (GFile) src = g_file_new_for_path (demo);
  g_autoptr (GFile) dst = g_file_new_for_path (path);
  g_assert_true (g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, NULL));
  recent_uri = g_file_get_uri (dst);

  guint before = memscope_window_get_n_runs (win);
  open_paths ((const char *[]) { path, NULL });
  wait_until (not_busy, "the recording of the opened model");
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, before + 1);
  wait_until (recent_menu_leads_with_uri, "the model at the top of Open Recent");

  GMenuModel *menu = memscope_window_get_recent_menu (win);
  g_autofree char *label = NULL, *action = NULL;
  g_assert_true (g_menu_model_get_item_attribute (menu, 0, G_MENU_ATTRIBUTE_LABEL, "s", &label));
  g_assert_true (g_menu_model_get_item_attribute (menu, 0, G_MENU_ATTRIBUTE_ACTION, "s", &action));
  g_assert_true (g_str_has_prefix (label, "recent-rmt.safetensors ("));
  g_assert_cmpstr (action, ==, "win.open-recent");
  /* the tests before opened more files than the menu holds: it keeps the
   * ten newest */
  g_assert_cmpint (g_menu_model_get_n_items (menu), ==, 10);

  activate ("open-recent", g_variant_new_string (recent_uri));
  wait_until (not_busy, "the recording of the model reopened from Open Recent");
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, before + 2);
  g_clear_pointer (&recent_uri, g_free);
}

static void
test_close_while_recording (void)
{
  /* a second window closed while it records: its workers are cancelled,
   * nothing touches the window afterwards, and the window, its views and
   * its runs are released on the main thread, where the runs reported
   * their progress */
  MemscopeWindow *other = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (other));
  memscope_window_open_demo (other);
  g_assert_true (memscope_window_is_busy (other));
  g_assert_cmpuint (memscope_window_get_n_runs (other), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_signal_connect (memscope_window_get_run (other, i), "progress", G_CALLBACK (on_progress_note_thread), NULL);
      watch_finalize (memscope_window_get_run (other, i));
    }
  for (int k = 0; k < MS_VIEW_N_KINDS; k++)
    watch_finalize (memscope_window_get_view (other, k));
  watch_finalize (other);
  gtk_window_destroy (GTK_WINDOW (other));
  wait_until (closed_window_finalized, "the closed window to be released by its recordings and views");
  g_assert_cmpint (g_atomic_int_get (&off_main_thread), ==, 0);
  /* the first window is untouched */
  activate ("first", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  tmp_dir = g_dir_make_tmp ("memscope-ui-XXXXXX", NULL);
  shots_dir = g_strdup (g_getenv ("MEMSCOPE_SCREENSHOT_DIR") ? g_getenv ("MEMSCOPE_SCREENSHOT_DIR") : tmp_dir);
  g_mkdir_with_parents (shots_dir, 0755);
  app = memscope_application_new (G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_error ("cannot register the application: %s", error->message);
  g_application_hold (G_APPLICATION (app));

  g_test_add_func ("/workbench/starts-on-demo", test_starts_on_demo);
  g_test_add_func ("/workbench/steps-segments", test_steps_segments);
  g_test_add_func ("/workbench/every-view", test_every_view);
  g_test_add_func ("/workbench/select-slot", test_select_slot);
  g_test_add_func ("/workbench/compare", test_compare);
  g_test_add_func ("/workbench/bindings", test_bindings);
  g_test_add_func ("/workbench/load-off-main-thread", test_load_off_main_thread);
  g_test_add_func ("/workbench/superseded-load", test_superseded_load);
  g_test_add_func ("/workbench/export", test_export);
  g_test_add_func ("/workbench/errors-in-window", test_errors_in_window);
  g_test_add_func ("/workbench/open-recording-and-cancel", test_open_recording_and_cancel);
  g_test_add_func ("/workbench/read-only-recording", test_read_only_recording);
  g_test_add_func ("/workbench/shortcuts-and-about", test_shortcuts_and_about);
  g_test_add_func ("/workbench/zoom", test_zoom);
  g_test_add_func ("/workbench/recent-files", test_recent_files);
  g_test_add_func ("/workbench/hostile-recordings", test_hostile_recordings);
  g_test_add_func ("/workbench/close-while-recording", test_close_while_recording);
  int status = g_test_run ();

  if (win)
    gtk_window_destroy (GTK_WINDOW (win));
  win = NULL;
  settle ();
  g_application_release (G_APPLICATION (app));
  g_object_unref (app);
  g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  for (const char *name; dir && (name = g_dir_read_name (dir));)
    {
      g_autofree char *p = g_build_filename (tmp_dir, name, NULL);
      g_unlink (p);
    }
  for (int i = 0; i < 2; i++)
    if (shared_folders[i])
      remove_shared_copies (shared_folders[i], shared_paths[i]);
  g_rmdir (tmp_dir);
  return status;
}
