/* workbench-util.c — what the workbench tests share: the application and
 * window, waiting on the main loop until a condition holds, screenshots
 * rendered with the window's renderer and checked for pixels, actions, and
 * which thread the workbench uses its GTK objects on. */
#include <cairo-pdf.h>
#include <gdk/x11/gdkx.h>
#include <math.h>
#include <string.h>

#include "ms-recording.h"
#include "ms-view.h"
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

gsize
shot_pixels_differ (const Shot *a, const Shot *b)
{
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  gsize differ = 0;
  for (gsize i = 0; i < (gsize) a->width * a->height; i++)
    differ += a->pixels[i] != b->pixels[i];
  return differ;
}

/* Whether every revealer under @w has finished its transition (a revealer
 * mid-way reports the state it is leaving). */
static gboolean
revealers_still (GtkWidget *w)
{
  if (GTK_IS_REVEALER (w)
      && gtk_revealer_get_child_revealed (GTK_REVEALER (w)) != gtk_revealer_get_reveal_child (GTK_REVEALER (w)))
    return FALSE;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    if (!revealers_still (c))
      return FALSE;
  return TRUE;
}

static GtkWidget *shot_root;

static gboolean
shot_window_still (void)
{
  return revealers_still (shot_root);
}

/* Renders @widget (allocated) as it is now with its window's renderer, once
 * its window is at rest; saves it as @name.png in the screenshots folder. */
Shot *
screenshot (GtkWidget *widget, const char *name)
{
  /* At rest: no revealer mid-way (a closing one keeps ceil (height ×
   * progress) of its child's room, a pixel row for the last third of its
   * transition: the progress strip as a recording ends), and a frame
   * can lay the view out at another size, which loads it again. */
  shot_root = GTK_WIDGET (gtk_widget_get_root (widget));
  do
    {
      wait_until (shot_window_still, "the window's transitions to end");
      settle ();
      wait_for_frame (widget);
    }
  while (!visible_view_loaded () || !revealers_still (shot_root));
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

static void
word_clear (gpointer p)
{
  g_free (((Word *) p)->text);
}

char *
tool_output (const char *const *argv)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                               &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *command = g_strjoinv (" ", (char **) argv);
      g_error ("%s: %s", command, err);
    }
  return g_steal_pointer (&out);
}

/* The words of @view's figure as it is on screen — the same figure object,
 * drawn again at the view's size and text zoom to a PDF, as the view's
 * worker drew it to the image it shows — with their boxes in the view's
 * coordinates, read back by poppler's pdftotext. */
GArray *
drawn_words (MemscopeFigureView *view)
{
  MsViewFigure *fig = memscope_figure_view_get_figure (view);
  g_assert_nonnull (fig);
  double w = gtk_widget_get_width (GTK_WIDGET (view)), h = gtk_widget_get_height (GTK_WIDGET (view));
  double zoom = memscope_figure_view_get_text_zoom (view);
  g_autofree char *pdf = g_build_filename (tmp_dir, "drawn-words.pdf", NULL);
  cairo_surface_t *surface = cairo_pdf_surface_create (pdf, w, h);
  cairo_t *cr = cairo_create (surface);
  cairo_scale (cr, zoom, zoom);
  ms_view_figure_draw (cr, w / zoom, h / zoom, fig);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);

  const char *argv[] = { "pdftotext", "-bbox", pdf, "-", NULL };
  g_autofree char *out = tool_output (argv);
  GArray *words = g_array_new (FALSE, TRUE, sizeof (Word));
  g_array_set_clear_func (words, word_clear);
  for (const char *p = out; (p = strstr (p, "<word ")); )
    {
      Word wd = { 0 };
      const char *text = strchr (p, '>');
      const char *end = text ? strstr (text, "</word>") : NULL;
      g_assert_nonnull (end);
      g_assert_cmpint (sscanf (p, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\"", &wd.x0, &wd.y0, &wd.x1,
                               &wd.y1), ==, 4);
      wd.text = g_strndup (text + 1, end - text - 1);
      g_array_append_val (words, wd);
      p = end;
    }
  return words;
}

/* Where @w is shown in its window: its bounds cut by those of every widget
 * around it (a GtkPaned, a stack, a box may clip what lies outside them),
 * in the window's coordinates. */
