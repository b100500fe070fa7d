/* ms-replay.c — stepping one recorded segment again to rematerialise its
 * attention, with the process's caches of verified models and replayed
 * segments (ms-replay.h). */
#include "ms-replay.h"
#include "ms-engine.h"
#include "ms-error.h"
#include "tokenizers/ms-tokenizer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One attention observation of a replayed step, (heads, rows, cols) at
 * data + offset. */
typedef struct {
  MsObsKind kind;
  int layer;                   /* 0 for a kind without layers, as a recording stores it */
  int shape[3];
  size_t offset;
} Matrix;

struct _MsReplaySegment {
  gint ref;
  char *key;                   /* content key (ms-replay.h) */
  Matrix *matrices;
  int n_matrices;
  float *data;
  size_t bytes;                /* of the whole entry, for the cache's bound */
};

/* A model file whose SHA-256 was computed, identified by what stat(2)
 * says of it, so an unchanged file is not hashed again. */
typedef struct {
  char *path;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  char sha256[65];
  MsModel *model;              /* loaded once it was needed */
  MsSession *session;
} CachedModel;

/* Larger than any model file Memscope loads (a 7-billion-parameter f32
 * model is 28 GB) */
#define MAX_MODEL_BYTES (G_GINT64_CONSTANT (64) << 30)

static GMutex replay_lock;
/* All below under replay_lock */
static GQueue models;          /* CachedModel *, most recently used first */
static GQueue segments;        /* MsReplaySegment *, most recently used first */
static GHashTable *by_key;     /* key → its GList link in segments */
static gint64 cached_bytes;
static guint64 n_stepped, n_cached;

/* ---- replayed segments ------------------------------------------------ */

MsReplaySegment *
ms_replay_segment_ref (MsReplaySegment *seg)
{
  g_atomic_int_inc (&seg->ref);
  return seg;
}

void
ms_replay_segment_unref (MsReplaySegment *seg)
{
  if (seg && g_atomic_int_dec_and_test (&seg->ref))
    {
      g_free (seg->key);
      g_free (seg->matrices);
      g_free (seg->data);
      g_free (seg);
    }
}

const float *
ms_replay_segment_attention (const MsReplaySegment *seg, MsObsKind kind, int layer, int *heads, int *rows, int *cols)
{
  for (int i = 0; i < seg->n_matrices; i++)
    if (seg->matrices[i].kind == kind && seg->matrices[i].layer == layer)
      {
        const Matrix *m = &seg->matrices[i];
        *heads = m->shape[0], *rows = m->shape[1], *cols = m->shape[2];
        return seg->data + m->offset;
      }
  return NULL;
}

/* The observer of a replayed step: copies every attention matrix into the
 * segment's buffer, sized for the model's largest segment. */
typedef struct {
  MsReplaySegment *seg;
  size_t capacity, used;       /* floats */
  int max_matrices;
} Capture;

static void
capture_observation (const MsObservation *obs, gpointer user_data)
{
  Capture *cap = user_data;
  if (obs->kind != MS_OBS_READ && obs->kind != MS_OBS_WRITE)
    return;
  size_t n = ms_observation_size (obs);
  /* The buffers are sized from the engine's layouts, which state every
   * matrix the step offers: more is a programmer error in an engine. */
  g_assert (cap->seg->n_matrices < cap->max_matrices && cap->used + n <= cap->capacity);
  cap->seg->matrices[cap->seg->n_matrices++]
    = (Matrix) { obs->kind, MAX (obs->layer, 0), { obs->shape[0], obs->shape[1], obs->shape[2] }, cap->used };
  ms_observation_copy (obs, cap->seg->data + cap->used);
  cap->used += n;
}

/* The cache key of a segment: the SHA-256 of the model's SHA-256, the
 * configuration the recording stores for it, the input memory and the
 * tokens.  The configuration is part of it because a hit skips model_for,
 * which refuses a recording whose stored configuration is not the model
 * file's: a recording naming a cached model's SHA-256 with another
 * configuration (so other sizes its views lay the matrices out by) must
 * not be handed that model's matrices. */
static char *
content_key (const MsReplayInput *in)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) in->model_sha256, 64);
  gint64 config_len = (gint64) strlen (in->model_config);
  g_checksum_update (sum, (const guchar *) &config_len, sizeof config_len);
  g_checksum_update (sum, (const guchar *) in->model_config, (gssize) config_len);
  g_checksum_update (sum, (const guchar *) in->memory_in,
                     (gssize) ((size_t) in->config->n_slots * in->config->d_model * sizeof (float)));
  gint64 n = in->n_tokens;
  g_checksum_update (sum, (const guchar *) &n, sizeof n);
  if (in->token_ids)
    g_checksum_update (sum, (const guchar *) in->token_ids, (gssize) ((size_t) in->n_tokens * sizeof (int32_t)));
  else
    g_checksum_update (sum, in->text, in->text_len);
  return g_strdup (g_checksum_get_string (sum));
}

