/* ms-parallel.h — the core's own worker threads for the kernels.
 *
 * The kernels split their work themselves: ms_affine over column panels or
 * row tiles, ms_attention over heads.  OpenBLAS, which still computes the
 * attention products inside each head, then runs on one thread: two
 * thread pools on the same cores would wait on each other.
 *
 * The thread count is ms_parallel_set_threads() if called, else
 * MEMSCOPE_THREADS, else OPENBLAS_NUM_THREADS, else the number of CPUs.
 * Workers wait by spinning for a fraction of a millisecond, then sleep, so
 * back-to-back kernels of one segment start at once and an idle process
 * uses no CPU.  While they spin they yield to any other runnable thread
 * every few hundred polls, so another thread on the same CPUs (the
 * recorder's writer) runs in the gaps between kernels.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Threads the kernels use (the caller included), and setting it; setting
 * it also pins OpenBLAS to one thread.  Call before sessions run. */
int ms_parallel_get_threads (void);
void ms_parallel_set_threads (int n_threads);

typedef void (*MsParallelFunc) (int item, gpointer data);

/* Calls func (i, data) for every i in [0, n_items) on the workers and the
 * calling thread, and returns when all are done.  Items run in any order
 * and concurrently, so they must write disjoint memory.  Items go to
 * whichever thread claims them first, so a worker the system has
 * descheduled holds nothing up: the caller does its share.  When another
 * thread is using the workers (two sessions stepping at once), the items
 * run on the calling thread alone. */
void ms_parallel_for (int n_items, MsParallelFunc func, gpointer data);

/* Makes the calling thread background work beside the kernels' threads:
 * on Linux a SCHED_BATCH thread (the same share of the CPU, no privileges
 * needed), which does not preempt them when it wakes, only at the
 * scheduler's tick or when they wait; a worker preempted in the middle of
 * its item holds up the whole kernel.  Best effort: elsewhere it does
 * nothing. */
void ms_parallel_become_background_thread (void);

G_END_DECLS
