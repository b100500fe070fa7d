/* workbench-views.c — the workbench on the copy demo: it starts recording both
 * models, steps segments, draws every view, selects by clicking, compares,
 * reaches every view through property bindings, zooms, and lists its
 * shortcuts. */
#include <math.h>

#include "workbench-test.h"

void
test_starts_on_demo (void)
{
  win = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 860);
  gtk_window_present (GTK_WINDOW (win));
  memscope_window_open_copy_demo (win);   /* 12 segments: every cell wide enough to check */
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

void
test_steps_segments (void)
{
  activate ("view", g_variant_new_string ("retention"));
  change ("compare", g_variant_new_boolean (FALSE));
  activate ("first", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 0);
  GtkWidget *view = GTK_WIDGET (memscope_window_get_visible_view (win));
  g_autoptr (Shot) s0 = screenshot (view, "retention-segment-0");
  MsRect plot[3];
  g_assert_cmpint (memscope_figure_view_get_plot_rects (MEMSCOPE_FIGURE_VIEW (view), plot), ==, 1);
  g_assert_cmpint (highlight_pixels_outside (s0, &plot[0]), ==, 0);   /* the outline stays on the plot */
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
  g_assert_cmpint (highlight_pixels_outside (sl, &plot[0]), ==, 0);
  g_assert_cmpfloat (highlight_x (sl), >, x5);
  activate ("segment", g_variant_new_int32 (3));
  g_assert_cmpint (memscope_window_get_segment (win), ==, 3);
  activate ("segment", g_variant_new_int32 (100000));   /* clamped */
  g_assert_cmpint (memscope_window_get_segment (win), ==, n - 1);
  activate ("first", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 0);
}

static gboolean
is_layer_label (GtkWidget *w)
{
  return g_strcmp0 (gtk_label_get_label (GTK_LABEL (w)), "Layer") == 0;
}

static gboolean
is_head_label (GtkWidget *w)
{
  return g_strcmp0 (gtk_label_get_label (GTK_LABEL (w)), "Head") == 0;
}

void
test_every_view (void)
{
  static const char *views[] = { "retention", "provenance", "types", "nll", "read", "write", "similarity",
                                 "read-heads", "write-heads" };
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
      if (g_str_equal (views[i], "types"))
        check_types_steps (view, s);
      /* the layer and head choices show only where the view uses them */
      MsViewUses uses = ms_view_info (memscope_figure_view_get_kind (view))->params;
      GtkWidget *layer = find_widget (GTK_WIDGET (win), GTK_TYPE_LABEL, is_layer_label);
      GtkWidget *head = find_widget (GTK_WIDGET (win), GTK_TYPE_LABEL, is_head_label);
      g_assert_cmpint (gtk_widget_is_visible (layer), ==, (uses & MS_VIEW_USES_LAYER) != 0);
      g_assert_cmpint (gtk_widget_is_visible (head), ==, (uses & MS_VIEW_USES_HEAD) != 0);
      /* hovering the middle of the data says what it is */
      MsRect rects[3];
      int n = memscope_figure_view_get_plot_rects (view, rects);
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
  g_assert_cmpint (memscope_figure_view_get_plot_rects (ret, r), ==, 1);
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

void
test_select_slot (void)
{
  /* clicking a retention cell selects its slot and segment everywhere */
  activate ("view", g_variant_new_string ("retention"));
  MemscopeFigureView *ret = memscope_window_get_visible_view (win);
  g_autoptr (GError) err = NULL;
  g_assert_true (memscope_figure_view_update (ret, &err));
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  MsRect cell;
  g_assert_true (memscope_figure_view_get_cell_rect (ret, 0, 3, 7, &cell));
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
  /* hovering the text names the token's segment and the value that colours it */
  int start, end;
  g_assert_true (memscope_window_get_highlight (win, &start, &end));
  g_assert_cmpint (memscope_window_segment_at_offset (win, start), ==, 2);
  g_assert_cmpint (memscope_window_segment_at_offset (win, end), ==, 3);
  g_assert_cmpint (memscope_window_segment_at_offset (win, -1), ==, -1);
  g_autofree char *here = memscope_window_describe_text_at (win, start + 1);
  g_assert_nonnull (strstr (here, "Segment 2, token 1"));
  g_assert_nonnull (strstr (here, "Reads the memory"));
  g_autofree char *there = memscope_window_describe_text_at (win, end);
  g_assert_nonnull (strstr (there, "Segment 3"));
  g_assert_nonnull (strstr (there, "Click to step"));
  /* … and clicking it steps there */
  GtkTextView *text_view = memscope_text_pane_get_text_view (memscope_window_get_text_pane (win));
  GtkTextIter at;
  gtk_text_buffer_get_iter_at_offset (gtk_text_view_get_buffer (text_view), &at, end + 1);
  GdkRectangle loc;
  gtk_text_view_get_iter_location (text_view, &at, &loc);
  int cx, cy;
  gtk_text_view_buffer_to_window_coords (text_view, GTK_TEXT_WINDOW_WIDGET, loc.x + 1, loc.y + loc.height / 2,
                                         &cx, &cy);
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (text_view));
  int clicked = 0;
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) c = g_list_model_get_item (controllers, i);
      if (!GTK_IS_GESTURE_CLICK (c))
        continue;
      g_signal_emit_by_name (c, "released", 1, (double) cx, (double) cy);
      clicked++;
    }
  g_assert_cmpint (clicked, >, 0);
  settle ();
  g_assert_cmpint (memscope_window_get_segment (win), ==, 3);
  activate ("segment", g_variant_new_int32 (2));

  /* Ctrl+F finds text and steps to its segment; Enter goes to the next match */
  activate ("find", NULL);
  GtkTextBuffer *buffer = memscope_window_get_text_buffer (win);
  g_autofree char *all = NULL;
  GtkTextIter a, b;
  gtk_text_buffer_get_bounds (buffer, &a, &b);
  all = gtk_text_buffer_get_text (buffer, &a, &b, FALSE);
  const char *needle = "gebhbdgaggcdfafa";   /* twice in the demo, the second in the last segments */
  const char *first = strstr (all, needle), *second = first ? strstr (first + 1, needle) : NULL;
  g_assert_nonnull (second);
  g_assert_true (memscope_window_find_text (win, needle, FALSE));
  settle ();
  int t1 = memscope_window_segment_at_offset (win, (int) g_utf8_pointer_to_offset (all, first));
  g_assert_cmpint (memscope_window_get_segment (win), ==, t1);
  g_assert_true (memscope_window_find_text (win, needle, TRUE));
  settle ();
  int t2 = memscope_window_segment_at_offset (win, (int) g_utf8_pointer_to_offset (all, second));
  g_assert_cmpint (t2, >, t1);
  g_assert_cmpint (memscope_window_get_segment (win), ==, t2);
  g_assert_false (memscope_window_find_text (win, "no such text", FALSE));
  g_assert_cmpint (memscope_window_get_segment (win), ==, t2);
  activate ("segment", g_variant_new_int32 (2));
}

