/* workbench-files.c — files in and out of the workbench: exports through
 * the dialog, bad models, inputs and recordings reported in the banner,
 * hostile and read-only recordings, cancelling a recording, Open Recent. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <unistd.h>

#include "ms-export.h"
#include "workbench-test.h"

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

gboolean
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

/* Exports the visible view with @title (NULL: the view's own) at
 * @width_in × @height_in, 100 dpi, as PNG: TRUE when no ink touches the
 * page's left, right or top edge above the plots; *@plot_top: the first
 * row with heatmap colours. */
static gboolean
title_fits_at (const char *title, double width_in, double height_in, int *plot_top)
{
  g_autofree char *png = g_build_filename (tmp_dir, "title.png", NULL);
  MemscopeFigureView *view = memscope_window_get_visible_view (win);
  memscope_figure_view_export_async (view, png, width_in, height_in, 100, MS_COLORMAP_VIRIDIS, title, NULL,
                                     on_exported, NULL);
  wait_until (export_done, "the export");
  g_autoptr (GError) error = NULL;
  g_assert_true (memscope_figure_view_export_finish (view, exported, &error));
  g_clear_object (&exported);
  g_autoptr (GdkTexture) texture = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guint32 *px = g_new (guint32, (gsize) w * h);
  gdk_texture_download (texture, (guchar *) px, w * 4);
  *plot_top = h;
  for (int y = 0; y < h && *plot_top == h; y++)
    for (int x = 0; x < w; x++)
      if (coloured (px[(gsize) y * w + x]))
        {
          *plot_top = y;
          break;
        }
  for (int y = 0; y < *plot_top; y++)
    for (int x = 0; x < w; x++)
      if ((x < 3 || x >= w - 3 || y < 2) && (px[(gsize) y * w + x] & 0xff) < 200)
        return FALSE;
  return TRUE;
}

/* … at the single-column preset (3.5 × 2.17 in). */
static gboolean
title_fits (const char *title, int *plot_top)
{
  return title_fits_at (title, 3.5, 3.5 * 0.62, plot_top);
}

void
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
  g_clear_error (&error);

  /* a title too long for a single column wraps: room is kept for it above
   * the plots, and no text reaches the page's edges */
  int plain_top = 0, long_top = 0;
  g_assert_true (title_fits ("Retention", &plain_top));
  g_assert_true (title_fits ("Retention of every memory slot of the trained copy models, run A against run B, "
                             "over every segment of the copy demo (rmt)", &long_top));
  g_assert_cmpint (long_top, >, plain_top + 5);

  /* Export All: every view of the compared runs, each to NAME-VIEW.pdf */
  g_assert_true (memscope_window_get_compare (win));
  g_autofree char *all = g_build_filename (tmp_dir, "all.pdf", NULL);
  memscope_window_export_all_async (win, all, 3.5, 2.2, 150, NULL, on_exported, NULL);
  wait_until (export_done, "every view to be exported");
  g_assert_true (memscope_window_export_all_finish (win, exported, &error));
  g_assert_no_error (error);
  g_clear_object (&exported);
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    {
      g_autofree char *name = g_strdup_printf ("all-%s.pdf", ms_view_info (k)->name);
      g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
      g_autofree char *named = ms_figure_path_for_view (all, ms_view_info (k)->name);
      g_assert_cmpstr (named, ==, path);
      check_file_starts (path, "%PDF", 4);
    }
  change ("compare", g_variant_new_boolean (FALSE));
}

/* Every view of the compared runs with its own title (the view's name
 * and both runs' names), at each of the export dialog's presets: no title
 * is clipped at the page's edges. */
void
test_export_titles (void)
{
  static const char *const presets[] = { "single", "double", "neurips" };
  change ("compare", g_variant_new_boolean (TRUE));
  int checked = 0;
  for (guint k = 0; k < MS_VIEW_N_KINDS; k++)
    {
      const MsViewInfo *info = ms_view_info (k);
      activate ("view", g_variant_new_string (info->name));
      MemscopeFigureView *view = memscope_window_get_visible_view (win);
      if (memscope_figure_view_get_kind (view) != info->kind || !memscope_figure_view_update (view, NULL))
        continue;   /* not offered for these runs, or not computed yet (the causal views) */
      for (guint p = 0; p < G_N_ELEMENTS (presets); p++)
        {
          MsFigureSize size;
          g_assert_true (ms_figure_size_parse (presets[p], &size, NULL));
          int top = 0;
          if (!title_fits_at (NULL, size.width_in, size.height_in, &top))
            g_error ("the %s view's title is clipped at the %s preset", info->name, presets[p]);
        }
      checked++;
    }
  g_test_message ("%d views' titles checked at %zu presets", checked, G_N_ELEMENTS (presets));
  g_assert_cmpint (checked, >=, 7);
  activate ("view", g_variant_new_string ("retention"));
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

/* Errors leave the window as it was (check_error_leaves_window): a bad
 * model file, a missing input, a recording from a newer Memscope; the
 * window then still steps from where it was. */
void
test_errors_in_window (void)
{
  activate ("segment", g_variant_new_int32 (3));
  /* a bad model file */
  g_autofree char *bad = g_build_filename (tmp_dir, "broken.safetensors", NULL);
  g_assert_true (g_file_set_contents (bad, "\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", 24, NULL));
  check_error_leaves_window (bad, "error-broken-model");

  /* a missing input */
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such-input.txt", NULL);
  check_error_leaves_window (missing, "error-missing-input");

  /* a recording from a newer Memscope */
  g_autofree char *newer = g_build_filename (tmp_dir, "newer.sqlite", NULL);
  sqlite3 *db;
  g_assert_cmpint (sqlite3_open (newer, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 999;", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  check_error_leaves_window (newer, "error-newer-recording");
  /* the window still works, where it was */
  g_assert_cmpint (memscope_window_get_segment (win), ==, 3);
  activate ("next", NULL);
  g_assert_cmpint (memscope_window_get_segment (win), ==, 4);
}

/* Recordings from elsewhere may be hostile: each of these is refused with
 * a message in the banner that names the file, adds no run, and leaves the
 * window working.  The copies are made, then altered, from the recording
 * of run A, so they follow the current schema. */
void
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
      /* a refused recording is not offered again under Open Recent */
      g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
      g_assert_false (gtk_recent_manager_has_item (gtk_recent_manager_get_default (), uri));
      /* the window still works */
      int t = memscope_window_get_segment (win);
      activate (t > 0 ? "previous" : "next", NULL);
      g_assert_cmpint (memscope_window_get_segment (win), ==, t > 0 ? t - 1 : t + 1);
    }
  activate ("dismiss-error", NULL);
}

void
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

void
remove_shared_recordings (void)
{
  for (int i = 0; i < 2; i++)
    if (shared_folders[i])
      remove_shared_copies (shared_folders[i], shared_paths[i]);
}

/* A recording shared as a file opens from a folder the user cannot write
 * and from read-only media, left in rollback-journal or in WAL mode.  The
 * copies stay until the end (the window keeps their runs), and run A is a
 * writable copy again afterwards. */
void
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
void
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
