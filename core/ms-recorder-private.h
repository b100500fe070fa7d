/* ms-recorder-private.h — what the two halves of the recorder share: the
 * records that carry a stepped segment from the stepping thread
 * (ms-recorder.c) to the writer thread (ms-recorder-writer.c), and the
 * recorder both of them work on. */
#pragma once

#include <sqlite3.h>
#include <stdint.h>

#include "ms-analysis.h"
#include "ms-recorder.h"

typedef struct {
  MsObsKind kind;
  int layer;
  int shape[3];
  size_t offset;               /* into SegmentRecord.attn_data */
} AttnCopy;

/* One stepped segment: copies of its observations. */
typedef struct _SegmentRecord {
  int segment;                 /* −1: the end of the run, the writer stops */
  size_t token_begin;
  int n_tokens;
  gboolean last;
  float *memory_in;            /* (K, d) M_t */
  float *memory_out;           /* (K, d) M_{t+1} */
  float *nll;                  /* (L) */
  AttnCopy *attn;              /* the attention observations, in the order offered */
  int n_attn;
  float *attn_data;            /* their matrices, back to back */
  size_t attn_used;
  struct _SegmentRecord *next; /* the next record of its hand-over batch, in segment order */
} SegmentRecord;

typedef struct {
  /* Borrowed */
  const char *path;
  sqlite3 *db;                 /* used by one thread at a time: the writer while it runs */
  const MsConfig *config;
  const int32_t *tokens;       /* the whole input */
  gint64 run_id;               /* 0 until the run exists; set by the writer for a new run */
  MsAttnStore attn;
  /* A new run, which the writer creates before its first segment (hashing
   * a large model file takes a while; the model steps meanwhile) */
  struct {
    MsModel *model;
    const char *input_path;
    const MsRecordOptions *opts;
    size_t n_tokens;
    int segment_len, n_segments;
    float *initial_memory;     /* owned: M_0, copied before the first step */
  } create;
  /* Owned, the writer's (allocated and freed in ms-recorder.c) */
  sqlite3_stmt *insert_attention;
  sqlite3_stmt *insert_segment;
  sqlite3_stmt *insert_memory;
  sqlite3_stmt *complete_run;
  uint16_t *half;              /* (max matrix) f16 staging for one head */
  uint8_t *text;               /* (L) the segment's bytes */
  float *read_usage;           /* (K) mean over layers */
  float *cos_prev;             /* (K) */
  MsWriteDistribution *write;
  GError *error;               /* the writer's first failure; read after joining it */
  /* The pipeline */
  SegmentRecord *records;
  int n_records;
  SegmentRecord end_of_run;    /* segment −1 */
  int max_attn;                /* attention observations per segment */
  size_t max_attn_floats;      /* and their floats */
  SegmentRecord *filling;      /* the stepping thread's, during a step */
  GAsyncQueue *empty;          /* records ready to fill */
  GAsyncQueue *stepped;        /* batches of records ready to write, in segment order */
  SegmentRecord *batch, **batch_tail;   /* stepped, not yet handed over */
  int batch_len, batch_max;
  GThread *writer;
  int committed;               /* atomic: segments the writer committed */
  gint64 *run_id_out;          /* the caller's, told the run id with the first commit's progress */
  int failed;                  /* atomic: the writer stopped on an error */
} Recorder;

/* ---- ms-recorder-writer.c -------------------------------------------- */
/* All but the last run on the calling thread, before the writer starts. */

/* Prepares the four persistent statements on r->db (the attention,
 * segment and memory inserts; completing the run). */
gboolean ms_recorder_prepare_statements (Recorder *r, GError **error);
/* Binds @run_id to every statement (its ?9). */
void ms_recorder_bind_run (Recorder *r, gint64 run_id);
/* Looks up @run_id for resuming: checks the files against it and returns
 * its stored settings. */
gboolean ms_recorder_load_run_for_resume (Recorder *r, MsModel *model, const char *input_path, gint64 run_id,
                                          int *segment_len, int *n_segments, int *segments_done, GError **error);
/* Brings @session to where run r->run_id stood after its @done committed
 * segments. */
gboolean ms_recorder_replay_last_committed (Recorder *r, MsSession *session, const int32_t *tokens,
                                            size_t n_tokens, int segment_len, int done, GError **error);
/* The writer thread (@recorder: the Recorder): creates the run when
 * r->create.model is set, then commits the stepped records in order. */
gpointer ms_recorder_writer_main (gpointer recorder);
