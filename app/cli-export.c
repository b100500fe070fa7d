/* cli-export.c — `memscope-cli export` (one run's view as a figure or CSV)
 * and `memscope-cli compare` (two runs side by side on one scale, or with
 * their difference).  The figure is drawn by ui/ms-view-figure.c, the same
 * code the workbench draws with; the CSV holds the numbers of the same view
 * data (ms_view_data_to_csv).  A figure's view is computed at the figure's
 * pixel width (core's bins, named in its value label); a CSV at one column
 * per segment unless --columns says otherwise. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms-causal.h"
#include "ms-error.h"
#include "ms-export.h"
#include "ms-figure-error.h"
#include "ms-view-figure.h"

typedef struct {
  char *view, *head, *out, *preset, *colormap, *title, *reduce, *model, *replace;
  /* numeric options as given (cli_option_*) */
  char *segment_text, *layer_text, *slot_text, *first_text, *last_text, *columns_text, *horizon_text;
  char *retain_at_text, *overwrite_at_text, *width_in_text, *height_in_text, *dpi_text;
  int segment, layer, slot, first, last, columns, horizon;
  gboolean csv;
  double width_in, height_in, dpi, retain_at, overwrite_at;
  gboolean json;
} FigureOptions;

static void
figure_options_clear (FigureOptions *o)
{
  g_free (o->view), g_free (o->head), g_free (o->out), g_free (o->preset), g_free (o->colormap), g_free (o->title);
  g_free (o->reduce), g_free (o->model), g_free (o->replace);
  g_free (o->segment_text), g_free (o->layer_text), g_free (o->slot_text), g_free (o->first_text);
  g_free (o->last_text), g_free (o->columns_text), g_free (o->horizon_text), g_free (o->retain_at_text);
  g_free (o->overwrite_at_text);
  g_free (o->width_in_text), g_free (o->height_in_text), g_free (o->dpi_text);
}

/* The options export and compare share; @extra are the command's own. */
static GOptionEntry *
figure_entries (FigureOptions *o, const GOptionEntry *extra, guint n_extra)
{
  static char *view_help;
  if (!view_help)
    view_help = g_strconcat ("One of: ", ms_view_kind_list (), " (export: or all, each to OUT with -VIEW before its extension)", NULL);
  const GOptionEntry shared[] = {
    { "view", 0, 0, G_OPTION_ARG_STRING, &o->view, view_help, "VIEW" },
    { "segment", 0, 0, G_OPTION_ARG_STRING, &o->segment_text, "Segment for read/write attention (default: last)", "T" },
    { "layer", 0, 0, G_OPTION_ARG_STRING, &o->layer_text, "Layer for read/write attention (default: last)", "L" },
    { "head", 0, 0, G_OPTION_ARG_STRING, &o->head, "Attention head, or mean (default)", "H|mean" },
    { "slot", 0, 0, G_OPTION_ARG_STRING, &o->slot_text, "One slot's provenance (default: mean over slots)", "I" },
    { "horizon", 0, 0, G_OPTION_ARG_STRING, &o->horizon_text, "Provenance from each of the last H segments, the "
      "initial memory and everything older as one row (default: every source segment)", "H" },
    { "replace", 0, 0, G_OPTION_ARG_STRING, &o->replace,
      "causal: the replacement shown, initial (default), zeros, permute or skip", "WHAT" },
    { "retain-at", 0, 0, G_OPTION_ARG_STRING, &o->retain_at_text, "Slot types: retain when r ≥ this (0.9)", "R" },
    { "overwrite-at", 0, 0, G_OPTION_ARG_STRING, &o->overwrite_at_text, "Slot types: overwrite when r ≤ this (0.1)", "R" },
    { "first", 0, 0, G_OPTION_ARG_STRING, &o->first_text, "First segment of the window shown (default 0)", "T" },
    { "last", 0, 0, G_OPTION_ARG_STRING, &o->last_text, "Segment after the window shown (default: the end)", "T" },
    { "columns", 0, 0, G_OPTION_ARG_STRING, &o->columns_text,
      "At most N columns along segments, whole segments aggregated per column (default: the figure's pixel "
      "width; CSV: one per segment)", "N" },
    { "reduce", 0, 0, G_OPTION_ARG_STRING, &o->reduce, "How segments sharing a column combine: mean (default) or max",
      "mean|max" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &o->out, "File to write: a figure (.png, .svg, .pdf) or its numbers (.csv)",
      "FILE" },
    { "preset", 0, 0, G_OPTION_ARG_STRING, &o->preset, "single (3.5 in), double (7 in), neurips (5.5 in) or WxH", "NAME" },
    { "width-in", 0, 0, G_OPTION_ARG_STRING, &o->width_in_text, "Custom width in inches", "W" },
    { "height-in", 0, 0, G_OPTION_ARG_STRING, &o->height_in_text, "Custom height in inches", "H" },
    { "dpi", 0, 0, G_OPTION_ARG_STRING, &o->dpi_text, "PNG resolution (default 300)", "N" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &o->colormap, "viridis (default), magma, cividis or diverging", "NAME" },
    { "title", 0, 0, G_OPTION_ARG_FILENAME, &o->title, "Title instead of the view's own", "TEXT" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "Print what was written as one JSON object", NULL },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &o->model,
      "The model a compact run was recorded with, where it is now (read/write attention is replayed)", "FILE" },
  };
  GOptionEntry *all = g_new0 (GOptionEntry, G_N_ELEMENTS (shared) + n_extra + 1);
  memcpy (all, extra, n_extra * sizeof (GOptionEntry));
  memcpy (all + n_extra, shared, sizeof shared);
  return all;
}

