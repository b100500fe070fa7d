/* ms-db-wal.c — reading a recording left in WAL mode whose -shm cannot be
 * made (a read-only folder): the file's pages with the WAL's committed
 * transactions applied, as one in-memory image (ms-db.c opens it). */
#include "ms-db-wal.h"
#include "ms-error.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

static guint32
be32 (const guchar *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | (guint32) p[3];
}

/* SQLite's WAL checksum of @n bytes (a multiple of 8) of @data, carried on
 * from @s; @big: the 32-bit words are big-endian (else little-endian). */
static void
wal_checksum (const guchar *data, gsize n, gboolean big, guint32 s[2])
{
  for (gsize i = 0; i + 8 <= n; i += 8)
    {
      guint32 x0, x1;
      if (big)
        x0 = be32 (data + i), x1 = be32 (data + i + 4);
      else
        x0 = (guint32) data[i] | (guint32) data[i + 1] << 8 | (guint32) data[i + 2] << 16 | (guint32) data[i + 3] << 24,
        x1 = (guint32) data[i + 4] | (guint32) data[i + 5] << 8 | (guint32) data[i + 6] << 16
             | (guint32) data[i + 7] << 24;
      s[0] += x0 + s[1];
      s[1] += x1 + s[0];
    }
}

/* Reads @size bytes of @path into @out; FALSE with @error naming it. */
static gboolean
read_whole (const char *path, guchar **out, gsize *size, GError **error)
{
  g_autoptr (GError) io = NULL;
  if (g_file_get_contents (path, (char **) out, size, &io))
    return TRUE;
  g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: cannot read it: %s", path, io->message);
  return FALSE;
}

/* The database @path as SQLite would read it with its -wal @wal applied:
 * the file's pages, then the page images of every transaction committed in
 * the WAL, as far as its frames carry the header's salts and an unbroken
 * checksum chain (what SQLite's own recovery keeps: a torn last
 * transaction is left out).  A -wal SQLite would ignore (a bad header)
 * leaves the file as it is.  Returns an sqlite3_malloc64 buffer of *@size
 * bytes, or NULL with @error set: unreadable, or larger than
 * MS_DB_WAL_IMAGE_MAX. */
guchar *
ms_db_wal_image (const char *path, const char *wal, gsize *size, GError **error)
{
  g_autofree guchar *file = NULL, *log = NULL;
  gsize file_len = 0, log_len = 0;
  GStatBuf s1, s2;
  if (g_stat (path, &s1) != 0 || g_stat (wal, &s2) != 0
      || (guint64) s1.st_size + (guint64) s2.st_size > 2 * MS_DB_WAL_IMAGE_MAX)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: the recording was left in WAL mode, with transactions in %s, "
                   "where its -shm file cannot be made (a read-only folder or medium), and it is too large to be "
                   "read into memory: copy the recording and its -wal file to a folder you can write and open the "
                   "copy there", path, wal);
      return NULL;
    }
  if (!read_whole (path, &file, &file_len, error) || !read_whole (wal, &log, &log_len, error))
    return NULL;
  guint32 magic = log_len >= 32 ? be32 (log) : 0, page = log_len >= 32 ? be32 (log + 8) : 0;
  gboolean big = magic == 0x377f0683;
  guint32 sum[2] = { 0, 0 };
  if (log_len >= 32)
    wal_checksum (log, 24, big, sum);
  gboolean valid = (magic == 0x377f0682 || magic == 0x377f0683) && page >= 512 && page <= 65536
                   && (page & (page - 1)) == 0 && sum[0] == be32 (log + 24) && sum[1] == be32 (log + 28);
  /* the frames up to the last commit: each a 24-byte header (page number,
   * database size in pages for a commit frame else 0, the two salts, the
   * checksum) and the page */
  gsize committed_end = 0;
  guint64 n_pages = 0;
  if (valid)
    for (gsize at = 32; at + 24 + page <= log_len; at += 24 + page)
      {
        const guchar *f = log + at;
        if (be32 (f) == 0 || be32 (f + 8) != be32 (log + 16) || be32 (f + 12) != be32 (log + 20))
          break;
        wal_checksum (f, 8, big, sum);
        wal_checksum (f + 24, page, big, sum);
        if (sum[0] != be32 (f + 16) || sum[1] != be32 (f + 20))
          break;
        if (be32 (f + 4) != 0)
          {
            committed_end = at + 24 + page;
            n_pages = be32 (f + 4);
          }
      }
  guint64 bytes = committed_end ? n_pages * page : file_len;
  if (bytes > MS_DB_WAL_IMAGE_MAX)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: the recording was left in WAL mode, with transactions in %s, "
                   "where its -shm file cannot be made (a read-only folder or medium), and at %" G_GUINT64_FORMAT
                   " bytes it is too large to be read into memory: copy the recording and its -wal file to a folder "
                   "you can write and open the copy there", path, wal, bytes);
      return NULL;
    }
  guchar *image = sqlite3_malloc64 (MAX (bytes, 1));
  if (!image)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: not enough memory to read the recording and its -wal "
                   "(%" G_GUINT64_FORMAT " bytes)", path, bytes);
      return NULL;
    }
  memset (image, 0, MAX (bytes, 1));
  memcpy (image, file, MIN (file_len, bytes));
  for (gsize at = 32; at < committed_end; at += 24 + page)
    {
      guint64 pgno = be32 (log + at);
      if (pgno <= n_pages)
        memcpy (image + (pgno - 1) * page, log + at + 24, page);
    }
  *size = bytes;
  return image;
}
