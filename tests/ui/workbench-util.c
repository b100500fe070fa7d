/* workbench-util.c — what the workbench tests share: the application and
 * window, waiting on the main loop until a condition holds, screenshots
 * rendered with the window's renderer and checked for pixels, actions, and
 * which thread the workbench uses its GTK objects on. */
#include <math.h>
#include <string.h>

#include "workbench-test.h"

MemscopeApplication *app;
MemscopeWindow *win;
char *tmp_dir;
char *shots_dir;

/* ---- waiting ---- */

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
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

gboolean
visible_view_loaded (void)
{
  MemscopeFigureView *view = win ? memscope_window_get_visible_view (win) : NULL;
  return !view || (!memscope_figure_view_get_loading (view) && !memscope_window_get_text_loading (win));
}

/* Lets pending layout and drawing happen, and the visible view load. */
void
settle (void)
{
  for (int i = 0; i < 50 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
  wait_until (visible_view_loaded, "the visible view to load");
  for (int i = 0; i < 50 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

gboolean
demo_recorded (void)
{
  if (memscope_window_is_busy (win) || memscope_window_get_n_runs (win) != 2)
    return FALSE;
  for (guint i = 0; i < 2; i++)
    if (memscope_run_get_status (memscope_window_get_run (win, i)) != MS_RUN_COMPLETE)
      return FALSE;
  return TRUE;
}

gboolean
not_busy (void)
{
  return !memscope_window_is_busy (win);
}

gboolean
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
void
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

void
shot_free (Shot *s)
{
  g_free (s->pixels);
  g_free (s);
}

/* Renders @widget (allocated) as it is now with its window's renderer; saves it as
 * @name.png in the screenshots folder. */
Shot *
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
  /* a window's own background colour first, as on screen: its snapshot
   * method draws only its children, and libadwaita's buttons are
   * translucent over it (the colour, not the CSS background, which would
   * add the window's frame and shadow at the screenshot's edges) */
  GdkRGBA window_bg;
  if (GTK_IS_WINDOW (widget)
      && gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), "window_bg_color", &window_bg))
    gtk_snapshot_append_color (snapshot, &window_bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
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

gboolean
coloured (guint32 p)
{
  int r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
  return MAX (r, MAX (g, b)) - MIN (r, MIN (g, b)) > 24;
}

/* Distinct coloured (not grey) pixel values in columns [x0, x1). */
guint
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
gboolean
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
double
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

/* The first descendant of @w of @type for which @pred (may be NULL) holds. */
GtkWidget *
find_widget (GtkWidget *w, GType type, gboolean (*pred) (GtkWidget *))
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (w, type) && (!pred || pred (w)))
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_widget (c, type, pred);
      if (found)
        return found;
    }
  return NULL;
}

/* Pixels of @s inside @r that differ clearly from @r's top-left pixel: a
 * drawn icon or label rather than an empty patch. */
int
marked_pixels (const Shot *s, const graphene_rect_t *r)
{
  int x0 = MAX ((int) r->origin.x, 0), y0 = MAX ((int) r->origin.y, 0);
  int x1 = MIN ((int) (r->origin.x + r->size.width), s->width);
  int y1 = MIN ((int) (r->origin.y + r->size.height), s->height);
  if (x1 <= x0 || y1 <= y0)
    return 0;
  guint32 bg = s->pixels[(gsize) y0 * s->width + x0];
  int n = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        guint32 p = s->pixels[(gsize) y * s->width + x];
        int d = 0;
        for (int k = 0; k < 24; k += 8)
          d += ABS ((int) ((p >> k) & 0xff) - (int) ((bg >> k) & 0xff));
        n += d > 120;
      }
  return n;
}

/* Outline pixels of @s left or right of @plot's columns. */
int
highlight_pixels_outside (const Shot *s, const MsRect *plot)
{
  int n = 0;
  for (int y = 0; y < s->height; y++)
    for (int x = 0; x < s->width; x++)
      if ((x < floor (plot->x) || x >= ceil (plot->x + plot->width))
          && (s->pixels[(gsize) y * s->width + x] | 0xff000000u) == HIGHLIGHT)
        n++;
  return n;
}

/* Slot types are discrete: inside each segment's cell every pixel row is
 * one colour (a smoothed area would slope across the cell).  Cells next
 * to the current segment's outline are skipped. */
void
check_types_steps (MemscopeFigureView *view, const Shot *s)
{
  int n = memscope_window_get_n_segments (win), checked = 0;
  for (int col = 0; col < n; col++)
    {
      MsRect cell;
      g_assert_true (memscope_figure_view_get_cell_rect (view, 0, -1, col, &cell));
      if (ABS (col - memscope_window_get_segment (win)) <= 1 || cell.width < 8)
        continue;
      int x0 = (int) ceil (cell.x) + 2, x1 = (int) floor (cell.x + cell.width) - 3;
      for (int y = (int) ceil (cell.y) + 2; y < (int) floor (cell.y + cell.height) - 2; y++)
        {
          guint32 left = s->pixels[(gsize) y * s->width + x0], right = s->pixels[(gsize) y * s->width + x1];
          g_assert_cmphex (left, ==, right);
        }
      checked++;
    }
  g_assert_cmpint (checked, >, 3);
}