/* ---- the runs' names on the compared figure ---- */

/* Whether a line of text above plot @r, centred over it, holds the word
 * @name: a panel's title (the figure's title is centred over every panel;
 * a legend names no run). */
static gboolean
names_panel (GArray *words, const MsRect *r, const char *name)
{
  double margin = r->width / 10;
  for (guint i = 0; i < words->len; i++)
    {
      Word *wd = &g_array_index (words, Word, i);
      double at = (wd->x0 + wd->x1) / 2;
      if (!g_str_equal (wd->text, name) || wd->y1 > r->y + 1 || at < r->x - margin || at > r->x + r->width + margin)
        continue;
      /* its line, over this panel's columns */
      double x0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE;
      for (guint j = 0; j < words->len; j++)
        {
          Word *o = &g_array_index (words, Word, j);
          double mid = (o->x0 + o->x1) / 2;
          if (fabs (o->y1 - wd->y1) < 1 && mid >= r->x - margin && mid <= r->x + r->width + margin)
            x0 = MIN (x0, o->x0), x1 = MAX (x1, o->x1);
        }
      if (fabs ((x0 + x1) / 2 - (r->x + r->width / 2)) < margin)
        return TRUE;
    }
  return FALSE;
}

/* Compared, @view's panels are titled with the runs' names: run A's name is
 * in a line of text centred above the first panel's plot, run B's above the
 * second's (and not the other way round), and the screenshot @shot has ink
 * where the figure put each name. */
static void
check_panels_named (MemscopeFigureView *view, const Shot *shot)
{
  const char *names[2] = { memscope_run_get_name (memscope_window_get_run_a (win)),
                           memscope_run_get_name (memscope_window_get_run_b (win)) };
  g_assert_cmpstr (names[0], !=, names[1]);
  MsRect plots[3];
  g_assert_cmpint (memscope_figure_view_get_plot_rects (view, plots), >=, 2);
  g_autoptr (GArray) words = drawn_words (view);
  for (int p = 0; p < 2; p++)
    {
      if (!names_panel (words, &plots[p], names[p]))
        g_error ("panel %d of the %s view is not titled %s", p, memscope_window_get_view_name (win), names[p]);
      g_assert_false (names_panel (words, &plots[p], names[1 - p]));
      for (guint i = 0; i < words->len; i++)
        {
          Word *wd = &g_array_index (words, Word, i);
          if (g_str_equal (wd->text, names[p]) && wd->x0 >= plots[p].x && wd->x1 <= plots[p].x + plots[p].width
              && wd->y1 <= plots[p].y)
            {
              graphene_rect_t box = GRAPHENE_RECT_INIT (wd->x0, wd->y0, wd->x1 - wd->x0, wd->y1 - wd->y0);
              g_assert_cmpint (marked_pixels (shot, &box), >, 10);
            }
        }
    }
}

