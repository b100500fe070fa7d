/* ms-view-describe.c — what a cell of a view means in words (the tooltip
 * text, ms_view_describe_cell) and the per-token values that colour the
 * input text (ms_view_token_values), so the CLI and the workbench say the
 * same. */
#include "ms-view-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- what a cell means ---- */

char *
ms_view_axis_cell_name (const MsViewAxis *axis, int i)
{
  if (axis->kind == MS_VIEW_AXIS_SERIES)
    return g_strdup (axis->texts && i < axis->n && axis->texts[i] ? axis->texts[i] : "value");
  /* a grid's cell: its tile, then the cell of the tile */
  if (axis->kind == MS_VIEW_AXIS_GRID && axis->tile)
    for (int b = 0; b < axis->n_blocks; b++)
      if (i >= axis->blocks[b].first && i < axis->blocks[b].first + axis->blocks[b].n)
        {
          g_autofree char *inner = ms_view_axis_cell_name (axis->tile, i - axis->blocks[b].first);
          const char *what = axis->tile->kind == MS_VIEW_AXIS_SLOT    ? "slot "
                             : axis->tile->kind == MS_VIEW_AXIS_TOKEN ? "token "
                                                                       : "";
          return g_strdup_printf ("%s, %s%s", axis->blocks[b].name, what, inner);
        }
  if (axis->kind == MS_VIEW_AXIS_LAG && axis->texts && i >= 0 && i < axis->n && axis->texts[i])
    return g_strdup (axis->texts[i]);   /* "initial", "older", "t-3", "t" */
  /* a token says its text */
  const char *token = axis->texts && i >= 0 && i < axis->n ? axis->texts[i] : NULL;
  for (int b = 0; b < axis->n_blocks; b++)
    {
      const MsViewBlock *block = &axis->blocks[b];
      if (i >= block->first && i < block->first + block->n)
        {
          if (block->tokens && token)
            return g_strdup_printf ("%s %d “%s”", block->name, i - block->first, token);
          return block->n == 1 ? g_strdup (block->name) : g_strdup_printf ("%s %d", block->name, i - block->first);
        }
    }
  if (axis->kind == MS_VIEW_AXIS_TOKEN && token)
    return g_strdup_printf ("%d “%s”", (int) (axis->start + i * axis->step), token);
  int lo = (int) (axis->start + i * axis->step);
  int hi = MIN ((int) (axis->start + (i + 1) * axis->step), (int) axis->start + axis->length) - 1;
  return hi > lo ? g_strdup_printf ("%d..%d", lo, hi) : g_strdup_printf ("%d", lo);
}

/* "segment 7" or "segments 42–83 (mean of 42)" for cell @i of a segment axis. */
static char *
segments_of (const MsViewData *v, const MsViewAxis *axis, int i, const char *noun)
{
  int lo = (int) (axis->start + i * axis->step);
  int hi = MIN ((int) (axis->start + (i + 1) * axis->step), (int) axis->start + axis->length) - 1;
  if (hi <= lo)
    return g_strdup_printf ("%s %d", noun, lo);
  return g_strdup_printf ("%ss %d–%d (%s of %d)", noun, lo, hi, ms_view_reducer_name (v->reducer), hi - lo + 1);
}

/* "\n“text”" of cell @i, or "" */
static char *
quoted_text (const MsViewAxis *axis, int i)
{
  if (!axis->texts || i < 0 || i >= axis->n || !axis->texts[i])
    return g_strdup ("");
  return g_strdup_printf ("\n“%s”", axis->texts[i]);
}

static const char *
token_of (const MsViewAxis *axis, int i)
{
  return axis->texts && i >= 0 && i < axis->n && axis->texts[i] ? axis->texts[i] : "?";
}

