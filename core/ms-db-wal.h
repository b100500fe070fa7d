/* ms-db-wal.h — the in-memory image of a recording left in WAL mode
 * (ms-db-wal.c); private to the recording's SQLite layer. */
#pragma once

#include <glib.h>

/* The most a recording left in WAL mode may take to be read into memory. */
#define MS_DB_WAL_IMAGE_MAX ((guint64) 1 << 30)

/* @path's pages with the committed transactions of its WAL @wal applied.
 * Returns an sqlite3_malloc64 buffer of *@size bytes, or NULL with @error
 * set: unreadable, or larger than MS_DB_WAL_IMAGE_MAX. */
guchar *ms_db_wal_image (const char *path, const char *wal, gsize *size, GError **error);
