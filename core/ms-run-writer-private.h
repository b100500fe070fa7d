/* ms-run-writer-private.h — the run writer's state, shared by its two
 * files: ms-run-writer.c (creating a run, writing and committing
 * segments) and ms-run-writer-resume.c (taking up an incomplete run). */
#pragma once

#include "ms-run-writer.h"
#include "ms-analysis.h"

#include <sqlite3.h>

/* Where the run's memory chunks stand (ms-db.h). */
typedef struct {
  int segment;                     /* the chunk's first segment (−1: the initial memory) */
  int states;                      /* the states it has room for; 0 before a run */
  gboolean in_file;                /* its row is in the file (committed, or inserted in the open transaction) */
  int pending_first, pending;      /* the states after segments pending_first … + pending − 1: buffered,
                                      not yet in its row */
  int next;                        /* the segment the next write must be */
} Chunk;

struct _MsRunWriter {
  /* Borrowed */
  const MsConfig *config;
  /* Owned */
  char *path;
  sqlite3 *db;
  gint64 run_id;                   /* 0 until a run is created or resumed */
  MsAttnStore attn;
  /* Prepared once; each takes the run id as ?9, bound once per run */
  sqlite3_stmt *insert_attention;
  sqlite3_stmt *insert_segment;
  sqlite3_stmt *insert_chunk;
  sqlite3_stmt *complete_run;
  sqlite3_stmt *savepoint, *release;   /* a segment's savepoint (no run id) */
  sqlite3_stmt *chunk_savepoint, *chunk_release;   /* a new chunk's, around its segments until its row goes in */
  /* The memory chunk the last written segment's state goes into (ms-db.h),
   * and the states buffered for it: each segment's state and transfer are
   * copied to their place in a chunk-sized buffer, and written into the
   * chunk's row when its last state is written or the transaction commits
   * (write_chunk): a blob handle per column and transaction, not per
   * segment. */
  Chunk chunk;
  Chunk begin_chunk;               /* the same when the open transaction began */
  Chunk before_new_chunk;          /* the same before the chunk not yet in the file was begun */
  gboolean new_chunk_open;         /* a "chunk" savepoint encloses the segments of a chunk not yet in the file */
  float *chunk_data;               /* (C, K, d) the chunk's states, each at its place */
  float *chunk_transfer;           /* (C, K, K) the same for the transfers, when stored */
  int uncommitted;                 /* segments written in the open transaction */
  int chunk_capacity;              /* C: the most states a new chunk of this model gets */
  int n_segments;                  /* planned: no chunk has room past the run's last segment */
  gboolean store_transfer;         /* the engine's transfer is not diagonal */
  gboolean store_token_share;      /* the write layout has columns in neither share, so the token share
                                      is not what the transfer leaves (ms-recording-names.h) */
  /* Scratch for one segment */
  uint16_t *half;                  /* (max matrix) f16 staging for one head */
  float *read_usage;               /* (K) mean over the layers that read memory */
  float *representation;           /* (K) cos(M_{t+1}[i], M_t[i]) */
  double memory_delta;             /* ‖M_{t+1} − M_t‖ / ‖M_t‖ */
  guint8 *narrow;                  /* (3, 2K) the narrow arrays of retention, representation, read usage */
  MsWriteDistribution *no_write;   /* zeros: the write distribution of an engine without write attention */
};

/* The SHA-256 of the file @path in hex; NULL and @error naming it when it
 * cannot be read. */
char *ms_run_writer_file_sha256 (const char *path, GError **error);

/* Binds @run_id (?9) to every prepared statement that takes the run. */
void ms_run_writer_bind_run (MsRunWriter *w, gint64 run_id);
