/* ms-export.c — figure files: format and size parsing, rendering, and the
 * write-to-temporary-then-rename discipline. */
#include "ms-export.h"
#include "ms-figure-error.h"
#include "ms-png.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MIN_DPI 10.0
#define MAX_DPI 4800.0
#define MAX_PIXELS 32767

static const struct {
  const char *name;
  double width_in;
} presets[] = {
  { "single", 3.5 },
  { "double", 7.0 },
  { "neurips", 5.5 },
};

gboolean
ms_figure_format_from_path (const char *path, MsFigureFormat *format, GError **error)
{
  const char *dot = strrchr (path, '.');
  const char *slash = strrchr (path, G_DIR_SEPARATOR);
  if (dot != NULL && (slash == NULL || dot > slash))
    {
      if (g_ascii_strcasecmp (dot, ".png") == 0)
        return *format = MS_FIGURE_FORMAT_PNG, TRUE;
      if (g_ascii_strcasecmp (dot, ".svg") == 0)
        return *format = MS_FIGURE_FORMAT_SVG, TRUE;
      if (g_ascii_strcasecmp (dot, ".pdf") == 0)
        return *format = MS_FIGURE_FORMAT_PDF, TRUE;
    }
  g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_FORMAT,
               "cannot export figure '%s': unknown format (the file name must end in .png, .svg or .pdf)", path);
  return FALSE;
}

char *
ms_figure_path_for_view (const char *path, const char *view)
{
  const char *slash = strrchr (path, '/');
  const char *dot = strrchr (path, '.');
  if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : path))
    return g_strdup_printf ("%s-%s", path, view);
  return g_strdup_printf ("%.*s-%s%s", (int) (dot - path), path, view, dot);
}

gboolean
ms_figure_size_parse (const char *text, MsFigureSize *size, GError **error)
{
  for (size_t i = 0; text && i < G_N_ELEMENTS (presets); i++)
    if (strcmp (text, presets[i].name) == 0)
      {
        *size = (MsFigureSize) { presets[i].width_in, presets[i].width_in * MS_FIGURE_ASPECT };
        return TRUE;
      }

  /* Custom "WxH": two positive numbers of inches. */
  if (text)
    {
      char *end;
      double w = g_ascii_strtod (text, &end);
      if (end != text && (*end == 'x' || *end == 'X'))
        {
          const char *h_text = end + 1;
          double h = g_ascii_strtod (h_text, &end);
          if (end != h_text && *end == '\0' && w > 0.0 && h > 0.0 && w <= MS_FIGURE_MAX_INCHES
              && h <= MS_FIGURE_MAX_INCHES)
            {
              *size = (MsFigureSize) { w, h };
              return TRUE;
            }
        }
    }
  g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_PRESET, "unknown figure size '%s' (valid sizes: %s)",
               text ? text : "(null)", MS_FIGURE_SIZES);
  return FALSE;
}

static gboolean
check_size (double width_in, double height_in, double dpi, gboolean raster, GError **error)
{
  if (!(width_in > 0.0 && width_in <= MS_FIGURE_MAX_INCHES && height_in > 0.0
        && height_in <= MS_FIGURE_MAX_INCHES))
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "a figure of %g × %g in is not possible: width and height must be in (0, %g] inches",
                   width_in, height_in, MS_FIGURE_MAX_INCHES);
      return FALSE;
    }
  if (!(dpi >= MIN_DPI && dpi <= MAX_DPI))
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "a resolution of %g dpi is not possible: use %g to %g dpi", dpi, MIN_DPI, MAX_DPI);
      return FALSE;
    }
  if (raster && (lround (width_in * dpi) > MAX_PIXELS || lround (height_in * dpi) > MAX_PIXELS))
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_INPUT,
                   "a figure of %g × %g in at %g dpi would exceed %d pixels a side: lower the dpi",
                   width_in, height_in, dpi, MAX_PIXELS);
      return FALSE;
    }
  return TRUE;
}

/* Runs @draw on a fresh context of @surface whose user space is points:
 * white background first.  Fails with MS_FIGURE_ERROR_DRAW if cairo did. */
static gboolean
draw_on (cairo_surface_t *surface, double scale_x, double scale_y, double width, double height,
         MsFigureDrawFunc draw, gpointer user_data, const char *label, GError **error)
{
  cairo_t *cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale_x, scale_y);
  draw (cr, width, height, user_data);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_DRAW, "drawing figure '%s' failed: %s", label,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

