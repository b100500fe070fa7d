/* test-view.c — every view of a real recording (the fixture models recorded
 * by ms_record) has the shape and the invariants a reader of the figure
 * relies on: retention in [0, 1] and equal to the writer's self weight
 * (Memformer), slot-type fractions summing to 1, provenance columns summing
 * to 1 with nothing from the future, a unit-diagonal symmetric similarity
 * matrix, attention rows that are distributions, NLL equal to a plain
 * session run; a token's reads described as its row holds them; and
 * out-of-range requests are refused with a message. */
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms-error.h"
#include "ms-recorder.h"
#include "ms-text.h"
#include "ms-view.h"
#include "test-util.h"

static const char *fixture_dir;

/* Parameters for one segment/layer/head/slot and slot-type thresholds; the
 * rest (window, output size, reducer) at their defaults. */
#define P(segment_, layer_, head_, slot_, retain_, overwrite_) \
  ((MsViewParams) { .segment = segment_, .layer = layer_, .head = head_, .slot = slot_, .retain_at = retain_, \
                    .overwrite_at = overwrite_ })

typedef struct {
  char *dir, *db, *input;
  MsModel *model;
  MsRecording *rec;
} Recorded;

#define N_TEXT 300   /* 38 segments of 8, the last short */

static void
record (Recorded *r, const char *name, MsAttnStore attn)
{
  r->dir = g_dir_make_tmp ("memscope-view-XXXXXX", NULL);
  r->db = g_build_filename (r->dir, "r.sqlite", NULL);
  r->input = g_build_filename (r->dir, "in.txt", NULL);
  char text[N_TEXT];
  for (int i = 0; i < N_TEXT; i++)
    text[i] = (char) ((i * 131 + i / 7) % 256);
  g_assert_true (g_file_set_contents (r->input, text, N_TEXT, NULL));
  g_autofree char *path = g_strdup_printf ("%s/%s.safetensors", fixture_dir, name);
  GError *error = NULL;
  r->model = ms_model_load (path, &error);
  g_assert_no_error (error);
  MsRecordOptions opts = { .attn = attn };
  g_assert_true (ms_record (r->db, r->model, r->input, &opts, 0, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  r->rec = ms_recording_open (r->db, &error);
  g_assert_no_error (error);
}

static void
recorded_clear (Recorded *r)
{
  ms_recording_close (r->rec);
  ms_model_unref (r->model);
  test_dir_remove (r->dir);
  g_free (r->dir), g_free (r->db), g_free (r->input);
}

static MsViewData *
load (Recorded *r, MsViewKind kind, MsViewParams p)
{
  GError *error = NULL;
  MsViewData *v = ms_view_load (r->rec, 1, kind, &p, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v->title);
  g_assert_nonnull (v->value_label);
  return v;
}

static void
check_views (const char *name)
{
  Recorded r = { 0 };
  record (&r, name, MS_ATTN_STORE_F32);
  const MsConfig *c = ms_model_get_config (r.model);
  int K = c->n_slots, S = (N_TEXT + c->segment_len - 1) / c->segment_len;
  /* What this test knows of the fixtures: Memformer's reader is a softmax
   * over the slots alone; RMT's read rows are a slice of a softmax over
   * every position. */
  gboolean memformer = g_str_equal (ms_config_get_arch (c), "memformer");

  g_autoptr (MsViewData) ret = load (&r, MS_VIEW_RETENTION, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
  g_assert_cmpint (ret->rows, ==, K);
  g_assert_cmpint (ret->cols, ==, S);
  for (int i = 0; i < K * S; i++)
    g_assert_true (ret->values[i] >= 0 && ret->values[i] <= 1);

  if (memformer)
    {
      /* retention is the head-mean of the writer's self column */
      g_autoptr (MsViewData) w = load (&r, MS_VIEW_WRITE, P (5, -1, -1, -1, 0.9, 0.1));
      g_assert_cmpint (w->rows, ==, K);
      for (int i = 0; i < K; i++)
        g_assert_cmpfloat_with_epsilon (w->values[i * w->cols], ret->values[i * S + 5], 1e-6);
    }
  else
    {
      /* retention is the head-mean write row's mass on the read and write
       * blocks [read | tokens | write], stored as 12-bit fixed point over
       * [0, 1]: within half a step (ms-recording-names.h) */
      g_autoptr (MsViewData) w = load (&r, MS_VIEW_WRITE, P (5, -1, -1, -1, 0.9, 0.1));
      g_assert_cmpint (w->rows, ==, K);
      int n = w->cols - 2 * K;
      for (int i = 0; i < K; i++)
        {
          double old = 0;
          for (int j = 0; j < K; j++)
            old += w->values[i * w->cols + j] + w->values[i * w->cols + K + n + j];
          g_assert_cmpfloat_with_epsilon (ret->values[i * S + 5], old, 0.5 / 4094 + 1e-6);
        }
    }

  g_autoptr (MsViewData) types = load (&r, MS_VIEW_TYPES, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
  g_assert_cmpint (types->rows, ==, 3);
  for (int t = 0; t < S; t++)
    g_assert_cmpfloat_with_epsilon (types->values[t] + types->values[S + t] + types->values[2 * S + t], 1.0, 1e-6);
  g_autoptr (MsViewData) all_retain = load (&r, MS_VIEW_TYPES, P (-1, -1, -1, -1, 0.0, -1.0));
  for (int t = 0; t < S; t++)
    g_assert_cmpfloat (all_retain->values[t], ==, 1.0f);

  for (int slot = -1; slot < 2; slot++)
    {
      g_autoptr (MsViewData) prov = load (&r, MS_VIEW_PROVENANCE, P (-1, -1, -1, slot, 0.9, 0.1));
      g_assert_cmpint (prov->rows, ==, S + 1);
      g_assert_cmpint (prov->cols, ==, S);
      g_assert_cmpfloat (prov->y.start, ==, -1);
      g_assert_cmpint (prov->y.kind, ==, MS_VIEW_AXIS_SOURCE);
      for (int t = 0; t < S; t++)
        {
          double sum = 0;
          for (int s = 0; s <= S; s++)
            {
              float x = prov->values[s * S + t];
              if (s > t + 1)
                g_assert_true (isnan (x));   /* nothing from the future */
              else
                sum += x;
            }
          g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
        }
    }

  /* binned (the RMT's transfer is a full matrix): sources summed into rows
   * of 4, segments averaged into columns of 8, as the full matrix binned */
  g_autoptr (MsViewData) prov_full = load (&r, MS_VIEW_PROVENANCE, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
  MsViewParams binned = MS_VIEW_PARAMS_DEFAULT;
  binned.max_cols = (S + 7) / 8, binned.max_rows = (S + 1 + 3) / 4;
  g_autoptr (MsViewData) prov_bins = load (&r, MS_VIEW_PROVENANCE, binned);
  g_assert_cmpint (prov_bins->cols, ==, (S + 7) / 8);
  g_assert_cmpint (prov_bins->rows, ==, (S + 4) / 4);
  for (int row = 0; row < prov_bins->rows; row++)
    for (int col = 0; col < prov_bins->cols; col++)
      {
        double sum = 0;
        int n = 0;
        for (int t = col * 8; t < MIN (col * 8 + 8, S); t++, n++)
          for (int s = row * 4; s < MIN (row * 4 + 4, S + 1); s++)
            {
              float x = prov_full->values[s * S + t];
              sum += isnan (x) ? 0 : x;
            }
        float got = prov_bins->values[row * prov_bins->cols + col];
        if (row * 4 - 1 > MIN (col * 8 + 8, S) - 1)
          g_assert_true (isnan (got));   /* every source after every segment of the column */
        else
          g_assert_cmpfloat_with_epsilon (got, sum / n, 1e-5);
      }

  g_autoptr (MsViewData) sim = load (&r, MS_VIEW_SIMILARITY, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
  g_assert_cmpint (sim->rows, ==, S);
  for (int i = 0; i < S; i++)
    {
      g_assert_cmpfloat_with_epsilon (sim->values[i * S + i], 1.0, 1e-6);
      for (int j = 0; j < S; j++)
        g_assert_cmpfloat (sim->values[i * S + j], ==, sim->values[j * S + i]);
    }

  g_autoptr (MsViewData) usage = load (&r, MS_VIEW_READ_USAGE, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
  g_assert_cmpint (usage->rows, ==, K);
  /* a full segment spreads L tokens' attention over the slots; each slot's
   * share stored as f16, within 2^-11 of it (ms-recording-names.h) */
  double f16_sum = c->segment_len / 2048.0 + 1e-4;
  for (int t = 0; t < S - 1; t++)
    {
      double sum = 0;
      for (int i = 0; i < K; i++)
        sum += usage->values[i * S + t];
      if (memformer)
        g_assert_cmpfloat_with_epsilon (sum, c->segment_len, f16_sum);
      else
        g_assert_true (sum > 0 && sum <= c->segment_len + f16_sum);
    }

  MsViewKind attn_views[] = { MS_VIEW_READ, MS_VIEW_WRITE };
  for (int k = 0; k < 2; k++)
    for (int head = -1; head < c->n_heads; head++)
      {
        g_autoptr (MsViewData) a = load (&r, attn_views[k], P (S - 1, 0, head, -1, 0.9, 0.1));
        gboolean rows_are_distributions = memformer || attn_views[k] == MS_VIEW_WRITE;
        for (int i = 0; i < a->rows && rows_are_distributions; i++)
          {
            double sum = 0;
            for (int j = 0; j < a->cols; j++)
              sum += a->values[i * a->cols + j];
            g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
          }
        g_assert_cmpint (a->rows, ==, attn_views[k] == MS_VIEW_WRITE ? K : N_TEXT - (S - 1) * c->segment_len);
      }

  /* NLL per segment equals a plain session run over the same text */
  g_autoptr (MsViewData) nll = load (&r, MS_VIEW_NLL, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
  g_autoptr (MsSession) s = ms_session_new (r.model);
  size_t n;
  g_autofree int32_t *tokens = ms_text_load_tokens (r.input, &n, NULL);
  g_autofree float *per_token = g_new (float, n);
  g_assert_true (ms_session_run (s, tokens, n, 0, per_token, NULL, NULL, NULL, NULL));
  for (int t = 0; t < S; t++)
    {
      double sum = 0;
      int count = 0;
      for (size_t i = (size_t) t * c->segment_len; i < MIN (n, (size_t) (t + 1) * c->segment_len); i++)
        if (!isnan (per_token[i]))
          sum += per_token[i], count++;
      if (count == 0)
        g_assert_true (isnan (nll->values[t]));
      else
        g_assert_cmpfloat_with_epsilon (nll->values[t], sum / count, 1e-4);
    }

  /* out of range requests */
  GError *error = NULL;
  MsViewParams bad[] = { P (S, -1, -1, -1, 0.9, 0.1), P (0, 9, -1, -1, 0.9, 0.1), P (0, -1, 17, -1, 0.9, 0.1) };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_null (ms_view_load (r.rec, 1, MS_VIEW_WRITE, &bad[i], &error));
      g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
      g_assert_nonnull (strstr (error->message, "out of range"));
      g_clear_error (&error);
    }
  g_assert_null (ms_view_load (r.rec, 1, MS_VIEW_PROVENANCE, &P (-1, -1, -1, K, 0.9, 0.1), &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_clear_error (&error);
  g_assert_null (ms_view_load (r.rec, 2, MS_VIEW_RETENTION, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "no run 2"));
  g_clear_error (&error);
  recorded_clear (&r);
}

static void
test_memformer (void)
{
  check_views ("memformer");
}

static void
test_rmt (void)
{
  check_views ("rmt_blocks");
}

/* A compact run (no stored attention) draws its attention views by
 * replaying the segment: the same numbers as a run that stored f32. */
static void
test_compact (void)
{
  Recorded r = { 0 };
  record (&r, "rmt_causal", MS_ATTN_STORE_NONE);
  g_autoptr (MsViewData) ret = load (&r, MS_VIEW_RETENTION, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
  g_autoptr (MsViewData) prov = load (&r, MS_VIEW_PROVENANCE, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
  g_assert_true (ret->cols > 0 && prov->cols == ret->cols);
  GError *error = NULL;
  MsRecordOptions opts = { .attn = MS_ATTN_STORE_F32 };
  g_assert_true (ms_record (r.db, r.model, r.input, &opts, 0, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  for (int k = 0; k < 2; k++)
    {
      MsViewKind kind = k == 0 ? MS_VIEW_READ : MS_VIEW_WRITE;
      MsViewParams p = P (7, -1, -1, -1, 0.9, 0.1);
      g_autoptr (MsViewData) compact = ms_view_load (r.rec, 1, kind, &p, &error);
      g_assert_no_error (error);
      g_autoptr (MsViewData) full = ms_view_load (r.rec, 2, kind, &p, &error);
      g_assert_no_error (error);
      g_assert_cmpint (compact->rows, ==, full->rows);
      g_assert_cmpint (compact->cols, ==, full->cols);
      g_assert_cmpmem (compact->values, compact->rows * compact->cols * sizeof (float), full->values,
                       full->rows * full->cols * sizeof (float));
    }
  recorded_clear (&r);
}

/* A zoom window of a recorded view: the same cells, x0 moved, and the
 * colour range of the whole view (retention's is fixed, NLL's from data). */
static void
test_crop_columns (void)
{
  Recorded r = { 0 };
  record (&r, "memformer", MS_ATTN_STORE_NONE);
  for (int k = 0; k < 2; k++)
    {
      MsViewKind kind = k == 0 ? MS_VIEW_RETENTION : MS_VIEW_NLL;
      g_autoptr (MsViewData) v = load (&r, kind, (MsViewParams) MS_VIEW_PARAMS_DEFAULT);
      g_autoptr (MsViewData) c = ms_view_data_crop_columns (v, 10, 7);
      g_assert_cmpint (c->rows, ==, v->rows);
      g_assert_cmpint (c->cols, ==, 7);
      g_assert_cmpfloat (c->x.start, ==, v->x.start + 10 * v->x.step);
      for (int row = 0; row < v->rows; row++)
        for (int col = 0; col < 7; col++)
          {
            float a = c->values[row * 7 + col], b = v->values[row * v->cols + 10 + col];
            g_assert_true ((isnan (a) && isnan (b)) || a == b);
          }
      double lo = INFINITY, hi = -INFINITY;
      for (int i = 0; i < v->rows * v->cols; i++)
        if (!isnan (v->values[i]))
          lo = MIN (lo, v->values[i]), hi = MAX (hi, v->values[i]);
      g_assert_cmpfloat (c->vmin, ==, isnan (v->vmin) ? lo : v->vmin);
      g_assert_cmpfloat (c->vmax, ==, isnan (v->vmax) ? hi : v->vmax);
      g_assert_cmpstr (c->x.label, ==, v->x.label);
      /* past the end: NaN, so a shorter run stays aligned with a longer one */
      g_autoptr (MsViewData) tail = ms_view_data_crop_columns (v, v->cols - 3, 5);
      g_assert_cmpint (tail->cols, ==, 5);
      g_assert_cmpfloat (tail->x.start, ==, v->x.start + (v->cols - 3) * v->x.step);
      for (int row = 0; row < v->rows; row++)
        {
          float last = v->values[row * v->cols + v->cols - 1], got = tail->values[row * 5 + 2];
          g_assert_true ((isnan (last) && isnan (got)) || last == got);
          g_assert_true (isnan (tail->values[row * 5 + 3]) && isnan (tail->values[row * 5 + 4]));
        }
    }
  recorded_clear (&r);
}

/* The grid of every layer × head: each tile is exactly the read or write
 * view of that layer and head, the last tile of a row is the mean over
 * heads (and equals the mean of the head tiles), the tiles are named in
 * the axes' blocks, and a cell's name says its tile and its token. */
static void
check_heads (const char *fixture)
{
  Recorded r = { 0 };
  record (&r, fixture, MS_ATTN_STORE_NONE);
  const MsConfig *c = ms_model_get_config (r.model);
  g_autoptr (MsRunInfo) info = ms_recording_get_run (r.rec, 1, NULL);
  int S = info->segments_done, H = c->n_heads;
  for (int k = 0; k < 2; k++)
    {
      MsViewKind grid_kind = k == 0 ? MS_VIEW_READ_HEADS : MS_VIEW_WRITE_HEADS;
      MsViewKind single = k == 0 ? MS_VIEW_READ : MS_VIEW_WRITE;
      g_autoptr (MsViewData) grid = load (&r, grid_kind, P (S - 2, -1, -1, -1, 0.9, 0.1));
      int L = ms_view_n_layers (c, single);
      g_assert_cmpint (L, >=, 1);
      g_autoptr (MsViewData) first = load (&r, single, P (S - 2, 0, 0, -1, 0.9, 0.1));
      int rows = first->rows, cols = first->cols;
      gboolean per_layer = grid->y.n_blocks == L && L > 1;
      g_assert_cmpint (grid->rows, ==, L * rows);
      g_assert_cmpint (grid->cols, ==, (H + 1) * cols);
      g_assert_cmpint (grid->x.kind, ==, MS_VIEW_AXIS_GRID);
      g_assert_cmpint (grid->x.n_blocks, ==, H + 1);
      g_assert_cmpstr (grid->x.blocks[0].name, ==, "head 0");
      g_assert_cmpstr (grid->x.blocks[H].name, ==, "mean");
      g_assert_cmpint (grid->y.n_blocks, ==, L);
      g_autofree char *last_layer = g_strdup_printf ("layer %d", L - 1);
      if (per_layer)
        g_assert_cmpstr (grid->y.blocks[L - 1].name, ==, last_layer);
      for (int l = 0; l < L; l++)
        for (int h = 0; h <= H; h++)
          {
            g_autoptr (MsViewData) t = load (&r, single, P (S - 2, l, h < H ? h : -1, -1, 0.9, 0.1));
            g_assert_cmpint (t->rows, ==, rows);
            g_assert_cmpint (t->cols, ==, cols);
            for (int i = 0; i < rows; i++)
              for (int j = 0; j < cols; j++)
                {
                  float got = grid->values[(size_t) (l * rows + i) * grid->cols + h * cols + j];
                  g_assert_true (got == t->values[i * cols + j] || (isnan (got) && isnan (t->values[i * cols + j])));
                  if (h == H)   /* the mean tile is the mean of the head tiles */
                    {
                      double sum = 0;
                      for (int hh = 0; hh < H; hh++)
                        sum += grid->values[(size_t) (l * rows + i) * grid->cols + hh * cols + j];
                      g_assert_cmpfloat (fabs (got - sum / H), <, 1e-5);
                    }
                }
          }
      /* tick names: the tile's tokens (or slot indices), in every tile */
      const MsViewAxis *tok_axis = k == 0 ? &first->y : &first->x;
      const MsViewAxis *grid_axis = k == 0 ? &grid->y : &grid->x;
      int tile_n = k == 0 ? rows : cols, n_tiles = k == 0 ? L : H + 1;
      int named = 0;
      for (int t = 0; t < n_tiles; t++)
        for (int i = 0; i < tile_n; i++)
          if (tok_axis->texts && tok_axis->texts[i])
            {
              g_assert_cmpstr (grid_axis->texts[t * tile_n + i], ==, tok_axis->texts[i]);
              named++;
            }
      g_assert_cmpint (named, >, 0);
      /* a cell's name: the tile, then the cell of the tile */
      int tok = -1;
      for (int i = 0; i < tile_n && tok < 0; i++)
        if (tok_axis->texts[i])
          tok = i;
      g_autofree char *inner = ms_view_axis_cell_name (tok_axis, tok);
      g_autofree char *name = ms_view_axis_cell_name (grid_axis, (n_tiles - 1) * tile_n + tok);
      g_assert_true (g_str_has_prefix (name, grid_axis->blocks[n_tiles - 1].name));
      g_assert_nonnull (strstr (name, inner));
      g_autofree char *said = ms_view_describe_cell (grid, 0, H * cols);
      g_assert_nonnull (strstr (said, "mean"));
      g_assert_nonnull (strstr (said, grid->y.blocks[0].name));
      g_autofree char *csv = ms_view_data_to_csv (grid, NULL, NULL, NULL, FALSE, NULL);
      g_assert_nonnull (strstr (csv, "\"head 0, "));
      /* a copy keeps the tile axis */
      g_autoptr (MsViewData) copy = ms_view_data_crop_columns (grid, 0, grid->cols);
      g_autofree char *copied = ms_view_axis_cell_name (k == 0 ? &copy->y : &copy->x, (n_tiles - 1) * tile_n + tok);
      g_assert_cmpstr (copied, ==, name);
    }
  /* selectors: the grid uses a segment only */
  g_assert_cmpint (ms_view_info (MS_VIEW_READ_HEADS)->params, ==, MS_VIEW_USES_SEGMENT);
  g_assert_cmpint (ms_view_n_layers (c, MS_VIEW_READ_HEADS), ==, 0);
  recorded_clear (&r);
}

static void
test_heads_memformer (void)
{
  check_heads ("memformer");
}

static void
test_heads_rmt (void)
{
  check_heads ("rmt_blocks");
}

static int
descending (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x < y) - (x > y);
}

/* ms_view_describe_token_reads lists a token's heaviest read weights in
 * order, as its row of the read view holds them, then the rest summed; a
 * row that is not a whole distribution also gives its total. */
static void
check_token_reads (const char *name)
{
  Recorded r = { 0 };
  record (&r, name, MS_ATTN_STORE_NONE);
  g_autoptr (MsViewData) v = load (&r, MS_VIEW_READ, P (5, -1, -1, -1, 0.9, 0.1));
  int j = 2, shown = 3;
  g_assert_cmpint (v->cols, >, shown);
  g_autofree float *row = g_memdup2 (v->values + (size_t) j * v->cols, v->cols * sizeof (float));
  double total = 0;
  for (int i = 0; i < v->cols; i++)
    total += row[i];
  qsort (row, (size_t) v->cols, sizeof (float), descending);
  g_autofree char *text = ms_view_describe_token_reads (v, j, shown);
  g_assert_nonnull (text);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, (guint) shown + 2);
  g_assert_true (g_str_has_prefix (lines[0], "Reads the memory"));
  if (!v->rows_complete)
    {
      g_autofree char *sum = g_strdup_printf ("%.3f of its attention in all", total);
      g_assert_nonnull (strstr (lines[0], sum));
    }
  double rest = total;
  for (int k = 0; k < shown; k++)
    {
      g_assert_nonnull (strstr (lines[1 + k], "slot"));
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (strrchr (lines[1 + k], ' ') + 1, NULL), row[k], 5e-4);
      rest -= row[k];
    }
  g_autofree char *others = g_strdup_printf ("  %d others  ", v->cols - shown);
  g_assert_true (g_str_has_prefix (lines[shown + 1], others));
  g_assert_cmpfloat_with_epsilon (g_ascii_strtod (strrchr (lines[shown + 1], ' ') + 1, NULL), rest, 5e-4);
  g_assert_null (ms_view_describe_token_reads (v, v->rows, shown));   /* no such token */
  g_autoptr (MsViewData) w = load (&r, MS_VIEW_WRITE, P (5, -1, -1, -1, 0.9, 0.1));
  g_assert_null (ms_view_describe_token_reads (w, 0, shown));         /* not a read view */
  recorded_clear (&r);
}

static void
test_token_reads_memformer (void)
{
  check_token_reads ("memformer");
}

static void
test_token_reads_rmt (void)
{
  check_token_reads ("rmt_blocks");
}

static void
test_names (void)
{
  for (int k = MS_VIEW_RETENTION; k < MS_VIEW_N_KINDS; k++)
    {
      MsViewKind parsed;
      g_assert_true (ms_view_kind_parse (ms_view_kind_name (k), &parsed));
      g_assert_cmpint (parsed, ==, k);
      g_assert_nonnull (strstr (ms_view_kind_list (), ms_view_kind_name (k)));
    }
  MsViewKind parsed;
  g_assert_false (ms_view_kind_parse ("heat", &parsed));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixture_dir = g_getenv ("MEMSCOPE_FIXTURES");
  g_assert_nonnull (fixture_dir);
  g_test_add_func ("/view/memformer", test_memformer);
  g_test_add_func ("/view/rmt", test_rmt);
  g_test_add_func ("/view/compact", test_compact);
  g_test_add_func ("/view/names", test_names);
  g_test_add_func ("/view/heads/memformer", test_heads_memformer);
  g_test_add_func ("/view/heads/rmt", test_heads_rmt);
  g_test_add_func ("/view/crop-columns", test_crop_columns);
  g_test_add_func ("/view/token-reads/memformer", test_token_reads_memformer);
  g_test_add_func ("/view/token-reads/rmt", test_token_reads_rmt);
  return g_test_run ();
}