static graphene_rect_t
shown_part (GtkWidget *w)
{
  GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (w));
  graphene_rect_t shown;
  g_assert_true (gtk_widget_compute_bounds (w, root, &shown));
  for (GtkWidget *a = gtk_widget_get_parent (w); a; a = gtk_widget_get_parent (a))
    {
      graphene_rect_t b;
      g_assert_true (gtk_widget_compute_bounds (a, root, &b));
      if (!graphene_rect_intersection (&shown, &b, &shown))
        return GRAPHENE_RECT_INIT (0, 0, 0, 0);
    }
  return shown;
}

void
check_figure_text_shown (MemscopeFigureView *view, const Shot *shot)
{
  GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (view)));
  graphene_rect_t shown = shown_part (GTK_WIDGET (view));
  g_autoptr (GArray) words = drawn_words (view);
  g_assert_cmpuint (words->len, >, 3);
  for (guint i = 0; i < words->len; i++)
    {
      Word *wd = &g_array_index (words, Word, i);
      graphene_point_t p0, p1;
      g_assert_true (gtk_widget_compute_point (GTK_WIDGET (view), root, &GRAPHENE_POINT_INIT (wd->x0, wd->y0), &p0));
      g_assert_true (gtk_widget_compute_point (GTK_WIDGET (view), root, &GRAPHENE_POINT_INIT (wd->x1, wd->y1), &p1));
      graphene_rect_t box = GRAPHENE_RECT_INIT (p0.x, p0.y, p1.x - p0.x, p1.y - p0.y);
      /* (half a pixel for the box's rounding) */
      if (p0.x < shown.origin.x - 0.5 || p0.y < shown.origin.y - 0.5
          || p1.x > shown.origin.x + shown.size.width + 0.5 || p1.y > shown.origin.y + shown.size.height + 0.5)
        g_error ("\"%s\" of the %s view, at %.1f,%.1f–%.1f,%.1f in the window, is cut off: the window shows the "
                 "view at %.1f,%.1f–%.1f,%.1f",
                 wd->text, memscope_window_get_view_name (win), p0.x, p0.y, p1.x, p1.y, shown.origin.x,
                 shown.origin.y, shown.origin.x + shown.size.width, shown.origin.y + shown.size.height);
      if (marked_pixels (shot, &box) == 0)
        g_error ("\"%s\" of the %s view is not drawn at %.1f,%.1f–%.1f,%.1f in the window", wd->text,
                 memscope_window_get_view_name (win), p0.x, p0.y, p1.x, p1.y);
    }
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

/* @w is mapped, inside the window of @width × @height and drawn in @shot
 * (a screenshot of the window). */
void
check_on_screen (GtkWidget *w, const Shot *shot, int width, int height)
{
  g_assert_true (gtk_widget_get_mapped (w));
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (w, GTK_WIDGET (win), &r));
  g_assert_cmpfloat (r.origin.x, >=, 0);
  g_assert_cmpfloat (r.origin.y, >=, 0);
  g_assert_cmpfloat (r.origin.x + r.size.width, <=, width);
  g_assert_cmpfloat (r.origin.y + r.size.height, <=, height);
  g_assert_cmpint (marked_pixels (shot, &r), >, 10);
}

/* ---- the pointer ---- */

/* Moves the X server's pointer to @root_x, @root_y (device pixels of the
 * screen), as a user's mouse does: GTK gets the crossing and motion
 * events a real move makes. */
static void
warp_pointer (GtkWidget *any, int root_x, int root_y)
{
  Display *display = gdk_x11_display_get_xdisplay (gtk_widget_get_display (any));
  XWarpPointer (display, None, DefaultRootWindow (display), 0, 0, 0, 0, root_x, root_y);
  XFlush (display);
}

void
pointer_to (GtkWidget *widget, double x, double y)
{
  GtkNative *native = gtk_widget_get_native (widget);
  graphene_point_t p;
  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native), &GRAPHENE_POINT_INIT (x, y), &p));
  double sx, sy;
  gtk_native_get_surface_transform (native, &sx, &sy);
  GdkSurface *surface = gtk_native_get_surface (native);
  Display *display = gdk_x11_display_get_xdisplay (gtk_widget_get_display (widget));
  int scale = gdk_surface_get_scale_factor (surface);
  Window child;
  int rx, ry;
  XTranslateCoordinates (display, gdk_x11_surface_get_xid (surface), DefaultRootWindow (display),
                         (int) ((p.x + sx) * scale), (int) ((p.y + sy) * scale), &rx, &ry, &child);
  warp_pointer (widget, rx, ry);
}

