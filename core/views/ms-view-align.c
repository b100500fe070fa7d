/* ms-view-align.c — an attention view of one run put on the tokens of
 * another run's view of the same input (ms_view_data_align_tokens), for
 * comparing models whose tokenizers differ. */
#include "ms-view-private.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

/* One B cell an A cell draws from, and with what weight. */
typedef struct {
  int cell;
  double weight;
} Source;

/* The block of @axis holding cell @i, or −1. */
static int
block_of (const MsViewAxis *axis, int i)
{
  for (int b = 0; b < axis->n_blocks; b++)
    if (i >= axis->blocks[b].first && i < axis->blocks[b].first + axis->blocks[b].n)
      return b;
  return -1;
}

static gboolean
is_token_cell (const MsViewAxis *axis, int i)
{
  return axis->bytes && axis->bytes[i].end > axis->bytes[i].start;
}

/* The B token cells of @b (ranges in order within its token cells) that
 * overlap A's token cell @i, with their weights: the share of each B
 * token's bytes inside A's token when the axis is what a row distributes
 * over (@split: attention mass moves with the bytes), or the share of the
 * overlap among them (a row per token: the mean of B's rows, by bytes). */
static void
token_sources (const MsViewAxis *a, int i, const MsViewAxis *b, int b_first, int b_n, gboolean split, GArray *out)
{
  size_t first;
  size_t n = ms_token_align_range (b->bytes + b_first, (size_t) b_n, a->bytes[i].start, a->bytes[i].end, &first);
  double total = 0;
  for (size_t k = first; k < first + n; k++)
    total += (double) ms_byte_range_overlap (&a->bytes[i], &b->bytes[b_first + k]);
  for (size_t k = first; k < first + n; k++)
    {
      const MsByteRange *r = &b->bytes[b_first + k];
      double overlap = (double) ms_byte_range_overlap (&a->bytes[i], r);
      Source s = { b_first + (int) k, split ? overlap / (double) (r->end - r->start) : overlap / total };
      g_array_append_val (out, s);
    }
}

/* Per cell of A's @a, the cells of B's @b it draws from (@sources[i], an
 * array of Source): a token cell from the B tokens whose bytes overlap it,
 * any other cell from the cell at the same offset of B's block of the same
 * name (or of the same index, on an axis without blocks).  FALSE with
 * @error when B has no such cell. */
static gboolean
axis_sources (const MsViewAxis *a, const MsViewAxis *b, gboolean split, GArray **sources, GError **error)
{
  /* B's token cells: the one run of cells with bytes */
  int b_first = 0, b_n = 0;
  for (int k = 0; b->bytes && k < b->n; k++)
    if (is_token_cell (b, k))
      {
        if (b_n == 0)
          b_first = k;
        b_n = k - b_first + 1;
      }
  for (int i = 0; i < a->n; i++)
    {
      sources[i] = g_array_new (FALSE, FALSE, sizeof (Source));
      if (is_token_cell (a, i))
        {
          token_sources (a, i, b, b_first, b_n, split, sources[i]);
          continue;
        }
      int ba = block_of (a, i), cell = i;
      if (ba >= 0)
        {
          cell = -1;
          for (int bb = 0; bb < b->n_blocks; bb++)
            if (g_str_equal (b->blocks[bb].name, a->blocks[ba].name)
                && i - a->blocks[ba].first < b->blocks[bb].n)
              cell = b->blocks[bb].first + i - a->blocks[ba].first;
        }
      if (cell < 0 || cell >= b->n || is_token_cell (b, cell))
        {
          g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "cannot put the two runs' %s on one axis: run B has no %s "
                       "to match", a->label, ba >= 0 ? a->blocks[ba].name : a->name ? a->name : "cell");
          return FALSE;
        }
      Source s = { cell, 1.0 };
      g_array_append_val (sources[i], s);
    }
  return TRUE;
}

static void
free_sources (GArray **sources, int n)
{
  for (int i = 0; i < n; i++)
    if (sources[i])
      g_array_unref (sources[i]);
  g_free (sources);
}

MsViewData *
ms_view_data_align_tokens (const MsViewData *a, const MsViewData *b, GError **error)
{
  if (a->kind != b->kind || (a->kind != MS_VIEW_READ && a->kind != MS_VIEW_WRITE))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "only read and write attention views align by tokens (got %s "
                   "and %s)", ms_view_kind_name (a->kind), ms_view_kind_name (b->kind));
      return NULL;
    }
  if ((!a->x.bytes && !a->y.bytes) || (!b->x.bytes && !b->y.bytes))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "the %s views carry no token byte ranges to align by",
                   ms_view_kind_name (a->kind));
      return NULL;
    }
  GArray **xs = g_new0 (GArray *, MAX (a->x.n, 1));
  GArray **ys = g_new0 (GArray *, MAX (a->y.n, 1));
  /* a row's columns are what it distributes over: mass splits with the
   * bytes; rows are per token: B's rows are averaged by bytes */
  gboolean ok = axis_sources (&a->x, &b->x, TRUE, xs, error) && axis_sources (&a->y, &b->y, FALSE, ys, error);
  MsViewData *out = NULL;
  if (ok)
    {
      out = ms_view_data_crop_columns (a, 0, a->cols);
      for (int i = 0; i < a->rows; i++)
        for (int j = 0; j < a->cols; j++)
          {
            double sum = 0;
            gboolean any = ys[i]->len > 0 && xs[j]->len > 0;
            for (guint p = 0; p < ys[i]->len; p++)
              for (guint q = 0; q < xs[j]->len; q++)
                {
                  const Source *r = &g_array_index (ys[i], Source, p), *c = &g_array_index (xs[j], Source, q);
                  double v = b->values[(size_t) r->cell * b->cols + c->cell];
                  if (isnan (v))
                    any = FALSE;
                  sum += r->weight * c->weight * v;
                }
            out->values[(size_t) i * a->cols + j] = any ? (float) sum : NAN;
          }
      out->run_id = b->run_id;
      out->segment = b->segment;
      out->layer = b->layer;
      out->head = b->head;
      out->rows_complete = b->rows_complete;
      out->vmin = b->vmin;
      out->vmax = b->vmax;
      g_free (out->title);
      out->title = g_strdup_printf ("%s, on run %" G_GINT64_FORMAT "'s tokens", b->title ? b->title : "",
                                    a->run_id);
    }
  free_sources (xs, a->x.n);
  free_sources (ys, a->y.n);
  return out;
}
