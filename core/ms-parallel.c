/* ms-parallel.c — a small fork-join pool for the kernels (see ms-parallel.h).
 *
 * One job at a time.  The caller describes job g in jobs[g % 2], then
 * publishes it by storing (g, item 0) in one 64-bit ticket.  Workers and
 * the caller claim items by compare-and-swap on the ticket, which only
 * succeeds while the ticket still names the job they read: a worker that
 * wakes late, after the job is over, finds another generation and claims
 * nothing.  So the caller returns as soon as every item is done; it never
 * waits for a worker that the system has descheduled (a second process,
 * or the recorder's writer thread on the same core), it just does that
 * worker's share itself.
 *
 * Why reading jobs[g % 2] before the claim is safe: the slot is rewritten
 * only for job g + 2, which is published after job g + 1, which is
 * published after every item of g is done; a claim of an item of g
 * succeeds only while the ticket still says g with items left, so the
 * slot it read was g's.
 *
 * Between jobs a worker polls the ticket, and every YIELD_EVERY polls it
 * offers its CPU to any other runnable thread (sched_yield): the
 * recorder's writer thread then runs in the gaps between kernels instead
 * of waiting for the scheduler to preempt a spinning worker.  A worker
 * that sees no new generation for SPIN_ROUNDS polls sleeps on a condition
 * variable.  Publishing wakes sleepers only when there are any (counted in
 * `sleepers`), so a job published to spinning workers costs no system call.
 */
#include "ms-parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause ()
#else
#define CPU_RELAX() do { } while (0)
#endif

void openblas_set_num_threads (int num_threads);   /* OpenBLAS extension */

#define SPIN_ROUNDS 20000   /* pause instructions: longer than the gap between a segment's kernels */
#define YIELD_EVERY 256   /* polls between sched_yield calls while spinning */
#define MAX_THREADS 64

/* Atomic (relaxed) only because a late worker may read a slot while the
 * caller rewrites it; the claim then fails and what it read is dropped. */
typedef struct {
  _Atomic (MsParallelFunc) func;
  _Atomic (gpointer) data;
  atomic_int n_items;
} Job;

/* The ticket: generation in the high 32 bits, next unclaimed item below. */
#define TICKET_GENERATION(t) ((uint32_t) ((t) >> 32))
#define TICKET_ITEM(t) ((uint32_t) (t))

typedef struct {
  GMutex job_lock;      /* held by the one caller whose job runs */
  GMutex sleep_lock;
  GCond wake;
  Job jobs[2];          /* job g is jobs[g % 2] */
  _Atomic uint64_t ticket;
  atomic_int items_done; /* of the current job */
  atomic_int sleepers;   /* workers in (or entering) g_cond_wait */
  int n_threads;        /* the caller included; atomic outside job_lock */
  int n_workers;        /* started */
} Pool;

/* What a new worker starts from: its index (1, 2, …; the caller is 0) and
 * the generation before the job it is started for, which may already be
 * published when the thread first runs. */
typedef struct {
  int index;
  uint32_t seen;
} WorkerStart;

static Pool pool;
static gsize pool_once;

static int
env_threads (const char *name)
{
  const char *v = g_getenv (name);
  int n = v ? atoi (v) : 0;
  return n > 0 ? MIN (n, MAX_THREADS) : 0;
}

/* Claims and runs items of job @generation until none are left, or until
 * the ticket has moved on to a later job. */
static void
run_items (uint32_t generation)
{
  Job *job = &pool.jobs[generation % 2];
  MsParallelFunc func = atomic_load_explicit (&job->func, memory_order_relaxed);
  gpointer data = atomic_load_explicit (&job->data, memory_order_relaxed);
  uint32_t n = (uint32_t) atomic_load_explicit (&job->n_items, memory_order_relaxed);
  uint64_t t = atomic_load (&pool.ticket);
  while (TICKET_GENERATION (t) == generation && TICKET_ITEM (t) < n)
    {
      if (!atomic_compare_exchange_weak (&pool.ticket, &t, t + 1))
        continue;   /* t now holds the ticket's current value */
      func ((int) TICKET_ITEM (t), data);
      atomic_fetch_add (&pool.items_done, 1);
      t = atomic_load (&pool.ticket);
    }
}