static void
cache_trim (void)
{
  /* The newest entry stays even when it alone is over the bound. */
  while (segments.length > 1 && cached_bytes > MS_REPLAY_CACHE_BYTES)
    {
      MsReplaySegment *old = g_queue_pop_tail (&segments);
      g_hash_table_remove (by_key, old->key);
      cached_bytes -= (gint64) old->bytes;
      ms_replay_segment_unref (old);
    }
}

/* ---- the model -------------------------------------------------------- */

static void
cached_model_free (CachedModel *m)
{
  g_clear_pointer (&m->session, ms_session_free);
  g_clear_pointer (&m->model, ms_model_unref);
  g_free (m->path);
  g_free (m);
}

/* The SHA-256 of the first @size bytes of @fd (read in pieces: a model
 * may be large); FALSE with errno set when they cannot all be read. */
static gboolean
fd_sha256 (int fd, off_t size, char out[65])
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (1 << 20);
  off_t left = size;
  while (left > 0)
    {
      ssize_t got = read (fd, buf, (size_t) MIN (left, 1 << 20));
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        {
          if (got == 0)
            errno = EIO;   /* shorter than fstat said */
          return FALSE;
        }
      g_checksum_update (sum, buf, got);
      left -= got;
    }
  g_strlcpy (out, g_checksum_get_string (sum), 65);
  return TRUE;
}

/* What the cache knows of @path: its entry when the file is still the one
 * hashed (same device, inode, size and modification time), else a new
 * entry hashed now.  The path comes from a file anyone may have written,
 * so only a regular file of a model's possible size is read, without
 * blocking, and no further than its size: a FIFO, a device or a file like
 * /proc/kcore would never end.  NULL with errno set when the file cannot
 * be read. */
static CachedModel *
model_identify (const char *path)
{
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct stat st;
  gboolean have = fstat (fd, &st) == 0;
  if (!have || !S_ISREG (st.st_mode) || st.st_size < 8 || st.st_size > MAX_MODEL_BYTES)
    {
      int saved = have ? EINVAL : errno;   /* "Invalid argument": not a model file */
      close (fd);
      errno = saved;
      return NULL;
    }
  for (GList *l = models.head; l; l = l->next)
    {
      CachedModel *m = l->data;
      if (g_str_equal (m->path, path) && m->dev == st.st_dev && m->ino == st.st_ino && m->size == st.st_size
          && m->mtime.tv_sec == st.st_mtim.tv_sec && m->mtime.tv_nsec == st.st_mtim.tv_nsec)
        {
          close (fd);
          g_queue_unlink (&models, l);
          g_queue_push_head_link (&models, l);
          return m;
        }
    }
  CachedModel *m = g_new0 (CachedModel, 1);
  m->path = g_strdup (path);
  m->dev = st.st_dev, m->ino = st.st_ino, m->size = st.st_size, m->mtime = st.st_mtim;
  gboolean ok = fd_sha256 (fd, st.st_size, m->sha256);
  int saved = errno;
  close (fd);
  if (!ok)
    {
      cached_model_free (m);
      errno = saved;
      return NULL;
    }
  g_queue_push_head (&models, m);
  while (models.length > MS_REPLAY_MODELS)
    cached_model_free (g_queue_pop_tail (&models));
  return m;
}

/* Where the run's model may be, in order: the caller's file (a moved
 * model), the stored path, and the same name beside the recording (a
 * model moved along with it).  Each is taken only when its SHA-256 is the
 * run's. */
static GPtrArray *
model_candidates (const MsReplayInput *in)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  if (in->model_override)
    g_ptr_array_add (out, g_strdup (in->model_override));
  g_ptr_array_add (out, g_strdup (in->model_path));
  g_autofree char *dir = g_path_get_dirname (in->recording);
  g_autofree char *base = g_path_get_basename (in->model_path);
  g_autofree char *beside = g_build_filename (dir, base, NULL);
  if (!g_str_equal (beside, in->model_path))
    g_ptr_array_add (out, g_steal_pointer (&beside));
  return out;
}

/* The cached model of @in's run, loaded and with its session; NULL with
 * @error saying what was found and how to point at the model. */