char *
ms_view_describe_cell (const MsViewData *v, int row, int col)
{
  if (col < 0 || col >= v->cols || row >= v->rows || (row < 0 && v->shape == MS_VIEW_HEATMAP))
    return NULL;
  double value = ms_view_data_get (v, row, col);
  if (v->shape != MS_VIEW_HEATMAP)
    {
      g_autofree char *at = segments_of (v, &v->x, col, "Segment");
      GString *s = g_string_new (at);
      for (int r = 0; r < v->rows; r++)
        if (row < 0 || r == row)
          g_string_append_printf (s, "\n%s: %.3f", v->series && v->series[r] ? v->series[r] : "value",
                                  ms_view_data_get (v, r, col));
      if (v->kind == MS_VIEW_NLL)
        g_string_append (s, " nats/token");
      g_autofree char *text = quoted_text (&v->x, col);
      g_string_append (s, text);
      return g_string_free (s, FALSE);
    }
  int y = (int) (v->y.start + row * v->y.step);
  g_autofree char *text = quoted_text (&v->x, col);
  switch (v->kind)
    {
    case MS_VIEW_RETENTION:
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("Slot %d after %s\nretention %.3f: the share of the new slot drawn from the old memory "
                                "(1 − this came from the segment's tokens)%s", y, at, value, text);
      }
    case MS_VIEW_REPRESENTATION:
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("Slot %d after %s\ncos(slot after, slot before) = %.3f: how much the slot's vector "
                                "kept its direction%s", y, at, value, text);
      }
    case MS_VIEW_GATE:
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("Slot %d after %s\ngate α %.3f: the share of the new slot taken from the layers' "
                                "output (1 − this kept from the old memory as it was)%s", y, at, value, text);
      }
    case MS_VIEW_READ_USAGE:
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("Slot %d in %s\nread usage %.3f (read attention summed over tokens)%s", y, at, value,
                                text);
      }
    case MS_VIEW_PROVENANCE:
      if (v->y.kind == MS_VIEW_AXIS_LAG)
        {
          /* rows: the initial memory, older than t − H, then t − H … t (H = rows − 3) */
          g_autofree char *at = segments_of (v, &v->x, col, "segment");
          int H = v->rows - 3;
          g_autofree char *from = row == 0   ? g_strdup ("the initial memory")
                                  : row == 1 ? g_strdup_printf ("segments more than %d before it", H)
                                  : row == v->rows - 1
                                    ? g_strdup ("that segment itself")
                                    : g_strdup_printf ("the segment %d before it", v->rows - 1 - row);
          return g_strdup_printf ("Memory after %s: %.3f of its content came from %s%s", at, value, from, text);
        }
      {
        g_autofree char *at = segments_of (v, &v->x, col, "segment");
        int hi = MIN ((int) (v->y.start + (row + 1) * v->y.step), (int) v->y.start + v->y.length) - 1;
        g_autofree char *from = hi <= y ? (y < 0 ? g_strdup ("the initial memory (source −1)")
                                                 : g_strdup_printf ("segment %d", y))
                                        : g_strdup_printf ("sources %d–%d (summed; −1 = the initial memory)", y, hi);
        g_autofree char *source_text = y < 0 ? g_strdup ("") : quoted_text (&v->y, row);
        return g_strdup_printf ("Memory after %s: %.3f of its content came from %s%s", at, value, from, source_text);
      }
    case MS_VIEW_SIMILARITY:
      {
        g_autofree char *a = segments_of (v, &v->y, row, "segment");
        g_autofree char *b = segments_of (v, &v->x, col, "segment");
        return g_strdup_printf ("cos(memory after %s, memory after %s) = %.3f", a, b, value);
      }
    case MS_VIEW_READ:
      return g_strdup_printf ("Segment %d, token %d “%s” reads %s %d\nattention weight %.3f", v->segment, row,
                              token_of (&v->y, row), v->x.label, col, value);
    case MS_VIEW_READ_HEADS:
    case MS_VIEW_WRITE_HEADS:
      {
        g_autofree char *r = ms_view_axis_cell_name (&v->y, row);
        g_autofree char *c = ms_view_axis_cell_name (&v->x, col);
        return g_strdup_printf ("Segment %d, %s; %s\n%s %.3f", v->segment, r, c, v->quantity, value);
      }
    case MS_VIEW_WRITE:
      for (int b = 0; b < v->x.n_blocks; b++)
        {
          const MsViewBlock *block = &v->x.blocks[b];
          if (col < block->first || col >= block->first + block->n)
            continue;
          if (block->tokens)
            return g_strdup_printf ("Segment %d: slot %d ← token %d “%s”, weight %.3f", v->segment, row,
                                    col - block->first, token_of (&v->x, col), value);
          if (block->n == 1)
            return g_strdup_printf ("Segment %d: slot %d keeps itself (%s, the old memory) with weight %.3f",
                                    v->segment, row, block->name, value);
          return g_strdup_printf ("Segment %d: write slot %d ← %s slot %d%s, weight %.3f", v->segment, row,
                                  block->name, col - block->first, block->old_memory ? " (the old memory)" : "",
                                  value);
        }
      return g_strdup_printf ("Segment %d: slot %d ← position %d, weight %.3f", v->segment, row, col, value);
    default:
      return g_strdup_printf ("%s %d, %s %d: %.3f", v->y.label, row, v->x.label, col, value);
    }
}