/* What --help says after the options: every view of the table, its name
 * and what one value is.  Owned. */
static char *
views_help (void)
{
  GString *s = g_string_new ("Views (--view):\n");
  for (guint i = 0; i < MS_VIEW_N_KINDS; i++)
    {
      const MsViewInfo *v = ms_view_info ((MsViewKind) i);
      g_string_append_printf (s, "  %-15s %s\n", v->name, v->value);
    }
  return g_string_free (s, FALSE);
}

/* Validates the shared options; on a usage problem prints it and returns
 * FALSE.  Fills the view kind, parameters, colormap and size. */
static gboolean
figure_resolve (const CliCommand *cmd, FigureOptions *o, MsViewKind *kind, MsViewParams *params, MsColormap *cmap,
                MsFigureSize *size)
{
  g_autoptr (GError) error = NULL;
  if (!cli_option_int (cmd, "--segment", o->segment_text, 0, G_MAXINT, &o->segment)
      || !cli_option_int (cmd, "--layer", o->layer_text, 0, G_MAXINT, &o->layer)
      || !cli_option_int (cmd, "--slot", o->slot_text, 0, G_MAXINT, &o->slot)
      || !cli_option_int (cmd, "--first", o->first_text, 0, G_MAXINT, &o->first)
      || !cli_option_int (cmd, "--last", o->last_text, 1, G_MAXINT, &o->last)
      || !cli_option_int (cmd, "--columns", o->columns_text, 1, G_MAXINT, &o->columns)
      || !cli_option_int (cmd, "--horizon", o->horizon_text, 1, MS_VIEW_MAX_HORIZON, &o->horizon)
      || !cli_option_double (cmd, "--retain-at", o->retain_at_text, 0, FALSE, 1, &o->retain_at)
      || !cli_option_double (cmd, "--overwrite-at", o->overwrite_at_text, 0, FALSE, 1, &o->overwrite_at)
      || !cli_option_double (cmd, "--width-in", o->width_in_text, 0, TRUE, 100, &o->width_in)
      || !cli_option_double (cmd, "--height-in", o->height_in_text, 0, TRUE, 100, &o->height_in)
      || !cli_option_double (cmd, "--dpi", o->dpi_text, 0, TRUE, 10000, &o->dpi)
      || !cli_option_text (cmd, "--title", &o->title))
    return FALSE;
  if (!o->view || !ms_view_kind_parse (o->view, kind))
    {
      g_autofree char *msg = g_strdup_printf ("--view must be one of %s", ms_view_kind_list ());
      return cli_usage_error (cmd, msg), FALSE;
    }
  if (!o->out)
    return cli_usage_error (cmd, "--out FILE is required"), FALSE;
  o->csv = g_str_has_suffix (o->out, ".csv") || g_str_has_suffix (o->out, ".CSV");
  MsFigureFormat format;
  if (!o->csv && !ms_figure_format_from_path (o->out, &format, &error))
    return cli_usage_error (cmd, error->message), FALSE;
  if (!ms_colormap_from_name (o->colormap ? o->colormap : "viridis", cmap, &error))
    return cli_usage_error (cmd, error->message), FALSE;
  if (o->width_in > 0 || o->height_in > 0)
    {
      if (o->preset || !(o->width_in > 0 && o->height_in > 0))
        return cli_usage_error (cmd, "give --width-in and --height-in together, or --preset"), FALSE;
      size->width_in = o->width_in;
      size->height_in = o->height_in;
    }
  else if (!ms_figure_size_parse (o->preset ? o->preset : "single", size, &error))
    return cli_usage_error (cmd, error->message), FALSE;
  if (o->dpi == 0)
    o->dpi = MS_FIGURE_DPI;

  *params = (MsViewParams) MS_VIEW_PARAMS_DEFAULT;
  params->segment = o->segment;
  params->layer = o->layer;
  params->slot = o->slot;
  params->horizon = o->horizon;
  params->retain_at = o->retain_at;
  params->overwrite_at = o->overwrite_at;
  if (o->last != 0 && o->last <= o->first)
    return cli_usage_error (cmd, "--first and --last must give a window 0 ≤ FIRST < LAST"), FALSE;
  params->first = o->first;
  params->last = o->last;
  /* a figure: one column per pixel of its width at most */
  params->max_cols = o->columns > 0 ? o->columns : o->csv ? 0 : (int) ceil (size->width_in * o->dpi);
  params->max_rows = o->columns > 0 || o->csv ? params->max_cols : (int) ceil (size->height_in * o->dpi);
  if (!o->reduce || g_strcmp0 (o->reduce, "mean") == 0)
    params->reducer = o->reduce ? MS_VIEW_REDUCE_MEAN : MS_VIEW_REDUCE_DEFAULT;
  else if (g_strcmp0 (o->reduce, "max") == 0)
    params->reducer = MS_VIEW_REDUCE_MAX;
  else
    return cli_usage_error (cmd, "--reduce must be mean or max"), FALSE;
  if (o->replace)
    {
      MsCausalReplacement r;
      if (!ms_causal_replacement_from_name (o->replace, &r) || r == MS_CAUSAL_KNOCKOUT)
        return cli_usage_error (cmd, "--replace must be initial, zeros, permute or skip (knockout is the "
                                     "causal-slots view)"), FALSE;
      params->replacement = (int) r;
    }
  if (o->head && g_strcmp0 (o->head, "mean") != 0)
    {
      gint64 h;
      if (!g_ascii_string_to_signed (o->head, 10, 0, G_MAXINT, &h, NULL))
        {
          g_autofree char *message = g_strdup_printf ("--head must be a head number ≥ 0 or mean (got '%s')",
                                                      o->head);
          return cli_usage_error (cmd, message), FALSE;
        }
      params->head = (int) h;
    }
  return TRUE;
}