static gpointer
worker_main (gpointer start_p)
{
  WorkerStart *start = start_p;
  int index = start->index;
  uint32_t seen = start->seen;
  g_free (start);
  for (;;)
    {
      uint32_t now = TICKET_GENERATION (atomic_load (&pool.ticket));
      for (int spin = 0; now == seen && spin < SPIN_ROUNDS; spin++)
        {
          CPU_RELAX ();
          if (spin % YIELD_EVERY == YIELD_EVERY - 1)
            sched_yield ();
          now = TICKET_GENERATION (atomic_load (&pool.ticket));
        }
      if (now == seen)
        {
          /* Counted before the ticket is read again: a caller that
           * publishes after that read sees the count and wakes us. */
          g_mutex_lock (&pool.sleep_lock);
          atomic_fetch_add (&pool.sleepers, 1);
          while ((now = TICKET_GENERATION (atomic_load (&pool.ticket))) == seen)
            g_cond_wait (&pool.wake, &pool.sleep_lock);
          atomic_fetch_sub (&pool.sleepers, 1);
          g_mutex_unlock (&pool.sleep_lock);
        }
      seen = now;
      if (index < g_atomic_int_get (&pool.n_threads))   /* workers beyond a lowered count stay idle */
        run_items (now);
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
  return g_atomic_int_get (&pool.n_threads);
}

void
ms_parallel_set_threads (int n_threads)
{
  pool_init ();
  g_mutex_lock (&pool.job_lock);
  g_atomic_int_set (&pool.n_threads, CLAMP (n_threads, 1, MAX_THREADS));
  g_mutex_unlock (&pool.job_lock);
  openblas_set_num_threads (1);
}

void
ms_parallel_for (int n_items, MsParallelFunc func, gpointer data)
{
  pool_init ();
  if (n_items <= 0)
    return;
  if (n_items == 1 || g_atomic_int_get (&pool.n_threads) == 1 || !g_mutex_trylock (&pool.job_lock))
    {
      for (int i = 0; i < n_items; i++)
        func (i, data);
      return;
    }
  /* workers are started on first need and live as long as the process */
  uint32_t generation = TICKET_GENERATION (atomic_load (&pool.ticket));
  while (pool.n_workers < pool.n_threads - 1)
    {
      WorkerStart *start = g_new (WorkerStart, 1);
      *start = (WorkerStart) { pool.n_workers + 1, generation };
      GThread *t = g_thread_try_new ("memscope-kernel", worker_main, start, NULL);
      if (!t)
        {
          g_free (start);
          break;
        }
      g_thread_unref (t);
      pool.n_workers++;
    }
  generation++;
  Job *job = &pool.jobs[generation % 2];
  atomic_store_explicit (&job->func, func, memory_order_relaxed);
  atomic_store_explicit (&job->data, data, memory_order_relaxed);
  atomic_store_explicit (&job->n_items, n_items, memory_order_relaxed);
  atomic_store (&pool.items_done, 0);
  atomic_store (&pool.ticket, (uint64_t) generation << 32);
  if (atomic_load (&pool.sleepers) > 0)
    {
      g_mutex_lock (&pool.sleep_lock);
      g_cond_broadcast (&pool.wake);
      g_mutex_unlock (&pool.sleep_lock);
    }
  run_items (generation);
  while (atomic_load (&pool.items_done) < n_items)
    CPU_RELAX ();
  g_mutex_unlock (&pool.job_lock);
}

void
ms_parallel_become_background_thread (void)
{
#ifdef SCHED_BATCH
  struct sched_param param = { 0 };
  pthread_setschedparam (pthread_self (), SCHED_BATCH, &param);
#endif
}