static CachedModel *
model_for (const MsReplayInput *in, GError **error)
{
  g_autoptr (GPtrArray) paths = model_candidates (in);
  CachedModel *found = NULL;
  /* What the caller's file and the stored path turned out to be: another
   * file's SHA-256, or why they could not be read */
  char other[2][65] = { "", "" };
  int failed[2] = { 0, 0 };
  guint stored = in->model_override ? 1 : 0;
  for (guint i = 0; i < paths->len && !found; i++)
    {
      CachedModel *m = model_identify (paths->pdata[i]);
      int which = i == stored ? 1 : in->model_override && i == 0 ? 0 : -1;
      if (m && g_str_equal (m->sha256, in->model_sha256))
        found = m;
      else if (m && which >= 0)
        g_strlcpy (other[which], m->sha256, 65);
      else if (which >= 0)
        failed[which] = errno;
    }
  if (!found)
    {
      g_autofree char *given = !in->model_override ? g_strdup ("")
        : other[0][0] ? g_strdup_printf ("; %s, given for it, is another file (SHA-256 %.12s…)", in->model_override,
                                         other[0])
        : g_strdup_printf ("; %s, given for it, cannot be read (%s)", in->model_override, g_strerror (failed[0]));
      g_autofree char *stored_is = other[1][0]
        ? g_strdup_printf ("has changed since (SHA-256 %.12s… where the run's is %.12s…)", other[1], in->model_sha256)
        : g_strdup_printf ("cannot be read (%s)", g_strerror (failed[1]));
      g_set_error (error, MS_ERROR, other[1][0] || other[0][0] ? MS_ERROR_INPUT : MS_ERROR_IO,
                   "%s: run %" G_GINT64_FORMAT " stores no attention, and replaying it needs the model it was "
                   "recorded with, %s, which %s%s: give the model's current location (memscope-cli export --model "
                   "FILE)", in->recording, in->run_id, in->model_path, stored_is, given);
      return NULL;
    }
  if (!found->model)
    {
      found->model = ms_model_load (found->path, error);
      if (!found->model)
        return NULL;
      found->session = ms_session_new (found->model);
    }
  /* The same bytes as the run's model, so the same configuration, unless
   * the recording's copy of it was edited: the sizes the reader validated
   * came from that copy. */
  const char *config = ms_model_get_metadata (found->model, "memscope.config");
  if (g_strcmp0 (config, in->model_config) != 0 || ms_model_get_config (found->model)->engine != in->config->engine)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ": the configuration the recording "
                   "stores for its model differs from the one in %s, whose SHA-256 is the run's (the recording is "
                   "damaged or altered)", in->recording, in->run_id, found->path);
      return NULL;
    }
  return found;
}

/* ---- replaying -------------------------------------------------------- */

/* The segment's tokens for the model @c: its stored ids, or a byte
 * model's bytes; every id checked against the vocabulary.  NULL with
 * @error naming the recording. */
static int32_t *
segment_tokens (const MsReplayInput *in, MsModel *model, GError **error)
{
  const MsConfig *c = ms_model_get_config (model);
  g_autofree int32_t *tokens = g_new (int32_t, in->n_tokens);
  if (in->token_ids)
    memcpy (tokens, in->token_ids, (size_t) in->n_tokens * sizeof (int32_t));
  else if (ms_tokenizer_get_kind (ms_model_get_tokenizer (model)) != MS_TOKENIZER_BYTES)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INPUT, "%s: run %" G_GINT64_FORMAT " stores no attention and no token "
                   "ids, and its model's tokenizer is not bytes, so its segments cannot be replayed (record it again "
                   "with this version of Memscope, or with --attn f32)", in->recording, in->run_id);
      return NULL;
    }
  else if (in->text_len != in->n_tokens)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", table segments, segment %d: "
                   "the text holds %d bytes where the byte model's %d tokens were expected (the recording is "
                   "damaged or altered)", in->recording, in->run_id, in->segment, in->text_len, in->n_tokens);
      return NULL;
    }
  else
    for (int i = 0; i < in->n_tokens; i++)
      tokens[i] = in->text[i];
  for (int i = 0; i < in->n_tokens; i++)
    if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
      {
        g_set_error (error, MS_ERROR, MS_ERROR_FORMAT, "%s: run %" G_GINT64_FORMAT ", segment %d, token %d: id %d "
                     "is outside the model's vocabulary [0, %d) (the recording is damaged or altered)",
                     in->recording, in->run_id, in->segment, i, tokens[i], c->vocab_size);
        return NULL;
      }
  return g_steal_pointer (&tokens);
}

