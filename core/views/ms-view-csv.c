/* ms-view-csv.c — the numbers of a view (or of two compared) as CSV, from
 * the same MsViewData a figure is drawn from. */
#include "ms-view-private.h"
#include "ms-error.h"

#include <math.h>
#include <string.h>

/* ---- CSV ---- */

static void
csv_field (GString *s, const char *field)
{
  if (!strpbrk (field, ",\"\n\r"))
    {
      g_string_append (s, field);
      return;
    }
  g_string_append_c (s, '"');
  for (const char *c = field; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

/* Nine significant digits (a float reads back exactly), with a '.' whatever
 * the locale; NaN as an empty field. */
static void
csv_number (GString *s, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (!isnan (value))
    g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", value));
}

static void
csv_cell_name (GString *s, const MsViewAxis *axis, int i)
{
  g_autofree char *name = ms_view_axis_cell_name (axis, i);
  csv_field (s, name);
}

char *
ms_view_data_to_csv (const MsViewData *a, const char *name_a, const MsViewData *b, const char *name_b,
                     gboolean difference, GError **error)
{
  if (b && a->kind != b->kind)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "cannot put a %s view and a %s view in one table",
                   ms_view_kind_name (a->kind), ms_view_kind_name (b->kind));
      return NULL;
    }
  if (b && difference && (a->rows != b->rows || a->cols != b->cols))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "A − B needs views of equal shapes (%d × %d and %d × %d)",
                   a->rows, a->cols, b->rows, b->cols);
      return NULL;
    }
  const MsViewData *wide = b && b->cols > a->cols ? b : a;
  int cols = wide->cols;
  GString *s = g_string_new (NULL);
  if (a->shape == MS_VIEW_HEATMAP)
    {
      if (b)
        g_string_append (s, "run,");
      g_autofree char *corner = g_strdup_printf ("%s \\ %s", a->y.label, a->x.label);
      csv_field (s, corner);
      for (int c = 0; c < cols; c++)
        g_string_append_c (s, ','), csv_cell_name (s, &wide->x, c);
      g_string_append_c (s, '\n');
      const MsViewData *panels[3] = { a, b, b && difference ? a : NULL };
      const char *names[3] = { name_a, name_b, "A − B" };
      for (int p = 0; p < 3; p++)
        {
          const MsViewData *v = panels[p];
          for (int r = 0; v && r < v->rows; r++)
            {
              if (b)
                csv_field (s, names[p] ? names[p] : ""), g_string_append_c (s, ',');
              csv_cell_name (s, &v->y, r);
              for (int c = 0; c < cols; c++)
                {
                  g_string_append_c (s, ',');
                  double value = ms_view_data_get (v, r, c);
                  csv_number (s, p == 2 ? value - ms_view_data_get (b, r, c) : value);
                }
              g_string_append_c (s, '\n');
            }
        }
      return g_string_free (s, FALSE);
    }
  /* stacked and lines: one row per point, one column per series */
  csv_field (s, a->x.label);
  const MsViewData *runs[2] = { a, b };
  const char *names[2] = { name_a, name_b };
  for (int k = 0; k < (b ? 2 : 1); k++)
    for (int r = 0; r < runs[k]->rows; r++)
      {
        const char *series = runs[k]->series && runs[k]->series[r] ? runs[k]->series[r] : "value";
        g_autofree char *head = b ? g_strdup_printf ("%s: %s", names[k] ? names[k] : "", series) : g_strdup (series);
        g_string_append_c (s, ',');
        csv_field (s, head);
      }
  if (b && difference)
    for (int r = 0; r < a->rows; r++)
      {
        g_autofree char *head = g_strdup_printf ("A − B: %s", a->series && a->series[r] ? a->series[r] : "value");
        g_string_append_c (s, ',');
        csv_field (s, head);
      }
  g_string_append_c (s, '\n');
  for (int c = 0; c < cols; c++)
    {
      csv_cell_name (s, &wide->x, c);
      for (int k = 0; k < (b ? 2 : 1); k++)
        for (int r = 0; r < runs[k]->rows; r++)
          g_string_append_c (s, ','), csv_number (s, ms_view_data_get (runs[k], r, c));
      if (b && difference)
        for (int r = 0; r < a->rows; r++)
          g_string_append_c (s, ','), csv_number (s, ms_view_data_get (a, r, c) - ms_view_data_get (b, r, c));
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}
