/* ms-parallel.c — a small fork-join pool for the kernels (see ms-parallel.h).
 *
 * One job at a time: the caller publishes (func, data, n_items) under a new
 * generation number; workers and caller take items from a shared atomic
 * counter until none are left.  Every started worker checks in once per job,
 * and the caller returns only when all items are done and all workers have
 * checked in, so no worker can still be touching a job when the next one is
 * published.  A worker that sees no new generation for SPIN_ROUNDS polls
 * sleeps on a condition variable; publishing a job wakes sleepers.
 */
#include "ms-parallel.h"

#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause ()
#else
#define CPU_RELAX() do { } while (0)
#endif

void openblas_set_num_threads (int num_threads);   /* OpenBLAS extension */

#define SPIN_ROUNDS 20000   /* pause instructions: 0.31–0.33 ms on the development VM */
#define MAX_THREADS 64

typedef struct {
  GMutex job_lock;      /* held by the one caller whose job runs */
  GMutex sleep_lock;
  GCond wake;
  gint generation;      /* bumped for every job (atomic) */
  MsParallelFunc func;
  gpointer data;
  gint n_items;
  gint next_item;       /* atomic */
  gint items_done;      /* atomic */
  gint checked_in;      /* atomic: workers done with the current job */
  int n_threads;        /* the caller included */
  int n_workers;        /* started */
  gint start_generation; /* the generation before the job new workers are started for */
} Pool;

static Pool pool;
static gsize pool_once;

static int
env_threads (const char *name)
{
  const char *v = g_getenv (name);
  int n = v ? atoi (v) : 0;
  return n > 0 ? MIN (n, MAX_THREADS) : 0;
}

static void
run_items (void)
{
  int n = pool.n_items;
  for (;;)
    {
      int i = g_atomic_int_add (&pool.next_item, 1);
      if (i >= n)
        return;
      pool.func (i, pool.data);
      g_atomic_int_inc (&pool.items_done);
    }
}

static gpointer
worker_main (gpointer index_p)
{
  int index = GPOINTER_TO_INT (index_p);   /* 1, 2, …: the caller is 0 */
  /* not the current generation: the job this worker was started for may
   * already be published when the thread first runs */
  int seen = pool.start_generation;
  for (;;)
    {
      int now = g_atomic_int_get (&pool.generation);
      for (int spin = 0; now == seen && spin < SPIN_ROUNDS; spin++)
        {
          CPU_RELAX ();
          now = g_atomic_int_get (&pool.generation);
        }
      if (now == seen)
        {
          g_mutex_lock (&pool.sleep_lock);
          while ((now = g_atomic_int_get (&pool.generation)) == seen)
            g_cond_wait (&pool.wake, &pool.sleep_lock);
          g_mutex_unlock (&pool.sleep_lock);
        }
      seen = now;
      if (index < pool.n_threads)   /* workers beyond a lowered thread count stay idle */
        run_items ();
      g_atomic_int_inc (&pool.checked_in);
    }
  return NULL;
}

static void
pool_init (void)
{
  if (g_once_init_enter (&pool_once))
    {
      g_mutex_init (&pool.job_lock);
      g_mutex_init (&pool.sleep_lock);
      g_cond_init (&pool.wake);
      int n = env_threads ("MEMSCOPE_THREADS");
      if (!n)
        n = env_threads ("OPENBLAS_NUM_THREADS");
      if (!n)
        n = MIN ((int) g_get_num_processors (), MAX_THREADS);
      pool.n_threads = MAX (n, 1);
      openblas_set_num_threads (1);
      g_once_init_leave (&pool_once, 1);
    }
}

int
ms_parallel_get_threads (void)
{
  pool_init ();
  return pool.n_threads;
}

void
ms_parallel_set_threads (int n_threads)
{
  pool_init ();
  g_mutex_lock (&pool.job_lock);
  pool.n_threads = CLAMP (n_threads, 1, MAX_THREADS);
  g_mutex_unlock (&pool.job_lock);
  openblas_set_num_threads (1);
}

void
ms_parallel_for (int n_items, MsParallelFunc func, gpointer data)
{
  pool_init ();
  if (n_items <= 0)
    return;
  if (n_items == 1 || pool.n_threads == 1 || !g_mutex_trylock (&pool.job_lock))
    {
      for (int i = 0; i < n_items; i++)
        func (i, data);
      return;
    }
  /* workers are started on first need and live as long as the process */
  pool.start_generation = g_atomic_int_get (&pool.generation);
  while (pool.n_workers < pool.n_threads - 1)
    {
      GThread *t = g_thread_try_new ("memscope-kernel", worker_main, GINT_TO_POINTER (pool.n_workers + 1), NULL);
      if (!t)
        break;
      g_thread_unref (t);
      pool.n_workers++;
    }
  pool.func = func;
  pool.data = data;
  pool.n_items = n_items;
  g_atomic_int_set (&pool.items_done, 0);
  g_atomic_int_set (&pool.checked_in, 0);
  g_atomic_int_set (&pool.next_item, 0);
  g_mutex_lock (&pool.sleep_lock);
  g_atomic_int_inc (&pool.generation);
  g_cond_broadcast (&pool.wake);
  g_mutex_unlock (&pool.sleep_lock);
  run_items ();
  while (g_atomic_int_get (&pool.items_done) < n_items || g_atomic_int_get (&pool.checked_in) < pool.n_workers)
    CPU_RELAX ();
  g_mutex_unlock (&pool.job_lock);
}