/* Starts the --json object of what was written: out, view and the runs
 * (@n_runs ids). */
static JsonBuilder *
written_json (const FigureOptions *o, const gint64 *runs, int n_runs)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  cli_json_add_path (b, "out", o->out);
  cli_json_add_string (b, "view", o->view);
  json_builder_set_member_name (b, "runs");
  json_builder_begin_array (b);
  for (int i = 0; i < n_runs; i++)
    json_builder_add_int_value (b, runs[i]);
  json_builder_end_array (b);
  return b;
}

/* Writes the numbers of @a (and @b) as CSV to o->out. */
static int
write_csv (FigureOptions *o, const MsViewData *a, const char *name_a, const MsViewData *b, const char *name_b,
           gboolean difference, const gint64 *runs, int n_runs)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *csv = ms_view_data_to_csv (a, name_a, b, name_b, difference, &error);
  if (!csv)
    return cli_fail (error);
  if (!g_file_set_contents (o->out, csv, -1, &error))
    {
      g_prefix_error (&error, "cannot write the CSV: ");
      return cli_fail (error);
    }
  if (o->json)
    {
      g_autoptr (JsonBuilder) jb = written_json (o, runs, n_runs);
      cli_json_add_int (jb, "rows", a->rows);
      cli_json_add_int (jb, "cols", a->cols);
      json_builder_end_object (jb);
      cli_print_json (jb);
    }
  return CLI_EXIT_OK;
}

static int
write_figure (FigureOptions *o, MsViewFigure *fig, const MsFigureSize *size, const gint64 *runs, int n_runs)
{
  g_autoptr (GError) error = NULL;
  if (!ms_figure_export (o->out, size->width_in, size->height_in, o->dpi, ms_view_figure_draw, fig, &error))
    return cli_fail (error);
  if (o->json)
    {
      g_autoptr (JsonBuilder) jb = written_json (o, runs, n_runs);
      cli_json_add_double (jb, "width_in", size->width_in);
      cli_json_add_double (jb, "height_in", size->height_in);
      cli_json_add_double (jb, "dpi", o->dpi);
      json_builder_end_object (jb);
      cli_print_json (jb);
    }
  return CLI_EXIT_OK;
}

