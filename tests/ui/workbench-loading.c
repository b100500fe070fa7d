/* workbench-loading.c — views load off the main thread: a locked recording
 * leaves the main loop running under the spinner, a newer change supersedes
 * a load in flight, a view resized back while the load of another size is
 * in flight shows the figure of its size, and a window closed while it
 * records is released on the main thread. */
#include <sqlite3.h>

#include "workbench-test.h"

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

void
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
void
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

/* ---- resized while a load is in flight ---- */

static GtkWidget *strip;   /* above the lonely view: its height takes the view's */
static int full_height;

static gboolean
lonely_shown (void)
{
  return lonely_allocated () && lonely_loaded () && memscope_figure_view_get_figure (lonely);
}

static gboolean
lonely_shorter_loading (void)
{
  return gtk_widget_get_height (GTK_WIDGET (lonely)) == full_height - 40 && lonely_loading ();
}

static gboolean
lonely_full_height (void)
{
  return gtk_widget_get_height (GTK_WIDGET (lonely)) == full_height;
}

/* A view made shorter for a moment (a strip shown above it and hidden
 * again, as the window's banner and progress strip do) while the figure of
 * the shorter size cannot load, then given its old height again: once it
 * says it is done it shows its figure drawn for its height, pixel for pixel
 * what it showed before, never the shorter figure stretched to it. */
void
test_resized_while_loading (void)
{
  g_autofree char *path = NULL;
  g_autoptr (MemscopeRun) run = copy_of_run_a ("resized.sqlite", &path);
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 500);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  strip = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);   /* empty: no height of its own */
  lonely = MEMSCOPE_FIGURE_VIEW (memscope_figure_view_new (MS_VIEW_RETENTION));
  gtk_box_append (GTK_BOX (box), strip);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (lonely));
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_present (GTK_WINDOW (window));
  memscope_figure_view_set_runs (lonely, run, NULL, FALSE);
  wait_until (lonely_shown, "the view to be drawn");
  full_height = gtk_widget_get_height (GTK_WIDGET (lonely));
  g_autoptr (Shot) before = screenshot (GTK_WIDGET (lonely), "resized-while-loading-before");

  /* shorter: the figure of that height is asked for, and waits for the recording */
  sqlite3 *lock = lock_recording (path);
  gtk_widget_set_size_request (strip, -1, 40);
  wait_until (lonely_shorter_loading, "the view to be laid out shorter and load");
  iterate_a_little ();
  g_assert_true (memscope_figure_view_get_loading (lonely));
  /* its old height again before that load ends; then the recording is free */
  gtk_widget_set_size_request (strip, -1, -1);
  wait_until (lonely_full_height, "the view to be laid out at its old height");
  iterate_a_little ();
  sqlite3_close (lock);
  wait_until (lonely_shown, "the view to be done");
  g_autoptr (Shot) after = screenshot (GTK_WIDGET (lonely), "resized-while-loading-after");
  gsize differ = shot_pixels_differ (after, before);
  if (differ)
    g_error ("%zu pixels of the view differ from before it was resized (see resized-while-loading-before and "
             "-after)", differ);
  gtk_window_destroy (GTK_WINDOW (window));
}

static int last_done[2], last_total[2];

static void
on_progress_keep (MemscopeRun *run, int done, int total, gpointer data)
{
  int i = GPOINTER_TO_INT (data);
  last_done[i] = done, last_total[i] = total;
}

void
test_close_while_recording (void)
{
  /* a second window closed while it records: its workers are cancelled
   * as it closes (not when its last reference goes, which they hold),
   * nothing touches the window afterwards, and the window, its views and
   * its runs are released on the main thread, where the runs reported
   * their progress */
  MemscopeWindow *other = memscope_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (other));
  memscope_window_open_demo (other);   /* the bundled demo: the text models on thousands of segments */
  g_assert_true (memscope_window_is_busy (other));
  g_assert_cmpuint (memscope_window_get_n_runs (other), ==, 2);
  g_assert_nonnull (strstr (memscope_run_get_name (memscope_window_get_run (other, 0)), "text-memformer"));
  g_assert_nonnull (strstr (memscope_run_get_name (memscope_window_get_run (other, 1)), "text-rmt"));
  for (guint i = 0; i < 2; i++)
    {
      g_signal_connect (memscope_window_get_run (other, i), "progress", G_CALLBACK (on_progress_note_thread), NULL);
      g_signal_connect (memscope_window_get_run (other, i), "progress", G_CALLBACK (on_progress_keep),
                        GINT_TO_POINTER (i));
      last_done[i] = 0, last_total[i] = -1;
      watch_finalize (memscope_window_get_run (other, i));
    }
  for (int k = 0; k < MS_VIEW_N_KINDS; k++)
    watch_finalize (memscope_window_get_view (other, k));
  watch_finalize (other);
  gtk_window_destroy (GTK_WINDOW (other));
  wait_until (closed_window_finalized, "the closed window to be released by its recordings and views");
  g_assert_cmpint (g_atomic_int_get (&off_main_thread), ==, 0);
  /* … stopped when it closed, long before the end of the demo's input */
  for (int i = 0; i < 2; i++)
    {
      g_test_message ("run %d: %d of %d segments recorded before the close stopped it", i, last_done[i], last_total[i]);
      g_assert_true (last_total[i] < 0 || last_done[i] < last_total[i] / 2);
    }
  /* the first window is untouched */
  activate ("first", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 0);
}