static cairo_surface_t *
render_image (double width_in, double height_in, double dpi, MsFigureDrawFunc draw, gpointer user_data,
              const char *label, GError **error)
{
  int w = (int) lround (width_in * dpi), h = (int) lround (height_in * dpi);
  cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, MAX (w, 1), MAX (h, 1));
  if (cairo_surface_status (image) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_DRAW, "cannot render figure '%s' (%d × %d px): %s",
                   label, w, h, cairo_status_to_string (cairo_surface_status (image)));
      cairo_surface_destroy (image);
      return NULL;
    }
  /* Scale to the rounded pixel size, so the figure fills the image exactly. */
  double width = width_in * 72.0, height = height_in * 72.0;
  if (!draw_on (image, MAX (w, 1) / width, MAX (h, 1) / height, width, height, draw, user_data, label, error))
    {
      cairo_surface_destroy (image);
      return NULL;
    }
  return image;
}

cairo_surface_t *
ms_figure_render_image (double width_in, double height_in, double dpi, MsFigureDrawFunc draw,
                        gpointer user_data, GError **error)
{
  if (!check_size (width_in, height_in, dpi, TRUE, error))
    return NULL;
  return render_image (width_in, height_in, dpi, draw, user_data, "(image)", error);
}

static gboolean
io_error (GError **error, const char *path, int errsv)
{
  g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_IO, "cannot write figure '%s': %s", path,
               g_strerror (errsv));
  return FALSE;
}

/* Where cairo's vector surfaces write: a file, or memory for SVG's
 * post-processing.  Remembers the first write error. */
typedef struct {
  FILE *fp;              /* borrowed; NULL = into bytes */
  GByteArray *bytes;     /* borrowed */
  int errsv;
} Sink;

static cairo_status_t
sink_write (void *closure, const unsigned char *data, unsigned int length)
{
  Sink *sink = closure;
  if (sink->fp == NULL)
    {
      g_byte_array_append (sink->bytes, data, length);
      return CAIRO_STATUS_SUCCESS;
    }
  if (fwrite (data, 1, length, sink->fp) != length)
    {
      if (sink->errsv == 0)
        sink->errsv = errno ? errno : EIO;
      return CAIRO_STATUS_WRITE_ERROR;
    }
  return CAIRO_STATUS_SUCCESS;
}

/* Finishes a vector surface and reports its first failure. */
static gboolean
finish_vector (cairo_surface_t *surface, const Sink *sink, const char *path, GError **error)
{
  cairo_surface_finish (surface);
  cairo_status_t status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (sink->errsv != 0)
    return io_error (error, path, sink->errsv);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, MS_FIGURE_ERROR, MS_FIGURE_ERROR_IO, "cannot write figure '%s': %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_pdf (FILE *fp, const char *path, double width_in, double height_in, double dpi, MsFigureDrawFunc draw,
           gpointer user_data, GError **error)
{
  Sink sink = { .fp = fp };
  cairo_surface_t *surface = cairo_pdf_surface_create_for_stream (sink_write, &sink, width_in * 72.0,
                                                                   height_in * 72.0);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Memscope");
  cairo_surface_set_fallback_resolution (surface, dpi, dpi);
  gboolean drawn = draw_on (surface, 1.0, 1.0, width_in * 72.0, height_in * 72.0, draw, user_data, path, error);
  gboolean finished = finish_vector (surface, &sink, path, drawn ? error : NULL);
  return drawn && finished;
}

/* cairo 1.16 writes <image> elements with no hint about scaling, so
 * viewers smooth a 64-pixel-wide heatmap into a blur.  Every image in a
 * Memscope figure is a grid of cells, so each gets both the SVG 1.1
 * presentation attribute image-rendering="optimizeSpeed" (Inkscape, rsvg,
 * Firefox) and the CSS image-rendering:pixelated (browsers), leaving alone
 * whatever a later cairo may already have set. */