static void
figure_defaults (FigureOptions *o)
{
  o->segment = o->layer = o->slot = -1;
  o->retain_at = 0.9;
  o->overwrite_at = 0.1;
}

int
cli_export (const CliCommand *cmd, int argc, char **argv)
{
  FigureOptions o = { 0 };
  figure_defaults (&o);
  gint64 run = 0;
  g_autofree char *run_text = NULL;
  const GOptionEntry own[] = {
    { "run", 0, 0, G_OPTION_ARG_STRING, &run_text, "Run to draw (see memscope-cli runs RECORDING)", "ID" },
  };
  g_autofree GOptionEntry *entries = figure_entries (&o, own, G_N_ELEMENTS (own));
  g_autofree char *help = views_help ();
  MsViewKind kind;
  MsViewParams params;
  MsColormap cmap;
  MsFigureSize size;
  int status = CLI_EXIT_USAGE;
  gboolean parsed = cli_parse_described (cmd, entries, 1, help, &argc, &argv);
  /* --view all: every view, each to --out with "-VIEW" before the extension */
  gboolean all = parsed && g_strcmp0 (o.view, "all") == 0;
  if (all)
    (g_free (o.view), o.view = g_strdup (ms_view_info (0)->name));
  if (parsed && cli_option_int64 (cmd, "--run", run_text, 1, G_MAXINT64, &run)
      && figure_resolve (cmd, &o, &kind, &params, &cmap, &size))
    {
      if (run <= 0)
        status = cli_usage_error (cmd, "--run ID is required");
      else
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (MsRecording) rec = ms_recording_open (argv[1], &error);
          if (rec)
            ms_recording_set_model_path (rec, o.model);
          g_autofree char *out = g_strdup (o.out);
          status = rec ? CLI_EXIT_OK : cli_fail_in (argv[1], error);
          for (int k = all ? 0 : (int) kind; rec && status == CLI_EXIT_OK && k < (all ? MS_VIEW_N_KINDS : (int) kind + 1);
               k++)
            {
              if (all)
                {
                  g_free (o.out), o.out = ms_figure_path_for_view (out, ms_view_info (k)->name);
                  g_free (o.view), o.view = g_strdup (ms_view_info (k)->name);
                }
              /* causal views: only when computed (--view all leaves them out otherwise) */
              if (!ms_view_has_data (rec, run, ms_view_info (k)->kind, &error))
                {
                  if (all && g_error_matches (error, MS_ERROR, MS_ERROR_INPUT))
                    {
                      g_clear_error (&error);
                      continue;
                    }
                  status = cli_fail_in (argv[1], error);
                  break;
                }
              g_autoptr (MsViewData) view = ms_view_load (rec, run, ms_view_info (k)->kind, &params, &error);
              if (view && o.csv)
                status = write_csv (&o, view, NULL, NULL, NULL, FALSE, &run, 1);
              else if (!view)
                {
                  if (all)
                    g_prefix_error (&error, "view %s: ", ms_view_info (k)->name);
                  status = cli_fail_in (argv[1], error);
                }
              else
                {
                  g_autoptr (MsViewFigure) fig = ms_view_figure_new (view, cmap, o.title, &error);
                  status = fig ? write_figure (&o, fig, &size, &run, 1) : cli_fail_in (argv[1], error);
                }
            }
        }
    }
  figure_options_clear (&o);
  return status;
}

/* A compared run's panel and CSV name: the run's name and id, as the
 * workbench names it ("copy-rmt (run 2)"); "run 2" when it has no name. */
static char *
panel_name (const MsRunInfo *info)
{
  if (info->name && *info->name)
    return g_strdup_printf ("%s (run %" G_GINT64_FORMAT ")", info->name, info->id);
  return g_strdup_printf ("run %" G_GINT64_FORMAT, info->id);
}

/* --runs A,B: exactly two positive run ids. */
static gboolean
parse_run_pair (const char *text, gint64 pair[2])
{
  if (!text)
    return FALSE;
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  if (g_strv_length (parts) != 2)
    return FALSE;
  for (int i = 0; i < 2; i++)
    if (!g_ascii_string_to_signed (parts[i], 10, 1, G_MAXINT64, &pair[i], NULL))
      return FALSE;
  return TRUE;
}

static gboolean
same_bytes (const MsViewAxis *a, const MsViewAxis *b)
{
  if (!a->bytes || !b->bytes)
    return !a->bytes && !b->bytes;
  return a->n == b->n && memcmp (a->bytes, b->bytes, sizeof (MsByteRange) * a->n) == 0;
}

