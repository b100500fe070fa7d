/* workbench-causal.c — the Causal controls (ui/memscope-causal-bar.c) on
 * the demo: the bar shows over the causal views only; computing run A's
 * causal retention runs off the main thread (the main loop keeps turning)
 * with progress, then the causal view, drawn without data before, is
 * coloured; a computation cancelled at once stops with what it stored,
 * and computing again continues it. */
#include "workbench-test.h"

#include "memscope-causal-bar.h"
#include "ms-error.h"

static int ticks;

static gboolean
count_tick (gpointer data)
{
  ticks++;
  return G_SOURCE_CONTINUE;
}

static MemscopeCausalBar *bar;

static gboolean
bar_idle (void)
{
  return !memscope_causal_bar_is_busy (bar);
}

/* Coloured pixel values inside the causal view's plot (its colorbar left out). */
static guint
plot_colours (const char *name)
{
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_figure_view_update (view, &error));
  g_assert_no_error (error);
  MsRect rects[3];
  g_autoptr (Shot) s = screenshot (GTK_WIDGET (view), name);   /* settles the layout first */
  g_assert_cmpint (memscope_figure_view_get_plot_rects (view, rects), >=, 1);
  return distinct_colours (s, (int) rects[0].x + 2, (int) (rects[0].x + rects[0].width) - 2);
}

void
test_causal_page (void)
{
  wait_until (demo_recorded, "the demo to be recorded");
  bar = MEMSCOPE_CAUSAL_BAR (find_widget (GTK_WIDGET (win), MEMSCOPE_TYPE_CAUSAL_BAR, NULL));
  g_assert_nonnull (bar);
  activate ("view", g_variant_new_string ("retention"));
  wait_until (visible_view_loaded, "the retention view");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (bar)));
  activate ("view", g_variant_new_string ("causal"));
  wait_until (visible_view_loaded, "the causal view");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (bar)));
  /* nothing computed yet: no colour in the plot */
  g_assert_cmpuint (plot_colours ("causal-before"), ==, 0);

  ticks = 0;
  guint tick = g_timeout_add (10, count_tick, NULL);
  memscope_causal_bar_compute (bar, MS_CAUSAL_INITIAL, 4);
  g_assert_true (memscope_causal_bar_is_busy (bar));
  wait_until (bar_idle, "causal retention to be computed");
  g_source_remove (tick);
  g_assert_null (memscope_causal_bar_get_error (bar));
  const MsCausalResult *r = memscope_causal_bar_get_result (bar);
  g_assert_cmpint (r->sources_computed, ==, 11);   /* the copy demo: 12 segments */
  g_assert_true (r->task_input);
  int done, total;
  memscope_causal_bar_get_progress (bar, &done, &total);
  g_assert_cmpint (done, >, 0);
  g_assert_cmpint (done, <=, total);
  wait_until (visible_view_loaded, "the causal view to reload");
  g_assert_cmpuint (plot_colours ("causal-after"), >, 3);
  g_test_message ("%d main-loop ticks while computing", ticks);

  /* cancelled at once: stops between sources, keeps what it stored */
  memscope_causal_bar_compute (bar, MS_CAUSAL_KNOCKOUT, 2);
  memscope_causal_bar_cancel (bar);
  wait_until (bar_idle, "the cancelled computation to stop");
  const GError *e = memscope_causal_bar_get_error (bar);
  g_assert_true (e && g_error_matches (e, MS_ERROR, MS_ERROR_CANCELLED));
  int stored = memscope_causal_bar_get_result (bar)->sources_computed;
  g_assert_cmpint (stored, <, 11);
  memscope_causal_bar_compute (bar, MS_CAUSAL_KNOCKOUT, 2);
  wait_until (bar_idle, "knockout to be computed");
  g_assert_null (memscope_causal_bar_get_error (bar));
  g_assert_cmpint (memscope_causal_bar_get_result (bar)->sources_stored, ==, stored);
  g_assert_cmpint (memscope_causal_bar_get_result (bar)->sources_computed, ==, 11 - stored);
  activate ("view", g_variant_new_string ("causal-slots"));
  wait_until (visible_view_loaded, "the causal-slots view");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (bar)));
  g_assert_cmpuint (plot_colours ("causal-slots"), >, 3);
  activate ("view", g_variant_new_string ("retention"));
  wait_until (visible_view_loaded, "the retention view");
}
