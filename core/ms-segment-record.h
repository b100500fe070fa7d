/* ms-segment-record.h — (private) one stepped segment on its way into a
 * recording: copies of the observations the recording keeps, made by the
 * session's observer during the step (so the model's next segment starts at
 * once) and read by the run writer (ms-run-writer.h) when it commits the
 * segment.  Buffers are sized once, for the model's largest segment, from
 * the engine's attention layouts; a record is then filled and emptied once
 * per segment without allocating.
 *
 * What the recording derives from attention (the write distribution of
 * the write layout's last layer, read usage) is reduced from the engine's
 * own buffers during the step, whether or not attention is stored: a
 * compact recording copies no attention matrix at all.
 */
#pragma once

#include <stdint.h>

#include "ms-analysis.h"
#include "ms-engine.h"
#include "ms-recording-names.h"

G_BEGIN_DECLS

/* One attention observation, (H, rows, cols) dense at attn_data + offset. */
typedef struct {
  MsObsKind kind;
  int layer;                       /* −1 for kinds without layers */
  int shape[3];
  size_t offset;                   /* into MsSegmentRecord.attn_data, in floats */
} MsAttnCopy;

typedef struct _MsSegmentRecord {
  int segment;                     /* t; −1 marks the end of a run, which carries nothing */
  size_t token_begin;              /* of the segment in the input */
  int32_t *tokens;                 /* (L) the segment's n_tokens tokens, a copy: the input is read a
                                      segment at a time */
  int n_tokens;
  guint64 byte_begin;              /* of the segment's text in the input */
  uint8_t *text;                   /* (text_len) the bytes the tokens stand for, a copy */
  size_t text_len, text_capacity;
  uint32_t *token_ends;            /* (L) each token's end within text (ms-db.h) */
  gboolean bytes;                  /* tokenized by bytes: one token per byte of text, so no ids or
                                      ends are stored */
  gboolean last;                   /* the run's last planned segment: committing it completes the run */
  float *memory_in;                /* (K, d) M_t */
  float *memory_out;               /* (K, d) M_{t+1} */
  float *nll;                      /* (L) per-token NLL, the first n_tokens valid */
  float *gate;                     /* (K) the engine's gate α (MS_OBS_GATE), when it offers one */
  gboolean has_gate;               /* gate was offered during this segment */
  MsWriteDistribution *write;      /* (K …) from the write layout's last layer, when offered */
  MsWriteDistribution write_in_block;   /* what write points to in a record laid out in a block */
  gboolean in_block;               /* laid out by ms_segment_record_init_in: its buffers are the block's */
  gboolean has_write;
  float *read_usage;               /* (K) Σ over the read layers offered of each layer's read usage
                                      (ms_read_usage_accumulate_attention); not yet divided by their number */
  MsAttnCopy *attn;                /* the attention observations stored (MS_ATTN_STORE_F16, _F32), in the order
                                      offered */
  int n_attn;
  float *attn_data;                /* their matrices, back to back */
  size_t attn_used;                /* floats */
  struct _MsSegmentRecord *next;   /* free for whoever holds the record (a hand-over batch) */
} MsSegmentRecord;

/* What one record holds at most, for a configuration's largest segment. */
typedef struct {
  int max_attn;                    /* attention observations stored: every layer of every kind, or none */
  size_t max_attn_floats;          /* and their floats */
  size_t max_matrix;               /* floats of the largest one-head matrix */
  size_t bytes;                    /* of one record's buffers */
} MsSegmentRecordSizes;

/* Fills @sizes for @c's largest segment, from its engine's attention
 * layouts: every layer of every kind when @attn stores attention, none
 * for a compact recording (MS_ATTN_STORE_NONE).  max_matrix is the
 * largest one-head matrix either way. */
void ms_segment_record_sizes (const MsConfig *c, MsAttnStore attn, MsSegmentRecordSizes *sizes);

/* The observation kinds a record takes (for ms_session_set_observer). */
guint ms_segment_record_kinds (const MsConfig *c);

/* Allocates @rec's buffers for @sizes; FALSE (nothing to report but the
 * size) when memory runs out.  ms_segment_record_clear frees them, also
 * after a failed init. */
gboolean ms_segment_record_init (MsSegmentRecord *rec, const MsConfig *c, const MsSegmentRecordSizes *sizes);
void ms_segment_record_clear (MsSegmentRecord *rec);
/* The same buffers laid out in one block the caller owns (and frees after
 * ms_segment_record_clear): ms_segment_record_block_bytes (@c, @sizes)
 * bytes at @block, 64-byte aligned, each buffer starting at a multiple of
 * 64 bytes; only the text buffer is allocated (when a segment needs it),
 * so many records can share one mapping whose pages are made present at
 * once. */
size_t ms_segment_record_block_bytes (const MsConfig *c, const MsSegmentRecordSizes *sizes);
void ms_segment_record_init_in (MsSegmentRecord *rec, const MsConfig *c, const MsSegmentRecordSizes *sizes,
                                void *block);

/* Empties @rec for segment @segment, whose @n tokens @segment_tokens[n]
 * (copied) start at token @token_begin of the input and stand for the
 * @text_len bytes @text (copied), which start at byte @byte_begin of the
 * input; @token_ends[n] (copied) says where each token ends within @text,
 * or is NULL when the tokens are the text's bytes (the bytes tokenizer).
 * The text buffer grows when a segment's text is longer than any before
 * it: FALSE when memory runs out. */
gboolean ms_segment_record_start (MsSegmentRecord *rec, int segment, const int32_t *segment_tokens,
                                  size_t token_begin, int n, const uint8_t *text, size_t text_len,
                                  const uint32_t *token_ends, guint64 byte_begin, gboolean last);

/* Copies @obs into @rec: memory in and out, NLL and the gate; reduces
 * attention to the write distribution (the write layout's last layer)
 * and read usage (every read layer); and, when @attn stores attention,
 * copies every attention matrix (then @sizes must be for that @attn).
 * On the stepping thread, during the step; @obs is one of
 * ms_segment_record_kinds(). */
void ms_segment_record_copy (MsSegmentRecord *rec, const MsConfig *c, const MsSegmentRecordSizes *sizes,
                             MsAttnStore attn, const MsObservation *obs);

G_END_DECLS