/* Run @ib's view to compare with run A's @va.  For read and write
 * attention of runs that cut the input into other tokens (another
 * tokenizer or segment length), B's segment that holds A's first token,
 * put on A's tokens (ms_view_data_align_tokens): A's token rows or columns
 * then show B's attention over the same bytes. */
static MsViewData *
load_compared (MsRecording *rec, const MsRunInfo *ib, const MsViewData *va, MsViewKind kind, MsViewParams params,
               GError **error)
{
  g_autoptr (MsViewData) vb = ms_view_load (rec, ib->id, kind, &params, error);
  if (!vb || (kind != MS_VIEW_READ && kind != MS_VIEW_WRITE) || (same_bytes (&va->x, &vb->x)
                                                                 && same_bytes (&va->y, &vb->y)))
    return g_steal_pointer (&vb);
  const MsViewAxis *tokens = va->y.bytes ? &va->y : &va->x;
  guint64 first = G_MAXUINT64;
  for (int i = 0; tokens->bytes && i < tokens->n; i++)
    if (tokens->bytes[i].end > tokens->bytes[i].start)
      first = MIN (first, tokens->bytes[i].start);
  int segment = first == G_MAXUINT64 ? vb->segment : ms_recording_find_segment_at_byte (rec, ib, first, error);
  if (segment == -2)
    return NULL;
  if (segment >= 0 && segment != vb->segment)
    {
      params.segment = segment;
      g_clear_pointer (&vb, ms_view_data_free);
      vb = ms_view_load (rec, ib->id, kind, &params, error);
      if (!vb)
        return NULL;
    }
  return ms_view_data_align_tokens (va, vb, error);
}

int
cli_compare (const CliCommand *cmd, int argc, char **argv)
{
  FigureOptions o = { 0 };
  figure_defaults (&o);
  g_autofree char *runs = NULL;
  gboolean diff = FALSE;
  const GOptionEntry own[] = {
    { "runs", 0, 0, G_OPTION_ARG_STRING, &runs, "The two runs to compare, A,B", "A,B" },
    { "diff", 0, 0, G_OPTION_ARG_NONE, &diff, "Add the difference A − B", NULL },
  };
  g_autofree GOptionEntry *entries = figure_entries (&o, own, G_N_ELEMENTS (own));
  g_autofree char *help = views_help ();
  MsViewKind kind;
  MsViewParams params;
  MsColormap cmap;
  MsFigureSize size;
  int status = CLI_EXIT_USAGE;
  gint64 pair[2] = { 0, 0 };
  if (cli_parse_described (cmd, entries, 1, help, &argc, &argv) && figure_resolve (cmd, &o, &kind, &params, &cmap, &size))
    {
      if (!parse_run_pair (runs, pair))
        {
          g_autofree char *message = g_strdup_printf ("--runs A,B must name exactly two runs, e.g. --runs 1,2 "
                                                      "(got '%s')", runs ? runs : "nothing");
          status = cli_usage_error (cmd, message);
        }
      else
        {
          gint64 a = pair[0], b = pair[1];
          g_autoptr (GError) error = NULL;
          g_autoptr (MsRecording) rec = ms_recording_open (argv[1], &error);
          if (rec)
            ms_recording_set_model_path (rec, o.model);
          g_autoptr (MsRunInfo) ia = rec ? ms_recording_get_run (rec, a, &error) : NULL;
          g_autoptr (MsRunInfo) ib = ia ? ms_recording_get_run (rec, b, &error) : NULL;
          /* both runs in the same bins */
          if (ib)
            params.span = MAX (ia->segments_done, ib->segments_done) - params.first;
          g_autoptr (MsViewData) va = ib ? ms_view_load (rec, a, kind, &params, &error) : NULL;
          g_autoptr (MsViewData) vb = va ? load_compared (rec, ib, va, kind, params, &error) : NULL;
          g_autofree char *name_a = ia ? panel_name (ia) : NULL;
          g_autofree char *name_b = ib ? panel_name (ib) : NULL;
          if (vb && o.csv)
            status = write_csv (&o, va, name_a, vb, name_b, diff, pair, 2);
          else if (!vb)
            status = cli_fail_in (argv[1], error);
          else
            {
              g_autoptr (MsViewFigure) fig = vb ? ms_view_figure_new_compare (va, name_a, vb, name_b, diff, cmap,
                                                                              o.title, &error) : NULL;
              status = fig ? write_figure (&o, fig, &size, pair, 2) : cli_fail_in (argv[1], error);
            }
        }
    }
  figure_options_clear (&o);
  return status;
}