/* ---- token values ---- */

float *
ms_view_token_values (const MsViewData *v, int slot, int *n_tokens, const char **what)
{
  if (v->kind == MS_VIEW_WRITE)
    {
      const MsViewBlock *tokens = NULL;
      for (int b = 0; b < v->x.n_blocks; b++)
        if (v->x.blocks[b].tokens)
          tokens = &v->x.blocks[b];
      if (!tokens || slot < 0 || slot >= v->rows)
        return NULL;
      *n_tokens = tokens->n;
      *what = "Tokens coloured by how much of each was written into the selected slot (write attention, "
              "darker = more)";
      return g_memdup2 (v->values + (size_t) slot * v->cols + tokens->first, MAX (tokens->n, 0) * sizeof (float));
    }
  if (v->kind != MS_VIEW_READ)
    return NULL;
  float *out = g_new0 (float, MAX (v->rows, 1));
  for (int j = 0; j < v->rows; j++)
    {
      const float *row = v->values + (size_t) j * v->cols;
      float acc = 0;
      for (int i = 0; i < v->cols; i++)
        if (!isnan (row[i]))
          acc = v->rows_complete ? MAX (acc, row[i]) : acc + row[i];
      out[j] = acc;
    }
  *n_tokens = v->rows;
  *what = v->rows_complete ? "Tokens coloured by how sharply each reads one memory slot (largest read weight; "
                             "darker = more). Select a slot to see what was written into it."
                           : "Tokens coloured by how much attention each puts on the memory (read block; darker = "
                             "more). Select a slot to see what was written into it.";
  return out;
}


/* ---- how one token reads the memory ---- */

typedef struct {
  int col;
  float weight;
} Weighted;

static int
heavier_first (const void *a, const void *b)
{
  float x = ((const Weighted *) a)->weight, y = ((const Weighted *) b)->weight;
  return (x < y) - (x > y);
}

char *
ms_view_describe_token_reads (const MsViewData *v, int token, int max_lines)
{
  if (v->kind != MS_VIEW_READ || token < 0 || token >= v->rows)
    return NULL;
  const float *row = v->values + (size_t) token * v->cols;
  g_autofree Weighted *w = g_new (Weighted, MAX (v->cols, 1));
  int n = 0;
  double total = 0;
  for (int i = 0; i < v->cols; i++)
    if (!isnan (row[i]))
      {
        w[n++] = (Weighted) { i, row[i] };
        total += row[i];
      }
  qsort (w, (size_t) n, sizeof *w, heavier_first);
  GString *s = g_string_new (NULL);
  g_autofree char *head = v->head >= 0 ? g_strdup_printf ("head %d", v->head) : g_strdup ("mean over heads");
  g_string_append_printf (s, "Reads the memory (%s, layer %d, %s)", v->quantity, v->layer, head);
  if (!v->rows_complete)
    g_string_append_printf (s, ": %.3f of its attention in all", total);
  double rest = total;
  for (int k = 0; k < n && k < MAX (max_lines, 0); k++)
    {
      g_autofree char *name = ms_view_axis_cell_name (&v->x, w[k].col);
      /* a block names its cells; a bare index needs the axis's name */
      const char *noun = v->x.n_blocks > 0 ? NULL : v->x.name ? v->x.name : v->x.label;
      g_string_append_printf (s, "\n  %s%s%s  %.3f", noun ? noun : "", noun ? " " : "", name, w[k].weight);
      rest -= w[k].weight;
    }
  if (n > max_lines && max_lines >= 0)
    g_string_append_printf (s, "\n  %d others  %.3f", n - max_lines, MAX (rest, 0.0));
  return g_string_free (s, FALSE);
}
