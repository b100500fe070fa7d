/* ms-view-cache.c — what view loads keep for the next load of the same
 * run: one-pass aggregates of its committed segments (similarity's base
 * bins, provenance's recurrence marks), so a view drawn again at another
 * size, window or zoom reads only segments it has not read before.  A
 * committed segment never changes, so an aggregate of segments [0, n) stays
 * true while the run grows; entries are keyed by the file's identity
 * (ms_recording_get_identity), the run's id and creation time and what the
 * entry holds.  One process-wide cache, bounded by MS_VIEW_CACHE_BYTES,
 * least recently used first out.  A loader takes its entry out (no other
 * thread sees it meanwhile: one that wants it computes its own), extends
 * it, and puts it back. */
#include "ms-view-private.h"
#include "ms-recording-private.h"

#include <string.h>

typedef struct {
  char *key;
  gpointer data;
  gsize bytes;
  GDestroyNotify free_data;
} Entry;

static GMutex cache_lock;
static GQueue entries;      /* Entry *, most recently used first */
static gsize cached_bytes;

static void
entry_free (Entry *e)
{
  if (e->free_data)
    e->free_data (e->data);
  g_free (e->key);
  g_free (e);
}

char *
ms_view_cache_key (MsRecording *rec, const MsRunInfo *info, const char *what)
{
  const char *identity = ms_recording_get_identity (rec);
  if (!identity)
    return NULL;
  return g_strdup_printf ("%s|%" G_GINT64_FORMAT "|%s|%s", identity, info->id, info->created ? info->created : "",
                          what);
}

gpointer
ms_view_cache_take (const char *key)
{
  if (!key)
    return NULL;
  g_mutex_lock (&cache_lock);
  gpointer data = NULL;
  for (GList *l = entries.head; l; l = l->next)
    {
      Entry *e = l->data;
      if (strcmp (e->key, key) == 0)
        {
          g_queue_delete_link (&entries, l);
          cached_bytes -= e->bytes;
          data = e->data;
          e->free_data = NULL;
          entry_free (e);
          break;
        }
    }
  g_mutex_unlock (&cache_lock);
  return data;
}

void
ms_view_cache_put (const char *key, gpointer data, gsize bytes, GDestroyNotify free_data)
{
  if (!key || bytes > MS_VIEW_CACHE_BYTES)
    {
      free_data (data);
      return;
    }
  Entry *e = g_new0 (Entry, 1);
  e->key = g_strdup (key);
  e->data = data;
  e->bytes = bytes;
  e->free_data = free_data;
  GQueue evicted = G_QUEUE_INIT;
  g_mutex_lock (&cache_lock);
  /* another thread's entry under the same key is older news */
  for (GList *l = entries.head; l; l = l->next)
    if (strcmp (((Entry *) l->data)->key, key) == 0)
      {
        cached_bytes -= ((Entry *) l->data)->bytes;
        g_queue_push_tail (&evicted, l->data);
        g_queue_delete_link (&entries, l);
        break;
      }
  g_queue_push_head (&entries, e);
  cached_bytes += bytes;
  while (cached_bytes > MS_VIEW_CACHE_BYTES && entries.length > 1)
    {
      Entry *old = g_queue_pop_tail (&entries);
      cached_bytes -= old->bytes;
      g_queue_push_tail (&evicted, old);
    }
  g_mutex_unlock (&cache_lock);
  /* large entries are freed outside the lock */
  g_queue_clear_full (&evicted, (GDestroyNotify) entry_free);
}

void
ms_view_clear_cache (void)
{
  g_mutex_lock (&cache_lock);
  GQueue old = entries;
  entries = (GQueue) G_QUEUE_INIT;
  cached_bytes = 0;
  g_mutex_unlock (&cache_lock);
  g_queue_clear_full (&old, (GDestroyNotify) entry_free);
}