static MsReplaySegment *
replay_locked (const MsReplayInput *in, char *key, GError **error)
{
  CachedModel *m = model_for (in, error);
  if (!m)
    return NULL;
  g_autofree int32_t *tokens = segment_tokens (in, m->model, error);
  if (!tokens)
    return NULL;
  const MsConfig *c = ms_model_get_config (m->model);
  /* Every layer of every attention kind at the largest segment: what
   * the step may offer. */
  size_t capacity = 0;
  int max_matrices = 0;
  for (guint i = 0; i < c->engine->n_attention; i++)
    {
      const MsAttentionLayout *a = &c->engine->attention[i];
      int heads, rows, cols, layers = ms_attention_layout_n_layers (a, c);
      ms_attention_layout_shape (a, c, c->segment_len, &heads, &rows, &cols);
      max_matrices += layers;
      capacity += (size_t) layers * heads * rows * cols;
    }
  MsReplaySegment *seg = g_new0 (MsReplaySegment, 1);
  seg->ref = 1;
  seg->matrices = g_new (Matrix, MAX (max_matrices, 1));
  seg->data = g_try_new (float, MAX (capacity, 1));
  if (!seg->data)
    {
      ms_replay_segment_unref (seg);
      g_set_error (error, MS_ERROR, MS_ERROR_IO, "%s: run %" G_GINT64_FORMAT ": not enough memory to replay a segment "
                   "(%zu floats of attention)", in->recording, in->run_id, capacity);
      return NULL;
    }
  Capture cap = { seg, capacity, 0, max_matrices };
  ms_session_set_observer (m->session, MS_OBS_READ | MS_OBS_WRITE, capture_observation, &cap);
  gboolean ok = ms_session_step_from (m->session, in->segment, in->memory_in, tokens, in->n_tokens, error);
  ms_session_set_observer (m->session, 0, NULL, NULL);
  if (!ok)
    {
      g_prefix_error (error, "%s: run %" G_GINT64_FORMAT ", replaying segment %d: ", in->recording, in->run_id,
                      in->segment);
      ms_replay_segment_unref (seg);
      return NULL;
    }
  seg->data = g_realloc (seg->data, MAX (cap.used, 1) * sizeof (float));
  seg->key = key;
  seg->bytes = sizeof *seg + cap.used * sizeof (float) + (size_t) max_matrices * sizeof (Matrix) + strlen (key);
  n_stepped++;
  return seg;
}

MsReplaySegment *
ms_replay_segment (const MsReplayInput *in, GError **error)
{
  char *key = content_key (in);
  g_mutex_lock (&replay_lock);
  if (!by_key)
    by_key = g_hash_table_new (g_str_hash, g_str_equal);
  GList *link = g_hash_table_lookup (by_key, key);
  MsReplaySegment *seg = NULL;
  if (link)
    {
      g_free (key);
      g_queue_unlink (&segments, link);
      g_queue_push_head_link (&segments, link);
      seg = ms_replay_segment_ref (link->data);
      n_cached++;
    }
  else if ((seg = replay_locked (in, key, error)))
    {
      g_queue_push_head (&segments, ms_replay_segment_ref (seg));
      g_hash_table_insert (by_key, seg->key, segments.head);
      cached_bytes += (gint64) seg->bytes;
      cache_trim ();
    }
  else
    g_free (key);
  g_mutex_unlock (&replay_lock);
  return seg;
}

MsModel *
ms_replay_model (const MsReplayInput *in, GError **error)
{
  g_mutex_lock (&replay_lock);
  CachedModel *m = model_for (in, error);
  MsModel *out = m ? ms_model_ref (m->model) : NULL;
  g_mutex_unlock (&replay_lock);
  return out;
}

int32_t *
ms_replay_tokens (const MsReplayInput *in, MsModel *model, GError **error)
{
  return segment_tokens (in, model, error);
}

void
ms_replay_clear_cache (void)
{
  g_mutex_lock (&replay_lock);
  MsReplaySegment *seg;
  while ((seg = g_queue_pop_head (&segments)))
    ms_replay_segment_unref (seg);
  if (by_key)
    g_hash_table_remove_all (by_key);
  cached_bytes = 0;
  CachedModel *m;
  while ((m = g_queue_pop_head (&models)))
    cached_model_free (m);
  g_mutex_unlock (&replay_lock);
}

void
ms_replay_get_counts (guint64 *stepped, guint64 *cached)
{
  g_mutex_lock (&replay_lock);
  *stepped = n_stepped;
  *cached = n_cached;
  g_mutex_unlock (&replay_lock);
}