void
test_compare (void)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  activate ("view", g_variant_new_string ("retention"));
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  MsRect rects[3];
  change ("compare", g_variant_new_boolean (TRUE));
  g_assert_true (memscope_window_get_compare (win));
  /* rectangles after the screenshot: it settles the layout they come from */
  g_autoptr (Shot) two = screenshot (GTK_WIDGET (view), "compare-retention");
  g_assert_cmpint (memscope_figure_view_get_plot_rects (view, rects), ==, 2);
  g_assert_true (has_colorbar (two));
  /* both panels are painted */
  g_assert_cmpuint (distinct_colours (two, (int) rects[0].x, (int) (rects[0].x + rects[0].width)), >, 20);
  g_assert_cmpuint (distinct_colours (two, (int) rects[1].x, (int) (rects[1].x + rects[1].width)), >, 20);
  g_autofree char *tip = memscope_figure_view_describe_point (view, rects[1].x + 2, rects[1].y + 2);
  g_assert_nonnull (strstr (tip, "rmt"));
  /* each panel is titled with its run's name */
  check_panels_named (view, two);
  /* the text's colours are run A's, and the caption says so */
  g_assert_true (g_str_has_prefix (memscope_window_get_text_caption (win), "Run A ("));
  g_assert_nonnull (strstr (memscope_window_get_text_caption (win), "memformer"));

  change ("difference", g_variant_new_boolean (TRUE));
  g_assert_true (memscope_window_get_difference (win));
  g_autoptr (Shot) three = screenshot (GTK_WIDGET (view), "compare-retention-difference");
  g_assert_cmpint (memscope_figure_view_get_plot_rects (view, rects), ==, 3);
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
      MemscopeFigureView *compared = memscope_window_get_visible_view (win);
      g_assert_true (memscope_figure_view_update (compared, &error));
      if (g_str_equal (views[i], "types"))   /* two panels, as the heatmaps */
        {
          g_autoptr (Shot) types = screenshot (GTK_WIDGET (compared), "compare-types");
          check_panels_named (compared, types);
        }
    }
  activate ("view", g_variant_new_string ("retention"));
  gtk_widget_set_size_request (GTK_WIDGET (win), -1, -1);
  g_autoptr (Shot) window = screenshot (GTK_WIDGET (win), "workbench");
  g_assert_cmpuint (distinct_colours (window, 0, window->width), >, 40);
  change ("compare", g_variant_new_boolean (FALSE));
  g_assert_cmpint (memscope_figure_view_get_plot_rects (view, rects), ==, 1);
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

void
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

/* Adds the (keyval, modifiers) of every accelerator every
 * GtkShortcutsShortcut under @w lists (several, space-separated, in one)
 * to @seen; gestures (a modifier without a key) are not accelerators. */
static void
collect_shortcuts (GtkWidget *w, GHashTable *seen)
{
  if (GTK_IS_SHORTCUTS_SHORTCUT (w))
    {
      g_autofree char *accel = NULL;
      g_object_get (w, "accelerator", &accel, NULL);
      g_auto (GStrv) each = g_strsplit (accel ? accel : "", " ", -1);
      for (int i = 0; each[i]; i++)
        {
          guint key;
          GdkModifierType mods;
          if (*each[i] && gtk_accelerator_parse (each[i], &key, &mods) && key != 0)
            g_hash_table_add (seen, gtk_accelerator_name (gdk_keyval_to_lower (key), mods));
        }
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect_shortcuts (c, seen);
}

/* The shortcuts window lists exactly the accelerators the application
 * binds: every accelerator of every action (aliases too), and nothing
 * that no action is bound to. */
static void
check_lists_every_accelerator (GtkWidget *shortcuts)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  collect_shortcuts (shortcuts, seen);
  g_autoptr (GHashTable) bound = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) actions = gtk_application_list_action_descriptions (GTK_APPLICATION (app));
  for (int i = 0; actions[i]; i++)
    {
      g_auto (GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), actions[i]);
      for (int k = 0; accels[k]; k++)
        {
          guint key;
          GdkModifierType mods;
          g_assert_true (gtk_accelerator_parse (accels[k], &key, &mods));
          g_autofree char *name = gtk_accelerator_name (gdk_keyval_to_lower (key), mods);
          if (!g_hash_table_contains (seen, name))
            g_error ("the shortcuts window does not list %s (%s)", accels[k], actions[i]);
          g_hash_table_add (bound, g_steal_pointer (&name));
        }
    }
  GHashTableIter it;
  gpointer listed;
  g_hash_table_iter_init (&it, seen);
  while (g_hash_table_iter_next (&it, &listed, NULL))
    if (!g_hash_table_contains (bound, listed))
      g_error ("the shortcuts window lists %s, which no action is bound to", (char *) listed);
  g_test_message ("the shortcuts window lists the %u accelerators bound", g_hash_table_size (bound));
}

void
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
      if (GTK_IS_SHORTCUTS_WINDOW (top))
        check_lists_every_accelerator (GTK_WIDGET (top));
      if (GTK_IS_SHORTCUTS_WINDOW (top) || GTK_IS_ABOUT_DIALOG (top))
        gtk_window_destroy (top);
    }
  g_assert_true (shortcuts && about);
}

/* Zooming the segment axis: anchored on the current segment, panning,
 * hover and highlight in the zoomed figure, back to the whole run. */
void
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