static GString *
make_images_crisp (const char *svg, size_t len)
{
  static const char tag[] = "<image";
  GString *out = g_string_sized_new (len + 1024);
  const char *p = svg, *end = svg + len;
  for (;;)
    {
      const char *hit = memmem (p, end - p, tag, sizeof tag - 1);
      const char *after = hit ? hit + sizeof tag - 1 : NULL;
      const char *close = after ? memchr (after, '>', end - after) : NULL;
      if (close == NULL)
        break;
      g_string_append_len (out, p, after - p);
      p = after;
      if (!g_ascii_isspace (*after))
        continue;  /* some other element, e.g. <imagex */
      size_t tag_len = close - after;
      if (memmem (after, tag_len, "image-rendering=", 16) == NULL)
        g_string_append (out, " image-rendering=\"optimizeSpeed\"");
      const char *style = memmem (after, tag_len, " style=\"", 8);
      if (style == NULL)
        g_string_append (out, " style=\"image-rendering:pixelated\"");
      else if (memmem (style, close - style, "image-rendering:", 16) == NULL)
        {
          g_string_append_len (out, after, style + 8 - after);
          g_string_append (out, "image-rendering:pixelated;");
          p = style + 8;
        }
    }
  g_string_append_len (out, p, end - p);
  return out;
}

static gboolean
write_svg (FILE *fp, const char *path, double width_in, double height_in, double dpi, MsFigureDrawFunc draw,
           gpointer user_data, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  Sink sink = { .bytes = bytes };
  cairo_surface_t *surface = cairo_svg_surface_create_for_stream (sink_write, &sink, width_in * 72.0,
                                                                   height_in * 72.0);
  cairo_svg_surface_restrict_to_version (surface, CAIRO_SVG_VERSION_1_1);
  cairo_surface_set_fallback_resolution (surface, dpi, dpi);
  gboolean drawn = draw_on (surface, 1.0, 1.0, width_in * 72.0, height_in * 72.0, draw, user_data, path, error);
  if (!finish_vector (surface, &sink, path, drawn ? error : NULL) || !drawn)
    return FALSE;

  g_autoptr (GString) svg = make_images_crisp ((const char *) bytes->data, bytes->len);
  if (fwrite (svg->str, 1, svg->len, fp) != svg->len)
    return io_error (error, path, errno ? errno : EIO);
  return TRUE;
}

static gboolean
write_png (FILE *fp, const char *path, double width_in, double height_in, double dpi, MsFigureDrawFunc draw,
           gpointer user_data, GError **error)
{
  cairo_surface_t *image = render_image (width_in, height_in, dpi, draw, user_data, path, error);
  if (image == NULL)
    return FALSE;
  gboolean ok = ms_png_write (fp, image, dpi, path, error);
  cairo_surface_destroy (image);
  return ok;
}

gboolean
ms_figure_export (const char *path, double width_in, double height_in, double dpi, MsFigureDrawFunc draw,
                  gpointer user_data, GError **error)
{
  MsFigureFormat format;
  if (!ms_figure_format_from_path (path, &format, error)
      || !check_size (width_in, height_in, dpi, format == MS_FIGURE_FORMAT_PNG, error))
    return FALSE;

  /* The temporary file lives beside the target, so the rename cannot cross
   * file systems; it is created with the usual 0666 & ~umask. */
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp_path = g_strdup_printf ("%s%c.%s.XXXXXX", dir, G_DIR_SEPARATOR, base);
  int fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    return io_error (error, path, errno);
  FILE *fp = fdopen (fd, "wb");
  if (fp == NULL)
    {
      int errsv = errno;
      close (fd);
      g_unlink (tmp_path);
      return io_error (error, path, errsv);
    }

  gboolean ok = FALSE;
  switch (format)
    {
    case MS_FIGURE_FORMAT_PNG:
      ok = write_png (fp, path, width_in, height_in, dpi, draw, user_data, error);
      break;
    case MS_FIGURE_FORMAT_SVG:
      ok = write_svg (fp, path, width_in, height_in, dpi, draw, user_data, error);
      break;
    case MS_FIGURE_FORMAT_PDF:
      ok = write_pdf (fp, path, width_in, height_in, dpi, draw, user_data, error);
      break;
    }

  /* Everything must be on disk before the rename makes it the figure. */
  if (ok && (fflush (fp) != 0 || fsync (fileno (fp)) != 0))
    ok = io_error (error, path, errno);
  if (fclose (fp) != 0 && ok)
    ok = io_error (error, path, errno);
  if (ok && g_rename (tmp_path, path) != 0)
    ok = io_error (error, path, errno);
  if (!ok)
    g_unlink (tmp_path);
  return ok;
}