/* ---- actions ---- */

void
activate (const char *name, GVariant *param)
{
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (win), name));
  g_action_group_activate_action (G_ACTION_GROUP (win), name, param);
  settle ();
}

void
change (const char *name, GVariant *state)
{
  g_action_group_change_action_state (G_ACTION_GROUP (win), name, state);
  settle ();
}

/* ---- threads ---- */

/* GTK objects are used and released on the main thread only: what the
 * workbench does on a worker thread is counted here. */
GThread *main_thread;
int off_main_thread;
static int closing_alive;   /* objects of the closed window not yet finalized */

void
note_thread (void)
{
  if (g_thread_self () != main_thread)
    g_atomic_int_inc (&off_main_thread);
}

void
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

void
watch_finalize (gpointer object)
{
  g_atomic_int_inc (&closing_alive);
  g_object_set_data_full (object, "test-finalized", &closing_alive, on_finalized);
}

gboolean
closed_window_finalized (void)
{
  return g_atomic_int_get (&closing_alive) == 0;
}

static int search_target;
static GtkWidget *search_entry;

static gboolean
search_entry_shown (void)
{
  return gtk_widget_get_mapped (search_entry);
}

static gboolean
search_reached (void)
{
  return memscope_window_get_segment (win) == search_target;
}

void
check_search_steps (const char *needle)
{
  MemscopeTextPane *pane = memscope_window_get_text_pane (win);
  activate ("find", NULL);
  /* (the dropdowns hold search entries of their own) */
  search_entry = find_widget (find_widget (GTK_WIDGET (pane), GTK_TYPE_SEARCH_BAR, NULL), GTK_TYPE_SEARCH_ENTRY, NULL);
  wait_until (search_entry_shown, "the search bar to show");
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (win));   /* the entry's text */
  g_assert_true (focus && gtk_widget_is_ancestor (focus, search_entry));
  /* the entry lies inside the window, and something is drawn in it */
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (search_entry, GTK_WIDGET (win), &r));
  g_assert_cmpfloat (r.origin.x, >=, 0);
  g_assert_cmpfloat (r.origin.y, >=, 0);
  g_assert_cmpfloat (r.origin.x + r.size.width, <=, gtk_widget_get_width (GTK_WIDGET (win)));
  g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (GTK_WIDGET (win)));
  g_autofree char *name = g_strdup_printf ("search-%dx%d", gtk_widget_get_width (GTK_WIDGET (win)),
                                           gtk_widget_get_height (GTK_WIDGET (win)));
  g_autoptr (Shot) shot = screenshot (GTK_WIDGET (win), name);
  g_assert_cmpint (marked_pixels (shot, &r), >, 0);

  GtkTextBuffer *buffer = memscope_window_get_text_buffer (win);
  GtkTextIter ta, tb;
  gtk_text_buffer_get_bounds (buffer, &ta, &tb);
  g_autofree char *all = gtk_text_buffer_get_text (buffer, &ta, &tb, FALSE);
  const char *found = strstr (all, needle);
  g_assert_nonnull (found);
  search_target = memscope_window_segment_at_offset (win, (int) g_utf8_pointer_to_offset (all, found));
  g_assert_cmpint (search_target, >, memscope_window_get_segment (win));
  gtk_editable_set_text (GTK_EDITABLE (search_entry), needle);
  wait_until (search_reached, "the search to step to the match");
}

gboolean
is_play_button (GtkWidget *w)
{
  return g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (w)), "win.play") == 0;
}

static gboolean
is_dismiss_button (GtkWidget *w)
{
  return g_strcmp0 (gtk_button_get_label (GTK_BUTTON (w)), "Dismiss") == 0;
}

static GtkRevealer *banner_revealer;

static gboolean
banner_revealed (void)
{
  return gtk_revealer_get_child_revealed (banner_revealer);
}

GtkWidget *
wait_for_banner (void)
{
  GtkWidget *dismiss = find_widget (GTK_WIDGET (win), GTK_TYPE_BUTTON, is_dismiss_button);
  g_assert_nonnull (dismiss);
  banner_revealer = GTK_REVEALER (gtk_widget_get_ancestor (dismiss, GTK_TYPE_REVEALER));
  wait_until (banner_revealed, "the banner to show");
  return dismiss;
}

static GAsyncResult *saved;

static void
on_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  saved = g_object_ref (result);
}

static gboolean
save_done (void)
{
  return saved != NULL;
}

void
save_recording_as (GFile *dest)
{
  memscope_window_save_recording_async (win, dest, on_saved, NULL);
  wait_until (save_done, "the recording to be saved");
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_window_save_recording_finish (win, saved, &error));
  g_assert_no_error (error);
  g_clear_object (&saved);
}