void
pointer_away (void)
{
  Display *display = gdk_x11_display_get_xdisplay (gtk_widget_get_display (GTK_WIDGET (win)));
  /* the screen's bottom right corner, where no window of the tests lies */
  warp_pointer (GTK_WIDGET (win), DisplayWidth (display, DefaultScreen (display)) - 1,
                DisplayHeight (display, DefaultScreen (display)) - 1);
}

static gboolean
is_tooltip_window (GtkWidget *w)
{
  return g_str_equal (G_OBJECT_TYPE_NAME (w), "GtkTooltipWindow");
}

static GtkWidget *tooltip_root;

/* The text of the tooltip shown over a widget of @tooltip_root, NULL when none is. */
static const char *
shown_tooltip (void)
{
  GtkWidget *tip = find_widget (tooltip_root, GTK_TYPE_WIDGET, is_tooltip_window);
  GtkWidget *label = tip && gtk_widget_get_mapped (tip) ? find_widget (tip, GTK_TYPE_LABEL, NULL) : NULL;
  const char *text = label ? gtk_label_get_text (GTK_LABEL (label)) : NULL;
  return text && *text ? text : NULL;
}

static gboolean
no_tooltip (void)
{
  return shown_tooltip () == NULL;
}

static gboolean
a_tooltip (void)
{
  return shown_tooltip () != NULL;
}

char *
tooltip_at (GtkWidget *widget, double x, double y)
{
  tooltip_root = GTK_WIDGET (gtk_widget_get_root (widget));
  pointer_away ();
  wait_until (no_tooltip, "the tooltip to hide once the pointer left");
  pointer_to (widget, x, y);
  wait_until (a_tooltip, "a tooltip where the pointer rests");
  return g_strdup (shown_tooltip ());
}

/* ---- hovering a token ---- */

void
check_token_tooltip (int token)
{
  MemscopeTextPane *pane = memscope_window_get_text_pane (win);
  GtkTextView *view = memscope_text_pane_get_text_view (pane);
  int first, end;
  g_assert_true (memscope_text_pane_get_token_range (pane, token, &first, &end));
  /* the right half of the token's first character, on-screen: over that
   * character, though nearer the cursor position after it */
  GtkTextIter at;
  gtk_text_buffer_get_iter_at_offset (gtk_text_view_get_buffer (view), &at, first);
  GdkRectangle loc;
  gtk_text_view_get_iter_location (view, &at, &loc);
  int x, y;
  gtk_text_view_buffer_to_window_coords (view, GTK_TEXT_WINDOW_WIDGET, loc.x + loc.width * 3 / 4, loc.y + loc.height / 2,
                                         &x, &y);
  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, gtk_widget_get_width (GTK_WIDGET (view)));
  g_assert_cmpint (y, <, gtk_widget_get_height (GTK_WIDGET (view)));
  graphene_point_t in_window;
  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (view), GTK_WIDGET (win), &GRAPHENE_POINT_INIT (x, y),
                                           &in_window));
  g_assert_cmpfloat (in_window.y, <, gtk_widget_get_height (GTK_WIDGET (win)));
  g_autofree char *tip = tooltip_at (GTK_WIDGET (view), x, y);
  g_test_message ("tooltip over token %d: %s", token, tip);
  /* the pointer hovers the token it rests on */
  g_assert_cmpint (memscope_text_pane_get_hovered_token (pane), ==, token);

  /* what the tooltip says, against the recording */
  MemscopeRun *run = memscope_text_pane_get_shown_run (pane);
  int segment = memscope_window_get_segment (win);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsRecording) rec = ms_recording_open (memscope_run_get_db_path (run), &error);
  g_assert_no_error (error);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (rec, memscope_run_get_id (run), &error);
  g_assert_no_error (error);
  g_autofree char *where = g_strdup_printf ("Segment %d, token %d", segment, token);
  g_assert_nonnull (strstr (tip, where));
  size_t n_nll = 0;
  g_autofree float *nll = ms_recording_segment_nll (rec, info, segment, &n_nll, &error);
  g_assert_no_error (error);
  g_assert_cmpuint ((size_t) token, <, n_nll);
  g_autofree char *loss = isnan (nll[token]) ? g_strdup ("NLL: none") : g_strdup_printf ("NLL %.3f nats", nll[token]);
  g_assert_nonnull (strstr (tip, loss));
  /* how it reads the memory: its heaviest weight, from the segment's read attention */
  MsViewParams p = MS_VIEW_PARAMS_DEFAULT;
  p.segment = segment;
  g_autoptr (MsViewData) reads = ms_view_load (rec, memscope_run_get_id (run), MS_VIEW_READ, &p, &error);
  g_assert_no_error (error);
  g_assert_cmpint (token, <, reads->rows);
  float heaviest = -1;
  for (int c = 0; c < reads->cols; c++)
    if (!isnan (reads->values[(size_t) token * reads->cols + c]))
      heaviest = MAX (heaviest, reads->values[(size_t) token * reads->cols + c]);
  g_assert_cmpfloat (heaviest, >=, 0);
  g_autofree char *weight = g_strdup_printf ("  %.3f", heaviest);
  g_assert_nonnull (strstr (tip, "Reads the memory"));
  g_assert_nonnull (strstr (tip, weight));
}

/* ---- an error leaves the window as it was ---- */

static gboolean
banner_hidden (void)
{
  return !gtk_revealer_get_child_revealed (banner_revealer);
}

static gboolean
window_still (void)
{
  return revealers_still (GTK_WIDGET (win));
}

void
check_error_leaves_window (const char *path, const char *name)
{
  int width = gtk_widget_get_width (GTK_WIDGET (win)), height = gtk_widget_get_height (GTK_WIDGET (win));
  guint runs = memscope_window_get_n_runs (win);
  MemscopeRun *a = memscope_window_get_run_a (win), *b = memscope_window_get_run_b (win);
  gboolean compare = memscope_window_get_compare (win);
  int segment = memscope_window_get_segment (win);
  g_autofree char *view_name = g_strdup (memscope_window_get_view_name (win));
  g_autofree char *title = g_strdup (gtk_window_get_title (GTK_WINDOW (win)));
  g_autofree char *caption = g_strdup (memscope_window_get_text_caption (win));
  int start = -1, end = -1, start2 = -1, end2 = -1;
  g_assert_true (memscope_window_get_highlight (win, &start, &end));
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  wait_until (window_still, "the window's transitions to end");
  g_autofree char *before_name = g_strdup_printf ("%s-before", name);
  g_autoptr (Shot) before = screenshot (GTK_WIDGET (view), before_name);

  GFile *file = g_file_new_for_path (path);
  memscope_window_open_files (win, &file, 1);
  g_object_unref (file);
  wait_until (not_busy, "the file to be refused");
  settle ();
  const char *message = memscope_window_get_error (win);
  g_assert_nonnull (message);
  g_autofree char *base = g_path_get_basename (path);
  g_assert_nonnull (strstr (message, base));
  /* the banner, and its Dismiss, on-screen */
  GtkWidget *dismiss = wait_for_banner ();
  g_autofree char *banner_name = g_strdup_printf ("%s-banner", name);
  g_autoptr (Shot) banner = screenshot (GTK_WIDGET (win), banner_name);
  check_on_screen (dismiss, banner, width, height);
  /* the figure, its title first, is not cut off where the banner took room */
  check_figure_text_shown (view, banner);
  /* nothing else changed, and the view is drawn, not waiting */
  g_assert_cmpuint (memscope_window_get_n_runs (win), ==, runs);
  g_assert_true (memscope_window_get_run_a (win) == a);
  g_assert_true (memscope_window_get_run_b (win) == b);
  g_assert_cmpint (memscope_window_get_compare (win), ==, compare);
  g_assert_cmpint (memscope_window_get_segment (win), ==, segment);
  g_assert_cmpstr (memscope_window_get_view_name (win), ==, view_name);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, title);
  g_assert_cmpstr (memscope_window_get_text_caption (win), ==, caption);
  g_assert_true (memscope_window_get_highlight (win, &start2, &end2));
  g_assert_cmpint (start2, ==, start);
  g_assert_cmpint (end2, ==, end);
  g_assert_true (memscope_window_get_visible_view (win) == view);
  g_assert_false (memscope_figure_view_get_loading (view));
  g_assert_nonnull (memscope_figure_view_get_data (view, 0));
  g_assert_cmpint (memscope_figure_view_get_data (view, 1) != NULL, ==, compare && b != NULL);

  /* dismissed, the view is drawn exactly as before */
  activate ("dismiss-error", NULL);
  g_assert_null (memscope_window_get_error (win));
  wait_until (banner_hidden, "the banner to close");
  wait_until (window_still, "the window's transitions to end");
  g_autofree char *after_name = g_strdup_printf ("%s-after", name);
  g_autoptr (Shot) after = screenshot (GTK_WIDGET (view), after_name);
  gsize differ = shot_pixels_differ (after, before);
  if (differ)
    g_error ("%s: %zu pixels of the view differ from before the error (see %s and %s)", name, differ, before_name,
             after_name);
}
